"""The t-SNE springs panel driven like a lecturer would: real buttons, clicks, files, offscreen."""

from __future__ import annotations

import csv
import gzip
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage

from nnsim.engine.base import FINISHED
from nnsim.panels.tsne import TSNEPanel, image_for_item
from nnsim.runner import Runner
from nnsim.widgets.export_dialog import export_figure


@pytest.fixture
def panel(qtbot):
    p = TSNEPanel()
    qtbot.addWidget(p)
    p.resize(1500, 900)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=30000)
    yield p
    p.shutdown()


def fresh(qtbot, panel, action):
    """Do ``action`` and wait for the state it produces (a new snapshot at step 0)."""
    old = panel.snapshot
    action()
    qtbot.waitUntil(lambda: panel.snapshot is not old and panel.snapshot.step_count == 0,
                    timeout=20000)


def set_value(qtbot, panel, name, value):
    editor = panel.form.editor(name)
    if hasattr(editor, "findData"):
        fresh(qtbot, panel, lambda: editor.setCurrentIndex(editor.findData(value)))
    else:
        fresh(qtbot, panel, lambda: editor.setValue(value))


def set_live(qtbot, panel, name, value):
    """Change a live parameter and wait for a snapshot that carries it."""
    editor = panel.form.editor(name)
    if hasattr(editor, "findData"):
        editor.setCurrentIndex(editor.findData(value))
    else:
        editor.setValue(value)
    qtbot.waitUntil(lambda: getattr(panel.snapshot, name) == value, timeout=20000)


def step_n(qtbot, panel, n):
    target = panel.snapshot.step_count + n
    panel.transport.stepn_spin.setValue(n)
    qtbot.mouseClick(panel.transport.stepn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count == target and not panel.runner.playing,
                    timeout=30000)


