"""Two-dimensional error surfaces f(x, y) for the optimizer race.

Every surface has its value, its exact gradient and its exact Hessian as numba functions selected by
an integer id (:func:`value`, :func:`grad`, :func:`hess`; a surface parameter such as the canyon's
condition number ``kappa`` travels in a small float array ``p``), the bounds of a good view, its
known minima, the global minimum value ``f_min``, a default start, a label and a one-line lesson.

The value formulas are plain Python functions written with ``np.exp`` etc., so the same text is
compiled by numba for scalars and evaluated by numpy over a whole grid for the contour plot.

========== ========================================= ==========================================
name       f(x, y)                                   teaches
========== ========================================= ==========================================
canyon     ½ (x² + κ y²)                             ill-conditioning: GD zig-zags, momentum
                                                     goes lengthwise, Newton jumps in one step
rosenbrock (1 − x)² + 100 (y − x²)²                  a curved, flat-bottomed valley
beale      (1.5 − x + xy)² + (2.25 − x + xy²)²       sharp ridges next to flat arms: gradient
           + (2.625 − x + xy³)²                      sizes differ by orders of magnitude
saddle     x² − y²                                   a saddle point: SGD stalls, adaptive
                                                     methods escape
himmelblau (x² + y − 11)² + (x + y² − 7)²            four global minima: the start decides
camel      (4 − 2.1x² + x⁴/3) x² + xy + (4y² − 4) y² six-hump camel: six local minima of
                                                     different depth (non-convex)
plateau    1 − exp(−(x² + 2y²)/2)                    a well in a flat plain: gradients vanish
========== ========================================= ==========================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nnsim.engine._jit import njit

# integer ids used by the numba kernels (order of SURFACES)
CANYON, ROSENBROCK, BEALE, SADDLE, HIMMELBLAU, CAMEL, PLATEAU = range(7)


# ---- value formulas: plain Python, valid for scalars (numba) and numpy arrays (contour grid) -----
def _f_canyon(x, y, kappa):
    return 0.5 * (x * x + kappa * y * y)


def _f_rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def _f_beale(x, y):
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2
            + (2.625 - x + x * y * y * y) ** 2)


def _f_saddle(x, y):
    return x * x - y * y


def _f_himmelblau(x, y):
    return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2


def _f_camel(x, y):
    x2 = x * x
    y2 = y * y
    return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2


def _f_plateau(x, y):
    return 1.0 - np.exp(-0.5 * (x * x + 2.0 * y * y))


_FORMULAS = (lambda x, y, p0: _f_canyon(x, y, p0), _f_rosenbrock, _f_beale, _f_saddle,
             _f_himmelblau, _f_camel, _f_plateau)

_nb_canyon = njit(_f_canyon)
_nb_rosenbrock = njit(_f_rosenbrock)
_nb_beale = njit(_f_beale)
_nb_saddle = njit(_f_saddle)
_nb_himmelblau = njit(_f_himmelblau)
_nb_camel = njit(_f_camel)
_nb_plateau = njit(_f_plateau)


@njit
def value(sid, x, y, p):
    """f(x, y) of surface ``sid`` (``p[0]`` = kappa for the canyon)."""
    if sid == CANYON:
        return _nb_canyon(x, y, p[0])
    if sid == ROSENBROCK:
        return _nb_rosenbrock(x, y)
    if sid == BEALE:
        return _nb_beale(x, y)
    if sid == SADDLE:
        return _nb_saddle(x, y)
    if sid == HIMMELBLAU:
        return _nb_himmelblau(x, y)
    if sid == CAMEL:
        return _nb_camel(x, y)
    return _nb_plateau(x, y)


@njit
def grad(sid, x, y, p):
    """Exact gradient ``(∂f/∂x, ∂f/∂y)`` of surface ``sid``."""
    if sid == CANYON:
        return x, p[0] * y
    if sid == ROSENBROCK:
        return -2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)
    if sid == BEALE:
        y2 = y * y
        a = 1.5 - x + x * y
        b = 2.25 - x + x * y2
        c = 2.625 - x + x * y2 * y
        gx = 2.0 * (a * (y - 1.0) + b * (y2 - 1.0) + c * (y2 * y - 1.0))
        gy = 2.0 * (a * x + b * 2.0 * x * y + c * 3.0 * x * y2)
        return gx, gy
    if sid == SADDLE:
        return 2.0 * x, -2.0 * y
    if sid == HIMMELBLAU:
        u = x * x + y - 11.0
        w = x + y * y - 7.0
        return 4.0 * x * u + 2.0 * w, 2.0 * u + 4.0 * y * w
    if sid == CAMEL:
        x2 = x * x
        return 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y, x - 8.0 * y + 16.0 * y * y * y
    e = math.exp(-0.5 * (x * x + 2.0 * y * y))
    return e * x, e * 2.0 * y


@njit
def hess(sid, x, y, p):
    """Exact Hessian entries ``(f_xx, f_xy, f_yy)`` of surface ``sid``."""
    if sid == CANYON:
        return 1.0, 0.0, p[0]
    if sid == ROSENBROCK:
        return 2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x, 200.0
    if sid == BEALE:
        y2 = y * y
        a = 1.5 - x + x * y
        b = 2.25 - x + x * y2
        c = 2.625 - x + x * y2 * y
        ax, ay = y - 1.0, x
        bx, by = y2 - 1.0, 2.0 * x * y
        cx, cy = y2 * y - 1.0, 3.0 * x * y2
        hxx = 2.0 * (ax * ax + bx * bx + cx * cx)
        hxy = 2.0 * (ax * ay + a + bx * by + b * 2.0 * y + cx * cy + c * 3.0 * y2)
        hyy = 2.0 * (ay * ay + by * by + b * 2.0 * x + cy * cy + c * 6.0 * x * y)
        return hxx, hxy, hyy
    if sid == SADDLE:
        return 2.0, 0.0, -2.0
    if sid == HIMMELBLAU:
        u = x * x + y - 11.0
        w = x + y * y - 7.0
        return 4.0 * u + 8.0 * x * x + 2.0, 4.0 * x + 4.0 * y, 2.0 + 4.0 * w + 8.0 * y * y
    if sid == CAMEL:
        x2 = x * x
        return 8.0 - 25.2 * x2 + 10.0 * x2 * x2, 1.0, -8.0 + 48.0 * y * y
    e = math.exp(-0.5 * (x * x + 2.0 * y * y))
    return e * (1.0 - x * x), -e * 2.0 * x * y, e * (2.0 - 4.0 * y * y)


# ---- the catalogue -----------------------------------------------------------------------------
_CAMEL_MIN = ((0.08984201310031807, -0.7126564030207396), (1.7036067149699807, -0.7960835686726251),
              (-1.6071047529201972, -0.5686514548841314))


@dataclass(frozen=True)
class SurfaceSpec:
    """Fixed facts about one surface (parameters such as kappa are given to :class:`Surface`)."""

    name: str
    sid: int
    label: str
    description: str
    bounds: tuple          # (xmin, xmax, ymin, ymax) of the view
    minima: tuple          # ((x, y), ...) known local/global minima; empty for the saddle
    f_min: float | None    # global minimum value (None: unbounded below)
    start: tuple           # default start (x, y)


SPECS = {s.name: s for s in (
    SurfaceSpec("canyon", CANYON, "Canyon ½(x² + κy²)",
                "An elongated quadratic with condition number κ: gradient descent zig-zags across "
                "the walls, momentum travels lengthwise, Newton jumps to the minimum in one step.",
                (-5.0, 5.0, -3.0, 3.0), ((0.0, 0.0),), 0.0, (-4.5, 1.5)),
    SurfaceSpec("rosenbrock", ROSENBROCK, "Rosenbrock (1 − x)² + 100(y − x²)²",
                "A curved, flat-bottomed valley: reaching the valley is easy, following it to the "
                "minimum at (1, 1) is slow for plain gradient descent.",
                (-2.0, 2.0, -1.0, 3.0), ((1.0, 1.0),), 0.0, (-1.2, 1.0)),
    SurfaceSpec("beale", BEALE, "Beale's function",
                "Sharp ridges next to almost flat arms: gradient sizes differ by orders of "
                "magnitude, which per-parameter adaptive rates handle better.",
                (-4.5, 4.5, -4.5, 4.5), ((3.0, 0.5),), 0.0, (1.0, 1.4)),
    SurfaceSpec("saddle", SADDLE, "Saddle x² − y²",
                "A saddle point at the origin: near it the gradient is tiny, so SGD creeps along "
                "while adaptive methods rescale the small gradient and escape (no minimum: the "
                "surface falls without bound in y).",
                (-2.0, 2.0, -2.0, 2.0), (), None, (-1.5, 1e-3)),
    SurfaceSpec("himmelblau", HIMMELBLAU, "Himmelblau (x² + y − 11)² + (x + y² − 7)²",
                "Four global minima with f = 0: which one is reached depends on the start and on "
                "the optimizer (non-convex, several equally good solutions).",
                (-5.0, 5.0, -5.0, 5.0),
                ((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                 (-3.779310253377747, -3.283185991286170), (3.584428340330492, -1.848126526964404)),
                0.0, (-0.3, -0.9)),
    SurfaceSpec("camel", CAMEL, "Six-hump camel",
                "Six local minima of different depth (two global, f = −1.0316): gradient methods "
                "settle in the nearest basin; noise or momentum may carry them to a better one.",
                (-2.2, 2.2, -1.3, 1.3),
                tuple((sx * x, sx * y) for x, y in _CAMEL_MIN for sx in (1.0, -1.0)),
                -1.0316284534898774, (-1.9, 1.1)),
    SurfaceSpec("plateau", PLATEAU, "Plateau 1 − exp(−(x² + 2y²)/2)",
                "A well in a flat plain: far from the well the gradient almost vanishes, so "
                "gradient descent barely moves while adaptive methods rescale it and walk in.",
                (-4.0, 4.0, -4.0, 4.0), ((0.0, 0.0),), 0.0, (-3.0, 1.5)),
)}

#: surface names in menu order
SURFACES = tuple(SPECS)
#: ``(name, label)`` pairs for a choice field
SURFACE_CHOICES = tuple((s.name, s.label) for s in SPECS.values())


@lru_cache(maxsize=64)
def _grid(name: str, p: tuple, nx: int, ny: int):
    spec = SPECS[name]
    x0, x1, y0, y1 = spec.bounds
    gx = np.linspace(x0, x1, nx)
    gy = np.linspace(y0, y1, ny)
    X, Y = np.meshgrid(gx, gy)
    gz = np.asarray(_FORMULAS[spec.sid](X, Y, *p[:1]) if spec.sid == CANYON
                    else _FORMULAS[spec.sid](X, Y), dtype=np.float64)
    for a in (gx, gy, gz):
        a.flags.writeable = False
    return gx, gy, gz


@lru_cache(maxsize=64)
def _levels(name: str, p: tuple, n: int):
    gz = _grid(name, p, 200, 200)[2]
    q = np.unique(np.quantile(gz[np.isfinite(gz)], np.linspace(0.0, 1.0, n + 2) ** 2.5)[1:-1])
    q.flags.writeable = False
    return q


class Surface:
    """One surface with its parameters: value/grad/hessian for Python callers and the numba ids.

    >>> s = Surface("canyon", kappa=10)
    >>> s.value(1.0, 1.0), tuple(s.grad(1.0, 1.0))
    (5.5, (1.0, 10.0))
    """

    def __init__(self, name: str, **params):
        if name not in SPECS:
            raise ValueError(f"unknown surface {name!r}; choose one of {', '.join(SURFACES)}")
        self.spec = SPECS[name]
        kappa = params.pop("kappa", 20.0)
        if params:
            raise TypeError(f"surface {name!r} has no parameter(s) {', '.join(params)}")
        if name != "canyon":
            kappa = 20.0  # unused
        if not (math.isfinite(kappa) and kappa > 0):
            raise ValueError(f"kappa must be a positive number, got {kappa!r}")
        self.kappa = float(kappa)
        self.p = np.array([self.kappa, 0.0], dtype=np.float64)

    # ---- facts
    name = property(lambda self: self.spec.name)
    sid = property(lambda self: self.spec.sid)
    label = property(lambda self: self.spec.label)
    description = property(lambda self: self.spec.description)
    bounds = property(lambda self: self.spec.bounds)
    f_min = property(lambda self: self.spec.f_min)
    start = property(lambda self: self.spec.start)

    @property
    def minima(self) -> np.ndarray:
        """``(k, 2)`` known minima (local and global; empty for the saddle)."""
        return np.array(self.spec.minima, dtype=np.float64).reshape(-1, 2)

    @property
    def params_key(self) -> tuple:
        return (self.kappa,) if self.spec.sid == CANYON else ()

    def __repr__(self) -> str:
        extra = f", kappa={self.kappa:g}" if self.spec.sid == CANYON else ""
        return f"Surface({self.name!r}{extra})"

    # ---- maths
    def value(self, x, y):
        """f over scalars or numpy arrays (broadcast)."""
        if self.spec.sid == CANYON:
            return _FORMULAS[CANYON](x, y, self.kappa)
        return _FORMULAS[self.spec.sid](x, y)

    def grad(self, x: float, y: float) -> np.ndarray:
        return np.array(grad(self.spec.sid, float(x), float(y), self.p))

    def hessian(self, x: float, y: float) -> np.ndarray:
        hxx, hxy, hyy = hess(self.spec.sid, float(x), float(y), self.p)
        return np.array([[hxx, hxy], [hxy, hyy]])

    def grid(self, nx: int = 200, ny: int = 200):
        """``(gx (nx,), gy (ny,), gz (ny, nx))`` over the view, computed once and cached.
        The arrays are read-only (shared between callers)."""
        return _grid(self.name, self.params_key, int(nx), int(ny))

    def levels(self, n: int = 24) -> np.ndarray:
        """Suggested contour levels (cached, read-only): quantiles of f over the view, denser
        where f is low."""
        return _levels(self.name, self.params_key, int(n))

    def nearest_minimum_distance(self, path: np.ndarray) -> np.ndarray:
        """Distance of each row of ``path`` (m, 2) to the nearest known minimum (NaN if none)."""
        path = np.asarray(path, dtype=np.float64).reshape(-1, 2)
        mins = self.minima
        if len(mins) == 0:
            return np.full(len(path), np.nan)
        d = np.sqrt(((path[:, None, :] - mins[None, :, :]) ** 2).sum(axis=-1))
        return d.min(axis=1)


def get(surface, **params) -> Surface:
    """A :class:`Surface` from a name (with parameters) or an existing Surface (returned as is)."""
    if isinstance(surface, Surface):
        if params:
            raise TypeError("pass parameters when building the surface, not with a Surface object")
        return surface
    return Surface(str(surface), **params)
