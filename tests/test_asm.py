"""The assembler (emu/asm) against GNU as + ld, the reference it must equal byte
for byte, and its error messages.

- Directed lines: every row of the instruction table and of the pseudo-
  instruction table, with boundary operands, plus the computed pseudo-
  instructions (li, la, call, ...), assembled by both and compared word by word.
- Hypothesis: random programs (code, data, labels, expressions, alignment).
- The real programs: programs/*/*.S and tests/priv/*.S, linked with
  programs/link.ld, must give the same sections at the same addresses.
- Errors: each kind, with its exact message, line, column and exit status.

GNU's objects are linked with programs/link.ld (our layout) or, for code-only
sources, with ld's default script and -Ttext, which agree there."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from elftools.elf.elffile import ELFFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emu.asm import AssemblyError, assemble
from emu.asm.command import asm as asm_command, load_source
from emu.isa.instructions import FIELDS, INSTRUCTIONS
from emu.isa.pseudo import PSEUDOS
from tests.gnu import AS, LD, LINKER_SCRIPT, MABI, MARCH

REPO = Path(__file__).resolve().parent.parent
BASE = 0x80000000
PROGRAMS = sorted(REPO.glob("programs/*/*.S"))
PRIV = sorted(p for p in REPO.glob("tests/priv/*.S") if p.name != "check.S")


# -- GNU's side -------------------------------------------------------------------

def gnu_sections(source: Path, script: bool = True, defsyms: dict | None = None):
    """Assemble and link with GNU binutils; {name: (addr, bytes, size)} of the
    allocated sections, and the entry."""
    obj, elf = source.with_suffix(".o"), source.with_suffix(".gnu.elf")
    argv = [AS, f"-march={MARCH}", f"-mabi={MABI}", "-mno-relax", "-I", str(source.parent)]
    for name, value in (defsyms or {}).items():
        argv += ["--defsym", f"{name}={value}"]
    done = subprocess.run(argv + ["-o", str(obj), str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    layout = ["-T", str(LINKER_SCRIPT)] if script else [f"-Ttext={BASE:#x}"]
    done = subprocess.run([LD, "-m", "elf32lriscv", "--no-relax", *layout, "-o", str(elf),
                           str(obj)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with elf.open("rb") as stream:
        image = ELFFile(stream)
        sections = {s.name: (s["sh_addr"], b"" if s["sh_type"] == "SHT_NOBITS" else s.data(),
                             s["sh_size"])
                    for s in image.iter_sections() if s["sh_flags"] & 2 and s["sh_size"]}
        return sections, image["e_entry"]


def our_sections(source: Path, defsyms: dict | None = None):
    result = assemble(source, BASE, defsyms)
    return {s.name: (s.addr, s.data, s.size) for s in result.sections if s.size}, result


def compare(source: Path, script: bool = True, defsyms: dict | None = None,
            sections=(".text", ".rodata", ".data", ".tohost", ".bss")) -> None:
    """Our sections equal GNU's; a difference names the first differing word and
    the source line that made it."""
    theirs, entry = gnu_sections(source, script, defsyms)
    ours, result = our_sections(source, defsyms)
    for name in sections:
        mine, ref = ours.get(name), theirs.get(name)
        if mine == ref:
            continue
        assert mine is not None and ref is not None, f"{name}: ours {mine and mine[0]:#x}, GNU's {ref}"
        assert (mine[0], mine[2]) == (ref[0], ref[2]), \
            f"{name}: ours at {mine[0]:#x} size {mine[2]}, GNU's at {ref[0]:#x} size {ref[2]}"
        for offset in range(0, len(ref[1]), 4):
            if mine[1][offset:offset + 4] != ref[1][offset:offset + 4]:
                address = ref[0] + offset
                line = next((l for l in result.listing.splitlines()
                             if re.match(rf"\s*\d*\s*{address:08x} ", l)), "?")
                pytest.fail(f"{name} at {address:#x}: ours {mine[1][offset:offset + 4].hex()}, "
                            f"GNU's {ref[1][offset:offset + 4].hex()}\n{line}")
    assert result.entry == entry


def write(tmp_path: Path, text: str, name: str = "prog.S") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- directed lines from the tables ----------------------------------------------------

VALUES = {
    "rd": ["a0", "zero", "x31", "ra", "s11", "fp", "t6", "x15"],
    "rs1": ["a1", "sp", "x0", "t0", "s0", "a7", "gp", "x30"],
    "rs2": ["a2", "tp", "x1", "t3", "s2", "a5", "x31", "zero"],
    "imm_i": ["-2048", "2047", "0", "-1", "0x7ff", "1"],
    "imm_s": ["-2048", "2047", "0", "-1", "8"],
    "imm_u": ["0", "0xfffff", "1", "0x80000", "%hi(0x12345fff)"],
    "imm_b": ["1b", "1f", ".", ".+8"],
    "imm_j": ["1b", "1f", ".", ".-4", "back", "fwd"],
    "shamt": ["0", "31", "1", "16"],
    "csr": ["mstatus", "0x300", "satp", "cycle", "4095", "0", "mhartid", "pmpaddr15"],
    "zimm": ["0", "31", "1"],
    "pred": ["iorw", "r", "w", "rw", "io"],
    "succ": ["iorw", "w", "r", "ow", "i"],
}


def _lines(name: str, syntax: str, count: int | None = None) -> list[str]:
    names = re.findall(r"[a-z_0-9]+", syntax)
    rows = count or max([len(VALUES[n]) for n in names] + [1])
    lines = []
    for i in range(rows):
        operands = re.sub(r"[a-z_0-9]+", lambda m: VALUES[m.group()][i % len(VALUES[m.group()])],
                          syntax)
        lines.append(f"    {name} {operands}".rstrip())
    return lines


def directed_source() -> str:
    lines = ["    .text", "    .globl _start", "_start:", "back:"]
    for insn in INSTRUCTIONS:
        suffixes = ["", ".aq", ".rl", ".aqrl"] if "aq" in insn.operands else [""]
        for suffix in suffixes:
            lines += _lines(insn.name + suffix, insn.syntax)
    for pseudo in PSEUDOS:
        if pseudo.assembler:
            lines += _lines(pseudo.name, pseudo.syntax)
    lines += COMPUTED
    lines += ["fwd:", "    nop", "word: .word 1, 2, 3"]
    # A numeric label every few lines keeps 1b and 1f within a branch's reach.
    lines = [line for i, line in enumerate(lines) for line in ((["1:"] if i % 16 == 0 else [])
                                                                + [line])]
    return "\n".join(lines + ["1:  nop"]) + "\n"


LI_VALUES = [0, 1, -1, 2047, 2048, -2048, -2049, 0xFFF, 0x1000, 0x7FFFF7FF, 0x7FFFF800,
             0x7FFFFFFF, 0x80000000, -0x80000000, 0xFFFFF800, 0xFFFFF7FF, 0xFFFFFFFF,
             0x12345678, 0x12345000, 0x800, 0x801, -0x801, 0xABCDEF12]

COMPUTED = [
    *(f"    li a0, {v}" for v in LI_VALUES),
    *(f"    li zero, {v}" for v in (0, 0x1000, 0x12345, 0x800)),  # GNU keeps the addi
    "    li t6, 'a'", "    li s0, (1 << 12) - 1", "    li a1, ~0",
    "    la a0, word", "    la a1, word + 8", "    lla t0, fwd", "    la sp, back",
    "    call fwd", "    call back", "    call t0, fwd", "    tail back", "    jump fwd, t1",
    "    lw a0, word", "    lb a1, word + 1", "    lbu a2, word", "    lh a3, word",
    "    lhu a4, word+2",
    "    sw a0, word, t0", "    sb a1, word + 3, t1", "    sh a2, word, t2",
    "    jalr a1, a0", "    jalr a1, a0, 4", "    jalr a1, -4(a0)", "    jalr 8(a0)",
    "    jr a0, 12", "    jr 16(a0)",
    "    add a0, a1, 5", "    and a0, a1, -1", "    or a0, a1, 7", "    xor a0, a1, 1",
    "    sll a0, a1, 3", "    srl a0, a1, 31", "    sra a0, a1, 2", "    slt a0, a1, -5",
    "    sltu a0, a1, 9",
    "1:  auipc a0, %pcrel_hi(word)", "    addi a0, a0, %pcrel_lo(1b)",
    "2:  auipc a1, %pcrel_hi(word + 4)", "    lw a2, %pcrel_lo(2b)(a1)", "    sw a2, %pcrel_lo(2b)(a1)",
    "    lui a0, %hi(word)", "    addi a0, a0, %lo(word)", "    lw a0, %lo(word)(a0)",
    "    lw a0, (a1)", "    lr.w a0, 0(a1)", "    sc.w.rl a0, a2, (a1)",
    "    csrrw a0, 0xc00, a1", "    csrr a0, 3088",
]


def test_every_instruction_and_pseudo_instruction_as_gnu(tmp_path, binutils):
    source = write(tmp_path, directed_source())
    compare(source, script=False, sections=(".text",))
    compare(source, script=True)


@pytest.mark.parametrize("back, forward", [(4096, 4094), (1 << 20, (1 << 20) - 2)])
def test_branch_and_jump_range_boundaries(tmp_path, binutils, back, forward):
    insn = "beq a0, a1," if back == 4096 else "jal ra,"
    source = write(tmp_path, f"""
    .text
