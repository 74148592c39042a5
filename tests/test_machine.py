"""The machine as a whole: exits, devices, HTIF, time, breakpoints, budgets and
determinism, through small programs assembled by GNU as."""
import io
import struct

import pytest
from hypothesis import given, settings, strategies as st

from emu.core import Core, Exit, Priv
from emu.elf import Program, Segment
from emu.platform import Console
from emu.isa import CSRS
from emu.machine import Machine, StopReason
from emu.platform import RAM_BASE, parse_size
from emu.errors import ConfigError
from tests.conftest import run_elf

POWER_OFF = """
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
"""


def words(*insns: int) -> bytes:
    return struct.pack(f"<{len(insns)}I", *insns)


# ---- the core alone

def test_every_csr_of_the_table_exists_and_no_other():
    core = Core(1 << 20)
    implemented = set()
    for number in range(0x1000):
        try:
            core.csr_read(number)
            implemented.add(number)
        except Exception:
            pass
    assert implemented == set(CSRS.values())


def test_reset_state():
    core = Core(1 << 20)
    assert core.pc == RAM_BASE
    assert core.priv == Priv.M
    assert core.csr_read(CSRS["misa"]) == 0x4014_1101
    assert core.csr_read(CSRS["satp"]) == 0
    assert list(core.x) == [0] * 32


def test_budget_is_exact():
    core = Core(1 << 20)
    core.write(RAM_BASE, words(0x0000006F))          # j . (a one-instruction loop)
    assert core.run(12345) == Exit.BUDGET
    assert core.steps == 12345
    assert core.csr_read(CSRS["minstret"]) == 12345


def test_breakpoint_stops_before_the_instruction_and_resumes_past_it():
    core = Core(1 << 20)
    core.write(RAM_BASE, words(0x00100093, 0x00108093, 0x00108093, 0x0000006F))  # addi x1 ...
    core.break_add(RAM_BASE + 8)
    assert core.run(100) == Exit.BREAKPOINT
    assert (core.pc, core.x[1], core.steps) == (RAM_BASE + 8, 2, 2)
    assert core.run(100) == Exit.BUDGET                   # resumes past the breakpoint
    assert core.x[1] == 3
    core.break_remove(RAM_BASE + 8)


def test_ram_outside_bounds_is_refused():
    core = Core(1 << 20)
    with pytest.raises(Exception):
        core.read(RAM_BASE + (1 << 20) - 2, 4)
    with pytest.raises(Exception):
        core.write(RAM_BASE - 1, b"x")


def test_mmio_exit_load_store_and_fault():
    core = Core(1 << 20)
    core.mmio_add(0x4000_0000, 0x1000)
    # lui t0,0x40000; lw t1,4(t0); sw t1,8(t0); lw t2,12(t0); j .
    core.write(RAM_BASE, words(0x400002B7, 0x0042A303, 0x0062A423, 0x00C2A383, 0x0000006F))
    core.csr_write(CSRS["mtvec"], RAM_BASE + 16)       # the access fault lands on `j .`
    assert core.run(100) == Exit.MMIO
    assert (core.exit.addr, core.exit.size, core.exit.is_write) == (0x4000_0004, 4, 0)
    core.mmio_reply(0xCAFE)
    assert core.run(100) == Exit.MMIO
    assert core.x[6] == 0xCAFE
    assert (core.exit.addr, core.exit.is_write, core.exit.data) == (0x4000_0008, 1, 0xCAFE)
    core.mmio_reply(0)
    assert core.run(100) == Exit.MMIO
    core.mmio_fault()
    core.run(3)
    assert core.csr_read(CSRS["mcause"]) == 5           # load access fault
    assert core.csr_read(CSRS["mtval"]) == 0x4000_000C


def test_unclaimed_address_is_an_access_fault():
    core = Core(1 << 20)
    # lui t0,0x40000; sw x0,0(t0); j .
    core.write(RAM_BASE, words(0x400002B7, 0x0002A023, 0x0000006F))
    core.csr_write(CSRS["mtvec"], RAM_BASE + 8)
    core.run(10)
    assert core.csr_read(CSRS["mcause"]) == 7
    assert core.csr_read(CSRS["mepc"]) == RAM_BASE + 4


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=64),
       st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 3]), st.integers(0, 2**32 - 1))
