"""Reading users' data files: one set of rules for every loader (pure Python + numpy, no Qt).

The perceptron/MLP points (:func:`nnsim.engine.datasets.load_xy_csv`), the t-SNE vectors
(:func:`nnsim.engine.tsne_data.load_vectors_csv`) and the CNN images
(:func:`nnsim.engine.digits.load_image_csv`) all go through :func:`read_table`; both IDX loaders go
through :func:`read_idx`. Every problem raises :class:`DataFileError`, whose message names the file
and, where it applies, the line and the column::

    points.csv, line 7, column 2 (x2): 'abc' is not a number

Text files (CSV)
----------------
- Encoding: UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"). UTF-16 text, binary
  files (a NUL byte), spreadsheets (.xlsx/.ods are zip archives) and other encodings (Latin-1, ...)
  are refused with a message saying what the file looks like. A gzipped file is read as its
  unpacked content.
- Lines end with LF, CR LF or CR. Blank lines and lines whose first non-blank character is ``#``
  are skipped (comments must take the whole line). Line numbers count every line of the file, as
  an editor shows them.
- Separator: decided once, on the first line that is not blank or a comment: a tab if it holds a
  tab, else a semicolon if it holds one, else a comma if it holds one, else runs of spaces. With a
  tab, semicolon or space separator a decimal comma is accepted (``1,5`` is 1.5), as spreadsheets
  in many languages write it. Spaces around fields are ignored; a field in double quotes has the
  quotes removed (a quoted field may then hold the separator, but not a line break).
- Header: the first row is a header when none of its fields is a number. It must have as many
  fields as the data rows; its names label the columns in messages and may choose the label
  column (see ``label_names``).
- Every row has as many fields as the first row (a "ragged" row is an error naming its line), the
  number columns hold numbers (``1``, ``-2.5``, ``3e-4``); ``nan`` and ``inf`` are refused, as are
  empty fields and values beyond ±:data:`MAX_ABS`. The label column, if any, may hold any
  non-empty text (at most :data:`MAX_LABEL` characters); the loader decides what a label may be.
- Limits: at most :data:`MAX_BYTES` bytes (after unpacking), :data:`MAX_ROWS` data rows and
  :data:`MAX_LINE` characters per line. Large files are read a chunk at a time by numpy (the same
  rules; an unusual chunk is read line by line for the exact message) and report their progress.

IDX files (MNIST)
-----------------
Two zero bytes, a data type code (0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), the number of dimensions (1 to 4), one big-endian uint32 size per
dimension, then exactly the declared number of big-endian values. Gzipped files are read too.
See http://yann.lecun.com/exdb/mnist/ ("FILE FORMATS").
"""

from __future__ import annotations

import csv
import gzip
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from nnsim.engine.base import report_progress
from nnsim.engine.state import quote

#: largest file read (bytes after unpacking a gzipped file): the 60000 MNIST training images take
#: 47 MB as IDX and about 110 MB as CSV
MAX_BYTES = 250_000_000
#: most data rows in a text file
MAX_ROWS = 200_000
#: longest line (characters) and label: a row of 784 pixels takes about 3,000 characters
MAX_LINE = 1_000_000
MAX_LABEL = 200
#: largest magnitude of a value in a data file (a file of 1e308s cannot be drawn or trained on)
MAX_ABS = 1e6
#: text parsed per numpy call (bytes): small enough that the GUI thread gets the GIL back often
CHUNK_BYTES = 256_000

_GZIP_MAGIC = b"\x1f\x8b"
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", " ": "space"}


