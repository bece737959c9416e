"""The n-gram engine: what ``judgekit.evaluate`` runs once its input is
validated.

``Plan`` holds everything decided before the per-item work (the runner,
its options, the requested scale and metric selection); ``run`` does the
per-item work in one call, in threads or in worker processes; ``stream``
does it chunk by chunk from an iterator (``evaluate_file``).  Either way
``Plan.finish`` turns the merged partials into an ``Evaluation``: scores,
per-item columns, signature parts, the per-item statistics and the reducer
that recomputes the scores on any resample of them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ._parallel import Pool, _mergeable_factory, in_call_threads, mergeable, resolve_jobs, run_partials, split
from ._parallel import partial as run_partial
from .presets import PRESETS
from .presets import preset as preset_row
from .presets import rescale
from ._spill import Spilled, release  # mapped per-item values (evaluate_file)
from .suite import Accumulator, Output, Partial, Suite, select_families

__all__ = ["Plan", "Evaluation", "NgramReducer", "run", "stream", "resolve_jobs", "release", "Spilled"]

SUITE_DEFAULTS = dict(tokenizer=None, whitespace=None, user_dicts=(), hmm=True, normalize="none", smoothing="exp",
                      aggregate="corpus", effective_order=True, rouge_counting="counts", bleu_order=4,
                      bleu_weights=None, auto_reweigh=False)
# the ROUGE peers' own options (rouge-score's use_stemmer and split_summaries,
# rouge-chinese's exclusive): for the presets that declare them
# (``Preset.accepts``) and, split_summaries, the default suite
ROUGE_OPTIONS = dict(stemmer=False, split_summaries=False, exclusive=True)


@dataclass
class Evaluation:
    """What ``Plan.finish`` hands back to ``evaluate``."""

    scores: dict[str, float]
    per_item: dict[str, np.ndarray]
    signature: list[tuple[str, str]]  # the runner's parts, after judgekit/preset/lang
    warnings: list[str]
    stats: dict[str, np.ndarray]
    reducer: "NgramReducer"


def _build_runner(preset: str | None, detected: str, opts: tuple) -> Any:
    o = dict(opts)
    if preset is None:
        return Suite(lang=detected, **o)
    return preset_row(preset).build(lang=detected, **o)


def _suite_options(detected, tokenizer, whitespace, user_dicts, hmm, normalize, smoothing, aggregate,
                   effective_order, rouge_counting, scale, metrics, bleu_order=4, bleu_weights=None,
                   auto_reweigh=False) -> dict:
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
                aggregation=aggregate, effective_order=effective_order, rouge_counting=rouge_counting,
                scale=scale or 100, metrics=tuple(metrics) if metrics is not None else None,
                **_bleu_options(bleu_order, bleu_weights, auto_reweigh))


def _bleu_options(order: Any, weights: Any, auto_reweigh: Any) -> dict:
    """``bleu_order``, ``bleu_weights`` (one weight vector or a list of
    them, as nltk takes) and ``auto_reweigh`` checked and made hashable."""
    if type(order) is not int or order < 1:
        raise InputError(f"bleu_order must be a positive integer, not {order!r}")
    vectors: tuple = ()
    if weights is not None:
        rows = list(weights) if not isinstance(weights, (str, bytes)) else None
        if rows and all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in rows):
            rows = [rows]  # one vector
        if not rows or not all(isinstance(w, (tuple, list)) and w for w in rows):
            raise InputError(f"bleu_weights must be a weight vector such as (0.1, 0.3, 0.5, 0.1) or a list of "
                             f"them, not {weights!r}")
        for w in rows:
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x == x for x in w):
                raise InputError(f"bleu_weights: {w!r} holds a value that is not a number")
        vectors = tuple(tuple(w) for w in rows)
    if not isinstance(auto_reweigh, bool):
        raise InputError(f"auto_reweigh must be True or False, not {auto_reweigh!r}")
    return dict(bleu_order=order, bleu_weights=vectors, auto_reweigh=auto_reweigh)


class Plan:
    """The runner and everything decided before the per-item work.

    ``preset``: None (the default suite, configured by ``suite_options``)
    or a preset name (configured by ``preset_tokenizer``); ``detected``: the
    language the texts are in; ``lang``: what the caller asked for."""

    def __init__(self, *, preset: str | None, detected: str, lang: str, metrics: Sequence[str] | None,
                 scale: int | None, strict: bool, preset_tokenizer: str | None = None,
                 suite_options: Mapping[str, Any] | None = None,
                 rouge_options: Mapping[str, Any] | None = None) -> None:
        self.preset, self.detected, self.lang, self.scale, self.strict = preset, detected, lang, scale, strict
        given = {k: v for k, v in dict(rouge_options or {}).items() if v != ROUGE_OPTIONS[k]}
        if preset is None:
            if given.get("stemmer"):
                raise InputError("stemmer= is rouge-score's use_stemmer, which only its own tokenizer applies: use "
                                 "preset='rouge-score' with tokenizer='default'")
            if "exclusive" in given:
                raise InputError("exclusive= is rouge-chinese's (preset='rouge-chinese' or 'pltrdy-rouge'); the "
                                 "default suite spells it rouge_counting='lists'")
            opts = _suite_options(detected, **{**SUITE_DEFAULTS, **dict(suite_options or {})}, scale=scale,
                                  metrics=metrics)
            opts["tokenizer_options"] = dict(opts["tokenizer_options"])
            if given.get("split_summaries"):
                opts["split_summaries"] = True
            self.keep = None
        else:
            row = preset_row(preset)
            if preset_tokenizer is not None and not row.tokenizers:
                raise InputError(f"preset {preset!r} re-enacts its pipeline exactly and has no tokenizer choice "
                                 f"(tokenizer={preset_tokenizer!r} given); tokenizer applies to the default suite "
                                 "and presets " + ", ".join(n for n, r in PRESETS.items() if r.tokenizers))
            if lang not in ("auto", *row.langs):
                raise InputError(f"preset {preset!r} re-enacts a pipeline for {'/'.join(row.langs)} text only, "
                                 f"with no setting for lang={lang!r}; leave lang unset (or use the default suite)")
            wrong = [k for k in given if k not in row.accepts]
            takes = [k for k in row.accepts if k in ROUGE_OPTIONS]
            if wrong:
                raise InputError(f"preset {preset!r} does not take {', '.join(wrong)}"
                                 + (f" (it takes {', '.join(takes)})" if takes else ""))
            _fams, self.keep = select_families(metrics, row.names_for(metrics))
            opts = {"strict": strict, "tokenize": preset_tokenizer, **given}
            if "rouge_types" in row.accepts:
                opts["metrics"] = tuple([metrics] if isinstance(metrics, str) else metrics or ())
        frozen = tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in opts.items()))
        # picklable: worker processes that cannot fork build their own runner
        self.factory: Callable[[], Any] = functools.partial(_build_runner, preset, detected, frozen)
        self.runner = _build_runner(preset, detected, tuple(sorted(opts.items())))

    def output(self, part: Partial) -> Output:
        """Scores from merged per-item work: the runner's finish, then the
        requested scale and metric selection."""
        out = self.runner.finish(part)
        if self.preset is not None:
            out = rescale(out, self.preset, self.scale)
            if self.keep is not None:
                out.scores = {k: out.scores[k] for k in self.keep if k in out.scores}
                out.per_item = {k: v for k, v in out.per_item.items() if k in self.keep}
        return out

    def finish(self, part: Partial, empty_pred: Sequence[bool], empty_ref: Sequence[bool]) -> Evaluation:
        out = self.output(part)
        # After the preset ran: a preset whose pipeline crashes names that itself.
        if self.strict and (np.any(empty_pred) or np.any(empty_ref)):
            bad = [i for i in range(len(empty_pred)) if empty_pred[i] or empty_ref[i]]
            shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
            raise InputError(f"strict: {len(bad)} item(s) have an empty or whitespace-only prediction or reference: "
                             f"{shown}")
        warnings = list(out.warnings)
        if np.any(empty_pred) or np.any(empty_ref):
            warnings.append(f"{int(np.sum(empty_pred))} empty prediction(s) and {int(np.sum(empty_ref))} item(s) "
                            "with an empty reference were scored and flagged in per_item")
        per_item = dict(out.per_item)
        per_item["empty_pred"] = np.asanyarray(empty_pred, dtype=bool)  # a mapped array stays one (evaluate_file)
        per_item["empty_ref"] = np.asanyarray(empty_ref, dtype=bool)
        skip = set(out.not_resampled)
        reducer = NgramReducer(self, [k for k in out.scores if k not in skip])
        return Evaluation(dict(out.scores), per_item, list(out.signature.items()), warnings, part.to_stats(), reducer)


class NgramReducer:
    """Corpus scores of resampled per-item statistics, through the same
    ``finish`` as the whole corpus: corpus BLEU from the summed n-gram
    statistics (sacreBLEU-exact), means of sentence scores, registered
    metrics from their own statistics."""

    def __init__(self, plan: Plan, names: Sequence[str]) -> None:
        self.plan, self.names = plan, tuple(names)

    def __call__(self, stats: Mapping[str, Any]) -> dict[str, float]:
        scores = self.plan.output(Partial.from_stats(stats)).scores
        return {k: scores[k] for k in self.names}

    def hyp_tokens(self, texts: Sequence[str]) -> list[list[str]] | None:
        """The default suite's tokens of ``texts``, the words its Distinct-n
        counts (None for a preset, which has no Distinct): a report can
        rebuild Distinct's n-gram sets per resample from them."""
        runner = self.plan.runner
        if not isinstance(runner, Suite):
            return None
        return runner.tokenizer.tokenize_many(list(texts))

    def hyp_ids(self, texts: Sequence[str]) -> tuple[bytes, bytes, list[str]] | None:
        """``hyp_tokens`` as the compiled segmenter's ids (``ids_many``: the
        very ids the suite counted Distinct on), without a str per token;
        None where the suite has no id path."""
        runner = self.plan.runner
        if not isinstance(runner, Suite) or not runner.id_path:
            return None
        return runner.tokenizer.ids_many(list(texts))

    def columns(self, stats: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """The per-item statistics whose sums give every score, as one
        float matrix (items x columns): the sentence-score columns, then
        BLEU's integer counts.  None where the runner's finish is not made
        of such sums (registered metrics, nltk-family corpus BLEU): the
        caller then resamples one at a time."""
        runner = self.plan.runner
        if type(runner) not in _VECTORISED or (isinstance(runner, Suite) and runner.extra):
            return None
        if isinstance(runner, Suite) and "bleu" in runner.fams and runner.bleu.aggregation == "corpus" \
                and runner.bleu.family != "sacrebleu":
            return None  # nltk sums max(1, .) per item: not a plain sum
        keys = [k for k in stats if k.startswith("item:")]
        self._keys = keys
        parts = [np.asarray(stats[k], dtype=float).reshape(-1, 1) for k in keys]
        self._bleu_k = 0
        if "bleu:hyp_len" in stats:
            counts = [np.asarray(stats[f"bleu:{f}"]) for f in ("hyp_len", "ref_len", "matches", "totals")]
            self._bleu_k = counts[2].shape[1] if counts[2].ndim == 2 else 1
            ints = np.column_stack([c.reshape(len(c), -1) for c in counts]).astype(float)
            if ints.size and float(np.abs(ints).sum(axis=0).max()) * len(ints) >= 2.0 ** 53:
                return None  # too large to sum exactly in a double
            parts.append(ints)
        n = len(next(iter(stats.values())))
        return np.hstack(parts) if parts else np.zeros((n, 0))

    def from_sums(self, sums: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray] | None:
        """Every resample's scores from its column sums (``columns``) and its
        size ``m``.  Means are sums / m; corpus BLEU gets the integer count
        sums (exact: a float64 sum of integers below 2**53 is exact in any
        order) and runs the corpus formula, the very code ``finish`` runs,
        so a resample's corpus BLEU is bit for bit the loop's."""
        runner, plan = self.plan.runner, self.plan
        keys = self._keys
        means = {k[5:]: sums[:, j] / m for j, k in enumerate(keys)}
        bleu_sums = None
        if self._bleu_k:
            k = self._bleu_k
            total = np.rint(sums[:, len(keys):]).astype(np.int64)
            bleu_sums = {"hyp_len": total[:, 0], "ref_len": total[:, 1], "matches": total[:, 2:2 + k],
                         "totals": total[:, 2 + k:2 + 2 * k]}
        scores = _VECTORISED[type(runner)](runner, means, bleu_sums, m)
        if scores is None:
            return None
        if plan.preset is not None:
            out = rescale(Output(scores, {}, {}, []), plan.preset, plan.scale)
            scores = out.scores
            if plan.keep is not None:
                scores = {k: scores[k] for k in plan.keep if k in scores}
        return {k: np.asarray(scores[k], dtype=float) for k in self.names}

    def many(self, stats: Mapping[str, np.ndarray], counts: np.ndarray) -> dict[str, np.ndarray] | None:
        """Every resample at once (``counts[b, i]``: how often item ``i`` is
        drawn in resample ``b``): ``from_sums(counts @ columns)``."""
        cols = self.columns(stats)
        if cols is None:
            return None
        fc = counts.astype(float)
        return self.from_sums(fc @ cols, fc.sum(axis=1))


def _corpus_bleu_many(bleu: Any, sums: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Corpus BLEU of each resample from its summed statistics.  For the
    sacreBLEU family the corpus formula reads only the sums, and it is the
    formula ``sentence_scores`` applies to each row; so the resamples' sums
    go in as rows (the compiled kernel replays the same float operations),
    and each value is the one-at-a-time corpus BLEU bit for bit."""
    from ._stats import BleuStats

    rows = BleuStats(sums["hyp_len"], sums["ref_len"], sums["matches"], sums["totals"])
    return bleu.sentence_scores(rows)


def _suite_many(runner: Suite, means: dict, sums: dict | None, m: np.ndarray) -> dict[str, np.ndarray] | None:
    fams, scale = runner.fams, runner.scale
    out: dict[str, np.ndarray] = {}
    if "bleu" in fams:
        if runner.bleu.aggregation == "mean":
            out.update({k: means[k] for k in runner.bleu.names()})
        else:
            if runner.bleu.family != "sacrebleu" or sums is None:
                return None  # nltk sums max(1, .) per item: not a plain sum
            f = scale / runner.bleu.native_scale
            out.update({k: v * f if f != 1 else v for k, v in _corpus_bleu_many(runner.bleu, sums).items()})
    if "rouge" in fams:
        out.update({k: means[k] for k in runner.rouge.names()})
    if "length" in fams and sums is not None:
        h, r = sums["hyp_len"].astype(float), sums["ref_len"].astype(float)
        out["len-pred"] = h / m
        out["len-ref"] = r / m
        with np.errstate(divide="ignore", invalid="ignore"):
            out["len-ratio"] = np.where(r > 0, h / np.where(r > 0, r, 1), 0.0)
    if runner.keep is not None:
        out = {k: out[k] for k in runner.keep if k in out}
    return out


def _means_many(runner: Any, means: dict, sums: dict | None, m: np.ndarray) -> dict[str, np.ndarray]:
    return {k: means[k] for k in runner.names if k in means}


def _sacrebleu_many(runner: Any, means: dict, sums: dict | None, m: np.ndarray) -> dict[str, np.ndarray] | None:
    return None if sums is None else _corpus_bleu_many(runner.corpus, sums)


def _vectorised_table() -> dict[type, Callable]:
    from .presets import GLM4, ChatGLM, PltrdyRouge, RougeChinese, RougeScore, SacreBLEU

    return {Suite: _suite_many, ChatGLM: _means_many, GLM4: _means_many, RougeScore: _means_many,
            RougeChinese: _means_many, PltrdyRouge: _means_many, SacreBLEU: _sacrebleu_many}


_VECTORISED = _vectorised_table()


def run(plan: Plan, preds: Sequence[str], refs: Sequence[Sequence[str]], n_jobs: int = 1) -> Partial:
    """The per-item work of the whole input: one call, threads inside the
    runner, or chunks in worker processes (``n_jobs``)."""
    return run_partials(plan.runner, plan.factory, preds, refs, resolve_jobs(n_jobs))


def stream(chunks: Iterable[tuple[list[str], list[list[str]]]], make_plan: Callable[[list, list], Plan],
           n_jobs: int = 1, on_chunk: Callable[[int], None] | None = None,
           spill: bool = False) -> tuple[Plan | None, Partial | None]:
    """The per-item work chunk by chunk: ``make_plan`` sees the first chunk
    (language detection); chunks run in this process, in the runner's
    threads, or in worker processes; partials merge as they arrive, so
    memory holds one copy of the per-item values, or none with ``spill``
    (they go to disk as each chunk finishes: ``_spill``)."""
    jobs = resolve_jobs(n_jobs)
    plan: Plan | None = None
    pool = None
    if spill:
        from ._spill import SpillAccumulator

        acc: Any = SpillAccumulator()
    else:
        acc = Accumulator()
    pending: list = []
    ok = False
    try:
        for p, r in chunks:
            if plan is None:
                plan = make_plan(p, r)
                mergeable(plan.runner)
                if jobs > 1 and in_call_threads(plan.runner):
                    plan.runner.threads = jobs  # each chunk spread over threads by the runner itself
                elif jobs > 1:
                    pool = Pool(plan.runner, functools.partial(_mergeable_factory, plan.factory), jobs)
            if pool is None:
                acc.add(run_partial(plan.runner, p, r))
            else:
                pending += [pool.submit((p[a:b], r[a:b])) for a, b in split(len(p), jobs)]
                if len(pending) >= 2 * jobs:
                    for f in pending:
                        acc.add(f.result())
                    pending = []
            if on_chunk is not None:
                on_chunk(len(p))
        for f in pending:
            acc.add(f.result())
        ok = True
    finally:
        if pool is not None:
            pool.close()
        if spill and (not ok or plan is None):
            acc.discard()
    return plan, (acc.result() if plan is not None else None)
