"""The core's debugging support (csrc/emu.h): catching traps as they are taken, the
trap log, watchpoints (and that the TLB never lets an access past one), and the
checkpoint API (state save/load, the dirty-page map)."""
import pytest

from emu.core import Exit, Priv, Watch
from emu.elf import load_elf
from emu.machine import Machine, StopReason
from emu.platform import Console

ILLEGAL, ECALL_U, ECALL_M, LOAD_PAGE_FAULT = 2, 8, 11, 13
MACHINE_TIMER = 0x8000_0007

TRAPPY = """
    .globl _start
    _start:
        la t0, handler
        csrw mtvec, t0
        li s0, 0
    at_illegal:
        .word 0
        li s1, 1
    at_ecall:
        ecall
        li t0, 0x100000
        li t1, 0x5555
        sw t1, 0(t0)
    1:  j 1b
        .balign 4
    handler:
        addi s0, s0, 1          # not yet executed when a catch stops
        csrr t0, mepc
        addi t0, t0, 4
        csrw mepc, t0
        mret
"""


def machine_for(path, mem=1 << 20):
    machine = Machine(mem, Console(_Sink(), b""))
    machine.load(load_elf(path))
    return machine


class _Sink:
    def write(self, data):
        return len(data)

    def flush(self):
        pass


@pytest.fixture
def trappy(asm):
    return asm(TRAPPY, "trappy")


def test_a_caught_exception_stops_at_the_handler_before_its_first_instruction(trappy):
    m = machine_for(trappy)
    syms = m.program.symbols
    m.core.catch_set(1 << ILLEGAL, 0)
    assert m.core.run(1000) == Exit.CAUGHT
    e = m.core.exit
    assert m.core.pc == syms["handler"]
    assert (e.cause, e.epc, e.tval, e.insn) == (ILLEGAL, syms["at_illegal"], 0, 0)
    assert (e.from_priv, e.to_priv) == (Priv.M, Priv.M)
    assert m.core.x[8] == 0                 # the handler's addi s0 has not run
    assert m.csr("mepc") == syms["at_illegal"] and m.csr("mcause") == ILLEGAL
    # Not caught: ecall. The run goes on to the end.
    assert m.run(1000).reason is StopReason.EXIT
    assert m.core.x[8] == 2


def test_only_the_causes_in_the_mask_are_caught(trappy):
    m = machine_for(trappy)
    m.core.catch_set(1 << ECALL_M, 0)
    stop = m.run(1000)
    assert stop.reason is StopReason.CAUGHT
    assert m.core.exit.cause == ECALL_M and m.core.exit.epc == m.program.symbols["at_ecall"]
    assert m.core.exit.insn == 0x00000073
    assert m.core.x[8] == 1                 # the illegal instruction was handled on the way
    m.core.catch_set(0, 0)
    assert m.run(1000).reason is StopReason.EXIT


def test_the_trap_log_keeps_every_trap_with_its_clock(trappy):
    m = machine_for(trappy)
    m.run(1000)
    log = m.core.trap_log()
    syms = m.program.symbols
    assert [(r.cause, r.epc, r.handler) for r in log] == [
        (ILLEGAL, syms["at_illegal"], syms["handler"]),
        (ECALL_M, syms["at_ecall"], syms["handler"])]
    assert m.core.trap_count == 2
    assert 0 < log[0].steps < log[1].steps


def test_a_delegated_trap_into_s_mode_is_caught(asm):
    path = asm("""
        .globl _start
        _start:
            la t0, s_handler
            csrw stvec, t0
            li t0, 1 << 8           # medeleg: ecall from U goes to S
            csrw medeleg, t0
            la t0, user
            csrw mepc, t0
            li t0, 3 << 11
            csrc mstatus, t0        # MPP = U
            mret
        user:
            ecall
        1:  j 1b
            .balign 4
        s_handler:
            j s_handler
    """)
    m = machine_for(path)
    m.core.catch_set(1 << ECALL_U, 0)
    assert m.core.run(1000) == Exit.CAUGHT
    e = m.core.exit
    assert (e.from_priv, e.to_priv) == (Priv.U, Priv.S)
    assert m.core.priv == Priv.S and m.core.pc == m.program.symbols["s_handler"]
    assert m.csr("scause") == ECALL_U


def test_a_caught_interrupt(asm):
    path = asm("""
        .globl _start
        _start:
            la t0, handler
            csrw mtvec, t0
            li t0, 0x2004000        # mtimecmp = 50
            li t1, 50
            sw t1, 0(t0)
            sw zero, 4(t0)
            li t0, 1 << 7
            csrs mie, t0
            csrsi mstatus, 8
        1:  addi s1, s1, 1
            j 1b
            .balign 4
        handler:
            j handler
    """)
    m = machine_for(path)
    m.core.catch_set(0, 1 << 7)
    assert m.core.run(10_000) == Exit.CAUGHT
    assert m.core.exit.cause == MACHINE_TIMER and m.core.exit.insn == 0
    assert m.core.pc == m.program.symbols["handler"]
    assert m.csr("mepc") == m.core.exit.epc


