"""The optimizer race's recompute: 8 optimizers x 2000 steps on Rosenbrock, numba vs plain numpy.

This is what the panel pays every time the start point is dragged or a live rate changes: every
enabled optimizer's whole trajectory is recomputed. The engine is timed through
``OptimizerRaceSimulation.set_params`` (a live start change: paths, losses, distances), and through
the bare :func:`nnsim.engine.optimizers.run` calls; the baseline is the loop a student would write,
one numpy update per step on a length-2 vector with Python gradients. Both must give the same paths.
Target: well under 30 ms per recompute.

Run:  python benchmarks/bench_optimizers.py
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout

from nnsim.engine import optimizers as O  # noqa: E402

STEPS = 2000
START = (-1.2, 1.0)


def grad(th):
    x, y = th
    return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])


def hess(th):
    x, y = th
    return np.array([[2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x], [-400.0 * x, 200.0]])


def plain(rule: str, hp: dict, steps: int = STEPS) -> np.ndarray:
    """The same update rules with numpy, one step at a time."""
    th = np.array(START, dtype=np.float64)
    v, r, s, eg, ed = (np.zeros(2) for _ in range(5))
    out = np.full((steps + 1, 2), np.nan)
    out[0] = th
    lr = hp.get("lr")
    for t in range(1, steps + 1):
        if rule == "nesterov":
            g = grad(th + hp["momentum"] * v)
        else:
            g = grad(th)
        if rule == "sgd":
            k, tau = t - 1, hp["tau"]
            lr_k = lr if tau <= 0 else ((1 - k / tau) * lr + k / tau * hp["lr_end"] if k <= tau
                                        else hp["lr_end"])
            th = th + -(lr_k * g)
        elif rule in ("momentum", "nesterov"):
            v = hp["momentum"] * v - lr * g
            th = th + v
        elif rule == "adagrad":
            r = r + g * g
            th = th + -(lr * g / (hp["eps"] + np.sqrt(r)))
        elif rule == "rmsprop":
            r = hp["rho"] * r + (1.0 - hp["rho"]) * g * g
            th = th + -(lr * g / np.sqrt(hp["eps"] + r))
        elif rule == "adam":
            b1, b2 = hp["beta1"], hp["beta2"]
            s = b1 * s + (1.0 - b1) * g
            r = b2 * r + (1.0 - b2) * g * g
            s_hat = s / (1.0 - b1 ** float(t))
            r_hat = r / (1.0 - b2 ** float(t))
            th = th + -(lr * s_hat / (np.sqrt(r_hat) + hp["eps"]))
        elif rule == "adadelta":
            rho, eps = hp["rho"], hp["eps"]
            eg = rho * eg + (1.0 - rho) * g * g
            d = lr * -(np.sqrt(ed + eps) / np.sqrt(eg + eps) * g)
            ed = rho * ed + (1.0 - rho) * d * d
            th = th + d
        elif rule == "newton":
            H = hess(th)
            det = H[0, 0] * H[1, 1] - H[0, 1] ** 2
            step = np.array([H[1, 1] * g[0] - H[0, 1] * g[1], H[0, 0] * g[1] - H[0, 1] * g[0]]) / det
            th = th + -(lr * step)
        if not np.all(np.isfinite(th)) or np.abs(th).max() > O.DIVERGENCE_LIMIT:
            break
        out[t] = th
    return out


def main() -> None:
    params = O.OptimizerRaceParams().replace(surface="rosenbrock", use_newton=True,
                                             **{**O.SURFACE_SETUPS["rosenbrock"], "steps": STEPS})
    sim = O.OptimizerRaceSimulation(params)        # compiles / loads the kernels
    names = params.enabled()
    hypers = {n: params.hyper(n) for n in names}
    print(f"{len(names)} optimizers x {STEPS} steps on Rosenbrock from {START}: "
          f"{', '.join(names)}")

    times = []
    for k in range(30):
        p = params.replace(start_x=START[0] + (1e-9 if k % 2 else 0.0))
        t0 = time.perf_counter()
        sim.set_params(p)
        times.append(time.perf_counter() - t0)
    sim.set_params(params)
    t_sim = statistics.median(times)

    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        for n in names:
            O.run("rosenbrock", n, START, STEPS, **hypers[n])
        times.append(time.perf_counter() - t0)
    t_run = statistics.median(times)

    times = []
    ref = {}
    for _ in range(2):
        t0 = time.perf_counter()
        for n in names:
            ref[n] = plain(n, hypers[n])
        times.append(time.perf_counter() - t0)
    t_plain = min(times)

    worst = 0.0
    for n in names:
        got = sim.results()[n].path
        same = np.array_equal(np.isnan(got), np.isnan(ref[n]))
        diff = float(np.nanmax(np.abs(got - ref[n])))
        worst = max(worst, diff)
        if not same or not math.isfinite(diff) or diff > 1e-9:
            raise SystemExit(f"MISMATCH for {n}: max |Δ| = {diff}")
    print(f"numba, simulation recompute (set_params, median of 30): {t_sim * 1e3:8.2f} ms  "
          f"(target < 30 ms: {'ok' if t_sim < 0.030 else 'MISSED'})")
    print(f"numba, bare run() calls         (median of 30):        {t_run * 1e3:8.2f} ms")
    print(f"plain numpy loop                (best of 2):           {t_plain * 1e3:8.2f} ms")
    print(f"ratio plain / numba (simulation recompute): {t_plain / t_sim:6.0f}x")
    print(f"same paths: yes (max |Δ| = {worst:.1e})")


if __name__ == "__main__":
    main()
