"""numba kernels of the multilayer perceptron: forward pass, backprop, and many training steps
fused into one call.

Parameters live in one flat float64 vector θ (so that the shared update rules of
:mod:`nnsim.engine.optimizers` apply to it unchanged): for every layer l = 0 .. L−1, first
``W_l`` (n_l × n_{l+1}, row-major) at ``woff[l]``, then ``b_l`` (n_{l+1}) at ``boff[l]``. A layer computes

    z_{l+1} = a_l W_l + b_l,     a_{l+1} = φ(z_{l+1})

with rows = samples. Backprop for the mean loss J = (1/B) Σ_r ℓ_r of a batch of B rows:

    δ_L = (1/B) ∂ℓ/∂z_L                                   (losses.output_loss)
    ∂J/∂W_l = a_lᵀ δ_{l+1},   ∂J/∂b_l = Σ_r δ_{l+1}
    δ_l = (δ_{l+1} W_lᵀ) ⊙ m_l ⊙ φ'(z_l)                  (m_l: the dropout multipliers, or 1)

Wide products (B · n_l · n_{l+1} ≥ :data:`BLAS_MIN`) call BLAS through ``np.dot``; small ones (online
learning of a 2-3-1 net) are plain loops, where a BLAS call would cost more than the arithmetic.
The choice depends only on the shapes, so a run is reproducible bit for bit. All kernels use
numba's ``error_model="numpy"``: a float division by zero gives inf/NaN (caught by the divergence
checks) instead of a Python-style check that keeps LLVM from vectorizing loops with a division
(tanh and sigmoid run 2–4× faster).

Random numbers (the shuffled order of each epoch, dropout masks) come from a counter-based hash
(splitmix64) of (seed, epoch or step, index), not from a generator's state. The order of epoch e
and the mask of step k are therefore the same whether the steps were computed in one call or in
many, and two runs with the same seed see the same batches and masks ("lock-step").
"""

from __future__ import annotations

import math
import os

import numpy as np

from nnsim.engine import activations as act
from nnsim.engine import losses
from nnsim.engine._jit import njit
from nnsim.engine.optimizers import NESTEROV
from nnsim.engine.optimizers import rule_step as _rule_step  # the shared update rules' kernel

#: products with at least this many multiply-adds go to BLAS. (Compiled in as a constant: the
#: benchmark's "no BLAS" variant sets NNSIM_MLP_BLAS_MIN together with its own NUMBA_CACHE_DIR.)
BLAS_MIN = int(os.environ.get("NNSIM_MLP_BLAS_MIN", "4096"))

#: result codes of :func:`train`
RUNNING, DIVERGED, STOPPED = 0, 1, 2

#: indices into the float parameters ``fpar`` of :func:`train`
F_SLOPE, F_ALPHA, F_DSLOPE, F_L2, F_L1, F_DROP, F_LOSS_LIMIT, F_THETA_LIMIT = range(8)
N_FPAR = 8
#: indices into the integer parameters ``ipar`` of :func:`train`
I_BATCH, I_SHUFFLE, I_SEED, I_EVAL, I_ES, I_PATIENCE = range(6)
N_IPAR = 6

_MASK_SALT = 0x5DEECE66D


def layout(sizes) -> tuple[np.ndarray, np.ndarray, int]:
    """Offsets ``(woff, boff, n_params)`` of the flat parameter vector for layer sizes ``sizes``."""
    sizes = [int(s) for s in sizes]
    woff, boff = [], []
    o = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        woff.append(o)
        o += n_in * n_out
        boff.append(o)
        o += n_out
    return np.array(woff, np.int64), np.array(boff, np.int64), o


