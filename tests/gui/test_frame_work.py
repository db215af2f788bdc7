"""Work per frame, counted (never timed): after the first frames a panel only updates what it built.

For every panel, in a 1600×900 window, after two frames to settle, a few more frames are drawn
(Step N, one frame each) and the test counts:

- graphics items created or removed in any of the panel's scenes, and widgets created: none (a
  legend, label or item rebuilt per frame costs more than drawing it);
- texts set to the value they already had (labels, rich-text tables, pyqtgraph labels): none;
- data set on plot items, or text on labels, inside views the user cannot see (another tab): none;
  they are brought up to date when shown, and before an export.
"""

from __future__ import annotations

from collections import Counter

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QLabel, QTabWidget, QTextBrowser, QTextEdit, QWidget

from nnsim.panels import PANELS, panel_class

KEYS = [k for k, _t, _c in PANELS]
FRAMES = 4
STEPS_PER_FRAME = 3


@pytest.fixture
def panel(qtbot, request):
    p = panel_class(request.param)()
    qtbot.addWidget(p)
    p.resize(1600, 900)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None and p.runner.prepared and not p.busy, timeout=120000)
    yield p
    p.shutdown()


def frame(qtbot, panel, steps=STEPS_PER_FRAME):
    """One Step-N frame, drawn and painted."""
    old = panel.snapshot
    panel.runner.step(steps)
    qtbot.waitUntil(lambda: panel.snapshot is not old and not panel.runner.playing, timeout=60000)
    qtbot.wait(30)  # paint


def scene_items(panel) -> list:
    items = []
    for view in panel.area.findChildren(pg.GraphicsView):
        items += view.scene().items()
    return items


class Recorder:
    """Wraps text and data setters at class level; records redundant and hidden calls."""

    TEXT = [(QLabel, "setText"), (QTextEdit, "setHtml"), (QTextEdit, "setPlainText"),
            (QTextBrowser, "setHtml"), (pg.LabelItem, "setText"), (pg.TextItem, "setText"),
            (pg.TextItem, "setHtml")]
    DATA = [(pg.PlotDataItem, "setData"), (pg.PlotCurveItem, "setData"), (pg.ScatterPlotItem, "setData"),
            (pg.ImageItem, "setImage"), (pg.BarGraphItem, "setOpts"), (pg.IsocurveItem, "setData"),
            (pg.ErrorBarItem, "setData")]

    def __init__(self, panel, monkeypatch):
        self.panel = panel
        self.last: dict[int, object] = {}
        self.redundant: Counter = Counter()
        self.hidden: Counter = Counter()
        self.on = False
        # (only where the class itself defines the method: QTextBrowser inherits QTextEdit.setHtml,
        # and wrapping both would count one call twice)
        for cls, name in self.TEXT:
            if name in cls.__dict__:
                monkeypatch.setattr(cls, name, self._text(cls, name, getattr(cls, name)))
        for cls, name in self.DATA:
            if name in cls.__dict__:
                monkeypatch.setattr(cls, name, self._data(cls, name, getattr(cls, name)))

    def _inside(self, widget) -> bool:
        return widget is not None and (widget is self.panel.area or self.panel.area.isAncestorOf(widget))

    def _text(self, cls, name, original):
        rec = self

        def wrapper(obj, *args, **kwargs):
            value = args[0] if args else None
            if rec.on:
                view = obj.getViewWidget() if isinstance(obj, pg.GraphicsItem) else obj
                if rec._inside(view):
                    key = (id(obj), name)
                    if rec.last.get(key) == value:
                        rec.redundant[f"{type(obj).__name__}.{name}({str(value)[:40]!r})"] += 1
                    if isinstance(obj, QWidget) and not obj.isVisible() and obj.window().isVisible():
                        rec.hidden[f"{type(obj).__name__}.{name} on a hidden widget"] += 1
                    elif not isinstance(obj, QWidget) and view is not None and not view.isVisible():
                        rec.hidden[f"{type(obj).__name__}.{name} in a hidden view"] += 1
            rec.last[(id(obj), name)] = value
            return original(obj, *args, **kwargs)

        return wrapper

    def _data(self, cls, name, original):
        rec = self

        def wrapper(obj, *args, **kwargs):
            if rec.on:
                view = obj.getViewWidget()
                if rec._inside(view) and not view.isVisible():
                    rec.hidden[f"{type(obj).__name__}.{name} in a hidden view"] += 1
            return original(obj, *args, **kwargs)

        return wrapper


