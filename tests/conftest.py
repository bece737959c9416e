"""Shared fixtures.  Released data is read through $JUDGEKIT_DATA_DIR
(``.ci/run`` points it at ../shared/data); tests that need it skip with a
clear reason when it is absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA_ENV = "JUDGEKIT_DATA_DIR"


def _data_root() -> Path | None:
    value = os.environ.get(DATA_ENV)
    if not value:
        return None
    p = Path(value)
    return p if p.is_dir() else None


def no_data_reason() -> str:
    """Why the released data is not available: unset, or set to a folder that is not there."""
    value = os.environ.get(DATA_ENV)
    if not value:
        return (f"released data not available: set {DATA_ENV} to the data folder "
                "(`judgekit data list` says what goes in it)")
    return f"released data not available: {DATA_ENV}={value} is not a folder (`judgekit data check` checks one)"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The released-data directory, or skip."""
    root = _data_root()
    if root is None:
        pytest.skip(no_data_reason())
    return root


def require_data(*parts: str) -> Path:
    """Path of a file or folder under the data directory, or skip naming it."""
    root = _data_root()
    if root is None:
        pytest.skip(no_data_reason())
    p = root.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{'/'.join(parts)} not found under {DATA_ENV}={root}")
    return p
