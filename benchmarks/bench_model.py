"""Resident-steps per second of the default scenario at 1k, 10k and 100k residents,
next to Mesa's own Schelling example (agent-steps per second), on one core.

Targets (issue 2): ≥ 2 million resident-steps/s on the default scenario, and a
cost per resident-step that stays within 1.5× from 1,000 to 100,000 residents.

    .venv/bin/python benchmarks/bench_model.py [--repeats 3] [--steps 24]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, as the target is stated

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from coprod_sim import Model, load_config  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
TARGET_RATE = 2_000_000
TARGET_FLATNESS = 1.5


def model_rate(residents: int, steps: int, repeats: int) -> float:
    """Median resident-steps/s of stepping (set-up excluded) over ``repeats`` runs."""
    cfg = load_config("baseline", {"population.residents": residents})
    rates = []
    for seed in range(repeats):
        model = Model(rng=seed, scenario=cfg)
        model.step()  # warm-up: first-step allocations
        start = time.perf_counter()
        for _ in range(steps):
            model.step()
        rates.append(residents * steps / (time.perf_counter() - start))
    return statistics.median(rates)


def schelling_rate(steps: int, repeats: int) -> float:
    """Median agent-steps/s of mesa.examples Schelling, 100×100, density 0.8."""
    from mesa.examples.basic.schelling.model import Schelling, SchellingScenario

    rates = []
    for seed in range(repeats):
        model = Schelling(scenario=SchellingScenario(width=100, height=100, density=0.8, rng=seed))
        n = len(model.agents)
        start = time.perf_counter()
        for _ in range(steps):
            model.step()
        rates.append(n * steps / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=24)
    args = parser.parse_args()
    rates = {n: model_rate(n, args.steps, args.repeats) for n in SIZES}
    schelling = schelling_rate(10, args.repeats)
    default_n = load_config("baseline")["population"]["residents"]
    default_rate = model_rate(default_n, args.steps, args.repeats)
    print(f"{'residents':>10} {'resident-steps/s':>18} {'µs/resident-step':>17}")
    for n, r in rates.items():
        print(f"{n:>10,} {r:>18,.0f} {1e6 / r:>17.3f}")
    flatness = max(rates.values()) / min(rates.values())
    print(f"default scenario ({default_n:,} residents): {default_rate:,.0f} resident-steps/s "
          f"(target ≥ {TARGET_RATE:,}: {'met' if default_rate >= TARGET_RATE else 'NOT met'})")
    print(f"cost per resident-step, max/min over 1k–100k: {flatness:.2f}× "
          f"(target ≤ {TARGET_FLATNESS}×: {'met' if flatness <= TARGET_FLATNESS else 'NOT met'})")
    print(f"Mesa Schelling example 100×100: {schelling:,.0f} agent-steps/s; "
          f"coprod-sim default / Schelling = {default_rate / schelling:.1f}×")


if __name__ == "__main__":
    main()
