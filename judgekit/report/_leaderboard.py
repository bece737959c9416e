"""Leaderboards: several systems' outputs for the same items, scored with
one signature, with bootstrap confidence intervals and paired significance
tests against a baseline chosen by the user, for every n-gram metric and
every judge dimension.

Items are paired by id: a system that lacks an item of the references (or
has one they lack) is an error naming the ids; nothing is dropped.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..errors import InputError, show_ids
from ..scores import Scores
from ..signature import Signature
from .significance import DEFAULT_SEED, PairedTest, as_scores

__all__ = ["Leaderboard", "leaderboard", "compare", "score_systems", "DEFAULT_COLUMNS", "LEVEL_LABELS", "FORMATS"]

DEFAULT_COLUMNS = ("bleu-1", "bleu-2", "bleu-3", "bleu-4", "rouge-1", "rouge-2", "rouge-l", "distinct-1", "distinct-2",
                   "len-ratio")
FORMATS = ("md", "csv", "html", "tex", "png", "svg")  # what ``write`` writes by default
ALL_FORMATS = FORMATS + ("pdf",)
LEVEL_LABELS = ("Bad", "Okay", "Good")  # a 3-level judge or rating, 0/1/2
JUDGE = "judge:"  # the one prefix of judge columns in Scores (JudgeResult.to_scores)
PAIRWISE = "pairwise:win_rate"  # each system's win rate against the baseline (PairwiseResult.to_scores)


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
    examples: Any = None  # DataFrame: id, [context], reference, one column per system, spread (where they differ most)
    example_metrics: list[str] = field(default_factory=list)  # per-item scores shown with each example
    reasons: dict[str, dict[str, str]] = field(default_factory=dict)  # system -> id -> the judge's reason or reply
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
        """``to_frame()`` as CSV, safe to open in a spreadsheet: a text cell
        that would run as a formula (it begins with ``=``, ``+``, ``-``,
        ``@``, a tab or a carriage return) starts with ``'`` instead (OWASP's
        CSV-injection advice), and a carriage return inside text is written
        as a (quoted) newline; numbers stay numbers."""
        frame = self.to_frame()

        def safe(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                value = "'" + value
            return value.replace("\r\n", "\n").replace("\r", "\n")

        for col in frame.columns:
            if frame[col].dtype.kind not in "biufcmM":  # text columns (object or str dtype)
                frame[col] = frame[col].map(safe)
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

    def plot(self, outdir: Any, formats: Sequence[str] = ("png",)) -> list[str]:
        """Write the plots (``png`` at 300 dpi, ``svg``, ``pdf``); needs
        matplotlib (``pip install 'judgekit-empathy[plot]'``)."""
        from ._plots import write_plots

        return write_plots(self, outdir, formats=formats)

    def to_latex(self, *, caption: str | None = None, label: str = "tab:leaderboard") -> str:
        """A booktabs table for a paper (sacreBLEU ``-f latex`` style): one row
        per system, each score with its 95% CI half width, the best in each
        column bold, a dagger where every test finds the system different
        from the baseline; the caption names the tests and the judge."""
        from ._latex import latex_table

        return latex_table(self, caption=caption, label=label)

    def write(self, outdir: Any, formats: Sequence[str] = FORMATS, *,
              title: str = "judgekit leaderboard") -> list[str]:
        """Write ``leaderboard.md``, ``.csv``, ``.html``, ``.tex`` and the
        plots (``png`` at 300 dpi, ``svg``, ``pdf``) to ``outdir``."""
        from pathlib import Path

        out = Path(outdir)
        unknown = set(formats) - set(ALL_FORMATS)
        if unknown:
            raise InputError(f"unknown format(s) {', '.join(sorted(unknown))}; choose from {', '.join(ALL_FORMATS)}")
        out_folder(out)
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
        if "tex" in formats:
            (out / "leaderboard.tex").write_text(self.to_latex(), encoding="utf-8")
            written.append(str(out / "leaderboard.tex"))
        figures = [f for f in ("png", "svg", "pdf") if f in formats]
        if figures:
            written += self.plot(out, formats=figures)
        return written


def out_folder(out: Any) -> None:
    """Create the output folder ``out``; its parent must exist (the CLI's
    rule for every output folder: a typo in the parent is an error, not a
    new tree)."""
    from pathlib import Path

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file, not a folder")
    if not out.absolute().parent.is_dir():
        raise InputError(f"{out}: the folder {out.absolute().parent} does not exist; create it first")
    out.mkdir(exist_ok=True)


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


def _align(name: str, got: dict, ids: list, what: str) -> list:
    have = set(got)
    want = set(ids)
    missing = [i for i in ids if i not in have]
    extra = [i for i in got if i not in want]
    if missing:
        raise InputError(f"{what} {name!r} lacks {len(missing)} of the {len(ids)} item(s): {show_ids(missing)}")
    if extra:
        raise InputError(f"{what} {name!r} has {len(extra)} item(s) that the references do not: {show_ids(extra)}")
    return [got[i] for i in ids]


def _str_keys(d: Mapping) -> dict:
    return {str(k): v for k, v in d.items()}


def _level_values(dim: str, observed: set, given: dict, declared: dict) -> tuple | None:
    if dim in given:
        return given[dim]
    if dim in declared:
        return declared[dim] if len(declared[dim]) == 3 else None
    if observed and observed <= {0.0, 1.0, 2.0} and 0.0 in observed:
        return (0, 1, 2)
    if observed and observed <= {1.0, 2.0, 3.0} and 3.0 in observed:
        return (1, 2, 3)
    return None


# --- from texts to Scores (the convenience path) ---

def score_systems(systems: Mapping[str, Any], refs: Any, *, judges: Mapping[str, Any] | None = None,
                  n_examples: int | None = 5, contexts: Any = None,
                  **evaluate_options: Any) -> tuple[dict[str, Scores], dict[str, Scores], Any]:
    """Each system's predictions scored against ``refs`` with one signature
    (``judgekit.evaluate`` once per system; ``lang="auto"`` decided once,
    on the first system), and each judge result as ``Scores``; items paired
    by id.  Returns (n-gram Scores, judge Scores, texts table: id,
    [context,] reference and each system's output for the first
    ``n_examples`` items, or every item with None)."""
    import pandas as pd

    from ..api import evaluate
    from ..judge import load_results
    from ..text.lang import detect_language

    names = [str(s) for s in systems]
    ref_map = _keyed(refs, "refs", None)
    ids = list(ref_map)
    if not ids:
        raise InputError("no items: the references are empty")
    ref_list = [ref_map[i] for i in ids]
    preds = {name: _align(name, _keyed(systems[raw], f"system {name!r}", ids), ids, "system")
             for name, raw in zip(names, systems)}
    str_ids = [str(i) for i in ids]
    if len(set(str_ids)) != len(str_ids):
        raise InputError("item ids repeat once written as strings")
    opts = dict(evaluate_options)
    if opts.get("lang", "auto") == "auto":
        # decided once for all systems (on the first), so that they share one signature
        first = preds[names[0]]
        refs_flat = [x for r in ref_list for x in ([r] if isinstance(r, str) else list(r))]
        if all(isinstance(x, str) for x in first) and all(isinstance(x, str) for x in refs_flat):
            opts["lang"] = detect_language([*first, *refs_flat])
    index = pd.Index(str_ids, name="id")
    scored = {name: evaluate(pd.Series(preds[name], index=index), ref_list, **opts) for name in names}
    judged: dict[str, Scores] = {}
    for name_raw, jr in (judges or {}).items():
        name = str(name_raw)
        if name not in names:
            raise InputError(f"judge results given for unknown system(s) {[name_raw]}; systems: {', '.join(names)}")
        try:
            s = load_results(jr).to_scores()
        except InputError as exc:
            raise InputError(f"judge results for {name!r}: {exc}") from None
        _align(name, dict.fromkeys(s.ids), str_ids, "judge results for system")
        judged[name] = s.select(str_ids)
    k = len(ids) if n_examples is None else min(n_examples, len(ids))
    ctx = {}
    if contexts is not None:
        ctx = {"context": _align("contexts", _str_keys(_keyed(contexts, "contexts", None)), str_ids, "texts")[:k]}
    examples = pd.DataFrame({"id": ids[:k], **ctx, "reference": [r if isinstance(r, str) else " | ".join(r)
                                                                 for r in ref_list[:k]],
                             **{s: preds[s][:k] for s in names}})
    return scored, judged, examples


# --- the build ---

def leaderboard(
    systems: Mapping[str, Any],
    refs: Any = None,
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
    examples: Any = None,
    progress: bool = False,
    pairwise: Mapping[str, Any] | None = None,
    contexts: Any = None,
    **evaluate_options: Any,
) -> Leaderboard:
    """Compare every system with ``baseline`` (default: the first system).

    ``systems``: name -> ``judgekit.Scores`` (from ``evaluate``: the same
    items and one signature), or name -> predictions (a mapping id -> text,
    or a sequence in the order of ``refs``), which are scored here first
    with ``judgekit.evaluate`` (other keyword arguments go there).
    ``judges``: name -> that system's judge results (``Scores`` from
    ``JudgeResult.to_scores()``, a ``JudgeResult``, its ``per_item``
    DataFrame, or a JSONL file from ``judgekit judge --output``), ids
    matching the references'.  ``emotions``: id -> emotion label, for the
    per-emotion table and heatmap of ``emotion_metric`` (default: the first
    judge dimension, else ``rouge-l``).  ``levels``: judge dimension -> its
    three values meaning Bad, Okay, Good, for the stacked bars (default:
    the rubric's scale declared in the judge's Scores when it has three
    levels, else values seen within 0/1/2 including 0, or within 1/2/3
    including 3).  ``pairwise``: system -> its head-to-head judging
    against the baseline (a ``judgekit.judge.PairwiseResult`` or the JSONL
    of ``judgekit pairwise --output``), shown as the column
    ``pairwise:win_rate`` with its bootstrap CI.  ``tests``: any of ``bs`` (paired bootstrap,
    ``n_bootstrap`` resamples) and ``ar`` (approximate randomization,
    ``n_randomization`` trials); a system is marked when every test gives
    p < ``alpha``.  ``contexts``: id -> the client's turn, shown in the
    examples view: the ``n_examples`` items where the systems differ most.
    """
    if not isinstance(systems, Mapping) or len(systems) < 2:
        raise InputError("give at least two systems as a mapping name -> predictions (or Scores)")
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
    _check_settings(n_bootstrap=n_bootstrap, n_randomization=n_randomization, n_examples=n_examples, alpha=alpha)
    given = [isinstance(v, Scores) for v in systems.values()]
    if all(given):
        if refs is not None or evaluate_options:
            raise InputError("systems given as Scores are already scored: pass no refs or evaluate options")
        scored = {n: systems[raw] for n, raw in zip(names, systems)}
        texts = None
        judged: dict[str, Scores] = {}
        for k, v in (judges or {}).items():
            if str(k) not in names:
                raise InputError(f"judge results given for unknown system(s) {[k]}; systems: {', '.join(names)}")
            judged[str(k)] = as_scores(v, f"judge results for {str(k)!r}")
    elif any(given):
        raise InputError("give every system as Scores, or every system as predictions, not a mix")
    else:
        if refs is None:
            raise InputError("systems given as predictions need refs")
        evaluate_options.setdefault("progress", progress)
        scored, judged, table = score_systems(systems, refs, judges=judges, n_examples=None, contexts=contexts,
                                              **evaluate_options)
        texts = {s: table[s].tolist() for s in names}
        examples = table if examples is None else examples
    return compare(scored, baseline=baseline, judges=judged, emotions=emotions, emotion_metric=emotion_metric,
                   levels=levels, tests=tests, n_bootstrap=n_bootstrap, n_randomization=n_randomization, seed=seed,
                   alpha=alpha, columns=columns, examples=examples, progress=progress, pairwise=pairwise,
                   texts=texts, n_examples=n_examples, reasons=_reasons(judges))


def compare(systems: Mapping[str, Scores], *, baseline: str, judges: Mapping[str, Scores] | None = None,
            emotions: Any = None, emotion_metric: str | None = None,
            levels: Mapping[str, Sequence[float]] | None = None, tests: Sequence[str] = ("bs", "ar"),
            n_bootstrap: int = 1000, n_randomization: int = 10000, seed: int | None = DEFAULT_SEED,
            alpha: float = 0.05, columns: Sequence[str] | None = None, examples: Any = None,
            progress: bool = False, pairwise: Mapping[str, Any] | None = None,
            texts: Mapping[str, Sequence[str]] | None = None, n_examples: int = 5,
            reasons: Mapping[str, Mapping[str, str]] | None = None) -> Leaderboard:
    """Systems' ``Scores`` in, the leaderboard out (no scoring, no files).

    ``systems``: name -> n-gram ``Scores`` on the same ids with one
    signature; ``judges``: name -> judge ``Scores`` (``judge:<dim>``
    columns, ``judge:status``, levels declared by the rubric); ``pairwise``:
    name -> head-to-head results against the baseline (column
    ``pairwise:win_rate``).  ``texts``: name -> its predictions in id
    order, from which Distinct-n's interval is rebuilt (without them
    Distinct has none, and a note says so).  ``examples``: a table of id,
    [context,] reference and each system's output, of which the
    ``n_examples`` items where the systems differ most are shown, with
    their per-item scores and ``reasons`` (name -> id -> the judge's
    words)."""
    import pandas as pd

    _check_settings(n_bootstrap=n_bootstrap, n_randomization=n_randomization, n_examples=n_examples, alpha=alpha)
    names = list(systems)
    systems = _same_items(systems, baseline)
    base = systems[baseline]
    ids, n = base.ids, base.n_items
    scores = pd.DataFrame({m: [systems[s].scores[m] for s in names] for m in base.scores}, index=names)
    settings = dict(tests=tests, n_bootstrap=n_bootstrap, n_randomization=n_randomization, seed=seed)
    ci, test_map = _resampled_tests(systems, baseline, progress=progress, **settings)
    notes: list[str] = []
    _distinct_ci(systems, texts, ci, notes, n_bootstrap=n_bootstrap, seed=seed)

    judged = {s: (js.select(ids) if js.ids != ids else js) for s, js in (judges or {}).items()}
    for s, js in judged.items():
        _align(s, dict.fromkeys(js.ids), ids, "judge results for system")
    dims = _judge_dims(judged)
    for d in dims:
        scores[JUDGE + d] = [judged[s].scores[JUDGE + d] if s in judged else math.nan for s in names]
    missing = [s for s in names if s not in judged]
    if judged and missing:
        notes.append(f"no judge results for {', '.join(missing)}: their judge columns are empty")
    judge_counts = {s: _status_counts(f) for s, f in judged.items()}
    given_levels = _given_levels(levels)
    levels_out: dict[str, Any] = {}
    for d in dims:
        per_sys = {s: f.column(JUDGE + d).astype(float) for s, f in judged.items()}
        _judge_tests(JUDGE + d, per_sys, baseline, n, ci, test_map, notes, **settings)
        shares = _level_shares(d, per_sys, given_levels, judged)
        if shares is not None:
            levels_out[d] = shares

    per_item = {}
    for s in names:
        f = systems[s].to_frame()
        for d in dims:  # NaN for a system without judge results: its per-emotion cells stay empty
            f[JUDGE + d] = judged[s].column(JUDGE + d) if s in judged else math.nan
        per_item[s] = f
    if pairwise:
        _pairwise_column(pairwise, names, baseline, ids, scores, ci, per_item, notes, n_bootstrap=n_bootstrap,
                         seed=seed)
    emo_table = None
    if emotions is not None:
        emotion_metric = emotion_metric or (f"{JUDGE}{dims[0]}" if dims else "rouge-l")
        emo_table = _emotion_table(emotions, emotion_metric, per_item, baseline, ids)

    show = list(columns) if columns is not None else [c for c in DEFAULT_COLUMNS if c in scores.columns]
    unknown_cols = [c for c in show if c not in scores.columns]
    if unknown_cols:
        raise InputError(f"unknown column(s) {unknown_cols}; available: {', '.join(scores.columns)}")
    show += [c for c in scores.columns if (c.startswith(JUDGE) or c == PAIRWISE) and c not in show]
    ex_metrics = [JUDGE + d for d in dims] + [m for m in ("rouge-l", "bleu-4") if m in per_item[baseline].columns]
    if examples is not None:  # sorted by the first of them that two or more systems have
        sort_by = [m for m in ex_metrics if sum(bool(per_item[s][m].notna().any()) for s in names) >= 2][:1]
        examples = _differ_most(examples, names, per_item, sort_by, n_examples)

    test_desc = []
    if "bs" in tests:
        test_desc.append(f"paired bootstrap {n_bootstrap} resamples")
    if "ar" in tests:
        test_desc.append(f"approximate randomization {n_randomization} trials")
    signatures = {"ngram": base.signature,
                  "tests": Signature([("baseline", baseline), ("tests", "+".join(tests) or "none"),
                                      ("bs", n_bootstrap), ("ar", n_randomization), ("seed", seed), ("alpha", alpha),
                                      ("ci", "95%-percentile-bootstrap")])}
    for s, f in judged.items():
        if len(f.signature.parts):
            signatures[f"judge:{s}"] = f.signature
    notes.insert(0, f"* p < {alpha} versus {baseline} in every test ({'; '.join(test_desc) or 'none'}; seed {seed})."
                 + (" Judge dimensions: mean over scored items, tested on the items scored for both systems."
                    if dims else ""))
    return Leaderboard(systems=names, baseline=baseline, columns=show, scores=scores, ci=ci, tests=test_map,
                       signatures=signatures, n_items=n, alpha=alpha, judge_dims=dims, judge_counts=judge_counts,
                       levels=levels_out, emotions=emo_table, emotion_metric=emotion_metric, examples=examples,
                       example_metrics=ex_metrics, reasons={str(k): dict(v) for k, v in (reasons or {}).items()},
                       per_item=per_item, notes=notes)


def _check_settings(*, n_bootstrap: Any, n_randomization: Any, n_examples: Any, alpha: Any) -> None:
    """Settings checked before any scoring: a zero resample count would
    fail deep in the bootstrap, a negative example count would show all."""
    for name, value, least in (("n_bootstrap", n_bootstrap, 1), ("n_randomization", n_randomization, 1),
                               ("n_examples", n_examples, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise InputError(f"{name} must be {'at least 1' if least else 'zero or more'}, got {value!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, got {alpha!r}")


def _same_items(systems: Mapping[str, Scores], baseline: str) -> dict[str, Scores]:
    """Every system on the baseline's ids (in its order) and signature."""
    base = systems[baseline]
    out = {}
    for s, sc in systems.items():
        if sc.ids != base.ids:
            _align(s, dict.fromkeys(sc.ids), base.ids, "system")
            sc = sc.select(base.ids)
        if not sc.signature.same_numbers(base.signature):
            diff = "; ".join(sc.signature.differences(base.signature))
            raise InputError(f"system {s!r} was scored differently from {baseline!r} ({diff}); a leaderboard "
                             "needs one signature")
        out[s] = sc
    return out


