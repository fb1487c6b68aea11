"""Objectives: a Python callable (or its import path) and an external command.

An objective is a small picklable *spec*; a worker calls :meth:`Objective.load`
once and then runs many trials with the loaded callable. What a trial's
evaluation returns is the raw result (a number or a dict of metrics), read into
a value by the study; anything raised fails only that trial.

External commands get the trial's parameters

- as a JSON file ``params.json`` in the trial's folder, whose path is in
  ``$PARABO_PARAMS_FILE`` and in the placeholder ``{params_file}``;
- as environment variables ``PARABO_PARAM_<NAME>`` (name upper-cased, other
  characters than letters and digits turned into ``_``);
- as placeholders in the argument list: ``{params_file}``, ``{trial_dir}``,
  ``{trial_id}``, ``{result_file}``, ``{study_file_dir}`` (the folder of the study
  file) and ``{params.NAME}`` for one value;
- with early stopping, the resource the run may use in ``{budget}`` and
  ``$PARABO_BUDGET``, and a folder kept across the trial's runs (to resume a paused or
  rerun trial from) in ``{checkpoint_dir}`` and ``$PARABO_CHECKPOINT_DIR``.

Every process of a trial carries ``PARABO_TRIAL`` in its environment; when the
trial ends, whatever still carries it is killed (daemons started with ``setsid``
included), so a command must not start services meant to outlive its trial.

Placeholders are replaced inside each argument separately and the list is
passed to ``exec`` directly, never through a shell, so a parameter value is
always data. The command runs in the trial's folder and reports by writing
``result.json`` there (``$PARABO_RESULT_FILE``) or by printing a JSON value as
its last line of output.

With early stopping (``CommandObjective(report_key=...)``), a command also reports
as it goes: one JSON object per line on stdout, or appended to
``$PARABO_REPORT_FILE`` (``{"step": 3, "loss": 0.41}``; see
:mod:`parabo.reporting`). When the rule stops it, its process group gets SIGTERM,
then SIGKILL after ``kill_grace`` seconds, and the trial ends PRUNED.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parabo._procs import TRIAL_ENV, kill_marked
from parabo.exceptions import ConfigError
from parabo.reporting import ReportChannel, RunningTrial, read_report_line, wants_trial

__all__ = [
    "CommandObjective",
    "Objective",
    "ObjectiveFailure",
    "PythonObjective",
    "TrialContext",
    "as_objective",
    "check_result_file",
    "format_budget",
    "import_object",
]

OUTPUT_CAP = 10 * 1024 * 1024  # bytes of stdout/stderr kept per trial
#: a trial's checkpoint folder, inside its folder, kept across its runs (promotion, reruns)
CHECKPOINT_DIR = "checkpoint"
_PLACEHOLDER = re.compile(
    r"\{(params_file|trial_dir|trial_id|result_file|study_file_dir|budget|checkpoint_dir"
    r"|params\.([^{}]+))\}"
)


class ObjectiveFailure(Exception):
    """A trial's evaluation failed for a known reason (``reason``: a short cause)."""

    def __init__(self, message: str, reason: str = "exception") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class TrialContext:
    """What a worker knows about the trial it runs."""

    trial_id: int
    params: Mapping[str, Any]
    trial_dir: str | None = None
    attempt: int = 1
    timeout: float | None = None
    #: called with the pid of a child process group the trial starts (so it can be killed)
    on_child: Callable[[int], None] | None = None
    #: ``PARABO_TRIAL`` of the trial's processes: what is left with it is killed when it ends
    marker: str | None = None
    #: reports to the coordinator and its stop decision (None: the backend has no channel)
    channel: ReportChannel | None = None
    #: the resource this run may use (early stopping; None: no budget)
    budget: float | None = None

    @property
    def checkpoint_dir(self) -> str | None:
        """The trial's checkpoint folder (``checkpoint`` in its folder), kept across its runs."""
        return None if self.trial_dir is None else os.path.join(self.trial_dir, CHECKPOINT_DIR)

    def running_trial(self) -> RunningTrial:
        """The :class:`~parabo.reporting.RunningTrial` an objective's ``trial`` parameter gets."""
        return RunningTrial(
            self.trial_id,
            self.params,
            attempt=self.attempt,
            trial_dir=self.trial_dir,
            channel=self.channel,
            budget=self.budget,
            checkpoint_dir=self.checkpoint_dir,
        )


def format_budget(budget: float) -> str:
    """A budget as a command gets it: a whole number without a point (``27``), else as is.

    >>> format_budget(27.0), format_budget(0.5)
    ('27', '0.5')
    """
    return str(int(budget)) if float(budget).is_integer() else repr(float(budget))


