"""Lab 01's checks: the student's trap.S, run by harness.S (one M instruction at
a time, every register known before and after) and by the U-mode programs in
user/, on a machine without the M extension (--isa rv32ia).

What an M instruction must leave is computed here from the unprivileged spec's
M chapter (`m_result`); tests/test_lab_01.py checks that against the core's own
M extension. The lab's own copies of harness.S, boot.S, board.inc and user/
are used, whatever the student did to theirs: only trap.S is the answer."""
from __future__ import annotations

import io
import random
import shutil
from pathlib import Path
from typing import NamedTuple

from emu.labs import CheckFailed, LabSpec, Work, check
from emu.machine import Machine, StopReason
from emu.platform import Console

LAB = LabSpec(
    title="Traps, bare metal",
    goal="An M-mode trap handler that emulates multiply and divide and serves "
         "U-mode system calls.",
    files=("trap.S",))

HERE = Path(__file__).parent
GIVEN = ("harness.S", "boot.S", "board.inc", "user")
ISA = "rv32ia"
MEM = 1 << 20
MAX_INSNS = 20_000_000             # a harness run; a U-mode program gets USER_INSNS
USER_INSNS = 5_000_000
MASK = 0xFFFF_FFFF
PATTERN = 0xC0DE_0000               # harness.S: xN holds PATTERN + N before the instruction
UNTOUCHED = 0xDEAD_BEEF             # harness.S: a register the stores never saved
OPERATIONS = ("mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu")   # by funct3
ABI = ("zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 "
       "s10 s11 t3 t4 t5 t6").split()
A0, A1, A2 = 10, 11, 12
INT_MIN, INT_MAX = 0x8000_0000, 0x7FFF_FFFF
EDGES = (0, 1, 2, 3, 7, MASK, MASK - 1, INT_MIN, INT_MAX, INT_MIN + 1, 0x10000, 0xFFFF,
         0x1234_5678, 0x8765_4321)


# ---- the M extension, as the spec defines it

def signed(value: int) -> int:
    return value - (1 << 32) if value & INT_MIN else value


def m_result(funct3: int, a: int, b: int) -> int:
    """rd for an M instruction with rs1 = a and rs2 = b (unprivileged spec, "M"
    chapter, with its table of division by zero and overflow)."""
    sa, sb = signed(a), signed(b)
    if funct3 < 4:
        product = (a * b, sa * sb, sa * b, a * b)[funct3]
        return (product if funct3 == 0 else product >> 32) & MASK
    if b == 0:
        return (MASK, MASK, a, a)[funct3 - 4]
    if funct3 in (4, 6):
        if sa == -(1 << 31) and sb == -1:
            return a if funct3 == 4 else 0                  # overflow
        quotient = abs(sa) // abs(sb) * (1 if (sa < 0) == (sb < 0) else -1)   # towards zero
        return (quotient if funct3 == 4 else sa - quotient * sb) & MASK
    return a // b if funct3 == 5 else a % b


class Case(NamedTuple):
    funct3: int
    rd: int
    rs1: int
    rs2: int
    a: int                          # rs1's value
    b: int                          # rs2's value

    @property
    def word(self) -> int:
        return (1 << 25 | self.rs2 << 20 | self.rs1 << 15 | self.funct3 << 12 | self.rd << 7
                | 0x33)

    @property
    def text(self) -> str:
        return (f"{OPERATIONS[self.funct3]} {ABI[self.rd]}, {ABI[self.rs1]}, {ABI[self.rs2]} "
                f"with {ABI[self.rs1]} = {self.a:#x}"
                + ("" if self.rs1 == self.rs2 else f", {ABI[self.rs2]} = {self.b:#x}"))

    @property
    def input(self) -> str:
        return f"{self.word:08x} {self.a:08x} {self.b:08x}"

    def registers_before(self, base_value: int) -> list[int]:
        """x0-x31 as harness.S sets them: rs2, then rs1, then its base register."""
        regs = [PATTERN + n for n in range(32)]
        regs[self.rs2] = self.b
        regs[self.rs1] = self.a
        regs[self.base] = base_value
        regs[0] = 0
        return regs

    @property
    def base(self) -> int:
        return next(r for r in (31, 30, 29) if r not in (self.rd, self.rs1, self.rs2))

    def expected(self, base_value: int) -> list[int]:
        regs = self.registers_before(base_value)
        if self.rd:
            a = regs[self.rs1]
            regs[self.rd] = m_result(self.funct3, a, regs[self.rs2])
        return regs

    def reproduce(self) -> str:
        return f'emu run --isa {ISA} --input "{self.input}" harness.S'


