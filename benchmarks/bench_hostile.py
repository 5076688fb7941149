"""How fast hostile input is refused (issue 21's targets: every corpus case within 5 s; the 2 MB list of a
million numbers in well under a second, where it took 88 s and 667 MB before the reader counted while parsing).

* every file of tests/hostile/ through the CLI in this process (``validate`` for configs, ``sweep
  --dry-run`` for specs): slowest and median answer, and how many were not answered with exit code 2;
* ``coprod-sim validate`` on the 2 MB file in a fresh process: wall time of the whole command (start-up
  included) and its peak memory, and the reader's own time in this process.

The machine's load moves these numbers: state them with the command and ``uptime``.

    .venv/bin/python benchmarks/bench_hostile.py
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "hostile"


def corpus_times() -> dict[str, float | int | str]:
    """Answer time of every corpus case, through the CLI's entry point in this process."""
    from coprod_sim.cli import main

    times, wrong = {}, []
    cases = [(p, ["validate", str(p)]) for p in sorted((CORPUS / "configs").glob("*.yaml"))]
    with tempfile.TemporaryDirectory() as tmp:
        cases += [(p, ["sweep", str(p), "--dry-run", "--out", f"{tmp}/o"]) for p in sorted((CORPUS / "specs").glob("*.yaml"))]
        for path, argv in cases:
            err = io.StringIO()
            start = time.perf_counter()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(argv)
            times[f"{path.parent.name}/{path.name}"] = time.perf_counter() - start
            if code != 2 or "Traceback" in err.getvalue():
                wrong.append(path.name)
    slowest = max(times, key=times.__getitem__)
    return {"cases": len(times), "not_exit_2": len(wrong), "median_s": round(statistics.median(times.values()), 4),
            "max_s": round(times[slowest], 3), "slowest": slowest, "over_5_s": sum(t > 5 for t in times.values())}


def big_list() -> dict[str, float]:
    """The issue's 2 MB file: the reader's time here, the whole command's time and peak memory in a fresh process."""
    from coprod_sim.config import ConfigError, safe_yaml

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text("notes: [" + ",".join(["1"] * 10**6) + "]\n")
        start = time.perf_counter()
        with contextlib.suppress(ConfigError):
            safe_yaml.load_file(path)
        reader = time.perf_counter() - start
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "coprod_sim", "validate", str(path)], capture_output=True, text=True)
        command = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert done.returncode == 2 and "too many values" in done.stderr, done.stderr
    return {"reader_s": round(reader, 3),
            "command_s": round(command, 2), "command_peak_mb": round(peak_mb)}


def build_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(description=__doc__.splitlines()[0])


def main(argv: list[str] | None = None) -> int:
    build_parser().parse_args(argv)
    import os

    print(json.dumps({"load_1min": os.getloadavg()[0], "two_megabyte_list": big_list(), "corpus": corpus_times()},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
