"""Gaussian-process Bayesian optimization that accounts for the trials in flight.

The numeric core lives in :mod:`parabo.gp` (the model, the pending strategies,
the trust region, the candidates and the search of the acquisition); this
module turns trials into arrays (and suggestions back into parameter dicts),
keeps a cache of the fitted model keyed on trial ids, and decides when to refit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from parabo._qmc import sobol_points
from parabo.exceptions import ConfigError
from parabo.gp.candidates import features_to_unit, lipschitz, unit_to_features
from parabo.gp.kernel import CAT, FLOAT, INT, Domain
from parabo.gp.model import GP, OutputTransform, Prior, fit_theta
from parabo.gp.optimize import is_duplicate
from parabo.gp.pending import PENDING_STRATEGIES, PendingStrategy
from parabo.gp.search import AcquisitionName, SearchSettings, suggest
from parabo.gp.trust_region import trust_radius
from parabo.samplers.base import Direction, Sampler
from parabo.space import Space
from parabo.trial import Trial, TrialState

__all__ = ["GPSampler", "features_to_unit", "space_domain", "trust_radius", "unit_to_features"]

# Integers with more values than this are optimized as floats and rounded at the end.
_MAX_LISTED_INT = 100_000
#: two points closer than this (max-norm, in the unit cube) count as the same point
_TOL = 1e-6
#: with trials in flight, the GP takes over from the initial design once this many completed
#: (and ``n_startup`` trials were started); ``benchmarks/parallel``
_MIN_COMPLETE = 4
#: a resumed study replays the fit schedule over at most this many trials (beyond: one fresh fit)
_MAX_RESTORE = 2000


def space_domain(space: Space) -> Domain:
    """The :class:`Domain` of a space: kinds, sizes, and the encodings of integer values."""
    kinds: list[int] = []
    sizes: list[int] = []
    centres: list[np.ndarray | None] = []
    for p in space.params:
        if p.kind == "categorical":
            kinds.append(CAT)
            sizes.append(p.size)
            centres.append(None)
        elif p.kind == "int":
            kinds.append(INT)
            sizes.append(p.size)
            if p.size <= _MAX_LISTED_INT:
                lo = p.low  # type: ignore[attr-defined]
                centres.append(np.array([p.encode(v) for v in range(lo, lo + p.size)]))
            else:
                centres.append(None)
        else:
            kinds.append(FLOAT)
            sizes.append(0)
            centres.append(None)
    return Domain(np.array(kinds), np.array(sizes), tuple(centres))


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

    Pending trials (in flight, and the earlier suggestions of the same ask) are
    handled by ``pending``:

    - ``"kb"`` (default): *kriging believer* — the model is conditioned on each
      pending point as if its posterior mean had been observed. The mean is
      unchanged; the variance collapses around pending points, and a believed
      value below the best observed one becomes the incumbent, so log-EI drops
      around pending points and suggestions spread out without a made-up value.
      It was the best or tied-best strategy on the asynchronous benchmarks
      (``benchmarks/parallel``).
    - ``"cl"``: *constant liar* — pending points are conditioned on the best
      observed value.
    - ``"lp"``: *local penalization* — log-EI of the completed trials only, plus
      a soft exclusion ball around each pending point.
    - ``"fantasy"``: *Monte Carlo fantasies* (Snoek et al. 2012) — 16 joint draws of the
      pending outcomes from the posterior; the acquisition is the mean expected improvement
      over the draws, each improving on its own incumbent (the best of the completed and
      fantasized values). The believer takes the mean of the draws instead; the draws let a
      pending point turn out worse than believed, so the search stays closer to the
      incumbent on some problems and wanders on others (``benchmarks/parallel``). With
      ``acquisition="ucb"`` or ``"thompson"`` it is the believer.
    - ``"none"``: pending points only are never suggested again.

    Failed (and pruned) trials are, with ``failed="worst"`` (default), modelled as
    if they had returned the worst completed value, so their region is avoided;
    with ``failed="ignore"`` they are left out of the model (their points are
    still never suggested again).

    A suggestion never repeats a completed, failed or pending point (unless the
    space is discrete and exhausted, where a random point is returned).

    The sampler caches the fitted hyperparameters and the Cholesky factor, keyed
    on trial ids, and refits on a schedule (``refit_every``), each fit starting
    from the previous one. Its random draws come from the seed and the trial count.
    A resumed study calls :meth:`restore`, which rebuilds the cache by replaying
    the fit schedule over the history, so a resumed sequential study suggests
    exactly what the uninterrupted one would have.

    Args:
        seed: fixes the whole sequence of suggestions in a sequential run.
        acquisition: ``"logei"`` (default), ``"ucb"`` or ``"thompson"``.
        pending: ``"kb"`` (default), ``"cl"``, ``"lp"``, ``"fantasy"`` or ``"none"``.
        n_startup: size of the initial (Sobol) design (default ``min(10, d + 3)``): the GP takes
            over once this many trials completed or, with trials in flight, once this many
            were started and ``min(n_startup, 4)`` completed (the trials in flight are part of
            the design; waiting for ``n_startup`` completions with 16 workers would start 15
            more quasi-random points than a sequential run).
        failed: ``"worst"`` or ``"ignore"``.
        ucb_beta: exploration weight of UCB (``mu - sqrt(beta) sd``).
        warp: compress the upper tail of the outputs (huge losses far from the optimum)
            logarithmically before standardizing; see :class:`~parabo.gp.model.OutputTransform`.
        refit_every: refit the hyperparameters when the number of modelled trials grew
            by this fraction since the last fit (at least one trial); between refits
            the Cholesky factor is extended by rank-append.
        fit_max_points: the hyperparameters are fitted on at most this many trials
            (the best half, the rest spread over the history).
        max_points: the posterior uses at most this many trials (the best half and
            the most recent); beyond it the cost of an ask stops growing.
        n_candidates: quasi-random candidates of the acquisition optimizer (fewer are
            used on large studies to bound the cost).
        n_starts: L-BFGS-B starts of the acquisition optimizer (fewer on models of more
            than 256 points, completed and believed pending ones together).
        pending_cap: with ``pending="kb"`` or ``"fantasy"``, at most this many pending points
            (the most recent) are conditioned on; older ones get local penalization. Keeps a
            suggestion's cost bounded with hundreds of workers.
        busy_max_points: with more than ``pending_cap`` trials in flight, the posterior uses
            at most this many trials instead of ``max_points`` (workers free up often then,
            and each of them waits for its suggestion; measured in ``benchmarks/scale``). With
            ``pending_cap`` or more in flight, :meth:`batch_size` also lets the scheduler ask
            for every free worker at once, and one search of the acquisition serves the batch.
        trust_region: half-width, in length scales, of the box around the best trial in
            which a share of the suggestions is searched (``0``: off). It adapts as in
            TuRBO: doubled after two improvements in a row, halved after
            ``max(4, d, workers)`` trials without one, reset when it gets tiny. With
            trials in flight, believed pending points alone push the next suggestions
            far from the incumbent; the box keeps part of them where the sequential run
            would have gone (``benchmarks/parallel``).
        trust_region_share: the share of asks searched in the trust region with no trial
            in flight (the others search the whole space; drawn from the seeded stream).
            It rises linearly to 1 with 16 trials in flight: with few, the global half
            keeps exploring (all-box runs got stuck on Levy-10 and Hartmann-6 with 4
            workers); with many, the batch already spreads and the box keeps refining.
        incumbent: the value expected improvement improves on. ``"mean"`` (default): the
            lowest posterior mean at the completed trials — the best observed value less what
            the model reads as noise, so a lucky draw of a noisy or rugged objective (a
            cross-validation error) does not leave EI near zero around the good region
            ("plug-in" EI). On noise-free objectives the learned noise is tiny and the two
            agree. ``"observed"``: the best observed value.
    """

    name = "gp"

    def __init__(
        self,
        seed: int | None = None,
        *,
        acquisition: AcquisitionName = "logei",
        pending: PendingStrategy = "kb",
        n_startup: int | None = None,
        failed: Literal["worst", "ignore"] = "worst",
        ucb_beta: float = 4.0,
        warp: bool = True,
        refit_every: float = 0.05,
        fit_max_points: int = 250,
        max_points: int = 1000,
        n_candidates: int = 512,
        n_starts: int = 8,
        pending_cap: int = 64,
        busy_max_points: int = 300,
        trust_region: float = 0.2,
        trust_region_share: float = 0.5,
        incumbent: Literal["observed", "mean"] = "mean",
    ) -> None:
        super().__init__(seed)
        _choice(acquisition, ("logei", "ucb", "thompson"), "acquisition")
        _choice(pending, PENDING_STRATEGIES, "pending")
        _choice(failed, ("worst", "ignore"), "failed")
        _choice(incumbent, ("observed", "mean"), "incumbent")
        if n_startup is not None:
            _integer(n_startup, 1, "n_startup")
        for name, value, low in (
            ("fit_max_points", fit_max_points, 10),
            ("max_points", max_points, 10),
            ("busy_max_points", busy_max_points, 10),
            ("n_candidates", n_candidates, 1),
            ("n_starts", n_starts, 1),
            ("pending_cap", pending_cap, 1),
        ):
            _integer(value, low, name)
        _number(ucb_beta, "ucb_beta", low=0.0)
        _number(refit_every, "refit_every", low=0.0)
        _number(trust_region, "trust_region", low=0.0, hint=" (0 turns the trust region off)")
        _number(trust_region_share, "trust_region_share", low=0.0, high=1.0)
        if not isinstance(warp, bool):
            raise ConfigError(f"must be true or false, got {warp!r}", field="sampler.warp")
        self.acquisition: AcquisitionName = acquisition
        self.pending: PendingStrategy = pending
        self.n_startup = n_startup
        self.failed = failed
        self.ucb_beta = float(ucb_beta)
        self.warp = warp
        self.refit_every = float(refit_every)
        self.fit_max_points = fit_max_points
        self.max_points = max_points
        self.n_candidates = n_candidates
        self.n_starts = n_starts
        self.pending_cap = pending_cap
        self.busy_max_points = busy_max_points
        self.trust_region = float(trust_region)
        self.trust_region_share = float(trust_region_share)
        self.incumbent = incumbent
        self.search = SearchSettings(
            acquisition=acquisition,
            pending=pending,
            pending_cap=pending_cap,
            ucb_beta=self.ucb_beta,
            n_candidates=n_candidates,
            n_starts=n_starts,
            trust_region_share=self.trust_region_share,
            tol=_TOL,
        )
        self.prior = Prior()
        self._entropy = seed if seed is not None else int(np.random.default_rng().integers(2**62))
        self._fit: _Fit | None = None
        self._rows: dict[int, tuple[Any, np.ndarray]] = {}
        self._rows_key = ""
        self._blas: Any = None

    def __repr__(self) -> str:
        return (
            f"GPSampler(seed={self.seed!r}, acquisition={self.acquisition!r}, "
            f"pending={self.pending!r})"
        )

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
        return self.n_startup if self.n_startup is not None else min(10, space.dim + 3)

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
        complete, modelled = self._split(history)
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

        # many trials in flight = workers freeing up often: a smaller posterior keeps asks fast
        cap = self.max_points if len(pending) <= self.pending_cap else self.busy_max_points
        gp, best = self._model(space, domain, modelled, complete, sign, direction, cap)
        # the trust region's size follows the study's successes and failures (a function of the
        # history, so a resumed study gets the same size)
        ys = [sign * float(t.value) for t in complete]  # type: ignore[arg-type]
        radius = trust_radius(ys, n_startup, self.trust_region, max(4, space.dim, len(pending) + 1))
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
        """The completed trials, and the modelled ones (with failures as the worst value)."""
        complete = [t for t in history if _value(t) is not None]
        others = [t for t in history if _value(t) is None]
        modelled = complete + (others if (self.failed == "worst" and complete) else [])
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
            for m in range(1, len(history)):
                complete, modelled = self._split(history[:m])
                if len(complete) < min(n_startup, _MIN_COMPLETE) or len(complete) < n_startup:
                    continue
                self._model(space, domain, modelled, complete, sign, direction, self.max_points)

    def batch_size(self, free: int, pending: int) -> int:
        """All ``free`` at once with ``pending_cap`` or more trials in flight, else one at a time.

        With hundreds of workers a suggestion costs about as much as the budget between two
        completions; a batch is then searched once and spread by local penalization, so its
        cost hardly grows with its size and the coordinator keeps up (``benchmarks/scale``).
        With fewer workers each suggestion gets its own search.
        """
        return max(1, free) if self._amortized(pending) else 1

    def _amortized(self, pending: int) -> bool:
        # the greedy batch penalizes log-EI; UCB and Thompson keep one search per suggestion
        return pending >= self.pending_cap and self.acquisition == "logei"

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
        key = (repr(space.to_dict()), direction, self.failed)
        values = {t.id: sign * float(t.value) for t in complete}  # type: ignore[arg-type]
        worst = max(values.values())
        by_id = {t.id: t for t in modelled}
        fit = self._fit
        if fit is not None and (fit.key != key or not set(fit.ids) <= by_id.keys()):
            fit = None
        known = set(fit.ids) if fit is not None else set()
        new = [t for t in modelled if t.id not in known]
        n_total = len(modelled)

        if fit is None:
            ids = [t.id for t in modelled]
            X = self._features(space, domain, modelled)
            fit = _Fit(key, ids, X, np.empty(0), 0)
        elif new:
            Xn = self._features(space, domain, new)
            fit.ids = fit.ids + [t.id for t in new]
            fit.X = np.vstack([fit.X, Xn])

        y_raw = np.array([values.get(i, worst) for i in fit.ids])
        transform = OutputTransform(y_raw, warp=self.warp)
        y = transform(y_raw)

        interval = max(1, int(self.refit_every * fit.n_at_fit))
        refit = fit.theta.size == 0 or n_total - fit.n_at_fit >= interval
        if refit:
            idx = _subset(y, self.fit_max_points)
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

        n_rows = len(fit.ids)
        if fit.gp is not None and fit.cap != cap and min(fit.cap, cap) < n_rows:
            fit.gp = None  # the posterior-size limit changed: rebuild on the new subset
        if fit.gp is None:
            # rebuilt at every refit: all trials, or a subset on large studies
            fit.rows = _posterior_subset(y, cap) if n_rows > cap else np.arange(n_rows)
            fit.cap = cap
            fit.gp = GP(fit.X[fit.rows], y[fit.rows], fit.theta, domain.cat)
        else:
            # between refits, new trials are appended to the factor (rank-append)
            add = np.arange(int(fit.rows[-1]) + 1, n_rows)
            if add.size:
                fit.gp = fit.gp.extend(fit.X[add], y[add])
                fit.rows = np.r_[fit.rows, add]
            fit.gp.set_y(y[fit.rows])
        self._fit = fit
        y_complete = transform(np.array(list(values.values())))
        best = float(np.min(y_complete))
        if self.incumbent == "mean":
            # the posterior mean at the modelled trials, y - noise * alpha: the best observed value
            # less the part of it the model reads as noise (noise-free objectives: unchanged)
            gp = fit.gp
            complete_rows = np.isin(np.asarray(fit.ids)[fit.rows], list(values))
            mu = gp.y - gp.noise * gp.alpha
            if complete_rows.any():
                best = float(np.min(mu[complete_rows]))
        return fit.gp, best

    def _cached_lipschitz(self, model: GP, cand: np.ndarray) -> float:
        """The Lipschitz estimate of local penalization; it changes slowly: once per refit."""
        fit = self._fit
        if fit is not None and fit.lip is not None:
            return fit.lip
        lip = lipschitz(model, cand)
        if fit is not None:
            fit.lip = lip
        return lip


