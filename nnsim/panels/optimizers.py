"""Optimizer trajectories panel: every update rule of the course racing on the same surface.

Centre: the surface as a log-scaled colour map with contour lines, one coloured path per optimizer
with a moving head, the known minima (stars), the start (cross; click or drag to move it: every path
is recomputed at once), the velocity arrow of the momentum methods and Nesterov's look-ahead point.
Right: loss and distance to the nearest minimum against the step (log axes). Below: the numbers at
the head for every optimizer.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from nnsim.engine.base import FINISHED
from nnsim.engine.optimizers import (PRESETS, RULE_LABELS, OptimizerRaceParams, OptimizerRaceSimulation,
                                     params_for_surface)
from nnsim.panels.base import Panel
from nnsim.widgets.plots import long_series, make_plot

#: one fixed colour per rule, the same in every view (and in every panel that races optimizers)
RULE_COLORS = {"sgd": "#333333", "momentum": "#0072B2", "nesterov": "#56B4E9", "adagrad": "#009E73",
               "rmsprop": "#E69F00", "adam": "#D55E00", "adadelta": "#8B6914", "newton": "#CC79A7"}
N_LEVELS = 14


def log_levels(z: np.ndarray, f_min: float | None, n: int = N_LEVELS) -> tuple[np.ndarray, np.ndarray]:
    """(field, levels): the field the colours and contours use, and n log-spaced contour levels.

    With a known minimum the field is log10(f − f_min + δ); without one (a saddle, unbounded below)
    a signed log keeps both signs readable.
    """
    if f_min is not None and np.isfinite(f_min):
        shifted = np.maximum(z - f_min, 0.0)
        pos = shifted[shifted > 0]
        delta = max(float(pos.min()) if pos.size else 1e-12, 1e-12)
        field = np.log10(shifted + delta)
    else:
        field = np.sign(z) * np.log10(1.0 + np.abs(z))
    lo, hi = np.nanpercentile(field, 0.5), np.nanpercentile(field, 99.5)
    return field, np.linspace(lo, hi, n + 2)[1:-1]


class OptimizerPanel(Panel):
    key = "optimizers"
    target_label = "best f(w)"
    target_default = 0.001
    target_decimals = 6
    title = "Optimizers"
    description = "SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdaDelta and Newton on 2-D surfaces."
    step_unit = "iteration"
    default_speed = 30.0
    params_class = OptimizerRaceParams
    presets = {name: dict(overrides) for name, overrides in PRESETS.items()}
    default_preset = "Rosenbrock race"
    help_text = """
