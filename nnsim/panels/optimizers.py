"""Optimizer trajectories panel: every update rule of the course racing on the same surface.

Centre: the surface as a log-scaled colour map with contour lines, one coloured path per optimizer
with a moving head, the known minima (stars), the start (cross; click or drag to move it: every path
is recomputed at once), the velocity arrow of the momentum methods and Nesterov's look-ahead point.
Right, in tabs (so that each plot keeps its height on a 1280 × 720 projector): loss and distance to
the nearest minimum against the step (log axes), the numbers at the head for every optimizer, and
the MLP race when it is on. Every plot has its legend outside the data.

Frames draw only what changed and only what is seen (views on hidden tabs are brought up to date
when shown or exported); the contours are one item; the curve plots' ranges grow in steps
(:class:`~nnsim.panels.optimizers_views.SteppedRange`), so their axes are not laid out every frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QScrollArea, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from nnsim.engine.base import FINISHED
from nnsim.engine.optimizers import (PRESETS, RULE_LABELS, OptimizerRaceParams, OptimizerRaceSimulation,
                                     params_for_surface)
from nnsim.panels.base import Panel
from nnsim.panels.optimizers_views import (MAP_MARGIN, N_LEVELS, RULE_COLORS, ContourItem, SteppedRange,  # noqa: F401
                                           TrajectoryCurve, contour_pen, decade_labels, has_map, log_levels,
                                           map_range, rule_color, same_data, table_html, table_note_html)
from nnsim.widgets.plots import TICK_PT, line_width, long_series, make_plot, pt, theme


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
        self.map_widget = make_plot("Surface and trajectories", "θ₁", "θ₂", legend=True)
        self.map_widget.setToolTip("Click or drag on the map to move the start: every path is recomputed at once")
        self.map_plot = self.map_widget.getPlotItem()
        self.map_plot.setMouseEnabled(x=False, y=False)  # left drag moves the start point instead
        self.map_plot.disableAutoRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-L20") if has_map("CET-L20") else pg.colormap.get("viridis"))
        self.image.setOpacity(0.55)
        self.image.setZValue(-10)
        self.map_plot.addItem(self.image)
        # every contour level in one item (a child of the image: its pixels are the coordinates). Not
        # cached as pixmaps: measured, blitting the two map-sized pixmaps cost as much as drawing them
        self.contours = ContourItem(pen=self._contour_pen())
        self.contours.setParentItem(self.image)
        # (the map legend's entries are managed by _sync_map_legend: only what the map shows)
        self.minima_item = pg.ScatterPlotItem(symbol="star", size=20, brush="#FFD700", pen=pg.mkPen("#000"))
        self.start_item = pg.ScatterPlotItem(symbol="x", size=18, brush="#000", pen=pg.mkPen("#fff", width=1))
        self.lookahead_item = pg.ScatterPlotItem(symbol="o", size=11, brush=None,
                                                 pen=pg.mkPen(RULE_COLORS["nesterov"], width=2))
        self.map_plot.addItem(self.lookahead_item)
        # where each optimizer is now: one item, a dot in each rule's colour, above every path
        self.heads_item = pg.ScatterPlotItem(symbol="o", size=13, pen=pg.mkPen("#fff", width=1.5))
        self.heads_item.setZValue(15)
        self.map_plot.addItem(self.heads_item)
        for item in (self.minima_item, self.start_item):
            item.setZValue(20)
            self.map_plot.addItem(item)
        self._map_legend_key = None
        self._map_range_pending = True  # the next snapshot sets the map's range (surface, start, minima)

        # right: one plot per tab (stacked, three plots and their legends did not fit 1280 × 720);
        # every plot has its own legend outside the data (exported alone, a figure keeps its key)
        self.loss_widget = make_plot("Loss f(θ) − f* (log scale)", "iteration", "f(θ) − f*", legend="auto")
        self.loss_plot = self.loss_widget.getPlotItem()
        self.loss_plot.setLogMode(y=True)
        self.dist_widget = make_plot("Distance to the nearest minimum", "iteration", "‖θ − θ*‖", legend="auto")
        self.dist_plot = self.dist_widget.getPlotItem()
        self.dist_plot.setLogMode(y=True)
        self.mlp_widget = make_plot("Same optimizers on an MLP (moons)", "iteration", "batch loss",
                                    legend="auto")
        self.mlp_plot = self.mlp_widget.getPlotItem()
        self.mlp_plot.setLogMode(y=True)
        for plot in (self.loss_plot, self.dist_plot, self.mlp_plot):
            decade_labels(plot.getAxis("left"))
        # their ranges grow in steps (not autorange's new axis every frame); zoom by hand, A gives it back
        self._ranges = {plot: SteppedRange(plot) for plot in (self.loss_plot, self.dist_plot, self.mlp_plot)}
        self._legend_names = None
        # the numbers: a table whose rows never wrap (it scrolls sideways when narrow) and a note that
        # wraps below it; theme colours: the palette here, the theme's in the rich text
        self.table = QLabel()
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._table_text = None  # the html last set (the table is set again only when it changed)
        self._table_stale = False  # a frame left it out (text_due): drawn when the run stops
        self.table_note = QLabel()
        self.table_note.setTextFormat(Qt.TextFormat.RichText)
        self.table_note.setWordWrap(True)
        self.table_note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._write_table_note()
        numbers = QWidget()
        numbers.setObjectName("numbers")
        numbers.setStyleSheet("QWidget#numbers { background: palette(base); } "
                              "QLabel { background: palette(base); color: palette(text); }")
        nlay = QVBoxLayout(numbers)
        nlay.setContentsMargins(6, 6, 6, 6)
        nlay.addWidget(self.table)
        nlay.addWidget(self.table_note)
        nlay.addStretch(1)
        self.table_scroll = QScrollArea()
        self.table_scroll.setWidget(numbers)
        self.table_scroll.setWidgetResizable(True)
        self._numbers_port = self.table_scroll.viewport()
        self._numbers_port.installEventFilter(self)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._tab_specs = (
            (self.loss_widget, "Loss", "f(θ) − f* of every optimizer against the iteration (log scale)"),
            (self.dist_widget, "Distance", "Distance ‖θ − θ*‖ to the nearest known minimum (log scale)"),
            (self.table_scroll, "Numbers", "The numbers at the head: θ, f, ‖g‖, effective η, velocity"),
            (self.mlp_widget, "MLP", "The same optimizers training a 2-16-2 MLP on two moons"))
        for widget, label, tip in self._tab_specs:
            if widget is not self.mlp_widget:  # (its tab comes with the MLP race)
                self.tabs.setTabToolTip(self.tabs.addTab(widget, label), tip)
        self.mlp_widget.setParent(self.tabs)  # (a child while out of the tabs: themes still reach it)
        self.mlp_widget.hide()
        self.map_widget.setMinimumWidth(200)
        self.tabs.setMinimumWidth(200)
        # left: the map; on a tall screen the numbers move from their tab to below it (_arrange)
        self._left_split = QSplitter(Qt.Orientation.Vertical)
        self._left_split.setChildrenCollapsible(False)
        self._left_split.addWidget(self.map_widget)
        self._roomy = False
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self._left_split)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)  # the map keeps 3/5 of the width at any window size
        split.setStretchFactor(1, 2)
        split.setSizes([600, 400])
        self._views_split = split
        lay = QHBoxLayout(area)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        split.installEventFilter(self)
        self._arrange_timer = QTimer(self)
        self._arrange_timer.setSingleShot(True)
        self._arrange_timer.setInterval(0)
        self._arrange_timer.timeout.connect(self._arrange)

        self._paths: dict[str, pg.PlotDataItem] = {}
        self._arrows: dict[str, pg.PlotDataItem] = {}
        self._loss_curves: dict[str, pg.PlotDataItem] = {}
        self._dist_curves: dict[str, pg.PlotDataItem] = {}
        self._mlp_curves: dict[str, pg.PlotDataItem] = {}
        self._surface_key = None
        self._drawn: dict = {}  # what each item last got (see _changed): unchanged data is not set again

        scene = self.map_plot.scene()
        scene.sigMouseClicked.connect(self._on_map_clicked)
        scene.sigMouseMoved.connect(self._on_map_moved)
        self._pending_start = None
        self._drag_timer = QTimer(self)
        self._drag_timer.setInterval(40)  # at most 25 recomputations per second while dragging
        self._drag_timer.setSingleShot(True)
        self._drag_timer.timeout.connect(self._send_start)

    #: the numbers go below the map when the views are at least this tall (px; hysteresis below)
    ROOMY_HEIGHT = (860, 820)
    ROOMY_WIDTH = 1100

    def eventFilter(self, obj, event):  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.Resize:
            if obj is getattr(self, "_views_split", None):
                self._arrange_timer.start()  # (after the resize: re-parenting during it would recurse)
            elif obj is getattr(self, "_numbers_port", None):
                # the note wraps to the visible width, while the table scrolls sideways
                self.table_note.setMaximumWidth(max(150, obj.width() - 12))
        return super().eventFilter(obj, event)

    def _arrange(self) -> None:
        """A tall, wide view area (1920 × 1080 and up) shows the numbers below the map; on a projector
        they are a tab beside the loss (the map keeps its height)."""
        size = self._views_split.size()
        need_h = self.ROOMY_HEIGHT[1] if self._roomy else self.ROOMY_HEIGHT[0]
        roomy = size.height() >= need_h and size.width() >= self.ROOMY_WIDTH
        if roomy == self._roomy:
            return
        self._roomy = roomy
        if roomy:
            self._set_tab_shown(self.table_scroll, False)
            self._left_split.addWidget(self.table_scroll)
            self.table_scroll.show()
            h = max(1, self._left_split.height())
            self._left_split.setSizes([int(h * 0.72), h - int(h * 0.72)])
            self._left_split.setStretchFactor(0, 3)
            self._left_split.setStretchFactor(1, 1)
        else:
            self._set_tab_shown(self.table_scroll, True)
        self._queue_redraw()  # (the numbers may have been left out while on a hidden tab)

    def set_params(self, params):
        """Programmatic parameters (presets, the start set on the map, loaded experiments) are taken
        as they are: a preset's learning rates win over the surface's defaults."""
        self._explicit_params = True
        try:
            super().set_params(params)
        finally:
            self._explicit_params = False

    def _on_params_edited(self, params):
        """A surface chosen by hand in the form brings its own start, horizon and learning rates (the
        engine's set-up); explicit parameters (:meth:`set_params`) are kept as given."""
        if params.surface != self.params.surface and not getattr(self, "_explicit_params", False):
            params = params_for_surface(params, params.surface)
            self.form.set_params(params)
        if not getattr(self, "_from_map", False):
            self._map_range_pending = True  # a new surface or start from the form or a preset
        super()._on_params_edited(params)

    def _on_playing_changed(self, playing: bool):
        super()._on_playing_changed(playing)
        # the run stopped (a pause, the horizon, a target): the numbers show its last state exactly
        if not playing and self._table_stale and self.snapshot is not None:
            if self.view_shown(self.table_scroll):
                self._set_table(self.snapshot)

    def figures(self) -> dict:
        figs = {"Surface and trajectories": self.map_widget, "Loss against iteration": self.loss_widget}
        if self.snapshot is None or len(self.snapshot.minima):  # (a saddle has no minimum to measure to)
            figs["Distance to the nearest minimum"] = self.dist_widget
        if self.params.mlp_race:  # (only when the MLP mode is on: an empty plot has no place in a report)
            figs["The same optimizers training an MLP"] = self.mlp_widget
        return figs

    # ---- rendering
    def _changed(self, key, *values) -> bool:
        """Whether ``values`` differ from what was last drawn under ``key`` (then remembered): frames
        set data only on items whose data changed."""
        old = self._drawn.get(key)
        if old is not None and len(old) == len(values) and all(same_data(a, b) for a, b in zip(old, values)):
            return False
        self._drawn[key] = tuple(np.array(v) if isinstance(v, np.ndarray) else v for v in values)
        return True

    def render_snapshot(self, snap) -> None:
        self._ensure_items(snap.names)
        has_min = len(snap.minima) > 0
        self._sync_map_legend(len(snap.minima), "nesterov" in snap.names)
        self._set_tab_shown(self.dist_widget, has_min)
        f_star = snap.f_min if snap.f_min is not None else None
        if self._changed("loss mode", f_star is not None):
            self.loss_plot.setTitle("Loss f(θ) − f* (log scale)" if f_star is not None else
                                    "Loss f(θ), signed log scale")
            self.loss_plot.setLabel("left", "f(θ) − f*" if f_star is not None else "sign(f)·log₁₀(1 + |f|)")
            if self.loss_plot.ctrl.logYCheck.isChecked() != (f_star is not None):
                self.loss_plot.setLogMode(y=f_star is not None)
        self._sync_legends(snap.names)
        if self._changed("names", tuple(snap.names)):
            for name in self._paths:
                visible = name in snap.names
                for d in (self._paths, self._loss_curves, self._dist_curves, self._mlp_curves):
                    d[name].setVisible(visible)
                if not visible:  # (a rule in the race: its arrow shows when it has a velocity)
                    self._arrows[name].setVisible(False)
                    self._drawn.pop(("arrow", name), None)
        for i, name in enumerate(snap.names):
            label = RULE_LABELS.get(name, name)
            if snap.diverged_at[i] >= 0:  # (short: the step is in the banner and the numbers)
                label += " (diverged)"
            self._rename(name, label)
        if self.view_shown(self.map_widget):
            self._draw_map(snap)
        horizon = getattr(snap, "steps", None) or getattr(self.params, "steps", None)
        if self.view_shown(self.loss_widget):
            ys = []
            for i, name in enumerate(snap.names):
                loss = np.asarray(snap.losses[i], dtype=float)
                if f_star is not None:
                    y = loss - f_star
                    y = np.where(y > 0, y, np.nan)  # log axis: a run sitting exactly on the minimum shows a gap
                    ys.append(np.log10(y[y > 0]))
                else:  # unbounded below (saddle): a signed log keeps escaping runs and stuck ones readable
                    y = np.sign(loss) * np.log10(1.0 + np.abs(loss))
                    ys.append(y)
                if self._changed(("loss", name), y):
                    self._loss_curves[name].setData(np.arange(len(y)), y, connect="finite")
            self._ranges[self.loss_plot].update(snap.step_count, horizon, ys)
        if has_min and self.view_shown(self.dist_widget):
            ys = []
            for i, name in enumerate(snap.names):
                d = np.asarray(snap.dist[i], dtype=float)
                d = np.where(d > 0, d, np.nan)
                ys.append(np.log10(d[d > 0]))
                if self._changed(("dist", name), d):
                    self._dist_curves[name].setData(np.arange(len(d)), d, connect="finite")
            self._ranges[self.dist_plot].update(snap.step_count, horizon, ys)
        mlp = dict(zip(snap.names, snap.mlp_losses)) if snap.mlp_losses else {}
        show_mlp = any(v is not None for v in mlp.values())
        if self._set_tab_shown(self.mlp_widget, show_mlp) and show_mlp:
            self.tabs.setCurrentWidget(self.mlp_widget)  # the MLP race just started: that is the lesson
        if show_mlp and self.view_shown(self.mlp_widget):
            ys = []
            for name, curve in self._mlp_curves.items():
                losses = mlp.get(name)
                y = None if losses is None else np.where(np.asarray(losses) > 0, losses, np.nan)
                if y is not None:
                    ys.append(np.log10(y[y > 0]))
                if self._changed(("mlp", name), y):
                    curve.setData([], []) if y is None else curve.setData(np.arange(len(y)), y, connect="finite")
            self._ranges[self.mlp_plot].update(snap.step_count, horizon, ys)
        if self.view_shown(self.table_scroll):
            self._table_stale = not self.text_due("optimizers table")
            if not self._table_stale:
                self._set_table(snap)

    def _draw_map(self, snap) -> None:
        """The map: the surface (when it changed), the start, and per frame the paths, heads, velocity
        arrows and look-ahead points that moved."""
        key = (snap.surface, tuple(np.round(snap.bounds, 9)), float(np.sum(snap.gz)))
        if key != self._surface_key:
            self._draw_surface(snap)
            self._surface_key = key
        start = np.asarray(snap.paths[0][0] if snap.paths else snap.start, dtype=float)
        if self._changed("start", start):
            self.start_item.setData(pos=[start])
        if self._map_range_pending and np.allclose(start, [self.params.start_x, self.params.start_y]):
            # the surface, the start and every known minimum in view, with a margin (not per frame:
            # only after the surface or the start changed other than by dragging on the map)
            self._map_range_pending = False
            xmin, xmax, ymin, ymax = map_range(snap.bounds, [start, *np.asarray(snap.minima).reshape(-1, 2)])
            self.map_plot.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0)
        heads, owners = [], []
        for i, name in enumerate(snap.names):
            path = np.asarray(snap.paths[i], dtype=float)
            if self._changed(("path", name), path):
                self._paths[name].setData(path[:, 0], path[:, 1], connect="finite")
            finite = np.isfinite(path).all(axis=1)
            head = path[finite][-1:] if finite.any() else path[:0]
            if len(head):
                heads.append(head[0])
                owners.append(name)
            self._draw_vector(name, head, snap.velocity_at_head[i])
        pos = np.asarray(heads, dtype=float).reshape(-1, 2)
        if self._changed("heads", pos, tuple(owners)):
            # (the same brush objects every frame: the symbol atlas keys them by identity)
            brushes = self._drawn.setdefault("head brushes", {})
            for n in owners:
                if n not in brushes:
                    brushes[n] = pg.mkBrush(rule_color(n))
            self.heads_item.setData(pos=pos, brush=[brushes[n] for n in owners])
        looks = np.array([np.asarray(p, dtype=float) for p in snap.lookahead_at_head if p is not None]).reshape(-1, 2)
        if self._changed("look-ahead", looks):
            self.lookahead_item.setData(pos=looks)

    def _set_table(self, snap) -> None:
        html = table_html(snap)
        self._table_stale = False
        if html != self._table_text:
            self._table_text = html
            self.table.setText(html)

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
        self.contours.setData(field, levels)
        self.minima_item.setData(pos=np.asarray(snap.minima).reshape(-1, 2))
        self.map_plot.setTitle(snap.surface_label)  # (one line at 1280 px; "drag it" is in the legend)
        self._map_range_pending = True  # (set with the start, below)

    def _pens(self, name):
        """(path, arrow, curve) pens of a rule in the current theme and line width."""
        color = rule_color(name)
        return (pg.mkPen(color, width=line_width(2.5)),
                pg.mkPen(color, width=line_width(2), style=Qt.PenStyle.DashLine),
                pg.mkPen(color, width=line_width(2)))

    def _ensure_items(self, names):
        for name in names:
            if name in self._paths:
                continue
            path_pen, arrow_pen, curve_pen = self._pens(name)
            # (plain curves: a PlotDataItem's bookkeeping cost more than drawing a path; hover and
            # export read them all the same; a path is stroked through one iterate per half pixel)
            path = TrajectoryCurve([], [], pen=path_pen)
            path._nnsim_base_width = 2.5
            path.setZValue(10)
            arrow = pg.PlotCurveItem([], [], pen=arrow_pen)
            arrow._nnsim_base_width = 2.0
            arrow.setZValue(14)
            for item in (path, arrow):
                self.map_plot.addItem(item)
            self._paths[name], self._arrows[name] = path, arrow
            # (no name: the legends are kept by _sync_legends, in the race's order)
            self._loss_curves[name] = self.loss_plot.plot([], [], pen=curve_pen)
            self._dist_curves[name] = self.dist_plot.plot([], [], pen=curve_pen)
            # (mini-batch losses are noisy: antialiased, their thick zigzags cost ~6× more to stroke
            # and look the same)
            self._mlp_curves[name] = self.mlp_plot.plot([], [], pen=curve_pen, antialias=False)
            for curve in (self._loss_curves[name], self._dist_curves[name], self._mlp_curves[name]):
                curve._nnsim_base_width = 2.0
                long_series(curve)
                # (peak downsampling from one point per pixel column, not five: min and max per
                # column are what a raster shows; 2000 iterations cost a third as much)
                curve.opts["autoDownsampleFactor"] = 1.0

    def restyle_views(self) -> None:
        """The theme changed: SGD's colour follows the text colour (near-black on dark is invisible)."""
        for name in getattr(self, "_paths", {}):
            path_pen, arrow_pen, curve_pen = self._pens(name)
            self._paths[name].setPen(path_pen)
            self._arrows[name].setPen(arrow_pen)
            for curves in (self._loss_curves, self._dist_curves, self._mlp_curves):
                curves[name].setPen(curve_pen)
        self._legend_names = None  # the samples are redrawn with the new pens
        self._map_legend_key = None
        if hasattr(self, "_drawn"):
            self._drawn.clear()  # (the heads' colours, the table's: everything is set again)
        if hasattr(self, "table_note"):
            self._write_table_note()
        if hasattr(self, "contours"):
            self.contours.setPen(self._contour_pen())
        if getattr(self, "snapshot", None) is not None and hasattr(self, "table"):
            self._set_table(self.snapshot)  # (its colours are in the html, shown or not)

    _contour_pen = staticmethod(contour_pen)

    @staticmethod
    def _legend_add(legend, item, label):
        legend.opts["labelTextSize"] = pt(TICK_PT)  # (the text scale may have changed since)
        legend.opts["labelTextColor"] = theme().fg
        legend.addItem(item, label)

    def _sync_legends(self, names):
        """The legends of the loss, distance and MLP plots list exactly the optimizers in the race, in
        its order (rebuilt only when the race changes, not per frame)."""
        key = tuple(names)
        if key == self._legend_names:
            return
        self._legend_names = key
        for plot, curves in ((self.loss_plot, self._loss_curves), (self.dist_plot, self._dist_curves),
                             (self.mlp_plot, self._mlp_curves)):
            legend = plot.legend
            legend.clear()
            for name in names:
                if curves is self._mlp_curves and name == "newton":
                    continue  # (no MLP run: Newton needs the Hessian)
                self._legend_add(legend, curves[name], RULE_LABELS.get(name, name))
            legend.queue_reflow()

    def _sync_map_legend(self, n_minima: int, nesterov: bool):
        """The map's legend keys what it shows: the start, the minima (if any), Nesterov's look-ahead
        (if it runs); short labels, so that the three fit one row below the map."""
        key = (n_minima > 0, n_minima > 1, nesterov)
        if key == self._map_legend_key:
            return
        self._map_legend_key = key
        legend = self.map_plot.legend
        legend.clear()
        self._legend_add(legend, self.start_item, "start (drag it)")
        if n_minima:
            self._legend_add(legend, self.minima_item, "minima" if n_minima > 1 else "minimum")
        if nesterov:
            self._legend_add(legend, self.lookahead_item, "look-ahead θ+μv")
        legend.queue_reflow()

    def _set_tab_shown(self, widget, shown: bool) -> bool:
        """Add or remove ``widget``'s tab (removed, not hidden: a hidden tab can still be made
        current); True when that changed."""
        index = self.tabs.indexOf(widget)
        if (index >= 0) == bool(shown):
            return False
        if shown:
            order = [w for w, _label, _tip in self._tab_specs]
            at = sum(1 for w in order[:order.index(widget)] if self.tabs.indexOf(w) >= 0)
            _w, label, tip = self._tab_specs[order.index(widget)]
            at = self.tabs.insertTab(at, widget, label)
            self.tabs.setTabToolTip(at, tip)
        else:
            if self.tabs.currentIndex() == index:
                self.tabs.setCurrentIndex(0)
            self.tabs.removeTab(index)
        return True

    def _rename(self, name, label):
        legend = self.loss_plot.legend
        for sample, text in legend.items:
            if sample.item is self._loss_curves[name] and text.text != label:
                text.setText(label, size=pt(TICK_PT), color=theme().fg)
                legend.updateSize()
                legend.queue_reflow()

    def _draw_vector(self, name, head, velocity):
        """The velocity v at the head (momentum methods), drawn as a dashed segment head → head + v."""
        if velocity is None or len(head) == 0 or not np.all(np.isfinite(velocity)):
            if self._changed(("arrow", name), None):
                self._arrows[name].setData([], [])
                self._arrows[name].setVisible(False)  # (not even asked to paint)
            return
        h = head[0]
        v = np.asarray(velocity, dtype=float)
        xs, ys = np.array([h[0], h[0] + v[0]]), np.array([h[1], h[1] + v[1]])
        if self._changed(("arrow", name), xs, ys):
            self._arrows[name].setData(xs, ys)
            self._arrows[name].setVisible(True)

    def _write_table_note(self) -> None:
        html = table_note_html()
        if html != self.table_note.text():
            self.table_note.setText(html)

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
        self._from_map = True  # (the map keeps its range while the start is dragged inside it)
        try:
            self.set_params(self.params.replace(start_x=round(x, 4), start_y=round(y, 4)))
        finally:
            self._from_map = False
