"""The async request engine: bounded concurrency, RPM/TPM limits, retries
with exponential backoff and full jitter honouring Retry-After, a total
deadline per request (``timeout`` covers connecting, sending and the whole
reply, on every transport: a server trickling bytes cannot hold a request
longer), a reply size limit (``max_reply_bytes``, read as the reply streams
in: an oversized reply is cut off, never held whole) and a budget guard.

Failures never become scores: a request that still fails after its retries
is reported as a ``Failure`` (the item becomes *unscored* and is not cached,
so the next run asks again).  Authentication failures stop the whole run.
The API key is held by the openai client only and is redacted from every
message this module produces.
"""
from __future__ import annotations

import asyncio
import collections
import email.utils
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping, Sequence

from ..errors import InputError, JudgeAbort
from ._reply import MAX_BODY_BYTES, ReplyTooLarge, completion_from_body, redact, strip_url_credentials
from .dialect import Dialect


@dataclass
class Request:
    key: str
    item: int
    sample: int
    messages: list[dict[str, str]]
    params: dict[str, Any]
    est_tokens: int


@dataclass
class Failure:
    reason: str


@dataclass
class Budget:
    """Stop starting new requests once tokens or cost reach a limit."""

    max_tokens: int | None = None
    max_cost: float | None = None
    price_in: float = 0.0  # per million prompt tokens
    price_out: float = 0.0  # per million completion tokens
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def cost(self, prompt: int | None = None, completion: int | None = None) -> float:
        p = self.prompt_tokens if prompt is None else prompt
        c = self.completion_tokens if completion is None else completion
        return (p * self.price_in + c * self.price_out) / 1e6

    def add(self, usage: Mapping[str, Any] | None) -> None:
        if usage:
            self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
            self.completion_tokens += int(usage.get("completion_tokens") or 0)

    def __post_init__(self) -> None:
        if self.max_cost is not None and not (self.price_in or self.price_out):
            # without prices every cost is 0 and the guard would never stop
            raise InputError("max_cost needs the prices: price_per_million_input / price_per_million_output "
                             "(--price-in / --price-out); without them every request costs 0 and the budget "
                             "would never stop the run")

    def exhausted(self) -> str | None:
        """Why no new request may start, or None.  Requests already under
        way still finish, so the spend can pass the limit: ``spent`` says by
        how much once the run is over."""
        used = self.prompt_tokens + self.completion_tokens
        if self.max_tokens is not None and used >= self.max_tokens:
            return f"token budget reached ({used} of {self.max_tokens} tokens)"
        if self.max_cost is not None and self.cost() >= self.max_cost:
            return f"cost budget reached ({self.cost():.4f} of {self.max_cost:.4f})"
        return None

    def spent(self) -> str:
        """What was spent against the limits, in the limits' units."""
        used = self.prompt_tokens + self.completion_tokens
        parts = []
        if self.max_tokens is not None:
            parts.append(f"{used} tokens spent, limit {self.max_tokens}")
        if self.max_cost is not None:
            parts.append(f"cost {self.cost():.4f} spent, limit {self.max_cost:.4f}")
        return "; ".join(parts)


