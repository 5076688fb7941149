"""benchmarks/bench_model.py's reading of ``perf report``: where a month's time goes (docs/performance.md)."""

import re
import sys

import pytest
from conftest import ROOT, load_script

REPORT_BY_FUNCTION = """\
    37.04%          1390  libscipy_openblas64_-4b78795a.so                   [.] dgemm_kernel_HASWELL
    16.39%           615  libpython3.12.so.1.0                               [.] _PyEval_EvalFrameDefault
     4.16%           156  [kernel.kallsyms]                                  [k] exc_page_fault
     2.45%            92  libscipy_openblas64_-4b78795a.so                   [.] dgemm_oncopy_HASWELL
     1.00%            37  _multiarray_umath.cpython-312-x86_64-linux-gnu.so  [.] \
timsort_<npy::floating_point_type<double, (NPY_TYPES)12>, double, false>

#
"""
REPORT_BY_LIBRARY = """\
    59.02%          2215  libscipy_openblas64_-4b78795a.so
    28.27%          1061  [kernel.kallsyms]
    10.74%           403  libpython3.12.so.1.0
"""


def test_samples_are_counted_by_library_and_by_function_in_its_library():
    bench = load_script(ROOT / "benchmarks" / "bench_model.py")
    assert bench.parse_perf_report(REPORT_BY_LIBRARY) == {"libscipy_openblas64_": 2215, "kernel": 1061, "libpython3": 403}
    by_function = bench.parse_perf_report(REPORT_BY_FUNCTION)
    assert by_function["dgemm_kernel_HASWELL (libscipy_openblas64_)"] == 1390
    assert by_function["dgemm_oncopy_HASWELL (libscipy_openblas64_)"] == 92
    # a C++ name with spaces stays whole, and its library is named without its Python-version suffix
    assert by_function["timsort_<npy::floating_point_type<double, (NPY_TYPES)12>, double, false> (_multiarray_umath)"] == 37
    assert sum(by_function.values()) == 1390 + 615 + 156 + 92 + 37


def test_a_missing_profiler_is_named_with_its_package_not_a_traceback(monkeypatch):
    bench = load_script(ROOT / "benchmarks" / "bench_model.py")
    monkeypatch.setattr(bench.shutil, "which", lambda program: None)
    with pytest.raises(SystemExit, match=r"--count samples needs `perf`.*apt-get install linux-perf"):
        bench.require_tool("perf", "--count samples", "linux-perf")
    monkeypatch.setattr(bench.shutil, "which", lambda program: f"/usr/bin/{program}")
    bench.require_tool("perf", "--count samples", "linux-perf")  # present: nothing to say


def test_stage_times_are_of_the_district_asked_for_measuring_what_is_asked(monkeypatch):
    """``--stages --residents N --measured …`` times the month of that district, measuring only those outcomes:
    every stage is timed, and the model it timed is the one asked for."""
    bench = load_script(ROOT / "benchmarks" / "bench_model.py")
    built = []

    class Recorded(bench.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(bench, "Model", Recorded)
    times = bench.stage_times(2, 1, residents=400, measured=["quality.needs_met_share"])
    assert set(times) == {f"{module}.{name}" for module, name in bench.STAGES} | {"whole month"}
    assert all(ms >= 0 for ms in times.values()) and times["whole month"] > 0
    (model,) = built
    assert model.residents.n == 400 and model.month == 2
    assert model.datacollector.unmeasured  # the survey's and public access's outcomes are not measured
    everything = bench.stage_times(1, 1)
    assert set(everything) == set(times) and built[-1].residents.n == built[-1].config.population.residents != 400
    assert not built[-1].datacollector.unmeasured


def test_an_outcome_the_model_does_not_have_is_refused_by_name(capsys):
    """A misspelt outcome would measure all of them, and the stage times would be of another month."""
    bench = load_script(ROOT / "benchmarks" / "bench_model.py")
    parser = bench.build_parser()
    with pytest.raises(SystemExit) as stop:
        bench.check_options(parser, parser.parse_args(["--stages", "--measured", "quality.needs_met_share", "no.such"]))
    assert stop.value.code == 2
    assert re.search(r"--measured: expected outcome keys .* found no\.such$", capsys.readouterr().err.strip())
    bench.check_options(parser, parser.parse_args(["--stages", "--measured", "quality.needs_met_share"]))


def test_spin_up_months_are_counted_only_against_another_version(capsys, monkeypatch):
    """``--spin-up`` counts the months before month 0 (which measure nothing): a build with that many spin-up months
    and no reported month; alone it would be ignored, so it is refused."""
    bench = load_script(ROOT / "benchmarks" / "bench_model.py")
    parser = bench.build_parser()
    for alone in (["--spin-up"], ["--spin-up", "--count", "instructions"], ["--spin-up", "--against", "HEAD"]):
        with pytest.raises(SystemExit) as stop:
            bench.check_options(parser, parser.parse_args(alone))
        assert stop.value.code == 2
        assert "--spin-up: expected with --against REV --count instructions" in capsys.readouterr().err
    bench.check_options(parser, parser.parse_args(["--spin-up", "--against", "HEAD", "--count", "instructions"]))
    commands = []
    monkeypatch.setattr(bench, "run_in", lambda version, command, **env: commands.append(command))
    this = bench.Version(ROOT, bench.PYTHON)
    bench._under_callgrind(this, 11, None, "out", residents=500, spin_up=True)
    bench._under_callgrind(this, 11, None, "out", residents=500)
    spin_up, reported = (command[command.index("-c") + 1] for command in commands)
    assert "{'population.residents': 500, 'run.spin_up': 11}" in spin_up and "for _ in range(0):" in spin_up
    assert "{'population.residents': 500}" in reported and "for _ in range(11):" in reported


def test_trees_are_compiled_before_they_are_compared(tmp_path):
    """A module compiled inside one counted process and not the other fell unevenly into two instruction counts;
    ``against.compiled`` compiles each tree's package first."""
    against = load_script(ROOT / "benchmarks" / "against.py", "_bench_against")
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "month.py").write_text("STAGES = 7\n", encoding="utf-8")
    found = {"this tree": against.Version(tmp_path, sys.executable)}
    assert against.compiled(found) is found
    compiled = {p.name.split(".")[0] for p in (package / "__pycache__").glob("*.pyc")}
    assert compiled == {"__init__", "month"}
