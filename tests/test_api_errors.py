"""Bad input gets a clear error naming the item, file line or option."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

import judgekit
from judgekit.cli import main


@pytest.mark.parametrize("preds,refs,match", [
    (["a", "b"], ["a"], r"preds has 2 items but refs has 1"),
    (["a", None], ["a", "b"], r"preds\[1\] is None"),
    (["a", math.nan], ["a", "b"], r"preds\[1\] is NaN"),
    (["a", 3], ["a", "b"], r"preds\[1\] is int"),
    (["a", "b"], ["a", ["b", None]], r"refs\[1\]\[1\] is None"),
    (["a"], [[]], r"refs\[0\] is an empty list"),
    ("abc", ["a"], r"preds is a single string"),
    ([], [], r"no items to evaluate"),
])
def test_bad_items_are_named(preds, refs, match):
    with pytest.raises(judgekit.InputError, match=match):
        judgekit.evaluate(preds, refs)


@pytest.mark.parametrize("kwargs,match", [
    ({"preset": "bleurt"}, r"unknown preset 'bleurt'; choose one of chatglm"),
    ({"metrics": ["bleu-5"]}, r"unknown metric 'bleu-5'"),
    ({"tokenizer": "spm"}, r"unknown tokenizer 'spm'"),
    ({"smoothing": "method8"}, r"unknown BLEU smoothing 'method8'"),
    ({"lang": "fr"}, r"unknown lang 'fr'"),
    ({"scale": 10}, r"scale must be 1 or 100"),
    ({"preset": "sacrebleu", "tokenizer": "jieba"}, r"preset 'sacrebleu' takes tokenize"),
    ({"preset": "chatglm", "metrics": ["bleu-1"]}, r"unknown metric 'bleu-1'"),
])
def test_bad_options_are_named(kwargs, match):
    with pytest.raises(judgekit.InputError, match=match):
        judgekit.evaluate(["你好"], ["你好"], **kwargs)


def test_pandas_series_keep_their_index():
    preds = pd.Series(["我很好", "谢谢你"], index=["a7", "b9"])
    refs = pd.Series(["我也很好", "不客气"], index=["a7", "b9"])
    r = judgekit.evaluate(preds, refs)
    assert list(r.per_item.index) == ["a7", "b9"]
    assert json.loads(r.to_json())["n_items"] == 2


def test_empty_items_are_scored_and_flagged():
    r = judgekit.evaluate(["", "  ", "好的"], ["好的", "好的", "好的"])
    assert r.per_item["empty_pred"].tolist() == [True, True, False]
    assert r.per_item["rouge-1"].tolist()[:2] == [0.0, 0.0]
    assert any("empty prediction" in w for w in r.warnings)


# -- files --------------------------------------------------------------------
def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_empty_file(tmp_path, capsys):
    f = tmp_path / "p.jsonl"
    f.write_text("")
    code, _, err = run_cli(capsys, "evaluate", str(f))
    assert code == 2 and "the file is empty" in err


def test_cli_invalid_utf8_names_line(tmp_path, capsys):
    f = tmp_path / "preds.txt"
    f.write_bytes("你好\n".encode() + b"\xff\xfe bad\n")
    r = tmp_path / "refs.txt"
    r.write_text("你好\n再见\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "evaluate", "--preds", str(f), "--refs", str(r))
    assert code == 2 and "preds.txt:2: not valid UTF-8" in err


def test_cli_bad_json_and_missing_field_name_the_line(tmp_path, capsys):
    f = tmp_path / "p.jsonl"
    f.write_text('{"pred": "a", "ref": "b"}\n{"pred": "a"\n', encoding="utf-8")
    code, _, err = run_cli(capsys, "evaluate", str(f))
    assert code == 2 and "p.jsonl:2: invalid JSON" in err
    f.write_text('{"pred": "a", "ref": "b"}\n{"pred": "a", "answer": "b"}\n', encoding="utf-8")
    code, _, err = run_cli(capsys, "evaluate", str(f))
    assert code == 2 and "p.jsonl:2: no field 'ref'" in err
    f.write_text('{"pred": "a", "ref": "b"}\n{"pred": null, "ref": "b"}\n', encoding="utf-8")
    code, _, err = run_cli(capsys, "evaluate", str(f))
    assert code == 2 and "p.jsonl:2: field 'pred' is null" in err


def test_cli_mismatched_files(tmp_path, capsys):
    (tmp_path / "p.txt").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "r.txt").write_text("a\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "evaluate", "--preds", str(tmp_path / "p.txt"), "--refs", str(tmp_path / "r.txt"))
    assert code == 2 and "has 2 segments but" in err


def test_cli_unknown_preset(tmp_path, capsys):
    f = tmp_path / "p.jsonl"
    f.write_text('{"pred": "a", "ref": "b"}\n', encoding="utf-8")
    code, _, err = run_cli(capsys, "evaluate", str(f), "--preset", "nope")
    assert code == 2 and "unknown preset 'nope'" in err
