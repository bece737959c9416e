"""Where released data lives: one setting, never fetched at import time."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError

DATA_DIR_ENV = "JUDGEKIT_DATA_DIR"


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``path`` if given, else ``$JUDGEKIT_DATA_DIR``.

    Raises InputError when neither is set or the directory does not exist,
    so that a loader never silently reads nothing.
    """
    chosen = path if path is not None else os.environ.get(DATA_DIR_ENV)
    if not chosen:
        raise InputError(
            f"no data directory: pass data_dir=... or set {DATA_DIR_ENV} "
            "to the folder holding the released ratings"
        )
    p = Path(chosen).expanduser()
    if p.exists() and not p.is_dir():
        raise InputError(f"data directory {str(p)!r} is a file, not a folder")
    if not p.is_dir():
        raise InputError(f"data directory {str(p)!r} does not exist")
    return p
