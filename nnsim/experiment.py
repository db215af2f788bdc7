"""Save and open experiments: one ``.nnsim`` file that restores a panel exactly where its run stood.

The file is a zip archive holding

* ``experiment.json``: format version, nnsim version, panel key, seed, step count, every parameter
  (validated against the panel's Params on opening) and the simulation state as JSON in which every
  array is a reference into ``arrays.npz``;
* ``arrays.npz``: the arrays (no pickles: ``allow_pickle=False`` on reading);
* ``thumbnail.png``: a picture of the panel when saved (optional).

The state is the simulation object's own attributes (:func:`capture_state`), encoded without pickle:
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

FORMAT = "nnsim-experiment"
VERSION = 1
SUFFIX = ".nnsim"


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
            cls = type(obj)
            if not cls.__module__.startswith("nnsim."):
                raise ExperimentError(f"cannot save {where}: {cls.__name__} is not an nnsim type")
            fields = {f.name: self.encode(getattr(obj, f.name), f"{where}.{f.name}") for f in dataclasses.fields(obj)}
            return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
        if type(obj).__module__.startswith("nnsim.") and hasattr(obj, "__dict__") and not isinstance(obj, type):
            cls = type(obj)  # a plain nnsim object (a network, an update rule): its attributes
            attrs = {k: self.encode(v, f"{where}.{k}") for k, v in vars(obj).items()}
            return {"__object__": f"{cls.__module__}:{cls.__qualname__}", "attrs": attrs}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            if not all(isinstance(k, str) for k in obj):
                return {"__items__": [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]}
            return {"__dict__": {k: self.encode(v, f"{where}.{k}") for k, v in obj.items()}}
        raise ExperimentError(f"cannot save {where}: values of type {type(obj).__name__} are not supported")


def _nnsim_class(target: str):
    """The class named "module:Name" in a file; only nnsim modules are ever imported."""
    module, _, name = target.partition(":")
    if not module.startswith("nnsim."):
        raise ExperimentError(f"the file names a type outside nnsim ({target}); it was not opened")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ExperimentError(f"the file names an unknown type {target}") from None


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


def capture_state(sim) -> dict:
    """The simulation's attributes (everything ``reset`` builds), without ``params``."""
    return {k: v for k, v in vars(sim).items() if k != "params" and not k.startswith("__")}


def restore_state(sim, state: dict) -> None:
    """Put ``state`` (from :func:`capture_state`) back into ``sim``; unknown names are refused."""
    known = set(vars(sim))
    unknown = sorted(set(state) - known)
    if unknown:
        raise ExperimentError(f"the saved state has entries this version does not know: {', '.join(unknown)}")
    missing = sorted(known - set(state) - {"params"})
    if missing:
        raise ExperimentError(f"the saved state lacks: {', '.join(missing)}")
    for k, v in state.items():
        setattr(sim, k, v)


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
    """Read and check an experiment file. ``params_class`` (the panel's Params) validates the values."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ExperimentError(f"{path} does not exist") from None
    except (zipfile.BadZipFile, OSError) as exc:
        try:
            head = path.read_bytes()[:4]
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
            doc = json.loads(zf.read("experiment.json").decode("utf-8"))
            arrays = {}
            if "arrays.npz" in names:
                with np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False) as npz:
                    arrays = {k: npz[k] for k in npz.files}
            thumb = zf.read("thumbnail.png") if "thumbnail.png" in names else None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib_error()) as exc:
            if isinstance(exc, ExperimentError):
                raise
            raise ExperimentError(f"{path.name} is damaged or truncated ({type(exc).__name__}: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ExperimentError(f"{path.name} is not an nnsim experiment (format field missing or wrong)")
    version = doc.get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise ExperimentError(f"{path.name} has format version {version!r}; this nnsim reads version {VERSION} "
                              "(it was probably written by a newer nnsim)")
    for key, kind in (("panel", str), ("seed", int), ("step_count", int), ("params", dict)):
        if not isinstance(doc.get(key), kind) or isinstance(doc.get(key), bool):
            raise ExperimentError(f"{path.name}: the entry {key!r} is missing or not a {kind.__name__}")
    if params_class is not None:
        from nnsim.engine.base import ParamError

        try:
            params_class.from_dict(doc["params"])
        except ParamError as exc:
            raise ExperimentError(f"{path.name}: parameter problem: {exc}") from None
    state = _decode(doc["state"], arrays, "state") if doc.get("state") is not None else None
    if state is not None and not isinstance(state, dict):
        raise ExperimentError(f"{path.name}: the saved state is not a set of named values")
    return Experiment(panel=doc["panel"], params=doc["params"], seed=doc["seed"], step_count=doc["step_count"],
                      state=state, thumbnail=thumb, nnsim_version=str(doc.get("nnsim_version", "?")))


def zlib_error():
    import zlib

    return zlib.error
