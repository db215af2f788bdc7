"""Produce resources/cnn_digits.npz: the pre-trained 8x8-digits CNN the feature-visualization panel
opens with, so that a lecture starts at once.

Recipe (exactly what the panel's "Train from scratch" does with its default parameters, so the app
can always reproduce these weights): scikit-learn's 8x8 digits / 16, the fixed stratified split
(actmax.SPLIT_SEED = 1, 20 % = 359 test images held out), conv 3x3 x 16 → ReLU → conv 3x3 x 32 →
ReLU → max-pool 2x2 → dense 128 → 10 → softmax, no padding, He-normal initialization with seed 0,
Adam (η = 0.003, β1 0.9, β2 0.999, ε 1e-8), mini-batches of 32 in a seeded random order, 15 epochs.

    .venv/bin/python packaging/train_digits_cnn.py [--epochs 15] [--seed 0] [--out resources/cnn_digits.npz]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnsim.engine import actmax, cnn  # noqa: E402
from nnsim.engine.base import CONVERGED  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=actmax.FeatureVizParams().epochs)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=cnn.PRETRAINED_DIGITS)
    args = ap.parse_args(argv)
    params = actmax.FeatureVizParams(pretrained=False, epochs=args.epochs)
    sim = actmax.FeatureVizSimulation(params, seed=args.seed)
    t0 = time.perf_counter()
    while sim.status != CONVERGED:
        sim.advance(1000)
        if sim.status not in ("running", CONVERGED):
            print("training failed:", sim.message)
            return 1
    seconds = time.perf_counter() - t0
    snap = sim.snapshot()
    acc = snap.test_accuracy
    print(f"{args.epochs} epochs in {seconds:.1f} s; test accuracy {acc:.4f} on {snap.n_test} images; "
          f"train accuracy (last epoch) {snap.epoch_train_acc[-1]:.4f}")
    recipe = (f"8x8 digits/16, stratified split seed {actmax.SPLIT_SEED} test {actmax.TEST_FRACTION}; "
              f"maps {params.maps1},{params.maps2}, hidden {params.hidden}, padding {params.padding}; "
              f"He init seed {args.seed}; {params.optimizer} lr {params.lr} batch {params.batch_size}; "
              f"{args.epochs} epochs (packaging/train_digits_cnn.py)")
    sim.net.save(args.out, test_accuracy=acc, recipe=recipe, seed=args.seed,
                 hist_train_loss=snap.epoch_train_loss, hist_train_acc=snap.epoch_train_acc,
                 hist_test_loss=snap.epoch_test_loss, hist_test_acc=snap.epoch_test_acc,
                 hist_batch_loss=snap.batch_loss)
    back = cnn.ConvNet.load(args.out)
    assert np.array_equal(back.theta, sim.net.theta)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
