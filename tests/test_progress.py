"""Progress bars (``judgekit._progress``): shown on a terminal and in a
notebook, silent in a log unless forced, always with a total and the time
left where the total is known.

The notebook tests run a real Jupyter kernel (ipykernel) through nbclient,
as a notebook front end does, against the loopback OpenAI-compatible server
of the other judge tests, and read the progress widgets' final state back
from the executed notebook.  Before ``_progress``, the judge's bar was gated
on ``sys.stderr.isatty()``, which a kernel's stderr never is: the judge cell
had no progress output at all."""
from __future__ import annotations

import fcntl
import io
import json
import os
import re
import struct
import sys
import termios
import threading
from html import unescape
from pathlib import Path

import pytest

import judgekit
from judgekit import _progress
from tests._openai_server import OpenAIServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "smilechat-100.jsonl"
FAST = dict(backoff_base=0.01, backoff_max=0.05, timeout=5.0, max_retries=1)
# "12/40 [00:01<00:02, 9.50req/s]": done/total, elapsed < time left
WITH_TOTAL_AND_ETA = r"(\d+)/(\d+) \[\d\d:\d\d<(\d\d:\d\d|\?)"


def _items(n: int) -> list[dict]:
    rows = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()][:n]
    return [{"id": r["id"], "context": r["context"], "response": r["pred"]} for r in rows]


class _Pty:
    """A real terminal: the slave end as a text stream, the master read in a
    thread (so the writer never blocks on a full pty buffer)."""

    def __enter__(self) -> "_Pty":
        master, slave = os.openpty()
        # a fresh pty is 0 columns wide (tqdm would draw nothing): 24 x 160
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))
        self._master = master
        self.stream = io.TextIOWrapper(os.fdopen(slave, "wb", buffering=0), encoding="utf-8", write_through=True)
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 4096)
            except OSError:  # the slave closed
                return
            if not data:
                return
            self._chunks.append(data)

    def __exit__(self, *exc: object) -> None:
        self.stream.close()
        self._reader.join(timeout=10)
        os.close(self._master)

    @property
    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")


# -- detection ---------------------------------------------------------------

def test_a_terminal_is_interactive_a_pipe_or_a_buffer_is_not():
    with _Pty() as pty:
        assert pty.stream.isatty() and _progress.interactive(pty.stream)
    assert not _progress.interactive(io.StringIO())
    r, w = os.pipe()
    with os.fdopen(r, "rb"), os.fdopen(w, "w") as pipe:
        assert not _progress.interactive(pipe)


def test_pytest_is_not_a_notebook():
    assert not _progress.in_notebook()


def test_a_closed_stream_is_not_interactive():
    s = io.StringIO()
    s.close()
    assert not _progress.interactive(s)


# -- on a terminal, in a log ---------------------------------------------------

