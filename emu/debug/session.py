"""The debugger's engine: a Session drives one Machine and knows nothing of how it
is shown, so the REPL (emu/debug/repl.py) and the gdb stub (emu/debug/gdbstub.py)
share it.

What it does, over the core's debugging support (csrc/emu.h):
- stepping N instructions, continuing, until ADDR, finish (to the xRET that ends
  the current trap handler);
- breakpoints (the core's breakpoint set, on virtual pcs), watchpoints (the core's,
  on physical ranges: a virtual address is translated when the watchpoint is set,
  in the context of that moment), catchpoints on trap causes (the core stops
  right after taking the trap, before the handler's first instruction);
- the trap history (the core's trap log);
- reverse execution. Runs are deterministic, so going back is re-running:
  checkpoints (the core's state, and the RAM pages written since the previous
  checkpoint, from the core's dirty-page map) are taken every CHECKPOINT_EVERY
  instructions; reverse-step restores the last checkpoint before the target and
  runs forward to it. Memory is bounded: past MEMORY_BUDGET bytes the oldest
  checkpoints are merged into the first, which moves it forward in time. (Under
  the hypervisor the target goes back itself, by running the past again on a
  fresh hypervisor: see hvtarget.py.)

Positions in time are the core's clock (Core.steps: instructions executed,
retired or trapped). An interrupt is taken between instructions without moving
the clock, so the state "at step S" is the one before instruction S executes,
with any interrupt due at S already taken: the one a continuing run would see.

The Session is the one engine for both kinds of target; what differs between them
is behind a small interface, the *target* (BareTarget here, HvTarget in
emu/debug/hvtarget.py): its registers, CSRs, privilege, clock, symbols, memory
(`translate` a virtual address into the space `read_phys` and `write_phys` use)
and the page-table root for walks. A bare Machine runs here, over the core's
breakpoints, catches, trap log and checkpoints. Under the hypervisor (`emu hv
--debug`, `--gdb`) the target is the guest in focus, and running is the
target's: it pauses the hypervisor's exit loop, per guest (step, continue,
until, finish, `catch exit`), with the breakpoints, catchpoints and events
defined here; so is going back (reverse-step, reverse-continue)."""
from __future__ import annotations

import contextlib
import enum
import io
import signal
import threading
from dataclasses import dataclass, field

from emu.core import RAM_BASE, Access, Core, Exit, Priv, Watch
from emu.disasm import disassemble
from emu.errors import EmuError
from emu.isa import CAUSES, CSRS, INTERRUPT_BIT, REGISTERS, cause_name
from emu.isa.instructions import ABI_NAMES
from emu.machine import Machine, Stop, StopReason

PAGE = 4096
CHECKPOINT_EVERY = 200_000         # instructions between checkpoints
MEMORY_BUDGET = 64 << 20           # bytes of checkpoints kept, at most
FINISH_LIMIT = 50_000_000          # instructions `finish` runs before it gives up
INSN_MRET, INSN_SRET = 0x30200073, 0x10200073
HOST = "host"                      # Stop.message of a caught trap that the host takes

# The CSRs a stop compares and `csr` shows first: the trap machinery.
KEY_CSRS = ("mstatus", "mie", "mip", "mtvec", "mepc", "mcause", "mtval", "mscratch",
            "medeleg", "mideleg", "sstatus", "stvec", "sepc", "scause", "stval", "sscratch",
            "satp")


class DebugError(EmuError):
    """A command cannot be done: a bad address, an unknown symbol, nothing running.
    The session goes on."""


class Why(enum.Enum):
    """Why the machine stopped, as the user sees it."""
    START = "start"
    STEP = "step"
    BREAKPOINT = "breakpoint"
    CAUGHT = "caught"               # a caught trap was taken
    INTERRUPT_TAKEN = "interrupt"   # `step` took a due interrupt: pc is the handler
    WATCH = "watch"
    UNTIL = "until"
    FINISH = "finish"
    EXIT = "exit"                   # the program ended
    CRASH = "crash"
    LIMIT = "limit"
    INTERRUPTED = "interrupted"     # Ctrl-C, or gdb's interrupt
    REVERSE = "reverse"
    REVERSE_START = "reverse-start"  # went back as far as the recording goes
    GUEST_END = "guest-end"         # under the hypervisor: one guest stopped, others run


@dataclass
class Trap:
    """A trap as taken, from the core's trap log or a catch."""
    cause: int
    tval: int
    epc: int
    handler: int        # 0: handed to the host (the SBI firmware)
    insn: int
    from_priv: int
    to_priv: int
    steps: int

    @property
    def is_interrupt(self) -> bool:
        return bool(self.cause & INTERRUPT_BIT)

    @property
    def name(self) -> str:
        return cause_name(self.cause)


@dataclass
class WatchHit:
    number: int
    vaddr: int          # the virtual address accessed
    paddr: int
    size: int
    is_write: bool
    value: int
    pc: int             # the accessing instruction
    old: bytes | None   # the watched bytes before (write watchpoints)
    new: bytes | None


@dataclass
class Event:
    """One stop: why, and what goes with the reason."""
    why: Why
    message: str = ""
    breakpoint: int | None = None
    trap: Trap | None = None
    watch: WatchHit | None = None
    status: int = 0
    traps: list[Trap] = field(default_factory=list)     # taken on the way (not caught)
    # Under the hypervisor: the guest that stopped, a caught VM exit (stopped before
    # the hypervisor handled it), and the exits on the way.
    guest: str | None = None
    exit: object | None = None
    exits: list = field(default_factory=list)


