"""SBI firmware: what an S-mode kernel calls with ECALL (RISC-V SBI spec v2.0).

The calls themselves (`sbi_call`) work on any `SbiPlatform`: the bare machine's
firmware below (`emu run --boot s`) and each guest of the hypervisor.
Supported: Base, TIME, SRST, DBCN, HSM, IPI and RFENCE for the one hart, and the
legacy console putchar, getchar and shutdown. Calling convention (SBI spec
chapter 3): a7 = extension ID, a6 = function ID, a0-a5 arguments; the call
returns an error code in a0 and a value in a1. Legacy extensions (chapter 5)
return their one result in a0."""
from __future__ import annotations

import enum
from typing import Callable, Protocol

from emu.core import Core, Priv
from emu.isa import CSRS

SPEC_VERSION = 2 << 24            # major 2, minor 0 (SBI spec section 4.1)
IMPL_ID = 0x656D75                # "emu": not one of the registered IDs
IMPL_VERSION = 1


class SbiError(enum.IntEnum):
    """Standard SBI error codes (SBI spec table 1)."""
    SUCCESS = 0
    FAILED = -1
    NOT_SUPPORTED = -2
    INVALID_PARAM = -3
    DENIED = -4
    INVALID_ADDRESS = -5
    ALREADY_AVAILABLE = -6


class Eid(enum.IntEnum):
    LEGACY_PUTCHAR = 0x01
    LEGACY_GETCHAR = 0x02
    LEGACY_SHUTDOWN = 0x08
    BASE = 0x10
    TIME = 0x54494D45       # "TIME"
    SRST = 0x53525354       # "SRST"
    DBCN = 0x4442434E       # "DBCN"
    HSM = 0x48534D          # "HSM"
    IPI = 0x735049          # "sPI"
    RFENCE = 0x52464E43     # "RFNC"


LEGACY = {Eid.LEGACY_PUTCHAR, Eid.LEGACY_GETCHAR, Eid.LEGACY_SHUTDOWN}

SRST_SHUTDOWN, SRST_COLD_REBOOT, SRST_WARM_REBOOT = 0, 1, 2
SRST_NO_REASON, SRST_SYSTEM_FAILURE = 0, 1
SRST_TYPE_VENDOR = 0xF000_0000          # types from here on are vendor-specific
SRST_REASON_SBI = 0xE000_0000           # reasons from here on are SBI- or vendor-specific


HART_ID = 0                             # the one hart
ALL_HARTS = 0xFFFF_FFFF                 # hart_mask_base -1: every hart (SBI spec 3.1)
HSM_STARTED = 0                         # hart_get_status (SBI spec table 19)
SUSPEND_NON_RETENTIVE = 0x8000_0000
# Reserved suspend types (SBI spec table 20): above each default, below the
# platform-specific ranges that start at 0x1000_0000 and 0x9000_0000.
SUSPEND_RESERVED = (range(0x1, 0x1000_0000), range(0x8000_0001, 0x9000_0000))
RFENCE_FLUSH_ALL = 0xFFFF_FFFF          # size -1 (or start 0 and size 0): everything


class SbiPlatform(Protocol):
    """What the calls need from the machine they serve."""

    def console_write(self, data: bytes) -> None: ...
    def console_read(self, limit: int) -> bytes: ...
    def read_memory(self, addr: int, size: int) -> bytes | None: ...
    def write_memory(self, addr: int, data: bytes) -> bool: ...
    def set_timer(self, deadline: int) -> None: ...
    def shutdown(self, status: int, why: str) -> None: ...
    def send_ipi(self) -> None: ...         # make the supervisor software interrupt pending
    def sfence_vma(self, start: int, size: int) -> None: ...   # size 0: everything
    def stop_hart(self, why: str) -> None: ...     # the hart stops for good


Result = tuple[int, int]


