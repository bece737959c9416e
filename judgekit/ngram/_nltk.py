"""nltk's ``corpus_bleu`` / ``sentence_bleu`` replayed from n-gram statistics,
for every ``SmoothingFunction`` method (0-7), any weights and
``auto_reweigh``.

The fast path in ``bleu.py`` (and the C kernel) covers method1 with the
default epsilon and method3; this module is the general one.  It performs
nltk's own operations on the same kinds of numbers (exact ``Fraction``
precisions, floats where nltk turns them into floats, ``math.fsum`` of the
weighted logs), so the values are nltk's bit for bit.  Two nltk quirks are
kept on purpose, since a user moving from nltk expects its numbers:

- methods 4-7 read ``hypothesis``/``references`` of the *last* pair of the
  corpus (nltk passes its loop variables), so method5's 5-gram precision
  and method6's n-gram counts come from the last item;
- method5 always adds the 5-gram precision, whatever the weights' length.

nltk reads ``p.numerator``/``p.denominator`` of unnormalised fractions
(``Fraction(0, 7)`` keeps 7), so the raw counts travel beside the values.
"""
from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Sequence

from ..errors import InputError

METHODS = tuple(f"method{i}" for i in range(8))
# SmoothingFunction's parameter each method reads, and its default
PARAMS = {"method1": ("epsilon", 0.1), "method4": ("k", 5), "method6": ("alpha", 5), "method7": ("k", 5)}
UNIFORM4 = (0.25, 0.25, 0.25, 0.25)


class Undefined(InputError):
    """nltk has no value here (method6 asserts a nonzero trigram precision)."""


class Last:
    """What methods 4-7 read of the last pair beyond the sums: its
    hypothesis length and its clipped 5-gram matches / 5-gram count."""

    __slots__ = ("hyp_len", "num5", "tot5")

    def __init__(self, hyp_len: int, num5: int | None, tot5: int | None) -> None:
        self.hyp_len, self.num5, self.tot5 = hyp_len, num5, tot5


def _smooth(method: str, value, nums: list[int], dens: list[int], hyp_lengths: int, last: Last, where: str) -> list:
    p_n: list = [Fraction(a, b) for a, b in zip(nums, dens)]
    if method == "method0":
        return [p if a != 0 else sys.float_info.min for p, a in zip(p_n, nums)]
    if method == "method1":
        eps = value
        return [(a + eps) / b if a == 0 else p for p, a, b in zip(p_n, nums, dens)]
    if method == "method2":
        return [Fraction(nums[i] + 1, dens[i] + 1) if i != 0 else p_n[0] for i in range(len(p_n))]
    if method == "method3":
        k = 1
        for i in range(len(p_n)):
            if nums[i] == 0:
                p_n[i] = 1 / (2 ** k * dens[i])
                k += 1
        return p_n
    if method in ("method4", "method7"):
        hyp_len = hyp_lengths if hyp_lengths else last.hyp_len
        k = 1
        for i in range(len(p_n)):
            if nums[i] == 0 and hyp_len > 1:
                numerator = 1 / (2 ** k * value / math.log(hyp_len))
                p_n[i] = numerator / dens[i]
                k += 1
        if method == "method4":
            return p_n
    if method in ("method5", "method7"):
        if last.num5 is None:
            raise ValueError("smoothing method5/method7 needs the 5-gram statistics (BLEU.count_order)")
        p_plus1 = p_n + [Fraction(last.num5, max(1, last.tot5))]
        m = {-1: p_n[0] + 1}
        for i, p_i in enumerate(p_n):
            p_n[i] = (m[i - 1] + p_i + p_plus1[i + 1]) / 3
            m[i] = p_n[i]
        return p_n
    if method == "method6":
        if len(p_n) < 3 or not p_n[2]:
            raise Undefined(f"smoothing method6 needs a nonzero trigram precision (nltk asserts it); {where} has "
                             "none: use another smoothing or weights of other lengths")
        alpha = value
        for i, p_i in enumerate(p_n):
            if i in (0, 1):
                continue
            pi0 = 0 if p_n[i - 2] == 0 else p_n[i - 1] ** 2 / p_n[i - 2]
            n_grams = max(0, last.hyp_len - i)  # (i+1)-grams of the last hypothesis
            p_n[i] = (nums[i] + alpha * pi0) / (n_grams + alpha)
        return p_n
    raise InputError(f"{method!r} is not an nltk smoothing method")  # pragma: no cover - guarded by BLEU


def corpus_bleu(nums: Sequence[int], dens: Sequence[int], hyp_lengths: int, ref_lengths: int,
                weights: Sequence[Sequence[float]], method: str, value=None, auto_reweigh: bool = False,
                last: Last | None = None, where: str = "the corpus") -> list[float]:
    """nltk ``corpus_bleu(..., weights=list_of_weights)`` from the summed
    numerators and ``max(1, .)`` denominators of orders 1..len(nums) (at
    least the longest weight vector), and (methods 4-7) the last pair."""
    width = max(len(w) for w in weights)
    nums, dens = list(nums[:width]), list(dens[:width])
    if nums[0] == 0:
        return [0.0] * len(weights)
    if value is None and method in PARAMS:
        value = PARAMS[method][1]
    if hyp_lengths > ref_lengths:
        bp: float = 1
    elif hyp_lengths == 0:
        bp = 0
    else:
        bp = math.exp(1 - ref_lengths / hyp_lengths)
    p_n = _smooth(method, value, nums, dens, hyp_lengths, last or Last(hyp_lengths, 0, 0), where)
    out = []
    for weight in weights:
        weight = tuple(weight)
        if auto_reweigh and hyp_lengths < 4 and weight == UNIFORM4:
            weight = (1 / hyp_lengths,) * hyp_lengths
        s = math.fsum(w_i * math.log(p_i) for w_i, p_i in zip(weight, p_n) if p_i > 0)
        out.append(float(bp * math.exp(s)))
    return out
