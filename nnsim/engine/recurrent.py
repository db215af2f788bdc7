"""Recurrent cells (plain RNN, LSTM and its variants, GRU), BPTT, training and the LSTM panel's simulation.

Every cell maps an input sequence ``x`` of shape (T, B, n_in) and an initial state to hidden states
``h`` of shape (T, B, H). The weights act on the concatenation ``[h_{t-1}, x_t]`` (the lecture's
``c(t) = [h(t-1); x(t)]``); one matrix ``W`` stacks every gate's weights, so ``W[:, :H]`` is the
recurrent part and ``W[:, H:]`` the input part.

Plain RNN (Elman 1990), ``W`` (H, H + n_in), ``b`` (H,)::

    a_t = W [h_{t-1}, x_t] + b,      h_t = tanh(a_t)

LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers, Schmidhuber & Cummins 2000),
``W`` (4H, H + n_in) whose row blocks are the lecture's i, f, o, g (g = C~), ``b`` (4H,)::

    i_t = σ(W_i [h_{t-1}, x_t] + b_i)        input gate: which values to update
    f_t = σ(W_f [h_{t-1}, x_t] + b_f)        forget gate: 0 erase, 1 keep
    o_t = σ(W_o [h_{t-1}, x_t] + b_o)        output gate: what to release
    g_t = tanh(W_g [h_{t-1}, x_t] + b_g)     C~_t, the update values
    C_t = f_t * C_{t-1} + i_t * g_t          (step 1: f*C_{t-1}; step 2: i*C~; step 3: their sum)
    h_t = o_t * tanh(C_t)                    (step 4)

Backpropagation from C_t to C_{t-1} is only the element-wise product with f_t (no W, no tanh): the
"uninterrupted gradient flow" of the lecture. Variants (``variant=``):

* ``"peephole"`` (Gers & Schmidhuber 2000): the gates also see the cell state, i and f the old one,
  o the new one: ``a_i += p_i * C_{t-1}``, ``a_f += p_f * C_{t-1}``, ``a_o += p_o * C_t``. As in the
  paper the peephole weights ``P`` (3, H) (rows i, f, o) are diagonal (one weight per unit); the
  lecture's ``W_f · [C_{t-1}, h_{t-1}, x_t]`` notation does not say so.
* ``"coupled"``: ``C_t = f_t * C_{t-1} + (1 - f_t) * g_t``; the i rows of ``W`` and ``b`` are unused
  (zero, gradient zero) and ``forward`` reports ``i = 1 - f``.

GRU (Cho et al. 2014) in the lecture's form (no separate cell state, output not gated), ``W``
(3H, H + n_in) with row blocks r, z, g (g = h~), ``b`` (3H,); the g rows act on
``[r_t * h_{t-1}, x_t]``::

    r_t = σ(W_r [h_{t-1}, x_t] + b_r),   z_t = σ(W_z [h_{t-1}, x_t] + b_z)
    g_t = tanh(W_g [r_t * h_{t-1}, x_t] + b_g),   h_t = (1 - z_t) * h_{t-1} + z_t * g_t

``backward(x, dh)`` takes ``dh[t] = ∂L/∂h_t`` from outside the recurrence (the read-out) and runs
BPTT over the whole sequence (Werbos 1990): it returns the weight gradients, ``dx``, the gradients
of the initial state and the total ``∂L/∂h_t`` (``"dh"``; for the LSTM also ``∂L/∂C_t``, ``"dc"``)
including everything that flows back through the recurrence: the quantity of the gradient-flow plot.

:class:`SequenceModel` adds the read-out and the loss; the kernels (float64, numba) live in
``_recurrent_kernels``; the LSTM panel's simulation in :mod:`nnsim.engine.recurrent_sim`.
"""

from __future__ import annotations

import math

import numpy as np

from nnsim.engine import _recurrent_kernels as K

VARIANTS = ("standard", "peephole", "coupled")


class Trace(dict):
    """What ``forward`` returns: a mapping of named (T, B, H) arrays; ``backward(cache=...)`` reuses
    the kernel buffers kept in ``raw`` (same x and initial state only)."""

    raw: dict


