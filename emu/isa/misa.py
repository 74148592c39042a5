"""The ISAs a machine can be, by the name `--isa` takes, and the misa each reads
(privileged spec 1.12 section 3.1.1). The C core decodes by misa: an instruction
of an extension it leaves out is illegal (csrc/decode.c). One line per ISA."""
from __future__ import annotations

from dataclasses import dataclass

from emu.errors import ConfigError
from emu.isa.instructions import Instruction

MXL_32 = 1 << 30
# The extensions the core can leave out (MISA_OPTIONAL in csrc/hart.h); I, S and
# U it always has.
OPTIONAL = "AM"


@dataclass(frozen=True)
class Isa:
    name: str
    extensions: str     # misa's letters: the unprivileged extensions, S and U
    about: str          # for --help

    @property
    def misa(self) -> int:
        return MXL_32 | sum(1 << (ord(letter) - ord("A")) for letter in self.extensions)

    def has(self, insn: Instruction) -> bool:
        """Whether the instruction is legal here (privilege permitting)."""
        return insn.extension not in OPTIONAL or insn.extension in self.extensions


ISAS: dict[str, Isa] = {isa.name: isa for isa in (
    Isa("rv32ima", "AIMSU", "the full subset"),
    Isa("rv32ia", "AISU", "no M extension (multiply and divide instructions are illegal, "
                          "misa.M is 0)"),
)}
DEFAULT_ISA = "rv32ima"


def isa_named(name: str) -> Isa:
    try:
        return ISAS[name]
    except KeyError:
        raise ConfigError(f"no ISA {name!r}: choose one of {', '.join(ISAS)}") from None
