"""Every perceptron preset shows the values it names and the lesson it names."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine.base import CONVERGED, NOT_CONVERGED
from nnsim.panels.perceptron import PerceptronPanel

PRESETS = list(PerceptronPanel.presets)


@pytest.fixture
def panel(qtbot):
    p = PerceptronPanel()
    qtbot.addWidget(p)
    p.resize(1280, 760)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=20000)
    yield p
    p.shutdown()


def run_to_the_end(qtbot, panel):
    """Present samples until the run converges or gives up (the runner stops there by itself)."""
    panel.runner.step(100_000)
    qtbot.waitUntil(lambda: panel.snapshot.status in (CONVERGED, NOT_CONVERGED), timeout=30000)
    return panel.snapshot


@pytest.mark.parametrize("name", PRESETS)
def test_preset_shows_its_values_and_its_lesson(panel, qtbot, name):
    old = panel.snapshot
    panel.apply_preset(name)
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0, timeout=20000)
    overrides = PerceptronPanel.presets[name]
    shown = panel.form.params()
    for field, value in overrides.items():
        assert getattr(shown, field) == value, (field, getattr(shown, field), value)
        assert getattr(panel.params, field) == value
    snap = run_to_the_end(qtbot, panel)
    if name.startswith("Worked example"):
        # the lecture's three presentations: w = [1, −0.8] → [2, 1.2] → [3, −0.8] → [3, 0.2], then none
        assert snap.status == CONVERGED
        np.testing.assert_allclose(snap.weights_raw[0][1:], [3.0, 0.2], atol=1e-12)
    elif name.startswith("XOR"):
        assert snap.status == NOT_CONVERGED
        assert len(snap.epoch_errors) == overrides["max_epochs"] and snap.epoch_errors.min() > 0
        assert "not linearly separable" in panel.banner.text()
    elif name.startswith(("AND", "OR")):
        assert snap.status == CONVERGED and not snap.misclassified.any()
        assert snap.X.shape == (4, 2)
    elif name.startswith("Boundary evolution"):
        assert snap.status == CONVERGED
        xs, _ys = panel.history_item.getData()
        drawn = 0 if xs is None else len(xs) // 2  # one segment (two points) per earlier boundary
        assert panel.history_item.isVisible()
        assert 1 <= drawn <= 30  # the fading history of earlier boundaries
    elif name.startswith("Same, z-score"):
        assert snap.status == CONVERGED
        # trained on x_n = (x − mean) / std: the centre and scale are the data's own
        np.testing.assert_allclose(snap.center, snap.X.mean(axis=0), atol=1e-9)
        np.testing.assert_allclose(snap.scale, snap.X.std(axis=0), rtol=1e-9)
    elif name.startswith(("3 classes", "4 classes")):
        k = int(name[0])
        assert snap.n_classes == k and snap.weights_raw.shape == (k, 3)
        assert snap.status == CONVERGED
    else:  # pragma: no cover - a new preset needs its lesson here
        pytest.fail(f"no lesson check for preset {name!r}")