class _Cell:
    """Shared plumbing: the flat parameter vector, input checks, initial states."""

    kind = "cell"
    rows = 1               # gate row blocks in W

    def __init__(self, n_in: int, n_hidden: int, seed: int = 0, init_gain: float = 1.0):
        n_in, n_hidden = int(n_in), int(n_hidden)
        if n_in < 1 or n_hidden < 1:
            raise ValueError("n_in and n_hidden must be at least 1")
        self.n_in, self.n_hidden = n_in, n_hidden
        H, G = n_hidden, self.rows * n_hidden
        rng = np.random.default_rng(seed)
        self._theta = np.zeros(self._size())
        # N(0, gain^2 / fan_in), fan_in = H + n_in (Glorot/LeCun-style scaling); biases 0
        self.W = rng.standard_normal((G, H + n_in)) * (init_gain / math.sqrt(H + n_in))
        self._init_extra(rng, init_gain)

    # ---- the flat parameter vector -------------------------------------------------------------
    def _layout(self) -> list[tuple[str, tuple]]:
        H = self.n_hidden
        return [("W", (self.rows * H, H + self.n_in)), ("b", (self.rows * H,))]

    def _size(self) -> int:
        return int(sum(np.prod(s) for _, s in self._layout()))

    def _views(self, buf):
        out, k = {}, 0
        for name, shape in self._layout():
            n = int(np.prod(shape))
            out[name] = buf[k:k + n].reshape(shape)
            k += n
        return out

    @property
    def theta(self) -> np.ndarray:
        """Every trainable parameter in one flat float64 vector (W, b, then P for peepholes)."""
        return self._theta

    def bind(self, buf: np.ndarray) -> None:
        """Move the parameters into ``buf`` (a float64 vector of length ``n_params``) and keep
        ``W``, ``b``, ... as views into it (a training loop then updates them in place)."""
        if buf.shape != (self._size(),) or buf.dtype != np.float64:
            raise ValueError(f"buffer must be a float64 vector of length {self._size()}")
        buf[:] = self._theta
        self._theta = buf
        self._view_cache = self._views(buf)

    @property
    def n_params(self) -> int:
        return self._size()

    def grad_vector(self, grads: dict) -> np.ndarray:
        """The gradients of ``backward`` flattened in the order of :attr:`theta`."""
        return np.concatenate([np.ravel(grads["d" + name]) for name, _ in self._layout()])

    def _get(self, name):
        cache = self.__dict__.get("_view_cache")
        if cache is None:
            cache = self._view_cache = self._views(self._theta)
        return cache[name]

    def _set(self, name, value):
        view = self._get(name)
        value = np.asarray(value, dtype=np.float64)
        if value.shape != view.shape:
            raise ValueError(f"{name} must have shape {view.shape}, got {value.shape}")
        view[...] = value

    W = property(lambda self: self._get("W"), lambda self, v: self._set("W", v),
                 doc="Stacked weights acting on [h_{t-1}, x_t] (a view into theta).")
    b = property(lambda self: self._get("b"), lambda self, v: self._set("b", v),
                 doc="Stacked biases (a view into theta).")

    def _init_extra(self, rng, gain):
        pass

    def _arr(self, name: str, shape: tuple, reuse: bool) -> np.ndarray:
        """A fresh array, or with ``reuse`` the cell's own buffer for ``name`` (fresh memory costs
        page faults, which were a third of a small training step's time)."""
        if not reuse:
            return np.empty(shape)
        ws = self.__dict__.setdefault("_ws", {})
        a = ws.get(name)
        if a is None or a.shape != shape:
            a = ws[name] = np.empty(shape)
        return a

    # ---- inputs --------------------------------------------------------------------------------
    def _x(self, x) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim == 2:
            x = x[:, None, :]
        if x.ndim != 3 or x.shape[2] != self.n_in:
            raise ValueError(f"x must have shape (T, B, {self.n_in}), got {x.shape}")
        return x

    def _state(self, s, B: int) -> np.ndarray:
        H = self.n_hidden
        if s is None:
            return np.zeros((B, H))
        s = np.asarray(s, dtype=np.float64)
        if s.shape not in ((B, H), (H,)):
            raise ValueError(f"initial state must have shape ({B}, {H}), got {s.shape}")
        return np.ascontiguousarray(np.broadcast_to(s, (B, H)))

    def _trace(self, cache, x, *states) -> Trace:
        if cache is None:
            return self.forward(x, *states)
        if not isinstance(cache, Trace):
            raise TypeError("cache must be what forward() returned")
        return cache

    def _dh(self, dh, T, B) -> np.ndarray:
        dh = np.ascontiguousarray(dh, dtype=np.float64)
        if dh.shape != (T, B, self.n_hidden):
            raise ValueError(f"dh must have shape {(T, B, self.n_hidden)}, got {dh.shape}")
        return dh

    def recurrent_sigma_max(self) -> float:
        """Largest singular value of the recurrent block W[:, :H] (per gate block for gated cells,
        the largest of them): above 1 gradients can explode, below 1 they vanish (Pascanu 2013)."""
        H = self.n_hidden
        Wh = self.W[:, :H]
        return float(max(np.linalg.svd(Wh[k * H:(k + 1) * H], compute_uv=False)[0]
                         for k in range(self.rows)))


