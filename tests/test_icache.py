"""The pre-decoded instruction cache and the block-at-a-time interpreter
(csrc/decode.c, csrc/exec.c): code that changes is run as it now is, whoever
changed it and however; and counting by blocks keeps budgets, breakpoints and
timer interrupts on the exact instruction."""
import os

import pytest

from emu.core import Core, Exit, ffi, lib
from emu.isa import CSRS
from emu.machine import StopReason
from emu.platform import RAM_BASE
from tests import rvenc as rv
from tests.conftest import run_elf

POWER_OFF = """
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
"""
ADDI_A0_A0_100 = rv.addi(10, 10, 100).word
ADDI_A0_ZERO_42 = rv.addi(10, 0, 42).word


def run_ok(asm, source: str):
    ran = run_elf(asm(source))
    assert ran.stop.reason is StopReason.EXIT and ran.stop.status == 0, ran.stop
    return ran.machine


# ---- code that changes

def test_a_store_into_the_running_block_ahead_is_seen(asm):
    machine = run_ok(asm, f"""
        .globl _start
        _start:
            la t0, patch
            li t1, {ADDI_A0_ZERO_42:#x}
            sw t1, 0(t0)
        patch:
            li a0, 1                # runs as li a0, 42
    """ + POWER_OFF)
    assert machine.x[10] == 42


def test_a_store_into_code_that_already_ran_is_seen_next_time(asm):
    machine = run_ok(asm, f"""
        .globl _start
        _start:
            li a0, 0
            li s1, 0
        loop:
        patch:
            addi a0, a0, 1          # the second time round: addi a0, a0, 100
            la t0, patch
            li t1, {ADDI_A0_A0_100:#x}
            sw t1, 0(t0)
            addi s1, s1, 1
            li t2, 3
            blt s1, t2, loop
    """ + POWER_OFF)
    assert machine.x[10] == 1 + 100 + 100


def test_amo_and_sc_stores_into_code_that_ran_are_seen(asm):
    machine = run_ok(asm, f"""
        .globl _start
        _start:
            li a0, 0
            li s1, 0
        loop:
        first:
            addi a0, a0, 1          # the second time round: addi a0, a0, 100
        second:
            addi a0, a0, 1          # likewise
            la t0, first
            li t1, {ADDI_A0_A0_100:#x}
            amoswap.w zero, t1, (t0)
            la t0, second
            lr.w t2, (t0)
            sc.w t3, t1, (t0)
            bnez t3, fail
            addi s1, s1, 1
            li t2, 2
            blt s1, t2, loop
    """ + POWER_OFF + """
        fail:
            li a0, -1
    """ + POWER_OFF)
    assert machine.x[10] == 2 + 200


def test_a_store_across_two_code_pages_changes_both(asm):
    # pair's two instructions straddle a page boundary; one misaligned word store
    # rewrites the high half of the first and the low half of the second.
    first_new = rv.addi(10, 10, 16).word          # from addi a0, a0, 1
    second_new = rv.addi(12, 11, 1).word          # from addi a1, a1, 1
    value = (first_new >> 16) | (second_new & 0xFFFF) << 16
    machine = run_ok(asm, f"""
        .globl _start
        _start:
            li a0, 0
            li a1, 0
            li a2, 0
            call pair               # both pages decoded: a0 = 1, a1 = 1
            li t0, {RAM_BASE + 0xFFE:#x}
            li t1, {value:#x}
            sw t1, 0(t0)
            call pair               # a0 = 17, a2 = a1 + 1 = 2
    """ + POWER_OFF + """
            .org 0xFFC
        pair:
            addi a0, a0, 1
            addi a1, a1, 1
            ret
    """)
    assert (machine.x[10], machine.x[11], machine.x[12]) == (17, 1, 2)


def test_fence_i_then_new_code_in_another_page(asm):
    machine = run_ok(asm, f"""
        .globl _start
        _start:
            call f                  # f decoded: a0 = 1
            mv s0, a0
            la t0, f
            li t1, {ADDI_A0_ZERO_42:#x}
            sw t1, 0(t0)
            fence.i
            call f
            mv s1, a0
    """ + POWER_OFF + """
            .balign 4096
        f:
            li a0, 1
            ret
    """)
    assert (machine.x[8], machine.x[9]) == (1, 42)


