"""Data for the t-SNE panel: high-dimensional vectors with (optional) labels. Pure numpy, offline.

Every loader returns a :class:`VectorData`: ``X`` of shape ``(N, D)`` (float64), integer ``labels``
``0 .. K-1`` with the original label texts in ``class_names``, and, for image data, ``images`` of
shape ``(N, h, w)`` so a point's input can be shown as a picture.

- :func:`digits`: scikit-learn's bundled 8x8 handwritten digits (1797 images, 64 pixel values
  0..16, labels 0..9), optionally a random subsample. Nothing is downloaded.
- :func:`gaussian_clusters`: ``k`` Gaussian clusters in ``D`` dimensions with known labels.
- :func:`load_vectors_csv`: one vector per line, an optional label column, errors naming the line.
- :func:`load_idx`: the MNIST IDX format (``train-images-idx3-ubyte`` and friends, optionally
  gzipped) for files the user already has, with the labels file found next to it.
- :func:`load_data_file`: IDX or CSV, decided by the file's first bytes.
- :func:`subsample`: a seeded subsample without replacement, in the original order.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnsim.engine.datasets import DataFileError

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


def digits() -> VectorData:
    """All 1797 of scikit-learn's 8x8 digits: 64 pixel values 0..16 (ink), labels 0..9."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return VectorData(np.ascontiguousarray(d.data, dtype=np.float64), d.target.astype(np.int64),
                      tuple(str(k) for k in range(10)), "8x8 digits (scikit-learn)",
                      np.ascontiguousarray(d.images, dtype=np.float64), (0.0, 16.0))


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


