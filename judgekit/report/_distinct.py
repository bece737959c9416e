"""Confidence intervals for Distinct-n, whose corpus value is not a sum
over items: |union of the items' n-gram sets| / number of n-grams.  Each
resample's value is recomputed from its own union: every n-gram is
numbered once, and a resample covers an n-gram when it holds at least one
item with it.

Why not the percentile bootstrap of the other columns: a bootstrap draw
repeats items, and a repeated reply adds n-grams to the total but none to
the union, so every resample's Distinct is far below the corpus's (on 240
SmileChat replies, Distinct-1 14.1 against resamples of 10.2-11.5).  In
``benchmarks/bench_distinct_ci.py`` such intervals covered the true mean in
0 of 60 samples.  A resample without repeats does not have that bias: the
interval here is the delete-d jackknife with d = n/2 (Shao & Wu 1989),
value +- z * the standard deviation of Distinct over random halves of the
items (without replacement; at d = n/2 the finite-population factor is 1),
which covered it in 97-100% of the samples at the nominal 95%.

The tokens are the default suite's own (``NgramReducer.hyp_ids``, the
compiled segmenter's ids, else ``hyp_tokens``); the whole-corpus value
rebuilt from them must equal the reported score bit for bit, else no
interval is given (and the report says why).
"""
from __future__ import annotations

import re
from statistics import NormalDist
from typing import Any, Sequence

import numpy as np

from ..errors import InputError

DISTINCT = re.compile(r"^distinct-(\d+)$")
HALVES = 200  # random halves per interval at most: the sd to about 5% (1 / sqrt(2 * 200)), a bounded cost


def _reducer_methods(scores: Any, name: str) -> list[Any]:
    """The methods ``name`` of the reducer that made ``scores`` and, for a
    joined reducer, of its parts (the n-gram part knows the suite's tokens)."""
    red = getattr(scores, "reducer", None)
    return [fn for r in [red, *getattr(red, "parts", ())] if (fn := getattr(r, name, None)) is not None]


def _tokens_of(scores: Any, texts: Sequence[str]) -> list[list[str]] | None:
    """The suite's tokens of ``texts``, through the reducer that made
    ``scores``; None when there is none."""
    for fn in _reducer_methods(scores, "hyp_tokens"):
        return fn(texts)
    return None


def _encode(tokens: list[list[str]]) -> tuple[np.ndarray, np.ndarray, int]:
    """(every token as an int, item by item; each item's length; vocabulary size)."""
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(w, len(vocab)) for t in tokens for w in t), dtype=np.int64)
    return ids, np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens)), len(vocab)


def _encoded_ids(scores: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, int] | None:
    """``_encode`` of the suite's tokens straight from the compiled
    segmenter's ids (``NgramReducer.hyp_ids``), renumbered 0..v-1; None
    without an id path.  Why: no str per token and no dict lookup per token."""
    for fn in _reducer_methods(scores, "hyp_ids"):
        got = fn(texts)
        if got is not None:
            ids, offsets, _vocab = got
            lengths = np.diff(np.frombuffer(offsets, dtype=np.int64))
            uniq, ids = np.unique(np.frombuffer(ids, dtype=np.uint32), return_inverse=True)
            return ids.astype(np.int64).reshape(-1), lengths.astype(np.int64), len(uniq)
    return None


