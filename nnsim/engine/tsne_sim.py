"""The t-SNE panel's simulation: :class:`TSNEParams` (every knob, with its help text),
:class:`TSNESnapshot` (what the views draw) and :class:`TSNESimulation` (one step = one iteration).

The simulation wraps :class:`nnsim.engine.tsne.TSNE` (the notebook API, in :mod:`nnsim.engine.tsne`,
whose kernels and formulas are in :mod:`nnsim.engine.tsne_kernels`) and takes its data from
:mod:`nnsim.engine.tsne_data`. These names are also importable from :mod:`nnsim.engine.tsne`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from nnsim.engine import tsne_data
from nnsim.engine.base import (DIVERGED, FINISHED, NOT_CONVERGED, RUNNING, ParamError, Params,
                               SimulationBase, Snapshot, param, report_progress)
from nnsim.engine.tsne import (KMAX, MAX_THRESHOLD_SPRINGS, TSNE, SpringSet, conditional_p, joint_p,
                               pca, squared_distances)

DATASETS = (("digits", "8×8 digits (scikit-learn)"), ("clusters", "Gaussian clusters in D dims"),
            ("file", "File: CSV / MNIST IDX"))
SPRING_MODES = (("topk", "k strongest, every point"), ("selected", "k strongest, clicked point"),
                ("threshold", "All above a force threshold"), ("off", "None"))
MIN_SIM_POINTS = 10


def _stage(lo: float, hi: float):
    """A progress callback for one stage of the set-up: its fraction 0..1 maps to lo..hi overall."""
    return lambda fraction, text: report_progress(lo + (hi - lo) * fraction, text)


def _fingerprint(data: tsne_data.VectorData, perplexity: float) -> int:
    """Identifies data and perplexity (so a view redraws its static parts exactly when they
    change); the same for equal data in any run or process."""
    h = hashlib.blake2b(digest_size=8)
    for arr in (data.X, data.labels):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(repr((data.class_names, float(perplexity), data.X.shape)).encode())
    return int.from_bytes(h.digest(), "little") >> 1


@dataclass(frozen=True)
class TSNEParams(Params):
    dataset: str = param(
        "digits", label="Data set", choices=DATASETS, group="Data",
        help="The vectors to embed. Digits: scikit-learn's bundled 8×8 images (64 pixel values, "
             "1797 images). Clusters: Gaussian clusters with known labels. File: a CSV of vectors "
             "(optional label column) or MNIST IDX files you have (File > Open data…).")
    n_points: int = param(
        500, label="Points N", lo=20, hi=3000, step=100, group="Data",
        help="A random subsample of N vectors (drawn with the seed); digits have 1797 in all. "
             "Exact t-SNE costs O(N²) per iteration.")
    n_clusters: int = param(5, label="Clusters", lo=2, hi=10, group="Data",
                            help="Gaussian clusters: how many (labels 0 … k−1).")
    dim: int = param(10, label="Dimensions D", lo=2, hi=1000, group="Data",
                     help="Gaussian clusters: dimension of the input space.")
    spread: float = param(
        0.3, label="Cluster spread", lo=0.01, hi=5.0, decimals=2, step=0.05, group="Data",
        help="Gaussian clusters: x = c_k + spread · N(0, I_D) with centres c_k ~ N(0, I_D); "
             "below about 0.5 the clusters are well separated.")
    perplexity: float = param(
        30.0, label="Perplexity", lo=5.0, hi=100.0, decimals=1, step=5.0, group="t-SNE",
        help="σᵢ is set per point by binary search so that 2^H(Pᵢ) = perplexity, "
             "H(Pᵢ) = −Σⱼ p_{j|i} log₂ p_{j|i}: the effective number of neighbours. "
             "Changing it recomputes P and restarts.")
    init: str = param(
        "pca", label="Initialization", group="t-SNE",
        choices=(("pca", "PCA (first 2 PCs, std 1e-4)"), ("random", "Random N(0, 1e-4 I)")),
        help="Step 1 of the lecture: the first two principal components (scaled to standard "
             "deviation 1e-4) or random points with standard deviation 1e-4 (drawn with the seed).")
    lr_auto: bool = param(
        True, label="Learning rate auto", live=True, group="t-SNE",
        help="η = max(N / α / 4, 50), α the early exaggeration (Belkina et al. 2019; "
             "scikit-learn's 'auto').")
    learning_rate: float = param(
        200.0, label="Learning rate η", lo=1.0, hi=10000.0, log=True, decimals=1, live=True,
        group="t-SNE", help="Used when 'auto' is off: Δ ← m Δ − η g ⊙ ∂C/∂y.")
    early_exaggeration: float = param(
        12.0, label="Early exaggeration α", lo=1.0, hi=100.0, decimals=1, live=True, group="t-SNE",
        help="P is multiplied by α during the first iterations, so clusters form before they settle "
             "(12 for 250 iterations as in scikit-learn; the 2008 paper used 4 for 50).")
    exaggeration_iters: int = param(
        250, label="Exaggeration iterations", lo=0, hi=10000, step=50, live=True, group="t-SNE",
        help="Early exaggeration applies to iterations 0 … this − 1.")
    momentum_start: float = param(0.5, label="Momentum, start", lo=0.0, hi=0.99, decimals=2,
                                  step=0.05, live=True, group="t-SNE",
                                  help="m in Δ ← m Δ − η g ⊙ ∂C/∂y before the switch.")
    momentum_final: float = param(0.8, label="Momentum, final", lo=0.0, hi=0.99, decimals=2,
                                  step=0.05, live=True, group="t-SNE",
                                  help="m from the switch on.")
    momentum_switch: int = param(250, label="Momentum switch at", lo=0, hi=10000, step=50,
                                 live=True, group="t-SNE", unit="it",
                                 help="Iteration from which the final momentum applies.")
    n_iter: int = param(1000, label="Iterations", lo=1, hi=1_000_000, step=100, live=True,
                        group="t-SNE", help="The run stops (finished) after this many iterations.")
    kl_every: int = param(10, label="KL every", lo=1, hi=1000, live=True, group="t-SNE", unit="it",
                          help="KL(P‖Q) needs a logarithm per pair; it is evaluated on the map every "
                               "this many iterations for the curve.")
    spring_mode: str = param(
        "topk", label="Springs shown", choices=SPRING_MODES, live=True, group="Springs",
        help="Each spring joins y_i and y_j; it attracts when p_ij > q_ij and repels when "
             "p_ij < q_ij, with force 4 |p_ij − q_ij| (1 + ‖y_i − y_j‖²)⁻¹ ‖y_i − y_j‖.")
    spring_k: int = param(3, label="Springs per point k", lo=1, hi=KMAX, live=True, group="Springs",
                          help="Each point's k strongest input affinities p_ij.")
    selected: int = param(
        -1, label="Clicked point", lo=-1, hi=10_000_000, live=True, hidden=True,
        help="The point whose springs the panel details (−1: none); its strongest repulsions are "
             "computed for it alone.")
    spring_threshold: float = param(
        0.05, label="Force threshold", lo=0.001, hi=1.0, log=True, decimals=3, live=True,
        group="Springs",
        help=f"'All above a threshold': every pair whose force is at least this fraction of the "
             f"strongest (at most {MAX_THRESHOLD_SPRINGS} springs, the strongest).")


@dataclass(frozen=True, eq=False, kw_only=True)
class TSNESnapshot(Snapshot):
    Y: np.ndarray                     # (N, 2) the map
    forces: np.ndarray                # (N, 2) net force -dC/dy_i on each point
    labels: np.ndarray                # (N,) codes 0..K-1 (shared, read-only)
    class_names: tuple
    X: np.ndarray                     # (N, D) inputs (shared, read-only)
    images: np.ndarray | None         # (N, h, w) or None (shared, read-only)
    pixel_range: tuple
    pca: np.ndarray                   # (N, 2) PCA scores of the same data (shared, read-only)
    pca_ratio: tuple                  # variance shares of PC1, PC2
    sigmas: np.ndarray                # (N,) sigma_i (shared, read-only)
    data_id: int                      # changes when the data (or P) change
    data_name: str
    perplexity: float                 # the perplexity in use
    entropy_error: float              # max |H(P_i) - log perplexity| in bits
    n_iter: int
    exaggeration: float               # alpha at the next iteration (1 when off)
    early_exaggeration: float
    exaggeration_iters: int
    momentum: float                   # m at the next iteration
    momentum_start: float
    momentum_final: float
    momentum_switch: int
    learning_rate: float              # eta in use
    Z: float                          # sum_{k != l} w_kl of this map
    grad_norm: float
    kl_iters: np.ndarray
    kl_values: np.ndarray
    springs: SpringSet                # each point to its k strongest input neighbours
    repulsions: SpringSet             # the selected point's k strongest repelling springs
    selected: int                     # the point they belong to (-1: none)
    threshold_springs: SpringSet | None
    spring_mode: str
    spring_k: int
    spring_threshold: float


class TSNESimulation(SimulationBase):
    """t-SNE for the panel: one step = one iteration of :class:`TSNE`.

    Data, distances, P and PCA are cached: Reset and a change of the initialization recompute
    nothing; a perplexity change recomputes P only; new data recompute everything.
    """

    params_class = TSNEParams
    kernel_modules = ("nnsim.engine.tsne",)
    #: the KL history grows with the run (see SimulationBase.check_state)
    state_growing = ("kl_iters", "kl_values")

    def check_state(self, state: dict) -> None:
        """As the base class; the KL history's iterations and values come in pairs."""
        from nnsim.engine.state import StateError

        super().check_state(state)
        if "kl_iters" in state and len(state["kl_iters"]) != len(state.get("kl_values", ())):
            raise StateError(f"state.kl_iters has {len(state['kl_iters'])} entries but state.kl_values "
                             f"{len(state.get('kl_values', ()))}: they come in pairs")

    def __init__(self, params: TSNEParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self._file_data: tsne_data.VectorData | None = None
        self._file_id = 0
        self._digits: tsne_data.VectorData | None = None
        self._cache: dict = {}
        self.tsne: TSNE | None = None
        self.reset(self.seed)

    def reset(self, seed: int) -> None:
        self._reset(seed)

    # ---- data
    def set_data(self, data: tsne_data.VectorData) -> None:
        """Use loaded vectors (dataset "file"); the run restarts with the same seed."""
        if not isinstance(data, tsne_data.VectorData):
            raise ParamError("set_data expects VectorData (see nnsim.engine.tsne_data)")
        self._file_data = data
        self._file_id += 1
        if self.params.dataset != "file":
            self.params = self.params.replace(dataset="file")
        self.reset(self.seed)

    def _data(self, seed: int):
        p = self.params
        rng = np.random.default_rng(seed)
        if p.dataset == "digits":
            if self._digits is None:
                self._digits = tsne_data.digits()
            n = min(p.n_points, self._digits.n)
            return ("digits", n, seed if n < self._digits.n else None), \
                lambda: tsne_data.subsample(self._digits, n, rng)
        if p.dataset == "clusters":
            n = max(p.n_points, p.n_clusters)
            return ("clusters", n, p.n_clusters, p.dim, p.spread, seed), \
                lambda: tsne_data.gaussian_clusters(n, p.n_clusters, p.dim, p.spread, rng)
        if self._file_data is None:
            return None, None
        n = min(p.n_points, self._file_data.n)
        return ("file", self._file_id, n, seed if n < self._file_data.n else None), \
            lambda: tsne_data.subsample(self._file_data, n, rng)

    def _reset(self, seed: int) -> None:
        self.seed = int(seed)
        self.step_count = 0
        self.tsne = None
        key, make = self._data(self.seed)
        if key is None:
            self._cache = {}
            self.status = NOT_CONVERGED
            self.message = ("No file loaded: open a CSV of vectors or an MNIST IDX images file "
                            "(File > Open data…), or choose another data set.")
            return
        c = self._cache
        # the panel's cover shows the progress of each stage (report_progress, worker thread)
        new_data = c.get("key") != key
        p_from = 0.38 if new_data else 0.0
        if new_data:
            report_progress(0.0, "Loading the data…")
            data = make()
            c.clear()
            c.update(key=key, data=data)
            if data.n >= MIN_SIM_POINTS:
                c["D"] = squared_distances(data.X, progress=_stage(0.02, 0.3))
                report_progress(0.3, f"PCA of the {data.n} inputs…")
                c["pca"], c["pca_ratio"] = pca(data.X)
                for arr in (c["pca"],):
                    arr.setflags(write=False)
        data = c["data"]
        n = data.n
        if n < MIN_SIM_POINTS:
            self.status = NOT_CONVERGED
            self.message = f"Only {n} points: t-SNE here needs at least {MIN_SIM_POINTS}."
            return
        perp = float(self.params.perplexity)
        note = ""
        if perp > (n - 1) / 2:
            perp = (n - 1) / 2
            note = (f"Perplexity lowered to {perp:g} for {n} points (it must stay well below "
                    f"N − 1 = {n - 1}). ")
        if c.get("perplexity") != perp:
            Pc, betas, err = conditional_p(c["D"], perp, progress=_stage(p_from, 0.9))
            c["P"] = joint_p(Pc, progress=_stage(0.9, 0.97))
            del Pc
            sig = np.sqrt(1.0 / (2.0 * betas))
            sig.setflags(write=False)
            c.update(perplexity=perp, betas=betas, sigmas=sig,
                     entropy_error=float(err.max()) / math.log(2.0),
                     data_id=_fingerprint(data, perp))
        p = self.params
        t = TSNE(perplexity=perp, early_exaggeration=p.early_exaggeration,
                 exaggeration_iters=p.exaggeration_iters,
                 learning_rate="auto" if p.lr_auto else p.learning_rate,
                 momentum=(p.momentum_start, p.momentum_final), init=p.init, seed=self.seed,
                 momentum_switch=p.momentum_switch, kl_every=p.kl_every)
        report_progress(0.97, "The initial map and its KL(P‖Q)…")
        t.prepare(data.X, P=c["P"], betas=c["betas"], pca_scores=c["pca"])
        self.tsne = t
        report_progress(1.0, "Ready")
        self._note = note
        self._update_status()

    # ---- experiments: the map and the optimizer's memory; P is recomputed (deterministic)
    def get_state(self) -> dict:
        t = self.tsne
        state = {"seed": self.seed, "step_count": self.step_count, "file_data": None}
        if self.params.dataset == "file" and self._cache.get("data") is not None:
            state["file_data"] = self._cache["data"]      # the vectors in use (a subsample)
        if t is not None:
            state.update(Y=t.Y.copy(), update=t._upd.copy(), gains=t._gains.copy(),
                         iteration=t.iteration, kl_iters=np.array(t._kl_it, np.int64),
                         kl_values=np.array(t._kl_val), diverged=bool(t.diverged),
                         grad_norm=float(t.grad_norm))
        return state

    def set_state(self, params: TSNEParams, state: dict) -> None:
        """Resume a saved run: the next iteration gives the numbers the saved run would have."""
        self.params = params.validate()
        try:
            seed, steps = int(state["seed"]), int(state["step_count"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("the saved t-SNE state needs an integer seed and step_count") from None
        data = state.get("file_data")
        if data is not None:
            if not isinstance(data, tsne_data.VectorData):
                raise ValueError("the saved t-SNE state holds data of an unknown kind")
            self._file_data = data
            self._file_id += 1
        self.reset(seed)
        t = self.tsne
        if t is not None and "Y" in state:
            n = t.Y.shape[0]
            for name in ("Y", "update", "gains"):
                if np.shape(state[name]) != (n, 2):
                    raise ValueError(f"the saved t-SNE state's {name} has shape "
                                     f"{np.shape(state[name])}, the data have {n} points")
            t.Y[...] = state["Y"]
            t._upd[...] = state["update"]
            t._gains[...] = state["gains"]
            t.iteration = int(state["iteration"])
            t._kl_it = [int(v) for v in state["kl_iters"]]
            t._kl_val = [float(v) for v in state["kl_values"]]
            t.diverged = bool(state["diverged"])
            t.grad_norm = float(state["grad_norm"])
            t.invalidate()
        self.step_count = steps
        self._update_status()

    # ---- stepping
    def apply_live(self) -> None:
        t, p = self.tsne, self.params
        if t is not None:
            t.early_exaggeration = float(p.early_exaggeration)
            t.exaggeration_iters = int(p.exaggeration_iters)
            t.momentum = (float(p.momentum_start), float(p.momentum_final))
            t.momentum_switch = int(p.momentum_switch)
            t.kl_every = int(p.kl_every)
            t.set_learning_rate("auto" if p.lr_auto else p.learning_rate)
        self._update_status()

    def step(self, n: int = 1) -> None:
        """Run n iterations (also past the iteration limit)."""
        n = int(n)
        if n < 0:
            raise ValueError("step count must be non-negative")
        if self.tsne is None or n == 0:
            return
        self.step_count += self.tsne.step(n)
        if self.step_count >= self.params.n_iter or self.tsne.diverged:
            self.tsne.record_kl()
        self._update_status()

    def advance(self, n: int) -> int:
        """Like step(n) but stops exactly at the iteration limit (status "finished")."""
        if self.tsne is None:
            return n
        if self.status == RUNNING:
            n = max(0, min(int(n), self.params.n_iter - self.step_count))
        before = self.step_count
        self.step(n)
        return self.step_count - before

    def _update_status(self) -> None:
        t = self.tsne
        if t is None:
            return
        if t.diverged:
            self.status = DIVERGED
            self.message = (f"The map diverged at iteration {t.iteration}: the gradient is no longer a "
                            "finite number. Lower the learning rate or the early exaggeration and "
                            "press Reset.")
        elif self.step_count >= self.params.n_iter:
            self.status = FINISHED
            past = (f" (now at {self.step_count}: Play goes on past the limit)"
                    if self.step_count > self.params.n_iter else "")
            self.message = (f"{self._note}Finished {self.params.n_iter} iterations{past}: "
                            f"KL(P‖Q) = {t._kl_val[-1]:.4f} at iteration {t._kl_it[-1]}. "
                            "Raise 'Iterations' to go on.")
        else:
            self.status = RUNNING
            self.message = self._note

    # ---- views
    def watch_value(self) -> float | None:
        """The latest KL(P‖Q) computed (every "KL every" iterations)."""
        t = self.tsne
        return float(t._kl_val[-1]) if t is not None and t._kl_val else None

    def snapshot(self) -> TSNESnapshot:
        p = self.params
        c = self._cache
        t = self.tsne
        if t is None:
            data = c.get("data")
            n = 0
            e2, e0, e1 = np.zeros((0, 2)), np.zeros(0), np.zeros(0, np.int64)
            return TSNESnapshot(
                step_count=self.step_count, status=self.status, message=self.message,
                Y=e2, forces=e2, labels=e1, class_names=data.class_names if data else (),
                X=np.zeros((0, data.dim if data else 1)), images=None, pixel_range=(0.0, 1.0),
                pca=e2, pca_ratio=(0.0, 0.0), sigmas=e0, data_id=-1 - n,
                data_name=data.name if data else "no data", perplexity=float(p.perplexity),
                entropy_error=0.0, n_iter=p.n_iter, exaggeration=1.0,
                early_exaggeration=p.early_exaggeration, exaggeration_iters=p.exaggeration_iters,
                momentum=p.momentum_start, momentum_start=p.momentum_start,
                momentum_final=p.momentum_final, momentum_switch=p.momentum_switch,
                learning_rate=float(p.learning_rate), Z=float("nan"), grad_norm=float("nan"),
                kl_iters=e1, kl_values=e0, springs=SpringSet.empty(),
                repulsions=SpringSet.empty(), selected=-1, threshold_springs=None,
                spring_mode=p.spring_mode, spring_k=p.spring_k, spring_threshold=p.spring_threshold)
        data = c["data"]
        F, Z = t.forces()
        springs = t.spring_set(p.spring_k, Z=Z)
        sel = p.selected if 0 <= p.selected < t.Y.shape[0] else -1
        repulsions = t.repelling_springs_of(sel, p.spring_k, Z=Z) if sel >= 0 \
            else SpringSet.empty()
        thr = t.spring_set(threshold=p.spring_threshold, Z=Z) if p.spring_mode == "threshold" \
            else None
        it, kl = t.kl_history_
        return TSNESnapshot(
            step_count=self.step_count, status=self.status, message=self.message,
            Y=t.Y.copy(), forces=F, labels=data.labels, class_names=data.class_names, X=data.X,
            images=data.images, pixel_range=data.pixel_range, pca=c["pca"],
            pca_ratio=tuple(float(v) for v in c["pca_ratio"]), sigmas=c["sigmas"],
            data_id=c["data_id"], data_name=data.name, perplexity=float(c["perplexity"]),
            entropy_error=c["entropy_error"], n_iter=p.n_iter,
            exaggeration=t.exaggeration_at(t.iteration), early_exaggeration=t.early_exaggeration,
            exaggeration_iters=t.exaggeration_iters, momentum=t.momentum_at(t.iteration),
            momentum_start=t.momentum[0], momentum_final=t.momentum[1],
            momentum_switch=t.momentum_switch, learning_rate=float(t.lr_), Z=Z,
            grad_norm=t.grad_norm, kl_iters=it, kl_values=kl, springs=springs,
            repulsions=repulsions, selected=sel,
            threshold_springs=thr, spring_mode=p.spring_mode, spring_k=p.spring_k,
            spring_threshold=p.spring_threshold)
