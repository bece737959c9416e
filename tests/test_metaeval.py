"""``meta_eval`` / ``judgekit meta-eval``: a judge rated against the released
human ratings, with answers known in advance.

A loopback judge that answers expert1's released ratings must get exactly
the figures that ``agreement`` and ``human_ceiling`` give expert1 against
the other experts, and QWK 1 with expert1; the released LLM raters' rows
must equal ``agreement`` on them (one code path for every rater).  Figures
from such a judge are simulated and labelled so."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._openai_server import OpenAIServer
from tests.conftest import require_data

REPO = Path(__file__).resolve().parent.parent


def _main_text(item):
    for k in ("response", "dialogue", "context"):
        if isinstance(item.get(k), str) and item[k].strip():
            return item[k]
    raise AssertionError(item)


def _snippets(items):
    """A substring per item that no other item's text holds (the loopback
    server's rules match on the rendered user message)."""
    texts = [_main_text(it) for it in items]
    out = []
    for i, t in enumerate(texts):
        lines = sorted((ln.strip() for ln in t.splitlines() if len(ln.strip()) > 12), key=len, reverse=True)
        for ln in lines:
            for cut in (ln[:60], ln[-60:], ln):
                if cut and all(cut not in o for j, o in enumerate(texts) if j != i):
                    out.append(cut)
                    break
            else:
                continue
            break
        else:
            raise AssertionError(f"no unique snippet for item {items[i]['id']}")
    return out


def _echo_rater(server, table, items, framework, rater):
    """Script the server to answer ``rater``'s released ratings."""
    r = table[(table["framework"] == framework) & (table["rater"] == rater)]
    for it, snip in zip(items, _snippets(items)):
        vals = {d: int(v) for d, v in r.loc[r["item"].astype(str) == str(it["id"]), ["dimension", "score"]].values}
        server.add_rule(snip, "ok", scores=vals)


@pytest.fixture
def kumar():
    require_data("kumar2025-empathic-communication")
    from judgekit.human import load_ratings

    return load_ratings("kumar2025")


def test_a_judge_answering_expert1_gets_expert1s_figures(kumar, tmp_path, monkeypatch):
    import judgekit
    from judgekit.human import agreement, human_ceiling, judge_items
    from judgekit.judge import Judge

    monkeypatch.setenv("OPENAI_API_KEY", "sk-metaeval-test")
    [s] = judge_items("kumar2025", "epitome")
    others = ["expert2", "expert3"]
    with OpenAIServer() as server:
        _echo_rater(server, kumar, s.items, "epitome", "expert1")
        judge = Judge(model="m", base_url=server.base_url, cache=str(tmp_path / "c.sqlite"), progress=False)
        rep = judgekit.meta_eval("kumar2025", judge, framework="epitome", humans=others, n_bootstrap=200,
                                 simulated=True)
    dims = sorted(set(kumar.loc[kumar["framework"] == "epitome", "dimension"]))
    assert [d for _, d in rep.dimensions] and set(d for _, d in rep.dimensions) == set(dims)
    e1 = kumar[(kumar["framework"] == "epitome") & (kumar["rater"] == "expert1")]
    for d in dims:
        f = rep.get("judge:m", "epitome", d)
        assert f.n_unscored == 0
        direct = agreement(kumar, a="expert1", b=others, framework="epitome", dimension=d, n_bootstrap=200)
        assert f.agreement.to_dict()["figures"] == direct.to_dict()["figures"]
        ceil = human_ceiling(kumar, judges=["expert1", "gpt", "claude", "gemini"], humans=others, framework="epitome",
                             dimension=d, metrics=("kappa_quadratic",), n_bootstrap=200)
        row = next(r for r in ceil.rows if r["rater"] == "expert1")
        assert f.ceiling["estimate"] == row["mean"].estimate and f.ceiling["minus"] == row["minus_human"].estimate
        # its scores are expert1's: QWK 1 with expert1
        one = agreement(rep.table, a="judge:m", b="expert1", framework="epitome", dimension=d, n_bootstrap=0)
        assert one["kappa_quadratic"].estimate == pytest.approx(1.0) and one.n_items == 50
        e1d = e1[e1["dimension"] == d].set_index("item")["score"]
        assert f.distribution == {k: v for k, v in (e1d.map(lambda x: f"{x:g}").value_counts() / len(e1d))
                                  .sort_index(key=lambda i: i.astype(float)).items()}
        # the released raters: the same code, the same figures as agreement() on them
        g = rep.get("gpt", "epitome", d)
        assert g.agreement.to_dict()["figures"] == agreement(kumar, a="gpt", b=others, framework="epitome",
                                                             dimension=d, n_bootstrap=200).to_dict()["figures"]
    lb = rep.leaderboard()
    assert list(lb.index) == ["judge:m (simulated)", "gpt", "claude", "gemini"]
    assert "SIMULATED judge" in str(rep) and "Simulated judge" in rep.to_html()
    assert json.loads(rep.to_json())["simulated"] is True