def import_object(path: str, field_name: str = "objective.python") -> Any:
    """Import ``"package.module:attribute"`` (``a.b:c.d`` for nested attributes)."""
    if not isinstance(path, str) or ":" not in path:
        raise ConfigError(
            f"expected 'module:function' (e.g. examples.quickstart_objective:evaluate), got {path!r}",
            field=field_name,
        )
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import module {module_name!r}: {exc}. Run from the folder that holds it, "
            "or add it to PYTHONPATH",
            field=field_name,
        ) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(
                f"module {module_name!r} has no attribute {attr!r}", field=field_name
            ) from None
    return obj


class Objective:
    """Base of objective specs. ``load()`` returns ``run(context) -> raw result``."""

    #: True when the objective mostly waits on another process (threads suit it)
    external: bool = False

    def load(self) -> Callable[[TrialContext], Any]:
        raise NotImplementedError

    def identity(self) -> str:
        """A string that names what this objective computes (for records)."""
        raise NotImplementedError

    def check(self) -> None:
        """Check in the coordinator, before the first trial, what can be checked once (raises ConfigError)."""

    def fingerprint(self) -> str:
        """What the result cache keys on: the identity plus the code or files behind it."""
        return self.identity()


@dataclass(frozen=True)
class PythonObjective(Objective):
    """A Python function ``f(params) -> float | dict``, given as a callable or an import path.

    With ``setup`` (a callable or import path, no arguments), each worker calls
    it once and the objective is called as ``f(params, setup_result)``, so
    large data is loaded once per worker, not once per trial. A function that
    declares a parameter named ``trial`` also gets the running trial
    (:class:`~parabo.reporting.RunningTrial`), to report and learn of early stopping.
    """

    function: Callable[..., Any] | str
    setup: Callable[[], Any] | str | None = None
    paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (callable(self.function) or isinstance(self.function, str)):
            raise ConfigError(
                f"expected a callable or 'module:function', got {self.function!r}",
                field="objective",
            )
        if self.setup is not None and not (callable(self.setup) or isinstance(self.setup, str)):
            raise ConfigError(
                f"expected a callable or 'module:function', got {self.setup!r}",
                field="objective.setup",
            )

    def _resolve(self) -> tuple[Callable[..., Any], Callable[[], Any] | None]:
        for p in reversed(self.paths):
            if p not in sys.path:
                sys.path.insert(0, p)
        fn = import_object(self.function) if isinstance(self.function, str) else self.function
        if not callable(fn):
            raise ConfigError(f"{self.function!r} is not callable", field="objective.python")
        setup = self.setup
        if isinstance(setup, str):
            setup = import_object(setup, "objective.setup")
        return fn, setup

    def check(self) -> None:
        """Import now (in the coordinator) so that a wrong path fails before any trial runs."""
        self._resolve()

    def load(self) -> Callable[[TrialContext], Any]:
        fn, setup = self._resolve()
        trial = wants_trial(fn)
        if setup is None:
            if trial:
                return lambda ctx: fn(dict(ctx.params), trial=ctx.running_trial())
            return lambda ctx: fn(dict(ctx.params))
        data = setup()
        if trial:
            return lambda ctx: fn(dict(ctx.params), data, trial=ctx.running_trial())
        return lambda ctx: fn(dict(ctx.params), data)

    def identity(self) -> str:
        f = self.function
        if isinstance(f, str):
            return f"python:{f}"
        return f"python:{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', repr(f))}"

    def fingerprint(self) -> str:
        import hashlib
        import inspect

        fn, _ = self._resolve()
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError):
            source = ""
        return self.identity() + ":" + hashlib.sha256(source.encode()).hexdigest()[:16]


def env_name(param: str) -> str:
    """``PARABO_PARAM_<NAME>`` for a parameter name."""
    return "PARABO_PARAM_" + re.sub(r"[^A-Za-z0-9]", "_", param).upper()


def _format_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return str(v)


