"""Update rules, 2-D runs and the optimizer-race simulation (no Qt).

The reference is a plain-Python transcription of the update formulas, one coordinate at a time,
with its own gradients, written independently of the numba kernels.
"""

import dataclasses
import math
import time

import numpy as np
import pytest

from nnsim.engine import optimizers as O
from nnsim.engine import surfaces as S
from nnsim.engine.base import DIVERGED, FINISHED, RUNNING, ParamError
from nnsim.engine.optimizers import (OptimizerRaceParams, OptimizerRaceSimulation,
                                     OptimizerRaceSnapshot)

# ---- an independent reference ------------------------------------------------------------------
KAPPA = 10.0


def g_canyon(x, y):
    return [x, KAPPA * y]


def g_rosenbrock(x, y):
    return [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]


def g_himmelblau(x, y):
    return [4 * x * (x * x + y - 11) + 2 * (x + y * y - 7), 2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)]


def h_himmelblau(x, y):
    return [[12 * x * x + 4 * y - 42, 4 * x + 4 * y], [4 * x + 4 * y, 4 * x + 12 * y * y - 26]]


def h_rosenbrock(x, y):
    return [[1200 * x * x - 400 * y + 2, -400 * x], [-400 * x, 200.0]]


GRADS = {"canyon": g_canyon, "rosenbrock": g_rosenbrock, "himmelblau": g_himmelblau}
HESS = {"rosenbrock": h_rosenbrock, "himmelblau": h_himmelblau}


def reference(surface, rule, start, steps, lr=None, momentum=0.9, rho=None, beta1=0.9,
              beta2=0.999, eps=None, tau=0, lr_end=0.0):
    """Python floats, the formulas as written in the brief."""
    grad = GRADS[surface]
    th = [float(start[0]), float(start[1])]
    v, r, s, Eg, Ed = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]
    out = [list(th)]
    for t in range(1, steps + 1):
        if rule == "nesterov":
            g = grad(th[0] + momentum * v[0], th[1] + momentum * v[1])
        else:
            g = grad(*th)
        for i in range(2):
            if rule == "sgd":
                k = t - 1
                if tau == 0:
                    lr_k = lr
                elif k <= tau:
                    lr_k = (1 - k / tau) * lr + (k / tau) * lr_end
                else:
                    lr_k = lr_end
                th[i] = th[i] - lr_k * g[i]
            elif rule in ("momentum", "nesterov"):
                v[i] = momentum * v[i] - lr * g[i]
                th[i] = th[i] + v[i]
            elif rule == "adagrad":
                r[i] = r[i] + g[i] * g[i]
                th[i] = th[i] - lr * g[i] / (eps + math.sqrt(r[i]))
            elif rule == "rmsprop":
                r[i] = rho * r[i] + (1 - rho) * g[i] * g[i]
                th[i] = th[i] - lr * g[i] / math.sqrt(eps + r[i])
            elif rule == "adam":
                s[i] = beta1 * s[i] + (1 - beta1) * g[i]
                r[i] = beta2 * r[i] + (1 - beta2) * g[i] * g[i]
                s_hat = s[i] / (1 - beta1 ** t)
                r_hat = r[i] / (1 - beta2 ** t)
                th[i] = th[i] - lr * s_hat / (math.sqrt(r_hat) + eps)
            elif rule == "adadelta":
                Eg[i] = rho * Eg[i] + (1 - rho) * g[i] * g[i]
                d = -math.sqrt(Ed[i] + eps) / math.sqrt(Eg[i] + eps) * g[i]
                if lr is not None:
                    d = lr * d
                Ed[i] = rho * Ed[i] + (1 - rho) * d * d
                th[i] = th[i] + d
        out.append(list(th))
    return np.array(out)