def _resampled_tests(systems: Mapping[str, Scores], baseline: str, *, tests: Sequence[str], n_bootstrap: int,
                     n_randomization: int, seed: int | None, progress: bool) -> tuple[dict, dict]:
    """Bootstrap CIs of every resampled score (the same resampled item sets
    for every system: also the paired bootstrap's) and the paired tests."""
    from . import significance as sig

    base = systems[baseline]
    n, tested = base.n_items, base.resampled
    idxs = sig._bootstrap_indices(n, n_bootstrap, seed)
    samples = {s: sig._resample(sc, idxs, tested, progress, f"bootstrap {s}") for s, sc in systems.items()}
    ci = {(s, m): sig._interval(samples[s][m], 0.95) for s in systems for m in tested}
    test_map: dict[tuple[str, str], dict[str, PairedTest]] = {}
    for s, sc in systems.items():
        if s == baseline:
            continue
        if "bs" in tests:
            for m in tested:
                test_map.setdefault((s, m), {})["bs"] = sig._bs_test(
                    m, base.scores[m], sc.scores[m], samples[baseline][m], samples[s][m], n, seed)
        if "ar" in tests:
            ar = sig.paired_randomization(base, sc, metrics=tested, n_randomization=n_randomization, seed=seed,
                                          progress=progress)
            for m, t in ar.items():
                test_map.setdefault((s, m), {})["ar"] = t
    return ci, test_map


