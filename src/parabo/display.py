"""Progress on screen: a live panel on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from parabo.scheduler import RunSummary, Scheduler
from parabo.trial import Trial, TrialState

__all__ = ["CampaignDisplay", "ProgressDisplay"]


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.6g}"


def _params(p: Any) -> str:
    return escape(
        ", ".join(f"{k}={_fmt(v) if isinstance(v, float) else v}" for k, v in dict(p).items())
    )


def _first_line(text: str | None, limit: int = 200) -> str:
    """The first line of a trial's error, cut short and escaped for rich markup."""
    return escape(text.splitlines()[0][:limit]) if text and text.strip() else ""


class ProgressDisplay:
    """Shows trials done / in flight / failed, best so far, elapsed and rate.

    On a terminal the panel updates in place; elsewhere (a pipe, a log file)
    a plain line is printed every ``every`` seconds and at the end.
    ``verbose`` adds one line per finished trial with its parameters and result.
    """

    def __init__(
        self,
        verbose: bool = False,
        quiet: bool = False,
        file: IO[str] | None = None,
        every: float = 5.0,
    ) -> None:
        self.console = Console(file=file or sys.stderr, highlight=False, soft_wrap=True)
        self.verbose = verbose
        self.quiet = quiet
        self.every = every
        self.live: Live | None = None
        self._last_line = 0.0
        self._start_done = 0

    def _status(self, s: Scheduler) -> str:
        study = s.study
        done = study.n_finished - study.n_warm  # of this run's budget (warm starts are not)
        rate = (done - self._start_done) / s.elapsed if s.elapsed > 0 else 0.0
        best = study.best
        pruned = f", {study.n_pruned} pruned" if study.n_pruned else ""
        if study.n_paused or study.n_promotions:
            pruned += f", {study.n_paused} paused, {study.n_promotions} promotions"
        if study.goal.multi:
            # several objectives: the Pareto front's size stands where the best value would
            found = f"Pareto front {len(study.pareto_front())}"
        else:
            found = f"best {_fmt(best.value if best else None)}" + (
                f" (trial {best.id})" if best else ""
            )
        return (
            f"{done}/{s.trials} done ({study.n_complete} complete{pruned}, {study.n_failed} failed), "
            f"{len(s.inflight)} in flight, {found}, {s.elapsed:.1f} s elapsed, {rate:.2f} trials/s"
        )

    def on_start(self, s: Scheduler) -> None:
        self._start_done = s.study.n_finished - s.study.n_warm
        if self.quiet:
            return
        resumed = f", resuming with {s.study.n_finished} finished" if s.study.n_finished else ""
        if s.study.n_warm:
            resumed += f" ({s.study.n_warm} told by the warm start)"
        again = len(s.study.interrupted)
        if again:
            resumed += f" and {again} interrupted trial(s) to run again"
        where = f" in {s.study.folder}" if s.study.folder else ""
        sampler = s.study.sampler.name or type(s.study.sampler).__name__
        self.console.print(
            Text(
                f"study {s.study.name!r}{where}: {s.trials} trials, {s.executor.workers} worker(s), "
                f"sampler {sampler}{resumed}"
            )
        )
        if s.n_orphans_killed:
            self.console.print(
                f"[yellow]note:[/] killed {s.n_orphans_killed} process(es) left running by "
                "trials of an earlier run of this study"
            )
        if s.study.repaired:
            self.console.print(f"[yellow]note:[/] {escape(str(s.study.repaired))}")
        if self.console.is_terminal:
            self.live = Live(
                Text(self._status(s)), console=self.console, refresh_per_second=4, transient=True
            )
            self.live.start()
        self._last_line = time.monotonic()

    def on_trial(self, s: Scheduler, trial: Trial) -> None:
        if self.quiet:
            return
        if self.verbose:
            if trial.state is TrialState.COMPLETE:
                what = f"value {_fmt(trial.value)}"
            elif trial.state is TrialState.PRUNED:
                what = f"pruned at step {_fmt(trial.step)}, value {_fmt(trial.value)}"
            elif trial.state is TrialState.PAUSED:
                what = f"paused at step {_fmt(trial.step)}, value {_fmt(trial.value)}"
            else:
                what = f"[red]{trial.state.value}[/] ({trial.reason}): {_first_line(trial.error)}"
            dur = trial.duration
            self.console.print(
                f"trial {trial.id}: {what} | {_params(trial.params)}"
                f" | {dur:.2f} s on {escape(str(trial.worker))}"
                if dur is not None
                else f"trial {trial.id}: {what}"
            )
        elif trial.state is TrialState.FAILED:
            first = _first_line(trial.error)
            self.console.print(f"[red]trial {trial.id} failed[/] ({trial.reason}): {first}")

    def on_tick(self, s: Scheduler) -> None:
        if self.quiet:
            return
        if self.live is not None:
            self.live.update(Text(self._status(s)))
        elif time.monotonic() - self._last_line >= self.every:
            self._last_line = time.monotonic()
            self.console.print(Text(self._status(s)))

    def on_notice(self, s: Scheduler, text: str) -> None:
        """A line the user must see now (e.g. what the first Ctrl-C does), even with ``quiet``."""
        self.console.print(Text(text, style="yellow"))

    def on_stop(self, s: Scheduler, summary: RunSummary) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        if self.quiet:
            return
        self.console.print(Text(self._status(s)))
        why = {
            "trials": "the requested number of trials is done",
            "time": "the time limit was reached",
            "target": "the target value was reached",
            "interrupted": "interrupted",
            "failures": "trials failed (see the error below)",
        }.get(summary.stop_reason, summary.stop_reason)
        self.console.print(Text(f"stopped: {why}"))
        if summary.reused or summary.retried:
            self.console.print(
                f"{summary.reused} trial(s) reused from the cache, {summary.retried} attempt(s) retried"
            )
        if s.study.goal.multi:
            front = s.study.pareto_front()
            self.console.print(
                f"Pareto front: {len(front)} trials (`parabo best` prints them)"
                if front
                else "Pareto front: no feasible completed trial"
            )
        elif summary.best is not None:
            self.console.print(
                f"best value {_fmt(summary.best.value)} (trial {summary.best.id}): "
                f"{_params(summary.best.params)}"
            )


