"""On-disk cache of judge replies (SQLite, WAL, one commit per result).

The key is the sha256 of everything that can change a reply or its reading:
base URL, model, the full messages, the sampling parameters (including the
response format and sample index), the rubric's id, version and content
hash, and the parser version.  The API key is never part of the key or of
anything stored.  Each reply is committed as it arrives, so a run stopped by
Ctrl-C, kill -9 or a crash resumes without asking again for what finished.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..errors import InputError
from ._reply import reply_from_row

SCHEMA_VERSION = 2
_CHUNK = 900


class KeyMaker:
    """Cache keys for one run's settings.

    key = sha256(settings JSON, then per message its role and the sha256 of
    its content, then the sample index).  Hashing each content separately
    keeps the encoding unambiguous and lets the (long, shared) system prompt
    be hashed once per run instead of once per item.
    """

    def __init__(self, *, base_url: str, model: str, params: Mapping[str, Any], rubric_id: str,
                 rubric_version: str, rubric_hash: str, parser_version: str, kind: str | None = None) -> None:
        settings: dict[str, Any] = {
            "v": SCHEMA_VERSION,
            "base_url": base_url.rstrip("/"),
            "model": model,
            "params": params,
            "rubric": [rubric_id, rubric_version, rubric_hash],
            "parser": parser_version,
        }
        if kind is not None:  # another kind of request (``"generate"``): its own key space; judge keys have none
            settings["kind"] = kind
        blob = json.dumps(settings, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self._prefix = hashlib.sha256(blob.encode("utf-8"))
        self._digests: dict[str, bytes] = {}

    def _digest(self, content: str, remember: bool) -> bytes:
        d = self._digests.get(content) if remember else None
        if d is None:
            d = hashlib.sha256(content.encode("utf-8")).digest()
            if remember:
                self._digests[content] = d
        return d

    def key(self, messages: list[dict[str, str]], sample: int) -> str:
        h = self._prefix.copy()
        for m in messages:
            h.update(m["role"].encode("utf-8") + b"\x1f")
            h.update(self._digest(m["content"], m["role"] == "system"))
        h.update(b"\x1esample=%d" % sample)
        return h.hexdigest()


def request_key(*, base_url: str, model: str, messages: list[dict[str, str]], params: Mapping[str, Any],
                sample: int, rubric_id: str, rubric_version: str, rubric_hash: str, parser_version: str) -> str:
    """The cache key of one request (see ``KeyMaker``)."""
    return KeyMaker(base_url=base_url, model=model, params=params, rubric_id=rubric_id, rubric_version=rubric_version,
                    rubric_hash=rubric_hash, parser_version=parser_version).key(messages, sample)


_COLUMNS = ("text", "refusal", "finish_reason", "prompt_tokens", "completion_tokens", "extra")


class CacheDamaged(InputError):
    """The cache file is damaged (a corrupted page): which file, and how to
    get back what is still readable."""

    def __init__(self, path: Path, detail: str) -> None:
        import shlex

        new = path.with_name(path.stem + "-recovered" + path.suffix)
        super().__init__(
            f"cache {str(path)!r} is damaged ({detail}). Its readable replies can be copied into a new file: "
            f"judgekit cache recover {shlex.quote(str(path))} {shlex.quote(str(new))} "
            f"(in Python: judgekit.judge.recover_cache), then use {str(new)!r} as the cache (replies on the "
            "damaged pages are asked again); or start a new cache file")
        self.path = path


def _damaged(exc: BaseException) -> bool:
    """A sqlite error that means the file is corrupt, not busy or misused."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or (
        isinstance(exc, sqlite3.DatabaseError) and any(
            w in str(exc) for w in ("malformed", "not a database", "corrupt")))


