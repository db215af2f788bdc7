"""t-SNE springs panel: the map points pulled and pushed by their springs (lecture 9, van der Maaten 2008).

The lecture's physical analogy, live: every pair of map points is joined by a spring whose stiffness
depends on p_ij − q_ij; it attracts (blue) when the data are closer than the map says (p > q) and
repels (red) when the map puts dissimilar data too close (p < q); line width grows with the force
4 |p − q| (1 + ‖y_i − y_j‖²)⁻¹ ‖y_i − y_j‖. Around it: the KL cost against iteration with the early
exaggeration and momentum phases, PCA of the same data side by side (the lecture's comparison), the
σᵢ found by the perplexity search, and an inspector for the clicked point (its input image, its
springs with p, q, force and KL term, and the gradient with numbers). The engine does every number;
this module only draws snapshots.
"""

from __future__ import annotations

import csv
import html
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QScrollArea, QSizePolicy, QSplitter, QStackedWidget, QTabWidget,
                               QVBoxLayout, QWidget)

from nnsim.engine.tsne import TSNEParams, TSNESimulation
from nnsim.engine.tsne_data import load_data_file
from nnsim.panels.base import Panel
from nnsim.widgets.plots import (CLASS_SYMBOLS, TICK_PT, FitLabel, add_legend, long_series,
                                 make_plot, pt, style_plot, theme)
from nnsim.panels.tsne_draw import (  # noqa: F401  (re-exported: tests and notebooks use them)
    ATTRACT, ATTRACT_DARK, FORCE_COLOR, GREY_LUT as _GREY_LUT, INSPECTOR_SIDE_BY_SIDE,
    N_NEIGHBOUR_IMAGES, PALETTE, PCA_TITLE, REPEL, REPEL_DARK, ROOMY_HEIGHT, TEXT_INTERVAL,
    WIDTH_EDGES, WIDTHS, ClassKey as _ClassKey, arrow_segments, class_pen_brush, fmt as _fmt,
    force_color, image_for_item, move_points, segments, spring_colors, swatch, text_font)


