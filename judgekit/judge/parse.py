"""Read scores out of a judge's reply, or say why not.

Structured output (JSON schema) is the primary path; this parser also
accepts what servers without it send: fenced JSON, ``评分：２``, full-width
digits, Chinese numerals, level labels such as "Good".  A reply that cannot
be read, is ambiguous, or gives a value off the scale is *unscored* with a
reason: it never becomes a number.  ``PARSER_VERSION`` is part of every cache
key, so changing the rules here re-asks rather than reusing old readings.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .rubric import Dimension, Rubric

PARSER_VERSION = "2"

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_NUM = r"[-+]?\d+(?:\.\d+)?|[零〇一二两三四五六七八九十]"
_REFUSAL = re.compile(
    r"\b(I can(?:no|')t|I am unable|I'm unable|I won't|I cannot help|as an AI)\b|抱歉，?我(?:无法|不能)|我无法(?:协助|回答|评价)",
    re.IGNORECASE,
)
_SCORE_WORDS = r"(?:score|rating|grade|评分|得分|分数|打分|评级)"
# a denominator after a score: "3/5", "3 / 10", "3 out of 5", "1 of 3"
_DENOMINATOR = re.compile(r"\s*(?:/|out\s+of\b|of\b)\s*[-+]?\d", re.I)


class _Object(dict):  # type: ignore[type-arg]
    """A JSON object as read, with the keys (stripped, case-folded) that it
    gives more than once with different values."""

    conflicts: frozenset[str] = frozenset()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    seen: dict[str, Any] = {}
    conflicts = set()
    for k, v in pairs:
        folded = k.strip().casefold()
        if folded in seen and seen[folded] != v:
            conflicts.add(folded)
        seen[folded] = v
        obj[k] = v
    if conflicts:
        obj.conflicts = frozenset(conflicts)
    return obj


def _loads(text: str) -> Any:
    """json.loads that keeps duplicate keys in view; ValueError for any
    text it cannot read (too deeply nested included)."""
    try:
        return json.loads(text, object_pairs_hook=_object_pairs)
    except RecursionError:
        raise ValueError("nested too deeply") from None


@dataclass(frozen=True)
class Parsed:
    scores: dict[str, int] | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.scores is not None


def _normalise(text: str) -> str:
    # NFKC folds full-width digits, letters, colons and braces to ASCII.
    return unicodedata.normalize("NFKC", text)


def _number(token: str) -> float | None:
    token = token.strip()
    if token in _CN_DIGITS:
        return float(_CN_DIGITS[token])
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _value(raw: Any, dim: Dimension, language_labels: bool = True) -> tuple[int | None, str | None]:
    """A scale value from a JSON value or a token; else the reason."""
    if isinstance(raw, bool) or raw is None:
        return None, f"{dim.name}: {raw!r} is not a score"
    num: float | int | None
    if isinstance(raw, int):
        num = raw
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            return None, f"{dim.name}: {raw!r} is not a finite number"
        num = raw
    elif isinstance(raw, str):
        s = _normalise(raw).strip().strip("\"'*`").strip()
        num = _number(s)
        if num is None and re.fullmatch(rf"(?:{_NUM})\s*(?:/|out\s+of|of)\s*[-+]?\d+(?:\.\d+)?\s*分?", s, re.I):
            return None, f"{dim.name}: ambiguous, {raw!r} is a score with a denominator"
        if num is None:
            m = re.fullmatch(rf"({_NUM})\s*分?", s)
            num = _number(m.group(1)) if m else None
        if num is None and language_labels:
            hits = {lv.value for lv in dim.scale for lab in lv.label.values() if lab.casefold() == s.casefold()}
            if len(hits) == 1:
                return hits.pop(), None
        if num is None:
            return None, f"{dim.name}: {raw!r} is not a score"
    else:
        return None, f"{dim.name}: {type(raw).__name__} is not a score"
    if num != int(num) or int(num) not in dim.values:
        return None, f"{dim.name}: {raw!r} is off the scale {list(dim.values)}"
    return int(num), None


def _json_objects(text: str) -> list[Any]:
    """JSON objects in the text: the whole text, fenced blocks, then balanced {...}."""
    found: list[Any] = []
    stripped = text.strip()
    try:
        found.append(_loads(stripped))
        return found
    except ValueError:
        pass
    for m in re.finditer(r"```(?:json|JSON)?\s*(.*?)```", text, re.S):
        try:
            found.append(_loads(m.group(1).strip()))
        except ValueError:
            pass
    if found:
        return found
    depth, start = 0, None
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0 and start is not None:
                try:
                    found.append(_loads(text[start:i + 1]))
                except ValueError:
                    pass
    return found


def _from_mapping(obj: Mapping[str, Any], rubric: Rubric) -> Parsed:
    folded = {str(k).strip().casefold(): v for k, v in obj.items()}
    conflicts = getattr(obj, "conflicts", frozenset())
    scores: dict[str, int] = {}
    problems: list[str] = []
    for dim in rubric.dimensions:
        keys = [dim.name.casefold()] + [d.casefold() for d in _dim_aliases(dim)]
        key = next((k for k in keys if k in folded), None)
        if key is None and len(rubric.dimensions) == 1:
            singles = [k for k in ("score", "rating", "评分", "得分", "分数") if k in folded]
            key = singles[0] if len(singles) == 1 else None
        if key is not None and key in conflicts:
            problems.append(f"{dim.name}: ambiguous, the reply gives {key!r} more than once with different values")
            continue
        raw = folded[key] if key is not None else _MISSING
        if raw is _MISSING:
            problems.append(f"{dim.name}: missing")
            continue
        value, why = _value(raw, dim)
        if why:
            problems.append(why)
        else:
            scores[dim.name] = value  # type: ignore[assignment]
    if problems:
        return Parsed(None, "; ".join(problems))
    return Parsed(scores, None)


_MISSING = object()


def _dim_aliases(dim: Dimension) -> list[str]:
    out = [dim.name.replace("_", " ")]
    if dim.name.startswith("level_"):
        out += [dim.name[len("level_"):], dim.name[len("level_"):].replace("_", " ")]
    return out


def _from_text(text: str, rubric: Rubric) -> Parsed:
    labels = "|".join(
        re.escape(lab) for d in rubric.dimensions for lv in d.scale for lab in sorted(set(lv.label.values()), key=len, reverse=True)
    )
    value_re = rf"(?P<v>{_NUM}|{labels})" if labels else rf"(?P<v>{_NUM})"
    scores: dict[str, int] = {}
    problems: list[str] = []
    for dim in rubric.dimensions:
        names = [dim.name] + _dim_aliases(dim)
        if len(rubric.dimensions) == 1:
            names.append(_SCORE_WORDS)
        name_re = "|".join(n if n == _SCORE_WORDS else re.escape(n) for n in names)
        pattern = rf"(?:^|[\s*#\"'(（【\[,，;；]){{0,1}}(?:{name_re})[\s*\"'】\]]*[:：=]\s*[*\"'`]*\s*{value_re}(?![\w.])"
        hits = []
        denominators = []
        for m in re.finditer(pattern, text, re.I | re.M):
            if _DENOMINATOR.match(text, m.end()):
                denominators.append(text[m.start("v"):m.end() + 12].strip())
                continue
            v, _ = _value(m.group("v"), dim)
            hits.append((m.group("v"), v))
        if not hits and not denominators and len(rubric.dimensions) == 1:
            whole = text.strip().strip("*`\"'.。 ")
            v, why = _value(whole, dim)
            if v is not None:
                hits.append((whole, v))
            elif why and "denominator" in why:
                problems.append(why)
                continue
        if denominators:
            problems.append(f"{dim.name}: ambiguous, a score with a denominator ({denominators[0]!r}): "
                            f"the scale is {list(dim.values)}")
            continue
        if not hits:
            problems.append(f"{dim.name}: missing")
            continue
        values = {v for _, v in hits}
        if None in values:
            bad = next(raw for raw, v in hits if v is None)
            problems.append(f"{dim.name}: {bad!r} is off the scale {list(dim.values)}")
        elif len(values) > 1:
            problems.append(f"{dim.name}: ambiguous, reply gives {sorted(values)}")
        else:
            scores[dim.name] = values.pop()
    if problems:
        return Parsed(None, "; ".join(problems))
    return Parsed(scores, None)


def _fast_path(text: str, rubric: Rubric) -> Parsed | None:
    """Structured output as the schema asked: exact keys, on-scale ints."""
    try:
        obj = _loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict) or len(obj) != len(rubric.dimensions) or getattr(obj, "conflicts", None):
        return None
    scores: dict[str, int] = {}
    for d in rubric.dimensions:
        v = obj.get(d.name)
        if type(v) is not int or v not in d.values:
            return None
        scores[d.name] = v
    return Parsed(scores, None)


def parse_reply(text: str | None, rubric: Rubric, refusal: str | None = None, finish_reason: str | None = None) -> Parsed:
    """Scores for every dimension, or ``scores=None`` and the reason."""
    if refusal:
        return Parsed(None, f"refusal: {refusal.strip()[:200]}")
    if text is not None and text[:1] == "{":
        fast = _fast_path(text, rubric)
        if fast is not None:
            return fast
    if text is None or not text.strip():
        extra = f" (finish_reason={finish_reason})" if finish_reason and finish_reason != "stop" else ""
        return Parsed(None, f"empty reply{extra}")
    norm = _normalise(text)
    objects = [o for o in _json_objects(norm) if isinstance(o, Mapping)]
    if objects:
        results = [_from_mapping(o, rubric) for o in objects]
        good = [r for r in results if r.ok]
        distinct = {json.dumps(r.scores, sort_keys=True) for r in good}
        if len(distinct) == 1:
            return good[0]
        if len(distinct) > 1:
            return Parsed(None, "ambiguous: the reply holds several JSON answers that disagree")
        first_problem = results[0].reason
    else:
        first_problem = None
    if finish_reason == "length":
        # A cut-off reply may end inside a number ("1" of "10"): only a
        # complete JSON answer counts.
        return Parsed(None, f"truncated reply (finish_reason=length): {first_problem or 'no complete JSON answer'}")
    parsed = _from_text(norm, rubric)
    if parsed.ok:
        return parsed
    reason = first_problem or parsed.reason or "no score found"
    if _REFUSAL.search(text):
        reason = f"looks like a refusal: {reason}"
    else:
        reason = f"unparseable reply: {reason}"
    return Parsed(None, reason)


def expected_scores(logprobs: Sequence[Mapping[str, Any]] | None, rubric: Rubric) -> dict[str, float]:
    """Probability-weighted score per dimension from the token logprobs.

    For each dimension, finds the token right after ``"name":`` in the reply
    and averages the scale values among that position's top alternatives,
    renormalised over those that are on the scale.  Dimensions whose token
    is not found, or whose alternatives hold no scale value, are left out.
    """
    if not logprobs:
        return {}
    out: dict[str, float] = {}
    text = ""
    pending: Dimension | None = None
    dims = {d.name: d for d in rubric.dimensions}
    for tok in logprobs:
        token = str(tok.get("token", ""))
        if pending is not None and token.strip():
            cands = tok.get("top_logprobs") or [{"token": token, "logprob": tok.get("logprob", 0.0)}]
            weights: dict[int, float] = {}
            for c in cands:
                v = _number(_normalise(str(c.get("token", ""))).strip())
                lp = c.get("logprob")
                if v is None or lp is None or v != int(v) or int(v) not in pending.values:
                    continue
                weights[int(v)] = weights.get(int(v), 0.0) + math.exp(float(lp))
            total = sum(weights.values())
            if total > 0:
                out[pending.name] = sum(v * w for v, w in weights.items()) / total
            pending = None
        text += token
        m = re.search(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:\s*$', text)
        if m and m.group(1) in dims and m.group(1) not in out:
            pending = dims[m.group(1)]
    return out
