"""The calibration pipeline recovers known answers, and reads the model as the survey does."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL_PARAMS

from coprod_sim.domain import SERVICE_TYPES
from coprod_sim.experiments import calibration as cal


def _synthetic(rng: np.random.Generator, n: int = 100_000) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    overall = rng.normal(0.3, 0.15, n)
    items = {s: rng.normal(0.1 + 0.04 * k, 0.15, n // 4) for k, s in enumerate(SERVICE_TYPES)}
    items[cal.BEST_ITEM] = rng.normal(0.55, 0.15, n // 4)  # the best item, as in the survey
    return overall, items


def test_target_distribution_adds_the_assumed_splits_to_the_reported_shares():
    t = cal.target_distribution()
    assert t.sum() == pytest.approx(1.0)
    assert t[2] == cal.AVERAGE and t[0] + t[1] == pytest.approx(cal.DISSATISFIED)
    assert t[0] == pytest.approx(0.08) and t[4] == pytest.approx(0.05)


def test_fit_recovers_a_known_noise_and_reproduces_the_overall_distribution():
    rng = np.random.default_rng(0)
    overall, items = _synthetic(rng)
    true_sigma, target = 0.2, cal.target_distribution()
    # the survey a world with this σ would report
    cuts = np.quantile(overall + true_sigma * rng.standard_normal(len(overall)), np.cumsum(target)[:-1])
    culture = float(np.mean(items[cal.BEST_ITEM] + true_sigma * rng.standard_normal(len(items[cal.BEST_ITEM]))
                            >= cuts[2]))
    result = cal.fit(overall, items, target, best_item_satisfied=culture)
    assert result.sigma == pytest.approx(true_sigma, rel=0.05)
    np.testing.assert_allclose(result.cutpoints, cuts, atol=0.01)
    assert result.item_satisfied[cal.BEST_ITEM] == pytest.approx(culture, abs=0.005)
    # the cut-points reproduce the overall distribution at the fitted σ
    latent = overall + result.sigma * np.random.default_rng(5).standard_normal(len(overall))
    shares = np.bincount(np.searchsorted(result.cutpoints, latent, side="right"), minlength=5) / len(latent)
    np.testing.assert_allclose(shares, target, atol=0.005)


def test_bootstrap_intervals_cover_the_estimate():
    rng = np.random.default_rng(1)
    signals = cal.Signals()
    for _ in range(6):
        overall, items = _synthetic(rng, 4_000)
        signals.overall.append(overall)
        signals.items.append(items)
    result = cal.calibrate(signals, bootstrap=20)
    low, high = result.sigma_ci
    assert low < result.estimate.sigma < high
    assert all(lo < c < hi for c, (lo, hi) in zip(result.estimate.cutpoints, result.cutpoints_ci, strict=True))


def test_signals_are_read_from_the_baseline_as_the_survey_reads_it():
    params = {**SMALL_PARAMS, "run.steps": 6, "run.outcome_window": 3}
    signals = cal.collect_signals(range(2), params, sample=500)
    assert len(signals.overall) == 2 and len(signals.overall[0]) == 3 * 500  # three months of 500 residents
    assert set(signals.items[0]) == set(SERVICE_TYPES)
    assert 0 < len(signals.items[0]["meals"]) <= 3 * 500  # only residents who use the type rate it
    assert not np.array_equal(signals.overall[0], signals.overall[1])
