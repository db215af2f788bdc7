"""Exact t-SNE with the springs view: the notebook API and the plain functions.

:class:`TSNE` embeds data (``fit``), also steps (``prepare``/``step``) and reports the springs and
the net forces of the current map. The plain functions (:func:`squared_distances`,
:func:`conditional_p`, :func:`joint_p`, :func:`kl_divergence`, :func:`gradient`, :func:`pca`,
:func:`initial_map`) take and return numpy arrays. Every kernel call goes through :class:`_Guard`,
which sets the thread count.

The rest of t-SNE lives next to this module:

* :mod:`nnsim.engine.tsne_kernels`: the numba kernels and the math they compute (affinities and the
  perplexity calibration, gradient, KL, optimizer, spring forces);
* :mod:`nnsim.engine.tsne_sim`: the panel's :class:`TSNEParams`, :class:`TSNESnapshot` and
  :class:`TSNESimulation` (one step = one iteration), also importable from here;
* :mod:`nnsim.engine.tsne_data`: the data sets (digits, Gaussian clusters, CSV / MNIST files).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from nnsim.engine.base import progress_to, report_progress
from nnsim.engine.tsne_kernels import (  # noqa: F401  (all re-exported: they lived here before)
    _FM, MIN_GAIN, _calibrate, _collect_pairs, _force_bin, _force_hist, _force_max,
    _force_row_hist, _force_row_max, _grad_pass, _kl_pass, _kl_row, _optimize, _p_log_p,
    _pair_forces, _par, _row_entropy, _sq_distances, _symmetrize, _top_neighbours, _top_repulsive)

KMAX = 10                 # springs per point: the k <= KMAX strongest input neighbours
ENTROPY_TOL = 1e-8        # nats; the perplexity calibration target
MAX_THRESHOLD_SPRINGS = 4000


# numba's workqueue threading layer (used when neither OpenMP nor TBB is available) must not be
# entered from two threads at once; with it, parallel kernels are serialized by this lock.
_LOCK = threading.RLock()
_LAYER: list[str] = []
#: below this many points one thread is used: a parallel region per iteration then costs more in
#: synchronisation than it saves, and it leaves the second core to the GUI
PARALLEL_MIN_N = 700


class _Guard:
    """Around every kernel call: the thread count for problem size ``n`` (restored afterwards;
    numba's setting is per calling thread) and, with the workqueue layer, a lock."""

    def __init__(self, n: int | None = None, threads: int | None = None):
        self.n = n
        self.threads = threads

    def __enter__(self):
        import numba

        if not _LAYER:
            try:
                _LAYER.append(numba.threading_layer())
            except ValueError:        # no parallel kernel has run yet: be safe
                pass
        self.locked = not _LAYER or _LAYER[0] == "workqueue"
        if self.locked:
            _LOCK.acquire()
        self.prev = numba.get_num_threads()
        if self.threads is not None:
            want = max(1, min(int(self.threads), numba.config.NUMBA_NUM_THREADS))
        elif self.n is not None and self.n < PARALLEL_MIN_N:
            want = 1
        else:
            want = numba.config.NUMBA_NUM_THREADS
        if want != self.prev:
            numba.set_num_threads(want)
        return self

    def __exit__(self, *exc):
        import numba

        if numba.get_num_threads() != self.prev:
            numba.set_num_threads(self.prev)
        if self.locked:
            _LOCK.release()


# ---- plain functions (numpy in, numpy out) -------------------------------------------------------
#: the O(N^2) set-up (distances, the perplexity search, P) runs in about this many chunks of rows,
#: each followed by a report_progress call (the panel's cover shows a bar); rows are independent,
#: so the result is the same bits as in one call
PROGRESS_CHUNKS = 30
MIN_CHUNK_ROWS = 64


def _by_rows(n: int, run, progress, text: str) -> None:
    """``run(r0, r1)`` over row chunks, reporting ``progress(fraction, text)`` after each."""
    progress = report_progress if progress is None else progress
    size = max(MIN_CHUNK_ROWS, -(-n // PROGRESS_CHUNKS))
    if n > size:                  # (the first chunk may wait for its kernel to load)
        progress(0.0, text.format(done=0, n=n))
    for r0 in range(0, n, size):
        r1 = min(n, r0 + size)
        with _Guard(n):
            run(r0, r1)
        progress(r1 / n, text.format(done=r1, n=n))


def squared_distances(X, progress=None) -> np.ndarray:
    """Pairwise squared Euclidean distances, shape (N, N). ``progress(fraction, text)`` hears of
    each chunk of rows done (default: :func:`nnsim.engine.base.report_progress`)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = X.shape[0]
    D = np.empty((n, n))
    _by_rows(n, lambda r0, r1: _sq_distances(X, D, r0, r1), progress,
             "Distances between the inputs: {done} of {n} points")
    return D


def conditional_p(D, perplexity: float, tol: float = ENTROPY_TOL, max_iter: int = 200,
                  progress=None):
    """Row-normalized p_{j|i} for squared distances D; returns (P_cond, beta, entropy error in nats).

    ``beta_i = 1 / (2 sigma_i^2)``; each row's entropy is log(perplexity) to within ``tol`` unless the
    target is unreachable (e.g. more than ``perplexity`` duplicates of a point), which ``error`` shows.
    ``progress(fraction, text)`` hears of each chunk of rows done (default: report_progress).
    """
    D = np.ascontiguousarray(D, dtype=np.float64)
    n = D.shape[0]
    if n < 3:
        raise ValueError(f"t-SNE needs at least 3 points, got {n}")
    if not 1.0 < perplexity < n - 1:
        raise ValueError(f"perplexity must be between 1 and N - 1 = {n - 1}, got {perplexity}")
    Pc, beta, err = np.empty((n, n)), np.empty(n), np.empty(n)
    args = (float(perplexity), float(tol), int(max_iter))
    _by_rows(n, lambda r0, r1: _calibrate(D, *args, Pc, beta, err, r0, r1), progress,
             f"Perplexity search (σᵢ for perplexity {perplexity:g}): {{done}} of {{n}} points")
    return Pc, beta, err


def joint_p(Pc, progress=None) -> np.ndarray:
    """p_ij = (p_{j|i} + p_{i|j}) / 2N. ``progress`` as in :func:`conditional_p`."""
    Pc = np.ascontiguousarray(Pc, dtype=np.float64)
    n = Pc.shape[0]
    P = np.empty_like(Pc)
    _by_rows(n, lambda r0, r1: _symmetrize(Pc, P, r0, r1), progress,
             "Joint affinities p_ij: {done} of {n} rows")
    return P


def kl_divergence(P, Y) -> float:
    """KL(P || Q) of the map Y (exact, O(N^2))."""
    P = np.ascontiguousarray(P, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    n = Y.shape[0]
    hp, psum = _p_log_p(P)
    with _Guard(n):
        return float(_kl_pass(P, Y, hp, psum, np.empty(n), np.empty(n)))


def gradient(P, Y, exaggeration: float = 1.0) -> tuple[np.ndarray, float]:
    """dC/dy (N, 2) with P multiplied by ``exaggeration``, and Z = sum_{k != l} (1 + d_kl^2)^-1."""
    P = np.ascontiguousarray(P, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    n = Y.shape[0]
    G = np.empty((n, 4))
    with _Guard(n):
        Z = _grad_pass(P, Y, float(exaggeration), G, np.empty(n))
    return G[:, :2].copy(), float(Z)


def _one_blas_thread():
    """OpenBLAS's threads spin while they wait: on a 2-core machine whose other core is busy (the
    GUI, numba's threads, other programs) the SVD of the 1797 digits took 0.4-3.6 s with two
    threads and 0.03-0.06 s with one (the same bits). threadpoolctl comes with scikit-learn."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:               # pragma: no cover - scikit-learn depends on it
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def pca(X) -> tuple[np.ndarray, np.ndarray]:
    """Scores on the first two principal components (centred data, SVD) and their share of the
    variance. Signs are fixed so each component's largest loading is positive (deterministic)."""
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0)
    with _one_blas_thread():
        _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
        k = min(2, Vt.shape[0])
        V = Vt[:k].T.copy()
        for c in range(k):
            if V[np.argmax(np.abs(V[:, c])), c] < 0:
                V[:, c] = -V[:, c]
        scores = np.zeros((X.shape[0], 2))
        scores[:, :k] = Xc @ V
    total = float((s ** 2).sum())
    ratio = np.zeros(2)
    if total > 0:
        ratio[:k] = s[:k] ** 2 / total
    return scores, ratio


def initial_map(X, init: str, rng: np.random.Generator, pca_scores=None) -> np.ndarray:
    """"pca": the first two PCs scaled so PC1 has standard deviation 1e-4; "random": N(0, 1e-4 I)
    read as standard deviation 1e-4, as scikit-learn, openTSNE and tsnejs do (the paper's 10^-4 I
    is a covariance; the scale only matters for the first few iterations). Data whose first PC has
    no spread (identical points) fall back to random."""
    n = np.asarray(X).shape[0]
    if init == "pca":
        S = pca(X)[0] if pca_scores is None else np.array(pca_scores, dtype=np.float64)
        sd = float(np.std(S[:, 0]))
        if sd > 0:
            return np.ascontiguousarray(S / sd * 1e-4)
        init = "random"
    if init == "random":
        return np.ascontiguousarray(rng.standard_normal((n, 2)) * 1e-4)
    raise ValueError(f"init must be 'pca' or 'random', got {init!r}")


@dataclass(frozen=True, eq=False)
class SpringSet:
    """Springs between map points: pair (i, j) with i < j, p_ij (times the exaggeration while it is
    on), q_ij, p - q (> 0 attracts, < 0 repels), the force 4 |p - q| w ||y_i - y_j|| and the pair's
    KL term p log(p / q) (true p, both orders: 2 p_ij log(p_ij / q_ij))."""

    pairs: np.ndarray
    p: np.ndarray
    q: np.ndarray
    pq: np.ndarray
    force: np.ndarray
    kl: np.ndarray

    @staticmethod
    def empty() -> "SpringSet":
        z = np.zeros(0)
        return SpringSet(np.zeros((0, 2), np.int64), z, z, z, z, z)

    def __len__(self) -> int:
        return int(self.pairs.shape[0])


# ---- the notebook / stepping API ------------------------------------------------------------------
class TSNE:
    """Exact t-SNE with the springs view. The math is in :mod:`nnsim.engine.tsne_kernels`.

    >>> from nnsim.engine.tsne import TSNE
    >>> Y = TSNE(perplexity=30.0, seed=0).fit(X, n_iter=1000)     # doctest: +SKIP

    After ``fit``: ``embedding_`` (= the returned Y), ``kl_divergence_`` (exact KL of the final
    map), ``P`` (symmetric input affinities), ``sigmas_``, ``kl_history_`` (iterations, values),
    ``n_iter_``. Stepping: ``prepare(X)`` computes P and the initial map, ``step(n)`` runs n
    iterations (``step(n)`` equals n times ``step(1)`` bit for bit), ``springs(k)`` lists the
    springs of the current map, ``forces()`` the net force -dC/dy on each point.
    """

    def __init__(self, perplexity: float = 30.0, early_exaggeration: float = 12.0,
                 exaggeration_iters: int = 250, learning_rate="auto", momentum=(0.5, 0.8),
                 init: str = "pca", seed: int = 0, *, momentum_switch: int = 250,
                 kl_every: int = 10):
        if not (isinstance(learning_rate, str) and learning_rate == "auto"):
            learning_rate = float(learning_rate)
            if not learning_rate > 0:
                raise ValueError(f"learning_rate must be 'auto' or positive, got {learning_rate}")
        if init not in ("pca", "random"):
            raise ValueError(f"init must be 'pca' or 'random', got {init!r}")
        if early_exaggeration <= 0:
            raise ValueError("early_exaggeration must be positive")
        if kl_every < 1:
            raise ValueError("kl_every must be at least 1")
        self.perplexity = float(perplexity)
        self.early_exaggeration = float(early_exaggeration)
        self.exaggeration_iters = int(exaggeration_iters)
        self.learning_rate = learning_rate
        self.momentum = (float(momentum[0]), float(momentum[1]))
        self.init = init
        self.seed = int(seed)
        self.momentum_switch = int(momentum_switch)
        self.kl_every = int(kl_every)
        self.P = None
        self.embedding_ = None
        self.kl_divergence_ = None
        self.diverged = False
        self._speed: dict[int, float] = {}    # threads -> typical seconds per iteration
        self._samples: dict[int, list] = {}
        self._explore, self._explore_with, self._skip = 0, 1, False
        self._calls = 0

    # -- set-up
    def prepare(self, X, *, D=None, P=None, betas=None, pca_scores=None) -> "TSNE":
        """Affinities and initial map for data X (N, D_in). ``D``/``P``/``betas``/``pca_scores``
        may be passed when already known for this X (the panel reuses them)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 3:
            raise ValueError(f"X must be an (N, D) array with N >= 3, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        n = X.shape[0]
        if P is None:
            if D is None:
                D = squared_distances(X)
            Pc, betas, err = conditional_p(D, self.perplexity)
            self.entropy_error_ = err
            P = joint_p(Pc)
            del Pc
        self.P = P
        self.betas_ = betas
        self.sigmas_ = np.sqrt(1.0 / (2.0 * betas)) if betas is not None else None
        self._hp, self._psum = _p_log_p(P)
        self._neighbours = None
        rng = np.random.default_rng(self.seed)
        self.Y = initial_map(X, self.init, rng, pca_scores)
        self._upd = np.zeros((n, 2))
        self._gains = np.ones((n, 2))
        self._G = np.empty((n, 4))
        self._g_key, self._g_z = None, 0.0      # (iteration, exaggeration) of the gradient in _G
        self._zrow, self._srow = np.empty(n), np.empty(n)
        self.iteration = 0
        self.diverged = False
        self.grad_norm = float("nan")
        self.lr_ = (max(n / self.early_exaggeration / 4.0, 50.0) if self.learning_rate == "auto"
                    else float(self.learning_rate))
        self._kl_it = [0]
        self._kl_val = [self.kl_divergence()]
        return self

    # -- state of the schedule
    def exaggeration_at(self, t: int) -> float:
        return self.early_exaggeration if t < self.exaggeration_iters else 1.0

    def momentum_at(self, t: int) -> float:
        return self.momentum[0] if t < self.momentum_switch else self.momentum[1]

    def set_learning_rate(self, learning_rate) -> None:
        self.learning_rate = learning_rate
        n = self.Y.shape[0] if self.P is not None else 0
        self.lr_ = (max(n / self.early_exaggeration / 4.0, 50.0) if learning_rate == "auto"
                    else float(learning_rate))

    # -- threads: every kernel gives the same bits with any thread count (each row is summed by
    # one thread in a fixed order), so the count can follow what is fastest right now. Two threads
    # halve the time on an idle 2-core machine; when the cores are busy (the GUI, other programs)
    # every parallel region waits for a descheduled thread and one thread is faster.
    def _threads(self) -> int:
        import numba

        most = numba.config.NUMBA_NUM_THREADS
        if self.Y.shape[0] < PARALLEL_MIN_N or most == 1:
            return 1
        if self._explore:                       # a trial of the other option: a few chunks
            self._explore -= 1
            return self._explore_with
        for c in (most, 1):
            if c not in self._speed:
                self._explore, self._explore_with, self._skip = 2, c, True
                return c
        self._calls += 1
        best = self._best_threads()
        if self._calls % 40 == 0:               # look at the other option now and then
            self._explore_with = 1 if best != 1 else most
            self._explore, self._skip = 2, True
            return self._explore_with
        return best

    def _timed(self, threads: int, n: int, seconds: float) -> None:
        """Seconds per iteration: the median of the last 7 chunks, so one chunk delayed by
        another program (or by the GUI painting) does not flip the choice. The first chunk of a
        trial is not counted (waking the second thread up is not part of its speed)."""
        if self._skip and threads == self._explore_with:
            self._skip = False
            return
        if n > 0:
            recent = self._samples.setdefault(threads, [])
            recent.append(seconds / n)
            del recent[:-7]
            self._speed[threads] = float(np.median(recent))

    def _best_threads(self) -> int | None:
        """More threads unless one thread is clearly (15 %) faster right now."""
        if not self._speed:
            return None
        most = max(self._speed)
        if 1 in self._speed and most != 1 and self._speed[1] < 0.85 * self._speed[most]:
            return 1
        return most

    # -- stepping
    def step(self, n: int = 1) -> int:
        """Run n iterations; returns how many were done (fewer only if the run diverged).

        Long runs go in chunks of about 20 ms so the thread count can follow the machine's load
        (chunking changes no bit: step(n) equals n times step(1))."""
        if self.P is None:
            raise RuntimeError("call prepare(X) or fit(X) first")
        n = int(n)
        done = 0
        while done < n and not self.diverged:
            per = min(self._speed.values()) if self._speed else 1e-3
            chunk = n - done if self.Y.shape[0] < PARALLEL_MIN_N else \
                max(1, min(n - done, int(0.02 / per)))
            done += self._step_chunk(chunk)
        return done

    def _step_chunk(self, n: int) -> int:
        kl = np.empty(n)
        threads = self._threads()
        ready = self._g_key == (self.iteration, self.exaggeration_at(self.iteration))
        self._g_key = None
        t0 = time.perf_counter()
        with _Guard(self.Y.shape[0], threads):
            done, Z, gnorm = _optimize(
                self.P, self.Y, self._upd, self._gains, self._G, self._zrow, self._srow,
                self.iteration, n, self.early_exaggeration, self.exaggeration_iters,
                self.momentum[0], self.momentum[1], self.momentum_switch, float(self.lr_),
                self.kl_every, self._hp, self._psum, kl, ready, self._g_z)
        self._timed(threads, done, time.perf_counter() - t0)
        for s in range(done):
            if not math.isnan(kl[s]):
                self._kl_it.append(self.iteration + s + 1)
                self._kl_val.append(float(kl[s]))
        self.iteration += done
        self.grad_norm = float(gnorm)
        if done < n:
            self.diverged = True
        return done

    def fit(self, X, n_iter: int = 1000) -> np.ndarray:
        """Embed X (N, D) in 2-D with ``n_iter`` iterations; returns Y (N, 2)."""
        self.prepare(X)
        self.step(n_iter)
        self.record_kl()
        self.embedding_ = self.Y.copy()
        self.kl_divergence_ = self._kl_val[-1]
        self.n_iter_ = self.iteration
        return self.embedding_

    def record_kl(self) -> None:
        """Add the current map's KL to the history (if that iteration is not in it yet)."""
        if self._kl_it[-1] != self.iteration:
            self._kl_it.append(self.iteration)
            self._kl_val.append(self.kl_divergence())

    # -- read-outs
    @property
    def kl_history_(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self._kl_it, dtype=np.int64), np.array(self._kl_val)

    def kl_divergence(self) -> float:
        """Exact KL(P || Q) of the current map (true P, no exaggeration)."""
        with _Guard(self.Y.shape[0], self._best_threads()):
            return float(_kl_pass(self.P, self.Y, self._hp, self._psum, self._srow, self._zrow))

    def forces(self) -> tuple[np.ndarray, float]:
        """Net force -dC/dy_i on every point of the current map (with the exaggeration that the next
        iteration applies), and Z. The next iteration reuses this gradient instead of recomputing
        it (the same kernel on the same map: the same bits)."""
        key = (self.iteration, self.exaggeration_at(self.iteration))
        if self._g_key != key:
            with _Guard(self.Y.shape[0], self._best_threads()):
                self._g_z = float(_grad_pass(self.P, self.Y, key[1], self._G, self._zrow))
            self._g_key = key
        return -self._G[:, :2].copy(), self._g_z

    def invalidate(self) -> None:
        """Call after changing Y (or the schedule) from outside: cached gradients are dropped."""
        self._g_key = None

    def neighbours(self, k: int = KMAX) -> np.ndarray:
        """(N, k) indices of each point's strongest input affinities p_ij, strongest first."""
        if self._neighbours is None or self._neighbours.shape[1] < k:
            kk = max(k, min(KMAX, self.Y.shape[0] - 1))
            with _Guard(self.Y.shape[0], self._best_threads()):
                self._neighbours = _top_neighbours(self.P, kk, np.empty((self.Y.shape[0], kk),
                                                                         np.int64))
        return self._neighbours[:, :k]

    def _spring_set(self, I, J, Z) -> SpringSet:
        m = I.shape[0]
        p, q, f = np.empty(m), np.empty(m), np.empty(m)
        ex = self.exaggeration_at(self.iteration)
        with _Guard(self.Y.shape[0], self._best_threads()):
            _pair_forces(self.P, self.Y, ex, Z, I, J, p, q, f)
        ptrue = p / ex
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(ptrue > 0, 2.0 * ptrue * np.log(ptrue / q), 0.0)
        return SpringSet(np.stack([I, J], axis=1), p, q, p - q, f, kl)

    def spring_set(self, k: int = 3, threshold: float | None = None, Z: float | None = None
                   ) -> SpringSet:
        """Springs of the current map: each point to its k strongest input neighbours (duplicates
        merged), or, with ``threshold`` (a fraction of the strongest force of all pairs), every pair
        whose force is at least that (at most MAX_THRESHOLD_SPRINGS, the strongest kept)."""
        n = self.Y.shape[0]
        if Z is None:
            Z = self.forces()[1]
        if threshold is None:
            k = max(1, min(int(k), n - 1))
            nb = self.neighbours(k)
            a = np.repeat(np.arange(n, dtype=np.int64), k)
            b = nb.reshape(-1)
            key = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
            return self._spring_set(key // n, key % n, Z)
        return self._threshold_springs(float(threshold), Z)

    def repelling_springs(self, k: int = 3, Z: float | None = None) -> SpringSet:
        """Each point to the k partners that push it away hardest (p_ij < q_ij, largest force),
        duplicates merged: the lecture's "nearby in the map while the data are dissimilar"."""
        n = self.Y.shape[0]
        if Z is None:
            Z = self.forces()[1]
        k = max(1, min(int(k), n - 1))
        idx, val = np.empty((n, k), np.int64), np.empty((n, k))
        with _Guard(self.Y.shape[0], self._best_threads()):
            _top_repulsive(self.P, self.Y, self.exaggeration_at(self.iteration), Z, k, idx, val)
        a = np.repeat(np.arange(n, dtype=np.int64), k)
        b = idx.reshape(-1)
        ok = b >= 0
        key = np.unique(np.minimum(a[ok], b[ok]) * n + np.maximum(a[ok], b[ok]))
        return self._spring_set(key // n, key % n, Z)

    def repelling_springs_of(self, i: int, k: int = 3, Z: float | None = None) -> SpringSet:
        """Point i's k strongest repelling springs (p_ij < q_ij), strongest first: O(N)."""
        n = self.Y.shape[0]
        if not 0 <= i < n:
            return SpringSet.empty()
        if Z is None:
            Z = self.forces()[1]
        ex = self.exaggeration_at(self.iteration)
        d = self.Y[i] - self.Y
        d2 = (d * d).sum(axis=1)
        w = 1.0 / (1.0 + d2)
        pq = ex * self.P[i] - w / Z
        pq[i] = 0.0
        cand = np.flatnonzero(pq < 0)
        f = -4.0 * pq[cand] * w[cand] * np.sqrt(d2[cand])
        top = cand[np.argsort(-f, kind="stable")[:max(1, int(k))]]
        I, J = np.minimum(top, i).astype(np.int64), np.maximum(top, i).astype(np.int64)
        return self._spring_set(I, J, Z)

    def _threshold_springs(self, threshold: float, Z: float) -> SpringSet:
        """Pairs with force >= threshold x the largest force. When there are more than
        MAX_THRESHOLD_SPRINGS, the weakest 0.1-decade bins are dropped (then the surplus of the
        last bin, weakest first), so the strongest springs are the ones drawn."""
        n = self.Y.shape[0]
        ex = self.exaggeration_at(self.iteration)
        nb = 80
        with _Guard(self.Y.shape[0], self._best_threads()):
            top = float(_force_max(self.P, self.Y, ex, Z, np.empty(n)).max())
            if not top > 0:
                return SpringSet.empty()
            lo = max(threshold, 1e-8) * top
            hist = np.zeros((n, nb), np.int64)
            _force_hist(self.P, self.Y, ex, Z, lo, hist)
            above = np.cumsum(hist.sum(axis=0)[::-1])[::-1]      # above[b]: pairs in bins >= b
            bmin = int(np.argmax(above <= MAX_THRESHOLD_SPRINGS)) if above[-1] <= \
                MAX_THRESHOLD_SPRINGS else nb - 1
            counts = hist[:, bmin:].sum(axis=1)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
            total = int(counts.sum())
            I, J = np.empty(total, np.int64), np.empty(total, np.int64)
            _collect_pairs(self.P, self.Y, ex, Z, lo, bmin, nb, starts, I, J)
        s = self._spring_set(I, J, Z)
        if len(s) > MAX_THRESHOLD_SPRINGS:
            keep = np.sort(np.argsort(-s.force, kind="stable")[:MAX_THRESHOLD_SPRINGS])
            s = SpringSet(s.pairs[keep], s.p[keep], s.q[keep], s.pq[keep], s.force[keep], s.kl[keep])
        return s

    def springs(self, k: int = 3, threshold: float | None = None):
        """``(pairs, p_ij - q_ij, force)`` of the current map; see :meth:`spring_set`."""
        s = self.spring_set(k, threshold)
        return s.pairs, s.pq, s.force


def warmup() -> None:
    """Compile (or load from numba's cache) every kernel on a tiny problem."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    t = TSNE(perplexity=3.0, exaggeration_iters=2, momentum_switch=2, kl_every=2)
    with progress_to(None):         # a 12-point problem: nothing worth a progress bar
        t.fit(X, n_iter=4)
    t.springs(2)
    t.springs(threshold=0.1)
    t.repelling_springs(2)
    t.forces()


# ---- the panel's simulation (nnsim.engine.tsne_sim), importable from here as before. tsne_sim
# imports this module, so it is loaded on first use rather than here: either can be imported first.
_SIM_NAMES = frozenset({"TSNEParams", "TSNESnapshot", "TSNESimulation", "DATASETS", "SPRING_MODES",
                        "MIN_SIM_POINTS", "_fingerprint"})


def __getattr__(name: str):
    if name in _SIM_NAMES:
        from nnsim.engine import tsne_sim

        return getattr(tsne_sim, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SIM_NAMES)
