"""Every exported figure of every panel is whole: laid out at its export size whatever the window's
size (a narrow window, a hidden tab), with its legend inside the picture; CSV headers are plain."""

from __future__ import annotations

import csv

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from nnsim.export import DEFAULT_SIZE
from nnsim.panels import PANELS, panel_class
from nnsim.widgets.export_dialog import export_figure
from nnsim.widgets.layoutcheck import audit_export

KEYS = [k for k, _, _ in PANELS]


@pytest.fixture
def panel(qtbot, request):
    p = panel_class(request.param)()
    qtbot.addWidget(p)
    p.resize(900, 560)  # narrower than any figure's export size: nothing may be cut by it
    p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=60000)
    p.runner.step(3)
    qtbot.waitUntil(lambda: p.snapshot.step_count >= 3, timeout=60000)
    yield p
    p.shutdown()


@pytest.mark.parametrize("panel", KEYS, indirect=True)
def test_every_figure_exports_whole(panel, tmp_path):
    problems = []
    for name, target in panel.figures().items():
        size = getattr(target, "export_size", DEFAULT_SIZE)
        problems += [str(p) for p in audit_export(name, target, size)]
        png = tmp_path / "f.png"
        export_figure(panel, name, png, scale=2, with_params=False, size=(int(size[0] * 2), int(size[1] * 2)))
        image = QImage(str(png))
        if isinstance(target, pg.GraphicsView):
            w, h = int(size[0] * 2), int(size[1] * 2)  # one side exactly, the other at most (fixed aspect)
            assert image.width() <= w + 2 and image.height() <= h + 2, name
            assert abs(image.width() - w) <= 2 or abs(image.height() - h) <= 2, name
        else:
            assert not image.isNull() and image.width() > 100, name
        if isinstance(target, pg.GraphicsView) or hasattr(target, "csv_table"):
            path = tmp_path / "f.csv"
            try:
                export_figure(panel, name, path, with_params=False)
            except TypeError:
                continue
            rows = [r for r in csv.reader(path.read_text(encoding="utf-8").splitlines()) if r and not r[0].startswith("#")]
            if rows:
                assert not any("<" in h or "&lt;" in h or "■" in h for h in rows[0]), (name, rows[0])
    assert not problems, "\n".join(problems)
