"""Plot styling shared by every panel: themes, text that reads on a projector, titles that wrap
instead of being cut, legends outside the data.

One style state (theme, text scale, line factor) is set by the View menu (:mod:`presentation`);
everything here reads it, so a title set during a frame already has the theme's colour and the
scaled size. Panels build plots with :func:`make_plot` (or pass any ``PlotItem`` to :func:`fit_plot`)
and legends with :func:`add_legend`.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QTextOption

pg.setConfigOptions(background="w", foreground="k", antialias=True)

#: colour-blind-safe class colours (Okabe–Ito), then symbols, by class index
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
CLASS_SYMBOLS = ("o", "s", "t", "d", "star", "p", "h", "+")
BOUNDARY_COLOR = "#C000C0"  # the course article draws its boundaries in magenta

TICK_PT = 11
LABEL_PT = 12
TITLE_PT = 13


@dataclass(frozen=True)
class Theme:
    name: str
    bg: str              # plot background
    fg: str              # text, axes
    axis_width: float
    grid_alpha: float
    legend_bg: str       # legend fill (#rrggbbaa)
    legend_border: str
    line_factor: float   # every data line's width × this
    marker_factor: float
    window: str          # window background (Qt palette)
    base: str            # text fields, tables, lists
    muted: str           # secondary text (≥ 4.5:1 on bg and base)
    good: str            # text meaning "right / added" (≥ 4.5:1 on base and on good_bg)
    bad: str             # text meaning "wrong / removed"
    good_bg: str         # table cell backgrounds (the text on them stays ``fg``)
    bad_bg: str
    head_bg: str         # table header rows
    border: str


THEMES = {
    "light": Theme("light", "#ffffff", "#111111", 1.0, 0.15, "#ffffffe6", "#999999", 1.0, 1.0,
                   "#efefef", "#ffffff", "#555555", "#006b2e", "#b00020", "#dff3e3", "#fbe0e0", "#eeeeee",
                   "#bbbbbb"),
    # projectors wash colours out: pure black on pure white, heavy axes and lines, large markers,
    # a strong grid, and white (not grey) window backgrounds
    "contrast": Theme("contrast", "#ffffff", "#000000", 2.5, 0.35, "#ffffff", "#000000", 1.8, 1.4,
                      "#ffffff", "#ffffff", "#000000", "#00501f", "#8c0000", "#d6f0dc", "#f8d4d4", "#dddddd",
                      "#000000"),
    "dark": Theme("dark", "#1b1d22", "#e6e6e6", 1.0, 0.2, "#2a2d33e6", "#8a8f98", 1.0, 1.0,
                  "#24262b", "#1b1d22", "#b8bcc4", "#7ee2a0", "#ff9b9b", "#1f3d2a", "#4a2323", "#2f3238",
                  "#5a5f68"),
}

_style = {"theme": THEMES["light"], "scale": 1.0, "lines": 1.0}


def theme() -> Theme:
    return _style["theme"]


def text_scale() -> float:
    return _style["scale"]


def set_style(theme_name: str | None = None, scale: float | None = None, lines: float | None = None) -> None:
    """Set the style every plot reads (the View menu calls this, then :func:`restyle_view`)."""
    if theme_name is not None:
        _style["theme"] = THEMES.get(theme_name, THEMES["light"])
        pg.setConfigOptions(background=_style["theme"].bg, foreground=_style["theme"].fg)
    if scale is not None:
        _style["scale"] = float(scale)
    if lines is not None:
        _style["lines"] = float(lines)


def pt(base: float) -> str:
    """A CSS font size: ``base`` points times the text scale."""
    return f"{base * _style['scale']:.1f}pt"


def line_width(base: float) -> float:
    """A data line's width in the current mode (presentation, high contrast)."""
    return base * _style["lines"] * _style["theme"].line_factor


def class_color(k: int, alpha: int = 255) -> QColor:
    c = QColor(CLASS_COLORS[k % len(CLASS_COLORS)])
    c.setAlpha(alpha)
    return c


