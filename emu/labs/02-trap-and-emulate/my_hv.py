"""Lab 02, trap and emulate: your hypervisor.

Run it:    emu hv --hypervisor my_hv.py:MyHypervisor guests/hello.S
Grade it:  emu lab check

The guest kernel runs in real U-mode, so each of its privileged instructions
traps to the hypervisor, which calls one of the methods below. Each gets the
Guest (`guest.hart` is its virtual hart: `priv`, `sstatus`, `sepc`, ... see
emu/hv/vcpu.py) and the Trap (`cause`, `tval`, `pc`, `insn`: the instruction's
32 bits), and returns an Action: what becomes of the instruction. The
hypervisor applies it (docs/hypervisor.md section 1):

    Action(Outcome.NEXT, "csr")              done: continue at pc + 4
    Action(Outcome.JUMP, "sret", target=pc)  done: continue at target
    illegal(trap, "csr")                     the guest takes an illegal instruction
    Action(Outcome.STOP, "wfi", message=...) stop this guest, saying why

The string is the exit's reason, what `emu hv --stats` counts it under: use
the method's own ("csr", "sret", "wfi", "sfence.vma"; "exception" in reflect),
for illegal(...) too. Write to the guest's registers through self.core.x
(x[0] is always 0: never write it). Never move pc or count instructions here:
the hypervisor does that when it applies the Action."""
from emu.core import Priv
from emu.hv import Action, Hypervisor, Outcome
from emu.hv.emulate import decode_cached, illegal
from emu.hv.vcpu import NEVER, SSTATUS_SIE, SSTATUS_SPIE, SSTATUS_SPP
from emu.isa import INTERRUPT_BIT


class MyHypervisor(Hypervisor):

    def enter_trap(self, guest, cause, tval, pc):
        """Deliver a trap into the guest kernel, as the hardware's trap entry
        does (privileged spec 4.1.1, docs/isa.md "Traps"), on guest.hart:

        - sepc = pc, scause = cause, stval = tval;
        - in sstatus: SPIE = the old SIE, SIE = 0, SPP = 1 if the hart was in
          S (hart.priv), 0 if in U; the other bits unchanged;
        - the privilege becomes S;
        - return the pc to continue at: stvec's BASE (stvec with bits 1:0
          cleared), or, when stvec's MODE (bits 1:0) is 1 and the cause is an
          interrupt (INTERRUPT_BIT set), BASE + 4 * the interrupt's number
          (section 4.1.2).

        Every exception the guest receives and every interrupt it takes comes
        through here."""
        raise NotImplementedError("enter_trap: TODO")   # TODO

    def reflect(self, guest, trap):
        """An exception the guest kernel handles itself (a breakpoint, a
        misaligned jump, an access fault...): deliver it as the hardware gave
        it to us. Return Action(Outcome.INJECT, "exception", cause, tval);
        the hypervisor then calls enter_trap."""
        raise NotImplementedError("reflect: TODO")      # TODO

    def emulate_csr(self, guest, trap, ops):
        """CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI on the virtual CSRs
        (docs/isa.md "Zicsr" and "CSRs"; privileged spec 2.1, 2.3).

        ops holds the fields: "csr", "rd", and "rs1" (a register number) or,
        for the immediate forms, "zimm" (the value itself). The name of the
        instruction is decode_cached(trap.insn)[0].name, e.g. "csrrwi".

        1. Which access is it? CSRRW[I] always writes; CSRRS[I] and CSRRC[I]
           write unless rs1 is x0 (or zimm is 0): the register's number,
           not its value.
        2. Is it allowed? Illegal (return illegal(trap, "csr")) when bits 9:8
           of the number are above the hart's privilege, when it writes a
           read-only CSR (bits 11:10 = 3), when no such CSR exists
           (guest.hart.csr_read returns None), and, in U, for a counter
           whose bit in scounteren is clear.
        3. The old value: guest.hart.csr_read(csr), or for the counters
           (cycle, time, instret: 0xC00-0xC02, and 0xC80-0xC82)
           guest.hart.counter(csr, steps, retired) with the clock as it was
           before this instruction: the trap already counted it in
           hart.steps, so steps is hart.steps - 1, retired is hart.retired.
        4. Write: the new value is the operand (RW), old | operand (RS) or
           old & ~operand (RC), through guest.hart.csr_write(csr, value),
           which applies the CSR's write mask. A write to satp (0x180)
           changes the guest's translation: drop its shadow page tables with
           guest.pager.flush().
        5. rd = the old value (unless rd is x0). Read rs1 before writing rd:
           they may be the same register."""
        raise NotImplementedError("emulate_csr: TODO")  # TODO

    def emulate_sret(self, guest, trap, ops):
        """SRET (privileged spec 3.3.2; docs/isa.md): illegal in U. In S:
        the privilege becomes SPP's (1: S, 0: U), SIE = SPIE, SPIE = 1,
        SPP = 0 (U), and the guest continues at sepc:
        Action(Outcome.JUMP, "sret", target=...)."""
        raise NotImplementedError("emulate_sret: TODO")  # TODO

    def emulate_wfi(self, guest, trap, ops):
        """WFI (privileged spec 3.3.3): illegal in U (always, on emu). In S it
        waits until an interrupt is pending and enabled in sie, whatever
        sstatus.SIE says: guest.hart.can_wake().

        - It can wake now: done (NEXT).
        - Nothing can ever end it (no timer armed, hart.armed, or its
          deadline is NEVER): stop the guest, saying why (STOP), as the bare
          board stops.
        - Else it sleeps until the timer's deadline (hart.deadline, in guest
          time ticks). Guest time is hart.time = hart.steps +
          hart.time_offset, and the WFI began one tick before now (the trap
          counted it): make the guest's time jump by the wait, adding it to
          hart.time_offset, and block the guest for as long in host time
          (guest.blocked_for = the wait), so that the others run
          meanwhile. Then NEXT: the timer interrupt is delivered when the
          guest runs again."""
        raise NotImplementedError("emulate_wfi: TODO")   # TODO

    def emulate_sfence_vma(self, guest, trap, ops):
        """SFENCE.VMA (privileged spec 4.2.1): illegal in U. In S the guest
        says it changed its page tables: drop the shadow mappings built from
        them. With rs1 = x0, all of them (guest.pager.flush()); else only
        those of the virtual address in register rs1
        (guest.pager.flush_address(va))."""
        raise NotImplementedError("emulate_sfence_vma: TODO")  # TODO
