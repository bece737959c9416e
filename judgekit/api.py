"""``judgekit.evaluate``: validate input, run a preset or the default
suite, and wrap the numbers with a signature that makes them reproducible.

Data flows one way: text (``judgekit.text``) -> counts and scores
(``judgekit.ngram``) -> ``Result``.
"""
from __future__ import annotations

import collections.abc
import itertools
import json
import math
from typing import Any, Mapping, Sequence


from ._version import __version__
from ._compat import renamed
from ._ids import Ids, RangeIds
from .errors import InputError
from .ngram.engine import ROUGE_OPTIONS, SUITE_DEFAULTS
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
            if isinstance(index, Ids):
                index = pd.Index(index.labels(), name="id")
            self._frame = pd.DataFrame(dict(self._columns), index=index)
        return self._frame

    def _changed(self) -> None:
        self._frame = None

    def rescore(self, indices: Sequence[int]) -> dict[str, float]:
        """The corpus scores of a resample of the items (indices may repeat),
        computed exactly as for the whole corpus (``Scores.resample``)."""
        return self.resample(indices)

    def bleu_stats(self, corpus: bool = False) -> dict[str, Any]:
        """BLEU's sufficient statistics: ``counts`` (clipped n-gram matches)
        and ``totals`` (hypothesis n-grams) of orders 1..n, ``sys_len`` and
        ``ref_len`` (closest reference length, ties to the shorter), as
        sacreBLEU's ``BLEUScore`` names them; per item (numpy arrays, items
        first) or, ``corpus=True``, summed (ints, what
        ``judgekit.ngram.compute_bleu`` takes).  nltk's corpus denominators
        are ``max(1, totals)`` summed per item."""
        import numpy as np

        if "bleu:matches" not in self._stats:
            if any(k.startswith("bleu-") for k in self.scores):
                raise InputError("this result's BLEU is nltk sentence_bleu per item, averaged (presets chatglm, "
                                 "llamafactory, glm4): it has no corpus statistics; BLEU statistics come with the "
                                 "default suite and preset sacrebleu")
            raise InputError("this result holds no BLEU statistics (no BLEU family was computed)")
        out = {"counts": self._stats["bleu:matches"], "totals": self._stats["bleu:totals"],
               "sys_len": self._stats["bleu:hyp_len"], "ref_len": self._stats["bleu:ref_len"]}
        if not corpus:
            return {k: np.array(v) for k, v in out.items()}
        return {"counts": [int(x) for x in np.sum(out["counts"], axis=0)],
                "totals": [int(x) for x in np.sum(out["totals"], axis=0)],
                "sys_len": int(np.sum(out["sys_len"])), "ref_len": int(np.sum(out["ref_len"]))}

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
    if isinstance(seq, (collections.abc.Set, collections.abc.Mapping, collections.abc.KeysView,
                        collections.abc.ItemsView)) or _is_frame(seq):
        keyed = isinstance(seq, collections.abc.Mapping) or _is_frame(seq)
        what = "keyed (iterating it gives its keys, not texts to pair by position)" if keyed \
            else "unordered: it has no order to pair items by"
        raise InputError(f"{name} is a {type(seq).__name__}, {what}; pass a list, "
                         "or a pandas Series with an index")
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


def _is_frame(seq: Any) -> bool:
    return hasattr(seq, "columns") and hasattr(seq, "iloc") and not hasattr(seq, "tolist")


def _is_series(seq: Any) -> bool:
    return hasattr(seq, "index") and hasattr(seq, "tolist") and hasattr(seq, "reindex") \
        and not isinstance(seq, (list, tuple))


def _align(preds: Any, refs: Any) -> Any:
    """``refs`` reordered to ``preds``' labels when both are pandas Series
    whose labels are the same set; an error when the labels differ."""
    if not (_is_series(preds) and _is_series(refs)) or preds.index.equals(refs.index):
        return refs
    pi, ri = preds.index, refs.index
    if len(pi) != len(ri):
        return refs  # the length check names this
    if not pi.is_unique or not ri.is_unique:
        raise InputError("preds and refs are pandas Series with different labels and a repeated label, so they "
                         "cannot be paired by label; reset both indexes or pass lists")
    only_p = [x for x in pi if x not in ri][:3]
    only_r = [x for x in ri if x not in pi][:3]
    if only_p or only_r:
        raise InputError(f"preds and refs are pandas Series whose labels differ: preds has {only_p!r} not in refs, "
                         f"refs has {only_r!r} not in preds; pair them up, or pass lists to pair by position")
    return refs.reindex(pi)


