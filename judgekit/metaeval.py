"""``meta_eval``: how far can your judge be trusted?  Rate any judge model
against the released human ratings, with the human ceiling beside it.

The released items of a rating set (``judgekit.human.judge_items``) are
judged with the matching built-in rubric on your model (cached, resumable,
budgeted: the judge engine), the judge's scores join the released ratings
by item id as one more rater, and every rated dimension gets, for your
judge and for the released LLM raters alike (one code path, so the rows of
the evaluator leaderboard compare):

- agreement with the human aggregate (median of the humans): quadratic
  kappa, Spearman, exact and within-one accuracy, MAE, bias, bootstrap CIs;
- the human-ceiling verdict: each human against the others (leave-one-out)
  beside the judge against the same references, on the same items and the
  same resamples (below ``<``, indistinguishable ``=``, above ``>``);
- k-fold calibrated agreement (before and after) and the fitted map;
- the share unscored and why; the score distribution beside the humans';
- length bias: Spearman of the scores with the response length, the
  judge's beside the humans', with CIs;
- tokens, cost and wall time.

It sits above the producers (judge and human), like ``evaluate``.
"""
from __future__ import annotations

import dataclasses
import html
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["meta_eval", "MetaEvalReport", "RaterFigures"]

_MARK = {"below": "<", "within": "=", "above": ">"}


@dataclass
class RaterFigures:
    """One rater (your judge or a released one) on one rated dimension."""

    rater: str
    framework: str
    dimension: str
    agreement: Any = None          # AgreementReport against the human aggregate
    ceiling: dict[str, Any] | None = None   # {"estimate", "ci", "humans", "humans_ci", "minus", "minus_ci", "verdict"}
    calibration: Any = None        # CalibrationReport, or None with a note
    n_items: int = 0
    n_unscored: int = 0
    unscored_reasons: dict[str, int] = field(default_factory=dict)
    distribution: dict[str, float] = field(default_factory=dict)
    length_bias: dict[str, float] | None = None
    self_consistency: float | None = None  # Krippendorff's ordinal alpha over the k samples of each item
    notes: list[str] = field(default_factory=list)

    def figure(self, name: str) -> float:
        return float(self.agreement[name].estimate) if self.agreement is not None else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "rater": self.rater, "framework": self.framework, "dimension": self.dimension,
            "n_items": self.n_items, "n_unscored": self.n_unscored, "unscored_reasons": self.unscored_reasons,
            "agreement": self.agreement.to_dict() if self.agreement is not None else None,
            "ceiling": self.ceiling,
            "calibration": (None if self.calibration is None else {
                "method": self.calibration.method, "k": self.calibration.k,
                "before": {f.name: f.to_dict() for f in self.calibration.before.figures},
                "after": {f.name: f.to_dict() for f in self.calibration.after.figures}}),
            "distribution": self.distribution, "length_bias": self.length_bias,
            "self_consistency": self.self_consistency, "notes": self.notes,
        }


