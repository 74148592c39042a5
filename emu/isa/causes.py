"""Trap causes by name (privileged spec 1.12 table 3.6), so that every tool prints
"illegal instruction", never 2."""

INTERRUPT_BIT = 0x8000_0000

CAUSES: dict[int, str] = {
    0: "instruction address misaligned",
    1: "instruction access fault",
    2: "illegal instruction",
    3: "breakpoint",
    4: "load address misaligned",
    5: "load access fault",
    6: "store/AMO address misaligned",
    7: "store/AMO access fault",
    8: "environment call from U-mode",
    9: "environment call from S-mode",
    11: "environment call from M-mode",
    12: "instruction page fault",
    13: "load page fault",
    15: "store/AMO page fault",
    INTERRUPT_BIT | 1: "supervisor software interrupt",
    INTERRUPT_BIT | 3: "machine software interrupt",
    INTERRUPT_BIT | 5: "supervisor timer interrupt",
    INTERRUPT_BIT | 7: "machine timer interrupt",
    INTERRUPT_BIT | 9: "supervisor external interrupt",
    INTERRUPT_BIT | 11: "machine external interrupt",
}


def cause_name(cause: int) -> str:
    return CAUSES.get(cause, f"cause {cause:#x}")


def trap_loop_message(cause: int, pc: int, tval: int, vector: str, handler_ran: bool) -> str:
    """Why a run stopped on a trap loop (csrc/trap.c trap_loop): the vector (mtvec
    or stvec) faults, or the handler returns to a fault it does not remove."""
    if handler_ran:
        why = ("its handler returning to the faulting instruction each time, which raises "
               "it again: does the handler remove the cause, or move the return address on?")
    else:
        why = (f"with no instruction completing in between: is the trap vector ({vector}) "
               "set to a working handler?")
    return f"trap loop: {cause_name(cause)} at pc {pc:#010x} (tval {tval:#x}) over and over, {why}"
