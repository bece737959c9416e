"""judgekit's metric engine side by side with the pipelines users run instead.

    JUDGEKIT_DATA_DIR=../shared/data python benchmarks/bench_metrics.py [--quick]

Every measurement runs in a fresh process (so peak memory is its own) on
the 20,000 SmileChat pairs (CC0, ``$JUDGEKIT_DATA_DIR/smilechat-zh``); both
sides are warmed up (dictionaries loaded) before the clock starts, and
start-up is measured on its own.  Ratios come from this one run; the
machine is shared and noisy, so read them as orders of magnitude.  Needs
the test extras (nltk, rouge-chinese) for the reference side.

Rows:
  (a) chatglm preset vs the original ChatGLM recipe (jieba + rouge-chinese + nltk)
  (b) default suite vs rouge-score (jieba tokenizer) + sacreBLEU BLEU-1..4 (zh)
  (c) scaling 1k / 10k / 100k pairs; long texts of 500 / 1,000 / 3,000 characters
  (d) jieba-only segmentation of the same texts: the floor
  (e) n_jobs=-1 vs one process; ROUGE-L on 3,000-character pairs vs rouge-score;
      1,000,000 pairs streamed from a JSONL file (peak memory); start-up
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def data_file() -> Path:
    d = os.environ.get("JUDGEKIT_DATA_DIR")
    if not d:
        sys.exit("set JUDGEKIT_DATA_DIR to the folder holding smilechat-zh/pairs.jsonl.gz")
    p = Path(d) / "smilechat-zh" / "pairs.jsonl.gz"
    if not p.is_file():
        sys.exit(f"{p} not found")
    return p


def load_pairs(n: int | None = None) -> tuple[list[str], list[str]]:
    rows = [json.loads(l) for l in gzip.open(data_file(), "rt", encoding="utf-8")]
    preds, refs = [r["pred"] for r in rows], [r["ref"] for r in rows]
    if n is None:
        return preds, refs
    k = -(-n // len(preds))
    return (preds * k)[:n], (refs * k)[:n]


def long_pairs(chars: int, count: int) -> tuple[list[str], list[str]]:
    """Concatenated consecutive SmileChat replies, cut to ``chars``."""
    preds, refs = load_pairs()
    out_p, out_r, i = [], [], 0
    while len(out_p) < count:
        p, r = "", ""
        while len(p) < chars or len(r) < chars:
            p += preds[i % len(preds)]
            r += refs[i % len(refs)]
            i += 1
        out_p.append(p[:chars])
        out_r.append(r[:chars])
    return out_p, out_r


# ---------------------------------------------------------------------------
# jobs: each runs in its own process, prints one JSON line
# ---------------------------------------------------------------------------
def _jieba():
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def job_reference_chatglm(preds, refs, **_):
    from tests import oracles

    oracles.chatglm(preds[:2], refs[:2])
    t = time.perf_counter()
    out = oracles.chatglm(preds, refs)
    return time.perf_counter() - t, out


def job_judgekit(preds, refs, preset=None, n_jobs=1, metrics=None, **_):
    import judgekit

    judgekit.evaluate(["预热一下"], ["预热"], preset=preset)
    t = time.perf_counter()
    r = judgekit.evaluate(preds, refs, preset=preset, n_jobs=n_jobs, metrics=metrics)
    return time.perf_counter() - t, r.scores


def job_reference_default(preds, refs, **_):
    """What a user would run for the default suite's BLEU-1..4 + ROUGE."""
    import numpy as np
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU

    jieba = _jieba()

    class Tok:
        def tokenize(self, text):
            return [w for w in jieba.cut(text) if not w.isspace()]

    t = time.perf_counter()
    sc = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=Tok())
    acc = {"rouge1": [], "rouge2": [], "rougeL": []}
    for p, r in zip(preds, refs):
        s = sc.score(r, p)
        for k in acc:
            acc[k].append(s[k].fmeasure)
    out = {k: float(np.mean(v)) for k, v in acc.items()}
    for n in range(1, 5):
        out[f"bleu-{n}"] = BLEU(tokenize="zh", max_ngram_order=n).corpus_score(preds, [refs]).score
    return time.perf_counter() - t, out


def job_jieba_only(preds, refs, **_):
    jieba = _jieba()
    t = time.perf_counter()
    for s in preds + refs:
        list(jieba.cut(s))
    return time.perf_counter() - t, None


def job_judgekit_segment(preds, refs, **_):
    from judgekit.text.segment import get_segmenter

    seg = get_segmenter()
    seg.cut("预热")
    t = time.perf_counter()
    seg.cut_many(preds + refs)
    return time.perf_counter() - t, seg.backend


def job_rouge_l_reference(preds, refs, **_):
    from rouge_score.rouge_scorer import _score_lcs

    jieba = _jieba()
    hyps = [[w for w in jieba.cut(p) if not w.isspace()] for p in preds]
    tgts = [[w for w in jieba.cut(r) if not w.isspace()] for r in refs]
    t = time.perf_counter()
    out = [_score_lcs(r, h).fmeasure for h, r in zip(hyps, tgts)]
    return time.perf_counter() - t, out


