"""--isa: a hart without the M extension (emu/isa/misa.py, csrc/decode.c). Under
rv32ia every M instruction is an illegal instruction, decided when the word is
decoded; misa says which extensions there are; every other word runs as under
rv32ima; and the ISA is the host's: the decoded code, fused branches and loaded
checkpoints all follow it."""
import io
import random

import pytest
from hypothesis import given, settings, strategies as st

from emu.core import Core, Exit
from emu.elf import load_elf
from emu.errors import ConfigError, CoreError
from emu.isa import CSRS, ISAS, decode
from emu.machine import Machine, StopReason
from emu.platform import RAM_BASE, Console
from tests import rvenc as rv

ILLEGAL_INSTRUCTION = 2
HANDLER = RAM_BASE + 0x800
DATA = RAM_BASE + 0x1000
M_NAMES = ["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"]
# misa as the privileged spec lays it out (section 3.1.1), written out here rather
# than computed from emu.isa, so that a wrong table fails: MXL = 1 in bits 31:30,
# then bit 0 A, 8 I, 12 M, 18 S, 20 U.
MISA_RV32IMA = 0x4014_1101
MISA_RV32IA = 0x4014_0101


def hart(isa: str, code, x=None) -> Core:
    """A core in M-mode about to run code from RAM_BASE, with a `j .` handler at
    HANDLER and DATA mapped for the few words that touch memory."""
    core = Core(1 << 16)
    core.set_misa(ISAS[isa].misa)
    core.write(RAM_BASE, rv.program(code))
    core.write(HANDLER, rv.program([rv.jal(0, 0)]))
    core.csr_write(CSRS["mtvec"], HANDLER)
    for reg, value in (x or {}).items():
        core.x[reg] = value
    return core


def state(core: Core) -> tuple:
    """Everything one instruction can change here."""
    return (list(core.x), core.pc, core.steps, core.retired,
            *(core.csr_read(CSRS[name]) for name in ("mcause", "mepc", "mtval", "mstatus")),
            core.read(DATA, 64))


# ---- the table and the core's interface

def test_the_table_gives_misa_as_the_spec_lays_it_out():
    assert ISAS["rv32ima"].misa == MISA_RV32IMA
    assert ISAS["rv32ia"].misa == MISA_RV32IA


@pytest.mark.parametrize("isa, expected", [("rv32ima", MISA_RV32IMA), ("rv32ia", MISA_RV32IA)])
def test_a_program_reads_misa_and_cannot_write_it(isa, expected, asm):
    machine = Machine(1 << 20, Console(io.BytesIO()), isa)
    machine.load(load_elf(asm("""
        .globl _start
        _start:
            csrr a0, misa
            csrw misa, zero
            csrr a1, misa
            li a2, -1
            csrw misa, a2
            csrr a3, misa
            li t0, 0x100000
            li t1, 0x5555
            sw t1, 0(t0)
    """)))
    stop = machine.run(100)
    assert stop.reason is StopReason.EXIT and stop.status == 0
    assert [machine.x[r] for r in (10, 11, 13)] == [expected] * 3


def test_the_core_takes_only_an_isa_it_can_be():
    core = Core(1 << 16)
    i, s, u, a, m = (1 << (ord(c) - ord("A")) for c in "ISUAM")
    mxl = 1 << 30
    for extra in (0, a, m, a | m):
        core.set_misa(mxl | i | s | u | extra)
        assert core.csr_read(CSRS["misa"]) == mxl | i | s | u | extra
    for bad in (i | s | u,                              # MXL 0
                2 << 30 | i | s | u,                    # RV64
                mxl | s | u, mxl | i | u, mxl | i | s,  # no I, S or U
                mxl | i | s | u | 1 << 2,               # C: not yet
                mxl | i | s | u | 1 << 5,               # F
                mxl | i | s | u | 1 << 26):             # a bit above Z
        with pytest.raises(CoreError):
            core.set_misa(bad)
        assert core.csr_read(CSRS["misa"]) == mxl | i | s | u | a | m   # unchanged


def test_a_machine_refuses_an_unknown_isa():
    with pytest.raises(ConfigError, match="rv32ima, rv32ia"):
        Machine(1 << 20, Console(io.BytesIO()), "rv32gc")


