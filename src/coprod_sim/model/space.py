"""The community grid: zones, management grids, centre/periphery and access.

Space is a square grid of cells (``space.cell_size_m`` metres a side) sized so
that residents live at the configured density. Communities (社区) are square
blocks of cells; management grids (网格, seed 003) are sub-blocks of a
community; the district centre is the middle of the grid and communities are
ranked by the distance of their centroid to it, the outermost
``space.periphery_share`` forming the periphery (seed 000, centre–periphery).

Access is the two-step floating catchment area (2SFCA; Luo & Wang 2003) with a
Gaussian distance decay truncated at the catchment radius (LITERATURE §3.1–3.2).
Both steps are the same linear operator ``W`` applied to cell arrays, so the
identity Σ_c D_c·A_c = Σ_j S_j holds exactly and is tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

# Dense matrices are faster than FFT for small grids and exact to rounding;
# above this many cells the O(C²) matrix is replaced by FFT convolution.
_DENSE_MAX_CELLS = 700  # measured crossover on one core (docs/performance.md)


@dataclass(frozen=True)
class Layout:
    """Static geometry of the simulated district (built once per run)."""

    width: int
    height: int
    cell_size_m: float
    community_of_cell: np.ndarray  # (C,) community id of each cell
    mgrid_of_cell: np.ndarray  # (C,) management-grid id of each cell
    n_communities: int
    n_mgrids: int
    community_centroid_cell: np.ndarray  # (n_communities,) cell index
    community_is_periphery: np.ndarray  # (n_communities,) bool
    community_distance_m: np.ndarray  # (n_communities,) to the district centre
    station_cell_of_community: np.ndarray  # (n_communities,) service-centre cell
    station_of_community: np.ndarray  # (n_communities,) station id

    @property
    def n_cells(self) -> int:
        return self.width * self.height

    def cell_xy(self, cell: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """Grid coordinates (x, y) of flat cell indices (row-major, y-major)."""
        return np.asarray(cell) % self.width, np.asarray(cell) // self.width


def build_layout(
    n_residents: int,
    density_per_km2: float,
    cell_size_m: float,
    community_size: int,
    mgrid_residents: int,
    periphery_share: float,
    merge_size: int,
) -> Layout:
    """Derive the grid and its zones from population size and density.

    The grid grows with the population at fixed density, so the number of
    communities, grids and facilities grows in proportion: this is what keeps
    the cost per resident flat as the model is scaled up.
    """
    area_cells = n_residents / (density_per_km2 * (cell_size_m / 1000.0) ** 2)
    n_comm = max(1, round(n_residents / community_size))
    comm_cols = max(1, int(np.ceil(np.sqrt(n_comm))))
    comm_rows = int(np.ceil(n_comm / comm_cols))
    side = max(1.0, np.sqrt(area_cells / (comm_cols * comm_rows)))
    block = max(1, round(side))
    width, height = comm_cols * block, comm_rows * block
    ys, xs = np.divmod(np.arange(width * height), width)
    community = (ys // block) * comm_cols + (xs // block)
    n_comm = comm_cols * comm_rows
    # management grids: sub-blocks of each community of ~mgrid_residents people
    per_cell = n_residents / (width * height)
    grids_per_side = max(1, round(np.sqrt(block * block * per_cell / mgrid_residents)))
    sub = max(1, int(np.ceil(block / grids_per_side)))
    gx, gy = (xs % block) // sub, (ys % block) // sub
    mgrid = community * grids_per_side**2 + gy * grids_per_side + gx
    _, mgrid = np.unique(mgrid, return_inverse=True)
    cx = (np.arange(n_comm) % comm_cols) * block + block // 2
    cy = (np.arange(n_comm) // comm_cols) * block + block // 2
    centroid = cy * width + cx
    dist_m = np.hypot(cx + 0.5 - width / 2, cy + 0.5 - height / 2) * cell_size_m
    order = np.argsort(dist_m, kind="stable")
    periphery = np.zeros(n_comm, dtype=bool)
    n_periph = round(periphery_share * n_comm)
    if n_periph:
        periphery[order[n_comm - n_periph :]] = True
    station_of, host = _merge_stations(order, np.column_stack([cx, cy]).astype(float), merge_size)
    station_cell = centroid[host]
    return Layout(
        width=width,
        height=height,
        cell_size_m=cell_size_m,
        community_of_cell=community.astype(np.int64),
        mgrid_of_cell=mgrid.astype(np.int64),
        n_communities=n_comm,
        n_mgrids=int(mgrid.max()) + 1,
        community_centroid_cell=centroid.astype(np.int64),
        community_is_periphery=periphery,
        community_distance_m=dist_m,
        station_cell_of_community=station_cell,
        station_of_community=station_of,
    )


def _merge_stations(
    order: np.ndarray, centroid_xy: np.ndarray, merge_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Group neighbouring communities into service stations of ``merge_size`` (宜合则合).

    Greedy: the most central unassigned community hosts a station and takes its
    nearest unassigned neighbours. The station sits in the host, which leaves
    the outer members of a merged unit far from their centre (seed 000,
    centre–periphery problem).
    """
    n = len(order)
    station_of = np.full(n, -1, dtype=np.int64)
    station_cell = np.empty(n, dtype=np.int64)
    station = 0
    for host in order:
        if station_of[host] >= 0:
            continue
        free = np.flatnonzero(station_of < 0)
        dist = np.hypot(*(centroid_xy[free] - centroid_xy[host]).T)
        members = free[np.argsort(dist, kind="stable")[:merge_size]]
        station_of[members] = station
        station_cell[members] = host
        station += 1
    return station_of, station_cell

