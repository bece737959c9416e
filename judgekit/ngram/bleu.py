"""BLEU-1..4 from shared n-gram statistics, in two arithmetic families.

- nltk family (smoothing ``method1``, ``method3``): modified precisions with
  ``max(1, hyp n-grams)`` denominators, ``fsum`` of weighted logs, values
  0-1.  Replays ``nltk.translate.bleu_score`` float operation by float
  operation, so sentence and corpus scores equal nltk's bit for bit.
- sacreBLEU family (``none``, ``exp``, ``floor``, ``add-k``): precisions in
  percent, raw denominators, optional effective order, values 0-100.
  Replays ``sacrebleu.BLEU.compute_bleu``.

``bleu-n`` is cumulative (geometric mean of p_1..p_n times BP, as sacreBLEU's
``max_ngram_order=n`` and nltk's uniform weights); ``bleu-n-ind`` is the
individual order (BP times p_n alone, the one-hot-weights idiom).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError
from . import _nltk
from ._stats import BleuStats, native_kernels

SACRE_SMOOTHINGS = ("none", "exp", "floor", "add-k")
NLTK_SMOOTHINGS = _nltk.METHODS
SMOOTHINGS = SACRE_SMOOTHINGS + NLTK_SMOOTHINGS
SACRE_DEFAULT_VALUES = {"none": None, "exp": None, "floor": 0.1, "add-k": 1}
# the smoothings that take a value: sacreBLEU's floor/add-k, nltk's epsilon (method1), k (4, 7), alpha (6)
VALUED = ("floor", "add-k") + tuple(_nltk.PARAMS)


def parse_smoothing(spec: str) -> tuple[str, float | None]:
    """``"floor:0.5"`` -> ("floor", 0.5); ``"exp"`` -> ("exp", None).  The
    value is sacreBLEU's ``smooth_value`` (floor, add-k) or nltk's
    ``SmoothingFunction`` parameter (method1 epsilon, method4/7 k, method6
    alpha); an integer stays an int, as the peers' defaults are."""
    if not isinstance(spec, str):
        raise InputError(f"smoothing must be a string such as 'exp' or 'floor:0.5', not {spec!r}")
    name, sep, raw = spec.partition(":")
    if name not in SMOOTHINGS:
        raise InputError(f"unknown BLEU smoothing {name!r}; choose one of {', '.join(SMOOTHINGS)} "
                         f"(with a value: {', '.join(v + ':<value>' for v in VALUED)})")
    if not sep:
        return name, None
    if name not in VALUED:
        raise InputError(f"smoothing {name!r} takes no value (given {spec!r}); these do: {', '.join(VALUED)}")
    try:
        value: float = int(raw) if raw.strip().lstrip("+-").isdigit() else float(raw)
    except ValueError:
        raise InputError(f"smoothing {spec!r}: the value after ':' must be a number") from None
    check_smooth_value(name, value, spec)
    return name, value


