"""The PLIC (emu/devices/plic.py) and the UART's interrupts (csrc/devices.c, and
its twin emu/devices/uart.py for guests): every register, the gateway, claim and
complete, and programs that take UART interrupts through the PLIC in M-mode, in
S-mode under the SBI firmware, and as a guest of the hypervisor."""
from __future__ import annotations

import io

import pytest
from hypothesis import given, settings, strategies as st

from emu.core import Core, Exit, lib
from emu.devices import BusError
from emu.devices.plic import Plic
from emu.devices.uart import Uart
from emu.isa import CSRS
from emu.labs.kit import assemble, bare_state, hv_state, run_hv
from emu.machine import Machine, StopReason
from emu.platform import RAM_BASE, Console

ENABLE, CONTEXT = 0x2000, 0x20_0000
UART_IRQ = lib.EMU_UART_IRQ


class Lines:
    """The PLIC's outputs, recorded: levels[c] and every change, in order."""

    def __init__(self, contexts: int = 2):
        self.levels = [False] * contexts
        self.changes: list[tuple[int, bool]] = []

    def line(self, context: int):
        def drive(raised: bool) -> None:
            self.levels[context] = raised
            self.changes.append((context, raised))
        return drive


def plic(contexts: int = 2) -> tuple[Plic, Lines]:
    lines = Lines(contexts)
    return Plic([lines.line(c) for c in range(contexts)]), lines