# ---- (1) each M instruction traps without M

@pytest.mark.parametrize("name", M_NAMES)
@settings(max_examples=25, deadline=None)
@given(rd=st.integers(0, 31), rs1=st.integers(0, 31), rs2=st.integers(0, 31),
       values=st.lists(st.integers(0, 2**32 - 1), min_size=32, max_size=32),
       before=st.integers(0, 3))
def test_each_m_instruction_is_illegal_without_m(name, rd, rs1, rs2, values, before):
    """After `before` addi, the M instruction traps: mcause 2, mtval its bits, mepc
    its pc, no register written; with M the same word runs."""
    insn = rv.r_op(name, rd, rs1, rs2)
    code = [rv.addi(0, 0, 0)] * before + [insn, rv.jal(0, 0)]
    x = {reg: value for reg, value in enumerate(values) if reg}
    core = hart("rv32ia", code, x)
    registers = list(core.x)
    assert core.run(before + 1) == Exit.BUDGET
    assert core.pc == HANDLER
    assert core.csr_read(CSRS["mcause"]) == ILLEGAL_INSTRUCTION
    assert core.csr_read(CSRS["mtval"]) == insn.word
    assert core.csr_read(CSRS["mepc"]) == RAM_BASE + 4 * before
    assert list(core.x) == registers
    assert (core.steps, core.retired) == (before + 1, before)

    with_m = hart("rv32ima", code, x)
    with_m.run(before + 1)
    assert with_m.pc == RAM_BASE + 4 * (before + 1)
    assert with_m.csr_read(CSRS["mcause"]) == 0


# ---- (3) every M word traps; every other word runs the same under both ISAs

m_words = st.builds(lambda fields: 1 << 25 | fields << 7 | rv.OP, st.integers(0, 2**18 - 1))


@settings(max_examples=500, deadline=None)
@given(word=m_words)
def test_every_op_word_with_funct7_1_is_illegal_without_m(word):
    insn = decode(word)
    assert insn is not None and insn[0].extension == "M"
    core = hart("rv32ia", [word])
    core.run(1)
    assert (core.pc, core.csr_read(CSRS["mcause"]), core.csr_read(CSRS["mtval"])) == \
        (HANDLER, ILLEGAL_INSTRUCTION, word)


MAJOR_OPCODES = [0x03, 0x0F, 0x13, 0x17, 0x23, 0x2F, 0x33, 0x37, 0x63, 0x67, 0x6F, 0x73]
words = st.one_of(
    st.integers(0, 2**32 - 1),
    st.builds(lambda high, opcode: high << 7 | opcode,
              st.integers(0, 2**25 - 1), st.sampled_from(MAJOR_OPCODES)))


def is_m(word: int) -> bool:
    return word & 0xFE00_007F == 1 << 25 | rv.OP


def reads_misa(word: int) -> bool:
    """A CSR instruction on misa: the one other word whose result is the ISA's."""
    return word & 0x7F == rv.SYSTEM and (word >> 12) & 7 != 0 and word >> 20 == CSRS["misa"]


@settings(max_examples=1000, deadline=None)
@given(word=words.filter(lambda w: not is_m(w) and not reads_misa(w)),
       seed=st.integers(0, 2**32 - 1))
def test_every_other_word_runs_the_same_under_both_isas(word, seed):
    """Whatever the word does (compute, load, store, an AMO, a CSR access, trap),
    it does it alike with M and without: registers point into DATA so that memory
    accesses mostly land."""
    rng = random.Random(seed)
    x = {r: DATA + 4 * rng.randrange(8) if rng.random() < 0.7 else rng.getrandbits(32)
         for r in range(1, 32)}
    data = rng.randbytes(64)
    cores = [hart(isa, [word, rv.jal(0, 0)], x) for isa in ("rv32ima", "rv32ia")]
    for core in cores:
        core.write(DATA, data)
        core.run(2)
    assert state(cores[0]) == state(cores[1]), f"{word:#010x}"


