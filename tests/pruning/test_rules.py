"""Each early-stopping rule's decisions on hand-made curves (lower values are better)."""

from __future__ import annotations

import pytest

from parabo.exceptions import ConfigError
from parabo.pruning import EarlyStopping, make_rule
from parabo.pruning.halving import ASHA, Hyperband, SuccessiveHalving, rungs
from parabo.pruning.rules import NoRule, PercentileRule, quantile


def stopped(stops: list) -> list[int]:
    return [s.trial for s in stops]


def test_quantile_matches_linear_interpolation() -> None:
    assert quantile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert quantile([1.0, 2.0], 0.25) == 1.25
    assert quantile([5.0], 0.9) == 5.0


def test_none_never_stops() -> None:
    rule = NoRule()
    assert all(rule.report(t, 1, 100.0 * t) == [] for t in range(10))


def test_median_compares_best_so_far_with_others_at_the_step() -> None:
    rule = PercentileRule(50.0, min_trials=3)
    for t, values in enumerate([[1.0, 0.8, 0.6], [2.0, 1.0, 0.7], [3.0, 1.2, 0.9]]):
        for step, v in enumerate(values, start=1):
            assert rule.report(t, step, v) == []  # fewer than 3 others so far
    # trial 3: at step 1 the others' median is 2.0 -> 1.5 goes on; at step 2 its best (1.5)
    # is worse than the median (1.0) of the others' best by step 2
    assert rule.report(3, 1, 1.5) == []
    stops = rule.report(3, 2, 1.6)
    assert stopped(stops) == [3] and "median" in stops[0].why
    # a trial better than the median goes on
    assert rule.report(4, 1, 0.1) == [] and rule.report(4, 2, 0.1) == []


def test_median_counts_only_trials_that_reached_the_step() -> None:
    rule = PercentileRule(50.0, min_trials=2)
    rule.report(0, 1, 1.0)
    rule.report(1, 1, 1.0)
    rule.report(1, 5, 0.1)  # trial 1 jumped to step 5; trial 0 did not reach it
    assert rule.report(2, 5, 9.0) == []  # only one other trial reached step 5
    rule.report(0, 6, 0.2)
    assert stopped(rule.report(3, 5, 9.0)) == [3]


def test_percentile_warmup_and_min() -> None:
    rule = PercentileRule(25.0, warmup=2, min=3, min_trials=1)
    for step in range(1, 6):
        rule.report(0, step, 1.0)
    assert rule.report(1, 1, 50.0) == []  # warm-up
    assert rule.report(1, 2, 50.0) == []  # warm-up
    assert rule.report(1, 2.5, 50.0) == []  # below min
    assert stopped(rule.report(1, 3, 50.0)) == [1]


def test_percentile_25_keeps_only_the_best_quarter() -> None:
    rule = PercentileRule(25.0, min_trials=4)
    for t, v in enumerate([1.0, 2.0, 3.0, 4.0]):
        rule.report(t, 1, v)
    assert stopped(rule.report(4, 1, 2.0)) == [4]  # 25th percentile of 1..4 is 1.75
    assert rule.report(5, 1, 1.5) == []


def test_rungs() -> None:
    assert rungs(1, 81, 3) == [1.0, 3.0, 9.0, 27.0]
    assert rungs(2, 8, 2) == [2.0, 4.0]


def test_asha_stops_outside_the_top_third_of_each_rung() -> None:
    rule = ASHA(min=1, max=27, eta=3)
    assert rule.report(0, 1, 5.0) == []  # first at the rung: goes on
    assert rule.report(1, 1, 4.0) == []  # better than the cut-off
    assert stopped(rule.report(2, 1, 6.0)) == [2]
    # between rungs nothing is decided
    assert rule.report(1, 2, 100.0) == []
    # rung 3: the value at the first report at or past it counts
    assert rule.report(1, 3.5, 1.0) == []
    assert stopped(rule.report(0, 3, 2.0)) == [0]


def test_asha_decides_each_rung_crossed_by_a_coarse_report() -> None:
    rule = ASHA(min=1, max=27, eta=3)
    rule.report(0, 1, 1.0)
    rule.report(0, 3, 1.0)
    rule.report(1, 1, 0.5)
    rule.report(1, 3, 0.5)
    assert stopped(rule.report(2, 9, 2.0)) == [2]  # crossed rungs 1 and 3 at once


