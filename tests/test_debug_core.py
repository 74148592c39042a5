"""The core's debugging support (csrc/emu.h): catching traps as they are taken, the
trap log, watchpoints (and that the TLB never lets an access past one), and the
checkpoint API (state save/load, the dirty-page map)."""
import pytest

from emu.core import Core, Exit, Priv, Watch, ffi, lib
from emu.elf import load_elf
from emu.isa import CSRS
from emu.machine import Machine, StopReason
from emu.platform import RAM_BASE, Console
from tests import rvenc as rv

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


# ---- the debugging hooks and the pre-decoded instruction cache (csrc/decode.c,
# exec.c): the interpreter runs whole blocks of decoded ops with local copies of
# the clock, so each hook must still act on the exact instruction.

def looping_core(words, mem=1 << 20) -> Core:
    core = Core(mem)
    core.write(RAM_BASE, rv.program(words))
    return core


@pytest.mark.parametrize("breakpoint", [None, RAM_BASE + 16])
def test_a_load_watchpoint_inside_a_decoded_block_stops_right_after_the_load(breakpoint):
    """The lw sits in the middle of a block that has run (decoded, its page in
    the load TLB): the run ends with rd written and the next op not run. With a
    breakpoint further on in the block, the block runs one op at a time."""
    data = RAM_BASE + 0x2000
    core = looping_core([
        rv.lui(5, data >> 12),
        rv.addi(1, 1, 1),           # 4: loop
        rv.lw(6, 8, 5),             # 8
        rv.addi(7, 7, 1),           # 12: must not run when the lw stops
        rv.addi(8, 8, 1),           # 16
        rv.jal(0, -16),
    ])
    assert core.run(100) == Exit.BUDGET
    if breakpoint:
        core.break_add(breakpoint)
    core.pc = RAM_BASE + 4
    core.x[7] = 0
    core.write(data + 8, (0x1234).to_bytes(4, "little"))
    core.watch_add(data + 8, 4, Watch.READ)
    start = core.steps
    assert core.run(1000) == Exit.WATCH
    assert (core.exit.epc, core.exit.addr, core.exit.is_write) == (RAM_BASE + 8, data + 8, 0)
    assert core.pc == RAM_BASE + 12 and core.steps - start == 2
    assert core.x[6] == 0x1234 and core.x[7] == 0
    assert core.run(1) == Exit.BUDGET and core.x[7] == 1 and core.pc == RAM_BASE + 16


def test_watchpoints_on_a_page_of_code_that_ran():
    """A page that holds decoded code and watched data: its loads and stores stop
    the run, its fetches never do, and a watched store into its code is both
    reported and seen by the next fetch."""
    core = looping_core([
        rv.lui(5, RAM_BASE >> 12),
        rv.addi(10, 10, 1),         # 4: patch, rewritten with the word at 0x100
        rv.lw(6, 0x100, 5),         # 8
        rv.sw(6, 4, 5),             # 12
        rv.addi(9, 9, 1),           # 16
        rv.jal(0, -16),             # 20: to patch
    ])
    new = rv.addi(10, 10, 100).word
    core.write(RAM_BASE + 0x100, new.to_bytes(4, "little"))
    core.dirty_track(True)
    assert core.run(6) == Exit.BUDGET       # all of it ran once; patch is rewritten
    assert core.x[10] == 1 and core.pc == RAM_BASE + 4
    assert core.dirty_pages() == [0]        # the store into code took the slow path
    core.dirty_clear()
    core.watch_add(RAM_BASE, 4096, Watch.READ)     # the whole page, code included
    core.watch_add(RAM_BASE + 4, 4, Watch.WRITE)
    assert core.run(1000) == Exit.WATCH
    assert (core.exit.epc, core.exit.addr, core.x[10]) == (RAM_BASE + 8, RAM_BASE + 0x100, 101)
    assert core.pc == RAM_BASE + 12
    assert core.run(1000) == Exit.WATCH
    assert (core.exit.epc, core.exit.addr, core.exit.data) == (RAM_BASE + 12, RAM_BASE + 4, new)
    assert core.pc == RAM_BASE + 16 and core.dirty_pages() == [0]
    core.watch_clear()
    assert core.run(3) == Exit.BUDGET and core.x[10] == 201


