"""``judgekit generate`` / ``judgekit.judge.generate``: responses from a chat
model on the judge's engine, against the loopback server (a deterministic
reply per request) and the real llama.cpp engine on a tiny random GGUF."""
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

from judgekit.errors import InputError, ReplayMissError
from judgekit.judge import GenerateResult, Generator, Judge, generate
from judgekit.signature import Signature
from tests._openai_server import OpenAIServer

REPO = Path(__file__).resolve().parent.parent
SYSTEM = "You are a compassionate listener. Acknowledge the speaker's feelings before anything else."


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_BASE_URL")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["OPENAI_API_KEY"] = "sk-generate-test-key"
    env.update(extra)
    return env


def _cli(*args, check=None, timeout=120):
    proc = subprocess.run([sys.executable, "-m", "judgekit", *map(str, args)], capture_output=True, text=True,
                          env=_env(), timeout=timeout)
    if check is not None:
        assert proc.returncode == check, proc.stderr
    return proc


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


def _prompts(n, prefix="p"):
    return [{"id": f"{prefix}{i}", "prompt": f"我失业了，很焦虑。#{prefix}{i}#"} for i in range(n)]


def _rows(path):
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def server():
    with OpenAIServer() as s:
        s.reply_text = OpenAIServer.echo
        yield s


# -- Python API -----------------------------------------------------------------
def test_output_keyed_by_id_in_input_order_with_system_first_and_turns_as_given(server):
    dialogue = [{"role": "user", "content": "I lost my job."}, {"role": "assistant", "content": "I'm sorry. What happened?"},
                {"role": "user", "content": "They closed the office. #d1#"}]
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                {"role": "user", "content": "my cat died #m1#"}]
    items = [{"id": "z9", "prompt": "I failed my exam. #z9#"}, {"id": 7, "dialogue": dialogue},
             {"id": "m1", "messages": messages}, {"id": "a0", "prompt": "我养了十年的猫昨天走了。#a0#"}]
    res = generate(items, model="m", base_url=server.base_url, system=SYSTEM, progress=False, concurrency=4)
    assert isinstance(res, GenerateResult)
    assert [r["id"] for r in res.records()] == ["z9", "7", "m1", "a0"]
    assert all(r["status"] == "ok" and r["finish_reason"] == "stop" for r in res.records())
    assert res.preds["7"] == "I hear you (4 messages): They closed the office. #d1#"
    assert res.preds["a0"] == "I hear you (2 messages): 我养了十年的猫昨天走了。#a0#"
    bodies = {e.user.split("#")[-2]: e.body for e in server.log}
    for key, turns in (("d1", dialogue), ("m1", messages)):
        assert bodies[key]["messages"] == [{"role": "system", "content": SYSTEM}, *turns]  # system first, turns as given
    assert bodies["z9"]["messages"] == [{"role": "system", "content": SYSTEM},
                                        {"role": "user", "content": "I failed my exam. #z9#"}]
    # text generation: no response_format, no logprobs; temperature and max_tokens as set
    assert all("response_format" not in b and "logprobs" not in b and b["max_tokens"] == 512 for b in bodies.values())
    rec = res.records()[0]
    assert set(rec) == {"id", "pred", "status", "finish_reason", "prompt_tokens", "completion_tokens"}
    assert (rec["prompt_tokens"], rec["completion_tokens"]) == (100, 10)
    sig = Signature(res.signature)
    assert sig["model"] == "m" and sig["temp"] == "0" and sig["max_tokens"] == "512" and sig["format"] == "text"
    assert sig["system"] == Generator(system=SYSTEM).system_hash() != Generator().system_hash() == "none"
    assert sig["task"].startswith("generate@") and sig["judgekit"]
    assert res.summary["n_ok"] == 4 and res.summary["tokens"]["prompt_this_run"] == 400


