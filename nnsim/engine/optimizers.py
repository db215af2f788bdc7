"""Gradient-descent update rules, 2-D optimizer races and the optimizer-race simulation.

The rules (``g`` is the gradient at ``θ``, ``t`` counts steps from 1, everything element-wise):

========== ==================================================================================
sgd        θ ← θ − η_k g; linear decay η_k = (1 − k/τ) η + (k/τ) η_τ for k ≤ τ, then η_τ
           (k = t − 1 counts from 0; τ = 0: no decay)
momentum   v ← μ v − η g;  θ ← θ + v  (v starts at 0)
nesterov   v ← μ v − η ∇f(θ + μ v);  θ ← θ + v  (gradient at the look-ahead point)
adagrad    r ← r + g²;  θ ← θ − η g / (ε + √r)                      (ε default 1e-7)
rmsprop    r ← ρ r + (1 − ρ) g²;  θ ← θ − η g / √(ε + r)            (ε 1e-6, ρ 0.9)
adam       s ← β1 s + (1 − β1) g;  r ← β2 r + (1 − β2) g²;  ŝ = s / (1 − β1^t);
           r̂ = r / (1 − β2^t);  θ ← θ − η ŝ / (√r̂ + ε)             (η 0.001, β 0.9/0.999, ε 1e-8)
adadelta   E_g ← ρ E_g + (1 − ρ) g²;  Δ = −η √(E_Δ + ε) / √(E_g + ε) g;
           E_Δ ← ρ E_Δ + (1 − ρ) Δ²;  θ ← θ + Δ      (Zeiler 2012; ρ 0.95, ε 1e-6, η = 1 by default)
newton     θ ← θ − η H⁻¹ g  (η = 1: the pure Newton step; 2-D surfaces or an explicit Hessian)
========== ==================================================================================

Symbols. The UI uses η for every learning rate, μ for the momentum, ρ for decay rates, β1/β2 for
Adam and ε for the small constants. The course slides write the learning rate ε, the momentum α
(``v ← αv − εg``; the Nesterov slide uses μ), Adam's decay rates ρ1/ρ2 and the small constants δ;
distill's momentum article writes step size α and momentum β.

Adam convention: the slides print ``Δθ = −ε ŝ / √(r̂ + δ)`` (δ inside the root); this module uses
Kingma & Ba's and Goodfellow's ``ŝ / (√r̂ + ε)`` (ε outside). With ε = 1e-8 the two differ only
while r̂ is of order ε; the reference tests use the same convention as the code.

Each rule is one numba kernel working in place on a flat float64 vector of any length with its state
in a ``(6, n)`` array (rows: v | r | s | E_g, then r (Adam) | E_Δ, ŝ, r̂, effective rate, last Δθ).
:class:`Rule` (for network training loops) and :func:`run` (a whole 2-D trajectory in one numba
call) both call these kernels, so a network and a surface see exactly the same arithmetic.

The "effective learning rate" recorded per parameter is the factor in front of the gradient (in
front of ŝ for Adam) in the step: η_k for SGD, η/(ε + √r) for AdaGrad, η/√(ε + r) for RMSProp,
η/(√r̂ + ε) for Adam and η √(E_Δ + ε)/√(E_g + ε) for AdaDelta (NaN where it means nothing).

A 2-D run diverges when θ is no longer finite or some |θ_i| > 1e8: it stops there and the remaining
rows are NaN. Newton skips the step (flag 2) when H is singular, |det H| ≤ 1e-12 · max|H_ij|², and
takes it but flags it (1) when H is not positive definite: it then moves towards a saddle point or
a maximum.

:class:`OptimizerRaceSimulation` (the GUI's optimizer panel) computes every enabled optimizer's
whole trajectory at once on each parameter change and animates a head along them;
:data:`PRESETS` reproduce the lecture's claims.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnsim.engine import surfaces as _surf
from nnsim.engine._jit import njit
from nnsim.engine.base import (DIVERGED, RUNNING, Params, SimulationBase, Snapshot, param)

try:  # added to base.py by the lead; fall back to the plain string
    from nnsim.engine.base import FINISHED
except ImportError:  # pragma: no cover
    FINISHED = "finished"

#: update rules in menu order; the index is the rule id used by the kernels
RULES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adadelta", "newton")
SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM, ADADELTA, NEWTON = range(8)
RULE_LABELS = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
               "rmsprop": "RMSProp", "adam": "Adam", "adadelta": "AdaDelta", "newton": "Newton"}

#: hyperparameter names in the order of the kernels' ``hp`` vector
HYPER_NAMES = ("lr", "momentum", "rho", "beta1", "beta2", "eps", "tau", "lr_end")

#: defaults of the rules themselves (for networks; the race uses its own, see OptimizerRaceParams)
HYPER_DEFAULTS = {
    "sgd": {"lr": 0.01, "tau": 0, "lr_end": 1e-4},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "nesterov": {"lr": 0.01, "momentum": 0.9},
    "adagrad": {"lr": 0.01, "eps": 1e-7},
    "rmsprop": {"lr": 0.001, "rho": 0.9, "eps": 1e-6},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "adadelta": {"lr": 1.0, "rho": 0.95, "eps": 1e-6},
    "newton": {"lr": 1.0},
}

#: Newton flags (per step)
NEWTON_OK, NEWTON_NOT_PD, NEWTON_SINGULAR = 0, 1, 2
#: |det H| <= SINGULAR_TOL * max|H_ij|² counts as singular: the Newton step is skipped
SINGULAR_TOL = 1e-12
#: a run whose |θ_i| exceeds this (or is not finite) has diverged
DIVERGENCE_LIMIT = 1e8

NEWTON_NOT_PD_NOTE = "Newton moves towards a saddle point or maximum here"
NEWTON_SINGULAR_NOTE = "H is singular here, so the Newton step is undefined and was skipped"


@dataclass(frozen=True)
class HyperInfo:
    """GUI metadata of one hyperparameter of one rule."""

    label: str
    lo: float
    hi: float
    log: bool
    help: str
    decimals: int | None = None


def _lr_info(formula: str, course: str) -> HyperInfo:
    return HyperInfo("Learning rate η", 1e-6, 10.0, True, f"{formula} {course}", 6)


_MOM_HELP = ("The slides write v ← αv − εg (momentum α, learning rate ε), the Nesterov slide μ; "
             "distill's demo writes step size α and momentum β. Terminal velocity under a constant "
             "gradient: η‖g‖/(1 − μ).")

HYPER_INFO = {
    "sgd": {
        "lr": _lr_info("θ ← θ − η g.", "The slides call the learning rate ε (sometimes η)."),
        "tau": HyperInfo("Decay steps τ", 0, 20000, False,
                         "Linear decay η_k = (1 − k/τ) η + (k/τ) η_τ for k ≤ τ (k = 0 at the first "
                         "step), then η_τ. Course: ε_k = (1 − α) ε_0 + α ε_τ with α = k/τ. "
                         "τ = 0 switches the decay off."),
        "lr_end": HyperInfo("Final rate η_τ", 0.0, 10.0, False,
                            "Learning rate reached after τ steps and kept from then on (the course "
                            "suggests about 1 % of η).", 6),
    },
    "momentum": {
        "lr": _lr_info("v ← μ v − η g; θ ← θ + v.", "Slides: ε."),
        "momentum": HyperInfo("Momentum μ", 0.0, 0.999, False,
                              "v ← μ v − η g; θ ← θ + v. " + _MOM_HELP, 4),
    },
    "nesterov": {
        "lr": _lr_info("v ← μ v − η ∇f(θ + μ v); θ ← θ + v.", "Slides: ε."),
        "momentum": HyperInfo("Momentum μ", 0.0, 0.999, False,
                              "v ← μ v − η ∇f(θ + μ v); θ ← θ + v: the gradient is taken at the "
                              "look-ahead point θ + μv. " + _MOM_HELP, 4),
    },
    "adagrad": {
        "lr": _lr_info("r ← r + g²; θ ← θ − η g / (ε + √r).",
                       "Slides: global rate ε. The effective rate η/(ε + √r) only ever falls."),
        "eps": HyperInfo("ε (small constant)", 1e-12, 1.0, True,
                         "ε in θ ← θ − η g / (ε + √r); the slides call it δ, \"perhaps 10⁻⁷\"."),
    },
    "rmsprop": {
        "lr": _lr_info("r ← ρ r + (1 − ρ) g²; θ ← θ − η g / √(ε + r).",
                       "Slides: global rate ε."),
        "rho": HyperInfo("Decay ρ", 0.0, 0.9999, False,
                         "r ← ρ r + (1 − ρ) g²: an exponentially weighted average that forgets the "
                         "distant past (the slides give no default; 0.9 is the common one).", 4),
        "eps": HyperInfo("ε (small constant)", 1e-12, 1.0, True,
                         "ε in θ ← θ − η g / √(ε + r); the slides call it δ, \"usually 10⁻⁶\"."),
    },
    "adam": {
        "lr": _lr_info("θ ← θ − η ŝ / (√r̂ + ε).",
                       "Slides: step size ε = 0.001."),
        "beta1": HyperInfo("β1 (1st moment decay)", 0.0, 0.9999, False,
                           "s ← β1 s + (1 − β1) g; ŝ = s / (1 − β1^t) (bias correction). "
                           "Slides: ρ1 = 0.9.", 4),
        "beta2": HyperInfo("β2 (2nd moment decay)", 0.0, 0.99999, False,
                           "r ← β2 r + (1 − β2) g²; r̂ = r / (1 − β2^t). Slides: ρ2 = 0.999.", 5),
        "eps": HyperInfo("ε (small constant)", 1e-12, 1.0, True,
                         "ε in θ ← θ − η ŝ / (√r̂ + ε) (Kingma & Ba, Goodfellow). The slides call "
                         "it δ = 10⁻⁸ and print √(r̂ + δ), δ inside the root; the difference is "
                         "tiny."),
    },
    "adadelta": {
        "lr": HyperInfo("Learning rate η", 1e-6, 10.0, True,
                        "Zeiler's AdaDelta has no learning rate (η = 1); η scales its step "
                        "Δ = −η √(E_Δ + ε) / √(E_g + ε) g.", 6),
        "rho": HyperInfo("Decay ρ", 0.0, 0.9999, False,
                         "E_g ← ρ E_g + (1 − ρ) g²; E_Δ ← ρ E_Δ + (1 − ρ) Δ² (Zeiler 2012; the "
                         "course shows AdaDelta only in the comparison video, without a formula).",
                         4),
        "eps": HyperInfo("ε (small constant)", 1e-12, 1.0, True,
                         "ε in Δ = −√(E_Δ + ε) / √(E_g + ε) g. It also sets the size of the very "
                         "first steps (E_Δ = 0): about √ε / √((1 − ρ) g²) · g."),
    },
    "newton": {
        "lr": HyperInfo("Step factor η", 1e-3, 2.0, True,
                        "θ ← θ − η H⁻¹ g (η = 1: the pure Newton step, which lands on the minimum "
                        "of a positive-definite quadratic in one step; η < 1 damps it). Skipped "
                        "when H is singular; when H is not positive definite Newton moves towards "
                        "a saddle point or a maximum.", 4),
    },
}


# ---- kernels -----------------------------------------------------------------------------------
# State rows of S (6, n): 0 v | r | s | E_g;  1 r (Adam) | E_Δ;  2 ŝ;  3 r̂;  4 effective rate;
# 5 last Δθ.  hp = (lr, momentum, rho, beta1, beta2, eps, tau, lr_end).

@njit
def sgd_lr(k, lr, tau, lr_end):
    """SGD's linear schedule: (1 − k/τ) η + (k/τ) η_τ for k ≤ τ, then η_τ (τ <= 0: always η)."""
    if tau <= 0.0:
        return lr
    if k <= tau:
        a = k / tau
        return (1.0 - a) * lr + a * lr_end
    return lr_end


