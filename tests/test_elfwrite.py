"""emu.asm.elfwrite checked by readers that did not write it: GNU readelf and
objdump, gdb, pyelftools and emu's own loader, and against GNU ld, which links
the same program (and every privileged test) for comparison.

The tools are test oracles: when one is missing the tests fail, they do not skip
(Debian packages binutils-riscv64-unknown-elf and gdb-multiarch)."""
from __future__ import annotations

import io
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from elftools.elf.elffile import ELFFile

from emu.asm.elfwrite import PAGE_SIZE, Section, Symbol, write_elf
from emu.cli import main
from emu.elf import Segment, load_elf
from emu.machine import Machine, StopReason
from emu.platform import Console
from tests import rvenc as rv
from tests.gnu import build

REPO = Path(__file__).resolve().parent.parent
READELF = "riscv64-unknown-elf-readelf"
OBJDUMP = "riscv64-unknown-elf-objdump"
GDB = "gdb-multiarch"
INSTALL = {READELF: "binutils-riscv64-unknown-elf", OBJDUMP: "binutils-riscv64-unknown-elf",
           GDB: "gdb-multiarch"}

BASE = 0x80000000
TEST_DEVICE = 0x100000          # the test finisher (docs/board.md): 0x5555 means pass
TEST_PASS = 0x5555

PF_R, PF_W, PF_X = 4, 2, 1

# The hand-built program: a0 = 7, then tell the test device "pass".
CODE = rv.program([
    rv.addi(10, 0, 7),                  # li a0, 7
    rv.lui(5, TEST_DEVICE >> 12),       # lui t0, 0x100
    rv.lui(6, TEST_PASS >> 12),         # li t1, 0x5555
    rv.addi(6, 6, TEST_PASS & 0xFFF),
    rv.sw(6, 0, 5),                     # sw t1, 0(t0)
    rv.jal(0, 0),                       # loop: j loop
])
LOOP = BASE + len(CODE) - 4

# The same program for GNU as, linked with programs/link.ld.
GNU_SOURCE = """\
    .section .text.init, "ax"
    .globl _start
    .type _start, @function
_start:
    li a0, 7
    lui t0, 0x100
    li t1, 0x5555
    sw t1, 0(t0)
loop:
    j loop

    .section .rodata
msg:
    .asciz "hi"

    .data
    .type counter, @object
counter:
    .word 5

    .bss
    .globl buf
buf:
    .space 64

    .equ CONST, 42
    .globl GCONST
    .equ GCONST, 0x1234
"""


def full_program():
    """Code, read-only data, data and bss, as link.ld lays them out."""
    sections = [
        Section(".text", BASE, CODE, len(CODE), "ax"),
        Section(".rodata", BASE + 0x20, b"hi\0", 3, "a"),
        Section(".data", BASE + 0x1000, (5).to_bytes(4, "little"), 4, "aw"),
        Section(".bss", BASE + 0x1010, b"", 64, "aw"),
    ]
    # Locals and globals interleaved: the writer puts the locals first.
    symbols = [
        Symbol("_start", BASE, ".text", True, "func"),
        Symbol("loop", LOOP, ".text", False, "notype"),
        Symbol("msg", BASE + 0x20, ".rodata", False, "notype"),
        Symbol("buf", BASE + 0x1010, ".bss", True, "notype"),
        Symbol("counter", BASE + 0x1000, ".data", False, "object"),
        Symbol("CONST", 42, None, False, "notype"),
        Symbol("GCONST", 0x1234, None, True, "notype"),
    ]
    return sections, symbols, BASE


def text_only():
    """No data section at all: one segment."""
    return ([Section(".text", BASE, CODE, len(CODE), "ax")],
            [Symbol("_start", BASE, ".text", True, "func"),
             Symbol("loop", LOOP, ".text", False, "notype")], BASE)


def bss_only():
    """Code and .bss: a data segment with no file bytes."""
    return ([Section(".text", BASE, CODE, len(CODE), "ax"),
             Section(".bss", BASE + 0x20, b"", 100, "aw")],
            [Symbol("_start", BASE, ".text", True, "func"),
             Symbol("buf", BASE + 0x20, ".bss", False, "object")], BASE)


