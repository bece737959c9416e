"""Welivita & Pu (2024) between-subjects ratings: any number of systems.

The release has no licence, so judgekit never ships it: read a user's copy,
or fetch the file pinned at a commit with :func:`download_welivita`.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ._table import make_table

WELIVITA_COMMIT = "d14205e22c9ce69766743f41b0efa7ad8de7d42f"
WELIVITA_URL = ("https://raw.githubusercontent.com/anuradha1992/llm-empathy-evaluation/"
                f"{WELIVITA_COMMIT}/data/dataset_and_ratings.csv")
WELIVITA_SIZE = 2_327_004
# The sha256 could not be computed where judgekit was built (no network);
# the size and the commit-pinned URL are checked, and the digest is printed
# so that users can pin it (pass sha256=...).
WELIVITA_SHA256: str | None = None
WELIVITA_FILE = "welivita2024/dataset_and_ratings.csv"
LEVEL_NAMES = {1: "Bad", 2: "Okay", 3: "Good"}
_RATING = re.compile(r"^rating_(.+)$")


def systems_of(df: pd.DataFrame) -> list[str]:
    """System names with both ``response_<s>`` and ``rating_<s>`` columns, in file order."""
    out = []
    for c in df.columns:
        m = _RATING.match(str(c))
        if m and f"response_{m.group(1)}" in df.columns:
            out.append(m.group(1))
    return out


def read_welivita(path: str | os.PathLike[str], *, scale: tuple[int, int] = (1, 3)) -> pd.DataFrame:
    """The wide file, checked: ids as strings, ratings integers on the scale (names the rows)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Welivita-format file {str(path)!r} not found (download it with "
                         f"judgekit.human.download_welivita(dest_dir))")
    from ..io import read_records

    records = list(read_records(path, id_fields=("dialog_id",)))  # CSV cells are strings, empty ones ""
    if not records:
        raise InputError(f"{path}: no data rows")
    df = pd.DataFrame([rec for _, rec in records])
    line = [int(n) if n.isdigit() else where for where, n in ((w, w.rsplit(":", 1)[-1]) for w, _ in records)]
    need = ["dialog_id"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}")
    systems = systems_of(df)
    if len(systems) < 1:
        raise InputError(f"{path}: no response_<system>/rating_<system> column pairs found")
    dup = df["dialog_id"].duplicated(keep=False)
    if dup.any():
        raise InputError(f"{path}: dialog_id repeated at line(s) {[line[i] for i in df.index[dup]][:10]}")
    lo, hi = scale
    for s in systems:
        col = f"rating_{s}"
        v = pd.to_numeric(df[col], errors="coerce")
        bad = v.isna() | (v < lo) | (v > hi) | (v % 1 != 0)
        if bad.any():
            lines = [line[i] for i in df.index[bad]][:10]
            raise InputError(f"{path}: {col} must be an integer in {lo}..{hi}; {int(bad.sum())} bad value(s), "
                             f"first at data line(s) {lines} (e.g. {df.loc[bad, col].iloc[0]!r})")
        df[col] = v.astype(int)
    return df


def load(root: Path | None, *, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Tidy table: one row per (dialogue, system); item ``"<dialog_id>/<system>"``."""
    if path is None:
        if root is None:
            raise InputError("welivita2024: pass path=... or a data directory holding " + WELIVITA_FILE)
        path = root / WELIVITA_FILE
    df = read_welivita(path)
    return to_table(df)


def to_table(df: pd.DataFrame) -> pd.DataFrame:
    systems = systems_of(df)
    extras = [c for c in ("emotion", "sentiment") if c in df.columns]
    parts = []
    for s in systems:
        p = df[["dialog_id", *extras]].copy()
        p["item"] = df["dialog_id"].astype(str) + "/" + s
        p["system"] = s
        p["score"] = df[f"rating_{s}"].astype(float)
        ann = f"annotator_{s}"
        p["rater"] = df[ann].astype(str) if ann in df.columns else f"rater:{s}"
        parts.append(p)
    t = pd.concat(parts, ignore_index=True).drop(columns=["dialog_id"])
    t["framework"] = "welivita2024"
    t["dimension"] = "empathy"
    t["rater_kind"] = "crowd"
    t["scale_min"], t["scale_max"] = 1.0, 3.0
    return make_table(t)


def sha256_of(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, dest: str | os.PathLike[str], *, sha256: str | None = None,
             size: int | None = None, timeout: float = 60.0) -> Path:
    """Fetch ``url`` to ``dest`` atomically and check its size and sha256.

    A file already at ``dest`` that passes the checks is not fetched again.
    Returns the path; raises InputError (and leaves nothing behind) on a mismatch.
    """
    import urllib.request

    dest = Path(dest)

    def _check(p: Path) -> str | None:
        if size is not None and p.stat().st_size != size:
            return f"size {p.stat().st_size} bytes, expected {size}"
        if sha256 is not None and sha256_of(p) != sha256.lower():
            return f"sha256 {sha256_of(p)}, expected {sha256}"
        return None

    if dest.is_file() and _check(dest) is None:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
            while True:
                block = resp.read(1 << 16)
                if not block:
                    break
                out.write(block)
        problem = _check(tmp)
        if problem:
            raise InputError(f"downloaded {url} but {problem}; file not kept")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def download_welivita(dest_dir: str | os.PathLike[str], *, sha256: str | None = WELIVITA_SHA256,
                      url: str = WELIVITA_URL) -> Path:
    """Download Welivita & Pu's ``dataset_and_ratings.csv`` pinned at commit d14205e.

    The release carries no licence: it is fetched for your own analysis,
    not redistributed.  Saved as ``<dest_dir>/welivita2024/dataset_and_ratings.csv``,
    so ``load_ratings('welivita2024', data_dir=dest_dir)`` finds it.
    """
    return download(url, Path(dest_dir) / WELIVITA_FILE, sha256=sha256,
                    size=WELIVITA_SIZE if url == WELIVITA_URL else None)
