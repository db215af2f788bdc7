"""Forward + BPTT per second: the numba recurrent engine against a plain numpy implementation.

The workload of the issue is an LSTM with H = 32 hidden units, T = 50 steps and a minibatch of
B = 32 sequences (n = 8 inputs here), forward pass and backpropagation through time over the whole
sequences, weight gradients included, float64. The baseline is the LSTM a student writes with
numpy (the stacked-W form of the lecture: one product per step on [h_{t-1}, x_t], element-wise
gates, dW accumulated per step). The engine runs as the panel's training loop does
(``reuse=True``: its buffers are kept between calls). Both are timed in the same run, alternating
call by call, and checked to give the same gradients. Other sizes show where the ratio goes (the
panel's own sizes and a large one, where both are BLAS-bound); the other cells are timed too.
torch (CPU, float64 and float32) joins the table when it is installed.

Run:  python benchmarks/bench_recurrent.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout

from nnsim.engine.recurrent import make_cell  # noqa: E402


def numpy_lstm(x, W, b, dH):
    """Plain numpy LSTM: forward, then BPTT; returns (h, dW, db, dx)."""
    T, B, n = x.shape
    H = W.shape[0] // 4
    h, c = np.zeros((B, H)), np.zeros((B, H))
    hs, cs, cache = [h], [c], []
    for t in range(T):
        hx = np.concatenate([h, x[t]], axis=1)
        z = hx @ W.T + b
        i = 1.0 / (1.0 + np.exp(-z[:, :H]))
        f = 1.0 / (1.0 + np.exp(-z[:, H:2 * H]))
        o = 1.0 / (1.0 + np.exp(-z[:, 2 * H:3 * H]))
        g = np.tanh(z[:, 3 * H:])
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        cache.append((i, f, o, g, tc))
        hs.append(h)
        cs.append(c)
    dW, db, dx = np.zeros_like(W), np.zeros_like(b), np.zeros_like(x)
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        i, f, o, g, tc = cache[t]
        hx = np.concatenate([hs[t], x[t]], axis=1)     # recomputed: measured faster than keeping it
        dh = dH[t] + dh_next
        dc = dc_next + dh * o * (1.0 - tc * tc)
        dz = np.concatenate([dc * g * i * (1.0 - i), dc * cs[t] * f * (1.0 - f),
                             dh * tc * o * (1.0 - o), dc * i * (1.0 - g * g)], axis=1)
        dW += dz.T @ hx
        db += dz.sum(axis=0)
        dhx = dz @ W
        dh_next, dx[t] = dhx[:, :H], dhx[:, H:]
        dc_next = dc * f
    return np.array(hs[1:]), dW, db, dx


def engine_call(cell, x, dH):
    tr = cell.forward(x, reuse=True)
    return cell.backward(x, dH, cache=tr, reuse=True)


def torch_calls(x, W, b, dH):
    """forward + backward with torch autograd on CPU, float64 and float32 (or {} without torch)."""
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    out = {}
    for dtype, name in ((torch.float64, "torch CPU float64"), (torch.float32, "torch CPU float32")):
        lstm = torch.nn.LSTM(x.shape[2], W.shape[0] // 4, dtype=dtype)
        xt = torch.tensor(x, dtype=dtype)
        gt = torch.tensor(dH, dtype=dtype)

        def call(lstm=lstm, xt=xt, gt=gt):
            lstm.zero_grad()
            h, _ = lstm(xt)
            h.backward(gt)

        out[name] = call
    return out


def interleaved(calls: dict, repeats: int) -> dict:
    """Median and best seconds per call, the contenders alternating call by call."""
    for fn in calls.values():
        fn()
        fn()
    times = {k: [] for k in calls}
    for _ in range(repeats):
        for k, fn in calls.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: (float(np.median(v)), float(np.min(v))) for k, v in times.items()}


def bench_size(H, T, B, n, repeats, with_torch=False):
    rng = np.random.default_rng(0)
    cell = make_cell("lstm", n, H, seed=0)
    x = rng.standard_normal((T, B, n))
    dH = rng.standard_normal((T, B, H))
    W, b = cell.W.copy(), cell.b.copy()
    ref = numpy_lstm(x, W, b, dH)
    got = engine_call(cell, x, dH)
    err = max(np.abs(got["dW"] - ref[1]).max(), np.abs(got["dx"] - ref[3]).max())
    assert err < 1e-10, f"engine and numpy disagree by {err}"
    calls = {"nnsim engine (numba)": lambda: engine_call(cell, x, dH),
             "plain numpy": lambda: numpy_lstm(x, W, b, dH)}
    if with_torch:
        calls.update(torch_calls(x, W, b, dH))
    return interleaved(calls, repeats)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args()
    print(f"nnsim recurrent benchmark; {os.cpu_count()} cores, load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())} before the run\n")

    H, T, B, n = 32, 50, 32, 8
    res = bench_size(H, T, B, n, args.repeats, with_torch=True)
    base, base_best = res["plain numpy"]
    print(f"LSTM forward + BPTT, H = {H}, T = {T}, B = {B}, n = {n}, one call = whole minibatch")
    print(f"{'implementation':26s} {'median ms':>10s} {'best ms':>9s} {'calls/s':>9s} "
          f"{'vs numpy':>9s} {'(best)':>7s}")
    for name, (med, best) in res.items():
        print(f"{name:26s} {1e3 * med:10.3f} {1e3 * best:9.3f} {1 / med:9.0f} {base / med:8.2f}x "
              f"{base_best / best:6.2f}x")
    try:
        import torch  # noqa: F401
    except ImportError:
        print("(torch is not installed: no torch rows)")

    print("\nOther sizes (LSTM; ratio = numpy median / engine median; float64 both)")
    print(f"{'H':>4s} {'T':>4s} {'B':>4s} {'n':>4s} {'engine ms':>10s} {'numpy ms':>9s} {'ratio':>7s}  where")
    sizes = ((8, 41, 1, 2, "the panel inspecting one sequence"),
             (8, 41, 32, 2, "the panel's delayed-recall preset"),
             (16, 30, 32, 2, "adding problem preset"),
             (48, 40, 32, 26, "next-character preset"),
             (64, 50, 32, 8, ""), (128, 50, 64, 32, "large: both BLAS-bound"))
    for H2, T2, B2, n2, where in sizes:
        r = bench_size(H2, T2, B2, n2, max(20, args.repeats // 4))
        e, p = r["nnsim engine (numba)"][0], r["plain numpy"][0]
        print(f"{H2:4d} {T2:4d} {B2:4d} {n2:4d} {1e3 * e:10.3f} {1e3 * p:9.3f} {p / e:6.2f}x  {where}")

    print(f"\nEvery cell of the engine at H = {H}, T = {T}, B = {B}, n = {n} (median ms per call)")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, B, n))
    dH = rng.standard_normal((T, B, H))
    calls = {name: (lambda c=make_cell(name, n, H): engine_call(c, x, dH))
             for name in ("rnn", "lstm", "peephole", "coupled", "gru")}
    for name, (med, _) in interleaved(calls, max(20, args.repeats // 4)).items():
        print(f"  {name:9s} {1e3 * med:7.3f} ms")


if __name__ == "__main__":
    main()
