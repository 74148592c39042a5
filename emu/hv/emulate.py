"""Exit handlers: what the hypervisor does when a guest traps to it (mit-pdos/RVirt
src/trap.rs; Linux arch/riscv/kvm/vcpu_insn.c).

Every trap of a guest reaches `ExitHandlers.handle_trap`, which picks a handler by
cause and, for an illegal instruction, by the instruction, decoded with the shared
table (emu.isa). A handler never moves pc or touches the counters: it returns an
Action, a named Outcome with its details, and the hypervisor applies it in one
place (`Hypervisor.apply`), as KVM's `enum kvm_insn_return` is applied.

Why these instructions trap at all (Popek and Goldberg): the guest kernel runs in
real U-mode, where every CSR access (mcounteren is 0, so even the counters),
SRET, WFI and SFENCE.VMA is illegal; its memory is a shadow page table that maps
no device. So every sensitive instruction traps, and is emulated here on the
guest's virtual hart."""
from __future__ import annotations

import enum
import functools
from typing import TYPE_CHECKING, Callable, NamedTuple

from emu.core import Access, Priv
from emu.devices import BusError
from emu.disasm import disassemble
from emu.hv.memory import ACCESS_FAULT, Fault
from emu.isa import CSR_NAMES, decode
from emu.isa.instructions import Instruction
from emu.sbi import sbi_call

if TYPE_CHECKING:
    from emu.hv.hypervisor import Guest

# Exception causes (privileged spec 1.12 table 3.6).
CAUSE_INSTRUCTION_ACCESS_FAULT = 1
CAUSE_ILLEGAL_INSTRUCTION = 2
CAUSE_USER_ECALL = 8
CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT = 12, 13, 15
PAGE_FAULT_ACCESS = {CAUSE_FETCH_PAGE_FAULT: Access.FETCH, CAUSE_LOAD_PAGE_FAULT: Access.LOAD,
                     CAUSE_STORE_PAGE_FAULT: Access.STORE}
CSR_SATP = 0x180
A0, A1, A6, A7 = 10, 11, 16, 17
OP_LOAD, OP_STORE = 0x03, 0x23
ACCESS_SIZE = {"lb": 1, "lh": 2, "lw": 4, "lbu": 1, "lhu": 2, "sb": 1, "sh": 2, "sw": 4}
SIGNED_LOADS = {"lb", "lh"}


class Outcome(enum.Enum):
    """What becomes of the trapped instruction."""
    NEXT = "next"           # emulated, and it retired: continue at pc + 4
    JUMP = "jump"           # emulated, and it retired: continue at Action.target (SRET)
    FIRMWARE = "sbi"        # an SBI call served: continue at pc + 4; the ECALL counts as
                            # a trap, not a retired instruction, as under --boot s
    RETRY = "retry"         # the hypervisor's own business (a shadow fill): run the same
                            # instruction again; the guest never knows it trapped
    INJECT = "inject"       # deliver exception Action.cause with Action.tval to the guest
    STOP = "stop"           # stop this guest before the instruction (Action.message says why)


# Action and Trap are made on every exit: named tuples, which Python builds in a
# third of the time a frozen dataclass takes (0.4 against 0.9-1.3 us).
class Action(NamedTuple):
    outcome: Outcome
    reason: str                 # the exit reason the statistics count it under
    cause: int = 0
    tval: int = 0
    target: int = 0
    message: str = ""


class Trap(NamedTuple):
    """The exit record of one trap: what mcause, mtval and mepc would hold, and the
    instruction's bits (0 for a fetch fault)."""
    cause: int
    tval: int
    pc: int
    insn: int


@functools.lru_cache(maxsize=4096)
def decode_cached(word: int) -> tuple[Instruction, dict[str, int]] | None:
    """emu.isa.decode, remembered: a guest traps on the same few words again and again."""
    return decode(word)


@functools.lru_cache(maxsize=4096)
def describe(word: int) -> str:
    """An instruction as the statistics name it: `csrr sstatus`, `sret`, `sw`."""
    decoded = decode_cached(word)
    if decoded is None:
        return f".word {word:#010x}"
    insn, ops = decoded
    mnemonic = disassemble(word, 0).split()[0]      # objdump's alias: csrr, csrw, rdtime
    if "csr" not in ops or mnemonic.startswith("rd"):
        return mnemonic
    return f"{mnemonic} {CSR_NAMES.get(ops['csr'], hex(ops['csr']))}"


def illegal(trap: Trap, reason: str = "illegal instruction") -> Action:
    """What hardware does with an instruction the guest's privilege may not run."""
    return Action(Outcome.INJECT, reason, CAUSE_ILLEGAL_INSTRUCTION, trap.insn)


