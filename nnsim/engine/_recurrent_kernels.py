"""numba kernels of the recurrent cells (plain RNN, LSTM and its variants, GRU): forward and BPTT.

Used by :mod:`nnsim.engine.recurrent`, which documents the equations; this module holds only the
arithmetic, float64 throughout. Shapes: T time steps, B sequences, H hidden units, n inputs. The
forward kernels store the concatenations ``[h_{t-1}, x_t]`` of every step in ``XC`` (T, B, H + n):
BPTT needs them for the weight gradients ``dW = sum_t dA_t^T [h_{t-1}, x_t]``.

Why the code looks like this (measured, see ``benchmarks/bench_recurrent.py``):

* Each step's matrix product ``[h_{t-1}, x_t] W^T`` (and, in BPTT, ``dA_t W`` and ``dA_t^T
  [h_{t-1}, x_t]``) is one BLAS call (``np.dot`` with an output buffer, no allocation); everything
  element-wise is fused into one pass, with no Python in between.
* numba's scalar ``exp`` is a libm call (about 4 ns), and LLVM leaves a loop of divisions
  unvectorized here: :func:`vsigm` computes ``1/(1 + e^x)`` on a whole buffer with a vectorizable
  exp (:func:`vexp`: range reduction ``x = k ln2 + r``, a degree-12 Taylor polynomial on
  ``|r| <= ln2/2``, ``2^k`` written into the exponent bits; inputs clipped to [-700, 700]) and a
  Newton reciprocal; relative error about 2e-16, NaN propagates. Sigmoid is ``vsigm(-a)``, tanh is
  ``2 vsigm(-2a) - 1``. The element-wise work is split into short passes over few arrays, which
  LLVM vectorizes (one long fused loop over many arrays it did not).
* The kernels are serial: the products are small, and splitting the batch over threads (prange)
  or letting OpenBLAS thread them was slower whenever another process used the second core.
"""

from __future__ import annotations

import numpy as np

from nnsim.engine._jit import njit

_FM = {"contract"}
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238          # ln 2 split in two: k * _LN2_HI is exact for |k| < 2^11
_LN2_LO = 1.9082149292705877e-10
_MAGIC = 6755399441055744.0           # 1.5 * 2^52: x + _MAGIC rounds x to an integer in the low bits
_MAGIC_BITS = int(np.float64(_MAGIC).view(np.int64))


@njit(fastmath=_FM)
def vexp(buf, tmp):
    """``buf[:] = exp(buf)`` in place (1-D contiguous float64); ``tmp`` is scratch of the same size."""
    n = buf.size
    for e in range(n):
        v = min(max(buf[e], -700.0), 700.0)
        t = v * _LOG2E + _MAGIC
        kf = t - _MAGIC
        r = (v - kf * _LN2_HI) - kf * _LN2_LO
        buf[e] = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (
            1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (
                1.0 / 362880 + r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (
                    1.0 / 479001600))))))))))))
        tmp[e] = t
    ti = tmp.view(np.int64)
    for e in range(n):
        ti[e] = (ti[e] - _MAGIC_BITS + 1023) << 52
    s = ti.view(np.float64)
    for e in range(n):
        buf[e] *= s[e]


_RECIP_MAGIC = 0x7FDE623822FC16E6     # bits of a first guess of 1/x for x > 0 (error < 13 %)


@njit(fastmath=_FM)
def vsigm(buf, tmp):
    """``buf[:] = 1 / (1 + exp(buf))`` in place: the logistic sigmoid of ``-buf``.

    exp by :func:`vexp`; the reciprocal by four Newton steps ``y <- y (2 - x y)`` from a bit-level
    first guess (LLVM does not vectorize a division loop here; this does, and is exact to 1 ulp).
    Since ``exp`` is clipped at e^700, ``1 + e^x`` stays finite; NaN propagates."""
    vexp(buf, tmp)
    n = buf.size
    for e in range(n):
        buf[e] = 1.0 + buf[e]
    bi = buf.view(np.int64)
    ti = tmp.view(np.int64)
    for e in range(n):
        ti[e] = _RECIP_MAGIC - bi[e]
    for e in range(n):
        x = buf[e]
        v = tmp[e]
        v = v * (2.0 - x * v)
        v = v * (2.0 - x * v)
        v = v * (2.0 - x * v)
        buf[e] = v * (2.0 - x * v)


# ---- plain RNN --------------------------------------------------------------------------------
@njit(fastmath=_FM)
def _copy_h(XC, Ht, t):
    """The next step's concatenation gets h_t in its first H columns."""
    if t + 1 < XC.shape[0]:
        B, H = Ht.shape
        for r in range(B):
            for j in range(H):
                XC[t + 1, r, j] = Ht[r, j]


