"""The options of the GP sampler, documented and validated in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from parabo._check import check_choice, check_integer, check_number
from parabo.exceptions import ConfigError
from parabo.gp.pending import PENDING_STRATEGIES, PendingStrategy
from parabo.gp.search import AcquisitionName, SearchSettings

__all__ = ["GPOptions"]


@dataclass(frozen=True)
class GPOptions:
    """Options of :class:`~parabo.samplers.gp.GPSampler` (``sampler: {name: gp, ...}`` in a study file).

    Attributes:
        acquisition: ``"logei"`` (default, log expected improvement), ``"ucb"`` or ``"thompson"``.
        pending: how the trials in flight are accounted for: ``"kb"`` (default, kriging
            believer), ``"cl"`` (constant liar), ``"lp"`` (local penalization), ``"fantasy"``
            (Monte Carlo fantasies) or ``"none"``; see :mod:`parabo.gp.pending`. With
            ``acquisition="ucb"`` or ``"thompson"``, ``"fantasy"`` is the believer.
        n_startup: size of the initial (Sobol) design (default ``min(10, d + 3)``): the GP takes
            over once this many trials completed or, with trials in flight, once this many
            were started and ``min(n_startup, 4)`` completed (the trials in flight are part of
            the design; waiting for ``n_startup`` completions with 16 workers would start 15
            more quasi-random points than a sequential run).
        failed: ``"worst"`` (default): failed trials (and pruned ones that are not modelled
            by their value) are modelled as if they had returned the worst completed value, so
            their region is avoided; ``"ignore"``: they are left out of the model (their points
            are still never suggested again).
        pruned: ``"last"`` (default): a trial stopped early is modelled by its last reported
            value, the value at the highest step it reached (worse, for a falling learning
            curve, than its final value would have been), and counts toward the initial design;
            ``"worst"``: as a failed trial.
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
            and each of them waits for its suggestion; ``benchmarks/coordinator``). With
            ``pending_cap`` or more in flight, the scheduler also asks for every free worker
            at once, and one search of the acquisition serves the batch.
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
            ("plug-in" EI). On noise-free objectives the two agree. ``"observed"``: the best
            observed value.
    """

    acquisition: AcquisitionName = "logei"
    pending: PendingStrategy = "kb"
    n_startup: int | None = None
    failed: Literal["worst", "ignore"] = "worst"
    pruned: Literal["last", "worst"] = "last"
    ucb_beta: float = 4.0
    warp: bool = True
    refit_every: float = 0.05
    fit_max_points: int = 250
    max_points: int = 1000
    n_candidates: int = 512
    n_starts: int = 8
    pending_cap: int = 64
    busy_max_points: int = 300
    trust_region: float = 0.2
    trust_region_share: float = 0.5
    incumbent: Literal["observed", "mean"] = "mean"

    def __post_init__(self) -> None:
        check_choice(self.acquisition, ("logei", "ucb", "thompson"), "sampler.acquisition")
        check_choice(self.pending, PENDING_STRATEGIES, "sampler.pending")
        check_choice(self.failed, ("worst", "ignore"), "sampler.failed")
        check_choice(self.pruned, ("last", "worst"), "sampler.pruned")
        check_choice(self.incumbent, ("observed", "mean"), "sampler.incumbent")
        if self.n_startup is not None:
            check_integer(self.n_startup, 1, "sampler.n_startup")
        for name in ("fit_max_points", "max_points", "busy_max_points"):
            check_integer(getattr(self, name), 10, f"sampler.{name}")
        for name in ("n_candidates", "n_starts", "pending_cap"):
            check_integer(getattr(self, name), 1, f"sampler.{name}")
        check_number(self.ucb_beta, "sampler.ucb_beta", 0.0)
        check_number(self.refit_every, "sampler.refit_every", 0.0)
        check_number(self.trust_region, "sampler.trust_region", 0.0, hint=" (0 turns it off)")
        check_number(self.trust_region_share, "sampler.trust_region_share", 0.0, 1.0)
        if not isinstance(self.warp, bool):
            raise ConfigError(f"must be true or false, got {self.warp!r}", field="sampler.warp")

    def search_settings(self, tol: float) -> SearchSettings:
        """The settings of one search of the acquisition (:func:`parabo.gp.search.suggest`)."""
        return SearchSettings(
            acquisition=self.acquisition,
            pending=self.pending,
            pending_cap=self.pending_cap,
            ucb_beta=float(self.ucb_beta),
            n_candidates=self.n_candidates,
            n_starts=self.n_starts,
            trust_region_share=float(self.trust_region_share),
            tol=tol,
        )
