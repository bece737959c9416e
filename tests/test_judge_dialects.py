"""Judges speak each server's dialect and fail fast and loud.

The loopback server refuses what real servers refuse, with their status
codes and words (llama-cpp-python's HTTP 500 validation error for
``json_schema``, DeepSeek's JSON-mode-only API, OpenAI reasoning models'
``max_tokens`` and ``temperature`` refusals), and can prefix replies with
``<think>`` reasoning.  The same behaviour on a real llama.cpp engine is in
``tests/test_judge_llama.py``."""
from __future__ import annotations

import json
import socket
import time
import warnings

import pytest

from judgekit.errors import JudgeAbort, ReplayMissError
from judgekit.judge import Judge
from judgekit.judge.cache import JudgeCache
from judgekit.judge.dialect import Dialect, strip_reasoning
from tests._openai_server import OpenAIServer
from tests.test_judge_cli import _cli, _write_items


def _items(n, tag="x"):
    return [{"id": f"{tag}{i}", "context": f"我失业了。#{tag}{i}#", "response": f"能说说发生了什么吗？#{tag}{i}#"}
            for i in range(n)]


def _judge(srv, cache, **kw):
    return Judge(rubric="empathy-3pt", model="m", base_url=srv.base_url, cache=str(cache), progress=False, **kw)


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dialect-test")


@pytest.mark.parametrize("name, fmt", [("llama-cpp-python", "json_object+schema"),
                                       ("deepseek", "json_object+schema")])
