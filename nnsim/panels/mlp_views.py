"""Views of the MLP panel: the decision-region grid (one heatmap per run) and the hidden-unit mosaic.

Both are single ``GraphicsLayoutWidget``s (one repaint for all runs or all units). They only
colour and place what the engine computed: region classes and confidences, unit activations.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QFont, QFontMetricsF

from nnsim.widgets.plots import (CLASS_COLORS, CLASS_SYMBOLS, TICK_PT, TITLE_PT, class_color, style_plot,
                                 text_scale, theme)

#: colours of the runs' curves and swatches (Tol's bright scheme, distinct from the class colours;
#: none of them dark, so that every run's line shows on the dark theme too)
RUN_COLORS = ("#4477AA", "#228833", "#CCBB44", "#EE6677", "#AA3377", "#66CCEE")
UNIT_TILE_GAP = 4
UNIT_LABEL_GAP = 14      # image rows above each row of tiles for the labels (at least; see UnitMosaic)
UNIT_COLUMNS = 8
MAX_TILE_LABELS = 32     # above this, one label per row of tiles (per-tile labels would not fit)


def run_color(k: int) -> str:
    """Colour of run k (0-based)."""
    return RUN_COLORS[k % len(RUN_COLORS)]


def _rgb(hex_color: str) -> np.ndarray:
    c = pg.mkColor(hex_color)
    return np.array([c.red(), c.green(), c.blue()], dtype=np.float32)


_CLASS_RGB = np.array([_rgb(c) for c in CLASS_COLORS])


def region_rgb(cls: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(G, G, 3) uint8: the predicted class's colour, paler where the network is less sure."""
    base = _CLASS_RGB[np.asarray(cls, dtype=np.intp) % len(_CLASS_RGB)]
    k = (0.12 + 0.5 * np.asarray(conf, dtype=np.float32))[..., None]
    return (255.0 - (255.0 - base) * k).astype(np.uint8)


def grid_columns(n: int, width: float, height: float, title_h: float = 40.0, axis_w: float = 40.0,
                 axis_h: float = 28.0) -> int:
    """Columns of the heatmap grid for n runs in a ``width`` × ``height`` px view: the count that
    gives the largest square heatmaps (each cell loses ``axis_w`` to its y axis and ``title_h`` +
    ``axis_h`` to its title and x axis). A narrow view gets fewer columns, a wide short one more."""
    if n <= 1:
        return 1
    best, best_side = 1, -math.inf
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        side = min(width / cols - axis_w, height / rows - title_h - axis_h)
        if side > best_side + 0.5:      # (ties: fewer columns, wider titles)
            best, best_side = cols, side
    return best


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """(rows, columns) of the heatmap grid for n runs (``cols`` from :func:`grid_columns`)."""
    cols = max(1, min(n, cols if cols else (1 if n <= 1 else (2 if n <= 4 else 3))))
    return math.ceil(n / cols), cols


