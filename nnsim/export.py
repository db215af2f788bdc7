"""Figure and data export for nnsim panels.

Everything a student may want to keep from a simulation run:

* :func:`export_png` -- raster image of a pyqtgraph ``PlotItem``, of a whole
  pyqtgraph view (``PlotWidget``, ``GraphicsLayoutWidget``, any
  ``GraphicsView``: its whole scene) or of any ``QWidget`` (a composite panel).
  ``scale`` (positive int, typically 1, 2 or 4) multiplies the on-screen
  (logical) size; the picture is *rendered* at that resolution, not upscaled.
* :func:`export_svg` -- vector image of a ``PlotItem`` or of a pyqtgraph view's
  whole scene, through pyqtgraph's ``SVGExporter`` with :func:`install_svg_fix`.
  Plain widgets cannot be exported as SVG (use PNG).
* :func:`export_csv` -- the data of every visible ``PlotDataItem``,
  ``PlotCurveItem``, ``ScatterPlotItem`` and ``BarGraphItem`` (bar centres and
  heights) of a ``PlotItem``, a pyqtgraph view (all its ``PlotItem``s) or any
  ``QWidget`` (all ``PlotItem``s of the pyqtgraph views inside it).  Each item
  gives a column pair ``"<plot>: <item> x"``, ``"<plot>: <item> y"`` where
  ``<plot>`` is the plot title or ``plot N`` and ``<item>`` the item name or
  ``curve N`` / ``scatter N`` / ``bars N``; shorter columns are padded with empty
  cells, NaN is written as ``nan``, floats with ``repr`` (exact round trip).
  The values are the data given to the item (for ``PlotDataItem`` its original
  dataset, i.e. before log/FFT/downsampling display transforms).  Leading
  ``#`` lines hold each plot's title and axis labels with units.
  ``ImageItem`` data (heat maps) is not written.
* :func:`export_params` -- JSON sidecar (version, panel, seed, step count,
  parameters, UTC timestamp) so a figure can be regenerated.
* :data:`FORMATS`, :func:`formats_for`, :func:`export_any` -- file-dialog
  helpers; ``export_any`` dispatches on the file suffix.

All write failures raise :class:`ExportError` (an ``OSError``) naming the path.

SVG workaround: with Qt >= 6.11, ``QSvgGenerator`` closes sub-paths with a
stand-alone ``Z`` token (``d="M0,0 L563.5,0 ... L0,0 Z "``).  pyqtgraph 0.14.0's
``SVGExporter.correctCoordinates`` splits every space separated token of ``d``
on ``','`` and fails on it (pyqtgraph issue #3495), so every export with a
ViewBox (whose clip path is a closed rectangle), scatter symbols or a legend
crashed.  :func:`install_svg_fix` wraps that module function (``_generateItemSvg``
calls it by its global name): ``Z``/``z`` tokens are removed from each path
before the original runs and put back afterwards at the same token positions
(the original rewrites ``d`` one token per token).  The wrapper stays correct
once pyqtgraph handles ``Z`` itself; ``tests/gui/test_export.py`` checks the
exported SVG so the workaround can be dropped when that test passes without it.
"""

from __future__ import annotations

import csv
import datetime as _dt
import importlib
import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (pg.exporters.*)
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from nnsim import __version__

__all__ = ["ExportError", "FORMATS", "DIALOG_FILTER", "install_svg_fix", "export_png",
           "export_svg", "export_csv", "export_params", "export_any", "formats_for"]

FORMATS = {
    "png": "PNG image (*.png)",
    "svg": "SVG vector image (*.svg)",
    "csv": "CSV data (*.csv)",
}
DIALOG_FILTER = ";;".join(FORMATS.values())


class ExportError(OSError):
    """A figure or data file could not be written."""


# --------------------------------------------------------------------- SVG fix
_CLOSE_TOKENS = ("Z", "z")


