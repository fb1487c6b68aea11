"""Run trials on a Dask cluster: an existing scheduler, a local cluster, or SLURM/PBS/SGE/LSF jobs.

The same semantics as the process backend, on Dask's distributed scheduler
(no cluster protocol of parabo's own):

- asynchronous refill: each trial is one Dask future; a done-callback puts it
  on a queue that :meth:`DaskExecutor.collect` waits on, so a finished trial
  is seen at once and its slot refilled (as-completed, without polling);
- the objective is pickled once and handed to every worker by a worker
  plugin (workers joining later get it too); each worker loads it once in a
  long-lived child process (see :mod:`parabo.executors.dask_worker`);
- per-trial time limits are enforced on the worker by killing that child's
  process group; cancelling a trial cancels its future, which the worker
  sees and acts on the same way;
- a lost worker costs only its own trial: each trial tells the coordinator on
  which worker it started; when that worker leaves the scheduler, the trial's
  future is cancelled, so Dask's silent re-execution (or ``KilledWorker``) never
  counts a trial twice, and the trial is submitted again, up to ``max_lost``
  times, then failed as ``crashed``;
- a cluster parabo started is kept at its size (ended batch jobs are
  replaced); when no worker at all is connected for ``idle_timeout`` seconds,
  :meth:`collect` raises :class:`~parabo.exceptions.ExecutorError` and the
  study stops, its trials in flight recorded as interrupted (run again on resume);
- early stopping: a running trial's reports come up the sandbox's connection
  (the process backend's protocol) to the task on the Dask worker, which logs
  each as an event of the study's topic, the one that already says where a
  trial started. The coordinator is subscribed to it, so reports arrive as
  they are made, pushed, in the order one worker logged them and before the
  trial's result (one stream worker → scheduler → client); :meth:`collect`
  hands them to ``on_report`` unless the task they come from is no longer
  waited for (finished, cancelled, lost and run again: each run of a trial is
  its own task key). A stop decision (:meth:`prune`) goes down as a message
  through the worker: ``Client.run`` of :func:`~parabo.executors.dask_worker.stop_trial`
  on the trial's worker, which writes ``("stop", id)`` into its sandbox's
  connection. It is sent from the client's event loop, so ``prune`` never
  waits on the network; a worker lost before the stop arrived ends its trial
  PRUNED (not run again).

Why these two: both are pushed, nothing polls, and they cost nothing while no
report is made or nothing is stopped; the report events are the subscription
the coordinator holds anyway (the scheduler keeps only a bounded log of them).
A ``distributed.Event`` or ``Variable`` per trial would keep a request waiting
at the scheduler for every running trial (or poll it), and leave state there
to clean up; a stop is one message per pruned trial, sent where the trial runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import cloudpickle

from parabo.exceptions import ExecutorError
from parabo.executors.base import Executor, Outcome, Task, safe_str
from parabo.executors.dask_resources import dask_resources
from parabo.objectives import Objective

__all__ = ["CONNECT_TIMEOUT", "DaskExecutor", "IDLE_TIMEOUT", "MAX_LOST"]

log = logging.getLogger("parabo")

IDLE_TIMEOUT = 600.0  # seconds without any connected worker before the study stops
CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler at run.address
MAX_LOST = 2  # times a trial runs again after its worker was lost under it
_CHECK_EVERY = 1.0  # seconds between looks at the scheduler's list of workers
_BACKSTOP = (
    30.0  # seconds past a trial's time limit (+ grace) before the coordinator gives up on it
)
_STOP_TIMEOUT = 30.0  # seconds a stop decision may take to reach its worker before it is dropped


def _need_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError(
            "the dask backend needs Dask's distributed scheduler: pip install 'parabo[dask]' "
            "(or pip install 'dask[distributed]' dask-jobqueue)"
        ) from None
    return distributed


@contextlib.contextmanager
def _quiet(logger: str, quiet: bool = True) -> Iterator[None]:
    """Silence ``logger`` and its children (which Dask gives levels of their own) while the block runs.

    The levels come back a moment later: the client's event loop logs the
    cancelled reconnection after ``close`` has returned.
    """
    if not quiet:
        yield
        return
    names = [logger] + [n for n in logging.root.manager.loggerDict if n.startswith(logger + ".")]
    saved = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:

        def restore() -> None:
            for n, level in saved.items():
                logging.getLogger(n).setLevel(level)

        timer = threading.Timer(2.0, restore)
        timer.daemon = True
        timer.start()


def _probe(address: str, timeout: float) -> None:
    """Fail at once, naming ``address``, when nothing listens there (Dask would retry for its timeout)."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):
            return  # another transport (ucx, inproc...): left to Dask
        host, port = parse_host_port(location)
    except (ValueError, TypeError):
        raise ExecutorError(
            f"cannot read the Dask scheduler address {address!r} (run.address); "
            "expected e.g. tcp://10.0.0.5:8786"
        ) from None
    try:
        with socket.create_connection((host, int(port)), timeout=min(timeout, 5.0)):
            pass
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ExecutorError(
            f"cannot connect to the Dask scheduler at {address} (run.address): {why}. "
            "Is `dask scheduler` running there, and is the port reachable from this machine?"
        ) from None


