"""Item ids that cost (almost) nothing per item, for ``evaluate_file``.

A list of a million ids and the set that checks them for repeats hold
~150 bytes an item, more than every other per-item cost of a streamed
evaluation once the per-item values went to disk (``ngram/_spill``).  So:

- record numbers (a file without ids) are a ``RangeIds``: no list at all;
- string ids are appended, a chunk at a time, to a temporary file (UTF-8,
  with a second file of end offsets) and mapped back read-only; a read
  hands its pages back to the OS (``SpilledIds``);
- the repeat check keeps no set: each id's 64-bit hash and position go to
  one of 64 bucket files by the hash's top bits, each bucket is sorted on
  its own at the end, and ids with equal hashes are compared as strings (a
  hash collision is not a repeat).  ``RepeatedIds`` names the positions of
  the first repeats, which the caller turns into file lines.

Both are read-only sequences of ``str`` equal to the list they stand for.
"""
from __future__ import annotations

import heapq
import mmap
import os
import shutil
import tempfile
from typing import Any, Iterator, Sequence, overload

import numpy as np

from ._tempdirs import remove_at_exit
from .errors import InputError, listing

_BLOCK = 65_536  # ids decoded per read
_BUCKET_BITS = 6  # 64 bucket files for the repeat check
_RECORD = np.dtype([("h", "<i8"), ("i", "<i8")])
_SHOWN = 10  # repeats named in an error
_PENDING = 1 << 16  # hashes held before they go to their bucket files (1 MiB)
_hash = hash  # 64-bit (SipHash) on 64-bit Pythons; a collision is rechecked, never taken for a repeat


class Ids(Sequence[str]):
    """A read-only sequence of item ids (``str``), equal to the list of them."""

    def labels(self) -> Any:
        """What the ids were before they became strings (a pandas index's values)."""
        return list(self)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, (list, tuple, Ids)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:  # pickled (sent to a worker) as the list it stands for
        return list, (list(self),)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self)} item ids>"


class RangeIds(Ids):
    """The ids ``"0"``, ``"1"``, ... ``str(n - 1)``: items numbered by position."""

    def __init__(self, n: int) -> None:
        self._range = range(n)

    def __len__(self) -> int:
        return len(self._range)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [str(k) for k in self._range[i]]
        return str(self._range[i])

    def __iter__(self) -> Iterator[str]:
        return map(str, self._range)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RangeIds):
            return len(self) == len(other)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def labels(self) -> Any:
        return np.arange(len(self))


def release(m: Any) -> None:
    """Hand the resident pages of a read-only mapping back to the OS (they
    are read again from the file when needed)."""
    m = getattr(m, "_mmap", m)
    if isinstance(m, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        try:
            m.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


class SpilledIds(Ids):
    """String ids in a mapped file: UTF-8 bytes, and where each one ends."""

    def __init__(self, blob: Any, ends: np.ndarray) -> None:
        self._blob = blob  # an mmap (or b"" when every id is empty)
        self._ends = ends  # int64 end offsets, mapped

    def __len__(self) -> int:
        return len(self._ends)

    def _get(self, i: int) -> str:
        lo = int(self._ends[i - 1]) if i else 0
        return self._blob[lo:int(self._ends[i])].decode("utf-8", "surrogatepass")

    def _slice(self, lo: int, hi: int) -> list[str]:
        if hi <= lo:
            return []
        ends = np.array(self._ends[lo:hi])
        start = int(self._ends[lo - 1]) if lo else 0
        data = self._blob[start:int(ends[-1])]
        out, a = [], 0
        for b in (ends - start).tolist():
            out.append(data[a:b].decode("utf-8", "surrogatepass"))
            a = b
        release(self._blob)
        release(self._ends)
        return out

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: Any) -> Any:
        n = len(self)
        if isinstance(i, slice):
            lo, hi, step = i.indices(n)
            if step == 1:
                return self._slice(lo, hi)
            return [self._get(k) for k in range(lo, hi, step)]
        k = i.__index__()
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError("item id index out of range")
        return self._get(k)

    def __iter__(self) -> Iterator[str]:
        for lo in range(0, len(self), _BLOCK):
            yield from self._slice(lo, min(len(self), lo + _BLOCK))


class RepeatedIds(InputError):
    """Ids that repeat: ``repeats`` lists ``(id, first position, repeat
    position)`` for the first repeats (by position), ``count`` all of them."""

    def __init__(self, repeats: list[tuple[str, int, int]], count: int) -> None:
        self.repeats = repeats
        self.count = count
        shown = [f"{i!r} (items {a} and {b})" for i, a, b in repeats]
        super().__init__(f"item ids repeat: {listing(shown, count)}")