def enable(p: Plic, context: int, *sources: int) -> None:
    for source in sources:
        word = ENABLE + 0x80 * context + 4 * (source // 32)
        p.store(word, 4, p.load(word, 4) | 1 << source % 32)


def claim(p: Plic, context: int) -> int:
    return p.load(CONTEXT + 0x1000 * context + 4, 4)


def complete(p: Plic, context: int, source: int) -> None:
    p.store(CONTEXT + 0x1000 * context + 4, 4, source)


# ---- the model's registers

def test_priorities_keep_three_bits_and_source_0_has_none():
    p, _ = plic()
    p.store(4 * 10, 4, 0xFFFF_FFFF)
    p.store(0, 4, 5)
    assert p.load(4 * 10, 4) == 7 and p.load(0, 4) == 0
    assert p.load(4 * 95, 4) == 0 and p.load(4 * 96, 4) == 0     # past the last source


def test_pending_follows_the_signals_and_cannot_be_written():
    p, _ = plic()
    p.set_level(10, True)
    p.set_level(33, True)
    assert p.load(0x1000, 4) == 1 << 10 and p.load(0x1004, 4) == 1 << 1
    p.store(0x1000, 4, 0)
    assert p.load(0x1000, 4) == 1 << 10
    p.set_level(33, False)      # the device withdrew its request (as on QEMU)
    assert p.load(0x1004, 4) == 0


def test_enables_are_per_context_and_source_0_cannot_be_enabled():
    p, _ = plic()
    p.store(ENABLE, 4, 0xFFFF_FFFF)
    p.store(ENABLE + 0x80 + 4, 4, 0x1234)
    assert p.load(ENABLE, 4) == 0xFFFF_FFFE
    assert p.load(ENABLE + 0x80, 4) == 0 and p.load(ENABLE + 0x84, 4) == 0x1234
    assert p.load(ENABLE + 0x100, 4) == 0       # no context 2


def test_threshold_masks_priorities_at_or_below_it():
    p, lines = plic()
    p.store(4 * 10, 4, 3)
    enable(p, 1, 10)
    p.store(CONTEXT + 0x1000, 4, 3)
    p.set_level(10, True)
    assert lines.levels == [False, False] and claim(p, 1) == 0
    p.store(CONTEXT + 0x1000, 4, 2)
    assert lines.levels == [False, True] and p.load(CONTEXT + 0x1000, 4) == 2
    assert claim(p, 1) == 10


def test_claim_takes_the_highest_priority_then_the_lowest_number():
    p, _ = plic()
    for source, priority in ((3, 2), (5, 6), (7, 6), (9, 1)):
        p.store(4 * source, 4, priority)
        p.set_level(source, True)
    enable(p, 0, 3, 5, 7, 9)
    order = []
    while source := claim(p, 0):
        order.append(source)
    assert order == [5, 7, 3, 9]


def test_a_claimed_source_is_quiet_until_complete_whatever_it_signals():
    """As QEMU's: a device that signals again while its source is claimed makes it
    pending, and the context sees it once the claim completes."""
    p, lines = plic()
    p.store(4 * 1, 4, 1)
    enable(p, 0, 1)
    p.set_level(1, True)
    assert lines.levels[0] and claim(p, 0) == 1
    p.set_level(1, True)                                # a second request
    assert not lines.levels[0] and claim(p, 0) == 0     # claimed: out of the running
    complete(p, 0, 1)
    assert lines.levels[0] and claim(p, 0) == 1


def test_a_line_left_raised_does_not_interrupt_again_after_complete():
    """QEMU's PLIC, which drivers are written against: xv6's first virtio driver
    never acknowledges the device, whose line stays up; one interrupt a request."""
    p, lines = plic()
    p.store(4 * 1, 4, 1)
    enable(p, 0, 1)
    p.set_level(1, True)
    assert claim(p, 0) == 1
    complete(p, 0, 1)
    assert not lines.levels[0] and p.load(0x1000, 4) == 0


def test_a_sampled_source_still_raised_at_complete_is_pending_again():
    """A device that reports only changes of its line (the C UART) is looked at
    once more when its claim completes."""
    line = [True]
    lines = Lines()
    p = Plic([lines.line(0), lines.line(1)], sample={10: lambda: line[0]})
    p.store(4 * 10, 4, 1)
    enable(p, 0, 10)
    p.set_level(10, True)
    assert claim(p, 0) == 10
    complete(p, 0, 10)
    assert lines.levels[0] and claim(p, 0) == 10        # still raised: again
    line[0] = False
    complete(p, 0, 10)
    assert not lines.levels[0]


def test_a_completion_for_a_source_not_enabled_is_ignored():
    p, _ = plic()
    p.store(4 * 10, 4, 1)
    enable(p, 0, 10)
    p.set_level(10, True)
    assert claim(p, 0) == 10
    p.set_level(10, True)           # a new request, while claimed
    complete(p, 1, 10)              # context 1 does not have it enabled
    assert claim(p, 0) == 0
    complete(p, 0, 99)              # no such source
    complete(p, 0, 10)
    assert claim(p, 0) == 10


def test_both_contexts_see_a_source_enabled_in_both_and_one_claim_takes_it():
    p, lines = plic()
    p.store(4 * 1, 4, 1)
    enable(p, 0, 1)
    enable(p, 1, 1)
    p.set_level(1, True)
    assert lines.levels == [True, True]
    assert claim(p, 1) == 1
    assert lines.levels == [False, False] and claim(p, 0) == 0


def test_registers_are_32_bits_and_holes_read_zero():
    p, _ = plic()
    for size in (1, 2):
        with pytest.raises(BusError):
            p.load(0, size)
        with pytest.raises(BusError):
            p.store(CONTEXT, size, 1)
    for hole in (0x1000 + 4 * 3, ENABLE + 0x0C, CONTEXT + 8, CONTEXT + 0x2000, 0x5F_FFFC):
        p.store(hole, 4, 0xFFFF_FFFF)
        assert p.load(hole, 4) == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.tuples(st.just("level"), st.integers(1, 95), st.booleans()),
    st.tuples(st.just("priority"), st.integers(0, 95), st.integers(0, 0xFFFF_FFFF)),
    st.tuples(st.just("enable"), st.integers(0, 1), st.integers(0, 2), st.integers(0, 0xFFFF_FFFF)),
    st.tuples(st.just("threshold"), st.integers(0, 1), st.integers(0, 9)),
    st.tuples(st.just("claim"), st.integers(0, 1)),
    st.tuples(st.just("complete"), st.integers(0, 1), st.integers(0, 100))), max_size=60))
