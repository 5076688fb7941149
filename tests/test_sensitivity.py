"""Sensitivity studies: known indices of the analytic target, replicate averaging, refusal on missing values,
Morris screening, identical results across backends, resume, paired effects on the model, the CLI."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SMALL_PARAMS

import coprod_sim
from coprod_sim.cli import main
from coprod_sim.errors import ConfigError, UserError
from coprod_sim.sensitivity import analytic_indices, load_study
from coprod_sim.sensitivity.study import analyse

PI = [-math.pi, math.pi]


def ishigami_spec(kind: str = "sobol", samples: int = 1024, replicates: int = 1, noise: float | None = None,
                  factors: tuple[str, ...] = ("x1", "x2", "x3"), **extra) -> dict:
    spec = {"name": f"ishigami-{kind}", "model": "ishigami" if noise is None else "ishigami_noisy",
            "design": {"type": kind, "samples": samples, "parameters": {f: {"range": PI} for f in factors}},
            "replicates": replicates, "seed": 3, "backend": "serial"}
    if noise is not None:
        spec["set"] = {"noise_sd": noise}
    spec.update(extra)
    return spec


def table(report, index: str) -> pd.Series:
    rows = report.indices[report.indices["index"] == index]
    return rows.set_index("factor")


@pytest.fixture(scope="module")
def exact(tmp_path_factory):
    return coprod_sim.sensitivity(ishigami_spec(), tmp_path_factory.mktemp("exact"))


def test_ishigami_indices_match_the_analytic_values_within_their_intervals(exact) -> None:
    truth = analytic_indices()
    for index in ("S1", "ST"):
        rows = table(exact, index)
        for factor, value in truth[index].items():
            if factor not in rows.index:
                continue
            low, high = rows.loc[factor, "ci_low"], rows.loc[factor, "ci_high"]
            assert low - 0.02 <= value <= high + 0.02, (index, factor, value, low, high)
    assert set(exact.indices["N"]) == {1024}
    assert list(exact.indices.columns) == ["method", "outcome", "factor", "index", "value", "ci_low", "ci_high", "N",
                                           "replicates"]
    written = pd.read_csv(exact.out / "indices.csv")
    assert len(written) == len(exact.indices)


def test_convergence_reuses_the_design_prefix_and_intervals_narrow(exact) -> None:
    conv = pd.read_csv(exact.out / "convergence.csv")
    assert sorted(conv["N"].unique()) == [128, 256, 512, 1024]
    st = conv[(conv["index"] == "ST")].groupby("N")["ci_width"].mean()
    assert st[1024] < st[128]
    final = conv[conv["N"] == 1024].set_index(["factor", "index"])["value"].sort_index()
    main_rows = exact.indices.set_index(["factor", "index"])["value"].sort_index()
    assert np.allclose(final.loc[main_rows.index], main_rows)  # the full prefix is the main analysis
    assert (exact.out / "plots" / "convergence-y.png").stat().st_size > 0


def test_report_ranks_factors_in_words(exact) -> None:
    text = (exact.out / "report.md").read_text(encoding="utf-8")
    assert "1. **x1**" in text and "2. **x2**" in text
    assert "x3** matters mainly through interactions" in text
    assert "N = 1024" in text and "runs" in text and "Seed noise" in text


def _error(report) -> float:
    truth = analytic_indices()
    return sum(abs(table(report, i).loc[f, "value"] - truth[i][f]) for i in ("S1", "ST") for f in ("x1", "x2", "x3"))


def test_averaging_replicates_removes_seed_noise(tmp_path: Path) -> None:
    """Noise (variance 9 beside the target's 13.8) biases the indices; the mean of 16 replicates brings them back."""
    noisy = coprod_sim.sensitivity(ishigami_spec(samples=512, noise=3.0), tmp_path / "one")
    averaged = coprod_sim.sensitivity(ishigami_spec(samples=512, noise=3.0, replicates=16), tmp_path / "many")
    assert _error(averaged) < _error(noisy) / 2
    assert noisy.noise["noise_share"].isna().all()  # one replicate: noise cannot be measured
    share = averaged.noise.iloc[0]
    assert 0.3 < share["noise_share"] < 0.6  # 9 / (13.8 + 9)
    assert share["noise_share_of_means"] < share["noise_share"] / 8


def test_morris_ranks_an_irrelevant_factor_last(tmp_path: Path) -> None:
    report = coprod_sim.sensitivity(ishigami_spec("morris", samples=20, factors=("x1", "x2", "x3", "x4")), tmp_path)
    mu = table(report, "mu_star")["value"]
    assert mu.idxmin() == "x4"
    assert mu["x4"] < 0.1 * mu.drop("x4").min()
    assert (tmp_path / "plots" / "morris-y.png").is_file()
    assert "Indistinguishable from zero" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_fast_and_given_data_methods_run_on_the_same_pipeline(tmp_path: Path) -> None:
    fast = coprod_sim.sensitivity(ishigami_spec("fast", samples=257), tmp_path / "fast")
    assert table(fast, "S1")["value"].idxmax() == "x2"
    lhs = coprod_sim.sensitivity(ishigami_spec("lhs", samples=600), tmp_path / "lhs")
    assert set(lhs.indices["method"]) == {"rbd_fast"}
    assert table(lhs, "S1")["value"].idxmax() == "x2"


# ------------------------------------------------------------------ missing values
@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    spec = ishigami_spec(samples=16, replicates=2)
    out = tmp_path_factory.mktemp("small")
    coprod_sim.sensitivity(spec, out)
    return spec, out


def _tables_with_holes(out: Path) -> dict[str, pd.DataFrame]:
    runs = pd.read_parquet(out / "runs.parquet")
    runs.loc[(runs["point_id"] == 7) & (runs["replicate"] == 1), "y"] = np.nan
    runs.loc[(runs["point_id"] == 30) & (runs["replicate"] == 0), ["status", "error", "y"]] = ["failed", "Boom", None]
    return {"": runs[~((runs["point_id"] == 41) & (runs["replicate"] == 0))]}


def test_missing_outputs_stop_the_analysis_and_name_the_runs(small_study) -> None:
    spec, out = small_study
    with pytest.raises(UserError) as err:
        analyse(load_study(spec), _tables_with_holes(out))
    text = str(err.value)
    assert "3 of 160 runs have no finite value" in text
    assert "point 7 replicate 1 (y = nan)" in text
    assert "point 30 replicate 0 (failed: Boom)" in text
    assert "point 41 replicate 0 (not recorded" in text
    assert "missing: drop_points" in text


def test_drop_points_leaves_out_whole_sobol_blocks(small_study) -> None:
    spec, out = small_study
    indices, noise, _ = analyse(load_study({**spec, "analysis": {"missing": "drop_points"}}), _tables_with_holes(out))
    assert set(indices["N"]) == {16 - 3}  # points 7, 30 and 41 are in blocks 1, 6 and 8 (5 points a block)
    assert noise.iloc[0]["points_dropped"] == 15


# ------------------------------------------------------------------ engine: backends, resume
def test_results_are_identical_across_backends(tmp_path: Path) -> None:
    spec = ishigami_spec(samples=64, replicates=3, noise=1.0)
    serial = coprod_sim.sensitivity(spec, tmp_path / "serial")
    processes = coprod_sim.sensitivity({**spec, "backend": "processes", "workers": 2}, tmp_path / "processes")
    pd.testing.assert_frame_equal(serial.indices, processes.indices)
    assert (tmp_path / "serial" / "indices.csv").read_text() == (tmp_path / "processes" / "indices.csv").read_text()


def test_a_killed_study_resumes_without_rerunning_finished_runs(tmp_path: Path) -> None:
    spec = ishigami_spec(samples=32, replicates=2, noise=1.0, batch_size=20)
    first = coprod_sim.sensitivity(spec, tmp_path)
    shards = sorted((tmp_path / "shards").glob("runs-*.parquet"))
    lost = len(pd.read_parquet(shards[-1]))
    shards[-1].unlink()  # as if killed before the last batch was written
    (tmp_path / "runs.parquet").unlink()
    again = coprod_sim.sensitivity(spec, tmp_path)
    assert again.resumed == first.runs - lost
    pd.testing.assert_frame_equal(first.indices, again.indices)
    assert coprod_sim.sensitivity(spec, tmp_path).resumed == first.runs


def test_doubling_sobol_n_reuses_every_earlier_run(tmp_path: Path) -> None:
    small = coprod_sim.sensitivity(ishigami_spec(samples=32, replicates=2, noise=1.0), tmp_path)
    doubled = coprod_sim.sensitivity(ishigami_spec(samples=64, replicates=2, noise=1.0), tmp_path)
    assert doubled.resumed == small.runs == doubled.runs // 2


# ------------------------------------------------------------------ the model: paired effects
def test_effects_are_paired_differences_on_the_same_seeds(tmp_path: Path) -> None:
    spec = {"name": "effects", "base": "baseline", "set": SMALL_PARAMS, "seed": 5, "replicates": 2,
            "backend": "serial",
            "design": {"type": "morris", "samples": 2, "parameters": {
                "government.resistance": {"range": [0.1, 0.8]}, "planning.projects_per_station": {"range": [0, 3]}}},
            "analysis": {"outcomes": ["quality.needs_met_share"], "effects": ["out_interest_binding"],
                         "missing": "drop_points"}}
    report = coprod_sim.sensitivity(spec, tmp_path)
    base = pd.read_parquet(tmp_path / "runs.parquet")
    other = pd.read_parquet(tmp_path / "effects" / "out_interest_binding" / "runs.parquet")
    assert list(base["seed"]) == list(other["seed"])
    assert base["seed"].nunique() == 2  # common random numbers: one seed per replicate
    labels = set(report.indices["outcome"])
    assert labels == {"quality.needs_met_share", "quality.needs_met_share [out_interest_binding − baseline]"}
    effect = report.noise.set_index("outcome").loc["quality.needs_met_share [out_interest_binding − baseline]"]
    diff = (other["quality.needs_met_share"] - base["quality.needs_met_share"]).to_numpy()
    assert effect["mean"] == pytest.approx(np.nanmean(diff.reshape(-1, 2).mean(axis=1)))
    assert set(report.indices["index"]) == {"mu_star", "sigma", "mu"}


def test_integer_and_categorical_factors_map_to_valid_values() -> None:
    study = load_study({"base": "baseline", "design": {"type": "sobol", "samples": 8, "parameters": {
        "planning.projects_per_station": {"range": [0, 3]}, "government.resistance": [0.1, 0.5, 0.9]}}})
    values = {k: {p[k] for p in study.plan.points} for k in study.factors}
    assert values["planning.projects_per_station"] <= {0, 1, 2, 3}
    assert all(isinstance(v, int) for v in values["planning.projects_per_station"])
    assert values["government.resistance"] <= {0.1, 0.5, 0.9} and len(values["government.resistance"]) == 3
    assert len(study.plan.points) == 8 * (2 + 2)
    assert study.plan.repeats  # whole-number levels repeat points; those share runs under common seeds
    assert len(study.plan.tasks) == len(study.plan.points) - len(study.plan.repeats)


# ------------------------------------------------------------------ spec problems and the CLI
def test_spec_problems_are_reported_together() -> None:
    spec = ishigami_spec(analysis={"method": "delta", "missing": "ignore", "outcome": ["y"]})
    with pytest.raises(ConfigError) as err:
        load_study(spec)
    text = "\n".join(err.value.problems)
    assert "analysis.outcome: unknown key; did you mean 'outcomes'?" in text
    assert "analysis.method: expected sobol for a sobol design, found 'delta'" in text
    assert "analysis.missing: expected one of refuse, drop_points, found 'ignore'" in text
    with pytest.raises(ConfigError, match=r"analysis\.outcomes: quality\.needs: unknown outcome"):
        load_study({"base": "baseline", "design": {"type": "morris", "samples": 2, "parameters": {
            "government.resistance": {"range": [0.1, 0.8]}}}, "analysis": {"outcomes": ["quality.needs"]}})
    with pytest.raises(ConfigError, match="model: expected one of coprod, ishigami"):
        load_study({**ishigami_spec(), "model": "rosenbrock"})
    with pytest.raises(ConfigError, match=r"outputs\.summary: leaves out cost\.public_spending"):
        load_study({"base": "baseline", "outputs": {"summary": ["quality.needs_met_share"]},
                    "design": {"type": "morris", "samples": 2, "parameters": {"government.resistance": {}}},
                    "analysis": {"outcomes": ["quality.needs_met_share", "cost.public_spending"]}})
    with pytest.raises(ConfigError, match="seed_scheme: expected one of independent, common, found 'shared'"):
        load_study({**ishigami_spec(), "seed_scheme": "shared"})


def test_cli_dry_run_counts_runs_and_warns_about_sobol_n(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "study.yaml"
    spec.write_text((ROOT / "experiments" / "sensitivity_ishigami.yaml").read_text().replace("samples: 1024",
                                                                                          "samples: 100"))
    assert main(["sensitivity", str(spec), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "2000 runs (500 design points; 4 replicates; 1 scenario(s))" in out
    assert "estimated wall time" in out
    assert "100 is not a power of two" in err and "64 or 128" in err
    assert not (tmp_path / "out" / "indices.csv").exists()


def test_cli_runs_a_study_and_refuses_bad_specs(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "study.yaml"
    spec.write_text((ROOT / "experiments" / "sensitivity_ishigami.yaml").read_text().replace("samples: 1024",
                                                                                          "samples: 64"))
    assert main(["sensitivity", str(spec), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "report.md").is_file()
    spec.write_text("model: ishigami\ndesign: {type: sobol, samples: 8, parameters: {x9: {}}}\n")
    assert main(["sensitivity", str(spec)]) == 2
    assert "design.parameters.x9: unknown factor" in capsys.readouterr().err


def test_the_morris_noise_floor_is_what_noise_alone_gives() -> None:
    """Pure seed noise: the mean |elementary effect| of replicate means matches the floor the report uses."""
    from coprod_sim.sensitivity.indices import morris_noise_floor

    rng = np.random.default_rng(0)
    values = rng.normal(0.0, 2.0, size=(4000, 3))
    delta = 4 / (2 * 3)
    effects = np.abs(np.diff(values.mean(axis=1))[::2]) / delta
    assert morris_noise_floor(values, 4) == pytest.approx(effects.mean(), rel=0.05)
    assert math.isnan(morris_noise_floor(values[:, :1], 4))


def test_a_given_data_method_reuses_an_existing_latin_hypercube_sweep(tmp_path: Path) -> None:
    spec = {"name": "lhs", "base": "baseline", "set": SMALL_PARAMS, "seed": 2, "seed_scheme": "common",
            "backend": "serial", "design": {"type": "lhs", "samples": 48, "parameters": {
                "government.resistance": {"range": [0.1, 0.9]}, "linkage.channel_reach": {"range": [0.1, 0.9]}}}}
    sweep = coprod_sim.sweep(spec, tmp_path)
    study = coprod_sim.sensitivity({**spec, "analysis": {"outcomes": ["quality.needs_met_share"]}}, tmp_path)
    assert study.resumed == sweep.total == study.runs  # not one run again
    assert set(study.indices["method"]) == {"rbd_fast"} and set(study.indices["N"]) == {48}
    delta = coprod_sim.sensitivity({**spec, "analysis": {"outcomes": ["quality.needs_met_share"], "method": "delta"}},
                                   tmp_path)
    assert set(delta.indices["index"]) == {"delta", "S1"}
    with pytest.raises(ConfigError, match="rbd_fast needs at least 41 design points, found 20"):
        load_study({**spec, "design": {**spec["design"], "samples": 20}})


def test_second_order_sobol_finds_the_one_interaction(tmp_path: Path) -> None:
    """Ishigami's only interaction is x1 × x3 (S2 ≈ 0.24); the others are zero."""
    report = coprod_sim.sensitivity(ishigami_spec() | {
        "design": {"type": "sobol", "samples": 512, "second_order": True,
                   "parameters": {f: {"range": PI} for f in ("x1", "x2", "x3")}}}, tmp_path)
    s2 = table(report, "S2")["value"]
    assert s2.idxmax() == "x1 × x3" and s2["x1 × x3"] > 0.15
    assert set(report.indices["N"]) == {512}
    assert sorted(pd.read_csv(tmp_path / "convergence.csv")["N"].unique()) == [64, 128, 256, 512]


def test_the_annotated_specs_in_the_docs_are_valid_as_typed():
    """docs/sensitivity.md's commented specs are what a user copies first: each must load as it stands."""
    import yaml

    text = (ROOT / "docs" / "sensitivity.md").read_text(encoding="utf-8")
    section = re.search(r"## The spec\n(.*?)\n## ", text, re.S).group(1)
    first, grouped = (load_study(yaml.safe_load(b)) for b in re.findall(r"```yaml\n(.*?)```", section, re.S))
    assert first.method == "sobol" and first.plan.replicates == 3
    assert grouped.method == "morris" and grouped.group_names == ["government.resistance", "services.unit_cost"]
    assert len(grouped.plan.points) == 6 * (2 + 1)  # as its comment says


def test_a_rare_sign_flip_is_counted_not_rounded_to_zero():
    from coprod_sim.sweeps.analysis import sign_stability

    assert sign_stability(1.0, 640) == sign_stability(0.0, 640) == "keeps its sign at every point"
    assert sign_stability(639 / 640, 640) == "flips at 1 of 640 points (0.2%)"
    assert sign_stability(0.5, 100) == "flips at 50 of 100 points (50%)"


def test_effects_in_the_introduction_design_get_their_time_path_in_the_report(tmp_path: Path) -> None:
    small = {**SMALL_PARAMS, "run.design": "introduction", "run.spin_up": 6}
    spec = {"name": "effects", "base": "baseline", "set": small, "seed": 5, "replicates": 2, "backend": "serial",
            "design": {"type": "morris", "samples": 2, "parameters": {
                "government.resistance": {"range": [0.1, 0.8]}, "planning.projects_per_station": {"range": [0, 3]}}},
            "analysis": {"outcomes": ["quality.needs_met_share"], "effects": ["in_leading_group"],
                         "missing": "drop_points"}}
    coprod_sim.sensitivity(spec, tmp_path, cache=tmp_path / "worlds")
    path = pd.read_csv(tmp_path / "events.csv")
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert set(path["scenario"]) == {"in_leading_group"} and set(path["outcome"]) == {"quality.needs_met_share"}
    assert sorted(path["month"]) == list(range(1, small["run.steps"] + 1))
    assert (path["n_pairs"] <= len(runs)).all() and path["n_pairs"].max() > runs["point_id"].nunique()
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Effects after the policy's introduction" in report and (tmp_path / "events.png").is_file()


# ------------------------------------------------------------------ groups (design.groups)
X13 = {"x1+x3": ["x1", "x3"]}  # Ishigami = g(x1, x3) + 7 sin² x2: the group's S1 and ST are both 1 − S1(x2)


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    spec = ishigami_spec()
    spec["design"]["groups"] = X13
    return coprod_sim.sensitivity(spec, tmp_path_factory.mktemp("grouped"))


def test_grouped_sobol_indices_of_ishigami_match_the_analytic_values(grouped) -> None:
    truth = analytic_indices(X13)
    assert truth["ST"]["x1+x3"] == pytest.approx(1 - analytic_indices()["S1"]["x2"]) == pytest.approx(0.5576, abs=1e-4)
    assert truth["S1"]["x2"] == pytest.approx(0.4424, abs=1e-4)
    for index in ("S1", "ST"):
        rows = table(grouped, index)
        assert list(rows.index) == ["x1+x3", "x2"]  # one row per group, in the design's order
        for name in rows.index:
            low, high = rows.loc[name, "ci_low"], rows.loc[name, "ci_high"]
            assert low - 0.02 <= truth[index][name] <= high + 0.02, (index, name, truth[index][name], low, high)
            assert rows.loc[name, "value"] == pytest.approx(truth[index][name], abs=0.03)
    assert set(grouped.indices["N"]) == {1024}
    record = pd.read_json(grouped.out / "sensitivity.json", typ="series")
    assert record["groups"] == X13 and record["factors"] == ["x1", "x2", "x3"]


def test_convergence_of_a_grouped_design_reads_prefixes_of_its_group_blocks(grouped) -> None:
    conv = pd.read_csv(grouped.out / "convergence.csv")
    assert sorted(conv["N"].unique()) == [128, 256, 512, 1024]
    final = conv[conv["N"] == 1024].set_index(["factor", "index"])["value"].sort_index()
    main_rows = grouped.indices.set_index(["factor", "index"])["value"].sort_index()
    assert np.allclose(final.loc[main_rows.index], main_rows)


def test_grouped_sobol_has_second_order_indices_between_groups(tmp_path: Path) -> None:
    spec = ishigami_spec(samples=64)
    spec["design"] |= {"groups": {"x2+x3": ["x2", "x3"]}, "second_order": True}
    study = load_study(spec)
    assert len(study.plan.points) == 64 * (2 * 2 + 2)
    report = coprod_sim.sensitivity(spec, tmp_path)
    assert list(table(report, "S2").index) == ["x1 × x2+x3"]  # x1 interacts with x3, which is in the group


def test_morris_with_groups_screens_the_groups(tmp_path: Path) -> None:
    spec = ishigami_spec("morris", samples=20, factors=("x1", "x2", "x3", "x4"))
    spec["design"]["groups"] = X13
    study = load_study(spec)
    assert len(study.plan.points) == 20 * (3 + 1) and study.group_names == ["x1+x3", "x2", "x4"]
    report = coprod_sim.sensitivity(spec, tmp_path)
    mu = table(report, "mu_star")["value"]
    assert list(mu.index) == ["x1+x3", "x2", "x4"] and mu.idxmin() == "x4" and mu["x1+x3"] > 1
    sigma = table(report, "sigma")["value"]
    assert np.isnan(sigma["x1+x3"]) and np.isfinite(sigma["x2"])  # SALib: no σ for a group of several factors
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "Groups (3; indices are per group, a factor in no group is its own): x1+x3 = x1, x3." in text
    assert "**x1+x3**" in text and "σ is not defined" in text


def test_drop_points_leaves_out_whole_blocks_of_a_grouped_design(tmp_path: Path) -> None:
    spec = ishigami_spec(samples=16, replicates=2)
    spec["design"]["groups"] = X13
    coprod_sim.sensitivity(spec, tmp_path)
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    runs.loc[(runs["point_id"] == 7) & (runs["replicate"] == 1), "y"] = np.nan  # block 1 of 4 points (G + 2)
    indices, noise, _ = analyse(load_study({**spec, "analysis": {"missing": "drop_points"}}), {"": runs})
    assert set(indices["N"]) == {15} and noise.iloc[0]["points_dropped"] == 4


def test_groups_are_checked_for_the_analytic_target_too() -> None:
    spec = ishigami_spec("fast", samples=65)
    spec["design"]["groups"] = X13
    with pytest.raises(ConfigError, match=r"<mapping>: design\.groups: expected a sobol or morris design .* found "
                                          r"design\.type fast"):
        load_study(spec)
    spec = ishigami_spec()
    spec["design"]["groups"] = {"x1+x3": ["x1", "x5"]}
    with pytest.raises(ConfigError, match=r"design\.groups\.x1\+x3: expected factor keys of design\.parameters, "
                                          r"found 'x5' \(str\), which is not a factor of this design"):
        load_study(spec)


def test_cli_refuses_a_bad_grouping_with_exit_2_and_counts_groups_in_the_dry_run(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "study.yaml"
    spec.write_text("model: ishigami\nreplicates: 2\ndesign:\n  type: lhs\n  samples: 64\n  parameters: {x1: {}, "
                    "x2: {}, x3: {}}\n  groups: {x1+x3: [x1, x3]}\n")
    assert main(["sensitivity", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert f"{spec}: design.groups: expected a sobol or morris design" in capsys.readouterr().err
    spec.write_text(spec.read_text().replace("type: lhs", "type: morris").replace("samples: 64", "samples: 10"))
    assert main(["sensitivity", str(spec), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    # 10 trajectories × (2 groups + 1) points, not × (3 factors + 1); a point of the Morris grid met again is run once
    found = re.search(r"(\d+) runs \(30 design points(?:, (\d+) of them repeating an earlier point)?; 2 replicates", out)
    assert found, out
    assert int(found.group(1)) == (30 - int(found.group(2) or 0)) * 2
    assert not (tmp_path / "out" / "indices.csv").exists()


def _experiment():
    """experiments/sensitivity.py as a module (it is a script, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_experiment_sensitivity", ROOT / "experiments" / "sensitivity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_assumptions_screen_screens_every_table_as_one_group() -> None:
    from coprod_sim.config.registry import ASSUMPTION, by_role

    experiment = _experiment()
    spec = experiment.assumption_spec()
    params, groups = spec["design"]["parameters"], spec["design"]["groups"]
    assumed = [p for p in by_role(ASSUMPTION) if p.source.startswith("assumption")]
    tables = [p for p in assumed if p.type.startswith("per_")]
    assert {"population.household_shares", "needs.elderly", "services.unit_cost"} <= set(groups)
    assert set(groups) == {p.key for p in tables}  # no assumed table left unscreened
    for p in tables:
        nonzero = {name: d for name, d in p.default.items() if d}
        assert groups[p.key] == [f"{p.key}.{name}" for name in nonzero]  # zeros say "no such need": kept at 0
        for name, d in nonzero.items():
            assert params[f"{p.key}.{name}"] == {"range": [pytest.approx(d / 2), pytest.approx(1.5 * d)]}
    scalars = {p.key for p in assumed if not p.type.startswith("per_") and experiment.plausible(p) is not None}
    assert set(params) - {k for keys in groups.values() for k in keys} == scalars
    study = load_study(spec)  # every design point of every scenario resolves to a valid config
    assert len(study.group_names) == len(scalars) + len(tables)
    assert len(study.plan.points) == 4 * (len(scalars) + len(tables) + 1)
    shares = [[point[k] for k in groups["population.household_shares"]] for point in study.plan.points]
    assert all(0 < w < 1 for row in shares for w in row)


def test_the_doc_section_counts_groups_when_tables_were_grouped() -> None:
    experiment = _experiment()
    meta = pd.Series({"factors": ["a", "t.x", "t.y", "u.x", "u.y", "u.z"],
                      "groups": {"t": ["t.x", "t.y"], "u": ["u.x", "u.y", "u.z"]}})
    assert experiment._factors(meta) == "6 factors in 3 groups (2 tables, one group each)"
    assert experiment._factors(pd.Series({"factors": ["a", "b"], "groups": {}})) == "2 factors"
