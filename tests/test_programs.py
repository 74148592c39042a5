"""The sample programs (programs/NAME/: NAME.S, expected.txt, and the `emu run`
options in `args` when it needs any) and the self-checking privileged tests
(tests/priv/NAME.S: exit status 0, or the number of the failing case), run from
their sources as `emu run FILE.S` does: assembled by emu's own assembler, which
tests/test_asm.py checks against GNU as and ld byte for byte."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import main

REPO = Path(__file__).resolve().parent.parent
PROGRAMS = sorted(p for p in (REPO / "programs").iterdir() if (p / "expected.txt").exists())
PRIV_TESTS = sorted(p for p in (REPO / "tests" / "priv").glob("*.S") if p.name != "check.S")


def run(source: Path, args: list[str]):
    return CliRunner().invoke(main, ["run", str(source), "--max-insns", "50000000", *args])


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_sample_program(program):
    args_file = program / "args"
    args = args_file.read_text().split() if args_file.exists() else []
    result = run(program / f"{program.name}.S", args)
    assert result.stdout == (program / "expected.txt").read_text()
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("source", PRIV_TESTS, ids=lambda p: p.stem)
def test_privileged(source):
    result = run(source, [])
    assert result.exit_code == 0, f"{source.name}: {result.stdout}{result.stderr}"


def test_at_least_the_required_programs_exist():
    names = {p.name for p in PROGRAMS}
    assert {"hello", "hello-sbi", "sbi-check"} <= names
    assert {p.stem for p in PRIV_TESTS} >= {"traps", "illegal", "csr", "interrupts", "mprv",
                                            "sv32", "misaligned", "atomics"}
