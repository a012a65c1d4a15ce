"""Build a benchmark's store in a process of its own.

On Linux a child's peak RSS (ru_maxrss, from wait4 or RUSAGE_CHILDREN) starts at its parent's
high-water mark: fork copies it and exec keeps it. A benchmark that built a large store in its
own process would report that size as the peak of every command it measures afterwards. The
build therefore runs in a spawned process, and the benchmark's own process stays small.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def in_own_process(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) in a fresh interpreter (spawned, not forked), its result returned here."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()
