"""LSTM panel: what the forget, input and output gates do, one time step at a time.

Left: the shown sequence (inputs, targets, outputs) over heatmaps (time × units) of the gates and
states (f, i, C~, o, C, h for an LSTM; r, z, h~, h for a GRU; a, h for a plain RNN) and the cell
state and output of the followed units, all on one time axis with the time cursor. Right: the
lecture's four steps with the numbers at the cursor (and the lecture's own examples), the gradient
flow ‖∂L_T/∂h_t‖ of the cell and of a plain RNN on a log scale, and loss, accuracy and gradient
norm during training. Training runs in the worker; the views always show the latest weights.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from nnsim.engine.base import DIVERGED, FINISHED
from nnsim.engine.recurrent_sim import RecurrentParams, RecurrentSimulation
from nnsim.panels.base import Panel
from nnsim.panels.lstm_text import james_table, sparse_table, step_table
from nnsim.panels.lstm_plots import FlowPlot, TrainingPlots
from nnsim.panels.lstm_style import SHORT
from nnsim.panels.lstm_views import Inspector
from nnsim.widgets.plots import theme

MAX_UNITS = 4
#: transport speed (steps/s) chosen when the mode changes: fast training, slow stepping in time
MODE_SPEED = {"train": 0.0, "inspect": 2.0}

_RECALL = dict(task="recall", length=40, noise=1.0, cell="lstm", hidden=8, compare=True,
               forget_bias=3.0, init_gain=1.0, lr=0.01, clip=1.0, max_updates=800)

PRESETS = {
    "Delayed recall, L = 40: the plain RNN fails, the LSTM keeps f ≈ 1": dict(_RECALL),
    "Delayed recall with b_f = 1: f ≈ 0.73, 0.73⁴⁰ ≈ 4·10⁻⁶, the LSTM fails too":
        dict(_RECALL, forget_bias=1.0, max_updates=2000),
    "Delayed recall, L = 5: the plain RNN manages a short delay": dict(_RECALL, length=5),
    "Delayed recall with peepholes": dict(_RECALL, cell="peephole"),
    "Delayed recall, coupled forget/input gates": dict(_RECALL, cell="coupled"),
    "Delayed recall with a GRU": dict(_RECALL, cell="gru"),
    "Adding problem, T = 30": dict(task="adding", length=30, cell="lstm", hidden=16, compare=True,
                                   forget_bias=3.0, lr=0.01, clip=1.0, max_updates=3000),
    "Counting brackets: a cell counts the depth": dict(task="brackets", length=30, cell="lstm",
                                                       hidden=8, forget_bias=1.0,
                                                       max_updates=1500),
    "Noisy sine: predict the next value": dict(task="sine", length=40, noise=0.5, cell="lstm",
                                               hidden=16, max_updates=1500),
    "Sum of two sines with a GRU": dict(task="sines", length=50, noise=0.5, cell="gru",
                                        hidden=16, max_updates=2000),
    "Next character: “James … he …” (H = 48)": dict(task="chars", length=40, cell="lstm",
                                                    hidden=48, compare=False, forget_bias=1.0,
                                                    lr=0.01, clip=1.0, max_updates=2000),
    "Exploding gradients: plain RNN, gain 3, SGD, no clipping": dict(
        task="sines", length=50, noise=0.5, cell="rnn", hidden=16, compare=False, init_gain=3.0,
        optimizer="sgd", lr=0.05, clip=0.0, max_updates=1000),
    "… the same with gradient clipping at 1": dict(
        task="sines", length=50, noise=0.5, cell="rnn", hidden=16, compare=False, init_gain=3.0,
        optimizer="sgd", lr=0.05, clip=1.0, max_updates=1000),
}


def parse_units(text: str, H: int) -> list[int]:
    """"0, 3 5" -> [0, 3, 5]; raises ValueError with a message for anything else."""
    parts = [p for p in re.split(r"[,\s;]+", text.strip()) if p]
    if not parts:
        raise ValueError("name at least one unit, e.g. 0, 1")
    out = []
    for p in parts:
        if not p.isdigit():
            raise ValueError(f"'{p}' is not a unit number")
        u = int(p)
        if u >= H:
            raise ValueError(f"unit {u} does not exist (units 0 … {H - 1})")
        if u not in out:
            out.append(u)
    if len(out) > MAX_UNITS:
        raise ValueError(f"at most {MAX_UNITS} units at a time")
    return out


class LSTMPanel(Panel):
    key = "lstm"
    target_label = "smoothed loss"
    target_default = 0.05
    title = "LSTM gates"
    description = ("Train small recurrent networks (RNN, LSTM and variants, GRU) and look inside: "
                   "gates over time, the four steps with numbers, vanishing gradients (lectures 9–10).")
    step_unit = "step"
    default_speed = 0.0
    help_text = """
