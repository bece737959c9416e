"""``judgekit.evaluate``: validate input, run a preset or the default
suite, and wrap the numbers with a signature that makes them reproducible.

Data flows one way: text (``judgekit.text``) -> counts and scores
(``judgekit.ngram``) -> ``Result``.
"""
from __future__ import annotations

import functools
import itertools
import json
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ._version import __version__
from .errors import InputError
from .scores import Scores
from .signature import Signature

__all__ = ["evaluate", "evaluate_file", "Result", "Signature"]


class Result(Scores):
    """Scores of one evaluation (a ``judgekit.Scores``).

    ``scores``: name -> float (BLEU ``bleu-1``..``bleu-4`` cumulative and
    ``bleu-n-ind`` individual, ``rouge-1``/``-2``/``-l`` F with ``-p``/``-r``,
    ``distinct-1/2``, lengths); ``per_item``: a pandas DataFrame, one row per
    item, with the per-item scores and the ``empty_pred``/``empty_ref``
    flags (indexed as the input was: positions, a Series' labels, or file
    ids); ``signature``: everything needed to reproduce the numbers.
    """

    judge_result: Any = None

    def __init__(self, scores: Mapping[str, float], columns: Mapping[str, Any], signature: Any,
                 warnings: Sequence[str] = (), *, ids: Sequence[Any], index: Any = None, stats: Any = None,
                 reducer: Any = None) -> None:
        super().__init__(ids, columns, scores=scores, signature=signature, stats=stats, reducer=reducer,
                         warnings=warnings)
        self._index = index
        self._frame = None

    @property
    def per_item(self):
        """One row per item (pandas DataFrame, built on first access so that
        a plain ``evaluate`` call does not pay for importing pandas)."""
        if self._frame is None:
            import pandas as pd

            index = self._index
            if isinstance(index, list):
                index = pd.Index(index, name="id")
            self._frame = pd.DataFrame(dict(self._columns), index=index)
        return self._frame

    def _changed(self) -> None:
        self._frame = None

    def rescore(self, indices: Sequence[int]) -> dict[str, float]:
        """The corpus scores of a resample of the items (indices may repeat),
        computed exactly as for the whole corpus (``Scores.resample``)."""
        return self.resample(indices)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": dict(self.scores),
            "signature": str(self.signature),
            "signature_fields": self.signature.to_dict(),
            "warnings": list(self.warnings),
            "n_items": self.n_items,
        }

    def to_json(self, **kwargs) -> str:
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        lines = [f"{k:<12} {v:10.4f}" for k, v in self.scores.items()]
        return "\n".join(lines + [str(self.signature)])

    def __repr__(self) -> str:
        return Scores.__repr__(self)

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        import html

        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.4f}</td></tr>" for k, v in self.scores.items())
        return f"<table>{rows}</table><code>{html.escape(str(self.signature))}</code>"


def _check_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        raise InputError(f"{where} is None; expected a string")
    if isinstance(value, float) and math.isnan(value):
        raise InputError(f"{where} is NaN (a missing value); expected a string")
    raise InputError(f"{where} is {type(value).__name__}; expected a string")


def _as_list(seq: Any, name: str) -> tuple[list, Any]:
    """A list of the items, and the index to label per-item rows with."""
    if isinstance(seq, (str, bytes)):
        raise InputError(f"{name} is a single string; pass a sequence of strings (a list, tuple or pandas Series)")
    index = None
    if hasattr(seq, "index") and hasattr(seq, "tolist") and not isinstance(seq, (list, tuple)):
        index = seq.index  # pandas Series
        seq = seq.tolist()
    elif hasattr(seq, "tolist") and not isinstance(seq, (list, tuple)):
        seq = seq.tolist()  # numpy array
    try:
        return list(seq), index
    except TypeError:
        raise InputError(f"{name} is {type(seq).__name__}; pass a sequence of strings") from None


def _all_str(items: list) -> bool:
    return set(map(type, items)) == {str}


