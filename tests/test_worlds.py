"""The introduction design (run.design): levers brought into a spun-up world, and the cache of spun-up worlds."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from coprod_sim.config import ConfigError, load_config, registry
from coprod_sim.model import Model
from coprod_sim.runs import WorldCache, simulate, worlds
from coprod_sim.sweeps.engine import run_sweep
from coprod_sim.sweeps.spec import build_plan

# a small world with a real spin-up (the world the levers are introduced into)
WORLD = {"population.residents": 3000, "space.community_size": 1000, "run.spin_up": 12, "run.steps": 12,
         "run.outcome_window": 6}
INTRO = {**WORLD, "run.design": "introduction"}
LEVERS = {"leading_group.active": True, "government.resistance": 0.3, "linkage.interest_binding_stake": 0.3,
          "profit_space.subsidy_per_visit.meals": 6, "incentive.assessment_weight": 0.2, "linkage.channel_reach": 0.6,
          "profit_space.rent_free_space": True, "government.registered_only": False,
          "government.budget_per_resident": 60}


def test_introduction_with_default_levers_is_the_equilibrium_run():
    """Nothing introduced, nothing changed: the design alone does not alter a run."""
    a, b = Model(rng=3, **WORLD), Model(rng=3, **INTRO)
    a.run_model()
    b.run_model()
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())


def test_levers_act_from_month_zero_only_in_the_introduction_design():
    """Spin-up under default levers, then the policy: the first month already differs from the untreated run,
    and differs from the world that lived under the levers all along (the equilibrium design)."""
    untreated, intro, equilibrium = Model(rng=4, **INTRO), Model(rng=4, **INTRO, **LEVERS), Model(rng=4, **WORLD, **LEVERS)
    assert intro.config.get("leading_group.active") is True and intro.leading_group.authority > 0
    # before month 1 the introduced world is the untreated world: same residents, same operators
    assert [a.unique_id for a in intro.agents] == [a.unique_id for a in untreated.agents]
    for m in (untreated, intro, equilibrium):
        m.run_model()
    first = {name: m.timeseries().iloc[0]["cost.public_spending"] for name, m in
             (("untreated", untreated), ("intro", intro), ("equilibrium", equilibrium))}
    assert len(set(first.values())) == 3, first


def test_introduce_leaves_no_old_lever_group_in_the_model():
    model = Model(rng=5, **INTRO)
    old = model.config
    groups = [getattr(old, g) for g in ("government", "linkage", "leading_group", "profit_space", "incentive")]
    derived = [model.terms, model.assessment, model.channel, model.operator_rules]
    ids = {id(x) for x in (*groups, *derived)}
    resistance = [d.resistance for d in model.departments]
    model.introduce(load_config(None, {**INTRO, **LEVERS}))
    del old
    gc.collect()
    for obj in [model, *model.agents, *(v for v in vars(model).values() if hasattr(v, "__dict__"))]:
        held = [name for name, value in vars(obj).items() if id(value) in ids]
        assert not held, f"{type(obj).__name__} still holds {held}"
    # departments keep their rank in resistance, around the lower mean
    new = [d.resistance for d in model.departments]
    assert sorted(range(7), key=resistance.__getitem__) == sorted(range(7), key=new.__getitem__)
    assert sum(new) < sum(resistance)


def test_a_lever_that_lays_out_the_district_is_refused_in_the_introduction_design():
    with pytest.raises(ConfigError, match=r"layout.mode: lays out the district .* \(run.design: introduction\)"):
        load_config(None, {**INTRO, "layout.mode": "merged"})
    load_config(None, {**WORLD, "layout.mode": "merged"})  # the equilibrium design compares layouts


def test_cached_world_gives_the_fresh_run(tmp_path, monkeypatch):
    built = []
    real = worlds.spin_up
    monkeypatch.setattr(worlds, "spin_up", lambda w, s: built.append(s) or real(w, s))
    monkeypatch.setattr(worlds, "_recent", worlds.OrderedDict())
    cfg = load_config(None, {**INTRO, **LEVERS})
    fresh = simulate(cfg, 7, cache=False)
    assert built == []  # no cache: the model spins up itself
    first = simulate(cfg, 7, cache=tmp_path)
    worlds._recent.clear()  # read from the folder, as another process would
    other_levers = simulate(load_config(None, {**INTRO, "leading_group.active": True}), 7, cache=tmp_path)
    again = simulate(cfg, 7, cache=tmp_path)
    assert built == [7], "one spin-up for the world, shared by every lever setting"
    assert len(list(tmp_path.glob("*.world"))) == 1
    for result in (first, again):
        assert result.summary == fresh.summary or pd.Series(result.summary).equals(pd.Series(fresh.summary))
        pd.testing.assert_frame_equal(result.timeseries, fresh.timeseries)
    assert other_levers.summary != fresh.summary


def test_damaged_snapshot_is_rebuilt(tmp_path):
    cache = WorldCache(tmp_path, 10**10)
    world = load_config(None, INTRO).world()
    good = cache.snapshot(world, 1)
    path = next(tmp_path.glob("*.world"))
    path.write_bytes(path.read_bytes()[:-100])  # e.g. a disk that filled up under another tool
    worlds._recent.clear()
    rebuilt = cache.snapshot(world, 1)
    assert worlds._read(path) == rebuilt  # a complete snapshot again
    a, b = pickle.loads(good), pickle.loads(rebuilt)  # not byte-equal (Mesa numbers its events per process)
    a.run_model()
    b.run_model()
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())


def test_cache_is_bounded_least_recently_used_first(tmp_path):
    worlds._recent.clear()
    world = load_config(None, INTRO).world()
    size = len(WorldCache(tmp_path, 10**10).snapshot(world, 1)) + 100
    cache = WorldCache(tmp_path, int(2.5 * size))
    cache.snapshot(world, 2)
    time.sleep(0.01)
    worlds._recent.clear()
    cache.snapshot(world, 1)  # used again: now the most recent
    cache.snapshot(world, 3)
    kept = {p.name for p in tmp_path.glob("*.world")}
    assert kept == {f"{worlds.world_key(world, s)}.world" for s in (1, 3)}


def test_concurrent_builders_simulate_a_world_once(tmp_path, monkeypatch):
    built = []
    real = worlds.spin_up
    monkeypatch.setattr(worlds, "spin_up", lambda w, s: built.append(s) or real(w, s))
    monkeypatch.setattr(worlds, "_recent", worlds.OrderedDict())
    world = load_config(None, INTRO).world()
    got: list[bytes] = []
    threads = [threading.Thread(target=lambda: got.append(WorldCache(tmp_path, 10**10)._build(
        world, 8, tmp_path / f"{worlds.world_key(world, 8)}.world"))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == [8] and len(set(got)) == 1 and len(got) == 3


def study(replicates: int = 2) -> dict:
    return {"name": "intro", "base": "baseline", "set": {**INTRO, "run.steps": 6, "run.outcome_window": 3},
            "design": {"type": "explicit", "points": [{}, {"leading_group.active": True},
                                                      {"profit_space.subsidy_per_visit.meals": 6}]},
            "replicates": replicates, "seed": 11, "seed_scheme": "common", "outputs": {"steps": ["quality.needs_met_share"]}}


def runs_of(out) -> pd.DataFrame:
    return pd.read_parquet(out / "runs.parquet").drop(columns=["runtime_s"])


@pytest.mark.parametrize("backend", ["serial", "processes", "dask"])
def test_cached_and_fresh_worlds_give_identical_tables_on_every_backend(tmp_path, backend):
    plan = build_plan(study(), "t")
    run_sweep(plan, tmp_path / "fresh", backend="serial", cache=False)
    run_sweep(plan, tmp_path / "cached", backend=backend, workers=2, cache=tmp_path / "worlds")
    assert len(list((tmp_path / "worlds").glob("*.world"))) == 2  # one world per seed, shared by the 3 points
    run_sweep(plan, tmp_path / "again", backend=backend, workers=2, cache=tmp_path / "worlds")  # all from the cache
    fresh = runs_of(tmp_path / "fresh")
    assert (fresh["status"] == "ok").all() and len(fresh) == 6
    for name in ("cached", "again"):
        pd.testing.assert_frame_equal(runs_of(tmp_path / name), fresh)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / name / "steps.parquet"),
                                      pd.read_parquet(tmp_path / "fresh" / "steps.parquet"))


def test_killed_study_resumes_and_reuses_its_worlds(tmp_path):
    spec = study(replicates=3)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    out, cache = tmp_path / "out", tmp_path / "worlds"
    cmd = [sys.executable, "-m", "coprod_sim", "sweep", str(spec_file), "--out", str(out), "--backend", "processes",
           "--batch-size", "1", "--cache", str(cache)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while len(list((out / "shards").glob("runs-*.parquet"))) < 4 and proc.poll() is None:
            assert time.monotonic() < deadline, "the sweep never wrote its shards"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "runs.parquet").exists(), "the sweep must be killed before it finished"
    snapshots = {p.name: p.stat().st_ino for p in cache.glob("*.world")}
    assert snapshots, "finished runs left their worlds in the cache"
    report = run_sweep(build_plan(spec, "t"), out, backend="serial", cache=cache)
    assert report.complete and report.resumed >= 4
    after = {p.name: p.stat().st_ino for p in cache.glob("*.world")}
    assert {k: after[k] for k in snapshots} == snapshots, "the resumed study rebuilt a world it had"
    assert len(after) == 3 and not list(cache.glob("*.tmp"))
    run_sweep(build_plan(spec, "t"), tmp_path / "fresh", backend="serial", cache=False)
    pd.testing.assert_frame_equal(runs_of(out), runs_of(tmp_path / "fresh"))


def _started(cmd: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def test_workers_on_other_hosts_share_a_cache_folder_or_build_their_own(tmp_path):
    """A scheduler and two workers started as on a cluster (`dask scheduler`, `dask worker`, each its own
    process and environment): with a shared --cache folder every world is built once for both; with the
    default, each worker ("host") keeps its own folder; either way the tables are those of fresh spin-ups."""
    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    scheduler_file = tmp_path / "scheduler.json"
    procs = []
    with open(tmp_path / "cluster.log", "wb") as log:
        try:
            procs.append(_started([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                   "--scheduler-file", str(scheduler_file)], dict(os.environ), log))
            deadline = time.monotonic() + 600
            while not scheduler_file.is_file():
                assert time.monotonic() < deadline and procs[0].poll() is None, "the scheduler did not start"
                time.sleep(0.1)
            time.sleep(0.5)  # the file is written whole, but give the scheduler a moment to listen
            address = json.loads(scheduler_file.read_text())["address"]
            for host in ("host-a", "host-b"):
                env = {**os.environ, worlds.FOLDER_ENV: str(tmp_path / host)}
                procs.append(_started([dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                                       "--host", "127.0.0.1"], env, log))
            with Client(address, timeout=60) as client:
                client.wait_for_workers(2, timeout=600)
            plan = build_plan(study(), "t")
            run_sweep(plan, tmp_path / "shared", backend="dask", scheduler=address, cache=tmp_path / "shared-worlds")
            run_sweep(plan, tmp_path / "own", backend="dask", scheduler=address, cache=True)
        finally:
            for proc in reversed(procs):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    run_sweep(build_plan(study(), "t"), tmp_path / "fresh", backend="serial", cache=False)
    for name in ("shared", "own"):
        pd.testing.assert_frame_equal(runs_of(tmp_path / name), runs_of(tmp_path / "fresh"))
    assert len(list((tmp_path / "shared-worlds").glob("*.world"))) == 2
    per_host = [{p.name for p in (tmp_path / h).glob("*.world")} for h in ("host-a", "host-b")]
    assert set().union(*per_host) == {p.name for p in (tmp_path / "shared-worlds").glob("*.world")}


@pytest.mark.parametrize("enabled", [True, False])
def test_a_snapshot_loads_with_the_collector_paused_and_restored(monkeypatch, enabled):
    """Loading a snapshot creates only objects that stay alive, so the garbage collector is paused meanwhile
    (worlds.load_snapshot) and left as it was found; the loaded model steps exactly as the one pickled."""
    model = Model(rng=5, scenario=load_config("baseline", WORLD))
    data = worlds.snapshot_bytes(model)
    seen, loads = [], pickle.loads
    monkeypatch.setattr(worlds.pickle, "loads", lambda blob: seen.append(gc.isenabled()) or loads(blob))
    (gc.enable if enabled else gc.disable)()
    try:
        loaded = worlds.load_snapshot(data)
        assert seen == [False] and gc.isenabled() is enabled
    finally:
        gc.enable()
    for m in (model, loaded):
        m.step()
    assert loaded.outcomes == model.outcomes


def test_a_config_makes_its_world_once_and_a_world_knows_it_is_one():
    """``Config.world`` is made once per config (a study's run asks for it several times); a world's world is
    itself, also after pickling (the spun-up model keeps its world); any other config pickles without it."""
    config = load_config(None, {**INTRO, **LEVERS})
    world = config.world()
    assert config.world() is world and world.world() is world
    assert world == load_config(None, WORLD).world() and world != config
    again = pickle.loads(pickle.dumps(config))
    assert again == config and "_world" not in vars(again) and again.world() == world
    kept = pickle.loads(pickle.dumps(world))
    assert kept.world() is kept and kept == world
    changed = {key if key in registry() else key.rsplit(".", 1)[0] for key in LEVERS}  # a table's entry: its table
    assert set(config.lever_keys_changed(world)) == set(world.lever_keys_changed(config)) == changed
