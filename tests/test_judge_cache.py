"""Cache keys and the SQLite store."""
from __future__ import annotations

import hashlib
import sqlite3

import pytest

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
@given(text=st.none() | st.text(max_size=50), refusal=st.none() | st.text(max_size=20),
       finish=st.sampled_from([None, "stop", "length"]), p=st.integers(0, 10**6), c=st.integers(0, 10**6),
       logprobs=st.none() | st.lists(st.fixed_dictionaries({"token": st.text(max_size=4), "logprob": st.floats(-50, 0)}), max_size=3))
def test_put_get_round_trip(tmp_path_factory, text, refusal, finish, p, c, logprobs):
    path = tmp_path_factory.mktemp("c") / "c.sqlite"
    reply = {"text": text, "refusal": refusal, "finish_reason": finish,
             "usage": {"prompt_tokens": p, "completion_tokens": c}, "logprobs": logprobs, "model": "m"}
    with JudgeCache(path) as db:
        db.put("k", reply)
        db.put_many([("k2", reply, "m", "r")])
        got = db.get_many(["k", "k2", "missing"])
    expected = {k: v for k, v in reply.items() if not (k in ("logprobs", "model") and v is None)}
    assert got == {"k": expected, "k2": expected}


def test_wal_and_commit_per_result(tmp_path):
    path = tmp_path / "c.sqlite"
    c = JudgeCache(path)
    c.put("a", {"text": "1"})
    assert c.get_many(["a"])["a"] == {"text": "1", "refusal": None, "finish_reason": None,
                                       "usage": {"prompt_tokens": 0, "completion_tokens": 0}}
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
    assert len(got) == 1200 and got["k1199"]["i"] == 1199
    c.close()


def test_not_a_cache_file(tmp_path):
    import pytest

    from judgekit.errors import InputError

    p = tmp_path / "junk.sqlite"
    p.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="not a judgekit SQLite cache"):
        JudgeCache(p)


def test_background_writer_commits_everything_and_surfaces_errors(tmp_path):
    import pytest

    c = JudgeCache(tmp_path / "c.sqlite")
    c.start_writer()
    for i in range(300):
        c.put_later(f"k{i}", {"text": str(i)})
    c.stop_writer()
    assert len(c) == 300 and c.get_many(["k299"])["k299"]["text"] == "299"
    c.start_writer()
    c._db.close()  # a write that fails must not vanish
    c.put_later("x", {"text": "y"})
    with pytest.raises(sqlite3.ProgrammingError):
        c.stop_writer()


def test_background_writer_skips_a_reply_it_cannot_store(tmp_path):
    """A reply SQLite cannot hold (an int over 64 bits, an object) is not cached; the others are."""
    c = JudgeCache(tmp_path / "c.sqlite")
    c.start_writer()
    c.put_later("big", {"text": "1", "usage": {"prompt_tokens": 10**30}})
    c.put_later("obj", {"text": "1", "refusal": {"why": 1}})
    c.put_later("ok", {"text": "2"})
    c.stop_writer()
    assert set(c.get_many(["big", "obj", "ok"])) == {"ok"}
    assert len(c.skipped) == 2
    c.close()