def validate(preds: Any, refs: Any) -> tuple[list[str], list[list[str]], Any]:
    """Check and normalize ``preds`` and ``refs``; errors name the item."""
    p, index = _as_list(preds, "preds")
    r, _ = _as_list(refs, "refs")
    if len(p) != len(r):
        raise InputError(f"preds has {len(p)} items but refs has {len(r)}; they must pair up one to one")
    if not p:
        raise InputError("no items to evaluate: preds and refs are empty")
    # fast paths for the common case (every item an exact str); anything else
    # is checked item by item so that the error names the item
    clean_p = p if _all_str(p) else [_check_text(x, f"preds[{i}]") for i, x in enumerate(p)]
    if _all_str(r):
        from .ngram.suite import OneRefEach

        return clean_p, OneRefEach.of(r), index
    clean_r: list[list[str]] = []
    for i, x in enumerate(r):
        if isinstance(x, (list, tuple)) or (hasattr(x, "tolist") and not isinstance(x, str)):
            xs = list(x.tolist() if hasattr(x, "tolist") else x)
            if not xs:
                raise InputError(f"refs[{i}] is an empty list; give at least one reference")
            clean_r.append([_check_text(y, f"refs[{i}][{j}]") for j, y in enumerate(xs)])
        else:
            clean_r.append([_check_text(x, f"refs[{i}]")])
    return clean_p, clean_r, index


def evaluate(
    preds: Sequence[str],
    refs: Sequence[str] | Sequence[Sequence[str]],
    *,
    lang: str = "auto",
    preset: str | None = None,
    metrics: Sequence[str] | None = None,
    tokenizer: str | None = None,
    whitespace: str | None = None,
    user_dicts: Sequence[str] = (),
    hmm: bool = True,
    normalize: str = "none",
    smoothing: str = "exp",
    aggregation: str = "corpus",
    effective_order: bool = True,
    rouge_counting: str = "counts",
    scale: int | None = None,
    tokenize: str | None = None,
    strict: bool = False,
    progress: bool = False,
    n_jobs: int = 1,
    judge: Any = None,
    contexts: Sequence[Any] | None = None,
) -> Result:
    """Score predictions against references.

    ``preds``: a sequence of strings; ``refs``: one string per item, or a
    list of strings per item (several references).  ``lang`` is ``"zh"``,
    ``"en"`` or ``"auto"`` (decided once for the corpus).  ``preset``
    re-enacts a named pipeline exactly (``chatglm``, ``llamafactory``,
    ``glm4``, ``sacrebleu``, ``rouge-score``); without one, judgekit's
    documented default suite runs, configurable through ``tokenizer``
    (jieba, char, zh, 13a, intl, whitespace), ``whitespace`` (drop/keep),
    ``user_dicts``/``hmm`` (jieba), ``normalize``, ``smoothing`` (none,
    method1, method3, exp, floor, add-k), ``aggregation`` (corpus/mean),
    ``rouge_counting`` (counts/sets) and ``scale`` (1 or 100).
    ``progress=True`` shows a progress bar on stderr for large inputs;
    ``n_jobs`` spreads the per-item work over that many cores (-1: all),
    with identical results: threads inside the compiled core for the
    default suite (segmenting and counting run without the GIL), worker
    processes for the presets and the other tokenizers.

    ``judge``: a ``judgekit.judge.Judge``; each prediction is judged (the
    rubric's ``response``; ``contexts`` fill its ``context``/``dialogue``
    input and the first reference its ``reference`` input, when it has
    them) and the scores join the n-gram metrics as ``judge:<dimension>``
    (mean over scored items), per item ``judge:<dimension>`` and
    ``judge:status``; unscored items stay NaN and are counted in warnings.

    Empty or whitespace-only texts are scored (0 where a metric is
    undefined) and flagged in ``per_item``; ``strict=True`` raises instead.
    """
    from .text.tokenize import SHOW_PROGRESS

    token = SHOW_PROGRESS.set(bool(progress))
    try:
        result = _evaluate(preds, refs, lang=lang, preset=preset, metrics=metrics, scale=scale, tokenize=tokenize,
                         strict=strict, n_jobs=n_jobs, suite_kwargs=dict(
                             tokenizer=tokenizer, whitespace=whitespace, user_dicts=user_dicts, hmm=hmm,
                             normalize=normalize, smoothing=smoothing, aggregation=aggregation,
                             effective_order=effective_order, rouge_counting=rouge_counting))
    finally:
        SHOW_PROGRESS.reset(token)
    if judge is not None:
        result = _add_judge(result, judge, preds, refs, contexts)
    return result


