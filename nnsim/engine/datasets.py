"""Small 2-D toy data sets for the perceptron and friends (pure numpy).

Every function returns ``X`` of shape ``(m, 2)`` (float64) and integer ``labels`` of shape ``(m,)``
with values ``0 .. K-1``. Random sets take a ``numpy.random.Generator`` so a simulation's seed fixes
them.

- :func:`logic_gate`: the truth tables of AND, OR and XOR on ``{0, 1}^2``. AND and OR are linearly
  separable (e.g. ``x1 + x2 > 1.5`` and ``x1 + x2 > 0.5``); XOR is not.
- :func:`worked_example`: the lecture's three points with a boundary through the origin.
- :func:`two_clusters`: the perceptron article's 66 + 34 uniform points.
- :func:`blobs_corners`: k Gaussian blobs at the corners of a regular polygon, each separable from
  the others together (one-vs-rest).
- :func:`load_xy_csv`: user points from a ``x1, x2, label`` CSV file (the shared rules of
  :mod:`nnsim.engine.datafiles`, errors naming the file, line and column).
"""

from __future__ import annotations

import math
import os

import numpy as np

from nnsim.engine.datafiles import DataFileError, read_table  # noqa: F401  (DataFileError re-exported)

MAX_CLASSES = 20

_GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Truth table of ``name`` in {"and", "or", "xor"}: X = (0,0), (0,1), (1,0), (1,1)."""
    key = name.lower()
    if key not in _GATES:
        raise ValueError(f"unknown logic gate {name!r}; expected one of {sorted(_GATES)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array(_GATES[key], dtype=np.int64)


def worked_example() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lecture's example: x1 = (1, 2) -> 1, x2 = (-1, 2) -> 0, x3 = (0, -1) -> 0.

    Returns ``(X, labels, w0)`` where ``w0 = [0, 1, -0.8]`` is the initial weight vector in the
    augmented layout ``[w_bias, w1, w2]``: the bias weight is 0 and the example has no bias input,
    so the boundary ``x1 - 0.8 x2 = 0`` passes through the origin.
    """
    X = np.array([[1.0, 2.0], [-1.0, 2.0], [0.0, -1.0]])
    return X, np.array([1, 0, 0], dtype=np.int64), np.array([0.0, 1.0, -0.8])


def two_clusters(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """66 points uniform in [0.5, 4]^2 labelled 1, then 34 points uniform in [5, 10]^2 labelled 0."""
    a = 0.5 + (4.0 - 0.5) * rng.random((66, 2))
    b = 5.0 + (10.0 - 5.0) * rng.random((34, 2))
    labels = np.concatenate([np.ones(66, np.int64), np.zeros(34, np.int64)])
    return np.vstack([a, b]), labels


def blobs_corners(k: int, rng: np.random.Generator, n_per_class: int = 25,
                  spread: float = 0.6, radius: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """``k`` Gaussian blobs (std ``spread``) centred on the vertices of a regular k-gon of ``radius``.

    Class c sits at ``radius * (cos a_c, sin a_c)`` with ``a_c = pi/2 + 2 pi c / k``. Another vertex
    projects onto the direction ``u_c`` at most ``radius * cos(2 pi / k)``, so the line perpendicular
    to ``u_c`` halfway separates class c from the rest provided no point strays further than
    ``g = radius (1 - cos(2 pi / k)) / 2`` from its centre. Offsets longer than ``0.95 g`` are
    redrawn, which makes every class linearly separable from the others (one-vs-rest).
    """
    if k < 3:
        raise ValueError(f"blobs_corners needs k >= 3 classes, got {k}")
    limit = 0.95 * radius * (1.0 - math.cos(2.0 * math.pi / k)) / 2.0
    X, labels = [], []
    for c in range(k):
        a = math.pi / 2 + 2.0 * math.pi * c / k
        centre = radius * np.array([math.cos(a), math.sin(a)])
        pts = np.empty((n_per_class, 2))
        filled = 0
        while filled < n_per_class:
            cand = spread * rng.standard_normal((n_per_class, 2))
            cand = cand[np.hypot(cand[:, 0], cand[:, 1]) <= limit][: n_per_class - filled]
            pts[filled:filled + len(cand)] = cand
            filled += len(cand)
        X.append(centre + pts)
        labels.append(np.full(n_per_class, c, np.int64))
    return np.vstack(X), np.concatenate(labels)


def encode_labels(labels) -> tuple[np.ndarray, np.ndarray]:
    """Map non-negative integer labels to ``0 .. K-1`` in sorted order; return ``(codes, classes)``."""
    raw = np.asarray(labels)
    if raw.size and (raw.dtype.kind not in "iuf" or not np.all(np.isfinite(raw))
                     or np.any(raw < 0) or np.any(raw != np.round(raw))):
        raise ValueError("labels must be non-negative whole numbers")
    raw = raw.astype(np.int64).reshape(-1)
    classes = np.unique(raw)
    return np.searchsorted(classes, raw).astype(np.int64), classes


def load_xy_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read ``x1, x2, label`` rows from a text file; return ``(X, labels)``.

    The file rules (encoding, separator, comments, header, limits) are those of
    :func:`nnsim.engine.datafiles.read_table`. Each row has exactly 3 values: two finite coordinates
    and a label that is a whole number 0 or greater ("1" or "1.0"). At most 20 distinct labels,
    returned compressed to ``0 .. K-1`` in sorted order. At least 2 points are required; a single
    class is allowed. Every problem raises :class:`DataFileError` naming the file and the line
    and column.
    """
    table = read_table(path, label=2, columns=3, names=("x1", "x2", "label"),
                       expected="lines of x1, x2, label")
    if len(table.values) < 2:
        raise table.error(None, "only 1 data row; at least 2 points are needed")
    codes, classes = encode_labels(table.whole_labels())
    if len(classes) > MAX_CLASSES:
        raise table.error(None, f"{len(classes)} different labels; at most {MAX_CLASSES} classes "
                                "are supported")
    return np.ascontiguousarray(table.values), codes


def user_points(X, labels) -> tuple[np.ndarray, np.ndarray]:
    """Validate points a user placed or loaded: an (m, 2) float64 copy of finite coordinates and the
    labels compressed to 0..K-1 (at most MAX_CLASSES). Raises ParamError naming the problem."""
    from nnsim.engine.base import ParamError

    try:
        X = np.array(X, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ParamError("User points: coordinates must be numbers") from None
    if X.size == 0:
        X = np.empty((0, 2))
    if X.ndim != 2 or X.shape[1] != 2:
        raise ParamError(f"User points: expected an (m, 2) array of x1, x2, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ParamError("User points: every coordinate must be a finite number")
    try:
        codes, classes = encode_labels(np.asarray(labels).reshape(-1))
    except ValueError as exc:
        raise ParamError(f"User points: {exc}") from None
    if len(codes) != len(X):
        raise ParamError(f"User points: {len(X)} points but {len(codes)} labels")
    if len(classes) > MAX_CLASSES:
        raise ParamError(f"User points: {len(classes)} classes; at most {MAX_CLASSES}")
    return X, codes
