"""``evaluate_file`` keeps its per-item values on disk (issue 18, part 6):
its peak memory no longer grows with the per-item columns (it did: 136 MB
at 20k pairs, 744 MB at 1M, 986 MB with ``--per-item``), and the numbers,
columns and per-item file are those of an in-memory run.

The memory check is a difference of peak RSS between two runs in fresh
processes (SmileChat pairs repeated to 70,000 and 280,000 items: both past
the 20,000 distinct pairs, so Distinct's n-gram sets are full in both), not
a timing.  Growth an item: 709 / 839 bytes (scores / --per-item) with the
per-item columns in memory; ~96 / 88 with them on disk but the ids in lists
and a set (~160 between 1M and 3M pairs); -2..5 with the ids on disk and
the repeat check in bucket files (judgekit/_ids.py)."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import judgekit
from tests.conftest import require_data

ROOT = Path(__file__).resolve().parent.parent


def _pairs(path: Path, n: int) -> Path:
    src = require_data("smilechat-zh", "pairs.jsonl.gz")
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            r = rows[i % len(rows)]
            out.write(json.dumps({"id": f"i{i}", "pred": r["pred"], "ref": r["ref"]}, ensure_ascii=False) + "\n")
    return path


PEAK = r"""
import resource, sys
from judgekit.cli import main
code = main(["evaluate", sys.argv[1], "--lang", "zh", "--format", "json"] + sys.argv[2:])
assert code == 0, code
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
"""


def _peak_kib(pairs: Path, *extra: str) -> int:
    out = subprocess.run([sys.executable, "-c", PEAK, str(pairs), *extra], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return int(out.strip().splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB (Linux)")
@pytest.mark.parametrize("per_item", [False, True], ids=["scores", "per-item"])
def test_peak_memory_does_not_grow_with_the_per_item_columns(tmp_path, per_item):
    small, large = _pairs(tmp_path / "s.jsonl", 70_000), _pairs(tmp_path / "l.jsonl", 280_000)
    extra = ["--per-item", str(tmp_path / "items.csv")] if per_item else []
    grown = (_peak_kib(large, *extra) - _peak_kib(small, *extra)) * 1024 / 210_000  # bytes an item
    assert grown < 30, f"peak memory grew by {grown:.0f} bytes an item"


def test_streamed_results_equal_the_in_memory_run(tmp_path):
    pairs = _pairs(tmp_path / "p.jsonl", 12_000)
    rows = [json.loads(line) for line in open(pairs, encoding="utf-8")]
    whole = judgekit.evaluate([r["pred"] for r in rows], [r["ref"] for r in rows], lang="zh")
    streamed = judgekit.evaluate_file(str(pairs), lang="zh", chunk_size=2_500, per_item_path=str(tmp_path / "i.csv"))
    assert streamed.scores == whole.scores
    assert streamed.column_names == whole.column_names
    for k in whole.column_names:
        assert np.array_equal(np.asarray(streamed.column(k)), np.asarray(whole.column(k))), k
    frame = whole.per_item.copy()
    frame.index = [r["id"] for r in rows]
    assert (tmp_path / "i.csv").read_text(encoding="utf-8") == frame.to_csv(index_label="id")
    # significance and resampling read the mapped values
    idx = np.arange(0, 12_000, 7)
    assert streamed.resample(idx) == whole.resample(idx)
    jl = tmp_path / "i.jsonl"
    judgekit.evaluate_file(str(pairs), lang="zh", per_item_path=str(jl))
    records = whole.per_item.copy()
    records.insert(0, "id", [str(r["id"]) for r in rows])  # each row carries its id
    assert jl.read_text(encoding="utf-8") == records.to_json(orient="records", lines=True,
                                                             force_ascii=False).rstrip("\n") + "\n"


@pytest.mark.parametrize("n", [1, 999, 1000, 1001, 4097, 12_345, 65_539])
def test_blockwise_reductions_equal_numpy_in_memory(tmp_path, monkeypatch, n):
    """An integer sum over the items and a float column's mean run a block
    at a time on mapped values (only a block resident); numpy's pairwise
    summation replayed, so they equal numpy on the array in memory bit for
    bit (a plain blockwise float sum would not)."""
    from judgekit.ngram import _spill

    monkeypatch.setattr(_spill, "_BLOCK", 1000)
    rng = np.random.default_rng(n)
    floats = rng.random(n) * 10.0 ** rng.uniform(-6, 6, n)
    ints = rng.integers(0, 2**40, size=(n, 4))
    mapped = {}
    for name, arr in (("f", floats), ("i", ints), ("j", ints[:, 1].copy())):
        arr.tofile(tmp_path / name)
        mapped[name] = _spill.Spilled(tmp_path / name, dtype=arr.dtype, mode="r", shape=arr.shape)
    got = np.mean(mapped["f"])
    assert float(got) == float(np.mean(floats))
    assert np.array_equal(mapped["i"].sum(axis=0), ints.sum(axis=0))
    assert mapped["i"].sum() == ints.sum() and mapped["j"].sum() == ints[:, 1].sum()
    lengths = rng.integers(0, 300, size=n)
    lengths.tofile(tmp_path / "n")
    got = np.mean(_spill.Spilled(tmp_path / "n", dtype=lengths.dtype, mode="r", shape=lengths.shape))
    assert float(got) == float(np.mean(lengths))
    # the whole evaluation with small blocks: scores equal the in-memory run
    if n == 12_345:
        pairs = _pairs(tmp_path / "p.jsonl", 3_001)
        rows = [json.loads(line) for line in open(pairs, encoding="utf-8")]
        whole = judgekit.evaluate([r["pred"] for r in rows], [r["ref"] for r in rows], lang="zh")
        assert judgekit.evaluate_file(str(pairs), lang="zh", chunk_size=700).scores == whole.scores
