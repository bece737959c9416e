"""Calibrating a judge onto the human scale, checked on held-out items.

Two monotone maps from judge scores (or logprob-expected scores) to the
human scale:

- ``isotonic``: least-squares isotonic regression (pool-adjacent-violators),
  continuous output, linear interpolation between fitted points, clipped at
  the ends (sklearn's ``IsotonicRegression(out_of_bounds='clip')``);
- ``thresholds``: ordinal cut points on the judge score, fitted by
  least-absolute-error isotonic regression, so the output is always one of
  the human levels.

``calibrate`` reports agreement before and after on held-out items (k-fold:
every item is predicted by a map that never saw it) and, given systems,
corrected system means with intervals.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._compat import renamed
from ..errors import InputError
from . import _stats as S
from ._report import ReportMixin, fmt
from ._table import integer_levels
from ._agreement import DEFAULT_BOOT, DEFAULT_SEED, AgreementReport, _as_series, agreement

METHODS = ("isotonic", "thresholds")


def _pav(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares isotonic (non-decreasing) fit of y in the given order."""
    vals, wts, sizes = [], [], []
    for yi, wi in zip(y, w):
        vals.append(float(yi))
        wts.append(float(wi))
        sizes.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            v2, w2, s2 = vals.pop(), wts.pop(), sizes.pop()
            tw = wts[-1] + w2
            vals[-1] = (vals[-1] * wts[-1] + v2 * w2) / tw
            wts[-1] = tw
            sizes[-1] += s2
    return np.repeat(vals, sizes)


