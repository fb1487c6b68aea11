"""The ``parabo`` command: a thin layer over the library.

Exit codes (:class:`ExitCode`): 0 done; 1 the run failed (a storage or backend
error, the run stopped after too many failures in a row, or no trial succeeded);
2 bad input (a study file, a flag, a missing extra); 3 the study folder is locked
by another running coordinator; 130 interrupted by SIGINT (143 by SIGTERM).
"""

from __future__ import annotations

import enum
import json
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from parabo.exceptions import ConfigError, ParaboError, StudyLockedError
from parabo.run_options import BACKENDS
from parabo.trial import StopReason

__all__ = ["ExitCode", "main"]


class ExitCode(enum.IntEnum):
    """What the ``parabo`` command's exit status means."""

    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    LOCKED = 3
    SIGINT = 130
    SIGTERM = 143


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(int(code))


def _guard(fn: Any) -> Any:
    """Turn parabo's errors into one clear line and an exit code; never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StudyLockedError as exc:
            _fail(str(exc), ExitCode.LOCKED)
        except ConfigError as exc:
            _fail(str(exc), ExitCode.BAD_INPUT)
        except ParaboError as exc:
            _fail(str(exc), ExitCode.FAILED)

    return wrapper


def _sampler_option(value: str | None) -> Any:
    if value is None:
        return None
    if value.strip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ConfigError(f"not valid JSON: {exc}", field="--sampler") from None
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="parabo")
def cli() -> None:
    """Parallel, asynchronous Bayesian optimization of anything that can be run."""


@cli.command()
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--workers", "-w", type=int, help="Trials in flight at once (overrides run.workers).")
@click.option(
    "--trials", "-n", type=int, help="Total finished trials wanted (overrides run.trials)."
)
@click.option("--sampler", help='Sampler name, or a JSON mapping like \'{"name": "sobol"}\'.')
@click.option("--seed", type=int, help="Seed of the sampler.")
@click.option("--storage", help="Study folder (overrides storage; relative to the current folder).")
@click.option("--backend", help=" | ".join(BACKENDS) + ".")
@click.option(
    "--batch",
    is_flag=True,
    default=None,
    help="Synchronous batches instead of asynchronous refill.",
)
@click.option("--timeout", help="Per-trial time limit, e.g. 600 or 10m.")
@click.option("--max-time", help="Wall-clock limit of the run, e.g. 2h.")
@click.option("--target", type=float, help="Stop once a trial reaches this value or better.")
@click.option(
    "--retries", type=int, help="Run a trial that crashed or timed out again, up to N times."
)
@click.option(
    "--cache/--no-cache",
    default=None,
    help="Reuse results of parameters already evaluated (default: on for external commands).",
)
@click.option(
    "--stop-grace",
    help="After Ctrl-C/SIGTERM, seconds the trials in flight get before they are killed.",
)
@click.option("--verbose", "-v", is_flag=True, help="Print every trial's parameters and result.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@_guard
def run(
    study_file: Path,
    workers: int | None,
    trials: int | None,
    sampler: str | None,
    seed: int | None,
    storage: str | None,
    backend: str | None,
    batch: bool | None,
    timeout: str | None,
    max_time: str | None,
    target: float | None,
    retries: int | None,
    cache: bool | None,
    stop_grace: str | None,
    verbose: bool,
    quiet: bool,
) -> None:
    """Run (or resume) the study described by STUDY_FILE (YAML or JSON)."""
    from parabo.config import load_study_file, parse_duration, with_overrides
    from parabo.display import ProgressDisplay
    from parabo.optimize import run_study

    cfg, base_dir = load_study_file(study_file)
    # flags are bounded like the study file's keys; with_overrides names the flag in messages
    if storage is not None:
        storage = str(Path(storage).resolve())
    cfg = with_overrides(
        cfg,
        workers=workers,
        trials=trials,
        sampler=_sampler_option(sampler),
        seed=seed,
        storage=storage,
        backend=backend,
        batch=batch,
        timeout=None if timeout is None else parse_duration(timeout, "--timeout"),
        max_time=None if max_time is None else parse_duration(max_time, "--max-time"),
        target=target,
        retries=retries,
        cache=cache,
        stop_grace=None
        if stop_grace is None
        else parse_duration(stop_grace, "--stop-grace", allow_zero=True),
    )
    display = ProgressDisplay(verbose=verbose, quiet=quiet)
    study, summary = run_study(cfg, base_dir, listener=display)
    if summary.stop_reason == StopReason.INTERRUPTED:
        sys.exit(ExitCode.SIGTERM if summary.signal == signal.SIGTERM else ExitCode.SIGINT)
    if summary.stop_reason == StopReason.FAILURES:
        _fail(summary.message or "too many trials failed in a row", ExitCode.FAILED)
    if study.n_complete == 0 and study.n_failed > 0:
        _fail(
            f"no trial succeeded ({study.n_failed} failed); see `parabo status {study.folder}` "
            "and the trial folders for their errors",
            ExitCode.FAILED,
        )


def _open(study: Path) -> Any:
    """The study in a folder, or in the folder a study file names (as ``parabo run`` finds it)."""
    from parabo.study import Study

    return Study.load(_study_folder(study))


def _study_folder(study: Path) -> Path:
    if "\0" in str(study):
        raise ConfigError("the path contains a NUL byte (\\0)", field="STUDY")
    if study.is_file():
        from parabo.config import load_study_file, storage_folder

        cfg, base_dir = load_study_file(study)
        return storage_folder(cfg, base_dir)
    return study


@cli.command()
@click.argument("study_dir", metavar="STUDY", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the progress record as JSON.")
@_guard
def status(study_dir: Path, as_json: bool) -> None:
    """Show the progress of STUDY, a study folder or its study file (safe while it runs)."""
    from parabo.results import progress_record

    study = _open(study_dir)
    record = progress_record(study)
    if as_json:
        click.echo(json.dumps(record, indent=2))
        return
    click.echo(f"study {record['study']} ({record['direction']}) in {study_dir}")
    click.echo(
        f"  completed {record['completed']}, failed {record['failed']}, running or interrupted {record['running']}"
    )
    if record["warm_start"]:
        click.echo(
            f"  told by a warm start {record['warm_start']} (counted in completed and failed)"
        )
    if record["queued"]:
        click.echo(f"  enqueued, not tried yet {record['queued']}")
    if record["best_value"] is not None:
        click.echo(f"  best value {record['best_value']:.6g} (trial {record['best_trial']})")
        for k, v in record["best_params"].items():
            click.echo(f"    {k} = {v}")
    reasons: dict[str, int] = {}
    for t in study.trials:
        if t.reason:
            reasons[t.reason] = reasons.get(t.reason, 0) + 1
    if reasons:
        click.echo("  failures: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))


@cli.command()
@click.argument("study_dir", metavar="STUDY", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (id, value, params, metrics).")
@_guard
def best(study_dir: Path, as_json: bool) -> None:
    """Print the best trial of STUDY, a study folder or its study file."""
    study = _open(study_dir)
    b = study.best
    if b is None:
        raise ParaboError(f"the study in {study_dir} has no completed trial yet")
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": b.id,
                    "value": b.value,
                    "params": dict(b.params),
                    "metrics": dict(b.metrics),
                },
                indent=2,
            )
        )
        return
    click.echo(f"best value {b.value:.10g} (trial {b.id})")
    for k, v in b.params.items():
        click.echo(f"  {k} = {v}")


@cli.command()
@click.argument("study_dir", metavar="STUDY", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    default="csv",
    show_default=True,
    help="csv | parquet | json | optuna (an Optuna journal file that optuna.load_study opens)",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: trials.<format>, or optuna-journal.log, in the study folder).",
)
@_guard
def export(study_dir: Path, fmt: str, output: Path | None) -> None:
    """Write every trial of STUDY (a study folder or its study file) as a table, one row per trial."""
    from parabo.results import export_trials

    study = _open(study_dir)
    path = export_trials(study, fmt, output)
    click.echo(f"wrote {len(study.trials)} trials to {path}")


@cli.command()
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--workers",
    "-w",
    "workers_list",
    default="1,4,16,64",
    show_default=True,
    help="Worker counts to compare, separated by commas.",
)
@click.option(
    "--duration", help="Trial durations, e.g. 60s or 'lognormal(60s, 0.5)' (default: run.runtime)."
)
@click.option("--trials", "-n", type=int, help="Finished trials per run (default: run.trials).")
@click.option(
    "--target", type=float, help="Value to reach (default: the 1-worker runs' median final best)."
)
@click.option(
    "--from-study",
    type=click.Path(file_okay=False, path_type=Path),
    help="Replay the recorded trials of this study folder (values and durations).",
)
@click.option(
    "--stand-in",
    type=click.Choice(["objective", "synthetic"]),
    help="What gives values: the study's Python objective (default) or a cheap synthetic function.",
)
@click.option("--seed", type=int, help="Seed of the sampler and the durations.")
@click.option(
    "--repeats",
    "-r",
    type=int,
    default=1,
    show_default=True,
    help="Runs per worker count, on seeds SEED, SEED+1, ...: the table shows medians, how many "
    "runs reach the target and, from 5 runs, a 95% interval of the speed-up.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PNG to write (default: simulate-<study name>.png).",
)
@click.option("--no-plot", is_flag=True, help="Write no plot.")
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JSON to this file.",
)
@_guard
def simulate(
    study_file: Path,
    workers_list: str,
    duration: str | None,
    trials: int | None,
    target: float | None,
    from_study: Path | None,
    stand_in: str | None,
    seed: int | None,
    repeats: int,
    plot: Path | None,
    no_plot: bool,
    json_file: Path | None,
) -> None:
    """Simulate STUDY_FILE with several worker counts: time to target, utilization, coordinator share."""
    from parabo.config import load_study_file
    from parabo.simulate import (
        check_plotting,
        format_report,
        parse_workers,
        plot_report,
        simulate_study,
        write_json,
    )

    workers = parse_workers(workers_list)
    cfg, base_dir = load_study_file(study_file)
    plotting = not no_plot
    if plotting:
        try:
            check_plotting()
        except ParaboError as exc:
            if plot is not None:
                raise ConfigError(f"{exc}", field="--plot") from None
            plotting = False  # the report alone; say at the end how to get the plot
    report = simulate_study(
        cfg,
        base_dir,
        workers=workers,
        duration=duration,
        trials=trials,
        target=target,
        from_study=from_study,
        stand_in=stand_in,
        seed=seed,
        repeats=repeats,
        progress=lambda line: click.echo(line, err=True),
    )
    click.echo(format_report(report))
    if json_file is not None:
        click.echo(f"wrote {write_json(report, json_file)}")
    if plotting:
        click.echo(f"wrote {plot_report(report, plot or Path(f'simulate-{cfg.name}.png'))}")
    elif not no_plot:
        click.echo("no plot: matplotlib is not installed; pip install 'parabo[plots]' to get one")


@cli.command()
@click.argument("study", metavar="STUDY", type=click.Path(path_type=Path))
@click.argument("params_file", metavar="PARAMS_JSON", type=click.Path(path_type=Path))
@_guard
def enqueue(study: Path, params_file: Path) -> None:
    """Have STUDY try the parameters in PARAMS_JSON before the sampler's next suggestions.

    STUDY is a study folder or its study file; PARAMS_JSON holds one mapping of parameter
    values or a list of them. They are checked against the study's space. A stopped study
    journals them at once (`parabo run` tries them first); a running one picks them up
    within about a second.
    """
    from parabo.exceptions import SpaceError
    from parabo.study import Study
    from parabo.warm_start import drop_points, read_points

    folder = _study_folder(study)
    with Study.load(folder) as header:  # the space, direction and metric, from the journal
        space, direction, metric = header.space, header.direction, header.metric
    if "\0" in str(params_file):
        raise ConfigError("the path contains a NUL byte (\\0)", field="PARAMS_JSON")
    try:
        text = params_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {params_file}: {exc}", field="PARAMS_JSON") from None
    points = read_points(text, str(params_file))
    try:
        checked = [space.validate(p) for p in points]
    except SpaceError as exc:
        raise ConfigError(f"{exc}", field="PARAMS_JSON") from None
    try:
        target = Study(space, direction, "random", storage=folder, metric=metric)
    except StudyLockedError:
        drop_points(folder, checked)  # the running coordinator, the one writer, enqueues them
        click.echo(
            f"the study in {folder} is running: it enqueues {len(checked)} point(s) within "
            "about a second"
        )
        return
    with target:
        for params in checked:
            target.enqueue(params)
        waiting = len(target.queued)
    click.echo(f"enqueued {len(checked)} point(s) in {folder}; {waiting} waiting to be tried")


@cli.command()
@click.argument("study", metavar="STUDY", type=click.Path(path_type=Path))
@_guard
def repair(study: Path) -> None:
    """Keep every valid line of STUDY's journal and set the damaged ones aside.

    STUDY is a study folder or its study file. Run it when `parabo run` or `parabo status`
    reports a damaged journal line. The study must not be running. The damaged lines are
    kept in journal.damaged-N.jsonl.
    """
    from parabo.storage.journal import JOURNAL_FILE
    from parabo.storage.lock import StudyLock
    from parabo.storage.repair import repair_journal

    study_dir = _study_folder(study)
    journal = study_dir / JOURNAL_FILE
    if not journal.is_file():
        raise ConfigError(
            f"{study_dir} is not a study folder (it has no {JOURNAL_FILE})", field="STUDY"
        )
    lock = StudyLock(study_dir)
    lock.acquire()
    try:
        report = repair_journal(journal)
    finally:
        lock.release()
    click.echo(str(report))


def main() -> None:
    """Entry point of the ``parabo`` console script."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.exceptions.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
