"""Inputs validated before anything is scored (issue 18, items 2 and 5)."""
from __future__ import annotations

import collections

import pytest

from judgekit import evaluate
from judgekit.errors import InputError

pd = pytest.importorskip("pandas")

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "birds sing at dawn", "rain falls on the roof"]


@pytest.mark.parametrize("make", [set, frozenset, lambda t: dict.fromkeys(t), lambda t: collections.Counter(t),
                                  lambda t: {k: k for k in t}.keys(), lambda t: pd.DataFrame({"x": t})])
@pytest.mark.parametrize("side", ["preds", "refs"])
def test_unordered_or_keyed_containers_are_refused(make, side):
    bad = make(TEXTS)
    args = (bad, TEXTS) if side == "preds" else (TEXTS, bad)
    with pytest.raises(InputError, match=rf"{side} is .*(no order|keyed).*list"):
        evaluate(*args, metrics=["bleu"])


def test_two_series_are_aligned_by_label():
    preds = pd.Series(TEXTS, index=["a", "b", "c", "d"])
    refs = pd.Series(TEXTS[::-1], index=["d", "c", "b", "a"])
    r = evaluate(preds, refs, metrics=["bleu"])
    assert r.scores["bleu-4"] == pytest.approx(100.0)
    assert list(r.per_item.index) == ["a", "b", "c", "d"]
    same = evaluate(TEXTS, TEXTS, metrics=["bleu"])
    assert r.scores == same.scores


def test_two_series_with_different_labels_are_refused():
    preds = pd.Series(TEXTS, index=["a", "b", "c", "d"])
    refs = pd.Series(TEXTS, index=["a", "b", "c", "e"])
    with pytest.raises(InputError, match=r"labels.*'d'.*'e'"):
        evaluate(preds, refs, metrics=["bleu"])


def test_a_series_with_a_list_stays_positional():
    preds = pd.Series(TEXTS, index=[3, 2, 1, 0])
    r = evaluate(preds, TEXTS, metrics=["bleu"])
    assert r.scores["bleu-4"] == pytest.approx(100.0)
    assert list(r.per_item.index) == [3, 2, 1, 0]
    r = evaluate(TEXTS, pd.Series(TEXTS, index=[3, 2, 1, 0]), metrics=["bleu"])
    assert r.scores["bleu-4"] == pytest.approx(100.0)


# -- item 5: clear errors with exit 2, naming the file, line or option ------------
import gzip  # noqa: E402
import json  # noqa: E402

from judgekit.cli import main  # noqa: E402

DEAD = "http://127.0.0.1:9/v1"  # nothing listens: an input error must come before any request
BIG = "1" * 5000


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, err


def _judge(path, *extra):
    return ("judge", path, "--rubric", "empathy-3pt", "--model", "m", "--base-url", DEAD, "--no-cache",
            "--output", path.parent / "out.jsonl", *extra)


def test_per_item_into_a_missing_folder_fails_before_scoring(capsys, tmp_path, monkeypatch):
    import judgekit as api

    pairs = tmp_path / "p.jsonl"
    pairs.write_text(json.dumps({"pred": "a b c", "ref": "a b c"}) + "\n", encoding="utf-8")
    called = []
    real = api.evaluate_file
    monkeypatch.setattr(api, "evaluate_file", lambda *a, **k: called.append(1) or real(*a, **k))
    target = tmp_path / "no" / "such" / "per.csv"
    code, err = _run(capsys, "evaluate", pairs, "--per-item", target)
    assert code == 2, err
    assert str(tmp_path / "no" / "such") in err and "Traceback" not in err
    assert not called


