"""The virtual hart of one guest: its virtual privilege, its S-mode CSRs, its timer
and its clock (privileged spec 1.12 chapter 4; mit-pdos/RVirt src/context.rs).

The guest kernel (virtual S) and its programs (virtual U) both run in real U-mode,
so the real sstatus, stvec, sepc... are the hypervisor's, never the guest's. The
guest's own S-mode CSRs live here, and trap entry and SRET are done here on them,
as trap.c does them on the real ones. The values and write masks copy the core's
(csrc/csr.c), so that a guest reads under `emu hv` what it reads under
`emu run --boot s`."""
from __future__ import annotations

from dataclasses import dataclass, field

from emu.core import Priv
from emu.isa import INTERRUPT_BIT

# sstatus fields (section 4.1.1, RV32 layout).
SSTATUS_SIE = 1 << 1
SSTATUS_SPIE = 1 << 5
SSTATUS_SPP = 1 << 8
SSTATUS_SUM = 1 << 18
SSTATUS_MXR = 1 << 19
SSTATUS_WRITABLE = SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_SUM | SSTATUS_MXR

# Interrupts (sip/sie bits, section 4.1.3). The bare firmware delegates these three
# to S (emu/sbi.py MIDELEG), so they are what sie and sip show.
IRQ_S_SOFT, IRQ_S_TIMER, IRQ_S_EXT = 1, 5, 9
SIP_SSIP, SIP_STIP, SIP_SEIP = 1 << IRQ_S_SOFT, 1 << IRQ_S_TIMER, 1 << IRQ_S_EXT
S_INTERRUPTS = SIP_SSIP | SIP_STIP | SIP_SEIP
INTERRUPT_PRIORITY = (IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER)      # section 3.1.9

SATP_MASK = 0x803F_FFFF         # MODE and PPN; ASIDLEN is 0, as in the core
SATP_SV32 = 0x8000_0000
TVEC_MODE_RESERVED = 2          # stvec modes 2 and 3 are reserved: keep 0 or 1
EPC_ALIGN_MASK = ~3 & 0xFFFF_FFFF
COUNTEREN_WRITABLE = 0b111      # CY, TM, IR
NEVER = (1 << 64) - 1           # a deadline that never comes: mtimecmp's reset value


