"""Recurrent cells, BPTT, the sequence tasks and the LSTM panel's simulation (no Qt).

References: a plain numpy transcription of each cell's equations (written here, independently of
the numba kernels), central finite differences for every gradient, and the lecture's own numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnsim.engine import _recurrent_kernels as K
from nnsim.engine import recurrent as R
from nnsim.engine import sequences as S
from nnsim.engine.base import DIVERGED, FINISHED, RUNNING, ParamError
from nnsim.engine.recurrent import (GRU, JAMES, LSTM, RNN, SPARSE_OUTPUT, SPARSE_OUTPUT_PRINTED,
                                    SequenceModel, four_steps, gated_output, make_cell)
from nnsim.engine.recurrent_sim import RecurrentParams, RecurrentSimulation

CELL_NAMES = ("rnn", "lstm", "peephole", "coupled", "gru")
SMALL = dict(task="recall", length=6, hidden=4, batch=8, max_updates=1000)


# ---- an independent numpy transcription of the equations ---------------------------------------
def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def ref_forward(cell, x, h0, c0=None):
    """Step by step, with the weights split into the named blocks of the docstring."""
    T = x.shape[0]
    H = cell.n_hidden
    W, b = cell.W, cell.b
    h, c = h0.copy(), None if c0 is None else c0.copy()
    out = {k: [] for k in ("i", "f", "o", "g", "c", "h", "r", "z", "a")}
    for t in range(T):
        hx = np.concatenate([h, x[t]], axis=1)
        if isinstance(cell, RNN):
            a = hx @ W.T + b
            h = np.tanh(a)
            out["a"].append(a)
        elif isinstance(cell, LSTM):
            Wi, Wf, Wo, Wg = (W[k * H:(k + 1) * H] for k in range(4))
            bi, bf, bo, bg = (b[k * H:(k + 1) * H] for k in range(4))
            pi, pf, po = cell.P if cell.variant == "peephole" else np.zeros((3, H))
            f = sig(hx @ Wf.T + bf + pf * c)
            i = 1.0 - f if cell.variant == "coupled" else sig(hx @ Wi.T + bi + pi * c)
            g = np.tanh(hx @ Wg.T + bg)
            c = f * c + i * g
            o = sig(hx @ Wo.T + bo + po * c)
            h = o * np.tanh(c)
            for k, v in (("i", i), ("f", f), ("o", o), ("g", g), ("c", c)):
                out[k].append(v)
        else:
            Wr, Wz, Wg = (W[k * H:(k + 1) * H] for k in range(3))
            br, bz, bg = (b[k * H:(k + 1) * H] for k in range(3))
            r = sig(hx @ Wr.T + br)
            z = sig(hx @ Wz.T + bz)
            g = np.tanh(np.concatenate([r * h, x[t]], axis=1) @ Wg.T + bg)
            h = (1.0 - z) * h + z * g
            for k, v in (("r", r), ("z", z), ("g", g)):
                out[k].append(v)
        out["h"].append(h)
    return {k: np.array(v) for k, v in out.items() if v}


def random_cell(name, n_in=3, H=4, seed=0):
    cell = make_cell(name, n_in, H, seed=seed, forget_bias=0.5, init_gain=1.3)
    rng = np.random.default_rng(seed + 100)
    cell.b = rng.standard_normal(cell.b.shape) * 0.5          # all biases non-zero
    if name == "coupled":
        cell.W[:H] = 0.0
        cell.b[:H] = 0.0
    if name == "peephole":
        cell.P = rng.standard_normal((3, H))
    return cell


def states(cell, B, rng):
    h0 = rng.standard_normal((B, cell.n_hidden)) * 0.5
    c0 = rng.standard_normal((B, cell.n_hidden)) * 0.5 if isinstance(cell, LSTM) else None
    return h0, c0


@pytest.mark.parametrize("name", CELL_NAMES)
def test_forward_matches_the_equations(name):
    rng = np.random.default_rng(1)
    cell = random_cell(name)
    x = rng.standard_normal((7, 5, 3)) * 2.0
    h0, c0 = states(cell, 5, rng)
    got = cell.forward(x, h0, c0) if c0 is not None else cell.forward(x, h0)
    ref = ref_forward(cell, x, h0, c0)
    for key, val in ref.items():
        np.testing.assert_allclose(got[key], val, rtol=0, atol=1e-13, err_msg=key)
    assert got["h"].shape == (7, 5, 4)


def _loss_fn(cell, x, R_, h0, c0):
    kw = {"c0": c0} if c0 is not None else {}
    return float((cell.forward(x, h0, **kw)["h"] * R_).sum())


@pytest.mark.parametrize("name", CELL_NAMES)
def test_bptt_matches_finite_differences(name):
    """L = sum_t <R_t, h_t>: every parameter, every input and the initial state(s)."""
    rng = np.random.default_rng(2)
    cell = random_cell(name, n_in=2, H=3)
    T, B = 5, 2
    x = rng.standard_normal((T, B, 2))
    R_ = rng.standard_normal((T, B, 3))
    h0, c0 = states(cell, B, rng)
    kw = {"c0": c0} if c0 is not None else {}
    g = cell.backward(x, R_, h0, **kw)
    eps = 1e-6

    def num(arr):
        out = np.empty_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            lp = _loss_fn(cell, x, R_, h0, c0)
            arr[idx] = old - eps
            lm = _loss_fn(cell, x, R_, h0, c0)
            arr[idx] = old
            out[idx] = (lp - lm) / (2 * eps)
        return out

    theta_num = num(cell.theta)
    analytic = cell.grad_vector(g)
    scale = np.abs(theta_num).max()
    assert np.abs(analytic - theta_num).max() <= 1e-7 * scale
    np.testing.assert_allclose(g["dx"], num(x), atol=1e-7 * scale)
    np.testing.assert_allclose(g["dh0"], num(h0), atol=1e-7 * scale)
    if c0 is not None:
        np.testing.assert_allclose(g["dc0"], num(c0), atol=1e-7 * scale)
    if name == "coupled":
        assert np.all(g["dW"][:3] == 0) and np.all(g["db"][:3] == 0)   # the unused i rows
    if name == "peephole":
        assert "dP" in g and np.abs(g["dP"]).max() > 0


@pytest.mark.parametrize("readout", ["linear", "softmax"])
@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_model_gradient_with_read_out_and_mask(name, readout):
    rng = np.random.default_rng(3)
    T, B, n, H, V = 4, 3, 2, 3, 3
    m = SequenceModel(make_cell(name, n, H, seed=1), V, readout, seed=2)
    x = rng.standard_normal((T, B, n))
    mask = rng.random((T, B)) < 0.6
    mask[-1] = True
    if readout == "linear":
        tgt, lab = rng.standard_normal((T, B, V)), None
    else:
        lab = rng.integers(0, V, (T, B))
        tgt = np.eye(V)[lab]
    loss, acc, grad, *_ = m.loss_and_grad(x, tgt, mask, lab, reuse=False)
    assert loss == pytest.approx(m.evaluate(x, tgt, mask, lab)[0], rel=1e-12)
    th = m.theta
    num = np.empty_like(th)
    for k in range(th.size):
        old = th[k]
        th[k] = old + 1e-6
        lp = m.evaluate(x, tgt, mask, lab)[0]
        th[k] = old - 1e-6
        lm = m.evaluate(x, tgt, mask, lab)[0]
        th[k] = old
        num[k] = (lp - lm) / 2e-6
    assert np.abs(grad - num).max() <= 1e-6 * np.abs(num).max()


def test_reused_buffers_and_cached_forward_give_the_same_numbers():
    rng = np.random.default_rng(4)
    for name in CELL_NAMES:
        cell = random_cell(name)
        x = rng.standard_normal((6, 4, 3))
        dh = rng.standard_normal((6, 4, 4))
        fresh = cell.backward(x, dh)
        tr = cell.forward(x, reuse=True)
        again = cell.backward(x, dh, cache=tr, reuse=True)
        for key in fresh:
            np.testing.assert_array_equal(fresh[key], again[key], err_msg=f"{name} {key}")


def test_vectorized_sigmoid_is_exact_and_keeps_nan():
    x = np.concatenate([np.linspace(-745, 745, 20001), [0.0, -0.0, 1e-300, np.nan]])
    buf = -x.copy()
    K.vsigm(buf, np.empty_like(buf))
    with np.errstate(over="ignore"):
        ref = 1.0 / (1.0 + np.exp(-x))
    fin = np.isfinite(x) & (x > -700)
    np.testing.assert_allclose(buf[fin], ref[fin], rtol=1e-15, atol=1e-300)   # 2 ulp
    assert np.all(buf[np.isfinite(x) & (x <= -700)] < 1e-300)
    assert np.isnan(buf[-1])


def test_api_shapes_and_input_errors():
    lstm = LSTM(3, 5)
    assert lstm.W.shape == (20, 8) and lstm.b.shape == (20,)
    assert np.all(lstm.b[5:10] == 1.0) and np.all(lstm.b[:5] == 0.0)     # forget bias, i o g 0
    out = lstm.forward(np.zeros((4, 2, 3)))
    assert set(out) >= {"i", "f", "o", "g", "c", "h"} and out["c"].shape == (4, 2, 5)
    back = lstm.backward(np.zeros((4, 2, 3)), np.ones((4, 2, 5)))
    assert set(back) >= {"dW", "db", "dx", "dh0", "dc0"} and back["dx"].shape == (4, 2, 3)
    assert GRU(3, 5).W.shape == (15, 8) and RNN(3, 5).W.shape == (5, 8)
    with pytest.raises(ValueError, match="variant"):
        LSTM(1, 2, variant="diagonal")
    with pytest.raises(ValueError, match=r"\(T, B, 3\)"):
        lstm.forward(np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="dh must have shape"):
        lstm.backward(np.zeros((4, 2, 3)), np.ones((4, 2, 4)))
    with pytest.raises(AttributeError):
        lstm.P = np.ones((3, 5))
    # W is a view into theta: a training loop that updates theta moves W
    lstm.theta[0] += 1.0
    assert lstm.W[0, 0] == lstm.theta[0]


# ---- the lecture's numbers ------------------------------------------------------------------------
def test_james_example_reproduces_the_lecture():
    s = four_steps(**JAMES)
    np.testing.assert_allclose(s["forget"], [-0.05, 0.2], atol=1e-12)   # C'_{t-1}
    np.testing.assert_allclose(s["input"], [0.72, 0.0], atol=1e-12)     # C~'_t
    np.testing.assert_allclose(s["c"], [0.67, 0.2], atol=1e-12)         # C_t


def test_sparse_output_example_and_its_erratum():
    h = gated_output(SPARSE_OUTPUT["o"], SPARSE_OUTPUT["tanh_c"])
    printed = np.array(SPARSE_OUTPUT_PRINTED)
    np.testing.assert_allclose(h[:10], printed[:10], atol=0.005)        # the slide's rounding
    assert h[10] == pytest.approx(0.56) and abs(h[10] - printed[10]) > 0.05   # not 0.63


def test_four_steps_agree_with_the_cell():
    lstm = random_cell("lstm")
    x = np.random.default_rng(5).standard_normal((3, 1, 3))
    tr = lstm.forward(x)
    c_prev = tr["c"][1, 0]
    s = four_steps(c_prev, tr["f"][2, 0], tr["i"][2, 0], tr["g"][2, 0], tr["o"][2, 0])
    np.testing.assert_allclose(s["c"], tr["c"][2, 0], atol=1e-14)
    np.testing.assert_allclose(s["h"], tr["h"][2, 0], atol=1e-14)


# ---- tasks ------------------------------------------------------------------------------------------
def test_tasks_make_consistent_batches():
    rng = np.random.default_rng(6)
    rec = S.make_task("recall", 7, noise=0.5).batch(rng, 5)
    assert rec.x.shape == (8, 5, 2) and rec.mask.sum() == 5 and rec.mask[-1].all()
    np.testing.assert_array_equal(rec.target[-1, :, 0], rec.x[0, :, 0])
    assert np.abs(rec.x[1:, :, 0]).max() <= 0.5 and rec.x[1:, :, 1].max() == 0
    add = S.make_task("adding", 10).batch(rng, 6)
    marked = (add.x[:, :, 0] * add.x[:, :, 1]).sum(axis=0)
    np.testing.assert_allclose(add.target[-1, :, 0], marked)
    assert np.all(add.x[:, :, 1].sum(axis=0) == 2)
    br = S.make_task("brackets", 30).batch(rng, 4)
    depth = np.cumsum(br.x[:, :, 0] - br.x[:, :, 1], axis=0)
    np.testing.assert_array_equal(br.labels, depth)
    assert depth.min() >= 0 and depth.max() <= S.MAX_DEPTH
    sine = S.make_task("sine", 20, noise=0.0).batch(rng, 3)
    np.testing.assert_allclose(sine.target[:-1, :, 0], sine.x[1:, :, 0])   # noise-free: next value


def test_sentences_and_next_character_task():
    sents = S.load_sentences()
    assert any(s.startswith("james") and " he " in s for s in sents)
    assert any(s.startswith("maria") and " she " in s for s in sents)
    task = S.make_task("chars", 12)
    b = task.batch(np.random.default_rng(7), 4)
    assert b.x.shape == (12, 4, len(task.vocab))
    np.testing.assert_array_equal(b.x[1:].argmax(-1), b.labels[:-1])    # target = next input
    ex = task.examples(np.random.default_rng(0), 2)
    assert "".join(ex[0].tokens[0]) + task.vocab[ex[0].labels[-1, 0]] == sents[0] + " "
    with pytest.raises(FileNotFoundError, match="nowhere.txt"):
        S.load_sentences(Path("/nonexistent/nowhere.txt"))


# ---- the known outcome: delayed recall -------------------------------------------------------------
def _holding_unit(model, task, rng):
    b = task.batch(rng, 256)
    loss, acc, y, tr = model.evaluate(b.x, b.target, b.mask, b.labels, task.tol)
    v = b.x[0, :, 0]
    corr = [abs(np.corrcoef(tr["c"][-1, :, u], v)[0, 1]) for u in range(model.cell.n_hidden)]
    u = int(np.argmax(corr))
    return acc, float(tr["f"][1:, :, u].mean()), corr[u]


def test_delayed_recall_lstm_holds_the_value_plain_rnn_fails():
    """The default preset's set-up (L = 40, b_f = 3): after 600 minibatch updates the LSTM
    recalls within ±0.1, with a unit that holds v at f close to 1; the plain RNN, trained on the
    same minibatches, stays at chance; its gradient from the last step has vanished at t = 0."""
    p = RecurrentParams().replace(task="recall", length=40, forget_bias=3.0, hidden=8,
                                  compare=True, max_updates=600)
    sim = RecurrentSimulation(p, seed=0)
    assert sim.advance(10_000) == 600 and sim.status == FINISHED
    task = sim._task
    acc, f_mean, corr = _holding_unit(sim.main, task, np.random.default_rng(11))
    b = task.batch(np.random.default_rng(12), 256)
    rnn_acc = sim.cmp.evaluate(b.x, b.target, b.mask, None, task.tol)[1]
    assert acc > 0.9 and corr > 0.95 and f_mean > 0.9
    assert rnn_acc < 0.3
    snap = sim.snapshot()
    assert snap.flow_cmp_h[0] / snap.flow_cmp_h[-1] < 1e-3           # vanished
    assert snap.flow_c[0] / snap.flow_c[-1] > 1e-2                   # carried through C
    assert "LSTM" in snap.message and "%" in snap.message


def test_forget_bias_one_is_not_enough_at_this_delay():
    """The preset next to the default: with b_f = 1 (f ≈ 0.73 at the start) the gradient through
    C shrinks like 0.73^40 and the LSTM does not learn the delay in the same budget."""
    p = RecurrentParams().replace(task="recall", length=40, forget_bias=1.0, compare=False,
                                  max_updates=600)
    sim = RecurrentSimulation(p, seed=0)
    start = sim.snapshot()
    assert start.flow_c[0] / start.flow_c[-1] < 0.05
    sim.advance(600)
    assert np.mean(sim.snapshot().acc[-100:]) < 0.3


def test_a_gender_unit_emerges_in_the_next_character_preset():
    """Untrained, no unit separates the "he" from the "she" sentences more than random splits
    do; after the preset's 2000 updates one does (permutation p < 0.05)."""
    p = RecurrentParams().replace(task="chars", length=40, hidden=48, compare=False,
                                  max_updates=2000)
    sim = RecurrentSimulation(p, seed=0)
    sim.find_gender_units()
    upd, ranked, n_he, n_she, p0 = sim.snapshot().gender_units
    assert upd == 0 and n_he >= 10 and n_she >= 10 and p0 > 0.2
    sim.advance(2000)
    sim.find_gender_units()
    upd, ranked, _, _, p1 = sim.snapshot().gender_units
    assert upd == 2000 and p1 < 0.05 and abs(ranked[0][1]) > 1.5
    other = RecurrentSimulation(RecurrentParams().replace(**SMALL), seed=0)
    other.find_gender_units()
    assert other.snapshot().gender_units == ()            # only for the text task