def test_plain_strings_seed_extra_body_and_input_errors(server):
    res = generate(["one #s0#", "two #s1#"], model="m", base_url=server.base_url, seed=3, temperature=0.7,
                   max_tokens=64, extra_params={"top_p": 0.9}, progress=False)
    assert list(res.preds) == ["0", "1"]
    body = server.log[0].body
    assert body["seed"] == 3 and body["temperature"] == 0.7 and body["max_tokens"] == 64 and body["top_p"] == 0.9
    sig = Signature(res.signature)
    assert sig["seed"] == "3" and sig["temp"] == "0.7" and "top_p" in sig["extra"]
    n = len(server.log)
    bad = [
        ([{"id": "a"}], "give exactly one of 'prompt'"),
        ([{"id": "a", "prompt": "x", "messages": [{"role": "user", "content": "y"}]}], "found 'prompt' and 'messages'"),
        ([{"id": "a", "dialogue": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}],
         "ends with an assistant turn"),
        ([{"id": "a", "dialogue": [{"role": "system", "content": "x"}]}], "has role 'system'"),
        ([{"id": "a", "messages": [{"role": "user"}]}], "messages[0] must be an object"),
        ([{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}], "id 'a' repeats"),
    ]
    for items, msg in bad:
        with pytest.raises(InputError, match=msg.replace("[", r"\[").replace("]", r"\]")):
            generate(items, model="m", base_url=server.base_url, progress=False)
    with pytest.raises(InputError, match="already start with a system message"):
        generate([{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}], model="m",
                 base_url=server.base_url, system="t", progress=False)
    assert len(server.log) == n  # nothing sent for bad input


def test_reasoning_stripped_raw_kept(server, tmp_path):
    server.reasoning = True
    res = generate(["How do I cope? #r0#"], model="m", base_url=server.base_url, progress=False)
    row = res.rows[0]
    assert row["status"] == "ok" and "<think>" not in row["pred"] and row["pred"].startswith("I hear you")
    assert row["raw"].startswith("<think>")
    out = tmp_path / "o.jsonl"
    res.to_jsonl(out)
    assert "<think>" not in out.read_text()
    res.to_jsonl(out, raw=True)
    assert _rows(out)[0]["raw"].startswith("<think>")
    # an unclosed reasoning block (cut by max_tokens) is a failure, never an empty pred
    server.reasoning = False
    server.add_rule("#r1#", "text", text="<think>Let me think about this for a long", finish_reason="length")
    res = generate(["cut #r1#"], model="m", base_url=server.base_url, progress=False)
    rec = res.records()[0]
    assert rec["status"] == "failed" and "pred" not in rec and "raise max_tokens" in rec["reason"]
    assert rec["finish_reason"] == "length"


def test_keys_are_their_own_space_and_replay_only_sends_nothing(server, tmp_path):
    cache = tmp_path / "c.sqlite"
    items = _prompts(4)
    first = generate(items, model="m", base_url=server.base_url, system=SYSTEM, cache=cache, progress=False)
    n = len(server.log)
    again = generate(items, model="m", base_url=server.base_url, system=SYSTEM, cache=cache, replay_only=True,
                     progress=False)
    assert len(server.log) == n and again.records() == first.records() and again.summary["requests_cached"] == 4
    # another system prompt is another request: replay-only names the missing ids
    with pytest.raises(ReplayMissError, match="4 item.s. are not in the cache: 'p0', 'p1', 'p2', 'p3'"):
        generate(items, model="m", base_url=server.base_url, system="Be brief.", cache=cache, replay_only=True,
                 progress=False)
    assert len(server.log) == n
    # the same messages asked by a judge never hit a generation key
    _, reqs = Generator(model="m", base_url=server.base_url).prepare(items)
    jkeys = {r.key for per in Judge(model="m", base_url=server.base_url).prepare(
        [{"id": it["id"], "context": it["prompt"], "response": "x"} for it in items])[3] for r in per}
    assert not jkeys & {r.key for r in reqs}
    db = sqlite3.connect(cache)
    assert {row[0] for row in db.execute("SELECT rubric FROM judgments")} == {"generate"}
    db.close()


