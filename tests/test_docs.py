"""Every snippet of README.md and docs/*.md runs verbatim, so the docs cannot
drift from the code.

Each document runs in its own scratch folder holding links to the
repository's top-level entries (``examples/``, ``tests/``, ``metrics/``, ...),
so relative paths work as they do in a checkout and files a snippet writes
land in the scratch folder.  Its blocks run in document order:

* ```python blocks share one namespace per document; a ``print(x)  # value``
  line must print ``value`` (an explanation may follow ': ' or ' ('; a
  comment with '...' is not compared).  A block whose first line is a
  comment naming a ``test_*.py`` file (a pytest file of the user's own
  repository, e.g. the quality gate) is written to that file in a fresh
  folder, with ``examples/smilechat-100.jsonl`` as the ``dev_predictions.jsonl``
  the README says stands in for a model's outputs, and run with pytest.
* ```bash / ```sh / ```console blocks: each command (``\\`` continuations
  joined; in console blocks the lines after ``$ ``, the rest being output)
  runs with bash in the scratch folder and must exit 0, with this Python's
  ``bin`` first on PATH, the checkout importable and ``$JUDGEKIT_DATA_DIR``
  set.

Where a snippet talks to a model, the test serves one: the loopback
OpenAI-compatible server of ``tests/_openai_server.py`` (a judge whose
scores are a hash of the text).  ``$OPENAI_BASE_URL`` points at it (the
Python snippets that give no base URL use that variable, as the ``openai``
client does) and the documented local URLs (``http://localhost:8000/v1``,
``http://localhost:8001/v1``, ``http://127.0.0.1:8080/v1``) in commands are
replaced by its URL.

A block that cannot run here (``pip install``, a paid API, a file the user
must bring) is preceded by ``<!-- not run: <reason> -->`` on the line before
its fence; the reason must be given.  Output listings are ```text blocks.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests._openai_server import OpenAIServer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([A-Za-z]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
RUN = {"python", "bash", "sh", "console"}
NOT_RUN = re.compile(r"<!--\s*not run:(.*?)-->")
LOCAL_URLS = ("http://localhost:8000/v1", "http://localhost:8001/v1", "http://127.0.0.1:8080/v1")
FILE_BLOCK = re.compile(r"^#\s*(\S*test_\w+\.py)\b")
DATA = os.environ.get("JUDGEKIT_DATA_DIR")
NESTED = "JUDGEKIT_DOCS_TEST"   # set for the snippets' own processes: a snippet's pytest run skips these tests


@dataclass
class Block:
    doc: str
    line: int
    lang: str
    code: str
    skip: str | None  # the reason given in <!-- not run: ... -->, or None


def blocks(doc: str) -> list[Block]:
    text = (ROOT / doc).read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        lang = m.group(1).lower()
        if lang not in RUN:
            continue
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = NOT_RUN.search(before)
        out.append(Block(doc, text[:m.start()].count("\n") + 1, lang, m.group(2),
                         skip.group(1).strip() if skip else None))
    return out


def commands(block: Block) -> list[str]:
    """The shell commands of a block, continuations joined, comments dropped."""
    lines = block.code.splitlines()
    if block.lang == "console":
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    out: list[str] = []
    pending = ""
    for line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    return out


def _expected(line: str) -> str | None:
    if not line.lstrip().startswith("print(") or "#" not in line:
        return None
    comment = line.split("#", 1)[1].strip()
    if "..." in comment:
        return None
    return comment


def _says(got: str, comment: str) -> bool:
    """The printed line is the whole comment, or the comment before an
    explanation (after ': ' or ' (')."""
    return got == comment or got == comment.split(": ")[0].split(" (")[0].strip()


def _sandbox(tmp: Path) -> Path:
    box = tmp / "checkout"
    box.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in (".git",) and not entry.name.startswith(".ci-venv"):
            (box / entry.name).symlink_to(entry)
    return box


def _env(server: OpenAIServer) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OPENAI_BASE_URL"] = server.base_url
    env["OPENAI_API_KEY"] = "sk-loopback-docs"
    env["CI"] = "1"
    env[NESTED] = "1"
    env.update(HF_HUB_OFFLINE="1", HF_EVALUATE_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _run_python(block: Block, namespace: dict) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.code, f"{block.doc}:{block.line}", "exec"), namespace)
    printed = out.getvalue().splitlines()
    wanted = [_expected(line) for line in block.code.splitlines() if line.lstrip().startswith("print(")]
    if any(w is not None for w in wanted):
        assert len(printed) == len(wanted), (f"{block.doc}:{block.line}", printed)
        for got, want in zip(printed, wanted):
            if want is not None:
                assert _says(got, want), f"{block.doc}:{block.line}: printed {got!r}, the doc says {want!r}"


def _run_test_file(block: Block, tmp: Path, env: dict[str, str]) -> None:
    name = FILE_BLOCK.match(block.code).group(1)
    repo = tmp / f"user-repo-{block.line}"
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(block.code, encoding="utf-8")
    shutil.copy(ROOT / "examples" / "smilechat-100.jsonl", repo / "dev_predictions.jsonl")
    # as the docs say: record the baseline once, then every run compares with it
    for extra in ("--judgekit-update-baseline", ""):
        p = _shell(f"{sys.executable} -m pytest -q -p no:cacheprovider {extra} {name}", repo, env)
        assert p.returncode == 0, \
            f"{block.doc}:{block.line}: pytest {extra} fails:\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}"


# Commands this test must never run, even when a doc forgets its "not run"
# mark: they change the environment the suite runs in, or run the suite itself.
FORBIDDEN = re.compile(r"\bpip\s+install\b|\bpython\s+-m\s+pytest\b|(^|[;&|]\s*)pytest\b|\bbenchmarks/")


def _shell(cmd: str, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """bash -c in its own session, so that a timeout ends every process it started."""
    proc = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"`{cmd}` ran past {timeout} s\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _run_shell(block: Block, box: Path, env: dict[str, str], server: OpenAIServer) -> None:
    for cmd in commands(block):
        assert not FORBIDDEN.search(cmd), (f"{block.doc}:{block.line}: `{cmd}` installs packages or runs the test "
                                           "suite or a benchmark: mark its block <!-- not run: reason -->")
        run = cmd
        for url in LOCAL_URLS:
            run = run.replace(url, server.base_url)
        p = _shell(run, box, env)
        assert p.returncode == 0, (f"{block.doc}:{block.line}: `{cmd}` exited {p.returncode}\n"
                                   f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-3000:]}")


def test_every_doc_is_collected():
    assert "docs/architecture.md" in DOCS and len(DOCS) >= 7


@pytest.mark.parametrize("doc", DOCS)
def test_skipped_blocks_say_why(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = NOT_RUN.search(line)
        if m:
            assert m.group(1).strip(), f"{doc}:{i + 1}: <!-- not run: --> without a reason"
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            assert nxt.startswith("```") and nxt[3:].strip().lower() in RUN, \
                f"{doc}:{i + 1}: <!-- not run --> must sit on the line before a python/bash/sh/console fence"


@pytest.mark.skipif(bool(os.environ.get(NESTED)), reason="inside a docs snippet's own pytest run")
@pytest.mark.skipif(not DATA or not Path(DATA).is_dir(),
                    reason="the docs' snippets read the released data: set JUDGEKIT_DATA_DIR to its folder"
                    + (f" ({DATA} does not exist)" if DATA else ""))
@pytest.mark.parametrize("doc", DOCS)
def test_snippets_run_verbatim(doc, tmp_path, monkeypatch):
    todo = [b for b in blocks(doc) if b.skip is None]
    if not todo:
        pytest.skip(f"{doc} has no snippet to run")
    box = _sandbox(tmp_path)
    with OpenAIServer() as server:
        server.reply_text = OpenAIServer.echo      # generation requests (no response_format) get a reply
        env = _env(server)
        for key in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "CI"):
            monkeypatch.setenv(key, env[key])
        monkeypatch.chdir(box)
        namespace: dict = {"__name__": "__docs__"}
        try:
            for block in todo:
                started = time.perf_counter()
                if block.lang == "python" and FILE_BLOCK.match(block.code):
                    _run_test_file(block, tmp_path, env)
                elif block.lang == "python":
                    _run_python(block, namespace)
                else:
                    _run_shell(block, box, env, server)
                print(f"{block.doc}:{block.line} {block.lang} {time.perf_counter() - started:.1f} s")
        finally:
            from judgekit.ngram import unregister_metric

            with contextlib.suppress(Exception):
                unregister_metric("token-overlap")
