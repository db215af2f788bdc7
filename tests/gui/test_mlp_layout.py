"""The MLP panel on a projector: the heatmap grid reflows, titles and legends read in every theme,
labels never overlap, figures export what they show, and every preset shows what it names."""

from __future__ import annotations

import csv
import itertools
import re

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from nnsim.engine.mlp_sim import MLPParams, MLPSimulation
from nnsim.panels import mlp_text
from nnsim.panels.mlp import MLPPanel
from nnsim.panels.mlp_loss import LossView
from nnsim.panels.mlp_views import RUN_COLORS, RegionGrid, UnitMosaic, grid_columns
from nnsim.widgets import plots
from nnsim.widgets.export_dialog import export_figure
from nnsim.widgets.network_diagram import NetworkDiagram


def settle(qtbot, ms=60):
    qtbot.wait(ms)
    QApplication.processEvents()


@pytest.fixture
def panel(qtbot):
    p = MLPPanel()
    qtbot.addWidget(p)
    p.resize(1400, 900)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=60000)
    yield p
    p.shutdown()


@pytest.fixture
def light():
    yield
    plots.set_style("light", 1.0, 1.0)


def set_theme(panel, name: str) -> None:
    """What View > Theme does (presentation.Presentation.apply_to) for one panel."""
    plots.set_style(name)
    for view in panel.findChildren(pg.GraphicsView):
        plots.restyle_view(view)
    for w in [panel] + panel.findChildren(QWidget):
        if getattr(w, "nnsim_themed", False) and callable(getattr(w, "restyle", None)):
            w.restyle()


def _columns(grid: RegionGrid) -> int:
    """Columns counted from where the plots are (not from what the grid says)."""
    xs = sorted({round(p.sceneBoundingRect().left()) for p in grid.plots})
    return len(xs)


def _inside(grid: RegionGrid) -> bool:
    port = QRectF(grid.viewport().rect()).adjusted(-1, -1, 1, 1)
    return all(port.contains(grid.mapFromScene(p.sceneBoundingRect()).boundingRect().toRectF())
               for p in grid.plots)


# ---- the heatmap grid reflows ----------------------------------------------------------------
def test_grid_columns_gives_the_largest_heatmaps():
    assert grid_columns(1, 300, 300) == 1
    assert grid_columns(4, 200, 1200) == 1            # narrow and tall: one column
    assert grid_columns(4, 1200, 260) == 4            # wide and short: one row
    assert grid_columns(4, 600, 600) == 2
    assert grid_columns(6, 900, 400) == 3
    for n in range(1, 7):                             # never more columns than runs
        assert 1 <= grid_columns(n, 5000, 100) <= n


def test_region_grid_reflows_to_fewer_columns_when_narrow(qtbot):
    grid = RegionGrid()
    qtbot.addWidget(grid)
    grid.resize(1000, 260)
    grid.show()
    qtbot.waitExposed(grid)
    grid.set_runs(4)
    settle(qtbot)
    assert _columns(grid) == 4 and grid.columns == 4 and _inside(grid)
    grid.resize(420, 420)
    settle(qtbot)
    assert _columns(grid) == 2 and _inside(grid)
    grid.resize(200, 900)
    settle(qtbot)
    assert _columns(grid) == 1 and _inside(grid)
    plots_before = list(grid.plots)
    grid.resize(1000, 260)
    settle(qtbot)
    assert _columns(grid) == 4 and grid.plots == plots_before        # moved, not re-created
    grid.set_runs(6)
    grid.resize(900, 400)
    settle(qtbot)
    assert _columns(grid) == 3 and _inside(grid)


def test_panel_heatmaps_stay_inside_their_view_when_the_panel_narrows(panel, qtbot):
    for w in (1400, 1000, 760):
        panel.resize(w, 800)
        settle(qtbot, 120)
        assert _inside(panel.regions), w
    # the plots made after build_views still got wrapping titles and the theme's text size
    assert all(getattr(p, "_nnsim_fit", False) for p in panel.regions.plots)


# ---- titles and legends ----------------------------------------------------------------------
@pytest.mark.parametrize("theme_name", ["light", "contrast", "dark"])
def test_run_titles_colour_only_the_swatch_and_their_words_read(panel, qtbot, theme_name, light):
    set_theme(panel, theme_name)
    snap = panel.snapshot
    th = plots.theme()
    for k, r in enumerate(snap.runs):
        html = panel.regions.plots[k].titleLabel.text
        color = RUN_COLORS[k]
        assert html.count(color) == 1 and f"<span style='color:{color}'>■</span>" in html
        assert "82" in html or "%" in html
    # the words take the title's colour: the theme's text colour, readable on the plot background
    assert plots.contrast_ratio(th.fg, th.bg) >= 4.5
    assert panel.regions.plots[0].titleLabel.opts["color"] == th.fg
    assert plots.contrast_ratio(th.bad, th.base) >= 4.5


