"""Group comparisons in Welivita & Pu's between-subjects design.

Each response is rated once on one ordinal scale (1 = Bad, 2 = Okay,
3 = Good); systems are compared by their rating distributions: chi-square
tests of independence (all systems, and each against a baseline) with
Cramer's V, and the change in the share of the top level, in percentage
points and relative to the baseline, overall and per emotion / sentiment.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ._report import ReportMixin, _num, fmt, p_value


def _long(data: Any) -> pd.DataFrame:
    """(system, score, emotion?, sentiment?) rows from a path, a wide frame or a tidy table."""
    from ._load_welivita import read_welivita, systems_of

    if isinstance(data, (str, os.PathLike)):
        data = read_welivita(Path(data))
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"study needs a Welivita-format file or DataFrame, got {type(data).__name__}")
    if "system" in data.columns and "score" in data.columns:
        out = data.copy()
    else:
        systems = systems_of(data)
        if not systems:
            raise InputError("no response_<system>/rating_<system> column pairs found")
        extras = [c for c in ("emotion", "sentiment") if c in data.columns]
        parts = []
        for s in systems:
            p = data[extras].copy()
            p["system"] = s
            p["score"] = pd.to_numeric(data[f"rating_{s}"], errors="coerce")
            bad = p["score"].isna()
            if bad.any():
                raise InputError(f"rating_{s}: non-numeric or empty rating at data row(s) {list(data.index[bad][:10])}")
            parts.append(p)
        out = pd.concat(parts, ignore_index=True)
    out["system"] = out["system"].astype(str)
    return out


def _chi2(counts: np.ndarray) -> dict[str, Any]:
    """Chi-square test of independence (scipy), Cramer's V, and a warning for small expected counts."""
    from scipy.stats import chi2_contingency

    keep = counts.sum(0) > 0
    c = counts[:, keep]
    res: dict[str, Any] = {"chi2": math.nan, "dof": 0, "p_value": math.nan, "cramers_v": math.nan,
                           "min_expected": math.nan, "levels_dropped": int((~keep).sum())}
    if c.shape[1] < 2 or (c.sum(1) == 0).any():
        res["note"] = "undefined: fewer than two rated levels or an empty group"
        return res
    r = chi2_contingency(c)
    n = c.sum()
    res.update(chi2=float(r.statistic), dof=int(r.dof), p_value=float(r.pvalue),
               cramers_v=float(math.sqrt(r.statistic / (n * (min(c.shape) - 1)))),
               min_expected=float(r.expected_freq.min()))
    if r.expected_freq.min() < 5:
        res["note"] = "some expected counts < 5: the chi-square approximation is rough"
    return res


