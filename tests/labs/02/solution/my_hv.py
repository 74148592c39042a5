"""Lab 02, a solution: trap entry, SRET, the CSR instructions, WFI and
SFENCE.VMA emulated on the guest's virtual hart. Written apart from emu's own
(emu/hv/emulate.py, emu/hv/vcpu.py), so that the checks compare two
implementations."""
from emu.core import Priv
from emu.hv import Action, Hypervisor, Outcome
from emu.hv.emulate import decode_cached, illegal
from emu.hv.vcpu import NEVER, SSTATUS_SIE, SSTATUS_SPIE, SSTATUS_SPP
from emu.isa import INTERRUPT_BIT

SATP = 0x180
FUNCT3_OP = {1: "rw", 2: "rs", 3: "rc", 5: "rw", 6: "rs", 7: "rc"}


class MyHypervisor(Hypervisor):

    def enter_trap(self, guest, cause, tval, pc):
        hart = guest.hart
        was_enabled = hart.sstatus & SSTATUS_SIE
        status = hart.sstatus & ~(SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP)
        status |= SSTATUS_SPIE if was_enabled else 0
        status |= SSTATUS_SPP if hart.priv == Priv.S else 0
        hart.sstatus = status
        hart.sepc, hart.scause, hart.stval = pc, cause, tval
        hart.priv = Priv.S
        base, mode = hart.stvec & ~3, hart.stvec & 3
        if mode == 1 and cause & INTERRUPT_BIT:
            return (base + 4 * (cause ^ INTERRUPT_BIT)) & 0xFFFF_FFFF
        return base

    def reflect(self, guest, trap):
        return Action(Outcome.INJECT, "exception", trap.cause, trap.tval)

    def emulate_csr(self, guest, trap, ops):
        hart, x = guest.hart, self.core.x
        csr, rd = ops["csr"], ops["rd"]
        funct3 = (trap.insn >> 12) & 7
        op = FUNCT3_OP[funct3]
        if funct3 >= 5:
            operand = source = ops["zimm"]
        else:
            source = ops["rs1"]
            operand = x[source]
        writes = op == "rw" or source != 0
        lowest_privilege = (csr >> 8) & 3
        read_only = csr >> 10 == 3
        if lowest_privilege > hart.priv or (writes and read_only):
            return illegal(trap, "csr")
        counter = 0xC00 <= csr <= 0xC02 or 0xC80 <= csr <= 0xC82
        if counter:
            if hart.priv == Priv.U and not (hart.scounteren >> (csr & 3)) & 1:
                return illegal(trap, "csr")
            # This instruction trapped, and the trap counted it already: the
            # bare machine reads the count before the instruction.
            old = hart.counter(csr, hart.steps - 1, hart.retired)
        else:
            old = hart.csr_read(csr)
            if old is None:
                return illegal(trap, "csr")
        if writes:
            new = {"rw": operand, "rs": old | operand, "rc": old & ~operand}[op]
            hart.csr_write(csr, new)
            if csr == SATP:
                guest.pager.flush()
        if rd:
            x[rd] = old
        return Action(Outcome.NEXT, "csr")

    def emulate_sret(self, guest, trap, ops):
        hart = guest.hart
        if hart.priv != Priv.S:
            return illegal(trap, "sret")
        status = hart.sstatus
        hart.priv = Priv.S if status & SSTATUS_SPP else Priv.U
        status &= ~(SSTATUS_SIE | SSTATUS_SPP)
        if status & SSTATUS_SPIE:
            status |= SSTATUS_SIE
        hart.sstatus = status | SSTATUS_SPIE
        return Action(Outcome.JUMP, "sret", target=hart.sepc)

    def emulate_wfi(self, guest, trap, ops):
        hart = guest.hart
        if hart.priv != Priv.S:
            return illegal(trap, "wfi")
        if hart.can_wake():
            return Action(Outcome.NEXT, "wfi")
        if not hart.armed or hart.deadline == NEVER:
            return Action(Outcome.STOP, "wfi", message=(
                f"WFI at {trap.pc:#010x}: no interrupt can ever end it"))
        # The trap counted the WFI already: it began one tick ago.
        wait = hart.deadline - (hart.time - 1)
        hart.time_offset += wait
        guest.blocked_for = wait
        return Action(Outcome.NEXT, "wfi")

    def emulate_sfence_vma(self, guest, trap, ops):
        if guest.hart.priv != Priv.S:
            return illegal(trap, "sfence.vma")
        if ops["rs1"]:
            guest.pager.flush_address(self.core.x[ops["rs1"]])
        else:
            guest.pager.flush()
        return Action(Outcome.NEXT, "sfence.vma")
