"""The transport bar: Play/Pause (Space), Step (→), Step N, Reset (R), seed, speed, step counter."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QSpinBox, QWidget)

#: (label, steps per second); 0 means as fast as possible
SPEEDS = (("1 step/s", 1.0), ("2 steps/s", 2.0), ("5 steps/s", 5.0), ("10 steps/s", 10.0),
          ("30 steps/s", 30.0), ("100 steps/s", 100.0), ("1000 steps/s", 1000.0), ("As fast as possible", 0.0))


class TransportBar(QWidget):
    play_clicked = Signal()
    step_clicked = Signal(int)
    reset_clicked = Signal(int)
    speed_changed = Signal(float)
    stop_changed = Signal(int)
    #: the target value, or None when the target condition is off
    target_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None, step_unit: str = "step", default_speed: float = 10.0,
                 target_label: str = "", target_default: float = 0.01, target_decimals: int = 4):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        lay, lay2 = QHBoxLayout(), QHBoxLayout()
        grid.addLayout(lay, 0, 0)
        grid.addLayout(lay2, 1, 0)
        self.play_button = QPushButton("▶ Play")
        # Space is handled by the main window (see MainWindow.eventFilter): a button shortcut on Space
        # never fires while a button, list or scroll area has the focus
        self.play_button.setToolTip("Play / pause (Space)")
        self.step_button = QPushButton("Step")
        self.step_button.setShortcut(QKeySequence(Qt.Key.Key_Right))
        self.step_button.setToolTip(f"Advance exactly one {step_unit} (→)")
        self.stepn_spin = QSpinBox()
        self.stepn_spin.setRange(2, 1_000_000)
        self.stepn_spin.setValue(10)
        self.stepn_spin.setToolTip("How many steps 'Step N' advances")
        self.stepn_button = QPushButton("Step N")
        self.stepn_button.setToolTip("Advance N steps at full speed, then pause (Shift+→)")
        self.stepn_button.setShortcut(QKeySequence("Shift+Right"))
        self.reset_button = QPushButton("⟲ Reset")
        self.reset_button.setShortcut(QKeySequence(Qt.Key.Key_R))
        self.reset_button.setToolTip("Restart from the seed's initial state (R)")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setPrefix("seed ")
        self.seed_spin.setToolTip("Random seed: the same seed and parameters give the same run")
        self.speed_box = QComboBox()
        for text, value in SPEEDS:
            self.speed_box.addItem(text, value)
        idx = [v for _, v in SPEEDS].index(default_speed) if default_speed in [v for _, v in SPEEDS] else 3
        self.speed_box.setCurrentIndex(idx)
        self.speed_box.setToolTip("Updates per second while playing")
        self.stop_spin = QSpinBox()
        self.stop_spin.setRange(0, 100_000_000)
        self.stop_spin.setSpecialValueText("no stop")
        self.stop_spin.setPrefix("stop at ")
        self.stop_spin.setToolTip(f"Play pauses when this many {step_unit}s are done (0: never)")
        # "stop when <loss> <= target": only on panels whose simulation watches a value
        self.target_check = QCheckBox(f"stop when {target_label} ≤" if target_label else "")
        self.target_check.setToolTip(f"Play pauses on the {step_unit} where the {target_label} first "
                                     "falls to the target (or below)")
        self.target_spin = QDoubleSpinBox()
        self.target_spin.setDecimals(target_decimals)
        self.target_spin.setRange(-1e9, 1e9)
        self.target_spin.setValue(target_default)
        self.target_spin.setSingleStep(abs(target_default) / 10 if target_default else 0.01)
        self.target_spin.setEnabled(False)
        self.target_spin.setToolTip(self.target_check.toolTip())
        self.target_check.setVisible(bool(target_label))
        self.target_spin.setVisible(bool(target_label))
        self.counter = QLabel(f"{step_unit}s: 0")
        self.counter.setMinimumWidth(140)
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for w in (self.play_button, self.step_button, self.stepn_button, self.stepn_spin, self.reset_button,
                  self.seed_spin):
            lay.addWidget(w)
        lay.addStretch(1)
        lay.addWidget(self.counter)
        for w in (self.speed_box, self.stop_spin, self.target_check, self.target_spin):
            lay2.addWidget(w)
        lay2.addStretch(1)
        self._unit = step_unit
        self.play_button.clicked.connect(self.play_clicked)
        self.step_button.clicked.connect(lambda: self.step_clicked.emit(1))
        self.stepn_button.clicked.connect(lambda: self.step_clicked.emit(self.stepn_spin.value()))
        self.reset_button.clicked.connect(lambda: self.reset_clicked.emit(self.seed_spin.value()))
        self.speed_box.currentIndexChanged.connect(lambda _i: self.speed_changed.emit(self.speed()))
        self.stop_spin.valueChanged.connect(self.stop_changed)
        self.target_check.toggled.connect(self.target_spin.setEnabled)
        self.target_check.toggled.connect(lambda _on: self.target_changed.emit(self.target()))
        self.target_spin.valueChanged.connect(
            lambda _v: self.target_changed.emit(self.target()) if self.target_check.isChecked() else None)

    def target(self) -> float | None:
        """The target value when "stop when … ≤" is ticked, else None."""
        return float(self.target_spin.value()) if self.target_check.isChecked() else None

    def speed(self) -> float:
        return float(self.speed_box.currentData())

    def seed(self) -> int:
        return self.seed_spin.value()

    def set_playing(self, playing: bool):
        self.play_button.setText("⏸ Pause" if playing else "▶ Play")

    def set_count(self, n: int, extra: str = ""):
        text = f"{self._unit}s: {n:,}" + (f"  {extra}" if extra else "")
        if text != self.counter.text():
            self.counter.setText(text)
