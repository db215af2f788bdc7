"""A small convolutional network in float64 numba, and the convolution arithmetic of the course.

The network has the shape of the course article's MNIST CNN (conv 3x3x1x32, conv 3x3x32x64, max
pooling, dense) scaled to the data::

    x (H, W, C_in) ─ conv 3x3, C1 maps ─ ReLU ─ conv 3x3, C2 maps ─ ReLU ─ max-pool 2x2 ─
      [dense, n_hidden units ─ ReLU] ─ dense, 10 logits z ─ softmax p

Every "conv" is a cross-correlation, as in every deep-learning library (course §3.9: since the
weights are learned, flipping the kernel changes nothing):

    a[i, j, o] = b[o] + Σ_{u, v < 3} Σ_c x[i + u, j + v, c] · W[u, v, c, o]

with "valid" positions only (``padding=0``: H → H − 2) or one ring of zeros around the input
(``padding=1``, "same": H → H). Output size (n + 2p − k)/s + 1 with k = 3, s = 1. Max pooling takes
the largest of each 2x2 block (stride 2; an odd last row/column is dropped). The loss is the softmax
cross-entropy averaged over the batch, L = mean(log Σ_k e^{z_k} − z_y).

Backward pass (per sample, then summed): ∂L/∂z = p − onehot(y); a dense layer y = Wᵀf + b gives
∂W = f ∂yᵀ, ∂b = ∂y, ∂f = W ∂y; a ReLU passes the gradient where its input was positive; max pooling
is a router (course §3.9): each block's gradient goes to the position that held the maximum (the first
one on ties), the others get zero; a convolution gives ∂W[u, v, c, o] = Σ_ij x[i + u, j + v, c] ∂a[i, j, o],
∂b[o] = Σ_ij ∂a[i, j, o] and ∂x[i + u, j + v, c] += Σ_o W[u, v, c, o] ∂a[i, j, o] (a "full" correlation
with the flipped kernel). Because three of every four conv-2 positions receive no gradient through
the pool, the backward loops skip zero entries, which makes it about 4x cheaper than the forward.

All parameters live in one flat float64 vector ``theta`` (conv weights stored [u, v, c_in, c_out],
activations channels-last), so the shared update rules of :mod:`nnsim.engine.optimizers` update
them in place. Initialization: He normal, N(0, 2 / fan_in), biases 0 (He et al. 2015).

Also here, for the course's worked examples (COURSE.md §3.9, §5 rows 16–26): :func:`convolve1d`,
:func:`convolve2d` / :func:`correlate2d` (through the network's own conv kernel), :func:`max_pool2d`
and :func:`max_unpool2d` (the network's pool kernel and its router), :func:`transposed_conv2d` and
:func:`conv_param_count` ((k² n_in + 1) n_out).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nnsim.engine import optimizers
from nnsim.engine._jit import njit
from nnsim.engine.state import quote

#: layer names of :meth:`ConvNet.activations`, in order ("hidden" only with a hidden dense layer)
LAYERS = ("conv1", "relu1", "conv2", "relu2", "pool", "hidden", "logits", "probs")
CONV1, RELU1, CONV2, RELU2, POOL, HIDDEN, LOGITS, PROBS = range(8)
LAYER_LABELS = {"conv1": "conv 1 (before ReLU)", "relu1": "conv 1 + ReLU", "conv2": "conv 2 (before ReLU)",
                "relu2": "conv 2 + ReLU", "pool": "max-pool 2×2", "hidden": "dense + ReLU",
                "logits": "logits z", "probs": "softmax p"}

#: where the shipped pre-trained digits weights live (see packaging/train_digits_cnn.py)
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
PRETRAINED_DIGITS = RESOURCES / "cnn_digits.npz"

# indices into the int64 layout vector ``lay`` the kernels read
(_H, _W, _CIN, _C1, _C2, _HD, _K, _PAD, _OW1, _OB1, _OW2, _OB2, _OWH, _OBH, _OWO, _OBO,
 _H1, _W1, _H2, _W2, _PH, _PW, _F, _NP) = range(24)


def layout(in_shape, maps, hidden: int, n_classes: int, padding: int) -> np.ndarray:
    """The int64 layout vector of a network: sizes, offsets of each block in ``theta``, map sizes."""
    cin, H, W = (int(v) for v in in_shape)
    c1, c2 = (int(v) for v in maps)
    hd, K, p = int(hidden), int(n_classes), int(padding)
    h1, w1 = H + 2 * p - 2, W + 2 * p - 2
    h2, w2 = h1 + 2 * p - 2, w1 + 2 * p - 2
    if min(cin, c1, c2, K) < 1 or hd < 0 or p not in (0, 1):
        raise ValueError("maps, channels and classes must be >= 1, hidden >= 0, padding 0 or 1")
    if h2 < 2 or w2 < 2:
        raise ValueError(f"a {H}x{W} input is too small for two 3x3 convolutions and a 2x2 pool "
                         f"without padding")
    ph, pw = h2 // 2, w2 // 2
    F = ph * pw * c2
    fin = hd if hd else F
    sizes = [9 * cin * c1, c1, 9 * c1 * c2, c2, F * hd, hd, fin * K, K]
    offs = np.concatenate([[0], np.cumsum(sizes)])
    return np.array([H, W, cin, c1, c2, hd, K, p, *offs[:8], h1, w1, h2, w2, ph, pw, F, offs[8]],
                    dtype=np.int64)


def conv_param_count(k: int, n_in: int, n_out: int) -> int:
    """Weights of a k x k conv layer: (k² n_in + 1) n_out (the +1 is each output map's bias)."""
    return (k * k * n_in + 1) * n_out


# ---- kernels -------------------------------------------------------------------------------------

@njit
def _conv_fwd(xp, Wt, b, out, relu_out):
    """out[i, j, o] = b[o] + Σ_uvc xp[i+u, j+v, c] W[u, v, c, o] over the valid positions of the
    (already padded) ``xp``; ``relu_out`` receives max(out, 0), centred in it when it is larger
    (a padded buffer), skipped when it is empty. ``Wt`` is the weight block as (3, 3, c_in, c_out).

    Two neighbouring output positions are computed together in local accumulators, so each weight
    row is loaded once for both (3-4x faster than one position at a time; same summation order)."""
    ho, wo, co = out.shape
    ci = xp.shape[2]
    acc0 = np.empty(co)
    acc1 = np.empty(co)
    for i in range(ho):
        j = 0
        while j < wo:
            two = j + 1 < wo
            for o in range(co):
                acc0[o] = b[o]
                acc1[o] = b[o]
            for u in range(3):
                for v in range(3):
                    for c in range(ci):
                        x0 = xp[i + u, j + v, c]
                        x1 = xp[i + u, j + v + 1, c] if two else 0.0
                        w = Wt[u, v, c]
                        for o in range(co):
                            wk = w[o]
                            acc0[o] += x0 * wk
                            acc1[o] += x1 * wk
            for o in range(co):
                out[i, j, o] = acc0[o]
            if two:
                for o in range(co):
                    out[i, j + 1, o] = acc1[o]
            j += 2
    p = (relu_out.shape[0] - ho) // 2
    if relu_out.shape[0] > 0:
        for i in range(ho):
            for j in range(wo):
                for o in range(co):
                    a = out[i, j, o]
                    relu_out[i + p, j + p, o] = a if a > 0.0 else 0.0


@njit
def _conv_bwd_w(xp, da, dWT):
    """Weight gradient of :func:`_conv_fwd` for one sample, skipping zero gradients:
    dWT[o, u, v, c] += xp[i+u, j+v, c] da[i, j, o] (stored transposed, [o, u, v, c], so that the
    inner loop runs over contiguous c)."""
    ho, wo, co = da.shape
    ci = xp.shape[2]
    for i in range(ho):
        for j in range(wo):
            for o in range(co):
                g = da[i, j, o]
                if g != 0.0:
                    for u in range(3):
                        for v in range(3):
                            for c in range(ci):
                                dWT[o, u, v, c] += xp[i + u, j + v, c] * g


@njit
def _conv_bwd_w_dense(xp, da, dW):
    """The same weight gradient accumulated in the storage order [u, v, c, o], looping over the
    contiguous output maps (vectorizes when c_in is small, as in the first layer), skipping zero
    inputs instead of zero gradients."""
    ho, wo, co = da.shape
    ci = xp.shape[2]
    for i in range(ho):
        for j in range(wo):
            for u in range(3):
                for v in range(3):
                    for c in range(ci):
                        x = xp[i + u, j + v, c]
                        if x != 0.0:
                            for o in range(co):
                                dW[u, v, c, o] += x * da[i, j, o]


@njit
def _conv_bwd_x(WT, da, dxp):
    """Input gradient of :func:`_conv_fwd`: dxp[i+u, j+v, c] += WT[o, u, v, c] da[i, j, o] (a full
    correlation with the flipped kernel), skipping zero gradients."""
    ho, wo, co = da.shape
    ci = dxp.shape[2]
    for i in range(ho):
        for j in range(wo):
            for o in range(co):
                g = da[i, j, o]
                if g != 0.0:
                    for u in range(3):
                        for v in range(3):
                            for c in range(ci):
                                dxp[i + u, j + v, c] += WT[o, u, v, c] * g


@njit
def _pool_fwd(r, out, amax):
    """2x2 max pooling, stride 2: out[i, j, c] = max of r[2i:2i+2, 2j:2j+2, c]; amax holds the flat
    position (row * width + col) of the first maximum (the router of the backward pass)."""
    ph, pw, cc = out.shape
    w = r.shape[1]
    for i in range(ph):
        for j in range(pw):
            for c in range(cc):
                best = r[2 * i, 2 * j, c]
                at = (2 * i) * w + 2 * j
                for u in range(2):
                    for v in range(2):
                        val = r[2 * i + u, 2 * j + v, c]
                        if val > best:
                            best = val
                            at = (2 * i + u) * w + 2 * j + v
                out[i, j, c] = best
                amax[i, j, c] = at


@njit
def _forward(theta, lay, x, xp, a1, r1p, a2, r2, pooled, amax, hpre, h, z, prob):
    """One sample forward; fills every layer's buffer. Padded buffers keep their zero borders."""
    H, W, cin, c1, c2 = lay[_H], lay[_W], lay[_CIN], lay[_C1], lay[_C2]
    hd, K, p = lay[_HD], lay[_K], lay[_PAD]
    W1 = theta[lay[_OW1]:lay[_OB1]].reshape((3, 3, cin, c1))
    b1 = theta[lay[_OB1]:lay[_OW2]]
    W2 = theta[lay[_OW2]:lay[_OB2]].reshape((3, 3, c1, c2))
    b2 = theta[lay[_OB2]:lay[_OWH]]
    for i in range(H):
        for j in range(W):
            for c in range(cin):
                xp[i + p, j + p, c] = x[i, j, c]
    _conv_fwd(xp, W1, b1, a1, r1p)
    _conv_fwd(r1p, W2, b2, a2, r2)
    _pool_fwd(r2, pooled, amax)
    f = pooled.reshape(pooled.size)
    F = f.size
    if hd > 0:
        Wh = theta[lay[_OWH]:lay[_OBH]].reshape((F, hd))
        bh = theta[lay[_OBH]:lay[_OWO]]
        for q in range(hd):
            hpre[q] = bh[q]
        for r in range(F):
            fr = f[r]
            if fr != 0.0:
                for q in range(hd):
                    hpre[q] += fr * Wh[r, q]
        for q in range(hd):
            h[q] = hpre[q] if hpre[q] > 0.0 else 0.0
        fin = h
    else:
        fin = f
    n_in = fin.size
    Wo = theta[lay[_OWO]:lay[_OBO]].reshape((n_in, K))
    bo = theta[lay[_OBO]:lay[_NP]]
    for k in range(K):
        z[k] = bo[k]
    for r in range(n_in):
        fr = fin[r]
        if fr != 0.0:
            for k in range(K):
                z[k] += fr * Wo[r, k]
    zmax = z[0]
    for k in range(K):
        zmax = max(zmax, z[k])
    s = 0.0
    for k in range(K):
        prob[k] = math.exp(z[k] - zmax)
        s += prob[k]
    for k in range(K):
        prob[k] /= s
    return zmax + math.log(s)  # log Σ e^z


@njit
def _backward(theta, lay, ctl, seed, xp, a1, r1p, a2, pooled, amax, hpre, h, prob,
              W1T, W2T, grad, dxp):
    """Backpropagate the gradient ``seed`` given at layer ``ctl[0]`` (flat, internal layout) to the
    parameters if ``ctl[1]`` (accumulated into ``grad``, the conv-2 block transposed to
    [o, u, v, c]) and to the padded input ``dxp`` if ``ctl[2]``. (The flags travel in an array so
    that every caller shares one compiled version.)"""
    seed_layer = ctl[0]
    want_w = ctl[1] != 0
    want_x = ctl[2] != 0
    cin, c1, c2 = lay[_CIN], lay[_C1], lay[_C2]
    hd, K, p = lay[_HD], lay[_K], lay[_PAD]
    h1, w1, h2, w2 = lay[_H1], lay[_W1], lay[_H2], lay[_W2]
    ph, pw = lay[_PH], lay[_PW]
    F = lay[_F]
    n_in = hd if hd > 0 else F
    f = pooled.reshape(pooled.size)
    # ---- dense output layer
    dpool = np.zeros(F)
    dh = np.zeros(max(hd, 1))
    if seed_layer >= LOGITS:
        dz = np.empty(K)
        if seed_layer == PROBS:  # softmax Jacobian: dz_k = p_k (s_k − Σ_j s_j p_j)
            sp = 0.0
            for k in range(K):
                sp += seed[k] * prob[k]
            for k in range(K):
                dz[k] = prob[k] * (seed[k] - sp)
        else:
            for k in range(K):
                dz[k] = seed[k]
        Wo = theta[lay[_OWO]:lay[_OBO]].reshape((n_in, K))
        fin = h if hd > 0 else f
        dfin = np.zeros(n_in)
        if want_w:
            o0 = lay[_OWO]
            for r in range(n_in):
                fr = fin[r]
                for k in range(K):
                    grad[o0 + r * K + k] += fr * dz[k]
            for k in range(K):
                grad[lay[_OBO] + k] += dz[k]
        for r in range(n_in):
            if fin[r] != 0.0 or hd == 0:
                s = 0.0
                for k in range(K):
                    s += Wo[r, k] * dz[k]
                dfin[r] = s
        if hd > 0:
            dh = dfin
        else:
            dpool = dfin
    elif seed_layer == HIDDEN:
        for q in range(hd):
            dh[q] = seed[q]
    # ---- hidden dense layer
    if hd > 0 and seed_layer >= HIDDEN:
        Wh = theta[lay[_OWH]:lay[_OBH]].reshape((F, hd))
        dhp = np.empty(hd)
        for q in range(hd):
            dhp[q] = dh[q] if hpre[q] > 0.0 else 0.0
        if want_w:
            o0 = lay[_OWH]
            for r in range(F):
                fr = f[r]
                if fr != 0.0:
                    for q in range(hd):
                        grad[o0 + r * hd + q] += fr * dhp[q]
            for q in range(hd):
                grad[lay[_OBH] + q] += dhp[q]
        for r in range(F):
            s = 0.0
            for q in range(hd):
                s += Wh[r, q] * dhp[q]
            dpool[r] = s
    if seed_layer == POOL:
        for r in range(F):
            dpool[r] = seed[r]
    # ---- pool router and ReLU 2
    da2 = np.zeros((h2, w2, c2))
    if seed_layer >= POOL:
        dp3 = dpool.reshape((ph, pw, c2))
        for i in range(ph):
            for j in range(pw):
                for c in range(c2):
                    g = dp3[i, j, c]
                    if g != 0.0:
                        at = amax[i, j, c]
                        ii = at // w2
                        jj = at - ii * w2
                        if a2[ii, jj, c] > 0.0:
                            da2[ii, jj, c] += g
    elif seed_layer == RELU2:
        s3 = seed.reshape((h2, w2, c2))
        for i in range(h2):
            for j in range(w2):
                for c in range(c2):
                    if a2[i, j, c] > 0.0:
                        da2[i, j, c] = s3[i, j, c]
    elif seed_layer == CONV2:
        d2 = da2.reshape(da2.size)
        for q in range(d2.size):
            d2[q] = seed[q]
    # ---- conv 2
    hp1, wp1 = h1 + 2 * p, w1 + 2 * p
    dr1p = np.zeros((hp1, wp1, c1))
    if seed_layer >= CONV2:
        o2 = lay[_OW2]
        _conv_bwd_x(W2T, da2, dr1p)
        if want_w:
            _conv_bwd_w(r1p, da2, grad[o2:o2 + 9 * c1 * c2].reshape((c2, 3, 3, c1)))
            for i in range(h2):
                for j in range(w2):
                    for o in range(c2):
                        grad[lay[_OB2] + o] += da2[i, j, o]
    elif seed_layer == RELU1:
        s3 = seed.reshape((h1, w1, c1))
        for i in range(h1):
            for j in range(w1):
                for c in range(c1):
                    dr1p[i + p, j + p, c] = s3[i, j, c]
    # ---- ReLU 1 and conv 1
    da1 = np.empty((h1, w1, c1))
    if seed_layer == CONV1:
        d1 = da1.reshape(da1.size)
        for q in range(d1.size):
            d1[q] = seed[q]
    else:
        for i in range(h1):
            for j in range(w1):
                for c in range(c1):
                    da1[i, j, c] = dr1p[i + p, j + p, c] if a1[i, j, c] > 0.0 else 0.0
    if want_x:
        _conv_bwd_x(W1T, da1, dxp)
    if want_w:
        o1 = lay[_OW1]
        _conv_bwd_w_dense(xp, da1, grad[o1:o1 + 9 * cin * c1].reshape((3, 3, cin, c1)))
        for i in range(h1):
            for j in range(w1):
                for o in range(c1):
                    grad[lay[_OB1] + o] += da1[i, j, o]


@njit
def _buffers(lay):
    H, W, cin, c1, c2 = lay[_H], lay[_W], lay[_CIN], lay[_C1], lay[_C2]
    p = lay[_PAD]
    h1, w1, h2, w2, ph, pw = lay[_H1], lay[_W1], lay[_H2], lay[_W2], lay[_PH], lay[_PW]
    hd = max(lay[_HD], 1)
    K = lay[_K]
    return (np.zeros((H + 2 * p, W + 2 * p, cin)), np.zeros((h1, w1, c1)),
            np.zeros((h1 + 2 * p, w1 + 2 * p, c1)), np.zeros((h2, w2, c2)), np.zeros((h2, w2, c2)),
            np.zeros((ph, pw, c2)), np.zeros((ph, pw, c2), np.int64), np.zeros(hd), np.zeros(hd),
            np.zeros(K), np.zeros(K))


@njit
def _transposed_weights(theta, lay):
    """The conv weight blocks as [o, u, v, c] copies (contiguous over c for the backward loops)."""
    cin, c1, c2 = lay[_CIN], lay[_C1], lay[_C2]
    W1 = theta[lay[_OW1]:lay[_OB1]].reshape((3, 3, cin, c1))
    W2 = theta[lay[_OW2]:lay[_OB2]].reshape((3, 3, c1, c2))
    W1T = np.empty((c1, 3, 3, cin))
    W2T = np.empty((c2, 3, 3, c1))
    for u in range(3):
        for v in range(3):
            for c in range(cin):
                for o in range(c1):
                    W1T[o, u, v, c] = W1[u, v, c, o]
            for c in range(c1):
                for o in range(c2):
                    W2T[o, u, v, c] = W2[u, v, c, o]
    return W1T, W2T


@njit
def _untranspose_grads(grad, lay):
    """Convert the conv-2 block of ``grad`` from [o, u, v, c] back to the storage order [u, v, c, o]."""
    c1, c2 = lay[_C1], lay[_C2]
    for off, ci, co in ((lay[_OW2], c1, c2),):
        n = 9 * ci * co
        T = np.empty((co, 3, 3, ci))
        Tf = T.reshape(n)
        for q in range(n):
            Tf[q] = grad[off + q]
        G = grad[off:off + n].reshape((3, 3, ci, co))
        for o in range(co):
            for u in range(3):
                for v in range(3):
                    for c in range(ci):
                        G[u, v, c, o] = T[o, u, v, c]


@njit
def _batch_grad(theta, lay, X, y, idx, grad):
    """Mean cross-entropy and its gradient (written to ``grad``) over the samples ``X[idx]``.

    Returns (summed loss, correct predictions). ``grad`` is zeroed first."""
    W1T, W2T = _transposed_weights(theta, lay)
    xp, a1, r1p, a2, r2, pooled, amax, hpre, h, z, prob = _buffers(lay)
    K = lay[_K]
    for q in range(grad.size):
        grad[q] = 0.0
    seed = np.empty(K)
    dxp = np.zeros((1, 1, 1))
    ctl = np.array([LOGITS, 1, 0])
    loss = 0.0
    correct = 0
    for t in range(idx.size):
        s = idx[t]
        lse = _forward(theta, lay, X[s], xp, a1, r1p, a2, r2, pooled, amax, hpre, h, z, prob)
        lab = y[s]
        loss += lse - z[lab]
        best = 0
        for k in range(K):
            if z[k] > z[best]:
                best = k
            seed[k] = prob[k]
        if best == lab:
            correct += 1
        seed[lab] -= 1.0
        _backward(theta, lay, ctl, seed, xp, a1, r1p, a2, pooled, amax, hpre, h, prob,
                  W1T, W2T, grad, dxp)
    _untranspose_grads(grad, lay)
    inv = 1.0 / max(idx.size, 1)
    for q in range(grad.size):
        grad[q] *= inv
    return loss, correct


@njit
def _forward_all(theta, lay, X, A1, A2, P, Hh, Z, Pr):
    """Forward every sample of X, keeping each layer's output (pre-activation conv maps, pool,
    hidden, logits, probabilities); ReLU outputs are max(·, 0) of A1 and A2."""
    xp, a1, r1p, a2, r2, pooled, amax, hpre, h, z, prob = _buffers(lay)
    keep = A1.shape[0] > 0
    K = z.size
    for s in range(X.shape[0]):
        _forward(theta, lay, X[s], xp, a1, r1p, a2, r2, pooled, amax, hpre, h, z, prob)
        for k in range(K):
            Z[s, k] = z[k]
            Pr[s, k] = prob[k]
        if keep:
            _copy_flat(a1, A1[s])
            _copy_flat(a2, A2[s])
            _copy_flat(pooled, P[s])
            if lay[_HD] > 0:
                for q in range(h.size):
                    Hh[s, q] = h[q]


@njit
def _copy_flat(src, dst):
    """dst[...] = src for two C-contiguous arrays of the same size (plain loop: compiles faster
    than numba's broadcasting assignment)."""
    a = src.reshape(src.size)
    b = dst.reshape(dst.size)
    for q in range(a.size):
        b[q] = a[q]


@njit
def _target(lay, seed_layer, mode, index, a1, a2, r2, pooled, h, z, prob, seed):
    """The target activation of the last forward pass and its seed gradient (written to ``seed``,
    sized like the layer). ``mode`` 0: the unit at flat ``index`` (internal channels-last order) of
    layer ``seed_layer``; 1: the mean of feature map (channel) ``index`` of that layer."""
    if seed_layer == CONV1:
        act = a1.reshape(a1.size)
        nc = lay[_C1]
    elif seed_layer == RELU1:  # (the backward pass applies the ReLU's mask itself)
        act = a1.reshape(a1.size).copy()
        for q in range(act.size):
            if act[q] < 0.0:
                act[q] = 0.0
        nc = lay[_C1]
    elif seed_layer == CONV2:
        act = a2.reshape(a2.size)
        nc = lay[_C2]
    elif seed_layer == RELU2:
        act = r2.reshape(r2.size)
        nc = lay[_C2]
    elif seed_layer == POOL:
        act = pooled.reshape(pooled.size)
        nc = lay[_C2]
    elif seed_layer == HIDDEN:
        act = h
        nc = 1
    elif seed_layer == LOGITS:
        act = z
        nc = 1
    else:
        act = prob
        nc = 1
    for q in range(seed.size):
        seed[q] = 0.0
    if mode == 1:
        npos = act.size // nc
        val = 0.0
        for q in range(npos):
            val += act[q * nc + index]
            seed[q * nc + index] = 1.0 / npos
        return val / npos
    seed[index] = 1.0
    return act[index]


def layer_size(lay: np.ndarray, seed_layer: int) -> int:
    """Number of units of a layer (per sample)."""
    c1, c2 = int(lay[_C1]), int(lay[_C2])
    return {CONV1: int(lay[_H1] * lay[_W1]) * c1, RELU1: int(lay[_H1] * lay[_W1]) * c1,
            CONV2: int(lay[_H2] * lay[_W2]) * c2, RELU2: int(lay[_H2] * lay[_W2]) * c2,
            POOL: int(lay[_F]), HIDDEN: max(int(lay[_HD]), 1), LOGITS: int(lay[_K]),
            PROBS: int(lay[_K])}[int(seed_layer)]


# ---- the network ---------------------------------------------------------------------------------

class ConvNet:
    """conv 3x3 → ReLU → conv 3x3 → ReLU → max-pool 2x2 → [dense → ReLU] → dense → softmax.

    ``ConvNet(seed=0, in_shape=(1, 8, 8), maps=(16, 32), hidden=0, n_classes=10, padding=0,
    optimizer="adam", batch_size=32, **hyper)`` where ``hyper`` are the update rule's
    hyperparameters (:data:`nnsim.engine.optimizers.HYPER_DEFAULTS`; Adam's η defaults to 0.001).
    Inputs are arrays of shape (m, C_in, H, W) scaled to [0, 1] ((m, H, W) is accepted for one
    channel). ``theta`` holds every parameter; :attr:`weights` gives named views of it.
    """

    def __init__(self, seed: int = 0, in_shape=(1, 8, 8), maps=(16, 32), hidden: int = 0,
                 n_classes: int = 10, padding: int = 0, optimizer: str = "adam",
                 batch_size: int = 32, **hyper):
        self.in_shape = tuple(int(v) for v in in_shape)
        self.maps = tuple(int(v) for v in maps)
        self.hidden = int(hidden)
        self.n_classes = int(n_classes)
        self.padding = int(padding)
        self.lay = layout(self.in_shape, self.maps, self.hidden, self.n_classes, self.padding)
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.theta = np.zeros(int(self.lay[_NP]))
        self.init_weights(self.rng)
        self.set_optimizer(optimizer, **hyper)
        self.epochs_trained = 0

    # ---- parameters
    @property
    def n_params(self) -> int:
        return int(self.lay[_NP])

    def _block(self, a: int, b: int, shape) -> np.ndarray:
        return self.theta[int(self.lay[a]):int(self.lay[b])].reshape(shape)

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """Views into ``theta``: conv1_w (3, 3, C_in, C1), conv1_b, conv2_w (3, 3, C1, C2), conv2_b,
        [hidden_w (F, n_hidden), hidden_b], out_w (F or n_hidden, K), out_b."""
        lay = self.lay
        cin, c1, c2, hd, K = (int(lay[i]) for i in (_CIN, _C1, _C2, _HD, _K))
        F = int(lay[_F])
        out = {"conv1_w": self._block(_OW1, _OB1, (3, 3, cin, c1)), "conv1_b": self._block(_OB1, _OW2, (c1,)),
               "conv2_w": self._block(_OW2, _OB2, (3, 3, c1, c2)), "conv2_b": self._block(_OB2, _OWH, (c2,))}
        if hd:
            out["hidden_w"] = self._block(_OWH, _OBH, (F, hd))
            out["hidden_b"] = self._block(_OBH, _OWO, (hd,))
        out["out_w"] = self._block(_OWO, _OBO, (hd or F, K))
        out["out_b"] = self._block(_OBO, _NP, (K,))
        return out

    def filters(self) -> np.ndarray:
        """First-layer filters as images, shape (C1, C_in, 3, 3) (channels-first, like the inputs)."""
        return self.weights["conv1_w"].transpose(3, 2, 0, 1).copy()

    def init_weights(self, rng: np.random.Generator) -> None:
        """He normal: every weight ~ N(0, 2 / fan_in); biases 0."""
        self.theta[:] = 0.0
        cin, c1, c2 = self.in_shape[0], self.maps[0], self.maps[1]
        fans = {"conv1_w": 9 * cin, "conv2_w": 9 * c1, "hidden_w": int(self.lay[_F]),
                "out_w": self.hidden or int(self.lay[_F])}
        for name, view in self.weights.items():
            if name in fans:
                view[...] = rng.standard_normal(view.shape) * math.sqrt(2.0 / fans[name])

    def set_optimizer(self, name: str, **hyper) -> None:
        """Use rule ``name`` of :mod:`nnsim.engine.optimizers` (its state starts afresh)."""
        if name == "newton":
            raise ValueError("Newton's method needs the Hessian; choose a first-order rule")
        self.optimizer = name
        self.rule = optimizers.make_rule(name, self.n_params, **hyper)

    # ---- data
    def to_internal(self, X) -> np.ndarray:
        """(m, C, H, W) or (m, H, W) → contiguous float64 (m, H, W, C), checked against in_shape."""
        X = np.asarray(X, dtype=np.float64)
        cin, H, W = self.in_shape
        if X.ndim == 3 and cin == 1:
            X = X[:, None]
        if X.ndim != 4 or X.shape[1:] != (cin, H, W):
            raise ValueError(f"expected inputs of shape (m, {cin}, {H}, {W}), got {X.shape}")
        return np.ascontiguousarray(X.transpose(0, 2, 3, 1))

    # ---- training
    def loss_and_grad(self, X, y) -> tuple[float, np.ndarray]:
        """Mean cross-entropy over (X, y) and its gradient with respect to ``theta`` (a new vector)."""
        Xi = self.to_internal(X)
        y = np.ascontiguousarray(y, dtype=np.int64)
        grad = np.empty(self.n_params)
        loss, _ = _batch_grad(self.theta, self.lay, Xi, y, np.arange(len(y), dtype=np.int64), grad)
        return float(loss) / max(len(y), 1), grad

    def train_batch(self, Xi: np.ndarray, y: np.ndarray, idx: np.ndarray,
                    grad: np.ndarray | None = None) -> tuple[float, int]:
        """One update on the samples ``idx`` of internal-layout data (see :meth:`to_internal`):
        gradient at the rule's evaluation point, then the rule's step. Returns (summed loss,
        correct) measured before the step."""
        grad = np.empty(self.n_params) if grad is None else grad
        point = self.rule.grad_point(self.theta)
        if point is self.theta:
            loss, correct = _batch_grad(self.theta, self.lay, Xi, y, idx, grad)
        else:  # Nesterov: gradient (and the reported loss) at the look-ahead point θ + μv
            loss, correct = _batch_grad(np.ascontiguousarray(point), self.lay, Xi, y, idx, grad)
        self.rule.apply(self.theta, grad)
        return float(loss), int(correct)

    def train_epoch(self, Xi: np.ndarray, y: np.ndarray, rng: np.random.Generator | None = None):
        """One pass over internal-layout data in a random order (mini-batches of ``batch_size``).
        Returns (mean training loss, training accuracy) as measured during the pass."""
        rng = self.rng if rng is None else rng
        order = rng.permutation(len(y)).astype(np.int64)
        grad = np.empty(self.n_params)
        tot, corr = 0.0, 0
        for start in range(0, len(y), self.batch_size):
            loss, c = self.train_batch(Xi, y, order[start:start + self.batch_size], grad)
            tot += loss
            corr += c
        self.epochs_trained += 1
        return tot / max(len(y), 1), corr / max(len(y), 1)

    def fit(self, X, y, epochs: int = 15, X_val=None, y_val=None, verbose: bool = False) -> dict:
        """Train for ``epochs`` passes. Returns the history: lists ``loss``, ``acc`` (training, during
        each pass) and, with validation data, ``val_loss``, ``val_acc``. Stops early (history key
        ``diverged`` True) when the loss or a weight is no longer finite or a weight exceeds 1e8."""
        Xi = self.to_internal(X)
        y = np.ascontiguousarray(y, dtype=np.int64)
        self._check_labels(y)
        hist = {"loss": [], "acc": [], "val_loss": [], "val_acc": [], "diverged": False}
        for e in range(int(epochs)):
            loss, acc = self.train_epoch(Xi, y)
            hist["loss"].append(loss)
            hist["acc"].append(acc)
            if X_val is not None:
                vl, va = self.evaluate(X_val, y_val)
                hist["val_loss"].append(vl)
                hist["val_acc"].append(va)
            if verbose:
                print(f"epoch {e + 1}: loss {loss:.4f} acc {acc:.4f}"
                      + (f" val_acc {hist['val_acc'][-1]:.4f}" if X_val is not None else ""))
            if self.diverged(loss):
                hist["diverged"] = True
                break
        return hist

    def diverged(self, loss: float = 0.0) -> bool:
        """True when the loss or a weight is not finite, or a weight's magnitude exceeds
        :data:`nnsim.engine.optimizers.DIVERGENCE_LIMIT` (1e8), the limit every panel uses."""
        if not math.isfinite(loss):
            return True
        top = np.abs(self.theta).max()
        return not (top <= optimizers.DIVERGENCE_LIMIT)

    def _check_labels(self, y: np.ndarray) -> None:
        if y.size and (y.min() < 0 or y.max() >= self.n_classes):
            raise ValueError(f"labels must be 0 .. {self.n_classes - 1}")

    # ---- inference
    def _run(self, X, keep: bool):
        Xi = self.to_internal(X)
        m = len(Xi)
        lay = self.lay
        K = self.n_classes
        h1, w1, h2, w2, ph, pw = (int(lay[i]) for i in (_H1, _W1, _H2, _W2, _PH, _PW))
        c1, c2, hd = self.maps[0], self.maps[1], self.hidden
        mk = m if keep else 0
        A1, A2 = np.empty((mk, h1, w1, c1)), np.empty((mk, h2, w2, c2))
        P, Hh = np.empty((mk, ph, pw, c2)), np.empty((mk if hd else 0, max(hd, 1)))
        Z, Pr = np.empty((m, K)), np.empty((m, K))
        _forward_all(self.theta, self.lay, Xi, A1, A2, P, Hh, Z, Pr)
        return A1, A2, P, Hh, Z, Pr

    def predict_proba(self, X) -> np.ndarray:
        """Softmax probabilities, shape (m, n_classes)."""
        return self._run(X, False)[5]

    def logits(self, X) -> np.ndarray:
        return self._run(X, False)[4]

    def predict(self, X) -> np.ndarray:
        return np.argmax(self.logits(X), axis=1)

    def evaluate(self, X, y) -> tuple[float, float]:
        """(mean cross-entropy, accuracy) on labelled data."""
        loss, acc, _ = self.scores(X, y)
        return loss, acc

    def scores(self, X, y) -> tuple[float, float, np.ndarray]:
        """(mean cross-entropy, accuracy, predicted classes) on labelled data, from one forward
        pass (the predictions are what :func:`nnsim.engine.metrics.confusion_matrix` counts)."""
        y = np.asarray(y, dtype=np.int64)
        Z = self.logits(X)
        zmax = Z.max(axis=1, keepdims=True)
        lse = (zmax[:, 0] + np.log(np.exp(Z - zmax).sum(axis=1)))
        pred = Z.argmax(axis=1)
        return float(np.mean(lse - Z[np.arange(len(y)), y])), float(np.mean(pred == y)), pred

    def activations(self, X) -> dict[str, np.ndarray]:
        """Every layer's output for inputs X, channels-first: conv1, relu1 (m, C1, H1, W1), conv2,
        relu2 (m, C2, H2, W2), pool (m, C2, H2/2, W2/2), hidden (m, n_hidden) if present, logits and
        probs (m, n_classes). "conv" maps are before the ReLU."""
        A1, A2, P, Hh, Z, Pr = self._run(X, True)
        t = (0, 3, 1, 2)
        out = {"conv1": A1.transpose(t).copy(), "relu1": np.maximum(A1, 0.0).transpose(t).copy(),
               "conv2": A2.transpose(t).copy(), "relu2": np.maximum(A2, 0.0).transpose(t).copy(),
               "pool": P.transpose(t).copy()}
        if self.hidden:
            out["hidden"] = Hh.copy()
        out["logits"], out["probs"] = Z, Pr
        return out

    def layer_shape(self, layer: str) -> tuple[int, ...]:
        """Per-sample shape of a layer's output as returned by :meth:`activations`."""
        lay = self.lay
        c1, c2 = self.maps
        shapes = {"conv1": (c1, int(lay[_H1]), int(lay[_W1])), "conv2": (c2, int(lay[_H2]), int(lay[_W2])),
                  "pool": (c2, int(lay[_PH]), int(lay[_PW])), "hidden": (self.hidden,),
                  "logits": (self.n_classes,), "probs": (self.n_classes,)}
        shapes["relu1"], shapes["relu2"] = shapes["conv1"], shapes["conv2"]
        if layer not in shapes or (layer == "hidden" and not self.hidden):
            raise ValueError(f"no layer {layer!r}; layers: {', '.join(self.layer_names())}")
        return shapes[layer]

    def layer_names(self) -> tuple[str, ...]:
        return tuple(n for n in LAYERS if n != "hidden" or self.hidden)

    # ---- saving
    def config(self) -> dict:
        return {"in_shape": self.in_shape, "maps": self.maps, "hidden": self.hidden,
                "n_classes": self.n_classes, "padding": self.padding}

    def save(self, path, **meta) -> None:
        """Write the architecture and ``theta`` (and any ``meta`` arrays/strings) to an .npz file."""
        cfg = self.config()
        np.savez(path, format=np.array("nnsim-convnet-1"), theta=self.theta,
                 in_shape=np.array(cfg["in_shape"]), maps=np.array(cfg["maps"]),
                 hidden=np.array(cfg["hidden"]), n_classes=np.array(cfg["n_classes"]),
                 padding=np.array(cfg["padding"]), epochs_trained=np.array(self.epochs_trained),
                 **{f"meta_{k}": np.asarray(v) for k, v in meta.items()})

    #: a weights file is read up to this many bytes unpacked (the shipped one takes well under 1 MB)
    MAX_WEIGHTS_BYTES = 200_000_000

    @classmethod
    def load(cls, path, **kwargs) -> "ConvNet":
        """A network from :meth:`save`'s file; raises ValueError with a readable reason otherwise.
        ``kwargs`` (optimizer, batch_size, hyperparameters) are passed to the constructor; the
        file's ``meta_*`` entries are in the ``meta`` attribute."""
        from nnsim.engine.datafiles import DataFileError, check_npz

        try:
            with np.load(path, allow_pickle=False) as data:
                check_npz(data, cls.MAX_WEIGHTS_BYTES, Path(path).name)  # (before inflating anything)
                files = dict(data)
        except DataFileError as exc:
            raise ValueError(str(exc)) from None
        except (OSError, ValueError, EOFError, AttributeError) as exc:
            raise ValueError(f"{Path(path).name} is not a readable .npz weights file ({exc})") from None
        if str(files.get("format", "")) != "nnsim-convnet-1":
            raise ValueError(f"{Path(path).name} is not an nnsim CNN weights file "
                             "(saved with 'Save weights…')")
        try:
            sizes = [*np.ravel(files["in_shape"]), *np.ravel(files["maps"]), files["hidden"],
                     files["n_classes"], files["padding"]]
            if any(not 0 <= int(v) <= 4096 for v in sizes) or len(sizes) > 16:
                raise ValueError(f"sizes out of range: {quote(str([int(v) for v in sizes[:16]]))}")
            net = cls(in_shape=tuple(files["in_shape"]), maps=tuple(files["maps"]),
                      hidden=int(files["hidden"]), n_classes=int(files["n_classes"]),
                      padding=int(files["padding"]), **kwargs)
            theta = np.asarray(files["theta"], dtype=np.float64)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{Path(path).name}: incomplete or inconsistent weights file ({exc})") from None
        if theta.shape != net.theta.shape:
            raise ValueError(f"{Path(path).name}: {theta.size} weights stored, the architecture needs "
                             f"{net.n_params}")
        if not np.all(np.isfinite(theta)):
            raise ValueError(f"{Path(path).name}: the weights contain NaN or infinity")
        net.theta[:] = theta
        net.epochs_trained = int(files.get("epochs_trained", 0))
        net.meta = {k[5:]: v for k, v in files.items() if k.startswith("meta_")}
        return net

    def copy(self) -> "ConvNet":
        other = ConvNet.__new__(ConvNet)
        other.__dict__.update(self.__dict__)
        other.theta = self.theta.copy()
        other.rng = np.random.default_rng()
        other.rng.bit_generator.state = self.rng.bit_generator.state
        other.rule = optimizers.make_rule(self.optimizer, self.n_params, **self.rule.hyper)
        other.rule.S[:] = self.rule.S
        other.rule.t = self.rule.t
        return other


def input_value_and_grad(net: ConvNet, x: np.ndarray, seed_layer: int, mode: int, index: int,
                         want_grad: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
    """Target activation a(x), its gradient ∂a/∂x (shaped like x) and the class probabilities for
    one input x of shape (C_in, H, W). ``mode`` 0: the unit at flat ``index`` of layer
    ``seed_layer`` in the internal channels-last order; 1: the mean of map ``index``. For the
    probabilities use ``seed_layer=PROBS, mode=0``. (Runs the activation-maximization kernel for
    one iteration, so the gradient is exactly the one the ascent uses.)"""
    from nnsim.engine import actmax

    return actmax.value_and_grad(net, x, seed_layer, mode, index, want_grad)


# ---- the course's worked examples ----------------------------------------------------------------

def convolve1d(f, g, mode: str = "full") -> np.ndarray:
    """Discrete convolution (f*g)[n] = Σ_m f[m] g[n − m]: flip g, slide, multiply and accumulate.
    ``mode`` "full" (every overlap, length len(f) + len(g) − 1), "valid" (g completely inside f) or
    "same" (zero padding so the length stays len(f); an even kernel pads one more on the right)."""
    f = np.asarray(f, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    n, k = len(f), len(g)
    full = np.zeros(n + k - 1)
    for i in range(n):
        full[i:i + k] += f[i] * g
    if mode == "full":
        return full
    if mode == "valid":
        return full[k - 1:n]
    if mode == "same":
        start = (k - 1) // 2
        return full[start:start + n]
    raise ValueError(f"unknown mode {mode!r}")


def correlate2d(x, k) -> np.ndarray:
    """Valid 2-D cross-correlation Σ_uv x[i + u, j + v] k[u, v], computed by the network's own conv
    kernel (3x3 kernels) or, for other sizes, the same sum in numpy."""
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    if k.shape == (3, 3):
        out = np.empty((x.shape[0] - 2, x.shape[1] - 2, 1))
        _conv_fwd(np.ascontiguousarray(x[:, :, None]), np.ascontiguousarray(k[:, :, None, None]),
                  np.zeros(1), out, np.empty((0, 0, 1)))
        return out[:, :, 0]
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for u in range(kh):
        for v in range(kw):
            out += k[u, v] * x[u:u + out.shape[0], v:v + out.shape[1]]
    return out


def convolve2d(x, k) -> np.ndarray:
    """Valid 2-D convolution: flip the kernel in both directions, then correlate."""
    return correlate2d(x, np.asarray(k, dtype=np.float64)[::-1, ::-1])


def max_pool2d(x) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max pooling with stride 2 by the network's pool kernel. Returns (pooled, argmax) where
    argmax is the flat index (row * width + col) of each block's maximum in x."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64)[:, :, None])
    out = np.empty((x.shape[0] // 2, x.shape[1] // 2, 1))
    amax = np.empty(out.shape, np.int64)
    _pool_fwd(x, out, amax)
    return out[:, :, 0], amax[:, :, 0]


def max_unpool2d(y, argmax, shape) -> np.ndarray:
    """Max unpooling ("remember which element was max"): each value goes back to the position its
    block's maximum came from, zeros elsewhere. It is also the pool's backward router."""
    out = np.zeros(shape)
    out.reshape(-1)[np.asarray(argmax).reshape(-1)] = np.asarray(y, dtype=np.float64).reshape(-1)
    return out


def transposed_conv2d(x, k, stride: int = 1) -> np.ndarray:
    """Transposed convolution: every input pixel places a copy of the kernel weighted by its value at
    stride-spaced positions; overlaps are summed (the uneven overlap is the checkerboard effect)."""
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    kh, kw = k.shape
    out = np.zeros(((x.shape[0] - 1) * stride + kh, (x.shape[1] - 1) * stride + kw))
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i * stride:i * stride + kh, j * stride:j * stride + kw] += x[i, j] * k
    return out


def warmup() -> None:
    """Compile (or load from the cache) every kernel on a tiny network."""
    for hidden in (0, 3):
        net = ConvNet(seed=0, in_shape=(1, 6, 6), maps=(2, 2), hidden=hidden, batch_size=2)
        X = np.random.default_rng(0).random((3, 1, 6, 6))
        y = np.array([0, 1, 2])
        net.fit(X, y, epochs=1)
        net.activations(X)
    correlate2d(np.ones((4, 4)), np.ones((3, 3)))
    max_pool2d(np.ones((4, 4)))
