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
from PySide6.QtWidgets import QGraphicsItem

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
_FADE = (255.0 - _CLASS_RGB).astype(np.float32)     # (region_rgb)


def region_rgb(cls: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(G, G, 3) uint8: the predicted class's colour, paler where the network is less sure."""
    # (in place, float32 throughout: the same numbers as 255 − (255 − base)·k, in half the time)
    cls = np.asarray(cls)
    if not (cls.dtype.kind == "u" and cls.max(initial=0) < len(_FADE)):
        cls = cls.astype(np.intp) % len(_FADE)
    k = np.asarray(conf, dtype=np.float32) * np.float32(0.5) + np.float32(0.12)
    out = _FADE[cls]
    out *= k[..., None]
    np.subtract(np.float32(255.0), out, out=out)
    return out.astype(np.uint8)


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
        self._rects: list = []         # per run: (extent, image shape) the image was placed for
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
            for name in ("left", "bottom"):   # (their ticks reach into the heatmap, which changes
                # every frame: the axes are copied from a pixmap instead of drawn again)
                plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            img = pg.ImageItem(axisOrder="row-major")
            img.setZValue(-10)
            plot.addItem(img)
            tr = pg.ScatterPlotItem(size=7, pen=pg.mkPen("#222", width=0.7))
            te = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(255, 255, 255, 230))
            tr.setZValue(5)
            te.setZValue(6)
            for item in (tr, te):   # (the points stay while the heatmap under them changes every
                # frame: painted from a pixmap instead of symbol by symbol)
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.addItem(tr)
            plot.addItem(te)
            self.plots.append(plot)
            self.images.append(img)
            self._train.append(tr)
            self._test.append(te)
            self._titles.append("")
        self._n = n
        self._grids = [None] * n
        self._rects = [None] * n
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

    def paintEvent(self, ev):  # noqa: N802 - Qt name
        # A heatmap's own rows (title, axes) changed while the grid did not change its size are
        # never laid out again by Qt (the request goes to the grid, which gives the plot the same
        # rectangle): seen as a two-line title drawn over the axes until the next resize. Lay out
        # what is stale before it is painted (a few plots; nothing to do on almost every frame).
        for plot in self.plots:
            if not plot.layout.isActivated():
                plot.layout.activate()
        super().paintEvent(ev)

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
        # (uint8 RGB without levels goes to the screen as it is: levels (0, 255) made pyqtgraph
        # rescale every pixel again on every paint)
        img.setImage(rgb, autoLevels=False)
        rect = (self._extent, rgb.shape[:2])
        if self._extent is not None and rect != self._rects[k]:   # (after setImage: mapped through its size)
            x0, x1, y0, y1 = self._extent
            img.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            self._rects[k] = rect
        if cls is not None:
            self._grids[k] = (cls, conf)
        if name is not None:
            self._run_names[k] = name

    def title(self, k: int) -> str:
        """The title set on heatmap k ("" before the first)."""
        return self._titles[k]

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


def _rgba32(*rgb) -> np.ndarray:
    """Opaque colours (…, 3) as one 32-bit word each, laid out R, G, B, A in memory."""
    c = np.asarray(rgb, np.uint8).reshape(-1, 3)
    out = np.concatenate([c, np.full((len(c), 1), 255, np.uint8)], axis=1)
    return out.view(np.uint32).ravel() if len(c) > 1 else out.view(np.uint32)[0, 0]