def install_svg_fix() -> bool:
    """Patch pyqtgraph's SVG coordinate correction for Qt >= 6.11 ``Z`` tokens.

    Idempotent; returns True if the wrapper was installed by this call.
    """
    mod = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = mod.correctCoordinates
    if getattr(original, "_nnsim_svg_fix", False):
        return False

    def correctCoordinates(node, defs, item, options):
        stash = []  # (element, token positions, tokens); elements keep identity
        for el in node.getElementsByTagName("path"):
            toks = el.getAttribute("d").split()
            pos = [i for i, t in enumerate(toks) if t in _CLOSE_TOKENS]
            if pos:
                stash.append((el, pos, [toks[i] for i in pos]))
                el.setAttribute("d", " ".join(t for t in toks if t not in _CLOSE_TOKENS))
        try:
            return original(node, defs, item, options)
        finally:
            for el, pos, marks in stash:
                toks = el.getAttribute("d").split()
                for i, mark in zip(pos, marks):  # ascending: indices of the full list
                    toks.insert(i, mark)
                el.setAttribute("d", " ".join(toks))

    correctCoordinates._nnsim_svg_fix = True
    correctCoordinates.__wrapped__ = original
    mod.correctCoordinates = correctCoordinates
    return True


# --------------------------------------------------------------------- helpers
def _check_dir(path) -> Path:
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: directory {path.parent} does not exist")
    return path


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror or e}") from e


def _graphics_source(target):
    """PlotItem/QGraphicsItem -> itself; pyqtgraph view -> its scene; else None."""
    if isinstance(target, QtWidgets.QGraphicsItem):
        if target.scene() is None:
            raise ExportError(f"{type(target).__name__} is not in a scene; cannot export")
        return target
    if isinstance(target, pg.GraphicsView):
        return target.scene()
    return None


def _plot_items(target) -> list:
    if isinstance(target, pg.PlotItem):
        return [target]
    if isinstance(target, pg.PlotWidget):
        return [target.getPlotItem()]
    if isinstance(target, pg.GraphicsView):
        items = [i for i in target.scene().items() if isinstance(i, pg.PlotItem)]
        return sorted(items, key=lambda i: (i.scenePos().y(), i.scenePos().x()))
    if isinstance(target, QtWidgets.QWidget):
        views = target.findChildren(pg.GraphicsView)
        return [p for v in views if v.isVisibleTo(target) for p in _plot_items(v)]
    raise TypeError(f"cannot export data of {type(target).__name__}")


def formats_for(target) -> dict:
    """Subset of :data:`FORMATS` that *target* supports."""
    if _graphics_source(target) is not None:
        return dict(FORMATS)
    return {k: v for k, v in FORMATS.items() if k != "svg"}


# --------------------------------------------------------------------- images
#: the size a figure is rendered at when none is chosen (logical pixels: at scale 2 a PNG is
#: 1600 × 1000 px with text as large, relative to the plot, as on a 800-pixel-wide screen plot)
DEFAULT_SIZE = (800, 500)


def _central(target):
    """The QGraphicsWidget that fills a pyqtgraph view (re-laid out at the export size), or None."""
    if isinstance(target, pg.GraphicsView):
        return getattr(target, "centralWidget", None)
    if isinstance(target, pg.PlotItem):
        view = target.getViewWidget()
        if view is not None and getattr(view, "centralWidget", None) is target:
            return target
    return None


def _settle(item) -> None:
    """Apply pending layouts of ``item`` and everything inside it now (they are normally deferred)."""
    for _ in range(3):
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
        stack = [item]
        while stack:
            it = stack.pop()
            lay = QtWidgets.QGraphicsWidget.layout(it) if isinstance(it, QtWidgets.QGraphicsWidget) else None
            if lay is not None:
                lay.activate()
            reflow = getattr(it, "reflow", None)  # legends that wrap their entries to the width
            if callable(reflow):
                reflow()
            stack.extend(it.childItems())


class laid_out:
    """Context manager: the figure's scene laid out at ``size`` (logical px) for rendering, the
    on-screen layout restored afterwards (no event loop runs in between, nothing flickers).
    ``rect`` is the scene rectangle to render."""

    def __init__(self, target, size):
        self.target, self.size = target, size
        self.central = _central(target) if size is not None else None

    def __enter__(self):
        if self.central is None:
            source = _graphics_source(self.target)
            if isinstance(source, QtWidgets.QGraphicsItem):
                self.rect = source.sceneBoundingRect()
            elif source is not None:
                self.rect = QtCore.QRectF(self.target.viewport().rect())
            else:
                self.rect = None
            return self
        w, h = (max(50.0, float(v)) for v in self.size)
        # a pending widget layout (a caption changed) would resize the view while we settle, and the
        # view puts its central item back to its own size: apply those first, and check afterwards
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
        self.old = self.central.geometry()
        for _ in range(3):
            self.central.setGeometry(QtCore.QRectF(0, 0, w, h))
            _settle(self.central)
            got = self.central.geometry()
            if abs(got.width() - w) < 0.5 and abs(got.height() - h) < 0.5:
                break
        self.rect = self.central.sceneBoundingRect()
        return self

    def __exit__(self, *exc):
        if self.central is not None:
            self.central.setGeometry(self.old)
            _settle(self.central)
        return False


