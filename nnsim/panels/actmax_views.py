"""Views of the feature-visualization panel: a row of captioned images, a drawing canvas.

Display only: images arrive as arrays from the snapshot; these widgets map them to grey levels (or
a blue-white-red map for signed weights) and draw them. No network math happens here.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTextOption
from PySide6.QtWidgets import QSizePolicy, QWidget

from nnsim.widgets.plots import TICK_PT, TITLE_PT, pt, theme

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


def set_text(label, text: str) -> None:
    """Set a QLabel's text only when it changes (rich text is laid out again on every set)."""
    if label.text() != text:
        label.setText(text)


def same(a, b) -> bool:
    """Equal values (arrays: same shape, type and bytes, so NaN equals NaN; a memory compare is
    several times cheaper than np.array_equal on the ascent's curves)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape \
                or a.dtype != b.dtype:
            return False
        return a.tobytes() == b.tobytes()
    return a == b


#: the margin (px) around an image cell's title and caption text
MARGIN = 1


def swatch(color: str) -> str:
    """A coloured ■ for rich text (the words after it stay in the theme's text colour: coloured
    words on the background often read below 4.5:1)."""
    return f"<span style='color:{color}'>■</span>"


def color_key(entries) -> str:
    """A key for a plot's title instead of a legend over the data: "■ name" per (colour, name);
    it wraps between entries, never inside one."""
    return " &nbsp; ".join(f"{swatch(c)}&nbsp;{name.replace(' ', '&nbsp;')}" for c, name in entries)


class CellLabel(pg.LabelItem):
    """A title or caption of an :class:`ImageRow` cell: rich text in the theme's colour at
    ``pt(base_pt)``, wrapped (centred) to the width the grid gives it. It never sets a minimum
    size (the grid places it), and tells the grid when a new text needs another height."""

    _wrap = -1.0
    _on_height = None
    _height = -1.0

    def __init__(self, text: str, base_pt: float, on_height=None):
        super().__init__("", size=pt(base_pt), color=theme().fg)
        # (plots.restyle_view rescales stray labels from this base: the current scale is not in it)
        self._nnsim_base_pt = float(base_pt)
        opt = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        opt.setWrapMode(QTextOption.WrapMode.WordWrap)
        self.item.document().setDefaultTextOption(opt)
        self.item.document().setDocumentMargin(MARGIN)
        self._height = -1.0
        self._on_height = on_height
        self.setText(text)

    def height_at(self, width: float) -> float:
        """The text's height wrapped to ``width`` px (0 for no text)."""
        if not self.text:
            return 0.0
        self.item.setTextWidth(max(20.0, width))
        h = self.item.boundingRect().height()
        self.item.setTextWidth(self._wrap)
        return h

    def natural_width(self) -> float:
        self.item.setTextWidth(-1)
        w = self.item.boundingRect().width()
        self.item.setTextWidth(self._wrap)
        return w

    def set_wrap(self, width: float) -> None:
        self._wrap = max(20.0, float(width))
        self.item.setTextWidth(self._wrap)
        self._height = self.item.boundingRect().height() if self.text else 0.0

    def updateMin(self):  # noqa: N802 - pyqtgraph name
        self.item.setTextWidth(self._wrap)
        self.setMinimumSize(0, 0)
        self._sizeHint = {hint: (0, 0) for hint in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize,
                                                     Qt.SizeHint.MinimumDescent)}
        self._sizeHint[Qt.SizeHint.MaximumSize] = (-1, -1)
        h = self.item.boundingRect().height() if self.text else 0.0
        if abs(h - self._height) > 0.5:
            self._height = h
            if self._on_height is not None:
                self._on_height()

    def resizeEvent(self, ev):  # noqa: N802 - Qt name
        self.item.setTextWidth(self._wrap)
        self.item.setPos(0, 0)