_DIV_LUT32, _SEQ_LUT32 = _rgba32(_DIV_LUT), _rgba32(_SEQ_LUT)
_RED32 = _rgba32(200, 0, 0)
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
        self._drawn = None             # (layout key, background) of the mosaic shown
        self._tile_rows: list[tuple[int, int, int]] = []    # (see _index_mosaic)
        self._frame = (np.zeros(0, np.intp),) * 2
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
        self._index_mosaic(len(layer), tile)
        self.view.setRange(QRectF(0, 0, self._shape[1], self._shape[0]), padding=0.02)

    def _index_mosaic(self, n: int, tile: int) -> None:
        """What set_maps needs to fill the mosaic with a few array copies: each row of tiles as
        (first image row, first unit, units in it), and the pixels of every tile's 2-pixel frame
        (red for a dead unit) as flat indices into the mosaic with the unit they belong to."""
        rows = {}
        for s, (r0, c0) in enumerate(self._slots):
            first, k = rows.get(r0, (s, 0))
            rows[r0] = (first, k + 1)
        self._tile_rows = [(r0, s0, k) for r0, (s0, k) in rows.items()]
        frame = np.zeros((tile, tile), bool)
        frame[:2, :] = frame[-2:, :] = frame[:, :2] = frame[:, -2:] = True
        fr, fc = np.nonzero(frame)
        W = self._shape[1]
        pixels = [(fr + r0) * W + fc + c0 for r0, c0 in self._slots]
        self._frame = (np.concatenate(pixels) if pixels else np.zeros(0, np.intp),
                       np.repeat(np.arange(len(self._slots)), len(fr)))

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
        last, self._last = self._last, (maps, layer, unit, dead, hidden)
        if last is not None and all(a is b for a, b in zip(last, self._last)) and self._drawn == (self._key, theme().bg):
            return      # (the same snapshot drawn again: a tab shown, a restyle of nothing here)
        self.empty.setVisible(n == 0)
        if n == 0:
            self.image.clear()
            for t in self._labels:
                t.setVisible(False)
            self.last_rgb = self._drawn = None
            return
        tile = maps.shape[1]
        key = (tuple(layer), tuple(unit), tile)
        if key != self._key:
            self._build(np.asarray(layer), np.asarray(unit), tile)
            self._key = key
        bg = pg.mkColor(theme().bg)
        lut = _DIV_LUT32 if hidden in SIGNED else _SEQ_LUT32
        # every tile's colour index (each layer on its own colour range) → 32-bit RGBA pixels,
        # then each row of tiles copied into the mosaic at once
        codes = np.empty(maps.shape, np.uint8)
        layer = np.asarray(layer)
        for lay in np.unique(layer):
            sel = np.flatnonzero(layer == lay)
            lo, hi = unit_levels(hidden, maps[sel])
            with np.errstate(invalid="ignore"):
                idx = np.clip((maps[sel] - lo) * (255.0 / (hi - lo)), 0, 255)
            codes[sel] = np.nan_to_num(idx)
        tiles = lut[codes][:, ::-1]                 # (row 0 of a map is the lowest x₂)
        H, W = self._shape
        mosaic = np.full((H, W), _rgba32(bg.red(), bg.green(), bg.blue()), np.uint32)
        pitch = tile + UNIT_TILE_GAP
        for r0, s0, k in self._tile_rows:
            block = mosaic[r0:r0 + tile, :k * pitch].reshape(tile, k, pitch)
            block[:, :, :tile] = tiles[s0:s0 + k].transpose(1, 0, 2)
        if np.any(dead):                   # dead units: a red frame around the tile
            pixels, owner = self._frame
            mosaic.ravel()[pixels[np.asarray(dead, bool)[owner]]] = _RED32
        rgba = mosaic.view(np.uint8).reshape(H, W, 4)
        rgb = rgba[..., :3]
        for t in self._labels:
            t.setVisible(True)
        if self._mode == "tile":            # a dead unit's label in the theme's "bad" colour
            th = theme()
            for t, is_dead in zip(self._labels, dead):
                color = th.bad if is_dead else th.fg
                if getattr(t, "_nnsim_color", None) != color:
                    t.setColor(color)
                    t._nnsim_color = color
        # (uint8 RGBA, opaque, without levels: drawn as it is, no rescaling per paint)
        self.image.setImage(rgba, autoLevels=False)
        self.last_rgb = rgb
        self._drawn = (self._key, theme().bg)
