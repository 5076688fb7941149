"""Spun-up worlds, simulated once and shared: the snapshot cache of the introduction design (``run.design``).

In the introduction design a run's world before month 0 depends only on its
assumptions, its world's run settings and its seed (``Config.world``), not on
its levers. So every design point of a lever study forks from one spun-up world
per seed: the first run that needs it simulates the spin-up and stores a
snapshot (a pickle of the Mesa model, random generators included); the others
load it and introduce their levers. Loading a snapshot gives the same model as
simulating it, so a run's results do not depend on whether its world came from
the cache (tests/test_worlds.py checks this on every backend).

The cache is a folder of files named by a hash of what makes the world: the
world's config, the seed, the code that builds and steps it (``provenance.code_fingerprint``: the
package's sources and the versions of Mesa, numpy and scipy) and the Python version. It is

* safe under concurrent writers: a world being built is locked (``filelock``) so the
  others wait for it instead of building it again, and every file is written under
  a unique temporary name and renamed (a process killed at any moment, even by
  ``kill -9``, leaves a complete snapshot or none, and its lock goes with it);
* checked: each file carries a digest of its content; a damaged one is deleted and rebuilt;
* bounded: beyond its size limit the least recently used snapshots are deleted;
* optional: ``cache=None`` (``--no-cache``) simulates every world afresh.

Folder: ``$COPROD_SIM_WORLDS``, else ``$XDG_CACHE_HOME/coprod-sim/worlds`` (``~/.cache/…``); size limit:
``$COPROD_SIM_WORLDS_MAX_GB`` (default 4). A snapshot of the default district is about 9 MB. Snapshots are
pickles: keep the folder private to you (or your cluster), as you would the environment itself.
"""

from __future__ import annotations

import contextlib
import copyreg
import functools
import gc
import hashlib
import io
import json
import os
import pickle
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock
from mesa.discrete_space.grid import pickle_gridcell

from ..config import Config
from ..model import Model, one_blas_thread
from . import files
from .provenance import code_fingerprint, package_versions

FOLDER_ENV, SIZE_ENV = "COPROD_SIM_WORLDS", "COPROD_SIM_WORLDS_MAX_GB"
DEFAULT_MAX_GB = 4.0
MAGIC = b"coprod-sim world 1\n"
SUFFIX = ".world"
IN_MEMORY = 4  # snapshots a process keeps in memory (a worker forks most of its runs from a few worlds)
_recent: OrderedDict[Path, bytes] = OrderedDict()  # by file: a world in memory is also in its folder
CacheLike = bool | str | os.PathLike | None  # what a caller says about the cache (WorldCache.of)


