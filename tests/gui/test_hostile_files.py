"""Hostile and large data files in the panels: a clear, short message and nothing changed, or (large
files) reading in a thread behind a progress dialog while the window keeps handling events."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from nnsim.panels import panel_class


@pytest.fixture
def open_panel(qtbot):
    made = []

    def make(key):
        p = panel_class(key)()
        qtbot.addWidget(p)
        p.resize(1400, 850)
        p.show()
        qtbot.waitUntil(lambda: p.snapshot is not None, timeout=60000)
        made.append(p)
        return p

    yield make
    for p in made:
        p.shutdown()


def write_vectors(path, n=2500, d=64):
    rng = np.random.default_rng(0)
    X = np.round(rng.random((n, d)), 5)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(f"f{i}" for i in range(d)) + ",label\n")
        for i in range(n):
            fh.write(",".join(map(repr, X[i].tolist())) + f",{i % 4}\n")
    return X


@pytest.mark.parametrize("key", ["perceptron", "mlp"])
def test_a_five_megabyte_field_is_refused_with_a_short_message(open_panel, qtbot, key, tmp_path):
    panel = open_panel(key)
    before = panel.params
    path = tmp_path / "field.csv"
    path.write_text("x1,x2,label\n1,2,0\n1," + "9" * 5_000_000 + ",1\n", encoding="utf-8")
    panel.open_data(str(path))  # over DATA_BACKGROUND_BYTES: read in a thread, refused there
    qtbot.waitUntil(lambda: "characters long" in panel.banner.text(), timeout=30000)
    qtbot.waitUntil(lambda: not panel.busy, timeout=30000)
    assert panel.params == before
    assert len(panel.banner.text()) < 600


def test_a_large_file_is_read_in_a_thread_while_the_window_handles_events(open_panel, qtbot, tmp_path, monkeypatch):
    import nnsim.panels.tsne as tsne_panel
    from nnsim.panels import base

    panel = open_panel("tsne")
    path = tmp_path / "vectors.csv"
    write_vectors(path)
    monkeypatch.setattr(base, "DATA_BACKGROUND_BYTES", 500_000)  # a 1.3 MB file is "large" here
    assert path.stat().st_size > base.DATA_BACKGROUND_BYTES
    original = tsne_panel.load_data_file
    readers, gui_ran = [], threading.Event()

    def spy(p, label):
        readers.append(threading.current_thread())
        # the read finishes only once the GUI thread has run a timer: were it blocked, it never would
        readers.append(gui_ran.wait(20))
        return original(p, label)

    monkeypatch.setattr(tsne_panel, "load_data_file", spy)
    shown = []
    real_show = panel.show_message
    monkeypatch.setattr(panel, "show_message", lambda text, kind="info": (shown.append(text), real_show(text, kind)))
    assert panel.open_data(str(path))
    QTimer.singleShot(20, gui_ran.set)
    qtbot.waitUntil(lambda: panel.params.dataset == "file", timeout=60000)
    assert readers[0] is not threading.main_thread() and readers[1] is True
    qtbot.waitUntil(lambda: not panel.busy, timeout=60000)
    assert any("Loaded vectors.csv" in t for t in shown), shown  # (the next state's status follows it)
    assert panel._file_n == 2500  # every row of the file was read


def test_cancelling_a_large_read_changes_nothing(open_panel, qtbot, tmp_path, monkeypatch):
    import nnsim.panels.tsne as tsne_panel
    from nnsim.engine.base import report_progress
    from nnsim.panels import base

    panel = open_panel("tsne")
    before = panel.params
    path = tmp_path / "vectors.csv"
    write_vectors(path, n=200)
    monkeypatch.setattr(base, "DATA_BACKGROUND_BYTES", 1000)
    gate = threading.Event()

    def slow(p, label):
        while not gate.wait(0.01):
            report_progress(None, "reading…")

    monkeypatch.setattr(tsne_panel, "load_data_file", slow)
    try:
        assert panel.open_data(str(path))
        job = panel._nnsim_load
        qtbot.waitUntil(lambda: job.dialog.isVisible(), timeout=5000)
        job.dialog.canceled.emit()
        qtbot.waitUntil(lambda: "cancelled" in panel.banner.text(), timeout=5000)
    finally:
        gate.set()
    assert panel.params == before and not panel.busy