def check_smooth_value(name: str, value: float, spec: str) -> None:
    """A smoothing value the peers give a meaning to: finite and above 0."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InputError(f"smoothing {spec!r}: the value must be a number, not {value!r}")
    if not math.isfinite(value):
        raise InputError(f"smoothing {spec!r}: the value must be finite")
    if value <= 0:
        raise InputError(f"smoothing {spec!r}: {VALUE_NAMES[name]} must be greater than 0, not {value!r} "
                         f"({VALUE_HARM[name]})")


# what each smoothing's value is, and what the peers do with 0 or less (so
# judgekit refuses it): sacreBLEU's floor takes log(value / total) of a
# precision (0: log(0) -> -9999999999, BLEU 0; below 0: ValueError math
# domain error), add-k adds it to counts and totals (below 0: negative or
# zero precisions, the same error or a division by zero); nltk's method1
# adds epsilon to zero counts (0 or less: the order drops out of the sum),
# methods 4/7 divide by k (0: ZeroDivisionError), method6 divides by
# n-grams + alpha (0: ZeroDivisionError on a short hypothesis)
VALUE_NAMES = {"floor": "the floor value", "add-k": "k", "method1": "epsilon", "method4": "k", "method7": "k",
               "method6": "alpha"}
VALUE_HARM = {"floor": "sacreBLEU takes the log of it: a math domain error, or precision 0",
              "add-k": "negative counts give a math domain error or a division by zero; 0 is no smoothing",
              "method1": "nltk's precision for an order without a match would be 0 or less, and the order would "
                         "silently drop out",
              "method4": "nltk divides by it: ZeroDivisionError at 0, meaningless below",
              "method7": "nltk divides by it: ZeroDivisionError at 0, meaningless below",
              "method6": "nltk divides by n-grams + alpha: ZeroDivisionError or negative precisions"}
AGGREGATIONS = ("corpus", "mean")

# Cumulative weights exactly as nltk users write them.
CUMULATIVE_WEIGHTS = [(1.0,), (0.5, 0.5), (1 / 3, 1 / 3, 1 / 3), (0.25, 0.25, 0.25, 0.25)]
INDIVIDUAL_WEIGHTS = [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)]


# ---------------------------------------------------------------------------
# nltk arithmetic
# ---------------------------------------------------------------------------
def nltk_bleu(num: Sequence[int], den: Sequence[int], hyp_len: int, ref_len: int,
              weights: Sequence[Sequence[float]], smoothing: str, epsilon: float = 0.1) -> list[float]:
    """BLEU for each weight vector from (corpus- or sentence-) summed
    numerators and ``max(1, .)`` denominators, as nltk's ``corpus_bleu``."""
    if num[0] == 0:
        return [0.0] * len(weights)
    if hyp_len > ref_len:
        bp = 1.0
    elif hyp_len == 0:
        bp = 0.0
    else:
        bp = math.exp(1 - ref_len / hyp_len)
    p: list[float] = []
    k = 1
    for n in range(len(num)):
        if num[n] == 0:
            if smoothing == "method3":
                p.append(1 / (2 ** k * den[n]))
                k += 1
            elif smoothing == "method1":
                p.append((0 + epsilon) / den[n])
            else:  # pragma: no cover - guarded by callers
                raise InputError(f"smoothing {smoothing!r} is not an nltk method")
        else:
            p.append(num[n] / den[n])
    out = []
    for w in weights:
        s = math.fsum(w_i * math.log(p_i) for w_i, p_i in zip(w, p) if p_i > 0)
        out.append(bp * math.exp(s))
    return out


# ---------------------------------------------------------------------------
# sacreBLEU arithmetic
# ---------------------------------------------------------------------------
def _my_log(x: float) -> float:
    return -9999999999 if x == 0.0 else math.log(x)


def sacre_precisions(correct: Sequence[int], total: Sequence[int], sys_len: int, ref_len: int, smooth: str,
                     smooth_value: float | None, effective_order: bool, max_order: int):
    """(bp, precisions in percent, effective order, any match) as sacreBLEU."""
    return _sacre_precisions_in_place(list(correct), list(total), sys_len, ref_len, smooth, smooth_value,
                                      effective_order, max_order)


def _sacre_precisions_in_place(correct: list, total: list, sys_len: int, ref_len: int, smooth: str,
                               smooth_value: float | None, effective_order: bool, max_order: int):
    """``sacre_precisions`` on lists that add-k smooths in place, as
    sacreBLEU's ``compute_bleu`` does (its ``BLEUScore.counts`` are the
    smoothed ones)."""
    if smooth_value is None:
        smooth_value = SACRE_DEFAULT_VALUES[smooth]
    bp = 1.0
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    precisions = [0.0] * max_order
    if not any(correct[:max_order]):
        return bp, precisions, max_order, False
    smooth_mteval = 1.0
    eff_order = max_order
    for n in range(1, max_order + 1):
        if smooth == "add-k" and n > 1:
            correct[n - 1] += smooth_value
            total[n - 1] += smooth_value
        if total[n - 1] == 0:
            break
        if effective_order:
            eff_order = n
        if correct[n - 1] == 0:
            if smooth == "exp":
                smooth_mteval *= 2
                precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1])
            elif smooth == "floor":
                precisions[n - 1] = 100.0 * smooth_value / total[n - 1]
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    return bp, precisions, eff_order, True


