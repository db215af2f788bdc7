"""Samples presented per second: the numba perceptron engine against a plain numpy loop.

Both apply the same rule, w <- w + eta (t - y) x on each wrong output, one sample at a time, to the
same data (the course article's two clusters, 66 + 34 points; XOR as an update-heavy extra) with the
order reshuffled every epoch. The engine is timed through ``PerceptronSimulation.step(n)`` after a
warm-up call (so JIT compilation is excluded); the baseline is the loop a student would write with
numpy. A second run in fixed order from the same initial weights checks that both do the same work.

Run:  python benchmarks/bench_perceptron.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout

from nnsim.engine.perceptron import PerceptronParams, PerceptronSimulation


def plain_loop(W, Xa, T, lr, epochs, rng=None):
    """The rule with numpy, per sample; shuffled each epoch when ``rng`` is given. Returns errors."""
    m = len(Xa)
    errors = 0
    for _ in range(epochs):
        order = rng.permutation(m) if rng is not None else range(m)
        for k in order:
            x = Xa[k]
            y = (W @ x > 0).astype(np.int64)
            eps = T[k] - y
            if eps.any():
                errors += 1
                W += lr * eps[:, None] * x
    return errors


def training_arrays(sim):
    """Initial weights and augmented inputs/targets exactly as the engine trains on them."""
    snap = sim.snapshot()
    xn = (snap.X - snap.center) / snap.scale
    Xa = np.c_[np.full(len(xn), -1.0 if snap.bias else 0.0), xn]
    return snap.weights.copy(), Xa, snap.T.copy()


def best_time(fn, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench(dataset, engine_samples=2_000_000, plain_epochs=200, lr=0.1):
    params = PerceptronParams(dataset=dataset, lr=lr, order="shuffled", max_epochs=100000)
    warm = PerceptronSimulation(params, seed=0)
    warm.step(1000)                                   # compile / load the kernel from the cache

    def engine():
        sim = PerceptronSimulation(params, seed=0)
        sim.step(engine_samples)

    setup = best_time(lambda: PerceptronSimulation(params, seed=0))
    t_engine = best_time(engine) - setup
    W0, Xa, T = training_arrays(PerceptronSimulation(params, seed=0))
    m = len(Xa)
    t_plain = best_time(lambda: plain_loop(W0.copy(), Xa, T, lr, plain_epochs, np.random.default_rng(1)))
    rate_engine = engine_samples / t_engine
    rate_plain = plain_epochs * m / t_plain

    # same work: fixed order, same initial weights, same number of epochs
    epochs = 300
    fixed = PerceptronSimulation(params.replace(order="fixed"), seed=0)
    W_plain = W0.copy()
    err_plain = plain_loop(W_plain, Xa, T, lr, epochs)
    fixed.step(epochs * m)
    snap = fixed.snapshot()
    diff = np.abs(snap.weights - W_plain).max()
    print(f"{dataset:9s} m={m:4d}  numba engine {rate_engine:12,.0f} samples/s   "
          f"plain numpy loop {rate_plain:10,.0f} samples/s   ratio {rate_engine / rate_plain:6.0f}x")
    print(f"{'':9s} check, {epochs} epochs in fixed order: wrong presentations engine "
          f"{int(snap.epoch_errors.sum())} / plain {err_plain}, max |w_engine - w_plain| = {diff:.1e}")
    return rate_engine, rate_plain, diff


if __name__ == "__main__":
    import platform
    import numba

    print(f"Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
          f"{platform.machine()}")
    bench("clusters")
    bench("xor", lr=0.25)