class RNN(_Cell):
    """Plain (Elman) RNN: ``h_t = tanh(W [h_{t-1}, x_t] + b)``; ``W`` (H, H + n_in), ``b`` (H,).

    >>> rnn = RNN(2, 3, seed=0)
    >>> rnn.forward(np.zeros((5, 4, 2)))["h"].shape
    (5, 4, 3)
    """

    kind = "rnn"
    rows = 1

    def forward(self, x, h0=None, reuse: bool = False) -> Trace:
        """``{"a": pre-activations, "h": hidden states}``, each (T, B, H)."""
        x = self._x(x)
        T, B, n = x.shape
        H = self.n_hidden
        h0 = self._state(h0, B)
        XC = _concat_buffer(x, H, self._arr("XC", (x.shape[0], x.shape[1], H + x.shape[2]), reuse))
        A = self._arr("A", (T, B, H), reuse)
        Hs = self._arr("Hs", (T, B, H), reuse)
        K.rnn_forward(XC, np.ascontiguousarray(self.W.T), self.b, h0, A, Hs)
        out = Trace(a=A, h=Hs)
        out.raw = dict(x=x, h0=h0, XC=XC)
        return out

    def backward(self, x, dh, h0=None, cache: Trace | None = None, reuse: bool = False) -> dict:
        """BPTT: ``{"dW", "db", "dx", "dh0", "dh" (total ∂L/∂h_t)}``."""
        tr = self._trace(cache, x, h0)
        x = tr.raw["x"]
        T, B, n = x.shape
        H = self.n_hidden
        dh = self._dh(dh, T, B)
        dW = self._arr("dW", self.W.shape, reuse)
        db = self._arr("db", (H,), reuse)
        dx = self._arr("dx", (T, B, n), reuse)
        DHt = self._arr("DHt", (T, B, H), reuse)
        dh0 = self._arr("dh0", (B, H), reuse)
        K.rnn_backward(tr.raw["XC"], np.ascontiguousarray(self.W), tr["h"], dh, dW, db, dx, DHt,
                       dh0)
        return {"dW": dW, "db": db, "dx": dx, "dh0": dh0, "dh": DHt}


