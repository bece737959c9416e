"""``load_ratings``: released human (and LLM-judge) ratings as one tidy long table."""
from __future__ import annotations

import os
from typing import Any

import pandas as pd

from .._settings import data_dir as _data_dir
from ..errors import InputError

DATASETS = ("kumar2025", "epitome", "mentalalign", "welivita2024")


def load_ratings(name: str, data_dir: str | os.PathLike[str] | None = None, **opts: Any) -> pd.DataFrame:
    """Load a released rating set as a tidy table (see ``judgekit.human._table``).

    ``name``: 'kumar2025' (opts: framework=, crowd='mean'|'raw'|'both'),
    'epitome' (duplicates='raters'|'error'|'drop'), 'mentalalign'
    (judges=[...]), 'welivita2024' (path= to your copy of the file).
    Files are read from ``data_dir`` or ``$JUDGEKIT_DATA_DIR``; nothing is
    downloaded here.  ``table.attrs["dataset"]`` names the set.
    """
    table = _load(name, data_dir, **opts)
    table.attrs["dataset"] = name
    return table


def _load(name: str, data_dir: str | os.PathLike[str] | None, **opts: Any) -> pd.DataFrame:
    if name == "welivita2024":
        from . import _load_welivita

        path = opts.pop("path", None)
        root = None if path is not None else _data_dir(data_dir)
        _no_extra(name, opts)
        return _load_welivita.load(root, path=path)
    root = _data_dir(data_dir)
    if name == "kumar2025":
        from . import _load_kumar

        return _load_kumar.load(root, **_only(name, opts, ("framework", "crowd")))
    if name == "epitome":
        from ._load_other import load_epitome

        return load_epitome(root, **_only(name, opts, ("duplicates",)))
    if name == "mentalalign":
        from ._load_other import load_mentalalign

        return load_mentalalign(root, **_only(name, opts, ("judges",)))
    raise InputError(f"unknown dataset {name!r}; choose from {list(DATASETS)}")


def _only(name: str, opts: dict, allowed: tuple[str, ...]) -> dict:
    extra = sorted(set(opts) - set(allowed))
    if extra:
        raise InputError(f"load_ratings({name!r}) got unknown option(s) {extra}; allowed: {list(allowed)}")
    return opts


def _no_extra(name: str, opts: dict) -> None:
    _only(name, opts, ())
