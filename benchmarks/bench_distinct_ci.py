"""Distinct-n's confidence interval: coverage and time (issues 16 and 17).

    JUDGEKIT_DATA_DIR=../shared/data python benchmarks/bench_distinct_ci.py [--samples 60]

The 20,000 SmileChat predictions (``$JUDGEKIT_DATA_DIR/smilechat-zh``) stand
for a system's population of replies.  For n = 240 and 1,000, 400 samples of
n distinct replies give Distinct-1/2's true sampling mean and spread; then
on ``--samples`` of those samples, two 95% intervals built from that sample
alone are checked for covering the true mean:

* the percentile bootstrap (n draws with replacement, each resample's
  n-gram sets rebuilt): repeats deflate every resample's Distinct, and the
  interval covered the mean in 0 of 60 samples (run of 2026-11-25);
* the delete-d jackknife with d = n/2 (random halves without repeats; value
  +- 1.96 sd), what the leaderboard reports: covered it in 97-100%.

Last, the time of the leaderboard's interval (``n_samples=1000``, capped
at ``HALVES`` = 200 halves) on 240, 2,000 and 20,000 replies: 0.01, 0.05
and 1.1 s on the shared 2-core machine (run of 2026-11-25 23:36 UTC, with
the halves' unions as bitwise ORs of packed draw bits and the segmenter's
ids; the same intervals to the last digit as the earlier runs' 0.07-0.14,
0.45-1.4 and 3.7-6.3 s; coverage: bootstrap 0/60 in all four cases, halves
60, 58, 58 and 58 of 60, as before).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's judgekit, not an installed one
import judgekit  # noqa: E402
from judgekit.report._distinct import distinct_intervals, distinct_resamples, half_samples  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=60)
    args = ap.parse_args()
    path = Path(os.environ.get("JUDGEKIT_DATA_DIR", "../shared/data")) / "smilechat-zh" / "pairs.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    preds = [r["pred"] for r in rows]
    res = judgekit.evaluate(preds[:10], [r["ref"] for r in rows[:10]])
    toks = res._reducer.hyp_tokens(preds)
    rng = np.random.default_rng(0)
    for n in (240, 1000):
        samples = np.array([rng.choice(len(toks), n, replace=False) for _ in range(400)])
        truth = {o: [] for o in (1, 2)}
        for s in samples:
            v = distinct_resamples([toks[i] for i in s], (1, 2), np.arange(n)[None, :], 100)
            for o in (1, 2):
                truth[o].append(v[o][0])
        cover = {(m, o): 0 for m in ("bootstrap", "half") for o in (1, 2)}
        for s in samples[: args.samples]:
            t = [toks[i] for i in s]
            full = distinct_resamples(t, (1, 2), np.arange(n)[None, :], 100)
            bs = distinct_resamples(t, (1, 2), rng.choice(n, (300, n)), 100)
            hs = distinct_resamples(t, (1, 2), next(half_samples(n, 300, int(rng.integers(1 << 31)), chunk=300)), 100)
            for o in (1, 2):
                mu = float(np.mean(truth[o]))
                lo, hi = np.percentile(bs[o], [2.5, 97.5])
                cover[("bootstrap", o)] += lo <= mu <= hi
                sd = float(np.std(hs[o]))
                cover[("half", o)] += full[o][0] - 1.96 * sd <= mu <= full[o][0] + 1.96 * sd
        for o in (1, 2):
            print(f"n={n} distinct-{o}: true mean {np.mean(truth[o]):.3f} sd {np.std(truth[o]):.3f}; coverage "
                  f"percentile bootstrap {cover[('bootstrap', o)]}/{args.samples}, "
                  f"half-sample jackknife {cover[('half', o)]}/{args.samples}")
    for n in (240, 2000, 20000):
        r = judgekit.evaluate(preds[:n], [x["ref"] for x in rows[:n]])
        t0 = time.perf_counter()
        got, why = distinct_intervals(r, preds[:n], n_samples=1000, seed=12345)
        print(f"n={n}: interval of distinct-1/2 (n_samples=1000, at most 200 halves) in {time.perf_counter() - t0:.2f} s {got} {why}")


if __name__ == "__main__":
    main()