<p>Every optimizer starts at the same point (the black cross) and follows its own update rule on the
same surface; one step is one iteration of all of them. The colours show log f, darkest near the
minimum (gold star); the dots are where each optimizer is now.</p>
<ul><li><b>SGD</b> steps against the gradient: θ ← θ − ηg. In a narrow canyon it bounces from wall to
wall; near a saddle the gradient is tiny and it barely moves.</li>
<li><b>Momentum</b> keeps a velocity v ← μv − ηg and moves by v (dashed segment); along a straight canyon
it speeds up to η‖g‖/(1 − μ). <b>Nesterov</b> takes its gradient at the look-ahead point θ + μv (circle).</li>
<li><b>AdaGrad, RMSProp, Adam, AdaDelta</b> divide each coordinate's step by a running size of its
gradients, so flat directions get large steps (see "effective η" in the table). AdaGrad's sum only
grows, so it slows down for good; RMSProp forgets old gradients.</li>
<li><b>Newton</b> uses the curvature: θ ← θ − H⁻¹g. It lands on the minimum of a quadratic in one step,
but where H is not positive definite it heads for a saddle or a maximum (the banner says so).</li></ul>
<p><b>Try:</b> the presets; click or drag on the surface to move the start; change μ or η while playing.</p>
"""

    def make_simulation(self, params, seed):
        return OptimizerRaceSimulation(params, seed=seed)

    # ---- views
    def build_views(self, area: QWidget) -> None:
        self.map_widget = make_plot("Surface and trajectories (click or drag to set the start)", "θ₁", "θ₂",
                                    legend=True)
        self.map_plot = self.map_widget.getPlotItem()
        self.map_plot.setMouseEnabled(x=False, y=False)  # left drag moves the start point instead
        self.map_plot.disableAutoRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-L20") if _has_map("CET-L20") else pg.colormap.get("viridis"))
        self.image.setOpacity(0.55)
        self.image.setZValue(-10)
        self.map_plot.addItem(self.image)
        self._isocurves: list[pg.IsocurveItem] = []
        for _ in range(N_LEVELS):
            iso = pg.IsocurveItem(pen=pg.mkPen((60, 60, 60, 150), width=1))
            iso.setParentItem(self.image)
            self._isocurves.append(iso)
        self.minima_item = pg.ScatterPlotItem(symbol="star", size=20, brush="#FFD700", pen=pg.mkPen("#000"),
                                              name="known minima")
        self.start_item = pg.ScatterPlotItem(symbol="x", size=18, brush="#000", pen=pg.mkPen("#000", width=2),
                                             name="start")
        self.lookahead_item = pg.ScatterPlotItem(symbol="o", size=11, brush=None,
                                                 pen=pg.mkPen(RULE_COLORS["nesterov"], width=2),
                                                 name="Nesterov look-ahead θ + μv")
        self.map_plot.addItem(self.lookahead_item)
        for item in (self.minima_item, self.start_item):
            item.setZValue(20)
            self.map_plot.addItem(item)

        self.loss_widget = make_plot("Loss f(θ) − f* (log scale)", "iteration", "f(θ) − f*", legend=True)
        self.loss_plot = self.loss_widget.getPlotItem()
        self.loss_plot.setLogMode(y=True)
        self.dist_widget = make_plot("Distance to the nearest minimum", "iteration", "‖θ − θ*‖")
        self.dist_plot = self.dist_widget.getPlotItem()
        self.dist_plot.setLogMode(y=True)
        self.mlp_widget = make_plot("Same optimizers on an MLP (moons)", "iteration", "batch loss")
        self.mlp_plot = self.mlp_widget.getPlotItem()
        self.mlp_plot.setLogMode(y=True)
        self.mlp_plot.getAxis("left").enableAutoSIPrefix(False)
        self.mlp_widget.hide()
        self.table = QLabel()
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.table.setStyleSheet("QLabel { background: white; padding: 6px; font-size: 11pt; }")
        self.table.setWordWrap(True)
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        table_scroll = QScrollArea()
        table_scroll.setWidget(self.table)
        table_scroll.setWidgetResizable(True)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.loss_widget)
        right.addWidget(self.dist_widget)
        right.addWidget(self.mlp_widget)
        self._right_split = right
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.map_widget)
        left.addWidget(table_scroll)
        left.setSizes([640, 230])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([760, 470])
        lay = QHBoxLayout(area)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

        self._paths: dict[str, pg.PlotDataItem] = {}
        self._heads: dict[str, pg.ScatterPlotItem] = {}
        self._arrows: dict[str, pg.PlotDataItem] = {}
        self._loss_curves: dict[str, pg.PlotDataItem] = {}
        self._dist_curves: dict[str, pg.PlotDataItem] = {}
        self._mlp_curves: dict[str, pg.PlotDataItem] = {}
        self._surface_key = None
        self._few_steps = None  # the loss/distance axes sit at 0…10 while fewer steps are done

        scene = self.map_plot.scene()
        scene.sigMouseClicked.connect(self._on_map_clicked)
        scene.sigMouseMoved.connect(self._on_map_moved)
        self._pending_start = None
        self._drag_timer = QTimer(self)
        self._drag_timer.setInterval(40)  # at most 25 recomputations per second while dragging
        self._drag_timer.setSingleShot(True)
        self._drag_timer.timeout.connect(self._send_start)

    def _on_params_edited(self, params):
        """A new surface brings its own start, horizon and learning rates (the engine's set-up)."""
        if params.surface != self.params.surface:
            params = params_for_surface(params, params.surface)
            self.form.set_params(params)
        super()._on_params_edited(params)

    def figures(self) -> dict:
        figs = {"Surface and trajectories": self.map_widget, "Loss against iteration": self.loss_widget,
                "Distance to the nearest minimum": self.dist_widget}
        if self.params.mlp_race:  # (only when the MLP mode is on: an empty plot has no place in a report)
            figs["The same optimizers training an MLP"] = self.mlp_widget
        return figs

    # ---- rendering
    def render_snapshot(self, snap) -> None:
        key = (snap.surface, tuple(np.round(snap.bounds, 9)), float(np.sum(snap.gz)))
        if key != self._surface_key:
            self._draw_surface(snap)
            self._surface_key = key
        self.start_item.setData(pos=[snap.paths[0][0]] if snap.paths else [])
        self._ensure_items(snap.names)
        has_min = len(snap.minima) > 0
        self.dist_widget.setVisible(has_min)
        f_star = snap.f_min if snap.f_min is not None else None
        self.loss_plot.setTitle("Loss f(θ) − f* (log scale)" if f_star is not None else
                                "Loss f(θ), signed log scale", size="13pt", color="#111")
        self.loss_plot.setLabel("left", "f(θ) − f*" if f_star is not None else "sign(f)·log₁₀(1 + |f|)")
        self.loss_plot.setLogMode(y=f_star is not None)
        self._sync_legend(snap.names)
        for name in self._paths:
            visible = name in snap.names
            for d in (self._paths, self._heads, self._arrows, self._loss_curves, self._dist_curves,
                      self._mlp_curves):
                d[name].setVisible(visible)
        for i, name in enumerate(snap.names):
            path = snap.paths[i]
            steps = np.arange(len(path))
            self._paths[name].setData(path[:, 0], path[:, 1], connect="finite")
            finite = np.isfinite(path).all(axis=1)
            head = path[finite][-1:] if finite.any() else path[:0]
            self._heads[name].setData(pos=head)
            loss = np.asarray(snap.losses[i], dtype=float)
            if f_star is not None:
                y = loss - f_star
                y = np.where(y > 0, y, np.nan)  # log axis: a run sitting exactly on the minimum shows a gap
            else:  # unbounded below (saddle): a signed log keeps escaping runs and stuck ones readable
                y = np.sign(loss) * np.log10(1.0 + np.abs(loss))
            self._loss_curves[name].setData(steps, y, connect="finite")
            if has_min:
                d = np.asarray(snap.dist[i], dtype=float)
                self._dist_curves[name].setData(steps, np.where(d > 0, d, np.nan), connect="finite")
            self._draw_vector(name, head, snap.velocity_at_head[i])
            label = RULE_LABELS.get(name, name)
            if snap.diverged_at[i] >= 0:
                label += f" (diverged at step {snap.diverged_at[i]})"
            self._rename(name, label)
        mlp = dict(zip(snap.names, snap.mlp_losses)) if snap.mlp_losses else {}
        show_mlp = any(v is not None for v in mlp.values())
        if show_mlp != self.mlp_widget.isVisibleTo(self):
            self.mlp_widget.setVisible(show_mlp)
            total = sum(self._right_split.sizes()) or 900
            self._right_split.setSizes([total // 3] * 3 if show_mlp else [total // 2, total // 2, 0])
        for name, curve in self._mlp_curves.items():
            losses = mlp.get(name)
            if losses is None:
                curve.setData([], [])
            else:
                curve.setData(np.arange(len(losses)), np.where(losses > 0, losses, np.nan), connect="finite")
        few = snap.step_count < 10  # a few points: a fixed 0…10 axis, not autorange's ±400 around one point
        if few or few != self._few_steps:
            self._few_steps = few
            for plot in (self.loss_plot, self.dist_plot, self.mlp_plot):
                plot.setXRange(0, 10, padding=0.02) if few else plot.enableAutoRange(axis="x")
        looks = [np.asarray(p) for p in snap.lookahead_at_head if p is not None]
        self.lookahead_item.setData(pos=np.array(looks).reshape(-1, 2))
        self.table.setText(self._table_html(snap))

    def status_message(self, snap):
        text, kind = super().status_message(snap)
        notes = []
        if snap.newton_note:
            notes.append(f"<b>Newton:</b> {snap.newton_note}")
        div = [f"{RULE_LABELS.get(n, n)} diverged at step {s}" for n, s in zip(snap.names, snap.diverged_at) if s >= 0]
        if div:
            notes.append("; ".join(div) + " (the others go on)")
        if notes:
            return "<br>".join(([text] if text else []) + notes), ("warn" if kind in ("info", "ok") else kind)
        if snap.status == FINISHED:
            return text, "ok"
        return text, kind

    def _draw_surface(self, snap):
        field, levels = log_levels(np.asarray(snap.gz, dtype=float), snap.f_min)
        gx, gy = np.asarray(snap.gx), np.asarray(snap.gy)
        self.image.setImage(field, autoLevels=False, levels=(float(levels[0]), float(levels[-1])))
        dx = (gx[-1] - gx[0]) / (len(gx) - 1)
        dy = (gy[-1] - gy[0]) / (len(gy) - 1)
        self.image.setRect(pg.QtCore.QRectF(gx[0] - dx / 2, gy[0] - dy / 2, dx * len(gx), dy * len(gy)))
        for iso, level in zip(self._isocurves, levels):
            iso.setData(field, level=float(level))
        xmin, xmax, ymin, ymax = snap.bounds
        self.map_plot.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0)
        self.minima_item.setData(pos=np.asarray(snap.minima).reshape(-1, 2))
        self.map_plot.setTitle(f"{snap.surface_label}: click or drag to set the start", size="13pt", color="#111")

    def _ensure_items(self, names):
        for name in names:
            if name in self._paths:
                continue
            color = RULE_COLORS.get(name, "#777")
            label = RULE_LABELS.get(name, name)
            path = pg.PlotDataItem([], [], pen=pg.mkPen(color, width=2.5))
            path.setZValue(10)
            head = pg.ScatterPlotItem(symbol="o", size=13, brush=color, pen=pg.mkPen("#fff", width=1.5))
            head.setZValue(15)
            arrow = pg.PlotDataItem([], [], pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine))
            arrow.setZValue(14)
            for item in (path, head, arrow):
                self.map_plot.addItem(item)
            self._paths[name], self._heads[name], self._arrows[name] = path, head, arrow
            self._loss_curves[name] = self.loss_plot.plot([], [], pen=pg.mkPen(color, width=2), name=label)
            self._dist_curves[name] = self.dist_plot.plot([], [], pen=pg.mkPen(color, width=2))
            self._mlp_curves[name] = self.mlp_plot.plot([], [], pen=pg.mkPen(color, width=2))
            for curve in (self._loss_curves[name], self._dist_curves[name], self._mlp_curves[name]):
                long_series(curve)

    def _sync_legend(self, names):
        """The loss legend lists exactly the optimizers in the race."""
        legend = self.loss_plot.legend
        shown = [sample.item for sample, _ in legend.items]
        for name, curve in self._loss_curves.items():
            if name not in names and curve in shown:
                legend.removeItem(curve)
        if any(self._loss_curves[n] not in shown for n in names):
            for name in list(self._loss_curves):
                legend.removeItem(self._loss_curves[name])
            for name in names:
                legend.addItem(self._loss_curves[name], RULE_LABELS.get(name, name))

    def _rename(self, name, label):
        for sample, text in self.loss_plot.legend.items:
            if sample.item is self._loss_curves[name] and text.text != label:
                text.setText(label)

    def _draw_vector(self, name, head, velocity):
        """The velocity v at the head (momentum methods), drawn as a dashed segment head → head + v."""
        if velocity is None or len(head) == 0 or not np.all(np.isfinite(velocity)):
            self._arrows[name].setData([], [])
            return
        h = head[0]
        v = np.asarray(velocity, dtype=float)
        self._arrows[name].setData([h[0], h[0] + v[0]], [h[1], h[1] + v[1]])

    def _table_html(self, snap) -> str:
        rows = ["<tr style='background:#eee'><th>optimizer</th><th>θ at the head</th><th>f(θ)</th>"
                "<th>‖g‖</th><th>distance</th><th>effective η</th><th>‖v‖ / terminal</th><th>state</th></tr>"]
        for i, name in enumerate(snap.names):
            path = snap.paths[i]
            finite = np.isfinite(path).all(axis=1)
            theta = path[finite][-1] if finite.any() else np.array([np.nan, np.nan])
            loss = np.asarray(snap.losses[i])
            f = loss[np.isfinite(loss)][-1] if np.isfinite(loss).any() else np.nan
            g = np.asarray(snap.grad_at_head[i], dtype=float)
            dist = np.asarray(snap.dist[i])
            d = f"{dist[np.isfinite(dist)][-1]:.3g}" if np.isfinite(dist).any() else "—"
            eff = snap.eff_lr_at_head[i]
            # (no step taken yet: no effective rate)
            eff_s = "—" if eff is None or not np.all(np.isfinite(eff)) else f"({eff[0]:.3g}, {eff[1]:.3g})"
            v = snap.velocity_at_head[i]
            tv = snap.terminal_velocity[i]
            v_s = "—" if v is None else f"{np.hypot(*v):.3g}" + (f" / {tv:.3g}" if np.isfinite(tv) else "")
            state = f"<b style='color:#c00'>diverged at step {snap.diverged_at[i]}</b>" if snap.diverged_at[i] >= 0 else "running"
            color = RULE_COLORS.get(name, "#777")
            rows.append(f"<tr><td><b style='color:{color}'>■</b> {RULE_LABELS.get(name, name)}</td>"
                        f"<td>({theta[0]:.3g}, {theta[1]:.3g})</td><td>{f:.4g}</td><td>{np.hypot(*g):.3g}</td>"
                        f"<td>{d}</td><td>{eff_s}</td><td>{v_s}</td><td>{state}</td></tr>")
        return ("<table cellspacing=0 cellpadding=3 border=1 style='border-color:#bbb'>" + "".join(rows) + "</table>"
                "<p style='color:#555'>Momentum: v ← μv − η∇f(θ), θ ← θ + v; under a constant gradient the speed "
                "tends to the terminal velocity η‖g‖/(1 − μ). Nesterov evaluates the gradient at θ + μv. "
                "Effective η: the per-coordinate step size of the adaptive methods.</p>")

    # ---- start point: click or drag
    def _view_pos(self, scene_pos):
        vb = self.map_plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        return float(p.x()), float(p.y())

    def _on_map_clicked(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pos = self._view_pos(ev.scenePos())
        if pos is not None:
            self._pending_start = pos
            self._send_start()
            ev.accept()

    def _on_map_moved(self, scene_pos):
        if not QApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            return
        pos = self._view_pos(scene_pos)
        if pos is not None:
            self._pending_start = pos
            if not self._drag_timer.isActive():
                self._drag_timer.start()

    def _send_start(self):
        if self._pending_start is None:
            return
        x, y = self._pending_start
        self._pending_start = None
        fx, fy = self.params_class.info("start_x"), self.params_class.info("start_y")
        x = min(max(x, fx.lo if fx.lo is not None else x), fx.hi if fx.hi is not None else x)
        y = min(max(y, fy.lo if fy.lo is not None else y), fy.hi if fy.hi is not None else y)
        self.set_params(self.params.replace(start_x=round(x, 4), start_y=round(y, 4)))


def _has_map(name: str) -> bool:
    try:
        pg.colormap.get(name)
        return True
    except Exception:  # noqa: BLE001 - a missing colour map falls back to viridis
        return False
