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
import subprocess
import sys
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
