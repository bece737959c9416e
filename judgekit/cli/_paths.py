"""Output paths checked before any work, one rule for every command: an
output *file* (``--output``, ``--per-item``, ``--json``, ...) goes into a
folder that must exist; an output *folder* (``leaderboard --out DIR``,
``meta-eval --out DIR``, ``study --save-responses DIR``) is created when
missing, but its parent must exist (a typo in the parent is an error, not a
new tree).  A breach is an InputError naming the option (exit 2), not a
traceback after a paid or long run."""
from __future__ import annotations

import os
from typing import Any

from ..errors import InputError


def check_out_path(path: Any, option: str) -> None:
    """An InputError naming ``option`` when ``path``'s folder is missing or
    ``path`` is a folder; ``None`` and ``-`` (standard output) pass."""
    if path is None or str(path) == "-":
        return
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"{option} {path}: the folder {folder} does not exist; create it first")
    if os.path.isdir(path):
        raise InputError(f"{option} {path}: is a folder; give a file name")


def check_out_paths(args: Any, *options: str) -> None:
    """:func:`check_out_path` for each ``--option`` present on ``args``."""
    for option in options:
        check_out_path(getattr(args, option.lstrip("-").replace("-", "_"), None), option)


def check_out_dir(path: Any, option: str) -> None:
    """An InputError naming ``option`` when ``path`` is a file or its
    parent folder is missing (``path`` itself is created later)."""
    if path is None:
        return
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise InputError(f"{option} {path}: is a file, not a folder")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise InputError(f"{option} {path}: the folder {parent} does not exist; create it first")
