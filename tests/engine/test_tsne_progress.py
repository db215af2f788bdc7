"""t-SNE's set-up reports its progress (the panel's cover shows it) and chunking changes no bit."""

from __future__ import annotations

import threading

import numpy as np

from nnsim.engine import tsne, tsne_data
from nnsim.engine.base import progress_to, set_progress_sink
from nnsim.engine.tsne import TSNEParams, TSNESimulation


def _record():
    calls = []
    return calls, lambda fraction, text: calls.append((fraction, text))


def test_p_computation_reports_progress_in_chunks_of_rows():
    X = np.random.default_rng(0).standard_normal((400, 5))
    calls, sink = _record()
    with progress_to(sink):
        D = tsne.squared_distances(X)
        Pc, beta, err = tsne.conditional_p(D, 20.0)
        P = tsne.joint_p(Pc)
    search = [c for c in calls if c[1].startswith("Perplexity search")]
    assert len(search) >= 5                       # several chunks of rows, each reported
    assert search[-1] == (1.0, "Perplexity search (σᵢ for perplexity 20): 400 of 400 points")
    assert [f for f, _ in search] == sorted(f for f, _ in search)
    assert any(t.startswith("Distances") for _, t in calls)
    assert any(t.startswith("Joint affinities") for _, t in calls)
    # the same bits as a single pass over all rows
    monkey = tsne.MIN_CHUNK_ROWS, tsne.PROGRESS_CHUNKS
    try:
        tsne.MIN_CHUNK_ROWS, tsne.PROGRESS_CHUNKS = 10 ** 9, 1
        D1 = tsne.squared_distances(X)
        Pc1, beta1, err1 = tsne.conditional_p(D1, 20.0)
        P1 = tsne.joint_p(Pc1)
    finally:
        tsne.MIN_CHUNK_ROWS, tsne.PROGRESS_CHUNKS = monkey
    for a, b in ((D, D1), (Pc, Pc1), (beta, beta1), (err, err1), (P, P1)):
        assert np.array_equal(a, b)


def test_the_simulation_reports_each_stage_with_growing_fractions():
    calls, sink = _record()
    with progress_to(sink):
        sim = TSNESimulation(TSNEParams(dataset="clusters", n_points=300, dim=8))
    texts = [t for _, t in calls]
    for stage in ("Loading", "Distances", "PCA", "Perplexity search", "Joint affinities",
                  "The initial map"):
        assert any(t.startswith(stage) for t in texts), stage
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    # a perplexity change recomputes P only: its search starts from 0 again
    calls.clear()
    with progress_to(sink):
        sim.set_params(sim.params.replace(perplexity=10.0))
    assert not any(t.startswith("Distances") for _, t in calls)
    assert any(t.startswith("Perplexity search (σᵢ for perplexity 10)") for _, t in calls)


def test_a_reset_in_a_later_call_reaches_the_threads_sink():
    """A runner sets its sink once per worker thread (set_progress_sink); later calls in that
    thread report to it, calls in another thread do not."""
    calls, sink = _record()
    set_progress_sink(sink)
    try:
        sim = TSNESimulation(TSNEParams(dataset="clusters", n_points=200, dim=4))
        calls.clear()
        sim.set_params(sim.params.replace(perplexity=12.0))
        assert any(t.startswith("Perplexity search") for _, t in calls)
        calls.clear()
        other = threading.Thread(target=lambda: sim.reset(1))     # another thread: not its sink
        other.start()
        other.join()
        assert not calls
    finally:
        set_progress_sink(None)


def test_warmup_reports_nothing():
    calls, sink = _record()
    with progress_to(sink):
        tsne.warmup()
    assert not calls


def test_digits_are_read_without_importing_scikit_learn():
    import subprocess
    import sys

    code = ("import sys; from nnsim.engine import tsne_data; d = tsne_data.digits(); "
            "print(d.X.shape, d.images.shape, int(d.labels.max()), 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(1797,", "64)", "(1797,", "8,", "8)", "9", "False"]
    from sklearn.datasets import load_digits

    d, ref = tsne_data.digits(), load_digits()
    assert np.array_equal(d.X, ref.data) and np.array_equal(d.labels, ref.target)
    assert np.array_equal(d.images, ref.images)
