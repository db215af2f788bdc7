"""Compile (or load from numba's cache) every kernel before the user needs it.

The app calls :func:`warm_all` in a background thread at start-up: numba releases the GIL while
LLVM compiles, so the window stays responsive, and the first Play never waits for compilation.
Each engine module exposes a ``warmup()`` function that runs its kernels once on tiny inputs.
"""

from __future__ import annotations

import importlib
import time

#: modules whose ``warmup()`` is called, in this order
MODULES = ("nnsim.engine.perceptron", "nnsim.engine.optimizers", "nnsim.engine.mlp", "nnsim.engine.tsne",
           "nnsim.engine.recurrent", "nnsim.engine.cnn", "nnsim.engine.actmax")


def warm_all(modules=MODULES) -> dict[str, float]:
    """Warm every module; returns seconds spent per module (errors are re-raised)."""
    spent = {}
    for name in modules:
        t0 = time.perf_counter()
        importlib.import_module(name).warmup()
        spent[name] = time.perf_counter() - t0
    return spent
