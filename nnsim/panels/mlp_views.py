"""Views of the MLP panel: the decision-region grid (one heatmap per run) and the hidden-unit mosaic.

Both are single ``GraphicsLayoutWidget``s (one repaint for all runs or all units). They only
colour and place what the engine computed: region classes and confidences, unit activations.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QFont

from nnsim.widgets.plots import CLASS_COLORS, CLASS_SYMBOLS, TICK_PT, class_color

#: colours of the runs' curves and titles (Tol's bright scheme, distinct from the class colours)
RUN_COLORS = ("#4477AA", "#228833", "#CCBB44", "#EE6677", "#AA3377", "#222222")
UNIT_TILE_GAP = 4
UNIT_LABEL_GAP = 14      # image rows above each row of tiles for the "layer.unit" labels
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


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns) of the heatmap grid for n runs."""
    cols = 1 if n <= 1 else (2 if n <= 4 else 3)
    return math.ceil(n / cols), cols


class RegionGrid(pg.GraphicsLayoutWidget):
    """One decision-region heatmap per run with the training (filled) and test (hollow) points."""

    clicked = Signal(float, float, object)   # x, y, Qt mouse button

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self._train: list[pg.ScatterPlotItem] = []
        self._test: list[pg.ScatterPlotItem] = []
        self._titles: list[str] = []
        self._n = -1
        self._extent = None
        self.scene().sigMouseClicked.connect(self._on_clicked)

    def set_runs(self, n: int) -> None:
        if n == self._n:
            return
        self.clear()
        self.plots, self.images, self._train, self._test, self._titles = [], [], [], [], []
        rows, cols = grid_shape(n)
        font = QFont()
        font.setPointSize(TICK_PT - 1)
        for k in range(n):
            plot = self.addPlot(row=k // cols, col=k % cols)
            plot.setMenuEnabled(False)        # right click removes a point here
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setAspectLocked(True)
            for name in ("left", "bottom"):
                plot.getAxis(name).setTickFont(font)
                plot.getAxis(name).setPen(pg.mkPen("#555"))
                plot.getAxis(name).setTextPen(pg.mkPen("#222"))
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
        self._extent = None

    def set_points(self, X_train, y_train, X_test, y_test, extent) -> None:
        """Data points and the plotted area (call when the data change)."""
        ext = tuple(float(v) for v in extent)
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

    def set_region(self, k: int, rgb: np.ndarray) -> None:
        """Show ``rgb`` (G, G, 3), row 0 = the lowest x₂, over the data extent."""
        img = self.images[k]
        img.setImage(rgb, autoLevels=False, levels=(0, 255))
        if self._extent is not None:   # (after setImage: the rect is mapped through the image size)
            x0, x1, y0, y1 = self._extent
            img.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def set_title(self, k: int, html: str) -> None:
        if self._titles[k] != html:
            self.plots[k].setTitle(html, size=f"{TICK_PT}pt")
            self._titles[k] = html

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
    layer (wrapped at 8), labelled "layer.unit"; dead units (φ' = 0 on all training points) are
    marked."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.view = self.addViewBox(lockAspect=True, enableMouse=False)
        self.view.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self._labels: list[pg.TextItem] = []
        self._key = None
        self._per_tile = True
        self._slots: list[tuple[int, int]] = []
        self.empty = pg.TextItem("No hidden layer: the output units see the inputs directly.",
                                 color="#444", anchor=(0.5, 0.5))
        self.view.addItem(self.empty)
        self.last_rgb = None
        self._shape = (1, 1)
        self._tile = 1
        self._label_pt = 0
        self.view.sigResized.connect(self._fit_labels)

    def _layout(self, layer: np.ndarray, unit: np.ndarray, tile: int):
        """Top-left pixel of each tile: each layer starts a new row, 8 tiles per row."""
        slots, row, col, prev = [], -1, 0, None
        rstep, cstep = tile + UNIT_LABEL_GAP, tile + UNIT_TILE_GAP
        for lay in layer:
            if lay != prev or col == UNIT_COLUMNS:
                row += 1
                col = 0
                prev = lay
            slots.append((row * rstep + UNIT_LABEL_GAP, col * cstep))
            col += 1
        return slots, row + 1

    def _fit_labels(self, *_args) -> None:
        """Label font size for the tiles' size on screen: "1.16" must not run into the next tile's
        label when the mosaic is narrow (7–9 pt; row labels keep 8 pt)."""
        if not self._labels or not self._per_tile:
            return
        r = self.view.rect()
        scale = min(r.width() / max(self._shape[1], 1), r.height() / max(self._shape[0], 1)) / 1.04
        room = (self._tile + UNIT_TILE_GAP) * scale        # screen pixels from one label to the next
        pt = int(max(7, min(9, room / 4.2)))    # "1.16" with the text item's margins: ~4 px per pt
        if pt != self._label_pt:
            font = QFont()
            font.setPointSize(pt)
            for t in self._labels:
                t.setFont(font)
            self._label_pt = pt

    def set_maps(self, maps, layer, unit, dead, hidden: str) -> None:
        n = len(maps)
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
            self._slots, rows = self._layout(layer, unit, tile)
            for t in self._labels:
                self.view.removeItem(t)
            self._labels = []
            font = QFont()
            font.setPointSize(8)
            self._per_tile = n <= MAX_TILE_LABELS
            for s_, ((r0, c0), lay, u) in enumerate(zip(self._slots, layer, unit)):
                if not self._per_tile and c0 != 0:
                    continue            # many small tiles: one label per row of tiles
                if self._per_tile:
                    text = f"{lay}.{u}"
                else:
                    last = max(k for k in range(s_, n) if self._slots[k][0] == r0)
                    text = f"layer {lay}, units {u}–{unit[last]}"
                t = pg.TextItem(text, color="#111", anchor=(0, 1))
                t.setFont(font)
                t.setPos(c0, r0)
                self.view.addItem(t)
                self._labels.append(t)
            cols = min(UNIT_COLUMNS, max(np.bincount(layer).max(), 1))
            self._shape = (rows * (tile + UNIT_LABEL_GAP) + UNIT_TILE_GAP, cols * (tile + UNIT_TILE_GAP))
            self.view.setRange(QRectF(0, 0, self._shape[1], self._shape[0]), padding=0.02)
            self._key = key
            self._tile = tile
            self._label_pt = 0
            self._fit_labels()
        rgb = np.full((*self._shape, 3), 255, np.uint8)
        lut = _DIV_LUT if hidden in SIGNED else _SEQ_LUT
        for lay in np.unique(layer):
            sel = np.flatnonzero(layer == lay)
            lo, hi = unit_levels(hidden, maps[sel])
            idx = np.clip(((maps[sel] - lo) / (hi - lo) * 255.0), 0, 255)
            colors = lut[np.nan_to_num(idx).astype(np.intp)]
            for s, c in zip(sel, colors):
                r0, c0 = self._slots[s]
                rgb[r0:r0 + tile, c0:c0 + tile] = c[::-1]      # row 0 of a map is the lowest x₂
        if self._per_tile:
            for s, (t, is_dead) in enumerate(zip(self._labels, dead)):
                t.setVisible(True)
                text = f"{layer[s]}.{unit[s]}" + (" dead" if is_dead else "")
                if t.toPlainText() != text:
                    t.setText(text)
                    t.setColor("#C00000" if is_dead else "#111111")
        else:
            for t in self._labels:
                t.setVisible(True)
        for s in np.flatnonzero(dead):     # dead units: a red frame around the tile
            r0, c0 = self._slots[s]
            rgb[r0:r0 + tile, c0:c0 + 2] = rgb[r0:r0 + tile, c0 + tile - 2:c0 + tile] = (200, 0, 0)
            rgb[r0:r0 + 2, c0:c0 + tile] = rgb[r0 + tile - 2:r0 + tile, c0:c0 + tile] = (200, 0, 0)
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        self.last_rgb = rgb