def check_result_file(name: str) -> str:
    """``name`` if it is a file name inside the trial folder, else ValueError saying why.

    A relative path without ``..`` (``result.json``, ``out/metrics.json``): the
    result file is removed before each trial, so it must never name a file
    outside the trial's own folder.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError("must name a file, e.g. result.json")
    if "\0" in name:
        raise ValueError("must not hold a NUL character")
    path = Path(name)
    if path.is_absolute() or name.startswith("~"):
        raise ValueError(
            f"must be a file name inside the trial folder, e.g. result.json, got {name!r}; "
            "the command gets its full path as {result_file} and $PARABO_RESULT_FILE"
        )
    if ".." in path.parts or not path.parts or path.parts[-1] in (".", ".."):
        raise ValueError(
            f"must stay inside the trial folder (no '..'), e.g. result.json, got {name!r}"
        )
    return name


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _read_capped(path: Path) -> str:
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - 64 * 1024))
        return f.read().decode("utf-8", "replace")


def _keep_tail(path: Path, cap: int) -> None:
    """Cut a captured output file to its last ``cap`` bytes (the end holds the result and the errors)."""
    size = path.stat().st_size
    if size <= cap:
        return
    with open(path, "r+b") as f:
        f.seek(size - cap)
        tail = f.read()
        marker = f"[parabo: the first {size - cap} bytes of this output were cut]\n".encode()
        f.seek(0)
        f.write(marker + tail)
        f.truncate()


def last_json_line(text: str) -> Any:
    """The last non-empty line of ``text``, parsed as JSON (raises ValueError)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line:
            return json.loads(line)
    raise ValueError("no output")


