"""Every panel draws any saved state it accepts: the damaged states of tests/engine/test_state_fuzz.py
that pass the state check (and set_state's own checks) are restored into a simulation whose
snapshot the panel then draws, and drawing raises nothing (NaN/inf/huge values that slip through
must not reach pyqtgraph as "Cannot set range [nan, nan]")."""

from __future__ import annotations

import copy

import pytest

from engine.test_state_fuzz import SIMS, leaves, mutants, put
from nnsim.engine.state import StateError
from nnsim.panels import panel_class

#: accepted mutants drawn per panel (the rest are refused; drawing costs a frame each)
MAX_DRAWN = 24


@pytest.mark.parametrize("key", list(SIMS))
def test_accepted_damaged_states_draw(qtbot, key):
    cls, params = SIMS[key]
    panel = panel_class(key)()
    qtbot.addWidget(panel)
    panel.resize(1400, 850)
    panel.show()
    qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=60000)
    panel.runner.shutdown()  # (the panel is drawn by hand below; its own worker is not needed)
    sim = cls(params, seed=1)
    sim.step(5)
    state = sim.get_state()
    drawn = 0
    try:
        for path, value in list(leaves(state))[:40]:
            for name, bad in mutants(value):
                mutant = copy.deepcopy(state)
                try:
                    put(mutant, path, bad)
                except (TypeError, AttributeError):
                    continue
                fresh = cls(params, seed=1)
                try:
                    fresh.check_state(mutant)
                    fresh.set_state(params, mutant)
                except (StateError, ValueError, KeyError):
                    continue  # refused: nothing is drawn
                snap = fresh.snapshot()
                panel._draw_hidden = True  # every view, as an export does
                try:
                    panel.render_snapshot(snap)
                except Exception as exc:  # noqa: BLE001
                    pytest.fail(f"{key}: accepted mutant {path} {name} could not be drawn: "
                                f"{type(exc).__name__}: {exc}")
                finally:
                    panel._draw_hidden = False
                drawn += 1
                if drawn >= MAX_DRAWN:
                    return
    finally:
        panel.shutdown()
    # (a panel whose every mutant is refused has nothing to draw here: that is the check's success)
