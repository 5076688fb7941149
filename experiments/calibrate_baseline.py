"""Calibrate the satisfaction cut-points to the Dongguan survey (seed 004).

The survey (n = 491) found overall satisfaction "average" for 48.5% and
"dissatisfied" for 25% of respondents. We run the fragmented baseline with
provisional cut-points, pool residents' latent satisfaction over the outcome
window of several seeds, and place the four cut-points at the quantiles that
give the target shares. Cut-points only map the latent scale to the 5-point
scale; they are then fixed for every scenario, so differences between
scenarios still come only from the agents' rules.

The split inside "dissatisfied" (very/somewhat) and inside "satisfied" is not
reported by the seed; we assume 8/17 and 21.5/5 (documented in docs/calibration.md).

    .venv/bin/python experiments/calibrate_baseline.py [--seeds 5]
"""

from __future__ import annotations

import argparse

import numpy as np

from coprod_sim import Model, load_config

# very dissatisfied, dissatisfied, average, satisfied, very satisfied
TARGET = np.array([0.08, 0.17, 0.485, 0.215, 0.05])


def pooled_latent(seeds: int) -> np.ndarray:
    """Residents' latent satisfaction in every month of the outcome window, pooled over seeds 0..seeds-1."""
    cfg = load_config("baseline")
    steps, window = cfg["run"]["steps"], cfg["run"]["outcome_window"]
    pooled = []
    for seed in range(seeds):
        model = Model(rng=seed, scenario=cfg)

        def keep(month: int, model: Model = model) -> None:
            if month > steps - window:
                pooled.append(model.residents.latent_satisfaction.copy())

        model.run_model(on_step=keep)
    return np.concatenate(pooled)


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    latent = pooled_latent(args.seeds)
    cuts = np.quantile(latent, np.cumsum(TARGET)[:-1])
    print("cut-points for satisfaction.cutpoints:", [round(float(c), 3) for c in cuts])


if __name__ == "__main__":
    main()
