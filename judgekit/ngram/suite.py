"""judgekit's own metric suite: what ``evaluate`` computes without a preset.

For Chinese: jieba words with whitespace dropped; corpus BLEU-1..4
(cumulative and individual) with sacreBLEU's arithmetic, ``exp`` smoothing
and effective order, so identical texts score 100 even when shorter than
four words; ROUGE-1/2/L with clipped counts (rouge-score semantics); corpus
Distinct-1/2; lengths.  Everything 0-100 unless ``scale=1``.

Every suite and preset works in two steps so that large inputs can be split
into chunks (processes, streaming) with identical numbers: ``partial`` does
the per-item work of one chunk (tokenize, count, sentence scores);
``finish`` combines the merged partials into corpus scores.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..text.tokenize import make_tokenizer
from ._stats import MAX_ORDER, BleuStats, corpus_stats, encoded, lsum_stats, native_kernels
from .bleu import BLEU, check_defined, parse_smoothing, undefined_items
from .protocol import Runner, metric_family, registered_metrics
from .rouge import ROUGE, rouge_type, types_for

FAMILIES = ("bleu", "rouge", "distinct", "length")
_BLEU_FIELDS = ("hyp_len", "ref_len", "matches", "totals")


@dataclass
class Output:
    """What a suite or preset computes, before ``evaluate`` wraps it."""

    scores: dict[str, float]
    per_item: dict[str, np.ndarray]
    signature: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    not_resampled: list[str] = field(default_factory=list)  # scores per-item statistics cannot recompute


@dataclass
class Partial:
    """The per-item results of one chunk, and what corpus scores need."""

    n: int
    per_item: dict[str, np.ndarray]
    bleu: BleuStats | None = None
    distinct: dict[int, tuple[set, int]] | None = None
    flagged: list[int] = field(default_factory=list)
    # registered metrics' per-item statistics, "family:stat" -> array
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def to_stats(self) -> dict[str, np.ndarray]:
        """The per-item statistics, flat (arrays whose first axis is the
        items): what ``Scores`` indexes and concatenates to resample."""
        stats = {f"item:{k}": v for k, v in self.per_item.items()}
        if self.bleu is not None:
            stats.update({f"bleu:{f}": getattr(self.bleu, f) for f in _BLEU_FIELDS})
        stats.update({f"x:{k}": v for k, v in self.extra.items()})
        return stats

    @classmethod
    def from_stats(cls, stats: Mapping[str, np.ndarray]) -> "Partial":
        """The inverse of ``to_stats`` (other keys are ignored)."""
        n = len(next(iter(stats.values())))
        per_item = {k[5:]: v for k, v in stats.items() if k.startswith("item:")}
        bleu = BleuStats(*(stats[f"bleu:{f}"] for f in _BLEU_FIELDS)) if "bleu:hyp_len" in stats else None
        extra = {k[2:]: v for k, v in stats.items() if k.startswith("x:")}
        return cls(n, per_item, bleu, None, [], extra)


def add_sets_and_flags(acc: Any, p: Partial) -> None:
    """Into an accumulator (in memory or spilled): Distinct's n-gram sets
    and totals, the flagged items and the item count, which every
    accumulator keeps in memory."""
    if p.distinct is not None:
        if acc.distinct is None:
            acc.distinct = {order: (set(), 0) for order in p.distinct}
        for order, (seen, total) in p.distinct.items():
            have, have_total = acc.distinct[order]
            have |= seen
            acc.distinct[order] = (have, have_total + total)
    acc.flagged += [acc.n + i for i in p.flagged]
    acc.n += p.n


class Accumulator:
    """Merges chunk partials in order as they arrive: per-item arrays are
    concatenated once at the end, Distinct's n-gram sets are unioned as
    they come, so that streaming holds one copy of the per-item values."""

    def __init__(self) -> None:
        self.n = 0
        self.per_item: dict[str, list[np.ndarray]] = {}
        self.bleu: dict[str, list[np.ndarray]] | None = None
        self.distinct: dict[int, tuple[set, int]] | None = None
        self.flagged: list[int] = []
        self.extra: dict[str, list[np.ndarray]] = {}

    def add(self, p: Partial) -> None:
        for k, v in p.per_item.items():
            self.per_item.setdefault(k, []).append(v)
        for k, v in p.extra.items():
            self.extra.setdefault(k, []).append(v)
        if p.bleu is not None:
            if self.bleu is None:
                self.bleu = {f: [] for f in ("hyp_len", "ref_len", "matches", "totals")}
            for f, parts in self.bleu.items():
                parts.append(getattr(p.bleu, f))
        add_sets_and_flags(self, p)

    def result(self) -> Partial:
        per_item = {}
        for k in list(self.per_item):  # one column at a time: the chunks go as it is built
            v = self.per_item.pop(k)
            per_item[k] = v[0] if len(v) == 1 else np.concatenate(v)
        bleu = None
        if self.bleu is not None:
            bleu = BleuStats(*(v[0] if len(v) == 1 else np.concatenate(v) for v in self.bleu.values()))
        extra = {k: v[0] if len(v) == 1 else np.concatenate(v) for k, v in self.extra.items()}
        return Partial(self.n, per_item, bleu, self.distinct, self.flagged, extra)


def merge(parts: Sequence[Partial]) -> Partial:
    """Concatenate chunk partials in order; offsets flagged item indices."""
    if len(parts) == 1:
        return parts[0]
    acc = Accumulator()
    for p in parts:
        acc.add(p)
    return acc.result()


def _builtin_names(max_order: int = 4, bleu: BLEU | None = None, rouge: ROUGE | None = None) -> dict[str, str]:
    """Score name -> family of the built-in scores (``bleu``, ``rouge``: the
    configured families, whose order, weights and types name their scores)."""
    names = {n: "bleu" for n in (bleu or BLEU(max_order=max_order)).names()}
    names.update({n: "rouge" for n in (rouge or ROUGE()).names()})
    names.update({"distinct-1": "distinct", "distinct-2": "distinct"})
    names.update({n: "length" for n in ("len-pred", "len-ref", "len-ratio")})
    return names


def all_names(max_order: int = 4, bleu: BLEU | None = None, rouge: ROUGE | None = None) -> list[str]:
    """Every score the default suite can compute: built-in (with the
    configured BLEU and ROUGE), then registered."""
    return list(_builtin_names(max_order, bleu, rouge)) + [n for m in registered_metrics().values() for n in m.names]


def select_families(metrics: Sequence[str] | None, valid: Sequence[str]) -> tuple[set[str], list[str] | None]:
    """Split ``metrics`` into the families to compute and the exact names to
    keep (None = all built-in).  Unknown names are an error listing the
    valid ones."""
    if metrics is None:
        return set(FAMILIES), None
    if isinstance(metrics, str):
        metrics = [metrics]
    builtin = {v: "bleu" for v in valid if v.startswith("bleu-")}
    builtin.update(_builtin_names())
    builtin.update({v: "rouge" for v in valid if rouge_type(v) is not None})  # rouge-3, rouge-lsum, ...
    families = list(FAMILIES) + list(registered_metrics())
    fams: set[str] = set()
    keep: list[str] = []
    for m in metrics:
        if m in families:
            fams.add(m)
            keep += [v for v in valid if metric_family(v, builtin) == m]
        elif m in valid:  # (rouge-N / rouge-lsum are valid once asked for: see types_for)
            fam = metric_family(m, builtin)
            if fam is None:
                raise InputError(f"metric {m!r} belongs to no family")
            fams.add(fam)
            keep.append(m)
        else:
            raise InputError(f"unknown metric {m!r}{_order_hint(m)}; choose families {', '.join(families)} "
                             f"or names {', '.join(valid)}")
    return fams, keep


def _order_hint(name: str) -> str:
    """``bleu-5`` is not unknown, only beyond the order asked for."""
    import re

    m = re.fullmatch(r"bleu-([1-9][0-9]*)(-ind)?", str(name))
    if m is None:
        return ""
    n = m.group(1)
    return f" ({name} needs bleu_order={n}, CLI --bleu-order {n}: the default suite computes BLEU-1..bleu_order)"


class OneRefEach(list):
    """``refs`` with one reference per item (``[[r0], [r1], ...]``), which
    remembers the flat list it was made from (``api.validate`` makes it):
    ``flat_refs`` then reads that instead of flattening 20,000 one-item
    lists."""

    flat: list[str]

    @classmethod
    def of(cls, flat: list[str]) -> OneRefEach:
        out = cls([x] for x in flat)
        out.flat = flat
        return out


def flat_refs(refs: Sequence[Sequence[str]]) -> list[str]:
    """All references, item after item."""
    flat = getattr(refs, "flat", None)
    return flat if flat is not None else list(itertools.chain.from_iterable(refs))


def split_refs(toks: list, n: int, refs: Sequence[Sequence[str]]) -> tuple[list, list]:
    """Undo ``tokenize_many(preds + flat_refs)``: hypotheses, refs per item."""
    if len(toks) == 2 * n:  # one reference per item
        return toks[:n], [[t] for t in toks[n:]]
    hyps, ref_toks, k = toks[:n], [], n
    for rs in refs:
        ref_toks.append(toks[k: k + len(rs)])
        k += len(rs)
    return hyps, ref_toks


def lsum_sentence_stats(rouge: ROUGE, tokenize_many: Any, preds: Sequence[str],
                        refs: Sequence[Sequence[str]]) -> dict[str, np.ndarray]:
    """``lsum_stats`` of raw texts: sentences by ``rouge.sentences``, all of
    them tokenized in one ``tokenize_many`` call."""
    texts = list(preds) + flat_refs(refs)
    sents = [rouge.sentences(t) for t in texts]
    toks = iter(tokenize_many([s for ss in sents for s in ss]))
    per_text = [[next(toks) for _ in ss] for ss in sents]
    n = len(preds)
    hyp_sents, ref_sents = split_refs(per_text, n, refs)
    return lsum_stats(hyp_sents, ref_sents)


class Suite(Runner):
    """The configurable default suite (see module docstring)."""

    def __init__(self, *, lang: str, tokenizer: str, tokenizer_options: dict, smoothing: str = "exp",
                 aggregation: str = "corpus", effective_order: bool = True, rouge_counting: str = "counts",
                 scale: int = 100, metrics: Sequence[str] | None = None, bleu_order: int = 4,
                 bleu_weights: tuple = (), auto_reweigh: bool = False, split_summaries: bool = False):
        self.mergeable = False
        self.threads = 1  # the compiled path: segmenting and counting release the GIL
        self.tokenizer = make_tokenizer(tokenizer, **dict(tokenizer_options))
        smooth, value = parse_smoothing(smoothing)
        self.bleu = BLEU(max_order=bleu_order, smoothing=smooth, smooth_value=value, aggregation=aggregation,
                         effective_order=effective_order, weights=tuple(bleu_weights or ()),
                         auto_reweigh=auto_reweigh)
        self.bleu_count_order = max(MAX_ORDER, self.bleu.count_order)
        self.rouge = ROUGE(counting=rouge_counting, types=types_for(metrics), split_summaries=split_summaries)
        self.scale = scale
        self.names = all_names(bleu=self.bleu, rouge=self.rouge)
        self.fams, self.keep = select_families(metrics, self.names)
        self.extra = [m for fam, m in registered_metrics().items() if fam in self.fams]

    @property
    def in_call_threads(self) -> bool:
        return self.id_path

    @property
    def id_path(self) -> bool:
        """Tokens go straight to ids (compiled segmenter and kernels): the
        whole call runs without the GIL, so ``threads`` can spread it."""
        return (self.tokenizer.has_ids and native_kernels() is not None and self.bleu_count_order <= MAX_ORDER
                and max(self.rouge.orders) <= MAX_ORDER)

    def partial(self, preds: Sequence[str], refs: Sequence[Sequence[str]]) -> Partial:
        fams, scale, n = self.fams, self.scale, len(preds)
        texts = list(preds) + flat_refs(refs)
        per_item: dict[str, np.ndarray] = {}
        # Only counts are needed: with the compiled segmenter and kernels the
        # tokens go straight to ids, never to str objects.
        ids = self.tokenizer.ids_many(texts, self.threads) if self.id_path else None
        token_lists = None
        if ids is not None:
            hyps, ref_toks = encoded(ids, n, None if len(texts) == 2 * n else [len(rs) for rs in refs]), None
        else:
            hyps, ref_toks = token_lists = split_refs(self.tokenizer.tokenize_many(texts), n, refs)
        extra: dict[str, np.ndarray] = {}
        if self.extra:  # registered metrics count on token lists
            if token_lists is None:
                token_lists = split_refs(self.tokenizer.tokenize_many(texts), n, refs)
            for m in self.extra:
                stats = m.stats(*token_lists)
                extra.update({f"{m.family}:{k}": np.asarray(v) for k, v in stats.items()})
                for k, v in m.sentence(stats).items():
                    per_item[k] = np.asarray(v, dtype=float) * scale
        bs, rs, dc = corpus_stats(hyps, ref_toks, bleu=bool(fams & {"bleu", "length"}), rouge="rouge" in fams,
                                  distinct="distinct" in fams, with_sets=self.mergeable, threads=self.threads,
                                  bleu_order=self.bleu_count_order, rouge_orders=self.rouge.orders)
        if rs is not None and "lsum" in self.rouge.types:
            rs.cols.update(self._lsum(preds, refs))
        if "bleu" in fams:
            f = scale / self.bleu.native_scale
            for k, v in self.bleu.sentence_scores(bs).items():
                per_item[k] = v * f if f != 1 else v
        if "rouge" in fams:
            for k, v in self.rouge.sentence_scores(rs, n).items():
                per_item[k] = v * scale if scale != 1 else v
        distinct = None
        if dc is not None:
            distinct = {}
            for order, (seen, total, pid, pit) in dc.items():
                distinct[order] = (seen, total)
                with np.errstate(invalid="ignore", divide="ignore"):
                    per_item[f"distinct-{order}"] = np.where(pit > 0, pid / np.where(pit > 0, pit, 1), 0.0) * scale
        if "length" in fams:
            per_item["len-pred"] = bs.hyp_len.astype(float)
            per_item["len-ref"] = bs.ref_len.astype(float)
        return Partial(n, per_item, bs, distinct, extra=extra)

    def finish(self, part: Partial) -> Output:
        fams, scale = self.fams, self.scale
        scores: dict[str, float] = {}
        per_item = dict(part.per_item)
        bs = part.bleu
        if "bleu" in fams:
            f = scale / self.bleu.native_scale
            if self.bleu.aggregation == "mean":
                check_defined({k: per_item[k] for k in self.bleu.names()}, self.bleu.smoothing)
                scores.update({k: float(np.mean(per_item[k])) for k in self.bleu.names()})
            else:
                scores.update({k: v * f if f != 1 else v for k, v in self.bleu.corpus_score(bs).items()})
        if "rouge" in fams:
            scores.update({k: float(np.mean(per_item[k])) for k in self.rouge.names()})
        if "distinct" in fams and part.distinct is not None:
            for order, (seen, total) in part.distinct.items():
                uniq = len(seen) if isinstance(seen, set) else seen
                scores[f"distinct-{order}"] = (uniq / total if total else 0.0) * scale
        if "length" in fams:
            scores["len-pred"] = float(np.mean(bs.hyp_len))
            scores["len-ref"] = float(np.mean(bs.ref_len))
            total_ref = int(bs.ref_len.sum())
            scores["len-ratio"] = int(bs.hyp_len.sum()) / total_ref if total_ref else 0.0
        warnings = []
        if "bleu" in fams and self.bleu.aggregation == "corpus":
            for order in range(1, self.bleu.max_order + 1):
                if bs.totals[:, order - 1].sum() == 0:
                    warnings.append(
                        f"no prediction has {order} or more tokens: bleu-{order}-ind is undefined and reported as 0"
                        + (f"; bleu-{order} uses the effective order" if self.bleu.effective_order else ""))
                    break
        if "bleu" in fams and self.bleu.smoothing == "method6":
            bad = undefined_items({k: per_item[k] for k in self.bleu.names()})
            if bad:
                warnings.append(f"smoothing method6: {len(bad)} item(s) have no trigram match; nltk cannot score "
                                "them (it asserts), so their per-item BLEU is NaN")
        for m in self.extra:
            prefix = f"{m.family}:"
            stats = {k[len(prefix):]: v for k, v in part.extra.items() if k.startswith(prefix)}
            scores.update({k: v * scale for k, v in m.corpus(stats).items()})
        if self.keep is not None:
            scores = {k: scores[k] for k in self.keep if k in scores}
            per_item = {k: v for k, v in per_item.items() if k in self.keep}
        sig = {"tok": self.tokenizer.signature()}
        if "bleu" in fams:
            sig["bleu"] = self.bleu.signature()
        if "rouge" in fams:
            sig["rouge"] = self.rouge.signature() + ",agg.mean"
        if "distinct" in fams and part.distinct is not None:
            sig["distinct"] = "corpus"
        for m in self.extra:
            sig[m.family] = m.signature()
        sig["scale"] = str(scale)
        return Output(scores, per_item, sig, warnings, [k for k in scores if k.startswith("distinct")])

    def _lsum(self, preds: Sequence[str], refs: Sequence[Sequence[str]]) -> dict[str, np.ndarray]:
        """ROUGE-Lsum's statistics: each text split into sentences
        (``ROUGE.sentences``), each sentence tokenized on its own."""
        return lsum_sentence_stats(self.rouge, self.tokenizer.tokenize_many, preds, refs)

    def warm_up(self) -> None:
        """Load dictionaries before worker processes fork."""
        self.tokenizer.tokenize_many(["预热"])

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__
