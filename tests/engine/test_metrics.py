"""The general confusion matrix and accuracy (nnsim.engine.metrics) against independent counts."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine import metrics


def _loop_count(labels, predicted, k):
    M = [[0] * k for _ in range(k)]
    for y, p in zip(labels, predicted):
        M[int(y)][int(p)] += 1
    return np.array(M)


@pytest.mark.parametrize("k,n", [(2, 7), (3, 300), (10, 1000)])
def test_counts_equal_a_python_loop_and_scikit_learn(k, n):
    rng = np.random.default_rng(k * 100 + n)
    y = rng.integers(0, k, n)
    p = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    M = metrics.confusion_matrix(y, p, k)
    assert M.shape == (k, k) and M.dtype == np.int64
    np.testing.assert_array_equal(M, _loop_count(y, p, k))
    sk = pytest.importorskip("sklearn.metrics")
    np.testing.assert_array_equal(M, sk.confusion_matrix(y, p, labels=list(range(k))))
    assert M.sum() == n
    np.testing.assert_array_equal(M.sum(axis=1), np.bincount(y, minlength=k))   # rows: true class
    np.testing.assert_array_equal(M.sum(axis=0), np.bincount(p, minlength=k))   # columns: predicted
    assert metrics.accuracy(M) == pytest.approx(np.mean(y == p), abs=0, rel=1e-15)


def test_a_hand_made_example_and_its_readings():
    y = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    p = [0, 1, 0, 1, 1, 1, 2, 0, 1]
    M = metrics.confusion_matrix(y, p, 4)         # class 3 has no samples: an empty row and column
    np.testing.assert_array_equal(M, [[2, 1, 0, 0], [0, 2, 0, 0], [1, 2, 1, 0], [0, 0, 0, 0]])
    assert metrics.accuracy(M) == 5 / 9
    np.testing.assert_allclose(metrics.row_shares(M)[0], [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_array_equal(metrics.row_shares(M)[3], [0, 0, 0, 0])
    assert metrics.most_confused(M, 2) == [(2, 1, 2), (0, 1, 1)]
    assert metrics.most_confused(np.eye(3, dtype=int) * 5) == []


def test_empty_set_and_bad_input():
    M = metrics.confusion_matrix([], [], 3)
    assert M.shape == (3, 3) and M.sum() == 0 and np.isnan(metrics.accuracy(M))
    with pytest.raises(ValueError, match="3 labels but 2"):
        metrics.confusion_matrix([0, 1, 1], [0, 1], 2)
    with pytest.raises(ValueError, match="0 .. 1"):
        metrics.confusion_matrix([0, 2], [0, 1], 2)
    with pytest.raises(ValueError, match="predictions"):
        metrics.confusion_matrix([0, 1], [0, -1], 2)
    with pytest.raises(ValueError, match="whole class numbers"):
        metrics.confusion_matrix([0, 1], [0.0, 0.5], 2)
    np.testing.assert_array_equal(metrics.confusion_matrix([0.0, 1.0], [1.0, 1.0], 2), [[0, 1], [0, 1]])


def test_predicted_classes_follow_the_kernels_rule():
    Y = np.array([[0.1, 0.7, 0.2], [0.5, 0.5, 0.0], [0.0, 0.2, 0.8]])
    np.testing.assert_array_equal(metrics.predicted_classes(Y), [1, 0, 2])   # ties: the first
    np.testing.assert_array_equal(metrics.predicted_classes(np.array([[0.2], [0.5], [0.51]])), [0, 0, 1])
    np.testing.assert_array_equal(metrics.predicted_classes(np.array([0.9, 0.1])), [1, 0])
    assert metrics.predicted_classes(np.zeros((0, 3))).shape == (0,)
