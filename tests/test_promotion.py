"""ASHA's promotion variant: trials pause at their rung, the best are resumed from checkpoints."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import psutil
import pytest

from parabo import EarlyStopping, StopRule, Study, TrialState
from parabo.exceptions import ConfigError
from parabo.objectives import CommandObjective, PythonObjective
from parabo.optimize import run_scheduler
from parabo.pruning import make_rule
from parabo.pruning.promotion import ASHAPromotion, HyperbandPromotion
from parabo.storage.events import Paused, Resumed, Started, StopDecided, decode, encode

SPACE = {"x": {"type": "float", "low": 0, "high": 1}}
PROMOTION = EarlyStopping("asha", min=1, max=9, eta=3, variant="promotion")


def _level(budget: float | None) -> int:
    return {1.0: 0, 3.0: 1, 9.0: 2}[budget]  # type: ignore[index]


def _check_asha(study: Study, trials: int, every_step: bool = True) -> None:
    """Counts and curves a promotion study must have, however it was run or resumed."""
    states = Counter(t.state for t in study.trials)
    assert len(study.trials) == trials
    assert states[TrialState.COMPLETE] + states[TrialState.PAUSED] == trials, states
    assert states[TrialState.COMPLETE] >= 1 and not study.pending
    for t in study.trials:
        # one promotion per rung climbed, never two: nothing counted twice
        assert t.promotions == _level(t.budget), t
        curve = [r.step for r in study.curve(t)]
        steps = range(1, int(t.budget or 0) + 1) if every_step else [1, 3][: t.promotions + 1]
        assert curve == [float(s) for s in steps], (t.id, curve)
        if t.state is TrialState.COMPLETE:
            assert t.budget == 9.0 and (t.step == 9.0 or not every_step)
        else:
            assert t.budget in (1.0, 3.0) and t.stopped == f"paused at its budget {t.budget:g}"
            assert t.value == study.curve(t)[-1].value
    assert study.n_promotions == sum(t.promotions for t in study.trials)
    # a trial promoted from rung k was among the best third of those there when promoted
    at_rung = Counter(_level(t.budget) for t in study.trials)
    reached = [sum(n for k, n in at_rung.items() if k >= level) for level in range(3)]
    assert reached[0] == trials and reached[1] <= reached[0] and reached[2] <= reached[1]


def _ran(study: Study) -> dict[int, list[int]]:
    """The steps each trial's objective computed (its ``ran.txt``)."""
    assert study.folder is not None
    out = {}
    for t in study.trials:
        ran = study.folder / "trials" / f"{t.id:06d}" / "ran.txt"
        out[t.id] = [int(s) for s in ran.read_text().split()] if ran.exists() else []
    return out


def test_rule_promotes_the_best_third_of_a_rung_top_down() -> None:
    rule = ASHAPromotion(min=1, max=9, eta=3)
    assert rule.budget(5) == 1.0
    values = {0: 0.5, 1: 0.9, 2: 0.7, 3: 0.8, 4: 0.6, 5: 0.95}
    for t, v in values.items():
        rule.report(t, 1.0, v)
    paused = {t: 1.0 for t in values}
    first = rule.promote(paused)
    assert first is not None and (first.trial, first.budget) == (0, 3.0)
    del paused[0]
    second = rule.promote(paused)  # 6 at rung 1: the best 2 go on
    assert second is not None and second.trial == 4
    del paused[4]
    assert rule.promote(paused) is None
    # a trial at rung 3 comes first once three reached it
    for t, v in [(0, 0.4), (4, 0.3)]:
        rule.report(t, 3.0, v)
    rule.report(6, 1.0, 0.1)
    rule.report(6, 3.0, 0.2)
    upper = rule.promote({**paused, 0: 3.0, 4: 3.0, 6: 3.0})
    assert upper is not None and (upper.trial, upper.budget) == (6, 9.0)
    assert "best 1/3 of the 3 trials" in upper.why


