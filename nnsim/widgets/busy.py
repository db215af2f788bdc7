"""The cover a panel lays over its views while they would show a stale state (a structural change
being recomputed, the first state of a large data set): a message and, when the simulation reports
how far it is, a progress bar."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QVBoxLayout, QWidget


class BusyCover(QFrame):
    """A message over the whole area of ``parent`` with an optional progress bar under it."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("busyCover")
        self.setAutoFillBackground(True)
        self.setStyleSheet("QFrame#busyCover { background: palette(window); }"
                           " QFrame#busyCover QLabel { color: palette(window-text); font-size: 16pt; }"
                           " QFrame#busyCover QLabel#busyDetail { font-size: 12pt; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 40, 40, 40)
        lay.addStretch(1)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        lay.addWidget(self.label)
        lay.addSpacing(12)
        self.detail = QLabel()  # what the simulation reports it is doing (report_progress)
        self.detail.setObjectName("busyDetail")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        self.detail.hide()
        lay.addWidget(self.detail)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(420, 20)
        self.bar.hide()
        lay.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(1)
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name, which this replaces
        """A new message; the progress of the previous work is cleared."""
        self.label.setText(text)
        self.detail.hide()
        self.bar.hide()

    def set_progress(self, fraction: float, text: str = "") -> None:
        """``fraction`` in [0, 1] fills the bar; negative: unknown (a moving bar)."""
        if text != self.detail.text():
            self.detail.setText(text)
        self.detail.setVisible(bool(text))
        if fraction < 0:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(round(1000 * min(1.0, fraction))))
        self.bar.show()
