"""Views of the feature-visualization panel: a row of captioned images, a drawing canvas.

Display only: images arrive as arrays from the snapshot; these widgets map them to grey levels (or
a blue-white-red map for signed weights) and draw them. No network math happens here.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from nnsim.widgets.plots import TITLE_PT

#: colour of the gaps between tiles and of missing (diverged) images: a neutral mid-grey. It has no
#: hue, so in the blue-white-red weight map it cannot pass for a weight (the former blue read as
#: negative weights), and between the black-to-white activation tiles it makes a plain grid
GAP_RGB = (128, 128, 128)


def gray_rgb(img: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(h, w) → (h, w, 3) uint8: lo → black, hi → white, NaN → the gap colour."""
    img = np.asarray(img, dtype=np.float64)
    span = hi - lo if hi > lo else 1.0
    v = np.clip((np.nan_to_num(img, nan=lo) - lo) / span, 0.0, 1.0)
    out = np.repeat((255 * v + 0.5).astype(np.uint8)[:, :, None], 3, axis=2)
    out[np.isnan(img)] = GAP_RGB
    return out


def diverging_rgb(img: np.ndarray, scale: float) -> np.ndarray:
    """(h, w) → (h, w, 3) uint8: −scale blue, 0 white, +scale red; NaN → the gap colour."""
    img = np.asarray(img, dtype=np.float64)
    t = np.clip(np.nan_to_num(img) / (scale if scale > 0 else 1.0), -1.0, 1.0)
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    r = 255 * (1 - neg * 0.8)
    g = 255 * (1 - 0.8 * (pos + neg))
    b = 255 * (1 - pos * 0.8)
    out = np.stack([r, g, b], axis=-1).round().astype(np.uint8)
    out[np.isnan(img)] = GAP_RGB
    return out


def finite_range(*arrays, symmetric: bool = False) -> tuple[float, float]:
    """(lo, hi) over the finite values of the arrays ((0, 1) when there are none)."""
    vals = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    v = np.concatenate(vals) if vals else np.zeros(0)
    v = v[np.isfinite(v)]
    if not v.size:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    if symmetric:
        m = max(abs(lo), abs(hi), 1e-12)
        return -m, m
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


