"""Every instruction of the subset, described once (docs/isa.md).

The table is written as riscv-opcodes writes it (riscv/riscv-opcodes, `rv_i` and
friends): one line per instruction with its operands in assembly order and its
fixed bits as `hi..lo=value`. Operand fields are described once below, with their
bit pieces, sign and implied low zeros, so the B- and J-immediate shuffles exist in
exactly one place. The assembler, the disassembler, the reference card, the
hypervisor's decoder and the tests read this module; a test checks the C decoder
(csrc/exec.c) against it."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """An operand: where its bits sit in the word (pieces from the value's most to
    least significant bit), whether it is signed, and how many low zero bits the
    encoding leaves out (branch and jump offsets are multiples of 2)."""
    name: str
    pieces: tuple[tuple[int, int], ...]
    signed: bool = False
    shift: int = 0

    @property
    def width(self) -> int:
        return sum(hi - lo + 1 for hi, lo in self.pieces) + self.shift

    @property
    def range(self) -> tuple[int, int]:
        """The smallest and largest value the field can hold."""
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - (1 << self.shift)
        return 0, (1 << self.width) - (1 << self.shift)

    @property
    def mask(self) -> int:
        return sum(((1 << (hi - lo + 1)) - 1) << lo for hi, lo in self.pieces)

    def fits(self, value: int) -> bool:
        low, high = self.range
        return low <= value <= high and value % (1 << self.shift) == 0

    def encode(self, value: int) -> int:
        if not self.fits(value):
            raise ValueError(f"{value} does not fit {self.name}")
        bits = (value >> self.shift) & ((1 << (self.width - self.shift)) - 1)
        word, remaining = 0, self.width - self.shift
        for hi, lo in self.pieces:
            size = hi - lo + 1
            remaining -= size
            word |= ((bits >> remaining) & ((1 << size) - 1)) << lo
        return word

    def decode(self, word: int) -> int:
        value = 0
        for hi, lo in self.pieces:
            size = hi - lo + 1
            value = (value << size) | ((word >> lo) & ((1 << size) - 1))
        value <<= self.shift
        if self.signed and value >> (self.width - 1):
            value -= 1 << self.width
        return value


def _field(name: str, spec: str, signed: bool = False, shift: int = 0) -> Field:
    pieces = tuple(tuple(int(b) for b in piece.split(":")) for piece in spec.split())
    return Field(name, tuple((p[0], p[-1]) for p in pieces), signed, shift)


# Operand fields (unprivileged spec section 2.3; privileged spec for CSRs).
FIELDS: dict[str, Field] = {f.name: f for f in (
    _field("rd", "11:7"),
    _field("rs1", "19:15"),
    _field("rs2", "24:20"),
    _field("imm_i", "31:20", signed=True),
    _field("imm_s", "31:25 11:7", signed=True),
    _field("imm_b", "31 7 30:25 11:8", signed=True, shift=1),
    _field("imm_u", "31:12"),
    _field("imm_j", "31 19:12 20 30:21", signed=True, shift=1),
    _field("shamt", "24:20"),
    _field("csr", "31:20"),
    _field("zimm", "19:15"),
    _field("pred", "27:24"),
    _field("succ", "23:20"),
    _field("aq", "26"),
    _field("rl", "25"),
)}

REGISTER_FIELDS = frozenset({"rd", "rs1", "rs2"})

# name      GNU as operands        fixed bits                                       extension
_TABLE = """
lui          rd,imm_u               6..0=0x37                                        I
auipc        rd,imm_u               6..0=0x17                                        I
jal          rd,imm_j               6..0=0x6F                                        I
jalr         rd,imm_i(rs1)          14..12=0 6..0=0x67                               I
beq          rs1,rs2,imm_b          14..12=0 6..0=0x63                               I
bne          rs1,rs2,imm_b          14..12=1 6..0=0x63                               I
blt          rs1,rs2,imm_b          14..12=4 6..0=0x63                               I
bge          rs1,rs2,imm_b          14..12=5 6..0=0x63                               I
bltu         rs1,rs2,imm_b          14..12=6 6..0=0x63                               I
bgeu         rs1,rs2,imm_b          14..12=7 6..0=0x63                               I
lb           rd,imm_i(rs1)          14..12=0 6..0=0x03                               I
lh           rd,imm_i(rs1)          14..12=1 6..0=0x03                               I
lw           rd,imm_i(rs1)          14..12=2 6..0=0x03                               I
lbu          rd,imm_i(rs1)          14..12=4 6..0=0x03                               I
lhu          rd,imm_i(rs1)          14..12=5 6..0=0x03                               I
sb           rs2,imm_s(rs1)         14..12=0 6..0=0x23                               I
sh           rs2,imm_s(rs1)         14..12=1 6..0=0x23                               I
sw           rs2,imm_s(rs1)         14..12=2 6..0=0x23                               I
addi         rd,rs1,imm_i           14..12=0 6..0=0x13                               I
slti         rd,rs1,imm_i           14..12=2 6..0=0x13                               I
sltiu        rd,rs1,imm_i           14..12=3 6..0=0x13                               I
xori         rd,rs1,imm_i           14..12=4 6..0=0x13                               I
ori          rd,rs1,imm_i           14..12=6 6..0=0x13                               I
andi         rd,rs1,imm_i           14..12=7 6..0=0x13                               I
slli         rd,rs1,shamt           31..25=0x00 14..12=1 6..0=0x13                   I
srli         rd,rs1,shamt           31..25=0x00 14..12=5 6..0=0x13                   I
srai         rd,rs1,shamt           31..25=0x20 14..12=5 6..0=0x13                   I
add          rd,rs1,rs2             31..25=0x00 14..12=0 6..0=0x33                   I
sub          rd,rs1,rs2             31..25=0x20 14..12=0 6..0=0x33                   I
sll          rd,rs1,rs2             31..25=0x00 14..12=1 6..0=0x33                   I
slt          rd,rs1,rs2             31..25=0x00 14..12=2 6..0=0x33                   I
sltu         rd,rs1,rs2             31..25=0x00 14..12=3 6..0=0x33                   I
xor          rd,rs1,rs2             31..25=0x00 14..12=4 6..0=0x33                   I
srl          rd,rs1,rs2             31..25=0x00 14..12=5 6..0=0x33                   I
sra          rd,rs1,rs2             31..25=0x20 14..12=5 6..0=0x33                   I
or           rd,rs1,rs2             31..25=0x00 14..12=6 6..0=0x33                   I
and          rd,rs1,rs2             31..25=0x00 14..12=7 6..0=0x33                   I
fence        pred,succ              31..28=0 19..15=0 14..12=0 11..7=0 6..0=0x0F     I
fence.tso    -                      31..20=0x833 19..15=0 14..12=0 11..7=0 6..0=0x0F I
ecall        -                      31..0=0x00000073                                 I
ebreak       -                      31..0=0x00100073                                 I
fence.i      -                      31..0=0x0000100F                                 Zifencei
mul          rd,rs1,rs2             31..25=0x01 14..12=0 6..0=0x33                   M
mulh         rd,rs1,rs2             31..25=0x01 14..12=1 6..0=0x33                   M
mulhsu       rd,rs1,rs2             31..25=0x01 14..12=2 6..0=0x33                   M
mulhu        rd,rs1,rs2             31..25=0x01 14..12=3 6..0=0x33                   M
div          rd,rs1,rs2             31..25=0x01 14..12=4 6..0=0x33                   M
divu         rd,rs1,rs2             31..25=0x01 14..12=5 6..0=0x33                   M
rem          rd,rs1,rs2             31..25=0x01 14..12=6 6..0=0x33                   M
remu         rd,rs1,rs2             31..25=0x01 14..12=7 6..0=0x33                   M
lr.w         rd,(rs1)               31..27=0x02 24..20=0 14..12=2 6..0=0x2F          A
sc.w         rd,rs2,(rs1)           31..27=0x03 14..12=2 6..0=0x2F                   A
amoswap.w    rd,rs2,(rs1)           31..27=0x01 14..12=2 6..0=0x2F                   A
amoadd.w     rd,rs2,(rs1)           31..27=0x00 14..12=2 6..0=0x2F                   A
amoxor.w     rd,rs2,(rs1)           31..27=0x04 14..12=2 6..0=0x2F                   A
amoand.w     rd,rs2,(rs1)           31..27=0x0C 14..12=2 6..0=0x2F                   A
amoor.w      rd,rs2,(rs1)           31..27=0x08 14..12=2 6..0=0x2F                   A
amomin.w     rd,rs2,(rs1)           31..27=0x10 14..12=2 6..0=0x2F                   A
amomax.w     rd,rs2,(rs1)           31..27=0x14 14..12=2 6..0=0x2F                   A
amominu.w    rd,rs2,(rs1)           31..27=0x18 14..12=2 6..0=0x2F                   A
amomaxu.w    rd,rs2,(rs1)           31..27=0x1C 14..12=2 6..0=0x2F                   A
csrrw        rd,csr,rs1             14..12=1 6..0=0x73                               Zicsr
csrrs        rd,csr,rs1             14..12=2 6..0=0x73                               Zicsr
csrrc        rd,csr,rs1             14..12=3 6..0=0x73                               Zicsr
csrrwi       rd,csr,zimm            14..12=5 6..0=0x73                               Zicsr
csrrsi       rd,csr,zimm            14..12=6 6..0=0x73                               Zicsr
csrrci       rd,csr,zimm            14..12=7 6..0=0x73                               Zicsr
sret         -                      31..0=0x10200073                                 S
mret         -                      31..0=0x30200073                                 M-mode
wfi          -                      31..0=0x10500073                                 M-mode
sfence.vma   rs1,rs2                31..25=0x09 14..12=0 11..7=0 6..0=0x73           S
"""


@dataclass(frozen=True)
class Instruction:
    """One row: `syntax` is the GNU as operand syntax with field names for the
    operands (`rd,imm_i(rs1)`); `operands` are every field the word holds, in that
    order, then the A extension's aq and rl (spelled as mnemonic suffixes)."""
    name: str
    syntax: str
    operands: tuple[str, ...]
    match: int
    mask: int
    extension: str

    def matches(self, word: int) -> bool:
        return word & self.mask == self.match

    def encode(self, **operands: int) -> int:
        word = self.match
        for name in self.operands:
            word |= FIELDS[name].encode(operands.get(name, 0))
        return word

    def decode(self, word: int) -> dict[str, int]:
        return {name: FIELDS[name].decode(word) for name in self.operands}