def _encode(raw: list[str], where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Label texts -> codes 0..K-1, sorted numerically when every label is a number."""
    uniq = sorted(set(raw))
    try:
        uniq = sorted(uniq, key=float)
    except ValueError:
        pass
    if len(uniq) > MAX_CLASSES:
        raise DataFileError(f"{len(uniq)} different labels in {where}; at most {MAX_CLASSES} "
                            "classes can be coloured apart")
    index = {u: k for k, u in enumerate(uniq)}
    return np.array([index[r] for r in raw], dtype=np.int64), tuple(uniq)


def _label_text(field: str) -> str:
    """'3', '3.0' and ' 3 ' are the same label."""
    try:
        v = float(field)
    except ValueError:
        return field
    return str(int(v)) if math.isfinite(v) and v == int(v) else field


def _read_bytes(path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise DataFileError(f"cannot read {os.fspath(path)!r}: {exc.strerror or exc}") from exc


def load_vectors_csv(path, label_column: str = "auto") -> VectorData:
    """Read one vector per line from a UTF-8 CSV file (comma, semicolon or tab separated).

    ``label_column``: ``"auto"`` uses the column whose header is one of :data:`LABEL_NAMES`
    (``label``, ``class``, ``target``, ...) when there is a header, else no labels; ``"last"`` /
    ``"first"`` take that column; ``"none"`` reads every column as a coordinate. Labels may be any
    text. Blank lines and lines starting with ``#`` are skipped; a first row without any number is a
    header. Every row needs the same number of fields and finite numbers as coordinates; every
    problem raises :class:`DataFileError` naming the line (and the column).
    """
    if label_column not in ("auto", "last", "first", "none"):
        raise ValueError(f"label_column must be auto, last, first or none, not {label_column!r}")
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataFileError(f"the file is not UTF-8 text (undecodable byte 0x{raw[exc.start]:02x}); "
                            "save it as UTF-8 CSV", line) from exc
    sep, header, label_idx, width = None, None, None, None
    rows: list[list[float]] = []
    labels: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if sep is None:
            sep = max((",", ";", "\t"), key=stripped.count) if any(
                c in stripped for c in ",;\t") else ","
        fields = [f.strip() for f in stripped.split(sep)]
        if width is None:
            width = len(fields)
            if not any(_is_number(f) for f in fields):
                header = fields
                if label_column == "auto":
                    names = [f.lower() for f in fields]
                    label_idx = next((k for k, f in enumerate(names) if f in LABEL_NAMES), None)
                continue
        if label_column == "last":
            label_idx = width - 1
        elif label_column == "first":
            label_idx = 0
        if len(fields) != width:
            raise DataFileError(f"expected {width} {_sep_name(sep)}-separated values like the first "
                                f"row, got {len(fields)}", lineno)
        vec = []
        for k, f in enumerate(fields):
            if k == label_idx:
                if f == "":
                    raise DataFileError(f"the label (column {k + 1}) is empty", lineno)
                labels.append(_label_text(f))
                continue
            col = f"column {k + 1}" + (f" ({header[k]!r})" if header else "")
            try:
                v = float(f)
            except ValueError:
                raise DataFileError(f"{col}: {f!r} is not a number", lineno) from None
            if not math.isfinite(v):
                raise DataFileError(f"{col}: {f!r} is not a finite number", lineno)
            vec.append(v)
        rows.append(vec)
    if not rows:
        raise DataFileError("no data rows (expected one vector per line, numbers separated by commas)")
    if len(rows[0]) == 0:
        raise DataFileError("the rows hold a label but no coordinates")
    if len(rows) < MIN_POINTS:
        raise DataFileError(f"only {len(rows)} vector(s); at least {MIN_POINTS} are needed")
    if label_idx is None:
        codes, names = np.zeros(len(rows), np.int64), ("unlabelled",)
    else:
        codes, names = _encode(labels, "the label column")
    X = np.array(rows, dtype=np.float64)
    return VectorData(X, codes, names, f"{Path(path).name} ({X.shape[0]} vectors, {X.shape[1]}-D)")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _sep_name(sep: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}[sep]


# ---- IDX (the MNIST file format: http://yann.lecun.com/exdb/mnist/, "FILE FORMATS") -------------
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _maybe_gunzip(raw: bytes, path) -> bytes:
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataFileError(f"{Path(path).name}: the gzip data is damaged ({exc})") from exc
    return raw


def looks_like_idx(raw: bytes) -> bool:
    """The IDX magic number: two zero bytes, a known type code, 1 to 4 dimensions."""
    return len(raw) >= 4 and raw[0] == 0 and raw[1] == 0 and raw[2] in _IDX_TYPES and 1 <= raw[3] <= 4


def read_idx_array(path, raw: bytes | None = None) -> np.ndarray:
    """One IDX file as an array of its declared type and shape (big-endian, as the format says)."""
    name = Path(path).name
    raw = _maybe_gunzip(_read_bytes(path) if raw is None else raw, path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataFileError(f"{name} is not an IDX file: it must start with two zero bytes")
    if raw[2] not in _IDX_TYPES:
        raise DataFileError(f"{name}: unknown IDX data type code 0x{raw[2]:02x} "
                            f"(known: {', '.join(f'0x{t:02x}' for t in _IDX_TYPES)})")
    ndim = raw[3]
    if not 1 <= ndim <= 4:
        raise DataFileError(f"{name}: {ndim} dimensions declared; IDX files here have 1 to 4")
    if len(raw) < 4 + 4 * ndim:
        raise DataFileError(f"{name} is truncated: the header needs {4 + 4 * ndim} bytes, "
                            f"the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = len(raw) - 4 - 4 * ndim
    dims = " x ".join(str(s) for s in shape)
    if have < need:
        raise DataFileError(f"{name} is truncated: the header declares {dims} values "
                            f"({need} bytes) but only {have} bytes follow")
    if have > need:
        raise DataFileError(f"{name}: {have - need} unexpected bytes after the {dims} values "
                            "the header declares")
    return np.frombuffer(raw, dtype=dtype, count=need // dtype.itemsize,
                         offset=4 + 4 * ndim).reshape(shape)


def _labels_path_for(path: Path) -> Path | None:
    """``train-images-idx3-ubyte[.gz]`` -> ``train-labels-idx1-ubyte[.gz]`` (and t10k-...)."""
    name = path.name
    for a, b in (("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1"), ("images", "labels")):
        if a in name:
            for cand in (name.replace(a, b), name.replace(a, b).removesuffix(".gz"),
                         name.replace(a, b) + ".gz"):
                if (path.parent / cand).is_file():
                    return path.parent / cand
    return None


def load_idx(path, labels_path=None) -> VectorData:
    """MNIST-style IDX images (or vectors) with labels from ``labels_path`` or the file beside it.

    A 3-D file ``(N, h, w)`` gives images and ``X`` = the flattened pixels; a 2-D file ``(N, D)``
    gives vectors. The labels file is 1-D with N entries. Without a labels file every point is
    "unlabelled". Problems (not IDX, truncated, a labels file given as data, counts that do not
    match) raise :class:`DataFileError`.
    """
    path = Path(path)
    arr = read_idx_array(path)
    if arr.ndim == 1:
        raise DataFileError(f"{path.name} holds {arr.shape[0]} labels (a 1-D IDX file), not "
                            "vectors: open the images file (…-images-idx3-ubyte); its labels are "
                            "found beside it")
    if arr.ndim > 3:
        raise DataFileError(f"{path.name} has {arr.ndim} dimensions; expected images (N x h x w) "
                            "or vectors (N x D)")
    if arr.shape[0] < MIN_POINTS:
        raise DataFileError(f"{path.name} holds only {arr.shape[0]} item(s); at least "
                            f"{MIN_POINTS} are needed")
    if arr.dtype != np.uint8:      # bytes stay bytes (60000 MNIST images: 47 MB, not 376 MB)
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise DataFileError(f"{path.name} contains values that are not finite numbers")
    images = arr if arr.ndim == 3 else None
    X = arr.reshape(arr.shape[0], -1)
    lp = Path(labels_path) if labels_path is not None else _labels_path_for(path)
    if lp is not None:
        lab = read_idx_array(lp)
        if lab.ndim != 1:
            raise DataFileError(f"{lp.name}: a labels file must be 1-D, this one is "
                                f"{' x '.join(map(str, lab.shape))}")
        if lab.shape[0] != X.shape[0]:
            raise DataFileError(f"{lp.name} has {lab.shape[0]} labels but {path.name} has "
                                f"{X.shape[0]} items")
        codes, names = _encode([_label_text(str(v)) for v in lab.tolist()], lp.name)
    else:
        codes, names = np.zeros(X.shape[0], np.int64), ("unlabelled",)
    hi = 255.0 if arr.dtype == np.uint8 else float(X.max())
    lo = 0.0 if arr.dtype == np.uint8 else float(X.min())
    what = f"{path.name} ({X.shape[0]} {'images' if images is not None else 'vectors'}, " \
           f"{X.shape[1]}-D{', no labels file' if lp is None else ''})"
    return VectorData(X, codes, names, what, images, (lo, hi if hi > lo else lo + 1.0))


def load_data_file(path, label_column: str = "auto") -> VectorData:
    """IDX (MNIST) when the file starts with the IDX magic number (after gunzip), else CSV."""
    raw = _read_bytes(path)
    head = _maybe_gunzip(raw, path) if raw[:2] == b"\x1f\x8b" else raw
    if looks_like_idx(head[:4]):
        return load_idx(path)
    if raw[:2] == b"\x1f\x8b":
        raise DataFileError(f"{Path(path).name} is gzipped but is not an IDX file; "
                            "unpack a CSV file before opening it")
    return load_vectors_csv(path, label_column)
