"""The optimizer panel: click to set the start, stepping, presets, divergence, export, closing."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from nnsim.engine.base import FINISHED
from nnsim.panels.optimizers import OptimizerPanel, log_levels
from nnsim.runner import Runner
from nnsim.widgets.export_dialog import export_figure


@pytest.fixture
def panel(qtbot):
    p = OptimizerPanel()
    qtbot.addWidget(p)
    p.resize(1500, 900)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=30000)
    yield p
    p.shutdown()


def step_to(qtbot, panel, n):
    panel.transport.stepn_spin.setValue(max(2, n - panel.snapshot.step_count))
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count == n, timeout=10000)


def preset(qtbot, panel, prefix):
    name = next(n for n in panel.presets if n.startswith(prefix))
    old = panel.snapshot
    panel.preset_box.activated.emit(panel.preset_box.findData(name))
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0
                    and panel.params.surface == panel.presets[name]["surface"], timeout=10000)


def test_opens_with_the_rosenbrock_race_and_steps(panel, qtbot):
    snap = panel.snapshot
    assert snap.surface == "rosenbrock" and len(snap.names) == 8
    step_to(qtbot, panel, 25)
    snap = panel.snapshot
    assert all(len(p) == 26 for p in snap.paths)
    xs, ys = panel._paths["adam"].getData()
    np.testing.assert_allclose(xs, snap.paths[snap.names.index("adam")][:, 0])
    # the numbers are a tab here: filled when it is shown (frames leave hidden tabs out)
    panel.tabs.setCurrentWidget(panel.table_scroll)
    qtbot.waitUntil(lambda: "Adam" in panel.table.text() and "SGD" in panel.table.text(), timeout=5000)
    adam = snap.paths[snap.names.index("adam")][-1]
    assert f"({adam[0]:.3g}, {adam[1]:.3g})" in panel.table.text()


def test_hidden_tabs_are_drawn_when_shown_or_exported(panel, qtbot, monkeypatch):
    """Frames leave the curves and numbers on hidden tabs alone; showing a tab, or exporting,
    brings it up to the latest state; unchanged data is not set again."""
    import pyqtgraph as pg

    panel.tabs.setCurrentWidget(panel.loss_widget)
    calls = []
    original = pg.PlotDataItem.setData

    def record(item, *a, **k):
        calls.append(item)
        return original(item, *a, **k)

    def points(item) -> int:
        x, _y = item.getData()
        return 0 if x is None else len(x)

    monkeypatch.setattr(pg.PlotDataItem, "setData", record)
    step_to(qtbot, panel, 12)
    dist = set(panel._dist_curves.values())
    assert not dist & set(calls) and set(panel._loss_curves.values()) <= set(calls)
    assert points(panel._dist_curves["adam"]) < 13
    calls.clear()
    panel.draw_all_views()  # what an export does first
    assert dist <= set(calls) and points(panel._dist_curves["adam"]) == 13
    step_to(qtbot, panel, 15)
    calls.clear()
    panel.tabs.setCurrentWidget(panel.dist_widget)  # shown: drawn at once, without a new frame
    qtbot.waitUntil(lambda: points(panel._dist_curves["adam"]) == 16, timeout=5000)
    calls.clear()
    panel.render_snapshot(panel.snapshot)  # the same state again: nothing to set
    assert not calls


def test_click_sets_the_start_and_every_path_follows(panel, qtbot):
    step_to(qtbot, panel, 10)
    vb = panel.map_plot.getViewBox()
    scene_pt = vb.mapViewToScene(QPointF(0.5, 2.0))
    view_pt = panel.map_widget.mapFromScene(scene_pt)
    qtbot.mouseClick(panel.map_widget.viewport(), Qt.MouseButton.LeftButton, pos=view_pt)
    qtbot.waitUntil(lambda: abs(panel.snapshot.paths[0][0][0] - 0.5) < 0.03, timeout=10000)
    snap = panel.snapshot
    assert abs(panel.params.start_x - 0.5) < 0.03 and abs(panel.params.start_y - 2.0) < 0.03
    for path in snap.paths:
        np.testing.assert_allclose(path[0], [panel.params.start_x, panel.params.start_y])
    assert snap.step_count == 10  # the start is a live parameter: the head stays


def test_saddle_preset_sgd_stalls_adaptive_escape(panel, qtbot):
    preset(qtbot, panel, "Saddle point")
    panel.tabs.setCurrentWidget(panel.table_scroll)
    panel.transport.speed_box.setCurrentIndex(panel.transport.speed_box.count() - 1)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.status == FINISHED, timeout=20000)
    snap = panel.snapshot
    assert snap.step_count == panel.params.steps
    head = {n: p[-1] for n, p in zip(snap.names, snap.paths)}
    assert np.hypot(*head["sgd"]) < 0.2 < 1.0 < np.hypot(*head["adam"])
    # the numbers (at most 8 updates a second while playing) show the last state once the run stops
    adam = f"({head['adam'][0]:.3g}, {head['adam'][1]:.3g})"
    qtbot.waitUntil(lambda: not panel.runner.playing and adam in panel.table.text(), timeout=5000)
    assert "Newton" in panel.banner.text()  # the Hessian of the saddle is not positive definite


def test_divergence_is_marked_and_others_go_on(panel, qtbot):
    panel.set_params(panel.params.replace(sgd_lr=0.5))
    step_to(qtbot, panel, 60)
    snap = panel.snapshot
    i = snap.names.index("sgd")
    assert snap.diverged_at[i] >= 1
    assert f"SGD diverged at step {snap.diverged_at[i]}" in panel.banner.text()
    others = [k for k, n in enumerate(snap.names) if n != "sgd"]
    assert all(snap.diverged_at[k] == -1 for k in others)
    assert all(np.isfinite(snap.paths[k]).all() for k in others)


def test_live_hyperparameter_keeps_the_head(panel, qtbot):
    step_to(qtbot, panel, 30)
    before = panel.snapshot.paths[panel.snapshot.names.index("momentum")].copy()
    with qtbot.waitSignal(panel.runner.params_applied, timeout=5000) as applied:
        panel.form.editor("momentum_momentum").setValue(0.5)
    assert applied.args == [True]
    qtbot.waitUntil(lambda: not np.array_equal(
        panel.snapshot.paths[panel.snapshot.names.index("momentum")], before), timeout=5000)
    assert panel.snapshot.step_count == 30


def test_export_paths_csv_png_svg(panel, qtbot, tmp_path):
    step_to(qtbot, panel, 40)
    export_figure(panel, "Surface and trajectories", tmp_path / "race.csv")
    rows = [r for r in csv.reader(open(tmp_path / "race.csv")) if r and not r[0].startswith("#")]
    header, body = rows[0], rows[1:]
    snap = panel.snapshot
    # each optimizer's path appears as a column pair with exactly the snapshot's values
    found = 0
    for k, path in enumerate(snap.paths):
        for c in range(0, len(header), 2):
            col = np.array([float(r[c]) for r in body if r[c] not in ("", "nan")])
            if len(col) == len(path) and np.allclose(col, path[:, 0], atol=1e-12):
                found += 1
                break
    assert found == len(snap.paths)
    export_figure(panel, "Surface and trajectories", tmp_path / "race.png", scale=2)
    export_figure(panel, "Loss against iteration", tmp_path / "loss.svg")
    assert (tmp_path / "race.png").stat().st_size > 10_000 and "<svg" in (tmp_path / "loss.svg").read_text()


def test_closing_mid_run_stops_the_thread(qtbot):
    before = Runner.live_count()
    p = OptimizerPanel()
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=30000)
    p.set_params(p.params.replace(steps=20000))
    qtbot.mouseClick(p.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: p.runner.playing and p.snapshot.step_count > 3, timeout=10000)
    p.close()
    assert Runner.live_count() == before


def test_log_levels():
    z = np.linspace(0, 100, 50)[None, :] * np.ones((3, 1))
    field, levels = log_levels(z, 0.0, n=5)
    assert len(levels) == 5 and np.all(np.diff(levels) > 0) and np.isfinite(field).all()
    field, levels = log_levels(z - 50, None, n=4)  # unbounded: signed log, both signs
    assert field.min() < 0 < field.max()


def test_drag_moves_the_start_continuously(panel, qtbot, monkeypatch):
    """While the left button is held, moving the mouse re-sends the start (coalesced by a timer)."""
    from nnsim.panels import optimizers as mod

    monkeypatch.setattr(mod.QApplication, "mouseButtons", staticmethod(lambda: Qt.MouseButton.LeftButton))
    vb = panel.map_plot.getViewBox()
    for x in np.linspace(-1.0, 0.2, 12):
        panel.map_plot.scene().sigMouseMoved.emit(vb.mapViewToScene(QPointF(float(x), 1.5)))
    qtbot.waitUntil(lambda: abs(panel.snapshot.paths[0][0][0] - 0.2) < 0.03, timeout=10000)
    assert abs(panel.params.start_y - 1.5) < 0.03


def test_hover_shows_exact_step_and_value(panel, qtbot):
    step_to(qtbot, panel, 50)
    snap = panel.snapshot
    k = snap.names.index("adam")
    hover = panel.hovers["Loss against iteration"]
    y = float(snap.losses[k][20] - snap.f_min)
    import math

    text = hover.text_at(20.0, math.log10(y))  # the loss axis is logarithmic: view y is log10
    assert text is not None and "iteration = 20" in text
    shown = float(text.split("f(θ) − f* = ")[1].split("<")[0])
    assert shown == pytest.approx(y, rel=1e-5)


def test_mlp_mode_races_the_same_optimizers_on_a_network(panel, qtbot, tmp_path):
    assert not panel.mlp_widget.isVisible()
    preset(qtbot, panel, "The same optimizers on a real network")
    qtbot.waitUntil(lambda: any(c is not None for c in panel.snapshot.mlp_losses), timeout=30000)
    step_to(qtbot, panel, 60)
    snap = panel.snapshot
    assert panel.mlp_widget.isVisible()
    k = snap.names.index("momentum")
    xs, ys = panel._mlp_curves["momentum"].getData()
    np.testing.assert_allclose(10 ** ys, snap.mlp_losses[k], rtol=1e-12)  # log axis: view y is log10
    assert snap.mlp_losses[snap.names.index("newton")] is None
    export_figure(panel, "The same optimizers training an MLP", tmp_path / "mlp.csv")
    assert (tmp_path / "mlp.csv").stat().st_size > 1000
    panel.form.editor("mlp_race").setChecked(False)
    qtbot.waitUntil(lambda: not panel.mlp_widget.isVisible(), timeout=10000)


def test_target_on_f_pauses_on_the_first_iteration_at_or_below_it(panel, qtbot):
    """Stop condition: Play pauses on the very iteration where the best optimizer's f(w) first
    reaches the target; the banner says so with the value."""
    target = 0.5
    panel.transport.target_check.setChecked(True)
    panel.transport.target_spin.setValue(target)
    panel.transport.speed_box.setCurrentIndex(panel.transport.speed_box.findData(0.0))
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Target reached" in panel.banner.text() and not panel.runner.playing, timeout=20000)
    snap = panel.snapshot
    head = snap.step_count
    best = [min(float(l[k]) for l in snap.losses if np.isfinite(l[k])) for k in range(head + 1)]
    assert head > 0 and best[head] <= target < min(best[:head])
    assert f"{best[head]:.6g}" in panel.banner.text()
    # unticked: Play runs on past it
    panel.transport.target_check.setChecked(False)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count > head + 5, timeout=20000)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.playing, timeout=10000)


def test_paths_are_stroked_once_per_pixel_and_exported_whole():
    """A path's segments on screen: a slow crawl stays one connected line, an oscillation between the
    same pixels is stroked once; what is drawn never strays more than a cell from the iterates."""
    from nnsim.panels.optimizers_views import nice_ceiling, stroke_segments, view_span

    crawl = np.linspace(0.0, 10.0, 1001)  # 0.01 per step, cells of 0.5: about 20 cells
    xs, ys = stroke_segments(crawl, crawl * 0.0, 0.5, 0.5)
    assert len(xs) // 2 <= 21
    ends = xs.reshape(-1, 2)
    assert ends[0, 0] == 0.0 and ends[-1, 1] == 10.0
    assert np.allclose(ends[1:, 0], ends[:-1, 1])  # connected: each segment starts where one ended
    wobble = np.tile([0.0, 1.0], 500)  # 1000 iterates bouncing between two cells
    xs, ys = stroke_segments(wobble, wobble * 0.0, 0.5, 0.5)
    assert len(xs) // 2 <= 2
    broken = np.array([0.0, 1.0, np.nan, 3.0, 4.0, 5.0])  # (a diverged gap stays a gap)
    xs, ys = stroke_segments(broken, broken * 0.0, 0.5, 0.5)
    assert np.isfinite(xs).all() and not any(a < 2 < b for a, b in xs.reshape(-1, 2))
    assert [nice_ceiling(n) for n in (3, 10, 11, 151, 400, 401)] == [10, 10, 15, 200, 400, 500]
    assert view_span([np.log10([0.3, 20.0])]) == (-1.0, 1.5)  # half decades, never cutting a curve


def test_exports_and_hover_use_every_iterate(panel, qtbot, tmp_path):
    step_to(qtbot, panel, 120)
    snap = panel.snapshot
    item = panel._paths["rmsprop"]
    x, y = item.getData()
    assert len(x) == 121  # (the data are whole; only the screen strokes a thinned set)
    item.setExportMode(True, {})
    try:
        assert item.getPath().elementCount() == 121
    finally:
        item.setExportMode(False)
    export_figure(panel, "Surface and trajectories", tmp_path / "map.svg")
    assert "<svg" in (tmp_path / "map.svg").read_text()
    assert snap.step_count == 120


def test_curve_ranges_grow_in_steps_and_keep_a_zoom(panel, qtbot):
    """The loss plot's x range grows in a few steps (not every frame); a zoom by hand stays until
    "auto" (A) gives the range back."""
    panel.tabs.setCurrentWidget(panel.loss_widget)
    vb = panel.loss_plot.vb
    step_to(qtbot, panel, 12)
    assert vb.viewRange()[0][1] == pytest.approx(15 * 1.02)
    step_to(qtbot, panel, 14)
    assert vb.viewRange()[0][1] == pytest.approx(15 * 1.02)  # (same step: no new range)
    vb.setRange(xRange=(2, 5), padding=0)
    vb.sigRangeChangedManually.emit(vb.state["mouseEnabled"])  # (as a wheel or drag zoom does)
    step_to(qtbot, panel, 25)
    assert vb.viewRange()[0] == pytest.approx([2, 5])
    vb.enableAutoRange()  # the A button
    step_to(qtbot, panel, 27)
    assert vb.viewRange()[0][1] == pytest.approx(30 * 1.02)
