"""Resident-steps per second of the default scenario at 1k, 10k, 100k and 1M residents,
next to Mesa's own Schelling example (agent-steps per second) in the same run, on one
core, and the memory a million-resident run needs.

A run is timed whole: building the model, its spin-up (``run.spin_up`` months,
simulated before reported month 1) and ``--steps`` reported months; a
resident-step is one resident in one simulated month, spin-up included. Memory is
measured in a fresh process: the peak resident set of building the largest district
and running it ``--memory-months`` months, less that of the process before the model,
per resident (and the same at the end of the run, the model's steady footprint).

Targets (issue 18): ≥ 5 million resident-steps/s on the default scenario, spin-up
included, and ≥ 35× Mesa's Schelling example per agent-step; a cost per
resident-step within 1.5× from 1,000 to 1,000,000 residents; ≤ 0.5 KB per resident
at 1,000,000 residents.

    .venv/bin/python benchmarks/bench_model.py [--repeats 3] [--steps 24] [--sizes 1000 10000]

``--stages`` instead times each stage of the default scenario's month (docs/ODD.md §3) and the
outcomes, in CPU milliseconds per reported month: where a faster month has to come from.

    .venv/bin/python benchmarks/bench_model.py --stages --steps 60

``--against REV`` instead compares the default scenario's speed with an earlier
commit (or, with ``--against python:PATH``, with this tree under another interpreter, benchmarks/against.py):
both versions run in fresh processes, alternately, ``--rounds`` times, so
a change that makes the model slower is told apart from this machine's noise
(±15% between runs of the same code; ±2% between the medians of 8 alternations).
With ``--count instructions`` it counts the CPU instructions of ``--steps`` months
under valgrind's callgrind instead: slow (minutes) but free of timing noise. Without ``--against``,
``--count instructions`` shows where this tree's month spends its instructions, by compiled function
(BLAS, numpy's loops, the random generator, the interpreter):

    .venv/bin/python benchmarks/bench_model.py --count instructions --steps 10

``--residents N`` counts at another district size (with or without ``--against``):

    .venv/bin/python benchmarks/bench_model.py --against 64618ae --count instructions --steps 10 --residents 1000

Instructions are not time: an instruction of the interpreter costs more time than one of numpy's loops over an
array. ``--count samples`` shows where the month's *time* goes, by sampling the processor clock with Linux
``perf`` during ``--steps`` months after a warm-up (recording is switched on for those months only):

    .venv/bin/python benchmarks/bench_model.py --count samples --steps 300

With ``--measured KEY …`` the model measures only those outcomes (``Model.measure_only``), as a sweep's runs do
that keep only them; a commit without ``measure_only`` measures everything. ``--stages`` takes ``--residents`` and
``--measured`` too: where a small district's month goes, and what measuring the outcomes costs there:

    .venv/bin/python benchmarks/bench_model.py --stages --steps 300 --residents 1000
    .venv/bin/python benchmarks/bench_model.py --stages --steps 300 --residents 1000 \
        --measured quality.needs_met_share cost.public_spending

With ``--stages`` it times each stage of both versions alternately (``--repeats`` runs each round) and
reports each stage's medians and their ratio: where a change's gain or loss sits.

    .venv/bin/python benchmarks/bench_model.py --stages --steps 60 --against 42041ff --rounds 3

    .venv/bin/python benchmarks/bench_model.py --against e06278d --rounds 8
    .venv/bin/python benchmarks/bench_model.py --against e06278d --count instructions --steps 10
    .venv/bin/python benchmarks/bench_model.py --against 99fd58d --count instructions --steps 10 \
        --measured quality.needs_met_share cost.public_spending
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, as the target is stated

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

from against import PYTHON, ROOT, Version, alternate, compiled, revision, run_in, versions  # noqa: E402

from coprod_sim import Model, load_config  # noqa: E402
from coprod_sim.cli.runs import whole_number_option  # noqa: E402

SIZES = (1_000, 10_000, 100_000, 1_000_000)
TARGET_RATE = 5_000_000
TARGET_SCHELLING = 35.0
TARGET_FLATNESS = 1.5
TARGET_BYTES_PER_RESIDENT = 500

# Peak and final resident set of building the default scenario at a given size and running it, less the
# process's own before the model exists, per resident. Linux's VmHWM is this process's own high-water mark;
# getrusage's ru_maxrss is not: it keeps the parent's resident set from before the exec.
_MEMORY = """
import os
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
from coprod_sim import Model, load_config
def resident_set():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
def high_water():
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024
cfg = load_config("baseline", {{"population.residents": {residents}, "run.spin_up": {months}}})
before = resident_set()
model = Model(rng=0, scenario=cfg)
model.step()
peak = high_water()
print((peak - before) / {residents}, (resident_set() - before) / {residents})
"""


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


def memory_per_resident(residents: int, months: int) -> tuple[float, float]:
    """Bytes per resident of a district of ``residents``: the peak over building it and ``months`` months
    (spin-up) plus one reported month, and what the model holds at the end; in a fresh process."""
    code = _MEMORY.format(residents=residents, months=months)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    peak, final = (float(x) for x in out.stdout.split())
    return peak, final


# the stages of a month as Model._month calls them (module, attribute), then the month's outcomes
STAGES = (("plan", "release_and_plan"), ("produce", "approve_enter_and_staff"), ("consume", "use_services"),
          ("settle", "Payments.pay_and_settle"), ("respond", "rate_and_report"), ("issues", "IssuePipeline.step"),
          ("model", "measure"))


def stage_times(steps: int, repeats: int, residents: int | None = None,
                measured: list[str] | None = None) -> dict[str, float]:
    """Median CPU ms per reported month of each stage of the default scenario (of ``residents``, measuring only
    the ``measured`` outcomes, if given), after its spin-up: each stage's function is wrapped with a CPU clock
    for the timed months only."""
    import importlib

    spent: dict[str, list[float]] = {f"{module}.{name}": [] for module, name in STAGES}
    config = load_config("baseline", {"population.residents": residents} if residents else None)
    for seed in range(repeats):
        model = Model(rng=seed, scenario=config)
        if measured:
            model.measure_only(measured)
        clocks = dict.fromkeys(spent, 0.0)
        originals = []
        for module, name in STAGES:
            owner = importlib.import_module(f"coprod_sim.model.{module}")
            *path, attribute = name.split(".")
            for part in path:
                owner = getattr(owner, part)
            originals.append((owner, attribute, getattr(owner, attribute)))
            setattr(owner, attribute, _clocked(getattr(owner, attribute), clocks, f"{module}.{name}"))
        try:
            start = time.process_time()
            for _ in range(steps):
                model.step()
            clocks["whole month"] = time.process_time() - start
        finally:
            for owner, attribute, original in originals:
                setattr(owner, attribute, original)
        for key, seconds in clocks.items():
            spent.setdefault(key, []).append(seconds * 1000 / steps)
    return {key: statistics.median(values) for key, values in spent.items()}


def _clocked(function, clocks: dict[str, float], key: str):
    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            clocks[key] += time.process_time() - start
    return timed


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
    cfg = load_config("baseline", {overrides!r} or None)
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
    if {measured!r} is not None and hasattr(model, "measure_only"):
        model.measure_only({measured!r})
    for _ in range({warmup}):
        model.step()
    start = time.perf_counter()
    for _ in range({steps}):
        model.step()
    rates.append(n * {steps} / (time.perf_counter() - start))
print(statistics.median(rates))
"""


