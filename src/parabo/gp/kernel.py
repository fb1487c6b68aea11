"""Matérn-5/2 ARD kernel with a Hamming distance on categorical coordinates.

See :mod:`parabo.gp` for the notation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Domain", "dm52_dr2", "matern52", "pair_dists", "sq_dist"]

SQRT5 = float(np.sqrt(5.0))

FLOAT, INT, CAT = 0, 1, 2


@dataclass(frozen=True)
class Domain:
    """What each input coordinate is, so the kernel and the optimizer treat it right.

    Attributes:
        kinds: ``(d,)`` per coordinate ``FLOAT`` (0), ``INT`` (1) or ``CAT`` (2).
        sizes: ``(d,)`` number of values of an integer or categorical coordinate (0 for floats).
        centres: for each ``INT`` coordinate, the sorted unit-cube encodings of its
            values (``None`` for other coordinates, or for integers too wide to list,
            which are then optimized as floats and rounded by the caller).
    """

    kinds: np.ndarray
    sizes: np.ndarray
    centres: tuple[np.ndarray | None, ...] = field(default=())

    def __post_init__(self) -> None:
        kinds = np.asarray(self.kinds, dtype=np.int8)
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "sizes", np.asarray(self.sizes, dtype=np.int64))
        if not self.centres:
            object.__setattr__(self, "centres", (None,) * kinds.shape[0])

    @classmethod
    def continuous(cls, d: int) -> Domain:
        """A domain of ``d`` float coordinates."""
        return cls(np.zeros(d, dtype=np.int8), np.zeros(d, dtype=np.int64))

    @property
    def dim(self) -> int:
        return int(self.kinds.shape[0])

    @property
    def cat(self) -> np.ndarray:
        """``(d,)`` bool: categorical coordinates."""
        return np.asarray(self.kinds == CAT)

    @property
    def cont(self) -> np.ndarray:
        """``(d,)`` bool: coordinates compared by distance (floats and integers)."""
        return np.asarray(self.kinds != CAT)

    @property
    def discrete(self) -> np.ndarray:
        """``(d,)`` bool: coordinates optimized by discrete search (categoricals, listed integers)."""
        listed = np.array([c is not None for c in self.centres], dtype=bool)
        return np.asarray((self.kinds == CAT) | ((self.kinds == INT) & listed))

    def snap(self, F: np.ndarray) -> np.ndarray:
        """Round points ``(m, d)`` onto valid values: listed integers to their nearest encoding,
        categorical indices to the nearest valid index; floats are clipped to ``[0, 1]``."""
        F = np.array(F, dtype=float, copy=True)
        for j in range(self.dim):
            if self.kinds[j] == CAT:
                F[:, j] = np.clip(np.rint(F[:, j]), 0, self.sizes[j] - 1)
            else:
                F[:, j] = np.clip(F[:, j], 0.0, 1.0)
                c = self.centres[j]
                if c is not None:
                    F[:, j] = c[_nearest(c, F[:, j])]
        return F

    def neighbours(self, f: np.ndarray) -> np.ndarray:
        """Points ``(q, d)`` one discrete step from ``f`` ``(d,)``: each other category, next integers."""
        out = []
        for j in np.flatnonzero(self.discrete):
            if self.kinds[j] == CAT:
                for v in range(int(self.sizes[j])):
                    if v != f[j]:
                        g = f.copy()
                        g[j] = v
                        out.append(g)
            else:
                c = self.centres[j]
                assert c is not None
                i = int(_nearest(c, np.array([f[j]]))[0])
                for k in (i - 1, i + 1):
                    if 0 <= k < c.shape[0]:
                        g = f.copy()
                        g[j] = c[k]
                        out.append(g)
        return np.array(out).reshape(-1, f.shape[0])


def _nearest(c: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the nearest entry of the sorted array ``c`` for each ``u``."""
    i = np.clip(np.searchsorted(c, u), 1, c.shape[0] - 1)
    left = c[i - 1]
    right = c[i]
    return np.where(np.abs(u - left) <= np.abs(right - u), i - 1, i)


def matern52(r2: np.ndarray) -> np.ndarray:
    """``m52`` of squared scaled distances (any shape)."""
    r = np.sqrt(r2)
    return np.asarray((1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * np.exp(-SQRT5 * r))


def dm52_dr2(r2: np.ndarray) -> np.ndarray:
    """Derivative of ``m52`` with respect to ``r2``: ``-5/6 (1 + sqrt5 r) exp(-sqrt5 r)``.

    Finite at ``r = 0``, which is why the kernel is parametrized by ``r2``.
    """
    r = np.sqrt(r2)
    return np.asarray(-(5.0 / 6.0) * (1.0 + SQRT5 * r) * np.exp(-SQRT5 * r))


def sq_dist(A: np.ndarray, B: np.ndarray, inv_l2: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Squared scaled distances ``r2`` between ``A (m, d)`` and ``B (n, d)``, shape ``(m, n)``."""
    cont = ~cat
    m, n = A.shape[0], B.shape[0]
    r2 = np.zeros((m, n))
    if cont.any():
        s = np.sqrt(inv_l2[cont])
        As = A[:, cont] * s
        Bs = B[:, cont] * s
        r2 += np.einsum("ij,ij->i", As, As)[:, None]
        r2 += np.einsum("ij,ij->i", Bs, Bs)[None, :]
        r2 -= 2.0 * As @ Bs.T
        np.maximum(r2, 0.0, out=r2)
    for j in np.flatnonzero(cat):
        r2 += (A[:, j, None] != B[None, :, j]) * inv_l2[j]
    return r2


def pair_dists(X: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Per-coordinate distances ``D (n, n, d)`` between the rows of ``X`` (used by the fit)."""
    diff = X[:, None, :] - X[None, :, :]
    D = diff * diff
    if cat.any():
        D[:, :, cat] = (diff[:, :, cat] != 0).astype(float)
    return np.asarray(D)
