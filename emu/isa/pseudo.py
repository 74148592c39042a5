"""The pseudo-instructions of the subset: each is one base instruction with some
operands fixed (RISC-V assembly programmer's manual; GNU as's riscv-opc.c list).

Each row: the pseudo-instruction with its GNU as operand syntax, the base
instruction, the base operands it fixes, and who uses the row: `A` the assembler,
`D` the disassembler (objdump prints the alias for that base encoding). Rows are
tried in order, so the more specific alias comes first (`nop` before `mv` before
`li`). Pseudo-instructions that expand to several instructions or depend on a
value (li of a large constant, la, lla, call, tail) are computed by the
assembler; their single-instruction forms are rows here for the disassembler."""
from __future__ import annotations

from dataclasses import dataclass

from emu.isa.instructions import BY_NAME, Instruction

# pseudo       syntax            base          fixed operands               use
_TABLE = """
nop            -                 addi          rd=0 rs1=0 imm_i=0           AD
li             rd,imm_i          addi          rs1=0                        D
mv             rd,rs1            addi          imm_i=0                      AD
add            rd,rs1,imm_i      addi          -                            D
not            rd,rs1            xori          imm_i=-1                     AD
xor            rd,rs1,imm_i      xori          -                            D
or             rd,rs1,imm_i      ori           -                            D
zext.b         rd,rs1            andi          imm_i=255                    D
and            rd,rs1,imm_i      andi          -                            D
sll            rd,rs1,shamt      slli          -                            D
srl            rd,rs1,shamt      srli          -                            D
sra            rd,rs1,shamt      srai          -                            D
neg            rd,rs2            sub           rs1=0                        AD
seqz           rd,rs1            sltiu         imm_i=1                      AD
snez           rd,rs2            sltu          rs1=0                        AD
sltz           rd,rs1            slt           rs2=0                        AD
sgtz           rd,rs2            slt           rs1=0                        AD
beqz           rs1,imm_b         beq           rs2=0                        AD
bnez           rs1,imm_b         bne           rs2=0                        AD
blez           rs2,imm_b         bge           rs1=0                        AD
bgez           rs1,imm_b         bge           rs2=0                        AD
bltz           rs1,imm_b         blt           rs2=0                        AD
bgtz           rs2,imm_b         blt           rs1=0                        AD
bgt            rs2,rs1,imm_b     blt           -                            A
ble            rs2,rs1,imm_b     bge           -                            A
bgtu           rs2,rs1,imm_b     bltu          -                            A
bleu           rs2,rs1,imm_b     bgeu          -                            A
j              imm_j             jal           rd=0                         AD
jal            imm_j             jal           rd=1                         AD
ret            -                 jalr          rd=0 rs1=1 imm_i=0           AD
jr             rs1               jalr          rd=0 imm_i=0                 AD
jalr           rs1               jalr          rd=1 imm_i=0                 AD
jr             imm_i(rs1)        jalr          rd=0                         D
jalr           imm_i(rs1)        jalr          rd=1                         D
jalr           rd,rs1            jalr          imm_i=0                      D
unimp          -                 csrrw         rd=0 csr=0xC00 rs1=0         AD
rdcycle        rd                csrrs         csr=0xC00 rs1=0              AD
rdtime         rd                csrrs         csr=0xC01 rs1=0              AD
rdinstret      rd                csrrs         csr=0xC02 rs1=0              AD
rdcycleh       rd                csrrs         csr=0xC80 rs1=0              AD
rdtimeh        rd                csrrs         csr=0xC81 rs1=0              AD
rdinstreth     rd                csrrs         csr=0xC82 rs1=0              AD
csrr           rd,csr            csrrs         rs1=0                        AD
csrw           csr,rs1           csrrw         rd=0                         AD
csrs           csr,rs1           csrrs         rd=0                         AD
csrc           csr,rs1           csrrc         rd=0                         AD
csrwi          csr,zimm          csrrwi        rd=0                         A
csrw           csr,zimm          csrrwi        rd=0                        AD
csrrw          rd,csr,zimm       csrrwi        -                           AD
csrsi          csr,zimm          csrrsi        rd=0                         A
csrs           csr,zimm          csrrsi        rd=0                        AD
csrrs          rd,csr,zimm       csrrsi        -                           AD
csrci          csr,zimm          csrrci        rd=0                         A
csrc           csr,zimm          csrrci        rd=0                        AD
csrrc          rd,csr,zimm       csrrci        -                           AD
fence          -                 fence         pred=15 succ=15              AD
sfence.vma     -                 sfence.vma    rs1=0 rs2=0                  AD
sfence.vma     rs1               sfence.vma    rs2=0                        AD
"""


@dataclass(frozen=True)
class Pseudo:
    name: str
    syntax: str                 # GNU as operands, named by the base's fields
    base: Instruction
    fixed: dict[str, int]
    assembler: bool
    disassembler: bool

    def matches(self, operands: dict[str, int]) -> bool:
        """Is this base instruction, with these operands, this pseudo?"""
        return all(operands[name] == value for name, value in self.fixed.items())

    def expand(self, **operands: int) -> int:
        """The base instruction's word for the pseudo's operands."""
        return self.base.encode(**operands, **self.fixed)


def _parse(table: str) -> tuple[Pseudo, ...]:
    rows = []
    for line in table.strip().splitlines():
        name, syntax, base, *fixed, use = line.split()
        values = {}
        for item in fixed:
            if item != "-":
                field, value = item.split("=")
                values[field] = int(value, 0)
        rows.append(Pseudo(name, "" if syntax == "-" else syntax, BY_NAME[base], values,
                           "A" in use, "D" in use))
    return tuple(rows)


PSEUDOS: tuple[Pseudo, ...] = _parse(_TABLE)
