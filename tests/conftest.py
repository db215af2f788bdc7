"""Shared test set-up.

* Qt runs offscreen unless the caller chose a platform (``QT_QPA_PLATFORM``).
* QSettings are redirected to a temporary directory for the whole session, so tests never read or
  write the user's real settings. PySide6 is imported only inside that fixture, lazily, so this file
  itself stays importable without Qt.
* After every test, no ``nnsim.runner.Runner`` worker thread started by it may still be running.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

import pytest

# offscreen, with the screens a lecture meets (1920×1080 primary, 1280×720 and 1280×800 projectors,
# 2560×1440): the layout tests put the window on each of them
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    _SCREENS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "screens.json")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREENS}"


def _pyside6_available() -> bool:
    try:
        return importlib.util.find_spec("PySide6") is not None
    except (ImportError, ValueError):
        return False


@pytest.fixture(scope="session", autouse=True)
def _isolated_qsettings(tmp_path_factory):
    """Point every QSettings (native and INI, user and system scope) at a throwaway directory."""
    if not _pyside6_available():
        yield None
        return
    from PySide6.QtCore import QSettings

    root = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(root / "user"))
        QSettings.setPath(fmt, QSettings.Scope.SystemScope, str(root / "system"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    yield root


def _runner_live_count() -> int | None:
    """``Runner.live_count()`` if nnsim.runner has been imported (never imports it here)."""
    mod = sys.modules.get("nnsim.runner")
    runner = getattr(mod, "Runner", None) if mod is not None else None
    live_count = getattr(runner, "live_count", None)
    if live_count is None:
        return None
    return int(live_count())


def _process_qt_events() -> None:
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is None:
        return
    app = qtcore.QCoreApplication.instance()
    if app is not None:
        app.processEvents()
        # deleteLater() objects are only deleted by an event loop; flush them too.
        qtcore.QCoreApplication.sendPostedEvents(None, qtcore.QEvent.Type.DeferredDelete)


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a Runner worker thread running (call ``Runner.shutdown()``)."""
    before = _runner_live_count() or 0
    yield
    after = _runner_live_count()
    if after is None or after <= before:
        return
    # Give threads that were told to stop a moment to finish.
    deadline = time.monotonic() + 2.0
    while after > before and time.monotonic() < deadline:
        _process_qt_events()
        time.sleep(0.01)
        after = _runner_live_count() or 0
    if after > before:
        pytest.fail(
            f"{after - before} nnsim Runner thread(s) started by this test are still running; "
            "call Runner.shutdown() (or close the widget that owns it) before the test ends",
            pytrace=False,
        )
