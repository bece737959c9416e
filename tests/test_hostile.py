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
