"""Sweep results that can be trusted: every shard and the manifest carry a checksum; damage is found and named.

* ``shards/SHA256SUMS`` holds one ``sha256sum`` line per shard, added as the shard is written
  (``cd shards && sha256sum -c SHA256SUMS`` checks them by hand). A shard whose bytes no longer
  match, or that cannot be read, is moved to ``shards/quarantine/`` with the other shard of its
  batch when a sweep resumes, and its runs are run again.
* ``manifest.json`` holds ``checksum`` (of its other fields) and ``tables`` (the checksums of
  ``runs.parquet`` and ``steps.parquet`` as consolidated): reading a damaged or edited manifest or
  table is an error naming the file, never a traceback or silently wrong numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ..errors import UserError
from ..runs import files

SUMS = "SHA256SUMS"
QUARANTINE = "quarantine"
MANIFEST = "manifest.json"
TABLES = ("runs.parquet", "steps.parquet")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shard_id(path: Path) -> str:
    """``runs-<id>.parquet`` → ``<id>``: the runs and steps shards of one batch share it."""
    return path.stem.split("-", 1)[1]


# ------------------------------------------------------------------ shards
def record_shards(shards: Path, *paths: Path) -> None:
    """Append the checksums of shards just written (one line each, flushed to disk)."""
    lines = "".join(f"{sha256_file(p)}  {p.name}\n" for p in paths)
    with open(shards / SUMS, "a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


def _recorded(shards: Path) -> dict[str, str]:
    """File name → checksum; a line cut short by a kill (the last one) is ignored."""
    try:
        text = (shards / SUMS).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) == 64 and name:
            out[name] = digest
    return out


def _unreadable(path: Path) -> str | None:
    """Why a shard with no recorded checksum cannot be used (None: it reads as a whole)."""
    try:
        pq.read_table(path)
    except Exception as exc:  # pyarrow raises several kinds for damaged files
        return f"it cannot be read ({type(exc).__name__}: {str(exc)[:120]})"
    return None


def damaged_shards(shards: Path) -> dict[Path, str]:
    """Every shard that does not match its recorded checksum or cannot be read, with the reason.

    A shard with no checksum (a sweep killed between writing it and recording it, or made by an
    older version) is read in full instead, and recorded when it reads.
    """
    recorded = _recorded(shards)
    bad: dict[Path, str] = {}
    good_unrecorded = []
    for path in sorted(shards.glob("*-*.parquet")):
        want = recorded.get(path.name)
        if want is None:
            reason = _unreadable(path)
            if reason is None:
                good_unrecorded.append(path)
        elif path.stat().st_size == 0:
            reason = "it is empty"
        else:
            reason = None if sha256_file(path) == want else "its content does not match its recorded checksum"
        if reason:
            bad[path] = reason
    if good_unrecorded and os.access(shards, os.W_OK):
        record_shards(shards, *good_unrecorded)
    return bad


def quarantine(shards: Path, bad: dict[Path, str]) -> list[str]:
    """Move damaged shards, with the other shard of their batch, to ``shards/quarantine/``; one message each."""
    if not bad:
        return []
    folder = shards / QUARANTINE
    folder.mkdir(exist_ok=True)
    notes = []
    for path, reason in bad.items():
        for partner in shards.glob(f"*-{shard_id(path)}.parquet"):
            os.replace(partner, folder / partner.name)
        notes.append(f"{path}: {reason}; moved to {folder}/ and its runs will be run again")
    return notes


# ------------------------------------------------------------------ manifest and tables
def _digest(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def write_manifest(folder: Path, data: dict[str, Any]) -> None:
    """``manifest.json`` with the checksum of its content (it is written atomically)."""
    plain = json.loads(json.dumps(data, default=str))
    plain["checksum"] = _digest(plain)
    files.write_text(folder / MANIFEST, json.dumps(plain, indent=1, sort_keys=True) + "\n")


def read_manifest(folder: Path) -> dict[str, Any]:
    """A sweep's manifest, checked: missing, unreadable, damaged or edited is an error naming the file."""
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path}: damaged, not a sweep manifest ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not isinstance(data, dict) or data.get("kind") != "coprod-sim sweep":
        raise UserError(f"{path}: not a coprod-sim sweep manifest")
    if "checksum" in data and data["checksum"] != _digest(data):
        raise UserError(f"{path}: its content does not match its checksum (edited or damaged); re-run the sweep's "
                        "command to rewrite it, or delete the folder")
    return data


def table_sums(folder: Path) -> dict[str, str]:
    return {name: sha256_file(folder / name) for name in TABLES if (folder / name).is_file()}


def check_tables(folder: Path, manifest: dict[str, Any]) -> None:
    """The consolidated tables are those the manifest recorded (older manifests record none)."""
    for name, want in (manifest.get("tables") or {}).items():
        path = folder / name
        if not path.is_file():
            raise UserError(f"{path}: missing; re-run the sweep's command to rebuild it from the shards")
        if sha256_file(path) != want:
            raise UserError(f"{path}: its content does not match the checksum in {folder / MANIFEST} (changed or "
                            "damaged); re-run the sweep's command to rebuild it from the shards")
