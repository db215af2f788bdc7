"""The main window: panel list on the left, the active panel in the centre, menus and status bar.

Panels are created when first selected and kept (paused) when another one is shown; closing the
window shuts every panel's worker thread down. Geometry and the last panel are kept in QSettings.
The numba kernels are warmed in a background thread at start-up.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QFileDialog, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QMainWindow, QMessageBox, QSplitter, QStackedWidget, QTextEdit,
                               QWidget)

import nnsim
from nnsim.panels import PANELS, panel_class
from nnsim.widgets.presentation import Presentation

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
#: the background warm-up of every panel's kernels starts once the panel on screen has its own, or
#: after this many seconds
WARMUP_WAIT_S = 20.0
#: experiment files larger than this are read off the GUI thread, with a progress dialog
BACKGROUND_BYTES = 4_000_000

SHORTCUTS = (("Space", "play / pause"), ("→", "one step"), ("Shift+→", "N steps"), ("R", "reset to the seed"),
             ("Ctrl+O", "open experiment"), ("Ctrl+S", "save experiment"), ("Ctrl+Shift+O", "open data file"),
             ("Ctrl+E", "export lab report"), ("Ctrl+Shift+E", "export one figure"),
             ("F5", "presentation mode (hides the panel list and the parameters)"),
             ("F4", "show / hide the parameters (a drawer in presentation mode)"), ("Ctrl+1 … Ctrl+6", "go to panel 1 … 6"),
             ("F11", "full screen"), ("Ctrl+= / Ctrl+- / Ctrl+0", "larger / smaller / normal text"),
             ("F1", "what am I looking at?"), ("Ctrl+Q", "quit"))


def _read_experiment(path):
    """Read and check an experiment file against its panel's parameters (no Qt: any thread)."""
    from nnsim.experiment import ExperimentError, load

    exp = load(path)
    try:
        cls = panel_class(exp.panel)
    except KeyError as exc:
        raise ExperimentError(f"{Path(path).name}: {exc.args[0]}") from None
    try:
        cls.params_class.from_dict(exp.params)
    except Exception as exc:  # noqa: BLE001 - ParamError, OverflowError (inf for an integer)…
        raise ExperimentError(f"{Path(path).name}: parameter problem: {exc}") from None
    return exp


