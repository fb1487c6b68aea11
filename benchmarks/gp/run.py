"""Run one optimizer on one problem for some seeds; write one JSON per run under results/raw/.

Usage (from the repository root, in the benchmark environment):

    benchmarks/.venv/bin/python benchmarks/gp/run.py --method parabo --problem branin \
        --seeds 0-9 --budget 100 [--pending 4] [--option pending=lp]

Methods: parabo, random, tpe (Optuna TPE, multivariate + constant liar),
optuna_gp (Optuna GPSampler), skopt (scikit-optimize GP), botorch (SingleTaskGP +
qLogNEI; float spaces only). ``--pending q``
(parabo only) simulates ``q`` busy workers: every ask sees ``q`` trials in
flight, and the oldest is told first.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from problems import PROBLEMS, Problem, optuna_params, skopt_dimensions, skopt_params  # noqa: E402

RAW = Path(__file__).parent / "results" / "raw"


def run_parabo(prob: Problem, seed: int, budget: int, q: int, options: dict[str, Any]) -> dict:
    from parabo.samplers.gp import GPSampler
    from parabo.space import Space
    from parabo.trial import Trial, TrialState

    space = Space(prob.space)
    options = dict(options)
    # "prior.<field>=value" options set a field of the MAP-fit prior
    prior = {k[6:]: options.pop(k) for k in list(options) if k.startswith("prior.")}
    attrs = {k[5:]: options.pop(k) for k in list(options) if k.startswith("attr.")}
    sampler = GPSampler(seed=seed, **options)
    for k, v in attrs.items():
        setattr(sampler, k, v)
    if prior:
        from dataclasses import replace

        sampler.prior = replace(sampler.prior, **prior)
    history: list[Trial] = []
    pending: list[Trial] = []
    values, params, ask_s, min_dist, on_face = [], [], [], [], []
    next_id = 0
    while len(history) < budget:
        if next_id < budget:
            t0 = time.perf_counter()
            p = sampler.ask(space, history, pending, 1)[0]
            ask_s.append(time.perf_counter() - t0)
            pending.append(Trial(next_id, p))
            next_id += 1
            u = space.to_unit_array([p])[0]
            on_face.append(int(np.any((u <= 1e-6) | (u >= 1 - 1e-6))))  # on a face of the cube
            if len(pending) > 1:
                U = space.to_unit_array([t.params for t in pending])
                diff = np.abs(U[:, None, :] - U[None, :, :]).max(axis=2)
                min_dist.append(float(diff[np.triu_indices(len(U), 1)].min()))
        if len(pending) > q or next_id >= budget:
            t = pending.pop(0)
            history.append(t.evolve(state=TrialState.COMPLETE, value=prob.f(dict(t.params))))
            values.append(history[-1].value)
            params.append(dict(t.params))
    # "params" (in the order of "values") is for callers such as seq_reach.py; main() does not store it
    return {"values": values, "params": params, "ask_s": ask_s, "min_pending_dist": min(min_dist, default=None),
            "on_face": on_face}


def run_optuna(prob: Problem, seed: int, budget: int, which: str) -> dict:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if which == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    elif which == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        sampler = optuna.samplers.GPSampler(seed=seed)
    study = optuna.create_study(sampler=sampler)
    values, ask_s = [], []
    for _ in range(budget):
        t0 = time.perf_counter()
        trial = study.ask()
        p = optuna_params(trial, prob.space)
        ask_s.append(time.perf_counter() - t0)
        v = prob.f(p)
        study.tell(trial, v)
        values.append(v)
    return {"values": values, "ask_s": ask_s}


def run_skopt(prob: Problem, seed: int, budget: int) -> dict:
    from skopt import Optimizer

    names = list(prob.space)
    opt = Optimizer(skopt_dimensions(prob.space), base_estimator="GP", n_initial_points=10, random_state=seed)
    values, ask_s = [], []
    for _ in range(budget):
        t0 = time.perf_counter()
        x = opt.ask()
        ask_s.append(time.perf_counter() - t0)
        p = skopt_params(names, x)
        v = prob.f(p)
        t0 = time.perf_counter()
        opt.tell(x, v)
        ask_s[-1] += time.perf_counter() - t0  # skopt fits in tell: count it as optimizer time
        values.append(v)
    return {"values": values, "ask_s": ask_s}


def run_botorch(prob: Problem, seed: int, budget: int) -> dict:
    """BoTorch SingleTaskGP + qLogNoisyExpectedImprovement, one point per ask (float spaces only).

    The textbook loop: inputs scaled to the unit cube (log-scaled where the space says so),
    outputs standardized by the model, 10 scrambled-Sobol points first, then
    ``optimize_acqf`` with 10 restarts from 512 raw samples; BoTorch's default priors.
    """
    import warnings

    import torch
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood
    from torch.quasirandom import SobolEngine

    warnings.filterwarnings("ignore")  # BoTorch's optimizer retries print pages of warnings
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    specs = list(prob.space.items())
    if any(s["type"] != "float" for _, s in specs):
        raise SystemExit(f"botorch runner: {prob.name} has non-float parameters")
    d = len(specs)

    def decode(u: torch.Tensor) -> dict[str, float]:
        p = {}
        for (name, s), x in zip(specs, u.tolist(), strict=True):
            if s.get("log"):
                p[name] = math.exp(math.log(s["low"]) + x * (math.log(s["high"]) - math.log(s["low"])))
            else:
                p[name] = s["low"] + x * (s["high"] - s["low"])
        return p

    bounds = torch.stack([torch.zeros(d), torch.ones(d)]).double()
    X = SobolEngine(d, scramble=True, seed=seed).draw(10).double()
    Y = torch.tensor([[-prob.f(decode(x))] for x in X]).double()  # BoTorch maximizes
    values = [-float(y) for y in Y[:, 0]]
    ask_s = [0.0] * len(values)
    while len(values) < budget:
        t0 = time.perf_counter()
        model = SingleTaskGP(X, Y, outcome_transform=Standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        acq = qLogNoisyExpectedImprovement(model, X_baseline=X, prune_baseline=True)
        x, _ = optimize_acqf(acq, bounds=bounds, q=1, num_restarts=10, raw_samples=512)
        ask_s.append(time.perf_counter() - t0)
        v = prob.f(decode(x[0]))
        X = torch.cat([X, x])
        Y = torch.cat([Y, torch.tensor([[-v]]).double()])
        values.append(v)
    return {"values": values, "ask_s": ask_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", required=True)
    ap.add_argument("--problem", required=True)
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--pending", type=int, default=0)
    ap.add_argument("--option", action="append", default=[], help="parabo option key=value")
    ap.add_argument("--tag", default="", help="label of the configuration (default: method)")
    a = ap.parse_args()
    lo, _, hi = a.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    options: dict[str, Any] = {}
    for kv in a.option:
        k, _, v = kv.partition("=")
        try:
            options[k] = json.loads(v)
        except ValueError:
            options[k] = v
    tag = a.tag or a.method
    prob = PROBLEMS[a.problem]
    RAW.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        out = RAW / f"{tag}__{a.problem}__q{a.pending}__s{seed}.json"
        if out.exists():
            continue
        t0 = time.perf_counter()
        if a.method == "parabo":
            r = run_parabo(prob, seed, a.budget, a.pending, options)
        elif a.method in ("tpe", "optuna_gp", "random"):
            r = run_optuna(prob, seed, a.budget, a.method)
        elif a.method == "skopt":
            r = run_skopt(prob, seed, a.budget)
        elif a.method == "botorch":
            r = run_botorch(prob, seed, a.budget)
        else:
            raise SystemExit(f"unknown method {a.method}")
        r.update(
            method=a.method,
            tag=tag,
            problem=a.problem,
            seed=seed,
            pending=a.pending,
            options=options,
            budget=a.budget,
            fstar=prob.fstar,
            wall_s=time.perf_counter() - t0,
        )
        best = min(v for v in r["values"] if v is not None and math.isfinite(v))
        r.pop("params", None)
        out.write_text(json.dumps(r))
        print(
            f"{tag} {a.problem} q={a.pending} seed={seed} best={best:.6g} {r['wall_s']:.1f}s",
            flush=True,
        )


if __name__ == "__main__":
    main()
