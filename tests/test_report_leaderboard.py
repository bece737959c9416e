"""Leaderboards on three systems built from the SmileChat pairs: A = the
pairs' prediction, B = a degraded A, C = a reference-derived system; judge
results from the real judge engine on a loopback server; the CLI end to
end; Markdown/CSV/plots."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import judgekit
from judgekit.errors import InputError
from judgekit.report import leaderboard, paired_bootstrap, paired_randomization
from judgekit.report._render import fmt_for
from tests._openai_server import OpenAIServer
from tests.conftest import require_data

ROOT = Path(__file__).resolve().parents[1]
N = 240
FAST = dict(n_bootstrap=300, n_randomization=300)


def _emotion(context: str) -> str:
    for word, label in (("焦虑", "anxiety"), ("难过", "sadness"), ("压力", "stress"), ("担心", "worry")):
        if word in context:
            return label
    return "other"


@pytest.fixture(scope="module")
def smile():
    path = require_data("smilechat-zh", "pairs.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(next(f)) for _ in range(N)]
    ids = [r["id"] for r in rows]
    refs = {r["id"]: r["ref"] for r in rows}
    a = {r["id"]: r["pred"] for r in rows}
    b = {r["id"]: r["pred"][: max(1, len(r["pred"]) * 2 // 3)] for r in rows}  # truncated replies
    c = {r["id"]: r["ref"][: len(r["ref"]) // 2] + r["pred"][len(r["pred"]) // 2:] for r in rows}
    emotions = {r["id"]: _emotion(r["context"]) for r in rows}
    contexts = {r["id"]: r["context"] for r in rows}
    return dict(ids=ids, refs=refs, A=a, B=b, C=c, emotions=emotions, contexts=contexts)


@pytest.fixture(scope="module")
def board(smile):
    systems = {"A": smile["A"], "B": smile["B"], "C": smile["C"]}
    return leaderboard(systems, smile["refs"], baseline="A", emotions=smile["emotions"], **FAST)


def test_scores_equal_evaluate_per_system(smile, board):
    refs = [smile["refs"][i] for i in smile["ids"]]
    for s in "ABC":
        direct = judgekit.evaluate([smile[s][i] for i in smile["ids"]], refs).scores
        for m, v in direct.items():
            assert board.scores.at[s, m] == v
    assert len({board.signatures["ngram"]}) == 1 and board.signatures["ngram"].startswith("judgekit:")


def test_significance_marks_and_p_values(smile, board):
    # C (half the reference) is far above A, B (truncated) below: every test agrees
    for m in ("bleu-4", "rouge-l"):
        assert board.scores.at["C", m] > board.scores.at["A", m] and board.significant("C", m)
        assert board.scores.at["B", m] < board.scores.at["A", m]
    assert board.significant("A", "bleu-4") is None  # the baseline
    # the p-values are those of the public test functions with the same seed
    refs = [smile["refs"][i] for i in smile["ids"]]
    ra = judgekit.evaluate([smile["A"][i] for i in smile["ids"]], refs)
    rb = judgekit.evaluate([smile["B"][i] for i in smile["ids"]], refs)
    bs = paired_bootstrap(ra, rb, n_bootstrap=300)
    ar = paired_randomization(ra, rb, n_randomization=300)
    for m in ("bleu-1", "bleu-4", "rouge-1", "rouge-l", "len-pred"):
        assert board.tests[("B", m)]["bs"].p_value == bs[m].p_value
        assert board.tests[("B", m)]["ar"].p_value == ar[m].p_value
        assert board.tests[("B", m)]["bs"].ci == pytest.approx(board.ci[("B", m)])
    for (s, m), (lo, hi) in board.ci.items():
        assert lo <= board.scores.at[s, m] + 1e-9 and board.scores.at[s, m] <= hi + 1e-9 or m.startswith("len")


def test_markdown_and_csv(board):
    md = board.to_markdown()
    assert "| **A** (baseline) |" in md
    c_row = next(x for x in md.splitlines() if x.startswith("| C |"))
    assert c_row.count("*") >= 7  # BLEU-1..4, ROUGE-1/2/L
    assert "\\* p \\< 0.05 versus A in every test" in md and "## Signatures" in md and "anxiety" in md
    frame = pd.read_csv(__import__("io").StringIO(board.to_csv()))
    assert set(frame["system"]) == {"A", "B", "C"}
    row = frame[(frame.system == "C") & (frame.metric == "bleu-4")].iloc[0]
    assert row["value"] == board.scores.at["C", "bleu-4"]  # full precision
    assert row["significant"] and row["p_bs"] < 0.05 and row["p_ar"] < 0.05
    assert (frame[frame.system == "A"]["significant"] == False).all()  # noqa: E712


def test_emotion_table_is_the_per_item_mean(smile, board):
    per_item = board.per_item["B"]
    emo = pd.Series([smile["emotions"][i] for i in smile["ids"]], index=per_item.index)
    expected = per_item["rouge-l"].groupby(emo).mean()
    assert board.emotion_metric == "rouge-l"
    for label, v in expected.items():
        assert board.emotions.at["B", label] == pytest.approx(v)


def test_items_are_paired_by_id_and_missing_ones_named(smile):
    refs = smile["refs"]
    rev = {i: smile["B"][i] for i in reversed(smile["ids"])}
    lb1 = leaderboard({"A": smile["A"], "B": smile["B"]}, refs, tests=(), n_bootstrap=20)
    lb2 = leaderboard({"A": smile["A"], "B": rev}, refs, tests=(), n_bootstrap=20)
    assert lb1.scores.equals(lb2.scores)
    short = dict(smile["C"])
    gone = smile["ids"][7]
    del short[gone]
    with pytest.raises(InputError, match=f"system 'C' lacks 1 of the {N} item\\(s\\): '{gone}'"):
        leaderboard({"A": smile["A"], "C": short}, refs)
    extra = dict(smile["C"], **{"not-an-item": "多出来的回复"})
    with pytest.raises(InputError, match="'not-an-item'"):
        leaderboard({"A": smile["A"], "C": extra}, refs)
    with pytest.raises(InputError, match="baseline 'Z' is not one of the systems"):
        leaderboard({"A": smile["A"], "C": smile["C"]}, refs, baseline="Z")


def _judge_all(smile, server, cache):
    from judgekit.judge import Judge

    j = Judge(rubric="empathy-3pt", model="m", base_url=server.base_url, cache=str(cache))
    out = {}
    ids = smile["ids"][:40]
    for s in "ABC":
        out[s] = j.score_pairs([smile[s][i] for i in ids], None, [smile["contexts"][i] for i in ids], ids=ids)
    return ids, out


def test_judge_dimensions_are_tested_and_levels_counted(smile, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-leaderboard-test")
    with OpenAIServer() as server:
        server.add_rule(smile["B"][smile["ids"][3]][:12], "text", text="I'm sorry, I can't rate this.")
        ids, judged = _judge_all(smile, server, tmp_path / "j.sqlite")
    refs = {i: smile["refs"][i] for i in ids}
    systems = {s: {i: smile[s][i] for i in ids} for s in "ABC"}
    # one system's results through the JSONL the CLI writes
    path = tmp_path / "B.judge.jsonl"
    rows = judged["B"].per_item[["id", "status", "empathy"]].to_dict(orient="records")
    path.write_text("\n".join(json.dumps({k: (None if v != v else v) for k, v in r.items()}) for r in rows) + "\n")
    lb = leaderboard(systems, refs, judges={"A": judged["A"], "B": str(path), "C": judged["C"].per_item}, **FAST)
    assert "judge:empathy" in lb.columns
    for s in "ABC":
        df = judged[s].per_item
        assert lb.scores.at[s, "judge:empathy"] == pytest.approx(df.loc[df.status == "scored", "empathy"].mean())
    assert lb.judge_counts["B"] == {"scored": 39, "unscored": 1}
    assert any("39 of 40 items both judges scored" in n for n in lb.notes)
    t = lb.tests[("B", "judge:empathy")]
    assert t["bs"].n_items == 39 and t["ar"].n_items == 39
    levels = lb.levels["empathy"]  # the rubric's scale 1/2/3, from the JudgeResult signature
    assert list(levels.columns) == ["Bad", "Okay", "Good"]
    for s in "ABC":
        df = judged[s].per_item
        got = df.loc[df.status == "scored", "empathy"]
        assert list(levels.loc[s]) == [float((got == k).mean()) for k in (1, 2, 3)]
    # explicit levels, and values outside them refused
    with pytest.raises(InputError, match="outside its three levels"):
        leaderboard(systems, refs, judges={s: judged[s] for s in "ABC"}, levels={"empathy": (0, 1, 2)}, tests=(),
                    n_bootstrap=10)
    assert "judge:A" in lb.signatures and lb.signatures["judge:A"].startswith("model:m|")
    assert "## empathy: share of Bad / Okay / Good" in lb.to_markdown()
    with pytest.raises(InputError, match="judge results for system 'A' lacks"):
        leaderboard(systems, refs, judges={"A": judged["A"].per_item.iloc[:-1]})


def test_plots_written(board, tmp_path):
    pytest.importorskip("matplotlib")
    written = board.write(tmp_path, formats=("md", "csv", "html", "png"))
    names = sorted(Path(p).name for p in written)
    assert names == ["emotions.png", "leaderboard.csv", "leaderboard.html", "leaderboard.md", "metrics.png"]
    for p in written:
        if p.endswith(".png"):
            assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and Path(p).stat().st_size > 5000
    html = (tmp_path / "leaderboard.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2
    assert "http://" not in html and "https://" not in html  # self-contained


def test_chinese_labels_render_with_a_cjk_font(tmp_path):
    """System names and emotions in Chinese: with a CJK font installed
    (e.g. Debian fonts-wqy-microhei) matplotlib finds every glyph."""
    pytest.importorskip("matplotlib")
    import warnings

    from matplotlib import font_manager

    if not any(k in p.lower() for p in font_manager.findSystemFonts() for k in ("wqy", "notosanscjk", "noto-cjk")):
        pytest.skip("no CJK font installed (Debian: apt-get install -y fonts-wqy-microhei)")
    lb = leaderboard({"基线": ["我很难过", "你好吗", "今天天气很好"], "微调": ["我很伤心", "你好", "今天天气不错"]},
                     ["我很伤心", "你好吗", "今天天气很好"], emotions=["悲伤", "其他", "快乐"], n_bootstrap=20,
                     n_randomization=20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = lb.plot(tmp_path)
    assert [w for w in caught if "Glyph" in str(w.message)] == []
    assert sorted(Path(p).name for p in written) == ["emotions.png", "metrics.png"]


def test_missing_matplotlib_names_the_extra(board, monkeypatch):
    from judgekit.report._plots import MissingPlotExtra

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingPlotExtra, match=r"pip install 'judgekit-empathy\[plot\]'"):
        board.plot("/nonexistent")
    assert "data:image/png" not in board.to_html()  # plots are optional in the page


def _cli(*args, check=0):
    proc = subprocess.run([sys.executable, "-m", "judgekit", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == check, proc.stderr
    return proc


def test_cli_files_directory_and_table(smile, tmp_path):
    ids = smile["ids"][:80]
    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps({"id": i, "ref": smile["refs"][i], "emotion": smile["emotions"][i]},
                                       ensure_ascii=False) + "\n" for i in ids), encoding="utf-8")
    sysdir = tmp_path / "systems"
    sysdir.mkdir()
    for s in "ABC":
        (sysdir / f"{s}.jsonl").write_text("".join(json.dumps({"id": i, "pred": smile[s][i]}, ensure_ascii=False)
                                                   + "\n" for i in ids), encoding="utf-8")
    out = tmp_path / "out"
    common = ["--refs", refs, "--baseline", "A", "--n-bootstrap", 200, "--n-randomization", 200,
              "--emotion-field", "emotion"]
    p1 = _cli("leaderboard", "--system", f"A={sysdir / 'A.jsonl'}", "--system", f"B={sysdir / 'B.jsonl'}",
              "--system", f"C={sysdir / 'C.jsonl'}", *common, "--out", out, "--format", "md,csv,html")
    assert p1.stdout == (out / "leaderboard.md").read_text(encoding="utf-8")
    assert "| **A** (baseline) |" in p1.stdout and "anxiety" in p1.stdout
    p2 = _cli("leaderboard", "--systems-dir", sysdir, *common)
    assert p2.stdout == p1.stdout
    # judge results as `judgekit judge --output` writes them (1/2/3 scale, one unscored row)
    judged = []
    for k, s in enumerate("ABC"):
        path = tmp_path / f"{s}.judge.jsonl"
        rows = [{"id": i, "status": "scored", "empathy": 1 + (n + k) % 3} for n, i in enumerate(ids)]
        rows[5] = {"id": ids[5], "status": "unscored", "empathy": None, "reason": "refusal", "raw": "no"}
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        judged += ["--judge", f"{s}={path}"]
    p4 = _cli("leaderboard", "--systems-dir", sysdir, *common, *judged, "--levels", "empathy=1,2,3")
    assert "judge:empathy" in next(x for x in p4.stdout.splitlines() if x.startswith("| system"))
    assert "## empathy: share of Bad / Okay / Good" in p4.stdout and "| A | 79 | 1 |" in p4.stdout
    table = tmp_path / "long.csv"
    pd.DataFrame([{"system": s, "id": i, "pred": smile[s][i], "ref": smile["refs"][i]} for s in "ABC" for i in ids]
                 ).to_csv(table, index=False)
    p3 = _cli("leaderboard", "--table", table, "--baseline", "A", "--n-bootstrap", 200, "--n-randomization", 200)
    first = lambda text: text.split("\n\n")[1]  # noqa: E731  the main table
    assert first(p3.stdout) == first(p1.stdout)
    # a system missing an item: exit 2 naming it
    (sysdir / "C.jsonl").write_text("".join(json.dumps({"id": i, "pred": smile["C"][i]}, ensure_ascii=False) + "\n"
                                            for i in ids[:-1]), encoding="utf-8")
    bad = _cli("leaderboard", "--systems-dir", sysdir, "--refs", refs, check=2)
    assert f"system 'C' lacks 1 of the 80 item(s): '{ids[-1]}'" in bad.stderr
    bad = _cli("leaderboard", "--refs", refs, check=2)
    assert "give the systems one way" in bad.stderr


def test_cli_emotion_field_with_judge_results_for_some_systems(smile, tmp_path):
    """Issue 18: --emotion-field when only some systems have judge results
    raised KeyError; the board now shows the judged systems' per-emotion
    means and leaves the others' cells empty."""
    ids = smile["ids"][:30]
    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps({"id": i, "ref": smile["refs"][i], "emotion": smile["emotions"][i]},
                                       ensure_ascii=False) + "\n" for i in ids), encoding="utf-8")
    systems = []
    for s in "AB":
        path = tmp_path / f"{s}.jsonl"
        path.write_text("".join(json.dumps({"id": i, "pred": smile[s][i]}, ensure_ascii=False) + "\n" for i in ids),
                        encoding="utf-8")
        systems += ["--system", f"{s}={path}"]
    judged = tmp_path / "A.judge.jsonl"
    scores = {i: 1 + n % 3 for n, i in enumerate(ids)}
    judged.write_text("".join(json.dumps({"id": i, "status": "scored", "empathy": scores[i]}) + "\n" for i in ids),
                      encoding="utf-8")
    proc = _cli("leaderboard", *systems, "--refs", refs, "--judge", f"A={judged}", "--emotion-field", "emotion",
                "--n-bootstrap", 50, "--n-randomization", 50)
    section = proc.stdout.split("## judge:empathy per emotion")[1].split("##")[0]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in section.splitlines() if line.startswith("| ") and not line.startswith("| system")}
    header = next(line for line in section.splitlines() if line.startswith("| system"))
    labels = [c.strip() for c in header.split("|")[2:-1]]
    for label, got in zip(labels, rows["A"]):
        want = [scores[i] for i in ids if smile["emotions"][i] == label]
        assert float(got) == pytest.approx(sum(want) / len(want), abs=5e-4)
    assert rows["B"] == ["–"] * len(labels)


