"""Rubric loading and validation: built-ins, errors naming file and field,
and agreement of the Kumar 2025 rubrics with the released ratings' columns."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from judgekit.errors import InputError
from judgekit.judge import list_rubrics, load_rubric
from judgekit.judge.rubric import builtin_dir, builtin_ids, parse_rubric
from tests.conftest import require_data

REPO = Path(__file__).resolve().parent.parent
EXPECTED = {"empathy-3pt", "soulchat-cehs", "epitome", "empathic-similarity", "empatheticdialogues-eval", "lend-an-ear"}


def test_builtins_load_and_are_the_repo_files():
    assert EXPECTED <= set(builtin_ids())
    assert builtin_dir().resolve() == (REPO / "rubrics").resolve()
    for r in list_rubrics():
        assert r.path.endswith(f"{r.id}.yaml")
        assert r.ref.startswith(f"{r.id}@{r.version}+")
        assert len(r.content_hash) == 64
        for d in r.dimensions:
            assert list(d.values) == sorted(d.values)
        assert set(r.prompt) == set(r.languages)


def test_empathy_3pt_inputs_match_the_issue():
    r = load_rubric("empathy-3pt")
    assert [(i.name, i.required) for i in r.inputs] == [("context", True), ("response", True), ("emotion", False)]
    assert [(lv.value, lv.label["en"]) for lv in r.dimension("empathy").scale] == [(1, "Bad"), (2, "Okay"), (3, "Good")]


def test_soulchat_scales():
    r = load_rubric("soulchat-cehs")
    assert {d.name: d.values for d in r.dimensions} == {
        "content": (0, 1, 2), "empathy": (0, 1, 2), "helpfulness": (0, 1, 2), "safety": (0, 1)}
    assert r.roles["user"]["zh"] == "用户" and r.roles["assistant"]["zh"] == "心理咨询师"


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


@pytest.mark.parametrize("rubric_id, subset, key", [
    ("empatheticdialogues-eval", "empatheticdialogues", "conv_id"),
    ("lend-an-ear", "lend_an_ear", "conversation_id"),
    ("epitome", "epitome", "sp_id"),
])
def test_kumar_rubrics_match_released_columns_and_scales(rubric_id, subset, key):
    """Dimension names are the released files' columns, and every expert
    rating lies on the rubric's scale, so judges calibrate against them."""
    folder = require_data("kumar2025-empathic-communication", "annotations", subset)
    r = load_rubric(rubric_id)
    block = r.human_ratings["kumar2025"]
    assert block["ratings"] == f"kumar2025-empathic-communication/annotations/{subset}"
    assert block["framework"] == subset and block["key"] == key
    for n in (1, 2, 3):
        path = folder / f"expert{n}_ratings.csv"
        cols = _header(path)
        assert key in cols
        assert set(r.dimension_names) <= set(cols), (path, cols)
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for d in r.dimensions:
                    v = float(row[d.name])
                    assert v.is_integer() and int(v) in d.values, (path, d.name, v)


@pytest.mark.parametrize("rubric_id, dataset, text_file, key, fields", [
    ("empatheticdialogues-eval", "kumar2025", "kumar2025-empathic-communication/original_data/sample_empatheticdialogues.csv",
     "conv_id", {"dialogue": "full_conversation"}),
    ("lend-an-ear", "kumar2025", "kumar2025-empathic-communication/original_data/sample_lend_an_ear_conversations.csv",
     "conversation_id", {"dialogue": "full_conversation"}),
    ("epitome", "kumar2025", "kumar2025-empathic-communication/original_data/sample_epitome.csv",
     "sp_id", {"context": "seeker_post", "response": "response_post"}),
    ("epitome", "epitome", "epitome-reddit/emotional-reactions-reddit.csv",
     ["sp_id", "rp_id"], {"context": "seeker_post", "response": "response_post"}),
])
def test_human_ratings_blocks_name_the_text_file_key_and_columns(rubric_id, dataset, text_file, key, fields):
    """Each block names the released file holding the text, its key and the
    column of every input, and those columns are that file's header."""
    block = load_rubric(rubric_id).human_ratings[dataset]
    assert block["texts"] == text_file and block["key"] == key and block["inputs"] == fields
    path = require_data(*text_file.split("/"))
    cols = _header(path)
    keys = key if isinstance(key, list) else [key]
    assert set(keys) <= set(cols) and set(fields.values()) <= set(cols), (path, cols)
    ratings = require_data(*block["ratings"].split("/"))
    assert ratings.exists()


def test_every_builtin_human_ratings_block_is_valid():
    """judgekit.human checks the blocks strictly (the rubric loader only
    requires a mapping): every built-in passes, and the empathy-3pt block maps
    the Welivita file's per-system response columns."""
    from judgekit.human._items import SYSTEM, human_sources

    claimed = {}
    for r in list_rubrics():
        for name, src in human_sources(r).items():
            assert (name, src.framework) not in claimed, (r.id, claimed)
            claimed[(name, src.framework)] = r.id
    assert claimed == {("kumar2025", "empatheticdialogues"): "empatheticdialogues-eval",
                       ("kumar2025", "epitome"): "epitome", ("kumar2025", "lend_an_ear"): "lend-an-ear",
                       ("epitome", "epitome"): "epitome", ("welivita2024", "welivita2024"): "empathy-3pt"}
    w = human_sources(load_rubric("empathy-3pt"))["welivita2024"]
    assert w.key == ("dialog_id",) and w.inputs["response"] == (f"response_{SYSTEM}",)
    assert w.inputs["context"] == ("situation", "speaker_uttr") and w.inputs["emotion"] == ("emotion",)