class RegionGrid(pg.GraphicsLayoutWidget):
    """One decision-region heatmap per run with the training (filled) and test (hollow) points.

    The heatmaps reflow to as many columns as give them the most room (:func:`grid_columns`), again
    whenever the view is resized: narrow → fewer columns, wide and short → one row. Plots are only
    created when the number of runs changes, and only moved when the column count changes.
    :meth:`csv_table` exports the region grid with its coordinates and the data points once."""

    clicked = Signal(float, float, object)   # x, y, Qt mouse button

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(theme().bg)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self._train: list[pg.ScatterPlotItem] = []
        self._test: list[pg.ScatterPlotItem] = []
        self._titles: list[str] = []
        self._n = -1
        self.columns = 1
        self._extent = None
        self._points = None            # (X_train, y_train, X_test, y_test) for the CSV
        self._grids: list = []         # per run: (class, confidence) arrays or None
        self._run_names: list[str] = []
        self.scene().sigMouseClicked.connect(self._on_clicked)

    def set_runs(self, n: int) -> None:
        if n == self._n:
            return
        self.clear()
        self.plots, self.images, self._train, self._test, self._titles = [], [], [], [], []
        for k in range(n):
            plot = pg.PlotItem()
            plot.setMenuEnabled(False)        # right click removes a point here
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setAspectLocked(True)
            style_plot(plot)                  # (created after build_views: wrap titles, theme, text scale)
            img = pg.ImageItem(axisOrder="row-major")
            img.setZValue(-10)
            plot.addItem(img)
            tr = pg.ScatterPlotItem(size=7, pen=pg.mkPen("#222", width=0.7))
            te = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(255, 255, 255, 230))
            tr.setZValue(5)
            te.setZValue(6)
            plot.addItem(tr)
            plot.addItem(te)
            self.plots.append(plot)
            self.images.append(img)
            self._train.append(tr)
            self._test.append(te)
            self._titles.append("")
        self._n = n
        self._grids = [None] * n
        self._run_names = [f"run {k + 1}" for k in range(n)]
        self._extent = None
        self.columns = 0
        self._place(self._best_columns())

    # ---- reflow
    def _best_columns(self) -> int:
        n = len(self.plots)
        if n <= 1:
            return 1
        p = self.plots[0]
        axis_w = max(30.0, p.getAxis("left").width())
        axis_h = max(20.0, p.getAxis("bottom").height())
        line = QFontMetricsF(QFont("", round(TITLE_PT * text_scale()))).height()
        r = self.viewport().rect()
        return grid_columns(n, r.width() - 4, r.height() - 4, title_h=2.2 * line, axis_w=axis_w + 6,
                            axis_h=axis_h + 4)

    def _place(self, cols: int) -> None:
        """Put the plots into a grid of ``cols`` columns (moving, not re-creating them)."""
        if cols == self.columns or not self.plots:
            return
        lay = self.ci.layout
        for plot in self.plots:
            if plot in self.ci.items:
                self.ci.removeItem(plot)
        for k in range(lay.rowCount()):
            lay.setRowStretchFactor(k, 0)
        for k in range(lay.columnCount()):
            lay.setColumnStretchFactor(k, 0)
        rows, cols = grid_shape(len(self.plots), cols)
        for k, plot in enumerate(self.plots):
            self.ci.addItem(plot, row=k // cols, col=k % cols)
        for k in range(rows):
            lay.setRowStretchFactor(k, 1)
        for k in range(cols):
            lay.setColumnStretchFactor(k, 1)
        self.columns = cols

    def resizeEvent(self, ev):  # noqa: N802 - Qt name
        super().resizeEvent(ev)
        if getattr(self, "plots", None):     # (pyqtgraph resizes once while constructing)
            self._place(self._best_columns())

    # ---- data
    def set_points(self, X_train, y_train, X_test, y_test, extent) -> None:
        """Data points and the plotted area (call when the data change)."""
        ext = tuple(float(v) for v in extent)
        self._points = tuple(np.array(v) for v in (X_train, y_train, X_test, y_test))
        m = len(X_train) + len(X_test)
        size = 14 if m <= 20 else (10 if m <= 80 else 7)      # a few points: make them visible
        for tr, te in zip(self._train, self._test):
            tr.setSize(size)
            te.setSize(size + 1)
            tr.setData(pos=np.asarray(X_train).reshape(-1, 2),
                       brush=[class_color(int(c)) for c in y_train],
                       symbol=[CLASS_SYMBOLS[int(c) % len(CLASS_SYMBOLS)] for c in y_train])
            te.setData(pos=np.asarray(X_test).reshape(-1, 2),
                       pen=[pg.mkPen(class_color(int(c)), width=2) for c in y_test],
                       symbol=[CLASS_SYMBOLS[int(c) % len(CLASS_SYMBOLS)] for c in y_test])
        if ext != self._extent:
            x0, x1, y0, y1 = ext
            for plot in self.plots:
                plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
            self._extent = ext

    def set_region(self, k: int, rgb: np.ndarray, cls=None, conf=None, name: str | None = None) -> None:
        """Show ``rgb`` (G, G, 3), row 0 = the lowest x₂, over the data extent; ``cls``/``conf`` (the
        predicted class and its probability on the grid) and the run's ``name`` go to the CSV."""
        img = self.images[k]
        img.setImage(rgb, autoLevels=False, levels=(0, 255))
        if self._extent is not None:   # (after setImage: the rect is mapped through the image size)
            x0, x1, y0, y1 = self._extent
            img.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        if cls is not None:
            self._grids[k] = (cls, conf)
        if name is not None:
            self._run_names[k] = name

    def set_title(self, k: int, html: str) -> None:
        if self._titles[k] != html:
            self.plots[k].setTitle(html)
            self._titles[k] = html

    def csv_table(self):
        """(comments, header, columns) for File > Export figure as CSV: the decision-region grid
        (x1, x2, then the predicted class and its probability per run), then the data points once."""
        comments = ["Decision regions: predicted class and its probability (confidence) on the grid "
                    "the heatmaps show, one column pair per run; then the training and test points"]
        header, columns = [], []
        grids = [(name, g) for name, g in zip(self._run_names, self._grids) if g is not None]
        if grids and self._extent is not None:
            G0, G1 = np.shape(grids[0][1][0])
            x0, x1, y0, y1 = self._extent
            GX, GY = np.meshgrid(np.linspace(x0, x1, G1), np.linspace(y0, y1, G0))
            header += ["x1", "x2"]
            columns += [GX.ravel(), GY.ravel()]
            for name, (cls, conf) in grids:
                header += [f"class ({name})", f"confidence ({name})"]
                columns += [np.asarray(cls, float).ravel(),
                            np.asarray(conf if conf is not None else np.full(np.shape(cls), np.nan), float).ravel()]
        if self._points is not None:
            Xtr, ytr, Xte, yte = self._points
            for which, X, y in (("training", Xtr, ytr), ("test", Xte, yte)):
                X = np.asarray(X, float).reshape(-1, 2)
                header += [f"{which} point x1", f"{which} point x2", f"{which} point class"]
                columns += [X[:, 0], X[:, 1], np.asarray(y, float)]
        return comments, header, columns

    def _on_clicked(self, ev):
        for plot in self.plots:
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(ev.scenePos()):
                p = vb.mapSceneToView(ev.scenePos())
                self.clicked.emit(float(p.x()), float(p.y()), ev.button())
                ev.accept()
                return


# ---- hidden units -----------------------------------------------------------------------------
_DIVERGING = pg.colormap.get("CET-D1")     # blue – white – red
_SEQUENTIAL = pg.colormap.get("CET-L3")    # black – red – yellow – white
_DIV_LUT = _DIVERGING.getLookupTable(0.0, 1.0, 256, alpha=False)
_SEQ_LUT = _SEQUENTIAL.getLookupTable(0.0, 1.0, 256, alpha=False)
#: activations whose values can be negative get the diverging map, centred on 0
SIGNED = ("tanh", "linear", "leaky_relu", "elu", "selu")
FIXED_LEVELS = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu6": (0.0, 6.0)}


def unit_levels(hidden: str, values: np.ndarray) -> tuple[float, float]:
    """Colour range for one hidden layer's maps."""
    if hidden in FIXED_LEVELS:
        return FIXED_LEVELS[hidden]
    v = values[np.isfinite(values)]
    if v.size == 0:
        return (0.0, 1.0)
    if hidden in SIGNED:
        a = max(float(np.abs(v).max()), 1e-9)
        return (-a, a)
    return (min(0.0, float(v.min())), max(float(v.max()), 1e-9))


class UnitMosaic(pg.GraphicsLayoutWidget):
    """Every hidden unit's activation over the input plane as one mosaic image, a row of tiles per
    layer (wrapped at 8), labelled "layer.unit" above each tile when the tiles are wide enough on
    screen for their label, else one label per row ("layer 1: units 1–8"), else none; the band
    above each row of tiles is as high as a label on screen, so labels never sit on the tiles.
    Dead units (φ' = 0 on all training points) are framed in red. The layout is only redone when
    the network or the view's size changes, never per frame."""

    nnsim_themed = True

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(theme().bg)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.view = self.addViewBox(lockAspect=True, enableMouse=False)
        self.view.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self._labels: list[pg.TextItem] = []
        self._key = None
        self._mode = "tile"            # "tile": "1.5" above each tile; "row": one per row; "none"
        self._gap = UNIT_LABEL_GAP     # image rows above each row of tiles (room for a label)
        self._cols = UNIT_COLUMNS      # tiles per row
        self._slots: list[tuple[int, int]] = []
        self.empty = pg.TextItem("No hidden layer: the output units see the inputs directly.",
                                 color=theme().fg, anchor=(0.5, 0.5))
        self.view.addItem(self.empty)
        self.last_rgb = None
        self._shape = (1, 1)
        self._tile = 1
        self._last = None              # the last set_maps arguments (redrawn after a relayout)
        self.view.sigResized.connect(self._on_resized)

    @staticmethod
    def label_font() -> QFont:
        font = QFont()
        font.setPointSizeF(TICK_PT * text_scale())
        return font

    @staticmethod
    def _rows(layer, cols: int = UNIT_COLUMNS) -> tuple[list[tuple[int, int]], int]:
        """(row, column) of each tile: each layer starts a new row, ``cols`` tiles per row."""
        cells, row, col, prev = [], -1, 0, None
        for lay in layer:
            if lay != prev or col == cols:
                row += 1
                col = 0
                prev = lay
            cells.append((row, col))
            col += 1
        return cells, row + 1

    def _row_texts(self, layer, unit, cells) -> list[tuple[int, str, str]]:
        """(first slot, long text, short text) of each row of tiles."""
        out = []
        for s, (row, col) in enumerate(cells):
            if col == 0:
                last = max(k for k in range(s, len(cells)) if cells[k][0] == row)
                out.append((s, f"layer {layer[s]}: units {unit[s]}–{unit[last]}",
                            f"{layer[s]}: {unit[s]}–{unit[last]}"))
        return out

    def _plan(self, layer, unit, tile: int):
        """(mode, label gap in image rows, columns, rows) for the view's current size: the number
        of tiles per row (4, 8 or 16) that gives the largest tiles on screen, labelled if possible."""
        widest_layer = max(int(np.bincount(layer).max()), 1)
        best, best_score = None, -1.0
        for cols in sorted({min(c, widest_layer) for c in (4, UNIT_COLUMNS, 16)}):
            plan, tile_px = self._plan_for(layer, unit, tile, cols)
            score = tile_px * (1.0 if plan[0] != "none" else 0.7)    # (labels are worth some size)
            if score > best_score + 0.5:
                best, best_score = plan, score
        return best

    def _plan_for(self, layer, unit, tile: int, cols: int):
        """((mode, gap, cols, rows), tile size in screen px) with ``cols`` tiles per row."""
        cells, rows = self._rows(layer, cols)
        r = self.view.rect()
        vw, vh = max(r.width(), 1.0), max(r.height(), 1.0)
        fm = QFontMetricsF(self.label_font())
        text_h = fm.height() + 9        # (a TextItem keeps a 4-px margin around its text)

        def scale_for(gap):
            w, h = cols * (tile + UNIT_TILE_GAP), rows * (tile + gap) + UNIT_TILE_GAP
            return min(vw / w, vh / h) / 1.04

        gap = UNIT_LABEL_GAP
        for _ in range(6):          # the band's height on screen depends on the scale, and back
            scale = scale_for(gap)
            need = max(UNIT_LABEL_GAP, math.ceil(text_h / scale))
            if need == gap:
                break
            gap = need
        scale = scale_for(gap)
        none = (("none", UNIT_TILE_GAP, cols, rows), tile * scale_for(UNIT_TILE_GAP))
        if gap > 3 * tile or scale * gap < text_h - 0.5:   # too short for labels: tiles only
            return none
        pitch = (tile + UNIT_TILE_GAP) * scale
        widest = max(fm.horizontalAdvance(f"{a}.{b}") for a, b in zip(layer, unit)) + 8
        if len(layer) <= MAX_TILE_LABELS and widest <= pitch:
            return ("tile", gap, cols, rows), tile * scale
        row_w = cols * (tile + UNIT_TILE_GAP) * scale
        texts = self._row_texts(layer, unit, cells)
        if max(fm.horizontalAdvance(t[1]) for t in texts) + 8 <= row_w:
            return ("row", gap, cols, rows), tile * scale
        if max(fm.horizontalAdvance(t[2]) for t in texts) + 8 <= row_w:
            return ("row-short", gap, cols, rows), tile * scale
        return none

    def _build(self, layer, unit, tile: int) -> None:
        """Place the tiles and (re)create the labels for the current plan."""
        mode, gap, cols, rows = self._plan(layer, unit, tile)
        cells, _ = self._rows(layer, cols)
        self._slots = [(row * (tile + gap) + gap, col * (tile + UNIT_TILE_GAP)) for row, col in cells]
        for t in self._labels:
            self.view.removeItem(t)
        self._labels = []
        font = self.label_font()
        fg = theme().fg
        if mode == "tile":
            items = [(s, f"{layer[s]}.{unit[s]}") for s in range(len(layer))]
        elif mode.startswith("row"):
            items = [(s, long if mode == "row" else short) for s, long, short in self._row_texts(layer, unit, cells)]
        else:
            items = []
        for s, text in items:
            t = pg.TextItem(text, color=fg, anchor=(0, 1))
            t.setFont(font)
            r0, c0 = self._slots[s]
            t.setPos(c0, r0)
            self.view.addItem(t)
            self._labels.append(t)
        self._mode, self._gap, self._tile, self._cols = mode, gap, tile, cols
        self._shape = (rows * (tile + gap) + UNIT_TILE_GAP, cols * (tile + UNIT_TILE_GAP))
        self.view.setRange(QRectF(0, 0, self._shape[1], self._shape[0]), padding=0.02)

    def _on_resized(self, *_args) -> None:
        if self._key is None or self._last is None:
            return
        layer, unit, tile = self._key
        mode, gap, cols, _r = self._plan(np.asarray(layer), np.asarray(unit), tile)
        if (mode, gap, cols) != (self._mode, self._gap, self._cols):
            self._key = None
            self.set_maps(*self._last)

    def restyle(self) -> None:
        """Theme or text size changed: labels and background in the theme's colours and size."""
        self.empty.setColor(theme().fg)
        if self._last is not None:
            self._key = None
            self.set_maps(*self._last)

    @property
    def labels(self) -> list[str]:
        """The labels shown (for tests)."""
        return [t.toPlainText() for t in self._labels if t.isVisible()]

    def set_maps(self, maps, layer, unit, dead, hidden: str) -> None:
        n = len(maps)
        self._last = (maps, layer, unit, dead, hidden)
        self.empty.setVisible(n == 0)
        if n == 0:
            self.image.clear()
            for t in self._labels:
                t.setVisible(False)
            self.last_rgb = None
            return
        tile = maps.shape[1]
        key = (tuple(layer), tuple(unit), tile)
        if key != self._key:
            self._build(np.asarray(layer), np.asarray(unit), tile)
            self._key = key
        bg = pg.mkColor(theme().bg)
        rgb = np.empty((*self._shape, 3), np.uint8)
        rgb[...] = (bg.red(), bg.green(), bg.blue())
        lut = _DIV_LUT if hidden in SIGNED else _SEQ_LUT
        for lay in np.unique(layer):
            sel = np.flatnonzero(layer == lay)
            lo, hi = unit_levels(hidden, maps[sel])
            idx = np.clip(((maps[sel] - lo) / (hi - lo) * 255.0), 0, 255)
            colors = lut[np.nan_to_num(idx).astype(np.intp)]
            for s, c in zip(sel, colors):
                r0, c0 = self._slots[s]
                rgb[r0:r0 + tile, c0:c0 + tile] = c[::-1]      # row 0 of a map is the lowest x₂
        for t in self._labels:
            t.setVisible(True)
        if self._mode == "tile":            # a dead unit's label in the theme's "bad" colour
            th = theme()
            for t, is_dead in zip(self._labels, dead):
                color = th.bad if is_dead else th.fg
                if getattr(t, "_nnsim_color", None) != color:
                    t.setColor(color)
                    t._nnsim_color = color
        for s in np.flatnonzero(dead):     # dead units: a red frame around the tile
            r0, c0 = self._slots[s]
            rgb[r0:r0 + tile, c0:c0 + 2] = rgb[r0:r0 + tile, c0 + tile - 2:c0 + tile] = (200, 0, 0)
            rgb[r0:r0 + 2, c0:c0 + tile] = rgb[r0 + tile - 2:r0 + tile, c0:c0 + tile] = (200, 0, 0)
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        self.last_rgb = rgb
