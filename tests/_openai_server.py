"""A real OpenAI-compatible HTTP server on loopback, for tests and benchmarks.

Speaks ``POST /v1/chat/completions`` (and ``GET /v1/models``) to the real
``openai`` client.  A normal reply is built from the request's JSON schema
(one integer per property, from its enum) or, without a schema, as
``name: value`` lines.  Rules script latency and faults for requests whose
user message contains a given string: 429 with Retry-After, 500/503, a hang
past the client's timeout, a dropped connection, a malformed HTTP body,
arbitrary reply text (malformed JSON, refusals), structured refusals, 401.
Every request is logged so tests can count what was asked.
"""
from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # listen backlog: many clients connect at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # scripted faults and client timeouts close sockets on purpose


@dataclass
class Rule:
    match: str
    action: str  # ok | 429 | 500 | 503 | 401 | hang | drop | bad_body | text | refusal | raw_body | trickle | flood
    times: int | None = None  # None: forever
    retry_after: str | None = None
    text: str | None = None
    scores: dict[str, int] | None = None
    finish_reason: str = "stop"
    hang: float = 5.0
    # raw_body: the HTTP body sent verbatim (a str or bytes; "{AUTH}" in a str is replaced by the request's
    # Authorization header, as a server that echoes it would), with this status
    body: Any = None
    status: int = 200
    # trickle: a valid reply announced with its Content-Length, sent one byte every `hang` seconds;
    # flood: `size` bytes of a never-valid body, chunked (no Content-Length), in 1 MiB chunks
    size: int = 0


@dataclass
class LogEntry:
    user: str
    action: str
    reply: str | None
    body: dict[str, Any] = field(repr=False, default_factory=dict)


def _pick(values: list[Any], seed: str) -> Any:
    h = int(hashlib.sha256(seed.encode("utf-8")).hexdigest()[:8], 16)
    return values[h % len(values)]


