"""Themes: light, high contrast and dark each reach every widget, with text contrast of at least
4.5:1 (WCAG AA) on plots, legends, tables and forms; high contrast is visibly heavier than light."""

from __future__ import annotations

import re
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from nnsim.app import MainWindow, make_app
from nnsim.panels import PANELS
from nnsim.widgets import plots
from nnsim.widgets.layoutcheck import place, settle

AA = 4.5
_SPAN = re.compile(r"<(span|b|font)\b[^>]*?(?<![-\w])color\s*[:=]\s*['\"]?(#[0-9a-fA-F]{3,8}|[a-zA-Z]+)[^>]*>(.*?)</\1>",
                   re.IGNORECASE | re.DOTALL)
#: a span of symbols only (■, ━━, ╍╍, ●, ★ …) is a colour key, the swatch of a line, not words: the
#: text rule is for words (swatches are graphics, keyed to the lines they stand for)
_SWATCH = set("■□▬━─┅┄┈╍●○◆◇▲△▼▽★☆✕×|-—–=~· \u00a0")


def _over(fg: QColor, bg: QColor) -> QColor:
    """``fg`` with its alpha painted over an opaque ``bg``."""
    a = fg.alphaF()
    return QColor.fromRgbF(fg.redF() * a + bg.redF() * (1 - a), fg.greenF() * a + bg.greenF() * (1 - a),
                           fg.blueF() * a + bg.blueF() * (1 - a))


@pytest.mark.parametrize("name", list(plots.THEMES))
def test_theme_colours_meet_aa(name):
    th = plots.THEMES[name]
    legend_bg = _over(QColor(th.legend_bg[:7]) if len(th.legend_bg) == 7 else QColor(
        "#" + th.legend_bg[7:9] + th.legend_bg[1:7]), QColor(th.bg))
    pairs = {"text on plot": (th.fg, th.bg), "muted on plot": (th.muted, th.bg), "text on base": (th.fg, th.base),
             "muted on base": (th.muted, th.base), "text on window": (th.fg, th.window),
             "good on base": (th.good, th.base), "bad on base": (th.bad, th.base),
             "text on good cell": (th.fg, th.good_bg), "text on bad cell": (th.fg, th.bad_bg),
             "text on header": (th.fg, th.head_bg), "legend text": (th.fg, legend_bg)}
    low = {k: round(plots.contrast_ratio(a, b), 2) for k, (a, b) in pairs.items()
           if plots.contrast_ratio(a, b) < AA}
    assert not low, low


def test_high_contrast_is_visibly_heavier_than_light():
    light, hc = plots.THEMES["light"], plots.THEMES["contrast"]
    assert hc.axis_width >= 2 * light.axis_width
    assert hc.line_factor >= 1.5 and hc.marker_factor > 1
    assert hc.grid_alpha > light.grid_alpha
    assert hc.fg == "#000000" and hc.bg == "#ffffff" and hc.window == "#ffffff" != light.window
    assert plots.contrast_ratio(hc.fg, hc.bg) == pytest.approx(21.0)


def test_no_hard_coded_light_backgrounds_in_widgets():
    """Style sheets and rich text take colours from the palette or the theme, or the dark theme shows
    white boxes and dark text on dark backgrounds."""
    root = Path(__file__).resolve().parents[2] / "nnsim"
    bad = []
    pattern = re.compile(r"background\s*:\s*(white|#fff\b|#ffffff)|color\s*:\s*#111\b|color\s*=\s*\"#111\"",
                         re.IGNORECASE)
    for path in list((root / "panels").glob("*.py")) + list((root / "widgets").glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                bad.append(f"{path.name}:{n}: {line.strip()}")
    assert not bad, "\n".join(bad)


@pytest.fixture
def window(qtbot, tmp_path):
    make_app()
    w = MainWindow(settings=QSettings(str(tmp_path / "nnsim.ini"), QSettings.Format.IniFormat), warm=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    place(w, "1920x1080")
    yield w
    w.presentation.set_theme("light")
    w.shutdown()


def _label_colours(html: str) -> list[str]:
    """Colours of the coloured runs of words in rich text (swatches of line colours left out)."""
    out = []
    for m in _SPAN.finditer(html or ""):
        words = re.sub(r"<[^>]+>", "", m.group(3)).replace("&nbsp;", " ")
        words = re.sub(r"&[a-z]+;", "", words)
        if any(ch.isalnum() for ch in words) and not set(words) <= _SWATCH:
            out.append(m.group(2))
    return out


@pytest.mark.parametrize("theme", ["dark", "contrast", "light"])
def test_every_panel_follows_the_theme(window, qtbot, theme):
    window.presentation.set_theme(theme)
    th = plots.THEMES[theme]
    app = QApplication.instance()
    assert app.palette().color(QPalette.ColorRole.Window) == QColor(th.window if theme != "light"
                                                                  else app.palette().color(QPalette.ColorRole.Window))
    problems = []
    for key, _title, _target in PANELS:
        panel = window.show_panel(key)
        qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=60000)
        settle()
        for view in panel.findChildren(pg.GraphicsView):
            bg = view.backgroundBrush().color()
            if bg != QColor(th.bg):
                problems.append(f"{key}: a view's background is {bg.name()}, not {th.bg}")
                continue
            for item in view.scene().items():
                if isinstance(item, pg.LabelItem) and item.text and item.isVisible():
                    fg = QColor(item.opts.get("color") or th.fg)
                    back = bg
                    if isinstance(item.parentItem(), pg.LegendItem):
                        back = _over(item.parentItem().opts["brush"].color(), bg)
                    for c in [fg.name()] + _label_colours(item.text):
                        if plots.contrast_ratio(c, back) < AA:
                            problems.append(f"{key}: label {item.text[:40]!r} colour {c} on {back.name()} "
                                            f"({plots.contrast_ratio(c, back):.2f}:1)")
                elif isinstance(item, pg.AxisItem) and item.isVisible() and item.style.get("showValues", True):
                    c = item.textPen().color()
                    if plots.contrast_ratio(c, bg) < AA:
                        problems.append(f"{key}: {item.orientation} axis text {c.name()} on {bg.name()}")
        for label in panel.findChildren(QLabel):
            if not label.isVisibleTo(window) or not label.text():
                continue
            if label is panel.banner or label.objectName() == "busyCover":
                continue  # the banner carries its own light background and dark text
            back = label.palette().color(label.backgroundRole()) if label.autoFillBackground() else QColor(th.base)
            for c in _label_colours(label.text()):
                if plots.contrast_ratio(c, QColor(th.base)) < AA and plots.contrast_ratio(c, QColor(th.window)) < AA:
                    problems.append(f"{key}: text colour {c} in {label.text()[:50]!r} on {back.name()}")
    assert not problems, "\n".join(dict.fromkeys(problems))
