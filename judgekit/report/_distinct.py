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

The tokens are the default suite's own (``NgramReducer.hyp_tokens``); the
whole-corpus value rebuilt from them must equal the reported score bit for
bit, else no interval is given (and the report says why).
"""
from __future__ import annotations

import re
from statistics import NormalDist
from typing import Any, Sequence

import numpy as np

DISTINCT = re.compile(r"^distinct-(\d+)$")


def _tokens_of(scores: Any, texts: Sequence[str]) -> list[list[str]] | None:
    """The suite's tokens of ``texts``, through the reducer that made
    ``scores`` (a joined reducer: its n-gram part); None when there is none."""
    red = getattr(scores, "_reducer", None)
    for r in [red, *getattr(red, "parts", ())]:
        fn = getattr(r, "hyp_tokens", None)
        if fn is not None:
            return fn(texts)
    return None


def _incidence(tokens: list[list[str]], order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(items of each (n-gram, item) pair sorted by n-gram, start of each
    n-gram's run, n-grams per item, number of distinct n-grams)."""
    number: dict[tuple, int] = {}
    gram_of, item_of = [], []
    totals = np.zeros(len(tokens), dtype=np.int64)
    for i, toks in enumerate(tokens):
        grams = list(zip(*(toks[k:] for k in range(order)))) if len(toks) >= order else []
        totals[i] = len(grams)
        for g in set(grams):
            gram_of.append(number.setdefault(g, len(number)))
            item_of.append(i)
    gram_arr = np.asarray(gram_of, dtype=np.int64)
    sort = np.argsort(gram_arr, kind="stable")
    items = np.asarray(item_of, dtype=np.int64)[sort]
    starts = np.flatnonzero(np.r_[True, np.diff(gram_arr[sort]) != 0]) if len(sort) else np.zeros(0, np.int64)
    return items, starts, totals, len(number)


def distinct_resamples(tokens: list[list[str]], orders: Sequence[int], idxs: Any, scale: float,
                       budget: int = 20_000_000) -> dict[int, np.ndarray]:
    """order -> Distinct-n of every resample (row of ``idxs``), each from
    its own union of n-gram sets; ``budget`` bounds the booleans held at
    once (resamples per chunk x (n-gram, item) pairs)."""
    n = len(tokens)
    idxs = np.asarray(idxs, dtype=np.int64)
    out = {}
    for order in orders:
        items, starts, totals, _v = _incidence(tokens, order)
        vals = np.empty(len(idxs))
        chunk = max(1, min(len(idxs), budget // max(1, len(items))))
        for a in range(0, len(idxs), chunk):
            rows = idxs[a:a + chunk]
            flat = (np.arange(len(rows))[:, None] * n + rows).ravel()
            counts = np.bincount(flat, minlength=len(rows) * n).reshape(len(rows), n)
            total = counts @ totals
            if len(items):
                covered = np.logical_or.reduceat(counts[:, items] > 0, starts, axis=1).sum(axis=1)
            else:
                covered = np.zeros(len(rows), dtype=np.int64)
            with np.errstate(invalid="ignore", divide="ignore"):
                vals[a:a + len(rows)] = np.where(total > 0, covered / np.where(total > 0, total, 1), 0.0) * scale
        out[order] = vals
    return out


def half_samples(n: int, n_samples: int, seed: int | None, chunk: int = 256):
    """Chunks of rows, each a random half (n // 2 items, no repeats) of n."""
    rng = np.random.default_rng(seed)
    for a in range(0, n_samples, chunk):
        k = min(chunk, n_samples - a)
        yield rng.permuted(np.tile(np.arange(n), (k, 1)), axis=1)[:, : n // 2]


def distinct_intervals(scores: Any, texts: Sequence[str] | None, *, n_samples: int, seed: int | None,
                       confidence: float = 0.95) -> tuple[dict[str, tuple[float, float]], str]:
    """metric -> (lower, upper) for the ``distinct-N`` scores of ``scores``
    (an ``evaluate`` result of ``texts``), or ({}, why there is none)."""
    wanted = {int(m.group(1)): k for k in scores.scores if (m := DISTINCT.match(k))}
    if not wanted:
        return {}, ""
    if texts is None:
        return {}, "the systems were given as Scores, without their texts"
    if len(texts) < 4:
        return {}, "fewer than 4 items"
    tokens = _tokens_of(scores, texts)
    if tokens is None:
        return {}, "no tokens to rebuild the n-gram sets from (a preset, or Scores read from a file)"
    scale = float(scores.signature.parts.get("scale", 100))
    orders = sorted(wanted)
    full = distinct_resamples(tokens, orders, np.arange(len(tokens))[None, :], scale)
    if any(float(full[o][0]) != scores.scores[k] for o, k in wanted.items()):
        return {}, "the rebuilt n-gram sets do not give the reported value"
    parts = [distinct_resamples(tokens, orders, rows, scale) for rows in half_samples(len(tokens), n_samples, seed)]
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    out = {}
    for o, k in wanted.items():
        sd = float(np.std(np.concatenate([p[o] for p in parts])))
        out[k] = (scores.scores[k] - z * sd, scores.scores[k] + z * sd)
    return out, ""
