"""Exact t-SNE engine and its data loaders, against independent numpy transcriptions (no Qt)."""

from __future__ import annotations

import gzip
import math
import struct

import numpy as np
import pytest

from nnsim.engine import tsne, tsne_data
from nnsim.engine.base import DIVERGED, FINISHED, NOT_CONVERGED, RUNNING
from nnsim.engine.datasets import DataFileError
from nnsim.engine.tsne import TSNE, TSNEParams, TSNESimulation


# ---- independent numpy references ----------------------------------------------------------------
def np_sq_dist(X):
    diff = X[:, None, :] - X[None, :, :]
    return (diff ** 2).sum(-1)


def np_cond_p(D, beta):
    E = np.exp(-beta[:, None] * (D - np.where(np.eye(len(D), dtype=bool), np.inf, D).min(1)[:, None]))
    np.fill_diagonal(E, 0.0)
    return E / E.sum(1, keepdims=True)


def np_kl(P, Y):
    W = 1.0 / (1.0 + np_sq_dist(Y))
    np.fill_diagonal(W, 0.0)
    Q = W / W.sum()
    m = P > 0
    return float((P[m] * np.log(P[m] / Q[m])).sum())


def np_grad(P, Y, ex=1.0):
    W = 1.0 / (1.0 + np_sq_dist(Y))
    np.fill_diagonal(W, 0.0)
    Q = W / W.sum()
    M = (ex * P - Q) * W
    return 4.0 * (M.sum(1)[:, None] * Y - M @ Y)


