"""Per-item arrays on disk, so that ``evaluate_file`` holds none in memory.

Each chunk's per-item arrays are appended to files in a temporary folder as
the chunk finishes; at the end they are mapped read-only (``np.memmap``) and
the files unlinked at once (the mappings keep them alive, the disk space
goes back when the arrays go; where a mapped file cannot be unlinked, at
exit).  A mapped page counts in the process's memory only while it is
resident, so every whole-array reduction on a ``Spilled`` array (``np.mean``,
``.sum()``, what corpus scores are made of) hands its pages back to the OS
when done: the same numpy operations on the same bytes (scores identical to
an in-memory run), one array resident at a time; an integer sum over the
items (BLEU's counts, four columns an order) and the mean of a column
(numpy's pairwise summation replayed for floats; an exact sum for
integers) run a block at a time.
"""
from __future__ import annotations

import mmap
import os
import shutil
import tempfile
from typing import Any, BinaryIO

import numpy as np

from .._tempdirs import remove_at_exit
from ._stats import BleuStats
from .suite import _BLEU_FIELDS, Partial, add_sets_and_flags


def release(arr: Any) -> None:
    """Hand the resident pages of a mapped array back to the OS (they are
    read again from the file when needed)."""
    m = getattr(arr, "_mmap", None)
    if m is not None and hasattr(mmap, "MADV_DONTNEED"):
        try:
            m.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


class Spilled(np.memmap):
    """A read-only mapped per-item array whose whole-array reductions release
    its pages afterwards."""

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func is np.mean and not kwargs and len(args) == 1 and args[0] is self and self.ndim == 1 \
                and len(self) > _BLOCK:
            if self.dtype == np.float64:
                return np.float64(_pairwise(self, 0, len(self)) / len(self))
            if self.dtype.kind in "iu" and int(_sum_blocks(self, None, np.abs)) < 2**53:
                # integers whose sum of magnitudes float64 holds exactly: every order of additions gives
                # numpy's float sum, which is the exact integer sum
                return np.float64(float(int(_sum_blocks(self, None))) / len(self))
        try:
            return super().__array_function__(func, types, args, kwargs)
        finally:
            release(self)

    def sum(self, *args: Any, **kwargs: Any) -> Any:
        if _blockwise(self, args, kwargs):
            return _sum_blocks(self, kwargs.get("axis", args[0] if args else None))
        try:
            return super().sum(*args, **kwargs)
        finally:
            release(self)


_BLOCK = 1 << 16  # items summed at a time


def _blockwise(arr: np.ndarray, args: tuple, kwargs: dict) -> bool:
    """An integer sum over the items (BLEU's counts: 32 bytes an item), which
    is exact a block at a time, so that only a block is resident."""
    axis = kwargs.get("axis", args[0] if args else None)
    return arr.dtype.kind in "iu" and arr.ndim >= 1 and len(arr) > _BLOCK and axis in (0, None) \
        and len(args) <= 1 and set(kwargs) <= {"axis"}


def _pairwise(arr: np.ndarray, lo: int, n: int) -> Any:
    """numpy's pairwise sum of ``arr[lo:lo + n]`` (halves split at a
    multiple of 8 down to a block, which numpy sums as one call), a block
    resident at a time: the same additions in the same order, so the mean
    of a per-item column equals ``np.mean`` of it in memory bit for bit."""
    if n <= _BLOCK:
        got = np.add.reduce(np.asarray(arr[lo:lo + n]))
        release(arr)
        return got
    half = n // 2
    half -= half % 8
    return _pairwise(arr, lo, half) + _pairwise(arr, lo + half, n - half)


def _sum_blocks(arr: np.ndarray, axis: Any, each: Any = None) -> Any:
    total = None
    for a in range(0, len(arr), _BLOCK):
        block = np.asarray(arr[a:a + _BLOCK])
        part = (each(block) if each is not None else block).sum(axis=axis)
        release(arr)
        total = part if total is None else total + part
    return total


def _open(path: str, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype)
    return Spilled(path, dtype=dtype, mode="r", shape=shape)


class SpillAccumulator:
    """``suite.Accumulator`` with the per-item arrays written to disk:
    Distinct's n-gram sets and the flagged items stay in memory (they grow
    with the distinct n-grams and the flagged items, not with the items)."""

    def __init__(self, directory: str | None = None) -> None:
        self.folder = tempfile.mkdtemp(prefix="judgekit-items-", dir=directory)
        self.n = 0
        self.files: dict[str, tuple[BinaryIO, np.dtype, tuple[int, ...]]] = {}
        self.distinct: dict[int, tuple[set, int]] | None = None
        self.flagged: list[int] = []
        self.has_bleu = False

    def _write(self, key: str, arr: np.ndarray) -> None:
        arr = np.ascontiguousarray(arr)
        entry = self.files.get(key)
        if entry is None:
            fh = open(os.path.join(self.folder, f"{len(self.files)}.bin"), "wb")
            entry = self.files[key] = (fh, arr.dtype, arr.shape[1:])
        if (arr.dtype, arr.shape[1:]) != entry[1:]:
            raise ValueError(f"per-item array {key!r} changed shape or type between chunks")
        entry[0].write(arr.tobytes())

    def add(self, p: Partial) -> None:
        for k, v in p.per_item.items():
            self._write("item:" + k, v)
        for k, v in p.extra.items():
            self._write("x:" + k, v)
        if p.bleu is not None:
            self.has_bleu = True
            for f in _BLEU_FIELDS:
                self._write("bleu:" + f, getattr(p.bleu, f))
        add_sets_and_flags(self, p)

    def result(self) -> Partial:
        arrays: dict[str, np.ndarray] = {}
        unlinked = True
        for key, (fh, dtype, shape) in self.files.items():
            fh.close()
            arrays[key] = _open(fh.name, dtype, (self.n, *shape))
            try:
                os.unlink(fh.name)
            except OSError:  # a mapped file on Windows
                unlinked = False
        if unlinked:
            shutil.rmtree(self.folder, ignore_errors=True)
        else:
            remove_at_exit(self.folder)
        per_item = {k[5:]: v for k, v in arrays.items() if k.startswith("item:")}
        extra = {k[2:]: v for k, v in arrays.items() if k.startswith("x:")}
        bleu = BleuStats(*(arrays["bleu:" + f] for f in _BLEU_FIELDS)) if self.has_bleu else None
        return Partial(self.n, per_item, bleu, self.distinct, self.flagged, extra)

    def discard(self) -> None:
        """After an error: close and remove the files."""
        for fh, _, _ in self.files.values():
            fh.close()
        shutil.rmtree(self.folder, ignore_errors=True)
