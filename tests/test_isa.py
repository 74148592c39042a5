"""The instruction table itself: no two rows overlap, fields round-trip, every row
encodes as GNU as does, and the C core's decoder agrees with it."""
import random
import re
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from emu.core import Core
from emu.isa import CAUSES, CSRS, INTERRUPT_BIT
from emu.isa.card import GROUPS, SEMANTICS, update
from emu.isa.instructions import FIELDS, INSTRUCTIONS, decode
from emu.isa.pseudo import PSEUDOS
from tests.gnu import AS, MABI, MARCH

REPO = Path(__file__).resolve().parent.parent
RAM = 0x8000_0000
ILLEGAL_INSTRUCTION = 2


def test_no_two_rows_overlap():
    for a in INSTRUCTIONS:
        for b in INSTRUCTIONS:
            if a is not b:
                assert a.mask & b.mask & (a.match ^ b.match), (a.name, b.name)


def test_fields_cover_no_fixed_bit():
    for insn in INSTRUCTIONS:
        for name in insn.operands:
            assert FIELDS[name].mask & insn.mask == 0, (insn.name, name)


def operand_values(insn):
    return st.fixed_dictionaries({
        name: st.integers(*FIELDS[name].range).map(
            lambda v, f=FIELDS[name]: v - v % (1 << f.shift))
        for name in insn.operands})


@pytest.mark.parametrize("insn", INSTRUCTIONS, ids=lambda i: i.name)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_decode_inverts_encode(insn, data):
    operands = data.draw(operand_values(insn))
    word = insn.encode(**operands)
    assert decode(word) == (insn, operands)


def gnu_text(insn, operands):
    """The row as GNU as source: x-registers, numbers, `.+offset` targets."""
    fence_set = lambda bits: "".join(c for c, b in zip("iorw", (8, 4, 2, 1)) if bits & b)
    render = {
        "pred": fence_set, "succ": fence_set,
        "imm_b": lambda v: f".{v:+d}", "imm_j": lambda v: f".{v:+d}",
    }
    text = insn.syntax
    for name in sorted(insn.operands, key=len, reverse=True):
        value = operands[name]
        shown = (f"x{value}" if name in ("rd", "rs1", "rs2")
                 else render.get(name, str)(value))
        text = text.replace(name, shown)
    suffix = {(0, 0): "", (1, 0): ".aq", (0, 1): ".rl", (1, 1): ".aqrl"}[
        (operands.get("aq", 0), operands.get("rl", 0))]
    return f"{insn.name}{suffix} {text}"


def test_every_row_encodes_as_gnu_as_does(tmp_path, binutils):
    rng = random.Random(2026)
    lines, expected = [], []
    for insn in INSTRUCTIONS:
        for _ in range(8):
            operands = {name: rng.randint(*FIELDS[name].range) for name in insn.operands}
            for name in ("imm_b", "imm_j"):
                if name in operands:
                    operands[name] &= ~1
            for name in ("pred", "succ"):
                if name in operands:
                    operands[name] = operands[name] or 0b0011
            lines.append(gnu_text(insn, operands))
            expected.append(insn.encode(**operands))
    source = tmp_path / "all.S"
    source.write_text(".option norelax\n" + "\n".join(lines) + "\n")
    subprocess.run([AS, f"-march={MARCH}", f"-mabi={MABI}", "-o", tmp_path / "all.o", source],
                   check=True)
    subprocess.run(["riscv64-unknown-elf-objcopy", "-O", "binary", "-j", ".text",
                    tmp_path / "all.o", tmp_path / "all.bin"], check=True)
    data = (tmp_path / "all.bin").read_bytes()
    got = list(struct.unpack(f"<{len(data) // 4}I", data))
    for line, want, have in zip(lines, expected, got):
        assert want == have, f"{line}: table {want:#010x}, GNU as {have:#010x}"
    assert len(got) == len(expected)


def raises_illegal(word: int) -> bool:
    """Run one word in M-mode, registers pointing into RAM, and see whether the
    core's decoder called it illegal."""
    core = Core(1 << 16)
    core.write(RAM, struct.pack("<I", word))
    core.csr_write(CSRS["mtvec"], RAM + 0x100)
    for i in range(1, 32):
        core.x[i] = RAM + 0x800
    core.run(1)
    return core.csr_read(CSRS["mcause"]) == ILLEGAL_INSTRUCTION and core.pc == RAM + 0x100


# The FENCE and FENCE.I encodings whose reserved fields are not zero: the spec has
# implementations ignore those fields (unprivileged spec sections 2.7 and 3.1), so
# the core runs them as fences although the table lists only the standard forms.
def fence_space(word: int) -> bool:
    return word & 0x707F in (0x000F, 0x100F)


@pytest.mark.parametrize("insn", INSTRUCTIONS, ids=lambda i: i.name)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_core_decodes_every_row(insn, data):
    operands = data.draw(operand_values(insn))
    if "csr" in operands:
        operands["csr"] = CSRS["mscratch"]      # an implemented, writable CSR
    for name in ("imm_i", "imm_s", "imm_b", "imm_j"):
        if name in operands and insn.name not in ("jalr",):
            operands[name] &= ~3                # aligned targets and accesses
    if insn.name == "jalr":
        operands["imm_i"] &= ~3
    assert not raises_illegal(insn.encode(**operands)), insn.name


MAJOR_OPCODES = [0x03, 0x0F, 0x13, 0x17, 0x23, 0x2F, 0x33, 0x37, 0x63, 0x67, 0x6F, 0x73]
WORDS = st.one_of(
    st.integers(0, 2**32 - 1),
    st.builds(lambda high, opcode: high << 7 | opcode,
              st.integers(0, 2**25 - 1), st.sampled_from(MAJOR_OPCODES)))


@settings(max_examples=3000, deadline=None)
@given(WORDS)
def test_core_refuses_every_word_outside_the_table(word):
    if decode(word) is None and not fence_space(word):
        assert raises_illegal(word), f"{word:#010x}"


def test_pseudo_rows_name_every_operand_of_their_base_once():
    for pseudo in PSEUDOS:
        given_ = re.findall(r"[a-z_0-9]+", pseudo.syntax)
        assert not set(given_) & set(pseudo.fixed), pseudo.name
        assert set(given_) | set(pseudo.fixed) | {"aq", "rl"} >= set(pseudo.base.operands)


# ---- the reference card (docs/isa.md) is generated from the table

def test_reference_card_is_current():
    card = REPO / "docs" / "isa.md"
    text = card.read_text()
    assert update(text) == text, "docs/isa.md is stale: run python -m emu.isa.card docs/isa.md"
    for group in [*GROUPS, "pseudo"]:
        assert f"<!-- card: {group} -->" in text


def test_card_describes_every_instruction_once():
    assert set(SEMANTICS) == {insn.name for insn in INSTRUCTIONS}
    shown = {insn.extension for insn in INSTRUCTIONS}
    assert shown == {ext for exts in GROUPS.values() for ext in exts}


def test_card_names_every_csr_and_cause():
    text = (REPO / "docs" / "isa.md").read_text()
    for name, number in CSRS.items():
        assert f"`{name}`" in text or re.sub(r"\d+$", "", name) in text, name
    for cause, name in CAUSES.items():
        assert f"| {cause & ~INTERRUPT_BIT} | {name} |" in text
