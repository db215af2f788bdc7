"""Perceptron panel: the decision boundary learning one sample at a time.

Shows the data by class, the misclassified points, the sample just presented, the current boundary
(one line per output neuron), its fading history, the weight vector normal to the boundary, the
errors per epoch, and the update the rule just made with its numbers. Left click adds a point of the
chosen class, right click removes the nearest one; File > Open data… loads a CSV (x1, x2, label).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QSplitter, QVBoxLayout, QWidget)

from nnsim.engine.datasets import load_xy_csv
from nnsim.engine.perceptron import NO_DATA, PerceptronParams, PerceptronSimulation, confusion_matrix
from nnsim.panels.base import Panel
from nnsim.panels.perceptron_views import FadingLines, UpdateTable, ink_alpha
from nnsim.widgets.equation import confusion_html, perceptron_update_html
from nnsim.widgets.plots import (BOUNDARY_COLOR, CLASS_SYMBOLS, class_color, line_width, long_series, make_plot,
                                 theme)

MAX_HISTORY = 50


def boundary_segment(w: np.ndarray, box: tuple[float, float, float, float]):
    """End points of the line w1*x1 + w2*x2 = w0 inside box = (x0, x1, y0, y1), or None."""
    w0, w1, w2 = (float(v) for v in w)
    x_lo, x_hi, y_lo, y_hi = box
    pts = []
    if abs(w2) > 1e-12:
        for x in (x_lo, x_hi):
            y = (w0 - w1 * x) / w2
            if y_lo - 1e-9 <= y <= y_hi + 1e-9:
                pts.append((x, y))
    if abs(w1) > 1e-12:
        for y in (y_lo, y_hi):
            x = (w0 - w2 * y) / w1
            if x_lo - 1e-9 <= x <= x_hi + 1e-9:
                pts.append((x, y))
    if len(pts) < 2:
        return None
    pts.sort()
    return np.array([pts[0][0], pts[-1][0]]), np.array([pts[0][1], pts[-1][1]])


def data_box(X: np.ndarray, pad: float = 0.15, top: float = 0.45) -> tuple[float, float, float, float]:
    """The view range: the data with a margin, and more room at the top for the legend."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.maximum(hi - lo, 1.0)
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1] + top * span[1])