def test_host_writes_to_code_that_ran_are_seen():
    core = Core(1 << 20)
    core.write(RAM_BASE, rv.program([rv.addi(10, 10, 1), rv.jal(0, -4)]))
    assert core.run(10) == Exit.BUDGET
    assert core.x[10] == 5 and core.pc == RAM_BASE
    core.write(RAM_BASE, rv.program([rv.addi(10, 10, 100)]))
    assert core.run(10) == Exit.BUDGET
    assert core.x[10] == 505


def test_a_page_table_walk_setting_a_in_a_code_page_is_seen():
    """The Sv32 walk setting A in a PTE writes RAM like a store: here the PTE is
    also a word of code that has run, and that the walk's own fetch then runs."""
    core = Core(1 << 20)
    # A megapage mapping virtual 0 to RAM (V R W X U, no A). As an instruction the
    # word is illegal, before and after A is set, so mtval shows which one ran.
    pte = (RAM_BASE >> 12) << 10 | 0b1_1111
    core.write(RAM_BASE, pte.to_bytes(4, "little"))
    core.write(RAM_BASE + 0x100, rv.program([rv.jal(0, 0)]))
    core.csr_write(CSRS["mtvec"], RAM_BASE + 0x100)
    core.run(1)                                     # M-mode, bare: the word is decoded
    assert core.csr_read(CSRS["mtval"]) == pte
    core.csr_write(CSRS["satp"], 0x8000_0000 | RAM_BASE >> 12)
    core.priv = 0
    core.pc = 0                                     # the same word, through the PTE
    core.run(1)
    with_a = pte | 1 << 6
    assert int.from_bytes(core.read(RAM_BASE, 4), "little") == with_a
    assert core.csr_read(CSRS["mcause"]) == 2
    assert core.csr_read(CSRS["mtval"]) == with_a


# ---- exact counts with block-at-a-time counting

STRAIGHT = 100      # a block of this many addi x1, x1, 1, then j .


def straight_core() -> Core:
    core = Core(1 << 20)
    core.write(RAM_BASE, rv.program([rv.addi(1, 1, 1)] * STRAIGHT + [rv.jal(0, 0)]))
    return core


@pytest.mark.parametrize("budget", [1, 2, 3, 37, 99, 100, 101, 150])
def test_budgets_stop_inside_a_block_on_the_instruction(budget):
    core = straight_core()
    core.run(STRAIGHT + 1)          # decoded and run once: then from the start again
    core.pc, core.x[1] = RAM_BASE, 0
    start = core.steps
    assert core.run(budget) == Exit.BUDGET
    assert core.steps - start == budget
    assert core.x[1] == min(budget, STRAIGHT)
    assert core.pc == RAM_BASE + 4 * min(budget, STRAIGHT)


def test_budgets_in_small_pieces_add_up():
    core = straight_core()
    for _ in range(20):
        core.run(7)
    assert core.steps == 140 and core.x[1] == STRAIGHT
    assert core.csr_read(CSRS["minstret"]) == 140


def test_a_breakpoint_inside_a_decoded_block_stops_before_it():
    core = straight_core()
    core.run(STRAIGHT)
    core.pc, core.x[1] = RAM_BASE, 0
    core.break_add(RAM_BASE + 4 * 40)
    assert core.run(1000) == Exit.BREAKPOINT
    assert core.pc == RAM_BASE + 4 * 40 and core.x[1] == 40
    core.break_clear()
    assert core.run(10) == Exit.BUDGET and core.x[1] == 50


@pytest.mark.parametrize("deadline", [1, 37, 99])
def test_a_timer_interrupt_lands_on_the_instruction_inside_a_block(deadline):
    core = straight_core()
    handler = RAM_BASE + 0x800
    core.write(handler, rv.program([rv.jal(0, 0)]))
    core.csr_write(CSRS["mtvec"], handler)
    core.csr_write(CSRS["mie"], 1 << 7)             # MTIE
    core.csr_write(CSRS["mstatus"], 1 << 3)         # MIE
    core.mtimecmp = deadline                        # mtime counts instructions
    core.run(500)
    assert core.csr_read(CSRS["mcause"]) == 0x8000_0007
    assert core.csr_read(CSRS["mepc"]) == RAM_BASE + 4 * deadline
    assert core.x[1] == deadline


# ---- the build option

