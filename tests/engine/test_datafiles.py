"""The shared data-file reader (nnsim.engine.datafiles) seen through every loader that uses it:
the perceptron/MLP points (load_xy_csv), the t-SNE vectors and the CNN images (load_data_file).

The same bad file must give the same kind of message, naming the file, the line and the column, in
every loader; the same good numbers written in any supported dialect must load the same."""

import gzip
import struct

import numpy as np
import pytest

from nnsim.engine import data2d, datafiles, datasets, digits, tsne_data
from nnsim.engine.datafiles import DataFileError

# ---- three loaders, each with a good table of its own shape ---------------------------------------
RNG = np.random.default_rng(7)
XY_ROWS = [[-1.25, 0.5, 5], [3.0, 2e-3, 2], [0.0, -7.5, 9], [1.5, 1.5, 5], [-0.125, 4.0, 2],
           [2.25, -3.0, 9]]
VEC = np.round(RNG.normal(size=(6, 4)), 3)
VEC_LABELS = ["cat", "dog", "cat", "emu", "dog", "cat"]
IMG = RNG.integers(0, 256, size=(20, 36))
IMG_LABELS = RNG.integers(0, 10, size=20)


class Spec:
    """A loader, its good rows (as texts), its header and what it must return for them."""

    def __init__(self, name, header, rows, load, num_col, label_col):
        self.name, self.header, self.rows, self.load = name, header, rows, load
        self.num_col, self.label_col = num_col, label_col   # 0-based columns the faults hit


def _num(v) -> str:
    return repr(float(v))


XY = Spec("xy", ["x1", "x2", "label"], [[_num(a), _num(b), str(c)] for a, b, c in XY_ROWS],
          datasets.load_xy_csv, 1, 2)
VECTORS = Spec("vectors", ["f1", "f2", "f3", "f4", "label"],
               [[_num(v) for v in row] + [lab] for row, lab in zip(VEC, VEC_LABELS)],
               lambda p: tsne_data.load_data_file(p, label_column="last"), 2, 4)
IMAGES = Spec("images", ["label"] + [f"p{k}" for k in range(36)],
              [[str(lab)] + [str(v) for v in row] for lab, row in zip(IMG_LABELS, IMG)],
              digits.load_data_file, 5, 0)
SPECS = [XY, VECTORS, IMAGES]


def check_result(spec, out):
    """The loaded numbers against the reference written into the file."""
    if spec is XY:
        X, y = out
        np.testing.assert_array_equal(X, np.array(XY_ROWS)[:, :2])
        assert y.tolist() == [1, 0, 2, 1, 0, 2]          # 2 -> 0, 5 -> 1, 9 -> 2
    elif spec is VECTORS:
        np.testing.assert_array_equal(out.X, VEC)
        assert [out.class_names[c] for c in out.labels] == VEC_LABELS
    else:
        np.testing.assert_allclose(out.images, IMG.reshape(20, 6, 6) / 255.0, rtol=0, atol=1e-15)
        np.testing.assert_array_equal(out.labels, IMG_LABELS)


# ---- dialects: ways of writing the same table ---------------------------------------------------
def _lines(spec, sep=",", header=True, conv=str):
    out = [sep.join(spec.header)] if header else []
    return out + [sep.join(conv(f) for f in row) for row in spec.rows]


def _decimal_comma(field: str) -> str:
    return field.replace(".", ",")


DIALECTS = {
    "plain": lambda s: ("\n".join(_lines(s)) + "\n").encode(),
    "bom_crlf": lambda s: ("\ufeff" + "\r\n".join(_lines(s)) + "\r\n").encode(),
    "bom_no_header": lambda s: ("\ufeff" + "\n".join(_lines(s, header=False))).encode(),
    "cr_only": lambda s: "\r".join(_lines(s)).encode(),
    "semicolon_decimal_comma": lambda s: "\n".join(_lines(s, ";", conv=_decimal_comma)).encode(),
    "tab_no_header": lambda s: "\n".join(_lines(s, "\t", header=False)).encode(),
    "spaces_aligned": lambda s: "\n".join("  ".join(f"{f:>10}" for f in line.split(","))
                                          for line in _lines(s, header=False)).encode(),
    "comments_blank_padding": lambda s: ("# my data\n\n" + "\n".join(
        " , ".join(line.split(",")) + "  \n\n# more\n" for line in _lines(s))).encode(),
    "quoted_header": lambda s: "\n".join([",".join(f'"{h}"' for h in s.header)]
                                         + _lines(s, header=False)).encode(),
    "gzipped": lambda s: gzip.compress(("\n".join(_lines(s)) + "\n").encode()),
}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_every_dialect_loads_the_same_numbers_in_every_loader(tmp_path, spec, dialect):
    p = tmp_path / "data.csv"
    p.write_bytes(DIALECTS[dialect](spec))
    check_result(spec, spec.load(p))


