"""MLP panel: the same network trained with 1–6 learning rates side by side, and inside the network.

Top: one decision-region heatmap per run (colour = predicted class, paler = less sure; filled
points = training, hollow = test) and the loss curves of all runs on one plot (training solid, test
dashed; linear or log axis). Bottom: the hidden units' activation maps and the network diagram of the
inspected run (both update while training), and tabs with the runs table (final accuracies), the
chain rule for one weight with its numbers, the gradient check, the plot of φ and φ′ and the
inspected run's confusion matrices on the training and the test set.
Left click on a heatmap adds a point of the chosen class, right click removes the nearest point.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QSplitter, QTabWidget, QVBoxLayout,
                               QWidget)

from nnsim.engine.base import DIVERGED, FINISHED, RUNNING
from nnsim.engine.data2d import load_csv
from nnsim.engine.mlp_sim import MLPParams, MLPSimulation
from nnsim.panels import mlp_text
from nnsim.panels.base import Panel
from nnsim.panels.mlp_loss import LossView
from nnsim.panels.mlp_views import RegionGrid, UnitMosaic, region_rgb, run_color
from nnsim.widgets.confusion import ConfusionView
from nnsim.widgets.network_diagram import NEG_COLOR, POS_COLOR, NetworkDiagram
from nnsim.widgets.plots import make_plot, pt, theme

#: while playing, a large network diagram's lines (NetworkDiagram.heavy) are refreshed at most
#: this often (s)
DIAGRAM_INTERVAL = 0.1

POS_HEX, NEG_HEX = ("#%02x%02x%02x" % c for c in (POS_COLOR, NEG_COLOR))

_LR4 = dict(dataset="moons", runs=4, lr1=0.01, lr2=1.0, lr3=10.0, lr4=40.0, max_steps=2000, inspect=2)
_OVERFIT = dict(dataset="moons", n_points=60, noise=0.35, test_fraction=0.5, layers=2, units=64,
                hidden="tanh", runs=1, lr1=1.0, max_steps=3000, inspect=1)
_COURSE004 = dict(dataset="blobs3", noise=0.05, spread=0.2, layers=1, units=3, init="normal", runs=2,
                  lr1=0.01, lr2=1.0, max_steps=1000, inspect=2)


def _html_label() -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet(_label_css())
    label.setAutoFillBackground(True)
    return label


def _label_css() -> str:
    """Theme colours through the palette; the size scaled with the text (a style sheet fixes the
    font, so it is set again when the text scale changes: MLPPanel.restyle_views)."""
    return f"QLabel {{ background: palette(base); color: palette(text); padding: 6px; font-size: {pt(11)}; }}"


class _Inside(QSplitter):
    """The hidden units and the network diagram: side by side when the bottom row is wide
    (presentation mode, large screens), one above the other when it is narrow (a 1280-pixel window
    with the parameter form), so that both stay at least 180 × 120 px and the tabs beside them keep
    room for the confusion matrices."""

    def __init__(self, first: QWidget, second: QWidget, row: QWidget):
        super().__init__(Qt.Orientation.Horizontal)
        self.addWidget(first)
        self.addWidget(second)
        self.setChildrenCollapsible(False)
        self._row = row
        row.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt name
        if obj is self._row and event.type() == QEvent.Type.Resize:
            w, h = event.size().width(), event.size().height()
            # side by side needs 2 × 200 px for the views and ~380 px for the tabs (the confusion
            # matrices); stacked, the bottom row is at least two views high (the splitter sees to it)
            stacked = w < 820 and h >= 200
            want = Qt.Orientation.Vertical if stacked else Qt.Orientation.Horizontal
            if want != self.orientation():
                self.setOrientation(want)
                self.setSizes([1, 1])
        return False


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


def _page(view: QWidget) -> QWidget:
    """A tab page holding ``view`` edge to edge (a page of its own, like the other tabs': what the
    frames skip while the tab is hidden is the page)."""
    page = QWidget()
    lay = QVBoxLayout(page)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(view)
    return page


class MLPPanel(Panel):
    key = "mlp"
    title = "Multilayer perceptron"
    description = "Learning-rate effects, activations, hidden units and gradient checking (lectures 3–7)."
    help_text = """
