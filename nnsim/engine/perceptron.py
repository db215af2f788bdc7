"""Rosenblatt's perceptron: the error-correction rule, a notebook model and the simulation.

Each output neuron o has weights ``w_o = [w_o0, w_o1, ..., w_oN]`` on the augmented input
``x = [-1, x_1, ..., x_N]`` (``w_o0`` is the bias weight, i.e. the threshold; without a bias the
constant input is 0). The output is a step,

    y_o = 1 if w_o . x > 0 else 0,

and presenting one sample with target ``t`` applies, to every neuron (instance update),

    eps_o = t_o - y_o  in {-1, 0, 1},        w_o <- w_o + eta * eps_o * x

i.e. ADD the input on a missed positive, SUBTRACT it on a false positive, DO NOTHING when right.
For linearly separable data the number of corrections is finite (perceptron convergence theorem,
Haykin §1.3: at most ``beta ||w_o||^2 / alpha^2`` with ``w(0) = 0``), so some epoch then has no
error; for data that are not separable (XOR) no epoch ever is error-free.

:func:`_present` is the one numba kernel that applies the rule; :class:`Perceptron` (notebooks)
and :class:`PerceptronSimulation` (the GUI: one step = one sample presented) both call it.
"""

from __future__ import annotations

from dataclasses import dataclass

import copy

import numpy as np

from nnsim.engine import datasets
from nnsim.engine._jit import njit
from nnsim.engine.base import (CONVERGED, NOT_CONVERGED, RUNNING, Params,
                               SimulationBase, Snapshot, param)

INITS = ("uniform", "zeros", "normal")
#: the status message of "your own points" before there is any point (a choice, not a failure)
NO_DATA = ("No data points yet: click in the data plot to add points of the chosen class, or load a "
           "CSV file (File > Open data…).")


@njit
def _present(W, Xa, T, orders, pos, err, n, lr, ep_err, hist, hist_count,
             rec_wb, rec_net, rec_y, rec_info):
    """Present ``n`` samples, starting at position ``pos`` of the epoch whose order is ``orders[0]``.

    ``W`` (n_out, d) is updated in place; ``Xa`` (m, d) holds augmented inputs, ``T`` (m, n_out)
    0/1 targets. When an epoch completes its error count (samples with any wrong output) goes to
    ``ep_err`` and the next epoch uses the next row of ``orders``. Before every update that changes
    ``W``, the old ``W`` is written to the ring buffer ``hist`` (slot ``hist_count % len(hist)``).
    The last sample's index, whether it changed W, the weights before it, the nets and outputs go
    to ``rec_info``, ``rec_wb``, ``rec_net``, ``rec_y``.

    Returns ``(pos, err, n_updates, hist_count, completed_epochs)``.
    """
    m, d = Xa.shape
    n_out = W.shape[0]
    n_hist = hist.shape[0]
    row = 0
    n_upd = 0
    y = np.empty(n_out, np.int64)
    for i in range(n):
        k = orders[row, pos]
        wrong = False
        for o in range(n_out):
            s = 0.0
            for j in range(d):
                s += W[o, j] * Xa[k, j]
            y[o] = 1 if s > 0.0 else 0
            if i == n - 1:
                rec_net[o] = s
                rec_y[o] = y[o]
            if y[o] != T[k, o]:
                wrong = True
        if i == n - 1:
            rec_wb[:, :] = W
        changed = False
        if wrong:
            err += 1
            for o in range(n_out):
                e = T[k, o] - y[o]
                if e != 0:
                    for j in range(d):
                        if W[o, j] + lr * e * Xa[k, j] != W[o, j]:
                            changed = True
            if changed:
                if n_hist > 0:
                    hist[hist_count % n_hist, :, :] = W
                hist_count += 1
                n_upd += 1
                for o in range(n_out):
                    e = T[k, o] - y[o]
                    if e != 0:
                        for j in range(d):
                            W[o, j] = W[o, j] + lr * e * Xa[k, j]
        if i == n - 1:
            rec_info[0] = k
            rec_info[1] = 1 if changed else 0
        pos += 1
        if pos == m:
            ep_err[row] = err
            err = 0
            pos = 0
            row += 1
    return pos, err, n_upd, hist_count, row


@njit
def _nets(W, Xa, out):
    """``out[i, o] = w_o . x_i`` summed in the same order as :func:`_present` (same rounding)."""
    m, d = Xa.shape
    for i in range(m):
        for o in range(W.shape[0]):
            s = 0.0
            for j in range(d):
                s += W[o, j] * Xa[i, j]
            out[i, o] = s
    return out


