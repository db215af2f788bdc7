"""The multilayer perceptron: a notebook model (:class:`MLP`) and a straightforward numpy reference.

A network with layer sizes ``[n_0, n_1, ..., n_L]`` has weights ``W_l`` of shape (n_l, n_{l+1}) and
biases ``b_l`` of shape (n_{l+1},); with the samples as rows of ``a_0 = X`` every layer computes

    z_{l+1} = a_l W_l + b_l,     a_{l+1} = φ(z_{l+1})

(φ the hidden activation, the output activation on the last layer). The loss is the mean over
the m rows of the per-sample loss ℓ (see :mod:`nnsim.engine.losses`): ``J = (1/m) Σ_n ℓ(y_n, ŷ_n)``,
and backprop gives its gradient (Rumelhart, Hinton & Williams 1986; the course's lecture 3):

    δ_L = ∂ℓ/∂z_L,   δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l),   ∂J/∂W_l = (1/m) a_lᵀ δ_{l+1},  ∂J/∂b_l = (1/m) Σ_n δ_{l+1}

The course article's matrices W1 (3×3) and W2 (4×1) hold the biases as an extra input row; here
the biases are separate vectors. Its update ``W ← W + η ∂J/∂W`` with a negative η is ordinary
gradient descent ``W ← W − |η| ∂J/∂W``.

Initialization (biases 0): "uniform" U(−1/√n_in, 1/√n_in); "xavier" (Glorot & Bengio 2010)
U(−√(6/(n_in + n_out)), +√(6/(n_in + n_out))); "he" (He et al. 2015) N(0, 2/n_in); "normal" N(0, 1)
(the course code's ``np.random.randn``).

:class:`MLP` trains with the numba kernels of :mod:`nnsim.engine.mlp_kernels` and the shared
update rules of :mod:`nnsim.engine.optimizers`; :func:`backprop_reference` is the same math written
plainly in numpy, used by the tests and by the panel's "backprop for one weight" view. The GUI's
simulation is :class:`nnsim.engine.mlp_sim.MLPSimulation`.
"""

from __future__ import annotations

import math

import numpy as np

from nnsim.engine import activations as act
from nnsim.engine import gradcheck
from nnsim.engine import losses
from nnsim.engine import mlp_kernels as K
from nnsim.engine.optimizers import make_rule

INITS = ("uniform", "xavier", "he", "normal")
INIT_LABELS = {"uniform": "Uniform ±1/√n_in", "xavier": "Xavier/Glorot uniform", "he": "He normal",
               "normal": "Normal N(0, 1) (004)"}
#: a step whose |θ_i| would exceed this (or become non-finite) counts as divergence
THETA_LIMIT = 1e8


def init_params(sizes, init: str, rng: np.random.Generator) -> np.ndarray:
    """The flat parameter vector (layout of :func:`nnsim.engine.mlp_kernels.layout`), biases 0."""
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    woff, boff, n = K.layout(sizes)
    theta = np.zeros(n)
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shape = (n_in, n_out)
        if init == "uniform":
            a = 1.0 / math.sqrt(n_in)
            W = rng.uniform(-a, a, shape)
        elif init == "xavier":
            a = math.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-a, a, shape)
        elif init == "he":
            W = rng.normal(0.0, math.sqrt(2.0 / n_in), shape)
        else:
            W = rng.standard_normal(shape)
        theta[woff[l]:woff[l] + n_in * n_out] = W.ravel()
    return theta


