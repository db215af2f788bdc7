"""MLP training speed: the engine against a plain numpy implementation of the same math, in one run.

(a) full batch, 2-16-16-3 tanh + softmax/cross-entropy, 1000 points, SGD: steps per second of
    ``MLP.train`` (one numba call; BLAS through ``np.dot`` for the wide products) vs the textbook
    numpy step (matrix products through numpy's BLAS, one Python-level step at a time). With
    ``--loops`` the engine is also timed with BLAS switched off (every product as numba loops), in
    a subprocess with its own numba cache.
(b) the course article's task: XOR trained online (batch 1, in data order), 2-3-1 sigmoid net,
    J = ½ (y − ŷ)², η = 0.2: the engine fuses all steps into one call, numpy pays Python overhead
    per step.
(c) with ``--panel``: the MLP panel playing its default preset (4 runs, four 150 × 150 heatmaps,
    hidden-unit maps, network diagram) as fast as it can, offscreen: snapshots rendered per second.

Both implementations start from the same weights; the script checks that they agree (the same
losses up to rounding) before it reports. torch (CPU, float64) is timed too if it is installed.

Run:  python benchmarks/bench_mlp.py [--panel] [--loops]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout

from nnsim.engine import data2d  # noqa: E402
from nnsim.engine.mlp import MLP, targets  # noqa: E402


# ---- plain numpy --------------------------------------------------------------------------------
def numpy_full_batch(Ws, bs, X, Y, lr, steps):
    """The textbook full-batch step, tanh hidden layers, softmax + cross-entropy. Returns losses."""
    Ws = [W.copy() for W in Ws]
    bs = [b.copy() for b in bs]
    m = len(X)
    out = np.empty(steps)
    for t in range(steps):
        A = [X]
        for W, b in zip(Ws[:-1], bs[:-1]):
            A.append(np.tanh(A[-1] @ W + b))
        Z = A[-1] @ Ws[-1] + bs[-1]
        Z = Z - Z.max(axis=1, keepdims=True)
        E = np.exp(Z)
        P = E / E.sum(axis=1, keepdims=True)
        out[t] = -np.mean(np.sum(Y * np.log(P), axis=1))
        D = (P - Y) / m
        for l in range(len(Ws) - 1, -1, -1):
            dW, db = A[l].T @ D, D.sum(axis=0)
            if l > 0:
                D = (D @ Ws[l].T) * (1.0 - A[l] ** 2)
            Ws[l] -= lr * dW
            bs[l] -= lr * db
    return out, Ws


def numpy_online_xor(Ws, bs, X, Y, lr, steps):
    """Sample by sample, in data order: sigmoid units, J = ½ (y − ŷ)². Returns losses and weights."""
    W1, W2 = Ws[0].copy(), Ws[1].copy()
    b1, b2 = bs[0].copy(), bs[1].copy()
    out = np.empty(steps)
    m = len(X)
    for t in range(steps):
        x, y = X[t % m:t % m + 1], Y[t % m:t % m + 1]
        a1 = 1.0 / (1.0 + np.exp(-(x @ W1 + b1)))
        yh = 1.0 / (1.0 + np.exp(-(a1 @ W2 + b2)))
        out[t] = 0.5 * np.sum((y - yh) ** 2)
        d2 = (yh - y) * yh * (1.0 - yh)
        d1 = (d2 @ W2.T) * a1 * (1.0 - a1)
        W2 -= lr * (a1.T @ d2)
        b2 -= lr * d2.sum(axis=0)
        W1 -= lr * (x.T @ d1)
        b1 -= lr * d1.sum(axis=0)
    return out, [W1, W2]


def torch_full_batch(Ws, bs, X, Y, lr, steps):
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    P = [torch.tensor(W, requires_grad=True) for W in Ws] + [torch.tensor(b, requires_grad=True) for b in bs]
    Xt, yt = torch.tensor(X), torch.tensor(Y.argmax(axis=1))
    L = len(Ws)
    for _ in range(steps):
        a = Xt
        for l in range(L - 1):
            a = torch.tanh(a @ P[l] + P[L + l])
        loss = torch.nn.functional.cross_entropy(a @ P[L - 1] + P[2 * L - 1], yt)
        for p in P:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in P:
                p -= lr * p.grad


# ---- timing ---------------------------------------------------------------------------------------
def best_rate(fn, steps, repeats=5) -> float:
    """Steps per second: the best of ``repeats`` timings (the machine may be shared)."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(steps)
        rates.append(steps / (time.perf_counter() - t0))
    return max(rates)


