"""Digit images for the CNN panel: scikit-learn's bundled 8x8 digits, MNIST IDX files, image CSVs.

Nothing is downloaded. Every loader returns an :class:`ImageSet` with pixel values scaled to [0, 1]:

- :func:`load_digits`: scikit-learn's 1797 8x8 handwritten digits (values 0..16, divided by 16),
  shipped inside its wheel. Each image is a 32x32 bitmap counted in 4x4 blocks, which is why a
  drawing canvas 4x finer, averaged over 4x4 blocks, gives inputs of the same kind.
- :func:`read_idx` / :func:`load_idx`: the MNIST IDX format (``train-images-idx3-ubyte`` and its
  labels, optionally gzipped) for files the user already has; the labels file and a ``t10k-`` test
  pair next to it are found automatically.
- :func:`load_image_csv`: one image per line: a label column and a square number of pixel columns.
- :func:`load_data_file`: IDX (possibly gzipped) or CSV, decided by the file's first bytes.
- :func:`stratified_split`: a seeded train/test split that keeps each class's share.
- :func:`class_pixel_std`: the per-class pixel standard deviation maps of the course article.

Every problem with a file raises :class:`~nnsim.engine.datasets.DataFileError` with a reason a
student can act on (which file, which line or byte, what was expected).
"""

from __future__ import annotations

import gzip
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnsim.engine.datasets import DataFileError

#: IDX element types: code -> (numpy dtype, big-endian)
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_CLASSES = 10
LABEL_NAMES = ("label", "labels", "class", "target", "digit", "y")


@dataclass(frozen=True, eq=False)
class ImageSet:
    """Grayscale images in [0, 1] with integer labels 0 .. K-1; optionally a separate test set."""

    images: np.ndarray                    # (N, H, W) float64
    labels: np.ndarray                    # (N,) int64
    name: str
    test_images: np.ndarray | None = None  # (M, H, W) when the source has its own test set
    test_labels: np.ndarray | None = None

    def __post_init__(self):
        for arr in (self.images, self.labels, self.test_images, self.test_labels):
            if arr is not None:
                arr.setflags(write=False)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.images.shape[1]), int(self.images.shape[2])

    @property
    def n_classes(self) -> int:
        top = int(self.labels.max()) if self.labels.size else 0
        if self.test_labels is not None and self.test_labels.size:
            top = max(top, int(self.test_labels.max()))
        return max(top + 1, 2)


_DIGITS: ImageSet | None = None


def load_digits() -> ImageSet:
    """scikit-learn's 8x8 digits (1797 images), pixel values / 16. Cached after the first call."""
    global _DIGITS
    if _DIGITS is None:
        from sklearn.datasets import load_digits as _sk_load

        d = _sk_load()
        _DIGITS = ImageSet(np.asarray(d.images, dtype=np.float64) / 16.0,
                           np.asarray(d.target, dtype=np.int64), "8×8 digits (scikit-learn)")
    return _DIGITS


def stratified_split(labels, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): from every class, round(test_fraction * n_c) random samples go to the
    test set (at least one when the class has two or more). Both index lists are sorted."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = int(round(test_fraction * len(idx)))
        if len(idx) >= 2:
            k = min(max(k, 1), len(idx) - 1)
        else:
            k = 0
        test.extend(rng.permutation(idx)[:k].tolist())
    test = np.array(sorted(test), dtype=np.int64)
    train = np.setdiff1d(np.arange(len(labels)), test).astype(np.int64)
    return train, test


