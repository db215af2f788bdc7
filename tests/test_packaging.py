"""Build the PyInstaller bundle and launch it offscreen. Slow (a minute or more, downloads PyInstaller):
skipped by default; run with ``bash packaging/setup.sh test -m slow``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bundle_builds_and_shows_the_main_window(tmp_path):
    build = subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], cwd=ROOT, capture_output=True,
                           text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-3000:]
    exe = ROOT / "dist" / "nnsim" / "nnsim"
    assert exe.exists()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120, env=env)
    assert version.returncode == 0 and version.stdout.startswith("nnsim ")
    shown = subprocess.run([str(exe), "--report-shown"], capture_output=True, text=True, timeout=300, env=env)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "nnsim-shown" in shown.stdout