class _Grid(pg.GraphicsLayout):
    """The central item of an :class:`ImageRow`: places the cells itself (see :meth:`reflow`)."""

    _row = None
    _queued = False

    def __init__(self, row: "ImageRow"):
        super().__init__()
        self._row = row

    def resizeEvent(self, ev):  # noqa: N802 - Qt name
        self.reflow()

    def queue_reflow(self) -> None:
        if not self._queued:
            self._queued = True
            QTimer.singleShot(0, self._queued_reflow)

    def _queued_reflow(self) -> None:
        self._queued = False
        try:
            self.reflow()
        except RuntimeError:  # deleted meanwhile
            pass

    def reflow(self) -> None:
        """Lay the cells out at the current size (the exports call it directly, no event loop)."""
        if self._row is not None:
            self._row._place(self.geometry().width(), self.geometry().height())


class ImageRow(pg.GraphicsLayoutWidget):
    """Images side by side, each with a title above and a caption (rich text) below; set each with
    an RGB uint8 array (rows top-down).

    The cells reflow to the view's size: as many columns as make the images largest (at most
    ``cols``, or one of ``col_choices``), the rows below one another, titles and captions wrapped to
    the column's width. Nothing is ever cut; a narrow view gets fewer, larger columns."""

    PAD = 4
    GAP = 6

    def __init__(self, titles, cols: int | None = None, caption_rows: int = 2, parent=None,
                 col_choices=None):
        super().__init__(parent)
        self.setBackground(theme().bg)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(180, 140)
        self.titles: list[CellLabel] = []
        self.captions: list[CellLabel] = []
        self.images: list[pg.ImageItem] = []
        self.views: list[pg.ViewBox] = []
        self._caption_rows = caption_rows
        self.cols = cols or len(titles)
        self._col_choices = tuple(col_choices) if col_choices else None
        self.columns = 0            # the number of columns now shown
        self._placed = None
        self.ci = _Grid(self)
        self.setCentralItem(self.ci)
        self.set_titles(titles)

    # ---- cells
    def set_titles(self, titles) -> None:
        """Rebuild the cells when their number changes; otherwise only retitle them."""
        titles = list(titles)
        if len(titles) != len(self.images):
            scene = self.scene()
            for item in self.titles + self.captions + self.views:
                scene.removeItem(item)
            self.titles, self.captions, self.images, self.views = [], [], [], []
            if self._col_choices is None:
                self.cols = max(1, min(self.cols, len(titles))) if titles else 1
            for text in titles:
                title = CellLabel(text, TITLE_PT - 1, on_height=self.ci.queue_reflow)
                title.setParentItem(self.ci)
                vb = pg.ViewBox(lockAspect=True, enableMouse=False, invertY=True, enableMenu=False)
                vb.setParentItem(self.ci)
                img = pg.ImageItem(axisOrder="row-major")
                vb.addItem(img)
                cap = CellLabel("", TICK_PT, on_height=self.ci.queue_reflow)
                cap.setParentItem(self.ci)
                self.titles.append(title)
                self.views.append(vb)
                self.images.append(img)
                self.captions.append(cap)
            self._placed = None
            self.ci.reflow()
        for lab, text in zip(self.titles, titles):
            if lab.text != text:
                lab.setText(text)

    def set_rgb(self, k: int, rgb: np.ndarray) -> None:
        """Show ``rgb`` in cell k (the same picture again is not set: each set redraws the image)."""
        img = self.images[k]
        if img.image is not None and img.image.shape == rgb.shape and np.array_equal(img.image, rgb):
            return
        first = img.image is None or img.image.shape[:2] != rgb.shape[:2]
        img.setImage(rgb, levels=(0, 255))
        if first:
            self.views[k].autoRange(padding=0.02)
            self.ci.queue_reflow()  # (another aspect ratio may want other columns)

    def clear_image(self, k: int) -> None:
        """Show no picture in cell k (its title and caption stay)."""
        img = self.images[k]
        if img.image is not None:
            img.clear()

    def set_caption(self, k: int, html: str) -> None:
        """The caption under image k, in the theme's colour at the caption size (unchanged text
        is not set again)."""
        cap = self.captions[k]
        if cap.text != html:
            cap.setText(html)

    def image_data(self, k: int) -> np.ndarray | None:
        return self.images[k].image

    # ---- layout
    def _aspects(self) -> list[tuple[float, float]]:
        out = []
        for img in self.images:
            if img.image is None:
                out.append((1.0, 1.0))
            else:
                h, w = img.image.shape[:2]
                m = float(max(h, w, 1))
                out.append((w / m, h / m))
        return out

    def _choices(self, n: int):
        if self._col_choices is not None:
            return [c for c in self._col_choices if 1 <= c <= n] or [1]
        return list(range(1, min(self.cols, n) + 1))

    def _plan(self, c: int, W: float, H: float, aspects):
        """(score, column width, image height, title and caption height per row) for c columns."""
        n = len(self.images)
        rows = -(-n // c)
        cw = (W - 2 * self.PAD - (c - 1) * self.GAP) / c
        th = [t.height_at(cw) for t in self.titles]
        ch = [t.height_at(cw) for t in self.captions]
        row_t = [max(th[r * c:(r + 1) * c]) for r in range(rows)]
        row_c = [max(ch[r * c:(r + 1) * c]) for r in range(rows)]
        ih = (H - 2 * self.PAD - (rows - 1) * self.GAP - sum(row_t) - sum(row_c)) / rows
        side = min(min(cw / aw, ih / ah) for aw, ah in aspects) if ih > 0 and cw > 0 else min(ih, cw)
        # (text broken inside a line reads worse: such a layout must have clearly larger images)
        wraps = any(t.natural_width() > cw for t in self.titles + self.captions if t.text)
        score = side * (0.85 if wraps else 1.0)
        # (no taller than the widest image needs: the rest goes between the rows)
        ih = max(1.0, min(ih, max(cw * ah / aw for aw, ah in aspects))) if ih > 0 else max(1.0, ih)
        return score, cw, ih, row_t, row_c

    def _place(self, W: float, H: float) -> None:
        n = len(self.images)
        if not n or W < 20 or H < 20:
            return
        aspects = self._aspects()
        best = None
        # more columns (fewer rows, as the cells were meant to be read) unless fewer make the
        # images clearly (10 %) larger
        for c in sorted(self._choices(n), reverse=True):
            plan = self._plan(c, W, H, aspects)
            if best is None or plan[0] > 1.1 * best[1][0] + 0.5:
                best = (c, plan)
        c, (_score, cw, ih, row_t, row_c) = best
        rows = len(row_t)
        used = 2 * self.PAD + (rows - 1) * self.GAP + sum(row_t) + sum(row_c) + rows * ih
        extra = max(0.0, H - used) / (rows + 1)
        key = (c, round(W), round(H), round(cw), round(ih), tuple(round(v) for v in row_t + row_c))
        if key == self._placed:
            return
        self._placed = key
        self.columns = c
        y = self.PAD + extra
        for r in range(rows):
            ks = range(r * c, min(n, (r + 1) * c))
            x0 = self.PAD + (c - len(ks)) * (cw + self.GAP) / 2  # a short last row is centred
            for j, k in enumerate(ks):
                x = x0 + j * (cw + self.GAP)
                self.titles[k].set_wrap(cw)
                self.titles[k].setGeometry(QRectF(x, y, cw, row_t[r]))
                self.views[k].setGeometry(QRectF(x, y + row_t[r], cw, ih))
                self.captions[k].set_wrap(cw)
                self.captions[k].setGeometry(QRectF(x, y + row_t[r] + ih, cw, row_c[r]))
            y += row_t[r] + ih + row_c[r] + self.GAP + extra


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


class SquareHolder(QWidget):
    """Holds one widget (the drawing canvas) as the largest square that fits, up to ``max_side``
    px, centred horizontally at the top: the canvas shrinks on a small screen instead of pushing
    the feature maps out of the window."""

    def __init__(self, child: QWidget, min_side: int = 140, max_side: int = 320, parent=None):
        super().__init__(parent)
        self.child, self.max_side = child, max_side
        child.setParent(self)
        child.setMinimumSize(60, 60)
        self.setMinimumSize(min_side, min_side)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def sizeHint(self):  # noqa: N802 - Qt name
        return QSize(self.max_side, self.max_side)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt name
        return max(self.minimumHeight(), min(width, self.max_side))

    def resizeEvent(self, ev):  # noqa: N802 - Qt name
        side = max(1, min(self.width(), self.height(), self.max_side))
        self.child.setGeometry((self.width() - side) // 2, 0, side, side)
