"""Loss functions of the MLP's output layer, per sample, with the gradient wrt the net input z.

For one sample with target ``y`` (one-hot, or 0/1 for a single sigmoid output) and output
``ŷ = φ_out(z)``:

================  ===============================================  ==============================
loss              ℓ(y, ŷ)                                          ∂ℓ/∂z_k
================  ===============================================  ==============================
mse               ½ Σ_k (y_k − ŷ_k)²   (the course article's J)     (ŷ_k − y_k) φ'_out(z_k)
                                                                   (softmax: Σ_j (ŷ_j − y_j) ∂ŷ_j/∂z_k)
cross_entropy     softmax: −Σ_k y_k log ŷ_k                        ŷ_k − y_k   (Σ_k y_k = 1)
                  sigmoid: −Σ_k [y_k log ŷ_k + (1 − y_k) log(1 − ŷ_k)]   ŷ_k − y_k
================  ===============================================  ==============================

The network's loss is the mean over the m samples, ``J = (1/m) Σ_n ℓ(y_n, ŷ_n)``. The course's
``R_emp = (1/K) Σ (d − Net)²`` is twice the mean of our mse; its article writes ``J = Σ ½ (y − ŷ)²``
as a sum. Cross-entropy needs a softmax or sigmoid output (the "binary cross-entropy" of the
course, lecture 5, per sigmoid unit); the sigmoid + mse combination shows why that matters: its
gradient carries the factor φ'(z), tiny when the unit saturates ("Case A / Case B").

Numerics: ``log ŷ`` is never formed from ŷ, and no small loss is computed as the difference of
two large numbers, so its rounding error stays relative (which a gradient check near a minimum
needs: there the gradients are tiny). Softmax: ``ℓ = Σ_k y_k (LSE(z) − z_k)`` where, for the largest
z_k, ``LSE(z) − z_k = log1p(Σ_{j≠k} e^(z_j − z_k))``, and otherwise LSE(z) = max z + log Σ_j e^(z_j − max z).
Sigmoid: ``ℓ = Σ_k y_k softplus(−z_k) + (1 − y_k) softplus(z_k)`` with softplus(u) = max(u, 0) +
log1p(e^(−|u|)). Squared error: 1 − σ(z) is taken as σ(−z) when y = 1. All stay finite for finite z.
"""

from __future__ import annotations

import math

import numpy as np

from nnsim.engine import activations as act
from nnsim.engine._jit import njit

NAMES = ("mse", "cross_entropy")
MSE, CROSS_ENTROPY = range(2)
LABELS = {"mse": "squared error ½Σ(y − ŷ)²", "cross_entropy": "cross-entropy"}


def loss_id(name: str) -> int:
    try:
        return NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(NAMES)}") from None


def check_combination(output: str, loss: str) -> None:
    """Raise ValueError for an output/loss pair that has no meaning (cross-entropy of a linear unit)."""
    if output not in act.OUTPUTS:
        raise ValueError(f"unknown output activation {output!r}; choose one of {', '.join(act.OUTPUTS)}")
    loss_id(loss)
    if loss == "cross_entropy" and output == "linear":
        raise ValueError("cross-entropy needs probabilities: use a softmax or sigmoid output "
                         "(or the mse loss with a linear output)")


# ---- numpy versions (reference) -----------------------------------------------------------------
def per_sample(output: str, loss: str, z, y) -> np.ndarray:
    """ℓ for every row of the output net inputs ``z`` (m, K) and targets ``y`` (m, K)."""
    check_combination(output, loss)
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    y = np.asarray(y, dtype=np.float64).reshape(z.shape)
    if loss == "mse":
        e = act.forward(output, z) - y
        if output == "sigmoid":
            e = np.where(y == 1.0, -act.forward("sigmoid", -z), e)
        return 0.5 * (e ** 2).sum(axis=1)
    if output == "softmax":
        mx = z.max(axis=1, keepdims=True)
        ex = np.exp(z - mx)
        lse_minus = np.log(ex.sum(axis=1, keepdims=True)) + (mx - z)     # LSE(z) − z_k
        rows, top = np.arange(len(z)), z.argmax(axis=1)
        ex[rows, top] = 0.0
        lse_minus[rows, top] = np.log1p(ex.sum(axis=1))                  # accurate for the largest z_k
        return (y * lse_minus).sum(axis=1)
    return (y * _softplus(-z) + (1.0 - y) * _softplus(z)).sum(axis=1)


