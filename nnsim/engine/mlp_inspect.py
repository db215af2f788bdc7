"""What the MLP panel draws, computed from a network's weights (numpy; no Qt): the snapshot
dataclasses, the decision regions, the hidden units' activation maps and the chain rule for one
weight with its actual numbers.

Chain rule for a weight w = W⁽ˡ⁾[i, j] (from unit i of layer l − 1 to unit j of layer l; layer 0 =
the inputs) and sample n, with z_j = Σ_i a_i W[i, j] + b_j the unit's net input:

    ∂ℓ_n/∂w = a_i · δ_j,       δ_j = ∂ℓ_n/∂z_j
    output layer:  δ_j = ŷ_j − y_j                       (softmax or sigmoid with cross-entropy)
                   δ_j = (ŷ_j − y_j) ŷ_j (1 − ŷ_j)       (sigmoid with ½ Σ (y − ŷ)²)
    hidden layer:  δ_j = φ'(z_j) Σ_k W⁽ˡ⁺¹⁾[j, k] δ_k     (the course's "back propagation II";
                                                         φ' at the unit's own net input z_j)
    ∂J/∂w = (1/m) Σ_n a_i δ_j  (+ λ₂ w + λ₁ sign w with penalties)

In the course's notation (lecture 3) the same weight is w_ji^(l): it arrives at neuron j of layer
l from neuron i of layer l − 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnsim.engine import activations as act
from nnsim.engine.base import Snapshot
from nnsim.engine.mlp import backprop_reference, forward_reference

MAX_UNIT_MAPS = 64
MAX_TERMS = 8


@dataclass(frozen=True, eq=False, kw_only=True)
class MLPRunView:
    """One run as the views need it (copies)."""

    index: int                 # 1-based
    lr: float
    state: str                 # running | diverged | stopped
    steps_done: int
    diverged_at: int           # -1 if not
    stopped_at: int            # -1 if not (early stopping)
    best_step: int             # early stopping's best step, -1 if none
    steps: np.ndarray          # evaluation points (step numbers), thinned
    train_loss: np.ndarray
    test_loss: np.ndarray      # nan without a test set
    train_acc: np.ndarray
    test_acc: np.ndarray
    train_loss_now: float
    test_loss_now: float
    train_acc_now: float
    test_acc_now: float
    region_class: np.ndarray   # (G, G) uint8, row = y index
    region_conf: np.ndarray    # (G, G) float32 in [0, 1]
    train_confusion: np.ndarray  # (K, K) int64 at the current weights: row = true, column = predicted
    test_confusion: np.ndarray   # (K, K) int64 on the test set (all 0 without one)


@dataclass(frozen=True, eq=False)
class GradCheckReport:
    run: int
    lr: float
    step: int
    h: float
    blocks: tuple              # gradcheck.BlockCheck per W1, b1, W2, ...
    hidden: str
    bug: bool                  # the course code's wrong leaky-ReLU derivative was used
    near_kink: tuple           # per hidden layer: pre-activations within reach of a kink
    n_pre: tuple               # per hidden layer: number of pre-activations (samples × units)
    m: int                     # training samples

    @property
    def passed(self) -> bool:
        return all(b.passed for b in self.blocks)


@dataclass(frozen=True, eq=False)
class WeightExplanation:
    run: int
    layer: int                 # l (1-based): W⁽ˡ⁾
    i: int                     # from unit i of layer l − 1 (1-based)
    j: int                     # to unit j of layer l (1-based)
    sample: int                # n (1-based, training set)
    n_layers: int
    m: int
    w: float
    a_i: float                 # activation of unit i (layer l − 1) for sample n (x_i for l = 1)
    z_j: float
    is_output: bool
    output: str
    loss: str
    hidden: str
    phi_prime: float           # φ'(z_j) (hidden), φ'_out(z_j) (sigmoid + mse) or nan
    y_hat: float               # output layer only
    y: float                   # output layer only
    terms: tuple               # hidden: (k, W⁽ˡ⁺¹⁾[j, k], δ_k) of the largest |w δ|, 1-based k
    n_terms: int
    terms_sum: float           # Σ_k W[j, k] δ_k over all k
    delta_j: float
    grad_sample: float         # a_i δ_j
    grad_mean: float           # (1/m) Σ_n a_i δ_j
    penalty: float             # λ₂ w + λ₁ sign w
    grad_total: float
    numeric: float             # centred difference of J (+ penalties) wrt w
    lr: float
    bug: bool


@dataclass(frozen=True, eq=False, kw_only=True)
class MLPSnapshot(Snapshot):
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    extent: tuple              # (x0, x1, y0, y1) of the heatmaps
    grid: int
    runs: tuple                # MLPRunView per run
    sizes: tuple
    hidden: str
    output: str
    loss: str
    optimizer: str
    batch: int                 # effective batch size
    eval_every: int
    max_steps: int
    inspect: int               # 1-based run shown inside
    weights: tuple
    biases: tuple
    unit_maps: np.ndarray      # (n_maps, g, g) float32
    unit_layer: np.ndarray     # (n_maps,) 1-based hidden layer
    unit_index: np.ndarray     # (n_maps,) 1-based unit
    unit_dead: np.ndarray      # (n_maps,) bool: φ' = 0 on every training sample
    n_hidden_total: int
    act_curve: tuple           # (z, φ(z), φ'(z))
    gradcheck: GradCheckReport | None
    explanation: WeightExplanation | None
    affine: tuple | None       # linear hidden units: (W_eff, b_eff) of the collapsed network
    slope: float
    dropout: float
    l2: float
    l1: float
    early_stop: bool


def region_map(Yhat: np.ndarray, output: str, G: int) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class (uint8) and confidence in [0, 1] (float32) per grid point, shaped (G, G).
    Confidence: |2ŷ − 1| for one sigmoid unit; (max ŷ − 1/K)/(1 − 1/K) for softmax; max ŷ otherwise."""
    Yhat = np.asarray(Yhat, dtype=np.float64)
    if Yhat.shape[1] == 1:
        p = Yhat[:, 0]
        cls = (p > 0.5).astype(np.uint8)
        conf = np.abs(2.0 * p - 1.0)
    else:
        cls = Yhat.argmax(axis=1).astype(np.uint8)
        pmax = Yhat.max(axis=1)
        k = Yhat.shape[1]
        conf = (pmax - 1.0 / k) / (1.0 - 1.0 / k) if output == "softmax" else pmax
    conf = np.nan_to_num(np.clip(conf, 0.0, 1.0))
    return cls.reshape(G, G), conf.astype(np.float32).reshape(G, G)


