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
    from parabo.campaign import is_campaign_file
    from parabo.config import parse_duration, parse_study, read_file, with_overrides
    from parabo.display import ProgressDisplay
    from parabo.optimize import run_study

    data = read_file(study_file)
    if is_campaign_file(data):
        for flag, value in (("--sampler", sampler), ("--seed", seed), ("--batch", batch)):
            if value is not None:
                raise ConfigError("not for a campaign: set it in the study template", field=flag)
        _run_campaign(
            study_file,
            data,
            pool={"workers": workers, "backend": backend},
            per_study={
                "trials": trials,
                "timeout": timeout,
                "max_time": max_time,
                "target": target,
                "retries": retries,
                "cache": cache,
                "stop_grace": stop_grace,
            },
            storage=storage,
            quiet=quiet,
        )
        return
    cfg, base_dir = parse_study(data, study_file.parent), study_file.parent.resolve()
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


def _run_campaign(
    path: Path,
    data: Any,
    pool: dict[str, Any],
    per_study: dict[str, Any],
    storage: str | None,
    quiet: bool,
) -> None:
    """``parabo run CAMPAIGN``: every study of the campaign on one pool of workers."""
    from parabo.campaign import load_campaign_file
    from parabo.campaign_run import run_campaign
    from parabo.display import CampaignDisplay

    data = dict(data)
    if any(v is not None for v in pool.values()):
        data["run"] = {
            **dict(data.get("run") or {}),
            **{k: v for k, v in pool.items() if v is not None},
        }
    if any(v is not None for v in per_study.values()):
        data["per_study"] = {
            **dict(data.get("per_study") or {}),
            **{k: v for k, v in per_study.items() if v is not None},
        }
    if storage is not None:
        data["storage"] = str(Path(storage).resolve())
    campaign = load_campaign_file(path, data)
    display = CampaignDisplay(quiet=quiet)
    display.on_campaign_start(campaign)
    summary = run_campaign(campaign, listener=display)
    display.on_campaign_stop(campaign, summary)
    stopped = summary.interrupted
    if stopped is not None:
        sys.exit(ExitCode.SIGTERM if stopped.signal == signal.SIGTERM else ExitCode.SIGINT)
    failed = [
        f"{cell.label}: {s.message or 'too many trials failed in a row'}"
        for cell, s in zip(campaign.cells, summary.summaries, strict=True)
        if s.stop_reason == StopReason.FAILURES
    ]
    if not any(s.n_complete for s in summary.summaries) and any(
        s.n_failed for s in summary.summaries
    ):
        failed.append("no trial of any study succeeded; see `parabo status` of the campaign")
    if failed:
        _fail("; ".join(failed), ExitCode.FAILED)


def _open(study: Path) -> Any:
    """The study in a folder, or in the folder a study file names (as ``parabo run`` finds it)."""
    from parabo.study import Study

    return Study.load(_study_folder(study))


def _resource(study: Path) -> str:
    """What a step is called: the study file's ``early_stopping.resource``, else ``step``."""
    if study.is_file():
        from parabo.config import load_study_file

        cfg, _ = load_study_file(study)
        if cfg.early_stopping is not None:
            return cfg.early_stopping.resource
    return "step"


def _study_folder(study: Path) -> Path:
    if "\0" in str(study):
        raise ConfigError("the path contains a NUL byte (\\0)", field="STUDY")
    if study.is_file():
        from parabo.campaign import is_campaign_file, load_campaign_file
        from parabo.config import parse_study, read_file, storage_folder

        data = read_file(study)
        if is_campaign_file(data):
            return load_campaign_file(study, data).folder
        return storage_folder(parse_study(data, study.parent), study.parent.resolve())
    return study


