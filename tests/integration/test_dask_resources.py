"""Resources per trial and batch-cluster upkeep, without starting any cluster."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from parabo.exceptions import ConfigError
from parabo.executors import dask_resources
from parabo.executors.dask_resources import dask_resources as to_dask
from parabo.executors.dask_resources import detect_gpus, gpu_env, parse_memory


def test_the_doctests_hold() -> None:
    assert doctest.testmod(dask_resources).failed == 0


def test_n_workers_share_m_gpus_evenly_and_without_collisions_when_n_is_at_most_m() -> None:
    gpus = ["0", "1", "2"]
    assigned = [gpu_env(i, gpus)["CUDA_VISIBLE_DEVICES"] for i in range(6)]
    assert assigned == ["0", "1", "2", "0", "1", "2"]
    assert len(set(assigned[:3])) == 3
    pairs = [
        gpu_env(i, ["0", "1", "2", "3"], per_trial=2)["CUDA_VISIBLE_DEVICES"] for i in range(2)
    ]
    assert pairs == ["0,1", "2,3"]


def test_gpus_are_detected_from_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    assert detect_gpus() == ["2", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert detect_gpus() == []


def test_resources_become_dask_resources() -> None:
    assert to_dask({"cpus": 4, "gpus": 1, "memory": "8GB"}) == {
        "cpus": 4.0,
        "gpus": 1.0,
        "memory": 8e9,
    }
    assert to_dask({"gpus": 0, "cpus": None}) == {}
    with pytest.raises(ConfigError, match="resources.memory"):
        parse_memory("lots")


def test_run_section_validates_the_dask_keys_naming_the_field() -> None:
    from parabo.config import parse_study

    base: dict[str, Any] = {
        "space": {"x": {"type": "float", "low": 0, "high": 1}},
        "objective": {"python": "m:f"},
    }
    cases = {
        "run.address": {"backend": "process", "address": "tcp://127.0.0.1:8786"},
        "run.cluster": {"backend": "dask", "address": "tcp://h:1", "cluster": "local"},
        "run.cluster.type": {"backend": "dask", "cluster": {"type": "kubernetes"}},
        "run.cluster.memory": {"backend": "dask", "cluster": {"type": "slurm", "memory": "much"}},
        "run.resources.memory": {"backend": "dask", "resources": {"memory": "much"}},
        "run.idle_timeout": {"backend": "dask", "idle_timeout": "soon"},
    }
    for field, run in cases.items():
        with pytest.raises(ConfigError) as info:
            parse_study({**base, "run": run})
        assert info.value.field == field, (field, info.value)
    run = parse_study(
        {
            **base,
            "run": {
                "backend": "dask",
                "cluster": {"type": "slurm", "cores": 4, "memory": "8GB", "interface": "ib0"},
            },
        }
    ).run
    assert run.cluster is not None
    assert run.cluster.options() == {
        "type": "slurm",
        "cores": 4,
        "memory": "8GB",
        "interface": "ib0",
    }


class _FakeBatchCluster:
    """What Replenisher touches of a dask-jobqueue cluster."""

    job_cls = object

    def __init__(self, jobs: int) -> None:
        self.n = jobs
        self.worker_spec = {f"job-{i}": {} for i in range(jobs)}
        self.workers = dict(self.worker_spec)
        self.scaled: list[int] = []

    def scale(self, jobs: int) -> None:
        self.scaled.append(jobs)
        while len(self.worker_spec) < jobs:
            name = f"job-{self.n}"
            self.n += 1
            self.worker_spec[name] = {}


def test_an_ended_batch_job_is_replaced_but_a_queued_one_is_left_alone() -> None:
    from parabo.executors.dask_cluster import Replenisher

    cluster = _FakeBatchCluster(3)
    keeper = Replenisher(cluster, 3)
    assert keeper.check(["job-0", "job-1"]) == 0  # job-2 still queued: never seen, not replaced
    assert keeper.check(["job-0", "job-1", "job-2"]) == 0
    assert keeper.check(["job-0", "job-2"]) == 1  # job-1 reached its walltime
    assert cluster.scaled == [3]
    assert "job-1" not in cluster.worker_spec and len(cluster.worker_spec) == 3
    assert keeper.replaced == 1
