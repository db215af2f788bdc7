"""Scores of a classifier that names one class per sample: the confusion matrix and the accuracy.

The confusion matrix M of a labelled set counts the samples by their true class (row) and the class
the classifier predicted (column)::

    M[i, j] = #{ n : y_n = i and ŷ_n = j }          (i, j = 0 .. K − 1)

so each row sums to the number of samples of that class, the diagonal holds the correctly
classified ones, and the accuracy is trace(M) / Σ M. An off-diagonal cell M[i, j] reads "class i
mistaken for class j". Dividing each row by its sum gives the share of class i predicted as j (the
diagonal then shows the recall of each class).

The perceptron panel keeps its own version (:func:`nnsim.engine.perceptron.confusion_matrix`):
there a sample can make no neuron fire, or several, which gives an extra column. This module is
for networks that always name exactly one class (the MLP, the CNN).
"""

from __future__ import annotations

import numpy as np


def predicted_classes(outputs) -> np.ndarray:
    """The class each row of a network's output ŷ (m, K) names: the index of the largest output
    (the first of equal maxima), or ŷ > 0.5 for a single sigmoid unit (K = 1)."""
    Y = np.asarray(outputs, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[1] == 1:
        return (Y[:, 0] > 0.5).astype(np.int64)
    if len(Y) == 0:
        return np.zeros(0, np.int64)
    return np.argmax(Y, axis=1).astype(np.int64)


def confusion_matrix(labels, predicted, n_classes: int) -> np.ndarray:
    """The (n_classes, n_classes) int64 matrix M[true, predicted] of counts (module docstring).

    ``labels`` and ``predicted`` are integer class numbers 0 .. n_classes − 1 of equal length;
    anything else raises ValueError (a silently dropped sample would make the counts lie)."""
    k = int(n_classes)
    if k < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    y = np.asarray(labels).reshape(-1)
    p = np.asarray(predicted).reshape(-1)
    if len(y) != len(p):
        raise ValueError(f"{len(y)} labels but {len(p)} predictions")
    if len(y) == 0:
        return np.zeros((k, k), np.int64)
    for name, v in (("labels", y), ("predictions", p)):
        if not np.issubdtype(v.dtype, np.integer):
            if not np.all(np.isfinite(v)) or np.any(v != np.round(v)):
                raise ValueError(f"{name} must be whole class numbers")
        if v.min() < 0 or v.max() >= k:
            raise ValueError(f"{name} must lie in 0 .. {k - 1}, got {v.min()} .. {v.max()}")
    flat = y.astype(np.int64) * k + p.astype(np.int64)
    return np.bincount(flat, minlength=k * k).reshape(k, k).astype(np.int64)


def accuracy(matrix) -> float:
    """trace(M) / Σ M: the share of correctly classified samples (NaN for an empty set)."""
    M = np.asarray(matrix)
    total = int(M.sum())
    return float(np.trace(M)) / total if total else float("nan")


def row_shares(matrix) -> np.ndarray:
    """Each row divided by its sum (rows of classes without samples stay 0): M[i, j] / Σ_j M[i, j]."""
    M = np.asarray(matrix, dtype=np.float64)
    sums = M.sum(axis=1, keepdims=True)
    return np.divide(M, sums, out=np.zeros_like(M), where=sums > 0)


def most_confused(matrix, n: int = 3) -> list[tuple[int, int, int]]:
    """The ``n`` largest off-diagonal cells as (true class, predicted class, count), largest first
    (ties: lower true class, then lower predicted class, first); cells with 0 are left out."""
    M = np.asarray(matrix)
    cells = [(-int(M[i, j]), i, j) for i in range(M.shape[0]) for j in range(M.shape[1])
             if i != j and M[i, j] > 0]
    return [(i, j, -c) for c, i, j in sorted(cells)[:n]]
