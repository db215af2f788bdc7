"""Activation maximization, its regularizers, the digit loaders and the panel's simulation."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from nnsim.engine import actmax, cnn, digits, optimizers
from nnsim.engine.actmax import FeatureVizParams, FeatureVizSimulation
from nnsim.engine.base import CONVERGED, DIVERGED, FINISHED, RUNNING, ParamError
from nnsim.engine.cnn import ConvNet
from nnsim.engine.datasets import DataFileError


@pytest.fixture(scope="module")
def net():
    """A digits net trained here (independent of the shipped weights)."""
    d = digits.load_digits()
    tr, te = digits.stratified_split(d.labels, 0.2, 1)
    net = ConvNet(seed=1, maps=(16, 32), lr=0.003)
    net.fit(d.images[tr][:, None], d.labels[tr], epochs=8)
    return net


# ---- activation maximization -----------------------------------------------------------------------

@pytest.mark.parametrize("k", range(10))
def test_every_start_is_classified_as_its_target(net, k):
    results = actmax.four_starts(net, ("class", k), seed=3, steps=10, lr=0.1)
    assert list(results) == ["ones", "half", "zeros", "random"]
    for start, (image, hist) in results.items():
        assert hist["diverged_at"] == -1
        p = net.predict_proba(image[None])[0]
        assert p[k] >= 0.99, (start, p[k])
        np.testing.assert_allclose(hist["probs"][-1], p, rtol=1e-12)
        assert hist["activation"][-1] > hist["activation"][0]


def test_starts_differ_and_random_is_seeded(net):
    a = actmax.maximize(net, ("class", 1), init="random", seed=5)[1]["images"][0]
    b = actmax.maximize(net, ("class", 1), init="random", seed=5)[1]["images"][0]
    c = actmax.maximize(net, ("class", 1), init="random", seed=6)[1]["images"][0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and 0 <= a.min() and a.max() < 1
    finals = [actmax.maximize(net, ("class", 1), init=s)[0] for s in actmax.STARTS]
    assert all(not np.allclose(finals[0], f) for f in finals[1:])  # "depends on the initial state"
    np.testing.assert_array_equal(actmax.maximize(net, ("class", 1), init="half", steps=0)[0],
                                  np.full((1, 8, 8), 0.5))


def test_plain_ascent_is_the_shared_rule_step_by_step(net):
    """The kernel's iterations equal a Python loop of value_and_grad + Rule.apply."""
    for name, hyper in (("sgd", {}), ("momentum", {"momentum": 0.8}), ("adam", {}),
                        ("nesterov", {"momentum": 0.5})):
        image, hist = actmax.maximize(net, ("map", "conv2", 3), init="half", steps=6, lr=0.05,
                                      optimizer=name, **hyper)
        rule = optimizers.make_rule(name, 64, lr=0.05, **hyper)
        x = np.full(64, 0.5)
        for t in range(6):
            _, g, _ = cnn.input_value_and_grad(net, rule.grad_point(x).reshape(1, 8, 8), cnn.CONV2, 1, 3)
            rule.apply(x, -g.reshape(-1))
            np.testing.assert_allclose(hist["images"][t + 1].reshape(-1), x, rtol=0, atol=1e-12)
        np.testing.assert_allclose(image.reshape(-1), x, atol=1e-12)


def test_targets_units_maps_and_probabilities(net):
    _, h = actmax.maximize(net, ("unit", "conv2", (2, 1, 1)), init="half", steps=20, lr=0.1)
    assert h["activation"][-1] > h["activation"][0] + 1 and h["target_class"] == -1
    _, h = actmax.maximize(net, ("prob", 4), init="zeros", steps=60, lr=3.0)
    assert h["probs"][-1, 4] > 0.99
    np.testing.assert_allclose(h["activation"], h["probs"][:, 4])
    with pytest.raises(ValueError, match="out of range"):
        actmax.parse_target(net, ("class", 10))
    with pytest.raises(ValueError, match="no feature maps"):
        actmax.parse_target(net, ("map", "logits", 0))
    with pytest.raises(ValueError, match="unknown layer"):
        actmax.parse_target(net, ("map", "conv9", 0))
    with pytest.raises(ValueError, match="hidden"):
        actmax.parse_target(net, ("unit", "hidden", 0))  # this net has no hidden layer
    with pytest.raises(ValueError, match="shape"):
        actmax.maximize(net, ("class", 1), init=np.zeros((7, 7)))


