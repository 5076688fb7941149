"""One run: simulate a scenario, and write or read its folder (summary, time series, manifest, figures)."""

from .provenance import code_fingerprint, git_commit, package_versions, results_id, version_text
from .result import RunAborted, RunResult, dumps_summary, read_run, write_partial, write_run
from .runner import Simulator, non_finite_outcomes, run, simulate
from .worlds import CacheLike, WorldCache

__all__ = ["CacheLike", "RunAborted", "RunResult", "Simulator", "WorldCache", "code_fingerprint", "dumps_summary",
           "git_commit", "non_finite_outcomes", "package_versions", "read_run", "results_id", "run", "simulate",
           "version_text", "write_partial", "write_run"]