def recover(damaged: str | os.PathLike[str], new: str | os.PathLike[str]) -> dict[str, int]:
    """Copy every reply still readable in a damaged cache file into a new
    cache file (``judgekit cache recover DAMAGED NEW``): key ranges (by
    their leading hex digits, narrowed down to four) whose pages cannot be
    read are skipped.  Returns the counts of copied replies and of the key
    ranges lost.  ``new`` must not exist yet; a ``damaged`` file that is
    missing, not SQLite, or without a readable table of replies is an
    ``InputError``."""
    src = _open_damaged(Path(damaged).expanduser())
    new = Path(new).expanduser()
    if new.exists() or new.with_name(new.name + "-wal").exists():
        src.close()
        raise InputError(f"{str(new)!r} exists already; recover into a new file (the damaged cache is "
                         "only read)")
    out = JudgeCache(new)
    copied = lost = 0
    cols = "key, text, refusal, finish_reason, prompt_tokens, completion_tokens, extra, model, rubric, created"
    hexd = "0123456789abcdef"

    def copy(prefix: str) -> None:
        nonlocal copied, lost
        hi = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\uffff"
        try:
            rows = src.execute(f"SELECT {cols} FROM judgments WHERE key >= ? AND key < ?", (prefix, hi)).fetchall()
        except sqlite3.DatabaseError:
            if len(prefix) < 4:
                for d in hexd:
                    copy(prefix + d)
            else:
                lost += 1
            return
        with out._guard(), out._lock:
            out._db.execute("BEGIN")
            out._db.executemany(f"INSERT OR REPLACE INTO judgments ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                rows)
            out._db.execute("COMMIT")
        copied += len(rows)

    try:
        for d in hexd:  # cache keys are sha256 hex digests
            copy(d)
        try:
            for server, model, dialect, updated in src.execute("SELECT server, model, dialect, updated FROM dialects"):
                out._db.execute("INSERT OR REPLACE INTO dialects VALUES (?, ?, ?, ?)", (server, model, dialect, updated))
        except sqlite3.DatabaseError:
            pass  # learned again from the server's refusals
    finally:
        src.close()
        out.close()
    return {"copied": copied, "lost_key_ranges": lost}


def _open_damaged(path: Path) -> sqlite3.Connection:
    """A read-only connection to a damaged cache whose table of replies can
    still be found; an ``InputError`` saying why not otherwise."""
    if not path.is_file():
        raise InputError(f"cache {str(path)!r}: no such file" if not path.exists() else
                         f"cache {str(path)!r}: not a file")
    src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    src.text_factory = lambda b: b.decode("utf-8", "replace")
    try:
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        src.close()
        raise InputError(f"cache {str(path)!r}: nothing can be recovered, its list of tables is unreadable "
                         f"({exc}); start a new cache file") from None
    if "judgments" not in tables:
        src.close()
        raise InputError(f"cache {str(path)!r} holds no judgekit replies (tables: "
                         f"{', '.join(sorted(tables)) or 'none'})")
    return src


def _row(reply: Mapping[str, Any]) -> tuple[Any, ...]:
    usage = reply.get("usage") or {}
    extra = {k: v for k, v in reply.items() if k not in ("text", "refusal", "finish_reason", "usage") and v is not None}
    return (reply.get("text"), reply.get("refusal"), reply.get("finish_reason"),
            int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0),
            json.dumps(extra, ensure_ascii=False, separators=(",", ":"), allow_nan=False) if extra else None)


