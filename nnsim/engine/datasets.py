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
- :func:`load_xy_csv`: user points from a ``x1, x2, label`` CSV file, with line-numbered errors.
"""

from __future__ import annotations

import math
import os

import numpy as np

MAX_CLASSES = 20

_GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
}


class DataFileError(ValueError):
    """A problem with a data file. ``line`` is the 1-based line number, or None for the whole file."""

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        self.reason = message
        super().__init__(f"line {line}: {message}" if line is not None else message)


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


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_xy_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read ``x1, x2, label`` rows from a UTF-8 CSV file.

    An optional header (a first row whose fields are all non-numeric) is skipped, as are blank
    lines and lines starting with ``#``. Coordinates must be finite numbers; labels non-negative
    whole numbers ("1" or "1.0"), at most 20 distinct ones, returned compressed to ``0 .. K-1`` in
    sorted order. At least 2 points are required; a single class is allowed. Every problem raises
    :class:`DataFileError` naming the line.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise DataFileError(f"cannot read {os.fspath(path)!r}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataFileError("the file is not UTF-8 text (undecodable byte "
                            f"0x{raw[exc.start]:02x}); save it as UTF-8 CSV", line) from exc

    rows, values, seen_content = [], [], False
    names = ("x1", "x2")
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [f.strip() for f in stripped.split(",")]
        if not seen_content:
            seen_content = True
            if not any(_is_number(f) for f in fields):
                continue  # header line
        if len(fields) != 3:
            raise DataFileError(f"expected 3 comma-separated values (x1, x2, label), got {len(fields)}",
                                lineno)
        xy = []
        for name, f in zip(names, fields[:2]):
            try:
                v = float(f)
            except ValueError:
                raise DataFileError(f"{name} value {f!r} is not a number", lineno) from None
            if not math.isfinite(v):
                raise DataFileError(f"{name} value {f!r} is not a finite number", lineno)
            xy.append(v)
        f = fields[2]
        try:
            lab = float(f)
        except ValueError:
            raise DataFileError(f"label {f!r} is not a number", lineno) from None
        if not math.isfinite(lab) or lab != int(lab):
            raise DataFileError(f"label {f!r} is not a whole number", lineno)
        if lab < 0:
            raise DataFileError(f"label {f!r} is negative; labels must be 0 or greater", lineno)
        values.append(xy)
        rows.append(int(lab))

    if not rows:
        raise DataFileError("no data rows (expected lines of x1, x2, label)")
    if len(rows) < 2:
        raise DataFileError("only 1 data row; at least 2 points are needed")
    codes, classes = encode_labels(np.array(rows, dtype=np.int64))
    if len(classes) > MAX_CLASSES:
        raise DataFileError(f"{len(classes)} different labels; at most {MAX_CLASSES} classes are supported")
    return np.array(values, dtype=np.float64), codes


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
