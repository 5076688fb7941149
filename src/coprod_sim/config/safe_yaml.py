"""The one YAML reader for configs and sweep specs, hardened against hostile or accidental input.

``yaml.safe_load`` builds no objects but still accepts things that make a config
mean something else than it says (a duplicated key silently drops the first
block; ``1: 2`` or ``null: 1`` are not key paths) or that never finish (a named
pipe, ``/dev/zero``, thousands of nested brackets, a few hundred bytes of
aliases that expand to billions of nodes). Every such case becomes a
:class:`~coprod_sim.errors.ConfigError` naming the file, the place and the limit.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import ConfigError

MAX_BYTES = 5_000_000   # far above any real config or spec (the largest shipped is a few kB)
MAX_NODES = 200_000     # values after expanding aliases: stops alias bombs
MAX_DEPTH = 40          # nesting of mappings and lists; configs use 3 levels, specs 5


class _Problem(Exception):
    """Raised inside the loader; turned into a ConfigError naming the file."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate and non-text keys, and counts what aliases expand to."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        self.flatten_mapping(node)
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            where = f"line {key_node.start_mark.line + 1}"
            if not isinstance(key, str):
                raise _Problem(f"{where}: key {key!r} ({type(key).__name__}): expected text as a key "
                               "(quote it, e.g. '1': ...)")
            if key in seen:
                raise _Problem(f"{where}: {key}: duplicate key (first given at line {seen[key].start_mark.line + 1}); "
                               "give each key once")
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _check_file(path: Path) -> None:
    """Refuse what is not a regular file of sane size before opening it (a FIFO would block forever)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read file ({exc.strerror})"]) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError([f"{path}: expected a regular file, found a "
                           f"{'folder' if stat.S_ISDIR(info.st_mode) else 'special file (pipe, device or socket)'}"])
    if info.st_size > MAX_BYTES:
        raise ConfigError([f"{path}: file too large: {info.st_size:,} bytes, at most {MAX_BYTES:,}"])


def _read_text(path: Path) -> str:
    _check_file(path)
    try:
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NONBLOCK)) as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ConfigError([f"{path}: file too large: more than {MAX_BYTES:,} bytes"])
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read file ({exc})"]) from None


def _check_size(data: Any) -> None:
    """Count values as a consumer would see them (aliases expanded), stopping at the limits."""
    count = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _Problem(f"too many values: more than {MAX_NODES:,} once aliases (*name) are expanded")
        if depth > MAX_DEPTH:
            raise _Problem(f"nested too deeply: more than {MAX_DEPTH} levels of mappings or lists")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def parse(text: str, origin: str) -> Any:
    """Parse YAML text under the rules above; ``origin`` names it in messages."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)
        _check_size(data)
    except _Problem as exc:
        raise ConfigError([f"{origin}: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{origin}: nested too deeply: more than {MAX_DEPTH} levels of mappings or lists"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{origin}: YAML syntax error at {where}: {problem}"]) from None
    return data


def load_file(path: str | os.PathLike) -> Any:
    """A YAML file parsed under the rules above."""
    path = Path(path)
    return parse(_read_text(path), str(path))


def non_finite(data: Any, prefix: str = "") -> list[tuple[str, float]]:
    """Dotted key path (``a.b[2]``) and value of every NaN or infinite number in ``data``: never a valid input."""
    found: list[tuple[str, float]] = []
    if isinstance(data, (float, np.floating)) and not math.isfinite(data):
        found.append((prefix or "(top level)", float(data)))
    elif isinstance(data, dict):
        for key, value in data.items():
            found += non_finite(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            found += non_finite(value, f"{prefix}[{i}]")
    return found
