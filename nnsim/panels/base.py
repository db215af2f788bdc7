"""Panel: the shape every topic panel shares.

Left, the parameter form generated from the simulation's Params; top, the transport bar; below it a
message banner (convergence, divergence, engine errors); centre, the panel's plots. A panel owns one
:class:`~nnsim.runner.Runner`; it never calls the simulation itself, it only renders snapshots.

A subclass sets ``key``, ``title``, ``params_class`` and implements ``make_simulation(params, seed)``
(called in the worker thread), ``build_views(area)`` (build plot items once) and
``render_snapshot(snap)``
(a pure function of the snapshot: only ``setData`` and friends).
"""

from __future__ import annotations

import html
import time

import pyqtgraph as pg

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QGroupBox, QMessageBox, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from nnsim.engine.base import CONVERGED, DIVERGED, NOT_CONVERGED, Params
from nnsim.runner import Runner
from nnsim.widgets.busy import BusyCover
from nnsim.widgets.paramform import ParamForm
from nnsim.widgets.transport import TransportBar

_BANNER_STYLES = {
    "info": "background:#e8f1fb; color:#123; border:1px solid #9bbbe0;",
    "ok": "background:#e6f6e6; color:#0b3d0b; border:1px solid #8fcf8f;",
    "warn": "background:#fff4e0; color:#4a3000; border:1px solid #e8b860;",
    "error": "background:#fde8e8; color:#5a0000; border:1px solid #e08a8a;",
}
#: a banner with nothing to say keeps its place, without a frame
_BANNER_BLANK = "QLabel { background:transparent; border:1px solid transparent; padding:6px; }"
#: a recomputation shorter than this shows no "busy" cover (no flicker on quick resets)
BUSY_DELAY_MS = 150
#: kernels loaded from numba's cache take well under this; a compile (first run) takes seconds and
#: is announced after it (then the count is refreshed at this interval)
PREPARING_NOTE_MS = 700
#: how often the count of ready kernels is refreshed while they are prepared
KERNEL_POLL_MS = 300
#: data files larger than this are read off the GUI thread (see Panel.read_data_file)
DATA_BACKGROUND_BYTES = 2_000_000
#: while playing, tables and long captions are updated at most this often (seconds); see text_due
TEXT_INTERVAL = 0.125


