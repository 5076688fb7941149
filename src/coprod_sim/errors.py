"""Errors a user can fix, phrased for the user: the CLI prints them without a traceback.

Every layer raises these (a bad config, a bad sweep spec, a bad option), so they
live below all layers; the CLI turns them into ``error: …`` lines and exit code 2.
"""

from __future__ import annotations


class CoprodError(Exception):
    """Base of the problems coprod-sim reports to users instead of crashing."""


class ConfigError(CoprodError):
    """One or more problems with a configuration or spec, each naming the file, key path, expectation and finding.

    ``problems`` holds them all; the message (and the CLI) shows the first ``SHOWN`` and how many more
    there are: a file with 200,000 unknown keys must not print 200,000 lines.
    """

    SHOWN = 25

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.shown))

    @property
    def shown(self) -> list[str]:
        """The problems to print: the first ``SHOWN``, then a line counting the rest."""
        rest = len(self.problems) - self.SHOWN
        return self.problems[:self.SHOWN] + ([f"… and {rest} more problems"] if rest > 0 else [])


class UserError(CoprodError):
    """A problem the user can fix that is not about a config's content (a path, an option, a folder)."""


def require(module: str, install: str, purpose: str) -> None:
    """Stop with a clear error when an optional package is missing, naming how to install it
    (the core install leaves out the browser app's and Dask's packages: ``coprod-sim[viz]``, ``[dask]``)."""
    import importlib.util

    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as missing
        found = False
    if not found:
        raise UserError(f"{purpose} needs {module}, which is not installed: pip install '{install}'")