def decay_weight(distance_m: np.ndarray, sigma_m: float, radius_m: float) -> np.ndarray:
    """Gaussian decay truncated at the catchment radius (LITERATURE §3.2)."""
    d = np.asarray(distance_m, dtype=float)
    return np.exp(-(d**2) / (2.0 * sigma_m**2)) * (d <= radius_m)


class DecayOperator:
    """Applies Gaussian distance decay W(d) = exp(-d²/2σ²)·1[d ≤ d0] over cells.

    ``apply(values)`` returns Σ_j W(d_cj)·values_j for every cell c, for many
    channels at once; W is symmetric so the same operator serves both 2SFCA
    steps.
    """

    def __init__(self, width: int, height: int, cell_size_m: float, sigma_m: float, radius_m: float):
        self.width, self.height = width, height
        r = int(np.floor(radius_m / cell_size_m))
        off = np.arange(-r, r + 1) * cell_size_m
        self.kernel = decay_weight(np.hypot(off[:, None], off[None, :]), sigma_m, radius_m)
        self._dense = None
        n = width * height
        if n <= _DENSE_MAX_CELLS:
            ys, xs = np.divmod(np.arange(n), width)
            dist = np.hypot(xs[:, None] - xs[None, :], ys[:, None] - ys[None, :]) * cell_size_m
            self._dense = decay_weight(dist, sigma_m, radius_m)

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Σ_j W(c, j)·values[j, :] for a (cells, channels) array."""
        if self._dense is not None:
            return self._dense @ values
        grid = values.reshape(self.height, self.width, -1)
        out = fftconvolve(grid, self.kernel[:, :, None], mode="same", axes=(0, 1))
        # FFT leaves round-off of ~1e-16 where the true value is 0
        np.maximum(out, 0.0, out=out)
        return out.reshape(self.height * self.width, -1)

    def apply_at(self, cells: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``apply(values)[cells]``, computed for those cells only.

        Most readers of a decayed sum need it at a few cells (the cells that hold supply, the communities'
        centres), and a product over those rows costs a fraction of the whole grid's.
        """
        if self._dense is not None:
            return self._dense[cells] @ values
        return self.apply(values)[cells]

    def apply_from(self, cells: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``apply(values)`` for values that are zero outside ``cells``.

        Supply sits on few cells, so 2SFCA's second step sums over those alone; W is symmetric, so their
        rows of W are the columns the sum needs.
        """
        if self._dense is not None:
            return self._dense[cells].T @ values[cells]
        return self.apply(values)


def supply_cells(supply: np.ndarray) -> np.ndarray:
    """The cells (rows of a (cells, channels) array) that hold any supply: the only ones 2SFCA's ratios live on."""
    return np.flatnonzero(supply.any(axis=1))


def two_step_access(
    op: DecayOperator, demand: np.ndarray, supply: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """2SFCA: supply-to-demand ratio R at supply cells and access A at all cells.

    ``demand`` and ``supply`` are (cells, channels). A cell's A is the capacity
    reachable per unit of demand; where a supply cell has no demand in reach
    R is 0 (the capacity is unusable).
    """
    ratio = supply_ratio(op, demand, supply)
    return ratio, op.apply_from(supply_cells(ratio), ratio)


def supply_ratio(op: DecayOperator, demand: np.ndarray, supply: np.ndarray,
                 demand_in_reach: np.ndarray | None = None) -> np.ndarray:
    """2SFCA step 1: R_j = S_j / Σ_c W(d_cj)·D_c (0 where no demand is in reach, and off the supply cells).

    ``demand_in_reach`` is Σ_c W(d_cj)·D_c when the caller already has it; otherwise it is weighed at the
    supply cells only, the only ones where R can be other than 0.
    """
    at = supply_cells(supply)
    weighted = op.apply_at(at, demand) if demand_in_reach is None else demand_in_reach[at]
    ratio = np.zeros_like(supply)
    ratio[at] = np.divide(supply[at], weighted, out=np.zeros_like(weighted), where=weighted > 0)
    return ratio
