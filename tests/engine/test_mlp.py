"""The MLP engine: gradients against finite differences and an independent numpy backprop, the
linear network as one affine map, lock-step runs, determinism, divergence, early stopping,
gradient checking (kinks, the course code's bug), the shared update rules, and the data sets."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine import activations as act
from nnsim.engine import data2d, gradcheck, losses
from nnsim.engine import mlp_kernels as K
from nnsim.engine.base import DIVERGED, FINISHED, RUNNING, ParamError
from nnsim.engine.mlp import MLP, backprop_reference, init_params, targets
from nnsim.engine.mlp_sim import MLPParams, MLPSimulation
from nnsim.engine.optimizers import make_rule

RNG = np.random.default_rng(3)
X7 = RNG.normal(0, 1.2, (7, 2))
LAB7 = np.array([0, 1, 2, 1, 0, 2, 2])
OUT_LOSS = [("softmax", "cross_entropy"), ("softmax", "mse"), ("sigmoid", "cross_entropy"),
            ("sigmoid", "mse"), ("linear", "mse")]


def _targets(output):
    if output == "sigmoid":
        return (RNG.random((7, 3)) < 0.5).astype(float)
    return targets(LAB7, 3)


@pytest.mark.parametrize("hidden", act.HIDDEN)
@pytest.mark.parametrize("output,loss", OUT_LOSS)
def test_gradients_match_finite_differences_and_numpy(hidden, output, loss):
    net = MLP([2, 4, 3, 3], hidden=hidden, output=output, loss=loss, seed=1, init="he",
              slope=0.05, alpha=0.7)
    net.biases = [RNG.normal(0, 0.3, b.shape) for b in net.biases]
    Y = _targets(output)
    checks = net.check_gradients(X7, Y)
    worst = max(c.rel_error for c in checks)
    assert worst < 1e-7, [(c.name, c.rel_error) for c in checks]
    dWs, dbs = net.gradients(X7, Y)
    J, rWs, rbs, *_ = backprop_reference(net.weights, net.biases, X7, Y, hidden, output, loss, 0.05, 0.7)
    assert net.loss(X7, Y) == pytest.approx(J, rel=1e-12)
    for a, b in zip(dWs + dbs, rWs + rbs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13)


def test_penalties_are_in_the_loss_and_the_gradient():
    net = MLP([2, 5, 3], hidden="tanh", seed=2)
    Y = targets(LAB7, 3)
    W = np.concatenate([w.ravel() for w in net.weights])
    assert net.loss(X7, Y, l2=0.3, l1=0.2) == pytest.approx(
        net.loss(X7, Y) + 0.15 * (W ** 2).sum() + 0.2 * np.abs(W).sum(), rel=1e-12)
    assert max(c.rel_error for c in net.check_gradients(X7, Y, l2=0.3, l1=0.2)) < 1e-7
    dW0, db0 = net.gradients(X7, Y)
    dW1, db1 = net.gradients(X7, Y, l2=0.3)
    np.testing.assert_allclose(dW1[0] - dW0[0], 0.3 * net.weights[0], atol=1e-14)
    np.testing.assert_array_equal(db1[0], db0[0])                  # biases excluded


def test_mse_is_half_the_squared_error_averaged_over_rows():
    net = MLP([2, 3, 1], hidden="sigmoid", output="sigmoid", loss="mse", seed=0)
    X, _ = data2d.xor4()
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    yhat = net.forward(X)
    assert net.loss(X, y) == pytest.approx(np.mean(0.5 * ((y - yhat) ** 2).sum(axis=1)), rel=1e-13)
    assert net.weights[0].shape == (2, 3) and net.biases[1].shape == (1,)
    assert all(w.dtype == np.float64 for w in net.weights + net.biases)


def test_linear_hidden_network_is_exactly_an_affine_map():
    net = MLP([2, 5, 4, 6, 3], hidden="linear", output="linear", loss="mse", seed=4, init="normal")
    net.biases = [RNG.normal(size=b.shape) for b in net.biases]
    W, b = net.weights[0], net.biases[0]
    for Wl, bl in zip(net.weights[1:], net.biases[1:]):
        W, b = W @ Wl, b @ Wl + bl
    X = RNG.normal(0, 3, (50, 2))
    np.testing.assert_allclose(net.forward(X), X @ W + b, rtol=1e-12, atol=1e-12)
    # so the decision between two classes is a half-plane: a straight boundary
    soft = MLP([2, 8, 8, 8, 2], hidden="linear", output="softmax", seed=5)
    Wd = soft.weights[0] @ soft.weights[1] @ soft.weights[2] @ soft.weights[3]
    bd = ((soft.biases[0] @ soft.weights[1] + soft.biases[1]) @ soft.weights[2] + soft.biases[2]) @ soft.weights[3] + soft.biases[3]
    side = (X @ (Wd[:, 1] - Wd[:, 0]) + (bd[1] - bd[0])) > 0
    np.testing.assert_array_equal(soft.predict(X) == 1, side)


def test_linear_hidden_simulation_boundary_is_a_line():
    sim = MLPSimulation(MLPParams(dataset="moons", layers=3, units=8, hidden="linear", runs=1, lr1=0.1), seed=0)
    sim.step(300)
    snap = sim.snapshot()
    W, b = snap.affine
    x0, x1, y0, y1 = snap.extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, snap.grid), np.linspace(y0, y1, snap.grid))
    side = (gx * (W[0, 1] - W[0, 0]) + gy * (W[1, 1] - W[1, 0]) + b[1] - b[0]) > 0
    agree = np.mean(snap.runs[0].region_class == side)
    assert agree > 0.999          # (points exactly on the line may round either way)


def test_fused_training_equals_the_rule_applied_step_by_step():
    """MLP.train (one numba call) = a Python loop of gradients + the shared Rule, bit for bit."""
    X, lab = data2d.moons(60, 0.1, np.random.default_rng(0))
    Y = targets(lab, 2)
    for name, hyper in (("nesterov", {"lr": 0.05, "momentum": 0.9}), ("adam", {"lr": 0.01}), ("sgd", {"lr": 0.3})):
        a = MLP([2, 6, 2], hidden="tanh", seed=3)
        b = MLP([2, 6, 2], hidden="tanh", seed=3)
        a.train(X, Y, 25, optimizer=name, **hyper)
        rule = make_rule(name, b.parameters.size, **hyper)
        saved = b.parameters
        for _ in range(25):
            b.parameters = rule.grad_point(saved).copy()
            g = b.gradients(X, Y, flat=True)
            b.parameters = saved
            rule.apply(saved, g)
        np.testing.assert_array_equal(a.parameters, b.parameters)


def test_online_xor_learns_the_truth_table():
    X, lab = data2d.xor4()
    net = MLP([2, 3, 1], hidden="sigmoid", output="sigmoid", loss="mse", seed=0, init="normal")
    out = net.train(X, lab[:, None].astype(float), 20000, lr=0.2, batch_size=1)
    assert out.shape == (20000,) and out[-4:].mean() < 0.05 * out[:4].mean()
    assert net.predict(X).tolist() == [0, 1, 1, 0]


def test_train_raises_on_divergence_and_keeps_the_last_good_weights():
    X, lab = data2d.moons(40, 0.1, np.random.default_rng(1))
    net = MLP([2, 8, 1], hidden="linear", output="linear", loss="mse", seed=0)
    with pytest.raises(FloatingPointError, match="diverged"):
        net.train(X, lab[:, None].astype(float), 2000, lr=50.0)
    assert np.all(np.isfinite(net.parameters))


# ---- the simulation ---------------------------------------------------------------------------
def _sim(**kw):
    base = dict(dataset="moons", n_points=80, layers=1, units=6, runs=3, max_steps=100000)
    base.update(kw)
    return MLPSimulation(MLPParams(**base), seed=kw.pop("seed", 0) if "seed" in kw else 0)


def test_runs_share_initial_weights_and_batch_order():
    sim = _sim(batch=7, dropout=0.2, lr1=0.2, lr2=0.2, lr3=0.05)
    for k in (1, 2, 3):
        np.testing.assert_array_equal(sim.run_parameters(k), sim.initial_parameters())
    sim.step(57)
    np.testing.assert_array_equal(sim.run_parameters(1), sim.run_parameters(2))   # same batches, masks
    assert not np.array_equal(sim.run_parameters(1), sim.run_parameters(3))
    alone = _sim(batch=7, dropout=0.2, runs=1, lr1=0.05)
    alone.step(57)
    np.testing.assert_array_equal(alone.run_parameters(1), sim.run_parameters(3))


def test_step_n_equals_n_single_steps_bit_for_bit():
    kw = dict(batch=9, dropout=0.1, optimizer="nesterov", lr1=0.1, lr2=0.5, lr3=1.0, l2=1e-3)
    a, b = _sim(**kw), _sim(**kw)
    a.step(40)
    for _ in range(40):
        b.step(1)
    for k in (1, 2, 3):
        np.testing.assert_array_equal(a.run_parameters(k), b.run_parameters(k))
    sa, sb = a.snapshot(), b.snapshot()
    for ra, rb in zip(sa.runs, sb.runs):
        np.testing.assert_array_equal(ra.steps, rb.steps)
        np.testing.assert_array_equal(ra.train_loss, rb.train_loss)
    assert sa.runs[0].steps.tolist() == list(range(0, 41, a._eval_every))


def test_same_seed_same_run_other_seed_other_data():
    a, b, c = _sim(lr1=0.3), _sim(lr1=0.3), MLPSimulation(MLPParams(dataset="moons", n_points=80, layers=1,
                                                                    units=6, runs=3, lr1=0.3), seed=1)
    for s in (a, b, c):
        s.step(20)
    np.testing.assert_array_equal(a.run_parameters(1), b.run_parameters(1))
    assert not np.array_equal(a.snapshot().X_train, c.snapshot().X_train)


def test_a_diverging_run_stops_and_the_others_go_on():
    sim = _sim(layers=2, units=16, runs=3, lr1=0.3, lr2=1.0, lr3=60.0, max_steps=300)
    taken = sim.advance(300)
    snap = sim.snapshot()
    bad = snap.runs[2]
    assert bad.state == "diverged" and 1 <= bad.diverged_at < 50
    assert f"diverged at step {bad.diverged_at}" in sim._summary()
    assert np.all(np.isfinite(sim.run_parameters(3)))
    assert [r.state for r in snap.runs[:2]] == ["running", "running"]
    assert taken == 300 and sim.status == FINISHED
    assert snap.runs[0].train_acc_now > 0.8


def test_every_run_diverging_is_a_state_and_advance_stops_there():
    sim = _sim(layers=2, units=16, runs=2, lr1=80.0, lr2=100.0)
    taken = sim.advance(5000)
    assert sim.status == DIVERGED and "Every run diverged" in sim.message
    assert taken == max(r.diverged_at for r in sim.snapshot().runs) == sim.step_count
    before = sim.step_count
    sim.step(10)                                   # nothing left to train
    assert sim.step_count == before


def test_horizon_finishes_exactly_and_play_goes_on():
    sim = _sim(runs=1, lr1=0.5, max_steps=37)
    assert sim.advance(1000) == 37 and sim.status == FINISHED and "accuracy" in sim.message
    assert sim.advance(5) == 5 and sim.step_count == 42
    sim.set_params(sim.params.replace(max_steps=100))
    assert sim.status == RUNNING


def test_early_stopping_restores_the_best_weights():
    sim = MLPSimulation(MLPParams(dataset="moons", n_points=60, noise=0.35, test_fraction=0.5, layers=2,
                                  units=64, runs=1, lr1=1.0, early_stop=True, patience=40,
                                  max_steps=5000), seed=0)
    sim.advance(5000)
    r = sim.snapshot().runs[0]
    st = sim.run_state(1)
    assert st["status"] == "stopped" and sim.status == FINISHED
    assert st["stopped_at"] == st["best_step"] + 40                      # patience: 40 evaluations
    best = np.min(r.test_loss)
    assert r.test_loss_now == pytest.approx(best, rel=1e-12)             # the best weights are back
    assert r.steps[np.argmin(r.test_loss)] == st["best_step"]


def test_live_learning_rate_keeps_the_state():
    sim = _sim(optimizer="momentum", runs=1, lr1=0.1)
    sim.step(10)
    v = sim.run_state(1)["rule"]["v"]
    assert sim.set_params(sim.params.replace(lr1=0.2)) is True
    st = sim.run_state(1)
    assert st["lr"] == 0.2 and st["rule"]["t"] == 10
    np.testing.assert_array_equal(st["rule"]["v"], v)
    assert sim.set_params(sim.params.replace(units=7)) is False     # structural: reset
    assert sim.step_count == 0


def test_gradient_check_passes_fails_at_kinks_and_catches_the_course_bug():
    smooth = _sim(layers=2, units=5, hidden="tanh", runs=1)
    smooth.step(30)
    assert smooth.check_gradients().passed
    # ReLU on the XOR table at step 0: zero biases put (0, 0) exactly on every unit's kink
    kink = MLPSimulation(MLPParams(dataset="xor4", layers=1, units=3, hidden="relu", runs=1), seed=0)
    rep = kink.check_gradients()
    by = {b.name: b for b in rep.blocks}
    assert not by["b1"].passed and by["W1"].passed and rep.near_kink[0] >= 3
    # leaky forward with the plain-ReLU derivative (004): fails on the first layer; fixed: passes
    bug = _sim(layers=1, units=8, hidden="leaky_relu", slope=0.1, bug="leaky_as_relu", runs=1)
    rep = bug.check_gradients()
    assert rep.bug and not rep.passed and not {b.name: b for b in rep.blocks}["W1"].passed
    bug.set_params(bug.params.replace(bug="none"))
    assert bug.check_gradients().passed


def test_chain_rule_view_has_consistent_numbers():
    sim = _sim(layers=2, units=5, runs=2, inspect=2, eq_layer=2, eq_from=3, eq_to=4, eq_sample=5, l2=0.01)
    sim.step(15)
    e = sim.snapshot().explanation
    assert (e.layer, e.i, e.j, e.sample) == (2, 3, 4, 5)
    assert e.grad_sample == pytest.approx(e.a_i * e.delta_j)
    assert e.delta_j == pytest.approx(e.phi_prime * e.terms_sum)
    f, grad = sim._loss_fn()
    g = grad(sim.run_parameters(2))
    idx = sim._woff[1] + (3 - 1) * 5 + (4 - 1)
    assert e.grad_total == pytest.approx(g[idx], rel=1e-9)
    assert e.numeric == pytest.approx(e.grad_total, rel=1e-6)
    assert e.penalty == pytest.approx(0.01 * e.w)


def test_snapshot_views_are_well_formed():
    sim = _sim(layers=2, units=5, runs=4, hidden="relu", lr4=80.0)
    sim.step(20)
    snap = sim.snapshot()
    assert len(snap.runs) == 4
    for r in snap.runs:
        assert r.region_class.shape == (150, 150) and r.region_conf.dtype == np.float32
        assert 0.0 <= r.region_conf.min() and r.region_conf.max() <= 1.0
    assert snap.unit_maps.shape == (10, 48, 48) and snap.unit_layer.tolist() == [1] * 5 + [2] * 5
    assert snap.n_hidden_total == 10 and snap.unit_dead.dtype == bool
    z, phi, dphi = snap.act_curve
    np.testing.assert_array_equal(phi, np.maximum(z, 0))


def _count_by_hand(theta, sizes, hidden, X, labels, K_cls):
    """Confusion counts from a plain forward pass written here and a python loop."""
    woff, boff, _ = K.layout(sizes)
    a = np.asarray(X, dtype=float)
    L = len(sizes) - 1
    for l in range(L):
        W = theta[woff[l]:woff[l] + sizes[l] * sizes[l + 1]].reshape(sizes[l], sizes[l + 1])
        z = a @ W + theta[boff[l]:boff[l] + sizes[l + 1]]
        a = hidden(z) if l < L - 1 else z          # output: its pre-activation decides the class
    pred = (a[:, 0] > 0).astype(int) if sizes[-1] == 1 else np.argmax(a, axis=1)  # σ(z) > ½ ⇔ z > 0
    M = np.zeros((K_cls, K_cls), int)
    for y, p in zip(labels, pred):
        M[y, p] += 1
    return M


@pytest.mark.parametrize("kw,hidden", [
    (dict(layers=2, units=8, runs=3, lr1=0.3, lr2=1.0, lr3=60.0), np.tanh),            # run 3 diverges
    (dict(dataset="blobs3", noise=0.4, spread=0.6, standardize=True, hidden="relu", runs=2, lr1=0.05,
          lr2=0.5, batch=8), lambda z: np.maximum(z, 0)),
    (dict(dataset="xor4", layers=1, units=3, hidden="sigmoid", output="sigmoid_mse", batch=1, runs=1,
          lr1=0.5), lambda z: 1 / (1 + np.exp(-z))),
])
def test_confusion_matrices_count_every_point_as_predicted(kw, hidden):
    sim = _sim(**kw)
    sim.step(120)
    snap = sim.snapshot()
    Xtr, Xte = snap.X_train, snap.X_test
    if sim.params.standardize:                     # the network sees standardized inputs
        mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
        Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    for r in snap.runs:
        theta = sim.run_parameters(r.index)
        for M, X, y, acc in ((r.train_confusion, Xtr, snap.y_train, r.train_acc_now),
                             (r.test_confusion, Xte, snap.y_test, r.test_acc_now)):
            assert M.shape == (snap.n_classes, snap.n_classes) and M.sum() == len(y)
            np.testing.assert_array_equal(M, _count_by_hand(theta, snap.sizes, hidden, X, y, snap.n_classes))
            if len(y):
                assert np.trace(M) / len(y) == acc          # the same accuracy as the titles show
    if kw.get("lr3"):
        assert snap.runs[2].state == "diverged"
    if sim.params.dataset == "xor4":
        assert snap.runs[0].test_confusion.sum() == 0 and snap.sizes[-1] == 1


def test_watch_value_is_the_best_running_runs_training_loss():
    sim = _sim(layers=2, units=8, runs=3, lr1=0.05, lr2=1.0, lr3=60.0)          # full batch
    assert sim.watch_value() is None                                           # before the first step
    for n in (1, 4, 30, 100):
        sim.step(n)
        snap = sim.snapshot()
        running = [r for r in snap.runs if r.state == "running"]
        assert sim.watch_value() == min(r.train_loss[-1] for r in running)
        assert sim.watch_value() == min(r.train_loss_now for r in running)    # evaluated every step
    assert snap.runs[2].state == "diverged" and len(running) == 2
    mini = _sim(runs=2, lr1=0.1, lr2=0.5, batch=16)                           # evaluated once per epoch
    E = mini._eval_every
    mini.step(E)
    at_epoch = mini.watch_value()
    assert at_epoch == min(r.train_loss[-1] for r in mini.snapshot().runs)
    mini.step(E - 1)
    assert mini.watch_value() == at_epoch                                      # the curve's latest point
    mini.step(1)
    assert mini.watch_value() == min(r.train_loss[-1] for r in mini.snapshot().runs) != at_epoch


def test_watch_value_when_no_run_is_running():
    sim = MLPSimulation(MLPParams(dataset="moons", n_points=60, noise=0.35, test_fraction=0.5, layers=2,
                                  units=32, runs=1, lr1=1.0, early_stop=True, patience=20,
                                  max_steps=5000), seed=0)
    sim.advance(5000)
    r = sim.snapshot().runs[0]
    assert r.state == "stopped" and sim.watch_value() == r.train_loss[-1]    # the last one recorded
    gone = _sim(layers=2, units=16, runs=2, lr1=80.0, lr2=100.0)
    gone.advance(5000)
    assert gone.status == DIVERGED and gone.watch_value() is None


def test_user_points_and_bad_input():
    sim = _sim()
    sim.set_data([[0, 0], [1, 1], [0, 1], [1, 0], [2, 2], [-1, 0]], [3, 5, 3, 5, 3, 5])
    assert sim.params.dataset == "user" and sim.n_classes == 2
    snap = sim.snapshot()
    assert len(snap.X_train) + len(snap.X_test) == 6
    with pytest.raises(ParamError, match="labels"):
        sim.set_data([[0, 0], [1, 1]], [0])
    with pytest.raises(ParamError, match="finite"):
        sim.set_data([[0, np.nan], [1, 1]], [0, 1])
    sim.set_data(np.empty((0, 2)), [])
    sim.step(5)
    assert sim.status == "not converged" and "No data" in sim.message and sim.step_count == 0


# ---- data ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in data2d.NAMES if n != "user"])
def test_data_sets(name):
    X, lab = data2d.make(name, np.random.default_rng(0), n_points=91, noise=0.1, spread=0.2, classes=4)
    k = {"spirals3": 3, "blobs3": 3, "gauss": 4}.get(name, 2)
    assert X.dtype == np.float64 and X.shape == (len(lab), 2) and np.all(np.isfinite(X))
    assert sorted(set(lab.tolist())) == list(range(k))
    if name == "xor4":
        assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and lab.tolist() == [0, 1, 1, 0]
    else:
        counts = np.bincount(lab)
        assert len(lab) == 91 and counts.max() - counts.min() <= 1
        assert np.abs(X).max() < 3


def test_split_is_stratified_and_disjoint():
    lab = np.repeat([0, 1, 2], [10, 20, 3])
    tr, te = data2d.split(lab, 0.3, np.random.default_rng(0))
    assert not set(tr) & set(te) and len(tr) + len(te) == len(lab)
    assert np.bincount(lab[te]).tolist() == [3, 6, 1]
    assert data2d.split(np.array([0, 1]), 0.9, np.random.default_rng(0))[0].size == 2


def test_csv_loading_goes_through_the_shared_loader(tmp_path):
    f = tmp_path / "pts.csv"
    f.write_text("x1,x2,label\n0,0,1\n1,1,2\n0.5,0.2,1\n")
    X, lab = data2d.load_csv(f)
    assert X.shape == (3, 2) and lab.tolist() == [0, 1, 0]
    f.write_text("0,0,1\n1,x,2\n")
    with pytest.raises(data2d.DataFileError, match="line 2"):
        data2d.load_csv(f)


def test_gradcheck_formula():
    g, n = np.array([1.0, -2.0, 0.0]), np.array([1.0, -2.0 + 1e-6, 1e-9])
    assert gradcheck.relative_error(g, n) == pytest.approx(1e-6 / 4.000001)
    assert gradcheck.entry_errors(g, n)[2] == pytest.approx(1.0)
    f = lambda th: float(th[0] ** 3 + 2 * th[1])   # noqa: E731
    num = gradcheck.numerical_gradient(f, [2.0, 5.0])
    assert num == pytest.approx([12.0, 2.0], rel=1e-9)
    res = gradcheck.check(f, [12.0, 2.5], np.array([2.0, 5.0]), [("a", 0, (1,)), ("b", 1, (1,))])
    assert res[0].passed and not res[1].passed and res[1].n_entries_failing == 1


def test_init_schemes():
    rng = np.random.default_rng(0)
    sizes = [200, 300, 100]
    woff, boff, n = K.layout(sizes)
    for init, check in (("xavier", lambda W: np.abs(W).max() <= np.sqrt(6 / 500)),
                        ("uniform", lambda W: np.abs(W).max() <= 1 / np.sqrt(200)),
                        ("he", lambda W: abs(W.std() - np.sqrt(2 / 200)) < 0.005),
                        ("normal", lambda W: abs(W.std() - 1) < 0.01)):
        th = init_params(sizes, init, rng)
        assert check(th[woff[0]:woff[0] + 200 * 300])
        assert np.all(th[boff[0]:boff[0] + 300] == 0)
    with pytest.raises(ValueError):
        init_params(sizes, "lecun", rng)
    assert losses.loss_id("mse") == 0


def test_experiment_file_round_trip_continues_bit_for_bit(tmp_path):
    from nnsim import experiment as E
    from nnsim.engine.state import capture_state, restore_state

    p = MLPParams(dataset="moons", n_points=80, layers=1, units=6, batch=10, dropout=0.1, optimizer="adam",
                  runs=3, lr1=0.01, lr2=0.05, lr3=60.0, early_stop=True)
    sim = MLPSimulation(p, seed=3)
    sim.step(37)
    sim.check_gradients()
    E.save(tmp_path / "run", E.Experiment(panel="mlp", params=p.to_dict(), seed=3, step_count=sim.step_count,
                                          state=capture_state(sim)))
    back = E.load(tmp_path / "run.nnsim", MLPParams)
    again = MLPSimulation(MLPParams.from_dict(back.params), seed=back.seed)
    again.check_state(back.state)  # a fresh simulation is the schema
    restore_state(again, back.state)
    sim.step(25)
    again.step(25)
    for k in (1, 2, 3):
        np.testing.assert_array_equal(sim.run_parameters(k), again.run_parameters(k))
    assert [r.state for r in sim.snapshot().runs] == [r.state for r in again.snapshot().runs]
