"""What the benchmarks' ``--against`` options share: this tree side by side with another version of it.

The other version is an earlier commit ``REV`` (checked out, run by this interpreter), or ``python:PATH``: this
tree run by another interpreter (a virtual environment with the project's dependencies, e.g. made by
``PYTHON=PATH scripts/setup.sh`` in another clone), to see what an interpreter changes.

This machine's speed drifts by ±15% between minutes, so a change is measured by running the same
measurement for both versions alternately, each in a fresh process with its own ``src`` on the path.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from coprod_sim.cli.runs import commit_option

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "<python>"  # in a command: the interpreter of the version that runs it
OTHER_PYTHON = "python:"  # ``--against python:PATH``: this tree under the interpreter at PATH


def revision(text: str) -> str:
    """An argparse ``type`` for ``--against``: a commit of this repository or ``python:PATH`` to an interpreter,
    refused while the arguments are parsed (a misspelt commit was a git traceback after the first measurement)."""
    if text.startswith(OTHER_PYTHON):
        path = Path(text.removeprefix(OTHER_PYTHON))
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise argparse.ArgumentTypeError(f"expected python:PATH to an interpreter, found no program at {path}")
        return text
    return commit_option(ROOT)(text)


@dataclass(frozen=True)
class Version:
    """A version to measure: a source tree and the interpreter that runs it."""

    tree: Path
    python: str


@contextlib.contextmanager
def versions(against: str) -> Iterator[dict[str, Version]]:
    """``{"this tree": this tree under this interpreter, against: the other version}``; a checkout of a commit is
    removed afterwards, whatever happens."""
    this = Version(ROOT, sys.executable)
    if against.startswith(OTHER_PYTHON):
        yield compiled({"this tree": this, against: Version(ROOT, against.removeprefix(OTHER_PYTHON))})
        return
    with tempfile.TemporaryDirectory(prefix="bench_against_") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), against], cwd=ROOT, check=True)
        try:
            yield compiled({"this tree": this, against: Version(tree, sys.executable)})
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


def compiled(found: dict[str, Version]) -> dict[str, Version]:
    """``found``, each version's package compiled to bytecode first: a fresh checkout (or an edited tree) would
    otherwise compile its modules in whichever measured process imports them first, and two processes counted
    side by side race to it, so the compilation could fall unevenly into the two counts of a difference."""
    for version in found.values():
        subprocess.run([version.python, "-m", "compileall", "-q", str(version.tree / "src")], check=True,
                       capture_output=True)
    return found


def run_in(version: Version, command: list[str], **env: str) -> subprocess.CompletedProcess:
    """``command`` in a fresh process that imports ``version``'s model (``PYTHON`` in it: the version's
    interpreter); its output captured."""
    argv = [version.python if word == PYTHON else word for word in command]
    return subprocess.run(argv, cwd=version.tree, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(version.tree / "src"), **env})


def alternate(against: str, rounds: int, command: list[str]) -> dict[str, list[str]]:
    """The standard output of ``command`` for this tree and for ``against``, alternately, ``rounds`` times each."""
    outputs: dict[str, list[str]] = {"this tree": [], against: []}
    with versions(against) as found:
        for _ in range(rounds):
            for name, version in found.items():
                outputs[name].append(run_in(version, command).stdout)
    return outputs
