"""Activation maximization: change the input, not the weights, until a chosen unit fires strongly.

Training keeps the input and target fixed and changes the weights; activation maximization keeps
the trained weights fixed and changes the input x to maximize an activation a(x) (course §3.10,
after the course article on an MNIST CNN and Yosinski et al., "Understanding Neural Networks
Through Deep Visualization", ICML DL workshop 2015). Each iteration is a regularized gradient-ascent
step (Yosinski's "small regularized baby steps")::

    x ← r(x + η ∂a/∂x)

taken by the shared update rules of :mod:`nnsim.engine.optimizers` (plain gradient ascent is
"sgd" with gradient −∂a/∂x; momentum, Adam, ... work too), followed by the regularizers r, in the
order of Yosinski's toolbox (each off at 0):

1. L2 decay: x ← (1 − decay) x, so that a few extreme pixels cannot dominate.
2. Gaussian blur with standard deviation σ (pixels) after every k-th step (cheaper than every step,
   and repeated small blurs add up to a large one): penalizes high frequencies. Borders reflect, the
   kernel reaches 4σ (as scipy.ndimage.gaussian_filter).
3. Clip pixels with small norm: pixels whose norm over the channels, ‖x_j‖, is below the given
   percentile of all pixels' norms are set to 0.
4. Clip pixels with small contribution: the contribution of pixel j is the linearized
   |a(x) − a(x with x_j = 0)| ≈ |Σ_c x_j ∂a/∂x_j| (gradient of this iteration, x after steps 1–3);
   pixels below the given percentile are set to 0.

Targets: ``("class", k)`` the logit z_k (the unnormalized class score, as Simonyan et al. 2014
recommend: the softmax probability can also rise by lowering the other classes), ``("prob", k)`` the
softmax probability p_k, ``("map", layer, c)`` the mean of feature map c of a layer, and
``("unit", layer, index)`` a single unit (index (c, i, j) in a conv/pool layer, j in a dense layer).

Starts (the course article's table): all ones, all 0.5, all zeros, uniform random in [0, 1)
(seeded), or any image. The article iterated 10 times; its step size and exact objective are not
given (COURSE.md §7), so η, the objective and the number of steps are choices documented here.

:class:`FeatureVizSimulation` (the GUI's "Feature visualization" panel) trains or loads the CNN,
computes the activation maximization from every start at once, animates a head along the
iterations, and gives every layer's activations for an input the user picks or draws.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from nnsim.engine import cnn, digits, metrics, optimizers
from nnsim.engine._jit import njit
from nnsim.engine.base import (CONVERGED, DIVERGED, FINISHED, NOT_CONVERGED, RUNNING, ParamError,
                               Params, SimulationBase, Snapshot, param)
from nnsim.engine.cnn import CONV1, CONV2, HIDDEN, LOGITS, POOL, PROBS, RELU1, RELU2

#: the four standard starts of the course article, in its table's order
STARTS = ("ones", "half", "zeros", "random")
START_LABELS = {"ones": "all ones", "half": "all 0.5", "zeros": "all zeros", "random": "random U[0, 1)",
                "image": "your input"}
_LAYER_IDS = {"conv1": CONV1, "relu1": RELU1, "conv2": CONV2, "relu2": RELU2, "pool": POOL,
              "hidden": HIDDEN, "logits": LOGITS, "probs": PROBS}

#: regularizer sets: the four of Yosinski et al.'s Table 1 (decay, blur σ, blur every, norm and
#: contribution percentiles as in the paper; their η = 100 and 500–1000 iterations are for ImageNet
#: pixels in 0..255 and are not copied: η and the steps here suit an 8x8 digit net) plus "none"
REGULARIZER_PRESETS = {
    "none": dict(l2=0.0, blur_sigma=0.0, blur_every=0, clip_norm_pct=0.0, clip_contrib_pct=0.0),
    "yosinski1": dict(l2=0.0, blur_sigma=0.5, blur_every=4, clip_norm_pct=50.0, clip_contrib_pct=0.0),
    "yosinski2": dict(l2=0.3, blur_sigma=0.0, blur_every=0, clip_norm_pct=20.0, clip_contrib_pct=0.0),
    "yosinski3": dict(l2=0.0001, blur_sigma=1.0, blur_every=4, clip_norm_pct=0.0, clip_contrib_pct=0.0),
    "yosinski4": dict(l2=0.0, blur_sigma=0.5, blur_every=4, clip_norm_pct=0.0, clip_contrib_pct=90.0),
}


# ---- targets and starts -------------------------------------------------------------------------

def parse_target(net: cnn.ConvNet, target) -> tuple[int, int, int, str, int]:
    """(layer id, mode, flat index, label, class) for a target tuple (see the module docstring).
    ``mode`` 0 is one unit, 1 the mean of a map; ``class`` is the target class or -1."""
    if not isinstance(target, (tuple, list)) or not target:
        raise ValueError(f"target must be a tuple like ('class', 1), got {target!r}")
    kind = str(target[0])
    K = net.n_classes
    if kind in ("class", "logit", "prob"):
        if len(target) != 2:
            raise ValueError(f"{kind} target: give ('{kind}', k)")
        k = int(target[1])
        if not 0 <= k < K:
            raise ValueError(f"class {k} out of range 0..{K - 1}")
        if kind == "prob":
            return PROBS, 0, k, f"p({k})", k
        return LOGITS, 0, k, f"logit z_{k}", k
    if kind not in ("map", "unit") or len(target) != 3:
        raise ValueError(f"unknown target {target!r}; use ('class', k), ('prob', k), "
                         "('map', layer, c) or ('unit', layer, index)")
    layer = str(target[1])
    if layer not in _LAYER_IDS:
        raise ValueError(f"unknown layer {layer!r}; layers: {', '.join(net.layer_names())}")
    shape = net.layer_shape(layer)
    lid = _LAYER_IDS[layer]
    name = cnn.LAYER_LABELS[layer]
    if kind == "map":
        c = int(target[2])
        if len(shape) != 3:
            raise ValueError(f"layer {layer!r} has no feature maps; use ('unit', {layer!r}, j)")
        if not 0 <= c < shape[0]:
            raise ValueError(f"map {c} out of range 0..{shape[0] - 1} for layer {layer!r}")
        return lid, 1, c, f"mean of map {c}, {name}", -1
    idx = target[2]
    if len(shape) == 1:
        j = int(idx if np.ndim(idx) == 0 else idx[0])
        if not 0 <= j < shape[0]:
            raise ValueError(f"unit {j} out of range 0..{shape[0] - 1} for layer {layer!r}")
        cls = j if layer in ("logits", "probs") else -1
        return lid, 0, j, f"unit {j}, {name}", cls
    c, i, jj = (int(v) for v in idx)
    C, h, w = shape
    if not (0 <= c < C and 0 <= i < h and 0 <= jj < w):
        raise ValueError(f"unit {(c, i, jj)} outside the layer's (maps, rows, cols) = {shape}")
    return lid, 0, (i * w + jj) * C + c, f"unit (map {c}, row {i}, col {jj}), {name}", -1


def initial_image(net: cnn.ConvNet, init, seed: int = 0) -> np.ndarray:
    """Start image (C, H, W): "ones", "half" (all 0.5), "zeros", "random" (uniform [0, 1), seeded)
    or an array of the input's shape."""
    shape = net.in_shape
    if isinstance(init, str):
        if init == "ones":
            return np.ones(shape)
        if init == "half":
            return np.full(shape, 0.5)
        if init == "zeros":
            return np.zeros(shape)
        if init == "random":
            return np.random.default_rng(seed).random(shape)
        raise ValueError(f"unknown start {init!r}; use one of {', '.join(STARTS)} or an image array")
    x = np.asarray(init, dtype=np.float64)
    if x.shape == shape[1:] and shape[0] == 1:
        x = x[None]
    if x.shape != shape:
        raise ValueError(f"start image must have shape {shape}, got {x.shape}")
    return x.copy()


