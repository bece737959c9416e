"""The declared protocols of the n-gram engine, and the metric registry.

``Runner``: what ``evaluate`` runs, the default suite or a preset.  It works
in two steps so that chunks (worker processes, streaming) give exactly the
numbers of one call: ``partial`` does the per-item work of a chunk and
returns a ``Partial``; ``finish`` turns the merged partials into an
``Output``.  ``Output.not_resampled`` names the scores that cannot be
recomputed from per-item statistics (Distinct-n); every other score is
resampled for significance tests through the same ``finish``.

``Metric``: a metric family computed from per-item sufficient statistics
(sacreBLEU's ``_compute_score_from_stats`` design).  Its statistics are
arrays whose first axis is the items, so they concatenate (chunks,
streaming, ``n_jobs``) and index (bootstrap resamples) without the metric
knowing.  A new metric is one module defining it plus one line
registering it (``register_metric``); the default suite then computes it
when ``metrics=`` names it, streamed, in parallel and significance-tested
unchanged.  See ``docs/architecture.md``.
"""
from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import InputError

__all__ = ["Runner", "Metric", "register_metric", "unregister_metric", "registered_metrics", "metric_family"]


class Runner:
    """Base of the default suite and the presets: the attributes the engine
    reads, with their defaults (nothing is probed with ``getattr``)."""

    names: Sequence[str] = ()  # every score it can produce
    native_scale: str = "100"  # its own scale ("100", "1", or a mix such as glm4's)
    # Set by the engine when chunk partials will be merged (worker
    # processes, streaming): partials then carry what merging needs
    # (Distinct's n-gram sets), not only sizes.
    mergeable: bool = False
    # Threads for one call, when the runner spreads a call itself.
    threads: int = 1

    @property
    def in_call_threads(self) -> bool:
        """Whether one call spreads over ``threads`` itself (instead of
        chunks in worker processes)."""
        return False

    def partial(self, preds: Sequence[str], refs: Sequence[Sequence[str]]) -> Any:
        raise NotImplementedError

    def finish(self, part: Any) -> Any:
        raise NotImplementedError

    def warm_up(self) -> None:
        """Load dictionaries before worker processes fork."""


@runtime_checkable
class Metric(Protocol):
    """A metric family from per-item sufficient statistics.

    ``family``: the name given to ``metrics=`` (e.g. ``"chrf"``);
    ``names``: its scores; ``stats(hyps, refs)``: token lists of the
    predictions and, per item, of its references -> name -> array (first
    axis the items); ``sentence(stats)``: per-item scores (0-1);
    ``corpus(stats)``: corpus scores (0-1) from the statistics of any set of
    items; ``signature()``: what makes the number reproducible."""

    family: str
    names: tuple[str, ...]

    def stats(self, hyps: Sequence[Sequence[str]], refs: Sequence[Sequence[Sequence[str]]]) -> dict[str, np.ndarray]: ...

    def sentence(self, stats: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def corpus(self, stats: Mapping[str, np.ndarray]) -> dict[str, float]: ...

    def signature(self) -> str: ...


_REGISTRY: dict[str, Metric] = {}
BUILTIN_FAMILIES = ("bleu", "rouge", "distinct", "length")


def register_metric(metric: Metric) -> Metric:
    """Make ``metric`` available to the default suite as ``metrics=[family]``
    or by any of its score names."""
    if not isinstance(metric, Metric):
        raise InputError(f"{type(metric).__name__} does not follow judgekit.ngram.Metric (family, names, stats, "
                         "sentence, corpus, signature)")
    fam = metric.family
    if fam in BUILTIN_FAMILIES:
        raise InputError(f"metric family {fam!r} is built in")
    taken = {n: f for f, m in _REGISTRY.items() if f != fam for n in m.names}
    clash = [n for n in metric.names if n in taken or n.startswith(("bleu", "rouge", "distinct", "len-"))]
    if clash:
        raise InputError(f"metric {fam!r}: score name(s) {clash} already belong to another family")
    _REGISTRY[fam] = metric
    return metric


def unregister_metric(family: str) -> None:
    """Forget a registered family (tests, notebooks)."""
    _REGISTRY.pop(family, None)


def registered_metrics() -> dict[str, Metric]:
    """family -> metric, in registration order."""
    return dict(_REGISTRY)


def metric_family(name: str, builtin: Mapping[str, str]) -> str | None:
    """The family a score name belongs to (``builtin``: name -> family of
    the built-in scores); None when no family has it."""
    if name in builtin:
        return builtin[name]
    for fam, m in _REGISTRY.items():
        if name in m.names:
            return fam
    return None