class DataFileError(ValueError):
    """A problem with a data file.

    ``reason`` says what is wrong; ``path`` is the file (or None), ``line`` the 1-based line number
    and ``column`` the 1-based column (field) number, each None when the problem concerns the whole
    file or line. ``str(error)`` joins them: ``"points.csv, line 7, column 2 (x2): reason"``.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None, *,
                 path=None, column_name: str | None = None):
        self.reason = message
        self.line = line
        self.column = column
        self.column_name = column_name
        self.path = None if path is None else os.fspath(path)
        where = [Path(self.path).name] if self.path else []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}" + (f" ({column_name})" if column_name else ""))
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


def _mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n} bytes"


def read_bytes(path, max_bytes: int | None = None) -> bytes:
    """The file's bytes (unpacked if gzipped), refusing files larger than ``max_bytes``
    (default :data:`MAX_BYTES`)."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            raise DataFileError(f"the file is {_mb(size)}; at most {_mb(max_bytes)} can be read",
                                path=path)
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise DataFileError(f"cannot read the file ({exc.strerror or exc})", path=path) from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=_BytesReader(raw)) as gz:
                raw = gz.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFileError(f"the file looks gzipped but its data are damaged ({exc})",
                                path=path) from None
        if len(raw) > max_bytes:
            raise DataFileError(f"the file unpacks to more than {_mb(max_bytes)}; at most "
                                f"{_mb(max_bytes)} can be read", path=path)
    return raw


class _BytesReader:
    """A minimal read-only file object over bytes (io.BytesIO would copy them)."""

    def __init__(self, data: bytes):
        self._view, self._pos = memoryview(data), 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._view) if n is None or n < 0 else min(self._pos + n, len(self._view))
        out = bytes(self._view[self._pos:end])
        self._pos = end
        return out