def job_rouge_l_judgekit(preds, refs, **_):
    import numpy as np

    from judgekit.ngram._stats import rouge_stats
    from judgekit.text.tokenize import make_tokenizer

    tok = make_tokenizer("jieba")
    hyps, tgts = tok.tokenize_many(preds), tok.tokenize_many(refs)
    t = time.perf_counter()
    s = rouge_stats(hyps, [[r] for r in tgts], orders=(), lcs=True)
    lcs, hl, rl = s["lcs"].astype(float), s["hyp_len"], s["ref_len"]
    p, r = lcs / np.maximum(hl, 1), lcs / np.maximum(rl, 1)
    f = np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1), 0.0)
    return time.perf_counter() - t, f.tolist()


def job_startup_judgekit(**_):
    t = time.perf_counter()
    import judgekit

    judgekit.evaluate(["你好"], ["你好"])
    return time.perf_counter() - t, None


def job_startup_jieba(**_):
    t = time.perf_counter()
    import jieba

    jieba.setLogLevel(60)
    list(jieba.cut("你好"))
    return time.perf_counter() - t, None


def job_stream(path=None, **_):
    import judgekit

    t = time.perf_counter()
    r = judgekit.evaluate_file(path)
    # as `judgekit evaluate` does: the per-item table is not built unless asked for
    return time.perf_counter() - t, {"n": r.to_dict()["n_items"], **r.scores}


JOBS = {k[4:]: v for k, v in globals().items() if k.startswith("job_")}


def child(spec: dict) -> None:
    kind = spec.pop("job")
    if "long" in spec:
        preds, refs = long_pairs(*spec.pop("long"))
    elif "n" in spec:
        preds, refs = load_pairs(spec.pop("n"))
    else:
        preds, refs = [], []
    seconds, result = JOBS[kind](preds=preds, refs=refs, **spec)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "result": result}, default=float))


def measure(env_extra: dict | None = None, **spec) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env_extra or {}))
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"job {spec} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def paired(repeat: int, one: dict, other: dict) -> tuple[dict, dict]:
    """The fastest of ``repeat`` fresh-process runs of each of two jobs,
    taken in turns so that both see the same spells of machine noise (for
    the ratios near 1-2x, where one run each is mostly noise here)."""
    a, b = [], []
    for _ in range(repeat):
        a.append(measure(**one))
        b.append(measure(**other))
    return min(a, key=lambda m: m["seconds"]), min(b, key=lambda m: m["seconds"])


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------
def versions() -> str:
    import importlib.metadata as md

    parts = [f"python {platform.python_version()}", f"{os.cpu_count()} cores"]
    for name in ("judgekit", "jieba", "nltk", "rouge-chinese", "rouge-score", "sacrebleu", "numpy"):
        try:
            parts.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    from judgekit.text.segment import backend_description

    return ", ".join(parts) + f"; {backend_description()}"


def same(a, b, tol=0.0) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = [k for k in a if k in b]
        d = max(abs(a[k] - b[k]) for k in keys) if keys else 0.0
    else:
        d = max(abs(x - y) for x, y in zip(a, b))
    return "identical" if d == 0 else f"max diff {d:.3g}" + (" (ok)" if d <= tol else " (DIFFERENT)")