def targets(labels, n_out: int) -> np.ndarray:
    """Targets for integer class labels: one-hot (m, n_out), or the label itself (m, 1) if n_out == 1."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if n_out == 1:
        return labels[:, None].astype(np.float64)
    return (labels[:, None] == np.arange(n_out)[None, :]).astype(np.float64)


def forward_reference(Ws, bs, X, hidden, output, slope=act.DEFAULT_SLOPE, alpha=act.DEFAULT_ELU_ALPHA):
    """Plain numpy forward pass: returns the lists ``zs`` (z_1..z_L) and ``As`` (a_0 = X .. a_L = ŷ)."""
    As = [np.asarray(X, dtype=np.float64)]
    zs = []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = As[-1] @ W + b
        zs.append(z)
        As.append(act.forward(output if l == len(Ws) - 1 else hidden, z, slope, alpha))
    return zs, As


def backprop_reference(Ws, bs, X, Y, hidden, output, loss, slope=act.DEFAULT_SLOPE,
                       alpha=act.DEFAULT_ELU_ALPHA, dslope=None):
    """Plain numpy backprop of the mean loss. Returns ``(J, dWs, dbs, zs, As, deltas)`` where
    ``deltas[l]`` = ∂ℓ/∂z_{l+1} per sample (not divided by m). ``dslope`` is the slope used in the
    derivative of the leaky ReLU (default: the forward slope)."""
    dslope = slope if dslope is None else dslope
    zs, As = forward_reference(Ws, bs, X, hidden, output, slope, alpha)
    Y = np.asarray(Y, dtype=np.float64).reshape(As[-1].shape)
    m = len(X)
    J = float(losses.per_sample(output, loss, zs[-1], Y).mean())
    deltas = [None] * len(Ws)
    deltas[-1] = losses.grad_z(output, loss, zs[-1], Y)
    for l in range(len(Ws) - 1, 0, -1):
        deltas[l - 1] = (deltas[l] @ Ws[l].T) * act.derivative(hidden, zs[l - 1], dslope, alpha)
    dWs = [As[l].T @ deltas[l] / m for l in range(len(Ws))]
    dbs = [deltas[l].sum(axis=0) / m for l in range(len(Ws))]
    return J, dWs, dbs, zs, As, deltas


class MLP:
    """A fully connected network for notebooks.

    >>> net = MLP(sizes=[2, 16, 3], hidden="tanh", output="softmax", loss="cross_entropy", seed=0)
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0]]); Y = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    >>> net.forward(X).shape, [W.shape for W in net.weights]
    ((2, 3), [(2, 16), (16, 3)])
    >>> losses = net.train(X, Y, steps=100, lr=0.5)     # full-batch SGD, one loss per step
    >>> bool(losses[-1] < losses[0])
    True

    ``weights[l]`` has shape (n_in, n_out) and ``biases[l]`` (n_out,); both are views into one
    flat float64 vector (``parameters``), so editing them in place edits the network.
    ``hidden`` in {sigmoid, tanh, relu, leaky_relu, softplus, linear, elu, selu, relu6};
    ``output`` in {softmax, sigmoid, linear}; ``loss`` in {cross_entropy, mse}. ``slope`` is the leaky
    ReLU's a, ``alpha`` ELU's α; ``init`` one of uniform, xavier (default), he, normal.
    """

    def __init__(self, sizes=(2, 16, 3), hidden: str = "tanh", output: str = "softmax",
                 loss: str = "cross_entropy", seed: int = 0, init: str = "xavier",
                 slope: float = act.DEFAULT_SLOPE, alpha: float = act.DEFAULT_ELU_ALPHA):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError("sizes needs at least an input and an output size, each >= 1")
        if hidden not in act.HIDDEN:
            raise ValueError(f"hidden must be one of {', '.join(act.HIDDEN)}, got {hidden!r}")
        losses.check_combination(output, loss)
        self.sizes = sizes
        self.hidden, self.output, self.loss_name = hidden, output, loss
        self.slope, self.alpha = float(slope), float(alpha)
        self._sizes = np.array(sizes, np.int64)
        self._woff, self._boff, n = K.layout(sizes)
        self.parameters = init_params(sizes, init, np.random.default_rng(seed))
        assert self.parameters.size == n
        self._seed = int(seed)
        self._steps = 0
        self._rule = None

    # ---- parameters -----------------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        p = self.parameters
        return [p[o:o + a * b].reshape(a, b) for o, a, b in zip(self._woff, self.sizes[:-1], self.sizes[1:])]

    @weights.setter
    def weights(self, Ws) -> None:
        for W, new in zip(self.weights, Ws, strict=True):
            W[...] = np.asarray(new, dtype=np.float64).reshape(W.shape)

    @property
    def biases(self) -> list[np.ndarray]:
        p = self.parameters
        return [p[o:o + b] for o, b in zip(self._boff, self.sizes[1:])]

    @biases.setter
    def biases(self, bs) -> None:
        for b, new in zip(self.biases, bs, strict=True):
            b[...] = np.asarray(new, dtype=np.float64).reshape(b.shape)

    def _ids(self):
        return act.act_id(self.hidden), act.act_id(self.output), losses.loss_id(self.loss_name)

    def _data(self, X, Y=None):
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (m, {self.sizes[0]}), got {X.shape}")
        if Y is None:
            return X, None
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim == 1 and self.sizes[-1] > 1 and np.all(Y == np.round(Y)):
            Y = targets(Y, self.sizes[-1])   # integer labels → one-hot
        Y = np.ascontiguousarray(Y.reshape(len(X), self.sizes[-1]))
        return X, Y

    # ---- the API ------------------------------------------------------------------------
    def forward(self, X) -> np.ndarray:
        """Output activations ŷ, shape (m, n_out)."""
        X, _ = self._data(X)
        zs, As = forward_reference(self.weights, self.biases, X, self.hidden, self.output,
                                   self.slope, self.alpha)
        return As[-1]

    def predict(self, X) -> np.ndarray:
        """Class per row: argmax of ŷ, or ŷ > 0.5 for a single output unit."""
        y = self.forward(X)
        return (y[:, 0] > 0.5).astype(np.int64) if y.shape[1] == 1 else y.argmax(axis=1)

    def loss(self, X, Y, l2: float = 0.0, l1: float = 0.0) -> float:
        """Mean over the rows of the per-sample loss (plus the weight penalties if given)."""
        X, Y = self._data(X, Y)
        h, o, lo = self._ids()
        return float(K.loss_and_grad(self.parameters, np.empty(0), self._woff, self._boff, self._sizes,
                                     h, o, lo, self.slope, self.alpha, self.slope, X, Y, float(l2),
                                     float(l1), False))

    def gradients(self, X, Y, l2: float = 0.0, l1: float = 0.0, flat: bool = False):
        """``(dWs, dbs)`` of :meth:`loss`, same shapes as ``weights``/``biases`` (``flat``: one vector)."""
        X, Y = self._data(X, Y)
        h, o, lo = self._ids()
        g = np.empty_like(self.parameters)
        K.loss_and_grad(self.parameters, g, self._woff, self._boff, self._sizes, h, o, lo, self.slope,
                        self.alpha, self.slope, X, Y, float(l2), float(l1), True)
        if flat:
            return g
        dWs = [g[o:o + a * b].reshape(a, b).copy() for o, a, b in zip(self._woff, self.sizes[:-1], self.sizes[1:])]
        dbs = [g[o:o + b].copy() for o, b in zip(self._boff, self.sizes[1:])]
        return dWs, dbs

    def check_gradients(self, X, Y, h: float = gradcheck.DEFAULT_H, l2: float = 0.0, l1: float = 0.0):
        """Backprop against centred finite differences, per weight matrix and bias vector
        (a list of :class:`nnsim.engine.gradcheck.BlockCheck`)."""
        X, Y = self._data(X, Y)
        theta = self.parameters.copy()

        def f(p):
            saved = self.parameters
            self.parameters = p
            try:
                return self.loss(X, Y, l2, l1)
            finally:
                self.parameters = saved

        g = self.gradients(X, Y, l2, l1, flat=True)
        return gradcheck.check(f, g, theta, self.blocks(), h=h)

    def blocks(self) -> list[tuple[str, int, tuple]]:
        """(name, offset, shape) of every parameter array in the flat vector: W1, b1, W2, b2, ..."""
        out = []
        for l, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            out.append((f"W{l + 1}", int(self._woff[l]), (a, b)))
            out.append((f"b{l + 1}", int(self._boff[l]), (b,)))
        return out

    # ---- training -------------------------------------------------------------------------------
    def train(self, X, Y, steps: int, lr: float = 0.1, batch_size: int | None = None,
              optimizer: str = "sgd", l2: float = 0.0, l1: float = 0.0, dropout: float = 0.0,
              shuffle: bool = True, seed: int | None = None, **hyper) -> np.ndarray:
        """``steps`` updates, one batch each (``batch_size`` None: the whole set; 1: online), in one
        numba call; returns the batch loss before each update. ``optimizer``/``hyper`` select a rule
        of :mod:`nnsim.engine.optimizers` (its state persists between calls with the same settings).
        ``dropout`` is the probability p of dropping a hidden unit (inverted dropout). Raises
        FloatingPointError if the loss or a weight stops being finite (the last good weights stay)."""
        X, Y = self._data(X, Y)
        m = len(X)
        if m == 0:
            raise ValueError("no training data")
        if not 0.0 <= dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        key = (optimizer, float(lr), tuple(sorted(hyper.items())))
        if self._rule is None or self._rule[0] != key:
            self._rule = (key, make_rule(optimizer, self.parameters.size, lr=lr, **hyper))
        rule = self._rule[1]
        if rule.name == "newton":
            raise ValueError("newton needs the Hessian; choose a first-order rule")
        h, o, lo = self._ids()
        fpar = np.zeros(K.N_FPAR)
        fpar[[K.F_SLOPE, K.F_ALPHA, K.F_DSLOPE, K.F_L2, K.F_L1, K.F_DROP]] = (
            self.slope, self.alpha, self.slope, l2, l1, dropout)
        fpar[K.F_LOSS_LIMIT] = np.inf
        fpar[K.F_THETA_LIMIT] = THETA_LIMIT
        ipar = np.zeros(K.N_IPAR, np.int64)
        ipar[K.I_BATCH] = 0 if batch_size is None else int(batch_size)
        ipar[K.I_SHUFFLE] = int(bool(shuffle))
        ipar[K.I_SEED] = self._seed if seed is None else int(seed)
        out = np.full(int(steps), np.nan)
        done, _, code = K.train(self.parameters, rule.S, rule.hp, rule.rid, rule.t, self._woff, self._boff,
                                self._sizes, h, o, lo, fpar, ipar, X, Y, np.zeros(m, np.int64),
                                np.empty((0, X.shape[1])), np.empty((0, Y.shape[1])), np.empty(0, np.int64),
                                self._steps, int(steps), np.empty(0, np.int64), np.empty((0, 4)), out,
                                np.array([np.inf, 0.0, 0.0]), np.empty(0))
        rule.t += done
        self._steps += done
        if code == K.DIVERGED:
            raise FloatingPointError(f"training diverged at step {self._steps + 1} "
                                     "(loss or weights no longer finite)")
        return out


def warmup() -> None:
    """Compile (or load from the cache) the kernels on tiny inputs."""
    from nnsim.engine import mlp_sim

    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    for hidden in ("tanh", "relu"):
        net = MLP([2, 3, 2], hidden=hidden, output="softmax", loss="cross_entropy")
        net.train(X, [0, 1, 1], 2, lr=0.1, batch_size=2, dropout=0.1)
        net.gradients(X, [0, 1, 1])
        net.loss(X, [0, 1, 1])
    mlp_sim.warmup()
