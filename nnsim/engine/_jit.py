"""numba set-up shared by every kernel module.

``NUMBA_CACHE_DIR`` must be set before numba is first imported; with ``cache=True`` and no writable
location next to the sources (a read-only install), numba otherwise fails at import time. The GUI
calls :func:`configure_cache_dir` with Qt's cache location first; a notebook gets the XDG default.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def _default_cache_root() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
        return Path(base) / "nnsim" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "nnsim"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nnsim"


def configure_cache_dir(root: str | os.PathLike | None = None) -> str:
    """Point numba's cache at ``root/numba`` (default: the user cache dir) unless already set.

    Returns the directory in use. Falls back to a temporary directory when the preferred one
    cannot be created.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    candidates = [Path(root) if root else _default_cache_root(), Path(tempfile.gettempdir()) / "nnsim-cache"]
    for cand in candidates:
        path = cand / "numba"
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError:
            continue
        os.environ["NUMBA_CACHE_DIR"] = str(path)
        return str(path)
    return ""


def njit(*args, **kwargs):
    """``numba.njit`` with the project's defaults: ``cache=True, nogil=True``.

    ``nogil`` lets the runner's worker thread release the GIL so the GUI keeps painting while a
    kernel runs; ``cache`` keeps start-up fast after the first run.
    """
    if "numba" not in sys.modules:
        configure_cache_dir()
    import numba

    kwargs.setdefault("cache", True)
    kwargs.setdefault("nogil", True)
    return numba.njit(*args, **kwargs)
