"""``judgekit.Scores``, the one value between packages: ids as strings,
per-item columns, one signature, and resampling through the producer's
reducer (exact for corpus BLEU), joined by id, written as valid JSONL."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import judgekit
from judgekit.errors import InputError
from judgekit.scores import MeanReducer, Scores

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "smilechat-100.jsonl"


@pytest.fixture(scope="module")
def pairs():
    rows = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    return [r["id"] for r in rows], [r["pred"] for r in rows], [r["ref"] for r in rows]


@pytest.mark.parametrize("preset", [None, "chatglm", "sacrebleu", "rouge-score"])
def test_a_result_is_scores_and_resamples_exactly(pairs, preset):
    _, preds, refs = pairs
    r = judgekit.evaluate(preds, refs, preset=preset)
    assert isinstance(r, Scores) and r.ids == [str(i) for i in range(len(preds))]
    idx = np.random.default_rng(3).choice(len(preds), size=len(preds))
    again = judgekit.evaluate([preds[i] for i in idx], [refs[i] for i in idx], preset=preset)
    assert r.resample(idx) == {k: again.scores[k] for k in r.resampled}
    assert r.resample(np.arange(len(preds))) == {k: r.scores[k] for k in r.resampled}
    if preset is None:
        assert "distinct-1" in r.scores and "distinct-1" not in r.resampled  # needs the corpus's n-gram sets
    sub = r.take(idx[:10])
    assert sub.ids == [str(i) for i in idx[:10]] and sub.n_items == 10


def test_series_labels_become_string_ids(pairs):
    import pandas as pd

    ids, preds, refs = pairs
    r = judgekit.evaluate(pd.Series(preds, index=ids), refs)
    assert r.ids == [str(i) for i in ids]
    assert list(r.to_frame().index) == [str(i) for i in ids]


def _judge_like(ids, values, levels=(1, 2, 3)):
    status = np.array(["scored" if v == v else "unscored" for v in values], dtype=object)
    return Scores(ids, {"judge:empathy": np.array(values, dtype=float), "judge:status": status},
                  signature={"model": "m"}, reducer=MeanReducer(["judge:empathy"]), levels={"judge:empathy": levels})


def test_join_pairs_by_id_not_position(pairs):
    ids, preds, refs = pairs
    import pandas as pd

    r = judgekit.evaluate(pd.Series(preds[:5], index=ids[:5]), refs[:5])
    vals = [1.0, 2.0, float("nan"), 3.0, 2.0]
    j = _judge_like([str(i) for i in ids[:5]], vals)
    shuffled = j.select(list(reversed(j.ids)))
    joined = r.join(shuffled, part="judge")
    np.testing.assert_array_equal(joined.column("judge:empathy"), np.array(vals))
    assert joined.scores["judge:empathy"] == pytest.approx(2.0)
    assert joined.signature["judge"]["model"] == "m" and joined.signature["preset"] == "default"
    assert joined.levels == {"judge:empathy": (1, 2, 3)}
    assert joined.resample([0, 0, 1])["judge:empathy"] == pytest.approx(4 / 3)
    assert joined.resample([0, 0, 1])["bleu-4"] == r.resample([0, 0, 1])["bleu-4"]
    with pytest.raises(InputError, match="only here"):
        r.join(j.take([0, 1]), part="judge")
    with pytest.raises(InputError, match="both have"):
        joined.join(shuffled, part="judge2")


def test_pool_needs_one_signature(pairs):
    _, preds, refs = pairs
    a = judgekit.evaluate(preds[:20], refs[:20])
    b = judgekit.evaluate(preds[20:40], refs[:20])
    both = Scores.pool(a, b)
    assert both.n_items == 40
    assert both.resample(np.arange(20, 40)) == {k: b.scores[k] for k in b.resampled}
    c = judgekit.evaluate(preds[:20], refs[:20], tokenizer="char")
    with pytest.raises(InputError, match="scored differently"):
        Scores.pool(a, c)


def test_jsonl_round_trip_is_valid_json_with_null(tmp_path):
    s = _judge_like(["a", "b", "c"], [1.0, float("nan"), 3.0])
    path = tmp_path / "s.jsonl"
    s.to_jsonl(path)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text
    rows = [json.loads(line, parse_constant=lambda c: pytest.fail(f"invalid JSON constant {c}"))
            for line in text.splitlines()]
    assert rows[2] == {"id": "b", "judge:empathy": None, "judge:status": "unscored"}
    back = Scores.from_jsonl(path)
    assert back.ids == ["a", "b", "c"] and back.signature == s.signature and back.levels == s.levels
    np.testing.assert_array_equal(back.column("judge:empathy"), s.column("judge:empathy"))
    assert back.scores == s.scores and back.resample([0, 0, 2]) == s.resample([0, 0, 2])


def test_ngram_scores_round_trip_without_their_statistics(tmp_path, pairs):
    _, preds, refs = pairs
    r = judgekit.evaluate(preds[:10], refs[:10])
    path = tmp_path / "r.jsonl"
    r.to_jsonl(path)
    back = Scores.from_jsonl(path)
    assert back.scores == r.scores and back.signature == r.signature and back.resampled == []
    with pytest.raises(InputError, match="cannot be resampled"):
        back.resample([0])


def test_from_jsonl_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"judgekit.scores": {"signature": "", "scores": {}, "n_items": 1}}\n{"x": 1}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: row without 'id'"):
        Scores.from_jsonl(path)
    path.write_text('{"id": "a"}\n')
    with pytest.raises(InputError, match="bad.jsonl:1: expected the header"):
        Scores.from_jsonl(path)


def test_ids_and_columns_are_checked():
    with pytest.raises(InputError, match="ids repeat: '1'"):
        Scores([1, "1"], {"x": [1, 2]})
    with pytest.raises(InputError, match="'x' has 1 values for 2 items"):
        Scores(["a", "b"], {"x": [1]})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2).map(float), st.just(float("nan"))), min_size=1, max_size=30),
       st.lists(st.integers(0, 29), min_size=1, max_size=30))
def test_mean_reducer_is_the_mean_of_scored_items(values, idx):
    idx = [i % len(values) for i in idx]
    s = _judge_like([str(i) for i in range(len(values))], values, (0, 1, 2))
    got = s.resample(idx)["judge:empathy"]
    kept = [values[i] for i in idx if values[i] == values[i]]
    if kept:
        assert got == pytest.approx(sum(kept) / len(kept))
    else:
        assert math.isnan(got)


def test_judge_result_gives_scores_with_the_rubric_levels(tmp_path, monkeypatch):
    from tests._openai_server import OpenAIServer

    monkeypatch.setenv("OPENAI_API_KEY", "sk-scores-test")
    items = [{"id": f"i{k}", "context": "我很难过。", "response": f"抱抱你 {k}"} for k in range(6)]
    with OpenAIServer() as server:
        jr = judgekit.judge(items, rubric="empathy-3pt", model="m", base_url=server.base_url,
                            cache=str(tmp_path / "c.sqlite"), progress=False)
    s = jr.to_scores()
    assert s.ids == [f"i{k}" for k in range(6)] and s.levels == {"judge:empathy": (1, 2, 3)}
    assert s.scores["judge:empathy"] == pytest.approx(jr.summary["means"]["empathy"])
    assert s.signature == jr.signature and s.signature["model"] == "m"
    assert jr.dimensions == ["empathy"]


def test_released_human_ratings_as_scores():
    from tests.conftest import require_data

    require_data("kumar2025-empathic-communication")
    from judgekit.human import load_ratings, rating_scores
    from judgekit.report import bootstrap_ci

    t = load_ratings("kumar2025")
    experts = rating_scores(t, "expert", framework="epitome")
    gpt = rating_scores(t, "gpt", framework="epitome", prefix="gpt:")
    sub = t[(t.framework == "epitome") & (t.rater_kind == "expert")]
    medians = sub.groupby(["item", "dimension"])["score"].median()
    for d in set(sub.dimension):
        got = dict(zip(experts.ids, experts.column("rating:" + d)))
        assert got == {str(i): v for (i, dd), v in medians.items() if dd == d}
        assert experts.levels["rating:" + d] == (0, 1, 2)
    both = experts.join(gpt, part="gpt")
    assert both.signature["gpt"]["raters"] == "gpt" and both.signature["raters"] == "expert1,expert2,expert3"
    lo, hi = bootstrap_ci(both, metrics=["gpt:level_explorations"], n_bootstrap=200)["gpt:level_explorations"]
    assert lo <= both.scores["gpt:level_explorations"] <= hi
    with pytest.raises(InputError, match="several frameworks"):
        rating_scores(t, "expert")


@pytest.mark.parametrize("preset, options", [(None, {}), (None, {"aggregate": "mean"}), (None, {"scale": 1}),
                                             (None, {"smoothing": "method3"}), (None, {"metrics": ["bleu-4", "len"
                                                                                                   "-ratio"]}),
                                             ("chatglm", {}), ("glm4", {}), ("llamafactory", {}), ("sacrebleu", {}),
                                             ("rouge-score", {})])
def test_resample_many_equals_one_resample_at_a_time(pairs, preset, options):
    """The array path (counts @ statistics; corpus BLEU through the same
    scalar formula on the summed statistics) gives each resample's corpus
    BLEU bit for bit, and its means to the last bits of a different
    summation order."""
    _, preds, refs = pairs
    r = judgekit.evaluate(preds, refs, preset=preset, **options)
    idx = np.random.default_rng(11).choice(len(preds), size=(150, len(preds)))
    many = r.resample_many(idx, chunk=64)
    for k in r.resampled:
        loop = np.array([r.resample(row)[k] for row in idx])
        corpus_bleu = k.startswith("bleu") and preset in (None, "sacrebleu") and options.get("aggregate") != "mean"
        if corpus_bleu:
            assert np.array_equal(many[k], loop), k
        else:
            np.testing.assert_allclose(many[k], loop, rtol=1e-12, atol=1e-12, err_msg=k)


def test_resample_many_of_joined_judge_scores_and_missing_values():
    s = _judge_like([str(i) for i in range(6)], [1.0, float("nan"), 3.0, 2.0, float("nan"), 3.0])
    idx = np.array([[0, 1, 2, 3, 4, 5], [1, 1, 4, 4, 0, 0], [2, 2, 2, 2, 2, 2]])
    many = s.resample_many(idx)["judge:empathy"]
    assert many[0] == pytest.approx(9 / 4) and many[1] == pytest.approx(1.0) and many[2] == pytest.approx(3.0)
    assert [s.resample(row)["judge:empathy"] for row in idx] == pytest.approx(list(many))