def test_hyperband_promotion_starts_brackets_at_their_rung() -> None:
    rule = HyperbandPromotion(min=1, max=9, eta=3)
    budgets = {rule.budget(t) for t in range(200)}
    assert budgets == {1.0, 3.0, 9.0}
    counts = Counter(rule.bracket(t) for t in range(300))
    assert counts[0] > counts[1] > counts[2] > 0
    in_first = [t for t in range(40) if rule.bracket(t) == 0][:3]
    for t, v in zip(in_first, [0.3, 0.2, 0.1], strict=True):
        rule.report(t, 1.0, v)
    choice = rule.promote({t: 1.0 for t in in_first})
    assert choice is not None and choice.trial == in_first[2] and choice.budget == 3.0


def test_variant_is_validated() -> None:
    assert isinstance(make_rule(PROMOTION), ASHAPromotion)
    assert isinstance(
        make_rule(EarlyStopping("hyperband", max=9, variant="promotion")), HyperbandPromotion
    )
    with pytest.raises(ConfigError, match="early_stopping.variant: is a setting of asha"):
        EarlyStopping("median", variant="promotion")
    with pytest.raises(ConfigError, match="early_stopping.variant: must be one of"):
        EarlyStopping("asha", max=9, variant="pause")


def test_events_round_trip() -> None:
    for event in (
        Paused(3, 0.5, 3.0, 3.0, 2, 12.0, 9.0, "w"),
        Resumed(3, 9.0, "asha promotion: ...", 13.0),
        Started(3, 14.0, "w", 1, 9.0),
        StopDecided(3, 3.0, "paused at its budget 3", 11.0, True),
    ):
        assert decode(json.loads(json.dumps(encode(event)))) == event
    assert "budget" not in encode(Started(3, 1.0))  # a study without budgets writes what it did


@pytest.mark.parametrize("backend", ["inline", "thread", "process", "simulated"])
def test_promoted_trials_resume_from_their_checkpoint(tmp_path: Path, backend: str) -> None:
    study = Study(SPACE, sampler="random", seed=1, storage=tmp_path / "s")
    run_scheduler(
        study,
        PythonObjective("curves_objectives:checkpointed"),
        stop=StopRule(18),
        workers=3,
        backend=backend,
        early_stopping=PROMOTION,
    )
    _check_asha(study, 18)
    assert study.n_promotions >= 3 and study.n_paused >= 9
    if backend != "simulated":  # simulated trials run ahead, in the coordinator
        for tid, steps in _ran(study).items():  # each step computed once: resumed, not rerun
            assert steps == list(range(1, int(study.trials[tid].budget or 0) + 1)), (tid, steps)
    study.close()
    again = Study.load(tmp_path / "s")  # the journal replays to the same trials
    assert [(t.state, t.budget, t.promotions, t.value) for t in again.trials] == [
        (t.state, t.budget, t.promotions, t.value) for t in study.trials
    ]
    assert again.n_paused == study.n_paused and again.n_promotions == study.n_promotions


def test_without_checkpoints_a_promoted_trial_runs_again_to_its_budget(tmp_path: Path) -> None:
    study = Study(SPACE, sampler="random", seed=2, storage=tmp_path / "s")
    run_scheduler(
        study,
        PythonObjective("curves_objectives:from_scratch"),
        stop=StopRule(12),
        workers=1,
        backend="inline",
        early_stopping=PROMOTION,
    )
    _check_asha(study, 12)  # the steps it had reported are not recorded twice
    for tid, steps in _ran(study).items():
        t = study.trials[tid]
        rungs = [1, 3, 9][: _level(t.budget) + 1]
        assert steps == [s for r in rungs for s in range(1, r + 1)]


def test_an_objective_that_only_returns_is_paused_with_its_result(tmp_path: Path) -> None:
    study = Study(SPACE, sampler="random", seed=3, storage=tmp_path / "s")
    run_scheduler(
        study,
        PythonObjective("curves_objectives:silent_budget"),
        stop=StopRule(9),
        workers=1,
        backend="inline",
        early_stopping=PROMOTION,
    )
    _check_asha(study, 9, every_step=False)  # its result at each budget is its report there


