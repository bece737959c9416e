"""What judgekit keeps of a server's reply, made safe to store and print.

Whatever a server sends (content as a list of parts or an object, a refusal
object, usage counts of 10**30, NaN or strings, lone surrogates, secrets
echoed back), ``completion_from_body`` returns a reply of plain types that
the cache, the parser and the JSON writers all accept: text fields are
``str`` or ``None``, token counts are ints in ``0..MAX_TOKENS``.  What could
not be kept is said in ``error`` (the item is unscored with that reason) or
``notes``.  ``reply_from_row`` reads a cache row back the same way, so a row
written by an older version that cannot be read is an unscored row with a
reason, never a crash.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, Mapping

MAX_REPLY_CHARS = 1_000_000  # text + reasoning + refusal of one reply
MAX_BODY_BYTES = 8 * 1024 * 1024  # one HTTP reply body (logprobs included)
MAX_TOKENS = 10**9  # a usage count above this (per reply) is not believed
_TEXT_FIELDS = ("text", "reasoning", "refusal", "finish_reason", "model")

_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"'\\,;]+")
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"']*@")


class ReplyTooLarge(ValueError):
    """A reply over the size limit: unscored, not cached."""


def redact(text: str, secret: str = "") -> str:
    """``text`` without the secret (the API key), any ``Bearer``/``Basic`` token and
    any credentials in URLs (``http://user:pw@host`` -> ``http://[REDACTED]@host``)."""
    if not text:
        return text
    if secret and len(secret) >= 4 and secret in text:
        text = text.replace(secret, "[REDACTED]")
    if "earer" in text or "EARER" in text or "asic" in text or "ASIC" in text:
        text = _BEARER.sub(r"\1 [REDACTED]", text)
    if "@" in text and "://" in text:
        text = _URL_CREDENTIALS.sub(r"\1[REDACTED]@", text)
    return text


def strip_url_credentials(url: str) -> str:
    """A URL (or several, comma-separated) without ``user:password@``."""
    return _URL_CREDENTIALS.sub(r"\1", url) if "@" in url else url


def _utf8(s: str) -> str:
    """``s`` encodable as UTF-8 (lone surrogates become U+FFFD)."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in s)


def _as_text(value: Any, scrub: Callable[[str], str]) -> str | None:
    """A string field: None, a str, or anything else as its JSON text."""
    if value is None:
        return None
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False, default=str, allow_nan=False)
        except (ValueError, TypeError, RecursionError):
            value = repr(type(value).__name__)
    return scrub(_utf8(value))


def _count(value: Any, name: str, notes: list[str]) -> int:
    """A token count in 0..MAX_TOKENS; anything else is 0 with a note."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS:
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and 0 <= value <= MAX_TOKENS:
        return int(value)
    notes.append(f"usage.{name} is not a token count in 0..{MAX_TOKENS:.0e}; counted as 0")
    return 0


def _content(value: Any, scrub: Callable[[str], str]) -> tuple[str | None, str | None]:
    """The reply text, or None and why: a string, or a list of parts whose
    text parts are joined; anything else is not text."""
    if value is None or isinstance(value, str):
        return (scrub(_utf8(value)) if value is not None else None), None
    if isinstance(value, list):
        texts = []
        for part in value:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str) and \
                    part.get("type", "text") in ("text", "output_text"):
                texts.append(part["text"])
        if texts:
            return scrub(_utf8("".join(texts))), None
        return None, "content is not text (a list without text parts)"
    return None, f"content is not text ({type(value).__name__})"


def _logprobs(lp: Any, notes: list[str]) -> list[dict[str, Any]] | None:
    content = lp.get("content") if isinstance(lp, Mapping) else None
    if not content:
        return None
    if not isinstance(content, list):
        notes.append("logprobs in a shape judgekit does not read; left out")
        return None

    def one(t: Any) -> dict[str, Any] | None:
        if not isinstance(t, Mapping) or not isinstance(t.get("token"), str):
            return None
        p = t.get("logprob")
        p = float(p) if isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p) else None
        return {"token": _utf8(t["token"]), "logprob": p}

    out = []
    for t in content:
        tok = one(t)
        if tok is None:
            notes.append("logprobs in a shape judgekit does not read; left out")
            return None
        alts = t.get("top_logprobs") or []
        tok["top_logprobs"] = [a for a in (one(x) for x in alts) if a is not None] if isinstance(alts, list) else []
        out.append(tok)
    return out