@njit(fastmath=_FM)
def rnn_forward(XC, WT, b, h0, A, Hs):
    """XC (T, B, H + n) holds x_t in its last n columns; the kernel writes h_{t-1} into the first H.
    Writes pre-activations A and states Hs (T, B, H)."""
    T, B, HN = XC.shape
    H = Hs.shape[2]
    tmp = np.empty(B * H)
    for r in range(B):
        for j in range(H):
            XC[0, r, j] = h0[r, j]
    for t in range(T):
        At = A[t]
        Ht = Hs[t]
        np.dot(XC[t], WT, At)
        for r in range(B):
            for j in range(H):
                v = At[r, j] + b[j]
                At[r, j] = v
                Ht[r, j] = -2.0 * v
        flat = Ht.reshape(B * H)
        vsigm(flat, tmp)
        for e in range(B * H):
            flat[e] = 2.0 * flat[e] - 1.0
        _copy_h(XC, Ht, t)


@njit(fastmath=_FM)
def rnn_backward(XC, W, Hs, DH, dW, db, dX, DHt, dh0):
    """BPTT for :func:`rnn_forward`; dW, db are overwritten; DHt gets the total dL/dh_t."""
    T, B, HN = XC.shape
    H = Hs.shape[2]
    n = HN - H
    da = np.empty((B, H))
    dcat = np.empty((B, HN))
    tmp = np.empty((H, HN))
    dW[:, :] = 0.0
    db[:] = 0.0
    for r in range(B):
        for j in range(H):
            dcat[r, j] = 0.0
    for t in range(T - 1, -1, -1):
        DHtt = DHt[t]
        for r in range(B):
            for j in range(H):
                DHtt[r, j] = DH[t, r, j] + dcat[r, j]
        for r in range(B):
            for j in range(H):
                h = Hs[t, r, j]
                da[r, j] = DHtt[r, j] * (1.0 - h * h)
        for r in range(B):
            for j in range(H):
                db[j] += da[r, j]
        np.dot(da, W, dcat)
        np.dot(da.T, XC[t], tmp)
        dW += tmp
        for r in range(B):
            for k in range(n):
                dX[t, r, k] = dcat[r, H + k]
    for r in range(B):
        for j in range(H):
            dh0[r, j] = dcat[r, j]


# ---- LSTM (standard, peephole, coupled) -------------------------------------------------------
@njit(fastmath=_FM)
def lstm_forward(XC, WT, b, P, h0, c0, peep, coupled, G, C, Hs, TC):
    """Gates G (T, B, 4H) in the order i, f, o, g; cell states C, hidden states Hs, tanh(C) TC.
    Each step: one product into G[t], then simple element-wise passes (which LLVM vectorizes)."""
    T, B, HN = XC.shape
    H = Hs.shape[2]
    H4 = 4 * H
    tmp = np.empty(B * H4)
    ao = np.empty((B, H))
    for r in range(B):
        for j in range(H):
            XC[0, r, j] = h0[r, j]
    for t in range(T):
        Gt = G[t]
        Ct = C[t]
        Cp = C[t - 1] if t > 0 else c0
        np.dot(XC[t], WT, Gt)
        if peep:  # i and f see C_{t-1}; o will see C_t
            for r in range(B):
                for j in range(H):
                    Gt[r, j] += P[0, j] * Cp[r, j]
                    Gt[r, H + j] += P[1, j] * Cp[r, j]
                    ao[r, j] = Gt[r, 2 * H + j] + b[2 * H + j]
        # negated pre-activations (doubled for g) so that vsigm gives σ(a) and σ(2a)
        for r in range(B):
            for q in range(3 * H):
                Gt[r, q] = -(Gt[r, q] + b[q])
            for q in range(3 * H, H4):
                Gt[r, q] = -2.0 * (Gt[r, q] + b[q])
        vsigm(Gt.reshape(B * H4), tmp)
        for r in range(B):
            for q in range(3 * H, H4):
                Gt[r, q] = 2.0 * Gt[r, q] - 1.0          # tanh(a) = 2 σ(2a) − 1
        if coupled:
            for r in range(B):
                for j in range(H):
                    Gt[r, j] = 1.0 - Gt[r, H + j]
        for r in range(B):
            for j in range(H):
                Ct[r, j] = Gt[r, H + j] * Cp[r, j] + Gt[r, j] * Gt[r, 3 * H + j]
        TCt = TC[t]
        for r in range(B):
            for j in range(H):
                TCt[r, j] = -2.0 * Ct[r, j]
        tflat = TCt.reshape(B * H)
        vsigm(tflat, tmp[:B * H])
        for e in range(B * H):
            tflat[e] = 2.0 * tflat[e] - 1.0
        if peep:
            for r in range(B):
                for j in range(H):
                    ao[r, j] = -(ao[r, j] + P[2, j] * Ct[r, j])
            vsigm(ao.reshape(B * H), tmp[:B * H])
            for r in range(B):
                for j in range(H):
                    Gt[r, 2 * H + j] = ao[r, j]
        Ht = Hs[t]
        for r in range(B):
            for j in range(H):
                Ht[r, j] = Gt[r, 2 * H + j] * TCt[r, j]
        _copy_h(XC, Ht, t)


