"""The knobs of the MLP panel's simulation (:class:`MLPParams`), declared once with their labels,
ranges and help texts (the formulas); see :mod:`nnsim.engine.mlp_sim` for what they do."""

from __future__ import annotations

from dataclasses import dataclass

from nnsim.engine import activations as act
from nnsim.engine import data2d, gradcheck
from nnsim.engine.base import Params, param
from nnsim.engine.mlp import INIT_LABELS, INITS
from nnsim.engine.optimizers import RULE_LABELS

MAX_RUNS = 6
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
OUTPUTS = (("softmax_ce", "softmax + cross-entropy"),
           ("sigmoid_mse", "sigmoid + ½Σ(y − ŷ)²"),
           ("sigmoid_ce", "sigmoid + binary CE"))
OUTPUT_PAIRS = {"softmax_ce": ("softmax", "cross_entropy"), "sigmoid_mse": ("sigmoid", "mse"),
                "sigmoid_ce": ("sigmoid", "cross_entropy")}
BUGS = (("none", "none (correct backprop)"),
        ("leaky_as_relu", "004: leaky fwd, ReLU bwd"))


def _lr(k: int, default: float):
    return param(default, label=f"η{'₁₂₃₄₅₆'[k - 1]} (run {k})", lo=1e-5, hi=100.0, live=True, log=True,
                 decimals=5, group="Learning rates (one run each)",
                 help=f"Learning rate of run {k}: with SGD θ ← θ − η ∂J/∂θ. (The course article writes "
                      "W ← W + η ∂J/∂W with a negative η, e.g. η = −0.2: the same step.) Applied live.")