def drawn_pairs(panel, items):
    return sum(len(it.getData()[0]) // 2 for it in items if it.isVisible() and it.getData()[0] is not None)


def view_pos(panel, plot, widget, x, y):
    plot.getViewBox().autoRange(padding=0.05)     # settle the range (auto-range is lazy)
    scene_pt = plot.getViewBox().mapViewToScene(QPointF(x, y))
    return widget.mapFromScene(scene_pt)


def isolated_point(Y):
    d = ((Y[:, None] - Y[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return int(np.argmax(d.min(1)))


def test_play_moves_the_map_and_draws_springs_and_kl(panel, qtbot):
    snap0 = panel.snapshot
    assert snap0.Y.shape == (500, 2) and snap0.step_count == 0
    assert len(panel.map_legend.items) == 10        # one entry per digit class
    panel.transport.speed_box.setCurrentIndex(panel.transport.speed_box.count() - 1)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count >= 300, timeout=30000)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.playing, timeout=5000)
    snap = panel.snapshot
    assert np.ptp(snap.Y) > 100 * np.ptp(snap0.Y)          # the map grew from std 1e-4
    assert drawn_pairs(panel, panel._spring_items.values()) == len(snap.springs)
    x, y = panel.kl_curve.getData()
    np.testing.assert_array_equal(x, snap.kl_iters)
    np.testing.assert_array_equal(y, snap.kl_values)
    assert y[-1] < y[0]
    assert panel.kl_ex_line.value() == 250 and "momentum 0.5 → 0.8" in panel.kl_ex_text.toPlainText()
    x, y = panel.map_points.getData()                        # points follow the snapshot
    order = panel.map_points.data["data"].astype(np.int64)   # (each spot knows its point)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(snap.Y)))
    np.testing.assert_array_equal(x, snap.Y[order, 0])
    np.testing.assert_array_equal(y, snap.Y[order, 1])
    for k in range(10):                                      # one colour per class
        colours = {b.color().name() for b in panel.map_points.data["brush"][snap.labels[order] == k]}
        assert colours == {panel._point_items[k].opts["brush"].color().name()}


def test_a_click_on_a_legend_entry_hides_that_class(panel, qtbot):
    keys = panel._point_items
    keys[3].setVisible(False)                         # what the legend entry's click does
    shown = panel.map_points.data["visible"]
    labels = panel.snapshot.labels[panel._order]
    assert not shown[labels == 3].any() and shown[labels != 3].all()
    keys[3].setVisible(True)
    assert panel.map_points.data["visible"].all()


def test_step_advances_exactly_one_iteration(panel, qtbot):
    for k in (1, 2):
        qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.snapshot.step_count == k and not panel.runner.playing,
                        timeout=10000)
    panel.draw_all_views()          # the inspector may be on a hidden tab (drawn when shown)
    assert panel.snapshot.exaggeration == 12.0 and "α = 12" in panel.inspector.text()


def test_click_a_point_shows_its_springs_and_input(panel, qtbot):
    step_n(qtbot, panel, 260)
    snap = panel.snapshot
    i = isolated_point(snap.Y)
    pos = view_pos(panel, panel.map_plot, panel.map_widget, *snap.Y[i])
    qtbot.mouseClick(panel.map_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: panel._selected == i, timeout=5000)
    assert f"Point #{i}</b>" in panel.inspector.text()
    np.testing.assert_array_equal(panel.input_img.image, image_for_item(snap.images[i]))
    # the engine details the clicked point (a live parameter: the run is not reset)
    qtbot.waitUntil(lambda: panel.snapshot.selected == i, timeout=5000)
    snap = panel.snapshot
    assert snap.step_count == 260 and panel.params.selected == i
    S, R = snap.springs, snap.repulsions
    n_pull = int(((S.pairs[:, 0] == i) | (S.pairs[:, 1] == i)).sum())
    assert 0 < len(R) <= snap.spring_k and (R.pairs == i).any(axis=1).all() and (R.pq < 0).all()
    assert drawn_pairs(panel, panel._sel_items.values()) == n_pull + len(R)
    panel.draw_all_views()
    assert "strongest repulsions" in panel.inspector.text()
    xs, ys = panel._sel_items["attract"].getData() if panel._sel_items["attract"].isVisible() \
        else panel._sel_items["repel"].getData()
    ends = np.stack([xs, ys], 1)
    assert np.any(np.all(ends == snap.Y[i], axis=1))
    assert panel.sel_ring.getData()[0][0] == snap.Y[i, 0]
    # clicking the same point in PCA selects it too; clicking empty space clears the selection
    panel.select_point(None)
    pos = view_pos(panel, panel.pca_plot, panel.pca_widget, *snap.pca[i])
    qtbot.mouseClick(panel.pca_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    sel = panel._selected
    assert sel is not None and np.allclose(snap.pca[sel], snap.pca[i], atol=1.0)


def test_hover_shows_label_and_image(panel, qtbot):
    step_n(qtbot, panel, 100)
    snap = panel.snapshot
    i = isolated_point(snap.Y)
    pos = view_pos(panel, panel.map_plot, panel.map_widget, *snap.Y[i])
    qtbot.mouseMove(panel.map_widget.viewport(), pos)
    qtbot.waitUntil(lambda: panel.hover_label.isVisible(), timeout=5000)
    assert snap.class_names[snap.labels[i]] in panel.hover_label.toPlainText()
    assert f"#{i}" in panel.hover_label.toPlainText()
    assert panel.hover_image.isVisible()
    np.testing.assert_array_equal(panel.hover_image.image, image_for_item(snap.images[i]))


def test_export_map_png_svg_csv_and_coordinates(panel, qtbot, tmp_path):
    step_n(qtbot, panel, 120)
    widget = panel.figures()["t-SNE map"]
    files = export_figure(panel, "t-SNE map", tmp_path / "map.png", scale=2)
    img = QImage(str(files[0]))
    assert abs(img.width() - 2 * widget.width()) <= 2 and abs(img.height() - 2 * widget.height()) <= 2
    assert len({img.pixel(x, y) for x in range(0, img.width(), 9) for y in range(0, img.height(), 9)}) > 10
    export_figure(panel, "t-SNE map", tmp_path / "map.svg")
    root = ET.parse(tmp_path / "map.svg").getroot()
    assert root.tag.endswith("svg") and len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 20
    export_figure(panel, "t-SNE map", tmp_path / "map.csv")
    rows = [r for r in csv.reader(open(tmp_path / "map.csv")) if r and not r[0].startswith("#")]
    header = rows[0]
    col = header.index(next(h for h in header if h.endswith(": 3 x")))
    xs = np.array([float(r[col]) for r in rows[1:] if r[col] != ""])
    snap = panel.snapshot
    np.testing.assert_array_equal(np.sort(xs), np.sort(snap.Y[snap.labels == 3, 0]))
    # the map coordinates as one clean table
    assert panel.export_map_csv(tmp_path / "y.csv") == 500
    with open(tmp_path / "y.csv") as fh:
        table = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
    assert table[0] == ["index", "label", "y1", "y2", "pc1", "pc2"]
    Y = np.array([[float(r[2]), float(r[3])] for r in table[1:]])
    np.testing.assert_array_equal(Y, snap.Y)
    assert [r[1] for r in table[1:]] == [snap.class_names[c] for c in snap.labels]


def test_perplexity_change_recomputes_p_and_restarts(panel, qtbot):
    step_n(qtbot, panel, 20)
    before = panel.snapshot
    set_value(qtbot, panel, "perplexity", 10.0)
    snap = panel.snapshot
    assert snap.perplexity == 10.0 and snap.data_id != before.data_id
    assert np.median(snap.sigmas) < np.median(before.sigmas)
    panel.draw_all_views()          # the σ tab is hidden: drawn when shown or exported
    x, counts = panel.sigma_hist.getData()
    assert counts.sum() == 500 and x.min() <= snap.sigmas.min() and x.max() >= snap.sigmas.max()
    assert "perplexity 10" in panel.sigma_text.toPlainText()


def test_spring_modes_and_arrows(panel, qtbot):
    step_n(qtbot, panel, 50)
    set_live(qtbot, panel, "spring_mode", "threshold")
    assert panel.snapshot.step_count == 50
    snap = panel.snapshot
    assert len(snap.threshold_springs) > 0
    assert drawn_pairs(panel, panel._spring_items.values()) == len(snap.threshold_springs)
    set_live(qtbot, panel, "spring_mode", "off")
    assert drawn_pairs(panel, list(panel._spring_items.values()) + list(panel._sel_items.values())) == 0
    panel.arrows_check.setChecked(True)
    x, y = panel.arrow_item.getData()
    assert panel.arrow_item.isVisible() and len(x) == 6 * len(panel.snapshot.Y)
    F = panel.snapshot.forces
    i = int(np.argmax(np.hypot(*F.T)))
    shaft = np.array([x[6 * i + 1] - x[6 * i], y[6 * i + 1] - y[6 * i]])
    cross = shaft[0] * F[i, 1] - shaft[1] * F[i, 0]
    assert shaft @ F[i] > 0 and abs(cross) < 1e-6 * np.linalg.norm(shaft) * np.linalg.norm(F[i])


def test_highlight_fades_other_classes(panel, qtbot):
    panel.highlight_edit.setText("0, 5")
    panel.highlight_edit.editingFinished.emit()
    alphas = [item.opts["brush"].color().alpha() for item in panel._point_items[:10]]
    assert alphas[0] == alphas[5] == 255 and max(alphas[1:5] + alphas[6:]) < 100
    panel.highlight_edit.setText("7, eleven")
    panel.highlight_edit.editingFinished.emit()
    assert "eleven" in panel.banner.text()


def test_run_finishes_at_the_iteration_limit(panel, qtbot):
    set_live(qtbot, panel, "n_iter", 40)
    panel.transport.speed_box.setCurrentIndex(panel.transport.speed_box.count() - 1)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.status == FINISHED, timeout=20000)
    qtbot.waitUntil(lambda: not panel.runner.playing, timeout=5000)
    assert panel.snapshot.step_count == 40 and "Finished 40 iterations" in panel.banner.text()


def test_bad_files_show_the_problem_and_keep_the_data(panel, qtbot, tmp_path):
    before = panel.snapshot.X.copy()
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,4,y\n5,six,x\n7,8,y\n9,1,x\n")
    assert panel.open_data(str(bad)) is False
    assert "line 4" in panel.banner.text() and "six" in panel.banner.text()
    panel.error_dialog.close()
    trunc = tmp_path / "t10k-images-idx3-ubyte"
    trunc.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 100, 28, 28) + b"\x00" * 500)
    assert panel.open_data(str(trunc)) is False
    assert "truncated" in panel.banner.text()
    panel.error_dialog.close()
    assert panel.params.dataset == "digits"
    np.testing.assert_array_equal(panel.snapshot.X, before)
    qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.snapshot.step_count == 1, timeout=10000)   # still works


