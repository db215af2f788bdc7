"""The contract between the engine and everything above it.

Every simulation declares its knobs once, in a frozen :class:`Params` dataclass whose fields carry
their metadata (label, range, unit, help text with the formula, live or structural). The GUI's forms,
tooltips, presets and saved experiments are all derived from that declaration.

A simulation follows :class:`Simulation`: ``__init__`` stores parameters only; every piece of state,
the random generator included, is built in ``reset(seed)``; ``step(n)`` equals ``n`` calls of
``step(1)`` bit for bit; ``snapshot()`` returns copies the views may keep.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

# Statuses a simulation can report. "running" is the only non-terminal one.
RUNNING = "running"
CONVERGED = "converged"
NOT_CONVERGED = "not converged"
DIVERGED = "diverged"
FINISHED = "finished"  # a run with a fixed horizon reached its end


def param(
    default: Any,
    *,
    label: str,
    help: str = "",
    lo: float | None = None,
    hi: float | None = None,
    unit: str = "",
    choices: tuple | None = None,
    live: bool = False,
    step: float | None = None,
    decimals: int | None = None,
    log: bool = False,
    hidden: bool = False,
    group: str = "",
):
    """Declare one parameter of a :class:`Params` dataclass with its metadata.

    ``choices`` is a tuple of ``(value, text)`` pairs for a list of options. ``live`` parameters
    (a learning rate, say) are applied to a running simulation without a reset; structural ones
    (the data set, a layer size) need a reset. ``hidden`` keeps it out of the generated form;
    ``group`` puts it in a titled box of the form (fields of one group are shown together).
    """
    meta = dict(label=label, help=help, lo=lo, hi=hi, unit=unit, choices=choices, live=live,
                step=step, decimals=decimals, log=log, hidden=hidden, group=group)
    return field(default=default, metadata={"nnsim": meta})


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: type
    default: Any
    label: str
    help: str
    lo: float | None
    hi: float | None
    unit: str
    choices: tuple | None
    live: bool
    step: float | None
    decimals: int | None
    log: bool
    hidden: bool
    group: str = ""


class ParamError(ValueError):
    """A parameter value out of its declared range or of the wrong kind; the message names it."""


_TYPES = {"float": float, "int": int, "bool": bool, "str": str}


@dataclass(frozen=True)
class Params:
    """Base class of every parameter dataclass. Subclasses are ``@dataclass(frozen=True)``."""

    @classmethod
    def fields_info(cls) -> list[FieldInfo]:
        out = []
        for f in dataclasses.fields(cls):
            meta = f.metadata.get("nnsim")
            if meta is None:
                continue
            typ = f.type if isinstance(f.type, type) else _TYPES.get(str(f.type), object)
            out.append(FieldInfo(name=f.name, type=typ, default=f.default, **meta))
        return out

    @classmethod
    def info(cls, name: str) -> FieldInfo:
        for fi in cls.fields_info():
            if fi.name == name:
                return fi
        raise KeyError(name)

    def validate(self) -> "Params":
        """Raise :class:`ParamError` naming the first bad value; return ``self`` when all are fine."""
        for fi in self.fields_info():
            value = getattr(self, fi.name)
            if fi.choices is not None:
                allowed = [c[0] for c in fi.choices]
                if value not in allowed:
                    raise ParamError(f"{fi.label}: {value!r} is not one of {allowed}")
                continue
            if fi.type is bool:
                if not isinstance(value, bool):
                    raise ParamError(f"{fi.label}: expected true or false, got {value!r}")
                continue
            if fi.type in (int, float):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ParamError(f"{fi.label}: expected a number, got {value!r}")
                if fi.type is int and int(value) != value:
                    raise ParamError(f"{fi.label}: expected a whole number, got {value!r}")
                if not math.isfinite(value):
                    raise ParamError(f"{fi.label}: {value!r} is not a finite number")
                if fi.lo is not None and value < fi.lo:
                    raise ParamError(f"{fi.label}: {value} is below the minimum {fi.lo}")
                if fi.hi is not None and value > fi.hi:
                    raise ParamError(f"{fi.label}: {value} is above the maximum {fi.hi}")
        return self

    def replace(self, **changes) -> "Params":
        """A validated copy with ``changes`` applied (ints given for float fields are converted)."""
        fixed = {}
        for name, value in changes.items():
            fi = self.info(name)
            if fi.type is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            fixed[name] = value
        return dataclasses.replace(self, **fixed).validate()

    def to_dict(self) -> dict:
        return {fi.name: getattr(self, fi.name) for fi in self.fields_info()}

    @classmethod
    def from_dict(cls, data: dict) -> "Params":
        """Build from a (possibly partial) mapping; unknown keys are an error, missing ones default."""
        known = {fi.name for fi in cls.fields_info()}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParamError(f"unknown parameter(s): {', '.join(unknown)}")
        return cls().replace(**data)

    def live_changes(self, other: "Params") -> tuple[list[str], list[str]]:
        """Names of the fields that differ from ``other``, split into (live, structural)."""
        live, structural = [], []
        for fi in self.fields_info():
            if getattr(self, fi.name) != getattr(other, fi.name):
                (live if fi.live else structural).append(fi.name)
        return live, structural


@dataclass(frozen=True)
class Snapshot:
    """What the views draw, copied out of the simulation. Subclasses add their arrays."""

    step_count: int
    status: str = RUNNING
    message: str = ""


#: progress listeners by thread id. (Not threading.local: PySide gives each call from a QThread's
#: event loop into Python a fresh thread state, so a thread-local set in one slot is gone in the next.)
_sinks: dict[int, Any] = {}


def report_progress(fraction: float | None, text: str) -> None:
    """Long preparation work (an affinity matrix, a perplexity search, loading a data set) says how
    far it is: ``fraction`` in [0, 1] (None: unknown) and a short text. The runner shows it on the
    panel's busy cover, ``nnsim run`` on its progress bar; with no listener in this thread it costs
    a lookup. Call it between chunks of work (never inside a kernel), at most a few hundred times."""
    sink = _sinks.get(threading.get_ident())
    if sink is not None:
        sink(fraction, text)


def progress_sink():
    """This thread's listener (None: none)."""
    return _sinks.get(threading.get_ident())