class _Warmup(QObject):
    """Compiles the engine's kernels in a Python thread; reports back through a queued signal."""

    finished = Signal(float, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        # the panel on screen compiles its own kernels first (Runner.preparing); this thread, which
        # warms every other panel's, waits for that (at most WARMUP_WAIT_S): numba compiles one
        # kernel at a time, and the panel on screen must not queue behind the others
        self.go = threading.Event()

    def start(self):
        threading.Thread(target=self._run, name="nnsim-jit-warmup", daemon=True).start()

    def _run(self):
        self.go.wait(WARMUP_WAIT_S)
        t0 = time.perf_counter()
        error = ""
        try:
            from nnsim.engine.warmup import warm_all

            warm_all()
        except Exception as exc:  # noqa: BLE001 - shown in the status bar; the panels still work
            error = f"{type(exc).__name__}: {exc}"
        try:
            self.finished.emit(time.perf_counter() - t0, error)
        except RuntimeError:  # the window closed meanwhile ("Signal source has been deleted")
            pass


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, warm: bool = True):
        super().__init__()
        self.setWindowTitle("nnsim — neural-network teaching simulator")
        self.settings = settings or QSettings()
        self.panels: dict[str, QWidget] = {}

        self.panel_list = QListWidget()
        # mouse only: a focused list would swallow Space and the letter keys the transport uses
        self.panel_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.panel_list.setStyleSheet("QListWidget { font-size: 12pt; } QListWidget::item { padding: 6px; }")
        for key, title, _target in PANELS:
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.panel_list.addItem(item)
        # as wide as the longest title (12 pt, as the style sheet sets it): no name is cut
        list_font = QFont(self.panel_list.font())
        list_font.setPointSize(12)
        list_width = max(QFontMetrics(list_font).horizontalAdvance(t) for _, t, _ in PANELS) + 36
        self.panel_list.setMinimumWidth(list_width)
        self.panel_list.setMaximumWidth(int(list_width * 1.6))
        self.panel_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.panel_list)
        split.addWidget(self.stack)
        split.setStretchFactor(1, 1)
        split.setSizes([list_width, 1300])
        self.setCentralWidget(split)

        self.steps_label = QLabel("steps: 0")
        self.rate_label = QLabel("")
        self.engine_label = QLabel("preparing engine…")
        for w in (self.steps_label, self.rate_label):
            w.setMinimumWidth(140)
            self.statusBar().addPermanentWidget(w)
        self.statusBar().addPermanentWidget(self.engine_label)
        self._build_menus()

        self.warmup = _Warmup(self)
        self.warmup.finished.connect(self._on_warmed)
        self.panel_list.currentItemChanged.connect(self._on_panel_selected)
        self._restore_settings()

        self.space = QShortcut(QKeySequence(Qt.Key.Key_Space), self, self._on_space,
                               context=Qt.ShortcutContext.WindowShortcut)
        self.space.setAutoRepeat(False)
        if warm:
            self.warmup.start()
        else:
            self.engine_label.setText("")

    def _on_space(self):
        """Space plays/pauses the current panel wherever the focus is. A text field or spin box
        keeps its Space (it claims it through ShortcutOverride before this shortcut fires). A
        shortcut, not an application event filter: a Python filter runs for every event and needs
        the GIL each time, so a worker holding it (parsing a file) would stall all input."""
        if isinstance(QApplication.focusWidget(), (QLineEdit, QAbstractSpinBox, QTextEdit)):
            return
        panel = self.current_panel()
        if panel is not None:
            panel.runner.toggle()

    # ---- menus
    def _build_menus(self):
        file_menu = self.menuBar().addMenu("&File")
        self.open_experiment_action = QAction("&Open experiment…", self, shortcut=QKeySequence("Ctrl+O"))
        self.open_experiment_action.triggered.connect(self._on_open_experiment)
        file_menu.addAction(self.open_experiment_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.examples_menu = file_menu.addMenu("E&xamples")
        self._fill_examples()
        self.save_action = QAction("&Save experiment…", self, shortcut=QKeySequence("Ctrl+S"))
        self.save_action.triggered.connect(self._on_save_experiment)
        file_menu.addAction(self.save_action)
        file_menu.addSeparator()
        self.open_action = QAction("Open &data…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        self.open_action.triggered.connect(self._on_open_data)
        file_menu.addAction(self.open_action)
        self.export_action = QAction("&Export figure…", self, shortcut=QKeySequence("Ctrl+Shift+E"))
        self.export_action.triggered.connect(self._on_export)
        file_menu.addAction(self.export_action)
        self.report_action = QAction("Export &lab report…", self, shortcut=QKeySequence("Ctrl+E"))
        self.report_action.triggered.connect(self._on_export_report)
        file_menu.addAction(self.report_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view_menu = self.menuBar().addMenu("&View")
        self.fullscreen_action = QAction("&Full screen", self, shortcut=QKeySequence(Qt.Key.Key_F11), checkable=True)
        self.fullscreen_action.toggled.connect(self._on_fullscreen)
        view_menu.addAction(self.fullscreen_action)
        self.presentation = Presentation(self, view_menu)
        # Ctrl+1 … Ctrl+6: go to a panel (the panel list is hidden in presentation mode)
        go_menu = view_menu.addMenu("&Go to panel")
        for n, (key, title, _target) in enumerate(PANELS, start=1):
            act = QAction(title, self, shortcut=QKeySequence(f"Ctrl+{n}") if n <= 9 else QKeySequence())
            act.triggered.connect(lambda _c=False, k=key: self.show_panel(k))
            go_menu.addAction(act)
        help_menu = self.menuBar().addMenu("&Help")
        what = QAction("&What am I looking at?", self, shortcut=QKeySequence(Qt.Key.Key_F1))
        what.triggered.connect(self._on_panel_help)
        help_menu.addAction(what)
        keys = QAction("&Keyboard shortcuts", self)
        keys.triggered.connect(self._on_shortcuts)
        help_menu.addAction(keys)
        about = QAction("&About nnsim", self)
        about.triggered.connect(self._on_about)
        help_menu.addAction(about)
        self._fill_recent()

    # ---- panels
    def current_panel(self):
        w = self.stack.currentWidget()
        return w if w is not None and w in self.panels.values() else None

    def show_panel(self, key: str):
        for i in range(self.panel_list.count()):
            if self.panel_list.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.panel_list.setCurrentRow(i)
                return self.panels.get(key)
        raise KeyError(key)

    def _on_panel_selected(self, item, _previous):
        if item is None:
            return
        key = item.data(Qt.ItemDataRole.UserRole)
        old = self.current_panel()
        if old is not None:
            old.runner.pause()
        if key not in self.panels:
            try:
                panel = panel_class(key)()
            except Exception as exc:  # noqa: BLE001 - a broken panel must not take the app down
                box = QMessageBox(QMessageBox.Icon.Critical, "Could not open the panel",
                                  f"{key}: {type(exc).__name__}: {exc}", parent=self)
                box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                box.open()  # not exec(): nothing else waits on it
                self.error_dialog = box
                return
            panel.stats_changed.connect(lambda steps, rate, p=panel: self._on_stats(p, steps, rate))
            panel.runner.preparing.connect(lambda busy, _m: None if busy else self.warmup.go.set())
            self.panels[key] = panel
            self.stack.addWidget(panel)
            if hasattr(self, "presentation"):
                self.presentation.apply_to(panel)
                panel.set_form_shown(self.presentation.drawer_action.isChecked())
        self.stack.setCurrentWidget(self.panels[key])
        self.settings.setValue("last_panel", key)

    def _on_stats(self, panel, steps: int, rate: float):
        if panel is not self.current_panel():
            return
        for label, text in ((self.steps_label, f"steps: {steps:,}"),
                            (self.rate_label, f"{rate:,.0f} steps/s" if rate > 0 else "paused")):
            if label.text() != text:  # (every frame: only what changed)
                label.setText(text)

    def _on_warmed(self, seconds: float, error: str):
        if error:
            self.engine_label.setText("engine warm-up failed (see Help)")
            self.engine_label.setToolTip(error)
        else:
            self.engine_label.setText(f"engine ready ({seconds:.1f} s)")

    # ---- actions
    def _on_open_data(self):
        panel = self.current_panel()
        if panel is None or not hasattr(panel, "open_data"):
            QMessageBox.information(self, "Open data", "This panel does not read data files.")
            return
        panel._on_open_clicked()

    def _on_export(self):
        panel = self.current_panel()
        if panel is None:
            return
        panel.export_dialog()

    # ---- experiments, examples, reports
    def open_experiment(self, path: str) -> bool:
        """Open a .nnsim file in its panel; a bad file gets a message and nothing open is lost.
        A large file is read off the GUI thread (a progress dialog with Cancel); False when the
        file was refused at once."""
        from nnsim.widgets.loader import Cancelled, read_file

        def done(exp, error):
            if isinstance(error, Cancelled):
                self.statusBar().showMessage(f"Opening {path} cancelled: nothing was changed", 8000)
            elif error is not None:  # ExperimentError, a panel name unknown…
                self._experiment_refused(path, error)
            else:
                return self._open_read_experiment(path, exp)
            return None

        return read_file(self, path, _read_experiment, BACKGROUND_BYTES, done)

    def _experiment_refused(self, path, exc: BaseException) -> None:
        from nnsim.experiment import ExperimentError

        msg = str(exc) if isinstance(exc, ExperimentError) else f"{Path(path).name}: {exc}"
        self.statusBar().showMessage(f"Could not open {path}", 8000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Could not open the experiment",
                          f"{msg}\n\nNothing that is open was changed.", parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_dialog = box

    def _open_read_experiment(self, path, exp) -> bool:
        panel = self.show_panel(exp.panel)
        if panel is None:  # (the panel could not be built: its error dialog is up)
            return False

        def opened(ok: bool, why: str):
            panel.experiment_opened.disconnect(opened)
            if ok:
                self._add_recent(str(path))
                self.statusBar().showMessage(f"Opened {path}", 5000)
                return
            self._experiment_refused(path, RuntimeError(why))

        panel.experiment_opened.connect(opened)
        panel.load_experiment(exp)
        return True

    def _on_open_experiment(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open experiment", str(self._last_dir()), "nnsim experiments (*.nnsim)")
        if path:
            self.open_experiment(path)

    def _on_save_experiment(self):
        panel = self.current_panel()
        if panel is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save experiment", str(self._last_dir() / f"{panel.key}.nnsim"),
                                              "nnsim experiments (*.nnsim)")
        if path:
            panel.experiment_saved.connect(self._add_recent, Qt.ConnectionType.SingleShotConnection)
            panel.save_experiment(path)

    def export_report(self, folder: str, callback=None):
        """Write the current panel's lab report into ``folder`` (asynchronously: the state is copied in
        the worker first); ``callback(report_path or None, error)`` follows."""
        panel = self.current_panel()
        from nnsim.report import write_report

        def done(exp, error):
            path = None
            if not error:
                try:
                    path = write_report(panel, folder, exp)
                except (OSError, ValueError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
            if error:
                panel.show_message(f"<b>Could not write the lab report:</b> {error}", "error")
            else:
                panel.show_message(f"Lab report written: {path}", "info")
            if callback is not None:
                callback(path, error)

        panel.with_state(done)

    def _on_export_report(self):
        panel = self.current_panel()
        if panel is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder for the lab report", str(self._last_dir()))
        if folder:
            self.export_report(str(Path(folder) / f"nnsim-{panel.key}-report"))

    def _last_dir(self) -> Path:
        recent = self.recent_files()
        return Path(recent[0]).parent if recent else Path.home()

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str):
        items = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", items[:8])
        self._fill_recent()

    def _fill_recent(self):
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_experiment(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def _fill_examples(self):
        self.examples_menu.clear()
        files = sorted((RESOURCES / "examples").glob("*.nnsim"))
        for path in files:
            title = path.stem.split("_", 1)[-1].replace("-", " ")
            action = self.examples_menu.addAction(title)
            action.triggered.connect(lambda _c=False, p=str(path): self.open_experiment(p))
        self.examples_menu.setEnabled(bool(files))

    def _on_panel_help(self):
        panel = self.current_panel()
        if panel is None:
            return
        box = QMessageBox(QMessageBox.Icon.NoIcon, f"{panel.title}: what am I looking at?", panel.help_html(),
                          parent=self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _on_shortcuts(self):
        rows = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in SHORTCUTS)
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table cellpadding=3>{rows}</table>",
                          parent=self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _on_fullscreen(self, on: bool):
        self.showFullScreen() if on else self.showNormal()

    def _on_about(self):
        QMessageBox.about(
            self, "About nnsim",
            f"<h3>nnsim {nnsim.__version__}</h3><p>A neural-network teaching simulator: step through "
            "training one update at a time, watch what changes and export every figure with its data "
            "and parameters.</p><p>Engine kernels: numba; plots: pyqtgraph; GUI: Qt for Python.</p>")

    # ---- settings and shutdown
    def _restore_settings(self):
        geometry = self.settings.value("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            # first launch: most of the screen the window opens on (a projector's 1280×720 included)
            avail = self._available()
            if avail is not None:
                w, h = int(avail.width() * 0.94), int(avail.height() * 0.94)
                self.setGeometry(avail.x() + (avail.width() - w) // 2, avail.y() + (avail.height() - h) // 2, w, h)
            else:
                self.resize(1280, 760)
        self.fit_to_screen()
        last = self.settings.value("last_panel", PANELS[0][0])
        try:
            self.show_panel(str(last))
        except KeyError:
            self.show_panel(PANELS[0][0])

    def _available(self):
        """The available geometry of the screen the window is on (or the primary screen)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return None
        # a geometry remembered on another monitor: take the screen under its centre, if any
        at = QApplication.screenAt(self.geometry().center())
        return (at or screen).availableGeometry()

    def fit_to_screen(self):
        """Clamp the window into its screen's available area: a geometry remembered on a large monitor
        must not open wider or taller than the projector, nor off its edge."""
        avail = self._available()
        if avail is None or self.isFullScreen() or self.isMaximized():
            return
        geo, frame = self.geometry(), self.frameGeometry()
        # the window manager's frame (title bar, borders) must fit too
        left, top = geo.x() - frame.x(), geo.y() - frame.y()
        extra_w, extra_h = frame.width() - geo.width(), frame.height() - geo.height()
        w = min(geo.width(), avail.width() - extra_w)
        h = min(geo.height(), avail.height() - extra_h)
        fx = min(max(frame.x(), avail.x()), avail.x() + avail.width() - (w + extra_w))
        fy = min(max(frame.y(), avail.y()), avail.y() + avail.height() - (h + extra_h))
        if (fx + left, fy + top, w, h) != (geo.x(), geo.y(), geo.width(), geo.height()):
            self.setGeometry(fx + left, fy + top, w, h)

    def showEvent(self, event):  # noqa: N802 - Qt name
        super().showEvent(event)
        self.fit_to_screen()

    def shutdown(self):
        for panel in self.panels.values():
            panel.shutdown()

    def closeEvent(self, event):  # noqa: N802
        self.settings.setValue("geometry", self.saveGeometry())
        self.shutdown()
        super().closeEvent(event)


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [])
    app.setApplicationName("nnsim")
    app.setOrganizationName("nnsim")
    app.setApplicationVersion(nnsim.__version__)
    # Fusion draws every widget from the palette, so the light, high-contrast and dark themes look
    # the same on every desktop (native styles ignore parts of the palette)
    app.setStyle("Fusion")
    icon = RESOURCES / "nnsim.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    # numba's cache must be configured before numba is imported (see nnsim.engine._jit)
    from nnsim.engine._jit import configure_cache_dir

    configure_cache_dir(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation))
    from nnsim.export import install_svg_fix
    from nnsim.runner import collect_garbage_in_gui_thread

    install_svg_fix()  # pyqtgraph's own right-click "Export..." SVG works too
    collect_garbage_in_gui_thread()  # the kernel warm-up thread must not destroy Qt objects either
    return app


def run(panel: str | None = None, report_shown: bool = False) -> int:
    app = make_app()
    window = MainWindow()
    if panel:
        window.show_panel(panel)
    window.show()
    if report_shown:
        # used by benchmarks/startup.py: print the wall-clock time the window was shown, then quit
        QTimer.singleShot(0, lambda: (print(f"nnsim-shown {time.time():.6f}", flush=True), window.close()))
    app.aboutToQuit.connect(window.shutdown)
    return app.exec()