def zero_border(images, width: int = 1) -> np.ndarray:
    """A copy with the outer ``width`` rows and columns set to 0 (the article's border check)."""
    out = np.array(images, dtype=np.float64, copy=True)
    if width > 0:
        out[..., :width, :] = 0.0
        out[..., -width:, :] = 0.0
        out[..., :, :width] = 0.0
        out[..., :, -width:] = 0.0
    return out


def tile_maps(maps, ncols: int | None = None, gap: int = 1, fill: float = np.nan) -> np.ndarray:
    """Feature maps (C, h, w) tiled row-major into one 2-D image with ``gap`` pixels of ``fill``
    between tiles (Yosinski's live-activation grid; 256 maps make a 16 x 16 grid)."""
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 2:
        maps = maps[None]
    C, h, w = maps.shape
    ncols = int(ncols or math.ceil(math.sqrt(C)))
    nrows = int(math.ceil(C / ncols))
    out = np.full((nrows * h + (nrows - 1) * gap, ncols * w + (ncols - 1) * gap), fill)
    for c in range(C):
        r, q = divmod(c, ncols)
        out[r * (h + gap):r * (h + gap) + h, q * (w + gap):q * (w + gap) + w] = maps[c]
    return out


# ---- regularizers ------------------------------------------------------------------------------

def gaussian_kernel(sigma: float) -> np.ndarray:
    """Normalized 1-D Gaussian weights reaching 4σ (scipy.ndimage's default truncation); [1] for σ
    of 0."""
    if sigma <= 0:
        return np.ones(1)
    r = int(4.0 * sigma + 0.5)
    t = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


@njit
def _reflect(i, n):
    """Index i mapped into 0..n-1 by half-sample reflection (d c b a | a b c d | d c b a)."""
    period = 2 * n
    i = i % period
    if i < 0:
        i += period
    return i if i < n else period - 1 - i


@njit
def _blur(x, k):
    """Separable Gaussian blur of every channel of x (H, W, C) in place with 1-D weights k."""
    H, W, C = x.shape
    r = k.size // 2
    tmp = np.empty((H, W, C))
    for i in range(H):
        for j in range(W):
            for c in range(C):
                s = 0.0
                for t in range(k.size):
                    s += k[t] * x[i, _reflect(j + t - r, W), c]
                tmp[i, j, c] = s
    for i in range(H):
        for j in range(W):
            for c in range(C):
                s = 0.0
                for t in range(k.size):
                    s += k[t] * tmp[_reflect(i + t - r, H), j, c]
                x[i, j, c] = s


@njit
def _percentile(a, pct):
    """numpy's default ("linear") percentile of a 1-D array: sort (insertion sort: the arrays are
    images of at most a few thousand pixels, and it compiles far faster than np.percentile), then
    interpolate at rank pct/100 · (n − 1)."""
    s = a.copy()
    n = s.size
    for i in range(1, n):
        v = s[i]
        j = i - 1
        while j >= 0 and s[j] > v:
            s[j + 1] = s[j]
            j -= 1
        s[j + 1] = v
    rank = pct / 100.0 * (n - 1)
    lo = int(math.floor(rank))
    if lo >= n - 1:
        return s[n - 1]
    frac = rank - lo
    return s[lo] + (s[lo + 1] - s[lo]) * frac


@njit
def _clip_below_percentile(x, score, pct):
    """Zero every pixel (all channels) of x (H, W, C) whose score (H, W) is below the pct-th
    percentile of all scores."""
    thr = _percentile(score.ravel(), pct)
    H, W, C = x.shape
    for i in range(H):
        for j in range(W):
            if score[i, j] < thr:
                for c in range(C):
                    x[i, j, c] = 0.0


@njit
def _regularize(x, dx, decay, k, blur_now, norm_pct, contrib_pct):
    H, W, C = x.shape
    if decay != 0.0:
        f = 1.0 - decay
        for i in range(H):
            for j in range(W):
                for c in range(C):
                    x[i, j, c] *= f
    if blur_now and k.size > 1:
        _blur(x, k)
    if norm_pct > 0.0:
        score = np.empty((H, W))
        for i in range(H):
            for j in range(W):
                s = 0.0
                for c in range(C):
                    s += x[i, j, c] * x[i, j, c]
                score[i, j] = math.sqrt(s)
        _clip_below_percentile(x, score, norm_pct)
    if contrib_pct > 0.0:
        score = np.empty((H, W))
        for i in range(H):
            for j in range(W):
                s = 0.0
                for c in range(C):
                    s += x[i, j, c] * dx[i, j, c]
                score[i, j] = abs(s)
        _clip_below_percentile(x, score, contrib_pct)


def regularize(x, grad, l2=0.0, blur_sigma=0.0, blur_now=False, clip_norm_pct=0.0,
               clip_contrib_pct=0.0) -> np.ndarray:
    """The regularizer r applied once to an image x (C, H, W) whose ascent gradient is ``grad``;
    returns a new image (the kernel :func:`maximize` runs, exposed for tests and notebooks)."""
    xi = np.array(np.asarray(x, dtype=np.float64).transpose(1, 2, 0), order="C")  # a copy
    gi = np.ascontiguousarray(np.asarray(grad, dtype=np.float64).transpose(1, 2, 0))
    _regularize(xi, gi, float(l2), gaussian_kernel(blur_sigma), bool(blur_now), float(clip_norm_pct),
                float(clip_contrib_pct))
    return xi.transpose(2, 0, 1).copy()


# ---- the ascent kernel ---------------------------------------------------------------------------

