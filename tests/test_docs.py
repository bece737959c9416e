"""The docs' Python snippets run as shown, and what their ``print`` lines
say they print is what they print (``# value`` after the call, an
explanation after ': '; a comment with '...' is not compared)."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- not run[^\n]*-->\n)?```python\n(.*?)```", re.S)


def _expected(line: str) -> str | None:
    if not line.lstrip().startswith("print(") or "#" not in line:
        return None
    comment = line.split("#", 1)[1].strip()
    if "..." in comment:
        return None
    return comment.split(": ")[0].split(" (")[0].strip()


@pytest.mark.parametrize("doc", ["docs/architecture.md", "docs/notebooks.md", "docs/options.md"])
def test_snippets_run_and_print_what_they_say(doc, monkeypatch):
    monkeypatch.chdir(ROOT)
    text = (ROOT / doc).read_text(encoding="utf-8")
    namespace: dict = {}
    try:
        for not_run, block in BLOCK.findall(text):
            if not_run:  # marked "<!-- not run: reason -->" on the line before
                continue
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(block, doc, "exec"), namespace)
            printed = out.getvalue().splitlines()
            wanted = [_expected(line) for line in block.splitlines() if line.lstrip().startswith("print(")]
            assert len(printed) == len(wanted), (block, printed)
            for got, want in zip(printed, wanted):
                if want is not None:
                    assert got == want, f"{doc}: printed {got!r}, the doc says {want!r}"
    finally:
        from judgekit.ngram import unregister_metric

        unregister_metric("token-overlap")
