"""The judge against a real HTTP server on loopback, through the real openai
client: every scripted fault ends in a score or an explicit unscored row."""
from __future__ import annotations

import asyncio
import json
import math

import pytest

from judgekit.errors import InputError
from judgekit.judge import Judge, ReplayMissError, judge
from judgekit.judge._client import Budget, Engine, EngineConfig, JudgeAbort, Request, _Window, retry_after_seconds
from tests._openai_server import OpenAIServer, scores_for

FAST = dict(backoff_base=0.01, backoff_max=0.05, timeout=2.0, progress=False)


@pytest.fixture
def server():
    with OpenAIServer() as s:
        yield s


def _items(n, prefix="item"):
    return [{"id": f"{prefix}{i}", "context": f"我的猫走丢了，我很难过。#{prefix}{i}#", "response": f"听到这个消息我很难过，你们在一起多久了？#{prefix}{i}#"}
            for i in range(n)]


def _answer(server, marker):
    """What the server answered (its last ok reply) for the item with this marker."""
    hits = [e for e in server.log if marker in e.user and e.reply is not None]
    return json.loads(hits[-1].reply)


def test_happy_path_scores_match_the_server(server, tmp_path):
    items = _items(12)
    res = judge(items, model="m", base_url=server.base_url, cache=tmp_path / "c.sqlite", **FAST)
    df = res.per_item
    assert list(df["id"]) == [it["id"] for it in items]
    assert (df["status"] == "scored").all()
    for it, value in zip(items, df["empathy"]):
        assert value == _answer(server, f"#{it['id']}#")["empathy"]
    assert res.summary["n_scored"] == 12 and res.summary["requests_sent"] == 12
    assert res.summary["tokens"]["prompt"] == 12 * 100 and res.summary["tokens"]["completion"] == 12 * 10
    assert res.summary["means"]["empathy"] == pytest.approx(df["empathy"].mean())
    assert "rubric:empathy-3pt@2+" in res.signature and "host:127.0.0.1" in res.signature
    # every request carried the JSON schema and temperature 0
    body = server.log[0].body
    assert body["response_format"]["type"] == "json_schema" and body["temperature"] == 0
    json.loads(res.to_json())


@pytest.mark.parametrize("lean_http", [True, False], ids=["lean-transport", "httpx-transport"])
@pytest.mark.parametrize("action, extra", [
    ("429", {"retry_after": "0.05"}),
    ("500", {}),
    ("503", {"retry_after": "0"}),
    ("drop", {}),
    ("bad_body", {}),
    ("hang", {"hang": 1.5}),
])
def test_transient_faults_are_retried_to_a_score(server, tmp_path, action, extra, lean_http):
    items = _items(6)
    server.add_rule("#item2#", action, times=2, **extra)
    timeout = 0.5 if action == "hang" else 2.0
    res = judge(items, model="m", base_url=server.base_url, cache=tmp_path / "c.sqlite", lean_http=lean_http,
                **{**FAST, "timeout": timeout})
    df = res.per_item.set_index("id")
    assert (df["status"] == "scored").all(), df[["status", "reason"]]
    assert server.count("#item2#") == 3  # two faults, then the answer
    assert df.loc["item2", "empathy"] == _answer(server, "#item2#")["empathy"]
    assert res.summary["retries"] == 2


@pytest.mark.parametrize("action", ["500", "drop", "hang"])
def test_persistent_fault_is_unscored_not_cached_and_retried_next_run(server, tmp_path, action):
    items = _items(4)
    server.add_rule("#item1#", action, times=3, hang=1.0)
    cache = tmp_path / "c.sqlite"
    res = judge(items, model="m", base_url=server.base_url, cache=cache, max_retries=2, **{**FAST, "timeout": 0.4})
    row = res.per_item.set_index("id").loc["item1"]
    assert row["status"] == "unscored" and math.isnan(row["empathy"])
    assert "gave up after 3 attempts" in row["reason"]
    assert res.summary["n_scored"] == 3 and res.summary["requests_failed"] == 1
    assert res.summary["means_over"].startswith("3 scored")
    # the failure was not cached: the next run asks again (and gets an answer)
    res2 = judge(items, model="m", base_url=server.base_url, cache=cache, **FAST)
    assert (res2.per_item["status"] == "scored").all()
    assert res2.summary["requests_cached"] == 3 and res2.summary["requests_sent"] == 1
    assert server.count("#item1#") == 4


