"""N-gram metrics (BLEU, ROUGE, Distinct) and their presets.

Public here: ``backend_description()``.  Modules load on first use.
"""
from __future__ import annotations

__all__ = ["backend_description"]


def backend_description() -> str:
    """Which n-gram counting kernels are active (the C extension or pure
    Python), as ``judgekit --version`` prints it."""
    from ._stats import backend_description as describe

    return describe()
