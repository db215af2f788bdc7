"""The engine must be usable without Qt (from a notebook, a script, a headless server)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import nnsim.engine
    names = sorted(m.name for m in pkgutil.iter_modules(nnsim.engine.__path__))
    for name in names:
        importlib.import_module("nnsim.engine." + name)
    print("imported:", ", ".join(names) or "(none)")
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph"))
    if leaked:
        print("Qt modules imported by the engine:", ", ".join(leaked), file=sys.stderr)
        sys.exit(3)
    """
)


def test_engine_imports_without_qt(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "imported:" in proc.stdout
