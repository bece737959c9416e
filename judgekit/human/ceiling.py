"""The human ceiling: does a judge agree with the experts as well as the experts agree with each other?

For each human h of the panel, the reference is the aggregate (median) of
the *other* humans.  The human's agreement with that reference is set beside
each judge's agreement with the same reference, on the same items, with the
same bootstrap resamples, so the judge-minus-human difference gets its own
interval.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._compat import renamed
from ..errors import InputError
from . import _stats as S
from ._report import LABELS, Figure, ReportMixin, fmt
from ._table import aggregate as _aggregate, resolve_raters, scale_of, select, validate_table, wide
from ._agreement import DEFAULT_BOOT, DEFAULT_SEED, PAIR_STATS, PanelReport, _pair_boot, _point, _settings, pair, panel_agreement


@dataclass
class CeilingReport(ReportMixin):
    """Judges beside the leave-one-out human ceiling, per statistic."""

    humans: list[str]
    judges: list[str]
    metrics: list[str]
    panel: PanelReport
    rows: list[dict[str, Any]]           # one per (metric, rater): human LOO or judge
    n_items: int
    n_dropped: int
    context: dict[str, Any]
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: (v.estimate if isinstance(v, Figure) else v) for k, v in r.items()} for r in self.rows])

    def to_dict(self) -> dict[str, Any]:
        rows = [{k: (v.to_dict() if isinstance(v, Figure) else v) for k, v in r.items()} for r in self.rows]
        return {"kind": "human_ceiling", "humans": self.humans, "judges": self.judges, "metrics": self.metrics,
                "context": self.context, "n_items": self.n_items, "n_dropped": self.n_dropped,
                "panel": self.panel.to_dict(), "rows": rows, "notes": self.notes, "settings": self.settings}

    def _lines(self) -> list[str]:
        c = self.context
        head = f"Judges vs the human ceiling: {c.get('framework', '')} / {c.get('dimension', '')}".rstrip(" /:")
        lines = [head, "=" * len(head)]
        lines.append(f"humans: {', '.join(self.humans)}; judges: {', '.join(self.judges)}; "
                     f"items rated by all: {self.n_items} (dropped {self.n_dropped})")
        s = self.settings
        lines.append(f"reference = {c['aggregate']} of the other humans (leave-one-out); "
                     f"{s['n_boot']} item resamples, seed {s['seed']}, {round(s['ci'] * 100)}% {s['ci_method']} CI")
        pa = self.panel
        parts = []
        for name in ("fleiss_kappa", "alpha_ordinal", "alpha_interval"):
            try:
                f = pa[name]
            except KeyError:
                continue
            parts.append(f"{LABELS[name]} {fmt(f.estimate)} [{fmt(f.ci_low)}, {fmt(f.ci_high)}]")
        lines.append("human panel: " + "; ".join(parts))
        for m in self.metrics:
            lines.append("")
            lines.append(f"{LABELS.get(m, m)} with the rest of the panel:")
            lines.append(f"  {'rater':<22} {'mean':>7}   {'95% CI':<17} {'minus humans':>12}   {'95% CI':<17}  per held-out human: {' '.join(self.humans)}")
            for r in (r for r in self.rows if r["metric"] == m):
                f: Figure = r["mean"]
                d: Figure | None = r.get("minus_human")
                per = " ".join(f"{fmt(v, 2)}" for v in r["per_heldout"].values())
                dtxt = (f"{fmt(d.estimate):>12}   [{fmt(d.ci_low)}, {fmt(d.ci_high)}]" if d is not None
                        else f"{'':>12}   {'':<17}")
                lines.append(f"  {r['rater']:<22} {fmt(f.estimate):>7}   [{fmt(f.ci_low)}, {fmt(f.ci_high)}]"
                             f"{'':<2}{dtxt:<33}  {per}")
        verdict = self.verdicts()
        if verdict:
            lines.append("")
            lines += [f"  {v}" for v in verdict]
        lines += [f"note: {n}" for n in self.notes]
        return lines

    def verdicts(self) -> list[str]:
        """One line per judge and metric: within, above or below the human ceiling (by the difference's CI)."""
        out = []
        for r in self.rows:
            d = r.get("minus_human")
            if d is None or not math.isfinite(d.ci_low):
                continue
            if d.ci_high < 0:
                word = "below the human ceiling"
            elif d.ci_low > 0:
                word = "above the human ceiling"
            else:
                word = "indistinguishable from the human ceiling"
            out.append(f"{r['rater']}: {LABELS.get(r['metric'], r['metric'])} {word} "
                       f"(difference {fmt(d.estimate)}, CI [{fmt(d.ci_low)}, {fmt(d.ci_high)}])")
        return out


@renamed(n_boot="n_bootstrap", ci="confidence")
def human_ceiling(table: pd.DataFrame, judges: Any = "llm", humans: Any = "expert", *,
                  framework: str | None = None, dimension: str | None = None,
                  metrics: Sequence[str] = ("kappa_quadratic", "spearman"), aggregate: str = "median",
                  levels: str = "auto", n_bootstrap: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED,
                  confidence: float = 0.95, ci_method: str = "percentile") -> CeilingReport:
    """Leave-one-out human ceiling and each judge's agreement with the same references.

    ``humans`` / ``judges``: rater names, a rater kind or lists.  Only items
    rated by every human and every judge are used (the rest are counted).
    With an even number of remaining humans the median may fall between two
    levels; those values are kept (kappa then weights the values themselves).

    ``n_bootstrap`` item resamples give each figure a ``confidence`` interval
    (``n_boot=`` and ``ci=`` are deprecated old names).
    """
    settings = _settings(n_bootstrap, seed, confidence, ci_method)
    bad = [m for m in metrics if m not in PAIR_STATS]
    if bad:
        raise InputError(f"unknown metric(s) {bad}; choose from {list(PAIR_STATS)}")
    t = select(validate_table(table), framework=framework, dimension=dimension)
    hs = resolve_raters(t, humans)
    js = resolve_raters(t, judges)
    if len(hs) < 2:
        raise InputError(f"the human ceiling needs at least two humans, got {hs}")
    if set(hs) & set(js):
        raise InputError(f"rater(s) {sorted(set(hs) & set(js))} are both human and judge")
    sc = scale_of(t)
    w = wide(t, hs + js)
    complete = w.notna().all(axis=1)
    wc = w[complete]
    n_drop = int((~complete).sum())
    if len(wc) < 2:
        raise InputError(f"fewer than two items are rated by all of {hs + js}")
    panel = panel_agreement(t[t["rater"].isin(hs)], hs, n_bootstrap=n_bootstrap, seed=seed, confidence=confidence, ci_method=ci_method)
    n = len(wc)
    per: dict[tuple[str, str, str], float] = {}     # (metric, rater, heldout) -> estimate
    boot: dict[tuple[str, str, str], np.ndarray] = {}
    notes = []
    for h in hs:
        ref = _aggregate(wc[[o for o in hs if o != h]], aggregate)
        for r in [h] + js:
            try:
                p = pair(wc[r], ref, scale=sc, levels=levels, names=(r, f"others-than-{h}"))
            except InputError as exc:
                notes.append(f"{r} vs humans other than {h}: {exc}")
                continue
            if p.n != n:  # cannot happen with complete items; guards the shared resamples
                raise InputError("internal: unequal item sets in the ceiling")
            est, _, _ = _point(p)
            b = S.run_bootstrap(n, n_bootstrap, seed, _pair_boot(p)) if n_bootstrap else {}
            for m in metrics:
                per[(m, r, h)] = est[m]
                boot[(m, r, h)] = b.get(m, np.array([]))
    rows = []
    for m in metrics:
        human_mean_boot = np.mean([boot[(m, h, h)] for h in hs if (m, h, h) in boot], axis=0) if n_bootstrap else np.array([])
        human_mean = float(np.mean([per[(m, h, h)] for h in hs if (m, h, h) in per]))
        lo, hi, und = S.interval(human_mean_boot, human_mean, confidence, ci_method) if n_bootstrap else (math.nan, math.nan, 0)
        rows.append({"metric": m, "rater": "humans (leave-one-out)", "kind": "human",
                     "mean": Figure(m, human_mean, lo, hi, n, n_drop, und),
                     "per_heldout": {h: per.get((m, h, h), math.nan) for h in hs}})
        for j in js:
            keys = [(m, j, h) for h in hs if (m, j, h) in per]
            if not keys:
                continue
            est = float(np.mean([per[k] for k in keys]))
            row: dict[str, Any] = {"metric": m, "rater": j, "kind": "judge",
                                   "per_heldout": {h: per.get((m, j, h), math.nan) for h in hs}}
            if n_bootstrap:
                jb = np.mean([boot[k] for k in keys], axis=0)
                lo, hi, und = S.interval(jb, est, confidence, ci_method)
                diff = est - human_mean
                dlo, dhi, dund = S.interval(jb - human_mean_boot, diff, confidence, ci_method)
                row["mean"] = Figure(m, est, lo, hi, n, n_drop, und)
                row["minus_human"] = Figure(f"{m}_minus_human", diff, dlo, dhi, n, n_drop, dund)
            else:
                row["mean"] = Figure(m, est, math.nan, math.nan, n, n_drop)
                row["minus_human"] = Figure(f"{m}_minus_human", est - human_mean, math.nan, math.nan, n, n_drop)
            rows.append(row)
    ctx = {"framework": t["framework"].iloc[0], "dimension": t["dimension"].iloc[0],
           "scale": list(sc) if sc else None, "aggregate": aggregate}
    return CeilingReport(hs, js, list(metrics), panel, rows, n, n_drop, ctx, settings, notes)


_MARK = {"below": "<", "above": ">", "within": "="}


@dataclass
class CeilingSummary(ReportMixin):
    """One line per (framework, dimension): the human ceiling and each judge, one statistic."""

    metric: str
    judges: list[str]
    reports: list[CeilingReport]
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for rep in self.reports:
            row = {"framework": rep.context["framework"], "dimension": rep.context["dimension"], "n_items": rep.n_items}
            for r in rep.rows:
                f: Figure = r["mean"]
                key = "humans" if r["kind"] == "human" else r["rater"]
                row[key] = f.estimate
                row[f"{key}_ci"] = [f.ci_low, f.ci_high]
                d = r.get("minus_human")
                if d is not None:
                    row[f"{key}_minus_humans"] = d.estimate
                    row[f"{key}_minus_humans_ci"] = [d.ci_low, d.ci_high]
                    row[f"{key}_verdict"] = _verdict(d)
            out.append(row)
        return out

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows())

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "human_ceiling_summary", "metric": self.metric, "judges": self.judges,
                "dimensions": [r.to_dict() for r in self.reports], "notes": self.notes, "settings": self.settings}

    def _lines(self) -> list[str]:
        s = self.settings
        head = f"Judges vs the human ceiling: {LABELS.get(self.metric, self.metric)}"
        lines = [head, "=" * len(head),
                 "humans = each human against the median of the other humans (leave-one-out), averaged;",
                 "a judge = the judge against the same references.  "
                 f"{round(s['ci'] * 100)}% CI from {s['n_boot']} item resamples (seed {s['seed']}).",
                 "mark: '<' below the human ceiling, '=' indistinguishable, '>' above (CI of judge minus humans).",
                 ""]
        cell = 22
        hdr = f"{'framework / dimension':<44}{'n':>4}  {'humans':<{cell}}" + "".join(f"{j:<{cell}}" for j in self.judges)
        lines += [hdr, "-" * len(hdr)]
        counts = {j: {"below": 0, "within": 0, "above": 0} for j in self.judges}
        for row in self.rows():
            name = f"{row['framework']} / {row['dimension']}"
            txt = f"{name:<44}{row['n_items']:>4}  " + _cell(row["humans"], row["humans_ci"], "", cell)
            for j in self.judges:
                if j in row:
                    v = row.get(f"{j}_verdict")
                    if v:
                        counts[j][v] += 1
                    txt += _cell(row[j], row[f"{j}_ci"], _MARK.get(v, ""), cell)
            lines.append(txt)
        lines.append("")
        for j in self.judges:
            c = counts[j]
            lines.append(f"{j}: below the human ceiling on {c['below']}, indistinguishable on {c['within']}, "
                         f"above on {c['above']} of {sum(c.values())} dimensions")
        lines += [f"note: {n}" for n in self.notes]
        return lines


