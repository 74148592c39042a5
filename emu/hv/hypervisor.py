"""The hypervisor: several S-mode guest kernels on one core, by trap and emulate
(docs/hypervisor.md; mit-pdos/RVirt is the nearest design).

The core runs with M-mode owned by the host (`set_host_mmode`): every trap of a
guest, which runs in real U-mode, ends `core.run` with an exit. The exit loop is

    pick a guest  ->  switch it in (registers, shadow satp)
        -> deliver its due timer interrupt, if enabled
        -> core.run(budget: to the end of its slice, or to its timer deadline)
        -> handle the exit (emulate.py) and apply the outcome, in one place
    -> switch it out when its slice is spent, it blocks in WFI, or it stops.

Nothing here runs per guest instruction: Python runs per exit.

The loop is a generator (`execute`) so that a debugger can pause it where it is
and resume it later (`emu hv --debug`, emu/debug/hvtarget.py): with a `monitor`
set, the loop asks it, at a few points, whether to pause (before an interrupt is
delivered, before each run of the core, before an exit is handled, after it
was, and when a guest leaves the hart) and yields what it answers. Without one,
`run` drains the generator, which never yields."""
from __future__ import annotations

import enum
import struct
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, NamedTuple, Sequence

from emu.core import RAM_BASE, Core, Exit, Priv, ffi, lib
from emu.devicetree import Board, devices_at, for_program
from emu.disasm import disassemble
from emu.elf import Program
from emu.errors import ConfigError, CoreError, ProgramError, describe_error
from emu.devices import Device, RamAccess
from emu.devices.disk import Disk
from emu.devices.plic import Plic
from emu.devices.uart import Uart
from emu.devices.virtio import LEGACY, SLOT_COUNT, disk_slots, slot_base
from emu.hv.emulate import Action, ExitHandlers, Outcome, Trap, describe
from emu.hv.memory import MEGAPAGE, PAGE_SIZE, GuestRam, ShadowPager
from emu.hv.scheduler import RoundRobin
from emu.hv.stats import GuestStats
from emu.hv.vcpu import VirtualHart
from emu.isa import CSRS, INTERRUPT_BIT, cause_name, trap_loop_message

DEFAULT_GUEST_RAM = 16 << 20
DEFAULT_QUANTUM = 100_000
STRETCH = 64                    # slices a guest alone runs at once (see _stretch)
DEFAULT_SHADOW_PAGES = 64       # per guest: 256 KiB of shadow tables at most
TRAP_LOOP_LIMIT = 16            # as the core's (csrc/hart.h)
RETRY_LIMIT = 8                 # shadow fills at one pc with no progress: a hypervisor bug
HOST_RAM_MAX = 0x8000_0000
RFENCE_PAGES = 64               # an SBI remote_sfence_vma range larger than this drops all
EXIT_LOG = 256                  # per guest: the last exits, kept while a debugger watches
A0, A1 = 10, 11
_HART = struct.Struct("<34I")   # struct emu_hart: x[32], pc, priv


class GuestState(enum.Enum):
    RUNNABLE = "runnable"
    BLOCKED = "blocked in WFI"
    STOPPED = "stopped"


class EndReason(enum.Enum):
    SHUTDOWN = "shutdown"       # the guest shut down through the SBI
    CRASH = "crash"             # stopped by the hypervisor: a trap loop, a dead WFI, an error
    LIMIT = "limit"             # --max-insns was reached while it ran


@dataclass
class GuestEnd:
    reason: EndReason
    status: int = 0
    message: str = ""


class ExitRecord(NamedTuple):
    """One exit (or injected interrupt: action None) of a guest, as the debugger's
    history shows it: the host clock and the guest's own instruction count when it
    happened. A tuple, made on every exit: it must cost next to nothing."""
    clock: int
    steps: int
    trap: Trap
    action: Action | None

    pc = property(lambda self: self.trap.pc)
    cause = property(lambda self: self.trap.cause)
    tval = property(lambda self: self.trap.tval)
    insn = property(lambda self: self.trap.insn)
    reason = property(lambda self: self.action.reason if self.action else "interrupt")
    outcome = property(lambda self: outcome_text(self.action) if self.action else "injected")