# ---- counter-based random numbers -------------------------------------------------------------
@njit(error_model="numpy")
def _mix(x):
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(error_model="numpy")
def uniform(seed, a, b, c):
    """A uniform number in [0, 1) that depends only on the four integers (splitmix64 hash)."""
    h = _mix(np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(a))
    h = _mix(h ^ (np.uint64(b) * np.uint64(0xD1B54A32D192ED03)))
    h = _mix(h ^ (np.uint64(c) * np.uint64(0x8CB92BA72F3D8DD7)))
    return float(h >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(error_model="numpy")
def epoch_order(seed, epoch, m, shuffle):
    """The presentation order of epoch ``epoch``: a Fisher–Yates shuffle of 0..m−1 driven by
    :func:`uniform` (identity if not shuffled)."""
    order = np.arange(m)
    if shuffle:
        for i in range(m - 1, 0, -1):
            j = min(int(uniform(seed, 1, epoch, i) * (i + 1)), i)
            t = order[i]
            order[i] = order[j]
            order[j] = t
    return order


# ---- layers ------------------------------------------------------------------------------------
@njit(error_model="numpy")
def _w(P, woff, sizes, l):
    n_in, n_out = sizes[l], sizes[l + 1]
    return P[woff[l]:woff[l] + n_in * n_out].reshape((n_in, n_out))


@njit(error_model="numpy")
def _b(P, boff, sizes, l):
    return P[boff[l]:boff[l] + sizes[l + 1]]


@njit(error_model="numpy")
def _dense(A, W, b, Z):
    """Z = A W + b."""
    B, n_in = A.shape
    n_out = W.shape[1]
    if B * n_in * n_out >= BLAS_MIN:
        np.dot(A, W, Z)
        for r in range(B):
            for j in range(n_out):
                Z[r, j] += b[j]
    else:
        for r in range(B):
            for j in range(n_out):
                s = b[j]
                for i in range(n_in):
                    s += A[r, i] * W[i, j]
                Z[r, j] = s


@njit(error_model="numpy")
def _grad_dense(A, D, dW, db):
    """dW = Aᵀ D, db = Σ_rows D."""
    B, n_in = A.shape
    n_out = D.shape[1]
    if B * n_in * n_out >= BLAS_MIN:
        np.dot(A.T, D, dW)
    else:
        for i in range(n_in):
            for j in range(n_out):
                dW[i, j] = 0.0
        for r in range(B):
            for i in range(n_in):
                a = A[r, i]
                for j in range(n_out):
                    dW[i, j] += a * D[r, j]
    for j in range(n_out):
        db[j] = 0.0
    for r in range(B):
        for j in range(n_out):
            db[j] += D[r, j]


@njit(error_model="numpy")
def _back_dense(D, W, G):
    """G = D Wᵀ (the error sent back to the layer below)."""
    B, n_out = D.shape
    n_in = W.shape[0]
    if B * n_in * n_out >= BLAS_MIN:
        np.dot(D, W.T, G)
    else:
        for r in range(B):
            for i in range(n_in):
                s = 0.0
                for j in range(n_out):
                    s += D[r, j] * W[i, j]
                G[r, i] = s


@njit(error_model="numpy")
def _flat(a):
    return a.reshape(a.size)


@njit(error_model="numpy")
def buffers(sizes, rows):
    """Work arrays for ``rows`` samples, one flat array each for Z, A (= φ(Z); the output layer's
    ŷ), dropped inputs, dropout multipliers and δ; layer l's (rows, n_{l+1}) block of each is
    :func:`_blk` (one flat array instead of a list of arrays: much faster to compile)."""
    n = rows * (sizes[1:].sum())
    return np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)


@njit(error_model="numpy")
def _blk(buf, sizes, rows, l, B):
    """The first B rows of layer l's (rows, n_{l+1}) block of a flat work array."""
    o = 0
    for k in range(l):
        o += rows * sizes[k + 1]
    n = sizes[l + 1]
    return buf[o:o + B * n].reshape((B, n))


@njit(error_model="numpy")
def forward(P, woff, boff, sizes, hid, out_kind, loss_kind, slope, alpha, X0, Y, Zs, As, Ins, Ms, Ds,
            rows, B, p_drop, mask_seed, step, want_grad):
    """Forward pass of the first ``B`` rows of ``X0`` (with dropout if ``p_drop > 0``); returns Σ ℓ.
    With ``want_grad`` the output δ (already divided by B) is left in δ's last block. The work
    arrays are :func:`buffers` for ``rows`` ≥ B samples."""
    L = len(sizes) - 1
    inp = X0[:B]
    for l in range(L):
        Z = _blk(Zs, sizes, rows, l, B)
        _dense(inp, _w(P, woff, sizes, l), _b(P, boff, sizes, l), Z)
        if l < L - 1:
            H = _blk(As, sizes, rows, l, B)
            act.act_forward(hid, _flat(Z), _flat(H), slope, alpha)
            if p_drop > 0.0:
                M = _blk(Ms, sizes, rows, l, B)
                Dr = _blk(Ins, sizes, rows, l, B)
                keep = 1.0 / (1.0 - p_drop)
                n = H.shape[1]
                for r in range(B):
                    for j in range(n):
                        u = uniform(mask_seed, step, l, r * n + j)
                        M[r, j] = keep if u >= p_drop else 0.0
                        Dr[r, j] = H[r, j] * M[r, j]
                inp = Dr
            else:
                inp = H
    return losses.output_loss(out_kind, loss_kind, _blk(Zs, sizes, rows, L - 1, B),
                              _blk(As, sizes, rows, L - 1, B), Y[:B], _blk(Ds, sizes, rows, L - 1, B),
                              1.0 / B, want_grad)