class IdWriter:
    """Collects the ids of a stream, a chunk at a time; ``finish()`` gives
    the ``Ids`` (or raises ``RepeatedIds``).  Integers equal to their
    position (record numbers) stay a range; anything else is spilled as
    strings."""

    def __init__(self, directory: str | None = None) -> None:
        self._dir = directory
        self._folder: str | None = None
        self.n = 0
        self._size = 0  # bytes of ids written
        self._pending: list[np.ndarray] = []
        self._pending_n = 0

    def _open(self) -> None:
        self._folder = tempfile.mkdtemp(prefix="judgekit-ids-", dir=self._dir)
        self._blob = open(os.path.join(self._folder, "ids.bin"), "wb")
        self._ends = open(os.path.join(self._folder, "ends.bin"), "wb")
        if self.n:  # record numbers so far, then something else
            self._write([str(k) for k in range(self.n)], 0)

    def add(self, ids: Sequence[Any]) -> None:
        if not ids:
            return
        if self._folder is None:
            n = len(ids)
            if all(type(x) is int for x in ids) and list(ids) == list(range(self.n, self.n + n)):
                self.n += n
                return
            self._open()
        self._write([x if isinstance(x, str) else str(x) for x in ids], self.n)
        self.n += len(ids)

    def _write(self, ids: list[str], first: int) -> None:
        enc = [s.encode("utf-8", "surrogatepass") for s in ids]
        ends = self._size + np.cumsum(np.fromiter(map(len, enc), np.int64, len(enc)))
        self._blob.write(b"".join(enc))
        self._ends.write(ends.tobytes())
        self._size = int(ends[-1])
        rec = np.empty(len(ids), _RECORD)
        rec["h"] = np.fromiter(map(_hash, ids), np.int64, len(ids))
        rec["i"] = np.arange(first, first + len(ids))
        self._pending.append(rec)
        self._pending_n += len(rec)
        if self._pending_n >= _PENDING:
            self._flush()

    def _bucket(self, k: int) -> str:
        return os.path.join(self._folder, f"h{k}.bin")  # type: ignore[arg-type]

    def _flush(self) -> None:
        if not self._pending:
            return
        rec = np.concatenate(self._pending)
        self._pending, self._pending_n = [], 0
        bucket = (rec["h"].view(np.uint64) >> np.uint64(64 - _BUCKET_BITS)).astype(np.intp)
        order = np.argsort(bucket, kind="stable")
        rec, bucket = rec[order], bucket[order]
        bounds = np.searchsorted(bucket, np.arange((1 << _BUCKET_BITS) + 1))
        for k in range(1 << _BUCKET_BITS):
            a, b = bounds[k], bounds[k + 1]
            if b > a:
                with open(self._bucket(k), "ab") as fh:
                    fh.write(rec[a:b].tobytes())

    def finish(self) -> Ids:
        """The ids, mapped; the temporary files unlinked (the mappings keep
        them alive).  ``RepeatedIds`` when an id repeats."""
        if self._folder is None:
            return RangeIds(self.n)
        self._flush()
        self._blob.close()
        self._ends.close()
        blob_path, ends_path = self._blob.name, self._ends.name
        with open(blob_path, "rb") as fh:
            blob: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if self._size else b""
        ids = SpilledIds(blob, np.memmap(ends_path, dtype=np.int64, mode="r", shape=(self.n,)))
        try:
            repeats, count = self._repeats(ids)
        finally:
            self._remove()
        if count:
            raise RepeatedIds(repeats, count)
        return ids

    def _repeats(self, ids: SpilledIds) -> tuple[list[tuple[str, int, int]], int]:
        """The first repeats by position, and how many there are: bucket by
        bucket, equal hashes compared as strings."""
        shown: list[tuple[int, int, str]] = []  # (repeat position, first position, id)
        count = 0
        for k in range(1 << _BUCKET_BITS):
            path = self._bucket(k)
            if not os.path.exists(path):
                continue
            rec = np.fromfile(path, dtype=_RECORD)
            os.unlink(path)
            rec = rec[np.argsort(rec["h"], kind="stable")]
            h = rec["h"]
            same = h[1:] == h[:-1]
            if not same.any():
                continue
            # runs of equal hashes: [start, stop) in the sorted records
            edge = np.flatnonzero(np.diff(np.concatenate(([False], same, [False])).astype(np.int8)))
            found = []
            for a, b in zip(edge[0::2].tolist(), (edge[1::2] + 1).tolist()):
                first: dict[str, int] = {}
                for pos in sorted(rec["i"][a:b].tolist()):
                    s = ids[pos]
                    if s in first:
                        found.append((pos, first[s], s))
                    else:
                        first[s] = pos
            count += len(found)
            shown = heapq.nsmallest(_SHOWN, shown + found)
        release(ids._blob)
        release(ids._ends)
        return [(s, a, b) for b, a, s in shown], count

    def _remove(self) -> None:
        folder, self._folder = self._folder, None
        try:
            for name in os.listdir(folder):  # type: ignore[arg-type]
                os.unlink(os.path.join(folder, name))  # type: ignore[arg-type]
            os.rmdir(folder)  # type: ignore[arg-type]
        except OSError:  # a mapped file on Windows
            remove_at_exit(folder)  # type: ignore[arg-type]

    def discard(self) -> None:
        """After an error: close and remove the files."""
        if self._folder is not None:
            self._blob.close()
            self._ends.close()
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