def augment(X: np.ndarray, bias: bool = True) -> np.ndarray:
    """``[-1, x_1, ..., x_N]`` per row (``[0, x_1, ...]`` without a bias), C-contiguous float64."""
    X = np.asarray(X, dtype=np.float64)
    Xa = np.empty((X.shape[0], X.shape[1] + 1))
    Xa[:, 0] = -1.0 if bias else 0.0
    Xa[:, 1:] = X
    return Xa


def net_inputs(W: np.ndarray, Xa: np.ndarray) -> np.ndarray:
    """Net inputs ``(m, n_out)`` of augmented inputs under weights ``W``."""
    return _nets(np.ascontiguousarray(W, np.float64), np.ascontiguousarray(Xa, np.float64),
                 np.empty((Xa.shape[0], W.shape[0])))


def init_weights(rng: np.random.Generator, n_outputs: int, n_inputs: int, init: str,
                 bias: bool = True) -> np.ndarray:
    """``(n_outputs, n_inputs + 1)`` weights: U[0, 1) ("uniform"), 0 ("zeros") or N(0, 1) ("normal").

    Without a bias column 0 is set to 0 (it multiplies a constant 0 input anyway).
    """
    shape = (n_outputs, n_inputs + 1)
    if init == "uniform":
        W = rng.random(shape)
    elif init == "zeros":
        W = np.zeros(shape)
    elif init == "normal":
        W = rng.standard_normal(shape)
    else:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if not bias:
        W[:, 0] = 0.0
    return W


class Perceptron:
    """A single-layer perceptron for notebooks.

    >>> p = Perceptron(2, 1, lr=0.1, seed=0)
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]); T = np.array([[0], [0], [0], [1]])
    >>> while p.fit_epoch(X, T):   # AND is separable, so this ends
    ...     pass
    >>> p.predict(X).ravel().tolist()
    [0, 0, 0, 1]

    ``weights`` has shape ``(n_outputs, n_inputs + 1)``; column 0 multiplies the constant input -1.
    """

    def __init__(self, n_inputs: int, n_outputs: int, lr: float = 0.1, init: str = "uniform",
                 seed: int = 0, bias: bool = True):
        if n_inputs < 1 or n_outputs < 1:
            raise ValueError("n_inputs and n_outputs must be at least 1")
        self.n_inputs, self.n_outputs = int(n_inputs), int(n_outputs)
        self.lr = float(lr)
        self.bias = bool(bias)
        self.weights = init_weights(np.random.default_rng(seed), self.n_outputs, self.n_inputs,
                                    init, self.bias)
        # scratch, zeroed: it travels in a saved state, which must never hold stray NaN bits
        self._buf = (np.zeros((self.n_outputs, self.n_inputs + 1)), np.zeros(self.n_outputs),
                     np.zeros(self.n_outputs, np.int64), np.zeros(2, np.int64))

    def _inputs(self, X) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        if X.shape[1] != self.n_inputs:
            raise ValueError(f"expected {self.n_inputs} input(s) per sample, got {X.shape[1]}")
        return augment(X, self.bias)

    def _targets(self, T, m: int) -> np.ndarray:
        T = np.asarray(T, dtype=np.int64).reshape(m, self.n_outputs)
        if np.any((T != 0) & (T != 1)):
            raise ValueError("targets must be 0 or 1")
        return np.ascontiguousarray(T)

    def net(self, X) -> np.ndarray:
        """Net inputs ``w . x`` of shape ``(m, n_outputs)``."""
        self.weights = np.ascontiguousarray(self.weights, dtype=np.float64)
        return net_inputs(self.weights, self._inputs(X))

    def predict(self, X) -> np.ndarray:
        """Step outputs (0/1 int array) of shape ``(m, n_outputs)``."""
        return (self.net(X) > 0).astype(np.int64)

    def _run(self, Xa, T, order) -> tuple[int, int]:
        self.weights = np.ascontiguousarray(self.weights, dtype=np.float64)
        m = Xa.shape[0]
        orders = np.empty((2, m), np.int64)
        orders[0] = order
        orders[1] = order
        ep = np.zeros(1, np.int64)
        hist = np.empty((0, self.n_outputs, self.n_inputs + 1))
        n_upd = _present(self.weights, Xa, T, orders, 0, 0, m, self.lr, ep, hist, 0,
                         *self._buf)[2]
        return int(ep[0]), int(n_upd)

    def train_step(self, x, t) -> bool:
        """Present one sample; return True if any weight changed (i.e. some output was wrong)."""
        Xa = self._inputs(np.asarray(x, dtype=np.float64).reshape(1, -1))
        return self._run(Xa, self._targets(t, 1), np.zeros(1, np.int64))[1] > 0

    def fit_epoch(self, X, T, order=None) -> int:
        """Present every sample once (in ``order``, default 0..m-1); return how many were wrong."""
        Xa = self._inputs(X)
        m = Xa.shape[0]
        if m == 0:
            return 0
        idx = np.arange(m, dtype=np.int64) if order is None else np.asarray(order, np.int64)
        if idx.shape != (m,) or np.any(np.sort(idx) != np.arange(m)):
            raise ValueError("order must be a permutation of range(len(X))")
        return self._run(Xa, self._targets(T, m), idx)[0]


