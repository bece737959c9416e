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

import functools
import os
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

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


@dataclass(frozen=True)
class Encoded:
    """A corpus already reduced to token ids by the compiled segmenter
    (``encode_many``), so that no token string is ever built: sequences
    0..n-1 are the hypotheses, item i's references follow.  Accepted by
    ``bleu_stats``, ``rouge_stats`` and ``distinct_counts`` in place of the
    token lists."""

    enc: Any
    n: int


def encoded(ids: tuple[bytes, bytes, list[str]], n: int, ref_counts: Sequence[int] | None) -> Encoded | None:
    """Wrap ``encode_many``'s (ids, offsets, vocabulary) of ``n`` hypotheses
    followed by ``ref_counts[i]`` references for item i (None: one each);
    None without the compiled kernels."""
    ck = native_kernels()
    if ck is None:
        return None
    tok, off, vocab = ids
    if ref_counts is None:
        ref_start = np.arange(n, 2 * n + 1, dtype=np.int64)
    else:
        ref_start = np.empty(n + 1, dtype=np.int64)
        ref_start[0] = n
        np.cumsum(np.asarray(ref_counts, dtype=np.int64), out=ref_start[1:])
        ref_start[1:] += n
    return Encoded(ck.from_ids(tok, off, vocab, n, ref_start), n)


def _native_enc(hyps, refs):
    """(kernels module, encoding) for the compiled path, or (None, None)."""
    if isinstance(hyps, Encoded):
        return native_kernels(), hyps.enc
    ck = native_kernels()
    if ck is None:
        return None, None
    enc = _encode(ck, hyps, refs)
    return (None, None) if enc is NotImplemented else (ck, enc)


def _no_fallback(what: str):
    raise ValueError(f"{what}: an Encoded corpus needs the compiled kernels and orders 1..{MAX_ORDER}")


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


def _bleu_out(n_items: int, max_order: int) -> BleuStats:
    return BleuStats(np.zeros(n_items, dtype=np.int64), np.zeros(n_items, dtype=np.int64),
                     np.zeros((n_items, max_order), dtype=np.int64), np.zeros((n_items, max_order), dtype=np.int64))


def bleu_stats(hyps: Sequence[Tokens] | Encoded, refs: Sequence[Sequence[Tokens]] | None = None,
               max_order: int = MAX_ORDER) -> BleuStats:
    if type(max_order) is int and 1 <= max_order <= MAX_ORDER:
        ck, enc = _native_enc(hyps, refs)
        if ck is not None:
            out = _bleu_out(len(hyps) if not isinstance(hyps, Encoded) else hyps.n, max_order)
            if ck.bleu_stats(enc, max_order, out.matches, out.totals, out.hyp_len, out.ref_len) is not NotImplemented:
                return out
    if isinstance(hyps, Encoded):
        _no_fallback("bleu_stats")
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


def _rouge_from(parts, orders) -> RougeStats:
    """RougeStats from the kernel's (item bytes, data bytes, rows), one or
    several item ranges in order."""
    names = _rouge_names(orders)
    if len(parts) == 1:
        item_b, data_b, n_rows = parts[0]
        item = np.frombuffer(item_b, dtype=np.int64)
        arr = np.frombuffer(data_b, dtype=np.int64).reshape(n_rows, len(names))
    else:
        item = np.concatenate([np.frombuffer(p[0], dtype=np.int64) for p in parts])
        arr = np.concatenate([np.frombuffer(p[1], dtype=np.int64).reshape(p[2], len(names)) for p in parts])
    return RougeStats(item, {k: arr[:, j] for j, k in enumerate(names)})


def rouge_stats(hyps: Sequence[Tokens] | Encoded, refs: Sequence[Sequence[Tokens]] | None = None,
                orders: Sequence[int] = ROUGE_ORDERS, lcs: bool = True) -> RougeStats:
    if _orders_ok(orders):
        ck, enc = _native_enc(hyps, refs)
        res = NotImplemented if ck is None else ck.rouge_stats(enc, tuple(orders), bool(lcs))
        if res is not NotImplemented:
            return _rouge_from([res], orders)
    if isinstance(hyps, Encoded):
        _no_fallback("rouge_stats")
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


