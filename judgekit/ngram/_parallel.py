"""Chunked execution: per-item work in worker processes, one merge.

Every suite and preset splits into ``partial`` (per chunk) and ``finish``
(once), so running chunks in processes, or streaming them from a file,
gives exactly the numbers of a single in-process call.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable, Iterable, Sequence

from .suite import Partial, merge

_RUNNER: Any = None
_FACTORY: Callable[[], Any] | None = None


def _init(factory: Callable[[], Any]) -> None:
    global _RUNNER
    if _RUNNER is None or _FACTORY is not factory:
        _RUNNER = factory()


def _work(chunk: tuple[Sequence[str], Sequence[Sequence[str]]]) -> Partial:
    return _RUNNER.partial(*chunk)


def resolve_jobs(n_jobs: int | None) -> int:
    if n_jobs is None or n_jobs == 1:
        return 1
    cpus = os.cpu_count() or 1
    if n_jobs < 0:
        return max(1, cpus + 1 + n_jobs)
    return n_jobs


def split(n: int, parts: int) -> list[tuple[int, int]]:
    parts = max(1, min(parts, n))
    step, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        end = start + step + (1 if i < extra else 0)
        out.append((start, end))
        start = end
    return out


class Pool:
    """A process pool whose workers hold one runner (tokenizers loaded once;
    with ``fork`` they inherit the parent's, already warmed up)."""

    def __init__(self, runner: Any, factory: Callable[[], Any], n_jobs: int):
        global _RUNNER, _FACTORY
        self.n_jobs = n_jobs
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        runner.warm_up()
        _RUNNER, _FACTORY = runner, factory
        methods = mp.get_all_start_methods()
        ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        self.executor = ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_init, initargs=(factory,))

    def map(self, chunks: Iterable[tuple[Sequence[str], Sequence[Sequence[str]]]]) -> list[Partial]:
        return list(self.executor.map(_work, chunks))

    def close(self) -> None:
        self.executor.shutdown()


def mergeable(runner: Any) -> Any:
    """Ask a runner for partials that merge exactly (Distinct's sets)."""
    if hasattr(runner, "mergeable"):
        runner.mergeable = True
    return runner


def _mergeable_factory(factory: Callable[[], Any]) -> Any:
    return mergeable(factory())


def run_partials(runner: Any, factory: Callable[[], Any], preds: Sequence[str], refs: Sequence[Sequence[str]],
                 n_jobs: int) -> Partial:
    if n_jobs == 1 or len(preds) < 2 * n_jobs:
        return runner.partial(preds, refs)
    pool = Pool(mergeable(runner), functools.partial(_mergeable_factory, factory), n_jobs)
    try:
        bounds = split(len(preds), n_jobs * 4)
        return merge(pool.map([(preds[a:b], refs[a:b]) for a, b in bounds]))
    finally:
        pool.close()
