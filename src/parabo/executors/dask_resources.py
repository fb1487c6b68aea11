"""Resources per trial: Dask worker resources, and GPUs shared round-robin on one machine.

A study's ``resources: {cpus: 4, gpus: 1, memory: 8GB}`` means what one trial
needs. On a Dask cluster it becomes the task's resource restriction (workers
declare what they have with ``--resources "cpus=8 gpus=2 memory=32e9"``, which
parabo adds itself to the clusters it starts). On the local process pool, the
GPUs listed by the user (or detected) are given to worker processes
round-robin through ``CUDA_VISIBLE_DEVICES``, so N workers share M GPUs evenly
and two workers only share a GPU when there are more workers than GPUs.

This module imports nothing from Dask.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from parabo.exceptions import ConfigError

__all__ = ["dask_resources", "detect_gpus", "gpu_env", "parse_memory", "worker_resources_arg"]

_MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_memory(value: Any, field: str = "resources.memory") -> int:
    """Bytes from a number or a string like ``"8GB"``, ``"512 MiB"``, ``"2e9"``.

    >>> parse_memory("8GB"), parse_memory("1 GiB"), parse_memory(1000)
    (8000000000, 1073741824, 1000)
    """
    if isinstance(value, bool):
        raise ConfigError(f"expected bytes or a size like '8GB', got {value!r}", field=field)
    if isinstance(value, (int, float)):
        size = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]*)\s*", value)
        if not m or m.group(2).lower() not in _MEMORY_UNITS:
            raise ConfigError(
                f"cannot read {value!r} as a size; use e.g. '8GB' or '512MiB'", field=field
            )
        size = float(m.group(1)) * _MEMORY_UNITS[m.group(2).lower()]
    else:
        raise ConfigError(f"expected bytes or a size like '8GB', got {value!r}", field=field)
    if size <= 0:
        raise ConfigError(f"must be a positive size, got {value!r}", field=field)
    return int(size)


def dask_resources(resources: Mapping[str, Any] | None) -> dict[str, float]:
    """The Dask resource restriction of one trial: ``{"cpus": 4, "gpus": 1, "memory": 8e9}``.

    Zero or missing entries are left out (a restriction on a resource no
    worker declares would keep the trial waiting forever).
    """
    out: dict[str, float] = {}
    for name, value in (resources or {}).items():
        if value is None:
            continue
        amount = float(parse_memory(value)) if name == "memory" else float(value)
        if amount > 0:
            out[name] = amount
    return out


def worker_resources_arg(
    cores: int | None, memory: Any, gpus: int | None, processes: int = 1
) -> str:
    """What one Dask worker of a job declares, as the value of ``dask worker --resources``.

    A job's cores, memory and GPUs are split evenly between its worker processes.

    >>> worker_resources_arg(8, "32GB", 2)
    'cpus=8 memory=32000000000 gpus=2'
    """
    parts = []
    processes = max(1, processes)
    if cores:
        parts.append(f"cpus={max(1, cores // processes)}")
    if memory:
        parts.append(f"memory={parse_memory(memory, 'run.cluster.memory') // processes}")
    if gpus:
        parts.append(f"gpus={max(1, gpus // processes)}")
    return " ".join(parts)


def detect_gpus() -> list[str]:
    """The GPUs this machine offers: ``CUDA_VISIBLE_DEVICES`` if set, else ``nvidia-smi``'s list, else none."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [g.strip() for g in visible.split(",") if g.strip()]
        return [] if ids in (["-1"], ["NoDevFiles"]) else ids
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def gpu_env(worker_index: int, gpus: Sequence[str | int], per_trial: int = 1) -> dict[str, str]:
    """``CUDA_VISIBLE_DEVICES`` for worker number ``worker_index`` (0-based), round-robin over ``gpus``.

    Worker ``i`` gets ``per_trial`` consecutive GPUs starting at ``i * per_trial``
    (modulo the number of GPUs), so 4 workers on 2 GPUs get 0, 1, 0, 1. With no
    GPUs, the empty mapping (the environment is left alone).

    >>> [gpu_env(i, ["0", "1"])["CUDA_VISIBLE_DEVICES"] for i in range(4)]
    ['0', '1', '0', '1']
    >>> gpu_env(1, [0, 1, 2, 3], per_trial=2)
    {'CUDA_VISIBLE_DEVICES': '2,3'}
    >>> gpu_env(0, [])
    {}
    """
    if not gpus:
        return {}
    if worker_index < 0:
        raise ValueError(f"worker_index must be >= 0, got {worker_index}")
    per_trial = max(1, min(int(per_trial), len(gpus)))
    start = worker_index * per_trial
    chosen = [str(gpus[(start + j) % len(gpus)]) for j in range(per_trial)]
    return {"CUDA_VISIBLE_DEVICES": ",".join(chosen)}
