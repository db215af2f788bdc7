"""The optimizer panel's drawing helpers: colours, the map's range and contours, log axes that label
only what has room, curve ranges that grow in steps, and the numbers table.

Kept apart from :mod:`nnsim.panels.optimizers` (the panel) so that each module stays readable; the
panel re-exports the names its tests and other panels use.
"""

from __future__ import annotations

import math
import types

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainterPath
from pyqtgraph.graphicsItems.PlotCurveItem import arrayToLineSegments

from nnsim.engine.optimizers import RULE_LABELS
from nnsim.widgets.plots import contrast_ratio, theme

#: one fixed colour per rule, the same in every view (and in every panel that races optimizers)
RULE_COLORS = {"sgd": "#333333", "momentum": "#0072B2", "nesterov": "#56B4E9", "adagrad": "#009E73",
               "rmsprop": "#E69F00", "adam": "#D55E00", "adadelta": "#8B6914", "newton": "#CC79A7"}
N_LEVELS = 14
#: the map's margin around the start and the known minima (share of the range), so no marker is cut
MAP_MARGIN = 0.05
#: the loss, distance and MLP plots' y ranges move in steps of this much (view units: decades on a
#: log axis), so their axes are laid out again a few times per run instead of on every frame
Y_STEP = 0.5


def rule_color(name: str) -> str:
    """The rule's colour in the current theme (SGD's near-black becomes the text colour on a dark
    background, where it would be invisible)."""
    color = RULE_COLORS.get(name, "#777777")
    th = theme()
    return th.fg if contrast_ratio(color, th.bg) < 2.0 else color