def _all_str(items: list) -> bool:
    return set(map(type, items)) == {str}


def _as_ids(ids: Any, n: int) -> list:
    """``ids=`` for plain sequences: one distinct, non-missing id per item."""
    if isinstance(ids, (str, bytes)):
        raise InputError("ids is a single string; pass one id per item (a list)")
    try:
        out = list(ids.tolist() if hasattr(ids, "tolist") else ids)
    except TypeError:
        raise InputError(f"ids is {type(ids).__name__}; pass one id per item (a list)") from None
    if len(out) != n:
        raise InputError(f"ids has {len(out)} items but preds has {n}; give one id per item")
    first: dict[str, int] = {}
    for i, x in enumerate(out):
        if x is None or (isinstance(x, float) and math.isnan(x)):
            raise InputError(f"ids[{i}] is missing (None or NaN); every item needs an id")
        key = str(x)
        if key in first:
            raise InputError(f"ids[{i}] {key!r} repeats ids[{first[key]}]; ids must be distinct")
        first[key] = i
    return out


def _where(name: str, i: int, index: Any) -> str:
    """``preds[3]``, with the item's id (a Series' label or ``ids=``) when it has one."""
    return f"{name}[{i}]" if index is None else f"{name}[{i}] (id {index[i]!r})"


def validate(preds: Any, refs: Any, ids: Any = None) -> tuple[list[str], list[list[str]], Any]:
    """Check and normalize ``preds`` and ``refs``; errors name the item
    (its position, and its id: a Series' label or the given ``ids``)."""
    p, index = _as_list(preds, "preds")
    r, _ = _as_list(refs, "refs")
    if index is not None and _is_series(refs):
        r, _ = _as_list(_align(preds, refs), "refs")
    if len(p) != len(r):
        raise InputError(f"preds has {len(p)} items but refs has {len(r)}; they must pair up one to one")
    if not p:
        raise InputError("no items to evaluate: preds and refs are empty")
    if ids is not None:
        if index is not None:
            raise InputError("ids= is for plain sequences: preds is a pandas Series, whose labels are the ids")
        index = _as_ids(ids, len(p))
    # fast paths for the common case (every item an exact str); anything else
    # is checked item by item so that the error names the item
    clean_p = p if _all_str(p) else [_check_text(x, _where("preds", i, index)) for i, x in enumerate(p)]
    if _all_str(r):
        from .ngram.suite import OneRefEach

        return clean_p, OneRefEach.of(r), index
    clean_r: list[list[str]] = []
    for i, x in enumerate(r):
        if isinstance(x, (list, tuple)) or (hasattr(x, "tolist") and not isinstance(x, str)):
            xs = list(x.tolist() if hasattr(x, "tolist") else x)
            if not xs:
                raise InputError(f"{_where('refs', i, index)} is an empty list; give at least one reference")
            clean_r.append([_check_text(y, f"{_where('refs', i, index)}[{j}]") for j, y in enumerate(xs)])
        else:
            clean_r.append([_check_text(x, _where("refs", i, index))])
    return clean_p, clean_r, index