def sacre_bleu(correct, total, sys_len, ref_len, max_order, smooth="exp", smooth_value=None,
               effective_order=False) -> float:
    """Cumulative BLEU-``max_order`` on 0-100, as ``BLEU.compute_bleu``."""
    bp, prec, eff, any_match = sacre_precisions(correct, total, sys_len, ref_len, smooth, smooth_value,
                                                effective_order, max_order)
    if not any_match:
        return 0.0
    return bp * math.exp(sum([_my_log(p) for p in prec[:eff]]) / eff)


def sacre_individual(correct, total, sys_len, ref_len, order, smooth="exp", smooth_value=None) -> float:
    """Individual BLEU-n on 0-100: BP times the (smoothed) precision p_n."""
    bp, prec, _eff, any_match = sacre_precisions(correct, total, sys_len, ref_len, smooth, smooth_value,
                                                 False, order)
    if not any_match:
        return 0.0
    return bp * math.exp(_my_log(prec[order - 1]))


@dataclass(frozen=True)
class BleuScore:
    """BLEU from sufficient statistics, with the fields of sacreBLEU's
    ``BLEUScore`` (``counts``/``totals`` as ``compute_bleu`` returns them:
    after ``add-k`` smoothing added its value)."""

    score: float
    counts: list
    totals: list
    precisions: list
    bp: float
    sys_len: int
    ref_len: int

    @property
    def ratio(self) -> float:
        return self.sys_len / self.ref_len if self.ref_len else 0


def compute_bleu(correct: Sequence[int], total: Sequence[int], sys_len: int, ref_len: int, smoothing: str = "none",
                 max_order: int = 4, effective_order: bool = False) -> BleuScore:
    """BLEU on 0-100 from given statistics, as sacreBLEU's
    ``BLEU.compute_bleu(correct, total, sys_len, ref_len, smooth_method,
    smooth_value, effective_order, max_ngram_order)`` (same float
    operations, same value).  ``smoothing`` is one of none, exp, floor,
    add-k, with a value as in ``evaluate``: ``"floor:0.5"``.  The statistics
    of an evaluation: ``Result.bleu_stats(corpus=True)``."""
    name, value = parse_smoothing(smoothing)
    if name not in SACRE_SMOOTHINGS:
        raise InputError(f"compute_bleu replays sacreBLEU; smoothing {name!r} is nltk's (use evaluate with it)")
    if type(max_order) is not int or max_order < 1:
        raise InputError(f"max_order must be a positive integer, not {max_order!r}")
    correct, total = list(correct), list(total)
    if len(correct) < max_order or len(total) < max_order:
        raise InputError(f"compute_bleu needs {max_order} counts and totals (max_order={max_order}); got "
                         f"{len(correct)} and {len(total)}")
    bp, precisions, eff_order, any_match = _sacre_precisions_in_place(correct, total, sys_len, ref_len, name, value,
                                                                      effective_order, max_order)
    if not any_match:
        return BleuScore(0.0, correct, total, precisions, bp, sys_len, ref_len)
    score = bp * math.exp(sum([_my_log(p) for p in precisions[:eff_order]]) / eff_order)
    return BleuScore(score, correct, total, precisions, bp, sys_len, ref_len)


# ---------------------------------------------------------------------------
# The configurable metric
# ---------------------------------------------------------------------------
def cumulative_weights(n: int) -> tuple[float, ...]:
    """nltk's uniform weights for BLEU-n: (1/n,) * n (0.25 for n=4, 0.2 for 5)."""
    return CUMULATIVE_WEIGHTS[n - 1] if n <= 4 else (1 / n,) * n


def individual_weights(n: int, width: int) -> tuple[int, ...]:
    """The one-hot weights of order ``n`` over ``width`` orders."""
    return tuple(1 if i == n - 1 else 0 for i in range(width))