def absolute_symbols_only():
    """Symbols that are numbers, in no section."""
    return ([Section(".text", BASE, CODE, len(CODE), "ax")],
            [Symbol("SIZE", 0x40, None, False, "notype"),
             Symbol("LIMIT", 0xFFFFFFFF, None, True, "notype")], BASE)


def no_symbols():
    return [Section(".text", BASE, CODE, len(CODE), "ax")], [], BASE


def out_of_order():
    """Section headers in the caller's order; segments in address order."""
    sections, symbols, entry = full_program()
    return sections[::-1], symbols, entry


def other_sections():
    """A section named outside the usual four, an empty .bss, and a section
    that is not loaded at all."""
    return ([Section(".text", BASE, CODE, len(CODE), "ax"),
             Section(".tohost", BASE + 0x1000, bytes(16), 16, "aw"),
             Section(".bss", BASE + 0x1010, b"", 0, "aw"),
             Section(".comment", 0, b"emu\0", 4, "")],
            [Symbol("tohost", BASE + 0x1000, ".tohost", True, "object"),
             Symbol("__bss_start", BASE + 0x1010, ".bss", True, "notype")], BASE)


CASES = [full_program, text_only, bss_only, absolute_symbols_only, no_symbols,
         out_of_order, other_sections]


# -- helpers ---------------------------------------------------------------------

def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: apt-get install -y {INSTALL[name]}")
    return path


def check_output(argv: list[str]) -> str:
    """Run a reader; it must succeed and say nothing on stderr."""
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stderr}{done.stdout}"
    assert done.stderr == "", f"{' '.join(argv)} complained:\n{done.stderr}"
    return done.stdout


def readelf(path: Path) -> str:
    out = check_output([tool(READELF), "-a", "-W", str(path)])
    for line in out.lower().splitlines():
        assert "warning" not in line and "error" not in line, out
    return out


def write(tmp_path: Path, case, name: str = "prog") -> Path:
    sections, symbols, entry = case() if callable(case) else case
    path = tmp_path / f"{name}.elf"
    path.write_bytes(write_elf(sections, symbols, entry))
    return path


def gnu_link(tmp_path: Path, source: str = GNU_SOURCE) -> Path:
    tool("riscv64-unknown-elf-as")
    tool("riscv64-unknown-elf-ld")
    path = tmp_path / "gnu.S"
    path.write_text(textwrap.dedent(source))
    return build(path, tmp_path / "gnu.elf")


def loads(path: Path) -> list[dict]:
    """The PT_LOAD headers that load something, with their file bytes."""
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        return [dict(segment.header, data=segment.data()) for segment in elf.iter_segments()
                if segment["p_type"] == "PT_LOAD" and segment["p_memsz"]]


def symbol_rows(path: Path) -> dict[str, tuple]:
    """name -> (value, bind, type, section name or ABS), as pyelftools reads them."""
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        rows = {}
        for symbol in elf.get_section_by_name(".symtab").iter_symbols():
            shndx = symbol["st_shndx"]
            where = shndx if isinstance(shndx, str) else elf.get_section(shndx).name
            rows[symbol.name] = (symbol["st_value"], symbol["st_info"]["bind"],
                                 symbol["st_info"]["type"], where)
        return rows


def from_gnu(path: Path):
    """A GNU-linked executable as write_elf's input: its loaded sections and its
    named symbols (not section, file or $x mapping symbols)."""
    kinds = {"STT_NOTYPE": "notype", "STT_OBJECT": "object", "STT_FUNC": "func"}
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        sections = []
        for section in elf.iter_sections():
            flags = section["sh_flags"]
            if not flags & 0x2:                     # SHF_ALLOC
                continue
            nobits = section["sh_type"] == "SHT_NOBITS"
            sections.append(Section(
                section.name, section["sh_addr"], b"" if nobits else section.data(),
                section["sh_size"],
                "a" + ("w" if flags & 0x1 else "") + ("x" if flags & 0x4 else "")))
        symbols = []
        for symbol in elf.get_section_by_name(".symtab").iter_symbols():
            kind = kinds.get(symbol["st_info"]["type"])
            if kind is None or not symbol.name or symbol.name.startswith("$"):
                continue
            shndx = symbol["st_shndx"]
            section = None if shndx == "SHN_ABS" else elf.get_section(shndx).name
            symbols.append(Symbol(symbol.name, symbol["st_value"], section,
                                  symbol["st_info"]["bind"] != "STB_LOCAL", kind))
        return sections, symbols, elf["e_entry"]