@dataclass
class MetaEvalReport:
    """Your judge beside the humans (and the released judges), per dimension."""

    dataset: str
    judge: str
    signature: str
    humans: list[str]
    figures: list[RaterFigures]
    human_distribution: dict[tuple[str, str], dict[str, float]]
    human_length_bias: dict[tuple[str, str], dict[str, float]]
    usage: dict[str, Any]
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    simulated: bool = False
    table: Any = field(default=None, repr=False)  # the released ratings with the judge's as one more rater
    judges: list[str] = field(default_factory=list)           # every judge run, side by side (the first is ``judge``)
    signatures: dict[str, str] = field(default_factory=dict)  # per judge
    usages: dict[str, dict[str, Any]] = field(default_factory=dict)  # per judge

    def _who(self) -> str:
        return ", ".join(self.judges or [self.judge])

    @property
    def dimensions(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys((f.framework, f.dimension) for f in self.figures))

    @property
    def raters(self) -> list[str]:
        return list(dict.fromkeys(f.rater for f in self.figures))

    def get(self, rater: str, framework: str, dimension: str) -> RaterFigures:
        for f in self.figures:
            if (f.rater, f.framework, f.dimension) == (rater, framework, dimension):
                return f
        raise KeyError((rater, framework, dimension))

    def leaderboard(self) -> pd.DataFrame:
        """The evaluator leaderboard: one row per rater, computed by the same
        code for your judge and the released ones."""
        rows = []
        for r in self.raters:
            fs = [f for f in self.figures if f.rater == r]
            verdicts = Counter(f.ceiling["verdict"] for f in fs if f.ceiling and f.ceiling.get("verdict"))
            cal = [f.calibration.after["kappa_quadratic"].estimate for f in fs if f.calibration is not None]
            lb = [f.length_bias["rho"] for f in fs if f.length_bias]
            sc = [f.self_consistency for f in fs if f.self_consistency is not None]
            n = sum(f.n_items for f in fs)
            rows.append({
                "rater": r + (" (simulated)" if self.simulated and r in (self.judges or [self.judge]) else ""),
                "dimensions": len(fs),
                "qwk_mean": float(np.nanmean([f.figure("kappa_quadratic") for f in fs])) if fs else math.nan,
                "spearman_mean": float(np.nanmean([f.figure("spearman") for f in fs])) if fs else math.nan,
                "calibrated_qwk_mean": float(np.nanmean(cal)) if cal else math.nan,
                "below_ceiling": verdicts.get("below", 0), "at_ceiling": verdicts.get("within", 0),
                "above_ceiling": verdicts.get("above", 0),
                "unscored_share": (sum(f.n_unscored for f in fs) / n) if n else math.nan,
                "length_rho_mean": float(np.mean(lb)) if lb else math.nan,
                "self_consistency_mean": float(np.mean(sc)) if sc else math.nan,
            })
        return pd.DataFrame(rows).set_index("rater")

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per rater and rated dimension (your judge's and the
        released raters'), the card's figures as columns: quadratic kappa and
        Spearman with the human aggregate and their CIs, the ceiling estimate
        and verdict, calibrated kappa, the unscored count, length bias."""
        rows = []
        for f in self.figures:
            c = f.ceiling or {}
            lo, hi = _ci(f.agreement, "kappa_quadratic")
            slo, shi = _ci(f.agreement, "spearman")
            rows.append({
                "rater": f.rater, "framework": f.framework, "dimension": f.dimension, "n_items": f.n_items,
                "n_unscored": f.n_unscored, "qwk": f.figure("kappa_quadratic"), "qwk_ci_low": lo, "qwk_ci_high": hi,
                "spearman": f.figure("spearman"), "spearman_ci_low": slo, "spearman_ci_high": shi,
                "ceiling_qwk": c.get("estimate", math.nan), "ceiling_verdict": c.get("verdict"),
                "calibrated_qwk": (f.calibration.after["kappa_quadratic"].estimate if f.calibration is not None
                                   else math.nan),
                "length_rho": (f.length_bias or {}).get("rho", math.nan),
                "self_consistency": math.nan if f.self_consistency is None else f.self_consistency,
            })
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "meta_eval", "dataset": self.dataset, "judge": self.judge, "judges": self.judges,
                "signatures": self.signatures, "usages": self.usages, "signature": self.signature,
                "simulated": self.simulated, "humans": self.humans,
                "figures": [f.to_dict() for f in self.figures],
                "human_distribution": [{"framework": k[0], "dimension": k[1], "shares": v}
                                       for k, v in self.human_distribution.items()],
                "human_length_bias": [{"framework": k[0], "dimension": k[1], **v}
                                      for k, v in self.human_length_bias.items()],
                "leaderboard": json.loads(self.leaderboard().reset_index().to_json(orient="records")),
                "usage": self.usage, "settings": self.settings, "notes": self.notes}

    def to_json(self, **kw: Any) -> str:
        kw.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kw)

    # -- text ----------------------------------------------------------------
    def _card_rows(self) -> list[dict[str, Any]]:
        out = []
        for fw, dim in self.dimensions:
            row: dict[str, Any] = {"framework": fw, "dimension": dim}
            for f in self.figures:
                if (f.framework, f.dimension) != (fw, dim):
                    continue
                c = f.ceiling or {}
                if c and "humans" not in row:
                    row["humans"] = (c["humans"], c["humans_ci"])
                # beside a ceiling: against the same leave-one-out references as each human
                est, ci = (c["estimate"], tuple(c["ci"])) if c else (f.figure("kappa_quadratic"),
                                                                     _ci(f.agreement, "kappa_quadratic"))
                row[f.rater] = (est, ci, _MARK.get(c.get("verdict", ""), ""), f.n_items,
                                f.calibration.after["kappa_quadratic"].estimate if f.calibration is not None
                                else math.nan)
            out.append(row)
        return out

    def __str__(self) -> str:
        title = f"meta-eval: {self._who()} on {self.dataset}" + (" (SIMULATED judge)" if self.simulated else "")
        lines = [title, "=" * len(title),
                 f"quadratic kappa [{round(self.settings['confidence'] * 100)}% CI, {self.settings['n_bootstrap']} "
                 f"resamples] with the {self.settings['aggregate']} of the humans ({', '.join(self.humans)}); "
                 "where there are several, each human and each rater",
                 "against the other humans (leave-one-out, the same references and resamples: the human ceiling); "
                 "mark: < below, = indistinguishable, > above it",
                 ""]
        raters = self.raters
        w = 22
        hdr = f"{'framework / dimension':<44}{'humans':<{w}}" + "".join(f"{r[:w - 2]:<{w}}" for r in raters)
        lines += [hdr, "-" * len(hdr)]
        for row in self._card_rows():
            txt = f"{row['framework'] + ' / ' + row['dimension']:<44}"
            h = row.get("humans")
            txt += f"{_fmt_ci(*h):<{w}}" if h else f"{'(one human)':<{w}}"
            for r in raters:
                v = row.get(r)
                txt += f"{(_fmt_ci(v[0], v[1]) + ' ' + v[2]).strip():<{w}}" if v else f"{'':<{w}}"
            lines.append(txt.rstrip())
        lines += ["", "evaluator leaderboard (same code for every rater):"]
        lines += ["  " + ln for ln in self.leaderboard().round(3).to_string().splitlines()]
        lines.append("")
        for j in self.judges or [self.judge]:
            u = self.usages.get(j, self.usage)
            lines += [f"{j}: {u.get('n_items', 0)} items judged, {u.get('n_unscored', 0)} unscored; tokens "
                      f"{u.get('prompt_tokens', 0)}+{u.get('completion_tokens', 0)}, cost {u.get('cost', 0.0):.4f}, "
                      f"{u.get('seconds', 0.0):.1f} s", f"signature: {self.signatures.get(j, self.signature)}"]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        raters = self.raters
        out = [f"# meta-eval: {_md(self._who())} on {_md(self.dataset)}" + (" (simulated judge)" if self.simulated
                                                                          else ""), "",
               f"Quadratic-weighted kappa with the {self.settings['aggregate']} of the humans "
               f"({_md(', '.join(self.humans))}; {round(self.settings['confidence'] * 100)}% CI); with several "
               "humans, each human and each rater against the other humans (leave-one-out: the human "
               "ceiling); `<` `=` `>`: below, at, above it; cal: k-fold calibrated.", "",
               "| framework / dimension | humans | " + " | ".join(_md(r) for r in raters) + " |",
               "|---|---|" + "---|" * len(raters)]
        for row in self._card_rows():
            h = row.get("humans")
            cells = [f"{_md(row['framework'])} / {_md(row['dimension'])}", _fmt_ci(*h) if h else "(one human)"]
            for r in raters:
                v = row.get(r)
                cells.append(f"{_fmt_ci(v[0], v[1])} {v[2]}".strip() + (f" (cal {v[4]:.2f})" if v and v[4] == v[4]
                                                                       else "") if v else "")
            out.append("| " + " | ".join(cells) + " |")
        out += ["", "## Evaluator leaderboard", "", self.leaderboard().round(3).to_markdown()
                if _has_tabulate() else "```\n" + self.leaderboard().round(3).to_string() + "\n```", "",
                f"`{_md(self.signature)}`", ""]
        out += [f"- {_md(n)}" for n in self.notes]
        return "\n".join(out) + "\n"

    def to_html(self, title: str | None = None) -> str:
        """A self-contained card: the table, the leaderboard, and per
        dimension the judge's score distribution beside the humans'."""
        title = title or f"meta-eval: {self._who()} on {self.dataset}" + (" (simulated judge)" if self.simulated
                                                                         else "")
        e = html.escape
        raters = self.raters
        rows = []
        for row in self._card_rows():
            h = row.get("humans")
            cells = [f"<td>{e(row['framework'])} / {e(row['dimension'])}</td>",
                     f"<td>{e(_fmt_ci(*h)) if h else '(one human)'}</td>"]
            for r in raters:
                v = row.get(r)
                cls = {"<": "below", "=": "at", ">": "above"}.get(v[2], "") if v else ""
                cells.append(f'<td class="{cls}">{e(_fmt_ci(v[0], v[1]) + " " + v[2]) if v else ""}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        bars = []
        for fw, dim in self.dimensions:
            hd = self.human_distribution.get((fw, dim), {})
            mine = [(j, next((f.distribution for f in self.figures if (f.rater, f.framework, f.dimension)
                              == (j, fw, dim)), {})) for j in (self.judges or [self.judge])]
            levels = sorted(set(hd).union(*(set(d) for _, d in mine)), key=lambda x: float(x))
            blocks = []
            for who, d in [("humans", hd), *mine]:
                segs = "".join(f'<span class="seg l{i % 5}" style="width:{100 * d.get(lv, 0):.1f}%" '
                               f'title="{e(lv)}: {100 * d.get(lv, 0):.0f}%">{e(lv) if d.get(lv, 0) > .08 else ""}'
                               "</span>" for i, lv in enumerate(levels))
                blocks.append(f'<div class="bar"><span class="who">{e(who)}</span><span class="track">{segs}'
                              "</span></div>")
            bars.append(f"<div class=\"dist\"><h3>{e(fw)} / {e(dim)}</h3>{''.join(blocks)}</div>")
        lb = self.leaderboard().round(3)
        lb_html = lb.to_html(classes="lb", escape=True, na_rep="")
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        style = ("body{font-family:system-ui,'WenQuanYi Micro Hei',sans-serif;margin:24px;color:#222}"
                 "table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;"
                 "font-size:13px}th{background:#f3f3f3}.below{background:#fde2e1}.at{background:#eef7e8}"
                 ".above{background:#dbeafe}.dist{display:inline-block;width:360px;margin:8px 16px 8px 0}"
                 ".dist h3{font-size:13px;margin:4px 0}.bar{display:flex;align-items:center;margin:2px 0}"
                 ".who{width:110px;font-size:12px;overflow:hidden}.track{display:flex;width:240px;height:16px;"
                 "background:#eee}.seg{display:inline-block;height:16px;font-size:10px;text-align:center;"
                 "color:#fff;overflow:hidden}.l0{background:#b91c1c}.l1{background:#d97706}.l2{background:#65a30d}"
                 ".l3{background:#0891b2}.l4{background:#6d28d9}.sim{color:#b91c1c;font-weight:bold}")
        sim = '<p class="sim">Simulated judge: these figures do not describe a real model.</p>' if self.simulated \
            else ""
        head_cells = "".join(f"<th>{e(r)}</th>" for r in raters)
        return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{e(title)}</title><style>{style}</style>"
                f"</head><body><h1>{e(title)}</h1>{sim}<p>Quadratic-weighted kappa with the "
                f"{e(self.settings['aggregate'])} of {e(', '.join(self.humans))} "
                f"({round(self.settings['confidence'] * 100)}% CI). Cells: red below the human ceiling, green "
                "indistinguishable, blue above.</p>"
                f"<table><tr><th>framework / dimension</th><th>humans (leave-one-out)</th>{head_cells}</tr>"
                f"{''.join(rows)}</table><h2>Evaluator leaderboard</h2>{lb_html}"
                f"<h2>Score distributions</h2>{''.join(bars)}<p><code>{e(self.signature)}</code></p>"
                f"<ul>{notes}</ul></body></html>")

    def write(self, outdir: Any) -> list[str]:
        """``meta-eval.txt``, ``.json``, ``.md`` and ``.html`` in ``outdir``."""
        from pathlib import Path

        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        files = {"meta-eval.txt": str(self) + "\n", "meta-eval.json": self.to_json(indent=2),
                 "meta-eval.md": self.to_markdown(), "meta-eval.html": self.to_html()}
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
        return [str(out / n) for n in files]


def _self_consistency(values: list[list[Any]]) -> float | None:
    """Krippendorff's ordinal alpha with the k samples as raters and the
    items as units (a sample that was not read is missing)."""
    import krippendorff

    data = np.array([[math.nan if v is None else float(v) for v in item] for item in values], dtype=float).T
    if data.shape[0] < 2 or np.isfinite(data).sum() < 2 or len(set(data[np.isfinite(data)].tolist())) < 2:
        return None
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"))


def _verdict(lo: float, hi: float) -> str:
    """Below, within or above the human ceiling: the CI of judge minus humans."""
    if not math.isfinite(lo):
        return ""
    return "below" if hi < 0 else ("above" if lo > 0 else "within")


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def _md(s: str) -> str:
    return html.escape(str(s)).replace("|", "\\|")


def _ci(rep: Any, name: str) -> tuple[float, float]:
    if rep is None:
        return (math.nan, math.nan)
    f = rep[name]
    return (f.ci_low, f.ci_high)


def _fmt_ci(v: float, ci: Sequence[float]) -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    lo, hi = ci
    if math.isfinite(lo) and math.isfinite(hi):
        return f"{v:.2f} [{lo:.2f},{hi:.2f}]"
    return f"{v:.2f}"


def _shares(values: pd.Series) -> dict[str, float]:
    v = values.dropna()
    if not len(v):
        return {}
    counts = v.map(lambda x: f"{float(x):g}").value_counts()
    return {k: float(c / len(v)) for k, c in sorted(counts.items(), key=lambda kv: float(kv[0]))}


def _length_bias(scores: pd.Series, lengths: pd.Series, n_bootstrap: int, seed: int,
                 confidence: float) -> dict[str, float] | None:
    """Spearman of scores with response length, with a percentile CI over
    item resamples."""
    from scipy.stats import spearmanr

    both = pd.concat([scores.rename("s"), lengths.rename("n")], axis=1, join="inner").dropna()
    if len(both) < 3 or both["s"].nunique() < 2 or both["n"].nunique() < 2:
        return None
    s, n = both["s"].to_numpy(float), both["n"].to_numpy(float)
    rho = float(spearmanr(s, n).statistic)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_bootstrap):
        i = rng.integers(0, len(s), len(s))
        if np.ptp(s[i]) and np.ptp(n[i]):
            boots.append(spearmanr(s[i], n[i]).statistic)
    a = (1 - confidence) / 2
    lo, hi = (float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))) if boots else (math.nan, math.nan)
    return {"rho": rho, "ci_low": lo, "ci_high": hi, "n_items": int(len(s))}


def _dimension_map(rubric_dims: Sequence[str], table_dims: Any) -> dict[str, str]:
    """table dimension -> the rubric dimension that rates it: the same name,
    or the rubric's name ending in ``_<table name>`` (EPITOME's released
    ``emotional_reactions`` is the rubric's ``level_emotional_reactions``)."""
    out = {}
    for td in dict.fromkeys(table_dims):
        match = [d for d in rubric_dims if d == td] or [d for d in rubric_dims if d.endswith("_" + td)]
        if len(match) == 1:
            out[td] = match[0]
    return out


def _judge_rows(jr: Any, framework: str, dims: dict[str, str], table: pd.DataFrame, rater: str) -> pd.DataFrame:
    """The judge's scored values as rows of the tidy rating table."""
    df = jr.per_item
    scored = df[df["status"] == "scored"]
    rows = []
    for d, rd in dims.items():
        sub = table[(table["framework"] == framework) & (table["dimension"] == d)]
        lo, hi = float(sub["scale_min"].iloc[0]), float(sub["scale_max"].iloc[0])
        for item, v in zip(scored["id"].astype(str), scored[rd]):
            rows.append({"item": item, "framework": framework, "dimension": d, "rater": rater,
                         "rater_kind": "llm", "score": float(v), "scale_min": lo, "scale_max": hi})
    return pd.DataFrame(rows)


def meta_eval(dataset: str, judge: Any, *, framework: str | None = None, data_dir: Any = None,
              path: Any = None, humans: Any = None, references: Any = "llm", name: Any = None,
              aggregate: str = "median", calibration: str = "isotonic", k: int = 5, n_bootstrap: int = 1000,
              seed: int = 12345, confidence: float = 0.95, simulated: bool = False) -> MetaEvalReport:
    """Judge the released items of ``dataset`` with ``judge`` (a
    ``judgekit.judge.Judge``: model, base_url, cache, samples, budget...;
    its rubric is replaced by each framework's built-in rubric; or a list of
    them, side by side) and report how each judge agrees with the humans,
    beside the human ceiling and the released LLM raters (``references``: a
    rater, a kind or a list; None for none).  ``humans``: a rater, a kind or
    a list (default: the experts where a set has them, else its crowd
    raters).  ``name``: the judges' rater names (default ``judge:<model>``).
    ``simulated=True`` labels every output as coming from a simulated judge.
    """
    from .human import agreement, calibrate, human_ceiling, judge_items, load_ratings
    from .human import combine_raters, rater_matrix, resolve_raters

    judges = list(judge) if isinstance(judge, (list, tuple)) else [judge]
    names = ([name] if isinstance(name, str) else list(name)) if name is not None else \
        [f"judge:{j.model}" for j in judges]
    if len(names) != len(judges) or len(set(names)) != len(names):
        raise InputError(f"give each judge its own rater name: {names} (judges differing only in their settings "
                         "need name=[...])")
    opts = {"path": path} if path is not None else {}
    table = load_ratings(dataset, data_dir=data_dir, **opts)
    sets = judge_items(dataset, framework, data_dir=data_dir, path=path)
    if not sets:
        raise InputError(f"{dataset}: no released items to judge" + (f" for framework {framework!r}" if framework
                                                                      else ""))
    taken = [n for n in names if n in set(table["rater"])]
    if taken:
        raise InputError(f"rater name(s) {taken} are taken by the released ratings; pass name=...")
    notes: list[str] = []
    for s in sets:
        notes += list(s.notes)
    usage = {n: {"n_items": 0, "n_unscored": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0,
                 "seconds": 0.0} for n in names}
    judged: dict[str, Any] = {}
    extra_rows = []
    signatures: dict[str, str] = {}
    for s in sets:
        results = {}
        dims: dict[str, str] = {}
        for nm, jj in zip(names, judges):
            j = dataclasses.replace(jj, rubric=s.rubric)
            t0 = time.monotonic()
            jr = j.run(s.items)
            u = usage[nm]
            u["seconds"] += time.monotonic() - t0
            sm = jr.summary
            u["n_items"] += sm["n_items"]
            u["n_unscored"] += sm["n_unscored"]
            u["prompt_tokens"] += sm["tokens"]["prompt"]
            u["completion_tokens"] += sm["tokens"]["completion"]
            u["cost"] += sm["cost"]
            notes += [f"{nm} on {s.framework}: {n}" for n in sm.get("notes", [])]
            signatures[nm] = str(jr.signature.without("rubric"))
            dims = _dimension_map(jr.dimensions, table.loc[table["framework"] == s.framework, "dimension"])
            results[nm] = jr
            if dims:
                extra_rows.append(_judge_rows(jr, s.framework, dims, table, nm))
        judged[s.framework] = (s, results, dims)
    t2 = pd.concat([table, *extra_rows], ignore_index=True) if extra_rows else table
    t2.attrs = dict(table.attrs)
    figures: list[RaterFigures] = []
    human_dist: dict[tuple[str, str], dict[str, float]] = {}
    human_lb: dict[tuple[str, str], dict[str, float]] = {}
    kw = dict(n_bootstrap=n_bootstrap, seed=seed, confidence=confidence)
    humans_used: list[str] = []
    for fw, (s, results, dims) in judged.items():
        lengths = pd.Series({str(it["id"]): it.get("response_length", math.nan) for it in s.items}, dtype=float)
        per_items = {nm: jr.per_item.set_index(jr.per_item["id"].astype(str)) for nm, jr in results.items()}
        for d in dims:
            t = t2[(t2["framework"] == fw) & (t2["dimension"] == d)]
            kinds = set(t["rater_kind"])
            hs = resolve_raters(t, humans if humans is not None else
                                next((k for k in ("expert", "crowd", "self") if k in kinds), "expert"))
            humans_used += [h for h in hs if h not in humans_used]
            refs = [] if references is None else [r for r in resolve_raters(t, references) if r not in names]
            hw = rater_matrix(t, hs)
            hagg = combine_raters(hw, aggregate)
            hagg.index = hagg.index.astype(str)
            human_dist[(fw, d)] = _shares(hagg)
            lb = _length_bias(hagg, lengths, n_bootstrap, seed, confidence)
            if lb:
                human_lb[(fw, d)] = lb
            ceiling = None
            if len(hs) >= 2:
                try:
                    ceiling = human_ceiling(t2, judges=[*names, *refs], humans=hs, framework=fw, dimension=d,
                                            metrics=("kappa_quadratic",), aggregate=aggregate, **kw)
                except InputError as exc:
                    notes.append(f"{fw} / {d}: no human ceiling ({exc})")
            for rater in [*names, *refs]:
                f = RaterFigures(rater, fw, d)
                rs = t[t["rater"] == rater].set_index(t.loc[t["rater"] == rater, "item"].astype(str))["score"]
                mine = rater in results
                f.n_items = len(s.items) if mine else int(hagg.notna().sum())
                if mine and results[rater].sample_values.get(dims[d]):
                    f.self_consistency = _self_consistency(results[rater].sample_values[dims[d]])
                if mine:
                    per_item = per_items[rater]
                    st = per_item["status"]
                    f.n_unscored = int((st != "scored").sum())
                    f.unscored_reasons = dict(Counter(str(r).split(":")[0] for r in per_item.loc[st != "scored",
                                                                                                  "reason"]))
                else:
                    f.n_unscored = int(hagg.index.difference(rs.index).size)
                f.distribution = _shares(rs)
                f.length_bias = _length_bias(rs, lengths, n_bootstrap, seed, confidence)
                try:
                    f.agreement = agreement(t2, a=rater, b=hs, framework=fw, dimension=d, aggregate=aggregate, **kw)
                except InputError as exc:
                    f.notes.append(f"no agreement: {exc}")
                if ceiling is not None:
                    row = next((r for r in ceiling.rows if r["rater"] == rater), None)
                    hrow = next(r for r in ceiling.rows if r["kind"] == "human")
                    if row is not None and "minus_human" in row:
                        m, dm, hm = row["mean"], row["minus_human"], hrow["mean"]
                        f.ceiling = {"estimate": m.estimate, "ci": [m.ci_low, m.ci_high], "humans": hm.estimate,
                                     "humans_ci": [hm.ci_low, hm.ci_high], "minus": dm.estimate,
                                     "minus_ci": [dm.ci_low, dm.ci_high], "verdict": _verdict(dm.ci_low, dm.ci_high),
                                     "n_items": ceiling.n_items}
                try:
                    scale = (float(t["scale_min"].iloc[0]), float(t["scale_max"].iloc[0]))
                    f.calibration = calibrate(rs.rename(rater), hagg.rename("humans"), calibration, k=k,
                                              scale=scale, **kw)
                except InputError as exc:
                    f.notes.append(f"no calibration: {exc}")
                figures.append(f)
    settings = {"aggregate": aggregate, "calibration": calibration, "k": k, "n_bootstrap": n_bootstrap, "seed": seed,
                "confidence": confidence, "references": references, "humans": humans}
    return MetaEvalReport(dataset, names[0], signatures[names[0]], humans_used, figures, human_dist, human_lb,
                          usage[names[0]], settings, list(dict.fromkeys(notes)), simulated, t2, names,
                          signatures, usage)