@dataclass(frozen=True)
class BLEU:
    """BLEU-1..max_order, cumulative and individual, over ``BleuStats``.

    ``aggregation="corpus"`` sums the statistics over items (micro average,
    sacreBLEU/nltk ``corpus_bleu``); ``"mean"`` averages sentence scores.
    ``effective_order`` (sacreBLEU family only) drops orders with no
    hypothesis n-grams, so identical short texts score 100 instead of 0.
    ``weights`` (nltk family): extra scores ``bleu-w1``.. with nltk's
    arbitrary weight vectors, computed in one nltk call as a list of
    weights; ``auto_reweigh``: nltk's option of that name.
    """

    max_order: int = 4
    smoothing: str = "exp"
    smooth_value: float | None = None
    aggregation: str = "corpus"
    effective_order: bool = True
    individual: bool = True
    weights: tuple = ()
    auto_reweigh: bool = False

    def __post_init__(self):
        if self.smoothing not in SMOOTHINGS:
            raise InputError(f"unknown BLEU smoothing {self.smoothing!r}; choose one of {', '.join(SMOOTHINGS)}")
        if self.aggregation not in AGGREGATIONS:
            raise InputError(f"unknown BLEU aggregation {self.aggregation!r}; choose 'corpus' or 'mean'")
        if type(self.max_order) is not int or self.max_order < 1:
            raise InputError(f"BLEU max_order must be a positive integer, not {self.max_order!r}")
        if self.smooth_value is not None and self.smoothing not in VALUED:
            raise InputError(f"smoothing {self.smoothing!r} takes no value; these do: {', '.join(VALUED)}")
        if self.smooth_value is not None:
            check_smooth_value(self.smoothing, self.smooth_value, f"{self.smoothing}:{self.smooth_value!r}")
        if (self.weights or self.auto_reweigh) and self.family != "nltk":
            raise InputError("bleu_weights and auto_reweigh are nltk options: use an nltk smoothing "
                             f"({', '.join(NLTK_SMOOTHINGS)}), not {self.smoothing!r}")

    @property
    def family(self) -> str:
        return "nltk" if self.smoothing in NLTK_SMOOTHINGS else "sacrebleu"

    @property
    def native_scale(self) -> int:
        return 1 if self.family == "nltk" else 100

    @property
    def fast_nltk(self) -> bool:
        """The nltk methods the fast path (and the C kernel) replays:
        method1 with the default epsilon, method3; no reweighing."""
        return (self.smoothing == "method3" and self.smooth_value is None
                or self.smoothing == "method1" and self.smooth_value in (None, 0.1)) and not self.auto_reweigh

    @property
    def ind_width(self) -> int:
        """Length of the one-hot individual weights: 4 as nltk users write
        them, or max_order above 4."""
        return max(4, self.max_order)

    @property
    def count_order(self) -> int:
        """The n-gram orders the statistics must hold."""
        if self.family != "nltk":
            return self.max_order
        need = max([self.max_order, self.ind_width if self.individual else 1] + [len(w) for w in self.weights])
        return max(need, 5) if self.smoothing in ("method5", "method7") else need

    def signature(self) -> str:
        parts = [f"agg.{self.aggregation}", f"smooth.{self.smoothing}"]
        if self.smooth_value is not None:
            parts[-1] += f"-{self.smooth_value}"
        if self.family == "sacrebleu":
            parts.append(f"eff.{'yes' if self.effective_order else 'no'}")
        if self.max_order != 4:
            parts.append(f"order.{self.max_order}")
        if self.weights:
            parts.append("weights." + "/".join("+".join(repr(x) for x in w) for w in self.weights))
        if self.auto_reweigh:
            parts.append("reweigh.auto")
        parts.append(f"arith.{self.family}")
        return ",".join(parts)

    @property
    def first_cumulative(self) -> int:
        """nltk's method6 needs three orders (its weights of length 1 and 2
        end in an IndexError), so BLEU-1/-2 cumulative do not exist there."""
        return 3 if self.smoothing == "method6" else 1

    def names(self) -> list[str]:
        out = [f"bleu-{n}" for n in range(self.first_cumulative, self.max_order + 1)]
        if self.individual:
            out += [f"bleu-{n}-ind" for n in range(1, self.max_order + 1)]
        out += [f"bleu-w{k}" for k in range(1, len(self.weights) + 1)]
        return out

    def _nltk_named(self, num, den, sys_len, ref_len, last: _nltk.Last | None = None,
                    where: str = "the corpus") -> dict[str, float]:
        N = self.max_order
        if not self.fast_nltk or self.weights:
            return self._nltk_general(num, den, sys_len, ref_len, last, where)
        # nltk computes every order up to the longest weight vector; the
        # method3 counter runs over those orders, so p_n is the same for the
        # cumulative and the individual weights.
        width = self.ind_width if self.individual else N
        weights = [cumulative_weights(n) for n in range(1, N + 1)]
        if self.individual:
            weights += [individual_weights(n, width) for n in range(1, N + 1)]
        vals = nltk_bleu(num[:width], den[:width], sys_len, ref_len, weights, self.smoothing)
        out = {f"bleu-{n}": vals[n - 1] for n in range(1, N + 1)}
        if self.individual:
            out.update({f"bleu-{n}-ind": vals[N + n - 1] for n in range(1, N + 1)})
        return out

    def _nltk_general(self, num, den, sys_len, ref_len, last, where) -> dict[str, float]:
        """Each score as the nltk call a user writes for it: BLEU-n with
        weights (1/n,)*n, BLEU-n-ind with one-hot weights, ``bleu-w*`` as
        one call with the list of weights (for methods 5-7 the width of the
        call changes the smoothed precisions)."""
        def call(ws, w=where):
            return _nltk.corpus_bleu(num, den, sys_len, ref_len, ws, self.smoothing, self.smooth_value,
                                     self.auto_reweigh, last, w)

        out = {f"bleu-{n}": call([cumulative_weights(n)])[0] for n in range(self.first_cumulative, self.max_order + 1)}
        if self.individual:
            width = self.ind_width
            # nltk's one-hot call: all individual orders share one width
            vals = call([individual_weights(n, width) for n in range(1, self.max_order + 1)])
            out.update({f"bleu-{n}-ind": vals[n - 1] for n in range(1, self.max_order + 1)})
        if self.weights:
            out.update({f"bleu-w{k}": v for k, v in enumerate(call(list(self.weights)), 1)})
        return out

    # -- one row of statistics -> {name: value on the native scale}
    def _score_row(self, correct, total, sys_len, ref_len, item: int | None = None) -> dict[str, float]:
        N = self.max_order
        out: dict[str, float] = {}
        if self.family == "nltk":
            den = [max(1, t) for t in total]
            return self._nltk_named(correct, den, sys_len, ref_len, _last(correct, total, sys_len),
                                    f"item {item}" if item is not None else "the corpus")
        for n in range(1, N + 1):
            out[f"bleu-{n}"] = sacre_bleu(correct, total, sys_len, ref_len, n, self.smoothing, self.smooth_value,
                                          self.effective_order)
        if self.individual:
            for n in range(1, N + 1):
                out[f"bleu-{n}-ind"] = sacre_individual(correct, total, sys_len, ref_len, n, self.smoothing,
                                                        self.smooth_value)
        return out

    def sentence_scores(self, stats: BleuStats) -> dict[str, np.ndarray]:
        """Per-item scores on the native scale."""
        names = self.names()
        ck = native_kernels()
        if ck is not None:
            out = self._native_sentence_scores(ck, stats, names)
            if out is not None:
                return out
        return self._sentence_scores_py(stats, names)

    def _sentence_scores_py(self, stats: BleuStats, names: list[str]) -> dict[str, np.ndarray]:
        out = {k: np.zeros(len(stats)) for k in names}
        m, t, h, r = stats.matches.tolist(), stats.totals.tolist(), stats.hyp_len.tolist(), stats.ref_len.tolist()
        for i in range(len(stats)):
            try:
                row = self._score_row(m[i], t[i], h[i], r[i], i)
            except _nltk.Undefined:
                # nltk's sentence_bleu raises here: no value, flagged as NaN (a mean of them is an error)
                row = {k: math.nan for k in names}
            for k in names:
                out[k][i] = row[k]
        return out

    def _native_sentence_scores(self, ck, stats: BleuStats, names: list[str]) -> dict[str, np.ndarray] | None:
        """The same loop in C (judgekit._ckernels.bleu_sentences), replaying
        the same float operations; None where it does not apply."""
        arrays = (stats.matches, stats.totals, stats.hyp_len, stats.ref_len)
        if not all(isinstance(a, np.ndarray) and a.dtype.kind in "iu" for a in arrays):
            return None
        n = len(stats.hyp_len)
        m, t = stats.matches, stats.totals
        if m.ndim != 2 or t.shape != m.shape or m.shape[0] != n or stats.hyp_len.ndim != 1 \
                or stats.ref_len.shape != (n,):
            return None
        if self.family == "nltk" and (not self.fast_nltk or self.weights):
            return None
        sv = 0.0
        if self.family == "sacrebleu":
            value = SACRE_DEFAULT_VALUES[self.smoothing] if self.smooth_value is None else self.smooth_value
            if value is not None:
                # an int smooth value is added to int counts: exact in a double only below 2**53
                if type(value) not in (int, float) or (type(value) is int and abs(value) > 2 ** 53):
                    return None
                sv = float(value)
        codes = {"none": 0, "method1": 1, "method3": 2, "exp": 3, "floor": 4, "add-k": 5}
        out = np.zeros((len(names), n))
        as64 = [np.ascontiguousarray(a, dtype=np.int64) for a in arrays]
        res = ck.bleu_sentences(*as64, out, n, m.shape[1], 0 if self.family == "nltk" else 1, codes[self.smoothing],
                                sv, bool(self.effective_order), self.max_order, bool(self.individual))
        if res is NotImplemented:
            return None
        return {k: out[j] for j, k in enumerate(names)}

    def corpus_score(self, stats: BleuStats) -> dict[str, float]:
        """Corpus scores on the native scale (per ``aggregation``)."""
        if self.aggregation == "mean":
            per_item = self.sentence_scores(stats)
            check_defined(per_item, self.smoothing)
            return {k: float(np.mean(v)) if len(v) else 0.0 for k, v in per_item.items()}
        if self.family == "nltk":
            # nltk sums max(1, .) denominators per segment: short hypotheses
            # add a phantom 1 to the higher orders.
            num = stats.matches.sum(axis=0).tolist()
            den = np.maximum(stats.totals, 1).sum(axis=0).tolist()
            last = _last(stats.matches[-1].tolist(), stats.totals[-1].tolist(), int(stats.hyp_len[-1])) \
                if len(stats) else None
            return self._nltk_named(num, den, int(stats.hyp_len.sum()), int(stats.ref_len.sum()), last)
        correct = stats.matches.sum(axis=0).tolist()
        total = stats.totals.sum(axis=0).tolist()
        return self._score_row(correct, total, int(stats.hyp_len.sum()), int(stats.ref_len.sum()))


