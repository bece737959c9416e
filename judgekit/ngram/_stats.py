"""Counting, done once per tokenized corpus and shared by every metric.

BLEU (cumulative and individual, every smoothing and aggregation), ROUGE-1/2
(clipped counts or n-gram sets), ROUGE-L and Distinct are all functions of
the integers computed here, so a corpus is counted once however many
metrics are asked for.  Only integer arithmetic happens here; the float
arithmetic of each convention lives in ``bleu.py`` and ``rouge.py``.

Each public function runs the compiled twin in ``judgekit._ckernels`` when
it is built and ``JUDGEKIT_NO_NATIVE`` is not set to 1; the Python code
below stays the fallback and the oracle (the results are equal, tested in
tests/test_kernels.py).  Inputs the kernels leave alone (orders above 4,
items without references, non-sequences) come back as NotImplemented and
run here, so errors are Python's own.
"""
from __future__ import annotations

import os
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

MAX_ORDER = 4
NO_NATIVE_ENV = "JUDGEKIT_NO_NATIVE"

Tokens = Sequence[str]


def native_kernels():
    """The compiled kernels module, or None (not built, or disabled by
    ``JUDGEKIT_NO_NATIVE=1``)."""
    if os.environ.get(NO_NATIVE_ENV, "").strip() not in ("", "0"):
        return None
    try:
        from .. import _ckernels  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _ckernels


def backend_description() -> str:
    """Which counting path is active, for ``judgekit --version``."""
    if os.environ.get(NO_NATIVE_ENV, "").strip() not in ("", "0"):
        return f"n-gram kernels: pure Python (compiled extension disabled by {NO_NATIVE_ENV})"
    if native_kernels() is None:
        return "n-gram kernels: pure Python (judgekit._ckernels is not built)"
    return "n-gram kernels: compiled (judgekit._ckernels)"


_SHARED: ContextVar[dict | None] = ContextVar("judgekit_shared_encoding", default=None)


@contextmanager
def shared_encoding() -> Iterator[None]:
    """Within this block, ``bleu_stats``, ``rouge_stats`` and
    ``distinct_counts`` called on the same ``hyps`` (and ``refs``) list
    objects intern their tokens once, not once per call (interning is most
    of the compiled kernels' cost).  The lists must not be mutated inside
    the block.  Without the compiled kernels this does nothing."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _encode(ck, hyps, refs):
    """``ck.encode(hyps, refs)``, shared inside ``shared_encoding()``: an
    encoding with references also serves a hypotheses-only call."""
    memo = _SHARED.get()
    if memo is None or not isinstance(hyps, (list, tuple)):
        return ck.encode(hyps, refs)
    key = (id(hyps), id(refs) if refs is not None else None)
    hit = memo.get(key)
    if hit is None and refs is None:
        hit = next((v for k, v in memo.items() if k[0] == id(hyps)), None)
    if hit is not None and hit[3] == len(hyps):  # a cheap guard against appending in between
        return hit[0]
    enc = ck.encode(hyps, refs)
    memo[key] = (enc, hyps, refs, len(hyps))  # the lists are held so their ids stay theirs
    return enc


def _orders_ok(orders) -> bool:
    return isinstance(orders, (tuple, list, range)) and all(type(n) is int and 1 <= n <= MAX_ORDER for n in orders)


def ngram_counts(tokens: Tokens, max_order: int = MAX_ORDER) -> list[Counter]:
    """Counters of the n-grams of orders 1..max_order (tuples of tokens)."""
    n_tok = len(tokens)
    out = []
    for n in range(1, max_order + 1):
        if n == 1:
            out.append(Counter(tokens))
        else:
            out.append(Counter(zip(*(tokens[i:] for i in range(n)))) if n_tok >= n else Counter())
    return out


def lcs_length(a: Tokens, b: Tokens) -> int:
    """Length of the longest common subsequence of two token sequences.

    Bit-parallel (Allison-Dix / Hyyro): one big-integer update per token of
    ``b``, so a 3,000 x 3,000 pair costs 3,000 word-parallel steps instead of
    9 million Python-level comparisons.  Equal to the classic DP table's
    bottom-right value.
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    masks: dict = {}
    bit = 1
    for tok in a:
        masks[tok] = masks.get(tok, 0) | bit
        bit <<= 1
    full = bit - 1
    v = full
    get = masks.get
    for tok in b:
        m = get(tok)
        if m:
            u = v & m
            v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def closest_ref_length(hyp_len: int, ref_lens: Sequence[int]) -> int:
    """The reference length closest to the hypothesis length, ties to the
    shorter one (nltk and sacreBLEU agree on this)."""
    return min(ref_lens, key=lambda r: (abs(r - hyp_len), r))


