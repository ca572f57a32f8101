"""Thread counts follow scanpy's sc.settings.n_jobs."""

from __future__ import annotations

import numba
import scanpy as sc

from cnnc._engine._threads import jobs, n_jobs


def test_n_jobs_follows_scanpy_settings():
    previous = sc.settings.n_jobs
    outside = numba.get_num_threads()
    try:
        sc.settings.n_jobs = 1
        with jobs() as n:
            assert n == 1 and numba.get_num_threads() == 1
        assert numba.get_num_threads() == outside  # restored
        sc.settings.n_jobs = -1
        assert n_jobs() == numba.config.NUMBA_NUM_THREADS
        sc.settings.n_jobs = 10_000
        assert n_jobs() == numba.config.NUMBA_NUM_THREADS  # never more than numba's pool
    finally:
        sc.settings.n_jobs = previous
