"""Leaderboards: several systems' outputs for the same items, scored with
one signature, with bootstrap confidence intervals and paired significance
tests against a baseline chosen by the user, for every n-gram metric and
every judge dimension.

Items are paired by id: a system that lacks an item of the references (or
has one they lack) is an error naming the ids; nothing is dropped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..errors import InputError
from .significance import DEFAULT_SEED, PairedTest

__all__ = ["Leaderboard", "leaderboard", "DEFAULT_COLUMNS", "LEVEL_LABELS"]

DEFAULT_COLUMNS = ("bleu-1", "bleu-2", "bleu-3", "bleu-4", "rouge-1", "rouge-2", "rouge-l", "distinct-1", "distinct-2")
LEVEL_LABELS = ("Bad", "Okay", "Good")  # a 3-level judge or rating, 0/1/2
_JUDGE_META = {"id", "status", "reason", "raw", "prompt_tokens", "completion_tokens", "cached"}


@dataclass
class Leaderboard:
    """Scores of several systems on the same items.

    ``scores``: DataFrame, one row per system, one column per metric (n-gram
    metrics then judge dimensions as ``judge:<dim>``); ``ci``: (system,
    metric) -> (lower, upper) bootstrap interval; ``tests``: (system, metric)
    -> {"bs": PairedTest, "ar": PairedTest} against ``baseline``;
    ``signatures``: what produced the numbers (the n-gram signature, each
    judge's signature, the test settings)."""

    systems: list[str]
    baseline: str
    columns: list[str]
    scores: Any
    ci: dict[tuple[str, str], tuple[float, float]]
    tests: dict[tuple[str, str], dict[str, PairedTest]]
    signatures: dict[str, str]
    n_items: int
    alpha: float = 0.05
    judge_dims: list[str] = field(default_factory=list)
    judge_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # system -> scored/unscored
    levels: dict[str, Any] = field(default_factory=dict)  # dim -> DataFrame systems x Bad/Okay/Good shares
    emotions: Any = None  # DataFrame systems x emotions (mean of ``emotion_metric``) or None
    emotion_metric: str | None = None
    examples: Any = None  # DataFrame: id, reference, one column per system
    per_item: dict[str, Any] = field(default_factory=dict)  # system -> DataFrame indexed by id
    notes: list[str] = field(default_factory=list)

    def significant(self, system: str, metric: str) -> bool | None:
        """True when every test run finds ``system`` different from the
        baseline on ``metric`` (p < alpha); None for the baseline."""
        t = self.tests.get((system, metric))
        if not t:
            return None
        return all(x.p_value < self.alpha for x in t.values())

    def to_frame(self) -> Any:
        """Long table: one row per (system, metric) with value, CI, delta
        versus the baseline, p-values and the significance mark."""
        import pandas as pd

        rows = []
        for s in self.systems:
            for m in self.scores.columns:
                v = self.scores.at[s, m]
                lo, hi = self.ci.get((s, m), (math.nan, math.nan))
                t = self.tests.get((s, m), {})
                rows.append({
                    "system": s, "metric": m, "value": v, "ci_low": lo, "ci_high": hi,
                    "baseline": self.baseline,
                    "delta": (v - self.scores.at[self.baseline, m]) if s != self.baseline else 0.0,
                    "p_bs": t["bs"].p_value if "bs" in t else math.nan,
                    "p_ar": t["ar"].p_value if "ar" in t else math.nan,
                    "significant": bool(self.significant(s, m)) if t else False,
                })
        return pd.DataFrame(rows)

    def to_csv(self, path: Any = None) -> str | None:
        frame = self.to_frame()
        if path is None:
            return frame.to_csv(index=False)
        frame.to_csv(path, index=False)
        return None

    def to_markdown(self) -> str:
        from ._render import markdown

        return markdown(self)

    def to_html(self, *, plots: bool | None = None, title: str = "judgekit leaderboard") -> str:
        """A self-contained page (no external URL): sortable table, escaped
        outputs, plots inlined as PNG when matplotlib is installed (``plots``
        None) or required (True)."""
        from ._html import html_page

        return html_page(self, plots=plots, title=title)

    def plot(self, outdir: Any) -> list[str]:
        """Write the plots as PNG files; needs matplotlib (``pip install judgekit[plot]``)."""
        from ._plots import write_plots

        return write_plots(self, outdir)

    def write(self, outdir: Any, formats: Sequence[str] = ("md", "csv", "html", "png"), *,
              title: str = "judgekit leaderboard") -> list[str]:
        """Write ``leaderboard.md``, ``.csv``, ``.html`` and the plots to ``outdir``."""
        from pathlib import Path

        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        unknown = set(formats) - {"md", "csv", "html", "png"}
        if unknown:
            raise InputError(f"unknown format(s) {', '.join(sorted(unknown))}; choose from md, csv, html, png")
        written = []
        if "md" in formats:
            (out / "leaderboard.md").write_text(self.to_markdown(), encoding="utf-8")
            written.append(str(out / "leaderboard.md"))
        if "csv" in formats:
            self.to_csv(out / "leaderboard.csv")
            written.append(str(out / "leaderboard.csv"))
        if "html" in formats:
            (out / "leaderboard.html").write_text(self.to_html(plots=True if "png" in formats else None,
                                                               title=title),
                                                  encoding="utf-8")
            written.append(str(out / "leaderboard.html"))
        if "png" in formats:
            written += self.plot(out)
        return written


# --- input alignment ---

def _keyed(x: Any, what: str, ids: list | None) -> dict:
    """id -> value; sequences are keyed by position."""
    if hasattr(x, "to_dict") and hasattr(x, "index") and not hasattr(x, "columns"):  # Series
        x = x.to_dict()
    if isinstance(x, Mapping):
        return dict(x)
    if isinstance(x, (str, bytes)):
        raise InputError(f"{what} is a single string; give a sequence or a mapping id -> text")
    try:
        seq = list(x)
    except TypeError:
        raise InputError(f"{what} is {type(x).__name__}; give a sequence or a mapping id -> text") from None
    if ids is not None and any(not isinstance(i, int) for i in ids):
        raise InputError(f"{what} is a sequence but the references are keyed by id; give a mapping id -> text")
    return dict(enumerate(seq))


def _show(ids: Sequence[Any], limit: int = 10) -> str:
    ids = list(ids)
    return ", ".join(repr(i) for i in ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _align(name: str, got: dict, ids: list, what: str) -> list:
    have = set(got)
    want = set(ids)
    missing = [i for i in ids if i not in have]
    extra = [i for i in got if i not in want]
    if missing:
        raise InputError(f"{what} {name!r} lacks {len(missing)} of the {len(ids)} item(s): {_show(missing)}")
    if extra:
        raise InputError(f"{what} {name!r} has {len(extra)} item(s) that the references do not: {_show(extra)}")
    return [got[i] for i in ids]


def _judge_frame(x: Any, system: str) -> tuple[Any, str | None]:
    """(DataFrame with id as str, status, dims; signature or None) from a
    JudgeResult, a DataFrame, or a JSONL path written by ``judgekit judge``."""
    import pandas as pd

    signature = None
    if hasattr(x, "per_item") and hasattr(x, "summary"):
        signature = str(x.signature)
        x = x.per_item
    if isinstance(x, (str, bytes)) or hasattr(x, "__fspath__"):
        from .._io import iter_records

        rows = []
        for where, rec in iter_records(x):
            for key in ("id", "status"):
                if key not in rec:
                    raise InputError(f"{where}: judge result row without {key!r} (expected the output of "
                                     "`judgekit judge --output`)")
            rows.append(rec)
        x = pd.DataFrame(rows)
    if not hasattr(x, "columns"):
        raise InputError(f"judge results for {system!r}: expected a JudgeResult, a DataFrame or a JSONL path")
    for key in ("id", "status"):
        if key not in x.columns:
            raise InputError(f"judge results for {system!r} have no {key!r} column")
    frame = x.copy()
    frame["id"] = frame["id"].map(str)
    dup = frame["id"][frame["id"].duplicated()].tolist()
    if dup:
        raise InputError(f"judge results for {system!r} repeat id(s) {_show(dup)}")
    bad = sorted(set(frame["status"]) - {"scored", "unscored"})
    if bad:
        raise InputError(f"judge results for {system!r}: unknown status value(s) {bad}; expected scored/unscored")
    return frame.set_index("id"), signature


def _judge_dims(frame: Any) -> list[str]:
    # "<dim>_sd" (several samples) and "<dim>_expected" (logprobs) describe a dimension
    return [c for c in frame.columns if c not in _JUDGE_META and not str(c).endswith(("_sd", "_expected"))]


def _rubric_scales(signatures: Any) -> dict[str, tuple]:
    """dimension -> scale values of the rubrics named in judge signatures
    (``rubric:ID@VERSION``), when that built-in rubric and version load."""
    import re

    out: dict[str, tuple] = {}
    for sig in signatures:
        m = re.search(r"rubric:([^@|]+)@(\d+)", sig or "")
        if not m:
            continue
        try:
            from ..judge import load_rubric

            rubric = load_rubric(m.group(1))
        except Exception:  # a user rubric file not at hand: fall back to the observed values
            continue
        if str(rubric.version) != m.group(2):
            continue
        for d in rubric.dimensions:
            out[d.name] = tuple(s.value for s in d.scale)
    return out


def _level_values(dim: str, observed: set, given: dict, rubric_scales: dict) -> tuple | None:
    if dim in given:
        return given[dim]
    if dim in rubric_scales:
        return rubric_scales[dim] if len(rubric_scales[dim]) == 3 else None
    if observed and observed <= {0.0, 1.0, 2.0} and 0.0 in observed:
        return (0, 1, 2)
    if observed and observed <= {1.0, 2.0, 3.0} and 3.0 in observed:
        return (1, 2, 3)
    return None


# --- the build ---

def leaderboard(
    systems: Mapping[str, Any],
    refs: Any,
    *,
    baseline: str | None = None,
    judges: Mapping[str, Any] | None = None,
    emotions: Any = None,
    emotion_metric: str | None = None,
    levels: Mapping[str, Sequence[float]] | None = None,
    tests: Sequence[str] = ("bs", "ar"),
    n_bootstrap: int = 1000,
    n_randomization: int = 10000,
    seed: int | None = DEFAULT_SEED,
    alpha: float = 0.05,
    columns: Sequence[str] | None = None,
    n_examples: int = 5,
    progress: bool = False,
    **evaluate_options: Any,
) -> Leaderboard:
    """Score every system against ``refs`` with one signature and compare
    each with ``baseline`` (default: the first system).

    ``systems``: name -> predictions (a mapping id -> text, or a sequence in
    the order of ``refs``); ``refs``: mapping id -> reference(s) or a
    sequence; ``judges``: name -> judge results for that system (a
    ``JudgeResult``, its ``per_item`` DataFrame, or a JSONL file from
    ``judgekit judge --output``), ids matching the references';
    ``emotions``: id -> emotion label, for the per-emotion table and heatmap
    of ``emotion_metric`` (default: the first judge dimension, else
    ``rouge-l``).  ``levels``: judge dimension -> its three values meaning
    Bad, Okay, Good, for the stacked bars (default: the rubric's scale when
    a JudgeResult names a three-level built-in rubric, else values seen
    within 0/1/2 including 0, or within 1/2/3 including 3).  ``tests``: any of ``bs`` (paired bootstrap,
    ``n_bootstrap`` resamples) and ``ar`` (approximate randomization,
    ``n_randomization`` trials); a system is marked when every test gives
    p < ``alpha``.  Other keyword arguments go to ``judgekit.evaluate``.
    """
    import numpy as np
    import pandas as pd

    from ..api import evaluate
    from . import significance as sig

    if not isinstance(systems, Mapping) or len(systems) < 2:
        raise InputError("give at least two systems as a mapping name -> predictions")
    names = [str(s) for s in systems]
    if len(set(names)) != len(names):
        raise InputError("system names must be unique")
    baseline = names[0] if baseline is None else str(baseline)
    if baseline not in names:
        raise InputError(f"baseline {baseline!r} is not one of the systems: {', '.join(names)}")
    bad_tests = set(tests) - {"bs", "ar"}
    if bad_tests:
        raise InputError(f"unknown test(s) {sorted(bad_tests)}; choose bs (paired bootstrap) and/or ar "
                         "(approximate randomization)")
    if not 0 < alpha < 1:
        raise InputError("alpha must be between 0 and 1")
    ref_map = _keyed(refs, "refs", None)
    ids = list(ref_map)
    if not ids:
        raise InputError("no items: the references are empty")
    ref_list = [ref_map[i] for i in ids]
    preds = {name: _align(name, _keyed(systems[raw], f"system {name!r}", ids), ids, "system")
             for name, raw in zip(names, systems)}

    # n-gram metrics: one evaluate per system, the same options for all
    evaluate_options.setdefault("progress", progress)
    results = {}
    for name in names:
        results[name] = evaluate(preds[name], ref_list, **evaluate_options)
    sigs = {str(r.signature) for r in results.values()}
    if len(sigs) != 1:
        # lang="auto" decides per call; pin it so all systems share one signature
        lang = results[baseline].signature["lang"].split("(")[0]
        opts = dict(evaluate_options, lang=lang)
        results = {name: evaluate(preds[name], ref_list, **opts) for name in names}
    ngram_sig = str(results[baseline].signature)
    metric_names = [m for m in results[baseline].scores]
    scores = pd.DataFrame({m: [results[s].scores[m] for s in names] for m in metric_names}, index=names)
    n = len(ids)

    # judge dimensions: per system, pairs on items scored in both
    judge_frames: dict[str, Any] = {}
    judge_sigs: dict[str, str] = {}
    dims: list[str] = []
    notes: list[str] = []
    if judges:
        unknown = [k for k in judges if str(k) not in names]
        if unknown:
            raise InputError(f"judge results given for unknown system(s) {unknown}; systems: {', '.join(names)}")
        str_ids = [str(i) for i in ids]
        for name_raw, jr in judges.items():
            name = str(name_raw)
            frame, jsig = _judge_frame(jr, name)
            _align(name, dict.fromkeys(frame.index), str_ids, "judge results for system")
            judge_frames[name] = frame.loc[str_ids]
            if jsig:
                judge_sigs[name] = jsig
        dim_sets = {name: _judge_dims(f) for name, f in judge_frames.items()}
        dims = list(next(iter(dim_sets.values())))
        for name, d in dim_sets.items():
            if set(d) != set(dims):
                raise InputError(f"judge results disagree on the dimensions: {name!r} has {d}, expected {dims}")
        for d in dims:
            col = f"judge:{d}"
            vals = []
            for s in names:
                f = judge_frames.get(s)
                if f is None:
                    vals.append(math.nan)
                    continue
                x = pd.to_numeric(f[d].where(f["status"] == "scored"), errors="coerce")
                vals.append(float(x.mean()) if x.notna().any() else math.nan)
            scores[col] = vals
        missing = [s for s in names if s not in judge_frames]
        if missing:
            notes.append(f"no judge results for {', '.join(missing)}: their judge columns are empty")

    # bootstrap CIs: the same resampled item sets for every system (these
    # are also the paired bootstrap's resamples)
    idxs = sig._bootstrap_indices(n, n_bootstrap, seed)
    tested = [m for m in metric_names if not m.startswith(sig._NOT_TESTED_PREFIXES)]
    samples: dict[str, dict[str, Any]] = {}
    for s in names:
        samples[s] = sig._resample(results[s].rescore, idxs, tested, progress, f"bootstrap {s}")
    ci = {(s, m): sig._interval(samples[s][m], 0.95) for s in names for m in tested}

    test_map: dict[tuple[str, str], dict[str, PairedTest]] = {}
    for s in names:
        if s == baseline:
            continue
        if "bs" in tests:
            for m in tested:
                test_map.setdefault((s, m), {})["bs"] = sig._bs_test(
                    m, results[baseline].scores[m], results[s].scores[m], samples[baseline][m], samples[s][m], n,
                    seed)
        if "ar" in tests:
            ar = sig.paired_randomization(results[baseline], results[s], metrics=tested, n_samples=n_randomization,
                                          seed=seed, progress=progress)
            for m, t in ar.items():
                test_map.setdefault((s, m), {})["ar"] = t

    judge_counts: dict[str, dict[str, int]] = {}
    levels_out: dict[str, Any] = {}
    levels = {str(k): tuple(v) for k, v in (levels or {}).items()}
    for k, v in levels.items():
        if len(v) != 3:
            raise InputError(f"levels[{k!r}]: give the three values meaning Bad, Okay, Good, e.g. (1, 2, 3)")
    rubric_scales = _rubric_scales(judge_sigs.values())
    for s, f in judge_frames.items():
        judge_counts[s] = {"scored": int((f["status"] == "scored").sum()), "unscored": int((f["status"] != "scored").sum())}
    for d in dims:
        col = f"judge:{d}"
        per_sys = {}
        for s, f in judge_frames.items():
            per_sys[s] = pd.to_numeric(f[d].where(f["status"] == "scored"), errors="coerce").to_numpy(dtype=float)
        for s, v in per_sys.items():
            ok = v[np.isfinite(v)]
            if len(ok):
                lo_hi = sig._interval(sig._resample(lambda i, ok=ok: {col: float(ok[i].mean())},
                                                    sig._bootstrap_indices(len(ok), n_bootstrap, seed), [col])[col],
                                      0.95)
                ci[(s, col)] = lo_hi
        if baseline in per_sys:
            for s, v in per_sys.items():
                if s == baseline:
                    continue
                both = np.isfinite(v) & np.isfinite(per_sys[baseline])
                if both.sum() < 2:
                    notes.append(f"{col}: {s!r} and the baseline share {int(both.sum())} scored item(s); no test")
                    continue
                if both.sum() < n:
                    notes.append(f"{col}: {s!r} vs baseline tested on the {int(both.sum())} of {n} items both "
                                 "judges scored")
                a, b = {col: per_sys[baseline][both]}, {col: v[both]}
                if "bs" in tests:
                    test_map.setdefault((s, col), {})["bs"] = sig.paired_bootstrap(a, b, n_samples=n_bootstrap,
                                                                                   seed=seed)[col]
                if "ar" in tests:
                    test_map.setdefault((s, col), {})["ar"] = sig.paired_randomization(
                        a, b, n_samples=n_randomization, seed=seed)[col]
        observed = set()
        for v in per_sys.values():
            observed |= set(v[np.isfinite(v)].tolist())
        values = _level_values(d, observed, levels, rubric_scales)
        if values is not None:
            outside = observed - set(values)
            if outside:
                raise InputError(f"judge dimension {d!r} has value(s) {sorted(outside)} outside its three levels "
                                 f"{list(values)}")
            rows = {}
            for s, v in per_sys.items():
                ok = v[np.isfinite(v)]
                rows[s] = [float((ok == k).mean()) if len(ok) else math.nan for k in values]
            levels_out[d] = pd.DataFrame.from_dict(rows, orient="index", columns=list(LEVEL_LABELS))

    # per-item table and emotions
    per_item = {}
    for s in names:
        f = results[s].per_item.copy()
        f.index = pd.Index(ids, name="id")
        if s in judge_frames:
            for d in dims:
                jf = judge_frames[s]
                f[f"judge:{d}"] = pd.to_numeric(jf[d].where(jf["status"] == "scored"), errors="coerce").to_numpy()
        per_item[s] = f
    emo_table = None
    if emotions is not None:
        emo = _align("emotions", _keyed(emotions, "emotions", ids), ids, "labels")
        metric = emotion_metric or (f"judge:{dims[0]}" if dims else "rouge-l")
        if metric not in per_item[baseline].columns:
            raise InputError(f"emotion_metric {metric!r} has no per-item values; choose one of "
                             f"{', '.join(c for c in per_item[baseline].columns if not c.startswith('empty'))}")
        emo_series = pd.Series([str(e) for e in emo], index=per_item[baseline].index)
        emo_table = pd.DataFrame({s: per_item[s][metric].groupby(emo_series).mean() for s in names}).T
        emotion_metric = metric

    show = list(columns) if columns is not None else [c for c in DEFAULT_COLUMNS if c in scores.columns]
    unknown_cols = [c for c in show if c not in scores.columns]
    if unknown_cols:
        raise InputError(f"unknown column(s) {unknown_cols}; available: {', '.join(scores.columns)}")
    show += [c for c in scores.columns if c.startswith("judge:") and c not in show]

    k = min(n_examples, n)
    examples = pd.DataFrame({"id": ids[:k], "reference": [r if isinstance(r, str) else " | ".join(r)
                                                          for r in ref_list[:k]],
                             **{s: preds[s][:k] for s in names}})
    test_desc = []
    if "bs" in tests:
        test_desc.append(f"paired bootstrap {n_bootstrap} resamples")
    if "ar" in tests:
        test_desc.append(f"approximate randomization {n_randomization} trials")
    signatures = {"ngram": ngram_sig,
                  "tests": f"baseline:{baseline}|{'+'.join(tests) or 'none'}|bs:{n_bootstrap}|ar:{n_randomization}|"
                           f"seed:{seed}|alpha:{alpha}|ci:95%-percentile-bootstrap"}
    for s, js in judge_sigs.items():
        signatures[f"judge:{s}"] = js
    notes.insert(0, f"* p < {alpha} versus {baseline} in every test ({'; '.join(test_desc) or 'none'}; seed {seed})."
                 " Judge dimensions: mean over scored items, tested on the items scored for both systems.")
    return Leaderboard(systems=names, baseline=baseline, columns=show, scores=scores, ci=ci, tests=test_map,
                       signatures=signatures, n_items=n, alpha=alpha, judge_dims=dims, judge_counts=judge_counts,
                       levels=levels_out, emotions=emo_table, emotion_metric=emotion_metric, examples=examples,
                       per_item=per_item, notes=notes)