def kill_group(pgid: int, grace: float = 2.0) -> None:
    """SIGTERM a process group, then SIGKILL it if still alive after ``grace`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.02)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass(frozen=True)
class CommandObjective(Objective):
    """An external program run once per trial.

    Args:
        command: the argument list, with placeholders (see the module docs).
        result_file: file name (in the trial folder) the command writes its
            result to; default ``result.json``. If it is missing, the last
            line of stdout is read as JSON.
        env: extra environment variables.
        cwd: folder to resolve a relative program path against (the study
            file's folder); the command itself runs in the trial's folder.
        kill_grace: seconds between SIGTERM and SIGKILL when the trial is stopped.
        report_key: with early stopping, the name of the step in the command's report
            lines (the study's resource, e.g. ``epoch``; ``step`` is always read too);
            ``None``: the command's output is not read for reports.
    """

    external = True
    command: tuple[str, ...]
    result_file: str = "result.json"
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    kill_grace: float = 2.0
    report_key: str | None = None

    def __post_init__(self) -> None:
        if (
            isinstance(self.command, str)
            or not isinstance(self.command, Sequence)
            or not self.command
        ):
            raise ConfigError(
                "expected a non-empty list of arguments, e.g. [python, train.py, --params, '{params_file}']",
                field="objective.command",
            )
        for i, a in enumerate(self.command):
            if not isinstance(a, (str, int, float)) or isinstance(a, bool):
                raise ConfigError(
                    f"argument {i} must be a string, got {a!r}", field="objective.command"
                )
        object.__setattr__(self, "command", tuple(str(a) for a in self.command))
        try:
            check_result_file(self.result_file)
        except ValueError as exc:
            raise ConfigError(str(exc), field="objective.result_file") from None

    def check(self) -> None:
        """The program exists before the first trial: on ``PATH``, or as a file (relative to ``cwd``).

        Raises ConfigError naming ``objective.command`` if not, instead of a failure per trial.
        """
        prog = self.command[0].replace("{study_file_dir}", self.cwd or os.getcwd())
        if _PLACEHOLDER.search(prog):
            return  # named by a trial's own values: only a trial can tell
        if os.sep in prog or (os.altsep and os.altsep in prog):
            path = Path(prog).expanduser()
            if not path.is_absolute():
                path = Path(self.cwd or os.getcwd()) / path
            if not path.is_file():
                raise ConfigError(
                    f"the program {self.command[0]!r} is not a file ({path} does not exist); "
                    "give its path relative to the study file, or a program on PATH",
                    field="objective.command",
                )
            if not os.access(path, os.X_OK):
                raise ConfigError(
                    f"the program {self.command[0]!r} ({path}) is not executable: chmod +x it, "
                    f"or run it through its interpreter, e.g. [python, {self.command[0]}, ...]",
                    field="objective.command",
                )
            return
        search = self.env.get("PATH", os.environ.get("PATH", os.defpath))
        if shutil.which(prog, path=search) is None:
            raise ConfigError(
                f"the program {prog!r} is not found on PATH; install it, or give its path "
                "(relative to the study file, e.g. ./train.sh)",
                field="objective.command",
            )

    def identity(self) -> str:
        return "command:" + json.dumps(list(self.command))

    def fingerprint(self) -> str:
        """The command plus a hash of every file its arguments name (the script, a config...)."""
        import hashlib

        here = Path(self.cwd or os.getcwd())
        digests = []
        for arg in self.command:
            candidate = Path(arg.replace("{study_file_dir}", str(here)))
            if "{" in str(candidate):
                continue
            path = candidate if candidate.is_absolute() else here / candidate
            try:
                if path.is_file() and path.stat().st_size <= 256 * 1024 * 1024:
                    digests.append(f"{arg}={hashlib.sha256(path.read_bytes()).hexdigest()[:16]}")
            except OSError:
                continue
        return self.identity() + ":" + ",".join(digests)

    def load(self) -> Callable[[TrialContext], Any]:
        return self.run

    def argv(self, ctx: TrialContext, trial_dir: Path) -> list[str]:
        values = {
            "params_file": str(trial_dir / "params.json"),
            "trial_dir": str(trial_dir),
            "trial_id": str(ctx.trial_id),
            "result_file": str(trial_dir / self.result_file),
            "study_file_dir": self.cwd or os.getcwd(),
            "checkpoint_dir": str(trial_dir / CHECKPOINT_DIR),
        }

        def sub(m: re.Match[str]) -> str:
            if m.group(2) is not None:
                name = m.group(2)
                if name not in ctx.params:
                    raise ObjectiveFailure(
                        f"placeholder {m.group(0)} names no parameter", "bad_command"
                    )
                return _format_value(ctx.params[name])
            if m.group(1) == "budget":
                if ctx.budget is None:
                    raise ObjectiveFailure(
                        "placeholder {budget} needs early_stopping with a max (the full "
                        "budget); set early_stopping.max",
                        "bad_command",
                    )
                return format_budget(ctx.budget)
            return values[m.group(1)]

        args = [_PLACEHOLDER.sub(sub, a) for a in self.command]
        prog = args[0]
        if self.cwd and (os.sep in prog) and not os.path.isabs(prog):
            args[0] = str(Path(self.cwd) / prog)
        return args

    def run(self, ctx: TrialContext) -> Any:
        if ctx.trial_dir is None:
            raise ObjectiveFailure("an external command needs a trial folder", "bad_command")
        trial_dir = Path(ctx.trial_dir)
        trial_dir.mkdir(parents=True, exist_ok=True)
        params_file = trial_dir / "params.json"
        if not params_file.exists():
            params_file.write_text(json.dumps(dict(ctx.params), indent=2, ensure_ascii=False))
        result_path = trial_dir / check_result_file(self.result_file)
        if not _inside(result_path.parent, trial_dir):  # a symlinked folder inside the trial folder
            raise ObjectiveFailure(
                f"the result file {self.result_file} is outside the trial folder {trial_dir}",
                "bad_command",
            )
        result_path.unlink(missing_ok=True)
        report_path = trial_dir / REPORT_FILE
        report_path.unlink(missing_ok=True)
        env = dict(os.environ)
        env.update(self.env)
        env.update(
            PARABO_PARAMS_FILE=str(params_file),
            PARABO_TRIAL_DIR=str(trial_dir),
            PARABO_TRIAL_ID=str(ctx.trial_id),
            PARABO_RESULT_FILE=str(result_path),
        )
        if self.report_key is not None:
            env["PARABO_REPORT_FILE"] = str(report_path)
        checkpoint = trial_dir / CHECKPOINT_DIR
        checkpoint.mkdir(exist_ok=True)
        env["PARABO_CHECKPOINT_DIR"] = str(checkpoint)
        if ctx.budget is not None:
            env["PARABO_BUDGET"] = format_budget(ctx.budget)
        if ctx.marker is not None:
            env[TRIAL_ENV] = ctx.marker
        for name, value in ctx.params.items():
            env[env_name(name)] = _format_value(value)
        argv = self.argv(ctx, trial_dir)
        out_path, err_path = trial_dir / "stdout.txt", trial_dir / "stderr.txt"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=trial_dir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ObjectiveFailure(
                    f"cannot start {argv[0]!r}: {exc.strerror}", "bad_command"
                ) from None
            if ctx.on_child is not None:
                ctx.on_child(proc.pid)
            reports = None
            if self.report_key is not None and ctx.channel is not None:
                reports = _ReportTail([out_path, report_path], self.report_key, ctx.channel)
            try:
                if reports is None:
                    code = proc.wait(timeout=ctx.timeout)
                else:
                    code = self._wait_reporting(proc, reports, ctx)
            except subprocess.TimeoutExpired:
                kill_group(proc.pid, self.kill_grace)
                proc.wait()
                raise ObjectiveFailure(
                    f"the command ran over its time limit of {ctx.timeout:g} s", "timeout"
                ) from None
            except BaseException:
                kill_group(proc.pid, self.kill_grace)
                proc.wait()
                raise
            finally:
                # children the command left behind die with it: in its group, or daemonized
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                if ctx.marker is not None:
                    kill_marked(ctx.marker)
        for path in (out_path, err_path):
            _keep_tail(path, OUTPUT_CAP)
        if code != 0:
            tail = _read_capped(err_path)[-2000:].strip()
            what = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
            raise ObjectiveFailure(
                f"the command {what}" + (f"; stderr ends with:\n{tail}" if tail else ""),
                "crashed" if code < 0 else "exit_code",
            )
        if result_path.exists():
            text = result_path.read_text(errors="replace")
            if not text.strip():
                raise ObjectiveFailure(
                    f"the result file {self.result_file} is empty", "invalid_result"
                )
            try:
                return json.loads(text)
            except ValueError:
                raise ObjectiveFailure(
                    f"the result file {self.result_file} is not JSON: {text[:200]!r}",
                    "invalid_result",
                ) from None
        stdout = _read_capped(out_path)
        if not stdout.strip():
            raise ObjectiveFailure(
                f"the command wrote no {self.result_file} and printed nothing; print a JSON "
                'value (e.g. {"loss": 0.1}) as the last line, or write the result file',
                "invalid_result",
            )
        try:
            return self._without_step(last_json_line(stdout))
        except ValueError:
            last = stdout.strip().splitlines()[-1]
            raise ObjectiveFailure(
                f"the last line of the command's output is not JSON: {last[:200]!r}",
                "invalid_result",
            ) from None

    def _without_step(self, result: Any) -> Any:
        """A result line that is also a report: its step is not a metric."""
        if self.report_key is not None and isinstance(result, dict):
            return {k: v for k, v in result.items() if k not in (self.report_key, "step")}
        return result

    def _wait_reporting(
        self, proc: subprocess.Popen[bytes], tail: _ReportTail, ctx: TrialContext
    ) -> int:
        """Wait for the command while passing its reports on; stop it when the rule says so.

        Raises ``subprocess.TimeoutExpired`` past the time limit, and
        :class:`ObjectiveFailure` with reason ``pruned`` once the command was stopped
        (SIGTERM, then SIGKILL after ``kill_grace``; the caller kills what is left).
        """
        deadline = None if ctx.timeout is None else time.monotonic() + ctx.timeout
        pause = 0.01
        while True:
            try:
                code = proc.wait(timeout=pause)
            except subprocess.TimeoutExpired:
                code = None
            tail.read()
            if code is not None:
                return code
            if tail.channel.stopped():
                kill_group(proc.pid, self.kill_grace)
                proc.wait()
                tail.read()
                where = f" at {self.report_key} {tail.last_step:g}" if tail.last_step else ""
                raise ObjectiveFailure(f"stopped early by the rule{where}", "pruned")
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(proc.args, ctx.timeout or 0.0)
            pause = min(0.1, pause * 1.5)  # quick for short commands, cheap for long ones


#: the file (in the trial folder) a command may append its reports to: ``$PARABO_REPORT_FILE``
REPORT_FILE = "reports.jsonl"


class _ReportTail:
    """Follow files a command writes (its stdout, its report file) and pass report lines on."""

    def __init__(self, paths: list[Path], key: str, channel: ReportChannel) -> None:
        self.paths = paths
        self.key = key
        self.channel = channel
        self._offsets = [0] * len(paths)
        self._partial = [b""] * len(paths)
        self.last_step: float | None = None

    def read(self) -> None:
        for i, path in enumerate(self.paths):
            try:
                with open(path, "rb") as f:
                    f.seek(self._offsets[i])
                    chunk = f.read(1 << 20)
            except OSError:
                continue
            if not chunk:
                continue
            self._offsets[i] += len(chunk)
            lines = (self._partial[i] + chunk).split(b"\n")
            self._partial[i] = lines.pop()  # an unfinished last line waits for its newline
            if len(self._partial[i]) > 1 << 20:
                self._partial[i] = b""  # a line over a megabyte is no report
            for raw in lines:
                report = read_report_line(raw.decode("utf-8", "replace"), self.key)
                if report is None:
                    continue
                step, metrics = report
                if self.last_step is not None and step <= self.last_step:
                    continue  # the same report in both files, or a step that went back
                self.last_step = step
                self.channel.report(step, None, metrics)


def as_objective(objective: Objective | Callable[..., Any] | str | Sequence[str]) -> Objective:
    """An objective spec from a callable, an import path ``"mod:fn"`` or a command list."""
    if isinstance(objective, Objective):
        return objective
    if callable(objective) or isinstance(objective, str):
        return PythonObjective(objective)
    if isinstance(objective, Sequence):
        return CommandObjective(tuple(objective))
    raise ConfigError(
        f"expected a callable, 'module:function' or a command list, got {objective!r}",
        field="objective",
    )
