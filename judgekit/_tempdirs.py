"""Temporary folders of mapped files that could not be removed while
mapped (Windows refuses to unlink a mapped file): removed at exit instead.
One registry for the spilled per-item values and the spilled ids."""
from __future__ import annotations

import atexit
import shutil

_LEFT: list[str] = []


def remove_at_exit(folder: str) -> None:
    """Remove ``folder`` (and what is left in it) when the process exits."""
    _LEFT.append(folder)


@atexit.register
def _cleanup() -> None:
    for folder in _LEFT:
        shutil.rmtree(folder, ignore_errors=True)