def test_good_csv_and_idx_files_load(panel, qtbot, tmp_path):
    rng = np.random.default_rng(0)
    good = tmp_path / "vectors.csv"
    X = np.vstack([rng.normal(0, 0.1, (20, 6)), rng.normal(3, 0.1, (20, 6))])
    names = ["left"] * 20 + ["right"] * 20
    good.write_text("f1,f2,f3,f4,f5,f6,class\n" + "".join(
        ",".join(repr(float(v)) for v in row) + f",{n}\n" for row, n in zip(X, names)))
    assert panel.open_data(str(good))
    qtbot.waitUntil(lambda: panel.snapshot.X.shape == (40, 6), timeout=10000)
    snap = panel.snapshot
    assert panel.form.editor("dataset").currentData() == "file"
    assert snap.class_names == ("left", "right") and snap.images is None
    np.testing.assert_array_equal(snap.X, X)
    panel.draw_all_views()
    assert panel.input_stack.currentWidget() is panel.vector_widget
    imgs = rng.integers(0, 256, (30, 28, 28)).astype(np.uint8)
    raw = bytes([0, 0, 8, 3]) + struct.pack(">3I", 30, 28, 28) + imgs.tobytes()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    labs = (np.arange(30) % 3).astype(np.uint8)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 30)
                                                       + labs.tobytes())
    assert panel.open_data(str(tmp_path / "train-images-idx3-ubyte.gz"))
    qtbot.waitUntil(lambda: panel.snapshot.X.shape == (30, 784), timeout=10000)
    snap = panel.snapshot
    assert snap.images.shape == (30, 28, 28) and snap.class_names == ("0", "1", "2")
    panel.draw_all_views()
    assert panel.input_stack.currentWidget() is panel.input_view


