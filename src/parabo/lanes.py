"""One pool of workers shared by several studies: a :class:`Lane` per study over one executor.

A campaign (:mod:`parabo.campaign`) runs one :class:`~parabo.scheduler.Scheduler` per study,
each on its own :class:`Lane`; the lanes share a single executor (one set of worker
processes, one Dask cluster, one simulated clock). Each lane keeps the study's own trial ids;
the pool gives every submitted trial a pool-wide id and routes outcomes and process groups
back to the lane that owns them. A lane may only start trials while the campaign has granted
it a slot (``Lane.grant``), which is how the campaign's policy decides which study gets a free
worker. The executor runs a :class:`CampaignObjective`, which evaluates each trial with the
objective of the study it belongs to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from parabo.exceptions import ExecutorError
from parabo.executors.base import Executor, Outcome, Task
from parabo.objectives import Objective, TrialContext

__all__ = ["CELL_KEY", "CampaignObjective", "Lane", "SharedPool", "SharedSetup", "shared_setup"]

#: the reserved key that carries a trial's study (its index in the campaign) to the worker
CELL_KEY = "__parabo_study__"


@dataclass(frozen=True)
class CampaignObjective(Objective):
    """Evaluates each trial with the objective of its study (``objectives[params[CELL_KEY]]``).

    Each study's objective is loaded in a worker the first time that worker runs one of its
    trials (so a ``setup`` hook runs once per worker and study), and the reserved key is
    removed before the study's objective sees the parameters.
    """

    objectives: tuple[Objective, ...] = field(default=())

    @property
    def external(self) -> bool:  # type: ignore[override]
        return any(o.external for o in self.objectives)

    def load(self) -> Callable[[TrialContext], Any]:
        loaded: dict[int, Callable[[TrialContext], Any]] = {}
        objectives = self.objectives

        def run(ctx: TrialContext) -> Any:
            params = dict(ctx.params)
            cell = int(params.pop(CELL_KEY))
            fn = loaded.get(cell)
            if fn is None:
                fn = loaded[cell] = objectives[cell].load()
            return fn(replace(ctx, params=params))

        return run

    def identity(self) -> str:
        return "campaign[" + ", ".join(o.identity() for o in self.objectives) + "]"

    def check(self) -> None:
        for o in self.objectives:
            o.check()

    def fingerprint(self) -> str:
        return "campaign[" + ", ".join(o.fingerprint() for o in self.objectives) + "]"


class SharedPool:
    """Several lanes over one executor; pool-wide trial ids, outcomes routed to their lane."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.lanes: list[Lane] = []
        self._owner: dict[int, tuple[Lane, int]] = {}  # pool id -> (lane, the study's id)
        self._next = 0
        executor.on_process = self._on_process

    @property
    def workers(self) -> int:
        return self.executor.workers

    @property
    def free(self) -> int:
        """Workers with no trial."""
        return self.executor.workers - len(self._owner)

    def lane(self, index: int, on_process: Callable[[int, int], None] | None = None) -> Lane:
        lane = Lane(self, index, on_process)
        self.lanes.append(lane)
        return lane

    def now(self) -> float:
        return self.executor.now()

    def submit(self, lane: Lane, task: Task) -> None:
        pid = self._next
        self._next += 1
        self._owner[pid] = (lane, task.trial_id)
        lane.inflight[task.trial_id] = pid
        params = {**dict(task.params), CELL_KEY: lane.index}
        self.executor.submit(dataclasses.replace(task, trial_id=pid, params=params))

    def collect(self, timeout: float | None) -> dict[Lane, list[Outcome]]:
        """Wait up to ``timeout`` for outcomes; return them by lane, in each study's ids."""
        routed: dict[Lane, list[Outcome]] = {}
        for o in self.executor.collect(timeout=timeout):
            owner = self._owner.pop(o.trial_id, None)
            if owner is None:
                continue  # a late outcome of a trial already cancelled and accounted for
            lane, tid = owner
            lane.inflight.pop(tid, None)
            routed.setdefault(lane, []).append(_renumber(o, tid))
        return routed

    def cancel(self, lane: Lane, trial_id: int) -> None:
        pid = lane.inflight.get(trial_id)
        if pid is not None:
            self.executor.cancel(pid)

    def _on_process(self, pid: int, pgid: int) -> None:
        owner = self._owner.get(pid)
        if owner is not None and owner[0].on_process is not None:
            owner[0].on_process(owner[1], pgid)

    def close(self, cancel: bool = True) -> None:
        self.executor.close(cancel=cancel)