# ---- the simulation -----------------------------------------------------------------------------------
def test_step_n_equals_n_single_steps_and_seeds_repeat():
    p = RecurrentParams().replace(**SMALL)
    a, b, c = (RecurrentSimulation(p, seed=3) for _ in range(3))
    a.step(7)
    for _ in range(7):
        b.step(1)
    c.step(3)
    c.step(4)
    np.testing.assert_array_equal(a.main.theta, b.main.theta)
    np.testing.assert_array_equal(a.cmp.theta, c.cmp.theta)
    np.testing.assert_array_equal(a.snapshot().loss, b.snapshot().loss)
    other = RecurrentSimulation(p, seed=4)
    other.step(7)
    assert not np.array_equal(other.main.theta, a.main.theta)


def test_inspect_mode_moves_the_cursor_not_the_weights():
    sim = RecurrentSimulation(RecurrentParams().replace(**SMALL), seed=0)
    sim.step(5)
    theta = sim.main.theta.copy()
    assert sim.set_params(sim.params.replace(mode="inspect")) is True     # live
    sim.step(1)
    assert sim.snapshot().t == 1
    sim.step(6)                                # T = 7 steps: wraps around to 0
    snap = sim.snapshot()
    assert snap.t == 0 and snap.step_count == 5
    np.testing.assert_array_equal(sim.main.theta, theta)
    sim.set_time(99)
    assert sim.snapshot().t == 6
    sim.set_time(-3)
    assert sim.snapshot().t == 0


