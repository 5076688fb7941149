"""Sweep results that can be trusted: damaged shards are quarantined and re-run, damaged tables and manifests
are named, the code check cannot be skipped, and it compares the code (not the commit)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SMALL_PARAMS

from coprod_sim.cli import main
from coprod_sim.errors import UserError
from coprod_sim.runs.provenance import code_fingerprint, fingerprint_of, package_versions
from coprod_sim.sweeps import build_plan, run_sweep
from coprod_sim.sweeps.integrity import QUARANTINE, SUMS, read_manifest, write_manifest

FAST = {**SMALL_PARAMS, "population.residents": 1000, "run.steps": 4, "run.outcome_window": 4}
SPEC = {"base": "baseline", "set": FAST, "seed": 4, "replicates": 2, "batch_size": 1,
        "outputs": {"steps": ["quality.needs_met_share"]},
        "design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.025, 0.3]}}}


def sweep_into(out: Path, **extra):
    return run_sweep(build_plan({**SPEC, **extra}, "t"), out, backend="serial")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("reference")
    sweep_into(out)
    return pd.read_parquet(out / "runs.parquet").drop(columns="runtime_s")


def _shards(out: Path) -> list[Path]:
    return sorted((out / "shards").glob("runs-*.parquet"))


def _altered(path: Path) -> None:
    """A shard rewritten with other numbers: still a valid Parquet file, but not what the sweep wrote."""
    table = pq.read_table(path).to_pandas()
    table["quality.needs_met_share"] = 0.123
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path)


@pytest.mark.parametrize("damage", ["garbage", "empty", "altered"])
def test_a_damaged_shard_is_quarantined_and_its_runs_run_again(tmp_path, reference, capsys, damage):
    out = tmp_path / "s"
    sweep_into(out)
    victim = _shards(out)[1]
    partner = victim.with_name(victim.name.replace("runs-", "steps-"))
    {"garbage": lambda p: p.write_bytes(b"PAR1 not really"), "empty": lambda p: p.write_bytes(b""),
     "altered": _altered}[damage](victim)
    capsys.readouterr()
    report = sweep_into(out)
    err = capsys.readouterr().err
    assert f"warning: {victim}: " in err and "its runs will be run again" in err
    assert report.resumed == 3 and report.ok == 1 and report.all_ok
    assert (out / "shards" / QUARANTINE / victim.name).exists() and (out / "shards" / QUARANTINE / partner.name).exists()
    again = pd.read_parquet(out / "runs.parquet").drop(columns="runtime_s")
    pd.testing.assert_frame_equal(again, reference)
    assert len(pd.read_parquet(out / "steps.parquet")) == 4 * FAST["run.steps"]


def test_a_shard_without_a_recorded_checksum_is_read_and_recorded(tmp_path, reference):
    """A sweep killed between writing a shard and recording it (or made before checksums) still resumes."""
    out = tmp_path / "s"
    sweep_into(out)
    (out / "shards" / SUMS).unlink()
    assert sweep_into(out).resumed == 4
    assert len((out / "shards" / SUMS).read_text().splitlines()) == 8  # runs and steps shards of 4 batches


def test_dry_run_skips_a_damaged_shard_without_moving_it(tmp_path, capsys):
    import yaml

    out = tmp_path / "s"
    sweep_into(out)
    _shards(out)[0].write_bytes(b"junk")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    assert main(["sweep", str(spec), "--out", str(out), "--dry-run"]) == 0
    assert "3 already in" in capsys.readouterr().out and not (out / "shards" / QUARANTINE).exists()


@pytest.mark.parametrize("damage", ["garbage", "edited", "deleted_manifest"])
def test_plot_names_a_damaged_table_or_manifest(tmp_path, capsys, damage):
    out = tmp_path / "s"
    sweep_into(out)
    if damage == "garbage":
        (out / "runs.parquet").write_bytes(b"not parquet at all")
        expect = f"{out / 'runs.parquet'}: its content does not match the checksum"
    elif damage == "edited":
        (out / "manifest.json").write_text((out / "manifest.json").read_text().replace('"replicates": 2', '"replicates": 3'))
        expect = f"{out / 'manifest.json'}: its content does not match its checksum"
    else:
        (out / "manifest.json").write_text("{ truncated")
        expect = f"{out / 'manifest.json'}: damaged, not a sweep manifest"
    capsys.readouterr()
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert expect in err and "Traceback" not in err


def test_a_damaged_table_without_checksums_is_named_and_rebuilt(tmp_path, capsys):
    out = tmp_path / "s"
    sweep_into(out)
    manifest = read_manifest(out)
    del manifest["tables"]  # as an older version wrote it
    write_manifest(out, manifest)
    (out / "runs.parquet").write_bytes(b"")
    assert main(["plot", str(out)]) == 2
    assert f"{out / 'runs.parquet'}: damaged, not a readable Parquet table" in capsys.readouterr().err
    assert sweep_into(out).resumed == 4  # the same command rebuilds the tables from the shards
    assert main(["plot", str(out)]) == 0


def test_shards_without_a_manifest_are_not_resumed_unless_forced(tmp_path, capsys):
    out = tmp_path / "s"
    sweep_into(out)
    (out / "manifest.json").unlink()
    with pytest.raises(UserError, match=r"manifest.json: not found; which code made the 4 shards .* --force"):
        sweep_into(out)
    capsys.readouterr()
    report = run_sweep(build_plan(SPEC, "t"), out, backend="serial", force=True)
    assert report.resumed == 4 and "resuming anyway (--force)" in capsys.readouterr().err
    assert read_manifest(out)["code_fingerprint"] == code_fingerprint()


def test_a_docs_only_commit_resumes(tmp_path):
    """Another commit with the same code (only docs or tests changed) has the same fingerprint."""
    out = tmp_path / "s"
    sweep_into(out)
    write_manifest(out, {**read_manifest(out), "git_commit": "another-commit-dirty"})
    assert sweep_into(out, replicates=3).resumed == 4


def test_the_fingerprint_follows_the_code_not_the_docs(tmp_path):
    package = Path(__file__).resolve().parents[1] / "src" / "coprod_sim"
    copy = tmp_path / "coprod_sim"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    versions = package_versions()
    first = fingerprint_of(copy, versions)
    assert first == code_fingerprint()  # where it is installed does not matter
    (copy / "NOTES.md").write_text("docs only")
    (tmp_path / "README.md").write_text("outside the package")
    assert fingerprint_of(copy, versions) == first
    assert fingerprint_of(copy, {**versions, "numpy": "0.0.1"}) != first
    (copy / "model" / "new_rule.py").write_text("X = 1\n")  # an untracked new module
    second = fingerprint_of(copy, versions)
    assert second != first
    scenario = next((copy / "config" / "scenarios").glob("*.yaml"))
    scenario.write_text(scenario.read_text() + "\n# edited\n")
    assert fingerprint_of(copy, versions) != second


def test_a_resume_says_the_sweep_had_stopped_without_finishing(tmp_path, capsys):
    out = tmp_path / "s"
    sweep_into(out)
    write_manifest(out, {**read_manifest(out), "status": "running", "process": {"pid": 2**22 + 7, "host": "h"}})
    capsys.readouterr()
    sweep_into(out)
    assert "stopped without finishing (killed?); resuming" in capsys.readouterr().err


def test_plot_explains_a_sweep_stopped_before_its_first_tables(tmp_path, capsys):
    out = tmp_path / "s"
    sweep_into(out)
    os.remove(out / "runs.parquet")
    os.remove(out / "steps.parquet")
    write_manifest(out, {**read_manifest(out), "status": "interrupted", "tables": {}})
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert "the sweep (status: interrupted) stopped before writing its tables; 4 finished batch(es)" in err
