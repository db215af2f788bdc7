"""Where a panel's GUI thread spends its time while playing: cProfile of the GUI thread only (the
worker's steps are not in it), sorted by cumulative or own time.

    .venv/bin/python benchmarks/profile_frames.py --panel optimizers [--preset NAME] [--seconds 4]
                                                  [--speed 100] [--mode 1600x900] [--sort tottime]
                                                  [--lines 40]

Painting is in it too: pyqtgraph's items paint in Python (``AxisItem.paint``, ``PlotCurveItem.paint``),
called from Qt's paint event inside ``processEvents``. Counts per frame (calls ÷ frames) show work
that should not happen per frame (items created, legends rebuilt, texts set again).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import frames  # noqa: E402 - sets the offscreen platform before Qt loads


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--panel", required=True)
    ap.add_argument("--preset", default="")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--speed", type=float, default=100.0)
    ap.add_argument("--mode", default="1600x900")
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--lines", type=int, default=45)
    ap.add_argument("--callers", default="", help="also print who calls functions matching this")
    ap.add_argument("--restart", action="store_true", help="reset and play again when the run ends")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QSettings

    from nnsim.app import MainWindow, make_app
    from nnsim.engine.warmup import warm_all
    from nnsim.widgets.layoutcheck import settle

    app = make_app()
    warm_all()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "nnsim.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, warm=False)
    window.show()
    frames.place_window(window, args.mode)
    panel = window.show_panel(args.panel)
    settle(lambda: panel.snapshot is not None, 300)
    preset = frames.HEAVIEST.get(args.panel) if args.preset == "heaviest" else args.preset
    if preset:
        old = panel.snapshot
        panel.apply_preset(preset)
        settle(lambda: panel.snapshot is not old and not panel.busy, 300)
    settle(timeout=0.3)
    shown = []
    panel.runner.snapshot_ready.connect(lambda _s: shown.append(1))
    panel.runner.set_speed(args.speed)
    panel.runner.play()
    settle(lambda: panel.runner.playing, 10)
    settle(timeout=0.5)
    shown.clear()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    while time.perf_counter() - t0 < args.seconds and (panel.runner.playing or args.restart):
        app.processEvents()
        time.sleep(0.0005)
        if args.restart and not panel.runner.playing:  # as benchmarks/frames.py: play it again
            panel.runner.reset(panel.transport.seed())
            panel.runner.play()
            settle(lambda: False, 0.02)
    prof.disable()
    elapsed = time.perf_counter() - t0
    panel.runner.pause()
    n = max(1, len(shown))
    print(f"{args.panel}: {len(shown)} frames in {elapsed:.2f} s ({len(shown) / elapsed:.1f}/s); "
          f"times below are totals, divide by {n} for one frame")
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats(args.sort)
    stats.print_stats(args.lines)
    if args.callers:
        stats.print_callers(args.callers)
    print(out.getvalue())
    window.close()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