def _judge_dims(judged: Mapping[str, Scores]) -> list[str]:
    """The judge dimensions, which every judged system must share."""
    if not judged:
        return []
    dim_sets = {s: [c[len(JUDGE):] for c in f.resampled if c.startswith(JUDGE)] for s, f in judged.items()}
    dims = list(next(iter(dim_sets.values())))
    for s, d in dim_sets.items():
        if set(d) != set(dims):
            raise InputError(f"judge results disagree on the dimensions: {s!r} has {d}, expected {dims}")
    return dims


def _status_counts(f: Scores) -> dict[str, int]:
    status = f.column(JUDGE + "status")
    return {"scored": int((status == "scored").sum()), "unscored": int((status != "scored").sum())}


def _judge_tests(col: str, per_sys: Mapping[str, Any], baseline: str, n: int, ci: dict, test_map: dict,
                 notes: list[str], *, tests: Sequence[str], n_bootstrap: int, n_randomization: int,
                 seed: int | None) -> None:
    """A judge dimension: CIs over each system's scored items, tests on the
    items scored for both the system and the baseline."""
    import numpy as np

    from . import significance as sig

    for s, v in per_sys.items():
        ok = v[np.isfinite(v)]
        if len(ok):
            ci[(s, col)] = sig.bootstrap_ci({col: ok}, n_bootstrap=n_bootstrap, seed=seed)[col]
    if baseline not in per_sys:
        return
    for s, v in per_sys.items():
        if s == baseline:
            continue
        both = np.isfinite(v) & np.isfinite(per_sys[baseline])
        if both.sum() < 2:
            notes.append(f"{col}: {s!r} and the baseline share {int(both.sum())} scored item(s); no test")
            continue
        if both.sum() < n:
            notes.append(f"{col}: {s!r} vs baseline tested on the {int(both.sum())} of {n} items both judges scored")
        a, b = {col: per_sys[baseline][both]}, {col: v[both]}
        if "bs" in tests:
            test_map.setdefault((s, col), {})["bs"] = sig.paired_bootstrap(a, b, n_bootstrap=n_bootstrap,
                                                                           seed=seed)[col]
        if "ar" in tests:
            test_map.setdefault((s, col), {})["ar"] = sig.paired_randomization(
                a, b, n_randomization=n_randomization, seed=seed)[col]