def test_unscored_items_are_counted_not_scored(kumar, tmp_path, monkeypatch):
    import judgekit
    from judgekit.human import judge_items
    from judgekit.judge import Judge

    monkeypatch.setenv("OPENAI_API_KEY", "sk-metaeval-test")
    [s] = judge_items("kumar2025", "epitome")
    snips = _snippets(s.items)
    with OpenAIServer() as server:
        for snip in snips[:4]:
            server.add_rule(snip, "text", text="I'm sorry, I can't rate this.")
        judge = Judge(model="m", base_url=server.base_url, cache=None, progress=False)
        rep = judgekit.meta_eval("kumar2025", judge, framework="epitome", n_bootstrap=100, references=None)
    for f in rep.figures:
        assert f.n_unscored == 4 and sum(f.unscored_reasons.values()) == 4
        assert f.agreement.n_items == 46  # the unscored items are missing, not zeros
    assert rep.usage["n_unscored"] == 4 and rep.leaderboard().loc["judge:m", "unscored_share"] == pytest.approx(0.08)


def _cli(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_BASE_URL")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["OPENAI_API_KEY"] = "sk-metaeval-cli"
    return subprocess.run([sys.executable, "-m", "judgekit", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=900)


def test_cli_card_for_all_twelve_kumar_dimensions(kumar, tmp_path):
    with OpenAIServer() as server:
        proc = _cli("meta-eval", "--dataset", "kumar2025", "--model", "m", "--base-url", server.base_url,
                    "--cache", tmp_path / "c.sqlite", "--n-bootstrap", "100", "--out", tmp_path / "card",
                    "--simulated")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    dims = kumar.loc[kumar["framework"] != "perceived_empathy", ["framework", "dimension"]].drop_duplicates()
    assert len(dims) == 12
    for fw, d in dims.itertuples(index=False):
        assert f"{fw} / {d}" in out
    assert "perceived_empathy" in out  # named as not released, in a note
    assert "SIMULATED" in out and "evaluator leaderboard" in out
    report = json.loads((tmp_path / "card" / "meta-eval.json").read_text(encoding="utf-8"))
    assert {f["rater"] for f in report["figures"]} == {"judge:m", "gpt", "claude", "gemini"}
    assert all(f["ceiling"] is None or f["ceiling"]["verdict"] in ("below", "within", "above")
               for f in report["figures"])
    assert (tmp_path / "card" / "meta-eval.html").stat().st_size > 2000


def test_html_card_in_headless_chromium(kumar, tmp_path):
    from tests.test_report_html import CHROMIUM, _chromium

    if CHROMIUM is None:
        pytest.skip("headless Chromium not installed (Debian: apt-get install -y chromium; .ci/run installs it)")
    with OpenAIServer() as server:
        proc = _cli("meta-eval", "--dataset", "kumar2025", "--framework", "epitome", "--model", "m", "--base-url",
                    server.base_url, "--cache", tmp_path / "c.sqlite", "--n-bootstrap", "100", "--out",
                    tmp_path / "card", "--simulated")
    assert proc.returncode == 0, proc.stderr
    page = tmp_path / "card" / "meta-eval.html"
    shot = tmp_path / "card.png"
    r = _chromium("--window-size=1200,1400", f"--screenshot={shot}", page.as_uri(), tmp=tmp_path)
    assert shot.exists() and shot.stat().st_size > 10_000, r.stderr[-2000:]
    dom = _chromium("--dump-dom", page.as_uri(), tmp=tmp_path).stdout
    assert "level_explorations" in dom and "Evaluator leaderboard" in dom and "Simulated judge" in dom


def test_epitome_and_welivita_run_the_same_way(tmp_path, monkeypatch):
    import judgekit
    from judgekit.judge import Judge

    monkeypatch.setenv("OPENAI_API_KEY", "sk-metaeval-test")
    welivita = REPO / "tests" / "fixtures" / "human" / "welivita_synthetic.csv"
    with OpenAIServer() as server:
        judge = Judge(model="m", base_url=server.base_url, cache=str(tmp_path / "c.sqlite"), progress=False,
                      concurrency=32)
        rep = judgekit.meta_eval("welivita2024", judge, path=welivita, n_bootstrap=50, simulated=True)
    assert rep.figures and all(f.rater == "judge:m" for f in rep.figures)  # one human per response: no ceiling
    assert all(f.ceiling is None for f in rep.figures) and rep.usage["n_items"] > 0
    require_data("epitome-reddit")
    with OpenAIServer() as server:
        judge = Judge(model="m", base_url=server.base_url, cache=str(tmp_path / "d.sqlite"), progress=False,
                      concurrency=32)
        rep = judgekit.meta_eval("epitome", judge, n_bootstrap=50, simulated=True)
    assert rep.usage["n_items"] > 1000 and {f.rater for f in rep.figures} == {"judge:m"}
    assert not math.isnan(rep.get("judge:m", *rep.dimensions[0]).figure("kappa_quadratic"))


def test_the_readme_card_is_what_the_command_prints(kumar, tmp_path):
    """The README's card (a simulated judge: the loopback server, whose
    scores are a hash of the text) is exactly what the command prints."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("meta-eval: judge:loopback on kumar2025 (SIMULATED judge)")
    shown = [ln for ln in readme[start:readme.index("```", start)].splitlines() if ln != "..."]
    with OpenAIServer() as server:
        proc = _cli("meta-eval", "--dataset", "kumar2025", "--model", "loopback", "--base-url", server.base_url,
                    "--cache", tmp_path / "c.sqlite", "--simulated")
    assert proc.returncode == 0, proc.stderr
    printed = [ln.rstrip() for ln in proc.stdout.splitlines()]
    missing = [ln for ln in shown if ln not in printed]
    assert not missing, missing


def test_several_judges_side_by_side_in_one_leaderboard(kumar, tmp_path, monkeypatch):
    import judgekit
    from judgekit.judge import Judge

    monkeypatch.setenv("OPENAI_API_KEY", "sk-metaeval-test")
    with OpenAIServer() as server:
        judges = [Judge(model=m, base_url=server.base_url, cache=str(tmp_path / "c.sqlite"), progress=False)
                  for m in ("small", "large")]
        rep = judgekit.meta_eval("kumar2025", judges, framework="epitome", n_bootstrap=100, simulated=True)
        single = judgekit.meta_eval("kumar2025", judges[1], framework="epitome", n_bootstrap=100, simulated=True)
    lb = rep.leaderboard()
    assert list(lb.index) == ["judge:small (simulated)", "judge:large (simulated)", "gpt", "claude", "gemini"]
    for f in rep.figures:  # each judge's figures are its own, as when run alone
        if f.rater == "judge:large":
            g = single.get("judge:large", f.framework, f.dimension)
            assert f.agreement.to_dict()["figures"] == g.agreement.to_dict()["figures"]
    assert set(rep.usages) == {"judge:small", "judge:large"} and "judge:small, judge:large" in str(rep)
    with pytest.raises(judgekit.InputError, match="its own rater name"):
        judgekit.meta_eval("kumar2025", [judges[0], judges[0]], framework="epitome")
