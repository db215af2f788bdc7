"""Save and open experiments: one ``.nnsim`` file that restores a panel exactly where its run stood.

The file is a zip archive holding

* ``experiment.json``: format version, nnsim version, panel key, seed, step count, every parameter
  (validated against the panel's Params on opening) and the simulation state as JSON in which every
  array is a reference into ``arrays.npz``;
* ``arrays.npz``: the arrays (no pickles: ``allow_pickle=False`` on reading);
* ``thumbnail.png``: a picture of the panel when saved (optional).

The state is what the simulation's ``get_state()`` returns (see nnsim.engine.state), encoded without pickle:
numbers, strings, lists, dicts, numpy arrays, numpy random generators, dataclasses and plain objects
(their attributes, restored without calling ``__init__``) of classes defined in ``nnsim`` modules. Opening never imports anything outside ``nnsim`` and never runs code from the
file. Saving is atomic: the archive is written to a temporary file beside the target, then renamed.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import nnsim
from nnsim.engine.state import quote

FORMAT = "nnsim-experiment"
VERSION = 1
SUFFIX = ".nnsim"
#: limits of what is read from a file (uncompressed bytes, nesting levels, the seed box's range)
MAX_JSON_BYTES = 64 << 20
MAX_THUMB_BYTES = 16 << 20
MAX_ARRAY_BYTES = 1 << 30
MAX_JSON_DEPTH = 64
SEED_MAX = 2**31 - 1
STEP_MAX = 10**12


class ExperimentError(ValueError):
    """A file that cannot be opened or saved as an experiment; the message names the problem."""


@dataclass
class Experiment:
    panel: str
    params: dict
    seed: int
    step_count: int
    state: dict | None = None
    thumbnail: bytes | None = None
    nnsim_version: str = nnsim.__version__


# ---------------------------------------------------------------- state encoding (no pickle)
class _Encoder:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            v = float(obj)
            return v if np.isfinite(v) else {"__float__": repr(v)}
        if isinstance(obj, np.ndarray):
            if obj.dtype == object:
                raise ExperimentError(f"cannot save {where}: an array of Python objects")
            key = f"a{len(self.arrays)}"
            self.arrays[key] = obj
            return {"__array__": key}
        if isinstance(obj, np.random.Generator):
            return {"__rng__": type(obj.bit_generator).__name__, "state": self.encode(obj.bit_generator.state, where)}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            name = _saved_name(type(obj), where)
            fields = {f.name: self.encode(getattr(obj, f.name), f"{where}.{f.name}") for f in dataclasses.fields(obj)}
            return {"__dataclass__": name, "fields": fields}
        if type(obj).__module__.startswith("nnsim.") and hasattr(obj, "__dict__") and not isinstance(obj, type):
            name = _saved_name(type(obj), where)  # a plain nnsim object (a network, an update rule)
            attrs = {k: self.encode(v, f"{where}.{k}") for k, v in vars(obj).items()}
            return {"__object__": name, "attrs": attrs}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            if not all(isinstance(k, str) for k in obj):
                return {"__items__": [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]}
            return {"__dict__": {k: self.encode(v, f"{where}.{k}") for k, v in obj.items()}}
        raise ExperimentError(f"cannot save {where}: values of type {type(obj).__name__} are not supported")


#: the types a saved state may hold, by the name written in files → where the class lives now
#: (a class that moves keeps its old name here, so older files still open). Nothing else is ever
#: imported or created from a file.
SAVED_TYPES: dict[str, str] = {name: name for name in (
    "nnsim.engine.cnn:ConvNet",
    "nnsim.engine.digits:ImageSet",
    "nnsim.engine.gradcheck:BlockCheck",
    "nnsim.engine.mlp:MLP",
    "nnsim.engine.mlp_inspect:GradCheckReport",
    "nnsim.engine.mlp_sim:_Run",
    "nnsim.engine.optimizers:Rule",
    "nnsim.engine.perceptron:UpdateRecord",
    "nnsim.engine.tsne_data:VectorData",
)}


def _type_name(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _saved_name(cls, where: str) -> str:
    """The name a type is saved under (its registry entry), or ExperimentError."""
    name = _type_name(cls)
    for saved, now in SAVED_TYPES.items():
        if now == name:
            return saved
    raise ExperimentError(f"cannot save {where}: {cls.__name__} is not a type experiments may hold "
                          "(nnsim.experiment.SAVED_TYPES)")


def _nnsim_class(target: str):
    """The class a file names, from the registry only: never an import of a name from the file."""
    now = SAVED_TYPES.get(target)
    if now is None:
        raise ExperimentError(f"the file names a type nnsim does not save ({quote(target)}); it was not opened")
    module, _, name = now.partition(":")
    return getattr(importlib.import_module(module), name)


def _depth(obj: Any, limit: int) -> int:
    """How deeply ``obj`` (parsed JSON) nests, counted without recursion, stopping past ``limit``."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, d)
            if deepest > limit:
                return deepest
            stack.extend((v, d + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _decode(obj: Any, arrays, where: str) -> Any:
    if isinstance(obj, list):
        return [_decode(v, arrays, where) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__array__" in obj:
        key = obj["__array__"]
        if key not in arrays:
            raise ExperimentError(f"the file is damaged: array {key!r} for {where} is missing")
        return np.array(arrays[key])
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays, where) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {k: _decode(v, arrays, f"{where}.{k}") for k, v in obj["__dict__"].items()}
    if "__items__" in obj:
        return {_decode(k, arrays, where): _decode(v, arrays, where) for k, v in obj["__items__"]}
    if "__rng__" in obj:
        kind = obj["__rng__"]
        bitgen = getattr(np.random, str(kind), None)
        if bitgen is None or not isinstance(bitgen, type) or not issubclass(bitgen, np.random.BitGenerator):
            raise ExperimentError(f"the file is damaged: unknown random generator {kind!r} for {where}")
        gen = np.random.Generator(bitgen())
        try:
            gen.bit_generator.state = _decode(obj["state"], arrays, where)
        except (TypeError, ValueError, KeyError) as exc:
            raise ExperimentError(f"the file is damaged: bad random generator state for {where} ({exc})") from None
        return gen
    if "__object__" in obj:
        target = str(obj["__object__"])
        cls = _nnsim_class(target)
        if not isinstance(cls, type) or dataclasses.is_dataclass(cls):
            raise ExperimentError(f"the file names {target}, which cannot be restored this way")
        inst = cls.__new__(cls)  # no __init__: the attributes below are the whole state
        for k, v in obj.get("attrs", {}).items():
            setattr(inst, str(k), _decode(v, arrays, f"{where}.{k}"))
        return inst
    if "__dataclass__" in obj:
        target = str(obj["__dataclass__"])
        cls = _nnsim_class(target)
        if not dataclasses.is_dataclass(cls):
            raise ExperimentError(f"the file names {target}, which is not a data type")
        fields = {k: _decode(v, arrays, f"{where}.{k}") for k, v in obj.get("fields", {}).items()}
        try:
            return cls(**fields)
        except TypeError as exc:
            raise ExperimentError(f"the file does not match {target}: {exc}") from None
    raise ExperimentError(f"the file is damaged: unexpected entry in {where}")


# ---------------------------------------------------------------- files
def save(path: str | os.PathLike, exp: Experiment) -> Path:
    """Write ``exp`` atomically to ``path`` (``.nnsim`` appended if missing)."""
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    enc = _Encoder()
    doc = {"format": FORMAT, "version": VERSION, "nnsim_version": exp.nnsim_version, "panel": exp.panel,
           "seed": int(exp.seed), "step_count": int(exp.step_count), "params": exp.params,
           "state": enc.encode(exp.state, "state") if exp.state is not None else None}
    buf = io.BytesIO()
    np.savez_compressed(buf, **enc.arrays)
    if not path.parent.is_dir():
        raise ExperimentError(f"cannot save {path}: the folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".nnsim-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("experiment.json", json.dumps(doc, indent=1, sort_keys=True))
            zf.writestr("arrays.npz", buf.getvalue())
            if exp.thumbnail:
                zf.writestr("thumbnail.png", exp.thumbnail)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; a saved experiment is not
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ExperimentError(f"cannot save {path}: {exc.strerror or exc}") from None
    return path


def load(path: str | os.PathLike, params_class=None) -> Experiment:
    """Read and check an experiment file. ``params_class`` (the panel's Params) validates the values.

    Whatever the file holds, the result is an Experiment or an :class:`ExperimentError` with a short
    message: sizes are checked before anything is read or inflated (``MAX_JSON_BYTES``, the arrays'
    headers against ``MAX_ARRAY_BYTES``), nesting is limited, numbers are range-checked, and no code or
    module is ever taken from the file. The saved state is checked against the simulation later
    (``Simulation.check_state``), before it replaces anything.
    """
    path = Path(path)
    try:
        return _load(path, params_class)
    except ExperimentError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise ExperimentError(f"{path.name} is too large or too deeply nested to open ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - a damaged file must never escape as a crash
        raise ExperimentError(f"{path.name} is damaged ({type(exc).__name__}: {quote(str(exc), 80)})") from None


def _load(path: Path, params_class) -> Experiment:
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ExperimentError(f"{path} does not exist") from None
    except (zipfile.BadZipFile, OSError) as exc:
        try:
            with open(path, "rb") as fh:
                head = fh.read(4)
        except OSError:
            head = b""
        if head == b"PK\x03\x04":
            raise ExperimentError(f"{path.name} is damaged or truncated (the zip archive is incomplete: {exc})") from None
        raise ExperimentError(f"{path.name} is not an nnsim experiment (not a readable zip archive: {exc})") from None
    with zf:
        try:
            names = set(zf.namelist())
            if "experiment.json" not in names:
                raise ExperimentError(f"{path.name} is not an nnsim experiment (no experiment.json inside)")
            for member, cap in (("experiment.json", MAX_JSON_BYTES), ("thumbnail.png", MAX_THUMB_BYTES),
                                ("arrays.npz", MAX_ARRAY_BYTES + (1 << 20))):
                if member in names and zf.getinfo(member).file_size > cap:
                    raise ExperimentError(f"{path.name}: {member} would take {zf.getinfo(member).file_size / 1e6:,.0f} MB "
                                          f"once unpacked; experiments are read up to {cap / 1e6:,.0f} MB")
            try:
                doc = json.loads(zf.read("experiment.json").decode("utf-8"))
            except RecursionError:
                raise ExperimentError(f"{path.name}: experiment.json is nested too deeply") from None
            if _depth(doc, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
                raise ExperimentError(f"{path.name}: experiment.json is nested more than {MAX_JSON_DEPTH} levels deep")
            arrays = _read_arrays(zf, path.name) if "arrays.npz" in names else {}
            thumb = zf.read("thumbnail.png") if "thumbnail.png" in names else None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib_error()) as exc:
            if isinstance(exc, ExperimentError):
                raise
            raise ExperimentError(f"{path.name} is damaged or truncated ({type(exc).__name__}: {quote(str(exc), 80)})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ExperimentError(f"{path.name} is not an nnsim experiment (format field missing or wrong)")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION or version < 1:
        raise ExperimentError(f"{path.name} has format version {quote(version)}; this nnsim reads version {VERSION} "
                              "(it was probably written by a newer nnsim)")
    for key, kind in (("panel", str), ("seed", int), ("step_count", int), ("params", dict)):
        if not isinstance(doc.get(key), kind) or isinstance(doc.get(key), bool):
            raise ExperimentError(f"{path.name}: the entry {key!r} is missing or not a {kind.__name__}")
    if not 0 <= doc["seed"] <= SEED_MAX:
        raise ExperimentError(f"{path.name}: the seed {quote(doc['seed'])} is outside 0 … {SEED_MAX}")
    if not 0 <= doc["step_count"] <= STEP_MAX:
        raise ExperimentError(f"{path.name}: the step count {quote(doc['step_count'])} is outside 0 … {STEP_MAX:,}")
    if params_class is not None:
        from nnsim.engine.base import ParamError

        try:
            params_class.from_dict(doc["params"])
        except ParamError as exc:
            raise ExperimentError(f"{path.name}: parameter problem: {quote(str(exc), 200)}") from None
        except Exception as exc:  # noqa: BLE001 - inf for an integer, a list for a number…
            raise ExperimentError(f"{path.name}: parameter problem ({type(exc).__name__}: {quote(str(exc), 80)})") from None
    state = _decode(doc["state"], arrays, "state") if doc.get("state") is not None else None
    if state is not None and not isinstance(state, dict):
        raise ExperimentError(f"{path.name}: the saved state is not a set of named values")
    return Experiment(panel=doc["panel"], params=doc["params"], seed=doc["seed"], step_count=doc["step_count"],
                      state=state, thumbnail=thumb, nnsim_version=quote(str(doc.get("nnsim_version", "?")), 40))


def _read_arrays(zf: zipfile.ZipFile, name: str) -> dict[str, np.ndarray]:
    """The arrays of arrays.npz; every member's header (dtype, shape) is read and checked first, so
    an archive that would inflate beyond MAX_ARRAY_BYTES is refused before anything is inflated."""
    from nnsim.engine.datafiles import DataFileError, check_npz

    with np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False) as npz:
        try:
            check_npz(npz, MAX_ARRAY_BYTES, name)
        except DataFileError as exc:
            raise ExperimentError(str(exc)) from None
        return {k: npz[k] for k in npz.files}


def zlib_error():
    import zlib

    return zlib.error