_start:
far_back:
    .skip {back}
    {insn} far_back
    {insn} far_forward
    .skip {forward - 4}
far_forward:
    .skip 2
    nop
""")
    compare(source, script=False, sections=(".text",))


# GNU as relaxes a conditional branch it cannot reach, even with -mno-relax: an
# inverted branch over `j target`. Relaxing one branch can push another out of
# reach, so the chain below needs several rounds.
@pytest.mark.parametrize("distance", [4092, 4094, 4096, 4098, 6000, -4096, -4098, -9000])
def test_far_branches_are_relaxed_as_gnu_does(tmp_path, binutils, distance):
    if distance > 0:
        body = f"bgeu a0, a1, far\n    .skip {distance - 4}\nfar: nop"
    else:
        body = f"far: nop\n    .skip {-distance - 4}\n    blt a0, a1, far"
    source = write(tmp_path, f"""
    .text
_start:
    {body}
    bnez a2, _start
    beqz a3, other
chain:
    beq a0, a1, 1f
    .skip 4084
    bne a0, a1, chain
    bgt a0, a1, chain
1:  ret
    .section .text.init
other: ret
""")
    compare(source, sections=(".text",))


def test_separators_inside_literals_as_gnu(tmp_path, binutils):
    source = write(tmp_path, r"""
    .text
