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