def run_emu(path: Path) -> Machine:
    machine = Machine(16 << 20, Console(io.BytesIO()))
    machine.load(load_elf(path), "m")
    stop = machine.run(10_000)
    assert (stop.reason, stop.status) == (StopReason.EXIT, 0), stop
    return machine


# -- the file as each reader sees it -----------------------------------------------

def test_elf_header(tmp_path):
    path = write(tmp_path, full_program)
    image = path.read_bytes()
    assert image[:16] == b"\x7fELF\x01\x01\x01" + bytes(9)   # ELF32, LSB, v1, SysV ABI 0
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        assert (elf.elfclass, elf.little_endian) == (32, True)
        assert elf["e_type"] == "ET_EXEC"
        assert elf["e_machine"] == "EM_RISCV"
        assert elf["e_flags"] == 0                          # soft-float, no RVC
        assert elf["e_entry"] == BASE
        assert (elf["e_ehsize"], elf["e_phentsize"], elf["e_shentsize"]) == (52, 32, 40)
        names = [section.name for section in elf.iter_sections()]
    assert names == ["", ".text", ".rodata", ".data", ".bss", ".symtab", ".strtab",
                     ".shstrtab"]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_readelf_reads_it_without_complaint(case, tmp_path):
    out = readelf(write(tmp_path, case))
    for line in ("Class:                             ELF32",
                 "Data:                              2's complement, little endian",
                 "Type:                              EXEC (Executable file)",
                 "Machine:                           RISC-V",
                 "Flags:                             0x0",
                 "Entry point address:               0x80000000"):
        assert line in out
    sections, _, _ = case()
    for section in sections:
        kind = "NOBITS" if section.name == ".bss" else "PROGBITS"
        assert f"] {section.name:<17} {kind:<15} {section.addr:08x} " in out


def test_readelf_shows_the_layout_gnu_ld_gives(tmp_path):
    out = readelf(write(tmp_path, full_program))
    assert "LOAD           0x001000 0x80000000 0x80000000 0x00023 0x00023 R E 0x1000" in out
    assert "LOAD           0x002000 0x80001000 0x80001000 0x00004 0x00050 RW  0x1000" in out
    assert "   00     .text .rodata \n   01     .data .bss \n" in out
    assert "Symbol table '.symtab' contains 8 entries:" in out


def test_same_segments_sections_and_symbols_as_gnu_ld(tmp_path):
    ours, gnu = write(tmp_path, full_program), gnu_link(tmp_path)
    assert loads(ours) == loads(gnu)

    def sections(path):
        with path.open("rb") as stream:
            return {s.name: {k: v for k, v in s.header.items() if k not in ("sh_name",
                                                                            "sh_addralign")}
                    for s in ELFFile(stream).iter_sections() if s["sh_flags"] & 0x2}
    assert sections(ours) == sections(gnu)

    mine, theirs = symbol_rows(ours), symbol_rows(gnu)
    for name in ("_start", "loop", "msg", "counter", "buf", "CONST", "GCONST"):
        assert mine[name] == theirs[name], name


def test_section_alignment_is_what_the_address_has(tmp_path):
    with write(tmp_path, full_program).open("rb") as stream:
        aligns = {s.name: (s["sh_addr"], s["sh_addralign"])
                  for s in ELFFile(stream).iter_sections()}
    # ld gives .text 4 and .data 4096 too; .rodata's 32 is more than link.ld's
    # ALIGN(16), which the address satisfies all the same.
    assert {name: align for name, (_, align) in aligns.items()} == {
        "": 0, ".text": 4, ".rodata": 32, ".data": 4096, ".bss": 16,
        ".symtab": 4, ".strtab": 1, ".shstrtab": 1}
    assert all(addr % align == 0 for addr, align in aligns.values() if align)