def edge_cases(operations) -> list[Case]:
    return [Case(f, A0, A1, A2, a, b) for f in operations for a in EDGES for b in EDGES]


def random_cases(seed: int, count: int, rd_zero: bool = False) -> list[Case]:
    """Random instructions on random registers (rd = rs1 = rs2 included), with
    operands drawn from the edges half of the time."""
    rng = random.Random(seed)

    def operand() -> int:
        return rng.choice(EDGES) if rng.random() < 0.5 else rng.getrandbits(32)

    def register() -> int:
        return rng.choice((rng.randrange(1, 32), A0, A1))

    cases = []
    for _ in range(count):
        rs1, rs2 = register(), register()
        rd = 0 if rd_zero else rng.choice((register(), rs1, rs2))
        cases.append(Case(rng.randrange(8), rd, rs1, rs2, operand(), operand()))
    return cases


# ---- running the student's handler

class HarnessRun(NamedTuple):
    results: list[list[int]]        # per case finished: x1-x31 after it (x0 first, 0)
    base_value: int                 # harness_saved's address in this build
    traps: list                     # the core's trap log (the last 64)
    trap_count: int
    stop: str                       # "" if the harness ran every case and ended


def prepare(work: Work) -> None:
    """The lab's own harness, boot code and programs next to the student's trap.S."""
    for name in GIVEN:
        source, target = HERE / name, work.root / name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)


def run(work: Work, source: str, data: bytes = b"",
        max_insns: int = MAX_INSNS) -> tuple[Machine, object, bytes]:
    prepare(work)
    program = work.assemble(work.root / source)
    out = io.BytesIO()
    machine = Machine(MEM, Console(out, data), isa=ISA)
    machine.load(program)
    stop = machine.run(max_insns)
    return machine, stop, out.getvalue()


def run_harness(work: Work, cases: list[Case]) -> HarnessRun:
    data = "".join(case.input + "\n" for case in cases).encode()
    machine, stop, out = run(work, "harness.S", data)
    results = []
    for line in out.decode(errors="replace").splitlines():
        head, arrow, tail = line.partition(" -> ")
        words = tail.split()
        if not arrow or len(words) != 31:
            break
        results.append([0] + [int(w, 16) for w in words])
    problem = ""
    if stop.reason is not StopReason.EXIT or stop.status != 0 or len(results) != len(cases):
        problem = stop.message or f"exit status {stop.status}"
    return HarnessRun(results, machine.program.symbols["harness_saved"], machine.core.trap_log(),
                      machine.core.trap_count, problem)


def stopped_early(run: HarnessRun, cases: list[Case]) -> None:
    """A harness run that did not get through every case: say where and why."""
    if not run.stop:
        return
    case = cases[len(run.results)] if len(run.results) < len(cases) else cases[-1]
    why = run.stop
    repeats = sum(1 for t in run.traps if t.cause == 2)
    if "instructions" in why and repeats == len(run.traps):
        why += ("; every trap lately was an illegal instruction: does your handler move mepc "
                "past the instruction?")
    raise CheckFailed(f"the harness stopped after {len(run.results)} of {len(cases)} "
                      f"instructions, at {case.text}: {why}", reproduce=case.reproduce())


def compare(cases: list[Case], run: HarnessRun, registers) -> str:
    """The first case whose registers (those `registers(case)` names) differ."""
    stopped_early(run, cases)
    for case, got in zip(cases, run.results):
        want = case.expected(run.base_value)
        for r in registers(case):
            if got[r] != want[r]:
                what = "the result" if r == case.rd else "a register that is not rd"
                if got[r] == UNTOUCHED:
                    raise CheckFailed(
                        f"after {case.text}, {ABI[r]} was never saved by the harness: the "
                        "instruction after it did not run. mepc must advance by 4, to the "
                        "next instruction", reproduce=case.reproduce())
                raise CheckFailed(f"{case.text}: {ABI[r]} ({what}) is wrong",
                                  expected=f"{ABI[r]} = {want[r]:#010x}",
                                  got=f"{ABI[r]} = {got[r]:#010x}", reproduce=case.reproduce())
    return f"{len(cases)} instructions"


def result_only(case: Case) -> list[int]:
    return [case.rd] if case.rd else []


def all_but_rd(case: Case) -> list[int]:
    return [r for r in range(1, 32) if r != case.rd]


# ---- the checks

@check(points=15)
def multiply(work: Work):
    """mul, mulh, mulhsu and mulhu give the spec's results on edge operands"""
    cases = edge_cases(range(4))
    return compare(cases, run_harness(work, cases), result_only)