def _add_judge(result: Result, judge: Any, preds: Any, refs: Any, contexts: Any) -> Result:
    """Judge the predictions and join the scores to ``result`` by id."""
    p, r, index = validate(preds, refs)
    if contexts is not None:
        contexts, _ = _as_list(contexts, "contexts")
    jr = judge.score_pairs(p, refs=[rs[0] for rs in r], contexts=contexts, ids=result.ids)
    joined = result.join(jr.to_scores(), part="judge")
    n_scored, n = jr.summary["n_scored"], jr.summary["n_items"]
    if n_scored < n:
        joined.warnings.append(f"judge: {n - n_scored} of {n} item(s) unscored (NaN in per_item, left out of the "
                               "means; see judge:status)")
    joined.judge_result = jr
    return joined


def _runner_factory(preset: str | None, detected: str, opts: dict) -> Callable[[], Any]:
    """A picklable zero-argument callable that builds the suite or preset
    (worker processes build their own when they cannot fork)."""
    return functools.partial(_build_runner, preset, detected, tuple(sorted(opts.items())))


def _build_runner(preset: str | None, detected: str, opts: tuple) -> Any:
    from .ngram.presets import PRESETS
    from .ngram.suite import Suite

    o = dict(opts)
    if preset is None:
        return Suite(lang=detected, **o)
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[preset](lang=detected, **o)


def _suite_options(detected, tokenizer, whitespace, user_dicts, hmm, normalize, smoothing, aggregation,
                   effective_order, rouge_counting, scale, metrics) -> dict:
    tok_opts: dict = {}
    tok_name = tokenizer or ("jieba" if detected == "zh" else "13a")
    if tok_name in ("jieba", "char"):
        tok_opts["whitespace"] = whitespace or "drop"
    elif whitespace is not None:
        raise InputError(f"whitespace= applies to the jieba and char tokenizers, not {tok_name!r}")
    if tok_name == "jieba":
        tok_opts["user_dicts"] = tuple(user_dicts)
        tok_opts["hmm"] = hmm
    tok_opts["normalize"] = normalize
    return dict(tokenizer=tok_name, tokenizer_options=tuple(sorted(tok_opts.items())), smoothing=smoothing,
                aggregation=aggregation, effective_order=effective_order, rouge_counting=rouge_counting,
                scale=scale or 100, metrics=tuple(metrics) if metrics is not None else None)


class _Plan:
    """Everything decided before the per-item work: runner and options."""

    def __init__(self, *, preset, detected, lang, metrics, scale, strict, tokenize, suite_kwargs):
        from .ngram.presets import PRESET_NAMES, PRESETS
        from .ngram.suite import select_families

        self.preset, self.detected, self.lang, self.scale, self.strict = preset, detected, lang, scale, strict
        if preset is None:
            opts = _suite_options(detected, **suite_kwargs, scale=scale, metrics=metrics)
            opts["tokenizer_options"] = dict(opts["tokenizer_options"])
            self.keep = None
        else:
            if preset not in PRESETS:
                raise InputError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
            _fams, self.keep = select_families(metrics, PRESET_NAMES[preset])
            opts = {"strict": strict, "tokenize": tokenize}
        self.factory = _runner_factory(preset, detected, {k: (tuple(sorted(v.items())) if isinstance(v, dict) else v)
                                                          for k, v in opts.items()})
        self.runner = _build_runner(preset, detected, tuple(sorted(opts.items())))

    def output(self, part):
        """Scores from merged per-item work: the runner's finish, then the
        requested scale and metric selection."""
        from .ngram.presets import NATIVE_SCALE

        out = self.runner.finish(part)
        preset, scale = self.preset, self.scale
        if preset is not None:
            if scale is not None and NATIVE_SCALE[preset] != str(scale):
                if preset == "glm4":
                    raise InputError("preset 'glm4' mixes scales (ROUGE 0-100, BLEU 0-1) as its pipeline does; "
                                     "leave scale unset")
                f = scale / float(NATIVE_SCALE[preset])
                out.scores = {k: v * f for k, v in out.scores.items()}
                out.per_item = {k: v * f for k, v in out.per_item.items()}
                out.signature["scale"] = str(scale)
            if self.keep is not None:
                out.scores = {k: out.scores[k] for k in self.keep if k in out.scores}
                out.per_item = {k: v for k, v in out.per_item.items() if k in self.keep}
        return out

    def finish(self, part, empty_pred: list[bool], empty_ref: list[bool], index=None) -> "Result":
        out = self.output(part)
        preset = self.preset
        # After the preset ran: a preset whose pipeline crashes names that itself.
        if self.strict and (any(empty_pred) or any(empty_ref)):
            bad = [i for i in range(len(empty_pred)) if empty_pred[i] or empty_ref[i]]
            shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
            raise InputError(f"strict: {len(bad)} item(s) have an empty or whitespace-only prediction or reference: "
                             f"{shown}")
        sig = Signature([("judgekit", __version__), ("preset", preset or "default"),
                         ("lang", f"{self.detected}{'(auto)' if self.lang == 'auto' else ''}"),
                         *out.signature.items()])
        warnings = list(out.warnings)
        if any(empty_pred) or any(empty_ref):
            warnings.append(f"{sum(empty_pred)} empty prediction(s) and {sum(empty_ref)} item(s) with an empty "
                            "reference were scored and flagged in per_item")
        columns = dict(out.per_item)
        columns["empty_pred"] = np.asarray(empty_pred, dtype=bool)
        columns["empty_ref"] = np.asarray(empty_ref, dtype=bool)
        ids = [str(i) for i in index] if index is not None else [str(i) for i in range(part.n)]
        reducer = _NgramReducer(self, [k for k in out.scores if k not in self.not_resampled(out)])
        return Result(dict(out.scores), columns, sig, warnings, ids=ids, index=index, stats=part.to_stats(),
                      reducer=reducer)

    @staticmethod
    def not_resampled(out) -> set[str]:
        """Distinct-n needs the corpus's n-gram sets: not recomputed on a
        resample."""
        return {k for k in out.scores if k.startswith("distinct")}