@pytest.mark.parametrize("text, why", [
    ('{"empathy": ', "unparseable"),
    ('{"empathy": 5}', "off the scale"),
    ("I'm sorry, but I can't help with rating this conversation.", "refusal"),
    ("<html>502 Bad Gateway</html>", "unparseable"),
])
def test_bad_reply_text_is_unscored_with_raw_kept(server, tmp_path, text, why):
    server.add_rule("#item0#", "text", text=text)
    res = judge(_items(3), model="m", base_url=server.base_url, cache=tmp_path / "c.sqlite", **FAST)
    row = res.per_item.set_index("id").loc["item0"]
    assert row["status"] == "unscored" and why in row["reason"] and row["raw"] == text
    assert math.isnan(row["empathy"])
    assert res.summary["n_unscored"] == 1 and res.summary["n_scored"] == 2


def test_structured_refusal_and_truncation(server, tmp_path):
    server.add_rule("#item0#", "refusal", text="I can't assist with that.")
    server.add_rule("#item1#", "text", text='{"empathy": 1', finish_reason="length")
    res = judge(_items(3), model="m", base_url=server.base_url, cache=tmp_path / "c.sqlite", **FAST)
    df = res.per_item.set_index("id")
    assert df.loc["item0", "reason"] == "refusal: I can't assist with that."
    assert "truncated" in df.loc["item1", "reason"]
    assert df.loc["item2", "status"] == "scored"


def test_text_mode_for_servers_without_json_schema(server, tmp_path):
    # a score on the rubric's 1..3 scale whatever the prompt's language (the loopback's own pick is 0..2)
    server.reply_text = lambda body: f"评分：{scores_for(body)['score'] + 1}"
    res = judge(_items(5), model="m", base_url=server.base_url, structured=False, cache=tmp_path / "c.sqlite", **FAST)
    assert "response_format" not in server.log[0].body
    assert (res.per_item["status"] == "scored").all()
    for it, v in zip(_items(5), res.per_item["empathy"]):
        entry = next(e for e in server.log if f"#{it['id']}#" in e.user)
        assert v == scores_for(entry.body)["score"] + 1
    assert "format:text" in res.signature


@pytest.mark.parametrize("chunked, close", [(True, False), (False, True), (True, True)])
def test_lean_transport_chunked_and_connection_close(server, chunked, close):
    server.chunked, server.close_after = chunked, close
    lean = judge(_items(8), model="m", base_url=server.base_url, concurrency=3, **FAST)
    plain = judge(_items(8), model="m", base_url=server.base_url, concurrency=3, lean_http=False, **FAST)
    assert (lean.per_item["status"] == "scored").all()
    assert lean.per_item["empathy"].tolist() == plain.per_item["empathy"].tolist()
    assert lean.summary["tokens"] == plain.summary["tokens"]


def test_auth_failure_aborts_without_leaking_the_key(server, tmp_path, monkeypatch):
    server.api_key = "sk-right-key"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-123456")
    cache = tmp_path / "c.sqlite"
    with pytest.raises(JudgeAbort) as info:
        judge(_items(3), model="m", base_url=server.base_url, cache=cache, **FAST)
    assert "sk-test-SECRET" not in str(info.value) and "401" in str(info.value)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-right-key")
    res = judge(_items(3), model="m", base_url=server.base_url, cache=cache, **FAST)
    assert (res.per_item["status"] == "scored").all()
    raw = (tmp_path / "c.sqlite").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("c.sqlite-*"))
    assert b"sk-right-key" not in raw and b"SECRET" not in raw
    assert "sk-right-key" not in res.to_json() and "sk-right-key" not in res.signature