CASES = [  # (rule, hyper for both run() and reference())
    ("sgd", dict(lr=0.0015)),
    ("sgd", dict(lr=0.0019, tau=40, lr_end=0.0002)),
    ("momentum", dict(lr=0.001, momentum=0.9)),
    ("nesterov", dict(lr=0.001, momentum=0.85)),
    ("adagrad", dict(lr=0.4, eps=1e-7)),
    ("rmsprop", dict(lr=0.01, rho=0.9, eps=1e-6)),
    ("adam", dict(lr=0.05, beta1=0.9, beta2=0.999, eps=1e-8)),
    ("adam", dict(lr=0.02, beta1=0.5, beta2=0.9, eps=1e-3)),
    ("adadelta", dict(rho=0.95, eps=1e-6)),
    ("adadelta", dict(lr=0.5, rho=0.9, eps=1e-4)),
]
STARTS = {"canyon": (-4.0, 1.3), "rosenbrock": (-1.2, 1.0), "himmelblau": (0.5, -0.7)}


@pytest.mark.parametrize("surface", ["canyon", "rosenbrock", "himmelblau"])
@pytest.mark.parametrize("rule, hyper", CASES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(CASES)])
def test_rule_matches_python_reference(surface, rule, hyper):
    steps = 120
    kw = {"surface_kw": {"kappa": KAPPA}} if surface == "canyon" else {}
    got = O.run(surface, rule, STARTS[surface], steps, **kw, **hyper)
    assert got.diverged_at == -1
    want = reference(surface, rule, STARTS[surface], steps, **hyper)
    np.testing.assert_allclose(got.path, want, rtol=1e-12, atol=1e-14)
    assert not np.array_equal(got.path[-1], got.path[0])
    assert O.trajectory(surface, rule, STARTS[surface], steps, **kw, **hyper).tolist() == got.path.tolist()


def test_sgd_schedule_and_rule_state():
    lr, tau, lr_end = 0.1, 4, 0.02
    rule = O.make_rule("sgd", 3, lr=lr, tau=tau, lr_end=lr_end)
    theta = np.zeros(3)
    seen = []
    for k in range(7):
        assert rule.lr_now == pytest.approx((1 - k / tau) * lr + k / tau * lr_end if k <= tau else lr_end)
        before = theta.copy()
        rule.apply(theta, np.ones(3))
        seen.append(before[0] - theta[0])
    np.testing.assert_allclose(seen, [0.1, 0.08, 0.06, 0.04, 0.02, 0.02, 0.02], rtol=1e-12)
    st = rule.state()
    assert st["t"] == 7 and st["lr"] == lr_end
    np.testing.assert_allclose(st["lr_eff"], lr_end)
    np.testing.assert_allclose(st["step"], -lr_end)
    assert O.sgd_lr(0, lr, 0.0, lr_end) == lr          # tau = 0: no decay


def test_adam_bias_correction_first_step_is_about_lr():
    """With s_hat = g and r_hat = g² after bias correction, step 1 is lr g / (|g| + eps)."""
    rule = O.make_rule("adam", 2, lr=0.1)
    theta = np.array([1.0, -2.0])
    g = np.array([3e-4, -50.0])
    rule.apply(theta, g)
    st = rule.state()
    np.testing.assert_allclose(st["s_hat"], g, rtol=1e-12)
    np.testing.assert_allclose(st["r_hat"], g * g, rtol=1e-12)
    np.testing.assert_allclose(st["s"], 0.1 * g, rtol=1e-12)       # uncorrected: 10x too small
    np.testing.assert_allclose(theta, [1.0 - 0.1 * 3e-4 / (3e-4 + 1e-8), -2.0 + 0.1 * 50 / (50 + 1e-8)],
                               rtol=1e-15)
    np.testing.assert_allclose(theta, [0.9, -1.9], rtol=1e-4)       # |step| ≈ lr, whatever |g|
    np.testing.assert_allclose(st["lr_eff"], 0.1 / (np.abs(g) + 1e-8), rtol=1e-12)