def compare_with(rev: str, rounds: int, steps: int, repeats: int, measured: list[str] | None = None) -> None:
    """Default-scenario speed of this tree and of commit ``rev``, measured alternately in fresh processes."""
    code = _TIMING.format(steps=steps, repeats=repeats, warmup=1, measured=measured, overrides={})
    rates = {name: [float(out) for out in outs]
             for name, outs in alternate(rev, rounds, [PYTHON, "-c", code]).items()}
    for name, values in rates.items():
        print(f"{name:>12}: median {statistics.median(values):,.0f} resident-steps/s over {rounds} rounds "
              f"(range {min(values):,.0f} … {max(values):,.0f})")
    ratio = statistics.median(rates["this tree"]) / statistics.median(rates[rev])
    print(f"this tree / {rev} = {ratio:.3f}")


def _instructions(version: Version, months: int, measured: list[str] | None = None, residents: int | None = None,
                  spin_up: bool = False) -> int:
    """CPU instructions of a whole process that builds the default scenario and steps it ``months`` times (with
    ``spin_up``: builds it with ``months`` spin-up months and steps it none)."""
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        proc = _under_callgrind(version, months, measured, out.name, residents, spin_up)
    return int(re.search(r"Collected : (\d+)", proc.stderr).group(1))


def _under_callgrind(version: Version, months: int, measured: list[str] | None, out: str,
                     residents: int | None = None, spin_up: bool = False) -> subprocess.CompletedProcess:
    """Build the default scenario (of ``residents``, if given) and step it ``months`` times under callgrind, its
    counts written to ``out``; with ``spin_up``, build it with ``months`` spin-up months and step it none."""
    overrides: dict[str, int] = {"population.residents": residents} if residents else {}
    if spin_up:
        overrides["run.spin_up"] = months
    code = _TIMING.format(steps=0 if spin_up else months, repeats=1, warmup=0, measured=measured,
                          overrides=overrides)
    # repeatable counts need a fixed string-hash seed and no address randomisation (setarch -R):
    # set and dict iteration, and objects hashed by address, otherwise take different paths run to run
    command = ["setarch", platform.machine(), "-R", "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               PYTHON, "-c", code]
    return run_in(version, command, PYTHONHASHSEED="0")


def _instructions_by_function(version: Version, months: int, measured: list[str] | None,
                              residents: int | None = None) -> dict[str, int]:
    """Instructions of each compiled function (the interpreter, numpy's loops, BLAS, …) in a process that builds
    the default scenario and steps it ``months`` times, as ``callgrind_annotate`` attributes them."""
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        _under_callgrind(version, months, measured, out.name, residents)
        table = subprocess.run(["callgrind_annotate", "--threshold=100", out.name], capture_output=True, text=True,
                               check=True).stdout
    counts: dict[str, int] = {}
    for count, where in re.findall(r"^\s*([\d,]+) \([^)]*\)\s+(.+)$", table, flags=re.MULTILINE):
        if where.strip() == "PROGRAM TOTALS":
            continue
        function = where.split(" [")[0].split(":", 1)[-1]  # "file:function", where C++ names hold "::" too
        library = Path(where.rsplit("[", 1)[-1].rstrip("]")).name if "[" in where else ""
        label = f"{function} ({library})" if library else function
        counts[label] = counts.get(label, 0) + int(count.replace(",", ""))
    return counts


def where_instructions_go(months: int, measured: list[str] | None = None, residents: int | None = None,
                          top: int = 30) -> None:
    """Instructions per reported month of this tree's default scenario by compiled function: (a run of 1 + months)
    − (a run of 1), so imports, building and the spin-up cancel out. What the month spends in BLAS, numpy's loops,
    the random generator and the interpreter, free of timing noise."""
    this = compiled({"this tree": Version(ROOT, sys.executable)})["this tree"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        short, long = pool.map(lambda n: _instructions_by_function(this, n, measured, residents), (1, 1 + months))
    per_month = {label: (long.get(label, 0) - short.get(label, 0)) / months for label in {*short, *long}}
    total = sum(per_month.values())
    libraries: dict[str, float] = {}
    for label, count in per_month.items():
        library = label.rsplit(" (", 1)[-1].split(".")[0].split("-")[0] if label.endswith(")") else "unnamed"
        libraries[library] = libraries.get(library, 0.0) + count
    print(f"{total:,.0f} instructions per month ({_scenario(residents)}, {months} months after the first)")
    print("by library: " + ", ".join(f"{name} {count / total:.1%}"
                                      for name, count in sorted(libraries.items(), key=lambda item: -item[1])[:8]))
    print("by function:")
    for label, count in sorted(per_month.items(), key=lambda item: -item[1])[:top]:
        print(f"{count:>14,.0f} {count / total:6.1%}  {label}")


# The default scenario built and warmed up, then ``months`` months with perf's sampling switched on through its
# control fifo (``perf record --control``): the samples are the months' and nothing else's.
_SAMPLED = """
import os
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
from coprod_sim import Model, load_config
model = Model(rng=0, scenario=load_config("baseline", {overrides!r} or None))
model.step()
def perf(command):
    with open({control!r}, "w") as control:
        control.write(command + "\\n")
    with open({ack!r}) as ack:
        ack.readline()
perf("enable")
for _ in range({months}):
    model.step()
perf("disable")
"""


def where_time_goes(months: int, residents: int | None = None, top: int = 25) -> None:
    """Shares of the default scenario's month in each library and compiled function, by sampling the processor
    clock with Linux ``perf`` (about 4,000 samples a second) during ``months`` months after a warm-up. Unlike
    instruction counts, these are shares of time: a Python-level call costs more time per instruction than numpy's
    loops over arrays do."""
    with tempfile.TemporaryDirectory() as tmp:
        control, ack, data = (str(Path(tmp) / name) for name in ("control", "ack", "perf.data"))
        for fifo in (control, ack):
            os.mkfifo(fifo)
        overrides = {"population.residents": residents} if residents else {}
        code = _SAMPLED.format(overrides=overrides, months=months, control=control, ack=ack)
        recorded = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "-D", "-1",
                                   f"--control=fifo:{control},{ack}", "-o", data, sys.executable, "-c", code],
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if recorded.returncode != 0:  # e.g. sampling not permitted (kernel.perf_event_paranoid) in a container
            raise SystemExit(f"bench_model.py: perf could not sample the month (exit {recorded.returncode}):\n"
                             f"{recorded.stderr.strip()}")
        shares = {key: _perf_shares(data, key) for key in ("dso", "dso,sym")}
    total = sum(shares["dso"].values())
    print(f"{total:,} samples in {months} months ({_scenario(residents)}; perf, processor clock)")
    print("by library: " + ", ".join(f"{name} {count / total:.1%}" for name, count in
                                      sorted(shares["dso"].items(), key=lambda item: -item[1])[:8]))
    print("by function:")
    for label, count in sorted(shares["dso,sym"].items(), key=lambda item: -item[1])[:top]:
        print(f"{count:>10,} {count / total:6.1%}  {label}")


def _perf_shares(data: str, sort: str) -> dict[str, int]:
    """Samples in ``data`` by ``sort`` (``dso``: library; ``dso,sym``: function in its library)."""
    table = subprocess.run(["perf", "report", "-i", data, "--stdio", "-q", "-n", "--sort", sort],
                           capture_output=True, text=True, check=True).stdout
    return parse_perf_report(table)


def parse_perf_report(table: str) -> dict[str, int]:
    """Samples by library, or by "function (library)", from ``perf report --stdio -q -n --sort dso[,sym]``: a
    library's version and suffix are dropped (``libpython3.12.so.1.0`` is ``libpython3``), so the rows of one
    library add up."""
    counts: dict[str, int] = {}
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 3 or not fields[0].endswith("%") or not fields[1].isdigit():
            continue
        library = fields[2].split(".")[0].split("-")[0].strip("[]")
        label = f"{' '.join(fields[4:])} ({library})" if len(fields) > 4 else library
        counts[label] = counts.get(label, 0) + int(fields[1])
    return counts


def require_tool(program: str, purpose: str, debian_package: str) -> None:
    """Stop with a plain message, not a traceback, when ``program`` (a profiler this benchmark drives) is missing."""
    if shutil.which(program) is None:
        raise SystemExit(f"bench_model.py: {purpose} needs `{program}`, which is not installed here "
                         f"(Debian: sudo apt-get install {debian_package})")


def _scenario(residents: int | None) -> str:
    return f"default scenario at {residents:,} residents" if residents else "default scenario"


def count_against(rev: str, months: int, measured: list[str] | None = None, residents: int | None = None,
                  spin_up: bool = False) -> None:
    """Instructions per month of this tree and of ``rev``: (runs of 1 + months) − (runs of 1), under callgrind;
    with ``spin_up``, of the spin-up months before month 0 (built with 1 + months spin-up months − with 1)."""
    with versions(rev) as trees:
        jobs = [(name, version, n) for name, version in trees.items() for n in (1, 1 + months)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = dict(zip([(j[0], j[2]) for j in jobs],
                              pool.map(lambda j: _instructions(j[1], j[2], measured, residents, spin_up), jobs),
                              strict=True))
    per_month = {name: (counts[(name, 1 + months)] - counts[(name, 1)]) / months for name in trees}
    which = "spin-up months before month 0" if spin_up else "months after the first"
    for name, value in per_month.items():
        print(f"{name:>12}: {value:,.0f} instructions per month ({_scenario(residents)}, {months} {which})")
    print(f"this tree / {rev} = {per_month['this tree'] / per_month[rev]:.3f}")


def compare_stages_with(rev: str, rounds: int, steps: int, repeats: int, residents: int | None = None,
                        measured: list[str] | None = None) -> None:
    """Stage times of this tree and of commit ``rev``, alternately in fresh processes (this script, each tree's
    model); per stage, the median over rounds and the ratio."""
    command = [PYTHON, str(Path(__file__).resolve()), "--stages", "--json", "--steps", str(steps),
               "--repeats", str(repeats), *(["--residents", str(residents)] if residents else []),
               *(["--measured", *measured] if measured else [])]
    times = {name: [json.loads(out) for out in outs] for name, outs in alternate(rev, rounds, command).items()}
    medians = {name: {key: statistics.median(t[key] for t in ts) for key in ts[0]} for name, ts in times.items()}
    print(f"{'ms per month':>32}  {'this tree':>9}  {rev:>9}  ratio   (medians of {rounds} rounds × {repeats} runs)")
    for key in medians["this tree"]:
        this, other = medians["this tree"][key], medians[rev].get(key, float("nan"))
        print(f"{key:>32}  {this:9.2f}  {other:9.2f}  {this / other:5.3f}")


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=whole_number_option(1), default=3)
    parser.add_argument("--steps", type=whole_number_option(1), default=24, help="reported months after the spin-up (default 24)")
    parser.add_argument("--sizes", type=whole_number_option(1), nargs="+", default=list(SIZES), metavar="N",
                        help="district sizes in residents (default 1,000 10,000 100,000 1,000,000)")
    parser.add_argument("--stages", action="store_true",
                        help="time each stage of the default scenario's month instead (CPU ms per month)")
    parser.add_argument("--memory-months", type=whole_number_option(1), default=12,
                        help="months simulated in the memory measurement at the largest size (default 12)")
    parser.add_argument("--against", metavar="REV", default=None, type=revision,
                        help="compare the default scenario's speed with this git commit instead (python:PATH: with "
                             "this tree under the interpreter at PATH)")
    parser.add_argument("--rounds", type=whole_number_option(1), default=5, help="alternations with --against (default 5)")
    parser.add_argument("--count", choices=("time", "instructions", "samples"), default="time",
                        help="with --against: time alternately (default), or count instructions under callgrind; "
                             "without --against, instructions: where this tree's month spends them, by function; "
                             "samples: where its time goes, by sampling the processor clock (Linux perf)")
    parser.add_argument("--measured", nargs="+", metavar="KEY", default=None,
                        help="with --count instructions or --stages: measure only these outcomes, as a sweep keeping "
                             "only them does")
    parser.add_argument("--residents", type=whole_number_option(1), default=None, metavar="N",
                        help="with --count instructions or samples, or --stages: the district's size (default: the scenario's own)")
    parser.add_argument("--spin-up", action="store_true",
                        help="with --against and --count instructions: count spin-up months before month 0, which "
                             "measure nothing (Model.observed), instead of reported months")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # --stages for --against
    return parser


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse outcome keys the model does not have, naming them (a misspelt outcome would otherwise measure all of
    them); counts are refused as they are parsed (``whole_number_option``)."""
    from coprod_sim import OUTCOME_KEYS

    if args.spin_up and not (args.against and args.count == "instructions"):
        parser.error("--spin-up: expected with --against REV --count instructions (it counts spin-up months of two "
                     "versions), found without them")
    unknown = [key for key in args.measured or () if key not in OUTCOME_KEYS]
    if unknown:
        parser.error(f"--measured: expected outcome keys (docs/ODD.md §7.17, e.g. quality.needs_met_share), found "
                     f"{', '.join(unknown)}")


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    check_options(parser, args)
    if args.against and args.count == "samples":
        parser.error("--count samples shows where this tree's month spends its time; to compare with another "
                     "version, use --count instructions or time (the default)")
    if args.count == "instructions":
        require_tool("valgrind", "--count instructions", "valgrind")
    if args.count == "samples":
        require_tool("perf", "--count samples", "linux-perf")
    if args.against and args.count == "instructions":
        count_against(args.against, args.steps, args.measured, args.residents, args.spin_up)
        return
    if args.count == "instructions":
        where_instructions_go(args.steps, args.measured, args.residents)
        return
    if args.count == "samples":
        where_time_goes(args.steps, args.residents)
        return
    if args.against and args.stages:
        compare_stages_with(args.against, args.rounds, args.steps, args.repeats, args.residents, args.measured)
        return
    if args.against:
        compare_with(args.against, args.rounds, args.steps, args.repeats, args.measured)
        return
    if args.stages:
        times = stage_times(args.steps, args.repeats, args.residents, args.measured)
        if args.json:
            print(json.dumps(times))
            return
        whole = times.pop("whole month")
        for key, ms in times.items():
            print(f"{key:>32}: {ms:6.2f} ms per month ({ms / whole:4.0%})")
        measuring = f", measuring {len(args.measured)} outcomes" if args.measured else ""
        print(f"{'whole month, outcomes included':>32}: {whole:6.2f} ms (median of {args.repeats} runs × "
              f"{args.steps} months after the spin-up; {_scenario(args.residents)}{measuring})")
        return
    rates = {n: model_rate(n, args.steps, args.repeats)[0] for n in args.sizes}
    schelling = schelling_rate(10, args.repeats)
    default = load_config("baseline")
    default_n, default_steps = default.population.residents, default.run.steps
    default_rate, default_seconds = model_rate(default_n, default_steps, args.repeats)
    largest = max(args.sizes)
    peak, final = memory_per_resident(largest, args.memory_months)
    report(rates, args.steps, default, (default_rate, default_seconds), schelling, (largest, peak, final))


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(rates: dict[int, float], steps: int, default, default_speed: tuple[float, float], schelling: float,
           memory: tuple[int, float, float]) -> None:
    """Print the table and each of issue 18's targets with whether it is met."""
    default_rate, default_seconds = default_speed
    print(f"{'residents':>10} {'resident-steps/s':>18} {'µs/resident-step':>17}   "
          f"(spin-up {default.run.spin_up} + {steps} months)")
    for n, r in rates.items():
        print(f"{n:>10,} {r:>18,.0f} {1e6 / r:>17.3f}")
    flatness = max(rates.values()) / min(rates.values())
    sizes = f"{min(rates):,}–{max(rates):,}"
    print(f"default scenario ({default.population.residents:,} residents, spin-up {default.run.spin_up} + "
          f"{default.run.steps} months): {default_rate:,.0f} resident-steps/s, {default_seconds:.2f} s a run "
          f"(target ≥ {TARGET_RATE:,}: {verdict(default_rate >= TARGET_RATE)})")
    ratio = default_rate / schelling
    print(f"Mesa Schelling example 100×100: {schelling:,.0f} agent-steps/s; coprod-sim default / Schelling = "
          f"{ratio:.1f}× (target ≥ {TARGET_SCHELLING:.0f}×: {verdict(ratio >= TARGET_SCHELLING)})")
    print(f"cost per resident-step, max/min over {sizes} residents: {flatness:.2f}× "
          f"(target ≤ {TARGET_FLATNESS}×: {verdict(flatness <= TARGET_FLATNESS)})")
    largest, peak, final = memory
    print(f"memory at {largest:,} residents: peak {peak:,.0f} B per resident, {final:,.0f} B held at the end "
          f"(target ≤ {TARGET_BYTES_PER_RESIDENT} B: {verdict(peak <= TARGET_BYTES_PER_RESIDENT)})")


if __name__ == "__main__":
    main()
