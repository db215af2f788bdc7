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
from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import QCursor, QFont
from PySide6.QtWidgets import QToolTip

from nnsim.widgets.plots import TICK_PT

_WHITE = np.array([255.0, 255.0, 255.0])
_RIGHT = np.array([0.0, 114.0, 178.0])    # Okabe–Ito blue: correct (the diagonal)
_WRONG = np.array([213.0, 94.0, 0.0])     # Okabe–Ito vermillion: mistakes
HELP = ("Rows: the true class; columns: the class predicted. Diagonal (blue): correctly classified; "
        "any other cell (orange): samples of the row's class taken for the column's class. Colour: "
        "share of the row, so each class counts the same however many samples it has.")


def cell_rgb(matrix) -> tuple[np.ndarray, np.ndarray]:
    """(K, K, 3) uint8 colours of a confusion matrix and the (K, K) tint in [0, 1] of each cell:
    tint = 0.3 + 0.7 · share of the row for a non-empty cell (so one mistake among many is still
    visible), 0 for an empty one."""
    M = np.asarray(matrix, dtype=np.float64)
    sums = M.sum(axis=1, keepdims=True)
    share = np.divide(M, sums, out=np.zeros_like(M), where=sums > 0)
    tint = np.where(M > 0, 0.3 + 0.7 * share, 0.0)
    K = M.shape[0]
    diag = np.eye(K, dtype=bool)
    base = np.where(diag[..., None], _RIGHT, _WRONG)
    rgb = _WHITE + (base - _WHITE) * tint[..., None]
    return np.round(rgb).astype(np.uint8), tint


def accuracy_text(matrix) -> str:
    """"95.0 % (133/140)", or "no samples"."""
    M = np.asarray(matrix)
    total = int(M.sum())
    if not total:
        return "no samples"
    right = int(np.trace(M))
    return f"{100.0 * right / total:.1f} % ({right}/{total})"


class _Title(pg.LabelItem):
    """A label that does not widen its layout column: a long title is cut at the plot's edge
    instead of pushing the matrix beside it out of the view."""

    def updateMin(self):  # noqa: N802 - pyqtgraph name
        super().updateMin()
        self.setMinimumWidth(0)

    def sizeHint(self, hint, constraint):  # noqa: N802 - Qt name
        size = super().sizeHint(hint, constraint)
        return QSizeF(0, size.height()) if hint == Qt.SizeHint.MinimumSize else size


class _Matrix:
    """The items of one matrix: its title label and the items inside its PlotItem."""

    def __init__(self, plot: pg.PlotItem, label: _Title, name: str, empty_text: str):
        self.plot, self.label, self.name, self.empty_text = plot, label, name, empty_text
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.texts: list[pg.TextItem] = []
        self.rows: list[pg.PlotDataItem] = []     # one data item per true class (for CSV export)
        self.empty = pg.TextItem(empty_text, color="#444", anchor=(0.5, 0.5))
        plot.addItem(self.empty)
        self.empty.setVisible(False)
        self.matrix: np.ndarray | None = None
        self.labels: list[str] = []
        self.title = ""


class ConfusionView(pg.GraphicsLayoutWidget):
    """Confusion matrices side by side (``names``, e.g. ("Training set", "Test set")), a heading
    above them; :meth:`set_matrix` shows one."""

    def __init__(self, names=("Training set", "Test set"), empty_text: str = "no samples", parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setToolTip(HELP)
        self.heading = _Title("", size=f"{TICK_PT}pt", color="#111")
        self.addItem(self.heading, row=0, col=0, colspan=len(names))
        self._mats: list[_Matrix] = []
        tick_font = QFont()
        tick_font.setPointSize(TICK_PT)
        for k, name in enumerate(names):
            label = _Title("", size=f"{TICK_PT}pt", color="#111")
            self.addItem(label, row=1, col=k)
            plot = self.addPlot(row=2, col=k)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setAspectLocked(True)
            plot.invertY(True)                  # true class 0 on top, as a printed table
            plot.disableAutoRange()
            style = {"font-size": f"{TICK_PT}pt", "color": "#111"}
            plot.setLabel("left", "true class", **style)
            plot.setLabel("bottom", "predicted class", **style)
            for side in ("left", "bottom"):
                ax = plot.getAxis(side)
                ax.setTickFont(tick_font)
                ax.setPen(pg.mkPen("#555"))
                ax.setTextPen(pg.mkPen("#111"))
            self._mats.append(_Matrix(plot, label, name, empty_text))
        self._cell_tip = False
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

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
        # (two lines: a plot is never narrower than its title, and two side by side must fit in
        # a tab of about 400 px)
        title = f"{m.name}<br>{accuracy_text(M)}" if M.sum() else f"{m.name}<br>–"
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
        rgb, tint = cell_rgb(M)
        m.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        m.image.setRect(QRectF(-0.5, -0.5, K, K))
        for i in range(K):
            for j in range(K):
                t = m.texts[i * K + j]
                t.setVisible(not empty)
                text = str(int(M[i, j]))
                if t.toPlainText() != text:
                    t.setText(text)
                # (zeros in light grey, so that the counts that matter stand out in a 10 × 10 matrix)
                t.setColor("#FFFFFF" if tint[i, j] > 0.6 else ("#111111" if M[i, j] else "#B0B0B0"))
            m.rows[i].setData(np.arange(K, dtype=float), M[i].astype(float))
            # (the CSV export's column names: the plots carry no title of their own)
            m.rows[i].opts["name"] = f"{m.name}, true class {labels[i]} (x: predicted class, y: count)"

    def _layout(self, m: _Matrix, K: int, labels: list[str]) -> None:
        """(Re)build the cell texts, the row data items, the ticks and the range for K classes."""
        for t in m.texts:
            m.plot.removeItem(t)
        for r in m.rows:
            m.plot.removeItem(r)
        font = QFont()
        font.setPointSize(14 if K <= 3 else (12 if K <= 6 else 10))
        font.setBold(True)
        m.texts = []
        for i in range(K):
            for j in range(K):
                t = pg.TextItem("", color="#111", anchor=(0.5, 0.5))
                t.setFont(font)
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
