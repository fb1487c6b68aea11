"""The trial an objective sees while it runs: ``trial.report(value, step)``, ``trial.should_prune()``.

A Python objective that declares a parameter named ``trial`` gets a
:class:`RunningTrial` (``evaluate(params, trial)``, or ``evaluate(params, data,
trial)`` with a ``setup`` hook). Each report travels to the coordinator through
the backend's channel (:class:`ReportChannel`), where it is journaled and the
study's early-stopping rule may decide to stop the trial; ``should_prune()``
says whether that decision has reached the trial.

External commands report by printing one JSON object per line, or appending it
to ``$PARABO_REPORT_FILE``: ``{"step": 3, "loss": 0.41}`` (the step under
``step`` or under the study's resource name, e.g. ``epoch``); see
:func:`read_report_line`.

    >>> sent = []
    >>> class Channel:
    ...     def report(self, step, value, metrics): sent.append((step, value, metrics))
    ...     def stopped(self): return len(sent) >= 2
    >>> trial = RunningTrial(0, {"x": 1.0}, channel=Channel())
    >>> trial.report(0.5, step=1); trial.should_prune()
    False
    >>> trial.report({"loss": 0.4, "acc": 0.9}, step=2); trial.should_prune()
    True
    >>> sent[1]
    (2.0, None, {'loss': 0.4, 'acc': 0.9})
"""

from __future__ import annotations

import inspect
import json
import math
import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol

__all__ = [
    "ReportChannel",
    "RunningTrial",
    "read_report_line",
    "wants_trial",
]


class ReportChannel(Protocol):
    """How a running trial talks to its coordinator (one per trial, made by the backend)."""

    def report(self, step: float, value: float | None, metrics: Mapping[str, float]) -> None:
        """Send one report (``value``: a plain number report; ``metrics``: a dict report)."""

    def stopped(self) -> bool:
        """Whether the coordinator decided to stop this trial."""


def _finite(value: Any, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        and not hasattr(value, "__float__")
    ):
        raise ValueError(f"{what} must be a number, got {type(value).__name__} {value!r:.100}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(
            f"{what} must be a finite number, got {number}; to end a diverging trial, "
            "raise parabo.TrialPruned()"
        )
    return number


class RunningTrial:
    """The running trial, as its objective sees it.

    Attributes:
        id: the trial's id in its study.
        params: its parameter values.
        attempt: 1, or more when the trial runs again.
        trial_dir: its folder (``None`` for studies kept in memory).
        budget: the resource this run may use, the step to stop at: its rung under ASHA's
            promotion variant (the trial pauses there and may be resumed to a larger
            budget), else ``early_stopping.max`` (``None`` without early stopping).
    """

    def __init__(
        self,
        trial_id: int,
        params: Mapping[str, Any],
        *,
        attempt: int = 1,
        trial_dir: str | None = None,
        channel: ReportChannel | None = None,
        budget: float | None = None,
        checkpoint_dir: str | None = None,
    ) -> None:
        self.id = trial_id
        self.params = dict(params)
        self.attempt = attempt
        self.trial_dir = trial_dir
        self.budget = budget
        self._checkpoint_dir = checkpoint_dir
        self._channel = channel
        self._last_step: float | None = None

    @property
    def checkpoint_dir(self) -> str | None:
        """A folder kept across the trial's runs (made on first use), to resume from.

        Save the state there as the trial goes (after each step); when the trial runs
        again, because ASHA's promotion variant resumed it to a larger budget or because
        it was rerun after a crash, load it and go on from the step after the saved one.
        ``None`` for a study kept in memory (give it a folder to keep checkpoints).
        """
        if self._checkpoint_dir is not None:
            os.makedirs(self._checkpoint_dir, exist_ok=True)
        return self._checkpoint_dir

    def report(self, value: float | Mapping[str, float], step: float) -> None:
        """Report an intermediate ``value`` (a number, or a dict of metrics) at ``step``.

        ``step`` is the resource used so far (an epoch, a number of samples); it must
        grow from one report to the next. The report is journaled by the coordinator,
        and the study's early-stopping rule may decide to stop the trial: ask
        :meth:`should_prune`. Raises ValueError for a step that does not grow, or a
        value that is not a finite number.
        """
        at = _finite(step, "trial.report(step=...)")
        if self._last_step is not None and at <= self._last_step:
            raise ValueError(
                f"trial.report(step={step!r}) after step {self._last_step:g}: the step must "
                "grow from one report to the next"
            )
        if isinstance(value, Mapping):
            metrics: dict[str, float] = {}
            for key, v in value.items():
                metrics[str(key)] = _finite(v, f"trial.report({{{key!r}: ...}})")
            plain: float | None = None
        else:
            plain, metrics = _finite(value, "trial.report(value)"), {}
        self._last_step = at
        if self._channel is not None:
            self._channel.report(at, plain, metrics)

    def should_prune(self) -> bool:
        """Whether the early-stopping rule decided to stop this trial: then ``raise parabo.TrialPruned()``.

        Decisions are made by the coordinator as reports reach it, so the answer may
        come one report late on a backend with workers in other processes.
        """
        return self._channel is not None and self._channel.stopped()

    def __repr__(self) -> str:
        return f"RunningTrial(id={self.id}, attempt={self.attempt}, params={self.params!r})"


def wants_trial(fn: Callable[..., Any]) -> bool:
    """Whether a Python objective declares a parameter named ``trial`` (it then gets a RunningTrial)."""
    try:
        return "trial" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin or a callable without a signature
        return False


def read_report_line(line: str, resource: str = "step") -> tuple[float, dict[str, float]] | None:
    """``(step, metrics)`` from one line of a command's output, or None if it is not a report.

    A report is a JSON object with a numeric ``step`` (or ``resource``) and at least one
    other finite number; other entries are ignored.

    >>> read_report_line('{"epoch": 3, "loss": 0.41}', "epoch")
    (3.0, {'loss': 0.41})
    >>> read_report_line('training...') is None
    True
    """
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    key = resource if resource in record else "step"
    step = record.get(key)
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step):
        return None
    metrics = {
        str(k): float(v)
        for k, v in record.items()
        if k not in (key, "step", resource)
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
        and math.isfinite(v)
    }
    if not metrics:
        return None
    return float(step), metrics
