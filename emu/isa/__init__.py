"""The instruction set described once: instructions and their operand fields,
pseudo-instructions, CSRs and trap causes. Every tool reads these tables."""
from emu.isa.causes import CAUSES, INTERRUPT_BIT, cause_name
from emu.isa.csrs import CSR_NAMES, CSRS
from emu.isa.instructions import BY_NAME, FIELDS, INSTRUCTIONS, REGISTERS, decode
from emu.isa.pseudo import PSEUDOS

__all__ = ["BY_NAME", "CAUSES", "CSRS", "CSR_NAMES", "FIELDS", "INSTRUCTIONS", "INTERRUPT_BIT",
           "PSEUDOS", "REGISTERS", "cause_name", "decode"]
