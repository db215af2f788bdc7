"""Data for the t-SNE panel: high-dimensional vectors with (optional) labels. Pure numpy, offline.

Every loader returns a :class:`VectorData`: ``X`` of shape ``(N, D)`` (float64), integer ``labels``
``0 .. K-1`` with the original label texts in ``class_names``, and, for image data, ``images`` of
shape ``(N, h, w)`` so a point's input can be shown as a picture.

- :func:`digits`: scikit-learn's bundled 8x8 handwritten digits (1797 images, 64 pixel values
  0..16, labels 0..9), optionally a random subsample. Nothing is downloaded.
- :func:`gaussian_clusters`: ``k`` Gaussian clusters in ``D`` dimensions with known labels.
- :func:`load_vectors_csv`: one vector per line, an optional label column.
- :func:`load_idx`: the MNIST IDX format (``train-images-idx3-ubyte`` and friends, optionally
  gzipped) for files the user already has, with the labels file found next to it.
- :func:`load_data_file`: IDX or CSV, decided by the file's first bytes.

Files are read by :mod:`nnsim.engine.datafiles` (the rules every loader shares); every problem
raises its :class:`DataFileError`, naming the file and, for text, the line and column.
- :func:`subsample`: a seeded subsample without replacement, in the original order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnsim.engine import datafiles
from nnsim.engine.datafiles import DataFileError, read_table  # noqa: F401  (DataFileError re-exported)

#: at most this many distinct labels (more would not be readable as colours)
MAX_CLASSES = 30
#: a file needs at least this many vectors for a map to mean anything
MIN_POINTS = 5
#: column names that mark the label column of a CSV header (case-insensitive)
LABEL_NAMES = ("label", "labels", "class", "target", "digit")


@dataclass(frozen=True, eq=False)
class VectorData:
    """Vectors to embed. Arrays are read-only: simulations and snapshots share them safely."""

    X: np.ndarray                   # (N, D) float64 (IDX bytes stay uint8 until subsampled)
    labels: np.ndarray              # (N,) int64 in 0 .. K-1
    class_names: tuple[str, ...]    # K label texts ("unlabelled" for data without labels)
    name: str                       # what the data are, for titles and messages
    images: np.ndarray | None = None  # (N, h, w) pixel values, for image data
    pixel_range: tuple[float, float] = (0.0, 1.0)  # display levels of ``images``

    def __post_init__(self):
        for arr in (self.X, self.labels, self.images):
            if arr is not None:
                arr.setflags(write=False)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])

    def take(self, idx: np.ndarray, name: str | None = None) -> "VectorData":
        """The rows ``idx`` as float64 vectors (labels keep their codes and names)."""
        images = None if self.images is None else self.images[idx].copy()
        return VectorData(np.array(self.X[idx], dtype=np.float64), self.labels[idx].copy(),
                          self.class_names, name or self.name, images, self.pixel_range)


def subsample(data: VectorData, n: int, rng: np.random.Generator) -> VectorData:
    """``n`` rows drawn without replacement (kept in their original order); all rows if n >= N.
    The result always holds float64 vectors."""
    if n >= data.n:
        return data if data.X.dtype == np.float64 else data.take(np.arange(data.n))
    idx = np.sort(rng.choice(data.n, size=int(n), replace=False))
    return data.take(idx, f"{data.name}, {n} of {data.n}")


def _digits_table() -> np.ndarray:
    """scikit-learn's ``datasets/data/digits.csv.gz`` (64 pixels and the label per row), read the
    way ``sklearn.datasets.load_digits`` reads it but without importing scikit-learn: that import
    (scipy.stats and friends) takes seconds, several times longer than reading the file."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")      # locates the package, does not import it
    for root in (spec.submodule_search_locations or ()) if spec is not None else ():
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, mode="rt", encoding="utf-8") as fh:
                return np.loadtxt(fh, delimiter=",")
    from sklearn.datasets import load_digits      # an unusual install: let scikit-learn find it

    d = load_digits()
    return np.concatenate([d.data, d.target[:, None]], axis=1)