def _renumber(o: Outcome, trial_id: int) -> Outcome:
    return Outcome(trial_id, o.result, o.error, o.reason, o.started_at, o.finished_at, o.worker)


class Lane(Executor):
    """One study's view of a :class:`SharedPool`: an executor its scheduler runs on unchanged.

    ``workers`` is the lane's trials in flight plus the slots the campaign granted it, so the
    scheduler starts trials only when granted. The campaign's loop collects for all lanes
    (:meth:`SharedPool.collect`) and hands each scheduler its outcomes; a lane's own
    :meth:`collect` therefore only returns what was routed to it.
    """

    def __init__(
        self, pool: SharedPool, index: int, on_process: Callable[[int, int], None] | None
    ) -> None:
        self.pool = pool
        self.index = index
        self.on_process = on_process
        self.inflight: dict[int, int] = {}  # the study's trial id -> pool id
        self.grant = 0
        self._closed = False

    @property
    def workers(self) -> int:  # type: ignore[override]
        return len(self.inflight) + self.grant

    def now(self) -> float:
        return self.pool.now()

    def submit(self, task: Task) -> None:
        if self._closed:
            raise ExecutorError("the executor is closed")
        if self.grant <= 0:
            raise ExecutorError("a lane started a trial without a free worker granted to it")
        self.grant -= 1
        self.pool.submit(self, task)

    def collect(self, timeout: float | None = None) -> list[Outcome]:
        return []  # the campaign collects for every lane at once

    def cancel(self, trial_id: int) -> None:
        self.pool.cancel(self, trial_id)

    def close(self, cancel: bool = True) -> None:
        self._closed = True
        if cancel:
            for tid in list(self.inflight):
                self.cancel(tid)

    @property
    def running(self) -> int:
        return len(self.inflight)


@dataclass(frozen=True)
class SharedSetup:
    """A study's ``setup`` hook computed once for the whole campaign, its result kept on disk.

    ``setup`` is called with ``kwargs`` (the matrix values it takes as parameters, e.g.
    ``def reference(problem): ...``); the result is pickled in ``folder`` under a key made of
    the hook's import path, its source code and those values, so every study and every worker
    that needs the same reference shares one computation, and a rerun of the campaign none. A
    file lock makes the workers that start together wait for the first one's result.
    """

    setup: Callable[..., Any] | str
    kwargs: tuple[tuple[str, Any], ...] = ()
    folder: str = ""
    paths: tuple[str, ...] = ()

    def _function(self) -> Callable[..., Any]:
        import sys

        from parabo.objectives import import_object

        for p in reversed(self.paths):
            if p not in sys.path:
                sys.path.insert(0, p)
        if isinstance(self.setup, str):
            fn: Callable[..., Any] = import_object(self.setup, "objective.setup")
            return fn
        return self.setup

    def key(self) -> str:
        import hashlib
        import inspect
        import json

        fn = self._function()
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError):
            source = ""
        name = self.setup if isinstance(self.setup, str) else getattr(fn, "__qualname__", "?")
        text = json.dumps([name, source, list(self.kwargs)], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def __call__(self) -> Any:
        import fcntl
        import os
        import pickle
        from pathlib import Path

        import cloudpickle

        folder = Path(self.folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.key()}.pkl"
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker computes, the others wait
            if path.exists():
                with open(path, "rb") as f:
                    return pickle.load(f)
            result = self._function()(**dict(self.kwargs))
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                cloudpickle.dump(result, f)
            os.replace(tmp, path)
            return result


def shared_setup(objective: Objective, values: Mapping[str, Any], folder: str) -> Objective:
    """``objective`` with its ``setup`` hook (if any) shared through :class:`SharedSetup`."""
    import inspect

    from parabo.objectives import PythonObjective

    if not isinstance(objective, PythonObjective) or objective.setup is None:
        return objective
    hook = SharedSetup(objective.setup, (), folder, objective.paths)
    try:
        accepted = inspect.signature(hook._function()).parameters
    except (TypeError, ValueError):
        accepted = {}  # type: ignore[assignment]
    kwargs = tuple((k, v) for k, v in values.items() if k in accepted)
    return PythonObjective(
        objective.function,
        SharedSetup(objective.setup, kwargs, folder, objective.paths),
        objective.paths,
    )
