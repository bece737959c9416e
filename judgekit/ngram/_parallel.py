"""Chunked execution: per-item work in worker processes, one merge.

Every suite and preset splits into ``partial`` (per chunk) and ``finish``
(once), so running chunks in processes, or streaming them from a file,
gives exactly the numbers of a single in-process call.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import os
from typing import Any, Callable, Iterable, Iterator, Sequence

from .suite import Partial, merge

_RUNNER: Any = None
_FACTORY: Callable[[], Any] | None = None


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: the per-item work allocates
    millions of small lists and strings and creates no reference cycles,
    and collections triggered by those allocations cost a fifth of it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def partial(runner: Any, preds: Sequence[str], refs: Sequence[Sequence[str]]) -> Partial:
    with no_gc():
        return runner.partial(preds, refs)


def _init(factory: Callable[[], Any]) -> None:
    global _RUNNER
    if _RUNNER is None or _FACTORY is not factory:
        _RUNNER = factory()


def _work(chunk: tuple[Sequence[str], Sequence[Sequence[str]]]) -> Partial:
    return partial(_RUNNER, *chunk)


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


def _native_active() -> bool:
    """Both compiled parts in use: their work runs without the GIL."""
    from ..text.segment import _native_module
    from ._stats import native_kernels

    return _native_module() is not None and native_kernels() is not None


def in_call_threads(runner: Any) -> bool:
    """Whether the runner spreads one call over threads itself (the default
    suite on the compiled path: segmenting to ids and counting run without
    the GIL), which beats chunks in a pool: no partials to merge, no token
    objects, and Distinct counted once over the corpus."""
    return hasattr(runner, "threads") and _native_active()


def threaded_partial(runner: Any, preds: Sequence[str], refs: Sequence[Sequence[str]], n_jobs: int) -> Partial:
    runner.threads = n_jobs
    try:
        return partial(runner, preds, refs)
    finally:
        runner.threads = 1


class Pool:
    """Workers that run ``partial`` on chunks.

    With the compiled segmenter and kernels (which release the GIL) the
    workers are threads sharing the runner: nothing is pickled and
    Distinct's n-gram sets are merged in place.  Otherwise they are
    processes, each holding one runner (tokenizers loaded once; with
    ``fork`` they inherit the parent's, already warmed up)."""

    def __init__(self, runner: Any, factory: Callable[[], Any], n_jobs: int):
        global _RUNNER, _FACTORY
        self.n_jobs = n_jobs
        runner.warm_up()
        self.threads = _native_active()
        if self.threads:
            from concurrent.futures import ThreadPoolExecutor

            self.runner = runner
            self.executor = ThreadPoolExecutor(n_jobs)
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        _RUNNER, _FACTORY = runner, factory
        methods = mp.get_all_start_methods()
        ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        self.executor = ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_init, initargs=(factory,))

    def submit(self, chunk: tuple[Sequence[str], Sequence[Sequence[str]]]):
        if self.threads:
            return self.executor.submit(self.runner.partial, *chunk)
        return self.executor.submit(_work, chunk)

    def map(self, chunks: Iterable[tuple[Sequence[str], Sequence[Sequence[str]]]]) -> list[Partial]:
        futures = [self.submit(c) for c in chunks]
        with no_gc():  # threads: the collector is paused once, by the caller
            return [f.result() for f in futures]

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
        return partial(runner, preds, refs)
    if in_call_threads(runner):
        return threaded_partial(runner, preds, refs, n_jobs)
    pool = Pool(mergeable(runner), functools.partial(_mergeable_factory, factory), n_jobs)
    try:
        bounds = split(len(preds), n_jobs * (2 if pool.threads else 4))
        return merge(pool.map([(preds[a:b], refs[a:b]) for a, b in bounds]))
    finally:
        pool.close()