@dataclass
class VirtualHart:
    """What the guest believes is its hart. Registers x and pc are in the core while
    the guest runs and in `saved` while it does not."""
    priv: Priv = Priv.S
    sstatus: int = 0
    sie: int = 0
    ssip: bool = False              # the software-interrupt bit the guest writes in sip
    seip: bool = False              # the external line, from the guest's PLIC (context 1)
    stvec: int = 0
    scounteren: int = 0
    sscratch: int = 0
    sepc: int = 0
    scause: int = 0
    stval: int = 0
    satp: int = 0
    # The timer, as the bare firmware keeps it on the CLINT: the SBI deadline,
    # whether it is armed (MTIE) and whether it has fired (STIP).
    deadline: int = NEVER
    armed: bool = False
    stip: bool = False
    # The guest's clock, as the core keeps the bare machine's: instructions executed
    # (retired or trapped), those retired, and what WFI skipped of time.
    steps: int = 0
    retired: int = 0
    time_offset: int = 0
    saved: bytes = field(default=b"", repr=False)

    # ---- the counters (the bare core's csr.c: one tick per instruction)

    @property
    def time(self) -> int:
        return self.steps + self.time_offset

    def counter(self, csr: int, steps_before: int, retired_before: int) -> int:
        """The value of cycle/time/instret (or a high half) read by an instruction
        that is not yet counted: csr is 0xC00-0xC02 or 0xC80-0xC82."""
        value = {0: steps_before, 1: steps_before + self.time_offset, 2: retired_before}[csr & 3]
        return (value >> 32 if csr & 0x80 else value) & 0xFFFF_FFFF

    # ---- sip and interrupts

    @property
    def sip(self) -> int:
        return ((SIP_SSIP if self.ssip else 0) | (SIP_STIP if self.stip else 0)
                | (SIP_SEIP if self.seip else 0))

    def fire_timer(self) -> bool:
        """The firmware's M timer handler: once time reaches an armed deadline, the
        supervisor timer becomes pending and the timer disarms."""
        if self.armed and self.time >= self.deadline:
            self.armed, self.stip = False, True
            return True
        return False

    def set_timer(self, deadline: int) -> None:
        """SBI set_timer, as emu/sbi.py's Firmware does it: clear STIP, arm."""
        self.stip = False
        self.deadline = deadline
        self.armed = True

    def pending_interrupt(self, sip: int | None = None) -> int:
        """The interrupt cause the hart takes before its next instruction, or 0.
        Supervisor interrupts are enabled in U always, in S when sstatus.SIE
        (section 4.1.3)."""
        ready = (self.sip if sip is None else sip) & self.sie
        if not ready or (self.priv == Priv.S and not self.sstatus & SSTATUS_SIE):
            return 0
        for irq in INTERRUPT_PRIORITY:
            if ready & (1 << irq):
                return INTERRUPT_BIT | irq
        return 0

    def due_interrupt(self) -> int:
        """The interrupt the hypervisor delivers before the next instruction (a due
        timer fired, then pending_interrupt), found without changing anything: the
        debugger's `catch exit interrupt` stops before it is injected."""
        due = self.armed and self.time >= self.deadline
        return self.pending_interrupt(self.sip | (SIP_STIP if due else 0))

    def can_wake(self) -> bool:
        """Would WFI complete now? Whatever the global enables (section 3.3.3)."""
        return bool(self.sip & self.sie)

    # ---- trap entry and return (sections 4.1.1, 3.3.2), as trap.c does them

    def enter_trap(self, cause: int, tval: int, pc: int) -> int:
        """Take a trap into the guest kernel; returns the new pc."""
        status = self.sstatus & ~(SSTATUS_SPIE | SSTATUS_SIE | SSTATUS_SPP)
        if self.sstatus & SSTATUS_SIE:
            status |= SSTATUS_SPIE
        if self.priv == Priv.S:
            status |= SSTATUS_SPP
        self.sstatus = status
        self.sepc, self.scause, self.stval = pc, cause, tval
        self.priv = Priv.S
        base = self.stvec & ~3
        if self.stvec & 1 and cause & INTERRUPT_BIT:     # vectored mode
            return (base + 4 * (cause & ~INTERRUPT_BIT)) & 0xFFFF_FFFF
        return base

    def sret(self) -> int:
        """SRET: privilege from SPP, SIE from SPIE; returns the new pc."""
        status = self.sstatus
        self.priv = Priv.S if status & SSTATUS_SPP else Priv.U
        status &= ~(SSTATUS_SIE | SSTATUS_SPP)
        status |= (SSTATUS_SIE if status & SSTATUS_SPIE else 0) | SSTATUS_SPIE
        self.sstatus = status
        return self.sepc

    # ---- the S-mode CSRs by number (csr.c's csr_read and csr_write, masks and all)

    def csr_read(self, csr: int) -> int | None:
        """None for a CSR that is not an S-mode CSR of the subset."""
        getter = _READ.get(csr)
        return None if getter is None else getter(self)

    def csr_write(self, csr: int, value: int) -> None:
        _WRITE[csr](self, value & 0xFFFF_FFFF)

    @property
    def sum(self) -> bool:
        return bool(self.sstatus & SSTATUS_SUM)

    @property
    def mxr(self) -> bool:
        return bool(self.sstatus & SSTATUS_MXR)

    @property
    def paging(self) -> bool:
        return bool(self.satp & SATP_SV32)


def _set_sip(hart: VirtualHart, value: int) -> None:
    hart.ssip = bool(value & SIP_SSIP)      # only SSIP is writable (section 4.1.3)


def _set(name: str, mask: int):
    def write(hart: VirtualHart, value: int) -> None:
        setattr(hart, name, value & mask)
    return write


_READ = {
    0x100: lambda h: h.sstatus, 0x104: lambda h: h.sie, 0x105: lambda h: h.stvec,
    0x106: lambda h: h.scounteren, 0x140: lambda h: h.sscratch, 0x141: lambda h: h.sepc,
    0x142: lambda h: h.scause, 0x143: lambda h: h.stval, 0x144: lambda h: h.sip,
    0x180: lambda h: h.satp,
}
_WRITE = {
    0x100: lambda h, v: setattr(h, "sstatus", (h.sstatus & ~SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE)),
    0x104: _set("sie", S_INTERRUPTS),
    0x105: _set("stvec", ~TVEC_MODE_RESERVED & 0xFFFF_FFFF),
    0x106: _set("scounteren", COUNTEREN_WRITABLE),
    0x140: _set("sscratch", 0xFFFF_FFFF),
    0x141: _set("sepc", EPC_ALIGN_MASK),
    0x142: _set("scause", 0xFFFF_FFFF),
    0x143: _set("stval", 0xFFFF_FFFF),
    0x144: _set_sip,
    0x180: _set("satp", SATP_MASK),
}