def test_symbol_table_has_locals_first(tmp_path):
    with write(tmp_path, full_program).open("rb") as stream:
        elf = ELFFile(stream)
        symtab = elf.get_section_by_name(".symtab")
        entries = list(symtab.iter_symbols())
        assert symtab["sh_link"] == elf.get_section_index(".strtab")
        assert symtab["sh_entsize"] == 16
        null = entries[0]
        assert (null.name, null["st_value"], null["st_info"]["type"],
                null["st_shndx"]) == ("", 0, "STT_NOTYPE", "SHN_UNDEF")
        binds = [symbol["st_info"]["bind"] for symbol in entries[1:]]
        assert binds == ["STB_LOCAL"] * 4 + ["STB_GLOBAL"] * 3
        assert symtab["sh_info"] == 5                   # the first global's index
        # Each group keeps the caller's order.
        assert [symbol.name for symbol in entries] == [
            "", "loop", "msg", "counter", "CONST", "_start", "buf", "GCONST"]
    rows = symbol_rows(tmp_path / "prog.elf")
    assert rows["_start"] == (BASE, "STB_GLOBAL", "STT_FUNC", ".text")
    assert rows["counter"] == (BASE + 0x1000, "STB_LOCAL", "STT_OBJECT", ".data")
    assert rows["buf"] == (BASE + 0x1010, "STB_GLOBAL", "STT_NOTYPE", ".bss")
    assert rows["CONST"] == (42, "STB_LOCAL", "STT_NOTYPE", "SHN_ABS")
    assert rows["GCONST"] == (0x1234, "STB_GLOBAL", "STT_NOTYPE", "SHN_ABS")


def test_absolute_symbols_only(tmp_path):
    rows = symbol_rows(write(tmp_path, absolute_symbols_only))
    assert rows == {"": (0, "STB_LOCAL", "STT_NOTYPE", "SHN_UNDEF"),
                    "SIZE": (0x40, "STB_LOCAL", "STT_NOTYPE", "SHN_ABS"),
                    "LIMIT": (0xFFFFFFFF, "STB_GLOBAL", "STT_NOTYPE", "SHN_ABS")}


def test_objdump_disassembles_text_with_labels(tmp_path):
    out = check_output([tool(OBJDUMP), "-d", str(write(tmp_path, full_program))])
    assert "file format elf32-littleriscv" in out
    assert "Disassembly of section .text:" in out
    assert "80000000 <_start>:" in out
    assert f"{LOOP:08x} <loop>:" in out
    assert f"j\t{LOOP:08x} <loop>" in out
    words = [line.split("\t")[1].strip() for line in out.splitlines()
             if line.startswith("80000") and ":\t" in line]
    assert words == [CODE[i:i + 4][::-1].hex() for i in range(0, len(CODE), 4)]


def test_gdb_loads_it(tmp_path):
    path = write(tmp_path, full_program)
    out = check_output([tool(GDB), "-nx", "-batch", "-ex", "info files",
                        "-ex", f"info symbol {LOOP:#x}", "-ex", "x/2i 0x80000000",
                        str(path)])
    assert "file type elf32-littleriscv" in out
    assert "Entry point: 0x80000000" in out
    for line in ("0x80000000 - 0x80000018 is .text", "0x80000020 - 0x80000023 is .rodata",
                 "0x80001000 - 0x80001004 is .data", "0x80001010 - 0x80001050 is .bss",
                 "loop in section .text", "<_start>:\tli\ta0,7"):
        assert line in out


# -- emu loads and runs it ---------------------------------------------------------

