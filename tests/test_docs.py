"""Docs run as typed: every command in README.md and docs/*.md works on a fresh clone after the quick start.

Three checks:

* every shell command uses what the quick start provides (``.venv/bin/coprod-sim``,
  ``.venv/bin/python <a file in the repo>``, ``scripts/…``) and its arguments
  parse with the real parser (``coprod-sim``'s, or the script's own ``build_parser()``);
* every ``coprod-sim`` command is run for real, in document order, in a scratch
  folder laid out like a fresh clone (except the few in ``NOT_RUN``, which say why);
* the Python examples (``>>>``) run as doctests.

Long experiments and benchmarks are only parsed here: running them is their
own job (their docs name the command and the time they take).
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, load_script

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell)\n(.*?)^```", re.S | re.M)
COPROD = ".venv/bin/coprod-sim"
PYTHON = ".venv/bin/python"
# documented commands that are parsed but not run, and why
NOT_RUN = {
    "viz": "starts a server that runs until stopped; tests/test_app_browser.py drives it in Chromium",
    "--scheduler": "connects to a Dask cluster at the documented address, which a fresh clone does not have",
}
# generated docs whose coprod-sim commands record a long experiment: parsed here, run by their generator
NOT_RUN_DOCS = {
    "scenarios.md": "each scenario's attribution (hundreds of runs) is what experiments/scenarios.py ran to write it",
}
# what a fresh clone has after the quick start, linked into the scratch folder
CLONE = ("configs", "experiments", "scripts", "src", ".venv", "pyproject.toml")


@dataclass(frozen=True)
class Command:
    doc: Path
    line: int
    text: str

    @property
    def argv(self) -> list[str]:
        """Words as the shell splits them, with globs expanded from the repo root."""
        words = shlex.split(self.text, comments=True)
        out: list[str] = []
        for word in words:
            matches = sorted(glob.glob(word, root_dir=ROOT)) if glob.has_magic(word) else []
            out += [os.path.relpath(m) if os.path.isabs(m) else m for m in matches] or [word]
        return out

    def __str__(self) -> str:
        return f"{self.doc.name}:{self.line}: {self.text}"


def documented_commands(doc: Path) -> list[Command]:
    """Shell commands of a Markdown file, continuation lines joined, comments and blank lines left out."""
    text = doc.read_text(encoding="utf-8")
    commands = []
    for block in SHELL_BLOCK.finditer(text):
        start = text.count("\n", 0, block.start(1)) + 1
        pending, first = "", 0
        for offset, line in enumerate(block.group(1).splitlines()):
            if not pending:
                first = start + offset
            pending += line.rstrip()
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            if pending.strip() and not pending.strip().startswith("#"):
                commands.append(Command(doc, first, pending.strip()))
            pending = ""
    return commands


ALL = [c for doc in DOCS for c in documented_commands(doc)]


def _script_parser(path: Path):
    module = load_script(path, f"_doc_script_{path.stem}")
    assert hasattr(module, "build_parser"), f"{path}: a documented script exposes build_parser() (its options)"
    return module.build_parser()


def test_the_docs_have_commands_to_check() -> None:
    assert len(ALL) >= 15 and any(c.doc.name == "sweeps.md" for c in ALL)


@pytest.mark.parametrize("command", ALL, ids=str)
def test_command_runs_on_a_fresh_clone_after_the_quick_start(command: Command) -> None:
    from coprod_sim.cli import build_parser

    argv = command.argv
    program = argv[0]
    if program == COPROD:
        try:
            build_parser().parse_args(argv[1:])
        except SystemExit as stop:  # --version and --help exit 0
            assert stop.code in (0, None), f"{command}: the arguments do not parse (exit {stop.code})"
    elif program == PYTHON and argv[1:2] != ["-m"]:
        script = ROOT / argv[1]
        assert script.is_file(), f"{command}: {argv[1]} is not in the repository"
        try:
            _script_parser(script).parse_args(argv[2:])
        except SystemExit as stop:
            pytest.fail(f"{command}: the arguments do not parse (exit {stop.code})")
    elif program.startswith("scripts/"):
        assert (ROOT / program).is_file() and os.access(ROOT / program, os.X_OK), f"{command}: not an executable script"
    else:
        pytest.fail(f"{command}: `{program}` is not there on a fresh clone after the quick start; "
                    f"write {COPROD} or {PYTHON}")


def _skipped_because(command: Command) -> str | None:
    return next((why for word, why in NOT_RUN.items() if word in command.argv), None)


def _scratch_clone(tmp_path: Path) -> Path:
    for name in CLONE:
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


RUN_DOCS = sorted({c.doc for c in ALL if c.argv[0] == COPROD and not _skipped_because(c)
                   and c.doc.name not in NOT_RUN_DOCS})


@pytest.mark.slow
@pytest.mark.parametrize("doc", RUN_DOCS, ids=lambda d: d.name)
def test_documented_coprod_sim_commands_run(doc: Path, tmp_path: Path) -> None:
    """Each doc's coprod-sim commands, in order (a later one may read what an earlier one wrote)."""
    workdir = _scratch_clone(tmp_path)
    for command in documented_commands(doc):
        if command.argv[0] != COPROD or _skipped_because(command):
            continue
        proc = subprocess.run(["bash", "-c", command.text], cwd=workdir, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "CI": "1"}, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"{command}\nexit {proc.returncode}\n{proc.stderr[-2000:]}"


DOCTEST_DOCS = [d for d in DOCS if ">>> " in d.read_text(encoding="utf-8")]


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCTEST_DOCS, ids=lambda d: d.name)
def test_python_examples_run_as_shown(doc: Path, tmp_path: Path) -> None:
    workdir = _scratch_clone(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "doctest", "-o", "ELLIPSIS", "-o", "NORMALIZE_WHITESPACE", str(doc)],
                          cwd=workdir, capture_output=True, text=True, timeout=900, env={**os.environ, "CI": "1"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_docs_with_python_examples_are_checked() -> None:
    assert ROOT / "docs" / "python.md" in DOCTEST_DOCS
