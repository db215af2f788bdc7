"""Colours, constants and drawing helpers of the t-SNE springs panel (:mod:`nnsim.panels.tsne`).

Pure functions of arrays and the theme: the springs' and arrows' segment arrays, point styles per
class, images for ImageItems, moving the points of a scatter item without rebuilding it, and the
legend key of a class whose points live in one shared scatter item.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from nnsim.widgets.plots import TICK_PT, text_scale, theme

#: ten classes need ten colours (Tableau 10); symbols repeat after them
PALETTE = ("#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#B07AA1", "#9C755F", "#EDC948",
           "#76B7B2", "#FF9DA7", "#7F7F7F")
ATTRACT = "#1B4F9C"   # p > q
REPEL = "#C8102E"     # p < q
#: the same on a dark background (the dark blue and red vanish on it)
ATTRACT_DARK = "#7FB2FF"
REPEL_DARK = "#FF7A8A"
FORCE_COLOR = (20, 20, 20, 170)
#: the inspector goes under the map when the views are at least this tall (px), else into a tab
ROOMY_HEIGHT = (820, 860)          # (leave, enter): hysteresis
#: the inspector's input tiles sit beside its table when it is at least this wide (px); narrower,
#: above it (the table then has the whole width: vertical scrolling, not sideways)
INSPECTOR_SIDE_BY_SIDE = 700
#: springs are binned by force / strongest force into these widths (px): one curve per bin
WIDTH_EDGES = (0.04, 0.15, 0.45)
WIDTHS = (0.8, 1.6, 2.6, 4.0)
N_NEIGHBOUR_IMAGES = 4
PCA_TITLE = "PCA of the same data (linear)"
TEXT_INTERVAL = 0.25   # seconds between title / inspector refreshes while playing


def spring_colors() -> tuple[str, str]:
    """(attract, repel) colours of the springs in the current theme."""
    return (ATTRACT_DARK, REPEL_DARK) if theme().name == "dark" else (ATTRACT, REPEL)


def force_color():
    """The net-force arrows: dark ink on light themes, light ink on the dark one."""
    c = pg.mkColor(theme().fg)
    c.setAlpha(170)
    return c


def text_font(base_pt: float = TICK_PT) -> QFont:
    """The font of text drawn in a plot (annotations): the tick size times the text scale."""
    font = QFont(QApplication.font())
    font.setPointSizeF(base_pt * text_scale())
    return font


def swatch(color: str, char: str = "━━") -> str:
    """A coloured key mark; the words beside it stay in the theme's text colour (contrast)."""
    return f"<span style='color:{color}'>{char}</span>"


def class_pen_brush(k: int, alpha: int = 255):
    c = pg.mkColor(PALETTE[k % len(PALETTE)])
    c.setAlpha(alpha)
    edge = pg.mkColor("#1a1a1a")
    edge.setAlpha(min(alpha, 160))
    return pg.mkPen(edge, width=0.6), pg.mkBrush(c)


def image_for_item(img: np.ndarray) -> np.ndarray:
    """Row 0 of a picture is its top; a y-up ImageItem wants data[x, y]: flip rows, transpose."""
    return np.ascontiguousarray(img[::-1].T)


def segments(Y: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y arrays for PlotCurveItem(connect="pairs"): y_i, y_j for each pair."""
    x = np.empty(2 * len(pairs))
    y = np.empty(2 * len(pairs))
    x[0::2], x[1::2] = Y[pairs[:, 0], 0], Y[pairs[:, 1], 0]
    y[0::2], y[1::2] = Y[pairs[:, 0], 1], Y[pairs[:, 1], 1]
    return x, y


def arrow_segments(P: np.ndarray, V: np.ndarray, head: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Shaft P -> P + V and two barbs at the tip (25° either side), as connect="pairs" arrays."""
    tip = P + V
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    back = -V * head
    b1 = np.stack([c * back[:, 0] - s * back[:, 1], s * back[:, 0] + c * back[:, 1]], axis=1)
    b2 = np.stack([c * back[:, 0] + s * back[:, 1], -s * back[:, 0] + c * back[:, 1]], axis=1)
    pts = np.stack([P, tip, tip, tip + b1, tip, tip + b2], axis=1).reshape(-1, 2)
    return pts[:, 0].copy(), pts[:, 1].copy()


def move_points(item: pg.ScatterPlotItem, xy: np.ndarray) -> None:
    """New positions for the same points of a ScatterPlotItem.

    ``setData`` rebuilds every spot record and its style (about 0.6 ms per 200 points); when only
    positions change, writing them into the item's record array and invalidating its bounds and
    drawing is enough. Falls back to ``setData`` whenever the count differs or the item's
    internals are not as expected."""
    data = getattr(item, "data", None)
    if (not isinstance(data, np.ndarray) or data.dtype.names is None or "x" not in data.dtype.names
            or len(data) != len(xy) or len(xy) == 0):
        item.setData(pos=xy) if len(xy) else item.clear()
        return
    data["x"] = xy[:, 0]
    data["y"] = xy[:, 1]
    item.prepareGeometryChange()
    item.informViewBoundsChanged()
    item.bounds = [None, None]
    item.invalidate()
    item.sigPlotChanged.emit(item)


class ClassKey(pg.ScatterPlotItem):
    """A class's legend key (symbol, colour, name). It is not in the plot: the map draws every point
    in one item (ten items cost ten bounding rects and paints a frame). A click on the legend entry
    toggles the key, and ``on_toggle(k, shown)`` hides or shows the class's points (as a click on
    an item's entry does)."""

    def __init__(self, k: int, on_toggle, **kwargs):
        super().__init__(**kwargs)
        self._k, self._on_toggle = k, on_toggle

    def setVisible(self, visible):  # noqa: N802 - Qt name
        changed = bool(visible) != self.isVisible()
        super().setVisible(visible)
        if changed:
            self._on_toggle(self._k, bool(visible))


def fmt(v: float) -> str:
    """A number for the inspector's table: 3 significant digits, exponent outside 1e-3 .. 1e4."""
    if v == 0 or not np.isfinite(v):
        return f"{v:g}"
    a = abs(v)
    return f"{v:.3g}" if 1e-3 <= a < 1e4 else f"{v:.2e}"


def _grey_lut():
    """White background, black ink (as the digits were written)."""
    v = np.linspace(255, 0, 256).astype(np.uint8)
    return np.stack([v, v, v], axis=1)


GREY_LUT = _grey_lut()