def _softplus(u):
    return np.maximum(u, 0.0) + np.log1p(np.exp(-np.abs(u)))


def grad_z(output: str, loss: str, z, y) -> np.ndarray:
    """∂ℓ/∂z for every row (the output layer's δ of backprop)."""
    check_combination(output, loss)
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    y = np.asarray(y, dtype=np.float64).reshape(z.shape)
    yhat = act.forward(output, z)
    if loss == "cross_entropy":
        if output == "softmax":
            return yhat * y.sum(axis=1, keepdims=True) - y
        return yhat - y
    e = yhat - y
    if output == "softmax":
        return yhat * (e - (e * yhat).sum(axis=1, keepdims=True))
    return e * act.derivative(output, z)


# ---- numba kernel -------------------------------------------------------------------------------
@njit(error_model="numpy")
def output_loss(out_kind, loss_kind, Z, A, Y, D, scale, want_grad):
    """Output layer for a batch: ``A = φ_out(Z)``; if ``want_grad``, ``D = scale · ∂ℓ/∂Z``.

    ``Z, A, D``: (B, K) C-contiguous; ``Y`` (B, K) targets. Returns ``Σ_rows ℓ`` (not averaged).
    """
    B, K = Z.shape
    total = 0.0
    for r in range(B):
        if out_kind == act.SOFTMAX:
            top = 0
            for k in range(1, K):
                if Z[r, k] > Z[r, top]:
                    top = k
            mx = Z[r, top]
            rest = 0.0
            for k in range(K):
                e = math.exp(Z[r, k] - mx) if k != top else 1.0
                A[r, k] = e
                if k != top:
                    rest += e
            s = 1.0 + rest
            log_s = math.log1p(rest)
            for k in range(K):
                A[r, k] /= s
            if loss_kind == CROSS_ENTROPY:
                ysum = 0.0
                for k in range(K):
                    if Y[r, k] != 0.0:
                        total += Y[r, k] * (log_s if k == top else log_s + (mx - Z[r, k]))
                    ysum += Y[r, k]
                if want_grad:
                    for k in range(K):
                        D[r, k] = scale * (A[r, k] * ysum - Y[r, k])
            else:
                dot = 0.0
                for k in range(K):
                    e = A[r, k] - Y[r, k]
                    total += 0.5 * e * e
                    dot += e * A[r, k]
                if want_grad:
                    for k in range(K):
                        D[r, k] = scale * A[r, k] * ((A[r, k] - Y[r, k]) - dot)
        else:
            for k in range(K):
                z = Z[r, k]
                y = Y[r, k]
                a = act.sigmoid_scalar(z) if out_kind == act.SIGMOID else z
                A[r, k] = a
                if loss_kind == CROSS_ENTROPY:
                    # y softplus(−z) + (1 − y) softplus(z), each term without cancellation
                    sp_pos = (z if z > 0.0 else 0.0) + math.log1p(math.exp(-abs(z)))
                    sp_neg = sp_pos - z if z <= 0.0 else math.log1p(math.exp(-z))
                    total += y * sp_neg + (1.0 - y) * sp_pos
                    if want_grad:
                        D[r, k] = scale * (a - y)
                else:
                    if out_kind == act.SIGMOID:
                        om = act.sigmoid_scalar(-z)        # 1 − σ(z) without cancellation
                        e = -om if y == 1.0 else a - y
                    else:
                        om = 0.0
                        e = a - y
                    total += 0.5 * e * e
                    if want_grad:
                        D[r, k] = scale * (e * a * om if out_kind == act.SIGMOID else e)
    return total
