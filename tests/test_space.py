"""Geometry and access: the 2SFCA identity, distance decay, both operators agree."""

import numpy as np
import pytest

from coprod_sim.model import space


def _layout(n=20000, merge=1):
    return space.build_layout(n, 20000, 50, 5000, 800, 0.5, merge)


def test_layout_scales_with_population_at_fixed_density():
    small, large = _layout(5000), _layout(80000)
    assert large.n_communities > small.n_communities
    per_cell_small = 5000 / small.n_cells
    per_cell_large = 80000 / large.n_cells
    assert per_cell_large == pytest.approx(per_cell_small, rel=0.25)


def test_periphery_is_the_outer_share():
    lay = _layout(45000)
    assert lay.community_is_periphery.sum() == round(0.5 * lay.n_communities)
    assert lay.community_distance_m[lay.community_is_periphery].min() >= \
        lay.community_distance_m[~lay.community_is_periphery].max()


def test_merged_stations_group_communities():
    lay = _layout(45000, merge=3)
    assert len(np.unique(lay.station_of_community)) == int(np.ceil(lay.n_communities / 3))


def test_decay_weight_falls_with_distance_and_stops_at_catchment():
    w = space.decay_weight(np.array([0.0, 100.0, 300.0, 499.0, 501.0]), 250.0, 500.0)
    assert w[0] == 1.0 and np.all(np.diff(w[:4]) < 0) and w[4] == 0.0


@pytest.mark.parametrize("width,height", [(12, 10), (30, 25)])  # dense and FFT paths
def test_two_step_access_conserves_supply(width, height):
    rng = np.random.default_rng(1)
    op = space.DecayOperator(width, height, 50.0, 250.0, 500.0)
    n = width * height
    demand = rng.random((n, 3)) + 0.1
    supply = np.zeros((n, 3))
    supply[rng.integers(0, n, 5), :] = rng.random((5, 3)) * 100
    _ratio, access = space.two_step_access(op, demand, supply)
    # Σ_c D_c·A_c = Σ_j S_j when every facility has demand in reach (LITERATURE §3.1)
    np.testing.assert_allclose((demand * access).sum(axis=0), supply.sum(axis=0), rtol=1e-9)


def test_dense_and_fft_operators_agree():
    rng = np.random.default_rng(2)
    width, height = 19, 21  # 399 cells: dense
    dense = space.DecayOperator(width, height, 50.0, 250.0, 500.0)
    fft = space.DecayOperator(width, height, 50.0, 250.0, 500.0)
    fft._dense = None
    values = rng.random((width * height, 4))
    np.testing.assert_allclose(dense.apply(values), fft.apply(values), atol=1e-9)


@pytest.mark.parametrize("width,height", [(19, 21), (30, 25)])  # dense and FFT paths
def test_decay_at_a_few_cells_and_from_a_few_cells_is_the_whole_grid_s_decay(width, height):
    """The month weighs demand only at supply cells and sums supply only over them; that must be the full
    product's value there (to rounding), including cells with no supply and an empty set of cells."""
    rng = np.random.default_rng(3)
    op = space.DecayOperator(width, height, 50.0, 250.0, 500.0)
    n = width * height
    values = rng.random((n, 5))
    cells = np.sort(rng.choice(n, 12, replace=False))
    np.testing.assert_allclose(op.apply_at(cells, values), op.apply(values)[cells], rtol=1e-12)
    sparse = np.zeros_like(values)
    sparse[cells] = values[cells]
    np.testing.assert_allclose(op.apply_from(cells, sparse), op.apply(sparse), rtol=1e-12, atol=1e-12)
    none = np.array([], dtype=np.int64)
    assert op.apply_at(none, values).shape == (0, 5)
    np.testing.assert_array_equal(op.apply_from(none, np.zeros_like(values)), np.zeros_like(values))
    np.testing.assert_array_equal(space.supply_cells(sparse), cells)


def test_supply_ratio_is_zero_off_supply_and_where_no_demand_is_in_reach():
    """R_j = S_j / Σ_c W·D_c at supply cells with demand in reach, exactly 0 elsewhere, as on the whole grid."""
    op = space.DecayOperator(19, 21, 50.0, 250.0, 500.0)
    n = 19 * 21
    demand = np.zeros((n, 2))
    demand[:40] = 1.0  # demand in the bottom rows only
    supply = np.zeros((n, 2))
    supply[[5, n - 1], 0] = 10.0  # one supply cell near the demand, one out of its reach
    ratio = space.supply_ratio(op, demand, supply)
    whole = op.apply(demand)
    assert ratio[5, 0] == pytest.approx(10.0 / whole[5, 0], rel=1e-12) and ratio[5, 0] > 0
    assert whole[n - 1, 0] == 0 and ratio[n - 1, 0] == 0
    assert np.count_nonzero(ratio) == 1
