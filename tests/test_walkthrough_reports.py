"""Defects a new user met walking through the leaderboard, the reports, the
judge's output, the file readers, ``judgekit data`` and the command-line
parser, each pinned by the command (or call) that showed it.  The CLI runs
in-process through ``judgekit.cli.main`` (argparse's own errors leave as
SystemExit 2); the judge talks to the loopback OpenAI-compatible server."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from judgekit.cli import build_parser, main
from judgekit.errors import InputError
from judgekit.judge import load_results
from judgekit.report import leaderboard
from tests._openai_server import OpenAIServer
from tests.conftest import require_data

REPO = Path(__file__).resolve().parent.parent
F = REPO / "examples" / "smilechat-100.jsonl"
SHORT = REPO / "examples" / "smilechat-100-short.jsonl"
FAST = ("--n-bootstrap", "50", "--n-randomization", "50")


def _cli(capsys, *args):
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _rows(path: Path, n: int) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:n]]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The walkthrough's files cut to 12 items: refs (with context), sft, short."""
    d = tmp_path_factory.mktemp("small")
    full, short = _rows(F, 12), _rows(SHORT, 12)
    for name, rows in (("refs", full), ("sft", [{"id": r["id"], "pred": r["pred"]} for r in full]),
                       ("short", short)):
        (d / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                         encoding="utf-8")
    return d


def _systems(small):
    return ("--refs", small / "refs.jsonl", "--system", f"sft={small / 'sft.jsonl'}",
            "--system", f"short={small / 'short.jsonl'}")


def _texts(small):
    refs = {r["id"]: r["ref"] for r in _rows(small / "refs.jsonl", 12)}
    return ({"sft": {r["id"]: r["pred"] for r in _rows(small / "sft.jsonl", 12)},
             "short": {r["id"]: r["pred"] for r in _rows(small / "short.jsonl", 12)}}, refs)


def _judged(ids, values, signature=None):
    frame = pd.DataFrame({"id": ids, "status": ["scored"] * len(ids), "empathy": values})
    if signature is not None:
        frame["signature"] = signature
    return frame


# 1, 2: resample counts and the examples count are checked up front

@pytest.mark.parametrize("option", ["--n-bootstrap", "--n-randomization"])
def test_zero_resamples_is_a_one_line_error(capsys, small, option):
    args = [*_systems(small), *FAST, option, "0"]
    code, out, err = _cli(capsys, "leaderboard", *args)
    assert code == 2 and out == ""
    assert err == f"judgekit leaderboard: error: {option} must be at least 1, got 0\n"


def test_zero_resamples_in_python(small):
    systems, refs = _texts(small)
    for key in ("n_bootstrap", "n_randomization"):
        with pytest.raises(InputError, match=f"^{key} must be at least 1, got 0$"):
            leaderboard(systems, refs, **{key: 0})


def test_negative_examples_is_an_error(capsys, small):
    code, out, err = _cli(capsys, "leaderboard", *_systems(small), *FAST, "--examples", "-1")
    assert code == 2 and out == "" and err == "judgekit leaderboard: error: --examples must be 0 or more, got -1\n"
    systems, refs = _texts(small)
    with pytest.raises(InputError, match="n_examples must be zero or more"):
        leaderboard(systems, refs, n_examples=-1, n_bootstrap=20, n_randomization=20)


# 3: the documented workflow names the judge

def test_judge_output_names_model_and_rubric_on_the_board(capsys, small, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-walkthrough-key")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    refs = _rows(small / "refs.jsonl", 12)
    outputs = {}
    with OpenAIServer() as server:
        for name in ("sft", "short"):
            preds = {r["id"]: r["pred"] for r in _rows(small / f"{name}.jsonl", 12)}
            items = tmp_path / f"items-{name}.jsonl"
            items.write_text("".join(json.dumps({"id": r["id"], "context": r["context"], "response": preds[r["id"]]},
                                                ensure_ascii=False) + "\n" for r in refs), encoding="utf-8")
            outputs[name] = tmp_path / f"j-{name}.jsonl"
            code, _, err = _cli(capsys, "judge", items, "--rubric", "empathy-3pt", "--model", "judge-m",
                                "--base-url", server.base_url, "--no-cache", "--output", outputs[name])
            assert code == 0, err
    rows = [json.loads(line) for line in outputs["sft"].read_text(encoding="utf-8").splitlines()]
    assert all(r["signature"].startswith("model:judge-m|") and "|rubric:empathy-3pt@" in r["signature"] for r in rows)
    assert "sk-walkthrough-key" not in outputs["sft"].read_text(encoding="utf-8")
    sig = load_results(outputs["sft"]).signature
    assert sig["model"] == "judge-m" and sig["rubric"].startswith("empathy-3pt@")
    assert "signature" not in load_results(outputs["sft"]).dimensions

    code, out, err = _cli(capsys, "leaderboard", *_systems(small), *FAST, "--judge", f"sft={outputs['sft']}",
                          "--judge", f"short={outputs['short']}")
    assert code == 0, err
    assert re.search(r"^- judge of sft, short: model judge-m, rubric empathy-3pt@\S+$", out, re.M), out[:600]
    assert "not recorded" not in out and "judge:empathy" in out

    # a file written before the signature field still reads, and the board says what it lacks
    old = tmp_path / "old.jsonl"
    old.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "signature"}) + "\n" for r in rows),
                   encoding="utf-8")
    assert load_results(old).signature == ""
    code, out, err = _cli(capsys, "leaderboard", *_systems(small), *FAST, "--judge", f"sft={old}")
    assert code == 0 and "- judge of sft: model and rubric not recorded in the results given" in out

    # two judge runs in one file: an error, not one mixed column
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(json.dumps(rows[0]) + "\n" + json.dumps(dict(rows[1], signature="model:other|rubric:x"))
                     + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="rows carry 2 different judge signatures"):
        load_results(mixed)


