"""The disassembler against GNU objdump (binutils 2.40), the reference it copies.

Words are put into ELF files with `.insn 4, WORD`, so GNU as marks them as code
(a `$x` mapping symbol) and objdump disassembles them whatever they are; `.word`
would mark them as data and objdump would print every one as `.word`. Each file
is linked by tests/gnu.py's build() (programs/link.ld, base 0x80000000) and
compared with `objdump -d` and `objdump -d -M no-aliases`.

Normalisation: none. disassemble_elf reproduces objdump's listing byte for byte
(header, blank lines, tabs, padding of the bytes column), so the listings are
compared as strings, and single lines from disassemble() are compared with the
text after objdump's second tab.

Known differences, asserted below so that they stay known: objdump 2.40 on RV32
accepts slli/srli/srai with shift amount bit 5 set (not RV32 instructions) and
knows uret, hret and sfence.vm (old privileged specs); emu prints those words as
`.4byte`, as objdump prints any other word it does not know.

The GNU tools are required: the tests fail, never skip, without them."""
from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from emu.asm import assemble
from emu.disasm import disassemble, disassemble_elf, disasm_command
from emu.isa.instructions import FIELDS, INSTRUCTIONS, decode
from emu.isa.pseudo import PSEUDOS
from tests.gnu import OBJDUMP, PREFIX, build

REPO = Path(__file__).resolve().parent.parent
OBJCOPY = PREFIX + "objcopy"
BASE = 0x80000000


@pytest.fixture(scope="module", autouse=True)
def binutils():
    missing = [tool for tool in (PREFIX + "as", PREFIX + "ld", OBJDUMP, OBJCOPY)
               if shutil.which(tool) is None]
    assert not missing, (f"GNU RISC-V binutils missing: {missing} "
                         "(Debian: apt-get install binutils-riscv64-unknown-elf)")


def objdump(elf: Path, aliases: bool = True) -> str:
    argv = [OBJDUMP, "-d", *([] if aliases else ["-M", "no-aliases"]), str(elf)]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def build_source(tmp: Path, name: str, body: str) -> Path:
    source = tmp / f"{name}.S"
    source.write_text(".globl _start\n_start:\n" + body)
    return build(source, tmp / f"{name}.elf")


def build_words(tmp: Path, name: str, words: list[int]) -> Path:
    return build_source(tmp, name, "".join(f" .insn 4, {w:#010x}\n" for w in words))


def listing_lines(text: str) -> list[tuple[int, str]]:
    """(address, text) for each instruction line of an objdump listing."""
    lines = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].endswith(":") and parts[0].strip(" :"):
            lines.append((int(parts[0].strip(" :"), 16), "\t".join(parts[2:])))
    return lines


# ---------------------------------------------------------------- operands

def _boundary(field: str) -> list[int]:
    low, high = FIELDS[field].range
    step = 1 << FIELDS[field].shift
    values = {low, high, 0, step, -step, 1 if field in ("pred", "succ") else 0, 255, 2047}
    return [v for v in values if FIELDS[field].fits(v)]


def _random(field: str, rng: random.Random) -> int:
    low, high = FIELDS[field].range
    step = 1 << FIELDS[field].shift
    return rng.randrange(low, high + 1, step)


def words_for_table(rng: random.Random, per_row: int = 12) -> list[int]:
    """Every instruction and every alias of the tables, each with boundary and
    random operands."""
    words = []
    for insn in INSTRUCTIONS:
        for i in range(per_row):
            ops = {f: (rng.choice(_boundary(f)) if i % 2 else _random(f, rng))
                   for f in insn.operands}
            words.append(insn.encode(**ops))
    for pseudo in PSEUDOS:
        free = [f for f in pseudo.base.operands if f not in pseudo.fixed]
        for i in range(per_row):
            ops = {f: (rng.choice(_boundary(f)) if i % 2 else _random(f, rng)) for f in free}
            words.append(pseudo.expand(**ops))
    # every CSR of our table and a sample of others, read and written
    for number in range(0, 4096, 7):
        words.append(INSTRUCTIONS_BY["csrrs"].encode(rd=10, csr=number, rs1=0))
    return words