class _Window:
    """Sliding 60-second window limiter (requests or tokens per minute)."""

    def __init__(self, limit: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.events: collections.deque[list[float]] = collections.deque()
        self.total = 0.0
        self.clock = clock
        self._lock = asyncio.Lock()

    def _expire(self, now: float) -> None:
        while self.events and self.events[0][0] <= now - 60.0:
            self.total -= self.events.popleft()[1]

    async def acquire(self, amount: float) -> list[float] | None:
        if not self.limit:
            return None
        amount = min(amount, self.limit)  # one oversized request must still pass, alone
        async with self._lock:
            while True:
                now = self.clock()
                self._expire(now)
                if self.total + amount <= self.limit:
                    entry = [now, amount]
                    self.events.append(entry)
                    self.total += amount
                    return entry
                await asyncio.sleep(max(0.01, self.events[0][0] + 60.0 - now))

    def correct(self, entry: list[float] | None, actual: float) -> None:
        """Replace an estimate by the real usage once known."""
        if entry is None or not self.limit:
            return
        for e in self.events:
            if e is entry:
                self.total += actual - e[1]
                e[1] = actual
                return


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or HTTP date)."""
    if not headers:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            pass
        if name == "retry-after":
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    return None


@dataclass
class EngineConfig:
    base_url: str  # several, comma-separated, are replicas of one server
    model: str
    api_key: str
    concurrency: int = 16
    rpm: float | None = None
    tpm: float | None = None
    timeout: float = 60.0
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    retry_after_max: float = 300.0
    lean_http: bool = True
    max_reply_bytes: int = MAX_BODY_BYTES  # one reply body; a longer one is cut off, its item unscored
    budget: Budget = field(default_factory=Budget)
    # how this server wants requests said; learned from refusals, shared by all requests
    dialect: Dialect = field(default_factory=Dialect)
    # the first requests go alone and fail fast: an unreachable server or a
    # refusal the same on the first two items stops the run with one message
    preflight: bool = True

    def __repr__(self) -> str:  # never the key
        return (f"EngineConfig(base_url={strip_url_credentials(self.base_url)!r}, model={self.model!r}, "
                f"concurrency={self.concurrency})")


def _redact(text: str, secret: str) -> str:
    return redact(text, secret)


def _completion_from_body(body: Mapping[str, Any], secret: str = "") -> dict[str, Any]:
    """The parts of a chat completion body that judgekit keeps (and caches);
    see ``_reply.completion_from_body``."""
    return completion_from_body(body, secret)


class Engine:
    """Sends requests through one ``openai.AsyncOpenAI`` client."""

    def __init__(self, config: EngineConfig, on_result: Callable[[Request, "dict[str, Any] | Failure"], None],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.config = config
        self.on_result = on_result
        self.sleep = sleep
        self.stopped: str | None = None
        self.not_started: list[Request] = []
        self.retries = 0
        self.notes: list[str] = []  # dialect changes learned during the run

    @property
    def urls(self) -> list[str]:
        return [u for u in self.config.base_url.split(",") if u]

    def _client(self, url: str | None = None) -> Any:
        import openai

        from . import _transport

        url = url or self.urls[0]
        # The httpx module the SDK is built on (httpx2 in recent versions).
        hx = getattr(openai._base_client, "httpx2", None) or openai._base_client.httpx
        self._raw_type = hx.Response
        http_client = None
        self._hx = hx
        if self.config.lean_http and _transport.eligible(url):
            http_client = openai.DefaultAsyncHttpxClient(
                transport=_transport.make_transport(hx)(self.config.max_reply_bytes))
        return openai.AsyncOpenAI(
            base_url=url, api_key=self.config.api_key,
            max_retries=0, timeout=self.config.timeout, http_client=http_client,
        )

    async def _post(self, client: Any, model: str, messages: list[dict[str, str]],
                    wire: dict[str, Any]) -> "bytes | ReplyTooLarge":
        """The reply body, read as it streams in and cut off past
        ``max_reply_bytes`` (a ``ReplyTooLarge`` then, returned, not raised,
        so that no retry asks for it again)."""
        # ``post`` with a plain body skips the SDK's per-field request
        # transformation (half of its per-request CPU); errors, headers and
        # authentication are the SDK's as usual.  The raw-response header
        # "stream" makes the SDK hand over the response before its body is read.
        raw = await client.post("/chat/completions", body={"model": model, "messages": messages, **wire},
                                cast_to=self._raw_type, options={"headers": {"X-Stainless-Raw-Response": "stream"}})
        limit = self.config.max_reply_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in raw.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    return ReplyTooLarge(f"reply too large (over {limit:,} bytes, the limit; max_reply_bytes "
                                         "raises it)")
                chunks.append(chunk)
        finally:
            await raw.aclose()
        return b"".join(chunks)

    def _pick(self, req: Request, attempt: int) -> int:
        """The replica for this attempt: spread by item, the next one on a
        retry, skipping replicas that stopped answering (unless all did)."""
        n = len(self._clients)
        for k in range(n):
            i = (req.item + attempt + k) % n
            if i not in self._dead or len(self._dead) >= n:
                return i
        return 0

    def _backoff(self, attempt: int, hinted: float | None) -> float:
        if hinted is not None:
            return min(hinted, self.config.retry_after_max)
        cap = min(self.config.backoff_max, self.config.backoff_base * (2 ** attempt))
        return random.uniform(0, cap)  # full jitter

    async def _one(self, req: Request, rpm: _Window, tpm: _Window,
                   preflight: bool = False) -> "dict[str, Any] | Failure":
        """One request with its retries.  A refusal of the dialect (an error
        naming ``response_format``, ``max_tokens``, ...) changes the shared
        dialect and resends at once; a validation error is not retried; in
        preflight, an unreachable server raises ``JudgeAbort`` after two
        quick retries."""
        import openai

        cfg = self.config
        last = "no attempt"
        attempt = changes = 0
        while True:
            await rpm.acquire(1)
            entry = await tpm.acquire(req.est_tokens)
            hinted: float | None = None
            sent = cfg.dialect.copy()
            connection_error = False
            replica = self._pick(req, attempt)
            client, url = self._clients[replica], self.urls[replica]
            try:
                data = await asyncio.wait_for(self._post(client, cfg.model, req.messages, sent.wire(req.params)),
                                              cfg.timeout)
                try:
                    if isinstance(data, ReplyTooLarge):
                        raise data
                    result = _completion_from_body(json.loads(data), cfg.api_key)
                except ReplyTooLarge as exc:
                    tpm.correct(entry, req.est_tokens)
                    return Failure(str(exc))  # the same request would bring the same reply: not retried
                except (ValueError, TypeError, AttributeError, KeyError) as exc:
                    last = _redact(f"malformed reply body ({type(exc).__name__}: {exc})", cfg.api_key)[:300]
                    tpm.correct(entry, req.est_tokens)
                else:
                    used = result["usage"]["prompt_tokens"] + result["usage"]["completion_tokens"]
                    tpm.correct(entry, used or req.est_tokens)
                    self._down[replica] = 0
                    return result
            except openai.APIStatusError as exc:
                code = exc.status_code
                message = _redact(_error_text(exc), cfg.api_key)[:500]
                if code in (401, 403):
                    raise JudgeAbort(
                        f"the server at {strip_url_credentials(url)} refused the credentials (HTTP {code}): {message}. "
                        "Set the API key environment variable (OPENAI_API_KEY by default)."
                    ) from None
                if code == 404:
                    raise JudgeAbort(f"HTTP 404 from {strip_url_credentials(url)} for model {cfg.model!r}: {message}") from None
                change = cfg.dialect.learn(message, sent, req.params) if code != 429 and changes < 8 else None
                if change is not None:
                    changes += 1
                    if change:
                        said = " ".join(message.split())[:160]
                        self.notes.append(f"{strip_url_credentials(url)}: {change} (HTTP {code}: {said})")
                    continue  # resend in the new dialect; not a retry
                if _VALIDATION.search(message) and code != 429:
                    return Failure(f"HTTP {code}: {message}")  # the same request would be refused again
                if code in (408, 409, 429) or code >= 500:
                    last = f"HTTP {code}: {message}"
                    hinted = retry_after_seconds(exc.response.headers if exc.response is not None else None)
                else:
                    return Failure(f"HTTP {code}: {message}")
            except (openai.APITimeoutError, asyncio.TimeoutError, self._hx.TimeoutException):
                last = f"timed out after {cfg.timeout:g} s"
            except self._hx.HTTPError as exc:  # while reading the reply, outside the SDK
                last = _redact(f"connection error: {type(exc).__name__}: {exc}", cfg.api_key)[:300]
                connection_error = True
            except openai.APIConnectionError as exc:
                last = _redact(f"connection error: {exc.__cause__ or exc}", cfg.api_key)[:300]  # URLs' credentials too
                connection_error = True
                self._down[replica] += 1
                if self._down[replica] >= 3 and len(self._clients) > 1:
                    self._dead.add(replica)  # taken out; the others carry on
            except openai.APIResponseValidationError as exc:
                last = _redact(f"malformed reply: {exc}", cfg.api_key)[:300]
            except RecursionError:
                last = "malformed reply (nested too deeply to read)"
            quick = preflight and connection_error  # nobody answers: quick retries (each replica), then stop
            if attempt >= (min(cfg.max_retries, max(2, len(self._clients))) if quick else cfg.max_retries):
                break
            self.retries += 1
            await self.sleep(min(1.0, 0.5 * (attempt + 1)) if quick else self._backoff(attempt, hinted))
            attempt += 1
        if preflight and connection_error:
            raise JudgeAbort(_unreachable(strip_url_credentials(", ".join(self.urls)), last)) from None
        return Failure(f"gave up after {attempt + 1} attempts: {last}")

    async def run(self, requests: Sequence[Request]) -> None:
        cfg = self.config
        rpm, tpm = _Window(cfg.rpm), _Window(cfg.tpm)
        queue: collections.deque[Request] = collections.deque(requests)
        self._clients = [self._client(u) for u in self.urls]
        self._down = [0] * len(self._clients)
        self._dead: set[int] = set()
        abort: list[BaseException] = []

        def finish(req: Request, result: "dict[str, Any] | Failure") -> None:
            if not isinstance(result, Failure):
                cfg.budget.add(result.get("usage"))
            self.on_result(req, result)

        async def worker() -> None:
            while queue and not abort:
                if self.stopped is None:
                    self.stopped = cfg.budget.exhausted()
                if self.stopped is not None:
                    return
                req = queue.popleft()
                try:
                    result = await self._one(req, rpm, tpm)
                except JudgeAbort as exc:
                    abort.append(exc)
                    queue.appendleft(req)
                    return
                finish(req, result)

        try:
            if cfg.preflight and len(queue) > 1:
                await self._preflight(queue, rpm, tpm, finish)
            workers = [asyncio.create_task(worker()) for _ in range(max(1, min(cfg.concurrency, len(queue))))]
            await asyncio.gather(*workers)
        finally:
            for c in self._clients:
                await c.close()
        if self.stopped is not None:  # what was spent in the end (requests under way at the stop finished)
            self.stopped = cfg.budget.exhausted() or self.stopped
        self.not_started = list(queue)
        if abort:
            raise abort[0]

    async def _preflight(self, queue: "collections.deque[Request]", rpm: _Window, tpm: _Window,
                         finish: Callable[[Request, Any], None]) -> None:
        """The first request alone (it settles the dialect and shows that the
        server answers); when it fails for good, the second alone too: the
        same refusal twice stops the run with the server's message instead
        of sending it to every item."""
        first_failure: Failure | None = None
        for _ in range(2):
            if not queue:
                return
            req = queue.popleft()
            try:
                result = await self._one(req, rpm, tpm, preflight=True)
            except JudgeAbort:
                queue.appendleft(req)
                raise
            if not isinstance(result, Failure):
                finish(req, result)
                return
            if first_failure is not None and _same_refusal(first_failure.reason, result.reason):
                queue.appendleft(req)
                raise JudgeAbort(f"the server at {strip_url_credentials(self.config.base_url)} refused the first two requests the same way "
                                 f"(model {self.config.model!r}): {result.reason}. Nothing else was sent.")
            if not result.reason.startswith("HTTP 4") and not _VALIDATION.search(result.reason):
                finish(req, result)  # a transient fault that outlasted its retries: the run goes on
                return
            finish(req, result)
            first_failure = result


_VALIDATION = re.compile(r"validation error|input should be|field required|extra (?:fields|inputs) not permitted|"
                         r"unrecognized request argument|invalid_request_error", re.I)


def _error_text(exc: Any) -> str:
    """The server's own words: the body's error message when it has one."""
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"])
        if isinstance(body.get("detail"), (str, list)):
            return json.dumps(body["detail"], ensure_ascii=False) if isinstance(body["detail"], list) \
                else body["detail"]
    return str(getattr(exc, "message", exc))


def _same_refusal(a: str, b: str) -> bool:
    """Two failures with the same status and the same words (numbers aside)."""
    strip = lambda s: re.sub(r"\d+", "#", s)  # noqa: E731
    return a.split(":", 1)[0] == b.split(":", 1)[0] and strip(a)[:120] == strip(b)[:120]


def _unreachable(base_url: str, last: str) -> str:
    import os

    hint = ""
    if "api.openai.com" in base_url and not os.environ.get("OPENAI_BASE_URL"):
        hint = (" No --base-url (or OPENAI_BASE_URL) was given, so judgekit asked OpenAI's API; for a local server "
                "(vLLM, llama.cpp, SGLang, Ollama) pass --base-url http://HOST:PORT/v1.")
    else:
        hint = " Check --base-url (or OPENAI_BASE_URL) and that the server is running."
    return f"cannot reach the judge server at {base_url}: {last}.{hint}"
