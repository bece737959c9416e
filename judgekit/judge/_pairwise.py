"""Pairwise judging: two systems head to head, each pair asked in both orders.

Every item is judged twice through the ``Judge`` engine (two separate,
separately cached requests): once with the baseline's reply shown first
(order ``ab``) and once with the system's reply shown first (order ``ba``).
The second verdict is mapped back to the systems, and the two are
reconciled per item, from the system's side (the baseline is A, the system
B), by FastChat's MT-bench rule (``fastchat/llm_judge/show_result.py``):

- ``win``: both orders prefer the system; ``loss``: both prefer the baseline;
- ``tie``: both orders say tie, or one says tie and the other picks a reply;
- ``inconsistent``: one order prefers the baseline and the other the system
  (the verdict followed the position, not the replies).  FastChat counts
  these as ties; judgekit keeps them apart in the shares and counts them
  half, like ties, in the win rate;
- ``unscored``: either order unscored (its reason kept); left out of every
  figure.

The win rate is (wins + (ties + inconsistent) / 2) / scored items, the
per-item value of ``to_scores()`` (1 / 0.5 / 0).  The length-controlled win
rate follows alpaca_eval 2's GLM, reduced to one system against one
baseline: a logistic regression of the per-item preference (1 / 0.5 / 0,
fit as a probability) on an intercept and ``tanh(dlen / sd(dlen))``, where
``dlen`` is the system's reply length minus the baseline's in characters;
the LC win rate is the prediction at ``dlen = 0``, ``sigmoid(intercept)``.
alpaca_eval's instruction-difficulty term (estimated over many models) and
its regularisation toward gamed baselines are left out; instead both
coefficients carry a weak L2 penalty (``lc_penalty``, default 1), which keeps
the fit finite when length separates the verdicts perfectly.

Confidence intervals: percentile bootstrap over the scored items, seeded
(``default_rng(seed).choice``, as ``judgekit.report.bootstrap_ci``, so the
leaderboard's interval of the win rate is the same numbers); the LC win
rate is refit on each resample.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..errors import InputError, show_ids
from ..scores import MeanReducer, Scores
from ..signature import Signature
from .rubric import Rubric, load_rubric

OUTCOMES = ("win", "tie", "loss", "inconsistent")
VERDICTS = ("A", "B", "tie")
TIE_RULE = "fastchat"  # one tie + one win is a tie; opposite winners are inconsistent (half, like a tie)
LC_METHOD = "glm-tanh-l2"  # logit p = b0 + b1 * tanh(dlen / sd(dlen)); LC = sigmoid(b0)
DEFAULT_SEED = 12345
SCORE_COLUMN = "win_rate"
_VALUE = {"win": 1.0, "tie": 0.5, "inconsistent": 0.5, "loss": 0.0}
_PER_ITEM = ("id", "outcome", "verdict_ab", "verdict_ba", "len_a", "len_b", "pref_ab", "pref_ba", "reason",
             "raw_ab", "raw_ba")


@dataclass
class PairwiseResult:
    """Per-item verdicts in both orders (``per_item``: id, verdict_ab,
    verdict_ba, outcome, len_a, len_b, the judge's answers ``pref_ab`` /
    ``pref_ba`` on the rubric's scale, reason, raw replies), the ``summary``
    figures and the ``signature``.  ``names`` is (baseline, system): A, B.
    ``to_scores()`` gives per-item win 1 / tie 0.5 / loss 0 (NaN unscored)."""

    per_item: Any
    summary: dict[str, Any]
    signature: Signature
    names: tuple[str, str] = ("A", "B")

    def __post_init__(self) -> None:
        self.signature = Signature(self.signature)
        self.names = (str(self.names[0]), str(self.names[1]))

    def to_scores(self, prefix: str = "pairwise:") -> Scores:
        """Scores keyed by item id: ``<prefix>win_rate`` (1 win, 0.5 tie or
        inconsistent, 0 loss, NaN unscored; corpus value the mean over the
        scored items, resampled as such) and ``<prefix>outcome``."""
        import numpy as np

        outcome = self.per_item["outcome"].to_numpy(dtype=object)
        values = np.array([_VALUE.get(o, math.nan) for o in outcome], dtype=float)
        col = f"{prefix}{SCORE_COLUMN}"
        return Scores(self.per_item["id"].astype(str).tolist(), {col: values, f"{prefix}outcome": outcome},
                      signature=self.signature, reducer=MeanReducer([col]))

    def to_dict(self) -> dict[str, Any]:
        rows = json.loads(self.per_item.to_json(orient="records", force_ascii=False))
        return {"signature": str(self.signature), "names": list(self.names), "summary": self.summary,
                "per_item": rows}

    def report(self) -> str:
        """The figures as text lines (what ``judgekit pairwise`` prints)."""
        s = self.summary
        base, system = self.names
        ci = s["ci"]

        def pct(key: str) -> str:
            v = s[key]
            lo, hi = ci.get(key, (math.nan, math.nan))
            if not math.isfinite(v):
                return "–"
            return f"{100 * v:5.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"

        lines = [f"{system} vs {base}: {s['n_scored']} of {s['n_items']} item(s) judged in both orders"
                 + (f" ({s['n_unscored']} unscored)" if s["n_unscored"] else ""),
                 f"  win           {pct('win')}   ({system} better in both orders)",
                 f"  tie           {pct('tie')}",
                 f"  loss          {pct('loss')}   ({base} better in both orders)",
                 f"  inconsistent  {pct('inconsistent')}   (the verdict followed the position)",
                 f"  win rate      {pct('win_rate')}   (wins + (ties + inconsistent) / 2)",
                 f"  LC win rate   {pct('lc_win_rate')}   (length-controlled: GLM on tanh(dlen/sd), at equal length)",
                 f"  position bias {pct('position_bias')}   (both orders chose the reply shown first)",
                 f"  first shown   {pct('first_shown_rate')}   (of decisive verdicts; 50% = no position bias)",
                 f"  mean length   {s['mean_len_a']:.1f} ({base}) vs {s['mean_len_b']:.1f} ({system}) characters"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        s = self.summary
        return (f"<PairwiseResult {self.names[1]} vs {self.names[0]}: {s['n_scored']}/{s['n_items']} scored; "
                f"win rate {s['win_rate']:.3f}, LC {s['lc_win_rate']:.3f}; {self.signature}>")


# --- inputs ---

def pairwise_rubric(rubric: Any) -> tuple[Rubric, tuple[int, int, int]]:
    """A rubric usable for pairwise judging: inputs ``response_a`` and
    ``response_b`` (both required) and one dimension of three levels, read
    as (first shown better, tie, second shown better)."""
    r = load_rubric(rubric)
    names = {i.name: i for i in r.inputs}
    for need in ("response_a", "response_b"):
        if need not in names or not names[need].required:
            raise InputError(f"rubric {r.id} is not pairwise: it needs required inputs response_a and response_b "
                             f"(inputs: {', '.join(names)})")
    if len(r.dimensions) != 1 or len(r.dimensions[0].values) != 3:
        raise InputError(f"rubric {r.id} is not pairwise: it needs one dimension of three levels (A better, tie, "
                         f"B better), not {[(d.name, list(d.values)) for d in r.dimensions]}")
    return r, r.dimensions[0].values  # type: ignore[return-value]


def _keyed(x: Any, what: str) -> dict[str, Any]:
    if hasattr(x, "to_dict") and hasattr(x, "index") and not hasattr(x, "columns"):  # Series
        x = x.to_dict()
    if isinstance(x, Mapping):
        return {str(k): v for k, v in x.items()}
    if isinstance(x, (str, bytes)):
        raise InputError(f"{what} is a single string; give a sequence or a mapping id -> text")
    try:
        return {str(i): v for i, v in enumerate(x)}
    except TypeError:
        raise InputError(f"{what} is {type(x).__name__}; give a sequence or a mapping id -> text") from None


def pair_items(systems: Mapping[str, Any], contexts: Any = None) -> list[dict[str, Any]]:
    """Items with ``response_a`` (the first system, the baseline) and
    ``response_b`` (the second), paired by id; ``contexts``: id -> the
    context text, or id -> a mapping of the other input fields (context,
    emotion, ...).  An id missing from any of them is an error naming it."""
    names = [str(n) for n in systems]
    if len(names) != 2:
        raise InputError(f"pairwise judging takes two systems (baseline, system), got {len(names)}: {names}")
    if names[0] == names[1]:
        raise InputError("the two systems need different names")
    a, b = (_keyed(v, f"system {n!r}") for n, v in zip(names, systems.values()))
    ids = list(a)
    missing = [i for i in ids if i not in b]
    extra = [i for i in b if i not in a]
    if missing:
        raise InputError(f"system {names[1]!r} lacks {len(missing)} item(s) of {names[0]!r}: {show_ids(missing)}")
    if extra:
        raise InputError(f"system {names[1]!r} has {len(extra)} item(s) that {names[0]!r} does not: {show_ids(extra)}")
    ctx = _keyed(contexts, "contexts") if contexts is not None else None
    if ctx is not None:
        missing = [i for i in ids if i not in ctx]
        if missing:
            raise InputError(f"contexts lack {len(missing)} of the {len(ids)} item(s): {show_ids(missing)}")
        extra = [i for i in ctx if i not in a]
        if extra:
            raise InputError(f"contexts have {len(extra)} item(s) that the systems do not: {show_ids(extra)}")
    items = []
    for i in ids:
        item: dict[str, Any] = {}
        if ctx is not None:
            c = ctx[i]
            if isinstance(c, Mapping):
                item.update({str(k): v for k, v in c.items() if k not in ("id", "response_a", "response_b")})
            else:
                item["context"] = c
        item.update(id=i, response_a=a[i], response_b=b[i])
        items.append(item)
    return items


def _as_items(items: Any, contexts: Any, names: Sequence[str] | None) -> tuple[list[dict[str, Any]], tuple[str, str]]:
    if isinstance(items, Mapping):
        if {"response_a", "response_b", "context"} & {str(k) for k in items}:
            raise InputError("pairwise takes a list of items (or a DataFrame), or a mapping of two systems "
                             "name -> outputs; this mapping looks like a single item")
        got = pair_items(items, contexts)
        keys = [str(k) for k in items]
        return got, (keys[0], keys[1]) if names is None else _names(names)
    if contexts is not None:
        raise InputError("contexts= goes with two systems given as a mapping name -> outputs; items carry "
                         "their own context")
    try:
        import pandas as pd

        if isinstance(items, pd.DataFrame):
            items = items.to_dict(orient="records")
    except ImportError:  # pragma: no cover
        pass
    if isinstance(items, (str, bytes)):
        raise InputError("items must be a list of mappings (one per item) or a DataFrame")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InputError(f"item {i}: must be a mapping with response_a and response_b, got {type(item).__name__}")
        d = dict(item)
        raw_id = d.get("id")
        d["id"] = str(i) if raw_id is None or (isinstance(raw_id, float) and math.isnan(raw_id)) else str(raw_id)
        out.append(d)
    return out, ("A", "B") if names is None else _names(names)


def _names(names: Sequence[str]) -> tuple[str, str]:
    if isinstance(names, str) or len(names) != 2:
        raise InputError(f"names: give two names (baseline, system), not {names!r}")
    return str(names[0]), str(names[1])


# --- judging ---

def pairwise(items: Any, rubric: Any = "empathy-pairwise", model: str = "", *, contexts: Any = None,
             names: Sequence[str] | None = None, base_url: Any = None, api_key_env: str = "OPENAI_API_KEY",
             cache: Any = None, concurrency: int = 16, n_bootstrap: int = 1000,
             bootstrap_seed: int | None = DEFAULT_SEED, confidence: float = 0.95, lc_penalty: float = 1.0,
             **settings: Any) -> PairwiseResult:
    """Judge two systems head to head, every pair in both orders.

    ``items``: a list of mappings (or a DataFrame) with ``response_a`` (the
    baseline's reply), ``response_b`` (the system's), the rubric's other
    inputs (``context``, optional ``emotion``) and an optional ``id``; or a
    mapping of two systems ``{baseline: outputs, system: outputs}``
    (outputs: id -> text, or sequences in one order) with ``contexts=``
    (id -> context text, or id -> mapping of input fields).  ``rubric``: a
    pairwise rubric (``response_a``/``response_b`` inputs, one
    three-level dimension: first shown better / tie / second shown better).
    Other settings (``samples``, ``temperature``, ``lang``, ``replay_only``,
    ...) go to ``Judge``; with ``samples > 1`` give ``aggregate="majority"``.

    Tie rule: FastChat's (one tie + one win is a tie); opposite winners are
    ``inconsistent``, counted half in the win rate.  Length control:
    alpaca_eval 2's GLM on ``tanh(dlen / sd(dlen))`` without the
    instruction-difficulty term, L2 penalty ``lc_penalty`` on both
    coefficients; LC win rate = the prediction at equal length.  CIs:
    percentile bootstrap over scored items, ``n_bootstrap`` resamples,
    ``bootstrap_seed`` (``seed=`` is the judge's sampling seed, as for
    ``Judge``)."""
    from .run import Judge

    r, values = pairwise_rubric(rubric)
    pairs, (base_name, sys_name) = _as_items(items, contexts, names)
    if settings.get("samples", 1) > 1 and settings.get("aggregate", "mean") != "majority":
        raise InputError("pairwise with samples > 1 needs aggregate='majority' (a mean of verdicts is no verdict)")
    seen: dict[str, int] = {}
    for i, item in enumerate(pairs):
        if item["id"] in seen:
            raise InputError(f"item {i}: duplicate id {item['id']!r} (first at item {seen[item['id']]})")
        seen[item["id"]] = i
        for f in ("response_a", "response_b"):
            v = item.get(f)
            if not isinstance(v, str):
                raise InputError(f"item {i} (id {item['id']!r}): {f} must be a string, got {type(v).__name__}")
    ab = [{**item, "id": f"ab:{item['id']}"} for item in pairs]
    ba = [{**item, "id": f"ba:{item['id']}", "response_a": item["response_b"], "response_b": item["response_a"]}
          for item in pairs]
    judge = Judge(rubric=r, model=model, base_url=base_url, api_key_env=api_key_env, cache=cache,
                  concurrency=concurrency, **settings)
    jr = judge.run(ab + ba)
    df = jr.per_item
    n = len(pairs)
    dim = r.dimensions[0].name
    first_map = {values[0]: "A", values[1]: "tie", values[2]: "B"}   # order ab: A shown first
    second_map = {values[0]: "B", values[1]: "tie", values[2]: "A"}  # order ba: B shown first
    rows = []
    for k, item in enumerate(pairs):
        ra, rb = df.iloc[k], df.iloc[n + k]
        pa = _int(ra[dim]) if ra["status"] == "scored" else None
        pb = _int(rb[dim]) if rb["status"] == "scored" else None
        va = first_map.get(pa) if pa is not None else None
        vb = second_map.get(pb) if pb is not None else None
        reasons = [f"{o}: {x['reason']}" for o, x, v in (("ab", ra, va), ("ba", rb, vb)) if v is None]
        rows.append({"id": item["id"], "outcome": reconcile(va, vb), "verdict_ab": va, "verdict_ba": vb,
                     "len_a": len(item["response_a"]), "len_b": len(item["response_b"]), "pref_ab": pa,
                     "pref_ba": pb, "reason": "; ".join(reasons) or None, "raw_ab": ra["raw"], "raw_ba": rb["raw"]})
    import pandas as pd

    per_item = pd.DataFrame(rows, columns=list(_PER_ITEM))
    summary = summarise(per_item, n_bootstrap=n_bootstrap, seed=bootstrap_seed, confidence=confidence,
                        lc_penalty=lc_penalty)
    s = jr.summary
    summary["judge"] = {k: s[k] for k in ("requests_cached", "requests_sent", "requests_failed", "tokens", "cost",
                                          "stopped", "notes") if k in s}
    signature = Signature([*jr.signature.items(), *_method_parts(n_bootstrap, bootstrap_seed, lc_penalty)])
    return PairwiseResult(per_item, summary, signature, (base_name, sys_name))


def _method_parts(n_bootstrap: int, seed: int | None, lc_penalty: float) -> list[tuple[str, Any]]:
    return [("pairwise", "both-orders"), ("tie", TIE_RULE), ("lc", f"{LC_METHOD}.{lc_penalty:g}"),
            ("bs", n_bootstrap), ("bs_seed", seed)]


def _int(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) and f == int(f) else None


def reconcile(verdict_ab: str | None, verdict_ba: str | None) -> str:
    """The item's outcome for the system (B) from the two orders' verdicts
    (each ``"A"``, ``"B"``, ``"tie"`` or None when unscored)."""
    if verdict_ab is None or verdict_ba is None:
        return "unscored"
    for v in (verdict_ab, verdict_ba):
        if v not in VERDICTS:
            raise InputError(f"verdict {v!r}: expected one of {list(VERDICTS)}")
    if verdict_ab == verdict_ba:
        return {"B": "win", "A": "loss", "tie": "tie"}[verdict_ab]
    if "tie" in (verdict_ab, verdict_ba):
        return "tie"
    return "inconsistent"


# --- figures ---

def _sigmoid(x: Any) -> Any:
    import numpy as np

    return np.exp(-np.logaddexp(0.0, -x))


def fit_length_glm(y: Any, x: Any, penalty: float = 1.0) -> tuple[Any, Any]:
    """(intercept, slope) of the L2-penalised logistic regression of the
    soft preferences ``y`` (in [0, 1]) on ``x``, by Newton's method; the
    last axis is the items, leading axes are fitted independently."""
    import numpy as np

    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    b0 = np.zeros(y.shape[:-1])
    b1 = np.zeros(y.shape[:-1])
    for _ in range(100):
        p = _sigmoid(b0[..., None] + b1[..., None] * x)
        w = p * (1 - p)
        r = y - p
        g0 = r.sum(-1) - penalty * b0
        g1 = (r * x).sum(-1) - penalty * b1
        h00 = w.sum(-1) + penalty
        h01 = (w * x).sum(-1)
        h11 = (w * x * x).sum(-1) + penalty
        det = h00 * h11 - h01 * h01
        d0 = (h11 * g0 - h01 * g1) / det
        d1 = (h00 * g1 - h01 * g0) / det
        b0, b1 = b0 + d0, b1 + d1
        if float(np.max(np.abs(np.concatenate([np.ravel(d0), np.ravel(d1)])), initial=0.0)) < 1e-10:
            break
    return b0, b1


def _interval(values: Any, confidence: float) -> tuple[float, float]:
    """Percentile interval as judgekit.report's (sacreBLEU's order statistics)."""
    import numpy as np

    v = np.sort(np.asarray(values, dtype=float))
    k = int(len(v) * (1.0 - confidence) / 2.0 + 1e-9)
    return float(v[k]), float(v[len(v) - k - 1])


def summarise(per_item: Any, *, n_bootstrap: int = 1000, seed: int | None = DEFAULT_SEED, confidence: float = 0.95,
              lc_penalty: float = 1.0) -> dict[str, Any]:
    """The figures of a per-item table (id, outcome, verdict_ab, verdict_ba,
    len_a, len_b): shares, win rate, LC win rate, position bias, with
    bootstrap CIs over the scored items."""
    import numpy as np

    if n_bootstrap < 1:
        raise InputError("n_bootstrap must be at least 1")
    if not 0 < confidence < 1:
        raise InputError("confidence must be between 0 and 1")
    if lc_penalty <= 0:
        raise InputError("lc_penalty must be > 0 (it keeps the length fit finite)")
    outcome = per_item["outcome"].to_numpy(dtype=object)
    scored = outcome != "unscored"
    n_items, m = len(outcome), int(scored.sum())
    o = outcome[scored]
    vab = per_item["verdict_ab"].to_numpy(dtype=object)[scored]
    vba = per_item["verdict_ba"].to_numpy(dtype=object)[scored]
    len_a = per_item["len_a"].to_numpy(dtype=float)[scored]
    len_b = per_item["len_b"].to_numpy(dtype=float)[scored]
    # per scored item, the statistics whose means are the figures
    stats = {k: (o == k).astype(float) for k in OUTCOMES}
    stats["win_rate"] = np.array([_VALUE[v] for v in o], dtype=float)
    stats["position_bias"] = ((vab == "A") & (vba == "B")).astype(float)  # the reply shown first, both times
    stats["position_bias_second"] = ((vab == "B") & (vba == "A")).astype(float)
    first = (vab == "A").astype(float) + (vba == "B").astype(float)  # decisive verdicts for the first shown
    decisive = (vab != "tie").astype(float) + (vba != "tie").astype(float)
    dlen = len_b - len_a
    sd = float(np.std(dlen, ddof=1)) if m > 1 else 0.0
    x = np.tanh(dlen / sd) if sd > 0 else np.zeros(m)
    nan = math.nan
    out: dict[str, Any] = {"n_items": n_items, "n_scored": m, "n_unscored": n_items - m,
                           "counts": {k: int((o == k).sum()) for k in OUTCOMES}}
    names = [*OUTCOMES, "win_rate", "position_bias", "position_bias_second"]
    ci: dict[str, tuple[float, float]] = {}
    if m:
        for k in names:
            out[k] = float(stats[k].mean())
        out["first_shown_rate"] = float(first.sum() / decisive.sum()) if decisive.sum() else nan
        b0, b1 = fit_length_glm(stats["win_rate"], x, lc_penalty)
        out["lc_win_rate"] = float(_sigmoid(b0))
        out["lc_coefficients"] = {"intercept": float(b0), "length": float(b1)}
        idx = np.random.default_rng(seed).choice(m, size=(n_bootstrap, m), replace=True)
        for k in names:
            ci[k] = _interval(stats[k][idx].mean(axis=1), confidence)
        with np.errstate(invalid="ignore", divide="ignore"):
            fs = first[idx].sum(1) / decisive[idx].sum(1)
        fs = fs[np.isfinite(fs)]
        ci["first_shown_rate"] = _interval(fs, confidence) if len(fs) else (nan, nan)
        rb0, _ = fit_length_glm(stats["win_rate"][idx], x[idx], lc_penalty)
        ci["lc_win_rate"] = _interval(_sigmoid(rb0), confidence)
    else:
        for k in [*names, "first_shown_rate", "lc_win_rate"]:
            out[k] = nan
        out["lc_coefficients"] = {"intercept": nan, "length": nan}
    out["ci"] = ci
    out["mean_len_a"] = float(len_a.mean()) if m else nan
    out["mean_len_b"] = float(len_b.mean()) if m else nan
    out["length_sd"] = sd
    out["tie_rule"] = ("FastChat: a win needs both orders; one tie + one win is a tie; opposite winners are "
                       "inconsistent and count half, like ties")
    out["lc_method"] = (f"alpaca_eval 2 GLM without instruction difficulty: logit p = b0 + b1 tanh(dlen/sd), "
                        f"L2 {lc_penalty:g}; LC = sigmoid(b0)")
    out["bootstrap"] = {"n_bootstrap": n_bootstrap, "seed": seed, "confidence": confidence}
    return out


# --- reading back ---

def load_pairwise(source: Any, *, names: Sequence[str] | None = None, n_bootstrap: int = 1000,
                  seed: int | None = DEFAULT_SEED, confidence: float = 0.95, lc_penalty: float = 1.0
                  ) -> PairwiseResult:
    """A ``PairwiseResult`` as it is, or from its ``per_item`` DataFrame or
    the JSONL that ``judgekit pairwise --output`` writes (figures
    recomputed; each row's outcome is checked against its two verdicts)."""
    import pandas as pd

    from ..io import read_records

    if isinstance(source, PairwiseResult):
        return source
    if hasattr(source, "columns") and hasattr(source, "to_numpy"):
        rows = source.to_dict(orient="records")
        where_of = [f"row {i}" for i in range(len(rows))]
        path = "the pairwise results"
    elif isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        rows, where_of, path = [], [], source
        for where, rec in read_records(source, id_fields=("id",)):
            rows.append(rec)
            where_of.append(where)
    else:
        raise InputError(f"pairwise results: expected a PairwiseResult, a DataFrame or a JSONL path, not "
                         f"{type(source).__name__}")
    seen: dict[str, str] = {}
    for where, rec in zip(where_of, rows):
        for key in ("id", "outcome", "verdict_ab", "verdict_ba", "len_a", "len_b"):
            if key not in rec:
                raise InputError(f"{where}: pairwise row without {key!r} (expected the output of "
                                 "`judgekit pairwise --output`)")
        rec["id"] = str(rec["id"])
        if rec["id"] in seen:
            raise InputError(f"{where}: id {rec['id']!r} repeats {seen[rec['id']]}")
        seen[rec["id"]] = where
        va, vb = (None if _missing(rec[k]) else rec[k] for k in ("verdict_ab", "verdict_ba"))
        want = reconcile(va, vb)
        if rec["outcome"] != want:
            raise InputError(f"{where}: outcome {rec['outcome']!r} does not follow from the verdicts {va!r} and "
                             f"{vb!r} (expected {want!r})")
        rec["verdict_ab"], rec["verdict_ba"] = va, vb
    frame = pd.DataFrame(rows)
    for col in _PER_ITEM:
        if col not in frame.columns:
            frame[col] = None
    frame = frame[list(_PER_ITEM) + [c for c in frame.columns if c not in _PER_ITEM]]
    if not len(frame):
        raise InputError(f"{path}: no rows")
    summary = summarise(frame, n_bootstrap=n_bootstrap, seed=seed, confidence=confidence, lc_penalty=lc_penalty)
    return PairwiseResult(frame, summary, Signature(_method_parts(n_bootstrap, seed, lc_penalty)),
                          ("A", "B") if names is None else _names(names))


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))
