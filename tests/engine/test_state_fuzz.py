"""Saved states are checked against a fresh simulation before they replace anything.

- Every simulation's own state (at several step counts) and every shipped example passes the check.
- Damaged states (wrong shapes and dtypes, NaN, inf, huge values, wrong types, missing and extra
  entries) of every simulation are either refused with a StateError naming the entry, or, when
  accepted, restore into a simulation that takes a snapshot and steps without any error.
- Damaged files (deep JSON, huge seeds, inf parameters, inflating members, foreign types) are refused
  by ``experiment.load`` with an ExperimentError, never another exception.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnsim import experiment as ex
from nnsim.engine.actmax import FeatureVizParams, FeatureVizSimulation
from nnsim.engine.mlp_sim import MLPParams, MLPSimulation
from nnsim.engine.optimizers import OptimizerRaceParams, OptimizerRaceSimulation
from nnsim.engine.perceptron import PerceptronParams, PerceptronSimulation
from nnsim.engine.recurrent_sim import RecurrentParams, RecurrentSimulation
from nnsim.engine.state import StateError
from nnsim.engine.tsne_sim import TSNEParams, TSNESimulation

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"

SIMS = {
    "perceptron": (PerceptronSimulation, PerceptronParams(dataset="xor", max_epochs=100000)),
    "optimizers": (OptimizerRaceSimulation, OptimizerRaceParams()),
    "mlp": (MLPSimulation, MLPParams(n_points=80, units=6)),
    "tsne": (TSNESimulation, TSNEParams(n_points=120) if "n_points" in TSNEParams.__dataclass_fields__ else TSNEParams()),
    "lstm": (RecurrentSimulation, RecurrentParams()),
    "actmax": (FeatureVizSimulation, FeatureVizParams()),
}
CLASSES = {key: cls for key, (cls, _p) in SIMS.items()}


def leaves(obj, path=()):
    """(path, value) of every array and scalar in a state."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, path + (k,))
    elif isinstance(obj, (list, tuple)) and not isinstance(obj, str):
        for i, v in enumerate(obj[:3]):
            yield from leaves(v, path + (i,))
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("nnsim."):
        for k, v in vars(obj).items():
            yield from leaves(v, path + (("attr", k),))
    elif isinstance(obj, (np.ndarray, int, float, bool, str)) or obj is None:
        yield path, obj


def put(state, path, value):
    obj = state
    for key in path[:-1]:
        obj = getattr(obj, key[1]) if isinstance(key, tuple) else obj[key]
    last = path[-1]
    if isinstance(last, tuple):
        setattr(obj, last[1], value)
    elif isinstance(obj, tuple):
        raise TypeError("tuple")
    else:
        obj[last] = value


def mutants(value):
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub" and value.size:
        yield "one row more", np.concatenate([value, value[:1]]) if value.ndim else value.reshape(1)
        yield "flattened", value.reshape(-1)[:-1] if value.size > 1 else value.reshape(1, 1)
        yield "float32", value.astype(np.float32)
        if value.dtype.kind == "f":
            for bad in (np.nan, np.inf, 1e300):
                v = value.copy()
                v.flat[0] = bad
                yield f"{bad}", v
        else:
            yield "as floats", value.astype(np.float64)
    elif isinstance(value, bool):
        yield "text", "yes"
    elif isinstance(value, int):
        yield "text", "12"
        yield "huge", 1 << 200
        yield "float", 1.5
    elif isinstance(value, float):
        yield "text", "1.0"
        yield "nan", float("nan")
        yield "huge", 1e300
    elif isinstance(value, str):
        yield "number", 3
    elif value is None:
        yield "an array", np.zeros((7, 3))


@pytest.mark.parametrize("key", list(SIMS))
@pytest.mark.parametrize("steps", [0, 1, 23])
def test_a_simulations_own_state_passes_the_check(key, steps):
    cls, params = SIMS[key]
    sim = cls(params, seed=2)
    sim.step(steps)
    state = sim.get_state()
    fresh = cls(params, seed=2)
    fresh.check_state(state)
    fresh.set_state(params, state)
    fresh.snapshot()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.nnsim")), ids=lambda p: p.name[:2])
def test_every_shipped_example_passes_the_check(path):
    exp = ex.load(path)
    cls = CLASSES[exp.panel]
    params = cls.params_class.from_dict(exp.params)
    fresh = cls(params, seed=exp.seed)
    fresh.check_state(exp.state)
    fresh.set_state(params, exp.state)
    fresh.snapshot()