class LSTM(_Cell):
    """LSTM cell (see the module docstring). ``W`` (4H, H + n_in) with row blocks i, f, o, g;
    ``b`` (4H,); peephole weights ``P`` (3, H) (rows i, f, o) for ``variant="peephole"``.

    ``forget_bias`` initializes b_f (1.0 by default: Gers et al. 2000, Jozefowicz et al. 2015; the
    course gives no value), so that f starts near σ(1) = 0.73 and the cell remembers from the start.

    >>> lstm = LSTM(1, 2, seed=0)
    >>> sorted(lstm.forward(np.ones((3, 1, 1))))
    ['c', 'f', 'g', 'h', 'i', 'o', 'tanh_c']
    """

    kind = "lstm"
    rows = 4

    def __init__(self, n_in: int, n_hidden: int, seed: int = 0, variant: str = "standard",
                 forget_bias: float = 1.0, init_gain: float = 1.0):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        self.variant = variant
        self._P_off = np.zeros((3, int(n_hidden)))
        self.forget_bias = float(forget_bias)
        super().__init__(n_in, n_hidden, seed, init_gain)

    def _layout(self):
        out = super()._layout()
        if self.variant == "peephole":
            out.append(("P", (3, self.n_hidden)))
        return out

    def _init_extra(self, rng, gain):
        H = self.n_hidden
        b = self.b
        b[H:2 * H] = self.forget_bias
        if self.variant == "coupled":
            self.W[:H] = 0.0
        if self.variant == "peephole":
            self.P = rng.standard_normal((3, H)) * (gain / math.sqrt(H))

    @property
    def P(self) -> np.ndarray:
        """Diagonal peephole weights (3, H), rows i, f, o (zeros and unused unless "peephole")."""
        return self._get("P") if self.variant == "peephole" else self._P_off

    @P.setter
    def P(self, value):
        if self.variant != "peephole":
            raise AttributeError("peephole weights exist only for variant='peephole'")
        self._set("P", value)

    def forward(self, x, h0=None, c0=None, reuse: bool = False) -> Trace:
        """``{"i", "f", "o", "g", "c", "h", "tanh_c"}``, each (T, B, H) (i = 1 − f when coupled)."""
        x = self._x(x)
        T, B, n = x.shape
        H = self.n_hidden
        h0 = self._state(h0, B)
        c0 = self._state(c0, B)
        XC = _concat_buffer(x, H, self._arr("XC", (x.shape[0], x.shape[1], H + x.shape[2]), reuse))
        G = self._arr("G", (T, B, 4 * H), reuse)
        C = self._arr("C", (T, B, H), reuse)
        Hs = self._arr("Hs", (T, B, H), reuse)
        TC = self._arr("TC", (T, B, H), reuse)
        K.lstm_forward(XC, np.ascontiguousarray(self.W.T), self.b, np.ascontiguousarray(self.P),
                       h0, c0, self.variant == "peephole", self.variant == "coupled", G, C, Hs, TC)
        out = Trace(i=G[..., :H], f=G[..., H:2 * H], o=G[..., 2 * H:3 * H], g=G[..., 3 * H:],
                    c=C, h=Hs, tanh_c=TC)
        out.raw = dict(x=x, h0=h0, c0=c0, XC=XC, G=G)
        return out

    def backward(self, x, dh, h0=None, c0=None, cache: Trace | None = None,
                 reuse: bool = False) -> dict:
        """BPTT: ``{"dW", "db", "dx", "dh0", "dc0", "dh", "dc"}`` (+ ``"dP"`` for peepholes);
        ``"dh"``/``"dc"`` are the total ∂L/∂h_t and ∂L/∂C_t."""
        tr = self._trace(cache, x, h0, c0)
        x = tr.raw["x"]
        T, B, n = x.shape
        H = self.n_hidden
        dh = self._dh(dh, T, B)
        dW = self._arr("dW", self.W.shape, reuse)
        db = self._arr("db", (4 * H,), reuse)
        dP = self._arr("dP", (3, H), reuse)
        dx = self._arr("dx", (T, B, n), reuse)
        DHt = self._arr("DHt", (T, B, H), reuse)
        DCt = self._arr("DCt", (T, B, H), reuse)
        dh0 = self._arr("dh0", (B, H), reuse)
        dc0 = self._arr("dc0", (B, H), reuse)
        K.lstm_backward(tr.raw["XC"], np.ascontiguousarray(self.W), np.ascontiguousarray(self.P),
                        tr.raw["c0"], self.variant == "peephole", self.variant == "coupled",
                        tr.raw["G"], tr["c"], tr["tanh_c"], dh, dW, db, dP, dx, DHt, DCt, dh0, dc0)
        out = {"dW": dW, "db": db, "dx": dx, "dh0": dh0, "dc0": dc0, "dh": DHt, "dc": DCt}
        if self.variant == "peephole":
            out["dP"] = dP
        return out


