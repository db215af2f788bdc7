"""The panel base with a small fake simulation: progress on the busy cover while the first state is
computed, the "preparing the engine" note while kernels compile, and drawing only what is seen."""

from __future__ import annotations

import threading

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QTabWidget, QVBoxLayout

from nnsim.engine.base import RUNNING, SimulationBase, Snapshot, report_progress
from nnsim.panels.base import Panel

GATES: dict[str, threading.Event] = {}


class GatedSim(SimulationBase):
    """Reports progress while "computing" its first state until the "build" gate opens; its
    kernel preparation waits for the "prepare" gate."""

    def __init__(self, params=None, seed=0):
        super().__init__(params, seed)
        k = 0
        while not GATES["build"].wait(0.02):
            report_progress(min(0.9, k / 100), f"affinities of row {k}")
            k += 1
        self.reset(seed)

    def reset(self, seed):
        self.seed, self.step_count, self.status = seed, 0, RUNNING

    def step(self, n=1):
        self.step_count += n

    def snapshot(self):
        return Snapshot(self.step_count, self.status, "")

    def prepare(self):
        assert GATES["prepare"].wait(20)


class GatedPanel(Panel):
    key = "gated"
    title = "Gated"

    def make_simulation(self, params, seed):
        return GatedSim(params, seed)

    def build_views(self, area):
        lay = QVBoxLayout(area)
        self.tabs = QTabWidget()
        self.front, self.back = pg.PlotWidget(), pg.PlotWidget()
        self.front_curve, self.back_curve = self.front.plot([], []), self.back.plot([], [])
        self.tabs.addTab(self.front, "front")
        self.tabs.addTab(self.back, "back")
        lay.addWidget(self.tabs)
        self.drawn = {"front": 0, "back": 0}

    def render_snapshot(self, snap):
        for name, view, curve in (("front", self.front, self.front_curve), ("back", self.back, self.back_curve)):
            if self.view_shown(view):
                curve.setData([0, snap.step_count], [0, 1])
                self.drawn[name] += 1


@pytest.fixture
def gates():
    GATES.clear()
    GATES.update(build=threading.Event(), prepare=threading.Event())
    yield GATES
    for gate in GATES.values():
        gate.set()


def open_panel(qtbot):
    panel = GatedPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    return panel


def test_the_cover_shows_the_first_states_progress_then_the_kernels_note(qtbot, gates, monkeypatch):
    panel = open_panel(qtbot)
    try:
        cover = panel._busy_cover
        qtbot.waitUntil(lambda: cover.isVisible() and cover.bar.isVisible(), timeout=5000)
        qtbot.waitUntil(lambda: "affinities of row" in cover.detail.text() and cover.bar.value() > 0, timeout=5000)
        assert panel.busy and panel.snapshot is None
        # the first state arrives: the cover goes; the kernels are still being prepared
        monkeypatch.setattr(panel, "kernels_ready", lambda: (2, 7))
        gates["build"].set()
        qtbot.waitUntil(lambda: panel.snapshot is not None and not cover.isVisible(), timeout=5000)
        qtbot.waitUntil(lambda: "2 of 7 kernels ready" in panel.banner.text(), timeout=5000)
        assert panel.banner.isVisible() and "Play" in panel.banner.text()
        # a Play pressed now starts once they are ready
        panel.transport.play_button.click()
        qtbot.wait(100)
        assert not panel.runner.playing and panel.snapshot.step_count == 0
        gates["prepare"].set()
        qtbot.waitUntil(lambda: panel.runner.playing and panel.snapshot.step_count > 0, timeout=5000)
        assert panel.runner.prepared
        assert not panel.banner.isVisible() or "kernels" not in panel.banner.text()  # the note is gone
        panel.runner.pause()
        qtbot.waitUntil(lambda: not panel.runner.playing, timeout=5000)
    finally:
        panel.shutdown()


def test_a_hidden_tab_is_drawn_only_when_shown_or_exported(qtbot, gates):
    gates["build"].set(), gates["prepare"].set()
    panel = open_panel(qtbot)
    try:
        qtbot.waitUntil(lambda: panel.snapshot is not None and panel.runner.prepared, timeout=5000)
        qtbot.wait(50)
        back = panel.drawn["back"]
        for k in range(3):
            old = panel.snapshot
            panel.runner.step(2)
            qtbot.waitUntil(lambda: panel.snapshot is not old, timeout=5000)
        assert panel.drawn["back"] == back and panel.drawn["front"] >= 3  # the hidden tab was skipped
        assert panel.back_curve.getData()[0] is None or panel.back_curve.getData()[0][-1] != 6
        panel.draw_all_views()  # as an export does
        assert panel.back_curve.getData()[0][-1] == 6
        old = panel.snapshot
        panel.runner.step(1)
        qtbot.waitUntil(lambda: panel.snapshot is not old, timeout=5000)
        drawn = panel.drawn["back"]
        panel.tabs.setCurrentIndex(1)  # shown: brought up to date without waiting for a frame
        qtbot.waitUntil(lambda: panel.drawn["back"] == drawn + 1, timeout=5000)
        assert panel.back_curve.getData()[0][-1] == 7
        front = panel.drawn["front"]
        panel.tabs.setCurrentIndex(0)  # the front tab was drawn at every frame: nothing to catch up
        qtbot.wait(50)
        assert panel.drawn["front"] == front + 1  # (the back tab was skipped once more meanwhile)
    finally:
        panel.shutdown()


def test_text_due_limits_tables_while_playing_only(qtbot, gates):
    gates["build"].set(), gates["prepare"].set()
    panel = open_panel(qtbot)
    try:
        qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=5000)
        assert all(panel.text_due("table") for _ in range(3))  # not playing: always
        panel.runner.playing = True  # (as the runner's signal sets it)
        assert panel.text_due("table") and not panel.text_due("table") and panel.text_due("other")
        panel.runner.playing = False
    finally:
        panel.shutdown()


def test_the_banner_keeps_its_place_so_the_views_are_not_resized(qtbot, gates):
    gates["build"].set(), gates["prepare"].set()
    panel = open_panel(qtbot)
    try:
        qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=5000)
        panel.show_message("A long message " * 20, "warn")  # several lines at 900 px
        qtbot.wait(20)
        tall, area = panel.banner.height(), panel.area.height()
        resized = []
        panel.front.resizeEvent = lambda ev, _r=panel.front.resizeEvent: (resized.append(1), _r(ev))
        for text in ("", "Short.", "", "A long message " * 10):
            panel.show_message(text, "info")
            qtbot.wait(20)
            assert panel.banner.isVisible() and panel.banner.height() == tall and panel.area.height() == area
        assert not resized and panel.banner.text().startswith("A long")
        assert panel.show_message("", "info") is None and panel.banner.text() == ""  # blank, not gone
        panel.resize(700, 600)  # a new width: the banner takes its text's height again
        qtbot.wait(20)
        panel.show_message("Short.", "ok")
        qtbot.wait(20)
        assert panel.banner.height() < tall
    finally:
        panel.shutdown()
