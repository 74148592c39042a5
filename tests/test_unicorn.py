"""Differential tests of the C core against unicorn (QEMU's RISC-V), on random
instructions and random programs that hypothesis generates.

Both machines run the same bytes from the same state in M-mode with no paging, and
the tests compare all 32 registers, the pc and the data region. Programs never
trap: loads, stores and atomics stay inside DATA (through the reserved register
BASE, which points at its middle so the whole 12-bit offset range is usable),
branches and jumps only go forward to an instruction boundary of the program, so
every program ends at END, where the core spins in a `j .` and unicorn has its
`until`.

What unicorn 2.1.4 was checked to do before it became an oracle here:
- M and A are in its default RV32 CPU.
- Misaligned lb/lh/lw/sb/sh/sw are performed (no trap), as the core does: the
  sequences include them. Misaligned AMOs trap on both and are not generated.
- LR/SC: unicorn's SC succeeds when its address is the LR's and the word in memory
  still equals the value LR loaded (a compare-and-swap); the core's SC succeeds
  when its address is the LR's, whatever was stored in between. The two differ
  only when a store of the same hart changes the reserved word between LR and SC,
  which the spec leaves to the implementation (unprivileged spec 20191213
  section 8.2: an SC "may succeed only if no store from another hart to the
  reservation set" intervened, and section 8.3 guarantees nothing for sequences with
  stores between LR and SC). So the sequences never put a load, store, AMO or
  branch target between an LR and its SC; see `lr_sc_blocks`.
- A failed SC writes 1 on both (the spec asks for nonzero, 1 meaning an
  unspecified failure), so rd is compared exactly.
"""
from __future__ import annotations

import random
import shutil
import subprocess
from dataclasses import dataclass

import pytest
from hypothesis import given, settings, strategies as st
from unicorn import UC_ARCH_RISCV, UC_MODE_RISCV32, Uc, UcError
from unicorn.riscv_const import UC_RISCV_REG_PC, UC_RISCV_REG_X0

from emu.core import Core, Exit
from tests import rvenc as rv

MASK = 0xFFFF_FFFF
CODE = 0x8000_0000                # the core's RAM base, where the hart starts
DATA = 0x8001_0000                # one 4 KiB page of random bytes
DATA_SIZE = 0x1000
BASE = 31                         # reserved: always DATA + 2048 in the sequences
BASE_VALUE = DATA + DATA_SIZE // 2
RAM_SIZE = 0x2_0000

INTERESTING = [0, 1, MASK, 0x8000_0000, 0x7FFF_FFFF, 2, 31, 32, 0x8000_0001, 0xFFFF_FFFE]

words = st.one_of(st.sampled_from(INTERESTING), st.integers(0, MASK))
regs = st.integers(0, 31)
imm12 = st.one_of(st.sampled_from([0, 1, -1, 2047, -2048]), st.integers(-2048, 2047))
imm20 = st.one_of(st.sampled_from([0, 1, 0x80000, 0x7FFFF, 0xFFFFF]), st.integers(0, 0xFFFFF))


# ---- running one program on both machines

@dataclass
class State:
    """Registers, pc and data region after a run."""
    x: list[int]
    pc: int
    data: bytes


def start_core(code: bytes, x: dict[int, int], data: bytes = b"") -> Core:
    """A core about to run code from CODE, with `j .` at its END: the program reaches
    it within as many instructions as it has, and spins there until the budget ends.
    (A breakpoint at END would make the core run the block before it one instruction
    at a time.)"""
    core = Core(RAM_SIZE)
    core.write(CODE, code + rv.program([rv.jal(0, 0)]))
    if data:
        core.write(DATA, data)
    for reg, value in x.items():
        core.x[reg] = value
    core.x[0] = 0
    core.pc = CODE
    return core


