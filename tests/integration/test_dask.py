"""The dask backend against real Dask schedulers and workers on loopback.

A scheduler (``dask scheduler --host 127.0.0.1 --port 0``) and workers
(``dask worker --no-nanny --nthreads 1``) run as subprocesses of the test; a
worker is SIGKILLed mid-trial to check that only its trial fails and nothing is
counted twice. Every process started here is stopped and checked gone.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from parabo.exceptions import ExecutorError  # noqa: E402
from parabo.executors import make_executor  # noqa: E402
from parabo.executors.base import Task  # noqa: E402
from parabo.objectives import PythonObjective  # noqa: E402
from parabo.optimize import run_scheduler  # noqa: E402
from parabo.run_options import StopRule  # noqa: E402
from parabo.study import Study  # noqa: E402
from parabo.trial import TrialState  # noqa: E402

SPACE = {"x": {"type": "float", "low": -2.0, "high": 2.0}}
DASK = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
WORKER = [sys.executable, "-m", "distributed.cli.dask_worker"]


# ---------------------------------------------------------------- objectives (run in sandboxes)
def square(params: dict) -> float:
    return float(params["x"]) ** 2


def marked_sleep(params: dict) -> float:
    """Sleeps; leaves a file named after its Dask worker's pid so the test can kill that worker."""
    marks = Path(os.environ["PARABO_TEST_MARKS"])
    (marks / f"{os.getppid()}-{os.getpid()}").write_text("")
    time.sleep(float(os.environ.get("PARABO_TEST_SLEEP", "1.0")))
    return float(params["x"]) ** 2


def sleep_forever(params: dict) -> float:
    marks = os.environ.get("PARABO_TEST_MARKS")
    if marks:
        Path(marks, f"forever-{os.getpid()}").write_text("")
    while True:
        time.sleep(1)


# ---------------------------------------------------------------- a loopback cluster
class LoopbackCluster:
    """``dask scheduler`` + ``n`` ``dask worker`` processes on 127.0.0.1."""

    def __init__(self, workers: int, env: dict[str, str]) -> None:
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self.scheduler = self._start(
            DASK + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        )
        self.address = self._read_address(self.scheduler)
        for _ in range(workers):
            self.workers.append(
                self._start(
                    WORKER
                    + [
                        self.address,
                        "--no-nanny",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                        "--death-timeout",
                        "30",
                    ]
                )
            )
        self.wait_for_workers(workers)

    def _start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.env,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    @staticmethod
    def _read_address(proc: subprocess.Popen[bytes]) -> str:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline().decode()
            m = re.search(r"Scheduler at:\s+(tcp://\S+)", line)
            if m:
                # keep draining stderr so the scheduler never blocks on a full pipe
                threading.Thread(target=proc.stderr.read, daemon=True).start()
                return m.group(1)
            if not line and proc.poll() is not None:
                break
        raise RuntimeError("the Dask scheduler did not start")

    def wait_for_workers(self, n: int, timeout: float = 40.0) -> None:
        from distributed import Client

        with Client(self.address, timeout=10, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=timeout)
        for w in self.workers:  # drain worker logs too
            assert w.stderr is not None
            threading.Thread(target=w.stderr.read, daemon=True).start()

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _sandboxes() -> list[int]:
    """Pids of live sandbox processes (trial processes of Dask workers) on this machine started by us."""
    import psutil

    out = []
    for p in psutil.process_iter(["pid", "cmdline", "status", "environ"]):
        cmd = p.info["cmdline"] or []
        if "parabo.executors.dask_sandbox" in cmd and p.info["status"] != psutil.STATUS_ZOMBIE:
            env = p.info.get("environ") or {}
            if env.get("PARABO_TEST_OWNER") == str(os.getpid()):
                out.append(p.info["pid"])
    return out


def _wait_gone(pids_fn, timeout: float = 10.0) -> list[int]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = pids_fn()
        if not left:
            return []
        time.sleep(0.2)
    return pids_fn()


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    d = tmp_path / "marks"
    d.mkdir()
    return d