_start:
    li a0, ';' ; li a1, '#'     # statements split at ';' outside literals
    li a2, '\'' ; li a3, '"'
    .data
    .byte ';', '#', '\\' ; .ascii "a;b#c" ; .byte ','
""")
    compare(source)


def test_alignment_padding_in_code_and_data(tmp_path, binutils):
    source = write(tmp_path, """
    .text
_start:
    nop
    .byte 1
    .balign 4               # GNU: no padding in code up to an instruction's size
    .byte 2, 3
    .balign 2, 0
    .align 4
    nop
    .byte 1
    .balign 16
    .p2align 3
    .balign 8, 0xaa
    .byte 2, 3
    .p2align 5, , 4
    ret
    .section .text.init
    nop
    .balign 64
    .data
    .byte 1
    .align 3
    .half 0x1234
    .balign 4, 0x55
    .word 0xdeadbeef
    .section .rodata
    .ascii "ab"
    .p2align 2
    .string "x\\ty\\n\\0\\101\\x41"
    .bss
    .skip 10
    .balign 32
    .zero 4
""")
    compare(source)


def test_expressions_and_symbols(tmp_path, binutils):
    source = write(tmp_path, """
    .equ A, 10
    .set B, A * 3 + (2 << 4)
    .equ C, -(A - 100) / 7 % 5
    .equ LATER, D + 1
    .globl _start
    .text
_start:
    li a0, A | 3 ^ 1 & 7
    li a1, B - C
    li a2, ~A
    li a3, 'z' - 'a'
    li a4, 1 + 2 * 3 << 1
    li a5, A > 5
    li a6, (A == 10) && (B != 0) || 0
    li a7, 0x10 >> 2 + 010 + 0b101
1:  j 1f
1:  j 1b
    .data
D:  .word D, end - _start, LATER, A, .
    .half 0xffff, -1
    .byte 255, -128, 'q'
    .dword 0x123456789
    .4byte 7
    .2byte 8
    .text
