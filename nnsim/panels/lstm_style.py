"""What the LSTM panel's plot widgets share: colours, fonts, keys, tick labels, and the helpers that
keep a frame cheap.

A frame only touches what changed: :func:`set_curve` and :func:`set_image` skip data equal to what
the item already shows, and the ranges (:func:`set_log_range`, :func:`stepped_range`,
:func:`grown_end`) move in steps, so that the axes keep their tick text and are not laid out again
on every frame (a range that follows the data exactly changes, and repaints its axis, every frame).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem, QGraphicsTextItem

from nnsim.widgets.plots import CLASS_COLORS, TICK_PT, text_scale, theme

MAIN_COLOR = "#D55E00"      # the panel's cell
CMP_COLOR = "#0072B2"       # the comparison network
FLOOR = 1e-30               # log plots cannot show 0
MAX_MAPS = 6                # heatmap rows of the richest cell (LSTM: f, i, C~, o, C, h)
MAX_INPUTS = 3              # input curves of a regression task
MAX_UNITS = 4               # followed units
SOLID, DASHED = "━━", "╍╍"  # line swatches in the colour-keyed titles

_CMAPS = {"gate": ("viridis", (0.0, 1.0)), "tanh": ("CET-D1", (-1.0, 1.0)),
          "state": ("CET-D1", None)}

SHORT = {"rnn": "RNN", "lstm": "LSTM", "peephole": "peephole LSTM", "coupled": "coupled LSTM",
         "gru": "GRU", "": ""}
#: the networks' names in the narrow keys beside the rows
KEY_NAME = dict(SHORT, peephole="peephole", coupled="coupled")

#: line colours of the followed units (Okabe–Ito without the yellow, which vanishes on white)
UNIT_COLORS = tuple(c for c in CLASS_COLORS if c not in ("#F0E442", "#000000")) + ("#882255", "#999933")


# ---------------------------------------------------------------- only what changed
def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:               # (a dtype without NaN)
        return bool(np.array_equal(a, b))


def set_curve(item, x, y) -> bool:
    """``item.setData(x, y)`` unless it already shows exactly these values (then nothing happens:
    no bounds, no path, no repaint). Returns whether the data was set."""
    x, y = np.asarray(x), np.asarray(y)
    last = getattr(item, "_lstm_data", None)
    if last is not None and _equal(last[0], x) and _equal(last[1], y):
        return False
    item._lstm_data = (x.copy(), y.copy())
    item.setData(x, y)
    return True


def set_image(img: pg.ImageItem, data: np.ndarray) -> bool:
    """``img.setImage(data)`` (fixed levels) unless it already shows exactly these values."""
    last = getattr(img, "_lstm_data", None)
    if last is not None and _equal(last, data):
        return False
    img._lstm_data = data.copy()
    img.setImage(data, autoLevels=False)
    return True


def set_y(plot: pg.PlotItem, lo: float, hi: float, padding: float = 0.0) -> None:
    """setYRange, only when the range changes."""
    key = (lo, hi, padding)
    if getattr(plot, "_lstm_y", None) != key:
        plot._lstm_y = key
        plot.setYRange(lo, hi, padding=padding)


def set_x(plot: pg.PlotItem, lo: float, hi: float, padding: float = 0.0) -> None:
    """setXRange, only when the range changes."""
    key = (lo, hi, padding)
    if getattr(plot, "_lstm_x", None) != key:
        plot._lstm_x = key
        plot.setXRange(lo, hi, padding=padding)


def cache_static(item: QGraphicsItem) -> None:
    """Paint ``item`` from a pixmap of its last look while it does not change (a frame that repaints
    the heatmaps and curves around it then blits it instead of laying its text out and stroking it
    again). Exports render at their own resolution, not from this pixmap."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def cache_static_items(view: pg.GraphicsView) -> None:
    """:func:`cache_static` for the items of ``view`` that change rarely: axes, cursors, texts."""
    for item in view.scene().items():
        if isinstance(item, (pg.AxisItem, pg.InfiniteLine, QGraphicsTextItem)):
            cache_static(item)