def digits() -> VectorData:
    """All 1797 of scikit-learn's 8x8 digits: 64 pixel values 0..16 (ink), labels 0..9."""
    table = _digits_table()
    X = np.ascontiguousarray(table[:, :-1], dtype=np.float64)
    return VectorData(X, table[:, -1].astype(np.int64), tuple(str(k) for k in range(10)),
                      "8x8 digits (scikit-learn)", np.ascontiguousarray(X.reshape(-1, 8, 8)),
                      (0.0, 16.0))


def gaussian_clusters(n_points: int, n_clusters: int, dim: int, spread: float,
                      rng: np.random.Generator) -> VectorData:
    """``n_clusters`` isotropic Gaussian clusters in ``dim`` dimensions, labels = cluster index.

    Centres are drawn from N(0, I_D); each point is its centre plus N(0, spread^2 I_D). Two centres
    are about sqrt(2 D) apart and two points of one cluster about spread * sqrt(2 D), so ``spread``
    well below 1 gives well-separated clusters in any dimension. Points are split as evenly as
    possible between the clusters.
    """
    if n_clusters < 1 or dim < 1 or n_points < n_clusters:
        raise ValueError("need n_points >= n_clusters >= 1 and dim >= 1")
    centres = rng.standard_normal((n_clusters, dim))
    labels = np.arange(n_points, dtype=np.int64) % n_clusters
    X = centres[labels] + spread * rng.standard_normal((n_points, dim))
    return VectorData(X, labels, tuple(f"cluster {k}" for k in range(n_clusters)),
                      f"{n_clusters} Gaussian clusters in {dim}-D (spread {spread:g})")


