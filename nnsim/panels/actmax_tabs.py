"""The "Training" and "Class pixel std" tabs of the feature-visualization panel (a mixin of
:class:`nnsim.panels.actmax.FeatureVizPanel`): progress, loss and accuracy curves and the confusion
matrix of the held-out test digits; the per-class pixel standard deviation and mean maps. Display
only."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSplitter, QVBoxLayout, QWidget

from nnsim.engine.actmax import PHASE_TRAIN
from nnsim.engine.metrics import most_confused
from nnsim.panels.actmax_views import ImageRow, color_key, finite_range, gray_rgb, same, set_text
from nnsim.widgets.confusion import ConfusionView
from nnsim.widgets.plots import long_series, make_plot


class TrainingTabs:
    """Builds and renders the two tabs; expects ``self.tabs`` (a QTabWidget). Also the panel's
    bookkeeping of what is drawn (``_changed``) and of texts skipped while playing."""

    def _changed(self, key: str, *values) -> bool:
        """Whether ``values`` differ from what part ``key`` last drew (then they are kept). The
        keys start with the tab's prefix ("am_", "live_", "train_"): a tab skipped while hidden
        forgets its keys and is drawn in full when shown."""
        old = self._drawn.get(key)
        if old is not None and len(old) == len(values) and all(same(a, b) for a, b in zip(old, values)):
            return False
        self._drawn[key] = tuple(v.copy() if isinstance(v, np.ndarray) else v for v in values)
        return True

    def _on_play_state(self, playing: bool) -> None:
        """The run stopped: texts skipped while playing (text_due) show the last state."""
        if not playing and self._text_stale and self.snapshot is not None:
            self._text_stale = False
            self.render_snapshot(self.snapshot)

    def _build_training_tab(self):
        tab = QWidget()
        v = QVBoxLayout(tab)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        top = QHBoxLayout()                 # (one row: the plots get the height)
        top.addWidget(self.progress_label, 3)
        top.addWidget(self.progress, 2)
        v.addLayout(top)
        # (the keys are in the titles, never over the data: legends would take the height a
        # projector does not have)
        blue, orange, faint = "#0072B2", "#D55E00", "#7FB8D8"
        self.loss_widget = make_plot("Cross-entropy loss<br>" + color_key(
            [(faint, "mini-batch"), (blue, "training"), (orange, "held-out test")]), "epoch", "loss")
        self.loss_widget.setToolTip("Faint: the loss of every mini-batch; markers: the epoch means on the "
                                    "training images and the loss on the held-out test images.")
        self.acc_widget = make_plot("Accuracy<br>" + color_key([(blue, "training"), (orange, "held-out test")]),
                                    "epoch", "accuracy")
        lp, ap = self.loss_widget.getPlotItem(), self.acc_widget.getPlotItem()
        self.batch_curve = lp.plot([], [], pen=pg.mkPen((0, 114, 178, 110), width=1), name="mini-batch")
        long_series(self.batch_curve)
        self.train_loss_curve = lp.plot([], [], pen=pg.mkPen("#0072B2", width=2.5), symbol="o", symbolSize=6,
                                        symbolBrush="#0072B2", name="training (epoch mean)")
        self.test_loss_curve = lp.plot([], [], pen=pg.mkPen("#D55E00", width=2.5), symbol="s", symbolSize=6,
                                       symbolBrush="#D55E00", name="held-out test")
        self.train_acc_curve = ap.plot([], [], pen=pg.mkPen("#0072B2", width=2.5), symbol="o", symbolSize=6,
                                       symbolBrush="#0072B2", name="training")
        self.test_acc_curve = ap.plot([], [], pen=pg.mkPen("#D55E00", width=2.5), symbol="s", symbolSize=6,
                                      symbolBrush="#D55E00", name="held-out test")
        curves = QSplitter(Qt.Orientation.Vertical)
        curves.addWidget(self.loss_widget)
        curves.addWidget(self.acc_widget)
        self.confusion = ConfusionView(("Held-out test digits",), empty_text="no test images")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(curves)
        split.addWidget(self.confusion)
        split.setSizes([520, 480])
        v.addWidget(split, 1)
        self.train_tab = tab
        self.tabs.addTab(tab, "Training")

    def _build_std_tab(self):
        tab = QWidget()
        v = QVBoxLayout(tab)
        self.std_note = QLabel()
        self.std_note.setWordWrap(True)
        v.addWidget(self.std_note)
        self.std_grid = ImageRow([f"std of {k}" for k in range(10)] + [f"mean of {k}" for k in range(10)],
                                 caption_rows=1, col_choices=(10, 5, 2, 1))  # (std row above mean row)
        v.addWidget(self.std_grid, 1)
        self.std_tab = tab
        self.tabs.addTab(tab, "Class pixel std")

    def _render_training(self, snap) -> None:
        done = snap.epochs_done + snap.batch_in_epoch / max(snap.batches_per_epoch, 1)
        frac = min(done / max(snap.epochs_total, 1), 1.0) if snap.phase == PHASE_TRAIN else 1.0
        if self.progress.value() != int(1000 * frac):
            self.progress.setValue(int(1000 * frac))
        acc = "" if not np.isfinite(snap.test_accuracy) else f"; test accuracy {100 * snap.test_accuracy:.1f} %"
        # (the mini-batch count changes in every frame while training: the words at most 8 times a
        # second, exact when the run stops)
        if snap.phase != PHASE_TRAIN or not self.runner.playing or self.text_due("progress"):
            if snap.phase == PHASE_TRAIN:
                text = (f"Training: epoch {min(snap.epochs_done + 1, snap.epochs_total)} of "
                        f"{snap.epochs_total}, mini-batch {snap.batch_in_epoch} of "
                        f"{snap.batches_per_epoch}{acc}")
            else:
                text = f"Trained: {snap.source}" + ("" if "accuracy" in snap.source else acc)
            set_text(self.progress_label, text)
        else:
            self._text_stale = True
        nb = len(snap.batch_loss)
        if self._changed("train_batch_loss", snap.batch_loss, snap.batches_per_epoch):
            if nb:
                self.batch_curve.setData(np.arange(1, nb + 1) / max(snap.batches_per_epoch, 1), snap.batch_loss)
            else:
                self.batch_curve.setData([], [])
        # (the epoch curves and the accuracy range change once per epoch)
        if self._changed("train_epoch_curves", snap.epoch_train_loss, snap.epoch_test_loss, snap.epoch_train_acc,
                         snap.epoch_test_acc):
            e = np.arange(1, len(snap.epoch_train_loss) + 1)
            self.train_loss_curve.setData(e, snap.epoch_train_loss)
            self.test_loss_curve.setData(e, snap.epoch_test_loss)
            self.train_acc_curve.setData(e, snap.epoch_train_acc)
            self.test_acc_curve.setData(e, snap.epoch_test_acc)
            accs = np.concatenate([snap.epoch_train_acc, snap.epoch_test_acc])
            lo = float(np.nanmin(accs)) if accs.size and np.isfinite(accs).any() else 0.8
            self.acc_widget.getPlotItem().setYRange(max(0.0, min(lo, 0.9)), 1.0, padding=0.02)
        self._fit_epoch_axis(max(nb / max(snap.batches_per_epoch, 1), len(snap.epoch_train_loss)),
                             snap.epochs_total)
        self._render_confusion(snap)

    def _fit_epoch_axis(self, extent: float, total: int) -> None:
        """The epoch axis of the loss and accuracy plots grows in steps of 25 % (up to the epochs to
        train), not with every mini-batch: each change lays the axis and its tick labels out again."""
        old = getattr(self, "_epoch_axis", None)
        if old is not None and old / 2 <= extent <= old:
            return
        x_max = max(extent, min(float(total), float(np.ceil(extent * 1.25)))) if extent > 0 else 1.0
        x_max = max(x_max, 1.0)
        if x_max == old:
            return
        self._epoch_axis = x_max
        for w in (self.loss_widget, self.acc_widget):
            w.getPlotItem().setXRange(0.0, x_max, padding=0.02)

    def _render_confusion(self, snap) -> None:
        """The test digits' confusion matrix of the weights the engine measured it for (at the end
        of each epoch while training), with the pairs mixed up most often."""
        M = snap.test_confusion
        pairs = most_confused(M, 3)
        # (one paragraph that wraps to the view's width: the matrix below gets the height)
        worst = ("mixed up most often (true → predicted): "
                 + ", ".join(f"{i} → {j} ({n}×)" for i, j, n in pairs) if pairs
                 else "no digit mixed up.")
        self.confusion.set_heading(f"Weights: {snap.confusion_note}; {worst}")
        self.confusion.set_matrix(0, M)

    def _render_std(self, snap) -> None:
        std, mean = snap.class_std, snap.class_mean
        K = len(std)
        hi = finite_range(std)[1]
        for k in range(min(K, 10)):
            self.std_grid.set_rgb(k, gray_rgb(std[k], 0.0, hi))
            self.std_grid.set_caption(k, f"avg {std[k].mean():.3f}")
            self.std_grid.set_rgb(10 + k, gray_rgb(mean[k], 0.0, 1.0))
        order = np.argsort(-std.mean(axis=(1, 2)))
        set_text(
            self.std_note,
            "Pixel-wise standard deviation of each class's training images (top; white = varies most) "
            "and their mean (bottom); \"avg\": the std averaged over the pixels. The course article found the \"2\"s very different among "
            "themselves and tried to maximize class 2. Classes by mean std, largest first: "
            + ", ".join(f"{k} ({std[k].mean():.3f})" for k in order[:5]) + ", …")
