"""Feature visualization panel: what a small trained CNN "wants to see", and what it sees.

Tab "Activation maximization": the ascent from all ones, all 0.5, all zeros, random and the current
input, side by side as in the course article's table, with the network's confidence under each
image; a scrubber over the iterations; the target activation and the confidence per iteration; the
article's border check. Tab "Live activations": a drawing canvas (or a test image, with noise), every
layer's feature maps tiled row-major, the output probabilities as bars and the first-layer filters.
Tab "Training": progress, loss and accuracy, and the confusion matrix of the held-out test digits.
Tab "Class pixel std": the per-class pixel standard deviation (and mean) maps that made the article
try the digit "2".
"""

from __future__ import annotations

import csv

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QLabel,
                               QPushButton, QSlider, QSpinBox, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from nnsim.engine import actmax as am
from nnsim.engine.actmax import (PHASE_READY, PHASE_TRAIN, REGULARIZER_PRESETS, START_LABELS,
                                 FeatureVizParams, FeatureVizSimulation, tile_maps, zero_border)
from nnsim.engine.cnn import LAYER_LABELS, ConvNet
from nnsim.engine.digits import load_data_file
from nnsim.panels.actmax_tabs import TrainingTabs
from nnsim.panels.actmax_views import (DrawCanvas, ImageRow, SquareHolder, color_key, diverging_rgb,
                                       finite_range, gray_rgb, set_text)
from nnsim.panels.base import Panel
from nnsim.widgets.plots import class_color, line_width, make_plot, theme

_BASE = {"target_kind": "class", "am_optimizer": "sgd", **REGULARIZER_PRESETS["none"], "blur_every": 4}
MAP_LAYERS = ("relu1", "relu2", "pool")
START_PENS = ("#0072B2", "#E69F00", "#555555", "#009E73", "#CC79A7")
#: "all zeros" on a dark background: the grey must stay visible (≥ 3:1 for a line)
START_PENS_DARK = ("#56B4E9", "#E69F00", "#BBBBBB", "#009E73", "#CC79A7")
HEAD_PEN = "#D00000"
#: the parameter groups that only change the ascent (the network is kept, the images recomputed)
_AM_GROUPS = ("Activation maximization", "Regularizers (Yosinski et al.)")


def start_pen(k: int) -> str:
    """The colour of start k's curves (and of its swatch in the key) in the current theme."""
    pens = START_PENS_DARK if theme().name == "dark" else START_PENS
    return pens[k % len(pens)]


def bar_brushes(K: int) -> list:
    """The class colours of the probability bars; the black one in the theme's text colour (a black
    bar would vanish on the dark background)."""
    out = []
    for k in range(K):
        c = class_color(k)
        out.append(QColor(theme().fg) if c.name() == "#000000" else c)
    return out


def _reg(name: str, **extra) -> dict:
    d = dict(REGULARIZER_PRESETS[name])
    d["blur_every"] = max(d["blur_every"], 1)
    return {**_BASE, **d, **extra}


