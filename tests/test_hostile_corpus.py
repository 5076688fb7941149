"""The hostile-input corpus (tests/hostile/): every config and spec a user could get wrong gets exit code 2,
a message naming the file and the key or place, no traceback, and an answer at once.

Configs go through ``coprod-sim validate FILE``, specs through ``coprod-sim sweep FILE --dry-run``, in
this process (a traceback would surface as an exception here). Each file's last line ``# expect: TEXT``
says what the message must contain. Cases that cannot be files in a repository (a named pipe, a 2 MB
file) are made here. The whole corpus's answer times are measured by benchmarks/bench_hostile.py;
here a case only has to answer within 5 s stretched by the machine's load (``conftest.patience``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import ROOT, load_script, patience

from coprod_sim.cli import main

CORPUS = ROOT / "tests" / "hostile"
CONFIGS = sorted((CORPUS / "configs").glob("*.yaml"))
SPECS = sorted((CORPUS / "specs").glob("*.yaml"))


def expected(path: Path) -> str:
    last = path.read_text(encoding="utf-8").rstrip("\n").rsplit("\n", 1)[-1]
    assert last.startswith("# expect: "), f"{path}: last line must be '# expect: TEXT'"
    return last.removeprefix("# expect: ")


def answer(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    code = main(argv)
    return code, capsys.readouterr().err, time.perf_counter() - start


def check(path: Path, code: int, err: str, seconds: float, expect: str) -> None:
    assert code == 2, f"{path.name}: exit code {code}\n{err}"
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert lines and all(line.startswith("error: ") for line in err.splitlines()), err
    assert any(path.name in line for line in lines), err
    assert expect in err, f"{path.name}: expected {expect!r} in\n{err}"
    assert seconds < patience(5 / 3), f"{path.name}: answered in {seconds:.1f} s"


def test_the_corpus_is_big_enough() -> None:
    assert len(CONFIGS) >= 150 and len(SPECS) >= 100 and len(CONFIGS) + len(SPECS) >= 250


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_hostile_config(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check(path, *answer(["validate", str(path)], capsys), expected(path))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_hostile_spec(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    check(path, *answer(["sweep", str(path), "--dry-run", "--out", str(out)], capsys), expected(path))
    assert not out.exists()


# ------------------------------------------------------------------ cases that cannot be committed files
def made_cases(folder: Path) -> dict[str, tuple[Path, str]]:
    """Name → (file, expected text) for inputs made on the spot."""
    fifo = folder / "pipe.yaml"
    os.mkfifo(fifo)
    big = folder / "big.yaml"
    big.write_text("notes: [" + ",".join(["1"] * 10**6) + "]\n")
    huge = folder / "huge.yaml"
    huge.write_bytes(b"a: 1\n" + b"#" * 6_000_000)
    binary = folder / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80")
    return {"fifo": (fifo, "expected a regular file"), "big": (big, "too many values: more than 200,000"),
            "huge": (huge, "file too large"), "binary": (binary, "cannot read file"),
            "folder": (folder, "expected a regular file, found a folder"),
            "dev_zero": (Path("/dev/zero"), "expected a regular file")}


@pytest.mark.parametrize("case", ["fifo", "big", "huge", "binary", "folder", "dev_zero"])
def test_made_cases_as_config_and_as_spec(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, expect = made_cases(tmp_path)[case]
    check(path, *answer(["validate", str(path)], capsys), expect)
    check(path, *answer(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "o")], capsys), expect)


def test_the_corpus_is_up_to_date_with_the_registry(tmp_path: Path) -> None:
    """A renamed or new parameter must have its cases: re-run ``tests/hostile/make_corpus.py`` if this fails."""
    make_corpus = load_script(CORPUS / "make_corpus.py")
    make_corpus.main(["--out", str(tmp_path)])
    for kind in ("configs", "specs"):
        fresh = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / kind).glob("*.yaml")}
        kept = {p.name: p.read_text(encoding="utf-8") for p in (CORPUS / kind).glob("*.yaml")}
        assert sorted(fresh) == sorted(kept), f"{kind}: re-run tests/hostile/make_corpus.py"
        assert fresh == kept, f"{kind}: re-run tests/hostile/make_corpus.py"