@njit
def _sgd(theta, g, S, hp, t):
    lr = sgd_lr(t - 1, hp[0], hp[6], hp[7])
    for i in range(theta.size):
        d = -(lr * g[i])
        S[4, i] = lr
        S[5, i] = d
        theta[i] += d


@njit
def _momentum(theta, g, S, hp, t):
    lr, mu = hp[0], hp[1]
    for i in range(theta.size):
        v = mu * S[0, i] - lr * g[i]
        S[0, i] = v
        S[5, i] = v
        theta[i] += v


@njit
def _adagrad(theta, g, S, hp, t):
    lr, eps = hp[0], hp[5]
    for i in range(theta.size):
        r = S[0, i] + g[i] * g[i]
        S[0, i] = r
        den = eps + math.sqrt(r)
        d = -(lr * g[i] / den)
        S[4, i] = lr / den
        S[5, i] = d
        theta[i] += d


@njit
def _rmsprop(theta, g, S, hp, t):
    lr, rho, eps = hp[0], hp[2], hp[5]
    for i in range(theta.size):
        r = rho * S[0, i] + (1.0 - rho) * g[i] * g[i]
        S[0, i] = r
        den = math.sqrt(eps + r)
        d = -(lr * g[i] / den)
        S[4, i] = lr / den
        S[5, i] = d
        theta[i] += d


@njit
def _adam(theta, g, S, hp, t):
    lr, b1, b2, eps = hp[0], hp[3], hp[4], hp[5]
    c1 = 1.0 - b1 ** float(t)
    c2 = 1.0 - b2 ** float(t)
    for i in range(theta.size):
        s = b1 * S[0, i] + (1.0 - b1) * g[i]
        r = b2 * S[1, i] + (1.0 - b2) * g[i] * g[i]
        sh = s / c1
        rh = r / c2
        den = math.sqrt(rh) + eps
        d = -(lr * sh / den)
        S[0, i] = s
        S[1, i] = r
        S[2, i] = sh
        S[3, i] = rh
        S[4, i] = lr / den
        S[5, i] = d
        theta[i] += d


@njit
def _adadelta(theta, g, S, hp, t):
    lr, rho, eps = hp[0], hp[2], hp[5]
    for i in range(theta.size):
        eg = rho * S[0, i] + (1.0 - rho) * g[i] * g[i]
        a = math.sqrt(S[1, i] + eps) / math.sqrt(eg + eps)
        d = lr * (-(a * g[i]))
        S[0, i] = eg
        S[1, i] = rho * S[1, i] + (1.0 - rho) * d * d
        S[4, i] = lr * a
        S[5, i] = d
        theta[i] += d