def _base(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    values = {0: SPEC_VERSION, 1: IMPL_ID, 2: IMPL_VERSION,
              4: 0, 5: 0, 6: 0}     # mvendorid, marchid, mimpid read 0
    if fid == 3:                    # probe_extension
        return SbiError.SUCCESS, int(args[0] in EXTENSIONS)
    if fid in values:
        return SbiError.SUCCESS, values[fid]
    return SbiError.NOT_SUPPORTED, 0


def _time(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    if fid != 0:
        return SbiError.NOT_SUPPORTED, 0
    platform.set_timer(args[1] << 32 | args[0])     # RV32: the 64-bit time in a0, a1
    return SbiError.SUCCESS, 0


def _srst(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    kind, reason = args[0], args[1]
    if fid != 0:
        return SbiError.NOT_SUPPORTED, 0
    if SRST_WARM_REBOOT < kind < SRST_TYPE_VENDOR:
        return SbiError.INVALID_PARAM, 0
    if SRST_SYSTEM_FAILURE < reason < SRST_REASON_SBI:   # SBI spec 10.1: reserved
        return SbiError.INVALID_PARAM, 0
    if kind != SRST_SHUTDOWN:
        return SbiError.NOT_SUPPORTED, 0    # emu does not reboot
    if reason == SRST_NO_REASON:
        platform.shutdown(0, "SBI shutdown")
    elif reason == SRST_SYSTEM_FAILURE:
        platform.shutdown(1, "SBI shutdown for a system failure")
    else:
        platform.shutdown(1, f"SBI shutdown, implementation-specific reason {reason:#x}")
    return SbiError.SUCCESS, 0


def _dbcn(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    count, addr = args[0], args[2] << 32 | args[1]
    if fid == 0:                    # console_write
        data = platform.read_memory(addr, count)
        if data is None:
            return SbiError.INVALID_PARAM, 0
        platform.console_write(data)
        return SbiError.SUCCESS, count
    if fid == 1:                    # console_read
        if platform.read_memory(addr, count) is None:
            return SbiError.INVALID_PARAM, 0        # before any input is consumed
        data = platform.console_read(count)
        if not platform.write_memory(addr, data):
            return SbiError.INVALID_PARAM, 0
        return SbiError.SUCCESS, len(data)
    if fid == 2:                    # console_write_byte
        platform.console_write(bytes([args[0] & 0xFF]))
        return SbiError.SUCCESS, 0
    return SbiError.NOT_SUPPORTED, 0


def _harts(mask: int, base: int) -> set[int]:
    """The hart ids a hart mask names (SBI spec 3.1)."""
    if base == ALL_HARTS:
        return {HART_ID}
    return {base + bit for bit in range(32) if mask >> bit & 1}


def _hsm(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    """Hart state management (SBI spec chapter 9), as OpenSBI answers on a
    machine of one hart: it is always started, and no other hart exists."""
    hart = args[0]
    if fid == 0:                    # hart_start(hartid, start_addr, opaque)
        return (SbiError.ALREADY_AVAILABLE if hart == HART_ID else SbiError.INVALID_PARAM), 0
    if fid == 1:                    # hart_stop(): returns only on failure
        platform.stop_hart("the hart stopped itself (SBI hart_stop), and no other hart "
                           "can start it again")
        return SbiError.SUCCESS, 0
    if fid == 2:                    # hart_get_status(hartid)
        return (SbiError.SUCCESS, HSM_STARTED) if hart == HART_ID else \
            (SbiError.INVALID_PARAM, 0)
    if fid == 3:                    # hart_suspend(type, resume_addr, opaque)
        kind = args[0]
        if any(kind in reserved for reserved in SUSPEND_RESERVED):
            return SbiError.INVALID_PARAM, 0
        return SbiError.NOT_SUPPORTED, 0    # emu has no suspend states
    return SbiError.NOT_SUPPORTED, 0


def _ipi(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    """send_ipi(hart_mask, hart_mask_base) (SBI spec chapter 7)."""
    if fid != 0:
        return SbiError.NOT_SUPPORTED, 0
    harts = _harts(args[0], args[1])
    if harts - {HART_ID}:
        return SbiError.INVALID_PARAM, 0
    if harts:
        platform.send_ipi()
    return SbiError.SUCCESS, 0


def _rfence(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    """Remote fences (SBI spec chapter 8) on the one hart, so local ones.
    remote_fence_i needs nothing: emu's decoded-instruction cache follows every
    store. The hypervisor fences (FIDs 3-6) need the H extension, absent here."""
    if fid > 2:
        return SbiError.NOT_SUPPORTED, 0
    harts = _harts(args[0], args[1])
    if harts - {HART_ID}:
        return SbiError.INVALID_PARAM, 0
    if harts and fid in (1, 2):     # remote_sfence_vma(, _asid): every ASID, to be safe
        start, size = args[2], args[3]
        everything = size == RFENCE_FLUSH_ALL or (start == 0 and size == 0)
        platform.sfence_vma(start, 0 if everything else size)
    return SbiError.SUCCESS, 0


def _legacy_putchar(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    platform.console_write(bytes([args[0] & 0xFF]))
    return 0, args[1]


def _legacy_getchar(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    data = platform.console_read(1)
    return (data[0] if data else -1), args[1]


def _legacy_shutdown(platform: SbiPlatform, fid: int, args: list[int]) -> Result:
    platform.shutdown(0, "SBI legacy shutdown")
    return 0, args[1]


EXTENSIONS: dict[int, Callable[[SbiPlatform, int, list[int]], Result]] = {
    Eid.BASE: _base,
    Eid.TIME: _time,
    Eid.SRST: _srst,
    Eid.DBCN: _dbcn,
    Eid.HSM: _hsm,
    Eid.IPI: _ipi,
    Eid.RFENCE: _rfence,
    Eid.LEGACY_PUTCHAR: _legacy_putchar,
    Eid.LEGACY_GETCHAR: _legacy_getchar,
    Eid.LEGACY_SHUTDOWN: _legacy_shutdown,
}


def sbi_call(platform: SbiPlatform, eid: int, fid: int, args: list[int]) -> Result:
    """Perform one call; returns the new (a0, a1), as 32-bit values."""
    handler = EXTENSIONS.get(eid)
    if handler is None:
        error, value = SbiError.NOT_SUPPORTED, 0
    else:
        error, value = handler(platform, fid, args)
    return int(error) & 0xFFFF_FFFF, int(value) & 0xFFFF_FFFF


# ---- the firmware of the bare machine (`emu run --boot s`) ----

# Delegated to S as OpenSBI would after its own handling: every exception an S-mode
# kernel handles, that is all but the ECALL from S (the SBI call itself).
CAUSE_SUPERVISOR_ECALL = 9
CAUSE_MACHINE_TIMER = 0x8000_0007
MEDELEG = sum(1 << cause for cause in (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15))
MIDELEG = (1 << 1) | (1 << 5) | (1 << 9)        # SSIP, STIP, SEIP
MCOUNTEREN = 0b111                               # cycle, time, instret readable in S
MIP_SSIP = 1 << 1
MIP_STIP = 1 << 5
MIE_MTIE = 1 << 7
A0, A1, A6, A7 = 10, 11, 16, 17


class Firmware:
    """M-mode played by Python: boots an S-mode kernel and answers its traps. It is
    the SbiPlatform of the bare machine: console and memory are the machine's, the
    timer is the CLINT's."""

    def __init__(self, machine):
        self.machine = machine
        self.core: Core = machine.core

    def boot(self, entry: int, hart_id: int = 0, dtb: int = 0) -> None:
        """Start the kernel as OpenSBI does: S-mode at its entry, a0 = hart id,
        a1 = the device tree's address, satp = 0."""
        core = self.core
        core.set_host_mmode(True)
        core.protect_clint()            # the timer is the firmware's, as OpenSBI's PMP keeps it
        core.csr_write(CSRS["medeleg"], MEDELEG)
        core.csr_write(CSRS["mideleg"], MIDELEG)
        core.csr_write(CSRS["mcounteren"], MCOUNTEREN)
        core.x[A0] = hart_id
        core.x[A1] = dtb
        core.pc = entry
        core.priv = Priv.S

    def handle_trap(self) -> bool:
        """Service the trap in core.exit; False if it is not firmware's to handle."""
        core = self.core
        cause = core.exit.cause
        if cause == CAUSE_SUPERVISOR_ECALL:
            x = core.x
            args = [x[A0 + i] for i in range(6)]
            x[A0], x[A1] = sbi_call(self, x[A7], x[A6], args)
            core.pc = core.pc + 4
            return True
        if cause == CAUSE_MACHINE_TIMER:
            # The M timer fired for the kernel's deadline: pass it on as the
            # supervisor timer, and silence the M timer until the next set_timer.
            self._set_csr_bits("mip", MIP_STIP, True)
            self._set_csr_bits("mie", MIE_MTIE, False)
            return True
        return False

    def _set_csr_bits(self, name: str, bits: int, on: bool) -> None:
        self.core.csr_set_bits(CSRS[name], bits, on)

    # ---- SbiPlatform

    def console_write(self, data: bytes) -> None:
        self.machine.console.write(data)

    def console_read(self, limit: int) -> bytes:
        return self.core.uart_read(limit)     # one input queue: the UART's

    def read_memory(self, addr: int, size: int) -> bytes | None:
        return self.machine.read_ram(addr, size)

    def write_memory(self, addr: int, data: bytes) -> bool:
        return self.machine.write_ram(addr, data)

    def set_timer(self, deadline: int) -> None:
        """On the CLINT; a new deadline clears the pending supervisor timer."""
        self._set_csr_bits("mip", MIP_STIP, False)
        self.core.mtimecmp = deadline
        self._set_csr_bits("mie", MIE_MTIE, True)

    def shutdown(self, status: int, why: str) -> None:
        self.machine.power_off(status, why)

    def send_ipi(self) -> None:
        self._set_csr_bits("mip", MIP_SSIP, True)

    def sfence_vma(self, start: int, size: int) -> None:
        """The whole TLB: writing satp flushes it (csrc/csr.c), as SFENCE.VMA does."""
        satp = CSRS["satp"]
        self.core.csr_write(satp, self.core.csr_read(satp))

    def stop_hart(self, why: str) -> None:
        self.machine.halt(why)
