"""judgekit's own metric suite: what ``evaluate`` computes without a preset.

For Chinese: jieba words with whitespace dropped; corpus BLEU-1..4
(cumulative and individual) with sacreBLEU's arithmetic, ``exp`` smoothing
and effective order, so identical texts score 100 even when shorter than
four words; ROUGE-1/2/L with clipped counts (rouge-score semantics); corpus
Distinct-1/2; lengths.  Everything 0-100 unless ``scale=1``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..text.tokenize import Tokenizer, make_tokenizer
from ._stats import bleu_stats, distinct_counts, rouge_stats
from .bleu import BLEU
from .rouge import ROUGE

FAMILIES = ("bleu", "rouge", "distinct", "length")


@dataclass
class Output:
    """What a suite or preset computes, before ``evaluate`` wraps it."""

    scores: dict[str, float]
    per_item: dict[str, np.ndarray]
    signature: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def default_tokenizer(lang: str) -> str:
    return "jieba" if lang == "zh" else "13a"


def all_names(max_order: int = 4) -> list[str]:
    b = BLEU(max_order=max_order)
    return b.names() + ROUGE.names() + ["distinct-1", "distinct-2", "len-pred", "len-ref", "len-ratio"]


def select_families(metrics: Sequence[str] | None, valid: Sequence[str]) -> tuple[set[str], list[str] | None]:
    """Split ``metrics`` into the families to compute and the exact names
    to keep (None = keep all).  Unknown names are an error listing the valid
    ones."""
    if metrics is None:
        return set(FAMILIES), None
    if isinstance(metrics, str):
        metrics = [metrics]
    fams: set[str] = set()
    keep: list[str] = []
    for m in metrics:
        if m in FAMILIES:
            fams.add(m)
            keep += [v for v in valid if _family(v) == m]
        elif m in valid:
            fams.add(_family(m))
            keep.append(m)
        else:
            raise InputError(f"unknown metric {m!r}; choose families {', '.join(FAMILIES)} or names {', '.join(valid)}")
    return fams, keep


def _family(name: str) -> str:
    if name.startswith("bleu"):
        return "bleu"
    if name.startswith("rouge"):
        return "rouge"
    if name.startswith("distinct"):
        return "distinct"
    return "length"


def run_suite(preds: Sequence[str], refs: Sequence[Sequence[str]], *, lang: str, tokenizer: str | Tokenizer | None = None,
              tokenizer_options: dict | None = None, smoothing: str = "exp", aggregation: str = "corpus",
              effective_order: bool = True, rouge_counting: str = "counts", scale: int = 100,
              metrics: Sequence[str] | None = None) -> Output:
    tok = make_tokenizer(tokenizer or default_tokenizer(lang), **(tokenizer_options or {}))
    bleu = BLEU(smoothing=smoothing, aggregation=aggregation, effective_order=effective_order)
    rouge = ROUGE(counting=rouge_counting)
    valid = all_names()
    fams, keep = select_families(metrics, valid)

    flat_refs = [r for rs in refs for r in rs]
    toks = tok.tokenize_many(list(preds) + flat_refs)
    hyps = toks[: len(preds)]
    ref_toks, k = [], len(preds)
    for rs in refs:
        ref_toks.append(toks[k: k + len(rs)])
        k += len(rs)

    scores: dict[str, float] = {}
    per_item: dict[str, np.ndarray] = {}
    n = len(preds)
    if "bleu" in fams or "length" in fams:
        bs = bleu_stats(hyps, ref_toks)
    if "bleu" in fams:
        to_scale = scale / bleu.native_scale
        for k2, v in bleu.corpus_score(bs).items():
            scores[k2] = v * to_scale if to_scale != 1 else v
        for k2, v in bleu.sentence_scores(bs).items():
            per_item[k2] = v * to_scale if to_scale != 1 else v
    if "rouge" in fams:
        rs_ = rouge_stats(hyps, ref_toks)
        for k2, v in rouge.sentence_scores(rs_, n).items():
            per_item[k2] = v * scale if scale != 1 else v
            scores[k2] = float(np.mean(per_item[k2]))
    if "distinct" in fams:
        for order, (uniq, total, pid, pit) in distinct_counts(hyps).items():
            scores[f"distinct-{order}"] = (uniq / total if total else 0.0) * scale
            with np.errstate(invalid="ignore", divide="ignore"):
                per_item[f"distinct-{order}"] = np.where(pit > 0, pid / np.where(pit > 0, pit, 1), 0.0) * scale
    if "length" in fams:
        per_item["len-pred"] = bs.hyp_len.astype(float)
        per_item["len-ref"] = bs.ref_len.astype(float)
        scores["len-pred"] = float(np.mean(bs.hyp_len))
        scores["len-ref"] = float(np.mean(bs.ref_len))
        total_ref = int(bs.ref_len.sum())
        scores["len-ratio"] = int(bs.hyp_len.sum()) / total_ref if total_ref else 0.0

    warnings = []
    if "bleu" in fams and aggregation == "corpus":
        for order in range(1, 5):
            if bs.totals[:, order - 1].sum() == 0:
                warnings.append(f"no prediction has {order} or more tokens: bleu-{order}-ind is undefined and "
                                f"reported as 0; bleu-{order} uses the effective order" if effective_order else
                                f"no prediction has {order} or more tokens: bleu-{order} and bleu-{order}-ind are 0")
                break
    if keep is not None:
        scores = {k2: scores[k2] for k2 in keep if k2 in scores}
        per_item = {k2: v for k2, v in per_item.items() if k2 in keep}

    sig = {"tok": tok.signature()}
    if "bleu" in fams:
        sig["bleu"] = bleu.signature()
    if "rouge" in fams:
        sig["rouge"] = rouge.signature() + ",agg.mean"
    if "distinct" in fams:
        sig["distinct"] = "corpus"
    sig["scale"] = str(scale)
    return Output(scores, per_item, sig, warnings)
