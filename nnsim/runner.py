"""The one worker abstraction every panel uses to run a simulation off the GUI thread.

``Runner`` lives in the GUI thread and is the panel's only handle on the simulation. It forwards
commands (play, pause, step, reset, set_params, invoke) as queued signals to a ``_Worker`` that owns
the simulation inside its own ``QThread``. Every mutation of the simulation happens there, between
two ticks of a zero-interval ``QTimer``, so the simulation needs no locks and queued commands are
delivered even while it plays.

Right after the first snapshot the worker calls ``sim.prepare()`` (compile or load the kernels;
``preparing`` says so), so a Play pressed meanwhile starts as soon as they are ready. Long work in
the simulation reports ``progress`` (``nnsim.engine.report_progress``) for the panel's busy cover.

Snapshots come back through two gates: at most ``max_fps`` per second (the screen's refresh rate
unless given), and none while the panel has not acknowledged (``ack()``) the previous one.
Intermediate frames are dropped, never queued; the final state after a step, a reset, a pause or a
halt (convergence, divergence) is always delivered.

The panel acknowledges a frame only once the GUI thread is idle again (after drawing and painting),
with the time from receiving the frame to that moment: frames are spaced at least ``1 / GUI_SHARE``
times that cost apart, so drawing never takes more than ``GUI_SHARE`` of the GUI thread, however
slow a frame is to draw. Without that, a frame that takes longer to draw than the frame interval keeps the
GUI thread busy forever: input stays responsive but Qt timers starve.
"""

from __future__ import annotations

import atexit
import functools
import math
import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, QTimer, Qt, Signal, Slot

from nnsim.engine.base import RUNNING, set_progress_sink

_gc_timer: QTimer | None = None


def collect_garbage_in_gui_thread(interval_ms: int = 500) -> None:
    """Run Python's cycle collector only in the GUI thread, on a timer (idempotent).

    Left automatic, the collector runs in whichever thread happens to allocate: a worker thread
    importing scikit-learn then destroyed Qt objects of a closed window (plot menus, widgets). Their
    destructors take Qt's locks in the worker while the GUI thread, holding the GIL, waits for those
    locks: the app froze for good (measured: the layout test hung 25 min at 0 % CPU; gdb showed the
    worker in ``~QObject`` under ``gc_collect_main`` and the GUI thread in ``~QMenu``). Collecting
    cycles from a GUI-thread timer instead (as pyqtgraph recommends) deletes Qt objects only where
    they live; reference counting still frees everything else at once in every thread.
    """
    global _gc_timer
    if _gc_timer is not None:
        return
    import gc

    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    if app is None:
        return
    thresholds = gc.get_threshold()
    gc.disable()

    def check():
        counts = gc.get_count()
        for gen in (2, 1, 0):  # the oldest generation due, as the automatic collector would
            if counts[gen] > thresholds[gen]:
                gc.collect(gen)
                break

    _gc_timer = QTimer(app)
    _gc_timer.setObjectName("nnsim-gc")
    _gc_timer.timeout.connect(check)
    _gc_timer.start(interval_ms)


#: target duration of one chunk of steps when playing as fast as possible
CHUNK_SECONDS = 0.008
#: the largest share of the GUI thread's time that drawing frames may take: 0.7 leaves a third
#: of every frame interval to input and timers (a 20 ms frame is followed by 9 ms idle at 34
#: frames/s); how long the window can stall is the cost of one frame, not this share
GUI_SHARE = 0.7
#: the same at "as fast as possible" (and Step N): drawing holds the GIL, which the engine's Python
#: between kernel calls (and its snapshots) needs too; at 0.7 a heavy panel left the engine a third
#: of its headless rate, at 0.2 it keeps most of it and the picture still moves several times a second
FAST_GUI_SHARE = 0.2
#: however slow the last frames were to draw (or to be acknowledged), a playing run shows a frame
#: at least this often: at FAST_GUI_SHARE, one 2 s acknowledgement spaced the next frame 10 s away
MAX_FRAME_INTERVAL = 1.0