@njit
def _ascend(theta, lay, x, steps, seed_layer, mode, index, seed, rid, S, hp, t0, decay, k,
            blur_every, norm_pct, contrib_pct, imgs, acts, probs, last_dx):
    """``steps`` regularized ascent iterations on x (H, W, C) in place. Row t of imgs / acts / probs
    records the image, the target activation and the class probabilities after t iterations;
    ``last_dx`` receives the last gradient ∂a/∂x computed.
    Returns the iteration at which the image stopped being finite or exceeded the divergence limit
    (its row and later ones stay as the caller filled them), or -1."""
    H, W, C = x.shape
    n = x.size
    xf = x.reshape(n)
    xp, a1, r1p, a2, r2, pooled, amax, hpre, h, z, prob = cnn._buffers(lay)
    W1T, W2T = cnn._transposed_weights(theta, lay)
    gbuf = np.zeros(lay[cnn._NP])
    dxp = np.zeros(xp.shape)
    dx = np.empty((H, W, C))
    g = np.empty(n)
    look = np.empty((H, W, C))
    p = lay[cnn._PAD]
    mu = hp[1]
    limit = optimizers.DIVERGENCE_LIMIT
    ctl = np.array([seed_layer, 0, 1])
    for t in range(steps + 1):
        cnn._forward(theta, lay, x, xp, a1, r1p, a2, r2, pooled, amax, hpre, h, z, prob)
        val = cnn._target(lay, seed_layer, mode, index, a1, a2, r2, pooled, h, z, prob, seed)
        ok = math.isfinite(val)
        for q in range(n):
            if not (abs(xf[q]) <= limit):
                ok = False
        if not ok:
            return t
        cnn._copy_flat(x, imgs[t])
        acts[t] = val
        cnn._copy_flat(prob, probs[t])
        if t == steps:
            break
        if rid == optimizers.NESTEROV:  # the gradient at the look-ahead point x + μv
            lf = look.reshape(n)
            for q in range(n):
                lf[q] = xf[q] + mu * S[0, q]
            cnn._forward(theta, lay, look, xp, a1, r1p, a2, r2, pooled, amax, hpre, h, z, prob)
            cnn._target(lay, seed_layer, mode, index, a1, a2, r2, pooled, h, z, prob, seed)
        dxp.fill(0.0)
        cnn._backward(theta, lay, ctl, seed, xp, a1, r1p, a2, pooled, amax, hpre, h, prob,
                      W1T, W2T, gbuf, dxp)
        for i in range(H):
            for j in range(W):
                for c in range(C):
                    dx[i, j, c] = dxp[i + p, j + p, c]
        for i in range(H):
            for j in range(W):
                for c in range(C):
                    last_dx[i, j, c] = dx[i, j, c]
        dxf = dx.reshape(n)
        for q in range(n):
            g[q] = -dxf[q]  # ascent: the rules descend along g
        optimizers.rule_step(rid, xf, g, S, hp, t0 + t + 1)
        blur_now = blur_every > 0 and (t + 1) % blur_every == 0
        _regularize(x, dx, decay, k, blur_now, norm_pct, contrib_pct)
    return -1


def maximize(net: cnn.ConvNet, target=("class", 1), init="zeros", steps: int = 10, lr: float = 0.1,
             l2: float = 0.0, blur_sigma: float = 0.0, blur_every: int = 0, clip_norm_pct: float = 0.0,
             clip_contrib_pct: float = 0.0, seed: int = 0, optimizer: str = "sgd", **hyper):
    """Maximize ``target`` over the input by regularized gradient ascent (module docstring).

    ``init`` is "ones", "half", "zeros", "random" (uniform [0, 1) drawn with ``seed``) or an image
    (C, H, W). ``optimizer`` and ``hyper`` choose the update rule (η = ``lr``). Returns ``(image,
    history)``: the final image (C, H, W) and a dict with ``images`` (steps + 1, C, H, W) (row t
    after t iterations), ``activation`` (steps + 1,), ``probs`` (steps + 1, n_classes),
    ``diverged_at`` (the first iteration whose image was not finite or beyond 1e8, else -1; later
    rows are NaN and the image returned is the last finite one), ``label`` and ``target_class``
    (-1 for a map or unit).
    """
    lid, mode, index, label, cls = parse_target(net, target)
    steps = int(steps)
    if steps < 0:
        raise ValueError("steps must be >= 0")
    for name, v, lo, hi in (("l2", l2, 0.0, 1.0), ("blur_sigma", blur_sigma, 0.0, 50.0),
                            ("clip_norm_pct", clip_norm_pct, 0.0, 100.0),
                            ("clip_contrib_pct", clip_contrib_pct, 0.0, 100.0)):
        if not lo <= float(v) <= hi:
            raise ValueError(f"{name} = {v} outside [{lo}, {hi}]")
    if optimizer == "newton":
        raise ValueError("Newton's method needs the Hessian; choose a first-order rule")
    x0 = initial_image(net, init, seed)
    rule = optimizers.make_rule(optimizer, x0.size, lr=lr, **hyper)
    return _run(net, lid, mode, index, label, cls, x0, steps, rule, l2, blur_sigma, blur_every,
                clip_norm_pct, clip_contrib_pct)


def _run(net, lid, mode, index, label, cls, x0, steps, rule, l2, blur_sigma, blur_every,
         clip_norm_pct, clip_contrib_pct):
    C, H, W = net.in_shape
    x = np.array(x0.transpose(1, 2, 0), order="C")  # a copy: the kernel works in place
    imgs = np.full((steps + 1, H, W, C), np.nan)
    acts = np.full(steps + 1, np.nan)
    probs = np.full((steps + 1, net.n_classes), np.nan)
    seed_buf = np.zeros(cnn.layer_size(net.lay, lid))
    div = _ascend(net.theta, net.lay, x, steps, lid, mode, index, seed_buf, rule.rid, rule.S,
                  rule.hp, rule.t, float(l2), gaussian_kernel(blur_sigma), int(blur_every),
                  float(clip_norm_pct), float(clip_contrib_pct), imgs, acts, probs, np.zeros_like(x))
    rule.t += steps if div < 0 else div
    last = steps if div < 0 else max(div - 1, 0)
    images = imgs.transpose(0, 3, 1, 2)
    hist = {"images": images, "activation": acts, "probs": probs, "diverged_at": int(div),
            "label": label, "target_class": int(cls)}
    final = images[last].copy() if np.all(np.isfinite(images[last])) else x0.copy()
    return final, hist