@dataclass
class Breakpoint:
    number: int
    addr: int
    temporary: bool = False
    hits: int = 0
    guest: str | None = None    # under the hypervisor: the guest it is for (None: any)

    def applies(self, guest: str | None) -> bool:
        return self.guest is None or self.guest == guest


@dataclass
class Watchpoint:
    number: int
    vaddr: int
    paddr: int
    length: int
    kind: Watch
    hits: int = 0
    old: bytes | None = None

    @property
    def command(self) -> str:
        return {Watch.WRITE: "watch", Watch.READ: "rwatch", Watch.ACCESS: "awatch"}[self.kind]


@dataclass
class Catchpoint:
    number: int
    interrupts: bool
    causes: frozenset[int]      # codes (no interrupt bit); empty: all
    hits: int = 0
    exits: frozenset[str] | None = None     # `catch exit`: exit reasons; empty: all

    def covers(self, cause: int) -> bool:
        if self.exits is not None:
            return False
        if bool(cause & INTERRUPT_BIT) != self.interrupts:
            return False
        return not self.causes or (cause & ~INTERRUPT_BIT) in self.causes

    def covers_exit(self, reason: str, cause: int) -> bool:
        """Under the hypervisor: does this stop a VM exit (an injected interrupt is
        the exit "interrupt")? `catch trap`/`interrupt` catch by the trap's cause."""
        if self.exits is not None:
            return not self.exits or reason in self.exits
        return self.covers(cause)

    @property
    def description(self) -> str:
        if self.exits is not None:
            return "exit " + (", ".join(sorted(self.exits)) if self.exits else "(any)")
        kind = "interrupt" if self.interrupts else "trap"
        bit = INTERRUPT_BIT if self.interrupts else 0
        if not self.causes:
            return f"{kind} (any)"
        return f"{kind} " + ", ".join(cause_name(bit | c) for c in sorted(self.causes))


# ---- trap causes by name, for `catch trap CAUSE`

def _slug(name: str) -> str:
    return name.lower().replace("/", "-").replace(" ", "-")


CAUSE_SLUGS: dict[str, int] = {_slug(name): cause for cause, name in CAUSES.items()}
CAUSE_ALIASES: dict[str, tuple[int, ...]] = {
    "ecall": (8, 9, 11), "illegal": (2,), "breakpoint": (3,), "ebreak": (3,),
    "page-fault": (12, 13, 15), "access-fault": (1, 5, 7), "misaligned": (0, 4, 6),
    "timer": (INTERRUPT_BIT | 5, INTERRUPT_BIT | 7),
    "software": (INTERRUPT_BIT | 1, INTERRUPT_BIT | 3),
    "external": (INTERRUPT_BIT | 9, INTERRUPT_BIT | 11),
}


def parse_causes(words: list[str], interrupts: bool) -> frozenset[int]:
    """Cause names (full, as slugs: illegal-instruction; an alias: ecall, page-fault,
    timer; a unique prefix) or numbers, to codes without the interrupt bit."""
    codes = set()
    for word in words:
        word = word.lower().strip(",")
        if not word:
            continue
        try:
            number = int(word, 0)
        except ValueError:
            pass
        else:
            cause = number | (INTERRUPT_BIT if interrupts else 0)
            if cause not in CAUSES:
                raise DebugError(f"no {'interrupt' if interrupts else 'exception'} cause "
                                 f"{number}")
            codes.add(number)
            continue
        if word in CAUSE_ALIASES:
            found = CAUSE_ALIASES[word]
        elif word in CAUSE_SLUGS:
            found = (CAUSE_SLUGS[word],)
        else:
            found = tuple(c for s, c in CAUSE_SLUGS.items() if s.startswith(word))
            if len(found) > 1:
                wanted = [c for c in found if bool(c & INTERRUPT_BIT) == interrupts]
                found = tuple(wanted) if len(wanted) == 1 else found
            if len(found) != 1:
                names = ", ".join(sorted(CAUSE_ALIASES) + sorted(CAUSE_SLUGS))
                raise DebugError(f"unknown trap cause {word!r}" if not found else
                                 f"ambiguous trap cause {word!r}" + f": one of {names}")
        for cause in found:
            if bool(cause & INTERRUPT_BIT) != interrupts:
                raise DebugError(f"{cause_name(cause)} is {'not ' if interrupts else ''}an "
                                 f"interrupt: use `catch {'trap' if interrupts else 'interrupt'}`")
            codes.add(cause & ~INTERRUPT_BIT)
    return frozenset(codes)


# ---- page tables (Sv32, privileged spec 4.3.1)

PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D = (1 << i for i in range(8))


def pte_flags(pte: int) -> str:
    return "".join(c if pte >> i & 1 else "-" for i, c in enumerate("vrwxugad"))


@dataclass
class PtLevel:
    level: int
    table: int
    index: int
    address: int        # of the entry
    pte: int


# ---- checkpoints

@dataclass
class Checkpoint:
    steps: int
    state: bytes
    pages: dict[int, bytes]     # RAM pages written since the previous checkpoint, as now
    devices: object = None      # the host's device models (Machine.device_state)

    @property
    def size(self) -> int:
        return len(self.state) + PAGE * len(self.pages)