# 5: a misspelled option, in the sub-command's words

@pytest.mark.parametrize("command, wrong, right", [
    (("evaluate", str(F)), ["--pred-feild", "pred"], "--pred-field"),
    (("evaluate", str(F)), ["--smoth", "floor"], "--smoothing"),
    (("leaderboard", "--refs", str(F)), ["--n-bootstrp", "5"], "--n-bootstrap"),
    (("data", "check"), ["--data-dri"], "--data-dir"),
])
def test_misspelled_option_names_the_subcommand_and_the_nearest(capsys, command, wrong, right):
    code, out, err = _cli(capsys, *command, *wrong)
    sub = " ".join(c for c in command if not c.startswith(("/", "--")) and not c.endswith(".jsonl"))
    assert code == 2 and out == ""
    assert err.startswith(f"usage: judgekit {sub} ") and "usage: judgekit [-h]" not in err
    assert err.rstrip().endswith(f"unrecognized arguments: {' '.join(wrong)} ({wrong[0]}: did you mean {right}?)")


def test_unknown_option_without_a_near_one_points_to_help(capsys):
    code, _, err = _cli(capsys, "leaderboard", "--refs", F, "--smoothing", "floor")
    assert code == 2 and err.startswith("usage: judgekit leaderboard ")
    assert err.rstrip().endswith("unrecognized arguments: --smoothing floor (`judgekit leaderboard --help` lists "
                                 "its options)")


# 6, 7: field messages

@pytest.mark.parametrize("record, message", [
    ({"predict": "a", "prediction": "b", "ref": "x"},
     "2 fields could hold the prediction: 'predict', 'prediction'; name one with {flag}"),
    ({"output": "a", "ref": "x"}, "no prediction field: none of 'pred', 'predict', 'prediction', 'hypothesis', "
                                  "'hyp' (fields: output, ref); name it with {flag}"),
])
def test_field_messages_name_the_option_once(capsys, tmp_path, record, message):
    import judgekit

    path = tmp_path / "f.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    code, _, err = _cli(capsys, "evaluate", path)
    assert code == 2 and err == f"judgekit evaluate: error: {path}:1: {message.format(flag='--pred-field')}\n"
    with pytest.raises(InputError) as info:
        judgekit.evaluate_file(str(path))
    assert str(info.value) == f"{path}:1: {message.format(flag='pred_field=')}"