def test_an_objective_that_ignores_its_budget_is_paused_when_it_passes_it(
    tmp_path: Path,
) -> None:
    # `curve` runs `steps` steps whatever its budget, and obeys should_prune()
    space = {
        **SPACE,
        "steps": {"type": "fixed", "value": 9},
        "sleep": {"type": "fixed", "value": 0.005},
    }
    study = Study(space, sampler="random", seed=4, storage=tmp_path / "s")
    run_scheduler(
        study,
        PythonObjective("curves_objectives:curve"),
        stop=StopRule(9),
        workers=2,
        backend="process",
        early_stopping=PROMOTION,
    )
    paused = study.paused
    assert paused and study.n_complete >= 1
    for t in paused:
        # stopped after its budget: the reports past it are not part of its curve
        assert t.step == t.budget and [r.step for r in study.curve(t)][-1] == t.budget
        assert t.stopped is not None and t.stopped.startswith("paused at its budget")


COMMAND = r"""
import json, os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # stubborn: only SIGKILL stops it
budget = int(os.environ["PARABO_BUDGET"])
assert sys.argv[1] == str(budget) and sys.argv[2] == os.environ["PARABO_CHECKPOINT_DIR"]
x = json.load(open(os.environ["PARABO_PARAMS_FILE"]))["x"]
saved = os.path.join(sys.argv[2], "state.json")
done = json.load(open(saved))["epoch"] if os.path.exists(saved) else 0
overrun = x > 0.5  # these go on past their budget until they are stopped
last = 9 if overrun else budget
for epoch in range(done + 1, last + 1):
    with open("ran.txt", "a") as f:
        f.write(f"{epoch}\n")
    print(json.dumps({"epoch": epoch, "loss": x + 1 / epoch}), flush=True)
    json.dump({"epoch": epoch}, open(saved + ".tmp", "w"))
    os.replace(saved + ".tmp", saved)
    time.sleep(0.05 if overrun else 0.0)
print(json.dumps({"loss": x + 1 / last}))
"""


def test_a_command_gets_its_budget_and_checkpoint_folder(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(COMMAND)
    study = Study(SPACE, sampler="random", seed=5, storage=tmp_path / "s", metric="loss")
    for x in (0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.7, 0.8, 0.9):
        study.enqueue({"x": x})
    run_scheduler(
        study,
        CommandObjective(
            (sys.executable, str(script), "{budget}", "{checkpoint_dir}"),
            kill_grace=0.2,
            report_key="epoch",
        ),
        stop=StopRule(9),
        workers=2,
        backend="process",
        early_stopping=EarlyStopping(
            "asha", resource="epoch", min=1, max=9, eta=3, variant="promotion"
        ),
    )
    trials = study.trials
    assert not [t for t in trials if t.state is TrialState.FAILED], [t.error for t in trials]
    # the best (x = 0.1) reached the full budget through two promotions, from its checkpoint
    best = trials[0]
    assert best.state is TrialState.COMPLETE and best.promotions == 2 and best.budget == 9.0
    ran = (tmp_path / "s" / "trials" / "000000" / "ran.txt").read_text().split()
    assert ran == [str(s) for s in range(1, 10)]
    for t in trials[6:]:  # the overrunning ones were stopped past their budget, SIGKILLed
        assert t.state is TrialState.PAUSED and t.budget == 1.0 and t.step == 1.0
    assert not [
        p for p in psutil.process_iter(["cmdline"]) if str(script) in (p.info["cmdline"] or [])
    ]


@pytest.mark.parametrize("objective", ["checkpointed", "from_scratch"])
def test_simulated_time_counts_only_the_steps_a_run_covers(tmp_path: Path, objective: str) -> None:
    from parabo.executors.simulated import SimulatedExecutor
    from parabo.scheduler import Scheduler

    study = Study(SPACE, sampler="random", seed=0, storage=tmp_path / "s")
    for x in (0.1, 0.5, 0.9):
        study.enqueue({"x": x})
    executor = SimulatedExecutor(
        PythonObjective(f"curves_objectives:{objective}"), 1, runtime=90.0, overhead=0
    )
    Scheduler(
        study, executor, stop=StopRule(3), early_stopping=PROMOTION, handle_signals=False
    ).run()
    assert [t.budget for t in study.trials] == [3.0, 1.0, 1.0]
    # a full run (9 steps) takes 90 s: rung 1 costs 10 s; then 1 -> 3 costs 20 s from the
    # checkpoint, 30 s from the start
    busy = sorted(r.end - r.start for r in executor.records)
    resumed = 20.0 if objective == "checkpointed" else 30.0
    assert busy == [pytest.approx(10.0)] * 3 + [pytest.approx(resumed)]
