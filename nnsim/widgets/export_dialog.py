"""File > Export figure…: one of the panel's figures (or the whole panel) as PNG, SVG or CSV, with
the exact parameters written beside it as ``<name>.params.json`` so the figure can be regenerated."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLineEdit, QMessageBox, QPushButton, QWidget)

from nnsim.export import ExportError, export_any, export_params

WHOLE_PANEL = "Whole panel (PNG only)"


def export_figure(panel, figure: str, path: str | Path, scale: int = 1, with_params: bool = True) -> list[Path]:
    """Export ``figure`` (a key of ``panel.figures()`` or WHOLE_PANEL) to ``path``; returns the files."""
    path = Path(path)
    target = panel if figure == WHOLE_PANEL else panel.figures()[figure]
    if figure == WHOLE_PANEL and path.suffix.lower() != ".png":
        raise ExportError(f"the whole panel can only be saved as PNG, not {path.suffix or 'no extension'}")
    export_any(target, path, scale=scale)
    written = [path]
    if with_params:
        snap = panel.snapshot
        pfile = path.with_name(path.stem + ".params.json")
        export_params(pfile, panel=panel.key, params=panel.params.to_dict(), seed=panel.transport.seed(),
                      step_count=snap.step_count if snap is not None else 0, extra={"figure": figure})
        written.append(pfile)
    return written


class ExportDialog(QDialog):
    def __init__(self, panel, parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.setWindowTitle(f"Export figure — {panel.title}")
        self.figure_box = QComboBox()
        self.figure_box.addItems(list(panel.figures()) + [WHOLE_PANEL])
        self.format_box = QComboBox()
        for fmt, text in (("png", "PNG image"), ("svg", "SVG vector image"), ("csv", "CSV of the plotted data")):
            self.format_box.addItem(text, fmt)
        self.scale_box = QComboBox()
        for s in (1, 2, 4):
            self.scale_box.addItem(f"{s}×", s)
        self.scale_box.setCurrentIndex(1)
        self.path_edit = QLineEdit(str(Path.home() / f"nnsim-{panel.key}.png"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.params_check = QCheckBox("also write the parameters (.params.json)")
        self.params_check.setChecked(True)
        form = QFormLayout(self)
        form.addRow("Figure", self.figure_box)
        form.addRow("Format", self.format_box)
        form.addRow("PNG scale", self.scale_box)
        form.addRow("File", row)
        form.addRow("", self.params_check)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format_box.currentIndexChanged.connect(self._on_format)
        self.figure_box.currentIndexChanged.connect(self._on_format)

    def _on_format(self):
        if self.figure_box.currentText() == WHOLE_PANEL:
            self.format_box.setCurrentIndex(0)
        fmt = self.format_box.currentData()
        self.scale_box.setEnabled(fmt == "png")
        self.path_edit.setText(str(Path(self.path_edit.text()).with_suffix("." + fmt)))

    def _on_browse(self):
        fmt = self.format_box.currentData()
        path, _ = QFileDialog.getSaveFileName(self, "Export figure", self.path_edit.text(), f"{fmt.upper()} (*.{fmt})")
        if path:
            self.path_edit.setText(path)

    def _on_save(self):
        path = Path(self.path_edit.text()).expanduser()
        fmt = self.format_box.currentData()
        if path.suffix.lower() != "." + fmt:
            path = path.with_suffix("." + fmt)
        try:
            files = export_figure(self.panel, self.figure_box.currentText(), path, self.scale_box.currentData(),
                                  self.params_check.isChecked())
        except (ExportError, OSError, ValueError) as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return
        self.panel.show_message("Saved " + ", ".join(str(f) for f in files), "info")
        self.accept()