class PerceptronPanel(Panel):
    key = "perceptron"
    target_label = "errors per epoch"
    target_default = 1.0
    target_decimals = 0
    title = "Perceptron"
    description = "Decision-boundary evolution of the perceptron learning rule (lecture 1)."
    step_unit = "sample"
    default_speed = 10.0
    params_class = PerceptronParams
    help_text = """
<p>A perceptron adds its weighted inputs and fires (y = 1) when the sum is positive:
y = 1 if w·x &gt; 0 else 0, with x = [−1, x₁, x₂], so w₀ acts as a threshold (the bias). The points where
w·x = 0 form a straight line, the <b>decision boundary</b>; the weight vector (w₁, w₂), drawn as the
magenta arrow, is perpendicular to it and points to the side classified as 1.</p>
<p>Each step shows one sample. If the output is wrong, the rule adds η·x (a missed positive sample) or
subtracts it (a false positive): w ← w + η (t − y) x. Adding x turns the boundary towards the point,
subtracting turns it away. The table on the right shows the numbers of the update just made.</p>
<p><b>Try:</b> AND and OR converge in a few epochs (the banner says when). XOR never does: no straight
line separates its classes, and the panel says so after the epoch limit. On the two clusters, watch the
fading history of boundaries; compare z-score normalization. With 3 or 4 classes each output neuron
learns its class against all the others. Click to add your own points (left) or remove them (right).</p>
"""
    presets = {
        "Worked example (lecture 1): η = 1, fixed order": dict(dataset="worked", lr=1.0, order="fixed"),
        "AND gate": dict(dataset="and", lr=0.1),
        "OR gate": dict(dataset="or", lr=0.1),
        "XOR: never converges": dict(dataset="xor", lr=0.1, max_epochs=50),
        "Boundary evolution (course article data)": dict(dataset="clusters", lr=0.1, history=30),
        "Same, z-score normalized inputs": dict(dataset="clusters", lr=0.1, history=30, normalization="zscore"),
        "3 classes, one neuron per class": dict(dataset="multi3", lr=0.1),
        "4 classes, one neuron per class": dict(dataset="multi4", lr=0.1),
    }

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner.playing_changed.connect(self._on_play_state)

    def make_simulation(self, params, seed):
        return PerceptronSimulation(params, seed=seed)

    # ---- views
    def build_views(self, area: QWidget) -> None:
        # the plane is square (aspect locked): the legend goes where the room is (right of a wide
        # view, below a tall one)
        self.data_widget = make_plot("Data and decision boundary", "x₁", "x₂", legend="auto")
        self.data_plot = self.data_widget.getPlotItem()
        self.data_plot.setAspectLocked(True)
        self.data_plot.setMenuEnabled(False)  # right click removes a point here
        self.data_plot.disableAutoRange()
        self.errors_widget = make_plot("Misclassified samples per epoch", "epoch", "errors")
        self.errors_plot = self.errors_widget.getPlotItem()
        self.errors_curve = self.errors_plot.plot([], [], pen=pg.mkPen("#444", width=2), symbol="o",
                                                  symbolBrush="#CC3311", symbolSize=8, name="errors")
        long_series(self.errors_curve)
        self.errors_plot.setYRange(0, 5)
        self.errors_plot.setXRange(0.5, 5.5)
        # (rich text laid out once per new text; it scrolls when the tables are long)
        self.equation = UpdateTable()

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.errors_widget)
        eq_box = QGroupBox("The update just made")
        QVBoxLayout(eq_box).addWidget(self.equation)
        right.addWidget(eq_box)
        right.setSizes([250, 450])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.data_widget)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([700, 460])
        QHBoxLayout(area).addWidget(split)
        area.layout().setContentsMargins(0, 0, 0, 0)

        self._class_items: list[pg.ScatterPlotItem] = []
        self._legend_classes = -1
        self._boundary_items: list[pg.PlotDataItem] = []
        self._boundary_colors: list = []
        # every earlier boundary in one item (see perceptron_views)
        self.history_item = FadingLines()
        self.history_item.setZValue(1)
        self.data_plot.addItem(self.history_item)
        self._history_items = [self.history_item]
        self._drawn: dict[str, object] = {}   # what each layer shows now (skip unchanged data)
        self._text_stale = False
        self.wrong_item = pg.ScatterPlotItem(symbol="o", size=22, pen=pg.mkPen("#D00000", width=2.5),
                                             brush=None, name="misclassified")
        self.current_item = pg.ScatterPlotItem(symbol="o", size=32, pen=pg.mkPen("#000", width=2,
                                               style=Qt.PenStyle.DashLine), brush=None, name="sample just presented")
        self.normal_line = pg.PlotDataItem([], [], pen=pg.mkPen(BOUNDARY_COLOR, width=2.5))
        self.normal_head = pg.ArrowItem(angle=0, headLen=16, tipAngle=35, pen=None, brush=BOUNDARY_COLOR)
        self.normal_label = pg.TextItem("w", color=BOUNDARY_COLOR, anchor=(0, 1))
        self.normal_label.setFont(_bold_font())
        for item in (self.wrong_item, self.current_item, self.normal_line, self.normal_head, self.normal_label):
            self.data_plot.addItem(item)
        self.normal_head.hide()
        self.normal_label.hide()
        self._drawn_X = None
        self._box = (-1.0, 1.0, -1.0, 1.0)
        self.data_plot.scene().sigMouseClicked.connect(self._on_plot_clicked)

        # side controls: mouse editing and data file
        edit = QGroupBox("Your own points")
        lay = QVBoxLayout(edit)
        lay.addWidget(QLabel("Left click on the plot adds a point of:"))
        self.click_class = QComboBox()
        for k in range(4):
            self.click_class.addItem(f"class {k}", k)
        self.click_class.setCurrentIndex(1)
        lay.addWidget(self.click_class)
        lay.addWidget(QLabel("Right click removes the nearest point."))
        self.open_button = QPushButton("Open CSV file (x1, x2, label)…")
        self.open_button.clicked.connect(self._on_open_clicked)
        lay.addWidget(self.open_button)
        self.side.addWidget(edit)

    def figures(self) -> dict:
        return {"Data and decision boundary": self.data_widget, "Errors per epoch": self.errors_widget}

    def status_message(self, snap) -> tuple[str, str]:
        """As the base; "your own points" with none yet is a choice, said as information."""
        text, kind = super().status_message(snap)
        return (text, "info") if snap.message == NO_DATA else (text, kind)

    # ---- rendering (a pure function of the snapshot)
    # Each layer is drawn only when what it shows changed (most samples move no boundary, an
    # epoch's errors change once per epoch); the update's table is rich text, laid out again on
    # every set: at most 8 times a second while playing (exact on every step and when the run stops).
    def render_snapshot(self, snap) -> None:
        X, labels = snap.X, snap.labels
        if self._drawn_X is None or X.shape != self._drawn_X.shape or not np.array_equal(X, self._drawn_X):
            self._box = data_box(X) if len(X) else (-1.0, 1.0, -1.0, 1.0)
            self.data_plot.setRange(xRange=self._box[:2], yRange=self._box[2:], padding=0)
            self._drawn_X = X.copy()
        n_classes = max(int(snap.n_classes), 2)
        self._ensure_class_items(n_classes)
        binary = snap.weights_raw.shape[0] == 1
        if self._changed("points", X, labels, len(self._class_items)):
            for k, item in enumerate(self._class_items):
                mask = labels == k
                item.setData(pos=X[mask]) if mask.any() else item.setData([], [])
        if self._changed("wrong", X, snap.misclassified):
            wrong = X[snap.misclassified]
            self.wrong_item.setData(pos=wrong) if len(wrong) else self.wrong_item.setData([], [])
        last = snap.last
        index = last.index if last is not None and 0 <= last.index < len(X) else -1
        if self._changed("current", X, index):
            if index >= 0:
                self.current_item.setData(pos=X[index:index + 1])
            else:
                self.current_item.setData([], [])
        if self._changed("boundaries", snap.weights_raw, binary, self._box):
            self._draw_boundaries(snap.weights_raw, binary)
        if self._changed("history", snap.history_raw, binary, self._box):
            self._draw_history(snap.history_raw, binary)
        if self._changed("normal", snap.weights_raw, binary, X):
            self._draw_normal(snap.weights_raw[0] if binary else None, X)
        self._draw_errors(np.asarray(snap.epoch_errors))
        if "text" not in self._drawn or self.text_due("equation"):
            self._drawn["text"] = ()
            self._text_stale = False
            self._render_text(snap)
        else:
            self._text_stale = True

    def _render_text(self, snap) -> None:
        matrix, cols = confusion_matrix(snap.labels, snap.outputs, snap.n_classes)
        text = perceptron_update_html(snap) + confusion_html(matrix, cols)
        if text != self.equation.text():  # rich text is laid out again on every set: only on change
            self.equation.setText(text)

    def _on_play_state(self, playing: bool) -> None:
        """The run stopped (pause, convergence, epoch limit): the table shows its last state."""
        if not playing and self._text_stale and self.snapshot is not None:
            self._text_stale = False
            self._render_text(self.snapshot)

    def _changed(self, key: str, *values) -> bool:
        """Whether ``values`` differ from what the layer ``key`` last drew (then they are kept)."""
        old = self._drawn.get(key)
        if old is not None and len(old) == len(values) and all(_same(a, b) for a, b in zip(old, values)):
            return False
        self._drawn[key] = tuple(v.copy() if isinstance(v, np.ndarray) else v for v in values)
        return True

    def _draw_errors(self, errs: np.ndarray) -> None:
        if not self._changed("errors", errs):
            return
        n = len(errs)
        symbol = "o" if n <= 200 else None  # dots only while they read
        if self.errors_curve.opts["symbol"] != symbol:
            self.errors_curve.setSymbol(symbol)
        # (thousands of epochs make a band of segments: a 1 px line draws it on Qt's fast path,
        # ~3 ms, where the 2 px antialiased line took ~30 ms, and looks the same)
        width = line_width(2.0) if n <= 200 else 1.0
        pen = pg.mkPen(self.errors_curve.opts["pen"])
        if pen.widthF() != width:
            pen.setWidthF(width)
            self.errors_curve.setPen(pen)
        if n:
            self.errors_curve.setData(np.arange(1, n + 1), errs)
        else:
            self.errors_curve.setData([], [])
        # the axes move in steps (not at every epoch: each move lays the axis and its ticks out)
        x_max = self._drawn.get("errors_x", 5)
        if n > x_max or n <= x_max / 2:
            x_max = 5 if n <= 5 else int(np.ceil(n * 1.25))
            self._drawn["errors_x"] = x_max
        y_top = max(1, int(errs.max())) * 1.1 if n else None
        if self._changed("errors_range", x_max, y_top):
            if y_top is not None:
                self.errors_plot.setYRange(0, y_top, padding=0)
            self.errors_plot.setXRange(0.5, x_max + 0.5, padding=0)

    def restyle_views(self) -> None:
        fg = theme().fg
        self.current_item.setPen(pg.mkPen(fg, width=2, style=Qt.PenStyle.DashLine))
        self.errors_curve.setPen(pg.mkPen(theme().muted, width=2))
        # (draw every layer and the table again: the rich text carries the theme's colours)
        self._drawn = {k: v for k, v in self._drawn.items() if k in ("errors_x",)}
        self._boundary_colors = []

    def _ensure_class_items(self, n: int):
        while len(self._class_items) < n:
            k = len(self._class_items)
            item = pg.ScatterPlotItem(symbol=CLASS_SYMBOLS[k], size=11, pen=pg.mkPen("#222", width=0.8),
                                      brush=class_color(k), name=f"class {k}")
            self.data_plot.addItem(item)
            item.setZValue(5)
            self._class_items.append(item)
        if n == self._legend_classes:
            return  # rebuilding the legend costs ~10 ms: only when the number of classes changes
        self._legend_classes = n
        legend = self.data_plot.legend
        for k, item in enumerate(self._class_items):
            visible = k < n
            item.setVisible(visible)
            legend.removeItem(item)
            if visible:
                legend.addItem(item, f"class {k}" + (f" (t = {k})" if n == 2 else ""))
        for item, name in ((self.wrong_item, "misclassified"), (self.current_item, "sample just presented")):
            legend.removeItem(item)
            legend.addItem(item, name)

    def _line_box(self):
        """Lines are cut to a box well beyond the visible range (the view clips them)."""
        x0, x1, y0, y1 = self._box
        cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, 4 * max(x1 - x0, y1 - y0)
        return cx - r, cx + r, cy - r, cy + r

    def _draw_boundaries(self, W: np.ndarray, binary: bool):
        while len(self._boundary_items) < len(W):
            k = len(self._boundary_items)
            item = pg.PlotDataItem([], [], name=f"boundary {k}")
            item._nnsim_base_width = 3.0  # (plots.restyle_plot scales it by the mode's line factor)
            item.setZValue(4)
            self.data_plot.addItem(item)
            self._boundary_items.append(item)
        box = self._line_box()
        for k, item in enumerate(self._boundary_items):
            seg = boundary_segment(W[k], box) if k < len(W) else None
            color = BOUNDARY_COLOR if binary else class_color(k)
            rgba = pg.mkColor(color).rgba()
            if k >= len(self._boundary_colors) or self._boundary_colors[k] != rgba:  # (pens only on change)
                del self._boundary_colors[k:]
                item.setPen(pg.mkPen(color, width=line_width(3.0)))
                self._boundary_colors.append(rgba)
            item.setData(*seg) if seg is not None else item.setData([], [])

    def _draw_history(self, H: np.ndarray, binary: bool):
        """Earlier boundaries, oldest first, fading: one FadingLines item holds them all."""
        box = self._line_box()
        rows, colors = [], []
        h = H.shape[0] if H.ndim == 3 else 0
        for age_idx in range(h):  # oldest first
            alpha = ink_alpha(int(25 + 110 * (age_idx + 1) / h))
            for k in range(H.shape[1]):
                if len(rows) >= MAX_HISTORY * 4:
                    break
                seg = boundary_segment(H[age_idx, k], box)
                if seg is None:
                    continue
                (xa, xb), (ya, yb) = seg
                rows.append((xa, ya, xb, yb))
                colors.append(class_color(k, alpha) if not binary else _with_alpha(BOUNDARY_COLOR, alpha))
        self.history_item.set_lines(np.array(rows, dtype=np.float64).reshape(-1, 4), colors)

    def _draw_normal(self, w, X):
        if w is None or len(X) == 0 or np.hypot(w[1], w[2]) < 1e-12:
            self.normal_line.setData([], [])
            self.normal_head.hide()
            self.normal_label.hide()
            return
        n = np.array([w[1], w[2]], dtype=float)
        norm = float(np.hypot(*n))
        c = X.mean(axis=0)
        foot = c - (n @ c - w[0]) / norm**2 * n  # closest point of the boundary to the data's centre
        length = 0.18 * max(self._box[1] - self._box[0], self._box[3] - self._box[2])
        tip = foot + n / norm * length
        self.normal_line.setData([foot[0], tip[0]], [foot[1], tip[1]])
        angle = float(np.degrees(np.arctan2(n[1], n[0])))
        self.normal_head.setStyle(angle=180 - angle)
        self.normal_head.setPos(tip[0], tip[1])
        self.normal_head.show()
        self.normal_label.setPos(tip[0], tip[1])
        self.normal_label.show()

    # ---- user data
    def _current_data(self):
        snap = self.snapshot
        if snap is None:
            return np.zeros((0, 2)), np.zeros(0, dtype=int)
        return snap.X.copy(), snap.labels.copy()

    def _use_data(self, X: np.ndarray, labels: np.ndarray, source: str):
        self.params = self.params.replace(dataset="user")
        self.form.set_params(self.params)
        self.runner.invoke("set_data", X, labels)
        self.show_message(source, "info")

    def _on_plot_clicked(self, ev):
        vb = self.data_plot.getViewBox()
        pos = ev.scenePos()
        if not vb.sceneBoundingRect().contains(pos) or self.snapshot is None:
            return
        p = vb.mapSceneToView(pos)
        X, labels = self._current_data()
        if ev.button() == Qt.MouseButton.LeftButton:
            X = np.vstack([X, [[p.x(), p.y()]]])
            labels = np.append(labels, int(self.click_class.currentData()))
            self._use_data(X, labels, f"Added a point of class {labels[-1]} at ({p.x():.2f}, {p.y():.2f}).")
        elif ev.button() == Qt.MouseButton.RightButton:
            if len(X) <= 2:
                self.show_message("At least two points are needed; none removed.", "warn")
                return
            i = int(np.argmin(((X - [p.x(), p.y()]) ** 2).sum(axis=1)))
            self._use_data(np.delete(X, i, axis=0), np.delete(labels, i),
                           f"Removed the point at ({X[i, 0]:.2f}, {X[i, 1]:.2f}).")
        ev.accept()

    def _on_open_clicked(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open data (x1, x2, label)", "", "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.open_data(path)

    def open_data(self, path: str) -> bool:
        """Load a CSV file; on a malformed file show the message and keep what is on screen."""
        def use(data):
            X, labels = data
            self._use_data(X, labels, f"Loaded {len(X)} points in {len(np.unique(labels))} classes from {path}.")

        return self.read_data_file(path, load_xy_csv, use)


def _same(a, b) -> bool:
    """Equal values (arrays: same shape and elements, NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
            return False
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    return a == b


def _with_alpha(color: str, alpha: int):
    c = pg.mkColor(color)
    c.setAlpha(alpha)
    return c


def _bold_font():
    from PySide6.QtGui import QFont

    f = QFont()
    f.setPointSize(13)
    f.setBold(True)
    return f
