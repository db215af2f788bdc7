"""Experiment files: save → open gives bit-identical next steps; every kind of bad file is refused."""

from __future__ import annotations

import dataclasses
import json
import zipfile

import numpy as np
import pytest

from nnsim import experiment as ex
from nnsim.engine.optimizers import OptimizerRaceParams, OptimizerRaceSimulation
from nnsim.engine.perceptron import PerceptronParams, PerceptronSimulation
from nnsim.engine.state import StateError

from nnsim.engine.actmax import FeatureVizParams, FeatureVizSimulation  # noqa: E402

CASES = [
    (FeatureVizSimulation, FeatureVizParams(am_steps=300)),
    (PerceptronSimulation, PerceptronParams(dataset="clusters", order="shuffled")),
    (PerceptronSimulation, PerceptronParams(dataset="multi3", normalization="zscore")),
    (OptimizerRaceSimulation, OptimizerRaceParams(noise=0.3)),
]


def assert_same(a, b, where="snapshot"):
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b or (a != a and b != b), where


@pytest.mark.parametrize("cls,params", CASES)
def test_round_trip_gives_identical_next_steps(tmp_path, cls, params):
    a = cls(params, seed=4)
    a.step(37)
    path = ex.save(tmp_path / "run", ex.Experiment(panel="p", params=params.to_dict(), seed=4,
                                                   step_count=a.step_count, state=a.get_state()))
    assert path.suffix == ".nnsim"
    loaded = ex.load(path, type(params))
    b = cls(type(params)(), seed=0)  # a different run, overwritten by the file
    b.set_state(type(params).from_dict(loaded.params), loaded.state)
    assert_same(a.snapshot(), b.snapshot())
    for n in (1, 13, 50):
        a.step(n)
        b.step(n)
        assert_same(a.snapshot(), b.snapshot())


def _good_file(tmp_path):
    sim = PerceptronSimulation(PerceptronParams(dataset="xor"), seed=1)
    sim.step(5)
    return ex.save(tmp_path / "good.nnsim", ex.Experiment(panel="perceptron", params=sim.params.to_dict(), seed=1,
                                                          step_count=5, state=sim.get_state()))


def _rewrite(src, dst, edit_json=None, drop=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            if item == drop:
                continue
            data = zin.read(item)
            if item == "experiment.json" and edit_json is not None:
                doc = json.loads(data)
                edit_json(doc)
                data = json.dumps(doc).encode()
            zout.writestr(item, data)
    return dst


def test_bad_files_each_get_their_message(tmp_path):
    good = _good_file(tmp_path)
    cases = {
        "not a readable zip": (tmp_path / "text.nnsim", lambda p: p.write_text("hello")),
        "damaged or truncated": (tmp_path / "trunc.nnsim", lambda p: p.write_bytes(good.read_bytes()[:300])),
        "does not exist": (tmp_path / "missing.nnsim", lambda p: None),
        "version 99": (tmp_path / "newer.nnsim", lambda p: _rewrite(good, p, lambda d: d.update(version=99))),
        "Learning rate": (tmp_path / "range.nnsim", lambda p: _rewrite(good, p, lambda d: d["params"].update(lr=-3))),
        "unknown parameter": (tmp_path / "extra.nnsim", lambda p: _rewrite(good, p, lambda d: d["params"].update(bogus=1))),
        "no experiment.json": (tmp_path / "nojson.nnsim", lambda p: _rewrite(good, p, drop="experiment.json")),
        "is missing": (tmp_path / "noarrays.nnsim", lambda p: _rewrite(good, p, drop="arrays.npz")),
        "does not save ('os:system')": (tmp_path / "evil.nnsim", lambda p: _rewrite(
            good, p, lambda d: d["state"]["__dict__"].update(x={"__dataclass__": "os:system", "fields": {}}))),
        "does not save ('nnsim.__main__:main')": (tmp_path / "main.nnsim", lambda p: _rewrite(
            good, p, lambda d: d["state"]["__dict__"].update(x={"__object__": "nnsim.__main__:main", "attrs": {}}))),
        "'seed'": (tmp_path / "seed.nnsim", lambda p: _rewrite(good, p, lambda d: d.update(seed="one"))),
    }
    for expected, (path, make) in cases.items():
        make(path)
        with pytest.raises(ex.ExperimentError) as info:
            ex.load(path, PerceptronParams)
        assert expected in str(info.value), (expected, str(info.value))


def test_unknown_state_entries_are_refused_and_nothing_changes(tmp_path):
    sim = PerceptronSimulation(PerceptronParams(dataset="and"), seed=0)
    before = sim.get_state()
    with pytest.raises(StateError, match="does not know"):
        sim.set_state(sim.params, {**before, "_bogus": 1})
    assert_same(sim.snapshot(), PerceptronSimulation(PerceptronParams(dataset="and"), seed=0).snapshot())


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    good = _good_file(tmp_path)
    original = good.read_bytes()

    class Boom(ex._Encoder):
        def encode(self, obj, where):
            raise ex.ExperimentError("cannot save state: simulated failure")

    monkeypatch.setattr(ex, "_Encoder", Boom)
    with pytest.raises(ex.ExperimentError):
        ex.save(good, ex.Experiment(panel="perceptron", params={}, seed=0, step_count=0, state={"a": 1}))
    assert good.read_bytes() == original
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".nnsim-")]


def test_plain_nnsim_objects_round_trip_without_init(tmp_path):
    """A Rule (an object, not a dataclass) is restored from its attributes and keeps working."""
    from nnsim.engine.optimizers import make_rule

    rule = make_rule("adam", 4, lr=0.1)
    theta = np.arange(4.0)
    rule.apply(theta, 2 * theta)
    path = ex.save(tmp_path / "r", ex.Experiment(panel="p", params={}, seed=0, step_count=1,
                                                 state={"rule": rule, "theta": theta}))
    state = ex.load(path).state
    other, t2 = state["rule"], state["theta"]
    assert type(other) is type(rule) and other.t == 1
    rule.apply(theta, 2 * theta)
    other.apply(t2, 2 * t2)
    np.testing.assert_array_equal(theta, t2)