def completion_from_body(body: Any, secret: str = "") -> dict[str, Any]:
    """The parts of a chat completion body that judgekit keeps (and caches).
    Raises ``ValueError`` (``ReplyTooLarge`` for one over the size limit)
    when there is no reply in it at all."""
    if not isinstance(body, Mapping):
        raise ValueError(f"the reply body is a {type(body).__name__}, not an object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError("no choices in the reply")
    choice = choices[0]
    if not isinstance(choice, Mapping):
        raise ValueError("choices[0] is not an object")
    message = choice.get("message") or {}
    if not isinstance(message, Mapping):
        raise ValueError("choices[0].message is not an object")
    scrub = (lambda s: redact(s, secret))
    notes: list[str] = []
    text, error = _content(message.get("content"), scrub)
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    out: dict[str, Any] = {
        "text": text,
        "reasoning": _as_text(reasoning, scrub) if reasoning else None,
        "refusal": _as_text(message.get("refusal"), scrub) if message.get("refusal") else None,
        "finish_reason": _as_text(choice.get("finish_reason"), scrub),
    }
    size = sum(len(out[k] or "") for k in ("text", "reasoning", "refusal"))
    if size > MAX_REPLY_CHARS:
        raise ReplyTooLarge(f"reply too large ({size:,} characters; the limit is {MAX_REPLY_CHARS:,})")
    usage = body.get("usage") or {}
    if not isinstance(usage, Mapping):
        notes.append("usage is not an object; counted as 0")
        usage = {}
    out["usage"] = {"prompt_tokens": _count(usage.get("prompt_tokens"), "prompt_tokens", notes),
                    "completion_tokens": _count(usage.get("completion_tokens"), "completion_tokens", notes)}
    out["logprobs"] = _logprobs(choice.get("logprobs"), notes)
    out["model"] = _as_text(body.get("model"), scrub)
    if out["finish_reason"] is not None and len(out["finish_reason"]) > 100:
        out["finish_reason"] = out["finish_reason"][:100]
    if error:
        out["error"] = error
    if notes:
        out["notes"] = list(dict.fromkeys(notes))
    return out


_EXTRA_TYPES: dict[str, Any] = {"reasoning": str, "model": str, "error": str, "logprobs": list, "notes": list}


def reply_from_row(text: Any, refusal: Any, finish: Any, p: Any, c: Any, extra: Any) -> dict[str, Any]:
    """A cache row as a reply; a row that cannot be read (written by an
    older version, or damaged) is a reply with ``error`` saying why."""
    notes: list[str] = []
    reply: dict[str, Any] = {"text": None, "refusal": None, "finish_reason": None,
                             "usage": {"prompt_tokens": _count(p, "prompt_tokens", notes),
                                       "completion_tokens": _count(c, "completion_tokens", notes)}}
    problems = []
    for name, value in (("text", text), ("refusal", refusal), ("finish_reason", finish)):
        if value is None or isinstance(value, str):
            reply[name] = _utf8(value) if value is not None else None
        else:
            problems.append(f"{name} is {type(value).__name__}, not text")
    if extra:
        try:
            more = json.loads(extra) if isinstance(extra, str) else None
        except (ValueError, RecursionError):
            more = None
        if not isinstance(more, dict):
            problems.append("its extra fields are not a JSON object")
        else:
            for k, v in more.items():
                want = _EXTRA_TYPES.get(k)
                if want is None:
                    if k in reply:
                        problems.append(f"extra field {k!r} overrides a column")
                    else:
                        reply[k] = v  # a field this version does not know: kept as it is
                    continue
                if not isinstance(v, want):
                    problems.append(f"extra field {k!r} is {type(v).__name__}")
                    continue
                if k == "logprobs" and not all(isinstance(t, Mapping) for t in v):
                    notes.append("logprobs in a shape judgekit does not read; left out")
                    continue
                elif k == "notes":
                    v = [_utf8(str(n)) for n in v]
                reply[k] = v
    if problems:
        reply["text"] = None
        reply["error"] = ("unreadable cache row (" + "; ".join(problems) + "): delete it or use a new cache file "
                          "to ask again")
    if notes:
        reply["notes"] = list(reply.get("notes") or []) + notes
    return reply
