"""Regenerate docs/screenshot.png: the main window on the perceptron panel, mid-run.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_screenshot.py [out.png] [dataset] [steps]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings


def main(out: str = "docs/screenshot.png", dataset: str = "clusters", steps: int = 130) -> None:
    from nnsim.app import MainWindow, make_app

    app = make_app()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "nnsim.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, warm=False)
    win.resize(*(int(v) for v in __import__("os").environ.get("NNSIM_SHOT_SIZE", "1600x960").split("x")))
    win.show()
    panel = win.show_panel("perceptron")

    def wait(pred, timeout=30.0):
        t0 = time.monotonic()
        while not pred():
            app.processEvents()
            if time.monotonic() - t0 > timeout:
                raise TimeoutError("the panel did not reach the expected state")

    wait(lambda: panel.snapshot is not None)
    old = panel.snapshot
    panel.set_params(panel.params.replace(dataset=dataset))
    wait(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0)
    panel.runner.step(steps)
    wait(lambda: panel.snapshot.step_count >= steps)
    for _ in range(20):
        app.processEvents()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    win.grab().save(out)
    win.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*(sys.argv[1:2] or []), *(sys.argv[2:3] or []), *(int(a) for a in sys.argv[3:4]))
