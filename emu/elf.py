"""Reading programs: ELF32 RISC-V executables, with pyelftools.

A Program is what the machine needs to run a file: its loadable segments at their
physical addresses, its entry point, and its symbols for the tools (tohost, labels
for traces and the debugger). Every way a file can be unfit is a ProgramError that
says why."""
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from emu.core import RAM_BASE
from emu.errors import ProgramError

EM_RISCV = 243
PT_LOAD = "PT_LOAD"
EF_RISCV_RVC = 0x1
EF_RISCV_FLOAT_ABI = 0x6
SHF_ALLOC = 0x2
BUILD_HINT = "build it with -march=rv32ima_zicsr_zifencei -mabi=ilp32"


@dataclass(frozen=True)
class Segment:
    paddr: int
    data: bytes
    memsz: int      # bytes in memory: data, then zeros


@dataclass
class Program:
    path: str
    entry: int
    segments: list[Segment]
    symbols: dict[str, int] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)   # address -> name, for traces
    notes: list[str] = field(default_factory=list)         # what loading it left out, and why


def label_map(symbols) -> dict[int, str]:
    """Address -> name from (name, value, is_global) of the symbols that name a
    place in a section, not a constant: a global name wins over a local one, then
    the first in name order. Mapping symbols ($x, $d) are not names."""
    labels: dict[int, tuple[bool, str]] = {}
    for name, value, is_global in symbols:
        if name.startswith("$"):
            continue
        best = labels.get(value)
        if best is None or (not is_global, name) < (not best[0], best[1]):
            labels[value] = (is_global, name)
    return {value: name for value, (_, name) in labels.items()}


def load_elf(path: str | Path) -> Program:
    path = Path(path)
    try:
        with path.open("rb") as stream:
            if stream.read(4) != b"\x7fELF":
                raise ProgramError(f"{path}: not an ELF file")
            stream.seek(0)
            return _read(path, ELFFile(stream))
    except FileNotFoundError:
        raise ProgramError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ProgramError(f"{path}: is a directory, not a program") from None
    except PermissionError:
        raise ProgramError(f"{path}: permission denied") from None
    except (ELFError, ValueError, KeyError, AssertionError) as error:
        raise ProgramError(f"{path}: damaged ELF file ({error})") from None


def _read(path: Path, elf: ELFFile) -> Program:
    if elf.elfclass != 32:
        raise ProgramError(f"{path}: a 64-bit ELF; emu runs 32-bit RISC-V programs ({BUILD_HINT})")
    if not elf.little_endian:
        raise ProgramError(f"{path}: a big-endian ELF; RISC-V is little-endian")
    if elf["e_machine"] != "EM_RISCV":
        raise ProgramError(f"{path}: an ELF for {elf['e_machine']}, not RISC-V")
    if elf["e_type"] != "ET_EXEC":
        raise ProgramError(f"{path}: {elf['e_type']} is not an executable; link it first")
    flags = elf["e_flags"]
    if flags & EF_RISCV_RVC:
        raise ProgramError(f"{path}: uses compressed instructions (the C extension), "
                           f"which emu does not have: {BUILD_HINT}")
    if flags & EF_RISCV_FLOAT_ABI:
        raise ProgramError(f"{path}: uses a hard-float ABI; emu has no F or D: {BUILD_HINT}")
    loads = [seg for seg in elf.iter_segments()
             if seg["p_type"] == PT_LOAD and seg["p_memsz"] > 0]
    if not loads:
        raise ProgramError(f"{path}: has nothing to load (no PT_LOAD segment)")
    for seg in loads:
        if seg["p_filesz"] > seg["p_memsz"]:
            raise ProgramError(f"{path}: a segment at {seg['p_paddr']:#x} holds more file bytes "
                               "than memory bytes")
    segments, notes = _skip_headers_below_ram(path, elf, loads)
    return Program(str(path), elf["e_entry"], segments, *_symbols(elf), notes=notes)


def _skip_headers_below_ram(path: Path, elf: ELFFile, loads) -> tuple[list[Segment], list[str]]:
    """The segments to load, less a part below RAM that holds no section. GNU ld
    with -Ttext=0x80000000 (and no linker script) maps the ELF and program headers
    into the first segment, in the page below .text: outside this board's RAM.
    QEMU loads such a file; so does emu, leaving the headers out, with a note."""
    sections = [(s["sh_addr"], s["sh_addr"] + s["sh_size"]) for s in elf.iter_sections()
                if s["sh_flags"] & SHF_ALLOC and s["sh_size"]]
    segments, notes = [], []
    for seg in loads:
        paddr, vaddr, memsz = seg["p_paddr"], seg["p_vaddr"], seg["p_memsz"]
        below = min(memsz, max(0, RAM_BASE - paddr))     # bytes below RAM
        if below and not any(start < vaddr + below and end > vaddr for start, end in sections):
            notes.append(f"{path}: {paddr:#x}-{paddr + below:#x} holds only the ELF headers, "
                         "outside RAM: not loaded")
            if below == memsz:
                continue
            segments.append(Segment(paddr + below, seg.data()[below:], memsz - below))
        else:
            segments.append(Segment(paddr, seg.data(), memsz))
    return segments, notes


def _symbols(elf: ELFFile) -> tuple[dict[str, int], dict[int, str]]:
    """Name -> value of every defined symbol, and the labels of the sections'."""
    table = elf.get_section_by_name(".symtab")
    if table is None:
        return {}, {}
    defined = [sym for sym in table.iter_symbols()
               if sym.name and sym["st_info"]["type"] in ("STT_NOTYPE", "STT_OBJECT", "STT_FUNC")
               and sym["st_shndx"] != "SHN_UNDEF"]
    return ({sym.name: sym["st_value"] for sym in defined},
            label_map((sym.name, sym["st_value"], sym["st_info"]["bind"] == "STB_GLOBAL")
                      for sym in defined if sym["st_shndx"] != "SHN_ABS"))