def test_border_zeroed_results_stay_confident(net):
    """The article: zeroing the outer rows and columns of the "2" barely changes the verdict."""
    image, _ = actmax.maximize(net, ("class", 2), init="random", seed=0, steps=10, lr=0.1)
    zb = actmax.zero_border(image)
    assert np.all(zb[0, [0, -1], :] == 0) and np.all(zb[0, :, [0, -1]] == 0)
    np.testing.assert_array_equal(zb[0, 1:-1, 1:-1], image[0, 1:-1, 1:-1])
    assert net.predict_proba(zb[None])[0, 2] >= 0.99


def test_divergence_is_a_result_not_an_exception(net):
    image, hist = actmax.maximize(net, ("class", 1), init="half", steps=8, lr=1e300)
    assert 1 <= hist["diverged_at"] <= 8
    assert np.isnan(hist["activation"][hist["diverged_at"]:]).all()
    assert np.all(np.isfinite(image))


# ---- regularizers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_blur_equals_scipy_gaussian_filter(sigma):
    x = np.random.default_rng(0).standard_normal((1, 8, 6))
    out = actmax.regularize(x, np.zeros_like(x), blur_sigma=sigma, blur_now=True)
    np.testing.assert_allclose(out[0], gaussian_filter(x[0], sigma, mode="reflect", truncate=4.0),
                               atol=1e-12)
    np.testing.assert_array_equal(actmax.regularize(x, x, blur_sigma=sigma, blur_now=False), x)


def test_decay_and_percentile_clipping_follow_their_formulas():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 8, 8))
    g = rng.standard_normal((1, 8, 8))
    np.testing.assert_allclose(actmax.regularize(x, g, l2=0.3), 0.7 * x)
    out = actmax.regularize(x, g, clip_norm_pct=40)
    thr = np.percentile(np.abs(x), 40)
    np.testing.assert_array_equal(out, np.where(np.abs(x) < thr, 0.0, x))
    assert (out == 0).sum() == np.sum(np.abs(x) < thr) > 0
    out = actmax.regularize(x, g, clip_contrib_pct=75)
    contrib = np.abs(x * g)
    np.testing.assert_array_equal(out, np.where(contrib < np.percentile(contrib, 75), 0.0, x))


def test_regularized_ascent_runs_every_preset(net):
    for name, reg in actmax.REGULARIZER_PRESETS.items():
        image, hist = actmax.maximize(net, ("class", 3), init="random", steps=40, lr=0.1, **reg)
        assert hist["diverged_at"] == -1, name
        assert hist["activation"][-1] > hist["activation"][0], name
    plain = actmax.maximize(net, ("class", 3), init="random", steps=40, lr=0.1)[0]
    clipped = actmax.maximize(net, ("class", 3), init="random", steps=40, lr=0.1, clip_norm_pct=50)[0]
    assert (clipped == 0).sum() >= 30 and (plain == 0).sum() == 0


def test_tile_maps_is_row_major():
    maps = np.arange(256 * 4, dtype=float).reshape(256, 2, 2)  # conv5-like: 256 maps → 16 x 16
    t = actmax.tile_maps(maps, gap=1)
    assert t.shape == (16 * 3 - 1, 16 * 3 - 1)
    np.testing.assert_array_equal(t[0:2, 3:5], maps[1])
    np.testing.assert_array_equal(t[3:5, 0:2], maps[16])
    assert np.isnan(t[2, 0])


# ---- data files ------------------------------------------------------------------------------------

def _idx(arr: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + \
        arr.astype(np.uint8).tobytes()


def test_digits_and_split():
    d = digits.load_digits()
    assert d.images.shape == (1797, 8, 8) and d.images.max() == 1.0 and d.n_classes == 10
    tr, te = digits.stratified_split(d.labels, 0.2, 1)
    assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 1797
    counts = np.bincount(d.labels[te], minlength=10) / np.bincount(d.labels, minlength=10)
    np.testing.assert_allclose(counts, 0.2, atol=0.01)
    mean, std = digits.class_pixel_std(d.images, d.labels, 10)
    np.testing.assert_allclose(std[2], d.images[d.labels == 2].std(axis=0))


def test_idx_files_with_labels_and_test_pair(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (30, 10, 10))
    labs = rng.integers(0, 10, 30)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(imgs)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(labs))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(imgs[:20]))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(labs[:20]))
    data = digits.load_data_file(tmp_path / "train-images-idx3-ubyte.gz")
    np.testing.assert_allclose(data.images, imgs / 255.0)
    np.testing.assert_array_equal(data.labels, labs)
    assert data.test_images.shape == (20, 10, 10) and data.shape == (10, 10)