def run_core(code: bytes, x: dict[int, int], data: bytes = b"") -> State:
    core = start_core(code, x, data)
    end = CODE + len(code)
    exit_ = core.run(len(code) // 4 + 1)
    assert exit_ == Exit.BUDGET and core.pc == end, (
        f"core stopped with {exit_.name} at {core.pc:#x} (cause {core.exit.cause}, "
        f"tval {core.exit.tval:#x}) instead of reaching {end:#x}")
    return State(list(core.x), core.pc, core.read(DATA, DATA_SIZE))


def run_unicorn(code: bytes, x: dict[int, int], data: bytes = b"") -> State:
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(CODE, 0x1000)
    uc.mem_map(DATA, DATA_SIZE)
    uc.mem_write(CODE, code)
    if data:
        uc.mem_write(DATA, data)
    for reg, value in x.items():
        if reg:
            uc.reg_write(UC_RISCV_REG_X0 + reg, value)
    end = CODE + len(code)
    try:
        uc.emu_start(CODE, end, count=len(code) // 4 + 1)
    except UcError as error:
        pytest.fail(f"unicorn: {error} at pc {uc.reg_read(UC_RISCV_REG_PC):#x}")
    pc = uc.reg_read(UC_RISCV_REG_PC)
    assert pc == end, f"unicorn stopped at {pc:#x} instead of reaching {end:#x}"
    return State([uc.reg_read(UC_RISCV_REG_X0 + i) for i in range(32)], pc,
                 bytes(uc.mem_read(DATA, DATA_SIZE)))


def listing(insns) -> str:
    return "\n".join(f"  {CODE + 4 * i:#010x}: {insn.word:08x}  {insn}"
                     for i, insn in enumerate(insns))


def assert_same(insns, x: dict[int, int], data: bytes = b"") -> State:
    """Run on both; any difference fails with the program and the differing state."""
    code = rv.program(insns)
    ours, theirs = run_core(code, x, data), run_unicorn(code, x, data)
    problems = [f"x{i}: core {a:#010x}, unicorn {b:#010x}"
                for i, (a, b) in enumerate(zip(ours.x, theirs.x)) if a != b]
    if ours.data != theirs.data:
        diff = [i for i in range(DATA_SIZE) if ours.data[i] != theirs.data[i]]
        problems.append(f"data differs at {len(diff)} bytes, first at {DATA + diff[0]:#x} "
                        f"(offset {diff[0] - DATA_SIZE // 2:+d} from BASE): "
                        f"core {ours.data[diff[0]]:#04x}, unicorn {theirs.data[diff[0]]:#04x}")
    assert not problems, ("core and unicorn differ after\n" + listing(insns)
                          + "\nfrom " + ", ".join(f"x{r}={v:#x}" for r, v in sorted(x.items()))
                          + "\n" + "\n".join(problems))
    return ours


# ---- 1. every ALU and M instruction alone

@pytest.mark.parametrize("name", list(rv.R_OPS))
@settings(max_examples=40, deadline=None)
@given(rd=regs, rs1=regs, rs2=regs, a=words, b=words)
def test_register_register_op(name, rd, rs1, rs2, a, b):
    assert_same([rv.r_op(name, rd, rs1, rs2)], {rs1: a, rs2: b})


@pytest.mark.parametrize("name", list(rv.R_OPS))
def test_register_register_op_on_interesting_pairs(name):
    for a in INTERESTING:
        for b in INTERESTING:
            assert_same([rv.r_op(name, 3, 1, 2)], {1: a, 2: b})


@pytest.mark.parametrize("name", list(rv.I_OPS))
@settings(max_examples=40, deadline=None)
@given(rd=regs, rs1=regs, a=words, imm=imm12)
def test_register_immediate_op(name, rd, rs1, a, imm):
    assert_same([rv.i_op(name, rd, rs1, imm)], {rs1: a})


@pytest.mark.parametrize("name", list(rv.SHIFT_OPS))
@settings(max_examples=40, deadline=None)
@given(rd=regs, rs1=regs, a=words, shamt=st.integers(0, 31))
def test_shift_immediate(name, rd, rs1, a, shamt):
    assert_same([rv.shift_op(name, rd, rs1, shamt)], {rs1: a})


@pytest.mark.parametrize("make", [rv.lui, rv.auipc], ids=["lui", "auipc"])
@settings(max_examples=40, deadline=None)
@given(rd=regs, imm=imm20, before=st.integers(0, 7), old=words)
def test_upper_immediate(make, rd, imm, before, old):
    """`before` nops first, so auipc sees more than one pc."""
    assert_same([rv.addi(0, 0, 0)] * before + [make(rd, imm)], {rd: old})


# ---- 3. division edge cases against the spec's own values (unprivileged spec
# 20191213 section 7.2, table 7.1), on both machines

INT_MIN = 0x8000_0000
DIVISION = [
    # op, dividend, divisor, result
    ("div", 7, 0, MASK),              # x / 0 = -1
    ("div", INT_MIN, 0, MASK),
    ("divu", 7, 0, MASK),             # x / 0 = 2**32 - 1
    ("divu", 0, 0, MASK),
    ("rem", 7, 0, 7),                 # x % 0 = x
    ("rem", INT_MIN, 0, INT_MIN),
    ("remu", 0xFFFF_FFF9, 0, 0xFFFF_FFF9),
    ("div", INT_MIN, MASK, INT_MIN),  # overflow: INT_MIN / -1 = INT_MIN
    ("rem", INT_MIN, MASK, 0),        # overflow: INT_MIN % -1 = 0
    ("divu", INT_MIN, MASK, 0),       # no overflow unsigned
    ("remu", INT_MIN, MASK, INT_MIN),
    ("div", -7 & MASK, 2, -3 & MASK),  # rounds towards zero
    ("rem", -7 & MASK, 2, -1 & MASK),  # sign of the dividend
    ("rem", 7, -2 & MASK, 1),
    ("div", 7, -2 & MASK, -3 & MASK),
]


@pytest.mark.parametrize("name, a, b, expected", DIVISION,
                         ids=[f"{n}-{a:#x}-{b:#x}" for n, a, b, _ in DIVISION])
def test_division_edge_cases(name, a, b, expected):
    code = rv.program([rv.r_op(name, 3, 1, 2)])
    ours = run_core(code, {1: a, 2: b})
    assert ours.x[3] == expected, f"core: {name} {a:#x}, {b:#x} = {ours.x[3]:#x}"
    assert run_unicorn(code, {1: a, 2: b}).x[3] == expected


# ---- 2. random programs
#
# A program is a list of units, each one or more instructions. Branches and jumps
# land only on the start of a unit (or on END), so a multi-instruction unit always
# runs from its first instruction: that is how an AMO gets its address from the
# `addi` before it, and why LR and SC only ever meet with nothing but ALU
# instructions between them. Until the program is laid out, a branch is a
# placeholder holding how many units it skips.

DEST = [r for r in range(32) if r != BASE]            # any register but BASE, x0 too
TEMP = [r for r in range(1, 32) if r != BASE]          # an address register for atomics


class Forward:
    """A branch (or jal) that is resolved once unit addresses are known."""

    def __init__(self, make, skip: int):
        self.make, self.skip = make, skip


def offsets(size: int):
    """An offset from BASE for an access of `size` bytes inside DATA, mostly near
    BASE so that stores and loads meet; any alignment."""
    top = DATA_SIZE // 2 - size
    return st.one_of(st.integers(-12, 12), st.integers(-DATA_SIZE // 2, top))


word_offsets = st.one_of(st.integers(-4, 4), st.integers(-512, 511)).map(lambda k: 4 * k)

alu = st.one_of(
    st.builds(rv.r_op, st.sampled_from(list(rv.R_OPS)), st.sampled_from(DEST), regs, regs),
    st.builds(rv.i_op, st.sampled_from(list(rv.I_OPS)), st.sampled_from(DEST), regs, imm12),
    st.builds(rv.shift_op, st.sampled_from(list(rv.SHIFT_OPS)), st.sampled_from(DEST), regs,
              st.integers(0, 31)),
    st.builds(rv.lui, st.sampled_from(DEST), imm20),
    st.builds(rv.auipc, st.sampled_from(DEST), imm20),
)


@st.composite
def loads(draw):
    name = draw(st.sampled_from(list(rv.LOAD_OPS)))
    size = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4}[name]
    return [rv.load(name, draw(st.sampled_from(DEST)), draw(offsets(size)), BASE)]


@st.composite
def stores(draw):
    name = draw(st.sampled_from(list(rv.STORE_OPS)))
    size = {"sb": 1, "sh": 2, "sw": 4}[name]
    return [rv.store(name, draw(regs), draw(offsets(size)), BASE)]


@st.composite
def amos(draw):
    t = draw(st.sampled_from(TEMP))
    return [rv.addi(t, BASE, draw(word_offsets)),
            rv.amo(draw(st.sampled_from(list(rv.AMO_OPS))), draw(st.sampled_from(DEST)),
                   draw(regs), t, aq=draw(st.booleans()), rl=draw(st.booleans()))]


@st.composite
def lr_sc_blocks(draw):
    """addi t; lr.w; up to 3 ALU instructions that leave t alone; maybe point t at
    another word; sc.w. The SC succeeds exactly when it is to the LR's word."""
    t = draw(st.sampled_from(TEMP))
    block = [rv.addi(t, BASE, draw(word_offsets)),
             rv.lr_w(draw(st.sampled_from([r for r in DEST if r != t])), t,
                     aq=draw(st.booleans()), rl=draw(st.booleans()))]
    for insn in draw(st.lists(alu, max_size=3)):
        if (insn.word >> 7) & 31 != t:
            block.append(insn)
    if draw(st.booleans()):
        block.append(rv.addi(t, BASE, draw(word_offsets)))
    block.append(rv.sc_w(draw(st.sampled_from(DEST)), draw(regs), t,
                         aq=draw(st.booleans()), rl=draw(st.booleans())))
    return block


@st.composite
def lone_scs(draw):
    """No reservation is held outside an LR/SC block, so this SC must fail."""
    t = draw(st.sampled_from(TEMP))
    return [rv.addi(t, BASE, draw(word_offsets)),
            rv.sc_w(draw(st.sampled_from(DEST)), draw(regs), t)]


# A branch to the instruction after next, over an ALU op: the core runs the two as
# one op (csrc/decode.c's fuse). Every branch over every kind of ALU op, with any
# registers, in runs of such pairs; the random programs below have them too.
branches_over_one = st.builds(lambda name, rs1, rs2, insn: [rv.branch(name, rs1, rs2, 8), insn],
                              st.sampled_from(list(rv.BRANCH_OPS)), regs, regs, alu)


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(branches_over_one, min_size=1, max_size=6),
       x=st.lists(words, min_size=32, max_size=32))
def test_branches_over_one_alu_op(pairs, x):
    registers = dict(enumerate(x))
    registers[0] = 0
    registers[BASE] = BASE_VALUE
    assert_same([insn for pair in pairs for insn in pair], registers)


skips = st.integers(0, 6)
branches = st.builds(
    lambda name, rs1, rs2, skip: [Forward(lambda off: rv.branch(name, rs1, rs2, off), skip)],
    st.sampled_from(list(rv.BRANCH_OPS)), regs, regs, skips)
jals = st.builds(lambda rd, skip: [Forward(lambda off: rv.jal(rd, off), skip)],
                 st.sampled_from(DEST), skips)

units = st.one_of(alu.map(lambda insn: [insn]), alu.map(lambda insn: [insn]), loads(),
                  stores(), amos(), lr_sc_blocks(), lone_scs(), branches, jals,
                  branches_over_one)


def lay_out(program_units) -> list[rv.Insn]:
    """Resolve the forward branches to the start of the unit they skip to."""
    starts, at = [], 0
    for unit in program_units:
        starts.append(at)
        at += len(unit)
    starts.append(at)                                   # END
    insns = []
    for i, unit in enumerate(program_units):
        for item in unit:
            if isinstance(item, Forward):
                target = starts[min(i + 1 + item.skip, len(program_units))]
                item = item.make(4 * (target - len(insns)))
            insns.append(item)
    return insns


@st.composite
def programs(draw, max_units: int = 24):
    """Up to `max_units` units (about 40 instructions), the count drawn uniformly:
    plain st.lists would mostly make programs of a handful of instructions."""
    return [draw(units) for _ in range(draw(st.integers(1, max_units)))]


@settings(max_examples=250, deadline=None)
@given(program_units=programs(),
       x=st.lists(words, min_size=32, max_size=32),
       seed=st.integers(0, MASK))
def test_random_programs(program_units, x, seed):
    insns = lay_out(program_units)
    registers = dict(enumerate(x))
    registers[0] = 0
    registers[BASE] = BASE_VALUE
    data = random.Random(seed).randbytes(DATA_SIZE)
    assert_same(insns, registers, data)


@settings(max_examples=150, deadline=None)
@given(program_units=programs(),
       x=st.lists(words, min_size=32, max_size=32),
       seed=st.integers(0, MASK),
       budgets=st.lists(st.integers(1, 48), min_size=1, max_size=6))
def test_random_programs_stop_on_the_instruction_each_budget_names(program_units, x, seed,
                                                                     budgets):
    """Unicorn counts nothing, so exactness is checked against the core itself: run by
    blocks (pre-decoded, fused branches, counted a block at a time) in random budgets,
    a program passes through the same states as one stepped an instruction at a time."""
    code = rv.program(lay_out(program_units))
    registers = dict(enumerate(x))
    registers[BASE] = BASE_VALUE
    data = random.Random(seed).randbytes(DATA_SIZE)
    blocks, stepped = start_core(code, registers, data), start_core(code, registers, data)
    for budget in budgets:
        assert blocks.run(budget) == Exit.BUDGET
        for _ in range(budget):
            stepped.run(1)
        assert (list(blocks.x), blocks.pc, blocks.steps, blocks.read(DATA, DATA_SIZE)) == \
            (list(stepped.x), stepped.pc, stepped.steps, stepped.read(DATA, DATA_SIZE))


# A few hand-written sequences whose outcome the spec fixes, checked against the
# spec and not only against unicorn.

def test_lr_then_sc_to_the_same_word_succeeds():
    insns = [rv.lr_w(5, BASE), rv.sc_w(6, 7, BASE), rv.sc_w(8, 9, BASE)]
    ours = assert_same(insns, {BASE: BASE_VALUE, 7: 0x1234_5678, 9: 0xDEAD_BEEF},
                       bytes(DATA_SIZE))
    assert ours.x[6] == 0, "the SC right after its LR must succeed (rd = 0)"
    assert ours.x[8] != 0, "a second SC must fail: the first one ended the reservation"
    assert ours.data[DATA_SIZE // 2:DATA_SIZE // 2 + 4] == (0x1234_5678).to_bytes(4, "little")


def test_sc_without_lr_and_sc_to_another_word_fail():
    data = bytes(range(256)) * (DATA_SIZE // 256)
    insns = [rv.sc_w(5, 7, BASE), rv.lr_w(6, BASE), rv.addi(10, BASE, 4),
             rv.sc_w(8, 7, 10)]
    ours = assert_same(insns, {BASE: BASE_VALUE, 7: 0x1234_5678}, data)
    assert ours.x[5] != 0 and ours.x[8] != 0
    assert ours.data == data


def test_misaligned_loads_and_stores():
    data = bytes(range(256)) * (DATA_SIZE // 256)
    insns = [rv.lw(5, 1, BASE), rv.lh(6, 3, BASE), rv.lhu(7, -1, BASE),
             rv.sw(8, 5, BASE), rv.sh(8, -3, BASE), rv.lw(9, 4, BASE)]
    ours = assert_same(insns, {BASE: BASE_VALUE, 8: 0x8899_AABB}, data)
    assert ours.x[5] == 0x0403_0201 and ours.x[6] == 0x0403 and ours.x[7] == 0x00FF
    assert ours.x[9] == 0x99AA_BB04


# ---- the encoder against GNU as

AS = "riscv64-unknown-elf-as"
OBJCOPY = "riscv64-unknown-elf-objcopy"


def every_form() -> list[rv.Insn]:
    insns = [rv.r_op(name, 1 + i % 31, (7 * i) % 32, (13 * i + 5) % 32)
             for i, name in enumerate(rv.R_OPS)]
    insns += [rv.i_op(name, 5, 6, imm) for name in rv.I_OPS for imm in (-2048, -1, 0, 2047)]
    insns += [rv.shift_op(name, 7, 8, shamt) for name in rv.SHIFT_OPS for shamt in (0, 1, 31)]
    insns += [rv.load(name, 9, imm, 31) for name in rv.LOAD_OPS for imm in (-2048, -3, 2047)]
    insns += [rv.store(name, 10, imm, 2) for name in rv.STORE_OPS for imm in (-2048, -3, 2047)]
    insns += [rv.branch(name, 11, 12, off) for name in rv.BRANCH_OPS
              for off in (-4096, -4, 4, 8, 4092)]
    insns += [rv.jal(rd, off) for rd in (0, 1) for off in (-(1 << 20), -8, 4, 2048, (1 << 20) - 4)]
    insns += [rv.jalr(1, 2, -2048), rv.jalr(0, 1, 0), rv.jalr(5, 6, 2047)]
    insns += [rv.lui(13, imm) for imm in (0, 1, 0x80000, 0xFFFFF)]
    insns += [rv.auipc(14, imm) for imm in (0, 0x12345, 0xFFFFF)]
    insns += [rv.amo(name, 15, 16, 17, aq=aq, rl=rl) for name in rv.AMO_OPS
              for aq in (False, True) for rl in (False, True)]
    insns += [rv.lr_w(18, 19), rv.lr_w(0, 31, aq=True, rl=True), rv.sc_w(20, 21, 22),
              rv.sc_w(1, 2, 3, rl=True), rv.ebreak()]
    return insns


def test_encoder_matches_gnu_as(tmp_path):
    missing = [tool for tool in (AS, OBJCOPY) if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: the GNU RISC-V binutils are the "
                    "encoder's oracle (Debian package binutils-riscv64-unknown-elf)")
    insns = every_form()
    # norelax: gas fills in the pc-relative offsets itself
    (tmp_path / "forms.s").write_text(".option norelax\n" + "".join(f"{i}\n" for i in insns))
    subprocess.run([AS, "-march=rv32ima_zicsr_zifencei", "-mabi=ilp32", "-o",
                    str(tmp_path / "forms.o"), str(tmp_path / "forms.s")], check=True,
                   capture_output=True)
    subprocess.run([OBJCOPY, "-O", "binary", "-j", ".text", str(tmp_path / "forms.o"),
                    str(tmp_path / "forms.bin")], check=True, capture_output=True)
    theirs = (tmp_path / "forms.bin").read_bytes()
    assert len(theirs) == 4 * len(insns), "gas made a different number of instructions"
    wrong = [f"{insn}: rvenc {insn.word:08x}, gas {int.from_bytes(theirs[4 * i:4 * i + 4], 'little'):08x}"
             for i, insn in enumerate(insns)
             if insn.word != int.from_bytes(theirs[4 * i:4 * i + 4], "little")]
    assert not wrong, "\n".join(wrong)


def test_encoder_rejects_what_does_not_fit():
    for bad in (lambda: rv.addi(1, 2, 2048), lambda: rv.beq(1, 2, 6), lambda: rv.jal(0, 1 << 20),
                lambda: rv.slli(1, 2, 32), lambda: rv.lui(1, 1 << 20), lambda: rv.add(32, 0, 0)):
        with pytest.raises(ValueError):
            bad()
