"""Responses from any OpenAI-compatible chat model, on the judge's engine.

``generate(prompts, model=..., base_url=..., system=...)`` (or
``Generator(...).run(prompts)``) asks the model for one response per item
and keeps it by the item's id: the predictions that ``judgekit evaluate``,
``judgekit leaderboard`` and the judges then read.  Everything that carries a
judge request carries these: the async ``Engine`` (concurrency, rpm/tpm,
retries, preflight fail-fast, replicas), the ``Dialect`` learned for the
server (``max_completion_tokens``, no temperature), the ``Budget``, the SQLite
``JudgeCache`` (each response committed as it arrives; keys in their own
space, ``"kind": "generate"``) and the Batch API export/import.

An item is ``ok`` (``pred``: the response, reasoning such as
``<think>...</think>`` taken off; ``raw``: the reply as sent) or ``failed``
(``reason``; no ``pred``): a failure is never an empty prediction.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple, Sequence

from .._version import __version__
from ..errors import InputError, ReplayMissError
from ..signature import Signature
from ._client import Budget, Failure, Request
from ._reply import MAX_BODY_BYTES
from .cache import KeyMaker
from .dialect import Dialect, strip_reasoning

__all__ = ["Generator", "GenerateResult", "generate", "read_prompts", "GENERATE_VERSION"]

#: What a generation key and signature say about how a reply is read (reasoning stripped).
GENERATE_VERSION = "1"
ROLES = ("system", "user", "assistant")


class _Task(NamedTuple):  # what the engine's progress bar and cache rows name
    id: str = "generate"
    ref: str = "generate"


# -- prompts ------------------------------------------------------------------
def _turns(value: Any, where: str, field_name: str, *, roles: tuple[str, ...]) -> list[dict[str, str]]:
    if isinstance(value, str) and value.lstrip().startswith("["):  # a CSV cell holding JSON
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise InputError(f"{where}: field {field_name!r} is not valid JSON ({exc})") from None
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: field {field_name!r} must be a non-empty list of {{role, content}} turns")
    out = []
    for k, turn in enumerate(value):
        if not isinstance(turn, Mapping) or not isinstance(turn.get("role"), str) \
                or not isinstance(turn.get("content"), str):
            raise InputError(f"{where}: {field_name}[{k}] must be an object with string 'role' and 'content'")
        if turn["role"] not in roles:
            raise InputError(f"{where}: {field_name}[{k}] has role {turn['role']!r}; expected one of {', '.join(roles)}")
        out.append({"role": turn["role"], "content": turn["content"]})
    return out


def item_messages(item: Mapping[str, Any], where: str, *, system: str | None = None, prompt_field: str = "prompt",
                  messages_field: str = "messages", dialogue_field: str = "dialogue") -> list[dict[str, str]]:
    """The chat messages for one item: its ``prompt`` (one user turn), its
    ``messages`` (sent as given) or its ``dialogue`` (user/assistant turns,
    ending with the user's), after the ``system`` message when given."""
    def present(v: Any) -> bool:  # a CSV's empty cell or a DataFrame's NaN is no value
        return v is not None and v != "" and not (isinstance(v, float) and math.isnan(v))

    given = [f for f in (prompt_field, messages_field, dialogue_field) if present(item.get(f))]
    if len(given) != 1:
        what = "none" if not given else " and ".join(map(repr, given))
        raise InputError(f"{where}: give exactly one of {prompt_field!r} (a user turn), {messages_field!r} (chat "
                         f"messages) or {dialogue_field!r} (user/assistant turns); found {what}")
    name = given[0]
    if name == prompt_field:
        if not isinstance(item[name], str):
            raise InputError(f"{where}: field {name!r} is {type(item[name]).__name__}; expected a string")
        messages = [{"role": "user", "content": item[name]}]
    elif name == messages_field:
        messages = _turns(item[name], where, name, roles=ROLES)
    else:
        messages = _turns(item[name], where, name, roles=("user", "assistant"))
        if messages[-1]["role"] != "user":
            raise InputError(f"{where}: the {name!r} ends with an assistant turn; the model answers the user's last "
                             "turn")
    if system is not None:
        if messages[0]["role"] == "system":
            raise InputError(f"{where}: the messages already start with a system message and a system prompt "
                             "was given too")
        messages = [{"role": "system", "content": system}, *messages]
    return messages


def read_prompts(source: Any, *, prompt_field: str = "prompt") -> list[tuple[str, Mapping[str, Any], str]]:
    """(id, item, location) per item of a file (any format ``judgekit.io``
    reads; ``"-"`` is JSONL on stdin), a list of strings (ids ``"0"``,
    ``"1"``, ...), a list of mappings or a DataFrame; ids are strings and
    default to the row number from 0; a repeated id is an error."""
    rows: list[tuple[str, Mapping[str, Any], str]] = []
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        from ..io import read_records

        path = os.fsdecode(source)
        for where, rec in read_records(path, id_fields=("id",), format="jsonl" if path == "-" else None):
            rows.append((rec.get("id", str(len(rows))), rec, where))
    else:
        if hasattr(source, "to_dict") and hasattr(source, "columns"):
            source = source.to_dict(orient="records")
        if isinstance(source, Mapping):
            raise InputError("prompts: give a file path, a list of strings or a list of mappings (one per item)")
        for i, it in enumerate(source):
            where = f"item {i}"
            if isinstance(it, str):
                it = {prompt_field: it}
            elif not isinstance(it, Mapping):
                raise InputError(f"{where}: expected a string or a mapping, got {type(it).__name__}")
            raw = it.get("id")
            if raw is None or (isinstance(raw, float) and math.isnan(raw)):
                item_id = str(i)
            elif isinstance(raw, (str, int)) and not isinstance(raw, bool) and str(raw):
                item_id = str(raw)
            else:
                raise InputError(f"{where}: id {raw!r} must be a string or an integer")
            rows.append((item_id, it, f"{where} (id {item_id!r})"))
    seen: dict[str, str] = {}
    for item_id, _, where in rows:
        if item_id in seen:
            raise InputError(f"{where}: id {item_id!r} repeats {seen[item_id]}")
        seen[item_id] = where
    return rows


# -- results ------------------------------------------------------------------
@dataclass
class GenerateResult:
    """One row per item, in input order: ``id``, ``status`` (ok/failed),
    ``pred`` (ok rows), ``reason`` (failed rows), ``finish_reason``,
    ``prompt_tokens``, ``completion_tokens``, ``raw`` (the reply as sent,
    reasoning included), ``cached``; a ``summary`` and a ``signature``."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    signature: Signature

    @property
    def preds(self) -> dict[str, str]:
        """id -> response, for the items that succeeded."""
        return {r["id"]: r["pred"] for r in self.rows if r["status"] == "ok"}

    @property
    def per_item(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=["id", "status", "pred", "reason", "finish_reason", "prompt_tokens",
                                                "completion_tokens", "raw", "cached"])

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Rows the model was asked for and gave no usable response."""
        return [r for r in self.rows if r["status"] == "failed"]

    @property
    def not_run(self) -> list[dict[str, Any]]:
        """Rows never sent (the budget stopped the run first)."""
        return [r for r in self.rows if r["status"] == "not_run"]

    def records(self, raw: bool = False) -> list[dict[str, Any]]:
        """The output rows: ``{"id", "pred", "status", "finish_reason",
        "prompt_tokens", "completion_tokens"}``, ``reason`` instead of ``pred``
        on a failed row, ``raw`` when asked for (or when reasoning was cut)."""
        out = []
        for r in self.rows:
            rec: dict[str, Any] = {"id": r["id"]}
            if r["status"] == "ok":
                rec["pred"] = r["pred"]
            rec["status"] = r["status"]
            if r["status"] != "ok":
                rec["reason"] = r["reason"]
            rec.update(finish_reason=r["finish_reason"], prompt_tokens=r["prompt_tokens"],
                       completion_tokens=r["completion_tokens"])
            if raw and r["raw"] is not None:
                rec["raw"] = r["raw"]
            out.append(rec)
        return out

    def to_jsonl(self, path: str | os.PathLike[str], raw: bool = False) -> None:
        """Write the output rows as JSONL (``"-"``: stdout), atomically."""
        from ..io import write_jsonl

        write_jsonl(path, self.records(raw))

    def __repr__(self) -> str:
        s = self.summary
        return f"<GenerateResult {s['n_ok']}/{s['n_items']} ok; {self.signature}>"


# -- the generator --------------------------------------------------------------
@dataclass
class Generator:
    """Settings for generating responses; ``run(prompts)`` generates.

    The settings that carry requests mean what they mean on ``Judge``
    (``base_url`` a list: replicas; ``server``: the server's identity in
    cache keys; ``dialect``: forced instead of learned)."""

    model: str = ""
    base_url: "str | list[str] | None" = None
    system: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    cache: Any = None
    concurrency: int = 16
    replay_only: bool = False
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = None
    prompt_field: str = "prompt"
    messages_field: str = "messages"
    dialogue_field: str = "dialogue"
    timeout: float = 120.0
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    rpm: float | None = None
    tpm: float | None = None
    max_total_tokens: int | None = None
    max_cost: float | None = None
    price_per_million_input: float = 0.0
    price_per_million_output: float = 0.0
    progress: bool = True
    lean_http: bool = True
    max_reply_bytes: int = MAX_BODY_BYTES  # one reply body; a longer one is cut off, its item failed
    extra_params: dict[str, Any] = field(default_factory=dict)
    server: str | None = None
    dialect: dict[str, Any] | None = None

    def __repr__(self) -> str:  # the base URL without credentials
        from .run import _repr_without_credentials

        return _repr_without_credentials(self)

    def _engine(self) -> Any:
        """A ``Judge`` holding the same transport settings: its cache,
        dialect and engine plumbing carry the generation requests."""
        from .run import Judge

        return Judge(model=self.model, base_url=self.base_url, api_key_env=self.api_key_env, cache=self.cache,
                     concurrency=self.concurrency, temperature=self.temperature, max_tokens=self.max_tokens,
                     seed=self.seed, timeout=self.timeout, max_retries=self.max_retries,
                     backoff_base=self.backoff_base, backoff_max=self.backoff_max, rpm=self.rpm, tpm=self.tpm,
                     max_total_tokens=self.max_total_tokens, max_cost=self.max_cost,
                     price_per_million_input=self.price_per_million_input,
                     price_per_million_output=self.price_per_million_output, progress=self.progress,
                     lean_http=self.lean_http, max_reply_bytes=self.max_reply_bytes, extra_params=self.extra_params, server=self.server,
                     dialect=self.dialect)

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.seed is not None:
            params["seed"] = self.seed
        params.update(self.extra_params)
        return params

    def system_hash(self) -> str:
        return "none" if self.system is None else hashlib.sha256(self.system.encode("utf-8")).hexdigest()[:12]

    def signature(self, dialect: Dialect | None = None) -> Signature:
        """model, host, sampling, the system prompt's hash, the dialect
        (``format:text`` and what the server refused), judgekit version."""
        from .run import _host, _resolve_base_url

        d = (dialect or self._engine()._forced_dialect()).copy()
        d.format = "text"
        parts: list[tuple[str, Any]] = [
            ("task", f"generate@{GENERATE_VERSION}"), ("model", self.model),
            ("host", self.server or ",".join(_host(u) for u in _resolve_base_url(self.base_url).split(","))),
            ("temp", f"{self.temperature:g}"), ("max_tokens", self.max_tokens),
        ]
        if self.seed is not None:
            parts.append(("seed", self.seed))
        parts += [("system", self.system_hash()), ("format", d.describe())]
        if self.extra_params:
            parts.append(("extra", json.dumps(self.extra_params, sort_keys=True, separators=(",", ":"))))
        parts.append(("judgekit", __version__))
        return Signature(parts)

    def _validate(self) -> None:
        if not self.model:
            raise InputError("model is required (e.g. model='gpt-4o-mini' or the name your server serves)")
        if self.concurrency < 1:
            raise InputError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.max_tokens < 1:
            raise InputError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float)) \
                or not math.isfinite(self.temperature) or self.temperature < 0:
            raise InputError(f"temperature must be a finite number >= 0, got {self.temperature!r}")
        if self.system is not None and not isinstance(self.system, str):
            raise InputError("system must be a string")

    def prepare(self, prompts: Any) -> tuple[list[str], list[Request]]:
        """Read the items, build their messages and cache keys (no network)."""
        from .run import _resolve_base_url

        self._validate()
        eng = self._engine()
        params = self._params()
        keys = KeyMaker(base_url=eng._server_id(_resolve_base_url(self.base_url)), model=self.model, params=params,
                        rubric_id="", rubric_version="", rubric_hash="", parser_version=GENERATE_VERSION,
                        kind="generate")
        ids: list[str] = []
        reqs: list[Request] = []
        for i, (item_id, item, where) in enumerate(read_prompts(prompts, prompt_field=self.prompt_field)):
            messages = item_messages(item, where, system=self.system, prompt_field=self.prompt_field,
                                     messages_field=self.messages_field, dialogue_field=self.dialogue_field)
            est = sum(len(m["content"]) for m in messages) // 2 + self.max_tokens
            ids.append(item_id)
            reqs.append(Request(key=keys.key(messages, 0), item=i, sample=0, messages=messages, params=params,
                                est_tokens=est))
        return ids, reqs

    def _key_description(self) -> str:
        return (f"model {self.model!r}; server identity {self._engine()._server_id()!r} (the base URL, or "
                f"server=/--server-id); temperature {self.temperature:g}, max_tokens {self.max_tokens}, seed "
                f"{self.seed}, extra {json.dumps(self.extra_params, sort_keys=True)}; the system prompt and the "
                "items' messages")

    def run(self, prompts: Any) -> GenerateResult:
        """Generate: answers from the cache first, then the server."""
        ids, reqs = self.prepare(prompts)
        eng = self._engine()
        cache = eng._open_cache()
        try:
            replies: dict[str, Any] = cache.get_many([r.key for r in reqs]) if cache is not None else {}
            from_cache = set(replies)
            missing = [r for r in dict((r.key, r) for r in reqs).values() if r.key not in replies]
            if missing and self.replay_only:
                raise ReplayMissError(list(dict.fromkeys(ids[r.item] for r in reqs if r.key not in replies)),
                                      self._key_description())
            budget = Budget(self.max_total_tokens, self.max_cost, self.price_per_million_input,
                            self.price_per_million_output)
            dialect = eng._dialect(cache)
            stopped, retries, notes = None, 0, []
            if missing:
                stopped, retries, notes = eng._fetch(missing, replies, cache, _Task(), budget, dialect)
            return self._build(ids, reqs, replies, from_cache, budget, stopped, retries, dialect, notes)
        finally:
            if cache is not None and cache is not self.cache:
                cache.close()

    def export_batch(self, prompts: Any, path: str | os.PathLike[str], *, skip_cached: bool = True) -> dict[str, int]:
        """Write one Batch API request line per item not yet cached (see
        ``judgekit.judge.export_batch``); import the results with
        ``judgekit.judge.import_batch(results, cache)``."""
        from .batch import write_requests

        ids, reqs = self.prepare(prompts)
        eng = self._engine()
        db = eng._open_cache()
        try:
            cached = set(db.get_many([r.key for r in reqs])) if db is not None and skip_cached else set()
            dialect = eng._dialect(db)
        finally:
            if db is not None and db is not self.cache:
                db.close()
        written = write_requests(path, reqs, model=self.model, dialect=dialect, skip=cached)
        return {"items": len(ids), "requests_written": written, "already_cached": len(cached)}

    def _build(self, ids: list[str], reqs: list[Request], replies: dict[str, Any], from_cache: set[str],
               budget: Budget, stopped: str | None, retries: int, dialect: Dialect,
               notes: list[str]) -> GenerateResult:
        rows: list[dict[str, Any]] = []
        new_p = new_c = 0
        counted: set[str] = set()
        for item_id, r in zip(ids, reqs):
            rep = replies.get(r.key)
            row: dict[str, Any] = {"id": item_id, "status": "failed", "pred": None, "reason": None,
                                   "finish_reason": None, "prompt_tokens": 0, "completion_tokens": 0, "raw": None,
                                   "cached": r.key in from_cache}
            if isinstance(rep, Failure) or rep is None:
                row["reason"] = rep.reason if isinstance(rep, Failure) else "no reply"
                if row["reason"].startswith("not run"):  # never sent (a budget stop): not a failure of the model
                    row["status"] = "not_run"
                rows.append(row)
                continue
            usage = rep.get("usage") or {}
            row["prompt_tokens"] = int(usage.get("prompt_tokens") or 0)
            row["completion_tokens"] = int(usage.get("completion_tokens") or 0)
            if r.key not in from_cache and r.key not in counted:
                counted.add(r.key)
                new_p += row["prompt_tokens"]
                new_c += row["completion_tokens"]
            row["finish_reason"] = rep.get("finish_reason")
            text = rep.get("text")
            row["raw"] = text
            pred = strip_reasoning(text)
            if rep.get("error"):  # content that is not text, an unreadable cache row
                row["reason"] = str(rep["error"])
            elif rep.get("refusal"):
                row["reason"] = f"refusal: {rep['refusal']}"
            elif pred is None or not pred.strip():
                why = "an unfinished reasoning block and no answer" if text and text.strip() else "no text"
                row["reason"] = f"empty response ({why}; finish_reason {row['finish_reason']})" + (
                    ": raise max_tokens" if row["finish_reason"] == "length" else "")
            else:
                row["status"], row["pred"] = "ok", pred.strip()
            rows.append(row)
        n_ok = sum(1 for row in rows if row["status"] == "ok")
        total_p = sum(row["prompt_tokens"] for row in rows)
        total_c = sum(row["completion_tokens"] for row in rows)
        n_sent = len({r.key for r in reqs if r.key not in from_cache and not isinstance(replies.get(r.key), Failure)
                      and replies.get(r.key) is not None})
        summary: dict[str, Any] = {
            "model": self.model,
            "n_items": len(ids), "n_ok": n_ok, "n_failed": sum(1 for row in rows if row["status"] == "failed"),
            "n_not_run": sum(1 for row in rows if row["status"] == "not_run"),
            "requests_cached": sum(1 for r in reqs if r.key in from_cache),
            "requests_sent": n_sent,
            "requests_failed": sum(1 for r in reqs if isinstance(replies.get(r.key), Failure)
                                   and not replies[r.key].reason.startswith("not run")),
            "requests_not_run": sum(1 for r in reqs if isinstance(replies.get(r.key), Failure)
                                    and replies[r.key].reason.startswith("not run")),
            "retries": retries,
            "tokens": {"prompt": total_p, "completion": total_c, "prompt_this_run": new_p,
                       "completion_this_run": new_c},
            "cost": budget.cost(total_p, total_c),
            "cost_this_run": budget.cost(new_p, new_c),
            "stopped": None,
            "finish_reasons": {k: sum(1 for row in rows if row["finish_reason"] == k)
                               for k in dict.fromkeys(row["finish_reason"] for row in rows if row["finish_reason"])},
            "dialect": dialect.to_dict(),
            "notes": notes,
        }
        if stopped:
            not_run = sum(1 for row in rows if (row["reason"] or "").startswith("not run"))
            summary["stopped"] = f"{stopped}: {len(ids) - not_run} of {len(ids)} items reached the model"
        for note in notes:
            warnings.warn(f"generate: {note}", stacklevel=3)
        return GenerateResult(rows, summary, self.signature(dialect))


def generate(prompts: Any, model: str = "", base_url: "str | Sequence[str] | None" = None, system: str | None = None,
             cache: Any = None, concurrency: int = 16, replay_only: bool = False, **settings: Any) -> GenerateResult:
    """One response per item of ``prompts`` (a file path, a list of strings,
    or mappings with ``id`` and ``prompt`` / ``messages`` / ``dialogue``) from
    an OpenAI-compatible chat model; ``system`` goes first as a system
    message.  See ``Generator`` for every setting."""
    return Generator(model=model, base_url=list(base_url) if base_url is not None and not isinstance(base_url, str)
                     else base_url, system=system, cache=cache, concurrency=concurrency, replay_only=replay_only,
                     **settings).run(prompts)
