"""Exact t-SNE (van der Maaten & Hinton 2008) in float64 numba kernels, and the springs view of it.

Input similarities. For each point i a Gaussian of precision beta_i = 1 / (2 sigma_i^2) gives

    p_{j|i} = exp(-beta_i ||x_i - x_j||^2) / sum_{k != i} exp(-beta_i ||x_i - x_k||^2),

with beta_i found per point (safeguarded Newton steps in log beta, falling back to bisection) so
that the perplexity 2^H(P_i), H(P_i) = -sum_j p_{j|i} log2 p_{j|i}, equals the user's value (the
entropy is matched to within 1e-8 nats). The joint affinities are p_ij = (p_{j|i} + p_{i|j}) / 2N.

Map similarities (Student t, one degree of freedom): w_ij = (1 + ||y_i - y_j||^2)^-1,
q_ij = w_ij / Z with Z = sum_{k != l} w_kl. Cost C = KL(P || Q) = sum_ij p_ij log(p_ij / q_ij) and

    dC/dy_i = 4 sum_j (p_ij - q_ij) w_ij (y_i - y_j)
            = 4 [ sum_j p_ij w_ij (y_i - y_j) - (1/Z) sum_j w_ij^2 (y_i - y_j) ],

the second form needing a single pass over the pairs. Springs: the pair (i, j) pulls y_i towards y_j
when p_ij > q_ij (attraction) and pushes it away when p_ij < q_ij (repulsion); its force has size
4 |p_ij - q_ij| w_ij ||y_i - y_j||.

Optimizer (as in the paper and scikit-learn): per coordinate gains g <- g + 0.2 where the gradient and
the last update have opposite signs, g <- 0.8 g otherwise, g >= 0.01; update
u <- m u - eta g * dC/dy, y <- y + u; momentum m = 0.5 before ``momentum_switch`` (250) iterations,
then 0.8; early exaggeration multiplies P by alpha = 12 for the first 250 iterations; learning rate
"auto" is eta = max(N / alpha / 4, 50) (Belkina et al. 2019, scikit-learn's default). Initialization:
the first two principal components scaled so the first has standard deviation 1e-4, or N(0, 1e-4 I).

KL is evaluated on the true P (never exaggerated): KL = sum p log p + sum_ij p_ij log(1 + d_ij^2)
+ (sum p) log Z; it costs a logarithm per pair, so the optimizer records it every ``kl_every``
iterations rather than at each one.

:class:`TSNE` is the notebook API (``fit``) and also steps (``prepare``/``step``) and reports the
springs; :class:`TSNESimulation` wraps it for the panel (one step = one iteration).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from nnsim.engine import tsne_data
from nnsim.engine._jit import njit
from nnsim.engine.base import (DIVERGED, FINISHED, NOT_CONVERGED, RUNNING, ParamError, Params,
                               SimulationBase, Snapshot, param)
from numba import prange  # noqa: E402  (after _jit set numba's cache directory)

#: reassociation lets LLVM vectorize the pair sums; NaN/inf semantics are kept (no nnan/ninf)
_FM = {"reassoc", "contract", "arcp", "nsz"}
MIN_GAIN = 0.01
KMAX = 10                 # springs per point: the k <= KMAX strongest input neighbours
ENTROPY_TOL = 1e-8        # nats; the perplexity calibration target
MAX_THRESHOLD_SPRINGS = 4000

_par = njit(parallel=True, fastmath=_FM)


# ---- kernels ------------------------------------------------------------------------------------
@_par
def _sq_distances(X, D):
    """D[i, j] = ||x_i - x_j||^2 (exact differences, not the Gram-matrix shortcut)."""
    n, d = X.shape
    for i in prange(n):
        D[i, i] = 0.0
        for j in range(i + 1, n):
            s = 0.0
            for k in range(d):
                t = X[i, k] - X[j, k]
                s += t * t
            D[i, j] = s
    for i in prange(n):
        for j in range(i):
            D[i, j] = D[j, i]
    return D


@njit
def _row_entropy(D, i, beta, dmin, p):
    """Fill p (unnormalized, shifted by dmin) for row i; return (H in nats, S, var of d)."""
    n = D.shape[0]
    s = 0.0
    sd = 0.0
    sdd = 0.0
    for j in range(n):
        if j == i:
            p[j] = 0.0
            continue
        dj = D[i, j] - dmin
        v = math.exp(-beta * dj)
        p[j] = v
        s += v
        sd += v * dj
        sdd += v * dj * dj
    mean = sd / s
    var = max(sdd / s - mean * mean, 0.0)
    return math.log(s) + beta * mean, s, var


@njit(parallel=True)
def _calibrate(D, perplexity, tol, max_iter, Pc, beta_out, err_out):
    """Row-wise Newton/bisection on u = log beta so that H(P_i) = log(perplexity) (nats).

    H decreases with beta, dH/du = -beta^2 Var_p(d). A Newton step leaving the bracket, or a flat H,
    falls back to bisection (doubling while one side is still open).
    """
    n = D.shape[0]
    target = math.log(perplexity)
    for i in prange(n):
        p = Pc[i]
        dmin = np.inf
        dsum = 0.0
        for j in range(n):
            if j != i:
                dmin = min(dmin, D[i, j])
        for j in range(n):
            if j != i:
                dsum += D[i, j] - dmin
        scale = dsum / (n - 1)
        u = -math.log(scale) if scale > 0.0 else 0.0
        lo = -np.inf
        hi = np.inf
        h = np.inf
        s = 1.0
        fresh = False                 # p holds the row for the current u
        for _ in range(max_iter):
            beta = math.exp(u)
            h, s, var = _row_entropy(D, i, beta, dmin, p)
            fresh = True
            diff = h - target
            if abs(diff) < tol:
                break
            if diff > 0.0:
                lo = u        # entropy too high: sharpen (larger beta)
            else:
                hi = u
            slope = -beta * beta * var
            nu = u - diff / slope if slope < 0.0 else np.nan
            if not (nu > lo and nu < hi):      # also catches NaN
                if hi == np.inf:
                    nu = u + 1.0
                elif lo == -np.inf:
                    nu = u - 1.0
                else:
                    nu = 0.5 * (lo + hi)
            if nu == u or (hi - lo) < 1e-14 * (1.0 + abs(u)):
                break
            u = nu
            fresh = False
        if not fresh:
            h, s, var = _row_entropy(D, i, math.exp(u), dmin, p)
        for j in range(n):
            p[j] /= s
        beta_out[i] = math.exp(u)
        err_out[i] = abs(h - target)
    return Pc


@_par
def _symmetrize(Pc, P):
    n = Pc.shape[0]
    c = 1.0 / (2.0 * n)
    for i in prange(n):
        for j in range(n):
            P[i, j] = (Pc[i, j] + Pc[j, i]) * c
    return P


@_par
def _top_neighbours(P, k, idx):
    """idx[i] = the k columns of the largest P[i, j] (j != i), strongest first."""
    n = P.shape[0]
    for i in prange(n):
        vals = np.full(k, -1.0)
        cols = np.full(k, -1, np.int64)
        for j in range(n):
            if j == i:
                continue
            v = P[i, j]
            if v > vals[k - 1]:
                m = k - 1
                while m > 0 and vals[m - 1] < v:
                    vals[m] = vals[m - 1]
                    cols[m] = cols[m - 1]
                    m -= 1
                vals[m] = v
                cols[m] = j
        for m in range(k):
            idx[i, m] = cols[m]
    return idx


@_par
def _grad_pass(P, Y, ex, G, zrow):
    """G[i] = dC/dy_i with P multiplied by ex; returns Z = sum_{k != l} w_kl (one pass per row)."""
    n = Y.shape[0]
    for i in prange(n):
        yi0 = Y[i, 0]
        yi1 = Y[i, 1]
        z = 0.0
        a0 = 0.0
        a1 = 0.0
        r0 = 0.0
        r1 = 0.0
        for j in range(n):
            d0 = yi0 - Y[j, 0]
            d1 = yi1 - Y[j, 1]
            w = 1.0 / (1.0 + d0 * d0 + d1 * d1)
            pw = P[i, j] * w
            w2 = w * w
            z += w
            a0 += pw * d0
            a1 += pw * d1
            r0 += w2 * d0
            r1 += w2 * d1
        zrow[i] = z - 1.0           # the j = i term has w = 1 and no displacement
        G[i, 0] = a0
        G[i, 1] = a1
        G[i, 2] = r0
        G[i, 3] = r1
    Z = 0.0
    for i in range(n):
        Z += zrow[i]
    for i in range(n):          # serial: one parallel region per iteration is enough
        G[i, 0] = 4.0 * (ex * G[i, 0] - G[i, 2] / Z)
        G[i, 1] = 4.0 * (ex * G[i, 1] - G[i, 3] / Z)
    return Z


@njit
def _kl_row(P, Y, i):
    """sum_{j > i} p_ij log(1 + d_ij^2) and sum_{j > i} w_ij."""
    n = Y.shape[0]
    s = 0.0
    z = 0.0
    yi0 = Y[i, 0]
    yi1 = Y[i, 1]
    for j in range(i + 1, n):
        d0 = yi0 - Y[j, 0]
        d1 = yi1 - Y[j, 1]
        q = 1.0 + d0 * d0 + d1 * d1
        s += P[i, j] * math.log(q)
        z += 1.0 / q
    return s, z


@_par
def _kl_pass(P, Y, hp, psum, srow, zrow):
    """Exact KL(P || Q) at Y: sum p log p + sum p log(1 + d^2) + (sum p) log Z, over pairs i < j;
    rows t and n-1-t form one task so that both threads get the same amount of work."""
    n = Y.shape[0]
    for t in prange((n + 1) // 2):
        srow[t], zrow[t] = _kl_row(P, Y, t)
        u = n - 1 - t
        if u != t:
            srow[u], zrow[u] = _kl_row(P, Y, u)
    S = 0.0
    Z = 0.0
    for i in range(n):
        S += srow[i]
        Z += zrow[i]
    return hp + 2.0 * S + psum * math.log(2.0 * Z)


@njit
def _p_log_p(P):
    s = 0.0
    t = 0.0
    n = P.shape[0]
    for i in range(n):
        for j in range(n):
            v = P[i, j]
            if v > 0.0:
                s += v * math.log(v)
                t += v
    return s, t


@njit
def _optimize(P, Y, upd, gains, G, zrow, srow, it0, n, ex, ex_iters, mom0, mom1, mom_switch, lr,
              kl_every, hp, psum, kl_out, g_ready, z_ready):
    """``n`` iterations of gradient descent with momentum and gains (see the module docstring).

    kl_out[s] receives KL(P || Q) of the map after iteration it0 + s when that iteration number is a
    multiple of ``kl_every`` (NaN otherwise). With ``g_ready`` G already holds the gradient at Y (and
    z_ready its Z), computed by the same kernel for the panel's force arrows: it is used as is.
    Returns (iterations done, Z, |grad|); it stops early, leaving Y at the last finite map, if the
    gradient stops being finite (divergence).
    """
    N = Y.shape[0]
    Z = 0.0
    gnorm = 0.0
    for s in range(n):
        t = it0 + s
        e = ex if t < ex_iters else 1.0
        m = mom0 if t < mom_switch else mom1
        if s == 0 and g_ready:
            Z = z_ready
        else:
            Z = _grad_pass(P, Y, e, G, zrow)
        gn = 0.0
        for i in range(N):
            gn += G[i, 0] * G[i, 0] + G[i, 1] * G[i, 1]
        if not (math.isfinite(gn) and math.isfinite(Z) and Z > 0.0):
            return s, Z, math.sqrt(gn) if math.isfinite(gn) else gn
        gnorm = math.sqrt(gn)
        for i in range(N):
            for c in range(2):
                g = G[i, c]
                if upd[i, c] * g < 0.0:
                    gains[i, c] += 0.2
                else:
                    gains[i, c] *= 0.8
                if gains[i, c] < MIN_GAIN:
                    gains[i, c] = MIN_GAIN
                upd[i, c] = m * upd[i, c] - lr * gains[i, c] * g
                Y[i, c] += upd[i, c]
        kl_out[s] = np.nan
        if (t + 1) % kl_every == 0:
            kl_out[s] = _kl_pass(P, Y, hp, psum, srow, zrow)
    return n, Z, gnorm


@_par
def _pair_forces(P, Y, ex, Z, I, J, p_out, q_out, f_out):
    """For the listed pairs: p (times ex), q = w / Z and the spring force 4 |p - q| w |y_i - y_j|."""
    for m in prange(I.shape[0]):
        i = I[m]
        j = J[m]
        d0 = Y[i, 0] - Y[j, 0]
        d1 = Y[i, 1] - Y[j, 1]
        d2 = d0 * d0 + d1 * d1
        w = 1.0 / (1.0 + d2)
        p = ex * P[i, j]
        q = w / Z
        p_out[m] = p
        q_out[m] = q
        f_out[m] = 4.0 * abs(p - q) * w * math.sqrt(d2)


@njit
def _force_row_max(P, Y, ex, Z, i):
    n = Y.shape[0]
    fmax = 0.0
    yi0 = Y[i, 0]
    yi1 = Y[i, 1]
    for j in range(i + 1, n):
        d0 = yi0 - Y[j, 0]
        d1 = yi1 - Y[j, 1]
        d2 = d0 * d0 + d1 * d1
        w = 1.0 / (1.0 + d2)
        fmax = max(fmax, 4.0 * abs(ex * P[i, j] - w / Z) * w * math.sqrt(d2))
    return fmax


@_par
def _force_max(P, Y, ex, Z, out):
    """out[i] = the largest spring force of the pairs (i, j > i); rows t and n-1-t per task."""
    n = Y.shape[0]
    for t in prange((n + 1) // 2):
        out[t] = _force_row_max(P, Y, ex, Z, t)
        u = n - 1 - t
        if u != t:
            out[u] = _force_row_max(P, Y, ex, Z, u)
    return out


@njit
def _force_bin(f, lo, nbins):
    """Bin of a force f >= lo: 0.1-decade bins above lo, the last one open-ended; -1 below lo."""
    if not f >= lo:
        return -1
    return min(int(10.0 * math.log10(f / lo)), nbins - 1)


@njit
def _force_row_hist(P, Y, ex, Z, lo, i, hist):
    n = Y.shape[0]
    nbins = hist.shape[1]
    for b in range(nbins):
        hist[i, b] = 0
    for j in range(i + 1, n):
        d0 = Y[i, 0] - Y[j, 0]
        d1 = Y[i, 1] - Y[j, 1]
        d2 = d0 * d0 + d1 * d1
        w = 1.0 / (1.0 + d2)
        f = 4.0 * abs(ex * P[i, j] - w / Z) * w * math.sqrt(d2)
        if f >= lo:
            hist[i, _force_bin(f, lo, nbins)] += 1


@_par
def _force_hist(P, Y, ex, Z, lo, hist):
    """hist[i, b]: how many pairs (i, j > i) have a force in bin b (see _force_bin)."""
    n = Y.shape[0]
    for t in prange((n + 1) // 2):
        _force_row_hist(P, Y, ex, Z, lo, t, hist)
        u = n - 1 - t
        if u != t:
            _force_row_hist(P, Y, ex, Z, lo, u, hist)


@_par
def _collect_pairs(P, Y, ex, Z, lo, bmin, nbins, starts, I, J):
    """The pairs (i, j > i) whose force bin is >= bmin, row by row from starts[i]."""
    n = Y.shape[0]
    for i in prange(n):
        k = starts[i]
        for j in range(i + 1, n):
            d0 = Y[i, 0] - Y[j, 0]
            d1 = Y[i, 1] - Y[j, 1]
            d2 = d0 * d0 + d1 * d1
            w = 1.0 / (1.0 + d2)
            f = 4.0 * abs(ex * P[i, j] - w / Z) * w * math.sqrt(d2)
            if f >= lo and _force_bin(f, lo, nbins) >= bmin:
                I[k] = i
                J[k] = j
                k += 1


@_par
def _top_repulsive(P, Y, ex, Z, k, idx, val):
    """idx[i]: the k partners j of the strongest repelling springs of i (ex p_ij < q_ij), strongest
    first (-1 where there are fewer); val[i] their forces."""
    n = Y.shape[0]
    for i in prange(n):
        for m in range(k):
            idx[i, m] = -1
            val[i, m] = -1.0
        yi0 = Y[i, 0]
        yi1 = Y[i, 1]
        for j in range(n):
            if j == i:
                continue
            d0 = yi0 - Y[j, 0]
            d1 = yi1 - Y[j, 1]
            d2 = d0 * d0 + d1 * d1
            w = 1.0 / (1.0 + d2)
            pq = ex * P[i, j] - w / Z
            if pq >= 0.0:
                continue
            f = -4.0 * pq * w * math.sqrt(d2)
            if f > val[i, k - 1]:
                m = k - 1
                while m > 0 and val[i, m - 1] < f:
                    val[i, m] = val[i, m - 1]
                    idx[i, m] = idx[i, m - 1]
                    m -= 1
                val[i, m] = f
                idx[i, m] = j


# numba's workqueue threading layer (used when neither OpenMP nor TBB is available) must not be
# entered from two threads at once; with it, parallel kernels are serialized by this lock.
_LOCK = threading.RLock()
_LAYER: list[str] = []
#: below this many points one thread is used: a parallel region per iteration then costs more in
#: synchronisation than it saves, and it leaves the second core to the GUI
PARALLEL_MIN_N = 700


class _Guard:
    """Around every kernel call: the thread count for problem size ``n`` (restored afterwards;
    numba's setting is per calling thread) and, with the workqueue layer, a lock."""

    def __init__(self, n: int | None = None, threads: int | None = None):
        self.n = n
        self.threads = threads

    def __enter__(self):
        import numba

        if not _LAYER:
            try:
                _LAYER.append(numba.threading_layer())
            except ValueError:        # no parallel kernel has run yet: be safe
                pass
        self.locked = not _LAYER or _LAYER[0] == "workqueue"
        if self.locked:
            _LOCK.acquire()
        self.prev = numba.get_num_threads()
        if self.threads is not None:
            want = max(1, min(int(self.threads), numba.config.NUMBA_NUM_THREADS))
        elif self.n is not None and self.n < PARALLEL_MIN_N:
            want = 1
        else:
            want = numba.config.NUMBA_NUM_THREADS
        if want != self.prev:
            numba.set_num_threads(want)
        return self

    def __exit__(self, *exc):
        import numba

        if numba.get_num_threads() != self.prev:
            numba.set_num_threads(self.prev)
        if self.locked:
            _LOCK.release()


# ---- plain functions (numpy in, numpy out) -------------------------------------------------------
def squared_distances(X) -> np.ndarray:
    """Pairwise squared Euclidean distances, shape (N, N)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    with _Guard(X.shape[0]):
        return _sq_distances(X, np.empty((X.shape[0], X.shape[0])))


def conditional_p(D, perplexity: float, tol: float = ENTROPY_TOL, max_iter: int = 200):
    """Row-normalized p_{j|i} for squared distances D; returns (P_cond, beta, entropy error in nats).

    ``beta_i = 1 / (2 sigma_i^2)``; each row's entropy is log(perplexity) to within ``tol`` unless the
    target is unreachable (e.g. more than ``perplexity`` duplicates of a point), which ``error`` shows.
    """
    D = np.ascontiguousarray(D, dtype=np.float64)
    n = D.shape[0]
    if n < 3:
        raise ValueError(f"t-SNE needs at least 3 points, got {n}")
    if not 1.0 < perplexity < n - 1:
        raise ValueError(f"perplexity must be between 1 and N - 1 = {n - 1}, got {perplexity}")
    Pc, beta, err = np.empty((n, n)), np.empty(n), np.empty(n)
    with _Guard(n):
        _calibrate(D, float(perplexity), float(tol), int(max_iter), Pc, beta, err)
    return Pc, beta, err


def joint_p(Pc) -> np.ndarray:
    """p_ij = (p_{j|i} + p_{i|j}) / 2N."""
    Pc = np.ascontiguousarray(Pc, dtype=np.float64)
    with _Guard(Pc.shape[0]):
        return _symmetrize(Pc, np.empty_like(Pc))


def kl_divergence(P, Y) -> float:
    """KL(P || Q) of the map Y (exact, O(N^2))."""
    P = np.ascontiguousarray(P, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    n = Y.shape[0]
    hp, psum = _p_log_p(P)
    with _Guard(n):
        return float(_kl_pass(P, Y, hp, psum, np.empty(n), np.empty(n)))


def gradient(P, Y, exaggeration: float = 1.0) -> tuple[np.ndarray, float]:
    """dC/dy (N, 2) with P multiplied by ``exaggeration``, and Z = sum_{k != l} (1 + d_kl^2)^-1."""
    P = np.ascontiguousarray(P, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    n = Y.shape[0]
    G = np.empty((n, 4))
    with _Guard(n):
        Z = _grad_pass(P, Y, float(exaggeration), G, np.empty(n))
    return G[:, :2].copy(), float(Z)


def pca(X) -> tuple[np.ndarray, np.ndarray]:
    """Scores on the first two principal components (centred data, SVD) and their share of the
    variance. Signs are fixed so each component's largest loading is positive (deterministic)."""
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0)
    _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    k = min(2, Vt.shape[0])
    V = Vt[:k].T.copy()
    for c in range(k):
        if V[np.argmax(np.abs(V[:, c])), c] < 0:
            V[:, c] = -V[:, c]
    scores = np.zeros((X.shape[0], 2))
    scores[:, :k] = Xc @ V
    total = float((s ** 2).sum())
    ratio = np.zeros(2)
    if total > 0:
        ratio[:k] = s[:k] ** 2 / total
    return scores, ratio


