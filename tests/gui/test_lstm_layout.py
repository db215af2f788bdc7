"""The LSTM panel on a projector: every preset shows what it names, rows and keys never overlap,
nothing is rebuilt per frame, a preset leaves no stale labels, the tables follow the theme."""

from __future__ import annotations

import re

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from nnsim.panels.lstm import PRESETS, LSTMPanel
from nnsim.panels.lstm_text import james_table, sparse_table, step_table
from nnsim.panels.lstm_views import SHORT
from nnsim.widgets import plots

MAPS = {"lstm": ["f", "i", "g", "o", "c", "h"], "peephole": ["f", "i", "g", "o", "c", "h"],
        "coupled": ["f", "i", "g", "o", "c", "h"], "gru": ["r", "z", "g", "h"], "rnn": ["a", "h"]}


@pytest.fixture
def panel(qtbot):
    p = LSTMPanel()
    qtbot.addWidget(p)
    p.resize(1070, 690)            # the panel's share of a 1280×800 projector beside the panel list
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=30000)
    yield p
    p.shutdown()
    plots.set_style("light", 1.0, 1.0)


def apply(qtbot, panel, name):
    old = panel.snapshot
    panel.apply_preset(name)
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0
                    and panel.snapshot.task == panel.params.task
                    and panel.snapshot.cell == panel.params.cell, timeout=20000)
    qtbot.wait(30)


def _scene_rect(item):
    return item.mapRectToScene(item.boundingRect())


def _visible_rows(panel):
    return [r for r in panel.inspector._rows if r["plot"].isVisible()]


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_shows_its_values_and_its_lesson(panel, qtbot, name):
    apply(qtbot, panel, name)
    want = PRESETS[name]
    for key, value in want.items():             # the form shows what the preset names
        assert getattr(panel.params, key) == pytest.approx(value) if isinstance(value, float) \
            else getattr(panel.params, key) == value, key
    snap = panel.snapshot
    # the cell's own heatmaps, top to bottom, and no other row
    assert [r["name"] for r in _visible_rows(panel)] == MAPS[want["cell"]]
    assert list(panel.inspector.heatmap_data()) == MAPS[want["cell"]]
    # the comparison network is drawn and keyed exactly when the preset asks for one
    has_cmp = want.get("compare", True)
    assert (snap.cmp_cell != "") == has_cmp
    panel.draw_all_views()          # the hidden tabs, as an export draws them (frames skip them)
    flow_title = panel.flow.plot_item.titleLabel.text
    assert SHORT[snap.cell] in flow_title
    assert flow_title.count("■") == (2 if has_cmp else 1)
    assert panel.flow.curves["cmp_h"].isVisible() == has_cmp
    assert panel.training.c["cmp_loss"].isVisible() == has_cmp
    key = panel.inspector._seq_key.text
    if snap.kind == "classification":
        # rows of characters, labelled; no curve of the other kind is left behind
        ticks = [lab for _v, lab in panel.inspector.seq.getAxis("left")._tickLevels[0]]
        assert ticks[:2] == ["input", "target"] and "right" in key and "wrong" in key
        assert not panel.inspector._main.isVisible()
        if snap.task == "chars":
            shown = [it.textItem.toPlainText() for it in panel.inspector._texts
                     if it.isVisible() and it.textItem.toPlainText()]
            assert shown, "the sentence's characters are shown"
    else:
        assert "target" in key and SHORT[snap.cell].split()[0] in key
        assert not any(it.textItem.toPlainText() for it in panel.inspector._texts)
        ticks = panel.inspector.seq.getAxis("left")._tickLevels
        assert all(lab not in ("input", "target") for _v, lab in ticks[0])
    # the lesson in numbers: the forget bias the preset names is what the gates start from
    if "forget_bias" in want and want["cell"] in ("lstm", "peephole"):
        f = snap.arrays["f"]
        assert f.mean() > (0.8 if want["forget_bias"] >= 3 else 0.5)


