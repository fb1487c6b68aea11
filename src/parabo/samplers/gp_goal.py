"""The GP sampler for several objectives or constraints: one GP per output, one acquisition.

:class:`GoalModels` is the part of :class:`~parabo.samplers.gp.GPSampler` that a study
with several objectives, or with constraints, uses: every objective and every
constrained metric gets its own GP over the same features (the sampler's input
transform: the unit cube, categoricals by index), each with its own
hyperparameters, refitted on the sampler's schedule and warm started. Each ask
draws a random scalarization of the objectives (:mod:`parabo.gp.multi`) and
maximizes its Monte Carlo log-EI plus the log probability of feasibility; a
single objective with constraints uses the closed-form log-EI of that objective.

Pending trials enter every output's model as the single-objective sampler does
(:func:`~parabo.gp.pending.account_for_pending`): the kriging believer (``kb``,
the default) conditions each GP on its posterior mean at the points in flight,
and a believed pending point that is believed feasible and beats the incumbent
becomes it; ``cl`` believes each pending point to be the incumbent; ``none``
only keeps pending points from being suggested again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from parabo.goals import Goal
from parabo.gp.acquisition import log_ei
from parabo.gp.candidates import features_to_unit, perturbations, random_unseen, unit_to_features
from parabo.gp.kernel import Domain
from parabo.gp.model import GP, OutputTransform, fit_theta
from parabo.gp.multi import Bound, Output, Scalarization, log_feasibility, scalarized_log_ei
from parabo.gp.optimize import is_duplicate, maximize_acquisition
from parabo.gp.pending import PendingStrategy, account_for_pending
from parabo.gp.subsets import fit_subset, posterior_subset
from parabo.pareto import non_dominated
from parabo.space import Space
from parabo.trial import Trial, TrialState

if TYPE_CHECKING:
    from parabo.samplers.gp import GPSampler

__all__ = ["GOAL_PENDING", "GoalModels"]

#: pending strategies the GP offers for several objectives or constraints
GOAL_PENDING = ("kb", "cl", "none")
#: Monte Carlo draws of the scalarized objectives per ask
_DRAWS = 64
#: the scalarization is normalized by the extent of this many non-dominated layers
_LAYERS = 3
#: share of the candidates that perturb the current front
_LOCAL_SHARE = 0.25


def check_goal_options(options: Any, goal: Goal) -> None:
    """Refuse, naming the option, what the GP does not do with several objectives or constraints."""
    if goal.simple:
        return
    from parabo.exceptions import ConfigError

    if options.acquisition != "logei":
        raise ConfigError(
            f"acquisition {options.acquisition!r} applies to one objective without "
            "constraints; use logei (the default) with several objectives or constraints",
            field="sampler.acquisition",
        )
    if options.pending not in GOAL_PENDING:
        raise ConfigError(
            f"pending {options.pending!r} applies to one objective without "
            f"constraints; use one of {', '.join(GOAL_PENDING)} with several objectives "
            "or constraints",
            field="sampler.pending",
        )


@dataclass
class _Theta:
    theta: np.ndarray = field(default_factory=lambda: np.empty(0))
    n_at_fit: int = 0


@dataclass
class _Data:
    """The completed trials as arrays: objectives ``Y (n, k)`` (minimization frame), constraints ``C (n, c)``."""

    trials: list[Trial]
    X: np.ndarray
    Y: np.ndarray
    C: np.ndarray
    feasible: np.ndarray


def _layers(Y: np.ndarray, k: int) -> np.ndarray:
    """The points of the first ``k`` non-dominated layers of ``Y (n, m)`` (the front, then the
    front of the rest, ...): a front clustered at one end still has neighbours that show the
    extent of the objectives near it."""
    rest = Y
    taken = []
    for _ in range(k):
        if rest.shape[0] == 0:
            break
        keep = non_dominated(rest)
        taken.append(rest[keep])
        rest = rest[~keep]
    return np.vstack(taken) if taken else Y


class GoalModels:
    """Per-output hyperparameters of one GP sampler, and its asks for a non-simple goal."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._thetas: dict[str, _Theta] = {}

    # ------------------------------------------------------------------ data
    @staticmethod
    def complete(history: Sequence[Trial], goal: Goal) -> list[Trial]:
        """The COMPLETE trials whose objectives and constrained metrics are all finite numbers."""
        out = []
        for t in history:
            if t.state is not TrialState.COMPLETE or t.value is None:
                continue
            values = t.values if goal.multi else (t.value,)
            cons = [t.metrics.get(c.metric) for c in goal.constraints]
            if values is None or len(values) != len(goal.directions):
                continue
            if all(np.isfinite(v) for v in values) and all(
                v is not None and np.isfinite(v) for v in cons
            ):
                out.append(t)
        return out

    def _data(self, sampler: GPSampler, space: Space, domain: Domain, trials: list[Trial]) -> _Data:
        goal = sampler.goal
        signs = np.array(goal.signs)
        Y = np.array([(t.values if goal.multi else (t.value,)) for t in trials], dtype=float)
        Y = Y.reshape(len(trials), len(signs)) * signs
        C = np.array(
            [[t.metrics[c.metric] for c in goal.constraints] for t in trials], dtype=float
        ).reshape(len(trials), len(goal.constraints))
        feasible = np.array([t.feasible for t in trials], dtype=bool)
        return _Data(trials, sampler._features(space, domain, trials), Y, C, feasible)

    # ------------------------------------------------------------------ fits
    def fit(
        self, sampler: GPSampler, space: Space, domain: Domain, data: _Data
    ) -> list[np.ndarray]:
        """Hyperparameters of every output (objectives, then constraints), refitted when due."""
        key = (repr(space.to_dict()), sampler.goal)
        if self._key != key:
            self._key, self._thetas = key, {}
        columns = [data.Y[:, j] for j in range(data.Y.shape[1])]
        columns += [data.C[:, i] for i in range(data.C.shape[1])]
        names = [f"objective {n}" for n in sampler.goal.names]
        names += [f"constraint {c.metric}" for c in sampler.goal.constraints]
        n = data.X.shape[0]
        # a single objective may be warped (its log-EI is closed form); the Monte Carlo
        # scalarization and the bounds need outputs linear in the raw values
        warps = [sampler.options.warp and not sampler.goal.multi] * data.Y.shape[1]
        warps += [False] * data.C.shape[1]
        thetas = []
        for name, y_raw, warp in zip(names, columns, warps, strict=True):
            state = self._thetas.setdefault(name, _Theta())
            interval = max(1, int(sampler.options.refit_every * state.n_at_fit))
            if not state.theta.size or n - state.n_at_fit >= interval:
                y = OutputTransform(y_raw, warp=warp)(y_raw)
                idx = fit_subset(y, sampler.options.fit_max_points)
                theta0 = state.theta if state.theta.size else None
                state.theta, _ok = fit_theta(
                    data.X[idx],
                    y[idx],
                    domain.cat,
                    theta0,
                    sampler.prior,
                    maxiter=200 if theta0 is None else 50,
                )
                state.n_at_fit = n
            thetas.append(state.theta)
        return thetas

    # ------------------------------------------------------------------ ask
    def ask(
        self,
        sampler: GPSampler,
        space: Space,
        domain: Domain,
        complete: list[Trial],
        pending: Sequence[Trial],
        forbidden: np.ndarray,
        n: int,
        rng: np.random.Generator,
    ) -> list[dict[str, Any]]:
        """``n`` suggestions, each seeing the trials in flight and the suggestions before it."""
        goal = sampler.goal
        data = self._data(sampler, space, domain, complete)
        thetas = self.fit(sampler, space, domain, data)
        cap = sampler.options.max_points
        rows = (
            posterior_subset(data.Y[:, 0], cap) if len(complete) > cap else np.arange(len(complete))
        )
        X = data.X[rows]
        objectives: list[Output] = []
        transforms: list[OutputTransform] = []
        single = not goal.multi
        for j in range(data.Y.shape[1]):
            y_raw = data.Y[rows, j]
            tr = OutputTransform(y_raw, warp=sampler.options.warp and single)
            transforms.append(tr)
            objectives.append(
                Output(
                    GP(X, tr(y_raw), thetas[j], domain.cat),
                    tr.mean + tr.sd * tr.mean2,
                    tr.sd * tr.sd2,
                )
            )
        bounds: list[Bound] = []
        for i, c in enumerate(goal.constraints):
            g_raw = data.C[rows, i]
            tr = OutputTransform(g_raw, warp=False)
            out = Output(
                GP(X, tr(g_raw), thetas[len(objectives) + i], domain.cat),
                tr.mean + tr.sd * tr.mean2,
                tr.sd * tr.sd2,
            )
            bounds.append(Bound(out, c.bound, c.kind == "max"))
        scal = None
        if goal.multi:
            ok = data.feasible if data.feasible.any() else np.ones(len(data.Y), dtype=bool)
            scal = Scalarization.draw(data.Y, rng, _layers(data.Y[ok], _LAYERS))
        eps = rng.standard_normal((_DRAWS, len(objectives))) if goal.multi else None
        P = sampler._features(space, domain, pending)
        suggestions: list[dict[str, Any]] = []
        for _ in range(n):
            F = self._search(
                sampler, domain, data, objectives, transforms, bounds, scal, eps, P, forbidden, rng
            )
            params = space.from_unit(features_to_unit(F[None, :], domain)[0])
            f = unit_to_features(space.to_unit_array([params]), domain)
            suggestions.append(params)
            P = np.vstack([P, f])
            forbidden = np.vstack([forbidden, f])
        return suggestions

    def _search(
        self,
        sampler: GPSampler,
        domain: Domain,
        data: _Data,
        objectives: list[Output],
        transforms: list[OutputTransform],
        bounds: list[Bound],
        scal: Scalarization | None,
        eps: np.ndarray | None,
        P: np.ndarray,
        forbidden: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """One point (features ``(d,)``) that maximizes the acquisition given the points in flight."""
        opts = sampler.options
        strategy = opts.pending if opts.pending in GOAL_PENDING else "kb"
        feasible = data.feasible
        # the incumbent: the best feasible observed point (of the scalarization, or the objective)
        if scal is not None:
            c_obs = scal(data.Y)
            best = float(c_obs[feasible].min()) if feasible.any() else np.inf
            lie_row = int(np.argmin(np.where(feasible, c_obs, np.inf))) if feasible.any() else None
        else:
            t_obs = transforms[0](data.Y[:, 0])
            best = float(t_obs[feasible].min()) if feasible.any() else np.inf
            lie_row = int(np.argmin(np.where(feasible, t_obs, np.inf))) if feasible.any() else None
        # constraints are always believed at their posterior mean (a lie needs an incumbent)
        believe: PendingStrategy = "none" if strategy == "none" else "kb"
        believed_obj: list[Output] = []
        for j, out in enumerate(objectives):
            if strategy == "cl" and lie_row is not None:
                lie = float(transforms[j](data.Y[lie_row : lie_row + 1, j])[0])
                pm = account_for_pending(out.gp, lie, P, "cl", opts.pending_cap, rng)
            else:
                pm = account_for_pending(
                    out.gp, float(out.gp.y.min()), P, believe, opts.pending_cap, rng
                )
            believed_obj.append(Output(pm.model, out.mean, out.sd))
        believed_bounds = [
            Bound(
                Output(
                    account_for_pending(b.output.gp, 0.0, P, believe, opts.pending_cap, rng).model,
                    b.output.mean,
                    b.output.sd,
                ),
                b.bound,
                b.upper,
            )
            for b in bounds
        ]
        if strategy == "kb" and P.shape[0] and np.isfinite(best):
            # as in the single-objective believer: a pending point believed feasible and better
            # than the incumbent becomes the incumbent
            recent = P[-opts.pending_cap :]
            mus = [o.gp.predict(recent)[0] for o in objectives]
            ok = np.ones(recent.shape[0], dtype=bool)
            for b in bounds:
                g = b.output.mean + b.output.sd * b.output.gp.predict(recent)[0]
                ok &= g <= b.bound if b.upper else g >= b.bound
            if ok.any():
                if scal is not None:
                    raw = np.column_stack(
                        [o.mean + o.sd * mu for o, mu in zip(objectives, mus, strict=True)]
                    )
                    best = min(best, float(scal(raw[ok]).min()))
                else:
                    best = min(best, float(mus[0][ok].min()))

        def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
            val, g = log_feasibility(believed_bounds, F, grad)
            if not np.isfinite(best):
                return val, g  # nothing feasible yet: find the feasible region first
            if scal is not None:
                assert eps is not None
                v, gv = scalarized_log_ei(believed_obj, scal, best, eps, F, grad)
            else:
                v, gv = log_ei(believed_obj[0].gp, best, F, grad)
            return val + v, g + gv

        d = domain.dim
        n_obs = data.X.shape[0] + P.shape[0]
        n_cand = int(min(opts.n_candidates, max(128, 4e8 / max(n_obs, 1) ** 2)))
        from parabo._qmc import sobol_points

        cand = unit_to_features(sobol_points(d, 0, n_cand, seed=int(rng.integers(2**31))), domain)
        local = perturbations(
            self._front_features(data),
            np.exp(objectives[0].gp.theta[:d]),
            domain,
            rng,
            int(n_cand * _LOCAL_SHARE),
        )
        cand = np.vstack([cand, local])
        n_starts = max(2, min(opts.n_starts, round(opts.n_starts * 256 / max(n_obs, 1))))
        maxiter = max(15, min(50, round(50 * 256 / max(n_obs, 1))))
        F, _ = maximize_acquisition(
            acq, domain, cand, forbidden, n_starts=n_starts, maxiter=maxiter, tol=sampler.search.tol
        )
        if F.shape[0] == 0:
            return random_unseen(domain, forbidden, rng, sampler.search.tol)
        f = F[0]
        if is_duplicate(f[None, :], forbidden, sampler.search.tol)[0]:
            return random_unseen(domain, forbidden, rng, sampler.search.tol)
        return np.asarray(f)

    @staticmethod
    def _front_features(data: _Data) -> np.ndarray:
        """Features of the feasible non-dominated points (the least infeasible while none is feasible)."""
        if data.feasible.any():
            idx = np.flatnonzero(data.feasible)
            keep = non_dominated(data.Y[idx])
            return np.asarray(data.X[idx[keep]])
        violation = np.array([t.violation or 0.0 for t in data.trials])
        return np.asarray(data.X[np.argsort(violation, kind="stable")[:5]])

    # ------------------------------------------------------------------ resume
    def restore(
        self,
        sampler: GPSampler,
        space: Space,
        domain: Domain,
        history: Sequence[Trial],
        n_startup: int,
    ) -> None:
        """Replay the refit schedule over the prefixes of ``history`` (as a sequential study did)."""
        from parabo.samplers.gp import _MIN_COMPLETE

        for m in range(1, len(history)):
            complete = self.complete(history[:m], sampler.goal)
            if len(complete) < min(n_startup, _MIN_COMPLETE) or len(complete) < n_startup:
                continue
            self.fit(sampler, space, domain, self._data(sampler, space, domain, complete))