class GRU(_Cell):
    """GRU cell (Cho et al. 2014; see the module docstring). ``W`` (3H, H + n_in) with row blocks
    r, z, g (g = h~; its rows act on [r_t * h_{t-1}, x_t]), ``b`` (3H,).

    ``keep_bias`` initializes b_z = −keep_bias, so that the share of the old state kept, 1 − z,
    starts near σ(keep_bias): the GRU's counterpart of the LSTM's forget-gate bias (0 by default).

    >>> gru = GRU(1, 2, seed=0)
    >>> sorted(gru.forward(np.ones((3, 1, 1))))
    ['g', 'h', 'r', 'rh', 'z']
    """

    kind = "gru"
    rows = 3

    def __init__(self, n_in: int, n_hidden: int, seed: int = 0, init_gain: float = 1.0,
                 keep_bias: float = 0.0):
        self.keep_bias = float(keep_bias)
        super().__init__(n_in, n_hidden, seed, init_gain)

    def _init_extra(self, rng, gain):
        H = self.n_hidden
        self.b[H:2 * H] = -self.keep_bias   # 1 − z starts near σ(keep_bias): the state is kept

    def forward(self, x, h0=None, reuse: bool = False) -> Trace:
        """``{"r", "z", "g", "h", "rh"}`` (rh = r_t * h_{t-1}), each (T, B, H)."""
        x = self._x(x)
        T, B, n = x.shape
        H = self.n_hidden
        h0 = self._state(h0, B)
        XC = _concat_buffer(x, H, self._arr("XC", (x.shape[0], x.shape[1], H + x.shape[2]), reuse))
        XR = _concat_buffer(x, H, self._arr("XR", (x.shape[0], x.shape[1], H + x.shape[2]), reuse))
        G = self._arr("G", (T, B, 3 * H), reuse)
        Hs = self._arr("Hs", (T, B, H), reuse)
        W = self.W
        K.gru_forward(XC, XR, np.ascontiguousarray(W[:2 * H].T), np.ascontiguousarray(W[2 * H:].T),
                      self.b, h0, G, Hs)
        out = Trace(r=G[..., :H], z=G[..., H:2 * H], g=G[..., 2 * H:], h=Hs, rh=XR[..., :H])
        out.raw = dict(x=x, h0=h0, XC=XC, XR=XR, G=G)
        return out

    def backward(self, x, dh, h0=None, cache: Trace | None = None, reuse: bool = False) -> dict:
        """BPTT: ``{"dW", "db", "dx", "dh0", "dh" (total ∂L/∂h_t)}``."""
        tr = self._trace(cache, x, h0)
        x = tr.raw["x"]
        T, B, n = x.shape
        H = self.n_hidden
        dh = self._dh(dh, T, B)
        W = self.W
        dW = self._arr("dW", W.shape, reuse)
        db = self._arr("db", (3 * H,), reuse)
        dx = self._arr("dx", (T, B, n), reuse)
        DHt = self._arr("DHt", (T, B, H), reuse)
        dh0 = self._arr("dh0", (B, H), reuse)
        dW_rz = self._arr("dW_rz", (2 * H, H + n), reuse)
        dW_g = self._arr("dW_g", (H, H + n), reuse)
        K.gru_backward(tr.raw["XC"], tr.raw["XR"], np.ascontiguousarray(W[:2 * H]),
                       np.ascontiguousarray(W[2 * H:]), tr.raw["G"], dh, dW_rz, dW_g, db, dx, DHt,
                       dh0)
        dW[:2 * H] = dW_rz
        dW[2 * H:] = dW_g
        return {"dW": dW, "db": db, "dx": dx, "dh0": dh0, "dh": DHt}


def _concat_buffer(x: np.ndarray, H: int, XC: np.ndarray) -> np.ndarray:
    """XC (T, B, H + n) with x in the last n columns (the kernels fill the first H per step)."""
    XC[:, :, H:] = x
    return XC


# ---- cells by name, read-out and loss ---------------------------------------------------------
CELLS = (("rnn", "Plain RNN (tanh)"), ("lstm", "LSTM"), ("peephole", "LSTM with peepholes"),
         ("coupled", "LSTM, coupled f/i gates"), ("gru", "GRU (Cho 2014)"))
CELL_LABELS = dict(CELLS)


def make_cell(name: str, n_in: int, n_hidden: int, seed: int = 0, forget_bias: float = 1.0,
              init_gain: float = 1.0):
    """A cell by its menu name: "rnn", "lstm", "peephole", "coupled" or "gru". ``forget_bias`` is
    the LSTM's initial b_f and the GRU's keep bias (b_z = −forget_bias)."""
    if name == "rnn":
        return RNN(n_in, n_hidden, seed=seed, init_gain=init_gain)
    if name == "gru":
        return GRU(n_in, n_hidden, seed=seed, init_gain=init_gain, keep_bias=forget_bias)
    if name in ("lstm", "peephole", "coupled"):
        variant = "standard" if name == "lstm" else name
        return LSTM(n_in, n_hidden, seed=seed, variant=variant, forget_bias=forget_bias,
                    init_gain=init_gain)
    raise ValueError(f"unknown cell {name!r}; choose one of {', '.join(n for n, _ in CELLS)}")