def warmup() -> None:
    """Compile (or load from the cache) the kernels with a tiny problem."""
    p = Perceptron(2, 1)
    p.fit_epoch([[0.0, 0.0], [1.0, 1.0]], [[0], [1]])
    p.predict([[0.0, 0.0]])


def confusion_matrix(labels: np.ndarray, outputs: np.ndarray, n_classes: int):
    """Rows: true class; columns: the class the outputs name, plus "none/several" in the multi-class
    case (one neuron per class: a sample is assigned class k only when neuron k alone fires).
    Returns (matrix, column names)."""
    labels = np.asarray(labels, dtype=np.int64)
    k = max(int(n_classes), 2)
    if len(labels) == 0:  # no points (yet): numpy cannot infer the -1 of an empty reshape
        outputs = np.zeros((0, 1 if k == 2 else k), np.int64)
    else:
        outputs = np.asarray(outputs, dtype=np.int64).reshape(len(labels), -1)
    if outputs.shape[1] == 1:
        pred, cols = outputs[:, 0], [str(c) for c in range(2)]
    else:
        fired = outputs.sum(axis=1)
        pred = np.where(fired == 1, outputs.argmax(axis=1), k)
        cols = [str(c) for c in range(k)] + ["none/several"]
    M = np.zeros((k, len(cols)), dtype=np.int64)
    np.add.at(M, (labels, pred), 1)
    return M, cols


def linearly_separable(Xa: np.ndarray, T: np.ndarray, bias: bool = True) -> np.ndarray:
    """Per output neuron: does some w satisfy ``(2 t_i - 1) w . x_i >= 1`` for every sample?

    A feasibility linear program (scipy's HiGHS); the margin 1 only fixes the scale of w, so the
    answer is "strictly separable by a line" (through the origin when ``bias`` is False).
    """
    from scipy.optimize import linprog

    A = Xa if bias else Xa[:, 1:]
    m, d = A.shape
    out = np.ones(T.shape[1], dtype=bool)
    if m == 0:
        return out
    for o in range(T.shape[1]):
        s = 2.0 * T[:, o] - 1.0
        res = linprog(np.zeros(d), A_ub=-(s[:, None] * A), b_ub=-np.ones(m),
                      bounds=[(None, None)] * d, method="highs")
        out[o] = res.status != 2  # 2 = infeasible
    return out


DATASETS = (("worked", "Worked example (lecture)"), ("and", "AND"), ("or", "OR"), ("xor", "XOR"),
            ("clusters", "Two clusters (66 + 34)"), ("multi3", "3 classes"), ("multi4", "4 classes"),
            ("user", "User points / CSV file"))