@njit
def _newton2(theta, g, hxx, hxy, hyy, lr, S):
    """θ ← θ − η H⁻¹ g for 2 parameters; returns 0 (ok), 1 (H not PD, step taken) or 2 (singular,
    step skipped)."""
    det = hxx * hyy - hxy * hxy
    scale = max(abs(hxx), abs(hxy), abs(hyy))
    if not (scale > 0.0) or not math.isfinite(det) or abs(det) <= SINGULAR_TOL * scale * scale:
        S[5, 0] = 0.0
        S[5, 1] = 0.0
        return NEWTON_SINGULAR
    dx = -(lr * ((hyy * g[0] - hxy * g[1]) / det))
    dy = -(lr * ((hxx * g[1] - hxy * g[0]) / det))
    S[5, 0] = dx
    S[5, 1] = dy
    theta[0] += dx
    theta[1] += dy
    if hxx > 0.0 and det > 0.0:
        return NEWTON_OK
    return NEWTON_NOT_PD


@njit
def rule_step(rule, theta, g, S, hp, t):
    """One step of first-order rule ``rule`` on ``theta`` in place (Nesterov: ``g`` taken at the
    look-ahead point). The kernel every network engine trains with: the MLP and CNN kernels call it
    from their own compiled loops (a Python ``Rule.apply`` per step would cost more than the step).
    ``rule`` is a rule code (SGD, MOMENTUM, …), ``S`` the rule's state array from ``Rule``, ``hp``
    its hyper-parameters, ``t`` the 1-based step number. Tests check it equals ``Rule.apply``."""
    if rule == SGD:
        _sgd(theta, g, S, hp, t)
    elif rule == MOMENTUM or rule == NESTEROV:
        _momentum(theta, g, S, hp, t)
    elif rule == ADAGRAD:
        _adagrad(theta, g, S, hp, t)
    elif rule == RMSPROP:
        _rmsprop(theta, g, S, hp, t)
    elif rule == ADAM:
        _adam(theta, g, S, hp, t)
    elif rule == ADADELTA:
        _adadelta(theta, g, S, hp, t)


@njit
def _trajectory(rule, sid, p, x0, y0, hp, noise, path, loss, vel, eff, flags):
    """All ``len(path) - 1`` steps of ``rule`` on surface ``sid`` from (x0, y0), in place.

    Row k of ``path``/``loss``/``vel``/``eff``/``flags`` is the state after k steps (row 0 the start);
    ``noise[k]`` is added to the gradient of step k + 1. Returns the step at which the run diverged
    (θ not finite or |θ_i| > DIVERGENCE_LIMIT; that row and the later ones are NaN) or -1.
    """
    steps = path.shape[0] - 1
    theta = np.empty(2)
    theta[0] = x0
    theta[1] = y0
    g = np.empty(2)
    S = np.zeros((6, 2))
    mu = hp[1]
    has_vel = rule == MOMENTUM or rule == NESTEROV
    has_eff = rule == SGD or rule == ADAGRAD or rule == RMSPROP or rule == ADAM or rule == ADADELTA
    path[0, 0] = x0
    path[0, 1] = y0
    loss[0] = _surf.value(sid, x0, y0, p)
    for j in range(2):
        vel[0, j] = 0.0
        eff[0, j] = np.nan
    flags[0] = 0
    div = -1
    for k in range(steps):
        t = k + 1
        if rule == NESTEROV:
            gx, gy = _surf.grad(sid, theta[0] + mu * S[0, 0], theta[1] + mu * S[0, 1], p)
        else:
            gx, gy = _surf.grad(sid, theta[0], theta[1], p)
        g[0] = gx + noise[k, 0]
        g[1] = gy + noise[k, 1]
        flag = 0
        if rule == NEWTON:
            hxx, hxy, hyy = _surf.hess(sid, theta[0], theta[1], p)
            flag = _newton2(theta, g, hxx, hxy, hyy, hp[0], S)
        else:
            rule_step(rule, theta, g, S, hp, t)
        f = _surf.value(sid, theta[0], theta[1], p)
        if not (math.isfinite(theta[0]) and math.isfinite(theta[1]) and math.isfinite(f)
                and abs(theta[0]) <= DIVERGENCE_LIMIT and abs(theta[1]) <= DIVERGENCE_LIMIT):
            div = t
            break
        path[t, 0] = theta[0]
        path[t, 1] = theta[1]
        loss[t] = f
        for j in range(2):
            vel[t, j] = S[0, j] if has_vel else 0.0
            eff[t, j] = S[4, j] if has_eff else np.nan
        flags[t] = flag
    if div >= 0:
        for t in range(div, steps + 1):
            for j in range(2):
                path[t, j] = np.nan
                vel[t, j] = np.nan
                eff[t, j] = np.nan
            loss[t] = np.nan
            flags[t] = 0
    return div


# ---- hyperparameters ---------------------------------------------------------------------------
def rule_id(name: str) -> int:
    try:
        return RULES.index(name)
    except ValueError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(RULES)}") from None


def hyper_vector(name: str, **hyper) -> tuple[np.ndarray, dict]:
    """The kernels' ``hp`` vector and the full hyperparameter dict (defaults filled in).

    Only the rule's own hyperparameters are accepted (HYPER_DEFAULTS[name]); others raise."""
    rule_id(name)
    allowed = HYPER_DEFAULTS[name]
    bad = sorted(set(hyper) - set(allowed))
    if bad:
        raise TypeError(f"{name} takes {', '.join(allowed)}; not {', '.join(bad)}")
    full = {**allowed, **hyper}
    hp = np.zeros(len(HYPER_NAMES))
    for key, val in full.items():
        val = float(val)
        if not math.isfinite(val):
            raise ValueError(f"{name}: {key} = {val!r} is not a finite number")
        hp[HYPER_NAMES.index(key)] = val
    return hp, full


def gradient_noise(steps: int, noise: float, seed: int) -> np.ndarray:
    """``(steps, 2)`` Gaussian gradient noise of std ``noise``: the same draws for every optimizer
    given ``seed``, and a longer horizon only appends rows (row k is always the k-th draw)."""
    if noise == 0.0:
        return np.zeros((steps, 2))
    return float(noise) * np.random.default_rng(seed).standard_normal((steps, 2))


# ---- 2-D runs ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RunResult:
    """One optimizer's run on a surface. Row k = after k steps (row 0 = start); NaN after divergence.

    ``velocity`` is v (momentum, Nesterov; zeros otherwise), ``eff_lr`` the per-parameter effective
    learning rate of the step that produced the row (SGD, AdaGrad, RMSProp, Adam, AdaDelta; NaN
    otherwise and in row 0), ``newton_flags`` 0/1 (H not PD)/2 (H singular, step skipped).
    """

    optimizer: str
    surface: str
    hyper: dict
    path: np.ndarray           # (steps + 1, 2)
    loss: np.ndarray           # (steps + 1,)
    velocity: np.ndarray       # (steps + 1, 2)
    eff_lr: np.ndarray         # (steps + 1, 2)
    newton_flags: np.ndarray   # (steps + 1,) int8
    diverged_at: int           # step at which the run diverged, -1 if it did not
    newton_not_pd_at: int      # first step taken with a non-positive-definite H, -1 if none
    newton_singular_at: int    # first step skipped because H was singular, -1 if none

    @property
    def steps(self) -> int:
        return len(self.path) - 1


