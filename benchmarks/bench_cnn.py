"""The CNN engine: one training epoch on the 8x8 digits, and 100 activation-maximization steps.

Engine (numba, float64, per-sample loops with the sparse pool-router backward) against a plain numpy
implementation measured in the same run (batched im2col + matmul, the vectorized code a student would
write), and torch (CPU, float64, same architecture and batches) when it is installed. The numpy and
torch versions compute the same gradients (checked below before timing).

Network: the panel's default: conv 3x3 x 16 → ReLU → conv 3x3 x 32 → ReLU → max-pool 2x2 → dense 10,
1438 training images, mini-batches of 32, Adam. Targets (issue 7): an epoch within 1.5x of torch at
float64 (about 45 ms for torch on this machine class, STACK_NOTES), 100 ascent steps under 5 ms.

Run:  python benchmarks/bench_cnn.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout

from nnsim.engine import actmax, cnn, digits, optimizers  # noqa: E402

BATCH = 32


# ---- plain numpy --------------------------------------------------------------------------------

def _im2col(a):
    """(m, H, W, C) → (m, H-2, W-2, 9C) patches in [u, v, c] order (the engine's weight layout)."""
    m, H, W, C = a.shape
    cols = np.empty((m, H - 2, W - 2, 9 * C))
    for u in range(3):
        for v in range(3):
            k = (u * 3 + v) * C
            cols[..., k:k + C] = a[:, u:u + H - 2, v:v + W - 2, :]
    return cols


def _col2im(dcols, shape):
    m, H, W, C = shape
    out = np.zeros(shape)
    for u in range(3):
        for v in range(3):
            k = (u * 3 + v) * C
            out[:, u:u + H - 2, v:v + W - 2, :] += dcols[..., k:k + C]
    return out


def numpy_loss_grad(net: cnn.ConvNet, X, y, want_input=False, seed=None):
    """Loss (mean cross-entropy) and gradient for a batch, channels-last, no padding/hidden layer."""
    w = net.weights
    c1, c2 = net.maps
    m = len(X)
    W1, W2 = w["conv1_w"].reshape(-1, c1), w["conv2_w"].reshape(-1, c2)
    col1 = _im2col(X)
    a1 = col1 @ W1 + w["conv1_b"]
    r1 = np.maximum(a1, 0)
    col2 = _im2col(r1)
    a2 = col2 @ W2 + w["conv2_b"]
    r2 = np.maximum(a2, 0)
    h2, w2 = a2.shape[1], a2.shape[2]
    blocks = r2.reshape(m, h2 // 2, 2, w2 // 2, 2, c2).transpose(0, 1, 3, 5, 2, 4).reshape(m, h2 // 2, w2 // 2, c2, 4)
    arg = blocks.argmax(axis=-1)
    pool = np.take_along_axis(blocks, arg[..., None], -1)[..., 0]
    f = pool.reshape(m, -1)
    z = f @ w["out_w"] + w["out_b"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    if seed is None:
        loss = float(np.mean(np.log(e.sum(axis=1)) + z.max(axis=1) - z[np.arange(m), y]))
        dz = p.copy()
        dz[np.arange(m), y] -= 1
        dz /= m
    else:
        loss, dz = float(z[0, seed]), np.zeros_like(z)
        dz[0, seed] = 1.0
    g = {"out_w": f.T @ dz, "out_b": dz.sum(0)}
    df = dz @ w["out_w"].T
    dblocks = np.zeros_like(blocks)
    np.put_along_axis(dblocks, arg[..., None], df.reshape(pool.shape)[..., None], -1)
    dr2 = dblocks.reshape(m, h2 // 2, w2 // 2, c2, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(a2.shape)
    da2 = dr2 * (a2 > 0)
    g["conv2_w"] = np.einsum("mijk,mijo->ko", col2, da2).reshape(w["conv2_w"].shape)
    g["conv2_b"] = da2.sum((0, 1, 2))
    dr1 = _col2im(da2 @ W2.T, r1.shape)
    da1 = dr1 * (a1 > 0)
    g["conv1_w"] = np.einsum("mijk,mijo->ko", col1, da1).reshape(w["conv1_w"].shape)
    g["conv1_b"] = da1.sum((0, 1, 2))
    flat = np.concatenate([g[k].ravel() for k in ("conv1_w", "conv1_b", "conv2_w", "conv2_b", "out_w", "out_b")])
    if want_input:
        return loss, _col2im(da1 @ W1.T, X.shape)
    return loss, flat


def numpy_epoch(net, Xi, y, order):
    for s in range(0, len(y), BATCH):
        idx = order[s:s + BATCH]
        _, g = numpy_loss_grad(net, Xi[idx], y[idx])
        net.rule.apply(net.theta, g)


def numpy_actmax(net, steps, lr, k):
    x = np.zeros((1, 8, 8, 1))
    for _ in range(steps):
        _, dx = numpy_loss_grad(net, x, None, want_input=True, seed=k)
        x = x + lr * dx
    return x


# ---- torch (optional) -----------------------------------------------------------------------------

def torch_model(net):
    import torch

    c1, c2 = net.maps
    w = net.weights
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, 3), torch.nn.ReLU(), torch.nn.Conv2d(c1, c2, 3), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(4 * c2, 10)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(w["conv1_w"].transpose(3, 2, 0, 1).copy()))
        model[2].weight.copy_(torch.from_numpy(w["conv2_w"].transpose(3, 2, 0, 1).copy()))
    return model


def torch_epoch(model, X, y, order):
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=0.003)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for s in range(0, len(y), BATCH):
        idx = torch.from_numpy(order[s:s + BATCH])
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
        loss.backward()
        opt.step()


def torch_actmax(model, steps, lr, k):
    import torch

    x = torch.zeros((1, 1, 8, 8), dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        z = model(x)[0, k]
        g, = torch.autograd.grad(z, x)
        with torch.no_grad():
            x += lr * g
    return x


# ---- timing ----------------------------------------------------------------------------------------

def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    d = digits.load_digits()
    tr, _ = digits.stratified_split(d.labels, actmax.TEST_FRACTION, actmax.SPLIT_SEED)
    X, y = d.images[tr][:, None], d.labels[tr].astype(np.int64)
    net = cnn.ConvNet(seed=0, maps=(16, 32), lr=0.003)
    Xi = net.to_internal(X)
    order = np.random.default_rng(0).permutation(len(y)).astype(np.int64)

    # the numpy version computes the engine's gradient
    _, g_engine = net.loss_and_grad(X[:BATCH], y[:BATCH])
    _, g_numpy = numpy_loss_grad(net, Xi[:BATCH], y[:BATCH])
    assert np.allclose(g_engine, g_numpy, atol=1e-12), np.abs(g_engine - g_numpy).max()

    net.train_epoch(Xi, y)  # compile / warm
    rows = []
    t_engine = timed(lambda: [net.train_batch(Xi, y, order[s:s + BATCH]) for s in range(0, len(y), BATCH)],
                     args.repeat)
    ref = cnn.ConvNet(seed=0, maps=(16, 32), lr=0.003)
    t_numpy = timed(lambda: numpy_epoch(ref, Xi, y, order), max(3, args.repeat // 2))
    rows.append(("training epoch (1438 images, batches of 32, Adam)", t_engine, t_numpy))

    trained = cnn.ConvNet.load(cnn.PRETRAINED_DIGITS)
    actmax.maximize(trained, ("class", 1), init="zeros", steps=100, lr=0.1)
    t_am = timed(lambda: actmax.maximize(trained, ("class", 1), init="zeros", steps=100, lr=0.1), args.repeat * 3)
    img = actmax.maximize(trained, ("class", 1), init="zeros", steps=100, lr=0.1)[0]
    assert np.allclose(numpy_actmax(trained, 100, 0.1, 1)[0, :, :, 0], img[0], atol=1e-9)
    t_am_np = timed(lambda: numpy_actmax(trained, 100, 0.1, 1), args.repeat)
    rows.append(("activation maximization, 100 steps", t_am, t_am_np))

    t_torch = {}
    try:
        import torch

        torch.set_num_threads(2)
        model = torch_model(net)
        torch_epoch(model, X, y, order)
        t_torch[rows[0][0]] = timed(lambda: torch_epoch(model, X, y, order), args.repeat)
        t_torch[rows[1][0]] = timed(lambda: torch_actmax(torch_model(trained), 100, 0.1, 1), args.repeat)
    except ImportError:
        pass

    print(f"{'workload':52s} {'engine':>10s} {'numpy':>10s} {'ratio':>7s} {'torch f64':>10s}")
    for name, te, tn in rows:
        tt = t_torch.get(name)
        print(f"{name:52s} {1e3 * te:8.2f}ms {1e3 * tn:8.2f}ms {tn / te:6.1f}x "
              + (f"{1e3 * tt:8.2f}ms" if tt else "  (no torch)"))
    print(f"threads: numba serial; optimizers rule = {net.optimizer}; "
          f"parameters = {net.n_params}; rules from nnsim.engine.optimizers ({len(optimizers.RULES)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
