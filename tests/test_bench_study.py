"""benchmarks/bench_study.py refuses counts that would plan nothing or crash later, before it runs anything."""

import sys

import pytest
from conftest import ROOT, load_script


@pytest.mark.parametrize(("option", "value"), [("--points", "0"), ("--workers", "-1"), ("--cpu-runs", "0"),
                                               ("--rounds", "0")])
def test_a_count_below_one_is_refused_by_name_before_anything_runs(option, value, monkeypatch, capsys):
    bench = load_script(ROOT / "benchmarks" / "bench_study.py")
    monkeypatch.setattr(bench, "run_sweep", lambda *a, **k: pytest.fail("the study ran"))
    monkeypatch.setattr(sys, "argv", ["bench_study.py", option, value])
    with pytest.raises(SystemExit) as stop:
        bench.main()
    assert stop.value.code == 2
    assert f"{option}: expected a whole number of at least 1, found {value}" in capsys.readouterr().err
