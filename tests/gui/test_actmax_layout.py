"""The feature-visualization panel on a projector: every preset shows what it names, the image
grids reflow instead of being cut, the views are covered while the CNN or the ascent is recomputed,
and the text follows the theme and the presentation text size."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, QSettings, Qt

from nnsim.engine.actmax import START_LABELS
from nnsim.panels.actmax import FeatureVizPanel
from nnsim.panels.actmax_views import ImageRow
from nnsim.widgets import plots
from nnsim.widgets.plots import TICK_PT, contrast_ratio, pt


@pytest.fixture
def panel(qtbot):
    p = FeatureVizPanel()
    qtbot.addWidget(p)
    p.resize(1280, 760)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=60000)
    yield p
    p.shutdown()


@pytest.fixture
def light_style():
    yield
    plots.set_style("light", 1.0, 1.0)


def _apply(qtbot, panel, name):
    panel.apply_preset(name)
    want = panel.params
    qtbot.waitUntil(lambda: panel.snapshot.params == want and not panel.busy and not panel._awaiting_fresh,
                    timeout=60000)
    return panel.snapshot


def _inside(item, view) -> bool:
    r = view.mapFromScene(item.mapRectToScene(item.boundingRect())).boundingRect()
    port = view.viewport().rect()
    return r.left() >= -1 and r.top() >= -1 and r.right() <= port.right() + 1 and r.bottom() <= port.bottom() + 1


@pytest.mark.parametrize("name", list(FeatureVizPanel.presets))
def test_every_preset_shows_its_values_and_its_lesson(panel, qtbot, name):
    theta = panel.snapshot.theta.copy()
    snap = _apply(qtbot, panel, name)
    preset = panel.presets[name]
    for key, value in preset.items():      # the form shows what the preset names
        shown = panel.form.editor(key)
        got = shown.currentData() if hasattr(shown, "currentData") else (
            shown.isChecked() if hasattr(shown, "isChecked") else shown.value())
        assert got == pytest.approx(value), (key, got, value)
    np.testing.assert_array_equal(snap.theta, theta)              # the network is kept
    assert snap.am_steps == preset["am_steps"] and snap.am_head == preset["am_steps"]
    k = snap.am_class
    probs = snap.am_head_probs
    if preset["target_kind"] == "class":
        assert k == preset["target_class"]
        assert f"logit z_{k}" in panel.act_widget.getPlotItem().titleLabel.text
        for s in range(len(snap.am_starts)):
            assert f"p({k}) = " in panel.am_grid.captions[s].text
        if name.startswith(("Article", "Unregularized")):
            assert probs[:, k].min() > 0.999                         # plain ascent: sure of it
        elif name.startswith(("Yosinski 2", "Yosinski 3", "Yosinski 4")):
            # the regularizers trade a little confidence for a natural-looking picture (help_text)
            assert 0.95 < probs[:4, k].min() and probs[:4, k].max() < 0.99999
    else:
        assert k < 0 and "map 0" in snap.am_label and "conv 2" in snap.am_label
        assert "predicted" in panel.am_grid.captions[0].text
    # the five images are shown, each in its own whole cell
    assert [t.text for t in panel.am_grid.titles] == [START_LABELS[s] for s in snap.am_starts]
    for s in range(len(snap.am_starts)):
        assert panel.am_grid.image_data(s).shape[:2] == snap.am_images.shape[2:]


def test_regularized_images_have_smaller_pixels_than_plain_ascent(panel, qtbot):
    plain = _apply(qtbot, panel, next(n for n in panel.presets if n.startswith("Unregularized")))
    plain_range = np.ptp(plain.am_images[:4], axis=(1, 2, 3))
    for prefix in ("Yosinski 2", "Yosinski 3"):
        reg = _apply(qtbot, panel, next(n for n in panel.presets if n.startswith(prefix)))
        assert np.all(np.ptp(reg.am_images[:4], axis=(1, 2, 3)) < plain_range), prefix


def test_image_row_reflows_to_fewer_columns_when_narrow(qtbot):
    row = ImageRow([f"start {k}" for k in range(5)], caption_rows=2)
    qtbot.addWidget(row)
    for k in range(5):
        row.set_rgb(k, np.full((8, 8, 3), 40 * k, np.uint8))
        row.set_caption(k, f"p(1) = 0.9999{k}<br>x ∈ [-0.50, 3.00]")
    row.resize(1000, 300)
    row.show()
    qtbot.waitExposed(row)
    qtbot.waitUntil(lambda: row.columns == 5, timeout=3000)
    row.resize(260, 700)
    qtbot.waitUntil(lambda: row.columns < 5, timeout=3000)
    narrow = row.columns
    for item in row.titles + row.captions + row.views:       # nothing cut: every cell inside the view
        assert _inside(item, row), item
    # the cells do not overlap
    rects = [QRectF(v.geometry()) for v in row.views]
    for i in range(5):
        for j in range(i + 1, 5):
            assert not rects[i].intersects(rects[j])
    assert narrow >= 1 and row.views[0].geometry().width() > 100


def test_class_std_grid_keeps_std_above_mean(panel, qtbot):
    panel.tabs.setCurrentIndex(3)
    grid = panel.std_grid
    panel.resize(2500, 900)          # wide and short: one row of std, one of means
    qtbot.waitUntil(lambda: grid.columns == 10, timeout=5000)
    assert grid.views[10].geometry().top() > grid.views[9].geometry().bottom()   # mean row below
    panel.resize(900, 900)
    qtbot.waitUntil(lambda: grid.columns in (5, 2, 1), timeout=5000)
    for item in grid.titles + grid.captions + grid.views:
        assert _inside(item, grid)


def test_presentation_window_is_720_px_tall(qtbot, tmp_path):
    from nnsim.app import MainWindow, make_app
    from nnsim.widgets.layoutcheck import audit, place, settle

    make_app()
    w = MainWindow(settings=QSettings(str(tmp_path / "n.ini"), QSettings.Format.IniFormat), warm=False)
    qtbot.addWidget(w)
    w.show()
    try:
        assert place(w, "1280x720-presentation")
        panel = w.show_panel("actmax")
        qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=60000)
        settle()
        assert w.minimumSizeHint().height() <= 720 and w.height() == 720
        for i in range(panel.tabs.count()):
            panel.tabs.setCurrentIndex(i)
            settle()
            assert not audit(w, extra=panel.figures()), panel.tabs.tabText(i)
            # captions and titles at least the (scaled) tick size, in the theme's colour
            for row in (panel.am_grid, panel.maps_row, panel.std_grid):
                for lab in row.captions + row.titles:
                    assert float(lab.opts["size"][:-2]) >= float(pt(TICK_PT)[:-2]) - 0.01
    finally:
        w.presentation.set_presentation(False, full_screen=False)
        w.shutdown()


def test_captions_keep_the_presentation_size_across_frames(panel, qtbot, light_style):
    plots.set_style(scale=1.4)
    plots.restyle_view(panel.am_grid)
    big = pt(TICK_PT)
    assert panel.am_grid.captions[0].opts["size"] == big
    panel.scrubber.setValue(3)       # a new frame sets other caption texts
    qtbot.waitUntil(lambda: panel.snapshot.am_head == 3, timeout=10000)
    assert panel.am_grid.captions[0].opts["size"] == big and "p(1) = " in panel.am_grid.captions[0].text


def test_views_are_covered_while_the_ascent_or_the_network_is_recomputed(panel, qtbot):
    name = next(n for n in panel.presets if n.startswith("Yosinski 4"))
    panel.apply_preset(name)
    assert panel._awaiting_fresh and panel._busy_text.startswith("Maximizing the activation")
    qtbot.waitUntil(lambda: panel.snapshot.params.am_steps == 300 and not panel._awaiting_fresh
                    and not panel.busy, timeout=60000)
    # a reset ends at the last iteration, not at step 0: the cover must still be lifted
    qtbot.mouseClick(panel.transport.reset_button, Qt.MouseButton.LeftButton)
    assert panel._awaiting_fresh
    qtbot.waitUntil(lambda: not panel._awaiting_fresh and not panel.busy, timeout=60000)
    assert panel.snapshot.step_count == 300
    # a new, untrained network: covered while it is built; then no old ascent images beside it
    panel.form.editor("pretrained").setChecked(False)
    assert panel._busy_text == panel.busy_text(panel.params) and "untrained" in panel._busy_text
    qtbot.waitUntil(lambda: not panel.snapshot.params.pretrained and not panel.busy, timeout=60000)
    assert panel.snapshot.phase == "train"
    assert all(panel.am_grid.image_data(k) is None for k in range(5))
    assert "train the network first" in panel.am_grid.captions[0].text


@pytest.mark.parametrize("theme_name", ["light", "contrast", "dark"])
def test_confusion_counts_read_in_every_theme(panel, qtbot, theme_name, light_style):
    panel.tabs.setCurrentIndex(2)  # (a tab hidden until now is drawn once it is shown)
    qtbot.waitUntil(lambda: panel.confusion.isVisible() and panel.confusion.matrix(0) is not None, timeout=5000)
    plots.set_style(theme_name)
    panel.confusion.restyle()
    m = panel.confusion._mats[0]
    M = m.matrix
    rgb = m.image.image
    bg = plots.theme().bg
    K = M.shape[0]
    empty = [(i, j) for i in range(K) for j in range(K) if M[i, j] == 0]
    assert empty
    for i, j in empty:                 # an empty cell has the plot's background, not white
        assert tuple(rgb[i, j]) == tuple(int(bg[c:c + 2], 16) for c in (1, 3, 5))
    for i in range(K):
        for j in range(K):
            text = m.texts[i * K + j]
            cell = "#%02x%02x%02x" % tuple(int(v) for v in rgb[i, j])
            assert contrast_ratio(text.color.name(), cell) >= 4.5, (theme_name, i, j, M[i, j])
    # the heading and the title are in the theme's text colour
    plots.restyle_view(panel.confusion)
    assert m.label.opts["color"] == plots.theme().fg and panel.confusion.heading.opts["color"] == plots.theme().fg
