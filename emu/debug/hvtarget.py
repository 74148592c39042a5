"""The hypervisor as the debugger's target (`emu hv --debug`, `emu hv --gdb`).

The Session (session.py) debugs whichever guest is in *focus*: its registers (in
the core while it is on the hart, in its saved vCPU state while not), its
virtual privilege and S-mode CSRs (the real ones beside them), its memory
(guest-virtual through the guest's own page table, walked without setting A or
D; guest-physical is its RAM). `guest NAME` moves the focus; a stop in another
guest moves it there, as gdb switches threads.

Running is the hypervisor's own exit loop, paused. The HvTarget is the loop's
monitor (Hypervisor.monitor): at each point the loop offers (before an
interrupt is injected, before each run of the core, after the core stops and
before the exit is handled, after it was handled, when a guest leaves the hart)
it decides from the current plan (step N instructions of the focused guest,
continue, until ADDR, finish) and the session's breakpoints and catchpoints
whether to pause there. A caught exit stops *before* the hypervisor handles it;
the next step lets it and shows what it did, as the difference in the guest's
registers and virtual CSRs. Nothing here copies the loop, and a pause leaves
the guest on the hart exactly where it was.

Watchpoints are the core's, on the host-physical addresses of the focused guest's
RAM: only that guest's loads and stores reach them.

Going back in time. The hypervisor's state is Python objects (virtual harts,
shadow pagers, the scheduler, consoles, statistics) as much as the core's bytes,
so it is not saved: runs are deterministic, so the past is run again. A place in
the run is a Position: the host clock, which only moves forward, and the loop's
pause point there, with its guest. Going back builds a fresh hypervisor
(Hypervisor.fresh: same class, guests, inputs and options), runs it from the
start with the session's breakpoints and watchpoints in its core but every stop
ignored, until a Seek says it is there (ToSteps: where `step` would have stopped
with the focused guest at that instruction count; ToPosition: a place), its
`limit` cutting core runs so that the place is a pause point; then the fresh
hypervisor takes the old one's place (_swap). reverse-continue first runs the
past once to find the last stop before now (LastStop), then goes there. Changes
made by hand are recorded with their Position and made again (_edit). The cost
is the time the run from the start took, and a second hypervisor's memory while
the past runs again; the past's console output is not shown twice
(GuestConsole.shown)."""
from __future__ import annotations

from dataclasses import dataclass

from emu.core import Access, Exit, Priv
from emu.debug.session import DebugError, Event, Why
from emu.disasm import disassemble
from emu.hv.emulate import Trap
from emu.hv.hypervisor import _HART, GuestState, Hypervisor
from emu.hv.vcpu import SATP_SV32
from emu.isa import CSRS, INTERRUPT_BIT, cause_name

CHUNK = 1 << 18             # host instructions between looks at Ctrl-C
VIRTUAL_CSRS = ("sstatus", "sie", "sip", "stvec", "scounteren", "sscratch", "sepc", "scause",
                "stval", "satp")
KEY_CSRS = ("sstatus", "sie", "sip", "stvec", "sepc", "scause", "stval", "sscratch", "satp")


@dataclass
class PendingExit:
    """A VM exit (or an interrupt about to be injected) caught before the
    hypervisor handled it."""
    guest: str
    reason: str                 # as the standard handlers will count it
    cause: int
    tval: int
    pc: int
    insn: int
    priv: Priv                  # the guest's virtual privilege

    @property
    def is_interrupt(self) -> bool:
        return bool(self.cause & INTERRUPT_BIT)


@dataclass
class Plan:
    """What the current step, continue, until or finish waits for."""
    steps: int | None = None            # the focused guest's instruction count to reach
    until: int | None = None
    finish: bool = False
    depth: int = 0                      # finish: traps entered since it began
    handled: PendingExit | None = None  # stop once the hypervisor handled this exit
    interrupt: object = None            # asked between runs: stop (Ctrl-C, gdb's ^C)?
    origin: tuple | None = None         # (guest, steps, pc) where the run resumed


