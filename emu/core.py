"""The thin Python face of the C core (csrc/emu.h).

Core owns one machine of the C core and turns its return codes into exceptions.
Registers are read and written in place through the hart struct (`core.x[10]`),
or all at once through one buffer (`core.registers()`); the exit record is one
struct reused by every run: no per-exit allocation."""
import enum
from dataclasses import dataclass

from emu.errors import CoreError

try:
    from emu._core import ffi, lib
except ImportError as error:  # pragma: no cover - a broken install
    raise ImportError(
        "emu's C core is not built: run `pip install -e .` (or `make build`)") from error

CORE_VERSION = 6
if lib.emu_version() != CORE_VERSION:  # pragma: no cover - a stale build
    raise ImportError(f"emu's C core is version {lib.emu_version()}, this package needs "
                      f"{CORE_VERSION}: rebuild it with `pip install -e .`")

RAM_BASE = lib.EMU_RAM_BASE


class Exit(enum.IntEnum):
    """Why Core.run returned (EMU_EXIT_* in csrc/emu.h)."""
    BUDGET = lib.EMU_EXIT_BUDGET
    TRAP = lib.EMU_EXIT_TRAP
    BREAKPOINT = lib.EMU_EXIT_BREAKPOINT
    MMIO = lib.EMU_EXIT_MMIO
    WFI = lib.EMU_EXIT_WFI
    POWEROFF = lib.EMU_EXIT_POWEROFF
    HTIF = lib.EMU_EXIT_HTIF
    OUTPUT = lib.EMU_EXIT_OUTPUT
    TRAP_LOOP = lib.EMU_EXIT_TRAP_LOOP
    CAUGHT = lib.EMU_EXIT_CAUGHT
    WATCH = lib.EMU_EXIT_WATCH
    IRQ = lib.EMU_EXIT_IRQ


class Watch(enum.IntFlag):
    """Kinds of watchpoint (EMU_WATCH_* in csrc/emu.h)."""
    READ = lib.EMU_WATCH_READ
    WRITE = lib.EMU_WATCH_WRITE
    ACCESS = lib.EMU_WATCH_READ | lib.EMU_WATCH_WRITE


@dataclass(frozen=True)
class TrapRecord:
    """One trap from the core's trap log (struct emu_trap_record)."""
    steps: int
    cause: int
    tval: int
    epc: int
    handler: int        # 0: handed to the host (host-owned M-mode)
    insn: int
    from_priv: int
    to_priv: int


# Exit by reason, for Core.run: indexing a tuple is cheaper than calling the enum.
EXITS = tuple(sorted(Exit, key=int))
assert [int(e) for e in EXITS] == list(range(len(EXITS)))


class Priv(enum.IntEnum):
    U = lib.EMU_PRIV_U
    S = lib.EMU_PRIV_S
    M = lib.EMU_PRIV_M


class Access(enum.IntEnum):
    LOAD = 0
    STORE = 1
    FETCH = 2


NO_EXCEPTION = -1


def ensure(status: int, message: str) -> None:
    """The one place a C return code becomes an exception."""
    if status != 0:
        raise CoreError(message)