def class_pixel_std(images, labels, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std): per class, the pixel-wise mean and standard deviation over its images, shape
    (n_classes, H, W) each (zeros for a class without images)."""
    images = np.asarray(images, dtype=np.float64)
    mean = np.zeros((n_classes,) + images.shape[1:])
    std = np.zeros_like(mean)
    for c in range(n_classes):
        sel = images[np.asarray(labels) == c]
        if len(sel):
            mean[c] = sel.mean(axis=0)
            std[c] = sel.std(axis=0)
    return mean, std


# ---- IDX ---------------------------------------------------------------------------------------

def _read_bytes(path) -> bytes:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise DataFileError(f"{path.name} looks gzipped but cannot be decompressed ({exc})") from None
    return raw


def read_idx(path) -> np.ndarray:
    """An IDX array (MNIST's format): two zero bytes, a type code, the number of dimensions, one
    big-endian uint32 size per dimension, then the data. Gzipped files are read too."""
    name = Path(path).name
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFileError(f"{name}: only {len(raw)} bytes; an IDX file starts with a 4-byte header")
    if raw[0] != 0 or raw[1] != 0:
        raise DataFileError(f"{name} is not an IDX file: it should start with two zero bytes, "
                            f"found 0x{raw[0]:02x} 0x{raw[1]:02x}")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise DataFileError(f"{name}: unknown IDX data type 0x{code:02x} (expected 0x08 for unsigned "
                            "bytes, as in MNIST)")
    if ndim < 1 or len(raw) < 4 + 4 * ndim:
        raise DataFileError(f"{name}: the header announces {ndim} dimensions but is cut short")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[code])
    need = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    have = len(raw) - 4 - 4 * ndim
    if have < need:
        raise DataFileError(f"{name}: the header announces {' x '.join(map(str, dims))} values "
                            f"({need} bytes) but the file holds only {have} bytes after the header "
                            "(truncated download?)")
    if have > need:
        raise DataFileError(f"{name}: {have - need} unexpected bytes after the "
                            f"{' x '.join(map(str, dims))} values")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)


def _scale(images: np.ndarray, what: str) -> np.ndarray:
    images = np.asarray(images, dtype=np.float64)
    if not np.all(np.isfinite(images)):
        raise DataFileError(f"{what}: pixel values must be finite numbers")
    if images.size and images.min() < 0:
        raise DataFileError(f"{what}: negative pixel values; expected grey levels 0..255 (or 0..16, 0..1)")
    top = float(images.max()) if images.size else 1.0
    scale = 1.0 if top <= 1.0 else 16.0 if top <= 16.0 else 255.0
    if top > 255.0:
        raise DataFileError(f"{what}: pixel values up to {top:g}; expected grey levels 0..255")
    return images / scale


def _check_labels(labels: np.ndarray, what: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= MAX_CLASSES):
        raise DataFileError(f"{what}: labels must be digits 0..9, found {int(labels.min())}..{int(labels.max())}")
    return labels.astype(np.int64)


def _labels_path(images_path: Path) -> Path | None:
    name = images_path.name
    cands = []
    for a, b in (("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1"), ("images", "labels")):
        if a in name:
            cands.append(name.replace(a, b, 1))
    for cand in cands:
        for variant in (cand, cand + ".gz", re.sub(r"\.gz$", "", cand)):
            p = images_path.with_name(variant)
            if p.is_file():
                return p
    return None


def _idx_pair(images_path: Path) -> tuple[np.ndarray, np.ndarray]:
    imgs = read_idx(images_path)
    if imgs.ndim != 3:
        raise DataFileError(f"{images_path.name}: expected images (count x rows x columns), found an IDX "
                            f"array of {imgs.ndim} dimension(s); open the images file, not the labels")
    lab_path = _labels_path(images_path)
    if lab_path is None:
        raise DataFileError(f"no labels file next to {images_path.name} (expected e.g. "
                            f"{images_path.name.replace('images', 'labels').replace('idx3', 'idx1')})")
    labels = read_idx(lab_path)
    if labels.ndim != 1:
        raise DataFileError(f"{lab_path.name}: labels must be a 1-D IDX array")
    if len(labels) != len(imgs):
        raise DataFileError(f"{images_path.name} has {len(imgs)} images but {lab_path.name} has "
                            f"{len(labels)} labels")
    return _scale(imgs, images_path.name), _check_labels(labels, lab_path.name)


def load_idx(images_path) -> ImageSet:
    """Images and labels from IDX files. Given ``train-images-idx3-ubyte[.gz]``, the labels file
    ``train-labels-idx1-ubyte[.gz]`` next to it is read, and a ``t10k-`` pair beside them, if present,
    becomes the test set (otherwise the panel splits the training file)."""
    images_path = Path(images_path)
    X, y = _idx_pair(images_path)
    Xt = yt = None
    if images_path.name.startswith("train"):
        test_path = images_path.with_name("t10k" + images_path.name[len("train"):])
        if not test_path.is_file():
            alt = test_path.with_name(re.sub(r"\.gz$", "", test_path.name) if test_path.name.endswith(".gz")
                                      else test_path.name + ".gz")
            test_path = alt if alt.is_file() else None
        if test_path is not None:
            Xt, yt = _idx_pair(test_path)
            if Xt.shape[1:] != X.shape[1:]:
                raise DataFileError(f"{test_path.name} has {Xt.shape[1]}x{Xt.shape[2]} images, "
                                    f"{images_path.name} {X.shape[1]}x{X.shape[2]}")
    _check_count(len(X), images_path.name)
    name = f"{images_path.name} ({X.shape[1]}×{X.shape[2]}, {len(X)} images"
    name += f", {len(Xt)} test images)" if Xt is not None else ")"
    return ImageSet(X, y, name, Xt, yt)


def _check_count(n: int, what: str) -> None:
    if n < 20:
        raise DataFileError(f"{what}: only {n} images; at least 20 are needed to train and test")


# ---- CSV ---------------------------------------------------------------------------------------

def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_image_csv(path) -> ImageSet:
    """One image per line: a label column and H·W pixel columns (H = W, a square image), comma
    separated. The label column is the one named label/class/target/digit/y in a header row, else the
    first column. Grey levels 0..255, 0..16 or 0..1 are scaled to [0, 1]. Blank lines and lines
    starting with # are skipped. Errors name the line."""
    path = Path(path)
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataFileError(f"{path.name} is neither an IDX file nor UTF-8 text (undecodable byte "
                            f"0x{raw[exc.start]:02x})", line) from None
    label_col = 0
    rows, labels = [], []
    n_fields = None
    seen = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        fields = [f.strip() for f in s.split(",")]
        if not seen:
            seen = True
            if not all(_is_number(f) for f in fields):
                names = [f.lower() for f in fields]
                hits = [i for i, f in enumerate(names) if f in LABEL_NAMES]
                label_col = hits[0] if hits else 0
                n_fields = len(fields)
                continue
        if n_fields is None:
            n_fields = len(fields)
        if len(fields) != n_fields:
            raise DataFileError(f"expected {n_fields} comma-separated values like the first row, got "
                                f"{len(fields)}", lineno)
        try:
            vals = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_number(f))
            raise DataFileError(f"value {bad!r} is not a number", lineno) from None
        lab = vals.pop(label_col)
        if not math.isfinite(lab) or lab != int(lab) or not 0 <= lab < MAX_CLASSES:
            raise DataFileError(f"label {fields[label_col]!r} is not a digit 0..9", lineno)
        labels.append(int(lab))
        rows.append(vals)
    if not rows:
        raise DataFileError(f"{path.name}: no data rows (expected lines of label, pixel, pixel, ...)")
    n_pix = len(rows[0])
    side = int(round(math.sqrt(n_pix)))
    if side * side != n_pix or side < 6:
        raise DataFileError(f"{path.name}: {n_pix} pixel columns per row; expected a square image of at "
                            "least 6x6 (64 for 8x8 digits, 784 for 28x28 MNIST) plus one label column")
    _check_count(len(rows), path.name)
    X = _scale(np.array(rows, dtype=np.float64).reshape(-1, side, side), path.name)
    return ImageSet(X, np.array(labels, dtype=np.int64), f"{path.name} ({side}×{side}, {len(rows)} images)")


def load_data_file(path) -> ImageSet:
    """IDX (gzipped or not; give the images file) or CSV, decided by the file's first bytes."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head[:2] == b"\x1f\x8b":
        head = _read_bytes(path)[:4]
    if len(head) >= 2 and head[0] == 0 and head[1] == 0:
        return load_idx(path)
    return load_image_csv(path)


def to_unit_range(image) -> np.ndarray:
    """Clip an image to [0, 1] (what a drawing or a noisy input is shown and fed as)."""
    return np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)


__all__ = ["ImageSet", "load_digits", "stratified_split", "class_pixel_std", "read_idx", "load_idx",
           "load_image_csv", "load_data_file", "to_unit_range", "DataFileError"]

