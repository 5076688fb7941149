"""Build hook (metadata is in pyproject.toml): the wheel ships the example specs of experiments/*.yaml
inside the package (``coprod-sim examples`` lists and copies them) and records the git commit it was
built from and the id of the results its code computes (``coprod-sim --version`` prints both where there is
no git checkout to ask)."""

import json
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _commit() -> str | None:
    """HEAD of the source tree ("-dirty" if edited), or None outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "") if head.returncode == 0 else None


def _results_id() -> str | None:
    """The results id in force in the source tree (tests/reference_outputs.json), or None without one."""
    try:
        return json.loads((ROOT / "tests" / "reference_outputs.json").read_text(encoding="utf-8")).get("results_id")
    except (OSError, ValueError, AttributeError):
        return None


class BuildWithExamples(build_py):
    def run(self) -> None:
        super().run()
        package = Path(self.build_lib) / "coprod_sim"
        examples = package / "examples"
        examples.mkdir(parents=True, exist_ok=True)
        for spec in sorted((ROOT / "experiments").glob("*.yaml")):
            (examples / spec.name).write_bytes(spec.read_bytes())
        info = {"commit": _commit(), "results_id": _results_id()}
        (package / "build_info.json").write_text(json.dumps(info) + "\n", encoding="utf-8")


setup(cmdclass={"build_py": BuildWithExamples})
