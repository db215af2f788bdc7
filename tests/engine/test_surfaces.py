"""The 2-D error surfaces: exact derivatives, minima, grid values and the catalogue."""

import numpy as np
import pytest

from nnsim.engine import surfaces as S

ALL = [(name, {}) for name in S.SURFACES] + [("canyon", {"kappa": 1.0}), ("canyon", {"kappa": 730.0})]
IDS = [f"{n}{kw.get('kappa', '')}" for n, kw in ALL]


def points(surf, n=8, seed=0):
    """Random points inside the view (the plateau's well region included)."""
    rng = np.random.default_rng(seed)
    x0, x1, y0, y1 = surf.bounds
    pts = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    return np.vstack([pts, rng.uniform(-1.0, 1.0, (3, 2))])


@pytest.mark.parametrize("name, kw", ALL, ids=IDS)
def test_gradient_matches_central_differences(name, kw):
    surf = S.Surface(name, **kw)
    for x, y in points(surf):
        h = 1e-5 * max(1.0, abs(x), abs(y))
        fd = np.array([(surf.value(x + h, y) - surf.value(x - h, y)) / (2 * h),
                       (surf.value(x, y + h) - surf.value(x, y - h)) / (2 * h)])
        g = surf.grad(x, y)
        scale = max(1e-3, np.abs(g).max())
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * scale, err_msg=f"{name} {x, y}")


@pytest.mark.parametrize("name, kw", ALL, ids=IDS)
def test_hessian_matches_central_differences_of_the_gradient(name, kw):
    surf = S.Surface(name, **kw)
    for x, y in points(surf, seed=1):
        h = 1e-5 * max(1.0, abs(x), abs(y))
        col_x = (surf.grad(x + h, y) - surf.grad(x - h, y)) / (2 * h)
        col_y = (surf.grad(x, y + h) - surf.grad(x, y - h)) / (2 * h)
        fd = np.column_stack([col_x, col_y])
        H = surf.hessian(x, y)
        assert H[0, 1] == H[1, 0]
        scale = max(1e-3, np.abs(H).max())
        np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-6 * scale, err_msg=f"{name} {x, y}")


@pytest.mark.parametrize("name", S.SURFACES)
def test_known_minima_are_minima(name):
    surf = S.Surface(name)
    mins = surf.minima
    assert mins.shape == (len(S.SPECS[name].minima), 2)
    if name == "saddle":
        assert mins.shape == (0, 2) and surf.f_min is None
        assert np.isnan(surf.nearest_minimum_distance([[0.0, 0.0]])).all()
        return
    x0, x1, y0, y1 = surf.bounds
    values = []
    for x, y in mins:
        assert x0 <= x <= x1 and y0 <= y <= y1
        g = surf.grad(x, y)
        assert np.abs(g).max() < 1e-10, (name, x, y, g)
        assert np.all(np.linalg.eigvalsh(surf.hessian(x, y)) > 0)     # a strict local minimum
        values.append(surf.value(x, y))
    assert min(values) == pytest.approx(surf.f_min, abs=1e-12)
    gz = surf.grid()[2]
    assert gz.min() >= surf.f_min - 1e-12                             # nothing lower in the view
    assert surf.nearest_minimum_distance(mins).max() == 0.0


@pytest.mark.parametrize("name", S.SURFACES)
def test_catalogue_entries(name):
    surf = S.Surface(name)
    x0, x1, y0, y1 = surf.bounds
    assert x0 < x1 and y0 < y1
    assert x0 <= surf.start[0] <= x1 and y0 <= surf.start[1] <= y1
    assert surf.label and len(surf.description) > 30
    assert np.isfinite(surf.value(*surf.start))


@pytest.mark.parametrize("name, kw", ALL, ids=IDS)
def test_grid_is_the_same_formula_as_the_numba_value(name, kw):
    surf = S.Surface(name, **kw)
    gx, gy, gz = surf.grid()
    assert gx.shape == (200,) and gy.shape == (200,) and gz.shape == (200, 200)
    assert (gx[0], gx[-1], gy[0], gy[-1]) == surf.bounds
    for i, j in [(0, 0), (17, 150), (199, 3), (120, 88)]:
        assert gz[i, j] == pytest.approx(S.value(surf.sid, gx[j], gy[i], surf.p), rel=1e-14, abs=1e-14)
    assert surf.grid() is surf.grid()                    # cached
    with pytest.raises(ValueError):
        gz[0, 0] = 1.0                                   # shared, so read-only
    lv = surf.levels()
    assert np.all(np.diff(lv) > 0) and gz.min() <= lv[0] and lv[-1] <= gz.max()


def test_canyon_kappa_and_closed_forms():
    c = S.Surface("canyon", kappa=50)
    assert c.value(2.0, 1.0) == 0.5 * (4 + 50)
    np.testing.assert_array_equal(c.grad(2.0, 1.0), [2.0, 50.0])
    np.testing.assert_array_equal(c.hessian(0.3, -7.0), [[1.0, 0.0], [0.0, 50.0]])
    assert S.Surface("canyon", kappa=10).grid()[2].max() < c.grid()[2].max()
    r = S.Surface("rosenbrock")
    assert r.value(1.0, 1.0) == 0.0 and r.value(0.0, 0.0) == 1.0
    np.testing.assert_array_equal(r.hessian(0.0, 0.0), [[2.0, 0.0], [0.0, 200.0]])
    s = S.Surface("saddle")
    np.testing.assert_array_equal(s.hessian(0.4, 0.1), [[2.0, 0.0], [0.0, -2.0]])
    p = S.Surface("plateau")
    assert abs(p.grad(-3.0, 1.5)).max() < 1e-2                         # the plain is flat
    assert S.Surface("camel").value(*S.SPECS["camel"].minima[0]) == pytest.approx(-1.0316284535)


def test_errors_and_get():
    with pytest.raises(ValueError, match="unknown surface"):
        S.Surface("nope")
    with pytest.raises(TypeError):
        S.Surface("rosenbrock", sigma=2)
    with pytest.raises(ValueError):
        S.Surface("canyon", kappa=0.0)
    c = S.Surface("canyon", kappa=5)
    assert S.get(c) is c
    assert S.get("canyon", kappa=5).kappa == 5.0
    assert [n for n, _ in S.SURFACE_CHOICES] == list(S.SURFACES)
    assert len(S.SURFACES) >= 7