def _shares(counts: np.ndarray) -> np.ndarray:
    tot = counts.sum(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return counts / tot


@dataclass
class StudyReport(ReportMixin):
    """Distributions, chi-square tests and top-level share changes, overall and per group."""

    systems: list[str]
    baseline: str
    levels: list[float]
    level_names: list[str]
    distribution: pd.DataFrame          # systems x levels counts
    overall: dict[str, Any]
    pairwise: list[dict[str, Any]]
    groups: dict[str, list[dict[str, Any]]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        dist = {s: {"counts": [int(v) for v in self.distribution.loc[s]],
                    "shares": [float(v) for v in _shares(self.distribution.loc[s].to_numpy(float))],
                    "mean": float(np.dot(self.levels, self.distribution.loc[s]) / self.distribution.loc[s].sum()),
                    "n": int(self.distribution.loc[s].sum())} for s in self.systems}
        clean = lambda d: {k: (_num(v) if isinstance(v, float) else v) for k, v in d.items()}
        return {"kind": "study", "systems": self.systems, "baseline": self.baseline, "levels": self.levels,
                "level_names": self.level_names, "distribution": dist, "overall": clean(self.overall),
                "pairwise": [clean(p) for p in self.pairwise],
                "groups": {g: [{**clean(r), "systems": {s: clean(v) for s, v in r["systems"].items()}} for r in rows]
                           for g, rows in self.groups.items()},
                "notes": self.notes}

    def _lines(self) -> list[str]:
        top = self.level_names[-1]
        head = f"Study: {len(self.systems)} systems, baseline {self.baseline}"
        lines = [head, "=" * len(head), "", "distribution per system (counts, shares):"]
        hdr = f"  {'system':<22}" + "".join(f"{n:>16}" for n in self.level_names) + f"{'mean':>8}{'n':>7}"
        lines.append(hdr)
        for s in self.systems:
            c = self.distribution.loc[s].to_numpy(float)
            sh = _shares(c)
            lines.append(f"  {s:<22}" + "".join(f"{int(v):>7} ({p * 100:5.1f}%)" for v, p in zip(c, sh))
                         + f"{np.dot(self.levels, c) / c.sum():>8.3f}{int(c.sum()):>7}")
        o = self.overall
        lines += ["", f"chi-square of independence over all systems: chi2({o['dof']}) = {fmt(o['chi2'], 2)}, "
                      f"{p_value(o['p_value'])}, Cramer's V = {fmt(o['cramers_v'])}", "",
                  f"against {self.baseline}:",
                  f"  {'system':<22}{'chi2':>9}{'dof':>5}{'p':>11}{'V':>7}   {top + ' share':>12}{'change (pp)':>13}{'relative':>10}"]
        for p in self.pairwise:
            lines.append(f"  {p['system']:<22}{fmt(p['chi2'], 2):>9}{p['dof']:>5}{_p(p['p_value']):>11}{fmt(p['cramers_v']):>7}   "
                         f"{p['top_share'] * 100:>11.1f}%{p['top_change_pp']:>+13.1f}{_rel(p['top_change_relative']):>10}")
        for g, rows in self.groups.items():
            lines += ["", f"per {g}: share of '{top}' and change vs {self.baseline} in percentage points "
                          f"(p: chi-square vs {self.baseline})"]
            others = [s for s in self.systems if s != self.baseline]
            lines.append(f"  {g:<16}{'n':>6}{self.baseline[:14]:>15}" + "".join(f"{s[:20]:>23}" for s in others))
            for r in rows:
                base = r["systems"][self.baseline]
                txt = f"  {str(r['group'])[:16]:<16}{r['n']:>6}{base['top_share'] * 100:>14.1f}%"
                for s in others:
                    v = r["systems"][s]
                    star = "*" if v.get("small_expected") else " "
                    txt += f"{v['top_share'] * 100:>8.1f}% {v['top_change_pp']:+6.1f} {p_value(v['p_value']):<7}{star}"
                lines.append(txt)
            if any(v.get("small_expected") for r in rows for v in r["systems"].values()):
                lines.append("  * some expected counts < 5: the chi-square p-value is a rough approximation")
        lines += [f"note: {n}" for n in self.notes]
        return lines


def _p(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "n/a"
    return "<.001" if p < 0.001 else f"{p:.3f}"


def _rel(r: float) -> str:
    return "n/a" if r is None or not math.isfinite(r) else f"{r * 100:+.1f}%"


def study(data: Any, systems: Sequence[str] | None = None, baseline: str | None = None, *,
          levels: Sequence[float] = (1, 2, 3), level_names: Sequence[str] | None = None,
          by: Sequence[str] = ("sentiment", "emotion")) -> StudyReport:
    """Compare systems rated on one ordinal scale, Welivita & Pu style.

    ``data``: a Welivita-format file or DataFrame (``response_<s>`` /
    ``rating_<s>`` column pairs, any number of systems) or a long table
    with ``system`` and ``score``.  ``baseline`` defaults to 'human' when
    present, else the first system.
    """
    long = _long(data)
    levels = [float(v) for v in levels]
    if level_names is None:
        level_names = ["Bad", "Okay", "Good"] if levels == [1.0, 2.0, 3.0] else [f"{v:g}" for v in levels]
    if len(level_names) != len(levels):
        raise InputError("level_names must name every level")
    off = ~long["score"].isin(levels)
    if off.any():
        ex = long[off].iloc[0]
        raise InputError(f"{int(off.sum())} rating(s) outside the levels {levels}, e.g. {ex['score']!r} "
                         f"for system {ex['system']!r} (row {long.index[off][0]})")
    all_sys = list(dict.fromkeys(long["system"]))
    systems = list(systems) if systems else all_sys
    unknown = [s for s in systems if s not in all_sys]
    if unknown:
        raise InputError(f"unknown system(s) {unknown}; the data has {all_sys}")
    if len(systems) < 2:
        raise InputError(f"a study compares at least two systems, got {systems}")
    baseline = baseline or ("human" if "human" in systems else systems[0])
    if baseline not in systems:
        raise InputError(f"baseline {baseline!r} is not among the systems {systems}")
    long = long[long["system"].isin(systems)]
    if long["score"].nunique() < 2:
        raise InputError(f"every rating is {long['score'].iloc[0]:g}: a single rated category cannot be compared")

    def table(df: pd.DataFrame) -> pd.DataFrame:
        return pd.crosstab(pd.Categorical(df["system"], systems), pd.Categorical(df["score"], levels), dropna=False)

    dist = table(long)
    dist.index, dist.columns = systems, levels
    notes = []
    overall = _chi2(dist.to_numpy(float))
    if "note" in overall:
        notes.append(f"overall: {overall['note']}")
    shares = _shares(dist.to_numpy(float))
    bi = systems.index(baseline)
    pairwise = []
    for i, s in enumerate(systems):
        if s == baseline:
            continue
        res = _chi2(dist.to_numpy(float)[[bi, i]])
        pairwise.append({"system": s, **res, **_top(shares[i, -1], shares[bi, -1])})
    groups: dict[str, list[dict[str, Any]]] = {}
    for g in by:
        if g not in long.columns:
            continue
        rows = []
        for val, part in long.groupby(g, sort=True):
            c = table(part).to_numpy(float)
            sh = _shares(c)
            entry: dict[str, Any] = {"group": val, "n": int(c[bi].sum()), "systems": {}}
            for i, s in enumerate(systems):
                d = {"top_share": float(sh[i, -1]), "n": int(c[i].sum())}
                if s != baseline:
                    d.update(_top(sh[i, -1], sh[bi, -1]))
                    r = _chi2(c[[bi, i]])
                    d.update(p_value=r["p_value"], cramers_v=r["cramers_v"], small_expected="note" in r)
                entry["systems"][s] = d
            rows.append(entry)
        groups[g] = rows
    return StudyReport(systems, baseline, levels, list(level_names), dist, overall, pairwise, groups, notes)


def _top(share: float, base: float) -> dict[str, float]:
    return {"top_share": float(share), "top_change_pp": float((share - base) * 100),
            "top_change_relative": float(share / base - 1) if base > 0 else math.nan}
