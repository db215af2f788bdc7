"""The MLP panel's simulation: 1 to 6 copies of one network that differ only in the learning rate,
trained in lock step on a 2-D data set, plus what the "inside the network" views need.

Every run starts from the same initial weights (drawn from the seed) and sees the same batches in
the same order and the same dropout masks (counter-based random numbers, see
:mod:`nnsim.engine.mlp_kernels`); one step is one batch for every run. After every evaluation
point (each step with full-batch training, otherwise once per epoch) the data loss and accuracy on
the training and test sets are recorded. A run whose loss becomes non-finite or explodes (above
``LOSS_EXPLODE`` × max(initial loss, 1)), or whose weights pass |θ_i| > 1e8, stops there and is
reported as "diverged at step N"; the others go on. Early stopping ends a run after ``patience``
evaluations without a lower test loss and restores the best weights (the course's lecture 7:
"the best suboptimum is selected finally").

Penalties: J = (1/m) Σ ℓ + (λ₂/2) Σ w² + λ₁ Σ |w| (weights only; "biases excluded"). The course
writes (λ/2n) Σ w² and (λ/n) Σ |w| next to a loss summed over n samples, which is the same thing
with our λ = its λ/n. The loss curves show the data loss only, so training and test are comparable.

The snapshot holds, for every run, the decision regions on a 150 × 150 grid and the confusion
matrices of the training and the test set (see :mod:`nnsim.engine.metrics`; both computed here, in
the worker thread, and only when the weights changed since the last snapshot), and for the inspected
run the hidden units' activation maps, the weights, dead units, the gradient-check report (on
request) and the chain rule for one chosen weight with its numbers.
"""

from __future__ import annotations


import numpy as np

from nnsim.engine import activations as act
from nnsim.engine import data2d, gradcheck, losses, metrics
from nnsim.engine import mlp_kernels as K
from nnsim.engine.datasets import user_points
from nnsim.engine.base import DIVERGED, FINISHED, NOT_CONVERGED, RUNNING, ParamError, SimulationBase
from nnsim.engine.mlp import THETA_LIMIT, forward_reference, init_params, targets
from nnsim.engine.mlp_inspect import (GradCheckReport, MLPRunView, MLPSnapshot, dead_units, explain_weight,
                                    unit_maps)
from nnsim.engine.mlp_params import MLPParams  # noqa: F401  (re-exported: the panel imports it here)
from nnsim.engine.optimizers import make_rule

GRID = 150               # decision-region heatmap resolution per axis
UNIT_GRID = 48           # hidden-unit map resolution
MAX_CURVE_POINTS = 1200  # curves sent to the views are thinned to at most this many points (≈ plot pixels)
LOSS_EXPLODE = 100.0


class _Run:
    """One copy of the network: parameters, update-rule state, records, stop state."""

    def __init__(self, index: int, theta0: np.ndarray, optimizer: str, hyper: dict):
        self.index = index
        self.theta = theta0.copy()
        self.rule = make_rule(optimizer, theta0.size, **hyper)
        self.status = "running"       # running | diverged | stopped
        self.steps = 0                # steps this run has taken
        self.diverged_at = -1
        self.stopped_at = -1
        self.es_state = np.array([np.inf, 0.0, 0.0])
        self.best = theta0.copy()
        self.rec_step = np.zeros(256, np.int64)
        self.rec_val = np.zeros((256, 4))
        self.n_rec = 0
        self.version = 0
        self.region_cache = None      # (key, classes, confidence)
        self.now_cache = None         # (key, (train loss, train acc, test loss, test acc))
        self.confusion_cache = None   # (key, (training-set matrix, test-set matrix))

    @property
    def lr(self) -> float:
        return float(self.rule.hyper["lr"])

    def set_rule(self, optimizer: str, hyper: dict) -> None:
        """New hyperparameters, same state (v, r, s and the step count t carry over)."""
        new = make_rule(optimizer, self.theta.size, **hyper)
        new.S[:] = self.rule.S
        new.t = self.rule.t
        self.rule = new

    def reserve(self, extra: int) -> None:
        need = self.n_rec + extra
        if need > len(self.rec_step):
            cap = max(need, 2 * len(self.rec_step))
            self.rec_step = np.concatenate([self.rec_step, np.zeros(cap - len(self.rec_step), np.int64)])
            self.rec_val = np.concatenate([self.rec_val, np.zeros((cap - len(self.rec_val), 4))])

    def record(self, step: int, values) -> None:
        self.reserve(1)
        self.rec_step[self.n_rec] = step
        self.rec_val[self.n_rec] = values
        self.n_rec += 1