def _first(flags: np.ndarray, value: int) -> int:
    idx = np.flatnonzero(flags == value)
    return int(idx[0]) if idx.size else -1


def run(surface, optimizer: str, start=None, steps: int = 100, *, surface_kw: dict | None = None,
        noise: float = 0.0, seed: int = 0, noise_array: np.ndarray | None = None,
        **hyper) -> RunResult:
    """Run ``optimizer`` for ``steps`` iterations on ``surface`` (a name or a
    :class:`~nnsim.engine.surfaces.Surface`) from ``start`` (default: the surface's) in one numba
    call. ``surface_kw`` gives surface parameters (``{"kappa": 50}``); ``noise`` the std of Gaussian
    gradient noise drawn with ``seed`` (or pass ``noise_array`` (steps, 2) directly).

    >>> r = run("canyon", "newton", (3.0, -1.0), 3)
    >>> r.path[1].tolist(), r.diverged_at
    ([0.0, 0.0], -1)
    """
    surf = _surf.get(surface, **(surface_kw or {}))
    rid = rule_id(optimizer)
    hp, full = hyper_vector(optimizer, **hyper)
    steps = int(steps)
    if steps < 0:
        raise ValueError("steps must be non-negative")
    x0, y0 = (surf.start if start is None else start)
    if noise_array is None:
        noise_array = gradient_noise(steps, noise, seed)
    noise_array = np.ascontiguousarray(noise_array, dtype=np.float64)
    if noise_array.shape[0] < steps or noise_array.shape[1:] != (2,):
        raise ValueError(f"noise_array must have shape ({steps}, 2), got {noise_array.shape}")
    path = np.empty((steps + 1, 2))
    loss = np.empty(steps + 1)
    vel = np.empty((steps + 1, 2))
    eff = np.empty((steps + 1, 2))
    flags = np.zeros(steps + 1, np.int8)
    div = _trajectory(rid, surf.sid, surf.p, float(x0), float(y0), hp, noise_array, path, loss,
                      vel, eff, flags)
    return RunResult(optimizer=optimizer, surface=surf.name, hyper=full, path=path, loss=loss,
                     velocity=vel, eff_lr=eff, newton_flags=flags, diverged_at=int(div),
                     newton_not_pd_at=_first(flags, NEWTON_NOT_PD),
                     newton_singular_at=_first(flags, NEWTON_SINGULAR))


def trajectory(surface, optimizer: str, start=None, steps: int = 100, **kw) -> np.ndarray:
    """The ``(steps + 1, 2)`` path of :func:`run` (row 0 = start; NaN rows after divergence)."""
    return run(surface, optimizer, start, steps, **kw).path


# ---- rules for network training loops ---------------------------------------------------------
_KERNELS = {"sgd": _sgd, "momentum": _momentum, "nesterov": _momentum, "adagrad": _adagrad,
            "rmsprop": _rmsprop, "adam": _adam, "adadelta": _adadelta}
_STATE_ROWS = {"sgd": {"lr_eff": 4}, "momentum": {"v": 0}, "nesterov": {"v": 0},
               "adagrad": {"r": 0, "lr_eff": 4}, "rmsprop": {"r": 0, "lr_eff": 4},
               "adam": {"s": 0, "r": 1, "s_hat": 2, "r_hat": 3, "lr_eff": 4},
               "adadelta": {"Eg": 0, "Ed": 1, "lr_eff": 4}, "newton": {}}


class Rule:
    """One update rule with its state, for a flat float64 parameter vector of length ``size``.

    A training loop does::

        rule = make_rule("nesterov", theta.size, lr=0.01, momentum=0.9)
        for _ in range(n):
            g = gradient(rule.grad_point(theta))   # Nesterov: at θ + μv; otherwise θ itself
            rule.apply(theta, g)                   # θ updated in place

    Newton needs the Hessian: ``rule.apply(theta, g, hessian=H)`` (H of shape (size, size)).
    """

    def __init__(self, name: str, size: int, **hyper):
        self.rid = rule_id(name)
        self.name = name
        self.size = int(size)
        if self.size < 1:
            raise ValueError("size must be at least 1")
        self.hp, self.hyper = hyper_vector(name, **hyper)
        self.reset()

    @property
    def _kernel(self):
        # looked up, not stored: a Rule's attributes are plain data (saved in experiment files)
        return _KERNELS.get(self.name)

    def reset(self) -> None:
        """Forget all state (t = 0, v = r = s = 0, ...)."""
        self.S = np.zeros((6, self.size))
        self.t = 0
        self.last_flag = NEWTON_OK

    @property
    def lr_now(self) -> float:
        """The learning rate the next step uses (SGD's schedule; otherwise η)."""
        if self.rid == SGD:
            return float(sgd_lr(self.t, self.hp[0], self.hp[6], self.hp[7]))
        return float(self.hp[0])

    def grad_point(self, theta: np.ndarray) -> np.ndarray:
        """Where the gradient must be evaluated: θ + μv for Nesterov, θ itself otherwise (not a
        copy: do not modify it)."""
        if self.rid == NESTEROV:
            return theta + self.hp[1] * self.S[0]
        return theta

    def apply(self, theta: np.ndarray, g: np.ndarray, hessian: np.ndarray | None = None) -> int:
        """One step in place on ``theta`` (C-contiguous float64, length ``size``) with gradient ``g``
        (taken at :meth:`grad_point`). Returns the Newton flag (0 for the other rules)."""
        if not (isinstance(theta, np.ndarray) and theta.dtype == np.float64 and theta.ndim == 1
                and theta.size == self.size and theta.flags.c_contiguous and theta.flags.writeable):
            raise ValueError(f"theta must be a writeable contiguous float64 vector of length "
                             f"{self.size}")
        g = np.ascontiguousarray(g, dtype=np.float64).reshape(-1)
        if g.size != self.size:
            raise ValueError(f"gradient has {g.size} entries, expected {self.size}")
        self.t += 1
        if self.rid != NEWTON:
            self._kernel(theta, g, self.S, self.hp, self.t)
            return NEWTON_OK
        if hessian is None:
            self.t -= 1
            raise ValueError("newton needs the Hessian: call apply(theta, g, hessian=H)")
        H = np.asarray(hessian, dtype=np.float64)
        if H.shape != (self.size, self.size):
            raise ValueError(f"hessian must have shape ({self.size}, {self.size}), got {H.shape}")
        if self.size == 2:
            flag = _newton2(theta, g, H[0, 0], 0.5 * (H[0, 1] + H[1, 0]), H[1, 1], self.hp[0],
                            self.S)
        else:
            flag = self._newton_n(theta, g, 0.5 * (H + H.T))
        self.last_flag = int(flag)
        return self.last_flag

    def _newton_n(self, theta, g, H) -> int:
        w = np.linalg.eigvalsh(H)
        scale = np.abs(w).max() if w.size else 0.0
        if not (scale > 0) or np.abs(w).min() <= math.sqrt(SINGULAR_TOL) * scale:
            self.S[5] = 0.0
            return NEWTON_SINGULAR
        d = -(self.hp[0] * np.linalg.solve(H, g))
        self.S[5] = d
        theta += d
        return NEWTON_OK if w.min() > 0 else NEWTON_NOT_PD

    def state(self) -> dict:
        """Copies of the state: ``t``, the last step ``step`` (Δθ), and per rule ``v`` (momentum,
        Nesterov), ``r`` (AdaGrad, RMSProp, Adam), ``s``, ``s_hat``, ``r_hat`` (Adam), ``Eg``, ``Ed``
        (AdaDelta), ``lr_eff`` (per-parameter effective rate of the last step), ``lr`` (SGD: the rate
        of the next step) and ``flag`` (Newton)."""
        out = {"t": self.t, "step": self.S[5].copy()}
        for key, row in _STATE_ROWS[self.name].items():
            out[key] = self.S[row].copy()
        if self.rid == SGD:
            out["lr"] = self.lr_now
        if self.rid == NEWTON:
            out["flag"] = self.last_flag
        return out

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v:g}" for k, v in self.hyper.items())
        return f"Rule({self.name!r}, size={self.size}, {hp}, t={self.t})"