@pytest.mark.parametrize("kind", ["dir", "utf8", "surrogate", "bigint", "nested"])
def test_judge_input_problems_name_the_line(capsys, tmp_path, kind):
    good = json.dumps({"id": "a", "context": "c", "response": "r"})
    path = tmp_path / "in.jsonl"
    if kind == "dir":
        path.mkdir()
    elif kind == "utf8":
        path.write_bytes(good.encode() + b"\n" + b'{"id": "b", "context": "\xff", "response": "r"}\n')
    elif kind == "surrogate":
        path.write_text(good + "\n" + '{"id": "b", "context": "\\ud800", "response": "r"}\n', encoding="utf-8")
    elif kind == "bigint":
        path.write_text(good + "\n" + '{"id": "b", "context": "c", "response": "r", "n": ' + BIG + "}\n",
                        encoding="utf-8")
    else:
        path.write_text(good + "\n" + "[" * 200_000 + "\n", encoding="utf-8")
    code, err = _run(capsys, *_judge(path))
    assert code == 2, err
    assert "Traceback" not in err
    assert (f"{path}" in err) if kind == "dir" else (f"{path}:2" in err), err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-0.5"])
@pytest.mark.parametrize("command", ["judge", "generate", "pairwise"])
def test_temperature_must_be_a_finite_non_negative_number(capsys, tmp_path, command, value):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "a", "context": "c", "response": "r"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main([command, str(path), "--model", "m", "--base-url", DEAD, f"--temperature={value}"])
    assert info.value.code == 2
    assert "argument --temperature" in capsys.readouterr().err


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_judge_and_generator_refuse_a_bad_temperature(value):
    from judgekit.judge import Judge
    from judgekit.judge.generation import Generator

    with pytest.raises(InputError, match="temperature"):
        Judge(model="m", base_url=DEAD, temperature=value).prepare([{"id": "a", "context": "c", "response": "r"}])
    with pytest.raises(InputError, match="temperature"):
        Generator(model="m", base_url=DEAD, temperature=value)._validate()


@pytest.mark.parametrize("content", [b"item,framework\n\xff,x\n", b""])
@pytest.mark.parametrize("command", ["agreement", "study"])
def test_agreement_table_and_study_name_the_file(capsys, tmp_path, command, content):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    argv = ("agreement", "--table", path) if command == "agreement" else ("study", path)
    code, err = _run(capsys, *argv)
    assert code == 2, err
    assert str(path) in err and "Traceback" not in err


@pytest.mark.parametrize("content", [b"not gzip at all\n", gzip.compress(b'{"pred": "a", "ref": "a"}\n' * 50)[:30]])
def test_a_bad_gz_names_the_file(capsys, tmp_path, content):
    path = tmp_path / "p.jsonl.gz"
    path.write_bytes(content)
    code, err = _run(capsys, "evaluate", path)
    assert code == 2, err
    assert str(path) in err and "Traceback" not in err
    code, err = _run(capsys, *_judge(path))
    assert code == 2, err
    assert str(path) in err and "Traceback" not in err


def test_a_5000_digit_integer_in_a_judge_reply_is_unscored_with_a_reason(tmp_path):
    from judgekit.judge import judge
    from tests._openai_server import OpenAIServer
    from tests.test_hostile import FAST, _body, _strict_json

    shapes = {
        "json": _body('{"empathy": ' + BIG + "}"),
        "text": _body("Empathy: " + BIG),
        "usage": _body('{"empathy": 2}').replace('"prompt_tokens": 10', '"prompt_tokens": ' + BIG),
        "ok": _body('{"empathy": 2}'),
    }
    items = [{"id": m, "context": f"ctx #{m}#", "response": f"resp #{m}#"} for m in shapes]
    with OpenAIServer() as server:
        for marker, body in shapes.items():
            server.add_rule(f"#{marker}#", "raw_body", body=body)
        res = judge(items, model="m", base_url=server.base_url, cache=tmp_path / "c.sqlite", **FAST)
        again = judge(items, model="m", base_url=server.base_url, cache=tmp_path / "c.sqlite", replay_only=False,
                      **FAST)
    for r in (res, again):
        df = r.per_item.set_index("id")
        assert df.loc["ok", "status"] == "scored"
        for m in ("json", "text"):
            assert df.loc[m, "status"] == "unscored" and df.loc[m, "reason"], (m, df.loc[m, "reason"])
        assert df.loc["usage", "status"] in ("scored", "unscored")
        if df.loc["usage", "status"] == "unscored":
            assert df.loc["usage", "reason"]
        _strict_json(r.to_json())


