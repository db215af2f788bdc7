"""The perceptron rule, the notebook model and the simulation (no Qt)."""

import dataclasses

import numpy as np
import pytest

from nnsim.engine.base import CONVERGED, NOT_CONVERGED, RUNNING, ParamError
from nnsim.engine.perceptron import (Perceptron, PerceptronParams, PerceptronSimulation,
                                     PerceptronSnapshot, UpdateRecord)


def sim(seed=0, **kw):
    return PerceptronSimulation(PerceptronParams(**kw), seed=seed)


def assert_same(a: PerceptronSnapshot, b: PerceptronSnapshot):
    """Every field equal, arrays bit for bit (the last-update record too)."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, UpdateRecord):
            for g in dataclasses.fields(x):
                np.testing.assert_array_equal(getattr(x, g.name), getattr(y, g.name), err_msg=g.name)
        elif isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name


def reference(W0, X, labels, n_classes, indices, lr, bias=True):
    """Straightforward Python version of w <- w + lr (t - y) x, presented in ``indices`` order."""
    W = [list(map(float, row)) for row in W0]
    for k in indices:
        x = [-1.0 if bias else 0.0, float(X[k][0]), float(X[k][1])]
        if n_classes > 2:
            t = [1 if labels[k] == c else 0 for c in range(n_classes)]
        else:
            t = [int(labels[k])]
        for o in range(len(W)):
            net = 0.0
            for j in range(3):
                net += W[o][j] * x[j]
            y = 1 if net > 0 else 0
            for j in range(3):
                W[o][j] = W[o][j] + lr * (t[o] - y) * x[j]
    return np.array(W)


# ---- convergence ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", ["and", "or"])
def test_and_or_converge_from_many_seeds(dataset):
    for seed in range(20):
        for init in ("uniform", "zeros", "normal"):
            for order in ("fixed", "shuffled"):
                s = sim(seed, dataset=dataset, init=init, order=order, max_epochs=1000)
                s.step(4 * 1000)
                snap = s.snapshot()
                assert snap.status == CONVERGED, (seed, init, order, snap.message)
                assert snap.separable and not snap.misclassified.any()
                first = int(np.flatnonzero(snap.epoch_errors == 0)[0]) + 1
                assert f"Converged: epoch {first} had no error ({snap.n_updates} update" in snap.message
                assert (snap.epoch_errors[:first - 1] > 0).all()


def test_xor_never_has_an_error_free_epoch():
    for seed in range(5):
        for init, order in (("uniform", "shuffled"), ("zeros", "fixed"), ("normal", "shuffled")):
            s = sim(seed, dataset="xor", init=init, order=order, lr=0.25)
            s.step(4 * 200)
            snap = s.snapshot()
            assert snap.epoch == 200 and (snap.epoch_errors > 0).all()
            assert snap.status == NOT_CONVERGED and not snap.separable
            assert "not linearly separable" in snap.message
            assert "after 200 epochs" in snap.message


@pytest.mark.parametrize("dataset, k", [("multi3", 3), ("multi4", 4), ("clusters", 2)])
def test_separable_sets_converge(dataset, k):
    for seed in range(4):
        for norm in ("none", "zscore"):
            s = sim(seed, dataset=dataset, normalization=norm, max_epochs=5000, lr=0.2)
            m = len(s.snapshot().X)
            for _ in range(50):
                s.step(100 * m)
                if s.status == CONVERGED:
                    break
            snap = s.snapshot()
            assert snap.status == CONVERGED, (seed, norm, snap.message)
            assert snap.n_classes == k and snap.separable
            assert snap.weights.shape == ((k if k > 2 else 1), 3)
            assert not snap.misclassified.any()


def test_not_converged_on_separable_data_says_so_and_recovers():
    s = sim(0, dataset="clusters", max_epochs=1, lr=0.5)
    s.step(100)
    snap = s.snapshot()
    assert snap.status == NOT_CONVERGED and snap.epoch_errors[0] > 0
    assert snap.message.startswith("No error-free epoch after 1 epoch. ")
    assert "are linearly separable" in snap.message
    s.set_params(s.params.replace(max_epochs=100000))
    assert s.status == RUNNING
    s.step(100)   # stepping still works in every state
    assert s.snapshot().epoch == 2


# ---- the lecture's worked example ----------------------------------------------------------------

def test_worked_example_matches_the_lecture():
    s = sim(dataset="worked", lr=1.0, order="fixed")
    snap = s.snapshot()
    assert not snap.bias and snap.weights.tolist() == [[0.0, 1.0, -0.8]]
    expected = [[2.0, 1.2], [3.0, -0.8], [3.0, 0.2]]
    verdicts = [1, -1, -1]    # ADD, SUBTRACT, SUBTRACT
    for i in range(3):
        s.step()
        snap = s.snapshot()
        np.testing.assert_allclose(snap.weights[0, 1:], expected[i], atol=1e-12)
        assert snap.weights[0, 0] == 0.0
        rec = snap.last
        assert rec.index == i and rec.updated and rec.x[0] == 0.0
        assert int(rec.t[0] - rec.y[0]) == verdicts[i]
        np.testing.assert_allclose(rec.w_after, rec.w_before + rec.lr * (rec.t - rec.y)[:, None] * rec.x)
        assert rec.net[0] == pytest.approx(rec.w_before[0] @ rec.x)
    after_one = s.snapshot().weights.copy()
    s.step(3)                                  # second pass: nothing changes
    snap = s.snapshot()
    assert np.array_equal(snap.weights, after_one) and snap.epoch_errors.tolist() == [3, 0]
    assert snap.status == CONVERGED and snap.message == "Converged: epoch 2 had no error (3 updates in all)."
    assert not snap.last.updated
    # the history holds the three earlier boundaries, oldest first
    np.testing.assert_allclose(snap.history_raw[:, 0, 1:], [[1, -0.8], [2, 1.2], [3, -0.8]], atol=1e-12)


# ---- step(n) == n x step(1), determinism ---------------------------------------------------------

@pytest.mark.parametrize("dataset, n", [("and", 5), ("and", 37), ("xor", 37), ("clusters", 237),
                                        ("multi3", 160), ("worked", 11)])
def test_step_n_equals_n_single_steps(dataset, n):
    for order in ("shuffled", "fixed"):
        a = sim(7, dataset=dataset, order=order, history=50, max_epochs=3)
        b = sim(7, dataset=dataset, order=order, history=50, max_epochs=3)
        a.step(n)
        for _ in range(n):
            b.step(1)
        assert_same(a.snapshot(), b.snapshot())
        c = sim(7, dataset=dataset, order=order, history=50, max_epochs=3)
        for part in (n // 3, n - n // 3 - 1, 1):  # uneven chunks
            c.step(part)
        assert_same(a.snapshot(), c.snapshot())


def test_internal_chunking_does_not_change_the_run(monkeypatch):
    a = sim(3, dataset="xor", lr=0.3)
    a.step(1001)
    monkeypatch.setattr(PerceptronSimulation, "_CHUNK_ENTRIES", 8)   # two epochs per kernel call
    b = sim(3, dataset="xor", lr=0.3)
    b.step(1001)
    assert_same(a.snapshot(), b.snapshot())


@pytest.mark.parametrize("dataset", ["clusters", "multi3", "multi4"])
def test_same_seed_same_run_different_seed_different_run(dataset):
    runs = []
    for seed in (11, 11, 12):
        s = sim(seed, dataset=dataset)
        s.step(150)
        runs.append(s.snapshot())
    assert_same(runs[0], runs[1])
    assert not np.array_equal(runs[0].X, runs[2].X)
    assert not np.array_equal(runs[0].weights, runs[2].weights)


def test_shuffled_epochs_present_every_sample_once_in_a_new_order():
    s = sim(5, dataset="clusters", order="shuffled")
    seq = []
    for _ in range(300):
        s.step()
        seq.append(s.snapshot().last.index)
    epochs = [seq[i:i + 100] for i in range(0, 300, 100)]
    for e in epochs:
        assert sorted(e) == list(range(100))
    assert epochs[0] != epochs[1] != epochs[2] and epochs[0] != list(range(100))


# ---- the rule against a plain Python loop --------------------------------------------------------

@pytest.mark.parametrize("dataset, lr", [("xor", 0.3), ("clusters", 0.1), ("multi4", 0.37),
                                         ("multi3", 1.0), ("worked", 0.5)])
def test_rule_matches_plain_python_reference(dataset, lr):
    n = 1500
    stepped = sim(2, dataset=dataset, order="shuffled", lr=lr)
    first = stepped.snapshot()
    indices = []
    for _ in range(n):
        indices.append(stepped.snapshot().next_index)
        stepped.step()
        assert stepped.snapshot().last.index == indices[-1]
    batch = sim(2, dataset=dataset, order="shuffled", lr=lr)
    batch.step(n)
    ref = reference(first.weights, first.X, first.labels, first.n_classes, indices, lr, first.bias)
    np.testing.assert_array_equal(batch.snapshot().weights, ref)
    np.testing.assert_array_equal(stepped.snapshot().weights, ref)


# ---- notebook model ------------------------------------------------------------------------------

def test_perceptron_api_by_hand():
    p = Perceptron(2, 1, lr=0.1, init="zeros")
    assert p.weights.shape == (1, 3) and not p.weights.any()
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    assert p.predict(X).shape == (4, 1) and p.predict(X).dtype.kind == "i"
    assert p.predict(X).ravel().tolist() == [0, 0, 0, 0]          # net 0 is not > 0
    assert p.train_step([1, 1], [1]) is True                       # ADD 0.1 * [-1, 1, 1]
    np.testing.assert_allclose(p.weights, [[-0.1, 0.1, 0.1]])
    np.testing.assert_allclose(p.net([[0, 0]]), [[0.1]])           # -1 * -0.1
    assert p.train_step([1, 1], [1]) is False                      # now right: no change
    assert p.train_step([0, 0], [0]) is True                       # 0.1 > 0 is wrong: SUBTRACT
    np.testing.assert_allclose(p.weights, [[0.0, 0.1, 0.1]])


def test_perceptron_fit_epoch_counts_and_converges_on_and():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    T = np.array([[0], [0], [0], [1]])
    p = Perceptron(2, 1, lr=0.2, seed=4)
    w0 = p.weights.copy()
    errors = p.fit_epoch(X, T, order=[3, 1, 0, 2])
    # count by hand with the reference loop, one sample at a time
    W, count = w0.copy(), 0
    for k in [3, 1, 0, 2]:
        W2 = reference(W, X, T[:, 0], 2, [k], 0.2)
        count += int(not np.array_equal(W2, W))
        W = W2
    assert errors == count and np.array_equal(p.weights, W)
    for _ in range(200):
        if p.fit_epoch(X, T) == 0:
            break
    assert p.predict(X).ravel().tolist() == [0, 0, 0, 1]
    with pytest.raises(ValueError):
        p.fit_epoch(X, T, order=[0, 0, 1, 2])


def test_perceptron_multi_output_and_no_bias():
    p = Perceptron(3, 2, init="normal", seed=1)
    assert p.weights.shape == (2, 4)
    X = np.random.default_rng(0).normal(size=(6, 3))
    assert p.predict(X).shape == (6, 2) and p.net(X).shape == (6, 2)
    np.testing.assert_allclose(p.net(X), np.c_[-np.ones(6), X] @ p.weights.T)
    q = Perceptron(2, 1, bias=False, seed=2)
    assert q.weights[0, 0] == 0.0
    for _ in range(20):
        q.fit_epoch([[1, 2], [-1, 2], [0, -1]], [[1], [0], [0]])
    assert q.weights[0, 0] == 0.0 and q.predict([[1, 2], [-1, 2], [0, -1]]).ravel().tolist() == [1, 0, 0]
    u = Perceptron(2, 3, init="uniform", seed=0)
    assert ((u.weights >= 0) & (u.weights < 1)).all()


# ---- normalization and raw weights ---------------------------------------------------------------

@pytest.mark.parametrize("norm", ["zscore", "minmax", "none"])
def test_raw_weights_draw_the_same_boundary(norm):
    s = sim(1, dataset="multi3", normalization=norm, lr=0.3)
    s.step(37)
    snap = s.snapshot()
    X = snap.X
    if norm == "zscore":   # standard deviation, not the variance (errata 21)
        np.testing.assert_allclose(snap.center, X.mean(0)); np.testing.assert_allclose(snap.scale, X.std(0))
    elif norm == "minmax":
        np.testing.assert_allclose(snap.center, X.min(0))
        np.testing.assert_allclose(snap.scale, X.max(0) - X.min(0))
    pts = np.vstack([X, np.random.default_rng(0).uniform(-6, 6, size=(2000, 2))])
    net_norm = np.c_[-np.ones(len(pts)), (pts - snap.center) / snap.scale] @ snap.weights.T
    net_raw = np.c_[-np.ones(len(pts)), pts] @ snap.weights_raw.T
    clear = np.abs(net_norm) > 1e-9
    assert np.array_equal((net_norm > 0)[clear], (net_raw > 0)[clear])
    np.testing.assert_allclose(net_raw, net_norm, atol=1e-9)
    wrong = ((net_raw[:len(X)] > 0).astype(int) != snap.T).any(axis=1)
    assert np.array_equal(wrong, snap.misclassified)
    # history: the weights before the last update, in raw coordinates
    h = snap.history_raw
    assert h.shape == (min(15, snap.n_updates), 3, 3)
    if snap.last.updated:
        s2 = sim(1, dataset="multi3", normalization=norm, lr=0.3)
        s2.step(36)
        np.testing.assert_allclose(h[-1], s2.snapshot().weights_raw)


# ---- parameters and user data --------------------------------------------------------------------

def test_set_params_live_and_structural():
    s = sim(0, dataset="xor", lr=0.1)
    s.step(6)
    w = s.snapshot().weights
    assert s.set_params(s.params.replace(lr=0.5, history=3, max_epochs=2)) is True
    snap = s.snapshot()
    assert s.step_count == 6 and np.array_equal(snap.weights, w) and snap.status == RUNNING
    s.step(2)
    assert s.snapshot().last.lr == 0.5 and s.status == NOT_CONVERGED
    assert len(s.snapshot().history_raw) <= 3
    assert s.set_params(s.params.replace(dataset="or")) is False
    snap = s.snapshot()
    assert s.step_count == 0 and snap.epoch == 0 and snap.labels.tolist() == [0, 1, 1, 1]
    assert s.set_params(s.params.replace(init="zeros")) is False and not s.snapshot().weights.any()
    with pytest.raises(ParamError):
        s.params.replace(lr=0.0)


def test_order_change_applies_from_the_next_epoch():
    s = sim(0, dataset="clusters", order="shuffled")
    s.step(30)
    s.set_params(s.params.replace(order="fixed"))
    seq = []
    for _ in range(170):
        s.step()
        seq.append(s.snapshot().last.index)
    assert sorted(seq[:70]) != list(range(70)) and seq[70:] == list(range(100))


def test_set_data_user_points():
    s = sim(0, dataset="and")
    s.step(3)
    X = [[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [4, 5]]
    s.set_data(X, [3, 3, 3, 7, 7, 7])
    snap = s.snapshot()
    assert s.params.dataset == "user" and s.step_count == 0
    assert snap.labels.tolist() == [0, 0, 0, 1, 1, 1] and snap.n_classes == 2 and snap.separable
    s.step(6 * 200)
    assert s.status == CONVERGED
    X[0][0] = 99.0                                # the simulation keeps its own copy
    assert s.snapshot().X[0, 0] == 0.0
    s.set_data(X, [0, 1, 2, 0, 1, 2])
    assert s.snapshot().weights.shape == (3, 3)
    s.set_params(s.params.replace(dataset="xor"))
    s.set_params(s.params.replace(dataset="user"))  # the user points are still there
    assert len(s.snapshot().X) == 6


def test_set_data_rejects_bad_input_and_handles_no_points():
    s = sim(0)
    with pytest.raises(ParamError, match="finite"):
        s.set_data([[0, 0], [np.nan, 1]], [0, 1])
    with pytest.raises(ParamError):
        s.set_data([[0, 0, 0]], [0])
    with pytest.raises(ParamError):
        s.set_data([[0, 0], [1, 1]], [0])
    with pytest.raises(ParamError):
        s.set_data([[0, 0], [1, 1]], [0, 0.5])
    assert s.params.dataset == "and"              # nothing changed
    s.set_data(np.empty((0, 2)), [])
    s.step(10)
    snap = s.snapshot()
    assert snap.status == NOT_CONVERGED and "No data points" in snap.message and snap.next_index == -1


def test_advance_stops_exactly_where_the_status_changes():
    """The runner's advance(n) halts on the step where training converges or gives up."""
    sim = PerceptronSimulation(PerceptronParams(dataset="xor", max_epochs=50), seed=1)
    assert sim.advance(10**6) == 200
    assert sim.status == NOT_CONVERGED and sim.step_count == 200 and sim.snapshot().epoch == 50
    assert sim.advance(40) == 40 and sim.step_count == 240  # after the halt it just goes on
    for seed in range(10):
        sim = PerceptronSimulation(PerceptronParams(dataset="clusters", max_epochs=10000), seed=seed)
        ref = PerceptronSimulation(PerceptronParams(dataset="clusters", max_epochs=10000), seed=seed)
        taken = sim.advance(10**6)
        snap = sim.snapshot()
        assert snap.status == CONVERGED and taken == snap.step_count == snap.epoch * 100
        assert snap.epoch_errors[-1] == 0 and (snap.epoch_errors[:-1] > 0).all()
        ref.step(taken)  # the same steps as plain step(n): bit for bit
        np.testing.assert_array_equal(ref.snapshot().weights, snap.weights)