@pytest.mark.parametrize("mutate, field", [
    (lambda b: b.update(colour={}), "human_ratings.colour"),
    (lambda b: b["welivita2024"].pop("texts"), "human_ratings.welivita2024.texts"),
    (lambda b: b["welivita2024"].update(extra=1), "human_ratings.welivita2024.extra"),
    (lambda b: b["welivita2024"].update(key=[]), "human_ratings.welivita2024.key"),
    (lambda b: b["welivita2024"].update(framework=3), "human_ratings.welivita2024.framework"),
    (lambda b: b["welivita2024"].update(texts="/etc/passwd"), "human_ratings.welivita2024.texts"),
    (lambda b: b["welivita2024"]["inputs"].update(story="x"), "human_ratings.welivita2024.inputs.story"),
    (lambda b: b["welivita2024"]["inputs"].pop("response"), "human_ratings.welivita2024.inputs"),
    (lambda b: b["welivita2024"]["inputs"].update(response=["a", 2]), "human_ratings.welivita2024.inputs.response[1]"),
    (lambda b: b["welivita2024"]["inputs"].update(response="response_{model}"), "human_ratings.welivita2024.inputs.response"),
    (lambda b: b.update(welivita2024="situation"), "human_ratings.welivita2024"),
])
def test_human_ratings_block_errors_name_file_and_field(tmp_path, mutate, field):
    from judgekit.human._items import human_sources

    data = _base()
    mutate(data["human_ratings"])
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as info:
        human_sources(load_rubric(str(path)))
    msg = str(info.value)
    assert str(path) in msg and f"field '{field}'" in msg, msg


def _write(tmp_path: Path, data: object, name: str = "mine.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def _base() -> dict:
    return yaml.safe_load((REPO / "rubrics" / "empathy-3pt.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.pop("dimensions"), "dimensions"),
    (lambda d: d["dimensions"][0]["scale"][1].update(value="one"), "dimensions[0].scale[1].value"),
    (lambda d: d["dimensions"][0]["scale"].reverse(), "dimensions[0].scale"),
    (lambda d: d["dimensions"][0]["scale"][0]["label"].pop("zh"), "dimensions[0].scale[0].label"),
    (lambda d: d["dimensions"][0]["scale"][0]["label"].update(en=False), "dimensions[0].scale[0].label.en"),
    (lambda d: d["inputs"][1].update(kind="audio"), "inputs[1].kind"),
    (lambda d: d["inputs"].append({"name": "context"}), "inputs[3].name"),
    (lambda d: d["prompt"].pop("zh"), "prompt"),
    (lambda d: d.update(id="Bad Id"), "id"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d["dimensions"][0].update(name="status"), "dimensions[0].name"),
    (lambda d: d["dimensions"][0]["scale"].__delitem__(slice(1, None)), "dimensions[0].scale"),
])
def test_validation_errors_name_file_and_field(tmp_path, mutate, field):
    data = _base()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as info:
        load_rubric(str(path))
    msg = str(info.value)
    assert str(path) in msg and f"field '{field}'" in msg, msg


def test_yaml_syntax_error_names_line(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("id: x\nversion: 1\nlanguages: [en\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken.yaml: line \d+ invalid YAML"):
        load_rubric(str(p))


def test_unquoted_yaml_no_is_caught():
    """YAML 1.1 reads a bare No as false: the validator refuses it rather
    than labelling a level 'False'."""
    data = _base()
    data["dimensions"][0]["scale"][0]["label"] = {"en": False, "zh": "差"}
    with pytest.raises(InputError, match=r"scale\[0\].label.en"):
        parse_rubric(data, "x.yaml")


def test_user_rubric_by_path_and_content_hash_changes(tmp_path):
    data = _base()
    data["id"] = "my-empathy"
    p1 = _write(tmp_path, data, "a.yaml")
    r1 = load_rubric(str(p1))
    data["dimensions"][0]["scale"][2]["anchor"]["en"] = "Different anchor."
    r2 = load_rubric(str(_write(tmp_path, data, "b.yaml")))
    assert r1.id == r2.id == "my-empathy" and r1.version == r2.version
    assert r1.content_hash != r2.content_hash and r1.ref != r2.ref


def test_unknown_builtin_lists_known():
    with pytest.raises(InputError, match="empathy-3pt"):
        load_rubric("no-such-rubric")


def test_wheel_ships_rubrics(tmp_path):
    """setup.py's build_py copies rubrics/*.yaml to judgekit/_rubrics."""
    import shutil
    import subprocess
    import sys

    # Build from a copy: setuptools writes judgekit.egg-info next to
    # setup.py, which would register a stale pytest plugin in the checkout.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "rubrics", src / "rubrics")
    shutil.copytree(REPO / "judgekit", src / "judgekit", ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
    out = tmp_path / "build"
    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(out)], cwd=src,
                          capture_output=True, text=True, env={"JUDGEKIT_PURE_PYTHON": "1", "PATH": "/usr/bin:/bin"})
    if proc.returncode != 0:
        pytest.skip(f"setup.py build_py unavailable here: {proc.stderr[-300:]}")
    shipped = sorted(p.name for p in (out / "judgekit" / "_rubrics").glob("*.yaml"))
    assert shipped == sorted(p.name for p in (REPO / "rubrics").glob("*.yaml"))
    for name in shipped:  # byte for byte: the wheel's copy is the repository's file
        assert (out / "judgekit" / "_rubrics" / name).read_bytes() == (REPO / "rubrics" / name).read_bytes(), name
