"""Activation functions and their derivatives: numpy versions (notebooks, plots, reference tests)
and numba kernels (the MLP's training loop), both from one table of formulas.

==========  ==========================================  ==========================================
name        φ(z)                                        φ'(z)
==========  ==========================================  ==========================================
linear      z                                           1
sigmoid     1 / (1 + e^(−z))   (the logistic, 0..1)     φ (1 − φ)
tanh        tanh z   (−1..1)                            1 − φ²
relu        max(0, z)                                   1 if z > 0 else 0   (0 at the kink z = 0)
leaky_relu  z if z > 0 else a z   (slope a, user set)   1 if z > 0 else a
softplus    log(1 + e^z)   (smooth ReLU)                σ(z) = 1 / (1 + e^(−z))
elu         z if z ≥ 0 else α (e^z − 1)                 1 if z ≥ 0 else α e^z
selu        λ (z if z > 0 else α (e^z − 1))             λ if z > 0 else λ α e^z
relu6       min(max(0, z), 6)                           1 if 0 < z < 6 else 0
softmax     e^(z_k) / Σ_j e^(z_j)   (a layer function)  ∂φ_k/∂z_j = φ_k (δ_kj − φ_j)
==========  ==========================================  ==========================================

SELU's constants are not in the course material ("two fixed parameters"); the standard values of
Klambauer et al. 2017, "Self-Normalizing Neural Networks", are used: λ = 1.0507009873554805,
α = 1.6732632423543772. The leaky-ReLU slope defaults to 0.1 as in the course's code (004; 0.01 is
the other common choice); ELU's α defaults to 1.

Numerics: the sigmoid is evaluated without overflow warnings; softplus as
``max(z, 0) + log1p(e^(−|z|))``; softmax subtracts the row maximum first. Inside numba, tanh and
the sigmoid are built on :func:`exp_block`, an exponential that LLVM can vectorize (Cody–Waite range
reduction e^x = 2^k e^r with |r| ≤ ln2/2, a degree-13 Taylor polynomial for e^r, and 2^k assembled
in the exponent bits): numba's scalar ``tanh``/``exp`` cost 3–5× more per element than numpy's SIMD
versions, and the hidden activations dominate a full-batch training step. tanh z = sign(z)
(1 − e)/(1 + e) with e = e^(−2|z|) (|z| clamped at 20, where tanh = ±1 in double precision);
sigmoid = 1/(1 + e) or e/(1 + e) with e = e^(−|z|). Both are within 2.3e-16 (absolute) of numpy's.
"""

from __future__ import annotations

import math

import numpy as np

from nnsim.engine._jit import njit

#: activation ids used by the kernels (the index in this tuple)
NAMES = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "selu", "relu6",
         "softmax")
LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, SOFTPLUS, ELU, SELU, RELU6, SOFTMAX = range(10)

#: hidden-layer activations offered in the MLP (softmax is an output-layer function)
HIDDEN = NAMES[:-1]
#: output activations
OUTPUTS = ("softmax", "sigmoid", "linear")
#: activations with a kink (a point where φ' jumps): finite differences straddling it disagree
#: with the one-sided derivative used by backprop
KINKED = ("relu", "leaky_relu", "relu6")

LABELS = {"linear": "linear", "sigmoid": "sigmoid (logistic)", "tanh": "tanh", "relu": "ReLU",
          "leaky_relu": "leaky ReLU", "softplus": "softplus", "elu": "ELU", "selu": "SELU",
          "relu6": "ReLU6", "softmax": "softmax"}

FORMULAS = {
    "linear": ("φ(z) = z", "φ′(z) = 1"),
    "sigmoid": ("φ(z) = 1 / (1 + e^(−z))", "φ′(z) = φ(z)(1 − φ(z))"),
    "tanh": ("φ(z) = tanh z", "φ′(z) = 1 − tanh² z"),
    "relu": ("φ(z) = max(0, z)", "φ′(z) = 1 if z > 0 else 0"),
    "leaky_relu": ("φ(z) = z if z > 0 else a·z", "φ′(z) = 1 if z > 0 else a"),
    "softplus": ("φ(z) = log(1 + e^z)", "φ′(z) = 1 / (1 + e^(−z))"),
    "elu": ("φ(z) = z if z ≥ 0 else α(e^z − 1)", "φ′(z) = 1 if z ≥ 0 else α e^z"),
    "selu": ("φ(z) = λ(z if z > 0 else α(e^z − 1))", "φ′(z) = λ if z > 0 else λα e^z"),
    "relu6": ("φ(z) = min(max(0, z), 6)", "φ′(z) = 1 if 0 < z < 6 else 0"),
    "softmax": ("φ_k(z) = e^(z_k) / Σ_j e^(z_j)", "∂φ_k/∂z_j = φ_k(δ_kj − φ_j)"),
}

