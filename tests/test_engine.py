"""The engine's execution paths give identical numbers: worker processes
(n_jobs), streaming from files in chunks, the CLI, gzipped input."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

import judgekit
from tests.conftest import require_data

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "smilechat-100.jsonl"
PRESETS = [None, "chatglm", "llamafactory", "glm4", "sacrebleu", "rouge-score"]


def smile(n):
    rows = []
    with gzip.open(require_data("smilechat-zh", "pairs.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if len(rows) >= n:
                break
    return rows


@pytest.mark.parametrize("preset", PRESETS)
def test_worker_processes_give_identical_results(preset):
    rows = smile(1500)
    preds, refs = [r["pred"] for r in rows], [r["ref"] for r in rows]
    a = judgekit.evaluate(preds, refs, preset=preset)
    b = judgekit.evaluate(preds, refs, preset=preset, n_jobs=2)
    assert a.scores == b.scores
    assert a.per_item.equals(b.per_item)
    assert str(a.signature) == str(b.signature)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("chunk,jobs", [(1, 1), (37, 1), (250, 2)])
def test_streaming_equals_in_memory(preset, chunk, jobs):
    rows = [json.loads(l) for l in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    whole = judgekit.evaluate([r["pred"] for r in rows], [r["ref"] for r in rows], preset=preset)
    streamed = judgekit.evaluate_file(str(EXAMPLE), preset=preset, chunk_size=chunk, n_jobs=jobs)
    assert streamed.scores == whole.scores
    assert list(streamed.per_item.index) == [r["id"] for r in rows]
    assert (streamed.per_item.reset_index(drop=True) == whole.per_item.reset_index(drop=True)).all().all()


def test_two_file_forms_and_gzip(tmp_path):
    rows = [json.loads(l) for l in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    (tmp_path / "p.txt").write_text("\n".join(r["pred"] for r in rows) + "\n", encoding="utf-8")
    with gzip.open(tmp_path / "r.jsonl.gz", "wt", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"text": r["ref"]}, ensure_ascii=False) + "\n")
    import csv

    with open(tmp_path / "r.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        for r in rows:
            w.writerow([r["ref"]])
    whole = judgekit.evaluate([r["pred"] for r in rows], [r["ref"] for r in rows])
    a = judgekit.evaluate_file(preds=str(tmp_path / "p.txt"), refs=str(tmp_path / "r.jsonl.gz"), ref_field="text")
    b = judgekit.evaluate_file(preds=str(tmp_path / "p.txt"), refs=str(tmp_path / "r.csv"), ref_field="text")
    assert a.scores == whole.scores == b.scores


def test_segmentation_of_repeated_texts_is_shared():
    # one reference shared by many systems' items: equal texts tokenized once
    from judgekit.text.tokenize import make_tokenizer

    tok = make_tokenizer("jieba")
    a, b = tok.tokenize_many(["我很难过。", "我很难过。"])
    assert a is b


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "judgekit", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_json_chatglm_keys_on_pipeline_scale():
    out = run_cli("evaluate", str(EXAMPLE), "--preset", "chatglm", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data["scores"]) == {"rouge-1", "rouge-2", "rouge-l", "bleu-4"}
    assert all(1 < v < 100 for v in data["scores"].values())
    assert data["signature"].startswith("judgekit:") and "preset:chatglm" in data["signature"]


def test_cli_on_all_smilechat_pairs_prints_bleu_rouge_and_signature():
    path = require_data("smilechat-zh", "pairs.jsonl.gz")
    out = run_cli("evaluate", str(path), "--jobs", "2")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "20000 items"
    names = {l.split()[0] for l in lines[1:-1]}
    assert {"bleu-1", "bleu-2", "bleu-3", "bleu-4", "rouge-1", "rouge-2", "rouge-l"} <= names
    assert lines[-1].startswith("signature: judgekit:")


def test_cli_per_item_file(tmp_path):
    out = run_cli("evaluate", str(EXAMPLE), "--per-item", str(tmp_path / "items.csv"), "--metrics", "rouge")
    assert out.returncode == 0, out.stderr
    import pandas as pd

    frame = pd.read_csv(tmp_path / "items.csv")
    assert len(frame) == 100 and "rouge-l" in frame.columns and "empty_pred" in frame.columns


@pytest.mark.parametrize("preset", PRESETS)
def test_rescore_of_a_resample_equals_scoring_the_resample(preset):
    import random

    rows = [json.loads(l) for l in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    preds, refs = [r["pred"] for r in rows], [r["ref"] for r in rows]
    res = judgekit.evaluate(preds, refs, preset=preset)
    rng = random.Random(7)
    idx = [rng.randrange(len(rows)) for _ in rows]
    direct = judgekit.evaluate([preds[i] for i in idx], [refs[i] for i in idx], preset=preset).scores
    again = res.rescore(idx)
    assert again and all(again[k] == direct[k] for k in again)
    assert set(direct) - set(again) <= {"distinct-1", "distinct-2"}
