"""The hypervisor (emu/hv), tested by Popek and Goldberg's properties.

Equivalence: a guest's console output and final guest-visible state (registers,
pc, privilege, S-mode CSRs and counters, all of its RAM) under the hypervisor
equal its bare `emu run --boot s --mem 16M` run, alone and beside other guests.
Resource control: no guest reaches a frame that is not its own, and none keeps
the hart past its quantum. Efficiency: the native share is measured."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from emu.core import RAM_BASE
from emu.hv import Action, EndReason, GuestState, Hypervisor, Outcome, hypervisor
from emu.options import load_program
from emu.hv.memory import shadow_contents
from emu.labs import kit
from tests.hvkit import KERNEL, assemble, bare_state, diff, hv_state, kernel, run_hv
from tests.test_guests import GUESTS as SAMPLE_GUESTS, build_guest

REPO = Path(__file__).resolve().parent.parent
GUESTS = REPO / "programs" / "guests"
# Guests whose bare run touches the board's CLINT or test device, which a guest of
# the hypervisor does not have (docs/hypervisor.md, "Devices"): not equivalent by design.
TOUCH_BOARD_DEVICES = {"adv-probe", "adv-mcsr"}
SPINNERS = {"adv-spin"}


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict:
    """Each equivalent sample guest's program, built as programs/Makefile builds it
    (the C guest too: the list of samples never depends on what was built before)."""
    directory = tmp_path_factory.mktemp("samples")
    return {name: load_program(build_guest(name, directory / f"{name}.elf"))
            for name in EQUIVALENT_SAMPLES}


def assert_equivalent(program, guest, **bare_options) -> None:
    bare, virtual = bare_state(program, **bare_options), hv_state(guest)
    assert bare == virtual, diff(bare, virtual)


# ---- equivalence: the sample guest kernels ----

EQUIVALENT_SAMPLES = [name for name in SAMPLE_GUESTS
                      if name not in TOUCH_BOARD_DEVICES | SPINNERS]


@pytest.mark.parametrize("name", EQUIVALENT_SAMPLES)
def test_sample_guest_alone_equals_bare_run(name, samples):
    program = samples[name]
    hv = run_hv([program])
    assert hv.guests[0].end.reason is EndReason.SHUTDOWN
    assert_equivalent(program, hv.guests[0], max_insns=50_000_000)


def test_sample_guests_side_by_side_each_equal_their_bare_runs(samples):
    """All the samples at once with a small odd quantum, so that every guest is
    switched out in the middle of everything it does."""
    programs = list(samples.values())
    hv = run_hv(programs, quantum=997)
    for program, guest in zip(programs, hv.guests):
        assert guest.stats.switches > 1 or guest.hart.steps < 997
        assert_equivalent(program, guest, max_insns=50_000_000)


def test_a_guest_that_runs_alone_gets_slices_at_once_with_the_same_interleaving(
        monkeypatch):
    """When no other guest can run, the hypervisor hands a guest several slices at
    once (Hypervisor._stretch, up to a blocked guest's wake-up): every exit comes
    at the same host time, in the same order, as slice by slice. (The ticks guest
    sleeps in WFI while another runs alone, and ends first.)"""
    programs = [load_program(GUESTS / name / f"{name}.S") for name in ("ticks", "os")]

    def timeline():
        seen = []

        class Recording(Hypervisor):
            def exit(self, guest, reason):
                seen.append((guest.name, self.clock, guest.hart.steps, reason))
                super().exit(guest, reason)

        hv = run_hv(programs, quantum=997, cls=Recording)
        return seen, sum(guest.stats.switches for guest in hv.guests)

    stretched, fewer = timeline()
    monkeypatch.setattr(hypervisor, "STRETCH", 1)
    sliced, switches = timeline()
    assert stretched == sliced
    assert fewer < switches


@pytest.mark.parametrize("path", [REPO / "programs" / "hello-sbi" / "hello-sbi.S",
                                  REPO / "programs" / "sbi-check" / "sbi-check.S"],
                         ids=lambda p: p.stem)
def test_boot_s_programs_equal_bare_runs(path):
    program = load_program(path)
    assert_equivalent(program, run_hv([program]).guests[0])


# ---- equivalence: small kernels aimed at one mechanism each ----

TRAPS = """
    ebreak
    .word 0
    csrr    a0, mstatus
    csrw    mtvec, a0
    mret
    csrr    a0, 0x7c0                 # no such CSR
    csrw    time, a0                  # read-only
    csrw    sscratch, a0
    csrrw   a1, sscratch, sp
    csrrs   a2, sscratch, zero
    csrrci  a3, sstatus, 0
    csrrwi  a4, sepc, 31
    csrw    stvec, a0                 # then restore it
    la      t0, handler
    csrw    stvec, t0
    lw      a0, 0(zero)               # nothing at 0: access faults
    sw      a0, 0(zero)
    la      t0, 0x02000000            # the CLINT is not the guest's: not used here
    li      t0, 0x81000000            # just past 16 MiB of RAM
    lw      a0, 0(t0)
    li      t0, 0x80000001            # misaligned, in RAM: performed
    lw      a5, 0(t0)
    li      t0, 0x80000002
    jalr    ra, 0(t0)                 # misaligned jump target
    li      t0, 0x100
    jalr    ra, 0(t0)                 # fetch from nothing: instruction access fault
    csrw    scounteren, 5             # cycle and instret for U, not time
    rdcycle a0
    rdinstret a1
    rdtime  a2
    rdtimeh a3
    csrr    a4, cycleh
    csrr    a5, instreth
    la      a0, user_code
    call    to_user
    csrw    scounteren, zero
    la      a0, user_code
    call    to_user
    csrr    a0, sip
    csrr    a1, sie
    li      t1, -1
    csrw    sie, t1
    csrr    a1, sie
    csrw    sie, zero
    csrw    stvec, zero
    csrs    stvec, 3                  # reserved mode bit: stvec keeps mode 0 or 1
    csrr    a2, stvec
    la      t0, handler
    csrw    stvec, t0
    li      t1, -1
    csrw    sstatus, t1               # only the sstatus fields are writable
    csrr    a3, sstatus
    csrw    sstatus, zero
    csrw    sepc, t1
    csrr    a4, sepc
"""
TRAPS_USER = """
    rdcycle a0
    rdtime  a1
    rdinstret a2
    csrr    a3, sstatus
    csrw    sscratch, a0
    sret
    wfi
    sfence.vma
    ebreak
    lw      a4, 0(zero)
"""


def test_exceptions_csrs_and_user_mode_equal_bare():
    program = kernel(TRAPS, TRAPS_USER, "traps")
    hv = run_hv([program])
    assert_equivalent(program, hv.guests[0])
    exits = hv.guests[0].stats.exits
    assert {"csr", "exception", "illegal instruction", "ecall from U", "sret"} <= exits.keys()


PAGING = """
    li      a0, 1
    call    paging
    li      t3, USER_VA
    lw      a0, 0(t3)                 # U page from S, SUM = 0: load page fault
    li      t0, 0x40000               # SUM
    csrs    sstatus, t0
    lw      a0, 0(t3)                 # now allowed
    li      t4, 0x40001000
    lw      a1, 0(t4)
    li      t4, 0x40001000
    sw      a1, 0(t4)            # user_ro: store page fault
    li      t4, 0x40003000
    sw      a1, 0(t4)            # user_rw: allowed, sets D
    jalr    ra, 0(t3)                 # fetch from a U page in S: never allowed
    csrc    sstatus, t0
    li      t4, 0x40002000
    lw      a2, 0(t4)            # execute-only: load page fault
    li      t0, 0x80000               # MXR
    csrs    sstatus, t0
    li      t4, 0x40002000
    lw      a2, 0(t4)            # now readable
    csrc    sstatus, t0
    li      t4, 0x40004000
    lw      a3, 0(t4)            # clean page: A set
    li      t4, 0x40004000
    sw      a3, 0(t4)            # ...then D
    li      t4, 0x40005000
    lw      a4, 0(t4)            # a page outside RAM: load access fault
    li      t4, 0x40400000
    lw      a4, 0(t4)                 # misaligned megapage: page fault
    li      t4, 0x40800000
    lw      a4, 0(t4)                 # table outside RAM: access fault
    li      t4, 0x50000000
    sw      a4, 0(t4)                 # nothing mapped: store page fault
    li      a0, USER_VA
    call    to_user
    # Remap user page 3 to the clean page and flush that one address.
    la      a1, clean
    li      a2, 0xD7                  # V R W U A D
    call    make_pte
    la      t4, l0
    sw      a0, 12(t4)
    li      t4, 0x40003000
    li      t0, 0x40000
    csrs    sstatus, t0
    sfence.vma t4
    lw      a5, 0(t4)                 # the clean page's word
    csrc    sstatus, t0
    li      a0, 0
    call    paging
    li      a0, 1
    call    paging
    li      t0, 0x80003000
    amoadd.w a6, a5, (t0)             # AMO through the megapage
    lr.w    a6, (t0)
    sc.w    a7, a5, (t0)
"""
PAGING_USER = """
    li      t3, 0x40000000
    li      t4, 0x40001000
    lw      a0, 0(t4)            # user_ro: fine
    li      t4, 0x40001000
    sw      a0, 0(t4)            # store page fault
    li      t4, 0x40003000
    sw      a0, 0(t4)            # user_rw
    li      t4, 0x40004000
    lw      a1, 0(t4)            # a kernel page: load page fault
    li      t4, 0x80000000
    lw      a2, 0(t4)                 # the kernel's megapage: load page fault
    rdtime  a3                        # scounteren = 0: illegal
"""


def test_sv32_shadow_paging_equals_bare():
    program = kernel(PAGING, PAGING_USER, "paging")
    hv = run_hv([program])
    guest = hv.guests[0]
    assert_equivalent(program, guest)
    assert guest.stats.exits["guest page fault"].count >= 8
    assert guest.pager.fills > 0


def test_shadow_pool_recycled_when_full_and_still_equivalent():
    class TinyPool(Hypervisor):
        shadow_pages = 2
    program = kernel(PAGING, PAGING_USER, "paging")
    hv = run_hv([program], cls=TinyPool)
    assert hv.guests[0].pager.recycles > 0
    assert_equivalent(program, hv.guests[0])


UART = """
    li      t0, 0x10000000
    lbu     a0, 5(t0)                 # LSR: THRE, TEMT and DR (input waits)
    lbu     a1, 0(t0)                 # RBR: the first input byte
    lb      a2, 2(t0)                 # IIR 0x01 (nothing pending, no FIFOs)
    lhu     a3, 4(t0)                 # MCR as a halfword
    lw      a4, 4(t0)
    li      t1, 0x4F
    sb      t1, 0(t0)                 # "O"
    li      t1, 0x4B
    sh      t1, 0(t0)                 # "K"
    li      t1, 0x0A
    sw      t1, 0(t0)
    li      t1, 0x80
    sb      t1, 3(t0)                 # DLAB: registers 0 and 1 are the divisor
    li      t1, 0x55
    sb      t1, 0(t0)
    sb      t1, 1(t0)
    lbu     a5, 0(t0)
    sb      zero, 3(t0)
    sb      t1, 7(t0)                 # scratch register
    lbu     a6, 7(t0)
    lw      a7, 1(t0)                 # misaligned: load access fault
    amoswap.w a7, t1, (t0)            # AMO on a device: store/AMO access fault
    lr.w    a7, (t0)                  # load access fault
    jalr    ra, 0(t0)                 # fetch from a device: instruction access fault
    li      a7, 2                     # SBI legacy getchar: the same input queue
    ecall
    mv      s0, a0
    lbu     s1, 5(t0)
    lbu     s2, 0(t0)
    lbu     s3, 0(t0)                 # nothing left: 0
    li      a0, 1
    call    paging                    # and through a page table: the UART is not mapped
    li      t0, 0x10000000
    lbu     s4, 5(t0)
"""


def test_uart_emulated_by_decoding_the_faulting_access():
    program = kernel(UART, name="uart")
    hv = run_hv([program], inputs={"uart": b"xyz"})
    assert_equivalent(program, hv.guests[0], data=b"xyz")
    assert hv.guests[0].console.data == b"OK\n"
    assert hv.guests[0].stats.exits["mmio"].count >= 15


TIMER = """
    li      a0, 50
    call    timer_in                  # SIE = 0: pending, not taken
    li      t0, 200
1:  addi    t0, t0, -1
    bnez    t0, 1b
    csrr    a0, sip
    csrsi   sstatus, 2                # taken right after this instruction
    csrci   sstatus, 2
    li      a0, 37
    call    timer_in
    csrsi   sstatus, 2                # taken at the exact instruction
    li      t0, 100
1:  addi    t0, t0, -1
    bnez    t0, 1b
    csrci   sstatus, 2
    li      a0, 1000
    call    timer_in
    wfi                               # time jumps to the deadline; SIE = 0: not taken
    csrr    a1, sip
    rdtime  a2
    csrsi   sstatus, 2
    csrci   sstatus, 2
    li      a0, 20
    call    timer_in
    la      a0, user_code
    call    to_user                   # in U the interrupt is always enabled
    li      a0, 10
    call    timer_in
    la      t0, handler
    ori     t0, t0, 1                 # vectored: interrupts go to base + 4 * cause
    csrw    stvec, t0
    csrsi   sstatus, 2
    li      t0, 50
1:  addi    t0, t0, -1
    bnez    t0, 1b
    csrci   sstatus, 2
    la      t0, handler
    csrw    stvec, t0
    csrsi   sie, 2                    # software interrupt: SSIE
    csrsi   sip, 2
    csrsi   sstatus, 2                # SSIP taken now
    csrci   sstatus, 2
    li      a0, -1
    li      a1, -1
    li      a7, SBI_TIME
    li      a6, 0
    ecall                             # a timer that never comes
    csrr    a3, sip
"""
TIMER_USER = """
    li      t0, 200
1:  addi    t0, t0, -1
    bnez    t0, 1b
"""


def test_timer_interrupts_land_on_the_same_instruction_as_bare():
    program = kernel(TIMER, TIMER_USER, "timer")
    hv = run_hv([program])
    assert_equivalent(program, hv.guests[0])
    assert sum(hv.guests[0].stats.injected.values()) >= 5


def test_timer_equivalence_survives_tiny_quanta_and_neighbours():
    program = kernel(TIMER, TIMER_USER, "timer")
    other = kernel(TRAPS, TRAPS_USER, "traps")
    hv = run_hv([program, other, program], quantum=7)
    for prog, guest in zip([program, other, program], hv.guests):
        assert_equivalent(prog, guest)


def test_wfi_without_a_timer_stops_only_that_guest():
    dead = kernel("    wfi\n", name="dead")
    alive = kernel(TRAPS, TRAPS_USER, "traps")
    hv = run_hv([dead, alive])
    assert hv.guests[0].end.reason is EndReason.CRASH
    assert "WFI" in hv.guests[0].end.message
    assert hv.guests[1].end.reason is EndReason.SHUTDOWN


# ---- equivalence: hypothesis-generated S-mode programs ----

class Draws:
    """The kit's random-kernel choices (emu/labs/kit.py), drawn by hypothesis so
    that a failing kernel shrinks."""

    def __init__(self, draw):
        self.draw = draw

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def integer(self, low, high):
        return self.draw(st.integers(low, high))


@st.composite
def operation(draw) -> str:
    return kit.kernel_operation(Draws(draw))


@st.composite
def user_operation(draw) -> str:
    return kit.user_operation(Draws(draw))


RANDOM_LIMIT = 2_000_000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation(), min_size=1, max_size=25), st.lists(user_operation(), max_size=6),
       st.integers(1, 400))
@example(   # loops for ever, and refills shadow entries: the limit counts guest steps
    ops=["li t2, 2147491840\njalr ra, 0(t2)", "csrw scounteren, 6"],
    user_ops=["li t2, 0x40004000\nlw t1, 0(t2)"], quantum=193)
def test_random_s_mode_programs_equal_bare(ops, user_ops, quantum):
    program = kernel("\n".join(ops), "\n".join(user_ops) or "nop", "random")
    neighbour = kernel(TRAPS, TRAPS_USER, "traps")
    # A random program may loop for ever; both runs stop at the same limit then.
    alone = run_hv([program], max_insns=RANDOM_LIMIT)
    assert_equivalent(program, alone.guests[0], max_insns=RANDOM_LIMIT)
    if alone.guests[0].end.reason is EndReason.LIMIT:
        return      # beside another guest, the shared limit would cut it elsewhere
    beside = run_hv([neighbour, program], quantum=quantum)
    assert hv_state(beside.guests[1]) == hv_state(alone.guests[0])


# ---- resource control ----

def shadow_leaves(guest) -> list[tuple[int, int]]:
    """(host frame, size) of every leaf in the guest's shadow tables."""
    tables, leaves = shadow_contents(guest.pager)
    assert set(tables) <= set(guest.pager.frames)
    return [(leaf.frame, leaf.size) for leaf in leaves]


def assert_only_own_frames(guest) -> None:
    low, high = guest.ram.host_base, guest.ram.host_base + guest.ram.size
    for frame, size in shadow_leaves(guest):
        assert low <= frame and frame + size <= high, f"{guest.name} maps {frame:#x}"


def test_shadow_tables_map_only_the_guests_own_frames():
    programs = [kernel(PAGING, PAGING_USER, "paging"), kernel(UART, name="uart"),
                kernel(TRAPS, TRAPS_USER, "traps")]
    hv = run_hv(programs, quantum=50, mem=4 << 20)
    for guest in hv.guests:
        assert guest.pager.roots, "the check below must look at something"
        assert_only_own_frames(guest)


SCAN = """
    # Write a marker over all of this guest's RAM above the kernel, then read past
    # its end, physically and through a page table mapping beyond it.
    li      t0, 0x80010000
    li      t1, 0x81000000
    li      t2, 0x5A5A5A5A
1:  sw      t2, 0(t0)
    addi    t0, t0, 1024
    bltu    t0, t1, 1b
    li      t0, 0x81000000
    lw      a0, 0(t0)
    sw      t2, 0(t0)
    li      t0, 0x81400000
    sw      t2, 0(t0)
    li      a0, 1
    call    paging
    li      t0, 0x40005000            # the PTE points beyond RAM
    sw      t2, 0(t0)
"""


def test_no_guest_reaches_another_guests_memory():
    secret = kernel("""
    li      t0, 0x80020000
    li      t1, 0xC0FFEE
    sw      t1, 0(t0)
    """, name="secret")
    scanner = kernel(SCAN, name="scanner")
    hv = run_hv([secret, scanner, secret], quantum=100)
    assert hv.guests[0].ram.read(0x80020000, 4) == (0xC0FFEE).to_bytes(4, "little")
    # The scanner's stores beyond its RAM all faulted, and the others' RAM has no marker.
    faults = [c for c in hv.guests[1].stats.exits if "fault" in c or c == "exception"]
    assert faults
    for guest in (hv.guests[0], hv.guests[2]):
        assert b"\x5A\x5A\x5A\x5A" not in guest.ram.read(RAM_BASE, guest.ram.size)
        assert_equivalent(secret, guest)
    assert_equivalent(scanner, hv.guests[1])


def test_a_guest_that_spins_forever_does_not_keep_the_others_waiting():
    spin = load_program(GUESTS / "adv-spin" / "adv-spin.S")
    hello = load_program(GUESTS / "hello" / "hello.S")
    hv = run_hv([spin, hello, hello], quantum=10_000, max_insns=2_000_000)
    assert hv.guests[0].end.reason is EndReason.LIMIT
    for guest in hv.guests[1:]:
        assert guest.end.reason is EndReason.SHUTDOWN
        # each finished within a few rounds, not after the spinner's 2 million
        assert guest.hart.steps < 20_000
    assert_equivalent(hello, hv.guests[1])


@pytest.mark.parametrize("name", sorted(TOUCH_BOARD_DEVICES | {"adv-secret"}))
def test_adversarial_guests_are_contained(name):
    adversary = load_program(GUESTS / name / f"{name}.S")
    hello = load_program(GUESTS / "hello" / "hello.S")
    hv = run_hv([hello, adversary, hello], quantum=1000, max_insns=50_000_000)
    for guest in hv.guests:
        assert guest.end.reason is EndReason.SHUTDOWN, guest.end.message
        assert_only_own_frames(guest)
    assert_equivalent(hello, hv.guests[0])
    assert_equivalent(hello, hv.guests[2])


# ---- the scheduler ----

def switch_order(hv_factory) -> list[str]:
    order = []

    class Recording(Hypervisor):
        def switch_in(self, guest):
            order.append(guest.name)
            super().switch_in(guest)
    hv_factory(Recording)
    return order


def test_the_interleaving_is_the_same_every_run():
    programs = [kernel(TIMER, TIMER_USER, "timer"), kernel(TRAPS, TRAPS_USER, "traps"),
                kernel(PAGING, PAGING_USER, "paging")]
    runs = [switch_order(lambda cls: run_hv(programs, quantum=64, cls=cls)) for _ in range(2)]
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 3 and len(runs[0]) > 10


def test_shares_weight_the_slices():
    spin = kernel("1: j 1b", name="spin")
    configs_run = run_hv_shares([spin, spin], {"spin-2": 3})
    first, second = configs_run.guests
    assert second.hart.steps == pytest.approx(3 * first.hart.steps, rel=0.01)


def run_hv_shares(programs, shares):
    from emu.hv import GuestConfig
    configs = [GuestConfig("spin" if i == 0 else f"spin-{i + 1}", p, 4 << 20,
                           share=shares.get("spin" if i == 0 else f"spin-{i + 1}", 1))
               for i, p in enumerate(programs)]
    hv = Hypervisor(configs, quantum=1000, max_insns=400_000)
    hv.run()
    return hv


def test_blocked_guests_are_skipped_and_idle_time_is_skipped():
    sleeper = kernel("""
    li      a0, 5000000
    call    timer_in
    wfi
    """, name="sleeper")
    hv = run_hv([sleeper, sleeper], quantum=1000)
    assert all(g.end.reason is EndReason.SHUTDOWN for g in hv.guests)
    assert hv.idle > 4_000_000              # both asleep: the clock jumped
    assert hv.core.steps < 10_000           # ...without running anything
    assert_equivalent(sleeper, hv.guests[1])


# ---- crashes stay in their guest ----

def test_a_trap_loop_stops_only_that_guest():
    looping = kernel("""
    li      t0, 0x100
    csrw    stvec, t0                 # a vector where nothing is
    ebreak
    """, name="looping")
    fine = kernel(TRAPS, TRAPS_USER, "traps")
    hv = run_hv([looping, fine])
    assert hv.guests[0].end.reason is EndReason.CRASH
    assert "trap loop" in hv.guests[0].end.message
    assert hv.guests[1].end.reason is EndReason.SHUTDOWN


def test_a_python_error_in_a_handler_stops_only_that_guest():
    class Broken(Hypervisor):
        def emulate_sret(self, guest, trap, ops):
            if guest.name == "traps":
                raise ZeroDivisionError("student bug")
            return super().emulate_sret(guest, trap, ops)
    traps, timer = kernel(TRAPS, TRAPS_USER, "traps"), kernel(TIMER, TIMER_USER, "timer")
    hv = run_hv([traps, timer], cls=Broken, quantum=100)
    assert hv.guests[0].end.reason is EndReason.CRASH
    assert "ZeroDivisionError: student bug" in hv.guests[0].end.message
    assert hv.guests[0].state is GuestState.STOPPED
    assert_equivalent(timer, hv.guests[1])


# ---- extension points ----

def test_a_subclass_adds_an_sbi_extension_and_overrides_a_handler():
    class Extended(Hypervisor):
        def sbi(self, guest, eid, fid, args):
            if eid == 0x0A000000:                       # a student's extension
                return 0, args[0] * 2
            return super().sbi(guest, eid, fid, args)

        def emulate_wfi(self, guest, trap, ops):
            self.wfis = getattr(self, "wfis", 0) + 1
            return Action(Outcome.NEXT, "wfi (student)")
    program = kernel("""
    li      a0, 21
    li      a7, 0x0A000000
    li      a6, 0
    ecall
    mv      s0, a1
    wfi
    """, name="ext")
    hv = run_hv([program], cls=Extended)
    guest = hv.guests[0]
    assert guest.x[8] == 42 and hv.wfis == 1
    assert "wfi (student)" in guest.stats.exits


# ---- efficiency ----

def test_a_compute_bound_guest_runs_over_99_percent_natively():
    program = kernel("""
    li      t0, 300000
1:  addi    t0, t0, -1
    bnez    t0, 1b
    """, name="compute")
    guest = run_hv([program]).guests[0]
    assert guest.stats.native(guest.hart.steps) / guest.hart.steps > 0.99
    assert_equivalent(program, guest)


def test_the_kernel_helpers_assemble():
    assert assemble(KERNEL.replace("{main}", "").replace("{user}", "nop")).entry == RAM_BASE