def test_budget_stops_and_the_rest_is_not_run(server, tmp_path):
    inp = _write(tmp_path / "in.jsonl", _prompts(10))
    out = tmp_path / "o.jsonl"
    proc = _cli("generate", tmp_path / "in.jsonl", "--model", "m", "--base-url", server.base_url, "--no-cache",
                "--concurrency", "1", "--max-total-tokens", "330", "--output", out, "--no-progress", check=3)
    rows = _rows(out)
    assert [r["id"] for r in rows] == [it["id"] for it in inp]
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == 3 == len(server.log)  # 110 tokens a request: the 4th would pass 330
    assert all(r["status"] == "not_run" and "pred" not in r and r["reason"].startswith("not run: token budget")
               for r in rows[3:])
    assert "stopped: token budget reached (330 of 330 tokens): 3 of 10 items reached the model" in proc.stderr
    assert "3 ok, 0 failed, 7 not run;" in proc.stderr and "item(s) failed" not in proc.stderr


def test_failures_are_status_failed_and_exit_nonzero(server, tmp_path):
    _write(tmp_path / "in.jsonl", _prompts(4))
    server.add_rule("#p1#", "500")
    server.add_rule("#p2#", "refusal", text="I can't help with that.")
    out = tmp_path / "o.jsonl"
    proc = _cli("generate", tmp_path / "in.jsonl", "--model", "m", "--base-url", server.base_url, "--cache",
                tmp_path / "c.sqlite", "--max-retries", "1", "--output", out, "--no-progress", check=1)
    rows = _rows(out)
    assert [r["status"] for r in rows] == ["ok", "failed", "failed", "ok"]
    assert "pred" not in rows[1] and "HTTP 500" in rows[1]["reason"] and "gave up after 2 attempts" in rows[1]["reason"]
    assert "pred" not in rows[2] and rows[2]["reason"] == "refusal: I can't help with that."
    assert "generated 4 item(s): 2 ok, 2 failed" in proc.stderr and "2 item(s) failed" in proc.stderr
    assert "signature: task:generate@1|model:m|" in proc.stderr
    assert "sk-generate-test-key" not in proc.stderr + out.read_text()
    # a rerun asks again only for the request that failed (the refusal is the model's answer, cached)
    server.rules.clear()
    n = len(server.log)
    proc = _cli("generate", tmp_path / "in.jsonl", "--model", "m", "--base-url", server.base_url, "--cache",
                tmp_path / "c.sqlite", "--output", out, "--no-progress", check=1)
    assert len(server.log) == n + 1 and server.log[-1].user.endswith("#p1#")
    assert [r["status"] for r in _rows(out)] == ["ok", "ok", "failed", "ok"]


