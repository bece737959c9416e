"""``Scores``: the one value that crosses between judgekit's packages.

``evaluate`` (n-gram metrics), judges (``JudgeResult.to_scores()``) and the
human ratings (``judgekit.human.rating_scores``) produce it; reports, the
pytest gate, the CLI and significance tests consume it.  It holds:

- ``ids``: item ids, as strings;
- per-item columns (``column(name)``, ``to_frame()``): metric values, judge
  dimensions, ``status``, flags;
- ``scores``: the corpus-level values;
- ``levels``: the declared levels of ordinal columns (a rubric's scale);
- one ``Signature``;
- a *reducer*, supplied by the producer, that computes corpus scores from
  per-item statistics (arrays whose first axis is the items).  Resampling,
  pooling two systems and taking a subset only index or concatenate those
  arrays, so a resample's corpus BLEU is computed exactly as the corpus's
  (sacreBLEU's sufficient statistics), and a mean is a mean.  A score the
  reducer cannot recompute (Distinct-n needs the corpus's n-gram sets) is
  absent from ``resampled`` and is never resampled.

Scores written with ``to_jsonl`` read back with ``from_jsonl`` (valid
JSON: ``null`` for a missing value, never ``NaN``).
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from ._ids import Ids
from .errors import InputError, show_ids
from .signature import Signature

__all__ = ["Scores", "Reducer", "LinearReducer", "MeanReducer"]


class Reducer(Protocol):
    """Corpus scores from per-item statistics.  ``names``: the scores it
    computes; calling it with the (indexed or concatenated) statistics
    returns name -> value.  ``many(stats, counts)`` computes every resample
    at once (``counts[b, i]``: how often item ``i`` is in resample ``b``)
    and may return None, which means: call it once per resample."""

    names: tuple[str, ...]

    def __call__(self, stats: Mapping[str, np.ndarray]) -> dict[str, float]: ...

    def many(self, stats: Mapping[str, np.ndarray], counts: np.ndarray) -> dict[str, np.ndarray] | None: ...


@runtime_checkable
class LinearReducer(Protocol):
    """A reducer made of sums: ``columns(stats)`` is one matrix (items x
    columns, or None when it cannot be one), and ``from_sums(sums, m)``
    gives the scores of resamples from their column sums and sizes."""

    names: tuple[str, ...]

    def columns(self, stats: Mapping[str, np.ndarray]) -> np.ndarray | None: ...

    def from_sums(self, sums: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray] | None: ...


class MeanReducer:
    """The mean of each named per-item column over its values (NaN, an
    unscored item, is left out; no value at all gives NaN)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)

    def __call__(self, stats: Mapping[str, np.ndarray]) -> dict[str, float]:
        out = {}
        for k in self.names:
            v = stats[k]
            if v.dtype.kind == "f" and np.isnan(v).any():
                v = v[~np.isnan(v)]
            out[k] = float(v.mean()) if len(v) else math.nan
        return out

    def columns(self, stats: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per item: each value (0 where missing), then each 'has a value'."""
        vals = [np.asarray(stats[k], dtype=float) for k in self.names]
        return np.column_stack([np.where(np.isnan(v), 0.0, v) for v in vals]
                               + [(~np.isnan(v)).astype(float) for v in vals])

    def from_sums(self, sums: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray]:
        k = len(self.names)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {name: sums[:, j] / sums[:, k + j] for j, name in enumerate(self.names)}

    def many(self, stats: Mapping[str, np.ndarray], counts: np.ndarray) -> dict[str, np.ndarray]:
        fc = counts.astype(float)
        return self.from_sums(fc @ self.columns(stats), fc.sum(axis=1))

    def spec(self) -> dict[str, Any]:
        return {"kind": "mean", "names": list(self.names)}


class _Joined:
    """Two reducers side by side (``Scores.join``)."""

    def __init__(self, a: Reducer | None, b: Reducer | None) -> None:
        self.parts = [r for r in (a, b) if r is not None]
        self.names = tuple(n for r in self.parts for n in r.names)

    def __call__(self, stats: Mapping[str, np.ndarray]) -> dict[str, float]:
        out: dict[str, float] = {}
        for r in self.parts:
            out.update(r(stats))
        return out

    def columns(self, stats: Mapping[str, np.ndarray]) -> np.ndarray | None:
        cols = [r.columns(stats) for r in self.parts]
        if any(c is None for c in cols):
            return None
        self._widths = [c.shape[1] for c in cols]
        return np.hstack(cols)

    def from_sums(self, sums: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray] | None:
        out: dict[str, np.ndarray] = {}
        at = 0
        for r, w in zip(self.parts, self._widths):
            got = r.from_sums(sums[:, at:at + w], m)
            if got is None:
                return None
            out.update(got)
            at += w
        return out

    def many(self, stats: Mapping[str, np.ndarray], counts: np.ndarray) -> dict[str, np.ndarray] | None:
        cols = self.columns(stats)
        if cols is None:
            return None
        fc = counts.astype(float)
        return self.from_sums(fc @ cols, fc.sum(axis=1))


class Scores:
    """Per-item and corpus scores of one system on a set of items, with the
    signature that made them and a way to rescore any resample of them."""

    def __init__(self, ids: Sequence[Any], columns: Mapping[str, Any], *, scores: Mapping[str, float] | None = None,
                 signature: Any = None, stats: Mapping[str, Any] | None = None, reducer: Reducer | None = None,
                 levels: Mapping[str, Sequence[float]] | None = None, warnings: Sequence[str] = ()) -> None:
        if isinstance(ids, Ids):
            self._ids: Sequence[str] = ids  # unique when made: record numbers, or checked as they were written
            n = len(ids)
        else:
            self._ids = [str(i) for i in ids]
            n = len(self._ids)
        if not isinstance(ids, Ids) and len(set(self._ids)) != n:
            seen: set[str] = set()
            dup = [i for i in self._ids if i in seen or seen.add(i)]  # type: ignore[func-returns-value]
            raise InputError(f"item ids repeat: {show_ids(dup)}")
        self._columns = {str(k): _as_array(v, k, n) for k, v in columns.items()}
        self._stats = {str(k): _as_array(v, k, n) for k, v in (stats if stats is not None else {}).items()}
        self._reducer = reducer
        self.signature = Signature(signature if signature is not None else ())
        self.levels = {str(k): tuple(v) for k, v in (levels or {}).items()}
        self.warnings = list(warnings)
        if scores is None:
            scores = self._reduce(np.arange(n)) if reducer is not None else {}
        self.scores = {str(k): float(v) for k, v in scores.items()}

    # -- reading -----------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    @property
    def n_items(self) -> int:
        return len(self._ids)

    @property
    def reducer(self) -> Reducer | None:
        """The producer's reducer (None for plain per-item values): what
        knows how these scores were computed, e.g. the n-gram suite's tokens."""
        return self._reducer

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def column_names(self) -> list[str]:
        return list(self._columns)

    def column(self, name: str) -> np.ndarray:
        """The per-item values of ``name`` (in id order)."""
        try:
            return self._columns[name]
        except KeyError:
            raise InputError(f"no per-item column {name!r}; columns: {', '.join(self._columns)}") from None

    @property
    def resampled(self) -> list[str]:
        """The scores that ``resample`` recomputes (in ``scores`` order)."""
        if self._reducer is None:
            return []
        names = set(self._reducer.names)
        return [k for k in self.scores if k in names] + [k for k in self._reducer.names if k not in self.scores]

    def to_frame(self) -> Any:
        """A pandas DataFrame indexed by id, one column per per-item column."""
        import pandas as pd

        return pd.DataFrame(dict(self._columns), index=pd.Index(list(self._ids), name="id"))

    # -- resampling --------------------------------------------------------
    def _reducer_stats(self) -> dict[str, np.ndarray]:
        """What the reducer reads: every statistic, and the columns it names."""
        names = self._reducer.names  # type: ignore[union-attr]
        both = {k: v for k, v in self._columns.items() if k in names}
        both.update(self._stats)
        return both

    def _reduce(self, idx: np.ndarray) -> dict[str, float]:
        return self._reducer({k: v[idx] for k, v in self._reducer_stats().items()})  # type: ignore[misc]

    def resample(self, indices: Sequence[int]) -> dict[str, float]:
        """Corpus scores of a resample (positions, may repeat), computed as
        for the whole corpus; only the ``resampled`` scores."""
        if self._reducer is None:
            raise InputError("these scores carry no reducer: they cannot be resampled")
        idx = np.asarray(indices, dtype=np.int64)
        out = self._reduce(idx)
        return {k: out[k] for k in self.resampled}

    def resample_many(self, indices: Any, chunk: int = 128) -> dict[str, np.ndarray]:
        """``resample`` of every row of ``indices`` (resamples x draws), as
        name -> array over the rows: through the reducer's ``many`` (array
        operations over the per-item statistics, ``chunk`` rows at a time to
        bound memory), or one ``resample`` per row where it has none."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.ndim != 2:
            raise InputError("resample_many takes a 2-d array: one row of item positions per resample")
        n = self.n_items
        out = {k: np.empty(len(idx)) for k in self.resampled}
        for a in range(0, len(idx), chunk):
            rows = idx[a:a + chunk]
            flat = (np.arange(len(rows))[:, None] * n + rows).ravel()
            counts = np.bincount(flat, minlength=len(rows) * n).reshape(len(rows), n)
            got = self.resample_counts(counts, rows=rows)
            for k in out:
                out[k][a:a + len(rows)] = got[k]
        return out

    def linear(self) -> tuple[np.ndarray, Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]] | None:
        """The per-item statistics as one matrix (items x columns) and the
        function from a resample's column sums and size to its scores, when
        the reducer is made of sums (None otherwise).  Any weighting of the
        items is then one matrix product: the randomization test swaps
        items between two systems as ``total_b + swap @ (a - b)``."""
        if not isinstance(self._reducer, LinearReducer):
            return None
        cols = self._reducer.columns(self._reducer_stats())
        if cols is None:
            return None
        names = self.resampled
        reducer = self._reducer

        def scores(sums: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray]:
            got = reducer.from_sums(sums, m)
            return {k: got[k] for k in names}

        return cols, scores

    def resample_counts(self, counts: Any, *, rows: Any = None) -> dict[str, np.ndarray]:
        """The scores of resamples given as counts (``counts[b, i]``: how
        often item ``i`` is drawn in resample ``b``), through the reducer's
        ``many``; without one, each row is expanded to item positions (or
        ``rows`` given) and resampled one at a time."""
        if self._reducer is None:
            raise InputError("these scores carry no reducer: they cannot be resampled")
        counts = np.asarray(counts)
        names = self.resampled
        got = self._reducer.many(self._reducer_stats(), counts)
        if got is not None:
            return {k: got[k] for k in names}
        out = {k: np.empty(len(counts)) for k in names}
        for j in range(len(counts)):
            row = rows[j] if rows is not None else np.repeat(np.arange(counts.shape[1]), counts[j])
            one = self.resample(row)
            for k in names:
                out[k][j] = one[k]
        return out

    def take(self, indices: Sequence[int]) -> "Scores":
        """The scores of a subset (or resample) of the items, as a new value;
        corpus scores that cannot be recomputed are dropped."""
        idx = np.asarray(indices, dtype=np.int64)
        ids = [self._ids[i] for i in idx.tolist()]
        cols = {k: v[idx] for k, v in self._columns.items()}
        stats = {k: v[idx] for k, v in self._stats.items()}
        return Scores(ids, cols, signature=self.signature, stats=stats, reducer=self._reducer, levels=self.levels,
                      warnings=self.warnings)

    def select(self, ids: Sequence[Any]) -> "Scores":
        """The scores of the given item ids, in that order (an id not here is
        an error naming it)."""
        pos = {i: k for k, i in enumerate(self._ids)}
        want = [str(i) for i in ids]
        missing = [i for i in want if i not in pos]
        if missing:
            raise InputError(f"{len(missing)} id(s) not among the scored items: {show_ids(missing)}")
        return self.take([pos[i] for i in want])

    # -- combining ---------------------------------------------------------
    def join(self, other: "Scores", *, part: str | None = None) -> "Scores":
        """Both values' columns and scores side by side, paired by id (the
        same ids, any order; others are an error naming them).  ``part``
        nests ``other``'s signature under that key; otherwise the parts are
        merged (a key in both with different values is an error)."""
        if not isinstance(other, Scores):
            raise InputError(f"join takes Scores, not {type(other).__name__}")
        a, b = set(self._ids), set(other._ids)
        if a != b:
            raise InputError(f"join pairs items by id: {len(a - b)} id(s) only here ({show_ids(sorted(a - b))}), "
                             f"{len(b - a)} only in the other ({show_ids(sorted(b - a))})")
        other = other.select(self._ids) if other._ids != self._ids else other
        clash = (set(self._columns) & set(other._columns)) | (set(self.scores) & set(other.scores)) \
            | (set(self._stats) & set(other._stats))
        if clash:
            raise InputError(f"join: both have {', '.join(sorted(clash))}")
        if part is not None:
            sig = self.signature.with_part(part, other.signature)
        else:
            parts = self.signature.parts
            for k, v in other.signature.items():
                if k in parts and str(parts[k]) != str(v):
                    raise InputError(f"join: signature part {k!r} differs ({parts[k]} vs {v}); give part=")
                parts[k] = v
            sig = Signature(parts)
        import copy

        out = copy.copy(self)  # keeps the producer's type (``Result``) and its extras
        out._columns = {**self._columns, **other._columns}
        out._stats = {**self._stats, **other._stats}
        out._reducer = _Joined(self._reducer, other._reducer)
        out.scores = {**self.scores, **other.scores}
        out.signature = sig
        out.levels = {**self.levels, **other.levels}
        out.warnings = self.warnings + other.warnings
        out._changed()
        return out

    def _changed(self) -> None:
        """Hook: drop what a subclass derived from the columns."""

    @staticmethod
    def pool(first: "Scores", second: "Scores") -> "Scores":
        """One value over ``first``'s items then ``second``'s (positions
        0..n-1, n..2n-1): two systems on the same items, for paired tests.
        Both must describe the same numbers (signature) and statistics."""
        if not first.signature.same_numbers(second.signature):
            raise InputError("the two were scored differently; paired tests need one signature:\n"
                             f"  baseline: {first.signature}\n  system:   {second.signature}")
        if first.n_items != second.n_items:
            raise InputError(f"baseline has {first.n_items} items but system has {second.n_items}; "
                             "paired tests need the same items")
        if set(first._stats) != set(second._stats) or set(first._columns) != set(second._columns):
            raise InputError("the two carry different statistics; paired tests need the same metrics")
        stats = {k: np.concatenate([v, second._stats[k]]) for k, v in first._stats.items()}
        cols = {k: np.concatenate([v, second._columns[k]]) for k, v in first._columns.items()}
        ids = [f"a:{i}" for i in first._ids] + [f"b:{i}" for i in second._ids]
        return Scores(ids, cols, scores={}, signature=first.signature, stats=stats, reducer=first._reducer,
                      levels=first.levels)

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], *, ids: Sequence[Any] | None = None,
                     signature: Any = None, levels: Mapping[str, Sequence[float]] | None = None,
                     missing: bool = True, what: str = "") -> "Scores":
        """Scores whose corpus values are the means of the given per-item
        columns (judge dimensions, human ratings, any per-item metric);
        NaN marks an item without a value (left out of the means), or is an
        error with ``missing=False``.  ``what`` names the input in errors."""
        if hasattr(columns, "columns") and hasattr(columns, "to_numpy"):  # DataFrame
            if ids is None:
                ids = [str(i) for i in columns.index]
            columns = {c: columns[c] for c in columns.columns}
        if not isinstance(columns, Mapping) or not columns:
            raise InputError(f"{what or 'columns'}: expected judgekit Scores (a Result) or a non-empty mapping "
                             "name -> per-item values")
        arrays = {}
        for k, v in columns.items():
            try:
                arr = np.asarray(v.tolist() if hasattr(v, "tolist") else list(v), dtype=float)
            except (TypeError, ValueError):
                raise InputError(f"{what}[{k!r}]: expected a sequence of per-item numbers") from None
            if arr.ndim != 1 or not len(arr):
                raise InputError(f"{what}[{k!r}]: expected a non-empty sequence of per-item numbers")
            bad = np.flatnonzero(~np.isfinite(arr))
            if len(bad) and not missing:
                raise InputError(f"{what}[{k!r}]: item(s) {', '.join(map(str, bad[:10]))} have no value (NaN); "
                                 "test only items scored in both systems")
            arrays[str(k)] = arr
        n = len(next(iter(arrays.values())))
        for k, v in arrays.items():
            if len(v) != n:
                raise InputError(f"{what}[{k!r}] has {len(v)} items, expected {n}: all per-item columns must have "
                                 "the same length")
        return cls(ids if ids is not None else [str(i) for i in range(n)], arrays, signature=signature,
                   reducer=MeanReducer(arrays), levels=levels)

    # -- files -------------------------------------------------------------
    def to_jsonl(self, path: Any = None) -> str | None:
        """One JSON object per line: first a header (``{"scores": {...},
        "signature": ..., "levels": ..., "warnings": ..., "reducer": ...}``
        under the key ``"judgekit.scores"``), then one row per item with its
        id and per-item columns.  Missing values are ``null``."""
        spec = getattr(self._reducer, "spec", None)
        head = {"judgekit.scores": {"n_items": self.n_items, "signature": str(self.signature),
                                    "scores": {k: _json_value(v) for k, v in self.scores.items()},
                                    "levels": {k: list(v) for k, v in self.levels.items()},
                                    "warnings": self.warnings, "reducer": spec() if spec else None}}
        lines = [json.dumps(head, ensure_ascii=False, allow_nan=False)]
        cols = list(self._columns.items())
        for j, i in enumerate(self._ids):
            row = {"id": i}
            for k, v in cols:
                row[k] = _json_value(v[j])
            lines.append(json.dumps(row, ensure_ascii=False, allow_nan=False))
        text = "\n".join(lines) + "\n"
        if path is None:
            return text
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return None

    @classmethod
    def from_jsonl(cls, path: Any) -> "Scores":
        """Read what ``to_jsonl`` wrote.  Mean scores resample again; corpus
        statistics (BLEU's) are not stored, so those scores do not."""
        from .io import read_records

        rows = iter(read_records(path, id_fields=("id",)))
        try:
            where, head = next(rows)
        except StopIteration:
            raise InputError(f"{path}: no header line") from None
        meta = head.get("judgekit.scores")
        if not isinstance(meta, dict):
            raise InputError(f"{where}: expected the header written by Scores.to_jsonl "
                             "(an object under 'judgekit.scores')")
        ids: list[str] = []
        cols: dict[str, list[Any]] = {}
        for where, rec in rows:
            if "id" not in rec:
                raise InputError(f"{where}: row without 'id'")
            ids.append(str(rec.pop("id")))
            if not cols and len(ids) == 1:
                cols = {k: [] for k in rec}
            if set(rec) != set(cols):
                raise InputError(f"{where}: columns {sorted(rec)} differ from the first row's {sorted(cols)}")
            for k, v in rec.items():
                cols[k].append(v)
        if meta.get("n_items") is not None and meta["n_items"] != len(ids):
            raise InputError(f"{path}: header says {meta['n_items']} items, the file has {len(ids)}")
        arrays = {k: _from_json_column(v) for k, v in cols.items()}
        spec = meta.get("reducer")
        reducer = MeanReducer(spec["names"]) if isinstance(spec, dict) and spec.get("kind") == "mean" else None
        scores = {k: (math.nan if v is None else float(v)) for k, v in (meta.get("scores") or {}).items()}
        return cls(ids, arrays, scores=scores, signature=Signature.parse(meta.get("signature") or ""),
                   reducer=reducer, levels=meta.get("levels") or {}, warnings=meta.get("warnings") or [])

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in list(self.scores.items())[:6])
        return f"<Scores {self.n_items} items; {shown}{' ...' if len(self.scores) > 6 else ''}; {self.signature}>"


def _as_array(v: Any, name: Any, n: int) -> np.ndarray:
    arr = v if isinstance(v, np.ndarray) else np.asarray(v.tolist() if hasattr(v, "tolist") else list(v))
    if arr.ndim == 0 or len(arr) != n:
        raise InputError(f"per-item column {name!r} has {0 if arr.ndim == 0 else len(arr)} values for {n} items")
    return arr


def _json_value(v: Any) -> Any:
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if v is None:
        return None
    if isinstance(v, (str, int)):
        return v
    return str(v)


def _from_json_column(values: list[Any]) -> np.ndarray:
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int, float} and kinds:
        return np.array([math.nan if v is None else float(v) for v in values], dtype=float)
    if kinds == {bool}:
        return np.array(values, dtype=object if None in values else bool)
    return np.array(values, dtype=object)