@njit(error_model="numpy")
def backward(P, g, woff, boff, sizes, hid, dslope, alpha, X0, Zs, As, Ins, Ms, Ds, rows, B, p_drop, l2, l1):
    """Backprop after :func:`forward` (with ``want_grad``): the gradient of the mean loss plus the
    penalties ``(λ₂/2) Σ w² + λ₁ Σ |w|`` (weights only, not biases) is written into ``g``."""
    L = len(sizes) - 1
    for l in range(L - 1, -1, -1):
        if l == 0:
            inp = X0[:B]
        elif p_drop > 0.0:
            inp = _blk(Ins, sizes, rows, l - 1, B)
        else:
            inp = _blk(As, sizes, rows, l - 1, B)
        D = _blk(Ds, sizes, rows, l, B)
        W = _w(P, woff, sizes, l)
        dW = _w(g, woff, sizes, l)
        _grad_dense(inp, D, dW, _b(g, boff, sizes, l))
        if l2 != 0.0 or l1 != 0.0:
            for i in range(W.shape[0]):
                for j in range(W.shape[1]):
                    w = W[i, j]
                    s = 0.0 if w == 0.0 else (1.0 if w > 0.0 else -1.0)
                    dW[i, j] += l2 * w + l1 * s
        if l > 0:
            G = _blk(Ds, sizes, rows, l - 1, B)
            _back_dense(D, W, G)
            if p_drop > 0.0:
                M = _blk(Ms, sizes, rows, l - 1, B)
                for r in range(B):
                    for j in range(G.shape[1]):
                        G[r, j] *= M[r, j]
            act.act_backward(hid, _flat(_blk(Zs, sizes, rows, l - 1, B)), _flat(_blk(As, sizes, rows, l - 1, B)),
                             _flat(G), dslope, alpha)


@njit(error_model="numpy")
def penalty(P, woff, sizes, l2, l1):
    """(λ₂/2) Σ w² + λ₁ Σ |w| over all weights (biases excluded)."""
    s = 0.0
    for l in range(len(sizes) - 1):
        W = _w(P, woff, sizes, l)
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                s += 0.5 * l2 * W[i, j] * W[i, j] + l1 * abs(W[i, j])
    return s


@njit(error_model="numpy")
def loss_and_grad(P, g, woff, boff, sizes, hid, out_kind, loss_kind, slope, alpha, dslope, X, Y,
                  l2, l1, want_grad):
    """Mean loss over all rows of X (no dropout) plus the penalties, and (optionally) its gradient in g."""
    m = X.shape[0]
    Zs, As, Ins, Ms, Ds = buffers(sizes, m)
    zero = np.int64(m - m)          # (a non-literal 0: numba would compile a copy for a literal)
    total = forward(P, woff, boff, sizes, hid, out_kind, loss_kind, slope, alpha, X, Y, Zs, As, Ins,
                    Ms, Ds, m, m, 0.0, zero, zero, want_grad)
    if want_grad:
        backward(P, g, woff, boff, sizes, hid, dslope, alpha, X, Zs, As, Ins, Ms, Ds, m, m, 0.0, l2, l1)
    return total / m + penalty(P, woff, sizes, l2, l1)


@njit(error_model="numpy")
def predict_rows(A, out):
    """Class of each row of the output ŷ: argmax, or ŷ > 0.5 for a single output unit."""
    B, K = A.shape
    for r in range(B):
        if K == 1:
            out[r] = 1 if A[r, 0] > 0.5 else 0
        else:
            best = 0
            for k in range(1, K):
                if A[r, k] > A[r, best]:
                    best = k
            out[r] = best


@njit(error_model="numpy")
def evaluate(P, woff, boff, sizes, hid, out_kind, loss_kind, slope, alpha, X, Y, labels):
    """(mean data loss, accuracy) on a whole set (no dropout, no penalty); (nan, nan) if empty."""
    m = X.shape[0]
    if m == 0:
        return np.nan, np.nan
    Zs, As, Ins, Ms, Ds = buffers(sizes, m)
    zero = np.int64(m - m)
    total = forward(P, woff, boff, sizes, hid, out_kind, loss_kind, slope, alpha, X, Y, Zs, As, Ins,
                    Ms, Ds, m, m, 0.0, zero, zero, m < 0)
    pred = np.empty(m, np.int64)
    predict_rows(_blk(As, sizes, m, len(sizes) - 2, m), pred)
    ok = 0
    for r in range(m):
        if pred[r] == labels[r]:
            ok += 1
    return total / m, ok / m


