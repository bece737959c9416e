"""A hostile judge server and hostile inputs (issue 18): whatever a reply's
shape or size, every item ends scored or unscored with a reason, the output
is valid JSON, the cache reads back (``replay_only``), old poisoned cache
rows read as unscored rows, and no secret reaches a file or stream."""
from __future__ import annotations

import json
import sqlite3

import pytest

from judgekit.errors import ReplayMissError
from judgekit.judge import judge
from judgekit.judge.cache import JudgeCache
from tests._openai_server import OpenAIServer

FAST = dict(backoff_base=0.001, backoff_max=0.005, timeout=5.0, progress=False, max_retries=1)


@pytest.fixture
def server():
    with OpenAIServer() as s:
        yield s


def _strict_json(text):
    """json.loads that refuses NaN / Infinity (not JSON)."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def _body(content=None, *, refusal=None, usage=None, finish_reason="stop", model="m", **message):
    msg = {"role": "assistant", "content": content, **message}
    if refusal is not None:
        msg["refusal"] = refusal
    return json.dumps({"id": "x", "object": "chat.completion", "model": model,
                       "choices": [{"index": 0, "message": msg, "finish_reason": finish_reason}],
                       "usage": usage if usage is not None else {"prompt_tokens": 10, "completion_tokens": 2}})


DEEP = 100_000
# marker -> (HTTP body, expected status, a words of the reason (None: no reason needed), cached?)
SHAPES = {
    "inf": (_body('{"empathy": 1e309}'), "unscored", "not a finite number", True),
    "nan": (_body('{"empathy": NaN}'), "unscored", "not a finite number", True),
    "inf-text": (_body("Score: 1e309"), "unscored", "", True),
    "parts": (_body([{"type": "text", "text": '{"empathy": '}, {"type": "text", "text": "2}"}]), "scored", None, True),
    "content-object": (_body({"empathy": 2}), "unscored", "content is not text", True),
    "content-number": (_body(2), "unscored", "content is not text", True),
    "refusal-object": (_body(None, refusal={"why": "policy"}), "unscored", '"why"', True),
    "usage-huge": (_body('{"empathy": 2}', usage={"prompt_tokens": 10**30, "completion_tokens": 3}), "scored", None, True),
    "usage-negative": (_body('{"empathy": 2}', usage={"prompt_tokens": -5, "completion_tokens": 3}), "scored", None, True),
    "usage-string": (_body('{"empathy": 2}', usage={"prompt_tokens": "many", "completion_tokens": [1]}), "scored", None,
                     True),
    "usage-inf": (_body('{"empathy": 2}').replace('"prompt_tokens": 10', '"prompt_tokens": 1e999'), "scored", None,
                  True),
    "usage-object": (_body('{"empathy": 2}', usage=["a"]), "scored", None, True),
    "finish-object": (_body('{"empathy": 2}', finish_reason={"x": 1}), "scored", None, True),
    "model-list": (_body('{"empathy": 2}', model=["a", "b"]), "scored", None, True),
    "surrogate": (_body('\ud800 {"empathy": 2}'), "scored", None, True),
    "nul": (_body('\x00{"empathy": 2}'), "scored", None, True),
    "reasoning-object": (_body('{"empathy": 2}', reasoning_content={"a": [1]}), "scored", None, True),
    "content-nested": (_body("[" * DEEP), "unscored", "", True),
    "body-nested": (_body('{"empathy": 2}')[:-1] + ', "junk": ' + "[" * DEEP + "]" * DEEP + "}", "unscored",
                    "nested", False),
    "too-large": (_body("x" * 1_100_000), "unscored", "reply too large", False),
    "logprobs-junk": (json.dumps({"choices": [{"message": {"content": '{"empathy": 2}'}, "finish_reason": "stop",
                                               "logprobs": {"content": [1, "a", {"token": {"x": 1}, "logprob": "nan"}]}}]}),
                      "scored", None, True),
}


def _items(markers):
    return [{"id": m, "context": f"ctx #{m}#", "response": f"resp #{m}#"} for m in markers]


def test_every_reply_shape_ends_scored_or_unscored_with_a_reason(server, tmp_path):
    for marker, (body, *_rest) in SHAPES.items():
        server.add_rule(f"#{marker}#", "raw_body", body=body)
    cache = tmp_path / "c.sqlite"
    items = _items(SHAPES)
    res = judge(items, model="m", base_url=server.base_url, cache=cache, **FAST)
    df = res.per_item.set_index("id")
    for marker, (_body_, status, words, _cached) in SHAPES.items():
        row = df.loc[marker]
        assert row["status"] == status, (marker, row["reason"])
        if status == "unscored":
            assert row["reason"] and words in row["reason"], (marker, row["reason"])
    assert df.loc["parts", "empathy"] == 2
    assert 0 <= res.summary["tokens"]["prompt"] < 10**12
    text = res.to_json()
    _strict_json(text)
    assert "\ud800" not in text
    # the cache reads back: a replay of the cached items gives the same rows, asks nothing
    cached = [m for m, v in SHAPES.items() if v[3]]
    asked = len(server.log)
    again = judge(_items(cached), model="m", base_url=server.base_url, cache=cache, replay_only=True, **FAST)
    assert len(server.log) == asked
    a = again.per_item.set_index("id")
    for m in cached:
        assert a.loc[m, "status"] == df.loc[m, "status"], m
        assert a.loc[m, "reason"] == df.loc[m, "reason"] or a.loc[m, "status"] == "scored", m
    _strict_json(again.to_json())
    # what was not cached (too large, unreadable body) is a clean replay miss naming only those items
    with pytest.raises(ReplayMissError) as info:
        judge(items, model="m", base_url=server.base_url, cache=cache, replay_only=True, **FAST)
    assert set(info.value.missing_ids) == {m for m, v in SHAPES.items() if not v[3]}


def test_a_poisoned_cache_row_reads_as_unscored(server, tmp_path):
    cache = tmp_path / "c.sqlite"
    items = _items(["a", "b", "c", "d", "e", "f"])
    judge(items, model="m", base_url=server.base_url, cache=cache, **FAST)
    db = sqlite3.connect(cache)
    keys = [k for (k,) in db.execute("SELECT key FROM judgments ORDER BY key")]
    assert len(keys) == 6
    poison = [
        "UPDATE judgments SET extra = '{not json' WHERE key = ?",
        "UPDATE judgments SET extra = '[1, 2]' WHERE key = ?",
        "UPDATE judgments SET extra = '{\"text\": 5, \"usage\": NaN}' WHERE key = ?",
        "UPDATE judgments SET text = X'FF00', prompt_tokens = 'lots' WHERE key = ?",
        "UPDATE judgments SET prompt_tokens = 1e400, completion_tokens = -3 WHERE key = ?",
        "UPDATE judgments SET extra = '" + "[" * DEEP + "' WHERE key = ?",
    ]
    for sql, key in zip(poison, keys):
        db.execute(sql, (key,))
    db.commit()
    db.close()
    asked = len(server.log)
    res = judge(items, model="m", base_url=server.base_url, cache=cache, replay_only=True, **FAST)
    assert len(server.log) == asked
    df = res.per_item
    assert set(df["status"]) <= {"scored", "unscored"}
    bad = df[df["status"] == "unscored"]
    assert len(bad) >= 4 and bad["reason"].str.contains("cache").all(), df[["status", "reason"]]
    _strict_json(res.to_json())
    with JudgeCache(cache) as c:  # the reader itself never raises on these rows
        got = c.get_many(keys)
    assert set(got) == set(keys)


# -- secrets ------------------------------------------------------------------
CANARY = "sk-canary-5f1c0e9a7b3d4e2f8a6c"
PASSWORD = "pw-canary-9d8c7b6a"


def _echo_rules(server):
    """A server that echoes the Authorization header (the API key) back in
    every field it can: content, refusal, reasoning, model, finish reason,
    usage, and the message of an error body (4xx and 5xx)."""
    msg = lambda **m: json.dumps({"model": "{AUTH}", "choices": [{"message": {"role": "assistant", **m},  # noqa: E731
                                                                  "finish_reason": "stop"}],
                                  "usage": {"prompt_tokens": "{AUTH}", "completion_tokens": 1}})
    server.add_rule("#e-content#", "raw_body", body=msg(content="empathy: 2 (your key: {AUTH})"))
    server.add_rule("#e-json#", "raw_body", body=msg(content='{"empathy": "{AUTH}"}'))
    server.add_rule("#e-refusal#", "raw_body", body=msg(content=None, refusal="no, {AUTH}"))
    server.add_rule("#e-reasoning#", "raw_body", body=msg(content="{AUTH}", reasoning_content="key {AUTH}"))
    server.add_rule("#e-finish#", "raw_body", body=json.dumps(
        {"choices": [{"message": {"content": "x"}, "finish_reason": "{AUTH}"}]}))
    server.add_rule("#e-400#", "raw_body", status=400,
                    body=json.dumps({"error": {"message": "bad request from {AUTH}", "type": "x"}}))
    server.add_rule("#e-500#", "raw_body", status=500, body=json.dumps({"error": {"message": "oops {AUTH}"}}))
    server.add_rule("#e-junk#", "raw_body", body='{"choices": [{"message": "{AUTH}"}]}')


ECHO_MARKERS = ["ok", "e-content", "e-json", "e-refusal", "e-reasoning", "e-finish", "e-400", "e-500", "e-junk"]


def _grep_everything(tmp_path, streams):
    hits = []
    import base64

    secrets = (CANARY, PASSWORD, base64.b64encode(f"user:{PASSWORD}".encode()).decode())  # Basic auth from the URL
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                if secret.encode() in data:
                    hits.append(f"{path.name}: {secret}")
    for name, text in streams.items():
        for secret in secrets:
            if secret in text:
                hits.append(f"{name}: {secret}")
    return hits


def _url_with_password(server):
    return server.base_url.replace("http://", f"http://user:{PASSWORD}@")


def test_canary_key_and_url_password_reach_no_file_or_stream(server, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    _echo_rules(server)
    repo = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_BASE_URL")}
    env.update(PYTHONPATH=str(repo), OPENAI_API_KEY=CANARY)
    url = _url_with_password(server)
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"id": m, "context": f"c #{m}#", "response": f"r #{m}#",
                                       "prompt": f"p #{m}#"}) + "\n" for m in ECHO_MARKERS))
    streams = {}
    runs = {}
    for tag, base in (("key", server.base_url), ("pw", url)):  # the key as Bearer; the URL's password as Basic
        common = ["--model", "m", "--base-url", base, "--max-retries", "1", "--timeout", "5"]
        runs.update({
            f"judge-{tag}": ["judge", inp, "--cache", tmp_path / f"j-{tag}.sqlite", "--output", tmp_path / f"j-{tag}.jsonl",
                             "--raw", "--summary", tmp_path / f"j-{tag}.json", *common],
            f"batch-{tag}": ["judge", inp, "--cache", tmp_path / f"j-{tag}.sqlite", "--export-batch",
                             tmp_path / f"b-{tag}.jsonl", *common],
            f"replay-{tag}": ["judge", inp, "--cache", tmp_path / f"j-{tag}.sqlite", "--output",
                              tmp_path / f"r-{tag}.jsonl", "--raw", "--replay-only", *common],
            f"generate-{tag}": ["generate", inp, "--cache", tmp_path / f"g-{tag}.sqlite", "--output",
                                tmp_path / f"g-{tag}.jsonl", "--raw", "--summary", tmp_path / f"g-{tag}.json", *common],
        })
    for name, args in runs.items():
        proc = subprocess.run([sys.executable, "-m", "judgekit", *map(str, args)], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=120)
        streams[f"{name} stdout"], streams[f"{name} stderr"] = proc.stdout, proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
    for tag in ("key", "pw"):
        rows = [_strict_json(line) for line in (tmp_path / f"j-{tag}.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == ECHO_MARKERS
        assert all(r["status"] == "scored" or r.get("reason") for r in rows)
        assert (tmp_path / f"g-{tag}.jsonl").exists() and (tmp_path / f"b-{tag}.jsonl").exists()
        _strict_json((tmp_path / f"j-{tag}.json").read_text())
        # the server did echo the credentials: what reached the output is the redaction
        assert "[REDACTED]" in (tmp_path / f"j-{tag}.jsonl").read_text()
    # the server did receive the key: the echo had something to leak
    assert any(e.action == "raw_body" for e in server.log)
    assert _grep_everything(tmp_path, streams) == []


def test_no_secret_in_reprs_signatures_or_errors(server, tmp_path, monkeypatch):
    from judgekit.judge import Judge, ReplayMissError
    from judgekit.judge._client import EngineConfig
    from judgekit.judge.generation import Generator

    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    url = _url_with_password(server)
    j = Judge(model="m", base_url=url, progress=False)
    g = Generator(model="m", base_url=url)
    texts = [repr(j), repr(g), str(j.signature()), str(g.signature()),
             repr(EngineConfig(base_url=url, model="m", api_key=CANARY))]
    with pytest.raises(ReplayMissError) as info:
        Judge(model="m", base_url=url, cache=tmp_path / "c.sqlite", replay_only=True).run(_items(["a"]))
    texts.append(str(info.value))
    for t in texts:
        assert CANARY not in t and PASSWORD not in t, t


def test_redact_the_key_tokens_and_url_credentials():
    from judgekit.judge._reply import redact, strip_url_credentials

    text = (f"key {CANARY}; Authorization: Bearer abc.def-123; basic dXNlcjpw; "
            f"see http://user:{PASSWORD}@host:8000/v1 and https://tok@h/x")
    out = redact(text, CANARY)
    for secret in (CANARY, "abc.def-123", "dXNlcjpw", PASSWORD, "tok@"):
        assert secret not in out, out
    assert "http://[REDACTED]@host:8000/v1" in out
    assert strip_url_credentials(f"http://u:{PASSWORD}@a/v1,http://b/v1") == "http://a/v1,http://b/v1"


# -- injection: leaderboard.csv and leaderboard.md ---------------------------
HOSTILE_NAMES = ["=HYPERLINK(\"http://x\")", "<script>alert(1)</script>|pipe", "@SUM(1)", "+1", "-2", "\tTAB",
                 "\rCR", "[click](javascript:alert(1))`code`"]


@pytest.fixture(scope="module")
def hostile_board():
    import pandas as pd

    from judgekit.report import leaderboard

    ids = [f"i{k}" for k in range(30)]
    refs = {i: f"the cat sat on the mat number {k} today" for k, i in enumerate(ids)}
    systems = {"baseline": dict(refs)}  # perfect: every other system's delta is negative
    systems.update({name: {i: (refs[i] if (k + n) % 3 else f"a dog ran {k}") for k, i in enumerate(ids)}
                    for n, name in enumerate(HOSTILE_NAMES)})
    judge = pd.DataFrame({"id": ids, "status": "scored", "empathy": [1 + k % 3 for k in range(30)]})
    return leaderboard(systems, refs, baseline="baseline", judges={"baseline": judge, HOSTILE_NAMES[1]: judge},
                       n_bootstrap=50, n_randomization=50, metrics=["bleu"])


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(hostile_board, tmp_path):
    import csv
    import io

    text = hostile_board.to_csv()
    rows = list(csv.DictReader(io.StringIO(text)))
    systems = {r["system"] for r in rows}
    for name in HOSTILE_NAMES:
        expected = ("'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name).replace("\r", "\n")
        assert expected in systems, (name, systems)
    for r in rows:
        for key, value in r.items():
            assert not value[:1] in ("=", "+", "@", "\t", "\r") and not (value[:1] == "-" and key in ("system", "metric",
                                                                                                     "baseline"))
    # numbers stay numbers: negative deltas are written as numbers, not quoted text
    assert any(r["delta"].startswith("-") for r in rows)
    assert all(r["delta"] == "" or float(r["delta"]) <= 0 for r in rows)
    hostile_board.to_csv(tmp_path / "lb.csv")
    assert (tmp_path / "lb.csv").read_text() == text
    # the frame itself keeps the names as they are
    assert set(hostile_board.to_frame()["system"]) >= set(HOSTILE_NAMES)


def test_markdown_escapes_what_it_embeds(hostile_board):
    import re

    md = hostile_board.to_markdown()
    assert "<script>" not in md and "\\<script\\>" in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md) and "\r" not in md
    assert any("no judge results for" in line and "\\[click\\]" in line for line in md.splitlines())
    # every table row has as many cells as its table's header: no name breaks out of its cell
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---"):
            width = len(re.split(r"(?<!\\)\|", lines[i - 1]))
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert len(re.split(r"(?<!\\)\|", lines[j])) == width, lines[j]
                j += 1
