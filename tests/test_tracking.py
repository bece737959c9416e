"""Experiment tracking (``judgekit.integrations.tracking``): a Result, a
Leaderboard and a meta-evaluation card logged to MLflow (its local file
store in tmp_path, read back with ``MlflowClient``) and to Weights & Biases
(offline mode, its run file read back with wandb's own protobuf classes)."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import judgekit
from judgekit.errors import InputError
from judgekit.integrations.tracking import log_mlflow, log_wandb, record
from judgekit.scores import MeanReducer, Scores
from judgekit.signature import Signature
from tests._openai_server import OpenAIServer
from tests.conftest import require_data

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "smilechat-100.jsonl"


@pytest.fixture(scope="module")
def rows():
    return [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def result(rows):
    return judgekit.evaluate([r["pred"] for r in rows], [r["ref"] for r in rows])


@pytest.fixture(scope="module")
def board(rows):
    from judgekit.report import leaderboard

    refs = [r["ref"] for r in rows]
    other = [r["context"] for r in rows]  # a weak "system": it repeats the user's turn
    return leaderboard({"model": [r["pred"] for r in rows], "echo (baseline)": other}, refs, baseline="echo (baseline)",
                       n_bootstrap=100, n_randomization=100)


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    require_data("kumar2025-empathic-communication")
    from judgekit.judge import Judge

    tmp = tmp_path_factory.mktemp("card")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_API_KEY", "sk-tracking-test")
    try:
        with OpenAIServer() as server:
            judge = Judge(model="m", base_url=server.base_url, cache=str(tmp / "c.sqlite"), progress=False,
                          concurrency=16)
            return judgekit.meta_eval("kumar2025", judge, framework="epitome", n_bootstrap=50, simulated=True)
    finally:
        mp.undo()


# -- what is logged ----------------------------------------------------------

def test_a_results_record_is_its_scores_signature_and_items(result):
    rec = record(result)
    assert rec.kind == "result" and rec.metrics == result.scores
    assert Signature.parse(rec.params["signature"]) == result.signature
    assert rec.params["signature.tok"] == result.signature["tok"] and rec.params["n_items"] == "100"
    assert rec.tables["per_item"].set_index("id").equals(result.to_frame())
    assert json.loads(rec.texts["result.json"])["scores"]["bleu-4"] == result.scores["bleu-4"]


def test_judge_names_become_tracker_safe_and_collisions_are_refused():
    s = Scores(["a", "b"], {"judge:empathy": [2.0, 3.0]}, signature={"judge": {"model": "m", "rubric": "r@1"}},
               reducer=MeanReducer(["judge:empathy"]))
    rec = record(s)
    assert rec.metrics == {"judge/empathy": 2.5}
    assert rec.params["signature.judge.model"] == "m"
    clash = Scores(["a"], {"judge:x": [1.0], "judge/x": [2.0]}, reducer=MeanReducer(["judge:x", "judge/x"]))
    with pytest.raises(InputError, match="'judge/x'.*'judge:x'|'judge:x'.*'judge/x'"):
        record(clash)
    with pytest.raises(InputError, match="cannot log a dict"):
        record({"bleu": 1.0})


def test_a_leaderboards_record_is_its_tidy_frame(board):
    rec = record(board)
    frame = board.to_frame()
    assert rec.tables["leaderboard"].equals(frame)
    assert rec.metrics["model/bleu-4"] == board.scores.at["model", "bleu-4"]
    assert rec.metrics["echo _baseline_/rouge-l"] == board.scores.at["echo (baseline)", "rouge-l"]
    assert len(rec.metrics) == frame["value"].notna().sum()
    assert rec.params["baseline"] == "echo (baseline)" and rec.params["n_items"] == "100"


# -- MLflow ------------------------------------------------------------------

@pytest.fixture
def mlflow_uri(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    # MLflow 3 keeps its file store only on request (it prefers a database)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return (tmp_path / "mlruns").as_uri()


def _artifact_frame(client, run_id, path, tmp_path):
    local = client.download_artifacts(run_id, path, str(tmp_path))
    return pd.read_csv(local)


def test_mlflow_a_result_reads_back_with_mlflows_client(result, mlflow_uri, tmp_path):
    from mlflow.tracking import MlflowClient

    run_id = log_mlflow(result, tracking_uri=mlflow_uri, experiment="judgekit-tests", run_name="smilechat-100")
    client = MlflowClient(mlflow_uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "smilechat-100"
    assert client.get_experiment(run.info.experiment_id).name == "judgekit-tests"
    assert run.data.metrics == result.scores  # every score, bit for bit
    assert Signature.parse(run.data.params["signature"]) == result.signature
    assert run.data.params["signature.lang"] == "zh(auto)" and run.data.tags["judgekit.kind"] == "result"
    assert sorted(a.path for a in client.list_artifacts(run_id, "judgekit")) == [
        "judgekit/per_item.csv", "judgekit/result.json"]
    back = _artifact_frame(client, run_id, "judgekit/per_item.csv", tmp_path)
    assert [str(i) for i in back["id"]] == result.ids
    for col in ("bleu-4", "rouge-l"):
        assert back[col].tolist() == pytest.approx(result.to_frame()[col].tolist(), rel=1e-15)
    # the same experiment again: a second run beside the first
    second = log_mlflow(result, tracking_uri=mlflow_uri, experiment="judgekit-tests")
    assert second != run_id and client.get_run(second).info.experiment_id == run.info.experiment_id


def test_mlflow_the_active_run_and_prefixes(result, board, mlflow_uri, monkeypatch):
    import mlflow
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_uri)
    mlflow.set_tracking_uri(mlflow_uri)
    try:
        with mlflow.start_run() as active:
            assert log_mlflow(result, prefix="test set") == active.info.run_id
            assert log_mlflow(board, prefix="board") == active.info.run_id
            assert mlflow.active_run().info.run_id == active.info.run_id  # still open: it is the caller's
    finally:
        mlflow.set_tracking_uri(None)
    run = MlflowClient(mlflow_uri).get_run(active.info.run_id)
    assert run.data.metrics["test set/bleu-4"] == result.scores["bleu-4"]
    assert run.data.metrics["board/model/bleu-4"] == board.scores.at["model", "bleu-4"]
    assert run.data.params["board.baseline"] == "echo (baseline)"
    assert Signature.parse(run.data.params["test set.signature"]) == result.signature


def test_mlflow_a_leaderboard_and_a_meta_eval_card(board, card, mlflow_uri, tmp_path):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(mlflow_uri)
    run = client.get_run(log_mlflow(board, tracking_uri=mlflow_uri))
    frame = board.to_frame()
    for row in frame.itertuples():
        key = f"{row.system}/{row.metric}".replace("(", "_").replace(")", "_").replace(":", "/")
        assert run.data.metrics[key] == row.value
    back = _artifact_frame(client, run.info.run_id, "judgekit/leaderboard.csv", tmp_path / "lb")
    assert back["system"].tolist() == frame["system"].tolist()
    assert back["p_bs"].tolist() == pytest.approx(frame["p_bs"].tolist(), nan_ok=True)

    run = client.get_run(log_mlflow(card, tracking_uri=mlflow_uri))
    figures = card.to_frame()
    assert len(figures) == len(card.figures) and set(figures["rater"]) == {"judge:m", "gpt", "claude", "gemini"}
    for f in card.figures:
        got = run.data.metrics.get(f"{f.rater.replace(':', '/')}/{f.framework}/{f.dimension}/qwk")
        want = f.figure("kappa_quadratic")
        assert (got is None and math.isnan(want)) or got == want
    lb = card.leaderboard()
    assert run.data.metrics["judge/m/qwk_mean"] == lb.loc["judge:m (simulated)", "qwk_mean"]
    assert run.data.params["simulated"] == "True" and run.data.params["dataset"] == "kumar2025"
    assert {a.path for a in client.list_artifacts(run.info.run_id, "judgekit")} == {
        "judgekit/evaluator_leaderboard.csv", "judgekit/figures.csv", "judgekit/meta_eval.json",
        "judgekit/meta_eval.md"}


def test_a_missing_tracker_names_the_extra(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'judgekit-empathy\[mlflow\]'"):
        log_mlflow(result)
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(ImportError, match=r"pip install 'judgekit-empathy\[wandb\]'"):
        log_wandb(result)


def test_importing_judgekit_imports_no_tracker():
    code = ("import sys, judgekit, judgekit.integrations.tracking, judgekit.report; "
            "print(sorted(m for m in ('mlflow', 'wandb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- Weights & Biases (offline) ------------------------------------------------

@pytest.fixture
def wandb_offline(tmp_path, monkeypatch):
    wandb = pytest.importorskip("wandb")
    for var in ("WANDB_API_KEY", "WANDB_ENTITY", "WANDB_PROJECT", "WANDB_RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var, sub in (("WANDB_DIR", "runs"), ("WANDB_CACHE_DIR", "cache"), ("WANDB_CONFIG_DIR", "config"),
                     ("WANDB_DATA_DIR", "data")):
        (tmp_path / sub).mkdir()
        monkeypatch.setenv(var, str(tmp_path / sub))
    yield tmp_path / "runs"
    wandb.teardown()  # stops the wandb service process this test started


def _read_back(run) -> tuple[Path, dict]:
    """The run's directory and records, once wandb's service has written
    them all (``finish`` returns before the offline writer is done)."""
    import wandb

    from tests._wandb_records import read_run

    wandb.teardown()
    run_dir = Path(run.dir).parent
    return run_dir, read_run(run_dir)


def _table(run_dir: Path, ref: dict) -> pd.DataFrame:
    data = json.loads((run_dir / "files" / ref["path"]).read_text(encoding="utf-8"))
    return pd.DataFrame(data["data"], columns=data["columns"])


def test_wandb_offline_a_result_and_a_leaderboard_read_back(result, board, wandb_offline):
    run_dir, back = _read_back(log_wandb(result, project="judgekit-tests", name="smilechat-100"))
    assert {k: back["summary"][k] for k in result.scores} == result.scores
    assert Signature.parse(back["config"]["signature"]) == result.signature
    assert back["config"]["n_items"] == "100"
    table = _table(run_dir, {k[len("per_item/"):]: v for k, v in back["summary"].items()
                             if k.startswith("per_item/")})
    assert table["id"].tolist() == result.ids
    assert table["bleu-4"].tolist() == pytest.approx(result.to_frame()["bleu-4"].tolist(), rel=1e-15)

    run_dir, back = _read_back(log_wandb(board, project="judgekit-tests"))
    assert back["summary"]["model/bleu-4"] == board.scores.at["model", "bleu-4"]
    assert back["config"]["baseline"] == "echo (baseline)"
    ref = {k[len("leaderboard/"):]: v for k, v in back["summary"].items() if k.startswith("leaderboard/")}
    assert _table(run_dir, ref)["metric"].tolist() == board.to_frame()["metric"].tolist()


def test_wandb_offline_a_meta_eval_card(card, wandb_offline):
    _, back = _read_back(log_wandb(card, project="judgekit-tests"))
    assert back["summary"]["judge/m/qwk_mean"] == card.leaderboard().loc["judge:m (simulated)", "qwk_mean"]
    assert back["config"]["dataset"] == "kumar2025"


def test_a_judge_result_logs_as_its_scores(rows, mlflow_uri, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("OPENAI_API_KEY", "sk-tracking-test")
    items = [{"id": r["id"], "context": r["context"], "response": r["pred"]} for r in rows[:12]]
    with OpenAIServer() as server:
        server.add_rule(items[3]["response"][:20], "text", text="I cannot rate this.")
        res = judgekit.judge(items, model="m", base_url=server.base_url, progress=False, max_retries=1)
    scores = res.to_scores()
    rec = record(res)
    assert rec.metrics == {"judge/empathy": scores.scores["judge:empathy"]}
    assert rec.tables["per_item"]["judge:status"].tolist().count("unscored") == 1
    run = MlflowClient(mlflow_uri).get_run(log_mlflow(res, tracking_uri=mlflow_uri))
    assert run.data.metrics["judge/empathy"] == scores.scores["judge:empathy"]
    assert run.data.params["signature.model"] == "m" and run.data.params["signature.rubric"].startswith("empathy-3pt@")
    assert "sk-tracking" not in json.dumps(run.data.params)
