"""Resident-steps per second of the default scenario at 1k, 10k and 100k residents,
next to Mesa's own Schelling example (agent-steps per second), on one core.

A run is timed whole: building the model, its spin-up (``run.spin_up`` months,
simulated before reported month 1) and ``--steps`` reported months; a
resident-step is one resident in one simulated month, spin-up included.

Targets: ≥ 2.5 million resident-steps/s on the default scenario, spin-up
included (issue 8; 2 million in issue 2), and a cost per resident-step that
stays within 1.5× from 1,000 to 100,000 residents (issue 2).

    .venv/bin/python benchmarks/bench_model.py [--repeats 3] [--steps 24]

``--against REV`` instead compares the default scenario's speed with an earlier
commit: both versions run in fresh processes, alternately, ``--rounds`` times, so
a change that makes the model slower is told apart from this machine's noise
(±15% between runs of the same code; ±2% between the medians of 8 alternations).
With ``--count instructions`` it counts the CPU instructions of ``--steps`` months
under valgrind's callgrind instead: slow (minutes) but free of timing noise.

    .venv/bin/python benchmarks/bench_model.py --against e06278d --rounds 8
    .venv/bin/python benchmarks/bench_model.py --against e06278d --count instructions --steps 10
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, as the target is stated

import argparse  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

from coprod_sim import Model, load_config  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
TARGET_RATE = 2_500_000
TARGET_FLATNESS = 1.5


def model_rate(residents: int, steps: int, repeats: int) -> tuple[float, float]:
    """Median resident-steps/s of whole runs (build, spin-up and ``steps`` reported months; every simulated
    month counts) over ``repeats`` runs, and the median seconds per run."""
    cfg = load_config("baseline", {"population.residents": residents})
    months = cfg.run.spin_up + steps
    seconds = []
    for seed in range(repeats):
        start = time.perf_counter()
        model = Model(rng=seed, scenario=cfg)
        for _ in range(steps):
            model.step()
        seconds.append(time.perf_counter() - start)
    run_time = statistics.median(seconds)
    return residents * months / run_time, run_time


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


# Times the default scenario in whichever version of the package is on the path. Versions before
# the public API (0.1) built the model as CoProductionModel(cfg, seed=...).
_TIMING = """
import os, statistics, time
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
try:
    from coprod_sim import Model, load_config
    cfg = load_config("baseline")
    make = lambda seed: Model(rng=seed, scenario=cfg)
except ImportError:
    from coprod_sim.config import load_config
    from coprod_sim.model import CoProductionModel
    cfg = load_config("configs/baseline.yaml")
    make = lambda seed: CoProductionModel(cfg, seed=seed)
n = cfg.population.residents if hasattr(cfg, "population") else cfg["population"]["residents"]
rates = []
for seed in range({repeats}):
    model = make(seed)
    for _ in range({warmup}):
        model.step()
    start = time.perf_counter()
    for _ in range({steps}):
        model.step()
    rates.append(n * {steps} / (time.perf_counter() - start))