def make_rule(name: str, size: int, **hyper) -> Rule:
    """A :class:`Rule` for a flat parameter vector of length ``size`` (defaults: HYPER_DEFAULTS)."""
    return Rule(name, size, **hyper)


# ---- the optimizer race (GUI simulation) ------------------------------------------------------
_GROUPS = {r: RULE_LABELS[r] for r in RULES}
#: rules with a velocity v (arrows, terminal velocity)
VELOCITY_RULES = ("momentum", "nesterov")
#: rules whose per-parameter effective learning rate is recorded
EFF_LR_RULES = ("sgd", "adagrad", "rmsprop", "adam", "adadelta")


def _hp(rule: str, key: str, default):
    """A live hyperparameter field ``<rule>_<key>`` built from :data:`HYPER_INFO`."""
    info = HYPER_INFO[rule][key]
    if key == "tau":
        return param(int(default), label=info.label, help=info.help, lo=int(info.lo),
                     hi=int(info.hi), live=True, group=_GROUPS[rule])
    return param(float(default), label=info.label, help=info.help, lo=info.lo, hi=info.hi,
                 live=True, log=info.log, decimals=info.decimals, group=_GROUPS[rule])


def _use(rule: str, default: bool):
    return param(default, label=f"Run {RULE_LABELS[rule]}", live=True, group=_GROUPS[rule],
                 help=f"Include {RULE_LABELS[rule]} in the race (all optimizers start at the same "
                      "point and take one step per animation step, in lock step).")


@dataclass(frozen=True)
class OptimizerRaceParams(Params):
    """The race's knobs. Defaults are tuned for the default surface (the canyon with κ = 20):
    every optimizer visibly reaches the minimum within the 300 steps, SGD zig-zags across the
    canyon (η = 0.09 is just under the stability limit 2/κ = 0.1). Newton is off by default: it
    needs the Hessian (not a first-order method), is not in the lecture's race video, and on a
    quadratic it ends the race in one step; the Newton presets switch it on."""

    surface: str = param(
        "canyon", label="Surface", choices=_surf.SURFACE_CHOICES, group="Surface",
        help="The error surface f(x, y). Changing it restarts the race; use "
             "params_for_surface() for a start point and rates that suit it.")
    kappa: float = param(
        20.0, label="Condition number κ", lo=1.0, hi=1000.0, log=True, decimals=1,
        group="Surface",
        help="Canyon only: f = ½(x² + κy²); the Hessian diag(1, κ) has condition number κ "
             "(max |λ_i/λ_j|). Gradient descent is stable only for η < 2/κ, while progress along "
             "the canyon goes with η: the larger κ, the slower GD.")
    start_x: float = param(
        -4.5, label="Start x", lo=-10.0, hi=10.0, live=True, decimals=4, group="Surface",
        help="Where every optimizer starts (drag the start marker). Changing it recomputes all "
             "paths at once; the animation keeps its step.")
    start_y: float = param(
        1.5, label="Start y", lo=-10.0, hi=10.0, live=True, decimals=4, group="Surface",
        help="Where every optimizer starts (drag the start marker). Changing it recomputes all "
             "paths at once; the animation keeps its step.")
    steps: int = param(
        300, label="Steps (horizon)", lo=10, hi=20000, live=True, group="Run",
        help="Iterations computed for every optimizer; the animation stops there (status "
             "'finished'). One animation step = one iteration of every optimizer.")
    mlp_race: bool = param(
        False, label="Also train an MLP", live=True, group="Run",
        help="Race the same optimizers on a real network too: a 2-16-2 tanh MLP (softmax + "
             "cross-entropy) on 200 two-moons points, the same initial weights and the same "
             "batches of 20 for every optimizer, one update per iteration. The learning rates are "
             "the network's own (MLP_LR: a surface's η is far too small or large for it); μ, ρ, "
             "β1, β2 and ε are the ones set here. Newton is left out (no Hessian).")
    noise: float = param(
        0.0, label="Gradient noise σ", lo=0.0, hi=10.0, live=True, decimals=3, group="Run",
        help="Gaussian noise of standard deviation σ added to every gradient component (the same "
             "draws for every optimizer, fixed by the seed): a stand-in for the mini-batch "
             "gradient of SGD, whose \"fluctuation … helps to come out from local minima and "
             "saddles\".")

    use_sgd: bool = _use("sgd", True)
    sgd_lr: float = _hp("sgd", "lr", 0.09)
    sgd_tau: int = _hp("sgd", "tau", 0)
    sgd_lr_end: float = _hp("sgd", "lr_end", 0.0009)

    use_momentum: bool = _use("momentum", True)
    momentum_lr: float = _hp("momentum", "lr", 0.01)
    momentum_momentum: float = _hp("momentum", "momentum", 0.9)

    use_nesterov: bool = _use("nesterov", True)
    nesterov_lr: float = _hp("nesterov", "lr", 0.01)
    nesterov_momentum: float = _hp("nesterov", "momentum", 0.9)

    use_adagrad: bool = _use("adagrad", True)
    adagrad_lr: float = _hp("adagrad", "lr", 0.5)
    adagrad_eps: float = _hp("adagrad", "eps", 1e-7)

    use_rmsprop: bool = _use("rmsprop", True)
    rmsprop_lr: float = _hp("rmsprop", "lr", 0.03)
    rmsprop_rho: float = _hp("rmsprop", "rho", 0.9)
    rmsprop_eps: float = _hp("rmsprop", "eps", 1e-6)

    use_adam: bool = _use("adam", True)
    adam_lr: float = _hp("adam", "lr", 0.1)
    adam_beta1: float = _hp("adam", "beta1", 0.9)
    adam_beta2: float = _hp("adam", "beta2", 0.999)
    adam_eps: float = _hp("adam", "eps", 1e-8)

    use_adadelta: bool = _use("adadelta", True)
    adadelta_lr: float = _hp("adadelta", "lr", 1.0)
    adadelta_rho: float = _hp("adadelta", "rho", 0.95)
    adadelta_eps: float = _hp("adadelta", "eps", 1e-4)

    use_newton: bool = _use("newton", False)
    newton_lr: float = _hp("newton", "lr", 1.0)

    def enabled(self) -> tuple[str, ...]:
        """Names of the optimizers switched on, in :data:`RULES` order."""
        return tuple(r for r in RULES if getattr(self, f"use_{r}"))

    def hyper(self, rule: str) -> dict:
        """The hyperparameters of ``rule`` as keyword arguments for :func:`run`."""
        return {k: getattr(self, f"{rule}_{k}") for k in HYPER_DEFAULTS[rule]}