class SequenceModel:
    """A recurrent cell with a read-out from every h_t: ``y_t = V h_t + c`` ("linear", squared
    error) or ``p_t = softmax(V h_t + c)`` ("softmax", cross-entropy).

    The loss averages over the masked steps M: ``L = (1/(M n_out)) sum (y - target)^2`` or
    ``L = -(1/M) sum log p_t[label_t]``. All parameters (the cell's, then V, then c) live in the
    flat vector :attr:`theta`, which the shared update rules of :mod:`nnsim.engine.optimizers`
    update in place.

    >>> m = SequenceModel(LSTM(2, 4, seed=0), n_out=1)
    >>> x = np.zeros((6, 3, 2)); t = np.zeros((6, 3, 1)); mask = np.ones((6, 3), bool)
    >>> loss, acc, grad = m.loss_and_grad(x, t, mask)[:3]
    >>> grad.shape == m.theta.shape
    True
    """

    def __init__(self, cell, n_out: int, readout: str = "linear", seed: int = 0):
        if readout not in ("linear", "softmax"):
            raise ValueError("readout must be 'linear' or 'softmax'")
        self.cell = cell
        self.readout = readout
        self.n_out = int(n_out)
        H, k = cell.n_hidden, cell.n_params
        self.theta = np.zeros(k + self.n_out * H + self.n_out)
        cell.bind(self.theta[:k])
        self.V = self.theta[k:k + self.n_out * H].reshape(self.n_out, H)
        self.c = self.theta[k + self.n_out * H:]
        self.V[...] = np.random.default_rng([seed, 7]).standard_normal((self.n_out, H)) / math.sqrt(H)

    def _cell_forward(self, x, reuse):
        return self.cell.forward(x, reuse=reuse)

    def outputs(self, hs: np.ndarray) -> np.ndarray:
        """Read-out of hidden states (T, B, H): values or softmax probabilities (T, B, n_out)."""
        z = hs @ self.V.T + self.c
        if self.readout == "linear":
            return z
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def forward(self, x, reuse: bool = False):
        """(trace of the cell, outputs y (T, B, n_out))."""
        tr = self._cell_forward(x, reuse)
        return tr, self.outputs(tr["h"])

    def _loss(self, y, target, mask, labels, tol):
        """(loss, accuracy, dL/dy)."""
        m = np.asarray(mask, bool)
        M = max(int(m.sum()), 1)
        if self.readout == "linear":
            diff = (y - target) * m[..., None]
            loss = float((diff * diff).sum() / (M * self.n_out))
            ok = (np.abs(y - target).max(axis=-1) <= tol) & m
            dy = diff * (2.0 / (M * self.n_out))
        else:
            lab = np.asarray(labels)
            p = np.take_along_axis(y, lab[..., None], axis=-1)[..., 0]
            with np.errstate(divide="ignore"):
                loss = float(-(np.log(p) * m).sum() / M)
            ok = (y.argmax(axis=-1) == lab) & m
            dy = (y - target) * (m[..., None] / M)
        return loss, float(ok.sum() / M), dy

    def loss_and_grad(self, x, target, mask, labels=None, tol: float = 0.1, reuse: bool = True):
        """(loss, accuracy, gradient (like theta), cell trace, outputs y, backward dict).

        Accuracy: the fraction of masked steps within ``tol`` of the target (linear) or with the
        right arg-max class (softmax)."""
        tr, y = self.forward(x, reuse=reuse)
        loss, acc, dy = self._loss(y, target, mask, labels, tol)
        dh, dV, dc = self._dh(dy, tr["h"])
        g = self.cell.backward(x, dh, cache=tr, reuse=reuse)
        grad = np.concatenate([self.cell.grad_vector(g), dV.ravel(), dc])
        return loss, acc, grad, tr, y, g

    def _dh(self, dy, hs):
        """(∂L/∂h_t through the read-out, dV, dc)."""
        T, B, H = hs.shape
        dh = np.empty((T, B, H))
        dV = np.empty_like(self.V)
        dc = np.empty_like(self.c)
        K.readout_backward(np.ascontiguousarray(dy), hs, np.ascontiguousarray(self.V), dh, dV, dc)
        return dh, dV, dc

    def evaluate(self, x, target, mask, labels=None, tol: float = 0.1):
        """(loss, accuracy, outputs y, trace) without gradients."""
        tr, y = self.forward(x)
        loss, acc, _ = self._loss(y, target, mask, labels, tol)
        return loss, acc, y, tr

    def gradient_flow(self, x, target, mask, labels=None) -> dict:
        """How the gradient of the LAST step's loss L_T reaches earlier steps: ``"h"`` (T,) is
        ‖∂L_T/∂h_t‖ (norm over units, mean over the batch); for an LSTM also ``"c"``, ‖∂L_T/∂C_t‖.
        A plain RNN multiplies by W_hh^T diag(1 − h²) per step back, so this shrinks (or grows)
        geometrically; an LSTM's path through C multiplies only by f_t."""
        tr, y = self.forward(x)
        last = np.zeros_like(np.asarray(mask, bool))
        last[-1] = np.asarray(mask, bool)[-1]
        _, _, dy = self._loss(y, target, last, labels, 0.0)
        g = self.cell.backward(x, self._dh(dy, tr["h"])[0], cache=tr)
        out = {"h": np.linalg.norm(g["dh"], axis=-1).mean(axis=1)}
        if "dc" in g:
            out["c"] = np.linalg.norm(g["dc"], axis=-1).mean(axis=1)
        return out


