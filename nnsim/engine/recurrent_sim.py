"""The LSTM panel's simulation: train a recurrent network (and a comparison network) on a generated
sequence task, and inspect one sequence under the latest weights, one time step at a time.

Mode "train": one step = one minibatch update of both networks on the same minibatch (BPTT over
the whole sequences, optional gradient-norm clipping, the shared update rules of
:mod:`nnsim.engine.optimizers`). Mode "inspect": one step moves the time cursor along the shown
sequence. The snapshot carries the shown sequence's gates and states (and the products of the
lecture's four steps), the gradient flow ‖∂L_T/∂h_t‖ of both networks on a fixed probe batch, and
the training curves. The cells themselves are in :mod:`nnsim.engine.recurrent`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnsim.engine.base import DIVERGED, FINISHED, RUNNING, Params, SimulationBase, Snapshot, param
from nnsim.engine.optimizers import RULE_LABELS, RULES, make_rule
from nnsim.engine.recurrent import CELL_LABELS, CELLS, SequenceModel, make_cell, rule_grad
from nnsim.engine.sequences import TASKS, SeqBatch, make_task


_OPTIMIZERS = tuple((name, RULE_LABELS[name]) for name in RULES if name != "newton")
MODES = (("train", "Train (minibatch updates)"), ("inspect", "Inspect (time steps)"))
N_EXAMPLES = 16          # fixed sequences to inspect (the next-character task: every sentence)
PROBE_BATCH = 32         # fixed sequences for the gradient-flow plot
SMOOTH = 0.05            # EMA weight of the smoothed loss/accuracy curves


@dataclass(frozen=True)
class RecurrentParams(Params):
    task: str = param(
        "recall", label="Task", choices=TASKS, group="Task",
        help="Delayed recall: store the value shown at t = 0 for L steps of distractors. Adding "
             "problem: sum the two marked numbers. Brackets: count the nesting depth. Sines: "
             "predict the next value. Next character: short English sentences (resources/).")
    length: int = param(
        40, label="Delay L / length T", lo=1, hi=200, group="Task",
        help="Delayed recall: the delay L (the sequence has T = L + 1 steps). Other tasks: the "
             "sequence length T (for next character, the training windows).")
    noise: float = param(
        1.0, label="Noise", lo=0.0, hi=2.0, decimals=2, group="Task",
        help="Delayed recall: distractors ~ U[−noise, noise] after the value. Sines: Gaussian "
             "observation noise of standard deviation 0.2·noise. Not used by the other tasks.")
    cell: str = param(
        "lstm", label="Cell", choices=CELLS, group="Network",
        help="Plain RNN: h = tanh(W[h, x] + b). LSTM: i, f, o = σ(…), C̃ = tanh(…), "
             "C = f·C_prev + i·C̃, h = o·tanh C. Peepholes: the gates also see C. Coupled: "
             "C = f·C_prev + (1 − f)·C̃. GRU: r, z = σ(…), h̃ = tanh(W[r·h, x]), "
             "h = (1 − z)·h + z·h̃.")
    hidden: int = param(8, label="Hidden units H", lo=1, hi=128, group="Network",
                        help="Units of h (and of C for an LSTM).")
    compare: bool = param(
        True, label="Comparison network", group="Network",
        help="Also trains a plain RNN of the same size on the same minibatches (a standard LSTM "
             "when the cell is the plain RNN), for the loss, accuracy and gradient-flow plots.")
    forget_bias: float = param(
        1.0, label="Forget bias b_f at start", lo=-5.0, hi=10.0, decimals=2, group="Network",
        help="Initial b_f of the LSTM cells: f starts near σ(b_f) (1 → 0.73, 3 → 0.95), and the "
             "gradient through C shrinks like f^L over L steps. 1 is the usual choice (Gers et "
             "al. 2000, Jozefowicz et al. 2015); the course gives no value. For the GRU the "
             "update gate's bias starts at −b_f, so 1 − z (the share kept) starts at σ(b_f).")
    init_gain: float = param(
        1.0, label="Initial weight gain", lo=0.05, hi=5.0, decimals=2, group="Network",
        help="W ~ N(0, gain²/(H + n_in)). For the plain RNN the largest singular value of W_hh "
             "grows with the gain: above 1 gradients can explode, below 1 they vanish.")
    optimizer: str = param("adam", label="Optimizer", choices=_OPTIMIZERS, live=True,
                           group="Training",
                           help="The shared update rules (Optimizers panel); a change restarts "
                                "the rule's state, not the network.")
    lr: float = param(0.01, label="Learning rate η", lo=1e-5, hi=1.0, log=True, decimals=5,
                      live=True, group="Training", help="η of the update rule.")
    batch: int = param(32, label="Minibatch B", lo=1, hi=512, live=True, group="Training",
                       help="Sequences per update; BPTT runs over the whole sequences.")
    clip: float = param(
        1.0, label="Clip ‖g‖ at", lo=0.0, hi=1000.0, decimals=2, live=True,
        group="Training",
        help="g ← g·c/‖g‖ when ‖g‖ > c (Pascanu et al. 2013; the lecture: \"scale gradient if its "
             "norm is too big\"). 0 switches clipping off.")
    max_updates: int = param(1000, label="Pause after (updates)", lo=1, hi=10_000_000, live=True,
                             group="Training",
                             help="Play pauses here (status 'finished'); Play again goes on.")
    mode: str = param("train", label="A step is", choices=MODES, live=True, group="Inspection",
                      help="Train: each step is one minibatch update of the network(s). Inspect: "
                           "each step moves the time cursor by one step through the shown "
                           "sequence (the network stays as it is).")
    sequence: int = param(0, label="Sequence shown", lo=0, hi=63, live=True, group="Inspection",
                          help="Which fixed example is shown (next character: which sentence; "
                               "the index wraps around).")


@dataclass(frozen=True, eq=False, kw_only=True)
class RecurrentSnapshot(Snapshot):
    """The state the LSTM panel draws (arrays are copies)."""

    mode: str
    t: int                        # the time cursor (inspection)
    task: str
    task_text: str                # one-line description of the task
    kind: str                     # "regression" or "classification"
    input_names: tuple
    output_names: tuple
    tol: float
    cell: str                     # "rnn", "lstm", "peephole", "coupled", "gru"
    cell_label: str
    cmp_cell: str                 # "" without a comparison network
    cmp_label: str
    hidden: int
    # the shown sequence (B = 1) under the current weights
    sequence: int
    n_sequences: int
    x: np.ndarray                 # (T, n_in)
    target: np.ndarray            # (T, n_out)
    labels: np.ndarray | None     # (T,) classes (classification)
    mask: np.ndarray              # (T,) bool
    tokens: tuple | None          # (T,) input symbols (text tasks)
    y: np.ndarray                 # (T, n_out) outputs (probabilities for classification)
    y_cmp: np.ndarray | None
    named_arrays: tuple           # ((name, (T, H) array), ...): gates, states, the steps' products
    maps: tuple                   # (name, label, kind) of the heatmaps, kind gate/tanh/state
    # training
    updates: np.ndarray           # (n,) 1..n
    loss: np.ndarray              # (n,) minibatch loss per update
    acc: np.ndarray               # (n,) minibatch accuracy per update
    loss_smooth: np.ndarray
    acc_smooth: np.ndarray
    grad_norm: np.ndarray         # (n,) ‖g‖ before clipping
    cmp_loss: np.ndarray | None
    cmp_acc: np.ndarray | None
    cmp_loss_smooth: np.ndarray | None
    cmp_acc_smooth: np.ndarray | None
    cmp_grad_norm: np.ndarray | None
    cmp_diverged_at: int          # update at which the comparison network diverged, -1 if not
    # gradient flow on a fixed probe batch: ‖∂L_T/∂h_t‖ (and ‖∂L_T/∂C_t‖) against t
    flow_t: np.ndarray            # (T,)
    flow_h: np.ndarray
    flow_c: np.ndarray | None
    flow_cmp_h: np.ndarray | None
    flow_cmp_c: np.ndarray | None
    sigma_max: float              # largest singular value of the recurrent weights
    cmp_sigma_max: float
    n_params: int
    cmp_n_params: int
    #: after ``find_gender_units``: (update, ((unit, d), ...), n "he" sentences, n "she" ones,
    #: p = share of random splits of the same sentences whose largest |d| is as large)
    gender_units: tuple = ()

    @property
    def arrays(self) -> dict:
        """name -> (T, H) array (f, i, g, o, c, h, c_prev, fc, ig, tanh_c for an LSTM; r, z, g, h,
        h_prev, rh, keep, zg for a GRU; a, h, h_prev for a plain RNN)."""
        return dict(self.named_arrays)


class RecurrentSimulation(SimulationBase):
    """Trains a recurrent network (and a comparison network) on a generated task; inspects one
    sequence under the latest weights.

    Mode "train": one step = one minibatch update of both networks (same minibatch, BPTT over the
    whole sequences, optional gradient-norm clipping, the shared update rule). Mode "inspect":
    one step moves the time cursor one step along the shown sequence (wrapping around). Play
    pauses after ``max_updates`` updates (status "finished"); a NaN or inf in the loss, the
    gradient or the weights of the main network is the status "diverged" (the update is not
    applied); a diverging comparison network is frozen and reported.
    """

    params_class = RecurrentParams
    kernel_modules = ("nnsim.engine.recurrent",)
    state_growing = ("hist",)

    def __init__(self, params: RecurrentParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self.reset(self.seed)

    # ---- set-up ---------------------------------------------------------------------------------
    def reset(self, seed: int) -> None:
        self.seed = int(seed)
        p = self.params
        self._task = task = make_task(p.task, p.length, p.noise)
        readout = "softmax" if task.kind == "classification" else "linear"
        data_rng = np.random.default_rng([self.seed, 1])
        self._examples = task.examples(data_rng, N_EXAMPLES if p.task != "chars" else 10_000)
        self._probe = task.batch(data_rng, PROBE_BATCH)
        self._rng = np.random.default_rng([self.seed, 2])
        self.main = SequenceModel(self._cell(p.cell, 3), task.n_out, readout, seed=self.seed)
        self.cmp = None
        self._cmp_name = ""
        if p.compare:
            self._cmp_name = "lstm" if p.cell == "rnn" else "rnn"
            self.cmp = SequenceModel(self._cell(self._cmp_name, 5), task.n_out, readout,
                                     seed=self.seed + 1)
        self._rules = {}
        self._rule_key = None
        self._make_rules(keep_state=False)
        self._hist = np.zeros((0, 10))
        self._n = 0
        self._cmp_div = -1
        self._t = 0
        self._gender = ()
        self.step_count = 0
        self.status, self.message = RUNNING, ""

    def _cell(self, name: str, salt: int):
        p = self.params
        return make_cell(name, self._task.n_in, p.hidden, seed=[self.seed, salt],
                         forget_bias=p.forget_bias, init_gain=p.init_gain)

    def _make_rules(self, keep_state: bool) -> None:
        p = self.params
        key = (p.optimizer, p.lr)
        if key == self._rule_key:
            return
        old = self._rules
        self._rules = {}
        for name, model in (("main", self.main), ("cmp", self.cmp)):
            if model is None:
                continue
            rule = make_rule(p.optimizer, model.theta.size, lr=p.lr)
            prev = old.get(name)
            if keep_state and prev is not None and prev.name == p.optimizer:
                rule.S[...] = prev.S      # only the learning rate changed: keep the moments
                rule.t = prev.t
            self._rules[name] = rule
        self._rule_key = key

    def apply_live(self) -> None:
        self._make_rules(keep_state=True)
        self._t = min(self._t, self._example().T - 1)
        self._update_status()

    # ---- saving and resuming an experiment ---------------------------------------------------------
    def get_state(self) -> dict:
        """Everything a saved experiment needs to go on bit for bit: the weights, the update rules'
        moments, the training generator, the curves and the cursor (the tasks, examples and probe
        batch are rebuilt from the seed)."""
        rules = {k: {"S": r.S.copy(), "t": int(r.t)} for k, r in self._rules.items()}
        return {"seed": self.seed, "step_count": self.step_count,
                "main_theta": self.main.theta.copy(),
                "cmp_theta": None if self.cmp is None else self.cmp.theta.copy(),
                "rules": rules, "rng": self._rng.bit_generator.state,
                "hist": self._hist[:self._n].copy(), "cmp_diverged_at": self._cmp_div,
                "t": self._t, "status": self.status, "message": self.message,
                "gender": self._gender}

    def set_state(self, params: RecurrentParams, state: dict) -> None:
        """Resume a saved run: the next update gives the numbers the saved run would have."""
        self.params = params.validate()
        try:
            self.reset(int(state["seed"]))
            models = (("main", self.main), ("cmp", self.cmp))
            for name, model in models:
                saved = state[f"{name}_theta"]
                if (model is None) != (saved is None):
                    raise ValueError(f"the saved run {'has' if saved is not None else 'lacks'} a "
                                     "comparison network")
                if model is None:
                    continue
                saved = np.asarray(saved, dtype=np.float64)
                if saved.shape != model.theta.shape:
                    raise ValueError(f"{name} network: {saved.size} weights saved, "
                                     f"{model.theta.size} expected")
                model.theta[:] = saved
                rs = state["rules"][name]
                self._rules[name].S[...] = np.asarray(rs["S"], dtype=np.float64)
                self._rules[name].t = int(rs["t"])
            self._rng.bit_generator.state = state["rng"]
            hist = np.asarray(state["hist"], dtype=np.float64).reshape(-1, 10)
            self._hist, self._n = hist.copy(), len(hist)
            self.step_count = int(state["step_count"])
            self._cmp_div = int(state["cmp_diverged_at"])
            self._t = int(state["t"])
            self.status, self.message = str(state["status"]), str(state["message"])
            self._gender = tuple(state["gender"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"the saved LSTM-panel state is incomplete or damaged ({exc})") from None

    def _example(self) -> SeqBatch:
        return self._examples[self.params.sequence % len(self._examples)]

    def find_gender_units(self) -> None:
        """Next-character task: rank the units by how differently they behave, before the
        pronoun, in sentences with "he" and with "she" (the lecture's idea of a cell state that
        carries the subject's gender). Score per unit: d = (mean over the "he" sentences − mean
        over the "she" sentences) / pooled standard deviation of the unit's state (C for an LSTM,
        h otherwise) at the space just before the pronoun, where the next character (h or s)
        depends on the subject named earlier. The four largest |d| go into the snapshot as
        ``gender_units``, with a permutation p-value: the share of 1000 random he/she splits of
        the same sentences whose largest |d| over all units is at least as large (with 48 units
        and a dozen sentences, |d| near 1 happens by chance)."""
        if self.params.task != "chars":
            self._gender = ()
            return
        groups = {"he": [], "she": []}
        key = "c" if self.main.cell.kind == "lstm" else "h"
        for sent, ex in zip(self._task.sentences, self._examples):
            words = sent.replace(".", " ").replace(",", " ").split()
            has = [w for w in ("he", "she") if w in words]
            if len(has) != 1:
                continue
            pos = (" " + sent + " ").find(f" {has[0]} ")   # index of the pronoun in sent
            if pos < 2:
                continue
            tr, _ = self.main.forward(ex.x[:pos])     # up to the space before the pronoun
            groups[has[0]].append(tr[key][-1, 0])
        if not groups["he"] or not groups["she"]:
            self._gender = ()
            return
        a, b = np.array(groups["he"]), np.array(groups["she"])
        d = _effect_sizes(a, b)
        # how often does a random split of the same sentences give a largest |d| this big?
        allv = np.vstack([a, b])
        rng = np.random.default_rng(12345)
        hits = 0
        n_perm = 1000
        top = np.abs(d).max()
        for _ in range(n_perm):
            idx = rng.permutation(len(allv))
            if np.abs(_effect_sizes(allv[idx[:len(a)]], allv[idx[len(a):]])).max() >= top:
                hits += 1
        order = np.argsort(-np.abs(d))[:4]
        self._gender = (self.step_count, tuple((int(u), float(d[u])) for u in order),
                        len(a), len(b), (hits + 1) / (n_perm + 1))

    def set_time(self, t: int) -> None:
        """Put the inspection cursor on step ``t`` of the shown sequence (clamped)."""
        self._t = int(min(max(int(t), 0), self._example().T - 1))

    # ---- stepping -------------------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        n = int(n)
        if n < 0:
            raise ValueError("step count must be non-negative")
        if self.params.mode == "inspect":
            if n:
                self._t = (self._t + n) % self._example().T
            return
        for _ in range(n):
            if self.status == DIVERGED:
                break
            self._update()
        self._update_status()

    def advance(self, n: int) -> int:
        """Like ``step(n)``; in train mode it stops exactly at ``max_updates`` (status
        "finished") or at a divergence, so that Play pauses on that update."""
        n = int(n)
        if n <= 0:
            return 0
        if self.params.mode == "inspect" or self.status == DIVERGED:
            self.step(n)
            return n
        budget = self.params.max_updates - self.step_count
        if budget > 0:
            n = min(n, budget)
        for k in range(n):
            self._update()
            if self.status == DIVERGED:
                self._update_status()
                return k + 1
        self._update_status()
        return n

    def _train_one(self, model, rule, b, tol):
        loss, acc, grad, *_ = model.loss_and_grad(b.x, b.target, b.mask, b.labels, tol)
        norm = math.sqrt(float(np.einsum("i,i->", grad, grad)))   # (np.dot would thread OpenBLAS)
        if not (math.isfinite(loss) and math.isfinite(norm)):
            return loss, acc, norm, False
        c = self.params.clip
        if c > 0 and norm > c:
            grad *= c / norm
        rule.apply(model.theta, rule_grad(model, rule, grad, b, tol))
        return loss, acc, norm, bool(np.isfinite(model.theta).all())

    def _update(self) -> None:
        task = self._task
        b = task.batch(self._rng, self.params.batch)
        loss, acc, norm, ok = self._train_one(self.main, self._rules["main"], b, task.tol)
        if not ok:
            self.status = DIVERGED
            what = "loss" if not math.isfinite(loss) else (
                "gradient" if not math.isfinite(norm) else "weights")
            self.message = (f"Diverged at update {self.step_count + 1}: the {CELL_LABELS[self.params.cell]}'s "
                            f"{what} became NaN or infinite. Lower the learning rate or switch on "
                            "gradient clipping, then press Reset.")
            return
        row = np.full(10, np.nan)
        row[0], row[1], row[2] = loss, acc, norm
        if self.cmp is not None and self._cmp_div < 0:
            closs, cacc, cnorm, cok = self._train_one(self.cmp, self._rules["cmp"], b, task.tol)
            if cok:
                row[5], row[6], row[7] = closs, cacc, cnorm
            else:
                self._cmp_div = self.step_count + 1
        prev = self._hist[self._n - 1] if self._n else None
        for src, dst in ((0, 3), (1, 4), (5, 8), (6, 9)):
            if np.isnan(row[src]):
                continue
            last = prev[dst] if prev is not None and not np.isnan(prev[dst]) else row[src]
            row[dst] = (1 - SMOOTH) * last + SMOOTH * row[src]
        if self._n == len(self._hist):
            self._hist = np.concatenate([self._hist, np.full((max(256, self._n), 10), np.nan)])
        self._hist[self._n] = row
        self._n += 1
        self.step_count += 1

    def _update_status(self) -> None:
        if self.status == DIVERGED:
            return
        p = self.params
        if p.mode == "train" and self.step_count == p.max_updates:
            self.status = FINISHED
            self.message = self._summary()
        else:
            self.status = RUNNING
            self.message = ""
        if self._cmp_div >= 0:
            note = (f"The comparison {CELL_LABELS[self._cmp_name]} diverged at update "
                    f"{self._cmp_div} (NaN or inf) and was stopped there.")
            self.message = (self.message + " " + note).strip()

    def _summary(self) -> str:
        k = min(self._n, 50)
        if k == 0:
            return ""
        h = self._hist[self._n - k:self._n]
        unit = f"within ±{self._task.tol:g}" if self._task.kind == "regression" else "correct"
        text = (f"Paused after {self.step_count} updates (Play goes on). Last {k} updates: "
                f"{CELL_LABELS[self.params.cell]} loss {np.mean(h[:, 0]):.4g}, "
                f"{100 * np.mean(h[:, 1]):.0f} % {unit}")
        if self.cmp is not None and not np.isnan(h[:, 5]).all():
            text += (f"; {CELL_LABELS[self._cmp_name]} loss {np.nanmean(h[:, 5]):.4g}, "
                     f"{100 * np.nanmean(h[:, 6]):.0f} %")
        return text + "."

    # ---- views ------------------------------------------------------------------------------------
    def _inspect(self, ex: SeqBatch):
        kind = self.main.cell.kind
        tr, y = self.main.forward(ex.x)
        a = {k: np.array(v[:, 0]) for k, v in tr.items()}
        H = self.params.hidden
        if kind == "lstm":
            a["c_prev"] = np.vstack([np.zeros((1, H)), a["c"][:-1]])
            a["fc"] = a["f"] * a["c_prev"]
            a["ig"] = a["i"] * a["g"]
            maps = (("f", "f forget", "gate"), ("i", "i input", "gate"),
                    ("g", "C̃ update", "tanh"), ("o", "o output", "gate"),
                    ("c", "C state", "state"), ("h", "h output", "tanh"))
        elif kind == "gru":
            a["h_prev"] = np.vstack([np.zeros((1, H)), a["h"][:-1]])
            a["keep"] = (1.0 - a["z"]) * a["h_prev"]
            a["zg"] = a["z"] * a["g"]
            maps = (("r", "r reset", "gate"), ("z", "z update", "gate"),
                    ("g", "h̃ candidate", "tanh"), ("h", "h state", "tanh"))
        else:
            a["h_prev"] = np.vstack([np.zeros((1, H)), a["h"][:-1]])
            maps = (("a", "a pre-act.", "state"), ("h", "h state", "tanh"))
        y_cmp = self.cmp.forward(ex.x)[1][:, 0].copy() if self.cmp is not None else None
        return a, maps, y[:, 0].copy(), y_cmp

    def _flow(self, model):
        if model is None:
            return None, None
        pb = self._probe
        with np.errstate(all="ignore"):
            fl = model.gradient_flow(pb.x, pb.target, pb.mask, pb.labels)
        return fl["h"], fl.get("c")

    def watch_value(self) -> float | None:
        """The main network's smoothed training loss (the bold loss curve), in train mode."""
        if self.params.mode != "train" or self._n == 0:
            return None
        return float(self._hist[self._n - 1, 3])

    def snapshot(self) -> RecurrentSnapshot:
        p = self.params
        task = self._task
        ex = self._example()
        self._t = min(self._t, ex.T - 1)
        with np.errstate(all="ignore"):
            arrays, maps, y, y_cmp = self._inspect(ex)
        fh, fc = self._flow(self.main)
        gh, gc = self._flow(self.cmp)
        h = self._hist[:self._n]
        has_cmp = self.cmp is not None

        def col(k):
            return h[:, k].copy()

        return RecurrentSnapshot(
            step_count=self.step_count, status=self.status, message=self.message,
            mode=p.mode, t=self._t, task=p.task, task_text=task.describe(), kind=task.kind,
            input_names=tuple(task.input_names), output_names=tuple(task.output_names),
            tol=task.tol, cell=p.cell, cell_label=CELL_LABELS[p.cell], cmp_cell=self._cmp_name,
            cmp_label=CELL_LABELS.get(self._cmp_name, ""), hidden=p.hidden,
            sequence=p.sequence % len(self._examples), n_sequences=len(self._examples),
            x=ex.x[:, 0].copy(), target=ex.target[:, 0].copy(),
            labels=None if ex.labels is None else ex.labels[:, 0].copy(),
            mask=ex.mask[:, 0].copy(), tokens=None if ex.tokens is None else tuple(ex.tokens[0]),
            y=y, y_cmp=y_cmp, named_arrays=tuple(arrays.items()), maps=maps,
            updates=np.arange(1, self._n + 1), loss=col(0), acc=col(1), loss_smooth=col(3),
            acc_smooth=col(4), grad_norm=col(2),
            cmp_loss=col(5) if has_cmp else None, cmp_acc=col(6) if has_cmp else None,
            cmp_loss_smooth=col(8) if has_cmp else None, cmp_acc_smooth=col(9) if has_cmp else None,
            cmp_grad_norm=col(7) if has_cmp else None, cmp_diverged_at=self._cmp_div,
            flow_t=np.arange(self._probe.T), flow_h=fh, flow_c=fc, flow_cmp_h=gh, flow_cmp_c=gc,
            sigma_max=_sigma(self.main), cmp_sigma_max=_sigma(self.cmp),
            n_params=self.main.theta.size, cmp_n_params=self.cmp.theta.size if has_cmp else 0,
            gender_units=self._gender)


def _effect_sizes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per column: (mean a − mean b) / pooled standard deviation (Cohen's d)."""
    pooled = np.sqrt((a.var(axis=0, ddof=1) + b.var(axis=0, ddof=1)) / 2) + 1e-12
    return (a.mean(axis=0) - b.mean(axis=0)) / pooled


def _sigma(model) -> float:
    if model is None:
        return float("nan")
    with np.errstate(all="ignore"):
        try:
            return model.cell.recurrent_sigma_max()
        except np.linalg.LinAlgError:
            return float("nan")