def test_confusion_matrix_counts_every_sample():
    from nnsim.engine.perceptron import confusion_matrix

    M, cols = confusion_matrix(np.array([0, 0, 1, 1]), np.array([[0], [1], [1], [1]]), 2)
    np.testing.assert_array_equal(M, [[1, 1], [0, 2]])
    labels = np.array([0, 1, 2, 2])
    outputs = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]])
    M, cols = confusion_matrix(labels, outputs, 3)
    assert cols[-1] == "none/several"
    np.testing.assert_array_equal(M, [[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 1]])
    sim = PerceptronSimulation(PerceptronParams(dataset="multi4"), seed=3)
    sim.step(137)
    snap = sim.snapshot()
    M, _ = confusion_matrix(snap.labels, snap.outputs, snap.n_classes)
    assert M.sum() == len(snap.X) and np.trace(M) == int((~snap.misclassified).sum())


def test_confusion_matrix_of_no_points_is_empty_not_an_error():
    from nnsim.engine.perceptron import confusion_matrix

    M, cols = confusion_matrix(np.empty(0, np.int64), np.empty((0, 1)), 2)
    assert M.shape == (2, 2) and M.sum() == 0 and cols == ["0", "1"]
    M, cols = confusion_matrix([], [], 3)
    assert M.shape == (3, 4) and M.sum() == 0 and cols[-1] == "none/several"