class _NgramReducer:
    """Corpus scores of resampled per-item statistics, through the same
    ``finish`` as the whole corpus: corpus BLEU from the summed n-gram
    statistics (sacreBLEU-exact), means of sentence scores."""

    def __init__(self, plan: _Plan, names: Sequence[str]) -> None:
        self.plan, self.names = plan, tuple(names)

    def __call__(self, stats: Mapping[str, Any]) -> dict[str, float]:
        from .ngram.suite import Partial

        scores = self.plan.output(Partial.from_stats(stats)).scores
        return {k: scores[k] for k in self.names}


def _check_common(lang, scale):
    if lang not in ("auto", "zh", "en"):
        raise InputError(f"unknown lang {lang!r}; choose 'auto', 'zh' or 'en'")
    if scale not in (None, 1, 100):
        raise InputError(f"scale must be 1 or 100, not {scale!r}")


def _blank(texts: list[str]) -> list[bool]:
    """``not x.strip()`` for each text, without building stripped copies."""
    flags = list(map(str.isspace, texts))
    if "" in texts:  # ''.isspace() is False, but an empty text is blank too
        for i, x in enumerate(texts):
            if not x:
                flags[i] = True
    return flags


def _empties(p, r):
    """Flags of empty or whitespace-only predictions and of items with such
    a reference."""
    from .ngram.suite import flat_refs

    flat = flat_refs(r)
    if len(flat) == len(r):  # one reference per item
        return _blank(p), _blank(flat)
    return _blank(p), [any(not y or y.isspace() for y in rs) for rs in r]


def _evaluate(preds, refs, *, lang, preset, metrics, scale, tokenize, strict, n_jobs, suite_kwargs) -> Result:
    from .ngram._parallel import resolve_jobs, run_partials
    from .ngram.suite import flat_refs
    from .text.lang import detect_language

    p, r, index = validate(preds, refs)
    _check_common(lang, scale)
    detected = detect_language(itertools.chain(p, flat_refs(r))) if lang == "auto" else lang
    plan = _Plan(preset=preset, detected=detected, lang=lang, metrics=metrics, scale=scale, strict=strict,
                 tokenize=tokenize, suite_kwargs=suite_kwargs)
    part = run_partials(plan.runner, plan.factory, p, r, resolve_jobs(n_jobs))
    empty_pred, empty_ref = _empties(p, r)
    return plan.finish(part, empty_pred, empty_ref, index)


