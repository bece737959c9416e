"""OpenAI Batch API files: export requests as JSONL, import results into the cache.

The request file is the format of the OpenAI Batch API and of vLLM's
``run_batch`` entry point: one ``{"custom_id", "method", "url", "body"}`` per
line.  ``custom_id`` is the judgekit cache key, so importing a results file
fills the cache and a replay-only ``judge()`` then reads the scores.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError
from ._client import Request, _completion_from_body
from .dialect import Dialect
from .cache import JudgeCache


def export_batch(items: Any, path: str | os.PathLike[str], *, cache: Any = None, skip_cached: bool = True, **settings: Any) -> dict[str, int]:
    """Write one Batch API request line per (item, sample) not yet cached.

    ``settings`` are those of ``Judge`` (rubric, model, base_url, samples...);
    the base URL (or ``server``) only enters the cache key, so use the one
    you will replay with.  The bodies are said in the dialect forced with
    ``dialect=`` or learned earlier for this server and model.
    """
    from .run import Judge

    j = Judge(cache=cache, **settings)
    rubric, _lang, ids, reqs = j.prepare(items)
    cached: set[str] = set()
    db = j._open_cache()
    try:
        if db is not None and skip_cached:
            cached = set(db.get_many([r.key for per in reqs for r in per]))
        dialect = j._dialect(db)  # forced (--format, --reasoning-model), else learned for this server and model
    finally:
        if db is not None and db is not j.cache:
            db.close()
    written = write_requests(path, [r for per in reqs for r in per], model=j.model, dialect=dialect, skip=cached)
    return {"items": len(ids), "requests_written": written, "already_cached": len(cached)}


def write_requests(path: str | os.PathLike[str], requests: Iterable[Request], *, model: str, dialect: Dialect,
                   skip: set[str] = frozenset()) -> int:  # type: ignore[assignment]
    """Write one Batch API request line per request (each key once, none in
    ``skip``), its body said in ``dialect``; the number written."""
    written = 0
    seen: set[str] = set()
    with open(path, "w", encoding="utf-8") as fh:
        for r in requests:
            if r.key in skip or r.key in seen:
                continue
            seen.add(r.key)
            body = {"model": model, "messages": r.messages, **dialect.wire(r.params)}
            line = {"custom_id": r.key, "method": "POST", "url": "/v1/chat/completions", "body": body}
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            written += 1
    return written


def import_batch(results_path: str | os.PathLike[str], cache: Any, *, requests_path: str | os.PathLike[str] | None = None,
                 model: str = "", rubric: str = "") -> dict[str, Any]:
    """Store the successful lines of a Batch API results file in the cache.

    Failed lines (an ``error`` or a non-200 status) are reported, not stored,
    so the items stay missing and a later run asks again.  With
    ``requests_path``, only custom ids found in that request file are taken.
    """
    from ..io import read_records

    allowed: set[str] | None = None
    if requests_path is not None:
        allowed = set()
        for where, obj in read_records(requests_path, format="jsonl"):
            if not isinstance(obj.get("custom_id"), str):
                raise InputError(f"{where}: not a batch request line with a custom_id")
            allowed.add(obj["custom_id"])
    db = cache if isinstance(cache, JudgeCache) else JudgeCache(cache)
    rows = []
    failed: list[dict[str, Any]] = []
    unknown = 0
    try:
        for where, obj in read_records(Path(results_path), format="jsonl"):
            n = int(where.rsplit(":", 1)[1])
            cid = obj.get("custom_id")
            if not isinstance(cid, str):
                raise InputError(f"{where}: not a batch result line (JSON with custom_id)")
            if allowed is not None and cid not in allowed:
                unknown += 1
                continue
            resp = obj.get("response") or {}
            status = resp.get("status_code") if isinstance(resp, dict) else None
            if obj.get("error") or status != 200:
                failed.append({"line": n, "custom_id": cid, "error": obj.get("error") or f"status {status}"})
                continue
            try:
                reply = _completion_from_body(resp.get("body") or {})
            except (ValueError, TypeError, AttributeError, RecursionError) as exc:
                failed.append({"line": n, "custom_id": cid, "error": f"malformed body: {exc}"})
                continue
            rows.append((cid, reply, model or str(reply.get("model") or ""), rubric))
        stored = db.put_many(rows)
    finally:
        if db is not cache:
            db.close()
    return {"imported": stored, "failed": len(failed), "failures": failed[:50], "not_in_requests": unknown}