def test_points_and_vectors_loaders_read_one_file_alike(tmp_path):
    """An x1, x2, label file read as t-SNE vectors (label last) gives the same matrix and grouping."""
    p = tmp_path / "pts.csv"
    p.write_bytes(DIALECTS["semicolon_decimal_comma"](XY))
    X, y = datasets.load_xy_csv(p)
    v = tsne_data.load_vectors_csv(p, label_column="last")
    np.testing.assert_array_equal(v.X, X)
    assert v.labels.tolist() == y.tolist() and v.class_names == ("2", "5", "9")


# ---- bad files: one table, every loader ---------------------------------------------------------
# The good file is written as: line 1 header, line 2 a comment, line 3 blank, data rows from line 4;
# faults hit data row 2 (line 6). Each fault returns the file's bytes and the expected
# (words in the message, line, column) for the spec.
ROW, LINE = 2, 6


def _write(spec, rows, comment="# made by a test", encoding="utf-8"):
    text = ",".join(spec.header) + "\n" + comment + "\n\n" + "\n".join(",".join(r) for r in rows) + "\n"
    return text.encode(encoding)


def _with(spec, col, value):
    rows = [list(r) for r in spec.rows]
    rows[ROW][col] = value
    return rows


def fault_text(s):
    return _write(s, _with(s, s.num_col, "abc")), "'abc' is not a number", LINE, s.num_col + 1


def fault_nan(s):
    return _write(s, _with(s, s.num_col, "nan")), "'nan' is not a finite number", LINE, s.num_col + 1


def fault_inf(s):
    return _write(s, _with(s, s.num_col, "-inf")), "'-inf' is not a finite number", LINE, s.num_col + 1


def fault_empty_value(s):
    return _write(s, _with(s, s.num_col, "")), "the value is empty", LINE, s.num_col + 1


def fault_empty_label(s):
    return _write(s, _with(s, s.label_col, "")), "the label is empty", LINE, s.label_col + 1


def fault_short_row(s):
    rows = [list(r) for r in s.rows]
    rows[ROW] = rows[ROW][:-1]
    n = len(s.header)
    return _write(s, rows), f"expected {n} comma-separated values", LINE, None


def fault_long_row(s):
    rows = [list(r) for r in s.rows]
    rows[ROW] = rows[ROW] + ["1"]
    return _write(s, rows), f"got {len(s.header) + 1}", LINE, None


def fault_other_separator(s):
    text = _write(s, s.rows).decode().split("\n")
    text[LINE - 1] = text[LINE - 1].replace(",", ";")
    return "\n".join(text).encode(), "got 1", LINE, None


def fault_latin1(s):
    return _write(s, s.rows, comment="# café", encoding="latin-1"), "not UTF-8", 2, None


def fault_nul_byte(s):
    rows = _with(s, s.num_col, "1\x002")
    return _write(s, rows), "binary", LINE, None


def fault_utf16(s):
    return _write(s, s.rows, encoding="utf-16"), "UTF-16", None, None


def fault_zip(s):
    return b"PK\x03\x04" + bytes(40), "zip archive", None, None


def fault_empty_file(s):
    return b"", "the file is empty", None, None


def fault_header_only(s):
    return _write(s, []), "no data rows", None, None


def fault_damaged_gzip(s):
    return gzip.compress(_write(s, s.rows))[:-12], "gzipped", None, None


FAULTS = [fault_text, fault_nan, fault_inf, fault_empty_value, fault_empty_label, fault_short_row,
          fault_long_row, fault_other_separator, fault_latin1, fault_nul_byte, fault_utf16, fault_zip,
          fault_empty_file, fault_header_only, fault_damaged_gzip]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.__name__[6:])
