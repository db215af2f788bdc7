"""The main window: panel list, menus, status bar, settings, shutdown; the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction

import nnsim
from nnsim.app import MainWindow, make_app
from nnsim.panels import PANELS, panel_class
from nnsim.runner import Runner


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "nnsim.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    make_app()
    w = MainWindow(settings=settings, warm=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def menu_texts(window):
    return {a.text().replace("&", ""): [x.text().replace("&", "") for x in a.menu().actions() if x.text()]
            for a in window.menuBar().actions()}


def test_window_lists_working_panels_and_menus(window, qtbot):
    titles = [window.panel_list.item(i).text() for i in range(window.panel_list.count())]
    assert titles == [t for _, t, _ in PANELS]
    menus = menu_texts(window)
    assert {"Open experiment…", "Save experiment…", "Open data…", "Export figure…", "Export lab report…",
            "Quit"} <= set(menus["File"])
    assert {"Full screen", "Presentation mode", "Larger text", "Theme"} <= set(menus["View"])
    assert menus["Help"] == ["What am I looking at?", "Keyboard shortcuts", "About nnsim"]
    assert window.fullscreen_action.shortcut().toString() == "F11"
    panel = window.current_panel()
    assert panel is not None and panel.key == PANELS[0][0]
    qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=20000)


def test_status_bar_follows_steps(window, qtbot):
    panel = window.current_panel()
    qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=20000)
    qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.steps_label.text() == "steps: 1", timeout=5000)


def test_geometry_and_last_panel_are_remembered(qtbot, settings):
    make_app()
    w = MainWindow(settings=settings, warm=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.resize(w.width(), 517)
    height = w.height()
    w.close()
    assert settings.value("geometry") is not None
    assert settings.value("last_panel") == PANELS[-1][0] or settings.value("last_panel") in [k for k, _, _ in PANELS]
    w2 = MainWindow(settings=settings, warm=False)
    qtbot.addWidget(w2)
    assert w2.height() == height  # (the offscreen screen is too narrow to compare widths)
    assert w2.current_panel().key == settings.value("last_panel")
    w2.close()


def test_closing_the_window_stops_every_thread(qtbot, settings):
    before = Runner.live_count()
    make_app()
    w = MainWindow(settings=settings, warm=False)
    qtbot.addWidget(w)
    w.show()
    panel = w.current_panel()
    qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=20000)
    panel.set_params(panel.params.replace(dataset="xor", max_epochs=100000))  # never stops by itself
    panel.transport.speed_box.setCurrentIndex(panel.transport.speed_box.findData(1000.0))
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.runner.playing and panel.snapshot.step_count > 100, timeout=10000)
    assert Runner.live_count() == before + 1
    w.close()
    assert Runner.live_count() == before


def test_engine_warms_up_in_the_background(qtbot, settings):
    make_app()
    w = MainWindow(settings=settings, warm=True)
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: w.engine_label.text().startswith("engine ready"), timeout=120000)
    finally:
        w.shutdown()


@pytest.mark.parametrize("key", [k for k, _, _ in PANELS])
def test_every_registered_panel_runs_briefly_and_closes(qtbot, key):
    before = Runner.live_count()
    p = panel_class(key)()
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=30000)
    p.runner.step(5)
    qtbot.waitUntil(lambda: p.snapshot.step_count >= 5, timeout=30000)
    assert p.figures(), "a panel must offer at least one figure to export"
    p.close()
    assert Runner.live_count() == before


def test_cli_version():
    out = subprocess.run([sys.executable, "-m", "nnsim", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == f"nnsim {nnsim.__version__}"


@pytest.mark.parametrize("presenting", [False, True])
def test_the_window_fits_a_1280_pixel_projector(qtbot, settings, presenting):
    """Every panel, once it has drawn its first state, leaves the window at most 1280 px wide, also
    in presentation mode (1.4x text; the panel list hidden, Ctrl+1 … Ctrl+6 switch panels)."""
    from PySide6.QtGui import QKeySequence

    make_app()
    w = MainWindow(settings=settings, warm=False)
    qtbot.addWidget(w)
    w.show()
    try:
        w.presentation.set_presentation(presenting)
        assert w.panel_list.isVisible() is not presenting
        go = {a.shortcut().toString(): a for a in w.findChildren(QAction) if a.shortcut().toString().startswith("Ctrl+")}
        for n, (key, _, _) in enumerate(PANELS, start=1):
            go[QKeySequence(f"Ctrl+{n}").toString()].trigger()
            panel = w.current_panel()
            assert panel.key == key
            qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=30000)
            qtbot.wait(100)
            assert w.minimumSizeHint().width() <= 1280, key
        w.presentation.set_presentation(False)
        assert w.panel_list.isVisible()
    finally:
        w.shutdown()
