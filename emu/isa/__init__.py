"""The instruction set described once: instructions and their operand fields,
pseudo-instructions, CSRs, trap causes, and the ISAs a machine can be (--isa).
Every tool reads these tables."""
from emu.isa.causes import CAUSES, INTERRUPT_BIT, cause_name, trap_loop_message
from emu.isa.csrs import CSR_NAMES, CSRS
from emu.isa.instructions import BY_NAME, FIELDS, INSTRUCTIONS, REGISTERS, decode
from emu.isa.misa import DEFAULT_ISA, ISAS, Isa, isa_named
from emu.isa.pseudo import PSEUDOS

__all__ = ["BY_NAME", "CAUSES", "CSRS", "CSR_NAMES", "DEFAULT_ISA", "FIELDS", "INSTRUCTIONS",
           "INTERRUPT_BIT", "ISAS", "Isa", "PSEUDOS", "REGISTERS", "cause_name", "decode",
           "trap_loop_message",
           "isa_named"]
