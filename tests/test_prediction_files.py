"""Other pipelines' prediction files read as they come: LLaMA-Factory's
``generated_predictions.jsonl`` (``prompt`` / ``predict`` / ``label``, no
id) in ``judgekit evaluate`` and ``judgekit leaderboard`` with no field or
id flags, built here from real SmileChat pairs."""
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import judgekit
from judgekit.cli import main
from judgekit.errors import InputError
from judgekit.io import iter_pairs

from .conftest import require_data

ROOT = Path(__file__).resolve().parents[1]
N = 60


@pytest.fixture(scope="module")
def pairs():
    with gzip.open(require_data("smilechat-zh", "pairs.jsonl.gz"), "rt", encoding="utf-8") as f:
        rows = [json.loads(next(f)) for _ in range(N)]
    return rows


def _llamafactory(path: Path, rows, preds) -> Path:
    """A generated_predictions.jsonl as LLaMA-Factory writes it: the prompt
    rendered by the chat template, the decoded prediction, the label."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r, p in zip(rows, preds):
            prompt = f"<|im_start|>user\n{r['context']}<|im_end|>\n<|im_start|>assistant\n"
            f.write(json.dumps({"prompt": prompt, "predict": p, "label": r["ref"]}, ensure_ascii=False) + "\n")
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_evaluate_reads_generated_predictions_without_flags(pairs, tmp_path, capsys):
    path = _llamafactory(tmp_path / "sft" / "generated_predictions.jsonl", pairs, [r["pred"] for r in pairs])
    code, out, err = _run(capsys, "evaluate", path, "--preset", "llamafactory", "--format", "json")
    assert code == 0, err
    expected = judgekit.evaluate([r["pred"] for r in pairs], [r["ref"] for r in pairs], preset="llamafactory")
    assert json.loads(out)["scores"] == expected.scores
    r = judgekit.evaluate_file(str(path), preset="llamafactory")
    assert r.scores == expected.scores and r.ids == [str(i) for i in range(N)]  # line numbers from 0
    # the flags still work, and say the same
    assert judgekit.evaluate_file(str(path), pred_field="predict", ref_field="label",
                                  preset="llamafactory").scores == expected.scores
    # --preds and --refs may each be such a file
    code, out2, _ = _run(capsys, "evaluate", "--preds", path, "--refs", path, "--preset", "llamafactory",
                         "--format", "json")
    assert code == 0 and json.loads(out2)["scores"] == expected.scores


def test_leaderboard_reads_generated_predictions_without_flags(pairs, tmp_path, capsys):
    sft = _llamafactory(tmp_path / "sft" / "generated_predictions.jsonl", pairs, [r["pred"] for r in pairs])
    short = _llamafactory(tmp_path / "short" / "generated_predictions.jsonl", pairs,
                          [r["pred"][: len(r["pred"]) // 2] for r in pairs])
    common = ["--baseline", "sft", "--n-bootstrap", 100, "--n-randomization", 100, "--preset", "llamafactory"]
    code, out, err = _run(capsys, "leaderboard", "--refs", sft, "--system", f"sft={sft}", "--system",
                          f"short={short}", *common)
    assert code == 0, err
    # the same as judgekit's own files: ids, pred, ref
    own = tmp_path / "own"
    own.mkdir()
    (own / "refs.jsonl").write_text("".join(json.dumps({"id": str(i), "ref": r["ref"]}, ensure_ascii=False) + "\n"
                                            for i, r in enumerate(pairs)), encoding="utf-8")
    for name, src in (("sft", sft), ("short", short)):
        rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines()]
        (own / f"{name}.jsonl").write_text("".join(json.dumps({"id": i, "pred": r["predict"]}, ensure_ascii=False)
                                                   + "\n" for i, r in enumerate(rows)), encoding="utf-8")
    code, own_out, err = _run(capsys, "leaderboard", "--refs", own / "refs.jsonl", "--system",
                              f"sft={own / 'sft.jsonl'}", "--system", f"short={own / 'short.jsonl'}", *common)
    assert code == 0, err
    assert out == own_out and "| **sft** (baseline) |" in out and "| short |" in out
    # a .txt refs file (line numbers) pairs with an id-less JSONL system
    (own / "refs.txt").write_text("".join(r["ref"] + "\n" for r in pairs), encoding="utf-8")
    code, txt_out, err = _run(capsys, "leaderboard", "--refs", own / "refs.txt", "--system", f"sft={sft}",
                              "--system", f"short={short}", *common)
    assert code == 0 and txt_out == out, err


def test_the_cli_as_a_user_runs_it(pairs, tmp_path):
    path = _llamafactory(tmp_path / "generated_predictions.jsonl", pairs[:10], [r["pred"] for r in pairs[:10]])
    proc = subprocess.run([sys.executable, "-m", "judgekit", "evaluate", str(path), "--preset", "llamafactory"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^bleu-4\s+\d", proc.stdout, re.M) and proc.stdout.startswith("10 items")


def _jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_field_names_recognised_only_when_unambiguous(tmp_path):
    chatglm = _jsonl(tmp_path / "chatglm.jsonl", [{"labels": "你好", "predict": "你好啊"}])
    assert list(iter_pairs(chatglm)) == [(0, "你好啊", "你好")]
    own_first = _jsonl(tmp_path / "both.jsonl", [{"pred": "a", "predict": "b", "ref": "c", "label": "d"}])
    assert list(iter_pairs(own_first)) == [(0, "a", "c")]  # judgekit's own names win
    two = _jsonl(tmp_path / "two.jsonl", [{"predict": "a", "prediction": "b", "label": "c"}])
    with pytest.raises(InputError, match=r"two.jsonl:1: 2 fields could hold the prediction: 'predict', "
                                         r"'prediction'; name one with pred_field=$"):
        list(iter_pairs(two))
    none = _jsonl(tmp_path / "none.jsonl", [{"output": "a", "label": "c"}])
    with pytest.raises(InputError, match=r"none.jsonl:1: no prediction field: none of 'pred', 'predict'.*"
                                         r"\(fields: output, label\)"):
        list(iter_pairs(none))
    assert list(iter_pairs(none, pred_field="output")) == [(0, "a", "c")]


def test_ids_from_the_first_record_or_none(tmp_path, capsys):
    keyed = _jsonl(tmp_path / "keyed.jsonl", [{"id": 7, "pred": "a", "ref": "b"}, {"id": "x", "pred": "c", "ref": "d"}])
    assert [i for i, _, _ in iter_pairs(keyed, id_field="id")] == ["7", "x"]
    half = _jsonl(tmp_path / "half.jsonl", [{"id": "a", "pred": "a", "ref": "b"}, {"pred": "c", "ref": "d"}])
    with pytest.raises(InputError, match=r"half.jsonl:2: no id field 'id', which the first record has"):
        list(iter_pairs(half, id_field="id"))
    late = _jsonl(tmp_path / "late.jsonl", [{"pred": "a", "ref": "b"}, {"id": "b", "pred": "c", "ref": "d"}])
    with pytest.raises(InputError, match=r"late.jsonl:2: an id field 'id', which the first record lacks"):
        list(iter_pairs(late, id_field="id"))
    # the leaderboard: an explicit --id-field must be there; line numbers otherwise
    refs = _jsonl(tmp_path / "refs.jsonl", [{"label": "你好"}, {"label": "再见"}])
    code, _, err = _run(capsys, "leaderboard", "--refs", refs, "--system", f"a={refs}", "--id-field", "key")
    assert code == 2 and "refs.jsonl:1: no id field 'key'" in err
    code, _, err = _run(capsys, "leaderboard", "--refs", refs, "--system", f"a={late}", "--tests", "none")
    assert code == 2 and "late.jsonl:2: an id field 'id', which the first record lacks" in err


def test_chatglm_generated_predictions_txt_is_read_as_json_lines(pairs, tmp_path, capsys):
    """ChatGLM's ptuning main.py writes JSON lines ({"labels", "predict"})
    to generated_predictions.txt; read as one segment per line, the
    leaderboard used to score the JSON text itself."""
    path = tmp_path / "generated_predictions.txt"
    path.write_text("".join(json.dumps({"labels": r["ref"], "predict": r["pred"]}, ensure_ascii=False) + "\n"
                            for r in pairs), encoding="utf-8")
    expected = judgekit.evaluate([r["pred"] for r in pairs], [r["ref"] for r in pairs], preset="chatglm")
    code, out, err = _run(capsys, "evaluate", path, "--preset", "chatglm", "--format", "json")
    assert code == 0 and json.loads(out)["scores"] == expected.scores, err
    llf = _llamafactory(tmp_path / "generated_predictions.jsonl", pairs, [r["pred"] for r in pairs])
    common = ["--n-bootstrap", 50, "--n-randomization", 50, "--preset", "chatglm"]
    code, from_txt, err = _run(capsys, "leaderboard", "--refs", path, "--system", f"a={path}", "--system",
                               f"b={llf}", *common)
    assert code == 0, err
    code, from_jsonl, err = _run(capsys, "leaderboard", "--refs", llf, "--system", f"a={llf}", "--system",
                                 f"b={llf}", *common)
    assert from_txt == from_jsonl
    assert f"| **a** (baseline) | {expected.scores['bleu-4']:.2f} |" in from_txt
    # a plain .txt stays one segment per line, even with braces in it
    plain = tmp_path / "plain.txt"
    plain.write_text("{不是 JSON}\n你好\n", encoding="utf-8")
    assert list(iter_pairs(preds=plain, refs=plain)) == [(0, "{不是 JSON}", "{不是 JSON}"), (1, "你好", "你好")]