def dead_units(Ws, bs, Xtr, hidden, output, slope, alpha) -> list[np.ndarray]:
    """Per hidden layer, the units whose φ' is 0 on every training sample (dead ReLUs)."""
    if len(Xtr) == 0:
        return [np.zeros(W.shape[1], bool) for W in Ws[:-1]]
    zs, _ = forward_reference(Ws, bs, Xtr, hidden, output, slope, alpha)
    return [~np.any(act.derivative(hidden, zs[l], slope, alpha) != 0, axis=0) for l in range(len(Ws) - 1)]


def unit_maps(H, sizes, G, dead_all):
    """The first MAX_UNIT_MAPS hidden units' activation maps (n, G, G) from the plane's hidden
    activations ``H`` (G·G, Σ hidden units), with layer and unit numbers (1-based), dead flags and
    the total number of hidden units."""
    hidden = list(sizes[1:-1])
    n_hidden = int(sum(hidden))
    n = min(n_hidden, MAX_UNIT_MAPS)
    layer = np.concatenate([np.full(h, l + 1, np.int64) for l, h in enumerate(hidden)])[:n] if hidden \
        else np.zeros(0, np.int64)
    unit = np.concatenate([np.arange(1, h + 1) for h in hidden])[:n] if hidden else np.zeros(0, np.int64)
    dead = np.concatenate(dead_all)[:n] if hidden else np.zeros(0, bool)
    maps = np.ascontiguousarray(H[:, :n].T, dtype=np.float32).reshape(n, G, G)
    return maps, layer.astype(np.int64), unit.astype(np.int64), dead.astype(bool), n_hidden