def _background(target) -> QtGui.QColor:
    view = target if isinstance(target, pg.GraphicsView) else (
        target.getViewWidget() if isinstance(target, QtWidgets.QGraphicsItem) else None)
    if view is not None:
        return view.backgroundBrush().color()
    return QtGui.QColor("white")


def export_png(target, path, scale: float = 1, size: tuple[float, float] | None = None) -> tuple[int, int]:
    """Write *target* as PNG; return (w, h) in pixels.

    ``size`` (logical pixels) re-lays the figure out at that size before rendering it, whatever its
    size on screen (a hidden tab, a narrow window): nothing is cut and legends and axis labels are
    inside the image. ``scale`` multiplies the resolution: the PNG is ``size × scale`` pixels, drawn
    at that resolution (not upscaled). Without ``size``, the on-screen size is used. Plain widgets
    (a whole panel) are always drawn at their on-screen size × ``scale``.
    """
    scale = float(scale)
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    path = _check_dir(path)
    source = _graphics_source(target)
    if source is not None:
        with laid_out(target, size) as lay:
            rect = lay.rect
            if rect is None or rect.width() < 1 or rect.height() < 1:
                raise ExportError(f"cannot write {path}: the figure has no area")
            w, h = max(1, round(rect.width() * scale)), max(1, round(rect.height() * scale))
            image = QtGui.QImage(w, h, QtGui.QImage.Format.Format_ARGB32)
            image.fill(_background(target))
            painter = QtGui.QPainter(image)
            try:
                painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
                painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
                scene = target.scene() if isinstance(target, (pg.GraphicsView, QtWidgets.QGraphicsItem)) else source
                scene.render(painter, QtCore.QRectF(0, 0, w, h), rect)
            finally:
                painter.end()
    elif isinstance(target, QtWidgets.QWidget):
        size_ = target.size()
        image = QtGui.QImage(round(size_.width() * scale), round(size_.height() * scale),
                             QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(scale)
        image.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(image)
        try:
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
            target.render(painter, QtCore.QPoint(0, 0))
        finally:
            painter.end()
    else:
        raise TypeError(f"cannot export {type(target).__name__} as PNG")
    if image is None or image.isNull() or not image.save(str(path), "PNG"):
        raise ExportError(f"cannot write PNG image {path}")
    return image.width(), image.height()


def export_svg(target, path, size: tuple[float, float] | None = None) -> None:
    """Write a PlotItem or a pyqtgraph view's whole scene as SVG (laid out at ``size`` if given)."""
    path = _check_dir(path)
    source = _graphics_source(target)
    if source is None:
        raise TypeError(f"cannot export {type(target).__name__} as SVG "
                        "(only pyqtgraph plots and views; use PNG)")
    install_svg_fix()
    with laid_out(target, size) as lay:
        if lay.central is not None:
            source = lay.central
        text = pg.exporters.SVGExporter(source).export(toBytes=True).decode("utf-8")
    # pyqtgraph's background is <rect width="100%" height="100%">; QtSvg reads the
    # percentages as 100 px, so give it the viewBox size instead.
    box = re.search(r'viewBox\s*=\s*"0 0 (\d+) (\d+)"', text)
    if box:
        text = text.replace('<rect width="100%" height="100%"',
                            f'<rect width="{box[1]}" height="{box[2]}"', 1)
    _write_bytes(path, text.encode("utf-8"))


# --------------------------------------------------------------------- data
def _series(item):
    """(kind, x, y) of a data item, or None if it carries no exportable data."""
    if isinstance(item, pg.PlotDataItem):
        kind = "curve" if item.opts.get("pen") is not None else "scatter"
        x, y = item.getOriginalDataset()
    elif isinstance(item, pg.PlotCurveItem):
        kind, (x, y) = "curve", item.getData()
    elif isinstance(item, pg.ScatterPlotItem):
        kind, (x, y) = "scatter", item.getData()
    elif isinstance(item, pg.BarGraphItem):  # bar centres and heights
        o = {k: None if v is None else np.asarray(v, float) for k, v in item.opts.items()
             if k in ("x", "x0", "x1", "width", "height", "y0", "y1")}
        x, y = o.get("x"), o.get("height")
        if x is None and o.get("x0") is not None:
            x = ((o["x0"] + o["x1"]) / 2 if o.get("x1") is not None
                 else o["x0"] + (0 if o.get("width") is None else o["width"]) / 2)
        if y is None and o.get("y1") is not None:
            y = o["y1"] - (0 if o.get("y0") is None else o["y0"])
        kind = "bars"
    else:
        return None
    if x is None or y is None:
        return None
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.ndim == 0:  # e.g. bars sharing one x0
        x = np.full(y.shape, x)
    return kind, x.ravel(), y.ravel()


def _axis_text(plot, name) -> str:
    ax = plot.getAxis(name)
    text = plain(ax.labelText or "")
    return f"{text} [{ax.labelUnits}]" if ax.labelUnits else text


def _fmt(v: float) -> str:
    return "nan" if math.isnan(v) else repr(float(v))


def plain(text) -> str:
    """Rich text as plain words: tags dropped, entities decoded, white space folded."""
    import html

    text = re.sub(r"<br\s*/?>", " ", str(text or ""), flags=re.IGNORECASE)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"\s+", " ", text.replace("■", "")).strip()


