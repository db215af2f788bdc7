"""The optimizer panel (issue 12): every preset shows the values it names and the lesson it names;
a surface chosen by hand still brings its defaults; the map shows the start and every minimum; the
right column's tabs (MLP appears with the MLP race, the numbers move below the map on a tall screen);
log axes label only what has room; the numbers table follows the theme."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox

from nnsim.engine.base import FINISHED
from nnsim.engine.optimizers import PRESETS, SURFACE_SETUPS, OptimizerRaceParams
from nnsim.panels.optimizers import OptimizerPanel, decade_labels, map_range
from nnsim.widgets import plots


@pytest.fixture
def panel(qtbot):
    p = OptimizerPanel()
    qtbot.addWidget(p)
    p.resize(1280, 720)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=30000)
    yield p
    p.shutdown()


def apply(qtbot, panel, name):
    old = panel.snapshot
    panel.apply_preset(name)
    want = OptimizerRaceParams().replace(**PRESETS[name])
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0
                    and panel.snapshot.surface == want.surface
                    and panel.snapshot.names == want.enabled()
                    and np.allclose(panel.snapshot.start, [want.start_x, want.start_y]), timeout=30000)


def run_to(qtbot, panel, n):
    """Step the runner to iteration ``n`` (or the horizon) and wait for that snapshot."""
    n = min(n, panel.params.steps)
    panel.runner.step(n - panel.snapshot.step_count)
    qtbot.waitUntil(lambda: panel.snapshot.step_count == n, timeout=30000)
    return panel.snapshot


def editor_value(panel, name):
    editor = panel.form.editor(name)
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    return editor.value()


def head(snap, name):
    return snap.paths[snap.names.index(name)][-1]


def assert_form_shows(panel, name):
    """The preset's values, exactly, in the panel's parameters and in every editor of the form."""
    for key, value in PRESETS[name].items():
        assert getattr(panel.params, key) == value, key
        assert getattr(panel.form.params(), key) == value, key
        shown = editor_value(panel, key)
        if isinstance(value, float):
            decimals = panel.form.editor(key).decimals()
            assert shown == pytest.approx(value, abs=0.51 * 10 ** -decimals), key
        else:
            assert shown == value, key


# ---- a test per preset: the form shows its values and the run shows its lesson
def test_preset_saddle(panel, qtbot):
    name = "Saddle point: SGD stalls, adaptive methods escape"
    apply(qtbot, panel, name)
    assert_form_shows(panel, name)
    snap = run_to(qtbot, panel, 150)
    assert snap.status == FINISHED
    assert np.hypot(*head(snap, "sgd")) < 0.2  # SGD creeps into the saddle
    for rule in ("adagrad", "rmsprop", "adam"):  # the adaptive methods leave it along y
        assert abs(head(snap, rule)[1]) > 1.0
    assert "not positive definite" in snap.newton_note
    assert panel.tabs.indexOf(panel.dist_widget) < 0  # no minimum: no distance tab


def test_preset_canyon_momentum_goes_lengthwise(panel, qtbot):
    name = "Canyon: momentum goes lengthwise"
    apply(qtbot, panel, name)  # from the Rosenbrock race: the canyon's defaults must not win
    assert_form_shows(panel, name)
    assert (panel.params.sgd_lr, panel.params.momentum_lr, panel.params.steps) == (0.038, 0.038, 150)
    snap = run_to(qtbot, panel, 30)
    sgd = snap.paths[snap.names.index("sgd")]
    assert snap.diverged_at == (-1, -1)  # SGD does not diverge ...
    signs = np.sign(sgd[1:12, 1])
    assert np.all(signs[1:] == -signs[:-1])  # ... it zig-zags from wall to wall
    assert abs(head(snap, "momentum")[0]) < 0.1 < 1.0 < abs(head(snap, "sgd")[0])  # momentum goes lengthwise
    snap = run_to(qtbot, panel, 150)
    assert snap.status == FINISHED and snap.diverged_at == (-1, -1)


def test_preset_momentum_as_in_distill(panel, qtbot):
    name = "Momentum as in distill (η = 0.0045, μ = 0.70)"
    apply(qtbot, panel, name)
    assert_form_shows(panel, name)
    snap = run_to(qtbot, panel, 100)
    start_x = panel.params.start_x
    sgd_travel = head(snap, "sgd")[0] - start_x
    mom_travel = head(snap, "momentum")[0] - start_x
    assert mom_travel > 2.0 * sgd_travel > 0  # about three times as fast with μ = 0.7
    y = snap.paths[snap.names.index("momentum")][:, 1]
    assert np.any(np.sign(y[1:]) != np.sign(y[:-1]))  # its own oscillations across the canyon


def test_preset_adagrad_stalls_rmsprop_goes_on(panel, qtbot):
    name = "AdaGrad stalls, RMSProp goes on"
    apply(qtbot, panel, name)
    assert_form_shows(panel, name)
    snap = run_to(qtbot, panel, 2000)
    dist = {n: snap.dist[i][-1] for i, n in enumerate(snap.names)}
    assert dist["rmsprop"] < 0.2 < 1.0 < dist["adagrad"]
    eff = {n: np.asarray(snap.eff_lr_at_head[i]) for i, n in enumerate(snap.names)}
    assert np.all(eff["adagrad"] < eff["rmsprop"])  # AdaGrad's effective rate froze small
    # the start sits on the corner of the surface's bounds: the map still shows it whole
    x0, x1 = panel.map_plot.viewRange()[0]
    y0, y1 = panel.map_plot.viewRange()[1]
    assert x0 < panel.params.start_x - 0.03 * (x1 - x0) and y0 < panel.params.start_y - 0.03 * (y1 - y0)


def test_preset_newton_one_step(panel, qtbot):
    name = "Newton: one step on a quadratic"
    apply(qtbot, panel, name)
    assert_form_shows(panel, name)
    assert (panel.params.sgd_lr, panel.params.steps) == (0.038, 50)
    snap = run_to(qtbot, panel, 1)
    assert np.hypot(*head(snap, "newton")) < 1e-9  # on the minimum after one step
    assert np.hypot(*head(snap, "sgd")) > 4.0
    snap = run_to(qtbot, panel, 50)
    assert np.hypot(*head(snap, "sgd")) > 0.1 and snap.diverged_at == (-1, -1)  # SGD needs many


def test_preset_rosenbrock_race(panel, qtbot):
    name = "Rosenbrock race"
    apply(qtbot, panel, name)
    assert_form_shows(panel, name)
    snap = run_to(qtbot, panel, 10)
    assert snap.dist[snap.names.index("newton")][-1] < 1e-6  # Newton: a handful of steps
    snap = run_to(qtbot, panel, 2000)
    dist = {n: snap.dist[i][-1] for i, n in enumerate(snap.names)}
    assert max(dist["momentum"], dist["adam"]) < 1e-3 < 0.1 < dist["sgd"]  # SGD is slow along the valley
    # the minimum (1, 1) and the start are inside the map
    (x0, x1), (y0, y1) = panel.map_plot.viewRange()
    for x, y in ((1.0, 1.0), (panel.params.start_x, panel.params.start_y)):
        assert x0 < x < x1 and y0 < y < y1


def test_preset_mlp_race(panel, qtbot):
    name = "The same optimizers on a real network (MLP, two moons)"
    assert panel.tabs.indexOf(panel.mlp_widget) < 0
    apply(qtbot, panel, name)
    assert_form_shows(panel, name)
    qtbot.waitUntil(lambda: panel.tabs.indexOf(panel.mlp_widget) >= 0, timeout=30000)
    assert panel.tabs.currentWidget() is panel.mlp_widget and panel.mlp_widget.isVisible()
    snap = run_to(qtbot, panel, 500)
    losses = dict(zip(snap.names, snap.mlp_losses))
    assert losses["newton"] is None
    for rule in ("momentum", "adam"):
        assert losses[rule][-1] < 0.5 * losses[rule][0]  # the network learns
    legend = [label.text for _s, label in panel.mlp_plot.legend.items]
    assert "Newton" not in legend and "Adam" in legend
    panel.form.editor("mlp_race").setChecked(False)
    qtbot.waitUntil(lambda: panel.tabs.indexOf(panel.mlp_widget) < 0, timeout=30000)
    assert not panel.mlp_widget.isVisible()


def test_preset_plateau(panel, qtbot):
    name = "Plateau: gradients vanish, adaptive steps do not"
    apply(qtbot, panel, name)
    assert_form_shows(panel, name)
    snap = run_to(qtbot, panel, 300)
    dist = {n: snap.dist[i][-1] for i, n in enumerate(snap.names)}
    assert dist["sgd"] > 3.0  # barely moved from 3.35
    assert max(dist["adam"], dist["rmsprop"], dist["adagrad"]) < 0.01  # walked straight in


def test_preset_himmelblau(panel, qtbot):
    name = "Himmelblau: the optimizer picks the minimum (Newton climbs)"
    apply(qtbot, panel, name)
    assert_form_shows(panel, name)
    snap = run_to(qtbot, panel, 500)
    minima = np.asarray(snap.minima)
    reached = {n: int(np.argmin(np.hypot(*(minima - head(snap, n)).T))) for n in snap.names if n != "newton"}
    assert len(set(reached.values())) >= 2  # different optimizers, different minima
    assert snap.losses[snap.names.index("newton")][-1] > 150  # Newton stays up at the maximum
    assert "not positive definite" in snap.newton_note
    (x0, x1), (y0, y1) = panel.map_plot.viewRange()
    assert all(x0 < x < x1 and y0 < y < y1 for x, y in minima)  # all four minima in view


def test_preset_camel(panel, qtbot):
    name = "Six-hump camel: momentum reaches a deeper basin"
    apply(qtbot, panel, name)
    assert_form_shows(panel, name)
    snap = run_to(qtbot, panel, 300)
    f = {n: snap.losses[i][-1] for i, n in enumerate(snap.names)}
    assert f["momentum"] == pytest.approx(-1.0316, abs=1e-3) and f["nesterov"] == pytest.approx(-1.0316, abs=1e-3)
    assert sum(1 for n in ("sgd", "adagrad", "rmsprop", "adam", "adadelta") if f[n] > 2.0) >= 4


def test_every_preset_has_a_test():
    tested = {"Saddle point", "Canyon", "Momentum as in distill", "AdaGrad stalls", "Newton: one step",
              "Rosenbrock race", "The same optimizers on a real network", "Plateau", "Himmelblau", "Six-hump camel"}
    assert all(any(name.startswith(t) for t in tested) for name in PRESETS)


def test_surface_chosen_by_hand_brings_its_defaults(panel, qtbot):
    apply(qtbot, panel, "Canyon: momentum goes lengthwise")
    box = panel.form.editor("surface")
    box.setCurrentIndex(box.findData("beale"))  # by hand, in the form
    qtbot.waitUntil(lambda: panel.snapshot.surface == "beale", timeout=30000)
    for key, value in SURFACE_SETUPS["beale"].items():
        assert getattr(panel.params, key) == value and getattr(panel.form.params(), key) == value, key


# ---- layout behaviour of the panel
def test_numbers_are_a_tab_when_short_and_below_the_map_when_tall(panel, qtbot):
    assert panel.tabs.indexOf(panel.table_scroll) >= 0  # 1280 × 720: a tab beside the loss
    panel.resize(1900, 1050)
    qtbot.waitUntil(lambda: panel.tabs.indexOf(panel.table_scroll) < 0, timeout=5000)
    assert panel.table_scroll.parentWidget() is panel._left_split and panel.table_scroll.isVisible()
    # (left out while it was a hidden tab: filled once it is shown below the map)
    qtbot.waitUntil(lambda: panel.table.text().count("<tr") == 1 + len(panel.snapshot.names), timeout=5000)
    panel.resize(1280, 720)
    qtbot.waitUntil(lambda: panel.tabs.indexOf(panel.table_scroll) >= 0, timeout=5000)


def test_every_curve_plot_has_its_legend_outside_the_data(panel):
    for plot in (panel.loss_plot, panel.dist_plot, panel.mlp_plot):
        assert isinstance(plot.legend, plots.OutsideLegend)
        labels = [label.text for _s, label in plot.legend.items]
        want = [n for n in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam", "AdaDelta", "Newton")
                if not (plot is panel.mlp_plot and n == "Newton")]
        assert labels == want
    entries = [label.text for _s, label in panel.map_plot.legend.items]
    assert entries[0].startswith("start") and "minimum" in entries and any("look-ahead" in e for e in entries)


def test_map_range_keeps_start_and_minima_inside():
    bounds = (-2.0, 2.0, -1.0, 3.0)
    assert map_range(bounds, [(-1.2, 1.0), (1.0, 1.0)]) == bounds  # well inside: the bounds
    x0, x1, y0, y1 = map_range(bounds, [(-2.0, -1.0), (1.0, 1.0)])  # on the corner: widened
    assert x0 < -2.0 - 0.04 * 4 and y0 < -1.0 - 0.04 * 4 and (x1, y1) == (2.0, 3.0)
    x0, x1, y0, y1 = map_range(bounds, [(5.0, 9.0)])  # far outside (typed in the form)
    assert x1 > 5.0 and y1 > 9.0


def test_short_log_axis_labels_only_decades(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    plot = widget.getPlotItem()
    plot.setLogMode(y=True)
    axis = decade_labels(plot.getAxis("left"))
    widget.resize(300, 160)
    widget.show()
    qtbot.waitExposed(widget)
    values = [math.log10(v) for v in (2, 3, 5, 7, 20, 30, 50, 70)]
    plot.setYRange(0.0, 2.0, padding=0)  # two decades on a short axis: no minor labels
    qtbot.waitUntil(lambda: tuple(axis.range) == pytest.approx((0.0, 2.0)), timeout=5000)
    assert all(s == "" for s in axis.tickStrings(values, 1.0, None))
    assert axis.tickStrings([0.0, 1.0, 2.0], 1.0, 1.0) == ["1", "10¹", "10²"]  # (pyqtgraph's format)
    widget.resize(300, 600)
    qtbot.waitUntil(lambda: axis.geometry().height() > 400, timeout=5000)
    plot.setYRange(1.0, 1.6, padding=0)  # within a decade: some mantissas, never 7, 8, 9
    qtbot.waitUntil(lambda: tuple(axis.range) == pytest.approx((1.0, 1.6)), timeout=5000)
    shown = [s for s in axis.tickStrings([math.log10(v) for v in (20, 30, 50, 70, 90)], 1.0, None) if s]
    assert shown and not any(s.startswith(("7", "9")) for s in shown)


@pytest.mark.parametrize("name", ["light", "contrast", "dark"])
def test_numbers_table_follows_the_theme(panel, qtbot, name):
    try:
        plots.set_style(name)
        panel.restyle()
        th = plots.theme()
        html = panel.table.text()
        assert "background:white" not in html.replace(" ", "") and "#eee'" not in html and "#c00" not in html
        assert "white" not in panel.table_scroll.widget().styleSheet()
        assert f"color:{th.fg}" in html and th.head_bg in html
        assert "palette(base)" in panel.table_scroll.widget().styleSheet()
        assert plots.contrast_ratio(th.fg, th.base) >= 4.5 and plots.contrast_ratio(th.fg, th.head_bg) >= 4.5
        assert th.muted in panel.table_note.text() and plots.contrast_ratio(th.muted, th.base) >= 4.5
        sgd = panel._loss_curves["sgd"].opts["pen"].color()
        assert plots.contrast_ratio(sgd, th.bg) >= 3.0  # SGD's curve is visible in every theme
    finally:
        plots.set_style("light")


def test_log_axis_over_a_decade_and_a_half_keeps_numbers(qtbot):
    """A tall log axis over 1.5–3 decades (where pyqtgraph draws no decade level, e.g. the MLP's
    batch loss between 0.03 and 1) still labels its decades and the mantissas that fit."""
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    plot = widget.getPlotItem()
    plot.setLogMode(y=True)
    axis = decade_labels(plot.getAxis("left"))
    widget.resize(300, 600)
    widget.show()
    qtbot.waitExposed(widget)
    for lo, hi in ((-1.5, 0.0), (-2.0, 0.5), (-1.0, 0.5)):
        plot.setYRange(lo, hi, padding=0)
        qtbot.waitUntil(lambda: tuple(axis.range) == pytest.approx((lo, hi)), timeout=5000)
        shown = [s for spacing, values in axis.tickValues(lo, hi, axis.geometry().height())
                 for s in axis.tickStrings(values, 1.0, spacing) if s]
        assert shown, (lo, hi)
