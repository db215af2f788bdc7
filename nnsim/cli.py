"""Command line.

    nnsim                                   open the main window
    nnsim --panel optimizers                open that panel first
    nnsim run EXPERIMENT --steps N --export DIR
                                            headless: open the experiment, run N more steps, write the
                                            lab report (figures, CSV, parameters, experiment) into DIR
    nnsim --version
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import nnsim


def build_parser() -> argparse.ArgumentParser:
    from nnsim.panels import PANELS

    p = argparse.ArgumentParser(prog="nnsim", description="A neural-network teaching simulator.")
    p.add_argument("--version", action="version", version=f"nnsim {nnsim.__version__}")
    p.add_argument("--panel", choices=[k for k, _, _ in PANELS], help="open this panel first")
    p.add_argument("--report-shown", action="store_true", help=argparse.SUPPRESS)
    return p


def build_run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnsim run", description="Run an experiment without a window and "
                                "write its lab report.")
    p.add_argument("experiment", help="a .nnsim file (File > Save experiment)")
    p.add_argument("--steps", type=int, default=0, help="steps to run after the saved state (default 0)")
    p.add_argument("--export", required=True, metavar="DIR", help="folder for the lab report")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _progress(done: int, total: int, width: int = 40) -> None:
    frac = 1.0 if total <= 0 else min(1.0, done / total)
    bar = "#" * int(round(frac * width))
    sys.stderr.write(f"\r[{bar:<{width}}] {done:,}/{total:,} steps")
    sys.stderr.flush()


def run_headless(argv: list[str]) -> int:
    args = build_run_parser().parse_args(argv)
    if args.steps < 0:
        print("nnsim run: --steps must be 0 or more", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    from nnsim.app import MainWindow, make_app
    from nnsim.experiment import ExperimentError, load
    from nnsim.panels import panel_class

    app = make_app()
    try:
        exp = load(args.experiment)
        exp = load(args.experiment, panel_class(exp.panel).params_class)
    except (ExperimentError, KeyError) as exc:
        print(f"nnsim run: {exc}", file=sys.stderr)
        return 1
    import tempfile

    settings = QSettings(os.path.join(tempfile.mkdtemp(), "nnsim.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, warm=False)
    window.resize(1600, 1000)
    window.show()
    panel = window.show_panel(exp.panel)

    def wait(pred, what: str, timeout: float = 3600.0):
        t0 = time.monotonic()
        while not pred():
            app.processEvents()
            if failed:
                raise RuntimeError(failed[0])
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"timed out while {what}")
            time.sleep(0.001)

    failed: list[str] = []
    panel.runner.failed.connect(failed.append)
    try:
        wait(lambda: panel.snapshot is not None, "starting the panel")
        old = panel.snapshot
        panel.experiment_opened.connect(lambda ok, why: None if ok else failed.append(f"{args.experiment}: {why}"))
        panel.load_experiment(exp)
        wait(lambda: panel.snapshot is not old and panel.snapshot.step_count == exp.step_count, "opening")
        if args.steps:
            events: list[str] = []
            panel.runner.playing_changed.connect(lambda playing: events.append("play" if playing else "idle"))
            panel.runner.snapshot_ready.connect(lambda _snap: events.append("snap"))
            panel.runner.set_speed(0)
            panel.runner.step(args.steps)
            last = -1

            def finished() -> bool:  # paused after the run, and its final snapshot has arrived
                return "idle" in events and "snap" in events[events.index("idle"):]

            while not finished():
                app.processEvents()
                if failed:
                    raise RuntimeError(failed[0])
                done = panel.snapshot.step_count - exp.step_count
                if not args.quiet and done * 100 // max(1, args.steps) != last:
                    last = done * 100 // max(1, args.steps)
                    _progress(done, args.steps)
                time.sleep(0.002)
            if not args.quiet:
                _progress(panel.snapshot.step_count - exp.step_count, args.steps)
                sys.stderr.write("\n")
        for _ in range(10):
            app.processEvents()
        result: list = []
        window.export_report(args.export, callback=lambda path, error: result.append((path, error)))
        wait(lambda: bool(result), "writing the report")
    except (RuntimeError, TimeoutError) as exc:
        print(f"nnsim run: {exc}", file=sys.stderr)
        window.close()
        return 1
    window.close()
    path, error = result[0]
    if error:
        print(f"nnsim run: {error}", file=sys.stderr)
        return 1
    snap = panel.snapshot
    early = "" if snap.step_count >= exp.step_count + args.steps else " (stopped early: the run halted)"
    print(f"{path}  ({snap.step_count:,} steps, {snap.status}){early}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "run":
        return run_headless(argv[1:])
    args = build_parser().parse_args(argv)
    from nnsim.app import run  # Qt is imported only when the GUI is wanted

    return run(panel=args.panel, report_shown=args.report_shown)