@pytest.mark.parametrize("theme_name", ["light", "contrast", "dark"])
def test_rich_text_uses_theme_colours(panel, qtbot, theme_name, light):
    plots.set_style(theme_name)
    snap = panel.snapshot
    text = mlp_text.runs_table_html(snap) + mlp_text.gradcheck_html(snap) + mlp_text.explanation_html(snap)
    assert not re.search(r"#(eee|bbb|444|555|111|C00000|0a7a0a|8a5a00)(?![0-9a-fA-F])|white", text)
    th = plots.theme()
    assert th.head_bg in text and th.border in text
    assert "white" not in panel.runs_label.styleSheet() and "palette(base)" in panel.runs_label.styleSheet()


def test_loss_legend_shows_line_styles_and_run_colours_and_is_exported(panel, qtbot, tmp_path):
    panel.transport.stepn_spin.setValue(20)
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count >= 20 and not panel.runner.playing, timeout=30000)
    loss: LossView = panel.loss
    texts = loss.legend_texts()
    assert texts[:2] == ["training", "test"]
    assert [t.split(" (")[0] for t in texts[2:]] == ["η = 0.01", "η = 1", "η = 10", "η = 40"]
    samples = [s.item for s, _l in loss.legend.items]
    assert samples[0].opts["pen"].style() == Qt.PenStyle.SolidLine
    assert samples[1].opts["pen"].style() == Qt.PenStyle.CustomDashLine
    for k, sample in enumerate(samples[2:]):
        assert sample.opts["pen"].color().name() == RUN_COLORS[k].lower()
    # the test curves are dashed and drawn as one polyline (so the dashes survive many points)
    for te in loss.test_curves[:4]:
        assert te.opts["pen"].style() == Qt.PenStyle.CustomDashLine
        assert te.curve.opts["segmentedLineMode"] == "off"
    # the legend lives in the plot's layout, outside the data, and is inside an exported picture
    vb = loss.plot.vb.sceneBoundingRect()
    assert not loss.legend.sceneBoundingRect().intersects(vb)
    files = export_figure(panel, "Loss curves", tmp_path / "loss.png", scale=1, size=(800, 500))
    img = QImage(str(files[0]))
    assert (img.width(), img.height()) == (800, 500)
    plot_rect = loss.plot.sceneBoundingRect()
    assert loss.legend.isVisible() and plot_rect.contains(loss.legend.sceneBoundingRect())
    # labels of the axes are short enough for the plot
    assert loss.plot.getAxis("bottom").labelText == "step"


# ---- labels that never overlap ---------------------------------------------------------------
def _tile_rects(mosaic: UnitMosaic) -> list[QRectF]:
    t = mosaic._tile
    return [mosaic.view.mapViewToScene(QRectF(c0, r0, t, t)).boundingRect() for r0, c0 in mosaic._slots]


def _label_rects(items) -> list[QRectF]:
    out = []
    for t in items:
        if not t.isVisible():
            continue
        m = t.textItem.document().documentMargin()
        out.append(t.mapRectToScene(t.boundingRect().adjusted(m, m, -m, -m)))
    return out


@pytest.mark.parametrize("size", [(190, 130), (200, 240), (320, 200), (600, 300)])
def test_hidden_unit_labels_never_sit_on_tiles_or_on_each_other(qtbot, size):
    sim = MLPSimulation(MLPParams(dataset="moons", layers=2, units=16, runs=1), seed=0)
    snap = sim.snapshot()
    mosaic = UnitMosaic()
    qtbot.addWidget(mosaic)
    mosaic.resize(*size)
    mosaic.show()
    qtbot.waitExposed(mosaic)
    mosaic.set_maps(snap.unit_maps, snap.unit_layer, snap.unit_index, snap.unit_dead, snap.hidden)
    settle(qtbot)
    tiles, labels = _tile_rects(mosaic), _label_rects(mosaic._labels)
    for lab in labels:
        assert not any(lab.adjusted(1, 1, -1, -1).intersects(t) for t in tiles), (size, mosaic.labels)
    for a, b in itertools.combinations(labels, 2):
        assert not a.adjusted(1, 1, -1, -1).intersects(b), (size, mosaic.labels)
    if size[0] >= 320:
        assert mosaic.labels, "a wide mosaic names its rows or tiles"


