"""Welivita & Pu's framework for a new model on judge ratings, with answers
known in advance: a judge that answers the released human ratings must
reproduce the human-rated study exactly (calibration is then the identity,
every validity CI covers the human figure), and a new system the judge
always rates Good must come out with a Good share of 100%.  The Welivita
file is not redistributable: tests use a synthetic file of its shape."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from tests._openai_server import OpenAIServer

REPO = Path(__file__).resolve().parent.parent
WELIVITA = REPO / "tests" / "fixtures" / "human" / "welivita_synthetic.csv"


def _echo_humans(server, df):
    """The judge answers each released response's human rating (its text,
    then the newline that ends it in the prompt, is unique)."""
    systems = [c[7:] for c in df.columns if c.startswith("rating_")]
    for s in systems:
        for resp, r in zip(df[f"response_{s}"], df[f"rating_{s}"]):
            server.add_rule(resp + "\n", "ok", scores={"empathy": int(r)})
    return systems


def test_a_judge_that_answers_the_humans_reproduces_their_study(monkeypatch):
    import judgekit
    from judgekit.human import study
    from judgekit.judge import Judge

    monkeypatch.setenv("OPENAI_API_KEY", "sk-study-test")
    df = pd.read_csv(WELIVITA)
    new = {str(d): f"NEWMODEL reply {i}" for i, d in enumerate(df["dialog_id"])}
    with OpenAIServer() as server:
        systems = _echo_humans(server, df)
        server.add_rule("NEWMODEL", "ok", scores={"empathy": 3})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = judgekit.judged_study(WELIVITA, Judge(model="m", base_url=server.base_url, progress=False,
                                                        concurrency=32), new={"mymodel": new}, n_bootstrap=200,
                                        simulated=True)
    human = study(WELIVITA)
    assert rep.calibration.after["kappa_quadratic"].estimate == pytest.approx(1.0)
    for s in systems:  # the calibrated study of the released systems is the human-rated one
        assert list(rep.study.distribution.loc[s]) == list(human.distribution.loc[s])
    for s, row in rep.validity.iterrows():
        hp = next(p for p in human.pairwise if p["system"] == s)
        assert row["judge_pp"] == pytest.approx(hp["top_change_pp"]) and row["covered"]
        assert row["pp_low"] <= row["judge_pp"] <= row["pp_high"]
    mine = rep.study.distribution.loc["mymodel"]
    assert mine[3.0] == len(df) and mine[1.0] == mine[2.0] == 0
    assert rep.changes.loc["mymodel", "new"] and not rep.changes.loc["gpt4", "new"]
    assert "SIMULATED judge" in str(rep) and json.loads(rep.to_json())["simulated"] is True


def test_new_responses_must_pair_with_every_dialogue(monkeypatch, tmp_path):
    import judgekit
    from judgekit.judge import Judge

    monkeypatch.setenv("OPENAI_API_KEY", "sk-study-test")
    df = pd.read_csv(WELIVITA)
    partial = {str(d): "hi" for d in df["dialog_id"][:-3]}
    with pytest.raises(judgekit.InputError, match=r"3 dialogue\(s\) without a response"):
        judgekit.judged_study(WELIVITA, Judge(model="m", base_url="http://127.0.0.1:9/v1"), new={"x": partial})
    with pytest.raises(judgekit.InputError, match="released system"):
        judgekit.judged_study(WELIVITA, Judge(model="m", base_url="http://127.0.0.1:9/v1"), new={"gpt4": partial})
    bad = tmp_path / "gen.jsonl"
    bad.write_text(json.dumps({"id": str(df["dialog_id"][0]), "status": "failed", "reason": "HTTP 500"}) + "\n")
    with pytest.raises(judgekit.InputError, match=r"gen.jsonl:1: system 'x' has no response"):
        judgekit.judged_study(WELIVITA, Judge(model="m", base_url="http://127.0.0.1:9/v1"), new={"x": bad})


def test_one_command_from_a_new_models_responses_to_the_study(tmp_path):
    """The CLI: the new model's responses as `judgekit generate` writes them
    (id, pred, status), a loopback judge, the calibrated study and the
    validity table."""
    df = pd.read_csv(WELIVITA)
    gen = tmp_path / "mymodel.jsonl"
    gen.write_text("".join(json.dumps({"id": str(d), "pred": f"NEWMODEL reply {i}", "status": "ok"}) + "\n"
                           for i, d in enumerate(df["dialog_id"])), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_BASE_URL")}
    env.update(PYTHONPATH=str(REPO), OPENAI_API_KEY="sk-study-cli")
    with OpenAIServer() as server:
        _echo_humans(server, df)
        server.add_rule("NEWMODEL", "ok", scores={"empathy": 2})
        proc = subprocess.run([sys.executable, "-m", "judgekit", "study", str(WELIVITA), "--judge-model", "m",
                               "--judge-base-url", server.base_url, "--new", f"mymodel={gen}", "--cache",
                               str(tmp_path / "c.sqlite"), "--n-bootstrap", "100", "--by", "sentiment",
                               "--simulated", "--json", str(tmp_path / "study.json")],
                              capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "validity" in out and "covered" in out and "mymodel" in out and "(new)" in out
    data = json.loads((tmp_path / "study.json").read_text(encoding="utf-8"))
    assert {r["index"] for r in data["validity"]} == {"chatgpt", "chatgpt_empathy", "gpt4", "llama2_empathy"}
    assert all(r["covered"] for r in data["validity"])
    assert data["study"]["distribution"]["mymodel"]["shares"] == [0.0, 1.0, 0.0]


def test_one_command_from_the_files_prompts_to_the_study(tmp_path):
    """Two loopback servers stand in for a new model and a judge: the one
    documented command generates the new model's responses to the file's
    prompts (with a system prompt), judges every system, calibrates on the
    released ratings and prints the study with its validity table."""
    df = pd.read_csv(WELIVITA)
    (tmp_path / "system.txt").write_text("Respond with empathy.", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_BASE_URL")}
    env.update(PYTHONPATH=str(REPO), OPENAI_API_KEY="sk-study-cli")
    with OpenAIServer() as model, OpenAIServer() as judge:
        model.reply_text = lambda body: "NEWMODEL " + OpenAIServer.echo(body)
        _echo_humans(judge, df)
        judge.add_rule("NEWMODEL", "ok", scores={"empathy": 3})
        cmd = [sys.executable, "-m", "judgekit", "study", str(WELIVITA), "--generate", "mymodel=loopback-llm",
               "--generate-base-url", model.base_url, "--system-file", str(tmp_path / "system.txt"),
               "--judge-model", "m", "--judge-base-url", judge.base_url, "--cache", str(tmp_path / "c.sqlite"),
               "--n-bootstrap", "100", "--by", "sentiment", "--save-responses", str(tmp_path / "gen"),
               "--simulated"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
        sent = [e.body for e in model.log]
    assert len(sent) == len(df) and all(b["messages"][0] == {"role": "system", "content": "Respond with empathy."}
                                        for b in sent)
    assert {b["messages"][-1]["content"] for b in sent} == set(df["speaker_uttr"])
    rows = [json.loads(x) for x in (tmp_path / "gen" / "mymodel.jsonl").read_text().splitlines()]
    assert len(rows) == len(df) and all(r["status"] == "ok" for r in rows)
    assert "mymodel" in proc.stdout and "(new)" in proc.stdout and proc.stdout.count("covered") >= 4
    assert "generated 192 responses for mymodel" in proc.stderr
