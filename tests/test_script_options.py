"""The repository's scripts (experiments, benchmarks) refuse a count that would run nothing, crash later or
time something else, while their arguments are parsed: before anything runs or writes (experiments/patterns.py
with ``--seeds -1`` once rewrote docs/patterns.md from no runs). One rule for every script and the command line
(``coprod_sim.cli.runs.count_problem``)."""

from __future__ import annotations

import re
import sys

import pytest
from conftest import ROOT, load_script

from coprod_sim import cli
from coprod_sim.cli.runs import count_problem, whole_number_option

# (script, an option, the smallest value it takes): every count option of every script that takes one
COUNTS = [
    ("experiments/calibrate_baseline.py", "--seeds", 1), ("experiments/calibrate_baseline.py", "--bootstrap", 1),
    ("experiments/calibrate_baseline.py", "--check-seeds", 1),
    ("experiments/findings.py", "--replicates", 1), ("experiments/findings.py", "--max-replicates", 1),
    ("experiments/patterns.py", "--seeds", 1),
    ("experiments/scenarios.py", "--replicates", 2), ("experiments/scenarios.py", "--dose-replicates", 2),
    ("experiments/scenarios.py", "--attribution-replicates", 2),
    ("experiments/stationarity.py", "--seeds", 1), ("experiments/stationarity.py", "--workers", 1),
    ("benchmarks/bench_sweep.py", "--runs", 1), ("benchmarks/bench_sweep.py", "--workers", 1),
    ("benchmarks/bench_sweep.py", "--residents", 1), ("benchmarks/bench_sweep.py", "--steps", 1),
    ("benchmarks/bench_sweep.py", "--gc-passes", 1),
    ("benchmarks/bench_app.py", "--clicks", 1), ("benchmarks/bench_app.py", "--sessions", 0),
    ("benchmarks/bench_app.py", "--servers", 1),
    ("benchmarks/bench_model.py", "--repeats", 1), ("benchmarks/bench_model.py", "--steps", 1),
    ("benchmarks/bench_model.py", "--sizes", 1), ("benchmarks/bench_model.py", "--rounds", 1),
    ("benchmarks/bench_model.py", "--memory-months", 1), ("benchmarks/bench_model.py", "--residents", 1),
    ("benchmarks/bench_study.py", "--points", 1), ("benchmarks/bench_study.py", "--workers", 1),
    ("benchmarks/bench_study.py", "--cpu-runs", 1), ("benchmarks/bench_study.py", "--rounds", 1),
    ("scripts/same_results.py", "--seeds", 1), ("scripts/lesson_answers.py", "--seeds", 1),
]
SENSITIVITY = [("experiments/sensitivity.py", option, 1) for option in ("--samples", "--replicates", "--workers")]


def _parser(script: str):
    return load_script(ROOT / script, f"_options_{script.replace('/', '_').removesuffix('.py')}").build_parser()


@pytest.mark.parametrize(("script", "option", "low"), COUNTS + SENSITIVITY, ids=lambda v: str(v))
def test_a_count_below_its_smallest_value_is_refused_while_parsing(script, option, low, capsys):
    parser = _parser(script)
    extra = ["levers"] if script.endswith("sensitivity.py") else []  # its study's name comes first
    for bad in (str(low - 1), "-3", "many"):
        with pytest.raises(SystemExit) as stop:
            parser.parse_args([*extra, option, bad])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert f"argument {option}: expected a whole number ≥ {low}, found {bad if bad != 'many' else repr(bad)}" in err
        assert "Traceback" not in err
    assert getattr(parser.parse_args([*extra, option, str(low)]), option[2:].replace("-", "_")) in (low, [low])


def test_every_count_option_of_the_scripts_is_checked():
    """A script that gains a count option with a bare ``type=int`` fails here until it says its smallest value."""
    for folder in ("experiments", "benchmarks", "scripts"):
        for path in sorted((ROOT / folder).glob("*.py")):
            # options hidden from users (argparse.SUPPRESS) carry what a script passes to its own child processes
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if "argparse.SUPPRESS" not in line]
            assert not any("type=int" in line for line in lines), \
                f"{path.name}: a count option parsed with type=int; use whole_number_option"


def test_the_rule_names_what_it_expected_and_what_it_found():
    assert count_problem(None, 1) is None and count_problem(1, 1) is None and count_problem(0, 0) is None
    assert count_problem(0, 1) == "expected a whole number ≥ 1, found 0"
    assert count_problem(-70000, 0) == "expected a whole number ≥ 0, found -70000"
    assert whole_number_option(2)("5") == 5


def test_an_experiment_s_bad_setting_is_an_error_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    """A script runs its main as the command line runs a command (``cli.guarded``): a parameter that does not
    exist is one ``error:`` line and exit 2, as ``coprod-sim`` gives it (it was a ConfigError traceback)."""
    script = load_script(ROOT / "experiments" / "sensitivity.py", "_options_sensitivity_main")
    monkeypatch.setattr(sys, "argv", ["sensitivity.py", "levers", "--set", "nosuch.key=1", "--out", str(tmp_path)])
    assert cli.guarded(script.main) == 2
    err = capsys.readouterr().err
    assert re.search(r"^error: .*nosuch\.key: unknown parameter", err, re.M) and "Traceback" not in err


def test_every_experiment_script_runs_its_main_guarded():
    for path in sorted((ROOT / "experiments").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if 'if __name__ == "__main__":' in text:
            assert "cli.guarded(" in text.split('if __name__ == "__main__":')[1], f"{path.name}: main runs unguarded"


def test_a_revision_is_a_commit_of_the_checkout_or_nothing(tmp_path):
    import subprocess

    from coprod_sim.runs.provenance import commit_named

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=tmp_path,
                              capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q")
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    git("add", "a.txt")
    git("commit", "-q", "-m", "one")
    head = git("rev-parse", "HEAD")
    assert commit_named("HEAD", tmp_path) == head == commit_named(head[:7], tmp_path)
    for nonsense in ("nosuchrev", "HEAD~5", "--help", "a.txt"):
        assert commit_named(nonsense, tmp_path) is None, nonsense
    assert commit_named("HEAD", tmp_path / "a.txt") is None  # not a folder: no checkout there


@pytest.mark.parametrize("script", ["benchmarks/bench_model.py", "benchmarks/bench_study.py", "scripts/same_results.py"])
def test_against_a_commit_that_does_not_exist_is_refused_while_parsing(script, monkeypatch, capsys):
    """A misspelt commit was a git traceback after the first measurement (or a worktree half made)."""
    parser = _parser(script)
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["--against", "nosuchrev"])
    assert stop.value.code == 2
    assert "argument --against: expected a commit of this repository" in capsys.readouterr().err
    from coprod_sim.runs import provenance

    monkeypatch.setattr(provenance, "commit_named", lambda revision, checkout: "0" * 40)
    assert parser.parse_args(["--against", "v1"]).against == "v1"


def test_same_results_names_a_scenario_that_is_not_shipped(monkeypatch, capsys):
    script = load_script(ROOT / "scripts" / "same_results.py", "_options_same_results_main")
    monkeypatch.setattr(sys, "argv", ["same_results.py", "--scenarios", "baseline", "nosuch"])
    monkeypatch.setattr(script, "_versions", lambda *a: pytest.fail("the comparison ran"))
    with pytest.raises(SystemExit) as stop:
        script.main()
    assert stop.value.code == 2
    assert re.search(r"--scenarios: expected shipped scenarios \(.*baseline.*\), found nosuch$", capsys.readouterr().err.strip())