def test_rows_and_keys_never_overlap(panel, qtbot):
    ins = panel.inspector
    for name in (next(iter(PRESETS)), next(k for k in PRESETS if "GRU" in k)):
        apply(qtbot, panel, name)
        items = [ins._seq_key, ins.seq] + [r["label"] for r in _visible_rows(panel)] + [ins._lines_key]
        rects = [_scene_rect(i) for i in items]
        for a, b in zip(rects, rects[1:]):          # top to bottom, each below the previous
            assert b.top() >= a.top() and a.intersected(b).height() <= 1.0
        # the heatmaps follow each other with the units' key right after the last one
        plots_ = [r["plot"] for r in _visible_rows(panel)]
        assert all(_scene_rect(q).top() >= _scene_rect(p).bottom() - 1 for p, q in zip(plots_, plots_[1:]))
        assert _scene_rect(ins._lines_key).top() >= _scene_rect(plots_[-1]).bottom() - 1
        assert _scene_rect(ins.lines).top() >= _scene_rect(ins._lines_key).bottom() - 1
        # each heatmap row is tall enough to see (the hidden rows give their room away)
        assert min(p.getViewBox().height() for p in plots_) >= 20
        # no legend anywhere: the keys are beside or above the data
        for view in (ins, panel.flow, panel.training):
            assert not [i for i in view.scene().items() if isinstance(i, pg.LegendItem)]


def test_next_character_strip_never_overlaps(panel, qtbot):
    apply(qtbot, panel, next(k for k in PRESETS if k.startswith("Next character")))
    ins = panel.inspector
    for width in (1070, 700):
        panel.resize(width, 690)
        qtbot.wait(100)
        rows: dict[float, list] = {}
        for it in ins._texts:
            if it.isVisible() and it.textItem.toPlainText():
                rows.setdefault(round(it.pos().y(), 3), []).append(_scene_rect(it.textItem))
        assert rows
        for rects in rows.values():
            rects.sort(key=lambda r: r.left())
            for a, b in zip(rects, rects[1:]):
                assert b.left() >= a.right() - 1, "neighbouring characters overlap"
    # narrow: fewer characters, and the key says so
    assert "shown" in ins._seq_key.text


def test_nothing_is_created_per_frame(panel, qtbot):
    ins = panel.inspector

    def count():
        return sum(len(v.scene().items()) for v in (ins, panel.flow, panel.training))

    panel.transport.stepn_spin.setValue(5)
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count == 5 and not panel.runner.playing, timeout=20000)
    before = count()
    labels = [r["label"] for r in ins._rows]
    for k in range(2, 5):
        qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda k=k: panel.snapshot.step_count == 5 * k and not panel.runner.playing,
                        timeout=20000)
        panel.render_snapshot(panel.snapshot)
    assert panel.snapshot.step_count == 20 and count() == before
    # a preset with other rows re-uses the same items
    apply(qtbot, panel, next(k for k in PRESETS if "GRU" in k))
    apply(qtbot, panel, next(iter(PRESETS)))
    assert count() == before and [r["label"] for r in ins._rows] == labels


def test_a_preset_leaves_no_stale_labels(panel, qtbot):
    ins = panel.inspector
    apply(qtbot, panel, next(k for k in PRESETS if k.startswith("Counting brackets")))
    assert "wrong" in ins._seq_key.text
    apply(qtbot, panel, next(k for k in PRESETS if "GRU" in k))
    labels = [lab for _v, lab in ins.seq.getAxis("left")._tickLevels[0]]
    assert "input" not in labels and "target" not in labels
    assert "wrong" not in ins._seq_key.text and "GRU" in ins._seq_key.text
    names = [r["label"].text for r in _visible_rows(panel)]
    assert any("reset" in n for n in names) and not any("forget" in n for n in names)
    assert all(not r["label"].isVisible() for r in ins._rows[4:])


def _colours(html):
    return re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", html)


@pytest.mark.parametrize("theme_name", ["light", "contrast", "dark"])
def test_tables_follow_the_theme(panel, qtbot, theme_name):
    plots.set_style(theme_name)
    th = plots.theme()
    snap = panel.snapshot
    for html in (step_table(snap, 0, [0, 1]), james_table(), sparse_table()):
        assert th.head_bg in html and th.border in html and "white" not in html
        for c in _colours(html):
            assert plots.contrast_ratio(c, th.base) >= 4.5, (theme_name, c)
        for bg in re.findall(r"background:\s*(#[0-9a-fA-F]{6})", html):
            assert plots.contrast_ratio(th.fg, bg) >= 4.5, (theme_name, bg)
    panel.restyle()
    assert th.bad in panel.sparse_label.text()
    assert "palette(base)" in panel.steps_label.styleSheet()
