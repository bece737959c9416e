"""Server dialects: one judge request, said the way each server accepts it.

judgekit builds one *logical* request per item (temperature, a token limit,
structured output as an OpenAI ``json_schema`` response format, logprobs,
extra fields); the cache key is made of it, so a reply is found again
whichever dialect carried it.  ``Dialect.wire`` translates it into the body
a server accepts:

- structured output, strongest first: ``json_schema`` (OpenAI, vLLM,
  SGLang, LM Studio, current llama-server), ``json_object+schema``
  (llama-cpp-python's server: ``{"type": "json_object", "schema": ...}``),
  ``json_object`` (DeepSeek and other JSON-mode-only APIs; the schema stays
  in the prompt), ``text`` (no response format: the tolerant parser reads
  the reply);
- the token limit as ``max_tokens`` or ``max_completion_tokens`` (OpenAI
  reasoning models refuse the former);
- ``temperature`` sent or left out (reasoning models accept only the
  default);
- logprobs sent or left out.

``Dialect.learn`` reads a refusal (an HTTP error whose message names what
was refused) and moves one step; the engine then resends at once, without
counting a retry.  What was learned is kept per server and model in the
cache database and shown in the signature's ``format:`` part.  A refusal
never becomes a score: a request the server refuses in every dialect fails
with the server's message.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["Dialect", "FORMATS", "strip_reasoning"]

FORMATS = ("json_schema", "json_object+schema", "json_object", "text")

_FORMAT_REFUSAL = re.compile(r"response_format|json_schema|json_object|'text' or|structured output|guided_json",
                             re.I)
_REFUSED = re.compile(r"not supported|unsupported|does not support|is not (?:a )?valid|invalid|unrecognized|"
                      r"unknown|not allowed|extra (?:fields|inputs) not permitted|only the default|"
                      r"input should be|use '?max_completion_tokens", re.I)
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>\s*", re.S | re.I)
_THINK_OPEN = re.compile(r"^\s*<(think|thinking|reasoning)>.*\Z", re.S | re.I)


@dataclass
class Dialect:
    """How one server wants a judge request said."""

    format: str = "json_schema"
    token_param: str = "max_tokens"
    temperature: bool = True
    logprobs: bool = True

    def wire(self, logical: Mapping[str, Any]) -> dict[str, Any]:
        """The body parameters for a logical request (see the module)."""
        p = dict(logical)
        rf = p.pop("response_format", None)
        if rf is not None and self.format != "text":
            if self.format == "json_schema" or rf.get("type") != "json_schema":
                p["response_format"] = rf
            elif self.format == "json_object+schema":
                p["response_format"] = {"type": "json_object", "schema": rf["json_schema"]["schema"]}
            else:
                p["response_format"] = {"type": "json_object"}
        if self.token_param != "max_tokens" and "max_tokens" in p:
            p[self.token_param] = p.pop("max_tokens")
        if not self.temperature:
            p.pop("temperature", None)
        if not self.logprobs:
            p.pop("logprobs", None)
            p.pop("top_logprobs", None)
        return p

    def copy(self) -> "Dialect":
        return dataclasses.replace(self)

    def learn(self, message: str, sent: "Dialect", logical: Mapping[str, Any]) -> str | None:
        """Adapt to a server's refusal of a request sent as ``sent``; the
        change made ("" when another request already made it), or None when
        the refusal is not about the dialect."""
        if sent != self:
            return ""  # the dialect moved since this request left: resend as it is now
        m = message or ""
        low = m.lower()
        if "max_tokens" in low and ("max_completion_tokens" in low or _REFUSED.search(m)) \
                and self.token_param == "max_tokens" and "max_tokens" in logical:
            self.token_param = "max_completion_tokens"
            return "max_tokens refused: sending max_completion_tokens"
        if "temperature" in low and _REFUSED.search(m) and self.temperature and "temperature" in logical:
            self.temperature = False
            return "temperature refused: leaving it at the server's default"
        if "logprobs" in low and _REFUSED.search(m) and self.logprobs and "logprobs" in logical:
            self.logprobs = False
            return "logprobs refused: not asking for them"
        if _FORMAT_REFUSAL.search(m) and "response_format" in logical and self.format != "text":
            old = self.format
            self.format = FORMATS[FORMATS.index(old) + 1]
            return f"response_format {old} refused: trying {self.format}"
        return None

    def describe(self) -> str:
        """The ``format:`` part of a judge signature."""
        parts = [self.format]
        if self.token_param != "max_tokens":
            parts.append(self.token_param)
        if not self.temperature:
            parts.append("no-temperature")
        if not self.logprobs:
            parts.append("no-logprobs")
        return "+".join(parts) if len(parts) > 1 else parts[0]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "Dialect":
        if not d:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        out = cls(**{k: v for k, v in d.items() if k in known})
        if out.format not in FORMATS:
            out.format = "json_schema"
        return out


def strip_reasoning(text: str | None) -> str | None:
    """The reply without the reasoning that Qwen3, DeepSeek-R1 and the like
    put before the answer (``<think>...</think>``); an unclosed block (the
    answer never came) leaves nothing to read."""
    if not text or "<" not in text:
        return text
    out = _THINK.sub("", text)
    if _THINK_OPEN.match(out):
        return ""
    return out
