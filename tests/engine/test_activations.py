"""Activations and losses: derivatives against finite differences, numba kernels against numpy,
and the course material's reference numbers (COURSE.md §5 rows 4–8)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnsim.engine import activations as act
from nnsim.engine import losses

RNG = np.random.default_rng(7)
Z = np.concatenate([RNG.normal(0, 3, 400), [-40.0, -19.5, -1e-9, 1e-9, 19.5, 40.0, 5.999, 6.001]])


@pytest.mark.parametrize("name", act.HIDDEN)
def test_derivative_matches_central_difference(name):
    z = RNG.uniform(-4, 7, 300)
    z = z[np.abs(z) > 1e-3]                 # stay off the kinks at 0 (and at 6 for relu6)
    z = z[np.abs(z - 6) > 1e-3]
    h = 1e-6
    num = (act.forward(name, z + h, 0.07, 1.3) - act.forward(name, z - h, 0.07, 1.3)) / (2 * h)
    np.testing.assert_allclose(act.derivative(name, z, 0.07, 1.3), num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", act.HIDDEN)
def test_numba_kernels_match_numpy(name):
    a = np.empty_like(Z)
    act.act_forward(act.act_id(name), Z, a, 0.05, 0.8)
    np.testing.assert_allclose(a, act.forward(name, Z, 0.05, 0.8), rtol=0, atol=4e-16 * max(1.0, np.abs(a).max()))
    g = RNG.normal(size=Z.size)
    expected = g * act.derivative(name, Z, 0.05, 0.8)
    act.act_backward(act.act_id(name), Z, a, g, 0.05, 0.8)
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-15)


def test_vectorized_exp_is_accurate_over_its_range():
    x = np.concatenate([np.linspace(-700, 700, 200001), RNG.uniform(-3, 3, 1000)])
    out, kb = np.empty_like(x), np.empty_like(x)
    act.exp_block(x, out, kb)
    assert np.max(np.abs(out - np.exp(x)) / np.exp(x)) < 3e-16


def test_kinks_and_special_values():
    z = np.array([-2.0, 0.0, 3.0, 7.0])
    assert act.forward("relu", z).tolist() == [0, 0, 3, 7]
    assert act.derivative("relu", z).tolist() == [0, 0, 1, 1]          # one-sided at the kink
    assert act.forward("leaky_relu", z, 0.1).tolist() == pytest.approx([-0.2, 0, 3, 7])
    assert act.derivative("leaky_relu", z, 0.1).tolist() == pytest.approx([0.1, 0.1, 1, 1])
    assert act.forward("relu6", z).tolist() == [0, 0, 3, 6]
    assert act.derivative("relu6", z).tolist() == [0, 0, 1, 0]
    # SELU: the standard constants (Klambauer et al. 2017); tends to −λα for z → −∞
    assert act.forward("selu", np.array([1.0]))[0] == pytest.approx(1.0507009873554805)
    assert act.forward("selu", np.array([-60.0]))[0] == pytest.approx(-1.0507009873554805 * 1.6732632423543772)
    # softplus is smooth and tends to relu
    assert act.forward("softplus", np.array([50.0, -50.0])) == pytest.approx([50.0, 0.0], abs=1e-20)


def test_sigmoid_and_tanh_derivatives_course_identities():
    """COURSE §5 row 4: S' = S(1 − S), tanh' = 1 − tanh²."""
    z = RNG.normal(0, 2, 50)
    s = act.forward("sigmoid", z)
    np.testing.assert_allclose(act.derivative("sigmoid", z), s * (1 - s), rtol=1e-14)
    np.testing.assert_allclose(act.derivative("tanh", z), 1 - np.tanh(z) ** 2, rtol=1e-14)


def test_softmax_tables_of_the_lecture():
    """COURSE §5 row 6 (the slides round to two decimals)."""
    for logits, printed in (([5, 4, 2], [0.71, 0.26, 0.04]), ([4, 2, 8], [0.02, 0.00, 0.98]),
                            ([4, 4, 1], [0.49, 0.49, 0.02])):
        p = act.forward("softmax", np.array(logits, float))
        assert np.round(p + 1e-12, 2).tolist() == printed
        assert p.sum() == pytest.approx(1.0)
    J = act.softmax_jacobian([5.0, 4.0, 2.0])
    p = act.forward("softmax", np.array([5.0, 4.0, 2.0]))
    np.testing.assert_allclose(J, np.diag(p) - np.outer(p, p))


def test_softmax_nll_gradient_is_y_minus_one_at_the_correct_class():
    """COURSE §5 rows 7–8: per-sample NLL −log p_correct; ∂C/∂v_j = y_j − 1 at the correct class."""
    z = np.array([[5.0, 4.0, 2.0], [4.0, 2.0, 8.0], [4.0, 4.0, 1.0]])
    Y = np.eye(3)[[0, 2, 1]]                            # cat, horse, dog
    nll = losses.per_sample("softmax", "cross_entropy", z, Y)
    p = act.forward("softmax", z)
    np.testing.assert_allclose(nll, -np.log(p[[0, 1, 2], [0, 2, 1]]), rtol=1e-14)
    g = losses.grad_z("softmax", "cross_entropy", z, Y)
    np.testing.assert_allclose(g[[0, 1, 2], [0, 2, 1]], p[[0, 1, 2], [0, 2, 1]] - 1)


def test_case_a_and_b_sigmoid_with_squared_error_slows_down():
    """COURSE §3.5 / §5 row 5: one sigmoid neuron, x = 1, d = 0: ∂L/∂w = 0.1219 (w x + b = 1.5) vs
    0.01735 (= 4) with ½(d − y)², although the error is larger in case B; cross-entropy gives y."""
    z = np.array([[1.5], [4.0]])
    d = np.zeros((2, 1))
    mse = losses.grad_z("sigmoid", "mse", z, d)[:, 0]          # x = 1, so ∂L/∂w = ∂L/∂z
    assert mse == pytest.approx([0.1219, 0.01735], abs=5e-5)
    ce = losses.grad_z("sigmoid", "cross_entropy", z, d)[:, 0]
    assert ce == pytest.approx([0.8176, 0.9820], abs=5e-5)


COMBOS = [(o, lo) for o in act.OUTPUTS for lo in losses.NAMES if not (o == "linear" and lo == "cross_entropy")]


@pytest.mark.parametrize("output,loss", COMBOS)
def test_loss_kernel_matches_numpy_and_stays_finite(output, loss):
    z = np.concatenate([RNG.normal(0, 2, (20, 3)), [[800.0, -800.0, 0.0], [-50.0, 40.0, 40.0]]])
    if output == "sigmoid":
        Y = (RNG.random(z.shape) < 0.5).astype(float)
    else:
        Y = np.eye(3)[RNG.integers(0, 3, len(z))]
    if output == "linear":
        z = np.clip(z, -50, 50)
    A, D = np.empty_like(z), np.empty_like(z)
    total = losses.output_loss(act.act_id(output), losses.loss_id(loss), z, A, Y, D, 1.0, True)
    ref = losses.per_sample(output, loss, z, Y)
    assert np.all(np.isfinite(ref)) and math.isfinite(total)
    assert total == pytest.approx(ref.sum(), rel=1e-13)
    np.testing.assert_allclose(A, act.forward(output, z), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(D, losses.grad_z(output, loss, z, Y), rtol=1e-10, atol=1e-14)


def test_losses_keep_relative_precision_when_tiny():
    """A confident correct prediction has a tiny loss; it must not be lost to cancellation."""
    z = np.array([[30.0, 0.0]])
    ce = losses.per_sample("softmax", "cross_entropy", z, [[1.0, 0.0]])[0]
    assert ce == pytest.approx(math.log1p(math.exp(-30.0)), rel=1e-14)
    bce = losses.per_sample("sigmoid", "cross_entropy", np.array([[35.0]]), [[1.0]])[0]
    assert bce == pytest.approx(math.log1p(math.exp(-35.0)), rel=1e-14)
    se = losses.per_sample("sigmoid", "mse", np.array([[30.0]]), [[1.0]])[0]
    assert se == pytest.approx(0.5 * (1 / (1 + math.exp(30.0))) ** 2, rel=1e-12)


def test_bad_combinations_are_refused():
    with pytest.raises(ValueError, match="cross-entropy"):
        losses.check_combination("linear", "cross_entropy")
    with pytest.raises(ValueError, match="unknown"):
        act.forward("swish", np.zeros(2))