def evaluate_file(
    pairs: str | None = None,
    *,
    preds: str | None = None,
    refs: str | None = None,
    pred_field: str = "pred",
    ref_field: str = "ref",
    id_field: str | None = "id",
    chunk_size: int = 5_000,
    n_jobs: int = 1,
    lang: str = "auto",
    preset: str | None = None,
    metrics: Sequence[str] | None = None,
    scale: int | None = None,
    tokenize: str | None = None,
    strict: bool = False,
    progress: bool = False,
    **suite_options: Any,
) -> Result:
    """``evaluate`` streamed from files, ``chunk_size`` items at a time, so
    that memory stays flat however long the file is; the numbers equal
    ``evaluate`` on the whole corpus.

    Either ``pairs`` (.jsonl/.csv holding ``pred_field`` and ``ref_field``,
    the reference a string or a list of strings) or ``preds`` and ``refs``
    (.txt one segment per line, .jsonl or .csv).  ``lang="auto"`` is decided
    on the first chunk.  Other options are those of ``evaluate``.
    """
    from .ngram._parallel import Pool, _mergeable_factory, in_call_threads, mergeable, resolve_jobs
    from .ngram._parallel import partial as run_partial
    from .ngram.suite import Accumulator, flat_refs
    from .text.lang import detect_language
    from .text.tokenize import SHOW_PROGRESS
    from ._io import iter_pairs

    _check_common(lang, scale)
    if chunk_size < 1:
        raise InputError("chunk_size must be at least 1")
    allowed = {"tokenizer", "whitespace", "user_dicts", "hmm", "normalize", "smoothing", "aggregation",
               "effective_order", "rouge_counting"}
    unknown = set(suite_options) - allowed
    if unknown:
        raise InputError(f"evaluate_file got unknown option(s): {', '.join(sorted(unknown))}")
    suite_kwargs = dict(tokenizer=None, whitespace=None, user_dicts=(), hmm=True, normalize="none",
                        smoothing="exp", aggregation="corpus", effective_order=True, rouge_counting="counts")
    suite_kwargs.update(suite_options)
    jobs = resolve_jobs(n_jobs)
    rows = iter_pairs(pairs, preds=preds, refs=refs, pred_field=pred_field, ref_field=ref_field, id_field=id_field)

    plan = None
    pool = None
    ids: list = []
    empty_pred: list[bool] = []
    empty_ref: list[bool] = []
    bar = None
    token = SHOW_PROGRESS.set(False)
    try:
        if progress:
            from tqdm import tqdm

            bar = tqdm(desc="evaluating", unit="item")

        acc = Accumulator()

        def fold(parts):
            for part in parts:
                acc.add(part)

        pending: list = []
        done = False
        while not done:
            chunk_p, chunk_r = [], []
            for pid, pr, rf in rows:
                ids.append(pid)
                chunk_p.append(pr)
                chunk_r.append(rf)
                if len(chunk_p) >= chunk_size:
                    break
            else:
                done = True
            if not chunk_p:
                break
            p, r, _ = validate(chunk_p, chunk_r)
            if plan is None:
                detected = detect_language(itertools.chain(p, flat_refs(r))) if lang == "auto" else lang
                plan = _Plan(preset=preset, detected=detected, lang=lang, metrics=metrics, scale=scale, strict=strict,
                             tokenize=tokenize, suite_kwargs=suite_kwargs)
                mergeable(plan.runner)
                if jobs > 1 and in_call_threads(plan.runner):
                    plan.runner.threads = jobs  # each chunk spread over threads by the runner itself
                elif jobs > 1:
                    pool = Pool(plan.runner, functools.partial(_mergeable_factory, plan.factory), jobs)
            ep, er = _empties(p, r)
            empty_pred += ep
            empty_ref += er
            if pool is None:
                fold([run_partial(plan.runner, p, r)])
            else:
                from .ngram._parallel import split

                pending += [pool.submit((p[a:b], r[a:b])) for a, b in split(len(p), jobs)]
                if len(pending) >= 2 * jobs:
                    fold([f.result() for f in pending])
                    pending = []
            if bar is not None:
                bar.update(len(p))
        if pending:
            fold([f.result() for f in pending])
    finally:
        SHOW_PROGRESS.reset(token)
        if pool is not None:
            pool.close()
        if bar is not None:
            bar.close()
    if plan is None:
        raise InputError("no items to evaluate: the input has no rows")
    return plan.finish(acc.result(), empty_pred, empty_ref, _IdIndex(ids))


class _IdIndex(list):
    """Item ids, turned into a pandas index only when ``per_item`` is built."""
