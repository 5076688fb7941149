"""The model at scale: residents prepared and served a block of cells at a time, and snapshots that load fast,
give exactly what the one-pass formulas give (issue 18: memory per resident at a million residents)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import small

from coprod_sim.domain import K
from coprod_sim.model import Model, residents
from coprod_sim.runs import worlds

BLOCK = 700  # residents per block in these tests: a 9,000-resident district splits into many blocks


@pytest.fixture
def blocked(monkeypatch):
    monkeypatch.setattr(residents, "RESIDENTS_PER_BLOCK", BLOCK)
    monkeypatch.setattr(residents, "RESIDENTS_PER_PREPARED_BLOCK", BLOCK)


def _model(steps: int = 2) -> Model:
    model = Model(rng=3, scenario=small(extra=["population.residents=9000", "run.spin_up=3"]))
    for _ in range(steps):
        model.step()
    return model


def _flat_cell_sums(res, values: np.ndarray) -> np.ndarray:
    """The one-pass sum over each cell's residents of an (N, K) table."""
    flat = (res.cell[:, None] * K + np.arange(K)[None, :]).ravel()
    return np.bincount(flat, weights=values.ravel(), minlength=res.n_cells * K).reshape(res.n_cells, K)


@pytest.mark.parametrize("counts", [
    np.array([0, 5, 0, 0, 3000, 1, 1, 0, 800, 800, 800, 0]),  # a cell larger than a block, empty cells
    np.zeros(5, dtype=np.int64),  # no residents at all
    np.random.default_rng(0).poisson(40, 500),
])
def test_cell_blocks_cover_every_cell_and_resident_once_in_order(blocked, counts):
    blocks = residents.cell_blocks(counts)
    cells = [c for block, _ in blocks for c in range(block.start, block.stop)]
    assert cells == list(range(len(counts)))
    first = np.concatenate([[0], np.cumsum(counts)])
    for block_cells, rows in blocks:
        assert (rows.start, rows.stop) == (first[block_cells.start], first[block_cells.stop])
        # a block stops at the first cell that takes it to the block size: never more than one cell over
        assert rows.stop - rows.start <= BLOCK + counts[block_cells].max(initial=0)
    assert len(blocks) >= min(len(counts), int(counts.sum()) // (BLOCK + counts.max(initial=0)))


def test_blockwise_preparation_equals_the_one_pass_formulas(blocked):
    model = _model(steps=0)
    res = model.residents
    assert len(residents.cell_blocks(res.residents_per_cell_int, residents.RESIDENTS_PER_PREPARED_BLOCK)) > 5
    public, market = res.public_demand, res.market_afford
    weights = np.hstack([public, market * res.need, -market * public, res.need]).astype(np.float32)
    np.testing.assert_array_equal(res.result_weights, weights)
    eligible = res.voucher_eligible[:, None]
    expected = {"public_demand": public, "market_need": market * res.need, "market_public": market * public,
                "need": res.need, "voucher_market_need": market * res.need * eligible,
                "voucher_market_public": market * public * eligible,
                "needers": (res.need > res.population.coverage_need_threshold).astype(float)}
    for name, values in expected.items():
        np.testing.assert_array_equal(getattr(res, f"cell_{name}"), _flat_cell_sums(res, values), err_msg=name)


def test_blockwise_results_equal_the_one_pass_dot_products(blocked):
    model = _model()
    res, use = model.residents, model.consumption
    repeat = lambda table: np.repeat(table, res.residents_per_cell_int, axis=0)  # noqa: E731
    total = np.maximum(res.need_total, 1e-12)
    met = np.einsum("nj,nj->n", res.result_weights, repeat(use.met_table)).astype(float) / total
    performance = np.einsum("nj,nj->n", res.result_weights, repeat(use.perf_table)).astype(float) / total
    np.testing.assert_array_equal(use.met, met)
    np.testing.assert_array_equal(use.performance, performance)
    assert 0 < use.met_public.mean() <= use.met.mean()


def test_demand_is_read_at_the_prices_residents_planned_with():
    model = _model(steps=0)
    res, terms = model.residents, model.terms
    planned = res.market_afford
    terms.market_price = terms.market_price * 3  # prices move; residents re-plan only when prepared again
    np.testing.assert_array_equal(res.market_afford, planned)
    res.prepare(terms, model.layout.n_cells, res.voucher_availability)
    assert (res.market_afford <= planned).all() and (res.market_afford < planned).any()


def test_a_snapshot_loads_a_grid_that_runs_as_the_original():
    model = _model(steps=0)
    loaded = pickle.loads(worlds.snapshot_bytes(model))
    cells, original = loaded.grid._celllist, model.grid._celllist
    assert len({type(c) for c in cells}) == 1  # one class for the grid's cells, as Mesa builds it
    assert [c.coordinate for c in cells] == [c.coordinate for c in original]
    assert [sorted(c.connections) for c in cells] == [sorted(c.connections) for c in original]
    assert [len(c.agents) for c in cells] == [len(c.agents) for c in original]
    for m in (model, loaded):
        for _ in range(3):
            m.step()
    assert loaded.timeseries().equals(model.timeseries())