def test_every_bad_file_is_explained_alike_by_every_loader(tmp_path, spec, fault):
    raw, words, line, column = fault(spec)
    p = tmp_path / "bad.csv"
    p.write_bytes(raw)
    with pytest.raises(DataFileError) as info:
        spec.load(p)
    err, msg = info.value, str(info.value)
    assert isinstance(err, ValueError)
    assert words in err.reason and err.path == str(p)
    assert (err.line, err.column) == (line, column)
    where = "bad.csv" + (f", line {line}" if line else "") + (f", column {column}" if column else "")
    assert msg.startswith(where), msg
    if column is not None:                         # the header's name for the column is shown
        assert msg.startswith(f"{where} ({spec.header[column - 1]}): ")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_limits_and_missing_files_in_every_loader(tmp_path, spec, monkeypatch):
    p = tmp_path / "big.csv"
    p.write_bytes(_write(spec, spec.rows))          # data rows on lines 4, 5, 6, ...
    monkeypatch.setattr(datafiles, "MAX_ROWS", 2)
    with pytest.raises(DataFileError) as info:
        spec.load(p)
    assert info.value.line == 6 and "more than 2 data rows" in str(info.value)
    monkeypatch.setattr(datafiles, "MAX_ROWS", 10 ** 6)
    monkeypatch.setattr(datafiles, "MAX_BYTES", 60)
    with pytest.raises(DataFileError) as info:
        spec.load(p)
    assert info.value.line is None and "at most 60 bytes can be read" in str(info.value)
    g = tmp_path / "big.csv.gz"                     # small when packed, too big when unpacked
    g.write_bytes(gzip.compress(b"1,2,3\n" * 100))
    assert g.stat().st_size < 60
    with pytest.raises(DataFileError, match="unpacks to more than 60 bytes"):
        spec.load(g)
    monkeypatch.undo()
    with pytest.raises(DataFileError) as info:
        spec.load(tmp_path / "missing.csv")
    assert str(info.value).startswith("missing.csv: cannot read the file")


def test_separator_rules(tmp_path):
    p = tmp_path / "v.csv"
    # a quoted field may hold the separator; a decimal comma only counts with another separator
    p.write_text('a,b,label\n1,2,"x, y"\n3,4,z\n5,6,z\n7,8,"x, y"\n9,10,z\n')
    v = tsne_data.load_vectors_csv(p)
    assert v.class_names == ("x, y", "z") and v.X[:, 1].tolist() == [2, 4, 6, 8, 10]
    p.write_text("1,5;2;0\n3;4,25;1\n")
    X, _ = datasets.load_xy_csv(p)
    assert X.tolist() == [[1.5, 2.0], [3.0, 4.25]]
    p.write_text("1,5,2,0\n")                       # comma separated: 4 fields, not 1.5 and 2.0
    with pytest.raises(DataFileError, match="expected 3 comma-separated values .* got 4"):
        datasets.load_xy_csv(p)
    p.write_text("1;2;0\n3;4;1\n5,6,1\n")           # the separator is decided once
    with pytest.raises(DataFileError, match="expected 3 semicolon-separated values") as info:
        datasets.load_xy_csv(p)
    assert info.value.line == 3


def test_line_numbers_count_every_line_whatever_the_line_ends(tmp_path):
    p = tmp_path / "e.csv"
    for nl in ("\n", "\r\n", "\r"):
        p.write_bytes(nl.join(["x1,x2,label", "", "1,2,0", "# c", "3,x,1"]).encode())
        with pytest.raises(DataFileError) as info:
            datasets.load_xy_csv(p)
        assert (info.value.line, info.value.column) == (5, 2)