def test_nesterov_look_ahead_point():
    rule = O.make_rule("nesterov", 2, lr=0.1, momentum=0.5)
    theta = np.array([1.0, 2.0])
    assert rule.grad_point(theta) is theta or np.array_equal(rule.grad_point(theta), theta)
    rule.apply(theta, np.array([1.0, -1.0]))                   # v = (-0.1, 0.1)
    np.testing.assert_allclose(rule.state()["v"], [-0.1, 0.1])
    np.testing.assert_allclose(rule.grad_point(theta), theta + 0.5 * np.array([-0.1, 0.1]))
    mom = O.make_rule("momentum", 2)
    assert mom.grad_point(theta) is theta
    # on a quadratic, Nesterov's second step differs from momentum's (gradient at the look-ahead)
    a = O.run("canyon", "nesterov", (3.0, 1.0), 3, lr=0.05, momentum=0.9)
    b = O.run("canyon", "momentum", (3.0, 1.0), 3, lr=0.05, momentum=0.9)
    np.testing.assert_array_equal(a.path[1], b.path[1])
    assert not np.allclose(a.path[2], b.path[2])


def test_terminal_velocity_under_a_constant_gradient():
    lr, mu = 0.01, 0.9
    g = np.array([3.0, -4.0])                                   # a plane: |g| = 5 everywhere
    rule = O.make_rule("momentum", 2, lr=lr, momentum=mu)
    theta = np.zeros(2)
    for _ in range(400):
        rule.apply(theta, g)
    v = rule.state()["v"]
    assert np.linalg.norm(v) == pytest.approx(lr * 5.0 / (1 - mu), rel=1e-12)
    np.testing.assert_allclose(v / np.linalg.norm(v), -g / 5.0, rtol=1e-12)


FIRST_ORDER = [("sgd", dict(lr=0.02, tau=25, lr_end=0.001)), ("momentum", dict(lr=0.01)),
               ("nesterov", dict(lr=0.01, momentum=0.8)), ("adagrad", dict(lr=0.5)),
               ("rmsprop", dict(lr=0.03)), ("adam", dict(lr=0.1)), ("adadelta", dict(eps=1e-4))]


@pytest.mark.parametrize("rule, hyper", FIRST_ORDER, ids=[r for r, _ in FIRST_ORDER])
def test_rule_on_a_flat_vector_equals_trajectory_per_coordinate(rule, hyper):
    """50 parameters = 25 independent copies of the canyon (x, y): one kernel for both uses."""
    kappa, steps = 12.0, 60
    rng = np.random.default_rng(3)
    starts = rng.uniform(-4, 4, (25, 2))
    theta = starts.reshape(-1).copy()
    a = np.tile([1.0, kappa], 25)                                # ∇ ½ Σ a_i θ_i² = a θ
    r = O.make_rule(rule, 50, **hyper)
    for _ in range(steps):
        r.apply(theta, a * r.grad_point(theta))
    assert r.t == steps
    for j in range(25):
        path = O.trajectory("canyon", rule, starts[j], steps, surface_kw={"kappa": kappa}, **hyper)
        np.testing.assert_array_equal(theta[2 * j:2 * j + 2], path[-1])
    r.reset()
    assert r.t == 0 and not r.S.any()


def test_rule_state_keys_and_errors():
    keys = {"sgd": {"lr", "lr_eff"}, "momentum": {"v"}, "nesterov": {"v"}, "adagrad": {"r", "lr_eff"},
            "rmsprop": {"r", "lr_eff"}, "adam": {"s", "r", "s_hat", "r_hat", "lr_eff"},
            "adadelta": {"Eg", "Ed", "lr_eff"}, "newton": {"flag"}}
    for name in O.RULES:
        assert set(O.make_rule(name, 4).state()) == keys[name] | {"t", "step"}
        assert set(O.HYPER_INFO[name]) == set(O.HYPER_DEFAULTS[name])
    with pytest.raises(ValueError, match="unknown optimizer"):
        O.make_rule("lbfgs", 3)
    with pytest.raises(TypeError, match="adam takes"):
        O.make_rule("adam", 3, momentum=0.9)
    with pytest.raises(ValueError, match="Hessian"):
        O.make_rule("newton", 2).apply(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError):
        O.make_rule("sgd", 3).apply(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError):
        O.make_rule("sgd", 3).apply(np.zeros(3, np.float32), np.ones(3))
    with pytest.raises(TypeError):
        O.run("rosenbrock", "sgd", steps=3, momentum=0.5)