def test_emu_loads_it_as_it_loads_gnu_ld_output(tmp_path):
    ours, gnu = load_elf(write(tmp_path, full_program)), load_elf(gnu_link(tmp_path))
    assert ours.entry == gnu.entry == BASE
    assert ours.segments == gnu.segments == [
        Segment(BASE, CODE + bytes(8) + b"hi\0", 0x23),
        Segment(BASE + 0x1000, (5).to_bytes(4, "little"), 0x50)]
    assert ours.symbols == {"loop": LOOP, "msg": BASE + 0x20, "counter": BASE + 0x1000,
                            "CONST": 42, "_start": BASE, "buf": BASE + 0x1010,
                            "GCONST": 0x1234}


@pytest.mark.parametrize("case", [full_program, text_only, bss_only, other_sections],
                         ids=lambda case: case.__name__)
def test_emu_runs_it(case, tmp_path):
    path = write(tmp_path, case)
    assert run_emu(path).core.x[10] == 7
    result = CliRunner().invoke(main, ["run", str(path), "--max-insns", "1000"])
    assert result.exit_code == 0, result.output


# -- segments ----------------------------------------------------------------------

def test_bss_only_is_nobits(tmp_path):
    path = write(tmp_path, bss_only)
    with path.open("rb") as stream:
        assert ELFFile(stream).get_section_by_name(".bss")["sh_type"] == "SHT_NOBITS"
    text, bss = loads(path)
    assert (text["p_vaddr"], text["p_filesz"], text["p_flags"]) == (BASE, len(CODE),
                                                                   PF_R | PF_X)
    assert (bss["p_vaddr"], bss["p_filesz"], bss["p_memsz"], bss["p_flags"]) == (
        BASE + 0x20, 0, 100, PF_R | PF_W)
    assert bss["p_offset"] % PAGE_SIZE == bss["p_vaddr"] % PAGE_SIZE
    assert bss["p_offset"] <= path.stat().st_size
    assert load_elf(path).segments[1] == Segment(BASE + 0x20, b"", 100)
    assert "   01     .bss \n" in readelf(path)


def test_bss_only_as_gnu_ld_links_it(tmp_path):
    gnu = gnu_link(tmp_path, """\
        .globl _start
    _start:
        li a0, 7
        lui t0, 0x100
        li t1, 0x5555
        sw t1, 0(t0)
        j .
        .bss
        .type buf, @object
    buf:
        .space 100
    """)
    assert loads(write(tmp_path, bss_only)) == loads(gnu)


def test_text_only_is_one_segment(tmp_path):
    (text,) = loads(write(tmp_path, text_only))
    assert (text["p_offset"], text["p_vaddr"], text["p_paddr"], text["p_filesz"],
            text["p_memsz"], text["p_flags"], text["p_align"]) == (
        0x1000, BASE, BASE, len(CODE), len(CODE), PF_R | PF_X, PAGE_SIZE)


def test_out_of_order_sections_make_the_same_segments(tmp_path):
    assert loads(write(tmp_path, out_of_order, "a")) == loads(write(tmp_path, full_program, "b"))


def test_empty_and_unloaded_sections_are_in_no_segment(tmp_path):
    path = write(tmp_path, other_sections)
    assert [(s["p_vaddr"], s["p_memsz"]) for s in loads(path)] == [(BASE, len(CODE)),
                                                                   (BASE + 0x1000, 16)]
    out = readelf(path)
    assert "   00     .text \n   01     .tohost \n" in out
    with path.open("rb") as stream:
        comment = ELFFile(stream).get_section_by_name(".comment")
        assert (comment["sh_flags"], comment.data()) == (0, b"emu\0")


def test_writable_data_on_the_code_page_gets_its_own_segment(tmp_path):
    """ld would put it in the code segment (same page) and warn about RWX; we
    keep code and data apart as link.ld's PHDRS does."""
    path = write(tmp_path, ([Section(".text", BASE, CODE, len(CODE), "ax"),
                             Section(".data", BASE + 0x18, b"\1\2\3\4", 4, "aw")], [], BASE))
    segments = loads(path)
    assert [(s["p_vaddr"], s["p_flags"]) for s in segments] == [(BASE, PF_R | PF_X),
                                                                (BASE + 0x18, PF_R | PF_W)]
    assert all(s["p_offset"] % PAGE_SIZE == s["p_vaddr"] % PAGE_SIZE for s in segments)
    readelf(path)
    run_emu(path)


