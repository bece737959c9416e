"""Issue 15: the defects a new user hit on first contact, one test each
(each failed before its fix)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import judgekit
from judgekit.cli import main
from judgekit.human import Calibrator

ROOT = Path(__file__).resolve().parents[1]
DATA = os.environ.get("JUDGEKIT_DATA_DIR")


# -- Calibrator.predict_levels returns a human level ---------------------------
def test_predict_levels_returns_a_human_level_not_a_fitted_mean():
    ids = list("abcdefgh")
    judge = pd.Series([1, 2, 2, 3, 3, 4, 5, 5], index=ids)
    human = pd.Series([1, 2, 3, 2, 3, 4, 4, 5], index=ids)
    cal = Calibrator("isotonic").fit(judge, human)
    assert list(cal.predict([2, 3])) == [2.5, 2.5]           # isotonic: the pooled mean
    levels = cal.predict_levels(pd.Series([1, 2, 3, 5], index=list("wxyz")))
    assert set(levels) <= {1.0, 2.0, 3.0, 4.0, 5.0}           # a level the humans use
    assert list(levels.index) == list("wxyz")
    assert list(Calibrator.from_json(cal.to_json()).predict_levels([2, 3])) == list(cal.predict_levels([2, 3]))


def test_predict_levels_with_a_scale_uses_its_integers():
    judge = [0.1, 0.4, 0.5, 0.9]
    human = [1.0, 1.5, 2.5, 3.0]                              # crowd means
    cal = Calibrator("isotonic", scale=(1, 3)).fit(judge, human)
    assert set(cal.predict_levels([0.1, 0.45, 0.9])) <= {1.0, 2.0, 3.0}


# -- the judge prompt in the items' language ------------------------------------
def _prompt_lang(items, **kw):
    _, lang, _, reqs = judgekit.Judge(model="m", base_url="http://127.0.0.1:9/v1", **kw).prepare(items)
    return lang, reqs[0][0].messages[0]["content"]


def test_chinese_items_get_the_chinese_prompt_without_a_flag():
    lang, system = _prompt_lang([{"context": "我养了十年的猫昨天走了。", "response": "十年的陪伴，真的很难过。"}])
    assert lang == "zh"
    assert sum("\u4e00" <= c <= "\u9fff" for c in system) > 20


def test_english_items_and_an_explicit_lang():
    assert _prompt_lang([{"context": "I failed my test.", "response": "That sounds hard."}])[0] == "en"
    assert _prompt_lang([{"context": "我很难过", "response": "抱抱你"}], lang="en")[0] == "en"
    # soulchat-cehs is Chinese first, but English dialogues get its English text
    lang, _ = _prompt_lang([{"dialogue": [{"role": "user", "content": "I feel lonely lately."},
                                          {"role": "assistant", "content": "I am sorry to hear that."}],
                             "response": "Would you like to talk about it?"}],
                           rubric="soulchat-cehs")
    assert lang == "en"


# -- the command line: broken pipes, CLI words, one-line warnings ---------------
needs_data = pytest.mark.skipif(not DATA or not Path(DATA, "epitome-reddit").is_dir(),
                                reason="needs the released EPITOME data under $JUDGEKIT_DATA_DIR")


def _cli(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "judgekit", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, **(env or {})})


def test_a_closed_pipe_ends_the_command_quietly():
    p = _cli("evaluate", "examples/smilechat-100.jsonl", "--preset", "chatglm", "--format", "json")
    p.stdout.close()                                  # as `| head` does once it has its lines
    err = p.stderr.read().decode()
    p.wait()
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert p.returncode == 141


def test_cli_errors_name_options_not_python_keywords(monkeypatch, capsys):
    monkeypatch.delenv("JUDGEKIT_DATA_DIR", raising=False)
    assert main(["agreement", "--dataset", "kumar2025"]) == 2
    err = capsys.readouterr().err
    assert "--data-dir" in err and "data_dir=" not in err, err


@needs_data
def test_cli_errors_name_options_for_table_choices(capsys):
    assert main(["agreement", "--dataset", "kumar2025", "--a", "gpt", "--b", "expert"]) == 2
    err = capsys.readouterr().err
    assert "choose one with --framework" in err and "framework=" not in err, err


@needs_data
def test_warnings_on_the_terminal_are_one_clean_line():
    p = _cli("agreement", "--dataset", "epitome")
    _, err = p.communicate()
    lines = err.decode().splitlines()
    warned = [line for line in lines if "data issue(s)" in line]
    assert warned and warned[0].startswith("judgekit agreement: warning: epitome: 180 data issue(s)"), lines
    assert not any("UserWarning" in line or line.startswith("  return ") or ".py:" in line for line in lines), lines


# -- reports: p-values one way, no empty cut-points line, '95%' in help --------
def test_study_prints_p_values_one_way():
    from judgekit.human import study

    text = str(study(ROOT / "tests" / "fixtures" / "human" / "welivita_synthetic.csv"))
    assert "p=0.010" in text and "p<.001" in text and "p=0.003" in text
    assert not any(tok in text for tok in (" p0.", " p1.", "p = ", "p <.001")), text


@pytest.mark.skipif(not DATA or not Path(DATA, "kumar2025-empathic-communication").is_dir(),
                    reason="needs the released Kumar et al. 2025 data under $JUDGEKIT_DATA_DIR")
def test_agreement_prints_a_tiny_p_as_below_001(capsys):
    assert main(["agreement", "--dataset", "kumar2025", "--a", "gpt", "--b", "expert", "--framework", "epitome",
                 "--dimension", "level_explorations"]) == 0
    out = capsys.readouterr().out
    assert "z 11.12, p<.001;" in out and "p 0.000" not in out


def test_calibrate_with_a_constant_map_says_so_instead_of_an_empty_line():
    from judgekit.human import calibrate

    judge = pd.Series([1, 2, 3] * 6, index=[f"i{k}" for k in range(18)])
    human = pd.Series([2, 2, 2, 2, 2, 2, 1, 2, 3] * 2, index=judge.index)   # median 2 at every judge score
    text = str(calibrate(judge, human, "thresholds", k=3, n_bootstrap=20))
    assert "cut points (judge score > cut -> level): \n" not in text + "\n"
    assert "cut points: none; every judge score maps to level 2" in text


@pytest.mark.parametrize("command", ["leaderboard", "pairwise"])
def test_help_says_95_percent_once(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "95%%" not in out and "95%" in out


# -- rubrics: export, YAML booleans, a plain-string prompt ---------------------
RUBRIC = """id: yesno
version: 1
languages: [en, zh]
description: a test
inputs:
  - {name: response}
