"""Fault injection: what the study records for each fault, and how fast it notices.

    python benchmarks/faults/run_faults.py   # writes benchmarks/faults/results.json and results.md

Each fault runs once among healthy trials (process backend, 3 workers, per-trial time limit 2 s,
0.5 s between SIGTERM and SIGKILL). "Detected after" is the time from the fault (stamped by the
objective just before it fails) to the trial's recorded end; for time limits, the time past the limit.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from parabo import Study  # noqa: E402
from parabo.executors.process import ProcessExecutor  # noqa: E402
from parabo.objectives import PythonObjective  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402

FAULTS = ["sleeps forever", "ignores SIGTERM", "forks a sleeping grandchild", "SIGKILLs itself",
          "segfaults (ctypes)", "os._exit(3)", "allocates past a ulimit", "raises", "returns NaN",
          "returns inf", "returns a string", "returns nothing", "returns 50 MB"]
LIMIT = 2.0


def main() -> None:
    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FAULT_LOG"] = tmp
        modes = []
        for f in FAULTS:
            modes += ["healthy", f]
        modes.append("healthy")
        study = Study({"mode": ["healthy", *FAULTS]}, storage=Path(tmp) / "study", seed=0)
        for m in modes:
            study.enqueue({"mode": m})
        ex = ProcessExecutor(PythonObjective("faulty:faulty", paths=(str(HERE),)), 3, kill_grace=0.5)
        t0 = time.time()
        Scheduler(study, ex, trials=len(modes), trial_timeout=LIMIT, handle_signals=False).run()
        ex.close()
        wall = time.time() - t0
        rows = []
        for t in study.trials:
            mode = t.params["mode"]
            if mode == "healthy":
                continue
            stamp_file = Path(tmp) / mode
            stamp = float(stamp_file.read_text()) if stamp_file.exists() else None
            if t.reason == "timeout":
                detected = t.duration - LIMIT
            else:
                detected = (t.finished_at - stamp) if stamp is not None else None
            rows.append({"fault": mode, "state": t.state.value, "reason": t.reason,
                         "error": (t.error or "").splitlines()[0][:90], "detected_after_s": detected})
        healthy = [t for t in study.trials if t.params["mode"] == "healthy"]
        study.close()
        left = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "100000"]]
    summary = {"trials": len(modes), "healthy_complete": sum(t.state.value == "complete" for t in healthy),
               "healthy": len(healthy), "wall_clock_s": wall, "processes_left": len(left), "faults": rows}
    (HERE / "results.json").write_text(json.dumps(summary, indent=2))
    lines = ["| fault | recorded | reason | detected after | error (first line) |", "|---|---|---|---|---|"]
    for r in rows:
        d = r["detected_after_s"]
        when = "-" if d is None else (f"{d * 1000:.0f} ms" + (" past the limit" if r["reason"] == "timeout" else ""))
        lines.append(f"| {r['fault']} | {r['state']} | {r['reason']} | {when} | {r['error'].replace('|', '/')} |")
    lines.append("")
    lines.append(f"Healthy trials: {summary['healthy_complete']}/{summary['healthy']} complete; "
                 f"processes left over: {summary['processes_left']}; wall-clock {wall:.1f} s.")
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
