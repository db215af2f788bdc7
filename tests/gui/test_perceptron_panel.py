"""The perceptron panel driven like a lecturer would: real buttons, real files, offscreen."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage

from nnsim.engine.base import CONVERGED, NOT_CONVERGED
from nnsim.panels.perceptron import PerceptronPanel, boundary_segment
from nnsim.runner import Runner
from nnsim.widgets.export_dialog import WHOLE_PANEL, export_figure


@pytest.fixture
def panel(qtbot):
    p = PerceptronPanel()
    qtbot.addWidget(p)
    p.resize(1400, 850)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=20000)
    yield p
    p.shutdown()


def fresh(qtbot, panel, action):
    """Do ``action`` and wait for the state it produces (a new snapshot at step 0)."""
    old = panel.snapshot
    action()
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0, timeout=10000)


def choose(panel, name, value, qtbot=None):
    box = panel.form.editor(name)
    if qtbot is None or box.currentData() == value:
        box.setCurrentIndex(box.findData(value))
    else:
        fresh(qtbot, panel, lambda: box.setCurrentIndex(box.findData(value)))


def wait_steps(qtbot, panel, n):
    qtbot.waitUntil(lambda: panel.snapshot.step_count == n, timeout=10000)


def fastest(panel):
    panel.transport.speed_box.setCurrentIndex(panel.transport.speed_box.count() - 1)


def test_xor_play_never_converges_and_says_why(panel, qtbot):
    choose(panel, "dataset", "xor")
    qtbot.waitUntil(lambda: panel.snapshot.X.shape == (4, 2) and panel.snapshot.step_count == 0, timeout=5000)
    w0 = panel.snapshot.weights_raw.copy()
    fastest(panel)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.status == NOT_CONVERGED, timeout=20000)
    qtbot.waitUntil(lambda: not panel.runner.playing, timeout=5000)
    snap = panel.snapshot
    assert not np.array_equal(snap.weights_raw, w0)  # the boundary moved
    assert len(snap.epoch_errors) == panel.params.max_epochs and snap.epoch_errors.min() > 0
    assert "not linearly separable" in panel.banner.text()
    assert panel.banner.isVisible()
    # the plotted boundary follows the snapshot
    xs, ys = panel._boundary_items[0].getData()
    w = snap.weights_raw[0]
    np.testing.assert_allclose(w[1] * xs + w[2] * ys, w[0], atol=1e-9)


def test_and_converges_with_message(panel, qtbot):
    choose(panel, "dataset", "and")
    fastest(panel)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.status == CONVERGED, timeout=20000)
    assert "onverged" in panel.banner.text()
    assert not panel.snapshot.misclassified.any()


def test_step_advances_exactly_one_sample(panel, qtbot):
    choose(panel, "dataset", "clusters", qtbot)
    for k in range(1, 4):
        expected_index = panel.snapshot.next_index
        qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
        wait_steps(qtbot, panel, k)
        assert panel.snapshot.last.index == expected_index
    assert "Presentation 3" in panel.equation.text()
    panel.transport.stepn_spin.setValue(20)
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    wait_steps(qtbot, panel, 23)
    assert not panel.runner.playing


def test_reset_restores_the_seeds_state(panel, qtbot):
    choose(panel, "dataset", "clusters", qtbot)
    panel.transport.seed_spin.setValue(5)
    fresh(qtbot, panel, lambda: qtbot.mouseClick(panel.transport.reset_button, Qt.MouseButton.LeftButton))
    start = panel.snapshot
    panel.transport.stepn_spin.setValue(40)
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    wait_steps(qtbot, panel, 40)
    after40 = panel.snapshot
    fresh(qtbot, panel, lambda: qtbot.mouseClick(panel.transport.reset_button, Qt.MouseButton.LeftButton))
    np.testing.assert_array_equal(panel.snapshot.X, start.X)
    np.testing.assert_array_equal(panel.snapshot.weights, start.weights)
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    wait_steps(qtbot, panel, 40)
    np.testing.assert_array_equal(panel.snapshot.weights, after40.weights)


def test_live_learning_rate_keeps_the_run(panel, qtbot):
    choose(panel, "dataset", "clusters", qtbot)
    panel.transport.stepn_spin.setValue(10)
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    wait_steps(qtbot, panel, 10)
    with qtbot.waitSignal(panel.runner.params_applied, timeout=5000) as applied:
        panel.form.editor("lr").setValue(0.3)
    assert applied.args == [True]
    assert panel.snapshot.step_count == 10
    qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
    wait_steps(qtbot, panel, 11)
    assert panel.snapshot.last.lr == pytest.approx(0.3)


def test_export_png_svg_csv_and_params(panel, qtbot, tmp_path):
    choose(panel, "dataset", "clusters", qtbot)
    panel.transport.stepn_spin.setValue(30)
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    wait_steps(qtbot, panel, 30)
    widget = panel.figures()["Data and decision boundary"]
    files = export_figure(panel, "Data and decision boundary", tmp_path / "boundary.png", scale=2)
    img = QImage(str(files[0]))
    assert abs(img.width() - 2 * widget.width()) <= 2 and abs(img.height() - 2 * widget.height()) <= 2
    assert len({img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}) > 5
    meta = json.loads(files[1].read_text())
    assert meta["panel"] == "perceptron" and meta["params"]["dataset"] == "clusters" and meta["step_count"] == 30

    export_figure(panel, "Data and decision boundary", tmp_path / "boundary.svg")
    root = ET.parse(tmp_path / "boundary.svg").getroot()
    assert root.tag.endswith("svg") and len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 10

    export_figure(panel, "Data and decision boundary", tmp_path / "boundary.csv")
    rows = [r for r in csv.reader(open(tmp_path / "boundary.csv")) if r and not r[0].startswith("#")]
    header, body = rows[0], rows[1:]
    col = header.index(next(h for h in header if h.endswith("class 1 x")))
    xs = np.array([float(r[col]) for r in body if r[col] != ""])
    snap = panel.snapshot
    np.testing.assert_allclose(np.sort(xs), np.sort(snap.X[snap.labels == 1, 0]), rtol=0, atol=1e-12)

    whole = export_figure(panel, WHOLE_PANEL, tmp_path / "panel.png", scale=1, with_params=False)
    assert QImage(str(whole[0])).width() == panel.width()


def test_bad_csv_shows_error_and_keeps_data(panel, qtbot, tmp_path):
    choose(panel, "dataset", "clusters", qtbot)
    before = panel.snapshot.X.copy()
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1.0,2.0,1\n3.0,oops,0\n")
    assert panel.open_data(str(bad)) is False
    assert "line 3" in panel.banner.text()
    panel.error_dialog.close()
    np.testing.assert_array_equal(panel.snapshot.X, before)
    assert panel.params.dataset == "clusters"
    qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
    wait_steps(qtbot, panel, 1)  # still works


def test_good_csv_loads(panel, qtbot, tmp_path):
    good = tmp_path / "good.csv"
    rows = [(0.0, 0.0, 0), (1.0, 0.2, 0), (3.0, 3.0, 1), (4.0, 3.5, 1), (0.5, 4.0, 2)]
    good.write_text("x1,x2,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    assert panel.open_data(str(good))
    qtbot.waitUntil(lambda: panel.snapshot.X.shape == (5, 2), timeout=5000)
    np.testing.assert_array_equal(panel.snapshot.X, np.array([r[:2] for r in rows]))
    assert panel.snapshot.n_classes == 3 and panel.snapshot.weights.shape == (3, 3)
    assert panel.form.editor("dataset").currentData() == "user"


def _click_at(qtbot, panel, x, y, button):
    vb = panel.data_plot.getViewBox()
    scene_pt = vb.mapViewToScene(QPointF(x, y))
    view_pt = panel.data_widget.mapFromScene(scene_pt)
    qtbot.mouseClick(panel.data_widget.viewport(), button, pos=view_pt)


def test_mouse_adds_and_removes_points(panel, qtbot):
    choose(panel, "dataset", "and")
    qtbot.waitUntil(lambda: len(panel.snapshot.X) == 4 and panel.snapshot.step_count == 0, timeout=5000)
    panel.click_class.setCurrentIndex(1)
    _click_at(qtbot, panel, 0.5, 0.6, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.snapshot.X) == 5, timeout=5000)
    np.testing.assert_allclose(panel.snapshot.X[-1], [0.5, 0.6], atol=0.02)
    assert panel.snapshot.labels[-1] == 1 and panel.params.dataset == "user"
    _click_at(qtbot, panel, 1.0, 1.0, Qt.MouseButton.RightButton)
    qtbot.waitUntil(lambda: len(panel.snapshot.X) == 4, timeout=5000)
    assert not any(np.allclose(p, [1.0, 1.0]) for p in panel.snapshot.X)


def test_closing_during_a_run_stops_the_thread(qtbot):
    before = Runner.live_count()
    p = PerceptronPanel()
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=20000)
    choose(p, "dataset", "xor")
    p.form.editor("max_epochs").setValue(100000)
    p.transport.speed_box.setCurrentIndex(p.transport.speed_box.findData(1000.0))
    qtbot.mouseClick(p.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: p.runner.playing and p.snapshot.step_count > 100, timeout=10000)
    p.close()
    assert not p.runner.is_running()
    assert Runner.live_count() == before


def test_boundary_segment_clips_to_box():
    xs, ys = boundary_segment(np.array([1.0, 1.0, 1.0]), (-5, 5, -5, 5))  # x1 + x2 = 1
    np.testing.assert_allclose(xs + ys, 1.0)
    assert xs.min() >= -5 and xs.max() <= 5
    assert boundary_segment(np.array([100.0, 1.0, 0.0]), (-5, 5, -5, 5)) is None  # x1 = 100: outside


def test_worked_example_preset_reproduces_the_lecture(panel, qtbot):
    """COURSE.md §5 row 1: w [1, -0.8] -> [2, 1.2] -> [3, -0.8] -> [3, 0.2], then no change."""
    name = next(n for n in panel.presets if n.startswith("Worked example"))
    fresh(qtbot, panel, lambda: panel.preset_box.activated.emit(panel.preset_box.findData(name)))
    assert panel.params.dataset == "worked" and panel.params.lr == 1.0 and panel.params.order == "fixed"
    expected = [[2, 1.2], [3, -0.8], [3, 0.2]]
    for k, w in enumerate(expected, start=1):
        qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
        wait_steps(qtbot, panel, k)
        np.testing.assert_allclose(panel.snapshot.weights[0, 1:], w, atol=1e-12)
        assert "SUBTRACT" in panel.equation.text() or "ADD" in panel.equation.text()
    fastest(panel)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.status == CONVERGED, timeout=10000)
    np.testing.assert_allclose(panel.snapshot.weights[0, 1:], [3, 0.2], atol=1e-12)
    assert panel.snapshot.step_count == 6  # epoch 2 makes no change and ends the run


def test_every_figure_has_an_export_action_in_its_menu(panel, qtbot, tmp_path):
    from nnsim.widgets.export_dialog import ExportDialog

    with_menu = {n: w for n, w in panel.figures().items() if w.getPlotItem().menuEnabled()}
    assert "Errors per epoch" in with_menu  # the data plot uses right click to remove points
    for name, widget in with_menu.items():
        menu = widget.getPlotItem().vb.menu
        action = next(a for a in menu.actions() if a.text().startswith("Export this figure"))
        action.trigger()
        dialogs = [w for w in panel.window().findChildren(ExportDialog) if w.isVisible()]
        assert dialogs and dialogs[-1].figure_box.currentText() == name
        d = dialogs[-1]
        d.format_box.setCurrentIndex(d.format_box.findData("csv"))
        d.path_edit.setText(str(tmp_path / "fig.csv"))
        d._on_save()
        assert (tmp_path / "fig.csv").exists() and (tmp_path / "fig.params.json").exists()
        assert not d.isVisible()


def test_your_own_points_with_none_yet_is_information_not_an_error(panel, qtbot):
    from nnsim.engine.perceptron import NO_DATA

    choose(panel, "dataset", "user", qtbot)
    qtbot.waitUntil(lambda: panel.snapshot.X.shape[0] == 0, timeout=5000)
    assert panel.banner.text() == NO_DATA and panel.banner.property("kind") == "info"
    panel.runner.step(3)  # nothing to learn from: still drawn, still information
    qtbot.wait(200)
    assert "Could not draw" not in panel.banner.text() and panel.banner.property("kind") == "info"
    assert panel.snapshot.step_count == 0
