"""The nnsim engine: numpy + numba simulations, importable without Qt.

Use it from a notebook::

    from nnsim.engine.perceptron import Perceptron
    p = Perceptron(2, 1, lr=0.1, seed=0)

Kernel modules get ``njit`` from :mod:`nnsim.engine._jit`, which points numba's on-disk cache at a
writable directory before numba is first imported (``cache=True`` fails on a read-only install
otherwise). The GUI chooses Qt's cache location first; a notebook gets the XDG default.
"""
