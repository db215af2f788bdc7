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
    if len(args) == 1 and callable(args[0]):
        return _register(numba.njit(args[0], **kwargs))
    decorate = numba.njit(*args, **kwargs)
    return lambda fn: _register(decorate(fn))


#: every kernel made with :func:`njit`, by the module that defines it
KERNELS: dict[str, list] = {}


def _register(dispatcher):
    module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    KERNELS.setdefault(module, []).append(dispatcher)
    return dispatcher


def kernels_of(modules) -> list:
    """The kernels the given (imported) engine modules can reach: those they define or import, and
    those of the engine modules they import, transitively."""
    known = {id(d): d for ds in KERNELS.values() for d in ds}
    found: dict[int, object] = {}
    seen: set[str] = set()
    todo = [m for m in modules if m in sys.modules]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for value in vars(sys.modules[name]).values():
            if id(value) in known:
                found[id(value)] = value
            mod = value.__name__ if isinstance(value, type(sys)) else getattr(value, "__module__", None)
            if isinstance(mod, str) and mod.startswith("nnsim.engine") and mod in sys.modules:
                todo.append(mod)
    return list(found.values())


def kernels_ready(modules) -> tuple[int, int]:
    """(compiled or loaded, total) of :func:`kernels_of` ``modules``."""
    kernels = kernels_of(modules)
    return sum(1 for d in kernels if d.signatures), len(kernels)