def lcs_table(x: Sequence, y: Sequence) -> list[list[int]]:
    """The LCS lengths table of ``x`` and ``y`` (``t[i][j]``: prefixes of
    length i and j), from which each peer's backtrack reads its own LCS."""
    n, m = len(x), len(y)
    t = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        ti, up, xi = t[i], t[i - 1], x[i - 1]
        for j in range(1, m + 1):
            if xi == y[j - 1]:
                ti[j] = up[j - 1] + 1
            else:
                a, b = up[j], ti[j - 1]
                ti[j] = a if a > b else b
    return t


def _lcs_indices(ref: Tokens, can: Tokens) -> list[int]:
    """Indices into ``ref`` of one longest common subsequence: the one
    rouge-score's ``lcs_ind`` reads out (its DP table and its backtrack's
    tie-break), since ROUGE-Lsum's union depends on which LCS is taken."""
    t = lcs_table(ref, can)
    out: list[int] = []
    i, j = len(ref), len(can)
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            out.append(i - 1)
            i -= 1
            j -= 1
        elif t[i][j - 1] > t[i - 1][j]:
            j -= 1
        else:
            i -= 1
    out.reverse()
    return out


def lsum_stats(hyp_sents: Sequence[Sequence[Tokens]],
               ref_sents: Sequence[Sequence[Sequence[Tokens]]]) -> dict[str, np.ndarray]:
    """ROUGE-Lsum integers per (item, reference) row, in ``rouge_stats``'
    row order: ``lsum_hits`` (rouge-score's summary-level union-LCS hits,
    each token counted at most as often as it occurs on both sides, as
    ROUGE-1.5.5), ``lsum_hyp`` and ``lsum_ref`` (tokens over all
    sentences; hits are 0 where a side has no sentence or no token).
    Sentences are token lists; pure Python on both paths."""
    hits, hl, rl = [], [], []
    for hs, rss in zip(hyp_sents, ref_sents):
        n = sum(map(len, hs))
        cc = Counter()
        for s in hs:
            cc.update(s)
        for rs in rss:
            m = sum(map(len, rs))
            h = 0
            if hs and rs and n and m:
                cnt_c = Counter(cc)
                cnt_r = Counter()
                for s in rs:
                    cnt_r.update(s)
                for r in rs:
                    union = sorted(set().union(*[_lcs_indices(r, c) for c in hs]))
                    for k in union:
                        tok = r[k]
                        if cnt_c[tok] > 0 and cnt_r[tok] > 0:
                            h += 1
                            cnt_c[tok] -= 1
                            cnt_r[tok] -= 1
            hits.append(h)
            hl.append(n)
            rl.append(m)
    return {k: np.asarray(v, dtype=np.int64) for k, v in (("lsum_hits", hits), ("lsum_hyp", hl), ("lsum_ref", rl))}


def distinct_counts(hyps: Sequence[Tokens], orders: Sequence[int] = (1, 2), with_sets: bool = False) -> dict:
    """Distinct-n (Li et al. 2016): distinct n-grams / all n-grams, over the
    whole set of predictions (corpus) and per prediction.

    Returns {n: (distinct, total, per-item distinct, per-item total)}; with
    ``with_sets`` the first element is the set of distinct n-grams itself,
    so that chunks can be merged exactly."""
    if _orders_ok(orders):
        ck, enc = _native_enc(hyps, None)
        res = NotImplemented if ck is None else ck.distinct_counts(enc, tuple(orders), bool(with_sets))
        if res is not NotImplemented:
            return {n: (uniq, total, np.frombuffer(pid, dtype=np.int64), np.frombuffer(pit, dtype=np.int64))
                    for n, (uniq, total, pid, pit) in zip(orders, res)}
    if isinstance(hyps, Encoded):
        _no_fallback("distinct_counts")
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