@njit(error_model="numpy")
def train(theta, S, hp, rid, t0, woff, boff, sizes, hid, out_kind, loss_kind, fpar, ipar,
          X, Y, lab, Xt, Yt, labt, step0, n_steps, rec_step, rec_val, batch_loss, es_state, best):
    """Steps ``step0 + 1 .. step0 + n_steps`` of mini-batch training, in place on θ (``theta``) and
    the update rule's state (``S``, ``hp``, rule id ``rid``, ``t0`` steps taken so far).

    Step k (1-based) uses batch ``(k − 1) mod nb`` of epoch ``(k − 1) // nb`` (nb = ⌈m / batch⌉
    batches per epoch, the last one possibly smaller; a full batch is never shuffled). Nesterov's gradient is taken at the
    look-ahead point θ + μv. After every step whose number is a multiple of ``ipar[I_EVAL]`` the
    data loss and accuracy on the training and test sets go to ``rec_step``/``rec_val`` (columns:
    train loss, test loss, train accuracy, test accuracy); early stopping (``ipar[I_ES]``) keeps
    the weights with the lowest test loss in ``best`` (``es_state`` = best loss, its step,
    evaluations since) and, after ``patience`` evaluations without improvement, restores them.
    The batch loss of each step goes to ``batch_loss[s]`` if that array is long enough.

    A step whose batch loss is not finite or above ``fpar[F_LOSS_LIMIT]``, or whose update makes θ
    non-finite or some |θ_i| > ``fpar[F_THETA_LIMIT]``, is not applied and ends the call with DIVERGED.

    Returns ``(steps completed, records written, code)`` with code RUNNING, DIVERGED or STOPPED.
    """
    slope, alpha, dslope = fpar[F_SLOPE], fpar[F_ALPHA], fpar[F_DSLOPE]
    l2, l1, p_drop = fpar[F_L2], fpar[F_L1], fpar[F_DROP]
    loss_limit, theta_limit = fpar[F_LOSS_LIMIT], fpar[F_THETA_LIMIT]
    seed, shuffle, eval_every = ipar[I_SEED], ipar[I_SHUFFLE] != 0, ipar[I_EVAL]
    es_on, patience = ipar[I_ES] != 0 and Xt.shape[0] > 0, ipar[I_PATIENCE]
    m, n0 = X.shape
    K = Y.shape[1]
    B = ipar[I_BATCH] if 0 < ipar[I_BATCH] < m else m
    nb = (m + B - 1) // B
    shuffle = shuffle and nb > 1     # a full batch in data order: same sums as loss_and_grad
    Zs, As, Ins, Ms, Ds = buffers(sizes, B)
    Xb = np.empty((B, n0))
    Yb = np.empty((B, K))
    g = np.empty_like(theta)
    prev = np.empty_like(theta)
    look = np.empty_like(theta)
    mu = hp[1]
    cur = -1
    order = np.arange(m)
    n_rec = 0
    mask_seed = seed ^ _MASK_SALT
    for s in range(n_steps):
        k = step0 + s
        e = k // nb
        if e != cur and (shuffle or cur < 0):
            order = epoch_order(seed, e, m, shuffle)
        cur = e
        lo = (k % nb) * B
        bl = min(B, m - lo)
        for r in range(bl):
            src = order[lo + r]
            for c in range(n0):
                Xb[r, c] = X[src, c]
            for c in range(K):
                Yb[r, c] = Y[src, c]
        if rid == NESTEROV:
            for i in range(theta.size):
                look[i] = theta[i] + mu * S[0, i]
            P = look
        else:
            P = theta
        loss = forward(P, woff, boff, sizes, hid, out_kind, loss_kind, slope, alpha, Xb, Yb, Zs, As,
                       Ins, Ms, Ds, B, bl, p_drop, mask_seed, k, bl > 0) / bl
        if s < batch_loss.size:
            batch_loss[s] = loss
        if not (math.isfinite(loss) and loss <= loss_limit):
            return s, n_rec, DIVERGED
        backward(P, g, woff, boff, sizes, hid, dslope, alpha, Xb, Zs, As, Ins, Ms, Ds, B, bl, p_drop, l2, l1)
        prev[:] = theta
        _rule_step(rid, theta, g, S, hp, t0 + s + 1)
        bad = False
        for i in range(theta.size):
            if not (abs(theta[i]) <= theta_limit):
                bad = True
                break
        if bad:
            theta[:] = prev
            return s, n_rec, DIVERGED
        if eval_every > 0 and (k + 1) % eval_every == 0 and n_rec < rec_step.size:
            trl, tra = evaluate(theta, woff, boff, sizes, hid, out_kind, loss_kind, slope, alpha, X, Y, lab)
            tel, tea = evaluate(theta, woff, boff, sizes, hid, out_kind, loss_kind, slope, alpha, Xt, Yt, labt)
            rec_step[n_rec] = k + 1
            rec_val[n_rec, 0] = trl
            rec_val[n_rec, 1] = tel
            rec_val[n_rec, 2] = tra
            rec_val[n_rec, 3] = tea
            n_rec += 1
            if es_on:
                if tel < es_state[0]:
                    es_state[0] = tel
                    es_state[1] = k + 1
                    es_state[2] = 0
                    best[:] = theta
                else:
                    es_state[2] += 1
                    if es_state[2] >= patience:
                        theta[:] = best
                        return s + 1, n_rec, STOPPED
    return n_steps, n_rec, RUNNING


