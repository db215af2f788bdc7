"""Long-running behaviour: memory while every panel plays, and threads left by windows opened and closed.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--every 30] [--windows 50] [--panel KEY]

1. Each panel (or ``--panel``) plays its default preset as fast as possible for ``--minutes`` in one
   window; the process's resident memory (RSS) is printed every ``--every`` seconds, with the growth
   per hour fitted over the second half of the run (after caches and histories settle). A run that
   converges or finishes is reset and played again.
2. ``--windows`` main windows are opened (each on a panel, playing for a moment) and closed; the
   number of threads before and after, and the runner threads still alive, are printed.

Offscreen by default. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={ROOT / 'tests' / 'screens.json'}"


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def new_window():
    from PySide6.QtCore import QSettings

    from nnsim.app import MainWindow

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "nnsim.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, warm=False)
    window.resize(1600, 900)
    window.show()
    return window


def play_for(app, panel, seconds: float, every: float, label: str) -> list[tuple[float, float]]:
    from nnsim.widgets.layoutcheck import settle

    samples = []
    panel.runner.set_speed(0)
    panel.runner.play()
    t0 = last = time.monotonic()
    samples.append((0.0, rss_mb()))
    while time.monotonic() - t0 < seconds:
        app.processEvents()
        time.sleep(0.002)
        if not panel.runner.playing:  # converged or finished: again from the start
            panel.runner.reset(panel.transport.seed())
            panel.runner.play()
            settle(lambda: False, 0.05)
        if time.monotonic() - last >= every:
            last = time.monotonic()
            samples.append((last - t0, rss_mb()))
            print(f"  {label:11} {last - t0:7.0f} s  RSS {samples[-1][1]:8.1f} MB  "
                  f"step {panel.snapshot.step_count:,}", flush=True)
    panel.runner.pause()
    settle(lambda: not panel.runner.playing, 10)
    return samples


def growth_per_hour(samples) -> float:
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    if len(half) < 2:
        return float("nan")
    import numpy as np

    t, m = np.array(half).T
    return float(np.polyfit(t, m, 1)[0] * 3600)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--every", type=float, default=30.0)
    ap.add_argument("--windows", type=int, default=50)
    ap.add_argument("--panel", action="append")
    args = ap.parse_args(argv)

    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    from nnsim.app import make_app
    from nnsim.engine.warmup import warm_all
    from nnsim.panels import PANELS
    from nnsim.runner import Runner
    from nnsim.widgets.layoutcheck import settle

    app = make_app()
    warm_all()
    print(f"start: RSS {rss_mb():.1f} MB, {os_threads()} threads")
    for key, _title, _target in PANELS:
        if args.panel and key not in args.panel:
            continue
        window = new_window()
        panel = window.show_panel(key)
        settle(lambda: panel.snapshot is not None and panel.runner.prepared, 300)
        samples = play_for(app, panel, args.minutes * 60, args.every, key)
        print(f"{key:11} RSS {samples[0][1]:.1f} -> {samples[-1][1]:.1f} MB; growth over the second half: "
              f"{growth_per_hour(samples):+.1f} MB/hour", flush=True)
        window.close()
        settle(timeout=0.5)

    before = os_threads()
    keys = [k for k, _t, _c in PANELS]
    for i in range(args.windows):
        window = new_window()
        panel = window.show_panel(keys[i % len(keys)])
        settle(lambda: panel.snapshot is not None, 120)
        panel.runner.set_speed(0)
        panel.runner.play()
        settle(lambda: False, 0.2)
        window.close()
        window.deleteLater()
        settle(timeout=0.05)
        # (deleteLater is carried out by the event loop; processEvents alone leaves it pending)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
    settle(lambda: False, 1.0)
    print(f"{args.windows} windows opened and closed: threads {before} -> {os_threads()} "
          f"(Python: {threading.active_count()}), runner threads alive {Runner.live_count()}, "
          f"RSS {rss_mb():.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