class Timeline:
    """Checkpoints of one core, oldest first. The first holds every non-zero RAM
    page; each later one the pages written since the one before."""

    def __init__(self, core: Core, budget: int = MEMORY_BUDGET, machine=None):
        self.core = core
        self.budget = budget
        self.machine = machine          # whose device models are checkpointed too
        core.dirty_track(True)
        ram = memoryview(core.ram)
        zero = bytes(PAGE)
        pages = {i: bytes(ram[i * PAGE:(i + 1) * PAGE])
                 for i in range(core.ram_size // PAGE) if ram[i * PAGE:(i + 1) * PAGE] != zero}
        core.dirty_clear()
        self.checkpoints = [self._checkpoint(pages)]
        self.size = self.checkpoints[0].size

    @property
    def first(self) -> int:
        return self.checkpoints[0].steps

    def take(self) -> None:
        core = self.core
        if core.steps == self.checkpoints[-1].steps:
            return
        ram = core.ram
        pages = {i: bytes(ram[i * PAGE:(i + 1) * PAGE]) for i in core.dirty_pages()}
        core.dirty_clear()
        self.checkpoints.append(self._checkpoint(pages))
        self.size += self.checkpoints[-1].size
        while self.size > self.budget and len(self.checkpoints) > 2:
            first, second = self.checkpoints[0], self.checkpoints[1]
            self.size -= first.size + second.size
            merged = Checkpoint(second.steps, second.state, {**first.pages, **second.pages},
                                second.devices)
            self.checkpoints[0:2] = [merged]
            self.size += merged.size

    def restore(self, steps: int) -> int:
        """Back to the last checkpoint at or before steps (forgetting the later
        ones); returns its clock."""
        index = max(i for i, c in enumerate(self.checkpoints) if c.steps <= steps)
        core = self.core
        written = set(core.dirty_pages())
        for later in self.checkpoints[index + 1:]:
            written.update(later.pages)
        for page in written:
            core.write(RAM_BASE + page * PAGE, self._page_at(index, page))
        core.state_load(self.checkpoints[index].state)
        if self.machine:
            self.machine.load_device_state(self.checkpoints[index].devices)
        del self.checkpoints[index + 1:]
        self.size = sum(c.size for c in self.checkpoints)
        core.dirty_clear()
        return self.checkpoints[index].steps

    def _checkpoint(self, pages: dict[int, bytes]) -> Checkpoint:
        devices = self.machine.device_state() if self.machine else None
        return Checkpoint(self.core.steps, self.core.state_save(), pages, devices)

    def _page_at(self, index: int, page: int) -> bytes:
        for checkpoint in reversed(self.checkpoints[:index + 1]):
            data = checkpoint.pages.get(page)
            if data is not None:
                return data
        return bytes(PAGE)


class _Muted(io.RawIOBase):
    """Where the guest's console goes while the past is re-run: it was shown once."""

    def write(self, data) -> int:
        return len(data)


@contextlib.contextmanager
def interruptible(interrupt=None):
    """While running: Ctrl-C only raises a flag, looked at between slices (never an
    exception in the middle of servicing an exit); yields the question to ask
    between slices, which is also interrupt()'s (gdb's ^C)."""
    pressed = []
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    try:
        yield lambda: bool(pressed) or (interrupt is not None and interrupt())
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


# ---- targets

class BareTarget:
    """A bare Machine as the Session sees it: the hart's registers and CSRs, its
    virtual memory as the hart translates it now, physical RAM."""
    hypervised = False
    key_csrs = KEY_CSRS

    def __init__(self, machine: Machine):
        self.machine, self.core = machine, machine.core
        program = machine.program
        self.program = program
        self.symbols: dict[str, int] = dict(program.symbols) if program else {}
        self.labels: dict[int, str] = dict(program.labels) if program else {}

    @property
    def pc(self) -> int:
        return self.core.pc

    @property
    def steps(self) -> int:
        return self.core.steps

    @property
    def priv(self) -> Priv:
        return self.core.priv

    def set_priv(self, value: int) -> None:
        self.core.priv = value

    def registers(self) -> list[int]:
        return [self.core.x[i] for i in range(32)]

    def set_register(self, number: int, value: int) -> None:
        if number == 32:
            self.core.pc = value & 0xFFFF_FFFF
        elif 0 < number < 32:
            self.core.x[number] = value & 0xFFFF_FFFF

    def csr(self, name: str) -> int:
        return self.core.csr_read(CSRS[name])

    def set_csr(self, name: str, value: int) -> None:
        self.core.csr_write(CSRS[name], value)

    def translate(self, vaddr: int, access: Access) -> int | None:
        return self.core.translate(vaddr, access)

    def read_phys(self, addr: int, size: int) -> bytes | None:
        return self.machine.read_ram(addr, size)

    def write_phys(self, addr: int, data: bytes) -> bool:
        return self.machine.write_ram(addr, data)

    def context(self) -> str:
        """The translation context, for messages."""
        return f"{self.priv.name}-mode, satp {self.csr('satp'):#010x}"


# ---- the session

class Session:
    """One machine (a BareTarget, or a Machine, which becomes one) or one
    hypervisor (an HvTarget) under the debugger."""

    def __init__(self, target, reverse: bool = True,
                 checkpoint_every: int = CHECKPOINT_EVERY, memory_budget: int = MEMORY_BUDGET):
        if isinstance(target, Machine):
            target = BareTarget(target)
        self.target = target
        self.hv = target if target.hypervised else None
        self.machine = None if self.hv else target.machine
        self.breakpoints: dict[int, Breakpoint] = {}
        self.watchpoints: dict[int, Watchpoint] = {}
        self.catchpoints: dict[int, Catchpoint] = {}
        self._next_number = 1
        self.ended: Event | None = None           # the program is over
        self.last_event = Event(Why.START)
        self.last_trap: Trap | None = None
        self.checkpoint_every = checkpoint_every
        self.timeline = (Timeline(self.core, memory_budget, self.machine)
                         if reverse and not self.hv else None)
        self._seen_traps = self.core.trap_count
        # Traps that M-mode in the host takes (the SBI firmware under --boot s) are
        # exits the Machine services; a caught one stops before the host handles it,
        # and the next step or continue lets it (see _host_trap).
        self._host_pending = None
        self._host_armed = True
        if self.hv:
            self.hv.attach(self)
        else:
            self.machine._on_exit[Exit.TRAP] = self._host_trap(self.machine._on_exit[Exit.TRAP])
        self.changed_regs: dict[str, tuple[int, int]] = {}
        self.changed_csrs: dict[str, tuple[int, int]] = {}
        self.mark()

    # ---- state, the target's

    core: Core = property(lambda self: self.target.core)   # hv: a new one after going back
    program = property(lambda self: self.target.program)
    symbols = property(lambda self: self.target.symbols)       # dict[str, int]
    labels = property(lambda self: self.target.labels)         # dict[int, str]
    pc = property(lambda self: self.target.pc)
    steps = property(lambda self: self.target.steps)
    priv = property(lambda self: self.target.priv)             # Priv

    def set_priv(self, value: int) -> None:
        self.target.set_priv(value)

    def registers(self) -> list[int]:
        return self.target.registers()

    def register(self, name: str) -> int:
        return self.registers()[REGISTERS[name]]

    def set_register(self, number: int, value: int) -> None:
        self.target.set_register(number, value)

    def csr(self, name: str) -> int:
        if name not in CSRS:
            raise DebugError(f"no CSR named {name!r}")
        return self.target.csr(name)

    def set_csr(self, name: str, value: int) -> None:
        if name not in CSRS:
            raise DebugError(f"no CSR named {name!r}")
        self.target.set_csr(name, value)

    def key_csrs(self) -> dict[str, int]:
        return {name: self.target.csr(name) for name in self.target.key_csrs}

    # ---- addresses and memory, in the current context

    def address(self, text: str, symbols: dict[str, int] | None = None) -> int:
        """A number, a symbol, SYMBOL+OFF, SYMBOL-OFF, $pc or $REG (or a bare
        register name); symbols: another table than the target's (a guest's)."""
        text = text.strip()
        if text.startswith("&"):            # gdb's &symbol: the same address
            text = text[1:].strip()
        if not text:
            raise DebugError("an address is needed")
        for sign in ("+", "-"):
            head, op, tail = text.rpartition(sign)
            if op and head.strip():
                try:
                    offset = int(tail.strip(), 0)
                except ValueError:
                    break
                base = self.address(head, symbols)
                return (base + offset if sign == "+" else base - offset) & 0xFFFF_FFFF
        try:
            return int(text, 0) & 0xFFFF_FFFF
        except ValueError:
            pass
        symbols = self.symbols if symbols is None else symbols
        if text in symbols:
            return symbols[text] & 0xFFFF_FFFF
        name = text[1:] if text.startswith("$") else text
        if name == "pc":
            return self.pc
        if name in REGISTERS:
            return self.register(name)
        if text.startswith("$") and name in CSRS:
            return self.csr(name)
        near = self._near(text, symbols)
        raise DebugError(f"no symbol {text!r} in the program" +
                         (f" (did you mean {near}?)" if near else ""))

    @staticmethod
    def _near(text: str, symbols: dict[str, int]) -> str:
        import difflib
        close = difflib.get_close_matches(text, list(symbols), n=1)
        return close[0] if close else ""

    def symbolize(self, addr: int, labels: dict[int, str] | None = None) -> str:
        """0x80000010 <loop+0x4>, or the bare address when no label is at or before
        it within 64 KiB; labels: another table than the target's (a guest's)."""
        labels = self.labels if labels is None else labels
        best = max((a for a in labels if a <= addr), default=None)
        if best is None or addr - best > 0x10000:
            return f"{addr:#010x}"
        offset = addr - best
        return f"{addr:#010x} <{labels[best]}{f'+{offset:#x}' if offset else ''}>"

    def translate(self, vaddr: int, access: Access = Access.LOAD) -> int:
        paddr = self.target.translate(vaddr, access)
        if paddr is None:
            raise DebugError(f"cannot access memory at {vaddr:#010x}: it is not mapped in the "
                             f"current context ({self.target.context()})")
        return paddr

    def read(self, addr: int, size: int, physical: bool = False,
             access: Access = Access.LOAD) -> bytes:
        """Memory as the hart would see it now (virtual, page by page), or physical."""
        data = bytearray()
        while size > 0:
            chunk = min(size, PAGE - (addr % PAGE))
            paddr = addr if physical else self.translate(addr, access)
            part = self.target.read_phys(paddr, chunk)
            if part is None:
                raise DebugError(f"cannot access memory at {addr:#010x}" +
                                 ("" if physical or paddr == addr else f" (physical {paddr:#x})")
                                 + ": not RAM")
            data += part
            addr, size = (addr + chunk) & 0xFFFF_FFFF, size - chunk
        return bytes(data)

    def write(self, addr: int, data: bytes, physical: bool = False) -> None:
        offset = 0
        while offset < len(data):
            chunk = min(len(data) - offset, PAGE - (addr % PAGE))
            paddr = addr if physical else self.translate(addr, Access.STORE)
            if not self.target.write_phys(paddr, data[offset:offset + chunk]):
                raise DebugError(f"cannot write memory at {addr:#010x}: not RAM")
            addr, offset = (addr + chunk) & 0xFFFF_FFFF, offset + chunk

    def instruction(self, addr: int) -> int | None:
        try:
            return int.from_bytes(self.read(addr, 4, access=Access.FETCH), "little")
        except DebugError:
            return None

    def disassemble(self, addr: int) -> str:
        word = self.instruction(addr)
        if word is None:
            return "(cannot fetch)"
        return f"{word:08x}  {disassemble(word, addr, self.labels)}"

    # ---- page tables

    def walk(self, vaddr: int, satp: int | None = None,
             read=None) -> tuple[list[PtLevel], int | None, str]:
        """The Sv32 walk of vaddr through satp's table (the target's satp, and its
        physical memory, unless given), level by level, as the hardware does it
        (privileged spec 4.3.2): the levels, the physical address (None on a fault)
        and what happened."""
        satp = self.csr("satp") if satp is None else satp
        read = read or self.target.read_phys
        if not satp >> 31:
            return [], vaddr, "satp.MODE is Bare: no translation, physical = virtual"
        table = (satp & 0x3F_FFFF) << 12
        levels = []
        for level in (1, 0):
            index = (vaddr >> (12 + 10 * level)) & 0x3FF
            where = table + 4 * index
            data = read(where, 4)
            if data is None:
                return levels, None, f"the level-{level} table at {table:#x} is not in RAM: " \
                    "an access fault"
            pte = int.from_bytes(data, "little")
            entry = PtLevel(level, table, index, where, pte)
            levels.append(entry)
            if not pte & PTE_V or (pte & PTE_W and not pte & PTE_R):
                return levels, None, "invalid entry: a page fault"
            if not pte & (PTE_R | PTE_X):
                table = (pte >> 10) << 12
                continue
            ppn = pte >> 10
            if level and ppn & 0x3FF:
                return levels, None, "a misaligned megapage: a page fault"
            offset_mask = (1 << (12 + 10 * level)) - 1
            return levels, ((ppn << 12) & ~offset_mask) | (vaddr & offset_mask), \
                "a 4 MiB megapage" if level else "a 4 KiB page"
        return levels, None, "no leaf at level 0: a page fault"

    def mappings(self, limit: int = 256, satp: int | None = None,
                 read=None) -> list[tuple[int, int, int, int]]:
        """The leaves of the current page table (or satp's, in read's memory):
        (va, pa, size, pte), in va order."""
        satp = self.csr("satp") if satp is None else satp
        read = read or self.target.read_phys
        if not satp >> 31:
            return []
        found = []
        root = (satp & 0x3F_FFFF) << 12
        for i in range(1024):
            pte = int.from_bytes(read(root + 4 * i, 4) or bytes(4), "little")
            if not pte & PTE_V:
                continue
            if pte & (PTE_R | PTE_X):
                found.append((i << 22, (pte >> 10) << 12, 1 << 22, pte))
                continue
            table = (pte >> 10) << 12
            for j in range(1024):
                leaf = int.from_bytes(read(table + 4 * j, 4) or bytes(4), "little")
                if leaf & PTE_V and leaf & (PTE_R | PTE_X):
                    found.append(((i << 22) | (j << 12), (leaf >> 10) << 12, 1 << 12, leaf))
                if len(found) >= limit:
                    return found
        return found

    # ---- breakpoints, watchpoints, catchpoints

    def _number(self) -> int:
        number = self._next_number
        self._next_number += 1
        return number

    def break_add(self, addr: int, temporary: bool = False,
                  guest: str | None = None) -> Breakpoint:
        if addr % 4:
            raise DebugError(f"{addr:#x} is not 4-byte aligned: no instruction starts there")
        bp = Breakpoint(self._number(), addr, temporary, guest=guest)
        self.breakpoints[bp.number] = bp
        self.core.break_add(addr)
        return bp

    def watch_add(self, vaddr: int, length: int, kind: Watch) -> Watchpoint:
        if not 1 <= length <= PAGE:
            raise DebugError(f"a watchpoint covers 1 to {PAGE} bytes, not {length}")
        if (vaddr % PAGE) + length > PAGE:
            raise DebugError("a watchpoint must not cross a page boundary: split it in two")
        access = Access.STORE if kind == Watch.WRITE else Access.LOAD
        paddr = self.target.translate(vaddr, access)
        if paddr is None:
            paddr = self.target.translate(vaddr, Access.LOAD)
        if paddr is None:
            raise DebugError(f"cannot watch {vaddr:#010x}: it is not mapped in the current "
                             "context")
        if self.hv:
            # The core watches host-physical addresses: the focused guest's RAM only
            # (its devices are emulated in Python: `catch exit mmio` stops there).
            ram = self.hv.focus.ram
            if not ram.contains(paddr, length):
                raise DebugError(f"cannot watch {vaddr:#010x}: guest-physical {paddr:#x} is "
                                 "not the guest's RAM (for its UART: catch exit mmio)")
            paddr = ram.host(paddr)
        elif not self._is_memory(paddr, length):
            raise DebugError(f"cannot watch {vaddr:#010x}: nothing is at physical {paddr:#x} "
                             "(no RAM, no device)")
        wp = Watchpoint(self._number(), vaddr, paddr, length, kind)
        self.core.watch_add(paddr, length, kind)
        wp.old = self._host_bytes(paddr, length)
        self.watchpoints[wp.number] = wp
        return wp

    def _host_bytes(self, paddr: int, length: int) -> bytes | None:
        """Watched bytes, by the core's physical address (a device's: None)."""
        return self.core.read(paddr, length) if self.core.is_ram(paddr, length) else None

    def _is_memory(self, paddr: int, length: int) -> bool:
        from emu.platform import MEMORY_MAP
        for base, size, _ in MEMORY_MAP:
            size = self.core.ram_size if size is None else size
            if base <= paddr and paddr + length <= base + size:
                return True
        return False

    def catch_add(self, interrupts: bool, causes: frozenset[int],
                  exits: frozenset[str] | None = None) -> Catchpoint:
        if exits is not None and not self.hv:
            raise DebugError("`catch exit` is for the hypervisor (emu hv --debug): a bare "
                             "machine has no VM exits; `catch trap` catches its traps")
        cp = Catchpoint(self._number(), interrupts, causes, exits=exits)
        self.catchpoints[cp.number] = cp
        self._sync_catches()
        return cp

    def _sync_catches(self, enabled: bool = True) -> None:
        if self.hv:             # the hypervisor sees every trap: it catches them itself
            return
        masks = [0, 0]
        for cp in self.catchpoints.values() if enabled else ():
            masks[cp.interrupts] |= 0xFFFF_FFFF if not cp.causes else \
                sum(1 << c for c in cp.causes if c < 32)
        self.core.catch_set(masks[0], masks[1])

    def delete(self, number: int) -> str:
        if number in self.breakpoints:
            bp = self.breakpoints.pop(number)
            if not any(b.addr == bp.addr for b in self.breakpoints.values()):
                self.core.break_remove(bp.addr)
            return f"breakpoint {number}"
        if number in self.watchpoints:
            wp = self.watchpoints.pop(number)
            self.core.watch_remove(wp.paddr, wp.length, wp.kind)
            return f"watchpoint {number}"
        if number in self.catchpoints:
            del self.catchpoints[number]
            self._sync_catches()
            return f"catchpoint {number}"
        raise DebugError(f"no breakpoint, watchpoint or catchpoint number {number}")

    def delete_all(self) -> None:
        for number in list(self.breakpoints) + list(self.watchpoints) + list(self.catchpoints):
            self.delete(number)

    # ---- traps

    def trap_history(self) -> list[Trap]:
        return [Trap(r.cause, r.tval, r.epc, r.handler, r.insn, r.from_priv, r.to_priv,
                     r.steps) for r in self.core.trap_log()]

    def _new_traps(self) -> list[Trap]:
        count = self.core.trap_count
        fresh = min(count - self._seen_traps, 64)
        self._seen_traps = count
        return self.trap_history()[-fresh:] if fresh > 0 else []

    # ---- running

    def _check_running(self) -> None:
        if self.ended and self.hv:
            raise DebugError("every guest has stopped: nothing runs any more "
                             "(reverse-step or reverse-continue go back)")
        if self.ended:
            raise DebugError(f"the program is not running: {self.ended.message or 'it ended'}"
                             + (" (reverse-step or reverse-continue go back)"
                                if self.timeline else ""))

    def _host_trap(self, handle):
        def hook() -> Stop | None:
            cause = self.core.exit.cause
            if self._host_armed and any(cp.covers(cause) for cp in self.catchpoints.values()):
                self._host_pending = handle
                return Stop(StopReason.CAUGHT, message=HOST)
            return handle()
        return hook

    def _finish_host(self) -> Stop | None:
        """Let the host handle the caught trap it was stopped at, if any."""
        handle, self._host_pending = self._host_pending, None
        if handle is None:
            return None
        stop = handle() or self.machine._stop
        self.machine._stop = None
        return stop

    def _run(self, limit: int | None, interrupt=None) -> Stop:
        """Run up to limit instructions (None: no limit), taking checkpoints on the
        way; interrupt() is asked between slices whether to stop (gdb's Ctrl-C)."""
        stop = self._finish_host()
        if stop is not None:
            return stop
        with interruptible(interrupt) as asked:
            return self._run_slices(limit, asked)

    def _run_slices(self, limit: int | None, interrupt) -> Stop:
        end = None if limit is None else self.core.steps + limit
        while True:
            chunk = 1 << 20
            if self.timeline:
                due = self.timeline.checkpoints[-1].steps + self.checkpoint_every
                if self.core.steps >= due:
                    self.timeline.take()
                    due = self.core.steps + self.checkpoint_every
                chunk = due - self.core.steps
            if end is not None:
                chunk = min(chunk, end - self.core.steps)
                if chunk <= 0:
                    return Stop(StopReason.LIMIT)
            stop = self.machine.run(chunk)
            if stop.reason is not StopReason.LIMIT:
                return stop
            if interrupt():
                return Stop(StopReason.LIMIT, message="interrupted")

    def _event(self, stop: Stop, default: Why = Why.STEP) -> Event:
        """What a Stop from the machine means to the user, with the traps taken on
        the way; the new stop becomes the reference for 'changed'."""
        core = self.core
        traps = self._new_traps()
        if stop.reason is StopReason.LIMIT:
            event = Event(Why.INTERRUPTED if stop.message == "interrupted" else default)
        elif stop.reason is StopReason.BREAKPOINT:
            hit = [b for b in self.breakpoints.values() if b.addr == core.pc]
            for bp in hit:
                bp.hits += 1
            event = Event(Why.BREAKPOINT, breakpoint=hit[0].number if hit else None)
            for bp in hit:
                if bp.temporary:
                    self.delete(bp.number)
        elif stop.reason is StopReason.CAUGHT:
            e = core.exit
            host = stop.message == HOST
            trap = Trap(e.cause, e.tval, e.epc, 0 if host else core.pc, e.insn, e.from_priv,
                        e.to_priv, core.steps)
            for cp in self.catchpoints.values():
                if cp.covers(trap.cause):
                    cp.hits += 1
                    event = Event(Why.CAUGHT, trap=trap, breakpoint=cp.number)
                    break
            else:
                event = Event(Why.CAUGHT, trap=trap)
            traps = [t for t in traps if t.steps != trap.steps or t.cause != trap.cause]
        elif stop.reason is StopReason.WATCH:
            event = Event(Why.WATCH, watch=self._watch_hit())
        elif stop.reason is StopReason.EXIT:
            event = Event(Why.EXIT, stop.message, status=stop.status)
            self.ended = event
        else:
            event = Event(Why.CRASH, stop.message)
            self.ended = event
        if not self.ended and self._host_pending is None:
            event, traps = self._take_due_interrupt(event, traps)
        if event.trap:
            self.last_trap = event.trap
        elif traps:
            self.last_trap = traps[-1]
        event.traps = traps
        self._stopped(event)
        return event

    def _take_due_interrupt(self, event: Event, traps: list[Trap]) -> tuple[Event, list[Trap]]:
        """A stop never leaves an interrupt due and not taken: it is taken now, as
        the next run would take it first, so that every stop is a state that going
        back in time can reproduce. Caught, it becomes the reason of the stop."""
        if not self.core.take_interrupt():
            return event, traps
        fresh = self._new_traps()
        trap = fresh[-1] if fresh else None
        if trap and event.why in (Why.STEP, Why.INTERRUPTED, Why.FINISH, Why.UNTIL):
            covering = [cp for cp in self.catchpoints.values() if cp.covers(trap.cause)]
            if covering:
                covering[0].hits += 1
                return Event(Why.CAUGHT, trap=trap, breakpoint=covering[0].number), traps
        return event, traps + fresh

    def watch_number(self, e) -> int | None:
        """The watchpoint the core's watch exit e is for."""
        for wp in self.watchpoints.values():
            if wp.paddr < e.addr + e.size and e.addr < wp.paddr + wp.length and \
                    (wp.kind & (Watch.WRITE if e.is_write else Watch.READ)):
                return wp.number
        return None

    def _watch_hit(self) -> WatchHit | None:
        e = self.core.exit
        number = self.watch_number(e)
        if number is None:
            return None
        wp = self.watchpoints[number]
        wp.hits += 1
        new = self._host_bytes(wp.paddr, wp.length)
        hit = WatchHit(wp.number, e.tval, e.addr, e.size, bool(e.is_write), e.data, e.epc,
                       wp.old, new)
        wp.old = new
        return hit

    def _stopped(self, event: Event) -> None:
        if self._whose != self._focus_name():       # another guest: nothing to compare
            self.mark()
        regs, csrs = self.registers(), self.key_csrs()
        names = ["pc", *ABI_NAMES]
        old_regs = [self._regs_pc, *self._regs_at_stop]
        new_regs = [self.pc, *regs]
        self.changed_regs = {names[i]: (old_regs[i], new_regs[i]) for i in range(1, 33)
                             if old_regs[i] != new_regs[i]}
        self.changed_csrs = {n: (self._csrs_at_stop[n], v) for n, v in csrs.items()
                             if self._csrs_at_stop[n] != v}
        self._regs_at_stop, self._csrs_at_stop, self._regs_pc = regs, csrs, self.pc
        self.last_event = event

    def mark(self) -> None:
        """The present becomes the reference for 'changed' (at the start, and when
        the focus moves to another guest)."""
        self._regs_at_stop, self._csrs_at_stop = self.registers(), self.key_csrs()
        self._regs_pc = self.pc
        self._whose = self._focus_name()

    def _focus_name(self) -> str | None:
        return self.hv.focus.name if self.hv else None

    def step(self, count: int = 1) -> Event:
        """Execute count instructions; stops early at breakpoints, watchpoints and
        caught traps. An interrupt due before the next instruction is taken first,
        and that alone is a step: it stops at the handler's first instruction."""
        self._check_running()
        if count < 1:
            raise DebugError("the count must be at least 1")
        if self.hv:
            return self._hv_stopped(self.hv.step(count))
        if self._host_pending is not None:
            stop = self._finish_host()
            if stop is not None:
                return self._event(stop)
            event = Event(Why.STEP, "the SBI firmware (M-mode, in the host) handled the trap")
            self._stopped(event)
            return event
        cause = self.core.take_interrupt()
        if cause:
            traps = self._new_traps()
            trap = traps[-1] if traps else None
            self.last_trap = trap
            caught = trap is not None and \
                any(cp.covers(trap.cause) for cp in self.catchpoints.values())
            event = Event(Why.CAUGHT if caught else Why.INTERRUPT_TAKEN, trap=trap)
            self._stopped(event)
            return event
        return self._event(self._run(count))

    def cont(self, interrupt=None) -> Event:
        self._check_running()
        if self.hv:
            return self._hv_stopped(self.hv.cont(interrupt))
        return self._event(self._run(None, interrupt), Why.INTERRUPTED)

    def _hv_stopped(self, event: Event) -> Event:
        """A stop of the hypervisor: the session ends when every guest has."""
        if event.why is Why.EXIT:
            self.ended = event
        self._stopped(event)
        return event

    def until(self, addr: int) -> Event:
        """Continue to addr (or an earlier stop)."""
        self._check_running()
        if self.hv:
            return self._hv_stopped(self.hv.until(addr))
        present = addr in {b.addr for b in self.breakpoints.values()}
        self.core.break_add(addr)
        try:
            event = self._event(self._run(None), Why.INTERRUPTED)
        finally:
            if not present:
                self.core.break_remove(addr)
        if event.why is Why.BREAKPOINT and self.core.pc == addr and event.breakpoint is None:
            event.why = Why.UNTIL
        return event

    def finish(self) -> Event:
        """Run until the trap handler now running returns with xRET (MRET in an
        M-mode handler, SRET in S), counting nested traps; stops early at
        breakpoints, watchpoints and caught traps."""
        self._check_running()
        if self.hv:
            return self._hv_stopped(self.hv.finish())
        level = self.core.priv
        if level == Priv.U:
            raise DebugError("finish: the hart is in U-mode, not in a trap handler")
        if not any(t.to_priv == level and t.handler for t in self.trap_history()):
            raise DebugError(f"finish: not in a trap handler (no trap has been taken to "
                             f"{level.name}-mode yet)")
        ret = INSN_MRET if level == Priv.M else INSN_SRET
        depth, seen = 0, self.core.trap_count
        breaks = {b.addr for b in self.breakpoints.values()}
        for _ in range(FINISH_LIMIT):
            word = self.instruction(self.core.pc)
            returning = word == ret and self.core.priv == level
            stop = self._run(1)
            if stop.reason is not StopReason.LIMIT or stop.message:
                return self._event(stop, Why.INTERRUPTED)
            traps = self.core.trap_count - seen
            seen = self.core.trap_count
            if traps:
                depth += sum(1 for t in self.trap_history()[-min(traps, 64):]
                             if t.to_priv == level)
            elif returning:
                if depth == 0:
                    return self._event(stop, Why.FINISH)
                depth -= 1
            if self.core.pc in breaks:
                return self._event(Stop(StopReason.BREAKPOINT))
        return self._event(Stop(StopReason.LIMIT), Why.LIMIT)

    # ---- going back

    @property
    def reversible(self) -> bool:
        return self.timeline is not None or self.hv is not None

    def _need_timeline(self) -> Timeline:
        if self.timeline is None:
            raise DebugError("reverse execution is off for this session")
        return self.timeline

    def _goto(self, target: int, take_interrupt: bool = True) -> None:
        """Re-create the state at clock target (see the module's docstring)."""
        timeline = self._need_timeline()
        self._host_pending = None
        self._host_armed = False
        timeline.restore(max(target, timeline.first))
        saved_out = self.machine.console.out
        self.machine.console.out = _Muted()
        self.core.break_clear()
        self.core.watch_clear()
        self._sync_catches(enabled=False)
        try:
            while self.core.steps < target:
                stop = self._run(target - self.core.steps)
                if stop.reason is not StopReason.LIMIT or stop.message:
                    break
            if take_interrupt:
                self.core.take_interrupt()
        finally:
            self.machine.console.out = saved_out
            self._host_armed = True
            for addr in {b.addr for b in self.breakpoints.values()}:
                self.core.break_add(addr)
            for wp in self.watchpoints.values():
                self.core.watch_add(wp.paddr, wp.length, wp.kind)
            self._sync_catches()
        self.ended = None
        self._seen_traps = self.core.trap_count
        history = self.trap_history()
        self.last_trap = history[-1] if history else None
        for wp in self.watchpoints.values():
            wp.old = self._host_bytes(wp.paddr, wp.length)

    def reverse_step(self, count: int = 1) -> Event:
        if count < 1:
            raise DebugError("the count must be at least 1")
        if self.hv:
            return self._hv_back(self.hv.reverse_step(count))
        timeline = self._need_timeline()
        now = self.core.steps
        if now <= timeline.first:
            raise DebugError("already at the start of the recording: nothing to go back to")
        target = max(now - count, timeline.first)
        self._goto(target)
        event = Event(Why.REVERSE) if now - count >= timeline.first else \
            Event(Why.REVERSE_START, "at the start of the recording")
        self._stopped(event)
        return event

    def reverse_continue(self) -> Event:
        """Back to the most recent earlier stop: a breakpoint, a watchpoint or a
        caught trap; else to the start of the recording."""
        if self.hv:
            return self._hv_back(self.hv.reverse_continue())
        timeline = self._need_timeline()
        now = self.core.steps
        if now <= timeline.first:
            raise DebugError("already at the start of the recording: nothing to go back to")
        starts = [c.steps for c in timeline.checkpoints if c.steps < now]
        for start in reversed(starts):
            found = self._scan(start, now)
            if found is not None:
                self._goto(found[0], found[1])
                event = self._replay_event(found)
                self._stopped(event)
                return event
            now = start
        self._goto(timeline.first)
        event = Event(Why.REVERSE_START, "no earlier breakpoint, watchpoint or caught trap: "
                      "at the start of the recording")
        self._stopped(event)
        return event

    def _hv_back(self, event: Event) -> Event:
        """A stop of the hypervisor in the past: it runs again from there."""
        self.ended = None
        for wp in self.watchpoints.values():
            wp.old = self._host_bytes(wp.paddr, wp.length)
        self._stopped(event)
        return event

    def _scan(self, start: int, end: int):
        """Run [start, end) again with every stop armed; the last stop before end,
        as (clock, take_interrupt, Stop, pc), or None."""
        timeline = self._need_timeline()
        self._host_pending = None
        timeline.restore(start)
        found = None
        if start < end and self.core.pc in {b.addr for b in self.breakpoints.values()}:
            found = (start, True, Stop(StopReason.BREAKPOINT), self.core.pc)
        saved_out = self.machine.console.out
        self.machine.console.out = _Muted()
        self._host_armed = False
        try:
            while self.core.steps < end:
                stop = self.machine.run(end - self.core.steps)
                if stop.reason in (StopReason.LIMIT, StopReason.EXIT, StopReason.CRASH):
                    break
                if self.core.steps < end:
                    found = (self.core.steps, True, stop, self.core.pc)
        finally:
            self.machine.console.out = saved_out
            self._host_armed = True
        return found

    def _replay_event(self, found) -> Event:
        steps, _, stop, pc = found
        if stop.reason is StopReason.BREAKPOINT:
            hit = [b.number for b in self.breakpoints.values() if b.addr == self.core.pc]
            return Event(Why.BREAKPOINT, breakpoint=hit[0] if hit else None)
        if stop.reason is StopReason.CAUGHT:
            history = self.trap_history()
            trap = history[-1] if history else None
            self.last_trap = trap
            covering = [cp.number for cp in self.catchpoints.values()
                        if trap and cp.covers(trap.cause)]
            return Event(Why.CAUGHT, trap=trap, breakpoint=covering[0] if covering else None)
        return Event(Why.WATCH, "went back to the access")