def initial_map(X, init: str, rng: np.random.Generator, pca_scores=None) -> np.ndarray:
    """"pca": the first two PCs scaled so PC1 has standard deviation 1e-4; "random": N(0, 1e-4 I)
    read as standard deviation 1e-4, as scikit-learn, openTSNE and tsnejs do (the paper's 10^-4 I
    is a covariance; the scale only matters for the first few iterations). Data whose first PC has
    no spread (identical points) fall back to random."""
    n = np.asarray(X).shape[0]
    if init == "pca":
        S = pca(X)[0] if pca_scores is None else np.array(pca_scores, dtype=np.float64)
        sd = float(np.std(S[:, 0]))
        if sd > 0:
            return np.ascontiguousarray(S / sd * 1e-4)
        init = "random"
    if init == "random":
        return np.ascontiguousarray(rng.standard_normal((n, 2)) * 1e-4)
    raise ValueError(f"init must be 'pca' or 'random', got {init!r}")


@dataclass(frozen=True, eq=False)
class SpringSet:
    """Springs between map points: pair (i, j) with i < j, p_ij (times the exaggeration while it is
    on), q_ij, p - q (> 0 attracts, < 0 repels), the force 4 |p - q| w ||y_i - y_j|| and the pair's
    KL term p log(p / q) (true p, both orders: 2 p_ij log(p_ij / q_ij))."""

    pairs: np.ndarray
    p: np.ndarray
    q: np.ndarray
    pq: np.ndarray
    force: np.ndarray
    kl: np.ndarray

    @staticmethod
    def empty() -> "SpringSet":
        z = np.zeros(0)
        return SpringSet(np.zeros((0, 2), np.int64), z, z, z, z, z)

    def __len__(self) -> int:
        return int(self.pairs.shape[0])