def _encode(raw: list[str], where: str, path=None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Label texts -> codes 0..K-1, sorted numerically when every label is a number."""
    uniq = sorted(set(raw))
    try:
        uniq = sorted(uniq, key=float)
    except ValueError:
        pass
    if len(uniq) > MAX_CLASSES:
        raise DataFileError(f"{len(uniq)} different labels in {where}; at most {MAX_CLASSES} "
                            "classes can be coloured apart", path=path)
    index = {u: k for k, u in enumerate(uniq)}
    return np.array([index[r] for r in raw], dtype=np.int64), tuple(uniq)


def _label_text(field: str) -> str:
    """'3', '3.0' and ' 3 ' are the same label."""
    try:
        v = float(field)
    except ValueError:
        return field
    return str(int(v)) if math.isfinite(v) and v == int(v) else field


def load_vectors_csv(path, label_column: str = "auto") -> VectorData:
    """Read one vector per line from a text file (the rules of
    :func:`nnsim.engine.datafiles.read_table`: UTF-8, comma/semicolon/tab/space separated,
    ``#`` comments, an optional header row, errors naming the file, line and column).

    ``label_column``: ``"auto"`` uses the column whose header is one of :data:`LABEL_NAMES`
    (``label``, ``class``, ``target``, ...) when there is a header, else no labels; ``"last"`` /
    ``"first"`` take that column; ``"none"`` reads every column as a coordinate. Labels may be any
    non-empty text ("3" and "3.0" are the same label), at most :data:`MAX_CLASSES` distinct ones;
    every other column holds finite numbers. At least :data:`MIN_POINTS` rows are needed.
    """
    if label_column not in ("auto", "last", "first", "none"):
        raise ValueError(f"label_column must be auto, last, first or none, not {label_column!r}")
    table = read_table(path, label={"last": -1, "first": 0}.get(label_column),
                       label_names=LABEL_NAMES if label_column == "auto" else (),
                       expected="one vector of numbers per line")
    n = len(table.values)
    if n < MIN_POINTS:
        raise table.error(None, f"only {n} vector(s); at least {MIN_POINTS} are needed")
    if table.labels is None:
        codes, names = np.zeros(n, np.int64), ("unlabelled",)
    else:
        codes, names = _encode([_label_text(t) for t in table.labels], "the label column", path)
    X = np.ascontiguousarray(table.values)
    return VectorData(X, codes, names, f"{table.name} ({X.shape[0]} vectors, {X.shape[1]}-D)")


# ---- IDX (the MNIST file format: http://yann.lecun.com/exdb/mnist/, "FILE FORMATS") -------------
def looks_like_idx(raw: bytes) -> bool:
    """Whether (unpacked) bytes start like an IDX file (see :func:`datafiles.looks_like_idx`)."""
    return datafiles.looks_like_idx(raw)


def read_idx_array(path, raw: bytes | None = None) -> np.ndarray:
    """One IDX file as an array of its declared type and shape (:func:`datafiles.read_idx`)."""
    return datafiles.read_idx(path, raw)


def load_idx(path, labels_path=None) -> VectorData:
    """MNIST-style IDX images (or vectors) with labels from ``labels_path`` or the file beside it.

    A 3-D file ``(N, h, w)`` gives images and ``X`` = the flattened pixels; a 2-D file ``(N, D)``
    gives vectors. The labels file is 1-D with N entries. Without a labels file every point is
    "unlabelled". Problems (not IDX, truncated, a labels file given as data, counts that do not
    match) raise :class:`DataFileError`.
    """
    path = Path(path)
    arr = datafiles.read_idx(path)
    if arr.ndim == 1:
        raise DataFileError(f"it holds {arr.shape[0]} labels (a 1-D IDX file), not vectors: open "
                            "the images file (…-images-idx3-ubyte); its labels are found beside it",
                            path=path)
    if arr.ndim > 3:
        raise DataFileError(f"{arr.ndim} dimensions; expected images (N x h x w) or vectors "
                            "(N x D)", path=path)
    if arr.shape[0] < MIN_POINTS:
        raise DataFileError(f"only {arr.shape[0]} item(s); at least {MIN_POINTS} are needed",
                            path=path)
    if arr.dtype != np.uint8:      # bytes stay bytes (60000 MNIST images: 47 MB, not 376 MB)
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise DataFileError("it contains values that are not finite numbers", path=path)
    images = arr if arr.ndim == 3 else None
    X = arr.reshape(arr.shape[0], -1)
    lp = Path(labels_path) if labels_path is not None else datafiles.idx_labels_path(path)
    if lp is not None:
        lab = datafiles.read_idx(lp)
        if lab.ndim != 1:
            raise DataFileError("a labels file must be 1-D, this one is "
                                f"{' x '.join(map(str, lab.shape))}", path=lp)
        if lab.shape[0] != X.shape[0]:
            raise DataFileError(f"{lab.shape[0]} labels but {path.name} has {X.shape[0]} items",
                                path=lp)
        codes, names = _encode([_label_text(str(v)) for v in lab.tolist()], lp.name, lp)
    else:
        codes, names = np.zeros(X.shape[0], np.int64), ("unlabelled",)
    hi = 255.0 if arr.dtype == np.uint8 else float(X.max())
    lo = 0.0 if arr.dtype == np.uint8 else float(X.min())
    what = f"{path.name} ({X.shape[0]} {'images' if images is not None else 'vectors'}, " \
           f"{X.shape[1]}-D{', no labels file' if lp is None else ''})"
    return VectorData(X, codes, names, what, images, (lo, hi if hi > lo else lo + 1.0))


def load_data_file(path, label_column: str = "auto") -> VectorData:
    """IDX (MNIST) when the file, unpacked if gzipped, starts with two zero bytes; else CSV text
    (:func:`load_vectors_csv`; a gzipped CSV file is read too)."""
    if datafiles.is_idx_file(path):
        return load_idx(path)
    return load_vectors_csv(path, label_column)