@pytest.mark.parametrize("panel", KEYS, indirect=True)
def test_frames_only_update_what_exists(panel, qtbot, monkeypatch):
    rec = Recorder(panel, monkeypatch)
    assert panel.area.findChildren(QTabWidget) or panel.key == "perceptron"
    for _ in range(2):  # settle: first frames may build what the data needs
        frame(qtbot, panel)
    items = scene_items(panel)  # (kept alive: a removed item's id cannot be reused)
    before = {id(i) for i in items}
    widgets = len(panel.findChildren(QWidget))
    rec.on = True
    for _ in range(FRAMES):
        frame(qtbot, panel)
    rec.on = False
    now = scene_items(panel)
    after = {id(i) for i in now}
    created = Counter(type(i).__name__ for i in now if id(i) not in before)
    removed = Counter(type(i).__name__ for i in items if id(i) not in after)
    assert not created and not removed, f"per frame: created {dict(created)}, removed {dict(removed)}"
    assert len(panel.findChildren(QWidget)) == widgets, "widgets created per frame"
    assert not rec.redundant, f"texts set again to the same value: {dict(rec.redundant)}"
    assert not rec.hidden, f"drawn while hidden: {dict(rec.hidden)}"


def hidden_page_with_views(panel):
    """(tabs, index, views) of a tab page that is not shown and has plots."""
    for tabs in panel.area.findChildren(QTabWidget):
        for i in range(tabs.count()):
            page = tabs.widget(i)  # (the page may itself be a plot)
            views = [page] * isinstance(page, pg.GraphicsView) + page.findChildren(pg.GraphicsView)
            if i != tabs.currentIndex() and tabs.isTabVisible(i) and tabs.isTabEnabled(i) and views:
                return tabs, i, views
    return None, -1, []


@pytest.mark.parametrize("panel", [k for k in KEYS if k != "perceptron"], indirect=True)
def test_a_hidden_tab_is_drawn_when_shown_or_exported(panel, qtbot, monkeypatch):
    """Frames skip a hidden tab; an export, or showing the tab, draws the latest state there."""
    tabs, index, views = hidden_page_with_views(panel)
    if tabs is None:  # at 1600×900 some panels show every view side by side: try a projector's size
        panel.resize(1280, 720)
        qtbot.wait(50)
        tabs, index, views = hidden_page_with_views(panel)
    if tabs is None:
        pytest.skip(f"{panel.key}: every plot is shown at once, no hidden tab")
    calls = []
    for cls, name in Recorder.DATA:
        if name not in cls.__dict__:
            continue
        original = getattr(cls, name)

        def wrapper(obj, *a, _o=original, **k):
            if obj.getViewWidget() in views:
                calls.append(type(obj).__name__)
            return _o(obj, *a, **k)

        monkeypatch.setattr(cls, name, wrapper)
    for _ in range(2):
        frame(qtbot, panel)
    assert not calls, f"a hidden tab was drawn: {calls}"
    panel.draw_all_views()  # what an export does first
    assert calls, "draw_all_views did not draw the hidden tab"
    calls.clear()
    frame(qtbot, panel)
    assert not calls
    tabs.setCurrentIndex(index)
    qtbot.waitUntil(lambda: bool(calls), timeout=5000)  # drawn once shown, without a new frame
