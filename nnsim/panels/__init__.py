"""The ordered registry of panels. Only panels that work are listed here.

Each entry is ``(key, title, "module:Class")``; modules are imported when a panel is first opened,
so start-up does not pay for panels nobody looks at.
"""

from __future__ import annotations

import importlib

PANELS: tuple[tuple[str, str, str], ...] = (
    ("perceptron", "Perceptron", "nnsim.panels.perceptron:PerceptronPanel"),
    ("optimizers", "Optimizers", "nnsim.panels.optimizers:OptimizerPanel"),
    ("mlp", "Multilayer perceptron", "nnsim.panels.mlp:MLPPanel"),
    ("tsne", "t-SNE springs", "nnsim.panels.tsne:TSNEPanel"),
    ("lstm", "LSTM gates", "nnsim.panels.lstm:LSTMPanel"),
    ("actmax", "Feature visualization", "nnsim.panels.actmax:FeatureVizPanel"),
)


def panel_class(key: str):
    for k, _title, target in PANELS:
        if k == key:
            module, cls = target.split(":")
            return getattr(importlib.import_module(module), cls)
    raise KeyError(f"no panel named {key!r}; known: {', '.join(k for k, _, _ in PANELS)}")