@dataclass(frozen=True)
class PerceptronParams(Params):
    dataset: str = param(
        "and", label="Data set", choices=DATASETS,
        help="Training points. More than 2 classes use one output neuron per class (one-vs-rest, "
             "one-hot targets). The worked example is the lecture's: no bias, w(1) = [1, -0.8], "
             "raw inputs (the initial weights and normalization settings are ignored).")
    lr: float = param(
        0.1, label="Learning rate η", lo=1e-4, hi=10.0, live=True, log=True, decimals=4,
        help="w ← w + η (t − y) x on every wrong output (ADD x when t − y = 1, SUBTRACT when −1). "
             "Typical 0.1–0.4; the worked example uses η = 1. With w(0) = 0, η only scales w.")
    init: str = param(
        "uniform", label="Initial weights",
        choices=(("uniform", "Uniform U[0, 1)"), ("zeros", "Zeros"), ("normal", "Normal N(0, 1)")),
        help="w(0): random in [0, 1) as in the course article, all zero (as in the convergence "
             "proof), or standard normal.")
    order: str = param(
        "shuffled", label="Presentation order", live=True,
        choices=(("fixed", "Fixed (data order)"), ("shuffled", "Shuffled each epoch")),
        help="Order in which an epoch presents the samples; a change applies from the next epoch.")
    normalization: str = param(
        "none", label="Input normalization",
        choices=(("none", "None"), ("zscore", "z-score: (x − mean) / std"),
                 ("minmax", "Min-max: (x − min) / (max − min)")),
        help="Per input, before training. z-score divides by the standard deviation (the course "
             "article's (x − mean)/var is a typo). Boundaries are drawn in raw coordinates.")
    max_epochs: int = param(
        50, label="Max epochs", lo=1, hi=100000, live=True,
        help="Give up (status 'not converged') after this many epochs without an error-free one.")
    history: int = param(
        15, label="Boundary history", lo=0, hi=50, live=True,
        help="How many earlier boundaries (weights before the last updates) to show.")


@dataclass(frozen=True, eq=False)
class UpdateRecord:
    """The last sample presented: ε = t − y per output; w_after = w_before + lr ε x where ε ≠ 0."""

    index: int
    x: np.ndarray          # augmented input used, (3,): [-1, x1, x2] (normalized) or [0, x1, x2]
    w_before: np.ndarray   # (n_out, 3)
    net: np.ndarray        # (n_out,) w_before . x
    y: np.ndarray          # (n_out,) step(net)
    t: np.ndarray          # (n_out,) targets
    w_after: np.ndarray    # (n_out, 3)
    updated: bool          # whether any weight changed
    lr: float


@dataclass(frozen=True, eq=False, kw_only=True)
class PerceptronSnapshot(Snapshot):
    outputs: np.ndarray = None    # (m, n_out) 0/1 outputs under the current weights
    X: np.ndarray                 # (m, 2) raw coordinates
    labels: np.ndarray            # (m,) int, 0..K-1
    n_classes: int
    T: np.ndarray                 # (m, n_out) 0/1 targets
    weights: np.ndarray           # (n_out, 3) in the (normalized) training space
    weights_raw: np.ndarray       # (n_out, 3): boundary w1 x1 + w2 x2 = w0 in raw coordinates
    history_raw: np.ndarray       # (h, n_out, 3) earlier weights, raw coordinates, oldest first
    misclassified: np.ndarray     # (m,) bool under the current weights
    epoch: int                    # completed epochs
    pos_in_epoch: int
    epoch_errors: np.ndarray      # (epoch,) errors in each completed epoch
    errors_this_epoch: int
    n_updates: int
    last: UpdateRecord | None
    next_index: int               # sample presented next (-1 without data)
    separable: bool
    bias: bool
    center: np.ndarray            # (2,) normalization: x_n = (x - center) / scale
    scale: np.ndarray             # (2,)