def _choice(value: Any, allowed: Sequence[str], name: str) -> None:
    if value not in allowed:
        raise ConfigError(
            f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}",
            field=f"sampler.{name}",
        )


def _integer(value: Any, low: int, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigError(f"must be an integer >= {low}, got {value!r}", field=f"sampler.{name}")


def _number(value: Any, name: str, low: float, high: float | None = None, hint: str = "") -> None:
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= low
        and (high is None or value <= high)
    )
    if not ok:
        bounds = f">= {low:g}" if high is None else f"between {low:g} and {high:g}"
        raise ConfigError(
            f"must be a number {bounds}{hint}, got {value!r}", field=f"sampler.{name}"
        )


def _value(t: Trial) -> float | None:
    """The value of a COMPLETE trial, or ``None`` (failed, pruned, missing or not finite)."""
    if t.state is not TrialState.COMPLETE or t.value is None:
        return None
    v = float(t.value)
    return v if math.isfinite(v) else None


def _subset(y: np.ndarray, k: int) -> np.ndarray:
    """Indices of at most ``k`` points: the best half and the rest evenly spread over the history."""
    n = y.shape[0]
    if n <= k:
        return np.arange(n)
    best = np.argsort(y, kind="stable")[: k // 2]
    rest = np.setdiff1d(np.arange(n), best)
    spread = rest[np.linspace(0, rest.shape[0] - 1, k - best.shape[0]).astype(int)]
    return np.sort(np.r_[best, spread])


def _posterior_subset(y: np.ndarray, k: int) -> np.ndarray:
    """Indices of at most ``k`` points: the best half and the most recent ones."""
    n = y.shape[0]
    best = np.argsort(y, kind="stable")[: k // 2]
    recent = np.setdiff1d(np.arange(n), best)[-(k - best.shape[0]) :]
    return np.sort(np.r_[best, recent])