def _fixed_bits(specs: list[str]) -> tuple[int, int]:
    match = mask = 0
    for spec in specs:
        bits, value = spec.split("=")
        hi, lo = (int(b) for b in bits.split(".."))
        width_mask = (1 << (hi - lo + 1)) - 1
        value = int(value, 0)
        if value & ~width_mask:
            raise ValueError(f"{spec}: value wider than its bits")
        match |= value << lo
        mask |= width_mask << lo
    return match, mask


def _parse(table: str) -> tuple[Instruction, ...]:
    rows = []
    for line in table.strip().splitlines():
        name, syntax, *fixed, extension = line.split()
        syntax = "" if syntax == "-" else syntax
        operands = re.findall(r"[a-z_0-9]+", syntax)
        if extension == "A":
            operands += ["aq", "rl"]
        unknown = set(operands) - FIELDS.keys()
        if unknown:
            raise ValueError(f"{name}: unknown operand fields {sorted(unknown)}")
        match, mask = _fixed_bits(fixed)
        rows.append(Instruction(name, syntax, tuple(operands), match, mask, extension))
    return tuple(rows)


INSTRUCTIONS: tuple[Instruction, ...] = _parse(_TABLE)
BY_NAME: dict[str, Instruction] = {insn.name: insn for insn in INSTRUCTIONS}


