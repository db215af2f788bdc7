"""The Runner with a fake simulation: stepping, frame gating, errors, live parameters, shutdown."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from nnsim.engine.base import CONVERGED, RUNNING, Params, SimulationBase, Snapshot, param
from nnsim.runner import Runner


@dataclass(frozen=True)
class CountParams(Params):
    rate: float = param(1.0, label="rate", lo=0.0, hi=10.0, live=True)
    size: int = param(3, label="size", lo=1, hi=10)


class CountSim(SimulationBase):
    """Counts steps; optionally fails at a step or converges at a step."""

    params_class = CountParams

    def __init__(self, params=None, seed=0, fail_at=None, converge_at=None):
        super().__init__(params, seed)
        self.fail_at, self.converge_at = fail_at, converge_at
        self.snapshots = 0
        self.threads = set()
        self.resets = 0
        self.reset(seed)

    def reset(self, seed):
        self.seed = seed
        self.step_count = 0
        self.status = RUNNING
        self.resets += 1
        self.threads.add(threading.get_ident())

    def step(self, n=1):
        self.threads.add(threading.get_ident())
        for _ in range(n):
            if self.fail_at is not None and self.step_count + 1 == self.fail_at:
                raise FloatingPointError("boom at step %d" % self.fail_at)
            self.step_count += 1
            if self.converge_at is not None and self.step_count >= self.converge_at:
                self.status = CONVERGED
                return

    def snapshot(self):
        self.snapshots += 1
        return Snapshot(self.step_count, self.status, "")


class Recorder:
    def __init__(self, runner, ack=True):
        self.snaps, self.errors = [], []
        self.runner = runner
        self.ack = ack
        runner.snapshot_ready.connect(self._on_snap)
        runner.failed.connect(self.errors.append)

    def _on_snap(self, s):
        self.snaps.append(s)
        if self.ack:
            self.runner.ack()

    @property
    def count(self):
        return self.snaps[-1].step_count if self.snaps else None


@pytest.fixture
def make_runner(qtbot):
    made = []

    def make(**kw):
        holder = {}

        def factory():
            holder["sim"] = CountSim(**kw)
            return holder["sim"]

        r = Runner(factory)
        made.append(r)
        rec = Recorder(r)
        qtbot.waitUntil(lambda: bool(rec.snaps), timeout=5000)
        return r, rec, holder

    yield make
    for r in made:
        r.shutdown()


def test_step_one_and_n_are_exact(make_runner, qtbot):
    runner, rec, holder = make_runner()
    assert rec.count == 0
    runner.step(1)
    qtbot.waitUntil(lambda: rec.count == 1, timeout=5000)
    runner.step(25)
    qtbot.waitUntil(lambda: rec.count == 26, timeout=5000)
    with qtbot.waitSignal(runner.snapshot_ready, timeout=5000):
        runner.step(1)
    assert rec.count == 27 == holder["sim"].step_count
    assert not runner.playing
    # every mutation happened in the worker thread, never in the GUI thread
    assert threading.get_ident() not in holder["sim"].threads


def test_play_pause_delivers_final_state(make_runner, qtbot):
    runner, rec, holder = make_runner()
    runner.set_speed(0)
    with qtbot.waitSignal(runner.playing_changed, timeout=5000):
        runner.play()
    qtbot.waitUntil(lambda: holder["sim"].step_count > 5000, timeout=10000)
    with qtbot.waitSignal(runner.playing_changed, timeout=5000) as blocker:
        runner.pause()
    assert blocker.args == [False]
    qtbot.waitUntil(lambda: rec.count == holder["sim"].step_count, timeout=5000)
    # frames were dropped: far fewer snapshots than steps
    assert len(rec.snaps) < holder["sim"].step_count / 10


def test_no_new_frame_until_ack(qtbot):
    holder = {}
    runner = Runner(lambda: holder.setdefault("sim", CountSim()))
    rec = Recorder(runner, ack=False)
    try:
        qtbot.waitUntil(lambda: len(rec.snaps) == 1, timeout=5000)
        runner.set_speed(0)
        runner.play()
        qtbot.waitUntil(lambda: holder["sim"].step_count > 20000, timeout=10000)
        assert len(rec.snaps) == 1  # the panel never acknowledged: no frame was sent (none queued)
        runner.ack()
        qtbot.waitUntil(lambda: len(rec.snaps) == 2, timeout=5000)
        runner.pause()
        qtbot.waitUntil(lambda: not runner.playing, timeout=5000)
    finally:
        assert runner.shutdown()


def test_a_panel_slow_to_draw_leaves_the_gui_thread_free(qtbot):
    """Drawing a frame takes 60 ms, twice the 30 fps interval: frames must slow down so that the
    GUI thread stays mostly idle, and its timers keep firing (before the fix, a 10 ms timer did not
    fire once in several seconds and the event loop never returned)."""
    import time

    from PySide6.QtCore import QTimer

    from nnsim.runner import GUI_SHARE

    holder = {}
    runner = Runner(lambda: holder.setdefault("sim", CountSim()))
    drawing = []

    frames = []

    def draw(snap):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.06:  # busy, like a heavy plot update
            pass
        frames.append((t0, time.perf_counter()))
        drawing.append(time.perf_counter() - t0)
        runner.ack()

    runner.snapshot_ready.connect(draw)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    try:
        qtbot.waitUntil(lambda: len(drawing) == 1, timeout=5000)
        # a steady 2000 steps/s, not "as fast as possible": this pure-Python CountSim would hold the
        # GIL in long loops and starve the GUI thread by itself (measured: 8 s per frame after other
        # tests), which is not what this test is about; real kernels are nogil numba
        runner.set_speed(2000)
        runner.play()
        timer.start(10)
        t0 = time.perf_counter()
        # counted, not timed: wait for frames however loaded the machine is (CI compiles kernels)
        qtbot.waitUntil(lambda: len(drawing) >= 8, timeout=30000)
        elapsed = time.perf_counter() - t0
        timer.stop()
        runner.pause()
        qtbot.waitUntil(lambda: not runner.playing, timeout=5000)
    finally:
        assert runner.shutdown()
    busy = sum(drawing[1:])
    assert len(drawing) >= 8  # it still animates
    assert busy / elapsed <= GUI_SHARE + 0.25  # (without pacing: about 1)
    # between two frames the event loop is idle long enough for the 10 ms timer to fire (without
    # pacing it never fired while frames kept coming); counted, not timed, so load cannot break it
    played = [f for f in frames if f[0] >= t0]
    idle = [any(end < t < start for t in ticks) for (_, end), (start, _) in zip(played, played[1:])]
    assert len(idle) >= 3 and sum(idle) >= 0.8 * len(idle)


class FallingSim(CountSim):
    """A loss that falls by one per step from 1000, rises by 50 at step 700 (then falls again)."""

    def watch_value(self):
        return None if self.step_count == 0 else 1000.0 - self.step_count + (50.0 if self.step_count >= 700 else 0.0)


def test_target_stops_on_the_exact_step_and_rearms(qtbot):
    holder = {}
    runner = Runner(lambda: holder.setdefault("sim", FallingSim()))
    rec = Recorder(runner)
    hits = []
    runner.target_reached.connect(lambda step, value: hits.append((step, value)))
    try:
        qtbot.waitUntil(lambda: len(rec.snaps) == 1, timeout=5000)
        runner.set_speed(0)
        runner.set_target(333.5)
        runner.play()
        qtbot.waitUntil(lambda: bool(hits) and not runner.playing and rec.count == 667, timeout=10000)
        assert hits == [(667, 333.0)] and holder["sim"].step_count == 667
        # Play again: already below the target, so it runs on; the value jumps above it at step 700
        # (1000 - 700 + 50 = 350) and falls back to 333 at step 717, where it stops again
        runner.play()
        qtbot.waitUntil(lambda: len(hits) == 2 and not runner.playing, timeout=10000)
        assert hits[1] == (717, 333.0) and rec.count == 717
        # no target: Step N runs all its steps
        runner.set_target(None)
        runner.step(100)
        qtbot.waitUntil(lambda: rec.count == 817 and not runner.playing, timeout=10000)
        assert len(hits) == 2
    finally:
        assert runner.shutdown()


def test_convergence_pauses_and_is_delivered(make_runner, qtbot):
    runner, rec, holder = make_runner(converge_at=500)
    runner.set_speed(0)
    runner.play()
    qtbot.waitUntil(lambda: rec.snaps[-1].status == CONVERGED, timeout=5000)
    qtbot.waitUntil(lambda: not runner.playing, timeout=5000)
    assert rec.count == 500


def test_engine_exception_is_reported_and_runner_survives(make_runner, qtbot):
    runner, rec, holder = make_runner(fail_at=3)
    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.step(10)
    assert "FloatingPointError" in blocker.args[0] and "boom at step 3" in blocker.args[0]
    qtbot.waitUntil(lambda: not runner.playing, timeout=5000)
    runner.reset(7)
    qtbot.waitUntil(lambda: holder["sim"].resets == 2 and rec.count == 0, timeout=5000)
    runner.step(2)
    qtbot.waitUntil(lambda: rec.count == 2, timeout=5000)


def test_live_and_structural_params(make_runner, qtbot):
    runner, rec, holder = make_runner()
    runner.step(5)
    qtbot.waitUntil(lambda: rec.count == 5, timeout=5000)
    with qtbot.waitSignal(runner.params_applied, timeout=5000) as live:
        runner.set_params(CountParams(rate=2.0))
    assert live.args == [True] and holder["sim"].step_count == 5
    with qtbot.waitSignal(runner.params_applied, timeout=5000) as structural:
        runner.set_params(CountParams(rate=2.0, size=4))
    assert structural.args == [False]
    qtbot.waitUntil(lambda: rec.count == 0, timeout=5000)


def test_limited_speed_still_advances(make_runner, qtbot):
    runner, rec, holder = make_runner()
    runner.set_speed(30)
    runner.play()
    qtbot.waitUntil(lambda: (rec.count or 0) >= 3, timeout=5000)
    runner.pause()
    qtbot.waitUntil(lambda: not runner.playing, timeout=5000)
    assert holder["sim"].step_count < 1000


def test_shutdown_while_playing_stops_thread(qtbot):
    before = Runner.live_count()
    runner = Runner(lambda: CountSim())
    Recorder(runner)
    runner.set_speed(0)
    runner.play()
    qtbot.waitUntil(lambda: runner.playing, timeout=5000)
    assert Runner.live_count() == before + 1
    assert runner.shutdown()
    assert not runner.is_running()
    assert Runner.live_count() == before


def test_factory_error_is_reported(qtbot):
    def bad():
        raise ValueError("no such data set")

    runner = Runner(bad)
    try:
        with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
            pass
        assert "no such data set" in blocker.args[0]
    finally:
        runner.shutdown()


def test_play_stops_at_the_requested_step(make_runner, qtbot):
    runner, rec, holder = make_runner()
    runner.set_speed(0)
    runner.set_stop_at(12345)
    runner.play()
    qtbot.waitUntil(lambda: rec.count == 12345 and not runner.playing, timeout=10000)
    assert holder["sim"].step_count == 12345
    runner.set_stop_at(0)
    runner.play()  # past the stop: plays on
    qtbot.waitUntil(lambda: (rec.count or 0) > 12345 + 1000, timeout=10000)
    runner.pause()
    qtbot.waitUntil(lambda: not runner.playing, timeout=5000)


class StuckSim(CountSim):
    """A simulation whose advance() can make no progress (every run has stopped)."""

    def advance(self, n):
        return 0


def test_play_pauses_when_no_progress_is_possible(qtbot):
    runner = Runner(lambda: StuckSim())
    rec = Recorder(runner)
    try:
        qtbot.waitUntil(lambda: bool(rec.snaps), timeout=5000)
        with qtbot.waitSignal(runner.playing_changed, timeout=5000,
                              check_params_cb=lambda playing: playing is False):
            runner.play()
        assert len(rec.snaps) <= 3 and not runner.playing
    finally:
        runner.shutdown()


class SlowPrepareSim(CountSim):
    """Its kernels take a while to prepare, and its construction reports progress."""

    def __init__(self, release: threading.Event, **kw):
        from nnsim.engine.base import report_progress

        for k in range(50):  # (reports far faster than 10 per second: most are dropped)
            report_progress(k / 50, f"chunk {k} of 50")
        report_progress(1.0, "done")
        self.release = release
        self.prepared_in = None
        super().__init__(**kw)

    def prepare(self):
        self.prepared_in = threading.get_ident()
        assert self.release.wait(10)


def test_kernels_are_prepared_after_the_first_state_and_play_waits_for_them(qtbot):
    """The first state comes at once; prepare() runs next in the worker; a Play pressed meanwhile
    starts as soon as it returns (it is queued behind it, never lost)."""
    release = threading.Event()
    holder = {}
    runner = Runner(lambda: holder.setdefault("sim", SlowPrepareSim(release)))
    rec = Recorder(runner)
    states, progress = [], []
    runner.preparing.connect(lambda busy, _m: states.append(busy))
    runner.progress.connect(lambda f, t: progress.append((f, t)))
    try:
        qtbot.waitUntil(lambda: bool(rec.snaps) and states == [True], timeout=5000)
        assert not runner.prepared
        runner.set_speed(0)
        runner.play()
        qtbot.wait(200)
        assert holder["sim"].step_count == 0 and not runner.playing  # waiting for the kernels
        release.set()
        qtbot.waitUntil(lambda: runner.prepared and runner.playing and holder["sim"].step_count > 100,
                        timeout=5000)
        assert states == [True, False]
        assert holder["sim"].prepared_in not in (None, threading.get_ident())  # in the worker
        # progress reached the GUI thread, thinned out to a few, the last one always
        assert progress[0] == (0.0, "chunk 0 of 50") and progress[-1] == (1.0, "done")
        assert 2 <= len(progress) < 10
        runner.pause()
        qtbot.waitUntil(lambda: not runner.playing, timeout=5000)
    finally:
        release.set()
        assert runner.shutdown()


def test_frames_are_capped_at_the_screen_refresh_rate(qtbot):
    from nnsim.runner import screen_refresh_rate

    runner = Runner(lambda: CountSim())
    try:
        assert runner.max_fps == screen_refresh_rate() and 20 <= runner.max_fps <= 500
        assert Runner(lambda: CountSim(), parent=runner, max_fps=12).max_fps == 12
    finally:
        for r in runner.findChildren(Runner):
            r.shutdown()
        runner.shutdown()


class ReportingSim(CountSim):
    """Reports progress in every reset (as t-SNE does while it recomputes P)."""

    def reset(self, seed):
        from nnsim.engine.base import report_progress

        report_progress(1.0, f"reset {seed}")
        super().reset(seed)


def test_progress_from_a_later_command_reaches_the_gui(qtbot):
    """The sink is set once when the worker starts; PySide runs each later slot with a fresh Python
    thread state, so it is kept by thread id (a threading.local came back empty there)."""
    runner = Runner(lambda: ReportingSim())
    rec = Recorder(runner)
    texts = []
    runner.progress.connect(lambda _f, t: texts.append(t))
    try:
        qtbot.waitUntil(lambda: bool(rec.snaps) and "reset 0" in texts, timeout=5000)
        runner.reset(7)
        qtbot.waitUntil(lambda: "reset 7" in texts, timeout=5000)
    finally:
        assert runner.shutdown()