@dataclass
class BleuStats:
    """Per-item BLEU sufficient statistics.

    ``matches[i, n-1]``: hypothesis n-grams matched, clipped by the maximum
    count over the item's references; ``totals[i, n-1]``: hypothesis n-grams
    (``max(0, len - n + 1)``); ``ref_len``: closest reference length.
    """

    hyp_len: np.ndarray
    ref_len: np.ndarray
    matches: np.ndarray
    totals: np.ndarray

    def __len__(self) -> int:
        return len(self.hyp_len)


@dataclass
class RougeStats:
    """Per-(item, reference) ROUGE statistics; ``item`` maps rows to items.

    For n = 1, 2: ``hyp_n``/``ref_n`` n-gram counts, ``clip_n`` clipped
    overlap, ``hset_n``/``rset_n`` distinct n-grams, ``sets_n`` overlap of
    the distinct n-grams.  ``lcs``, ``hyp_len``, ``ref_len`` for ROUGE-L.
    """

    item: np.ndarray
    cols: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key]


def bleu_stats(hyps: Sequence[Tokens], refs: Sequence[Sequence[Tokens]], max_order: int = MAX_ORDER) -> BleuStats:
    ck = native_kernels()
    if ck is not None and type(max_order) is int and 1 <= max_order <= MAX_ORDER:
        n_items = len(hyps)
        out = BleuStats(np.zeros(n_items, dtype=np.int64), np.zeros(n_items, dtype=np.int64),
                        np.zeros((n_items, max_order), dtype=np.int64), np.zeros((n_items, max_order), dtype=np.int64))
        enc = _encode(ck, hyps, refs)
        if enc is not NotImplemented and \
                ck.bleu_stats(enc, max_order, out.matches, out.totals, out.hyp_len, out.ref_len) is not NotImplemented:
            return out
    return _bleu_stats_py(hyps, refs, max_order)


def _bleu_stats_py(hyps, refs, max_order):
    n_items = len(hyps)
    matches = np.zeros((n_items, max_order), dtype=np.int64)
    totals = np.zeros((n_items, max_order), dtype=np.int64)
    hyp_len = np.zeros(n_items, dtype=np.int64)
    ref_len = np.zeros(n_items, dtype=np.int64)
    for i, (h, rs) in enumerate(zip(hyps, refs)):
        hc = ngram_counts(h, max_order)
        rcs = [ngram_counts(r, max_order) for r in rs]
        for n in range(max_order):
            cnt = hc[n]
            if not cnt:
                continue
            totals[i, n] = len(h) - n
            if len(rcs) == 1:
                rc = rcs[0][n]
                matches[i, n] = sum(min(c, rc[g]) for g, c in cnt.items() if g in rc)
            else:
                m = 0
                for g, c in cnt.items():
                    best = max(r[n].get(g, 0) for r in rcs)
                    m += c if c < best else best
                matches[i, n] = m
        hyp_len[i] = len(h)
        ref_len[i] = closest_ref_length(len(h), [len(r) for r in rs])
    return BleuStats(hyp_len, ref_len, matches, totals)


ROUGE_ORDERS = (1, 2)


