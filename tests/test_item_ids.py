"""``evaluate_file``'s ids cost (almost) nothing per item (issue 18): record
numbers are a range, string ids a mapped file, and the repeat check keeps
64-bit hashes in bucket files instead of a set of every id.  They behave as
the list of ids they replace (ids, per_item's index, take / select / join,
to_jsonl), and a repeated id is an error naming it and its file lines."""
from __future__ import annotations

import collections
import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import judgekit
from judgekit import _ids
from judgekit._ids import IdWriter, RangeIds, RepeatedIds, SpilledIds
from judgekit.errors import InputError
from judgekit.scores import Scores

PAIRS = [("今天 很 开心", "今天 开心"), ("我 有点 难过", "难过"), ("", "x"), ("谢谢 你", "谢谢 你 呀")]


def _jsonl(path, ids):
    with open(path, "w", encoding="utf-8") as fh:
        for k, i in enumerate(ids):
            p, r = PAIRS[k % len(PAIRS)]
            rec = {"pred": p, "ref": r} if i is None else {"id": i, "pred": p, "ref": r}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return str(path)


def _written(ids, chunk, tmp_path):
    w = IdWriter(str(tmp_path))
    for a in range(0, len(ids), chunk):
        w.add(ids[a:a + chunk])
    return w


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=60), st.integers(1, 9))
def test_written_ids_are_the_list_or_its_repeats(tmp_path_factory, ids, chunk):
    tmp = tmp_path_factory.mktemp("ids")
    w = _written(ids, chunk, tmp)
    seen, repeats = {}, []
    for pos, i in enumerate(ids):
        if i in seen:
            repeats.append((i, seen[i], pos))
        else:
            seen[i] = pos
    if repeats:
        with pytest.raises(RepeatedIds) as info:
            w.finish()
        assert info.value.count == len(repeats)
        assert info.value.repeats == repeats[:10]  # the first ones by position, with their first occurrence
    else:
        got = w.finish()
        assert isinstance(got, SpilledIds)
        assert got == ids and ids == got and list(got) == ids and len(got) == len(ids)
        assert [got[k] for k in range(-len(ids), len(ids))] == ids + ids
        assert got[1:-1] == ids[1:-1] and got[::2] == ids[::2]
        assert pickle.loads(pickle.dumps(got)) == ids
    assert os.listdir(tmp) == []  # the files are unlinked (the mapping keeps them while needed)


def test_a_hash_collision_is_not_a_repeat(tmp_path, monkeypatch):
    """Every id hashing alike: only ids that are equal as strings repeat."""
    monkeypatch.setattr(_ids, "_hash", lambda s: 7)
    ids = [f"id{k}" for k in range(300)]
    assert _written(ids, 64, tmp_path).finish() == ids
    with pytest.raises(RepeatedIds) as info:
        _written(ids + ["id5", "id299"], 64, tmp_path).finish()
    assert info.value.repeats == [("id5", 5, 300), ("id299", 299, 301)]


def test_record_numbers_stay_a_range(tmp_path):
    w = _written(list(range(20_000)), 5_000, tmp_path)
    got = w.finish()
    assert isinstance(got, RangeIds) and got == [str(k) for k in range(20_000)]
    assert os.listdir(tmp_path) == []
    # numbers that are not the positions are kept as strings
    w = IdWriter(str(tmp_path))
    w.add([0, 1, 2])
    w.add([7, "x"])
    assert w.finish() == ["0", "1", "2", "7", "x"]


def test_file_ids_behave_as_the_list_they_replace(tmp_path):
    ids = [f"s{k}" for k in range(50)]
    got = judgekit.evaluate_file(_jsonl(tmp_path / "p.jsonl", ids), lang="zh", chunk_size=7)
    assert isinstance(got._ids, SpilledIds)
    listed = Scores(ids, {k: np.asarray(got.column(k)) for k in got.column_names})
    assert got.ids == ids and got.n_items == 50
    assert got.per_item.index.equals(pd.Index(ids, name="id"))
    assert got.to_frame().index.equals(listed.to_frame().index)
    assert got.take([3, 1]).ids == ["s3", "s1"]
    assert got.select(["s9", "s0"]).ids == ["s9", "s0"]
    with pytest.raises(InputError, match="'nope'"):
        got.select(["nope"])
    other = Scores.from_columns({"x": np.arange(50.0)}, ids=ids[::-1])
    joined = got.join(other)
    assert joined.ids == ids and list(joined.column("x")) == list(np.arange(50.0)[::-1])
    assert got.join(Scores.from_columns({"x": np.arange(50.0)}, ids=ids)).column("x").tolist() == list(range(50))
    assert [json.loads(line).get("id") for line in got.to_jsonl().splitlines()[1:]] == ids
    # a file without ids: numbered from 0, the index as before (integers named 'id')
    plain = judgekit.evaluate_file(_jsonl(tmp_path / "n.jsonl", [None] * 9), lang="zh", chunk_size=4)
    assert isinstance(plain._ids, RangeIds) and plain.ids == [str(k) for k in range(9)]
    assert plain.per_item.index.equals(pd.Index(list(range(9)), name="id"))
    assert plain.per_item.index.dtype == pd.Index(list(range(9))).dtype
    # evaluate() too: the same ids, the same default index
    e = judgekit.evaluate([p for p, _ in PAIRS], [r for _, r in PAIRS], lang="zh")
    assert e.ids == ["0", "1", "2", "3"] and e.per_item.index.equals(pd.RangeIndex(4))


def test_a_repeated_id_names_the_id_and_its_lines(tmp_path):
    path = _jsonl(tmp_path / "p.jsonl", ["a", "b", "c", "a", "d", "b"])
    with pytest.raises(InputError) as info:
        judgekit.evaluate_file(path, lang="zh", chunk_size=2)
    assert str(info.value) == (f"item ids repeat: 'a' at {path}:4 (first at {path}:1), "
                               f"'b' at {path}:6 (first at {path}:2)")
    # a CSV record spanning lines: its own line, not the record number
    csv = tmp_path / "p.csv"
    csv.write_text('id,pred,ref\nx,"one\ntwo",r\ny,p,r\nx,p,r\n', encoding="utf-8")
    with pytest.raises(InputError, match=f"'x' at {csv}:5 \\(first at {csv}:2\\)$"):
        judgekit.evaluate_file(str(csv), lang="zh")
    # many repeats: the first ten named, the rest counted
    ids = [f"k{k % 40}" for k in range(100)]
    with pytest.raises(InputError, match=r"'k9' at .*:50 \(first at .*:10\) and 50 more$"):
        judgekit.evaluate_file(_jsonl(tmp_path / "m.jsonl", ids), lang="zh", chunk_size=16)


def test_no_temporary_files_left(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    judgekit.evaluate_file(_jsonl(tmp_path / "p.jsonl", [f"i{k}" for k in range(30)]), lang="zh", chunk_size=8)
    with pytest.raises(InputError):
        judgekit.evaluate_file(_jsonl(tmp_path / "d.jsonl", ["a", "a"]), lang="zh")
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"id": "a", "pred": "x", "ref": "y"}\n{"id": "b", "pred": 3, "ref": "y"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="b.jsonl:2"):
        judgekit.evaluate_file(str(bad), lang="zh", chunk_size=1)
    left = collections.Counter(n.split("-")[1] for n in os.listdir(tmp_path) if n.startswith("judgekit-"))
    assert not left, left