def explain_weight(Ws, bs, X, Y, p, output, loss, dslope, lr, run) -> WeightExplanation:
    """The chain rule for W⁽ˡ⁾[i, j] (chosen in ``p``: eq_layer, eq_from, eq_to, eq_sample; clamped
    to the network) at these weights, on the training set (X, Y)."""
    L = len(Ws)
    sizes = [Ws[0].shape[0]] + [W.shape[1] for W in Ws]
    l = min(max(int(p.eq_layer), 1), L)
    i = min(max(int(p.eq_from), 1), sizes[l - 1])
    j = min(max(int(p.eq_to), 1), sizes[l])
    m = len(X)
    n = min(max(int(p.eq_sample), 1), m)
    J, dWs, dbs, zs, As, deltas = backprop_reference(Ws, bs, X, Y, p.hidden, output, loss, p.slope,
                                                     p.elu_alpha, dslope)
    a_i = float(As[l - 1][n - 1, i - 1])
    z_j = float(zs[l - 1][n - 1, j - 1])
    delta_j = float(deltas[l - 1][n - 1, j - 1])
    is_out = l == L
    terms, n_terms, tsum = (), 0, float("nan")
    y_hat = y = phi = float("nan")
    if is_out:
        y_hat = float(As[L][n - 1, j - 1])
        y = float(Y[n - 1, j - 1])
        if loss == "mse":
            phi = float(act.derivative(output, np.array([z_j]))[0]) if output != "softmax" else float("nan")
    else:
        phi = float(act.derivative(p.hidden, np.array([z_j]), dslope, p.elu_alpha)[0])
        Wn = Ws[l]
        dn = deltas[l][n - 1]
        prods = Wn[j - 1] * dn
        n_terms = len(dn)
        tsum = float(prods.sum())
        order = np.argsort(-np.abs(prods))[:MAX_TERMS]
        terms = tuple((int(k) + 1, float(Wn[j - 1, k]), float(dn[k])) for k in sorted(order))
    w = float(Ws[l - 1][i - 1, j - 1])
    pen = float(p.l2) * w + float(p.l1) * (np.sign(w) if w != 0 else 0.0)
    grad_mean = float(dWs[l - 1][i - 1, j - 1])

    def J_at(value):
        Wc = [W.copy() for W in Ws]
        Wc[l - 1][i - 1, j - 1] = value
        zz, AA = forward_reference(Wc, bs, X, p.hidden, output, p.slope, p.elu_alpha)
        from nnsim.engine import losses
        data = float(losses.per_sample(output, loss, zz[-1], Y).mean())
        return data + sum(0.5 * p.l2 * float((W ** 2).sum()) + p.l1 * float(np.abs(W).sum()) for W in Wc)

    h = float(p.grad_h)
    numeric = (J_at(w + h) - J_at(w - h)) / (2.0 * h)
    return WeightExplanation(
        run=run, layer=l, i=i, j=j, sample=n, n_layers=L, m=m, w=w, a_i=a_i, z_j=z_j, is_output=is_out,
        output=output, loss=loss, hidden=p.hidden, phi_prime=phi, y_hat=y_hat, y=y, terms=terms,
        n_terms=n_terms, terms_sum=tsum, delta_j=delta_j, grad_sample=a_i * delta_j, grad_mean=grad_mean,
        penalty=pen, grad_total=grad_mean + pen, numeric=float(numeric), lr=float(lr),
        bug=dslope != float(p.slope) and p.hidden == "leaky_relu")
