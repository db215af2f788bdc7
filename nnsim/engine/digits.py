"""Digit images for the CNN panel: scikit-learn's bundled 8x8 digits, MNIST IDX files, image CSVs.

Nothing is downloaded. Every loader returns an :class:`ImageSet` with pixel values scaled to [0, 1]:

- :func:`load_digits`: scikit-learn's 1797 8x8 handwritten digits (values 0..16, divided by 16),
  shipped inside its wheel. Each image is a 32x32 bitmap counted in 4x4 blocks, which is why a
  drawing canvas 4x finer, averaged over 4x4 blocks, gives inputs of the same kind.
- :func:`read_idx` / :func:`load_idx`: the MNIST IDX format (``train-images-idx3-ubyte`` and its
  labels, optionally gzipped) for files the user already has; the labels file and a ``t10k-`` test
  pair next to it are found automatically.
- :func:`load_image_csv`: one image per line: a label column and a square number of pixel columns.
- :func:`load_data_file`: IDX or CSV (either possibly gzipped), decided by the file's first bytes.
- :func:`stratified_split`: a seeded train/test split that keeps each class's share.
- :func:`class_pixel_std`: the per-class pixel standard deviation maps of the course article.

Files are read by :mod:`nnsim.engine.datafiles` (the rules every loader shares). Every problem with
a file raises its :class:`~nnsim.engine.datafiles.DataFileError` (also importable from here and
from :mod:`nnsim.engine.datasets`) with a reason a student can act on: which file, which line and
column, what was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnsim.engine import datafiles
from nnsim.engine.datafiles import DataFileError, read_table  # noqa: F401  (DataFileError re-exported)

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

def read_idx(path) -> np.ndarray:
    """An IDX array (MNIST's format): two zero bytes, a type code, the number of dimensions, one
    big-endian uint32 size per dimension, then the data. Gzipped files are read too. See
    :func:`nnsim.engine.datafiles.read_idx` for the checks."""
    return datafiles.read_idx(path)


def _scale_factor(top: float) -> float:
    """Grey levels 0..1, 0..16 (scikit-learn's digits) or 0..255 (MNIST): the divisor to [0, 1]."""
    return 1.0 if top <= 1.0 else 16.0 if top <= 16.0 else 255.0


def _scale(images: np.ndarray, path) -> np.ndarray:
    """Pixel values -> [0, 1] (IDX data, whose values carry no line numbers)."""
    images = np.asarray(images, dtype=np.float64)
    if not np.all(np.isfinite(images)):
        raise DataFileError("pixel values must be finite numbers", path=path)
    if images.size and images.min() < 0:
        raise DataFileError("negative pixel values; expected grey levels 0..255 (or 0..16, 0..1)",
                            path=path)
    top = float(images.max()) if images.size else 1.0
    if top > 255.0:
        raise DataFileError(f"pixel values up to {top:g}; expected grey levels 0..255", path=path)
    return images / _scale_factor(top)


def _check_labels(labels: np.ndarray, path) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= MAX_CLASSES):
        raise DataFileError(f"labels must be digits 0..9, found {int(labels.min())}..{int(labels.max())}",
                            path=path)
    return labels.astype(np.int64)


def _idx_pair(images_path: Path) -> tuple[np.ndarray, np.ndarray]:
    imgs = read_idx(images_path)
    if imgs.ndim != 3:
        raise DataFileError("expected images (count x rows x columns), found an IDX array of "
                            f"{imgs.ndim} dimension(s); open the images file, not the labels",
                            path=images_path)
    lab_path = datafiles.idx_labels_path(images_path)
    if lab_path is None:
        raise DataFileError(f"no labels file next to {images_path.name} (expected e.g. "
                            f"{images_path.name.replace('images', 'labels').replace('idx3', 'idx1')})",
                            path=images_path)
    labels = read_idx(lab_path)
    if labels.ndim != 1:
        raise DataFileError("labels must be a 1-D IDX array", path=lab_path)
    if len(labels) != len(imgs):
        raise DataFileError(f"{len(imgs)} images but {lab_path.name} has {len(labels)} labels",
                            path=images_path)
    return _scale(imgs, images_path), _check_labels(labels, lab_path)


def load_idx(images_path) -> ImageSet:
    """Images and labels from IDX files. Given ``train-images-idx3-ubyte[.gz]``, the labels file
    ``train-labels-idx1-ubyte[.gz]`` next to it is read, and a ``t10k-`` pair beside them, if present,
    becomes the test set (otherwise the panel splits the training file)."""
    images_path = Path(images_path)
    X, y = _idx_pair(images_path)
    Xt = yt = None
    if images_path.name.startswith("train"):
        test_path = datafiles.find_sibling(images_path, "t10k" + images_path.name[len("train"):])
        if test_path is not None:
            Xt, yt = _idx_pair(test_path)
            if Xt.shape[1:] != X.shape[1:]:
                raise DataFileError(f"{Xt.shape[1]}x{Xt.shape[2]} images, but {images_path.name} "
                                    f"has {X.shape[1]}x{X.shape[2]}", path=test_path)
    _check_count(len(X), images_path)
    name = f"{images_path.name} ({X.shape[1]}×{X.shape[2]}, {len(X)} images"
    name += f", {len(Xt)} test images)" if Xt is not None else ")"
    return ImageSet(X, y, name, Xt, yt)


def _check_count(n: int, path) -> None:
    if n < 20:
        raise DataFileError(f"only {n} images; at least 20 are needed to train and test", path=path)


# ---- CSV ---------------------------------------------------------------------------------------

def load_image_csv(path) -> ImageSet:
    """One image per line: a label column and H·W pixel columns (H = W, a square image of at least
    6x6). The label column is the one named label/class/target/digit/y in a header row, else the
    first column; labels are digits 0..9. Grey levels 0..255, 0..16 or 0..1 (decided by the largest
    value in the file) are scaled to [0, 1]. The text rules (UTF-8, separators, ``#`` comments,
    header, limits) are those of :func:`nnsim.engine.datafiles.read_table`; every problem raises
    :class:`DataFileError` naming the file and, for a bad value, its line and column."""
    table = read_table(path, label=0, label_names=LABEL_NAMES,
                       expected="lines of label, pixel, pixel, ...")
    n_pix = table.values.shape[1]
    side = int(round(math.sqrt(n_pix)))
    if side * side != n_pix or side < 6:
        raise table.error(None, f"{n_pix} pixel columns per row; expected a square image of at least "
                                "6x6 (64 for 8x8 digits, 784 for 28x28 MNIST) plus one label column")
    labels = table.whole_labels(high=MAX_CLASSES)
    _check_count(len(labels), table.path)
    V = table.values
    if V.min() < 0:
        row, j = np.argwhere(V < 0)[0]
        raise table.value_error(row, j, f"pixel value {V[row, j]:g} is negative; expected grey "
                                        "levels 0..255 (or 0..16, 0..1)")
    if V.max() > 255:
        row, j = np.argwhere(V > 255)[0]
        raise table.value_error(row, j, f"pixel value {V[row, j]:g} is above 255; expected grey "
                                        "levels 0..255 (or 0..16, 0..1)")
    X = (V / _scale_factor(float(V.max()))).reshape(-1, side, side)
    return ImageSet(X, labels, f"{table.name} ({side}×{side}, {len(labels)} images)")


def load_data_file(path) -> ImageSet:
    """IDX when the file, unpacked if gzipped, starts with two zero bytes (give the images file; its
    labels file is found beside it), else an image CSV (gzipped or not)."""
    if datafiles.is_idx_file(path):
        return load_idx(path)
    return load_image_csv(path)


def to_unit_range(image) -> np.ndarray:
    """Clip an image to [0, 1] (what a drawing or a noisy input is shown and fed as)."""
    return np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)


__all__ = ["ImageSet", "load_digits", "stratified_split", "class_pixel_std", "read_idx", "load_idx",
           "load_image_csv", "load_data_file", "to_unit_range", "DataFileError"]

