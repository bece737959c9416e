"""Ctrl-C ends a long evaluation (issue 18, part 6): the compiled kernels
run without the GIL and take it back every few milliseconds of work to run
the signal handlers, so a KeyboardInterrupt does not wait for the kernel to
finish (it did: 16.6 s after SIGINT on a one-million-character pair).

Not a timed assertion on speed: the old kernels need a minute or more after
the signal on these inputs; the test only asks that the process ends with
KeyboardInterrupt before a generous timeout."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")

SCRIPT = r"""
import random, sys
import judgekit
from judgekit.ngram import _stats
assert _stats.native_kernels() is not None, "the compiled kernels are not built"
n, items, jobs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(0)
chars = "我们今天的天气很好你要不要出去走走心情不错谢谢关心"
text = lambda: "".join(rng.choice(chars) for _ in range(n))
judgekit.evaluate(["天气很好"], ["今天天气很好"], lang="zh")  # the dictionary loaded before the signal
preds, refs = [text() for _ in range(items)], [text() for _ in range(items)]
print("start", flush=True)
judgekit.evaluate(preds, refs, lang="zh", n_jobs=jobs)
print("finished", flush=True)
"""


@pytest.mark.parametrize("n,items,jobs", [(2_000_000, 1, 1), (600_000, 8, 2)], ids=["one-huge-pair", "threads"])
def test_ctrl_c_stops_a_long_kernel(n, items, jobs):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(n), str(items), str(jobs)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "start", proc.stderr.read()
        time.sleep(2.0)  # inside the ROUGE-L kernel by now (the old one ran on for a minute or more)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "finished" not in out
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err, err[-2000:]
