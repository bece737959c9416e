"""Cache keys and the SQLite store."""
from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from judgekit.judge.cache import JudgeCache, request_key

BASE = dict(base_url="http://h/v1", model="m", messages=[{"role": "user", "content": "x"}],
            params={"temperature": 0, "max_tokens": 10}, sample=0, rubric_id="r", rubric_version="1",
            rubric_hash="abc", parser_version="1")


def test_every_component_changes_the_key():
    k0 = request_key(**BASE)
    variants = [
        {"base_url": "http://other/v1"}, {"model": "m2"}, {"messages": [{"role": "user", "content": "y"}]},
        {"params": {"temperature": 0.1, "max_tokens": 10}}, {"params": {"temperature": 0, "max_tokens": 11}},
        {"sample": 1}, {"rubric_id": "r2"}, {"rubric_version": "2"}, {"rubric_hash": "abd"}, {"parser_version": "2"},
    ]
    keys = {request_key(**{**BASE, **v}) for v in variants}
    assert k0 not in keys and len(keys) == len(variants)
    # trailing slash and dict order do not matter
    assert request_key(**{**BASE, "base_url": "http://h/v1/"}) == k0
    assert request_key(**{**BASE, "params": {"max_tokens": 10, "temperature": 0}}) == k0


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=30), max_size=5))
def test_put_get_round_trip(tmp_path_factory, reply):
    path = tmp_path_factory.mktemp("c") / "c.sqlite"
    with JudgeCache(path) as c:
        c.put("k", {"text": "t", "extra": reply})
        assert c.get_many(["k", "missing"]) == {"k": {"text": "t", "extra": reply}}


def test_wal_and_commit_per_result(tmp_path):
    path = tmp_path / "c.sqlite"
    c = JudgeCache(path)
    c.put("a", {"text": "1"})
    # another connection sees it at once: it was committed
    other = sqlite3.connect(path)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("SELECT COUNT(*) FROM judgments").fetchone()[0] == 1
    other.close()
    assert c.put_many([("b", {"text": "2"}, "m", "r"), ("c", {"text": "3"}, "m", "r")]) == 2
    assert len(c) == 3 and set(c.get_many(["a", "b", "c"])) == {"a", "b", "c"}
    keys = [f"k{i}" for i in range(1200)]
    c.put_many([(k, {"i": i}, "", "") for i, k in enumerate(keys)])
    got = c.get_many(keys)
    assert len(got) == 1200 and got["k1199"] == {"i": 1199}
    c.close()


def test_not_a_cache_file(tmp_path):
    import pytest

    from judgekit.errors import InputError

    p = tmp_path / "junk.sqlite"
    p.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="not a judgekit SQLite cache"):
        JudgeCache(p)