def scores_for(body: dict[str, Any]) -> dict[str, int]:
    """The deterministic answer for a request: per schema property, a value
    picked from its enum by a hash of the user message and property name."""
    user = next((m.get("content", "") for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
    rf = body.get("response_format") or {}
    schema = ((rf.get("json_schema") or {}).get("schema") or rf.get("schema")) if isinstance(rf, dict) else None
    props = (schema or {}).get("properties") or {}
    if props:
        return {name: _pick(list(p.get("enum") or [p.get("minimum", 0), p.get("maximum", 1)]), user + name) for name, p in props.items()}
    return {"score": _pick([0, 1, 2], user)}


class OpenAIServer:
    def __init__(self, latency: float = 0.0, usage: tuple[int, int] = (100, 10)) -> None:
        self.latency = latency
        self.usage = usage
        self.rules: list[Rule] = []
        self.log: list[LogEntry] = []
        self.text_template: str | None = None  # reply text for requests without a schema
        # generation mode: reply text for requests without a response_format, from the request body
        # (e.g. ``OpenAIServer.echo``: a deterministic answer to the last user turn)
        self.reply_text: Any = None
        self._lock = threading.Lock()
        self.api_key: str | None = None  # when set, other keys get 401
        self.chunked = False  # send bodies with Transfer-Encoding: chunked
        self.close_after = False  # answer with Connection: close
        # dialect refusals: (test on the request body, HTTP status, message), as real servers send them
        self.refusals: list[tuple[Any, int, str]] = []
        self.reasoning = False  # prefix replies with <think>...</think> and send reasoning_content
        handler = self._handler()
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- scripting ------------------------------------------------------------
    def add_rule(self, match: str, action: str, times: int | None = None, **kw: Any) -> Rule:
        rule = Rule(match=match, action=action, times=times, **kw)
        with self._lock:
            self.rules.append(rule)
        return rule

    def count(self, substring: str, action: str | None = None) -> int:
        with self._lock:
            return sum(1 for e in self.log if substring in e.user and (action is None or e.action == action))

    def _rule_for(self, user: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.match in user and (rule.times is None or rule.times > 0):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def speak_like(self, name: str) -> "OpenAIServer":
        """Refuse what a real server refuses, with its status and words
        (from their docs, issue trackers and llama-cpp-python 0.3.36)."""
        rf = lambda b: (b.get("response_format") or {}).get("type")  # noqa: E731
        if name == "llama-cpp-python":  # pydantic validation of response_format.type, as HTTP 500
            self.refusals.append((lambda b: rf(b) == "json_schema", 500,
                                  "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  "
                                  "Input should be 'text' or 'json_object' [type=literal_error, input_value="
                                  "'json_schema', input_type=str]"))
        elif name == "deepseek":
            self.refusals.append((lambda b: rf(b) == "json_schema", 400,
                                  "This response_format type is unavailable now"))
        elif name == "openai-reasoning":
            self.refusals.append((lambda b: "max_tokens" in b, 400,
                                  "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                                  "'max_completion_tokens' instead."))
            self.refusals.append((lambda b: "temperature" in b and b["temperature"] != 1, 400,
                                  "Unsupported value: 'temperature' does not support 0 with this model. Only the "
                                  "default (1) value is supported."))
        elif name == "no-logprobs":
            self.refusals.append((lambda b: bool(b.get("logprobs")), 400, "logprobs is not supported"))
        elif name == "bad-request":  # a refusal no dialect can fix
            self.refusals.append((lambda b: True, 400, "Invalid 'messages': this endpoint expects a prompt"))
        else:
            raise ValueError(name)
        return self

    @staticmethod
    def echo(body: dict[str, Any]) -> str:
        """A generation reply: deterministic, naming the last user turn and
        how many messages came (``reply_text = OpenAIServer.echo``)."""
        msgs = body.get("messages", [])
        user = next((m.get("content", "") for m in reversed(msgs) if m.get("role") == "user"), "")
        return f"I hear you ({len(msgs)} messages): {user}"

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> "OpenAIServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "OpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP -----------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY, as uvicorn (vLLM, SGLang) sets it: headers and body
            # go out in two writes, and with Nagle's algorithm the body waits
            # for the client's delayed ACK (~40 ms a request).
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if server.chunked and raw is None:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(data)))
                if server.close_after:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if server.chunked and raw is None:
                    for i in range(0, len(data), 7):
                        piece = data[i:i + 7]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "loopback-judge", "object": "model", "owned_by": "tests"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    self._send(401, {"error": {"message": "invalid api key", "type": "invalid_request_error", "code": "invalid_api_key"}})
                    return
                user = next((m.get("content", "") for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
                for test, status, message in server.refusals:
                    if test(body):
                        with server._lock:
                            server.log.append(LogEntry(user=user, action=f"refused {status}", reply=None, body=body))
                        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})
                        return
                rule = server._rule_for(user)
                action = rule.action if rule else "ok"
                if server.latency:
                    time.sleep(server.latency)
                entry = LogEntry(user=user, action=action, reply=None, body=body)
                with server._lock:
                    server.log.append(entry)
                try:
                    self._act(rule, action, body, entry)
                except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
                    self.close_connection = True

            def _act(self, rule: Rule | None, action: str, body: dict[str, Any], entry: LogEntry) -> None:
                if action in ("429", "500", "503", "401"):
                    headers = {"Retry-After": rule.retry_after} if rule and rule.retry_after is not None else {}
                    self._send(int(action), {"error": {"message": f"scripted {action}", "type": "scripted"}}, headers)
                    return
                if action == "hang":
                    time.sleep(rule.hang if rule else 5.0)
                    self.close_connection = True
                    return
                if action == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if action == "trickle":
                    data = json.dumps({"choices": [{"message": {"role": "assistant", "content": '{"empathy": 2}'},
                                                    "finish_reason": "stop"}]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.flush()
                    for i in range(len(data)):
                        time.sleep(rule.hang if rule else 1.0)
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                    return
                if action == "flood":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    piece = b"[" * (1 << 20)
                    sent = 0
                    while sent < (rule.size if rule else 0):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        sent += len(piece)
                        entry.reply = str(sent)  # how far it got before the client hung up
                    self.wfile.write(b"0\r\n\r\n")
                    return
                if action == "raw_body":
                    data = rule.body if rule else b"{}"
                    if isinstance(data, str):
                        data = data.replace("{AUTH}", self.headers.get("Authorization") or "").encode("utf-8", "surrogatepass")
                    entry.reply = data[:200].decode("utf-8", "replace")
                    self._send(rule.status if rule else 200, None, raw=data)
                    return
                if action == "bad_body":
                    self._send(200, None, raw=b'{"id": "x", "choices": [{"message": {"content": "{\\"emp')
                    self.close_connection = True
                    return
                refusal = None
                if action == "refusal":
                    content, refusal = None, (rule.text if rule and rule.text else "I can't help with rating this.")
                elif action == "text":
                    content = rule.text if rule else ""
                else:
                    scores = dict(scores_for(body))
                    if rule and rule.scores:
                        scores.update(rule.scores)
                    rf = body.get("response_format")
                    if rf and (rf.get("type") == "json_schema" or rf.get("schema")):
                        content = json.dumps(scores)
                    elif server.reply_text is not None and not rf:
                        content = server.reply_text(body)
                    elif server.text_template is not None:
                        content = server.text_template.format(**scores)
                    else:
                        content = "\n".join(f"{k}: {v}" for k, v in scores.items())
                entry.reply = content
                message: dict[str, Any] = {"role": "assistant", "content": content}
                if server.reasoning and content:
                    message["content"] = "<think>The user is sad; a score of 1 or 3? 1.</think>\n" + content
                    message["reasoning_content"] = "Considering the reply... 3/3 maybe."
                if refusal is not None:
                    message["refusal"] = refusal
                choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": rule.finish_reason if rule else "stop"}
                if body.get("logprobs") and content:
                    choice["logprobs"] = {"content": _logprobs(content, int(body.get("top_logprobs") or 0))}
                p, c = server.usage
                self._send(200, {
                    "id": "chatcmpl-loopback", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "loopback"), "choices": [choice],
                    "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
                })

        return Handler


def _logprobs(content: str, top: int) -> list[dict[str, Any]]:
    """Tokenise the reply into runs of digits / other characters; each digit
    token gets alternatives one below and one above (probabilities .7/.2/.1)."""
    import math
    import re

    out = []
    for tok in re.findall(r"\d+|[^\d]+", content):
        alts = [{"token": tok, "logprob": 0.0, "bytes": None}]
        lp = 0.0
        if tok.isdigit():
            v = int(tok)
            lp = math.log(0.7)
            alts = [{"token": tok, "logprob": lp, "bytes": None},
                    {"token": str(v + 1), "logprob": math.log(0.2), "bytes": None},
                    {"token": str(max(v - 1, 0)) if v > 0 else "x", "logprob": math.log(0.1), "bytes": None}]
        out.append({"token": tok, "logprob": lp, "bytes": None, "top_logprobs": alts[:top] if top else []})
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the server in its own process: prints its base URL, serves until killed."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--latency", type=float, default=0.0)
    args = ap.parse_args(argv)
    server = OpenAIServer(latency=args.latency)
    print(server.base_url, flush=True)
    try:
        server.httpd.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