def _pairwise_column(pairwise: Mapping[str, Any], names: list[str], baseline: str, ids: list[str], scores: Any,
                     ci: dict, per_item: dict, notes: list[str], *, n_bootstrap: int, seed: int | None) -> None:
    """Each system's win rate against the baseline (mean of 1 / 0.5 / 0 over
    the items judged in both orders) with its bootstrap CI."""
    import numpy as np

    from ..judge import load_pairwise
    from . import significance as sig

    values: dict[str, Any] = {}
    for raw, res in pairwise.items():
        s = str(raw)
        if s not in names:
            raise InputError(f"pairwise results given for unknown system {s!r}; systems: {', '.join(names)}")
        if s == baseline:
            raise InputError(f"pairwise results given for the baseline {s!r}: give them for the systems judged "
                             "against it")
        try:
            sc = load_pairwise(res).to_scores()
        except InputError as exc:
            raise InputError(f"pairwise results for {s!r}: {exc}") from None
        _align(s, dict.fromkeys(sc.ids), ids, "pairwise results for system")
        v = sc.select(ids).column(PAIRWISE).astype(float)
        values[s] = v
        ok = v[np.isfinite(v)]
        if len(ok):
            ci[(s, PAIRWISE)] = sig.bootstrap_ci({PAIRWISE: ok}, n_bootstrap=n_bootstrap, seed=seed)[PAIRWISE]
        if len(ok) < len(v):
            notes.append(f"{PAIRWISE}: {s!r} over the {len(ok)} of {len(v)} items judged in both orders")
        per_item[s][PAIRWISE] = v
    scores[PAIRWISE] = [float(np.nanmean(values[s])) if s in values and np.isfinite(values[s]).any() else math.nan
                        for s in names]
    notes.append(f"{PAIRWISE}: each system against {baseline} as one pairwise judge saw them, every pair in both "
                 "orders; win 1, tie or inconsistent 0.5, loss 0 (FastChat's rule)")


