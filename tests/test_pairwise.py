"""Pairwise judging: every pair in both orders on the loopback server, the
swapped verdict mapped back, FastChat's tie rule, position bias, the
length-controlled win rate, CIs, the cache, the CLI and the leaderboard
column."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from judgekit.errors import InputError
from judgekit.judge import PairwiseResult, load_pairwise, pairwise
from judgekit.judge._pairwise import reconcile
from judgekit.report import bootstrap_ci, leaderboard
from tests._openai_server import OpenAIServer
from tests.test_judge_cli import _cli

N = 10
BASE = {f"p{k}": f"base reply {k}" for k in range(N)}
# the system is longer on p0..p6 and shorter on p7..p9
SYSTEM = {f"p{k}": (f"system reply {k}, " + "warm words " * (k + 1) if k < 7 else f"sys {k}") for k in range(N)}
CONTEXTS = {f"p{k}": {"context": f"I lost my job and feel anxious #{k}", "emotion": "anxious"} for k in range(N)}
FAST = dict(n_bootstrap=200, progress=False)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-pairwise-test")
    with OpenAIServer() as srv:
        yield srv


def _at(text: str, slot: str) -> str:
    """A rule match: ``text`` shown in input ``slot`` (response_a or response_b)."""
    return f"{text}\n<<<END {slot}"


def _run(server, **kw):
    return pairwise({"base": BASE, "sys": SYSTEM}, contexts=CONTEXTS, model="m", base_url=server.base_url,
                    **{**FAST, **kw})


def _prefer_longer(server):
    for k in BASE:
        longer = max(BASE[k], SYSTEM[k], key=len)
        server.add_rule(_at(longer, "response_a"), "ok", scores={"preference": 1})
        server.add_rule(_at(longer, "response_b"), "ok", scores={"preference": 3})


def test_position_biased_judge_gives_all_inconsistent_pairs(server):
    server.add_rule("", "ok", scores={"preference": 1})  # always the reply shown first
    r = _run(server)
    s = r.summary
    assert len(server.log) == 2 * N  # both orders, one request each
    assert (r.per_item["outcome"] == "inconsistent").all()
    assert (r.per_item["verdict_ab"] == "A").all() and (r.per_item["verdict_ba"] == "B").all()
    assert s["inconsistent"] == 1.0 and s["win"] == s["tie"] == s["loss"] == 0.0
    assert s["position_bias"] == 1.0 and s["first_shown_rate"] == 1.0 and s["position_bias_second"] == 0.0
    assert s["win_rate"] == 0.5 and s["lc_win_rate"] == pytest.approx(0.5)
    assert r.to_scores().scores["pairwise:win_rate"] == 0.5


def test_length_loving_judge_wins_for_the_longer_and_length_control_pulls_to_half(server):
    _prefer_longer(server)
    r = _run(server)
    s = r.summary
    longer = {k for k in BASE if len(SYSTEM[k]) > len(BASE[k])}
    assert len(longer) == 7
    for row in r.per_item.itertuples():
        assert row.outcome == ("win" if row.id in longer else "loss")
        assert row.len_a == len(BASE[row.id]) and row.len_b == len(SYSTEM[row.id])
    assert s["win"] == 0.7 and s["loss"] == 0.3 and s["inconsistent"] == 0.0 and s["win_rate"] == 0.7
    assert s["position_bias"] == 0.0 and s["first_shown_rate"] == 0.5
    assert s["lc_coefficients"]["length"] > 0
    assert abs(s["lc_win_rate"] - 0.5) < abs(s["win_rate"] - 0.5)


def test_ties(server):
    server.add_rule("", "ok", scores={"preference": 2})
    r = _run(server)
    s = r.summary
    assert (r.per_item["outcome"] == "tie").all()
    assert s["tie"] == 1.0 and s["win_rate"] == 0.5 and s["inconsistent"] == 0.0 and s["position_bias"] == 0.0
    assert math.isnan(s["first_shown_rate"])  # no decisive verdict to be biased


def test_swapped_order_is_mapped_back_by_hand(server):
    items = [{"id": "x", "context": "c", "response_a": "baseline one", "response_b": "system one"},
             {"id": "y", "context": "c", "response_a": "baseline two", "response_b": "system two"},
             {"id": "z", "context": "c", "response_a": "baseline three", "response_b": "system three"}]
    # x: baseline first -> 3 (second shown, the system); system first -> 1 (first shown, the system): a win
    server.add_rule(_at("system one", "response_b"), "ok", scores={"preference": 3})
    server.add_rule(_at("system one", "response_a"), "ok", scores={"preference": 1})
    # y: tie one way, the baseline the other (system first -> 3): FastChat's tie
    server.add_rule(_at("system two", "response_b"), "ok", scores={"preference": 2})
    server.add_rule(_at("system two", "response_a"), "ok", scores={"preference": 3})
    # z: always the second shown: inconsistent, following the position
    server.add_rule("three", "ok", scores={"preference": 3})
    r = pairwise(items, model="m", base_url=server.base_url, **FAST)
    rows = {row["id"]: row for row in r.per_item.to_dict(orient="records")}
    assert (rows["x"]["pref_ab"], rows["x"]["pref_ba"]) == (3, 1)
    assert (rows["x"]["verdict_ab"], rows["x"]["verdict_ba"], rows["x"]["outcome"]) == ("B", "B", "win")
    assert (rows["y"]["verdict_ab"], rows["y"]["verdict_ba"], rows["y"]["outcome"]) == ("tie", "A", "tie")
    assert (rows["z"]["verdict_ab"], rows["z"]["verdict_ba"], rows["z"]["outcome"]) == ("B", "A", "inconsistent")
    assert r.summary["position_bias_second"] == pytest.approx(1 / 3) and r.summary["position_bias"] == 0.0
    # the second request of x shows the system's reply as response_a
    ba = [e.user for e in server.log if "system one" in e.user and "baseline one" in e.user]
    assert len(ba) == 2 and sum(u.index("system one") < u.index("baseline one") for u in ba) == 1
    assert r.names == ("A", "B")
    assert r.to_scores().column("pairwise:win_rate").tolist() == [1.0, 0.5, 0.5]
    assert [reconcile(a, b) for a, b in [("A", "A"), ("B", "tie"), ("tie", "tie"), ("A", "B"), (None, "A")]] == \
        ["loss", "tie", "tie", "inconsistent", "unscored"]


def test_cis_contain_the_estimates_and_match_the_report_bootstrap(server):
    r = _run(server, n_bootstrap=1000)  # no rules: the server's answers are a seeded mix
    s = r.summary
    assert 0 < s["win"] + s["loss"] and s["win"] + s["tie"] + s["loss"] + s["inconsistent"] == pytest.approx(1)
    for key in ("win", "tie", "loss", "inconsistent", "win_rate", "lc_win_rate", "position_bias"):
        lo, hi = s["ci"][key]
        assert lo <= s[key] <= hi, key
    sc = r.to_scores()
    assert sc.scores["pairwise:win_rate"] == pytest.approx(s["win_rate"])
    # the same interval as judgekit.report's bootstrap over the same values, seed and resamples
    assert bootstrap_ci(sc, n_bootstrap=1000, seed=12345)["pairwise:win_rate"] == s["ci"]["win_rate"]
    again = _run(server, n_bootstrap=1000)
    assert again.summary["ci"] == s["ci"]
    assert "pairwise:both-orders" in str(r.signature) and "rubric:empathy-pairwise@" in str(r.signature)


def test_unscored_order_leaves_the_item_unscored_with_the_reason(server):
    server.add_rule(_at(SYSTEM["p3"], "response_a"), "text", text="I can't compare these.")
    r = _run(server)
    row = r.per_item.set_index("id").loc["p3"]
    assert row["outcome"] == "unscored" and pd.isna(row["verdict_ba"]) and row["verdict_ab"] in ("A", "B", "tie")
    assert row["reason"].startswith("ba: ")
    assert r.summary["n_unscored"] == 1 and r.summary["n_scored"] == N - 1
    assert math.isnan(r.to_scores().column("pairwise:win_rate")[3])


def test_rerun_from_the_cache_sends_nothing(server, tmp_path):
    _prefer_longer(server)
    first = _run(server, cache=str(tmp_path / "c.sqlite"))
    sent = len(server.log)
    assert sent == 2 * N and first.summary["judge"]["requests_sent"] == 2 * N
    again = _run(server, cache=str(tmp_path / "c.sqlite"))
    assert len(server.log) == sent
    assert again.summary["judge"]["requests_sent"] == 0 and again.summary["judge"]["requests_cached"] == 2 * N
    assert again.per_item["outcome"].tolist() == first.per_item["outcome"].tolist()


def test_input_errors(server):
    with pytest.raises(InputError, match="not pairwise"):
        pairwise([{"context": "c", "response": "r"}], rubric="empathy-3pt", model="m", base_url=server.base_url)
    with pytest.raises(InputError, match="lacks 1 item.*'p9'"):
        pairwise({"base": BASE, "sys": {k: v for k, v in SYSTEM.items() if k != "p9"}}, contexts=CONTEXTS,
                 model="m", base_url=server.base_url)
    with pytest.raises(InputError, match="contexts lack"):
        pairwise({"base": BASE, "sys": SYSTEM}, contexts={"p0": "c"}, model="m", base_url=server.base_url)
    with pytest.raises(InputError, match="majority"):
        _run(server, samples=3, temperature=1.0)
    assert not server.log


def test_cli_end_to_end_and_leaderboard_column(server, tmp_path):
    _prefer_longer(server)

    def write(name, rows):
        (tmp_path / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    write("ctx.jsonl", [{"id": k, **v} for k, v in CONTEXTS.items()])
    write("base.jsonl", [{"id": k, "pred": v} for k, v in BASE.items()])
    write("sys.jsonl", [{"id": k, "pred": v} for k, v in SYSTEM.items()])
    write("refs.jsonl", [{"id": k, "ref": "I am sorry you lost your job"} for k in BASE])
    write("short.jsonl", [{"id": k, "pred": v} for k, v in SYSTEM.items() if k not in ("p2", "p5")])
    out = tmp_path / "out.jsonl"
    args = ["pairwise", "--baseline", tmp_path / "base.jsonl", "--contexts", tmp_path / "ctx.jsonl", "--model", "m",
            "--base-url", server.base_url, "--cache", tmp_path / "c.sqlite", "--output", out, "--no-progress",
            "--n-bootstrap", "200"]
    proc = _cli(*args, "--system", tmp_path / "sys.jsonl", check=0)
    assert "sys vs base: 10 of 10 item(s)" in proc.stdout
    for label in ("win", "tie", "loss", "inconsistent", "win rate", "LC win rate", "position bias"):
        assert f"  {label} " in proc.stdout, label
    assert " 70.0% [" in proc.stdout  # the win share
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == list(BASE)
    assert set(rows[0]) == {"id", "outcome", "verdict_ab", "verdict_ba", "len_a", "len_b"}
    assert "20 sent" in proc.stderr
    again = _cli(*args, "--system", tmp_path / "sys.jsonl", check=0)
    assert "0 sent" in again.stderr and again.stdout == proc.stdout
    bad = _cli(*args, "--system", tmp_path / "short.jsonl", check=2)
    assert "lacks 2 of the 10 item(s)" in bad.stderr and "'p2', 'p5'" in bad.stderr

    back = load_pairwise(out, n_bootstrap=200)
    assert isinstance(back, PairwiseResult) and back.summary["win_rate"] == 0.7

    lb = _cli("leaderboard", "--system", f"base={tmp_path / 'base.jsonl'}", "--system",
              f"sys={tmp_path / 'sys.jsonl'}", "--refs", tmp_path / "refs.jsonl", "--pairwise", f"sys={out}",
              "--tests", "none", "--n-bootstrap", "50", "--lang", "en", check=0).stdout
    assert "pairwise:win_rate" in lb
    line = next(x for x in lb.splitlines() if x.startswith("| sys |"))
    assert "0.7000" in line


def test_leaderboard_python_column(server):
    _prefer_longer(server)
    r = _run(server)
    refs = {k: "I am sorry you lost your job" for k in BASE}
    lb = leaderboard({"base": BASE, "sys": SYSTEM, "other": SYSTEM}, refs, pairwise={"sys": r}, tests=(),
                     n_bootstrap=50, lang="en")
    assert "pairwise:win_rate" in lb.columns
    assert lb.scores.at["sys", "pairwise:win_rate"] == 0.7
    assert math.isnan(lb.scores.at["base", "pairwise:win_rate"])
    assert math.isnan(lb.scores.at["other", "pairwise:win_rate"])
    lo, hi = lb.ci[("sys", "pairwise:win_rate")]
    assert lo <= 0.7 <= hi
    assert "pairwise:win_rate" in lb.to_markdown()
    with pytest.raises(InputError, match="baseline"):
        leaderboard({"base": BASE, "sys": SYSTEM}, refs, pairwise={"base": r}, tests=(), n_bootstrap=20, lang="en")
    with pytest.raises(InputError, match="pairwise results for system .sys. has 5 item.*.p5."):
        leaderboard({"base": {k: BASE[k] for k in list(BASE)[:5]}, "sys": {k: SYSTEM[k] for k in list(BASE)[:5]}},
                    {k: refs[k] for k in list(BASE)[:5]}, pairwise={"sys": r}, tests=(), n_bootstrap=20, lang="en")
