"""Instructions: operands read from text and words encoded, only through the tables
in emu/isa (instructions.py, pseudo.py, csrs.py); no opcode number lives here.

Each mnemonic has forms: its row in INSTRUCTIONS, and the rows of PSEUDOS the
assembler uses. A form's operand syntax (`rd,imm_i(rs1)`) names the fields, so
reading an operand is deciding what kind of field it fills. The pseudo-
instructions that depend on a value or expand to two instructions are computed
here, with exactly the expansions of GNU as without relaxation
(binutils gas/config/tc-riscv.c, macro() and load_const()):

    li rd, C        addi rd, x0, C            if C fits 12 bits
                    lui rd, %hi(C)            if the low 12 bits are 0
                    lui rd, %hi(C); addi rd, rd, %lo(C)   otherwise
                    (%hi rounds, so that the sign-extended %lo adds back)
    la/lla rd, S    auipc rd, %pcrel_hi(S); addi rd, rd, %pcrel_lo(S)
    l{b,h,w,bu,hu} rd, S        auipc rd, ...; lw rd, %pcrel_lo(S)(rd)
    s{b,h,w} rs, S, rt          auipc rt, ...; sw rs, %pcrel_lo(S)(rt)
    call S          auipc ra, ...; jalr ra, %pcrel_lo(S)(ra)
    call rd, S      auipc t1, ...; jalr rd, %pcrel_lo(S)(t1)
    tail S          auipc t1, ...; jalr x0, %pcrel_lo(S)(t1)
    jump S, rt      auipc rt, ...; jalr x0, %pcrel_lo(S)(rt)

An instruction is turned into a word only once every section has its address:
`Operand`s keep the expression and the relocation-like operator that applies."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from emu.asm.source import StatementError
from emu.isa.csrs import GNU_CSRS
from emu.isa.instructions import BY_NAME, EXTENSION_OF, FIELDS, INSTRUCTIONS, REGISTERS, Instruction
from emu.isa.pseudo import PSEUDOS

IMM_FIELDS = {"imm_i", "imm_s", "imm_u", "imm_b", "imm_j", "shamt", "zimm"}
PC_RELATIVE = {"imm_b", "imm_j"}
FENCE_BITS = {"i": 8, "o": 4, "r": 2, "w": 1}
AMO_SUFFIXES = {"": (0, 0), ".aq": (1, 0), ".rl": (0, 1), ".aqrl": (1, 1)}
MODIFIERS = ("hi", "lo", "pcrel_hi", "pcrel_lo")

# GNU as spells operands by kind, not by field: how to say what was expected.
_KIND_NAMES = {"rd": "a register", "rs1": "a register", "rs2": "a register",
               "csr": "a CSR name or number", "pred": "fence bits (iorw)",
               "succ": "fence bits (iorw)"}


@dataclass(frozen=True)
class Spec:
    """One comma-separated operand of a form: a field, or imm(reg), or (reg)."""
    kind: str               # "field", "mem" or "paren"
    field: str              # the field, or the immediate of a mem operand
    register: str = ""      # the register field inside parentheses


@dataclass(frozen=True)
class Form:
    name: str
    specs: tuple[Spec, ...]
    insn: Instruction
    fixed: dict = field(default_factory=dict, hash=False)

    @property
    def syntax(self) -> str:
        return ", ".join(
            s.field if s.kind == "field" else f"{s.field}({s.register})" if s.kind == "mem"
            else f"({s.register})" for s in self.specs)


def _specs(syntax: str) -> tuple[Spec, ...]:
    specs = []
    for piece in filter(None, syntax.split(",")):
        m = re.fullmatch(r"(\w*)\((\w+)\)", piece)
        if m and m.group(1):
            specs.append(Spec("mem", m.group(1), m.group(2)))
        elif m:
            specs.append(Spec("paren", "", m.group(2)))
        else:
            specs.append(Spec("field", piece))
    return tuple(specs)


def _forms() -> dict[str, list[Form]]:
    forms: dict[str, list[Form]] = {}
    for insn in INSTRUCTIONS:
        forms.setdefault(insn.name, []).append(Form(insn.name, _specs(insn.syntax), insn))
    for pseudo in PSEUDOS:
        if pseudo.assembler:
            forms.setdefault(pseudo.name, []).append(
                Form(pseudo.name, _specs(pseudo.syntax), pseudo.base, dict(pseudo.fixed)))
    return forms


FORMS = _forms()
LOADS = {i.name for i in INSTRUCTIONS if [s.kind for s in _specs(i.syntax)] == ["field", "mem"]
         and i.syntax.startswith("rd,") and i.name != "jalr"}
STORES = {i.name for i in INSTRUCTIONS if i.syntax.startswith("rs2,") and "(rs1)" in i.syntax}
COMPUTED = {"li", "la", "lla", "call", "tail", "jump"}


@dataclass(frozen=True)
class Operand:
    """An immediate not yet computed: an expression tree, the %operator applied to
    it (or "target" for a branch or jump target, "pcrel_lo_at" for the second half
    of an auipc pair whose auipc is at `anchor`), and where it was written."""
    node: tuple
    modifier: str | None
    column: int
    anchor: tuple[str, int] | None = None


@dataclass
class Encoding:
    """One instruction waiting for the addresses: its row, the fields known now
    (ints) and those computed later (Operands)."""
    insn: Instruction
    fields: dict
    mnemonic: str


def is_register(text: str) -> bool:
    return text.strip().lower() in REGISTERS


def register(text: str, column: int) -> int:
    name = text.strip().lower()
    if name in REGISTERS:
        return REGISTERS[name]
    shown = text.strip() or "nothing"
    raise StatementError(column, f"expected a register (x0-x31 or an ABI name), found '{shown}'")


def _split_mem(text: str) -> tuple[str, str, int] | None:
    """`expr(reg)` as (expr, reg, offset of reg), or None if text is not that shape."""
    stripped = text.rstrip()
    if not stripped.endswith(")"):
        return None
    depth = 0
    for i in range(len(stripped) - 1, -1, -1):
        if stripped[i] == ")":
            depth += 1
        elif stripped[i] == "(":
            depth -= 1
            if depth == 0:
                inner = stripped[i + 1:-1]
                if not is_register(inner):
                    return None
                return stripped[:i], inner, i + 1
    return None


class Reader:
    """Reads one instruction's operands into an Encoding list; the assembler gives
    it the expression parser, constant evaluation, and the current pc."""

    def __init__(self, parse_expr, constant, defined):
        self.parse_expr = parse_expr        # (text, column) -> expression tree
        self.constant = constant            # (tree, what) -> int, or StatementError
        self.defined = defined              # name -> is it a symbol with a value

    # -- operands ---------------------------------------------------------------

    def immediate(self, text: str, column: int, fieldname: str) -> Operand:
        stripped = text.strip()
        column += len(text) - len(text.lstrip())
        m = re.match(r"%(\w+)\s*\(", stripped)
        if m:
            modifier = m.group(1).lower()
            if modifier not in MODIFIERS:
                raise StatementError(column, f"unknown operator %{m.group(1)} "
                                             "(expected %hi, %lo, %pcrel_hi or %pcrel_lo)")
            if not stripped.endswith(")"):
                raise StatementError(column, f"expected ')' to close %{modifier}(")
            allowed = ("hi", "pcrel_hi") if fieldname == "imm_u" else \
                ("lo", "pcrel_lo") if fieldname in ("imm_i", "imm_s") else ()
            if modifier not in allowed:
                raise StatementError(column, f"%{modifier} cannot be used here"
                                     + (f" (expected %{' or %'.join(allowed)})" if allowed else ""))
            inner = stripped[m.end():-1]
            return Operand(self.parse_expr(inner, column + m.end()), modifier, column)
        modifier = "target" if fieldname in PC_RELATIVE else None
        return Operand(self.parse_expr(stripped, column), modifier, column)

    def field_value(self, fieldname: str, text: str, column: int):
        if fieldname in ("rd", "rs1", "rs2"):
            return register(text, column)
        if fieldname == "csr":
            name = text.strip().lower()
            if name in GNU_CSRS:
                return GNU_CSRS[name]
            if re.fullmatch(r"[a-z_][\w.]*", name) and not self.defined(text.strip()):
                raise StatementError(column, f"unknown CSR '{text.strip()}' (expected a CSR "
                                             "name or a number 0..4095)")
            value = self.constant(self.parse_expr(text, column), "a CSR number")
            if not 0 <= value <= FIELDS["csr"].range[1]:
                raise StatementError(column, f"CSR number {value} out of range (0..4095)")
            return value
        if fieldname in ("pred", "succ"):
            letters = text.strip().lower()
            if not letters or any(c not in FENCE_BITS for c in letters):
                raise StatementError(column, f"expected fence bits from 'iorw', found '{text.strip()}'")
            return sum(FENCE_BITS[c] for c in set(letters))
        return self.immediate(text, column, fieldname)

    def fill(self, form: Form, operands: list[tuple[int, str]], fields: dict) -> None:
        for spec, (column, text) in zip(form.specs, operands):
            if spec.kind == "field":
                fields[spec.field] = self.field_value(spec.field, text, column)
                continue
            split = _split_mem(text)
            if split is None:
                what = f"{spec.field}({spec.register})" if spec.kind == "mem" else f"({spec.register})"
                raise StatementError(column, f"expected an address operand {what}, found "
                                             f"'{text.strip()}'")
            expr, reg, offset = split
            fields[spec.register] = register(reg, column + offset)
            if spec.kind == "paren":
                if expr.strip() and self.constant(self.parse_expr(expr, column), "an offset") != 0:
                    raise StatementError(column, f"{form.name} takes no offset: write ({reg})")
            else:
                fields[spec.field] = (self.immediate(expr, column, spec.field) if expr.strip()
                                      else 0)

    # -- instructions -------------------------------------------------------------

    def _shapes_match(self, form: Form, operands: list[tuple[int, str]]) -> bool:
        for spec, (_, text) in zip(form.specs, operands):
            if spec.kind in ("mem", "paren") and _split_mem(text) is None:
                return False
            if spec.kind == "field" and spec.field in ("rd", "rs1", "rs2") and not is_register(text):
                return False
            if spec.kind == "field" and spec.field not in ("rd", "rs1", "rs2") and \
                    spec.field not in ("csr",) and is_register(text):
                return False
        return True

    def read(self, mnemonic: str, operands: list[tuple[int, str]], column: int,
             section: str, offset: int) -> list[Encoding]:
        """The instructions for one statement (one, or two for the expanding
        pseudo-instructions), at `offset` in `section`."""
        name = mnemonic.lower()
        aq_rl = None
        base_name = name
        for suffix in (".aqrl", ".aq", ".rl"):
            if name.endswith(suffix) and name[:-len(suffix)] in BY_NAME and \
                    "aq" in BY_NAME[name[:-len(suffix)]].operands:
                base_name, aq_rl = name[:-len(suffix)], AMO_SUFFIXES[suffix]
                break

        count = len(operands)
        if name in COMPUTED:
            return self._computed(name, operands, column, section, offset)
        forms = FORMS.get(base_name)
        if forms is None:
            if name in EXTENSION_OF:
                raise StatementError(column, f"{name} needs the {EXTENSION_OF[name]} extension, "
                                             "which emu does not implement")
            raise StatementError(column, f"unknown instruction '{mnemonic}'")
        candidates = [f for f in forms if len(f.specs) == count]
        matching = [f for f in candidates if self._shapes_match(f, operands)]
        if not matching:
            special = self._special(base_name, operands, column, section, offset)
            if special is not None:
                return special
        if not candidates:
            expected = " or ".join(sorted({f"{len(f.specs)} ({f.syntax})" if f.specs else "0"
                                           for f in forms}))
            raise StatementError(column, f"wrong number of operands for {name}: expected "
                                         f"{expected}, found {count}")
        form = (matching or candidates)[0]
        fields = dict(form.fixed)
        self.fill(form, operands, fields)
        if aq_rl is not None:
            fields["aq"], fields["rl"] = aq_rl
        return [Encoding(form.insn, fields, name)]

    def _special(self, name, operands, column, section, offset) -> list[Encoding] | None:
        """GNU's other spellings: loads and stores of a symbol, jalr/jr with the
        offset as a separate operand, and register-immediate ALU ops written
        without the i (add a0, a0, 5 is addi)."""
        count = len(operands)
        if name in LOADS and count == 2:
            rd = register(operands[0][1], operands[0][0])
            return self._pcrel_pair(operands[1], column, section, offset, rd,
                                    BY_NAME[name], {"rd": rd}, "rs1", "imm_i")
        if name in STORES and count == 3:
            rt = register(operands[2][1], operands[2][0])
            rs2 = register(operands[0][1], operands[0][0])
            return self._pcrel_pair(operands[1], column, section, offset, rt,
                                    BY_NAME[name], {"rs2": rs2}, "rs1", "imm_s")
        if name in ("jalr", "jr"):
            rd = 0 if name == "jr" else 1
            ops = list(operands)
            if name == "jalr" and count in (2, 3) and is_register(ops[1][1]):
                rd = register(ops[0][1], ops[0][0])
                ops = ops[1:]
            if len(ops) in (1, 2) and is_register(ops[0][1]):
                fields = {"rd": rd, "rs1": register(ops[0][1], ops[0][0]), "imm_i": 0}
                if len(ops) == 2:
                    fields["imm_i"] = self.immediate(ops[1][1], ops[1][0], "imm_i")
                return [Encoding(BY_NAME["jalr"], fields, name)]
            if len(ops) == 1 and _split_mem(ops[0][1]) is not None:
                form = Form("jalr", _specs("imm_i(rs1)"), BY_NAME["jalr"])
                fields = {"rd": rd}
                self.fill(form, ops, fields)
                return [Encoding(BY_NAME["jalr"], fields, name)]
        immediate_form = {"add": "addi", "and": "andi", "or": "ori", "xor": "xori",
                          "slt": "slti", "sltu": "sltiu", "sll": "slli", "srl": "srli",
                          "sra": "srai"}.get(name)
        if immediate_form and count == 3 and not is_register(operands[2][1]):
            form = FORMS[immediate_form][0]
            fields = {}
            self.fill(form, operands, fields)
            return [Encoding(form.insn, fields, name)]
        return None

    def _pcrel_pair(self, target, column, section, offset, temp, second: Instruction,
                    fields: dict, base_field: str, imm_field: str) -> list[Encoding]:
        """auipc temp, %pcrel_hi(target); then `second` with base temp and
        %pcrel_lo of the auipc's own address."""
        operand = self.immediate(target[1], target[0], "imm_u")
        if operand.modifier is not None:
            raise StatementError(target[0], "expected a symbol, not a %operator")
        high = Operand(operand.node, "pcrel_hi", operand.column)
        low = Operand(operand.node, "pcrel_lo_at", operand.column, (section, offset))
        return [Encoding(BY_NAME["auipc"], {"rd": temp, "imm_u": high}, "auipc"),
                Encoding(second, {**fields, base_field: temp, imm_field: low}, second.name)]

    def _computed(self, name, operands, column, section, offset) -> list[Encoding]:
        expected = {"li": 2, "la": 2, "lla": 2, "call": (1, 2), "tail": 1, "jump": 2}[name]
        counts = expected if isinstance(expected, tuple) else (expected,)
        if len(operands) not in counts:
            syntax = {"li": "rd, constant", "la": "rd, symbol", "lla": "rd, symbol",
                      "call": "symbol", "tail": "symbol", "jump": "symbol, temp"}[name]
            raise StatementError(column, f"wrong number of operands for {name}: expected "
                                         f"{counts[0]} ({syntax}), found {len(operands)}")
        jalr = BY_NAME["jalr"]
        ra, t1 = REGISTERS["ra"], REGISTERS["t1"]
        if name == "li":
            rd = register(operands[0][1], operands[0][0])
            col, text = operands[1]
            value = self.constant(self.parse_expr(text, col), "li's value")
            return self._li(rd, value, col, name)
        if name in ("la", "lla"):
            rd = register(operands[0][1], operands[0][0])
            return self._pcrel_pair(operands[1], column, section, offset, rd,
                                    BY_NAME["addi"], {"rd": rd}, "rs1", "imm_i")
        if name == "call":
            if len(operands) == 2:
                # GNU's "call rd, symbol" links in rd but keeps t1 for the auipc.
                rd = register(operands[0][1], operands[0][0])
                return self._pcrel_pair(operands[1], column, section, offset, t1, jalr,
                                        {"rd": rd}, "rs1", "imm_i")
            return self._pcrel_pair(operands[0], column, section, offset, ra, jalr,
                                    {"rd": ra}, "rs1", "imm_i")
        if name == "tail":
            return self._pcrel_pair(operands[0], column, section, offset, t1, jalr,
                                    {"rd": 0}, "rs1", "imm_i")
        temp = register(operands[1][1], operands[1][0])
        return self._pcrel_pair(operands[0], column, section, offset, temp, jalr,
                                {"rd": 0}, "rs1", "imm_i")

    @staticmethod
    def _li(rd: int, value: int, column: int, name: str) -> list[Encoding]:
        if not -(1 << 31) <= value < (1 << 32):
            raise StatementError(column, f"li value {value} does not fit 32 bits "
                                         f"({-(1 << 31)}..{(1 << 32) - 1})")
        value = (value + (1 << 31)) % (1 << 32) - (1 << 31)       # as a signed word
        low = ((value & 0xFFF) ^ 0x800) - 0x800                      # %lo: sign-extended
        high = value - low                                           # %hi, rounded
        words = []
        source = 0
        if high != 0:
            words.append(Encoding(BY_NAME["lui"], {"rd": rd, "imm_u": (high >> 12) & 0xFFFFF}, name))
            source = rd
        # GNU's load_const tests the register the upper part went to, and x0 is
        # register 0: for rd = x0 the addi comes even when the low part is 0.
        if low != 0 or source == 0:
            words.append(Encoding(BY_NAME["addi"], {"rd": rd, "rs1": source, "imm_i": low}, name))
        return words