def test_successive_halving_waits_for_the_whole_rung() -> None:
    rule = SuccessiveHalving(min=1, max=9, eta=3, trials_per_bracket=3)
    assert rule.report(0, 1, 3.0) == []
    assert rule.report(1, 1, 1.0) == []
    stops = rule.report(2, 1, 2.0)  # the rung is complete: only the best one goes on
    assert sorted(stopped(stops)) == [0, 2]
    assert "bracket 0" in stops[0].why
    # rung 3 of bracket 0 has one survivor: it goes on
    assert rule.report(1, 3, 0.5) == []
    # bracket 1 (trials 3..5): a trial that fails before the rung is not waited for
    assert rule.report(3, 1, 1.0) == []
    assert rule.report(4, 1, 2.0) == []  # trial 5 still runs: the rung waits
    assert stopped(rule.done(5)) == [4]  # 2 reached the rung: the best max(1, 2 // 3) goes on


def test_successive_halving_decides_when_the_last_member_finishes() -> None:
    rule = SuccessiveHalving(min=1, max=9, eta=2, trials_per_bracket=4)
    for t, v in [(0, 4.0), (1, 3.0), (2, 2.0)]:
        assert rule.report(t, 1, v) == []
    # trial 3 finished without reaching the rung: 3 reached it, the best 3 // 2 = 1 goes on
    assert sorted(stopped(rule.done(3))) == [0, 1]
    # trials dropped at rung 1 are not counted at rung 2 (else trial 2 would rank second)
    assert rule.report(0, 2, 0.0) == []
    assert rule.report(2, 2, 5.0) == []


def test_hyperband_spreads_trials_and_compares_within_brackets() -> None:
    rule = Hyperband(min=1, max=27, eta=3)
    counts = [0] * len(rule.brackets)
    for t in range(1000):
        counts[rule.bracket(t)] += 1
    assert counts[0] > counts[1] > counts[-1] > 0
    assert [b.rungs[0] if b.rungs else None for b in rule.brackets] == [1.0, 3.0, 9.0, None]
    zero = [t for t in range(100) if rule.bracket(t) == 0][:3]
    last = [t for t in range(100) if rule.bracket(t) == len(rule.brackets) - 1][:2]
    assert rule.report(zero[0], 1, 1.0) == []
    assert rule.report(zero[1], 1, 0.5) == []
    assert stopped(rule.report(zero[2], 1, 9.0)) == [zero[2]]
    # the last bracket starts at max: nothing in it is ever stopped
    assert rule.report(last[0], 1, 0.1) == [] and rule.report(last[1], 1, 99.0) == []


def test_make_rule_and_defaults() -> None:
    sha = make_rule(EarlyStopping("successive_halving", min=1, max=27, eta=3))
    assert isinstance(sha, SuccessiveHalving) and sha.size == 27
    assert isinstance(make_rule(EarlyStopping("median")), PercentileRule)
    rule = make_rule(EarlyStopping("percentile"))
    assert isinstance(rule, PercentileRule) and rule.percentile == 25.0


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"rule": "fastest"}, "early_stopping.rule"),
        ({"rule": "asha"}, "early_stopping.max"),
        ({"rule": "asha", "max": 10, "min": 20}, "early_stopping.max"),
        ({"rule": "median", "eta": 3}, "early_stopping.eta"),
        ({"rule": "asha", "max": 10, "percentile": 5}, "early_stopping.percentile"),
        ({"rule": "percentile", "percentile": 100}, "early_stopping.percentile"),
        ({"rule": "asha", "max": 10, "eta": 1}, "early_stopping.eta"),
        ({"rule": "median", "min_trials": 0}, "early_stopping.min_trials"),
        ({"rule": "asha", "max": 10, "trials_per_bracket": 3}, "early_stopping.trials_per_bracket"),
        ({"rule": "median", "warmup": -1}, "early_stopping.warmup"),
        ({"rule": "median", "speed": 1}, "early_stopping.speed"),
    ],
)
def test_settings_are_validated_per_rule(settings: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        EarlyStopping.of(settings)
    assert info.value.field == field