end:
""")
    compare(source)


def test_irp_and_irpc_inside_a_macro_as_gnu_as_expands_them(tmp_path, binutils):
    source = write(tmp_path, """
.macro SAVE_ALL_BUT base
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .if \\n - \\base
    sw x\\n, \\n * 4(x\\base)
    .endif
    .endr
.endm
    .text
    .globl _start
_start:
    SAVE_ALL_BUT 31
    .irpc c, 135
    addi a\\c, a\\c, \\c
    .endr
    .irp reg
    nop \\reg
    .endr
    .irp x, t0, t1
    .irp y, 1, 2
    addi \\x, \\x, \\y
    .endr
    .endr
""")
    compare(source)


def test_macros_rept_conditionals_include(tmp_path, binutils):
    write(tmp_path, """
    .equ INCLUDED, 1
.macro PUSH reg, slot=0
    sw \\reg, (\\slot * 4)(sp)
.endm
""", "inc.S")
    source = write(tmp_path, """
    .attribute arch, "rv32i2p1_m2p0_a2p1_zicsr2p0_zifencei2p0"
    .include "inc.S"
.macro TWICE insn:vararg
    \\insn
    \\insn
.endm
.macro LABELLED
.Lhere\\@: j .Lhere\\@
.endm
.macro NAME text
    .pushsection .rodata
    .asciz "\\text"
    .popsection
.endm
    .text
    .globl _start
_start:
    PUSH a0
    PUSH a1, 2
    PUSH slot=3, reg=a2
    TWICE addi a0, a0, 1
    LABELLED
    LABELLED
    NAME "two words"
    .set i, 0
    .rept 4
    .if i == 2
    li a0, 200
    .elseif i == 3
    li a0, 300
    .else
    li a0, i
    .endif
    .set i, i + 1
    .endr
    .ifdef INCLUDED
    nop
    .endif
    .ifndef INCLUDED
    .error "not included"
    .endif
    .option push
    .option norelax
    .option nopic
    .option pop
    .type _start, @function
    .size _start, 4
    .file "x.S"
    .ident "x"
    addi a0, a0, 1; addi a1, a1, 2   # two statements, then a comment
    /* not a comment in GNU as's scrubbed sense, but '#' is */