#: Klambauer et al. (2017) standard values (not given in the course material)
SELU_LAMBDA = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772
DEFAULT_SLOPE = 0.1
DEFAULT_ELU_ALPHA = 1.0


def act_id(name: str) -> int:
    try:
        return NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(NAMES)}") from None


# ---- numpy versions -----------------------------------------------------------------------------
def forward(name: str, z, slope: float = DEFAULT_SLOPE, alpha: float = DEFAULT_ELU_ALPHA) -> np.ndarray:
    """φ(z) element-wise (softmax: along the last axis). ``slope``: leaky ReLU's a; ``alpha``: ELU's α."""
    z = np.asarray(z, dtype=np.float64)
    k = act_id(name)
    with np.errstate(over="ignore", under="ignore"):
        if k == LINEAR:
            return z.copy()
        if k == SIGMOID:
            return _sigmoid_np(z)
        if k == TANH:
            return np.tanh(z)
        if k == RELU:
            return np.maximum(z, 0.0)
        if k == LEAKY_RELU:
            return np.where(z > 0, z, slope * z)
        if k == SOFTPLUS:
            return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
        if k == ELU:
            return np.where(z >= 0, z, alpha * np.expm1(np.minimum(z, 0.0)))
        if k == SELU:
            return SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))
        if k == RELU6:
            return np.clip(z, 0.0, 6.0)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


def derivative(name: str, z, slope: float = DEFAULT_SLOPE, alpha: float = DEFAULT_ELU_ALPHA) -> np.ndarray:
    """φ'(z) element-wise. For softmax this is the diagonal φ_k(1 − φ_k) of its Jacobian (the
    full Jacobian is :func:`softmax_jacobian`). At a kink the one-sided value of the table is used."""
    z = np.asarray(z, dtype=np.float64)
    k = act_id(name)
    with np.errstate(over="ignore", under="ignore"):
        if k == LINEAR:
            return np.ones_like(z)
        if k in (SIGMOID, SOFTPLUS):
            s = _sigmoid_np(z)
            return s * (1.0 - s) if k == SIGMOID else s
        if k == TANH:
            return 1.0 - np.tanh(z) ** 2
        if k == RELU:
            return (z > 0).astype(np.float64)
        if k == LEAKY_RELU:
            return np.where(z > 0, 1.0, slope)
        if k == ELU:
            return np.where(z >= 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))
        if k == SELU:
            return SELU_LAMBDA * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))
        if k == RELU6:
            return ((z > 0) & (z < 6)).astype(np.float64)
        p = forward("softmax", z)
        return p * (1.0 - p)


def softmax_jacobian(z) -> np.ndarray:
    """``J[k, j] = ∂φ_k/∂z_j = φ_k (δ_kj − φ_j)`` for one vector ``z``."""
    p = forward("softmax", np.asarray(z, dtype=np.float64).reshape(-1))
    return np.diag(p) - np.outer(p, p)


