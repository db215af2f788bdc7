"""Open every panel at every projector size, default and every preset, and list what is cut.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/check_layout.py [--panel KEY] [--mode MODE]
        [--theme light|contrast|dark] [--shots DIR] [--no-presets] [--tabs]

Uses the offscreen screens of tests/screens.json (1280×720, 1280×800, 1920×1080, 2560×1440); with
``--shots`` it saves a PNG of the window per panel, mode and preset. Exit status 1 when anything is
cut. The same audit runs in tests/gui/test_layout.py.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={ROOT / 'tests' / 'screens.json'}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--panel", action="append")
    ap.add_argument("--mode", action="append")
    ap.add_argument("--theme", default="light")
    ap.add_argument("--shots")
    ap.add_argument("--no-presets", action="store_true")
    ap.add_argument("--tabs", action="store_true", help="also audit every tab of every tab widget")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QTabWidget

    from nnsim.app import MainWindow, make_app
    from nnsim.panels import PANELS
    from nnsim.widgets.layoutcheck import MODES, audit, place, settle

    make_app()
    tmp = tempfile.mkdtemp()
    settings = QSettings(str(Path(tmp) / "nnsim.ini"), QSettings.Format.IniFormat)
    settings.setValue("theme", args.theme)
    window = MainWindow(settings=settings, warm=False)
    window.show()
    shots = Path(args.shots) if args.shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    bad = 0
    for mode, _screen, _pres in MODES:
        if args.mode and mode not in args.mode:
            continue
        place(window, mode)
        for key, title, _target in PANELS:
            if args.panel and key not in args.panel:
                continue
            panel = window.show_panel(key)
            settle(lambda: panel.snapshot is not None, 60)
            presets = [None] + ([] if args.no_presets else list(panel.presets))
            for preset in presets:
                old = panel.snapshot
                if preset is not None:
                    panel.apply_preset(preset)
                elif panel.default_preset:  # a previous mode left its last preset: back to the default
                    panel.apply_preset(panel.default_preset)
                else:
                    panel.set_params(panel.params_class())
                    panel.runner.reset(panel.transport.seed())
                settle(lambda: panel.snapshot is not old and getattr(panel, "busy", False) is False, 60)
                label = f"{mode} {key} [{preset or 'default'}]"
                tabsets = [None]
                if args.tabs:
                    tabsets += [(t, i) for t in panel.findChildren(QTabWidget) if t.isVisibleTo(window)
                                for i in range(t.count()) if t.isTabVisible(i)]
                for tab in tabsets:
                    if tab is not None:
                        tab[0].setCurrentIndex(tab[1])
                        settle()
                    problems = audit(window, extra=panel.figures())
                    where = label + (f" tab '{tab[0].tabText(tab[1])}'" if tab else "")
                    if problems:
                        bad += 1
                        print(f"{where}: {len(problems)} problem(s)")
                        for p in problems:
                            print(f"    {p}")
                    else:
                        print(f"{where}: ok")
                if shots:
                    name = re.sub(r"[^A-Za-z0-9]+", "-", f"{mode}-{args.theme}-{key}-{preset or 'default'}").strip("-")
                    window.grab().save(str(shots / f"{name}.png"))
                sys.stdout.flush()
    window.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
