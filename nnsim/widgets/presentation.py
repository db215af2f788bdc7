"""Presentation mode, text scale and themes for projecting nnsim in a lecture hall.

View > Presentation mode (F5): full screen, text 1.4× and thicker plot lines. Ctrl+= / Ctrl+- /
Ctrl+0 scale every text (widgets, axis ticks and labels, titles, legends). Themes: light (default),
high contrast (black on white, heavier axes) and dark. Theme and scale are kept in QSettings.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QAction, QActionGroup, QColor, QFont, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from nnsim.widgets import plots

THEMES = {
    # name: (plot background, axis/text colour, axis width, Qt palette or None)
    "light": ("w", "#111111", 1, None),
    "contrast": ("w", "#000000", 2, None),
    "dark": ("#1b1d22", "#e6e6e6", 1, "dark"),
}
PRESENTATION_SCALE = 1.4
LINE_FACTOR = 1.6


def _dark_palette() -> QPalette:
    pal = QPalette()
    for role, color in ((QPalette.ColorRole.Window, "#24262b"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
                        (QPalette.ColorRole.Base, "#1b1d22"), (QPalette.ColorRole.AlternateBase, "#2b2e34"),
                        (QPalette.ColorRole.Text, "#e6e6e6"), (QPalette.ColorRole.Button, "#2f3238"),
                        (QPalette.ColorRole.ButtonText, "#e6e6e6"), (QPalette.ColorRole.Highlight, "#3d7bd9"),
                        (QPalette.ColorRole.HighlightedText, "#ffffff"), (QPalette.ColorRole.ToolTipBase, "#2f3238"),
                        (QPalette.ColorRole.ToolTipText, "#e6e6e6")):
        pal.setColor(role, QColor(color))
    return pal


class Presentation:
    """Owns the View menu's presentation, text-size and theme actions of a main window."""

    def __init__(self, window, menu):
        self.window = window
        app = QApplication.instance()
        self._base_pt = app.font().pointSizeF() if app.font().pointSizeF() > 0 else 10.0
        self._default_palette = app.palette()
        settings = window.settings
        self.scale = float(settings.value("font_scale", 1.0))
        self.theme = str(settings.value("theme", "light"))
        if self.theme not in THEMES:
            self.theme = "light"
        self.lines = 1.0

        self.mode_action = QAction("&Presentation mode", window, shortcut=QKeySequence("F5"), checkable=True)
        self.mode_action.toggled.connect(self.set_presentation)
        menu.addAction(self.mode_action)
        for text, keys, step in (("&Larger text", ("Ctrl+=", "Ctrl++"), 1.15), ("&Smaller text", ("Ctrl+-",), 1 / 1.15),
                                 ("&Normal text size", ("Ctrl+0",), None)):
            act = QAction(text, window)
            act.setShortcuts([QKeySequence(k) for k in keys])
            act.triggered.connect(lambda _c=False, s=step: self.set_scale(self.scale * s if s else 1.0))
            menu.addAction(act)
        theme_menu = menu.addMenu("&Theme")
        group = QActionGroup(window)
        self.theme_actions = {}
        for name, text in (("light", "Light"), ("contrast", "High contrast (projector)"), ("dark", "Dark")):
            act = QAction(text, window, checkable=True)
            act.setChecked(name == self.theme)
            act.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            group.addAction(act)
            theme_menu.addAction(act)
            self.theme_actions[name] = act
        self.apply()

    # ---- public
    def set_presentation(self, on: bool):
        w = self.window
        if on:
            self._saved_scale = self.scale
            self.scale = max(self.scale, PRESENTATION_SCALE)
            self.lines = LINE_FACTOR
            # the plots get the room (and the window fits a 1280-pixel projector): panels are
            # reached with Ctrl+1 … Ctrl+6 or View > Go to panel
            w.panel_list.hide()
            w.showFullScreen()
        else:
            self.scale = getattr(self, "_saved_scale", 1.0)
            self.lines = 1.0
            w.panel_list.show()
            w.showNormal()
        self.apply()

    def set_scale(self, scale: float):
        self.scale = min(3.0, max(0.6, float(scale)))
        self.window.settings.setValue("font_scale", self.scale)
        self.apply()

    def set_theme(self, name: str):
        self.theme = name if name in THEMES else "light"
        self.window.settings.setValue("theme", self.theme)
        self.theme_actions[self.theme].setChecked(True)
        self.apply()

    def apply(self):
        app = QApplication.instance()
        font = app.font()
        font.setPointSizeF(self._base_pt * self.scale)
        app.setFont(font)
        palette = THEMES[self.theme][3]
        app.setPalette(_dark_palette() if palette == "dark" else self._default_palette)
        self.apply_to(self.window)

    def apply_to(self, root: QWidget):
        """Restyle every pyqtgraph plot under ``root`` (a panel created later calls this too)."""
        bg, fg, axis_w, _ = THEMES[self.theme]
        for view in root.findChildren(pg.GraphicsView):
            view.setBackground(bg)
            for item in view.scene().items():
                if isinstance(item, pg.PlotItem):
                    self._style_plot(item, fg, axis_w)

    # ---- internals
    def _style_plot(self, plot: pg.PlotItem, fg: str, axis_w: int):
        s = self.scale
        tick = QFont()
        tick.setPointSizeF(plots.TICK_PT * s)
        for name in ("left", "bottom", "right", "top"):
            axis = plot.getAxis(name)
            axis.setTickFont(tick)
            axis.setPen(pg.mkPen(fg, width=axis_w))
            axis.setTextPen(pg.mkPen(fg))
            if axis.labelText:
                axis.setLabel(axis.labelText, units=axis.labelUnits or None,
                              **{"font-size": f"{plots.LABEL_PT * s:.0f}pt", "color": fg})
        if plot.titleLabel.text:
            plot.titleLabel.setText(plot.titleLabel.text, size=f"{plots.TITLE_PT * s:.0f}pt", color=fg)
        if plot.legend is not None:
            for _sample, label in plot.legend.items:
                label.setText(label.text, size=f"{plots.TICK_PT * s:.0f}pt", color=fg)
        for item in plot.listDataItems():
            if not hasattr(item, "setPen"):
                continue
            pen = getattr(item, "opts", {}).get("pen")
            if pen is None or isinstance(pen, (list, tuple)):
                continue
            pen = pg.mkPen(pen)
            base = getattr(item, "_nnsim_base_width", None)
            if base is None:
                base = item._nnsim_base_width = pen.widthF()
            pen.setWidthF(base * self.lines)
            item.setPen(pen)
