"""Agreement between two raters (or groups) and within a panel, with bootstrap CIs over items.

Items are paired by id, never by position; a missing rating drops the item
from that comparison only, and every report counts what it dropped.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._compat import renamed
from ..errors import InputError
from . import _stats as S
from ._report import Figure, ReportMixin, figure_table, fmt, p_value
from ._table import (aggregate as _aggregate, integer_levels, resolve_raters, scale_of, select,
                     validate_table, wide)

PAIR_STATS = ("kappa", "kappa_linear", "kappa_quadratic", "spearman", "kendall_tau_b", "pearson",
              "exact_accuracy", "within_one_accuracy", "mae", "bias")
PANEL_STATS = ("fleiss_kappa", "alpha_nominal", "alpha_ordinal", "alpha_interval")
DEFAULT_SEED = 12345
DEFAULT_BOOT = 1000


# ------------------------------------------------------------------ pairing

@dataclass
class _Pair:
    items: np.ndarray
    x: np.ndarray
    y: np.ndarray
    levels: np.ndarray
    positions: np.ndarray
    levels_rule: str
    n_union: int
    only_a: list[str]
    only_b: list[str]
    neither: list[str]

    @property
    def n(self) -> int:
        return len(self.items)

    @property
    def n_missing(self) -> int:
        return self.n_union - self.n

    def codes(self):
        cx, lx = S.codes(self.x)
        cy, ly = S.codes(self.y)
        ca, _ = S.codes(self.x, self.levels)
        cb, _ = S.codes(self.y, self.levels)
        return cx, len(lx), cy, len(ly), ca, cb, len(self.levels)


def _as_series(v: Any, name: str) -> pd.Series:
    if isinstance(v, pd.Series):
        s = v.copy()
    elif isinstance(v, Mapping):
        s = pd.Series(dict(v), dtype=float)
    else:
        raise InputError(f"{name}: pass a pandas Series (or dict) indexed by item id; items are paired by id, "
                         f"never by position (got {type(v).__name__})")
    s.index = s.index.map(str)
    dup = s.index.duplicated(keep=False)
    if dup.any():
        raise InputError(f"{name}: item id(s) rated more than once: {sorted(set(s.index[dup]))[:10]}")
    try:
        s = pd.to_numeric(s, errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        bad = [i for i, v in s.items() if not _is_number(v)][:10]
        raise InputError(f"{name}: non-numeric score(s) at item(s) {bad}") from exc
    return s


def _is_number(v: Any) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _check_scale(s: pd.Series, scale: tuple[float, float] | None, name: str) -> None:
    if scale is None:
        return
    lo, hi = scale
    bad = s[(s < lo) | (s > hi)]
    if len(bad):
        ex = ", ".join(f"{i!r}={v:g}" for i, v in bad.head(10).items())
        raise InputError(f"{name}: {len(bad)} score(s) outside the declared scale {lo:g}..{hi:g}: {ex}")


def pair(a: pd.Series, b: pd.Series, *, scale: tuple[float, float] | None = None,
         levels: str | Sequence[float] = "auto", names: tuple[str, str] = ("a", "b")) -> _Pair:
    """Pair two id-indexed score series and choose the kappa categories."""
    a = _as_series(a, names[0])
    b = _as_series(b, names[1])
    _check_scale(a, scale, names[0])
    _check_scale(b, scale, names[1])
    union = a.index.union(b.index)
    aa = a.reindex(union)
    bb = b.reindex(union)
    both = aa.notna() & bb.notna()
    items = union[both]
    x = aa[both].to_numpy(float)
    y = bb[both].to_numpy(float)
    only_a = list(union[aa.notna() & bb.isna()])
    only_b = list(union[aa.isna() & bb.notna()])
    neither = list(union[aa.isna() & bb.isna()])
    if len(items) == 0:
        raise InputError(f"{names[0]} and {names[1]} share no rated item id: e.g. {list(a.index[:3])} vs "
                         f"{list(b.index[:3])} (unknown ids?)")
    if len(items) < 2:
        raise InputError(f"only one item ({items[0]!r}) is rated by both {names[0]} and {names[1]}: "
                         "agreement needs at least two")
    observed = np.unique(np.r_[x, y])
    if len(observed) < 2:
        raise InputError(f"all {len(items)} paired items have the single score {observed[0]:g} from both "
                         f"{names[0]} and {names[1]}: agreement is undefined with one rated category")
    if isinstance(levels, str):
        decl = integer_levels(*scale) if scale is not None else None
        if levels == "auto":
            if decl is not None and np.isin(observed, decl).all():
                lv, pos, rule = decl, decl - decl[0], "declared scale levels"
            else:
                lv, pos, rule = observed, observed, "observed values, weights on the values"
        elif levels == "scale":
            if decl is None:
                raise InputError("levels='scale' needs an integer declared scale (scale=(lo, hi))")
            off = ~np.isin(np.r_[x, y], decl)
            if off.any():
                bad_items = list(np.r_[items, items][off][:10])
                raise InputError(f"levels='scale': non-integer scores at item(s) {bad_items}")
            lv, pos, rule = decl, decl - decl[0], "declared scale levels"
        elif levels == "observed":
            lv, pos, rule = observed, np.arange(len(observed), dtype=float), "observed values, weights on their ranks (sklearn default)"
        else:
            raise InputError(f"levels must be 'auto', 'scale', 'observed' or a sequence, not {levels!r}")
    else:
        lv = np.asarray(sorted(float(v) for v in levels))
        missing = sorted(set(observed) - set(lv))
        if missing:
            raise InputError(f"scores {missing} are not among the given levels {list(lv)}")
        pos, rule = np.arange(len(lv), dtype=float), "given levels, weights on their ranks"
    return _Pair(np.asarray(items, dtype=object), x, y, lv, pos, rule, len(union), only_a, only_b, neither)


def _point(p: _Pair) -> tuple[dict[str, float], np.ndarray, dict[str, dict]]:
    """Point estimates (scipy for correlations), the confusion matrix and FCE extras for kappas."""
    from scipy import stats

    cx, kx, cy, ky, ca, cb, kk = p.codes()
    C = S.confusion(np.ones((1, p.n)), ca, cb, kk)
    est = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        est["kappa"] = float(S.kappa_from_confusion(C, p.positions, None)[0])
        est["kappa_linear"] = float(S.kappa_from_confusion(C, p.positions, "linear")[0])
        est["kappa_quadratic"] = float(S.kappa_from_confusion(C, p.positions, "quadratic")[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est["spearman"] = float(stats.spearmanr(p.x, p.y).statistic)
        est["kendall_tau_b"] = float(stats.kendalltau(p.x, p.y).statistic)
        est["pearson"] = float(stats.pearsonr(p.x, p.y).statistic) if p.x.std() > 0 and p.y.std() > 0 else float("nan")
    d = p.x - p.y
    est["exact_accuracy"] = float(np.mean(d == 0))
    est["within_one_accuracy"] = float(np.mean(np.abs(d) <= 1))
    est["mae"] = float(np.mean(np.abs(d)))
    est["bias"] = float(np.mean(d))
    extras = {}
    from scipy.stats import norm

    for name, w in (("kappa", None), ("kappa_linear", "linear"), ("kappa_quadratic", "quadratic")):
        with np.errstate(divide="ignore", invalid="ignore"):
            se, z = S.kappa_fce(C[0], p.positions, w)
        extras[name] = {"se_fce": se, "z": z, "p_value": float(2 * norm.sf(abs(z))) if math.isfinite(z) else float("nan")}
    return est, C[0], extras


def _pair_boot(p: _Pair):
    cx, kx, cy, ky, ca, cb, kk = p.codes()
    return lambda W: S.pairwise_boot(W, p.x, p.y, cx, cy, kx, ky, ca, cb, kk, p.positions)


# ------------------------------------------------------------------ reports

@dataclass
class AgreementReport(ReportMixin):
    """Agreement of rater (or group) ``a`` with ``b``: every figure with a bootstrap CI."""

    a: str
    b: str
    figures: list[Figure]
    confusion: list[list[int]]
    levels: list[float]
    levels_rule: str
    n_items: int
    n_missing: int
    missing: dict[str, Any]
    context: dict[str, Any]
    settings: dict[str, Any]
    boot: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([f.to_dict() for f in self.figures]).set_index("name")

    def confusion_frame(self) -> pd.DataFrame:
        lab = [f"{v:g}" for v in self.levels]
        return pd.DataFrame(self.confusion, index=pd.Index(lab, name=self.a), columns=pd.Index(lab, name=self.b))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "agreement", "a": self.a, "b": self.b, "context": self.context,
            "n_items": self.n_items, "n_missing": self.n_missing, "missing": self.missing,
            "figures": {f.name: f.to_dict() for f in self.figures},
            "confusion": {"levels": self.levels, "rows": self.a, "columns": self.b, "counts": self.confusion},
            "levels_rule": self.levels_rule, "settings": self.settings,
        }

    def _lines(self) -> list[str]:
        c = self.context
        head = f"Agreement of {self.a} with {self.b}"
        lines = [head, "=" * len(head)]
        where = []
        if c.get("framework"):
            where.append(f"framework {c['framework']}")
        if c.get("dimension"):
            where.append(f"dimension {c['dimension']}")
        if c.get("scale"):
            where.append(f"scale {c['scale'][0]:g}-{c['scale'][1]:g}")
        if where:
            lines.append(", ".join(where))
        for side, key in ((self.a, "a_raters"), (self.b, "b_raters")):
            if len(c.get(key) or []) > 1:
                lines.append(f"{side} = {c['aggregate']} of {', '.join(c[key])} per item")
        lines.append(f"items paired by id: {self.n_items}; missing: {self.n_missing} "
                     f"(only {self.a}: {len(self.missing['only_a'])}, only {self.b}: {len(self.missing['only_b'])}, "
                     f"neither: {len(self.missing['neither'])})")
        s = self.settings
        lines.append(f"{s['n_boot']} bootstrap resamples of items, seed {s['seed']}, {s['ci_method']} intervals")
        lines.append("")
        lines += figure_table(self.figures, level=s["ci"], show_n=False)
        q = self["kappa_quadratic"].extra
        lines.append(f"  (quadratic kappa: Fleiss-Cohen-Everitt SE {fmt(q.get('se_fce'))}, z {fmt(q.get('z'), 2)}, "
                     f"{p_value(q.get('p_value'))}; kappa categories: {self.levels_rule})")
        lines.append("")
        lines.append(f"confusion matrix (rows {self.a}, columns {self.b}):")
        lines += ["  " + line for line in self.confusion_frame().to_string().splitlines()]
        return lines


def _figures(est, boots, p: _Pair, settings, extras=None) -> list[Figure]:
    out = []
    for name in PAIR_STATS:
        lo, hi, und = S.interval(boots[name], est[name], settings["ci"], settings["ci_method"]) if boots else (math.nan, math.nan, 0)
        out.append(Figure(name, est[name], lo, hi, p.n, p.n_missing, und, dict((extras or {}).get(name, {}))))
    return out


def _settings(n_bootstrap: int, seed: int, confidence: float, ci_method: str) -> dict[str, Any]:
    """The report's settings; its keys (``n_boot``, ``ci``) are the output
    format and keep their names (they hold ``n_bootstrap`` and ``confidence``)."""
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, not {confidence!r}")
    if ci_method not in ("percentile", "basic"):
        raise InputError(f"ci_method must be 'percentile' or 'basic', not {ci_method!r}")
    if n_bootstrap < 0:
        raise InputError("n_bootstrap must be >= 0")
    return {"n_boot": int(n_bootstrap), "seed": int(seed), "ci": float(confidence), "ci_method": ci_method,
            "resampling": "items (cases), with replacement"}


def _side(table: pd.DataFrame, spec, how: str) -> tuple[pd.Series, str, list[str]]:
    raters = resolve_raters(table, spec)
    w = wide(table, raters)
    if len(raters) == 1:
        return w[raters[0]], raters[0], raters
    label = spec if isinstance(spec, str) else "+".join(raters)
    return _aggregate(w, how), f"{label} ({how} of {len(raters)})", raters


@renamed(n_boot="n_bootstrap", ci="confidence")
def agreement(data: Any, other: Any = None, *, a: Any = None, b: Any = None,
              framework: str | None = None, dimension: str | None = None,
              scale: tuple[float, float] | None = None, levels: str | Sequence[float] = "auto",
              aggregate: str = "median", n_bootstrap: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED,
              confidence: float = 0.95, ci_method: str = "percentile") -> AgreementReport:
    """Agreement of ``a`` with ``b`` (judge first, human second: bias is a minus b).

    Either two id-indexed Series (``agreement(judge, human, scale=(1, 5))``)
    or a tidy rating table with ``a=`` / ``b=`` naming a rater, a rater kind
    ('expert', 'llm', ...) or a list of raters; a group is aggregated per
    item (median by default).  Kappa categories (``levels``): 'auto' uses the
    declared integer scale when every score is on it, else the observed
    values; 'observed' weights the observed values by rank, like sklearn's
    default and Kumar et al.

    ``n_bootstrap`` item resamples give each figure a ``confidence`` interval
    (``n_boot=`` and ``ci=`` are deprecated old names).
    """
    settings = _settings(n_bootstrap, seed, confidence, ci_method)
    context: dict[str, Any] = {}
    if isinstance(data, pd.DataFrame) and "rater" in data.columns:
        if other is not None:
            raise InputError("with a rating table, name the raters with a=... and b=...")
        if a is None or b is None:
            raise InputError("agreement(table, a=..., b=...): name both sides (rater, rater kind or list)")
        t = select(validate_table(data), framework=framework, dimension=dimension)
        sa, na, ra = _side(t, a, aggregate)
        sb, nb, rb = _side(t, b, aggregate)
        if set(ra) & set(rb):
            raise InputError(f"a and b share rater(s) {sorted(set(ra) & set(rb))}")
        scale = scale or scale_of(t)
        context = {"framework": t["framework"].iloc[0], "dimension": t["dimension"].iloc[0],
                   "scale": list(scale) if scale else None, "a_raters": ra, "b_raters": rb,
                   "aggregate": aggregate if len(ra) > 1 or len(rb) > 1 else None}
    else:
        if other is None:
            raise InputError("agreement needs two id-indexed Series, or a rating table with a= and b=")
        sa = _as_series(data, "a")
        sb = _as_series(other, "b")
        na = a or (str(data.name) if isinstance(data, pd.Series) and data.name is not None else "a")
        nb = b or (str(other.name) if isinstance(other, pd.Series) and other.name is not None else "b")
        context = {"scale": list(scale) if scale else None}
    p = pair(sa, sb, scale=scale, levels=levels, names=(na, nb))
    est, C, extras = _point(p)
    boots = S.run_bootstrap(p.n, n_bootstrap, seed, _pair_boot(p)) if n_bootstrap else {}
    figures = _figures(est, boots, p, settings, extras)
    missing = {"only_a": p.only_a, "only_b": p.only_b, "neither": p.neither}
    return AgreementReport(na, nb, figures, C.astype(int).tolist(), [float(v) for v in p.levels], p.levels_rule,
                           p.n, p.n_missing, missing, context, settings, boots)


# ------------------------------------------------------------------ panel

@dataclass
class PanelReport(ReportMixin):
    """Inter-rater agreement of a panel: Fleiss' kappa, Krippendorff's alpha, pairwise kappas."""

    raters: list[str]
    figures: list[Figure]
    pairwise: list[dict[str, Any]]
    n_items: int
    context: dict[str, Any]
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    boot: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "panel", "raters": self.raters, "context": self.context, "n_items": self.n_items,
                "figures": {f.name: f.to_dict() for f in self.figures},
                "pairwise": [{**r, "kappa_quadratic": r["kappa_quadratic"].to_dict()} for r in self.pairwise],
                "notes": self.notes, "settings": self.settings}

    def _lines(self) -> list[str]:
        head = f"Panel agreement of {len(self.raters)} raters"
        lines = [head, "=" * len(head)]
        where = ", ".join(f"{k} {v}" for k, v in self.context.items() if k in ("framework", "dimension", "scale") and v)
        if where:
            lines.append(where)
        lines.append("raters: " + ", ".join(self.raters[:12]) + (" ..." if len(self.raters) > 12 else ""))
        lines.append(f"items rated by anyone: {self.n_items}")
        lines.append("")
        lines += figure_table(self.figures, level=self.settings["ci"])
        if self.pairwise:
            lines.append("")
            lines.append("pairwise quadratic kappa:")
            for r in self.pairwise:
                f = r["kappa_quadratic"]
                lines.append(f"  {r['a']:>12} ~ {r['b']:<12} {fmt(f.estimate)}  [{fmt(f.ci_low)}, {fmt(f.ci_high)}]  n={f.n_items}")
        lines += [f"note: {n}" for n in self.notes]
        return lines


def _panel_matrix(data: Any, raters, framework, dimension):
    if isinstance(data, pd.DataFrame) and "rater" in data.columns:
        t = select(validate_table(data), framework=framework, dimension=dimension)
        names = resolve_raters(t, raters if raters is not None else list(dict.fromkeys(t["rater"])))
        w = wide(t, names)
        sc = scale_of(t)
        ctx = {"framework": t["framework"].iloc[0], "dimension": t["dimension"].iloc[0], "scale": list(sc) if sc else None}
        return w, ctx
    if isinstance(data, pd.DataFrame):
        w = data.copy()
        w.index = w.index.map(str)
        if w.index.duplicated().any():
            raise InputError(f"panel matrix: repeated item id(s) {sorted(set(w.index[w.index.duplicated()]))[:10]}")
        w.columns = [str(c) for c in w.columns]
        return w.apply(pd.to_numeric, errors="raise").astype(float), {}
    raise InputError("panel_agreement needs a rating table or an items x raters DataFrame")


@renamed(n_boot="n_bootstrap", ci="confidence")
def panel_agreement(data: Any, raters: Any = None, *, framework: str | None = None, dimension: str | None = None,
                    pairwise: bool | None = None, n_bootstrap: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED,
                    confidence: float = 0.95, ci_method: str = "percentile") -> PanelReport:
    """Agreement within a panel: Fleiss' kappa (items rated by every rater), Krippendorff's
    alpha nominal / ordinal / interval (missing ratings allowed) and pairwise quadratic kappas.

    ``n_bootstrap`` item resamples give each figure a ``confidence`` interval
    (``n_boot=`` and ``ci=`` are deprecated old names).
    """
    import krippendorff

    settings = _settings(n_bootstrap, seed, confidence, ci_method)
    w, ctx = _panel_matrix(data, raters, framework, dimension)
    names = list(w.columns)
    if len(names) < 2:
        raise InputError(f"panel agreement needs at least two raters, got {names}")
    w = w[w.notna().any(axis=1)]
    V = w.to_numpy(float)
    levels = np.unique(V[~np.isnan(V)])
    if len(levels) < 2:
        raise InputError(f"every rating in the panel is {levels[0]:g}: agreement is undefined with one rated category")
    notes = []
    figures = []
    complete = ~np.isnan(V).any(axis=1)
    n_all = len(V)
    # Fleiss: complete items only
    Vc = V[complete]
    if len(Vc) >= 2:
        counts = S.fleiss_counts(Vc, levels)
        est = float(S.fleiss_kappa(np.ones((1, len(Vc))), counts)[0])
        boots = S.run_bootstrap(len(Vc), n_bootstrap, seed, lambda W: {"f": S.fleiss_kappa(W, counts)}) if n_bootstrap else {"f": np.array([])}
        lo, hi, und = S.interval(boots["f"], est, confidence, ci_method)
        figures.append(Figure("fleiss_kappa", est, lo, hi, len(Vc), n_all - len(Vc), und))
    else:
        notes.append("Fleiss' kappa needs at least two items rated by every rater")
    if not complete.all():
        notes.append(f"{n_all - int(complete.sum())} of {n_all} items lack a rating from some rater: "
                     "Fleiss' kappa uses complete items only, alpha uses every pairable rating")
    o_items, pairable = S.coincidence_per_item(V, levels)
    n_pair = int(pairable.sum())
    o_p = o_items[pairable]
    kinds = ["nominal", "ordinal", "interval"]
    boots = S.run_bootstrap(n_pair, n_bootstrap, seed, lambda W: {k: S.alpha(W, o_p, levels, k) for k in kinds}) if n_bootstrap else {}
    for k in kinds:
        est = float(krippendorff.alpha(reliability_data=V.T, level_of_measurement=k, value_domain=levels))
        lo, hi, und = S.interval(boots[k], est, confidence, ci_method) if boots else (math.nan, math.nan, 0)
        figures.append(Figure(f"alpha_{k}", est, lo, hi, n_pair, n_all - n_pair, und))
    pw = []
    if pairwise is None:
        pairwise = len(names) <= 8
    if pairwise:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                try:
                    r = agreement(w[names[i]], w[names[j]], a=names[i], b=names[j],
                                  scale=tuple(ctx["scale"]) if ctx.get("scale") else None,
                                  n_bootstrap=n_bootstrap, seed=seed, confidence=confidence, ci_method=ci_method)
                except InputError as exc:
                    notes.append(f"{names[i]} ~ {names[j]}: {exc}")
                    continue
                pw.append({"a": names[i], "b": names[j], "kappa_quadratic": r["kappa_quadratic"]})
    return PanelReport(names, figures, pw, n_all, ctx, settings, notes)
