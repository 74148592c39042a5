"""The instruction set described once: CSRs and trap causes (and, with the
assembler, the instructions). Every tool reads these tables."""
from emu.isa.causes import CAUSES, INTERRUPT_BIT, cause_name
from emu.isa.csrs import CSRS, CSR_NAMES

__all__ = ["CAUSES", "CSRS", "CSR_NAMES", "INTERRUPT_BIT", "cause_name"]
