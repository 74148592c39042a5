"""A small RV32IMA instruction encoder for the tests (not product code).

Each instruction is an `Insn`: its mnemonic and operands, its 32-bit word
(`insn.word`), and its GNU as spelling (`str(insn)`), so a failing test can print
the program it ran as assembly that binutils accepts.

    from tests import rvenc as rv
    rv.add(10, 11, 12).word      # add x10, x11, x12
    rv.lw(5, -4, 2)              # lw x5, -4(x2)
    rv.beq(1, 2, 8)              # beq x1, x2, .+8 (offsets are pc-relative bytes)
    rv.program([...])            # the little-endian bytes of a list of Insn

Formats and field layouts: unprivileged spec 20191213 section 2.3 (figures 2.2
and 2.3), opcodes table 24.1, the A extension's layout chapter 8. Operands are
checked (register numbers, immediate ranges and alignment), so a generator bug
fails here instead of producing a different instruction.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

# Major opcodes (unprivileged spec table 24.1).
LOAD, MISC_MEM, OP_IMM, AUIPC, STORE, AMO, OP, LUI = 0x03, 0x0F, 0x13, 0x17, 0x23, 0x2F, 0x33, 0x37
BRANCH, JALR, JAL, SYSTEM = 0x63, 0x67, 0x6F, 0x73


@dataclass(frozen=True)
class Insn:
    """One encoded instruction: `word` is what the hart fetches, `text` is GNU as."""
    word: int
    text: str

    def __str__(self) -> str:
        return self.text


def program(insns) -> bytes:
    """The little-endian bytes of a sequence of instructions (or plain words)."""
    return b"".join(int(getattr(i, "word", i)).to_bytes(4, "little") for i in insns)


# ---- field checks

def _reg(r: int) -> int:
    if not 0 <= r < 32:
        raise ValueError(f"no register x{r}")
    return r


def _signed(value: int, bits: int, what: str) -> int:
    if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        raise ValueError(f"{what} {value} does not fit in {bits} signed bits")
    return value & ((1 << bits) - 1)


# ---- the six base formats (figure 2.3); immediates are signed Python ints

def r_type(opcode: int, funct3: int, funct7: int, rd: int, rs1: int, rs2: int) -> int:
    return (funct7 << 25 | _reg(rs2) << 20 | _reg(rs1) << 15 | funct3 << 12
            | _reg(rd) << 7 | opcode)


def i_type(opcode: int, funct3: int, rd: int, rs1: int, imm: int) -> int:
    return _signed(imm, 12, "I-immediate") << 20 | _reg(rs1) << 15 | funct3 << 12 | _reg(rd) << 7 | opcode


def s_type(opcode: int, funct3: int, rs1: int, rs2: int, imm: int) -> int:
    imm = _signed(imm, 12, "S-immediate")
    return ((imm >> 5) << 25 | _reg(rs2) << 20 | _reg(rs1) << 15 | funct3 << 12
            | (imm & 0x1F) << 7 | opcode)


def b_type(opcode: int, funct3: int, rs1: int, rs2: int, offset: int) -> int:
    if offset % 4:
        raise ValueError(f"branch offset {offset} is not a multiple of 4 (no C extension)")
    imm = _signed(offset, 13, "B-immediate")
    return ((imm >> 12 & 1) << 31 | (imm >> 5 & 0x3F) << 25 | _reg(rs2) << 20 | _reg(rs1) << 15
            | funct3 << 12 | (imm >> 1 & 0xF) << 8 | (imm >> 11 & 1) << 7 | opcode)


def u_type(opcode: int, rd: int, imm20: int) -> int:
    """imm20 is the upper 20 bits as GNU as writes them (0..0xFFFFF)."""
    if not 0 <= imm20 < 1 << 20:
        raise ValueError(f"U-immediate {imm20:#x} is not 20 bits")
    return imm20 << 12 | _reg(rd) << 7 | opcode


def j_type(opcode: int, rd: int, offset: int) -> int:
    if offset % 4:
        raise ValueError(f"jump offset {offset} is not a multiple of 4 (no C extension)")
    imm = _signed(offset, 21, "J-immediate")
    return ((imm >> 20 & 1) << 31 | (imm >> 1 & 0x3FF) << 21 | (imm >> 11 & 1) << 20
            | (imm >> 12 & 0xFF) << 12 | _reg(rd) << 7 | opcode)


def _rel(offset: int) -> str:
    return f".{offset:+d}"


# ---- the instructions, by format. Each table maps a mnemonic to its fixed fields.

# R-type, OP: (funct3, funct7). Chapter 2.4.2 and chapter 7 (M: funct7 = 1).
R_OPS = {
    "add": (0, 0x00), "sub": (0, 0x20), "sll": (1, 0x00), "slt": (2, 0x00),
    "sltu": (3, 0x00), "xor": (4, 0x00), "srl": (5, 0x00), "sra": (5, 0x20),
    "or": (6, 0x00), "and": (7, 0x00),
    "mul": (0, 0x01), "mulh": (1, 0x01), "mulhsu": (2, 0x01), "mulhu": (3, 0x01),
    "div": (4, 0x01), "divu": (5, 0x01), "rem": (6, 0x01), "remu": (7, 0x01),
}
# I-type, OP-IMM with a 12-bit immediate: funct3.
I_OPS = {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}
# I-type, OP-IMM shifts: (funct3, funct7), shamt in rs2's place.
SHIFT_OPS = {"slli": (1, 0x00), "srli": (5, 0x00), "srai": (5, 0x20)}
LOAD_OPS = {"lb": 0, "lh": 1, "lw": 2, "lbu": 4, "lhu": 5}
STORE_OPS = {"sb": 0, "sh": 1, "sw": 2}
BRANCH_OPS = {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}
# A extension, funct5 (chapter 8, table 24.2); all .W (funct3 = 2).
AMO_OPS = {
    "amoadd.w": 0x00, "amoswap.w": 0x01, "amoxor.w": 0x04, "amoor.w": 0x08,
    "amoand.w": 0x0C, "amomin.w": 0x10, "amomax.w": 0x14, "amominu.w": 0x18,
    "amomaxu.w": 0x1C,
}
LR_W, SC_W = 0x02, 0x03


def r_op(name: str, rd: int, rs1: int, rs2: int) -> Insn:
    funct3, funct7 = R_OPS[name]
    return Insn(r_type(OP, funct3, funct7, rd, rs1, rs2), f"{name} x{rd}, x{rs1}, x{rs2}")


def i_op(name: str, rd: int, rs1: int, imm: int) -> Insn:
    return Insn(i_type(OP_IMM, I_OPS[name], rd, rs1, imm), f"{name} x{rd}, x{rs1}, {imm}")


def shift_op(name: str, rd: int, rs1: int, shamt: int) -> Insn:
    if not 0 <= shamt < 32:
        raise ValueError(f"shift amount {shamt} is not 0..31 (RV32)")
    funct3, funct7 = SHIFT_OPS[name]
    return Insn(r_type(OP_IMM, funct3, funct7, rd, rs1, shamt), f"{name} x{rd}, x{rs1}, {shamt}")


def load(name: str, rd: int, imm: int, rs1: int) -> Insn:
    return Insn(i_type(LOAD, LOAD_OPS[name], rd, rs1, imm), f"{name} x{rd}, {imm}(x{rs1})")


def store(name: str, rs2: int, imm: int, rs1: int) -> Insn:
    return Insn(s_type(STORE, STORE_OPS[name], rs1, rs2, imm), f"{name} x{rs2}, {imm}(x{rs1})")


def branch(name: str, rs1: int, rs2: int, offset: int) -> Insn:
    return Insn(b_type(BRANCH, BRANCH_OPS[name], rs1, rs2, offset),
                f"{name} x{rs1}, x{rs2}, {_rel(offset)}")


def _amo_word(funct5: int, aq: bool, rl: bool, rd: int, rs1: int, rs2: int) -> int:
    return r_type(AMO, 2, funct5 << 2 | int(aq) << 1 | int(rl), rd, rs1, rs2)


def _ordering(aq: bool, rl: bool) -> str:
    return {(False, False): "", (True, False): ".aq", (False, True): ".rl",
            (True, True): ".aqrl"}[bool(aq), bool(rl)]


def amo(name: str, rd: int, rs2: int, rs1: int, aq: bool = False, rl: bool = False) -> Insn:
    """`amoadd.w rd, rs2, (rs1)`: rd gets the old word, memory the combination."""
    return Insn(_amo_word(AMO_OPS[name], aq, rl, rd, rs1, rs2),
                f"{name}{_ordering(aq, rl)} x{rd}, x{rs2}, (x{rs1})")


def lr_w(rd: int, rs1: int, aq: bool = False, rl: bool = False) -> Insn:
    return Insn(_amo_word(LR_W, aq, rl, rd, rs1, 0), f"lr.w{_ordering(aq, rl)} x{rd}, (x{rs1})")


def sc_w(rd: int, rs2: int, rs1: int, aq: bool = False, rl: bool = False) -> Insn:
    return Insn(_amo_word(SC_W, aq, rl, rd, rs1, rs2),
                f"sc.w{_ordering(aq, rl)} x{rd}, x{rs2}, (x{rs1})")


def lui(rd: int, imm20: int) -> Insn:
    return Insn(u_type(LUI, rd, imm20), f"lui x{rd}, {imm20:#x}")


def auipc(rd: int, imm20: int) -> Insn:
    return Insn(u_type(AUIPC, rd, imm20), f"auipc x{rd}, {imm20:#x}")


def jal(rd: int, offset: int) -> Insn:
    return Insn(j_type(JAL, rd, offset), f"jal x{rd}, {_rel(offset)}")


def jalr(rd: int, rs1: int, imm: int) -> Insn:
    return Insn(i_type(JALR, 0, rd, rs1, imm), f"jalr x{rd}, {imm}(x{rs1})")


def ebreak() -> Insn:
    return Insn(0x00100073, "ebreak")


def python_name(mnemonic: str) -> str:
    """The module-level name of a mnemonic: amoadd.w -> amoadd_w, and -> and_."""
    name = mnemonic.replace(".", "_")
    return name + "_" if keyword.iskeyword(name) else name


# Module-level spellings, one per mnemonic: rv.add(rd, rs1, rs2), rv.addi(rd, rs1, imm),
# rv.lw(rd, imm, rs1), rv.sw(rs2, imm, rs1), rv.beq(rs1, rs2, offset),
# rv.amoadd_w(rd, rs2, rs1), rv.and_(rd, rs1, rs2).
def _bind(factory, name):
    def make(*operands, **flags):
        return factory(name, *operands, **flags)
    make.__name__ = python_name(name)
    return make


for _table, _factory in ((R_OPS, r_op), (I_OPS, i_op), (SHIFT_OPS, shift_op),
                         (LOAD_OPS, load), (STORE_OPS, store), (BRANCH_OPS, branch),
                         (AMO_OPS, amo)):
    for _name in _table:
        globals()[python_name(_name)] = _bind(_factory, _name)
del _table, _factory, _name