@njit(fastmath=_FM)
def lstm_backward(XC, W, P, c0, peep, coupled, G, C, TC, DH, dW, db, dP, dX, DHt, DCt, dh0, dc0):
    """BPTT for :func:`lstm_forward`; dW, db, dP are overwritten; DHt/DCt get dL/dh_t, dL/dC_t."""
    T, B, HN = XC.shape
    H = C.shape[2]
    n = HN - H
    da = np.empty((B, 4 * H))
    dcat = np.zeros((B, HN))
    tmp = np.empty((4 * H, HN))
    dcn = np.zeros((B, H))
    dW[:, :] = 0.0
    db[:] = 0.0
    dP[:, :] = 0.0
    for t in range(T - 1, -1, -1):
        Gt = G[t]
        DHtt = DHt[t]
        DCtt = DCt[t]
        Cp = C[t - 1] if t > 0 else c0
        for r in range(B):
            for j in range(H):
                DHtt[r, j] = DH[t, r, j] + dcat[r, j]
        for r in range(B):
            for j in range(H):
                dh = DHtt[r, j]
                o = Gt[r, 2 * H + j]
                tc = TC[t, r, j]
                da[r, 2 * H + j] = dh * tc * o * (1.0 - o)
                DCtt[r, j] = dcn[r, j] + dh * o * (1.0 - tc * tc)
        if peep:
            for r in range(B):
                for j in range(H):
                    DCtt[r, j] += da[r, 2 * H + j] * P[2, j]
        if coupled:
            for r in range(B):
                for j in range(H):
                    dc = DCtt[r, j]
                    f = Gt[r, H + j]
                    g = Gt[r, 3 * H + j]
                    da[r, j] = 0.0
                    da[r, H + j] = dc * (Cp[r, j] - g) * f * (1.0 - f)
                    da[r, 3 * H + j] = dc * (1.0 - f) * (1.0 - g * g)
                    dcn[r, j] = dc * f
        else:
            for r in range(B):
                for j in range(H):
                    dc = DCtt[r, j]
                    i = Gt[r, j]
                    f = Gt[r, H + j]
                    g = Gt[r, 3 * H + j]
                    da[r, j] = dc * g * i * (1.0 - i)
                    da[r, H + j] = dc * Cp[r, j] * f * (1.0 - f)
                    da[r, 3 * H + j] = dc * i * (1.0 - g * g)
                    dcn[r, j] = dc * f
        if peep:
            for r in range(B):
                for j in range(H):
                    dai = da[r, j]
                    daf = da[r, H + j]
                    dcn[r, j] += dai * P[0, j] + daf * P[1, j]
                    dP[0, j] += dai * Cp[r, j]
                    dP[1, j] += daf * Cp[r, j]
                    dP[2, j] += da[r, 2 * H + j] * C[t, r, j]
        for r in range(B):
            for q in range(4 * H):
                db[q] += da[r, q]
        np.dot(da, W, dcat)
        np.dot(da.T, XC[t], tmp)
        dW += tmp
        for r in range(B):
            for k in range(n):
                dX[t, r, k] = dcat[r, H + k]
    for r in range(B):
        for j in range(H):
            dh0[r, j] = dcat[r, j]
            dc0[r, j] = dcn[r, j]


