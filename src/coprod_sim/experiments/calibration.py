"""Calibration of the satisfaction scale to the Dongguan survey (seed 004), with its uncertainty.

What is fitted, and why only this. Residents' latent satisfaction is s = a + b1·P + b3·(P − E) + ε,
ε ~ N(0, σ²) (Van Ryzin 2004, 2006; ``rules.expectation_disconfirmation``). The latent scale has no
unit, so four cut-points map it to the 5-point scale, and the noise σ sets how much of a rating is the
resident's own idiosyncrasy rather than the service it received. Neither can be read off the seeds;
both are fitted here, once, on the fragmented baseline, and then fixed for every scenario. Ratings do
not feed back into the dynamics (the simulated district is the same whatever the cut-points and σ), so
the fit re-weighs the baseline's simulated residents and needs no re-simulation.

The moments (seed 004, n = 491):

* the overall distribution: "average" 48.5%, "dissatisfied" 25% (so satisfied 26.5%); the split inside
  dissatisfied (very/somewhat, 8/17) and inside satisfied (21.5/5) is not reported and stays an assumption;
* the per-item pattern: culture, the best single item, is rated satisfied by 51.2%, every other item by
  less than 50%.

Given σ, the cut-points that reproduce the overall distribution exactly are the quantiles of the pooled
latent satisfaction at the cumulative target shares. σ is then chosen to minimise the per-item distance:
(culture's satisfied share − 0.512)² plus, for every other item, the square of its share above 0.50.
The uncertainty is a bootstrap that redraws both what is uncertain: the survey (multinomial and binomial
draws of 491 respondents around the reported shares) and the model (seeds resampled with replacement).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from ..config import Config, ParamsLike, load_config
from ..config.params import SatisfactionParams
from ..domain import SERVICE_TYPES
from ..model import Model
from ..model.consume import performance_by_type
from ..model.rules import expectation_disconfirmation

SURVEY_N = 491
AVERAGE, DISSATISFIED = 0.485, 0.25
VERY_DISSATISFIED_SHARE, VERY_SATISFIED_SHARE = 8 / 25, 5 / 26.5  # assumption: splits the seed does not report
BEST_ITEM, BEST_ITEM_SATISFIED, OTHERS_BELOW = "culture", 0.512, 0.50
SIGMA_BOUNDS = (0.005, 1.0)
RATING_NOISE_SEED = 491  # the fit's own stream of rating noise (common random numbers across σ)


def target_distribution(average: float = AVERAGE, dissatisfied: float = DISSATISFIED) -> np.ndarray:
    """Shares of the five levels (very dissatisfied … very satisfied) from the two reported shares."""
    satisfied = 1.0 - average - dissatisfied
    very_dis = dissatisfied * VERY_DISSATISFIED_SHARE
    very_sat = satisfied * VERY_SATISFIED_SHARE
    return np.array([very_dis, dissatisfied - very_dis, average, satisfied - very_sat, very_sat])


@dataclass
class Signals:
    """The baseline's residents as the survey sees them, without the rating noise, pooled over the outcome
    window; one block per seed so the bootstrap can resample seeds."""

    overall: list[np.ndarray] = field(default_factory=list)  # a + b1·P + b3·(P − E) per resident-month
    items: list[dict[str, np.ndarray]] = field(default_factory=list)  # the same per service type, its users

    def pooled(self, seeds: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        chosen = range(len(self.overall)) if seeds is None else seeds
        overall = np.concatenate([self.overall[i] for i in chosen])
        items = {s: np.concatenate([self.items[i][s] for i in chosen]) for s in SERVICE_TYPES}
        return overall, items


def collect_signals(seeds: range, params: ParamsLike = None, sample: int = 4000) -> Signals:
    """Run the baseline for each seed and keep, in every month of the outcome window, the noise-free latent
    satisfaction of ``sample`` residents overall and per service type they use (the survey's rule)."""
    cfg = load_config("baseline", params)
    signals = Signals()
    for seed in seeds:
        overall, items = _one_run(cfg, seed, sample)
        signals.overall.append(overall)
        signals.items.append(items)
    return signals


def _one_run(cfg: Config, seed: int, sample: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    sat = cfg.satisfaction
    first = cfg.run.steps - cfg.run.outcome_window + 1
    model = Model(rng=seed, scenario=cfg)
    pick = np.random.default_rng([seed, 7])  # which residents are kept: not the model's streams
    overall: list[np.ndarray] = []
    items: dict[str, list[np.ndarray]] = {s: [] for s in SERVICE_TYPES}

    def keep(month: int) -> None:
        if month < first:
            return
        res = model.residents
        who = pick.choice(res.n, size=min(sample, res.n), replace=False)
        expectation = res.rated_expectation[who]
        overall.append(_signal(res.performance[who], expectation, sat))
        assert model.consumption is not None  # set by the month just measured
        performance = np.clip(performance_by_type(model, model.consumption, who) - res.issue_burden[who, None],
                              0.0, 1.0)
        uses = res.need[who] > cfg.population.coverage_need_threshold
        for k, s in enumerate(SERVICE_TYPES):
            items[s].append(_signal(performance[uses[:, k], k], expectation[uses[:, k]], sat))

    model.run_model(on_step=keep)
    return np.concatenate(overall), {s: np.concatenate(v) for s, v in items.items()}


def _signal(performance: np.ndarray, expectation: np.ndarray, sat: SatisfactionParams) -> np.ndarray:
    return expectation_disconfirmation(performance, expectation, sat.intercept, sat.b_performance,
                                       sat.b_disconfirmation, 0.0)


@dataclass
class Fit:
    sigma: float
    cutpoints: np.ndarray
    item_satisfied: dict[str, float]
    loss: float


def fit(overall: np.ndarray, items: dict[str, np.ndarray], target: np.ndarray,
        best_item_satisfied: float = BEST_ITEM_SATISFIED, rng: np.random.Generator | None = None) -> Fit:
    """The σ and cut-points that reproduce the overall distribution exactly and the per-item pattern as
    closely as possible (module docstring). The rating noise is drawn once (common random numbers), so
    the loss is a smooth function of σ."""
    rng = rng or np.random.default_rng(RATING_NOISE_SEED)
    z_overall = rng.standard_normal(len(overall))
    z_items = {s: rng.standard_normal(len(v)) for s, v in items.items()}
    quantiles = np.cumsum(target)[:-1]

    def evaluate(sigma: float) -> Fit:
        cuts = np.quantile(overall + sigma * z_overall, quantiles)
        shares = {s: float(np.mean(v + sigma * z_items[s] >= cuts[2])) if len(v) else np.nan
                  for s, v in items.items()}
        loss = (shares[BEST_ITEM] - best_item_satisfied) ** 2 + sum(
            max(0.0, share - OTHERS_BELOW) ** 2 for s, share in shares.items() if s != BEST_ITEM)
        return Fit(sigma, cuts, shares, loss)

    grid = np.geomspace(*SIGMA_BOUNDS, 40)  # the loss need not be unimodal: search a grid, then refine
    losses = [evaluate(s).loss for s in grid]
    i = int(np.argmin(losses))
    low, high = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    best = optimize.minimize_scalar(lambda s: evaluate(s).loss, bounds=(low, high), method="bounded",
                                    options={"xatol": 1e-4})
    return evaluate(float(best.x)) if best.fun <= losses[i] else evaluate(float(grid[i]))


@dataclass
class Calibration:
    estimate: Fit
    replicates: list[Fit]  # bootstrap refits

    def interval(self, values: list[float]) -> tuple[float, float]:
        low, high = np.percentile(values, [2.5, 97.5])
        return float(low), float(high)

    @property
    def sigma_ci(self) -> tuple[float, float]:
        return self.interval([f.sigma for f in self.replicates])

    @property
    def cutpoints_ci(self) -> list[tuple[float, float]]:
        return [self.interval([f.cutpoints[j] for f in self.replicates]) for j in range(4)]


def calibrate(signals: Signals, bootstrap: int = 200, seed: int = 0) -> Calibration:
    """Fit on all seeds and the reported shares, then refit ``bootstrap`` times on resampled seeds and
    survey draws of 491 respondents."""
    overall, items = signals.pooled()
    estimate = fit(overall, items, target_distribution())
    rng = np.random.default_rng([RATING_NOISE_SEED, seed])
    replicates = []
    n_seeds = len(signals.overall)
    for _ in range(bootstrap):
        seeds = rng.integers(0, n_seeds, n_seeds)
        dissatisfied, average, _ = rng.multinomial(SURVEY_N, [DISSATISFIED, AVERAGE, 1 - DISSATISFIED - AVERAGE])
        best = rng.binomial(SURVEY_N, BEST_ITEM_SATISFIED) / SURVEY_N
        o, it = signals.pooled(seeds)
        replicates.append(fit(o, it, target_distribution(average / SURVEY_N, dissatisfied / SURVEY_N), best, rng))
    return Calibration(estimate, replicates)