@dataclass(frozen=True)
class Position:
    """A place in the hypervisor's run where the debugger can stand: the host
    clock, the loop's pause point there, and the guest it is about. Runs are
    deterministic and the clock only moves forward, so it names one state."""
    clock: int
    point: str                  # a pause point (Hypervisor.execute), or start, end
    guest: str = ""


START = Position(0, "start")


class Seek:
    """Where a replay (a fresh hypervisor running the past again, every stop
    ignored) pauses; `limit` makes the core stop exactly there."""

    def limit(self, target: HvTarget, guest) -> int:
        return CHUNK

    def reached(self, target: HvTarget, guest, point: str, reason) -> bool:
        raise NotImplementedError


class ToSteps(Seek):
    """Where `step` to the guest's instruction count `steps` would stop: the first
    time the guest has executed that many, before the next one (a due interrupt
    already delivered), or as it leaves the hart with that many."""

    def __init__(self, guest: str, steps: int):
        self.guest, self.steps = guest, steps

    def limit(self, target, guest) -> int:
        return max(1, self.steps - guest.hart.steps) if guest.name == self.guest else CHUNK

    def reached(self, target, guest, point, reason) -> bool:
        return point in ("run", "descheduled") and guest.name == self.guest and \
            guest.hart.steps >= self.steps


class ToPosition(Seek):
    def __init__(self, position: Position):
        self.position = position

    def limit(self, target, guest) -> int:
        return max(1, min(CHUNK, self.position.clock - target.hv.clock))

    def reached(self, target, guest, point, reason) -> bool:
        if target.hv.clock > self.position.clock:
            raise DebugError("going back went past its goal: the run did not repeat itself "
                             "(is the hypervisor deterministic?)")
        return Position(target.hv.clock, point, guest.name) == self.position


class LastStop(ToPosition):
    """Runs to `position` (now), noting the last stop a `continue` would have made
    on the way: a breakpoint, a watchpoint or a catchpoint."""

    def __init__(self, position: Position):
        super().__init__(position)
        self.found: tuple[Position, str, int] | None = None

    def reached(self, target, guest, point, reason) -> bool:
        clock = target.hv.clock
        if clock > self.position.clock or super().reached(target, guest, point, reason):
            return True
        stop = target.stop_here(guest, point, reason)
        if stop is not None:
            self.found = (Position(clock, point, guest.name), *stop)
        return False


@dataclass
class Snapshot:
    pc: int
    priv: Priv
    regs: list[int]
    csrs: dict[str, int]


def _set_register(hv: Hypervisor, guest, number: int, value: int) -> None:
    """x1-x31, or pc (32), of a guest, in the core while it is on the hart."""
    if guest is hv.on_hart:
        if number == 32:
            hv.core.pc = value
        else:
            hv.core.x[number] = value
        return
    values = list(_HART.unpack(guest.hart.saved))
    values[number] = value
    guest.hart.saved = _HART.pack(*values)