def _sigmoid_np(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


# ---- numba kernels ------------------------------------------------------------------------------
# Element-wise, in place on flat (raveled) C-contiguous arrays. The branch on the activation sits
# outside the loops so that each loop stays simple enough for LLVM to vectorize.

@njit(error_model="numpy")
def sigmoid_scalar(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0                 # 1.5 · 2^52: x + _ROUND − _ROUND rounds x to an integer
_EXP_BIAS = 4503599627370496.0 + 1023.0    # 2^52 + 1023: its low mantissa bits hold k + 1023
_C = [1.0 / math.factorial(k) for k in range(14)]
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C[2:]
_BLOCK = 256


@njit(fastmath={"contract"}, error_model="numpy")
def exp_block(x, out, kb):
    """``out[i] = e^(x[i])`` for x in [−700, 700] (relative error ≤ 2.3e-16); ``kb`` is scratch of
    the same length. Only FMA contraction is allowed (no re-association, which would break the
    rounding trick)."""
    n = x.size
    kbits = kb.view(np.int64)
    for i in range(n):
        v = x[i]
        k = (v * _LOG2E + _ROUND) - _ROUND
        r = (v - k * _LN2_HI) - k * _LN2_LO
        out[i] = ((((((((((((_C13 * r + _C12) * r + _C11) * r + _C10) * r + _C9) * r + _C8) * r
                           + _C7) * r + _C6) * r + _C5) * r + _C4) * r + _C3) * r + _C2) * r + 1.0) * r + 1.0
        kb[i] = k + _EXP_BIAS
    for i in range(n):
        kbits[i] = kbits[i] << 52          # (k + 1023) << 52 is the double 2^k
    for i in range(n):
        out[i] *= kb[i]


@njit(fastmath={"contract"}, error_model="numpy")
def _tanh_sigmoid(kind, z, a):
    n = z.size
    if n < 32:      # tiny layers (online learning): scalar libm, no scratch arrays to allocate
        if kind == TANH:
            for i in range(n):
                a[i] = 2.0 / (1.0 + math.exp(-2.0 * z[i])) - 1.0
        else:
            for i in range(n):
                a[i] = sigmoid_scalar(z[i])
        return
    xb = np.empty(_BLOCK)
    eb = np.empty(_BLOCK)
    kb = np.empty(_BLOCK)
    lim = 20.0 if kind == TANH else 700.0
    mul = -2.0 if kind == TANH else -1.0
    for s in range(0, n, _BLOCK):
        m = min(_BLOCK, n - s)
        x, e, k = xb[:m], eb[:m], kb[:m]
        zz, aa = z[s:s + m], a[s:s + m]
        for i in range(m):
            v = abs(zz[i])
            x[i] = mul * (v if v < lim else lim)
        exp_block(x, e, k)
        if kind == TANH:
            for i in range(m):
                x[i] = (1.0 - e[i]) / (1.0 + e[i])
            for i in range(m):
                aa[i] = x[i] if zz[i] >= 0.0 else -x[i]
        else:
            for i in range(m):
                x[i] = 1.0 / (1.0 + e[i])
            for i in range(m):
                aa[i] = x[i] if zz[i] >= 0.0 else e[i] * x[i]


@njit(error_model="numpy")
def act_forward(kind, z, a, slope, alpha):
    """``a[i] = φ(z[i])`` for an element-wise activation ``kind`` (flat arrays; not softmax)."""
    n = z.size
    if kind == LINEAR:
        for i in range(n):
            a[i] = z[i]
    elif kind == SIGMOID or kind == TANH:
        _tanh_sigmoid(kind, z, a)
    elif kind == RELU:
        for i in range(n):
            a[i] = z[i] if z[i] > 0.0 else 0.0
    elif kind == LEAKY_RELU:
        for i in range(n):
            a[i] = z[i] if z[i] > 0.0 else slope * z[i]
    elif kind == SOFTPLUS:
        for i in range(n):
            v = z[i]
            a[i] = (v if v > 0.0 else 0.0) + math.log1p(math.exp(-abs(v)))
    elif kind == ELU:
        for i in range(n):
            a[i] = z[i] if z[i] >= 0.0 else alpha * math.expm1(z[i])
    elif kind == SELU:
        for i in range(n):
            a[i] = SELU_LAMBDA * (z[i] if z[i] > 0.0 else SELU_ALPHA * math.expm1(z[i]))
    elif kind == RELU6:
        for i in range(n):
            v = z[i]
            a[i] = 0.0 if v < 0.0 else (6.0 if v > 6.0 else v)


@njit(error_model="numpy")
def act_backward(kind, z, a, g, slope, alpha):
    """``g[i] *= φ'(z[i])`` (``a = φ(z)`` is used where it is cheaper; flat arrays; not softmax)."""
    n = z.size
    if kind == LINEAR:
        return
    if kind == SIGMOID:
        for i in range(n):
            g[i] *= a[i] * (1.0 - a[i])
    elif kind == TANH:
        for i in range(n):
            g[i] *= 1.0 - a[i] * a[i]
    elif kind == RELU:
        for i in range(n):
            if not z[i] > 0.0:
                g[i] = 0.0
    elif kind == LEAKY_RELU:
        for i in range(n):
            if not z[i] > 0.0:
                g[i] *= slope
    elif kind == SOFTPLUS:
        for i in range(n):
            g[i] *= sigmoid_scalar(z[i])
    elif kind == ELU:
        for i in range(n):
            if z[i] < 0.0:
                g[i] *= alpha * math.exp(z[i])
    elif kind == SELU:
        for i in range(n):
            if z[i] > 0.0:
                g[i] *= SELU_LAMBDA
            else:
                g[i] *= SELU_LAMBDA * SELU_ALPHA * math.exp(z[i])
    elif kind == RELU6:
        for i in range(n):
            if not (z[i] > 0.0 and z[i] < 6.0):
                g[i] = 0.0


def curve(name: str, lo: float = -5.0, hi: float = 5.0, n: int = 401, slope: float = DEFAULT_SLOPE,
          alpha: float = DEFAULT_ELU_ALPHA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(z, φ(z), φ'(z))`` on ``n`` points of [lo, hi], for plotting (softmax: of a 2-vector
    (z, 0), i.e. the sigmoid, with its diagonal derivative)."""
    z = np.linspace(lo, hi, n)
    if name == "softmax":
        zz = np.stack([z, np.zeros_like(z)], axis=1)
        return z, forward(name, zz)[:, 0], derivative(name, zz)[:, 0]
    return z, forward(name, z, slope, alpha), derivative(name, z, slope, alpha)