@renamed(tokenize="tokenizer", aggregation="aggregate")
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
    aggregate: str = "corpus",
    effective_order: bool = True,
    bleu_order: int = 4,
    bleu_weights: Any = None,
    auto_reweigh: bool = False,
    rouge_counting: str = "counts",
    stemmer: bool = False,
    split_summaries: bool = False,
    exclusive: bool = True,
    scale: int | None = None,
    strict: bool = False,
    progress: bool = False,
    n_jobs: int = 1,
    judge: Any = None,
    contexts: Sequence[Any] | None = None,
    ids: Sequence[Any] | None = None,
) -> Result:
    """Score predictions against references.

    ``preds``: a sequence of strings; ``refs``: one string per item, or a
    list of strings per item (several references); ordered sequences only
    (a set, dict or DataFrame is an error).  Two pandas Series pair up by
    label (``refs`` follows ``preds``' labels; different labels are an
    error); a Series with a list pairs by position.  ``ids``: one distinct
    id per item for plain sequences (a Series' labels are its ids); they
    label ``per_item`` and pair the result with others by id, and errors
    name them.  ``lang`` is ``"zh"``,
    ``"en"`` or ``"auto"`` (decided once for the corpus).  ``preset``
    re-enacts a named pipeline exactly (``chatglm``, ``llamafactory``,
    ``glm4``, ``sacrebleu``, ``rouge-score``, ``rouge-chinese``, ``pltrdy-rouge``;
    ``tokenizer`` picks among a preset's own choices: zh/char/13a/intl for
    sacrebleu, jieba/default for rouge-score, jieba/whitespace for
    rouge-chinese, whitespace/jieba for pltrdy-rouge); without one, judgekit's documented default suite runs,
    configurable through ``tokenizer`` (jieba, char, zh, 13a, intl,
    whitespace), ``whitespace`` (drop/keep), ``user_dicts``/``hmm``
    (jieba), ``normalize``, ``smoothing`` (sacreBLEU's none, exp,
    floor, add-k; nltk's method0..method7; a value after a colon:
    ``"floor:0.5"``, ``"add-k:2"``, ``"method1:0.2"`` epsilon,
    ``"method4:3"``/``"method7:3"`` k, ``"method6:2"`` alpha),
    ``bleu_order`` (BLEU-1..n, any n), ``bleu_weights`` (nltk smoothings:
    a weight vector or a list of them, scored as ``bleu-w1``, ...),
    ``auto_reweigh`` (nltk's), ``aggregate`` (corpus/mean), ``rouge_counting``
    (counts/sets/lists) and ``scale`` (1 or 100); those options with a
    preset are an error (a preset re-enacts its pipeline).  ``metrics``
    selects families or names, registered metrics included
    (``judgekit.ngram.register_metric``); ``rouge-N`` for any n and
    ``rouge-lsum`` (with ``-p``/``-r``) are computed when named (default
    suite, presets rouge-score and rouge-chinese).  The ROUGE peers' own
    options: ``stemmer`` (rouge-score's ``use_stemmer``: preset rouge-score,
    tokenizer default), ``split_summaries`` (rouge-lsum's sentences by
    ``nltk.sent_tokenize`` instead of newlines), ``exclusive=False``
    (presets rouge-chinese and pltrdy-rouge: n-grams as a multiset).  See docs/options.md.
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
        result = _evaluate(preds, refs, ids=ids, lang=lang, preset=preset, metrics=metrics, scale=scale, strict=strict,
                           n_jobs=n_jobs, tokenizer=tokenizer, suite_options=dict(
                               whitespace=whitespace, user_dicts=tuple(user_dicts), hmm=hmm, normalize=normalize,
                               smoothing=smoothing, aggregate=aggregate, effective_order=effective_order,
                               bleu_order=bleu_order, bleu_weights=bleu_weights, auto_reweigh=auto_reweigh,
                               rouge_counting=rouge_counting),
                           rouge_options=dict(stemmer=stemmer, split_summaries=split_summaries, exclusive=exclusive))
    finally:
        SHOW_PROGRESS.reset(token)
    if judge is not None:
        result = _add_judge(result, judge, preds, refs, contexts, ids)
    return result


def _add_judge(result: Result, judge: Any, preds: Any, refs: Any, contexts: Any, ids: Any = None) -> Result:
    """Judge the predictions and join the scores to ``result`` by id."""
    p, r, index = validate(preds, refs, ids)
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


def _evaluate(preds, refs, *, ids=None, lang, preset, metrics, scale, strict, n_jobs, tokenizer, suite_options,
              rouge_options=None) -> Result:
    from .ngram import engine
    from .ngram.suite import flat_refs
    from .text.lang import detect_language

    p, r, index = validate(preds, refs, ids)
    _check_common(lang, scale)
    detected = detect_language(itertools.chain(p, flat_refs(r))) if lang == "auto" else lang
    plan = _plan(preset=preset, detected=detected, lang=lang, metrics=metrics, scale=scale, strict=strict,
                 tokenizer=tokenizer, suite_options=suite_options, rouge_options=rouge_options)
    traps = _language_traps(itertools.chain(p, flat_refs(r)), lang=lang, preset=preset, tokenizer=tokenizer)
    if traps and strict:
        raise InputError("strict: " + "; ".join(traps))
    part = engine.run(plan, p, r, n_jobs)
    empty_pred, empty_ref = _empties(p, r)
    result = _result(plan, part, empty_pred, empty_ref, index)
    result.warnings.extend(traps)
    return result


_LATIN_TOKENIZERS = {"13a", "intl", "whitespace", "default"}


def _language_traps(texts: Any, *, lang: str, preset: str | None, tokenizer: str | None) -> list[str]:
    """The settings that silently score Chinese near 0, and Chinese that
    arrives space-separated (decoded by a BERT-style tokenizer): each a
    warning (``strict=True``: an error).  On the language-detection sample;
    the counting runs only where a trap is possible, so a plain call pays
    one regex scan."""
    import re

    from .text.lang import SAMPLE_CHARS, han_and_words

    parts, seen = [], 0
    for t in texts:
        parts.append(t)
        seen += len(t)
        if seen >= SAMPLE_CHARS:
            break
    sample = "\n".join(parts)
    if preset in ("rouge-chinese", "pltrdy-rouge"):
        return _unsegmented(sample, preset, tokenizer)
    out = []
    why = "lang='en'" if lang == "en" else (f"tokenizer={tokenizer!r}" if tokenizer in _LATIN_TOKENIZERS else None)
    if why:
        han, words = han_and_words(sample)
        if han and han >= words:
            out.append(f"the texts are Chinese ({han} Han characters, {words} Latin words in the first "
                       f"{len(sample)} characters) but {why} does not segment Chinese: its scores are near 0 "
                       "(use lang='zh' or 'auto', or a Chinese tokenizer: jieba, char, zh)")
    pair = re.compile(r"[\u4e00-\u9fff] (?=[\u4e00-\u9fff])")
    if pair.search(sample):
        counts = [han_and_words(t)[0] for t in parts]
        chinese = [t for t, h in zip(parts, counts) if h >= 5]
        spaced = [t for t, h in zip(parts, counts) if h >= 5 and len(pair.findall(t)) > 0.5 * h]
        if chinese and len(spaced) >= 0.2 * len(chinese):
            han, words = han_and_words(sample)
            if han >= words:
                out.append(f"{len(spaced)} of {len(chinese)} Chinese texts arrive space-separated (a space between "
                           "most Han characters, as a BERT-style tokenizer decodes them): spaces change the "
                           "segmentation and, where whitespace is kept, become tokens; join the characters first "
                           "(e.g. ''.join(text.split()))")
    return out


def _unsegmented(sample: str, preset: str, tokenizer: str | None) -> list[str]:
    """Presets rouge-chinese / pltrdy-rouge with tokenizer 'whitespace' (the
    text as given; pltrdy-rouge's default) take space-separated words:
    Chinese that arrives unsegmented is one 'word' per phrase, and scores
    near 0."""
    import re

    from .text.lang import han_and_words

    tok = tokenizer or ("whitespace" if preset == "pltrdy-rouge" else "jieba")
    if tok != "whitespace":
        return []
    han, words = han_and_words(sample)
    if not han or han < words:
        return []
    han_tokens = len(re.findall(r"\S*[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]\S*", sample))
    if han < 4 * han_tokens:  # jieba's words: under 2 Han characters each on average
        return []
    return [f"the texts are Chinese not split into words ({han} Han characters in {han_tokens} space-separated "
            f"tokens in the first {len(sample)} characters) but preset {preset!r} with tokenizer 'whitespace' "
            "takes the text as space-separated words: its scores are near 0 (use tokenizer='jieba', CLI "
            "--tokenizer jieba, or segment the texts first)"]


def _plan(*, preset, detected, lang, metrics, scale, strict, tokenizer, suite_options, rouge_options=None,
          explicit=()):
    """``explicit``: the suite options the caller named (evaluate_file, the
    CLI), refused with a preset even at their default value."""
    from .ngram.engine import Plan

    if preset is None:
        return Plan(preset=None, detected=detected, lang=lang, metrics=metrics, scale=scale, strict=strict,
                    suite_options=dict(suite_options, tokenizer=tokenizer), rouge_options=rouge_options)
    given = [k for k, v in suite_options.items() if v != _SUITE_DEFAULTS[k] or k in explicit]
    if given:
        raise InputError(f"preset {preset!r} re-enacts its pipeline exactly; {', '.join(given)} appl"
                         f"{'ies' if len(given) == 1 else 'y'} to the default suite only")
    return Plan(preset=preset, detected=detected, lang=lang, metrics=metrics, scale=scale, strict=strict,
                preset_tokenizer=tokenizer, rouge_options=rouge_options)


def _result(plan, part, empty_pred, empty_ref, index) -> Result:
    ev = plan.finish(part, empty_pred, empty_ref)
    sig = Signature([("judgekit", __version__), ("preset", plan.preset or "default"),
                     ("lang", f"{plan.detected}{'(auto)' if plan.lang == 'auto' else ''}"), *ev.signature])
    ids = index if isinstance(index, Ids) else [str(i) for i in index] if index is not None else RangeIds(part.n)
    return Result(ev.scores, ev.per_item, sig, ev.warnings, ids=ids, index=index, stats=ev.stats, reducer=ev.reducer)


# the default suite's options and defaults (the tokenizer is evaluate's own argument)
_SUITE_DEFAULTS = {k: v for k, v in SUITE_DEFAULTS.items() if k != "tokenizer"}


@renamed(tokenize="tokenizer", aggregation="aggregate")
def evaluate_file(
    pairs: str | None = None,
    *,
    preds: str | None = None,
    refs: str | None = None,
    pred_field: str | None = None,
    ref_field: str | None = None,
    id_field: str | None = "id",
    chunk_size: int = 5_000,
    n_jobs: int = 1,
    lang: str = "auto",
    preset: str | None = None,
    metrics: Sequence[str] | None = None,
    scale: int | None = None,
    tokenizer: str | None = None,
    strict: bool = False,
    progress: bool = False,
    per_item_path: str | None = None,
    **suite_options: Any,
) -> Result:
    """``evaluate`` streamed from files, ``chunk_size`` items at a time; the
    numbers equal ``evaluate`` on the whole corpus.

    Either ``pairs`` (.jsonl/.csv holding ``pred_field`` and ``ref_field``,
    the reference a string or a list of strings) or ``preds`` and ``refs``
    (.txt one segment per line, .jsonl or .csv).  A field not given is found
    by name (``pred`` / ``ref``, else one of other pipelines' names such as
    LLaMA-Factory's ``predict`` / ``label``: ``judgekit.io.FIELD_NAMES``).
    Items are keyed by ``id_field`` when the first record has it, else
    numbered from 0.  ``lang="auto"`` is decided on the first chunk, and
    the settings that score Chinese near 0 are warned about from it (as
    ``evaluate`` warns, ``strict=True``: an error).  Other
    options are those of ``evaluate``.

    The per-item values and the ids go to disk as each chunk finishes (a
    temporary file, mapped back read-only: ``per_item``, significance and
    resampling read them from there; ids that are record numbers are a
    range), so memory holds Distinct's n-gram sets and one chunk, whatever
    the item count.  A repeated id is an error naming it and its file
    lines.  ``per_item_path`` (.csv or .jsonl) writes the per-item rows
    there too, a slice at a time.
    """
    import tempfile

    from ._ids import IdWriter, RepeatedIds
    from .io import iter_pairs
    from .ngram import engine
    from .ngram.engine import Spilled, release
    from .ngram.suite import flat_refs
    from .text.lang import detect_language
    from .text.tokenize import SHOW_PROGRESS

    _check_common(lang, scale)
    if per_item_path is not None and not str(per_item_path).endswith((".csv", ".jsonl")):
        raise InputError(f"per_item_path (--per-item) {per_item_path!r}: unknown extension; write the per-item rows "
                         "to a .csv or .jsonl file")
    if chunk_size < 1:
        raise InputError("chunk_size must be at least 1")
    unknown = set(suite_options) - set(_SUITE_DEFAULTS) - set(ROUGE_OPTIONS)
    if unknown:
        raise InputError(f"evaluate_file got unknown option(s): {', '.join(sorted(unknown))}")
    rouge_options = {k: suite_options.pop(k) for k in list(suite_options) if k in ROUGE_OPTIONS}
    explicit = tuple(suite_options)
    options = {**_SUITE_DEFAULTS, **suite_options}
    rows = iter_pairs(pairs, preds=preds, refs=refs, pred_field=pred_field, ref_field=ref_field, id_field=id_field)
    ids = IdWriter()  # on disk, or a range of record numbers
    flags = (tempfile.TemporaryFile(), tempfile.TemporaryFile())  # empty pred / ref: a byte an item, on disk

    def chunks():
        done = False
        while not done:
            chunk_i, chunk_p, chunk_r = [], [], []
            for pid, pr, rf in rows:
                chunk_i.append(pid)
                chunk_p.append(pr)
                chunk_r.append(rf)
                if len(chunk_p) >= chunk_size:
                    break
            else:
                done = True
            if not chunk_p:
                return
            ids.add(chunk_i)
            p, r, _ = validate(chunk_p, chunk_r)
            ep, er = _empties(p, r)
            flags[0].write(bytes(ep))
            flags[1].write(bytes(er))
            yield p, r

    traps: list[str] = []

    def make_plan(p, r):
        detected = detect_language(itertools.chain(p, flat_refs(r))) if lang == "auto" else lang
        plan = _plan(preset=preset, detected=detected, lang=lang, metrics=metrics, scale=scale, strict=strict,
                     tokenizer=tokenizer, suite_options=options, rouge_options=rouge_options, explicit=explicit)
        # the settings that score Chinese near 0, as evaluate warns of them (on the first chunk)
        traps.extend(_language_traps(itertools.chain(p, flat_refs(r)), lang=lang, preset=preset,
                                     tokenizer=tokenizer))
        if traps and strict:
            raise InputError("strict: " + "; ".join(traps))
        return plan

    bar = None
    token = SHOW_PROGRESS.set(False)
    try:
        if progress:
            from ._progress import bar as progress_bar

            bar = progress_bar(None, "evaluating", "item", show=True)  # a stream: no total known
        plan, part = engine.stream(chunks(), make_plan, n_jobs, bar.update if bar is not None else None,
                                     spill=True)
        if plan is None:
            raise InputError("no items to evaluate: the input has no rows")
        index = ids.finish()
        for fh in flags:
            fh.flush()
        empty_pred, empty_ref = (Spilled(fh, dtype=bool, mode="r", shape=(part.n,)) for fh in flags)
    except RepeatedIds as exc:
        raise InputError(f"item ids repeat: {_repeat_lines(exc, pairs, id_field)}") from None
    finally:
        ids.discard()
        for fh in flags:
            fh.close()  # a mapping keeps its bytes
        SHOW_PROGRESS.reset(token)
        if bar is not None:
            bar.close()
    result = _result(plan, part, empty_pred, empty_ref, index)
    result.warnings.extend(traps)
    for v in [*result._columns.values(), *result._stats.values()]:
        release(v)  # what scoring read of the mapped per-item values
    if per_item_path is not None:
        _write_per_item(result, per_item_path)
    return result


def _write_per_item(result: Result, path: str, rows: int = 20_000) -> None:
    """The per-item rows, a slice at a time, as one DataFrame of every item
    would write them (.jsonl: pandas' records, each with its ``id`` first;
    .csv: an ``id`` column, floats in their shortest repr, NaN empty,
    written without pandas), the
    mapped pages handed back as it goes."""
    import csv
    import os

    import numpy as np

    from .ngram.engine import release

    ids, names = result._ids, result.column_names  # a slice at a time too
    jsonl = path.endswith(".jsonl")
    try:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = None if jsonl else csv.writer(fh, lineterminator=os.linesep)
            if writer is not None:
                writer.writerow(["id", *names])
            for lo in range(0, len(ids), rows):
                hi = min(len(ids), lo + rows)
                cols = {k: np.asarray(result.column(k)[lo:hi]) for k in names}
                if jsonl:
                    import pandas as pd

                    frame = pd.DataFrame({"id": ids[lo:hi], **cols})
                    fh.write(frame.to_json(orient="records", lines=True, force_ascii=False).rstrip("\n") + "\n")
                else:
                    text = []
                    for v in cols.values():
                        t = v.astype(str)
                        if v.dtype.kind == "f":
                            t[np.isnan(v)] = ""
                        text.append(t.tolist())
                    writer.writerows(zip(ids[lo:hi], *text))
                for k in names:
                    release(result.column(k))
    except OSError as exc:
        raise InputError(f"per_item_path {path}: cannot write the file ({exc})") from None


def _repeat_lines(exc: Any, pairs: Any, id_field: Any) -> str:
    """The repeated ids with the file lines of their first and repeated
    records (the file read again up to the last one named)."""
    from .errors import listing
    from .io import read_records

    want = {k for _, a, b in exc.repeats for k in (a, b)}
    where: dict[int, str] = {}
    if pairs is not None and want:
        for n, (loc, _) in enumerate(read_records(pairs, id_fields=(id_field,) if id_field else ())):
            if n in want:
                where[n] = loc
                if len(where) == len(want):
                    break
    shown = [f"{i!r} at {where.get(b, f'item {b}')} (first at {where.get(a, f'item {a}')})"
             for i, a, b in exc.repeats]
    return listing(shown, exc.count)
