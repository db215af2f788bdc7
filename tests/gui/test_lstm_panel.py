"""The LSTM panel driven like a lecturer would: presets, Play, Step through time, clicks, export."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage

from nnsim.engine.base import DIVERGED, FINISHED, RUNNING
from nnsim.panels.lstm import LSTMPanel, parse_units
from nnsim.widgets.export_dialog import export_figure


@pytest.fixture
def panel(qtbot):
    p = LSTMPanel()
    qtbot.addWidget(p)
    p.resize(1600, 960)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=30000)
    yield p
    p.shutdown()


def preset(qtbot, panel, prefix):
    name = next(k for k in panel.presets if k.startswith(prefix))
    old = panel.snapshot
    panel.apply_preset(name)
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0
                    and panel.snapshot.task == panel.params.task
                    and panel.snapshot.cell == panel.params.cell, timeout=10000)


def show_steps_tab(qtbot, panel):
    """Open the "Steps at t" tab (a hidden tab is not drawn; shown, it is brought up to date)."""
    panel.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: panel.steps_label.isVisible() and "<table" in panel.steps_label.text(), timeout=5000)


def play_until(qtbot, panel, cond, timeout=30000):
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: cond(panel.snapshot), timeout=timeout)
    qtbot.waitUntil(lambda: not panel.runner.playing, timeout=10000)


def test_opens_on_the_lesson_and_training_shows_it(panel, qtbot):
    """Default preset: delayed recall L = 40; Play trains both networks to the pause point, the
    LSTM solves it, the plain RNN stays at chance, the banner says so."""
    snap = panel.snapshot
    assert snap.task == "recall" and snap.cell == "lstm" and snap.cmp_cell == "rnn"
    assert [m[0] for m in snap.maps] == ["f", "i", "g", "o", "c", "h"]
    shown = panel.inspector.heatmap_data()
    np.testing.assert_allclose(shown["f"], snap.arrays["f"])
    assert panel.transport.speed() == 0.0                    # training mode: as fast as possible
    play_until(qtbot, panel, lambda s: s.status == FINISHED)
    snap = panel.snapshot
    assert snap.step_count == panel.params.max_updates
    assert np.mean(snap.acc[-50:]) > 0.9 and np.mean(snap.cmp_acc[-50:]) < 0.3
    assert "Paused after" in panel.banner.text() and panel.banner.isVisible()
    # the views follow the latest weights
    np.testing.assert_allclose(panel.inspector.heatmap_data()["c"], snap.arrays["c"])
    # the training curves (a hidden tab is drawn when it is shown; every point is kept, the
    # display is reduced to the pixels)
    panel.tabs.setCurrentIndex(1)
    acc = panel.training.c["acc"]
    qtbot.waitUntil(lambda: acc.getOriginalDataset()[0] is not None
                    and len(acc.getOriginalDataset()[0]) == snap.step_count, timeout=5000)
    xs, ys = acc.getOriginalDataset()
    assert len(xs) == snap.step_count and ys[-1] == pytest.approx(100 * snap.acc_smooth[-1])
    # vanishing gradient: the RNN's curve falls by orders of magnitude towards t = 0
    _, rnn = panel.flow.curves["cmp_h"].getData()
    assert rnn[0] < 1e-3 * rnn[-1]


def test_step_moves_one_time_step_in_inspect_mode(panel, qtbot):
    show_steps_tab(qtbot, panel)
    panel.form.editor("mode").setCurrentIndex(panel.form.editor("mode").findData("inspect"))
    qtbot.waitUntil(lambda: panel.snapshot.mode == "inspect", timeout=5000)
    assert panel.transport.speed() == 2.0
    start = panel.snapshot
    for k in (1, 2, 3):
        qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.snapshot.t == k and not panel.runner.playing, timeout=5000)
    snap = panel.snapshot
    assert snap.step_count == start.step_count == 0              # no training happened
    np.testing.assert_array_equal(snap.arrays["f"], start.arrays["f"])
    assert "<b>t = 3</b>" in panel.steps_label.text()
    assert panel.inspector._cursors[0].value() == 3
    # the table shows the snapshot's numbers for the followed units: f_t and ③ C_t of unit 0
    f3 = snap.arrays["f"][3, 0]
    assert f"{f3:.3f}" in panel.steps_label.text()


def _click_heatmap(qtbot, panel, name, t, unit):
    m = next(m for m in panel.inspector._maps if m["name"] == name)
    scene_pt = m["plot"].getViewBox().mapViewToScene(QPointF(t, unit))
    view_pt = panel.inspector.mapFromScene(scene_pt)
    qtbot.mouseClick(panel.inspector.viewport(), Qt.MouseButton.LeftButton, pos=view_pt)


def test_click_on_a_heatmap_moves_the_cursor_and_follows_the_unit(panel, qtbot):
    show_steps_tab(qtbot, panel)
    _click_heatmap(qtbot, panel, "i", 7, 5)
    qtbot.waitUntil(lambda: panel.snapshot.t == 7, timeout=5000)
    assert panel.units[0] == 5 and panel.units_edit.text().startswith("5")
    assert "unit 5" in panel.steps_label.text()
    xs, ys = panel.inspector._line_items[0].getData()
    np.testing.assert_allclose(ys, panel.snapshot.arrays["c"][:, 5])


def test_bad_unit_list_is_refused_with_a_message(panel, qtbot):
    before = list(panel.units)
    panel.units_edit.setText("0, 99")
    panel.units_edit.editingFinished.emit()
    assert "does not exist" in panel.banner.text() and panel.units == before
    assert parse_units("3 1,1", 8) == [3, 1]
    with pytest.raises(ValueError):
        parse_units("x", 8)


def test_gru_and_plain_rnn_show_their_own_gates(panel, qtbot):
    show_steps_tab(qtbot, panel)
    preset(qtbot, panel, "Delayed recall with a GRU")
    assert [m["name"] for m in panel.inspector._maps] == ["r", "z", "g", "h"]
    assert "update gate" in panel.steps_label.text()
    box = panel.form.editor("cell")
    box.setCurrentIndex(box.findData("rnn"))
    qtbot.waitUntil(lambda: panel.snapshot.cell == "rnn", timeout=10000)
    assert [m["name"] for m in panel.inspector._maps] == ["a", "h"]
    assert panel.snapshot.cmp_cell == "lstm"


def test_next_character_preset_shows_the_sentence(panel, qtbot):
    assert not panel.gender_button.isEnabled()
    preset(qtbot, panel, "Next character")
    snap = panel.snapshot
    assert "".join(snap.tokens).startswith("james")
    texts = [it.textItem.toPlainText() for it in panel.inspector._texts]
    assert texts[:5] == ["j", "a", "m", "e", "s"]
    assert snap.kind == "classification" and snap.y.shape[1] == len(snap.output_names)
    assert panel.gender_button.isEnabled()
    qtbot.mouseClick(panel.gender_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(panel.snapshot.gender_units), timeout=10000)
    ranked = panel.snapshot.gender_units[1]
    assert panel.units == [ranked[0][0], ranked[1][0]]
    assert "random splits" in panel.headline.text()


def test_divergence_is_reported_not_raised(panel, qtbot):
    failures = []
    panel.runner.failed.connect(failures.append)
    preset(qtbot, panel, "Exploding gradients")
    panel.set_params(panel.params.replace(lr=0.5))
    qtbot.waitUntil(lambda: panel.snapshot.step_count == 0 and panel.params.lr == 0.5, timeout=5000)
    play_until(qtbot, panel, lambda s: s.status == DIVERGED)
    assert "Diverged at update" in panel.banner.text() and not failures


def test_live_learning_rate_keeps_training(panel, qtbot):
    panel.transport.stepn_spin.setValue(20)
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count == 20 and not panel.runner.playing, timeout=10000)
    with qtbot.waitSignal(panel.runner.params_applied, timeout=5000) as applied:
        panel.form.editor("lr").setValue(0.003)
    assert applied.args == [True] and panel.snapshot.step_count == 20
    assert panel.snapshot.status == RUNNING


def test_lecture_examples_and_exports(panel, qtbot, tmp_path):
    james = panel.james_label.text()
    assert "0.67" in james and "0.72" in james and "−0.05" in james
    sparse = panel.sparse_label.text()
    assert "0.56" in sparse and "0.63" in sparse                 # the erratum is named
    files = export_figure(panel, "Sequence, gates and states", tmp_path / "gates.png", scale=1)
    img = QImage(str(files[0]))
    assert img.width() >= panel.inspector.width() - 2 and not img.isNull()
    path = panel.export_gates_csv(tmp_path / "gates.csv")
    rows = [r for r in csv.reader(open(path)) if r and not r[0].startswith("#")]
    header, body = rows[0], rows[1:]
    snap = panel.snapshot
    assert len(body) == snap.x.shape[0]
    col = header.index("f[3]")
    np.testing.assert_allclose([float(r[col]) for r in body], snap.arrays["f"][:, 3])