def test_the_dirty_map_sees_stores_through_the_store_tlb():
    """The fast store path never marks the map: a page only enters the store TLB
    marked, and turning tracking on or clearing the map empties the TLB."""
    data = RAM_BASE + 0x3000
    core = looping_core([
        rv.lui(5, data >> 12),
        rv.sw(1, 0, 5),             # 4: loop
        rv.addi(1, 1, 1),
        rv.jal(0, -8),
    ])
    assert core.run(100) == Exit.BUDGET     # data's page is in the store TLB
    core.dirty_track(True)
    assert core.dirty_pages() == []
    core.run(30)
    assert core.dirty_pages() == [3]
    for _ in range(3):
        core.dirty_clear()
        core.run(30)
        assert core.dirty_pages() == [3]


def test_a_state_loaded_after_the_code_was_rewritten_runs_the_old_code():
    """As reverse execution does it: back to a checkpoint taken before the program
    rewrote an instruction that had run, the old instruction runs again."""
    core = looping_core([
        rv.lui(5, RAM_BASE >> 12),
        rv.addi(10, 10, 1),         # 4: patch
        rv.lw(6, 0x100, 5),
        rv.sw(6, 4, 5),
        rv.jal(0, -12),             # to patch
    ])
    core.write(RAM_BASE + 0x100, rv.program([rv.addi(10, 10, 100)]))
    core.dirty_track(True)
    core.run(1)
    page = core.read(RAM_BASE, 4096)
    state = core.state_save()
    core.dirty_clear()
    core.run(5)                             # patch ran, was rewritten, ran again
    assert core.x[10] == 101 and core.pc == RAM_BASE + 8
    for index in core.dirty_pages():
        assert index == 0
        core.write(RAM_BASE, page)
    core.state_load(state)
    assert core.pc == RAM_BASE + 4 and core.x[10] == 0
    core.run(1)
    assert core.x[10] == 1                  # the old patch
    core.run(4)
    assert core.x[10] == 101


def test_a_state_holds_no_pointer_and_loads_into_another_machine():
    """A state is the machine's, not its buffers': loaded into another machine it
    runs that machine's RAM with that machine's decoded code, and it outlives the
    machine it came from."""
    first = looping_core([rv.addi(10, 10, 1), rv.jal(0, -4)])
    second = looping_core([rv.addi(10, 10, 100), rv.jal(0, -4)])
    second.run(10)                          # the second machine's code is decoded too
    first.run(10)
    state = first.state_save()
    pointers = [int(ffi.cast("uintptr_t", p)) for p in (lib.emu_ram(first._m), first._m)]
    for pointer in pointers:
        assert pointer.to_bytes(8, "little") not in state
    del first
    second.state_load(state)
    assert second.x[10] == 5 and second.steps == 10
    second.run(4)
    assert second.x[10] == 5 + 200


@pytest.mark.parametrize("warm", [False, True])
def test_traps_and_interrupts_inside_a_block_are_caught_on_the_instruction(warm):
    handler = RAM_BASE + 0x800
    core = looping_core([rv.addi(1, 1, 1)] * 20 + [0] + [rv.jal(0, 0)])     # 0: illegal
    core.write(handler, rv.program([rv.jal(0, 0)]))
    core.csr_write(CSRS["mtvec"], handler)
    if warm:                                # the block decoded and run before
        core.run(30)
        core.pc, core.x[1] = RAM_BASE, 0
    core.catch_set(1 << ILLEGAL, 0)
    start = core.steps
    assert core.run(1000) == Exit.CAUGHT
    assert core.steps - start == 21 and core.x[1] == 20 and core.pc == handler
    assert core.exit.epc == RAM_BASE + 80 and core.exit.cause == ILLEGAL
    assert core.trap_log()[-1].steps == core.steps and core.trap_log()[-1].epc == RAM_BASE + 80
    # A timer interrupt due in the middle of the block.
    core.pc, core.x[1] = RAM_BASE, 0
    core.catch_set(0, 1 << 7)
    core.csr_write(CSRS["mie"], 1 << 7)
    core.csr_write(CSRS["mstatus"], 1 << 3)
    core.mtimecmp = core.mtime + 7                  # mtime counts instructions
    assert core.run(1000) == Exit.CAUGHT
    assert core.exit.cause == MACHINE_TIMER and core.exit.epc == RAM_BASE + 4 * 7
    assert core.x[1] == 7 and core.pc == handler
    assert core.trap_log()[-1].cause == MACHINE_TIMER
