"""Writing result files so that a visible file is always complete.

Every file goes to a hidden temporary name first and is renamed into place: a run
or sweep killed mid-write never leaves a half-written file that looks finished.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def write_text(path: Path, text: str) -> None:
    tmp = _temporary(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_bytes(path: Path, data: bytes) -> None:
    """Bytes under a temporary name unique to this writer, then renamed: several processes (or hosts sharing
    the folder) may write the same file at once, and a reader sees one complete copy or none."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_parquet(table: pd.DataFrame | pa.Table, path: Path) -> None:
    """A pandas frame, or a pyarrow table (cheaper for many small shards)."""
    tmp = _temporary(path)
    if isinstance(table, pa.Table):
        pq.write_table(table, tmp)
    else:
        table.to_parquet(tmp, index=False)
    os.replace(tmp, path)