def row(name, ours, theirs, note="") -> str:
    ratio = theirs["seconds"] / ours["seconds"] if ours["seconds"] > 0 else float("inf")
    return (f"| {name} | {theirs['seconds']:.2f} s / {theirs['peak_mb']:.0f} MB | {ours['seconds']:.2f} s / "
            f"{ours['peak_mb']:.0f} MB | **{ratio:.1f}x** | {note} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--child")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_metrics.md"))
    a = ap.parse_args()
    if a.child:
        child(json.loads(a.child))
        return
    n = 2000 if a.quick else 20000
    lines = ["# judgekit metric engine benchmark", "",
             f"Data: SmileChat reply pairs (CC0), {data_file()}, {n:,} pairs (40,000 texts at full size; "
             f"mean ~100 characters per side).", f"Versions: {versions()}", "",
             "| what | reference (time / peak RSS) | judgekit | speed-up | numbers |", "|---|---|---|---|---|"]

    def emit(s):
        lines.append(s)
        print(s, flush=True)

    for l in lines:
        print(l)
    jk = measure(job="judgekit", n=n, preset="chatglm")
    ref = measure(job="reference_chatglm", n=n)
    emit(row(f"(a) chatglm preset vs ChatGLM recipe, {n:,} pairs", jk, ref, same(jk["result"], ref["result"])))
    jk_default = measure(job="judgekit", n=n)
    ref = measure(job="reference_default", n=n)
    common = {"rouge1": "rouge-1", "rouge2": "rouge-2", "rougeL": "rouge-l"}
    theirs = {common.get(k, k): v * (100 if k in common else 1) for k, v in ref["result"].items()}
    emit(row(f"(b) default suite (BLEU-1..4 cum+ind, ROUGE-1/2/L P/R/F, Distinct-1/2) vs rouge-score(jieba) + "
             f"sacreBLEU BLEU-1..4 zh, {n:,} pairs", jk_default, ref,
             "different conventions (word vs char BLEU); ROUGE-1/2/L (x100 per item here, after the mean there): "
             + same(
                 {k: jk_default["result"][k] for k in ("rouge-1", "rouge-2", "rouge-l")},
                 {k: theirs[k] for k in ("rouge-1", "rouge-2", "rouge-l")}, 1e-9)))
    floor = measure(job="jieba_only", n=n)
    seg = measure(job="judgekit_segment", n=n)
    emit(row(f"(d) segmentation only, {2 * n:,} texts: jieba.cut vs judgekit ({seg['result']})", seg, floor,
             "the floor of (a) and (b)"))
    emit(f"| default suite / jieba-only segmentation time | | | **{jk_default['seconds'] / floor['seconds']:.2f}x** "
         f"of the floor | target <= 1.3x |")
    reps = 2 if a.quick else 5
    for preset in (None, "chatglm"):
        one, two = paired(reps, dict(job="judgekit", n=n, preset=preset), dict(job="judgekit", n=n, preset=preset,
                                                                                  n_jobs=-1))
        emit(f"| (e) {preset or 'default suite'} with n_jobs=-1 vs one process, {n:,} pairs (fastest of {reps} runs "
             f"each) | {one['seconds']:.2f} s | {two['seconds']:.2f} s | **{one['seconds'] / two['seconds']:.2f}x** "
             f"throughput | {same(two['result'], one['result'])} |")
    small = min(n, 5000)
    for preset in (None, "chatglm"):
        one = measure(env_extra={"JUDGEKIT_NO_NATIVE": "1"}, job="judgekit", n=small, preset=preset)
        two = measure(env_extra={"JUDGEKIT_NO_NATIVE": "1"}, job="judgekit", n=small, preset=preset, n_jobs=-1)
        emit(f"| (e) pure-Python path (JUDGEKIT_NO_NATIVE=1), {preset or 'default suite'}, {small:,} pairs: n_jobs=-1 vs "
             f"one process | {one['seconds']:.2f} s | {two['seconds']:.2f} s | **{one['seconds'] / two['seconds']:.2f}x** "
             f"throughput | {same(two['result'], one['result'])} |")
    sizes = [1000, 10000] if a.quick else [1000, 10000, 100000]
    for size in sizes:
        ours = measure(job="judgekit", n=size)
        note = f"{size / ours['seconds']:,.0f} pairs/s" + (" (SmileChat repeated: repeated texts are cut once)"
                                                          if size > 20000 else "")
        if size <= 10000:
            theirs = measure(job="reference_chatglm", n=size)
            ours_c = measure(job="judgekit", n=size, preset="chatglm")
            emit(row(f"(c) {size:,} pairs, chatglm preset vs recipe", ours_c, theirs, same(ours_c["result"],
                                                                                          theirs["result"])))
        emit(f"| (c) {size:,} pairs, default suite | | {ours['seconds']:.2f} s / {ours['peak_mb']:.0f} MB | | {note} |")
    for chars, count in ((500, 50), (1000, 20), (3000, 10)) if not a.quick else ((500, 10), (3000, 3)):
        ours = measure(job="judgekit", long=[chars, count], preset="chatglm")
        theirs = measure(job="reference_chatglm", long=[chars, count])
        emit(row(f"(c) {count} pairs of {chars:,} characters, chatglm preset vs recipe", ours, theirs,
                 same(ours["result"], theirs["result"])))
        ours = measure(job="rouge_l_judgekit", long=[chars, count])
        theirs = measure(job="rouge_l_reference", long=[chars, count])
        emit(row(f"(e) ROUGE-L only, {count} pairs of {chars:,} characters (jieba words), vs rouge-score LCS", ours,
                 theirs, same(ours["result"], theirs["result"])))
    ours = measure(job="startup_judgekit")
    theirs = measure(job="startup_jieba")
    emit(row("(e) start-up: import + first call", ours, theirs, "target < 0.5 s"))
    big = 100_000 if a.quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        preds, refs = load_pairs()
        with open(path, "w", encoding="utf-8") as f:
            for i in range(big):
                f.write(json.dumps({"id": i, "pred": preds[i % len(preds)], "ref": refs[i % len(refs)]},
                                   ensure_ascii=False) + "\n")
        ours = measure(job="stream", path=str(path))
        emit(f"| (e) {big:,} pairs streamed from JSONL ({path.stat().st_size / 2**20:.0f} MB) | | "
             f"{ours['seconds']:.1f} s / **{ours['peak_mb']:.0f} MB peak** | | target < 1 GB |")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwritten to {a.out}")


if __name__ == "__main__":
    main()
