"""``probe``: what an OpenAI-compatible server supports, in a few requests.

Each check sends one small request and records whether the server accepted
the feature, refused it (with its status and words), or accepted it and
ignored it (a reply that does not follow the schema).  From the answers
comes the ``Dialect`` a judge would start in, so a user sees before a long
run how judgekit will speak to the server.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import JudgeAbort
from .dialect import Dialect, strip_reasoning

__all__ = ["probe", "ProbeReport"]

_SCHEMA = {"type": "object", "properties": {"score": {"type": "integer", "enum": [1, 2, 3]}},
           "required": ["score"], "additionalProperties": False}
_FORMS = {
    "json_schema": {"type": "json_schema", "json_schema": {"name": "probe", "strict": True, "schema": _SCHEMA}},
    "json_object+schema": {"type": "json_object", "schema": _SCHEMA},
    "json_object": {"type": "json_object"},
}
_PROMPT = [{"role": "system", "content": "Rate the reply from 1 to 3. Answer with JSON: {\"score\": <1-3>}."},
           {"role": "user", "content": "Reply: I'm sorry you are going through this. Do you want to talk about it?"}]


@dataclass
class Check:
    name: str
    status: str  # "yes", "refused", "ignored", "no", "error"
    detail: str = ""


@dataclass
class ProbeReport:
    """What the server said to each check, and the dialect judges will use."""

    base_url: str
    model: str
    checks: list[Check] = field(default_factory=list)
    dialect: Dialect = field(default_factory=Dialect)
    models: list[str] = field(default_factory=list)

    def status(self, name: str) -> str:
        return next((c.status for c in self.checks if c.name == name), "not run")

    def to_dict(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model, "models": self.models,
                "checks": {c.name: {"status": c.status, "detail": c.detail} for c in self.checks},
                "dialect": self.dialect.to_dict(), "format": self.dialect.describe()}

    def __str__(self) -> str:
        w = max(len(c.name) for c in self.checks) if self.checks else 10
        lines = [f"server {self.base_url}, model {self.model!r}"]
        if self.models:
            lines.append(f"  models served: {', '.join(self.models[:10])}")
        for c in self.checks:
            lines.append(f"  {c.name:<{w}}  {c.status:<8}  {c.detail}")
        d = self.dialect
        lines.append(f"judges will use: format {d.format}, token limit as {d.token_param}, "
                     f"temperature {'sent' if d.temperature else 'left at the default'}, "
                     f"logprobs {'available' if d.logprobs else 'not available'} (signature format:{d.describe()})")
        return "\n".join(lines)


def probe(base_url: str | None = None, model: str = "", *, api_key_env: str = "OPENAI_API_KEY",
          timeout: float = 30.0) -> ProbeReport:
    """Probe the server at ``base_url`` (default ``$OPENAI_BASE_URL``) for
    ``model``: listed models, a plain reply, each structured-output form,
    logprobs, the token-limit parameter, temperature, seed, reasoning text.
    An unreachable server or refused credentials raise ``JudgeAbort``."""
    import openai

    from .run import _resolve_base_url

    url = _resolve_base_url(base_url)
    key = os.environ.get(api_key_env) or "EMPTY"
    client = openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=timeout)
    report = ProbeReport(url, model)

    def ask(**params: Any) -> tuple[str, Any]:
        try:
            body = {"model": model, "messages": _PROMPT, **params}
            r = client.post("/chat/completions", body=body, cast_to=object)
            return "ok", r
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                raise JudgeAbort(f"the server at {url} refused the credentials (HTTP {exc.status_code}); set "
                                 f"${api_key_env}") from None
            return "refused", f"HTTP {exc.status_code}: {str(getattr(exc, 'message', exc)).replace(key, '[REDACTED]')[:200]}"
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise JudgeAbort(f"cannot reach the judge server at {url}: {exc.__cause__ or exc}") from None

    try:
        listed = client.models.list()
        report.models = [m.id for m in listed.data]
        report.checks.append(Check("models", "yes" if not model or model in report.models else "no",
                                   f"{len(report.models)} listed" + ("" if not model or model in report.models
                                                                     else f"; {model!r} is not among them")))
    except openai.APIConnectionError as exc:
        raise JudgeAbort(f"cannot reach the judge server at {url}: {exc.__cause__ or exc}") from None
    except openai.APIError as exc:
        report.checks.append(Check("models", "error", str(exc)[:200]))

    t0 = time.monotonic()
    status, r = ask(max_tokens=16, temperature=0)
    if status != "ok":
        report.checks.append(Check("chat", "refused", r))
    else:
        msg = _message(r)
        report.checks.append(Check("chat", "yes", f"{time.monotonic() - t0:.2f} s"))
        reasoning = bool(msg.get("reasoning_content") or msg.get("reasoning")) or "<think" in (msg.get("content") or "")
        report.checks.append(Check("reasoning text", "yes" if reasoning else "no",
                                   "stripped before parsing" if reasoning else ""))

    chosen = None
    for name, rf in _FORMS.items():
        status, r = ask(max_tokens=32, temperature=0, response_format=rf)
        if status != "ok":
            report.checks.append(Check(name, "refused", r))
            continue
        text = strip_reasoning(_message(r).get("content")) or ""
        try:
            value = json.loads(text)
            ok = isinstance(value, dict) and (name == "json_object" or value.get("score") in (1, 2, 3))
        except ValueError:
            ok = False
        report.checks.append(Check(name, "yes" if ok else "ignored", f"reply {text[:60]!r}"))
        if ok and chosen is None:
            chosen = name
    dialect = Dialect(format=chosen or "text")

    status, r = ask(max_tokens=8, temperature=0, logprobs=True, top_logprobs=3,
                    **({"response_format": _FORMS[chosen]} if chosen else {}))
    if status != "ok":
        report.checks.append(Check("logprobs", "refused", r))
        dialect.logprobs = False
    else:
        lp = ((_choice(r).get("logprobs") or {}) if isinstance(_choice(r).get("logprobs"), dict) else {})
        content = lp.get("content") if isinstance(lp, dict) else None
        shaped = bool(content) and all(isinstance(t, dict) and "top_logprobs" in t for t in content)
        report.checks.append(Check("logprobs", "yes" if shaped else "ignored",
                                   "content[].top_logprobs" if shaped else "no logprobs in the reply"))
        dialect.logprobs = shaped

    status, r = ask(max_tokens=8)
    report.checks.append(Check("max_tokens", "yes" if status == "ok" else "refused", "" if status == "ok" else r))
    status2, r2 = ask(max_completion_tokens=8)
    report.checks.append(Check("max_completion_tokens", "yes" if status2 == "ok" else "refused",
                               "" if status2 == "ok" else r2))
    if status != "ok" and status2 == "ok":
        dialect.token_param = "max_completion_tokens"
    status, r = ask(max_tokens=8, temperature=0) if dialect.token_param == "max_tokens" else \
        ask(max_completion_tokens=8, temperature=0)
    report.checks.append(Check("temperature 0", "yes" if status == "ok" else "refused", "" if status == "ok" else r))
    dialect.temperature = status == "ok"
    status, r = ask(max_tokens=8, seed=1) if dialect.token_param == "max_tokens" else ask(max_completion_tokens=8, seed=1)
    report.checks.append(Check("seed", "yes" if status == "ok" else "refused", "" if status == "ok" else r))
    report.dialect = dialect
    client.close()
    return report


def _choice(r: Any) -> dict[str, Any]:
    if isinstance(r, dict):
        choices = r.get("choices") or [{}]
        return choices[0] if isinstance(choices[0], dict) else {}
    return {}


def _message(r: Any) -> dict[str, Any]:
    m = _choice(r).get("message")
    return m if isinstance(m, dict) else {}
