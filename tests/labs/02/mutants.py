"""Plausible wrong answers to lab 02, each the solution (solution/my_hv.py) with
one mistake students make, and the checks it must fail: those whose behaviour
it gets wrong, and no others."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

SOLUTION = (Path(__file__).parent / "solution" / "my_hv.py").read_text()


class Mutant(NamedTuple):
    name: str
    edits: tuple[tuple[str, str], ...]      # (text in the solution, what replaces it)
    fails: frozenset[str]                   # the checks it must fail

    def text(self) -> str:
        text = SOLUTION
        for old, new in self.edits:
            assert text.count(old) == 1, f"{self.name}: {old!r} is not in the solution once"
            text = text.replace(old, new)
        return text


def mutant(name: str, fails: str, *edits: tuple[str, str]) -> Mutant:
    return Mutant(name, edits, frozenset(fails.split()))


MUTANTS = [
    # ---- trap entry
    mutant("sepc is the next instruction",
           "directed_equal_bare exit_counts generated_equal_bare "
           "os_equals_bare ticks_equals_bare trap_entry",
           ("hart.sepc, hart.scause, hart.stval = pc, cause, tval",
            "hart.sepc, hart.scause, hart.stval = pc + 4, cause, tval")),
    mutant("SPP not saved",
           "directed_equal_bare exit_counts generated_equal_bare ticks_equals_bare trap_entry",
           ("        status |= SSTATUS_SPP if hart.priv == Priv.S else 0\n", "")),
    mutant("SIE not cleared on entry",
           "directed_equal_bare exit_counts generated_equal_bare ticks_equals_bare trap_entry",
           ("status = hart.sstatus & ~(SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP)",
            "status = hart.sstatus & ~(SSTATUS_SPIE | SSTATUS_SPP)")),
    mutant("SPIE not set from SIE",
           "directed_equal_bare exit_counts generated_equal_bare trap_entry",
           ("        status |= SSTATUS_SPIE if was_enabled else 0\n", "")),
    mutant("vectored mode ignored",
           "directed_equal_bare trap_entry",
           ("if mode == 1 and cause & INTERRUPT_BIT:", "if False:")),
    mutant("vectored mode for exceptions too",
           "directed_equal_bare exit_counts trap_entry",
           ("if mode == 1 and cause & INTERRUPT_BIT:", "if mode == 1:")),
    mutant("privilege not set to S",
           "directed_equal_bare exit_counts generated_equal_bare os_equals_bare trap_entry",
           ("        hart.priv = Priv.S\n        base, mode", "        base, mode")),
    mutant("reflect drops stval",
           "directed_equal_bare generated_equal_bare trap_entry",
           ('return Action(Outcome.INJECT, "exception", trap.cause, trap.tval)',
            'return Action(Outcome.INJECT, "exception", trap.cause, 0)')),
    mutant("reflect counted under another reason",
           "exit_counts",
           ('return Action(Outcome.INJECT, "exception", trap.cause, trap.tval)',
            'return Action(Outcome.INJECT, "reflected", trap.cause, trap.tval)')),
    # ---- SRET
    mutant("SRET returns to sepc + 4",
           "directed_equal_bare exit_counts generated_equal_bare "
           "os_equals_bare sret ticks_equals_bare",
           ("target=hart.sepc)", "target=hart.sepc + 4)")),
    mutant("SRET leaves SIE alone",
           "directed_equal_bare exit_counts generated_equal_bare sret",
           ("        status &= ~(SSTATUS_SIE | SSTATUS_SPP)\n        if status & SSTATUS_SPIE:\n"
            "            status |= SSTATUS_SIE\n",
            "        status &= ~SSTATUS_SPP\n")),
    mutant("SRET allowed in U",
           "directed_equal_bare exit_counts generated_equal_bare user_mode",
           ("        if hart.priv != Priv.S:\n            return illegal(trap, \"sret\")\n", "")),
    # ---- CSRs
    mutant("no privilege check on CSRs",
           "directed_equal_bare exit_counts generated_equal_bare user_mode",
           ("if lowest_privilege > hart.priv or (writes and read_only):",
            "if writes and read_only:")),
    mutant("read-only CSRs written",
           "csr_instructions directed_equal_bare exit_counts generated_equal_bare",
           ("if lowest_privilege > hart.priv or (writes and read_only):",
            "if lowest_privilege > hart.priv:")),
    mutant("csrrs with rs1 = x0 writes",
           "csr_instructions directed_equal_bare exit_counts "
           "generated_equal_bare os_equals_bare ticks_equals_bare user_mode",
           ('writes = op == "rw" or source != 0', "writes = True")),
    mutant("rd not written",
           "csr_instructions directed_equal_bare exit_counts "
           "generated_equal_bare os_equals_bare ticks_equals_bare user_mode",
           ("        if rd:\n            x[rd] = old\n", "")),
    mutant("rd written before rs1 is read",
           "csr_instructions directed_equal_bare os_equals_bare",
           ("            operand = x[source]\n", "            operand = None\n"),
           ('        if writes:\n            new = {"rw": operand',
            '        if rd:\n            x[rd] = old\n'
            '        if writes:\n            if operand is None:\n'
            '                operand = x[source]\n            new = {"rw": operand')),
    mutant("immediate taken as a register",
           "csr_instructions directed_equal_bare "
           "exit_counts generated_equal_bare ticks_equals_bare",
           ('operand = source = ops["zimm"]',
            'source = ops["zimm"]\n            operand = x[source]')),
    mutant("counters read after the instruction",
           "csr_instructions directed_equal_bare generated_equal_bare ticks_equals_bare user_mode",
           ("old = hart.counter(csr, hart.steps - 1, hart.retired)",
            "old = hart.counter(csr, hart.steps, hart.retired)")),
    mutant("scounteren ignored in U",
           "directed_equal_bare exit_counts generated_equal_bare user_mode",
           ("            if hart.priv == Priv.U and not (hart.scounteren >> (csr & 3)) & 1:\n"
            "                return illegal(trap, \"csr\")\n", "")),
    mutant("satp write keeps the shadows",
           "csr_instructions directed_equal_bare exit_counts sfence",
           ("            if csr == SATP:\n                guest.pager.flush()\n", "")),
    # ---- WFI
    mutant("WFI never sleeps",
           "directed_equal_bare exit_counts generated_equal_bare ticks_equals_bare wfi",
           ("        if hart.can_wake():\n", "        if True:\n")),
    mutant("WFI sleeps but does not block",
           "wfi",
           ("        guest.blocked_for = wait\n", "")),
    mutant("WFI sleeps even when it can wake",
           "directed_equal_bare exit_counts wfi",
           ("        if hart.can_wake():\n"
            "            return Action(Outcome.NEXT, \"wfi\")\n", "")),
    mutant("WFI allowed in U",
           "directed_equal_bare exit_counts generated_equal_bare user_mode",
           ("        if hart.priv != Priv.S:\n            return illegal(trap, \"wfi\")\n", "")),
    # ---- SFENCE.VMA
    mutant("SFENCE.VMA drops nothing",
           "directed_equal_bare exit_counts sfence",
           ("        if ops[\"rs1\"]:\n"
            "            guest.pager.flush_address(self.core.x[ops[\"rs1\"]])\n"
            "        else:\n            guest.pager.flush()\n", "")),
    mutant("SFENCE.VMA always drops everything",
           "exit_counts",
           ("        if ops[\"rs1\"]:\n", "        if False:\n")),
    mutant("SFENCE.VMA takes rs1's number for the address",
           "directed_equal_bare exit_counts sfence",
           ("guest.pager.flush_address(self.core.x[ops[\"rs1\"]])",
            "guest.pager.flush_address(ops[\"rs1\"])")),
]