@pytest.mark.parametrize("key", list(SIMS))
def test_damaged_states_are_refused_or_work(key):
    cls, params = SIMS[key]
    sim = cls(params, seed=1)
    sim.step(5)
    state = sim.get_state()
    refused = accepted = 0
    cases = []
    for path, value in list(leaves(state))[:40]:
        for name, bad in mutants(value):
            cases.append((path, name, bad))
    for k in list(state)[:6]:
        cases.append(((k,), "missing", KeyError))
    cases.append((("__extra__",), "extra", 1))
    for path, name, bad in cases:
        mutant = copy.deepcopy(state)
        try:
            if bad is KeyError:
                del mutant[path[0]]
            else:
                put(mutant, path, bad)
        except (TypeError, AttributeError):  # (a tuple, a frozen dataclass: not mutable here)
            continue
        fresh = cls(params, seed=1)
        try:
            fresh.check_state(mutant)
        except StateError as exc:
            assert len(str(exc)) < 300
            refused += 1
            continue
        accepted += 1
        try:  # accepted: it must work as a state
            fresh.set_state(params, mutant)
            fresh.snapshot()
            fresh.step(1)
            fresh.snapshot()
        except (StateError, ValueError, KeyError) as exc:  # refused by set_state's own checks: fine
            assert len(str(exc)) < 300
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{key}: mutant {path} {name} was accepted and then failed: {type(exc).__name__}: {exc}")
    assert refused >= len(cases) // 2, (refused, accepted)


def _good(tmp_path) -> Path:
    sim = PerceptronSimulation(PerceptronParams(dataset="and"), seed=0)
    sim.step(3)
    return ex.save(tmp_path / "good", ex.Experiment(panel="perceptron", params=sim.params.to_dict(), seed=0,
                                                   step_count=3, state=sim.get_state()))


def _rewrite(src: Path, dst: Path, doc_fn=None, members=None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "experiment.json" and doc_fn is not None:
                doc = json.loads(data)
                doc = doc_fn(doc) or doc
                data = json.dumps(doc).encode()
            zout.writestr(item.filename, data)
        for name, data in (members or {}).items():
            zout.writestr(name, data)
    return dst


def _npz_bomb() -> bytes:
    """An npz whose one member claims (and inflates to) 1.6 GB of zeros, compressed to a few MB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (200_000_000,)})
        with z.open("a0.npy", "w", force_zip64=True) as fh:
            fh.write(b"\x93NUMPY\x01\x00" if False else header.getvalue())
    return buf.getvalue()


def test_hostile_files_get_an_experiment_error(tmp_path):
    good = _good(tmp_path)
    deep = {"x": None}
    for _ in range(100_000):
        deep = [deep]
    cases = {
        "seed": lambda d: d.update(seed=2**64),
        "step count": lambda d: d.update(step_count=10**30),
        "parameter": lambda d: d["params"].update(max_epochs=float("inf")),
        "type nnsim does not save": lambda d: d["state"]["__dict__"].update(
            x={"__object__": "nnsim.__main__:main", "attrs": {}}),
        "version": lambda d: d.update(version=10**400),
    }
    for expected, fn in cases.items():
        path = _rewrite(good, tmp_path / f"{expected.replace(' ', '_')}.nnsim", fn)
        with pytest.raises(ex.ExperimentError, match=expected):
            ex.load(path, PerceptronParams)
    # nested 100,000 deep (json refuses it: RecursionError must not escape)
    path = tmp_path / "deep.nnsim"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("experiment.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ex.ExperimentError, match="nested"):
        ex.load(path)
    # an arrays member that inflates far beyond the limit: refused from its header, not inflated
    bomb = _rewrite(good, tmp_path / "bomb.nnsim", members={"arrays.npz": _npz_bomb()})
    with pytest.raises(ex.ExperimentError):
        ex.load(bomb, PerceptronParams)


def test_messages_quote_hostile_text_briefly(tmp_path):
    good = _good(tmp_path)
    path = _rewrite(good, tmp_path / "long.nnsim", lambda d: d["state"]["__dict__"].update(
        x={"__object__": "A" * 5_000_000, "attrs": {}}))
    with pytest.raises(ex.ExperimentError) as info:
        ex.load(path)
    assert len(str(info.value)) < 300
