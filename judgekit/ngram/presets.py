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

The original ChatGLM-6B and ChatGLM3/GLM-4 pipelines crash with
``ValueError: Hypothesis is empty.`` on an empty or whitespace-only
prediction or reference.  judgekit scores such items 0 (LLaMA-Factory's
guard) and flags them; ``strict=True`` raises instead, naming the items.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..errors import InputError
from ..text.tokenize import JiebaTokenizer, SacreTokenizer, Tokenizer
from ._stats import bleu_stats, rouge_stats
from .bleu import BLEU
from .rouge import ROUGE, rouge_chinese_words
from .suite import Output

PRESETS: dict[str, Callable[..., Output]] = {}
PRESET_NAMES = {
    "chatglm": ["rouge-1", "rouge-2", "rouge-l", "bleu-4"],
    "llamafactory": ["rouge-1", "rouge-2", "rouge-l", "bleu-4"],
    "glm4": ["rouge-1", "rouge-2", "rouge-l", "bleu-4"],
    "sacrebleu": ["bleu-1", "bleu-2", "bleu-3", "bleu-4"],
    "rouge-score": ROUGE.names(),
}
NATIVE_SCALE = {"chatglm": "100", "llamafactory": "100", "glm4": "rouge 100, bleu 1", "sacrebleu": "100",
                "rouge-score": "1"}


def _register(name: str):
    def deco(fn):
        PRESETS[name] = fn
        return fn
    return deco


def _single_refs(refs: Sequence[Sequence[str]], preset: str) -> list[str]:
    for i, rs in enumerate(refs):
        if len(rs) != 1:
            raise InputError(f"preset {preset!r} takes one reference per item, as its pipeline does; "
                             f"item {i} has {len(rs)}")
    return [rs[0] for rs in refs]


def _round_mean(values: list[float]) -> float:
    return float(np.mean(values))


def _chatglm_rouge(hyp_toks: list[list[str]], ref_toks: list[list[str]], preset: str, strict: bool):
    """rouge-chinese F x100 rounded, per item; and the items it would crash on."""
    hw = [rouge_chinese_words(t) for t in hyp_toks]
    rw = [rouge_chinese_words(t) for t in ref_toks]
    empty = [i for i, (h, r) in enumerate(zip(hw, rw)) if h is None or r is None]
    if empty and strict:
        shown = ", ".join(map(str, empty[:10])) + (" ..." if len(empty) > 10 else "")
        raise InputError(f"preset {preset!r}: the original pipeline raises 'ValueError: Hypothesis is empty' "
                         f"(or 'Reference is empty') on items with no token: {shown}")
    stats = rouge_stats([h or [] for h in hw], [[r or []] for r in rw])
    raw = ROUGE("sets").sentence_scores(stats, len(hw))
    per_item = {}
    for t in ("1", "2", "l"):
        f = raw[f"rouge-{t}"]
        per_item[f"rouge-{t}"] = np.array([round(v * 100, 4) for v in f.tolist()])
    return per_item, empty


def _chatglm_like(preds, refs, *, strict: bool, preset: str, guard: bool) -> Output:
    labels = _single_refs(refs, preset)
    jt = JiebaTokenizer(whitespace="keep")
    toks = jt.tokenize_many(list(preds) + labels)
    n = len(preds)
    per_item, empty = _chatglm_rouge(toks[:n], toks[n:], preset, strict and not guard)
    bleu = BLEU(max_order=4, smoothing="method3", aggregation="mean", individual=False)
    bs = bleu_stats([list(p) for p in preds], [[list(l)] for l in labels])
    b4 = bleu.sentence_scores(bs)["bleu-4"]
    per_item["bleu-4"] = np.array([round(v * 100, 4) for v in b4.tolist()])
    scores = {k: _round_mean(per_item[k].tolist()) for k in ("rouge-1", "rouge-2", "rouge-l", "bleu-4")}
    sig = {
        "rouge": f"rouge-chinese-1.0.3-semantics,tok.{jt.signature()},sets,f.2PR/(P+R+1e-8),item.x100.round4,agg.np-mean",
        "bleu": "nltk-sentence_bleu-semantics,tok.char+ws.keep,bleu-4.cumulative,smooth.method3,item.x100.round4,agg.np-mean",
        "empty": "guard.rouge0" + ("" if guard else "+flagged(original raises)"),
        "scale": "100",
    }
    warnings = [f"{len(empty)} item(s) with no token scored 0 (the original ChatGLM pipeline would raise)"] \
        if empty and not guard else []
    return Output(scores, per_item, sig, warnings)


@_register("chatglm")
def chatglm(preds, refs, *, strict: bool = False, **_) -> Output:
    return _chatglm_like(preds, refs, strict=strict, preset="chatglm", guard=False)


