"""The reference card (docs/isa.md): its instruction tables are generated from the
one instruction table, so the card cannot drift from what the tools accept.

    python -m emu.isa.card docs/isa.md      # rewrite the generated tables in place

Each table sits between `<!-- card: GROUP -->` and `<!-- /card -->` lines; the prose
around them is written by hand. tests/test_isa.py fails when a table is stale."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from emu.isa.instructions import INSTRUCTIONS, Instruction
from emu.isa.pseudo import PSEUDOS

# What each instruction does, in the card's notation (see its header).
SEMANTICS = {
    'lui': '`x[rd] = imm << 12`',
    'auipc': '`x[rd] = pc + (imm << 12)`',
    'jal': '`x[rd] = pc + 4; pc += sext(offset)`',
    'jalr': '`t = (x[rs1] + sext(offset)) & ~1; x[rd] = pc + 4; pc = t`',
    'beq': '`if x[rs1] == x[rs2]: pc += sext(offset)`',
    'bne': '`if x[rs1] != x[rs2]: pc += sext(offset)`',
    'blt': '`if x[rs1] <s x[rs2]: pc += sext(offset)`',
    'bge': '`if x[rs1] >=s x[rs2]: pc += sext(offset)`',
    'bltu': '`if x[rs1] <u x[rs2]: pc += sext(offset)`',
    'bgeu': '`if x[rs1] >=u x[rs2]: pc += sext(offset)`',
    'lb': '`x[rd] = sext(M8[x[rs1] + sext(offset)])`',
    'lh': '`x[rd] = sext(M16[x[rs1] + sext(offset)])`',
    'lw': '`x[rd] = M32[x[rs1] + sext(offset)]`',
    'lbu': '`x[rd] = M8[x[rs1] + sext(offset)]`, zero-extended',
    'lhu': '`x[rd] = M16[x[rs1] + sext(offset)]`, zero-extended',
    'sb': '`M8[x[rs1] + sext(offset)] = x[rs2][7:0]`',
    'sh': '`M16[x[rs1] + sext(offset)] = x[rs2][15:0]`',
    'sw': '`M32[x[rs1] + sext(offset)] = x[rs2]`',
    'addi': '`x[rd] = x[rs1] + sext(imm)`',
    'slti': '`x[rd] = x[rs1] <s sext(imm)`',
    'sltiu': '`x[rd] = x[rs1] <u sext(imm)`',
    'xori': '`x[rd] = x[rs1] ^ sext(imm)`',
    'ori': '`x[rd] = x[rs1] \\| sext(imm)`',
    'andi': '`x[rd] = x[rs1] & sext(imm)`',
    'slli': '`x[rd] = x[rs1] << shamt`',
    'srli': '`x[rd] = x[rs1] >>u shamt`',
    'srai': '`x[rd] = x[rs1] >>s shamt`',
    'add': '`x[rd] = x[rs1] + x[rs2]`',
    'sub': '`x[rd] = x[rs1] - x[rs2]`',
    'sll': '`x[rd] = x[rs1] << x[rs2][4:0]`',
    'slt': '`x[rd] = x[rs1] <s x[rs2]`',
    'sltu': '`x[rd] = x[rs1] <u x[rs2]`',
    'xor': '`x[rd] = x[rs1] ^ x[rs2]`',
    'srl': '`x[rd] = x[rs1] >>u x[rs2][4:0]`',
    'sra': '`x[rd] = x[rs1] >>s x[rs2][4:0]`',
    'or': '`x[rd] = x[rs1] \\| x[rs2]`',
    'and': '`x[rd] = x[rs1] & x[rs2]`',
    'fence': 'nothing: one hart, memory is always in order',
    'fence.tso': 'nothing',
    'ecall': 'environment call from U, S or M (cause 8, 9, 11)',
    'ebreak': 'breakpoint (cause 3)',
    'fence.i': 'later fetches see earlier stores',
    'mul': '`x[rd] = (x[rs1] * x[rs2])[31:0]`',
    'mulh': '`x[rd] = (s x[rs1] * s x[rs2])[63:32]`',
    'mulhsu': '`x[rd] = (s x[rs1] * u x[rs2])[63:32]`',
    'mulhu': '`x[rd] = (u x[rs1] * u x[rs2])[63:32]`',
    'div': 'signed quotient, rounded toward zero; by 0: -1; -2^31 / -1: -2^31',
    'divu': 'unsigned quotient; by 0: `0xFFFFFFFF`',
    'rem': "signed remainder, with the dividend's sign; by 0: `x[rs1]`; -2^31 % -1: 0",
    'remu': 'unsigned remainder; by 0: `x[rs1]`',
    'lr.w': '`x[rd] = M32[x[rs1]]`; reserve that word',
    'sc.w': 'if the word is reserved: `M32[x[rs1]] = x[rs2]; x[rd] = 0`; else `x[rd] = 1`. Ends the reservation',
    'amoswap.w': '`t = M32[x[rs1]]; M32[x[rs1]] = x[rs2]; x[rd] = t`',
    'amoadd.w': '`t = M32[x[rs1]]; M32[x[rs1]] = t + x[rs2]; x[rd] = t`',
    'amoxor.w': 'as `amoadd.w`, with `t ^ x[rs2]`',
    'amoand.w': 'as `amoadd.w`, with `t & x[rs2]`',
    'amoor.w': 'as `amoadd.w`, with `t \\| x[rs2]`',
    'amomin.w': 'as `amoadd.w`, with the signed minimum',
    'amomax.w': 'as `amoadd.w`, with the signed maximum',
    'amominu.w': 'as `amoadd.w`, with the unsigned minimum',
    'amomaxu.w': 'as `amoadd.w`, with the unsigned maximum',
    'csrrw': '`x[rd] = t; csr = x[rs1]`',
    'csrrs': '`x[rd] = t; csr = t \\| x[rs1]`; no write when rs1 is x0',
    'csrrc': '`x[rd] = t; csr = t & ~x[rs1]`; no write when rs1 is x0',
    'csrrwi': '`x[rd] = t; csr = zimm`',
    'csrrsi': '`x[rd] = t; csr = t \\| zimm`; no write when zimm is 0',
    'csrrci': '`x[rd] = t; csr = t & ~zimm`; no write when zimm is 0',
    'sret': '`pc = sepc`; privilege = SPP; SIE = SPIE; SPIE = 1; SPP = U; MPRV = 0',
    'mret': '`pc = mepc`; privilege = MPP; MIE = MPIE; MPIE = 1; MPP = U; MPRV = 0 if MPP was not M',
    'wfi': 'wait until an interrupt is pending and enabled in `mie` (docs/board.md, time)',
    'sfence.vma': 'flush all cached translations (rs1 and rs2 are not looked at)',
}

# The card's groups: which table rows each generated table shows.
GROUPS = {
    "I": ("I",),
    "Zifencei": ("Zifencei",),
    "M": ("M",),
    "A": ("A",),
    "Zicsr": ("Zicsr",),
    "privileged": ("S", "M-mode"),
}

# Fixed fields by name, most inclusive first; a row shows those its mask covers.
_FIXED = [("word", 31, 0), ("imm", 31, 20), ("funct7", 31, 25), ("funct5", 31, 27),
          ("fm", 31, 28), ("rs2", 24, 20), ("rs1", 19, 15), ("funct3", 14, 12),
          ("rd", 11, 7), ("opcode", 6, 0)]

_OPERAND_NAMES = {"imm_i": "imm", "imm_u": "imm", "imm_s": "offset", "imm_b": "offset",
                  "imm_j": "offset"}


def operands(insn: Instruction) -> str:
    return _pretty(re.sub(r"imm_i\(", "offset(", insn.syntax))


def fixed_fields(insn: Instruction) -> str:
    """The bits the row fixes, by field name: `opcode 0x33, funct3 0, funct7 0x01`."""
    taken = 0
    names = []
    for name, hi, lo in _FIXED:
        bits = ((1 << (hi - lo + 1)) - 1) << lo
        if insn.mask & bits == bits and not taken & bits:
            taken |= bits
            value = (insn.match & bits) >> lo
            names.append((lo, f"word 0x{value:08X}" if name == "word"
                          else f"{name} 0x{value:X}" if value > 7 else f"{name} {value}"))
    return ", ".join(text for _, text in sorted(names))


def _cell(text: str) -> str:
    return f"`{text}`" if text else ""


def instruction_table(group: str) -> list[str]:
    rows = ["| mnemonic | operands | fixed bits | semantics |", "| --- | --- | --- | --- |"]
    for insn in INSTRUCTIONS:
        if insn.extension in GROUPS[group]:
            rows.append(f"| `{insn.name}` | {_cell(operands(insn))} | {fixed_fields(insn)} | "
                        f"{SEMANTICS[insn.name]} |")
    return rows


def _pretty(syntax: str) -> str:
    return re.sub(r"[a-z_0-9]+", lambda m: _OPERAND_NAMES.get(m.group(), m.group()),
                  syntax).replace(",", ", ")


def pseudo_table() -> list[str]:
    rows = ["| written | is | used by |", "| --- | --- | --- |"]
    for pseudo in PSEUDOS:
        fields = ", ".join(f"{_OPERAND_NAMES.get(k, k)} = {v}" for k, v in pseudo.fixed.items())
        base = f"`{pseudo.base.name}`" + (f" with {fields}" if fields else "")
        syntax = _pretty(pseudo.syntax)
        use = ("assembler and disassembler" if pseudo.assembler and pseudo.disassembler
               else "assembler" if pseudo.assembler else "disassembler")
        rows.append(f"| `{pseudo.name}{' ' + syntax if syntax else ''}` | {base} | {use} |")
    return rows


def table(group: str) -> list[str]:
    return pseudo_table() if group == "pseudo" else instruction_table(group)


_BLOCK = re.compile(r"(<!-- card: (\S+) -->\n).*?(<!-- /card -->)", re.S)


def update(text: str) -> str:
    """The card with every generated table rewritten."""
    return _BLOCK.sub(lambda m: m.group(1) + "\n".join(table(m.group(2))) + "\n" + m.group(3),
                      text)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m emu.isa.card docs/isa.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(update(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
