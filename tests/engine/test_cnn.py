"""The CNN engine: the course's convolution numbers, gradients against finite differences, an
independent numpy forward pass, training on the digits, saving and loading."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine import cnn, digits, optimizers
from nnsim.engine.cnn import ConvNet


# ---- the course's worked examples (COURSE.md §5 rows 16, 18, 19, 20, 21, 23, 24, 26) -----------

def test_row16_full_1d_convolution():
    f, g = [0, 1, 2, 3, 4], [1, -1, 2]
    np.testing.assert_array_equal(cnn.convolve1d(f, g, "full"), [0, 1, 1, 3, 5, 2, 8])
    np.testing.assert_array_equal(cnn.convolve1d(f, g, "valid"), [1, 3, 5])
    np.testing.assert_array_equal(cnn.convolve1d(f, g, "full"), np.convolve(f, g, "full"))


def test_row18_2d_valid_convolution_flips_the_kernel():
    x = [[1, 3, 1], [0, -1, 1], [2, 2, -1]]
    k = [[1, 2], [0, -1]]
    np.testing.assert_array_equal(cnn.convolve2d(x, k), [[-2, -4], [6, 4]])
    # correlation does not flip: a different result, equal to the convolution with the flipped kernel
    np.testing.assert_array_equal(cnn.correlate2d(x, np.array(k)[::-1, ::-1]), [[-2, -4], [6, 4]])
    assert not np.array_equal(cnn.correlate2d(x, k), cnn.convolve2d(x, k))


def test_row19_binary_image_x_kernel_through_the_network_kernel():
    img = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
    k = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    out = cnn.correlate2d(img, k)  # 3x3 kernels go through the network's own conv kernel
    assert out[0, 0] == 4
    np.testing.assert_array_equal(out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    np.testing.assert_array_equal(cnn.convolve2d(img, k), out)  # symmetric kernel


def test_row20_output_size_formula_in_the_layout():
    for n, p in ((8, 0), (8, 1), (28, 0), (11, 1)):
        lay = cnn.layout((1, n, n), (2, 3), 0, 10, p)
        h1 = (n + 2 * p - 3) // 1 + 1
        h2 = (h1 + 2 * p - 3) // 1 + 1
        assert (lay[cnn._H1], lay[cnn._H2], lay[cnn._PH]) == (h1, h2, h2 // 2)


def test_row21_parameter_counts():
    assert cnn.conv_param_count(9, 1, 64) == 5248
    assert cnn.conv_param_count(9, 64, 256) == 1_327_360
    net = ConvNet(maps=(16, 32), hidden=0)
    F = 2 * 2 * 32
    assert net.n_params == cnn.conv_param_count(3, 1, 16) + cnn.conv_param_count(3, 16, 32) + (F + 1) * 10
    net = ConvNet(maps=(4, 5), hidden=7, padding=1)
    F = 4 * 4 * 5
    assert net.n_params == (cnn.conv_param_count(3, 1, 4) + cnn.conv_param_count(3, 4, 5)
                            + (F + 1) * 7 + (7 + 1) * 10)


def test_row23_max_pooling():
    x = [[1, 0, 2, 3], [4, 6, 6, 8], [3, 1, 1, 0], [1, 2, 2, 4]]
    pooled, _ = cnn.max_pool2d(x)
    np.testing.assert_array_equal(pooled, [[6, 8], [3, 4]])


def test_row24_max_unpooling_remembers_the_positions():
    x = [[1, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]]
    pooled, where = cnn.max_pool2d(x)
    np.testing.assert_array_equal(pooled, [[5, 6], [7, 8]])
    up = cnn.max_unpool2d([[1, 2], [3, 4]], where, (4, 4))
    np.testing.assert_array_equal(up, [[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]])


def test_row26_transposed_convolution_stride_2():
    out = cnn.transposed_conv2d([[1, 2], [3, 4]], np.ones((3, 3)), stride=2)
    np.testing.assert_array_equal(out, [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6],
                                        [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]])


# ---- gradients -----------------------------------------------------------------------------------

def _rel_err(a, b):
    return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12)


@pytest.mark.parametrize("hidden,padding", [(0, 0), (5, 1)])
def test_parameter_gradient_matches_finite_differences(hidden, padding):
    """Every block (conv 1, conv 2 through the pool router, dense layers) against central
    differences."""
    net = ConvNet(seed=3, in_shape=(1, 7, 7), maps=(3, 4), hidden=hidden, padding=padding)
    rng = np.random.default_rng(1)
    net.theta += 0.05 * rng.standard_normal(net.n_params)  # non-zero biases: no ReLU exactly at 0
    X = rng.random((4, 1, 7, 7))
    y = np.array([0, 3, 9, 2])
    _, g = net.loss_and_grad(X, y)
    h = 1e-6
    num = np.empty_like(g)
    for i in range(net.n_params):
        old = net.theta[i]
        net.theta[i] = old + h
        lp, _ = net.loss_and_grad(X, y)
        net.theta[i] = old - h
        lm, _ = net.loss_and_grad(X, y)
        net.theta[i] = old
        num[i] = (lp - lm) / (2 * h)
    for name, view in net.weights.items():
        a = view.ctypes.data - net.theta.ctypes.data
        s = slice(a // 8, a // 8 + view.size)
        assert _rel_err(g[s], num[s]) < 1e-6, name


@pytest.mark.parametrize("target", [(cnn.LOGITS, 0, 4), (cnn.PROBS, 0, 2), (cnn.CONV1, 1, 1),
                                    (cnn.RELU2, 1, 2), (cnn.POOL, 0, 5), (cnn.CONV2, 0, 7),
                                    (cnn.HIDDEN, 0, 3), (cnn.RELU1, 0, 10)])
def test_input_gradient_matches_finite_differences(target):
    net = ConvNet(seed=5, in_shape=(1, 8, 8), maps=(3, 4), hidden=6)
    net.theta += 0.05 * np.random.default_rng(2).standard_normal(net.n_params)
    x = np.random.default_rng(4).random((1, 8, 8))
    val, g, prob = cnn.input_value_and_grad(net, x, *target)
    np.testing.assert_allclose(prob, net.predict_proba(x[None])[0], rtol=1e-12)
    h = 1e-6
    num = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        num[idx] = (cnn.input_value_and_grad(net, xp, *target, want_grad=False)[0]
                    - cnn.input_value_and_grad(net, xm, *target, want_grad=False)[0]) / (2 * h)
    assert np.abs(g).max() > 0
    assert _rel_err(g, num) < 1e-6


# ---- an independent numpy forward pass -------------------------------------------------------------

def _numpy_forward(net: ConvNet, X):
    """Straightforward numpy: correlate with every kernel, ReLU, 2x2 max pool, dense, softmax."""
    w = net.weights
    p = net.padding

    def conv(a, W, b):  # a (m, C, H, W) channels-first, W (3, 3, C, O)
        a = np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))
        m, C, H, Wd = a.shape
        out = np.zeros((m, W.shape[3], H - 2, Wd - 2)) + b[None, :, None, None]
        for u in range(3):
            for v in range(3):
                out += np.einsum("mchw,co->mohw", a[:, :, u:u + H - 2, v:v + Wd - 2], W[u, v])
        return out

    a1 = conv(X, w["conv1_w"], w["conv1_b"])
    a2 = conv(np.maximum(a1, 0), w["conv2_w"], w["conv2_b"])
    r2 = np.maximum(a2, 0)
    m, C, H, W = r2.shape
    pool = r2[:, :, :H // 2 * 2, :W // 2 * 2].reshape(m, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))
    f = pool.transpose(0, 2, 3, 1).reshape(m, -1)  # the engine flattens channels-last
    if net.hidden:
        f = np.maximum(f @ w["hidden_w"] + w["hidden_b"], 0)
    z = f @ w["out_w"] + w["out_b"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return a1, a2, pool, z, e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("hidden,padding", [(0, 0), (9, 1)])
def test_forward_matches_plain_numpy(hidden, padding):
    net = ConvNet(seed=7, in_shape=(1, 9, 8), maps=(5, 6), hidden=hidden, padding=padding)
    X = np.random.default_rng(0).random((6, 1, 9, 8))
    acts = net.activations(X)
    a1, a2, pool, z, prob = _numpy_forward(net, X)
    np.testing.assert_allclose(acts["conv1"], a1, atol=1e-12)
    np.testing.assert_allclose(acts["relu2"], np.maximum(a2, 0), atol=1e-12)
    np.testing.assert_allclose(acts["pool"], pool, atol=1e-12)
    np.testing.assert_allclose(acts["logits"], z, atol=1e-12)
    np.testing.assert_allclose(net.predict_proba(X), prob, atol=1e-12)
    assert set(acts) == set(net.layer_names())
    for name in net.layer_names():
        assert acts[name].shape[1:] == net.layer_shape(name)


# ---- training --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digit_split():
    d = digits.load_digits()
    tr, te = digits.stratified_split(d.labels, 0.2, 1)
    return d.images[tr][:, None], d.labels[tr], d.images[te][:, None], d.labels[te]


def test_trained_net_is_above_97_percent_on_held_out_digits(digit_split):
    Xtr, ytr, Xte, yte = digit_split
    net = ConvNet(seed=0, maps=(16, 32), optimizer="adam", lr=0.003, batch_size=32)
    hist = net.fit(Xtr, ytr, epochs=12, X_val=Xte, y_val=yte)
    assert not hist["diverged"]
    assert hist["loss"][-1] < hist["loss"][0] / 5
    loss, acc = net.evaluate(Xte, yte)
    assert acc >= 0.97, acc
    assert np.mean(net.predict(Xte) == yte) == acc


def test_training_is_deterministic_and_uses_the_shared_rule(digit_split):
    Xtr, ytr, _, _ = digit_split
    a = ConvNet(seed=4, maps=(2, 3), optimizer="momentum", lr=0.05)
    b = ConvNet(seed=4, maps=(2, 3), optimizer="momentum", lr=0.05)
    a.fit(Xtr[:200], ytr[:200], epochs=2)
    b.fit(Xtr[:200], ytr[:200], epochs=2)
    np.testing.assert_array_equal(a.theta, b.theta)
    # one SGD batch is exactly θ − η ∇L
    net = ConvNet(seed=1, maps=(2, 3), optimizer="sgd", lr=0.1)
    Xi = net.to_internal(Xtr[:16])
    y = ytr[:16].astype(np.int64)
    before = net.theta.copy()
    _, g = net.loss_and_grad(Xtr[:16], y)
    net.train_batch(Xi, y, np.arange(16, dtype=np.int64))
    np.testing.assert_array_equal(net.theta, before - 0.1 * g)
    assert net.rule.t == 1 and isinstance(net.rule, optimizers.Rule)


def test_huge_learning_rate_is_reported_not_raised(digit_split):
    Xtr, ytr, _, _ = digit_split
    net = ConvNet(seed=0, maps=(2, 3), optimizer="sgd", lr=1e10)
    hist = net.fit(Xtr[:256], ytr[:256], epochs=5)
    assert hist["diverged"]
    assert len(hist["loss"]) < 5 or not np.isfinite(hist["loss"][-1])


def test_bad_inputs_are_refused_with_a_reason():
    net = ConvNet(maps=(2, 3))
    with pytest.raises(ValueError, match="shape"):
        net.predict_proba(np.zeros((2, 1, 9, 9)))
    with pytest.raises(ValueError, match="labels"):
        net.fit(np.zeros((2, 1, 8, 8)), [0, 12], epochs=1)
    with pytest.raises(ValueError, match="too small"):
        ConvNet(in_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="Hessian"):
        ConvNet(optimizer="newton")


def test_save_and_load_round_trip_and_clear_errors(tmp_path):
    net = ConvNet(seed=2, maps=(3, 5), hidden=4, padding=1)
    net.theta += 0.1
    path = tmp_path / "w.npz"
    net.save(path, test_accuracy=0.5)
    back = ConvNet.load(path)
    np.testing.assert_array_equal(back.theta, net.theta)
    assert back.config() == net.config() and float(back.meta["test_accuracy"]) == 0.5
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable"):
        ConvNet.load(bad)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.ones(3))
    with pytest.raises(ValueError, match="not an nnsim CNN weights file"):
        ConvNet.load(other)


def test_shipped_weights_reach_97_percent_on_the_held_out_split(digit_split):
    _, _, Xte, yte = digit_split
    net = ConvNet.load(cnn.PRETRAINED_DIGITS)
    assert net.config() == ConvNet(maps=(16, 32)).config()
    assert net.evaluate(Xte, yte)[1] >= 0.97


def test_scores_give_the_predictions_the_accuracy_counts(digit_split):
    _, _, Xte, yte = digit_split
    net = ConvNet.load(cnn.PRETRAINED_DIGITS)
    loss, acc, pred = net.scores(Xte, yte)
    assert (loss, acc) == net.evaluate(Xte, yte)
    *_, z, prob = _numpy_forward(net, Xte)                       # independent of the kernels
    np.testing.assert_array_equal(pred, np.argmax(z, axis=1))
    assert acc == np.mean(pred == yte)
    assert loss == pytest.approx(-np.mean(np.log(prob[np.arange(len(yte)), yte])), rel=1e-9)


def test_a_weights_file_that_would_inflate_hugely_is_refused_from_its_header(tmp_path):
    """An .npz member declaring 1.6 GB (compressed to a few MB) is refused before it is inflated."""
    import io
    import zipfile

    from nnsim.engine.cnn import ConvNet

    path = tmp_path / "bomb.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (200_000_000,)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("format.npy", _npy(np.array("nnsim-convnet-1")))
        with z.open("theta.npy", "w", force_zip64=True) as fh:
            fh.write(header.getvalue())
            chunk = bytes(8 << 20)
            for _ in range(4):  # (32 MB of zeros: the header claims 1.6 GB)
                fh.write(chunk)
    with pytest.raises(ValueError, match="header|unpacked"):
        ConvNet.load(path)


def _npy(a) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()