def _given_levels(levels: Mapping[str, Sequence[float]] | None) -> dict[str, tuple]:
    out = {str(k): tuple(v) for k, v in (levels or {}).items()}
    for k, v in out.items():
        if len(v) != 3:
            raise InputError(f"levels[{k!r}]: give the three values meaning Bad, Okay, Good, e.g. (1, 2, 3)")
    return out


def _level_shares(dim: str, per_sys: Mapping[str, Any], given: dict, judged: Mapping[str, Scores]) -> Any:
    """Systems x Bad/Okay/Good shares of a three-level dimension, or None."""
    import numpy as np
    import pandas as pd

    declared: dict[str, tuple] = {}
    for f in judged.values():
        declared.update({k[len(JUDGE):]: v for k, v in f.levels.items() if k.startswith(JUDGE)})
    observed: set = set()
    for v in per_sys.values():
        observed |= set(v[np.isfinite(v)].tolist())
    values = _level_values(dim, observed, given, declared)
    if values is None:
        return None
    outside = observed - set(values)
    if outside:
        raise InputError(f"judge dimension {dim!r} has value(s) {sorted(outside)} outside its three levels "
                         f"{list(values)}")
    rows = {}
    for s, v in per_sys.items():
        ok = v[np.isfinite(v)]
        rows[s] = [float((ok == k).mean()) if len(ok) else math.nan for k in values]
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(LEVEL_LABELS))


