"""``watch_value()``: the number a "stop when it falls to a target" condition watches must be the
number the panel shows at that step (the runner's target test is in tests/gui/test_runner.py)."""

from __future__ import annotations

import numpy as np

from nnsim.engine.optimizers import OptimizerRaceParams, OptimizerRaceSimulation
from nnsim.engine.perceptron import PerceptronParams, PerceptronSimulation
from nnsim.engine.recurrent_sim import RecurrentParams, RecurrentSimulation
from nnsim.engine.tsne import TSNEParams, TSNESimulation


def test_perceptron_watches_the_errors_of_the_last_epoch():
    sim = PerceptronSimulation(PerceptronParams(dataset="xor"), 0)
    assert sim.watch_value() is None
    seen = []
    for _ in range(13):  # 3 epochs of 4 samples and one more sample
        sim.advance(1)
        seen.append(sim.watch_value())
    snap = sim.snapshot()
    assert len(snap.epoch_errors) == 3
    assert seen[:3] == [None] * 3 and seen[3] == snap.epoch_errors[0]
    assert seen[-1] == seen[-2] == float(snap.epoch_errors[-1])


def test_optimizer_race_watches_the_lowest_f_at_the_head():
    sim = OptimizerRaceSimulation(OptimizerRaceParams(), 0)
    for head in (0, 1, 7, 40):
        sim.advance(head - sim.step_count) if head > sim.step_count else None
        snap = sim.snapshot()
        finite = [float(l[head]) for l, d in zip(snap.losses, snap.diverged_at) if d < 0 and np.isfinite(l[head])]
        assert sim.watch_value() == min(finite)


def test_tsne_watches_the_latest_kl():
    sim = TSNESimulation(TSNEParams(dataset="clusters", n_points=120, kl_every=5), 0)
    sim.advance(23)
    snap = sim.snapshot()
    assert snap.kl_iters[-1] == 20 and sim.watch_value() == snap.kl_values[-1]


def test_recurrent_watches_the_smoothed_training_loss():
    sim = RecurrentSimulation(RecurrentParams(), 0)
    assert sim.watch_value() is None
    sim.advance(6)
    snap = sim.snapshot()
    assert sim.watch_value() == snap.loss_smooth[-1]
    # the smoothed curve is an exponential average of the raw minibatch losses
    assert not np.isclose(snap.loss_smooth[-1], snap.loss[-1])
    sim.set_params(sim.params.replace(mode="inspect"))
    assert sim.watch_value() is None