print(statistics.median(rates))
"""


def _worktree(root: Path, rev: str, tmp: str) -> Path:
    tree = Path(tmp) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), rev], cwd=root, check=True)
    return tree


def compare_with(rev: str, rounds: int, steps: int, repeats: int) -> None:
    """Default-scenario speed of this tree and of commit ``rev``, measured alternately in fresh processes."""
    root = Path(__file__).resolve().parents[1]
    code = _TIMING.format(steps=steps, repeats=repeats, warmup=1)
    with tempfile.TemporaryDirectory(prefix="bench_against_") as tmp:
        trees = {"this tree": root, rev: _worktree(root, rev, tmp)}
        try:
            rates: dict[str, list[float]] = {name: [] for name in trees}
            for _ in range(rounds):
                for name, tree in trees.items():
                    out = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True,
                                         check=True, env={**os.environ, "PYTHONPATH": str(tree / "src")})
                    rates[name].append(float(out.stdout))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(trees[rev])], cwd=root, check=True)
    for name, values in rates.items():
        print(f"{name:>12}: median {statistics.median(values):,.0f} resident-steps/s over {rounds} rounds "
              f"(range {min(values):,.0f} … {max(values):,.0f})")
    ratio = statistics.median(rates["this tree"]) / statistics.median(rates[rev])
    print(f"this tree / {rev} = {ratio:.3f}")


def _instructions(tree: Path, months: int) -> int:
    """CPU instructions of a whole process that builds the default scenario and steps it ``months`` times."""
    code = _TIMING.format(steps=months, repeats=1, warmup=0)
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        # repeatable counts need a fixed string-hash seed and no address randomisation (setarch -R):
        # set and dict iteration, and objects hashed by address, otherwise take different paths run to run
        command = ["setarch", platform.machine(), "-R", "valgrind", "--tool=callgrind",
                   f"--callgrind-out-file={out.name}", sys.executable, "-c", code]
        proc = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONHASHSEED": "0"})
    return int(re.search(r"Collected : (\d+)", proc.stderr).group(1))


def count_against(rev: str, months: int) -> None:
    """Instructions per month of this tree and of ``rev``: (runs of 1 + months) − (runs of 1), under callgrind."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="bench_against_") as tmp:
        trees = {"this tree": root, rev: _worktree(root, rev, tmp)}
        try:
            jobs = [(name, tree, n) for name, tree in trees.items() for n in (1, 1 + months)]
            with ThreadPoolExecutor(max_workers=2) as pool:
                counts = dict(zip([(j[0], j[2]) for j in jobs], pool.map(lambda j: _instructions(j[1], j[2]), jobs),
                                  strict=True))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(trees[rev])], cwd=root, check=True)
    per_month = {name: (counts[(name, 1 + months)] - counts[(name, 1)]) / months for name in trees}
    for name, value in per_month.items():
        print(f"{name:>12}: {value:,.0f} instructions per month (default scenario, {months} months after the first)")
    print(f"this tree / {rev} = {per_month['this tree'] / per_month[rev]:.3f}")


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--against", metavar="REV", default=None,
                        help="compare the default scenario's speed with this git commit instead")
    parser.add_argument("--rounds", type=int, default=5, help="alternations with --against (default 5)")
    parser.add_argument("--count", choices=("time", "instructions"), default="time",
                        help="with --against: time alternately (default), or count instructions under callgrind")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.against and args.count == "instructions":
        count_against(args.against, args.steps)
        return
    if args.against:
        compare_with(args.against, args.rounds, args.steps, args.repeats)
        return
    rates = {n: model_rate(n, args.steps, args.repeats)[0] for n in SIZES}
    schelling = schelling_rate(10, args.repeats)
    default = load_config("baseline")
    default_n, default_steps = default.population.residents, default.run.steps
    default_rate, default_seconds = model_rate(default_n, default_steps, args.repeats)
    print(f"{'residents':>10} {'resident-steps/s':>18} {'µs/resident-step':>17}   "
          f"(spin-up {default.run.spin_up} + {args.steps} months)")
    for n, r in rates.items():
        print(f"{n:>10,} {r:>18,.0f} {1e6 / r:>17.3f}")
    flatness = max(rates.values()) / min(rates.values())
    print(f"default scenario ({default_n:,} residents, spin-up {default.run.spin_up} + {default_steps} months): "
          f"{default_rate:,.0f} resident-steps/s, {default_seconds:.2f} s a run "
          f"(target ≥ {TARGET_RATE:,}: {'met' if default_rate >= TARGET_RATE else 'NOT met'})")
    print(f"cost per resident-step, max/min over 1k–100k: {flatness:.2f}× "
          f"(target ≤ {TARGET_FLATNESS}×: {'met' if flatness <= TARGET_FLATNESS else 'NOT met'})")
    print(f"Mesa Schelling example 100×100: {schelling:,.0f} agent-steps/s; "
          f"coprod-sim default / Schelling = {default_rate / schelling:.1f}×")


if __name__ == "__main__":
    main()