# Exit handlers by cause, then by instruction name. Values are method names, so that
# a subclass overrides a handler by defining the method.
CAUSE_HANDLERS = {
    CAUSE_ILLEGAL_INSTRUCTION: "on_illegal_instruction",
    CAUSE_USER_ECALL: "on_ecall",
    CAUSE_FETCH_PAGE_FAULT: "on_page_fault",
    CAUSE_LOAD_PAGE_FAULT: "on_page_fault",
    CAUSE_STORE_PAGE_FAULT: "on_page_fault",
}
INSTRUCTION_HANDLERS = {
    **{name: "emulate_csr" for name in
       ("csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci")},
    "sret": "emulate_sret",
    "wfi": "emulate_wfi",
    "sfence.vma": "emulate_sfence_vma",
}

# The exit reasons (the statistics' names) of the handlers above, for `classify`.
INSTRUCTION_REASONS = {"emulate_csr": "csr", "emulate_sret": "sret", "emulate_wfi": "wfi",
                       "emulate_sfence_vma": "sfence.vma"}
FAULT_REASONS = {Fault.FILLED: "shadow fill", Fault.GUEST: "guest page fault",
                 Fault.DEVICE: "mmio"}
# Every reason an exit is counted under (and "interrupt", an injection).
EXIT_REASONS = ("csr", "sret", "wfi", "sfence.vma", "sbi call", "ecall from U", "shadow fill",
                "guest page fault", "mmio", "exception", "illegal instruction", "interrupt")


