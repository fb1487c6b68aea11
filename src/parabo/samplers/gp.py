"""Gaussian-process Bayesian optimization that accounts for the trials in flight.

The numeric core lives in :mod:`parabo.gp` (the model, the pending strategies,
the trust region, the candidates and the search of the acquisition); this
module turns trials into arrays (and suggestions back into parameter dicts),
keeps a cache of the fitted model keyed on trial ids, and decides when to refit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parabo._qmc import sobol_points
from parabo.goals import Goal
from parabo.gp.candidates import features_to_unit, lipschitz, unit_to_features
from parabo.gp.kernel import Domain
from parabo.gp.model import GP, OutputTransform, Prior, fit_theta
from parabo.gp.optimize import is_duplicate
from parabo.gp.search import suggest
from parabo.gp.subsets import fit_subset, posterior_subset
from parabo.gp.trust_region import trust_radius
from parabo.samplers.base import Direction, Sampler
from parabo.samplers.gp_domain import space_domain, trial_value
from parabo.samplers.gp_goal import GoalModels, check_goal_options
from parabo.samplers.gp_options import GPOptions
from parabo.space import Space
from parabo.trial import Trial, TrialState

__all__ = ["GPSampler", "features_to_unit", "space_domain", "trust_radius", "unit_to_features"]

#: two points closer than this (max-norm, in the unit cube) count as the same point
_TOL = 1e-6
#: with trials in flight, the GP takes over from the initial design once this many completed
#: (and ``n_startup`` trials were started); ``benchmarks/parallel``
_MIN_COMPLETE = 4
#: a resumed study replays the fit schedule over at most this many trials (beyond: one fresh fit)
_MAX_RESTORE = 2000


@dataclass
class _Fit:
    """Cached model state for one (space, direction): inputs in arrival order and the factor."""

    key: tuple[Any, ...]
    ids: list[int]
    X: np.ndarray  # (n, d) features of the modelled trials
    theta: np.ndarray
    n_at_fit: int
    gp: GP | None = None  # posterior over X[rows] (outputs replaced at every ask)
    rows: np.ndarray = field(default_factory=lambda: np.arange(0))
    lip: float | None = None  # Lipschitz estimate for local penalization, per refit
    cap: int = 0  # posterior size limit the current factor was built with


class GPSampler(Sampler):
    """Bayesian optimization with a Gaussian process and log expected improvement.

    Until ``n_startup`` trials have completed (or started, with trials in flight),
    suggestions come from a scrambled Sobol sequence. Then a GP (Matérn-5/2, one
    length scale per parameter, Hamming distance for categoricals) is fitted by MAP
    to the completed trials, and each suggestion maximizes the acquisition.

    Pending trials (in flight, and the earlier suggestions of the same ask) are a
    named input of the search and are accounted for as ``pending`` says (default:
    the kriging believer; :mod:`parabo.gp.pending`). Failed trials count as the worst
    value (``failed``). A suggestion never repeats a completed, failed or pending
    point (unless the space is discrete and exhausted, where a random point is
    returned).

    The sampler caches the fitted hyperparameters and the Cholesky factor, keyed
    on trial ids, and refits on a schedule (``refit_every``), each fit starting
    from the previous one. Its random draws come from the seed and the trial count.
    A resumed study calls :meth:`restore`, which rebuilds the cache by replaying
    the fit schedule over the history, so a resumed sequential study suggests
    exactly what the uninterrupted one would have.

    Args:
        seed: fixes the whole sequence of suggestions in a sequential run.
        options: the options of :class:`~parabo.samplers.gp_options.GPOptions`, by keyword
            (``GPSampler(seed=0, pending="cl")``); each is validated with an error naming it.
    """

    name = "gp"

    def __init__(self, seed: int | None = None, **options: Any) -> None:
        super().__init__(seed)
        self.options = GPOptions(**options)
        self.search = self.options.search_settings(_TOL)
        self.prior = Prior()
        self._entropy = seed if seed is not None else int(np.random.default_rng().integers(2**62))
        self._fit: _Fit | None = None
        self._pruned_ids: set[int] = set()  # modelled trials whose value came from a report
        self._rows: dict[int, tuple[Any, np.ndarray]] = {}
        self._rows_key = ""
        self._blas: Any = None
        self._goal_models = GoalModels()

    def __repr__(self) -> str:
        return (
            f"GPSampler(seed={self.seed!r}, acquisition={self.options.acquisition!r}, "
            f"pending={self.options.pending!r})"
        )

    def bind(self, goal: Goal) -> None:
        """Several objectives or constraints: one GP per output (:mod:`parabo.samplers.gp_goal`).

        They take the log-EI acquisition and the pending strategies ``kb``, ``cl`` and
        ``none``; other options are refused with an error naming them.
        """
        check_goal_options(self.options, goal)
        super().bind(goal)

    # ------------------------------------------------------------------ ask

    def ask(
        self,
        space: Space,
        history: Sequence[Trial],
        pending: Sequence[Trial],
        n: int = 1,
        direction: Direction = "minimize",
    ) -> list[dict[str, Any]]:
        # The matrices here are small (a few hundred to a thousand rows): BLAS threads only fight
        # with the workers for the cores (measured: asks ~4x slower on a busy machine).
        with self._one_blas_thread():
            return self._ask(space, history, pending, n, direction)

    def _one_blas_thread(self) -> Any:
        """A context in which numpy's and scipy's BLAS run on one thread."""
        if self._blas is None:
            import scipy.linalg  # noqa: F401  (load scipy's BLAS before looking for it)
            from threadpoolctl import ThreadpoolController

            self._blas = ThreadpoolController()
        return self._blas.limit(limits=1, user_api="blas")

    def _n_startup(self, space: Space) -> int:
        return (
            self.options.n_startup if self.options.n_startup is not None else min(10, space.dim + 3)
        )

    def _ask(
        self,
        space: Space,
        history: Sequence[Trial],
        pending: Sequence[Trial],
        n: int,
        direction: Direction,
    ) -> list[dict[str, Any]]:
        if n <= 0:
            return []
        domain = space_domain(space)
        sign = -1.0 if direction == "maximize" else 1.0
        if self.goal.simple:
            complete, modelled = self._split(history)
        else:
            complete, modelled = GoalModels.complete(history, self.goal), []
        n_startup = self._n_startup(space)

        # every point ever suggested or run is forbidden
        forbidden = self._features(space, domain, list(history) + list(pending))
        start = len(history) + len(pending)
        rng = np.random.default_rng([self._entropy % 2**63, start, 7])

        # The initial design counts the trials in flight: with 16 workers, waiting for n_startup
        # completions would start 15 more quasi-random points than a sequential run does.
        started = len(complete) + len(pending)
        if len(complete) < min(n_startup, _MIN_COMPLETE) or started < n_startup:
            return self._startup(space, domain, forbidden, start, n, rng)
        if not self.goal.simple:
            return self._goal_models.ask(self, space, domain, complete, pending, forbidden, n, rng)

        # many trials in flight = workers freeing up often: a smaller posterior keeps asks fast
        cap = (
            self.options.max_points
            if len(pending) <= self.options.pending_cap
            else self.options.busy_max_points
        )
        gp, best = self._model(space, domain, modelled, complete, sign, direction, cap)
        # the trust region's size follows the study's successes and failures (a function of the
        # history, so a resumed study gets the same size)
        # (trials stopped early are no successes or failures of the incumbent's box)
        finals = [t for t in complete if t.state is TrialState.COMPLETE] or complete
        ys = [sign * float(t.value) for t in finals]  # type: ignore[arg-type]
        radius = trust_radius(
            ys, n_startup, self.options.trust_region, max(4, space.dim, len(pending) + 1)
        )
        P = self._features(space, domain, pending)
        out: list[dict[str, Any]] = []
        while len(out) < n:
            # With many trials in flight, one search serves the whole batch (see batch_size).
            batch = n - len(out) if self._amortized(len(pending)) else 1
            found = suggest(
                gp,
                best,
                domain,
                self.search,
                X_pending=P,
                forbidden=forbidden,
                rng=rng,
                radius=radius,
                n=batch,
                lipschitz=self._cached_lipschitz,
            )
            for k, F in enumerate(found):
                params = space.from_unit(features_to_unit(F[None, :], domain)[0])
                f = unit_to_features(space.to_unit_array([params]), domain)
                if k and is_duplicate(f, forbidden, _TOL)[0]:
                    break  # decoded onto a point taken just before (integers): search again
                out.append(params)
                P = np.vstack([P, f])
                forbidden = np.vstack([forbidden, f])
        return out

    def _split(self, history: Sequence[Trial]) -> tuple[list[Trial], list[Trial]]:
        """The observed trials, and the modelled ones (with failures as the worst value).

        Observed: the completed trials, and (``pruned="last"``) the trials stopped early
        that reported a value, modelled by their last one.
        """
        last = self.options.pruned == "last"
        complete = [t for t in history if trial_value(t, last) is not None]
        others = [t for t in history if trial_value(t, last) is None]
        modelled = complete + (others if (self.options.failed == "worst" and complete) else [])
        return complete, modelled

    def restore(self, space: Space, history: Sequence[Trial], direction: Direction) -> None:
        """Rebuild the model cache as a sequential study with this ``history`` built it.

        A sequential study asks once after each trial finished; every ask with a model
        updated the cache (a refit on the schedule, else a rank-append), each fit starting
        from the last. Replaying those updates over the prefixes of ``history`` gives the
        cache, and so the suggestions, of the uninterrupted study. Studies of more than
        ``2000`` trials get one fresh fit instead (their next suggestions may differ).
        """
        if len(history) > _MAX_RESTORE:
            return
        with self._one_blas_thread():
            domain = space_domain(space)
            sign = -1.0 if direction == "maximize" else 1.0
            n_startup = self._n_startup(space)
            if not self.goal.simple:
                self._goal_models.restore(self, space, domain, history, n_startup)
                return
            for m in range(1, len(history)):
                complete, modelled = self._split(history[:m])
                if len(complete) < min(n_startup, _MIN_COMPLETE) or len(complete) < n_startup:
                    continue
                self._model(
                    space, domain, modelled, complete, sign, direction, self.options.max_points
                )

    def batch_size(self, free: int, pending: int) -> int:
        """All ``free`` at once with ``pending_cap`` or more trials in flight, else one at a time.

        With hundreds of workers a suggestion costs about as much as the budget between two
        completions; a batch is then searched once and spread by local penalization, so its
        cost hardly grows with its size and the coordinator keeps up (``benchmarks/coordinator``).
        With fewer workers each suggestion gets its own search.
        """
        return max(1, free) if self._amortized(pending) else 1

    def _amortized(self, pending: int) -> bool:
        # the greedy batch penalizes log-EI; UCB and Thompson keep one search per suggestion, and
        # so do several objectives and constraints
        return (
            pending >= self.options.pending_cap
            and self.options.acquisition == "logei"
            and self.goal.simple
        )

    def _features(self, space: Space, domain: Domain, trials: Sequence[Trial]) -> np.ndarray:
        """Features ``(len(trials), d)`` of the trials' parameters, cached by trial id.

        A cached row is used only if the trial's parameters are the ones it was
        computed from, so a sampler shared between studies stays correct.
        """
        key = repr(space.to_dict())
        if self._rows_key != key:
            self._rows, self._rows_key = {}, key
        missing = [t for t in trials if t.id not in self._rows or self._rows[t.id][0] != t.params]
        if missing:
            F = unit_to_features(space.to_unit_array([t.params for t in missing]), domain)
            for t, f in zip(missing, F, strict=True):
                self._rows[t.id] = (t.params, f)
        if not trials:
            return np.empty((0, space.dim))
        return np.array([self._rows[t.id][1] for t in trials])

    def _startup(
        self,
        space: Space,
        domain: Domain,
        forbidden: np.ndarray,
        start: int,
        n: int,
        rng: np.random.Generator,
    ) -> list[dict[str, Any]]:
        """Sobol points ``start ..``; a point that decodes onto a seen one is replaced by a random one."""
        U = sobol_points(space.dim, start, n, seed=self._entropy % 2**32)
        out = []
        for u in U:
            params = self._unseen(space, domain, u, forbidden, rng)
            f = unit_to_features(space.to_unit_array([params]), domain)
            forbidden = np.vstack([forbidden, f])
            out.append(params)
        return out

    def _unseen(
        self,
        space: Space,
        domain: Domain,
        u: np.ndarray,
        forbidden: np.ndarray,
        rng: np.random.Generator,
    ) -> dict[str, Any]:
        for _ in range(64):
            params = space.from_unit(u)
            f = unit_to_features(space.to_unit_array([params]), domain)
            if not is_duplicate(f, forbidden, 0.0)[0]:
                return params
            u = rng.random(space.dim)
        return space.from_unit(u)  # a small discrete space can be exhausted

    def _model(
        self,
        space: Space,
        domain: Domain,
        modelled: list[Trial],
        complete: list[Trial],
        sign: float,
        direction: Direction,
        cap: int,
    ) -> tuple[GP, float]:
        """The posterior over the modelled trials, reusing the cached fit where possible."""
        key = (repr(space.to_dict()), direction, self.options.failed, self.options.pruned)
        values = {t.id: sign * float(t.value) for t in complete}  # type: ignore[arg-type]
        self._pruned_ids = {t.id for t in complete if t.state.partial}
        worst = max(values.values())
        fit = self._features_of(space, domain, modelled, key)
        y_raw = np.array([values.get(i, worst) for i in fit.ids])
        transform = OutputTransform(y_raw, warp=self.options.warp)
        y = transform(y_raw)
        self._refit_if_due(fit, y, domain, n_total=len(modelled))
        gp = self._posterior(fit, y, domain, cap)
        self._fit = fit
        return gp, self._incumbent(fit, gp, transform, values)

    def _features_of(self, space: Space, domain: Domain, modelled: list[Trial], key: Any) -> _Fit:
        """The cached fit with the features of every modelled trial (new ones appended)."""
        by_id = {t.id: t for t in modelled}
        fit = self._fit
        if fit is not None and (fit.key != key or not set(fit.ids) <= by_id.keys()):
            fit = None
        if fit is None:
            return _Fit(
                key,
                [t.id for t in modelled],
                self._features(space, domain, modelled),
                np.empty(0),
                0,
            )
        known = set(fit.ids)
        new = [t for t in modelled if t.id not in known]
        if new:
            fit.ids = fit.ids + [t.id for t in new]
            fit.X = np.vstack([fit.X, self._features(space, domain, new)])
        return fit

    def _refit_if_due(self, fit: _Fit, y: np.ndarray, domain: Domain, n_total: int) -> None:
        """Fit the hyperparameters again once ``refit_every`` more trials came in (the refit policy)."""
        interval = max(1, int(self.options.refit_every * fit.n_at_fit))
        if fit.theta.size and n_total - fit.n_at_fit < interval:
            return
        idx = fit_subset(y, self.options.fit_max_points)
        theta0 = fit.theta if fit.theta.size else None
        theta, _ok = fit_theta(
            fit.X[idx],
            y[idx],
            domain.cat,
            theta0,
            self.prior,
            maxiter=200 if theta0 is None else 50,
        )
        fit.theta = theta
        fit.n_at_fit = n_total
        fit.gp = None
        fit.lip = None

    def _posterior(self, fit: _Fit, y: np.ndarray, domain: Domain, cap: int) -> GP:
        """The GP on at most ``cap`` rows: rebuilt after a refit, rank-appended between refits."""
        n_rows = len(fit.ids)
        if fit.gp is not None and fit.cap != cap and min(fit.cap, cap) < n_rows:
            fit.gp = None  # the posterior-size limit changed: rebuild on the new subset
        if fit.gp is None:
            fit.rows = posterior_subset(y, cap) if n_rows > cap else np.arange(n_rows)
            fit.cap = cap
            fit.gp = GP(fit.X[fit.rows], y[fit.rows], fit.theta, domain.cat)
            return fit.gp
        add = np.arange(int(fit.rows[-1]) + 1, n_rows)
        if add.size:
            fit.gp = fit.gp.extend(fit.X[add], y[add])
            fit.rows = np.r_[fit.rows, add]
        fit.gp.set_y(y[fit.rows])
        return fit.gp

    def _incumbent(
        self, fit: _Fit, gp: GP, transform: OutputTransform, values: dict[int, float]
    ) -> float:
        """The value expected improvement improves on (in the model's transformed units)."""
        finals = {i: v for i, v in values.items() if i not in self._pruned_ids}
        values = finals or values  # a value reached early is no incumbent, unless it is all
        best = float(np.min(transform(np.array(list(values.values())))))
        if self.options.incumbent == "mean":
            # the posterior mean at the modelled trials, y - noise * alpha: the best observed value
            # less the part of it the model reads as noise (noise-free objectives: unchanged)
            complete_rows = np.isin(np.asarray(fit.ids)[fit.rows], list(values))
            mu = gp.y - gp.noise * gp.alpha
            if complete_rows.any():
                best = float(np.min(mu[complete_rows]))
        return best

    def _cached_lipschitz(self, model: GP, cand: np.ndarray) -> float:
        """The Lipschitz estimate of local penalization; it changes slowly: once per refit."""
        fit = self._fit
        if fit is not None and fit.lip is not None:
            return fit.lip
        lip = lipschitz(model, cand)
        if fit is not None:
            fit.lip = lip
        return lip