# ---- the notebook / stepping API ------------------------------------------------------------------
class TSNE:
    """Exact t-SNE with the springs view. See the module docstring for the math.

    >>> from nnsim.engine.tsne import TSNE
    >>> Y = TSNE(perplexity=30.0, seed=0).fit(X, n_iter=1000)     # doctest: +SKIP

    After ``fit``: ``embedding_`` (= the returned Y), ``kl_divergence_`` (exact KL of the final
    map), ``P`` (symmetric input affinities), ``sigmas_``, ``kl_history_`` (iterations, values),
    ``n_iter_``. Stepping: ``prepare(X)`` computes P and the initial map, ``step(n)`` runs n
    iterations (``step(n)`` equals n times ``step(1)`` bit for bit), ``springs(k)`` lists the
    springs of the current map, ``forces()`` the net force -dC/dy on each point.
    """

    def __init__(self, perplexity: float = 30.0, early_exaggeration: float = 12.0,
                 exaggeration_iters: int = 250, learning_rate="auto", momentum=(0.5, 0.8),
                 init: str = "pca", seed: int = 0, *, momentum_switch: int = 250,
                 kl_every: int = 10):
        if not (isinstance(learning_rate, str) and learning_rate == "auto"):
            learning_rate = float(learning_rate)
            if not learning_rate > 0:
                raise ValueError(f"learning_rate must be 'auto' or positive, got {learning_rate}")
        if init not in ("pca", "random"):
            raise ValueError(f"init must be 'pca' or 'random', got {init!r}")
        if early_exaggeration <= 0:
            raise ValueError("early_exaggeration must be positive")
        if kl_every < 1:
            raise ValueError("kl_every must be at least 1")
        self.perplexity = float(perplexity)
        self.early_exaggeration = float(early_exaggeration)
        self.exaggeration_iters = int(exaggeration_iters)
        self.learning_rate = learning_rate
        self.momentum = (float(momentum[0]), float(momentum[1]))
        self.init = init
        self.seed = int(seed)
        self.momentum_switch = int(momentum_switch)
        self.kl_every = int(kl_every)
        self.P = None
        self.embedding_ = None
        self.kl_divergence_ = None
        self.diverged = False
        self._speed: dict[int, float] = {}    # threads -> typical seconds per iteration
        self._samples: dict[int, list] = {}
        self._explore, self._explore_with, self._skip = 0, 1, False
        self._calls = 0

    # -- set-up
    def prepare(self, X, *, D=None, P=None, betas=None, pca_scores=None) -> "TSNE":
        """Affinities and initial map for data X (N, D_in). ``D``/``P``/``betas``/``pca_scores``
        may be passed when already known for this X (the panel reuses them)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 3:
            raise ValueError(f"X must be an (N, D) array with N >= 3, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        n = X.shape[0]
        if P is None:
            if D is None:
                D = squared_distances(X)
            Pc, betas, err = conditional_p(D, self.perplexity)
            self.entropy_error_ = err
            P = joint_p(Pc)
            del Pc
        self.P = P
        self.betas_ = betas
        self.sigmas_ = np.sqrt(1.0 / (2.0 * betas)) if betas is not None else None
        self._hp, self._psum = _p_log_p(P)
        self._neighbours = None
        rng = np.random.default_rng(self.seed)
        self.Y = initial_map(X, self.init, rng, pca_scores)
        self._upd = np.zeros((n, 2))
        self._gains = np.ones((n, 2))
        self._G = np.empty((n, 4))
        self._g_key, self._g_z = None, 0.0      # (iteration, exaggeration) of the gradient in _G
        self._zrow, self._srow = np.empty(n), np.empty(n)
        self.iteration = 0
        self.diverged = False
        self.grad_norm = float("nan")
        self.lr_ = (max(n / self.early_exaggeration / 4.0, 50.0) if self.learning_rate == "auto"
                    else float(self.learning_rate))
        self._kl_it = [0]
        self._kl_val = [self.kl_divergence()]
        return self

    # -- state of the schedule
    def exaggeration_at(self, t: int) -> float:
        return self.early_exaggeration if t < self.exaggeration_iters else 1.0

    def momentum_at(self, t: int) -> float:
        return self.momentum[0] if t < self.momentum_switch else self.momentum[1]

    def set_learning_rate(self, learning_rate) -> None:
        self.learning_rate = learning_rate
        n = self.Y.shape[0] if self.P is not None else 0
        self.lr_ = (max(n / self.early_exaggeration / 4.0, 50.0) if learning_rate == "auto"
                    else float(learning_rate))

    # -- threads: every kernel gives the same bits with any thread count (each row is summed by
    # one thread in a fixed order), so the count can follow what is fastest right now. Two threads
    # halve the time on an idle 2-core machine; when the cores are busy (the GUI, other programs)
    # every parallel region waits for a descheduled thread and one thread is faster.
    def _threads(self) -> int:
        import numba

        most = numba.config.NUMBA_NUM_THREADS
        if self.Y.shape[0] < PARALLEL_MIN_N or most == 1:
            return 1
        if self._explore:                       # a trial of the other option: a few chunks
            self._explore -= 1
            return self._explore_with
        for c in (most, 1):
            if c not in self._speed:
                self._explore, self._explore_with, self._skip = 2, c, True
                return c
        self._calls += 1
        best = self._best_threads()
        if self._calls % 40 == 0:               # look at the other option now and then
            self._explore_with = 1 if best != 1 else most
            self._explore, self._skip = 2, True
            return self._explore_with
        return best

    def _timed(self, threads: int, n: int, seconds: float) -> None:
        """Seconds per iteration: the median of the last 7 chunks, so one chunk delayed by
        another program (or by the GUI painting) does not flip the choice. The first chunk of a
        trial is not counted (waking the second thread up is not part of its speed)."""
        if self._skip and threads == self._explore_with:
            self._skip = False
            return
        if n > 0:
            recent = self._samples.setdefault(threads, [])
            recent.append(seconds / n)
            del recent[:-7]
            self._speed[threads] = float(np.median(recent))

    def _best_threads(self) -> int | None:
        """More threads unless one thread is clearly (15 %) faster right now."""
        if not self._speed:
            return None
        most = max(self._speed)
        if 1 in self._speed and most != 1 and self._speed[1] < 0.85 * self._speed[most]:
            return 1
        return most

    # -- stepping
    def step(self, n: int = 1) -> int:
        """Run n iterations; returns how many were done (fewer only if the run diverged).

        Long runs go in chunks of about 20 ms so the thread count can follow the machine's load
        (chunking changes no bit: step(n) equals n times step(1))."""
        if self.P is None:
            raise RuntimeError("call prepare(X) or fit(X) first")
        n = int(n)
        done = 0
        while done < n and not self.diverged:
            per = min(self._speed.values()) if self._speed else 1e-3
            chunk = n - done if self.Y.shape[0] < PARALLEL_MIN_N else \
                max(1, min(n - done, int(0.02 / per)))
            done += self._step_chunk(chunk)
        return done

    def _step_chunk(self, n: int) -> int:
        kl = np.empty(n)
        threads = self._threads()
        ready = self._g_key == (self.iteration, self.exaggeration_at(self.iteration))
        self._g_key = None
        t0 = time.perf_counter()
        with _Guard(self.Y.shape[0], threads):
            done, Z, gnorm = _optimize(
                self.P, self.Y, self._upd, self._gains, self._G, self._zrow, self._srow,
                self.iteration, n, self.early_exaggeration, self.exaggeration_iters,
                self.momentum[0], self.momentum[1], self.momentum_switch, float(self.lr_),
                self.kl_every, self._hp, self._psum, kl, ready, self._g_z)
        self._timed(threads, done, time.perf_counter() - t0)
        for s in range(done):
            if not math.isnan(kl[s]):
                self._kl_it.append(self.iteration + s + 1)
                self._kl_val.append(float(kl[s]))
        self.iteration += done
        self.grad_norm = float(gnorm)
        if done < n:
            self.diverged = True
        return done

    def fit(self, X, n_iter: int = 1000) -> np.ndarray:
        """Embed X (N, D) in 2-D with ``n_iter`` iterations; returns Y (N, 2)."""
        self.prepare(X)
        self.step(n_iter)
        self.record_kl()
        self.embedding_ = self.Y.copy()
        self.kl_divergence_ = self._kl_val[-1]
        self.n_iter_ = self.iteration
        return self.embedding_

    def record_kl(self) -> None:
        """Add the current map's KL to the history (if that iteration is not in it yet)."""
        if self._kl_it[-1] != self.iteration:
            self._kl_it.append(self.iteration)
            self._kl_val.append(self.kl_divergence())

    # -- read-outs
    @property
    def kl_history_(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self._kl_it, dtype=np.int64), np.array(self._kl_val)

    def kl_divergence(self) -> float:
        """Exact KL(P || Q) of the current map (true P, no exaggeration)."""
        with _Guard(self.Y.shape[0], self._best_threads()):
            return float(_kl_pass(self.P, self.Y, self._hp, self._psum, self._srow, self._zrow))

    def forces(self) -> tuple[np.ndarray, float]:
        """Net force -dC/dy_i on every point of the current map (with the exaggeration that the next
        iteration applies), and Z. The next iteration reuses this gradient instead of recomputing
        it (the same kernel on the same map: the same bits)."""
        key = (self.iteration, self.exaggeration_at(self.iteration))
        if self._g_key != key:
            with _Guard(self.Y.shape[0], self._best_threads()):
                self._g_z = float(_grad_pass(self.P, self.Y, key[1], self._G, self._zrow))
            self._g_key = key
        return -self._G[:, :2].copy(), self._g_z

    def invalidate(self) -> None:
        """Call after changing Y (or the schedule) from outside: cached gradients are dropped."""
        self._g_key = None

    def neighbours(self, k: int = KMAX) -> np.ndarray:
        """(N, k) indices of each point's strongest input affinities p_ij, strongest first."""
        if self._neighbours is None or self._neighbours.shape[1] < k:
            kk = max(k, min(KMAX, self.Y.shape[0] - 1))
            with _Guard(self.Y.shape[0], self._best_threads()):
                self._neighbours = _top_neighbours(self.P, kk, np.empty((self.Y.shape[0], kk),
                                                                         np.int64))
        return self._neighbours[:, :k]

    def _spring_set(self, I, J, Z) -> SpringSet:
        m = I.shape[0]
        p, q, f = np.empty(m), np.empty(m), np.empty(m)
        ex = self.exaggeration_at(self.iteration)
        with _Guard(self.Y.shape[0], self._best_threads()):
            _pair_forces(self.P, self.Y, ex, Z, I, J, p, q, f)
        ptrue = p / ex
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(ptrue > 0, 2.0 * ptrue * np.log(ptrue / q), 0.0)
        return SpringSet(np.stack([I, J], axis=1), p, q, p - q, f, kl)

    def spring_set(self, k: int = 3, threshold: float | None = None, Z: float | None = None
                   ) -> SpringSet:
        """Springs of the current map: each point to its k strongest input neighbours (duplicates
        merged), or, with ``threshold`` (a fraction of the strongest force of all pairs), every pair
        whose force is at least that (at most MAX_THRESHOLD_SPRINGS, the strongest kept)."""
        n = self.Y.shape[0]
        if Z is None:
            Z = self.forces()[1]
        if threshold is None:
            k = max(1, min(int(k), n - 1))
            nb = self.neighbours(k)
            a = np.repeat(np.arange(n, dtype=np.int64), k)
            b = nb.reshape(-1)
            key = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
            return self._spring_set(key // n, key % n, Z)
        return self._threshold_springs(float(threshold), Z)

    def repelling_springs(self, k: int = 3, Z: float | None = None) -> SpringSet:
        """Each point to the k partners that push it away hardest (p_ij < q_ij, largest force),
        duplicates merged: the lecture's "nearby in the map while the data are dissimilar"."""
        n = self.Y.shape[0]
        if Z is None:
            Z = self.forces()[1]
        k = max(1, min(int(k), n - 1))
        idx, val = np.empty((n, k), np.int64), np.empty((n, k))
        with _Guard(self.Y.shape[0], self._best_threads()):
            _top_repulsive(self.P, self.Y, self.exaggeration_at(self.iteration), Z, k, idx, val)
        a = np.repeat(np.arange(n, dtype=np.int64), k)
        b = idx.reshape(-1)
        ok = b >= 0
        key = np.unique(np.minimum(a[ok], b[ok]) * n + np.maximum(a[ok], b[ok]))
        return self._spring_set(key // n, key % n, Z)

    def repelling_springs_of(self, i: int, k: int = 3, Z: float | None = None) -> SpringSet:
        """Point i's k strongest repelling springs (p_ij < q_ij), strongest first: O(N)."""
        n = self.Y.shape[0]
        if not 0 <= i < n:
            return SpringSet.empty()
        if Z is None:
            Z = self.forces()[1]
        ex = self.exaggeration_at(self.iteration)
        d = self.Y[i] - self.Y
        d2 = (d * d).sum(axis=1)
        w = 1.0 / (1.0 + d2)
        pq = ex * self.P[i] - w / Z
        pq[i] = 0.0
        cand = np.flatnonzero(pq < 0)
        f = -4.0 * pq[cand] * w[cand] * np.sqrt(d2[cand])
        top = cand[np.argsort(-f, kind="stable")[:max(1, int(k))]]
        I, J = np.minimum(top, i).astype(np.int64), np.maximum(top, i).astype(np.int64)
        return self._spring_set(I, J, Z)

    def _threshold_springs(self, threshold: float, Z: float) -> SpringSet:
        """Pairs with force >= threshold x the largest force. When there are more than
        MAX_THRESHOLD_SPRINGS, the weakest 0.1-decade bins are dropped (then the surplus of the
        last bin, weakest first), so the strongest springs are the ones drawn."""
        n = self.Y.shape[0]
        ex = self.exaggeration_at(self.iteration)
        nb = 80
        with _Guard(self.Y.shape[0], self._best_threads()):
            top = float(_force_max(self.P, self.Y, ex, Z, np.empty(n)).max())
            if not top > 0:
                return SpringSet.empty()
            lo = max(threshold, 1e-8) * top
            hist = np.zeros((n, nb), np.int64)
            _force_hist(self.P, self.Y, ex, Z, lo, hist)
            above = np.cumsum(hist.sum(axis=0)[::-1])[::-1]      # above[b]: pairs in bins >= b
            bmin = int(np.argmax(above <= MAX_THRESHOLD_SPRINGS)) if above[-1] <= \
                MAX_THRESHOLD_SPRINGS else nb - 1
            counts = hist[:, bmin:].sum(axis=1)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
            total = int(counts.sum())
            I, J = np.empty(total, np.int64), np.empty(total, np.int64)
            _collect_pairs(self.P, self.Y, ex, Z, lo, bmin, nb, starts, I, J)
        s = self._spring_set(I, J, Z)
        if len(s) > MAX_THRESHOLD_SPRINGS:
            keep = np.sort(np.argsort(-s.force, kind="stable")[:MAX_THRESHOLD_SPRINGS])
            s = SpringSet(s.pairs[keep], s.p[keep], s.q[keep], s.pq[keep], s.force[keep], s.kl[keep])
        return s

    def springs(self, k: int = 3, threshold: float | None = None):
        """``(pairs, p_ij - q_ij, force)`` of the current map; see :meth:`spring_set`."""
        s = self.spring_set(k, threshold)
        return s.pairs, s.pq, s.force


def warmup() -> None:
    """Compile (or load from numba's cache) every kernel on a tiny problem."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    t = TSNE(perplexity=3.0, exaggeration_iters=2, momentum_switch=2, kl_every=2)
    t.fit(X, n_iter=4)
    t.springs(2)
    t.springs(threshold=0.1)
    t.repelling_springs(2)
    t.forces()


# ---- the simulation behind the panel ---------------------------------------------------------------
DATASETS = (("digits", "8×8 digits (scikit-learn)"), ("clusters", "Gaussian clusters in D dims"),
            ("file", "File: CSV / MNIST IDX"))
SPRING_MODES = (("topk", "k strongest, every point"), ("selected", "k strongest, clicked point"),
                ("threshold", "All above a force threshold"), ("off", "None"))
MIN_SIM_POINTS = 10


def _fingerprint(data: tsne_data.VectorData, perplexity: float) -> int:
    """Identifies data and perplexity (so a view redraws its static parts exactly when they
    change); the same for equal data in any run or process."""
    h = hashlib.blake2b(digest_size=8)
    for arr in (data.X, data.labels):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(repr((data.class_names, float(perplexity), data.X.shape)).encode())
    return int.from_bytes(h.digest(), "little") >> 1


@dataclass(frozen=True)
class TSNEParams(Params):
    dataset: str = param(
        "digits", label="Data set", choices=DATASETS, group="Data",
        help="The vectors to embed. Digits: scikit-learn's bundled 8×8 images (64 pixel values, "
             "1797 images). Clusters: Gaussian clusters with known labels. File: a CSV of vectors "
             "(optional label column) or MNIST IDX files you have (File > Open data…).")
    n_points: int = param(
        500, label="Points N", lo=20, hi=3000, step=100, group="Data",
        help="A random subsample of N vectors (drawn with the seed); digits have 1797 in all. "
             "Exact t-SNE costs O(N²) per iteration.")
    n_clusters: int = param(5, label="Clusters", lo=2, hi=10, group="Data",
                            help="Gaussian clusters: how many (labels 0 … k−1).")
    dim: int = param(10, label="Dimensions D", lo=2, hi=1000, group="Data",
                     help="Gaussian clusters: dimension of the input space.")
    spread: float = param(
        0.3, label="Cluster spread", lo=0.01, hi=5.0, decimals=2, step=0.05, group="Data",
        help="Gaussian clusters: x = c_k + spread · N(0, I_D) with centres c_k ~ N(0, I_D); "
             "below about 0.5 the clusters are well separated.")
    perplexity: float = param(
        30.0, label="Perplexity", lo=5.0, hi=100.0, decimals=1, step=5.0, group="t-SNE",
        help="σᵢ is set per point by binary search so that 2^H(Pᵢ) = perplexity, "
             "H(Pᵢ) = −Σⱼ p_{j|i} log₂ p_{j|i}: the effective number of neighbours. "
             "Changing it recomputes P and restarts.")
    init: str = param(
        "pca", label="Initialization", group="t-SNE",
        choices=(("pca", "PCA (first 2 PCs, std 1e-4)"), ("random", "Random N(0, 1e-4 I)")),
        help="Step 1 of the lecture: the first two principal components (scaled to standard "
             "deviation 1e-4) or random points with standard deviation 1e-4 (drawn with the seed).")
    lr_auto: bool = param(
        True, label="Learning rate auto", live=True, group="t-SNE",
        help="η = max(N / α / 4, 50), α the early exaggeration (Belkina et al. 2019; "
             "scikit-learn's 'auto').")
    learning_rate: float = param(
        200.0, label="Learning rate η", lo=1.0, hi=10000.0, log=True, decimals=1, live=True,
        group="t-SNE", help="Used when 'auto' is off: Δ ← m Δ − η g ⊙ ∂C/∂y.")
    early_exaggeration: float = param(
        12.0, label="Early exaggeration α", lo=1.0, hi=100.0, decimals=1, live=True, group="t-SNE",
        help="P is multiplied by α during the first iterations, so clusters form before they settle "
             "(12 for 250 iterations as in scikit-learn; the 2008 paper used 4 for 50).")
    exaggeration_iters: int = param(
        250, label="Exaggeration iterations", lo=0, hi=10000, step=50, live=True, group="t-SNE",
        help="Early exaggeration applies to iterations 0 … this − 1.")
    momentum_start: float = param(0.5, label="Momentum, start", lo=0.0, hi=0.99, decimals=2,
                                  step=0.05, live=True, group="t-SNE",
                                  help="m in Δ ← m Δ − η g ⊙ ∂C/∂y before the switch.")
    momentum_final: float = param(0.8, label="Momentum, final", lo=0.0, hi=0.99, decimals=2,
                                  step=0.05, live=True, group="t-SNE",
                                  help="m from the switch on.")
    momentum_switch: int = param(250, label="Momentum switch at", lo=0, hi=10000, step=50,
                                 live=True, group="t-SNE", unit="it",
                                 help="Iteration from which the final momentum applies.")
    n_iter: int = param(1000, label="Iterations", lo=1, hi=1_000_000, step=100, live=True,
                        group="t-SNE", help="The run stops (finished) after this many iterations.")
    kl_every: int = param(10, label="KL every", lo=1, hi=1000, live=True, group="t-SNE", unit="it",
                          help="KL(P‖Q) needs a logarithm per pair; it is evaluated on the map every "
                               "this many iterations for the curve.")
    spring_mode: str = param(
        "topk", label="Springs shown", choices=SPRING_MODES, live=True, group="Springs",
        help="Each spring joins y_i and y_j; it attracts when p_ij > q_ij and repels when "
             "p_ij < q_ij, with force 4 |p_ij − q_ij| (1 + ‖y_i − y_j‖²)⁻¹ ‖y_i − y_j‖.")
    spring_k: int = param(3, label="Springs per point k", lo=1, hi=KMAX, live=True, group="Springs",
                          help="Each point's k strongest input affinities p_ij.")
    selected: int = param(
        -1, label="Clicked point", lo=-1, hi=10_000_000, live=True, hidden=True,
        help="The point whose springs the panel details (−1: none); its strongest repulsions are "
             "computed for it alone.")
    spring_threshold: float = param(
        0.05, label="Force threshold", lo=0.001, hi=1.0, log=True, decimals=3, live=True,
        group="Springs",
        help=f"'All above a threshold': every pair whose force is at least this fraction of the "
             f"strongest (at most {MAX_THRESHOLD_SPRINGS} springs, the strongest).")


@dataclass(frozen=True, eq=False, kw_only=True)
class TSNESnapshot(Snapshot):
    Y: np.ndarray                     # (N, 2) the map
    forces: np.ndarray                # (N, 2) net force -dC/dy_i on each point
    labels: np.ndarray                # (N,) codes 0..K-1 (shared, read-only)
    class_names: tuple
    X: np.ndarray                     # (N, D) inputs (shared, read-only)
    images: np.ndarray | None         # (N, h, w) or None (shared, read-only)
    pixel_range: tuple
    pca: np.ndarray                   # (N, 2) PCA scores of the same data (shared, read-only)
    pca_ratio: tuple                  # variance shares of PC1, PC2
    sigmas: np.ndarray                # (N,) sigma_i (shared, read-only)
    data_id: int                      # changes when the data (or P) change
    data_name: str
    perplexity: float                 # the perplexity in use
    entropy_error: float              # max |H(P_i) - log perplexity| in bits
    n_iter: int
    exaggeration: float               # alpha at the next iteration (1 when off)
    early_exaggeration: float
    exaggeration_iters: int
    momentum: float                   # m at the next iteration
    momentum_start: float
    momentum_final: float
    momentum_switch: int
    learning_rate: float              # eta in use
    Z: float                          # sum_{k != l} w_kl of this map
    grad_norm: float
    kl_iters: np.ndarray
    kl_values: np.ndarray
    springs: SpringSet                # each point to its k strongest input neighbours
    repulsions: SpringSet             # the selected point's k strongest repelling springs
    selected: int                     # the point they belong to (-1: none)
    threshold_springs: SpringSet | None
    spring_mode: str
    spring_k: int
    spring_threshold: float


class TSNESimulation(SimulationBase):
    """t-SNE for the panel: one step = one iteration of :class:`TSNE`.

    Data, distances, P and PCA are cached: Reset and a change of the initialization recompute
    nothing; a perplexity change recomputes P only; new data recompute everything.
    """

    params_class = TSNEParams

    def __init__(self, params: TSNEParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self._file_data: tsne_data.VectorData | None = None
        self._file_id = 0
        self._digits: tsne_data.VectorData | None = None
        self._cache: dict = {}
        self.tsne: TSNE | None = None
        self.reset(self.seed)

    # ---- data
    def set_data(self, data: tsne_data.VectorData) -> None:
        """Use loaded vectors (dataset "file"); the run restarts with the same seed."""
        if not isinstance(data, tsne_data.VectorData):
            raise ParamError("set_data expects VectorData (see nnsim.engine.tsne_data)")
        self._file_data = data
        self._file_id += 1
        if self.params.dataset != "file":
            self.params = self.params.replace(dataset="file")
        self.reset(self.seed)

    def _data(self, seed: int):
        p = self.params
        rng = np.random.default_rng(seed)
        if p.dataset == "digits":
            if self._digits is None:
                self._digits = tsne_data.digits()
            n = min(p.n_points, self._digits.n)
            return ("digits", n, seed if n < self._digits.n else None), \
                lambda: tsne_data.subsample(self._digits, n, rng)
        if p.dataset == "clusters":
            n = max(p.n_points, p.n_clusters)
            return ("clusters", n, p.n_clusters, p.dim, p.spread, seed), \
                lambda: tsne_data.gaussian_clusters(n, p.n_clusters, p.dim, p.spread, rng)
        if self._file_data is None:
            return None, None
        n = min(p.n_points, self._file_data.n)
        return ("file", self._file_id, n, seed if n < self._file_data.n else None), \
            lambda: tsne_data.subsample(self._file_data, n, rng)

    def reset(self, seed: int) -> None:
        self.seed = int(seed)
        self.step_count = 0
        self.tsne = None
        key, make = self._data(self.seed)
        if key is None:
            self._cache = {}
            self.status = NOT_CONVERGED
            self.message = ("No file loaded: open a CSV of vectors or an MNIST IDX images file "
                            "(File > Open data…), or choose another data set.")
            return
        c = self._cache
        if c.get("key") != key:
            data = make()
            c.clear()
            c.update(key=key, data=data)
            if data.n >= MIN_SIM_POINTS:
                c["D"] = squared_distances(data.X)
                c["pca"], c["pca_ratio"] = pca(data.X)
                for arr in (c["pca"],):
                    arr.setflags(write=False)
        data = c["data"]
        n = data.n
        if n < MIN_SIM_POINTS:
            self.status = NOT_CONVERGED
            self.message = f"Only {n} points: t-SNE here needs at least {MIN_SIM_POINTS}."
            return
        perp = float(self.params.perplexity)
        note = ""
        if perp > (n - 1) / 2:
            perp = (n - 1) / 2
            note = (f"Perplexity lowered to {perp:g} for {n} points (it must stay well below "
                    f"N − 1 = {n - 1}). ")
        if c.get("perplexity") != perp:
            Pc, betas, err = conditional_p(c["D"], perp)
            c["P"] = joint_p(Pc)
            del Pc
            sig = np.sqrt(1.0 / (2.0 * betas))
            sig.setflags(write=False)
            c.update(perplexity=perp, betas=betas, sigmas=sig,
                     entropy_error=float(err.max()) / math.log(2.0),
                     data_id=_fingerprint(data, perp))
        p = self.params
        t = TSNE(perplexity=perp, early_exaggeration=p.early_exaggeration,
                 exaggeration_iters=p.exaggeration_iters,
                 learning_rate="auto" if p.lr_auto else p.learning_rate,
                 momentum=(p.momentum_start, p.momentum_final), init=p.init, seed=self.seed,
                 momentum_switch=p.momentum_switch, kl_every=p.kl_every)
        t.prepare(data.X, P=c["P"], betas=c["betas"], pca_scores=c["pca"])
        self.tsne = t
        self._note = note
        self._update_status()

    # ---- experiments: the map and the optimizer's memory; P is recomputed (deterministic)
    def get_state(self) -> dict:
        t = self.tsne
        state = {"seed": self.seed, "step_count": self.step_count, "file_data": None}
        if self.params.dataset == "file" and self._cache.get("data") is not None:
            state["file_data"] = self._cache["data"]      # the vectors in use (a subsample)
        if t is not None:
            state.update(Y=t.Y.copy(), update=t._upd.copy(), gains=t._gains.copy(),
                         iteration=t.iteration, kl_iters=np.array(t._kl_it, np.int64),
                         kl_values=np.array(t._kl_val), diverged=bool(t.diverged),
                         grad_norm=float(t.grad_norm))
        return state

    def set_state(self, params: TSNEParams, state: dict) -> None:
        """Resume a saved run: the next iteration gives the numbers the saved run would have."""
        self.params = params.validate()
        try:
            seed, steps = int(state["seed"]), int(state["step_count"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("the saved t-SNE state needs an integer seed and step_count") from None
        data = state.get("file_data")
        if data is not None:
            if not isinstance(data, tsne_data.VectorData):
                raise ValueError("the saved t-SNE state holds data of an unknown kind")
            self._file_data = data
            self._file_id += 1
        self.reset(seed)
        t = self.tsne
        if t is not None and "Y" in state:
            n = t.Y.shape[0]
            for name in ("Y", "update", "gains"):
                if np.shape(state[name]) != (n, 2):
                    raise ValueError(f"the saved t-SNE state's {name} has shape "
                                     f"{np.shape(state[name])}, the data have {n} points")
            t.Y[...] = state["Y"]
            t._upd[...] = state["update"]
            t._gains[...] = state["gains"]
            t.iteration = int(state["iteration"])
            t._kl_it = [int(v) for v in state["kl_iters"]]
            t._kl_val = [float(v) for v in state["kl_values"]]
            t.diverged = bool(state["diverged"])
            t.grad_norm = float(state["grad_norm"])
            t.invalidate()
        self.step_count = steps
        self._update_status()

    # ---- stepping
    def apply_live(self) -> None:
        t, p = self.tsne, self.params
        if t is not None:
            t.early_exaggeration = float(p.early_exaggeration)
            t.exaggeration_iters = int(p.exaggeration_iters)
            t.momentum = (float(p.momentum_start), float(p.momentum_final))
            t.momentum_switch = int(p.momentum_switch)
            t.kl_every = int(p.kl_every)
            t.set_learning_rate("auto" if p.lr_auto else p.learning_rate)
        self._update_status()

    def step(self, n: int = 1) -> None:
        """Run n iterations (also past the iteration limit)."""
        n = int(n)
        if n < 0:
            raise ValueError("step count must be non-negative")
        if self.tsne is None or n == 0:
            return
        self.step_count += self.tsne.step(n)
        if self.step_count >= self.params.n_iter or self.tsne.diverged:
            self.tsne.record_kl()
        self._update_status()

    def advance(self, n: int) -> int:
        """Like step(n) but stops exactly at the iteration limit (status "finished")."""
        if self.tsne is None:
            return n
        if self.status == RUNNING:
            n = max(0, min(int(n), self.params.n_iter - self.step_count))
        before = self.step_count
        self.step(n)
        return self.step_count - before

    def _update_status(self) -> None:
        t = self.tsne
        if t is None:
            return
        if t.diverged:
            self.status = DIVERGED
            self.message = (f"The map diverged at iteration {t.iteration}: the gradient is no longer a "
                            "finite number. Lower the learning rate or the early exaggeration and "
                            "press Reset.")
        elif self.step_count >= self.params.n_iter:
            self.status = FINISHED
            past = (f" (now at {self.step_count}: Play goes on past the limit)"
                    if self.step_count > self.params.n_iter else "")
            self.message = (f"{self._note}Finished {self.params.n_iter} iterations{past}: "
                            f"KL(P‖Q) = {t._kl_val[-1]:.4f} at iteration {t._kl_it[-1]}. "
                            "Raise 'Iterations' to go on.")
        else:
            self.status = RUNNING
            self.message = self._note

    # ---- views
    def watch_value(self) -> float | None:
        """The latest KL(P‖Q) computed (every "KL every" iterations)."""
        t = self.tsne
        return float(t._kl_val[-1]) if t is not None and t._kl_val else None

    def snapshot(self) -> TSNESnapshot:
        p = self.params
        c = self._cache
        t = self.tsne
        if t is None:
            data = c.get("data")
            n = 0
            e2, e0, e1 = np.zeros((0, 2)), np.zeros(0), np.zeros(0, np.int64)
            return TSNESnapshot(
                step_count=self.step_count, status=self.status, message=self.message,
                Y=e2, forces=e2, labels=e1, class_names=data.class_names if data else (),
                X=np.zeros((0, data.dim if data else 1)), images=None, pixel_range=(0.0, 1.0),
                pca=e2, pca_ratio=(0.0, 0.0), sigmas=e0, data_id=-1 - n,
                data_name=data.name if data else "no data", perplexity=float(p.perplexity),
                entropy_error=0.0, n_iter=p.n_iter, exaggeration=1.0,
                early_exaggeration=p.early_exaggeration, exaggeration_iters=p.exaggeration_iters,
                momentum=p.momentum_start, momentum_start=p.momentum_start,
                momentum_final=p.momentum_final, momentum_switch=p.momentum_switch,
                learning_rate=float(p.learning_rate), Z=float("nan"), grad_norm=float("nan"),
                kl_iters=e1, kl_values=e0, springs=SpringSet.empty(),
                repulsions=SpringSet.empty(), selected=-1, threshold_springs=None,
                spring_mode=p.spring_mode, spring_k=p.spring_k, spring_threshold=p.spring_threshold)
        data = c["data"]
        F, Z = t.forces()
        springs = t.spring_set(p.spring_k, Z=Z)
        sel = p.selected if 0 <= p.selected < t.Y.shape[0] else -1
        repulsions = t.repelling_springs_of(sel, p.spring_k, Z=Z) if sel >= 0 \
            else SpringSet.empty()
        thr = t.spring_set(threshold=p.spring_threshold, Z=Z) if p.spring_mode == "threshold" \
            else None
        it, kl = t.kl_history_
        return TSNESnapshot(
            step_count=self.step_count, status=self.status, message=self.message,
            Y=t.Y.copy(), forces=F, labels=data.labels, class_names=data.class_names, X=data.X,
            images=data.images, pixel_range=data.pixel_range, pca=c["pca"],
            pca_ratio=tuple(float(v) for v in c["pca_ratio"]), sigmas=c["sigmas"],
            data_id=c["data_id"], data_name=data.name, perplexity=float(c["perplexity"]),
            entropy_error=c["entropy_error"], n_iter=p.n_iter,
            exaggeration=t.exaggeration_at(t.iteration), early_exaggeration=t.early_exaggeration,
            exaggeration_iters=t.exaggeration_iters, momentum=t.momentum_at(t.iteration),
            momentum_start=t.momentum[0], momentum_final=t.momentum[1],
            momentum_switch=t.momentum_switch, learning_rate=float(t.lr_), Z=Z,
            grad_norm=t.grad_norm, kl_iters=it, kl_values=kl, springs=springs,
            repulsions=repulsions, selected=sel,
            threshold_springs=thr, spring_mode=p.spring_mode, spring_k=p.spring_k,
            spring_threshold=p.spring_threshold)