INSTRUCTIONS_BY = {insn.name: insn for insn in INSTRUCTIONS}


@pytest.fixture(scope="module")
def table_elf(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("table")
    return build_words(tmp, "table", words_for_table(random.Random(2024)))


@pytest.mark.parametrize("aliases", [True, False], ids=["aliases", "no-aliases"])
def test_every_instruction_and_alias_matches_objdump(table_elf, aliases):
    assert disassemble_elf(table_elf, aliases) == objdump(table_elf, aliases)


@pytest.mark.parametrize("aliases", [True, False], ids=["aliases", "no-aliases"])
def test_single_words_match_objdump_lines(table_elf, aliases):
    """disassemble() (the tracer's and debugger's call) gives objdump's text for
    each line; objdump's `# address` comments need the previous instructions,
    so they are cut off here (disassemble_elf prints them)."""
    from elftools.elf.elffile import ELFFile
    with table_elf.open("rb") as stream:
        text = ELFFile(stream).get_section_by_name(".text")
        code, start = text.data(), text["sh_addr"]
    symbols = {BASE: "_start"}
    lines = listing_lines(objdump(table_elf, aliases))
    assert len(lines) == len(code) // 4
    for address, expected in lines:
        word = int.from_bytes(code[address - start:address - start + 4], "little")
        expected = expected.split(" # ")[0]
        # gas records no privileged spec for a file of .insn lines: objdump's
        # default, 1.12, which is disassemble()'s default too.
        ours = disassemble(word, address, symbols, aliases)
        # The symbol after a target is objdump's pick among all the file's
        # symbols (test_targets_with_and_without_symbols checks the form).
        assert ours.split(" <")[0] == expected.split(" <")[0]


def test_aliases_that_objdump_chooses():
    """Spot checks of objdump's choices, readable as documentation."""
    cases = {
        0x00500513: "li\ta0,5", 0x00060593: "mv\ta1,a2", 0x00000013: "nop",
        0x00450513: "add\ta0,a0,4", 0x01f51513: "sll\ta0,a0,0x1f",
        0x00008067: "ret", 0x00408067: "jr\t4(ra)", 0x00058567: "jalr\ta0,a1",
        0x3052d073: "csrw\tmtvec,5", 0x340fd573: "csrrw\ta0,mscratch,31",
        0xc0001073: "unimp", 0x0ff0000f: "fence", 0x0000000f: "fence\tunknown,unknown",
        0x1605a52f: "lr.w.aqrl\ta0,(a1)", 0x12000073: "sfence.vma",
        0x00000027: ".4byte\t0x27",
    }
    for word, text in cases.items():
        assert disassemble(word, BASE) == text


def test_targets_with_and_without_symbols():
    jump_back = 0xffdff06f                            # j .-4
    assert disassemble(jump_back, 0x80000010) == "j\t0x8000000c"
    symbols = {0x80000000: "_start", 0x80000008: "loop"}
    assert disassemble(jump_back, 0x80000010, symbols) == "j\t8000000c <loop+0x4>"
    assert disassemble(jump_back, 0x80000004, symbols) == "j\t80000000 <_start>"
    assert disassemble(jump_back, 0x80000002, symbols) == "j\t7ffffffe <_start-0x2>"


def test_no_aliases_keeps_unimp():
    assert disassemble(0xc0001073, BASE, aliases=False) == "unimp"
    assert disassemble(0x00000013, BASE, aliases=False) == "addi\tzero,zero,0"


# ---------------------------------------------------------------- CSR names

@pytest.mark.parametrize("attributes", [True, False], ids=["priv-1.11", "no-attribute"])
def test_every_csr_number_named_as_objdump_names_it(tmp_path, attributes):
    """gas 2.40 records privileged spec 1.11; without the attribute objdump
    uses 1.12. disassemble_elf follows the file, as objdump does."""
    csrrs = INSTRUCTIONS_BY["csrrs"]
    elf = build_words(tmp_path, "csrs", [csrrs.encode(rd=10, csr=n, rs1=0) for n in range(4096)])
    if not attributes:
        subprocess.run([OBJCOPY, "--remove-section", ".riscv.attributes", str(elf)], check=True)
    assert disassemble_elf(elf) == objdump(elf)


# ---------------------------------------------------------------- other words

KNOWN_OBJDUMP_EXTRAS = re.compile(r"(sll|srl|sra|slli|srli|srai)\t\w+,\w+,0x[23][0-9a-f]$"
                                  r"|uret$|hret$|sfence\.vm$")


def test_words_outside_the_subset(tmp_path):
    rng = random.Random(7)
    words = []
    for insn in INSTRUCTIONS:                 # one fixed bit away from each instruction
        for bit in range(32):
            words.append(insn.match ^ (1 << bit))
    words += [rng.getrandbits(32) for _ in range(3000)]
    # 2-byte and 6-or-more-byte encodings are not 4-byte words: objdump would
    # read them with another length (checked in the listing tests below).
    words = [w for w in words if decode(w) is None and w & 3 == 3 and w & 0x1F != 0x1F]
    elf = build_words(tmp_path, "other", words)
    for aliases in (True, False):
        expected = objdump(elf, aliases)
        ours = disassemble_elf(elf, aliases)
        known = 0
        for (address, theirs), (_, mine) in zip(listing_lines(expected), listing_lines(ours),
                                                strict=True):
            if KNOWN_OBJDUMP_EXTRAS.match(theirs):
                assert mine.startswith(".4byte\t")
                known += 1
            else:
                assert mine == theirs, hex(address)
        assert known > 0              # the difference is still there; update the docs if not


# ---------------------------------------------------------------- whole files

PROGRAM_SOURCES = sorted(REPO.glob("programs/*/*.S")) + sorted(
    p for p in REPO.glob("tests/priv/*.S") if p.name != "check.S")


@pytest.mark.parametrize("source", PROGRAM_SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_programs_disassemble_as_objdump_does(tmp_path, source):
    elf = build(source, tmp_path / f"{source.stem}.elf")
    for aliases in (True, False):
        assert disassemble_elf(elf, aliases) == objdump(elf, aliases)


LISTING_CASES = {
    # data in .text ($d mapping symbols): .word/.short/.byte, and objdump 2.40's
    # "out of bounds" lines where a labelled string ends off a 4-byte boundary
    "data": """ nop
a: .byte 1
b: .byte 2,3,4,5,6
c: .byte 7,8,9,10,11,12,13
d: .byte 1,2,3,4,5,6,7
 .balign 4
 nop
e: .half 0x13
f: .half 0
 nop
msg: .ascii "abcdefghi"
 .balign 4
 .insn 4, 0x27
""",
    # runs of zeros become "...", a trailing zero word does not
    "zeros": " nop\n .zero 16\n nop\n .insn 4, 0x3\n .zero 12\n nop\nend: .zero 4\n",
    # address comments: lui/auipc then use, survival across other writes, gp, tp, zero
    "comments": """ auipc t0,0
 addi t1,t1,4
 addi t0,t0,8
 addi t0,t0,8
 lui t1,0x2004
 mv t1,a0
 lw a0,4(t1)
 auipc t2,1
 sw a0,-4(t2)
 auipc t2,1
 jalr 12(t2)
 auipc a1,0
 jr a1
 lw a0,16(zero)
 lw a0,16(tp)
 addi a0,tp,5
 lui a1,0x80000
 addi a1,a1,0
 lui a1,0x80000
 lw a0,-4(a1)
 lui t5,0x1
 addi t6,t5,1
target:
 j target
 beqz a0,_start
 jal far
 .equ ABSOLUTE, 0x2004000
.section .text.more,"ax"
far:
 auipc a0,0
.section .text.last,"ax"
 addi a0,a0,4
 .word 0x1f
 .insn 2, 0x1
 nop
""",
    # longer encodings and a 16-bit one in code
    "lengths": " .word 0x1f, 0x13, 0x3f, 0x13\n .insn 4, 0x13\n .half 0x1\n .insn 2, 0x1\n nop\n",
}


@pytest.mark.parametrize("name", sorted(LISTING_CASES))
def test_listing_details_match_objdump(tmp_path, name):
    elf = build_source(tmp_path, name, LISTING_CASES[name])
    for aliases in (True, False):
        assert disassemble_elf(elf, aliases) == objdump(elf, aliases)


def test_stripped_file_prints_bare_addresses(tmp_path):
    # Without mapping symbols every byte is code, so 2-, 6- and 8-byte encodings
    # show how objdump steps over them.
    elf = build_source(tmp_path, "stripped", "1: nop\n j 1b\n lui a0,0x12\n lw a1,0(a0)\n"
                       " .word 0x1f, 0x13, 0x3f, 0x13, 0x13\n .half 1\n .half 0\n nop\n")
    subprocess.run([PREFIX + "strip", str(elf)], check=True)
    assert disassemble_elf(elf) == objdump(elf)
    assert "j\t0x80000000" in disassemble_elf(elf)


# ---------------------------------------------------------------- the command

def test_command_prints_the_listing(tmp_path):
    elf = build_source(tmp_path, "cli", " li a0,5\n ret\n")
    result = CliRunner().invoke(disasm_command, [str(elf)])
    assert result.exit_code == 0 and result.output == objdump(elf)
    result = CliRunner().invoke(disasm_command, [str(elf), "--no-aliases"])
    assert result.exit_code == 0 and result.output == objdump(elf, aliases=False)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"hello", "not an ELF file"),
    (b"\x7fELF\x01\x01\x01" + b"\0" * 9, "damaged ELF file"),
])
def test_command_rejects_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.elf"
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(disasm_command, [str(path)])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- round trip

