"""Numba kernels of exact t-SNE (van der Maaten & Hinton 2008) in float64, and the math they compute.

This module holds only ``@njit`` functions on preallocated arrays. The numpy-in/numpy-out
functions, the thread-count guard and the :class:`~nnsim.engine.tsne.TSNE` class that call these
kernels are in :mod:`nnsim.engine.tsne`; the panel's parameters, snapshot and simulation are in
:mod:`nnsim.engine.tsne_sim`; the data sets in :mod:`nnsim.engine.tsne_data`.

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
"""

from __future__ import annotations

import math

import numpy as np

from nnsim.engine._jit import njit
from numba import prange  # noqa: E402  (after _jit set numba's cache directory)

#: reassociation lets LLVM vectorize the pair sums; NaN/inf semantics are kept (no nnan/ninf)
_FM = {"reassoc", "contract", "arcp", "nsz"}
MIN_GAIN = 0.01

_par = njit(parallel=True, fastmath=_FM)


# ---- kernels ------------------------------------------------------------------------------------
@_par
def _sq_distances(X, D, r0, r1):
    """Rows r0 .. r1 - 1 of D[i, j] = ||x_i - x_j||^2 (exact differences, not the Gram-matrix
    shortcut). The lower triangle is copied from the rows above, so row ranges go in order."""
    n, d = X.shape
    for i in prange(r0, r1):
        D[i, i] = 0.0
        for j in range(i + 1, n):
            s = 0.0
            for k in range(d):
                t = X[i, k] - X[j, k]
                s += t * t
            D[i, j] = s
    for i in prange(r0, r1):
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
def _calibrate(D, perplexity, tol, max_iter, Pc, beta_out, err_out, r0, r1):
    """Rows r0 .. r1 - 1: Newton/bisection on u = log beta so that H(P_i) = log(perplexity) (nats).

    H decreases with beta, dH/du = -beta^2 Var_p(d). A Newton step leaving the bracket, or a flat H,
    falls back to bisection (doubling while one side is still open). Rows are independent.
    """
    n = D.shape[0]
    target = math.log(perplexity)
    for i in prange(r0, r1):
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
def _symmetrize(Pc, P, r0, r1):
    """Rows r0 .. r1 - 1 of P = (Pc + Pc^T) / 2N."""
    n = Pc.shape[0]
    c = 1.0 / (2.0 * n)
    for i in prange(r0, r1):
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