@pytest.mark.parametrize("content,match", [
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 30, 10, 10) + bytes(100), "truncated"),
    (b"\x00\x00\x07\x03" + struct.pack(">3I", 1, 2, 2) + bytes(4), "unknown IDX data type"),
    (b"\x00\x00\x08", "4-byte header"),
])
def test_malformed_idx_files_say_why(tmp_path, content, match):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=match):
        digits.load_data_file(path)


def test_idx_without_labels_or_with_a_count_mismatch(tmp_path):
    imgs = np.zeros((25, 8, 8))
    path = tmp_path / "mine-images-idx3-ubyte"
    path.write_bytes(_idx(imgs))
    with pytest.raises(DataFileError, match="no labels file"):
        digits.load_idx(path)
    (tmp_path / "mine-labels-idx1-ubyte").write_bytes(_idx(np.zeros(24)))
    with pytest.raises(DataFileError, match="25 images but"):
        digits.load_idx(path)


def test_image_csv_loader_and_its_errors(tmp_path):
    d = digits.load_digits()
    rows = ["pixel" + ",pixel" * 63 + ",label"]
    rows += [",".join(str(int(v)) for v in (16 * d.images[i]).ravel()) + f",{d.labels[i]}" for i in range(30)]
    good = tmp_path / "d.csv"
    good.write_text("\n".join(rows) + "\n")
    data = digits.load_data_file(good)
    np.testing.assert_allclose(data.images, d.images[:30])
    np.testing.assert_array_equal(data.labels, d.labels[:30])
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(rows[:5] + ["1,2,3"] + rows[5:]))
    with pytest.raises(DataFileError, match="line 6"):
        digits.load_data_file(bad)
    bad.write_text("\n".join(rows[:3] + [rows[3].replace(",5,", ",x,", 1)] + rows[4:]))
    with pytest.raises(DataFileError, match="not a number"):
        digits.load_data_file(bad)
    bad.write_text("\n".join("1," + ",".join(["0"] * 50) for _ in range(30)))
    with pytest.raises(DataFileError, match="square"):
        digits.load_data_file(bad)


# ---- the panel's simulation ------------------------------------------------------------------------

def test_simulation_opens_with_the_lesson(net):
    sim = FeatureVizSimulation()
    snap = sim.snapshot()
    assert snap.phase == "ready" and "shipped" in snap.source and snap.status == FINISHED
    assert snap.am_starts == ("ones", "half", "zeros", "random", "image")
    assert snap.am_head == snap.am_steps == 10
    assert np.all(snap.am_confidence[:4, -1] >= 0.99) and snap.am_class == 1
    assert snap.test_accuracy >= 0.97 and len(snap.epoch_test_acc) == 15
    assert set(snap.activations) >= {"relu1", "relu2", "pool", "probs"}
    assert snap.activations["relu1"].shape == (16, 6, 6) and snap.filters.shape == (16, 1, 3, 3)
    assert "p(1)" in snap.message


def test_live_changes_recompute_the_ascent_but_keep_the_weights():
    sim = FeatureVizSimulation()
    theta = sim.net.theta.copy()
    assert sim.set_params(sim.params.replace(target_class=7, am_steps=25, blur_sigma=0.5, l2=0.01))
    snap = sim.snapshot()
    np.testing.assert_array_equal(sim.net.theta, theta)
    assert snap.am_steps == 25 and snap.am_class == 7 and snap.am_confidence.shape == (5, 26)
    assert not sim.set_params(sim.params.replace(maps1=4))  # structural: a reset
    assert sim.snapshot().phase == "train" and sim.status == RUNNING