def test_claims_and_outputs_obey_the_rules(operations):
    """Whatever is done: an output is raised exactly when a claim would return a
    source, and a claim returns a pending, enabled source of the highest priority
    above the threshold, never one already claimed."""
    p, lines = plic()
    claimed = set()
    for op, *args in operations:
        if op == "level":
            p.set_level(*args)
        elif op == "priority":
            p.store(4 * args[0], 4, args[1])
        elif op == "enable":
            p.store(ENABLE + 0x80 * args[0] + 4 * args[1], 4, args[2])
        elif op == "threshold":
            p.store(CONTEXT + 0x1000 * args[0], 4, args[1])
        elif op == "complete":
            complete(p, *args)
            if p.load(ENABLE + 0x80 * args[0] + 4 * (args[1] // 32), 4) >> args[1] % 32 & 1:
                claimed.discard(args[1])
        else:
            context = args[0]
            threshold = p.load(CONTEXT + 0x1000 * context, 4)
            candidates = [s for s in range(1, 96)
                          if p.load(0x1000 + 4 * (s // 32), 4) >> s % 32 & 1
                          and p.load(ENABLE + 0x80 * context + 4 * (s // 32), 4) >> s % 32 & 1
                          and p.load(4 * s, 4) > threshold]
            assert lines.levels[context] == bool(candidates)
            source = claim(p, context)
            if candidates:
                best = max(p.load(4 * s, 4) for s in candidates)
                assert source == min(s for s in candidates if p.load(4 * s, 4) == best)
                assert source not in claimed
                claimed.add(source)
            else:
                assert source == 0
        for context in (0, 1):
            assert lines.levels[context] == (p._best(context) != 0)


# ---- the UART's interrupt registers, on the core and on the guests' model

UART_REGISTERS = """
    .globl _start
_start:
    li      t0, 0x10000000
    lbu     s0, 2(t0)               # IIR at reset: no FIFOs, nothing pending (0x01)
    li      t1, 0xFF
    sb      t1, 1(t0)               # IER keeps bits 3:0; THRI enabled: pending at once
    lbu     s1, 1(t0)
    li      t1, 0x07
    sb      t1, 2(t0)               # FCR: FIFOs on, both reset (input is not lost)
    lbu     s2, 2(t0)               # IIR: a received byte waits (0xC4), before THRI
    lbu     s3, 0(t0)               # the byte
    lbu     s4, 2(t0)               # IIR: THR empty (0xC2); this read clears it
    lbu     s5, 2(t0)               # IIR: nothing (0xC1)
    li      t1, 0x21
    sb      t1, 0(t0)               # "!": sent at once, THR empty again
    lbu     s6, 2(t0)               # IIR: THR empty (0xC2)
    sb      zero, 1(t0)             # IER 0: nothing
    lbu     s7, 2(t0)
    li      t0, 0x100000
    li      t1, 0x5555
    sw      t1, 0(t0)
"""
UART_EXPECTED = [0x01, 0x0F, 0xC4, ord("z"), 0xC2, 0xC1, 0xC2, 0xC1]


def test_uart_interrupt_registers_on_the_board():
    out = io.BytesIO()
    machine = Machine(16 << 20, Console(out, b"z"))
    machine.load(assemble(UART_REGISTERS, "uart"))
    assert machine.run(1000).reason is StopReason.EXIT
    assert [machine.x[r] for r in range(8, 10)] + [machine.x[r] for r in range(18, 24)] \
        == UART_EXPECTED
    assert out.getvalue() == b"!"


def test_the_guests_uart_model_reads_as_the_boards():
    lines = []
    uart = Uart(lambda data: None, b"z", lines.append)
    seen = [uart.load(2, 1)]
    uart.store(1, 1, 0xFF)
    seen.append(uart.load(1, 1))
    uart.store(2, 1, 7)
    seen += [uart.load(2, 1), uart.load(0, 1), uart.load(2, 1), uart.load(2, 1)]
    uart.store(0, 1, 0x21)
    seen.append(uart.load(2, 1))
    uart.store(1, 1, 0)
    seen.append(uart.load(2, 1))
    assert seen == UART_EXPECTED
    assert lines == [True, False, True, False]


def test_a_uart_line_change_ends_the_run_after_the_instruction():
    core = Core(1 << 20)
    program = [0x100002B7,      # lui t0, 0x10000
               0x00200313,      # li t1, 2
               0x006280A3,      # sb t1, 1(t0): IER = THRI, the line rises
               0x00000013,      # nop
               0x0022C383,      # lbu t2, 2(t0): IIR read clears it
               0x00000013]
    core.write(RAM_BASE, b"".join(w.to_bytes(4, "little") for w in program))
    assert core.run(100) == Exit.IRQ and core.pc == RAM_BASE + 12
    assert core.device_lines() == 1 << UART_IRQ
    assert core.run(100) == Exit.IRQ and core.pc == RAM_BASE + 20 and core.x[7] == 0x02
    assert core.device_lines() == 0
    core.uart_input(b"a")           # input raises nothing: RDI is off
    assert core.device_lines() == 0


def test_mip_seip_reads_the_line_but_read_modify_write_keeps_the_written_bit():
    """Privileged spec section 3.1.9: csrrs/csrrc on mip use the software SEIP bit."""
    core = Core(1 << 20)
    mip = CSRS["mip"]
    core.set_external(1 << 9 | 1 << 11 | 1 << 7)    # SEIP, MEIP; MTIP is not the PLIC's
    assert core.csr_read(mip) & 0xA80 == 0xA00
    core.write(RAM_BASE, (0x34416073).to_bytes(4, "little"))   # csrrsi zero, mip, 2 (SSIP)
    core.run(1)
    core.set_external(0)
    assert core.csr_read(mip) == 1 << 1          # SEIP was not written back as 1


def test_the_firmware_setting_stip_does_not_latch_the_plics_seip_line():
    """The SBI firmware sets mip.STIP as CSRRS would: with the PLIC's SEIP line
    raised at that moment, the line must not become the written SEIP bit."""
    core = Core(1 << 20)
    mip = CSRS["mip"]
    core.set_external(1 << 9)
    core.csr_set_bits(mip, 1 << 5, True)
    core.set_external(0)
    assert core.csr_read(mip) == 1 << 5
    core.csr_set_bits(mip, 1 << 5, False)
    assert core.csr_read(mip) == 0


def test_an_answered_mmio_load_completes_before_an_interrupt_its_answer_raised():
    """A claim's side effects happen in the host at the exit; the load must then
    complete with the answer before the hart takes any interrupt (as KVM does),
    or the claimed value is lost and the load runs again after the handler."""
    core = Core(1 << 20)
    core.mmio_add(0x4000_0000, 0x1000)
    program = [0x400002B7,      # lui t0, 0x40000
               0x0002A303,      # lw t1, 0(t0): exits to the host
               0x00000013]      # nop
    core.write(RAM_BASE, b"".join(w.to_bytes(4, "little") for w in program))
    core.csr_write(CSRS["mtvec"], RAM_BASE + 0x100)
    core.csr_write(CSRS["mie"], 1 << 11)
    core.csr_write(CSRS["mstatus"], 1 << 3)
    assert core.run(100) == Exit.MMIO and core.pc == RAM_BASE + 4
    core.set_external(1 << 11)      # the host's device work raised MEIP
    core.mmio_reply(0x1234)
    core.run(1)
    assert core.x[6] == 0x1234 and core.pc == RAM_BASE + 8
    assert core.take_interrupt() == 1 << 31 | 11
    assert core.csr_read(CSRS["mepc"]) == RAM_BASE + 8


# ---- programs that take UART interrupts through the PLIC

M_MODE_ECHO = """
    .globl _start
_start:
    la      t0, handler
    csrw    mtvec, t0
    li      t0, 0x0c000000
    li      t1, 1
    sw      t1, 40(t0)              # priority of source 10 (the UART)
    li      t0, 0x0c002000
    li      t1, 1 << 10
    sw      t1, 0(t0)               # enabled in context 0 (M-mode)
    li      t0, 0x10000000
    li      t1, 1
    sb      t1, 1(t0)               # IER: received data
    li      t1, 1 << 11
    csrs    mie, t1                 # MEIE
    csrsi   mstatus, 8
1:  wfi
    j       1b
handler:
    li      t2, 0x0c200004
    lw      t3, 0(t2)               # claim
    li      t0, 0x10000000
    lbu     t4, 0(t0)
    sb      t4, 0(t0)               # echo
    sw      t3, 0(t2)               # complete
    li      t5, '.'
    beq     t4, t5, 2f
    mret
2:  li      t0, 0x100000
    li      t1, 0x5555
    sw      t1, 0(t0)
"""


def test_an_m_mode_program_echoes_input_by_receive_interrupts():
    out = io.BytesIO()
    machine = Machine(16 << 20, Console(out, b"by interrupts."))
    machine.load(assemble(M_MODE_ECHO, "echo"))
    stop = machine.run(100_000)
    assert (stop.reason, out.getvalue()) == (StopReason.EXIT, b"by interrupts.")


def test_wfi_with_only_external_interrupts_and_no_more_input_is_diagnosed():
    machine = Machine(16 << 20, Console(io.BytesIO(), b"ab"))
    machine.load(assemble(M_MODE_ECHO, "echo"))
    stop = machine.run(100_000)
    assert stop.reason is StopReason.CRASH
    assert "only external interrupts are enabled, and the console input has ended" \
        in stop.message


# An S-mode kernel in the style of xv6's console: received bytes are upper-cased
# into a ring and sent by transmitter-empty interrupts; '.' ends it. Its trap
# handler logs every claim and IIR value to `log`, so the two runs' RAM shows
# the whole conversation.
S_MODE_CONSOLE = """
    .equ UART, 0x10000000
    .equ PLIC, 0x0c000000
    .section .text.init
    .globl _start
_start:
    la      t0, handler
    csrw    stvec, t0
    la      s11, log
    la      s10, ring
    li      t0, PLIC
    li      t1, 3
    sw      t1, 40(t0)              # priority 3 for the UART
    li      t0, PLIC + 0x2080
    li      t1, 1 << 10
    sw      t1, 0(t0)               # enabled in context 1 (S-mode)
    li      t0, PLIC + 0x201000
    li      t1, 2
    sw      t1, 0(t0)               # threshold 2: priority 3 gets through
    li      t0, UART
    li      t1, 7
    sb      t1, 2(t0)               # FCR: FIFOs on and reset; no input is lost
    li      t1, 3
    sb      t1, 1(t0)               # IER: received data and transmitter empty
    li      t1, 1 << 9
    csrs    sie, t1                 # SEIE
idle:
    csrci   sstatus, 2
    beqz    s5, 1f                  # '.' seen and everything sent: the end
    bne     s2, s3, 1f
    bnez    s4, 1f
    li      a7, 0x53525354          # SBI SRST: shutdown
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
1:  wfi
    csrsi   sstatus, 2              # the interrupt is taken here
    j       idle

    .align 2
handler:
    li      t0, PLIC + 0x201004
    lw      s1, 0(t0)               # claim
    sw      s1, 0(s11)
    addi    s11, s11, 4
    li      t1, UART
next:
    lbu     t2, 2(t1)               # IIR
    sw      t2, 0(s11)
    addi    s11, s11, 4
    andi    t3, t2, 1
    bnez    t3, done
    andi    t3, t2, 0xE
    li      t4, 4
    beq     t3, t4, receive
send:                               # THR is empty: the next byte, or idle
    beq     s2, s3, 2f
    add     t5, s10, s2
    lbu     t5, 0(t5)
    sb      t5, 0(t1)
    addi    s2, s2, 1
    andi    s2, s2, 63
    li      s4, 1
    j       next
2:  li      s4, 0
    j       next
receive:
    lbu     t5, 0(t1)
    bnez    s5, next                # after '.', input is dropped
    li      t4, '.'
    bne     t5, t4, 3f
    li      s5, 1
    j       next
3:  addi    t6, t5, -'a'
    li      t4, 26
    bgeu    t6, t4, 4f
    addi    t5, t5, -32
4:  add     t6, s10, s3
    sb      t5, 0(t6)
    addi    s3, s3, 1
    andi    s3, s3, 63
    bnez    s4, next                # sending: the empty THR will ask for it
    j       send
done:
    sw      s1, 0(t0)               # complete
    sret

    .data
ring:   .space 64
log:    .space 4096
"""


def test_an_s_mode_console_by_interrupts_under_the_firmware():
    state = bare_state(assemble(S_MODE_CONSOLE, "console"), data=b"hello, world.ignored")
    assert state["stop"] == "exit" and state["output"] == b"HELLO, WORLD"


def test_the_s_mode_console_as_a_guest_equals_its_bare_run():
    program = assemble(S_MODE_CONSOLE, "console")
    data = b"two guests, one hart."
    hv = run_hv([program, program], quantum=97, inputs={"console": data, "console-2": data})
    bare = bare_state(program, data=data)
    for guest in hv.guests:
        assert hv_state(guest) == bare
        assert guest.stats.injected["supervisor external interrupt"] > 0


def test_reverse_execution_restores_the_plic():
    """The debugger's checkpoints hold the host's device models: going back over
    a claim makes the source pending again."""
    from emu.debug.session import Timeline
    machine = Machine(16 << 20, Console(io.BytesIO(), b"xy."))
    machine.load(assemble(M_MODE_ECHO, "echo"))
    timeline = Timeline(machine.core, machine=machine)
    while not machine.plic.pending:     # up to the IER store: "x" makes source 10 pending
        machine.run(1)
    timeline.take()
    before = machine.plic.state()
    while not machine.plic.claimed:     # on to the handler's claim
        machine.run(1)
    assert machine.plic.claimed == 1 << UART_IRQ
    timeline.restore(timeline.checkpoints[-1].steps)
    assert machine.plic.state() == before
