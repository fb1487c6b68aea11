"""Clusters parabo starts for the dask backend: a ``LocalCluster`` or a dask-jobqueue batch cluster.

``cluster: local`` starts one Dask worker process with one thread per trial
slot: trials run in child processes of the worker (see
:mod:`parabo.executors.dask_worker`), so threads do not contend for the GIL,
and sandboxes in one worker share the machine's GPUs round-robin. Any
``LocalCluster`` argument can be given in ``cluster: {type: local, ...}``.

``cluster: {type: slurm, cores: 8, memory: 32GB, walltime: "02:00:00", ...}``
starts a dask-jobqueue cluster. parabo's own keys are ``type``, ``jobs``
(how many batch jobs; default: enough for ``run.workers`` trials at once),
``job_extra`` (extra scheduler directives, e.g. ``["--gres=gpu:1"]``) and
``gpus`` (GPUs per job, declared as a Dask worker resource); every other key
goes to the dask-jobqueue class unchanged (``queue``, ``account``,
``processes``, ``interface``, ``job_script_prologue``, ...). Each worker
declares ``--resources "cpus=… memory=… gpus=…"`` from the job's size, so
``resources:`` per trial works without more setup.

:class:`Replenisher` keeps a batch cluster at its size: dask-jobqueue does not
replace a job that ended (walltime, preemption), so parabo forgets it and asks
for a new one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

from parabo.exceptions import ConfigError, ExecutorError
from parabo.executors.dask_resources import worker_resources_arg

__all__ = ["JOBQUEUE_CLASSES", "Replenisher", "jobqueue_cluster", "local_cluster", "make_cluster"]

log = logging.getLogger("parabo")

JOBQUEUE_CLASSES = {
    "slurm": "SLURMCluster",
    "pbs": "PBSCluster",
    "sge": "SGECluster",
    "lsf": "LSFCluster",
    "htcondor": "HTCondorCluster",
    "oar": "OARCluster",
    "moab": "MoabCluster",
}


def _need_jobqueue() -> Any:
    try:
        import dask_jobqueue
    except ImportError:
        raise ExecutorError(
            "a batch cluster (run.cluster.type) needs dask-jobqueue: pip install 'parabo[dask]'"
        ) from None
    return dask_jobqueue


def local_cluster(
    workers: int,
    options: Mapping[str, Any] | None = None,
    resources: Mapping[str, float] | None = None,
) -> Any:
    """A ``LocalCluster`` with room for ``workers`` trials at once (one process, one thread per trial)."""
    from distributed import LocalCluster

    kwargs: dict[str, Any] = {
        "n_workers": 1,
        "threads_per_worker": workers,
        "processes": False,  # trials run in child processes anyway; no spawn, no __main__ guard needed
        "dashboard_address": None,
        "silence_logs": logging.ERROR,
    }
    if resources:
        kwargs["resources"] = {name: amount * workers for name, amount in resources.items()}
    kwargs.update(options or {})
    kwargs.pop("type", None)
    try:
        return LocalCluster(**kwargs)  # type: ignore[no-untyped-call]
    except TypeError as exc:
        raise ConfigError(
            f"LocalCluster does not accept these options: {exc}", field="run.cluster"
        ) from None


def jobqueue_cluster(
    spec: Mapping[str, Any], workers: int = 1, resources: Mapping[str, float] | None = None
) -> tuple[Any, int]:
    """A dask-jobqueue cluster from ``run.cluster`` (not scaled yet) and the number of jobs to ask for.

    Raises ConfigError naming ``run.cluster.<key>`` for a bad type or argument.
    """
    options = dict(spec)
    kind = str(options.pop("type", "")).lower()
    if kind not in JOBQUEUE_CLASSES:
        raise ConfigError(
            f"unknown cluster type {kind!r}; use local or one of: {', '.join(JOBQUEUE_CLASSES)}",
            field="run.cluster.type",
        )
    jobqueue = _need_jobqueue()
    cls = getattr(jobqueue, JOBQUEUE_CLASSES[kind])
    jobs = options.pop("jobs", None)
    gpus = options.pop("gpus", None)
    extra = options.pop("job_extra", None)
    if extra is not None:
        options["job_extra_directives"] = [
            str(e) for e in ([extra] if isinstance(extra, str) else extra)
        ]
    options.setdefault("cores", 1)
    # one Dask worker per job, one thread per core: trials run in child processes, so the GIL is
    # no reason to split a job into processes (dask-jobqueue's default), and GPUs stay together
    options.setdefault("processes", 1)
    if "memory" not in options:
        raise ConfigError(
            "a batch cluster needs the memory of one job, e.g. memory: 16GB",
            field="run.cluster.memory",
        )
    cores = int(options["cores"])
    processes = int(options.get("processes") or 1)
    declared = worker_resources_arg(cores, options["memory"], gpus, processes)
    worker_args = list(options.pop("worker_extra_args", []) or [])
    if declared and "--resources" not in worker_args:
        # commas, not spaces: dask-jobqueue writes the arguments into the job script unquoted
        worker_args += ["--resources", declared.replace(" ", ",")]
    options["worker_extra_args"] = worker_args
    try:
        cluster = cls(**options)
    except TypeError as exc:
        raise ConfigError(
            f"{cls.__name__} does not accept these options: {exc}", field="run.cluster"
        ) from None
    except ValueError as exc:
        raise ConfigError(str(exc), field="run.cluster") from None
    if jobs is None:
        per_trial = max(1.0, float((resources or {}).get("cpus", 1)))
        trials_per_job = max(1, int(cores // per_trial))
        jobs = math.ceil(workers / trials_per_job)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        cluster.close()
        raise ConfigError(f"must be a positive integer, got {jobs!r}", field="run.cluster.jobs")
    return cluster, jobs


def make_cluster(
    spec: str | Mapping[str, Any], workers: int, resources: Mapping[str, float] | None = None
) -> tuple[Any, int | None]:
    """The cluster of ``run.cluster`` (``"local"`` or a mapping), scaled; and the jobs to keep (None: local)."""
    if isinstance(spec, str):
        if spec.lower() == "local":
            return local_cluster(workers, None, resources), None
        spec = {"type": spec}
    if str(spec.get("type", "")).lower() == "local":
        return local_cluster(workers, spec, resources), None
    cluster, jobs = jobqueue_cluster(spec, workers, resources)
    cluster.scale(jobs=jobs)
    log.info("asked %s for %d job(s)", type(cluster).__name__, jobs)
    return cluster, jobs


class Replenisher:
    """Asks a batch cluster for a new job when one of its jobs ended, so it keeps ``jobs`` jobs.

    Only jobs whose workers were seen connected and are now gone are replaced:
    a job still waiting in the batch queue is left alone.
    """

    def __init__(self, cluster: Any, jobs: int) -> None:
        self.cluster = cluster
        self.jobs = jobs
        self.seen: set[str] = set()
        self.replaced = 0

    @staticmethod
    def _alive(spec_name: str, names: set[str]) -> bool:
        return spec_name in names or any(n.startswith(f"{spec_name}-") for n in names)

    def check(self, worker_names: Iterable[Any]) -> int:
        """Look at the connected workers' names; returns how many jobs were asked to be replaced."""
        names = {str(n) for n in worker_names}
        specs = getattr(self.cluster, "worker_spec", None)
        if specs is None:
            return 0
        gone = []
        for spec_name in list(specs):
            key = str(spec_name)
            if self._alive(key, names):
                self.seen.add(key)
            elif key in self.seen:
                gone.append(spec_name)
        if not gone:
            return 0
        for spec_name in gone:
            specs.pop(spec_name, None)
            getattr(self.cluster, "workers", {}).pop(spec_name, None)
            self.seen.discard(str(spec_name))
        log.warning(
            "%d Dask job(s) ended; asking %s for replacements",
            len(gone),
            type(self.cluster).__name__,
        )
        if hasattr(self.cluster, "job_cls"):
            self.cluster.scale(jobs=self.jobs)
        else:
            self.cluster.scale(self.jobs)
        self.replaced += len(gone)
        return len(gone)