def map_range(bounds, points, margin: float = MAP_MARGIN) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax): the surface's bounds, widened where needed so that every point (the
    start, the known minima) lies at least ``margin`` × the range inside the edge."""
    xmin, xmax, ymin, ymax = (float(b) for b in bounds)
    pts = np.asarray([p for p in points if p is not None], dtype=float).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts):
        mx, my = margin * (xmax - xmin), margin * (ymax - ymin)
        xmin, xmax = min(xmin, float(pts[:, 0].min()) - mx), max(xmax, float(pts[:, 0].max()) + mx)
        ymin, ymax = min(ymin, float(pts[:, 1].min()) - my), max(ymax, float(pts[:, 1].max()) + my)
    return xmin, xmax, ymin, ymax


def decade_labels(axis: pg.AxisItem) -> pg.AxisItem:
    """A log axis that labels the minor ticks (2·10¹, 3·10¹, …) only where they have room: with two
    or more decades in view only the decades are labelled; within about a decade the mantissas that
    fit (2 and 5, or 2, 3 and 5) — never the stacked "7·10¹ 6·10¹ 5·10¹" of a short axis. Where
    pyqtgraph makes no decade level (a tall axis over one and a half to three decades), the decades
    among the minor ticks are labelled instead: an axis is never left without numbers."""
    base = type(axis).logTickStrings
    base_values = type(axis).logTickValues

    def log_tick_values(self, min_val, max_val, size, std_ticks):
        ticks = base_values(self, min_val, max_val, size, std_ticks)
        self._nnsim_decade_level = any(spacing is not None for spacing, _values in ticks)
        return ticks

    def log_tick_strings(self, values, scale, spacing):
        strings = base(self, values, scale, spacing)
        if spacing is not None:  # the decade level
            return strings
        lo, hi = sorted(float(v) for v in self.range)
        length = self.geometry().height() if self.orientation in ("left", "right") else self.geometry().width()
        if not (hi > lo and length > 0):
            return ["" for _ in strings]
        decades = math.floor(hi) - math.ceil(lo) + 1
        font = self.style.get("tickFont") or QFont()
        room = 1.3 * QFontMetricsF(font).height()  # (vertical axes; horizontal text is wider still)
        if self.orientation in ("top", "bottom"):
            room = 3.5 * QFontMetricsF(font).height()
        px = length / (hi - lo)  # pixels per decade
        keep: set[int] = set()
        if decades < 2 or not getattr(self, "_nnsim_decade_level", True):
            keep = {1}  # (a decade where no decade level is drawn: inside a short range, or tall axes)
            for mantissas, gap in (((2, 3, 5), math.log10(3 / 2)), ((2, 5), math.log10(2)), ((3,), 0.48)):
                if px * gap >= room:
                    keep |= set(mantissas)
                    break
        out = []
        for v, s in zip(values, strings):
            m = int(round(10 ** (float(v) - math.floor(float(v) + 1e-9))))
            out.append(s if m in keep else "")
        return out

    axis.logTickStrings = types.MethodType(log_tick_strings, axis)
    axis.logTickValues = types.MethodType(log_tick_values, axis)
    return axis


def log_levels(z: np.ndarray, f_min: float | None, n: int = N_LEVELS) -> tuple[np.ndarray, np.ndarray]:
    """(field, levels): the field the colours and contours use, and n log-spaced contour levels.

    With a known minimum the field is log10(f − f_min + δ); without one (a saddle, unbounded below)
    a signed log keeps both signs readable.
    """
    if f_min is not None and np.isfinite(f_min):
        shifted = np.maximum(z - f_min, 0.0)
        pos = shifted[shifted > 0]
        delta = max(float(pos.min()) if pos.size else 1e-12, 1e-12)
        field = np.log10(shifted + delta)
    else:
        field = np.sign(z) * np.log10(1.0 + np.abs(z))
    lo, hi = np.nanpercentile(field, 0.5), np.nanpercentile(field, 99.5)
    return field, np.linspace(lo, hi, n + 2)[1:-1]


def contour_pen():
    """Contour lines: dark grey on the light themes, light grey on the dark one."""
    light = contrast_ratio(theme().bg, "#000000") > contrast_ratio(theme().bg, "#ffffff")
    return pg.mkPen((60, 60, 60, 150) if light else (225, 225, 225, 120), width=1)


def same_data(a, b) -> bool:
    """Whether two values drawn are the same (arrays by shape, type and values, NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    return a == b


def has_map(name: str) -> bool:
    try:
        pg.colormap.get(name)
        return True
    except Exception:  # noqa: BLE001 - a missing colour map falls back to viridis
        return False


class ContourItem(pg.GraphicsObject):
    """Every contour line of the surface as one path (what ``N_LEVELS`` IsocurveItems drew): one item
    to paint instead of fourteen. A child of the map's ImageItem, so its coordinates are the image's
    pixels (row-major, like the image)."""

    def __init__(self, pen=None):
        super().__init__()
        self._pen = pg.mkPen(pen)
        self._path = QPainterPath()

    def setData(self, field: np.ndarray, levels) -> None:  # noqa: N802 - pyqtgraph's name
        path = QPainterPath()
        data = np.asarray(field, dtype=float).T  # (row-major: the default col-major drew it transposed)
        for level in levels:
            for line in pg.functions.isocurve(data, float(level), connected=True, extendToEdge=True):
                path.moveTo(*line[0])
                for p in line[1:]:
                    path.lineTo(*p)
        self.prepareGeometryChange()
        self._path = path
        self.update()

    def setPen(self, *args, **kwargs) -> None:  # noqa: N802 - pyqtgraph's name
        self._pen = pg.mkPen(*args, **kwargs)
        self.update()

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt name
        return self._path.boundingRect()

    def paint(self, p, *_args) -> None:
        p.setPen(self._pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(self._path)


def pixel_thinning(x, y, cell_x: float, cell_y: float) -> np.ndarray | None:
    """Mask of the points of a polyline worth stroking at a resolution of ``cell_x`` × ``cell_y``:
    the first point in each new cell, every non-finite point and its neighbours (the line's breaks),
    and the last point; None when nothing would be left out."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    if n < 3 or not (cell_x > 0 and cell_y > 0 and math.isfinite(cell_x) and math.isfinite(cell_y)):
        return None
    finite = np.isfinite(x) & np.isfinite(y)
    qx = np.floor(np.where(finite, x, 0.0) / cell_x)
    qy = np.floor(np.where(finite, y, 0.0) / cell_y)
    keep = np.ones(n, dtype=bool)
    keep[1:] = (qx[1:] != qx[:-1]) | (qy[1:] != qy[:-1]) | ~finite[1:] | ~finite[:-1]
    keep[-1] = True
    return None if keep.all() else keep


def stroke_segments(x, y, cell_x: float, cell_y: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The segments of a polyline worth stroking at a resolution of ``cell_x`` × ``cell_y``, as
    (xs, ys) pairs (connect="pairs"): between the points :func:`pixel_thinning` keeps, each pair of
    cells joined once (an oscillation between two cells is one segment, not thousands); segments
    that leave a broad window around the start are all kept. None when there is nothing to leave out."""
    keep = pixel_thinning(x, y, cell_x, cell_y)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if keep is not None:
        x, y = x[keep], y[keep]
    finite = np.isfinite(x) & np.isfinite(y)
    if len(x) < 2:
        return None
    qx = np.floor(np.where(finite, x, 0.0) / cell_x)
    qy = np.floor(np.where(finite, y, 0.0) / cell_y)
    qx -= qx[0] if finite[0] else 0.0
    qy -= qy[0] if finite[0] else 0.0
    seg = np.nonzero(finite[:-1] & finite[1:])[0]
    lim = 2.0 ** 15  # (16 bits a cell coordinate in a 64-bit key)
    near = ((np.abs(qx[seg]) < lim) & (np.abs(qy[seg]) < lim)
            & (np.abs(qx[seg + 1]) < lim) & (np.abs(qy[seg + 1]) < lim))
    a, b = seg[near], seg[near] + 1
    parts = [((qx[i] + lim).astype(np.uint64) << np.uint64(s)) for i, s in ((a, 48), (b, 16))]
    parts += [((qy[i] + lim).astype(np.uint64) << np.uint64(s)) for i, s in ((a, 32), (b, 0))]
    keys = parts[0] | parts[1] | parts[2] | parts[3]
    _, first = np.unique(keys, return_index=True)
    chosen = np.sort(np.concatenate([a[first], seg[~near]]))
    if keep is None and len(chosen) == len(x) - 1:
        return None
    xs, ys = np.empty(2 * len(chosen)), np.empty(2 * len(chosen))
    xs[0::2], xs[1::2] = x[chosen], x[chosen + 1]
    ys[0::2], ys[1::2] = y[chosen], y[chosen + 1]
    return xs, ys


class TrajectoryCurve(pg.PlotCurveItem):
    """An optimizer's path on the map. Its data are every iterate (hover and export read them all);
    on screen it is stroked

    - segment by segment: Qt strokes a thick antialiased polyline that zigzags across itself (SGD in
      a canyon) 20–50× slower than the same segments one by one (25 ms against 0.5 ms for 300
      iterates, measured);
    - through one iterate per half pixel: a converging run piles hundreds of iterates onto a few
      pixels, and one that oscillates about the minimum (RMSProp, AdaDelta) draws the same few
      segments thousands of times: each is stroked once (the picture is the same to within half a
      pixel; 2000 iterates of the Rosenbrock race cost 6 ms a frame, 20 000 about 30 ms).

    Exports draw every iterate as one polyline (an SVG keeps a single path per optimizer)."""

    CELL_PX = 0.5

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setSegmentedLineMode("on")

    def _stroked(self, x, y):
        """(xs, ys) of the segments to stroke, as pairs (connect="pairs"), or None: all of them."""
        if self._exportOpts is not False or x is None or len(x) < 3:
            return None
        px, py = self.pixelVectors()
        if px is None or py is None:
            return None
        return stroke_segments(x, y, self.CELL_PX * math.hypot(px.x(), px.y()),
                               self.CELL_PX * math.hypot(py.x(), py.y()))

    def generatePath(self, x, y):  # noqa: N802 - pyqtgraph's name
        pairs = self._stroked(x, y)
        if pairs is None:
            return super().generatePath(x, y)
        return pg.functions.arrayToQPath(pairs[0], pairs[1], connect="pairs")

    def _shouldUseDrawLineSegments(self, pen):  # noqa: N802 - pyqtgraph's name
        return self._exportOpts is False and super()._shouldUseDrawLineSegments(pen)

    def _getLineSegments(self):  # noqa: N802 - pyqtgraph's name
        if not self._lineSegmentsRendered:
            x, y = self.getData()
            pairs = self._stroked(x, y)
            if pairs is not None:
                x, y = pairs
            self._lineSegments = arrayToLineSegments(
                x, y, connect="pairs" if pairs is not None else self.opts["connect"],
                finiteCheck=not self.opts["skipFiniteCheck"], out=self._lineSegments)
            self._lineSegmentsRendered = True
        return self._lineSegments.drawargs()

    def _rethin(self) -> None:
        self.path = None
        self._lineSegmentsRendered = False

    def viewTransformChanged(self):  # noqa: N802 - pyqtgraph's name
        super().viewTransformChanged()
        self._rethin()  # (thinned for the old pixel size)

    def setExportMode(self, export, opts=None):  # noqa: N802 - pyqtgraph's name
        result = super().setExportMode(export, opts)
        self._rethin()  # (exports get every iterate, the screen the thinned path again)
        return result


def nice_ceiling(n: float, least: float = 10.0) -> float:
    """The first of 10, 15, 20, 30, 40, 50, 60, 80, 100, 150, … at or above ``n``: an iteration axis
    that grows in a few steps per decade (each curve fills at least two thirds of it)."""
    if n <= least:
        return float(least)
    k = 10.0 ** math.floor(math.log10(n))
    for m in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        if m * k >= n - 1e-9:
            return m * k
    return 10 * k


def view_span(values, step: float = Y_STEP) -> tuple[float, float] | None:
    """(lo, hi) of the finite ``values`` (view coordinates), widened a little and rounded out to
    multiples of ``step``; None when there are none."""
    lo, hi = math.inf, -math.inf
    for v in values:
        v = np.asarray(v, dtype=float)
        v = v[np.isfinite(v)]
        if v.size:
            lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    pad = 0.02 * max(hi - lo, step)
    a, b = math.floor((lo - pad) / step) * step, math.ceil((hi + pad) / step) * step
    return a, max(b, a + step)


class SteppedRange:
    """Keeps a curve plot's view range in steps: the x axis to :func:`nice_ceiling` of the iterations
    (never beyond the run's horizon), y to :func:`view_span` of the curves. The axes are laid out
    again only when a step is crossed, instead of autorange's new range (and tick text) every frame.
    Zooming by hand keeps the user's range until "auto" (the A button) gives it back."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.user = False
        self.last = None
        plot.vb.disableAutoRange()
        plot.vb.sigRangeChangedManually.connect(self._manual)

    def _manual(self, *_args) -> None:
        self.user = True

    def reset(self) -> None:
        self.last = None

    def update(self, count: int, horizon: int | None, ys) -> None:
        vb = self.plot.vb
        if any(vb.state["autoRange"]):  # "auto" pressed (or a log mode switched): the steps again
            vb.disableAutoRange()
            self.user, self.last = False, None
        if self.user:
            return
        x1 = nice_ceiling(count)
        if horizon is not None and horizon >= max(count, 10):
            x1 = min(x1, float(horizon))
        y = view_span(ys)
        if y is None:
            y = self.last[1] if self.last is not None else (0.0, 1.0)
        key = ((0.0, x1), y)
        if key != self.last:
            self.last = key
            pad = 0.02 * x1
            vb.setRange(xRange=(-pad, x1 + pad), yRange=y, padding=0)


def table_html(snap) -> str:
    """The numbers at the head, in the theme's colours: every word in the text colour (a run's colour
    is only its swatch ■), the header row and the note in the theme's header and muted colours."""
    th = theme()
    rows = [f"<tr style='background:{th.head_bg}; color:{th.fg}'><th>optimizer</th><th>θ at the head</th>"
            "<th>f(θ)</th><th>‖g‖</th><th>distance</th><th>effective η</th><th>‖v‖ / terminal</th>"
            "<th>state</th></tr>"]
    for i, name in enumerate(snap.names):
        path = snap.paths[i]
        finite = np.isfinite(path).all(axis=1)
        theta = path[finite][-1] if finite.any() else np.array([np.nan, np.nan])
        loss = np.asarray(snap.losses[i])
        f = loss[np.isfinite(loss)][-1] if np.isfinite(loss).any() else np.nan
        g = np.asarray(snap.grad_at_head[i], dtype=float)
        dist = np.asarray(snap.dist[i])
        d = f"{dist[np.isfinite(dist)][-1]:.3g}" if np.isfinite(dist).any() else "—"
        eff = snap.eff_lr_at_head[i]
        # (no step taken yet: no effective rate)
        eff_s = "—" if eff is None or not np.all(np.isfinite(eff)) else f"({eff[0]:.3g}, {eff[1]:.3g})"
        v = snap.velocity_at_head[i]
        tv = snap.terminal_velocity[i]
        v_s = "—" if v is None else f"{np.hypot(*v):.3g}" + (f" / {tv:.3g}" if np.isfinite(tv) else "")
        state = (f"<b style='color:{th.bad}'>diverged at step {snap.diverged_at[i]}</b>"
                 if snap.diverged_at[i] >= 0 else "running")
        color = rule_color(name)
        rows.append(f"<tr style='color:{th.fg}'><td><b style='color:{color}'>■</b> {RULE_LABELS.get(name, name)}</td>"
                    f"<td>({theta[0]:.3g}, {theta[1]:.3g})</td><td>{f:.4g}</td><td>{np.hypot(*g):.3g}</td>"
                    f"<td>{d}</td><td>{eff_s}</td><td>{v_s}</td><td>{state}</td></tr>")
    return (f"<table cellspacing=0 cellpadding=3 border=1 style='border-color:{th.border}; "
            f"background:{th.base}; white-space:nowrap'>" + "".join(rows) + "</table>")


def table_note_html() -> str:
    return (f"<span style='color:{theme().muted}'>Momentum: v ← μv − η∇f(θ), θ ← θ + v; under a constant "
            "gradient the speed tends to the terminal velocity η‖g‖/(1 − μ). Nesterov evaluates the gradient "
            "at θ + μv. Effective η: the per-coordinate step size of the adaptive methods.</span>")
