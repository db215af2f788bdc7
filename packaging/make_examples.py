"""Regenerate resources/examples/*.nnsim: ready experiments that reproduce the course's figures
(reachable from File > Examples). Run after changing a simulation's state layout:

    .venv/bin/python packaging/make_examples.py
"""

from __future__ import annotations

from pathlib import Path

from nnsim import experiment as ex
from nnsim.panels import PANELS, panel_class

OUT = Path(__file__).resolve().parent.parent / "resources" / "examples"

#: file name → (panel key, preset name or parameter overrides, steps to run before saving)
EXAMPLES = {
    "01_Perceptron-XOR-never-converges": ("perceptron", "XOR: never converges", 0),
    "02_Perceptron-lecture-worked-example": ("perceptron", "Worked example (lecture 1): η = 1, fixed order", 0),
    "03_Perceptron-boundary-evolution": ("perceptron", "Boundary evolution (course article data)", 0),
    "04_Optimizers-SGD-vs-Adam-at-the-saddle": ("optimizers", "Saddle point: SGD stalls, adaptive methods escape", 0),
    "05_Optimizers-momentum-in-the-canyon": ("optimizers", "Canyon: momentum goes lengthwise", 0),
    "06_MLP-four-learning-rates": ("mlp", "Learning rate: too low / good / high / much too high (lecture 4)", 0),
    "07_MLP-overfitting": ("mlp", "Overfitting: 2 × 64 tanh units on 30 noisy training points", 0),
    "08_t-SNE-on-digits": ("tsne", {"preset": "Lecture: 500 digits, perplexity 30", "selected": 0}, 0),
    "09_LSTM-delayed-recall": ("lstm", "Delayed recall, L = 40: the plain RNN fails, the LSTM keeps f ≈ 1", 0),
    "10_CNN-activation-maximization-from-four-starts": ("actmax", 'Article: maximize "1" from the four starts (10 iterations)', 0),
}


def build(name: str, key: str, preset, steps: int) -> Path:
    cls = panel_class(key)
    if isinstance(preset, dict) and "preset" in preset:  # a preset plus extra overrides
        preset = {**cls.presets[preset["preset"]], **{k: v for k, v in preset.items() if k != "preset"}}
    overrides = cls.presets[preset] if isinstance(preset, str) else dict(preset)
    params = cls.params_class().replace(**overrides)
    probe = cls.__new__(cls)  # only for make_simulation; no widgets are built
    sim = cls.make_simulation(probe, params, 0)
    if steps:
        sim.step(steps)
    return ex.save(OUT / f"{name}.nnsim", ex.Experiment(panel=key, params=params.to_dict(), seed=0,
                                                        step_count=sim.step_count, state=sim.get_state()))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    known = {k for k, _, _ in PANELS}
    for name, (key, preset, steps) in EXAMPLES.items():
        if key in known:
            print("wrote", build(name, key, preset, steps))


if __name__ == "__main__":
    main()
