"""judgekit agreement / calibrate / study from the command line, on the shipped data and fixtures."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from judgekit.cli import main
from tests.conftest import require_data

FIX = Path(__file__).parent / "fixtures" / "human"


def _run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_agreement_summary_over_dimensions(capsys, tmp_path):
    root = require_data("kumar2025-empathic-communication").parent
    rc, out, _ = _run(capsys, "agreement", "--dataset", "kumar2025", "--data-dir", str(root), "--framework", "epitome",
                      "--n-bootstrap", "100", "--json", str(tmp_path / "r.json"))
    assert rc == 0
    assert "Judges vs the human ceiling" in out and "epitome / level_explorations" in out
    assert "gemini:" in out and "of 3 dimensions" in out
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["kind"] == "human_ceiling_summary" and len(d["dimensions"]) == 3


def test_agreement_one_dimension_pair_and_panel(capsys):
    require_data("kumar2025-empathic-communication")
    base = ["agreement", "--dataset", "kumar2025", "--framework", "empatheticdialogues", "--dimension", "empathy",
            "--n-bootstrap", "100"]
    rc, out, _ = _run(capsys, *base)
    assert rc == 0 and "humans (leave-one-out)" in out and "Spearman rho with the rest of the panel" in out
    rc, out, _ = _run(capsys, *base, "--a", "gpt", "--b", "expert", "--levels", "observed")
    assert rc == 0 and "Agreement of gpt with expert (median of 3)" in out and "confusion matrix" in out
    rc, out, _ = _run(capsys, *base, "--panel", "expert1,expert2,expert3", "--format", "json")
    d = json.loads(out)
    assert d["kind"] == "panel" and round(d["figures"]["alpha_ordinal"]["estimate"], 3) == 0.472


def test_agreement_on_a_table_file(capsys, tmp_path):
    rows = []
    for i in range(30):
        for r, kind, v in (("e1", "expert", i % 5 + 1), ("e2", "expert", (i + i // 7) % 5 + 1), ("j", "llm", (i + 1) % 5 + 1)):
            rows.append({"item": f"{10**19 + i}", "framework": "f", "dimension": "d", "rater": r, "rater_kind": kind,
                         "score": v, "scale_min": 1, "scale_max": 5})
    p = tmp_path / "t.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    rc, out, _ = _run(capsys, "agreement", "--table", str(p), "--a", "j", "--b", "e1", "--n-bootstrap", "50")
    assert rc == 0 and "items paired by id: 30" in out


def test_agreement_bad_input_exits_2(capsys):
    require_data("kumar2025-empathic-communication")
    rc, _, err = _run(capsys, "agreement", "--dataset", "kumar2025", "--framework", "epitome", "--dimension", "nope")
    assert rc == 2 and "unknown dimension 'nope'" in err
    rc, _, err = _run(capsys, "agreement", "--dataset", "kumar2025", "--a", "gpt")
    assert rc == 2 and "--a and --b go together" in err


def _judge_file(tmp_path) -> Path:
    """A `judgekit judge`-shaped JSONL built from the released GPT-4o ratings (+ one unscored, one unknown id)."""
    root = require_data("kumar2025-empathic-communication", "annotations", "lend_an_ear")
    df = pd.read_csv(root / "gpt_ratings.csv", dtype={"conversation_id": str})
    p = tmp_path / "judged.jsonl"
    with open(p, "w") as fh:
        for k, (cid, v) in enumerate(zip(df.conversation_id, df.validating_emotions)):
            status = "unscored" if k == 0 else "scored"
            fh.write(json.dumps({"id": cid, "status": status, "validating_emotions": None if k == 0 else v}) + "\n")
        fh.write(json.dumps({"id": "99999999999999999999", "status": "scored", "validating_emotions": 3}) + "\n")
    return p


def test_calibrate_save_and_apply(capsys, tmp_path):
    judged = _judge_file(tmp_path)
    rc, out, _ = _run(capsys, "calibrate", str(judged), "--dataset", "kumar2025", "--framework", "lend_an_ear",
                      "--dimension", "validating_emotions", "--method", "thresholds", "--n-bootstrap", "100",
                      "--save-map", str(tmp_path / "map.json"), "--json", str(tmp_path / "cal.json"))
    assert rc == 0 and "Calibration of judged onto expert (thresholds" in out and "cut points" in out
    d = json.loads((tmp_path / "cal.json").read_text())
    assert d["before"]["n_items"] == 49                       # the unscored row is missing, not a score
    assert any("no human rating" in n for n in d["notes"])   # the unknown id is reported
    rc, out, _ = _run(capsys, "calibrate", "--map", str(tmp_path / "map.json"), "--apply", str(judged),
                      "--score-field", "validating_emotions", "--out", str(tmp_path / "new.jsonl"))
    assert rc == 0 and "calibrated 50 of 51 rows" in out
    rows = [json.loads(line) for line in open(tmp_path / "new.jsonl")]
    assert rows[0]["validating_emotions_calibrated"] is None
    assert all(r["validating_emotions_calibrated"] in (1, 2, 3, 4, 5) for r in rows[1:])


def test_calibrate_unknown_ids(capsys, tmp_path):
    require_data("kumar2025-empathic-communication")
    p = tmp_path / "j.csv"
    pd.DataFrame({"id": ["x1", "x2"], "empathy": [1, 2]}).to_csv(p, index=False)
    rc, _, err = _run(capsys, "calibrate", str(p), "--dataset", "kumar2025", "--framework", "empatheticdialogues",
                      "--dimension", "empathy")
    assert rc == 2 and "none of the 2 judged ids" in err and "x1" in err


def test_study_cli(capsys, tmp_path):
    rc, out, _ = _run(capsys, "study", str(FIX / "welivita_synthetic.csv"), "--by", "sentiment",
                      "--json", str(tmp_path / "s.json"))
    assert rc == 0 and "against human:" in out and "per sentiment" in out
    assert json.loads((tmp_path / "s.json").read_text())["baseline"] == "human"
    rc, _, err = _run(capsys, "study", str(FIX / "welivita_synthetic.csv"), "--baseline", "nobody")
    assert rc == 2 and "baseline 'nobody'" in err
    rc, _, err = _run(capsys, "study", str(tmp_path / "missing.csv"))
    assert rc == 2 and "not found" in err


def test_cli_modules_do_not_import_heavy_libraries():
    code = ("import sys, judgekit.cli as c; c.build_parser(); "
            "heavy = [m for m in ('pandas', 'scipy', 'krippendorff', 'judgekit.human._agreement') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[1]).stdout.strip()
    assert "judgekit.human._agreement" not in out and "krippendorff" not in out


def test_files_keep_20_digit_ids_and_name_bad_rows(tmp_path):
    from judgekit.errors import InputError
    from judgekit.human import read_scores, read_table

    p = tmp_path / "j.jsonl"
    p.write_text('{"id": 20241031145103738386, "status": "scored", "empathy": 3}\n'
                 '{"id": 20241031145050008738, "status": "unscored", "empathy": null}\n'
                 '{"id": "20241031124050492385", "status": "scored", "empathy": 4}\n')
    s = read_scores(p, score_field="empathy")
    assert list(s.index) == ["20241031145103738386", "20241031145050008738", "20241031124050492385"]
    assert s.isna().tolist() == [False, True, False]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "empathy": 2}\n{"id": 2, "empathy": \n')
    with pytest.raises(InputError, match=r"bad.jsonl:2"):
        read_scores(bad, score_field="empathy")
    t = tmp_path / "t.csv"
    t.write_text("item,framework,dimension,rater,rater_kind,score,scale_min,scale_max\n"
                 "20241031145103738386,f,d,r,expert,3,1,5\n20241031145050008738,f,d,r,expert,three,1,5\n")
    with pytest.raises(InputError, match=r"non-numeric score at row\(s\) 1"):
        read_table(t)