<p>The same small network is trained several times side by side, from the same initial weights, on the
same data and the same batches: the runs differ <i>only</i> in the learning rate η. Each heatmap shows
the classes the network would predict over the plane; the loss plot overlays every run (solid:
training, dashed: held-out test data).</p>
<ul><li>η too small: the loss creeps down. A good η: fast and smooth. Too large: the loss jumps around.
Much too large: it explodes, and the run is marked "diverged at step N" while the others go on.</li>
<li>Each hidden unit computes φ(a·W + b); its small map shows where in the plane it is active. With
linear hidden units the whole network is a single affine map, so the boundary stays straight however
many layers are stacked.</li>
<li>Backpropagation applies the chain rule from the loss back to every weight; click an edge of the
network diagram to see ∂J/∂w for that weight with the actual numbers. <b>Check gradients</b> compares
them with centred finite differences; ReLU's kink at 0 can make a single entry disagree.</li>
<li>A large network on few noisy points overfits (test loss rises while training loss falls); L2, L1,
dropout and early stopping are the cures to try.</li>
<li>The <b>Confusion</b> tab counts, for the run shown inside, how the training and the test points are
classified: row = the true class, column = the class the network predicts. The diagonal holds the
correct ones; any other cell shows which class is taken for which.</li></ul>
"""
    step_unit = "step"
    default_speed = 100.0
    params_class = MLPParams
    target_label = "best training loss"
    target_default = 0.05
    presets = {
        "Learning rate: too low / good / high / much too high (lecture 4)": _LR4,
        "Course article: η = 0.2 vs 0.1, 2×3×1 sigmoid net on XOR, online": dict(
            dataset="xor4", layers=1, units=3, hidden="sigmoid", output="sigmoid_mse", batch=1,
            init="normal", runs=2, lr1=0.2, lr2=0.1, max_steps=20000, inspect=1),
        "Overfitting: 2 × 64 tanh units on 30 noisy training points": _OVERFIT,
        "Overfitting cured: L2 penalty λ₂ = 0.01": {**_OVERFIT, "l2": 0.01},
        "Overfitting cured: early stopping (patience 100)": {**_OVERFIT, "early_stop": True, "patience": 100},
        "Linear hidden units: 4 layers, the boundary stays straight": dict(
            dataset="moons", layers=4, units=16, hidden="linear", runs=2, lr1=0.03, lr2=0.3,
            max_steps=2000, inspect=2),
        "Course code 004: 3 classes, ReLU hidden units": {**_COURSE004, "hidden": "relu"},
        "Course code 004: same weights, logistic hidden units": {**_COURSE004, "hidden": "sigmoid"},
        "Spirals, 3 arms: 2 × 32 tanh units with Adam": dict(
            dataset="spirals3", n_points=300, noise=0.05, layers=2, units=32, optimizer="adam", runs=3,
            lr1=0.003, lr2=0.03, lr3=0.3, max_steps=3000, inspect=2),
        "Gradient check at a ReLU kink (XOR table, step 0)": dict(
            dataset="xor4", layers=1, units=3, hidden="relu", runs=1, lr1=0.5, inspect=1, max_steps=2000),
        "Gradient check catches the course code's bug (leaky ReLU)": dict(
            dataset="blobs3", noise=0.05, spread=0.2, layers=1, units=8, hidden="leaky_relu", slope=0.1,
            bug="leaky_as_relu",
            runs=2, lr1=0.1, lr2=1.0, inspect=2, max_steps=1000),
    }
    default_preset = "Learning rate: too low / good / high / much too high (lecture 4)"

    def make_simulation(self, params, seed):
        return MLPSimulation(params, seed=seed)

    # ---- views --------------------------------------------------------------------------------
    def build_views(self, area: QWidget) -> None:
        self.regions = RegionGrid()
        self.regions.clicked.connect(self._on_region_clicked)
        caption = QLabel("Colour: predicted class (paler: less sure). Filled: training points, "
                         "hollow: test points. Title: training | test accuracy.")
        caption.setWordWrap(True)
        caption.setMinimumWidth(60)             # (a long caption must not widen the column)
        reg_box = QWidget()
        rl = QVBoxLayout(reg_box)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(caption)
        rl.addWidget(self.regions, 1)

        self.loss = LossView()
        # (short names used by the tests and the export dialog)
        self.loss_widget, self.loss_plot, self.loss_legend = self.loss.widget, self.loss.plot, self.loss.legend
        self.log_check, self.test_check = self.loss.log_check, self.loss.test_check
        self._train_curves, self._test_curves = self.loss.train_curves, self.loss.test_curves
        loss_box = self.loss

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(reg_box)
        top.addWidget(loss_box)
        top.setChildrenCollapsible(False)
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 1)
        top.setSizes([1000, 1000])               # (halves of whatever room there is)

        self.units = UnitMosaic()
        # (short box titles: a QGroupBox is never narrower than its title, and long titles here
        # squeezed the tabs beside them to a strip at 1400 px)
        self.units_box = QGroupBox("Hidden units")
        self.units_box.setToolTip("Each hidden unit's activation φ(z) over the input plane "
                                  "(the run shown inside)")
        QVBoxLayout(self.units_box).addWidget(self.units)
        self.diagram = NetworkDiagram()
        self.diagram.edge_clicked.connect(self._on_edge_clicked)
        self.diagram_box = QGroupBox("Network")
        self.diagram_box.setToolTip("Edge colour: sign of the weight; edge width ∝ |w|. Click an edge "
                                    "for the chain rule of that weight.")
        # the colour key under the box title: coloured swatches, words in the theme's text colour
        # (a group box title can be neither coloured nor wrapped, and a long one was cut)
        self.diagram_key = QLabel()
        self.diagram_key.setTextFormat(Qt.TextFormat.RichText)
        self.diagram_key.setWordWrap(True)
        self.diagram_key.setMinimumWidth(60)
        dl = QVBoxLayout(self.diagram_box)
        dl.setSpacing(2)
        dl.addWidget(self.diagram_key)
        dl.addWidget(self.diagram, 1)
        for box in (self.units_box, self.diagram_box):
            box.layout().setContentsMargins(4, 4, 4, 4)

        self.tabs = QTabWidget()
        # tab names are never elided ("R…", "Bac…" could not be read): when the tabs are narrower
        # than their names, the tab bar scrolls (arrow buttons)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.setElideMode(Qt.TextElideMode.ElideNone)
        self.runs_label = _html_label()
        self.tabs.addTab(_scrolled(self.runs_label), "Runs")
        self.equation = _html_label()
        self.tabs.addTab(_scrolled(self.equation), "Backprop")
        grad_page = QWidget()
        gl = QVBoxLayout(grad_page)
        gl.setContentsMargins(0, 0, 0, 0)
        self.check_button = QPushButton("Check gradients now")
        self.check_button.setToolTip("Backprop vs centred finite differences at the current weights of the "
                                     "run shown inside (runs in the worker thread)")
        self.check_button.clicked.connect(self._on_check_clicked)
        gl.addWidget(self.check_button)
        self.gradcheck_label = _html_label()
        gl.addWidget(_scrolled(self.gradcheck_label), 1)
        self.tabs.addTab(grad_page, "Grad check")
        self.tabs.setTabToolTip(self.tabs.count() - 1, "Gradient check: backprop against centred finite "
                                "differences")
        self.act_widget = make_plot("", "z", "φ(z), φ′(z)", legend="auto")
        self.act_plot = self.act_widget.getPlotItem()     # (its legend: right of a wide plot, else below)
        self.act_curve = self.act_plot.plot([], [], pen=pg.mkPen("#0072B2", width=3), name="φ(z)")
        self.dact_curve = self.act_plot.plot([], [], pen=pg.mkPen("#D55E00", width=3, style=Qt.PenStyle.DashLine),
                                             name="φ′(z)")
        self.tabs.addTab(_page(self.act_widget), "φ, φ′")
        self.confusion = ConfusionView(("Training set", "Test set"), empty_text="no test set")
        self.tabs.addTab(_page(self.confusion), "Confusion")
        self.tabs.setTabToolTip(self.tabs.count() - 1, "Accuracy and confusion matrices of the run shown "
                                "inside (rows: true class, columns: predicted class)")
        self.tabs.setCurrentIndex(1)
        self.tabs.currentChanged.connect(self._on_tab_changed)

        bottom = QSplitter(Qt.Orientation.Horizontal)
        self.inside = _Inside(self.units_box, self.diagram_box, bottom)
        bottom.addWidget(self.inside)
        bottom.addWidget(self.tabs)
        bottom.setChildrenCollapsible(False)
        bottom.setStretchFactor(0, 4)
        bottom.setStretchFactor(1, 5)
        bottom.setSizes([400, 500])
        # titles that grow with the run's numbers must not set the window's minimum width (the
        # window has to fit a 1280-pixel projector): below these widths the titles are cut instead;
        # the views inside stay at least 180 × 120 px (the box's margins and title around them)
        for w, least in ((self.units_box, 200), (self.diagram_box, 200), (self.tabs, 260)):
            w.setMinimumWidth(least)
        for v in (self.units, self.diagram):
            v.setMinimumSize(184, 124)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([600, 400])     # (the bottom row's minimum height wins where it needs it)
        lay = QHBoxLayout(area)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

        self._drawn_points = None
        self._drawn_regions: list = []
        self._act_drawn = None  # (activation, φ, φ′) last drawn in the φ plot
        self._banner_key = None

        edit = QGroupBox("Your own points")
        el = QVBoxLayout(edit)
        el.addWidget(QLabel("Left click on a heatmap adds a point of:"))
        self.click_class = QComboBox()
        for k in range(6):
            self.click_class.addItem(f"class {k}", k)
        el.addWidget(self.click_class)
        el.addWidget(QLabel("Right click removes the nearest point."))
        self.open_button = QPushButton("Open CSV file (x1, x2, label)…")
        self.open_button.clicked.connect(self._on_open_clicked)
        el.addWidget(self.open_button)
        self.side.addWidget(edit)

    def restyle_views(self) -> None:
        """Theme or text size changed: the rich-text pages get the new size (their colours come from
        the palette and from the text made again by render_snapshot, which Panel.restyle calls)."""
        css = _label_css()
        for label in (self.runs_label, self.equation, self.gradcheck_label):
            if label.styleSheet() != css:
                label.setStyleSheet(css)

    def figures(self) -> dict:
        return {"Loss curves": self.loss_widget, "Decision regions": self.regions,
                "Hidden units": self.units, "Network diagram": self.diagram, "φ and φ′": self.act_widget,
                "Confusion matrices": self.confusion}

    # ---- rendering (a pure function of the snapshot) -------------------------------------------
    # Per frame only what the user can see is touched, and only where it changed: views on hidden
    # tabs are skipped (Panel.view_shown; drawn when shown and before an export), the rich text
    # (titles, the tabs' tables and equations) at most 8 times a second while playing
    # (Panel.text_due) and only when its text changed.

    def show_message(self, html: str, kind: str = "info") -> None:
        """(The banner's stylesheet is only re-applied when the message changes.)"""
        if (html, kind) == self._banner_key and (self.banner.isVisible() or not html):
            return
        self._banner_key = (html, kind)
        super().show_message(html, kind)

    def render_snapshot(self, snap) -> None:
        text = self.text_due("mlp text")
        if self.view_shown(self.regions):
            self._render_regions(snap, text)
        if self.view_shown(self.loss_widget):
            self.loss.draw(snap)
        inspected = snap.runs[snap.inspect - 1]
        if self.view_shown(self.units_box):
            self._set_box_title(self.units_box,
                                f"Hidden units of run {snap.inspect} (η = {mlp_text.num(inspected.lr)})")
            self.units.set_maps(snap.unit_maps, snap.unit_layer, snap.unit_index, snap.unit_dead, snap.hidden)
        if self.view_shown(self.diagram_box):
            self._render_diagram(snap)
        if self.view_shown(self.confusion):
            self._render_confusion(snap, inspected)
        if self.view_shown(self.act_widget):
            self._render_activation(snap)
        self._render_tab(snap, text)

    def _render_regions(self, snap, text: bool) -> None:
        n = len(snap.runs)
        self.regions.set_runs(n)
        key = (snap.X_train.tobytes(), snap.X_test.tobytes(), snap.extent, n)
        if key != self._drawn_points:
            self.regions.set_points(snap.X_train, snap.y_train, snap.X_test, snap.y_test, snap.extent)
            self._drawn_points = key
            self._drawn_regions = [None] * n
        for k, r in enumerate(snap.runs):
            # (the engine hands over the same arrays while a run's weights do not change)
            if self._drawn_regions[k] is not r.region_class:
                self.regions.set_region(k, region_rgb(r.region_class, r.region_conf), r.region_class,
                                        r.region_conf, f"run {r.index}, eta={r.lr:g}")
                self._drawn_regions[k] = r.region_class
            if text or self.regions.title(k) == "":
                self.regions.set_title(k, self._run_title(r, snap))

    def _render_diagram(self, snap) -> None:
        dead = [snap.unit_dead[snap.unit_layer == l] for l in range(1, len(snap.sizes) - 1)]
        e = snap.explanation
        # (a large network's lines cost ~10 ms to stroke again: while playing, at most 10 times a
        # second; every step and pause shows them exactly)
        edges = not self.diagram.heavy or self.text_due("mlp diagram", DIAGRAM_INTERVAL)
        self.diagram.set_network(snap.sizes, snap.weights, self._layer_names(snap),
                                 selected=(e.layer, e.i, e.j) if e is not None else None, dead=dead,
                                 n_classes=snap.n_classes, biases=snap.biases,
                                 short_names=self._layer_names(snap, short=True), edges=edges)
        self._set_box_title(self.diagram_box, f"Network of run {snap.inspect}")
        faint = " (|w| &lt; ¼ max not drawn)" if self.diagram.faint_hidden else ""
        key = (f"<span style='color:{POS_HEX}'>■</span>&nbsp;w&nbsp;&gt;&nbsp;0 &nbsp; "
               f"<span style='color:{NEG_HEX}'>■</span>&nbsp;w&nbsp;&lt;&nbsp;0{faint}")
        if self.diagram_key.text() != key:
            self.diagram_key.setText(key)

    def _render_tab(self, snap, text: bool = True) -> None:
        """The rich-text pages (laying rich text out is not free): only the one shown, only when
        ``text`` is due (or the page is still empty) and only when its text changed; a page is
        drawn when its tab is chosen (and every page before an export)."""
        for page, label, make in ((0, self.runs_label, mlp_text.runs_table_html),
                                  (1, self.equation, mlp_text.explanation_html),
                                  (2, self.gradcheck_label, mlp_text.gradcheck_html)):
            if not self.view_shown(self.tabs.widget(page)) or not (text or label.text() == ""):
                continue
            html = make(snap)
            if html != label.text():
                label.setText(html)
        # (the φ tab, page 3, and the confusion tab, page 4, are drawn by render_snapshot when shown)

    def _render_activation(self, snap) -> None:
        """φ and φ′: redrawn only when they change (and not while their tab is hidden: Panel draws
        it when shown and before an export)."""
        z, phi, dphi = snap.act_curve
        last = self._act_drawn
        if last is not None and last[0] == snap.hidden and np.array_equal(last[1], phi) and np.array_equal(last[2], dphi):
            return
        self._act_drawn = (snap.hidden, np.array(phi), np.array(dphi))
        self.act_curve.setData(z, phi)
        self.dact_curve.setData(z, dphi)
        title = mlp_text.activation_title(snap.hidden)
        if self.act_plot.titleLabel.text != title:
            self.act_plot.setTitle(title)

    def _render_confusion(self, snap, r) -> None:
        """The inspected run's matrices (ConfusionView only touches what changed; not drawn while
        the tab is hidden: Panel draws it when shown and before an export or the lab report)."""
        state = {"diverged": f": diverged at step {r.diverged_at}",
                 "stopped": f": stopped early, weights of step {r.best_step}"}.get(r.state, "")
        c = run_color(r.index - 1)
        self.confusion.set_heading(f"<span style='color:{c}'><b>■</b></span> Run {r.index} "
                                   f"(η = {mlp_text.num(r.lr)}), step {r.steps_done}{state}")
        self.confusion.set_matrix(0, r.train_confusion)
        self.confusion.set_matrix(1, r.test_confusion)

    def _on_tab_changed(self, _index: int):
        if self.snapshot is not None:
            self._render_tab(self.snapshot)

    @staticmethod
    def _set_box_title(box: QGroupBox, text: str) -> None:
        if box.title() != text:          # (a group box relays itself out on every setTitle)
            box.setTitle(text)

    @staticmethod
    def _layer_names(snap, short: bool = False) -> list[str]:
        """Column labels of the network diagram (it uses the short ones, or none, when narrow)."""
        if short or len(snap.sizes) > 4:          # narrow columns: short labels
            return (["x"] + [f"h{l}<br>{snap.sizes[l]}" for l in range(1, len(snap.sizes) - 1)]
                    + [f"ŷ<br>{snap.sizes[-1]}"])
        names = ["inputs<br>x₁, x₂"]
        for l in range(1, len(snap.sizes) - 1):
            names.append(f"hidden {l}<br>{snap.sizes[l]} units")
        names.append(f"output<br>{snap.output}")
        return names

    @staticmethod
    def _run_title(r, snap) -> str:
        """"■ η = 40: 82.9 % | 83.3 %": the swatch in the run's colour, the words in the theme's text
        colour (coloured words fail the contrast rule on white and on dark)."""
        # two lines, so that every heatmap of the grid has the same title height (and size); no-break
        # spaces: a narrow title wraps between words, never inside "η = 40" or "82.9 | 83.3 %"
        c = run_color(r.index - 1)
        head = f"<span style='color:{c}'>■</span>&nbsp;<b>η&nbsp;=&nbsp;{mlp_text.num(r.lr)}</b><br>"
        if r.state == "diverged":
            return head + f"<b style='color:{theme().bad}'>diverged at step&nbsp;{r.diverged_at}</b>"
        train = mlp_text.pct(r.train_acc_now)
        if len(snap.X_test):     # "82.9 | 83.3 %": one per-cent sign for both
            acc = f"{train.removesuffix(' %')}&nbsp;|&nbsp;{mlp_text.pct(r.test_acc_now)}"
        else:
            acc = train
        stop = f" (stopped at&nbsp;{r.stopped_at})" if r.state == "stopped" else ""
        return head + acc.replace(" %", "&nbsp;%") + stop

    def status_message(self, snap):
        text, kind = super().status_message(snap)
        if snap.status == RUNNING and any(r.state != "running" for r in snap.runs):
            return text, "warn"
        if snap.status == FINISHED:
            return text, "ok" if all(r.state != "diverged" for r in snap.runs) else "warn"
        if snap.status == DIVERGED:
            return text, "error"
        return text, kind

    # ---- interaction --------------------------------------------------------------------------
    def _on_check_clicked(self):
        self.runner.invoke("check_gradients")
        self.tabs.setCurrentIndex(2)

    def _on_edge_clicked(self, layer: int, i: int, j: int):
        self.set_params(self.params.replace(eq_layer=layer, eq_from=i, eq_to=j))
        self.tabs.setCurrentIndex(1)

    def _current_points(self):
        snap = self.snapshot
        if snap is None:
            return np.zeros((0, 2)), np.zeros(0, np.int64)
        return (np.vstack([snap.X_train, snap.X_test]),
                np.concatenate([snap.y_train, snap.y_test]).astype(np.int64))

    def _use_data(self, X, labels, message: str):
        self.params = self.params.replace(dataset="user")
        self.form.set_params(self.params)
        self.runner.invoke("set_data", X, labels)
        self.show_message(message, "info")

    def _on_region_clicked(self, x: float, y: float, button):
        if self.snapshot is None:
            return
        X, labels = self._current_points()
        if button == Qt.MouseButton.LeftButton:
            k = int(self.click_class.currentData())
            self._use_data(np.vstack([X, [[x, y]]]), np.append(labels, k),
                           f"Added a point of class {k} at ({x:.2f}, {y:.2f}).")
        elif button == Qt.MouseButton.RightButton:
            if len(X) <= 2:
                self.show_message("At least two points are needed; none removed.", "warn")
                return
            i = int(np.argmin(((X - [x, y]) ** 2).sum(axis=1)))
            self._use_data(np.delete(X, i, axis=0), np.delete(labels, i),
                           f"Removed the point at ({X[i, 0]:.2f}, {X[i, 1]:.2f}).")

    def _on_open_clicked(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open data (x1, x2, label)", "",
                                              "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.open_data(path)

    def open_data(self, path: str) -> bool:
        """Load a CSV file; on a malformed file show the message and keep what is on screen."""
        def use(data):
            X, labels = data
            self._use_data(X, labels, f"Loaded {len(X)} points in {len(np.unique(labels))} classes from {path}.")

        return self.read_data_file(path, load_csv, use)

    def export_confusion_csv(self, path) -> Path:
        """The inspected run's confusion matrices (training, test) as CSV tables of counts."""
        return self.confusion.write_csv(path)

    def export_regions_csv(self, path) -> Path:
        """The decision regions of every run as CSV: x1, x2, then class and confidence per run
        (CSV export of a figure skips heatmap images)."""
        snap = self.snapshot
        path = Path(path)
        x0, x1, y0, y1 = snap.extent
        gx, gy = np.linspace(x0, x1, snap.grid), np.linspace(y0, y1, snap.grid)
        GX, GY = np.meshgrid(gx, gy)
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["x1", "x2"] + [f"{kind} (run {r.index}, eta={r.lr:g})" for r in snap.runs
                                       for kind in ("class", "confidence")])
            cols = [GX.ravel(), GY.ravel()]
            for r in snap.runs:
                cols += [r.region_class.ravel(), r.region_conf.ravel()]
            for row in zip(*cols):
                w.writerow([repr(float(row[0])), repr(float(row[1]))] +
                           [v if k % 2 == 0 else repr(float(v)) for k, v in enumerate(row[2:])])
        return path
