"""The MLP panel's loss view: training (solid) and test (dashed) loss of every run on one plot,
linear or log axis, with a legend below the x axis (outside the data: it never hides a curve; it
names the line styles and each run's colour, also in an exported picture) and a red × where a run
diverged or where early stopping found its best test loss."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QHBoxLayout, QVBoxLayout, QWidget

from nnsim.panels import mlp_text
from nnsim.panels.mlp_views import run_color
from nnsim.widgets.plots import add_legend, line_width, long_series, make_plot, theme

TRAIN_WIDTH = 2.2
TEST_WIDTH = 2.0
#: the test curves' dashes (in pen widths): long enough to read as dashes on a projector and in a
#: picture exported at 2× (the curves are drawn as one polyline, so the pattern runs along them)
TEST_DASHES = [4.0, 2.5]


def test_pen(color, width: float) -> pg.QtGui.QPen:
    pen = pg.mkPen(color, width=width)
    pen.setStyle(Qt.PenStyle.CustomDashLine)
    pen.setDashPattern(TEST_DASHES)
    return pen


class LossView(QWidget):
    """Options row and the plot (legend below its x axis); :meth:`draw` shows a snapshot's curves."""

    nnsim_themed = True

    def __init__(self, parent=None):
        super().__init__(parent)
        self.widget = make_plot("Loss", "step", "loss J")
        self.widget.setToolTip("Training loss (solid) and test loss (dashed) of every run: the mean loss J "
                               "over the whole training and test set. One step = one batch.")
        self.plot = self.widget.getPlotItem()
        for name in ("left", "bottom"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)   # no "(x0.001)" on a loss axis
        # grid lines on the major y ticks only: a log axis has many minor ticks, and painting
        # their grid lines cost more than the curves themselves
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.getAxis("left").setStyle(maxTickLevel=0)
        self.plot.disableAutoRange()          # ranges are set by _set_ranges (see there)
        for name in ("left", "bottom"):       # (the grid and ticks lie under the curves, which change
            # every frame: copied from a pixmap until the range changes)
            self.plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # the legend: the two line styles, then one colour per run (entries change only when the
        # number of runs, a run's state or the test option changes, never per frame)
        self.legend = add_legend(self.plot, "auto")     # right of a wide plot, below a tall one
        self._style_train = pg.PlotDataItem(pen=pg.mkPen(theme().fg, width=TRAIN_WIDTH))
        self._style_test = pg.PlotDataItem(pen=test_pen(theme().fg, TEST_WIDTH))
        self._run_samples: list[pg.PlotDataItem] = []
        self._entries: list[tuple[object, str]] = []   # (sample item, text) in the legend now
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
        lay.addWidget(self.widget, 1)
        self.train_curves: list[pg.PlotDataItem] = []
        self.test_curves: list[pg.PlotDataItem] = []
        self._markers: list[pg.PlotDataItem] = []
        self._axes = self._x_range = self._y_range = None
        self._snap = None
        self._drawn: dict[int, tuple] = {}   # run index → what its curves show (see _same)

    def _on_option(self, _checked=False):
        self._axes = self._y_range = None
        if self._snap is not None:
            self.draw(self._snap)

    def _ensure_curves(self, n: int) -> None:
        while len(self.train_curves) < n:
            k = len(self.train_curves)
            c = run_color(k)
            tr = pg.PlotDataItem([], [], pen=pg.mkPen(c, width=line_width(TRAIN_WIDTH)))
            te = pg.PlotDataItem([], [], pen=test_pen(c, line_width(TEST_WIDTH)))
            tr._nnsim_base_width, te._nnsim_base_width = TRAIN_WIDTH, TEST_WIDTH   # (restyle_plot)
            mk = pg.PlotDataItem([], [], pen=None, symbol="x", symbolSize=16,
                                 symbolPen=pg.mkPen("#C00000", width=3), symbolBrush="#C00000")
            for item in (tr, te, mk):
                self.plot.addItem(item)
            for item in (tr, te):
                long_series(item)
            # dashes need one polyline: drawn segment by segment (long_series), every segment of a
            # long curve is shorter than a dash and the test curves looked solid
            te.curve.setSegmentedLineMode("off")
            self.train_curves.append(tr)
            self.test_curves.append(te)
            self._markers.append(mk)
            sample = pg.PlotDataItem(pen=pg.mkPen(c, width=5))
            self._run_samples.append(sample)

    # ---- legend
    def _set_legend(self, entries: list[tuple[object, str]]) -> None:
        """Show ``entries`` (sample item, text); only what changed is touched."""
        if [e[0] for e in entries] != [e[0] for e in self._entries]:
            for item, _text in self._entries:
                self.legend.removeItem(item)
            for item, text in entries:
                self.legend.addItem(item, text)
                sample = self.legend.items[-1][0]
                sample.setAcceptedMouseButtons(Qt.MouseButton.NoButton)   # (a click would hide it)
            self._entries = list(entries)
            self.legend.queue_reflow()
            return
        changed = False
        for (item, text), (_old, old_text) in zip(entries, self._entries):
            if text != old_text:
                for sample, label in self.legend.items:
                    if sample.item is item:
                        label.setText(text)
                changed = True
        if changed:
            self._entries = list(entries)
            self.legend.updateSize()
            self.legend.queue_reflow()

    def legend_texts(self) -> list[str]:
        """The legend's entries as plain text (for tests and the lab report)."""
        return [label.text for _sample, label in self.legend.items]

    def restyle(self) -> None:
        """Theme change: the line-style samples are drawn in the theme's text colour."""
        fg = theme().fg
        self._style_train.setPen(pg.mkPen(fg, width=TRAIN_WIDTH))
        self._style_test.setPen(test_pen(fg, TEST_WIDTH))
        for sample, _label in self.legend.items:
            sample.update()

    # ---- drawing
    def draw(self, snap) -> None:
        self._snap = snap
        n = len(snap.runs)
        self._ensure_curves(n)
        log = self.log_check.isChecked()
        axes = (log, snap.eval_every)
        if axes != self._axes:        # (setLogMode/setLabel relayout the plot: not every frame)
            self.plot.setLogMode(y=log)
            # (short: the label must fit the plot's height in presentation mode; the tooltip says
            # that J is the mean over the data set)
            self.plot.setLabel("left", "loss J (log)" if log else "loss J")
            self.plot.setLabel("bottom", "step")
            self.plot.setTitle("Loss" if snap.eval_every == 1 else
                               f"Loss (evaluated every epoch: {snap.eval_every} steps)")
            self._axes = axes
        show_test = self.test_check.isChecked() and len(snap.X_test) > 0
        entries = [(self._style_train, "training")] + ([(self._style_test, "test")] if show_test else [])
        for k, (tr, te, mk) in enumerate(zip(self.train_curves, self.test_curves, self._markers)):
            visible = k < n
            tr.setVisible(visible)
            te.setVisible(visible and show_test)
            mk.setVisible(visible)
            if not visible:
                continue
            r = snap.runs[k]
            if not self._same(k, r, log):     # (a diverged or stopped run's curves stay as they are)
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
                if len(pts) or len(mk.xData if mk.xData is not None else ()):
                    mk.setData(pts[:, 0], pts[:, 1])
            label = f"η = {mlp_text.num(r.lr)}"
            if r.state == "diverged":
                label += f" (diverged at step {r.diverged_at})"
            elif r.state == "stopped":
                label += f" (early stop; best at {r.best_step})"
            tr.opts["name"] = f"{label} training"    # the CSV column names
            te.opts["name"] = f"{label} test"
            entries.append((self._run_samples[k], label))
        self._set_legend(entries)
        self._set_ranges(snap, log, show_test)

    def _same(self, k: int, r, log: bool) -> bool:
        """Whether run k's curves and marker already show these data (then nothing is set)."""
        now = (log, r.state, r.best_step, r.steps, r.train_loss, r.test_loss)
        last = self._drawn.get(k)
        self._drawn[k] = now
        return (last is not None and last[:3] == now[:3]
                and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(last[3:], now[3:])))

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