def test_replay_only_with_the_network_off(tmp_path, monkeypatch):
    import socket

    cache = tmp_path / "c.sqlite"
    items = _items(5)
    with OpenAIServer() as s:
        url = s.base_url
        first = judge(items, model="m", base_url=url, cache=cache, **FAST)

    # the server is gone, and any attempt to open a connection fails loudly
    def no_network(*args, **kwargs):
        raise AssertionError("replay-only opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    again = judge(items, model="m", base_url=url, cache=cache, replay_only=True, **FAST)
    assert again.per_item[["id", "status", "empathy"]].equals(first.per_item[["id", "status", "empathy"]])
    assert again.summary["requests_cached"] == 5 and again.summary["requests_sent"] == 0
    assert again.per_item["cached"].all()
    with pytest.raises(ReplayMissError) as info:
        judge(items + _items(2, prefix="new"), model="m", base_url=url, cache=cache, replay_only=True, **FAST)
    assert info.value.missing_ids == ["new0", "new1"] and "'new0'" in str(info.value)
    # a different model, rubric text or sampling setting is a different key
    with pytest.raises(ReplayMissError):
        judge(items, model="m2", base_url=url, cache=cache, replay_only=True, **FAST)
    with pytest.raises(ReplayMissError):
        judge(items, model="m", base_url=url, cache=cache, replay_only=True, temperature=0.5, **FAST)


def test_samples_aggregate_and_spread(server, tmp_path):
    server.add_rule("#item0#", "ok", times=1, scores={"empathy": 1})
    server.add_rule("#item0#", "ok", times=1, scores={"empathy": 3})
    server.add_rule("#item0#", "ok", times=1, scores={"empathy": 3})
    server.add_rule("#item1#", "text", times=1, text="no idea")
    server.add_rule("#item1#", "ok", scores={"empathy": 1})
    common = dict(model="m", base_url=server.base_url, samples=3, temperature=0.7, concurrency=1, **FAST)
    res = judge(_items(2), cache=tmp_path / "c.sqlite", **common)
    df = res.per_item.set_index("id")
    assert df.loc["item0", "empathy"] == pytest.approx(7 / 3)
    assert df.loc["item0", "empathy_sd"] == pytest.approx(math.sqrt(8 / 9))
    assert df.loc["item1", "empathy"] == 1 and df.loc["item1", "samples_scored"] == 2
    assert "2 of 3 samples scored" in df.loc["item1", "reason"]
    maj = judge(_items(2), cache=tmp_path / "c.sqlite", aggregate="majority", **common)
    assert maj.per_item.set_index("id").loc["item0", "empathy"] == 3
    assert maj.summary["requests_sent"] == 0  # same samples, answered from the cache
    med = judge(_items(2), cache=tmp_path / "c.sqlite", aggregate="median", **common)
    assert med.per_item.set_index("id").loc["item0", "empathy"] == 3


def test_majority_tie_is_unscored(server, tmp_path):
    server.add_rule("#item0#", "ok", times=1, scores={"empathy": 1})
    server.add_rule("#item0#", "ok", times=1, scores={"empathy": 3})
    res = judge(_items(1), model="m", base_url=server.base_url, samples=2, aggregate="majority", concurrency=1, **FAST)
    row = res.per_item.iloc[0]
    assert row["status"] == "unscored" and "no majority" in row["reason"] and math.isnan(row["empathy"])


def test_logprobs_expected_score(server, tmp_path):
    res = judge(_items(3), model="m", base_url=server.base_url, logprobs=True, top_logprobs=3, **FAST)
    for _, row in res.per_item.iterrows():
        v = int(row["empathy"])
        # server alternatives: v (.7), v+1 (.2), v-1 (.1); renormalised over on-scale values
        cands = {v: 0.7}
        if v + 1 <= 3:
            cands[v + 1] = 0.2
        if v >= 2:
            cands[v - 1] = cands.get(v - 1, 0) + 0.1
        expected = sum(k * w for k, w in cands.items()) / sum(cands.values())
        assert row["empathy_expected"] == pytest.approx(expected, rel=1e-12)


def test_budget_guard_stops_cleanly(server, tmp_path):
    items = _items(20)
    res = judge(items, model="m", base_url=server.base_url, concurrency=1, max_total_tokens=5 * 110,
                price_per_million_input=1.0, price_per_million_output=4.0, **FAST)
    s = res.summary
    assert s["n_scored"] == 5 and s["n_unscored"] == 15
    assert "token budget reached" in s["stopped"] and "5 of 20 items" in s["stopped"]
    assert res.per_item["reason"].iloc[-1].startswith("not run: token budget reached")
    assert s["cost"] == pytest.approx((5 * 100 * 1.0 + 5 * 10 * 4.0) / 1e6, rel=1e-12)
    assert len(server.log) == 5


def test_missing_field_and_bad_items():
    with pytest.raises(InputError, match=r"item 1 \(id 'b'\): missing required field 'response'"):
        judge([{"id": "a", "context": "c", "response": "r"}, {"id": "b", "context": "c"}], model="m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(InputError, match="duplicate id 'a'"):
        judge([{"id": "a", "context": "c", "response": "r"}] * 2, model="m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(InputError, match="model is required"):
        judge([{"context": "c", "response": "r"}])


def test_dataframe_input_and_score_pairs(server, tmp_path):
    import pandas as pd

    df = pd.DataFrame({"context": ["我很累", "考试没过"], "response": ["辛苦了", "别灰心"], "emotion": [None, "sad"]})
    res = judge(df, model="m", base_url=server.base_url, **FAST)
    assert list(res.per_item["id"]) == ["0", "1"]
    users = {("我很累" in e.user): e.user for e in server.log}
    assert "BEGIN emotion" not in users[True]  # NaN in a DataFrame is an absent optional field
    assert "<<<BEGIN emotion" in users[False] and "\nsad\n" in users[False]
    df = df.drop(columns="emotion")
    j = Judge(rubric="empathy-3pt", model="m", base_url=server.base_url, **FAST)
    res2 = j.score_pairs(["辛苦了", "别灰心"], refs=["x", "y"], contexts=["我很累", "考试没过"])
    assert res2.per_item["empathy"].tolist() == res.per_item["empathy"].tolist()
    soul = Judge(rubric="soulchat-cehs", model="m", base_url=server.base_url, **FAST)
    r3 = soul.score_pairs(["听起来很辛苦。"], contexts=[["我最近总失眠。"]])
    assert r3.per_item["status"].tolist() == ["scored"]
    assert "用户：我最近总失眠。" in server.log[-1].user


def test_works_inside_a_running_event_loop(server):
    async def notebook_cell():
        return judge(_items(2), model="m", base_url=server.base_url, **FAST)

    res = asyncio.run(notebook_cell())
    assert (res.per_item["status"] == "scored").all()


def test_engine_honours_retry_after(server):
    server.add_rule("#x#", "429", times=1, retry_after="7")
    server.add_rule("#y#", "503", times=1)
    slept: list[float] = []

    async def fake_sleep(s):
        slept.append(s)

    results = {}
    cfg = EngineConfig(base_url=server.base_url, model="m", api_key="k", concurrency=2, backoff_base=1.0, backoff_max=4.0, timeout=2)
    engine = Engine(cfg, lambda req, res: results.__setitem__(req.key, res), sleep=fake_sleep)
    msgs = lambda t: [{"role": "user", "content": t}]  # noqa: E731
    reqs = [Request("a", 0, 0, msgs("#x#"), {}, 10), Request("b", 1, 0, msgs("#y#"), {}, 10)]
    asyncio.run(engine.run(reqs))
    assert set(results) == {"a", "b"}
    assert 7.0 in slept  # Retry-After: 7 was used as is
    other = [s for s in slept if s != 7.0]
    assert len(other) == 1 and 0 <= other[0] <= 1.0  # first backoff: full jitter in [0, base]


def test_retry_after_parsing():
    assert retry_after_seconds({"retry-after": "3"}) == 3
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None


def test_rate_window_limits_per_minute():
    now = [0.0]
    sleeps: list[float] = []

    async def go():
        w = _Window(3, clock=lambda: now[0])
        import judgekit.judge._client as client_mod

        real_sleep = asyncio.sleep

        async def fake(s):
            sleeps.append(s)
            now[0] += s
            await real_sleep(0)

        orig = client_mod.asyncio.sleep
        client_mod.asyncio.sleep = fake
        try:
            for _ in range(7):
                await w.acquire(1)
        finally:
            client_mod.asyncio.sleep = orig

    asyncio.run(go())
    # 3 at t=0, 3 at t=60, 1 at t=120
    assert now[0] == pytest.approx(120.0)


def test_budget_cost():
    b = Budget(max_cost=0.001, price_in=2.0, price_out=8.0)
    b.add({"prompt_tokens": 400, "completion_tokens": 20})
    assert b.cost() == pytest.approx((400 * 2 + 20 * 8) / 1e6)
    assert b.exhausted() is None
    b.add({"prompt_tokens": 1000, "completion_tokens": 0})
    assert "cost budget reached" in b.exhausted()