class ExitHandlers:
    """The exit handlers of the hypervisor, one method each; Hypervisor runs them."""

    def _build_handler_tables(self) -> None:
        self.cause_handlers: dict[int, Callable[[Guest, Trap], Action]] = {
            cause: getattr(self, name) for cause, name in CAUSE_HANDLERS.items()}
        self.instruction_handlers: dict[str, Callable[..., Action]] = {
            name: getattr(self, method) for name, method in INSTRUCTION_HANDLERS.items()}

    def handle_trap(self, guest: Guest, trap: Trap) -> Action:
        handler = self.cause_handlers.get(trap.cause, self.reflect)
        return handler(guest, trap)

    def classify(self, guest: Guest, trap: Trap) -> str:
        """The exit reason the standard handlers count this trap under, found
        without changing anything: the debugger's `catch exit` stops before the
        handler runs. (A subclass's handlers may decide otherwise; what they did
        is shown once they ran.)"""
        if trap.cause == CAUSE_ILLEGAL_INSTRUCTION:
            decoded = decode_cached(trap.insn)
            method = decoded and INSTRUCTION_HANDLERS.get(decoded[0].name)
            return INSTRUCTION_REASONS[method] if method else "illegal instruction"
        if trap.cause == CAUSE_USER_ECALL:
            return "ecall from U" if guest.hart.priv == Priv.U else "sbi call"
        if trap.cause in PAGE_FAULT_ACCESS:
            result, _ = guest.pager.classify(guest.hart, trap.tval,
                                             PAGE_FAULT_ACCESS[trap.cause])
            return FAULT_REASONS[result.kind]
        return "exception"

    # ---- exceptions the guest kernel handles

    def reflect(self, guest: Guest, trap: Trap) -> Action:
        """Every exception a real S-mode kernel would receive (breakpoint, misaligned
        addresses...): into the guest, exactly as the hardware delivered it to us."""
        return Action(Outcome.INJECT, "exception", trap.cause, trap.tval)

    def on_ecall(self, guest: Guest, trap: Trap) -> Action:
        """ECALL from virtual S is an SBI call; from virtual U it is the guest's own
        system call, reflected as "environment call from U-mode"."""
        if guest.hart.priv == Priv.U:
            return Action(Outcome.INJECT, "ecall from U", CAUSE_USER_ECALL, 0)
        x = self.core.x
        args = [x[A0 + i] for i in range(6)]
        x[A0], x[A1] = self.sbi(guest, x[A7], x[A6], args)
        return Action(Outcome.FIRMWARE, "sbi call")

    def sbi(self, guest: Guest, eid: int, fid: int, args: list[int]) -> tuple[int, int]:
        """The SBI, shared with `emu run --boot s` (emu/sbi.py); the guest is the
        SbiPlatform. Override to add extensions (see docs/hypervisor.md)."""
        return sbi_call(guest, eid, fid, args)

    def on_illegal_instruction(self, guest: Guest, trap: Trap) -> Action:
        """A privileged instruction the guest kernel may run is emulated; anything
        else (MRET, M-mode CSRs, unknown words) is illegal in the guest too."""
        decoded = decode_cached(trap.insn)
        handler = decoded and self.instruction_handlers.get(decoded[0].name)
        if handler is None:
            return illegal(trap)
        return handler(guest, trap, decoded[1])

    def on_page_fault(self, guest: Guest, trap: Trap) -> Action:
        access = PAGE_FAULT_ACCESS[trap.cause]
        result = guest.pager.fault(guest.hart, trap.tval, access)
        if result.kind is Fault.FILLED:
            return Action(Outcome.RETRY, "shadow fill")
        if result.kind is Fault.GUEST:
            return Action(Outcome.INJECT, "guest page fault", result.cause, trap.tval)
        return self.emulate_mmio(guest, trap, result.gpa, access)

    # ---- privileged instructions (privileged spec 1.12 section 3.3, chapter 4)

    def emulate_csr(self, guest: Guest, trap: Trap, ops: dict[str, int]) -> Action:
        """CSRRW/S/C[I] on the virtual CSRs, with the access rules of section 2.1:
        bits 11:10 = 3 mark a read-only CSR, bits 9:8 the lowest privilege; the user
        counters also need their scounteren bit in U (section 4.1.5)."""
        hart, x = guest.hart, self.core.x
        name, csr = decode_cached(trap.insn)[0].name, ops["csr"]
        immediate = name.endswith("i")
        source = ops["zimm"] if immediate else ops["rs1"]
        operand = source if immediate else x[source]
        op = name[3:5]                              # "rw", "rs" or "rc"
        write = op == "rw" or source != 0
        if (csr >> 8) & 3 > hart.priv or (write and csr >> 10 == 3):
            return illegal(trap, "csr")
        if csr & ~0x83 == 0xC00 and csr & 3 != 3:   # cycle, time, instret and the h halves
            if hart.priv == Priv.U and not hart.scounteren & (1 << (csr & 3)):
                return illegal(trap, "csr")
            # The trap already counted this instruction; the read sees the clock before it.
            old = hart.counter(csr, hart.steps - 1, hart.retired)
        else:
            old = hart.csr_read(csr)
            if old is None:
                return illegal(trap, "csr")
        if write:
            new = operand if op == "rw" else old | operand if op == "rs" else old & ~operand
            hart.csr_write(csr, new)
            if csr == CSR_SATP:
                guest.pager.flush()
        if ops["rd"]:
            x[ops["rd"]] = old
        return Action(Outcome.NEXT, "csr")

    def emulate_sret(self, guest: Guest, trap: Trap, ops: dict[str, int]) -> Action:
        if guest.hart.priv != Priv.S:
            return illegal(trap, "sret")
        return Action(Outcome.JUMP, "sret", target=guest.hart.sret())

    def emulate_wfi(self, guest: Guest, trap: Trap, ops: dict[str, int]) -> Action:
        """WFI completes once an enabled interrupt is pending (section 3.3.3). As on
        the bare board, time jumps to the guest's deadline; the guest then blocks
        for that long in host time, and the others run meanwhile."""
        hart = guest.hart
        if hart.priv != Priv.S:
            return illegal(trap, "wfi")
        if hart.can_wake():
            return Action(Outcome.NEXT, "wfi")
        if not hart.armed or hart.deadline == (1 << 64) - 1:
            why = ("no interrupt is enabled in sie" if not hart.sie and not hart.armed else
                   "the timer deadline is never reached" if hart.armed else
                   "none of the interrupts enabled in sie can become pending "
                   "(is the timer set, with SBI set_timer?)")
            return Action(Outcome.STOP, "wfi", message=(
                f"WFI at pc {trap.pc:#010x} waits for an interrupt that can never come: {why}"))
        began = hart.time - 1                       # time when the WFI started
        wait = hart.deadline - began
        hart.time_offset += wait
        guest.blocked_for = wait
        return Action(Outcome.NEXT, "wfi")

    def emulate_sfence_vma(self, guest: Guest, trap: Trap, ops: dict[str, int]) -> Action:
        """Drop the shadows the guest's table may have changed: all of them, or one
        virtual address's when rs1 names one (section 4.2.1)."""
        if guest.hart.priv != Priv.S:
            return illegal(trap, "sfence.vma")
        if ops["rs1"]:
            guest.pager.flush_address(self.core.x[ops["rs1"]])
        else:
            guest.pager.flush()
        return Action(Outcome.NEXT, "sfence.vma")

    # ---- devices

    def emulate_mmio(self, guest: Guest, trap: Trap, gpa: int, access: Access) -> Action:
        """Complete a load or store to a guest device: decode it with the shared
        table, do it on the device model, write rd. A fetch, an AMO or a misaligned
        access raises an access fault, as on the board (docs/board.md)."""
        fault = Action(Outcome.INJECT, "mmio", ACCESS_FAULT[access], trap.tval)
        decoded = decode_cached(trap.insn) if access != Access.FETCH else None
        device = guest.device_at(gpa)
        if decoded is None or decoded[0].name not in ACCESS_SIZE or device is None:
            return fault
        insn, ops = decoded
        size = ACCESS_SIZE[insn.name]
        if gpa & (size - 1):
            return fault
        x, mask = self.core.x, (1 << (8 * size)) - 1
        try:
            if access == Access.STORE:
                device.store(gpa - device.base, size, x[ops["rs2"]] & mask)
                return Action(Outcome.NEXT, "mmio")
            value = device.load(gpa - device.base, size) & mask
        except BusError:
            return fault
        if insn.name in SIGNED_LOADS and value >> (8 * size - 1):
            value -= 1 << (8 * size)
        if ops["rd"]:
            x[ops["rd"]] = value & 0xFFFF_FFFF
        return Action(Outcome.NEXT, "mmio")
