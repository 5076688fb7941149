"""What a result needs to be cited and reproduced: package versions, the source commit and a code fingerprint.

Looked up once per process: sweeps build a manifest per run, and asking git or
the package metadata for every run would cost more than small runs do.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

PROVENANCE_PACKAGES = ("coprod-sim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "SALib", "dask", "distributed")
FINGERPRINT_PACKAGES = ("mesa", "numpy", "scipy")  # libraries whose version can move a run's numbers
SOURCE_SUFFIXES = (".py", ".yaml")  # the package's code and the parameters and scenarios it reads
NOT_SOURCE = ("__pycache__", "examples")  # example specs (shipped in wheels only) do not change results
BUILD_INFO = "build_info.json"  # written into wheels by setup.py
REFERENCE_OUTPUTS = ("tests", "reference_outputs.json")  # where a source checkout keeps its results id


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


def commit_named(revision: str, checkout: Path) -> str | None:
    """The commit ``revision`` (a hash, a branch, ``HEAD~2``) names in the git checkout at ``checkout``, or None:
    what the tools that compare this tree with an earlier version check before checking anything out."""
    try:
        found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"],
                               cwd=checkout, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() if found.returncode == 0 else None


@cache
def git_commit() -> str | None:
    """The commit this package was built from (recorded in the wheel by setup.py) or, in a source checkout,
    the checkout's ("-dirty" if edited); None when neither is known."""
    here = Path(__file__).resolve().parent
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return json.loads((here.parent / BUILD_INFO).read_text(encoding="utf-8")).get("commit")
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if commit.returncode != 0:
        return None
    return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


@cache
def results_id() -> str | None:
    """The id of the results this code computes (docs/CHANGELOG.md says which model each id is), so a document
    or a paper can name the results its numbers come from.

    A wheel records it at build time (setup.py); a source checkout reads it from
    ``tests/reference_outputs.json``, which ``tests/test_reference_outputs.py`` keeps equal to what the code
    computes. None when neither is there.
    """
    here = Path(__file__).resolve().parent
    for path in (here.parent / BUILD_INFO, here.parents[2].joinpath(*REFERENCE_OUTPUTS)):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            found = json.loads(path.read_text(encoding="utf-8")).get("results_id")
            if isinstance(found, str) and found:
                return found
    return None


@cache
def code_fingerprint() -> str:
    """What decides a run's numbers, as one hash: the content of the installed package's source files
    (code, parameters, shipped scenarios) and the versions of mesa, numpy and scipy.

    Unlike the git commit it is the same for two installs of the same code, git or not, changes with
    an uncommitted edit or a new module, and does not change when only docs or tests do.
    """
    return fingerprint_of(Path(__file__).resolve().parents[1], package_versions())


def fingerprint_of(package: Path, versions: dict[str, str]) -> str:
    """The fingerprint of the package folder ``package`` with these library versions."""
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.suffix in SOURCE_SUFFIXES
                       and not set(p.relative_to(package).parts) & set(NOT_SOURCE)):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for name in FINGERPRINT_PACKAGES:
        digest.update(f"{name}=={versions.get(name)}\0".encode())
    return digest.hexdigest()[:16]


def version_text() -> str:
    """``coprod-sim 0.2.0 (commit 1a2b3c4…, results id f4bf3f06a8a8)``, as ``coprod-sim --version`` prints it."""
    from .. import __version__

    commit = git_commit()
    known = results_id()
    return (f"coprod-sim {__version__} ({'commit ' + commit if commit else 'not a git checkout: commit unknown'}, "
            f"{'results id ' + known if known else 'results id unknown'})")


# ------------------------------------------------------------------ the arithmetic path
# Values that agree within this, relative and absolute, differ only in the last bits of a sum: far below any
# precision the docs print, far above the 1e-15 relative spread seen between CPUs. Absolute too, since a
# balance that is zero up to rounding has no relative scale. The reference test and same_results.py use it.
ROUNDING_TOLERANCE = 1e-9

# The last bits of a float sum depend on the CPU: numpy picks its vectorised loops and OpenBLAS its kernels by
# the processor, and they add in different orders. A run that is bit-identical on one machine can differ in the
# last bits on another, and a last-bit difference that tips a discrete choice sends the run down another path.
def platform_signature() -> dict:
    """Which arithmetic this machine runs: numpy's chosen vectorised loop per function and the OpenBLAS kernel.

    Two machines with the same signature (and the pinned versions) compute the same bits; the label
    names the instruction sets so a failure says which path differs."""
    import numpy as np
    from numpy.lib.introspect import opt_func_info
    from threadpoolctl import threadpool_info

    chosen = {func: {dtype: info["current"] for dtype, info in sorted(by_type.items())}
              for func, by_type in sorted(opt_func_info().items())}
    blas = sorted({f"{lib['internal_api']} {lib.get('architecture')}" for lib in threadpool_info()
                   if lib.get("user_api") == "blas"})
    targets = sorted({target for by_type in chosen.values() for target in by_type.values()})
    parts = {"machine": platform.machine(), "numpy": np.__version__, "dispatch": chosen, "blas": blas}
    return {"id": hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12], "loops": targets,
            "label": f"{platform.machine()}; numpy {np.__version__} loops {', '.join(targets)}; {'; '.join(blas)}"}


def dispatch_targets() -> list[str]:
    """numpy's optional vector instruction sets (beyond its baseline) that this build can dispatch to."""
    from numpy.lib.introspect import opt_func_info

    return sorted({target for by_type in opt_func_info().values() for info in by_type.values()
                   for target in info["available"].split() if not target.startswith("baseline")})


# OpenBLAS kernels to switch to, by architecture: one older than any current machine's, so it runs everywhere
OTHER_BLAS_KERNEL = {"x86_64": ("Sandybridge", "Haswell"), "AMD64": ("Sandybridge", "Haswell"),
                     "aarch64": ("ARMV8", "NEOVERSEN1"), "arm64": ("ARMV8", "NEOVERSEN1")}


def other_arithmetic_env() -> dict[str, str]:
    """Environment variables that make a fresh process on this machine add as another CPU would: numpy's
    vector dispatch off (its baseline loops, as on an older processor) and another OpenBLAS kernel.

    Set before numpy is imported (a child process); used to check how far results depend on the arithmetic
    path (``scripts/same_results.py --arithmetic``)."""
    from threadpoolctl import threadpool_info

    current = {str(lib.get("architecture")) for lib in threadpool_info() if lib.get("user_api") == "blas"}
    choices = OTHER_BLAS_KERNEL.get(platform.machine(), ())
    env = {"NPY_DISABLE_CPU_FEATURES": " ".join(dispatch_targets())}
    kernel = next((k for k in choices if k not in current), None)
    return {**env, "OPENBLAS_CORETYPE": kernel} if kernel else env