def test_animation_head_stops_at_the_end_and_replays():
    sim = FeatureVizSimulation()
    sim.seek(0)
    assert sim.advance(4) == 4 and sim.status == RUNNING
    assert sim.advance(100) == 6 and sim.status == FINISHED and sim.step_count == 10
    assert sim.advance(3) == 3 and sim.step_count == 3  # replays from the start
    images = sim.snapshot().am_images
    sim.seek(0)
    np.testing.assert_array_equal(sim.snapshot().am_images[0], np.ones((1, 8, 8)))
    assert not np.array_equal(images[0], np.ones((1, 8, 8)))


def test_training_in_steps_is_deterministic_and_ends_converged():
    params = FeatureVizParams(pretrained=False, maps1=4, maps2=6, epochs=2, batch_size=64)
    a = FeatureVizSimulation(params, seed=3)
    b = FeatureVizSimulation(params, seed=3)
    assert a.snapshot().phase == "train" and a.status == RUNNING and "untrained" in a.message
    a.step(7)
    for _ in range(7):
        b.step(1)
    np.testing.assert_array_equal(a.net.theta, b.net.theta)
    taken = a.advance(10_000)
    assert taken == 2 * 23 - 7  # 1438 images in batches of 64: 23 per epoch
    snap = a.snapshot()
    assert a.status == CONVERGED and "test accuracy" in a.message
    assert snap.phase == "ready" and len(snap.epoch_test_acc) == 2 and snap.am_steps == 10
    assert snap.batch_loss.shape == (46,)


def test_diverging_training_is_a_status_and_play_restarts():
    params = FeatureVizParams(pretrained=False, maps1=2, maps2=3, optimizer="sgd", lr=0.01, epochs=3)
    sim = FeatureVizSimulation(params, seed=0)
    sim.net.set_optimizer("sgd", lr=1e10)  # (the form stops at η = 10)
    sim.advance(50)
    assert sim.status == DIVERGED and "Lower the learning rate" in sim.message
    assert sim.snapshot().phase == "train"
    sim.advance(1)  # Play after a divergence starts again from scratch with the settings (η = 0.01)
    assert sim.step_count == 1 and sim.status != DIVERGED


def test_live_input_pick_draw_and_noise():
    sim = FeatureVizSimulation()
    sim.pick_test(5)
    snap = sim.snapshot()
    assert snap.test_index == 5 and snap.input_label == snap.input_label >= 0
    before = snap.input_probs.copy()
    one = np.zeros((8, 8))
    one[1:7, 4] = 1.0
    sim.set_input(one)
    snap = sim.snapshot()
    assert snap.input_label == -1 and not np.allclose(snap.input_probs, before)
    assert np.argmax(snap.input_probs) == 1
    img = snap.input_image.copy()
    sim.add_noise(0.2)
    snap = sim.snapshot()
    assert "noise" in snap.input_source and not np.array_equal(img, snap.input_image)
    assert snap.input_image.min() >= 0 and snap.input_image.max() <= 1
    with pytest.raises(ParamError, match="8×8"):
        sim.set_input(np.zeros((5, 5)))


def test_data_file_and_loaded_weights(tmp_path):
    sim = FeatureVizSimulation()
    d = digits.load_digits()
    small = digits.ImageSet(d.images[:300].copy(), d.labels[:300].copy(), "300 digits")
    sim.set_data(small)
    snap = sim.snapshot()
    assert snap.params.dataset == "file" and snap.phase == "train" and snap.n_train + snap.n_test == 300
    other = ConvNet(maps=(3, 4), hidden=5)
    sim.use_network(other.config(), other.theta, "loaded from a test")
    snap = sim.snapshot()
    assert snap.phase == "ready" and snap.params.maps1 == 3 and snap.params.hidden == 5
    with pytest.raises(ParamError, match="28×28"):
        sim.use_network(ConvNet(in_shape=(1, 28, 28)).config(), np.zeros(1), "x")


# ---- confusion matrix and the target-loss hook ------------------------------------------------------

def _hand_count(labels, predicted, k):
    M = np.zeros((k, k), int)
    for y, p in zip(labels, predicted):
        M[y, p] += 1
    return M