""".replace("    /* not a comment in GNU as's scrubbed sense, but '#' is */\n", ""))
    compare(source)


@pytest.mark.parametrize("source", PROGRAMS + PRIV, ids=lambda p: p.stem)
def test_real_programs_as_gnu(source, binutils, tmp_path):
    """The programs, with their .include and macros, give the same bytes at the
    same addresses as GNU as + ld with programs/link.ld."""
    copy_dir = tmp_path / source.parent.name
    copy_dir.mkdir()
    for sibling in source.parent.glob("*.S"):
        (copy_dir / sibling.name).write_text(sibling.read_text())
    lib = source.parent.parent / "lib"          # programs/lib, included as ../lib/NAME.inc
    if lib.is_dir():
        shutil.copytree(lib, tmp_path / "lib")
    compare(copy_dir / source.name)
    if source in PRIV:
        compare(copy_dir / source.name, defsyms={"QEMU": 1})


# -- hypothesis: random programs ------------------------------------------------------------

REGS = [f"x{i}" for i in range(32)] + ["zero", "ra", "sp", "fp", "a0", "t6", "s11"]
TEXT_LABELS = [f"t{i}" for i in range(4)]
DATA_LABELS = [f"d{i}" for i in range(3)]


def _field(draw, name: str) -> str:
    if name in ("rd", "rs1", "rs2"):
        return draw(st.sampled_from(REGS))
    if name in ("imm_b", "imm_j"):
        return draw(st.sampled_from(TEXT_LABELS))
    if name == "csr":
        return draw(st.one_of(st.sampled_from(["mstatus", "mepc", "satp", "cycleh"]),
                              st.integers(0, 4095).map(str)))
    if name in ("pred", "succ"):
        return draw(st.sampled_from(["iorw", "r", "w", "rw", "i", "o"]))
    low, high = FIELDS[name].range
    return str(draw(st.integers(low, high)))


@st.composite
def expressions(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        return str(draw(st.one_of(st.integers(-5000, 5000), st.integers(0, 0xFFFFFFFF))))
    op = draw(st.sampled_from(["+", "-", "*", "&", "|", "^", "<<", ">>", "/", "%"]))
    left = draw(expressions(depth + 1))
    if op in ("<<", ">>"):
        right = str(draw(st.integers(0, 31)))
    elif op in ("/", "%"):
        right = str(draw(st.integers(1, 100)))
    else:
        right = draw(expressions(depth + 1))
    text = f"{left} {op} {right}"
    unary = draw(st.sampled_from(["", "-", "~"]))
    return f"{unary}({text})" if unary or draw(st.booleans()) else text


@st.composite
def programs(draw):
    text = ["    .text", "    .globl _start", "_start:"]
    labels = list(TEXT_LABELS)
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["insn", "insn", "insn", "li", "la", "label", "align",
                                     "load", "skip"]))
        if kind == "insn":
            row = draw(st.sampled_from(INSTRUCTIONS))
            fields = re.findall(r"[a-z_0-9]+", row.syntax)
            values = {f: _field(draw, f) for f in fields}
            suffix = draw(st.sampled_from(["", ".aq", ".rl", ".aqrl"])) if "aq" in row.operands else ""
            operands = re.sub(r"[a-z_0-9]+", lambda m: values[m.group()], row.syntax)
            text.append(f"    {row.name}{suffix} {operands}".rstrip())
        elif kind == "li":
            text.append(f"    li {draw(st.sampled_from(REGS))}, "
                        f"{draw(st.integers(-(1 << 31), (1 << 32) - 1))}")
        elif kind == "la":
            op = draw(st.sampled_from(["la", "lla", "call", "tail"]))
            target = draw(st.sampled_from(TEXT_LABELS + DATA_LABELS))
            text.append(f"    {op} {target}" if op in ("call", "tail")
                        else f"    {op} {draw(st.sampled_from(REGS))}, {target}")
        elif kind == "load":
            text.append(f"    lw a0, {draw(st.sampled_from(DATA_LABELS))}")
        elif kind == "label" and labels:
            text.append(f"{labels.pop(0)}:")
        elif kind == "skip":            # far enough apart to relax branches
            text.append(f"    .skip {4 * draw(st.integers(0, 1500))}")
        else:
            text.append(f"    .align {draw(st.integers(0, 4))}")
    text += [f"{label}:" for label in labels] + ["    nop"]
    data = ["    .data"]
    for label in DATA_LABELS:
        data.append(f"{label}:")
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["word", "byte", "half", "ascii", "zero", "align",
                                         "labels"]))
            if kind == "word":
                data.append(f"    .word ({draw(expressions())}) & 0xffffffff")
            elif kind == "byte":
                data.append(f"    .byte {draw(st.integers(-128, 255))}")
            elif kind == "half":
                data.append(f"    .half {draw(st.integers(-32768, 65535))}")
            elif kind == "ascii":
                chars = draw(st.text(st.characters(min_codepoint=32, max_codepoint=126,
                                                   blacklist_characters='"\\'), max_size=8))
                data.append(f'    .ascii "{chars}"')
            elif kind == "zero":
                data.append(f"    .zero {draw(st.integers(0, 9))}")
            elif kind == "labels":
                data.append(f"    .word {draw(st.sampled_from(TEXT_LABELS + DATA_LABELS))}, "
                            f"{DATA_LABELS[-1]} - {DATA_LABELS[0]}")
            else:
                data.append(f"    .balign {draw(st.sampled_from([1, 2, 4, 8, 16]))}")
    section = draw(st.sampled_from([".rodata", ".data"]))
    data += [f"    .section {section}", '    .asciz "end"']
    return "\n".join(text + data) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=programs())
def test_random_programs_as_gnu(tmp_path, binutils, source):
    compare(write(tmp_path, source))


@st.composite
def far_branch_programs(draw):
    """Branches among labels kept apart by large gaps: relaxation in every mix."""
    targets = [f"L{i}" for i in range(5)]
    labels = list(targets)          # not yet placed
    text = ["    .text", "    .globl _start", "_start:"]
    for _ in range(draw(st.integers(2, 14))):
        kind = draw(st.sampled_from(["branch", "branch", "skip", "label", "align", "jump"]))
        target = draw(st.sampled_from(targets))
        if kind == "branch":
            op = draw(st.sampled_from(["beq", "bne", "blt", "bge", "bltu", "bgeu"]))
            text.append(f"    {op} a0, a1, {target}")
        elif kind == "skip":
            text.append(f"    .skip {4 * draw(st.integers(0, 1100))}")
        elif kind == "label":
            if target in labels:
                labels.remove(target)
                text.append(f"{target}:")
        elif kind == "align":
            text.append(f"    .p2align {draw(st.integers(2, 6))}")
        else:
            text.append(f"    j {target}")
    return "\n".join(text + [f"{label}:" for label in labels] + ["    ret", ""])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=far_branch_programs())
def test_random_far_branches_as_gnu(tmp_path, binutils, source):
    compare(write(tmp_path, source), sections=(".text",))


# -- errors ----------------------------------------------------------------------------------

def run_asm(tmp_path: Path, text: str, *args: str):
    source = write(tmp_path, text, "prog.S")
    result = CliRunner().invoke(asm_command, [str(source), "-o", str(tmp_path / "prog.elf"),
                                              *args])
    return result


@pytest.mark.parametrize("text, message", [
    ("    addi a0, a0, 5000\n",
     "prog.S:1:18: error: immediate 5000 out of range for addi (-2048..2047)\n"
     "        addi a0, a0, 5000\n"
     "                     ^"),
    ("    j nowhere\n",
     "prog.S:1:7: error: undefined symbol 'nowhere'"),
    ("x:\n    nop\nx:  nop\n",
     "prog.S:3:1: error: duplicate label 'x' (first defined at prog.S:1)"),
    ("    j far\n    .skip 1048576\nfar:\n",
     "prog.S:1:7: error: jump target out of range for j: 1048580 bytes away "
     "(-1048576..1048574)"),
    ("    frob a0, a1\n",
     "prog.S:1:5: error: unknown instruction 'frob'"),
    ("    fadd.s fa0, fa1, fa2\n",
     "prog.S:1:5: error: fadd.s needs the F extension, which emu does not implement"),
    ("    c.addi a0, 1\n",
     "prog.S:1:5: error: c.addi needs the C extension, which emu does not implement"),
    ("    .frobnicate 3\n",
     "prog.S:1:5: error: unknown directive .frobnicate"),
    ("    add a0, x32, a1\n",
     "prog.S:1:13: error: expected a register (x0-x31 or an ABI name), found 'x32'"),
    ("    add a0, a1\n",
     "prog.S:1:5: error: wrong number of operands for add: expected 3 (rd, rs1, rs2), found 2"),
    ("    .option rvc\n",
     "prog.S:1:12: error: compressed instructions (the C extension) are not part of emu's "
     "subset (RV32IMA, Zicsr, Zifencei)"),
    ("    slli a0, a0, 32\n",
     "prog.S:1:18: error: shift amount 32 out of range for slli (0..31)"),
    ("    csrr a0, nosuchcsr\n",
     "prog.S:1:14: error: unknown CSR 'nosuchcsr' (expected a CSR name or a number "
     "0..4095)"),
    ("    li a0, later\n    .equ later, 3\n",
     "prog.S:1:12: error: li's value must be a constant, and 'later' is not defined before "
     "this line"),
    ("    .if 1\n    nop\n",
     "prog.S:1:1: error: .if without .endif"),
    ("    .section .weird\n",
     "prog.S:1:14: error: section .weird has no place in emu's layout"),
])
def test_error_messages(tmp_path, text, message):
    result = run_asm(tmp_path, text)
    assert result.exit_code == 1
    assert message.replace(str(tmp_path) + "/", "") in \
        result.output.replace(str(tmp_path) + "/", "")


def test_all_errors_of_a_file_are_reported_in_order(tmp_path):
    result = run_asm(tmp_path, "    frob\n    addi a0, a0, 9999\n    nop\n    j missing\n"
                               "    .bogus\n")
    assert result.exit_code == 1
    lines = [l for l in result.output.replace(str(tmp_path) + "/", "").splitlines()
             if ": error: " in l]
    assert [l.split(": error:")[0] for l in lines] == \
        ["prog.S:1:5", "prog.S:2:18", "prog.S:4:7", "prog.S:5:5"]


def test_at_most_twenty_errors(tmp_path):
    result = run_asm(tmp_path, "    frob\n" * 30)
    assert result.exit_code == 1
    assert result.output.count(": error: ") == 20


def test_recursive_include(tmp_path):
    write(tmp_path, '    .include "b.S"\n', "a.S")
    write(tmp_path, '    nop\n    .include "a.S"\n', "b.S")
    result = run_asm(tmp_path, '    .include "a.S"\n')
    assert result.exit_code == 1
    output = result.output.replace(str(tmp_path) + "/", "")
    assert "b.S:2:14: error: recursive .include of a.S" in output
    assert "Traceback" not in output


def test_error_in_macro_names_the_use(tmp_path):
    result = run_asm(tmp_path, ".macro M r\n    addi \\r, \\r, 1\n.endm\n    M a0\n    M q9\n")
    output = result.output.replace(str(tmp_path) + "/", "")
    assert result.exit_code == 1
    assert "prog.S:2:10: error: expected a register (x0-x31 or an ABI name), found 'q9'" in output
    assert "    addi q9, q9, 1" in output
    assert "(in the expansion used at prog.S:5)" in output


def test_assembly_error_is_a_program_error(tmp_path):
    from emu.errors import ProgramError
    with pytest.raises(AssemblyError) as caught:
        assemble(write(tmp_path, "    nop a0\n"))
    assert isinstance(caught.value, ProgramError)
    assert len(caught.value.diagnostics) == 1
    assert caught.value.diagnostics[0].location.line == 1


# -- the command and load_source ----------------------------------------------------------------

HELLO = """
    .globl _start
    .text