def part_a(loops_only: bool = False) -> dict:
    rng = np.random.default_rng(0)
    X, lab = data2d.make("spirals3", rng, 1000, 0.1)
    Y = targets(lab, 3)
    net0 = MLP([2, 16, 16, 3], hidden="tanh", output="softmax", loss="cross_entropy", seed=0)
    Ws, bs = [W.copy() for W in net0.weights], [b.copy() for b in net0.biases]

    def engine(steps):
        net = MLP([2, 16, 16, 3], hidden="tanh", seed=0)
        return net.train(X, Y, steps, lr=0.5)

    engine(3)                                        # compile / load from the cache
    ref, _ = numpy_full_batch(Ws, bs, X, Y, 0.5, 200)
    got = engine(200)
    assert np.max(np.abs(ref - got)) < 1e-9, "engine and numpy disagree"
    res = {"engine": best_rate(engine, 2000)}
    if loops_only:
        return res
    res["numpy"] = best_rate(lambda n: numpy_full_batch(Ws, bs, X, Y, 0.5, n), 400)
    try:
        import torch  # noqa: F401
        res["torch"] = best_rate(lambda n: torch_full_batch(Ws, bs, X, Y, 0.5, n), 400)
    except ImportError:
        pass
    return res


def part_b() -> dict:
    X, lab = data2d.xor4()
    Y = lab[:, None].astype(float)

    def new():
        return MLP([2, 3, 1], hidden="sigmoid", output="sigmoid", loss="mse", seed=0, init="normal")

    net = new()
    Ws, bs = [W.copy() for W in net.weights], [b.copy() for b in net.biases]

    def engine(steps):
        return new().train(X, Y, steps, lr=0.2, batch_size=1, shuffle=False)

    engine(3)
    ref, W_ref = numpy_online_xor(Ws, bs, X, Y, 0.2, 4000)
    check = new()
    got = check.train(X, Y, 4000, lr=0.2, batch_size=1, shuffle=False)
    assert np.max(np.abs(ref - got)) < 1e-12 and np.allclose(check.weights[0], W_ref[0], atol=1e-12)
    return {"engine": best_rate(engine, 400_000, 3),
            "numpy": best_rate(lambda n: numpy_online_xor(Ws, bs, X, Y, 0.2, n), 20_000, 3)}


def _thread_cpu() -> dict:
    """CPU seconds used so far by each thread of this process, by thread name (Linux /proc)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return out


def part_c(seconds: float = 6.0, speed: float = 0.0) -> dict:
    """Offscreen: play the default preset as fast as possible and count rendered snapshots."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from nnsim.panels.mlp import MLPPanel

    app = QApplication.instance() or QApplication([])
    panel = MLPPanel()
    panel.resize(1600, 960)
    panel.show()

    def wait(pred, timeout=120.0):
        t0 = time.monotonic()
        while not pred():
            app.processEvents()
            if time.monotonic() - t0 > timeout:
                raise TimeoutError

    wait(lambda: panel.snapshot is not None)
    panel.set_params(panel.params.replace(max_steps=1_000_000, lr4=5.0))   # keep all 4 runs going
    wait(lambda: panel.snapshot.step_count == 0 and panel.snapshot.max_steps == 1_000_000)
    frames, render_ms = [], []
    original = panel.render_snapshot

    def counting(snap):
        t0 = time.perf_counter()
        original(snap)
        render_ms.append(1000 * (time.perf_counter() - t0))
        frames.append(time.perf_counter())

    panel.render_snapshot = counting
    box = panel.transport.speed_box
    box.setCurrentIndex(max(0, box.findData(float(speed))))       # 0 = as fast as possible
    panel.runner.play()
    wait(lambda: len(frames) > 5)
    t0, n0, s0 = time.perf_counter(), len(frames), panel.snapshot.step_count
    cpu0 = _thread_cpu()
    loop = QEventLoop()                      # an idle event loop, as in the app (no busy waiting)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    cpu1 = _thread_cpu()
    nf = len(frames) - n0
    fps = nf / (time.perf_counter() - t0)
    steps = (panel.snapshot.step_count - s0) / (time.perf_counter() - t0)
    gui = next(k for k in cpu1 if k.startswith("python"))
    cpu = {"gui_cpu_ms": 1000 * (cpu1.get(gui, 0) - cpu0.get(gui, 0)) / max(nf, 1),
           "worker_cpu_ms": 1000 * (cpu1.get("nnsim-runner", 0) - cpu0.get("nnsim-runner", 0)) / max(nf, 1)}
    panel.runner.pause()
    wait(lambda: not panel.runner.playing)
    panel.render_snapshot = original
    serial = serial_frame_cost(panel, app)
    panel.shutdown()
    return {"fps": fps, "render_ms": statistics.median(render_ms[n0:]), "steps_per_s": steps,
            "runs": len(panel.snapshot.runs), **cpu, **serial}


