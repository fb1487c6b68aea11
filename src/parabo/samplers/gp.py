"""Gaussian-process Bayesian optimization that accounts for the trials in flight.

The numeric core lives in :mod:`parabo.gp`; this module turns trials into
arrays (and suggestions back into parameter dicts), keeps a cache of the
fitted model keyed on trial ids, and decides when to refit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from parabo.exceptions import ConfigError
from parabo.gp.acquisition import (
    fantasy_log_ei,
    local_penalty,
    log_ei,
    penalized_log_ei,
    thompson_sample,
    ucb,
)
from parabo.gp.kernel import CAT, FLOAT, INT, Domain, sq_dist
from parabo.gp.model import GP, OutputTransform, Prior, chol_solve, fit_theta
from parabo.gp.optimize import is_duplicate, maximize_acquisition
from parabo.samplers.base import Direction, Sampler
from parabo.samplers.sobol import sobol_points
from parabo.space import Space
from parabo.trial import Trial, TrialState

__all__ = ["GPSampler"]

_CONTROLLER: Any = None


def _one_blas_thread() -> Any:
    """A context in which numpy's and scipy's BLAS run on one thread."""
    global _CONTROLLER
    if _CONTROLLER is None:
        import scipy.linalg  # noqa: F401  (load scipy's BLAS before looking for it)
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


AcquisitionName = Literal["logei", "ucb", "thompson"]
PendingStrategy = Literal["kb", "cl", "lp", "fantasy", "none"]

# Integers with more values than this are optimized as floats and rounded at the end.
_MAX_LISTED_INT = 100_000
#: two points closer than this (max-norm, in the unit cube) count as the same point
_TOL = 1e-6
#: with this many trials in flight (or more) every suggestion is searched in the trust region
_BUSY_TRIALS = 16
#: points of one amortized batch are at least this many length scales apart
_BATCH_GAP = 0.1
#: with trials in flight, the GP takes over from the initial design once this many completed
#: (and ``n_startup`` trials were started); docs/benchmarks.md, "Initial design in flight"
_MIN_COMPLETE = 4
# draws of the pending outcomes with pending="fantasy"
_FANTASIES = 16


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


def unit_to_features(U: np.ndarray, domain: Domain) -> np.ndarray:
    """Unit-cube points ``(m, d)`` to features: categorical coordinates become choice indices."""
    F = np.array(U, dtype=float, copy=True)
    for j in np.flatnonzero(domain.cat):
        k = int(domain.sizes[j])
        F[:, j] = np.clip(np.floor(F[:, j] * k), 0, k - 1)
    return F


def features_to_unit(F: np.ndarray, domain: Domain) -> np.ndarray:
    """Features ``(m, d)`` back to unit-cube points (a categorical index to the centre of its bin)."""
    U = np.array(F, dtype=float, copy=True)
    for j in np.flatnonzero(domain.cat):
        U[:, j] = (np.rint(U[:, j]) + 0.5) / int(domain.sizes[j])
    return U


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
      It was the best or tied-best strategy on our asynchronous benchmarks
      (``docs/benchmarks.md``).
    - ``"cl"``: *constant liar* — pending points are conditioned on the best
      observed value.
    - ``"lp"``: *local penalization* — log-EI of the completed trials only, plus
      a soft exclusion ball around each pending point.
    - ``"fantasy"``: *Monte Carlo fantasies* (Snoek et al. 2012) — 16 joint draws of the
      pending outcomes from the posterior; the acquisition is the mean expected improvement
      over the draws, each improving on its own incumbent (the best of the completed and
      fantasized values). The believer takes the mean of the draws instead; the draws let a
      pending point turn out worse than believed, so the search stays closer to the
      incumbent on some problems and wanders on others (docs/benchmarks.md). With
      ``acquisition="ucb"`` or ``"thompson"`` it is the believer.
    - ``"none"``: pending points only are never suggested again.

    Failed (and pruned) trials are, with ``failed="worst"`` (default), modelled as
    if they had returned the worst completed value, so their region is avoided;
    with ``failed="ignore"`` they are left out of the model (their points are
    still never suggested again).

    A suggestion never repeats a completed, failed or pending point (unless the
    space is discrete and exhausted, where a random point is returned).

    The sampler caches the fitted hyperparameters and the Cholesky factor, keyed
    on trial ids, and refits on a schedule (``refit_every``). A fresh sampler
    given the same history (a resumed study) works, but it refits from scratch,
    so its next suggestions can differ from those of the sampler that ran before
    the interruption; within one process, the same seed gives the same sequence.

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
            and each of them waits for its suggestion; measured in docs/parallel.md). With
            ``pending_cap`` or more in flight, :meth:`batch_size` also lets the scheduler ask
            for every free worker at once, and one search of the acquisition serves the batch.
        trust_region: half-width, in length scales, of the box around the best trial in
            which a share of the suggestions is searched (``0``: off). It adapts as in
            TuRBO: doubled after two improvements in a row, halved after
            ``max(4, d, workers)`` trials without one, reset when it gets tiny. With
            trials in flight, believed pending points alone push the next suggestions
            far from the incumbent; the box keeps part of them where the sequential run
            would have gone (docs/benchmarks.md, "Trust region").
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
            agree. ``"observed"``: the best observed value (the default before round 5;
            docs/benchmarks.md, "Incumbent").
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
        roulette: bool = False,
        local_frac: float = 0.25,
        init: Literal["sobol", "random"] = "sobol",
        pending_cap: int = 64,
        busy_max_points: int = 300,
        trust_region: float = 0.2,
        trust_region_share: float = 0.5,
        incumbent: Literal["observed", "mean"] = "mean",
    ) -> None:
        super().__init__(seed)
        if acquisition not in ("logei", "ucb", "thompson"):
            raise ConfigError(
                f"unknown acquisition {acquisition!r}; choose one of: logei, ucb, thompson",
                field="sampler.acquisition",
            )
        if pending not in ("kb", "cl", "lp", "fantasy", "none"):
            raise ConfigError(
                f"unknown pending strategy {pending!r}; choose one of: kb, cl, lp, fantasy, none",
                field="sampler.pending",
            )
        if failed not in ("worst", "ignore"):
            raise ConfigError(
                f"unknown failed strategy {failed!r}; choose worst or ignore",
                field="sampler.failed",
            )
        if n_startup is not None and (not isinstance(n_startup, int) or n_startup < 1):
            raise ConfigError(
                f"must be an integer >= 1, got {n_startup!r}", field="sampler.n_startup"
            )
        self.acquisition = acquisition
        self.pending = pending
        self.n_startup = n_startup
        self.failed = failed
        self.ucb_beta = float(ucb_beta)
        self.warp = bool(warp)
        self.refit_every = float(refit_every)
        self.fit_max_points = int(fit_max_points)
        self.max_points = int(max_points)
        self.n_candidates = int(n_candidates)
        self.n_starts = int(n_starts)
        self.roulette = bool(roulette)
        self.local_frac = float(local_frac)
        self.init = init
        if not isinstance(pending_cap, int) or pending_cap < 1:
            raise ConfigError(
                f"must be an integer >= 1, got {pending_cap!r}", field="sampler.pending_cap"
            )
        self.pending_cap = pending_cap
        self.busy_max_points = int(busy_max_points)
        self.trust_region = float(trust_region)
        if not (math.isfinite(self.trust_region) and self.trust_region >= 0):
            raise ConfigError(
                f"must be a number >= 0 (0 turns the trust region off), got {trust_region!r}",
                field="sampler.trust_region",
            )
        if incumbent not in ("observed", "mean"):
            raise ConfigError(
                f"unknown incumbent {incumbent!r}; choose observed or mean",
                field="sampler.incumbent",
            )
        self.incumbent = incumbent
        self.trust_region_share = float(trust_region_share)
        if not 0.0 <= self.trust_region_share <= 1.0:
            raise ConfigError(
                f"must be a number between 0 and 1, got {trust_region_share!r}",
                field="sampler.trust_region_share",
            )
        for name in ("max_points", "busy_max_points", "fit_max_points"):
            if getattr(self, name) < 10:
                raise ConfigError(
                    f"must be an integer >= 10, got {getattr(self, name)!r}",
                    field=f"sampler.{name}",
                )
        self.prior = Prior()
        self._entropy = seed if seed is not None else int(np.random.default_rng().integers(2**62))
        self._fit: _Fit | None = None
        self._rows: dict[int, tuple[Any, np.ndarray]] = {}
        self._rows_key = ""

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
        with _one_blas_thread():
            return self._ask(space, history, pending, n, direction)

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
        complete = [t for t in history if _value(t) is not None]
        others = [t for t in history if _value(t) is None]
        modelled = complete + (others if (self.failed == "worst" and complete) else [])
        n_startup = self.n_startup if self.n_startup is not None else min(10, space.dim + 3)

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
            for k, F in enumerate(
                self._suggest(gp, best, domain, P, forbidden, rng, radius, batch)
            ):
                params = space.from_unit(features_to_unit(F[None, :], domain)[0])
                f = unit_to_features(space.to_unit_array([params]), domain)
                if k and is_duplicate(f, forbidden, _TOL)[0]:
                    break  # decoded onto a point taken just before (integers): search again
                out.append(params)
                P = np.vstack([P, f])
                forbidden = np.vstack([forbidden, f])
        return out

    def batch_size(self, free: int, pending: int) -> int:
        """All ``free`` at once with ``pending_cap`` or more trials in flight, else one at a time.

        With hundreds of workers a suggestion costs about as much as the budget between two
        completions; a batch is then searched once and spread by local penalization, so its
        cost hardly grows with its size and the coordinator keeps up (docs/parallel.md).
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

    # ------------------------------------------------------------- startup

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
        if self.init == "random":
            U = rng.random((n, space.dim))
        else:
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

    # --------------------------------------------------------------- model

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

    # ------------------------------------------------------------- suggest

    def _suggest(
        self,
        base: GP,
        best: float,
        domain: Domain,
        P: np.ndarray,
        forbidden: np.ndarray,
        rng: np.random.Generator,
        radius: float = 0.0,
        n: int = 1,
    ) -> np.ndarray:
        """Points (features ``(k, d)``, ``1 <= k <= n``) that maximize the acquisition given pending ``P (p, d)``.

        On a share of the asks the search is limited to a box around the best modelled
        point, ``radius`` length scales on each side: ``trust_region_share`` with nothing in
        flight, rising linearly to 1 with ``_BUSY_TRIALS`` pending points.

        With ``n > 1`` one search serves them all: the first point is the best found, the
        next ones are taken greedily from the same pool of refined and quasi-random
        points, each penalized around the ones taken before it (local penalization).
        """
        d = domain.dim
        model = base
        # the share of asks searched in the trust region grows with the trials in flight
        share = self.trust_region_share
        share += (1.0 - share) * min(1.0, P.shape[0] / _BUSY_TRIALS)
        # With many trials in flight, believing every one of them costs a (n + p)-point model
        # per suggestion; the most recent `pending_cap` are believed, older ones penalized.
        believe = self.pending in ("kb", "fantasy")
        P_far = P[: max(0, P.shape[0] - self.pending_cap)] if believe else P[:0]
        if P_far.shape[0]:
            P = P[P_far.shape[0] :]
        fantasy = None
        if P.shape[0] and (believe or self.pending == "cl"):
            observed_best = best
            if believe:
                yP, _ = base.predict(P)
                # A believed value below the incumbent becomes the incumbent: otherwise
                # EI stays positive right next to the pending point and the batch piles up.
                best = min(best, float(np.min(yP)))
            else:
                yP = np.full(P.shape[0], best)
            model = base.extend(P, yP)
            if self.pending == "fantasy":
                fantasy = self._fantasies(base, model, P, yP, observed_best, rng)

        # Fewer candidates on large models: the posterior at each costs O(n^2).
        n_obs = model.n
        n_cand = int(min(self.n_candidates, max(128, 4e8 / max(n_obs, 1) ** 2)))
        sob = sobol_points(d, 0, n_cand, seed=int(rng.integers(2**31)))
        box = None
        if radius > 0 and rng.random() < share:
            box = self._trust_box(base, domain, radius)
            sob = box[0] + sob * (box[1] - box[0])
        cand = unit_to_features(sob, domain)
        local = self._local_candidates(base, domain, rng, int(n_cand * self.local_frac))
        if box is not None:
            local = np.clip(local, box[0], np.where(domain.cat, domain.sizes - 1, box[1]))
        cand = np.vstack([cand, local])

        if self.acquisition == "thompson":
            cand = domain.snap(cand[: min(cand.shape[0], 1024)])
            vals = thompson_sample(model, cand, rng)
            vals = np.where(is_duplicate(cand, forbidden, _TOL), -np.inf, vals)
            i = int(np.argmax(vals))
            if np.isfinite(vals[i]):
                return np.asarray(cand[i : i + 1])
            return self._random_unseen(domain, forbidden, rng)[None, :]

        if self.acquisition == "ucb":

            def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
                return ucb(model, self.ucb_beta, F, grad)

        elif (self.pending == "lp" and P.shape[0]) or P_far.shape[0]:
            centres = P if self.pending == "lp" else P_far
            lip = self._cached_lipschitz(base, cand)
            post = model.predict(centres)

            def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
                return penalized_log_ei(model, best, F, centres, lip, grad, post)

        elif fantasy is not None:
            alphas, bests = fantasy

            def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
                return fantasy_log_ei(model, alphas, bests, F, grad)

        else:

            def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
                return log_ei(model, best, F, grad)

        # each start costs O(n_obs^2) per iteration: fewer starts on large models
        n_starts = max(2, min(self.n_starts, round(self.n_starts * 256 / max(n_obs, 1))))
        maxiter = max(15, min(50, round(50 * 256 / max(n_obs, 1))))
        F, vals = maximize_acquisition(
            acq,
            domain,
            cand,
            forbidden,
            n_starts=n_starts,
            maxiter=maxiter,
            tol=_TOL,
            rng=rng if self.roulette else None,
            box=box,
        )
        if F.shape[0] == 0:
            return self._random_unseen(domain, forbidden, rng)[None, :]
        if n == 1 or F.shape[0] == 1:
            return np.asarray(F[:1])
        return self._greedy_batch(model, best, F, vals, n, self._cached_lipschitz(base, cand))

    @staticmethod
    def _greedy_batch(
        model: GP, best: float, F: np.ndarray, vals: np.ndarray, n: int, lip: float
    ) -> np.ndarray:
        """``n`` points (fewer if the pool runs out) from the pool ``F`` with acquisition ``vals``.

        Each point taken penalizes the pool around it (:func:`local_penalty`), so the next
        one comes from elsewhere. The penalty vanishes around a point expected to beat the
        incumbent, so the pool within ``_BATCH_GAP`` length scales of a point taken is
        excluded too (about where a believed pending point would leave the posterior
        variance collapsed).
        """
        vals = np.where(np.isfinite(vals), vals, -np.inf)
        taken = [0]
        for _ in range(n - 1):
            c = F[taken[-1] : taken[-1] + 1]
            vals = vals + local_penalty(model, best, F, c, lip)
            near = sq_dist(F, c, model.inv_l2, model.cat)[:, 0] < _BATCH_GAP**2
            vals[near | is_duplicate(F, c, _TOL)] = -np.inf
            i = int(np.argmax(vals))
            if not np.isfinite(vals[i]):
                break
            taken.append(i)
        return np.asarray(F[taken])

    @staticmethod
    def _fantasies(
        base: GP,
        believer: GP,
        P: np.ndarray,
        yP: np.ndarray,
        best: float,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``K^-1 y`` ``(n + p, S)`` of ``S`` joint draws at the pending ``P``, and their incumbents ``(S,)``.

        The draws are of the latent function (the model adds its noise when conditioning).
        They share the ``believer``'s inputs (``base`` extended by ``P``), so its factor.
        """
        C = base.cov(P)
        w, U = np.linalg.eigh(0.5 * (C + C.T))
        draws = (
            yP[None, :]
            + rng.standard_normal((_FANTASIES, P.shape[0])) @ (U * np.sqrt(np.maximum(w, 0.0))).T
        )
        Y = np.vstack([np.repeat(base.y[:, None], _FANTASIES, axis=1), draws.T])
        return chol_solve(believer.L, Y), np.minimum(best, draws.min(axis=1))

    def _cached_lipschitz(self, model: GP, cand: np.ndarray) -> float:
        """The Lipschitz estimate of local penalization; it changes slowly: once per refit."""
        fit = self._fit
        if fit is not None and fit.lip is not None:
            return fit.lip
        lip = self._lipschitz(model, cand)
        if fit is not None:
            fit.lip = lip
        return lip

    @staticmethod
    def _trust_box(model: GP, domain: Domain, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` in the unit cube: ``radius`` length scales around the best modelled point.

        Categorical coordinates keep their whole range.
        """
        d = domain.dim
        centre = model.X[int(np.argmin(model.y))]
        half = np.minimum(0.5, radius * np.exp(model.theta[:d]))
        lo = np.where(domain.cat, 0.0, np.clip(centre - half, 0.0, 1.0))
        hi = np.where(domain.cat, 1.0, np.clip(centre + half, 0.0, 1.0))
        return lo, hi

    def _local_candidates(
        self, model: GP, domain: Domain, rng: np.random.Generator, m: int
    ) -> np.ndarray:
        """Gaussian perturbations of the best modelled points, at two scales.

        The step is a fraction of each length scale, capped so that a coordinate
        the model finds irrelevant (a huge length scale) is not thrown to a bound.
        """
        if m <= 0 or model.n == 0:
            return np.empty((0, domain.dim))
        top = np.argsort(model.y, kind="stable")[: min(5, model.n)]
        base = model.X[top[rng.integers(top.shape[0], size=m)]]
        ls = np.exp(model.theta[: domain.dim])
        scale = np.where(rng.random((m, 1)) < 0.5, 0.1, 0.01)
        step = np.clip(scale * ls, 1e-4, 0.2)
        # perturb a random subset of coordinates (all of them in half the rows)
        mask = (rng.random((m, domain.dim)) < 0.5) | (rng.random((m, 1)) < 0.5)
        F = base + mask * step * rng.standard_normal(base.shape)
        cat = domain.cat
        if cat.any():
            # resample a categorical coordinate with probability 1/(d+1)
            flip = rng.random((m, int(cat.sum()))) < 1.0 / (domain.dim + 1)
            newv = np.floor(rng.random((m, int(cat.sum()))) * domain.sizes[cat])
            F[:, cat] = np.where(flip, newv, base[:, cat])
        return np.asarray(np.clip(F, 0.0, np.where(cat, domain.sizes - 1, 1.0)))

    @staticmethod
    def _lipschitz(model: GP, cand: np.ndarray) -> float:
        """Largest gradient norm of the mean (in length-scale units) over the candidates."""
        _, _, dmu, _ = model.predict_grad(cand[: min(cand.shape[0], 256)])
        ls = np.exp(model.theta[: model.X.shape[1]])
        lip = float(np.max(np.linalg.norm(dmu * ls, axis=1)))
        return lip if math.isfinite(lip) and lip > 1e-7 else 10.0

    @staticmethod
    def _random_unseen(
        domain: Domain, forbidden: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        for _ in range(256):
            u = rng.random((1, domain.dim))
            f = domain.snap(unit_to_features(u, domain))
            if not is_duplicate(f, forbidden, _TOL)[0]:
                return np.asarray(f[0])
        return np.asarray(f[0])


def _value(t: Trial) -> float | None:
    """The value of a COMPLETE trial, or ``None`` (failed, pruned, missing or not finite)."""
    if t.state is not TrialState.COMPLETE or t.value is None:
        return None
    v = float(t.value)
    return v if math.isfinite(v) else None


def trust_radius(ys: Sequence[float], start: int, initial: float, patience: int) -> float:
    """Half-width of the trust region, in length scales, after the outcomes ``ys`` (minimized).

    As TuRBO (Eriksson et al. 2019), counted in trials: two improvements in a row
    double it (up to four times ``initial``), ``patience`` trials without one halve
    it, and below ``initial / 16`` it starts again from ``initial``. The first
    ``start`` outcomes (the initial design) only set the incumbent. ``0`` turns it off.
    """
    if initial <= 0:
        return 0.0
    radius, wins, losses = initial, 0, 0
    best = min(ys[:start], default=math.inf)
    for v in ys[start:]:
        if v < best - 1e-3 * abs(best):
            wins, losses = wins + 1, 0
        else:
            wins, losses = 0, losses + 1
        best = min(best, v)
        if wins >= 2:
            radius, wins = min(4 * initial, 2 * radius), 0
        elif losses >= patience:
            radius, losses = radius / 2, 0
            if radius < initial / 16:
                radius = initial
    return radius


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
