"""What a result needs to be cited and reproduced: package versions and the source commit.

Looked up once per process: sweeps build a manifest per run, and asking git or
the package metadata for every run would cost more than small runs do.
"""

from __future__ import annotations

import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

PROVENANCE_PACKAGES = ("coprod-sim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "SALib", "dask", "distributed")


@cache
def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that can change results."""
    out = {"python": platform.python_version()}
    for name in PROVENANCE_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@cache
def git_commit() -> str | None:
    """The commit of the source tree this package runs from ("-dirty" if edited), or None outside a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if commit.returncode != 0:
        return None
    return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def version_text() -> str:
    """``coprod-sim 0.2.0 (commit 1a2b3c4…)``, as ``coprod-sim --version`` prints it."""
    from .. import __version__

    commit = git_commit()
    return f"coprod-sim {__version__} ({'commit ' + commit if commit else 'not a git checkout: commit unknown'})"