class CampaignDisplay:
    """Plain progress lines of a campaign: a line at the start, every ``every`` seconds, a table at the end."""

    def __init__(
        self, quiet: bool = False, every: float = 10.0, file: IO[str] | None = None
    ) -> None:
        self.quiet = quiet
        self.every = every
        self.console = Console(file=file or sys.stderr, highlight=False, soft_wrap=True)
        self._last = 0.0

    def _say(self, text: str) -> None:
        if not self.quiet:
            self.console.print(Text(text))

    def on_campaign_start(self, campaign: Any) -> None:
        workers = campaign.cells[0].config.run.workers
        self._say(
            f"campaign {campaign.name!r}: {len(campaign.cells)} studies on {workers} worker(s) "
            f"({campaign.policy}), in {campaign.folder}"
        )
        self._last = time.monotonic()

    def on_campaign_tick(self, campaign: Any, schedulers: Any) -> None:
        if time.monotonic() - self._last < self.every:
            return
        self._last = time.monotonic()
        done = sum(s.study.n_finished for s in schedulers)
        wanted = sum(s.trials for s in schedulers)
        flying = sum(len(s.inflight) for s in schedulers)
        self._say(f"  {done}/{wanted} trials finished, {flying} in flight")

    def on_campaign_stop(self, campaign: Any, summary: Any) -> None:
        for cell, s in zip(campaign.cells, summary.summaries, strict=True):
            best = "-" if s.best is None else f"{s.best.value:.6g}"
            self._say(
                f"  {cell.label}: {s.n_complete} completed, {s.n_failed} failed, best {best} "
                f"({s.stop_reason})"
            )
        util = summary.utilization
        busy = "" if util is None else f", workers busy {100 * util:.1f}% while trials remained"
        self._say(f"campaign {campaign.name!r} stopped after {summary.elapsed:.1f} s{busy}")