class JudgeCache:
    """A SQLite file of ``key -> reply`` (text, refusal, finish reason, usage,
    and any extra fields such as logprobs as JSON)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
            # a TEXT cell that is not UTF-8 (a damaged or hand-edited row) reads with U+FFFD, not an error
            self._db.text_factory = lambda b: b.decode("utf-8", "replace")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS judgments ("
                " key TEXT PRIMARY KEY, text TEXT, refusal TEXT, finish_reason TEXT,"
                " prompt_tokens INTEGER, completion_tokens INTEGER, extra TEXT,"
                " model TEXT, rubric TEXT, created REAL) WITHOUT ROWID"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
            # what each server (by identity) and model accepts, learned from refusals
            self._db.execute("CREATE TABLE IF NOT EXISTS dialects (server TEXT, model TEXT, dialect TEXT,"
                             " updated REAL, PRIMARY KEY (server, model))")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            cols = {r[1] for r in self._db.execute("PRAGMA table_info(judgments)")}
        except sqlite3.DatabaseError as exc:
            raise InputError(f"cache {str(self.path)!r} is not a judgekit SQLite cache: {exc}") from None
        if not set(_COLUMNS) <= cols:
            raise InputError(f"cache {str(self.path)!r} was written by another judgekit cache format; use a new file")
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """A damaged page read or written is a ``CacheDamaged`` naming the
        file and the way out, not a bare sqlite traceback."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if _damaged(exc):
                raise CacheDamaged(self.path, str(exc)) from None
            raise

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Replies for the keys that are cached (one query per 900 keys)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any]] = {}
        sql = "SELECT key, text, refusal, finish_reason, prompt_tokens, completion_tokens, extra FROM judgments WHERE key IN ({})"
        with self._guard(), self._lock:
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i:i + _CHUNK]
                for key, text, refusal, finish, p, c, extra in self._db.execute(sql.format(",".join("?" * len(chunk))), chunk):
                    # a row that cannot be read back is a reply with an error (unscored), not a crash
                    out[key] = reply_from_row(text, refusal, finish, p, c, extra)
        return out

    def put(self, key: str, reply: Mapping[str, Any], *, model: str = "", rubric: str = "") -> None:
        """Store one reply and commit it at once."""
        with self._guard(), self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO judgments (key, text, refusal, finish_reason, prompt_tokens, completion_tokens,"
                " extra, model, rubric, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, *_row(reply), model, rubric, time.time()),
            )

    def put_many(self, rows: Iterable[tuple[str, Mapping[str, Any], str, str]]) -> int:
        """Store many replies in one transaction (batch import)."""
        now = time.time()
        data = [(k, *_row(r), m, rb, now) for k, r, m, rb in rows]
        with self._guard(), self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO judgments (key, text, refusal, finish_reason, prompt_tokens, completion_tokens,"
                    " extra, model, rubric, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", data)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(data)

    # -- background writer: the event loop hands results over and moves on --
    def start_writer(self) -> None:
        """Commit ``put_later`` results one by one in a thread (sqlite releases
        the GIL while writing), so the request loop never waits on the disk."""
        import queue

        self._queue: Any = queue.SimpleQueue()
        self._writer_error: BaseException | None = None
        self.skipped: list[str] = []  # replies that could not be stored, and why
        self._writer = threading.Thread(target=self._write_loop, name="judgekit-cache-writer", daemon=True)
        self._writer.start()

    def _write_loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self.put(job[0], job[1], model=job[2], rubric=job[3])
            except BaseException as exc:
                if isinstance(exc, (ValueError, TypeError, OverflowError, sqlite3.InterfaceError)) or (
                        isinstance(exc, sqlite3.ProgrammingError) and "binding" in str(exc)):
                    # a reply that cannot be stored is not cached (asked again next run); the run goes on
                    self.skipped.append(f"{type(exc).__name__}: {exc}"[:200])
                else:  # surfaced by stop_writer
                    self._writer_error = exc

    def put_later(self, key: str, reply: Mapping[str, Any], *, model: str = "", rubric: str = "") -> None:
        self._queue.put((key, reply, model, rubric))

    def stop_writer(self) -> None:
        """Wait until every queued result is committed; re-raise a write error."""
        writer = getattr(self, "_writer", None)
        if writer is None:
            return
        self._queue.put(None)
        writer.join()
        self._writer = None
        if self._writer_error is not None:
            raise self._writer_error

    def get_dialect(self, server: str, model: str) -> dict[str, Any] | None:
        """The dialect learned for this server and model, if any."""
        with self._guard(), self._lock:
            row = self._db.execute("SELECT dialect FROM dialects WHERE server = ? AND model = ?",
                                   (server, model)).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def put_dialect(self, server: str, model: str, dialect: Mapping[str, Any]) -> None:
        with self._guard(), self._lock:
            self._db.execute("INSERT OR REPLACE INTO dialects VALUES (?, ?, ?, ?)",
                             (server, model, json.dumps(dict(dialect), sort_keys=True), time.time()))

    def __len__(self) -> int:
        with self._guard(), self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "JudgeCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