def _env(marks: Path, sleep: float = 1.0) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PARABO_TEST_MARKS=str(marks),
        PARABO_TEST_SLEEP=str(sleep),
        PARABO_TEST_OWNER=str(os.getpid()),
    )
    here = str(Path(__file__).parent)
    env["PYTHONPATH"] = os.pathsep.join([here, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@pytest.fixture(scope="module")
def shared_marks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared-marks")


@pytest.fixture(scope="module")
def cluster(shared_marks: Path) -> Iterator[LoopbackCluster]:
    c = LoopbackCluster(2, _env(shared_marks, 0.3))
    try:
        yield c
    finally:
        c.close()
        assert all(p.poll() is not None for p in c.procs)
        assert _wait_gone(_sandboxes) == []


# ---------------------------------------------------------------- tests
def test_a_study_against_a_cli_started_scheduler_completes_with_the_right_counts(
    cluster: LoopbackCluster, tmp_path: Path
) -> None:
    study = Study(SPACE, "minimize", "random", 0, storage=tmp_path / "study")
    try:
        summary = run_scheduler(
            study,
            PythonObjective(square),
            stop=StopRule(10),
            workers=2,
            backend="dask",
            backend_options={"address": cluster.address},
        )
        assert summary.stop_reason == "trials"
        assert (summary.n_complete, summary.n_failed) == (10, 0)
        ids = [t.id for t in study.trials]
        assert len(ids) == len(set(ids)) == 10
        assert {t.worker.split("#")[0] for t in study.trials if t.worker} <= set(
            cluster_workers(cluster.address)
        )
        for t in study.trials:
            assert t.value == pytest.approx(float(t.params["x"]) ** 2)
    finally:
        study.close()
    # the sandboxes of the study are stopped when it closes; the workers stay
    assert _wait_gone(_sandboxes) == []
    assert len(cluster_workers(cluster.address)) == 2


def cluster_workers(address: str) -> list[str]:
    from distributed import Client

    with Client(address, timeout=10, set_as_default=False) as client:
        return list(client.scheduler_info(n_workers=-1)["workers"])


def test_the_objective_is_loaded_once_per_worker_process(cluster: LoopbackCluster) -> None:
    with make_executor("dask", PythonObjective(_pid), 1, address=cluster.address) as ex:
        for i in range(6):
            ex.submit(Task(i, {"x": 0.0}))
        outcomes = _collect_all(ex, 6, 60)
    pids = {o.result for o in outcomes}
    assert all(o.error is None for o in outcomes)
    # one trial in flight at a time, two Dask workers: at most one trial process per worker
    assert 1 <= len(pids) <= 2


def _pid(params: dict) -> int:
    return os.getpid()


def _collect_all(ex, n: int, limit: float):  # type: ignore[no-untyped-def]
    out = []
    deadline = time.monotonic() + limit
    while len(out) < n and time.monotonic() < deadline:
        out += ex.collect(timeout=0.5)
    assert len(out) == n, f"only {len(out)} of {n} outcomes in {limit} s"
    return out


def test_a_time_limit_stops_a_trial_that_sleeps_forever_and_the_worker_stays_usable(
    cluster: LoopbackCluster, shared_marks: Path
) -> None:
    with make_executor("dask", PythonObjective(sleep_forever), 2, address=cluster.address) as ex:
        t0 = time.monotonic()
        ex.submit(Task(1, {"x": 1.0}, timeout=1.0))
        ex.submit(Task(2, {"x": 1.0}, timeout=1.0))
        outcomes = _collect_all(ex, 2, 30)
        assert {o.reason for o in outcomes} == {"timeout"}
        assert all("time limit" in (o.error or "") for o in outcomes)
        assert time.monotonic() - t0 < 25
    forever = [p for p in shared_marks.iterdir() if p.name.startswith("forever-")]
    assert forever, "the trials never started"
    for mark in forever:  # the trial processes are dead
        pid = int(mark.name.split("-")[1])
        assert _wait_gone(lambda pid=pid: _alive(pid)) == []
    # both workers still run trials
    with make_executor("dask", PythonObjective(square), 2, address=cluster.address) as ex:
        for i in range(4):
            ex.submit(Task(10 + i, {"x": 2.0}))
        outcomes = _collect_all(ex, 4, 30)
    assert [o.result for o in outcomes] == [4.0] * 4
    assert len(cluster_workers(cluster.address)) == 2


def _alive(pid: int) -> list[int]:
    import psutil

    try:
        return [] if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE else [pid]
    except psutil.NoSuchProcess:
        return []


def test_cancel_kills_the_running_trial(cluster: LoopbackCluster, shared_marks: Path) -> None:
    for p in shared_marks.iterdir():
        p.unlink()
    with make_executor("dask", PythonObjective(sleep_forever), 1, address=cluster.address) as ex:
        ex.submit(Task(1, {"x": 1.0}))
        deadline = time.monotonic() + 30
        while not list(shared_marks.iterdir()) and time.monotonic() < deadline:
            ex.collect(timeout=0.2)
        mark = next(shared_marks.iterdir())
        ex.cancel(1)
        [outcome] = ex.collect(timeout=1)
        assert outcome.reason == "cancelled"
        pid = int(mark.name.split("-")[1])
        assert _wait_gone(lambda: _alive(pid), 10) == []


def test_a_worker_killed_mid_trial_reruns_its_trial_and_no_worker_left_stops_the_study(
    marks: Path, tmp_path: Path
) -> None:
    cl = LoopbackCluster(2, _env(marks, 1.5))
    try:
        killed: list[int] = []

        def killer() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                found = sorted(marks.iterdir())
                if found:
                    worker_pid = int(found[0].name.split("-")[0])
                    os.kill(worker_pid, signal.SIGKILL)
                    killed.append(worker_pid)
                    return
                time.sleep(0.05)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        study = Study(SPACE, "minimize", "random", 1, storage=tmp_path / "study")
        try:
            summary = run_scheduler(
                study,
                PythonObjective(marked_sleep),
                stop=StopRule(6),
                workers=2,
                backend="dask",
                backend_options={"address": cl.address},
            )
            thread.join(5)
            assert killed, "no trial started"
            assert summary.stop_reason == "trials"
            # the trial lost with its worker ran again elsewhere: not a failure
            assert not [t for t in study.trials if t.state is TrialState.FAILED]
            assert (summary.n_complete, summary.n_failed) == (6, 0)
            ids = [t.id for t in study.trials]
            assert len(ids) == len(set(ids)) == 6
            # the killed worker's trial process did not outlive it
            orphan = [
                int(m.name.split("-")[1])
                for m in marks.iterdir()
                if int(m.name.split("-")[0]) in killed
            ]
            for pid in orphan:
                assert _wait_gone(lambda pid=pid: _alive(pid), 10) == []
        finally:
            study.close()

        # the last worker goes too: the next study stops with a clear message
        for w in cl.workers:
            if w.poll() is None:
                w.kill()
        study = Study(SPACE, "minimize", "random", 2, storage=tmp_path / "study2")
        try:
            with pytest.raises(ExecutorError, match="no Dask worker has been connected"):
                run_scheduler(
                    study,
                    PythonObjective(square),
                    stop=StopRule(2),
                    workers=1,
                    backend="dask",
                    backend_options={"address": cl.address, "idle_timeout": 2.0},
                )
            assert not [t for t in study.trials if t.state is TrialState.COMPLETE]
            assert all(t.reason == "interrupted" for t in study.trials)
        finally:
            study.close()
    finally:
        cl.close()
    assert _wait_gone(_sandboxes) == []


def test_a_study_file_with_a_local_cluster_runs(tmp_path: Path) -> None:
    from parabo.config import parse_study
    from parabo.optimize import run_study

    cfg = parse_study(
        {
            "name": "dask-local",
            "space": SPACE,
            "objective": {"python": "helpers_objectives:quadratic"},
            "seed": 3,
            "storage": str(tmp_path / "study"),
            "run": {
                "trials": 6,
                "workers": 2,
                "backend": "dask",
                "cluster": "local",
                "timeout": "30s",
            },
        }
    )
    study, summary = run_study(cfg, tmp_path)
    assert (summary.n_complete, summary.n_failed) == (6, 0)
    assert summary.best is not None
    assert summary.best.value == pytest.approx(min(t.value for t in study.trials))


def test_a_study_that_cannot_reach_its_scheduler_says_so() -> None:
    with pytest.raises(
        ExecutorError, match="cannot connect to the Dask scheduler at tcp://127.0.0.1:9"
    ):
        make_executor(
            "dask", PythonObjective(square), 1, address="tcp://127.0.0.1:9", connect_timeout=2
        )


def test_without_dask_installed_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ExecutorError, match=r"pip install 'parabo\[dask\]'"):
        make_executor("dask", PythonObjective(square), 1)


# ---------------------------------------------------------------- batch clusters (no batch system needed)
@pytest.mark.parametrize(
    "kind,directives",
    [
        (
            "slurm",
            [
                "#SBATCH -p gpu",
                "#SBATCH -A proj42",
                "#SBATCH --cpus-per-task=8",
                "#SBATCH --mem=30G",
                "#SBATCH -t 02:00:00",
                "#SBATCH --gres=gpu:2",
            ],
        ),
        (
            "pbs",
            [
                "#PBS -q gpu",
                "#PBS -A proj42",
                "#PBS -l select=1:ncpus=8:mem=30GB",
                "#PBS -l walltime=02:00:00",
                "#PBS -l ngpus=2",
            ],
        ),
    ],
)
def test_a_generated_job_script_holds_the_configured_resources(
    kind: str, directives: list[str]
) -> None:
    pytest.importorskip("dask_jobqueue")
    from parabo.executors.dask_cluster import jobqueue_cluster

    extra = ["--gres=gpu:2"] if kind == "slurm" else ["-l ngpus=2"]
    cluster, jobs = jobqueue_cluster(
        {
            "type": kind,
            "cores": 8,
            "memory": "32GB",
            "walltime": "02:00:00",
            "queue": "gpu",
            "account": "proj42",
            "gpus": 2,
            "job_extra": extra,
            "scheduler_options": {"dashboard_address": None, "host": "127.0.0.1"},
        },
        workers=6,
        resources={"cpus": 4},
    )
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in directives:
        assert line in script, f"{line!r} not in:\n{script}"
    assert "--nthreads 8" in script
    # one shell word: the job script does not quote it
    assert "--resources cpus=8,memory=32000000000,gpus=2" in script
    assert jobs == 3  # 6 trials of 4 cpus on 8-core jobs


def test_an_unknown_cluster_type_names_the_field() -> None:
    from parabo.exceptions import ConfigError
    from parabo.executors.dask_cluster import jobqueue_cluster

    with pytest.raises(ConfigError, match="run.cluster.type"):
        jobqueue_cluster({"type": "kubernetes", "memory": "1GB"})


def _slurm_up() -> bool:
    import shutil

    if shutil.which("sinfo") is None:
        return False
    out = subprocess.run(
        ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10, check=False
    )
    return out.returncode == 0 and "idle" in out.stdout


@pytest.mark.skipif(not _slurm_up(), reason="no SLURM cluster with an idle node here")
def test_a_real_slurm_study_completes(tmp_path: Path) -> None:
    pytest.importorskip("dask_jobqueue")
    from parabo.config import parse_study
    from parabo.optimize import run_study

    cfg = parse_study(
        {
            "name": "dask-slurm",
            "space": SPACE,
            "objective": {"python": "helpers_objectives:quadratic"},
            "seed": 4,
            "storage": str(tmp_path / "study"),
            "run": {
                "trials": 6,
                "workers": 2,
                "backend": "dask",
                "idle_timeout": "2m",
                "cluster": {
                    "type": "slurm",
                    "cores": 1,
                    "memory": "1GB",
                    "walltime": "00:10:00",
                    "jobs": 2,
                    "log_directory": str(tmp_path / "logs"),
                },
            },
        }
    )
    study, summary = run_study(cfg, tmp_path)
    assert (summary.n_complete, summary.n_failed) == (6, 0)
