"""Judge engine benchmarks (the issue 4 targets).

1. Throughput: 5,000 items against the loopback OpenAI-compatible server
   (its own process) at 100 ms latency, concurrency 64.  Target: wall time
   within 1.15x of the ideal 5,000 x 0.1 s / 64 = 7.8 s.
2. Replay: 100,000 cached judgments answered by ``judge(replay_only=True)``.
   Target: >= 20,000 items/s.

Run: ``PYTHONPATH=. python benchmarks/bench_judge.py [--items 5000] [--replay 100000]``
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _items(n: int, prefix: str) -> list[dict[str, str]]:
    return [{"id": f"{prefix}{i}", "context": f"我最近工作压力很大，晚上睡不着。（{prefix}{i}）",
             "response": f"听起来你最近真的很辛苦，睡不好会让一切更难。是什么让你压力这么大呢？（{prefix}{i}）"} for i in range(n)]


def bench_throughput(n: int, latency: float, concurrency: int, tmp: Path) -> dict[str, float]:
    import openai  # noqa: F401  (import cost is not the engine's)
    import pandas  # noqa: F401

    from judgekit.judge import judge

    server = subprocess.Popen([sys.executable, "-m", "tests._openai_server", "--latency", str(latency)],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        items = _items(n, "t")
        s0 = _proc_cpu(server.pid)
        c0 = time.process_time()
        t0 = time.perf_counter()
        res = judge(items, model="bench", base_url=url, cache=tmp / "throughput.sqlite", concurrency=concurrency, progress=False)
        wall = time.perf_counter() - t0
        client_cpu = time.process_time() - c0
        server_cpu = _proc_cpu(server.pid) - s0
    finally:
        server.kill()
        server.wait()
    ideal = n * latency / concurrency
    assert res.summary["n_scored"] == n, res.summary
    return {"items": n, "wall_s": wall, "ideal_s": ideal, "ratio": wall / ideal,
            "client_cpu_ms": client_cpu / n * 1000, "server_cpu_ms": server_cpu / n * 1000}


def _proc_cpu(pid: int) -> float:
    """User+system CPU seconds of another process (Linux /proc), else 0."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def bench_replay(n: int, tmp: Path) -> dict[str, float]:
    from judgekit.judge import Judge
    from judgekit.judge.cache import JudgeCache

    items = _items(n, "r")
    j = Judge(model="bench", base_url="http://127.0.0.1:9/v1", cache=tmp / "replay.sqlite", replay_only=True, progress=False)
    _, _, ids, reqs = j.prepare(items)
    with JudgeCache(tmp / "replay.sqlite") as c:
        c.put_many((per[0].key, {"text": json.dumps({"empathy": 1 + i % 3}), "refusal": None, "finish_reason": "stop",
                                 "usage": {"prompt_tokens": 300, "completion_tokens": 8}, "logprobs": None, "model": "bench"},
                    "bench", "empathy-3pt") for i, per in enumerate(reqs))
    c0 = time.process_time()
    t0 = time.perf_counter()
    res = j.run(items)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    assert res.summary["n_scored"] == n and res.summary["requests_cached"] == n
    return {"items": n, "wall_s": wall, "items_per_s": n / wall, "items_per_cpu_s": n / cpu}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--replay", type=int, default=100_000)
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-replay", action="store_true")
    args = ap.parse_args()
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_throughput:
            r = bench_throughput(args.items, args.latency, args.concurrency, tmp)
            print(f"throughput: {r['items']} items, latency {args.latency*1000:.0f} ms, concurrency {args.concurrency}: "
                  f"wall {r['wall_s']:.2f} s, ideal {r['ideal_s']:.2f} s, ratio {r['ratio']:.3f} (target <= 1.15); "
                  f"CPU per request: client {r['client_cpu_ms']:.2f} ms, server {r['server_cpu_ms']:.2f} ms")
        if not args.skip_replay:
            r = bench_replay(args.replay, tmp)
            print(f"replay: {r['items']} cached judgments in {r['wall_s']:.2f} s = {r['items_per_s']:,.0f} items/s (target >= 20,000); "
                  f"{r['items_per_cpu_s']:,.0f} items per CPU second")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes share the CPUs: compare CPU figures across runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