@cli.command()
@click.argument("study_dir", metavar="STUDY", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the progress record as JSON.")
@_guard
def status(study_dir: Path, as_json: bool) -> None:
    """Show the progress of STUDY, a study folder or its study file (safe while it runs)."""
    from parabo.campaign import is_campaign_folder
    from parabo.results import progress_record

    if is_campaign_folder(_study_folder(study_dir)):
        _campaign_status(_study_folder(study_dir), as_json)
        return
    study = _open(study_dir)
    record = progress_record(study)
    if as_json:
        click.echo(json.dumps(record, indent=2))
        return
    direction = record["direction"]
    if isinstance(direction, list):
        direction = ", ".join(
            f"{d} {n}" for n, d in zip(record["objectives"], direction, strict=True)
        )
    click.echo(f"study {record['study']} ({direction}) in {study_dir}")
    pruned = f", pruned {record['pruned']}" if record["pruned"] or record["reports"] else ""
    if record["paused"] or record["promotions"]:
        pruned += f", paused {record['paused']} (promotions {record['promotions']})"
    click.echo(
        f"  completed {record['completed']}{pruned}, failed {record['failed']}, "
        f"running or interrupted {record['running']}"
    )
    if record["reports"]:
        stopping = sum(1 for t in study.pending if study.stop_decided(t) is not None)
        told = f"; {stopping} running trials told to stop" if stopping else ""
        click.echo(f"  reports {record['reports']}{told}")
    if "feasible" in record:
        click.echo(f"  feasible {record['feasible']} of {record['completed']} completed")
    if "pareto_size" in record and record["reference_point"] is not None:
        ref = ", ".join(f"{x:.6g}" for x in record["reference_point"])
        origin = (
            "the study's" if record["reference_point_from"] == "study" else "derived from the front"
        )
        click.echo(
            f"  Pareto front {record['pareto_size']} trials, hypervolume "
            f"{record['hypervolume']:.6g} (reference point [{ref}], {origin})"
        )
    elif "pareto_size" in record:
        click.echo("  Pareto front: no feasible completed trial yet")
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


def _campaign_status(folder: Path, as_json: bool) -> None:
    """One line per study of a campaign: state, counts, best value, share of the workers."""
    from parabo.campaign import cell_rows, open_cells

    record, _ = open_cells(folder)
    rows = list(cell_rows(folder))
    if as_json:
        click.echo(json.dumps({"campaign": record.get("name"), "studies": rows}, indent=2))
        return
    keys = [str(k) for k in record.get("keys", [])]
    click.echo(f"campaign {record.get('name')!r} in {folder}: {len(rows)} studies")
    header = [*keys, "state", "completed", "failed", "running", "best", "workers"]
    table = [
        [
            *(str(r.get(k)) for k in keys),
            str(r["state"]),
            str(r["completed"]),
            str(r["failed"]),
            str(r["running"]),
            "-" if r["best"] is None else f"{r['best']:.6g}",
            f"{100 * r['worker_share']:.0f}%",
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
    click.echo("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in table:
        click.echo("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


@cli.command()
@click.argument("study_dir", metavar="STUDY", type=click.Path(path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print as JSON (id, value, params, metrics; the pareto.json record for several objectives).",
)
@_guard
def best(study_dir: Path, as_json: bool) -> None:
    """Print the best trial of STUDY, a study folder or its study file (of each study of a campaign; the Pareto front for several objectives)."""
    from parabo.campaign import is_campaign_folder, open_cells

    if is_campaign_folder(_study_folder(study_dir)):
        _, cells = open_cells(_study_folder(study_dir))
        found = [
            {
                "study": cell["folder"],
                **cell["values"],
                "id": b.id,
                "value": b.value,
                "params": dict(b.params),
            }
            for cell, st in cells
            if st is not None and (b := st.best) is not None
        ]
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        for row in found:
            click.echo(f"{row['study']}: best value {row['value']:.10g} (trial {row['id']})")
            for k, v in row["params"].items():
                click.echo(f"  {k} = {v}")
        return
    study = _open(study_dir)
    if study.goal.multi:
        _print_front(study, study_dir, as_json)
        return
    b = study.best
    if b is None:
        if study.goal.constraints and study.n_complete:
            raise ParaboError(
                f"the study in {study_dir} has no feasible trial yet ({study.n_complete} "
                "completed, all outside the constraints; see `parabo export`)"
            )
        raise ParaboError(f"the study in {study_dir} has no completed trial yet")
    if as_json:
        record: dict[str, Any] = {
            "id": b.id,
            "value": b.value,
            "params": dict(b.params),
            "metrics": dict(b.metrics),
        }
        if study.goal.constraints:
            record["feasible"] = b.feasible
        click.echo(json.dumps(record, indent=2))
        return
    click.echo(f"best value {b.value:.10g} (trial {b.id})")
    for k, v in b.params.items():
        click.echo(f"  {k} = {v}")


def _print_front(study: Any, study_dir: Path, as_json: bool) -> None:
    """The Pareto front as a table (one row per trial: id, objectives, parameters), or JSON."""
    from parabo.results import pareto_record

    front = study.pareto_front()
    if not front:
        what = "feasible completed" if study.goal.constraints and study.n_complete else "completed"
        raise ParaboError(f"the study in {study_dir} has no {what} trial yet")
    if as_json:
        click.echo(json.dumps(pareto_record(study), indent=2, default=str))
        return
    names = list(study.goal.names)
    heads = ["trial"] + [
        f"{n} ({d[:3]})" for n, d in zip(names, study.goal.directions, strict=True)
    ]
    heads += list(study.space)
    rows = [
        [str(t.id)]
        + [f"{v:.6g}" for v in t.values]
        + [f"{v:.6g}" if isinstance(v, float) else str(v) for v in t.params.values()]
        for t in sorted(front, key=lambda t: t.values)
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    click.echo(f"Pareto front: {len(front)} trials of {study.n_complete} completed")
    click.echo("  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)))
    for r in rows:
        click.echo("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))


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
    """Write every trial of STUDY (a study folder or its study file) as a table, one row per trial.

    A study whose trials reported as they went also gets its curves, one row per report,
    in curves.<format> beside the trials table (named after the output with -o).
    """
    from parabo.campaign import is_campaign_folder
    from parabo.results import export_curves, export_trials

    folder = _study_folder(study_dir)
    if is_campaign_folder(folder):
        from parabo.campaign import export_campaign

        path, n = export_campaign(folder, fmt, output)
        click.echo(f"wrote {n} trials to {path}")
        return
    study = _open(study_dir)
    path = export_trials(study, fmt, output)
    click.echo(f"wrote {len(study.trials)} trials to {path}")
    if study.reports:
        target = (
            None if output is None else output.with_name(f"{output.stem}-curves{output.suffix}")
        )
        curves = export_curves(study, fmt, target, _resource(study_dir))
        click.echo(f"wrote {len(study.reports)} reports to {curves}")


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
@click.argument("study_dir", metavar="STUDY", type=click.Path(path_type=Path))
@click.argument("kind", metavar="KIND")
@click.option(
    "--format", "fmt", default="png", show_default=True, help="png | svg | html (interactive)."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: plots/KIND.FORMAT in the study folder).",
)
@click.option(
    "--params", help="For contour: the two parameters, e.g. x,lr (default: the first two)."
)
@_guard
def plot(study_dir: Path, kind: str, fmt: str, output: Path | None, params: str | None) -> None:
    """Draw one plot of STUDY (a study folder or its study file); safe while it runs.

    KIND is history, importance, parallel, slice, contour, timeline, curves (learning
    curves, when trials report steps) or pareto (the Pareto front, with several objectives).
    """
    from parabo import plot as plots

    fmt = fmt.lower()
    if fmt not in plots.FORMATS:
        raise ConfigError(
            f"must be one of {', '.join(plots.FORMATS)}, got {fmt!r}", field="--format"
        )
    options: dict[str, Any] = {}
    if params is not None:
        if kind != "contour":
            raise ConfigError("only the contour plot takes --params", field="--params")
        names = tuple(n.strip() for n in params.split(","))
        if len(names) != 2 or not all(names):
            raise ConfigError(
                f"give two names separated by a comma, e.g. x,lr; got {params!r}", field="--params"
            )
        options["params"] = names
    folder = _study_folder(study_dir)
    engine = "plotly" if fmt == "html" else "matplotlib"
    fig = plots.figure(folder, kind, engine=engine, **options)
    if output is None:
        output = folder / "plots" / f"{kind}.{fmt}"
        output.parent.mkdir(exist_ok=True)
    click.echo(f"wrote {plots.save(fig, output, fmt)}")


@cli.command()
@click.argument(
    "studies", metavar="STUDY...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option(
    "--optimum", type=float, help="The problem's best value: plot the regret |best - optimum|."
)
@click.option("--labels", help="Names of the studies in the legend, separated by commas.")
@click.option(
    "--format", "fmt", default="png", show_default=True, help="png | svg | html (interactive)."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: compare.FORMAT in the current folder).",
)
@_guard
def compare(
    studies: tuple[Path, ...],
    optimum: float | None,
    labels: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Compare several studies of one problem: the best so far (or the regret) against time.

    For example an asynchronous and a synchronous (--batch) run of the same study file.
    """
    from parabo import plot as plots

    fmt = fmt.lower()
    if fmt not in plots.FORMATS:
        raise ConfigError(
            f"must be one of {', '.join(plots.FORMATS)}, got {fmt!r}", field="--format"
        )
    names = None if labels is None else [n.strip() for n in labels.split(",")]
    if names is not None and len(names) != len(studies):
        raise ConfigError(
            f"give one name per study: {len(names)} names for {len(studies)} studies",
            field="--labels",
        )
    engine = "plotly" if fmt == "html" else "matplotlib"
    folders = [_study_folder(s) for s in studies]
    fig = plots.compare(folders, labels=names, optimum=optimum, engine=engine)
    click.echo(f"wrote {plots.save(fig, output or Path(f'compare.{fmt}'), fmt)}")


@cli.command()
@click.argument("study_dir", metavar="STUDY", type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: report.html in the study or campaign folder).",
)
@click.option(
    "--studies",
    is_flag=True,
    help="For a campaign: also write each study's own report (in its folder), linked from the page.",
)
@_guard
def report(study_dir: Path, output: Path | None, studies: bool) -> None:
    """Write one self-contained HTML report of STUDY: every plot, the summary, all trials.

    For a campaign (its folder or its file): the matrix of every study's best value, state
    and counts, every study's best so far against time, and each study's summary. The file
    embeds every script it uses and opens with no network.
    """
    from parabo.campaign import CAMPAIGN_FILE, is_campaign_folder
    from parabo.report import write_report

    folder = _study_folder(study_dir)
    if is_campaign_folder(folder):
        from parabo.report_campaign import write_campaign_report

        click.echo(f"wrote {write_campaign_report(folder, output, studies=studies)}")
        return
    if studies:
        raise ConfigError("is for a campaign; STUDY is one study", field="--studies")
    if study_dir.is_file():
        from parabo.campaign import is_campaign_file
        from parabo.config import read_file

        if is_campaign_file(read_file(study_dir)):
            raise ConfigError(
                f"the campaign has not run yet: {folder} holds no {CAMPAIGN_FILE}; "
                f"run `parabo run {study_dir}` first",
                field="STUDY",
            )
    click.echo(f"wrote {write_report(folder, output)}")


@cli.command()
@click.argument("study_dir", metavar="STUDY", type=click.Path(path_type=Path))
@click.option(
    "--port",
    type=int,
    help="Port to serve on (default 8080, or a free one if taken; 0: a free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback is reachable by others (a warning says so).",
)
@_guard
def dashboard(study_dir: Path, port: int | None, host: str) -> None:
    """Serve a live page of STUDY (a study folder or its study file), updated while it runs.

    Reads the study only; stop it with Ctrl-C.
    """
    from parabo.dashboard import serve

    serve(_study_folder(study_dir), host=host, port=port, announce=lambda line: click.echo(line))


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