def test_closing_during_a_run_stops_the_thread(qtbot):
    before = Runner.live_count()
    p = TSNEPanel()
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=30000)
    qtbot.mouseClick(p.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: p.runner.playing and p.snapshot.step_count > 5, timeout=10000)
    p.close()
    assert not p.runner.is_running()
    assert Runner.live_count() == before


def test_experiment_round_trip_and_lab_report(panel, qtbot, tmp_path):
    from nnsim import experiment
    from nnsim.report import slug, write_report
    from tests.engine.test_experiment import assert_same

    step_n(qtbot, panel, 17)
    with qtbot.waitSignal(panel.experiment_saved, timeout=10000) as saved:
        panel.save_experiment(tmp_path / "run.nnsim")
    step_n(qtbot, panel, 23)
    expected = panel.snapshot
    other = TSNEPanel()
    qtbot.addWidget(other)
    try:
        other.show()
        qtbot.waitUntil(lambda: other.snapshot is not None, timeout=30000)
        old = other.snapshot
        other.load_experiment(experiment.load(saved.args[0], type(panel.params)))
        qtbot.waitUntil(lambda: other.snapshot is not old and other.snapshot.step_count == 17,
                        timeout=10000)
        assert other.params == panel.params
        step_n(qtbot, other, 23)
        assert_same(expected, other.snapshot)
    finally:
        other.shutdown()
    exp = experiment.Experiment(panel="tsne", params=panel.params.to_dict(), seed=0,
                                step_count=40, state=None)
    report = write_report(panel, tmp_path / "report", exp, scale=1)
    for name in panel.figures():
        base = slug(name)
        assert not QImage(str(report.parent / f"{base}.png")).isNull()
        assert ET.parse(report.parent / f"{base}.svg").getroot().tag.endswith("svg")
        assert len(list(csv.reader(open(report.parent / f"{base}.csv")))) > 2