class FeatureVizPanel(TrainingTabs, Panel):
    key = "actmax"
    title = "Feature visualization"
    description = ("Activation maximization from four starts, Yosinski's regularizers, live activations "
                   "of every layer of a small CNN on digits.")
    help_text = """
<p>A small convolutional network reads 8×8 digits: two layers of 3×3 filters (each followed by ReLU),
a 2×2 max pooling, then a dense layer to the ten class scores and softmax. It opens already trained.</p>
<p><b>Activation maximization</b> turns the question around: keep the weights fixed and change the
<i>input</i> by gradient ascent, x ← x + η ∂a/∂x, so that a chosen output (a class score, a feature map,
one unit) grows. Starting from all ones, all 0.5, all zeros and noise shows how much the picture
depends on the start. Plain ascent finds strange, high-frequency patterns the network is sure about;
the regularizers of Yosinski et al. (L2 decay, blurring, clipping small pixels) make them look more like
digits. The border check zeroes the outer pixels: the confidence barely drops, so the network does not
look there.</p>
<p><b>Live activations</b>: draw a digit or pick a test image and watch what each filter responds to,
layer by layer, and how the class probabilities change while you draw.</p>
<p>With Yosinski's regularizers the image is a compromise between the target and "looking natural":
the confidence then ends a little below 1 (about 0.97–0.99 for the presets on "3") in exchange for a
picture with fewer extreme, scattered pixels.</p>
<p><b>Training</b>: the loss and accuracy per epoch, and the confusion matrix of the held-out test
digits (row = the true digit, column = the digit the network answers): the cells off the diagonal show
which digits it mixes up.</p>
"""
    step_unit = "iteration"
    default_speed = 5.0
    params_class = FeatureVizParams
    target_label = "epoch training loss"
    target_default = 0.05
    presets = {
        "Article: maximize \"1\" from the four starts (10 iterations)": _reg("none", target_class=1, am_steps=10,
                                                                          am_lr=0.1),
        # (the article chose "2" as the most varied digit of its MNIST data; in the 8×8 digits here
        # the "1"s vary most, then 9 and 2: see the "Class pixel std" tab)
        "Article: maximize \"2\" (the most varied digit in its MNIST data)": _reg("none", target_class=2,
                                                                                 am_steps=10, am_lr=0.1),
        # Yosinski 2–4 end at p(3) ≈ 0.97–0.99, not 1.00000: the regularizers pull the image back
        # towards small, smooth, sparse pixels while the ascent pushes the logit up (see help_text)
        **{am.PRESET_LABELS[f"yosinski{i}"]: _reg(f"yosinski{i}", target_class=3, am_steps=300, am_lr=0.05)
           for i in range(1, 5)},
        "Unregularized: 300 iterations of plain ascent on \"3\"": _reg("none", target_class=3, am_steps=300,
                                                                      am_lr=0.05),
        "Feature map: conv 2 + ReLU, map 0 (mean)": _reg("none", target_kind="map", target_layer="relu2",
                                                        target_map=0, am_steps=50, am_lr=0.1),
    }

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner.playing_changed.connect(self._on_play_state)

    def make_simulation(self, params, seed):
        return FeatureVizSimulation(params, seed=seed)

    def apply_preset(self, name: str) -> None:
        """Presets only change the ascent (target, iterations, regularizers): the network is kept."""
        self.set_params(self.params.replace(**self.presets[name]))

    # ---- busy state ------------------------------------------------------------------------------
    # A new network (structure, data, loaded weights) and a new ascent (presets, the ascent's
    # parameters) are computed in the worker before the next frame: until that frame is drawn the
    # views are covered (after BUSY_DELAY_MS), never the old pictures beside the new form values.
    # The cover is lifted by a query sent right behind the change: it is answered after the
    # change's frame (one worker, one queue), whatever its step count.
    def busy_text(self, params) -> str:
        if params.dataset == "file":
            return "Loading the data and building the CNN…"
        if params.pretrained:
            return ("Loading the CNN's weights and maximizing the activation from the five starts…")
        return "Building a new, untrained CNN (Play trains it)…"

    def _ascent_text(self, params) -> str:
        return (f"Maximizing the activation from the five starts ({params.am_steps} iterations "
                f"each)…")

    def _cover_until_done(self, text: str) -> None:
        """Cover the views (if it takes longer than BUSY_DELAY_MS) until the worker has sent the
        frame of the change just requested."""
        self.expect_fresh_state(text)
        self._fresh_seq = getattr(self, "_fresh_seq", 0) + 1
        seq = self._fresh_seq

        def done(_result, _error, seq=seq):
            if seq == self._fresh_seq:
                self.set_busy(None)

        self.runner.query("watch_value", callback=done)

    def _on_params_edited(self, params):
        if (params.dataset == "file" and self.params.dataset != "file"
                and not getattr(self, "_file_loaded", False)):
            # a choice that needs a file first: said as information, and nothing else changes
            self.form.set_params(self.params)
            self.show_message("<b>No data file yet.</b> Load one with File &gt; Open data… (MNIST IDX "
                              "files or an image CSV); the data set switches to it by itself. The "
                              "8×8 digits stay in use meanwhile.", "info")
            self.banner.setProperty("kind", "info")
            return
        live, structural = params.live_changes(self.params)
        super()._on_params_edited(params)
        groups = {fi.name: fi.group for fi in params.fields_info()}
        ascent = any(groups.get(n) in _AM_GROUPS for n in live)
        if structural:
            self._cover_until_done(self.busy_text(params))
        elif ascent and self.snapshot is not None and self.snapshot.phase == PHASE_READY:
            self._cover_until_done(self._ascent_text(params))

    def _on_reset(self, seed: int):
        super()._on_reset(seed)
        self._cover_until_done(self.busy_text(self.params))

    # ---- views -------------------------------------------------------------------------------
    def build_views(self, area: QWidget) -> None:
        self._speed_before = None
        self._saw_training = False
        self._std_key = None
        self._drawn: dict[str, tuple] = {}   # what each part shows now (see _changed)
        self._canvas_snap = None             # the state the canvas last took its image from
        self._text_stale = False             # a text skipped while playing (see _on_play_state)
        self.tabs = QTabWidget()
        QVBoxLayout(area).addWidget(self.tabs)
        area.layout().setContentsMargins(0, 0, 0, 0)
        self._build_am_tab()
        self._build_live_tab()
        self._build_training_tab()
        self._build_std_tab()
        self._build_side()

    def _build_am_tab(self):
        tab = QWidget()
        v = QVBoxLayout(tab)
        self.am_grid = ImageRow([START_LABELS[s] for s in am.STARTS + ("image",)], caption_rows=2)
        self.am_grid.setToolTip("The input x after the ascent from each start (black = its smallest pixel, "
                                "white = its largest). Under each image: the network's confidence in the "
                                "target class, and the range x ∈ [min, max] of its pixels.")
        row = QHBoxLayout()
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setRange(0, 10)
        self.scrubber.setToolTip("Move through the ascent's iterations (Play animates them)")
        self.scrubber.valueChanged.connect(lambda h: self.runner.invoke("seek", int(h)))
        self.scrub_label = QLabel("iteration 0 / 0")
        self.scrub_label.setMinimumWidth(150)
        self.border_check = QCheckBox("Zero the outer border and re-classify")
        self.border_check.setToolTip("The article's check: set the outermost pixels to 0; the confidence "
                                     "barely changes, so the network does not look there.")
        self.border_check.toggled.connect(lambda _on: self.snapshot is not None
                                          and self._render_am(self.snapshot))
        row.addWidget(QLabel("Iteration:"))
        row.addWidget(self.scrubber, 1)
        row.addWidget(self.scrub_label)
        row.addWidget(self.border_check)
        # (the key is in a(x)'s title, never over the data: a legend of five starts would take
        # the height a projector does not have; the confidence curves share its colours)
        self.act_widget = make_plot("Target activation a(x)", "iteration", "a(x)")
        self.conf_widget = make_plot("Confidence", "iteration", "probability")
        self._act_curves, self._conf_curves, self._heads = [], [], []
        for k, s in enumerate(am.STARTS + ("image",)):
            pen = pg.mkPen(start_pen(k), width=2.5)
            self._act_curves.append(self.act_widget.getPlotItem().plot([], [], pen=pen, name=START_LABELS[s],
                                                                       connect="finite"))
            self._conf_curves.append(self.conf_widget.getPlotItem().plot([], [], pen=pen, connect="finite"))
        # (the curves hold the whole ascent and stay while Play moves the head over them: drawn
        # once into a pixmap, the head's move repaints a strip from it; an ascent of 5000
        # iterations from five starts took ~35 ms to stroke again in every frame)
        for c in self._act_curves + self._conf_curves:
            c.curve.setCacheMode(pg.QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for w in (self.act_widget, self.conf_widget):
            head = pg.InfiniteLine(0, angle=90, pen=pg.mkPen(HEAD_PEN, width=1.5, style=Qt.PenStyle.DashLine))
            w.getPlotItem().addItem(head)
            self._heads.append(head)
        self.conf_widget.getPlotItem().setYRange(0, 1.02, padding=0)
        self.act_widget.getPlotItem().disableAutoRange()  # (see _render_am)
        self.conf_widget.getPlotItem().disableAutoRange()
        curves = QSplitter(Qt.Orientation.Horizontal)
        curves.addWidget(self.act_widget)
        curves.addWidget(self.conf_widget)
        curves.setSizes([560, 440])  # (a(x) carries the legend)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.am_grid)
        top = QWidget()
        tv = QVBoxLayout(top)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.addLayout(row)
        tv.addWidget(curves, 1)
        split.addWidget(top)
        split.setSizes([420, 580])   # (the curves' titles carry the key)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        v.addWidget(split)
        self.am_tab = tab
        self.tabs.addTab(tab, "Activation maximization")

    def _build_live_tab(self):
        tab = QWidget()
        h = QHBoxLayout(tab)
        left = QVBoxLayout()
        self.canvas = DrawCanvas()
        self.canvas.drawn.connect(lambda img: self.runner.invoke("set_input", img))
        # square (the whole canvas is the image), 320 px at most, smaller when the room is short
        left.addWidget(SquareHolder(self.canvas, min_side=150, max_side=320))
        self.input_label = QLabel()
        self.input_label.setWordWrap(True)
        left.addWidget(self.input_label)
        buttons = QHBoxLayout()
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.canvas.clear)
        self.noise_button = QPushButton("Add noise")
        self.noise_button.setToolTip("Add Gaussian noise N(0, 0.15²) to the input (clipped to [0, 1])")
        self.noise_button.clicked.connect(lambda: self.runner.invoke("add_noise"))
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.noise_button)
        left.addLayout(buttons)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Test image #"))
        self.test_spin = QSpinBox()
        self.test_spin.setRange(0, 10**6)
        self.test_spin.setToolTip("Show a held-out test image (then draw over it, or add noise)")
        self.test_spin.valueChanged.connect(lambda i: self.runner.invoke("pick_test", int(i)))
        pick.addWidget(self.test_spin, 1)
        left.addLayout(pick)
        left.addStretch(1)
        left_w = QWidget()
        left_w.setLayout(left)
        left.setContentsMargins(0, 0, 0, 0)
        left_w.setMaximumWidth(380)   # (the rest of a wide screen goes to the maps)
        h.addWidget(left_w, 2)
        right = QSplitter(Qt.Orientation.Vertical)
        self.maps_row = ImageRow([LAYER_LABELS[n] for n in MAP_LAYERS], caption_rows=1)
        right.addWidget(self.maps_row)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        self.prob_widget = make_plot("Output probabilities", "class", "probability p_k")
        pp = self.prob_widget.getPlotItem()
        self.prob_bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7,
                                         brushes=bar_brushes(10))
        pp.addItem(self.prob_bars)
        pp.setYRange(0, 1.02, padding=0)
        pp.getAxis("bottom").setTicks([[(k, str(k)) for k in range(10)]])
        self.filters_row = ImageRow(["Conv 1 filters"], caption_rows=1)
        bottom.addWidget(self.prob_widget)
        bottom.addWidget(self.filters_row)
        right.addWidget(bottom)
        right.setSizes([420, 320])
        h.addWidget(right, 5)
        self.live_tab = tab
        self.tabs.addTab(tab, "Live activations")

    def _build_side(self):
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        self.side.addWidget(self.source_label)
        self.train_button = QPushButton("Train from scratch")
        self.train_button.setToolTip("Forget the weights, train with the Training settings (fast), then "
                                     "redo the activation maximization with the new network")
        self.train_button.clicked.connect(self._on_train_clicked)
        self.side.addWidget(self.train_button)
        for text, slot in (("Save weights…", self._on_save_clicked), ("Load weights…", self._on_load_clicked),
                           ("Open data (MNIST IDX or image CSV)…", self._on_open_clicked)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            self.side.addWidget(b)

    def figures(self) -> dict:
        return {"Activation maximization images": self.am_grid, "Target activation": self.act_widget,
                "Confidence": self.conf_widget, "Feature maps": self.maps_row,
                "Output probabilities": self.prob_widget, "First-layer filters": self.filters_row,
                "Loss": self.loss_widget, "Accuracy": self.acc_widget, "Confusion matrix": self.confusion,
                "Class pixel std": self.std_grid}

    def restyle_views(self) -> None:
        """The start colours follow the theme (a dark grey line would vanish on the dark background)."""
        for k, (a, c) in enumerate(zip(self._act_curves, self._conf_curves)):
            for curve in (a, c):
                pen = pg.mkPen(curve.opts["pen"])
                pen.setColor(QColor(start_pen(k)))
                curve.setPen(pen)
        for line in self._heads:
            line.setPen(pg.mkPen(HEAD_PEN, width=line_width(1.5), style=Qt.PenStyle.DashLine))
        self._drawn.clear()  # (titles, bars and captions carry the theme's colours: draw them again)

    # ---- rendering (a pure function of the snapshot) -----------------------------------------
    # Only the tab on screen is drawn (view_shown); the others are brought up to date when shown
    # or exported. Within a tab, each part is drawn only when what it shows changed (playing the
    # ascent moves the head: the curves, the feature maps and the bars stay). The drawing canvas is
    # not a view of the last state but an input: it takes a state's image once, when that state
    # arrives (never on a redraw, which would put an older image over the user's strokes).
    def render_snapshot(self, snap) -> None:
        set_text(self.source_label, f"<b>Weights:</b> {snap.source}<br><b>Data:</b> {snap.data_name} "
                                    f"({snap.n_train} training, {snap.n_test} test images)<br>"
                                    f"{snap.n_params:,} weights")
        self._sync_canvas(snap)
        for tab, render, prefix in ((self.am_tab, self._render_am, "am_"), (self.live_tab, self._render_live, "live_"),
                                    (self.train_tab, self._render_training, "train_")):
            if self.view_shown(tab):
                render(snap)
            else:  # (a tab skipped is drawn in full when it is shown again)
                for key in [k for k in self._drawn if k.startswith(prefix)]:
                    del self._drawn[key]
        key = (snap.data_name, snap.n_train, snap.in_shape)
        if key != self._std_key and self.view_shown(self.std_tab):
            self._std_key = key
            self._render_std(snap)
        if snap.phase == PHASE_TRAIN:
            self._saw_training = True
        elif snap.phase == PHASE_READY and self._speed_before is not None and self._saw_training:
            self.transport.speed_box.setCurrentIndex(self._speed_before)
            self._speed_before = None

    def _sync_canvas(self, snap) -> None:
        if snap is self._canvas_snap:
            return  # (a redraw: the user may have drawn since this state was made)
        self._canvas_snap = snap
        C, H, W = snap.in_shape
        if self.canvas.input_shape != (H, W):
            self.canvas.set_size((H, W))
        shown = snap.input_image[0]
        if snap.input_source != "your drawing" and not np.allclose(self.canvas.image(), shown):
            self.canvas.set_image(shown)

    def _render_am(self, snap) -> None:
        n = len(snap.am_starts)
        if n == 0:
            # (no old pictures beside a network that is being trained or was just replaced)
            for k in range(len(self.am_grid.images)):
                self.am_grid.clear_image(k)
                self.am_grid.set_caption(k, "train the network first (Play)")
            if self._changed("am_curves", None):
                for c in self._act_curves + self._conf_curves:
                    c.setData([], [])
            set_text(self.scrub_label, "iteration – / –")
            return
        self.am_grid.set_titles([START_LABELS[s] for s in snap.am_starts])
        border = self.border_check.isChecked()
        imgs = zero_border(snap.am_images) if border else snap.am_images
        probs = snap.am_border_probs if border else snap.am_head_probs
        k_t, head = snap.am_class, snap.am_head
        muted = theme().muted
        # (the captions' digits change with every iteration: while playing, at most 8 times a
        # second, which can be read; exact on every step, scrub and when the run stops)
        captions = self.text_due("am_captions")
        self._text_stale |= not captions
        for k in range(n):
            img = imgs[k, 0]
            lo, hi = finite_range(img)
            self.am_grid.set_rgb(k, gray_rgb(img, lo, hi))
            if not captions:
                continue
            p = probs[k]
            if not np.all(np.isfinite(p)):
                cap = f"diverged at iteration {snap.am_diverged_at[k]}"
            elif k_t >= 0:
                cap = f"p({k_t}) = {p[k_t]:.5f}"
            else:
                top = int(np.argmax(p))
                cap = f"predicted {top}, p = {p[top]:.4f}"
            if border:
                cap += " (border zeroed)"
            # (the second line: the range of the image's pixels, black … white)
            # (the start's colour is keyed in the a(x) title: a swatch here would break the line
            # in a narrow column)
            cap = f"{cap}<br><span style='color:{muted}'>x ∈ [{lo:.2f}, {hi:.2f}]</span>"
            self.am_grid.set_caption(k, cap)
        # (the curves hold the whole ascent: playing it only moves the head)
        if self._changed("am_curves", snap.am_activation, snap.am_confidence, n):
            x = np.arange(snap.am_activation.shape[1])
            for k in range(len(self._act_curves)):
                if k < n:
                    self._act_curves[k].setData(x, snap.am_activation[k])
                    self._conf_curves[k].setData(x, snap.am_confidence[k])
                else:
                    self._act_curves[k].setData([], [])
                    self._conf_curves[k].setData([], [])
            # (ranged here, once: with auto-range on, every move of the head ranged the view again)
            self.act_widget.getPlotItem().getViewBox().autoRange(items=self._act_curves[:n])
            self.conf_widget.getPlotItem().setXRange(0, max(int(x[-1]), 1))
        if self._changed("am_titles", k_t, snap.am_label, tuple(snap.am_starts), theme().name):
            what = f"p({k_t})" if k_t >= 0 else "top-class probability"
            self.conf_widget.getPlotItem().setTitle(f"Confidence {what}")
            key = color_key([(start_pen(k), START_LABELS[s]) for k, s in enumerate(snap.am_starts)])
            self.act_widget.getPlotItem().setTitle(f"Target activation a(x): {snap.am_label}<br>{key}")
        for line in self._heads:
            if line.value() != head:
                line.setValue(head)
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, snap.am_steps)
        self.scrubber.setValue(head)
        self.scrubber.blockSignals(False)
        set_text(self.scrub_label, f"iteration {head} / {snap.am_steps}")

    def _render_live(self, snap) -> None:
        p = snap.input_probs
        top = int(np.argmax(p)) if np.all(np.isfinite(p)) else -1
        set_text(self.input_label, f"<b>Input:</b> {snap.input_source}<br>predicted <b>{top}</b> with p = "
                                   f"{p[top]:.3f}" if top >= 0 else f"<b>Input:</b> {snap.input_source}")
        # (the maps and the bars follow the input and the weights: still while the ascent plays)
        if self._changed("live_maps", snap.input_image, snap.theta):
            titles, rgbs, caps = [], [], []
            for name in MAP_LAYERS:
                a = snap.activations[name]
                titles.append(LAYER_LABELS[name])
                rgbs.append(gray_rgb(tile_maps(a), 0.0, max(finite_range(a)[1], 1e-9)))
                caps.append(f"{a.shape[0]} maps of {a.shape[1]}×{a.shape[2]}<br>max {np.nanmax(a):.2f}")
            self.maps_row.set_titles(titles)
            for k, (rgb, cap) in enumerate(zip(rgbs, caps)):
                self.maps_row.set_rgb(k, rgb)
                self.maps_row.set_caption(k, cap)
        K = len(p)
        if self._changed("live_bars", p, theme().name):
            self.prob_bars.setOpts(x=np.arange(K), height=p, brushes=bar_brushes(K))
        if self._changed("live_range", K):
            self.prob_widget.getPlotItem().setXRange(-0.6, K - 0.4, padding=0)
        f = snap.filters[:, 0]
        if self._changed("live_filters", f):
            scale = finite_range(f, symmetric=True)[1]
            self.filters_row.set_rgb(0, diverging_rgb(tile_maps(f), scale))
            self.filters_row.set_caption(0, f"{f.shape[0]} of 3×3, |w|&nbsp;≤&nbsp;{scale:.2f}<br>"
                                            "blue &lt; 0 &lt; red")
        self.test_spin.blockSignals(True)
        self.test_spin.setMaximum(max(snap.n_test - 1, 0))
        self.test_spin.setValue(snap.test_index)
        self.test_spin.blockSignals(False)

    # ---- actions -------------------------------------------------------------------------------
    def _on_train_clicked(self):
        """Retrain from scratch at full speed, on the Training tab; the speed comes back afterwards."""
        if self._speed_before is None:
            self._speed_before = self.transport.speed_box.currentIndex()
        self._saw_training = False
        self.transport.speed_box.setCurrentIndex(self.transport.speed_box.findData(0.0))
        self.tabs.setCurrentIndex(2)
        self.banner.setProperty("kind", None)
        self.runner.invoke("retrain")
        self.runner.play()

    def _error(self, title: str, path: str, exc) -> None:
        self.show_file_error(path, exc, title=title, lead=f"{title} {path}:")

    def _on_open_clicked(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open data (MNIST IDX images file or image CSV)", "",
                                              "IDX or CSV (*ubyte* *.idx* *.gz *.csv *.txt);;All files (*)")
        if path:
            self.open_data(path)

    def open_data(self, path: str) -> bool:
        """Load MNIST IDX files (give the images file; the labels file is found next to it) or an image
        CSV (pixels then label per row). On error: a banner and a dialog, and nothing changes."""
        def use(data):
            self._file_loaded = True
            self.params = self.params.replace(dataset="file")
            self.form.set_params(self.params)
            self.banner.setProperty("kind", None)
            self.runner.invoke("set_data", data)
            self._cover_until_done(f"Loading {data.name} and building an untrained CNN…")
            self.show_message(f"Loaded {data.name} from {path}; the network starts untrained.", "info")

        return self.read_data_file(path, load_data_file, use)

    def _on_save_clicked(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save weights", "cnn-weights.npz", "NumPy archive (*.npz)")
        if path:
            self.save_weights(path)

    def _on_load_clicked(self):
        path, _ = QFileDialog.getOpenFileName(self, "Load weights", "", "NumPy archive (*.npz);;All files (*)")
        if path:
            self.load_weights(path)

    def save_weights(self, path: str) -> bool:
        """Write the current network (architecture + weights) as an .npz file ConvNet.load reads."""
        snap = self.snapshot
        if snap is None:
            return False
        try:
            net = ConvNet(**snap.net_config)
            net.theta[:] = snap.theta
            net.save(path, source=snap.source, test_accuracy=snap.test_accuracy)
        except (OSError, ValueError) as exc:
            self._error("Could not save the weights to", path, exc)
            return False
        self.show_message(f"Saved the weights to {path}.", "info")
        return True

    def load_weights(self, path: str) -> bool:
        """Adopt weights saved by :meth:`save_weights`; the architecture parameters follow the file."""
        try:
            net = ConvNet.load(path)
            cfg = net.config()
            snap = self.snapshot
            if snap is not None and (tuple(cfg["in_shape"]) != tuple(snap.in_shape)
                                     or int(cfg["n_classes"]) != snap.n_classes):
                raise ValueError(f"these weights expect {cfg['in_shape'][1]}×{cfg['in_shape'][2]} inputs and "
                                 f"{cfg['n_classes']} classes; the data are {snap.in_shape[1]}×"
                                 f"{snap.in_shape[2]} with {snap.n_classes} classes")
        except ValueError as exc:
            self._error("Could not load the weights from", path, exc)
            return False
        maps = tuple(int(m) for m in cfg["maps"])
        self.params = self.params.replace(maps1=maps[0], maps2=maps[1], hidden=int(cfg["hidden"]),
                                          padding=int(cfg["padding"]))
        self.form.set_params(self.params)
        self.banner.setProperty("kind", None)
        name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
        self.runner.invoke("use_network", cfg, net.theta.copy(), f"loaded from {name}")
        self._cover_until_done(f"Loading the weights of {name} and maximizing the activation…")
        return True

    def export_confusion_csv(self, path):
        """The test digits' confusion matrix as a CSV table of counts (row = true digit)."""
        return self.confusion.write_csv(path)

    def export_images_csv(self, path: str) -> bool:
        """The images at the head as CSV: a comment row, then start, row, col, value (all starts)."""
        snap = self.snapshot
        if snap is None or not len(snap.am_starts):
            self.show_message("No activation-maximization images yet: train the network first.", "warn")
            return False
        try:
            with open(path, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow([f"# {snap.am_label}; iteration {snap.am_head} of {snap.am_steps}"])
                w.writerow(["start", "row", "col", "value"])
                for s, start in enumerate(snap.am_starts):
                    img = snap.am_images[s, 0]
                    for r in range(img.shape[0]):
                        for c in range(img.shape[1]):
                            w.writerow([START_LABELS[start], r, c, repr(float(img[r, c]))])
        except OSError as exc:
            self._error("Could not write", path, exc)
            return False
        return True