@pytest.mark.parametrize("option", ["--output", "--summary"])
@pytest.mark.parametrize("command", ["judge", "generate", "pairwise"])
def test_an_output_into_a_missing_folder_fails_before_any_request(capsys, tmp_path, command, option):
    items = tmp_path / "in.jsonl"
    items.write_text(json.dumps({"id": "a", "context": "c", "response": "r", "prompt": "p", "pred": "x"}) + "\n",
                     encoding="utf-8")
    missing = tmp_path / "no" / "such"
    out = {"--output": tmp_path / "o.jsonl", "--summary": tmp_path / "s.json"}
    out[option] = missing / "f.json"
    argv = [command] + ([items] if command != "pairwise" else
                        ["--baseline", items, "--system", items, "--contexts", items])
    argv += ["--model", "m", "--base-url", DEAD, "--no-cache", "--max-retries", "0"]
    for k, v in out.items():
        argv += [k, v]
    code, err = _run(capsys, *argv)
    assert code == 2, err
    assert option in err and str(missing) in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["agreement", "study"])
def test_a_json_report_into_a_missing_folder_fails_first(capsys, tmp_path, command):
    missing = tmp_path / "no"
    path = tmp_path / "t.csv"
    path.write_text("item,framework\na,x\n", encoding="utf-8")
    argv = ("agreement", "--table", path) if command == "agreement" else ("study", path)
    code, err = _run(capsys, *argv, "--json", missing / "r.json")
    assert code == 2, err
    assert "--json" in err and str(missing) in err


CHINESE_P = ["我理解你现在的感受，失恋确实很痛苦，你愿意和我多说说吗？", "考试没考好，爸妈很失望，我该怎么办？"] * 2
CHINESE_R = ["听起来你现在很难过，失恋的痛苦是真实的，可以和我聊聊发生了什么吗？", "你已经很努力了，我们一起想想办法。"] * 2


@pytest.mark.parametrize("options, why", [({"lang": "en"}, "lang='en'"),
                                          ({"tokenizer": "13a"}, "tokenizer='13a'"),
                                          ({"preset": "rouge-score", "tokenizer": "default"}, "tokenizer='default'"),
                                          ({"preset": "sacrebleu", "tokenizer": "13a"}, "tokenizer='13a'")])
def test_chinese_scored_with_an_english_tokenizer_is_warned_and_strict_refuses(options, why):
    """The trap the README says judgekit prevents: settings that score
    Chinese near 0 say so (issue 15), and strict=True refuses them."""
    import judgekit

    r = judgekit.evaluate(CHINESE_P, CHINESE_R, **options)
    assert any(why in w and "does not segment Chinese" in w for w in r.warnings), r.warnings
    with pytest.raises(judgekit.InputError, match="strict: the texts are Chinese"):
        judgekit.evaluate(CHINESE_P, CHINESE_R, strict=True, **options)
    # the default (auto) and English text under lang='en' are left alone
    assert not any("segment Chinese" in w for w in judgekit.evaluate(CHINESE_P, CHINESE_R).warnings)
    assert not any("segment Chinese" in w for w in judgekit.evaluate(["I hear you.", "That is hard."],
                                                                      ["I see.", "So hard."], lang="en").warnings)


def test_space_separated_chinese_is_warned():
    """Chinese decoded by a BERT-style tokenizer (a space between every
    character) changes chatglm BLEU-4 severalfold: warned (issue 15)."""
    import judgekit

    spaced = [" ".join(t) for t in CHINESE_P]
    warned = judgekit.evaluate(spaced, CHINESE_R, preset="chatglm").warnings
    assert any("space-separated" in w and "''.join(text.split())" in w for w in warned), warned
    assert not any("space-separated" in w for w in judgekit.evaluate(CHINESE_P, CHINESE_R, preset="chatglm").warnings)
