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
RAM: only that guest's loads and stores reach them. Not here: reverse execution
(the hypervisor's Python state would have to be saved beside the core's)."""
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


@dataclass
class Snapshot:
    pc: int
    priv: Priv
    regs: list[int]
    csrs: dict[str, int]


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

    def attach(self, session) -> None:
        self.session = session

    def close(self) -> None:
        """End the hypervisor's loop (its consoles flush their last lines)."""
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
        self.focus.hart.priv = Priv(value)

    def registers(self) -> list[int]:
        return self.hart_of(self.focus)[0]

    def set_register(self, number: int, value: int) -> None:
        guest, value = self.focus, value & 0xFFFF_FFFF
        if not 0 < number <= 32:
            return
        if guest is self.hv.on_hart:
            if number == 32:
                self.core.pc = value
            else:
                self.core.x[number] = value
            return
        values = list(_HART.unpack(guest.hart.saved))
        values[number] = value
        guest.hart.saved = _HART.pack(*values)

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
        number = CSRS[name]
        if self.focus.hart.csr_read(number) is not None:
            self.focus.hart.csr_write(number, value)
        else:
            self.core.csr_write(number, value)

    def translate(self, vaddr: int, access: Access, guest=None) -> int | None:
        """Guest-virtual to guest-physical, through the guest's own table (A and D
        untouched), in its current context."""
        guest = guest or self.focus
        walk = guest.pager.walk(guest.hart, vaddr, access, update=False)
        return None if isinstance(walk, int) else walk.gpa

    def read_phys(self, gpa: int, size: int) -> bytes | None:
        return self.focus.ram.read(gpa, size)

    def write_phys(self, gpa: int, data: bytes) -> bool:
        return self.focus.ram.write(gpa, data)

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
        plan = self.plan
        if guest is self.focus and plan.steps is not None:
            return max(1, plan.steps - guest.hart.steps)
        return CHUNK

    def pauses(self, guest, point: str, reason: Exit | None = None):
        event = getattr(self, "_at_" + point)(guest, reason)
        if event is not None:
            event.guest = guest.name
            yield event

    def _catching(self, reason: str, cause: int):
        for cp in self.session.catchpoints.values():
            if cp.covers_exit(reason, cause):
                return cp
        return None

    def _caught(self, guest, cp, pending: PendingExit) -> Event:
        cp.hits += 1
        self.pending = pending
        self._before = self._snapshot(guest)
        return Event(Why.CAUGHT, breakpoint=cp.number, exit=pending)

    def _at_interrupt(self, guest, reason) -> Event | None:
        cause = guest.hart.due_interrupt()
        if not cause:
            return None
        if self.plan.finish and guest is self.focus:
            self.plan.depth += 1
        cp = self._catching("interrupt", cause)
        if cp is None:
            return None
        return self._caught(guest, cp, PendingExit(guest.name, "interrupt", cause, 0,
                                                   self.core.pc, 0, guest.hart.priv))

    def _at_run(self, guest, reason) -> Event | None:
        plan = self.plan
        if plan.handled and plan.handled.guest == guest.name:
            return self._handled(guest)
        if plan.interrupt and plan.interrupt():
            return Event(Why.INTERRUPTED)
        pc = self.core.pc
        if (guest.name, guest.hart.steps, pc) == plan.origin:
            return None
        hits = [b for b in self.session.breakpoints.values()
                if b.addr == pc and b.applies(guest.name)]
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
        e = self.core.exit
        trap = Trap(e.cause, e.tval, e.pc, e.insn)
        if trap.cause & INTERRUPT_BIT:
            return None
        kind = self.hv.classify(guest, trap)
        cp = self._catching(kind, trap.cause)
        if cp is None:
            return None
        return self._caught(guest, cp, PendingExit(guest.name, kind, trap.cause, trap.tval,
                                                   trap.pc, trap.insn, guest.hart.priv))

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