def test_snapshot_arrays_hold_the_four_steps():
    for name in CELL_NAMES:
        sim = RecurrentSimulation(RecurrentParams().replace(**SMALL, cell=name), seed=1)
        sim.step(3)
        s = sim.snapshot()
        T = s.x.shape[0]
        for key, _, _ in s.maps:
            assert s.arrays[key].shape == (T, 4)
        a = s.arrays
        if "c" in a:
            np.testing.assert_allclose(a["fc"] + a["ig"], a["c"], atol=1e-14)
            np.testing.assert_allclose(a["o"] * a["tanh_c"], a["h"], atol=1e-14)
            np.testing.assert_allclose(a["c_prev"][1:], a["c"][:-1])
        if name == "gru":
            np.testing.assert_allclose(a["keep"] + a["zg"], a["h"], atol=1e-14)
        assert s.cmp_cell == ("lstm" if name == "rnn" else "rnn")
        assert s.flow_h.shape == (T,) and np.all(np.isfinite(s.flow_h))
        assert len(s.loss) == 3 and s.y.shape == (T, 1)


def test_max_updates_pauses_then_play_goes_on():
    sim = RecurrentSimulation(RecurrentParams().replace(**{**SMALL, "max_updates": 5}), seed=0)
    assert sim.advance(100) == 5 and sim.status == FINISHED and "Paused after 5" in sim.message
    assert sim.advance(3) == 3 and sim.status == RUNNING and sim.step_count == 8