@dataclass
class GuestConfig:
    """One guest, declared (Bao's config.c): its name, kernel image, RAM, share,
    console input, and its device tree: `dtb` if given, else one built for it
    with `bootargs` as the kernel's command line."""
    name: str
    program: Program
    mem: int = DEFAULT_GUEST_RAM
    share: int = 1
    input: bytes = b""
    bootargs: str = ""
    dtb: bytes | None = None
    disks: tuple[Disk, ...] = ()
    virtio: int = LEGACY


class GuestConsole:
    """A guest's console: kept whole (for tests and --json), written raw to its log,
    and to the shared output line by line, each line prefixed `[NAME] `.

    `shown` is for the debugger, which goes back in time by running the past again
    on a fresh hypervisor (emu/debug/hvtarget.py): the first `shown` bytes were
    already shown, to the output and the log, by the run it replaced, so they are
    not shown twice (runs are deterministic: they are the same bytes)."""

    def __init__(self, name: str, out: BinaryIO | None, log: BinaryIO | None = None):
        self.prefix = f"[{name}] ".encode()
        self.out, self.log = out, log
        self.data = bytearray()
        self.shown = 0
        self._line = bytearray()

    def write(self, data: bytes) -> None:
        start = len(self.data)
        self.data += data
        if self.log:
            self.log.write(data[max(0, self.shown - start):])
        self._line += data
        while b"\n" in self._line:
            line, _, rest = self._line.partition(b"\n")
            self._line = bytearray(rest)
            if len(self.data) - len(rest) > self.shown:    # the line ends past what was shown
                self._emit(line)

    def _emit(self, line: bytes) -> None:
        if self.out:
            self.out.write(self.prefix + line + b"\n")
            self.out.flush()

    def close(self) -> None:
        if self._line and len(self.data) > self.shown:
            self._emit(bytes(self._line))
            self._line.clear()
        if self.log:
            self.log.close()


UART_IRQ = lib.EMU_UART_IRQ
# Where the devices every guest has sit (Guest.devices; a subclass may add more):
# the UART, the PLIC and the virtio slots.
GUEST_DEVICE_BASES = (Uart.base, Plic.base, *(slot_base(n) for n in range(SLOT_COUNT)))


def guest_board(mem: int, bootargs: str = "", bases: Iterable[int] = GUEST_DEVICE_BASES) -> Board:
    """A guest's machine as its device tree describes it: its own RAM and the
    devices it has, at guest-physical addresses (the board's addresses)."""
    names, slots = devices_at(bases)
    return Board(RAM_BASE, mem, bootargs=bootargs, devices=names, virtio_slots=slots)