class Panel(QWidget):
    key = "panel"
    title = "Panel"
    description = ""
    step_unit = "step"
    default_speed = 10.0
    params_class: type[Params] = Params
    #: name → parameter overrides (applied on top of the defaults); shown as a list above the form
    presets: dict[str, dict] = {}
    #: the preset the panel opens with (None: the Params defaults)
    default_preset: str | None = None
    #: what the transport's "stop when … ≤ target" watches (the simulation's ``watch_value()``);
    #: "" hides that condition
    target_label: str = ""
    target_default: float = 0.01
    target_decimals: int = 4

    #: (step_count, steps per second) for the main window's status bar
    stats_changed = Signal(int, float)
    #: path of an experiment file just written
    experiment_saved = Signal(str)
    #: (ok, message): load_experiment finished; a refused file changed nothing
    experiment_opened = Signal(bool, str)
    #: "What am I looking at?": a short help for students (HTML); see help_html()
    help_text = ""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.params = self.params_class()
        if self.default_preset:
            self.params = self.params.replace(**self.presets[self.default_preset])
        self.snapshot = None
        self._rate = 0.0
        self._closed = False
        self._target_note = ""

        self.form = ParamForm(self.params)
        self.transport = TransportBar(step_unit=self.step_unit, default_speed=self.default_speed,
                                      target_label=self.target_label, target_default=self.target_default,
                                      target_decimals=self.target_decimals)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.banner.hide()

        left = QWidget()
        left_lay = QVBoxLayout(left)
        self.preset_box = QComboBox()
        if self.presets:
            self.preset_box.addItem("Lecture presets…", None)
            for name in self.presets:
                self.preset_box.addItem(name, name)
            self.preset_box.setToolTip("Parameter sets that reproduce the lecture's examples")
            # long preset names must not widen the form: the box shrinks, its list shows them whole
            self.preset_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.preset_box.setMinimumContentsLength(16)
            self.preset_box.view().setMinimumWidth(self.preset_box.view().sizeHintForColumn(0) + 24)
            self.preset_box.activated.connect(self._on_preset)
            left_lay.addWidget(self.preset_box)
        box = QGroupBox("Parameters")
        QVBoxLayout(box).addWidget(self.form)
        left_lay.addWidget(box)
        self.side = QVBoxLayout()
        left_lay.addLayout(self.side)
        left_lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)

        self.area = QWidget()
        centre = QWidget()
        c_lay = QVBoxLayout(centre)
        c_lay.setContentsMargins(4, 4, 4, 4)
        c_lay.addWidget(self.transport)
        c_lay.addWidget(self.banner)
        c_lay.addWidget(self.area, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(centre)
        split.setStretchFactor(1, 1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

        self.build_views(self.area)
        from nnsim.widgets.plots import fit_plot

        for view in self.area.findChildren(pg.GraphicsView):  # titles wrap, log axes without "x1e+18"
            for item in view.scene().items():
                if isinstance(item, pg.PlotItem):
                    fit_plot(item)
        self._add_export_actions()
        # "busy" cover over the views while a structural change recomputes (t-SNE's P, a CNN): the
        # old picture is never shown beside the new form values; shown only if it takes > 150 ms
        self.busy = False
        self._awaiting_fresh = False
        self._busy_text = ""
        self._busy_cover = BusyCover(self.area)
        self.area.installEventFilter(self)
        # views on a hidden tab are not drawn (see view_shown); one shown again is brought up to date
        self._draw_hidden = False
        self._skipped = False  # the last drawing left a hidden view out
        self._text_times: dict[str, float] = {}
        self._redraw_queued = False
        for view in self.area.findChildren(pg.GraphicsView):
            view.installEventFilter(self)
        for tabs in self.area.findChildren(QTabWidget):
            tabs.currentChanged.connect(self._queue_redraw)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(lambda: self.set_busy(self._busy_text) if self._awaiting_fresh else None)
        # as wide as the form wants (nothing clipped), up to 430 px, when the screen has room; it may be
        # narrowed to 340 px (then it scrolls sideways) so that the window fits a 1280-pixel projector
        want = left.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 12
        scroll.setMinimumWidth(min(340, want))
        self._split, self._form_width = split, min(430, want)
        self._form_scroll = scroll
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

        params, seed = self.params, self.transport.seed()
        self.runner = Runner(lambda: self.make_simulation(params, seed), parent=self, maker=self.make_simulation)
        self._opening = None  # (params, seed, source) while load_experiment waits for the worker
        self.runner.opened.connect(self._on_opened_state)
        self.runner.set_speed(self.transport.speed())
        self.runner.snapshot_ready.connect(self._on_snapshot)
        self.runner.failed.connect(self._on_failed)
        self.runner.playing_changed.connect(self._on_playing_changed)
        self.runner.rate_measured.connect(self._on_rate)
        self.runner.params_applied.connect(self._on_params_applied)
        self.runner.progress.connect(self._on_progress)
        self.runner.preparing.connect(self._on_preparing)
        self._preparing_since = 0.0  # when the worker started preparing the kernels (0: not now)
        self._progress_at = 0.0  # when the simulation last reported progress
        self._prep_timer = QTimer(self)
        self._prep_timer.setInterval(KERNEL_POLL_MS)
        self._prep_timer.timeout.connect(self._show_preparing)
        self._prep_timer.start()
        self._prep_shown = False
        self.expect_fresh_state(self.busy_text(self.params))  # the first state: a large one takes a while
        self.transport.play_clicked.connect(self.runner.toggle)
        self.transport.step_clicked.connect(self.runner.step)
        self.transport.reset_clicked.connect(self._on_reset)
        self.transport.speed_changed.connect(self.runner.set_speed)
        self.transport.stop_changed.connect(self.runner.set_stop_at)
        self.transport.target_changed.connect(self.runner.set_target)
        self.runner.target_reached.connect(self._on_target_reached)
        self.form.params_changed.connect(self._on_params_edited)
        self.form.invalid.connect(lambda msg: self.show_message(msg, "error"))

    # ---- to implement in subclasses
    def make_simulation(self, params: Params, seed: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def build_views(self, area: QWidget) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def render_snapshot(self, snap) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def figures(self) -> dict:
        """Exportable figures: name → PlotItem / PlotWidget / QWidget. The whole panel is always offered."""
        return {}

    # ---- shared behaviour
    def set_params(self, params: Params) -> None:
        """Change parameters programmatically (presets, loaded experiments): form and runner follow."""
        params = params.validate()
        self.form.set_params(params)
        self._on_params_edited(params)

    # ---- experiments
    def thumbnail_png(self, width: int = 360) -> bytes:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice

        pix = self.grab().scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        pix.save(buf, "PNG")
        return bytes(data.data())

    def with_state(self, callback) -> None:
        """``callback(experiment, error)`` with an Experiment of the run as it stands (state copied in
        the worker, between two chunks, while the run goes on)."""
        from nnsim.experiment import Experiment

        params, seed = self.params, self.transport.seed()
        thumb = self.thumbnail_png()

        def done(state, error):
            if error:
                callback(None, error)
                return
            step = int(state.get("step_count", self.snapshot.step_count if self.snapshot else 0))
            callback(Experiment(panel=self.key, params=params.to_dict(), seed=seed, step_count=step,
                                state=state, thumbnail=thumb), "")

        self.runner.query("get_state", callback=done)

    def save_experiment(self, path) -> None:
        """Write the run to ``path`` (.nnsim); ``experiment_saved`` follows, or a banner with the error."""
        from nnsim.experiment import ExperimentError, save

        def done(exp, error):
            if error:
                self.show_message(f"<b>Could not save the experiment:</b> {error}", "error")
                return
            try:
                written = save(path, exp)
            except ExperimentError as exc:
                self.show_message(f"<b>Could not save the experiment:</b> {exc}", "error")
                return
            self.show_message(f"Saved the experiment to {written}", "info")
            self.experiment_saved.emit(str(written))

        self.with_state(done)

    def load_experiment(self, exp) -> None:
        """Restore parameters, seed and state: the next step gives the numbers the saved run would have.

        A new simulation is built with the saved parameters and seed in the worker, the state is
        checked against it and restored there, and only then does it replace the running one and the
        form take the saved values (``experiment_opened(ok, message)``); a refused file changes
        nothing that is open."""
        try:
            params = self.params_class.from_dict(exp.params)
        except Exception as exc:  # noqa: BLE001 - (load() checked them; a caller may not have)
            self._on_opened_state(False, f"parameter problem: {exc}")
            return
        self._opening = (params, int(exp.seed), getattr(exp, "source", ""))
        self.expect_fresh_state("Opening the experiment…")
        self.runner.open_state(params, int(exp.seed), exp.state, int(exp.step_count))

    def _on_opened_state(self, ok: bool, message: str) -> None:
        opening, self._opening = self._opening, None
        self._awaiting_fresh = False
        self.set_busy(None)
        if ok and opening is not None:
            params, seed, _source = opening
            self.params = params  # (first: the form's change signal then finds nothing to apply)
            self.form.set_params(params)
            self.transport.seed_spin.setValue(seed)
            self.banner.setProperty("kind", None)
        elif not ok:
            self.show_message(f"<b>Could not open the experiment:</b> {html.escape(message)}<br>"
                              "Nothing that was open has changed.", "error")
            self.banner.setProperty("kind", "error")
        self.experiment_opened.emit(ok, message)

    def help_html(self) -> str:
        return (f"<h2>{self.title}</h2><p>{self.description}</p>{self.help_text}"
                "<h3>Controls</h3><p>Space: play / pause · →: one step · Shift+→: N steps · R: reset to the "
                "seed · parameters marked ⟲ restart the run, the others apply live · right click on a plot: "
                "export it.</p>")

    def export_dialog(self, figure: str | None = None):
        """Open File > Export figure… for this panel, with ``figure`` preselected."""
        from nnsim.widgets.export_dialog import ExportDialog

        dialog = ExportDialog(self, self.window())
        if figure is not None:
            dialog.figure_box.setCurrentText(figure)
        dialog.open()
        return dialog

    def _add_export_actions(self):
        """Every plot's right-click menu gets "Export this figure…" (PNG, SVG or CSV + parameters), and
        hovering any plot shows the values of the nearest point."""
        from nnsim.widgets.hover import HoverValues

        self.hovers = {}
        for name, target in self.figures().items():
            plot_item = getattr(target, "getPlotItem", lambda: None)()
            if plot_item is not None:
                self.hovers[name] = HoverValues(target)
            if plot_item is None or not plot_item.menuEnabled():
                continue  # (a plot that uses right click itself, e.g. to remove points)
            menu = plot_item.vb.menu
            if menu is None:
                continue
            menu.addSeparator()
            action = menu.addAction("Export this figure (PNG, SVG, CSV)…")
            action.triggered.connect(lambda _checked=False, n=name: self.export_dialog(n))

    def apply_preset(self, name: str) -> None:
        """Defaults plus the preset's overrides; the run restarts from the current seed."""
        self.set_params(self.params_class().replace(**self.presets[name]))
        self.expect_fresh_state(self.busy_text(self.params))
        self.runner.reset(self.transport.seed())

    def _on_preset(self, index: int):
        name = self.preset_box.itemData(index)
        if name:
            self.apply_preset(name)
            self.show_message(f"Preset: <b>{name}</b>", "info")

    def show_message(self, html: str, kind: str = "info") -> None:
        """The banner above the plots. It keeps its place once shown: an empty message blanks it
        and a shorter one leaves its height, until the panel is resized. (Every change of its
        height resized every view of the panel: at the end of a fast run, hide + show + restyle
        cost a 250 ms stall.)"""
        if not html:
            if self.banner.isVisible() and self.banner.text():
                self._hold_banner_height()
                self.banner.setText("")
                self.banner.setStyleSheet(_BANNER_BLANK)
            return
        if html != self.banner.text() and self.banner.isVisible():
            self._hold_banner_height()
        # (called for every frame: a style sheet re-polishes the widget, set it only when it changes)
        style = f"QLabel {{{_BANNER_STYLES.get(kind, _BANNER_STYLES['info'])} padding:6px; border-radius:4px;}}"
        if style != self.banner.styleSheet():
            self.banner.setStyleSheet(style)
        if html != self.banner.text():
            self.banner.setText(html)
        self.banner.show()

    def _hold_banner_height(self) -> None:
        """The banner's height so far becomes its least (a longer text still makes it grow)."""
        h = self.banner.height()
        if h > self.banner.minimumHeight():
            self.banner.setMinimumHeight(h)

    def resizeEvent(self, event):  # noqa: N802 - Qt name
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.banner.setMinimumHeight(0)  # (a new width: the banner takes its text's height again)

    def show_file_error(self, path, exc, title: str = "Could not load data", lead: str | None = None) -> None:
        """A file that could not be read: banner plus a non-modal dialog (never exec(): the worker and
        the plots keep running); what is on screen stays. The dialog is kept as ``error_dialog``."""
        import os

        if lead is None:  # the data loaders' messages start with the file name: do not say it twice
            lead = ("Could not load the file:" if os.path.basename(str(path)) in str(exc)
                    else f"Could not load {path}:")
        self.show_message(f"<b>{html.escape(lead)}</b> {html.escape(str(exc))}<br>Nothing was changed.", "error")
        self.banner.setProperty("kind", "error")
        box = QMessageBox(QMessageBox.Icon.Warning, title, f"{path}\n\n{exc}\n\nNothing was changed.", parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_dialog = box

    def read_data_file(self, path, read, use) -> bool:
        """Open a user's data file: ``read(path)`` (no Qt; raises DataFileError) gives the data,
        ``use(data)`` puts it to work. A file over DATA_BACKGROUND_BYTES is read in a thread behind
        a progress dialog with Cancel, the window responsive; any problem is a message and nothing
        changes. Returns False when the file was refused at once."""
        import os

        from nnsim.engine.datafiles import DataFileError
        from nnsim.engine.state import quote

        from nnsim.widgets.loader import Cancelled, read_file

        def done(data, error):
            if self._closed:
                return
            if isinstance(error, Cancelled):
                self.show_message(f"Reading {html.escape(os.path.basename(str(path)))} was cancelled; "
                                  "nothing was changed.", "info")
            elif error is not None:
                if not isinstance(error, DataFileError):  # (a bug in a reader must not take the app down)
                    error = DataFileError(f"{type(error).__name__}: {quote(str(error), 120)}", path=path)
                self.show_file_error(path, error)
            else:
                use(data)

        return read_file(self, path, read, DATA_BACKGROUND_BYTES, done)

    def status_message(self, snap) -> tuple[str, str]:
        """Banner text and kind for a snapshot's status; panels may refine it."""
        kind = {CONVERGED: "ok", NOT_CONVERGED: "warn", DIVERGED: "error"}.get(snap.status, "info")
        return snap.message, kind

    def shutdown(self) -> None:
        """Stop the worker thread (idempotent). Called when the panel or the window closes."""
        if not self._closed:
            self._closed = True
            self.runner.shutdown()

    def showEvent(self, event):  # noqa: N802 - Qt name
        super().showEvent(event)
        if self._form_width:  # first show: the form at its full width when the window has room
            total = sum(self._split.sizes()) or self.width()
            form = min(self._form_width, max(340, total - 700))
            self._split.setSizes([form, max(1, total - form)])
            self._form_width = 0

    # ---- themes
    #: the View menu calls restyle() on every widget that says so
    nnsim_themed = True

    def restyle(self) -> None:
        """The theme or the text scale changed: recolour what the panel drew in theme colours and
        draw the last state again (its rich text carries the theme's colours)."""
        self.restyle_views()
        if self.snapshot is not None:
            try:
                self.render_snapshot(self.snapshot)
            except Exception:  # noqa: BLE001 - the next frame draws it again
                pass

    def restyle_views(self) -> None:
        """Hook: recolour items drawn in theme colours (plots.restyle_view already did axes, titles,
        labels and legends)."""

    # ---- busy state
    def busy_text(self, params: Params) -> str:
        """What the cover says while the run is rebuilt after a structural change (panels refine it)."""
        return "Computing the state for these parameters…"

    def _on_progress(self, fraction: float, text: str) -> None:
        """The simulation reports long preparation work: shown on the cover while one is awaited."""
        if not (self._awaiting_fresh or self.busy):
            return
        if not self.busy:
            self.set_busy(self._busy_text)
        self._progress_at = time.perf_counter()
        self._busy_cover.set_progress(fraction, text)

    def _on_preparing(self, busy: bool, _modules) -> None:
        """The worker compiles (first run on a computer) or loads the kernels after the first state:
        if that takes long, the banner says so with a count, and that Play starts once they are ready."""
        self._preparing_since = time.perf_counter() if busy else 0.0
        if busy:
            return
        self._prep_timer.stop()
        if self._prep_shown:
            self._prep_shown = False
            text, kind = self.status_message(self.snapshot) if self.snapshot is not None else ("", "info")
            self.show_message(text, kind)

    def kernels_ready(self) -> tuple[int, int]:
        """(ready, total) of the engine kernels this panel's module can reach (compiled or loaded)."""
        from nnsim.engine._jit import kernels_ready

        return kernels_ready([type(self).__module__])

    def _show_preparing(self) -> None:
        """Polled from opening until the kernels are ready: the count of compiled kernels on the
        cover while the first state waits for them, then in the banner while the rest compile."""
        if self.runner.prepared or self._closed:
            self._prep_timer.stop()
            return
        ready, total = self.kernels_ready()
        if total == 0 or ready >= total:
            return
        text = (f"Preparing the engine: {ready} of {total} kernels ready. They are compiled on the first "
                "run on this computer and loaded from a cache afterwards.")
        now = time.perf_counter()
        if self.busy and now - self._progress_at > 1.0:  # (the simulation's own progress comes first)
            self._busy_cover.set_progress(ready / total, text)
        elif (self.snapshot is not None and self._preparing_since
              and now - self._preparing_since > PREPARING_NOTE_MS / 1000):
            self.show_message(f"<b>{text}</b> Play (even pressed now) starts as soon as they are ready.", "info")
            self._prep_shown = True

    # ---- drawing only what is seen
    def text_due(self, key: str, interval: float = TEXT_INTERVAL) -> bool:
        """Whether a slowly read element (a table of numbers, a long caption) is updated in this
        frame: always when the run is not playing (a step, a pause, the final state of a run), else
        at most every ``interval`` s: digits that change 60 times a second cannot be read, and each
        change costs a text layout."""
        if not self.runner.playing or self._draw_hidden:
            return True
        now = time.perf_counter()
        if now - self._text_times.get(key, 0.0) >= interval:
            self._text_times[key] = now
            return True
        return False

    def view_shown(self, widget: QWidget) -> bool:
        """Whether ``widget`` (a view, a tab page) needs drawing now: it is visible, or an export
        wants every view. render_snapshot skips the rest; they are drawn when they are shown."""
        if self._draw_hidden or widget.isVisible():
            return True
        self._skipped = True
        return False

    def draw_all_views(self) -> None:
        """Bring the views skipped while hidden up to date (before exporting them)."""
        if self.snapshot is None or not self._skipped:
            return
        self._skipped = False
        self._draw_hidden = True
        try:
            self.render_snapshot(self.snapshot)
        finally:
            self._draw_hidden = False

    def _queue_redraw(self, *_args) -> None:
        """A view was shown: if frames skipped a hidden one, draw the last state once, after the
        show has taken effect (never otherwise: a panel's own widgets may be ahead of it)."""
        if self._skipped and not self._redraw_queued and self.snapshot is not None:
            self._redraw_queued = True
            QTimer.singleShot(0, self._redraw)

    def _redraw(self) -> None:
        self._redraw_queued = False
        if self.snapshot is not None and not self._closed:
            self._skipped = False
            try:
                self.render_snapshot(self.snapshot)
            except Exception:  # noqa: BLE001 - the next frame draws it again
                pass

    def set_busy(self, text: str | None) -> None:
        """Cover the views with ``text`` (None: uncover). Panels call it around slow work they start."""
        self.busy = bool(text)
        if text:
            self._busy_cover.setText(text)
            self._busy_cover.setGeometry(self.area.rect())
            self._busy_cover.raise_()
            self._busy_cover.show()
        else:
            self._awaiting_fresh = False
            self._busy_timer.stop()
            self._busy_cover.hide()

    def expect_fresh_state(self, text: str) -> None:
        """A reset or structural change was sent: until its first state arrives (step 0), cover the
        views if that takes longer than BUSY_DELAY_MS."""
        self._awaiting_fresh = True
        self._busy_text = text
        self._busy_timer.start()

    def eventFilter(self, obj, event):  # noqa: N802 - Qt name
        if obj is self.area and event.type() == QEvent.Type.Resize and self._busy_cover.isVisible():
            self._busy_cover.setGeometry(self.area.rect())
        elif event.type() == QEvent.Type.Show and obj is not self.area:
            self._queue_redraw()
        return super().eventFilter(obj, event)

    def set_form_shown(self, shown: bool) -> None:
        """The parameter form is a drawer: folded away in presentation mode (the plots get the room),
        opened with F4 (View > Show parameters); the transport bar always stays."""
        self._form_scroll.setVisible(bool(shown))

    def form_shown(self) -> bool:
        return not self._form_scroll.isHidden()

    def closeEvent(self, event):  # noqa: N802 - Qt name
        self.shutdown()
        super().closeEvent(event)

    # ---- slots
    def _on_snapshot(self, snap):
        first = self.snapshot is None  # (the first state may have steps done: a pretrained network)
        self.snapshot = snap
        if self._awaiting_fresh and (snap.step_count == 0 or first):
            self.set_busy(None)
        try:
            self._skipped = False
            self.render_snapshot(snap)
            text, kind = self.status_message(snap)
            if self._target_note and kind != "error":
                text, kind = (f"{text}<br>" if text else "") + self._target_note, "ok" if kind == "info" else kind
            if text or self.banner.property("kind") != "error":
                self.show_message(text, kind)
                self.banner.setProperty("kind", kind)
        except Exception as exc:  # noqa: BLE001 - a drawing bug must not take the app down
            self.show_message(f"<b>Could not draw this state:</b> {type(exc).__name__}: {exc}", "error")
            self.banner.setProperty("kind", "error")
        finally:
            self.transport.set_count(snap.step_count)
            self.stats_changed.emit(snap.step_count, self._rate)
            self.runner.ack()

    def _on_target_reached(self, step: int, value: float):
        target = self.transport.target()
        # kept on the banner (under the status text) until Play is pressed again
        self._target_note = (f"<b>Target reached:</b> {html.escape(self.target_label)} = {value:.6g} at "
                             f"{html.escape(self.step_unit)} {step:,}"
                             + (f" (target ≤ {target:g})" if target is not None else "")
                             + ". Play goes on from here (it stops again only if the value rises above "
                             "the target and falls back).")
        self.show_message(self._target_note, "ok")
        self.banner.setProperty("kind", "ok")

    def _on_failed(self, message: str):
        self.show_message(f"<b>The simulation stopped with an error:</b> {message}<br>"
                          "Change a parameter or press Reset to go on.", "error")
        self.banner.setProperty("kind", "error")

    def _on_playing_changed(self, playing: bool):
        self.transport.set_playing(playing)
        if playing:
            self._target_note = ""
        else:
            self._rate = 0.0
            if self.snapshot is not None:
                self.stats_changed.emit(self.snapshot.step_count, 0.0)

    def _on_rate(self, rate: float):
        self._rate = rate
        if self.snapshot is not None:
            self.stats_changed.emit(self.snapshot.step_count, rate)

    def _on_reset(self, seed: int):
        self.banner.setProperty("kind", None)
        self.expect_fresh_state(self.busy_text(self.params))
        self.runner.reset(seed)

    def _on_params_edited(self, params: Params):
        _live, structural = params.live_changes(self.params)
        self.params = params
        self.banner.setProperty("kind", None)
        if structural:
            self.expect_fresh_state(self.busy_text(params))
        self.runner.set_params(params)

    def _on_params_applied(self, live: bool):
        pass
