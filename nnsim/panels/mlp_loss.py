"""The MLP panel's loss view: training (solid) and test (dashed) loss of every run on one plot,
linear or log axis, with a legend above the plot (it never hides a curve) and a red × where a run
diverged or where early stopping found its best test loss."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from nnsim.panels import mlp_text
from nnsim.panels.mlp_views import run_color
from nnsim.widgets.plots import long_series, make_plot


class LossView(QWidget):
    """Options row, legend and the plot; :meth:`draw` shows a snapshot's curves."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.widget = make_plot("Loss: training (solid), test (dashed)", "step", "mean loss J")
        self.plot = self.widget.getPlotItem()
        for name in ("left", "bottom"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)   # no "(x0.001)" on a loss axis
        # grid lines on the major y ticks only: a log axis has many minor ticks, and painting
        # their grid lines cost more than the curves themselves
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.getAxis("left").setStyle(maxTickLevel=0)
        self.plot.disableAutoRange()          # ranges are set by _set_ranges (see there)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("font-size: 11pt;")
        self.log_check = QCheckBox("log axis")
        self.log_check.setChecked(True)
        self.test_check = QCheckBox("test loss")
        self.test_check.setChecked(True)
        self.log_check.toggled.connect(self._on_option)
        self.test_check.toggled.connect(self._on_option)
        opts = QHBoxLayout()
        opts.addWidget(self.log_check)
        opts.addWidget(self.test_check)
        opts.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(opts)
        lay.addWidget(self.legend)
        lay.addWidget(self.widget, 1)
        self.train_curves: list[pg.PlotDataItem] = []
        self.test_curves: list[pg.PlotDataItem] = []
        self._markers: list[pg.PlotDataItem] = []
        self._legend_key = self._axes = self._x_range = self._y_range = None
        self._snap = None

    def _on_option(self, _checked=False):
        self._legend_key = self._axes = self._y_range = None
        if self._snap is not None:
            self.draw(self._snap)

    def _ensure_curves(self, n: int) -> None:
        while len(self.train_curves) < n:
            k = len(self.train_curves)
            c = run_color(k)
            tr = self.plot.plot([], [], pen=pg.mkPen(c, width=2.2), name=f"run {k + 1} training")
            te = self.plot.plot([], [], pen=pg.mkPen(c, width=1.3, style=Qt.PenStyle.DashLine),
                                     name=f"run {k + 1} test")
            mk = self.plot.plot([], [], pen=None, symbol="x", symbolSize=16,
                                     symbolPen=pg.mkPen("#C00000", width=3), symbolBrush="#C00000")
            for item in (tr, te):
                long_series(item)
            self.train_curves.append(tr)
            self.test_curves.append(te)
            self._markers.append(mk)

    def draw(self, snap) -> None:
        self._snap = snap
        n = len(snap.runs)
        self._ensure_curves(n)
        log = self.log_check.isChecked()
        every = "every step" if snap.eval_every == 1 else f"every epoch ({snap.eval_every} steps)"
        axes = (log, every)
        if axes != self._axes:        # (setLogMode/setLabel relayout the plot: not every frame)
            self.plot.setLogMode(y=log)
            self.plot.setLabel("left", "mean loss J (log scale)" if log else "mean loss J")
            self.plot.setLabel("bottom", f"step (one batch per step; losses evaluated {every})")
            self._axes = axes
        show_test = self.test_check.isChecked() and len(snap.X_test) > 0
        labels = []
        for k, (tr, te, mk) in enumerate(zip(self.train_curves, self.test_curves, self._markers)):
            visible = k < n
            tr.setVisible(visible)
            te.setVisible(visible and show_test)
            mk.setVisible(visible)
            if not visible:
                continue
            r = snap.runs[k]
            steps = r.steps.astype(float)
            y_tr, y_te = r.train_loss, r.test_loss
            if log:   # a log axis drops values <= 0; show them as gaps
                y_tr = np.where(y_tr > 0, y_tr, np.nan)
                y_te = np.where(y_te > 0, y_te, np.nan)
            tr.setData(steps, y_tr, connect="finite")
            te.setData(steps, y_te, connect="finite")
            marks = []
            if r.state == "diverged" and len(steps):
                marks.append((steps[-1], r.train_loss[-1]))
            if r.best_step >= 0 and r.state == "stopped":
                i = int(np.argmin(np.abs(r.steps - r.best_step)))
                marks.append((steps[i], r.test_loss[i]))
            pts = np.array(marks, dtype=float).reshape(-1, 2)
            mk.setData(pts[:, 0], pts[:, 1])
            label = f"η = {mlp_text.num(r.lr)}"
            if r.state == "diverged":
                label += f" (diverged at step {r.diverged_at})"
            elif r.state == "stopped":
                label += f" (early stop; best at {r.best_step})"
            labels.append(label)
            tr.opts["name"] = f"{label} training"    # the CSV column names
            te.opts["name"] = f"{label} test"
        self._set_ranges(snap, log, show_test)
        key = tuple(labels)
        if key != self._legend_key:
            self.legend.setText(" &nbsp; ".join(
                f"<span style='color:{run_color(k)}'>▬</span> {label}" for k, label in enumerate(labels)))
            self._legend_key = key

    def _set_ranges(self, snap, log: bool, show_test: bool) -> None:
        """x: 0 to the horizon (the curves grow towards it); y: the data's range, only changed when
        the data leave it or fill less than half of it. Ranges that move every frame make the axes
        regenerate their ticks and labels every frame, which costs more than the curves."""
        x_hi = float(max(snap.max_steps, snap.step_count, 1))
        if snap.step_count > snap.max_steps:
            x_hi = float(1 << int(np.ceil(np.log2(snap.step_count))))
        vals = [r.train_loss for r in snap.runs] + ([r.test_loss for r in snap.runs] if show_test else [])
        v = np.concatenate(vals) if vals else np.zeros(0)
        v = v[np.isfinite(v) & ((v > 0) if log else True)]
        if v.size == 0:
            return
        lo, hi = (np.log10(v.min()), np.log10(v.max())) if log else (min(0.0, v.min()), v.max())
        span = max(hi - lo, 0.1 if log else 1e-6)
        cur = self._y_range
        if cur is None or lo < cur[0] or hi > cur[1] or (cur[1] - cur[0]) > 2.5 * span:
            pad = 0.08 * span
            cur = (lo - pad, hi + pad)
            self._y_range = cur
            self.plot.setYRange(*cur, padding=0)
        if x_hi != self._x_range:
            self._x_range = x_hi
            self.plot.setXRange(0, x_hi, padding=0.01)