def test_first_row_is_a_header_only_when_it_holds_no_number(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("1,abc,0\n2,3,1\n")                # a typo in the first row is reported, not skipped
    with pytest.raises(DataFileError) as info:
        datasets.load_xy_csv(p)
    assert (info.value.line, info.value.column) == (1, 2)


def test_loaders_keep_their_own_label_rules(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("x1,x2,label\n1,2,0\n3,4,1.5\n")
    with pytest.raises(DataFileError, match=r"l.csv, line 3, column 3 \(label\): label '1.5' is not a whole"):
        datasets.load_xy_csv(p)
    rows = [",".join(["12" if i == 7 else str(i % 10)] + ["0"] * 36) for i in range(20)]
    p.write_text("\n".join(rows))
    with pytest.raises(DataFileError, match=r"line 8, column 1: label '12' is too large; .* 0 \.\. 9"):
        digits.load_data_file(p)
    rows[4] = "3," + ",".join(["0"] * 35 + ["300"])
    rows[7] = "1," + ",".join(["0"] * 36)
    p.write_text("\n".join(rows))
    with pytest.raises(DataFileError, match=r"line 5, column 37: pixel value 300 is above 255"):
        digits.load_data_file(p)


def test_one_error_class_under_every_old_name():
    for mod in (datasets, tsne_data, digits, data2d):
        assert mod.DataFileError is datafiles.DataFileError
    e = DataFileError("bad", 3)
    assert str(e) == "line 3: bad" and e.line == 3 and e.reason == "bad" and e.column is None
    assert str(DataFileError("bad")) == "bad"
    assert str(DataFileError("r", 2, 4, path="/x/y.csv", column_name="b")) == "y.csv, line 2, column 4 (b): r"


# ---- IDX -----------------------------------------------------------------------------------------
def idx_bytes(arr, code=0x08, ndim=None, dims=None):
    arr = np.asarray(arr)
    dt = datafiles.IDX_TYPES[code][0]
    dims = arr.shape if dims is None else dims
    head = bytes([0, 0, code, len(dims) if ndim is None else ndim]) + struct.pack(f">{len(dims)}I", *dims)
    return head + arr.astype(dt).tobytes()


GOOD = idx_bytes(np.arange(30 * 36).reshape(30, 6, 6) % 256)
BAD_IDX = {
    "short": (b"\x00\x00\x08", "only 3 bytes; an IDX file starts with a 4-byte header"),
    "type": (b"\x00\x00\x07\x01" + struct.pack(">I", 2) + b"\x00\x00", "unknown IDX data type 0x07"),
    "ndim0": (b"\x00\x00\x08\x00", "declares 0 dimensions"),
    "ndim5": (b"\x00\x00\x08\x05" + bytes(20), "declares 5 dimensions"),
    "header_cut": (GOOD[:9], "truncated: the header needs 16 bytes, the file has 9"),
    "data_cut": (GOOD[:-5], "truncated: the header declares 30 x 6 x 6 values (1080 bytes) but only "
                            "1075 bytes follow"),
    "extra": (GOOD + b"\x00\x01", "2 unexpected bytes after the 30 x 6 x 6 values"),
    "bad_gzip": (gzip.compress(GOOD)[:-20], "gzipped but its data are damaged"),
    "gzip_data_cut": (gzip.compress(GOOD[:-5]), "truncated"),
}


@pytest.mark.parametrize("case", list(BAD_IDX))
def test_bad_idx_files_give_one_message_in_every_loader(tmp_path, case):
    raw, words = BAD_IDX[case]
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(raw)
    messages = []
    for load in (datafiles.read_idx, tsne_data.read_idx_array, digits.read_idx,
                 tsne_data.load_data_file, digits.load_data_file):
        with pytest.raises(DataFileError) as info:
            load(p)
        messages.append(str(info.value))
    assert len(set(messages)) == 1, messages
    assert messages[0].startswith("train-images-idx3-ubyte: ") and words in messages[0]


def test_idx_magic_and_size_limit(tmp_path, monkeypatch):
    p = tmp_path / "x.idx"
    p.write_bytes(b"\x00\x07\x08\x01" + bytes(8))
    with pytest.raises(DataFileError, match="x.idx: not an IDX file: .* found 0x00 0x07"):
        datafiles.read_idx(p)
    p.write_bytes(GOOD)
    monkeypatch.setattr(datafiles, "MAX_BYTES", 1000)
    with pytest.raises(DataFileError, match="x.idx: the file is 1096 bytes; at most 1000 bytes"):
        digits.load_data_file(p)


@pytest.mark.parametrize("code", [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E])
def test_idx_types_are_read_big_endian_into_native_arrays(tmp_path, code):
    values = {0x08: [0, 1, 255, 7], 0x09: [-128, -1, 0, 127], 0x0B: [-300, 1, 32767, -2],
              0x0C: [-70000, 5, 2 ** 31 - 1, 0], 0x0D: [1.5, -2.25, 1e-3, 0], 0x0E: [1e300, -0.1, 3, 2]}[code]
    fmt = {0x08: "B", 0x09: "b", 0x0B: "h", 0x0C: "i", 0x0D: "f", 0x0E: "d"}[code]
    raw = bytes([0, 0, code, 2]) + struct.pack(">2I", 2, 2) + struct.pack(f">4{fmt}", *values)
    p = tmp_path / "a.idx.gz"
    p.write_bytes(gzip.compress(raw))
    arr = datafiles.read_idx(p)
    assert arr.shape == (2, 2) and arr.dtype.isnative
    np.testing.assert_array_equal(arr.ravel(), np.array(values, dtype=np.float32 if code == 0x0D else None))
    np.testing.assert_array_equal(datafiles.read_idx(p, raw=raw), arr)


def test_idx_labels_and_test_pair_are_found_gzipped_or_not(tmp_path):
    imgs = np.arange(25 * 36).reshape(25, 6, 6) % 256
    labs = np.arange(25) % 10
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(imgs))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labs)))
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(imgs[:20])))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labs[:20]))
    found = datafiles.idx_labels_path(tmp_path / "train-images-idx3-ubyte")
    assert found.name == "train-labels-idx1-ubyte.gz"
    d = digits.load_data_file(tmp_path / "train-images-idx3-ubyte")
    np.testing.assert_array_equal(d.labels, labs)
    np.testing.assert_array_equal(d.test_labels, labs[:20])
    np.testing.assert_allclose(d.test_images, imgs[:20] / 255.0)
    v = tsne_data.load_data_file(tmp_path / "train-images-idx3-ubyte")
    assert [v.class_names[c] for c in v.labels] == [str(k) for k in labs]