_start:
    la a0, msg
    li a1, 0x10000000
    ret
    .section .rodata
msg: .asciz "hi"
    .bss
buf: .skip 64
"""


def test_asm_command_writes_the_elf_and_listing(tmp_path):
    from emu.asm import elfwrite as writer
    result = run_asm(tmp_path, HELLO, "-l", "-Ttext=0x80200000")
    assert result.exit_code == 0, result.output
    expected = assemble(tmp_path / "prog.S", 0x80200000)
    assert (tmp_path / "prog.elf").read_bytes() == writer.write_elf(
        expected.sections, expected.symbols, expected.entry)
    assert "   5 80200000 17050000 \t    la a0, msg" in result.output
    assert "     80200004 13050501" in result.output
    assert "   6 80200008 b7050010 \t    li a1, 0x10000000" in result.output
    assert expected.entry == 0x80200000
    names = {s.name: s for s in expected.symbols}
    assert names["msg"].section == ".rodata" and names["_start"].is_global
    assert names["buf"].section == ".bss"
    bss = [s for s in expected.sections if s.name == ".bss"][0]
    assert bss.data == b"" and bss.size == 64 and bss.flags == "aw"


def test_include_directories_as_gnu(tmp_path, binutils):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "defs.inc").write_text("    .equ ANSWER, 42\n")
    (tmp_path / "near.inc").write_text("    .equ NEAR, 7\n")
    source = write(tmp_path, """
    .include "near.inc"
    .include "defs.inc"
_start:
    li a0, ANSWER + NEAR
""")
    result = CliRunner().invoke(asm_command, [str(source), "-I", str(tmp_path / "inc"),
                                              "-o", str(tmp_path / "prog.elf")])
    assert result.exit_code == 0, result.output
    assert assemble(source, include_dirs=(tmp_path / "inc",)).sections[0].data[:4] == \
        (0x03100513).to_bytes(4, "little")          # addi a0, zero, 49
    missing = CliRunner().invoke(asm_command, [str(source)])
    assert missing.exit_code == 1 and "defs.inc" in missing.output


def test_asm_command_missing_file(tmp_path):
    result = CliRunner().invoke(asm_command, [str(tmp_path / "none.S")])
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_load_source_builds_a_program(tmp_path):
    program = load_source(write(tmp_path, HELLO))
    assert program.entry == BASE
    assert [hex(s.paddr) for s in program.segments] == ["0x80000000", "0x80000010", "0x80000020"]
    assert program.segments[1].data == b"hi\0"
    assert program.segments[2].data == b"" and program.segments[2].memsz == 64
    assert program.symbols["msg"] == 0x80000010
