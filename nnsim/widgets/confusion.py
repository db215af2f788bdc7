"""Confusion matrices drawn for a projector: one heat map per data set, side by side, with the count
in every cell and the accuracy in the title.

Rows are the true classes (0 at the top), columns the predicted ones. A cell's colour is its share
of the row (M[i, j] / Σ_j M[i, j]): the diagonal (correct) in blue, the mistakes in orange, white
for none, so the pairs a classifier mixes up stand out whatever the class sizes. Hovering a cell
says what it counts. The matrices arrive as counts from the engine; nothing is computed here but
the colours.

Data export: every matrix also holds one invisible data item per true class (x = predicted class,
y = count), so File > Export figure… as CSV and the lab report write the counts;
:meth:`ConfusionView.write_csv` writes them as a plain table.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QCursor, QFont
from PySide6.QtWidgets import QSizePolicy, QToolTip

from nnsim.widgets.plots import TICK_PT, TITLE_PT, FitLabel, contrast_ratio, pt, text_scale, theme

_WHITE = np.array([255.0, 255.0, 255.0])
_RIGHT = np.array([0.0, 114.0, 178.0])    # Okabe–Ito blue: correct (the diagonal)
_WRONG = np.array([213.0, 94.0, 0.0])     # Okabe–Ito vermillion: mistakes
HELP = ("Rows: the true class; columns: the class predicted. Diagonal (blue): correctly classified; "
        "any other cell (orange): samples of the row's class taken for the column's class. Colour: "
        "share of the row, so each class counts the same however many samples it has.")


def cell_rgb(matrix, bg=None) -> tuple[np.ndarray, np.ndarray]:
    """(K, K, 3) uint8 colours of a confusion matrix and the (K, K) tint in [0, 1] of each cell:
    tint = 0.3 + 0.7 · share of the row for a non-empty cell (so one mistake among many is still
    visible), 0 for an empty one. An empty cell has the background colour ``bg`` (white by
    default; the theme's plot background on screen)."""
    M = np.asarray(matrix, dtype=np.float64)
    sums = M.sum(axis=1, keepdims=True)
    share = np.divide(M, sums, out=np.zeros_like(M), where=sums > 0)
    tint = np.where(M > 0, 0.3 + 0.7 * share, 0.0)
    K = M.shape[0]
    diag = np.eye(K, dtype=bool)
    base = np.where(diag[..., None], _RIGHT, _WRONG)
    empty = _WHITE if bg is None else np.array(QColor(bg).getRgb()[:3], dtype=np.float64)
    rgb = empty + (base - empty) * tint[..., None]
    return np.round(rgb).astype(np.uint8), tint


def text_colors(matrix, rgb) -> list[str]:
    """The colour of each cell's count (row-major): whichever of black, white and the theme's text
    colour reads best on the cell (WCAG contrast); an empty cell's 0 in the theme's secondary text
    colour (≥ 4.5:1 on the background), so that the counts that matter stand out."""
    th = theme()
    M = np.asarray(matrix)
    out = []
    K = M.shape[0]
    for i in range(K):
        for j in range(K):
            if M[i, j] == 0:
                out.append(th.muted)
                continue
            cell = QColor(*(int(v) for v in rgb[i, j]))
            out.append(max(("#000000", "#ffffff", th.fg), key=lambda c: contrast_ratio(c, cell)))
    return out


class _Title(FitLabel):
    """A heading or a matrix title: wraps to the width it is given (never pushes the matrix beside
    it out of the view), in the theme's text colour at ``pt(TICK_PT)`` (restyled with the theme)."""

    def __init__(self, text: str = "", base_pt: float = TICK_PT):
        super().__init__(text, size=pt(base_pt), color=theme().fg)
        self._nnsim_base_pt = float(base_pt)
        # (no taller than its text: the height left over goes to the matrix)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)


def accuracy_text(matrix) -> str:
    """"95.0 % (133/140)", or "no samples"."""
    M = np.asarray(matrix)
    total = int(M.sum())
    if not total:
        return "no samples"
    right = int(np.trace(M))
    return f"{100.0 * right / total:.1f} % ({right}/{total})"


class _Matrix:
    """The items of one matrix: its title label and the items inside its PlotItem."""

    def __init__(self, plot: pg.PlotItem, label: _Title, name: str, empty_text: str):
        self.plot, self.label, self.name, self.empty_text = plot, label, name, empty_text
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.texts: list[pg.TextItem] = []
        self.rows: list[pg.PlotDataItem] = []     # one data item per true class (for CSV export)
        self.empty = pg.TextItem(empty_text, color=theme().muted, anchor=(0.5, 0.5))
        plot.addItem(self.empty)
        self.empty.setVisible(False)
        self.matrix: np.ndarray | None = None
        self.labels: list[str] = []
        self.title = ""
        self.font_px = 0            # the cell counts' font size now (follows the cell size)


class ConfusionView(pg.GraphicsLayoutWidget):
    """Confusion matrices side by side (``names``, e.g. ("Training set", "Test set")), a heading
    above them; :meth:`set_matrix` shows one."""

    #: the View menu calls :meth:`restyle` after a theme or text-size change
    nnsim_themed = True

    def __init__(self, names=("Training set", "Test set"), empty_text: str = "no samples", parent=None):
        super().__init__(parent)
        th = theme()
        self.setBackground(th.bg)
        self.setToolTip(HELP)
        self.heading = _Title("")
        self.addItem(self.heading, row=0, col=0, colspan=len(names))
        self._mats: list[_Matrix] = []
        tick_font = QFont()
        tick_font.setPointSizeF(TICK_PT * text_scale())
        for k, name in enumerate(names):
            label = _Title("")
            self.addItem(label, row=1, col=k)
            plot = self.addPlot(row=2, col=k)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setAspectLocked(True)
            plot.invertY(True)                  # true class 0 on top, as a printed table
            plot.disableAutoRange()
            # (plots.restyle_plot gives the labels the theme's colour and the scaled size)
            style = {"font-size": pt(TICK_PT), "color": th.fg}
            plot.setLabel("left", "true", **style)  # (short: a small matrix must not be cut by its label;
            plot.setLabel("bottom", "predicted", **style)  # the tooltip and title say "class")
            for side in ("left", "bottom"):
                ax = plot.getAxis(side)
                ax.setTickFont(tick_font)
                ax.setPen(pg.mkPen(th.fg))
                ax.setTextPen(pg.mkPen(th.fg))
            m = _Matrix(plot, label, name, empty_text)
            plot.getViewBox().sigResized.connect(lambda _vb, m=m: self._fit_font(m))
            self._mats.append(m)
        self.ci.layout.setRowStretchFactor(2, 1)
        self._cell_tip = False
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # ---- theme ---------------------------------------------------------------------------------
    def restyle(self) -> None:
        """Recolour the cells and counts for the current theme; refit the counts' font."""
        self.setBackground(theme().bg)
        for m in self._mats:
            m.empty.setColor(theme().muted)
            if m.matrix is not None:
                self._colour(m)
            m.font_px = 0
            self._fit_font(m)

    def _colour(self, m: _Matrix) -> None:
        M = m.matrix
        rgb, _tint = cell_rgb(M, theme().bg)
        m.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        m.image.setRect(QRectF(-0.5, -0.5, M.shape[0], M.shape[0]))
        for t, c in zip(m.texts, text_colors(M, rgb)):
            t.setColor(c)

    def _fit_font(self, m: _Matrix) -> None:
        """The counts as large as the cells allow (bold, at most the title size), never spilling over
        into the next cell: the font follows the view's size, not a fixed point size."""
        if not m.texts:
            return
        K = len(m.labels)
        vb = m.plot.getViewBox()
        cell = min(vb.width(), vb.height()) / max(K, 1)
        digits = max(1, len(str(int(m.matrix.max())))) if m.matrix is not None and m.matrix.size else 1
        largest = (TITLE_PT + 1) * text_scale() * 96.0 / 72.0
        px = int(max(7.0, min(largest, 0.5 * cell, 0.9 * cell / (0.62 * digits))))
        if px == m.font_px:
            return
        m.font_px = px
        font = QFont()
        font.setPixelSize(px)
        font.setBold(True)
        for t in m.texts:
            t.setFont(font)

    # ---- content -------------------------------------------------------------------------------
    def _sync_size(self) -> None:
        """Lay the scene out at the widget's size now. A view in a tab never shown gets its resize
        event only when shown, so an export of it (the lab report) would draw the old layout, cut
        at the widget's edge."""
        w, h = self.width(), self.height()
        if w > 0 and h > 0 and (self.range.width(), self.range.height()) != (w, h):
            pg.GraphicsView.setRange(self, QRectF(0, 0, w, h), padding=0, disableAutoPixel=False)

    def set_heading(self, html: str) -> None:
        if self.heading.text != html:
            self.heading.setText(html)
        self._sync_size()

    def set_matrix(self, k: int, matrix, labels=None, name: str | None = None) -> None:
        """Show ``matrix`` (K, K counts; row = true class) as matrix k. ``labels`` name the classes
        (default 0 .. K − 1); ``name`` replaces the title's prefix."""
        self._sync_size()
        m = self._mats[k]
        M = np.asarray(matrix, dtype=np.int64)
        K = M.shape[0]
        labels = [str(c) for c in (labels if labels is not None else range(K))]
        if name is not None:
            m.name = name
        # (one line where there is room: the title wraps to the matrix's width, so two matrices
        # side by side still fit in a tab of about 400 px)
        title = f"{m.name}: {accuracy_text(M)}" if M.sum() else f"{m.name}: –"
        if title != m.title:
            m.label.setText(title)
            m.title = title
        if m.matrix is not None and m.matrix.shape == M.shape and np.array_equal(m.matrix, M) \
                and labels == m.labels:
            return
        if m.matrix is None or m.matrix.shape != M.shape or labels != m.labels:
            self._layout(m, K, labels)
        m.matrix = M.copy()
        empty = M.sum() == 0
        m.empty.setVisible(bool(empty))
        m.image.setVisible(not empty)
        for i in range(K):
            for j in range(K):
                t = m.texts[i * K + j]
                t.setVisible(not empty)
                text = str(int(M[i, j]))
                if t.toPlainText() != text:
                    t.setText(text)
        self._colour(m)     # (cells by share of the row; counts in the colour that reads best)
        self._fit_font(m)   # (more digits may need a smaller font)
        for i in range(K):
            m.rows[i].setData(np.arange(K, dtype=float), M[i].astype(float))
            # (the CSV export's column names: the plots carry no title of their own)
            m.rows[i].opts["name"] = f"{m.name}, true class {labels[i]} (x: predicted class, y: count)"

    def _layout(self, m: _Matrix, K: int, labels: list[str]) -> None:
        """(Re)build the cell texts, the row data items, the ticks and the range for K classes."""
        for t in m.texts:
            m.plot.removeItem(t)
        for r in m.rows:
            m.plot.removeItem(r)
        m.texts = []
        m.font_px = 0   # (set by _fit_font once the cells exist)
        for i in range(K):
            for j in range(K):
                t = pg.TextItem("", color=theme().fg, anchor=(0.5, 0.5))
                t.setPos(j, i)
                m.plot.addItem(t)
                m.texts.append(t)
        m.rows = []
        for i in range(K):
            item = pg.PlotDataItem([], [], pen=None, symbol=None)
            m.plot.addItem(item)
            m.rows.append(item)
        ticks = [[(c, labels[c]) for c in range(K)]]
        m.plot.getAxis("left").setTicks(ticks)
        m.plot.getAxis("bottom").setTicks(ticks)
        m.plot.setRange(xRange=(-0.5, K - 0.5), yRange=(-0.5, K - 0.5), padding=0.02)
        m.empty.setPos((K - 1) / 2, (K - 1) / 2)
        m.labels = labels

    # ---- reading back ----------------------------------------------------------------------------
    def matrix(self, k: int) -> np.ndarray | None:
        """The counts matrix k shows (a copy), or None before the first one."""
        M = self._mats[k].matrix
        return None if M is None else M.copy()

    def title(self, k: int) -> str:
        return self._mats[k].title

    @property
    def count(self) -> int:
        return len(self._mats)

    def write_csv(self, path) -> Path:
        """Every matrix as a table: a "# <title>" line, a header "true \\ predicted, 0, 1, …", then
        one row of counts per true class; a blank line between matrices."""
        path = Path(path)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            for n, m in enumerate(self._mats):
                if m.matrix is None:
                    continue
                if n:
                    w.writerow([])
                w.writerow([f"# {m.title}"])
                w.writerow(["true \\ predicted"] + m.labels)
                for label, row in zip(m.labels, m.matrix):
                    w.writerow([label] + [int(v) for v in row])
        return path

    # ---- hover -----------------------------------------------------------------------------------
    def cell_text(self, k: int, i: int, j: int) -> str:
        """What cell (i, j) of matrix k counts, in words."""
        m = self._mats[k]
        M = m.matrix
        n_row = int(M[i].sum())
        share = f" ({100.0 * M[i, j] / n_row:.1f} % of them)" if n_row else ""
        what = "correctly classified" if i == j else f"taken for {m.labels[j]}"
        return (f"{m.name}: {int(M[i, j])} of the {n_row} samples of class {m.labels[i]} "
                f"{what}{share}")

    def _on_mouse_moved(self, pos) -> None:
        for k, m in enumerate(self._mats):
            vb = m.plot.getViewBox()
            if m.matrix is None or not vb.sceneBoundingRect().contains(pos):
                continue
            p = vb.mapSceneToView(pos)
            K = m.matrix.shape[0]
            j, i = int(round(p.x())), int(round(p.y()))
            if 0 <= i < K and 0 <= j < K and m.matrix.sum():
                QToolTip.showText(QCursor.pos(), self.cell_text(k, i, j), self)
                self._cell_tip = True
                return
        if self._cell_tip:              # (elsewhere the widget's own tooltip, HELP, applies)
            QToolTip.hideText()
            self._cell_tip = False