class Core:
    """One hart with its RAM and the C devices."""

    def __init__(self, ram_size: int):
        machine = lib.emu_new(ram_size)
        if machine == ffi.NULL:
            raise CoreError(f"cannot make a machine with {ram_size} bytes of RAM")
        self._m = ffi.gc(machine, lib.emu_free)
        self.ram_size = ram_size
        self.hart = lib.emu_hart(self._m)
        self.x = self.hart.x
        # The same 32 registers as one buffer of unsigned 32-bit words.
        self.regs = memoryview(ffi.buffer(self.hart.x)).cast("I")
        self.exit = lib.emu_exit_record(self._m)
        self.ram = ffi.buffer(lib.emu_ram(self._m), ram_size)
        self._out = ffi.new("uint8_t[]", lib.EMU_UART_OUT_CAPACITY)
        self._word = ffi.new("uint32_t *")
        self._paddr = ffi.new("uint64_t *")

    # ---- execution

    def run(self, budget: int, _run=lib.emu_run, _exits=EXITS) -> Exit:
        return _exits[_run(self._m, budget)]

    @property
    def steps(self) -> int:
        return lib.emu_steps(self._m)

    @property
    def retired(self) -> int:
        return lib.emu_retired(self._m)

    # ---- registers

    def registers(self) -> list[int]:
        """x0 to x31, read through one buffer."""
        return self.regs.tolist()

    @property
    def pc(self) -> int:
        return self.hart.pc

    @pc.setter
    def pc(self, value: int) -> None:
        self.hart.pc = value

    @property
    def priv(self) -> Priv:
        return Priv(self.hart.priv)

    @priv.setter
    def priv(self, value: int) -> None:
        lib.emu_set_priv(self._m, value)

    def csr_read(self, number: int) -> int:
        ensure(lib.emu_csr_read(self._m, number, self._word), f"no CSR {number:#x}")
        return self._word[0]

    def csr_write(self, number: int, value: int) -> None:
        ensure(lib.emu_csr_write(self._m, number, value & 0xFFFF_FFFF), f"no CSR {number:#x}")

    def csr_set_bits(self, number: int, bits: int, on: bool) -> None:
        """Set or clear bits as CSRRS/CSRRC do (mip: the PLIC's SEIP line is not
        written back as the software bit)."""
        ensure(lib.emu_csr_set_bits(self._m, number, bits, on), f"no CSR {number:#x}")

    # ---- memory

    def is_ram(self, addr: int, size: int) -> bool:
        return RAM_BASE <= addr and addr + size <= RAM_BASE + self.ram_size

    def read(self, addr: int, size: int) -> bytes:
        """Physical RAM. Addresses and sizes may come from a guest: they are
        checked here, before anything is allocated or passed to C."""
        if not self.is_ram(addr, size) or size < 0:
            raise CoreError(f"{size} bytes at {addr:#x} are not all RAM")
        offset = addr - RAM_BASE
        return bytes(self.ram[offset:offset + size])

    def write(self, addr: int, data: bytes) -> None:
        if not self.is_ram(addr, len(data)):
            raise CoreError(f"{len(data)} bytes at {addr:#x} are not all RAM")
        ensure(lib.emu_phys_write(self._m, addr, data, len(data)), "RAM write failed")

    def translate(self, vaddr: int, access: Access = Access.LOAD) -> int | None:
        """The physical address an access would reach now, or None if it faults."""
        if lib.emu_translate(self._m, vaddr, access, self._paddr) != NO_EXCEPTION:
            return None
        return self._paddr[0]

    def pmp_allows(self, paddr: int, size: int, access: Access, priv: int) -> bool:
        """Whether PMP, as configured now, lets privilege priv make an access of
        size bytes at the (34-bit) physical address paddr."""
        if size < 1 or not 0 <= paddr < 1 << 34:
            raise CoreError(f"{size} bytes at {paddr:#x}: not a physical access")
        return lib.emu_pmp_check(self._m, paddr, size, access, priv) == NO_EXCEPTION

    # ---- the host's side of the board

    def set_host_mmode(self, on: bool) -> None:
        lib.emu_set_host_mmode(self._m, int(on))

    def set_misa(self, value: int) -> None:
        """The ISA, as misa reads (emu.isa.ISAS has the values): what the decoder
        accepts from now on. Software cannot change it; state_load keeps it."""
        ensure(lib.emu_set_misa(self._m, value & 0xFFFF_FFFF),
               f"the core cannot be an ISA with misa {value:#x}")

    def break_add(self, addr: int) -> None:
        ensure(lib.emu_break_add(self._m, addr), "out of memory for breakpoints")

    def break_remove(self, addr: int) -> None:
        ensure(lib.emu_break_remove(self._m, addr), f"no breakpoint at {addr:#x}")

    def break_clear(self) -> None:
        lib.emu_break_clear(self._m)

    def mmio_add(self, base: int, size: int) -> None:
        ensure(lib.emu_mmio_add(self._m, base, size), "out of memory for MMIO ranges")

    def mmio_reply(self, value: int) -> None:
        lib.emu_mmio_reply(self._m, value & 0xFFFF_FFFF)

    def mmio_fault(self) -> None:
        lib.emu_mmio_fault(self._m)

    def htif_set(self, tohost: int, fromhost: int) -> None:
        lib.emu_htif_set(self._m, tohost, fromhost)

    def htif_ack(self, fromhost: int) -> None:
        lib.emu_htif_ack(self._m, fromhost)

    def take_interrupt(self) -> int:
        """Take the interrupt due before the next instruction, if the guest handles
        it (a tracer shows it before the handler's first instruction): its cause or 0."""
        return lib.emu_interrupt(self._m)

    def uart_take(self) -> bytes:
        n = lib.emu_uart_take(self._m, self._out, lib.EMU_UART_OUT_CAPACITY)
        return bytes(ffi.buffer(self._out, n))

    def uart_input(self, data: bytes) -> None:
        ensure(lib.emu_uart_input(self._m, data, len(data)), "out of memory for UART input")

    def uart_read(self, limit: int) -> bytes:
        """Take up to limit bytes of the UART's input, as the guest reading RBR would."""
        buf = ffi.new("uint8_t[]", limit)
        return bytes(ffi.buffer(buf, lib.emu_uart_read(self._m, buf, limit)))

    def device_lines(self) -> int:
        """The C devices' interrupt lines: bit n is PLIC source n (the UART's is 10)."""
        return lib.emu_device_lines(self._m)

    def set_external(self, mip: int) -> None:
        """Drive mip.MEIP and mip.SEIP (the PLIC's outputs); other bits are ignored."""
        lib.emu_set_external(self._m, mip)

    def protect_clint(self, on: bool = True) -> None:
        lib.emu_protect_clint(self._m, on)

    @property
    def mtime(self) -> int:
        return lib.emu_mtime(self._m)

    @property
    def mtimecmp(self) -> int:
        return lib.emu_mtimecmp(self._m)

    @mtimecmp.setter
    def mtimecmp(self, value: int) -> None:
        lib.emu_set_mtimecmp(self._m, value)

    # ---- debugging: catching traps, the trap log, watchpoints, checkpoints

    def catch_set(self, exceptions: int, interrupts: int) -> None:
        """Causes (bit n: exception n, interrupt n) that end a run as Exit.CAUGHT
        once the trap is taken."""
        lib.emu_catch_set(self._m, exceptions & 0xFFFF_FFFF, interrupts & 0xFFFF_FFFF)

    @property
    def trap_count(self) -> int:
        return lib.emu_trap_count(self._m)

    def trap_log(self) -> list[TrapRecord]:
        """The last traps the hart took (at most EMU_TRAP_LOG), oldest first."""
        out = ffi.new("struct emu_trap_record[]", lib.EMU_TRAP_LOG)
        n = lib.emu_trap_log(self._m, out, lib.EMU_TRAP_LOG)
        return [TrapRecord(r.steps, r.cause, r.tval, r.epc, r.handler, r.insn, r.from_priv,
                           r.to_priv) for r in out[0:n]]

    def watch_add(self, addr: int, length: int, kinds: Watch) -> None:
        ensure(lib.emu_watch_add(self._m, addr, length, int(kinds)),
               f"cannot watch {length} bytes at {addr:#x}: at most {lib.EMU_WATCH_MAX} "
               "watchpoints, of at least one byte")

    def watch_remove(self, addr: int, length: int, kinds: Watch) -> None:
        ensure(lib.emu_watch_remove(self._m, addr, length, int(kinds)),
               f"no watchpoint on {length} bytes at {addr:#x}")

    def watch_clear(self) -> None:
        lib.emu_watch_clear(self._m)

    def state_save(self) -> bytes:
        """Registers, CSRs, clock and devices (not RAM), for state_load."""
        size = lib.emu_state_size(self._m)
        buf = ffi.new("uint8_t[]", size)
        written = lib.emu_state_save(self._m, buf, size)
        if written == 0:
            raise CoreError("cannot save the machine state")
        return bytes(ffi.buffer(buf, written))

    def state_load(self, state: bytes) -> None:
        ensure(lib.emu_state_load(self._m, state, len(state)), "cannot restore a machine state")

    def dirty_track(self, on: bool) -> None:
        ensure(lib.emu_dirty_track(self._m, int(on)), "out of memory for the dirty-page map")

    def dirty_pages(self) -> list[int]:
        """Indices of the RAM pages written since the last dirty_clear (or since
        tracking began); empty when tracking is off."""
        mapping = lib.emu_dirty_map(self._m)
        if mapping == ffi.NULL:
            return []
        data = bytes(ffi.buffer(mapping, self.ram_size >> 12))
        if data.count(0) == len(data):      # nothing written, the usual case: at C speed
            return []
        return [i for i, written in enumerate(data) if written]

    def dirty_clear(self) -> None:
        lib.emu_dirty_clear(self._m)