def test_garbage_never_escapes_the_core(program, satp, priv, seed):
    """Random words as code, a random page table root, any privilege: whatever the
    guest does, the host survives and the exit is one of the defined ones (under
    `make asan` this also proves every access stays inside the core's buffers)."""
    core = Core(1 << 16)
    core.write(RAM_BASE, words(*program))
    for i in range(1, 32):
        core.x[i] = (seed * (i + 7) * 2654435761) & 0xFFFF_FFFF
    core.csr_write(CSRS["satp"], satp)
    core.csr_write(CSRS["mtvec"], RAM_BASE + 4 * (seed % len(program)))
    core.csr_write(CSRS["stvec"], seed)
    core.priv = priv
    assert core.run(2000) in set(Exit)


# ---- whole programs

def test_hello_world_over_the_uart(asm):
    ran = run_elf(asm(r"""
        .globl _start
        _start:
            la a0, msg
            li a1, 0x10000000
        1:  lbu a2, 0(a0)
            beqz a2, 2f
            sb a2, 0(a1)
            addi a0, a0, 1
            j 1b
        2:""" + POWER_OFF + """
        .data
        msg: .asciz "hi there\\n"
    """))
    assert ran.stop.reason is StopReason.EXIT and ran.stop.status == 0
    assert ran.output == b"hi there\n"


def test_test_device_reports_the_failure_code(asm):
    ran = run_elf(asm("""
        .globl _start
        _start:
            li t0, 0x100000
            li t1, (42 << 16) | 0x3333
            sw t1, 0(t0)
    """))
    assert (ran.stop.reason, ran.stop.status) == (StopReason.EXIT, 42)


HTIF = """
    .section .tohost, "aw"
    .align 6
    .globl tohost
    tohost: .dword 0
    .align 6
    .globl fromhost
    fromhost: .dword 0
"""


def test_htif_exit_with_a_single_word_store(asm):
    ran = run_elf(asm("""
        .globl _start
        _start:
            li t0, (7 << 1) | 1
            la t1, tohost
            sw t0, 0(t1)
        1:  j 1b
    """ + HTIF))
    assert (ran.stop.reason, ran.stop.status) == (StopReason.EXIT, 7)


@pytest.mark.parametrize("store", ["amoswap.w zero, t0, (t1)", "amoor.w zero, t0, (t1)",
                                   "lr.w t2, (t1); sc.w t2, t0, (t1)"])
def test_htif_sees_atomic_stores(asm, store):
    ran = run_elf(asm(f"""
        .globl _start
        _start:
            li t0, (9 << 1) | 1
            la t1, tohost
            {store}
        1:  j 1b
    """ + HTIF))
    assert (ran.stop.reason, ran.stop.status) == (StopReason.EXIT, 9)


def test_htif_console_putchar_as_two_word_stores_low_first(asm):
    """gcc stores a 64-bit tohost low word first; an odd character in the low
    word must not be taken for an exit."""
    ran = run_elf(asm("""
        .globl _start
        _start:
            la t1, tohost
            la t3, fromhost
            li t2, 0x01010000          # device 1 (console), command 1 (putchar)
            li t0, 'a'                 # odd: 0x61
            sw t0, 0(t1)
            sw t2, 4(t1)
        1:  lw t4, 0(t3)               # wait for the host's answer
            beqz t4, 1b
            li t0, 1                   # then exit with status 0
            sw t0, 0(t1)
            sw zero, 4(t1)
        2:  j 2b
    """ + HTIF))
    assert (ran.stop.reason, ran.stop.status) == (StopReason.EXIT, 0)
    assert ran.output == b"a"


def test_trap_loop_is_diagnosed(asm):
    ran = run_elf(asm("""
        .globl _start
        _start:
            csrw mtvec, zero
            .word 0                    # illegal; the handler at 0 cannot be fetched
    """))
    assert ran.stop.reason is StopReason.CRASH
    assert "trap loop" in ran.stop.message
    assert "instruction access fault" in ran.stop.message