@contextmanager
def progress_to(sink):
    """Send this thread's :func:`report_progress` calls to ``sink(fraction, text)`` inside the block."""
    old = progress_sink()
    set_progress_sink(sink)
    try:
        yield
    finally:
        set_progress_sink(old)


def set_progress_sink(sink) -> None:
    """Send this thread's :func:`report_progress` calls to ``sink`` from now on (None: nowhere);
    for a worker thread that lives as long as its simulation."""
    if sink is None:
        _sinks.pop(threading.get_ident(), None)
    else:
        _sinks[threading.get_ident()] = sink


@runtime_checkable
class Simulation(Protocol):
    params: Params
    step_count: int
    status: str

    def reset(self, seed: int) -> None: ...

    def step(self, n: int = 1) -> None: ...

    def advance(self, n: int) -> int: ...

    def snapshot(self) -> Snapshot: ...

    def set_params(self, params: Params) -> bool: ...


class SimulationBase:
    """Shared plumbing: parameter storage, seed, status and the live/structural split."""

    params_class: ClassVar[type[Params]] = Params
    #: engine modules whose ``warmup()`` compiles (or loads from numba's cache) every kernel this
    #: simulation steps with; :meth:`prepare` calls them
    kernel_modules: ClassVar[tuple[str, ...]] = ()
    #: entries of ``get_state()`` (dotted paths; ``*`` for any key) that grow as the run goes on
    #: (histories, curves): a saved state may differ from a fresh one in their length only
    state_growing: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Params | None = None, seed: int = 0):
        self.params = (params or self.params_class()).validate()
        self.seed = int(seed)
        self.step_count = 0
        self.status = RUNNING
        self.message = ""

    @property
    def halted(self) -> bool:
        return self.status != RUNNING

    def prepare(self) -> None:
        """Compile (first run on a computer: seconds) or load from numba's cache (a fraction of a
        second) every kernel the steps need, so that the first Play does not wait for them. The
        runner calls it once, right after the first snapshot; the modules' warm-ups are idempotent."""
        for name in self.kernel_modules:
            warm = getattr(importlib.import_module(name), "warmup", None)
            if warm is not None:
                warm()

    def set_params(self, params: Params) -> bool:
        """Apply ``params``. Returns True if applied live; False if a reset (same seed) was done."""
        params = params.validate()
        _, structural = params.live_changes(self.params)
        self.params = params
        if structural:
            self.reset(self.seed)
            return False
        self.apply_live()
        return True

    def advance(self, n: int) -> int:
        """Used by the runner: up to ``n`` steps, stopping early where the status leaves "running"
        (a simulation that can tell overrides this to stop exactly there). Returns steps taken."""
        self.step(n)
        return n

    def watch_value(self) -> float | None:
        """The quantity a "stop when it falls to a target" condition watches (a training loss, an
        error count, a divergence), as it stands now; None when the simulation has none (yet).
        The runner calls it after every step while such a target is set, so it must be cheap."""
        return None

    def get_state(self) -> dict:
        """A deep copy of everything ``reset`` built (for saving an experiment; see nnsim.experiment).
        Simulations holding derived caches may override this and ``set_state`` to leave them out."""
        import copy

        return copy.deepcopy({k: v for k, v in vars(self).items() if k != "params"})

    def check_state(self, state: dict) -> None:
        """Raise ``StateError`` (naming the entry) unless ``state`` fits this simulation: called on a
        fresh simulation built with the saved parameters and seed, whose own ``get_state()`` is the
        schema (see nnsim.engine.state); ``state_growing`` names what may differ in length."""
        from nnsim.engine.state import StateError, check_like

        if not isinstance(state, dict):
            raise StateError("the saved state is not a set of named values")
        check_like(self.get_state(), state, self.state_growing)

    def set_state(self, params: Params, state: dict) -> None:
        """Resume exactly where ``get_state`` was taken: the next step gives the same numbers."""
        from nnsim.engine.state import restore_state

        params = params.validate()
        restore_state(self, state)
        self.params = params

    def apply_live(self) -> None:
        """Hook for subclasses: the live parameters in ``self.params`` changed."""

    def reset(self, seed: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
