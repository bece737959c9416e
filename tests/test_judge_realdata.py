"""The judge on released data: real SmileChat Chinese dialogues rendered
SoulChat-style, and Kumar 2025 items judged through the loopback server and
joined back to the expert ratings on the released keys."""
from __future__ import annotations

import gzip
import json
import re

import pandas as pd
import pytest

from judgekit.judge import judge, load_rubric
from judgekit.judge.render import render_messages
from tests._openai_server import OpenAIServer
from tests.conftest import require_data

FAST = dict(backoff_base=0.01, backoff_max=0.05, timeout=5.0, progress=False)


def _smile_items(n):
    path = require_data("smilechat-zh", "dialogues.jsonl.gz")
    items = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            turns = d["turns"]
            last = max(i for i, t in enumerate(turns) if t["role"] == "counselor")
            if last == 0:
                continue
            items.append({"id": d["id"], "dialogue": turns[:last], "response": turns[last]["content"]})
            if len(items) == n:
                break
    return items


def test_smilechat_dialogues_render_one_line_per_turn():
    rubric = load_rubric("soulchat-cehs")
    items = _smile_items(300)
    assert len(items) == 300
    for it in items:
        user = render_messages(rubric, it, "zh")[1]["content"]
        key = re.match(r"KEY: ([0-9a-f]{16})\n", user).group(1)
        block = re.search(rf"<<<BEGIN dialogue {key}>>>\n(.*?)\n<<<END dialogue {key}>>>", user, re.S).group(1)
        starts = [ln for ln in block.split("\n") if re.match(r"^(用户|心理咨询师)：", ln)]
        assert len(starts) == len(it["dialogue"]), it["id"]
        roles = ["用户" if t["role"] == "client" else "心理咨询师" for t in it["dialogue"]]
        assert [s.split("：", 1)[0] for s in starts] == roles
        assert it["response"] in user


def test_soulchat_judge_on_smilechat():
    items = _smile_items(20)
    with OpenAIServer() as server:
        res = judge(items, rubric="soulchat-cehs", model="m", base_url=server.base_url, **FAST)
        assert all("用户：" in e.user and "心理咨询师：" in e.user for e in server.log)
    assert (res.per_item["status"] == "scored").all()
    assert list(res.per_item.columns[:6]) == ["id", "status", "content", "empathy", "helpfulness", "safety"]
    assert res.per_item["safety"].isin([0, 1]).all()


@pytest.mark.parametrize("rubric_id, subset, text_file, key, fields", [
    ("lend-an-ear", "lend_an_ear", "sample_lend_an_ear_conversations.csv", "conversation_id", {"dialogue": "full_conversation"}),
    ("empatheticdialogues-eval", "empatheticdialogues", "sample_empatheticdialogues.csv", "conv_id", {"dialogue": "full_conversation"}),
    ("epitome", "epitome", "sample_epitome.csv", "sp_id", {"context": "seeker_post", "response": "response_post"}),
])
def test_kumar_items_judged_and_joined_to_expert_ratings(rubric_id, subset, text_file, key, fields):
    base = require_data("kumar2025-empathic-communication")
    texts = pd.read_csv(base / "original_data" / text_file, dtype={key: str})
    texts = texts.drop_duplicates(key).head(12)
    rubric = load_rubric(rubric_id)
    assert rubric.human_ratings["kumar2025"]["inputs"] == fields
    items = [{"id": row[key], **{inp: row[col] for inp, col in fields.items()}} for _, row in texts.iterrows()]
    with OpenAIServer() as server:
        res = judge(items, rubric=rubric_id, model="m", base_url=server.base_url, **FAST)
    assert (res.per_item["status"] == "scored").all()
    experts = pd.read_csv(base / "annotations" / subset / "expert1_ratings.csv", dtype={key: str})
    joined = res.per_item.merge(experts, left_on="id", right_on=key, suffixes=("_judge", "_expert"))
    assert len(joined) == len(items)  # every judged id is a released key (20-digit ids kept as strings)
    for d in rubric.dimensions:
        assert joined[f"{d.name}_judge"].isin(d.values).all()
        assert joined[f"{d.name}_expert"].isin(d.values).all()
