"""The network diagram: hovering a unit shows its bias, hovering a line its weight; clicks pick it."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.widgets.network_diagram import NetworkDiagram, node_positions


@pytest.fixture
def diagram(qtbot):
    d = NetworkDiagram()
    qtbot.addWidget(d)
    d.resize(400, 400)
    rng = np.random.default_rng(0)
    sizes = (2, 3, 2)
    weights = [rng.normal(size=(2, 3)), rng.normal(size=(3, 2))]
    biases = [np.array([0.5, -1.25, 2.0]), np.array([0.125, -0.75])]
    d.set_network(sizes, weights, ["inputs", "hidden 1", "output"], n_classes=2, biases=biases)
    d.show()
    return d, weights, biases


def test_hovering_a_unit_shows_its_bias_output_bias_included(diagram):
    d, weights, biases = diagram
    ys = node_positions((2, 3, 2))
    assert "bias b = -1.25" in d.describe_at(1.0, ys[1][1]) and "hidden layer 1" in d.describe_at(1.0, ys[1][1])
    out = d.describe_at(2.0, ys[2][1])
    assert "output layer" in out and "bias b = -0.75" in out
    assert "input x2" in d.describe_at(0.0, ys[0][1])


def test_hovering_a_line_shows_its_weight_and_empty_space_nothing(diagram):
    d, weights, biases = diagram
    ys = node_positions((2, 3, 2))
    # the middle of the line from input 2 to hidden unit 3
    text = d.describe_at(0.5, (ys[0][1] + ys[1][2]) / 2)
    assert text.startswith(f"W⁽¹⁾[2, 3] = {weights[0][1, 2]:.6g}")
    assert d.describe_at(0.5, 5.0) is None