def value_and_grad(net: cnn.ConvNet, x, seed_layer: int, mode: int, index: int,
                   want_grad: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
    """(a(x), ∂a/∂x (C, H, W), class probabilities) for one input x (C, H, W): one iteration of the
    ascent kernel with its own throw-away rule. See :func:`cnn.input_value_and_grad`."""
    x = initial_image(net, x)
    xi = np.array(x.transpose(1, 2, 0), order="C")
    C, H, W = net.in_shape
    steps = 1 if want_grad else 0
    imgs = np.full((steps + 1, H, W, C), np.nan)
    acts = np.full(steps + 1, np.nan)
    probs = np.full((steps + 1, net.n_classes), np.nan)
    dx = np.zeros_like(xi)
    rule = optimizers.make_rule("sgd", xi.size, lr=0.0)
    div = _ascend(net.theta, net.lay, xi, steps, int(seed_layer), int(mode), int(index),
                  np.zeros(cnn.layer_size(net.lay, seed_layer)), rule.rid, rule.S, rule.hp, 0, 0.0,
                  np.ones(1), 0, 0.0, 0.0, imgs, acts, probs, dx)
    if div == 0:
        return float("nan"), np.full(x.shape, np.nan), np.full(net.n_classes, np.nan)
    return float(acts[0]), dx.transpose(2, 0, 1).copy(), probs[0].copy()


def four_starts(net: cnn.ConvNet, target=("class", 1), seed: int = 0, image=None, **kwargs) -> dict:
    """:func:`maximize` from all ones, all 0.5, all zeros and random (and ``image`` if given, under
    the key "image"). Returns start name → (image, history)."""
    out = {}
    for name in STARTS:
        out[name] = maximize(net, target, init=name, seed=seed, **kwargs)
    if image is not None:
        out["image"] = maximize(net, target, init=image, seed=seed, **kwargs)
    return out


def warmup() -> None:
    """Compile (or load from the cache) the ascent kernels on a tiny network."""
    net = cnn.ConvNet(seed=0, in_shape=(1, 6, 6), maps=(2, 2), hidden=3)
    maximize(net, ("class", 1), init="random", steps=2, lr=0.1, l2=0.1, blur_sigma=0.5, blur_every=1,
             clip_norm_pct=10.0, clip_contrib_pct=10.0)
    maximize(net, ("map", "conv2", 0), init="zeros", steps=1, optimizer="nesterov")
    regularize(np.ones((1, 4, 4)), np.ones((1, 4, 4)), 0.1, 0.5, True, 10.0, 10.0)


# ---- the simulation behind the "Feature visualization" panel --------------------------------------

_FIRST_ORDER = tuple((r, optimizers.RULE_LABELS[r]) for r in optimizers.RULES if r != "newton")
_LAYER_CHOICES = (("conv1", "conv 1 (pre-ReLU)"), ("relu1", "conv 1 + ReLU"),
                  ("conv2", "conv 2 (pre-ReLU)"), ("relu2", "conv 2 + ReLU"),
                  ("pool", "max-pool"), ("hidden", "dense hidden"))
#: the train/test split of the digits is fixed (the shipped weights never saw the test images)
SPLIT_SEED = 1
TEST_FRACTION = 0.2
#: a finished training whose test accuracy is within this of guessing is said to have learned nothing
CHANCE_MARGIN = 0.05

PRESET_LABELS = {"none": "none (plain gradient ascent)", "yosinski1": "Yosinski 1: blur + small-norm clip",
                 "yosinski2": "Yosinski 2: strong L2 decay + small-norm clip",
                 "yosinski3": "Yosinski 3: blur + weak decay (the paper's most used)",
                 "yosinski4": "Yosinski 4: blur + small-contribution clip"}


@dataclass(frozen=True)
class FeatureVizParams(Params):
    dataset: str = param(
        "digits", label="Data", group="Network ⟲",
        choices=(("digits", "8×8 digits (scikit-learn)"), ("file", "file (File > Open data…)")),
        help="scikit-learn's 1797 bundled 8×8 digits (a fixed, stratified 80/20 train/test split), or "
             "MNIST IDX files / an image CSV you opened with File > Open data…. Nothing is downloaded.")
    maps1: int = param(16, label="Conv 1 maps C1", lo=1, hi=32, group="Network ⟲",
                       help="3×3 filters of the first conv layer: (3²·1 + 1)·C1 weights. The course "
                            "article's MNIST net has 32.")
    maps2: int = param(32, label="Conv 2 maps C2", lo=1, hi=64, group="Network ⟲",
                       help="3×3×C1 filters of the second conv layer: (3²·C1 + 1)·C2 weights (the "
                            "article: 64).")
    hidden: int = param(0, label="Dense hidden units", lo=0, hi=256, group="Network ⟲",
                        help="Width of a dense ReLU layer between the pool and the 10 outputs; 0 "
                             "connects the pool straight to the outputs.")
    padding: int = param(0, label="Padding", group="Network ⟲",
                         choices=((0, "valid (8→6→4→2)"), (1, "same (8→8→8→4)")),
                         help="Output size (n + 2p − k)/s + 1 with k = 3, s = 1: p = 0 shrinks each "
                              "map by 2, p = 1 (a ring of zeros) keeps its size.")
    pretrained: bool = param(True, label="Shipped weights", group="Network ⟲",
                             help="Start from the pre-trained 8×8-digit weights shipped with nnsim "
                                  "(when the architecture is the default one); otherwise the network "
                                  "starts untrained and Play trains it.")
    max_train: int = param(10000, label="Max training images", lo=100, hi=100000, group="Network ⟲",
                           help="A large file (MNIST: 60000) is subsampled to this many training "
                                "images so that an epoch stays short.")
    optimizer: str = param("adam", label="Update rule", choices=_FIRST_ORDER, live=True, group="Training",
                           help="One of the shared update rules (Optimizers panel). Adam: "
                                "θ ← θ − η ŝ / (√r̂ + ε).")
    lr: float = param(0.003, label="Learning rate η", lo=1e-5, hi=10.0, log=True, decimals=5, live=True,
                      group="Training", help="Step size of the update rule.")
    batch_size: int = param(32, label="Mini-batch size", lo=1, hi=1024, live=True, group="Training",
                            help="Samples per update; one step while training = one mini-batch.")
    epochs: int = param(15, label="Epochs", lo=1, hi=1000, live=True, group="Training",
                        help="Training stops after this many passes over the training images.")
    target_kind: str = param(
        "class", label="Maximize", live=True, group="Activation maximization",
        choices=(("class", "class logit z_k"), ("prob", "class probability p_k"),
                 ("map", "feature map (mean)"), ("unit", "one unit")),
        help="a(x): the logit z_k (Simonyan et al.'s choice), the softmax p_k, the mean of one "
             "feature map, or one unit.")
    target_class: int = param(1, label="Class k", lo=0, hi=9, live=True, group="Activation maximization",
                              help="The class whose score is maximized (the article: \"1\", then \"2\").")
    target_layer: str = param("conv2", label="Layer", choices=_LAYER_CHOICES, live=True,
                              group="Activation maximization",
                              help="Layer of the feature map or unit (for those targets).")
    target_map: int = param(0, label="Map / unit index", lo=0, hi=255, live=True,
                            group="Activation maximization",
                            help="Feature map (channel) of a conv/pool layer, or unit of the dense layer.")
    unit_row: int = param(1, label="Unit row", lo=0, hi=27, live=True, group="Activation maximization",
                          help="Row of the unit inside its feature map (clamped to the map).")
    unit_col: int = param(1, label="Unit column", lo=0, hi=27, live=True, group="Activation maximization",
                          help="Column of the unit inside its feature map (clamped to the map).")
    am_steps: int = param(10, label="Iterations", lo=1, hi=5000, live=True, group="Activation maximization",
                          help="Gradient-ascent steps (the article: 10, \"the input did not "
                               "significantly improve after 10 iterations\").")
    am_lr: float = param(0.1, label="Ascent rate η", lo=1e-5, hi=1000.0, log=True, decimals=5, live=True,
                         group="Activation maximization", help="x ← r(x + η ∂a/∂x) (with plain ascent).")
    am_optimizer: str = param("sgd", label="Ascent rule", choices=_FIRST_ORDER, live=True,
                              group="Activation maximization",
                              help="SGD = plain gradient ascent x ← x + η ∂a/∂x; the other shared rules "
                                   "ascend with their own step.")
    l2: float = param(0.0, label="L2 decay θ_decay", lo=0.0, hi=1.0, decimals=4, live=True,
                      group="Regularizers (Yosinski et al.)",
                      help="x ← (1 − θ_decay) x after every step: no few extreme pixels.")
    blur_sigma: float = param(0.0, label="Blur σ", lo=0.0, hi=5.0, decimals=2, unit="px", live=True,
                              group="Regularizers (Yosinski et al.)",
                              help="Gaussian blur (std σ pixels) every k steps: removes high "
                                   "frequencies. 0 = off.")
    blur_every: int = param(4, label="Blur every k steps", lo=1, hi=1000, live=True,
                            group="Regularizers (Yosinski et al.)", help="Blur after steps k, 2k, 3k, …")
    clip_norm_pct: float = param(0.0, label="Clip small norm", lo=0.0, hi=100.0, decimals=1,
                                 unit="%", live=True, group="Regularizers (Yosinski et al.)",
                                 help="Pixels whose norm ‖x_j‖ is below this percentile are set to 0.")
    clip_contrib_pct: float = param(0.0, label="Clip small contrib.", lo=0.0, hi=100.0,
                                    decimals=1, unit="%", live=True, group="Regularizers (Yosinski et al.)",
                                    help="Pixels whose contribution |x_j ∂a/∂x_j| (≈ |a(x) − a(x with "
                                         "x_j = 0)|) is below this percentile are set to 0.")


#: parameters that change the network or its data (everything else keeps the trained weights)
_STRUCTURAL = ("dataset", "maps1", "maps2", "hidden", "padding", "pretrained", "max_train")
_TRAINING = ("optimizer", "lr", "batch_size", "epochs")

PHASE_TRAIN, PHASE_READY = "train", "ready"


@dataclass(frozen=True, eq=False, kw_only=True)
class FeatureVizSnapshot(Snapshot):
    params: FeatureVizParams
    phase: str                      # "train" (Play trains) or "ready" (Play animates the ascent)
    source: str                     # where the weights come from
    data_name: str
    in_shape: tuple                 # (C, H, W)
    n_classes: int
    n_train: int
    n_test: int
    class_mean: np.ndarray          # (K, H, W) per-class pixel mean of the training images
    class_std: np.ndarray           # (K, H, W) per-class pixel standard deviation
    epochs_done: int
    epochs_total: int
    batch_in_epoch: int
    batches_per_epoch: int
    batch_loss: np.ndarray          # (b,) mean loss of every mini-batch so far
    epoch_train_loss: np.ndarray    # (e,) per epoch (measured during the pass)
    epoch_train_acc: np.ndarray
    epoch_test_loss: np.ndarray
    epoch_test_acc: np.ndarray
    test_accuracy: float            # of the current weights (NaN while not measured)
    n_params: int
    layer_shapes: dict              # layer name -> per-sample shape (channels-first)
    filters: np.ndarray             # (C1, C_in, 3, 3)
    theta: np.ndarray               # all weights (for File > Save weights)
    net_config: dict
    am_starts: tuple                # start names ("ones", "half", "zeros", "random", "image")
    am_head: int
    am_steps: int
    am_label: str                   # the target, in words
    am_class: int                   # target class, or -1 for a map / unit
    am_images: np.ndarray           # (S, C, H, W) at the head
    am_activation: np.ndarray       # (S, steps + 1) target activation per iteration
    am_confidence: np.ndarray       # (S, steps + 1) p(target class), or p(predicted class)
    am_head_probs: np.ndarray       # (S, K) class probabilities of the head images
    am_border_probs: np.ndarray     # (S, K) the same with the outer border zeroed
    am_diverged_at: np.ndarray      # (S,) iteration where a start diverged, or -1
    input_image: np.ndarray         # (C, H, W) what the live view shows
    input_label: int                # its label, or -1 for a drawing
    input_source: str
    test_index: int
    activations: dict               # layer name -> (C, h, w) or (n,) for the input
    input_probs: np.ndarray         # (K,)
    test_confusion: np.ndarray      # (K, K) held-out test images: row = true digit, column = predicted
    confusion_note: str             # which weights it counts ("after epoch 3", "current weights", …)


class FeatureVizSimulation(SimulationBase):
    """Train (or load) the CNN, maximize an activation from every start, show live activations.

    While the network is untrained (phase "train") one step is one mini-batch; training stops after
    ``epochs`` (status "converged", with the test accuracy). Once trained (phase "ready") the ascent
    from every start is computed at once whenever a parameter or the network changes, and one step
    moves the animation head one iteration (at the last iteration, Play and Step replay from 0).
    The confusion matrix of the held-out test images (:mod:`nnsim.engine.metrics`) is counted from
    the same forward pass as the test accuracy, at the end of every epoch, and once for untrained,
    shipped or loaded weights; the snapshot says which (``confusion_note``).
    """

    params_class = FeatureVizParams
    kernel_modules = ("nnsim.engine.cnn", "nnsim.engine.actmax")

    def __init__(self, params: FeatureVizParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self._file_data: digits.ImageSet | None = None
        self._input_index = 0
        self.reset(self.seed)

    # ---- data and network ---------------------------------------------------------------------
    def _load_data(self):
        p = self.params
        if p.dataset == "file":
            if self._file_data is None:
                raise ParamError("No data file is loaded: use File > Open data… (MNIST IDX files or an "
                                 "image CSV), or choose the 8×8 digits.")
            data = self._file_data
        else:
            data = digits.load_digits()
        if data.test_images is not None:
            Xtr, ytr, Xte, yte = data.images, data.labels, data.test_images, data.test_labels
        else:
            tr, te = digits.stratified_split(data.labels, TEST_FRACTION, SPLIT_SEED)
            Xtr, ytr, Xte, yte = data.images[tr], data.labels[tr], data.images[te], data.labels[te]
        if len(ytr) > p.max_train:
            keep = np.sort(np.random.default_rng(SPLIT_SEED).permutation(len(ytr))[:p.max_train])
            Xtr, ytr = Xtr[keep], ytr[keep]
        return data, Xtr, ytr, Xte, yte

    def _new_net(self) -> cnn.ConvNet:
        p = self.params
        return cnn.ConvNet(seed=self.seed, in_shape=self._in_shape, maps=(p.maps1, p.maps2),
                           hidden=p.hidden, n_classes=self._K, padding=p.padding,
                           optimizer=p.optimizer, batch_size=p.batch_size, lr=p.lr)

    def reset(self, seed: int) -> None:
        self.seed = int(seed)
        p = self.params
        data, Xtr, ytr, Xte, yte = self._load_data()
        self._data_name = data.name
        self._K = data.n_classes
        H, W = data.shape
        self._in_shape = (1, H, W)
        try:
            self.net = self._new_net()
        except ValueError as exc:
            raise ParamError(str(exc)) from None
        self._Xtr = self.net.to_internal(Xtr)
        self._ytr = np.ascontiguousarray(ytr, dtype=np.int64)
        self._Xte_raw = np.asarray(Xte, dtype=np.float64)
        self._yte = np.asarray(yte, dtype=np.int64)
        self._class_mean, self._class_std = digits.class_pixel_std(Xtr, ytr, self._K)
        self._input_index = min(self._input_index, len(self._yte) - 1)
        self._set_test_input(self._input_index)
        self._noise_rng = np.random.default_rng(self.seed + 1)
        self._start_training_state()
        self._source = "untrained (He initialization, seed %d)" % self.seed
        shipped = self._shipped_weights() if p.pretrained and p.dataset == "digits" else None
        if shipped is not None:
            self.net.theta[:] = shipped.theta
            self.net.epochs_trained = shipped.epochs_trained
            for key in self._hist:  # the curves recorded when the weights were made
                if f"hist_{key}" in shipped.meta:
                    self._hist[key] = [float(v) for v in shipped.meta[f"hist_{key}"]]
            if "hist_batch_loss" in shipped.meta:
                self._batch_loss = [float(v) for v in shipped.meta["hist_batch_loss"]]
            self._epoch = len(self._hist["test_acc"])
            acc = float(shipped.meta.get("test_accuracy", np.nan))
            self._source = (f"shipped pre-trained weights ({shipped.epochs_trained} epochs, test "
                            f"accuracy {100 * acc:.1f} %)")
            self._finish_training(announce=False, note="shipped pre-trained weights")
        else:
            self._measure_untrained()
            self._phase = PHASE_TRAIN
            self.step_count = 0
            self._am = None
            self._update_status()

    def _shipped_weights(self):
        path = cnn.PRETRAINED_DIGITS
        if not path.is_file():
            return None
        try:
            net = cnn.ConvNet.load(path)
        except ValueError:
            return None
        return net if net.config() == self.net.config() else None

    def _start_training_state(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._order = np.empty(0, np.int64)
        self._pos = 0
        self._epoch = 0
        # scratch for train_batch; zeroed, not np.empty: it is part of a saved state, and
        # uninitialised memory may hold NaN bit patterns that the state check rightly refuses
        self._grad = np.zeros(self.net.n_params)
        self._batch_loss: list[float] = []
        self._ep_sum = [0.0, 0, 0]  # summed loss, correct, samples in the current epoch
        self._hist = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
        self._test_acc = float("nan")
        self._t_train = 0.0
        self._diverged = False
        self._confusion = None  # (K, K) test-set counts of the weights named by _confusion_note
        self._confusion_note = ""

    def _set_confusion(self, pred, note: str) -> None:
        self._confusion = metrics.confusion_matrix(self._yte, pred, self._K)
        self._confusion_note = note

    def _measure_untrained(self) -> None:
        """The confusion matrix of freshly initialized weights (what training starts from)."""
        self._set_confusion(self.net.predict(self._Xte_raw[:, None]), "untrained (before the first epoch)")

    def retrain(self) -> None:
        """Forget the weights: a fresh He initialization (the seed's) and Play trains again."""
        self.net = self._new_net()
        self._source = "training from scratch (He initialization, seed %d)" % self.seed
        self._start_training_state()
        self._measure_untrained()
        self._phase = PHASE_TRAIN
        self.step_count = 0
        self._am = None
        self._update_status()

    def set_data(self, data: digits.ImageSet) -> None:
        """Use images loaded from a file (the panel reads the file); the network starts untrained."""
        if not isinstance(data, digits.ImageSet):
            raise ParamError("set_data expects an ImageSet from nnsim.engine.digits")
        self._file_data = data
        self._input_index = 0
        if self.params.dataset != "file":
            self.params = self.params.replace(dataset="file")
        self.reset(self.seed)

    def use_network(self, config: dict, theta, source: str) -> None:
        """Adopt weights (from File > Load weights): the architecture parameters follow the file."""
        if tuple(config["in_shape"]) != self._in_shape or int(config["n_classes"]) != self._K:
            raise ParamError(f"these weights expect {config['in_shape'][1]}×{config['in_shape'][2]} inputs "
                             f"and {config['n_classes']} classes; the data are "
                             f"{self._in_shape[1]}×{self._in_shape[2]} with {self._K} classes")
        maps = tuple(config["maps"])
        self.params = self.params.replace(maps1=int(maps[0]), maps2=int(maps[1]),
                                          hidden=int(config["hidden"]), padding=int(config["padding"]))
        self.net = self._new_net()
        self.net.theta[:] = np.asarray(theta, dtype=np.float64)
        self._start_training_state()
        self._source = source
        self._finish_training(announce=False, note=source)

    # ---- parameters ----------------------------------------------------------------------------
    def set_params(self, params: FeatureVizParams) -> bool:
        params = params.validate()
        old = self.params
        self.params = params
        if any(getattr(old, n) != getattr(params, n) for n in _STRUCTURAL):
            self.reset(self.seed)
            return False
        if any(getattr(old, n) != getattr(params, n) for n in _TRAINING):
            self._update_rule(old)
        am_changed = any(getattr(old, n) != getattr(params, n) for n in params.to_dict()
                         if n not in _STRUCTURAL and n not in _TRAINING)
        if self._phase == PHASE_READY and am_changed:
            self._compute_am()
        elif self._phase == PHASE_TRAIN and self._epoch >= params.epochs and self._epoch > 0:
            self._finish_training(announce=True)
        self._update_status()
        return True

    def _update_rule(self, old: FeatureVizParams) -> None:
        p = self.params
        self.net.batch_size = p.batch_size
        if p.optimizer != old.optimizer or p.lr != old.lr:
            rule = self.net.rule
            self.net.set_optimizer(p.optimizer, lr=p.lr)
            if p.optimizer == old.optimizer:  # only η changed: keep the rule's state (moments etc.)
                self.net.rule.S[:] = rule.S
                self.net.rule.t = rule.t

    # ---- stepping ------------------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        self.advance(n)

    def advance(self, n: int) -> int:
        """Train up to ``n`` mini-batches (stopping exactly at the end of training or at a divergence)
        or move the ascent's animation head ``n`` iterations (replaying from 0 at the end)."""
        n = int(n)
        if n < 0:
            raise ValueError("step count must be non-negative")
        if n == 0:
            return 0
        if self._phase == PHASE_TRAIN:
            if self._diverged:  # Play after a divergence: start again with the current settings
                self.retrain()
            return self._train(n)
        steps = self._am["steps"]
        stop = self._am_stop()
        if self.step_count >= stop:
            self.step_count = 0
        target = min(self.step_count + n, stop)
        taken = target - self.step_count
        self.step_count = target
        self._update_status()
        return taken

    def seek(self, head: int) -> None:
        """Put the animation head at iteration ``head`` (the panel's scrubber)."""
        if self._phase == PHASE_READY:
            self.step_count = int(np.clip(head, 0, self._am["steps"]))
            self._update_status()

    def _train(self, n: int) -> int:
        p = self.params
        net = self.net
        m = len(self._ytr)
        t0 = time.perf_counter()
        done = 0
        while done < n:
            if self._pos == 0:
                self._order = self._rng.permutation(m).astype(np.int64)
            idx = self._order[self._pos:self._pos + p.batch_size]
            loss, correct = net.train_batch(self._Xtr, self._ytr, idx, self._grad)
            done += 1
            self.step_count += 1
            self._batch_loss.append(loss / len(idx))
            self._ep_sum[0] += loss
            self._ep_sum[1] += correct
            self._ep_sum[2] += len(idx)
            self._pos += len(idx)
            if net.diverged(loss):
                self._diverged = True
                break
            if self._pos >= m:
                self._end_epoch()
                if self._epoch >= p.epochs:
                    self._t_train += time.perf_counter() - t0
                    self._finish_training(announce=True)
                    return done
        self._t_train += time.perf_counter() - t0
        self._update_status()
        return done

    def _end_epoch(self) -> None:
        s, c, k = self._ep_sum
        self._hist["train_loss"].append(s / max(k, 1))
        self._hist["train_acc"].append(c / max(k, 1))
        tl, ta, pred = self.net.scores(self._Xte_raw[:, None], self._yte)
        self._hist["test_loss"].append(tl)
        self._hist["test_acc"].append(ta)
        self._test_acc = ta
        self._epoch += 1
        self._set_confusion(pred, f"after epoch {self._epoch}")
        self.net.epochs_trained += 1
        self._pos = 0
        self._ep_sum = [0.0, 0, 0]

    def _finish_training(self, announce: bool, note: str = "current weights") -> None:
        """Training is over (or weights were adopted): measure what is not measured yet, compute the
        activation maximization; ``note`` names the weights in the confusion matrix if it is new."""
        self._phase = PHASE_READY
        if not self._hist["test_acc"] or not math.isfinite(self._test_acc) or self._confusion is None:
            _, acc, pred = self.net.scores(self._Xte_raw[:, None], self._yte)
            if not self._hist["test_acc"] or not math.isfinite(self._test_acc):
                self._test_acc = acc
            if self._confusion is None:
                self._set_confusion(pred, note)
        self._compute_am()
        self._announce = announce
        if announce:
            self._source = (f"trained here ({self._epoch} epochs, {self.params.optimizer}, η = "
                            f"{self.params.lr:g}, seed {self.seed})")
        self._update_status()

    # ---- activation maximization ---------------------------------------------------------------
    def _target_tuple(self):
        p = self.params
        K = self._K
        if p.target_kind in ("class", "prob"):
            return (p.target_kind, min(p.target_class, K - 1))
        layer = p.target_layer
        if layer == "hidden" and not self.net.hidden:
            layer = "pool"
        shape = self.net.layer_shape(layer)
        c = min(p.target_map, shape[0] - 1)
        if p.target_kind == "map" and len(shape) == 3:
            return ("map", layer, c)
        if len(shape) == 1:
            return ("unit", layer, c)
        return ("unit", layer, (c, min(p.unit_row, shape[1] - 1), min(p.unit_col, shape[2] - 1)))

    def _compute_am(self) -> None:
        p = self.params
        target = self._target_tuple()
        lid, mode, index, label, cls = parse_target(self.net, target)
        starts = STARTS + ("image",)
        runs = {}
        for name in starts:
            runs[name] = self._am_run(name, lid, mode, index, label, cls)
        self._am = {"runs": runs, "starts": starts, "steps": int(p.am_steps), "label": label,
                    "class": cls, "target": (lid, mode, index, label, cls)}
        self.step_count = self._am_stop()

    def _am_run(self, start, lid, mode, index, label, cls):
        p = self.params
        x0 = self._input.copy() if start == "image" else initial_image(self.net, start, self.seed)
        rule = optimizers.make_rule(p.am_optimizer, x0.size, lr=p.am_lr)
        blur_every = p.blur_every if p.blur_sigma > 0 else 0
        return _run(self.net, lid, mode, index, label, cls, x0, int(p.am_steps), rule, p.l2,
                    p.blur_sigma, blur_every, p.clip_norm_pct, p.clip_contrib_pct)[1]

    def _am_stop(self) -> int:
        """The last iteration the head can reach: the end, or where every start has diverged."""
        steps = self._am["steps"]
        divs = [r["diverged_at"] for r in self._am["runs"].values()]
        if all(d >= 0 for d in divs):
            return min(steps, max(divs))
        return steps

    # ---- live input ------------------------------------------------------------------------------
    def _set_test_input(self, index: int) -> None:
        self._input_index = int(index) % max(len(self._yte), 1)
        self._input = self._Xte_raw[self._input_index][None].copy()
        self._input_label = int(self._yte[self._input_index])
        self._input_source = f"test image #{self._input_index} (label {self._input_label})"

    def _input_changed(self) -> None:
        if self._phase == PHASE_READY and self._am is not None:
            lid, mode, index, label, cls = self._am["target"]
            self._am["runs"]["image"] = self._am_run("image", lid, mode, index, label, cls)
            self.step_count = min(self.step_count, self._am_stop())
        self._update_status()

    def pick_test(self, index: int) -> None:
        """Show test image ``index`` (modulo the test-set size)."""
        self._set_test_input(index)
        self._input_changed()

    def set_input(self, image) -> None:
        """Show a drawn image (H, W) or (1, H, W) with values in [0, 1] (clipped)."""
        x = np.asarray(image, dtype=np.float64)
        if x.ndim == 2:
            x = x[None]
        if x.shape != self._in_shape:
            raise ParamError(f"a drawing must be {self._in_shape[1]}×{self._in_shape[2]} pixels, got {x.shape}")
        self._input = np.clip(np.nan_to_num(x), 0.0, 1.0)
        self._input_label = -1
        self._input_source = "your drawing"
        self._input_changed()

    def add_noise(self, sigma: float = 0.15) -> None:
        """Add Gaussian noise N(0, σ²) to the input (clipped to [0, 1]; drawn from the seed)."""
        self._input = np.clip(self._input + float(sigma) * self._noise_rng.standard_normal(self._input.shape),
                              0.0, 1.0)
        self._input_source += f" + noise σ = {float(sigma):g}"
        self._input_changed()

    def check_state(self, state: dict) -> None:
        """As the base class; a state saved before the confusion matrix existed lacks it (set_state
        measures it on the restored weights)."""
        from nnsim.engine.state import check_like

        reference = self.get_state()
        if isinstance(state, dict) and state.get("_confusion") is None:
            reference.update(_confusion=None, _confusion_note=None)
        check_like(reference, state, self.state_growing)

    def set_state(self, params, state: dict) -> None:
        """As the base class; a state saved before the confusion matrix existed gets it measured
        on the restored weights."""
        state = dict(state)
        old = "_confusion" not in state
        state.setdefault("_confusion", None)
        state.setdefault("_confusion_note", "")
        super().set_state(params, state)
        if old or self._confusion is None:
            self._set_confusion(self.net.predict(self._Xte_raw[:, None]), "current weights")

    # ---- status and snapshot ---------------------------------------------------------------------
    def watch_value(self) -> float | None:
        """While training: the latest epoch-mean training loss (the thick "training (epoch mean)"
        curve of the loss plot, updated at the end of every epoch), so a "stop when ≤ target"
        condition pauses at the end of the epoch that reached it. None before the first epoch of this
        training and during the activation-maximization phase."""
        if self._phase != PHASE_TRAIN or not self._hist["train_loss"]:
            return None
        return float(self._hist["train_loss"][-1])

    def _update_status(self) -> None:
        p = self.params
        if self._phase == PHASE_TRAIN:
            if self._diverged:
                self.status = DIVERGED
                self.message = (f"Training diverged in epoch {self._epoch + 1} (the loss or a weight is "
                                f"no longer finite or beyond 1e8). Lower the learning rate η (now {p.lr:g}); Play "
                                "starts again from scratch.")
            elif self.step_count == 0:
                self.status = RUNNING
                self.message = (f"The network is untrained: press Play to train it ({p.epochs} epochs of "
                                f"{len(self._ytr)} images, mini-batches of {p.batch_size}).")
            else:
                self.status, self.message = RUNNING, ""
            return
        am = self._am
        head, steps = self.step_count, am["steps"]
        divs = [(START_LABELS[s], r["diverged_at"]) for s, r in am["runs"].items()
                if 0 <= r["diverged_at"] <= head]
        div_text = "; ".join(f"from {s} at iteration {d}" for s, d in divs)
        if getattr(self, "_announce", False):
            self._announce = False
            chance = 1.0 / max(2, len(np.unique(self._yte)))
            if self._test_acc <= chance + CHANCE_MARGIN:
                self.status = NOT_CONVERGED
                self.message = (f"Training ended at chance level after {self._epoch} epochs: test accuracy "
                                f"{100 * self._test_acc:.1f} %, where guessing gives {100 * chance:.0f} %. "
                                f"The network learned nothing; usually the learning rate η (now "
                                f"{self.params.lr:g}) is far too high or too low. Change it and press Reset. "
                                "The activation maximization below uses this untrained network.")
            else:
                self.status = CONVERGED
                self.message = (f"Training finished after {self._epoch} epochs ({self._t_train:.1f} s): "
                                f"test accuracy {100 * self._test_acc:.1f} % on {len(self._yte)} held-out "
                                "images. The activation maximization below now uses this network; Play "
                                "animates it.")
        elif len(divs) == len(am["runs"]):
            self.status = DIVERGED
            self.message = (f"The ascent diverged from every start ({div_text}): the image became "
                            "non-finite or beyond 1e8. Lower the ascent rate η.")
        elif head >= steps:
            self.status = FINISHED
            self.message = self._am_summary() + (f" Diverged: {div_text}." if divs else "")
        else:
            self.status = RUNNING
            self.message = f"Diverged: {div_text}." if divs else ""

    def _am_summary(self) -> str:
        am = self._am
        k = am["class"]
        parts = []
        for s in STARTS:
            r = am["runs"][s]
            if r["diverged_at"] >= 0:
                continue
            conf = r["probs"][am["steps"], k] if k >= 0 else r["probs"][am["steps"]].max()
            parts.append(f"{START_LABELS[s]} {conf:.5f}")
        what = f"p({k})" if k >= 0 else "top-class probability"
        return (f"{am['steps']} ascent iterations on {am['label']}; {what} of the results: "
                + ", ".join(parts) + ".")

    def snapshot(self) -> FeatureVizSnapshot:
        net = self.net
        K = self._K
        acts = net.activations(self._input[None])
        activations = {name: a[0].copy() for name, a in acts.items()}
        am = self._am
        head = self.step_count
        C, H, W = self._in_shape
        if am is not None:
            starts = am["starts"]
            runs = [am["runs"][s] for s in starts]
            imgs = np.stack([r["images"][min(head, am["steps"])] for r in runs])
            finite = np.all(np.isfinite(imgs.reshape(len(runs), -1)), axis=1)
            safe = np.where(finite[:, None, None, None], imgs, 0.0)
            head_probs = net.predict_proba(safe)
            border_probs = net.predict_proba(zero_border(safe))
            head_probs[~finite] = np.nan
            border_probs[~finite] = np.nan
            act = np.stack([r["activation"] for r in runs])
            probs = np.stack([r["probs"] for r in runs])
            k = am["class"]
            conf = probs[:, :, k] if k >= 0 else np.nanmax(probs, axis=2)
            am_fields = dict(am_starts=starts, am_head=min(head, am["steps"]), am_steps=am["steps"],
                             am_label=am["label"], am_class=k, am_images=imgs, am_activation=act,
                             am_confidence=conf, am_head_probs=head_probs, am_border_probs=border_probs,
                             am_diverged_at=np.array([r["diverged_at"] for r in runs]))
        else:
            am_fields = dict(am_starts=(), am_head=0, am_steps=0, am_label="", am_class=-1,
                             am_images=np.zeros((0, C, H, W)), am_activation=np.zeros((0, 1)),
                             am_confidence=np.zeros((0, 1)), am_head_probs=np.zeros((0, K)),
                             am_border_probs=np.zeros((0, K)), am_diverged_at=np.zeros(0, np.int64))
        m = len(self._ytr)
        bpe = int(math.ceil(m / max(self.params.batch_size, 1)))
        confusion = (self._confusion.copy() if self._confusion is not None
                     else np.zeros((K, K), np.int64))
        return FeatureVizSnapshot(
            step_count=self.step_count, status=self.status, message=self.message, params=self.params,
            phase=self._phase, source=self._source, data_name=self._data_name, in_shape=self._in_shape,
            n_classes=K, n_train=m, n_test=len(self._yte), class_mean=self._class_mean.copy(),
            class_std=self._class_std.copy(), epochs_done=self._epoch, epochs_total=self.params.epochs,
            batch_in_epoch=int(math.ceil(self._pos / max(self.params.batch_size, 1))),
            batches_per_epoch=bpe, batch_loss=np.array(self._batch_loss),
            epoch_train_loss=np.array(self._hist["train_loss"]),
            epoch_train_acc=np.array(self._hist["train_acc"]),
            epoch_test_loss=np.array(self._hist["test_loss"]),
            epoch_test_acc=np.array(self._hist["test_acc"]), test_accuracy=float(self._test_acc),
            n_params=net.n_params, layer_shapes={n: net.layer_shape(n) for n in net.layer_names()},
            filters=net.filters(), theta=net.theta.copy(), net_config=net.config(),
            input_image=self._input.copy(), input_label=self._input_label,
            input_source=self._input_source, test_index=self._input_index, activations=activations,
            input_probs=activations["probs"].copy(), test_confusion=confusion,
            confusion_note=self._confusion_note, **am_fields)