#: per surface: a start point, horizon and rates that make a good race there (parameter overrides)
SURFACE_SETUPS = {
    "canyon": dict(start_x=-4.5, start_y=1.5, steps=300, sgd_lr=0.09, momentum_lr=0.01,
                   nesterov_lr=0.01, adagrad_lr=0.5, rmsprop_lr=0.03, adam_lr=0.1,
                   adadelta_eps=1e-4),
    "rosenbrock": dict(start_x=-1.2, start_y=1.0, steps=2000, sgd_lr=0.0015, momentum_lr=0.001,
                       nesterov_lr=0.001, adagrad_lr=1.0, rmsprop_lr=0.01, adam_lr=0.1,
                       adadelta_eps=1e-6),
    "beale": dict(start_x=1.0, start_y=1.4, steps=500, sgd_lr=0.01, momentum_lr=0.003,
                  nesterov_lr=0.003, adagrad_lr=1.0, rmsprop_lr=0.01, adam_lr=0.1,
                  adadelta_eps=1e-4),
    "saddle": dict(start_x=-1.5, start_y=0.001, steps=150, sgd_lr=0.01, momentum_lr=0.01,
                   nesterov_lr=0.01, adagrad_lr=0.1, rmsprop_lr=0.01, adam_lr=0.01,
                   adadelta_eps=1e-6),
    "himmelblau": dict(start_x=-0.3, start_y=-0.9, steps=500, sgd_lr=0.003, momentum_lr=0.001,
                       nesterov_lr=0.001, adagrad_lr=0.3, rmsprop_lr=0.01, adam_lr=0.05,
                       adadelta_eps=1e-5),
    "camel": dict(start_x=-2.0, start_y=-1.0, steps=300, sgd_lr=0.01, momentum_lr=0.003,
                  nesterov_lr=0.003, adagrad_lr=0.1, rmsprop_lr=0.003, adam_lr=0.03,
                  adadelta_eps=1e-5),
    "plateau": dict(start_x=-3.0, start_y=1.5, steps=300, sgd_lr=0.1, momentum_lr=0.1,
                    nesterov_lr=0.1, adagrad_lr=0.1, rmsprop_lr=0.01, adam_lr=0.03,
                    adadelta_eps=1e-4),
}


def params_for_surface(params: OptimizerRaceParams, name: str) -> OptimizerRaceParams:
    """``params`` switched to surface ``name`` with that surface's start, horizon and rates
    (:data:`SURFACE_SETUPS`); the other settings (which optimizers run, μ, ρ, β, noise) are kept."""
    return params.replace(surface=name, **SURFACE_SETUPS[name])


def _only(*names) -> dict:
    return {f"use_{r}": r in names for r in RULES}


_FIRST_ORDER = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adadelta")

#: named parameter overrides (applied to the defaults) that reproduce the lecture's claims
PRESETS = {
    "Saddle point: SGD stalls, adaptive methods escape": {
        "surface": "saddle", **SURFACE_SETUPS["saddle"], **_only(*RULES)},
    "Canyon: momentum goes lengthwise": {
        "surface": "canyon", "kappa": 50.0, "start_x": -4.5, "start_y": 1.5, "steps": 150,
        **_only("sgd", "momentum"), "sgd_lr": 0.038, "sgd_tau": 0, "momentum_lr": 0.038,
        "momentum_momentum": 0.7},
    "Momentum as in distill (η = 0.0045, μ = 0.70)": {
        "surface": "canyon", "kappa": 100.0, "start_x": -4.5, "start_y": 1.5, "steps": 300,
        **_only("sgd", "momentum"), "sgd_lr": 0.0045, "sgd_tau": 0, "momentum_lr": 0.0045,
        "momentum_momentum": 0.7},
    "AdaGrad stalls, RMSProp goes on": {
        "surface": "rosenbrock", "start_x": -2.0, "start_y": -1.0, "steps": 2000,
        **_only("adagrad", "rmsprop"), "adagrad_lr": 1.0, "rmsprop_lr": 0.01, "rmsprop_rho": 0.9},
    "Newton: one step on a quadratic": {
        "surface": "canyon", "kappa": 50.0, "start_x": -4.5, "start_y": 1.5, "steps": 50,
        **_only("sgd", "newton"), "sgd_lr": 0.038, "sgd_tau": 0, "newton_lr": 1.0},
    "Rosenbrock race": {
        "surface": "rosenbrock", **SURFACE_SETUPS["rosenbrock"], **_only(*RULES)},
    "The same optimizers on a real network (MLP, two moons)": {
        "surface": "rosenbrock", **SURFACE_SETUPS["rosenbrock"], **_only(*RULES), "mlp_race": True,
        "steps": 500},
    "Plateau: gradients vanish, adaptive steps do not": {
        "surface": "plateau", **SURFACE_SETUPS["plateau"], **_only(*_FIRST_ORDER)},
    "Himmelblau: the optimizer picks the minimum (Newton climbs)": {
        "surface": "himmelblau", **SURFACE_SETUPS["himmelblau"], **_only(*RULES)},
    "Six-hump camel: momentum reaches a deeper basin": {
        "surface": "camel", **SURFACE_SETUPS["camel"], **_only(*_FIRST_ORDER)},
}

#: what to look at in each preset (one or two sentences for the GUI)
PRESET_NOTES = {
    "Saddle point: SGD stalls, adaptive methods escape":
        "Start just off the saddle of x² − y². SGD first slides into the saddle and creeps there "
        "(its y-step is 2η|y|, tiny near y = 0); AdaGrad, RMSProp and Adam divide by √r, so even "
        "a tiny gradient gives a step of about η and they escape at once. Newton jumps onto the "
        "saddle and stays (H is not positive definite).",
    "Canyon: momentum goes lengthwise":
        "κ = 50 and the same η for both: SGD's step is somewhat too large across the canyon, so "
        "it zig-zags between the walls and crawls along; momentum averages the alternating "
        "gradients away and travels lengthwise.",
    "Momentum as in distill (η = 0.0045, μ = 0.70)":
        "The values of the distill demo shown in the lecture (distill calls them step-size α and "
        "momentum β). With μ = 0.7 the velocity approaches η‖g‖/(1 − μ) ≈ 3.3 η‖g‖: momentum "
        "travels about three times as fast as SGD with the same η, and shows its own oscillations "
        "across the canyon.",
    "AdaGrad stalls, RMSProp goes on":
        "Start on a steep wall of the Rosenbrock valley: the huge first gradients stay in "
        "AdaGrad's sum r forever, so its effective rate η/(ε + √r) freezes at a tiny value in the "
        "flat valley. RMSProp forgets them and its effective rate recovers.",
    "Newton: one step on a quadratic":
        "On a positive-definite quadratic Newton's step −H⁻¹g lands exactly on the minimum in one "
        "step, whatever κ; SGD needs many.",
    "The same optimizers on a real network (MLP, two moons)":
        "The Rosenbrock race, and beside it the same rules training one 2-16-2 network from the same "
        "weights on the same batches: \"being able to calculate gradient, we might select any of the "
        "above methods\".",
    "Rosenbrock race":
        "Every optimizer from (−1.2, 1): reaching the valley is quick, following it to (1, 1) is "
        "slow for plain SGD; momentum and Adam follow the curve, Newton needs a handful of steps.",
    "Plateau: gradients vanish, adaptive steps do not":
        "Far from the well the gradient is about 10⁻³: SGD barely moves, momentum slowly builds "
        "up speed, the adaptive methods rescale the tiny gradient and walk straight in.",
    "Himmelblau: the optimizer picks the minimum (Newton climbs)":
        "From near the local maximum the first-order methods and the adaptive ones end in "
        "different minima; Newton heads for the maximum (H is negative definite there).",
    "Six-hump camel: momentum reaches a deeper basin":
        "Most methods settle in the nearest local minimum (f = 2.10); momentum and Nesterov "
        "overshoot the ridge and end in a global minimum (f = −1.03).",
}