class MLPSimulation(SimulationBase):
    """Lock-step learning-rate comparison of one MLP on 2-D data (see the module docstring)."""

    params_class = MLPParams
    kernel_modules = ("nnsim.engine.mlp",)

    def __init__(self, params: MLPParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self._user_X = np.empty((0, 2))
        self._user_labels = np.empty(0, np.int64)
        self._gradcheck: GradCheckReport | None = None
        self.reset(self.seed)

    # ---- data ----------------------------------------------------------------------------------
    def set_data(self, X, labels) -> None:
        """Switch to user points (data set "user"); the run is reset with the same seed."""
        self._user_X, self._user_labels = user_points(X, labels)
        if self.params.dataset != "user":
            self.params = self.params.replace(dataset="user")
        self.reset(self.seed)

    def _make_data(self):
        p = self.params
        if p.dataset == "user":
            return self._user_X.copy(), self._user_labels.copy()
        rng = np.random.default_rng([self.seed, 0])
        return data2d.make(p.dataset, rng, p.n_points, p.noise, p.spread, p.classes)

    def check_state(self, state: dict) -> None:
        """As the base class; the gradient check's report (None until one is run) must be one."""
        from nnsim.engine.state import StateError

        super().check_state(state)
        report = state.get("_gradcheck")
        if report is not None and not isinstance(report, GradCheckReport):
            raise StateError("state._gradcheck should be a gradient check's report or nothing")

    # ---- set-up --------------------------------------------------------------------------------
    def reset(self, seed: int) -> None:
        self.seed = int(seed)
        p = self.params
        X, labels = self._make_data()
        K_cls = max(2, int(labels.max()) + 1 if len(labels) else 2)
        frac = 0.0 if p.dataset == "xor4" else p.test_fraction
        tr, te = data2d.split(labels, frac, np.random.default_rng([self.seed, 1]))
        self._X, self._labels, self.n_classes = X, labels, K_cls
        self._Xtr_raw, self._ytr = X[tr], labels[tr]
        self._Xte_raw, self._yte = X[te], labels[te]
        if p.standardize and len(tr) > 1:
            mu, sd = self._Xtr_raw.mean(axis=0), self._Xtr_raw.std(axis=0)
            self._mu, self._sd = mu, np.where(sd > 0, sd, 1.0)
        else:
            self._mu, self._sd = np.zeros(2), np.ones(2)
        self._out, self._loss = p.output_pair()
        n_out = 1 if (self._out == "sigmoid" and K_cls == 2) else K_cls
        self.sizes = [2] + [int(p.units)] * int(p.layers) + [n_out]
        self._sizes = np.array(self.sizes, np.int64)
        self._woff, self._boff, self.n_params = K.layout(self.sizes)
        self._Xtr = np.ascontiguousarray(self._norm(self._Xtr_raw))
        self._Xte = np.ascontiguousarray(self._norm(self._Xte_raw))
        self._Ytr = np.ascontiguousarray(targets(self._ytr, n_out))
        self._Yte = np.ascontiguousarray(targets(self._yte, n_out))
        self._extent = _extent(X)
        gx = np.linspace(self._extent[0], self._extent[1], GRID)
        gy = np.linspace(self._extent[2], self._extent[3], GRID)
        GX, GY = np.meshgrid(gx, gy)
        self._grid = np.ascontiguousarray(self._norm(np.stack([GX.ravel(), GY.ravel()], axis=1)))
        ux = np.linspace(self._extent[0], self._extent[1], UNIT_GRID)
        uy = np.linspace(self._extent[2], self._extent[3], UNIT_GRID)
        UX, UY = np.meshgrid(ux, uy)
        self._unit_grid = np.ascontiguousarray(self._norm(np.stack([UX.ravel(), UY.ravel()], axis=1)))
        m = len(self._Xtr)
        self._B = int(p.batch) if 0 < p.batch < m else m
        self._eval_every = max(1, -(-m // self._B)) if m else 1
        theta0 = init_params(self.sizes, p.init, np.random.default_rng([self.seed, 2]))
        self._theta0 = theta0
        self._runs = [_Run(k, theta0, p.optimizer, self._hyper(lr)) for k, lr in enumerate(p.lrs())]
        self.step_count = 0
        self._gradcheck = None
        self._loss0 = np.nan
        if m:
            trl, tra, tel, tea = self._evaluate(theta0)
            self._loss0 = trl
            for r in self._runs:
                r.record(0, (trl, tel, tra, tea))
        self._update_status()

    def _norm(self, X):
        return (np.asarray(X, dtype=np.float64) - self._mu) / self._sd

    def _hyper(self, lr: float) -> dict:
        p = self.params
        hyper = {"lr": float(lr)}
        if p.optimizer in ("momentum", "nesterov"):
            hyper["momentum"] = float(p.momentum)
        return hyper

    def _ids(self):
        return act.act_id(self.params.hidden), act.act_id(self._out), losses.loss_id(self._loss)

    def _dslope(self) -> float:
        p = self.params
        return 0.0 if (p.bug == "leaky_as_relu" and p.hidden == "leaky_relu") else float(p.slope)

    def _evaluate(self, theta):
        h, o, lo = self._ids()
        p = self.params
        args = (theta, self._woff, self._boff, self._sizes, h, o, lo, float(p.slope), float(p.elu_alpha))
        trl, tra = K.evaluate(*args, self._Xtr, self._Ytr, self._ytr)
        tel, tea = K.evaluate(*args, self._Xte, self._Yte, self._yte)
        return trl, tra, tel, tea

    def apply_live(self) -> None:
        p = self.params
        for r, lr in zip(self._runs, p.lrs()):
            hyper = self._hyper(lr)
            if hyper != {k: r.rule.hyper[k] for k in hyper}:
                r.set_rule(p.optimizer, hyper)
        self._update_status()

    # ---- stepping ------------------------------------------------------------------------------
    def _active(self) -> list[_Run]:
        return [r for r in self._runs if r.status == "running"]

    def step(self, n: int = 1) -> None:
        """``n`` steps (batches) for every run still running, in lock step."""
        n = int(n)
        if n < 0:
            raise ValueError("step count must be non-negative")
        active = self._active()
        if n == 0 or not active or len(self._Xtr) == 0:
            self._update_status()
            return
        p = self.params
        h, o, lo = self._ids()
        fpar = np.zeros(K.N_FPAR)
        fpar[K.F_SLOPE], fpar[K.F_ALPHA], fpar[K.F_DSLOPE] = p.slope, p.elu_alpha, self._dslope()
        fpar[K.F_L2], fpar[K.F_L1], fpar[K.F_DROP] = p.l2, p.l1, p.dropout
        fpar[K.F_LOSS_LIMIT] = LOSS_EXPLODE * max(self._loss0, 1.0)
        fpar[K.F_THETA_LIMIT] = THETA_LIMIT
        ipar = np.zeros(K.N_IPAR, np.int64)
        ipar[K.I_BATCH] = self._B
        ipar[K.I_SHUFFLE] = 1
        ipar[K.I_SEED] = self.seed
        ipar[K.I_EVAL] = self._eval_every
        ipar[K.I_ES] = int(p.early_stop)
        ipar[K.I_PATIENCE] = p.patience
        step0 = self.step_count
        E = self._eval_every
        n_evals = (step0 + n) // E - step0 // E
        no_labels = np.empty(0)
        for r in active:
            r.reserve(n_evals)
            rec_step = r.rec_step[r.n_rec:r.n_rec + n_evals]
            rec_val = r.rec_val[r.n_rec:r.n_rec + n_evals]
            if not p.early_stop:
                r.es_state[:] = (np.inf, 0.0, 0.0)
            done, n_rec, code = K.train(
                r.theta, r.rule.S, r.rule.hp, r.rule.rid, r.rule.t, self._woff, self._boff, self._sizes,
                h, o, lo, fpar, ipar, self._Xtr, self._Ytr, self._ytr, self._Xte, self._Yte, self._yte,
                step0, n, rec_step, rec_val, no_labels, r.es_state, r.best)
            r.rule.t += done
            r.n_rec += n_rec
            r.steps = step0 + done
            if done:
                r.version += 1
            if code == K.DIVERGED:
                r.status = "diverged"
                r.diverged_at = r.steps = step0 + done + 1
            elif code == K.STOPPED:
                r.status = "stopped"
                r.stopped_at = step0 + done
                r.version += 1
        if self._active():
            self.step_count = step0 + n
        else:
            self.step_count = max(r.steps for r in self._runs)
        self._update_status()

    def advance(self, n: int) -> int:
        """Like ``step(n)`` but stops exactly at the horizon (or where the last run stopped)."""
        n = int(n)
        if n <= 0:
            return 0
        before = self.step_count
        if self.status == RUNNING:
            n = min(n, max(0, int(self.params.max_steps) - self.step_count))
        self.step(n)
        return self.step_count - before

    def _update_status(self) -> None:
        p = self.params
        if len(self._Xtr) == 0:
            self.status = NOT_CONVERGED
            self.message = ("No data points: choose a data set, click on a plot to add points, or "
                            "load a CSV file (x1, x2, label).")
            return
        div = [r for r in self._runs if r.status == "diverged"]
        stopped = [r for r in self._runs if r.status == "stopped"]
        div_text = "; ".join(f"η = {r.lr:g} diverged at step {r.diverged_at}" for r in div)
        if not self._active():
            if len(div) == len(self._runs):
                self.status = DIVERGED
                self.message = (f"Every run diverged ({div_text}): the loss exploded or the "
                                "weights passed 1e8. Lower the learning rates.")
            else:
                self.status = FINISHED
                self.message = "All runs stopped. " + self._summary()
        elif self.step_count >= p.max_steps:
            self.status = FINISHED
            self.message = f"Finished {self.step_count} steps. " + self._summary()
        else:
            self.status = RUNNING
            parts = []
            if div:
                parts.append(div_text + " (the others go on)")
            for r in stopped:
                parts.append(f"η = {r.lr:g} stopped early at step {r.stopped_at} "
                             f"(best test loss at step {int(r.es_state[1])})")
            self.message = "; ".join(parts) + ("." if parts else "")

    def _summary(self) -> str:
        parts = []
        for r in self._runs:
            if r.status == "diverged":
                parts.append(f"η = {r.lr:g}: diverged at step {r.diverged_at}")
                continue
            _, tra, _, tea = self._now(r)
            extra = (f" (stopped early at step {r.stopped_at}; weights of step {int(r.es_state[1])} "
                     "restored)" if r.status == "stopped" else "")
            test = f", test {100 * tea:.1f} %" if np.isfinite(tea) else ""
            parts.append(f"η = {r.lr:g}: training accuracy {100 * tra:.1f} %{test}{extra}")
        return "; ".join(parts) + "."

    # ---- notebook access -----------------------------------------------------------------------
    def initial_parameters(self) -> np.ndarray:
        """The flat initial parameter vector every run started from (a copy)."""
        return self._theta0.copy()

    def run_parameters(self, k: int) -> np.ndarray:
        """Run k's (1-based) current flat parameter vector (a copy; layout of mlp_kernels.layout)."""
        return self._runs[k - 1].theta.copy()

    def run_state(self, k: int) -> dict:
        """Run k's (1-based) state: status, steps, diverged_at, stopped_at, lr, update-rule state."""
        r = self._runs[k - 1]
        return {"status": r.status, "steps": r.steps, "diverged_at": r.diverged_at,
                "stopped_at": r.stopped_at, "best_step": int(r.es_state[1]), "lr": r.lr,
                "rule": r.rule.state()}

    # ---- on request (runner.invoke) ------------------------------------------------------------
    def _inspected(self) -> _Run:
        return self._runs[min(self.params.inspect, len(self._runs)) - 1]

    def _loss_fn(self, with_grad_slope: float | None = None):
        p = self.params
        h, o, lo = self._ids()
        dslope = self._dslope() if with_grad_slope is None else with_grad_slope

        def f(theta):
            return float(K.loss_and_grad(theta, np.empty(0), self._woff, self._boff, self._sizes, h, o, lo,
                                         p.slope, p.elu_alpha, dslope, self._Xtr, self._Ytr, p.l2, p.l1,
                                         False))

        def grad(theta):
            g = np.empty_like(theta)
            K.loss_and_grad(theta, g, self._woff, self._boff, self._sizes, h, o, lo, p.slope, p.elu_alpha,
                            dslope, self._Xtr, self._Ytr, p.l2, p.l1, True)
            return g
        return f, grad

    def check_gradients(self) -> GradCheckReport:
        """Backprop (as used in training, bug included) against centred differences, per layer, on
        the whole training set at the inspected run's current weights (no dropout)."""
        if len(self._Xtr) == 0:
            raise ParamError("No training points to check the gradients on.")
        p = self.params
        r = self._inspected()
        f, grad = self._loss_fn()
        theta = r.theta.copy()
        blocks = []
        for l in range(len(self.sizes) - 1):
            blocks.append((f"W{l + 1}", int(self._woff[l]), (self.sizes[l], self.sizes[l + 1])))
            blocks.append((f"b{l + 1}", int(self._boff[l]), (self.sizes[l + 1],)))
        checks = gradcheck.check(f, grad(theta), theta, blocks, h=float(p.grad_h), seed=self.seed)
        near = []
        if p.hidden in act.KINKED and len(self.sizes) > 2:
            Ws, bs = self._unpack(theta)
            zs, As = forward_reference(Ws, bs, self._Xtr, p.hidden, self._out, p.slope, p.elu_alpha)
            reach = 10.0 * p.grad_h
            for l in range(len(self.sizes) - 2):
                z = zs[l]
                scale = max(1.0, float(np.abs(As[l]).max()))
                kinks = np.abs(z) <= reach * scale
                if p.hidden == "relu6":
                    kinks |= np.abs(z - 6.0) <= reach * scale
                near.append(int(kinks.sum()))
        self._gradcheck = GradCheckReport(
            run=r.index + 1, lr=r.lr, step=r.steps, h=float(p.grad_h), blocks=tuple(checks),
            hidden=p.hidden, bug=self._dslope() != float(p.slope), near_kink=tuple(near),
            n_pre=tuple(len(self._Xtr) * s for s in self.sizes[1:-1]), m=len(self._Xtr))
        return self._gradcheck

    # ---- views ---------------------------------------------------------------------------------
    def _unpack(self, theta):
        Ws = [theta[o:o + a * b].reshape(a, b) for o, a, b in zip(self._woff, self.sizes[:-1], self.sizes[1:])]
        bs = [theta[o:o + b] for o, b in zip(self._boff, self.sizes[1:])]
        return Ws, bs

    def _plane(self, theta, X, keep: bool):
        """(classes, confidences, hidden activations) of the network on the grid points X."""
        p = self.params
        h, o, _ = self._ids()
        m = len(X)
        cls = np.empty(m, np.uint8)
        conf = np.empty(m, np.float32)
        H = np.empty((m, sum(self.sizes[1:-1])) if keep else (0, 0))
        K.plane(theta, self._woff, self._boff, self._sizes, h, o, float(p.slope), float(p.elu_alpha), X,
                keep, H, cls, conf)
        return cls, conf, H

    def _regions(self, r: _Run):
        p = self.params
        key = (r.version, p.slope, p.elu_alpha, p.hidden)
        if r.region_cache is None or r.region_cache[0] != key:
            cls, conf, _ = self._plane(r.theta, self._grid, False)
            r.region_cache = (key, cls.reshape(GRID, GRID), conf.reshape(GRID, GRID))
        return r.region_cache[1], r.region_cache[2]

    def _now(self, r: _Run):
        """Losses and accuracies at the run's current weights (after early stopping: the restored ones)."""
        p = self.params
        key = (r.version, p.slope, p.elu_alpha, p.hidden)
        if r.now_cache is None or r.now_cache[0] != key:
            r.now_cache = (key, self._evaluate(r.theta) if len(self._Xtr) else (np.nan,) * 4)
        return r.now_cache[1]

    def _predict(self, theta, X) -> np.ndarray:
        """The class the network names for each row of X (normalized inputs): argmax of ŷ, or
        ŷ > 0.5 for one sigmoid unit — the rule the kernels' accuracy uses."""
        if len(X) == 0:
            return np.zeros(0, np.int64)
        p = self.params
        Ws, bs = self._unpack(theta)
        with np.errstate(all="ignore"):     # a diverged run's weights overflow; it is marked anyway
            _, As = forward_reference(Ws, bs, X, p.hidden, self._out, p.slope, p.elu_alpha)
        return metrics.predicted_classes(As[-1])

    def _confusion(self, r: _Run):
        """(training, test) confusion matrices at the run's current weights (cached per weights)."""
        p = self.params
        key = (r.version, p.slope, p.elu_alpha, p.hidden)
        cache = getattr(r, "confusion_cache", None)     # (absent in runs saved by older versions)
        if cache is None or cache[0] != key:
            K_cls = self.n_classes
            tr = metrics.confusion_matrix(self._ytr, self._predict(r.theta, self._Xtr), K_cls)
            te = metrics.confusion_matrix(self._yte, self._predict(r.theta, self._Xte), K_cls)
            r.confusion_cache = (key, (tr, te))
        return r.confusion_cache[1]

    def watch_value(self) -> float | None:
        """The training loss a "stop when ≤ target" condition watches: the lowest last-recorded
        training loss (the loss curve's latest point) among the runs still running; when no run is
        running, among those that stopped early. None before the first step or when every run has
        diverged. (Only a look-up: the runner calls this after every step.)"""
        if self.step_count == 0 or len(self._Xtr) == 0:
            return None
        pool = self._active() or [r for r in self._runs if r.status == "stopped"]
        vals = [float(r.rec_val[r.n_rec - 1, 0]) for r in pool if r.n_rec]
        vals = [v for v in vals if np.isfinite(v)]
        return min(vals) if vals else None

    def _run_view(self, r: _Run) -> MLPRunView:
        n = r.n_rec
        idx = np.arange(n) if n <= MAX_CURVE_POINTS else np.unique(
            np.linspace(0, n - 1, MAX_CURVE_POINTS).astype(np.int64))
        vals = r.rec_val[idx]
        trl, tra, tel, tea = self._now(r)
        cls, conf = self._regions(r)
        cm_train, cm_test = self._confusion(r)
        return MLPRunView(
            index=r.index + 1, lr=r.lr, state=r.status, steps_done=r.steps, diverged_at=r.diverged_at,
            stopped_at=r.stopped_at, best_step=int(r.es_state[1]) if np.isfinite(r.es_state[0]) else -1,
            steps=r.rec_step[idx].copy(), train_loss=vals[:, 0].copy(), test_loss=vals[:, 1].copy(),
            train_acc=vals[:, 2].copy(), test_acc=vals[:, 3].copy(), train_loss_now=float(trl),
            test_loss_now=float(tel), train_acc_now=float(tra), test_acc_now=float(tea),
            region_class=cls, region_conf=conf, train_confusion=cm_train.copy(),
            test_confusion=cm_test.copy())

    def snapshot(self) -> MLPSnapshot:
        p = self.params
        r = self._inspected()
        Ws, bs = self._unpack(r.theta)
        H = self._plane(r.theta, self._unit_grid, True)[2]
        maps = unit_maps(H, self.sizes, UNIT_GRID,
                         dead_units(Ws, bs, self._Xtr, p.hidden, self._out, p.slope, p.elu_alpha))
        explanation = None
        if len(self._Xtr):
            explanation = explain_weight(Ws, bs, self._Xtr, self._Ytr, p, self._out, self._loss,
                                         self._dslope(), r.lr, r.index + 1)
        affine = None
        if p.hidden == "linear" and len(Ws) > 1:
            W_eff, b_eff = Ws[0], bs[0]
            for W, b in zip(Ws[1:], bs[1:]):
                W_eff, b_eff = W_eff @ W, b_eff @ W + b
            affine = (W_eff.copy(), b_eff.copy())
        z, phi, dphi = act.curve(p.hidden, slope=p.slope, alpha=p.elu_alpha)
        return MLPSnapshot(
            step_count=self.step_count, status=self.status, message=self.message,
            X_train=self._Xtr_raw.copy(), y_train=self._ytr.copy(), X_test=self._Xte_raw.copy(),
            y_test=self._yte.copy(), n_classes=self.n_classes, extent=self._extent, grid=GRID,
            runs=tuple(self._run_view(q) for q in self._runs), sizes=tuple(self.sizes), hidden=p.hidden,
            output=self._out, loss=self._loss, optimizer=p.optimizer, batch=self._B,
            eval_every=self._eval_every, max_steps=int(p.max_steps), inspect=r.index + 1,
            weights=tuple(W.copy() for W in Ws), biases=tuple(b.copy() for b in bs),
            unit_maps=maps[0], unit_layer=maps[1], unit_index=maps[2], unit_dead=maps[3],
            n_hidden_total=maps[4], act_curve=(z, phi, dphi), gradcheck=self._gradcheck,
            explanation=explanation, affine=affine, slope=float(p.slope), dropout=float(p.dropout),
            l2=float(p.l2), l1=float(p.l1), early_stop=bool(p.early_stop))


def _extent(X: np.ndarray) -> tuple[float, float, float, float]:
    """A square-ish view of the data with a 12 % margin (at least [−1, 1]² for empty data)."""
    if len(X) == 0:
        return (-1.5, 1.5, -1.5, 1.5)
    lo, hi = X.min(axis=0), X.max(axis=0)
    c, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 0.5) * 1.12
    return (float(c[0] - half), float(c[0] + half), float(c[1] - half), float(c[1] + half))


def warmup() -> None:
    """Compile the simulation's kernel paths (training with evaluation, early stopping, dropout)."""
    sim = MLPSimulation(MLPParams(dataset="gauss", n_points=12, layers=1, units=3, runs=2,
                                  early_stop=True, dropout=0.1, max_steps=5), seed=0)
    sim.step(3)
    sim.snapshot()
    sim.set_params(sim.params.replace(batch=2, optimizer="nesterov"))
    sim.step(2)
    sim.check_gradients()
