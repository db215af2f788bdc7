"""Toy data sets and the CSV loader (no Qt)."""

import math

import numpy as np
import pytest

from nnsim.engine import datasets
from nnsim.engine.datasets import DataFileError, load_xy_csv


def test_logic_gates_truth_tables():
    for name, expected in {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "xor": [0, 1, 1, 0]}.items():
        X, y = datasets.logic_gate(name)
        assert X.shape == (4, 2) and X.dtype == np.float64
        assert y.tolist() == expected
        # the label is the gate applied to the inputs
        ops = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b}
        assert [ops[name](int(a), int(b)) for a, b in X] == expected
    with pytest.raises(ValueError):
        datasets.logic_gate("nand")


def test_worked_example():
    X, y, w0 = datasets.worked_example()
    assert X.tolist() == [[1, 2], [-1, 2], [0, -1]]
    assert y.tolist() == [1, 0, 0]
    assert w0.tolist() == [0.0, 1.0, -0.8]


def test_two_clusters_ranges_and_determinism():
    X, y = datasets.two_clusters(np.random.default_rng(3))
    assert X.shape == (100, 2) and y.shape == (100,)
    assert (y[:66] == 1).all() and (y[66:] == 0).all()
    assert X[:66].min() >= 0.5 and X[:66].max() <= 4
    assert X[66:].min() >= 5 and X[66:].max() <= 10
    X2, _ = datasets.two_clusters(np.random.default_rng(3))
    X3, _ = datasets.two_clusters(np.random.default_rng(4))
    assert np.array_equal(X, X2) and not np.array_equal(X, X3)


@pytest.mark.parametrize("k", [3, 4])
def test_blobs_corners_one_vs_rest_separable(k):
    for seed in range(20):
        X, y = datasets.blobs_corners(k, np.random.default_rng(seed))
        assert X.shape == (25 * k, 2) and np.bincount(y).tolist() == [25] * k
        assert abs(X.mean(axis=0)).max() < 0.5   # centred at the origin
        for c in range(k):
            # a class's points all project further along its own mean direction than every other
            u = X[y == c].mean(axis=0)
            u /= np.linalg.norm(u)
            assert 2.5 < np.hypot(*X[y == c].mean(axis=0)) < 3.5
            assert (X[y == c] @ u).min() > (X[y != c] @ u).max()
    with pytest.raises(ValueError):
        datasets.blobs_corners(2, np.random.default_rng(0))


def test_encode_labels():
    codes, classes = datasets.encode_labels([7, 3, 3, 12.0])
    assert codes.tolist() == [1, 0, 0, 2] and classes.tolist() == [3, 7, 12]
    for bad in ([1, -1], [0.5, 1], [np.nan, 1]):
        with pytest.raises(ValueError):
            datasets.encode_labels(bad)


def write(tmp_path, text, name="pts.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_good_file_with_header_comments_blank_lines(tmp_path):
    p = write(tmp_path, "x1, x2, label\n# a comment\n\n1, 2, 1\n-1.5,2e1,0\n  \n0,-1,1.0\n")
    X, y = load_xy_csv(p)
    assert X.tolist() == [[1, 2], [-1.5, 20], [0, -1]]
    assert y.tolist() == [1, 0, 1] and y.dtype.kind == "i"


def test_csv_without_header_and_label_compression(tmp_path):
    X, y = load_xy_csv(write(tmp_path, "0,0,5\n1,1,2\n2,2,9\n3,3,5\n"))
    assert y.tolist() == [1, 0, 2, 1]
    X, y = load_xy_csv(write(tmp_path, "0,0,4\n1,1,4\n"))   # one class is allowed
    assert y.tolist() == [0, 0]


@pytest.mark.parametrize("text, line, column, words", [
    ("x1,x2,label\n1,2,0\n3,4,1\n# c\n\n5,6,1\n7,8\n", 7, None, "expected 3 comma-separated values"),
    ("1,2,0\n3,4,1,9\n", 2, None, "got 4"),
    ("1,2,0\n3,abc,1\n", 2, 2, "column 2 (x2): 'abc' is not a number"),
    ("1,2,0\n\nnan,4,1\n", 3, 1, "not a finite number"),
    ("1,2,0\n3,inf,1\n", 2, 2, "not a finite number"),
    ("1,2,0\n3,4,1.5\n", 2, 3, "not a whole number"),
    ("1,2,0\n3,4,one\n", 2, 3, "label 'one' is not a number"),
    ("1,2,0\n3,4,-1\n", 2, 3, "negative"),
    ("1,2,0\n3,4,nan\n", 2, 3, "not a whole number"),
    ("1,2,0\n3,,1\n", 2, 2, "empty"),
])
def test_csv_bad_lines_name_the_line(tmp_path, text, line, column, words):
    with pytest.raises(DataFileError) as info:
        load_xy_csv(write(tmp_path, text))
    assert info.value.line == line and info.value.column == column
    where = f"pts.csv, line {line}" + (f", column {column}" if column else "")
    assert str(info.value).startswith(where + (": " if column is None else ""))
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("text, words", [
    ("", "no data rows"),
    ("\n# only a comment\n", "no data rows"),
    ("x1,x2,label\n", "no data rows"),
    ("1,2,0\n", "at least 2 points"),
    ("".join(f"{i},{i},{i}\n" for i in range(21)), "at most 20 classes"),
])
def test_csv_whole_file_problems(tmp_path, text, words):
    with pytest.raises(DataFileError) as info:
        load_xy_csv(write(tmp_path, text))
    assert words in str(info.value) and info.value.line is None


def test_csv_twenty_classes_is_fine(tmp_path):
    X, y = load_xy_csv(write(tmp_path, "".join(f"{i},{i},{i}\n" for i in range(20))))
    assert y.max() == 19


def test_csv_not_utf8_and_missing_file(tmp_path):
    p = tmp_path / "latin1.csv"
    p.write_bytes("x1,x2,label\n1,2,0\n# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DataFileError) as info:
        load_xy_csv(p)
    assert "UTF-8" in str(info.value) and info.value.line == 3
    with pytest.raises(DataFileError) as info:
        load_xy_csv(tmp_path / "missing.csv")
    assert "cannot read" in str(info.value) and info.value.line is None


def test_csv_utf8_bom_header(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffx1,x2,label\n1,2,0\n3,4,1\n".encode("utf-8"))
    X, y = load_xy_csv(p)
    assert X.shape == (2, 2) and not math.isnan(X.sum())