@dataclass(frozen=True)
class MLPParams(Params):
    dataset: str = param("moons", label="Data set", choices=data2d.DATASETS, group="Data",
                         help="The 2-D points to classify. Spirals follow CS231n's notes (not in the "
                              "course material); the XOR truth table is the course article's task.")
    n_points: int = param(200, label="Number of points", lo=4, hi=2000, group="Data",
                          help="Points in all (training + test), shared evenly between the classes.")
    noise: float = param(0.15, label="Noise σ", lo=0.0, hi=1.0, decimals=2, step=0.05, group="Data",
                         help="Standard deviation of Gaussian noise added to each coordinate.")
    classes: int = param(3, label="Classes (clusters set)", lo=2, hi=6, group="Data",
                         help="Number of classes of the 'one Gaussian cluster per class' set.")
    spread: float = param(0.3, label="Cluster spread σ", lo=0.02, hi=2.0, decimals=2, step=0.05,
                          group="Data", help="Standard deviation of each blob (blobs and Gaussian clusters).")
    test_fraction: float = param(0.3, label="Test fraction", lo=0.0, hi=0.9, decimals=2, step=0.05,
                                 group="Data",
                                 help="Share of each class held out for testing (never trained on; "
                                      "used by early stopping). The XOR truth table has no test set.")
    standardize: bool = param(False, label="Standardize inputs", group="Data",
                              help="x ← (x − mean)/std per input, with the training set's statistics "
                                   "(also applied to test points and the plotted plane).")

    layers: int = param(2, label="Hidden layers", lo=0, hi=4, group="Network",
                        help="0 hidden layers: a single layer of output units (linear boundaries).")
    units: int = param(16, label="Units per layer", lo=1, hi=64, group="Network")
    hidden: str = param("tanh", label="Hidden activation φ", group="Network",
                        choices=tuple((n, act.LABELS[n]) for n in act.HIDDEN),
                        help="linear: the whole network is one affine map however many layers are "
                             "stacked, so every boundary is a straight line. SELU uses the standard "
                             "λ = 1.0507, α = 1.6733 (Klambauer et al. 2017).")
    slope: float = param(act.DEFAULT_SLOPE, label="Leaky ReLU slope a", lo=0.0, hi=1.0, decimals=3,
                         step=0.01, live=True, group="Network",
                         help="φ(z) = z if z > 0 else a·z. The course code uses a = 0.1; 0.01 is common.")
    elu_alpha: float = param(act.DEFAULT_ELU_ALPHA, label="ELU α", lo=0.0, hi=5.0, decimals=2, step=0.1,
                             live=True, group="Network", help="φ(z) = z if z ≥ 0 else α(e^z − 1).")
    output: str = param("softmax_ce", label="Output and loss", choices=OUTPUTS, group="Network",
                        help="Per sample: softmax with −Σ y_k log ŷ_k; or sigmoid units with "
                             "J = ½ Σ (y_k − ŷ_k)² (the course article's; one unit for two classes) "
                             "or with binary cross-entropy. The loss is the mean over the samples.")
    init: str = param("xavier", label="Initial weights", group="Network",
                      choices=tuple((n, INIT_LABELS[n]) for n in INITS),
                      help="Biases start at 0. Xavier: U(±√(6/(n_in + n_out))); He: N(0, 2/n_in); "
                           "uniform: U(±1/√n_in); normal: N(0, 1) as in the course code (004). "
                           "The seed fixes them: every run starts from the same weights.")

    optimizer: str = param("sgd", label="Update rule", group="Training",
                           choices=tuple((n, RULE_LABELS[n]) for n in OPTIMIZERS),
                           help="The shared rules of the optimizer panel (same code).")
    momentum: float = param(0.9, label="Momentum μ", lo=0.0, hi=0.999, decimals=3, live=True,
                            group="Training", help="Momentum and Nesterov: v ← μv − η g; θ ← θ + v.")
    batch: int = param(0, label="Batch size (0 = all)", lo=0, hi=4096, group="Training",
                       help="Samples per step: 0 or ≥ the training set = full batch (one step per "
                            "epoch); 1 = online (sample by sample). Batches follow a shuffled order "
                            "per epoch, the same for every run.")
    max_steps: int = param(2000, label="Steps (horizon)", lo=1, hi=1_000_000, live=True,
                           group="Training", help="Training pauses here (status 'finished'); Play goes on.")

    l2: float = param(0.0, label="L2 penalty λ₂", lo=0.0, hi=1.0, decimals=5, live=True,
                      group="Regularization",
                      help="J += (λ₂/2) Σ w² over the weights (biases excluded). The course's "
                           "(λ/2n) Σ w² with the loss summed over n samples is λ₂ = λ/n here.")
    l1: float = param(0.0, label="L1 penalty λ₁", lo=0.0, hi=1.0, decimals=5, live=True,
                      group="Regularization", help="J += λ₁ Σ |w| over the weights (biases excluded).")
    dropout: float = param(0.0, label="Dropout p", lo=0.0, hi=0.9, decimals=2, step=0.05, live=True,
                           group="Regularization",
                           help="Each hidden unit is dropped with probability p in every training "
                                "step; kept ones are scaled by 1/(1 − p) (inverted dropout), so at "
                                "test time nothing is scaled. (The slides' 'multiply by p' at test "
                                "time should read 1 − p, the retention probability.)")
    early_stop: bool = param(False, label="Early stopping", live=True, group="Regularization",
                             help="Keep the weights with the lowest test loss; stop a run after "
                                  "'patience' evaluations without improvement and restore them.")
    patience: int = param(20, label="Patience", lo=1, hi=100000, live=True,
                          group="Regularization",
                          help="Evaluations (of the test loss) without improvement before a run stops.")

    runs: int = param(4, label="Runs (copies)", lo=1, hi=MAX_RUNS, group="Learning rates (one run each)",
                      help="Copies of the same network from the same initial weights, trained in lock "
                           "step on the same batches; only η differs.")
    lr1: float = _lr(1, 0.01)
    lr2: float = _lr(2, 0.3)
    lr3: float = _lr(3, 3.0)
    lr4: float = _lr(4, 30.0)
    lr5: float = _lr(5, 0.1)
    lr6: float = _lr(6, 1.0)

    inspect: int = param(2, label="Run shown inside", lo=1, hi=MAX_RUNS, live=True,
                         group="Inside the network",
                         help="The run whose hidden units, network diagram, gradient check and "
                              "chain rule are shown.")
    eq_layer: int = param(1, label="Weight: layer l", lo=1, hi=5, live=True, group="Inside the network",
                          help="The weight explained by the chain rule: W⁽ˡ⁾[i, j] from unit i of "
                               "layer l − 1 (layer 0 = the inputs) to unit j of layer l. Click an "
                               "edge of the network diagram to choose it.")
    eq_from: int = param(1, label="from unit i", lo=1, hi=64, live=True, group="Inside the network")
    eq_to: int = param(1, label="to unit j", lo=1, hi=64, live=True, group="Inside the network")
    eq_sample: int = param(1, label="Sample n", lo=1, hi=2000, live=True, group="Inside the network",
                           help="The training sample whose numbers are shown in the chain rule.")
    grad_h: float = param(gradcheck.DEFAULT_H, label="Check step h", lo=1e-9, hi=1e-1,
                          log=True, decimals=9, live=True, group="Inside the network",
                          help="Centred difference (J(θ + h) − J(θ − h)) / 2h.")
    bug: str = param("none", label="Backprop bug (demo)", choices=BUGS, live=True,
                     group="Inside the network",
                     help="The course's code 004 runs a leaky ReLU forward (slope 0.1) but uses the "
                          "plain ReLU derivative (slope 0) backward. Gradient checking catches it.")

    def lrs(self) -> list[float]:
        return [float(getattr(self, f"lr{k}")) for k in range(1, self.runs + 1)]

    def output_pair(self) -> tuple[str, str]:
        return OUTPUT_PAIRS[self.output]