def contrast_ratio(a, b) -> float:
    """WCAG 2 contrast ratio of two colours (1 … 21)."""
    def lum(c):
        c = QColor(c)
        ch = []
        for v in (c.redF(), c.greenF(), c.blueF()):
            ch.append(v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4)
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# ---------------------------------------------------------------- titles that wrap
class FitLabel(pg.LabelItem):
    """A LabelItem that wraps its text to the width it is given instead of forcing the whole plot
    wider than its view (pyqtgraph makes a title's full width the plot's minimum width)."""

    MIN_WIDTH = 60

    def __init__(self, *args, on_height=None, **kwargs):
        self._on_height = on_height
        super().__init__(*args, **kwargs)
        opt = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        opt.setWrapMode(QTextOption.WrapMode.WordWrap)
        self.item.document().setDefaultTextOption(opt)

    def _natural_width(self) -> float:
        self.item.setTextWidth(-1)
        return self.item.boundingRect().width()

    def updateMin(self):  # noqa: N802 - pyqtgraph name
        if getattr(self, "_nnsim_off", False):  # a plot without a title: no room taken
            self.setMinimumSize(0, 0)
            return
        natural = self._natural_width()
        width = self.size().width()
        if 0 < width < natural:
            self.item.setTextWidth(max(self.MIN_WIDTH, width))
        h = self.item.boundingRect().height()
        self.setMinimumWidth(min(natural, self.MIN_WIDTH))
        self.setMinimumHeight(h)
        self._sizeHint = {
            Qt.SizeHint.MinimumSize: (min(natural, self.MIN_WIDTH), h),
            Qt.SizeHint.PreferredSize: (natural, h),
            Qt.SizeHint.MaximumSize: (-1, -1),
            Qt.SizeHint.MinimumDescent: (0, 0),
        }
        self.updateGeometry()
        if self._on_height is not None:
            self._on_height(h)

    def resizeEvent(self, ev):  # noqa: N802 - Qt name
        self.updateMin()
        self.item.setPos(0, 0)
        bounds = self.itemRect()
        rect = self.rect()
        bounds.moveCenter(rect.center())
        if self.opts.get("justify") == "left":
            bounds.moveLeft(rect.left())
        self.item.setPos(bounds.topLeft() - self.itemRect().topLeft())


def _plot_set_title(self, title=None, **args):
    """PlotItem.setTitle with the theme's colour and the scaled size; text that does not fit wraps.
    Setting the same title again does nothing (no text layout per frame)."""
    if title is None:
        self.titleLabel._nnsim_off = True  # a hidden title takes no room
        self.titleLabel.setVisible(False)
        self.titleLabel.setMinimumHeight(0)
        self.titleLabel.setMaximumHeight(0)
        self.layout.setRowFixedHeight(0, 0)
        self._nnsim_title = None
        self._nnsim_title_h = 0  # (a title set again must set its row's height again)
        return
    args.pop("color", None)  # titles are always in the theme's text colour ...
    args.pop("size", None)  # ... and at the title size times the text scale
    key = (title, _style["theme"].fg, _style["scale"], tuple(sorted(args.items())))
    if getattr(self, "_nnsim_title", None) == key and self.titleLabel.isVisible():
        return
    self._nnsim_title = key
    self.titleLabel._nnsim_off = False
    self.titleLabel.setVisible(True)
    self.titleLabel.setMaximumHeight(10_000)
    self.titleLabel.setText(title, color=_style["theme"].fg, size=pt(TITLE_PT), **args)


def _set_title_height(plot, h: float) -> None:
    # (not isVisible(): that is False while the plot's view is hidden, and the row would stay at
    # the 0 px of "no title" when the view is shown)
    if not getattr(plot.titleLabel, "_nnsim_off", False):
        h = math.ceil(h) + 2
        if getattr(plot, "_nnsim_title_h", None) != h:
            plot._nnsim_title_h = h
            plot.layout.setRowFixedHeight(0, h)
            _queue_activate(plot)


def _queue_activate(plot) -> None:
    """Lay the plot's own rows out again once the current events are done. Qt posts a changed
    inner layout's request to the outermost layout only; when that gives the plot the same size as
    before, the plot's rows are never redone (seen: a grid heatmap keeping a 0 px title row with its
    new two-line title over the axes, for good). Deferred: this runs inside a label's resize."""
    if getattr(plot, "_nnsim_activate_queued", False):
        return
    plot._nnsim_activate_queued = True

    def activate():
        plot._nnsim_activate_queued = False
        try:
            plot.layout.activate()
        except RuntimeError:  # the plot was deleted meanwhile
            pass

    QTimer.singleShot(0, activate)


