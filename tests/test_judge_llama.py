"""Judges on a real inference engine: llama-cpp-python's OpenAI-compatible
server (llama.cpp inside) on a tiny random-weight GGUF written here.

The server refuses ``json_schema`` (HTTP 500, a validation error) and takes
``{"type": "json_object", "schema": ...}``, decoding under a grammar built
from the schema: judgekit must learn that with no flag, then score every
item of every built-in rubric.  The model's words mean nothing; the
numbers come out of grammar-constrained decoding on random weights, which
is all a test of the plumbing needs.  Needs the test extras
(``llama-cpp-python[server]``, ``gguf``)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("gguf", reason="the real-engine tests need the gguf package (pip install -e '.[test]')")
pytest.importorskip("llama_cpp.server.app",
                    reason="the real-engine tests need llama-cpp-python[server] (pip install -e '.[test]')")

from judgekit.judge import list_rubrics, load_rubric  # noqa: E402
from tests._llama_server import LlamaServer, write_tiny_llama  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TEXTS = [("我养了十年的猫昨天走了。", "十年的陪伴，真的很难过。你想聊聊它吗？"),
         ("I failed my driving test again.", "That's frustrating, especially after all the practice. How are you feeling?"),
         ("最近工作压力很大，晚上睡不着。", "听起来你最近很辛苦，睡不好一定很累。是什么让你最担心？"),
         ("My best friend moved abroad.", "Just make new friends."),
         ("考试没考好，爸妈很失望。", "我能理解你的难过，你已经很努力了。"),
         ("I got the job!", "Congratulations! You must be thrilled.")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("llama")
    model = write_tiny_llama(d / "tiny.gguf")
    with LlamaServer(model, log=d / "server.log") as s:
        s.log_path = d / "server.log"
        yield s


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_BASE_URL")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["OPENAI_API_KEY"] = "sk-llama-test"
    return env


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "judgekit", *map(str, args)], capture_output=True, text=True,
                          env=_env(), timeout=600)


def _items(rubric_id):
    rubric = load_rubric(rubric_id)
    names = [s.name for s in rubric.inputs if s.required]
    out = []
    for k, (ctx, resp) in enumerate(TEXTS):
        item = {"id": f"{rubric_id}-{k}"}
        for n in names:
            item[n] = {"context": ctx, "response": resp, "story_a": ctx, "story_b": TEXTS[-1 - k][0],
                       "dialogue": f"用户：{ctx}\n心理咨询师：{resp}", "response_a": resp,
                       "response_b": TEXTS[-1 - k][1]}[n]
        out.append(item)
    return rubric, out


def _write(path, items):
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")


def _posts(server):
    return server.log_path.read_text(errors="replace").count('"POST /v1/chat/completions')


@pytest.mark.parametrize("rubric_id", [r.id for r in list_rubrics()])
def test_every_builtin_rubric_scores_every_item_with_no_dialect_flag(server, tmp_path, rubric_id):
    rubric, items = _items(rubric_id)
    _write(tmp_path / "items.jsonl", items)
    out = tmp_path / "out.jsonl"
    proc = _cli("judge", tmp_path / "items.jsonl", "--rubric", rubric_id, "--model", "tiny", "--base-url",
                server.base_url, "--cache", tmp_path / "c.sqlite", "--output", out, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [i["id"] for i in items]
    assert all(r["status"] == "scored" for r in rows), rows
    for d in rubric.dimensions:
        assert all(r[d.name] in d.values for r in rows)
    assert "format:json_object+schema" in proc.stderr  # learned from the server's refusal of json_schema
    assert "json_schema refused" in proc.stderr


def test_logprobs_give_an_expected_score_for_every_item(server, tmp_path):
    rubric, items = _items("epitome")
    _write(tmp_path / "items.jsonl", items)
    out = tmp_path / "out.jsonl"
    proc = _cli("judge", tmp_path / "items.jsonl", "--rubric", "epitome", "--model", "tiny", "--base-url",
                server.base_url, "--cache", tmp_path / "c.sqlite", "--output", out, "--logprobs", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for d in rubric.dimensions:
        assert all(isinstance(r[f"{d.name}_expected"], (int, float)) for r in rows)
        assert all(min(d.values) <= r[f"{d.name}_expected"] <= max(d.values) for r in rows)
    assert "logprobs were asked for" not in proc.stderr


def test_samples_with_majority_and_replay_only_sends_nothing(server, tmp_path):
    from judgekit.judge import Judge

    rubric, items = _items("empathy-3pt")
    cache = tmp_path / "c.sqlite"
    j = dict(rubric="empathy-3pt", model="tiny", base_url=server.base_url, cache=str(cache), samples=3,
             aggregate="majority", temperature=1.0, seed=7, progress=False)
    os.environ.setdefault("OPENAI_API_KEY", "sk-llama-test")
    res = Judge(**j).run(items)
    df = res.per_item
    assert (df["samples_scored"] == 3).all()
    for _, row in df.iterrows():  # a majority, or a tie said as such: never a guess
        assert (row["status"] == "scored" and row["empathy"] in (1, 2, 3)) or "no majority" in row["reason"]
    before = _posts(server)
    again = Judge(**j, replay_only=True).run(items)
    assert _posts(server) == before  # nothing sent
    assert again.per_item["empathy"].equals(df["empathy"]) and again.summary["requests_sent"] == 0


def test_doctor_reports_what_this_server_supports(server):
    proc = _cli("doctor", "--base-url", server.base_url, "--model", "tiny", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    checks = {k: v["status"] for k, v in report["checks"].items()}
    assert checks["json_schema"] == "refused" and checks["json_object+schema"] == "yes"
    assert checks["logprobs"] == "yes" and checks["chat"] == "yes"
    assert report["format"] == "json_object+schema" and report["models"] == ["tiny"]


def test_batch_files_run_on_the_real_engine(server, tmp_path):
    """A request file in the OpenAI / vLLM run_batch format, said in the
    dialect this server takes, goes through the engine and back into the
    cache: a replay then scores every item without a request."""
    from tests.test_judge_dialects import _run_batch

    rubric, items = _items("empathy-3pt")
    _write(tmp_path / "items.jsonl", items)
    cache = tmp_path / "c.sqlite"
    args = ("--rubric", "empathy-3pt", "--model", "tiny", "--base-url", server.base_url, "--cache", cache)
    exp = _cli("judge", tmp_path / "items.jsonl", *args, "--format", "json_object+schema",
               "--export-batch", tmp_path / "req.jsonl")
    assert exp.returncode == 0, exp.stderr
    _run_batch(tmp_path / "req.jsonl", tmp_path / "res.jsonl", server.base_url)
    imp = _cli("judge", *args, "--import-batch", tmp_path / "res.jsonl")
    assert imp.returncode == 0 and f"imported {len(items)} result(s)" in imp.stderr
    before = _posts(server)
    out = tmp_path / "out.jsonl"
    rep = _cli("judge", tmp_path / "items.jsonl", *args, "--replay-only", "--output", out)
    assert rep.returncode == 0, rep.stderr
    assert _posts(server) == before
    assert all(json.loads(x)["status"] == "scored" for x in out.read_text().splitlines())


def test_meta_eval_end_to_end_on_the_real_engine(server, tmp_path):
    """The protocol end to end: released Kumar EPITOME items judged by the
    real engine with three samples each; the figures exist (their values
    describe a random model: simulated), self-consistency is measured."""
    from tests.conftest import require_data

    require_data("kumar2025-empathic-communication")
    import judgekit
    from judgekit.judge import Judge

    os.environ.setdefault("OPENAI_API_KEY", "sk-llama-test")
    # no seed: one seed for every sample would make the three samples the same judgment
    judge = Judge(model="tiny", base_url=server.base_url, cache=str(tmp_path / "c.sqlite"), samples=3,
                  aggregate="median", temperature=2.0, progress=False)
    rep = judgekit.meta_eval("kumar2025", judge, framework="epitome", n_bootstrap=100, simulated=True)
    mine = [f for f in rep.figures if f.rater == "judge:tiny"]
    assert len(mine) == 3 and rep.usage["n_items"] == 50 and rep.usage["n_unscored"] == 0
    assert all(f.agreement is not None and f.agreement.n_items == 50 for f in mine)
    assert all(f.ceiling["verdict"] in ("below", "within", "above") for f in mine)
    assert all(f.self_consistency is not None and -1 <= f.self_consistency <= 1 for f in mine)
    assert "format:json_object+schema" in rep.signature and "(simulated)" in rep.leaderboard().index[0]


def test_pairwise_both_orders_on_the_real_engine(server, tmp_path):
    """Pairwise judging end to end on llama.cpp: both orders asked, mapped
    back and reconciled; every item ends with an outcome."""
    from judgekit.judge import pairwise

    os.environ.setdefault("OPENAI_API_KEY", "sk-llama-test")
    base = {f"p{k}": resp for k, (_, resp) in enumerate(TEXTS)}
    other = {f"p{k}": resp[: max(4, len(resp) // 2)] for k, (_, resp) in enumerate(TEXTS)}
    contexts = {f"p{k}": {"context": ctx} for k, (ctx, _) in enumerate(TEXTS)}
    res = pairwise({"base": base, "short": other}, contexts=contexts, model="tiny", base_url=server.base_url,
                   cache=str(tmp_path / "c.sqlite"), n_bootstrap=100, progress=False)
    df = res.per_item
    assert len(df) == len(TEXTS) and set(df["outcome"]) <= {"win", "loss", "tie", "inconsistent"}
    assert df["verdict_ab"].notna().all() and df["verdict_ba"].notna().all()
    assert "format:json_object+schema" in str(res.signature)