# ---- GRU ----------------------------------------------------------------------------------------
@njit(fastmath=_FM)
def gru_forward(XC, XR, WT_rz, WT_g, b, h0, G, Hs):
    """XC/XR (T, B, H + n) hold x_t in their last n columns; the kernel writes h_{t-1} (XC) and
    r_t * h_{t-1} (XR) into the first H. Gates G (T, B, 3H) in the order r, z, g."""
    T, B, HN = XC.shape
    H = Hs.shape[2]
    a = np.empty((B, 2 * H))
    ag = np.empty((B, H))
    tmp = np.empty(B * 2 * H)
    for r in range(B):
        for j in range(H):
            XC[0, r, j] = h0[r, j]
    for t in range(T):
        Gt = G[t]
        np.dot(XC[t], WT_rz, a)
        for r in range(B):
            for q in range(2 * H):
                a[r, q] = -(a[r, q] + b[q])
        vsigm(a.reshape(B * 2 * H), tmp)
        for r in range(B):
            for q in range(2 * H):
                Gt[r, q] = a[r, q]
            for j in range(H):
                XR[t, r, j] = a[r, j] * XC[t, r, j]
        np.dot(XR[t], WT_g, ag)
        for r in range(B):
            for j in range(H):
                ag[r, j] = -2.0 * (ag[r, j] + b[2 * H + j])
        vsigm(ag.reshape(B * H), tmp[:B * H])
        Ht = Hs[t]
        for r in range(B):
            for j in range(H):
                g = 2.0 * ag[r, j] - 1.0
                z = Gt[r, H + j]
                Gt[r, 2 * H + j] = g
                Ht[r, j] = (1.0 - z) * XC[t, r, j] + z * g
        _copy_h(XC, Ht, t)


@njit(fastmath=_FM)
def gru_backward(XC, XR, W_rz, W_g, G, DH, dW_rz, dW_g, db, dX, DHt, dh0):
    """BPTT for :func:`gru_forward`; dW_rz (2H, H + n), dW_g (H, H + n), db (3H) are overwritten."""
    T, B, HN = XC.shape
    H = DH.shape[2]
    n = HN - H
    da = np.empty((B, 2 * H))
    dag = np.empty((B, H))
    dcat = np.empty((B, HN))
    dcg = np.empty((B, HN))
    tmp_rz = np.empty((2 * H, HN))
    tmp_g = np.empty((H, HN))
    dhr = np.zeros((B, H))
    dW_rz[:, :] = 0.0
    dW_g[:, :] = 0.0
    db[:] = 0.0
    for t in range(T - 1, -1, -1):
        Gt = G[t]
        DHtt = DHt[t]
        for r in range(B):
            for j in range(H):
                DHtt[r, j] = DH[t, r, j] + dhr[r, j]
        for r in range(B):
            for j in range(H):
                dh = DHtt[r, j]
                z = Gt[r, H + j]
                g = Gt[r, 2 * H + j]
                dag[r, j] = dh * z * (1.0 - g * g)
                da[r, H + j] = dh * (g - XC[t, r, j]) * z * (1.0 - z)
                dhr[r, j] = dh * (1.0 - z)
        np.dot(dag, W_g, dcg)                 # d[r*h_{t-1}, x_t] through the g rows
        np.dot(dag.T, XR[t], tmp_g)
        dW_g += tmp_g
        for r in range(B):
            for j in range(H):
                rr = Gt[r, j]
                da[r, j] = dcg[r, j] * XC[t, r, j] * rr * (1.0 - rr)
                dhr[r, j] += dcg[r, j] * rr
        for r in range(B):
            for q in range(2 * H):
                db[q] += da[r, q]
            for j in range(H):
                db[2 * H + j] += dag[r, j]
        np.dot(da, W_rz, dcat)
        np.dot(da.T, XC[t], tmp_rz)
        dW_rz += tmp_rz
        for r in range(B):
            for j in range(H):
                dhr[r, j] += dcat[r, j]
            for k in range(n):
                dX[t, r, k] = dcat[r, H + k] + dcg[r, H + k]
    for r in range(B):
        for j in range(H):
            dh0[r, j] = dhr[r, j]


# ---- read-out -----------------------------------------------------------------------------------
@njit(fastmath=_FM)
def readout_backward(dy, hs, V, dh, dV, dc):
    """For ``y_t = V h_t + c``: ``dh[t] = dy[t] V``, ``dV = sum_t dy[t]^T h_t``, ``dc = sum dy``
    (dV, dc overwritten); one small product per step keeps OpenBLAS on one thread."""
    T, B, n_out = dy.shape
    H = hs.shape[2]
    tmp = np.empty((n_out, H))
    dV[:, :] = 0.0
    dc[:] = 0.0
    for t in range(T):
        np.dot(dy[t], V, dh[t])
        np.dot(dy[t].T, hs[t], tmp)
        dV += tmp
        for r in range(B):
            for k in range(n_out):
                dc[k] += dy[t, r, k]