def test_empty_reference_list_says_so(capsys, tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text('{"pred": "a", "ref": "b"}\n{"pred": "a", "ref": []}\n', encoding="utf-8")
    code, _, err = _cli(capsys, "evaluate", path)
    assert code == 2
    assert err == (f"judgekit evaluate: error: {path}:2: field 'ref' is an empty list; expected a string or at "
                   "least one reference string\n")


# 8: judgekit data check

def test_data_check_file_missing_and_words(capsys, tmp_path, monkeypatch):
    src = require_data("epitome-reddit", "emotional-reactions-reddit.csv")
    code, _, err = _cli(capsys, "data", "check", REPO / "README.md")
    assert code == 2 and err.endswith("is a file, not a folder\n") and "does not exist" not in err
    monkeypatch.delenv("JUDGEKIT_DATA_DIR", raising=False)
    code, _, err = _cli(capsys, "data", "check")
    assert code == 2 and "pass --data-dir or set JUDGEKIT_DATA_DIR" in err and "data_dir=" not in err
    (tmp_path / "epitome-reddit").mkdir()
    shutil.copy(src, tmp_path / "epitome-reddit")
    code, out, err = _cli(capsys, "data", "check", "--data-dir", tmp_path)
    line = next(x for x in out.splitlines() if "epitome-reddit" in x)
    assert code == 1 and line.split()[0] == "malformed" and "Errno" not in out and "Error" not in out
    assert line.endswith("missing file epitome-reddit/interpretations-reddit.csv (expected: "
                         "emotional-reactions-reddit.csv; interpretations-reddit.csv; explorations-reddit.csv)")
    assert _cli(capsys, "data", "check", tmp_path)[1] == out  # --data-dir and the positional agree


# 9: one rule for output folders

def test_output_folder_parent_must_exist(capsys, small, tmp_path):
    code, out, err = _cli(capsys, "leaderboard", *_systems(small), *FAST, "--out", tmp_path / "nodir" / "board")
    assert code == 2 and out == "" and not (tmp_path / "nodir").exists()
    assert err == (f"judgekit leaderboard: error: --out {tmp_path / 'nodir' / 'board'}: the folder "
                   f"{tmp_path / 'nodir'} does not exist; create it first\n")
    code, _, err = _cli(capsys, "leaderboard", *_systems(small), *FAST, "--out", small / "refs.jsonl")
    assert code == 2 and err.endswith("is a file, not a folder\n")
    code, _, err = _cli(capsys, "leaderboard", *_systems(small), *FAST, "--out", tmp_path / "board", "--format", "md")
    assert code == 0 and (tmp_path / "board" / "leaderboard.md").is_file()   # the folder itself is created
    systems, refs = _texts(small)
    lb = leaderboard(systems, refs, n_bootstrap=20, n_randomization=20)
    with pytest.raises(InputError, match="does not exist; create it first"):
        lb.write(tmp_path / "nodir" / "board", formats=("md",))


# 10: help, escaping, decimals, the footnote, the plot, the CSV doc

def _leaderboard_parser():
    return build_parser()._subparsers._group_actions[0].choices["leaderboard"]


def test_leaderboard_help_explains_every_option_and_lists_every_preset(capsys):
    from judgekit.ngram.presets import PRESETS

    undocumented = [a.option_strings[0] for a in _leaderboard_parser()._actions
                    if a.option_strings and not (a.help and str(a.help).strip())]
    assert undocumented == []
    code, out, _ = _cli(capsys, "leaderboard", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert all(name in text.partition("--preset PRESET score with")[2][:300] for name in PRESETS)


def test_markdown_escapes_angle_brackets_like_the_rest():
    from judgekit.report._render import _md_escape

    assert _md_escape("<|im_start|>user") == "\\<\\|im_start\\|\\>user"
    assert _md_escape("a <b> c > d < e") == "a \\<b\\> c \\> d \\< e"


def test_decimals_per_column_and_the_footnote(small):
    systems, refs = _texts(small)
    ids = list(refs)
    plain = leaderboard(systems, refs, n_bootstrap=20, n_randomization=20)
    judged = leaderboard(systems, refs, n_bootstrap=20, n_randomization=20,
                         judges={"sft": _judged(ids, [i % 3 for i in range(12)]),
                                 "short": _judged(ids, [(i + 1) % 3 for i in range(12)])})

    def ratio_cells(lb):
        md = lb.to_markdown().splitlines()
        head = next(i for i, line in enumerate(md) if line.startswith("| system |"))
        col = [c.strip() for c in md[head].split("|")].index("len-ratio")
        return [[c.strip() for c in md[j].split("|")][col].rstrip("*") for j in (head + 2, head + 3)]

    for lb in (plain, judged):
        assert all(re.fullmatch(r"\d+\.\d{4}", c) for c in ratio_cells(lb)), ratio_cells(lb)
    assert {c.rstrip("*")[-5:-4] for c in ratio_cells(plain)} == {"."}
    assert "Judge dimensions" not in plain.to_markdown() and "Judge dimensions" in judged.to_markdown()


def test_significance_mark_stays_below_the_subplot_title(small):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from judgekit.report._plots import _metrics_figure

    systems, refs = _texts(small)
    # the marked system has the taller bars (the full replies against the truncated baseline): its "*" sits
    # on the highest whisker, where the title is nearest
    lb = leaderboard(systems, refs, baseline="short", n_bootstrap=50, n_randomization=50)
    marked = [c for c in lb.columns if lb.significant("sft", c)]
    assert marked, "the full replies should differ from the truncated ones somewhere"
    fig = _metrics_figure(plt, lb)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        stars = 0
        for ax in fig.axes:
            for t in ax.texts:
                if t.get_text() == "*":
                    stars += 1
                    box = t.get_window_extent(renderer)
                    assert box.y1 <= ax.get_window_extent(renderer).y1 + 0.5, ax.get_title()
                    assert box.y1 <= ax.title.get_window_extent(renderer).y0, ax.get_title()
        assert stars == len(marked)
    finally:
        plt.close(fig)


def test_reports_doc_lists_the_csv_columns(small):
    systems, refs = _texts(small)
    lb = leaderboard(systems, refs, n_bootstrap=20, n_randomization=20)
    doc = " ".join((REPO / "docs" / "reports.md").read_text(encoding="utf-8").split())
    listed = re.search(r"`leaderboard\.csv` \(long: ([^)]*)\)", doc).group(1)
    assert [c.strip() for c in listed.split(",")] == list(lb.to_frame().columns)
