"""Live numbers: hovering a plot shows the exact values of the nearest plotted point."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QToolTip

PICK_PX = 12  # how close (in screen pixels) the mouse must be to a point


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def nearest_point(plot: pg.PlotItem, x: float, y: float):
    """(label, x, y) of the visible data point nearest to view position (x, y), within PICK_PX."""
    vb = plot.getViewBox()
    pw, ph = vb.viewPixelSize()
    if not pw or not ph:
        return None
    log_x = plot.getAxis("bottom").logMode
    log_y = plot.getAxis("left").logMode
    best = None
    for item in plot.listDataItems() + [i for i in plot.items if isinstance(i, pg.ScatterPlotItem)]:
        if not item.isVisible():
            continue
        # curves: every point, not the displayed ones (clipped to the view and downsampled when
        # long), mapped below to view coordinates as the axes show them
        original = isinstance(item, pg.PlotDataItem)
        xs, ys = item.getOriginalDataset() if original else item.getData()
        if xs is None or ys is None or len(xs) == 0:
            continue
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        if original and (log_x or log_y):
            with np.errstate(divide="ignore", invalid="ignore"):
                xs = np.log10(xs) if log_x else xs
                ys = np.log10(ys) if log_y else ys
        d = np.hypot((xs - x) / pw, (ys - y) / ph)
        d[~np.isfinite(d)] = np.inf
        k = int(np.argmin(d))
        if d[k] <= PICK_PX and (best is None or d[k] < best[0]):
            name = item.name() if hasattr(item, "name") else None
            best = (d[k], name or "", xs[k], ys[k], k)
    if best is None:
        return None
    _, name, px, py, k = best
    px = 10 ** px if log_x else px
    py = 10 ** py if log_y else py
    return name, px, py, k


class HoverValues(QObject):
    """Tooltip with the nearest point's values for one PlotWidget (axis names from the labels)."""

    def __init__(self, widget: pg.PlotWidget):
        super().__init__(widget)
        self.widget = widget
        self.plot = widget.getPlotItem()
        widget.scene().sigMouseMoved.connect(self._on_moved)

    def _axis_name(self, side: str, default: str) -> str:
        text = self.plot.getAxis(side).labelText
        return text or default

    def text_at(self, x: float, y: float) -> str | None:
        hit = nearest_point(self.plot, x, y)
        if hit is None:
            return None
        name, px, py, k = hit
        head = f"<b>{name}</b><br>" if name else ""
        return (f"{head}{self._axis_name('bottom', 'x')} = {_fmt(px)}<br>"
                f"{self._axis_name('left', 'y')} = {_fmt(py)}<br><span style='color:#666'>point {k}</span>")

    def _on_moved(self, scene_pos):
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return
        p = vb.mapSceneToView(scene_pos)
        text = self.text_at(p.x(), p.y())
        if text:
            QToolTip.showText(QCursor.pos(), text, self.widget)
        else:
            QToolTip.hideText()