def _incidence(tokens: list[list[str]], order: int, encoded: tuple | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(items of each distinct (n-gram, item) pair, sorted by n-gram; start
    of each n-gram's run; n-grams per item; number of distinct n-grams)."""
    ids, lengths, v = encoded if encoded is not None else _encode(tokens)
    n = len(lengths)
    item = np.repeat(np.arange(n, dtype=np.int64), lengths)
    first = np.cumsum(lengths) - lengths
    ok = (np.arange(len(ids)) - first[item]) + order <= lengths[item]  # an n-gram starts here, inside its item
    at = np.flatnonzero(ok)
    totals = np.bincount(item[at], minlength=n).astype(np.int64)
    cols = np.stack([ids[at + k] for k in range(order)], axis=1) if len(at) else np.zeros((0, order), np.int64)
    if float(max(v, 1)) ** order < 2.0 ** 62:  # one int per n-gram
        code = np.zeros(len(at), dtype=np.int64)
        for k in range(order):
            code = code * max(v, 1) + cols[:, k]
        _, gram = np.unique(code, return_inverse=True)
    else:
        _, gram = np.unique(cols, axis=0, return_inverse=True)
    gram = gram.reshape(-1).astype(np.int64)
    pairs = np.sort(gram * n + item[at])  # sorted by n-gram; then each n-gram once per item
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    g, items = pairs // n, pairs % n
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(pairs) else np.zeros(0, np.int64)
    return items, starts, totals, len(starts)


def distinct_resamples(tokens: list[list[str]], orders: Sequence[int], idxs: Any, scale: float,
                       budget: int = 20_000_000, incidences: dict | None = None) -> dict[int, np.ndarray]:
    """order -> Distinct-n of every resample (row of ``idxs``, or of each
    array in a list of them), each from its own union of n-gram sets;
    ``budget`` bounds the values held at once (resamples per chunk x
    items, and x (n-gram, item) pairs / 8).  The n-grams are numbered once
    per order (``incidences``: order -> ``_incidence``, when already built).

    Why bits: which resamples draw an item is one bit per resample, packed
    64 to a word, so an n-gram's "drawn in resample b" for every b of a
    chunk is the bitwise OR of its items' words (one ``reduceat`` over the
    (n-gram, item) pairs), and resample b's union is the number of n-grams
    with bit b set: integer operations, exact, 64 resamples per operation
    instead of one."""
    n = len(tokens)
    blocks = [np.asarray(b) for b in (idxs if isinstance(idxs, list) else [idxs])]
    out = {}
    for order in orders:
        items, starts, totals, _v = (incidences or {}).get(order) or _incidence(tokens, order)
        ftotals = totals.astype(float)  # a float product of integers below 2**53 is exact
        vals = []
        for block in blocks:
            chunk = max(1, min(len(block), budget // max(1, len(items) // 8, n)))
            for a in range(0, len(block), chunk):
                rows = block[a:a + chunk].astype(np.int64)
                flat = (np.arange(len(rows))[:, None] * n + rows).ravel()
                counts = np.bincount(flat, minlength=len(rows) * n).reshape(len(rows), n)
                total = counts.astype(float) @ ftotals
                if len(items):
                    packed = np.packbits(counts.T > 0, axis=1, bitorder="little")  # items x bytes
                    words = np.zeros((n, -(-len(rows) // 64) * 8), dtype=np.uint8)
                    words[:, :packed.shape[1]] = packed
                    drawn = np.bitwise_or.reduceat(words.view(np.uint64)[items], starts, axis=0)  # n-grams x words
                    covered = np.unpackbits(drawn.view(np.uint8), axis=1, count=len(rows),
                                            bitorder="little").sum(axis=0, dtype=np.int64)
                else:
                    covered = np.zeros(len(rows), dtype=np.int64)
                vals.append(np.where(total > 0, covered / np.where(total > 0, total, 1), 0.0) * scale)
        out[order] = np.concatenate(vals) if vals else np.zeros(0)
    return out


def half_samples(n: int, n_samples: int, seed: int | None, chunk: int = 256):
    """Chunks of rows, each a random half (n // 2 items, no repeats) of n."""
    rng = np.random.default_rng(seed)
    for a in range(0, n_samples, chunk):
        k = min(chunk, n_samples - a)
        yield rng.permuted(np.tile(np.arange(n, dtype=np.int32), (k, 1)), axis=1)[:, : n // 2].copy()


def distinct_intervals(scores: Any, texts: Sequence[str] | None, *, n_samples: int, seed: int | None,
                       confidence: float = 0.95) -> tuple[dict[str, tuple[float, float]], str]:
    """metric -> (lower, upper) for the ``distinct-N`` scores of ``scores``
    (an ``evaluate`` result of ``texts``), or ({}, why there is none)."""
    wanted = {int(m.group(1)): k for k in scores.scores if (m := DISTINCT.match(k))}
    if not wanted:
        return {}, ""
    if texts is None:
        return {}, "the systems were given as Scores, without their texts"
    if len(texts) != scores.n_items:
        raise InputError(f"texts for Distinct's interval: {len(texts)} given for {scores.n_items} scored items")
    if len(texts) < 4:
        return {}, "fewer than 4 items"
    enc = _encoded_ids(scores, texts)
    if enc is not None:
        tokens = [[]] * len(enc[1])  # only their number is read below: the ids stand for them
    else:
        tokens = _tokens_of(scores, texts)
        if tokens is None:
            return {}, "no tokens to rebuild the n-gram sets from (a preset, or Scores read from a file)"
        enc = _encode(tokens)
    scale = float(scores.signature.parts.get("scale", 100))
    orders = sorted(wanted)
    inc = {o: _incidence(tokens, o, enc) for o in orders}
    for o, k in wanted.items():  # the whole corpus: every n-gram once over all n-grams, as the suite's finish
        total = int(inc[o][2].sum())
        if (inc[o][3] / total if total else 0.0) * scale != scores.scores[k]:
            return {}, "the rebuilt n-gram sets do not give the reported value"
    rows = list(half_samples(len(tokens), min(n_samples, HALVES), seed))
    halves = distinct_resamples(tokens, orders, rows, scale, incidences=inc)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    out = {}
    for o, k in wanted.items():
        sd = float(np.std(halves[o]))
        out[k] = (scores.scores[k] - z * sd, scores.scores[k] + z * sd)
    return out, ""
