"""Fork safety: whether this process may launch numba's parallel regions.

numba's ``omp`` threading layer (GNU OpenMP, numba's default on Linux when no TBB is installed) cannot be used in a
child forked from a process that already used it: the child is terminated ("fork() called from a process already
using GNU OpenMP"). ``os.fork()`` is what :mod:`multiprocessing`'s default start method does on Linux, and what
many pipelines do. The engine's compiled kernels therefore each have a serial twin, used in such forked children
(which then run single-threaded: the processes themselves are the parallelism); everywhere else, and under the
fork-safe ``tbb`` and ``workqueue`` layers, the parallel kernels run. For the same reason torch runs on one
thread in forked children (its GNU OpenMP pool would hang there).

Thread counts follow scanpy's ``sc.settings.n_jobs`` (:func:`jobs`): the compiled kernels and torch use that many
threads (``-1``: every core numba may use), as scanpy's own parallel code does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

import numba

_forked = False


def _after_fork_in_child() -> None:
    global _forked
    _forked = True
    # torch's CPU thread pool (GNU OpenMP too) hangs in a forked child once the parent used it: run torch on one
    # thread there, as torch's own DataLoader workers do.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def parallel_allowed() -> bool:
    """False in a forked child whose parent had started numba's GNU OpenMP thread pool; True otherwise."""
    if not _forked:
        return True
    try:
        return numba.threading_layer() != "omp"
    except ValueError:  # no parallel region ran before the fork: the child may start its own thread pool
        return True


def n_jobs() -> int:
    """Threads to use: ``sc.settings.n_jobs`` (``-1`` or ``None``: all of numba's threads), at most numba's."""
    from scanpy import settings

    available = int(numba.config.NUMBA_NUM_THREADS)
    wanted = getattr(settings, "n_jobs", None)
    if wanted is None or int(wanted) < 1:
        return available
    return min(int(wanted), available)


@contextmanager
def jobs() -> Iterator[int]:
    """Run numba's parallel regions and torch on :func:`n_jobs` threads for the duration; restore them after."""
    n = n_jobs()
    previous = numba.get_num_threads()
    torch = sys.modules.get("torch")
    torch_previous = torch.get_num_threads() if torch is not None and not _forked else None
    numba.set_num_threads(n)
    if torch_previous is not None and torch_previous != n:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(previous)
        if torch_previous is not None and torch.get_num_threads() != torch_previous:
            torch.set_num_threads(torch_previous)


def with_jobs(func: Callable) -> Callable:
    """Run ``func`` inside :func:`jobs`."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        with jobs():
            return func(*args, **kwargs)

    return wrapper