def test_a_page_gap_splits_a_segment_and_a_small_one_is_padded(tmp_path):
    path = write(tmp_path, ([Section(".text", BASE, CODE, len(CODE), "ax"),
                             Section(".rodata", BASE + 0x100, b"near", 4, "a"),
                             Section(".rodata.far", BASE + 0x3000, b"far", 3, "a")],
                            [], BASE))
    near, far = loads(path)
    assert near["data"] == CODE + bytes(0x100 - len(CODE)) + b"near"
    assert (far["p_vaddr"], far["data"], far["p_flags"]) == (BASE + 0x3000, b"far", PF_R)
    readelf(path)


def test_data_after_bss_starts_a_segment(tmp_path):
    """A segment's file bytes are the start of its memory bytes, so initialised
    data above .bss cannot share its segment."""
    path = write(tmp_path, ([Section(".text", BASE, CODE, len(CODE), "ax"),
                             Section(".bss", BASE + 0x1000, b"", 16, "aw"),
                             Section(".data", BASE + 0x1010, b"late", 4, "aw")], [], BASE))
    assert [(s["p_vaddr"], s["p_filesz"], s["p_memsz"]) for s in loads(path)] == [
        (BASE, len(CODE), len(CODE)), (BASE + 0x1000, 0, 16), (BASE + 0x1010, 4, 4)]
    readelf(path)


# -- GNU ld's own output, rewritten ------------------------------------------------

PRIV_TESTS = sorted(p for p in (REPO / "tests" / "priv").glob("*.S") if p.name != "check.S")


@pytest.mark.parametrize("source", PRIV_TESTS, ids=lambda p: p.stem)
def test_rewriting_a_gnu_linked_test_keeps_it_working(source, tmp_path):
    """Every privileged test, linked by GNU ld and written again from its
    sections and symbols: the same PT_LOADs, the same symbols, and it still passes."""
    tool("riscv64-unknown-elf-as")
    gnu = build(source, tmp_path / "gnu.elf")
    ours = write(tmp_path, from_gnu(gnu), "ours")
    assert loads(ours) == loads(gnu)
    assert load_elf(ours).symbols.items() <= load_elf(gnu).symbols.items()
    readelf(ours)
    result = CliRunner().invoke(main, ["run", str(ours), "--max-insns", "50000000"])
    assert result.exit_code == 0, result.output


# -- refusals --------------------------------------------------------------------

TEXT = Section(".text", BASE, CODE, len(CODE), "ax")


@pytest.mark.parametrize("sections, symbols, entry, phrase", [
    ([TEXT, Section(".data", BASE + 8, b"x", 1, "aw")], [], BASE, "overlap"),
    ([TEXT, Section(".text", BASE + 0x100, b"x", 1, "ax")], [], BASE, "twice"),
    ([Section(".text", BASE, CODE, len(CODE), "rx")], [], BASE, "unknown flag"),
    ([Section(".data", BASE, b"ab", 3, "aw")], [], BASE, "size 3 but 2 bytes"),
    ([Section(".bss", BASE, b"ab", 2, "aw")], [], BASE, "NOBITS"),
    ([Section(".data", 0xFFFFFFF0, bytes(32), 32, "aw")], [], BASE, "32-bit address"),
    ([TEXT], [Symbol("x", 0, ".data", False, "notype")], BASE, "not being written"),
    ([TEXT], [Symbol("x", 0, ".text", False, "label")], BASE, "kind"),
    ([TEXT], [Symbol("x", -1, None, False, "notype")], BASE, "32-bit number"),
    ([TEXT], [], 1 << 32, "entry point"),
], ids=["overlap", "duplicate", "flag", "size", "nobits-data", "wraps", "section", "kind",
        "value", "entry"])
def test_refuses_what_would_be_a_wrong_file(sections, symbols, entry, phrase):
    with pytest.raises(ValueError, match=phrase):
        write_elf(sections, symbols, entry)