def export_csv(target, path) -> int:
    """Write plotted data as CSV column pairs; return the number of data columns.

    A figure that knows better what it shows (a heat map's grid, a table) offers
    ``csv_table() -> (comment lines, header, columns)``; that is written instead.
    """
    path = _check_dir(path)
    custom = getattr(target, "csv_table", None)
    if callable(custom):
        comments, header, columns = custom()
        comments = [c if c.startswith("#") else f"# {c}" for c in comments]
        header = [plain(h) for h in header]
        columns = [np.asarray(c, float).ravel() for c in columns]
        return _write_csv(path, comments, header, columns)
    comments, header, columns = [], [], []
    for pi, plot in enumerate(_plot_items(target), start=1):
        title = plain(plot.titleLabel.text) if plot.titleLabel.isVisible() else ""
        pname = title or f"plot {pi}"
        comments.append(f"# {pname}: x = {_axis_text(plot, 'bottom')}; "
                        f"y = {_axis_text(plot, 'left')}")
        counts: dict[str, int] = {}
        items = list(plot.items) + [i for i in plot.vb.addedItems if i not in plot.items]
        for item in items:
            if not item.isVisible():
                continue
            s = _series(item)
            if s is None:
                continue
            kind, x, y = s
            counts[kind] = counts.get(kind, 0) + 1
            iname = plain(item.name()) if hasattr(item, "name") and item.name() else None
            label = f"{pname}: {iname or f'{kind} {counts[kind]}'}"
            header += [f"{label} x", f"{label} y"]
            columns += [x, y]
    return _write_csv(path, comments, header, columns)


def _write_csv(path, comments, header, columns) -> int:
    try:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            fh.writelines(c.replace("\n", " ") + "\n" for c in comments)
            writer = csv.writer(fh)
            writer.writerow(header)
            for row in itertools.zip_longest(*columns):
                writer.writerow(["" if v is None else _fmt(v) for v in row])
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror or e}") from e
    return len(columns)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"parameter value {obj!r} of type {type(obj).__name__} "
                    "is not JSON serialisable")


def export_params(path, *, panel: str, params: dict, seed: int, step_count: int,
                  extra: dict | None = None) -> None:
    """Write the run's parameters as JSON (indent 2, sorted keys)."""
    path = _check_dir(path)
    doc = {
        "nnsim_version": __version__,
        "panel": panel,
        "seed": seed,
        "step_count": step_count,
        "params": params,
        "timestamp_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if extra is not None:
        doc["extra"] = extra
    text = json.dumps(doc, indent=2, sort_keys=True, default=_json_default) + "\n"
    _write_bytes(path, text.encode("utf-8"))


def export_any(target, path, scale: float = 1, size: tuple[float, float] | None = None):
    """Dispatch on the suffix of *path* (see :data:`FORMATS`)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "png":
        return export_png(target, path, scale, size)
    if suffix == "svg":
        return export_svg(target, path, size)
    if suffix == "csv":
        return export_csv(target, path)
    raise ExportError(f"cannot write {path}: unsupported format "
                      f"(use one of {', '.join('.' + k for k in FORMATS)})")
