"""The t-SNE panel on a projector: every preset shows what it names, the views fit the room (the
inspector moves into a tab when the views are short), the map keeps every point in view without
re-ranging each frame, P's recomputation is covered, and the colours follow the theme."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox

from nnsim.panels.tsne import TSNEPanel
from nnsim.widgets import plots
from nnsim.widgets.layoutcheck import audit

PRESETS = list(TSNEPanel.presets)


@pytest.fixture
def panel(qtbot):
    p = TSNEPanel()
    qtbot.addWidget(p)
    p.set_form_shown(False)
    p.resize(1270, 600)           # the centre of a 1280×720 projector in presentation mode
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=30000)
    yield p
    p.shutdown()


def settle(qtbot, ms=80):
    qtbot.wait(ms)


def fresh(qtbot, panel, action, timeout=60000):
    """Do ``action`` and wait for the state it produces (step 0) and the cover to go."""
    old = panel.snapshot
    action()
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0
                    and not panel.busy, timeout=timeout)
    settle(qtbot)


def step_n(qtbot, panel, n):
    target = panel.snapshot.step_count + n
    panel.runner.step(n)
    qtbot.waitUntil(lambda: panel.snapshot.step_count == target and not panel.runner.playing,
                    timeout=60000)
    settle(qtbot)


def shown_value(editor):
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    return editor.value()


def points_in_view(panel) -> bool:
    (x0, x1), (y0, y1) = panel.map_plot.getViewBox().viewRange()
    Y = panel.snapshot.Y
    return bool((Y[:, 0] >= x0).all() and (Y[:, 0] <= x1).all()
                and (Y[:, 1] >= y0).all() and (Y[:, 1] <= y1).all())


def legend_names(panel) -> list[str]:
    return [label.text for _sample, label in panel.map_legend.items]


# ---- presets: the values they name in the form, and the lesson they name on screen -------------
def _lesson(panel, name):
    snap = panel.snapshot
    panel.draw_all_views()          # views on hidden tabs are drawn when shown or exported
    sigma = panel.sigma_text.toPlainText()
    if name.startswith("Lecture"):
        assert len(snap.Y) == 500 and snap.perplexity == 30
        assert legend_names(panel) == [str(d) for d in range(10)]
        assert "perplexity 30" in sigma
    elif name.startswith("All 1797"):
        assert len(snap.Y) == 1797 and legend_names(panel) == [str(d) for d in range(10)]
    elif name.startswith("Perplexity 5"):
        assert "perplexity 5\n" in sigma and "= 5 for every i" in panel.sigma_plot.titleLabel.text
    elif name.startswith("Perplexity 100"):
        assert "perplexity 100" in sigma and "= 100 for every i" in panel.sigma_plot.titleLabel.text
    elif name.startswith("Random"):
        # step 1, second option: the start is not the PCA projection (PCA init is exactly it)
        r = abs(np.corrcoef(snap.Y[:, 0], snap.pca[:, 0])[0, 1])
        assert r < 0.5
    elif name.startswith("No early"):
        assert snap.exaggeration == 1.0 and not panel.kl_region.isVisible()
        assert "exaggeration" not in panel.map_plot.titleLabel.text
    elif name.startswith("The 2008"):
        assert snap.exaggeration == 4.0 and snap.learning_rate == 100.0
        assert panel.kl_ex_line.value() == 50 and "×4 ends" in panel.kl_ex_text.toPlainText()
        assert "α = 4" in panel.inspector.text() and "η = 100" in panel.inspector.text()
    elif name.startswith("Gaussian"):
        assert snap.X.shape == (300, 50)
        assert legend_names(panel) == [f"cluster {k}" for k in range(5)]
        assert panel.input_stack.currentWidget() is panel.vector_widget
    elif name.startswith("Every strong"):
        S = snap.threshold_springs
        drawn = sum(len(it.getData()[0]) // 2 for it in panel._spring_items.values()
                    if it.isVisible() and it.getData()[0] is not None)
        assert len(S) > 0 and drawn == len(S)
    else:  # a new preset needs its lesson here
        raise AssertionError(f"no lesson check for preset {name!r}")


@pytest.mark.parametrize("name", PRESETS)
def test_preset_shows_its_values_and_its_lesson(panel, qtbot, name):
    fresh(qtbot, panel, lambda: panel.apply_preset(name))
    expected = panel.params_class().replace(**panel.presets[name])
    for field, value in panel.presets[name].items():
        assert getattr(panel.params, field) == value
        assert shown_value(panel.form.editor(field)) == pytest.approx(value) if isinstance(
            value, float) else shown_value(panel.form.editor(field)) == value
    for field in ("n_points", "perplexity", "early_exaggeration", "exaggeration_iters", "init"):
        assert getattr(panel.params, field) == getattr(expected, field)
    _lesson(panel, name)
    assert not audit(panel), audit(panel)


# ---- layout ------------------------------------------------------------------------------------
def test_every_view_whole_small_and_large(panel, qtbot):
    assert panel.inspector_in_tab()               # 600 px tall: a tab beside KL and σ
    for i in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(i)
        settle(qtbot)
        assert not audit(panel), (panel.tabs.tabText(i), audit(panel))
    panel.resize(1900, 980)
    qtbot.waitUntil(lambda: not panel.inspector_in_tab(), timeout=5000)
    settle(qtbot)
    assert panel.insp_box.parentWidget() is panel.left_split
    assert panel.insp_box.isVisible() and panel.tabs.count() == 2
    assert not audit(panel), audit(panel)
    panel.resize(1000, 640)                       # back to a small room: the tab again
    qtbot.waitUntil(panel.inspector_in_tab, timeout=5000)
    settle(qtbot)
    assert not audit(panel), audit(panel)


def test_legend_outside_the_map_and_tiles_readable(panel, qtbot):
    vb = panel.map_plot.getViewBox().sceneBoundingRect()
    legend = panel.map_legend.sceneBoundingRect()
    assert len(panel.map_legend.items) == 10
    cover = legend.intersected(vb)
    assert cover.width() * cover.height() < 0.01 * vb.width() * vb.height()   # a border at most
    for _sample, label in panel.map_legend.items:            # every digit, inside the view
        r = panel.map_widget.mapFromScene(label.sceneBoundingRect()).boundingRect()
        assert panel.map_widget.viewport().rect().contains(r)
    body = float(plots.pt(plots.TICK_PT)[:-2])
    for lab in [panel.input_title] + panel.nb_labels:
        assert float(lab.opts["size"][:-2]) >= body
    assert panel.input_view.width() >= 180 and panel.input_view.height() >= 120
    # captions of the neighbours: their labels, inside the tile view
    panel.tabs.setCurrentWidget(panel.insp_box)
    settle(qtbot)
    snap = panel.snapshot
    texts = [lab.text for lab in panel.nb_labels if lab.text]
    assert texts and all(t in snap.class_names for t in texts)
    port = panel.input_view.viewport().rect()
    for lab in [panel.input_title] + panel.nb_labels:
        r = panel.input_view.mapFromScene(lab.sceneBoundingRect()).boundingRect()
        assert port.adjusted(-1, -1, 1, 1).contains(r)


def test_the_map_keeps_every_point_in_view_without_reranging_each_frame(panel, qtbot):
    vb = panel.map_plot.getViewBox()
    changes = []
    vb.sigRangeChanged.connect(lambda *_: changes.append(1))
    frames = 0
    for _ in range(30):                           # the map grows ~1e5-fold in early exaggeration
        step_n(qtbot, panel, 10)
        frames += 1
        assert points_in_view(panel), panel.snapshot.step_count
    assert len(changes) < frames                 # throttled: not a new range per frame
    changes.clear()
    for _ in range(10):                           # a settled map: the range stays
        step_n(qtbot, panel, 2)
        assert points_in_view(panel)
    assert len(changes) <= 2
    # a narrow, tall view (aspect locked): still every point
    panel.resize(700, 600)
    settle(qtbot, 200)
    assert points_in_view(panel)
    panel.resize(1270, 600)
    settle(qtbot, 200)
    assert points_in_view(panel)


def test_click_in_the_map_shows_the_inspector_tab(panel, qtbot):
    step_n(qtbot, panel, 100)
    panel.tabs.setCurrentWidget(panel.kl_widget)
    snap = panel.snapshot
    i = 7
    scene_pt = panel.map_plot.getViewBox().mapViewToScene(QPointF(*snap.Y[i]))
    # the nearest point to where we click may be a neighbour of i: any point selects the tab
    qtbot.mouseClick(panel.map_widget.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.map_widget.mapFromScene(scene_pt))
    qtbot.waitUntil(lambda: panel._selected is not None and panel._selected != 0, timeout=5000)
    assert panel.tabs.currentWidget() is panel.insp_box


# ---- busy state --------------------------------------------------------------------------------
def test_busy_text_names_what_is_computed(panel):
    p = panel.params_class().replace(n_points=1797, perplexity=30.0)
    text = panel.busy_text(p)
    assert "affinities P" in text and "1797" in text and "perplexity 30" in text
    assert "300 points" in panel.busy_text(p.replace(dataset="clusters", n_points=300))


def test_a_preset_that_recomputes_p_is_covered_until_its_first_state(panel, qtbot):
    panel.apply_preset("All 1797 digits, live")
    assert panel._awaiting_fresh and "1797" in panel._busy_text
    qtbot.waitUntil(lambda: panel.snapshot.step_count == 0 and len(panel.snapshot.Y) == 1797,
                    timeout=60000)
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    assert not panel._busy_cover.isVisible()


def test_opening_a_file_covers_the_views_until_its_map(panel, qtbot, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "vectors.csv"
    rows = ["a,b,c,label"] + [f"{x:.4f},{y:.4f},{z:.4f},{'AB'[k % 2]}"
                              for k, (x, y, z) in enumerate(rng.normal(size=(60, 3)))]
    path.write_text("\n".join(rows) + "\n")
    old = panel.snapshot
    assert panel.open_data(str(path))
    assert panel.busy and panel._busy_cover.isVisible()            # at once, before any event
    assert "60 vectors" in panel._busy_cover.text()
    qtbot.waitUntil(lambda: panel.snapshot is not old and len(panel.snapshot.Y) == 60
                    and not panel.busy, timeout=30000)
    assert not panel._busy_cover.isVisible()
    assert legend_names(panel) == ["A", "B"]


def test_a_bad_file_uncovers_and_keeps_the_map(panel, qtbot, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n")
    old = panel.snapshot
    assert not panel.open_data(str(bad))
    assert not panel.busy and not panel._busy_cover.isVisible()
    assert panel.snapshot is old
    if panel.error_dialog is not None:
        panel.error_dialog.close()


# ---- themes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dark", "contrast", "light"])
def test_text_follows_the_theme_with_contrast(panel, qtbot, name):
    try:
        plots.set_style(name)
        for view in panel.findChildren(pg.GraphicsView):
            plots.restyle_view(view)
        panel.restyle()
        settle(qtbot)
        panel.draw_all_views()
        th = plots.theme()
        for item in (panel.kl_ex_text, panel.kl_mom_text, panel.sigma_text, panel.hover_label):
            assert plots.contrast_ratio(item.color, th.bg) >= 4.5
        html = panel.inspector.text() + panel.spring_key.text
        assert f"color:{th.muted}" in html              # secondary text in the theme's colour
        if name != "light":
            assert "#555" not in html
        # p − q: a coloured mark ■, the number itself in the text colour
        assert "■</span>&nbsp;<b>" in panel.inspector.text()
        sheet = panel.inspector.styleSheet()
        assert "palette(base)" in sheet and "palette(text)" in sheet and "white" not in sheet
        assert plots.contrast_ratio(th.muted, th.base) >= 4.5
        # the springs and the rings stay visible on the background (≥ 3:1 for graphics)
        from nnsim.panels.tsne import spring_colors
        for c in spring_colors():
            assert plots.contrast_ratio(c, th.bg) >= 3.0
        assert plots.contrast_ratio(panel.sel_ring.opts["pen"].color(), th.bg) >= 4.5
    finally:
        plots.set_style("light")
        for view in panel.findChildren(pg.GraphicsView):
            plots.restyle_view(view)
        panel.restyle()
