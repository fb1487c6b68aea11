"""Does the current code suggest what a stored run did? Reruns parabo and compares every value.

    benchmarks/.venv/bin/python benchmarks/gp/check_same_sequence.py TAG PROBLEM PENDING SEED

compares against ``results/raw/TAG__PROBLEM__qPENDING__sSEED.json`` (default options). Used to
check that a change leaves sequential runs untouched (docs/benchmarks.md, round 6).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from problems import PROBLEMS  # noqa: E402
from run import run_parabo  # noqa: E402

tag, prob, q, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
stored = json.loads((Path(__file__).parent / "results" / "raw" / f"{tag}__{prob}__q{q}__s{seed}.json").read_text())
values = run_parabo(PROBLEMS[prob], seed, len(stored["values"]), q, {})["values"]
print(f"{tag} {prob} q={q} seed={seed}: {'same' if values == stored['values'] else 'DIFFERENT'} "
      f"({len(values)} values)")
