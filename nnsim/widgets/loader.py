"""Reading a file off the GUI thread: a progress dialog with Cancel, the window responsive meanwhile.

``load_in_background(parent, title, fn, done)`` runs ``fn()`` in a Python thread. What ``fn``
reports through ``nnsim.engine.report_progress`` fills the dialog's bar (shown only if the work
takes longer than ``SHOW_AFTER_MS``); Cancel makes the next report raise :class:`Cancelled` inside
``fn``, which ends it. ``done(result, error)`` then runs in the GUI thread: ``error`` is None on
success, the exception otherwise (``Cancelled`` when cancelled). Nothing else is touched meanwhile.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from nnsim.engine.base import set_progress_sink

#: quicker work shows no dialog at all
SHOW_AFTER_MS = 300


class Cancelled(Exception):
    """The user pressed Cancel."""


class BackgroundLoad(QObject):
    progressed = Signal(float, str)
    finished = Signal(object, object)

    def __init__(self, parent: QWidget, title: str, fn: Callable[[], Any],
                 done: Callable[[Any, BaseException | None], None]):
        super().__init__(parent)
        self._fn, self._done = fn, done
        self.cancel = threading.Event()
        self.dialog = QProgressDialog(title, "Cancel", 0, 1000, parent)
        self.dialog.setWindowTitle("nnsim")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(SHOW_AFTER_MS)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel.set)
        self.dialog.setValue(0)
        self.progressed.connect(self._on_progress)
        self.finished.connect(self._on_finished)
        self.thread = threading.Thread(target=self._run, name="nnsim-load", daemon=True)
        self.thread.start()

    def _sink(self, fraction, text: str) -> None:
        if self.cancel.is_set():
            raise Cancelled()
        self.progressed.emit(-1.0 if fraction is None else float(fraction), str(text))

    def _run(self) -> None:
        set_progress_sink(self._sink)
        result, error = None, None
        try:
            result = self._fn()
            if self.cancel.is_set():
                raise Cancelled()
        except BaseException as exc:  # noqa: BLE001 - handed to done(), never raised in a thread
            result, error = None, exc
        finally:
            set_progress_sink(None)
        try:
            self.finished.emit(result, error)
        except RuntimeError:  # the window went away meanwhile
            pass

    def _on_progress(self, fraction: float, text: str) -> None:
        if fraction < 0:
            self.dialog.setRange(0, 0)
        else:
            self.dialog.setRange(0, 1000)
            self.dialog.setValue(int(1000 * min(1.0, fraction)))
        if text:
            self.dialog.setLabelText(text)

    def _on_finished(self, result, error) -> None:
        self.dialog.hide()
        self.dialog.deleteLater()
        try:
            self._done(result, error)
        finally:
            self.deleteLater()


def load_in_background(parent: QWidget, title: str, fn: Callable[[], Any],
                       done: Callable[[Any, BaseException | None], None]) -> BackgroundLoad:
    """See the module. Returns the job (``job.cancel.set()`` cancels it, ``job.thread`` runs it)."""
    job = BackgroundLoad(parent, title, fn, done)
    parent._nnsim_load = job  # (kept alive until it finishes)
    return job


def read_file(parent: QWidget, path, read: Callable[[Any], Any], background_bytes: int,
              done: Callable[[Any, BaseException | None], Any]) -> bool:
    """``read(path)`` at once when the file is at most ``background_bytes`` (``done`` is called
    before this returns), else in a thread behind a progress dialog with Cancel
    (:func:`load_in_background`; ``done`` follows in the GUI thread). Returns False when the file
    was read at once and refused (``read`` raised), else what ``done`` returned (True for None)."""
    import os

    try:
        big = os.path.getsize(path) > background_bytes
    except OSError:
        big = False
    if big:
        load_in_background(parent, f"Reading {os.path.basename(str(path))}…", lambda: read(path), done)
        return True
    try:
        data = read(path)
    except Exception as exc:  # noqa: BLE001 - handed to done(), which says what went wrong
        done(None, exc)
        return False
    result = done(data, None)
    return True if result is None else bool(result)

