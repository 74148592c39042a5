"""Lab 01 (traps, bare metal): the reference solution earns full marks, the
starter less, and plausible wrong handlers lose the checks they should, all
through the real grader; the checks' idea of the M extension is the core's."""
from __future__ import annotations

import importlib.util
import random
import shutil
from pathlib import Path

import pytest

from emu.labs import find_lab
from emu.labs.report import grade

pytestmark = pytest.mark.usefixtures("sandbox_env")     # children load the core

LAB = find_lab(1)
SOLUTION = Path(__file__).parent / "labs" / "01" / "solution" / "trap.S"
ALL = {c.name for c in LAB.checks}
HANDLER_CHECKS = {"multiply", "divide", "random_registers", "hello", "numbers",
                  "system_call_edges", "unhandled"}


def submit(tmp_path: Path, text: str | None = None) -> Path:
    """The lab as `emu lab start` gives it, with trap.S replaced by text."""
    directory = tmp_path / "student"
    shutil.copytree(LAB.path, directory, ignore=shutil.ignore_patterns("checks.py"))
    if text is not None:
        (directory / "trap.S").write_text(text)
    return directory


def failing(directory: Path, names=None) -> set[str]:
    checks = [c for c in LAB.checks if names is None or c.name in names]
    return {r.check.name for r in grade(LAB, directory, checks, jobs=2) if not r.passed}


def mutant(old: str, new: str) -> str:
    text = SOLUTION.read_text()
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_reference_solution_earns_full_marks(tmp_path):
    results = grade(LAB, submit(tmp_path, SOLUTION.read_text()), LAB.checks, jobs=2)
    assert [r.check.name for r in results if not r.passed] == []
    assert sum(r.score for r in results) == LAB.points == 100


def test_the_starter_builds_and_runs_but_emulates_nothing(tmp_path):
    results = {r.check.name: r for r in grade(LAB, submit(tmp_path), LAB.checks, jobs=2)}
    assert {n for n, r in results.items() if not r.passed} == HANDLER_CHECKS
    mul = results["multiply"]
    assert mul.message == "mul a0, a1, a2 with a1 = 0x0, a2 = 0x0: a0 (the result) is wrong"
    assert (mul.expected, mul.got) == ("a0 = 0x00000000", "a0 = 0xc0de000a")
    assert mul.reproduce == 'emu run --isa rv32ia --input "02c58533 00000000 00000000" harness.S'
    assert "exit must stop the machine" in results["hello"].message


# Each mutant: a change to the solution, and the checks it must fail (the
# others must still pass).
MUTANTS = {
    "mepc not advanced": (
        ("    addi    t0, t0, 4\n    csrw    mepc, t0", "    csrw    mepc, t0"),
        ALL - {"unhandled"}),
    "mepc advanced by 8": (
        ("    addi    t0, t0, 4\n    csrw    mepc, t0",
         "    addi    t0, t0, 8\n    csrw    mepc, t0"),
        # rd is right; the harness's next store is skipped, and U-mode programs break
        {"random_registers", "registers_preserved", "rd_zero", "hello", "numbers",
         "system_call_edges"}),
    "t1 not restored": (
        ("    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
         "29,30,31\n    lw      x\\n",
         "    .irp n, 1,3,4,5,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
         "29,30,31\n    lw      x\\n"),
        {"random_registers", "registers_preserved", "rd_zero", "numbers", "system_call_edges"}),
    "signed division by zero not special": (
        ("    beqz    a1, 3f\n    xor", "    xor"), {"divide"}),
    "mulh without the sign corrections": (
        ("op_mulh:\n    mv      s1, ra\n    mv      a2, a0",
         "op_mulh:\n    j       op_mulhu\n    mv      a2, a0"),
        {"multiply", "random_registers"}),
    "the handler multiplies with mul": (
        ("op_mul:\n    mv      s1, ra\n    call    multiply\n    mv      ra, s1",
         "op_mul:\n    mul     a0, a0, a1"),
        {"multiply", "random_registers", "registers_preserved", "rd_zero", "one_trap_each",
         "numbers"}),
    "every illegal instruction is skipped as if emulated": (
        ("    bne     t0, t1, unhandled\n    srli    t0, s0, 25",
         "    bne     t0, t1, next_instruction\n    srli    t0, s0, 25"),
        {"unhandled"}),
    "write returns 0": (
        ("    sw      a1, 10 * 4(sp)            # all of it is written",
         "    sw      zero, 10 * 4(sp)"),
        {"system_call_edges"}),
    "exit status ignored": (
        ("    lw      a0, 10 * 4(sp)\n    j       power_off",
         "    li      a0, 0\n    j       power_off"),
        {"numbers"}),
}


@pytest.mark.parametrize("name", MUTANTS)
def test_a_wrong_handler_loses_the_checks_it_should(tmp_path, name):
    (old, new), expected = MUTANTS[name]
    assert failing(submit(tmp_path, mutant(old, new))) == expected


def test_a_syntax_error_in_trap_s_is_named_with_its_line_in_every_check(tmp_path):
    directory = submit(tmp_path, mutant("    csrr    t0, mcause\n", "    csrr    t0, mcause, t1\n"))
    results = grade(LAB, directory, LAB.checks, jobs=2)
    assert not any(r.passed for r in results)
    assert all("trap.S:" in r.message and "error" in r.message for r in results)


def test_the_checks_idea_of_the_m_extension_is_the_cores(tmp_path):
    """m_result against the core's own M instructions: the harness, with the
    reference handler, on the full ISA (no trap at all) for edge and random
    cases; every register after every instruction."""
    spec = importlib.util.spec_from_file_location("lab01_checks", LAB.path / "checks.py")
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    cases = checks.edge_cases(range(8)) + checks.random_cases(random.randrange(1 << 30), 500)
    work = submit(tmp_path, SOLUTION.read_text())
    program = checks.Work(work, "lab 01", (), ()).assemble(work / "harness.S")
    import io

    from emu.machine import Machine
    from emu.platform import Console
    out = io.BytesIO()
    machine = Machine(checks.MEM, Console(out, "".join(c.input + "\n" for c in cases).encode()),
                      isa="rv32ima")
    machine.load(program)
    stop = machine.run(checks.MAX_INSNS)
    assert (stop.status, machine.core.trap_count) == (0, 0)
    base = program.symbols["harness_saved"]
    lines = out.getvalue().decode().splitlines()
    assert len(lines) == len(cases)
    for case, line in zip(cases, lines):
        got = [0] + [int(w, 16) for w in line.split(" -> ")[1].split()]
        assert got == case.expected(base), case.text