@pytest.mark.parametrize("setup,why", [
    ("", "no interrupt is enabled in mie"),
    ("li t0, 1 << 7; csrw mie, t0", "mtimecmp is never reached"),
    ("li t0, 1 << 3; csrw mie, t0", "can become pending"),
])
def test_wfi_that_nothing_can_wake_is_diagnosed(asm, setup, why):
    ran = run_elf(asm(f"""
        .globl _start
        _start:
            {setup}
            wfi
    """))
    assert ran.stop.reason is StopReason.CRASH
    assert "WFI" in ran.stop.message and why in ran.stop.message


def test_wfi_skips_time_to_the_timer(asm):
    """mtime counts instructions; WFI with MTIE set jumps it to mtimecmp, and the
    interrupt is taken with mepc after the WFI."""
    ran = run_elf(asm("""
        .globl _start
        _start:
            la t0, handler
            csrw mtvec, t0
            li t0, 0x2004000           # mtimecmp = 1000000
            li t1, 1000000
            sw t1, 0(t0)
            sw zero, 4(t0)
            li t0, 1 << 7
            csrw mie, t0
            csrsi mstatus, 8
            wfi
        after:
            j after
        handler:
            csrr s0, mepc
            csrr s1, mcause
            csrr s2, time
        """ + POWER_OFF))
    machine = ran.machine
    assert ran.stop.status == 0
    assert machine.x[8] == machine.program.symbols["after"]
    assert machine.x[9] == 0x8000_0007
    assert 1_000_000 <= machine.x[18] < 1_000_010


def test_uart_input_is_echoed(asm):
    ran = run_elf(asm("""
        .globl _start
        _start:
            li a1, 0x10000000
        1:  lbu a2, 5(a1)              # LSR
            andi a2, a2, 1             # DR: a byte is waiting
            beqz a2, 1b
            lbu a3, 0(a1)
            li a4, '.'
            beq a3, a4, 2f
            sb a3, 0(a1)
            j 1b
        2:""" + POWER_OFF), data=b"echo me.")
    assert ran.output == b"echo me"


def test_input_is_there_before_the_first_instruction(asm):
    ran = run_elf(asm("""
        .globl _start
        _start:
            li a1, 0x10000000
            lbu s0, 5(a1)              # LSR at once: DR must already be set
            lbu s1, 0(a1)
        """ + POWER_OFF), data=b"z")
    assert ran.machine.x[8] & 1 and ran.machine.x[9] == ord("z")


def test_sbi_getchar_and_the_uart_read_one_queue(asm):
    ran = run_elf(asm("""
        .globl _start
        _start:
            li a7, 2                   # legacy getchar: the first byte
            ecall
            mv s0, a0
            li a1, 0x10000000          # the UART: the second byte
            lbu s1, 0(a1)
            li a7, 2                   # getchar again: the third
            ecall
            mv s2, a0
            li a7, 8                   # legacy shutdown
            ecall
        """), boot="s", data=b"abc")
    assert [chr(ran.machine.x[r]) for r in (8, 9, 18)] == ["a", "b", "c"]


def test_a_device_sees_only_the_bytes_stored(asm):
    ran = run_elf(asm("""
        .globl _start
        _start:
            li t0, 0x100000
            li t1, 0x5555
            sb t1, 0(t0)               # 0x55: not a test-device command
            li t1, 0x33333
            sh t1, 0(t0)               # 0x3333: fail, with status 0 (bits 16+ cut)
        after:
            li t1, 0x73333
            sw t1, 0(t0)               # not reached
        """))
    assert ran.stop.status == 0 and ran.stop.reason is StopReason.EXIT
    assert ran.machine.pc == ran.machine.program.symbols["after"]


def test_runs_are_deterministic(asm):
    elf = asm("""
        .globl _start
        _start:
            li t0, 0x2004000           # a timer interrupt every 777 instructions
            li t1, 777
            sw t1, 0(t0)
            sw zero, 4(t0)
            la t2, handler
            csrw mtvec, t2
            li t2, 1 << 7
            csrw mie, t2
            csrsi mstatus, 8
            li s0, 100000
        1:  addi s0, s0, -1
            bnez s0, 1b
        """ + POWER_OFF + """
        handler:
            addi s1, s1, 1
            lw t3, 0(t0)
            addi t3, t3, 777
            sw t3, 0(t0)
            mret
    """)
    first, second = run_elf(elf), run_elf(elf)
    assert first.machine.core.steps == second.machine.core.steps
    assert list(first.machine.x) == list(second.machine.x)
    assert first.machine.x[9] > 100          # the interrupts did happen


