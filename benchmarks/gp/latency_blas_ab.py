"""Ask latency with the GP's BLAS on one thread (the default) or on the library's default threads.

    benchmarks/.venv/bin/python benchmarks/gp/latency_blas_ab.py one       # -> results/ab_one.json
    benchmarks/.venv/bin/python benchmarks/gp/latency_blas_ab.py default   # -> results/ab_default.json

Run the two alternately, on the same machine state, and compare the medians.
"""

import contextlib
import runpy
import sys
from pathlib import Path

import parabo.samplers.gp as gp

mode = sys.argv[1] if len(sys.argv) > 1 else "one"
if mode == "default":
    gp._one_blas_thread = contextlib.nullcontext  # leave BLAS threading as the libraries set it
sys.argv = ["latency.py", "--skip-optuna", "--asks", "15", "--sizes", "100", "500", "2000", "--out", f"ab_{mode}.json"]
runpy.run_path(str(Path(__file__).with_name("latency.py")), run_name="__main__")
