"""A lean HTTP/1.1 keep-alive transport for plain-``http://`` servers.

The openai client sends requests through httpx; its default connection
pool costs about a millisecond of CPU per request, which caps a judge run at
a few hundred requests per second on a small machine: too slow for a local
vLLM / llama.cpp / SGLang server at high concurrency.  This transport plugs
into the same client (authentication, headers, errors and retries stay the
SDK's and ours) and speaks HTTP/1.1 over asyncio streams.  It is used only
for ``http://`` URLs with no proxy configured; ``https://`` and proxied
URLs keep httpx's own transport.  A reply body is read up to
``max_bytes`` + 1 bytes and no further (the connection is then closed): the
engine sees it is over the limit without the rest ever being held.
"""
from __future__ import annotations

import asyncio
import os
from typing import Any

_PROXY_VARS = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def eligible(base_url: str) -> bool:
    """Plain http, and no proxy that httpx would have honoured."""
    if not base_url.lower().startswith("http://"):
        return False
    return not any(os.environ.get(v) for v in _PROXY_VARS)


def make_transport(httpx: Any) -> Any:
    """A transport class bound to the httpx module the SDK uses."""

    class LeanTransport(httpx.AsyncBaseTransport):
        def __init__(self, max_bytes: int = 2 ** 62) -> None:
            self.max_bytes = max_bytes
            self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}

        async def _connect(self, host: str, port: int, timeout: float | None) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            pool = self._idle.get((host, port))
            while pool:
                reader, writer = pool.pop()
                if not reader.at_eof() and not writer.is_closing():
                    return reader, writer
                writer.close()
            return await asyncio.wait_for(asyncio.open_connection(host, port, limit=2 ** 20), timeout)

        async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes,
                            body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
            writer.write(head + body)
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionResetError("server closed the connection without a response")
            parts = status_line.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
                raise ValueError(f"bad status line {status_line[:80]!r}")
            status = int(parts[1])
            raw = await reader.readuntil(b"\r\n\r\n") if not status_line.endswith(b"\r\n\r\n") else b"\r\n"
            headers: list[tuple[bytes, bytes]] = []
            length = None
            chunked = False
            keep = parts[0] == b"HTTP/1.1"
            for line in raw.split(b"\r\n"):
                if not line:
                    continue
                name, _, value = line.partition(b":")
                name, value = name.strip(), value.strip()
                headers.append((name, value))
                lname = name.lower()
                if lname == b"content-length":
                    length = int(value)
                elif lname == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                elif lname == b"connection":
                    keep = value.lower() != b"close"
            cap = self.max_bytes + 1  # one byte past the limit shows it was passed
            if chunked:
                chunks = []
                got = 0
                while True:
                    size_line = await reader.readline()
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while (await reader.readline()) not in (b"\r\n", b""):
                            pass
                        break
                    if got + size >= cap:
                        chunks.append(await reader.readexactly(cap - got))
                        keep = False
                        break
                    chunks.append(await reader.readexactly(size))
                    got += size
                    await reader.readexactly(2)
                content = b"".join(chunks)
                headers = [(k, v) for k, v in headers if k.lower() != b"transfer-encoding"]
            elif length is not None:
                if length >= cap:
                    length, keep = cap, False
                content = await reader.readexactly(length)
            else:
                parts_read = []
                got = 0
                while got < cap:
                    piece = await reader.read(min(cap - got, 1 << 20))
                    if not piece:
                        break
                    parts_read.append(piece)
                    got += len(piece)
                content = b"".join(parts_read)
                keep = False
            if not keep:
                headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            return status, headers, content, keep

        async def handle_async_request(self, request: Any) -> Any:
            url = request.url
            host, port = url.host, url.port or 80
            timeouts = request.extensions.get("timeout") or {}
            body = await request.aread()
            lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), url.raw_path)]
            lines += [k + b": " + v for k, v in request.headers.raw]
            head = b"\r\n".join(lines) + b"\r\n\r\n"
            try:
                reader, writer = await self._connect(host, port, timeouts.get("connect"))
            except asyncio.TimeoutError:
                raise httpx.ConnectTimeout("connect timed out", request=request) from None
            except OSError as exc:
                raise httpx.ConnectError(str(exc), request=request) from exc
            try:
                read_timeout = timeouts.get("read")
                status, headers, content, keep = await asyncio.wait_for(
                    self._exchange(reader, writer, head, body), read_timeout)
            except asyncio.TimeoutError:
                writer.close()
                raise httpx.ReadTimeout("read timed out", request=request) from None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                writer.close()
                raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}", request=request) from exc
            except BaseException:
                writer.close()
                raise
            if keep:
                self._idle.setdefault((host, port), []).append((reader, writer))
            else:
                writer.close()
            return httpx.Response(status, headers=headers, content=content, request=request,
                                  extensions={"http_version": b"HTTP/1.1"})

        async def aclose(self) -> None:
            for pool in self._idle.values():
                for _, writer in pool:
                    writer.close()
            self._idle.clear()

    return LeanTransport
