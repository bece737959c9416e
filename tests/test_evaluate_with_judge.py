"""``evaluate(preds, refs, judge=Judge(...))``: n-gram metrics and judge
scores in one result, against the real loopback OpenAI-compatible server."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import judgekit
from judgekit.judge import Judge
from tests._openai_server import OpenAIServer

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "smilechat-100.jsonl"
FAST = dict(backoff_base=0.01, backoff_max=0.05, timeout=2.0, progress=False, max_retries=1)


@pytest.fixture
def rows():
    return [json.loads(l) for l in EXAMPLE.read_text(encoding="utf-8").splitlines()][:12]


def test_judge_scores_join_the_ngram_metrics(rows, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    preds, refs, ctx = [r["pred"] for r in rows], [r["ref"] for r in rows], [r["context"] for r in rows]
    with OpenAIServer() as server:
        server.add_rule(preds[3][:20], "text", text="I cannot rate this.")
        j = Judge(rubric="empathy-3pt", model="m", base_url=server.base_url, cache=str(tmp_path / "c.sqlite"), **FAST)
        r = judgekit.evaluate(preds, refs, judge=j, contexts=ctx)
    plain = judgekit.evaluate(preds, refs)
    for k, v in plain.scores.items():
        assert r.scores[k] == v
    assert "judge:empathy" in r.scores and 1.0 <= r.scores["judge:empathy"] <= 3.0
    status = r.per_item["judge:status"].tolist()
    assert status[3] == "unscored" and status.count("scored") == 11
    assert math.isnan(r.per_item["judge:empathy"].iloc[3])
    scored = [v for v, s in zip(r.per_item["judge:empathy"], status) if s == "scored"]
    assert r.scores["judge:empathy"] == pytest.approx(sum(scored) / len(scored))
    assert any("1 of 12 item(s) unscored" in w for w in r.warnings)
    assert "judge" in r.signature and "empathy-3pt" in r.signature["judge"]
    assert "sk-test" not in r.to_json() and "sk-test" not in str(r.signature)