def test_the_judge_bar_on_a_terminal_has_a_total_and_the_time_left(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    with OpenAIServer() as server, _Pty() as pty:
        monkeypatch.setattr(sys, "stderr", pty.stream)
        res = judgekit.judge(_items(30), model="m", base_url=server.base_url, concurrency=4, **FAST)
        monkeypatch.undo()
    assert len(res.per_item) == 30
    assert "judge empathy-3pt" in pty.text
    done = [(int(a), int(b)) for a, b, _ in re.findall(WITH_TOTAL_AND_ETA, pty.text)]
    assert (30, 30) in done and all(b == 30 for _, b in done)
    assert re.search(r"30/30 \[\d\d:\d\d<00:00", pty.text)


def test_the_judge_is_silent_in_a_log_and_when_told(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    with OpenAIServer() as server:
        judgekit.judge(_items(5), model="m", base_url=server.base_url, **FAST)  # stderr: a file, not a TTY
        with _Pty() as pty:
            monkeypatch.setattr(sys, "stderr", pty.stream)
            judgekit.judge(_items(6), model="m", base_url=server.base_url, progress=False, **FAST)
            monkeypatch.undo()
    assert "judge" not in capfd.readouterr().err
    assert "judge" not in pty.text


def test_a_forced_evaluate_bar_has_a_total_and_the_time_left(capfd):
    """``evaluate(progress=True)`` shows its tokenizing bar wherever stderr
    goes (forced, as before), on 2,500 distinct texts."""
    preds = [f"第{i}天，我还是觉得很难过，不知道该怎么办。" for i in range(2500)]
    refs = [f"听起来你已经难过了{i}天，愿意多说说吗？" for i in range(2500)]
    judgekit.evaluate(preds, refs, progress=True)
    err = capfd.readouterr().err
    assert "tokenizing (jieba)" in err
    totals = {int(b) for _, b, _ in re.findall(WITH_TOTAL_AND_ETA, err)}
    assert totals and totals <= {2500, 5000}, err[-500:]
    judgekit.evaluate(preds, refs)
    assert "tokenizing" not in capfd.readouterr().err


# -- in a real notebook kernel -------------------------------------------------

def _widget_bars(nb) -> dict[str, list[dict]]:
    """Per cell source tag: each tqdm widget's description, final value, max
    and right-hand text, from the widget state nbclient stores."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    out: dict[str, list[dict]] = {}
    for cell in nb.cells:
        tag = cell.source.splitlines()[0]
        for o in cell.get("outputs", []):
            view = o.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if not view:
                continue
            box = state[view["model_id"]]["state"]
            parts = [state[c.removeprefix("IPY_MODEL_")] for c in box["children"]]
            # HTML text; tqdm.notebook draws spaces as figure spaces (U+2007)
            html = [unescape(p["state"]["value"]).replace("\u2007", " ").strip()
                    for p in parts if p["model_name"] == "HTMLModel"]
            bar = next(p["state"] for p in parts if p["model_name"] == "FloatProgressModel")
            out.setdefault(tag, []).append({"desc": html[0], "right": html[-1], "value": bar["value"],
                                            "max": bar["max"], "text": o["data"]["text/plain"]})
    return out


def test_in_a_notebook_kernel_judge_generate_evaluate_and_leaderboard_show_bars(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("ipywidgets")
    items = _items(40)
    with OpenAIServer() as server:
        url = server.base_url
        cells = [
            f"# setup\nimport os, sys\nsys.path.insert(0, {str(ROOT)!r})\nos.environ['OPENAI_API_KEY'] = 'sk-test'\n"
            "import judgekit\nfrom judgekit import _progress\n"
            "print(judgekit.__file__, _progress.in_notebook(), _progress.interactive(), sys.stderr.isatty())",
            f"# judge\nres = judgekit.judge({items!r}, model='m', base_url={url!r}, concurrency=4, timeout=5.0)\n"
            "print(len(res.per_item))",
            f"# generate\nfrom judgekit.judge import generate\ngen = generate([f'prompt {{i}}' for i in range(25)], model='m', base_url={url!r},"
            " concurrency=4, timeout=5.0)\nprint(len(gen.per_item))",
            "# evaluate\npreds = [f'第{i}天，我还是觉得很难过。' for i in range(2500)]\n"
            "refs = [f'你难过了{i}天，愿意多说说吗？' for i in range(2500)]\n"
            "r = judgekit.evaluate(preds, refs, progress=True)\nprint(r.n_items)",
            "# leaderboard\nfrom judgekit.report import leaderboard\n"
            "lb = leaderboard({'A': preds[:300], 'B': refs[:300]}, refs[:300], n_bootstrap=300, n_randomization=500,"
            " progress=True)\nprint(lb.n_items)",
        ]
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert printed.split()[1:] == ["True", "True", "False"], printed  # a notebook: no TTY, yet interactive
    assert printed.split()[0].startswith(str(ROOT))
    bars = _widget_bars(nb)
    assert "# judge" in bars, f"the judge cell shows no progress bar: {nb.cells[1].outputs}"
    (jb,) = bars["# judge"]
    assert jb["desc"].startswith("judge empathy-3pt") and jb["max"] == jb["value"] == 40
    assert re.match(r"40/40 \[\d\d:\d\d<00:00", jb["right"]), jb
    assert re.search(r"0/40 \[00:00<\?", jb["text"])  # the first frame already names the total
    assert "# generate" in bars, f"the generate cell shows no progress bar: {nb.cells[2].outputs}"
    (gb,) = bars["# generate"]
    assert gb["max"] == gb["value"] == 25 and re.match(r"25/25 \[\d\d:\d\d<00:00", gb["right"]), gb
    eb = bars["# evaluate"]
    assert eb and all(b["desc"].startswith("tokenizing (jieba)") and b["max"] in (2500, 5000) for b in eb), eb
    assert all(b["value"] == b["max"] for b in eb)
    lbars = {b["desc"].split(":")[0]: b for b in bars["# leaderboard"]}
    assert {"bootstrap A", "bootstrap B", "approximate randomization"} <= set(lbars), lbars
    assert lbars["bootstrap A"]["max"] == lbars["bootstrap A"]["value"] == 300
    assert lbars["approximate randomization"]["max"] == lbars["approximate randomization"]["value"] == 500