# ---------------------------------------------------------------- ranges that move in steps
def _nice(x: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is ≥ x."""
    x = max(float(x), 1e-12)
    e = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * e >= x * (1 - 1e-9):
            return m * e
    return 10 * e


def stepped_range(cur, lo: float, hi: float, slack: float = 1.6) -> tuple[float, float]:
    """(lo, hi) rounded outwards to a quarter of its span's nice step; ``cur`` (the range shown) is
    kept while it holds the data and is at most ``slack`` times the rounded span wide."""
    g = _nice((hi - lo) / 4) if hi > lo else 0.5
    want = (math.floor(lo / g + 1e-9) * g, math.ceil(hi / g - 1e-9) * g)
    if want[1] <= want[0]:
        want = (want[0] - g, want[1] + g)
    if cur is not None and cur[0] <= lo and cur[1] >= hi and cur[1] - cur[0] <= slack * (want[1] - want[0]):
        return cur
    return (round(want[0], 9), round(want[1], 9))


#: the ends of a state's colour scale (±): readable labels, about 1.3–1.5 apart
_LIMITS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0)


def state_limit(levels, peak: float) -> float:
    """The colour scale ±lim of a state heatmap holding ``|values| ≤ peak``: the current one while
    it holds the peak and the peak fills at least 40 % of it (the colours and the bar's labels do
    not change every frame), else the smallest of 1, 1.5, 2, 3, 4, 5, 7 × 10^k that holds it."""
    cur = None if levels is None else float(levels[1])
    if cur is not None and levels[0] == -cur and peak <= cur and (cur <= 1.0 or peak > 0.4 * cur):
        return cur
    e = 10 ** math.floor(math.log10(max(peak, 1.0)))
    for m in _LIMITS + (10.0,):
        if m * e >= peak * (1 - 1e-9):
            return float(m * e)
    return float(10 * e)


def grown_end(cur, n: float, least: float = 10.0) -> float:
    """The right end of an x axis over updates: fixed while the data fits, then grown by about a
    tenth to a round number (its ticks are recomputed every tenth of the run's length, not every
    frame, and the curve still fills the plot); back to ``least`` after a reset."""
    n = max(float(n), 0.0)
    if cur is not None and n <= cur and (cur <= least or n > 0.4 * cur):
        return cur
    if n <= least:
        return float(least)
    x = n * 1.1
    g = 10 ** math.floor(math.log10(x)) / 10       # two significant digits: 11, 12, …, 99, 110, …
    return float(math.ceil(x / g - 1e-9) * g)


def set_log_range(plot, *arrays, min_decades: float = 3.2) -> None:
    """y range of a log plot: the data's decades with a margin, at least ``min_decades`` wide
    (with fewer than three decade ticks pyqtgraph labels every minor tick: unreadable). The ends
    sit on half decades and stay while the data fits (a margin of a tenth of a decade) and the range
    is not more than a decade wider than needed."""
    vals = [np.log10(a[np.isfinite(a) & (a > 0)]) for a in arrays if a is not None and len(a)]
    vals = [v for v in vals if v.size]
    cur = getattr(plot, "_lstm_log", None)
    if not vals:                    # nothing yet: three decades, not pyqtgraph's one (minor labels)
        want = (-2.0, 1.2)
    else:
        lo = float(min(v.min() for v in vals))
        hi = float(max(v.max() for v in vals))
        mid, half = (lo + hi) / 2, max((hi - lo) / 2 + 0.25, min_decades / 2)
        want = (math.floor((mid - half) * 2) / 2, math.ceil((mid + half) * 2) / 2)
        if cur is not None and cur[0] <= lo - 0.1 and cur[1] >= hi + 0.1 \
                and cur[1] - cur[0] <= want[1] - want[0] + 1.0:
            want = cur
    if want != cur:
        plot._lstm_log = want
        plot.setYRange(want[0], want[1], padding=0)


# ---------------------------------------------------------------- fonts, keys, ticks
def _font(base_pt=TICK_PT, bold=False) -> QFont:
    """A plot font at ``base_pt`` times the current text scale (never below the tick size)."""
    f = QFont()
    f.setPointSizeF(max(base_pt, TICK_PT) * text_scale())
    f.setBold(bold)
    return f


def _cursor():
    return pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme().fg, width=1.5,
                                                                  style=Qt.PenStyle.DashLine))


def ink_for(view: pg.GraphicsView) -> str:
    """Black on a light background, white on a dark one (the presentation theme may switch)."""
    return "#000000" if view.backgroundBrush().color().lightness() >= 128 else "#FFFFFF"


def swatch(color, glyph: str = "■") -> str:
    """A coloured key in a title; the words beside it stay in the theme's text colour."""
    return f"<span style='color:{QColor(color).name()}'>{glyph}</span>"


def _blend(a: str, b: str, share: float) -> str:
    ca, cb = QColor(a), QColor(b)
    mix = [round(x * (1 - share) + y * share) for x, y in
           ((ca.red(), cb.red()), (ca.green(), cb.green()), (ca.blue(), cb.blue()))]
    return QColor(*mix).name()


def input_colors() -> tuple[str, ...]:
    """Greys of the input curves that read on the theme's background."""
    th = theme()
    return th.muted, _blend(th.muted, th.bg, 0.45), _blend(th.fg, th.bg, 0.3)


def unit_color(k: int):
    return UNIT_COLORS[k % len(UNIT_COLORS)]


def _no_title(plot: pg.PlotItem) -> None:
    """A plot without a title takes no room for one (the hidden wrapping title of
    ``plots.fit_plot`` keeps its one-line minimum height otherwise: a heatmap row lost 22 px)."""
    plot.setTitle(None)
    plot.titleLabel.setMaximumHeight(0)
    plot.titleLabel.setMinimumHeight(0)


def _tick(v: float) -> str:
    return f"{v:g}".replace("-", "−")


def _nice_ticks(lo: float, hi: float) -> list:
    """Three labels on a low row: the rounded ends and 0 (when it lies between)."""
    step = 10 ** math.floor(math.log10(max(hi - lo, 1e-9)))
    if (hi - lo) / step < 2:
        step /= 2
    a, b = math.ceil(lo / step - 1e-9) * step, math.floor(hi / step + 1e-9) * step   # inside the range
    zero = a < 0 < b and min(-a, b) >= 0.25 * (b - a)       # 0 only where it has room
    vals = sorted({round(a, 6), round(b, 6)} | ({0} if zero else set()))
    return [[(float(v), _tick(v)) for v in vals], []]
