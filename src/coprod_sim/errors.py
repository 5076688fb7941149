"""Errors a user can fix, phrased for the user: the CLI prints them without a traceback.

Every layer raises these (a bad config, a bad sweep spec, a bad option), so they
live below all layers; the CLI turns them into ``error: …`` lines and exit code 2.
"""

from __future__ import annotations


class CoprodError(Exception):
    """Base of the problems coprod-sim reports to users instead of crashing."""


class ConfigError(CoprodError):
    """One or more problems with a configuration or spec, each naming the file, key path, expectation and finding."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class UserError(CoprodError):
    """A problem the user can fix that is not about a config's content (a path, an option, a folder)."""