def test_live_learning_rate_and_optimizer_keep_the_network():
    sim = RecurrentSimulation(RecurrentParams().replace(**SMALL), seed=0)
    sim.step(4)
    theta = sim.main.theta.copy()
    assert sim.set_params(sim.params.replace(lr=0.002)) is True
    assert sim.step_count == 4 and sim._rules["main"].t == 4           # Adam's moments kept
    assert sim._rules["main"].hyper["lr"] == 0.002
    np.testing.assert_array_equal(sim.main.theta, theta)
    assert sim.set_params(sim.params.replace(optimizer="nesterov")) is True
    assert sim._rules["main"].t == 0
    sim.step(2)                                # Nesterov evaluates at the look-ahead point
    assert sim.step_count == 6 and np.all(np.isfinite(sim.main.theta))
    assert sim.set_params(sim.params.replace(hidden=5)) is False        # structural: reset
    assert sim.step_count == 0 and sim.main.cell.n_hidden == 5


def test_clipping_limits_the_step():
    base = RecurrentParams().replace(**SMALL, optimizer="sgd", lr=0.1, init_gain=3.0)
    raw = RecurrentSimulation(base.replace(clip=0.0), seed=2)
    clipped = RecurrentSimulation(base.replace(clip=1e-3), seed=2)
    t0 = raw.main.theta.copy()
    raw.step(1)
    clipped.step(1)
    norm = raw.snapshot().grad_norm[0]
    assert norm > 1e-3
    np.testing.assert_allclose(np.linalg.norm(raw.main.theta - t0), 0.1 * norm, rtol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(clipped.main.theta - t0), 0.1 * 1e-3, rtol=1e-9)