def _last(correct, total, hyp_len) -> _nltk.Last:
    """What nltk's methods 4-7 read of one pair (the last of a corpus)."""
    if len(correct) >= 5:
        return _nltk.Last(int(hyp_len), int(correct[4]), int(total[4]))
    # a hypothesis shorter than 5 tokens has no 5-grams; a longer one needs the 5-gram column
    return _nltk.Last(int(hyp_len), 0, 0) if hyp_len < 5 else _nltk.Last(int(hyp_len), None, None)


def undefined_items(per_item: dict[str, np.ndarray]) -> list[int]:
    """Items nltk cannot score (NaN sentence BLEU: method6 without a trigram match)."""
    cols = [v for k, v in per_item.items() if k.startswith("bleu-")]
    if not cols:
        return []
    return np.flatnonzero(np.isnan(np.vstack(cols)).any(axis=0)).tolist()


def check_defined(per_item: dict[str, np.ndarray], smoothing: str = "method6") -> None:
    """A mean of sentence BLEU needs every item's value."""
    bad = undefined_items(per_item)
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
        why = " without a trigram match (nltk asserts a nonzero trigram precision)" if smoothing == "method6" else ""
        raise InputError(f"smoothing {smoothing} is undefined for {len(bad)} item(s){why}: {shown}; "
                         "aggregate='corpus' scores the corpus")
