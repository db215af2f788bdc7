"""Presentation mode, text scale and themes for projecting nnsim in a lecture hall.

View > Presentation mode (F5): full screen, text 1.4× and thicker plot lines. Ctrl+= / Ctrl+- /
Ctrl+0 scale every text (widgets, axis ticks and labels, titles, legends). Themes: light (default),
high contrast (black on white, heavier axes) and dark. Theme and scale are kept in QSettings.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from nnsim.widgets import plots

THEMES = plots.THEMES
PRESENTATION_SCALE = 1.4
LINE_FACTOR = 1.6


def theme_palette(name: str, default: QPalette) -> QPalette:
    """The Qt palette of a theme: every widget (forms, tables, the panel list, help) follows it."""
    th = plots.THEMES[name]
    if name == "light":
        return QPalette(default)
    pal = QPalette(default)
    dark = name == "dark"
    roles = {
        QPalette.ColorRole.Window: th.window, QPalette.ColorRole.WindowText: th.fg,
        QPalette.ColorRole.Base: th.base, QPalette.ColorRole.AlternateBase: "#2b2e34" if dark else "#f0f0f0",
        QPalette.ColorRole.Text: th.fg, QPalette.ColorRole.Button: "#2f3238" if dark else "#ffffff",
        QPalette.ColorRole.ButtonText: th.fg, QPalette.ColorRole.BrightText: "#ffffff" if dark else "#000000",
        QPalette.ColorRole.Highlight: "#3d7bd9" if dark else "#00007a",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: th.base,
        QPalette.ColorRole.ToolTipText: th.fg, QPalette.ColorRole.PlaceholderText: th.muted,
        QPalette.ColorRole.Link: "#8ab4ff" if dark else "#0000c0", QPalette.ColorRole.Mid: th.muted,
        QPalette.ColorRole.Dark: "#111111" if dark else "#000000",
        QPalette.ColorRole.Light: "#3a3d44" if dark else "#ffffff",
    }
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for role, color in roles.items():
            pal.setColor(group, role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(th.muted))
    return pal


class Presentation:
    """Owns the View menu's presentation, text-size and theme actions of a main window."""

    def __init__(self, window, menu):
        self.window = window
        app = QApplication.instance()
        # the body size before any scaling, kept on the application: a second window (or a window
        # closed while presenting) must not scale an already scaled font again
        base = app.property("nnsim_base_pt")
        if base is None:
            base = app.font().pointSizeF() if app.font().pointSizeF() > 0 else 10.0
            app.setProperty("nnsim_base_pt", float(base))
        self._base_pt = float(base)
        self._default_palette = app.palette()
        settings = window.settings
        self.scale = float(settings.value("font_scale", 1.0))
        self.theme = str(settings.value("theme", "light"))
        if self.theme not in THEMES:
            self.theme = "light"
        self.lines = 1.0
        self.presenting = False
        self._saved_scale = self.scale

        self.mode_action = QAction("&Presentation mode", window, shortcut=QKeySequence("F5"), checkable=True)
        self.mode_action.toggled.connect(self.set_presentation)
        menu.addAction(self.mode_action)
        # the parameter form as a drawer: shown in normal mode, folded away in presentation mode
        self.drawer_action = QAction("Show &parameters", window, shortcut=QKeySequence("F4"), checkable=True)
        self.drawer_action.setChecked(True)
        self.drawer_action.toggled.connect(self._on_drawer)
        menu.addAction(self.drawer_action)
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
    def set_presentation(self, on: bool, full_screen: bool = True):
        w = self.window
        if on == self.presenting:
            return
        self.presenting = on
        if self.mode_action.isChecked() != on:
            self.mode_action.blockSignals(True)
            self.mode_action.setChecked(on)
            self.mode_action.blockSignals(False)
        if on:
            self._saved_scale = self.scale
            self.scale = max(self.scale, PRESENTATION_SCALE)
            self.lines = LINE_FACTOR
            # the plots get the room (and the window fits a 1280-pixel projector): panels are
            # reached with Ctrl+1 … Ctrl+6 or View > Go to panel, the parameters with F4 (a drawer)
            w.panel_list.hide()
            if full_screen:
                w.showFullScreen()
        else:
            self.scale = self._saved_scale
            self.lines = 1.0
            w.panel_list.show()
            if full_screen and w.isFullScreen():
                w.showNormal()
        self.apply()
        self.drawer_action.setChecked(not on)
        for panel in getattr(w, "panels", {}).values():
            panel.set_form_shown(not on)

    def _on_drawer(self, shown: bool):
        panel = self.window.current_panel() if hasattr(self.window, "current_panel") else None
        for p in getattr(self.window, "panels", {}).values():
            p.set_form_shown(shown)
        if panel is not None and shown:
            panel.form.setFocus()

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
        app.setPalette(theme_palette(self.theme, self._default_palette))
        plots.set_style(self.theme, self.scale, self.lines)
        self.apply_to(self.window)

    def apply_to(self, root: QWidget):
        """Restyle every pyqtgraph view under ``root`` (a panel created later calls this too)."""
        for view in root.findChildren(pg.GraphicsView):
            plots.restyle_view(view)
        for widget in [root] + root.findChildren(QWidget):
            restyle = getattr(widget, "restyle", None)
            if callable(restyle) and getattr(widget, "nnsim_themed", False):
                restyle()
