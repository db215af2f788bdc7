"""File > Export figure…: one of the panel's figures (or the whole panel) as PNG, SVG or CSV, with
the exact parameters written beside it as ``<name>.params.json`` so the figure can be regenerated."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QSpinBox, QWidget)

from nnsim.export import ExportError, export_any, export_params

WHOLE_PANEL = "Whole panel (PNG only)"

#: (text, final size in pixels or None for the on-screen size, default text/line scale)
SIZES = (("1600 × 1000 px (slides)", (1600, 1000), 2.0),
         ("1920 × 1080 px (full HD)", (1920, 1080), 2.0),
         ("16 × 10 cm at 300 dpi (print, full width)", (1890, 1181), 3.0),
         ("8 × 6 cm at 300 dpi (print, one column)", (945, 709), 2.5),
         ("As on screen", None, 2.0),
         ("Custom size…", "custom", 2.0))


def export_figure(panel, figure: str, path: str | Path, scale: float = 1, with_params: bool = True,
                  size: tuple[int, int] | None = None) -> list[Path]:
    """Export ``figure`` (a key of ``panel.figures()`` or WHOLE_PANEL) to ``path``; returns the files.

    ``size`` is the picture's size in pixels (PNG; SVG gets the same layout): the figure is laid out
    at ``size / scale`` whatever its size on screen and drawn at ``scale`` (text and lines ``scale``
    times larger than on a screen of that layout size). None: the on-screen size, times ``scale``.
    """
    path = Path(path)
    draw_all = getattr(panel, "draw_all_views", None)
    if draw_all is not None:  # views on hidden tabs are not drawn while playing
        draw_all()
    target = panel if figure == WHOLE_PANEL else panel.figures()[figure]
    if figure == WHOLE_PANEL and path.suffix.lower() != ".png":
        raise ExportError(f"the whole panel can only be saved as PNG, not {path.suffix or 'no extension'}")
    layout = None if size is None else (size[0] / scale, size[1] / scale)
    export_any(target, path, scale=scale, size=layout)
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
        self.size_box = QComboBox()
        for text, size, _scale in SIZES:
            self.size_box.addItem(text, size)
        self.width_spin, self.height_spin = QSpinBox(), QSpinBox()
        for spin, value in ((self.width_spin, 1600), (self.height_spin, 1000)):
            spin.setRange(200, 8000)
            spin.setSuffix(" px")
            spin.setValue(value)
        custom = QHBoxLayout()
        custom.addWidget(self.width_spin)
        custom.addWidget(QLabel("×"))
        custom.addWidget(self.height_spin)
        self.scale_box = QComboBox()
        for s in (1, 1.5, 2, 2.5, 3, 4):
            self.scale_box.addItem(f"{s:g}×", float(s))
        self.scale_box.setToolTip("How large text and lines are drawn: the figure is laid out at the size "
                                  "divided by this, then drawn at full resolution")
        self.scale_box.setCurrentIndex(2)
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
        form.addRow("Size", self.size_box)
        form.addRow("", custom)
        form.addRow("Text and lines", self.scale_box)
        form.addRow("File", row)
        form.addRow("", self.params_check)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format_box.currentIndexChanged.connect(self._on_format)
        self.figure_box.currentIndexChanged.connect(self._on_format)
        self.size_box.currentIndexChanged.connect(self._on_size)
        self._on_size()

    def _on_size(self):
        custom = self.size_box.currentData() == "custom"
        self.width_spin.setEnabled(custom)
        self.height_spin.setEnabled(custom)
        self.scale_box.setCurrentIndex(max(0, self.scale_box.findData(SIZES[self.size_box.currentIndex()][2])))

    def chosen_size(self):
        """The picture's size in pixels, or None for the on-screen size."""
        size = self.size_box.currentData()
        if size == "custom":
            return (self.width_spin.value(), self.height_spin.value())
        return tuple(size) if size else None

    def _on_format(self):
        if self.figure_box.currentText() == WHOLE_PANEL:
            self.format_box.setCurrentIndex(0)
        fmt = self.format_box.currentData()
        whole = self.figure_box.currentText() == WHOLE_PANEL
        self.size_box.setEnabled(not whole and fmt != "csv")
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
                                  self.params_check.isChecked(), size=self.chosen_size())
        except (ExportError, OSError, ValueError) as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return
        self.panel.show_message("Saved " + ", ".join(str(f) for f in files), "info")
        self.accept()
