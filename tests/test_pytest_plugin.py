"""The pytest plugin, exercised with pytest's own ``pytester`` on a sample
model repository: a gate that passes, one that fails its threshold with a
readable message, a baseline written with --judgekit-update-baseline and
then enforced, CI lower bounds, replay-only judges under CI, the end-of-run
summary, and a session that does not use the plugin."""
from __future__ import annotations

import importlib.metadata
import json
import shutil
from pathlib import Path

import pytest

from tests._openai_server import OpenAIServer

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "smilechat-100.jsonl"


def _installed() -> bool:
    return any(e.value == "judgekit.pytest_plugin" for e in importlib.metadata.entry_points(group="pytest11"))


@pytest.fixture
def repo(pytester, monkeypatch):
    """A model repository: real Chinese replies (SmileChat, CC0) in data/."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    (pytester.path / "data").mkdir()
    shutil.copy(EXAMPLE, pytester.path / "data" / "pairs.jsonl")
    pytester.makeconftest("""
import json, pathlib
import pytest

@pytest.fixture
def pairs():
    rows = [json.loads(l) for l in (pathlib.Path(__file__).parent / "data" / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    return rows
""")
    return pytester


def run(pytester, *args):
    extra = [] if _installed() else ["-p", "judgekit.pytest_plugin"]
    # a subprocess: in-process runs would unload numpy between runs
    return pytester.runpytest_subprocess(*extra, "-p", "no:cacheprovider", *args)


@pytest.fixture(scope="session")
def s():
    """The example's scores.  Session scope: numpy, pandas and jieba load
    before pytester snapshots sys.modules (it unloads what a test imports,
    and numpy cannot be imported twice in one process)."""
    import judgekit

    rows = [json.loads(x) for x in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    return judgekit.evaluate([r["pred"] for r in rows], [r["ref"] for r in rows]).scores


def test_passing_gate_and_summary(s, repo):
    repo.makepyfile(test_quality=f"""
def test_reply_quality(judgekit_gate, pairs):
    gate = judgekit_gate("smile-model", [r["pred"] for r in pairs], [r["ref"] for r in pairs])
    gate.check(min={{"bleu-4": {s["bleu-4"] - 1:.4f}, "rouge-l": {s["rouge-l"] - 1:.4f}}},
               ci_lower={{"rouge-l": {s["rouge-l"] - 10:.4f}}})
""")
    res = run(repo)
    res.assert_outcomes(passed=1)
    out = res.stdout.str()
    assert "judgekit scores" in out
    assert "smile-model [passed] 100 items" in out
    assert f"{s['bleu-4']:.4f}" in out or f"{s['bleu-4']:.2f}" in out


def test_failing_threshold_names_the_metric_and_the_gap(s, repo):
    threshold = s["bleu-4"] + 2.5
    repo.makepyfile(test_quality=f"""
def test_reply_quality(judgekit_gate, pairs):
    gate = judgekit_gate("smile-model", [r["pred"] for r in pairs], [r["ref"] for r in pairs])
    gate.check(min={{"bleu-4": {threshold!r}, "rouge-l": 0.0}})
""")
    res = run(repo)
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "judgekit gate 'smile-model' failed (100 items)" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("bleu-4") and "below the threshold" in x)
    assert f"below the threshold by {2.5:.4f}" in line  # the gap, not just "failed"
    assert "rouge-l" not in [x.split()[0] for x in out.splitlines() if "below the threshold" in x]
    assert "signature: judgekit:" in out
    assert "Traceback" not in out  # a readable message, not a stack dump
    assert "smile-model [failed]" in out


def test_ci_lower_bound_can_fail_where_the_score_passes(s, repo):
    # 100 items: the score clears the bar but its 95% interval does not
    bar = s["rouge-l"] - 0.3
    repo.makepyfile(test_quality=f"""
def test_reply_quality(judgekit_gate, pairs):
    gate = judgekit_gate("smile-model", [r["pred"] for r in pairs], [r["ref"] for r in pairs])
    lo, hi = gate.ci("rouge-l")
    assert lo < {bar!r} < gate.scores["rouge-l"] < hi
    gate.check(min={{"rouge-l": {bar!r}}}, ci_lower={{"rouge-l": {bar!r}}})
""")
    res = run(repo)
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "95% CI lower >=" in out and "lower bound short by" in out


def test_baseline_update_then_regression(s, repo, monkeypatch):
    repo.makepyfile(test_quality="""
import os
def test_reply_quality(judgekit_gate, pairs):
    preds = [r["pred"] for r in pairs]
    if os.environ.get("REGRESS"):
        preds = [p[: len(p) // 2] for p in preds]   # a fine-tune that got worse
    gate = judgekit_gate("smile-model", preds, [r["ref"] for r in pairs])
    gate.check(max_drop={"bleu-4": 0.5, "rouge-l": 0.5})
""")
    # no baseline yet: a clear failure telling how to create it
    res = run(repo)
    res.assert_outcomes(failed=1)
    assert "no baseline in" in res.stdout.str() and "--judgekit-update-baseline" in res.stdout.str()
    # write it
    res = run(repo, "--judgekit-update-baseline")
    res.assert_outcomes(passed=1)
    base = json.loads((repo.path / "judgekit-baseline.json").read_text(encoding="utf-8"))
    assert base["gates"]["smile-model"]["scores"]["bleu-4"] == s["bleu-4"]
    assert base["gates"]["smile-model"]["signature"].startswith("judgekit:")
    assert "baseline written to" in res.stdout.str()
    # same outputs: passes against the baseline
    run(repo).assert_outcomes(passed=1)
    # regression: fails, showing the move per metric
    monkeypatch.setenv("REGRESS", "1")
    res = run(repo)
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert f"baseline {s['bleu-4']:.4f}, max drop 0.5000" in out
    moved = [x for x in out.splitlines() if "moved -" in x]
    assert {x.split()[0] for x in moved} <= {"bleu-4", "rouge-l"} and moved


def test_baseline_with_another_signature_is_refused(s, repo, monkeypatch):
    repo.makepyfile(test_quality="""
import os
def test_reply_quality(judgekit_gate, pairs):
    gate = judgekit_gate("smile-model", [r["pred"] for r in pairs], [r["ref"] for r in pairs],
                         tokenizer=os.environ.get("TOK", "jieba"))
    gate.check(max_drop=0.5)
""")
    run(repo, "--judgekit-update-baseline").assert_outcomes(passed=1)
    monkeypatch.setenv("TOK", "char")
    res = run(repo)
    res.assert_outcomes(failed=1)
    assert "scored differently" in res.stdout.str() and "tok:char" in res.stdout.str()


def test_baseline_from_the_compiled_segmenter_holds_without_it(s, repo, monkeypatch):
    """seg.c vs seg.py is provenance (identical tokens): a baseline recorded
    with the compiled core is accepted by a runner without a compiler; a
    changed tokenizer is still refused, naming the part that differs."""
    from judgekit.text.segment import get_segmenter

    if "seg.c" not in get_segmenter().signature():
        pytest.skip("the compiled segmenter is not built here")
    repo.makepyfile(test_quality="""
import os
def test_reply_quality(judgekit_gate, pairs):
    gate = judgekit_gate("smile-model", [r["pred"] for r in pairs], [r["ref"] for r in pairs],
                         whitespace=os.environ.get("WS", "drop"))
    gate.check(max_drop=0.0)
""")
    run(repo, "--judgekit-update-baseline").assert_outcomes(passed=1)
    stored = json.loads((repo.path / "judgekit-baseline.json").read_text(encoding="utf-8"))
    assert "+seg.c+" in stored["gates"]["smile-model"]["signature"]
    monkeypatch.setenv("JUDGEKIT_NO_NATIVE", "1")
    res = run(repo)
    res.assert_outcomes(passed=1)  # same numbers, max_drop 0: nothing moved
    monkeypatch.setenv("WS", "keep")
    res = run(repo)
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "scored differently" in out and "tok: jieba-0.42.1" in out and "ws.drop" in out and "ws.keep" in out


def test_judge_gate_replays_under_ci_without_network(s, repo, monkeypatch, tmp_path):
    """A judged gate: first run live against a loopback server fills the
    cache; under CI the same test replays with the server gone."""
    cache = tmp_path / "judge.sqlite"
    with OpenAIServer() as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-plugin-test")
        repo.makepyfile(test_quality=f"""
def test_judged(judgekit_gate, pairs):
    pairs = pairs[:12]
    gate = judgekit_gate("smile-judged", [r["pred"] for r in pairs], [r["ref"] for r in pairs],
                         contexts=[r["context"] for r in pairs], ids=[r["id"] for r in pairs],
                         judge=dict(rubric="empathy-3pt", model="m", base_url={server.base_url!r}, cache={str(cache)!r}))
    assert gate.judge_result.summary["n_scored"] == 12
    lo, hi = gate.ci("judge:empathy")
    assert 1 <= lo <= gate.scores["judge:empathy"] <= hi <= 3
    gate.check(min={{"judge:empathy": 1.0}}, ci_lower={{"judge:empathy": 1.0}})
""")
        res = run(repo)
        res.assert_outcomes(passed=1)
        sent = len(server.log)
        assert sent == 12
        assert "judge:empathy" in res.stdout.str()
    # server stopped; CI set: replay-only by default
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("OPENAI_API_KEY")
    run(repo).assert_outcomes(passed=1)
    # a new item under CI: replay-only names it instead of calling out
    text = (repo.path / "test_quality.py").read_text(encoding="utf-8").replace("pairs[:12]", "pairs[:13]")
    (repo.path / "test_quality.py").write_text(text, encoding="utf-8")
    res = run(repo)
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "replay-only" in res.stdout.str() and "smile-" in res.stdout.str()
    # a gate message naming what must match, not a ReplayMissError traceback
    assert "judgekit gate 'smile-judged': the judge could not score (replay-only: $CI is set" in out
    assert "server identity" in out and "Traceback" not in out


def test_a_gate_name_is_used_once(s, repo):
    repo.makepyfile(test_quality="""
import pytest

@pytest.mark.parametrize("cut", [30, 60])
def test_cut(judgekit_gate, pairs, cut):
    judgekit_gate("same-name", [r["pred"][:cut] for r in pairs], [r["ref"] for r in pairs]).check(min={"bleu-1": 0})
""")
    res = run(repo)
    res.assert_outcomes(passed=1, failed=1)
    assert "judgekit gate name 'same-name' is already used by test_quality.py::test_cut[30]" in res.stdout.str()


def test_session_without_gates_is_untouched(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    res = run(pytester)
    res.assert_outcomes(passed=1)
    out = res.stdout.str()
    assert "judgekit scores" not in out and "judgekit gate" not in out
    assert res.ret == 0


def test_plugin_module_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys; import judgekit.pytest_plugin; "
            "heavy = [m for m in ('pandas', 'numpy', 'jieba', 'openai', 'matplotlib', 'scipy') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


# -- pytest-xdist: updates from every worker kept, names claimed across workers,
#    a failing update run writes nothing ------------------------------------

_MANY = """
import os
import pytest

N = 3 + int(os.environ.get("RUN", "0")) // 2   # runs 2k and 2k+1 score the same items, other pairs differ

@pytest.mark.parametrize("k", range({n}))
def test_gate(judgekit_gate, pairs, k):
    rows = pairs[k % 90: k % 90 + N]
    gate = judgekit_gate(f"gate-{{k:03d}}", [r["pred"] for r in rows], [r["ref"] for r in rows], metrics=["bleu"],
                         tokenizer="char")  # no jieba dictionary to load in each worker
    gate.check(min={{"bleu-1": 0.0}}, max_drop={{"bleu-1": 100.0}})
"""


def _xdist():
    return pytest.importorskip("xdist", reason="pytest-xdist is not installed (it is in the test extras)")


def test_update_under_xdist_keeps_every_gate(s, repo, monkeypatch):
    """120 gates over 4 workers, 10 update runs, the compiled kernels and
    the pure-Python path (JUDGEKIT_NO_NATIVE=1) on alternate runs: each run
    leaves valid JSON holding all 120 gates, each with this run's numbers
    (before: workers overwrote each other's writes, losing about half,
    sometimes leaving a truncated file), and the pure-Python run writes the
    compiled run's numbers exactly."""
    _xdist()
    repo.makepyfile(test_many=_MANY.format(n=120))
    path = repo.path / "judgekit-baseline.json"
    compiled: dict = {}
    for run_no in range(10):
        monkeypatch.setenv("RUN", str(run_no))
        if run_no % 2:
            monkeypatch.setenv("JUDGEKIT_NO_NATIVE", "1")
        else:
            monkeypatch.delenv("JUDGEKIT_NO_NATIVE", raising=False)
        res = run(repo, "-n", "4", "--judgekit-update-baseline")
        res.assert_outcomes(passed=120)
        data = json.loads(path.read_text(encoding="utf-8"))  # valid JSON
        gates = data["gates"]
        assert sorted(gates) == [f"gate-{k:03d}" for k in range(120)], run_no
        assert {g["n_items"] for g in gates.values()} == {3 + run_no // 2}, run_no
        numbers = {k: g["scores"] for k, g in gates.items()}
        if run_no % 2:
            assert numbers == compiled, run_no   # pure Python == compiled, bit for bit
        else:
            compiled = numbers
        assert "baseline written to" in res.stdout.str() and "(120 gate(s))" in res.stdout.str()
        assert not list(repo.path.glob("judgekit-baseline.json.*"))  # no temporary or lock file left


def test_duplicate_gate_names_fail_across_workers(s, repo):
    """Two files on two workers (--dist loadfile) name the same gate: one
    test fails naming the other, whichever worker claimed it first."""
    _xdist()
    body = """
def test_{t}(judgekit_gate, pairs):
    judgekit_gate("shared-name", [r["pred"] for r in pairs[:5]], [r["ref"] for r in pairs[:5]],
                  metrics=["bleu"]).check(min={{"bleu-1": 0}})
"""
    repo.makepyfile(test_a=body.format(t="a"), test_b=body.format(t="b"))
    res = run(repo, "-n", "2", "--dist", "loadfile", "-v")
    res.assert_outcomes(passed=1, failed=1)
    out = res.stdout.str()
    workers = {line.split()[0] for line in out.splitlines()
               if line.startswith("[gw") and ("PASSED" in line or "FAILED" in line)}
    assert len(workers) == 2, out  # on different workers
    assert "judgekit gate name 'shared-name' is already used by test_" in out
    # an update run with the duplicate writes nothing
    res = run(repo, "-n", "2", "--dist", "loadfile", "--judgekit-update-baseline")
    res.assert_outcomes(passed=1, failed=1)
    assert not (repo.path / "judgekit-baseline.json").exists()
    assert "baseline NOT written (1 test(s) failed)" in res.stdout.str()


@pytest.mark.parametrize("xdist", [False, True])
def test_a_failing_update_run_leaves_the_baseline_untouched(s, repo, monkeypatch, xdist):
    if xdist:
        _xdist()
    repo.makepyfile(test_many=_MANY.format(n=6), test_other="""
import os
def test_something_else():
    assert not os.environ.get("BREAK"), "an unrelated test failed"
""")
    extra = ["-n", "2"] if xdist else []
    run(repo, *extra, "--judgekit-update-baseline").assert_outcomes(passed=7)
    path = repo.path / "judgekit-baseline.json"
    before = path.read_bytes()
    monkeypatch.setenv("RUN", "4")  # new numbers...
    monkeypatch.setenv("BREAK", "1")  # ...but the run fails
    res = run(repo, *extra, "--judgekit-update-baseline")
    res.assert_outcomes(passed=6, failed=1)
    assert path.read_bytes() == before
    assert "baseline NOT written (1 test(s) failed): a failing update run leaves the baseline as it was" \
        in res.stdout.str()
    monkeypatch.delenv("BREAK")
    run(repo, *extra, "--judgekit-update-baseline").assert_outcomes(passed=7)
    gates = json.loads(path.read_text(encoding="utf-8"))["gates"]
    assert {g["n_items"] for g in gates.values()} == {3 + 4 // 2}  # _MANY's N at RUN=4: the new numbers


def test_a_failure_lists_the_items_that_moved_most(s, repo, monkeypatch):
    """Against a baseline with per-item values: the items that fell most,
    by id; on a threshold: the items with the lowest scores."""
    repo.makepyfile(test_quality="""
import os
def test_reply_quality(judgekit_gate, pairs):
    preds = [r["pred"] for r in pairs]
    if os.environ.get("REGRESS"):
        for i in (7, 42, 63):
            preds[i] = "嗯。"                      # three replies broke
    gate = judgekit_gate("smile-model", preds, [r["ref"] for r in pairs], ids=[r["id"] for r in pairs])
    gate.check(min={"rouge-l": float(os.environ.get("BAR", "0"))}, max_drop={"rouge-l": 0.1})
""")
    run(repo, "--judgekit-update-baseline").assert_outcomes(passed=1)
    stored = json.loads((repo.path / "judgekit-baseline.json").read_text(encoding="utf-8"))["gates"]["smile-model"]
    ids = [json.loads(x)["id"] for x in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    assert stored["per_item"]["ids"] == [str(i) for i in ids] and len(stored["per_item"]["rouge-l"]) == 100
    monkeypatch.setenv("REGRESS", "1")
    res = run(repo)
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "rouge-l: the 3 items that fell most (id: baseline -> now):" in out, out
    listed = [x.strip().split(":")[0].strip("'") for x in out.splitlines() if "->" in x and x.startswith("    '")]
    assert sorted(listed) == sorted(str(ids[i]) for i in (7, 42, 63))
    # a threshold failure: the lowest items now
    monkeypatch.delenv("REGRESS")
    monkeypatch.setenv("BAR", "99")
    res = run(repo)
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "rouge-l: the 5 items with the lowest per-sentence scores (id: score):" in out
    lowest = sorted(s_ for s_ in stored["per_item"]["rouge-l"])[:5]
    assert out.count("\n    '") >= 5 and f"{lowest[0]:.4f}" in out


README = ROOT / "README.md"


def test_the_readme_gate_example_passes_on_the_readme_data(repo):
    """The README's gate snippet, verbatim, in a model repository whose
    dev_predictions.jsonl is the README's example data: the update run
    and the plain run both pass."""
    text = README.read_text(encoding="utf-8")
    marker = "# tests/test_quality.py in your model repository"
    start = text.index(marker)
    snippet = text[text.rindex("```python\n", 0, start) + len("```python\n"): text.index("```", start)]
    assert "judgekit_gate(" in snippet and "gate.check(" in snippet
    shutil.copy(EXAMPLE, repo.path / "dev_predictions.jsonl")
    (repo.path / "conftest.py").unlink()
    (repo.path / "tests").mkdir()
    (repo.path / "tests" / "test_quality.py").write_text(snippet, encoding="utf-8")
    res = run(repo, "--judgekit-update-baseline")
    res.assert_outcomes(passed=1)
    res = run(repo)
    res.assert_outcomes(passed=1)
    assert "my-model-dev [passed] 100 items" in res.stdout.str()