class HvTarget:
    hypervised = True
    key_csrs = KEY_CSRS

    def __init__(self, hv: Hypervisor):
        self.hv, self.core = hv, hv.core
        hv.monitor = self
        self.focus = hv.guests[0]
        self.session = None
        self.plan = Plan()
        self.pending: PendingExit | None = None
        self._before: Snapshot | None = None
        self._ended: set[str] = set()
        self._loop = hv.execute()
        self.here = START               # where the last stop was
        self.seek: Seek | None = None   # while the past runs again: where it pauses
        self.edits: list[tuple[Position, object]] = []     # see _edit
        self._redo: list[tuple[Position, object]] = []     # a replay's edits to come

    def attach(self, session) -> None:
        self.session = session

    def close(self) -> None:
        """End the hypervisor's loop (its consoles flush their last lines), with
        the guest on the hart switched out: its saved registers are then current
        (for --json)."""
        if self.hv.on_hart is not None:
            self.hv.switch_out(self.hv.on_hart)
        self._loop.close()

    # ---- guests and the focus

    def guest(self, name: str):
        for guest in self.hv.guests:
            if guest.name == name:
                return guest
        raise DebugError(f"no guest named {name!r}: the guests are "
                         + ", ".join(g.name for g in self.hv.guests))

    def guest_by_id(self, number: int):
        if not 1 <= number <= len(self.hv.guests):
            raise DebugError(f"no guest number {number}")
        return self.hv.guests[number - 1]

    def guest_id(self, guest) -> int:
        return self.hv.guests.index(guest) + 1

    def set_focus(self, guest) -> None:
        if guest is not self.focus:
            self.focus = guest
            if self.session:
                self.session.mark()

    def state(self, guest) -> str:
        if guest.state is GuestState.STOPPED:
            end = guest.end
            return f"stopped ({end.reason.value}{f', status {end.status}' if end.status else ''})"
        if guest is self.hv.on_hart:
            return "on the hart"
        return guest.state.value

    # ---- the focused guest's state (the Session's target interface)

    @property
    def program(self):
        return self.focus.config.program

    @property
    def symbols(self) -> dict[str, int]:
        return self.focus.config.program.symbols

    @property
    def labels(self) -> dict[int, str]:
        return self.focus.config.program.labels

    def symbols_of(self, name: str) -> dict[str, int]:
        return self.guest(name).config.program.symbols

    def hart_of(self, guest) -> tuple[list[int], int]:
        """A guest's x0-x31 and pc, wherever they are now."""
        if guest is self.hv.on_hart:
            return [self.core.x[i] for i in range(32)], self.core.pc
        values = _HART.unpack(guest.hart.saved)
        return list(values[:32]), values[32]

    @property
    def pc(self) -> int:
        return self.hart_of(self.focus)[1]

    @property
    def steps(self) -> int:
        return self.focus.hart.steps

    @property
    def priv(self) -> Priv:
        return self.focus.hart.priv

    def set_priv(self, value: int) -> None:
        if value not in (Priv.S, Priv.U):
            raise DebugError("a guest's virtual privilege is S (1) or U (0)")
        name = self.focus.name
        self._edit(lambda hv: setattr(hv.guest(name).hart, "priv", Priv(value)))

    def registers(self) -> list[int]:
        return self.hart_of(self.focus)[0]

    def set_register(self, number: int, value: int) -> None:
        if 0 < number <= 32:
            name = self.focus.name
            self._edit(lambda hv: _set_register(hv, hv.guest(name), number,
                                                value & 0xFFFF_FFFF))

    def virtual_csr(self, name: str, guest=None) -> int | None:
        """A guest's own CSR (its S-mode CSRs and counters), None for the others."""
        try:
            return (guest or self.focus).csr(name)
        except KeyError:
            return None

    def csr(self, name: str) -> int:
        """The guest's CSR where it has one, else the real hart's."""
        value = self.virtual_csr(name)
        return self.core.csr_read(CSRS[name]) if value is None else value

    def set_csr(self, name: str, value: int) -> None:
        number, guest = CSRS[name], self.focus.name

        def change(hv: Hypervisor) -> None:
            hart = hv.guest(guest).hart
            if hart.csr_read(number) is not None:
                hart.csr_write(number, value)
            else:
                hv.core.csr_write(number, value)
        self._edit(change)

    def translate(self, vaddr: int, access: Access, guest=None) -> int | None:
        """Guest-virtual to guest-physical, through the guest's own table (A and D
        untouched), in its current context."""
        guest = guest or self.focus
        walk = guest.pager.walk(guest.hart, vaddr, access, update=False)
        return None if isinstance(walk, int) else walk.gpa

    def read_phys(self, gpa: int, size: int) -> bytes | None:
        return self.focus.ram.read(gpa, size)

    def write_phys(self, gpa: int, data: bytes) -> bool:
        if not self.focus.ram.contains(gpa, len(data)):
            return False
        name, data = self.focus.name, bytes(data)
        self._edit(lambda hv: hv.guest(name).ram.write(gpa, data))
        return True

    def _edit(self, change) -> None:
        """A change made by hand (a register, a CSR, memory): made now, and kept
        with where it was made, so that the past the replays run again has it."""
        change(self.hv)
        self.edits.append((self.here, change))

    def context(self) -> str:
        return f"guest {self.focus.name}, virtual {self.priv.name}-mode, guest satp " \
               f"{self.focus.hart.satp:#010x}"

    def host_read(self, hpa: int, size: int) -> bytes | None:
        return self.core.read(hpa, size) if self.core.is_ram(hpa, size) else None

    def shadow_satp(self, guest=None) -> int | None:
        """The real satp that runs the guest in its current context, if that
        context's shadow root exists yet."""
        guest = guest or self.focus
        root = guest.pager.roots.get(guest.pager.root_key(guest.hart))
        return None if root is None else SATP_SV32 | (root >> 12)

    def history(self, guest=None) -> list:
        return list((guest or self.focus).exit_log)

    # ---- running

    def _live_focus(self):
        guest = self.focus
        if guest.state is GuestState.STOPPED:
            raise DebugError(f"guest {guest.name} has stopped ({guest.end.message}): "
                             "`continue` runs the others, `guest NAME` picks one")
        return guest

    def step(self, count: int) -> Event:
        guest = self._live_focus()
        if self.pending is not None:
            return self._go(Plan(handled=self.pending))
        return self._go(Plan(steps=guest.hart.steps + count))

    def cont(self, interrupt=None) -> Event:
        return self._go(Plan(interrupt=interrupt))

    def until(self, addr: int) -> Event:
        self._live_focus()
        present = any(b.addr == addr for b in self.session.breakpoints.values())
        self.core.break_add(addr)
        try:
            return self._go(Plan(until=addr))
        finally:
            if not present:
                self.core.break_remove(addr)

    def finish(self) -> Event:
        guest = self._live_focus()
        if guest.hart.priv != Priv.S:
            raise DebugError(f"finish: guest {guest.name} is in virtual U-mode, not in its "
                             "kernel's trap handler")
        if not any(r.outcome.startswith("inject") for r in guest.exit_log):
            raise DebugError(f"finish: guest {guest.name} has not entered a trap handler yet")
        return self._go(Plan(finish=True))

    def _go(self, plan: Plan) -> Event:
        from emu.debug.session import interruptible
        focus = self.focus
        plan.origin = (focus.name, focus.hart.steps, self.pc)
        self.plan, self.pending = plan, None
        marks = {g.name: (g.exit_log[-1] if g.exit_log else None) for g in self.hv.guests}
        with interruptible(plan.interrupt) as asked:
            plan.interrupt = asked
            try:
                event = next(self._loop)
            except StopIteration:
                event = self._all_ended()
                self.here = Position(self.hv.clock, "end")
        event.exits = self._exits_since(marks, event)
        if event.guest and event.guest != self.focus.name:
            self.set_focus(self.guest(event.guest))
        return event

    def _exits_since(self, marks: dict, event: Event) -> list:
        found = []
        for guest in self.hv.guests:
            log, mark = list(guest.exit_log), marks[guest.name]
            start = 0
            for i in range(len(log) - 1, -1, -1):
                if log[i] is mark:
                    start = i + 1
                    break
            found += [(guest.name, r) for r in log[start:]]
        return sorted(found, key=lambda item: item[1].clock)

    def _all_ended(self) -> Event:
        from emu.hv.command import exit_status, summary_line
        lines = [summary_line(g).removeprefix("emu hv: ") for g in self.hv.guests]
        self._ended.update(g.name for g in self.hv.guests)
        return Event(Why.EXIT, "every guest has stopped:\n  " + "\n  ".join(lines),
                     status=exit_status(self.hv))

    # ---- the monitor: the exit loop asks at each point whether to pause

    def limit(self, guest) -> int:
        if self.seek is not None:
            limit = self.seek.limit(self, guest)
            if self._redo and self._redo[0][0].clock > self.hv.clock:
                limit = min(limit, self._redo[0][0].clock - self.hv.clock)
            return limit
        plan = self.plan
        if guest is self.focus and plan.steps is not None:
            return max(1, plan.steps - guest.hart.steps)
        return CHUNK

    def pauses(self, guest, point: str, reason: Exit | None = None):
        if self.seek is not None:
            self._redo_edits(Position(self.hv.clock, point, guest.name))
            if self.seek.reached(self, guest, point, reason):
                self.here = Position(self.hv.clock, point, guest.name)
                yield None
            return
        event = getattr(self, "_at_" + point)(guest, reason)
        if event is not None:
            event.guest = guest.name
            self.here = Position(self.hv.clock, point, guest.name)
            yield event

    def _catching(self, reason: str, cause: int):
        for cp in self.session.catchpoints.values():
            if cp.covers_exit(reason, cause):
                return cp
        return None

    def _caught(self, guest, cp, pending: PendingExit) -> Event:
        cp.hits += 1
        return self._pend(guest, cp, pending)

    def _pend(self, guest, cp, pending: PendingExit) -> Event:
        """Stopped before the hypervisor handles the exit: the next step lets it."""
        self.pending = pending
        self._before = self._snapshot(guest)
        return Event(Why.CAUGHT, breakpoint=cp.number, exit=pending)

    def _interrupt_caught(self, guest, cause: int):
        """A catchpoint on the interrupt about to be injected, and it as an exit."""
        cp = self._catching("interrupt", cause)
        return None if cp is None else \
            (cp, PendingExit(guest.name, "interrupt", cause, 0, self.core.pc, 0, guest.hart.priv))

    def _exit_caught(self, guest):
        """A catchpoint on the exit the core just made (not handled yet), and it."""
        e = self.core.exit
        trap = Trap(e.cause, e.tval, e.pc, e.insn)
        if trap.cause & INTERRUPT_BIT:
            return None
        kind = self.hv.classify(guest, trap)
        cp = self._catching(kind, trap.cause)
        return None if cp is None else \
            (cp, PendingExit(guest.name, kind, trap.cause, trap.tval, trap.pc, trap.insn,
                             guest.hart.priv))

    def _breakpoints_at(self, guest, pc: int) -> list:
        return [b for b in self.session.breakpoints.values()
                if b.addr == pc and b.applies(guest.name)]

    def stop_here(self, guest, point: str, reason) -> tuple[str, int] | None:
        """The stop a `continue` makes at this point, found without changing
        anything (no hit counted): (kind, breakpoint/watchpoint/catchpoint number)."""
        if point == "run":
            hits = self._breakpoints_at(guest, self.core.pc)
            return ("breakpoint", hits[0].number) if hits else None
        if point == "exit" and reason is Exit.WATCH:
            number = self.session.watch_number(self.core.exit)
            return None if number is None else ("watch", number)
        caught = None
        if point == "exit" and reason is Exit.TRAP:
            caught = self._exit_caught(guest)
        elif point == "interrupt" and guest.hart.due_interrupt():
            caught = self._interrupt_caught(guest, guest.hart.due_interrupt())
        return None if caught is None else ("catch", caught[0].number)

    def _at_interrupt(self, guest, reason) -> Event | None:
        cause = guest.hart.due_interrupt()
        if not cause:
            return None
        if self.plan.finish and guest is self.focus:
            self.plan.depth += 1
        caught = self._interrupt_caught(guest, cause)
        return None if caught is None else self._caught(guest, *caught)

    def _at_run(self, guest, reason) -> Event | None:
        plan = self.plan
        if plan.handled and plan.handled.guest == guest.name:
            return self._handled(guest)
        if plan.interrupt and plan.interrupt():
            return Event(Why.INTERRUPTED)
        pc = self.core.pc
        if (guest.name, guest.hart.steps, pc) == plan.origin:
            return None
        hits = self._breakpoints_at(guest, pc)
        if hits:
            for bp in hits:
                bp.hits += 1
                if bp.temporary:
                    self.session.delete(bp.number)
            return Event(Why.BREAKPOINT, breakpoint=hits[0].number)
        if guest is self.focus:
            if plan.until == pc:
                return Event(Why.UNTIL)
            if plan.steps is not None and guest.hart.steps >= plan.steps:
                return Event(Why.STEP)
        return None

    def _at_exit(self, guest, reason) -> Event | None:
        if reason is Exit.WATCH:
            hit = self.session._watch_hit()
            return Event(Why.WATCH, watch=hit) if hit else None
        if reason is not Exit.TRAP:
            return None
        caught = self._exit_caught(guest)
        return None if caught is None else self._caught(guest, *caught)

    def _at_handled(self, guest, reason) -> Event | None:
        plan = self.plan
        if plan.handled and plan.handled.guest == guest.name:
            return self._handled(guest)
        if plan.finish and guest is self.focus and guest.exit_log:
            record = guest.exit_log[-1]
            if record.reason == "sret" and record.outcome == "jump":
                if plan.depth == 0:
                    return Event(Why.FINISH)
                plan.depth -= 1
            elif record.outcome.startswith("inject"):
                plan.depth += 1
        return None

    def _at_descheduled(self, guest, reason) -> Event | None:
        plan = self.plan
        if guest.state is GuestState.STOPPED and guest.name not in self._ended:
            self._ended.add(guest.name)
            if len(self._ended) < len(self.hv.guests):
                from emu.hv.command import summary_line
                return Event(Why.GUEST_END, summary_line(guest).removeprefix(
                    f"emu hv: [{guest.name}] "))
            return None
        if guest is not self.focus:
            return None
        if plan.handled and plan.handled.guest == guest.name:
            return self._handled(guest)
        if plan.steps is not None and guest.hart.steps >= plan.steps:
            return Event(Why.STEP, f"guest {guest.name} is off the hart: {self.state(guest)}")
        return None

    # ---- going back: the past runs again on a fresh hypervisor

    def reverse_step(self, count: int) -> Event:
        """Back to where `step` would have stopped with the focused guest count
        instructions earlier; to the start when that is before its first one."""
        if self.here == START:
            raise DebugError("already at the start of the recording: nothing to go back to")
        guest = self.focus
        if guest.hart.steps - count <= 0:
            self._travel(None)
            return Event(Why.REVERSE_START, "at the start of the recording")
        self._travel(ToSteps(guest.name, guest.hart.steps - count))
        return Event(Why.REVERSE)

    def reverse_continue(self) -> Event:
        """Back to the last stop before now that a breakpoint, a watchpoint or a
        catchpoint made (or would have made, had it been set); else to the start.
        Two replays: one finds the stop, the next goes there."""
        if self.here == START:
            raise DebugError("already at the start of the recording: nothing to go back to")
        now = self.here
        scan = LastStop(now)
        _, loop = self._replay(scan)
        loop.close()
        self.here = now
        if scan.found is None:
            self._travel(None)
            return Event(Why.REVERSE_START, "no earlier breakpoint, watchpoint or caught exit: "
                                            "at the start of the recording")
        position, kind, number = scan.found
        self._travel(ToPosition(position))
        self.set_focus(self.guest(position.guest))
        event = Event(Why.BREAKPOINT, breakpoint=number, guest=position.guest)
        if kind == "watch":
            event = Event(Why.WATCH, "went back to the access", guest=position.guest)
        elif kind == "catch":
            guest = self.focus
            caught = self._exit_caught(guest) if position.point == "exit" else \
                self._interrupt_caught(guest, guest.hart.due_interrupt())
            event = self._pend(guest, *caught)
            event.guest = position.guest
        return event

    def _travel(self, seek: Seek | None) -> None:
        """Put a fresh hypervisor where seek pauses (None: at the start) in the
        place of this one."""
        fresh, loop = self._replay(seek)
        self._swap(fresh, loop)
        if seek is None:
            self.here = START
        # The changes made by hand after the place it went to are of a past that
        # no longer is; those before it are part of its history.
        self.edits = self.edits[:len(self.edits) - len(self._redo)]
        self._redo = []

    def _replay(self, seek: Seek | None):
        """Run the past again on a fresh hypervisor, with the breakpoints and
        watchpoints in its core (so that it pauses where the first run did) but
        every stop ignored, until seek is reached (None: not at all, it stays at
        the start); returns it and its paused loop. Silent: its consoles have no
        output yet."""
        fresh = self.hv.fresh()
        fresh.monitor = self
        for addr in {b.addr for b in self.session.breakpoints.values()}:
            fresh.core.break_add(addr)
        for wp in self.session.watchpoints.values():
            fresh.core.watch_add(wp.paddr, wp.length, wp.kind)
        loop = fresh.execute()
        saved = self.hv, self.core
        self.hv, self.core, self.seek = fresh, fresh.core, seek
        self._redo = list(self.edits)
        try:
            self._redo_edits(START)
            if seek is not None:
                next(loop)
        except StopIteration:
            if not isinstance(seek, LastStop):      # which may run to the end: now is there
                raise DebugError("going back failed: the run ended before it got there "
                                 "(is the hypervisor deterministic?)") from None
        finally:
            self.hv, self.core = saved
            self.seek = None
        return fresh, loop

    def _redo_edits(self, position: Position) -> None:
        """In a replay: the changes made by hand at this position, made again."""
        while self._redo and self._redo[0][0] == position:
            self._redo.pop(0)[1](self.hv)

    def _swap(self, fresh: Hypervisor, loop) -> None:
        """The fresh hypervisor becomes the target. Its consoles take over the old
        ones' output and logs, and do not show again what they showed."""
        old = self.hv
        for new, before in zip(fresh.guests, old.guests):
            console, previous = new.console, before.console
            console.out, console.log = previous.out, previous.log
            console.shown = max(previous.shown, len(previous.data))
            previous.out = previous.log = None
        self._loop.close()
        fresh.trace, fresh.monitor = old.trace, self
        self.hv, self.core, self._loop = fresh, fresh.core, loop
        self.focus = fresh.guest(self.focus.name)
        self._ended = {g.name for g in fresh.guests
                       if g.state is GuestState.STOPPED and g is not fresh.on_hart}
        self.plan, self.pending = Plan(), None

    # ---- what the hypervisor did

    def _snapshot(self, guest) -> Snapshot:
        regs, pc = self.hart_of(guest)
        return Snapshot(pc, guest.hart.priv, regs,
                        {name: guest.csr(name) for name in VIRTUAL_CSRS})

    def _handled(self, guest) -> Event:
        """The stop after a caught exit was handled: what the hypervisor did to
        the guest, as a difference of its registers and virtual CSRs."""
        from emu.isa.instructions import ABI_NAMES
        pending, before = self.plan.handled, self._before
        self.plan.handled = None
        after = self._snapshot(guest)
        changes = [f"{n} {before.csrs[n]:#010x} -> {v:#010x}" for n, v in after.csrs.items()
                   if before.csrs[n] != v]
        changes += [f"{ABI_NAMES[i]} {before.regs[i]:#x} -> {after.regs[i]:#x}"
                    for i in range(1, 32) if before.regs[i] != after.regs[i]]
        if before.priv != after.priv:
            changes.append(f"virtual privilege {before.priv.name} -> {after.priv.name}")
        if after.pc != (before.pc + 4) & 0xFFFF_FFFF or pending.is_interrupt:
            changes.append(f"pc {before.pc:#010x} -> {after.pc:#010x}")
        diff = ", ".join(changes) or "nothing the guest can see changed"
        labels = guest.config.program.labels
        if pending.is_interrupt:
            return Event(Why.STEP, f"{cause_name(pending.cause)} injected: {diff}")
        insn = disassemble(pending.insn, pending.pc, labels).replace("\t", " ") \
            if pending.insn else "(the instruction could not be fetched)"
        record = guest.exit_log[-1] if guest.exit_log else None
        outcome = record.outcome if record else "?"
        verb = {"next": "emulated", "jump": "emulated", "sbi": "served as an SBI call",
                "retry": "handled by a shadow fill"}.get(outcome.split(" ")[0].rstrip(":"))
        if verb is None:
            verb = "reflected into the guest kernel" if outcome.startswith("inject") else \
                f"ended the guest ({outcome})" if outcome.startswith("stop") else outcome
        if outcome == "retry":
            diff = self._shadow_note(guest, pending)
        return Event(Why.STEP, f"{insn} {verb} ({record.reason if record else pending.reason})"
                               f": {diff}")

    def _shadow_note(self, guest, pending: PendingExit) -> str:
        satp = self.shadow_satp(guest)
        if satp is None:
            return "the instruction runs again"
        _, hpa, _ = self.session.walk(pending.tval, satp, self.host_read)
        where = f"host physical {hpa:#010x}" if hpa is not None else "nothing yet"
        return f"the shadow table now maps {pending.tval:#010x} to {where}; the " \
               "instruction runs again, invisibly to the guest"