def _rouge_names(orders) -> list[str]:
    names = []
    for n in orders:
        names += [f"hyp_{n}", f"ref_{n}", f"clip_{n}", f"hset_{n}", f"rset_{n}", f"sets_{n}"]
    return names + ["lcs", "hyp_len", "ref_len"]


def rouge_stats(hyps: Sequence[Tokens], refs: Sequence[Sequence[Tokens]], orders: Sequence[int] = ROUGE_ORDERS, lcs: bool = True) -> RougeStats:
    ck = native_kernels()
    if ck is not None and _orders_ok(orders):
        enc = _encode(ck, hyps, refs)
        res = NotImplemented if enc is NotImplemented else ck.rouge_stats(enc, tuple(orders), bool(lcs))
        if res is not NotImplemented:
            item_b, data_b, n_rows = res
            names = _rouge_names(orders)
            arr = np.frombuffer(data_b, dtype=np.int64).reshape(n_rows, len(names))
            return RougeStats(np.frombuffer(item_b, dtype=np.int64), {k: arr[:, j] for j, k in enumerate(names)})
    return _rouge_stats_py(hyps, refs, orders, lcs)


def _rouge_stats_py(hyps, refs, orders, lcs):
    rows_item = []
    names = _rouge_names(orders)
    data: list[list[int]] = []
    max_order = max(orders) if orders else 1
    for i, (h, rs) in enumerate(zip(hyps, refs)):
        hc = ngram_counts(h, max_order)
        for r in rs:
            rc = ngram_counts(r, max_order)
            row = []
            for n in orders:
                a, b = hc[n - 1], rc[n - 1]
                if len(a) > len(b):
                    small, big = b, a
                else:
                    small, big = a, b
                clip = 0
                sets = 0
                for g, c in small.items():
                    d = big.get(g)
                    if d:
                        sets += 1
                        clip += c if c < d else d
                row += [max(0, len(h) - n + 1), max(0, len(r) - n + 1), clip, len(a), len(b), sets]
            row += [lcs_length(h, r) if lcs else 0, len(h), len(r)]
            data.append(row)
            rows_item.append(i)
    arr = np.asarray(data, dtype=np.int64).reshape(len(data), len(names))
    return RougeStats(np.asarray(rows_item, dtype=np.int64), {k: arr[:, j] for j, k in enumerate(names)})


def distinct_counts(hyps: Sequence[Tokens], orders: Sequence[int] = (1, 2), with_sets: bool = False) -> dict:
    """Distinct-n (Li et al. 2016): distinct n-grams / all n-grams, over the
    whole set of predictions (corpus) and per prediction.

    Returns {n: (distinct, total, per-item distinct, per-item total)}; with
    ``with_sets`` the first element is the set of distinct n-grams itself,
    so that chunks can be merged exactly."""
    ck = native_kernels()
    if ck is not None and _orders_ok(orders):
        enc = _encode(ck, hyps, None)
        res = NotImplemented if enc is NotImplemented else ck.distinct_counts(enc, tuple(orders), bool(with_sets))
        if res is not NotImplemented:
            return {n: (uniq, total, np.frombuffer(pid, dtype=np.int64), np.frombuffer(pit, dtype=np.int64))
                    for n, (uniq, total, pid, pit) in zip(orders, res)}
    return _distinct_counts_py(hyps, orders, with_sets)


def _distinct_counts_py(hyps, orders, with_sets):
    out: dict = {}
    for n in orders:
        seen: set = set()
        total = 0
        per_item_distinct = np.zeros(len(hyps), dtype=np.int64)
        per_item_total = np.zeros(len(hyps), dtype=np.int64)
        for i, h in enumerate(hyps):
            grams = list(zip(*(h[k:] for k in range(n)))) if len(h) >= n else []
            per_item_total[i] = len(grams)
            s = set(grams)
            per_item_distinct[i] = len(s)
            seen.update(s)
            total += len(grams)
        out[n] = (seen if with_sets else len(seen), total, per_item_distinct, per_item_total)
    return out
