"""On-disk cache of judge replies (SQLite, WAL, one commit per result).

The key is the sha256 of everything that can change a reply or its reading:
base URL, model, the full messages, the sampling parameters (including the
response format and sample index), the rubric's id, version and content
hash, and the parser version.  The API key is never part of the key or of
anything stored.  Each reply is committed as it arrives, so a run stopped by
Ctrl-C, kill -9 or a crash resumes without asking again for what finished.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import InputError

SCHEMA_VERSION = 1
_CHUNK = 500


def request_key(*, base_url: str, model: str, messages: list[dict[str, str]], params: Mapping[str, Any],
                sample: int, rubric_id: str, rubric_version: str, rubric_hash: str, parser_version: str) -> str:
    payload = {
        "v": SCHEMA_VERSION,
        "base_url": base_url.rstrip("/"),
        "model": model,
        "messages": messages,
        "params": params,
        "sample": sample,
        "rubric": [rubric_id, rubric_version, rubric_hash],
        "parser": parser_version,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class JudgeCache:
    """A SQLite file of ``key -> reply`` (JSON text)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS judgments ("
                " key TEXT PRIMARY KEY, reply TEXT NOT NULL, model TEXT, rubric TEXT, created REAL)"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            raise InputError(f"cache {str(self.path)!r} is not a judgekit SQLite cache: {exc}") from None
        self._lock = threading.Lock()

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Replies for the keys that are cached (one query per 500 keys)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any]] = {}
        loads = json.loads
        with self._lock:
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i:i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, reply in self._db.execute(f"SELECT key, reply FROM judgments WHERE key IN ({marks})", chunk):
                    out[key] = loads(reply)
        return out

    def put(self, key: str, reply: Mapping[str, Any], *, model: str = "", rubric: str = "") -> None:
        """Store one reply and commit it at once."""
        blob = json.dumps(reply, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO judgments (key, reply, model, rubric, created) VALUES (?, ?, ?, ?, ?)",
                (key, blob, model, rubric, time.time()),
            )

    def put_many(self, rows: Iterable[tuple[str, Mapping[str, Any], str, str]]) -> int:
        """Store many replies in one transaction (batch import)."""
        now = time.time()
        data = [(k, json.dumps(r, ensure_ascii=False, separators=(",", ":")), m, rb, now) for k, r, m, rb in rows]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO judgments (key, reply, model, rubric, created) VALUES (?, ?, ?, ?, ?)", data)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(data)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "JudgeCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