def test_max_insns_stops_a_program_that_never_ends(asm):
    ran = run_elf(asm("""
        .globl _start
        _start: j _start
    """), max_insns=5000)
    assert ran.stop.reason is StopReason.LIMIT
    assert ran.machine.core.steps == 5000


@pytest.mark.parametrize("text,size", [
    ("16M", 16 << 20), ("128MiB", 128 << 20), ("0x1000000", 1 << 24), ("65536", 65536),
    ("2G", 2 << 30), ("64k", 64 << 10),
])
def test_memory_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "12", "abc", "3G", "0", "-4K", "1.5M"])
def test_bad_memory_sizes(text):
    with pytest.raises(ConfigError):
        parse_size(text)


def test_untouched_ram_costs_nothing():
    """32 machines of 128 MiB fit easily: RAM is mapped lazily."""
    machines = [Machine(128 << 20) for _ in range(32)]
    assert all(m.core.ram_size == 128 << 20 for m in machines)


ECALL, WFI, EBREAK = 0x00000073, 0x10500073, 0x00100073


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([ECALL, WFI, EBREAK])),
                min_size=1, max_size=32),
       st.lists(st.one_of(st.integers(0, 2**32 - 1), st.sampled_from(
           [0x10, 0x54494D45, 0x53525354, 0x4442434E, 1, 2, 8, 0, 3, RAM_BASE])),
           min_size=31, max_size=31))
def test_garbage_under_the_sbi_firmware_never_escapes(program, registers):
    """Random code with random registers, booted in S-mode: every SBI call with
    whatever arguments, and every trap, ends in a Stop, never a Python error."""
    machine = Machine(1 << 16, Console(io.BytesIO()))
    machine.load(Program("fuzz", RAM_BASE, [Segment(RAM_BASE, words(*program), 4 * len(program))]),
                 boot="s")
    for i, value in enumerate(registers, start=1):
        machine.x[i] = value
    stop = machine.run(5000)
    assert stop.reason in set(StopReason)


HANDLER_RETURNS_TO_THE_FAULT = """
    .globl _start
_start:
    la      t0, handler
    csrw    {tvec}, t0
    lw      t1, 0(zero)              # load access fault, for ever
    j       _start
handler:
    {ret}
"""


@pytest.mark.parametrize("boot", ["m", "s"])
def test_a_handler_that_returns_to_its_fault_is_a_trap_loop(boot):
    """The handler runs (one instruction: its xRET) and returns to the faulting
    load, which faults again: diagnosed as the vector faulting is (csrc/trap.c)."""
    from emu.labs.kit import assemble
    source = HANDLER_RETURNS_TO_THE_FAULT.format(tvec="mtvec" if boot == "m" else "stvec",
                                                 ret="mret" if boot == "m" else "sret")
    machine = Machine(16 << 20, Console(io.BytesIO()))
    program = assemble(source, "loop")
    machine.load(program, boot)
    stop = machine.run(10_000)
    load = program.symbols["_start"] + 12
    assert stop.reason is StopReason.CRASH
    assert stop.message.startswith(f"trap loop: load access fault at pc {load:#010x} (tval 0x0) "
                                   "over and over, its handler returning to the faulting "
                                   "instruction each time")
    assert machine.core.steps < 100
    if boot == "s":
        from emu.labs.kit import run_hv
        guest = run_hv([program]).guests[0]
        assert guest.end.message == stop.message


def test_a_trap_taken_again_at_the_same_pc_after_progress_is_no_loop():
    """An ecall whose handler moves mepc on, in a loop: the same trap at the same
    pc for ever, but the program progresses (a trap benchmark)."""
    from emu.labs.kit import assemble
    machine = Machine(16 << 20, Console(io.BytesIO()))
    machine.load(assemble("""
        .globl _start
    _start:
        la      t0, handler
        csrw    mtvec, t0
    1:  ecall
        j       1b
    handler:
        csrr    t1, mepc
        addi    t1, t1, 4
        csrw    mepc, t1
        mret
    """, "bench"))
    assert machine.run(100_000).reason is StopReason.LIMIT
