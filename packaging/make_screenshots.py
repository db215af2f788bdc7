"""Regenerate docs/screens/: every panel as a projector shows it (1280×720, presentation mode), in
every theme, after a few steps of its default preset.

    .venv/bin/python packaging/make_screenshots.py [--out docs/screens] [--theme light ...] [--mode 1280x720-presentation]

Offscreen, on the screens of tests/screens.json. Also prints the layout audit of each picture (it
should say "ok").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={ROOT / 'tests' / 'screens.json'}"

#: steps to run before the picture: enough for each lesson to show, few enough to stay quick
STEPS = {"perceptron": 130, "optimizers": 60, "mlp": 300, "tsne": 150, "lstm": 200, "actmax": 10}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screens"))
    ap.add_argument("--theme", action="append")
    ap.add_argument("--mode", default="1280x720-presentation")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QSettings

    from nnsim.app import MainWindow, make_app
    from nnsim.panels import PANELS
    from nnsim.widgets.layoutcheck import audit, place, settle

    make_app()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bad = 0
    for theme in args.theme or ["light", "contrast", "dark"]:
        settings = QSettings(str(Path(tempfile.mkdtemp()) / "nnsim.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, warm=False)
        window.show()
        window.presentation.set_theme(theme)
        place(window, args.mode)
        for key, _title, _target in PANELS:
            panel = window.show_panel(key)
            if panel is None:
                print(f"{key}: the panel could not be opened", flush=True)
                bad += 1
                continue
            settle(lambda: panel.snapshot is not None, 120)
            steps = STEPS.get(key, 50)
            panel.runner.step(steps)
            settle(lambda: panel.snapshot.step_count >= steps or panel.snapshot.status != "running", 120)
            settle()
            problems = audit(window, extra=panel.figures())
            bad += bool(problems)
            path = out / f"{args.mode.split('-')[0]}-{theme}-{key}.png"
            window.grab().save(str(path))
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
                  + ("ok" if not problems else "; ".join(map(str, problems))), flush=True)
        window.close()
        window.shutdown()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
