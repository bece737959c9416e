"""``judgekit judge`` and ``judgekit rubrics`` as subprocesses, against the
loopback server: kill -9 half way, then resume without asking twice."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from judgekit.judge import Judge
from tests._openai_server import OpenAIServer

REPO = Path(__file__).resolve().parent.parent


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_BASE_URL")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["OPENAI_API_KEY"] = "sk-cli-test-key"
    env.update(extra)
    return env


def _cli(*args, check=None, **kw):
    proc = subprocess.run([sys.executable, "-m", "judgekit", *map(str, args)], capture_output=True, text=True,
                          env=_env(), cwd=kw.get("cwd"), timeout=120)
    if check is not None:
        assert proc.returncode == check, proc.stderr
    return proc


def _write_items(path, n, prefix="it"):
    items = [{"id": f"{prefix}{i}", "context": f"我失业了，很焦虑。#{prefix}{i}#", "response": f"这确实让人很不安，能说说发生了什么吗？#{prefix}{i}#"}
             for i in range(n)]
    path.write_text("\n".join(json.dumps(it, ensure_ascii=False) for it in items) + "\n", encoding="utf-8")
    return items


@pytest.fixture
def server():
    with OpenAIServer() as s:
        yield s


def test_cli_judge_writes_one_row_per_input(server, tmp_path):
    inp = tmp_path / "in.jsonl"
    items = _write_items(inp, 5)
    server.add_rule("#it3#", "text", text="I'm sorry, I can't rate this.")
    out = tmp_path / "out.jsonl"
    proc = _cli("judge", inp, "--rubric", "empathy-3pt", "--model", "m", "--base-url", server.base_url,
                "--cache", tmp_path / "c.sqlite", "--output", out, "--summary", tmp_path / "s.json", check=0)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [it["id"] for it in items]
    assert [r["status"] for r in rows] == ["scored"] * 3 + ["unscored"] + ["scored"]
    assert rows[3]["empathy"] is None and "refusal" in rows[3]["reason"] and rows[3]["raw"].startswith("I'm sorry")
    assert all(isinstance(r["empathy"], int) for r in rows if r["status"] == "scored")
    assert "4 scored, 1 unscored" in proc.stderr and "signature: model:m|" in proc.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["summary"]["n_unscored"] == 1
    assert "sk-cli-test-key" not in proc.stderr + out.read_text() + (tmp_path / "s.json").read_text()
    # replay-only: same output from the cache, no request
    n = len(server.log)
    out2 = tmp_path / "out2.jsonl"
    _cli("judge", inp, "--model", "m", "--base-url", server.base_url, "--cache", tmp_path / "c.sqlite",
         "--replay-only", "--output", out2, check=0)
    assert out2.read_text() == out.read_text() and len(server.log) == n


def test_cli_input_errors_name_the_line(server, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"context": "a", "response": "b"}\n{"context": "a"}\n', encoding="utf-8")
    proc = _cli("judge", inp, "--model", "m", "--base-url", server.base_url, "--output", tmp_path / "o.jsonl",
                "--no-cache", check=2)
    assert "in.jsonl:2: missing required field 'response'" in proc.stderr
    inp.write_text('{"context": "a", "response": "b"}\nnot json\n', encoding="utf-8")
    assert "in.jsonl:2: invalid JSON" in _cli("judge", inp, "--model", "m", "--output", tmp_path / "o", "--no-cache", check=2).stderr
    # judgekit.io's rule: a blank line inside the file is an error (blank lines at the very end are ignored)
    inp.write_text('{"context": "a", "response": "b"}\n\n{"context": "a", "response": "c"}\n', encoding="utf-8")
    assert "in.jsonl:2: blank line" in _cli("judge", inp, "--model", "m", "--output", tmp_path / "o", "--no-cache", check=2).stderr
    proc = _cli("judge", inp, "--model", "m", "--rubric", "nope", "--output", tmp_path / "o", check=2)
    assert "unknown rubric 'nope'" in proc.stderr
    assert not server.log


def test_cli_replay_only_lists_missing(server, tmp_path):
    inp = tmp_path / "in.jsonl"
    _write_items(inp, 3)
    proc = _cli("judge", inp, "--model", "m", "--base-url", server.base_url, "--cache", tmp_path / "c.sqlite",
                "--replay-only", "--output", tmp_path / "o.jsonl", check=2)
    assert "3 item(s) are not in the cache: 'it0', 'it1', 'it2'" in proc.stderr
    assert not server.log and not (tmp_path / "o.jsonl").exists()


def _cache_keys(path: Path) -> set[str]:
    if not path.exists():
        return set()
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return {k for (k,) in db.execute("SELECT key FROM judgments")}
        finally:
            db.close()
    except sqlite3.OperationalError:
        return set()


def test_kill_9_then_resume_asks_each_finished_item_once(tmp_path):
    inp = tmp_path / "in.jsonl"
    items = _write_items(inp, 60)
    cache = tmp_path / "c.sqlite"
    with OpenAIServer(latency=0.05) as server:
        args = [sys.executable, "-m", "judgekit", "judge", str(inp), "--model", "m", "--base-url", server.base_url,
                "--cache", str(cache), "--concurrency", "4", "--output", str(tmp_path / "o.jsonl"), "--no-progress"]
        proc = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(_cache_keys(cache)) < 20 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        finished = _cache_keys(cache)
        assert 20 <= len(finished) < 60, len(finished)
        assert not (tmp_path / "o.jsonl").exists()

        rerun = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr

        _, _, ids, reqs = Judge(model="m", base_url=server.base_url).prepare(items)
        done_ids = {ids[i] for i, per in enumerate(reqs) if per[0].key in finished}
        assert len(done_ids) == len(finished)
        for it in items:
            n = server.count(f"#{it['id']}#")
            if it["id"] in done_ids:
                assert n == 1, (it["id"], n)  # finished before the kill: never asked again
            else:
                assert n in (1, 2), (it["id"], n)  # in flight at the kill at most twice
        rows = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == [it["id"] for it in items]
        assert all(r["status"] == "scored" for r in rows)
        assert f"{len(finished)} from cache, {60 - len(finished)} sent" in rerun.stderr


def test_batch_export_import_then_replay(server, tmp_path):
    inp = tmp_path / "in.jsonl"
    _write_items(inp, 6)
    cache = tmp_path / "c.sqlite"
    req_file = tmp_path / "batch_requests.jsonl"
    _cli("judge", inp, "--model", "m", "--base-url", server.base_url, "--cache", cache, "--export-batch", req_file, check=0)
    lines = [json.loads(x) for x in req_file.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 6
    assert all(set(ln) == {"custom_id", "method", "url", "body"} and ln["url"] == "/v1/chat/completions" for ln in lines)
    assert lines[0]["body"]["model"] == "m" and lines[0]["body"]["response_format"]["type"] == "json_schema"
    # play the batch runner: send each body to the server, write the results file
    results = []
    for i, ln in enumerate(lines):
        if i == 4:
            results.append({"id": f"b{i}", "custom_id": ln["custom_id"], "response": None,
                            "error": {"code": "server_error", "message": "boom"}})
            continue
        req = urllib.request.Request(server.base_url + "/chat/completions", data=json.dumps(ln["body"]).encode(),
                                     headers={"Content-Type": "application/json"})
        body = json.loads(urllib.request.urlopen(req, timeout=10).read())
        results.append({"id": f"b{i}", "custom_id": ln["custom_id"], "response": {"status_code": 200, "request_id": "r", "body": body}, "error": None})
    res_file = tmp_path / "batch_results.jsonl"
    res_file.write_text("\n".join(json.dumps(r) for r in results) + "\n")
    proc = _cli("judge", "--import-batch", res_file, "--cache", cache, check=1)
    assert "imported 5 result(s)" in proc.stderr and "1 failed" in proc.stderr
    n = len(server.log)
    proc = _cli("judge", inp, "--model", "m", "--base-url", server.base_url, "--cache", cache, "--replay-only",
                "--output", tmp_path / "o.jsonl", check=2)
    assert "1 item(s) are not in the cache: 'it4'" in proc.stderr
    # a normal run asks only for the failed one
    _cli("judge", inp, "--model", "m", "--base-url", server.base_url, "--cache", cache, "--output", tmp_path / "o.jsonl", check=0)
    assert len(server.log) == n + 1 and server.count("#it4#") == 1
    # export again: nothing left to ask
    _cli("judge", inp, "--model", "m", "--base-url", server.base_url, "--cache", cache, "--export-batch", req_file, check=0)
    assert req_file.read_text() == ""


def test_cli_rubrics_list_and_show(tmp_path):
    out = _cli("rubrics", "list", check=0).stdout
    for rid in ("empathy-3pt", "soulchat-cehs", "epitome", "empathic-similarity", "empatheticdialogues-eval", "lend-an-ear"):
        assert rid in out
    listed = json.loads(_cli("rubrics", "list", "--json", check=0).stdout)
    assert {r["id"] for r in listed} >= {"empathy-3pt", "lend-an-ear"}
    show = _cli("rubrics", "show", "soulchat-cehs", "--lang", "zh", check=0).stdout
    assert "safety [0-1]" in show and "心理咨询" in show
    assert "json_schema" not in _cli("rubrics", "show", "epitome", "--json", check=0).stdout
    assert "Answer with one JSON object" in _cli("rubrics", "show", "empathy-3pt", "--prompt", check=0).stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nversion: 1\n", encoding="utf-8")
    assert "field 'languages': is required" in _cli("rubrics", "validate", bad, check=2).stderr