def test_divergence_is_a_status_not_an_exception():
    p = RecurrentParams().replace(task="sines", length=50, noise=0.5, cell="rnn", hidden=16,
                                  compare=False, init_gain=3.0, optimizer="sgd", lr=0.5, clip=0.0)
    sim = RecurrentSimulation(p, seed=0)
    taken = sim.advance(500)
    assert sim.status == DIVERGED and taken < 500
    assert "Diverged at update" in sim.message and "clipping" in sim.message
    before = sim.step_count
    sim.step(5)                                 # further steps do nothing, raise nothing
    assert sim.step_count == before
    snap = sim.snapshot()                       # the views still get a snapshot
    assert snap.status == DIVERGED and len(snap.loss) == before


def test_a_saved_experiment_goes_on_bit_for_bit(tmp_path):
    from nnsim.experiment import Experiment, load, save

    p = RecurrentParams().replace(**SMALL, optimizer="adam")
    sim = RecurrentSimulation(p, seed=5)
    sim.step(6)
    sim.set_time(3)
    exp = Experiment(panel="lstm", params=p.to_dict(), seed=5, step_count=6, state=sim.get_state())
    path = save(tmp_path / "run.nnsim", exp)
    back = load(path, RecurrentParams)
    resumed = RecurrentSimulation(RecurrentParams(), seed=0)
    resumed.set_state(RecurrentParams.from_dict(back.params), back.state)
    assert resumed.step_count == 6 and resumed.snapshot().t == 3
    sim.step(4)
    resumed.step(4)
    np.testing.assert_array_equal(resumed.main.theta, sim.main.theta)
    np.testing.assert_array_equal(resumed.cmp.theta, sim.cmp.theta)
    np.testing.assert_array_equal(resumed.snapshot().loss, sim.snapshot().loss)
    bad = dict(back.state, main_theta=np.zeros(3))
    with pytest.raises(ValueError, match="weights saved"):
        resumed.set_state(RecurrentParams.from_dict(back.params), bad)


def test_params_are_validated():
    with pytest.raises(ParamError):
        RecurrentParams().replace(task="poetry")
    with pytest.raises(ParamError):
        RecurrentParams().replace(hidden=0)
    with pytest.raises(ParamError):
        RecurrentParams().replace(clip=-1.0)


def test_warmup_runs():
    R.warmup()