# ---- Newton ------------------------------------------------------------------------------------
@pytest.mark.parametrize("surface, start, lr", [("rosenbrock", (-1.2, 1.0), 1.0),
                                                 ("himmelblau", (2.5, 2.5), 0.7)])
def test_newton_matches_reference(surface, start, lr):
    th = list(start)
    want = [list(th)]
    for _ in range(12):
        g = GRADS[surface](*th)
        (a, b), (_, d) = HESS[surface](*th)
        det = a * d - b * b
        th = [th[0] - lr * (d * g[0] - b * g[1]) / det, th[1] - lr * (a * g[1] - b * g[0]) / det]
        want.append(list(th))
    got = O.run(surface, "newton", start, 12, lr=lr)
    np.testing.assert_allclose(got.path, want, rtol=1e-12, atol=1e-14)


def test_newton_reaches_rosenbrock_minimum_in_a_handful_of_steps():
    r = O.run("rosenbrock", "newton", (-1.2, 1.0), 10)
    d = np.hypot(*(r.path - [1.0, 1.0]).T)
    first = int(np.flatnonzero(d < 1e-8)[0])
    assert first < 10
    assert np.all(d[first:] < 1e-8)
    gd = O.run("rosenbrock", "sgd", (-1.2, 1.0), 10, lr=0.001)
    assert np.hypot(*(gd.path[-1] - 1.0)) > 1.0


def test_newton_one_step_on_the_canyon():
    for kappa in (1.0, 50.0, 1000.0):
        r = O.run("canyon", "newton", (-4.5, 1.5), 3, surface_kw={"kappa": kappa})
        assert np.abs(r.path[1]).max() < 1e-14
        assert r.newton_not_pd_at == -1 and r.newton_singular_at == -1


def test_newton_flags_saddle_and_singular_points():
    r = O.run("saddle", "newton", (-1.5, 0.3), 4)
    assert r.newton_not_pd_at == 1 and r.newton_singular_at == -1
    np.testing.assert_allclose(r.path[1], [0.0, 0.0], atol=1e-15)     # straight onto the saddle
    assert list(r.newton_flags) == [0, 1, 1, 1, 1]
    # Rosenbrock's H is singular on y = x² + 0.005, e.g. at (0, 0.005): the step is skipped
    r = O.run("rosenbrock", "newton", (0.0, 0.005), 3)
    assert r.newton_singular_at == 1 and r.diverged_at == -1
    np.testing.assert_array_equal(r.path, [[0.0, 0.005]] * 4)
    # Himmelblau's local maximum attracts Newton (H negative definite)
    r = O.run("himmelblau", "newton", (-0.3, -0.9), 20)
    assert r.newton_not_pd_at == 1
    assert np.abs(S.Surface("himmelblau").grad(*r.path[-1])).max() < 1e-9


def test_newton_rule_in_n_dimensions():
    A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
    b = np.array([1.0, -2.0, 0.5])
    theta = np.zeros(3)
    rule = O.make_rule("newton", 3)
    assert rule.apply(theta, A @ theta - b, hessian=A) == O.NEWTON_OK
    np.testing.assert_allclose(theta, np.linalg.solve(A, b), rtol=1e-12)
    assert rule.apply(theta, np.ones(3), hessian=np.diag([1.0, -1.0, 2.0])) == O.NEWTON_NOT_PD
    before = theta.copy()
    assert rule.apply(theta, np.ones(3), hessian=np.diag([1.0, 0.0, 2.0])) == O.NEWTON_SINGULAR
    np.testing.assert_array_equal(theta, before)


# ---- runs: divergence, noise -------------------------------------------------------------------
def test_divergence_stops_the_run_with_nan_rows():
    r = O.run("rosenbrock", "sgd", (-1.2, 1.0), 50, lr=10.0)
    k = r.diverged_at
    assert k >= 1
    assert np.isfinite(r.path[:k]).all() and np.isnan(r.path[k:]).all()
    assert np.isnan(r.loss[k:]).all() and np.isfinite(r.loss[:k]).all()
    ok = O.run("rosenbrock", "adam", (-1.2, 1.0), 50, lr=0.01)
    assert ok.diverged_at == -1 and np.isfinite(ok.path).all()