def presets() -> dict[str, OptimizerRaceParams]:
    """Every preset as a full, validated :class:`OptimizerRaceParams`."""
    return {name: OptimizerRaceParams().replace(**over) for name, over in PRESETS.items()}


@dataclass(frozen=True, eq=False, kw_only=True)
class OptimizerRaceSnapshot(Snapshot):
    """The race at the animation head. Per-optimizer lists follow ``names``. Arrays are copies,
    except the contour grid (gx, gy, gz, levels), which is cached and read-only."""

    mlp_losses: tuple = ()         # per optimizer: MLP training loss per iteration to the head (or None)

    surface: str
    surface_label: str
    surface_description: str
    bounds: tuple                  # (xmin, xmax, ymin, ymax) of the view
    gx: np.ndarray                 # (nx,)
    gy: np.ndarray                 # (ny,)
    gz: np.ndarray                 # (ny, nx) f on the grid
    levels: np.ndarray             # suggested contour levels
    minima: np.ndarray             # (k, 2) known minima (k = 0 for the saddle)
    f_min: float | None            # global minimum value (None: unbounded below)
    start: np.ndarray              # (2,)
    names: tuple                   # enabled optimizers, e.g. ("sgd", "adam")
    labels: tuple                  # display names, e.g. ("SGD", "Adam")
    paths: list                    # (head + 1, 2) each; NaN rows from the divergence step on
    losses: list                   # (head + 1,) f along the path
    dist: list                     # (head + 1,) distance to the nearest known minimum (NaN: none)
    velocity_at_head: list         # (2,) v for momentum/Nesterov, None otherwise
    terminal_velocity: list        # η‖g‖/(1 − μ) at the head (momentum/Nesterov), NaN otherwise
    grad_at_head: list             # (2,) ∇f at the head (noise-free)
    lookahead_at_head: list        # (2,) θ + μv for Nesterov, None otherwise
    lookahead_grad_at_head: list   # (2,) ∇f(θ + μv) for Nesterov, None otherwise
    eff_lr_at_head: list           # (2,) effective rate of the last step (see module doc) or None
    diverged_at: tuple             # step of divergence if it happened by the head, else -1
    newton_note: str               # "" unless Newton runs and met a non-PD or singular H
    head: int                      # the animation step (= step_count)
    steps: int                     # the horizon


#: learning rates for the MLP race: a network's loss surface wants other step sizes than the 2-D ones
MLP_LR = {"sgd": 0.3, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.01,
          "adadelta": 1.0}
MLP_SIZES = (2, 16, 2)


def train_mlp_race(params, steps: int, seed: int) -> dict[str, np.ndarray]:
    """The MLP race: every enabled first-order optimizer trains the same network (same initial weights,
    data and batches); returns the batch loss per iteration (steps + 1 values: before each update and
    after the last), NaN from the step where a run stopped being finite."""
    from nnsim.engine import data2d
    from nnsim.engine.mlp import MLP

    rng = np.random.default_rng(seed)
    X, labels = data2d.make("moons", rng, n_points=200, noise=0.15)
    Y = np.eye(2)[labels]
    out = {}
    for name in params.enabled():
        if name == "newton":
            continue
        hyper = {k: v for k, v in params.hyper(name).items() if k not in ("lr", "tau", "lr_end")}
        net = MLP(sizes=list(MLP_SIZES), hidden="tanh", output="softmax", loss="cross_entropy", seed=seed)
        curve = np.full(int(steps) + 1, np.nan)
        try:
            curve[:-1] = net.train(X, Y, steps=int(steps), lr=MLP_LR[name], batch_size=20, optimizer=name,
                                   seed=seed, **hyper)
            curve[-1] = net.loss(X, Y)
        except FloatingPointError:
            pass  # the losses before the blow-up were not returned: the curve stays NaN (diverged)
        out[name] = curve
    return out