class Guest:
    """One virtual machine: its virtual hart, RAM, shadow tables, devices and
    statistics. It is the SbiPlatform its SBI calls run on (emu/sbi.py)."""

    def __init__(self, config: GuestConfig, ram: GuestRam, pager: ShadowPager,
                 console: GuestConsole):
        self.config, self.name = config, config.name
        self.hart = VirtualHart()
        self.ram, self.pager, self.console = ram, pager, console
        # Its own PLIC: context 0 (M-mode) drives nothing, a guest has no M-mode;
        # context 1 is its virtual SEIP.
        self.plic = Plic([lambda raised: None, self._external],
                         sample={UART_IRQ: lambda: self.uart.raised})
        self.uart = Uart(console.write, config.input,
                         lambda raised: self.plic.set_level(UART_IRQ, raised))
        memory = RamAccess(ram.read, ram.write)
        self.devices: list[Device] = [self.uart, self.plic,
                                      *disk_slots(config.disks, memory, self.plic, config.virtio)]
        pager.devices = self.devices
        self.stats = GuestStats()
        self.exit_log: deque[ExitRecord] = deque(maxlen=EXIT_LOG)
        self.state = GuestState.RUNNABLE
        self.end: GuestEnd | None = None
        self.wake_at = 0                # BLOCKED: the host clock at which it runs again
        self.blocked_for = 0            # set by WFI: host instructions to sleep
        # (cause, pc, instructions retired, repeats) of the last exception reflected,
        # and ((pc, steps), repeats) of the last shadow fill: loop detection.
        self.last_exception: tuple = (None, 0, 0, 0, 0)
        self.returned_to: tuple = (None, 0)   # (pc, retired) just after its last SRET
        self._retries: tuple = (None, 0)
        self.device_tree = b""          # the blob placed in its RAM, at dtb_address
        self.dtb_address = 0

    @property
    def board(self) -> Board:
        """The guest's machine as its device tree describes it."""
        return guest_board(self.ram.size, self.config.bootargs,
                           [device.base for device in self.devices])

    # ---- loading, as Machine.load and Firmware.boot do for --boot s

    def load(self, program: Program) -> None:
        top = RAM_BASE + self.ram.size
        for seg in program.segments:
            if not RAM_BASE <= seg.paddr <= seg.paddr + seg.memsz <= top:
                raise ProgramError(
                    f"{program.path}: a segment at {seg.paddr:#x}-{seg.paddr + seg.memsz:#x} "
                    f"lies outside the guest's RAM ({RAM_BASE:#x}-{top:#x})")
            self.ram.write(seg.paddr, seg.data + bytes(seg.memsz - len(seg.data)))
        if not RAM_BASE <= program.entry < top:
            raise ProgramError(f"{program.path}: its entry point {program.entry:#x} is not "
                               f"in the guest's RAM ({RAM_BASE:#x}-{top:#x})")
        self.device_tree, self.dtb_address = for_program(self.board, self.config.dtb,
                                                         program.segments)
        self.ram.write(self.dtb_address, self.device_tree)
        # S-mode at the entry, a0 = hart id 0, a1 = the device tree, satp = 0.
        x = [0] * 32
        x[A1] = self.dtb_address
        self.hart.saved = _HART.pack(*x, program.entry, int(Priv.U))

    # ---- guest-visible state, while the guest is switched out

    @property
    def x(self) -> list[int]:
        return list(_HART.unpack(self.hart.saved)[:32])

    @property
    def pc(self) -> int:
        return _HART.unpack(self.hart.saved)[32]

    def csr(self, name: str) -> int:
        """A guest CSR as the guest would read it now (counters included)."""
        number = CSRS[name]
        if number & ~0x83 == 0xC00:
            return self.hart.counter(number, self.hart.steps, self.hart.retired)
        value = self.hart.csr_read(number)
        if value is None:
            raise KeyError(f"{name} is not a guest CSR")
        return value

    def _external(self, raised: bool) -> None:
        self.hart.seip = raised

    def device_at(self, gpa: int) -> Device | None:
        for device in self.devices:
            if device.base <= gpa < device.base + device.size:
                return device
        return None

    @property
    def runnable(self) -> bool:
        return self.state is GuestState.RUNNABLE

    def stop(self, end: GuestEnd) -> None:
        if self.end is None:
            self.end = end
        self.state = GuestState.STOPPED

    # ---- SbiPlatform

    def console_write(self, data: bytes) -> None:
        self.console.write(data)

    def console_read(self, limit: int) -> bytes:
        return self.uart.take_input(limit)

    def read_memory(self, addr: int, size: int) -> bytes | None:
        return self.ram.read(addr, size)

    def write_memory(self, addr: int, data: bytes) -> bool:
        return self.ram.write(addr, data)

    def set_timer(self, deadline: int) -> None:
        self.hart.set_timer(deadline)

    def shutdown(self, status: int, why: str) -> None:
        self.stop(GuestEnd(EndReason.SHUTDOWN, status, why))

    def send_ipi(self) -> None:
        self.hart.ssip = True

    def sfence_vma(self, start: int, size: int) -> None:
        """Drop the shadows of the range, as the guest's SFENCE.VMA of each page
        would (emulate_sfence_vma); all of them for a large range or size 0."""
        if size == 0 or size > RFENCE_PAGES * PAGE_SIZE:
            self.pager.flush()
            return
        for page in range(start & -PAGE_SIZE, start + size, PAGE_SIZE):
            self.pager.flush_address(page & 0xFFFF_FFFF)

    def stop_hart(self, why: str) -> None:
        self.stop(GuestEnd(EndReason.CRASH, message=why))


