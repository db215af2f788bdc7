"""Plot widgets of the LSTM panel.

:class:`Inspector` stacks, on one time axis, the shown sequence (inputs, targets, outputs) over the
heatmaps (time × units) of the cell's gates and states, and at the bottom the cell state C_t and
output h_t of the followed units, with the time cursor on every row. :class:`FlowPlot` draws the
gradient flow ‖∂L_T/∂h_t‖ on a log scale; :class:`TrainingPlots` loss, accuracy and gradient norm.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont

from nnsim.widgets.plots import CLASS_COLORS, LABEL_PT, TICK_PT, class_color, style_plot

LEFT_AXIS_WIDTH = 92
MAIN_COLOR = "#D55E00"      # the panel's cell
CMP_COLOR = "#0072B2"       # the comparison network
TARGET_COLOR = "#000000"
FLOOR = 1e-30               # log plots cannot show 0

_CMAPS = {"gate": ("viridis", (0.0, 1.0)), "tanh": ("CET-D1", (-1.0, 1.0)),
          "state": ("CET-D1", None)}


def set_log_range(plot, *arrays, min_decades: float = 3.2) -> None:
    """y range of a log plot: the data's decades with a margin, at least ``min_decades`` wide
    (with fewer than three decade ticks pyqtgraph labels every minor tick: unreadable)."""
    vals = [np.log10(a[np.isfinite(a) & (a > 0)]) for a in arrays if a is not None and len(a)]
    vals = [v for v in vals if v.size]
    if not vals:
        return
    lo = float(min(v.min() for v in vals))
    hi = float(max(v.max() for v in vals))
    mid, half = (lo + hi) / 2, max((hi - lo) / 2 + 0.25, min_decades / 2)
    plot.setYRange(mid - half, mid + half, padding=0)


def _font(pt=TICK_PT, bold=False):
    f = QFont()
    f.setPointSize(pt)
    f.setBold(bold)
    return f


def _cursor():
    return pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#000", width=1.5,
                                                                  style=Qt.PenStyle.DashLine))


def ink_for(view: pg.GraphicsView) -> str:
    """Black on a light background, white on a dark one (the presentation theme may switch)."""
    return "#000000" if view.backgroundBrush().color().lightness() >= 128 else "#FFFFFF"


SHORT = {"rnn": "RNN", "lstm": "LSTM", "peephole": "peephole LSTM", "coupled": "coupled LSTM",
         "gru": "GRU", "": ""}


#: line colours of the followed units (Okabe–Ito without the yellow, which vanishes on white)
UNIT_COLORS = tuple(c for c in CLASS_COLORS if c != "#F0E442") + ("#882255",)


def unit_color(k: int):
    return UNIT_COLORS[k % len(UNIT_COLORS)]


class Inspector(pg.GraphicsLayoutWidget):
    """Sequence, heatmaps and followed units on one shared time axis.

    ``clicked(t, unit)`` is emitted for a click on a heatmap (unit = the row) or on another row
    (unit = -1)."""

    clicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.ci.layout.setSpacing(2)
        self.seq = self.addPlot(row=0, col=0)
        style_plot(self.seq)
        self._prep(self.seq, "sequence")
        self.seq.getAxis("bottom").setStyle(showValues=False)
        self.seq.legend = None
        self.addItem(_Spacer(48), row=0, col=1)
        self._seq_items: list = []
        self._texts: list[pg.TextItem] = []
        self._maps: list[dict] = []
        self._map_keys: tuple = ()
        self.lines = None
        self._line_items: list = []
        self._cursors = [_cursor()]
        self.seq.addItem(self._cursors[0])
        self._build_lines(row=1)
        self.scene().sigMouseClicked.connect(self._on_click)
        self._kind = None

    # ---- structure --------------------------------------------------------------------------
    def _prep(self, plot: pg.PlotItem, ylabel: str):
        plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        plot.setLabel("left", ylabel, **{"font-size": f"{LABEL_PT - 1}pt", "color": "#111"})
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        if plot is not self.seq:
            plot.setXLink(self.seq)

    def _build_lines(self, row: int):
        self.lines = self.addPlot(row=row, col=0)
        self._lines_spacer = _Spacer(48)
        self.addItem(self._lines_spacer, row=row, col=1)
        style_plot(self.lines, "", "time step t", "")
        self._prep(self.lines, "followed units")
        leg = self.lines.addLegend(offset=(2, 1), labelTextSize=f"{TICK_PT - 1}pt", colCount=8)
        leg.setBrush(pg.mkBrush(255, 255, 255, 200))
        cur = _cursor()
        self.lines.addItem(cur)
        self._cursors = [self._cursors[0], cur] + [m["cursor"] for m in self._maps]
        self._line_items = []

    def set_maps(self, maps: tuple) -> None:
        """(Re)build the heatmap rows for ``maps`` = ((name, label, kind), ...)."""
        keys = tuple(m[0] for m in maps)
        if keys == self._map_keys:
            return
        for m in self._maps:
            self.removeItem(m["plot"])
            self.removeItem(m["bar"])
        self._maps = []
        if self.lines is not None:
            self.removeItem(self.lines)
            self.removeItem(self._lines_spacer)
            self.lines = None
        for row, (name, label, kind) in enumerate(maps, start=1):
            plot = self.addPlot(row=row, col=0)
            style_plot(plot)
            plot.showGrid(x=False, y=False)
            self._prep(plot, label)
            plot.getAxis("bottom").setStyle(showValues=False)
            img = pg.ImageItem(axisOrder="col-major")
            plot.addItem(img)
            cmap_name, levels = _CMAPS[kind]
            cmap = pg.colormap.get(cmap_name)
            bar = pg.ColorBarItem(values=levels or (-1.0, 1.0), colorMap=cmap, width=14,
                                  interactive=False)
            bar.setImageItem(img)
            bar.getAxis("right").setTickFont(_font(TICK_PT - 2))
            bar.getAxis("right").setWidth(34)
            self.addItem(bar, row=row, col=1)
            marks = pg.ScatterPlotItem(symbol="s", size=11, brush=None,
                                       pen=pg.mkPen("#FF00FF", width=2))
            plot.addItem(marks)
            cur = _cursor()
            plot.addItem(cur)
            self._maps.append(dict(name=name, kind=kind, plot=plot, img=img, bar=bar, marks=marks,
                                   cursor=cur))
        self._map_keys = keys
        self._build_lines(row=len(maps) + 1)
        self._ink = None                    # new cursors: set their colour at the next render
        for r in range(len(maps) + 2):
            self.ci.layout.setRowStretchFactor(r, 1 if 0 < r <= len(maps) else 2)

    # ---- drawing ----------------------------------------------------------------------------
    def render(self, snap, units: list[int]) -> None:
        self.set_maps(snap.maps)
        T, H = snap.arrays["h"].shape
        t = snap.t
        ink = ink_for(self)
        if ink != getattr(self, "_ink", None):
            self._ink = ink
            for cur in self._cursors:
                cur.setPen(pg.mkPen(ink, width=1.5, style=Qt.PenStyle.DashLine))
        for cur in self._cursors:
            cur.setPos(t)
        self._render_sequence(snap)
        for m in self._maps:
            data = np.nan_to_num(snap.arrays[m["name"]], nan=0.0, posinf=0.0, neginf=0.0)
            m["img"].setImage(data, autoLevels=False)
            m["img"].setRect(-0.5, -0.5, T, H)
            if m["kind"] == "state":
                lim = max(1.0, float(np.abs(data).max()) if data.size else 1.0)
                m["bar"].setLevels((-lim, lim))
            m["plot"].setYRange(-0.5, H - 0.5, padding=0)
            m["marks"].setData([t] * len(units), units)
        self.seq.setXRange(-0.5, T - 0.5, padding=0.01)
        self._render_lines(snap, units)

    def _clear_seq(self):
        for it in self._seq_items:
            self.seq.removeItem(it)
        self._seq_items = []
        if self.seq.legend is not None:
            self.seq.legend.clear()

    def _render_sequence(self, snap):
        kind = "text" if snap.kind == "classification" else "values"
        if kind != self._kind:
            self._clear_seq()
            for it in self._texts:
                self.seq.removeItem(it)
            self._texts = []
            self._kind = kind
            if self.seq.legend is None:
                self.seq.legend = self.seq.addLegend(offset=(2, 1), labelTextSize=f"{TICK_PT - 1}pt",
                                                     colCount=6)
                self.seq.legend.setBrush(pg.mkBrush(255, 255, 255, 210))
        if kind == "values":
            self._render_values(snap)
        else:
            self._render_text(snap)

    def _render_values(self, snap):
        T = len(snap.x)
        t = np.arange(T)
        n_in = snap.x.shape[1]
        want = n_in + 3
        if len(self._seq_items) != want:
            self._clear_seq()
            grey = ("#777777", "#BBBBBB", "#999999")
            for k in range(n_in):
                item = self.seq.plot([], [], pen=pg.mkPen(grey[k % 3], width=1.5), symbol="o",
                                     symbolSize=5, symbolBrush=grey[k % 3], symbolPen=None,
                                     name=snap.input_names[k])
                self._seq_items.append(item)
            tgt = pg.ScatterPlotItem(symbol="star", size=16, brush=TARGET_COLOR, pen=None,
                                     name="target")
            self.seq.addItem(tgt)
            self._seq_items.append(tgt)
            self._seq_items.append(self.seq.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=2.5),
                                                 name="output"))
            self._seq_items.append(self.seq.plot([], [], pen=pg.mkPen(CMP_COLOR, width=2,
                                                                      style=Qt.PenStyle.DashLine),
                                                 name="comparison"))
        for k in range(n_in):
            self._seq_items[k].setData(t, snap.x[:, k])
        m = snap.mask
        self._seq_items[n_in].setData(t[m], snap.target[m, 0], brush=self._ink, pen=None)
        main, cmpi = self._seq_items[n_in + 1], self._seq_items[n_in + 2]
        main.setData(t, snap.y[:, 0])
        self.seq.legend.removeItem(main)
        self.seq.legend.addItem(main, SHORT[snap.cell])
        self.seq.legend.removeItem(cmpi)
        if snap.y_cmp is not None:
            cmpi.setData(t, snap.y_cmp[:, 0])
            self.seq.legend.addItem(cmpi, SHORT[snap.cmp_cell])
        else:
            cmpi.setData([], [])
        vals = [snap.x.ravel(), snap.target[m].ravel(), snap.y.ravel()]
        if snap.y_cmp is not None:
            vals.append(snap.y_cmp.ravel())
        allv = np.concatenate(vals)
        allv = allv[np.isfinite(allv)]
        lo, hi = (float(allv.min()), float(allv.max())) if allv.size else (-1.0, 1.0)
        lo, hi = min(lo, -1.0), max(hi, 1.0)
        self.seq.setYRange(lo - 0.05 * (hi - lo), hi + 0.6 * (hi - lo), padding=0)
        self.seq.setLabel("left", "sequence", **{"font-size": f"{LABEL_PT - 1}pt"})

    def _render_text(self, snap):
        """Rows of symbols: input, target, the network's arg-max (green right, red wrong)."""
        T = len(snap.x)
        rows = [("input", 3)] + [("target", 2), ("network", 1)] + (
            [("comparison", 0)] if snap.y_cmp is not None else [])
        need = T * len(rows)
        while len(self._texts) < need:
            it = pg.TextItem("", anchor=(0.5, 0.5))
            it.setFont(_font(TICK_PT, bold=True))
            self.seq.addItem(it)
            self._texts.append(it)
        for it in self._texts[need:]:
            it.setText("")
        names = snap.output_names
        pred = np.argmax(snap.y, axis=1)
        pred_c = np.argmax(snap.y_cmp, axis=1) if snap.y_cmp is not None else None
        k = 0
        for name, yrow in rows:
            for t in range(T):
                it = self._texts[k]
                k += 1
                it.setPos(t, yrow)
                if name == "input":
                    txt = snap.tokens[t] if snap.tokens is not None else ""
                    txt = "␣" if txt == " " else txt
                    color = "#777777"
                elif name == "target":
                    txt, color = names[int(snap.labels[t])], self._ink
                else:
                    p = pred if name == "network" else pred_c
                    txt = names[int(p[t])]
                    color = "#009E73" if int(p[t]) == int(snap.labels[t]) else "#E0301E"
                it.setText(_short(txt))
                it.setColor(color)
        self.seq.setYRange(-0.6 + (1 if snap.y_cmp is None else 0), 3.6, padding=0)
        ax = self.seq.getAxis("left")
        ax.setTicks([[(3, "input"), (2, "target"), (1, SHORT[snap.cell][:8])]
                     + ([(0, SHORT[snap.cmp_cell][:8])] if snap.y_cmp is not None else [])])
        self.seq.setLabel("left", "")

    def _render_lines(self, snap, units):
        keys = ["c", "h"] if "c" in snap.arrays else (["a", "h"] if "a" in snap.arrays else ["h"])
        want = len(units) * len(keys)
        if len(self._line_items) != want or getattr(self, "_line_sig", None) != (tuple(units), tuple(keys)):
            for it in self._line_items:
                self.lines.removeItem(it)
            self._line_items = []
            for u in units:
                for key in keys:
                    dashed = key == "h" and len(keys) > 1
                    style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
                    name = {"c": "C", "h": "h", "a": "a"}[key] + f" unit {u}"
                    self._line_items.append(self.lines.plot(
                        [], [], pen=pg.mkPen(unit_color(u), width=2.2, style=style), name=name))
            self._line_sig = (tuple(units), tuple(keys))
        T = len(snap.x)
        t = np.arange(T)
        k = 0
        vals = []
        for u in units:
            for key in keys:
                v = snap.arrays[key][:, u]
                self._line_items[k].setData(t, v)
                vals.append(v)
                k += 1
        allv = np.concatenate(vals) if vals else np.zeros(1)
        allv = allv[np.isfinite(allv)]
        lo, hi = (float(allv.min()), float(allv.max())) if allv.size else (-1.0, 1.0)
        lo, hi = min(lo, -1.0), max(hi, 1.0)
        self.lines.setYRange(lo, hi + 0.3 * (hi - lo), padding=0.02)

    # ---- mouse ------------------------------------------------------------------------------
    def _on_click(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton:
            return                      # right click: the export menu
        pos = ev.scenePos()
        for m in self._maps:
            vb = m["plot"].getViewBox()
            if vb.sceneBoundingRect().contains(pos):
                p = vb.mapSceneToView(pos)
                self.clicked.emit(int(round(p.x())), int(round(p.y())))
                ev.accept()
                return
        for plot in (self.seq, self.lines):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(pos):
                p = vb.mapSceneToView(pos)
                self.clicked.emit(int(round(p.x())), -1)
                ev.accept()
                return

    def heatmap_data(self) -> dict:
        """name -> the (T, H) array shown (for tests and CSV export)."""
        return {m["name"]: m["img"].image for m in self._maps}


class _Spacer(pg.GraphicsWidget):
    """An empty cell of fixed width, so rows without a colour bar keep the same plot width."""

    def __init__(self, width: int):
        super().__init__()
        self.setMinimumWidth(width)
        self.setMaximumWidth(width)


def _short(s: str) -> str:
    return s.replace("depth ", "") if s.startswith("depth ") else s


class FlowPlot(pg.PlotWidget):
    """‖∂L_T/∂h_t‖ (and ‖∂L_T/∂C_t‖) against t for the cell and the comparison network, log y."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot_item = self.getPlotItem()
        style_plot(self.plot_item, "Gradient flow back from the last step", "time step t",
                   "‖∂L_T/∂h_t‖")
        self.plot_item.setLogMode(y=True)
        self.plot_item.getAxis("left").enableAutoSIPrefix(False)
        leg = self.plot_item.addLegend(offset=(-6, -6), labelTextSize=f"{TICK_PT - 1}pt")
        leg.setBrush(pg.mkBrush(255, 255, 255, 210))
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

    def render(self, snap):
        leg = self.plot_item.legend
        t = snap.flow_t
        a, b = SHORT[snap.cell], SHORT[snap.cmp_cell]
        series = (("h", snap.flow_h, f"{a}: ‖∂L_T/∂h_t‖"), ("c", snap.flow_c, f"{a}: ‖∂L_T/∂C_t‖"),
                  ("cmp_h", snap.flow_cmp_h, f"{b}: ‖∂L_T/∂h_t‖"),
                  ("cmp_c", snap.flow_cmp_c, f"{b}: ‖∂L_T/∂C_t‖"))
        for key, data, label in series:
            curve = self.curves[key]
            leg.removeItem(curve)
            if data is None:
                curve.setData([], [])
                continue
            d = np.where(np.isfinite(data), np.maximum(data, FLOOR), np.nan)
            curve.setData(t, d)
            leg.addItem(curve, label)
        self.cursor.setPen(pg.mkPen(ink_for(self), width=1.5, style=Qt.PenStyle.DashLine))
        self.cursor.setPos(min(snap.t, len(t) - 1))
        self.plot_item.enableAutoRange(axis="x")
        set_log_range(self.plot_item, *(np.maximum(d, FLOOR) for _, d, _ in series if d is not None))
        title = "Gradient flow back from the last step"
        if any(d is not None and np.nanmin(d) < FLOOR for _, d, _ in series if d is not None and len(d)):
            title += " (values below 10⁻³⁰ drawn at 10⁻³⁰)"
        sig = [f"{a} {snap.sigma_max:.2f}"]
        if snap.cmp_label:
            sig.append(f"{b} {snap.cmp_sigma_max:.2f}")
        self.plot_item.setTitle(f"{title}<br><span style='font-size:{TICK_PT - 1}pt'>largest "
                                f"singular value of W<sub>hh</sub>: {', '.join(sig)}</span>",
                                size=f"{LABEL_PT}pt", color="#111")


class TrainingPlots(pg.GraphicsLayoutWidget):
    """Loss (log), accuracy (%) and ‖∂L/∂θ‖ before clipping (log) against the update."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.title = self.addLabel("Training", row=0, col=0, size=f"{LABEL_PT}pt", color="#111")
        self.loss = self.addPlot(row=1, col=0)
        style_plot(self.loss, "", "", "loss")
        self.loss.setLogMode(y=True)
        self.acc = self.addPlot(row=2, col=0)
        style_plot(self.acc, "", "", "% right")
        self.acc.setYRange(0, 100, padding=0.02)
        self.grad = self.addPlot(row=3, col=0)
        style_plot(self.grad, "", "update", "‖g‖")
        self.grad.setLogMode(y=True)
        for p in (self.loss, self.acc, self.grad):
            p.getAxis("left").setWidth(70)
            p.getAxis("left").enableAutoSIPrefix(False)
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="mean")
            if p is not self.loss:
                p.setXLink(self.loss)
            if p is not self.grad:
                p.getAxis("bottom").setStyle(showValues=False)
        self.acc.getAxis("left").setTicks([[(0, "0"), (50, "50"), (100, "100")]])
        leg = self.loss.addLegend(offset=(8, -4), labelTextSize=f"{TICK_PT - 1}pt", colCount=2)
        leg.setBrush(pg.mkBrush(255, 255, 255, 210))
        faint_main, faint_cmp = class_color(5, 70), class_color(0, 70)
        self.c = {
            "loss_raw": self.loss.plot([], [], pen=pg.mkPen(faint_main, width=1)),
            "cmp_loss_raw": self.loss.plot([], [], pen=pg.mkPen(faint_cmp, width=1)),
            "loss": self.loss.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=2.5), name="main"),
            "cmp_loss": self.loss.plot([], [], pen=pg.mkPen(CMP_COLOR, width=2.5), name="cmp"),
            "acc": self.acc.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=2.5)),
            "cmp_acc": self.acc.plot([], [], pen=pg.mkPen(CMP_COLOR, width=2.5)),
            "grad": self.grad.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=1.5)),
            "cmp_grad": self.grad.plot([], [], pen=pg.mkPen(CMP_COLOR, width=1.5)),
        }
        self.clip_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#555", width=1.5,
                                                                style=Qt.PenStyle.DotLine))
        self.grad.addItem(self.clip_line)

    def render(self, snap, clip: float):
        n = len(snap.updates)
        u = snap.updates
        leg = self.loss.legend
        pos = lambda a: np.where(np.isfinite(a) & (a > 0), np.maximum(a, FLOOR), np.nan)  # noqa: E731
        self.c["loss_raw"].setData(u, pos(snap.loss))
        self.c["loss"].setData(u, pos(snap.loss_smooth))
        self.c["acc"].setData(u, 100 * snap.acc_smooth)
        self.c["grad"].setData(u, pos(snap.grad_norm))
        leg.removeItem(self.c["loss"])
        leg.addItem(self.c["loss"], SHORT[snap.cell])
        leg.removeItem(self.c["cmp_loss"])
        if snap.cmp_loss is not None:
            self.c["cmp_loss_raw"].setData(u, pos(snap.cmp_loss))
            self.c["cmp_loss"].setData(u, pos(snap.cmp_loss_smooth))
            self.c["cmp_acc"].setData(u, 100 * snap.cmp_acc_smooth)
            self.c["cmp_grad"].setData(u, pos(snap.cmp_grad_norm))
            leg.addItem(self.c["cmp_loss"], SHORT[snap.cmp_cell])
        else:
            for k in ("cmp_loss_raw", "cmp_loss", "cmp_acc", "cmp_grad"):
                self.c[k].setData([], [])
        unit = f"within ±{snap.tol:g} of the target" if snap.kind == "regression" else "right"
        self.title.setText(f"Per minibatch: loss, % {unit},<br>‖g‖ = ‖∂L/∂θ‖ before clipping "
                           "(dotted: the clip level)", size=f"{TICK_PT}pt", color="#111")
        if clip > 0:
            self.clip_line.setPos(np.log10(clip))
            self.clip_line.show()
        else:
            self.clip_line.hide()
        self.loss.setXRange(0, max(10, n), padding=0.02)
        set_log_range(self.loss, snap.loss, snap.cmp_loss)
        set_log_range(self.grad, snap.grad_norm, snap.cmp_grad_norm)