def serial_frame_cost(panel, app, frames: int = 20) -> dict:
    """Everything one frame costs, done one after the other on one thread: the worker's
    ``snapshot()`` (heatmaps, hidden units, chain rule), the panel's ``render_snapshot`` and the
    repaint of every view. Below 50 ms means 20 frames/s even without two cores."""
    from nnsim.engine.mlp_sim import MLPSimulation

    sim = MLPSimulation(panel.params, seed=panel.transport.seed())
    sim.step(300)
    views = [panel.regions, panel.loss_widget, panel.units, panel.diagram]
    snap_ms, render_ms, paint_ms = [], [], []
    for _ in range(frames):
        sim.step(10)
        t0 = time.perf_counter()
        snap = sim.snapshot()
        t1 = time.perf_counter()
        panel.render_snapshot(snap)
        t2 = time.perf_counter()
        for v in views:
            v.viewport().repaint()
        panel.tabs.currentWidget().repaint()
        t3 = time.perf_counter()
        snap_ms.append(1000 * (t1 - t0))
        render_ms.append(1000 * (t2 - t1))
        paint_ms.append(1000 * (t3 - t2))
        app.processEvents()
    med = statistics.median
    return {"snapshot_ms": med(snap_ms), "render2_ms": med(render_ms), "paint_ms": med(paint_ms),
            "frame_ms": med(a + b + c for a, b, c in zip(snap_ms, render_ms, paint_ms))}


def main(argv) -> None:
    if "--loops-child" in argv:                   # (a) with every product as numba loops
        print(part_a(loops_only=True)["engine"])
        return
    print("MLP benchmark (best of several timings; the ratio is the number to read)")
    a = part_a()
    line = f"(a) full batch 2-16-16-3 tanh, 1000 points: engine {a['engine']:.0f} steps/s, " \
           f"plain numpy {a['numpy']:.0f} steps/s -> {a['engine'] / a['numpy']:.2f}x"
    if "torch" in a:
        line += f"; torch CPU (float64) {a['torch']:.0f} steps/s"
    print(line)
    if "--loops" in argv:
        env = dict(os.environ, NNSIM_MLP_BLAS_MIN=str(10**12),
                   NUMBA_CACHE_DIR=tempfile.mkdtemp(prefix="nnsim-loops-"))
        out = subprocess.run([sys.executable, __file__, "--loops-child"], env=env, capture_output=True,
                             text=True, check=True)
        loops = float(out.stdout.strip().splitlines()[-1])
        print(f"    same engine with every product as numba loops (no BLAS): {loops:.0f} steps/s "
              f"-> {loops / a['numpy']:.2f}x numpy")
    b = part_b()
    print(f"(b) XOR online, 2-3-1 sigmoid, batch 1: engine {b['engine'] / 1e3:.0f} k steps/s, "
          f"plain numpy {b['numpy'] / 1e3:.1f} k steps/s -> {b['engine'] / b['numpy']:.0f}x")
    if "--panel" in argv:
        for speed in (100.0, 1000.0):
            c = part_c(speed=speed)
            print(f"(c) panel, {c['runs']} runs with 150x150 heatmaps, playing at {speed:.0f} steps/s: "
                  f"{c['fps']:.1f} snapshots rendered per second; CPU per frame: GUI thread "
                  f"{c['gui_cpu_ms']:.0f} ms, worker {c['worker_cpu_ms']:.0f} ms")
        c = part_c()
        print(f"(c) panel, {c['runs']} runs with 150x150 heatmaps, playing as fast as possible: "
              f"{c['fps']:.1f} snapshots rendered per second (median render {c['render_ms']:.1f} ms, "
              f"{c['steps_per_s']:.0f} steps/s); CPU per frame: GUI thread {c['gui_cpu_ms']:.0f} ms, worker "
              f"{c['worker_cpu_ms']:.0f} ms; load average now {os.getloadavg()[0]:.1f}")
        print(f"    one frame done serially on one thread: snapshot {c['snapshot_ms']:.1f} ms + render "
              f"{c['render2_ms']:.1f} ms + paint {c['paint_ms']:.1f} ms = {c['frame_ms']:.1f} ms "
              f"-> {1000 / c['frame_ms']:.0f} frames/s without any overlap of worker and GUI")


if __name__ == "__main__":
    main(sys.argv[1:])
