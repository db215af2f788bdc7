"""A network diagram: units as circles in columns, one line per weight, coloured by the weight's
sign (blue w > 0, vermillion w < 0) and as wide as its magnitude (four width classes of |w| relative
to the largest |w| of the network). One chosen weight is highlighted; clicking near a line emits
``edge_clicked(layer, i, j)`` (1-based: W⁽ˡ⁾[i, j], from unit i of layer l − 1 to unit j of layer l).

Lines are drawn as eight ``PlotCurveItem``s (sign × width class) with ``connect="pairs"``, without
antialiasing (antialiased thick lines cost Qt's raster engine about 7× more: 47 ms instead of 7 ms
per redraw for a 2-16-16-2 network). Above :data:`MANY_EDGES` weights the faintest class (|w| below a
quarter of the largest) is left out, which keeps a 2-64-64-3 network near 20 ms. The lines are
given new data only when an edge changes class (the picture shows nothing finer), and only the
classes that changed; semi-transparent wide lines are what costs (opaque ones are several times
cheaper), so the panel refreshes a large (:attr:`~NetworkDiagram.heavy`) diagram's lines at most
10 times a second while playing.
"""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCursor, QFont, QFontMetricsF
from PySide6.QtWidgets import QToolTip

from nnsim.widgets.plots import TICK_PT, class_color, text_scale, theme

POS_COLOR = (0, 114, 178)      # Okabe–Ito blue
NEG_COLOR = (213, 94, 0)       # Okabe–Ito vermillion
SELECT_COLOR = "#00A050"
WIDTHS = (0.7, 1.6, 3.0, 5.0)
ALPHAS = (70, 130, 190, 240)
EDGES = ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.01))
MANY_EDGES = 1500
#: above this many weights a redraw of the lines costs about 10 ms or more (Qt strokes each
#: semi-transparent wide line on its own): see ``set_network(edges=…)`` and :attr:`heavy`
HEAVY_EDGES = 400
_UPPER = [e[1] for e in EDGES]
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def node_positions(sizes) -> list[np.ndarray]:
    """y of every unit per layer: the widest layer spans [−0.5, 0.5]; unit 1 on top."""
    widest = max(max(sizes) - 1, 1)
    return [-(np.arange(n) - (n - 1) / 2.0) / widest for n in sizes]