def _damage_a_data_page(path):
    """Overwrite the middle of a page in the middle of the file (the WAL checkpointed first)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page, count = db.execute("PRAGMA page_size").fetchone()[0], db.execute("PRAGMA page_count").fetchone()[0]
    db.close()
    with open(path, "r+b") as fh:
        fh.seek(page * (count // 2) + 100)
        fh.write(b"\xff" * 1500)


def test_a_damaged_cache_names_the_file_and_its_readable_rows_are_recovered(tmp_path):
    from judgekit.errors import InputError
    from judgekit.judge.cache import CacheDamaged, recover

    path = tmp_path / "c.sqlite"
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(2000)]
    with JudgeCache(path) as c:
        c.put_many([(k, {"text": "reply " * 40 + k, "usage": {"prompt_tokens": 1, "completion_tokens": 2}}, "m", "r")
                    for k in keys])
    _damage_a_data_page(path)
    with JudgeCache(path) as c:
        with pytest.raises(CacheDamaged) as info:
            c.get_many(keys)
    assert isinstance(info.value, InputError)  # the CLI exits 2 with the message
    msg = str(info.value)
    assert str(path) in msg and "damaged" in msg and "judgekit cache recover " in msg
    with JudgeCache(path) as c, pytest.raises(CacheDamaged, match="is damaged"):  # a write too
        c.put_many([(k, {"text": "again"}, "m", "r") for k in keys])
    # the way out the message gives: every readable row into a new file
    report = recover(path, tmp_path / "new.sqlite")
    with JudgeCache(tmp_path / "new.sqlite") as new:
        got = new.get_many(keys)
    assert report["copied"] == len(got)
    assert len(keys) * 0.9 < len(got) < len(keys)  # one damaged page loses a few rows, not the file
    assert all(got[k]["text"] == "reply " * 40 + k for k in got)


def test_cli_cache_recover_is_the_way_out_the_error_gives(tmp_path, capsys):
    """The command in CacheDamaged's message, run as written: 0 with the
    readable rows in the new file; 2 for a missing or non-cache DAMAGED and
    an existing NEW (nothing overwritten)."""
    import shlex

    from judgekit.cli import main
    from judgekit.judge import recover_cache
    from judgekit.judge.cache import CacheDamaged

    path = tmp_path / "my cache.sqlite"  # a space: the command quotes it
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(2000)]
    with JudgeCache(path) as c:
        c.put_many([(k, {"text": "reply " * 40 + k}, "m", "r") for k in keys])
    _damage_a_data_page(path)
    with JudgeCache(path) as c, pytest.raises(CacheDamaged) as info:
        c.get_many(keys)
    msg = str(info.value)
    command = msg[msg.index("judgekit cache recover"):msg.index(" (in Python")]
    argv = shlex.split(command)
    new = tmp_path / "my cache-recovered.sqlite"
    assert argv[1:] == ["cache", "recover", str(path), str(new)]
    assert main(argv[1:]) == 0
    out = capsys.readouterr().out
    with JudgeCache(new) as c:
        got = c.get_many(keys)
    assert len(keys) * 0.9 < len(got) < len(keys)
    assert all(got[k]["text"] == "reply " * 40 + k for k in got)
    assert out.startswith(f"copied {len(got)} replies into {new}; ") and "key range(s)" in out
    # NEW exists: refused, untouched
    before = new.read_bytes()
    assert main(["cache", "recover", str(path), str(new)]) == 2
    assert "exists already" in capsys.readouterr().err and new.read_bytes() == before
    # DAMAGED missing, or not a cache
    assert main(["cache", "recover", str(tmp_path / "nope.sqlite"), str(tmp_path / "a.sqlite")]) == 2
    assert "no such file" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("not a database " * 100)
    assert main(["cache", "recover", str(text), str(tmp_path / "b.sqlite")]) == 2
    assert "nothing can be recovered" in capsys.readouterr().err
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert main(["cache", "recover", str(other), str(tmp_path / "c.sqlite")]) == 2
    assert "holds no judgekit replies (tables: t)" in capsys.readouterr().err
    assert not any((tmp_path / n).exists() for n in ("a.sqlite", "b.sqlite", "c.sqlite"))
    # an intact cache recovers whole
    whole = tmp_path / "whole.sqlite"
    with JudgeCache(whole) as c:
        c.put_many([(k, {"text": k}, "m", "r") for k in keys[:50]])
    assert recover_cache(whole, tmp_path / "whole2.sqlite") == {"copied": 50, "lost_key_ranges": 0}
    assert main(["cache", "recover", str(whole), str(tmp_path / "whole3.sqlite")]) == 0
    assert capsys.readouterr().out.endswith("copied 50 replies into " + str(tmp_path / "whole3.sqlite")
                                            + "; nothing lost\n")
