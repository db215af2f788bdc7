"""Is every plot whole? A layout audit of a window as a projector shows it.

:func:`audit` walks every pyqtgraph view that is visible in a window and reports, in words, what a
lecturer would see wrong: a view cut by a splitter, a scroll area or the window's edge (offscreen
``visibleRegion()`` is empty, so each ancestor's rectangle is intersected instead), a view too small
to read, a plot, title, axis or label sticking out of its view, a legend covering more than a quarter
of the data, text smaller than the body font. Used by the layout tests and by
``packaging/make_screenshots.py``; it never changes what it looks at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QRectF
from PySide6.QtWidgets import QApplication, QGraphicsTextItem, QWidget

MIN_VIEW = (180, 120)
#: the data area (view box) of a plot: a legend or labels must not squeeze it below this
MIN_DATA = (60, 30)
MAX_LEGEND_SHARE = 0.25
TOLERANCE = 1  # pixels


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def window_rect(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def visible_rect(widget: QWidget, window: QWidget) -> QRect:
    """The part of ``widget`` the window shows, in window coordinates (ancestors clip)."""
    rect = window_rect(widget, window)
    w = widget.parentWidget()
    while w is not None and w is not window:
        rect = rect.intersected(window_rect(w, window))
        w = w.parentWidget()
    return rect.intersected(window.rect())


def _area(r) -> float:
    return max(0.0, r.width()) * max(0.0, r.height())


def _inside(inner: QRectF, outer: QRectF, tol: float = TOLERANCE) -> bool:
    return (inner.left() >= outer.left() - tol and inner.top() >= outer.top() - tol
            and inner.right() <= outer.right() + tol and inner.bottom() <= outer.bottom() + tol)


def view_name(view: pg.GraphicsView) -> str:
    """A readable name: the first plot title in the view, else its object name or class."""
    for item in view.scene().items():
        if isinstance(item, pg.PlotItem) and item.titleLabel.text:
            return re.sub(r"<[^>]+>", "", item.titleLabel.text)[:60]
    return view.objectName() or type(view).__name__


def _label_pt(item: pg.LabelItem) -> float | None:
    size = item.opts.get("size")
    if isinstance(size, str) and size.endswith("pt"):
        try:
            return float(size[:-2])
        except ValueError:
            return None
    return None


def _in_viewbox(item) -> bool:
    parent = item.parentItem()
    while parent is not None:
        if isinstance(parent, pg.ViewBox):
            return True
        parent = parent.parentItem()
    return False


def audit_view(view: pg.GraphicsView, window: QWidget, body_pt: float | None = None) -> list[Problem]:
    name = view_name(view)
    problems: list[Problem] = []
    full = window_rect(view, window)
    vis = visible_rect(view, window)
    if _area(full) <= 0:
        return [Problem(name, "has no area (collapsed)")]
    share = _area(vis) / _area(full)
    if share < 1.0 - 1e-9 and (vis.width() < full.width() - TOLERANCE or vis.height() < full.height() - TOLERANCE):
        problems.append(Problem(name, f"cut: {share:.0%} of its {full.width()}×{full.height()} view is visible"))
    if full.width() < MIN_VIEW[0] or full.height() < MIN_VIEW[1]:
        if not view.property("nnsim_small_ok"):
            problems.append(Problem(name, f"too small: {full.width()}×{full.height()} px "
                                          f"(at least {MIN_VIEW[0]}×{MIN_VIEW[1]})"))
    port = QRectF(view.viewport().rect())
    scene = view.scene()
    boxes = [i for i in scene.items() if isinstance(i, pg.ViewBox) and i.isVisible()]
    for item in scene.items():
        if not item.isVisible():
            continue
        kind = None
        if isinstance(item, pg.PlotItem):
            kind = "plot"
        elif isinstance(item, pg.LabelItem) and item.text:
            kind = f"label '{item.text[:30]}'"
        elif isinstance(item, pg.AxisItem):
            kind = f"{item.orientation} axis"
        elif isinstance(item, pg.LegendItem):
            kind = "legend"
        elif isinstance(item, QGraphicsTextItem) and item.toPlainText().strip():
            kind = f"text '{item.toPlainText()[:30]}'"
        if kind is None:
            continue
        if _in_viewbox(item):
            continue  # data-space items (point labels): the view box clips them, like the data
        local = item.boundingRect()
        if isinstance(item, QGraphicsTextItem):  # the text, not the document's empty margin
            m = item.document().documentMargin()
            local = local.adjusted(m, m, -m, -m)
        rect = view.mapFromScene(item.mapRectToScene(local)).boundingRect()
        if not _inside(QRectF(rect), port):
            problems.append(Problem(name, f"{kind} sticks out of its view ({rect.x()},{rect.y()} "
                                          f"{rect.width()}×{rect.height()} in {int(port.width())}×{int(port.height())})"))
        if isinstance(item, pg.PlotItem) and not isinstance(item, pg.ColorBarItem):  # (bars are narrow)
            vb = item.getViewBox().sceneBoundingRect()
            if vb.width() < MIN_DATA[0] or vb.height() < MIN_DATA[1]:
                problems.append(Problem(name, f"data area crushed to {vb.width():.0f}×{vb.height():.0f} px "
                                              f"(at least {MIN_DATA[0]}×{MIN_DATA[1]})"))
        if isinstance(item, pg.LegendItem) and item.items:
            lr = item.sceneBoundingRect()
            for vb in boxes:
                vr = vb.sceneBoundingRect()
                if _area(vr) <= 0:
                    continue
                cover = _area(lr.intersected(vr)) / _area(vr)
                if cover > MAX_LEGEND_SHARE:
                    problems.append(Problem(name, f"legend covers {cover:.0%} of the data area"))
        if body_pt is not None:
            pt = None
            if isinstance(item, pg.LabelItem):
                pt = _label_pt(item)
            elif isinstance(item, pg.AxisItem) and item.style.get("showValues", True):
                font = item.style.get("tickFont")
                pt = font.pointSizeF() if font is not None else None
            if pt is not None and pt > 0 and pt < body_pt - 0.01:
                problems.append(Problem(name, f"{kind}: text {pt:g} pt is smaller than the body font {body_pt:g} pt"))
    return problems


def audit_export(name: str, target, size=(800, 500)) -> list[Problem]:
    """Lay ``target`` (a figure of ``Panel.figures()``) out at ``size`` as an export does and report
    every plot, title, axis, label or legend outside the exported rectangle, and a legend that has
    entries but is hidden or sits over the data."""
    from nnsim.export import laid_out

    if not isinstance(target, pg.GraphicsView):
        return []
    problems: list[Problem] = []
    with laid_out(target, size) as lay:
        rect = lay.rect
        # a figure that cannot grow (a row of images has a maximum height) may come out smaller
        if (rect is None or rect.width() > size[0] + 1 or rect.height() > size[1] + 1
                or (abs(rect.width() - size[0]) > 1 and abs(rect.height() - size[1]) > 1)):
            return [Problem(name, f"exported at {rect} instead of {size}")]
        boxes = [i for i in target.scene().items() if isinstance(i, pg.ViewBox) and i.isVisible()]
        for item in target.scene().items():
            if _in_viewbox(item):
                continue
            if isinstance(item, (pg.PlotItem, pg.AxisItem, pg.LegendItem)) or (
                    isinstance(item, pg.LabelItem) and item.text):
                if not item.isVisible():
                    continue
                local = item.boundingRect()
                r = item.mapRectToScene(local)
                if not _inside(r, rect, 2):
                    problems.append(Problem(name, f"{type(item).__name__} "
                                                  f"{getattr(item, 'text', '')[:30]!r} outside the exported image"))
            if isinstance(item, pg.PlotItem) and item.legend is not None and item.legend.items:
                if not item.legend.isVisible():
                    problems.append(Problem(name, "the legend is not in the exported image"))
                lr = item.legend.sceneBoundingRect()
                for vb in boxes:
                    vr = vb.sceneBoundingRect()
                    if _area(vr) > 0 and _area(lr.intersected(vr)) / _area(vr) > MAX_LEGEND_SHARE:
                        problems.append(Problem(name, "the legend covers the data in the exported image"))
    return problems


def visible_views(window: QWidget) -> list[pg.GraphicsView]:
    return [v for v in window.findChildren(pg.GraphicsView) if v.isVisibleTo(window)]


#: the window sizes a lecture meets: (name, screen name in tests/screens.json, presentation mode)
MODES = (("1280x800", "proj800", False), ("1280x720-presentation", "proj720", True),
         ("1920x1080", "desk1080", False), ("2560x1440", "desk1440", False))


def screen_named(name: str):
    for screen in QApplication.screens():
        if screen.name() == name:
            return screen
    return None


def place(window, mode: str) -> bool:
    """Put a MainWindow on the screen of ``mode`` (see :data:`MODES`), filling its available area,
    in presentation mode or not. False when this platform has no such screen (then the window is
    just resized to the mode's size)."""
    _name, screen_name, presentation = next(m for m in MODES if m[0] == mode)
    screen = screen_named(screen_name)
    if window.presentation.mode_action.isChecked():
        window.presentation.mode_action.setChecked(False)
    if screen is None:
        w, h = (int(v) for v in mode.split("-")[0].split("x"))
        window.showNormal()
        window.resize(w, h)
        if presentation:
            window.presentation.set_presentation(True, full_screen=False)
            window.resize(w, h)
        return False
    window.showNormal()
    handle = window.windowHandle()
    if handle is not None:
        handle.setScreen(screen)
    window.setGeometry(screen.availableGeometry())
    fit = getattr(window, "fit_to_screen", None)
    if callable(fit):  # the frame (title bar, borders) must fit on the screen too
        settle()
        fit()
    if presentation:
        window.presentation.mode_action.setChecked(True)
    return True


def settle(predicate=lambda: True, timeout: float = 30.0) -> bool:
    """Process events until ``predicate()`` holds (and the layouts have settled) or ``timeout`` s."""
    import time

    from PySide6.QtCore import QCoreApplication, QEvent

    app = QApplication.instance()
    deadline = time.monotonic() + timeout
    ok = False
    while time.monotonic() < deadline:
        app.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if predicate():
            ok = True
            break
        time.sleep(0.005)
    for _ in range(5):  # let deferred layouts (pyqtgraph resizes in posted events) finish
        app.processEvents()
        time.sleep(0.002)
    return ok


def audit(window: QWidget, body_pt: float | None = None, extra: dict | None = None) -> list[Problem]:
    """Every problem of every visible pyqtgraph view in ``window``; ``extra`` maps names to other
    widgets (e.g. custom-drawn figures) that must be whole and visible too."""
    if body_pt is None:
        body_pt = QApplication.font().pointSizeF()
    problems: list[Problem] = []
    for view in visible_views(window):
        view.viewport().repaint()  # judged as it is painted (views may finish a layout when painting)
        problems += audit_view(view, window, body_pt)
    for name, widget in (extra or {}).items():
        if not isinstance(widget, QWidget) or isinstance(widget, pg.GraphicsView) or not widget.isVisibleTo(window):
            continue
        full, vis = window_rect(widget, window), visible_rect(widget, window)
        if _area(full) <= 0:
            problems.append(Problem(name, "has no area (collapsed)"))
        elif vis.width() < full.width() - TOLERANCE or vis.height() < full.height() - TOLERANCE:
            problems.append(Problem(name, f"cut: {_area(vis) / _area(full):.0%} of it is visible"))
    return problems