@check(points=15)
def divide(work: Work):
    """div, divu, rem and remu give the spec's results, division by zero and overflow included"""
    cases = edge_cases(range(4, 8))
    return compare(cases, run_harness(work, cases), result_only)


@check(points=15)
def random_registers(work: Work):
    """Random M instructions on random registers and operands write the right rd"""
    cases = random_cases(1, 400)
    return compare(cases, run_harness(work, cases), result_only)


@check(points=15)
def registers_preserved(work: Work):
    """Every register other than rd is as it was, sp, ra, t and a registers included"""
    cases = random_cases(2, 300)
    return compare(cases, run_harness(work, cases), all_but_rd)


@check(points=5)
def rd_zero(work: Work):
    """An M instruction with rd = zero changes no register"""
    cases = random_cases(3, 50, rd_zero=True)
    return compare(cases, run_harness(work, cases), all_but_rd)


@check(points=10)
def one_trap_each(work: Work):
    """Exactly one trap per emulated instruction (the machine counts them)"""
    cases = random_cases(4, 60)
    run = run_harness(work, cases)
    stopped_early(run, cases)
    if run.trap_count != len(cases):
        extra = [t for t in run.traps if t.cause != 2 or t.insn & 0xFE00007F != 0x02000033]
        detail = (f"; one of the others: cause {extra[-1].cause} at pc {extra[-1].epc:#x}"
                  if extra else "")
        raise CheckFailed(f"{len(cases)} M instructions took {run.trap_count} traps: the "
                          f"handler itself must not trap (no M instruction in it){detail}",
                          expected=f"{len(cases)} traps", got=f"{run.trap_count} traps",
                          reproduce=cases[0].reproduce())
    return f"{run.trap_count} traps"


def user_program(work: Work, name: str, output: str, status: int) -> str:
    machine, stop, out = run(work, f"user/{name}.S", max_insns=USER_INSNS)
    command = f"emu run --isa {ISA} --max-insns {USER_INSNS} user/{name}.S"
    got = out.decode(errors="replace")
    if stop.reason is not StopReason.EXIT:
        hint = (" (after an exit call that returns, a program spins: exit must stop the "
                "machine)" if stop.reason is StopReason.LIMIT else "")
        raise CheckFailed(f"user/{name}.S did not exit: {stop.message}{hint}",
                          expected=f"exit status {status}", got=f"output {got!r}",
                          reproduce=command)
    if (got, stop.status) != (output, status):
        raise CheckFailed(f"user/{name}.S's output or exit status is wrong",
                          expected=f"{output!r}, exit status {status}",
                          got=f"{got!r}, exit status {stop.status}", reproduce=command)
    return f"{machine.core.trap_count} traps"


@check(points=5)
def hello(work: Work):
    """A U-mode program writes a line and exits, through ECALL"""
    return user_program(work, "hello", "hello from U-mode\n", 0)


NUMBERS = ("factorials: 1 2 6 24 120 720 5040 40320 362880 3628800 39916800 479001600\n"
           "primes: 2 3 5 7 11 13 17 19 23 29 31 37 41 43 47 53 59\n"
           "7/2, 7/-2, -7/2, -7/-2 (quotient remainder): 3 1 -3 1 -3 -1 3 -1\n")


@check(points=10)
def numbers(work: Work):
    """A U-mode program that multiplies, divides and prints gets the right numbers"""
    return user_program(work, "numbers", NUMBERS, 3)


@check(points=5)
def system_call_edges(work: Work):
    """write returns its length, -EBADF and -ENOSYS; a call keeps every register but a0"""
    return user_program(work, "calls", "abc\nreturned 4\nreturned 0\nreturned -9\n"
                                       "returned -38\nevery register but a0 kept\n", 0)


@check(points=5)
def unhandled(work: Work):
    """An illegal instruction that is not an M instruction stops the program, status 1"""
    machine, stop, out = run(work, "user/illegal.S", max_insns=USER_INSNS)
    text = out.decode(errors="replace")
    if stop.reason is not StopReason.EXIT or stop.status != 1 or "unhandled trap" not in text:
        raise CheckFailed("reading mstatus from U-mode must not be emulated: the handler "
                          "prints \"unhandled trap\" and stops the machine with status 1",
                          expected="output with \"unhandled trap\", exit status 1",
                          got=f"{text!r}, {stop.message or f'exit status {stop.status}'}",
                          reproduce=f"emu run --isa {ISA} --max-insns {USER_INSNS} user/illegal.S")
