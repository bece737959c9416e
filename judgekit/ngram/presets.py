"""Presets: named pipelines re-enacted exactly, float operation by float
operation, so that a paper's numbers can be reproduced and compared.

``chatglm``       ChatGLM-6B / ChatGLM2-6B ptuning ``compute_metrics`` (the
                  stack SoulChat documents): rouge-chinese ROUGE-1/2/L F on
                  jieba words and nltk BLEU-4 (method3) on characters
                  (``list(text)``, whitespace kept), each per item x100
                  rounded to 4 dp, then ``np.mean``.  0-100.
``llamafactory``  LLaMA-Factory ``ComputeSimilarity``: as ``chatglm`` with its
                  guard (ROUGE 0 where a side has no token).
``glm4``          ChatGLM3 / GLM-4 finetune: texts stripped, BLEU-4 on jieba
                  words, 0-1 and unrounded; ROUGE as ``chatglm``.
``sacrebleu``     sacreBLEU corpus BLEU-1..4 (``max_ngram_order=n``), ``exp``
                  smoothing, tokenize ``zh`` (Chinese) / ``13a``, or as given.
``rouge-score``   rouge-score ROUGE-1/2/L P/R/F with a jieba tokenizer
                  (tokens verbatim, as ``list(jieba.cut(text))``), mean. 0-1.
                  ``metrics=`` adds any ``rouge-N`` and ``rouge-lsum``;
                  ``stemmer``/``split_summaries`` are its ``use_stemmer``
                  (tokenizer ``default``) and ``split_summaries``.
``rouge-chinese`` rouge-chinese ``Rouge().get_scores`` on
                  ``" ".join(jieba.cut(text))`` (tokenizer ``jieba``) or on
                  the text as given (``whitespace``: already space-separated
                  words): ROUGE-N (any n) / ROUGE-L P/R/F, lengths, mean
                  (``avg=True``), unrounded, 0-1; ``exclusive=False`` as its own.
``pltrdy-rouge``  rouge 1.0.1 (pltrdy, PyPI ``rouge``), rouge-chinese's
                  parent: sentences split at ".", ROUGE-L summary-level
                  (union LCS over sentence pairs; distinct words with
                  ``exclusive``); text as given (``whitespace``) or jieba.

The original ChatGLM-6B and ChatGLM3/GLM-4 pipelines crash with
``ValueError: Hypothesis is empty.`` on an empty or whitespace-only
prediction or reference.  judgekit scores such items 0 (LLaMA-Factory's
guard) and flags them; ``strict=True`` raises instead, naming the items.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from ..text.tokenize import JiebaTokenizer, SacreTokenizer
from ._stats import bleu_stats, lcs_table, rouge_stats
from .bleu import BLEU
from .rouge import RAW, ROUGE, rouge_chinese_words, rouge_chinese_words_of_jieba, types_for
from .protocol import Runner
from .suite import Output, Partial, flat_refs, lsum_sentence_stats, split_refs

FOUR = ["rouge-1", "rouge-2", "rouge-l", "bleu-4"]
ROUGE_CHINESE = "rouge-chinese-1.0.3-semantics"


def _single_refs(refs: Sequence[Sequence[str]], preset: str) -> list[str]:
    for i, rs in enumerate(refs):
        if len(rs) != 1:
            raise InputError(f"preset {preset!r} takes one reference per item, as its pipeline does; "
                             f"item {i} has {len(rs)}")
    return [rs[0] for rs in refs]


def _x100_round4(values: np.ndarray) -> np.ndarray:
    return np.array([round(v * 100, 4) for v in values.tolist()])


def _rouge_chinese(hyp_toks, ref_toks) -> tuple[dict[str, np.ndarray], list[int]]:
    """rouge-chinese F per item (x100, rounded) and the items it crashes on."""
    hw = [rouge_chinese_words_of_jieba(t) for t in hyp_toks]
    rw = [rouge_chinese_words_of_jieba(t) for t in ref_toks]
    empty = [i for i, (h, r) in enumerate(zip(hw, rw)) if h is None or r is None]
    raw = ROUGE("sets").sentence_scores(rouge_stats([h or [] for h in hw], [[r or []] for r in rw]), len(hw))
    return {f"rouge-{t}": _x100_round4(raw[f"rouge-{t}"]) for t in ("1", "2", "l")}, empty


def _crash_check(part: Partial, name: str, strict: bool, guard: bool) -> list[str]:
    if not part.flagged:
        return []
    if strict and not guard:
        shown = ", ".join(map(str, part.flagged[:10])) + (" ..." if len(part.flagged) > 10 else "")
        raise InputError(f"preset {name!r}: the original pipeline raises 'ValueError: Hypothesis is empty' "
                         f"(or 'Reference is empty') on items with no token: {shown}")
    if guard:
        return []
    return [f"{len(part.flagged)} item(s) with no token scored 0 (the original {name} pipeline would raise)"]


class ChatGLM(Runner):
    """``chatglm`` and, with ``guard=True``, ``llamafactory``."""

    names = FOUR
    native_scale = "100"

    def __init__(self, name: str = "chatglm", guard: bool = False, strict: bool = False, **_):
        self.name, self.guard, self.strict = name, guard, strict
        self.jieba = JiebaTokenizer(whitespace="keep")
        self.bleu = BLEU(max_order=4, smoothing="method3", aggregation="mean", individual=False)

    def partial(self, preds, refs) -> Partial:
        labels = _single_refs(refs, self.name)
        n = len(preds)
        toks = self.jieba.tokenize_many(list(preds) + labels)
        per_item, empty = _rouge_chinese(toks[:n], toks[n:])
        bs = bleu_stats([list(p) for p in preds], [[list(l)] for l in labels])
        per_item["bleu-4"] = _x100_round4(self.bleu.sentence_scores(bs)["bleu-4"])
        return Partial(n, per_item, flagged=empty)

    def finish(self, part: Partial) -> Output:
        warnings = _crash_check(part, self.name, self.strict, self.guard)
        scores = {k: float(np.mean(part.per_item[k])) for k in FOUR}
        sig = {
            "rouge": f"{ROUGE_CHINESE},tok.{self.jieba.signature()},sets,f.2PR/(P+R+1e-8),item.x100.round4,agg.np-mean",
            "bleu": "nltk-sentence_bleu-semantics,tok.char+ws.keep,bleu-4.cumulative,smooth.method3,item.x100.round4,"
                    "agg.np-mean",
            "empty": "guard.rouge0" + ("" if self.guard else "+flagged(original raises)"),
            "scale": self.native_scale,
        }
        return Output(scores, dict(part.per_item), sig, warnings)

    def warm_up(self) -> None:
        self.jieba.tokenize_many(["预热"])


class GLM4(ChatGLM):
    native_scale = "rouge 100, bleu 1"

    def __init__(self, strict: bool = False, **_):
        super().__init__("glm4", guard=False, strict=strict)

    def partial(self, preds, refs) -> Partial:
        labels = [l.strip() for l in _single_refs(refs, self.name)]
        preds = [p.strip() for p in preds]
        n = len(preds)
        toks = self.jieba.tokenize_many(preds + labels)
        per_item, empty = _rouge_chinese(toks[:n], toks[n:])
        bs = bleu_stats(toks[:n], [[t] for t in toks[n:]])
        per_item["bleu-4"] = self.bleu.sentence_scores(bs)["bleu-4"]
        return Partial(n, per_item, flagged=empty)

    def finish(self, part: Partial) -> Output:
        out = super().finish(part)
        tok = self.jieba.signature()
        out.signature = {"prep": "strip", "rouge": out.signature["rouge"],
                         "bleu": f"nltk-sentence_bleu-semantics,tok.{tok},bleu-4.cumulative,smooth.method3,agg.np-mean",
                         "empty": out.signature["empty"], "scale": self.native_scale}
        return out


class SacreBLEU(Runner):
    names = ["bleu-1", "bleu-2", "bleu-3", "bleu-4"]
    native_scale = "100"

    def __init__(self, lang: str = "zh", tokenize: str | None = None, **_):
        self.kind = tokenize or ("zh" if lang == "zh" else "13a")
        if self.kind not in ("zh", "char", "13a", "intl"):
            raise InputError(f"preset 'sacrebleu' takes tokenize zh, char, 13a or intl, not {self.kind!r}")
        self.tok = SacreTokenizer(self.kind)
        self.corpus = BLEU(smoothing="exp", aggregation="corpus", effective_order=False, individual=False)
        self.sentence = BLEU(smoothing="exp", aggregation="mean", effective_order=True, individual=False)

    def partial(self, preds, refs) -> Partial:
        n = len(preds)
        hyps, ref_toks = split_refs(self.tok.tokenize_many(list(preds) + flat_refs(refs)), n, refs)
        bs = bleu_stats(hyps, ref_toks)
        return Partial(n, self.sentence.sentence_scores(bs), bleu=bs)

    def finish(self, part: Partial) -> Output:
        sig = {"bleu": f"sacrebleu-{self.tok.version}-semantics,nrefs:var,case:mixed,eff:no,tok:{self.kind},"
                       "smooth:exp,bleu-n.max_ngram_order=n,agg.corpus",
               "per_item": "sentence_bleu(effective order)", "scale": self.native_scale}
        return Output(dict(self.corpus.corpus_score(part.bleu)), dict(part.per_item), sig, [])

    def warm_up(self) -> None:
        pass


class RougeScore(Runner):
    names = ROUGE().names()
    native_scale = "1"

    def __init__(self, lang: str = "zh", tokenize: str | None = None, metrics: Sequence[str] = (),
                 stemmer: bool = False, split_summaries: bool = False, **_):
        self.kind = tokenize or ("jieba" if lang == "zh" else "default")
        self.rouge = ROUGE("counts", types=types_for(metrics), split_summaries=split_summaries)
        self.names = self.rouge.names()
        self.stemmer = stemmer
        if stemmer and self.kind != "default":
            raise InputError("stemmer= is rouge-score's use_stemmer, which only its default tokenizer applies "
                             f"(rouge-score ignores it with a tokenizer of your own); tokenizer {self.kind!r} "
                             "does not stem: use tokenizer='default'")
        if self.kind == "jieba":
            self.jieba = JiebaTokenizer(whitespace="keep")
            self.tok_sig = self.jieba.signature()
        elif self.kind == "default":
            from rouge_score.tokenizers import DefaultTokenizer

            self.default = DefaultTokenizer(use_stemmer=stemmer)
            self.tok_sig = "rouge-score-default(lower,[a-z0-9]" + (",porter>3" if stemmer else "") + ")"
        else:
            raise InputError(f"preset 'rouge-score' takes tokenize jieba or default, not {self.kind!r}")

    def _tokenize(self, texts):
        if self.kind == "jieba":
            return self.jieba.tokenize_many(texts)
        return [self.default.tokenize(t) for t in texts]

    def partial(self, preds, refs) -> Partial:
        n = len(preds)
        hyps, ref_toks = split_refs(self._tokenize(list(preds) + flat_refs(refs)), n, refs)
        stats = rouge_stats(hyps, ref_toks, self.rouge.orders)
        if "lsum" in self.rouge.types:
            stats.cols.update(lsum_sentence_stats(self.rouge, self._tokenize, preds, refs))
        return Partial(n, self.rouge.sentence_scores(stats, n))

    def finish(self, part: Partial) -> Output:
        scores = {k: float(np.mean(part.per_item[k])) for k in self.names}
        extra = self.rouge.signature().split("f.2PR/(P+R)")[1]
        sig = {"rouge": f"rouge-score-0.1.2-semantics,tok.{self.tok_sig},counts,f.2PR/(P+R),multi.score_multi"
                        f"{extra},agg.np-mean", "scale": self.native_scale}
        return Output(scores, dict(part.per_item), sig, [])

    def warm_up(self) -> None:
        if self.kind == "jieba":
            self.jieba.tokenize_many(["预热"])


def _sequential_mean(values: np.ndarray) -> float:
    """The mean as rouge-chinese's ``avg=True`` adds it up: left to right,
    then divided by the count (``np.mean`` sums pairwise: other last bits)."""
    total = 0.0
    for v in values.tolist():
        total = total + v
    return total / len(values) if len(values) else 0.0


class RougeChinese(Runner):
    """rouge-chinese's ``Rouge(metrics, exclusive).get_scores(hyps, refs, avg=True)``:
    its sentence split and whitespace normalization (``rouge_chinese_words``),
    n-gram sets (or, ``exclusive=False``, lists), F = 2PR/(P+R+1e-8); per
    item unrounded, the mean over items.  Items where it raises
    ("Hypothesis is empty") score 0 and are flagged."""

    names = ROUGE("sets").names() + ["len-pred", "len-ref"]
    native_scale = "1"
    preset_name = "rouge-chinese"

    def __init__(self, lang: str = "zh", tokenize: str | None = None, metrics: Sequence[str] = (),
                 exclusive: bool = True, strict: bool = False, **_):
        self.kind = tokenize or "jieba"
        if self.kind not in ("jieba", "whitespace"):
            raise InputError(f"preset {self.preset_name!r} takes tokenize jieba (\" \".join(jieba.cut(text))) or "
                             f"whitespace (the text already space-separated), not {self.kind!r}")
        types = types_for(metrics)
        if "lsum" in types:
            raise InputError(f"preset {self.preset_name!r} has no rouge-lsum (its rouge-l is its own); "
                             "use preset 'rouge-score'")
        self.rouge = ROUGE("sets" if exclusive else "lists", types=types)
        self.names = self.rouge.names() + ["len-pred", "len-ref"]
        # raw_results: the per-item counts, when metrics= names one
        self.raw = any(m.endswith(RAW) for m in ([metrics] if isinstance(metrics, str) else metrics or ()))
        if self.raw:
            self.names += [f"rouge-{t}{s}" for t in types for s in RAW]
        self.strict = strict
        if self.kind == "jieba":
            self.jieba = JiebaTokenizer(whitespace="keep")

    def _words(self, texts):
        if self.kind == "jieba":
            return [rouge_chinese_words_of_jieba(t) for t in self.jieba.tokenize_many(texts)]
        return [rouge_chinese_words([t]) for t in texts]

    def partial(self, preds, refs) -> Partial:
        labels = _single_refs(refs, self.preset_name)
        n = len(preds)
        words = self._words(list(preds) + labels)
        hw, rw = words[:n], words[n:]
        empty = [i for i, (h, r) in enumerate(zip(hw, rw)) if h is None or r is None]
        stats = rouge_stats([h or [] for h in hw], [[r or []] for r in rw], self.rouge.orders)
        per_item = self.rouge.sentence_scores(stats, n)
        if self.raw:
            per_item.update(self.rouge.raw_counts(stats))
        # return_lengths: len(" ".join(sentences).split())
        per_item["len-pred"] = np.array([len(" ".join(h).split()) if h else 0 for h in hw], dtype=float)
        per_item["len-ref"] = np.array([len(" ".join(r).split()) if r else 0 for r in rw], dtype=float)
        return Partial(n, per_item, flagged=empty)

    def finish(self, part: Partial) -> Output:
        warnings = _crash_check(part, self.preset_name, self.strict, False)
        scores = {k: _sequential_mean(part.per_item[k]) for k in self.names}
        tok = self.jieba.signature() if self.kind == "jieba" else "as-given"
        counting = "sets" if self.rouge.counting == "sets" else "lists(exclusive=False)"
        extra = [t for t in self.rouge.types if t not in ("1", "2", "l")]
        sig = {"rouge": f"{ROUGE_CHINESE},tok.{tok},{counting},f.2PR/(P+R+1e-8)"
                        + (f",types.{'+'.join(extra)}" if extra else "") + ",agg.mean(avg=True)",
               "empty": "guard.rouge0+flagged(original raises)", "scale": self.native_scale}
        return Output(scores, dict(part.per_item), sig, warnings)

    def warm_up(self) -> None:
        if self.kind == "jieba":
            self.jieba.tokenize_many(["预热"])


def _recon_lcs_tokens(x: list[str], y: list[str]) -> list[str]:
    """The tokens of ``x`` on the LCS of x and y that pltrdy rouge's
    ``_recon_lcs`` reads out (its table, its tie-break), iteratively."""
    t = lcs_table(x, y)
    out: list[str] = []
    i, j = len(x), len(y)
    while i > 0 and j > 0:
        if x[i - 1] == y[j - 1]:
            out.append(x[i - 1])
            i -= 1
            j -= 1
        elif t[i - 1][j] > t[i][j - 1]:
            i -= 1
        else:
            j -= 1
    out.reverse()
    return out


def _pltrdy_rouge_l(hyp: list[list[str]], ref: list[list[str]], exclusive: bool) -> tuple[float, float, float]:
    """pltrdy rouge's ``rouge_l_summary_level`` (P, R, F) of sentence word
    lists: the union of the LCS tokens of every (reference sentence,
    hypothesis sentence) pair, a set (``exclusive``) or a list."""
    n, m, llcs = _pltrdy_lcs_counts(hyp, ref, exclusive)
    r_lcs = llcs / m
    p_lcs = llcs / n
    return p_lcs, r_lcs, 2.0 * ((p_lcs * r_lcs) / (p_lcs + r_lcs + 1e-8))


def _pltrdy_lcs_counts(hyp: list[list[str]], ref: list[list[str]], exclusive: bool) -> tuple[int, int, int]:
    """Its ``raw_results`` for rouge-l: hypothesis words, reference words
    (distinct ones with ``exclusive``) and the union LCS count."""
    ref_words = [w for s in ref for w in s]
    hyp_words = [w for s in hyp for w in s]
    m = len(set(ref_words)) if exclusive else len(ref_words)
    n = len(set(hyp_words)) if exclusive else len(hyp_words)
    union: set | list = set() if exclusive else []
    for r in ref:
        for h in hyp:
            lcs = _recon_lcs_tokens(r, h)
            if exclusive:
                union |= set(lcs)  # type: ignore[operator]
            else:
                union += lcs  # type: ignore[operator]
    return n, m, len(union)


def _pltrdy_sentences(text: str) -> list[list[str]] | None:
    """pltrdy rouge's sentences of a text (split at ".", whitespace
    normalized) as word lists; None where it raises (no sentence)."""
    sents = [" ".join(s.split()) for s in text.split(".") if len(s) > 0]
    return [s.split(" ") for s in sents] if sents else None


class PltrdyRouge(RougeChinese):
    """rouge 1.0.1's ``Rouge(metrics, exclusive).get_scores(hyps, refs, avg=True)``
    (rouge-chinese's parent: sentences at ".", summary-level ROUGE-L)."""

    preset_name = "pltrdy-rouge"

    def __init__(self, lang: str = "zh", tokenize: str | None = None, metrics: Sequence[str] = (),
                 exclusive: bool = True, strict: bool = False, **_):
        super().__init__(lang=lang, tokenize=tokenize or "whitespace", metrics=metrics, exclusive=exclusive,
                         strict=strict)
        self.exclusive = exclusive

    def _sentences(self, texts):
        if self.kind == "jieba":
            texts = [" ".join(t) for t in self.jieba.tokenize_many(texts)]
        return [_pltrdy_sentences(t) for t in texts]

    def partial(self, preds, refs) -> Partial:
        labels = _single_refs(refs, self.preset_name)
        n = len(preds)
        sents = self._sentences(list(preds) + labels)
        hs, rs = sents[:n], sents[n:]
        hw = [[w for s in h for w in s] if h else None for h in hs]
        rw = [[w for s in r for w in s] if r else None for r in rs]
        empty = [i for i, (h, r) in enumerate(zip(hw, rw)) if h is None or r is None]
        stats = rouge_stats([h or [] for h in hw], [[r or []] for r in rw], self.rouge.orders)
        per_item = self.rouge.sentence_scores(stats, n)
        counts = [_pltrdy_lcs_counts(h, r, self.exclusive) if h and r else (0, 0, 0) for h, r in zip(hs, rs)]
        prf = [_pltrdy_rouge_l(h, r, self.exclusive) if h and r else (0.0, 0.0, 0.0) for h, r in zip(hs, rs)]
        for j, suffix in enumerate(("-p", "-r", "")):
            per_item["rouge-l" + suffix] = np.array([x[j] for x in prf], dtype=float)
        if self.raw:
            per_item.update(self.rouge.raw_counts(stats))
            for j, suffix in enumerate(RAW):
                per_item["rouge-l" + suffix] = np.array([x[j] for x in counts], dtype=float)
        per_item["len-pred"] = np.array([len(" ".join(h).split()) if h else 0 for h in hw], dtype=float)
        per_item["len-ref"] = np.array([len(" ".join(r).split()) if r else 0 for r in rw], dtype=float)
        return Partial(n, per_item, flagged=empty)

    def finish(self, part: Partial) -> Output:
        out = super().finish(part)
        out.signature["rouge"] = out.signature["rouge"].replace(ROUGE_CHINESE, "pltrdy-rouge-1.0.1-semantics") \
            .replace(",f.", ",sents.split('.'),rouge-l.summary-level-union,f.")
        return out


@dataclass(frozen=True)
class Preset:
    """One row of the preset table: the runner class (which declares its
    score ``names`` and ``native_scale``) and its constructor options."""

    runner: type
    options: tuple = ()
    accepts: tuple = ()  # evaluate's ROUGE options it takes: stemmer, split_summaries, exclusive, rouge_types
    tokenizers: tuple = ()  # its tokenizer choices (the runner checks them); () : none, tokenizer= is an error
    langs: tuple = ("zh", "en")  # the languages its pipeline has a setting for; another lang= is an error

    @property
    def names(self) -> list[str]:
        return list(self.runner.names)

    def names_for(self, metrics: Sequence[str] | None) -> list[str]:
        """Its score names, with the ROUGE types ``metrics`` asks for
        (``rouge-3``, ``rouge-lsum``) where it computes any type."""
        if "rouge_types" not in self.accepts:
            return self.names
        extra = [t for t in types_for(metrics) if t not in ("1", "2", "l")]
        names = self.names + ROUGE(types=tuple(extra)).names()
        if "raw_results" in self.accepts:
            names += [f"rouge-{t}{s}" for t in types_for(metrics) for s in RAW]
        return names

    @property
    def native_scale(self) -> str:
        return self.runner.native_scale

    def build(self, **kw: Any) -> Any:
        return self.runner(**dict(self.options), **kw)


# The one preset table.  A new preset: a runner class above, one line here.
PRESETS: dict[str, Preset] = {
    "chatglm": Preset(ChatGLM, (("name", "chatglm"),), langs=("zh",)),
    "llamafactory": Preset(ChatGLM, (("name", "llamafactory"), ("guard", True)), langs=("zh",)),
    "glm4": Preset(GLM4, langs=("zh",)),
    "sacrebleu": Preset(SacreBLEU, tokenizers=("zh", "char", "13a", "intl")),
    "rouge-score": Preset(RougeScore, accepts=("stemmer", "split_summaries", "rouge_types"),
                          tokenizers=("jieba", "default")),
    "rouge-chinese": Preset(RougeChinese, accepts=("exclusive", "rouge_types", "raw_results"),
                            tokenizers=("jieba", "whitespace")),
    "pltrdy-rouge": Preset(PltrdyRouge, accepts=("exclusive", "rouge_types", "raw_results"),
                           tokenizers=("whitespace", "jieba")),
}


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def rescale(out: Output, name: str, scale: int | None) -> Output:
    """A preset's output on the requested scale (1 or 100; None keeps the
    pipeline's own).  Scaling lives beside the table that declares each
    preset's native scale."""
    native = preset(name).native_scale
    if scale is None or native == str(scale):
        return out
    if not native.isdigit():
        raise InputError(f"preset {name!r} mixes scales ({native}) as its pipeline does; leave scale unset")
    f = scale / float(native)
    out.scores = {k: v * f for k, v in out.scores.items()}
    out.per_item = {k: v * f for k, v in out.per_item.items()}
    out.signature["scale"] = str(scale)
    return out
