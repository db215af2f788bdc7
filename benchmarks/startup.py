"""Time from launching ``python -m nnsim`` to the main window being shown (warm numba cache).

Runs the app offscreen with ``--report-shown`` (it prints the wall-clock time of its first shown
frame and quits) several times; the first run also fills numba's cache, so it is reported apart.
Baseline in the same run: a bare ``python -c "import PySide6.QtWidgets"`` start.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/startup.py [runs]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def launch(args: list[str]) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    t0 = time.time()
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    for line in out.stdout.splitlines():
        if line.startswith("nnsim-shown "):
            return float(line.split()[1]) - t0
    return time.time() - t0


def main(runs: int = 7) -> None:
    first = launch(["-m", "nnsim", "--report-shown"])
    shown = [launch(["-m", "nnsim", "--report-shown"]) for _ in range(runs)]
    bare = [launch(["-c", "import PySide6.QtWidgets"]) for _ in range(runs)]
    print(f"first launch (may compile / fill caches): {first:.2f} s")
    print(f"window shown, warm cache: median {statistics.median(shown):.2f} s "
          f"(min {min(shown):.2f}, max {max(shown):.2f}, {runs} runs)")
    print(f"baseline, python + import PySide6.QtWidgets: median {statistics.median(bare):.2f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