dimensions:
  - name: helpful
    description: Is it helpful?
    scale:
      - {value: 0, label: No, anchor: not helpful}
      - {value: 1, label: Yes, anchor: helpful}
prompt: You rate replies.
"""


def test_an_unquoted_no_label_is_the_text_no(tmp_path):
    from judgekit.judge import load_rubric

    path = tmp_path / "yesno.yaml"
    path.write_text(RUBRIC, encoding="utf-8")
    r = load_rubric(str(path))
    assert [lv.label["en"] for lv in r.dimensions[0].scale] == ["No", "Yes"]


def test_a_plain_string_prompt_is_the_prompt_of_every_language(tmp_path):
    from judgekit.judge import load_rubric

    path = tmp_path / "plain.yaml"
    path.write_text(RUBRIC.replace("label: No", 'label: "No"').replace("label: Yes", 'label: "Yes"'), encoding="utf-8")
    assert load_rubric(str(path)).prompt == {"en": "You rate replies.", "zh": "You rate replies."}


def test_a_boolean_text_field_says_quote_it(tmp_path):
    from judgekit.errors import InputError
    from judgekit.judge import load_rubric

    path = tmp_path / "b.yaml"
    path.write_text(RUBRIC.replace("label: No", "label: false"), encoding="utf-8")
    with pytest.raises(InputError, match=r"dimensions\[0\]\.scale\[0\]\.label': must be text, got the YAML boolean "
                                         r"false: quote it"):
        load_rubric(str(path))


def test_rubrics_export_writes_the_builtin_yaml(tmp_path, capsys):
    from judgekit.judge import load_rubric
    from judgekit.judge.rubric import builtin_dir

    out = tmp_path / "mine.yaml"
    assert main(["rubrics", "export", "empathy-3pt", str(out)]) == 0
    shipped = (builtin_dir() / "empathy-3pt.yaml").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == shipped
    assert load_rubric(str(out)).dimensions == load_rubric("empathy-3pt").dimensions
    assert main(["rubrics", "export", "empathy-3pt", str(out)]) == 2          # kept, not overwritten
    capsys.readouterr()
    assert main(["rubrics", "export", "soulchat-cehs"]) == 0
    assert capsys.readouterr().out == (builtin_dir() / "soulchat-cehs.yaml").read_text(encoding="utf-8")


# -- evaluate: ids= for plain sequences; errors name a Series' labels ---------
PREDS = ["我理解你现在的感受。", "别难过了。", "你愿意多说说吗？"]
REFS = ["我能理解你现在的感受。", "听起来你很难过。", "可以和我聊聊吗？"]


def test_ids_for_plain_sequences_label_the_items_and_join_by_id():
    r = judgekit.evaluate(PREDS, REFS, ids=["a1", "a2", "a3"])
    assert r.ids == ["a1", "a2", "a3"] and list(r.per_item.index) == ["a1", "a2", "a3"]
    same = judgekit.evaluate(pd.Series(PREDS, index=["a1", "a2", "a3"]), REFS)
    assert r.scores == same.scores and r.ids == same.ids


@pytest.mark.parametrize("ids, message", [
    (["a1", "a2"], "ids has 2 items but preds has 3"),
    (["a1", "a2", "a1"], "ids[2] 'a1' repeats ids[0]"),
    (["a1", None, "a3"], "ids[1] is missing"),
    ("abc", "ids is a single string"),
])
def test_bad_ids_are_named(ids, message):
    with pytest.raises(judgekit.InputError, match=re.escape(message)):
        judgekit.evaluate(PREDS, REFS, ids=ids)


def test_ids_with_a_series_is_an_error():
    with pytest.raises(judgekit.InputError, match="ids= is for plain sequences"):
        judgekit.evaluate(pd.Series(PREDS), REFS, ids=["a", "b", "c"])


def test_an_error_names_the_series_label_of_a_bad_item():
    preds = pd.Series(["我很好", None, "你好"], index=["x1", "x2", "x3"])
    with pytest.raises(judgekit.InputError, match=re.escape("preds[1] (id 'x2') is NaN")):
        judgekit.evaluate(preds, REFS)
    with pytest.raises(judgekit.InputError, match=re.escape("refs[2] (id 'c') is int")):
        judgekit.evaluate(PREDS, ["a", "b", 3], ids=["a", "b", "c"])


# -- data: where it comes from, how it is laid out, a check of a folder -------
def test_skip_reason_says_when_the_data_folder_is_missing(monkeypatch, tmp_path):
    from tests.conftest import no_data_reason

    monkeypatch.setenv("JUDGEKIT_DATA_DIR", str(tmp_path / "nowhere"))
    assert "is not a folder" in no_data_reason() and str(tmp_path / "nowhere") in no_data_reason()
    monkeypatch.delenv("JUDGEKIT_DATA_DIR")
    assert "set JUDGEKIT_DATA_DIR" in no_data_reason()


def test_data_list_names_source_licence_and_layout(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for needle in ("kumar2025-empathic-communication/", "713458108e28897fccf136a6337296b5199cb617", "MIT",
                   "epitome-reddit/", "emotional-reactions-reddit.csv", "Althoff academic licence",
                   "smilechat-zh/", "CC0", "welivita2024/dataset_and_ratings.csv"):
        assert needle in out, needle


def test_data_check_of_an_empty_and_a_broken_folder(tmp_path, capsys):
    assert main(["data", "check", str(tmp_path)]) == 0          # every dataset is optional
    out = capsys.readouterr().out
    assert out.count("missing") == 5 and "found" not in out
    bad = tmp_path / "epitome-reddit"
    bad.mkdir()
    (bad / "emotional-reactions-reddit.csv").write_text("not,the,columns\n1,2,3\n", encoding="utf-8")
    (tmp_path / "smilechat-zh").mkdir()
    assert main(["data", "check", str(tmp_path)]) == 1
    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["epitome-reddit"].startswith("malformed") and "epitome" in lines["epitome-reddit"]
    assert lines["smilechat-zh"].startswith("malformed") and "pairs.jsonl.gz is missing" in lines["smilechat-zh"]
    assert main(["data", "check", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.skipif(not DATA or not Path(DATA).is_dir(), reason="needs the released data under $JUDGEKIT_DATA_DIR")
def test_data_check_of_the_released_folder(capsys):
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    for folder in ("kumar2025-empathic-communication", "epitome-reddit", "smilechat-zh"):
        assert f"found      {folder}" in out