def _verdict(d: Figure) -> str:
    if not math.isfinite(d.ci_low):
        return ""
    return "below" if d.ci_high < 0 else ("above" if d.ci_low > 0 else "within")


def _cell(v: float, ci: list[float], mark: str, width: int) -> str:
    t = f"{fmt(v, 2)} [{fmt(ci[0], 2)},{fmt(ci[1], 2)}] {mark}"
    return f"{t:<{width}}"


@renamed(n_boot="n_bootstrap", ci="confidence")
def ceiling_summary(table: pd.DataFrame, judges: Any = "llm", humans: Any = "expert", *,
                    framework: str | None = None, dimension: str | None = None,
                    metric: str = "kappa_quadratic", **kwargs: Any) -> CeilingSummary:
    """``human_ceiling`` for every (framework, dimension) of a table, one statistic, one line each."""
    t = validate_table(table)
    for col, val in (("framework", framework), ("dimension", dimension)):
        if val is not None:
            if val not in set(t[col]):
                raise InputError(f"unknown {col} {val!r}; available: {sorted(set(t[col]))}")
            t = t[t[col] == val]
    reports, notes = [], []
    js: list[str] = []
    for (fw, dim), part in t.groupby(["framework", "dimension"], sort=False):
        try:
            rep = human_ceiling(part, judges=judges, humans=humans, metrics=[metric], **kwargs)
        except InputError as exc:
            notes.append(f"{fw} / {dim}: {exc}")
            continue
        reports.append(rep)
        js += [j for j in rep.judges if j not in js]
    if not reports:
        reasons = sorted({n.split(": ", 1)[1] for n in notes})
        hint = (" (with a single human rater, compare a judge with it directly: a=JUDGE, b=HUMAN, "
                "or --a/--b on the command line)" if any("at least two humans" in r for r in reasons) else "")
        if len(reasons) == 1:
            raise InputError(f"no dimension could be compared, in all {len(notes)}: {reasons[0]}{hint}")
        raise InputError("no dimension could be compared: " + "; ".join(notes) + hint)
    return CeilingSummary(metric, js, reports, reports[0].settings, notes)