# ---- the lecture's four steps with numbers ------------------------------------------------------
def four_steps(c_prev, f, i, g, o=None) -> dict:
    """The lecture's LSTM steps, element-wise: ① forget ``f * C_{t-1}``, ② input ``i * C~``,
    ③ ``C_t = ① + ②``, and with ``o``: ④ ``h_t = o * tanh(C_t)``.

    >>> s = four_steps(**JAMES)
    >>> s["c"].round(2).tolist()
    [0.67, 0.2]
    """
    c_prev, f, i, g = (np.asarray(v, dtype=np.float64) for v in (c_prev, f, i, g))
    out = {"forget": f * c_prev, "input": i * g}
    out["c"] = out["forget"] + out["input"]
    if o is not None:
        out["tanh_c"] = np.tanh(out["c"])
        out["h"] = np.asarray(o, dtype=np.float64) * out["tanh_c"]
    return out


def gated_output(o, tanh_c) -> np.ndarray:
    """Step ④ from tanh(C_t) directly: ``h_t = o_t * tanh(C_t)``."""
    return np.asarray(o, dtype=np.float64) * np.asarray(tanh_c, dtype=np.float64)


#: The lecture's "James" example [003:9144-9265]: c1 = the subject's gender (probability of male),
#: c2 = the weather. f = 0.1 nearly erases c1, f = 1 keeps c2; i = 0.8 writes 0.72, i = 0 does not
#: touch c2. Expected: f*C = [-0.05, 0.2], i*C~ = [0.72, 0], C_t = [0.67, 0.2].
JAMES = {"c_prev": [-0.5, 0.2], "f": [0.1, 1.0], "g": [0.9, -0.75], "i": [0.8, 0.0]}

#: The lecture's sparse-output example [003:9291-9316]: h = o * tanh(C). The slide prints the last
#: entry as 0.63; 0.8 * 0.7 = 0.56 (COURSE.md §6 item 17).
SPARSE_OUTPUT = {"tanh_c": [0.2, 0.98, -0.97, -0.1, 0.98, 0.8, 0.2, 0.3, -0.99, 0.8, 0.7],
                 "o": [0.01, 0.85, 0.75, 0.1, 0.2, 0.8, 0.1, 0.1, 0.02, 0.9, 0.8]}
SPARSE_OUTPUT_PRINTED = [0.002, 0.83, -0.73, -0.01, 0.2, 0.64, 0.02, 0.03, -0.02, 0.72, 0.63]


def rule_grad(model, rule, grad, batch, tol):
    """The gradient to hand to ``rule.apply``: Nesterov wants it at the look-ahead point θ + μv."""
    if rule.name != "nesterov":
        return grad
    theta = model.theta
    look = rule.grad_point(theta)
    saved = theta.copy()
    theta[:] = look
    try:
        g = model.loss_and_grad(batch.x, batch.target, batch.mask, batch.labels, tol)[2]
    finally:
        theta[:] = saved
    return g


def warmup() -> None:
    """Compile (or load from the cache) every kernel on tiny inputs."""
    x = np.zeros((3, 2, 2))
    for name, _ in CELLS:
        cell = make_cell(name, 2, 2)
        tr = cell.forward(x)
        cell.backward(x, np.ones((3, 2, 2)), cache=tr)
    K.vsigm(np.zeros(4), np.zeros(4))
    model = SequenceModel(make_cell("lstm", 2, 2), 1)
    model.loss_and_grad(x, np.zeros((3, 2, 1)), np.ones((3, 2), bool))