def test_the_core_is_built_with_the_dispatch_asked_for():
    """EMU_DISPATCH=switch builds the plain switch (csrc/build.py); `make check`
    runs the whole suite on that build with the variable set, so this test sees
    that the variable reached the compiler."""
    expected = os.environ.get("EMU_DISPATCH", "threaded")
    assert ffi.string(lib.emu_dispatch_name()).decode() == expected


# ---- a branch over one ALU op, run as one op (decode.c's fuse, exec.c's SKIP)

def skip_loop() -> list:
    """The bitwise CRC's inner loop: 8 times, x1 ^= x2 unless bit 0 of x1 was
    clear, a branch over one op taken about half the time."""
    return [rv.addi(4, 0, 8),                   # x4 = 8
            rv.andi(3, 1, 1),                   # loop: x3 = x1 & 1
            rv.addi(4, 4, -1),
            rv.srli(1, 1, 1),
            rv.beq(3, 0, 8),                    # beqz x3, over the xor
            rv.xor(1, 1, 2),
            rv.bne(4, 0, -20),                  # bnez x4, loop
            rv.jal(0, 0)]                       # 6 + 8 * 5.5 = about 50 instructions


def skip_core(code=None) -> Core:
    core = Core(1 << 20)
    core.write(RAM_BASE, rv.program(code or skip_loop()))
    core.x[1], core.x[2] = 0xB5A3_0E71, 0xEDB8_8320
    return core


def snapshot(core: Core):
    return list(core.x), core.pc, core.steps


@pytest.mark.parametrize("budget", range(1, 52))
def test_budgets_stop_on_the_instruction_around_a_branch_over_one_op(budget):
    """Whether the branch skips or not, a budget ends on the exact instruction:
    the same state as stepping one instruction at a time."""
    blocks, single = skip_core(), skip_core()
    blocks.run(budget)
    for _ in range(budget):
        single.run(1)
    assert snapshot(blocks) == snapshot(single)


def test_a_branch_over_one_op_computes_as_the_plain_branch():
    crc, count = 0xB5A3_0E71, 1
    for _ in range(8):
        count += 6 if crc & 1 else 5
        crc = crc >> 1 ^ (0xEDB8_8320 if crc & 1 else 0)
    spin = RAM_BASE + 4 * 7
    core = skip_core()
    core.run(count - 1)
    assert core.pc != spin
    core.run(1)
    assert core.pc == spin and core.steps == count and core.x[1] == crc


def test_a_breakpoint_on_the_skipped_op_stops_only_when_it_runs():
    core = skip_core()
    xor = RAM_BASE + 4 * 5
    core.break_add(xor)
    seen = []
    while core.run(1000) == Exit.BREAKPOINT:
        assert core.pc == xor
        seen.append(core.x[3])
    assert seen and all(bit == 1 for bit in seen)       # only when not skipped


def test_a_store_over_the_skipped_op_undoes_the_pair():
    """The op after the branch becomes a load, which is no ALU op: the pair is
    decoded again as a plain branch and a load, which runs."""
    core = skip_core([rv.beq(0, 3, 8),                  # x3 != 0: not taken
                      rv.addi(10, 10, 1),
                      rv.jal(0, -8)])
    core.x[3] = 1
    core.run(6)
    assert core.x[10] == 2
    core.write(RAM_BASE + 0x800, (1234).to_bytes(4, "little"))
    core.x[11] = RAM_BASE + 0x800
    core.write(RAM_BASE + 4, rv.program([rv.lw(10, 0, 11)]))
    core.pc = RAM_BASE
    core.run(6)
    assert core.x[10] == 1234 and core.pc == RAM_BASE


@pytest.mark.parametrize("x3", [0, 1])
def test_a_branch_over_the_last_op_of_a_page_goes_on_in_the_next(x3):
    """The pair's second word is the page's last: after it, the next page."""
    core = Core(1 << 20)
    first = RAM_BASE + 0x1000 - 8
    core.write(first, rv.program([rv.beq(3, 0, 8), rv.addi(10, 10, 1),
                                  rv.addi(11, 11, 1), rv.jal(0, 0)]))
    core.pc, core.x[3] = first, x3
    assert core.run(3) == Exit.BUDGET
    assert core.x[10] == x3 and core.x[11] == 1
    assert core.pc == first + 12 and core.steps == 3