<p>A recurrent network reads a sequence one step at a time. The LSTM keeps a <b>cell state</b> C, a
memory that four small networks on [h<sub>t−1</sub>, x<sub>t</sub>] control: the forget gate f decides
what to keep (① f·C<sub>t−1</sub>), the input gate i which update values C̃ to write (② i·C̃), their sum
is the new state (③ C<sub>t</sub>), and the output gate o what to release (④ h<sub>t</sub> = o·tanh
C<sub>t</sub>).</p>
<p><b>Left:</b> the shown sequence (input, target, the networks' outputs) above heatmaps of every gate
and state over time (columns) and units (rows), and C and h of the followed units at the bottom.
<b>Right:</b> the four steps with the actual numbers at the time cursor (and the lecture's “James” and
sparse-output examples), the gradient flow ‖∂L<sub>T</sub>/∂h<sub>t</sub>‖ from the last step back in
time on a log scale, and the training curves.</p>
<p>“A step is” chooses what Step and Play do: <b>train</b> (one minibatch update of the network and of
a plain RNN trained alongside) or <b>inspect</b> (move the time cursor one step). Click a heatmap to
put the cursor there and follow that unit.</p>
<p><b>Try:</b> the default preset (delayed recall over 40 steps): press Play; the LSTM learns to keep
the value with f close to 1, the plain RNN stays at chance and its gradient vanishes towards t = 0.
Then the preset with b<sub>f</sub> = 1, a short delay, the GRU and the variants; the exploding-gradient
pair (with and without clipping); and the next-character preset with “Look for a gender unit”.</p>
"""
    params_class = RecurrentParams
    presets = PRESETS
    default_preset = next(iter(PRESETS))

    def make_simulation(self, params, seed):
        return RecurrentSimulation(params, seed=seed)

    # ---- views -----------------------------------------------------------------------------------
    def build_views(self, area: QWidget) -> None:
        self.units: list[int] = [0, 1]
        self.headline = QLabel()
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.headline.setWordWrap(True)
        # the application font (scaled in presentation mode), the palette's colours
        self.headline.setStyleSheet("QLabel { padding: 2px 4px; }")
        self.inspector = Inspector()
        self.inspector.clicked.connect(self._on_inspector_clicked)
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.headline)
        lay.addWidget(self.inspector, 1)

        # beside the time axis, one view at a time at its full height (a projector has no room
        # for four): the gradient flow, the training curves, the four steps at the cursor and the
        # lecture's examples
        self.flow = FlowPlot()
        self.training = TrainingPlots()
        self.steps_label = self._rich_label()
        self.james_label = self._rich_label(james_table())
        self.sparse_label = self._rich_label(sparse_table())
        lecture = QWidget()
        llay = QVBoxLayout(lecture)
        llay.setContentsMargins(0, 0, 0, 0)
        llay.addWidget(self.james_label)
        llay.addWidget(self.sparse_label)
        llay.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        # (each view in a page of its own: a page the user cannot see is not drawn, see render_snapshot)
        self.tabs.addTab(self._page(self.flow), "Gradients")
        self.tabs.setTabToolTip(0, "‖∂L_T/∂h_t‖ from the last step back in time, log scale")
        self.tabs.addTab(self._page(self.training), "Training")
        self.tabs.setTabToolTip(1, "Loss, % right and gradient norm per minibatch")
        self.tabs.addTab(self._scrolled(self.steps_label), "Steps at t")
        self.tabs.setTabToolTip(2, "The lecture's four steps with the numbers at the time cursor")
        self.tabs.addTab(self._scrolled(lecture), "Lecture")
        self.tabs.setTabToolTip(3, "The lecture's examples: “James” and the sparse output")

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 11)
        split.setStretchFactor(1, 9)
        split.setSizes([550, 450])
        self._views_split = split
        outer = QHBoxLayout(area)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(split)

        box = QGroupBox("Units to follow")
        blay = QVBoxLayout(box)
        self.units_edit = QLineEdit("0, 1")
        self.units_edit.setToolTip(f"Up to {MAX_UNITS} unit numbers, e.g. 0, 3")
        self.units_edit.editingFinished.connect(self._on_units_edited)
        blay.addWidget(self.units_edit)
        hint = QLabel("Click a heatmap: the time cursor moves there and that unit is followed.")
        hint.setWordWrap(True)
        blay.addWidget(hint)
        self.gender_button = QPushButton("Look for a “gender” unit")
        self.gender_button.setToolTip(
            "Next-character task: which units differ most, just before the pronoun, between the "
            "sentences with “he” and those with “she”? Compared with random splits of the same "
            "sentences (a permutation test), so chance differences are not mistaken for a unit.")
        self.gender_button.clicked.connect(lambda: self.runner.invoke("find_gender_units"))
        blay.addWidget(self.gender_button)
        self.csv_button = QPushButton("Save gate values (CSV)…")
        self.csv_button.clicked.connect(self._on_csv_clicked)
        blay.addWidget(self.csv_button)
        self.side.addWidget(box)
        # long preset names must not widen the form column
        self.preset_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_box.setMinimumContentsLength(24)
        self.preset_box.setMinimumWidth(160)
        self._last_mode = self.params.mode
        self.form.params_changed.connect(self._on_mode_maybe_changed)

    @staticmethod
    def _rich_label(text: str = "") -> QLabel:
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setStyleSheet("QLabel { background: palette(base); color: palette(text); padding: 4px; }")
        return label

    def restyle_views(self) -> None:
        """The lecture's tables carry the theme's colours: write them again. Labels with a style
        sheet keep the font they were polished with: polish them again for the new text size."""
        self.james_label.setText(james_table())
        self.sparse_label.setText(sparse_table())
        for label in (self.headline, self.steps_label, self.james_label, self.sparse_label):
            sheet = label.styleSheet()
            label.setStyleSheet("")
            label.setStyleSheet(sheet)

    @staticmethod
    def _page(widget: QWidget) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(widget)
        return page

    @staticmethod
    def _set_text(label: QLabel, text: str) -> None:
        """A label's text, set only when it changes (each setText lays the rich text out again)."""
        if label.text() != text:
            label.setText(text)

    @staticmethod
    def _scrolled(widget: QWidget) -> QScrollArea:
        s = QScrollArea()
        s.setWidget(widget)
        s.setWidgetResizable(True)
        s.setFrameShape(QScrollArea.Shape.NoFrame)
        return s

    def figures(self) -> dict:
        return {"Sequence, gates and states": self.inspector, "Gradient flow": self.flow,
                "Training curves": self.training, "Steps at the cursor (table)": self.steps_label}

    # ---- rendering (a pure function of the snapshot and the followed units) -----------------------
    def render_snapshot(self, snap) -> None:
        """Every frame: the time-axis view; the tab shown beside it (the others when they are shown
        or exported); the headline and the table of numbers at most 8 times a second while playing
        (exact on every step and pause), each only when its text changed."""
        if snap.gender_units and snap.gender_units != getattr(self, "_gender_seen", None):
            self._gender_seen = snap.gender_units        # follow the two strongest units, once
            self.units = [u for u, _ in snap.gender_units[1][:2]]
            self.units_edit.setText(", ".join(str(u) for u in self.units))
        H = snap.arrays["h"].shape[1]
        units = [u for u in self.units if u < H] or [0]
        self.inspector.render(snap, units)
        if self.view_shown(self.steps_label) and self.text_due("lstm steps"):
            self._set_text(self.steps_label, step_table(snap, snap.t, units))
        if self.view_shown(self.flow):
            self.flow.render(snap, text=self.text_due("lstm flow title"))
        if self.view_shown(self.training):
            self.training.render(snap, self.params.clip)
        if self.text_due("lstm headline"):
            self._set_text(self.headline, self._headline(snap))
        self.gender_button.setEnabled(snap.task == "chars")

    def _headline(self, snap) -> str:
        mode = (f"<b style='color:{theme().good}'>Training</b>: Step = one minibatch update"
                if snap.mode == "train" else
                "<b>Inspecting</b>: Step = one time step")
        text = (f"{mode} · {snap.cell_label}, H = {snap.hidden} · sequence {snap.sequence + 1} of "
                f"{snap.n_sequences} · {snap.task_text}")
        n = len(snap.updates)
        if n:
            k = min(n, 50)
            parts = [f"{SHORT[snap.cell]} {100 * np.nanmean(snap.acc[-k:]):.0f} %"]
            if snap.cmp_acc is not None and np.isfinite(snap.cmp_acc[-k:]).any():
                parts.append(f"{SHORT[snap.cmp_cell]} {100 * np.nanmean(snap.cmp_acc[-k:]):.0f} %")
            what = "right" if snap.kind == "classification" else f"within ±{snap.tol:g}"
            text += f"<br>Last {k} minibatches, {what}: " + " · ".join(parts)
        if snap.gender_units:
            upd, ranked, n_he, n_she, p = snap.gender_units
            units = ", ".join(f"unit {u} d = {d:+.2f}" for u, d in ranked[:3])
            verdict = ("<b>a unit stands out</b>" if p < 0.05 else
                       "<b>no unit stands out</b>")
            text += (f"<br>“Gender” units (update {upd}, state before he/she, {n_he} vs {n_she} "
                     f"sentences): {units}; random splits reach this |d| in {100 * p:.1f} % of "
                     f"cases: {verdict}.")
        return text

    def status_message(self, snap):
        if snap.status == DIVERGED:
            return snap.message, "error"
        if snap.status == FINISHED:
            return snap.message, "ok"
        return snap.message, "warn" if snap.message else "info"

    # ---- interaction ----------------------------------------------------------------------------
    def _on_inspector_clicked(self, t: int, unit: int):
        snap = self.snapshot
        if snap is None:
            return
        T, H = snap.arrays["h"].shape
        if 0 <= unit < H:
            self.units = ([unit] + [u for u in self.units if u != unit])[:MAX_UNITS]
            self.units_edit.setText(", ".join(str(u) for u in self.units))
        self.runner.invoke("set_time", int(min(max(t, 0), T - 1)))

    def _on_units_edited(self):
        H = self.snapshot.arrays["h"].shape[1] if self.snapshot is not None else self.params.hidden
        try:
            units = parse_units(self.units_edit.text(), H)
        except ValueError as exc:
            self.show_message(f"<b>Units to follow:</b> {exc}", "error")
            self.units_edit.setText(", ".join(str(u) for u in self.units))
            return
        self.units = units
        if self.snapshot is not None:
            self.render_snapshot(self.snapshot)

    def _on_mode_maybe_changed(self, params):
        self._apply_mode_speed(params)

    def set_params(self, params) -> None:
        super().set_params(params)
        self._apply_mode_speed(params)

    def _apply_mode_speed(self, params):
        if getattr(self, "_last_mode", None) == params.mode:
            return
        self._last_mode = params.mode
        box = self.transport.speed_box
        box.setCurrentIndex(max(0, box.findData(MODE_SPEED[params.mode])))

    def _on_csv_clicked(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save gate values", str(Path.home() / "lstm-gates.csv"),
                                              "CSV files (*.csv)")
        if path:
            self.export_gates_csv(path)

    def export_gates_csv(self, path) -> Path:
        """Every heatmap's values for the shown sequence: one row per time step, one column per
        (array, unit), with the inputs and targets in front."""
        snap = self.snapshot
        path = Path(path)
        names = [m[0] for m in snap.maps]
        T, H = snap.arrays["h"].shape
        header = ["t"] + [f"x {n}" for n in snap.input_names] + ["target"]
        header += [f"{n}[{u}]" for n in names for u in range(H)]
        try:
            with open(path, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow([f"# {snap.cell_label}, H = {H}, {snap.task_text} Update {snap.step_count}."])
                w.writerow(header)
                for t in range(T):
                    tgt = (snap.output_names[int(snap.labels[t])] if snap.labels is not None
                           else repr(float(snap.target[t, 0])))
                    row = [t] + [repr(float(v)) for v in snap.x[t]] + [tgt if snap.mask[t] else ""]
                    row += [repr(float(snap.arrays[n][t, u])) for n in names for u in range(H)]
                    w.writerow(row)
        except OSError as exc:
            self.show_message(f"<b>Could not save {path}:</b> {exc.strerror or exc}", "error")
            raise
        self.show_message(f"Saved the gate values to {path}", "info")
        return path
