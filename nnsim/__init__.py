"""nnsim: a desktop neural-network teaching simulator.

The engine (:mod:`nnsim.engine`) is importable without Qt; the GUI lives in
:mod:`nnsim.app`, :mod:`nnsim.panels` and :mod:`nnsim.widgets`.
"""

__version__ = "0.1.0"