def head_bytes(path, n: int = 4) -> bytes:
    """The first ``n`` bytes of the file, of its unpacked content when it is gzipped."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(n)
            if head[:2] == _GZIP_MAGIC:
                fh.seek(0)
                with gzip.GzipFile(fileobj=fh) as gz:
                    head = gz.read(n)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataFileError(f"the file looks gzipped but its data are damaged ({exc})",
                            path=path) from None
    except OSError as exc:
        raise DataFileError(f"cannot read the file ({exc.strerror or exc})", path=path) from None
    return head


def decode_text(raw: bytes, path=None) -> str:
    """UTF-8 text (a byte-order mark is dropped) with clear messages for what is not."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataFileError("the file is UTF-16 text; save it as UTF-8 (\"CSV UTF-8\") instead",
                            path=path)
    if raw[:4] == b"PK\x03\x04":
        raise DataFileError("the file is a zip archive (a spreadsheet such as .xlsx or .ods?), not "
                            "text; export the sheet as CSV first", path=path)
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataFileError("the file is binary, not text (it contains a zero byte); expected a "
                            "text file with one row of values per line",
                            raw.count(b"\n", 0, nul) + 1, path=path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataFileError(f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be "
                            "decoded); save it as UTF-8 (\"CSV UTF-8\")", line, path=path) from None


def read_text(path, max_bytes: int | None = None) -> str:
    """The file as text, under the encoding and size rules above."""
    return decode_text(read_bytes(path, max_bytes), path)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _detect_separator(line: str) -> str:
    for sep in ("\t", ";", ","):
        if sep in line:
            return sep
    return " "


def _split(line: str, sep: str) -> list[str]:
    if sep == " ":
        fields = line.split()
        if '"' in line:
            fields = [f[1:-1] if len(f) >= 2 and f[0] == f[-1] == '"' else f for f in fields]
        return fields
    if '"' in line:
        return [f.strip() for f in next(csv.reader([line], delimiter=sep, skipinitialspace=True))]
    return [f.strip() for f in line.split(sep)]


@dataclass(frozen=True, eq=False)
class Table:
    """The numbers of a text file and, optionally, its label column (as texts).

    ``values[i, j]`` is the j-th number column of data row i, read from the 1-based file column
    ``columns[j]`` on line ``lines[i]``; ``labels[i]`` is the text of the label column
    (``label_column``, 1-based) or ``labels`` is None when there is none.
    """

    path: str
    values: np.ndarray
    labels: tuple[str, ...] | None
    lines: np.ndarray
    columns: tuple[int, ...]
    label_column: int | None
    header: tuple[str, ...] | None
    names: tuple[str | None, ...]
    separator: str

    @property
    def name(self) -> str:
        return Path(self.path).name

    def error(self, row: int | None, reason: str, column: int | None = None) -> DataFileError:
        """A DataFileError for data row ``row`` (None: the whole file) and 1-based file column."""
        line = None if row is None else int(self.lines[row])
        name = self.names[column - 1] if column is not None and column <= len(self.names) else None
        return DataFileError(reason, line, column, path=self.path, column_name=name)

    def value_error(self, row: int, j: int, reason: str) -> DataFileError:
        """A DataFileError for ``values[row, j]``."""
        return self.error(row, reason, self.columns[j])

    def whole_labels(self, high: int | None = None) -> np.ndarray:
        """The label column as whole numbers >= 0 (``"3"`` and ``"3.0"`` alike), and < ``high``
        when given; a label that is not raises a DataFileError naming its line and column."""
        out = np.empty(len(self.labels), dtype=np.int64)
        col = self.label_column
        rule = "labels must be whole numbers 0 or greater" if high is None else \
            f"labels must be whole numbers 0 .. {high - 1}"
        for i, text in enumerate(self.labels):
            try:
                v = float(text)
            except ValueError:
                raise self.error(i, f"label {text!r} is not a number; {rule}", col) from None
            if not np.isfinite(v) or v != int(v):
                raise self.error(i, f"label {text!r} is not a whole number; {rule}", col)
            if v < 0:
                raise self.error(i, f"label {text!r} is negative; {rule}", col)
            if high is not None and v >= high:
                raise self.error(i, f"label {text!r} is too large; {rule}", col)
            out[i] = int(v)
        return out


def read_table(path, *, label: int | None = None, label_names: Sequence[str] = (),
               columns: int | None = None, names: Sequence[str] | None = None,
               expected: str = "rows of numbers", max_bytes: int | None = None,
               max_rows: int | None = None) -> Table:
    """Read a text file of rows of numbers under the module's rules; return a :class:`Table`.

    ``label``: 0-based index of the label column (negative counts from the end: -1 is the last),
    or None for none. ``label_names``: header names (any case) that make their column the label
    column instead. ``columns``: the exact number of fields a row must have. ``names``: column
    names for messages (otherwise the header's). ``expected`` describes a row for the
    "no data rows" message. ``max_bytes`` and ``max_rows`` default to :data:`MAX_BYTES` and
    :data:`MAX_ROWS`.
    """
    max_rows = MAX_ROWS if max_rows is None else max_rows
    text = read_text(path, max_bytes)
    spath = os.fspath(path)
    fname = Path(spath).name
    wanted = {n.lower() for n in label_names}
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    st = _TableState(tuple(names) if names else ())
    rows: list[np.ndarray] = []     # 1-D rows (line by line) and 2-D blocks (a chunk at once)
    labels: list[str] = []
    lines: list[int] = []
    count = [0]

    def fail(reason, lineno, col=None):
        name = st.col_names[col] if col is not None and col < len(st.col_names) else None
        return DataFileError(reason, lineno, None if col is None else col + 1, path=spath,
                             column_name=name)

    def one_line(lineno: int, line: str) -> None:
        """The rules above, for one line (exact messages); the first data row sets the layout."""
        s = line.strip()
        if not s or s[0] == "#":
            return
        if len(s) > MAX_LINE:
            raise fail(f"the line is {len(s):,} characters long; a row of values is at most {MAX_LINE:,}", lineno)
        if st.sep is None:
            st.sep = _detect_separator(s)
        fields = _split(s, st.sep)
        if st.width is None:
            st.width, st.first_line = len(fields), lineno
            is_header = not any(_is_number(f) for f in fields)
            if columns is not None and st.width != columns:
                what = f" ({', '.join(st.col_names)})" if st.col_names else ""
                raise fail(f"expected {columns} {_SEP_NAMES[st.sep]}-separated values{what}, "
                           f"got {st.width}", lineno)
            if is_header:
                st.header = tuple(fields)
                if not names:
                    st.col_names = tuple(quote(f, 40) if len(f) > 40 else f for f in fields)
            if label is not None:
                st.label_idx = label % st.width if -st.width <= label < st.width else None
            if st.header is not None and wanted:
                hit = next((k for k, f in enumerate(st.header) if f.lower() in wanted), None)
                if hit is not None:
                    st.label_idx = hit
            st.num_idx = [k for k in range(st.width) if k != st.label_idx]
            if not st.num_idx:
                raise fail("the rows hold a label but no numbers", lineno)
            if is_header:
                return
        if len(fields) != st.width:
            if columns is not None:
                what = f" ({', '.join(st.col_names)})" if st.col_names else ""
                raise fail(f"expected {st.width} {_SEP_NAMES[st.sep]}-separated values{what}, "
                           f"got {len(fields)}", lineno)
            like = "the header" if st.header is not None else "the first row"
            raise fail(f"expected {st.width} {_SEP_NAMES[st.sep]}-separated values like {like} "
                       f"(line {st.first_line}), got {len(fields)}", lineno)
        if count[0] >= max_rows:
            raise fail(f"more than {max_rows} data rows; at most {max_rows} can be read "
                       "(keep a part of the file)", lineno)
        if st.label_idx is not None:
            lab = fields[st.label_idx]
            if lab == "":
                raise fail("the label is empty", lineno, st.label_idx)
            if len(lab) > MAX_LABEL:
                raise fail(f"the label {quote(lab)} is {len(lab):,} characters long; at most {MAX_LABEL}",
                           lineno, st.label_idx)
            labels.append(lab)
            nums = [fields[k] for k in st.num_idx]
        else:
            nums = fields
        if st.sep != "," and "," in s:
            nums = [f.replace(",", ".") if f.count(",") == 1 and "." not in f else f for f in nums]
        try:
            vec = np.array(nums, dtype=np.float64)
        except ValueError:
            for j, f in enumerate(nums):
                if not _is_number(f):
                    orig = fields[st.num_idx[j]]
                    raise fail("the value is empty" if orig == "" else f"{quote(orig)} is not a number",
                               lineno, st.num_idx[j]) from None
            raise  # pragma: no cover - numpy and float() agree on what a number is
        if not np.all(np.isfinite(vec)):
            j = int(np.flatnonzero(~np.isfinite(vec))[0])
            raise fail(f"{quote(fields[st.num_idx[j]])} is not a finite number (nan and inf are not "
                       "allowed)", lineno, st.num_idx[j])
        if vec.size and float(np.abs(vec).max()) > MAX_ABS:
            j = int(np.argmax(np.abs(vec)))
            raise fail(f"{quote(fields[st.num_idx[j]])} is beyond ±{MAX_ABS:,.0f}; rescale the data (values "
                       "this large cannot be drawn or trained on)", lineno, st.num_idx[j])
        rows.append(vec)
        lines.append(lineno)
        count[0] += 1

    def chunk_at_once(first: int, chunk: list[str]) -> bool:
        """A chunk of plain rows (no quotes, no decimal commas) parsed by numpy in one call; False
        when anything is unusual (the chunk is then read line by line, for the exact message)."""
        keep = [k for k, line in enumerate(chunk) if (t := line.lstrip()) and t[0] != "#"]
        if not keep:
            return True
        body = [chunk[k] for k in keep]
        if count[0] + len(body) > max_rows or max(map(len, body)) > MAX_LINE:
            return False
        sep = st.sep
        if sep == " ":
            split = [line.split() for line in body]
            if any(len(f) != st.width for f in split):
                return False
        elif any(line.count(sep) != st.width - 1 for line in body):
            return False
        try:
            data = np.loadtxt(body, delimiter=None if sep == " " else sep, dtype=np.float64,
                              usecols=st.num_idx, ndmin=2, comments=None)
        except ValueError:
            return False
        if (data.shape != (len(body), len(st.num_idx)) or not np.isfinite(data).all()
                or (data.size and float(np.abs(data).max()) > MAX_ABS)):
            return False
        if st.label_idx is not None:
            labs = ([f[st.label_idx] for f in split] if sep == " " else
                    [line.split(sep)[st.label_idx].strip() for line in body])
            if any(lab == "" or len(lab) > MAX_LABEL for lab in labs):
                return False
            labels.extend(labs)
        rows.append(data)
        lines.extend(first + k for k in keep)
        count[0] += len(body)
        return True

    all_lines = text.split("\n")
    del text
    n_lines, i = len(all_lines), 0
    while i < n_lines and st.num_idx is None or (i < n_lines and count[0] == 0):
        one_line(i + 1, all_lines[i])
        i += 1
    fast = st.sep is not None and not any('"' in line for line in all_lines[i:i + 1000]) and (
        st.sep == "," or not any("," in line for line in all_lines[i:i + 1000]))
    while i < n_lines:
        j, size = i, 0
        while j < n_lines and size < CHUNK_BYTES:
            size += len(all_lines[j]) + 1
            j += 1
        chunk = all_lines[i:j]
        if not (fast and chunk_at_once(i + 1, chunk)):
            for k, line in enumerate(chunk):
                one_line(i + 1 + k, line)
        i = j
        report_progress(i / n_lines, f"Reading {fname}: {count[0]:,} rows")

    if not count[0]:
        empty = "the file is empty: " if st.width is None and not any(line.strip() for line in all_lines) else ""
        raise DataFileError(f"{empty}no data rows (expected {expected})", path=spath)
    return Table(spath, np.vstack(rows), None if st.label_idx is None else tuple(labels),
                 np.array(lines, dtype=np.int64), tuple(k + 1 for k in st.num_idx),
                 None if st.label_idx is None else st.label_idx + 1, st.header,
                 tuple(st.col_names), st.sep)


class _TableState:
    """What the first rows of a table decide (separator, width, header, label column)."""

    def __init__(self, col_names: tuple):
        self.sep: str | None = None
        self.header: tuple | None = None
        self.width: int | None = None
        self.first_line: int | None = None
        self.label_idx: int | None = None
        self.col_names = col_names
        self.num_idx: list[int] | None = None


# ---- npz --------------------------------------------------------------------------------------

def check_npz(npz, max_bytes: int, name: str) -> None:
    """Refuse an open ``np.load`` archive whose members would inflate past ``max_bytes`` together,
    hold Python objects, or declare more data than they hold: from the members' headers, before
    any member is inflated (an 800 MB member compresses to a few MB)."""
    total = 0
    for member in npz.zip.namelist():
        info = npz.zip.getinfo(member)
        with npz.zip.open(member) as fh:
            version = np.lib.format.read_magic(fh)
            shape, _fortran, dtype = (np.lib.format.read_array_header_1_0(fh) if version == (1, 0)
                                      else np.lib.format.read_array_header_2_0(fh))
        if dtype.hasobject:
            raise DataFileError(f"the array {quote(member)} holds Python objects; it was not read", path=name)
        size = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if size > info.file_size + 1024:  # (the header says more than the member holds)
            raise DataFileError(f"the array {quote(member)} is damaged (its header does not match its data)",
                                path=name)
        total += size
        if total > max_bytes:
            raise DataFileError(f"its arrays would take more than {_mb(max_bytes)} once unpacked; it was "
                                "not read", path=name)


# ---- IDX ---------------------------------------------------------------------------------------

#: IDX element types: code -> (big-endian numpy dtype, description)
IDX_TYPES = {0x08: (">u1", "unsigned byte"), 0x09: (">i1", "signed byte"), 0x0B: (">i2", "int16"),
             0x0C: (">i4", "int32"), 0x0D: (">f4", "float32"), 0x0E: (">f8", "float64")}


def looks_like_idx(head: bytes) -> bool:
    """True when (unpacked) data start like an IDX file: two zero bytes, which no text file does.
    :func:`read_idx` then checks the rest and explains what is wrong."""
    return len(head) >= 2 and head[0] == 0 and head[1] == 0


def is_idx_file(path) -> bool:
    """Whether the file (gzipped or not) starts like an IDX file (see :func:`looks_like_idx`)."""
    return looks_like_idx(head_bytes(path, 4))


def read_idx(path, raw: bytes | None = None, max_bytes: int | None = None) -> np.ndarray:
    """An IDX file as an array of its declared shape, in native byte order (read-only for bytes).

    ``raw`` may hold the file's bytes already read (gzipped or not). Every problem (not IDX, an
    unknown type code, a bad dimension count, a short header, missing or extra data, damaged gzip
    data, a file too large) raises a :class:`DataFileError` naming the file.
    """
    if raw is None:
        raw = read_bytes(path, max_bytes)
    elif raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFileError(f"the file looks gzipped but its data are damaged ({exc})",
                                path=path) from None

    def fail(reason):
        return DataFileError(reason, path=path)

    if len(raw) < 4:
        raise fail(f"only {len(raw)} bytes; an IDX file starts with a 4-byte header")
    if raw[0] != 0 or raw[1] != 0:
        raise fail("not an IDX file: it should start with two zero bytes, found "
                   f"0x{raw[0]:02x} 0x{raw[1]:02x}")
    code, ndim = raw[2], raw[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02x} {d}" for c, (_, d) in IDX_TYPES.items())
        raise fail(f"unknown IDX data type 0x{code:02x} (known: {known}; MNIST uses 0x08)")
    if not 1 <= ndim <= 4:
        raise fail(f"the header declares {ndim} dimensions; IDX files here have 1 to 4")
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise fail(f"truncated: the header needs {start} bytes, the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:start])
    dtype = np.dtype(IDX_TYPES[code][0])
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = len(raw) - start
    dims = " x ".join(str(s) for s in shape)
    if have < need:
        raise fail(f"truncated: the header declares {dims} values ({need} bytes) but only {have} "
                   "bytes follow (an incomplete download?)")
    if have > need:
        raise fail(f"{have - need} unexpected bytes after the {dims} values the header declares")
    arr = np.frombuffer(raw, dtype=dtype, count=need // dtype.itemsize, offset=start).reshape(shape)
    return arr if dtype.itemsize == 1 else arr.astype(dtype.newbyteorder("="))


def find_sibling(path, *names: str) -> Path | None:
    """The first existing file beside ``path`` among ``names``, each tried as given, with ``.gz``
    added and with ``.gz`` removed."""
    path = Path(path)
    for name in names:
        base = name.removesuffix(".gz")
        for cand in (name, base + ".gz", base):
            p = path.with_name(cand)
            if p != path and p.is_file():
                return p
    return None


def idx_labels_path(images_path) -> Path | None:
    """The labels file beside an IDX images file: ``train-images-idx3-ubyte[.gz]`` ->
    ``train-labels-idx1-ubyte[.gz]`` (likewise ``t10k-`` and names with ``images``)."""
    name = Path(images_path).name
    cands = [name.replace(a, b, 1) for a, b in (("images-idx3", "labels-idx1"),
                                                ("images.idx3", "labels.idx1"),
                                                ("images", "labels")) if a in name]
    return find_sibling(images_path, *cands) if cands else None


__all__ = ["DataFileError", "MAX_BYTES", "MAX_ROWS", "Table", "read_table", "read_text",
           "read_bytes", "decode_text", "head_bytes", "IDX_TYPES", "looks_like_idx", "is_idx_file",
           "read_idx", "find_sibling", "idx_labels_path"]
