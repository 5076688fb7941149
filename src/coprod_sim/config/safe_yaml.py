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
MAX_INT_BITS = 256      # an integer literal beyond this is no count, seed or size (and may not even print)
# libyaml's parser when pyyaml was built with it: counting 200,000 events takes a fraction of a second,
# against ~10 s in pure Python (a 2 MB list of numbers must be refused at once)
_FastLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Problem(Exception):
    """Raised inside the loader; turned into a ConfigError naming the file."""


class _IntTooLarge(_Problem):
    pass


class TooLarge(ConfigError):
    """An integer literal too large to be any value: refused even where text would be accepted (``--set``)."""


class _StrictLoader(_FastLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that refuses duplicate and non-text keys and integers too large to be a value."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        where = f"line {node.start_mark.line + 1}"
        try:
            value = super().construct_yaml_int(node)  # type: ignore[no-untyped-call]
        except ValueError:  # Python refuses to read integers of more than 4,300 digits
            value = None
        if value is None or value.bit_length() > MAX_INT_BITS:
            raise _IntTooLarge(f"{where}: integer too large ({len(str(node.value)):,} characters); expected a number "
                           f"below 2**{MAX_INT_BITS}")
        return int(value)

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


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def _count_events(text: str) -> None:
    """Refuse too many values or too deep nesting while the text is still being parsed, before any node
    is built: the limits then cost what the allowed part costs, not what the whole document would."""
    count = depth = 0
    for event in yaml.parse(text, Loader=_FastLoader):
        if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
            count += 1
            if count > MAX_NODES:
                raise _Problem(f"too many values: more than {MAX_NODES:,}")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Problem(f"nested too deeply: more than {MAX_DEPTH} levels of mappings or lists")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def check_file(path: Path) -> None:
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
    check_file(path)
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
        _count_events(text)
        data = yaml.load(text, Loader=_StrictLoader)
        _check_size(data)
    except _IntTooLarge as exc:
        raise TooLarge([f"{origin}: {exc}"]) from None
    except _Problem as exc:
        raise ConfigError([f"{origin}: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{origin}: nested too deeply: more than {MAX_DEPTH} levels of mappings or lists"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc)
        if "maximum nesting depth" in problem:  # libyaml's own limit, met before ours when it reads ahead
            problem = f"nested too deeply: more than {MAX_DEPTH} levels of mappings or lists"
            raise ConfigError([f"{origin}: {problem}"]) from None
        raise ConfigError([f"{origin}: YAML syntax error at {where}: {problem}"]) from None
    return data


def load_file(path: str | os.PathLike) -> Any:
    """A YAML file parsed under the rules above."""
    path = Path(path)
    return parse(_read_text(path), str(path))


def unusable_numbers(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Dotted key path (``a.b[2]``) and problem of every number no parameter can take: NaN or infinite,
    or an integer too large to compare or print (checked before the schema, which would do both)."""
    found: list[tuple[str, str]] = []
    where = prefix or "(top level)"
    if isinstance(data, (float, np.floating)) and not math.isfinite(data):
        found.append((where, f"expected a finite number, found {float(data)}"))
    elif isinstance(data, int) and data.bit_length() > MAX_INT_BITS:
        found.append((where, f"expected a number below 2**{MAX_INT_BITS}, found an integer of {data.bit_length():,} "
                             "bits"))
    elif isinstance(data, dict):
        for key, value in data.items():
            found += unusable_numbers(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            found += unusable_numbers(value, f"{prefix}[{i}]")
    return found