def test_noise_is_reproducible_and_shared_between_optimizers():
    kw = dict(noise=0.5, seed=7)
    a = O.run("camel", "sgd", None, 200, lr=0.01, **kw)
    b = O.run("camel", "sgd", None, 200, lr=0.01, **kw)
    c = O.run("camel", "sgd", None, 200, lr=0.01, noise=0.5, seed=8)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.allclose(a.path, c.path)
    # momentum with μ = 0 is SGD: identical paths only if both saw the same noise draws
    m = O.run("camel", "momentum", None, 200, lr=0.01, momentum=0.0, **kw)
    np.testing.assert_array_equal(a.path, m.path)
    # a longer horizon only appends draws
    long = O.gradient_noise(300, 0.5, 7)
    np.testing.assert_array_equal(long[:200], O.gradient_noise(200, 0.5, 7))
    d = O.run("camel", "sgd", None, 300, lr=0.01, **kw)
    np.testing.assert_array_equal(d.path[:201], a.path)


def test_run_records_velocity_and_effective_rates():
    r = O.run("rosenbrock", "momentum", None, 30, lr=0.001)
    np.testing.assert_allclose(r.velocity[1:], np.diff(r.path, axis=0), rtol=1e-12, atol=1e-15)
    assert np.isnan(r.eff_lr).all()
    a = O.run("rosenbrock", "adagrad", None, 30, lr=0.5)
    assert not a.velocity.any()
    assert np.isnan(a.eff_lr[0]).all() and np.all(np.diff(a.eff_lr[1:], axis=0) <= 0)  # only falls


# ---- the simulation ----------------------------------------------------------------------------
def sim(seed=0, **kw):
    return OptimizerRaceSimulation(OptimizerRaceParams().replace(**kw), seed=seed)


def preset(name, seed=0):
    return OptimizerRaceSimulation(O.presets()[name], seed=seed)


def assert_same(a, b):
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, list):
            assert len(x) == len(y), f.name
            for u, w in zip(x, y):
                if isinstance(u, np.ndarray):
                    np.testing.assert_array_equal(u, w, err_msg=f.name)
                else:
                    assert u == w or (u != u and w != w), f.name
        elif isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name


def test_same_seed_same_run_and_step_n_equals_n_single_steps():
    kw = dict(surface="camel", start_x=-2.0, start_y=-1.0, noise=0.8, use_newton=True, steps=200)
    a, b = sim(3, **kw), sim(3, **kw)
    a.step(37)
    for _ in range(37):
        b.step(1)
    sa, sb = a.snapshot(), b.snapshot()
    assert sa.head == 37 and sa.step_count == 37
    assert_same(sa, sb)
    c = sim(4, **kw)
    c.step(37)
    assert not np.allclose(c.snapshot().paths[0], sa.paths[0])


def test_advance_stops_exactly_at_the_horizon():
    s = sim(steps=50)
    assert s.status == RUNNING
    assert s.advance(30) == 30 and s.status == RUNNING
    assert s.advance(1000) == 20
    assert s.step_count == 50 and s.status == FINISHED and "Finished 50 steps" in s.message
    assert s.advance(10) == 0 and s.step_count == 50
    s.step(5)
    assert s.step_count == 50
    snap = s.snapshot()
    assert all(len(p) == 51 for p in snap.paths) and snap.steps == 50


def test_live_change_keeps_the_head_and_recomputes_the_paths():
    s = sim()
    s.step(20)
    before = s.snapshot()
    assert s.set_params(s.params.replace(start_x=-3.0, start_y=-2.0)) is True
    after = s.snapshot()
    assert s.step_count == 20 and after.head == 20
    assert after.paths[0][0].tolist() == [-3.0, -2.0]
    assert not np.allclose(after.paths[0], before.paths[0])
    # the same as a fresh run from there
    fresh = sim(start_x=-3.0, start_y=-2.0)
    fresh.step(20)
    assert_same(after, fresh.snapshot())
    # a live rate change, then a shorter horizon below the head
    s.set_params(s.params.replace(adam_lr=0.01))
    assert s.step_count == 20
    s.set_params(s.params.replace(steps=10))
    assert s.step_count == 10 and s.status == FINISHED
    s.set_params(s.params.replace(steps=40))
    assert s.step_count == 10 and s.status == RUNNING
    # a structural change (the surface) restarts
    assert s.set_params(s.params.replace(surface="rosenbrock")) is False
    assert s.step_count == 0


