"""N-gram metrics (BLEU, ROUGE, Distinct), the default suite and the presets.

Public here: ``Metric`` and ``register_metric`` / ``unregister_metric`` /
``registered_metrics`` (a metric family of your own, computed from per-item
sufficient statistics: streamed, parallel and significance-tested like the
built-in ones; see ``docs/architecture.md``), ``Runner`` (the base of the
suite and the presets), ``backend_description()`` and ``compute_bleu``
(BLEU from sufficient statistics, as sacreBLEU's ``BLEU.compute_bleu``).  Modules load on
first use.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Metric", "Runner", "register_metric", "unregister_metric", "registered_metrics", "backend_description",
           "compute_bleu", "BleuScore"]

_FROM_PROTOCOL = {"Metric", "Runner", "register_metric", "unregister_metric", "registered_metrics"}


def backend_description() -> str:
    """Which n-gram counting kernels are active (the C extension or pure
    Python), as ``judgekit --version`` prints it."""
    from ._stats import backend_description as describe

    return describe()


def __getattr__(name: str) -> Any:
    if name in _FROM_PROTOCOL:
        from . import protocol

        return getattr(protocol, name)
    if name in ("compute_bleu", "BleuScore"):
        from . import bleu

        return getattr(bleu, name)
    raise AttributeError(f"module 'judgekit.ngram' has no attribute {name!r}")