def _plot_set_label(self, axis: str, text=None, units=None, unitPrefix=None, **args):  # noqa: N803
    """PlotItem.setLabel in the theme's colour and the scaled label size (unchanged text is not set)."""
    ax = self.getAxis(axis)
    key = (text, units, unitPrefix, _style["theme"].fg, _style["scale"])
    if getattr(ax, "_nnsim_label", None) == key and ax.label.isVisible():
        return
    ax._nnsim_label = key
    style = {"font-size": pt(LABEL_PT), "color": _style["theme"].fg}
    ax.setLabel(text, units=units, unitPrefix=unitPrefix, **style)
    self.showAxis(axis)


def fit_plot(plot: pg.PlotItem) -> pg.PlotItem:
    """Give a PlotItem a wrapping title and themed ``setTitle``/``setLabel`` (idempotent)."""
    if getattr(plot, "_nnsim_fit", False):
        return plot
    plot._nnsim_fit = True
    old = plot.titleLabel
    text, visible = old.text, old.isVisible()
    plot.layout.removeItem(old)
    old.setVisible(False)  # kept (hidden, out of the layout): deleting a live item here crashes Qt
    plot._nnsim_old_title = old
    label = FitLabel("", on_height=lambda h, p=plot: _set_title_height(p, h))
    label.setParentItem(plot)
    plot.layout.addItem(label, 0, 1)
    plot.titleLabel = label
    plot.setTitle = types.MethodType(_plot_set_title, plot)
    plot.setLabel = types.MethodType(_plot_set_label, plot)
    for name in ("left", "bottom", "right", "top"):
        plot.getAxis(name).enableAutoSIPrefix(False)  # no "(x1e+18)" on log axes
    if visible and text:
        plot.setTitle(text)
    else:
        plot.setTitle(None)
    return plot