@pytest.mark.parametrize("size", [(184, 124), (240, 200), (420, 300)])
def test_network_diagram_column_labels_never_overlap(qtbot, size):
    d = NetworkDiagram()
    qtbot.addWidget(d)
    d.resize(*size)
    d.show()
    qtbot.waitExposed(d)
    rng = np.random.default_rng(0)
    sizes = (2, 16, 16, 2)
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    d.set_network(sizes, weights, ["inputs<br>x₁, x₂", "hidden 1<br>16 units", "hidden 2<br>16 units",
                                   "output<br>softmax"], short_names=["x", "h1<br>16", "h2<br>16", "ŷ<br>2"])
    settle(qtbot)
    rects = _label_rects(d._labels)
    for a, b in itertools.combinations(rects, 2):
        assert not a.intersects(b), (size, d.label_mode)
    port = QRectF(d.viewport().rect()).adjusted(-1, -1, 1, 1)
    for r in rects:                                   # whole, inside the view
        assert port.contains(d.mapFromScene(r).boundingRect().toRectF()), (size, d.label_mode)
    if size[0] >= 420:
        assert d.label_mode == "long"
    assert d.label_mode in ("long", "short", "none")


def test_tab_names_are_never_elided(panel):
    assert panel.tabs.elideMode() == Qt.TextElideMode.ElideNone
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == [
        "Runs", "Backprop", "Grad check", "φ, φ′", "Confusion"]


# ---- the decision-region CSV -----------------------------------------------------------------
def test_decision_regions_csv_holds_the_grid_and_the_points_once(panel, qtbot, tmp_path):
    snap = panel.snapshot
    export_figure(panel, "Decision regions", tmp_path / "regions.csv", with_params=False)
    rows = [r for r in csv.reader(open(tmp_path / "regions.csv", encoding="utf-8")) if r and not r[0].startswith("#")]
    header, body = rows[0], rows[1:]
    assert not any("<" in h or "&" in h for h in header)
    assert header[:4] == ["x1", "x2", "class (run 1, eta=0.01)", "confidence (run 1, eta=0.01)"]
    G = snap.grid
    assert len(body) == G * G
    x1 = np.array([float(r[0]) for r in body])
    x2 = np.array([float(r[1]) for r in body])
    assert np.isclose(x1.min(), snap.extent[0]) and np.isclose(x1.max(), snap.extent[1])
    assert np.isclose(x2.min(), snap.extent[2]) and np.isclose(x2.max(), snap.extent[3])
    for k, r in enumerate(snap.runs):
        col = header.index(f"class (run {r.index}, eta={r.lr:g})")
        np.testing.assert_array_equal([float(row[col]) for row in body], r.region_class.ravel())
        col = header.index(f"confidence (run {r.index}, eta={r.lr:g})")
        np.testing.assert_allclose([float(row[col]) for row in body], r.region_conf.ravel())
    col = header.index("training point x1")
    xs = [float(row[col]) for row in body if row[col] != ""]
    np.testing.assert_allclose(xs, snap.X_train[:, 0])             # once, not once per heatmap
    col = header.index("test point class")
    assert [int(float(row[col])) for row in body if row[col] != ""] == snap.y_test.tolist()
    assert sum(h.endswith("point x1") for h in header) == 2


# ---- every preset shows what it names -----------------------------------------------------------
@pytest.mark.parametrize("name", list(MLPPanel.presets))
def test_each_preset_shows_its_values(panel, qtbot, name):
    old = panel.snapshot
    panel.apply_preset(name)
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0, timeout=60000)
    values = panel.presets[name]
    for key, value in values.items():
        assert getattr(panel.params, key) == value, key
        assert panel.form._value(key) == value, key
    snap = panel.snapshot
    runs = values.get("runs", MLPParams().runs)
    assert len(snap.runs) == runs and len(panel.regions.plots) == runs
    assert [r.lr for r in snap.runs] == [values.get(f"lr{k + 1}", getattr(MLPParams(), f"lr{k + 1}"))
                                         for k in range(runs)]
    assert snap.sizes[1:-1] == (values.get("units", MLPParams().units),) * values.get("layers", MLPParams().layers)
    assert snap.hidden == values.get("hidden", MLPParams().hidden)
    assert len(panel.loss.legend_texts()) == runs + (2 if len(snap.X_test) else 1)
