"""What the benchmarks' ``--against REV`` options share: this tree and commit ``REV`` side by side.

This machine's speed drifts by ±15% between minutes, so a change is measured by running the same
measurement for both versions alternately, each in a fresh process with its own ``src`` on the path.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def versions(rev: str) -> Iterator[dict[str, Path]]:
    """``{"this tree": ROOT, rev: a checkout of rev}``; the checkout is removed afterwards, whatever happens."""
    with tempfile.TemporaryDirectory(prefix="bench_against_") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), rev], cwd=ROOT, check=True)
        try:
            yield {"this tree": ROOT, rev: tree}
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


def run_in(tree: Path, command: list[str], **env: str) -> subprocess.CompletedProcess:
    """``command`` in a fresh process that imports ``tree``'s model; its output captured."""
    return subprocess.run(command, cwd=tree, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(tree / "src"), **env})


def alternate(rev: str, rounds: int, command: list[str]) -> dict[str, list[str]]:
    """The standard output of ``command`` for this tree and for ``rev``, alternately, ``rounds`` times each."""
    outputs: dict[str, list[str]] = {"this tree": [], rev: []}
    with versions(rev) as trees:
        for _ in range(rounds):
            for name, tree in trees.items():
                outputs[name].append(run_in(tree, command).stdout)
    return outputs
