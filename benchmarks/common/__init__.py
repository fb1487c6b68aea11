"""Code shared by the benchmark questions: problems, peers, options, statistics, tables.

Entry scripts put ``benchmarks/`` on ``sys.path`` and import ``common.<module>``;
nothing here is part of the ``parabo`` package.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent


def one_blas_thread() -> None:
    """One BLAS/OpenMP thread per benchmark process unless the caller set one (call before numpy).

    On a shared 2-core machine multi-threaded BLAS spin-waits made every GP ask several times
    slower, and in the simulated benchmarks that real time is charged to the simulated clock.
    It applies to every library alike. Set ``OMP_NUM_THREADS`` yourself to override it.
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def python() -> str:
    """The interpreter that runs the benchmark (for subprocesses): never a hard-coded path."""
    return sys.executable
