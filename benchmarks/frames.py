"""How smoothly each panel animates: frames/s, GUI time per frame, how late a 10 ms timer fires, and
the engine's speed against the same engine headless in the same process.

    .venv/bin/python benchmarks/frames.py [--panel KEY] [--seconds 6] [--modes 1600x900,1280x720-presentation]
                                          [--speeds 100,0] [--presets default,heaviest]

Offscreen (the raster path every lecture laptop has), on the screens of tests/screens.json. For each
panel, window mode, preset (its default and its heaviest) and speed (100 steps/s and "as fast as
possible", 0) it plays for ``--seconds`` and prints:

- frames/s: snapshots the panel drew per second;
- GUI ms/frame: the GUI thread's time from receiving a frame to being idle again (drawing and
  painting), median and 90th percentile, as the runner measures it for its frame pacing;
- timer late p50/p99/max: how late a 10 ms QTimer in the GUI thread fired (interval − 10 ms);
- steps/s: the engine's rate while playing, and headless (the same simulation stepped in a loop in
  the same process) with their ratio.

Use a warm numba cache (run the app or the tests once): a cold compile competes with drawing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={ROOT / 'tests' / 'screens.json'}"

#: the preset that costs each panel the most to draw (most items, largest data)
HEAVIEST = {
    "perceptron": "4 classes, one neuron per class",
    "optimizers": "The same optimizers on a real network (MLP, two moons)",
    "mlp": "Spirals, 3 arms: 2 × 32 tanh units with Adam",
    "tsne": "All 1797 digits, live",
    "lstm": "Next character: “James … he …” (H = 48)",
    "actmax": "Unregularized: 300 iterations of plain ascent on \"3\"",
}


def place_window(window, mode: str) -> None:
    """``1600x900``: a window of that size on the 1920×1080 screen; otherwise a layoutcheck mode."""
    from nnsim.widgets.layoutcheck import place

    if mode == "1600x900":
        place(window, "1920x1080")
        window.setGeometry(100, 60, 1600, 900)
    else:
        place(window, mode)


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))
    return values[k]


def headless_rate(panel, seconds: float) -> float:
    """Steps per second of the panel's simulation stepped in a plain loop (no GUI, no runner)."""
    sim = panel.make_simulation(panel.params, panel.transport.seed())
    n, t0 = 1, time.perf_counter()
    done = 0
    while time.perf_counter() - t0 < seconds:
        before = sim.step_count
        sim.step(n)
        moved = sim.step_count - before
        if moved <= 0:  # halted (converged, finished): start again
            sim.reset(panel.transport.seed())
            continue
        done += moved
        n = min(n * 2, 100_000) if time.perf_counter() - t0 < seconds / 4 else n
    return done / (time.perf_counter() - t0)


def measure(app, window, panel, seconds: float, speed: float) -> dict:
    from PySide6.QtCore import QTimer

    from nnsim.runner import Runner
    from nnsim.widgets.layoutcheck import settle

    costs: list[float] = []
    original = Runner._send_ack

    def send_ack(runner):
        if runner is panel.runner and runner._received:
            costs.append(time.perf_counter() - runner._received)
        original(runner)

    Runner._send_ack = send_ack
    frames: list[float] = []
    panel.runner.snapshot_ready.connect(lambda _s: frames.append(time.perf_counter()))
    rates: list[float] = []
    panel.runner.rate_measured.connect(lambda r: rates.append(r))
    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(timer.timerType().PreciseTimer)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    try:
        panel.runner.set_speed(speed)
        panel.runner.play()
        settle(lambda: panel.runner.playing, 10)
        settle(timeout=0.5)  # past the first frames
        frames.clear(), costs.clear(), rates.clear()
        start_steps = panel.snapshot.step_count
        done, restarts = 0, 0
        timer.start(10)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            app.processEvents()
            time.sleep(0.0005)
            if not panel.runner.playing:  # converged or finished: play it again from the start
                done += panel.snapshot.step_count - start_steps
                restarts += 1
                panel.runner.reset(panel.transport.seed())
                panel.runner.play()
                settle(lambda: False, 0.02)  # (a run shorter than a frame may already be over)
                start_steps = 0
        elapsed = time.perf_counter() - t0
        timer.stop()
        done += panel.snapshot.step_count - start_steps
        panel.runner.pause()
        settle(lambda: not panel.runner.playing, 10)
    finally:
        Runner._send_ack = original
    late = [max(0.0, (b - a) - 0.010) * 1000 for a, b in zip(ticks, ticks[1:])]
    return {"fps": len(frames) / elapsed, "gui_ms": statistics.median(costs) * 1000 if costs else float("nan"),
            "gui_p90": pct(costs, 90) * 1000, "late_p50": pct(late, 50), "late_p99": pct(late, 99),
            "late_max": max(late) if late else float("nan"),
            "steps_s": done / elapsed, "played_s": elapsed, "restarts": restarts}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--panel", action="append")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--modes", default="1600x900,1280x720-presentation")
    ap.add_argument("--speeds", default="100,0")
    ap.add_argument("--presets", default="default,heaviest")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QSettings

    from nnsim.app import MainWindow, make_app
    from nnsim.panels import PANELS
    from nnsim.widgets.layoutcheck import settle

    app = make_app()
    from nnsim.engine.warmup import warm_all

    warm_all()
    print(f"{'panel':11} {'mode':22} {'preset':9} {'speed':>6} {'frames/s':>8} {'GUI ms p50/p90':>15} "
          f"{'timer late ms p50/p99/max':>26} {'steps/s':>10} {'headless':>10} {'ratio':>6}")
    for key, _title, _target in PANELS:
        if args.panel and key not in args.panel:
            continue
        for mode in args.modes.split(","):
            for which in args.presets.split(","):
                for speed in (float(s) for s in args.speeds.split(",")):
                    settings = QSettings(str(Path(tempfile.mkdtemp()) / "nnsim.ini"), QSettings.Format.IniFormat)
                    window = MainWindow(settings=settings, warm=False)
                    window.show()
                    place_window(window, mode)
                    panel = window.show_panel(key)
                    settle(lambda: panel.snapshot is not None, 300)
                    if which == "heaviest" and HEAVIEST.get(key) in panel.presets:
                        old = panel.snapshot
                        panel.apply_preset(HEAVIEST[key])
                        settle(lambda: panel.snapshot is not old and not panel.busy, 300)
                    settle(timeout=0.3)
                    r = measure(app, window, panel, args.seconds, speed)
                    hl = headless_rate(panel, min(2.0, args.seconds / 2))
                    ratio = r["steps_s"] / hl if hl > 0 else float("nan")
                    print(f"{key:11} {mode:22} {which:9} {('max' if speed == 0 else f'{speed:g}'):>6} "
                          f"{r['fps']:8.1f} {r['gui_ms']:7.1f}/{r['gui_p90']:<7.1f} "
                          f"{r['late_p50']:8.1f}/{r['late_p99']:<7.1f}/{r['late_max']:<9.1f} "
                          f"{r['steps_s']:10.0f} {hl:10.0f} {ratio:6.2f}"
                          + (f"  (ran to its end and restarted {r['restarts']}×)" if r["restarts"] else ""), flush=True)
                    window.close()
                    window.shutdown()
                    settle(timeout=0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