def default_folder() -> Path:
    """``$COPROD_SIM_WORLDS``, else the user's cache folder."""
    if os.environ.get(FOLDER_ENV):
        return Path(os.environ[FOLDER_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "coprod-sim" / "worlds"


def default_max_bytes() -> int:
    return int(float(os.environ.get(SIZE_ENV) or DEFAULT_MAX_GB) * 1e9)


@dataclass(frozen=True)
class WorldCache:
    """A folder of spun-up worlds; :meth:`model` gives a run's model with its levers introduced."""

    folder: Path
    max_bytes: int

    @classmethod
    def of(cls, cache: CacheLike) -> WorldCache | None:
        """``True``: the default folder (resolved where the run happens); a path: that folder; ``False``: none."""
        if cache is False or cache is None:
            return None
        folder = default_folder() if cache is True else Path(cache).expanduser()
        return cls(folder, default_max_bytes())

    def model(self, config: Config, seed: int) -> Model:
        """The model of ``config`` (introduction design) after its spin-up, its levers introduced."""
        model = load_snapshot(self.snapshot(config.world(), seed))
        model.introduce(config)
        return model

    def snapshot(self, world: Config, seed: int) -> bytes:
        """The pickled spun-up ``world`` for ``seed``: from this process's memory, the folder, or simulated."""
        key = world_key(world, seed)
        path = self.folder / f"{key}{SUFFIX}"
        if path in _recent:
            _recent.move_to_end(path)
            return _recent[path]
        data = _read(path)
        if data is None:
            data = self._build(world, seed, path)
        _recent[path] = data
        while len(_recent) > IN_MEMORY:
            _recent.popitem(last=False)
        return data

    def _build(self, world: Config, seed: int, path: Path) -> bytes:
        """Simulate the world unless another process is doing so (then wait and read its snapshot)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(path.with_suffix(".lock")):
                data = _read(path)  # built by another process while we waited
                if data is None:
                    data = spin_up(world, seed)
                    files.write_bytes(path, MAGIC + hashlib.sha256(data).digest() + data)
                    self._evict(keep=path)
                return data
        except OSError as exc:  # a folder we cannot write (e.g. a worker on another host): simulate, keep nothing
            print(f"warning: world cache {self.folder}: {exc.strerror or exc}; simulating without it", file=sys.stderr)
            return spin_up(world, seed)

    def _evict(self, keep: Path) -> None:
        """Delete the least recently used snapshots beyond the size limit, and temporary files left by killed
        writers (older than an hour)."""
        now = time.time()
        entries = []
        for path in self.folder.iterdir():
            with contextlib.suppress(OSError):
                stat = path.stat()
                if path.name.endswith(".tmp") and now - stat.st_mtime > 3600:
                    path.unlink()
                elif path.suffix == SUFFIX:
                    entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path != keep:
                with contextlib.suppress(OSError):
                    path.unlink()
                    path.with_suffix(".lock").unlink(missing_ok=True)
                total -= size


def spin_up(world: Config, seed: int) -> bytes:
    """Build and spin up ``world`` (its levers at their defaults) and pickle it (one BLAS thread, as every run)."""
    with one_blas_thread():
        return snapshot_bytes(Model(rng=seed, scenario=world))


def snapshot_bytes(model: Model) -> bytes:
    """``model`` pickled for the cache: as ``pickle.dumps``, but its grid cells load quickly (``_SnapshotPickler``)."""
    buffer = io.BytesIO()
    _SnapshotPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(model)
    return buffer.getvalue()


def load_snapshot(data: bytes) -> Model:
    """The model pickled in ``data`` (:func:`snapshot_bytes`), loaded with the garbage collector paused.

    Every object a snapshot creates is part of the model and stays alive, so collecting while they are created
    finds nothing: the tens of thousands of objects of the default district set off dozens of collections, a
    sizeable part of the load's time, which every run of a lever study pays. Pausing changes when memory is
    freed, not what is computed.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    finally:
        if was_enabled:
            gc.enable()


class _SnapshotPickler(pickle.Pickler):
    """Pickles Mesa's grid cells so that loading creates their class once per process, not once per cell.

    Mesa gives each grid a cell class of its own and its unpickler re-creates that class for every cell
    (``mesa.discrete_space.grid.unpickle_gridcell``): about a third of the time to load the default district,
    paid by every run of a study and every new tab of the app.
    The class only carries Mesa's property layers, which the model does not use.
    """

    def reducer_override(self, obj: object) -> Any:
        if copyreg.dispatch_table.get(type(obj)) is pickle_gridcell:
            return _grid_cell, (type(obj).__bases__[0], obj.__getstate__())
        return NotImplemented


@functools.cache
def _grid_cell_class(parent: type) -> type:
    return type("GridCell", (parent,), {"_mesa_properties": set(), "__slots__": ()})


def _grid_cell(parent: type, fields: tuple) -> object:
    """A grid cell from its pickled fields, as Mesa's ``unpickle_gridcell`` makes it, with a shared class."""
    cell = _grid_cell_class(parent)((0, 0))
    for name, value in fields[1].items():
        setattr(cell, name, value)
    return cell


def world_key(world: Config, seed: int) -> str:
    """Hash of what makes a spun-up world: its config, the seed, the code and the numeric libraries."""
    versions = package_versions()
    text = json.dumps({"world": world.to_dict(), "seed": seed, "code": code_fingerprint(),
                       "versions": {k: versions[k] for k in ("python", "numpy", "mesa")}}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _read(path: Path) -> bytes | None:
    """A snapshot's payload, or None if absent; a damaged file is deleted (it will be rebuilt)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + 32
    data = raw[head:]
    if raw[:len(MAGIC)] != MAGIC or hashlib.sha256(data).digest() != raw[len(MAGIC):head]:
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: evicted last
    return data


def _locked(path: Path) -> FileLock:
    """An exclusive OS lock on ``path`` (``filelock``: flock on POSIX): released by the system when its holder dies."""
    return FileLock(path)