class TSNEPanel(Panel):
    key = "tsne"
    target_label = "KL(P‖Q)"
    target_default = 1.0
    title = "t-SNE springs"
    description = "t-SNE step by step and its physical analogy: springs pulling and pushing the map."
    step_unit = "iteration"
    default_speed = 100.0
    params_class = TSNEParams
    presets = {
        "Lecture: 500 digits, perplexity 30": {},
        "All 1797 digits, live": dict(n_points=1797),
        "Perplexity 5: only the nearest neighbours count": dict(perplexity=5.0),
        "Perplexity 100: broader neighbourhoods": dict(perplexity=100.0),
        "Random initialization (step 1, second option)": dict(init="random"),
        "No early exaggeration (α = 1)": dict(early_exaggeration=1.0),
        "The 2008 paper: α = 4 for 50 iterations, η = 100": dict(
            early_exaggeration=4.0, exaggeration_iters=50, lr_auto=False, learning_rate=100.0),
        "Gaussian clusters in 50-D": dict(dataset="clusters", dim=50, n_points=300),
        "Every strong spring (force ≥ 5 % of the strongest)": dict(spring_mode="threshold",
                                                                  spring_threshold=0.05),
    }

    help_text = (
        "<p><b>The map</b> (left) holds one point y<sub>i</sub> per input vector x<sub>i</sub>, "
        "coloured by its label. t-SNE moves the points so that the map's similarities "
        "q<sub>ij</sub> (a Student-t of the map distance) match the data's p<sub>ij</sub> (a Gaussian "
        "of the input distance whose width σ<sub>i</sub> is set by the perplexity).</p>"
        "<p><b>Springs</b>: every pair is joined by a spring of stiffness (p<sub>ij</sub> − "
        "q<sub>ij</sub>)(1 + ‖y<sub>i</sub> − y<sub>j</sub>‖²)<sup>−1</sup>. Blue <span "
        "style='color:#1B4F9C'>■</span> springs attract (the data are closer than the map says), "
        "red <span style='color:#C8102E'>■</span> ones repel (the map puts dissimilar data too close); the "
        "thicker, the stronger. Shown: each point's k strongest input neighbours, or every spring "
        "above a force threshold.</p>"
        "<p><b>Click</b> a point (map or PCA) to see its input, its neighbours and the numbers of its "
        "springs; <b>hover</b> for its label and picture. The KL curve marks the end of early "
        "exaggeration (P × α) and the momentum switch. PCA (right) is the linear, deterministic "
        "projection of the same data, for comparison.</p>"
        "<p><b>Notation.</b> The lecture's step 2 writes the conditional p<sub>j|i</sub> (normalized "
        "per row, with one σ); here every point has its own σ<sub>i</sub>, found from the "
        "perplexity, and the joint p<sub>ij</sub> = (p<sub>j|i</sub> + p<sub>i|j</sub>)/2N is used: "
        "the gradient 4 Σ (p<sub>ij</sub> − q<sub>ij</sub>)(1 + ‖y<sub>i</sub> − y<sub>j</sub>‖²)"
        "<sup>−1</sup>(y<sub>i</sub> − y<sub>j</sub>) on the slides is the one of this symmetric "
        "version. Perplexity, early exaggeration, the momentum values and the gains are not in the "
        "lecture; their defaults are scikit-learn's (van der Maaten &amp; Hinton 2008 used α = 4 "
        "for 50 iterations: see the presets).</p>")

    def __init__(self, parent=None):
        super().__init__(parent)
        hover = getattr(self, "hovers", {}).get("PCA")
        if hover is not None:           # PCA has its own hover (label and index of the point)
            try:
                self.pca_widget.scene().sigMouseMoved.disconnect(hover._on_moved)
            except (RuntimeError, TypeError):
                pass
        menu = self.map_plot.vb.menu
        if menu is not None and hasattr(self, "export_dialog"):
            menu.addSeparator()
            menu.addAction("Export this figure (PNG, SVG, CSV)…").triggered.connect(
                lambda _checked=False: self.export_dialog("t-SNE map"))

    def make_simulation(self, params, seed):
        return TSNESimulation(params, seed=seed)

    # ---- views ----------------------------------------------------------------------------------
    def build_views(self, area: QWidget) -> None:
        self._input_key = None
        self._text_forced = True
        self._title = ""
        self._drawn = {}             # what is on screen, to skip redundant updates
        self._hover: int | None = None
        self._data_id = None
        self._highlight: set[int] = set()
        self._class_idx: list[np.ndarray] = []
        self._labels = np.zeros(0, np.int64)
        self._point_size = 10
        self.error_dialog = None

        # the map: the class legend outside the data (right of a wide map, below a tall one, in as
        # many columns as fit) and the springs' colour key under it, so no legend hides points
        self.map_widget = pg.GraphicsLayoutWidget()
        self.map_widget.csv_table = self._map_csv_table
        self.map_widget.ci.setContentsMargins(2, 2, 2, 2)
        self.map_plot = pg.PlotItem()
        style_plot(self.map_plot, "t-SNE map", "y₁", "y₂")
        self.map_widget.addItem(self.map_plot, row=0, col=0)
        self.spring_key = FitLabel("", size=pt(TICK_PT), color=theme().fg)
        self.spring_key._nnsim_base_pt = TICK_PT
        self.map_widget.addItem(self.spring_key, row=1, col=0)
        self.map_widget.ci.layout.setRowStretchFactor(0, 10)
        self.map_plot.setAspectLocked(True)
        self.map_plot.showGrid(x=False, y=False)     # grids cost ~8 ms a frame; this plot repaints
        # own auto-range with hysteresis: new axis ticks cost ~4 ms, so the range only changes when
        # points leave the view or fill too little of it; zooming by hand turns this off and the
        # "A" button (pyqtgraph's auto-range) turns it back on
        self._map_auto = True
        self._map_range = None
        map_vb = self.map_plot.getViewBox()
        map_vb.disableAutoRange()
        map_vb.sigRangeChangedManually.connect(self._on_map_zoomed)
        map_vb.sigResized.connect(self._on_map_resized)
        self._spring_items = {}
        for kind, color in (("attract", ATTRACT), ("repel", REPEL)):
            for b, w in enumerate(WIDTHS):
                item = pg.PlotCurveItem(connect="pairs", antialias=False,
                                        name=f"springs {kind} {b + 1}")
                item.setZValue(1)
                self.map_plot.addItem(item)
                self._spring_items[kind, b] = item
        self._sel_items = {}
        for kind, color in (("attract", ATTRACT), ("repel", REPEL)):
            item = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(color, width=3.2),
                                    name=f"selected point's springs, {kind}")
            item.setZValue(3)
            self.map_plot.addItem(item)
            self._sel_items[kind] = item
        self.arrow_item = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(FORCE_COLOR, width=1.1),
                                           name="net force", antialias=False)   # N short arrows
        self.arrow_item.setZValue(4)
        self.map_plot.addItem(self.arrow_item, ignoreBounds=True)
        # every point in one item (ten items cost ten bounding rects and paints a frame); the
        # legend shows one key per class, not in the plot (see _ClassKey)
        self.map_points = pg.ScatterPlotItem(name="points")
        self.map_points.setZValue(6)
        self.map_plot.addItem(self.map_points)
        self._point_items: list[_ClassKey] = []
        self._order = np.zeros(0, np.int64)      # the points' drawing order (faded classes first)
        self._hidden_classes: set[int] = set()
        self.sel_ring = pg.ScatterPlotItem(symbol="o", size=22, pen=pg.mkPen("#000", width=2.5),
                                           brush=None, name="selected point")
        self.sel_ring.setZValue(8)
        self.map_plot.addItem(self.sel_ring, ignoreBounds=True)
        self.hover_label = pg.TextItem("", color="#000", fill=pg.mkBrush(255, 255, 255, 235),
                                       border=pg.mkPen("#666"), anchor=(0, 1))
        self.hover_label.setZValue(20)
        self.hover_image = pg.ImageItem()
        self.hover_image.setZValue(19)
        for it in (self.hover_label, self.hover_image):
            self.map_plot.addItem(it, ignoreBounds=True)
            it.hide()
        # the classes' legend (entries added per data set in _new_data); created after the named
        # items above so that only the classes join it
        self.map_legend = add_legend(self.map_plot, "auto")
        self._update_spring_key()

        # PCA, KL, sigma
        self.pca_widget = make_plot(PCA_TITLE, "PC1", "PC2", legend=False)
        self.pca_plot = self.pca_widget.getPlotItem()
        self.pca_plot.setAspectLocked(True)
        self.pca_points = pg.ScatterPlotItem(name="points")
        self.pca_points.setZValue(6)
        self.pca_plot.addItem(self.pca_points)
        self.pca_ring = pg.ScatterPlotItem(symbol="o", size=20, pen=pg.mkPen("#000", width=2.5),
                                           brush=None, name="selected point")
        self.pca_ring.setZValue(8)
        self.pca_plot.addItem(self.pca_ring, ignoreBounds=True)
        self.pca_hover = pg.TextItem("", color="#000", fill=pg.mkBrush(255, 255, 255, 235),
                                     border=pg.mkPen("#666"), anchor=(0, 1))
        self.pca_hover.setZValue(20)
        self.pca_plot.addItem(self.pca_hover, ignoreBounds=True)
        self.pca_hover.hide()

        self.kl_widget = make_plot("KL(P‖Q) of the map", "iteration", "KL divergence", y_unit="nats")
        self.kl_plot = self.kl_widget.getPlotItem()
        self.kl_plot.showGrid(x=False, y=False)      # repainted as the curve grows (hover gives values)
        self.kl_region = pg.LinearRegionItem((0, 250), movable=False,
                                             brush=pg.mkBrush(242, 142, 43, 45),
                                             pen=pg.mkPen(None))
        self.kl_region.setZValue(-10)
        self.kl_plot.addItem(self.kl_region)
        self.kl_ex_line = pg.InfiniteLine(250, angle=90, pen=pg.mkPen("#B85C00", width=1.8,
                                                                          style=Qt.PenStyle.DashLine))
        self.kl_mom_line = pg.InfiniteLine(250, angle=90, pen=pg.mkPen("#444", width=1.8,
                                                                           style=Qt.PenStyle.DotLine))
        # annotations in the theme's text colour (an orange or grey text fails 4.5:1 somewhere)
        self.kl_ex_text = pg.TextItem("", color=theme().fg, anchor=(0, 0))
        self.kl_mom_text = pg.TextItem("", color=theme().fg, anchor=(0, 0))
        for it in (self.kl_ex_line, self.kl_mom_line, self.kl_ex_text, self.kl_mom_text):
            self.kl_plot.addItem(it, ignoreBounds=True)
        self.kl_curve = self.kl_plot.plot([], [], pen=pg.mkPen("#1B4F9C", width=2.5),
                                          symbol="o", symbolSize=4, symbolBrush="#1B4F9C",
                                          symbolPen=None, name="KL(P‖Q)")
        long_series(self.kl_curve)
        self.kl_now = self.kl_plot.plot([], [], pen=None, symbol="o", symbolSize=11,
                                        symbolBrush="#C8102E", symbolPen=pg.mkPen("#fff"),
                                        name="latest")
        self.kl_plot.setXRange(0, 1000, padding=0.02)

        self.sigma_widget = make_plot("σᵢ set by the perplexity search", "σᵢ", "points")
        self.sigma_plot = self.sigma_widget.getPlotItem()
        self.sigma_hist = pg.PlotCurveItem([0.0, 1.0], [0.0], stepMode="center", fillLevel=0,
                                           brush=pg.mkBrush(78, 121, 167, 150),
                                           pen=pg.mkPen("#2b4a6b", width=1.5), name="σᵢ count")
        self.sigma_plot.addItem(self.sigma_hist)
        self.sigma_sel = pg.InfiniteLine(0, angle=90, pen=pg.mkPen(theme().fg, width=2.2))
        self.sigma_plot.addItem(self.sigma_sel, ignoreBounds=True)
        self.sigma_sel.hide()
        # short lines in the free top right corner (the y range leaves room for them); the
        # entropy condition is in the title, which wraps
        self.sigma_text = pg.TextItem("", color=theme().fg, anchor=(1, 0))
        self.sigma_plot.addItem(self.sigma_text, ignoreBounds=True)

        # the inspector: the clicked point's input and its strongest neighbours as tiles (captions
        # at the tick size, wrapping inside their column; one strip in a wide view, the input
        # above its neighbours in a squarer one: _layout_tiles), and its springs' table
        self.input_view = pg.GraphicsLayoutWidget()
        self.input_view.setMinimumSize(190, 130)
        self.input_view.ci.setContentsMargins(2, 2, 2, 2)
        self.input_view.ci.setSpacing(4)
        self.input_vb = self.input_view.addViewBox(row=0, col=0, lockAspect=True, enableMouse=False)
        self.input_img = pg.ImageItem()
        self.input_vb.addItem(self.input_img)
        self.input_title = FitLabel("", size=pt(TICK_PT), color=theme().fg)
        self.input_view.addItem(self.input_title, row=1, col=0)
        self.nb_vbs, self.nb_imgs, self.nb_labels = [], [], []
        for m in range(N_NEIGHBOUR_IMAGES):
            vb = self.input_view.addViewBox(row=0, col=m + 1, lockAspect=True, enableMouse=False)
            img = pg.ImageItem()
            vb.addItem(img)
            lab = FitLabel("", size=pt(TICK_PT), color=theme().fg)
            self.input_view.addItem(lab, row=1, col=m + 1)
            self.nb_vbs.append(vb)
            self.nb_imgs.append(img)
            self.nb_labels.append(lab)
        for lab in [self.input_title] + self.nb_labels:
            lab._nnsim_base_pt = TICK_PT
        self._tiles_strip = None
        self._layout_tiles(True)
        self.input_view.installEventFilter(self)
        self.vector_widget = make_plot("input vector", "component", "value")
        self.vector_widget.setMinimumSize(190, 130)
        self.vector_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#4E79A7",
                                           name="x_i")
        self.vector_widget.getPlotItem().addItem(self.vector_bars)
        self.input_stack = QStackedWidget()
        self.input_stack.addWidget(self.input_view)
        self.input_stack.addWidget(self.vector_widget)
        self.inspector = QLabel()
        self.inspector.setTextFormat(Qt.TextFormat.RichText)
        self.inspector.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.inspector.setWordWrap(True)
        self.inspector.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.inspector.setObjectName("tsneInspector")
        self._style_inspector()
        self.inspector.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        insp_scroll = QScrollArea()
        insp_scroll.setWidget(self.inspector)
        insp_scroll.setWidgetResizable(True)
        insp_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.insp_split = QSplitter(Qt.Orientation.Horizontal)
        self.insp_split.addWidget(self.input_stack)
        self.insp_split.addWidget(insp_scroll)
        self.insp_split.setStretchFactor(0, 2)
        self.insp_split.setStretchFactor(1, 3)
        self.insp_split.setChildrenCollapsible(False)
        self.insp_box = QGroupBox()
        QVBoxLayout(self.insp_box).addWidget(self.insp_split)
        self.insp_box.layout().setContentsMargins(4, 4, 4, 4)
        self.insp_box.installEventFilter(self)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.kl_widget, "KL divergence")
        self.tabs.addTab(self.sigma_widget, "σᵢ distribution")

        # the map takes the left column's height; the clicked point's inspector goes under it when
        # the views are tall (1920×1080 and up), else into a tab beside KL and σ (see _arrange)
        self.left_split = QSplitter(Qt.Orientation.Vertical)
        self.left_split.addWidget(self.map_widget)
        self.left_split.setChildrenCollapsible(False)
        self.right_split = QSplitter(Qt.Orientation.Vertical)
        self.right_split.addWidget(self.pca_widget)
        self.right_split.addWidget(self.tabs)
        self.right_split.setChildrenCollapsible(False)
        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.addWidget(self.left_split)
        self.main_split.addWidget(self.right_split)
        self.main_split.setStretchFactor(0, 11)
        self.main_split.setStretchFactor(1, 9)
        self.main_split.setChildrenCollapsible(False)
        self._roomy = None
        self._sized_for = None
        self._arrange(False)
        QHBoxLayout(area).addWidget(self.main_split)
        area.layout().setContentsMargins(0, 0, 0, 0)
        area.installEventFilter(self)

        # side controls
        view = QGroupBox("View")
        form = QFormLayout(view)
        self.arrows_check = QCheckBox("net force −∂C/∂yᵢ on each point")
        self.arrows_check.setToolTip("An arrow per point: the sum of all its springs' forces, "
                                     "−∂C/∂yᵢ (the direction gradient descent moves it).")
        self.arrows_check.toggled.connect(self._on_arrows_toggled)
        form.addRow("Arrows", self.arrows_check)
        self.highlight_edit = QLineEdit()
        self.highlight_edit.setPlaceholderText("e.g. 0, 5 (the lecture's slide)")
        self.highlight_edit.setToolTip("Labels to highlight in the map and in PCA; the other "
                                       "classes fade. Empty: all classes alike.")
        self.highlight_edit.editingFinished.connect(self._on_highlight)
        form.addRow("Highlight", self.highlight_edit)
        self.side.addWidget(view)

        data = QGroupBox("Your data")
        lay = QVBoxLayout(data)
        self.label_col = QComboBox()
        for value, text in (("auto", "label column from the header"), ("last", "last column"),
                            ("first", "first column"), ("none", "no labels")):
            self.label_col.addItem(text, value)
        self.label_col.setToolTip("Which CSV column holds the labels. 'From the header': a column "
                                  "named label, class, target or digit.")
        row = QHBoxLayout()
        row.addWidget(QLabel("CSV labels:"))
        row.addWidget(self.label_col, 1)
        lay.addLayout(row)
        self.open_button = QPushButton("Open CSV or MNIST IDX file…")
        self.open_button.clicked.connect(self._on_open_clicked)
        lay.addWidget(self.open_button)
        self.save_map_button = QPushButton("Save map coordinates (CSV)…")
        self.save_map_button.setToolTip("index, label, y₁, y₂, PC1, PC2 of every point")
        self.save_map_button.clicked.connect(self._on_save_map)
        lay.addWidget(self.save_map_button)
        self.side.addWidget(data)

        for plot, handler in ((self.map_plot, self._on_map_clicked), (self.pca_plot, self._on_pca_clicked)):
            plot.scene().sigMouseClicked.connect(handler)
        self.map_plot.scene().sigMouseMoved.connect(self._on_map_moved)
        self.pca_plot.scene().sigMouseMoved.connect(self._on_pca_moved)
        self._update_enabled(self.params)
        self.restyle_views()

    def _map_csv_table(self):
        """The map figure's CSV (nnsim.export's ``csv_table`` hook): every visible series by name,
        the points one x/y pair per class as before they shared one item."""
        plot = self.map_plot
        pname = " ".join(plot.titleLabel.text.split()) or "t-SNE map"
        header, columns = [], []
        for item in list(plot.items):
            if not item.isVisible() or not isinstance(item, (pg.PlotCurveItem, pg.ScatterPlotItem)):
                continue
            x, y = item.getData()
            if item is self.map_points:
                order = self._order
                for k, key in enumerate(self._point_items[:len(self._class_idx)]):
                    m = (self._labels[order] == k) if len(order) == len(x) else np.zeros(len(x), bool)
                    header += [f"{pname}: {key.opts['name']} x", f"{pname}: {key.opts['name']} y"]
                    columns += [x[m], y[m]]
                continue
            if x is None or not len(x):
                continue
            name = item.name() or type(item).__name__
            header += [f"{pname}: {name} x", f"{pname}: {name} y"]
            columns += [np.asarray(x, float), np.asarray(y, float)]
        return [f"# {pname}: x = y₁; y = y₂"], header, columns

    def figures(self) -> dict:
        return {"t-SNE map": self.map_widget, "PCA": self.pca_widget,
                "KL divergence": self.kl_widget, "σᵢ distribution": self.sigma_widget}

    # ---- layout that follows the room -----------------------------------------------------------
    def inspector_in_tab(self) -> bool:
        """True when the clicked point's inspector is a tab beside KL and σ (small screens)."""
        return self.tabs.indexOf(self.insp_box) >= 0

    def _arrange(self, roomy: bool) -> None:
        """The inspector under the map (``roomy``: tall views) or in a tab beside KL and σ."""
        if roomy == self._roomy:
            return
        self._roomy = roomy
        current = self.tabs.currentWidget()
        if roomy:
            i = self.tabs.indexOf(self.insp_box)
            if i >= 0:
                self.tabs.removeTab(i)
            self.insp_box.setTitle("Clicked point: its input and its springs")
            self.left_split.addWidget(self.insp_box)
            self.insp_box.show()
        else:
            self.insp_box.setTitle("")
            self.tabs.addTab(self.insp_box, "Clicked point")
        if current is not None and self.tabs.indexOf(current) >= 0:
            self.tabs.setCurrentWidget(current)
        self._sized_for = None

    def _size_splitters(self) -> None:
        """Splitter sizes proportional to the room (again after each resize of the views)."""
        w, h = self.area.width(), self.area.height()
        if w < 100 or h < 100 or self._sized_for == (w, h, self._roomy):
            return
        self._sized_for = (w, h, self._roomy)
        left = int(w * 0.55)
        self.main_split.setSizes([left, w - left])
        self._name_tabs(w - left)
        pca = int(h * (0.5 if self._roomy else 0.46))    # the tabs hold the inspector too
        self.right_split.setSizes([pca, h - pca])
        if self._roomy:
            insp = max(240, int(h * 0.3))
            self.left_split.setSizes([h - insp, insp])

    def _name_tabs(self, width: int) -> None:
        """Whole tab names when they fit side by side, short ones in a narrow column (never
        elided to "K…" nor scrolled out of sight)."""
        names = {self.kl_widget: ("KL divergence", "KL(P‖Q)"),
                 self.sigma_widget: ("σᵢ distribution", "σᵢ"),
                 self.insp_box: ("Clicked point", "Clicked point")}
        long = sum(self.fontMetrics().horizontalAdvance(v[0]) + 30 for v in names.values())
        short = width < long + 20
        for widget, (full, brief) in names.items():
            i = self.tabs.indexOf(widget)
            if i >= 0:
                self.tabs.setTabText(i, brief if short else full)
                self.tabs.setTabToolTip(i, full)

    def _orient_inspector(self) -> None:
        """Tiles beside the springs' table when the inspector is wide, above it when narrow."""
        w, h = self.insp_box.width(), self.insp_box.height()
        side = w >= INSPECTOR_SIDE_BY_SIDE
        orient = Qt.Orientation.Horizontal if side else Qt.Orientation.Vertical
        if self.insp_split.orientation() != orient:
            self.insp_split.setOrientation(orient)
        # the tiles as large as useful, the table gets the rest (the input stack's minimum size
        # keeps the tiles' view at 190×130 or more)
        total = w if side else h
        first = max(200, int(total * 0.36)) if side else max(140, min(190, int(total * 0.45)))
        self.insp_split.setSizes([first, max(1, total - first)])

    def _layout_tiles(self, strip: bool) -> None:
        """The input and its neighbours in one row (``strip``: a wide view) or the input large
        above a row of its neighbours (a squarer view). Items move within the same grid."""
        if strip == self._tiles_strip:
            return
        self._tiles_strip = strip
        grid = self.input_view.ci.layout
        items = [self.input_vb, self.input_title] + self.nb_vbs + self.nb_labels
        for it in items:
            grid.removeItem(it)
        n = N_NEIGHBOUR_IMAGES
        for r in range(4):
            grid.setRowStretchFactor(r, 0)
        for c in range(n + 1):
            grid.setColumnStretchFactor(c, 0)
        if strip:
            grid.addItem(self.input_vb, 0, 0)
            grid.addItem(self.input_title, 1, 0)
            for m in range(n):
                grid.addItem(self.nb_vbs[m], 0, m + 1)
                grid.addItem(self.nb_labels[m], 1, m + 1)
            grid.setRowStretchFactor(0, 10)
            grid.setColumnStretchFactor(0, 2)
            for m in range(n):
                grid.setColumnStretchFactor(m + 1, 1)
        else:
            grid.addItem(self.input_vb, 0, 0, 1, n)
            grid.addItem(self.input_title, 1, 0, 1, n)
            for m in range(n):
                grid.addItem(self.nb_vbs[m], 2, m)
                grid.addItem(self.nb_labels[m], 3, m)
            grid.setRowStretchFactor(0, 3)
            grid.setRowStretchFactor(2, 1)
            for m in range(n):
                grid.setColumnStretchFactor(m, 1)
        grid.invalidate()

    def eventFilter(self, obj, event):  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.Resize:
            if obj is self.input_view:
                w, h = self.input_view.width(), self.input_view.height()
                self._layout_tiles(w >= 1.5 * h)
            elif obj is self.area:
                lo, hi = ROOMY_HEIGHT
                h = self.area.height()
                self._arrange(h >= (lo if self._roomy else hi))
                self._size_splitters()
            elif obj is self.insp_box:
                self._orient_inspector()
        return super().eventFilter(obj, event)

    # ---- busy state and themes ------------------------------------------------------------------
    def busy_text(self, params) -> str:
        """Recomputing P (the perplexity search per point) takes seconds for N = 1797."""
        if params.dataset == "digits":
            n, what = min(params.n_points, 1797), "digits"
        elif params.dataset == "clusters":
            n, what = max(params.n_points, params.n_clusters), "points"
        else:
            n, what = min(params.n_points, getattr(self, "_file_n", params.n_points)), "vectors"
        return (f"Computing the affinities P for {n} {what} (perplexity {params.perplexity:g}): "
                f"a binary search for each σᵢ…")

    def restyle_views(self) -> None:
        """Theme or text scale changed: annotations, rings and arrows in the theme's colours."""
        th = theme()
        font = text_font()
        for item in (self.kl_ex_text, self.kl_mom_text, self.sigma_text):
            item.setColor(th.fg)
            item.setFont(font)
        for item in (self.hover_label, self.pca_hover):
            item.setColor(th.fg)
            item.fill = pg.mkBrush(pg.mkColor(th.base))
            item.border = pg.mkPen(th.muted)
        for ring in (self.sel_ring, self.pca_ring):
            ring.setPen(pg.mkPen(th.fg, width=2.5))
        self.sigma_sel.setPen(pg.mkPen(th.fg, width=2.2))
        self.kl_mom_line.setPen(pg.mkPen(th.muted, width=1.8, style=Qt.PenStyle.DotLine))
        attract, repel = spring_colors()
        for kind, color in (("attract", attract), ("repel", repel)):
            self._sel_items[kind].setPen(pg.mkPen(color, width=3.2))
        self.kl_curve.setPen(pg.mkPen(attract, width=2.5))
        self.kl_curve.setSymbolBrush(attract)
        self.arrow_item.setPen(pg.mkPen(force_color(), width=1.1))
        self._update_spring_key()
        self._style_inspector()
        self._title = ""
        self._drawn.clear()                # pens and notes in the new colours
        self._input_key = None
        self._text_forced = True

    def _style_inspector(self) -> None:
        """Palette colours (every theme) and the body font size: a widget with a style sheet
        does not follow the application's font when the text scale changes."""
        size = QApplication.font().pointSizeF()
        size_css = f" font-size: {size:.1f}pt;" if size > 0 else ""
        self.inspector.setStyleSheet("QLabel#tsneInspector { background: palette(base); "
                                     f"color: palette(text); padding: 4px;{size_css} }}")

    def _update_spring_key(self) -> None:
        attract, repel = spring_colors()
        # each entry stays on one line (&nbsp;); the key wraps between entries only
        parts = [(attract, "━━", "spring attracts: p<sub>ij</sub> &gt; q<sub>ij</sub>"),
                 (repel, "━━", "repels: p<sub>ij</sub> &lt; q<sub>ij</sub>")]
        if self.arrows_check.isChecked() if hasattr(self, "arrows_check") else False:
            parts.append((theme().fg, "→", "net force −∂C/\u2060∂y<sub>i</sub>"))  # no break at /
        text = " &nbsp;&nbsp; ".join(f"{swatch(color, mark)}&nbsp;{words.replace(' ', '&nbsp;')}"
                                     for color, mark, words in parts)
        if text != self.spring_key.text:
            self.spring_key.setText(text, size=pt(TICK_PT), color=theme().fg)

    # ---- rendering (a pure function of the snapshot and the view settings) ----------------------
    def render_snapshot(self, snap) -> None:
        if snap.data_id != self._data_id:
            self._new_data(snap)
        Y = snap.Y
        self._fit_map_range(Y)
        if len(self._order) == len(Y) and len(Y):
            move_points(self.map_points, Y[self._order])
        self._draw_springs(snap)
        self._draw_arrows(snap)
        self._draw_selection(snap)
        self._draw_hover(snap)
        # views on a hidden tab: skipped, and drawn again in full once shown (base.view_shown)
        for key, widget, draw in (("kl", self.kl_widget, self._draw_kl),
                                  ("sigma", self.sigma_widget, self._draw_sigma)):
            if self.view_shown(widget):
                draw(snap)
            else:
                self._drawn.pop(key, None)
                self._drawn.pop(key + "-phases", None)
        inspector = self.view_shown(self.insp_box)
        key = (self._selected, snap.data_id, snap.spring_k)
        if not inspector:
            self._input_key = None
        elif key != self._input_key:
            self._input_key = key
            self._show_input(snap)
        # text needs a layout pass: while playing, refresh it a few times a second only
        forced, self._text_forced = self._text_forced, False
        if forced or self.text_due("tsne-title", TEXT_INTERVAL):
            kl = f" · KL {snap.kl_values[-1]:.4f}" if len(snap.kl_values) else ""
            phase = f" · exaggeration ×{snap.exaggeration:g}" if snap.exaggeration != 1.0 else ""
            title = f"t-SNE map · iteration {snap.step_count}{kl}{phase}"
            if title != self._title:
                self._title = title
                self.map_plot.setTitle(title)
        if inspector and (forced or self.text_due("tsne-inspector", TEXT_INTERVAL)):
            text = self._inspector_html(snap)
            if text != self.inspector.text():
                self.inspector.setText(text)

    def _on_arrows_toggled(self, on: bool):
        self._update_spring_key()
        self._rerender()

    def _rerender(self):
        self._text_forced = True          # a user action: texts follow at once
        if self.snapshot is not None:
            self.render_snapshot(self.snapshot)

    def _new_data(self, snap):
        """Data (or P) changed: class items, legend, PCA, σ histogram; the first point selected."""
        self._data_id = snap.data_id
        self._map_auto, self._map_range = True, None
        n, K = len(snap.Y), len(snap.class_names)
        self._class_idx = [np.flatnonzero(snap.labels == k) for k in range(K)] if n else []
        self._labels = snap.labels
        self._order = np.zeros(0, np.int64)
        self._hidden_classes = set()
        legend = self.map_legend
        legend.clear()
        while len(self._point_items) < K:
            k = len(self._point_items)
            key = _ClassKey(k, self._on_class_toggled,
                            symbol=CLASS_SYMBOLS[(k // len(PALETTE)) % len(CLASS_SYMBOLS)])
            self._point_items.append(key)
        self._point_size = size = 10 if n <= 600 else 8 if n <= 1200 else 7
        for k in range(K):
            key = self._point_items[k]
            key.opts["name"] = snap.class_names[k]
            key.setSize(size)
            key.setVisible(True)
            if K <= 20:
                legend.addItem(key, snap.class_names[k])
        self._apply_class_styles(snap)
        legend.updateSize()
        legend.queue_reflow()            # as many columns as the width takes (or right of the map)
        r = snap.pca_ratio
        # short axis labels (a vertical one longer than a short plot sticks out); what the
        # percentages are is in the tooltip
        style_plot(self.pca_plot, PCA_TITLE,
                   f"PC1 ({100 * r[0]:.1f} %)", f"PC2 ({100 * r[1]:.1f} %)")
        self.pca_widget.setToolTip(
            f"PC1 and PC2, the first two principal components, hold {100 * r[0]:.1f} % and "
            f"{100 * r[1]:.1f} % of the data's variance. Click a point to select it.")
        if n:
            self.pca_plot.autoRange(padding=0.05)
            if self._selected is None:
                self._select(0)          # something to look at from the start
        else:
            self._select(None)
        self._hover = None
        self._input_key = None
        self._drawn.pop("sigma", None)

    def _draw_sigma(self, snap):
        """The σᵢ histogram (its tab): once per data set, and the clicked point's σᵢ."""
        key = (snap.data_id, self._selected)
        if self._drawn.get("sigma") == key:
            return
        if (self._drawn.get("sigma") or (None,))[0] != snap.data_id:
            n = len(snap.Y)
            if n:
                counts, edges = np.histogram(snap.sigmas, bins=min(40, max(10, n // 15)))
                self.sigma_hist.setData(edges, counts)
                pad = 0.04 * (edges[-1] - edges[0] or 1.0)
                self.sigma_plot.setXRange(edges[0] - pad, edges[-1] + pad, padding=0)
                self.sigma_plot.setYRange(0, counts.max() * 1.75, padding=0)   # room for the note
                self.sigma_plot.setTitle(
                    f"σᵢ set by the perplexity search: 2<sup>H(Pᵢ)</sup> = {snap.perplexity:g} "
                    f"for every i (to {snap.entropy_error:.0e} bits)")
                self.sigma_text.setText(
                    f"perplexity {snap.perplexity:g}\n"
                    f"median σ = {np.median(snap.sigmas):.3g}\n"
                    f"range {snap.sigmas.min():.3g}–{snap.sigmas.max():.3g}")
                self.sigma_text.setPos(edges[-1] + pad, counts.max() * 1.75)
            else:
                self.sigma_hist.setData([0, 1], [0])
                self.sigma_plot.setTitle("σᵢ set by the perplexity search")
                self.sigma_text.setText("")
        self._drawn["sigma"] = key
        i = self._selected
        if i is None:
            self.sigma_sel.hide()
        else:
            self.sigma_sel.setValue(float(snap.sigmas[i]))
            self.sigma_sel.show()

    def _apply_class_styles(self, snap=None):
        """Colours and symbols per class (the highlighted classes opaque, the others faded and
        drawn under them), written into the one map and PCA scatter item with the drawing order."""
        snap = snap if snap is not None else self.snapshot
        K = len(self._class_idx)
        if snap is None or not K:
            self.map_points.clear()
            self.pca_points.clear()
            self._order = np.zeros(0, np.int64)
            return
        faded = [bool(self._highlight) and k not in self._highlight for k in range(K)]
        styles = [class_pen_brush(k, 45 if faded[k] else 255) for k in range(K)]
        for k in range(K):
            self._point_items[k].setPen(styles[k][0])
            self._point_items[k].setBrush(styles[k][1])
        self._order = order = np.concatenate(
            [self._class_idx[k] for k in sorted(range(K), key=lambda k: (not faded[k], k))])
        lab = snap.labels[order]
        pens = np.array([s[0] for s in styles], dtype=object)[lab]
        brushes = np.array([s[1] for s in styles], dtype=object)[lab]
        symbols = [self._point_items[k].opts["symbol"] for k in range(K)]
        symbols = np.array(symbols, dtype=object)[lab]
        for item, xy in ((self.map_points, snap.Y), (self.pca_points, snap.pca)):
            item.setData(pos=xy[order], pen=pens, brush=brushes, symbol=symbols,
                         size=self._point_size, data=order)
        self._show_classes()

    def _on_class_toggled(self, k: int, shown: bool):
        """A click on a class's legend entry hides (or shows again) its points in the map."""
        (self._hidden_classes.discard if shown else self._hidden_classes.add)(k)
        self._show_classes()

    def _show_classes(self):
        if len(self._order):
            hidden = np.isin(self._labels[self._order], sorted(self._hidden_classes))
            self.map_points.setPointsVisible(~hidden)

    def _on_map_zoomed(self, *_):
        self._map_auto = False

    def _on_map_resized(self, *_):
        """A resize changes the aspect-locked range: make sure every point is still in view."""
        if self.snapshot is not None and len(self.snapshot.Y):
            self._fit_map_range(self.snapshot.Y)

    def _fit_map_range(self, Y):
        """Keep every point in view with a margin, re-ranging only when a point comes near the
        edge or the points fill too little of the view (new axis ticks cost ~4 ms: not each
        frame). A growing map gets a wider margin, so it is re-ranged every few frames only."""
        vb = self.map_plot.getViewBox()
        if vb.autoRangeEnabled()[0] or vb.autoRangeEnabled()[1]:   # the "A" button was pressed
            vb.disableAutoRange()
            self._map_auto = True
            self._map_range = None
        if not self._map_auto or len(Y) == 0:
            return
        lo, hi = Y.min(axis=0), Y.max(axis=0)
        span = np.maximum(hi - lo, 1e-12)
        (x0, x1), (y0, y1) = vb.viewRange()
        view = np.array([x1 - x0, y1 - y0])
        # a point is "in" when its marker is: a margin of about a marker's radius (8 px)
        sx, sy = vb.viewPixelSize()
        mx = 8 * sx if np.isfinite(sx) and sx > 0 else 0.0
        my = 8 * sy if np.isfinite(sy) and sy > 0 else 0.0
        inside = (lo[0] >= x0 + mx and hi[0] <= x1 - mx and lo[1] >= y0 + my and hi[1] <= y1 - my)
        if inside and np.max(span / view) > 0.55 and self._map_range is not None:
            return
        pad = (0.2 if self._map_range is not None and not inside else 0.08) * span.max()
        self._map_range = (lo - pad, hi + pad)
        vb.setRange(xRange=(lo[0] - pad, hi[0] + pad), yRange=(lo[1] - pad, hi[1] + pad), padding=0)

    def _draw_springs(self, snap):
        mode = snap.spring_mode
        S = snap.threshold_springs if mode == "threshold" else snap.springs
        show = S is not None and mode in ("topk", "threshold") and len(S) > 0
        faint = self._selected is not None
        alpha = 60 if faint else 150
        if not show:
            for item in self._spring_items.values():
                item.setVisible(False)
            return
        fmax = float(S.force.max()) if len(S) else 1.0
        rel = S.force / fmax if fmax > 0 else np.zeros(len(S))
        wbin = np.searchsorted(WIDTH_EDGES, rel, side="right")
        attract, repel = spring_colors()
        for kind, sign, color in (("attract", S.pq > 0, attract), ("repel", S.pq <= 0, repel)):
            for b, w in enumerate(WIDTHS):
                m = sign & (wbin == b)
                item = self._spring_items[kind, b]
                if not m.any():
                    item.setVisible(False)
                    continue
                pen_key = ("pen", kind, b)
                if self._drawn.get(pen_key) != (color, alpha):     # pens: only when they change
                    self._drawn[pen_key] = (color, alpha)
                    c = pg.mkColor(color)
                    c.setAlpha(alpha)
                    item.setPen(pg.mkPen(c, width=w))
                item.setData(*segments(snap.Y, S.pairs[m]), connect="pairs")
                item.setVisible(True)

    @staticmethod
    def _rows_of(S, i, order):
        """Rows of spring set S that involve point i, sorted by -order (stable)."""
        if i is None or len(S) == 0:
            return np.zeros(0, np.int64)
        rows = np.flatnonzero((S.pairs[:, 0] == i) | (S.pairs[:, 1] == i))
        return rows[np.argsort(-order[rows], kind="stable")]

    def _selected_springs(self, snap):
        """The clicked point's strongest input affinities (rows of snap.springs), largest p first."""
        return self._rows_of(snap.springs, self._selected, snap.springs.p)

    def _selected_pushes(self, snap):
        """The clicked point's strongest repelling springs (the engine computes them for the point
        in its parameters; a snapshot from before a click has none for the new point)."""
        S = snap.repulsions
        if snap.selected != self._selected:
            return np.zeros(0, np.int64)
        return self._rows_of(S, self._selected, S.force)[:snap.spring_k]

    def _draw_selection(self, snap):
        i = self._selected
        show = snap.spring_mode != "off" and i is not None
        pulls = self._selected_springs(snap) if show else np.zeros(0, np.int64)
        pushes = self._selected_pushes(snap) if show else np.zeros(0, np.int64)
        S, R = snap.springs, snap.repulsions
        pairs = {"attract": [S.pairs[pulls[S.pq[pulls] > 0]]],
                 "repel": [S.pairs[pulls[S.pq[pulls] <= 0]], R.pairs[pushes]]}
        for kind, parts in pairs.items():
            pr = np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)
            item = self._sel_items[kind]
            if len(pr):
                item.setData(*segments(snap.Y, pr), connect="pairs")
                item.setVisible(True)
            else:
                item.setVisible(False)
        if i is None:
            self.sel_ring.clear()
            if self._drawn.get("pca_ring") is not None:
                self._drawn["pca_ring"] = None
                self.pca_ring.clear()
            return
        move_points(self.sel_ring, snap.Y[i:i + 1])
        if self._drawn.get("pca_ring") != (i, snap.data_id):     # static views: only on change
            self._drawn["pca_ring"] = (i, snap.data_id)
            self.pca_ring.setData(pos=snap.pca[i:i + 1])

    def _draw_arrows(self, snap):
        if not self.arrows_check.isChecked() or len(snap.Y) == 0:
            self.arrow_item.setVisible(False)
            return
        F = snap.forces
        mag = np.hypot(F[:, 0], F[:, 1])
        ref = float(np.percentile(mag, 95)) if len(mag) else 0.0
        span = float(np.ptp(snap.Y, axis=0).max()) if len(snap.Y) > 1 else 1.0
        if not ref > 0 or not span > 0:
            self.arrow_item.setVisible(False)
            return
        scale = 0.035 * span / ref                        # the 95th percentile: 3.5 % of the map
        V = F * scale
        long = mag * scale > 0.08 * span                  # cap the few very long ones
        V[long] *= (0.08 * span / (mag[long] * scale))[:, None]
        self.arrow_item.setData(*arrow_segments(snap.Y, V), connect="pairs")
        self.arrow_item.setVisible(True)

    def _draw_kl(self, snap):
        it, kl = snap.kl_iters, snap.kl_values
        key = (snap.data_id, len(it), int(it[-1]) if len(it) else -1,
               float(kl[-1]) if len(kl) else 0.0)
        if self._drawn.get("kl") != key:
            self._drawn["kl"] = key
            if len(it):
                self.kl_curve.setData(it, kl)
                self.kl_now.setData(it[-1:], kl[-1:])
            else:
                self.kl_curve.setData([], [])
                self.kl_now.setData([], [])
        ex, sw = snap.exaggeration_iters, snap.momentum_switch
        m0, m1 = snap.momentum_start, snap.momentum_final
        x_hi = max(snap.n_iter, snap.step_count, 10)
        top = (float(np.nanmax(kl)), float(np.nanmin(kl))) if len(kl) else None
        phases = (x_hi, ex, sw, m0, m1, snap.early_exaggeration, top)
        if self._drawn.get("kl-phases") == phases:
            return
        self._drawn["kl-phases"] = phases
        self.kl_plot.setXRange(0, x_hi, padding=0.02)
        self.kl_region.setRegion((0, ex))
        self.kl_region.setVisible(ex > 0 and snap.early_exaggeration != 1.0)
        self.kl_ex_line.setValue(ex)
        self.kl_mom_line.setValue(sw)
        same = ex == sw
        self.kl_mom_line.setVisible(not same)
        self.kl_mom_text.setVisible(not same)
        ex_text = f"early exaggeration ×{snap.early_exaggeration:g} ends"
        mom_text = f"momentum {m0:g} → {m1:g}"
        self.kl_ex_text.setText(f"{ex_text}\n{mom_text}" if same else ex_text)
        self.kl_mom_text.setText(mom_text)
        # each note on the side of its line with more room (a line late in the run: left of it)
        self.kl_ex_text.setAnchor((1, 0) if ex > 0.6 * x_hi else (0, 0))
        self.kl_mom_text.setAnchor((1, 0) if sw > 0.6 * x_hi else (0, 0))
        if top is not None:
            self.kl_ex_text.setPos(ex, top[0])
            self.kl_mom_text.setPos(sw, top[0] * 0.85 + 0.15 * top[1])

    def _draw_hover(self, snap):
        i = self._hover
        if i is None or i >= len(snap.Y):
            self.hover_label.hide()
            self.hover_image.hide()
            return
        x, y = snap.Y[i]
        name = html.escape(snap.class_names[snap.labels[i]])
        self.hover_label.setHtml(f"<span style='font-size:{pt(TICK_PT + 1)}'><b>{name}</b> #{i}</span>")
        self.hover_label.setPos(x, y)
        self.hover_label.show()
        if snap.images is not None:
            sx, sy = self.map_plot.getViewBox().viewPixelSize()
            h, w = snap.images.shape[1:]
            size = 56.0
            self.hover_image.setImage(image_for_item(snap.images[i]), levels=snap.pixel_range,
                                      lut=_GREY_LUT)
            self.hover_image.setRect(QRectF(x + 8 * sx, y - (size + 8) * sy, size * sx * w / max(h, w),
                                            size * sy * h / max(h, w)))
            self.hover_image.show()
        else:
            self.hover_image.hide()

    def _show_input(self, snap):
        """The clicked point's input: its image and its strongest neighbours' images, or its vector."""
        i = self._selected
        n = len(snap.Y)
        if i is None or i >= n:
            self.input_img.clear()
            self.input_title.setText("click a point", size=pt(TICK_PT), color=theme().fg)
            for img, lab in zip(self.nb_imgs, self.nb_labels):
                img.clear()
                lab.setText("")
            self.vector_bars.setOpts(x=[], height=[])
            return
        name = snap.class_names[snap.labels[i]]
        if snap.images is not None:
            self.input_stack.setCurrentWidget(self.input_view)
            self.input_img.setImage(image_for_item(snap.images[i]), levels=snap.pixel_range,
                                    lut=_GREY_LUT)
            self.input_vb.autoRange(padding=0.02)
            self.input_title.setText(f"#{i}: <b>{html.escape(name)}</b>", size=pt(TICK_PT),
                                     color=theme().fg)
            rows = self._selected_springs(snap)
            S = snap.springs
            others = [int(S.pairs[r, 1] if S.pairs[r, 0] == i else S.pairs[r, 0]) for r in rows]
            for m, (img, lab, vb) in enumerate(zip(self.nb_imgs, self.nb_labels, self.nb_vbs)):
                if m < len(others):
                    j = others[m]
                    img.setImage(image_for_item(snap.images[j]), levels=snap.pixel_range,
                                 lut=_GREY_LUT)
                    vb.autoRange(padding=0.05)
                    # the label only (its index is in the table beside, in the same order)
                    lab.setText(html.escape(snap.class_names[snap.labels[j]]), size=pt(TICK_PT),
                                color=theme().fg)
                else:
                    img.clear()
                    lab.setText("")
        else:
            self.input_stack.setCurrentWidget(self.vector_widget)
            x = snap.X[i]
            self.vector_bars.setOpts(x=np.arange(len(x)), height=x, width=0.8)
            self.vector_widget.getPlotItem().setTitle(f"input x<sub>{i}</sub>")
            self.vector_widget.getPlotItem().autoRange()

    def _spring_rows_html(self, snap, S, rows, i) -> list[str]:
        out = []
        for r in rows:
            j = int(S.pairs[r, 1] if S.pairs[r, 0] == i else S.pairs[r, 0])
            color = spring_colors()[0 if S.pq[r] > 0 else 1]
            # a coloured mark, the number in the text colour (4.5:1 in every theme)
            vals = (f"#{j} ({html.escape(snap.class_names[snap.labels[j]])})", _fmt(S.p[r]),
                    _fmt(S.q[r]), f"{swatch(color, '■')}&nbsp;<b>{_fmt(S.pq[r])}</b>",
                    _fmt(S.force[r]), _fmt(S.kl[r]))
            out.append("<tr>" + "".join(f"<td style='padding:0 4px; white-space:nowrap' align=right>{v}</td>"
                                        for v in vals) + "</tr>")
        return out

    def _inspector_html(self, snap) -> str:
        i = self._selected
        if len(snap.Y) == 0:
            return "<i>No data.</i>"
        ex = snap.exaggeration
        muted = theme().muted
        tail = (f"<br><span style='color:{muted}'>Iteration {snap.step_count}: α = {ex:g}, "
                f"m = {snap.momentum:g}, η = {snap.learning_rate:.4g}, "
                f"Z = Σ<sub>k≠l</sub>(1+‖y<sub>k</sub>−y<sub>l</sub>‖²)<sup>−1</sup> = "
                f"{_fmt(snap.Z)}.</span>")
        if i is None:
            return "<i>Click a point of the map (or of PCA) to see its springs.</i>" + tail
        S, R = snap.springs, snap.repulsions
        name = html.escape(snap.class_names[snap.labels[i]])
        fx, fy = snap.forces[i]
        # the numbers first (a small inspector shows the table without scrolling), the formula
        # that explains them after it
        out = [f"<b>Point #{i}</b>, label <b>{name}</b>: σ<sub>i</sub> = {_fmt(snap.sigmas[i])}; "
               f"net force −∂C/∂y<sub>i</sub> = ({_fmt(fx)}, {_fmt(fy)})."]
        force_note = (f"<span style='color:{muted}'>The net force is the sum over all j of "
                      f"4 (p<sub>ij</sub> − q<sub>ij</sub>)(1 + ‖y<sub>i</sub> − y<sub>j</sub>‖²)"
                      f"<sup>−1</sup>(y<sub>j</sub> − y<sub>i</sub>).</span><br>")
        p_head = "p<sub>ij</sub>" + ("·α" if ex != 1 else "")
        cells = "".join(f"<th style='padding:0 4px' align=right>{h}</th>" for h in (
            "j (label)", p_head, "q<sub>ij</sub>", "p − q", "force", "KL term"))
        table = [f"<table cellspacing=0 style='margin-top:4px'><tr>{cells}</tr>"]
        pulls = self._selected_springs(snap)
        if len(pulls):
            table.append(f"<tr><td colspan=6><i>largest p<sub>ij</sub> (input neighbours)</i>"
                         "</td></tr>")
            table += self._spring_rows_html(snap, S, pulls, i)
        pushes = self._selected_pushes(snap)
        if len(pushes):
            table.append("<tr><td colspan=6><i>strongest repulsions (p &lt; q)</i></td></tr>")
            table += self._spring_rows_html(snap, R, pushes, i)
        table.append("</table>")
        out.append("".join(table))
        out.append(force_note)
        out.append(f"<span style='color:{muted}'>KL term 2p log(p/q): large when a large p is "
                   "modelled by a small q, small the other way round.</span>")
        return "".join(out) + tail

    # ---- interaction ----------------------------------------------------------------------------
    def _nearest(self, plot, coords, scene_pos, radius_px=12.0):
        vb = plot.getViewBox()
        if coords is None or len(coords) == 0 or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        sx, sy = vb.viewPixelSize()
        if not (sx > 0 and sy > 0):
            return None
        d2 = ((coords[:, 0] - p.x()) / sx) ** 2 + ((coords[:, 1] - p.y()) / sy) ** 2
        i = int(np.argmin(d2))
        return i if d2[i] <= radius_px ** 2 else None

    @property
    def _selected(self) -> int | None:
        """The clicked point: a (hidden, live) parameter, so the engine details it and experiments
        keep it."""
        i = self.params.selected
        n = len(self.snapshot.Y) if self.snapshot is not None else 0
        return i if 0 <= i < n else None

    def _select(self, i: int | None):
        sel = -1 if i is None else int(i)
        if self.params.selected != sel:
            self.params = self.params.replace(selected=sel)
            self.form.set_params(self.params)
            self.runner.set_params(self.params)    # live: the run goes on

    def select_point(self, i: int | None):
        """Select point i (None: nothing) and redraw; the run is not interrupted."""
        self._select(i)
        if self.snapshot is not None:
            self._rerender()              # (the inspector follows when it is shown)

    def _on_click(self, plot, coords, ev):
        if self.snapshot is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        if not plot.getViewBox().sceneBoundingRect().contains(ev.scenePos()):
            return
        i = self._nearest(plot, coords, ev.scenePos())
        if i is not None and self.inspector_in_tab():    # show what the click asked for
            self.tabs.setCurrentWidget(self.insp_box)     # (first: then it is drawn at once)
        self.select_point(i)
        ev.accept()

    def _on_map_clicked(self, ev):
        self._on_click(self.map_plot, self.snapshot.Y if self.snapshot is not None else None, ev)

    def _on_pca_clicked(self, ev):
        self._on_click(self.pca_plot, self.snapshot.pca if self.snapshot is not None else None, ev)

    def _on_map_moved(self, pos):
        if self.snapshot is None:
            return
        i = self._nearest(self.map_plot, self.snapshot.Y, pos)
        if i != self._hover:
            self._hover = i
            self._draw_hover(self.snapshot)

    def _on_pca_moved(self, pos):
        snap = self.snapshot
        if snap is None:
            return
        i = self._nearest(self.pca_plot, snap.pca, pos)
        if i is None:
            self.pca_hover.hide()
            return
        self.pca_hover.setHtml(f"<span style='font-size:{pt(TICK_PT + 1)}'><b>"
                               f"{html.escape(snap.class_names[snap.labels[i]])}</b> #{i}</span>")
        self.pca_hover.setPos(*snap.pca[i])
        self.pca_hover.show()

    def _on_highlight(self):
        snap = self.snapshot
        text = self.highlight_edit.text().strip()
        if snap is None:
            return
        wanted = [t for t in re.split(r"[,\s;]+", text) if t]
        names = list(snap.class_names)
        unknown = [w for w in wanted if w not in names]
        self._highlight = {names.index(w) for w in wanted if w in names}
        if unknown:
            self.show_message(f"No class named {', '.join(map(html.escape, unknown))}; the labels "
                              f"are {html.escape(', '.join(names[:30]))}.", "warn")
        self._apply_class_styles()

    def _on_params_edited(self, params):
        self._update_enabled(params)
        super()._on_params_edited(params)

    def set_params(self, params):
        if params.selected == -1:                 # presets keep the clicked point
            params = params.replace(selected=self.params.selected)
        self._update_enabled(params)
        super().set_params(params)

    def _update_enabled(self, params):
        clusters = params.dataset == "clusters"
        for name in ("n_clusters", "dim", "spread"):
            self.form.editor(name).setEnabled(clusters)
        self.form.editor("learning_rate").setEnabled(not params.lr_auto)
        self.form.editor("spring_threshold").setEnabled(params.spring_mode == "threshold")
        self.form.editor("spring_k").setEnabled(params.spring_mode != "threshold")

    # ---- files ----------------------------------------------------------------------------------
    def _on_open_clicked(self):
        path, _ = QFileDialog.getOpenFileName(
            self, "Open vectors (CSV) or MNIST IDX images", "",
            "Data files (*.csv *.txt *.tsv *-ubyte *.idx* *.gz);;All files (*)")
        if path:
            self.open_data(path)

    def open_data(self, path: str) -> bool:
        """Load a CSV of vectors or an IDX file; on a problem show it and keep what is on screen
        (a large file is read off the GUI thread: Panel.read_data_file)."""
        label = self.label_col.currentData()
        return self.read_data_file(path, lambda p: load_data_file(p, label), lambda data: self._use_file(path, data))

    def _use_file(self, path, data) -> None:
        self.params = self.params.replace(dataset="file")
        self.form.set_params(self.params)
        self._update_enabled(self.params)
        self.banner.setProperty("kind", None)
        # covered until the new data's first state (P is computed in the worker)
        self._file_n = data.n
        text = self.busy_text(self.params)
        self.set_busy(text)
        self.expect_fresh_state(text)
        self.runner.invoke("set_data", data)
        n = min(data.n, self.params.n_points)
        more = (f" Using a random {n} of them (raise 'Points N', up to 3000, for more)."
                if n < data.n else "")
        self.show_message(f"Loaded {html.escape(data.name)}, {len(data.class_names)} "
                          f"class(es).{more}", "info")

    def export_map_csv(self, path) -> int:
        """index, label, y1, y2, pc1, pc2 of every point of the last snapshot; returns the rows."""
        snap = self.snapshot
        if snap is None:
            return 0
        with open(path, "w", newline="", encoding="utf-8") as fh:
            fh.write(f"# t-SNE map after {snap.step_count} iterations, perplexity "
                     f"{snap.perplexity:g}, data: {snap.data_name}\n")
            w = csv.writer(fh)
            w.writerow(["index", "label", "y1", "y2", "pc1", "pc2"])
            for i in range(len(snap.Y)):
                w.writerow([i, snap.class_names[snap.labels[i]], repr(float(snap.Y[i, 0])),
                            repr(float(snap.Y[i, 1])), repr(float(snap.pca[i, 0])),
                            repr(float(snap.pca[i, 1]))])
        return len(snap.Y)

    def _on_save_map(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save map coordinates", "tsne-map.csv",
                                              "CSV (*.csv)")
        if not path:
            return
        try:
            rows = self.export_map_csv(path)
        except OSError as exc:
            self.show_message(f"<b>Could not write {html.escape(path)}:</b> {html.escape(str(exc))}",
                              "error")
            return
        self.show_message(f"Saved {rows} map points to {html.escape(path)}", "info")
