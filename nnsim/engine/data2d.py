"""2-D classification data for the MLP panel (pure numpy).

Every generator returns ``X`` (m, 2) float64 and integer ``labels`` (m,) in ``0 .. K-1``; random sets
take a ``numpy.random.Generator`` so the simulation's seed fixes them. ``noise`` is always the
standard deviation of Gaussian noise added to each coordinate (data units; the sets span about
[−1.5, 1.5]). Points are split as evenly as possible between the classes.

- ``xor4``: the truth table (0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0, the course article's 2×3×1 task
  (4 points; ``n_points`` and ``noise`` are ignored).
- ``xor``: points uniform in [−1, 1]² (a margin of 0.1 kept clear of the axes), class 1 where
  x₁ and x₂ have different signs.
- ``circles``: two concentric rings of radius 0.5 (class 0) and 1 (class 1).
- ``moons``: two interleaved half circles (the usual "two moons"), centred.
- ``spirals2`` / ``spirals3``: 2 or 3 interleaved spiral arms in the style of Stanford's CS231n
  notes (radius growing linearly from 0.05 to 1 while the angle turns through 4.5 rad; the arms are
  offset by 2π/K). The course material has no spiral set.
- ``blobs3``: 3 classes of two Gaussian blobs each, on the corners of a hexagon with opposite corners
  in the same class, so no straight line separates a class from the others (like the course's
  non-linear 3-class example, 004, whose generator is not given). Blob std = ``spread``.
- ``gauss``: one Gaussian cluster (std ``spread``) per class, ``classes`` of them on a circle of
  radius 1.

:func:`split` makes a stratified train/test split; :func:`load_csv` reads ``x1, x2, label`` files
through :func:`nnsim.engine.datasets.load_xy_csv`.
"""

from __future__ import annotations

import math

import numpy as np

from nnsim.engine.datasets import DataFileError, load_xy_csv  # noqa: F401  (re-exported)

DATASETS = (("xor4", "XOR truth table (4 points)"), ("xor", "XOR (noisy quadrants)"),
            ("circles", "Two circles"), ("moons", "Two moons"), ("spirals2", "Spirals, 2 arms"),
            ("spirals3", "Spirals, 3 arms"), ("blobs3", "3 classes, 2 blobs each"),
            ("gauss", "Gaussian clusters"), ("user", "Your points / CSV file"))
NAMES = tuple(d[0] for d in DATASETS)
#: angle (rad) each spiral arm turns through
SPIRAL_TURN = 4.5


def class_sizes(n: int, k: int) -> list[int]:
    """``n`` points shared out over ``k`` classes as evenly as possible (the first ones get more)."""
    return [n // k + (1 if c < n % k else 0) for c in range(k)]


def _noisy(X: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return X


def xor4() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0], dtype=np.int64)


def xor(n: int, noise: float, rng: np.random.Generator):
    parts, labels = [], []
    for c, m in enumerate(class_sizes(n, 2)):
        s1 = rng.choice([-1.0, 1.0], m)
        s2 = s1 if c == 0 else -s1                 # same signs: class 0; different: class 1
        parts.append(rng.uniform(0.1, 1.0, (m, 2)) * np.stack([s1, s2], axis=1))
        labels.append(np.full(m, c, np.int64))
    return _noisy(np.vstack(parts), noise, rng), np.concatenate(labels)


def circles(n: int, noise: float, rng: np.random.Generator):
    sizes = class_sizes(n, 2)
    parts, labels = [], []
    for c, (m, r) in enumerate(zip(sizes, (0.5, 1.0))):
        t = rng.uniform(0.0, 2 * math.pi, m)
        parts.append(np.stack([r * np.cos(t), r * np.sin(t)], axis=1))
        labels.append(np.full(m, c, np.int64))
    return _noisy(np.vstack(parts), noise, rng), np.concatenate(labels)


def moons(n: int, noise: float, rng: np.random.Generator):
    m0, m1 = class_sizes(n, 2)
    t0 = rng.uniform(0.0, math.pi, m0)
    t1 = rng.uniform(0.0, math.pi, m1)
    a = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    b = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.vstack([a, b]) - np.array([0.5, 0.25])
    labels = np.concatenate([np.zeros(m0, np.int64), np.ones(m1, np.int64)])
    return _noisy(X, noise, rng), labels


def spirals(n: int, arms: int, noise: float, rng: np.random.Generator):
    parts, labels = [], []
    for c, m in enumerate(class_sizes(n, arms)):
        r = np.linspace(0.05, 1.0, m)
        t = np.linspace(0.0, SPIRAL_TURN, m) + 2 * math.pi * c / arms
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        labels.append(np.full(m, c, np.int64))
    return _noisy(np.vstack(parts), noise, rng), np.concatenate(labels)


def clusters_on_circle(n: int, k: int, spread: float, noise: float, rng: np.random.Generator,
                       per_class: int = 1):
    """``k * per_class`` Gaussian blobs (std ``spread``) on a circle of radius 1; blob b belongs to
    class ``b % k`` (with ``per_class = 2`` opposite corners share a class)."""
    n_blobs = k * per_class
    parts, labels = [], []
    for c, m in enumerate(class_sizes(n, k)):
        for j, mb in enumerate(class_sizes(m, per_class)):
            b = c + j * k
            a = math.pi / 2 + 2 * math.pi * b / n_blobs
            centre = np.array([math.cos(a), math.sin(a)])
            parts.append(centre + spread * rng.standard_normal((mb, 2)))
            labels.append(np.full(mb, c, np.int64))
    return _noisy(np.vstack(parts), noise, rng), np.concatenate(labels)


def make(name: str, rng: np.random.Generator, n_points: int = 200, noise: float = 0.1,
         spread: float = 0.3, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The data set ``name`` (see the module docstring); "user" is not generated here."""
    n = int(n_points)
    if name == "xor4":
        return xor4()
    if n < 2:
        raise ValueError("at least 2 points are needed")
    if name == "xor":
        return xor(n, noise, rng)
    if name == "circles":
        return circles(n, noise, rng)
    if name == "moons":
        return moons(n, noise, rng)
    if name in ("spirals2", "spirals3"):
        return spirals(n, int(name[-1]), noise, rng)
    if name == "blobs3":
        return clusters_on_circle(n, 3, spread, noise, rng, per_class=2)
    if name == "gauss":
        return clusters_on_circle(n, int(classes), spread, noise, rng)
    raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(NAMES)}")


def split(labels: np.ndarray, test_fraction: float, rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: indices ``(train, test)`` (sorted). Each class gives
    ``round(test_fraction · n_c)`` of its points to the test set but keeps at least one for training."""
    labels = np.asarray(labels)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        k = min(int(round(test_fraction * len(idx))), len(idx) - 1)
        test.append(idx[:k])
        train.append(idx[k:])
    cat = (lambda parts: np.sort(np.concatenate(parts)).astype(np.int64) if parts
           else np.empty(0, np.int64))
    return cat(train), cat(test)


def load_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """``x1, x2, label`` rows (see :func:`nnsim.engine.datasets.load_xy_csv`; raises DataFileError)."""
    return load_xy_csv(path)