# ---- large files: read a chunk at a time by numpy, with the line-by-line rules' exact messages
def _big_file(path, n=4000, bad_line=None, text_labels=True):
    rng = np.random.default_rng(1)
    X = np.round(rng.standard_normal((n, 5)), 6)
    out, expect_lines = ["a,b,c,d,e,label"], []
    for i in range(n):
        if i % 997 == 5:
            out.append("# a comment")
        if i % 1499 == 7:
            out.append("")
        lab = f"class {i % 3}" if text_labels else str(i % 3)
        out.append(",".join(repr(float(v)) for v in X[i]) + f",{lab}")
        expect_lines.append(len(out))
    if bad_line is not None:
        out[bad_line - 1] = out[bad_line - 1].replace(",", ",x", 1)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return X, expect_lines


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    monkeypatch.setattr(datafiles, "CHUNK_BYTES", 20_000)  # (many chunks from a small file)


def test_a_large_file_read_in_chunks_matches_the_rules_row_by_row(tmp_path):
    path = tmp_path / "big.csv"
    X, expect_lines = _big_file(path)
    assert path.stat().st_size > 5 * datafiles.CHUNK_BYTES  # (several chunks)
    table = datafiles.read_table(path, label=-1)
    np.testing.assert_array_equal(table.values, X)
    assert list(table.lines) == expect_lines
    assert table.labels[:4] == ("class 0", "class 1", "class 2", "class 0")


def test_an_error_deep_in_a_large_file_names_its_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    _big_file(path, bad_line=3500)
    with pytest.raises(DataFileError) as info:
        datafiles.read_table(path, label=-1)
    assert info.value.line == 3500 and info.value.column == 2 and "'x" in str(info.value)


def test_a_huge_field_is_refused_at_once_with_a_short_message(tmp_path):
    path = tmp_path / "field.csv"
    path.write_text("x1,x2,label\n1,2,a\n1," + "9" * 5_000_000 + ",b\n", encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        datafiles.read_table(path, label=-1)
    assert info.value.line == 3 and len(str(info.value)) < 200
    path.write_text("x1,x2,label\n1,2,a\n1,2," + "b" * 300_000 + "\n", encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        datafiles.read_table(path, label=-1)
    assert "characters long" in str(info.value) and len(str(info.value)) < 200


def test_reading_reports_progress_and_stops_when_the_listener_says_so(tmp_path):
    from nnsim.engine.base import progress_to

    path = tmp_path / "big.csv"
    _big_file(path)
    seen = []

    class Stop(Exception):
        pass

    def sink(fraction, text):
        seen.append((fraction, text))
        if len(seen) == 2:
            raise Stop

    with progress_to(sink), pytest.raises(Stop):
        datafiles.read_table(path, label=-1)
    assert seen[0][1].startswith("Reading big.csv:") and 0 < seen[0][0] < seen[1][0] < 1


def test_extreme_values_are_refused_with_their_line(tmp_path):
    path = tmp_path / "big_values.csv"
    path.write_text("x1,x2,label\n1,2,0\n3,1e308,1\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="beyond") as info:
        datasets.load_xy_csv(path)
    assert info.value.line == 3 and info.value.column == 2
