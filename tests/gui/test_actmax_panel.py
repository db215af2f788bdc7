"""The feature-visualization panel driven like a lecturer would: draw, pick, train, scrub, export."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from nnsim.engine.base import CONVERGED, FINISHED
from nnsim.engine.cnn import ConvNet
from nnsim.panels.actmax import FeatureVizPanel
from nnsim.widgets.export_dialog import WHOLE_PANEL, export_figure


@pytest.fixture
def panel(qtbot):
    p = FeatureVizPanel()
    qtbot.addWidget(p)
    p.resize(1500, 900)
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=60000)
    # (a slow machine may announce the kernel preparation in the banner: the canvas moves)
    qtbot.waitUntil(lambda: p.runner.prepared, timeout=60000)
    yield p
    p.shutdown()


def wait_for(qtbot, panel, cond, timeout=20000):
    qtbot.waitUntil(lambda: panel.snapshot is not None and cond(panel.snapshot), timeout=timeout)


def test_opens_with_the_four_starts_and_their_confidence(panel):
    snap = panel.snapshot
    assert snap.phase == "ready" and snap.status == FINISHED and snap.am_class == 1
    assert [t.text for t in panel.am_grid.titles][:4] == ["all ones", "all 0.5", "all zeros", "random U[0, 1)"]
    for k in range(4):
        assert "p(1) = " in panel.am_grid.captions[k].text
        assert snap.am_head_probs[k, 1] >= 0.99
        shown = panel.am_grid.image_data(k)
        assert shown.shape == (8, 8, 3) and shown.std() > 0
    xs, ys = panel._conf_curves[0].getData()
    np.testing.assert_allclose(ys, snap.am_confidence[0])
    assert "p(1) of the results" in panel.banner.text()
    assert "shipped" in panel.source_label.text()


def test_drawing_strokes_change_the_probabilities(panel, qtbot):
    panel.tabs.setCurrentIndex(1)
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, panel, lambda s: s.input_source == "your drawing" and s.input_image.max() == 0)
    before = panel.snapshot.input_probs.copy()
    canvas = panel.canvas
    side = canvas.width()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(side // 2, side // 8))
    for k in range(1, 8):
        qtbot.mouseMove(canvas, QPoint(side // 2, side // 8 + k * side // 10))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(side // 2, 7 * side // 8))
    wait_for(qtbot, panel, lambda s: s.input_image.max() > 0)
    snap = panel.snapshot
    assert not np.allclose(snap.input_probs, before)
    drawn = snap.input_image[0]
    assert drawn[:, 3:5].sum() > 3 and drawn[:, :2].sum() == 0  # a vertical stroke in the middle
    np.testing.assert_allclose(drawn, canvas.image())
    assert int(np.argmax(snap.input_probs)) == 1  # a vertical bar is a "1"
    heights = panel.prob_bars.opts["height"]
    np.testing.assert_allclose(heights, snap.input_probs)
    assert "your drawing" in panel.input_label.text()
    # the feature-map grids follow the drawing
    assert panel.maps_row.image_data(0).shape[2] == 3


def test_pick_a_test_image_and_add_noise(panel, qtbot):
    panel.tabs.setCurrentIndex(1)
    panel.test_spin.setValue(12)
    wait_for(qtbot, panel, lambda s: s.test_index == 12 and s.input_label >= 0)
    clean = panel.snapshot.input_image.copy()
    np.testing.assert_allclose(panel.canvas.image(), clean[0])
    qtbot.mouseClick(panel.noise_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, panel, lambda s: "noise" in s.input_source)
    assert not np.array_equal(panel.snapshot.input_image, clean)


def test_scrubber_moves_the_head_and_play_replays(panel, qtbot):
    panel.scrubber.setValue(3)
    wait_for(qtbot, panel, lambda s: s.am_head == 3)
    assert panel.scrub_label.text() == "iteration 3 / 10"
    assert panel._heads[0].value() == 3
    panel.transport.speed_box.setCurrentIndex(panel.transport.speed_box.count() - 1)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, panel, lambda s: s.am_head == 10 and s.status == FINISHED)
    qtbot.waitUntil(lambda: not panel.runner.playing, timeout=5000)


def test_border_check_reclassifies(panel, qtbot):
    panel.border_check.setChecked(True)
    assert "border zeroed" in panel.am_grid.captions[3].text
    shown = panel.am_grid.image_data(3)
    border = np.concatenate([shown[0], shown[-1], shown[:, 0], shown[:, -1]])
    assert len(np.unique(border)) == 1  # every border pixel shows the value 0
    assert len(np.unique(shown[1:-1, 1:-1])) > 5
    assert panel.snapshot.am_border_probs[3, 1] >= 0.99


def test_presets_keep_the_network_and_change_the_ascent(panel, qtbot):
    theta = panel.snapshot.theta.copy()
    name = next(n for n in panel.presets if n.startswith("Yosinski 3"))
    panel.preset_box.activated.emit(panel.preset_box.findData(name))
    wait_for(qtbot, panel, lambda s: s.am_steps == 300 and s.params.blur_sigma == 1.0)
    snap = panel.snapshot
    np.testing.assert_array_equal(snap.theta, theta)
    assert "shipped" in snap.source and snap.am_class == 3
    assert panel.form.editor("blur_sigma").value() == 1.0


def test_train_from_scratch_shows_progress_and_finishes(panel, qtbot):
    panel.form.editor("epochs").setValue(3)
    wait_for(qtbot, panel, lambda s: s.params.epochs == 3)
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, panel, lambda s: s.status == CONVERGED, timeout=60000)
    snap = panel.snapshot
    assert snap.phase == "ready" and "trained here" in snap.source
    assert len(snap.epoch_test_acc) == 3 and snap.test_accuracy > 0.85
    assert "Training finished" in panel.banner.text()
    assert panel.progress.value() == 1000
    xs, ys = panel.test_acc_curve.getData()
    np.testing.assert_allclose(ys, snap.epoch_test_acc)
    assert panel.tabs.currentIndex() == 2
    qtbot.waitUntil(lambda: panel.transport.speed() == 5.0, timeout=5000)  # restored after training


def test_export_the_image_grid_png_and_csv(panel, tmp_path):
    files = export_figure(panel, "Activation maximization images", tmp_path / "am.png", scale=1)
    img = QImage(str(files[0]))
    assert not img.isNull() and img.width() > 300 and img.height() > 150
    export_figure(panel, WHOLE_PANEL, tmp_path / "panel.png")
    assert QImage(str(tmp_path / "panel.png")).width() >= 1400
    assert panel.export_images_csv(str(tmp_path / "am.csv"))
    rows = list(csv.reader(open(tmp_path / "am.csv")))
    assert rows[1] == ["start", "row", "col", "value"] and len(rows) == 2 + 5 * 64
    first = float(rows[2][3])
    assert first == panel.snapshot.am_images[0, 0, 0, 0]


def test_malformed_idx_gets_a_message_and_changes_nothing(panel, qtbot, tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x03" + (30).to_bytes(4, "big") + (8).to_bytes(4, "big") * 2 + bytes(50))
    before = panel.snapshot
    assert not panel.open_data(str(bad))
    assert "truncated" in panel.banner.text() and "Nothing was changed" in panel.banner.text()
    panel.error_dialog.close()
    assert panel.snapshot is before and panel.params.dataset == "digits"


def test_valid_idx_files_load_and_train(panel, qtbot, tmp_path):
    from nnsim.engine.digits import load_digits

    d = load_digits()
    imgs = (16 * d.images[:120]).astype(np.uint8)
    head = b"\x00\x00\x08\x03" + b"".join(v.to_bytes(4, "big") for v in imgs.shape)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(head + imgs.tobytes())
    labs = d.labels[:120].astype(np.uint8)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + (120).to_bytes(4, "big")
                                                       + labs.tobytes())
    assert panel.open_data(str(tmp_path / "train-images-idx3-ubyte"))
    wait_for(qtbot, panel, lambda s: s.params.dataset == "file" and s.phase == "train")
    assert panel.form.editor("dataset").currentData() == "file"
    assert "untrained" in panel.banner.text()
    qtbot.mouseClick(panel.transport.step_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, panel, lambda s: s.step_count == 1 and len(s.batch_loss) == 1)


def test_save_and_load_weights(panel, qtbot, tmp_path):
    path = tmp_path / "w.npz"
    assert panel.save_weights(str(path))
    net = ConvNet.load(path)
    np.testing.assert_array_equal(net.theta, panel.snapshot.theta)
    small = ConvNet(maps=(3, 4), hidden=6)
    small.save(tmp_path / "small.npz")
    assert panel.load_weights(str(tmp_path / "small.npz"))
    wait_for(qtbot, panel, lambda s: s.params.maps1 == 3 and s.params.hidden == 6)
    assert "loaded from" in panel.snapshot.source
    assert panel.form.editor("maps1").value() == 3
    junk = tmp_path / "junk.npz"
    junk.write_text("hello")
    assert not panel.load_weights(str(junk))
    assert "not a readable" in panel.banner.text()
    panel.error_dialog.close()


def show_tab(qtbot, panel, index):
    """Open a tab as the user does: a tab hidden until now is drawn once it is shown."""
    panel.tabs.setCurrentIndex(index)
    qtbot.waitUntil(lambda: panel.tabs.widget(index).isVisible() and not panel._redraw_queued, timeout=5000)


def test_training_tab_shows_the_test_digits_confusion_matrix(panel, qtbot, tmp_path):
    show_tab(qtbot, panel, 2)
    snap = panel.snapshot
    M = panel.confusion.matrix(0)
    np.testing.assert_array_equal(M, snap.test_confusion)
    assert M.shape == (10, 10) and M.sum() == snap.n_test
    assert f"({int(np.trace(M))}/{snap.n_test})" in panel.confusion.title(0)
    assert f"{100 * snap.test_accuracy:.1f} %" in panel.confusion.title(0)
    heading = panel.confusion.heading.text
    assert "shipped pre-trained weights" in heading
    off = M - np.diag(np.diag(M))
    i, j = np.unravel_index(np.argmax(off), off.shape)       # the first of the largest mistakes
    assert f"{i} → {j} ({off[i, j]}×)" in heading
    export_figure(panel, "Confusion matrix", tmp_path / "cm.csv")
    rows = [r for r in csv.reader(open(tmp_path / "cm.csv")) if r and not r[0].startswith("#")]
    col = rows[0].index(next(h for h in rows[0] if "true class 8 " in h and h.endswith(" y")))
    assert [int(float(r[col])) for r in rows[1:] if r[col]] == M[8].tolist()
    table = [r for r in csv.reader(open(panel.export_confusion_csv(tmp_path / "t.csv"))) if r]
    assert len(table) == 2 + 10 and [int(v) for v in table[2 + 3][1:]] == M[3].tolist()


def test_target_loss_pauses_training_after_the_epoch_that_reaches_it(panel, qtbot):
    assert panel.target_label == "epoch training loss"
    panel.transport.target_spin.setValue(0.5)
    panel.transport.target_check.setChecked(True)
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, panel, lambda s: s.phase == "train" and s.epochs_done >= 1, timeout=60000)
    qtbot.waitUntil(lambda: not panel.runner.playing, timeout=60000)
    snap = panel.snapshot
    assert snap.phase == "train" and snap.epochs_done < snap.epochs_total
    losses = snap.epoch_train_loss
    assert losses[-1] <= 0.5 < losses[:-1].min() and snap.batch_in_epoch == 0
    assert snap.confusion_note == f"after epoch {snap.epochs_done}"
    np.testing.assert_array_equal(panel.confusion.matrix(0), snap.test_confusion)
    assert panel.confusion.matrix(0).sum() == snap.n_test
    assert np.trace(snap.test_confusion) / snap.n_test == snap.epoch_test_acc[-1]


def test_choosing_the_file_data_set_without_a_file_is_information(panel, qtbot):
    before, snap = panel.params, panel.snapshot
    box = panel.form.editor("dataset")
    box.setCurrentIndex(box.findData("file"))
    qtbot.wait(300)
    assert panel.params == before and box.currentData() == before.dataset  # nothing changed
    assert "No data file yet" in panel.banner.text() and panel.banner.property("kind") == "info"
    assert "stopped with an error" not in panel.banner.text() and panel.snapshot is snap