def test_cli_csv_prompt_field_system_file_and_evaluate_leaderboard_read_it(server, tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text('id,question,messages\nq1,I lost my job. #q1#,\nq2,"My dog, Max, is sick. #q2#",\n'
                   'q3,,"[{""role"": ""user"", ""content"": ""考试没考好。#q3#""}]"\n', encoding="utf-8")
    (tmp_path / "sys.txt").write_text(SYSTEM + "\n", encoding="utf-8")
    out = tmp_path / "gen.jsonl"
    proc = _cli("generate", inp, "--prompt-field", "question", "--system-file", tmp_path / "sys.txt", "--model", "m",
                "--base-url", server.base_url, "--cache", tmp_path / "c.sqlite", "--output", out,
                "--summary", tmp_path / "s.json", "--no-progress", check=0)
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["q1", "q2", "q3"] and rows[1]["pred"] == "I hear you (2 messages): My dog, Max, is sick. #q2#"
    assert all(e.body["messages"][0] == {"role": "system", "content": SYSTEM} for e in server.log)
    assert "generated 3 item(s): 3 ok, 0 failed" in proc.stderr
    assert json.loads((tmp_path / "s.json").read_text())["summary"]["n_ok"] == 3
    # the output is a predictions file: evaluate (pairs by row) and leaderboard (pairs by id)
    refs = tmp_path / "refs.jsonl"
    _write(refs, [{"id": "q3", "ref": "I hear you: 考试没考好。"}, {"id": "q1", "ref": "I hear you, losing a job is hard."},
                  {"id": "q2", "ref": "I hear you, I hope Max gets better."}])
    ordered = tmp_path / "refs_ordered.jsonl"
    _write(ordered, sorted(_rows(refs), key=lambda r: r["id"]))
    ev = _cli("evaluate", "--preds", out, "--refs", ordered, "--pred-field", "pred", "--lang", "en",
              "--metrics", "bleu,rouge", "--format", "json", check=0)
    assert json.loads(ev.stdout)
    lb = _cli("leaderboard", "--system", f"gen={out}", "--system", f"again={out}", "--refs", refs, "--lang", "en",
              "--tests", "none", "--n-bootstrap", "50", check=0)
    assert "gen" in lb.stdout and "again" in lb.stdout


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


def test_kill_9_then_resume_asks_only_for_the_rest(tmp_path):
    items = _write(tmp_path / "in.jsonl", _prompts(60))
    cache = tmp_path / "c.sqlite"
    out = tmp_path / "o.jsonl"
    with OpenAIServer(latency=0.05) as server:
        server.reply_text = OpenAIServer.echo
        args = [sys.executable, "-m", "judgekit", "generate", str(tmp_path / "in.jsonl"), "--model", "m",
                "--base-url", server.base_url, "--system", SYSTEM, "--cache", str(cache), "--concurrency", "4",
                "--output", str(out), "--no-progress"]
        proc = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(_cache_keys(cache)) < 20 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        finished = _cache_keys(cache)
        assert 20 <= len(finished) < 60, len(finished)
        assert not out.exists()

        rerun = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        ids, reqs = Generator(model="m", base_url=server.base_url, system=SYSTEM).prepare(items)
        done = {ids[i] for i, r in enumerate(reqs) if r.key in finished}
        assert len(done) == len(finished)
        for it in items:
            n = server.count(f"#{it['id']}#")
            assert n == 1 if it["id"] in done else n in (1, 2), (it["id"], n)  # in flight at the kill: at most twice
        rows = _rows(out)
        assert [r["id"] for r in rows] == [it["id"] for it in items] and all(r["status"] == "ok" for r in rows)
        assert f"{len(finished)} from cache, {60 - len(finished)} sent" in rerun.stderr


def test_batch_export_import_then_replay(server, tmp_path):
    _write(tmp_path / "in.jsonl", _prompts(5))
    cache = tmp_path / "c.sqlite"
    req_file = tmp_path / "requests.jsonl"
    common = ["--model", "m", "--base-url", server.base_url, "--system", SYSTEM, "--cache", cache]
    _cli("generate", tmp_path / "in.jsonl", *common, "--export-batch", req_file, check=0)
    lines = _rows(req_file)
    assert len(lines) == 5 and all(set(ln) == {"custom_id", "method", "url", "body"} for ln in lines)
    assert lines[0]["body"]["messages"][0] == {"role": "system", "content": SYSTEM}
    assert "response_format" not in lines[0]["body"] and not server.log
    results = []
    for i, ln in enumerate(lines):
        if i == 2:
            results.append({"custom_id": ln["custom_id"], "response": None, "error": {"message": "boom"}})
            continue
        req = urllib.request.Request(server.base_url + "/chat/completions", data=json.dumps(ln["body"]).encode(),
                                     headers={"Content-Type": "application/json"})
        body = json.loads(urllib.request.urlopen(req, timeout=10).read())
        results.append({"custom_id": ln["custom_id"], "response": {"status_code": 200, "body": body}, "error": None})
    _write(tmp_path / "results.jsonl", results)
    proc = _cli("generate", "--import-batch", tmp_path / "results.jsonl", "--cache", cache, check=1)
    assert "imported 4 result(s)" in proc.stderr
    n = len(server.log)
    proc = _cli("generate", tmp_path / "in.jsonl", *common, "--replay-only", "--output", tmp_path / "o.jsonl", check=2)
    assert "1 item(s) are not in the cache: 'p2'" in proc.stderr and len(server.log) == n
    _cli("generate", tmp_path / "in.jsonl", *common, "--output", tmp_path / "o.jsonl", check=0)
    assert len(server.log) == n + 1 and server.count("#p2#") == 1
    _cli("generate", tmp_path / "in.jsonl", *common, "--export-batch", req_file, check=0)
    assert req_file.read_text() == ""


def test_learned_dialect_reasoning_model(tmp_path):
    with OpenAIServer() as server:
        server.reply_text = OpenAIServer.echo
        server.speak_like("openai-reasoning")
        with pytest.warns(UserWarning, match="refused"):
            res = generate(_prompts(3), model="o-mini", base_url=server.base_url, cache=tmp_path / "c.sqlite",
                           progress=False)
        assert all(r["status"] == "ok" for r in res.records())
        sent = [e.body for e in server.log if not e.action.startswith("refused")]
        assert all("max_completion_tokens" in b and "max_tokens" not in b and "temperature" not in b for b in sent)
        assert Signature(res.signature)["format"] == "text+max_completion_tokens+no-temperature"
        # kept for the server and model, for judges too: what a text request cannot learn stays as it was
        from judgekit.judge.cache import JudgeCache

        with JudgeCache(tmp_path / "c.sqlite") as db:
            assert db.get_dialect(server.base_url, "o-mini") == {"format": "json_schema", "logprobs": True,
                                                                 "temperature": False,
                                                                 "token_param": "max_completion_tokens"}
        n = len(server.log)
        generate(_prompts(4), model="o-mini", base_url=server.base_url, cache=tmp_path / "c.sqlite", progress=False)
        assert len(server.log) == n + 1  # learned: the new item goes in the right dialect at once


# -- the real engine --------------------------------------------------------------
@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    pytest.importorskip("gguf", reason="the real-engine test needs the gguf package (pip install -e '.[test]')")
    pytest.importorskip("llama_cpp.server.app",
                        reason="the real-engine test needs llama-cpp-python[server] (pip install -e '.[test]')")
    from tests._llama_server import LlamaServer, write_tiny_llama

    d = tmp_path_factory.mktemp("llama-gen")
    with LlamaServer(write_tiny_llama(d / "tiny.gguf"), log=d / "server.log") as s:
        yield s


def test_llama_cpp_generates_ten_responses(llama, tmp_path):
    items = [{"id": f"w{i}", "prompt": f"My friend moved away and I feel alone ({i})."} for i in range(8)]
    items.append({"id": "w8", "dialogue": [{"role": "user", "content": "我失业了。"},
                                           {"role": "assistant", "content": "听起来很难。"},
                                           {"role": "user", "content": "是的，很焦虑。"}]})
    items.append({"id": "w9", "messages": [{"role": "user", "content": "I got the job!"}]})
    _write(tmp_path / "in.jsonl", items)
    out = tmp_path / "o.jsonl"
    proc = _cli("generate", tmp_path / "in.jsonl", "--model", "tiny", "--base-url", llama.base_url, "--system",
                SYSTEM, "--max-tokens", "16", "--seed", "1", "--concurrency", "2", "--cache", tmp_path / "c.sqlite",
                "--output", out, "--no-progress", timeout=600, check=0)
    rows = _rows(out)
    assert [r["id"] for r in rows] == [it["id"] for it in items]
    assert all(r["status"] == "ok" and isinstance(r["pred"], str) and r["pred"] for r in rows), rows
    assert all(r["completion_tokens"] > 0 and r["prompt_tokens"] > 0 for r in rows)
    assert "generated 10 item(s): 10 ok, 0 failed" in proc.stderr
    # and again from the cache alone
    _cli("generate", tmp_path / "in.jsonl", "--model", "tiny", "--base-url", llama.base_url, "--system", SYSTEM,
         "--max-tokens", "16", "--seed", "1", "--cache", tmp_path / "c.sqlite", "--replay-only", "--output",
         tmp_path / "o2.jsonl", check=0)
    assert (tmp_path / "o2.jsonl").read_text() == out.read_text()
