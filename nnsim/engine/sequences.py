"""Generated sequence tasks for the recurrent networks (nothing is downloaded).

Every task makes minibatches ``x`` (T, B, n_in) with targets (T, B, n_out) and a mask (T, B) of the
steps where the loss counts; classification tasks also give integer labels (T, B) and are read out
with a softmax, regression tasks with a linear read-out.

* ``recall``, delayed recall: a value v ~ U[-1, 1] is shown at step 0 (input 0, with the marker
  input 1 set); then L steps of distractors ~ U[-noise, noise] on input 0 (marker 0); the target
  is v at the last step (T = L + 1). A network must store v for L steps and ignore the
  distractors: an LSTM can (input gate closed, forget gate near 1); a plain RNN's state is a
  product of L Jacobians and it fails for long delays (Hochreiter & Schmidhuber 1997, Bengio et
  al. 1994).
* ``adding``, the adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015):
  input 0 holds T numbers ~ U[0, 1], input 1 marks two of them (one in each half); the target at
  the last step is their sum. Predicting the mean 1 gives MSE 1/6.
* ``brackets``, counting brackets: a random string of "(" and ")" that never closes more than it
  opened (depth 0..5); the target at every step is the current nesting depth (a class 0..5);
  depth 0 means balanced so far. A cell can count: C grows by i*C~ on "(" and shrinks on ")".
* ``sine`` / ``sines``: the next value of a sine (random frequency in [0.2, 0.6] rad/step and
  phase) or of a sum of two sines, seen through Gaussian noise of standard deviation
  0.2 * noise; the target is the clean next value (counted from step 3 on).
* ``chars``: the next character of short English sentences from ``resources/sentences.txt``
  (lower-cased; one-hot inputs, softmax outputs), several of which carry a subject's gender from a
  name to a pronoun ("James ... he ...", "Maria ... she ..."): the lecture's example of what a
  cell state might keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

TASKS = (("recall", "Delayed recall"), ("adding", "Adding problem"),
         ("brackets", "Counting brackets"), ("sine", "Next value: noisy sine"),
         ("sines", "Next value: two sines"), ("chars", "Next character (sentences)"))
TASK_NAMES = tuple(name for name, _ in TASKS)

SENTENCES_PATH = Path(__file__).resolve().parents[2] / "resources" / "sentences.txt"
MAX_DEPTH = 5
SINE_WARMUP = 3


@dataclass(frozen=True, eq=False)
class SeqBatch:
    """A minibatch of sequences (time first)."""

    x: np.ndarray                  # (T, B, n_in)
    target: np.ndarray             # (T, B, n_out): values, or one-hot for classification
    mask: np.ndarray               # (T, B) bool: the loss counts here
    labels: np.ndarray | None      # (T, B) int classes (classification), else None
    tokens: tuple | None = None    # per sequence, the T input symbols as strings (text tasks)

    @property
    def T(self) -> int:
        return self.x.shape[0]

    @property
    def B(self) -> int:
        return self.x.shape[1]


class Task:
    """Base class: ``batch(rng, B)`` draws training data, ``examples(rng, n)`` fixed sequences to
    inspect (B = 1 each)."""

    name = "task"
    label = "Task"
    kind = "regression"            # or "classification"
    tol = 0.1                      # regression: |y - target| <= tol counts as correct
    input_names: tuple = ()
    output_names: tuple = ()

    def __init__(self, length: int, noise: float = 0.0):
        self.length = int(length)
        self.noise = float(noise)
        if self.length < 1:
            raise ValueError("length must be at least 1")

    @property
    def n_in(self) -> int:
        return len(self.input_names)

    @property
    def n_out(self) -> int:
        return len(self.output_names)

    @property
    def T(self) -> int:
        return self.length

    def batch(self, rng: np.random.Generator, B: int) -> SeqBatch:  # pragma: no cover - abstract
        raise NotImplementedError

    def examples(self, rng: np.random.Generator, n: int) -> list[SeqBatch]:
        """``n`` sequences to look at, each a batch of one."""
        big = self.batch(rng, n)
        return [_pick(big, k) for k in range(n)]

    def describe(self) -> str:
        return self.label


def _pick(b: SeqBatch, k: int) -> SeqBatch:
    return SeqBatch(x=b.x[:, k:k + 1].copy(), target=b.target[:, k:k + 1].copy(),
                    mask=b.mask[:, k:k + 1].copy(),
                    labels=None if b.labels is None else b.labels[:, k:k + 1].copy(),
                    tokens=None if b.tokens is None else (b.tokens[k],))


def _one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(labels.shape + (k,))
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out


class DelayedRecall(Task):
    name = "recall"
    label = "Delayed recall"
    input_names = ("value / distractor", "marker")
    output_names = ("recalled value",)
    tol = 0.1

    @property
    def T(self) -> int:
        return self.length + 1

    def batch(self, rng, B):
        T = self.T
        v = rng.uniform(-1.0, 1.0, B)
        x = np.zeros((T, B, 2))
        x[0, :, 0] = v
        x[0, :, 1] = 1.0
        x[1:, :, 0] = rng.uniform(-1.0, 1.0, (T - 1, B)) * self.noise
        target = np.zeros((T, B, 1))
        target[-1, :, 0] = v
        mask = np.zeros((T, B), bool)
        mask[-1] = True
        return SeqBatch(x, target, mask, None)

    def describe(self):
        return (f"Delayed recall: remember the value shown at t = 0 and output it at t = {self.T - 1} "
                f"after L = {self.length} distractors in [−{self.noise:g}, {self.noise:g}]; "
                f"correct if within ±{self.tol:g}.")


class Adding(Task):
    name = "adding"
    label = "Adding problem"
    input_names = ("number", "marker")
    output_names = ("sum",)
    tol = 0.04

    def __init__(self, length, noise=0.0):
        super().__init__(max(int(length), 2), noise)

    def batch(self, rng, B):
        T = self.T
        x = np.zeros((T, B, 2))
        x[:, :, 0] = rng.uniform(0.0, 1.0, (T, B))
        half = T // 2
        p1 = rng.integers(0, half, B)
        p2 = rng.integers(half, T, B)
        cols = np.arange(B)
        x[p1, cols, 1] = 1.0
        x[p2, cols, 1] = 1.0
        target = np.zeros((T, B, 1))
        target[-1, :, 0] = x[p1, cols, 0] + x[p2, cols, 0]
        mask = np.zeros((T, B), bool)
        mask[-1] = True
        return SeqBatch(x, target, mask, None)

    def describe(self):
        return (f"Adding problem: output the sum of the two marked numbers at t = {self.T - 1}; "
                f"correct if within ±{self.tol:g} (predicting 1 always gives MSE 1/6).")


class Brackets(Task):
    name = "brackets"
    label = "Counting brackets"
    kind = "classification"
    input_names = ("(", ")")
    output_names = tuple(f"depth {d}" for d in range(MAX_DEPTH + 1))

    def batch(self, rng, B):
        T = self.T
        u = rng.random((T, B))
        depth = np.zeros(B, np.int64)
        labels = np.empty((T, B), np.int64)
        opens = np.empty((T, B), bool)
        for t in range(T):
            op = np.where(depth == 0, True, np.where(depth == MAX_DEPTH, False, u[t] < 0.5))
            depth = depth + np.where(op, 1, -1)
            opens[t] = op
            labels[t] = depth
        x = np.zeros((T, B, 2))
        x[:, :, 0] = opens
        x[:, :, 1] = ~opens
        return SeqBatch(x, _one_hot(labels, MAX_DEPTH + 1), np.ones((T, B), bool), labels)

    def examples(self, rng, n):
        out = []
        for ex in super().examples(rng, n):
            tokens = (tuple("(" if o else ")" for o in ex.x[:, 0, 0] > 0.5),)
            out.append(SeqBatch(ex.x, ex.target, ex.mask, ex.labels, tokens))
        return out

    def describe(self):
        return (f"Counting brackets: after each of {self.T} symbols, say the nesting depth "
                f"(0–{MAX_DEPTH}; 0 = balanced so far).")


class Sine(Task):
    name = "sine"
    label = "Noisy sine"
    input_names = ("observed value",)
    output_names = ("next value",)
    tol = 0.1
    two = False

    def batch(self, rng, B):
        T = self.T
        t = np.arange(T + 1)[:, None]
        if self.two:
            w1, w2 = rng.uniform(0.15, 0.35, B), rng.uniform(0.5, 0.9, B)
            p1, p2 = rng.uniform(0, 2 * np.pi, B), rng.uniform(0, 2 * np.pi, B)
            s = 0.5 * np.sin(w1 * t + p1) + 0.5 * np.sin(w2 * t + p2)
        else:
            w, p = rng.uniform(0.2, 0.6, B), rng.uniform(0, 2 * np.pi, B)
            s = np.sin(w * t + p)
        x = (s[:-1] + 0.2 * self.noise * rng.standard_normal((T, B)))[:, :, None]
        mask = np.zeros((T, B), bool)
        mask[min(SINE_WARMUP, T - 1):] = True
        return SeqBatch(x, s[1:, :, None].copy(), mask, None)

    def describe(self):
        what = "a sum of two sines" if self.two else "a sine"
        return (f"Predict the next clean value of {what} seen through noise of std "
                f"{0.2 * self.noise:g}; correct if within ±{self.tol:g} (from t = {SINE_WARMUP}).")


class Sines(Sine):
    name = "sines"
    label = "Sum of two sines"
    two = True


def load_sentences(path: str | Path | None = None) -> list[str]:
    """The sentences of ``path`` (default ``resources/sentences.txt``): one per line, lower-cased,
    ``#`` comment lines and blank lines skipped."""
    path = Path(path) if path is not None else SENTENCES_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FileNotFoundError(f"cannot read the sentences for the next-character task from "
                                f"{path}: {exc.strerror or exc}") from None
    out = [ln.strip().lower() for ln in text.splitlines()]
    out = [ln for ln in out if ln and not ln.startswith("#")]
    if not out:
        raise ValueError(f"{path} contains no sentences")
    return out


