"""``coprod-sim sensitivity``: a sensitivity study from a spec (docs/sensitivity.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .sweeps import _add_sweep_options, _check_backend_options, _duration, cache_option


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="study spec YAML (e.g. experiments/sensitivity_ishigami.yaml)")
    _add_sweep_options(p, "results/sensitivity/<spec name>",
                       "the number of runs, a wall-time estimate and warnings about the design")


def _run(args: argparse.Namespace) -> int:
    from ..sensitivity import default_out, estimate_study, load_study, sensitivity
    from ..sweeps.backends import warm_workers

    _check_backend_options(args)
    study = load_study(args.spec)
    out = Path(args.out) if args.out else default_out(args.spec, study)
    backend = args.backend or ("dask" if args.scheduler else study.plan.backend)
    workers = args.workers or study.plan.workers
    if args.dry_run:
        e = estimate_study(study, out, backend, workers)
        shared = f", {e['repeats']} of them repeating an earlier point" if e["repeats"] else ""
        print(f"{e['runs']} runs ({e['points']} design points{shared}; {e['replicates']} replicates; "
              f"{e['scenarios']} scenario(s)); {e['runs'] - e['to_run']} already in {out}, {e['to_run']} to run")
        print(f"measured {e['seconds_per_run']:.2f} s per run; estimated wall time ≈ {_duration(e['estimate_s'])} "
              f"on {backend} with {workers} worker(s)")
        for line in e["warnings"]:
            print(f"warning: {line}", file=sys.stderr)
        return 0
    if not args.scheduler:
        warm_workers(backend)
    report = sensitivity(args.spec, out, backend, workers, args.scheduler, args.batch_size, args.retry_failed,
                         cache=cache_option(args))
    print(f"sensitivity {study.name}: {report.runs} runs ({report.resumed} reused), {len(report.noise)} outcome(s), "
          f"{study.method} — {report.seconds:.1f} s → {out}/report.md, indices.csv")
    return 0


COMMANDS = {
    "sensitivity": ("sensitivity study (Sobol, Morris, FAST, RBD-FAST): rank factors per outcome with intervals",
                    _add, _run),
}