# ---- whole planes (heatmaps) -------------------------------------------------------------------
_ROWS = 256      # rows per block: the activations of a block stay in the L1/L2 cache


@njit(error_model="numpy")
def _dense_loops(A, W, b, Z):
    """Z = A W + b with the output units innermost (vectorizes over n_out); no BLAS call, so no
    BLAS threads competing with the GUI thread."""
    B, n_in = A.shape
    n_out = W.shape[1]
    for r in range(B):
        for j in range(n_out):
            Z[r, j] = b[j]
        for i in range(n_in):
            a = A[r, i]
            for j in range(n_out):
                Z[r, j] += a * W[i, j]


@njit(error_model="numpy")
def plane(P, woff, boff, sizes, hid, out_kind, slope, alpha, X, keep, H, cls, conf):
    """Evaluate the network on every row of X (a grid over the input plane), block by block.

    Writes the predicted class (``cls``, argmax of ŷ or ŷ > 0.5 for one unit) and a confidence in
    [0, 1] (``conf``: |2ŷ − 1| for one unit, (max ŷ − 1/K)/(1 − 1/K) for softmax, max ŷ otherwise).
    If ``keep`` is true, the hidden activations go to ``H`` (rows, Σ hidden units), layer after layer.
    """
    m = X.shape[0]
    L = len(sizes) - 1
    widest = 1
    for l in range(1, L + 1):
        widest = max(widest, sizes[l])
    zbuf = np.empty(_ROWS * widest)
    abuf = (np.empty(_ROWS * widest), np.empty(_ROWS * widest))
    K = sizes[L]
    for r0 in range(0, m, _ROWS):
        B = min(_ROWS, m - r0)
        inp = X[r0:r0 + B]
        col = 0
        for l in range(L):
            n = sizes[l + 1]
            Zc = zbuf[:B * n].reshape((B, n))
            _dense_loops(inp, _w(P, woff, sizes, l), _b(P, boff, sizes, l), Zc)
            if l < L - 1:
                Ac = abuf[l % 2][:B * n].reshape((B, n))
                act.act_forward(hid, _flat(Zc), _flat(Ac), slope, alpha)
                if keep:
                    H[r0:r0 + B, col:col + n] = Ac
                col += n
                inp = Ac
            else:
                for r in range(B):
                    if K == 1:
                        y = Zc[r, 0]
                        if out_kind == act.SIGMOID:
                            y = act.sigmoid_scalar(y)
                        cls[r0 + r] = 1 if y > 0.5 else 0
                        conf[r0 + r] = min(1.0, abs(2.0 * y - 1.0))
                    else:
                        top = 0
                        for k in range(1, K):
                            if Zc[r, k] > Zc[r, top]:
                                top = k
                        cls[r0 + r] = top
                        if out_kind == act.SOFTMAX:
                            s = 0.0
                            for k in range(K):
                                s += math.exp(Zc[r, k] - Zc[r, top])
                            c = (1.0 / s - 1.0 / K) / (1.0 - 1.0 / K)
                        elif out_kind == act.SIGMOID:
                            c = act.sigmoid_scalar(Zc[r, top])
                        else:
                            c = Zc[r, top]
                        conf[r0 + r] = min(1.0, max(0.0, c))