def test_structured_output_form_is_learned_once_and_remembered(tmp_path, name, fmt):
    cache = tmp_path / "c.sqlite"
    with OpenAIServer() as server:
        server.speak_like(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = _judge(server, cache, concurrency=8).run(_items(20))
        assert res.summary["n_scored"] == 20
        refused = [e for e in server.log if e.action.startswith("refused")]
        assert len(refused) == 1  # learned on the first request, before the others were sent
        assert all(e.body["response_format"]["type"] == "json_object" and e.body["response_format"]["schema"]
                   for e in server.log if not e.action.startswith("refused"))
        assert res.signature["format"] == fmt and res.summary["dialect"]["format"] == fmt
        assert any("json_schema refused" in n for n in res.summary["notes"])
        with JudgeCache(cache) as db:
            assert db.get_dialect(server.base_url, "m")["format"] == fmt
        # a later run on new items starts in the learned dialect: no refusal at all
        before = len(server.log)
        res2 = _judge(server, cache).run(_items(5, "y"))
        assert res2.summary["n_scored"] == 5 and res2.signature["format"] == fmt
        assert not [e for e in server.log[before:] if e.action.startswith("refused")]
    # the cache key is the logical request: a replay with no dialect knowledge finds every reply
    again = Judge(rubric="empathy-3pt", model="m", base_url=server.base_url, cache=str(cache), replay_only=True,
                  progress=False).run(_items(20))
    assert again.summary["n_scored"] == 20 and again.summary["requests_sent"] == 0


def test_reasoning_models_get_max_completion_tokens_and_no_temperature(tmp_path):
    with OpenAIServer() as server:
        server.speak_like("openai-reasoning")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = _judge(server, tmp_path / "c.sqlite").run(_items(6))
        assert res.summary["n_scored"] == 6
        assert res.signature["format"] == "json_schema+max_completion_tokens+no-temperature"
        sent = [e.body for e in server.log if not e.action.startswith("refused")]
        assert all("max_tokens" not in b and b["max_completion_tokens"] == 256 and "temperature" not in b for b in sent)
        assert len([e for e in server.log if e.action.startswith("refused")]) == 2
    # or said from the start
    with OpenAIServer() as server:
        server.speak_like("openai-reasoning")
        res = _judge(server, tmp_path / "d.sqlite",
                     dialect={"token_param": "max_completion_tokens", "temperature": False}).run(_items(3))
        assert res.summary["n_scored"] == 3 and not [e for e in server.log if e.action.startswith("refused")]


def test_reasoning_text_is_stripped_before_parsing_and_kept_in_raw(tmp_path):
    with OpenAIServer() as server:
        server.reasoning = True
        res = _judge(server, tmp_path / "c.sqlite").run(_items(4))
    assert res.summary["n_scored"] == 4
    assert all(r.startswith("<think>") for r in res.per_item["raw"])
    assert strip_reasoning("<think>3? 1.</think>\n{\"empathy\": 2}") == '{"empathy": 2}'
    assert strip_reasoning("<think>still thinking, score 3") == ""  # cut off before any answer: nothing to read


def test_missing_logprobs_are_reported_not_invented(tmp_path):
    with OpenAIServer() as server:
        server.speak_like("no-logprobs")
        with pytest.warns(UserWarning, match="logprobs"):
            res = _judge(server, tmp_path / "c.sqlite", logprobs=True).run(_items(3))
    assert res.summary["n_scored"] == 3
    assert res.per_item["empathy_expected"].isna().all()
    assert res.summary["dialect"]["logprobs"] is False and "no-logprobs" in res.signature["format"]


def test_the_same_refusal_twice_stops_the_run_with_one_message(tmp_path):
    with OpenAIServer() as server:
        server.speak_like("bad-request")
        with pytest.raises(JudgeAbort, match=r"refused the first two requests the same way.*expects a prompt"):
            _judge(server, tmp_path / "c.sqlite").run(_items(30))
        assert len(server.log) == 2  # not 30 items x 7 attempts


def test_a_validation_error_is_not_retried(tmp_path):
    with OpenAIServer() as server:
        server.add_rule("#x3#", "text")  # a normal item among them
        server.refusals.append((lambda b: "#x5#" in b["messages"][-1]["content"], 500,
                                "1 validation error for CreateChatCompletionRequest\nmessages.1.content\n  "
                                "Input should be a valid string"))
        res = _judge(server, tmp_path / "c.sqlite").run(_items(8))
    row = res.per_item.set_index("id").loc["x5"]
    assert row["status"] == "unscored" and "Input should be" in row["reason"]
    assert server.count("#x5#") == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_that_is_down_fails_the_cli_fast_naming_the_url(tmp_path):
    inp = tmp_path / "in.jsonl"
    _write_items(inp, 20)
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    t0 = time.monotonic()
    proc = _cli("judge", inp, "--model", "m", "--base-url", url, "--cache", tmp_path / "c.sqlite",
                "--output", tmp_path / "out.jsonl")
    elapsed = time.monotonic() - t0
    assert proc.returncode == 2, proc.stderr
    assert f"cannot reach the judge server at {url}" in proc.stderr and "--base-url" in proc.stderr
    assert not (tmp_path / "out.jsonl").exists()
    print(f"down server: exit {proc.returncode} after {elapsed:.1f} s")  # the figure the closing note quotes


def test_no_item_scored_is_a_failed_run(tmp_path):
    inp = tmp_path / "in.jsonl"
    _write_items(inp, 3)
    with OpenAIServer() as server:
        server.add_rule("#it", "text", text="I'm sorry, I can't rate this.")
        proc = _cli("judge", inp, "--model", "m", "--base-url", server.base_url, "--cache", tmp_path / "c.sqlite",
                    "--output", tmp_path / "out.jsonl")
    assert proc.returncode == 1 and "no item was scored" in proc.stderr
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3  # the rows are still written


def test_server_identity_replays_whichever_way_the_url_is_given(tmp_path):
    cache = tmp_path / "c.sqlite"
    with OpenAIServer() as server:
        _judge(server, cache, server="team-judge").run(_items(4))
        url = server.base_url
    other = url.replace("127.0.0.1", "localhost")
    res = Judge(rubric="empathy-3pt", model="m", base_url=other, cache=str(cache), server="team-judge",
                replay_only=True, progress=False).run(_items(4))
    assert res.summary["n_scored"] == 4 and res.signature["host"] == "team-judge"
    with pytest.raises(ReplayMissError, match=r"server identity 'http://localhost:\d+/v1'.*rubric empathy-3pt"):
        Judge(rubric="empathy-3pt", model="m", base_url=other, cache=str(cache), replay_only=True,
              progress=False).run(_items(4))


def test_extra_body_and_format_flags_reach_the_server(tmp_path):
    inp = tmp_path / "in.jsonl"
    _write_items(inp, 2)
    with OpenAIServer() as server:
        _cli("judge", inp, "--model", "m", "--base-url", server.base_url, "--cache", tmp_path / "c.sqlite",
             "--output", tmp_path / "out.jsonl", "--format", "json_object",
             "--extra-body", '{"chat_template_kwargs": {"enable_thinking": false}}', check=0)
        bodies = [e.body for e in server.log]
    assert all(b["response_format"] == {"type": "json_object"} for b in bodies)
    assert all(b["chat_template_kwargs"] == {"enable_thinking": False} for b in bodies)
    bad = _cli("judge", inp, "--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--output", tmp_path / "o.jsonl",
               "--extra-body", "[1]")
    assert bad.returncode == 2 and "--extra-body: expected a JSON object" in bad.stderr


def test_dialect_steps_in_order():
    d = Dialect()
    logical = {"temperature": 0.0, "max_tokens": 9, "response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "strict": True, "schema": {"type": "object"}}}, "logprobs": True, "top_logprobs": 3}
    seen = []
    for _ in range(4):
        sent = d.copy()
        if d.learn("response_format: Input should be 'text' or 'json_object'", sent, logical) is None:
            break
        seen.append(d.wire(logical).get("response_format"))
    assert seen == [{"type": "json_object", "schema": {"type": "object"}}, {"type": "json_object"}, None]
    assert d.learn("unrelated failure", d.copy(), logical) is None
    stale = Dialect()
    assert d.learn("response_format refused", stale, logical) == ""  # another request already moved it


def test_replicas_share_the_work_and_a_dead_one_is_taken_out(tmp_path):
    cache = tmp_path / "c.sqlite"
    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    with OpenAIServer() as a, OpenAIServer() as b:
        res = Judge(rubric="empathy-3pt", model="m", base_url=[a.base_url, dead, b.base_url], cache=str(cache),
                    progress=False, concurrency=4).run(_items(30))
        assert res.summary["n_scored"] == 30
        assert len(a.log) >= 5 and len(b.log) >= 5 and len(a.log) + len(b.log) == 30
        assert res.signature["host"].count(",") == 2
        urls = [b.base_url, a.base_url, dead]
    # the key holds the replicas' identity, not who answered: any order replays
    again = Judge(rubric="empathy-3pt", model="m", base_url=urls, cache=str(cache), replay_only=True,
                  progress=False).run(_items(30))
    assert again.summary["n_scored"] == 30
    with pytest.raises(JudgeAbort, match="cannot reach the judge server at http"):
        Judge(rubric="empathy-3pt", model="m", base_url=[dead, dead.replace("/v1", "/v2")], progress=False,
              cache=None).run(_items(3))


def _run_batch(requests_path, results_path, base_url, fail_ids=()):
    """What OpenAI's Batch API and vLLM's run_batch do with a request file:
    POST each body, write {"id", "custom_id", "response": {"status_code",
    "request_id", "body"}, "error"} per line."""
    import urllib.request

    lines = []
    for n, line in enumerate(open(requests_path, encoding="utf-8")):
        req = json.loads(line)
        assert req["method"] == "POST" and req["url"] == "/v1/chat/completions"
        if req["custom_id"] in fail_ids:
            lines.append({"id": f"b{n}", "custom_id": req["custom_id"], "response": None,
                          "error": {"code": "server_error", "message": "scripted batch failure"}})
            continue
        http = urllib.request.Request(base_url + "/chat/completions", data=json.dumps(req["body"]).encode(),
                                      headers={"Content-Type": "application/json", "Authorization": "Bearer x"})
        with urllib.request.urlopen(http, timeout=60) as r:
            body = json.loads(r.read())
        lines.append({"id": f"b{n}", "custom_id": req["custom_id"],
                      "response": {"status_code": 200, "request_id": f"r{n}", "body": body}, "error": None})
    results_path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")


def test_batch_files_round_trip_through_a_batch_runner(tmp_path):
    from judgekit.judge import export_batch, import_batch

    cache = tmp_path / "c.sqlite"
    items = _items(6)
    with OpenAIServer() as server:
        settings = dict(rubric="empathy-3pt", model="m", base_url=server.base_url, server="batch-judge")
        report = export_batch(items, tmp_path / "req.jsonl", cache=str(cache), **settings)
        assert report == {"items": 6, "requests_written": 6, "already_cached": 0}
        first = json.loads((tmp_path / "req.jsonl").read_text().splitlines()[0])
        _run_batch(tmp_path / "req.jsonl", tmp_path / "res.jsonl", server.base_url, fail_ids={first["custom_id"]})
        assert len(server.log) == 5
    imported = import_batch(tmp_path / "res.jsonl", str(cache), requests_path=tmp_path / "req.jsonl")
    assert imported["imported"] == 5 and imported["failed"] == 1 and "scripted" in str(imported["failures"][0])
    with pytest.raises(ReplayMissError, match=r"1 item\(s\) are not in the cache: 'x0'"):
        Judge(**settings, cache=str(cache), replay_only=True, progress=False).run(items)
    res = Judge(**settings, cache=str(cache), replay_only=True, progress=False).run(items[1:])
    assert res.summary["n_scored"] == 5 and res.summary["requests_sent"] == 0
    # the export leaves out what is cached, and the bodies follow a forced dialect
    again = export_batch(items, tmp_path / "req2.jsonl", cache=str(cache), dialect={"format": "json_object"},
                         **settings)
    assert again == {"items": 6, "requests_written": 1, "already_cached": 5}
    body = json.loads((tmp_path / "req2.jsonl").read_text())["body"]
    assert body["response_format"] == {"type": "json_object"}


def test_a_server_that_ignores_the_schema_is_said_so(tmp_path):
    with OpenAIServer() as server:
        server.add_rule("#x", "text", text="empathy: 3")  # 200, but prose where JSON was asked for
        with pytest.warns(UserWarning, match="not a JSON object: it may ignore the schema"):
            res = _judge(server, tmp_path / "c.sqlite").run(_items(4))
    assert res.summary["n_scored"] == 4  # read by the tolerant parser, and said so
    assert any("4 scored replies are not a JSON object" in n for n in res.summary["notes"])