def test_the_a_extension_can_be_left_out_too():
    """The core takes misa without A (no --isa names it yet): lr.w and the AMOs
    are illegal then, as the M instructions are without M."""
    for insn in (rv.lr_w(1, 2), rv.sc_w(1, 3, 2), rv.amoadd_w(1, 3, 2)):
        core = hart("rv32ima", [insn], {2: DATA})
        core.set_misa(ISAS["rv32ima"].misa & ~1)
        core.run(1)
        assert (core.pc, core.csr_read(CSRS["mtval"])) == (HANDLER, insn.word), str(insn)
        core = hart("rv32ima", [insn], {2: DATA})
        core.run(1)
        assert core.pc == RAM_BASE + 4, str(insn)


# ---- (5) the decoded code follows the ISA

@pytest.mark.parametrize("taken", [False, True])
def test_a_branch_over_an_m_instruction_traps_on_it_only_when_it_runs(taken):
    """With M, `bne; mul` is decoded as one fused op (the mul is an ALU op);
    without, the mul must trap when the branch does not skip it."""
    code = [rv.bne(1, 2, 8), rv.mul(3, 1, 2), rv.addi(4, 4, 1), rv.jal(0, 0)]
    x = {1: 6, 2: 6 + taken}
    core = hart("rv32ia", code, x)
    core.run(3)
    if taken:
        assert (core.pc, core.x[3], core.x[4]) == (RAM_BASE + 12, 0, 1)
        assert core.csr_read(CSRS["mcause"]) == 0
    else:
        assert core.pc == HANDLER and core.x[3] == 0 and core.x[4] == 0
        assert core.csr_read(CSRS["mepc"]) == RAM_BASE + 4
        assert core.csr_read(CSRS["mtval"]) == rv.mul(3, 1, 2).word
    with_m = hart("rv32ima", code, x)
    with_m.run(3)
    assert with_m.pc == RAM_BASE + 12 and with_m.x[3] == (0 if taken else 36)


@pytest.mark.parametrize("first, then", [("rv32ima", "rv32ia"), ("rv32ia", "rv32ima")])
def test_a_new_isa_redecodes_code_that_already_ran(first, then):
    """The same words, decoded and run under one ISA, then run from the start
    under the other: they run as the new ISA says (fused pair included)."""
    code = [rv.addi(5, 5, 1), rv.bne(1, 2, 8), rv.mul(3, 1, 2), rv.mul(6, 1, 1),
            rv.jal(0, 0)]
    core = hart(first, code, {1: 7, 2: 7})
    core.run(4)
    core.set_misa(ISAS[then].misa)
    core.pc = RAM_BASE
    core.x[3] = core.x[6] = 0
    core.csr_write(CSRS["mcause"], 0)
    core.run(4)
    if then == "rv32ia":
        assert core.pc == HANDLER and core.csr_read(CSRS["mepc"]) == RAM_BASE + 8
        assert core.x[3] == 0
    else:
        assert core.pc == RAM_BASE + 16 and (core.x[3], core.x[6]) == (49, 49)
        assert core.csr_read(CSRS["mcause"]) == 0


@pytest.mark.parametrize("saved_under, loaded_under", [("rv32ima", "rv32ia"),
                                                        ("rv32ia", "rv32ima")])
def test_a_loaded_state_keeps_the_hosts_isa(saved_under, loaded_under):
    """misa is the host's, as breakpoints are: a checkpoint taken under one ISA and
    loaded under another runs under the other, and misa reads its value."""
    code = [rv.addi(1, 1, 3), rv.mul(3, 1, 1), rv.jal(0, 0)]
    core = hart(saved_under, code)
    core.run(1)
    saved = core.state_save()
    core.run(2)
    core.set_misa(ISAS[loaded_under].misa)
    core.state_load(saved)
    assert core.csr_read(CSRS["misa"]) == ISAS[loaded_under].misa
    assert (core.pc, core.x[1], core.x[3]) == (RAM_BASE + 4, 3, 0)
    core.run(1)
    if loaded_under == "rv32ia":
        assert core.pc == HANDLER and core.csr_read(CSRS["mtval"]) == rv.mul(3, 1, 1).word
    else:
        assert core.pc == RAM_BASE + 8 and core.x[3] == 9
