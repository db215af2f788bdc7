"""The LSTM panel's time-axis view: :class:`Inspector` stacks, on one time axis, the shown sequence
(inputs, targets, outputs) over the heatmaps (time × units) of the cell's gates and states, and at
the bottom the cell state C_t and output h_t of the followed units, with the time cursor on every
row. The gradient-flow and training plots are in :mod:`nnsim.panels.lstm_plots`, what they share in
:mod:`nnsim.panels.lstm_style`.

Every item is built once: a preset that changes the cell only shows, hides and relabels rows and
curves (no pyqtgraph item, legend or label is created or removed per frame, nor on a preset), and
the curves are keyed by colour in lines above the plots, so no legend covers data. A frame sets
only the data that changed, and the ranges move in steps (see :mod:`nnsim.panels.lstm_style`).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetricsF

from nnsim.panels.lstm_style import (_CMAPS, CMP_COLOR, DASHED, KEY_NAME, MAIN_COLOR, MAX_INPUTS, MAX_MAPS,
                                     MAX_UNITS, SHORT, SOLID, _cursor, _font, _nice_ticks, _no_title, _tick,
                                     cache_static, cache_static_items, input_colors, set_curve, set_image,
                                     set_x, set_y, state_limit, stepped_range, swatch, unit_color)

__all__ = ["Inspector", "SHORT"]
from nnsim.widgets.plots import TICK_PT, FitLabel, fit_plot, line_width, pt, style_plot, text_scale, theme


def _input_name(name: str) -> str:
    """"value / distractor" -> "value" (the key beside the row stays narrow)."""
    return name.split(" / ")[0].replace("observed ", "")


def _row_label(label: str) -> str:
    """"f forget" -> the symbol in bold, then the word: one horizontal line, so that a row is never
    taller than its heatmap needs (rotated names overlapped their neighbours)."""
    sym, _, word = label.partition(" ")
    return f"<b>{sym}</b> {word}" if word else f"<b>{sym}</b>"


def _short(s: str) -> str:
    return s.replace("depth ", "") if s.startswith("depth ") else s


class Inspector(pg.GraphicsLayoutWidget):
    """Sequence, heatmaps and followed units on one shared time axis.

    ``clicked(t, unit)`` is emitted for a click on a heatmap (unit = the row) or on another row
    (unit = -1). Layout: column 0 the heatmaps' names, column 1 the plots, column 2 the colour bars.
    """

    clicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(theme().bg)
        self.ci.layout.setSpacing(3)
        self.ci.layout.setContentsMargins(3, 6, 3, 3)
        self._cmaps = {k: pg.colormap.get(name) for k, (name, _lv) in _CMAPS.items()}
        # --- the sequence row (its key in column 0, like a legend beside the data)
        self._seq_key = self._key_line(0)
        self.seq = self.addPlot(row=1, col=1)
        style_plot(self.seq)
        self._prep(self.seq)
        self.seq.hideAxis("bottom")             # one time axis, at the bottom row
        self._inputs = [self.seq.plot([], [], pen=pg.mkPen("#777777", width=1.5), symbol="o", symbolSize=5,
                                      symbolPen=None, symbolBrush="#777777", name=f"input {k}")
                        for k in range(MAX_INPUTS)]
        self._target = pg.ScatterPlotItem(symbol="star", size=16, brush=theme().fg, pen=None, name="target")
        self.seq.addItem(self._target)
        self._main = self.seq.plot([], [], pen=pg.mkPen(MAIN_COLOR, width=2.5), name="output")
        self._cmp = self.seq.plot([], [], pen=pg.mkPen(CMP_COLOR, width=2, style=Qt.PenStyle.DashLine),
                                  name="comparison")
        self._texts: list[pg.TextItem] = []
        self._text_state: list[tuple] = []
        self._kind = None
        self._snap = None
        self._seq_range = None          # the sequence's y range (values), moved in steps
        self._lines_range = None        # the followed units' y range, likewise
        # --- the heatmap rows (a pool: a GRU or a plain RNN shows fewer)
        self._rows: list[dict] = []
        for k in range(MAX_MAPS):
            r = k + 2
            label = self._key_label(r)
            plot = self.addPlot(row=r, col=1)
            style_plot(plot)
            plot.showGrid(x=False, y=False)
            self._prep(plot)
            plot.hideAxis("bottom")
            img = pg.ImageItem(axisOrder="col-major")
            plot.addItem(img)
            bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self._cmaps["gate"], width=14, interactive=False)
            bar.setImageItem(img)
            bar.getAxis("right").setStyle(hideOverlappingLabels=False)
            fit_plot(bar)                   # (a ColorBarItem is a PlotItem: as the panel would)
            _no_title(bar)                  # ... but as high as its heatmap
            self.addItem(bar, row=r, col=2)
            marks = pg.ScatterPlotItem(symbol="s", size=11, brush=None, pen=pg.mkPen("#FF00FF", width=2))
            plot.addItem(marks)
            cur = _cursor()
            plot.addItem(cur)
            row = dict(label=label, plot=plot, img=img, bar=bar, marks=marks, cursor=cur, name=None, kind=None)
            self._rows.append(row)
            plot.getViewBox().sigResized.connect(lambda _vb=None, r=row: self._row_ticks(r))
        # --- the followed units
        self._lines_key = self._key_line(MAX_MAPS + 2)
        self.lines = self.addPlot(row=MAX_MAPS + 3, col=1)
        style_plot(self.lines, "", "time step t", "")
        self._prep(self.lines)
        self._line_items = [self.lines.plot([], [], pen=pg.mkPen(unit_color(0), width=2.2))
                            for _ in range(MAX_UNITS * 2)]
        self._line_sig = None
        self._cursors = [_cursor(), _cursor()] + [row["cursor"] for row in self._rows]
        self.seq.addItem(self._cursors[0])
        self.lines.addItem(self._cursors[1])
        self._maps: list[dict] = []
        self._map_keys: tuple = ()
        self._style_key = None
        self._axis_key = None
        self.seq.getViewBox().sigResized.connect(self._on_seq_resized)
        self.scene().sigMouseClicked.connect(self._on_click)
        cache_static_items(self)

    # ---- structure --------------------------------------------------------------------------
    def _key_label(self, row: int) -> pg.LabelItem:
        label = self.addLabel("", row=row, col=0, size=pt(TICK_PT), color=theme().fg, justify="right")
        label._nnsim_base_pt = TICK_PT          # restyle_view scales it with the text
        return label

    def _key_line(self, row: int) -> FitLabel:
        """A colour key on its own line above a plot, across all columns (it wraps when narrow):
        a legend that never covers data and never makes a row taller than one line needs."""
        label = FitLabel("", size=pt(TICK_PT), color=theme().fg, justify="left")
        label._nnsim_base_pt = TICK_PT
        self.addItem(label, row=row, col=0, colspan=3)
        return label

    @staticmethod
    def _set_key(label: pg.LabelItem, lines: list[str], sep: str = "<br>") -> None:
        text = sep.join(lines)
        if text != label.text or label.opts.get("size") != pt(TICK_PT) or label.opts.get("color") != theme().fg:
            label.setText(text, size=pt(TICK_PT), color=theme().fg)

    def _set_levels(self, row: dict, levels) -> None:
        """The colour bar's range (its labels follow in :meth:`_row_ticks`)."""
        lo, hi = float(levels[0]), float(levels[1])
        if row.get("levels") == (lo, hi):
            return
        row["levels"] = (lo, hi)
        row["bar"].setLevels((lo, hi))
        self._row_ticks(row)

    def _row_ticks(self, row: dict) -> None:
        """Label a heatmap row's first and last unit and its colour bar's two ends; a row too low
        for two lines of text gets one label each (the top unit, the range "0–1" / "±7.1")."""
        if row["name"] is None or row.get("levels") is None or self._snap is None:
            return
        H = self._snap.arrays["h"].shape[1]
        lo, hi = row["levels"]
        fh = QFontMetricsF(_font(TICK_PT)).height()
        height = row["plot"].getViewBox().height()
        roomy = height >= 2.2 * fh
        key = (H, lo, hi, roomy, text_scale(), round(height))
        if row.get("ticks") == key:
            return
        row["ticks"] = key
        # the end labels sit just inside the bar (half a line), never over the next row's labels
        share = min(0.5, 0.5 * fh / max(1.0, height))
        inset = (hi - lo) * share
        # the first and last unit's labels likewise inside the row (48 units: at its very edges)
        first, last = max(0.0, H * share - 0.5), min(float(H - 1), H - 0.5 - H * share)
        if roomy:
            units = [(first, "0"), (last, str(H - 1))]
            bar = [(lo + inset, _tick(lo)), (hi - inset, _tick(hi))]
        else:
            units = [(last, str(H - 1))]
            bar = [(hi - inset, f"±{_tick(hi)}" if lo == -hi else f"{_tick(lo)}–{_tick(hi)}")]
        row["plot"].getAxis("left").setTicks([units, []])
        row["bar"].getAxis("right").setTicks([bar, []])

    @staticmethod
    def _set_ticks(plot: pg.PlotItem, key, ticks) -> None:
        """Explicit left-axis ticks (set only when they change)."""
        if getattr(plot, "_lstm_ticks", None) != key:
            plot._lstm_ticks = key
            plot.getAxis("left").setTicks(ticks)

    def _prep(self, plot: pg.PlotItem):
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        # the first and last unit are labelled at the rows' edges: let their text reach past them
        plot.getAxis("left").setStyle(hideOverlappingLabels=False)
        if plot is not self.seq:
            plot.setXLink(self.seq)
        _no_title(plot)

    def _row_items(self, row: dict) -> tuple:
        return (row["label"], 0), (row["plot"], 1), (row["bar"], 2)

    def set_maps(self, maps: tuple) -> None:
        """Show the heatmap rows for ``maps`` = ((name, label, kind), ...): the rows are built once;
        a cell with fewer maps takes the unused rows out of the layout (hidden, kept)."""
        keys = tuple(m[0] for m in maps)
        if keys == self._map_keys:
            return
        lay = self.ci.layout
        for row in self._rows:
            for item, _col in self._row_items(row):
                if item.parentLayoutItem() is lay:
                    lay.removeItem(item)
        lay.removeItem(self.lines)
        lay.removeItem(self._lines_key)
        n = min(len(maps), MAX_MAPS)
        self._maps = []
        for k, row in enumerate(self._rows):
            used = k < n
            for item, col in self._row_items(row):
                item.setVisible(used)
                if used:
                    lay.addItem(item, k + 2, col)
            if not used:
                row["name"] = None
                continue
            name, label, kind = maps[k]
            row["name"] = name
            row["label"].setText(_row_label(label), size=pt(TICK_PT), color=theme().fg)
            if kind != row["kind"]:
                row["kind"] = kind
                row["bar"].setColorMap(self._cmaps[kind])
                self._set_levels(row, _CMAPS[kind][1] or (-1.0, 1.0))
            self._maps.append(row)
        # rows: 0 the sequence's key, 1 the sequence, 2 … n + 1 the heatmaps, then the units' key
        # and the units' curves
        lay.addItem(self._lines_key, n + 2, 0, 1, 3)
        lay.addItem(self.lines, n + 3, 1)
        for r in range(MAX_MAPS + 4):
            stretch = {1: 3, n + 3: 3}.get(r, 2 if 2 <= r <= n + 1 else 0)
            lay.setRowStretchFactor(r, stretch)
        self._map_keys = keys

    def _apply_style(self) -> None:
        """Theme colours and widths of the cursors, the target and the inputs (on a theme change)."""
        th = theme()
        key = (th.name, line_width(1.0))
        if key == self._style_key:
            return
        self._style_key = key
        for cur in self._cursors:
            cur.setPen(pg.mkPen(th.fg, width=line_width(1.5), style=Qt.PenStyle.DashLine))
        self._target.setBrush(pg.mkBrush(th.fg))
        for k, item in enumerate(self._inputs):
            c = input_colors()[k % 3]
            item._nnsim_base_width = 1.5
            item.setPen(pg.mkPen(c, width=line_width(1.5)))
            item.setSymbolBrush(c)
        for row in self._rows:
            row["label"].setText(row["label"].text, size=pt(TICK_PT), color=th.fg)
        self._text_state = [None] * len(self._texts)      # recolour the characters
        for it in self._texts:
            it.setFont(_font(TICK_PT, bold=True))

    def _set_axis_width(self, snap) -> None:
        """One left-axis width for every row, so that the time steps line up across the rows."""
        if snap.kind == "classification":
            texts = ["input", "target", SHORT[snap.cell][:8], SHORT[snap.cmp_cell][:8]]
        else:
            texts = ["−0.5", "−10", str(snap.hidden)]
        key = (tuple(texts), text_scale())
        if key == self._axis_key:
            return
        self._axis_key = key
        fm = QFontMetricsF(_font(TICK_PT))
        width = int(math.ceil(max(fm.horizontalAdvance(t) for t in texts) + 14))
        for plot in [self.seq, self.lines] + [row["plot"] for row in self._rows]:
            plot.getAxis("left").setWidth(width)
        bar_width = int(math.ceil(fm.horizontalAdvance("−0.0") + 10))
        for row in self._rows:
            row["bar"].getAxis("right").setWidth(bar_width)
            row["plot"].setMinimumHeight(1.3 * fm.height())     # the row's name, one line
            row["bar"].setMinimumHeight(0)
        # the followed units: three labelled values and the time axis
        self.lines.setMinimumHeight(2.1 * fm.height() + self.lines.getAxis("bottom").height())

    # ---- drawing ----------------------------------------------------------------------------
    def render(self, snap, units: list[int]) -> None:
        """Draw ``snap``: only the data that differs from what is shown is set again."""
        self._snap = snap
        self.set_maps(snap.maps)
        self._apply_style()
        self._set_axis_width(snap)
        T, H = snap.arrays["h"].shape
        t = snap.t
        for cur in self._cursors:
            cur.setPos(t)                               # (no-op when unchanged)
        self._render_sequence(snap)
        for m in self._maps:
            data = np.nan_to_num(snap.arrays[m["name"]], nan=0.0, posinf=0.0, neginf=0.0)
            set_image(m["img"], data)
            if m.get("rect") != (T, H):
                m["rect"] = (T, H)
                m["img"].setRect(-0.5, -0.5, T, H)
            if m["kind"] == "state":
                peak = max(1.0, float(np.abs(data).max()) if data.size else 1.0)
                self._set_levels(m, (-(lim := state_limit(m.get("levels"), peak)), lim))
            set_y(m["plot"], -0.5, H - 0.5)
            self._row_ticks(m)
            set_curve(m["marks"], [t] * len(units), units)
        set_x(self.seq, -0.5, T - 0.5, padding=0.01)
        self._render_lines(snap, units)
        self._fit_central()
        # new ranges reach the items now, not in the paint (pyqtgraph applies them when the scene is
        # about to be painted, which marks the items dirty again: a second paint per frame)
        self.scene().prepareForPaint()

    def _fit_central(self) -> None:
        """Keep the layout exactly as large as the view: a preset whose rows needed more height
        (a text strip of four rows) grew it, and pyqtgraph only fits it again on a resize, so the
        next preset's bottom row would stay cut below the view."""
        rect = self.range
        geo = self.ci.geometry()
        if abs(geo.height() - rect.height()) > 0.5 or abs(geo.width() - rect.width()) > 0.5:
            self.ci.setGeometry(rect)

    def _render_sequence(self, snap):
        kind = "text" if snap.kind == "classification" else "values"
        if kind != self._kind:
            self._kind = kind
            # the other kind's items and axis ticks go (a preset leaves no stale labels)
            for item in self._inputs + [self._target, self._main, self._cmp]:
                set_curve(item, [], [])
                item.setVisible(kind == "values")
            for k, it in enumerate(self._texts):
                it.setText("")
                self._text_state[k] = None
            self.seq._lstm_ticks = None
            self._seq_range = None
        # rows of characters need their line height each (no overlap from one row to the next)
        n_rows = 2.2 if kind == "values" else (4 if snap.y_cmp is not None else 3)
        min_h = QFontMetricsF(_font(TICK_PT, bold=True)).height() * 1.05 * n_rows + 8
        if abs(self.seq.minimumHeight() - min_h) > 0.5:
            self.seq.setMinimumHeight(min_h)
        if kind == "values":
            self._render_values(snap)
        else:
            self._render_text(snap)

    def _render_values(self, snap):
        T = len(snap.x)
        t = np.arange(T)
        n_in = min(snap.x.shape[1], MAX_INPUTS)
        for k, item in enumerate(self._inputs):
            item.setVisible(k < n_in)
            if k < n_in:
                set_curve(item, t, snap.x[:, k])
        m = snap.mask
        set_curve(self._target, t[m], snap.target[m, 0])
        set_curve(self._main, t, snap.y[:, 0])
        if snap.y_cmp is not None:
            set_curve(self._cmp, t, snap.y_cmp[:, 0])
        else:
            set_curve(self._cmp, [], [])
        self._cmp.setVisible(snap.y_cmp is not None)
        vals = [snap.x.ravel(), snap.target[m].ravel(), snap.y.ravel()]
        if snap.y_cmp is not None:
            vals.append(snap.y_cmp.ravel())
        allv = np.concatenate(vals)
        allv = allv[np.isfinite(allv)]
        lo, hi = (float(allv.min()), float(allv.max())) if allv.size else (-1.0, 1.0)
        lo, hi = self._seq_range = stepped_range(self._seq_range, min(lo, -1.0), max(hi, 1.0))
        set_y(self.seq, lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        ticks = _nice_ticks(lo, hi)
        self._set_ticks(self.seq, ("values", str(ticks)), ticks)
        fg = theme().fg
        cols = input_colors()
        keys = ["<b>Sequence</b>"]
        keys += [f"{swatch(cols[k % 3], '●')} {_input_name(snap.input_names[k])}" for k in range(n_in)]
        keys.append(f"{swatch(fg, '★')} target")
        keys.append(f"{swatch(MAIN_COLOR, SOLID)} {KEY_NAME[snap.cell]}")
        if snap.y_cmp is not None:
            keys.append(f"{swatch(CMP_COLOR, DASHED)} {KEY_NAME[snap.cmp_cell]}")
        self._set_key(self._seq_key, keys, " &nbsp; ")

    def _stride(self, snap) -> int:
        """Show every k-th character so that neighbours never overlap (k = 1 when there is room)."""
        T = len(snap.x)
        width = self.seq.getViewBox().width()
        if width <= 0 or T <= 0:
            return 1
        step = width / (T + 0.02 * T)
        key = (snap.output_names, tuple(snap.tokens) if snap.tokens is not None else (), text_scale())
        if getattr(self, "_char_key", None) != key:        # the widest symbol this task can show
            self._char_key = key
            fm = QFontMetricsF(_font(TICK_PT, bold=True))
            texts = [_short(s) for s in snap.output_names] + list(key[1]) + ["␣"]
            self._char_w = max(fm.horizontalAdvance(s) for s in texts) + 2
        return max(1, int(math.ceil(self._char_w / step)))

    def _render_text(self, snap):
        """Rows of symbols: input, target, the network's arg-max (theme green right, red wrong)."""
        T = len(snap.x)
        rows = [("input", 3)] + [("target", 2), ("network", 1)] + (
            [("comparison", 0)] if snap.y_cmp is not None else [])
        need = T * len(rows)
        while len(self._texts) < need:              # grows with the longest sequence, never shrinks
            it = pg.TextItem("", anchor=(0.5, 0.5))
            it.setFont(_font(TICK_PT, bold=True))
            self.seq.addItem(it)
            cache_static(it.textItem)
            self._texts.append(it)
            self._text_state.append(None)
        th = theme()
        stride = self._stride(snap)
        names = snap.output_names
        pred = np.argmax(snap.y, axis=1)
        pred_c = np.argmax(snap.y_cmp, axis=1) if snap.y_cmp is not None else None
        k = 0
        for name, yrow in rows:
            for t in range(T):
                it = self._texts[k]
                shown = (t - snap.t) % stride == 0      # the cursor's step is always shown
                if name == "input":
                    txt = snap.tokens[t] if snap.tokens is not None else ""
                    txt, color = ("␣" if txt == " " else txt), th.muted
                elif name == "target":
                    txt, color = names[int(snap.labels[t])], th.fg
                else:
                    p = pred if name == "network" else pred_c
                    txt = names[int(p[t])]
                    color = th.good if int(p[t]) == int(snap.labels[t]) else th.bad
                state = (_short(txt), color, t, yrow, shown)
                if self._text_state[k] != state:        # only what changed is laid out again
                    self._text_state[k] = state
                    it.setPos(t, yrow)
                    it.setText(state[0])
                    it.setColor(color)
                    it.setVisible(shown)
                k += 1
        for j in range(need, len(self._texts)):
            if self._text_state[j] is not None:
                self._text_state[j] = None
                self._texts[j].setText("")
                self._texts[j].setVisible(False)
        set_y(self.seq, -0.6 + (1 if snap.y_cmp is None else 0), 3.6)
        ticks = [[(3, "input"), (2, "target"), (1, SHORT[snap.cell][:8])]
                 + ([(0, SHORT[snap.cmp_cell][:8])] if snap.y_cmp is not None else [])]
        self._set_ticks(self.seq, ("text", str(ticks)), ticks)
        key = ["<b>Sequence</b>, guesses:", f"{swatch(th.good)} right", f"{swatch(th.bad)} wrong"]
        if stride > 1:
            key.append(f"(1 in {stride} shown)")
        self._set_key(self._seq_key, key, " &nbsp; ")

    def _on_seq_resized(self):
        if self._kind == "text" and self._snap is not None:
            self._render_text(self._snap)

    def _render_lines(self, snap, units):
        keys = ["c", "h"] if "c" in snap.arrays else (["a", "h"] if "a" in snap.arrays else ["h"])
        units = list(units)[:MAX_UNITS]
        sig = (tuple(units), tuple(keys), self._style_key)
        if sig != self._line_sig:
            self._line_sig = sig
            k = 0
            for u in units:
                for key in keys:
                    dashed = key == "h" and len(keys) > 1
                    style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
                    item = self._line_items[k]
                    item._nnsim_base_width = 2.2
                    item.setPen(pg.mkPen(unit_color(u), width=line_width(2.2), style=style))
                    item.opts["name"] = {"c": "C", "h": "h", "a": "a"}[key] + f" unit {u}"
                    item.setVisible(True)
                    k += 1
            for item in self._line_items[k:]:
                set_curve(item, [], [])
                item.setVisible(False)
            sym = {"c": "C<sub>t</sub>", "h": "h<sub>t</sub>", "a": "a<sub>t</sub>"}
            fg = theme().fg
            key = ["<b>Followed units</b>"] + [f"{swatch(unit_color(u))} {u}" for u in units]
            if len(keys) > 1:
                key += [f"{swatch(fg, SOLID)} {sym[keys[0]]}", f"{swatch(fg, DASHED)} {sym[keys[1]]}"]
            else:
                key.append(f"{swatch(fg, SOLID)} {sym[keys[0]]}")
            self._set_key(self._lines_key, key, " &nbsp; ")
        T = len(snap.x)
        t = np.arange(T)
        k = 0
        vals = []
        for u in units:
            for key in keys:
                v = snap.arrays[key][:, u]
                set_curve(self._line_items[k], t, v)
                vals.append(v)
                k += 1
        allv = np.concatenate(vals) if vals else np.zeros(1)
        allv = allv[np.isfinite(allv)]
        lo, hi = (float(allv.min()), float(allv.max())) if allv.size else (-1.0, 1.0)
        lo, hi = self._lines_range = stepped_range(self._lines_range, min(lo, -1.0), max(hi, 1.0))
        set_y(self.lines, lo, hi, padding=0.04)
        ticks = _nice_ticks(lo, hi)
        self._set_ticks(self.lines, str(ticks), ticks)

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
