"""Output paths checked before any work: a missing folder, or a folder given
as a file, is an InputError naming the option (exit 2), not a traceback
after a paid or long run."""
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
