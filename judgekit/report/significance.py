"""Paired significance tests between two systems scored on the same items,
and bootstrap confidence intervals, kept apart from the metrics.

The procedures and p-values are sacreBLEU's (``sacrebleu/significance.py``)
so that a BLEU comparison made here equals ``sacrebleu --paired-bs`` /
``--paired-ar`` with the same seed, and extend to every metric judgekit can
rescore (BLEU-n, ROUGE, lengths) and to judge dimensions (means of per-item
scores):

- paired bootstrap resampling (Koehn 2004, as Moses'
  ``bootstrap-hypothesis-difference-significance.pl``): the same resampled
  item sets score both systems; p = (#{|d*| - mean|d*| >= |d|} + 1) / (B + 1).
- approximate randomization (Riezler & Maxwell 2005): each trial swaps the
  two systems' outputs on a random half of the items;
  p = (#{|a* - b*| >= |d|} + 1) / (R + 1) (ties counted: see ``_p_value``).

Everything is seeded with a local ``numpy.random.default_rng(seed)``; the
default seed is sacreBLEU's (12345).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

from .._compat import renamed
from ..errors import InputError
from ..scores import Scores

__all__ = ["PairedTest", "paired_bootstrap", "paired_randomization", "bootstrap_ci", "bootstrap_aggregate",
           "AggregateScore", "DEFAULT_SEED"]

DEFAULT_SEED = 12345



@dataclass(frozen=True)
class PairedTest:
    """One metric compared between a baseline and a system.

    ``delta`` is system - baseline; ``p_value`` two-sided.  For the paired
    bootstrap, ``mean`` and ``ci`` (lower, upper) describe the system's
    resampled scores (sacreBLEU reports ``mean`` and the half width
    ``(upper - lower) / 2``).  ``n_samples`` is the number of resamples
    (``n_bootstrap``, test ``"bs"``) or of randomization trials
    (``n_randomization``, test ``"ar"``) the p-value rests on."""

    metric: str
    test: str  # "bs" (paired bootstrap) or "ar" (approximate randomization)
    baseline: float
    system: float
    p_value: float
    n_items: int
    n_samples: int
    seed: int | None
    mean: float | None = None
    ci: tuple[float, float] | None = None

    @property
    def delta(self) -> float:
        return self.system - self.baseline

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha


# --- pools: one scoring function over the 2n items of baseline + system ---

class _Pool:
    """The baseline's items (0..n-1) then the system's (n..2n-1) as one
    ``Scores``: ``score(indices)`` for one resample, ``many(rows)`` for a
    matrix of them (array operations over the per-item statistics)."""

    def __init__(self, n: int, scores: Scores) -> None:
        self.n = n
        self.scores = scores
        self.score = scores.resample

    def many(self, rows: Any, names: Sequence[str], progress: bool = False, desc: str = "") -> dict[str, Any]:
        return _resample(self.scores, rows, names, progress, desc)


def as_scores(x: Any, what: str) -> Scores:
    """``Scores`` as given; a ``JudgeResult`` (anything with ``to_scores``)
    converted; a mapping metric -> per-item values (or a DataFrame) as the
    means of those values.  NaN in a mapping is refused: an unscored item
    has no value to resample (pair on the items scored in both)."""
    if isinstance(x, Scores):
        return x
    if hasattr(x, "to_scores"):
        return x.to_scores()
    return Scores.from_columns(x, missing=False, what=what)


def _pool(baseline: Any, system: Any) -> _Pool:
    a, b = as_scores(baseline, "baseline"), as_scores(system, "system")
    if not a.resampled or not b.resampled:
        raise InputError("scores without per-item statistics cannot be tested")
    if set(a.resampled) != set(b.resampled):
        raise InputError(f"baseline and system have different metrics: {sorted(a.resampled)} vs "
                         f"{sorted(b.resampled)}")
    if a.ids != b.ids:
        if set(a.ids) != set(b.ids):
            raise InputError(f"baseline has {a.n_items} items but system has {b.n_items} (or other ids); "
                             "paired tests need the same items")
        b = b.select(a.ids)
    both = Scores.pool(a, b)
    return _Pool(a.n_items, both)


def _select(scores: dict[str, float], metrics: Sequence[str] | None) -> list[str]:
    names = list(scores)
    if metrics is None:
        return names
    missing = [m for m in metrics if m not in scores]
    if missing:
        raise InputError(f"unknown metric(s) {', '.join(map(repr, missing))} (or not resampled); available: "
                         f"{', '.join(names)}")
    return list(metrics)


def _p_value(stats: Any, real_difference: float) -> float:
    """(#{stat >= |d|} + 1) / (N + 1): the trials at least as extreme as the
    observed difference, plus one (so the test never rejects more often
    than alpha).

    sacreBLEU counts ``stat > |d|`` (strictly): then a system compared with
    itself, or two systems with the same score on a discrete judge scale,
    get p = 1/(N + 1) and are marked significantly different.  Counting ties
    (with a 1e-12 relative tolerance, as resampled means of integers can
    differ from |d| in the last bit) gives p = 1 there, and equals
    sacreBLEU's p whenever no trial ties |d|, which is the rule for BLEU.
    """
    import numpy as np

    tol = 1e-12 * max(1.0, abs(real_difference))
    c = int(np.sum(stats >= real_difference - tol))
    return (c + 1) / (len(stats) + 1)


def _ties(stats: Any, real_difference: float) -> int:
    """Trials within the tie tolerance of |d| (where sacreBLEU differs)."""
    import numpy as np

    tol = 1e-12 * max(1.0, abs(real_difference))
    return int(np.sum(np.abs(np.asarray(stats) - real_difference) <= tol))


def _interval(values: Any, confidence: float) -> tuple[float, float]:
    """Percentile interval from the order statistics, as sacreBLEU's
    ``estimate_ci`` (index n//40 from each end at 95%)."""
    import numpy as np

    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    lower = int(n * (1.0 - confidence) / 2.0 + 1e-9)
    return float(v[lower]), float(v[n - lower - 1])


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from .._progress import bar

    return bar(total, desc, "resample", show=True, leave=False)


def _prepare(baseline: Any, system: Any, metrics: Sequence[str] | None, count: int, what: str):
    """The pool, n, both full scores and the metrics to test."""
    import numpy as np

    pool = _pool(baseline, system)
    if count < 1:
        raise InputError(f"{what} must be at least 1")
    n = pool.n
    bl_full, sys_full = pool.score(np.arange(n)), pool.score(np.arange(n, 2 * n))
    return pool, n, bl_full, sys_full, _select(bl_full, metrics)


@renamed(n_samples="n_bootstrap")
def paired_bootstrap(baseline: Any, system: Any, *, metrics: Sequence[str] | None = None, n_bootstrap: int = 1000,
                     seed: int | None = DEFAULT_SEED, confidence: float = 0.95,
                     progress: bool = False) -> dict[str, PairedTest]:
    """Paired bootstrap resampling test of ``system`` against ``baseline``.

    Both are ``judgekit.Scores`` (a ``Result``, a judge's ``to_scores()``)
    for the same item ids, with one signature, or mappings metric ->
    per-item values (the score is their mean).  Every score the producer
    can recompute on a resample (``Scores.resampled``) is tested over
    ``n_bootstrap`` resamples (``n_samples=`` is its deprecated old name).
    Returns metric -> ``PairedTest``.
    """

    pool, n, bl_full, sys_full, names = _prepare(baseline, system, metrics, n_bootstrap, "n_bootstrap")
    idxs = _bootstrap_indices(n, n_bootstrap, seed)
    bl = pool.many(idxs, names, progress, "paired bootstrap (baseline)")
    sy = pool.many(idxs + n, names, progress, "paired bootstrap (system)")
    return {k: _bs_test(k, bl_full[k], sys_full[k], bl[k], sy[k], n, seed, confidence) for k in names}


def _bootstrap_indices(n: int, n_bootstrap: int, seed: int | None) -> Any:
    """sacreBLEU's resamples: ``default_rng(seed).choice(n, (B, n))``."""
    import numpy as np

    return np.random.default_rng(seed).choice(n, size=(n_bootstrap, n), replace=True)


def _resample(scores: Scores, idxs: Any, names: Sequence[str], progress: bool = False,
              desc: str = "bootstrap", chunk: int = 128) -> dict[str, Any]:
    """metric -> array of the scores of each resample (row of ``idxs``),
    ``chunk`` rows at a time through ``Scores.resample_many``."""
    import numpy as np

    out = {k: np.empty(len(idxs)) for k in names}
    bar = _progress(len(idxs), desc, progress)
    for a in range(0, len(idxs), chunk):
        got = scores.resample_many(idxs[a:a + chunk], chunk=chunk)
        for k in names:
            out[k][a:a + chunk] = got[k]
        if bar is not None:
            bar.update(min(chunk, len(idxs) - a))
    if bar is not None:
        bar.close()
    return out


def _bs_test(metric: str, bl_full: float, sys_full: float, bl: Any, sy: Any, n: int, seed: int | None,
             confidence: float = 0.95) -> PairedTest:
    diff = abs(bl_full - sys_full)
    sample_diffs = abs(sy - bl)
    p = _p_value(sample_diffs - sample_diffs.mean(), diff)
    return PairedTest(metric, "bs", bl_full, sys_full, p, n, len(bl), seed, float(sy.mean()),
                      _interval(sy, confidence))


@renamed(n_samples="n_randomization")
def paired_randomization(baseline: Any, system: Any, *, metrics: Sequence[str] | None = None,
                         n_randomization: int = 10000, seed: int | None = DEFAULT_SEED,
                         progress: bool = False) -> dict[str, PairedTest]:
    """Paired approximate randomization test (two-sided) of ``system``
    against ``baseline`` over ``n_randomization`` trials (``n_samples=`` is
    its deprecated old name); inputs as for ``paired_bootstrap``."""
    import numpy as np

    pool, n, bl_full, sys_full, names = _prepare(baseline, system, metrics, n_randomization, "n_randomization")
    rng = np.random.default_rng(seed)
    pos_sel = rng.integers(2, size=(n_randomization, n), dtype=bool)
    # pseudo-system A: the baseline's item where pos, the system's elsewhere;
    # B the reverse.  Where the scores are made of sums, A's sums are the
    # system's total plus pos @ (baseline - system) and B's the baseline's
    # total minus the same product: one matrix product per chunk of trials.
    a = {k: np.empty(n_randomization) for k in names}
    b = {k: np.empty(n_randomization) for k in names}
    bar = _progress(n_randomization, "approximate randomization", progress)
    chunk = 256
    linear = pool.scores.linear()
    if linear is not None:
        cols, from_sums = linear
        base_cols, sys_cols = cols[:n], cols[n:]
        base_total, sys_total = base_cols.sum(axis=0), sys_cols.sum(axis=0)
        diff = base_cols - sys_cols
    for lo in range(0, n_randomization, chunk):
        pos = pos_sel[lo:lo + chunk]
        if linear is not None:
            swap = pos.astype(float) @ diff
            m = np.full(len(pos), float(n))
            got_a, got_b = from_sums(sys_total + swap, m), from_sums(base_total - swap, m)
        else:
            p = pos.astype(np.int64)
            got_a = pool.scores.resample_counts(np.hstack([p, 1 - p]))
            got_b = pool.scores.resample_counts(np.hstack([1 - p, p]))
        for k in names:
            a[k][lo:lo + chunk], b[k][lo:lo + chunk] = got_a[k], got_b[k]
        if bar is not None:
            bar.update(len(pos))
    if bar is not None:
        bar.close()
    out = {}
    for k in names:
        diff = abs(bl_full[k] - sys_full[k])
        out[k] = PairedTest(k, "ar", bl_full[k], sys_full[k], _p_value(np.abs(a[k] - b[k]), diff), n, n_randomization,
                            seed)
    return out


@renamed(n_samples="n_bootstrap")
def bootstrap_ci(result: Any, *, metrics: Sequence[str] | None = None, n_bootstrap: int = 1000,
                 seed: int | None = DEFAULT_SEED, confidence: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap confidence interval (lower, upper) of each score
    of one system: ``judgekit.Scores`` (resampled through its reducer) or
    a mapping metric -> per-item values (mean), from ``n_bootstrap``
    resamples (``n_samples=`` is its deprecated old name).  Seeded;
    sacreBLEU's resampling and interval for BLEU."""
    import numpy as np

    s = as_scores(result, "result")
    if not s.resampled:
        raise InputError("these scores hold no per-item statistics to resample")
    n = s.n_items
    if n_bootstrap < 1:
        raise InputError("n_bootstrap must be at least 1")
    if not 0 < confidence < 1:
        raise InputError("confidence must be between 0 and 1")
    full = s.resample(np.arange(n))
    names = _select(full, metrics)
    vals = _resample(s, _bootstrap_indices(n, n_bootstrap, seed), names)
    return {k: _interval(vals[k], confidence) for k in names}


class AggregateScore(NamedTuple):
    """rouge-score's ``AggregateScore`` for one score: the low and high
    percentiles of the bootstrap means and their median (``mid``)."""

    low: float
    mid: float
    high: float


def _groups(names: Sequence[str]) -> list[list[str]]:
    """The score names in rouge-score's resampling groups: ``x-p``, ``x-r``
    and ``x`` together (its ``Score(precision, recall, fmeasure)``), in the
    order ``x`` first appears; any other name alone."""
    out: list[list[str]] = []
    done: set[str] = set()
    for k in names:
        base = k[:-2] if k.endswith(("-p", "-r")) else k
        if base in done:
            continue
        group = [m for m in (f"{base}-p", f"{base}-r", base) if m in names]
        if base not in names or len(group) == 1:
            group = [k]
        else:
            done.add(base)
        out.append(group)
    return out


def bootstrap_aggregate(scores: Any, *, metrics: Sequence[str] | None = None, n_bootstrap: int = 1000,
                        confidence: float = 0.95, seed: int | None = None) -> dict[str, AggregateScore]:
    """rouge-score's ``BootstrapAggregator`` over the per-item values of any
    scorer: for each group of scores (a metric with its ``-p``/``-r``, as
    rouge-score's precision/recall/F; any other score alone) ``n_bootstrap``
    resamples of the items are drawn, each resample's column means taken,
    and the ``(1 - confidence) / 2``, 50 and ``(1 + confidence) / 2``
    percentiles (``np.percentile``, linear) are low, mid and high.

    ``scores``: a ``judgekit.Scores`` (a ``Result``: its per-item columns of
    ``metrics``, default every score that has one) or a mapping name ->
    per-item values.  The draws are rouge-score's,
    ``np.random.choice(np.arange(n), size=n)`` once per resample, group
    after group: ``seed=None`` takes them from numpy's global generator, as
    rouge-score does (``np.random.seed(s)`` before each gives the same
    numbers), an int from ``np.random.RandomState(seed)`` (equal to
    ``np.random.seed(seed)`` then rouge-score).  Means of per-item values:
    for corpus BLEU, which is not a mean, use ``bootstrap_ci``.
    """
    import numpy as np

    if n_bootstrap < 1:
        raise InputError("n_bootstrap must be at least 1")
    if not 0 <= confidence <= 1:
        raise InputError("confidence must be between 0 and 1")
    if isinstance(scores, Scores):
        if metrics is None:
            metrics = [k for k in scores.scores if k in scores.column_names]
        cols = {k: np.asarray(scores.column(k), dtype=float) for k in metrics}
    else:
        s = as_scores(scores, "scores")
        names = list(metrics) if metrics is not None else s.column_names
        cols = {k: np.asarray(s.column(k), dtype=float) for k in names}
    if not cols:
        raise InputError("no per-item scores to aggregate")
    for k, v in cols.items():
        if np.isnan(v).any():
            raise InputError(f"{k!r} has NaN (unscored items): aggregate the scored items only")
    draw = np.random.choice if seed is None else np.random.RandomState(seed).choice
    delta = (1 - confidence) / 2
    q = 100 * np.array([delta, 0.5, 1 - delta])
    out: dict[str, AggregateScore] = {}
    for group in _groups(list(cols)):
        matrix = np.vstack(tuple(np.column_stack([cols[k] for k in group])))
        means = np.zeros((n_bootstrap, matrix.shape[1]))
        for i in range(n_bootstrap):
            idx = draw(np.arange(matrix.shape[0]), size=matrix.shape[0])
            means[i, :] = np.mean(matrix[idx, :], axis=0)
        pct = np.percentile(means, q, axis=0)
        for j, k in enumerate(group):
            out[k] = AggregateScore(float(pct[0, j]), float(pct[1, j]), float(pct[2, j]))
    return {k: out[k] for k in cols}