def screen_refresh_rate() -> float:
    """The primary screen's refresh rate in Hz (60 when unknown): the most frames worth drawing."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    screen = app.primaryScreen() if isinstance(app, QGuiApplication) else None
    rate = screen.refreshRate() if screen is not None else 0.0
    return float(rate) if 20.0 <= rate <= 500.0 else 60.0


class _Worker(QObject):
    snapshot_ready = Signal(object)
    failed = Signal(str)
    playing_changed = Signal(bool)
    rate_measured = Signal(float)
    params_applied = Signal(bool)
    stopped = Signal()
    answered = Signal(int, object, str)
    target_reached = Signal(int, float)
    progress = Signal(float, str)
    preparing = Signal(bool, object)
    opened = Signal(bool, str)

    def __init__(self, factory: Callable[[], Any], max_fps: float, maker=None):
        super().__init__()
        self._factory = factory
        self._maker = maker
        self.sim = None
        self._timer: QTimer | None = None
        self._playing = False
        self._budget: int | None = None  # steps left for Step / Step N; None while playing freely
        self._speed = 0.0  # steps per second; 0 = as fast as possible
        self._stop_at = 0  # Play pauses when the step count reaches this (0: never)
        self._target: float | None = None  # Play pauses when sim.watch_value() falls to this
        self._target_armed = False
        self._target_hit: tuple[int, float] | None = None
        self._chunk = 1
        self._due = 0.0
        self._last_tick = 0.0
        self._min_interval = 1.0 / max_fps
        self._last_emit = 0.0
        self._acked = True
        self._pending = False  # a frame was dropped and must follow when the panel acks
        self._gui_cost = 0.0  # smoothed GUI-thread seconds per frame (receipt to idle), from the acks
        self._frame_timer: QTimer | None = None
        self._rate = 0.0
        self._rate_t0 = 0.0
        self._rate_n0 = 0
        self._progress_t = 0.0

    # ---- lifecycle (all slots run in the worker thread)
    @Slot()
    def start(self):
        self._timer = QTimer(self)
        self._timer.setSingleShot(False)
        self._timer.timeout.connect(self._tick)
        self._frame_timer = QTimer(self)
        self._frame_timer.setSingleShot(True)
        self._frame_timer.timeout.connect(self._emit_pending)
        set_progress_sink(self._progress)
        try:
            self.sim = self._factory()
        except Exception as exc:  # noqa: BLE001 - reported, never raised into Qt
            self._fail(exc)
            return
        self._emit(force=True)
        self._prepare()

    def _prepare(self):
        """Compile or load the kernels now, before any queued Play runs (a Play pressed meanwhile
        starts as soon as they are ready); the panel says so if it takes long."""
        prepare = getattr(self.sim, "prepare", None)
        if prepare is None:
            return
        self.preparing.emit(True, tuple(getattr(self.sim, "kernel_modules", ())))
        try:
            prepare()
        except Exception as exc:  # noqa: BLE001 - the steps compile what they need anyway
            self._fail(exc)
        finally:
            self.preparing.emit(False, ())

    def _progress(self, fraction, text: str):
        """The simulation's report_progress (this thread): at most 10 per second reach the GUI."""
        now = time.perf_counter()
        done = fraction is not None and fraction >= 1.0
        if now - self._progress_t < 0.1 and not done:
            return
        self._progress_t = now
        self.progress.emit(-1.0 if fraction is None else float(fraction), str(text))

    @Slot()
    def stop(self):
        self._playing = False
        if self._timer is not None:
            self._timer.stop()
        if self._frame_timer is not None:
            self._frame_timer.stop()
        set_progress_sink(None)
        self.stopped.emit()

    # ---- commands
    @Slot()
    def play(self):
        if self.sim is None:
            return
        self._budget = None
        self._set_playing(True)

    @Slot()
    def pause(self):
        was = self._playing
        self._set_playing(False)
        if was:
            self._emit(force=True)

    @Slot(int)
    def step(self, n: int):
        if self.sim is None:
            return
        self._budget = max(1, int(n))
        self._set_playing(True)

    @Slot(float)
    def set_speed(self, steps_per_second: float):
        self._speed = max(0.0, float(steps_per_second))
        self._due = 0.0

    @Slot(int)
    def set_stop_at(self, step: int):
        self._stop_at = max(0, int(step))

    @Slot(object)
    def set_target(self, value):
        """Pause when ``sim.watch_value()`` becomes <= value (None: no such condition). A target the
        run is already below when Play starts is ignored until the value rises above it again."""
        self._target = None if value is None else float(value)
        self._arm_target()

    @Slot(int)
    def reset(self, seed: int):
        self._set_playing(False)
        if self.sim is None:
            try:
                self.sim = self._factory()
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)
                return
        self._guarded(lambda: self.sim.reset(int(seed)))
        self._emit(force=True)

    @Slot(object)
    def set_params(self, params):
        if self.sim is None:
            return
        try:
            live = bool(self.sim.set_params(params))
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
            return
        if not live:
            self._set_playing(False)
        self.params_applied.emit(live)
        self._emit(force=True)

    @Slot(str, object)
    def invoke(self, method: str, args):
        if self.sim is None:
            return
        self._set_playing(False)
        self._guarded(lambda: getattr(self.sim, method)(*args))
        self._emit(force=True)

    @Slot(object, int, object, object)
    def open_state(self, params, seed: int, state, step_count: int):
        """Replace the simulation by one built with ``params`` and ``seed`` in which ``state`` (a saved
        experiment's; None: replay ``step_count`` steps) was checked and restored. Nothing changes
        unless every part succeeds: a refused file leaves the running simulation as it was."""
        self._set_playing(False)
        try:
            if self._maker is None:
                raise RuntimeError("this runner cannot build a simulation from saved parameters")
            new = self._maker(params, int(seed))
            if state is not None:
                check = getattr(new, "check_state", None)
                if check is not None:
                    check(state)
                new.set_state(params, state)
            elif step_count:
                new.step(int(step_count))
            new.snapshot()  # (a state that cannot even be summarised is refused here)
        except Exception as exc:  # noqa: BLE001 - every refusal becomes a message
            from nnsim.engine.state import StateError, quote

            text = str(exc) if isinstance(exc, StateError) else f"{type(exc).__name__}: {quote(str(exc), 160)}"
            self.opened.emit(False, text)
            return
        self.sim = new
        self.opened.emit(True, "")
        self._emit(force=True)

    @Slot(int, str, object)
    def query(self, token: int, method: str, args):
        """Call ``sim.<method>(*args)`` and send the result back (for saving: a copy of the state)."""
        if self.sim is None:
            self.answered.emit(token, None, "the simulation is not ready")
            return
        try:
            result = getattr(self.sim, method)(*args)
        except Exception as exc:  # noqa: BLE001 - the caller shows it
            self.answered.emit(token, None, f"{type(exc).__name__}: {exc}")
            return
        self.answered.emit(token, result, "")

    @Slot(float)
    def ack(self, cost: float = -1.0):
        """The panel has drawn the last frame; ``cost``: the seconds the GUI thread spent on it (from
        receiving it to being idle again); negative: unknown, the round trip is used instead."""
        if self._acked:
            return
        self._acked = True
        if cost < 0:
            cost = time.perf_counter() - self._last_emit
        self._gui_cost = cost if self._gui_cost == 0.0 else 0.5 * (self._gui_cost + cost)
        if self._pending:
            wait = self._frame_interval() - (time.perf_counter() - self._last_emit)
            if wait <= 0:
                self._emit(force=True)
            elif not self._frame_timer.isActive():
                self._frame_timer.start(int(1000 * wait) + 1)

    @Slot()
    def _emit_pending(self):
        if self._pending and self._acked:
            self._emit(force=True)

    def _frame_interval(self) -> float:
        """Seconds between two frames: the fps cap, or more when the GUI is slow to draw them
        (as fast as possible and Step N: the engine comes first, FAST_GUI_SHARE)."""
        share = GUI_SHARE if self._speed > 0 and self._budget is None else FAST_GUI_SHARE
        return max(self._min_interval, min(MAX_FRAME_INTERVAL, self._gui_cost / share))

    # ---- internals
    def _set_playing(self, playing: bool):
        if playing == self._playing:
            return
        self._playing = playing
        if playing:
            self._arm_target()
            self._last_tick = time.perf_counter()
            self._rate_t0, self._rate_n0 = self._last_tick, self.sim.step_count
            self._due = 0.0
            self._timer.start(0)
        else:
            self._timer.stop()
            self._budget = None
        self.playing_changed.emit(playing)

    def _guarded(self, fn) -> bool:
        try:
            fn()
            return True
        except Exception as exc:  # noqa: BLE001
            self._set_playing(False)
            self._fail(exc)
            return False

    def _fail(self, exc: BaseException):
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (in {tb[-1].name}, {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
        self.failed.emit(f"{type(exc).__name__}: {exc}{where}")

    @Slot()
    def _tick(self):
        if not self._playing or self.sim is None:
            return
        now = time.perf_counter()
        n = self._chunk
        limited = self._speed > 0 and self._budget is None  # Step N runs at full speed
        if limited:
            self._due = min(self._due + (now - self._last_tick) * self._speed, max(1.0, self._speed * 0.25))
            n = int(self._due)
            if n < 1:
                self._last_tick = now
                wait_ms = int(1000 * (1.0 - self._due) / self._speed)
                self._timer.setInterval(max(1, min(wait_ms, 50)))
                return
            # (an engine slower than the speed asked: a tick still takes about CHUNK_SECONDS, so
            # frames keep coming between ticks instead of one every quarter of a second)
            n = min(n, self._chunk)
            self._due -= n
        self._last_tick = now
        if self._budget is not None:
            n = min(n, self._budget)
        stop_at = self._stop_at if self._budget is None and self._stop_at > self.sim.step_count else 0
        if stop_at:
            n = min(n, stop_at - self.sim.step_count)
        before = self.sim.status
        t0 = time.perf_counter()
        done = [n]
        advance = self._advance_watched if self._target is not None else self._advance
        if not self._guarded(lambda: done.__setitem__(0, advance(n))):
            return
        n = done[0]
        dt = time.perf_counter() - t0
        # adapt the chunk so one tick takes about CHUNK_SECONDS
        if dt < CHUNK_SECONDS / 2 and n >= self._chunk:
            self._chunk = min(self._chunk * 2, 1 << 20)
        elif dt > CHUNK_SECONDS * 2 and self._chunk > 1:
            self._chunk = max(1, min(self._chunk, n) // 2)
        if not limited or self._due >= 1:
            self._timer.setInterval(0)
        self._measure_rate()
        # a status change, or a simulation that can make no progress at all (every run stopped),
        # pauses the run instead of spinning on identical snapshots
        halted = (self.sim.status != RUNNING and self.sim.status != before) or n == 0
        if self._budget is not None:
            self._budget -= n
            if self._budget <= 0:
                halted = True
        if stop_at and self.sim.step_count >= stop_at:
            halted = True
        if self._target_hit is not None:
            halted = True
            self.target_reached.emit(*self._target_hit)
            self._target_hit = None
        if halted:
            self._set_playing(False)
            self._emit(force=True)
        else:
            self._emit(force=False)

    def _advance(self, n: int) -> int:
        advance = getattr(self.sim, "advance", None)
        if advance is None:
            self.sim.step(n)
            return n
        return int(advance(n))

    def _watch(self) -> float | None:
        fn = getattr(self.sim, "watch_value", None)
        if fn is None:
            return None
        try:
            v = fn()
        except Exception:  # noqa: BLE001 - a broken monitor must not stop the run
            return None
        return float(v) if v is not None and math.isfinite(v) else None

    def _arm_target(self):
        if self._target is None or self.sim is None:
            self._target_armed = False
            return
        v = self._watch()
        self._target_armed = v is None or v > self._target

    def _advance_watched(self, n: int) -> int:
        """``n`` steps one at a time (at most CHUNK_SECONDS' worth), stopping on the very step where
        the watched value falls to the target from above it (armed); a value already at or below the
        target when Play starts only counts once it has risen above it again."""
        deadline = time.perf_counter() + CHUNK_SECONDS
        done = 0
        while done < n:
            k = self._advance(1)
            done += k
            v = self._watch()
            if self._target_armed and v is not None and v <= self._target:
                self._target_hit = (int(self.sim.step_count), v)
                self._target_armed = False
                break
            if v is None or v > self._target:
                self._target_armed = True
            if k == 0 or time.perf_counter() > deadline:
                break
        return done

    def _measure_rate(self):
        now = time.perf_counter()
        if now - self._rate_t0 >= 0.5:
            self._rate = (self.sim.step_count - self._rate_n0) / (now - self._rate_t0)
            self._rate_t0, self._rate_n0 = now, self.sim.step_count
            self.rate_measured.emit(self._rate)

    def _emit(self, force: bool):
        if self.sim is None:
            return
        now = time.perf_counter()
        if not force and (now - self._last_emit < self._frame_interval() or not self._acked):
            self._pending = True
            return
        try:
            snap = self.sim.snapshot()
        except Exception as exc:  # noqa: BLE001
            self._set_playing(False)
            self._fail(exc)
            return
        self._pending = False
        self._acked = False
        self._last_emit = now
        self.snapshot_ready.emit(snap)


def _stop_worker(thread: QThread, worker, timeout_ms: int = 5000, *_args) -> bool:
    """Stop the worker's timers in its own thread, quit its event loop and join it (idempotent)."""
    try:
        if thread.isRunning():
            if threading.current_thread() is threading.main_thread():
                from PySide6.QtCore import QMetaObject

                QMetaObject.invokeMethod(worker, "stop", Qt.ConnectionType.BlockingQueuedConnection)
            thread.quit()
            if not thread.wait(timeout_ms):
                return False
    except RuntimeError:  # (Qt objects already deleted: nothing left to stop)
        pass
    Runner._live.pop(thread, None)
    return True


def stop_all_runners(timeout_ms: int = 5000) -> None:
    """Stop every runner thread still running (application quit, interpreter exit)."""
    for thread, worker in list(Runner._live.items()):
        _stop_worker(thread, worker, timeout_ms)


_hooks_installed = False


def _install_exit_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop_all_runners)
    atexit.register(stop_all_runners)  # sys.exit() while playing, `del window`, no close() at all
    _hooks_installed = True


class Runner(QObject):
    """Runs one simulation in its own thread. Create in the GUI thread; call ``shutdown()`` when done.

    ``factory`` builds the simulation; it is called inside the worker thread.
    Signals (delivered in the GUI thread): ``snapshot_ready(snapshot)``, ``failed(message)``,
    ``playing_changed(bool)``, ``rate_measured(steps_per_second)``, ``params_applied(live)``.
    """

    snapshot_ready = Signal(object)
    failed = Signal(str)
    playing_changed = Signal(bool)
    rate_measured = Signal(float)
    params_applied = Signal(bool)
    #: (step, value): Play paused because the watched value reached the target
    target_reached = Signal(int, float)
    #: (fraction in [0, 1] or -1 when unknown, text): long preparation work (engine.report_progress)
    progress = Signal(float, str)
    #: (True, kernel module names) while the simulation compiles or loads its kernels, then (False, ())
    preparing = Signal(bool, object)
    #: (True, "") when open_state replaced the simulation; (False, why) when it refused the state
    opened = Signal(bool, str)

    _play = Signal()
    _pause = Signal()
    _step = Signal(int)
    _reset = Signal(int)
    _speed = Signal(float)
    _params = Signal(object)
    _invoke = Signal(str, object)
    _ack = Signal(float)
    _stop_at = Signal(int)
    _target = Signal(object)
    _query = Signal(int, str, object)
    _open = Signal(object, int, object, object)

    _live: dict = {}  # running thread → its worker (kept alive until stopped)

    def __init__(self, factory: Callable[[], Any], parent: QObject | None = None, max_fps: float | None = None,
                 maker: Callable[[Any, int], Any] | None = None):
        super().__init__(parent)
        collect_garbage_in_gui_thread()  # before any worker thread runs Python
        if max_fps is None:  # as many frames as the screen shows, no more
            max_fps = screen_refresh_rate()
        self.max_fps = float(max_fps)
        self.playing = False
        self.prepared = False  # the simulation's kernels are ready (Runner.preparing went False)
        self.latest = None
        self._ack_queued = False
        self._received = 0.0
        self._thread = QThread()
        self._thread.setObjectName("nnsim-runner")
        self._worker = _Worker(factory, max_fps, maker)
        self._worker.moveToThread(self._thread)
        q = Qt.ConnectionType.QueuedConnection
        self._play.connect(self._worker.play, q)
        self._pause.connect(self._worker.pause, q)
        self._step.connect(self._worker.step, q)
        self._reset.connect(self._worker.reset, q)
        self._speed.connect(self._worker.set_speed, q)
        self._params.connect(self._worker.set_params, q)
        self._invoke.connect(self._worker.invoke, q)
        self._ack.connect(self._worker.ack, q)
        self._stop_at.connect(self._worker.set_stop_at, q)
        self._target.connect(self._worker.set_target, q)
        self._worker.target_reached.connect(self.target_reached, q)
        self._query.connect(self._worker.query, q)
        self._open.connect(self._worker.open_state, q)
        self._worker.opened.connect(self.opened, q)
        self._worker.answered.connect(self._on_answered, q)
        self._worker.progress.connect(self.progress, q)
        self._worker.preparing.connect(self._on_preparing, q)
        self._callbacks: dict[int, Callable] = {}
        self._next_token = 0
        self._worker.snapshot_ready.connect(self._on_snapshot, q)
        self._worker.failed.connect(self.failed, q)
        self._worker.playing_changed.connect(self._on_playing_changed, q)
        self._worker.rate_measured.connect(self.rate_measured, q)
        self._worker.params_applied.connect(self.params_applied, q)
        self._thread.started.connect(self._worker.start)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()
        Runner._live[self._thread] = self._worker
        # the thread is stopped whatever ends the runner: shutdown(), its parent (a panel, a window)
        # deleted without close(), the application quitting, or the interpreter exiting
        self.destroyed.connect(functools.partial(_stop_worker, self._thread, self._worker))
        _install_exit_hooks()

    @classmethod
    def live_count(cls) -> int:
        """Number of runner threads still running (tests use it to catch leaks)."""
        return sum(1 for t in cls._live if t.isRunning())

    # ---- commands (GUI thread)
    def play(self):
        self._play.emit()

    def pause(self):
        self._pause.emit()

    def toggle(self):
        (self.pause if self.playing else self.play)()

    def step(self, n: int = 1):
        self._step.emit(int(n))

    def reset(self, seed: int):
        self._reset.emit(int(seed))

    def set_speed(self, steps_per_second: float):
        """Steps per second; 0 means as fast as possible."""
        self._speed.emit(float(steps_per_second))

    def set_params(self, params):
        self._params.emit(params)

    def set_stop_at(self, step: int):
        """Play pauses when the step count reaches ``step`` (0: no such stop)."""
        self._stop_at.emit(int(step))

    def set_target(self, value: float | None):
        """Play pauses on the step where the simulation's ``watch_value()`` becomes <= ``value``
        (None: no target). ``target_reached(step, value)`` says so."""
        self._target.emit(None if value is None else float(value))

    def invoke(self, method: str, *args):
        """Call ``sim.<method>(*args)`` in the worker thread (pauses first), then send a snapshot."""
        self._invoke.emit(method, args)

    def ack(self):
        """The panel has drawn the last snapshot; the next one may come.

        The acknowledgement leaves once the GUI thread's queue is empty (a zero-time timer) and
        carries the time since the frame arrived, so the frame's cost includes painting, not only
        the panel's drawing code; the worker spaces frames by it (``GUI_SHARE``).
        """
        if not self._ack_queued:
            self._ack_queued = True
            QTimer.singleShot(0, self, self._send_ack)

    def _send_ack(self):
        self._ack_queued = False
        if self._thread.isRunning():
            cost = time.perf_counter() - self._received if self._received else -1.0
            self._ack.emit(cost)

    def open_state(self, params, seed: int, state, step_count: int = 0):
        """Replace the simulation by ``maker(params, seed)`` with ``state`` checked and restored in it
        (see _Worker.open_state); ``opened(ok, message)`` follows, then its snapshot if ok."""
        self._open.emit(params, int(seed), state, int(step_count))

    def query(self, method: str, *args, callback: Callable[[Any, str], None]):
        """Call ``sim.<method>(*args)`` in the worker; ``callback(result, error)`` runs in the GUI thread
        (``error`` is "" on success). The simulation keeps running."""
        self._next_token += 1
        self._callbacks[self._next_token] = callback
        self._query.emit(self._next_token, method, args)

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the timer inside the worker thread, then quit and join the thread."""
        self.playing = False
        return _stop_worker(self._thread, self._worker, timeout_ms)

    # ---- worker → GUI
    @Slot(int, object, str)
    def _on_answered(self, token: int, result, error: str):
        callback = self._callbacks.pop(token, None)
        if callback is not None:
            callback(result, error)

    @Slot(object)
    def _on_snapshot(self, snap):
        self._received = time.perf_counter()
        self.latest = snap
        self.snapshot_ready.emit(snap)

    @Slot(bool, object)
    def _on_preparing(self, busy: bool, modules):
        if not busy:
            self.prepared = True
        self.preparing.emit(busy, modules)

    @Slot(bool)
    def _on_playing_changed(self, playing: bool):
        self.playing = playing
        self.playing_changed.emit(playing)