def _emotion_table(emotions: Any, metric: str, per_item: Mapping[str, Any], baseline: str, ids: list[str]) -> Any:
    """Systems x emotions: the mean of ``metric`` per emotion label."""
    import pandas as pd

    emo = _align("emotions", _str_keys(_keyed(emotions, "emotions", None)), ids, "labels")
    if metric not in per_item[baseline].columns:
        raise InputError(f"emotion_metric {metric!r} has no per-item values; choose one of "
                         f"{', '.join(c for c in per_item[baseline].columns if not c.startswith('empty'))}")
    emo_series = pd.Series([str(e) for e in emo], index=per_item[baseline].index)
    return pd.DataFrame({s: f[metric].groupby(emo_series).mean() for s, f in per_item.items()}).T


def _distinct_ci(systems: Mapping[str, Scores], texts: Mapping[str, Sequence[str]] | None, ci: dict,
                 notes: list[str], *, n_bootstrap: int, seed: int | None) -> None:
    """Distinct-n's interval from each system's n-gram sets (``_distinct``),
    or a note saying why there is none."""
    from ._distinct import HALVES, distinct_intervals

    why = ""
    for s, sc in systems.items():
        got, why_s = distinct_intervals(sc, None if texts is None else texts.get(s), n_samples=n_bootstrap,
                                        seed=seed)
        ci.update({(s, m): v for m, v in got.items()})
        why = why or why_s
    if why:
        notes.append(f"distinct-n: no confidence interval ({why})")
    elif any(m.startswith("distinct-") for (_s, m) in ci):
        notes.append(f"distinct-n: 95% interval = value ± 1.96 sd of Distinct over {min(n_bootstrap, HALVES)} random "
                     "halves of the items, each half's n-gram sets rebuilt (delete-d jackknife; a bootstrap draw repeats "
                     "replies, which lowers Distinct, so the percentile bootstrap does not apply); not tested")