def corpus_stats(hyps: Sequence[Tokens] | Encoded, refs: Sequence[Sequence[Tokens]] | None, *, bleu: bool = True,
                 rouge: bool = True, distinct: bool = True, with_sets: bool = False,
                 threads: int = 1, bleu_order: int = MAX_ORDER,
                 rouge_orders: Sequence[int] = ROUGE_ORDERS) -> tuple[BleuStats | None, RougeStats | None, dict | None]:
    """``bleu_stats``, ``rouge_stats`` and ``distinct_counts`` (default
    orders) of one corpus, tokens interned once.  With ``threads`` > 1 and
    the compiled kernels, the work is spread over that many threads: BLEU
    and ROUGE by ranges of items, Distinct by order and, for bigrams, by
    n-gram hash (the kernels release the GIL); the statistics are the same
    as in one thread."""
    with shared_encoding():
        ck, enc = (None, None) if threads <= 1 or bleu_order != MAX_ORDER else _native_enc(hyps, refs)
        if ck is not None:
            out = _corpus_stats_threaded(ck, enc, hyps.n if isinstance(hyps, Encoded) else len(hyps), bleu, rouge,
                                         distinct, with_sets, threads, tuple(rouge_orders))
            if out is not None:
                return out
        bs = bleu_stats(hyps, refs, bleu_order) if bleu else None
        rs = rouge_stats(hyps, refs, rouge_orders) if rouge else None
        dc = distinct_counts(hyps, with_sets=with_sets) if distinct else None
    return bs, rs, dc


def _corpus_stats_threaded(ck, enc, n, bleu, rouge, distinct, with_sets, threads, rouge_orders=ROUGE_ORDERS):
    import threading

    if n < 2 * threads:
        return None
    bs = _bleu_out(n, MAX_ORDER) if bleu else None
    step = -(-n // (2 * threads))  # a few tasks per thread balance the threads
    ranges = [(lo, min(n, lo + step)) for lo in range(0, n, step)]

    def items(lo, hi):
        if bleu and ck.bleu_stats(enc, MAX_ORDER, bs.matches, bs.totals, bs.hyp_len, bs.ref_len, lo, hi) \
                is NotImplemented:
            return NotImplemented
        return ck.rouge_stats(enc, rouge_orders, True, lo, hi) if rouge else None

    # Distinct bigrams split by n-gram hash (the parts add up exactly), then
    # the item ranges, the short unigram count last
    d2 = [functools.partial(ck.distinct_counts, enc, (2,), bool(with_sets), part, threads)
          for part in range(threads)] if distinct else []
    d1 = [functools.partial(ck.distinct_counts, enc, (1,), bool(with_sets))] if distinct else []
    tasks = d2 + [functools.partial(items, lo, hi) for lo, hi in ranges] + d1
    results: list = [None] * len(tasks)
    queue = iter(range(len(tasks)))  # next() on it is atomic under the GIL
    errors: list = []

    def work():
        try:
            for k in queue:
                if errors:
                    return
                results[k] = tasks[k]()
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)
            stop()

    def stop(flag=True):  # True: the other threads' kernels end at their next Ctrl-C check
        stop_threads = getattr(ck, "stop_threads", None)
        if stop_threads is not None:
            stop_threads(flag)

    helpers = [threading.Thread(target=work, daemon=True) for _ in range(threads - 1)]
    for t in helpers:
        t.start()
    work()  # the calling thread takes tasks too
    try:
        for t in helpers:
            t.join()
    except BaseException:  # Ctrl-C while waiting
        stop()
        for t in helpers:
            t.join()
        raise
    finally:
        stop(False)
    if errors:
        raise errors[0]
    if any(r is NotImplemented for r in results):
        return None
    dc = None
    if distinct:
        dc = {1: _distinct_parts([r[0] for r in results[-1:]])}
        dc[2] = _distinct_parts([r[0] for r in results[:len(d2)]])
        results = results[len(d2):-1]
    rs = _rouge_from(results, rouge_orders) if rouge else None
    return bs, rs, dc


def _distinct_parts(parts):
    """One order's distinct counts from the kernel's hash parts (disjoint
    n-grams: distinct counts and sets add up; totals are whole in each)."""
    uniq, total, pid, pit = parts[0]
    pid = np.frombuffer(pid, dtype=np.int64)
    if len(parts) > 1:
        pid = pid.copy()
        for u, _t, d, _i in parts[1:]:
            pid += np.frombuffer(d, dtype=np.int64)
            if isinstance(uniq, set):
                uniq |= u
            else:
                uniq += u
    return uniq, total, pid, np.frombuffer(pit, dtype=np.int64)