def small_problem(n=40, d=5, seed=1, perplexity=8.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    D = tsne.squared_distances(X)
    Pc, beta, err = tsne.conditional_p(D, perplexity)
    return X, D, Pc, beta, tsne.joint_p(Pc)


@pytest.fixture(scope="module")
def digits300():
    return tsne_data.subsample(tsne_data.digits(), 300, np.random.default_rng(0))


# ---- affinities ------------------------------------------------------------------------------
def test_squared_distances_match_numpy():
    X = np.random.default_rng(0).standard_normal((50, 7)) * 3
    np.testing.assert_allclose(tsne.squared_distances(X), np_sq_dist(X), rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("perplexity", [5.0, 30.0, 100.0])
def test_perplexity_calibration_every_row(digits300, perplexity):
    D = tsne.squared_distances(digits300.X)
    Pc, beta, err = tsne.conditional_p(D, perplexity)
    with np.errstate(divide="ignore", invalid="ignore"):
        H = -np.where(Pc > 0, Pc * np.log2(Pc), 0.0).sum(1)   # entropy in bits, from scratch
    assert np.abs(H - math.log2(perplexity)).max() < 1e-5
    np.testing.assert_allclose(2.0 ** H, perplexity, rtol=1e-5)
    # the rows are the Gaussians of the returned precisions, normalized, with p_{i|i} = 0
    np.testing.assert_allclose(Pc, np_cond_p(D, beta), rtol=1e-10, atol=1e-300)
    assert np.all(np.diag(Pc) == 0) and np.allclose(Pc.sum(1), 1.0, atol=1e-12)
    assert err.max() < 1e-5 * math.log(2)


def test_joint_p_is_symmetric_and_normalized():
    X, D, Pc, beta, P = small_problem()
    n = len(X)
    np.testing.assert_allclose(P, (Pc + Pc.T) / (2 * n), rtol=1e-15, atol=0)
    assert np.array_equal(P, P.T) and abs(P.sum() - 1.0) < 1e-12


def test_perplexity_out_of_range_is_an_error():
    D = tsne.squared_distances(np.random.default_rng(0).standard_normal((10, 2)))
    with pytest.raises(ValueError, match="perplexity"):
        tsne.conditional_p(D, 9.5)


# ---- cost and gradient -------------------------------------------------------------------------
def test_kl_matches_numpy():
    X, D, Pc, beta, P = small_problem()
    Y = np.random.default_rng(2).standard_normal((len(X), 2))
    assert tsne.kl_divergence(P, Y) == pytest.approx(np_kl(P, Y), rel=1e-12)


@pytest.mark.parametrize("ex", [1.0, 12.0])
def test_gradient_matches_numpy_formula(ex):
    X, D, Pc, beta, P = small_problem()
    Y = np.random.default_rng(3).standard_normal((len(X), 2)) * 2
    G, Z = tsne.gradient(P, Y, ex)
    np.testing.assert_allclose(G, np_grad(P, Y, ex), rtol=1e-10, atol=1e-14)
    W = 1.0 / (1.0 + np_sq_dist(Y))
    assert Z == pytest.approx(W.sum() - len(Y), rel=1e-13)


def test_gradient_against_finite_differences_of_kl():
    X, D, Pc, beta, P = small_problem(n=25)
    Y = np.random.default_rng(4).standard_normal((25, 2))
    G, _ = tsne.gradient(P, Y)
    h = 1e-6
    fd = np.zeros_like(Y)
    for i in range(len(Y)):
        for c in range(2):
            Yp, Ym = Y.copy(), Y.copy()
            Yp[i, c] += h
            Ym[i, c] -= h
            fd[i, c] = (np_kl(P, Yp) - np_kl(P, Ym)) / (2 * h)
    rel = np.abs(G - fd).max() / np.abs(G).max()
    assert rel < 1e-6


# ---- optimizer -----------------------------------------------------------------------------------
def np_tsne(P, Y0, n, ex, ex_iters, mom, switch, lr):
    """The optimizer written out in numpy: gains, momentum and exaggeration schedules."""
    Y = Y0.copy()
    upd = np.zeros_like(Y)
    gains = np.ones_like(Y)
    for t in range(n):
        g = np_grad(P, Y, ex if t < ex_iters else 1.0)
        gains = np.where(upd * g < 0, gains + 0.2, gains * 0.8)
        gains = np.maximum(gains, 0.01)
        upd = (mom[0] if t < switch else mom[1]) * upd - lr * gains * g
        Y = Y + upd
    return Y


def test_optimizer_matches_numpy_transcription():
    X, D, Pc, beta, P = small_problem(n=40)
    t = TSNE(perplexity=8.0, early_exaggeration=4.0, exaggeration_iters=15, momentum=(0.5, 0.8),
             momentum_switch=25, learning_rate=20.0, init="random", seed=3)
    t.prepare(X)
    Y0 = t.Y.copy()
    t.step(60)
    ref = np_tsne(P, Y0, 60, 4.0, 15, (0.5, 0.8), 25, 20.0)
    np.testing.assert_allclose(t.Y, ref, rtol=1e-7, atol=1e-9 * np.abs(ref).max())
    assert t.iteration == 60


def test_learning_rate_auto_and_initializations(digits300):
    t = TSNE(early_exaggeration=12.0)
    t.prepare(digits300.X)
    assert t.lr_ == max(300 / 12 / 4, 50)
    scores, _ = tsne.pca(digits300.X)
    assert np.std(t.Y[:, 0]) == pytest.approx(1e-4, rel=1e-12)
    np.testing.assert_allclose(t.Y, scores / np.std(scores[:, 0]) * 1e-4, rtol=1e-12)
    r = TSNE(init="random", seed=5)
    r.prepare(digits300.X)
    assert abs(np.std(r.Y) / 1e-4 - 1) < 0.1
    t2 = TSNE(learning_rate=777.0)
    t2.prepare(digits300.X)
    assert t2.lr_ == 777.0


def test_pca_matches_covariance_eigenvectors(digits300):
    X = digits300.X
    scores, ratio = tsne.pca(X)
    evals, evecs = np.linalg.eigh(np.cov(X.T))
    order = np.argsort(evals)[::-1]
    np.testing.assert_allclose(ratio, evals[order[:2]] / evals.sum(), rtol=1e-8)
    for c in range(2):   # same axis up to the sign convention
        ref = (X - X.mean(0)) @ evecs[:, order[c]]
        assert abs(abs(np.corrcoef(scores[:, c], ref)[0, 1]) - 1) < 1e-10


def test_step_n_equals_n_single_steps_and_seed_determinism():
    X = np.random.default_rng(7).standard_normal((60, 6))
    a = TSNE(perplexity=10.0, exaggeration_iters=5, momentum_switch=7, init="random", seed=11)
    b = TSNE(perplexity=10.0, exaggeration_iters=5, momentum_switch=7, init="random", seed=11)
    a.prepare(X)
    b.prepare(X)
    a.step(20)
    for _ in range(20):
        b.step(1)
    assert np.array_equal(a.Y, b.Y)
    Y1 = TSNE(perplexity=10.0, init="random", seed=11).fit(X, 50)
    Y2 = TSNE(perplexity=10.0, init="random", seed=11).fit(X, 50)
    Y3 = TSNE(perplexity=10.0, init="random", seed=12).fit(X, 50)
    assert np.array_equal(Y1, Y2) and not np.allclose(Y1, Y3)


def test_fit_separates_gaussian_clusters():
    data = tsne_data.gaussian_clusters(160, 4, 20, 0.1, np.random.default_rng(0))
    t = TSNE(perplexity=15.0, seed=0)
    Y = t.fit(data.X, n_iter=400)
    assert Y.shape == (160, 2) and t.n_iter_ == 400
    D = np_sq_dist(Y)
    np.fill_diagonal(D, np.inf)
    nearest = np.argsort(D, axis=1)[:, :5]
    assert np.all(data.labels[nearest] == data.labels[:, None])
    assert t.kl_divergence_ == pytest.approx(np_kl(t.P, Y), rel=1e-10)
    it, kl = t.kl_history_
    assert it[0] == 0 and it[-1] == 400 and np.all(np.diff(it) > 0)
    assert kl[-1] < kl[0]


# ---- springs -------------------------------------------------------------------------------------
def test_springs_are_the_strongest_affinities_with_exact_forces():
    X, D, Pc, beta, P = small_problem(n=50)
    t = TSNE(perplexity=8.0, exaggeration_iters=10, seed=0)
    t.prepare(X)
    t.step(5)                                   # still exaggerated: p is multiplied by 12
    pairs, pq, force = t.springs(k=3)
    ref = {tuple(sorted((i, int(j)))) for i in range(50) for j in np.argsort(-P[i])[:3]}
    assert {tuple(p) for p in pairs.tolist()} == ref and np.all(pairs[:, 0] < pairs[:, 1])
    Y = t.Y
    W = 1.0 / (1.0 + np_sq_dist(Y))
    np.fill_diagonal(W, 0)
    Q = W / W.sum()
    i, j = pairs[:, 0], pairs[:, 1]
    np.testing.assert_allclose(pq, 12 * P[i, j] - Q[i, j], rtol=1e-10)
    d = np.linalg.norm(Y[i] - Y[j], axis=1)
    np.testing.assert_allclose(force, 4 * np.abs(12 * P[i, j] - Q[i, j]) * W[i, j] * d, rtol=1e-10)
    # the net force is minus the gradient, i.e. the sum of the spring forces of all pairs
    F, _ = t.forces()
    np.testing.assert_allclose(F, -np_grad(P, Y, 12.0), rtol=1e-9, atol=1e-15)


def test_threshold_springs_match_brute_force():
    X, D, Pc, beta, P = small_problem(n=60)
    t = TSNE(perplexity=8.0, exaggeration_iters=0, seed=0)
    t.prepare(X)
    t.step(100)
    Y = t.Y
    W = 1.0 / (1.0 + np_sq_dist(Y))
    np.fill_diagonal(W, 0)
    F = 4 * np.abs(P - W / W.sum()) * W * np.sqrt(np_sq_dist(Y))
    iu = np.triu_indices(60, 1)
    f = F[iu]
    for thr in (0.5, 0.1, 0.02):
        s = t.spring_set(threshold=thr)
        want = f >= thr * f.max()
        assert len(s) == want.sum()
        got = {tuple(p) for p in s.pairs.tolist()}
        assert got == {(int(a), int(b)) for a, b in zip(iu[0][want], iu[1][want])}
        assert ((s.pq > 0) == (P[s.pairs[:, 0], s.pairs[:, 1]] > Q_of(W)[s.pairs[:, 0], s.pairs[:, 1]])).all()


def test_repelling_springs_are_the_strongest_pushes():
    X, D, Pc, beta, P = small_problem(n=50)
    t = TSNE(perplexity=8.0, exaggeration_iters=0, seed=0)
    t.prepare(X)
    t.step(60)
    Y = t.Y
    W = 1.0 / (1.0 + np_sq_dist(Y))
    np.fill_diagonal(W, 0)
    PQ = P - W / W.sum()
    F = np.where(PQ < 0, -4 * PQ * W * np.sqrt(np_sq_dist(Y)), -1.0)
    np.fill_diagonal(F, -1.0)
    ref = {tuple(sorted((i, int(j)))) for i in range(50) for j in np.argsort(-F[i])[:2] if F[i, j] > 0}
    s = t.repelling_springs(k=2)
    assert {tuple(p) for p in s.pairs.tolist()} == ref
    assert np.all(s.pq < 0)
    i, j = s.pairs[:, 0], s.pairs[:, 1]
    np.testing.assert_allclose(s.force, F[i, j], rtol=1e-10)
    for i in (0, 17, 49):            # one point's own pushes, strongest first
        one = t.repelling_springs_of(i, k=3)
        other = np.where(one.pairs[:, 0] == i, one.pairs[:, 1], one.pairs[:, 0])
        assert other.tolist() == [int(j) for j in np.argsort(-F[i])[:3]]
        assert np.all(np.diff(one.force) <= 0)


def Q_of(W):
    return W / W.sum()


def test_threshold_springs_are_capped_to_the_strongest(monkeypatch):
    X, D, Pc, beta, P = small_problem(n=80)
    t = TSNE(perplexity=8.0, exaggeration_iters=0, seed=0)
    t.prepare(X)
    t.step(50)
    monkeypatch.setattr(tsne, "MAX_THRESHOLD_SPRINGS", 100)
    s = t.spring_set(threshold=0.001)
    full = tsne.TSNE.spring_set  # the uncapped set for comparison
    monkeypatch.setattr(tsne, "MAX_THRESHOLD_SPRINGS", 10 ** 6)
    every = full(t, threshold=0.001)
    assert len(s) <= 100 and len(every) > 100
    assert s.force.min() >= np.sort(every.force)[-len(s)]


# ---- the simulation ------------------------------------------------------------------------------
def test_simulation_runs_to_the_iteration_limit():
    sim = TSNESimulation(TSNEParams(n_points=120, n_iter=60, kl_every=7), seed=0)
    assert sim.status == RUNNING and sim.snapshot().Y.shape == (120, 2)
    done = 0
    while sim.status == RUNNING:
        done += sim.advance(25)
    assert sim.status == FINISHED and sim.step_count == 60 and done == 60
    snap = sim.snapshot()
    assert snap.kl_iters.tolist() == [0, 7, 14, 21, 28, 35, 42, 49, 56, 60]
    assert "Finished 60 iterations" in snap.message
    assert snap.kl_values[-1] == pytest.approx(np_kl(sim.tsne.P, snap.Y), rel=1e-10)
    assert snap.images.shape == (120, 8, 8) and snap.class_names == tuple("0123456789")
    assert len(snap.springs) > 0 and snap.threshold_springs is None
    assert snap.selected == -1 and len(snap.repulsions) == 0
    sim.set_params(sim.params.replace(selected=7))
    snap = sim.snapshot()
    assert snap.selected == 7 and 0 < len(snap.repulsions) <= 3 and (snap.repulsions.pairs == 7).any(1).all()
    sim.set_params(sim.params.replace(n_iter=80))       # live: the run goes on
    assert sim.status == RUNNING and sim.step_count == 60


def test_simulation_perplexity_change_recomputes_p_and_restarts():
    sim = TSNESimulation(TSNEParams(n_points=150), seed=1)
    sim.step(30)
    first = sim.snapshot()
    assert sim.set_params(sim.params.replace(learning_rate=300.0, lr_auto=False)) is True
    assert sim.step_count == 30 and sim.tsne.lr_ == 300.0
    assert sim.set_params(sim.params.replace(perplexity=10.0)) is False
    snap = sim.snapshot()
    assert snap.step_count == 0 and snap.data_id != first.data_id and snap.perplexity == 10.0
    assert np.array_equal(snap.X, first.X)                     # same data, new P
    Pc, _, _ = tsne.conditional_p(tsne.squared_distances(snap.X), 10.0)
    np.testing.assert_allclose(sim.tsne.P, tsne.joint_p(Pc), rtol=1e-12)
    assert np.all(snap.sigmas < first.sigmas + 1e-12)           # fewer neighbours: narrower


def test_simulation_reset_reproduces_and_threshold_mode():
    sim = TSNESimulation(TSNEParams(n_points=100, spring_mode="threshold", spring_threshold=0.2), 3)
    sim.step(40)
    a = sim.snapshot()
    sim.reset(3)
    sim.step(40)
    b = sim.snapshot()
    assert np.array_equal(a.Y, b.Y) and a.threshold_springs is not None
    assert np.array_equal(a.threshold_springs.pairs, b.threshold_springs.pairs)
    assert a.threshold_springs.force.min() >= 0.2 * a.threshold_springs.force.max() - 1e-18


def test_simulation_divergence_is_a_status():
    sim = TSNESimulation(TSNEParams(n_points=60), seed=0)
    sim.step(3)
    sim.tsne.Y[5, 0] = np.nan
    sim.step(10)
    assert sim.status == DIVERGED and "diverged" in sim.message
    assert sim.step_count == 3
    sim.snapshot()          # still drawable


def test_simulation_file_data_and_no_file():
    sim = TSNESimulation(TSNEParams(dataset="file"), seed=0)
    assert sim.status == NOT_CONVERGED and "No file loaded" in sim.message
    assert sim.snapshot().Y.shape == (0, 2)
    data = tsne_data.gaussian_clusters(40, 2, 3, 0.2, np.random.default_rng(0))
    sim.set_data(data)
    assert sim.status == RUNNING and sim.snapshot().Y.shape == (40, 2)
    assert sim.snapshot().perplexity == pytest.approx(19.5)   # lowered for 40 points
    assert "Perplexity lowered" in sim.message


def test_simulation_clusters_dataset_and_engine_snapshot_fields():
    sim = TSNESimulation(TSNEParams(dataset="clusters", n_points=90, n_clusters=3, dim=7), seed=0)
    snap = sim.snapshot()
    assert snap.X.shape == (90, 7) and snap.images is None and set(snap.labels) == {0, 1, 2}
    assert snap.exaggeration == 12.0 and snap.momentum == 0.5
    assert snap.entropy_error < 1e-5
    assert snap.forces.shape == (90, 2)


# ---- data files -----------------------------------------------------------------------------------
def test_csv_with_header_label_column(tmp_path):
    f = tmp_path / "v.csv"
    rows = [f"{i},{i * 2},{'cat' if i % 2 else 'dog'},{i / 3}" for i in range(8)]
    f.write_text("a,b,label,c\n" + "\n".join(rows) + "\n")
    d = tsne_data.load_vectors_csv(f)
    assert d.X.shape == (8, 3) and d.class_names == ("cat", "dog")
    assert d.labels.tolist() == [1, 0, 1, 0, 1, 0, 1, 0]
    np.testing.assert_allclose(d.X[:, 2], np.arange(8) / 3)
    last = tmp_path / "last.csv"
    last.write_text("\n".join(f"{i};{i + 1};{i % 3}" for i in range(6)))
    d2 = tsne_data.load_vectors_csv(last, label_column="last")
    assert d2.X.shape == (6, 2) and d2.class_names == ("0", "1", "2")
    d3 = tsne_data.load_data_file(last)                 # no header: every column a coordinate
    assert d3.X.shape == (6, 3) and d3.class_names == ("unlabelled",)


@pytest.mark.parametrize("text, line, words", [
    ("1,2,3\n4,5\n", 2, "expected 3"),
    ("x,y\n1,2\n3,oops\n", 3, "'oops' is not a number"),
    ("1,2\n\n# c\n3,inf\n", 4, "not a finite"),
    ("a,label\n1,\n", 2, "column 2 (label): the label is empty"),
])
def test_bad_csv_names_the_line(tmp_path, text, line, words):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(DataFileError) as err:
        tsne_data.load_vectors_csv(f)
    assert err.value.line == line and words in str(err.value)


def test_csv_too_few_rows(tmp_path):
    f = tmp_path / "few.csv"
    f.write_text("1,2\n3,4\n")
    with pytest.raises(DataFileError, match="at least 5"):
        tsne_data.load_vectors_csv(f)


def write_idx(path, arr, code=0x08, compress=False):
    arr = np.asarray(arr)
    dt = {0x08: ">u1", 0x0D: ">f4"}[code]
    raw = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + \
        arr.astype(dt).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def test_idx_images_with_labels_found_beside(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (12, 4, 3))
    labs = rng.integers(0, 10, 12)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs, compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labs, compress=True)
    d = tsne_data.load_data_file(tmp_path / "train-images-idx3-ubyte.gz")
    assert d.X.shape == (12, 12) and d.images.shape == (12, 4, 3) and d.pixel_range == (0, 255)
    np.testing.assert_array_equal(d.X, imgs.reshape(12, -1))
    sub = tsne_data.subsample(d, 50, np.random.default_rng(0))     # all 12, as float64
    assert sub.X.dtype == np.float64 and np.array_equal(sub.X, d.X)
    assert tsne_data.subsample(d, 5, np.random.default_rng(0)).X.dtype == np.float64
    assert [d.class_names[c] for c in d.labels] == [str(v) for v in labs]
    write_idx(tmp_path / "vec.idx", rng.random((7, 5)), code=0x0D)
    v = tsne_data.load_idx(tmp_path / "vec.idx")
    assert v.X.shape == (7, 5) and v.images is None and v.class_names == ("unlabelled",)


def test_bad_idx_files_are_explained(tmp_path):
    imgs = np.zeros((10, 2, 2))
    p = tmp_path / "t-images-idx3-ubyte"
    write_idx(p, imgs)
    p.write_bytes(p.read_bytes()[:-3])
    with pytest.raises(DataFileError, match="truncated"):
        tsne_data.load_data_file(p)
    write_idx(p, imgs)
    write_idx(tmp_path / "t-labels-idx1-ubyte", np.zeros(9))
    with pytest.raises(DataFileError, match="9 labels but"):
        tsne_data.load_data_file(p)
    with pytest.raises(DataFileError, match="holds 9 labels"):
        tsne_data.load_data_file(tmp_path / "t-labels-idx1-ubyte")
    q = tmp_path / "x.idx"
    q.write_bytes(b"\x00\x00\x42\x02" + b"\x00" * 20)
    with pytest.raises(DataFileError, match="not an IDX file|unknown IDX"):
        tsne_data.read_idx_array(q)
    g = tmp_path / "x.gz"                  # a gzipped CSV is read like the CSV (as the CNN loader does)
    g.write_bytes(gzip.compress(b"1,2\n3,4\n5,6\n7,8\n9,10\n"))
    np.testing.assert_array_equal(tsne_data.load_data_file(g).X, np.arange(1, 11).reshape(5, 2))
    g.write_bytes(gzip.compress(b"1,2\n3,4\n")[:-6])
    with pytest.raises(DataFileError, match="gzipped"):
        tsne_data.load_data_file(g)


def test_digits_subsample_is_seeded():
    d = tsne_data.digits()
    assert d.X.shape == (1797, 64) and d.images.shape == (1797, 8, 8)
    a = tsne_data.subsample(d, 100, np.random.default_rng(1))
    b = tsne_data.subsample(d, 100, np.random.default_rng(1))
    c = tsne_data.subsample(d, 100, np.random.default_rng(2))
    assert np.array_equal(a.X, b.X) and not np.array_equal(a.X, c.X)
    assert not a.X.flags.writeable
    assert tsne_data.subsample(d, 5000, np.random.default_rng(0)) is d


@pytest.mark.parametrize("dataset", ["digits", "file"])
def test_saved_state_resumes_bit_for_bit(tmp_path, dataset):
    from nnsim import experiment

    params = TSNEParams(n_points=80, dataset=dataset, exaggeration_iters=15, momentum_switch=20)
    sim = TSNESimulation(params if dataset == "digits" else TSNEParams(n_points=80), seed=4)
    if dataset == "file":
        sim.set_data(tsne_data.gaussian_clusters(70, 3, 6, 0.3, np.random.default_rng(1)))
        sim.set_params(params)
    sim.step(12)
    exp = experiment.Experiment(panel="tsne", params=sim.params.to_dict(), seed=4, step_count=12,
                                state=sim.get_state())
    path = experiment.save(tmp_path / "run", exp)
    back = experiment.load(path)
    other = TSNESimulation(TSNEParams(n_points=50), seed=0)
    other.set_state(TSNEParams.from_dict(back.params), back.state)
    assert other.step_count == 12
    sim.step(10)
    other.step(10)
    assert np.array_equal(sim.tsne.Y, other.tsne.Y)
    from tests.engine.test_experiment import assert_same

    assert_same(sim.snapshot(), other.snapshot())


def test_thread_count_does_not_change_a_single_bit(monkeypatch):
    """Each row is summed by one thread in a fixed order, so 1 or 2 threads give the same run."""
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 numba threads")
    monkeypatch.setattr(tsne, "PARALLEL_MIN_N", 0)
    X = np.random.default_rng(3).standard_normal((90, 5))
    runs = []
    for threads in (1, 2):
        monkeypatch.setattr(TSNE, "_threads", lambda self, k=threads: k)
        t = TSNE(perplexity=10.0, exaggeration_iters=8, seed=0, kl_every=3)
        t.prepare(X)
        t.step(20)
        F, Z = t.forces()
        runs.append((t.Y.copy(), t.kl_history_[1], F, t.spring_set(2).force))
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


def test_forces_for_the_view_are_reused_by_the_next_iteration():
    X = np.random.default_rng(5).standard_normal((70, 4))
    a, b = TSNE(perplexity=10.0, seed=0), TSNE(perplexity=10.0, seed=0)
    a.prepare(X)
    b.prepare(X)
    for _ in range(6):
        a.forces()           # the panel's snapshot between steps
        a.step(3)
        b.step(3)
    assert np.array_equal(a.Y, b.Y)
    a.forces()
    a.early_exaggeration = 2.0          # a live change: the cached gradient no longer applies
    b.early_exaggeration = 2.0
    a.step(2)
    b.step(2)
    assert np.array_equal(a.Y, b.Y)
