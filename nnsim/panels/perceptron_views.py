"""Views of the perceptron panel that must stay cheap while a run plays.

:class:`FadingLines`: the fading history of earlier boundaries in one item. It holds all the
segments (``connect="pairs"``, so ``getData`` and the CSV export see them) and paints each in its
own colour in a single ``paint`` call: one PlotCurveItem per line cost a Python paint, a ``setData``
and a pen per line per frame (60 lines with 4 classes), and was created one by one as the history
grew. The lines are 1 px cosmetic lines: Qt's raster engine draws an antialiased 1 px line on a
fast path, a 1.3 px one through the general stroker at about 3× the cost; the alpha is raised by
the same factor so that a faded line carries as much ink as before.

:class:`UpdateTable`: the rich-text table of the update just made. A word-wrapped QLabel lays its
document out again for every size query (size hint, height for width, paint): 15–25 ms per new
text with the 4-class tables (~20 ms of a frame); a read-only text edit lays it out once (~7 ms)
and scrolls itself.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QFrame, QTextEdit

#: the former line width: alphas are scaled by it (same ink at 1 px)
INK = 1.3


class FadingLines(pg.PlotCurveItem):
    """Line segments (x0, y0) – (x1, y1), each with its own colour, drawn in order (oldest first)."""

    def __init__(self):
        super().__init__([], [], connect="pairs", antialias=True)
        self._pens: list[QPen] = []
        self._pen_cache: dict[int, QPen] = {}
        self._lines: list[QLineF] = []

    def _pen(self, color: QColor) -> QPen:
        key = color.rgba()
        pen = self._pen_cache.get(key)
        if pen is None:
            pen = QPen(color)
            pen.setWidthF(1.0)
            pen.setCosmetic(True)
            self._pen_cache[key] = pen
        return pen

    def set_lines(self, segments: np.ndarray, colors) -> None:
        """``segments``: (n, 4) rows x0, y0, x1, y1; ``colors``: n QColors (with their alpha)."""
        seg = np.asarray(segments, dtype=np.float64).reshape(-1, 4)
        self._pens = [self._pen(QColor(c)) for c in colors]
        self._lines = [QLineF(*row) for row in seg.tolist()]
        self.setData(seg[:, [0, 2]].ravel(), seg[:, [1, 3]].ravel(), connect="pairs")

    def paint(self, p: QPainter, *_args):
        if not self._lines:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, bool(self.opts.get("antialias", True)))
        last = None
        for pen, line in zip(self._pens, self._lines):
            if pen is not last:
                p.setPen(pen)
                last = pen
            p.drawLine(line)


def ink_alpha(alpha: int) -> int:
    """The alpha of a 1 px line with the ink of an ``INK`` px line of ``alpha``."""
    return int(min(255, round(alpha * INK)))


class UpdateTable(QTextEdit):
    """Read-only rich text (selectable, scrolls when long); ``setText`` / ``text`` as a QLabel's,
    and setting the same text again does nothing."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._html = ""
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.document().setDocumentMargin(6)

    def text(self) -> str:
        return self._html

    def setText(self, html: str) -> None:  # noqa: N802 - QLabel's name
        if html != self._html:
            self._html = html
            # (a student scrolled down to the confusion matrix: the next update keeps it in view)
            bars = (self.verticalScrollBar(), self.horizontalScrollBar())
            where = [b.value() for b in bars]
            self.setHtml(html)
            for b, v in zip(bars, where):
                b.setValue(min(v, b.maximum()))