class NetworkDiagram(pg.PlotWidget):
    edge_clicked = Signal(int, int, int)
    nnsim_themed = True      # (the View menu calls restyle() on a theme or text-size change)

    def __init__(self, parent=None):
        super().__init__(parent)
        plot = self.getPlotItem()
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        self.setBackground(theme().bg)
        self._edge_items = {}
        for sign in (1, -1):
            for b in range(len(WIDTHS)):
                color = POS_COLOR if sign > 0 else NEG_COLOR
                item = pg.PlotCurveItem([], [], connect="pairs", antialias=False,
                                        pen=pg.mkPen((*color, ALPHAS[b]), width=WIDTHS[b]))
                item.setZValue(1 + b)
                item.setSegmentedLineMode("on")
                plot.addItem(item)
                self._edge_items[(sign, b)] = item
        self._selected = pg.PlotCurveItem([], [], pen=pg.mkPen(SELECT_COLOR, width=4, style=Qt.PenStyle.DashLine))
        self._selected.setZValue(9)
        plot.addItem(self._selected)
        self._nodes = pg.ScatterPlotItem(size=14, pen=pg.mkPen("#222", width=1.2), brush="w")
        self._nodes.setZValue(10)
        plot.addItem(self._nodes)
        self._labels: list[pg.TextItem] = []
        self._label_sets: tuple = ((), ())      # (long names, short names) of the columns
        self.label_mode = "none"                # which set is shown: "long", "short" or "none"
        self._fit_key = None
        self._key = None
        self._sizes = ()
        self._ys: list[np.ndarray] = []
        self._weights = ()
        self._edge_xy = (np.zeros(0), np.zeros(0))   # both ends of every weight's line (see _build)
        self._edge_codes = None                      # sign × width class of every edge drawn
        self._selected_line = None                   # the highlighted edge's ends drawn
        self._brush_key = None
        self.faint_hidden = False
        self.heavy = False            # more than HEAVY_EDGES weights (costly to redraw)
        self._biases = ()
        self._names = ()
        plot.scene().sigMouseClicked.connect(self._on_clicked)
        plot.scene().sigMouseMoved.connect(self._on_moved)
        plot.getViewBox().sigResized.connect(self.fit_labels)

    def set_network(self, sizes, weights, layer_names, selected=None, dead=None, n_classes=0,
                    biases=None, short_names=None, edges: bool = True) -> None:
        """Draw ``weights`` (list of (n_l, n_{l+1}) arrays) of a network with ``sizes``.
        ``layer_names``: a label per column (``short_names``: shorter ones, used when the long ones
        would run into each other; when neither fits, the columns are not labelled); ``selected``:
        (l, i, j) 1-based or None; ``dead``: per hidden layer a bool array (units drawn grey);
        ``n_classes`` colours the output units; ``biases`` (one array per layer after the input) are
        shown when hovering a unit. ``edges=False`` keeps the lines drawn as they are (the hover
        and click texts still use these weights): a caller may refresh a :attr:`heavy` diagram's
        lines less often than every frame while a run plays."""
        sizes = tuple(int(s) for s in sizes)
        self._biases = tuple(np.asarray(b, dtype=float).ravel() for b in biases) if biases is not None else ()
        self._names = tuple(str(n) for n in layer_names)
        key = (sizes, tuple(layer_names), tuple(short_names or ()))
        if key != self._key:
            self._label_sets = (tuple(str(n) for n in layer_names), tuple(str(n) for n in (short_names or ())))
            self._build(sizes, layer_names)
            self._key = key
            self._brush_key = None
        self._weights = tuple(np.asarray(W, dtype=float) for W in weights)
        n_edges = sum(W.size for W in self._weights)
        self.faint_hidden = n_edges > MANY_EDGES
        self.heavy = n_edges > HEAVY_EDGES
        if edges or self._edge_codes is None:
            self._draw_edges()
        brush_key = (sizes, n_classes, tuple(tuple(map(bool, d)) for d in (dead or ())))
        if brush_key != self._brush_key:
            self._set_brushes(sizes, dead, n_classes)
            self._brush_key = brush_key
        line = ()
        if selected is not None and 1 <= selected[0] <= len(self._weights):
            l, i, j = selected
            W = self._weights[l - 1]
            if 1 <= i <= W.shape[0] and 1 <= j <= W.shape[1]:
                line = ((l - 1, l), (float(self._ys[l - 1][i - 1]), float(self._ys[l][j - 1])))
        if line != self._selected_line:
            self._selected.setData(*(np.array(v, float) for v in (line or ([], []))))
            self._selected_line = line

    def _draw_edges(self) -> None:
        """Each weight's line into the item of its sign and width class. The picture only shows
        these classes, so the items are given new data only when an edge changes class (while
        training, most frames change none: the diagram is then not repainted at all)."""
        big = max((float(np.abs(W).max()) for W in self._weights if W.size), default=0.0)
        big = big if np.isfinite(big) and big > 0 else 1.0
        codes = []
        for W in self._weights:
            w = W.ravel()
            mag = np.nan_to_num(np.abs(w) / big)
            cls = np.clip(np.searchsorted(_UPPER, mag, side="right"), 0, len(WIDTHS) - 1)
            code = 2 * cls + (w < 0)              # sign × width class of every edge
            if self.faint_hidden:
                code[cls == 0] = -1
            codes.append(code)
        codes = np.concatenate(codes) if codes else np.zeros(0, np.intp)
        old = self._edge_codes
        if old is not None and np.array_equal(codes, old):
            return
        self._edge_codes = codes
        xs, ys = self._edge_xy
        for (sign, b), item in self._edge_items.items():
            code = 2 * b + (sign < 0)
            mask = codes == code
            if old is not None and len(old) == len(codes) and np.array_equal(mask, old == code):
                continue           # (this class kept its edges: its cached picture stays)
            m2 = np.repeat(mask, 2)
            if m2.any():
                item.setData(xs[m2], ys[m2], connect="pairs")
            elif item.xData is None or len(item.xData):
                item.setData([], [])

    def _set_brushes(self, sizes, dead, n_classes):
        brushes = []
        for l, n in enumerate(sizes):
            for k in range(n):
                if l == len(sizes) - 1 and n_classes and n > 1:
                    brushes.append(class_color(k))
                elif 0 < l < len(sizes) - 1 and dead is not None and l - 1 < len(dead) \
                        and k < len(dead[l - 1]) and dead[l - 1][k]:
                    brushes.append(pg.mkBrush("#999"))
                else:
                    brushes.append(pg.mkBrush("w"))
        self._nodes.setBrush(brushes)

    def _build(self, sizes, layer_names):
        plot = self.getPlotItem()
        for t in self._labels:
            plot.removeItem(t)
        self._labels = []
        self._sizes = sizes
        self._ys = node_positions(sizes)
        xs = np.concatenate([np.full(n, l, float) for l, n in enumerate(sizes)])
        ys = np.concatenate(self._ys)
        size = 14 if max(sizes) <= 16 else (9 if max(sizes) <= 32 else 6)
        self._nodes.setData(xs, ys, size=size)
        # both ends of every weight's line, layer by layer, W row-major (the order of _draw_edges)
        ex, ey = [], []
        for l in range(len(sizes) - 1):
            ii, jj = np.meshgrid(np.arange(sizes[l]), np.arange(sizes[l + 1]), indexing="ij")
            x = np.empty(2 * ii.size)
            y = np.empty(2 * ii.size)
            x[0::2], x[1::2] = l, l + 1
            y[0::2], y[1::2] = self._ys[l][ii.ravel()], self._ys[l + 1][jj.ravel()]
            ex.append(x)
            ey.append(y)
        self._edge_xy = (np.concatenate(ex), np.concatenate(ey)) if ex else (np.zeros(0), np.zeros(0))
        self._edge_codes = None
        self._selected_line = None
        for l, _name in enumerate(layer_names):
            t = pg.TextItem(anchor=(0.5, 0))
            t.setPos(l, -0.56)
            plot.addItem(t)
            self._labels.append(t)
        self._fit_key = None
        self.fit_labels()

    # ---- column labels that never overlap
    @staticmethod
    def _label_font() -> QFont:
        font = QFont()
        font.setPointSizeF(TICK_PT * text_scale())
        return font

    @staticmethod
    def _lines(name: str) -> list[str]:
        return [re.sub(r"<[^>]+>", "", part).strip() for part in re.split(r"<br\s*/?>", name)]

    def fit_labels(self, *_args) -> None:
        """Choose the column labels for the diagram's size on screen: the long names if each fits its
        column, else the short ones, else none; and keep a band under the units as high as the
        labels (in screen pixels), so they are never cut and never sit on the units."""
        plot = self.getPlotItem()
        if not self._sizes:
            return
        vb = plot.getViewBox()
        r = vb.rect()
        w, h = r.width(), r.height()
        font = self._label_font()
        key = (round(w), round(h), font.pointSizeF(), theme().fg, self._label_sets)
        if key == self._fit_key:
            return
        self._fit_key = key
        fm = QFontMetricsF(font)
        pitch = w / max(len(self._sizes) - 0.2, 0.8)         # screen px from one column to the next
        mode, names = "none", ()
        for candidate, texts in zip(("long", "short"), self._label_sets):
            if len(texts) != len(self._sizes):
                continue
            widest = max(fm.horizontalAdvance(line) for name in texts for line in self._lines(name))
            lines = max(len(self._lines(name)) for name in texts)
            band = lines * fm.lineSpacing() + 10                 # (the text item's margins)
            if widest + 10 <= pitch and h - band >= 60:
                mode, names = candidate, texts
                break
        self.label_mode = mode
        fg = theme().fg
        for t, name in zip(self._labels, names or [""] * len(self._labels)):
            t.setFont(font)
            t.setHtml(f"<div style='text-align:center; color:{fg}'>{name}</div>")
            t.setVisible(bool(names))
        y_lo = -0.56
        if names:
            lines = max(len(self._lines(name)) for name in names)
            band = lines * fm.lineSpacing() + 10
            per_unit = (h - band) / 1.12                         # px per y unit above the band
            y_lo = -0.56 - band / max(per_unit, 1e-6)
        plot.setRange(xRange=(-0.4, len(self._sizes) - 0.6), yRange=(y_lo, 0.56), padding=0)

    def label_rects(self) -> list:
        """Scene rectangles of the visible column labels (for tests: they must not overlap)."""
        return [t.mapRectToScene(t.boundingRect()) for t in self._labels if t.isVisible()]

    def restyle(self) -> None:
        """Theme or text size changed: the labels in the theme's colour and the scaled size."""
        self._fit_key = None
        self.fit_labels()

    # ---- hover: the numbers of the unit or weight under the mouse
    def describe_at(self, x: float, y: float) -> str | None:
        """Tooltip text for view point (x, y): a unit (its bias) within ~half a node, else the weight
        whose line passes nearest (as for clicking); None over empty space."""
        if not self._sizes:
            return None
        l = int(round(x))
        if 0 <= l < len(self._sizes) and abs(x - l) < 0.06:
            ys = self._ys[l]
            k = int(np.argmin(np.abs(ys - y)))
            if abs(ys[k] - y) < max(0.03, 0.45 * self._gap(l)):
                return self._describe_unit(l, k)
        edge = self._edge_at(x, y)
        if edge is None:
            return None
        l, i, j = edge
        w = self._weights[l][i, j]
        sup = str(l + 1).translate(_SUPERSCRIPTS)
        return (f"W⁽{sup}⁾[{i + 1}, {j + 1}] = {w:.6g}\nfrom unit {i + 1} of {self._layer(l)} "
                f"to unit {j + 1} of {self._layer(l + 1)}\n(click to follow it in the chain rule)")

    def _gap(self, l: int) -> float:
        ys = self._ys[l]
        return float(np.min(np.abs(np.diff(ys)))) if len(ys) > 1 else 1.0

    def _layer(self, l: int) -> str:
        name = self._names[l].split("<")[0].strip() if l < len(self._names) else ""
        if l == 0:
            return "the input layer"
        if l == len(self._sizes) - 1:
            return "the output layer"
        return f"hidden layer {l}" + (f" ({name})" if name and "hidden" not in name.lower() else "")

    def _describe_unit(self, l: int, k: int) -> str:
        head = f"unit {k + 1} of {self._layer(l)}"
        if l == 0:
            return f"{head}: the input x{k + 1}" if self._sizes[0] <= 9 else head
        text = head
        if l - 1 < len(self._biases) and k < len(self._biases[l - 1]):
            text += f"\nbias b = {self._biases[l - 1][k]:.6g}"
        if l - 1 < len(self._weights):
            w_in = self._weights[l - 1][:, k]
            text += f"\nincoming weights: {len(w_in)}, largest |w| = {np.max(np.abs(w_in)):.4g}"
        return text

    def _edge_at(self, x: float, y: float):
        l = int(np.floor(x))
        if not 0 <= l < len(self._weights) or not 0.04 < x - l < 0.96:
            return None
        y0, y1 = self._ys[l], self._ys[l + 1]
        t = x - l
        at_x = (1 - t) * y0[:, None] + t * y1[None, :]       # each edge's height at this x
        slope = (y1[None, :] - y0[:, None])
        dist = np.abs(at_x - y) / np.sqrt(1.0 + slope ** 2)
        i, j = np.unravel_index(int(np.argmin(dist)), dist.shape)
        return (l, int(i), int(j)) if dist[i, j] < 0.05 else None

    def _on_moved(self, scene_pos):
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return
        p = vb.mapSceneToView(scene_pos)
        text = self.describe_at(p.x(), p.y())
        if text:
            QToolTip.showText(QCursor.pos(), text, self)
        else:
            QToolTip.hideText()

    def _on_clicked(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton or not self._weights:
            return
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        edge = self._edge_at(p.x(), p.y())
        if edge is not None:
            l, i, j = edge
            self.edge_clicked.emit(l + 1, i + 1, j + 1)
            ev.accept()
