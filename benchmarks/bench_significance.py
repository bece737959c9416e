"""Significance testing: judgekit's leaderboard side by side with sacreBLEU's
paired tests (issue 17, item 3).

    JUDGEKIT_DATA_DIR=../shared/data python benchmarks/bench_significance.py [--quick]

On 10,000 of the SmileChat pairs (CC0, ``$JUDGEKIT_DATA_DIR/smilechat-zh``),
with 5 and with 20 systems built from them (system 0, the baseline, is the
pairs' prediction; the others are truncated, reference-mixed, lightly edited
and shuffled variants of it, see ``systems()``), each measurement in a fresh
process (so peak memory is its own), both sides warmed up before the clock
starts:

* judgekit: ``judgekit.report.leaderboard(systems, refs, baseline="s00",
  tests=("bs", "ar"), n_bootstrap=1000, n_randomization=10000)`` with the
  default suite: every column of the default suite (BLEU-1..4 cumulative and
  individual, ROUGE-1/2/L P/R/F, Distinct-1/2, len-ratio, lengths) tested
  both ways, and Distinct's interval rebuilt from 200 random halves
  (``judgekit/report/_distinct.py``).
  The same call with ``preset="sacrebleu"`` gives the BLEU that sacreBLEU
  computes (corpus BLEU, tokenize zh) for the identity check.
* sacreBLEU: what a user runs instead, on BLEU alone:
  ``sacrebleu.significance.PairedTest`` with ``BLEU(tokenize="zh")``,
  ``test_type="bs"`` with 1,000 samples and ``test_type="ar"`` with 10,000,
  seed 12345 (``SACREBLEU_SEED``, its default) -- sacreBLEU's
  ``-paired-bs`` / ``-paired-ar``.

The BLEU p-values of both tests must be identical to sacreBLEU's, to the
last bit.  Ratios come from this one run; the machine is shared and noisy,
so read them as orders of magnitude.  A cProfile of one judgekit comparison
(baseline vs one system, default suite) lists where the leaderboard spends
its time.  ``--quick``: 1,000 pairs, 5 and 8 systems, fewer trials;
``--pairs`` and ``--systems 5,20`` choose the sizes.  On a 2-core machine the
full run (5 and 20 systems x 10,000 pairs) takes 12-15 minutes (runs of
2026-11-25, load average 3-4), mostly sacreBLEU.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench_metrics import data_file  # noqa: E402  (the SmileChat pairs, found the one way)

SEED = 12345
_CPU = [0.0]  # CPU seconds (all threads) of the timed section of the job


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> float:
    _CPU[0] = time.process_time() - start[1]
    return time.perf_counter() - start[0]


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def _near(preds: list[str], refs: list[str], every: int, cut: int = 3) -> list[str]:
    """The baseline with ``cut`` characters dropped from every reply longer
    than 6 and one item in ``every`` given half its reference: every item
    differs from the baseline (no randomization trial ties the observed
    difference) and p lands between the extremes."""
    out = [p[:-cut] if len(p) > 6 else p for p in preds]
    for i in range(0, len(out), every):
        out[i] = refs[i][: len(refs[i]) // 2] + preds[i]
    return out


def systems(n: int, k: int) -> tuple[dict[str, list[str]], list[str]]:
    """``k`` systems on the first ``n`` SmileChat pairs, and the references.
    The other ``n`` pairs' predictions give the shuffled (unrelated) systems."""
    rows = [json.loads(line) for line in gzip.open(data_file(), "rt", encoding="utf-8")]
    if 2 * n > len(rows):
        sys.exit(f"{n:,} pairs need {2 * n:,} rows; {data_file()} has {len(rows):,}")
    preds = [r["pred"] for r in rows[:n]]
    refs = [r["ref"] for r in rows[:n]]
    others = [r["pred"] for r in rows[n:2 * n]]

    def trunc(f):
        return [p[: max(1, int(len(p) * f))] for p in preds]

    def mix(f):
        return [r[: int(len(r) * f)] + p[int(len(p) * f):] for p, r in zip(preds, refs)]

    def rotate(s):
        return preds[s:] + preds[:s]

    family = [
        lambda: list(preds),                     # s00: the baseline, the pairs' prediction
        lambda: trunc(2 / 3),                    # truncated replies
        lambda: mix(1 / 2),                      # half the reference, half the prediction
        lambda: _near(preds, refs, max(1, n // 5)),  # a few items better, every item 3 characters shorter
        lambda: list(others),                    # shuffled: another item's reply
        lambda: _near(preds, refs, max(1, n // 10)),
        lambda: trunc(1 / 2),
        lambda: mix(1 / 4),
        lambda: rotate(1),
        lambda: _near(preds, refs, max(1, n // 20), cut=2),
        lambda: trunc(3 / 4),
        lambda: mix(1 / 3),
        lambda: rotate(n // 2),
        lambda: _near(preds, refs, max(1, n // 50)),
        lambda: trunc(9 / 10),
        lambda: mix(1 / 10),
        lambda: [o + p for o, p in zip(others, preds)],  # padded with an unrelated reply
        lambda: _near(preds, refs, max(1, n // 100), cut=1),
        lambda: [p[::-1] for p in preds],        # reversed characters
        lambda: _near(preds, refs, max(1, n // 8), cut=4),
    ]
    if k > len(family):
        sys.exit(f"at most {len(family)} systems")
    return {f"s{i:02d}": family[i]() for i in range(k)}, refs


# ---------------------------------------------------------------------------
# jobs: each runs in its own process, prints one JSON line
# ---------------------------------------------------------------------------
def job_judgekit(n, k, preset=None, n_bs=1000, n_ar=10000, **_):
    from judgekit.report import leaderboard

    syst, refs = systems(n, k)
    opts = {"preset": preset} if preset else {}
    # warm-up: dictionaries loaded, the report's imports (pandas) done, before the clock starts
    leaderboard({"a": ["预热一下", "你好"], "b": ["预热", "你好呀"]}, ["预热", "你好"], tests=("bs", "ar"), n_bootstrap=10,
                n_randomization=10, **opts)
    t = _clock()
    lb = leaderboard(syst, refs, baseline="s00", tests=("bs", "ar"), n_bootstrap=n_bs, n_randomization=n_ar, **opts)
    seconds = _since(t)
    tested = sorted({m for (_, m) in lb.tests})
    p = {s: {t_: lb.tests[(s, "bleu-4")][t_].p_value for t_ in ("bs", "ar")} for s in syst if s != "s00"}
    bleu = {s: float(lb.scores.at[s, "bleu-4"]) for s in syst}
    return seconds, {"p": p, "bleu": bleu, "tested": tested, "columns": list(lb.columns)}


def job_sacrebleu(n, k, n_bs=1000, n_ar=10000, **_):
    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    os.environ["SACREBLEU_SEED"] = str(SEED)
    syst, refs = systems(n, k)
    named = list(syst.items())  # the first is the baseline
    PairedTest([("a", ["预热一下", "你好"]), ("b", ["预热", "你好呀"])], {"BLEU": BLEU(tokenize="zh")},
               [["预热", "你好"]], test_type="bs", n_samples=10)()  # warm-up
    t0 = _clock()
    t = t0[0]
    _, bs = PairedTest(named, {"BLEU": BLEU(tokenize="zh")}, [refs], test_type="bs", n_samples=n_bs)()
    t_bs = time.perf_counter() - t
    _, ar = PairedTest(named, {"BLEU": BLEU(tokenize="zh")}, [refs], test_type="ar", n_samples=n_ar)()
    seconds = _since(t0)
    p = {s: {"bs": bs["BLEU"][i].p_value, "ar": ar["BLEU"][i].p_value} for i, s in enumerate(syst) if i}
    bleu = {s: bs["BLEU"][i].score for i, s in enumerate(syst)}
    return seconds, {"p": p, "bleu": bleu, "bs_seconds": t_bs, "ar_seconds": seconds - t_bs}


def job_profile(n, n_bs=1000, n_ar=10000, top=15, **_):
    """cProfile of one comparison (baseline vs the truncated system), default suite."""
    import cProfile
    import io
    import pstats

    from judgekit.report import leaderboard

    syst, refs = systems(n, 2)
    leaderboard({"a": ["预热一下", "你好"], "b": ["预热", "你好呀"]}, ["预热", "你好"], tests=("bs", "ar"), n_bootstrap=10,
                n_randomization=10)
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    leaderboard(syst, refs, baseline="s00", tests=("bs", "ar"), n_bootstrap=n_bs, n_randomization=n_ar)
    prof.disable()
    seconds = time.perf_counter() - t
    out = {}
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(top)
        out[key] = buf.getvalue()
    return seconds, out


JOBS = {k[4:]: v for k, v in globals().items() if k.startswith("job_")}


def child(spec: dict) -> None:
    kind = spec.pop("job")
    seconds, result = JOBS[kind](**spec)
    ru = resource.getrusage(resource.RUSAGE_SELF)  # peak RSS of the whole process
    print(json.dumps({"seconds": seconds, "cpu": _CPU[0], "peak_mb": ru.ru_maxrss / 1024,
                      "result": result}, default=float))


def measure(**spec) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               SACREBLEU_SEED=str(SEED))
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"job {spec} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------
def versions() -> str:
    import importlib.metadata as md

    head = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=ROOT)
    parts = [f"judgekit at {head.stdout.strip() or '?'}", f"python {platform.python_version()}",
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start"]
    for name in ("judgekit-empathy", "sacrebleu", "numpy"):
        try:
            parts.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return ", ".join(parts)


def identity(ours: dict, theirs: dict) -> tuple[bool, list[str]]:
    """Bit-for-bit comparison of the BLEU p-values (and the BLEU scores)."""
    lines, ok = [], True
    for s, tests in theirs["p"].items():
        for t, p_sb in tests.items():
            p_jk = ours["p"][s][t]
            same = p_jk == p_sb
            ok &= same
            lines.append(f"{s} {t}: judgekit {p_jk!r} sacreBLEU {p_sb!r} {'identical' if same else 'DIFFERENT'}")
    for s, b in theirs["bleu"].items():
        if ours["bleu"][s] != b:
            ok = False
            lines.append(f"{s} BLEU: judgekit {ours['bleu'][s]!r} sacreBLEU {b!r} DIFFERENT")
    return ok, lines


def cell(m: dict) -> str:
    return f"{m['seconds']:.1f} s (CPU {m['cpu']:.0f} s) / {m['peak_mb']:.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1,000 pairs, 5 and 8 systems, 200/2,000 trials")
    ap.add_argument("--pairs", type=int, help="number of pairs (default 10,000; --quick 1,000)")
    ap.add_argument("--systems", help="comma-separated system counts (default 5,20; --quick 5,8)")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_significance.md"))
    a = ap.parse_args()
    if a.child:
        child(json.loads(a.child))
        return
    n = a.pairs or (1000 if a.quick else 10000)
    sizes = tuple(int(x) for x in a.systems.split(",")) if a.systems else (5, 8) if a.quick else (5, 20)
    trials = dict(n_bs=200, n_ar=2000) if a.quick else dict(n_bs=1000, n_ar=10000)
    lines = ["# Significance testing benchmark: judgekit leaderboard vs sacreBLEU paired tests", "",
             f"Data: SmileChat reply pairs (CC0), {data_file()}, {n:,} pairs; systems built from them "
             f"(benchmarks/bench_significance.py, `systems()`). Paired bootstrap {trials['n_bs']:,} resamples, "
             f"approximate randomization {trials['n_ar']:,} trials, seed {SEED}, both sides.",
             f"Versions: {versions()}", "",
             "judgekit: `leaderboard(systems, refs, baseline=\"s00\", tests=(\"bs\", \"ar\"))`, default suite "
             "(every metric column tested both ways). sacreBLEU: `PairedTest(..., BLEU(tokenize=\"zh\"), "
             "test_type=\"bs\")` then `test_type=\"ar\"` (BLEU alone). Each in a fresh process, wall time "
             "(CPU time) / peak RSS; the ratio is sacreBLEU wall time / judgekit wall time from this one run.", "",
             "| what | sacreBLEU bs + ar, BLEU only | judgekit leaderboard | speed-up | BLEU p-values |",
             "|---|---|---|---:|---|"]
    for line in lines:
        print(line, flush=True)
    body, details = [], []
    for k in sizes:
        sb = measure(job="sacrebleu", n=n, k=k, **trials)
        jk_sb = measure(job="judgekit", n=n, k=k, preset="sacrebleu", **trials)
        jk = measure(job="judgekit", n=n, k=k, **trials)
        ok, id_lines = identity(jk_sb["result"], sb["result"])
        n_tested = len(jk["result"]["tested"])
        verdict = (f"identical to sacreBLEU's, bit for bit ({2 * (k - 1)} p-values, preset sacrebleu)" if ok
                   else "**DIFFERENT** from sacreBLEU's (see below)")
        for row in (
            f"| {k} systems x {n:,} pairs: default suite ({n_tested} metrics tested) vs BLEU alone | {cell(sb)} | "
            f"{cell(jk)} | **{sb['seconds'] / jk['seconds']:.2f}x** | {verdict} |",
            f"| {k} systems x {n:,} pairs: `preset=\"sacrebleu\"` (BLEU-1..4, {len(jk_sb['result']['tested'])} "
            f"metrics) vs BLEU alone | {cell(sb)} | {cell(jk_sb)} | **{sb['seconds'] / jk_sb['seconds']:.2f}x** | "
            f"sacreBLEU: bs {sb['result']['bs_seconds']:.1f} s + ar {sb['result']['ar_seconds']:.1f} s |",
        ):
            body.append(row)
            print(row, flush=True)
        details.append(f"### {k} systems: BLEU p-values, judgekit (preset sacrebleu, `bleu-4`) vs sacreBLEU")
        details += ["", "```", *id_lines, "```", ""]
        for x in id_lines:
            print("   ", x)
        write(a.out, lines + body + [""] + details)
        if k == sizes[0] and not a.no_profile:
            profile(n, trials, details)
            write(a.out, lines + body + [""] + details)
    write(a.out, lines + body + [""] + details)
    print(f"\nwritten to {a.out}")


def write(out: str, lines: list[str]) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join(lines) + "\n", encoding="utf-8")


def profile(n: int, trials: dict, details: list[str]) -> None:
    """cProfile of one judgekit comparison, appended to ``details``."""
    prof = measure(job="profile", n=n, **trials)
    details += [f"### Profile: one comparison (s00 vs s01, {n:,} pairs, default suite), "
                f"{prof['seconds']:.1f} s under cProfile", "", "By own time:", "", "```",
                prof["result"]["tottime"].strip(), "```", "", "By cumulative time:", "", "```",
                prof["result"]["cumulative"].strip(), "```", ""]
    print(prof["result"]["tottime"])
    print(prof["result"]["cumulative"])


if __name__ == "__main__":
    main()