class DaskExecutor(Executor):
    """Trials of one objective as Dask tasks, ``workers`` of them in flight.

    Give at most one of ``address`` / ``cluster`` / ``client``; with none, a
    local cluster is started.

    Args:
        objective: what to run.
        workers: how many trials are kept in flight.
        address: an existing scheduler, e.g. ``tcp://10.0.0.5:8786``.
        cluster: ``"local"`` or a batch cluster mapping (see :mod:`parabo.executors.dask_cluster`).
        client: an existing ``distributed.Client`` (left open on close).
        resources: what one trial needs, e.g. ``{"cpus": 4, "gpus": 1, "memory": "8GB"}``;
            Dask worker resources on the cluster.
        idle_timeout: seconds with no worker connected before the study stops.
        kill_grace: seconds between SIGTERM and SIGKILL when a trial is stopped.
        connect_timeout: seconds to wait for the scheduler at ``address`` (a refused
            connection fails at once).
        max_lost: how many times a trial whose Dask worker was lost under it runs again
            (not counted as a failure) before it is failed as ``crashed``.
    """

    reports = True

    def __init__(
        self,
        objective: Objective,
        workers: int = 1,
        *,
        address: str | None = None,
        cluster: str | Mapping[str, Any] | None = None,
        client: Any = None,
        resources: Mapping[str, Any] | None = None,
        idle_timeout: float | None = None,
        kill_grace: float = 2.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        max_lost: int = MAX_LOST,
    ) -> None:
        distributed = _need_distributed()
        if workers < 1:
            raise ExecutorError("the dask backend needs at least one trial in flight (run.workers)")
        if sum(x is not None for x in (address, cluster, client)) > 1:
            raise ExecutorError("give only one of run.address and run.cluster")
        self.workers = workers
        self.kill_grace = kill_grace
        self.idle_timeout = IDLE_TIMEOUT if idle_timeout is None else float(idle_timeout)
        self._resources = dask_resources(resources)
        self._gpus = int(self._resources.get("gpus", 0))
        self._token = uuid.uuid4().hex[:16]
        self._topic = f"parabo-{self._token}"
        self._events: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._futures: dict[int, Any] = {}
        self._tasks: dict[int, Task] = {}
        self._where: dict[int, tuple[str, float]] = {}  # trial -> (worker address, start time)
        self._done: list[Outcome] = []
        self._closed = False
        self._cluster: Any = None
        self._replenisher: Any = None
        self._owns_client = client is None
        self._last_check = 0.0
        self._idle_since: float | None = None
        self._closing_error: str | None = None
        self._address = "the local cluster"
        self.max_lost = max_lost
        self._lost: dict[int, int] = {}  # trial -> times its worker was lost under it
        self._curves: dict[int, tuple[str, float]] = {}  # trial -> (task key, last step passed on)
        self._stopping: set[int] = set()  # trials told to stop (by prune)

        if client is not None:
            self.client = client
        elif address is not None:
            self._address = address
            _probe(address, connect_timeout)
            try:
                self.client = distributed.Client(
                    address, timeout=connect_timeout, set_as_default=False
                )
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(
                    f"cannot connect to the Dask scheduler at {address} (run.address): {exc}. "
                    "Is `dask scheduler` running there, and is the port reachable from this machine?"
                ) from None
        else:
            from parabo.executors.dask_cluster import Replenisher, make_cluster

            self._cluster, jobs = make_cluster(cluster or "local", workers, self._resources)
            if jobs is not None:
                self._replenisher = Replenisher(self._cluster, jobs)
            try:
                self.client = distributed.Client(self._cluster, set_as_default=False)
            except BaseException:
                self._cluster.close()
                raise
        try:
            from parabo.executors.dask_worker import ObjectivePlugin

            payload = cloudpickle.dumps(objective)
            plugin = ObjectivePlugin(self._token, payload, list(sys.path))
            for attempt in range(3):
                try:
                    self.client.register_plugin(plugin, name=self._topic)
                    break
                except OSError:  # a worker that just died can break the broadcast: try again
                    if attempt == 2:
                        raise
                    time.sleep(1.0)
            self.client.subscribe_topic(self._topic, self._on_event)
        except BaseException:
            self._shutdown_client()
            raise

    # ------------------------------------------------------------------ events
    def _on_event(self, event: Any) -> None:
        # runs on the client's event loop thread
        _, msg = event
        self._events.put(("report" if msg.get("kind") == "report" else "started", msg))

    def _on_future_done(self, trial_id: int, future: Any) -> None:
        self._events.put(("finished", trial_id, future))

    def _handle(self, event: tuple[Any, ...]) -> None:
        if event[0] == "report":
            self._pass_report(event[1])
            return
        if event[0] == "started":
            msg = event[1]
            tid, address = int(msg["trial"]), str(msg["worker"])
            if tid not in self._futures or msg.get("attempt") != self._tasks[tid].attempt:
                return
            if "key" in msg and msg["key"] != self._futures[tid].key:
                return  # an earlier run of the trial, lost with its worker and re-run by Dask
            previous = self._where.get(tid)
            if previous is not None and previous[0] != address:
                # Dask re-ran the task elsewhere: its first worker was lost while running it
                self._fail_lost(tid, previous[0])
                return
            self._where[tid] = (address, float(msg["t"]))
            return
        tid = int(event[1])
        future: Any = event[2]
        if tid not in self._futures or self._futures[tid] is not future:
            return  # already failed (worker lost, timeout) or cancelled
        where: tuple[str, float | None] = self._where.get(tid, ("?", None))
        del self._futures[tid], self._tasks[tid]
        self._where.pop(tid, None)
        self._forget(tid)
        status = future.status
        if status == "finished":
            kind, value = future.result()
            if kind == "fatal":
                self._closing_error = f"a Dask worker could not load the objective:\n{value}"
                raise ExecutorError(self._closing_error)
            self._done.append(value)
            return
        now = time.time()
        if status == "error":
            exc = future.exception()
            from distributed import KilledWorker

            if isinstance(exc, KilledWorker):
                self._done.append(
                    Outcome(
                        tid,
                        None,
                        f"the trial's Dask workers kept dying (KilledWorker): {safe_str(exc, 1000)}",
                        "crashed",
                        where[1],
                        now,
                        where[0],
                    )
                )
            else:
                self._done.append(
                    Outcome(
                        tid,
                        None,
                        f"the trial's Dask task failed: {type(exc).__name__}: {safe_str(exc)}",
                        "exception",
                        where[1],
                        now,
                        where[0],
                    )
                )
        else:  # cancelled by the scheduler, e.g. its data was lost
            self._check_connected()
            self._done.append(
                Outcome(
                    tid,
                    None,
                    f"the Dask scheduler dropped the trial's task ({status})",
                    "crashed",
                    where[1],
                    now,
                    where[0],
                )
            )

    def _pass_report(self, msg: Mapping[str, Any]) -> None:
        """A report event: to ``on_report`` if its task is the trial's current run, in step order."""
        tid = int(msg["trial"])
        future = self._futures.get(tid)
        if future is None or msg.get("key") != future.key or self.on_report is None:
            return  # the trial finished, was cancelled, or this is a run lost with its worker
        step = float(msg["step"])
        seen = self._curves.get(tid)
        if seen is not None and seen[0] == future.key and step <= seen[1]:
            return
        self._curves[tid] = (future.key, step)
        value = msg.get("value")
        metrics = {str(k): float(v) for k, v in (msg.get("metrics") or {}).items()}
        self.on_report(tid, step, None if value is None else float(value), metrics)

    def _forget(self, tid: int) -> None:
        """Drop what early stopping kept of a trial that is no longer in flight."""
        self._curves.pop(tid, None)
        self._stopping.discard(tid)

    def _fail_lost(self, tid: int, where: str) -> None:
        """The worker running trial ``tid`` left: run it again elsewhere, or fail it after ``max_lost``.

        A trial early stopping had already stopped ends PRUNED instead: it is not run again.
        """
        future = self._futures.pop(tid)
        task = self._tasks.pop(tid)
        _, started = self._where.pop(tid, (where, None))
        future.cancel()
        stopped = tid in self._stopping
        self._forget(tid)
        if stopped:
            self._lost.pop(tid, None)
            self._done.append(
                Outcome(
                    tid,
                    None,
                    f"stopped early by the rule; its Dask worker ({where}) was lost before "
                    "the trial ended",
                    "pruned",
                    started,
                    time.time(),
                    where,
                )
            )
            return
        lost = self._lost.get(tid, 0) + 1
        self._lost[tid] = lost
        if lost <= self.max_lost and not self._closed:
            log.warning(
                "trial %d was lost with its Dask worker %s; running it again (%d of %d)",
                tid,
                where,
                lost,
                self.max_lost,
            )
            self.submit(task)
            return
        self._lost.pop(tid, None)
        self._done.append(
            Outcome(
                tid,
                None,
                f"the Dask worker running the trial ({where}) was lost: killed, out of memory, "
                f"or its batch job ended ({lost} time(s); the trial itself may bring its "
                "worker down)",
                "crashed",
                started,
                time.time(),
                where,
            )
        )

    def _check_connected(self) -> None:
        """Raise one clear ExecutorError when the connection to the Dask scheduler is gone."""
        status = getattr(self.client, "status", "running")
        if status == "running":
            return
        self._closing_error = (
            f"lost the connection to the Dask scheduler at {self._address} (client {status}); "
            "stopping. Trials in flight are recorded as interrupted and run again on resume: "
            "restart the scheduler (and its workers), then run the study again."
        )
        raise ExecutorError(self._closing_error)

    # ------------------------------------------------------------------ cluster health
    def _check_cluster(self) -> None:
        now = time.monotonic()
        if now - self._last_check < _CHECK_EVERY:
            return
        self._last_check = now
        self._check_connected()
        try:
            info = self.client.scheduler_info(n_workers=-1)
        except Exception as exc:  # the scheduler is unreachable: as good as no worker
            self._check_connected()
            log.warning("cannot reach the Dask scheduler: %s", exc)
            info = {"workers": {}}
        workers = info.get("workers", {})
        for tid, (where, _) in list(self._where.items()):
            if where not in workers and tid in self._futures:
                self._fail_lost(tid, where)
        if workers:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = now
        elif now - self._idle_since >= self.idle_timeout:
            raise ExecutorError(
                f"no Dask worker has been connected for {self.idle_timeout:g} s (run.idle_timeout); "
                "stopping. Trials in flight are recorded as interrupted and run again on resume."
            )
        if self._replenisher is not None:
            self._replenisher.check(w.get("name", addr) for addr, w in workers.items())
        if self._resources and workers and self._futures:
            have = set().union(*(w.get("resources", {}) for w in workers.values()))
            missing = sorted(set(self._resources) - have)
            if missing and not self._where:
                log.warning(
                    "no connected Dask worker declares the resource(s) %s that each trial needs "
                    "(start workers with --resources); trials wait",
                    ", ".join(missing),
                )

    def _backstop(self) -> None:
        """Fail a trial whose worker never came back past its time limit (the worker enforces it first)."""
        now = time.time()
        for tid, (where, started) in list(self._where.items()):
            task = self._tasks.get(tid)
            if (
                task is not None
                and task.timeout is not None
                and now > started + task.timeout + self.kill_grace + _BACKSTOP
            ):
                future = self._futures.pop(tid)
                self._tasks.pop(tid)
                self._where.pop(tid)
                self._forget(tid)
                future.cancel()
                self._done.append(
                    Outcome(
                        tid,
                        None,
                        f"ran over its time limit of {task.timeout:g} s and its "
                        f"Dask worker {where} did not stop it",
                        "timeout",
                        started,
                        now,
                        where,
                    )
                )

    # ------------------------------------------------------------------ protocol
    def submit(self, task: Task) -> None:
        if self._closed:
            raise ExecutorError("the executor is closed")
        from parabo.executors.dask_worker import run_trial

        self._check_connected()
        again = self._lost.get(task.trial_id, 0)
        try:
            future = self.client.submit(
                run_trial,
                self._token,
                task,
                self.kill_grace,
                self._gpus,
                key=f"parabo-trial-{task.trial_id}-{task.attempt}-{again}-{self._token}",
                pure=False,
                retries=0,
                resources=self._resources or None,
            )
        except Exception as exc:  # e.g. ClosedClientError: the scheduler is gone
            self._check_connected()
            raise ExecutorError(
                f"cannot submit a trial to the Dask scheduler at {self._address}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        self._futures[task.trial_id] = future
        self._tasks[task.trial_id] = task
        future.add_done_callback(lambda f, tid=task.trial_id: self._on_future_done(tid, f))

    def collect(self, timeout: float | None = None) -> list[Outcome]:
        end = None if timeout is None else time.monotonic() + timeout
        while not self._done:
            self._check_cluster()
            self._backstop()
            if self._done:
                break
            left = None if end is None else max(0.0, end - time.monotonic())
            wait_for = _CHECK_EVERY if left is None else min(left, _CHECK_EVERY)
            try:
                event = self._events.get(timeout=wait_for)
            except queue.Empty:
                event = None
            while event is not None:
                self._handle(event)
                try:
                    event = self._events.get_nowait()
                except queue.Empty:
                    event = None
            if end is not None and time.monotonic() >= end:
                break
        done, self._done = self._done, []
        return done

    def prune(self, trial_id: int) -> None:
        """Tell running trial ``trial_id`` to stop: a message to its Dask worker, sent in the background."""
        future = self._futures.get(trial_id)
        where = self._where.get(trial_id)
        if future is None or where is None or trial_id in self._stopping:
            return
        self._stopping.add(trial_id)
        try:
            self.client.loop.add_callback(self._send_stop, where[0], future.key, trial_id)
        except Exception as exc:  # the client's loop is closed: the trial ends with the study
            log.debug("could not send the stop of trial %d: %s", trial_id, exc)

    async def _send_stop(self, address: str, key: str, trial_id: int) -> None:
        """Run :func:`stop_trial` on ``address`` (on the client's event loop); failures are logged only.

        A worker that cannot be reached is lost or leaving: :meth:`collect` sees it go
        and ends the trial PRUNED; a trial that already finished there has nothing to stop.
        """
        from parabo.executors.dask_worker import stop_trial

        try:
            answers = await asyncio.wait_for(
                self.client.run(
                    stop_trial,
                    self._token,
                    key,
                    trial_id,
                    workers=[address],
                    on_error="return",
                    asynchronous=True,
                ),
                _STOP_TIMEOUT,
            )
        except Exception as exc:  # the scheduler is gone or slow: nothing waits on this
            log.debug("the stop of trial %d did not reach %s: %s", trial_id, address, exc)
            return
        for answer in (answers or {}).values():
            if isinstance(answer, Exception):
                log.debug("the stop of trial %d did not reach %s: %s", trial_id, address, answer)

    def cancel(self, trial_id: int) -> None:
        future = self._futures.pop(trial_id, None)
        if future is None:
            return
        self._forget(trial_id)
        self._tasks.pop(trial_id)
        where, started = self._where.pop(trial_id, (None, None))
        with contextlib.suppress(Exception):  # a client that lost its scheduler
            future.cancel()  # the worker sees its task cancelled and kills the trial's process group
        self._done.append(
            Outcome(trial_id, None, "cancelled", "cancelled", started, time.time(), where)
        )

    def close(self, cancel: bool = True) -> None:
        """Stop: cancel (or wait for) the trials in flight, stop the sandboxes, close what parabo started."""
        if self._closed:
            return
        if not cancel and self._closing_error is None:
            while self._futures:
                self._done.extend(self.collect(timeout=1.0))
        self._closed = True
        for tid in list(self._futures):
            self.cancel(tid)
        self._shutdown_client()

    def _shutdown_client(self) -> None:
        from parabo.executors.dask_worker import shutdown

        connected = getattr(self.client, "status", "running") == "running"
        try:
            if not connected:
                # the scheduler is gone: nothing to unregister (and every call would wait for it);
                # the sandboxes' watchdogs end with their workers
                return
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self._topic)
            try:
                # removing the plugin stops this study's sandboxes on every worker
                self.client.unregister_worker_plugin(self._topic)
            except Exception as exc:
                log.debug("could not unregister the worker plugin: %s", exc)
                with contextlib.suppress(Exception):
                    self.client.run(shutdown, self._token, self.kill_grace)
        finally:
            if self._owns_client:
                # closing a client that is trying to reconnect cancels that attempt, which Dask
                # logs as an error with a traceback: the user already has parabo's one line
                with contextlib.suppress(Exception), _quiet("distributed", not connected):
                    self.client.close(timeout=None if connected else 2)
            if self._cluster is not None:
                self._cluster.close()

    @property
    def running(self) -> int:
        return len(self._futures) + len(self._done)

    @property
    def connected_workers(self) -> int:
        """How many Dask workers the scheduler knows right now."""
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            with contextlib.suppress(Exception):
                self.close(cancel=True)