@st.composite
def encodable(draw):
    insn = draw(st.sampled_from(INSTRUCTIONS))
    ops = {}
    for name in insn.operands:
        low, high = FIELDS[name].range
        ops[name] = draw(st.integers(low, high).map(
            lambda v, s=FIELDS[name].shift: v - v % (1 << s)).filter(FIELDS[name].fits))
    return insn.encode(**ops)


@settings(max_examples=500, deadline=None)
@given(encodable())
def test_decode_then_encode_gives_the_word(word):
    insn, operands = decode(word)
    assert insn.encode(**operands) == word
    assert not disassemble(word, BASE).startswith(".4byte")


def _reassemblable(text: str, pc: int) -> str:
    """objdump prints branch and jump targets as absolute addresses; GNU as reads
    an address there as a symbol's, so write it relative to `.` instead."""
    match = re.fullmatch(r"(\S+\t(?:.*,)?)(?:0x)?([0-9a-f]+)(?: <.*>)?", text)
    if match and match.group(1).split("\t")[0] in _TARGETED:
        return f"{match.group(1)}. + {int(match.group(2), 16) - pc}"
    return text


_TARGETED = {i.name for i in INSTRUCTIONS if {"imm_b", "imm_j"} & set(i.operands)} | \
    {p.name for p in PSEUDOS if "imm_b" in p.syntax or "imm_j" in p.syntax}


@settings(max_examples=300, deadline=None)
@given(word=encodable(), aliases=st.booleans())
def test_assemble_of_disassemble_gives_the_word(tmp_path_factory, word, aliases):
    """assemble(disassemble(word)) == word, with and without aliases (but for a
    fence with an empty set, which objdump prints as `unknown` and no assembler
    reads)."""
    text = _reassemblable(disassemble(word, BASE, aliases=aliases), BASE)
    assume("unknown" not in text)
    source = tmp_path_factory.mktemp("roundtrip") / "one.S"
    source.write_text(f"_start:\n    {text}\n")
    result = assemble(source, BASE)
    assert result.sections[0].data[:4] == word.to_bytes(4, "little"), text
