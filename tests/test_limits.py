"""Limits (issue 18, part 6): a total deadline per request and a reply size
limit on both transports (the lean one for plain http, httpx's for https and
proxies), and a budget guard that refuses what it cannot enforce and says
what was spent."""
from __future__ import annotations

import pytest

from judgekit.errors import InputError
from judgekit.judge import judge
from judgekit.judge._client import Budget
from tests._openai_server import OpenAIServer

FAST = dict(backoff_base=0.001, backoff_max=0.005, progress=False, max_retries=0)
TRANSPORTS = pytest.mark.parametrize("lean_http", [True, False], ids=["lean-transport", "httpx-transport"])


@pytest.fixture
def server():
    with OpenAIServer() as s:
        yield s


def _items(markers):
    return [{"id": m, "context": f"ctx #{m}#", "response": f"resp #{m}#"} for m in markers]


@TRANSPORTS
def test_a_trickling_server_is_cut_at_the_timeout(server, lean_http):
    # one byte every 0.3 s of a ~90-byte reply: each read is quick, the whole takes ~27 s;
    # the per-read timeouts of httpx never fire, the total deadline does
    server.add_rule("#slow#", "trickle", hang=0.3)
    res = judge(_items(["slow", "ok"]), model="m", base_url=server.base_url, timeout=1.5, lean_http=lean_http,
                **FAST)
    df = res.per_item.set_index("id")
    assert df.loc["ok", "status"] == "scored"
    assert df.loc["slow", "status"] == "unscored"
    assert "timed out after 1.5 s" in df.loc["slow", "reason"]


@TRANSPORTS
@pytest.mark.parametrize("action", ["flood", "raw_body"])
def test_an_oversized_reply_is_cut_off_unscored_and_not_cached(server, tmp_path, lean_http, action):
    size = 64 << 20
    if action == "flood":  # chunked, no length announced: only reading shows the size
        server.add_rule("#big#", "flood", size=size)
    else:  # a Content-Length over the limit
        server.add_rule("#big#", "raw_body", body=b"[" * (9 << 20))
    cache = tmp_path / "c.sqlite"
    res = judge(_items(["big", "ok"]), model="m", base_url=server.base_url, timeout=30, lean_http=lean_http,
                cache=cache, **FAST)
    df = res.per_item.set_index("id")
    assert df.loc["ok", "status"] == "scored"
    assert df.loc["big", "status"] == "unscored"
    assert "reply too large (over 8,388,608 bytes" in df.loc["big", "reason"]  # the default limit, 8 MiB
    again = judge(_items(["big", "ok"]), model="m", base_url=server.base_url, timeout=30, lean_http=lean_http,
                  cache=cache, **FAST)
    assert again.summary["requests_cached"] == 1  # the oversized reply was not cached: asked again
    if action == "flood":
        # the client hung up early: the server could not send the whole 64 MB
        sent = [e for e in server.log if "#big#" in e.user]
        assert sent and all(e.reply is not None and int(e.reply) < size for e in sent), [e.reply for e in sent]


@TRANSPORTS
def test_the_reply_size_limit_is_a_setting(server, lean_http):
    server.add_rule("#big#", "raw_body", body=b"[" * (2 << 20))
    small = judge(_items(["big"]), model="m", base_url=server.base_url, lean_http=lean_http,
                  max_reply_bytes=1 << 20, **FAST)
    assert "reply too large (over 1,048,576 bytes" in small.per_item["reason"].iloc[0]
    large = judge(_items(["big"]), model="m", base_url=server.base_url, lean_http=lean_http,
                  max_reply_bytes=4 << 20, **FAST)
    reason = large.per_item["reason"].iloc[0]
    assert "malformed reply" in reason and "too large" not in reason  # read whole, then found not JSON


def test_max_cost_without_prices_is_refused(server):
    with pytest.raises(InputError, match="max_cost needs the prices"):
        Budget(max_cost=1.0)
    with pytest.raises(InputError, match="max_cost needs the prices"):
        judge(_items(["a"]), model="m", base_url=server.base_url, max_cost=0.5, **FAST)
    assert not server.log
    Budget(max_cost=1.0, price_in=0.5)  # one price is enough


def test_a_budget_stop_says_what_was_spent_and_not_run_is_not_failed(server):
    # 110 tokens a request, 16 at once: the limit of 550 is passed by the requests under way
    server.latency = 0.2
    res = judge(_items([f"i{k}" for k in range(40)]), model="m", base_url=server.base_url, concurrency=8,
                max_total_tokens=550, **FAST)
    s = res.summary
    spent = s["tokens"]["prompt"] + s["tokens"]["completion"]
    assert spent > 550
    assert f"({spent} of 550 tokens)" in s["stopped"]
    not_run = int(res.per_item["reason"].fillna("").str.startswith("not run").sum())
    assert not_run > 0
    assert s["requests_not_run"] == not_run
    assert s["requests_failed"] == 0