def test_divergence_is_marked_and_the_others_go_on():
    kw = {**O.SURFACE_SETUPS["rosenbrock"], "surface": "rosenbrock", "sgd_lr": 10.0, "steps": 100}
    s = sim(**kw)
    s.step(100)
    snap = s.snapshot()
    i = snap.names.index("sgd")
    assert snap.diverged_at[i] >= 1
    assert all(d == -1 for j, d in enumerate(snap.diverged_at) if j != i)
    assert np.isnan(snap.paths[i][-1]).all() and np.isnan(snap.grad_at_head[i]).all()
    assert snap.status == FINISHED and "SGD diverged at step" in snap.message
    s2 = sim(**kw)
    s2.step(snap.diverged_at[i])
    assert s2.status == RUNNING and "SGD at step" in s2.message


def test_all_diverged_stops_the_animation():
    over = {f"use_{r}": r in ("sgd", "momentum") for r in O.RULES}
    s = sim(surface="rosenbrock", start_x=-1.2, start_y=1.0, sgd_lr=10.0, momentum_lr=10.0, **over)
    stop = max(s.results()[n].diverged_at for n in ("sgd", "momentum"))
    assert 1 <= stop < 300
    assert s.advance(10000) == stop
    assert s.status == DIVERGED and "Every optimizer diverged" in s.message


def test_snapshot_contents():
    s = sim(use_newton=True)
    s.step(25)
    snap = s.snapshot()
    assert isinstance(snap, OptimizerRaceSnapshot)
    assert snap.names == O.RULES and snap.labels[0] == "SGD"
    assert snap.surface == "canyon" and "κ = 20" in snap.surface_label
    assert snap.gz.shape == (len(snap.gy), len(snap.gx)) == (200, 200)
    assert snap.minima.shape == (1, 2) and snap.f_min == 0.0
    assert snap.bounds == S.SPECS["canyon"].bounds
    surf = S.Surface("canyon", kappa=20)
    for k, name in enumerate(snap.names):
        r = s.results()[name]
        assert snap.paths[k].shape == (26, 2) and snap.losses[k].shape == (26,)
        np.testing.assert_array_equal(snap.paths[k], r.path[:26])
        np.testing.assert_allclose(snap.dist[k], np.hypot(*r.path[:26].T))
        np.testing.assert_allclose(snap.grad_at_head[k], surf.grad(*r.path[25]))
        assert (snap.velocity_at_head[k] is None) == (name not in ("momentum", "nesterov"))
        assert (snap.lookahead_at_head[k] is None) == (name != "nesterov")
        assert (snap.eff_lr_at_head[k] is None) == (name in ("momentum", "nesterov", "newton"))
    m = snap.names.index("momentum")
    g = snap.grad_at_head[m]
    assert snap.terminal_velocity[m] == pytest.approx(0.01 * np.hypot(*g) / (1 - 0.9))
    n = snap.names.index("nesterov")
    np.testing.assert_allclose(snap.lookahead_at_head[n],
                               snap.paths[n][-1] + 0.9 * snap.velocity_at_head[n])
    assert math.isnan(snap.terminal_velocity[0])
    assert snap.newton_note == ""
    snap.paths[0][:] = 0.0                                       # copies: the simulation is unharmed
    assert not np.array_equal(s.snapshot().paths[0], snap.paths[0])
    saddle = sim(surface="saddle", start_x=-1.0, start_y=0.2, use_newton=True).snapshot()
    assert saddle.minima.shape == (0, 2) and saddle.f_min is None and np.isnan(saddle.dist[0]).all()