@_register("llamafactory")
def llamafactory(preds, refs, *, strict: bool = False, **_) -> Output:
    return _chatglm_like(preds, refs, strict=strict, preset="llamafactory", guard=True)


@_register("glm4")
def glm4(preds, refs, *, strict: bool = False, **_) -> Output:
    labels = [l.strip() for l in _single_refs(refs, "glm4")]
    preds = [p.strip() for p in preds]
    jt = JiebaTokenizer(whitespace="keep")
    toks = jt.tokenize_many(preds + labels)
    n = len(preds)
    per_item, empty = _chatglm_rouge(toks[:n], toks[n:], "glm4", strict)
    bleu = BLEU(max_order=4, smoothing="method3", aggregation="mean", individual=False)
    bs = bleu_stats(toks[:n], [[t] for t in toks[n:]])
    per_item["bleu-4"] = bleu.sentence_scores(bs)["bleu-4"]
    scores = {k: float(np.mean(per_item[k])) for k in ("rouge-1", "rouge-2", "rouge-l", "bleu-4")}
    sig = {
        "prep": "strip",
        "rouge": f"rouge-chinese-1.0.3-semantics,tok.{jt.signature()},sets,f.2PR/(P+R+1e-8),item.x100.round4,agg.np-mean",
        "bleu": f"nltk-sentence_bleu-semantics,tok.{jt.signature()},bleu-4.cumulative,smooth.method3,agg.np-mean",
        "empty": "guard.rouge0+flagged(original raises)",
        "scale": "rouge 100, bleu 1",
    }
    warnings = [f"{len(empty)} item(s) with no token scored 0 (the original GLM-4 pipeline would raise)"] if empty else []
    return Output(scores, per_item, sig, warnings)


@_register("sacrebleu")
def sacrebleu_preset(preds, refs, *, lang: str = "zh", tokenize: str | None = None, strict: bool = False, **_) -> Output:
    kind = tokenize or ("zh" if lang == "zh" else "13a")
    if kind not in ("zh", "char", "13a", "intl"):
        raise InputError(f"preset 'sacrebleu' takes tokenize zh, char, 13a or intl, not {kind!r}")
    tok: Tokenizer = SacreTokenizer(kind)
    flat = [r for rs in refs for r in rs]
    toks = tok.tokenize_many(list(preds) + flat)
    n = len(preds)
    hyps, ref_toks, k = toks[:n], [], n
    for rs in refs:
        ref_toks.append(toks[k: k + len(rs)])
        k += len(rs)
    bs = bleu_stats(hyps, ref_toks)
    bleu = BLEU(smoothing="exp", aggregation="corpus", effective_order=False, individual=False)
    scores = bleu.corpus_score(bs)
    sent = BLEU(smoothing="exp", aggregation="mean", effective_order=True, individual=False).sentence_scores(bs)
    import sacrebleu

    sig = {"bleu": f"sacrebleu-{sacrebleu.__version__}-semantics,nrefs:var,case:mixed,eff:no,tok:{kind},smooth:exp,"
                   "bleu-n.max_ngram_order=n,agg.corpus", "scale": "100",
           "per_item": "sentence_bleu(effective order)"}
    return Output(dict(scores), dict(sent), sig, [])


@_register("rouge-score")
def rouge_score_preset(preds, refs, *, lang: str = "zh", tokenize: str | None = None, strict: bool = False, **_) -> Output:
    kind = tokenize or ("jieba" if lang == "zh" else "default")
    if kind == "jieba":
        tok: object = JiebaTokenizer(whitespace="keep")
        tok_sig = tok.signature()
        tokenize_many = tok.tokenize_many
    elif kind == "default":
        from rouge_score.tokenizers import DefaultTokenizer

        dt = DefaultTokenizer(use_stemmer=False)
        tok_sig = "rouge-score-default(lower,[a-z0-9])"
        tokenize_many = lambda texts: [dt.tokenize(t) for t in texts]  # noqa: E731
    else:
        raise InputError(f"preset 'rouge-score' takes tokenize jieba or default, not {kind!r}")
    flat = [r for rs in refs for r in rs]
    toks = tokenize_many(list(preds) + flat)
    n = len(preds)
    hyps, ref_toks, k = toks[:n], [], n
    for rs in refs:
        ref_toks.append(toks[k: k + len(rs)])
        k += len(rs)
    per_item = ROUGE("counts").sentence_scores(rouge_stats(hyps, ref_toks), n)
    scores = {k2: float(np.mean(v)) for k2, v in per_item.items()}
    sig = {"rouge": f"rouge-score-0.1.2-semantics,tok.{tok_sig},counts,f.2PR/(P+R),multi.score_multi,agg.np-mean",
           "scale": "1"}
    return Output(scores, per_item, sig, [])
