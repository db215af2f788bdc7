"""Saved simulation states: capture, restore, and check a state against what the simulation builds.

A simulation's state is whatever its ``get_state()`` returns: numbers, strings, arrays, random
generators, dicts, lists and nnsim objects. Before a saved state replaces anything, it is checked
against a *reference*: the ``get_state()`` of a fresh simulation built with the saved parameters and
seed. That reference is the schema (every name, every type, every array's dtype and shape, exactly as
the code of this version builds them for these parameters), so it cannot drift from the code. Only
what grows while a run goes on (histories, curves) differs from it in length; a simulation names
those in ``state_growing`` (dotted paths, ``*`` for any dict key).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

#: the largest magnitude a saved floating-point value may have (drawing and the kernels need room)
MAX_ABS = 1e12
#: the largest integer a saved state may hold (random generators' states are 128-bit)
MAX_INT = 1 << 130
#: entries of a growing list or array (a history of that many steps is several GB)
MAX_GROWTH = 50_000_000
MAX_TEXT = 100_000
MAX_DEPTH = 40


class StateError(ValueError):
    """A saved state that does not fit the simulation; the message names the entry and the problem."""


def quote(value: Any, n: int = 40) -> str:
    """A value for a message, at most ``n`` characters (a hostile file's 5 MB field stays out)."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > n:
        text = text[: n - 1] + "…"
    return repr(text) if isinstance(value, str) else text


def capture_state(sim) -> dict:
    """The simulation's attributes (everything ``reset`` builds), without ``params``."""
    return {k: v for k, v in vars(sim).items() if k != "params" and not k.startswith("__")}


def restore_state(sim, state: dict) -> None:
    """Put ``state`` (from :func:`capture_state`) back into ``sim``; unknown or missing names are refused."""
    known = set(vars(sim))
    unknown = sorted(set(state) - known)
    if unknown:
        raise StateError(f"the saved state has entries this version does not know: {', '.join(map(quote, unknown))}")
    missing = sorted(known - set(state) - {"params"})
    if missing:
        raise StateError(f"the saved state lacks: {', '.join(missing)}")
    for k, v in state.items():
        setattr(sim, k, v)


def _growing(path: str, patterns) -> bool:
    return any(re.fullmatch(p.replace(".", r"\.").replace("*", r"[^.]+"), path) for p in patterns)


def _kind(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, (int, np.integer)):
        return "an integer"
    if isinstance(value, (float, np.floating)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype} {value.shape}"
    if isinstance(value, dict):
        return "a set of named values"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def check_like(reference: Any, value: Any, growing=(), where: str = "state", depth: int = 0) -> None:
    """Raise :class:`StateError` unless ``value`` has the structure of ``reference`` (see the module).
    An entry missing from ``value`` that the reference holds as None (a cache added in a later
    version) is added to ``value`` as None."""
    if depth > MAX_DEPTH:
        raise StateError(f"{where} is nested too deeply")
    if reference is None:  # (built later in a run: checked for sanity only)
        check_sane(value, where, depth)
        return
    grows = _growing(where.partition(".")[2], growing)
    if isinstance(reference, bool) or isinstance(reference, np.bool_):
        if not isinstance(value, (bool, np.bool_)):
            raise StateError(f"{where} should be a true/false value, not {_kind(value)}")
        return
    if isinstance(reference, (int, np.integer)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise StateError(f"{where} should be an integer, not {_kind(value)}")
        if abs(int(value)) > MAX_INT:
            raise StateError(f"{where} = {quote(int(value))} is out of range")
        return
    if isinstance(reference, (float, np.floating)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise StateError(f"{where} should be a number, not {_kind(value)}")
        _check_finite(np.asarray(float(value)), np.asarray(float(reference)), where)
        return
    if isinstance(reference, str):
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise StateError(f"{where} should be text" + ("" if isinstance(value, str) else f", not {_kind(value)}"))
        return
    if isinstance(reference, np.ndarray):
        _check_array(reference, value, grows, where)
        return
    if isinstance(reference, np.random.Generator):
        if not isinstance(value, np.random.Generator) or type(value.bit_generator) is not type(reference.bit_generator):
            raise StateError(f"{where} should be a {type(reference.bit_generator).__name__} random generator")
        return
    if isinstance(reference, dict):
        if not isinstance(value, dict):
            raise StateError(f"{where} should be {_kind(reference)}, not {_kind(value)}")
        free = _growing(f"{where.partition('.')[2]}.*", growing) and len(reference) == 0
        for k in [k for k in reference if k not in value and reference[k] is None]:
            value[k] = None  # a cache added since the file was saved: rebuilt when needed
        missing = [k for k in reference if k not in value]
        extra = [k for k in value if k not in reference]
        if missing:
            raise StateError(f"{where} lacks {', '.join(quote(k) for k in missing[:5])}")
        if extra and not free:
            raise StateError(f"{where} has entries this version does not know: {', '.join(quote(k) for k in extra[:5])}")
        for k, v in value.items():
            sub = f"{where}.{k}" if isinstance(k, str) else f"{where}[{quote(k)}]"
            if k in reference:
                check_like(reference[k], v, growing, sub, depth + 1)
            else:
                check_sane(v, sub, depth + 1)
        return
    if isinstance(reference, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            raise StateError(f"{where} should be a list, not {_kind(value)}")
        if grows:
            if len(value) > MAX_GROWTH:
                raise StateError(f"{where} has {len(value):,} entries; at most {MAX_GROWTH:,} are read")
            model = reference[0] if len(reference) else None
            for i, v in enumerate(value):
                check_like(model, v, growing, f"{where}[{i}]", depth + 1)
            return
        if len(value) != len(reference):
            raise StateError(f"{where} has {len(value)} entries, {len(reference)} expected")
        for i, (r, v) in enumerate(zip(reference, value)):
            check_like(r, v, growing, f"{where}[{i}]", depth + 1)
        return
    if hasattr(reference, "__dict__") and type(reference).__module__.startswith("nnsim."):
        if type(value) is not type(reference):
            raise StateError(f"{where} should be {_kind(reference)}, not {_kind(value)}")
        check_like(vars(reference), vars(value), growing, where, depth)
        return
    check_sane(value, where, depth)


def check_sane(value: Any, where: str = "state", depth: int = 0) -> None:
    """What holds for any saved value: finite numbers within range, arrays of numbers, bounded sizes."""
    if depth > MAX_DEPTH:
        raise StateError(f"{where} is nested too deeply")
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise StateError(f"{where} is {len(value):,} characters long")
        return
    if isinstance(value, (int, np.integer)):
        if abs(int(value)) > MAX_INT:
            raise StateError(f"{where} = {quote(int(value))} is out of range")
        return
    if isinstance(value, (float, np.floating)):
        _check_finite(np.asarray(float(value)), None, where)
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise StateError(f"{where} holds {value.dtype} values, not numbers")
        _check_finite(value, None, where)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            check_sane(v, f"{where}.{k}", depth + 1)
        return
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_GROWTH:
            raise StateError(f"{where} has {len(value):,} entries")
        for i, v in enumerate(value):
            check_sane(v, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, np.random.Generator):
        return
    if hasattr(value, "__dict__") and type(value).__module__.startswith("nnsim."):
        check_sane(vars(value), where, depth)
        return
    raise StateError(f"{where} is {_kind(value)}, which a state cannot hold")


def _check_array(reference: np.ndarray, value, grows: bool, where: str) -> None:
    if not isinstance(value, np.ndarray):
        raise StateError(f"{where} should be an array of {reference.dtype} {reference.shape}, not {_kind(value)}")
    if value.dtype != reference.dtype:
        raise StateError(f"{where} holds {value.dtype} values, {reference.dtype} expected")
    if value.ndim != reference.ndim:
        raise StateError(f"{where} has shape {value.shape}, {reference.shape} expected")
    same_tail = value.shape[1:] == reference.shape[1:]
    if grows:
        if not same_tail or value.shape[0] > MAX_GROWTH:
            raise StateError(f"{where} has shape {value.shape}, (n, {', '.join(map(str, reference.shape[1:]))}) expected"
                             if value.ndim > 1 else f"{where} has {value.shape[0]:,} entries")
    elif value.shape != reference.shape:
        raise StateError(f"{where} has shape {value.shape}, {reference.shape} expected for these parameters")
    if value.dtype.kind == "f":
        _check_finite(value, reference, where)


def _check_finite(value: np.ndarray, reference, where: str) -> None:
    if value.size == 0 or value.dtype.kind != "f":
        return
    ref_ok = reference is None or reference.size == 0 or bool(np.isfinite(reference).all())
    if ref_ok and not np.isfinite(value).all():
        bad = value[~np.isfinite(value)].flat[0]
        raise StateError(f"{where} holds {bad} (a diverged run is not resumed: reset it instead)")
    finite = value[np.isfinite(value)] if not ref_ok else value
    top = float(np.abs(finite).max()) if finite.size else 0.0
    ref_top = float(np.nanmax(np.abs(reference))) if reference is not None and reference.size and \
        np.isfinite(reference).any() else 0.0
    if top > max(MAX_ABS, 10 * ref_top) or math.isinf(top):
        raise StateError(f"{where} holds values up to {top:.3g}; saved states stay below {MAX_ABS:.0e}")