WATCHED = """
    .globl _start
    _start:
        la s0, data
        li s1, 0
    loop:
        sw s1, 0(s0)            # fills the TLB for data's page
        addi s1, s1, 1
        li t0, 100
        blt s1, t0, loop
    at_store:
        sw s1, 8(s0)
    at_load:
        lw a0, 12(s0)
    at_amo:
        amoadd.w a1, s1, (s0)
        la t1, data + 4095
    at_split:
        sh s1, 0(t1)            # crosses into the next page
        li t0, 0x10000000
    at_uart:
        sb s1, 0(t0)
        li t0, 0x100000
        li t1, 0x5555
        sw t1, 0(t0)
    1:  j 1b
    .data
    .balign 4096
    data: .zero 8192
"""


@pytest.fixture
def watched(asm):
    return asm(WATCHED, "watched")


def test_a_store_watchpoint_stops_after_the_store_even_on_a_page_in_the_tlb(watched):
    m = machine_for(watched)
    syms = m.program.symbols
    data = syms["data"]
    m.core.run(50)                          # the loop's page is in the TLB now
    m.core.watch_add(data + 8, 4, Watch.WRITE)
    assert m.core.run(100_000) == Exit.WATCH
    e = m.core.exit
    assert e.epc == syms["at_store"] and m.core.pc == syms["at_store"] + 4
    assert (e.addr, e.tval, e.size, e.is_write, e.data) == (data + 8, data + 8, 4, 1, 100)
    assert m.core.read(data + 8, 4) == (100).to_bytes(4, "little")   # after, as gdb expects


def test_read_watchpoints_see_loads_not_stores(watched):
    m = machine_for(watched)
    syms = m.program.symbols
    m.core.watch_add(syms["data"] + 8, 8, Watch.READ)
    assert m.core.run(100_000) == Exit.WATCH
    assert m.core.exit.epc == syms["at_load"] and not m.core.exit.is_write
    assert m.core.exit.addr == syms["data"] + 12


def test_amo_split_and_device_stores_hit_watchpoints(watched):
    m = machine_for(watched)
    syms, data = m.program.symbols, m.program.symbols["data"]
    m.core.watch_add(data, 4, Watch.ACCESS)
    m.core.run(100_000)                     # the loop's first store
    assert m.core.exit.epc == syms["loop"]
    m.core.watch_clear()
    m.core.watch_add(data, 4, Watch.WRITE)
    m.core.watch_remove(data, 4, Watch.WRITE)
    m.core.watch_add(data + 8, 4, Watch.WRITE)
    m.core.watch_remove(data + 8, 4, Watch.WRITE)
    m.core.watch_add(data, 4, Watch.WRITE)
    # the loop stores to data: stop at each; then the AMO
    while m.core.run(100_000) == Exit.WATCH and m.core.exit.epc == syms["loop"]:
        pass
    assert m.core.exit.reason == Exit.WATCH and m.core.exit.epc == syms["at_amo"]
    m.core.watch_clear()
    m.core.watch_add(data + 4096, 1, Watch.WRITE)
    assert m.core.run(100_000) == Exit.WATCH
    assert m.core.exit.epc == syms["at_split"] and m.core.exit.addr == data + 4096
    m.core.watch_clear()
    m.core.watch_add(0x10000000, 1, Watch.WRITE)
    assert m.core.run(100_000) == Exit.WATCH
    assert m.core.exit.epc == syms["at_uart"] and m.core.exit.data == 100


def test_no_watchpoint_no_stop_and_the_watch_table_is_bounded(watched):
    m = machine_for(watched)
    for i in range(16):
        m.core.watch_add(0x80100000 + 8 * i, 4, Watch.WRITE)   # far from the program's data
    with pytest.raises(Exception, match="at most 16"):
        m.core.watch_add(0x80200000, 4, Watch.WRITE)
    assert m.run(100_000).reason is StopReason.EXIT


def test_state_save_and_load_with_the_dirty_page_map(watched):
    m = machine_for(watched)
    core = m.core
    core.dirty_track(True)
    core.dirty_clear()
    core.run(40)
    state = core.state_save()
    regs = [core.x[i] for i in range(32)]
    pc, steps, mepc = core.pc, core.steps, m.csr("minstret")
    data = m.program.symbols["data"]
    page = (data - 0x80000000) // 4096
    assert page in core.dirty_pages()
    ram = core.read(data, 16)
    core.dirty_clear()
    assert core.dirty_pages() == []
    core.run(200)
    assert core.dirty_pages() == [page]     # the loop wrote only data's page
    core.write(data, ram)                   # the host restores RAM itself
    core.state_load(state)
    assert [core.x[i] for i in range(32)] == regs
    assert (core.pc, core.steps, m.csr("minstret")) == (pc, steps, mepc)
    assert m.run(100_000).reason is StopReason.EXIT     # and it runs on as before
    assert core.x[9] == 100