def decode(word: int) -> tuple[Instruction, dict[str, int]] | None:
    """The instruction a word encodes and its operands, or None if the word is
    not an instruction of the subset."""
    for insn in INSTRUCTIONS:
        if insn.matches(word):
            return insn, insn.decode(word)
    return None


# Registers: x0-x31 and their ABI names (psABI chapter 1); fp is s0.
ABI_NAMES = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
             *(f"a{i}" for i in range(8)), *(f"s{i}" for i in range(2, 12)),
             *(f"t{i}" for i in range(3, 7)))
REGISTERS: dict[str, int] = {
    **{f"x{i}": i for i in range(32)},
    **{name: i for i, name in enumerate(ABI_NAMES)},
    "fp": 8,
}

# Instructions of the wider RISC-V world that students meet, by the extension
# that would provide them, for the assembler's "needs the F extension" message.
OTHER_EXTENSIONS: dict[str, str] = {
    "F": "flw fsw fadd.s fsub.s fmul.s fdiv.s fsqrt.s fmin.s fmax.s fmadd.s fmsub.s "
         "fnmadd.s fnmsub.s fcvt.w.s fcvt.wu.s fcvt.s.w fcvt.s.wu fmv.x.w fmv.w.x "
         "feq.s flt.s fle.s fclass.s fsgnj.s fsgnjn.s fsgnjx.s fmv.s fabs.s fneg.s "
         "frcsr fscsr frrm fsrm frflags fsflags",
    "D": "fld fsd fadd.d fsub.d fmul.d fdiv.d fsqrt.d fmin.d fmax.d fmadd.d fmsub.d "
         "fcvt.s.d fcvt.d.s fcvt.w.d fcvt.d.w feq.d flt.d fle.d fclass.d fmv.d",
    "C": "c.nop c.addi c.li c.lui c.mv c.add c.j c.jal c.jr c.jalr c.beqz c.bnez c.lw "
         "c.sw c.lwsp c.swsp c.addi16sp c.addi4spn c.slli c.srli c.srai c.andi c.sub "
         "c.xor c.or c.and c.ebreak",
    "RV64I": "ld sd lwu addiw slliw srliw sraiw addw subw sllw srlw sraw",
    "RV64M": "mulw divw divuw remw remuw",
    "RV64A": "lr.d sc.d amoswap.d amoadd.d amoxor.d amoand.d amoor.d amomin.d amomax.d "
             "amominu.d amomaxu.d",
    "H": "hfence.vvma hfence.gvma hlv.b hlv.bu hlv.h hlv.hu hlv.w hsv.b hsv.h hsv.w",
    "V": "vsetvli vsetivli vsetvl vle8.v vle16.v vle32.v vse8.v vse16.v vse32.v "
         "vadd.vv vadd.vx vadd.vi",
}
EXTENSION_OF: dict[str, str] = {name: ext for ext, names in OTHER_EXTENSIONS.items()
                                for name in names.split()}
