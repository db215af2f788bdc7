"""The MLP panel driven like a lecturer would: presets, play, step, 4 runs, divergence, the inside
views, gradient checking, clicks, CSV files and exports (offscreen, real buttons, no sleeps)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage

from nnsim.engine.mlp_sim import MLPParams, MLPSimulation
from nnsim.panels.mlp import MLPPanel
from nnsim.panels.mlp_views import region_rgb
from nnsim.widgets.export_dialog import export_figure


@pytest.fixture
def panel(qtbot):
    p = MLPPanel()
    qtbot.addWidget(p)
    p.resize(1600, 960)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=60000)
    yield p
    p.shutdown()


def fresh(qtbot, panel, action, timeout=20000):
    """Do ``action`` and wait for the state it produces (a new snapshot at step 0)."""
    old = panel.snapshot
    action()
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0, timeout=timeout)


def preset(qtbot, panel, prefix):
    name = next(n for n in panel.presets if n.startswith(prefix))
    fresh(qtbot, panel, lambda: panel.preset_box.activated.emit(panel.preset_box.findData(name)))
    return panel.presets[name]


def step_to(qtbot, panel, n):
    panel.transport.stepn_spin.setValue(max(2, n - panel.snapshot.step_count))
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count >= n and not panel.runner.playing, timeout=30000)


def test_opens_on_the_four_learning_rates_and_the_diverging_run_is_marked(panel, qtbot):
    snap = panel.snapshot
    assert [r.lr for r in snap.runs] == [0.01, 1.0, 10.0, 40.0]
    assert len(panel.regions.plots) == 4
    step_to(qtbot, panel, 60)
    snap = panel.snapshot
    bad = snap.runs[3]
    assert bad.state == "diverged" and f"diverged at step {bad.diverged_at}" in panel.banner.text()
    assert "diverged" in panel.regions.plots[3].titleLabel.text
    assert all(r.state == "running" and r.steps_done == 60 for r in snap.runs[:3])
    # (the loss legend is now a legend item below/right of the plot, exported with it)
    assert f"η = 40 (diverged at step {bad.diverged_at})" in panel.loss.legend_texts()
    # every heatmap shows its run's regions; the loss curves are the snapshot's
    for k, r in enumerate(snap.runs):
        img = panel.regions.images[k].image
        assert img.shape == (150, 150, 3)
        np.testing.assert_array_equal(img, region_rgb(r.region_class, r.region_conf))
        xs, ys = panel._train_curves[k].getOriginalDataset()
        np.testing.assert_array_equal(xs, r.steps)
    assert len(np.unique(panel.regions.images[1].image.reshape(-1, 3), axis=0)) > 20   # shaded


def test_step_is_one_batch_for_every_run_and_play_goes(panel, qtbot):
    qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count == 1, timeout=10000)
    assert [r.steps[-1] for r in panel.snapshot.runs] == [1, 1, 1, 1]
    panel.transport.speed_box.setCurrentIndex(panel.transport.speed_box.findData(100.0))
    seen = []
    panel.runner.snapshot_ready.connect(lambda s: seen.append(s.step_count))
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(seen) >= 5 and seen[-1] > 40, timeout=30000)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.playing, timeout=10000)
    assert seen == sorted(seen)
    assert "Hidden units of run 2" in panel.units_box.title()
    assert panel.units.last_rgb is not None and panel.units.last_rgb.shape[2] == 3


def test_live_learning_rate_and_log_axis(panel, qtbot):
    step_to(qtbot, panel, 10)
    with qtbot.waitSignal(panel.runner.params_applied, timeout=10000) as applied:
        panel.form.editor("lr1").setValue(0.5)
    assert applied.args == [True] and panel.snapshot.step_count == 10
    qtbot.waitUntil(lambda: panel.snapshot.runs[0].lr == 0.5, timeout=10000)
    assert panel.loss_plot.ctrl.logYCheck.isChecked()
    panel.log_check.setChecked(False)
    assert not panel.loss_plot.ctrl.logYCheck.isChecked()
    assert "log" not in panel.loss_plot.getAxis("left").labelText


def test_export_loss_curves_csv_and_png(panel, qtbot, tmp_path):
    step_to(qtbot, panel, 30)
    files = export_figure(panel, "Loss curves", tmp_path / "loss.png", scale=1)
    img = QImage(str(files[0]))
    assert img.width() > 200 and img.height() > 150
    assert len({img.pixel(x, y) for x in range(0, img.width(), 9) for y in range(0, img.height(), 9)}) > 5
    export_figure(panel, "Loss curves", tmp_path / "loss.csv")
    rows = [r for r in csv.reader(open(tmp_path / "loss.csv")) if r and not r[0].startswith("#")]
    header, body = rows[0], rows[1:]
    col = header.index(next(h for h in header if h.startswith("Loss") and "η = 1 training y" in h))
    ys = [float(r[col]) for r in body if r[col] not in ("", "nan")]
    np.testing.assert_allclose(ys, panel.snapshot.runs[1].train_loss, rtol=1e-12)
    out = panel.export_regions_csv(tmp_path / "regions.csv")
    rows = list(csv.reader(open(out)))
    assert len(rows) == 1 + 150 * 150 and rows[0][:3] == ["x1", "x2", "class (run 1, eta=0.01)"]


def test_gradient_check_button_and_the_course_bug(panel, qtbot):
    preset(qtbot, panel, "Gradient check catches")
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.gradcheck is not None, timeout=30000)
    assert panel.tabs.currentIndex() == 2
    text = panel.gradcheck_label.text()
    assert "FAILED" in text and "Backprop bug on" in text and "kink" in text
    panel.form.editor("bug").setCurrentIndex(panel.form.editor("bug").findData("none"))
    old = panel.snapshot.gradcheck
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.gradcheck is not old, timeout=30000)
    assert "PASSED" in panel.gradcheck_label.text()


def test_edge_click_chooses_the_weight_of_the_chain_rule(panel, qtbot):
    step_to(qtbot, panel, 5)
    d = panel.diagram
    y0, y1 = d._ys[1][2], d._ys[2][4]                 # W⁽²⁾[3, 5]: hidden 1 unit 3 → hidden 2 unit 5
    vb = d.getPlotItem().getViewBox()
    t = 0.13                      # (on a regular layout many edges cross at t = 1/2, 1/4, …)
    pt = vb.mapViewToScene(QPointF(1 + t, (1 - t) * y0 + t * y1))
    qtbot.mouseClick(d.viewport(), Qt.MouseButton.LeftButton, pos=d.mapFromScene(pt))
    qtbot.waitUntil(lambda: panel.snapshot.explanation is not None and
                    (panel.snapshot.explanation.layer, panel.snapshot.explanation.i,
                     panel.snapshot.explanation.j) == (2, 3, 5), timeout=10000)
    assert panel.tabs.currentIndex() == 1
    assert "W⁽²⁾[3, 5]" in panel.equation.text() and "δ" in panel.equation.text()


def test_linear_preset_shows_the_collapsed_affine_map(panel, qtbot):
    preset(qtbot, panel, "Linear hidden")
    step_to(qtbot, panel, 20)
    panel.tabs.setCurrentIndex(0)
    text = panel.runs_label.text()
    assert "one affine map" in text and "W₁ W₂ W₃ W₄ W₅" in text
    assert "train acc." in text and "%" in text


def test_click_adds_a_point_and_bad_csv_is_refused(panel, qtbot, tmp_path):
    n0 = len(panel.snapshot.X_train) + len(panel.snapshot.X_test)
    vb = panel.regions.plots[0].getViewBox()
    pt = vb.mapViewToScene(QPointF(0.3, 1.2))
    panel.click_class.setCurrentIndex(1)
    fresh(qtbot, panel, lambda: qtbot.mouseClick(panel.regions.viewport(), Qt.MouseButton.LeftButton,
                                                 pos=panel.regions.mapFromScene(pt)))
    snap = panel.snapshot
    X = np.vstack([snap.X_train, snap.X_test])
    assert panel.params.dataset == "user" and len(X) == n0 + 1
    assert np.min(np.hypot(X[:, 0] - 0.3, X[:, 1] - 1.2)) < 0.05
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2,0\n3,oops,1\n")
    assert panel.open_data(str(bad)) is False
    assert "line 3" in panel.banner.text() and panel.params.dataset == "user"
    panel.error_dialog.close()
    good = tmp_path / "good.csv"
    good.write_text("\n".join(f"{x},{y},{int(x > y)}" for x, y in np.random.default_rng(0).normal(size=(30, 2))))
    fresh(qtbot, panel, lambda: panel.open_data(str(good)))
    assert len(panel.snapshot.X_train) + len(panel.snapshot.X_test) == 30


def test_render_is_a_pure_function_of_the_snapshot(panel, qtbot):
    """render_snapshot draws any snapshot without the runner: here a 6-run, 3-class one."""
    sim = MLPSimulation(MLPParams(dataset="spirals3", n_points=90, runs=6, layers=1, units=4), seed=2)
    sim.step(3)
    snap = sim.snapshot()
    panel.tabs.setCurrentIndex(panel.tabs.indexOf(panel.confusion.parentWidget()))  # (hidden tabs are skipped)
    panel.render_snapshot(snap)
    assert len(panel.regions.plots) == 6
    np.testing.assert_array_equal(panel.regions.images[5].image,
                                  region_rgb(snap.runs[5].region_class, snap.runs[5].region_conf))
    assert panel.diagram._nodes.data.size == 2 + 4 + 3
    shown = snap.runs[snap.inspect - 1]
    np.testing.assert_array_equal(panel.confusion.matrix(0), shown.train_confusion)   # 3 × 3 now
    assert panel.confusion.matrix(1).shape == (3, 3) and panel.confusion.matrix(1).sum() == len(snap.X_test)


def test_confusion_tab_shows_the_inspected_runs_counts_and_exports_them(panel, qtbot, tmp_path):
    step_to(qtbot, panel, 40)
    snap = panel.snapshot
    r = snap.runs[snap.inspect - 1]
    view = panel.confusion
    assert not view.isVisible()      # (another tab is shown: frames skip it, showing it draws it)
    panel.tabs.setCurrentIndex(panel.tabs.indexOf(view.parentWidget()))
    qtbot.waitUntil(lambda: view.matrix(0) is not None and np.array_equal(view.matrix(0), r.train_confusion),
                    timeout=5000)
    np.testing.assert_array_equal(view.matrix(0), r.train_confusion)
    np.testing.assert_array_equal(view.matrix(1), r.test_confusion)
    assert view.matrix(0).sum() == len(snap.X_train) and view.matrix(1).sum() == len(snap.X_test)
    right = int(np.trace(r.train_confusion))
    assert f"{100 * r.train_acc_now:.1f} % ({right}/{len(snap.X_train)})" in view.title(0)
    assert "rows: true class" in panel.tabs.tabToolTip(panel.tabs.currentIndex())
    M = r.train_confusion
    assert view.cell_text(0, 0, 1).startswith(f"Training set: {M[0, 1]} of the {M[0].sum()} samples of "
                                              "class 0 taken for 1")
    # CSV through File > Export figure (and so the lab report): one column pair per true class
    export_figure(panel, "Confusion matrices", tmp_path / "cm.csv")
    rows = [row for row in csv.reader(open(tmp_path / "cm.csv")) if row and not row[0].startswith("#")]
    header = rows[0]
    for k in range(snap.n_classes):
        col = header.index(next(h for h in header if f"Training set, true class {k} " in h and h.endswith(" y")))
        assert [int(float(row[col])) for row in rows[1:] if row[col]] == r.train_confusion[k].tolist()
    table = [row for row in csv.reader(open(panel.export_confusion_csv(tmp_path / "t.csv"))) if row]
    assert table[1] == ["true \\ predicted", "0", "1"]
    assert [int(v) for v in table[2][1:]] == r.train_confusion[0].tolist()
    files = export_figure(panel, "Confusion matrices", tmp_path / "cm.png")
    assert QImage(str(files[0])).width() > 200


def test_target_loss_pauses_play_where_the_best_run_reaches_it(panel, qtbot):
    assert panel.target_label == "best training loss"
    panel.transport.target_spin.setValue(0.3)
    panel.transport.target_check.setChecked(True)
    panel.transport.speed_box.setCurrentIndex(panel.transport.speed_box.findData(0.0))
    with qtbot.waitSignal(panel.runner.target_reached, timeout=30000) as reached:
        qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    # (the pause is announced before the state it paused at is drawn: wait for that state)
    qtbot.waitUntil(lambda: not panel.runner.playing and panel.snapshot.step_count == reached.args[0],
                    timeout=30000)
    snap = panel.snapshot
    running = [r for r in snap.runs if r.state == "running"]
    assert min(r.train_loss[-1] for r in running) <= 0.3                  # full batch: every step
    assert min(r.train_loss[-2] for r in running) > 0.3                   # not one step before
    assert snap.step_count < snap.max_steps


def test_hovering_the_network_diagram_shows_biases_and_weights(panel, qtbot):
    from nnsim.widgets.network_diagram import node_positions

    snap = panel.snapshot
    ys = node_positions(snap.sizes)
    out = len(snap.sizes) - 1
    text = panel.diagram.describe_at(float(out), float(ys[out][0]))
    assert "output layer" in text and f"bias b = {snap.biases[-1][0]:.6g}" in text
    text = panel.diagram.describe_at(0.5, float((ys[0][0] + ys[1][0]) / 2))
    assert text.startswith(f"W⁽¹⁾[1, 1] = {snap.weights[0][0, 0]:.6g}")