class ImageRow(pg.GraphicsLayoutWidget):
    """Images side by side (or in a grid of ``cols`` columns), each with a title above and a
    caption (rich text) below. Set each with an RGB uint8 array (rows top-down)."""

    def __init__(self, titles, cols: int | None = None, caption_rows: int = 2, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.titles: list[pg.LabelItem] = []
        self.captions: list[pg.LabelItem] = []
        self.images: list[pg.ImageItem] = []
        self.views: list[pg.ViewBox] = []
        self._caption_rows = caption_rows
        self.cols = cols or len(titles)
        self.set_titles(titles)

    def set_titles(self, titles) -> None:
        """Rebuild the cells when their number changes; otherwise only retitle them."""
        titles = list(titles)
        if len(titles) != len(self.images):
            self.clear()
            self.titles, self.captions, self.images, self.views = [], [], [], []
            for k, text in enumerate(titles):
                r, c = divmod(k, self.cols)
                title = pg.LabelItem(text, size=f"{TITLE_PT - 1}pt", color="#111")
                self.addItem(title, row=3 * r, col=c)
                vb = self.addViewBox(row=3 * r + 1, col=c, lockAspect=True, enableMouse=False,
                                     invertY=True)
                vb.setMenuEnabled(False)
                img = pg.ImageItem(axisOrder="row-major")
                vb.addItem(img)
                cap = pg.LabelItem("", size="11pt", color="#222")
                self.addItem(cap, row=3 * r + 2, col=c)
                self.titles.append(title)
                self.views.append(vb)
                self.images.append(img)
                self.captions.append(cap)
        for lab, text in zip(self.titles, titles):
            lab.setText(text)

    def set_rgb(self, k: int, rgb: np.ndarray) -> None:
        img = self.images[k]
        first = img.image is None or img.image.shape[:2] != rgb.shape[:2]
        img.setImage(rgb, levels=(0, 255))
        if first:
            self.views[k].autoRange(padding=0.02)

    def set_caption(self, k: int, html: str) -> None:
        self.captions[k].setText(html)

    def image_data(self, k: int) -> np.ndarray | None:
        return self.images[k].image


class DrawCanvas(QWidget):
    """A square canvas 4x finer than the network's input: the left button paints a soft round brush,
    the right button erases. ``drawn(image)`` carries the input-sized image (4x4 block means in
    [0, 1], as scikit-learn's digits were made from 32x32 bitmaps) at most every 40 ms while
    drawing and once more when the button is released."""

    drawn = Signal(object)
    FACTOR = 4

    def __init__(self, size=(8, 8), parent=None):
        super().__init__(parent)
        self.setMinimumSize(180, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a digit with the left mouse button; the right button erases.")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self._emit)
        self._mode = 0  # 1 paint, -1 erase, 0 idle
        self._last: QPointF | None = None
        self.set_size(size)

    def set_size(self, size) -> None:
        h, w = (int(v) for v in size)
        self.input_shape = (h, w)
        self.canvas = np.zeros((h * self.FACTOR, w * self.FACTOR))
        self.radius = 1.3 * self.FACTOR * max(h, w) / 16.0 + 0.6
        self.update()

    def set_image(self, image) -> None:
        """Show an input-sized image (e.g. a test digit) as the canvas content, to draw over."""
        img = np.asarray(image, dtype=np.float64).reshape(self.input_shape)
        self.canvas = np.kron(np.clip(img, 0, 1), np.ones((self.FACTOR, self.FACTOR)))
        self.update()

    def clear(self) -> None:
        self.canvas[:] = 0.0
        self.update()
        self.drawn.emit(self.image())

    def image(self) -> np.ndarray:
        f = self.FACTOR
        h, w = self.input_shape
        return self.canvas.reshape(h, f, w, f).mean(axis=(1, 3))

    # ---- geometry
    def _cell(self) -> float:
        ch, cw = self.canvas.shape
        return min(self.width() / cw, self.height() / ch)

    def _to_canvas(self, pos: QPointF) -> tuple[float, float]:
        s = self._cell()
        return pos.y() / s, pos.x() / s

    def _dab(self, r: float, c: float) -> None:
        ch, cw = self.canvas.shape
        rr, cc = np.mgrid[0:ch, 0:cw]
        d = np.hypot(rr + 0.5 - r, cc + 0.5 - c)
        ink = np.clip(self.radius + 0.5 - d, 0.0, 1.0)
        if self._mode > 0:
            np.maximum(self.canvas, ink, out=self.canvas)
        else:
            self.canvas *= 1.0 - ink

    def _stroke(self, pos: QPointF) -> None:
        r1, c1 = self._to_canvas(pos)
        if self._last is None:
            self._dab(r1, c1)
        else:
            r0, c0 = self._to_canvas(self._last)
            n = max(1, int(np.hypot(r1 - r0, c1 - c0) / 0.5))
            for t in np.linspace(0, 1, n + 1)[1:]:
                self._dab(r0 + t * (r1 - r0), c0 + t * (c1 - c0))
        self._last = pos
        self.update()
        if not self._timer.isActive():
            self._timer.start()

    # ---- events
    def mousePressEvent(self, ev):  # noqa: N802
        self._mode = 1 if ev.button() == Qt.MouseButton.LeftButton else -1
        self._last = None
        self._stroke(ev.position())

    def mouseMoveEvent(self, ev):  # noqa: N802
        if self._mode:
            self._stroke(ev.position())

    def mouseReleaseEvent(self, ev):  # noqa: N802
        if self._mode:
            self._stroke(ev.position())
            self._mode = 0
            self._last = None
            self._timer.stop()
            self._emit()

    def _emit(self) -> None:
        self.drawn.emit(self.image())

    def paintEvent(self, _ev):  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(*GAP_RGB))
        ch, cw = self.canvas.shape
        s = self._cell()
        g = (255 * np.clip(self.canvas, 0, 1)).astype(np.uint8)
        g = np.ascontiguousarray(g)
        qimg = QImage(g.data, cw, ch, cw, QImage.Format.Format_Grayscale8)
        p.drawImage(self.rect().adjusted(0, 0, int(cw * s) - self.width(), int(ch * s) - self.height()),
                    qimg)
        p.setPen(QPen(QColor(90, 90, 90), 1))
        h, w = self.input_shape
        for k in range(1, w):
            x = int(k * self.FACTOR * s)
            p.drawLine(x, 0, x, int(ch * s))
        for k in range(1, h):
            y = int(k * self.FACTOR * s)
            p.drawLine(0, y, int(cw * s), y)
        p.end()
