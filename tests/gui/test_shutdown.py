"""Whatever ends the window, the process exits cleanly: no abort ("QThread: Destroyed while thread is
still running", exit 134), no segfault ("Timers cannot be stopped from another thread", exit 139).

Each path runs in a fresh interpreter with a panel playing flat out (and the kernel warm-up thread
still running), the way a script, a notebook or a crash handler would end it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import gc, sys, time
from PySide6.QtCore import QSettings
from nnsim.app import MainWindow, make_app
app = make_app()
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
window = MainWindow(settings=settings, warm=True)
window.show()
panel = window.show_panel("optimizers")
t0 = time.monotonic()
while panel.snapshot is None and time.monotonic() - t0 < 60:
    app.processEvents(); time.sleep(0.005)
panel.runner.set_speed(20)  # (the race has a horizon: slowly, so it still plays at the end)
panel.runner.play()
t0 = time.monotonic()
while not panel.runner.playing and time.monotonic() - t0 < 30:
    app.processEvents(); time.sleep(0.005)
assert panel.runner.playing
"""

ENDINGS = {
    "del window": "del window, panel\ngc.collect()\nprint('END')\n",
    "deleteLater": ("window.deleteLater()\nt0 = time.monotonic()\nwhile time.monotonic() - t0 < 0.5:\n"
                    "    app.processEvents(); time.sleep(0.005)\nprint('END')\n"),
    "sys.exit while playing": "print('END')\nsys.exit(0)\n",
    "app.quit": "from PySide6.QtCore import QTimer\nQTimer.singleShot(50, app.quit)\napp.exec()\nprint('END')\n",
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_the_process_exits_cleanly(ending, tmp_path):
    script = textwrap.dedent(PRELUDE) + ENDINGS[ending]
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "s.ini")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert "END" in proc.stdout, proc.stderr[-2000:]
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    for bad in ("QThread: Destroyed", "Timers cannot be stopped", "Signal source has been deleted", "Traceback"):
        assert bad not in proc.stderr, proc.stderr[-2000:]