def test_recompute_is_fast():
    """8 optimizers x 2000 steps on Rosenbrock (what dragging the start point costs)."""
    s = sim(**{**O.SURFACE_SETUPS["rosenbrock"], "surface": "rosenbrock", "use_newton": True,
               "steps": 2000})
    best = math.inf
    for k in range(5):
        t0 = time.perf_counter()
        s.set_params(s.params.replace(start_x=-1.2 + 0.01 * k))
        best = min(best, time.perf_counter() - t0)
    assert len(s.results()) == 8 and best < 0.030


# ---- presets: the lecture's claims -------------------------------------------------------------
def final(name):
    s = preset(name)
    s.advance(10 ** 6)
    assert s.status == FINISHED
    return s, s.snapshot()


def test_preset_saddle_sgd_stalls_adaptive_escape():
    s, snap = final("Saddle point: SGD stalls, adaptive methods escape")
    d = {n: np.hypot(*p.T) for n, p in zip(snap.names, snap.paths)}   # distance from the saddle
    N = snap.head
    assert N >= 100
    assert d["sgd"][N // 3:].max() < 0.6 and d["sgd"][N] < 0.1      # lingers near the saddle
    for n in ("adam", "rmsprop", "adagrad"):
        assert d[n][N] > 10 * d["sgd"][N], n
        assert d[n][N] > 1.0, n
    assert "saddle point or maximum" in snap.newton_note


def test_preset_canyon_momentum_goes_lengthwise():
    s, snap = final("Canyon: momentum goes lengthwise")
    d = dict(zip(snap.names, snap.dist))
    assert d["momentum"][100] < 1e-3 * d["sgd"][100]
    y = snap.paths[snap.names.index("sgd")][1:12, 1]
    assert np.all(y[:-1] * y[1:] < 0)                               # SGD zig-zags across the walls


def test_preset_distill_momentum():
    s, snap = final("Momentum as in distill (η = 0.0045, μ = 0.70)")
    assert s.params.momentum_lr == 0.0045 and s.params.momentum_momentum == 0.7
    d = dict(zip(snap.names, snap.dist))
    assert d["momentum"][-1] < 0.1 * d["sgd"][-1]


def test_preset_adagrad_stalls_rmsprop_goes_on():
    s, snap = final("AdaGrad stalls, RMSProp goes on")
    d = dict(zip(snap.names, snap.dist))
    assert d["adagrad"][-1] > 5 * d["rmsprop"][-1]
    ra, rr = s.results()["adagrad"], s.results()["rmsprop"]
    assert ra.eff_lr[-1].max() < 1e-3                                # AdaGrad's rate froze tiny
    assert rr.eff_lr[-1].min() > 10 * np.nanmin(rr.eff_lr)           # RMSProp's recovered


def test_preset_newton_one_step():
    s = preset("Newton: one step on a quadratic")
    s.step(1)
    snap = s.snapshot()
    i = snap.names.index("newton")
    assert snap.dist[i][1] < 1e-12 and snap.dist[snap.names.index("sgd")][1] > 1.0


def test_other_presets_hold():
    s, snap = final("Rosenbrock race")
    d = dict(zip(snap.names, snap.dist))
    assert len(snap.names) == 8 and all(x == -1 for x in snap.diverged_at)
    assert d["newton"][10] < 1e-8 and d["adam"][-1] < 1e-3 and d["sgd"][-1] > 0.05
    s, snap = final("Plateau: gradients vanish, adaptive steps do not")
    d = dict(zip(snap.names, snap.dist))
    assert d["sgd"][-1] > 3.0 and d["adam"][-1] < 1e-3
    s, snap = final("Six-hump camel: momentum reaches a deeper basin")
    f = dict(zip(snap.names, (x[-1] for x in snap.losses)))
    assert f["momentum"] == pytest.approx(-1.0316, abs=1e-4) and f["sgd"] == pytest.approx(2.1043, abs=1e-4)
    s, snap = final("Himmelblau: the optimizer picks the minimum (Newton climbs)")
    mins = S.Surface("himmelblau").minima
    ends = {n: int(np.argmin(np.hypot(*(mins - p[-1]).T))) for n, p in zip(snap.names, snap.paths)}
    assert ends["sgd"] != ends["adam"] and "Newton" in snap.newton_note


# ---- parameters --------------------------------------------------------------------------------
def test_params_metadata():
    info = {fi.name: fi for fi in OptimizerRaceParams.fields_info()}
    for r in O.RULES:
        assert f"use_{r}" in info
        for key in O.HYPER_DEFAULTS[r]:
            fi = info[f"{r}_{key}"]
            assert fi.live and fi.group == O.RULE_LABELS[r]
    assert all(fi.group for fi in info.values())
    assert [n for n, fi in info.items() if not fi.live] == ["surface", "kappa"]
    assert info["kappa"].lo == 1 and info["kappa"].hi == 1000 and info["kappa"].default == 20
    assert info["steps"].lo == 10 and info["steps"].hi == 20000 and info["steps"].default == 300
    assert info["noise"].lo == 0 and info["noise"].hi == 10
    assert [c[0] for c in info["surface"].choices] == list(S.SURFACES)
    for name, fi in info.items():
        sym = {"lr": "η", "momentum": "μ", "rho": "ρ", "beta1": "β1", "beta2": "β2", "eps": "ε"}
        for key, s in sym.items():
            if name.endswith("_" + key) and not name.startswith("use_"):
                assert s in fi.label, name
    assert "α" in info["momentum_momentum"].help                     # the course's symbol
    assert "√(r̂ + δ)" in info["adam_eps"].help                       # the slide's convention noted
    assert not info["use_newton"].default
    for name, p in O.presets().items():
        assert p.validate() is p and name in O.PRESET_NOTES
    for name in S.SURFACES:
        p = O.params_for_surface(OptimizerRaceParams(), name)
        assert p.surface == name and (p.start_x, p.start_y) == (O.SURFACE_SETUPS[name]["start_x"],
                                                                O.SURFACE_SETUPS[name]["start_y"])
    with pytest.raises(ParamError):
        OptimizerRaceParams().replace(momentum_momentum=1.5)


def test_default_race_reaches_the_minimum():
    s = sim()
    s.advance(10 ** 6)
    snap = s.snapshot()
    assert snap.status == FINISHED and all(x == -1 for x in snap.diverged_at)
    assert max(d[-1] for d in snap.dist) < 0.05
    assert min(d[30] for d in snap.dist) > 0.1                        # but nobody is there at once


def test_warmup_runs():
    O.warmup()


def test_mlp_race_same_start_same_batches_independent_reference():
    """The MLP mode: every optimizer starts from the same weights (same first loss) and its curve is
    what MLP.train gives for that rule alone; stepping the head only reveals more of it."""
    from nnsim.engine import data2d
    from nnsim.engine.mlp import MLP
    from nnsim.engine.optimizers import MLP_LR, OptimizerRaceParams, OptimizerRaceSimulation

    p = OptimizerRaceParams(mlp_race=True, steps=120)
    sim = OptimizerRaceSimulation(p, seed=3)
    sim.step(50)
    snap = sim.snapshot()
    curves = {n: c for n, c in zip(snap.names, snap.mlp_losses) if c is not None}
    assert "newton" not in curves and len(curves) >= 6
    firsts = {round(float(c[0]), 12) for c in curves.values()}
    assert len(firsts) == 1 and all(len(c) == 51 for c in curves.values())
    rng = np.random.default_rng(3)
    X, labels = data2d.make("moons", rng, n_points=200, noise=0.15)
    net = MLP(sizes=[2, 16, 2], hidden="tanh", output="softmax", loss="cross_entropy", seed=3)
    ref = net.train(X, np.eye(2)[labels], steps=120, lr=MLP_LR["adam"], batch_size=20, optimizer="adam",
                    seed=3, **{k: v for k, v in p.hyper("adam").items() if k != "lr"})
    np.testing.assert_array_equal(curves["adam"], ref[:51])
    assert len({round(float(c[-1]), 9) for c in curves.values()}) == len(curves)  # the rules differ
    sim.step(70)
    assert all(np.isfinite(c).all() for c in sim.snapshot().mlp_losses if c is not None)
