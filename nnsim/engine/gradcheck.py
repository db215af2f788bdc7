"""Gradient checking: backprop's gradient against centred finite differences.

For a loss J(θ) and each checked parameter θ_i,

    g_num,i = (J(θ + h e_i) − J(θ − h e_i)) / (2h)          (h = 1e-5 by default)

whose error is O(h²) from the Taylor remainder plus about ε_mach |J| / h from rounding, i.e. near
1e-10 relative in double precision. Per block (a weight matrix or a bias vector) the relative error

    err = max_i |g_i − g_num,i| / max( max_i (|g_i| + |g_num,i|), tiny )

is reported; below 1e-7 the block passes (the usual double-precision threshold; the course material
only motivates gradient checking, 004, and gives no formula). Each entry's own ratio
``|g_i − g_num,i| / max(|g_i| + |g_num,i|, tiny)`` is also given: a single entry can fail where the
block passes, or where the function has a kink.

Rounding floor: J(θ ± h e_i) carry rounding errors of a few ε_mach |J|, so the difference quotient
is only good to about ε_mach |J| / h. Near a minimum or on a plateau the gradients can be that
small, and the relative error is then meaningless noise. A block whose max |g − g_num| is below
``NOISE_FACTOR · ε_mach · |J| / h`` therefore counts as agreeing (``below_noise``), and an entry
only counts as failing when its difference is above that floor too.

Kinks: ReLU-type units are not differentiable at z = 0. Backprop uses the one-sided derivative
(0 for ReLU), but when a unit's net input z lies within about h·|a| of 0, θ ± h e_i puts z on both
sides of the kink and the difference quotient averages the two slopes. Such entries fail although
backprop is right; a different sample, a different h, or a smooth activation makes them pass. A
true bug (the course code's leaky-ReLU forward with a plain-ReLU derivative, 004) fails on every
entry it touches, whatever h.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

DEFAULT_H = 1e-5
THRESHOLD = 1e-7
TINY = 1e-12
#: at most this many entries of one block are checked (chosen at random, seeded); 2 losses each
MAX_ENTRIES = 400
#: the rounding floor of the difference quotient is NOISE_FACTOR · ε_mach · |J| / h
NOISE_FACTOR = 100.0


@dataclass(frozen=True, eq=False)
class BlockCheck:
    """The result for one parameter block (``W1``, ``b1``, ...)."""

    name: str
    shape: tuple
    n_total: int
    n_checked: int
    rel_error: float          # the block's relative error (see the module docstring)
    max_abs_diff: float       # max_i |g_i − g_num,i|
    worst_index: tuple        # index (in the block's shape) of the entry with the largest own ratio
    worst_entry_error: float  # that entry's |g − g_num| / max(|g| + |g_num|, tiny)
    worst_g: float            # backprop's value there
    worst_g_num: float        # the finite difference there
    n_entries_failing: int    # entries whose own ratio is >= the threshold (and above the floor)
    threshold: float
    noise_floor: float = 0.0  # NOISE_FACTOR · ε_mach · |J| / h
    below_noise: bool = False  # failed the ratio but every difference is below the rounding floor

    @property
    def passed(self) -> bool:
        return bool(self.rel_error < self.threshold or self.below_noise)


def relative_error(g, g_num, tiny: float = TINY) -> float:
    """max |g − g_num| / max(max (|g| + |g_num|), tiny) over all entries."""
    g, g_num = np.asarray(g, float).ravel(), np.asarray(g_num, float).ravel()
    if g.size == 0:
        return 0.0
    return float(np.max(np.abs(g - g_num)) / max(float(np.max(np.abs(g) + np.abs(g_num))), tiny))


def entry_errors(g, g_num, tiny: float = TINY) -> np.ndarray:
    """Per entry: |g − g_num| / max(|g| + |g_num|, tiny)."""
    g, g_num = np.asarray(g, float), np.asarray(g_num, float)
    return np.abs(g - g_num) / np.maximum(np.abs(g) + np.abs(g_num), tiny)


def numerical_gradient(f: Callable[[np.ndarray], float], theta, h: float = DEFAULT_H,
                       indices=None) -> np.ndarray:
    """Centred differences of ``f`` at ``theta`` for the flat ``indices`` (default: all)."""
    theta = np.array(theta, dtype=np.float64, copy=True)
    idx = np.arange(theta.size) if indices is None else np.asarray(indices, dtype=np.int64)
    out = np.empty(len(idx))
    for n, i in enumerate(idx):
        old = theta[i]
        theta[i] = old + h
        fp = f(theta)
        theta[i] = old - h
        fm = f(theta)
        theta[i] = old
        out[n] = (fp - fm) / (2.0 * h)
    return out


def check(f: Callable[[np.ndarray], float], grad, theta, blocks, h: float = DEFAULT_H,
          threshold: float = THRESHOLD, max_entries: int = MAX_ENTRIES, seed: int = 0) -> list[BlockCheck]:
    """Compare ``grad`` (flat, backprop) with centred differences of ``f`` per block.

    ``blocks`` lists ``(name, offset, shape)`` of each block in the flat vector. Blocks with more
    than ``max_entries`` entries are checked on a random subset of that size (seeded).
    """
    grad = np.asarray(grad, dtype=np.float64).ravel()
    rng = np.random.default_rng(seed)
    floor = NOISE_FACTOR * np.finfo(np.float64).eps * max(abs(float(f(np.array(theta, dtype=np.float64)))),
                                                          TINY) / h
    out = []
    for name, off, shape in blocks:
        n = int(np.prod(shape))
        local = np.arange(n) if n <= max_entries else np.sort(rng.choice(n, max_entries, replace=False))
        g = grad[off + local]
        g_num = numerical_gradient(f, theta, h, off + local)
        errs = entry_errors(g, g_num)
        diff = np.abs(g - g_num)
        w = int(np.argmax(errs)) if len(errs) else 0
        rel = relative_error(g, g_num)
        out.append(BlockCheck(
            name=name, shape=tuple(shape), n_total=n, n_checked=len(local),
            rel_error=rel, max_abs_diff=float(diff.max()) if n else 0.0,
            worst_index=tuple(int(v) for v in np.unravel_index(int(local[w]), shape)) if n else (),
            worst_entry_error=float(errs[w]) if n else 0.0, worst_g=float(g[w]) if n else 0.0,
            worst_g_num=float(g_num[w]) if n else 0.0,
            n_entries_failing=int(np.sum((errs >= threshold) & (diff > floor))), threshold=threshold,
            noise_floor=floor, below_noise=bool(rel >= threshold and n and diff.max() <= floor)))
    return out