def _pav_l1(counts: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Least-absolute-error isotonic fit onto levels: PAV with block (lower) medians.

    ``counts``: (m, k) how many items at each distinct judge value have each human level.
    """
    blocks: list[list[Any]] = []   # [counts vector, median index, size]

    def median(c: np.ndarray) -> int:
        cum = np.cumsum(c)
        return int(np.searchsorted(cum, cum[-1] / 2.0))   # lower weighted median

    for c in counts:
        blocks.append([c.astype(float).copy(), median(c), 1])
        while len(blocks) > 1 and blocks[-2][1] > blocks[-1][1]:
            c2, _, s2 = blocks.pop()
            blocks[-1][0] = blocks[-1][0] + c2
            blocks[-1][1] = median(blocks[-1][0])
            blocks[-1][2] += s2
    return np.repeat([levels[b[1]] for b in blocks], [b[2] for b in blocks])


class Calibrator:
    """A monotone map from judge scores onto the human scale.

    >>> cal = Calibrator("isotonic").fit(judge_scores, human_scores)   # Series paired by id
    >>> cal.predict([1, 2, 3])
    """

    def __init__(self, method: str = "isotonic", *, levels: Sequence[float] | None = None,
                 scale: tuple[float, float] | None = None) -> None:
        if method not in METHODS:
            raise InputError(f"method must be one of {METHODS}, not {method!r}")
        self.method = method
        self.scale = tuple(float(v) for v in scale) if scale else None
        self.levels = np.asarray(sorted(levels), float) if levels is not None else None
        self.x_: np.ndarray | None = None
        self.y_: np.ndarray | None = None

    def _levels(self, y: np.ndarray) -> np.ndarray:
        if self.levels is not None:
            return self.levels
        if self.scale is not None and integer_levels(*self.scale) is not None:
            return integer_levels(*self.scale)
        return np.unique(y)

    def fit(self, judge: Any, human: Any) -> "Calibrator":
        """Fit on paired scores: two id-indexed Series (paired by id) or two equal-length arrays."""
        x, y = _paired_arrays(judge, human)
        if len(x) < 2:
            raise InputError("calibration needs at least two items rated by both the judge and humans")
        if np.unique(y).size < 2:
            raise InputError(f"every human score is {y[0]:g}: a single rated category cannot calibrate a judge")
        ux, inv = np.unique(x, return_inverse=True)
        inv = inv.ravel()
        if self.method == "isotonic":
            w = np.bincount(inv).astype(float)
            ym = np.bincount(inv, weights=y) / w
            self.levels = self._levels(y)   # the human levels, for predict_levels (not the fitted means)
            self.x_, self.y_ = ux, _pav(ym, w)
        else:
            lv = self._levels(y)
            off = ~np.isin(y, lv)
            if off.any():
                raise InputError(f"thresholds: human scores {sorted(set(y[off]))[:5]} are not levels {list(lv)}; "
                                 "pass levels=... or use method='isotonic'")
            c = np.zeros((len(ux), len(lv)))
            np.add.at(c, (inv, np.searchsorted(lv, y)), 1)
            self.levels = lv
            self.x_, self.y_ = ux, _pav_l1(c, lv)
        return self

    @property
    def thresholds(self) -> list[dict[str, float]]:
        """For 'thresholds': the judge-score cut point above which each level starts."""
        self._check()
        out = []
        for i in range(1, len(self.x_)):
            if self.y_[i] != self.y_[i - 1]:
                out.append({"above": float((self.x_[i - 1] + self.x_[i]) / 2), "level": float(self.y_[i])})
        return out

    def _check(self) -> None:
        if self.x_ is None:
            raise InputError("this Calibrator is not fitted yet: call fit(judge, human) first")

    def predict(self, scores: Any) -> Any:
        """Calibrated scores (a Series keeps its index; NaN stays NaN)."""
        self._check()
        idx = scores.index if isinstance(scores, pd.Series) else None
        v = np.asarray(scores, float)
        out = np.full(v.shape, np.nan)
        ok = ~np.isnan(v)
        if self.method == "isotonic":
            out[ok] = np.interp(v[ok], self.x_, self.y_)
        else:
            # step function: the level of the nearest fitted judge value at or below (cut points are midpoints)
            cuts = (self.x_[1:] + self.x_[:-1]) / 2
            out[ok] = self.y_[np.searchsorted(cuts, v[ok], side="right")]
        return pd.Series(out, index=idx, name=getattr(scores, "name", None)) if idx is not None else out

    def predict_levels(self, scores: Any) -> Any:
        """Calibrated scores rounded to the nearest human level (for kappa and
        accuracy): the given ``levels``, else the integers of ``scale``, else
        the distinct human scores seen in ``fit``."""
        pred = self.predict(scores)
        lv = self.levels if self.levels is not None else self._levels(self.y_)   # a Calibrator saved before levels were kept
        arr = np.asarray(pred, float)
        out = np.full(arr.shape, np.nan)
        ok = ~np.isnan(arr)
        out[ok] = lv[np.abs(arr[ok, None] - lv[None, :]).argmin(1)]
        return pd.Series(out, index=pred.index, name=pred.name) if isinstance(pred, pd.Series) else out

    def to_dict(self) -> dict[str, Any]:
        self._check()
        return {"method": self.method, "x": self.x_.tolist(), "y": self.y_.tolist(),
                "levels": None if self.levels is None else self.levels.tolist(),
                "scale": list(self.scale) if self.scale else None}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Calibrator":
        try:
            cal = cls(d["method"], levels=d.get("levels"), scale=tuple(d["scale"]) if d.get("scale") else None)
            cal.x_ = np.asarray(d["x"], float)
            cal.y_ = np.asarray(d["y"], float)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not a saved Calibrator: {exc}") from exc
        if cal.x_.shape != cal.y_.shape or cal.x_.size == 0 or np.any(np.diff(cal.x_) <= 0) or np.any(np.diff(cal.y_) < 0):
            raise InputError("not a saved Calibrator: x must increase and y must not decrease")
        return cal

    @classmethod
    def from_json(cls, text: str) -> "Calibrator":
        return cls.from_dict(json.loads(text))


def _paired_arrays(judge: Any, human: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(judge, (pd.Series, dict)) or isinstance(human, (pd.Series, dict)):
        a, b = _as_series(judge, "judge"), _as_series(human, "human")
        both = a.index.intersection(b.index)
        if len(both) == 0:
            raise InputError(f"judge and human scores share no item id: e.g. {list(a.index[:3])} vs {list(b.index[:3])}")
        a, b = a.reindex(both), b.reindex(both)
        ok = a.notna() & b.notna()
        return a[ok].to_numpy(float), b[ok].to_numpy(float)
    x, y = np.asarray(judge, float), np.asarray(human, float)
    if x.shape != y.shape or x.ndim != 1:
        raise InputError(f"judge and human arrays must have the same length (got {x.shape} and {y.shape})")
    ok = ~np.isnan(x) & ~np.isnan(y)
    return x[ok], y[ok]


@dataclass
class CalibrationReport(ReportMixin):
    """Held-out (k-fold) agreement before and after calibration, and the map fitted on all items."""

    method: str
    k: int
    before: AgreementReport
    after: AgreementReport
    calibrator: Calibrator
    oof: pd.Series                      # out-of-fold calibrated score per item
    system_means: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    oof_levels: pd.Series | None = None  # out-of-fold calibrated level per item (what ``after`` is computed on)

    def to_dict(self) -> dict[str, Any]:
        clean = lambda d: {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}
        return {"kind": "calibration", "method": self.method, "k": self.k, "before": self.before.to_dict(),
                "after": self.after.to_dict(), "map": self.calibrator.to_dict(),
                "system_means": [clean(r) for r in self.system_means], "notes": self.notes, "settings": self.settings}

    def _lines(self) -> list[str]:
        head = f"Calibration of {self.before.a} onto {self.before.b} ({self.method}, {self.k}-fold held-out)"
        lines = [head, "=" * len(head),
                 f"items: {self.before.n_items} paired (missing {self.before.n_missing}); "
                 f"{self.settings.get('n_boot')} item resamples, seed {self.settings.get('seed')}", "",
                 f"  {'statistic':<30} {'before':>22}   {'after (held-out)':>22}"]
        from ._report import LABELS

        for f in self.before.figures:
            g = self.after[f.name]
            lines.append(f"  {LABELS.get(f.name, f.name):<30} {fmt(f.estimate):>7} [{fmt(f.ci_low)}, {fmt(f.ci_high)}]"
                         f"   {fmt(g.estimate):>7} [{fmt(g.ci_low)}, {fmt(g.ci_high)}]")
        if self.method == "thresholds":
            cuts = self.calibrator.thresholds
            if cuts:
                lines += ["", "cut points (judge score > cut -> level): " +
                          ", ".join(f"{t['above']:g} -> {t['level']:g}" for t in cuts)]
            else:
                lines += ["", f"cut points: none; every judge score maps to level {self.calibrator.y_[0]:g} "
                              "(the fitted map is constant)"]
        else:
            pts = ", ".join(f"{x:g}->{y:.2f}" for x, y in zip(self.calibrator.x_[:12], self.calibrator.y_[:12]))
            lines += ["", f"map (judge -> human): {pts}{' ...' if len(self.calibrator.x_) > 12 else ''}"]
        if self.system_means:
            lines += ["", "system means (95% CI over items):",
                      f"  {'system':<20}{'n':>6}  {'judge raw':>22}  {'calibrated (held-out)':>24}  {'human':>22}"]
            for r in self.system_means:
                lines.append(f"  {r['system']:<20}{r['n']:>6}  " + "  ".join(
                    f"{fmt(r[k]):>7} [{fmt(r[k + '_ci'][0])}, {fmt(r[k + '_ci'][1])}]"
                    for k in ("judge", "calibrated", "human")))
        lines += [f"note: {n}" for n in self.notes]
        return lines


def _folds(n: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    f = np.empty(n, int)
    f[perm] = np.arange(n) % k
    return f


@renamed(n_boot="n_bootstrap", ci="confidence")
def calibrate(judge: Any, human: Any, method: str = "isotonic", *, k: int = 5,
              scale: tuple[float, float] | None = None, judge_scale: tuple[float, float] | None = None,
              levels: Sequence[float] | None = None,
              systems: Any = None, n_bootstrap: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED,
              confidence: float = 0.95) -> CalibrationReport:
    """Fit a monotone judge->human map and report agreement before / after on held-out items.

    ``judge`` and ``human``: Series indexed by item id (paired by id).
    ``scale``: the human scale; ``judge_scale``: the judge's, when it differs
    (a 1-10 judge calibrated onto a 1-5 human scale); None means not checked.
    ``systems``: optional Series item -> system for corrected system means.

    ``n_bootstrap`` item resamples give each figure a ``confidence`` interval
    (``n_boot=`` and ``ci=`` are deprecated old names).
    """
    from ._agreement import _check_scale

    j = _as_series(judge, "judge")
    h = _as_series(human, "human")
    _check_scale(h, scale, "human")
    if judge_scale is not None:
        _check_scale(j, judge_scale, "judge")
    both = j.index.intersection(h.index)
    if len(both) == 0:
        raise InputError(f"judge and human scores share no item id: e.g. {list(j.index[:3])} vs {list(h.index[:3])}")
    unknown = j.index.difference(h.index)
    notes = []
    if len(unknown):
        notes.append(f"{len(unknown)} judged item(s) have no human rating and are not used, e.g. {list(unknown[:3])}")
    ok = j.reindex(both).notna() & h.reindex(both).notna()
    items = both[ok]
    if k < 2 or k > len(items):
        raise InputError(f"k must be between 2 and the number of paired items ({len(items)}), not {k}")
    x = j.reindex(items)
    y = h.reindex(items)
    if y.nunique() < 2:
        raise InputError(f"every human score is {y.iloc[0]:g}: a single rated category cannot calibrate a judge")
    folds = _folds(len(items), k, seed)
    oof = pd.Series(np.nan, index=items, name="calibrated")
    oof_lv = oof.copy()
    for f in range(k):
        tr, te = folds != f, folds == f
        cal = Calibrator(method, levels=levels, scale=scale).fit(x[tr], y[tr])
        oof[te] = cal.predict(x[te]).to_numpy()
        oof_lv[te] = cal.predict_levels(x[te]).to_numpy()
    final = Calibrator(method, levels=levels, scale=scale).fit(x, y)
    kw = dict(n_bootstrap=n_bootstrap, seed=seed, confidence=confidence)
    both_scale = None
    if scale is not None:
        lo, hi = scale
        if judge_scale is not None:
            lo, hi = min(lo, judge_scale[0]), max(hi, judge_scale[1])
        elif not x.between(lo, hi).all():
            lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
        both_scale = (lo, hi)
    before = agreement(j.rename(j.name or "judge"), h.rename(h.name or "human"), a=str(j.name or "judge"),
                       b=str(h.name or "human"), scale=both_scale, **kw)
    after = agreement(oof_lv, y, a=f"calibrated {j.name or 'judge'}", b=str(h.name or "human"), scale=scale, **kw)
    means = []
    if systems is not None:
        sy = _as_series_str(systems)
        for s in dict.fromkeys(sy.reindex(items).dropna()):
            ids = [i for i in items if sy.get(i) == s]
            means.append(_system_mean(s, x[ids].to_numpy(), oof[ids].to_numpy(), y[ids].to_numpy(), n_bootstrap, seed, confidence))
    settings = {"n_boot": n_bootstrap, "seed": seed, "ci": confidence, "k": k,
                "folds": "items shuffled with the seed, then dealt round-robin"}
    return CalibrationReport(method, k, before, after, final, oof, means, settings, notes, oof_lv)


def _as_series_str(v: Any) -> pd.Series:
    s = v.copy() if isinstance(v, pd.Series) else pd.Series(dict(v))
    s.index = s.index.map(str)
    return s.astype(str)


def _system_mean(system: str, raw: np.ndarray, cal: np.ndarray, hum: np.ndarray, n_bootstrap: int, seed: int, confidence: float) -> dict[str, Any]:
    n = len(raw)
    out: dict[str, Any] = {"system": system, "n": n}
    vals = {"judge": raw, "calibrated": cal, "human": hum}
    boots = S.run_bootstrap(n, n_bootstrap, seed, lambda W: {k: (W @ v) / W.sum(1) for k, v in vals.items()}) if n_bootstrap else {}
    for k2, v in vals.items():
        est = float(np.mean(v))
        lo, hi, _ = S.interval(boots[k2], est, confidence) if boots else (math.nan, math.nan, 0)
        out[k2], out[f"{k2}_ci"] = est, [lo, hi]
    return out
