"""Plot styling shared by every panel: white background, large fonts that read on a projector."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

pg.setConfigOptions(background="w", foreground="k", antialias=True)

#: colour-blind-safe class colours (Okabe–Ito), then symbols, by class index
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
CLASS_SYMBOLS = ("o", "s", "t", "d", "star", "p", "h", "+")
BOUNDARY_COLOR = "#C000C0"  # the course article draws its boundaries in magenta

TICK_PT = 11
LABEL_PT = 12
TITLE_PT = 13


def class_color(k: int, alpha: int = 255) -> QColor:
    c = QColor(CLASS_COLORS[k % len(CLASS_COLORS)])
    c.setAlpha(alpha)
    return c


def style_plot(plot: pg.PlotItem, title: str = "", x: str = "", y: str = "", x_unit: str = "",
               y_unit: str = "") -> pg.PlotItem:
    """Title, axis labels (with units) and projector-friendly fonts."""
    tick_font = QFont()
    tick_font.setPointSize(TICK_PT)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setTickFont(tick_font)
        axis.setPen(pg.mkPen("#333"))
        axis.setTextPen(pg.mkPen("#111"))
    style = {"font-size": f"{LABEL_PT}pt", "color": "#111"}
    if x:
        plot.setLabel("bottom", x, units=x_unit or None, **style)
    if y:
        plot.setLabel("left", y, units=y_unit or None, **style)
    if title:
        plot.setTitle(title, size=f"{TITLE_PT}pt", color="#111")
    plot.showGrid(x=True, y=True, alpha=0.15)
    return plot


def make_plot(title: str = "", x: str = "", y: str = "", x_unit: str = "", y_unit: str = "",
              legend: bool = False) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    style_plot(widget.getPlotItem(), title, x, y, x_unit, y_unit)
    if legend:
        leg = widget.getPlotItem().addLegend(offset=(-10, 10), labelTextSize=f"{TICK_PT}pt")
        leg.setBrush(pg.mkBrush(255, 255, 255, 220))
        leg.setPen(pg.mkPen("#999"))
    return widget


def long_series(item: pg.PlotDataItem) -> pg.PlotDataItem:
    """Make a curve over steps or epochs cheap to draw however long it grows.

    Only the visible part is drawn, reduced to min/max per pixel column ("peak" keeps spikes), and
    each segment is stroked on its own: Qt strokes a thick antialiased polyline that crosses itself
    (a noisy loss or error count) orders of magnitude slower than the same segments drawn one by
    one; a 14 000-epoch error curve took minutes per frame. The exported CSV still holds every point
    (``getOriginalDataset``). Only for curves whose x grows monotonically.
    """
    item.setClipToView(True)
    item.setDownsampling(auto=True, method="peak")
    item.curve.setSegmentedLineMode("on")
    return item