class Chars(Task):
    name = "chars"
    label = "Next character"
    kind = "classification"

    def __init__(self, length, noise=0.0, sentences: list[str] | None = None):
        super().__init__(max(int(length), 2), noise)
        self.sentences = list(sentences) if sentences is not None else load_sentences()
        self.text = " ".join(self.sentences) + " "
        self.vocab = tuple(sorted(set(self.text)))
        self._index = {c: k for k, c in enumerate(self.vocab)}
        self._codes = np.array([self._index[c] for c in self.text], np.int64)
        shown = tuple("␣" if c == " " else c for c in self.vocab)
        self.input_names = shown
        self.output_names = shown
        if len(self.text) < self.T + 2:
            raise ValueError(f"the text has {len(self.text)} characters; the sequence length "
                             f"{self.T} needs at least {self.T + 2}")

    def encode(self, s: str) -> np.ndarray:
        return np.array([self._index[c] for c in s], np.int64)

    def _make(self, codes_in: np.ndarray, codes_out: np.ndarray, tokens: bool) -> SeqBatch:
        V = len(self.vocab)
        tok = (tuple(tuple(self.vocab[c] for c in codes_in[:, k]) for k in range(codes_in.shape[1]))
               if tokens else None)
        return SeqBatch(_one_hot(codes_in, V), _one_hot(codes_out, V),
                        np.ones(codes_in.shape, bool), codes_out, tok)

    def batch(self, rng, B):
        T = self.T
        start = rng.integers(0, len(self._codes) - T - 1, B)
        idx = start[None, :] + np.arange(T + 1)[:, None]
        codes = self._codes[idx]
        return self._make(codes[:-1], codes[1:], tokens=False)

    def examples(self, rng, n):
        """The sentences themselves (each followed by a space, so the last target exists)."""
        out = []
        for s in self.sentences[:n]:
            c = self.encode(s + " ")[:, None]
            out.append(self._make(c[:-1], c[1:], tokens=True))
        return out

    def describe(self):
        return (f"Next character: {len(self.sentences)} sentences, {len(self.vocab)} symbols; "
                f"training windows of {self.T} characters.")


_CLASSES = {"recall": DelayedRecall, "adding": Adding, "brackets": Brackets, "sine": Sine,
            "sines": Sines, "chars": Chars}


def make_task(name: str, length: int, noise: float = 0.0) -> Task:
    """A task by name (see :data:`TASKS`); ``length`` is the delay L for ``recall`` (T = L + 1) and
    the sequence length T otherwise; ``noise`` the distractor amplitude (recall) or the observation
    noise scale (sines)."""
    try:
        cls = _CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASK_NAMES)}") from None
    return cls(length, noise)