# --- paper-ready outputs (issue 16 item 4; issue 17: Distinct's interval) ---

HOSTILE = "Sys_1 & {50%} $x^2$ #\\input{/etc/passwd}~\nnext"


def test_distinct_interval_rebuilds_the_ngram_sets(smile, board):
    """Distinct-n has an interval: value +- 1.96 sd over random halves, each
    half's Distinct recomputed from its own union of n-gram sets (checked
    here against a plain set union in Python, half by half)."""
    import numpy as np

    from judgekit.report._distinct import HALVES, distinct_resamples, half_samples

    refs = [smile["refs"][i] for i in smile["ids"]]
    preds = [smile["B"][i] for i in smile["ids"]]
    res = judgekit.evaluate(preds, refs)
    toks = res._reducer.hyp_tokens(preds)
    halves = np.vstack(list(half_samples(len(preds), min(FAST["n_bootstrap"], HALVES), 12345)))
    assert halves.shape == (HALVES, N // 2) and all(len(set(h)) == N // 2 for h in halves)  # no repeats
    got = distinct_resamples(toks, (1, 2), halves, 100)
    for order in (1, 2):
        for b in range(0, HALVES, 37):
            grams = [g for i in halves[b] for g in zip(*(toks[i][k:] for k in range(order)))]
            assert got[order][b] == len(set(grams)) / len(grams) * 100
        sd = float(np.std(got[order]))
        lo, hi = board.ci[("B", f"distinct-{order}")]
        v = board.scores.at["B", f"distinct-{order}"]
        assert (lo, hi) == pytest.approx((v - 1.959963984540054 * sd, v + 1.959963984540054 * sd), rel=1e-12)
        assert 0 < hi - lo < 0.5 * v
    # a repeated draw adds n-grams to the total but none to the union
    dup = distinct_resamples(toks, (1,), np.array([[0, 0], [0, 1]]), 100)[1]
    assert dup[0] == len(set(toks[0])) / (2 * len(toks[0])) * 100
    assert any(n.startswith("distinct-n: 95% interval") for n in board.notes)


def test_distinct_interval_from_segmenter_ids_equals_the_token_path(smile, monkeypatch):
    """The interval rebuilt from the compiled segmenter's ids (no str per
    token) is the one rebuilt from the token lists, bit for bit."""
    from judgekit.ngram.engine import NgramReducer
    from judgekit.report._distinct import _encoded_ids, distinct_intervals

    refs = [smile["refs"][i] for i in smile["ids"]]
    preds = [smile["B"][i] for i in smile["ids"]]
    res = judgekit.evaluate(preds, refs)
    if _encoded_ids(res, preds) is None:
        pytest.skip("the compiled segmenter is not in use: there are no ids")
    fast = distinct_intervals(res, preds, n_samples=200, seed=7)
    monkeypatch.setattr(NgramReducer, "hyp_ids", lambda self, texts: None)
    assert _encoded_ids(res, preds) is None
    slow = distinct_intervals(res, preds, n_samples=200, seed=7)
    assert fast == slow and set(fast[0]) == {"distinct-1", "distinct-2"}


def test_distinct_without_texts_is_marked(smile, tmp_path):
    refs = [smile["refs"][i] for i in smile["ids"][:50]]
    sc = {s: judgekit.evaluate([smile[s][i] for i in smile["ids"][:50]], refs) for s in "AB"}
    lb = leaderboard(sc, baseline="A", n_bootstrap=50, n_randomization=50)
    assert ("A", "distinct-1") not in lb.ci
    assert "distinct-n: no confidence interval (the systems were given as Scores, without their texts)" in lb.notes
    assert "- distinct-n: no confidence interval" in lb.to_markdown()
    if __import__("importlib").util.find_spec("matplotlib"):  # the plot says so instead of a zero-width bar
        svg = Path(lb.plot(tmp_path, formats=("svg",))[0]).read_text(encoding="utf-8")
        assert svg.count(">no CI<") == 4  # two systems x distinct-1/2
    # with the texts, compare rebuilds it; texts of the wrong length are refused, naming the counts
    from judgekit.report import compare

    texts = {s: [smile[s][i] for i in smile["ids"][:50]] for s in "AB"}
    lb2 = compare(sc, baseline="A", texts=texts, n_bootstrap=50, n_randomization=50)
    lo, hi = lb2.ci[("A", "distinct-1")]
    assert lo < lb2.scores.at["A", "distinct-1"] < hi
    with pytest.raises(InputError, match="49 given for 50 scored items"):
        compare(sc, baseline="A", texts={s: t[:-1] for s, t in texts.items()}, n_bootstrap=50, n_randomization=50)


def test_len_ratio_is_a_default_column(board):
    assert board.columns[-1] == "len-ratio" and "distinct-2" in board.columns
    assert "len-ratio" in board.to_markdown().splitlines()[2]


def _judged_board(smile, names=("A", "B")):
    ids = smile["ids"][:60]
    refs = {i: smile["refs"][i] for i in ids}
    systems = {n: {i: smile[s][i] for i in ids} for n, s in zip(names, "AB")}
    judged = {}
    for k, n in enumerate(names):
        judged[n] = pd.DataFrame({"id": ids, "status": "scored", "empathy": [1 + (j * (k + 1)) % 3 for j in range(60)],
                                  "raw": [f"{{\"empathy\": {1 + (j * (k + 1)) % 3}}} because {n} <reply {j}>"
                                          for j in range(60)]})
    return leaderboard(systems, refs, judges=judged, contexts={i: smile["contexts"][i] for i in ids}, n_examples=4,
                       **FAST)


def test_examples_are_where_systems_differ_most(smile):
    lb = _judged_board(smile)
    ex = lb.examples
    assert ex.attrs["metric"] == "judge:empathy" and len(ex) == 4
    a, b = lb.per_item["A"]["judge:empathy"], lb.per_item["B"]["judge:empathy"]
    spread = (a - b).abs()
    assert list(ex["spread"]) == sorted(spread, reverse=True)[:4]
    assert list(ex["id"]) == list(spread.sort_values(ascending=False, kind="stable").index[:4])
    for _, row in ex.iterrows():
        assert row["context"] == smile["contexts"][row["id"]] and row["reference"] == smile["refs"][row["id"]]
    md = lb.to_markdown()
    assert "## Examples: the 4 items where the systems differ most in judge:empathy" in md
    first = ex["id"][0]
    assert f"  - judge: {{\"empathy\": {int(a[first])}}} because A \\<reply" in md
    html = lb.to_html(plots=False)
    assert 'class="said">judge: {&quot;empathy&quot;' in html and "&lt;reply" in html and "<reply" not in html


def test_judge_signature_is_on_the_board(smile, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-leaderboard-test")
    with OpenAIServer() as server:
        ids, judged = _judge_all(smile, server, tmp_path / "j.sqlite")
    refs = {i: smile["refs"][i] for i in ids}
    lb = leaderboard({s: {i: smile[s][i] for i in ids} for s in "AB"}, refs,
                     judges={"A": judged["A"], "B": judged["B"]}, tests=(), n_bootstrap=20)
    line = next(x for x in lb.to_markdown().splitlines() if x.startswith("- judge of"))
    assert line.startswith("- judge of A, B: model m, rubric empathy-3pt@")
    assert "judge of A, B: model m, rubric empathy-3pt@" in lb.to_html(plots=False)
    assert "Judge of A, B: model m, rubric empathy-3pt@" in lb.to_latex()


def test_latex_table_structure_and_escaping(smile):
    lb = _judged_board(smile, names=("A", HOSTILE))
    tex = lb.to_latex()
    lines = tex.splitlines()
    body = lines[lines.index("\\toprule"):lines.index("\\bottomrule") + 1]
    assert body[0] == "\\toprule" and body[2] == "\\midrule" and body[4] == "\\midrule" and body[-1] == "\\bottomrule"
    assert lines[lines.index("\\toprule") - 1] == "\\begin{tabular}{@{}l" + "r" * len(lb.columns) + "@{}}"
    for row in (body[1], body[3], body[5]):
        assert row.endswith(" \\\\") and row.count(" & ") == len(lb.columns)
    esc = ("Sys\\_1 \\& \\{50\\%\\} \\$x\\textasciicircum{}2\\$ \\#\\textbackslash{}input\\{/etc/passwd\\}"
           "\\textasciitilde{} next")
    assert body[5].startswith(esc + " & ")
    assert "\\input{" not in tex and "\n next" not in tex
    # bold best, dagger where significant, +- half width of the CI
    for j, c in enumerate(lb.columns):
        cells = [r.split(" & ")[j + 1].removesuffix(" \\\\") for r in (body[3], body[5])]
        vals = [lb.scores.at[s, c] for s in ("A", HOSTILE)]
        if c.startswith("len-") or not all(v == v for v in vals):
            continue
        assert cells[vals.index(max(vals))].startswith("\\textbf{")
        assert ("$^\\dagger$" in cells[1]) == bool(lb.significant(HOSTILE, c))
        lo, hi = lb.ci[("A", c)]
        assert cells[0].endswith(f" {{\\scriptsize$\\pm${fmt_for(vals, c).format((hi - lo) / 2)}}}")


@pytest.mark.skipif(__import__("shutil").which("pdflatex") is None,
                    reason="no pdflatex (Debian: apt-get install -y texlive-latex-base texlive-latex-recommended); "
                           "the structure is tested without it")
def test_latex_table_compiles(smile, tmp_path):
    lb = _judged_board(smile, names=("A", HOSTILE))
    lb.write(tmp_path, formats=("tex",))
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\\usepackage{booktabs}\\usepackage{graphicx}"
                                      "\\begin{document}"
                                      "\\input{leaderboard.tex}\\end{document}\n", encoding="utf-8")
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "doc.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "doc.pdf").read_bytes()[:5] == b"%PDF-"
    log = (tmp_path / "doc.log").read_text(encoding="latin-1")
    assert "(/etc/passwd" not in log  # the hostile \\input was printed, not run
    assert "Overfull \\hbox" not in log  # the default columns fit the page


def test_svg_and_pdf_figures(board, tmp_path):
    pytest.importorskip("matplotlib")
    written = board.write(tmp_path)
    names = sorted(Path(p).name for p in written)
    assert names == ["emotions.png", "emotions.svg", "leaderboard.csv", "leaderboard.html", "leaderboard.md",
                     "leaderboard.tex", "metrics.png", "metrics.svg"]
    svg = (tmp_path / "metrics.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and ">bleu-4<" in svg  # text kept as text
    import matplotlib.image as mpimg

    assert mpimg.imread(str(tmp_path / "metrics.png")).shape[1] >= 3 * 1280  # 300 dpi
    pdf = board.plot(tmp_path / "pdf", formats=("pdf",))
    assert [Path(p).name for p in pdf] == ["metrics.pdf", "emotions.pdf"]
    assert Path(pdf[0]).read_bytes()[:5] == b"%PDF-"


def test_cli_writes_tex_svg_and_examples_with_contexts(smile, tmp_path):
    pytest.importorskip("matplotlib")
    ids = smile["ids"][:30]
    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps({"id": i, "ref": smile["refs"][i], "context": smile["contexts"][i]},
                                       ensure_ascii=False) + "\n" for i in ids), encoding="utf-8")
    args = []
    for s in "AB":
        path = tmp_path / f"{s}.jsonl"
        path.write_text("".join(json.dumps({"id": i, "pred": smile[s][i]}, ensure_ascii=False) + "\n" for i in ids),
                        encoding="utf-8")
        args += ["--system", f"{s}={path}"]
    out = tmp_path / "out"
    proc = _cli("leaderboard", *args, "--refs", refs, "--context-field", "context", "--examples", 2,
                "--n-bootstrap", 50, "--n-randomization", 50, "--out", out)
    assert sorted(p.name for p in out.iterdir()) == ["leaderboard.csv", "leaderboard.html", "leaderboard.md",
                                                    "leaderboard.tex", "metrics.png", "metrics.svg"]
    assert "\\toprule" in (out / "leaderboard.tex").read_text(encoding="utf-8")
    assert "## Examples: the 2 items where the systems differ most in rouge-l" in proc.stdout
    shown = [line[4:] for line in proc.stdout.splitlines() if line.startswith("### ")]
    assert len(shown) == 2 and all(f"- context: {smile['contexts'][i]}" in proc.stdout for i in shown)
    bad = _cli("leaderboard", *args, "--refs", refs, "--context-field", "nope", check=2)
    assert "no field 'nope'" in bad.stderr


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdef"), max_size=7), min_size=1, max_size=12), st.data())
def test_distinct_resamples_equal_a_plain_set_union(tokens, data):
    """Any corpus (empty and short replies included), any resample with
    repeats, orders 1-4: the array computation equals the set union."""
    import numpy as np

    from judgekit.report._distinct import distinct_resamples

    n = len(tokens)
    idx = np.array(data.draw(st.lists(st.lists(st.integers(0, n - 1), min_size=n, max_size=n), min_size=1,
                                      max_size=4)))
    for order in (1, 2, 3, 4):
        got = distinct_resamples(tokens, (order,), idx, 100, budget=7)  # tiny budget: many chunks
        for b, row in enumerate(idx):
            grams = [g for i in row for g in zip(*(tokens[i][k:] for k in range(order)))]
            assert got[order][b] == (len(set(grams)) / len(grams) if grams else 0.0) * 100


def test_examples_sort_by_rouge_when_one_system_is_judged(smile):
    ids = smile["ids"][:40]
    judged = pd.DataFrame({"id": ids, "status": "scored", "empathy": [1 + j % 3 for j in range(40)]})
    lb = leaderboard({s: {i: smile[s][i] for i in ids} for s in "AB"}, {i: smile["refs"][i] for i in ids},
                     judges={"A": judged}, n_examples=3, tests=(), n_bootstrap=20)
    assert lb.examples.attrs["metric"] == "rouge-l"
    spread = (lb.per_item["A"]["rouge-l"] - lb.per_item["B"]["rouge-l"]).abs()
    assert list(lb.examples["spread"]) == pytest.approx(sorted(spread, reverse=True)[:3])
    md = lb.to_markdown()
    first = lb.examples["id"][0]
    v = 1 + ids.index(first) % 3
    assert f"- **A** (judge:empathy {v}; rouge-l " in md and "- **B** (judge:empathy –; rouge-l " in md