# ---------------------------------------------------------------- legends outside the data
class OutsideLegend(pg.LegendItem):
    """A legend that lives in the plot's layout (below the x axis, or right of the plot), never over
    the data; below, it wraps its entries into as many columns as the width allows. ``auto`` puts it
    right of a wide plot and below a tall one (decided again whenever the plot is resized)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("offset", None)
        super().__init__(**kwargs)
        self.setFlag(self.GraphicsItemFlag.ItemIgnoresTransformations, False)
        self._wrap = True
        self._reflow_queued = False
        self._auto = False
        self._side = None

    def place(self, side: str) -> None:
        """Move the legend into the plot's layout: "below" the x axis or "right" of the plot."""
        plot = self.parentItem()
        if side == self._side or plot is None:
            return
        if self._side is not None:
            plot.layout.removeItem(self)
        self._side = side
        if side == "right":
            plot.layout.addItem(self, 2, 3)
        else:
            plot.layout.addItem(self, 4, 1)
        self.updateSize()

    def addItem(self, item, name):  # noqa: N802 - pyqtgraph name
        self.opts["labelTextSize"] = pt(TICK_PT)  # entries added later read at the current text scale
        self.opts["labelTextColor"] = theme().fg
        super().addItem(item, name)

    def queue_reflow(self, *_args) -> None:
        if not self._reflow_queued:
            self._reflow_queued = True
            QTimer.singleShot(0, self.reflow)

    def _entry_width(self) -> float:
        widest = 0.0
        for sample, label in self.items:
            widest = max(widest, sample.preferredWidth() + label.preferredWidth()
                         + self.layout.horizontalSpacing() + 8)
        return widest

    def updateSize(self):  # noqa: N802 - pyqtgraph name
        if not self.items:
            self.setMinimumSize(QSizeF(0, 0))
            self.setMaximumHeight(0)
            self.updateGeometry()
            return
        rows = math.ceil(len(self.items) / max(1, self.columnCount))
        row_h = max(max(s.preferredHeight(), lab.preferredHeight()) for s, lab in self.items)
        self.layout.invalidate()
        h = max(rows * row_h + 4, self.layout.preferredSize().height() + 2)
        self.setMaximumHeight(h)
        self.setMinimumHeight(h)
        # beside the plot the legend needs its widest entry; below, one entry may shrink a little
        self.setMinimumWidth(self._entry_width() if self._side == "right" else min(self._entry_width(), 120))
        self.setPreferredSize(QSizeF(self._entry_width() * self.columnCount, h))
        self.updateGeometry()

    def resizeEvent(self, ev):  # noqa: N802 - Qt name
        # re-flowing the entries changes the layout that is being applied: do it right after
        if self._wrap and self.items:
            self.queue_reflow()

    def reflow(self):
        """Side (auto) and as many columns as the width takes (exports call it directly: no event
        loop runs there)."""
        self._reflow_queued = False
        try:
            plot = self.parentItem()
            if self._auto and plot is not None and self.items:
                # the side that leaves the data the larger area
                pw, ph = plot.geometry().width(), plot.geometry().height()
                ew = self._entry_width()
                row_h = max(max(s.preferredHeight(), lab.preferredHeight()) for s, lab in self.items)
                cols = max(1, min(len(self.items), int(pw // max(1.0, ew))))
                below = pw * max(0.0, ph - math.ceil(len(self.items) / cols) * row_h)
                right = max(0.0, pw - ew) * ph
                self.place("right" if right > below else "below")
            if not self._wrap or not self.items:
                return
            if self._side == "right":
                cols = 1
            else:
                cols = max(1, min(len(self.items), int(self.geometry().width() // max(1.0, self._entry_width()))))
        except RuntimeError:  # deleted meanwhile
            return
        if cols != self.columnCount:
            self.setColumnCount(cols)

    def paint(self, p, *args):
        if self.frame and self.items:
            p.setPen(self.opts["pen"])
            p.setBrush(self.opts["brush"])
            p.drawRect(self.boundingRect())


def add_legend(plot: pg.PlotItem, where: str = "below", columns: int | None = None) -> OutsideLegend:
    """A legend outside the data: ``below`` the x axis (entries wrap into columns), ``right`` of the
    plot, or ``auto`` (right of a wide plot, below a tall one). Items added to the plot with a
    ``name`` join it, as with ``addLegend``."""
    th = theme()
    legend = OutsideLegend(labelTextSize=pt(TICK_PT), labelTextColor=th.fg, brush=th.legend_bg,
                           pen=th.legend_border, colCount=columns or 1, verSpacing=-4)
    legend._wrap = columns is None
    legend._auto = where == "auto"
    legend.setParentItem(plot)
    legend.place("right" if where == "right" else "below")
    plot.vb.sigResized.connect(legend.queue_reflow)
    plot.legend = legend
    return legend


# ---------------------------------------------------------------- plots
def style_plot(plot: pg.PlotItem, title: str = "", x: str = "", y: str = "", x_unit: str = "",
               y_unit: str = "") -> pg.PlotItem:
    """Title, axis labels (with units) and projector-friendly fonts in the current theme."""
    fit_plot(plot)
    if x:
        plot.setLabel("bottom", x, units=x_unit or None)
    if y:
        plot.setLabel("left", y, units=y_unit or None)
    if title:
        plot.setTitle(title)
    restyle_plot(plot)
    return plot


def make_plot(title: str = "", x: str = "", y: str = "", x_unit: str = "", y_unit: str = "",
              legend: bool | str = False) -> pg.PlotWidget:
    """A themed plot; ``legend`` True (or "below") puts a legend under the x axis, "right" beside it,
    "auto" right of a wide plot and below a tall one."""
    widget = pg.PlotWidget(background=theme().bg)
    style_plot(widget.getPlotItem(), title, x, y, x_unit, y_unit)
    if legend:
        add_legend(widget.getPlotItem(), legend if legend in ("right", "auto") else "below")
    return widget


def restyle_plot(plot: pg.PlotItem) -> None:
    """Apply the current theme, text scale and line factor to a PlotItem and what it holds."""
    th = theme()
    fit_plot(plot)
    tick = QFont()
    tick.setPointSizeF(TICK_PT * _style["scale"])
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setTickFont(tick)
        axis.setPen(pg.mkPen(th.fg, width=th.axis_width))
        axis.setTextPen(pg.mkPen(th.fg))
        if axis.labelText:
            axis._nnsim_label = None
            plot.setLabel(name, axis.labelText, units=axis.labelUnits or None)
            if not axis.isVisible():
                plot.hideAxis(name)
        if axis.grid is not False:
            axis.setGrid(int(th.grid_alpha * 255))
    if plot.titleLabel.text and plot.titleLabel.isVisible():
        plot._nnsim_title = None
        plot.setTitle(plot.titleLabel.text)
    legend = plot.legend
    if legend is not None:
        legend.setBrush(th.legend_bg if isinstance(legend, OutsideLegend) else legend.opts["brush"])
        legend.setPen(th.legend_border)
        legend.setLabelTextColor(th.fg)
        for _sample, label in legend.items:
            label.setText(label.text, size=pt(TICK_PT), color=th.fg)
        legend.updateSize()
    marker = th.marker_factor * (1.0 + 0.5 * (_style["lines"] - 1.0))
    for item in plot.items:
        # larger markers in high contrast and presentation mode (per-point sizes are left alone)
        if (isinstance(item, pg.ScatterPlotItem) and isinstance(item.opts.get("size"), (int, float))
                and not (len(item.data) and (item.data["size"] != -1).any())):
            base = getattr(item, "_nnsim_base_size", None)
            if base is None:
                base = item._nnsim_base_size = float(item.opts["size"])
            if item.opts["size"] != base * marker:
                item.setSize(base * marker)
        elif isinstance(item, pg.PlotDataItem) and isinstance(item.opts.get("symbolSize"), (int, float)):
            base = getattr(item, "_nnsim_base_size", None)
            if base is None:
                base = item._nnsim_base_size = float(item.opts["symbolSize"])
            if item.opts["symbolSize"] != base * marker:
                item.setSymbolSize(base * marker)
    for item in plot.listDataItems():
        if not hasattr(item, "setPen"):
            continue
        pen = getattr(item, "opts", {}).get("pen")
        if pen is None or isinstance(pen, (list, tuple)):
            continue
        pen = pg.mkPen(pen)
        base = getattr(item, "_nnsim_base_width", None)
        if base is None:
            base = item._nnsim_base_width = pen.widthF()
        pen.setWidthF(line_width(base))
        item.setPen(pen)


def restyle_view(view: pg.GraphicsView) -> None:
    """Background, every PlotItem and every stray label (image captions) of a pyqtgraph view."""
    th = theme()
    view.setBackground(th.bg)
    for item in view.scene().items():
        if isinstance(item, pg.PlotItem):
            restyle_plot(item)
    titles = {id(i.titleLabel) for i in view.scene().items() if isinstance(i, pg.PlotItem)}
    for item in view.scene().items():
        if isinstance(item, pg.LabelItem) and id(item) not in titles and not isinstance(
                item.parentItem(), pg.LegendItem):
            base = getattr(item, "_nnsim_base_pt", None)
            if base is None:
                size = item.opts.get("size")
                base = float(size[:-2]) if isinstance(size, str) and size.endswith("pt") else float(TICK_PT)
                item._nnsim_base_pt = base = max(base, TICK_PT)
            item.setText(item.text, size=pt(base), color=th.fg)


def long_series(item: pg.PlotDataItem) -> pg.PlotDataItem:
    """Make a curve over steps or epochs cheap to draw however long it grows.

    Only the visible part is drawn, reduced to min/max per pixel column ("peak" keeps spikes), and
    each segment is stroked on its own: Qt strokes a thick antialiased polyline that crosses itself
    (a noisy loss or error count) orders of magnitude slower than the same segments drawn one by
    one; a 14 000-epoch error curve took minutes per frame. The exported CSV still holds every point
    (``getOriginalDataset``). Only for curves whose x grows monotonically.
    """
    item.setClipToView(True)
    item.opts["autoDownsampleFactor"] = 1.0  # (one column of min/max per pixel: pyqtgraph's 5 cost 3x)
    item.setDownsampling(auto=True, method="peak")
    item.curve.setSegmentedLineMode("on")
    return item