class PerceptronSimulation(SimulationBase):
    """The perceptron rule on a 2-D data set, one sample per step (see the module docstring)."""

    params_class = PerceptronParams
    kernel_modules = ("nnsim.engine.perceptron",)
    HISTORY_CAPACITY = 50
    _CHUNK_ENTRIES = 1 << 18   # order entries generated per kernel call (bounds memory)

    def __init__(self, params: PerceptronParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self._user_X = np.empty((0, 2))
        self._user_labels = np.empty(0, np.int64)
        self.reset(self.seed)

    # ---- data -------------------------------------------------------------------------------
    def set_data(self, X, labels) -> None:
        """Switch to user points (dataset "user"): a copy is stored and the run reset (same seed)."""
        self._user_X, self._user_labels = datasets.user_points(X, labels)
        if self.params.dataset != "user":
            self.params = self.params.replace(dataset="user")
        self.reset(self.seed)

    def _load(self, rng):
        name = self.params.dataset
        if name == "worked":
            return datasets.worked_example()
        if name in ("and", "or", "xor"):
            return (*datasets.logic_gate(name), None)
        if name == "clusters":
            return (*datasets.two_clusters(rng), None)
        if name in ("multi3", "multi4"):
            return (*datasets.blobs_corners(int(name[-1]), rng), None)
        return self._user_X.copy(), self._user_labels.copy(), None

    def reset(self, seed: int) -> None:
        self.seed = int(seed)
        self._rng = rng = np.random.default_rng(self.seed)
        X, labels, w0 = self._load(rng)
        m = len(X)
        K = int(labels.max()) + 1 if m else 0
        n_out = K if K > 2 else 1
        T = (labels[:, None] == np.arange(K)[None, :]) if K > 2 else labels[:, None]
        self._X, self._labels, self._K = X, labels, K
        self._T = np.ascontiguousarray(T, dtype=np.int64)
        self._bias = w0 is None
        mode = "none" if w0 is not None else self.params.normalization
        if mode == "zscore" and m:
            c, s = X.mean(axis=0), X.std(axis=0)
        elif mode == "minmax" and m:
            c, s = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
        else:
            c, s = np.zeros(2), np.ones(2)
        self._center, self._scale = c, np.where(s > 0, s, 1.0)
        self._Xa = augment((X - self._center) / self._scale, self._bias)
        if w0 is not None:
            self._W = np.tile(w0, (n_out, 1))
        else:
            self._W = init_weights(rng, n_out, 2, self.params.init, True)
        self._separable = bool(linearly_separable(self._Xa, self._T, self._bias).all())
        self._hist = np.zeros((self.HISTORY_CAPACITY, n_out, 3))
        self._hist_count = 0
        self._order_mode = self.params.order
        self._order = self._draw_orders(1)[0] if m else np.empty(0, np.int64)
        self._pos = self._err = self._n_updates = 0
        self._ep_err = np.zeros(64, np.int64)
        self._n_epochs = 0
        self._conv = None                     # (epoch number, updates) of the first error-free epoch
        self._rec = (np.zeros((n_out, 3)), np.zeros(n_out), np.zeros(n_out, np.int64),
                     np.zeros(2, np.int64))
        self._last = None
        self.step_count = 0
        self._update_status()

    def _draw_orders(self, c: int) -> np.ndarray:
        """Orders of the next ``c`` epochs. Shuffled: argsort of m uniforms per epoch, drawn row by
        row from one stream, so the draws do not depend on how the steps were chunked."""
        m = len(self._X)
        self._order_mode = self.params.order
        if self._order_mode == "shuffled":
            return self._rng.random((c, m)).argsort(axis=1, kind="stable").astype(np.int64)
        return np.tile(np.arange(m, dtype=np.int64), (c, 1))

    # ---- stepping ---------------------------------------------------------------------------
    _STATE = ("_W", "_pos", "_err", "_n_updates", "_hist", "_hist_count", "_order", "_order_mode",
              "_ep_err", "_n_epochs", "_conv", "_rec", "_last", "step_count")

    def step(self, n: int = 1) -> None:
        """Present ``n`` samples (epochs roll over; the status is updated after each call)."""
        n = int(n)
        if n < 0:
            raise ValueError("step count must be non-negative")
        if n == 0 or len(self._X) == 0:
            self._update_status()
            return
        self._advance(n)

    def advance(self, n: int) -> int:
        """Like ``step(n)``, but while the status is "running" stop exactly where it changes: at the
        end of the first error-free epoch (converged) or of epoch ``max_epochs`` (gave up), so that
        the runner pauses on the very step a student should look at. Returns the steps taken."""
        n = int(n)
        m = len(self._X)
        if self.status != RUNNING or n <= 0 or m == 0:
            self.step(n)
            return n
        n = min(n, (self.params.max_epochs - self._n_epochs) * m - self._pos)
        saved = {k: copy.deepcopy(getattr(self, k)) for k in self._STATE}
        rng_state = self._rng.bit_generator.state
        self._advance(n)
        if self._conv is not None and saved["_conv"] is None:
            exact = (self._conv[0] - saved["_n_epochs"]) * m - saved["_pos"]
            if exact < n:  # converged inside this call: replay only up to the end of that epoch
                for k, v in saved.items():
                    setattr(self, k, v)
                self._rng.bit_generator.state = rng_state
                self._advance(exact)
                return exact
        return n

    def _advance(self, n: int) -> None:
        m = len(self._X)
        lr = float(self.params.lr)
        max_rows = max(1, self._CHUNK_ENTRIES // m)
        left = n
        while left > 0:
            chunk = min(left, max_rows * m - self._pos)
            c = (self._pos + chunk) // m
            orders = np.empty((c + 1, m), np.int64)
            orders[0] = self._order
            if c:
                orders[1:] = self._draw_orders(c)
            ep = np.zeros(c, np.int64)
            self._pos, self._err, n_upd, self._hist_count, done = _present(
                self._W, self._Xa, self._T, orders, self._pos, self._err, chunk, lr, ep,
                self._hist, self._hist_count, *self._rec)
            self._n_updates += n_upd
            self._order = orders[done].copy()
            self._add_epochs(ep)
            left -= chunk
        self.step_count += n
        wb, net, y, info = self._rec
        k = int(info[0])
        self._last = UpdateRecord(index=k, x=self._Xa[k].copy(), w_before=wb.copy(),
                                  net=net.copy(), y=y.copy(), t=self._T[k].copy(),
                                  w_after=self._W.copy(), updated=bool(info[1]), lr=lr)
        self._update_status()

    def _add_epochs(self, ep: np.ndarray) -> None:
        if not len(ep):
            return
        need = self._n_epochs + len(ep)
        if need > len(self._ep_err):
            self._ep_err = np.concatenate([self._ep_err, np.zeros(max(need, 2 * len(self._ep_err)),
                                                                  np.int64)])
        self._ep_err[self._n_epochs:need] = ep
        if self._conv is None:
            zero = np.flatnonzero(ep == 0)
            if zero.size:  # an error-free epoch leaves w fixed for good, so the count is final
                self._conv = (self._n_epochs + int(zero[0]) + 1, self._n_updates)
        self._n_epochs = need

    def apply_live(self) -> None:
        if self.params.order != self._order_mode and self._pos == 0 and len(self._X):
            self._order = self._draw_orders(1)[0]   # the new epoch has not started yet
        self._update_status()

    def _update_status(self) -> None:
        if len(self._X) == 0:
            self.status, self.message = NOT_CONVERGED, NO_DATA
        elif self._conv is not None:
            e, u = self._conv
            self.status = CONVERGED
            self.message = f"Converged: epoch {e} had no error ({u} update{'s' * (u != 1)} in all)."
        elif self._n_epochs >= self.params.max_epochs:
            self.status = NOT_CONVERGED
            e = self._n_epochs
            self.message = f"No error-free epoch after {e} epoch{'s' * (e != 1)}. " + (
                "These data are linearly separable, so the perceptron converges if training goes "
                "on (convergence theorem)." if self._separable else
                "These data are not linearly separable (checked with a linear program), so the "
                "perceptron can never converge.")
        else:
            self.status, self.message = RUNNING, ""

    # ---- views ------------------------------------------------------------------------------
    def _to_raw(self, W: np.ndarray) -> np.ndarray:
        """Weights for raw inputs: w_j / s_j, and w_0 + sum_j w_j c_j / s_j for the -1 input."""
        R = np.array(W, dtype=np.float64, copy=True)
        R[..., 1:] = W[..., 1:] / self._scale
        R[..., 0] = W[..., 0] + (W[..., 1:] * (self._center / self._scale)).sum(axis=-1)
        return R

    def watch_value(self) -> float | None:
        """Misclassified samples in the last completed epoch (None before the first epoch ends)."""
        return float(self._ep_err[self._n_epochs - 1]) if self._n_epochs > 0 else None

    def snapshot(self) -> PerceptronSnapshot:
        cap, hc = self.HISTORY_CAPACITY, self._hist_count
        h = min(self.params.history, hc, cap)
        hist = self._hist[[(hc - h + i) % cap for i in range(h)]]
        m = len(self._X)
        outputs = (net_inputs(self._W, self._Xa) > 0).astype(np.int64)
        wrong = outputs != self._T
        return PerceptronSnapshot(outputs=outputs,
            step_count=self.step_count, status=self.status, message=self.message,
            X=self._X.copy(), labels=self._labels.copy(), n_classes=self._K, T=self._T.copy(),
            weights=self._W.copy(), weights_raw=self._to_raw(self._W),
            history_raw=self._to_raw(hist).reshape(h, *self._W.shape),
            misclassified=wrong.any(axis=1), epoch=self._n_epochs, pos_in_epoch=self._pos,
            epoch_errors=self._ep_err[:self._n_epochs].copy(), errors_this_epoch=self._err,
            n_updates=self._n_updates, last=self._last,
            next_index=int(self._order[self._pos]) if m else -1, separable=self._separable,
            bias=self._bias, center=self._center.copy(), scale=self._scale.copy())
