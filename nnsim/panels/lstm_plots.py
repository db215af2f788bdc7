"""The LSTM panel's plots beside the time axis: :class:`FlowPlot`, the gradient flow ‖∂L_T/∂h_t‖ on a
log scale, and :class:`TrainingPlots`, loss, accuracy and gradient norm over the updates.

Both are drawn only while their tab is shown (the panel decides), set only the data that changed,
and move their ranges in steps (see :mod:`nnsim.panels.lstm_style`); the curves over updates are
clipped to the view and reduced to what the pixels can show (``plots.long_series``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from nnsim.panels.lstm_style import (CMP_COLOR, FLOOR, MAIN_COLOR, SHORT, _cursor, _no_title,
                                     cache_static_items, grown_end, set_curve, set_log_range, set_x, swatch)
from nnsim.widgets.plots import class_color, line_width, long_series, style_plot, theme


class FlowPlot(pg.PlotWidget):
    """‖∂L_T/∂h_t‖ (and ‖∂L_T/∂C_t‖) against t for the cell and the comparison network, log y.
    The curves are keyed in the title (no legend over the data)."""

    def __init__(self, parent=None):
        super().__init__(parent, background=theme().bg)
        self.plot_item = self.getPlotItem()
        style_plot(self.plot_item, "Gradient flow back from the last step", "time step t", "gradient norm")
        self.plot_item.setLogMode(y=True)
        self.plot_item.getAxis("left").enableAutoSIPrefix(False)
        self.curves = {
            "h": self.plot_item.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=2.5), name="h"),
            "c": self.plot_item.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=2,
                                                          style=Qt.PenStyle.DashLine), name="C"),
            "cmp_h": self.plot_item.plot([], [], pen=pg.mkPen(CMP_COLOR, width=2.5), name="cmp h"),
            "cmp_c": self.plot_item.plot([], [], pen=pg.mkPen(CMP_COLOR, width=2,
                                                              style=Qt.PenStyle.DashLine),
                                         name="cmp C"),
        }
        self.cursor = _cursor()
        self.plot_item.addItem(self.cursor)
        self._ink = None
        self._title_shape = None
        cache_static_items(self)

    def render(self, snap, text: bool = True):
        """Draw ``snap``; ``text`` False leaves the title (its singular values change with every
        update) as it is in this frame."""
        t = snap.flow_t
        a, b = SHORT[snap.cell], SHORT[snap.cmp_cell]
        series = (("h", snap.flow_h, f"{a}: ‖∂L_T/∂h_t‖"), ("c", snap.flow_c, f"{a}: ‖∂L_T/∂C_t‖"),
                  ("cmp_h", snap.flow_cmp_h, f"{b}: ‖∂L_T/∂h_t‖"),
                  ("cmp_c", snap.flow_cmp_c, f"{b}: ‖∂L_T/∂C_t‖"))
        for key, data, label in series:
            curve = self.curves[key]
            curve.opts["name"] = label                    # the CSV column (no legend entry)
            if data is None:
                if curve.isVisible():
                    set_curve(curve, [], [])
                    curve.setVisible(False)
                continue
            d = np.where(np.isfinite(data), np.maximum(data, FLOOR), np.nan)
            set_curve(curve, t, d)
            curve.setVisible(True)
        fg = theme().fg
        ink = (fg, line_width(1.0))
        if ink != self._ink:
            self._ink = ink
            self.cursor.setPen(pg.mkPen(fg, width=line_width(1.5), style=Qt.PenStyle.DashLine))
        self.cursor.setPos(min(snap.t, len(t) - 1))
        if len(t):                                        # the time axis is fixed: no auto range
            set_x(self.plot_item, float(np.min(t)), float(np.max(t)), padding=0.02)
        set_log_range(self.plot_item, *(np.maximum(d, FLOOR) for _, d, _ in series if d is not None))
        nets = [f"{swatch(MAIN_COLOR)} {a}"] + ([f"{swatch(CMP_COLOR)} {b}"] if snap.cmp_label else [])
        has_c = snap.flow_c is not None or snap.flow_cmp_c is not None
        h_t, c_t = "‖∂L<sub>T</sub>/∂h<sub>t</sub>‖", "‖∂L<sub>T</sub>/∂C<sub>t</sub>‖"
        self.plot_item.setLabel("left", f"{h_t} {swatch(fg, '━')}, {c_t} {swatch(fg, '╍')}" if has_c else h_t)
        title = "Gradient flow from the last step"
        if any(d is not None and np.nanmin(d) < FLOOR for _, d, _ in series if d is not None and len(d)):
            title += " (below 10⁻³⁰ drawn at 10⁻³⁰)"
        shape = (title, tuple(nets))
        if text or shape != self._title_shape:           # the networks named at once, the numbers when due
            self._title_shape = shape
            sig = [f"{a} {snap.sigma_max:.2f}"]
            if snap.cmp_label:
                sig.append(f"{b} {snap.cmp_sigma_max:.2f}")
            self.plot_item.setTitle(f"{title}: {' '.join(nets)}<br>largest singular value of "
                                    f"W<sub>hh</sub>: {', '.join(sig)}")
        # new ranges reach the items before the paint (not during it: a second paint per frame)
        self.scene().prepareForPaint()


class TrainingPlots(pg.GraphicsLayoutWidget):
    """Loss (log), accuracy (%) and ‖∂L/∂θ‖ before clipping (log) against the update; the networks
    are keyed by colour in the top plot's title."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(theme().bg)
        self.loss = self.addPlot(row=0, col=0)
        style_plot(self.loss, "Training", "", "loss")
        self.loss.setLogMode(y=True)
        self.acc = self.addPlot(row=1, col=0)
        style_plot(self.acc, "", "", "% right")
        self.acc.setYRange(0, 100, padding=0.02)
        self.grad = self.addPlot(row=2, col=0)
        style_plot(self.grad, "", "update", "‖∂L/∂θ‖")
        self.grad.setLogMode(y=True)
        for p in (self.loss, self.acc, self.grad):
            p.getAxis("left").enableAutoSIPrefix(False)
            p.setMouseEnabled(x=False, y=False)
            if p is not self.loss:
                p.setXLink(self.loss)
                _no_title(p)
            if p is not self.grad:
                p.getAxis("bottom").setStyle(showValues=False)
        self.acc.getAxis("left").setTicks([[(0, "0"), (50, "50"), (100, "100")]])
        faint_main, faint_cmp = class_color(5, 70), class_color(0, 70)
        self.c = {
            "loss_raw": self.loss.plot([], [], pen=pg.mkPen(faint_main, width=1), name="loss per minibatch"),
            "cmp_loss_raw": self.loss.plot([], [], pen=pg.mkPen(faint_cmp, width=1),
                                           name="comparison loss per minibatch"),
            "loss": self.loss.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=2.5), name="loss smoothed"),
            "cmp_loss": self.loss.plot([], [], pen=pg.mkPen(CMP_COLOR, width=2.5),
                                       name="comparison loss smoothed"),
            "acc": self.acc.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=2.5), name="% right"),
            "cmp_acc": self.acc.plot([], [], pen=pg.mkPen(CMP_COLOR, width=2.5), name="comparison % right"),
            "grad": self.grad.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=1.5), name="‖g‖"),
            "cmp_grad": self.grad.plot([], [], pen=pg.mkPen(CMP_COLOR, width=1.5), name="comparison ‖g‖"),
        }
        for item in self.c.values():        # clipped to the view, min/max per pixel column
            long_series(item)
        self.clip_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(theme().muted, width=1.5,
                                                                style=Qt.PenStyle.DotLine))
        self.grad.addItem(self.clip_line)
        self._ink = None
        self._data_key = None
        self._x_end = None
        cache_static_items(self)

    @property
    def title(self):
        """The colour-keyed title (the loss plot's)."""
        return self.loss.titleLabel

    def render(self, snap, clip: float):
        n = len(snap.updates)
        u = snap.updates
        has_cmp = snap.cmp_loss is not None
        # the curves only change with a training update (inspecting moves the time cursor only)
        last = lambda a: float(a[-1]) if a is not None and len(a) else None  # noqa: E731
        key = (n, snap.step_count, has_cmp, last(u), last(snap.loss), last(snap.grad_norm),
               last(snap.cmp_loss) if has_cmp else None)
        if key != self._data_key:
            self._data_key = key
            pos = lambda a: np.where(np.isfinite(a) & (a > 0), np.maximum(a, FLOOR), np.nan)  # noqa: E731
            self.c["loss_raw"].setData(u, pos(snap.loss))
            self.c["loss"].setData(u, pos(snap.loss_smooth))
            self.c["acc"].setData(u, 100 * snap.acc_smooth)
            self.c["grad"].setData(u, pos(snap.grad_norm))
            if has_cmp:
                self.c["cmp_loss_raw"].setData(u, pos(snap.cmp_loss))
                self.c["cmp_loss"].setData(u, pos(snap.cmp_loss_smooth))
                self.c["cmp_acc"].setData(u, 100 * snap.cmp_acc_smooth)
                self.c["cmp_grad"].setData(u, pos(snap.cmp_grad_norm))
            for k in ("cmp_loss_raw", "cmp_loss", "cmp_acc", "cmp_grad"):
                if not has_cmp and self.c[k].isVisible():
                    self.c[k].setData([], [])
                self.c[k].setVisible(has_cmp)
            # the update axis grows in steps (its ticks are not laid out again every frame)
            self._x_end = grown_end(self._x_end, n)
            set_x(self.loss, 0, self._x_end, padding=0.02)
            set_log_range(self.loss, snap.loss, snap.cmp_loss)
            set_log_range(self.grad, snap.grad_norm, snap.cmp_grad_norm)
        th = theme()
        ink = (th.name, line_width(1.0))
        if ink != self._ink:
            self._ink = ink
            self.clip_line.setPen(pg.mkPen(th.muted, width=line_width(1.5), style=Qt.PenStyle.DotLine))
        nets = f"{swatch(MAIN_COLOR)} {SHORT[snap.cell]}"
        if has_cmp:
            nets += f" {swatch(CMP_COLOR)} {SHORT[snap.cmp_cell]}"
        notes = ["faint: each minibatch"]
        if snap.kind == "regression":
            notes.append(f"right: within ±{snap.tol:g}")
        if clip > 0:
            notes.append("dotted: clip level")
        self.loss.setTitle(f"Training: {nets}<br>" + "; ".join(notes))
        if clip > 0:
            self.clip_line.setPos(np.log10(clip))
            self.clip_line.show()
        else:
            self.clip_line.hide()
        self.scene().prepareForPaint()