def _reasons(judges: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    """system -> id -> what its judge said: the reason (unscored, or some
    samples failed) or else the judge's reply; for results given as a
    ``JudgeResult``, its DataFrame or its JSONL file (``Scores`` hold none)."""
    from ..judge import load_results

    out: dict[str, dict[str, str]] = {}
    for name, jr in (judges or {}).items():
        if isinstance(jr, Scores):
            continue
        df = load_results(jr).per_item
        said = {}
        for rec in df.to_dict(orient="records"):
            for key in ("reason", "raw"):
                v = rec.get(key)
                if isinstance(v, str) and v.strip():
                    said[str(rec["id"])] = v.strip()
                    break
        if said:
            out[str(name)] = said
    return out


def _differ_most(table: Any, names: list[str], per_item: Mapping[str, Any], metric: list[str], k: int) -> Any:
    """The ``k`` rows of ``table`` where the systems' per-item ``metric``
    (first judge dimension, else ROUGE-L) spreads most (max - min over the
    systems with a value; ties in table order), with that spread; the
    first ``k`` rows when there is no such metric."""
    import numpy as np

    table = table.reset_index(drop=True)
    if not metric or "id" not in table.columns:
        return table.head(k)
    m = metric[0]
    ids = table["id"].astype(str)
    vals = np.vstack([per_item[s][m].reindex(ids).to_numpy(dtype=float) for s in names])
    finite = np.isfinite(vals)
    ok = finite.sum(axis=0) >= 2
    hi = np.where(finite, vals, -np.inf).max(axis=0)
    lo = np.where(finite, vals, np.inf).min(axis=0)
    spread = np.where(ok, hi - lo, -1.0)
    order = np.argsort(-spread, kind="stable")[:k]
    out = table.iloc[order].copy()
    out["spread"] = [spread[i] if spread[i] >= 0 else math.nan for i in order]
    out.attrs["metric"] = m
    return out.reset_index(drop=True)