def test_confusion_matrix_of_the_shipped_weights_on_the_test_digits():
    sim = FeatureVizSimulation()
    snap = sim.snapshot()
    d = digits.load_digits()
    _, te = digits.stratified_split(d.labels, actmax.TEST_FRACTION, actmax.SPLIT_SEED)
    net = ConvNet.load(cnn.PRETRAINED_DIGITS)
    pred = np.argmax(net.logits(d.images[te][:, None]), axis=1)
    M = snap.test_confusion
    assert M.shape == (10, 10) and M.sum() == snap.n_test == len(te)
    np.testing.assert_array_equal(M, _hand_count(d.labels[te], pred, 10))
    assert np.trace(M) / M.sum() == snap.test_accuracy
    assert snap.confusion_note == "shipped pre-trained weights"


def test_confusion_matrix_while_training_follows_the_epochs():
    params = FeatureVizParams(pretrained=False, maps1=4, maps2=6, epochs=3, batch_size=64)
    sim = FeatureVizSimulation(params, seed=3)
    snap = sim.snapshot()
    assert "untrained" in snap.confusion_note and snap.test_confusion.sum() == snap.n_test
    np.testing.assert_array_equal(snap.test_confusion,
                                  _hand_count(sim._yte, sim.net.predict(sim._Xte_raw[:, None]), 10))
    sim.advance(23)                                    # one epoch: 1438 images in batches of 64
    snap = sim.snapshot()
    after_one = snap.test_confusion.copy()
    assert snap.confusion_note == "after epoch 1"
    assert np.trace(after_one) / after_one.sum() == snap.epoch_test_acc[-1]
    np.testing.assert_array_equal(after_one, _hand_count(sim._yte, sim.net.predict(sim._Xte_raw[:, None]), 10))
    sim.advance(5)                                     # mid-epoch: still the end of epoch 1
    np.testing.assert_array_equal(sim.snapshot().test_confusion, after_one)
    sim.advance(10_000)
    snap = sim.snapshot()
    assert snap.phase == "ready" and snap.confusion_note == "after epoch 3"
    assert np.trace(snap.test_confusion) / snap.n_test == snap.epoch_test_acc[-1] == snap.test_accuracy


def test_watch_value_is_the_epoch_mean_training_loss_while_training():
    sim = FeatureVizSimulation()
    assert sim.watch_value() is None                  # shipped weights: the ascent phase
    sim.retrain()
    assert sim.watch_value() is None                  # no epoch finished yet
    sim.advance(44)
    assert sim.watch_value() is None and sim.snapshot().epoch_train_loss.size == 0
    sim.advance(1)                                    # 1438 images in batches of 32: 45 per epoch
    snap = sim.snapshot()
    assert snap.epochs_done == 1 and sim.watch_value() == snap.epoch_train_loss[-1]
    assert snap.epoch_train_loss[-1] == pytest.approx(np.average(snap.batch_loss, weights=[32] * 44 + [30]))
    sim.advance(7)
    assert sim.watch_value() == sim.snapshot().epoch_train_loss[-1] == snap.epoch_train_loss[-1]


def test_a_state_saved_without_the_confusion_matrix_still_loads():
    a = FeatureVizSimulation()
    state = a.get_state()
    for key in ("_confusion", "_confusion_note"):
        del state[key]
    b = FeatureVizSimulation(FeatureVizParams(target_class=4), seed=2)
    b.set_state(a.params, state)
    np.testing.assert_array_equal(b.snapshot().test_confusion, a.snapshot().test_confusion)


def test_training_that_ends_at_chance_says_so():
    from nnsim.engine.base import NOT_CONVERGED

    params = FeatureVizParams(pretrained=False, maps1=2, maps2=3, optimizer="sgd", lr=0.01, epochs=1, batch_size=64)
    sim = FeatureVizSimulation(params, seed=0)
    sim.net.set_optimizer("sgd", lr=1e-12)  # (below the form's range: the weights stay where He put them)
    sim.advance(10_000)
    acc = sim._test_acc
    assert acc <= 0.15, acc  # an untrained network guesses
    assert sim.status == NOT_CONVERGED and "chance level" in sim.message and f"{100 * acc:.1f} %" in sim.message
    good = FeatureVizSimulation(FeatureVizParams(pretrained=False, maps1=4, maps2=6, epochs=2, batch_size=64), seed=3)
    good.advance(10_000)
    assert good._test_acc > 0.3 and good.status == CONVERGED and "chance" not in good.message