class Hypervisor(ExitHandlers):
    """The hypervisor. Coursework replaces parts by subclassing (docs/hypervisor.md):
    the exit handlers (emulate.py's methods), `enter_trap`, `sbi`, `pager_class`
    (shadow paging policy), `scheduler_class`, and `shadow_pages`."""
    pager_class = ShadowPager
    scheduler_class = RoundRobin
    shadow_pages = DEFAULT_SHADOW_PAGES

    def __init__(self, configs: Sequence[GuestConfig], quantum: int = DEFAULT_QUANTUM,
                 max_insns: int | None = None, out: BinaryIO | None = None,
                 console_dir: Path | None = None,
                 trace: Callable[[str], None] | None = None):
        if not configs:
            raise ConfigError("no guests to run")
        self.configs, self.quantum, self.max_insns = list(configs), quantum, max_insns
        self.trace = trace
        self.scheduler = self.scheduler_class(quantum)
        self.idle = 0                   # host instructions skipped with every guest blocked
        self._active: tuple | None = None
        self.on_hart: Guest | None = None   # the guest switched in, if any
        self.monitor = None             # a debugger (emu/debug/hvtarget.py), or None
        self._build_handler_tables()
        self.core = self._make_core(configs)
        self.guests = self._make_guests(configs, out, console_dir)

    # ---- setting up: one core, every guest's RAM and shadow pool carved from it

    def _layout(self, configs: Sequence[GuestConfig]) -> tuple[list[int], list[int], int]:
        """Host-physical bases of each guest's RAM (4 MiB aligned, so that megapages
        can map it) and of each guest's shadow pool; the host RAM size."""
        bases, next_base = [], RAM_BASE
        for config in configs:
            bases.append(next_base)
            next_base += -(-config.mem // MEGAPAGE) * MEGAPAGE
        pool_size = self.shadow_pages * PAGE_SIZE
        pools = [next_base + i * pool_size for i in range(len(configs))]
        total = next_base + len(configs) * pool_size - RAM_BASE
        if total > HOST_RAM_MAX:
            raise ConfigError(f"the guests need {total >> 20} MiB of host RAM in all; "
                              f"the core has at most {HOST_RAM_MAX >> 20} MiB")
        return bases, pools, total

    def _make_core(self, configs: Sequence[GuestConfig]) -> Core:
        self._bases, self._pools, total = self._layout(configs)
        core = Core(total)
        core.set_host_mmode(True)
        # Below M nothing is delegated and nothing enabled: every trap exits to us.
        # mcounteren = 0 makes the guests' counter reads trap, so they can be virtual.
        for name in ("medeleg", "mideleg", "mie", "mcounteren", "mstatus"):
            core.csr_write(CSRS[name], 0)
        core.priv = Priv.U
        return core

    def _make_guests(self, configs, out, console_dir) -> list[Guest]:
        guests = []
        for config, base, pool in zip(configs, self._bases, self._pools):
            log = None
            if console_dir is not None:
                try:
                    log = open(Path(console_dir) / f"{config.name}.log", "wb")
                except OSError as error:
                    raise ConfigError(f"cannot write {config.name}.log in {console_dir}: "
                                      f"{error.strerror}") from None
            ram = GuestRam(self.core, base, config.mem)
            guest = Guest(config, ram, self.pager_class(self.core, ram, pool, self.shadow_pages),
                          GuestConsole(config.name, out, log))
            guest.load(config.program)
            guests.append(guest)
        return guests

    def guest(self, name: str) -> Guest:
        return next(g for g in self.guests if g.name == name)

    def fresh(self) -> Hypervisor:
        """A new hypervisor of the same class, guests and options, at the start and
        silent (no output, log or trace): the debugger runs the past again on it.
        A subclass whose __init__ takes other arguments overrides this."""
        return type(self)(self.configs, quantum=self.quantum, max_insns=self.max_insns)

    # ---- the run

    @property
    def clock(self) -> int:
        """Host time: instructions the core executed, plus idle time skipped."""
        return self.core.steps + self.idle

    @property
    def guest_steps(self) -> int:
        """Instructions the guests executed, as their own clocks count them: host
        steps that only refilled a shadow entry are not theirs (--max-insns)."""
        return sum(guest.hart.steps for guest in self.guests)

    def run(self) -> None:
        """Run until every guest has stopped, or max_insns instructions in all."""
        for _ in self.execute():
            pass

    def execute(self) -> Iterator:
        """The run, as a generator: it yields only what a monitor asks to pause
        with (see the module's docstring), and ends when the run is over."""
        try:
            while True:
                live = self._live()
                if not live:
                    break
                left = None if self.max_insns is None else self.max_insns - self.guest_steps
                if left is not None and left <= 0:
                    for guest in live:
                        guest.stop(GuestEnd(EndReason.LIMIT, message=(
                            f"stopped after {self.max_insns} instructions in all (--max-insns)")))
                    break
                choice = self.scheduler.pick(live)
                if choice is None:
                    self.idle = min(g.wake_at for g in live) - self.core.steps
                    continue
                guest, budget = choice
                budget = self._stretch(guest, budget, live)
                yield from self.run_guest(guest, budget if left is None else min(budget, left))
                if self.monitor:
                    yield from self.monitor.pauses(guest, "descheduled")
        finally:
            for guest in self.guests:
                guest.stats.shadow_recycles = guest.pager.recycles
                guest.console.close()

    def _stretch(self, guest: Guest, budget: int, live: list[Guest]) -> int:
        """While no other guest can run, the scheduler would only give the same
        guest slice after slice: run up to STRETCH of them at once, to the first
        slice boundary at which a blocked guest has woken. The interleaving is
        the same; what is saved is the trip from the core through Python between
        slices, which also costs the guest the host caches and branch
        predictions it had warmed."""
        runnable = GuestState.RUNNABLE
        if any(g.state is runnable and g is not guest for g in live):
            return budget
        slices = STRETCH
        wakes = [g.wake_at for g in live if g is not guest]
        if wakes:
            until_wake = min(wakes) - self.clock
            slices = min(slices, max(1, -(-until_wake // budget)))
        return budget * slices

    def _live(self) -> list[Guest]:
        """The guests that have not stopped; a blocked one whose wake-up time has
        come is runnable again."""
        now, live = self.clock, []
        stopped, blocked, runnable = GuestState.STOPPED, GuestState.BLOCKED, GuestState.RUNNABLE
        for guest in self.guests:
            state = guest.state
            if state is stopped:
                continue
            if state is blocked and now >= guest.wake_at:
                guest.state = runnable
            live.append(guest)
        return live

    def run_guest(self, guest: Guest, budget: int) -> Iterator:
        """Run one guest for up to budget host instructions (a generator, see
        execute); returns those used."""
        core, hart, monitor = self.core, guest.hart, self.monitor
        # Enum members bound once: Python 3.11 takes 0.1 us for each lookup of one.
        runnable, budget_spent, trapped = GuestState.RUNNABLE, Exit.BUDGET, Exit.TRAP
        self.switch_in(guest)
        self.on_hart = guest
        start = now = core.steps
        end = start + budget
        while guest.state is runnable:
            if monitor:
                yield from monitor.pauses(guest, "interrupt")
            self.deliver_interrupts(guest)
            self.activate_shadow(guest)
            run_for = end - now
            if run_for <= 0:
                break
            if hart.armed:
                run_for = min(run_for, hart.deadline - hart.time)
            if monitor:
                yield from monitor.pauses(guest, "run")
                run_for = min(run_for, monitor.limit(guest))
            reason = core.run(run_for)
            ran, now = core.steps - now, core.steps
            hart.steps += ran
            # Nothing is delegated, so an exception always ends the run: only the
            # last instruction can have trapped instead of retiring.
            hart.retired += ran - (reason is trapped)
            if monitor and reason is not budget_spent:
                yield from monitor.pauses(guest, "exit", reason)
                if reason in (Exit.BREAKPOINT, Exit.WATCH):     # the debugger's
                    continue
            if reason is not budget_spent:
                self.exit(guest, reason)
                if monitor:
                    yield from monitor.pauses(guest, "handled", reason)
        self.switch_out(guest)
        self.on_hart = None
        return now - start

    def switch_in(self, guest: Guest) -> None:
        started = time.perf_counter_ns()
        ffi.buffer(self.core.hart)[:] = guest.hart.saved
        guest.stats.switches += 1
        guest.stats.switch_ns += time.perf_counter_ns() - started

    def switch_out(self, guest: Guest) -> None:
        guest.hart.saved = bytes(ffi.buffer(self.core.hart))

    def activate_shadow(self, guest: Guest) -> None:
        """Point the real satp at the shadow for the guest's context. Writing satp
        flushes the core's TLB: needed after another guest ran and after shadows were
        dropped, but not when a guest comes back to a hart no one else used."""
        satp = guest.pager.satp_for(guest.hart)
        key = (guest, satp, guest.pager.generation)
        if key != self._active:
            self.core.csr_write(CSRS["satp"], satp)
            self._active = key

    def deliver_interrupts(self, guest: Guest) -> None:
        """Before the guest's next instruction, as the bare board checks interrupts:
        an armed deadline that has passed makes the timer pending, and a pending
        interrupt the guest has enabled is taken."""
        hart = guest.hart
        hart.fire_timer()
        cause = hart.pending_interrupt()
        if cause:
            pc = self.core.pc
            self.core.pc = self.enter_trap(guest, cause, 0, pc)
            guest.stats.injected[cause_name(cause)] += 1
            if self.monitor:
                guest.exit_log.append(ExitRecord(self.clock, hart.steps, Trap(cause, 0, pc, 0),
                                                 None))
            if self.trace:
                self.trace(f"[{guest.name}] {pc:08x}: -- {cause_name(cause)} injected, "
                           f"to {self.core.pc:08x}")

    def enter_trap(self, guest: Guest, cause: int, tval: int, pc: int) -> int:
        """Deliver a trap (an exception the guest receives, or an interrupt) into
        the guest kernel, as the hardware's trap entry does on the virtual CSRs;
        returns the pc to continue at. Every injected trap comes through here."""
        return guest.hart.enter_trap(cause, tval, pc)

    # ---- one exit

    def exit(self, guest: Guest, reason: Exit) -> None:
        started = time.perf_counter_ns()
        e = self.core.exit
        trap = Trap(e.cause, e.tval, e.pc, e.insn)
        if reason is not Exit.TRAP or trap.cause & INTERRUPT_BIT:
            action = Action(Outcome.STOP, "unexpected exit", message=(
                f"unexpected exit from the core: {reason.name} at pc {e.pc:#010x}"))
        else:
            try:
                action = self.handle_trap(guest, trap)
            except (Exception, CoreError) as error:     # a bug in a handler stops one guest
                action = Action(Outcome.STOP, "hypervisor error", message=(
                    f"the hypervisor failed handling {cause_name(trap.cause)} at pc "
                    f"{trap.pc:#010x}: {describe_error(error)}"))
        self.apply(guest, trap, action)
        if self.monitor:            # the debugger's history; nothing to pay without one
            guest.exit_log.append(ExitRecord(self.clock, guest.hart.steps, trap, action))
        if self.trace:
            self._trace_exit(guest, trap, action)
        guest.stats.record(action.reason, describe(trap.insn) if trap.insn else None,
                           time.perf_counter_ns() - started,
                           action.outcome is not Outcome.RETRY)

    def apply(self, guest: Guest, trap: Trap, action: Action) -> None:
        """The one place an outcome changes the guest: pc, its counters, its state."""
        core, hart, outcome = self.core, guest.hart, action.outcome
        if outcome is Outcome.NEXT:
            hart.retired += 1
            core.pc = trap.pc + 4
        elif outcome is Outcome.JUMP:
            hart.retired += 1
            core.pc = action.target
            if action.reason == "sret":
                guest.returned_to = (core.pc, hart.retired)
        elif outcome is Outcome.FIRMWARE:
            core.pc = trap.pc + 4
        elif outcome is Outcome.RETRY:
            hart.steps -= 1             # the guest never executed anything
            self._check_retries(guest, trap)
        elif outcome is Outcome.INJECT:
            self._check_trap_loop(guest, trap, action)
            if guest.state is not GuestState.STOPPED:
                core.pc = self.enter_trap(guest, action.cause, action.tval, trap.pc)
        else:
            hart.steps -= 1             # it never completed: the bare board stops before it
            guest.stop(GuestEnd(EndReason.CRASH, message=action.message))
        if guest.blocked_for and guest.state is GuestState.RUNNABLE:
            guest.state = GuestState.BLOCKED
            guest.wake_at = self.clock + guest.blocked_for
        guest.blocked_for = 0

    def _check_trap_loop(self, guest: Guest, trap: Trap, action: Action) -> None:
        """The same exception (cause, pc, tval) over and over with no progress in
        between, as the core detects it on the bare board (csrc/trap.c): nothing
        retired (the guest's trap vector is broken), or only its handler ran and
        returned to the faulting instruction. Stop the guest rather than spin."""
        cause, pc, tval, retired = action.cause, trap.pc, action.tval, guest.hart.retired
        last_cause, last_pc, last_tval, last_retired, repeats = guest.last_exception
        returned = (pc, retired) == guest.returned_to
        stuck = retired == last_retired or returned
        repeats = repeats + 1 if (cause, pc, tval) == (last_cause, last_pc, last_tval) and stuck \
            else 1
        guest.last_exception = (cause, pc, tval, retired, repeats)
        if repeats >= TRAP_LOOP_LIMIT:
            guest.stop(GuestEnd(EndReason.CRASH, message=trap_loop_message(
                cause, pc, tval, "stvec", retired != last_retired)))

    def _check_retries(self, guest: Guest, trap: Trap) -> None:
        key = (trap.pc, guest.hart.steps)
        count = guest._retries[1] + 1 if guest._retries[0] == key else 1
        guest._retries = (key, count)
        if count > RETRY_LIMIT:
            guest.stop(GuestEnd(EndReason.CRASH, message=(
                f"the hypervisor cannot resolve {cause_name(trap.cause)} at pc {trap.pc:#010x} "
                f"(tval {trap.tval:#x}): its shadow fills make no progress")))

    def _trace_exit(self, guest: Guest, trap: Trap, action: Action) -> None:
        text = disassemble(trap.insn, trap.pc, guest.config.program.labels) \
            if trap.insn else "(no instruction)"
        did = outcome_text(action)
        self.trace(f"[{guest.name}] {trap.pc:08x}: {text:<30} {cause_name(trap.cause)}"
                   f" (tval {trap.tval:#x}) -> {action.reason}: {did}")


def outcome_text(action: Action) -> str:
    """What the hypervisor did, as --trace-exits and the debugger say it."""
    did = action.outcome.value
    if action.outcome is Outcome.INJECT:
        did += f" {cause_name(action.cause)}, stval {action.tval:#x}"
    elif action.outcome is Outcome.STOP:
        did += f": {action.message}"
    return did