class OptimizerRaceSimulation(SimulationBase):
    """All enabled optimizers from one start on one surface, animated in lock step.

    ``reset`` and every parameter change compute the whole trajectories (``steps`` iterations, one
    numba call per optimizer); ``step(n)`` only moves the animation head. A live change recomputes
    the paths and keeps the head. At the horizon the status becomes "finished"; when every enabled
    optimizer has diverged it becomes "diverged".
    """

    params_class = OptimizerRaceParams
    kernel_modules = ("nnsim.engine.optimizers",)

    def __init__(self, params: OptimizerRaceParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self.reset(self.seed)

    # ---- computing ---------------------------------------------------------------------------
    def reset(self, seed: int) -> None:
        self.seed = int(seed)
        p = self.params
        kw = {"kappa": p.kappa} if p.surface == "canyon" else {}
        self._surface = _surf.Surface(p.surface, **kw)
        self.step_count = 0
        self._recompute()

    def _recompute(self) -> None:
        p = self.params
        steps = int(p.steps)
        self._noise = gradient_noise(steps, float(p.noise), self.seed)
        self._runs = {}
        self._dist = {}
        for name in p.enabled():
            r = run(self._surface, name, (p.start_x, p.start_y), steps, noise_array=self._noise,
                    **p.hyper(name))
            self._runs[name] = r
            self._dist[name] = self._surface.nearest_minimum_distance(r.path)
        self._mlp = train_mlp_race(p, steps, self.seed) if p.mlp_race else {}
        self.step_count = min(self.step_count, steps)
        self._update_status()

    def apply_live(self) -> None:
        self._recompute()

    def get_state(self) -> dict:
        """The paths are a pure function of the parameters and the seed: the head is all to keep."""
        return {"seed": self.seed, "step_count": self.step_count}

    def set_state(self, params: OptimizerRaceParams, state: dict) -> None:
        try:
            seed, head = int(state["seed"]), int(state["step_count"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("the saved optimizer-race state needs an integer seed and step_count") from None
        self.params = params.validate()
        self.reset(seed)
        self.step_count = max(0, min(head, int(self.params.steps)))
        self._update_status()

    # ---- stepping ----------------------------------------------------------------------------
    @property
    def head(self) -> int:
        return self.step_count

    def _all_diverged_at(self) -> int:
        """The step by which every enabled optimizer has diverged, or -1."""
        divs = [r.diverged_at for r in self._runs.values()]
        if not divs or min(divs) < 0:
            return -1
        return max(divs)

    def step(self, n: int = 1) -> None:
        """Move the animation head ``n`` iterations forward (not past the horizon)."""
        n = int(n)
        if n < 0:
            raise ValueError("step count must be non-negative")
        self.step_count = min(self.step_count + n, int(self.params.steps))
        self._update_status()

    def advance(self, n: int) -> int:
        """Like ``step(n)`` but stops exactly at the horizon, or at the step where the last
        running optimizer diverged. Returns the steps taken."""
        n = int(n)
        if n <= 0:
            return 0
        stop = int(self.params.steps)
        alldiv = self._all_diverged_at()
        if alldiv >= 0 and self.step_count < alldiv:
            stop = min(stop, alldiv)
        target = min(self.step_count + n, stop)
        if self.status != RUNNING:
            target = min(self.step_count + n, int(self.params.steps))
        taken = target - self.step_count
        self.step_count = target
        self._update_status()
        return taken

    def _update_status(self) -> None:
        head, steps = self.step_count, int(self.params.steps)
        divs = [(RULE_LABELS[k], r.diverged_at) for k, r in self._runs.items()
                if 0 <= r.diverged_at <= head]
        div_text = ", ".join(f"{lab} at step {d}" for lab, d in divs)
        alldiv = self._all_diverged_at()
        if not self._runs:
            self.status = FINISHED if head >= steps else RUNNING
            self.message = "No optimizer is switched on."
        elif 0 <= alldiv <= head:
            self.status = DIVERGED
            self.message = (f"Every optimizer diverged ({div_text}): |θ| grew beyond 1e8 or "
                            "became non-finite. Lower the learning rates.")
        elif head >= steps:
            self.status = FINISHED
            self.message = self._summary(head)
        else:
            self.status = RUNNING
            self.message = (f"Diverged: {div_text} (|θ| > 1e8 or not finite); the others go on."
                            if divs else "")

    def _summary(self, head: int) -> str:
        parts = []
        f_min = self._surface.f_min
        best = None
        for name, r in self._runs.items():
            lab = RULE_LABELS[name]
            if 0 <= r.diverged_at <= head:
                parts.append(f"{lab} diverged at step {r.diverged_at}")
                continue
            f = float(r.loss[head])
            parts.append(f"{lab} f = {f:.4g}")
            if best is None or f < best[1]:
                best = (lab, f)
        text = f"Finished {head} steps: " + "; ".join(parts) + "."
        if best is not None and f_min is not None:
            text += f" Lowest: {best[0]} (f − f_min = {best[1] - f_min:.3g})."
        return text

    # ---- views -------------------------------------------------------------------------------
    def _newton_note(self, head: int) -> str:
        r = self._runs.get("newton")
        if r is None:
            return ""
        notes = []
        flag = int(r.newton_flags[head]) if head >= 1 else 0
        sing, npd = r.newton_singular_at, r.newton_not_pd_at
        if 1 <= sing <= head:
            notes.append(f"Newton, step {sing}: {NEWTON_SINGULAR_NOTE}"
                         + (" (still stuck)." if flag == NEWTON_SINGULAR else "."))
        if 1 <= npd <= head:
            now = " (still so at the current step)" if flag == NEWTON_NOT_PD else ""
            notes.append(f"Newton, step {npd}: H is not positive definite{now}: "
                         f"{NEWTON_NOT_PD_NOTE}.")
        return " ".join(notes)

    def watch_value(self) -> float | None:
        """f(w) of the optimizer lowest on the surface at the head (diverged runs left out)."""
        head = self.step_count
        values = [float(r.loss[head]) for r in self._runs.values()
                  if head < len(r.loss) and not 0 <= r.diverged_at <= head and np.isfinite(r.loss[head])]
        return min(values) if values else None

    def snapshot(self) -> OptimizerRaceSnapshot:
        head = self.step_count
        surf = self._surface
        gx, gy, gz = surf.grid()
        names = tuple(self._runs)
        paths, losses, dists, vel, term, grads, look, lookg, eff, divs = ([] for _ in range(10))
        for name, r in self._runs.items():
            hp = r.hyper
            pos = r.path[head]
            paths.append(r.path[:head + 1].copy())
            losses.append(r.loss[:head + 1].copy())
            dists.append(self._dist[name][:head + 1].copy())
            ok = bool(np.all(np.isfinite(pos)))
            g = surf.grad(*pos) if ok else np.full(2, np.nan)
            grads.append(g)
            divs.append(r.diverged_at if 0 <= r.diverged_at <= head else -1)
            if name in VELOCITY_RULES:
                v = r.velocity[head].copy()
                vel.append(v)
                if name == "nesterov":
                    la = pos + hp["momentum"] * v
                    lg = surf.grad(*la) if ok else np.full(2, np.nan)
                    look.append(la)
                    lookg.append(lg)
                    g_used = lg
                else:
                    look.append(None)
                    lookg.append(None)
                    g_used = g
                term.append(float(hp["lr"] * np.hypot(*g_used) / (1.0 - hp["momentum"])))
            else:
                vel.append(None)
                term.append(float("nan"))
                look.append(None)
                lookg.append(None)
            eff.append(r.eff_lr[head].copy() if name in EFF_LR_RULES else None)
        label = surf.label + (f", κ = {surf.kappa:g}" if surf.name == "canyon" else "")
        return OptimizerRaceSnapshot(
            step_count=head, status=self.status, message=self.message,
            surface=surf.name, surface_label=label, surface_description=surf.description,
            bounds=tuple(surf.bounds), gx=gx, gy=gy, gz=gz, levels=surf.levels(),
            minima=surf.minima, f_min=surf.f_min,
            start=np.array([self.params.start_x, self.params.start_y], dtype=np.float64),
            names=names, labels=tuple(RULE_LABELS[n] for n in names), paths=paths,
            losses=losses, dist=dists, velocity_at_head=vel, terminal_velocity=term,
            grad_at_head=grads, lookahead_at_head=look, lookahead_grad_at_head=lookg,
            eff_lr_at_head=eff, diverged_at=tuple(divs), newton_note=self._newton_note(head),
            head=head, steps=int(self.params.steps),
            mlp_losses=tuple(self._mlp[n][:head + 1].copy() if n in self._mlp else None for n in names))

    def results(self) -> dict[str, RunResult]:
        """The full-horizon :class:`RunResult` per enabled optimizer (shared, do not modify)."""
        return dict(self._runs)


def warmup() -> None:
    """Compile (or load from the cache) every kernel on tiny inputs."""
    for name in RULES:
        run("canyon", name, (1.0, 1.0), 2, noise=0.1)
        if name != "newton":
            rule = make_rule(name, 3)
            theta = np.ones(3)
            rule.apply(theta, rule.grad_point(theta) * 0.5)
    make_rule("newton", 2).apply(np.ones(2), np.ones(2), hessian=np.eye(2))
    sgd_lr(1, 0.1, 10.0, 0.01)
