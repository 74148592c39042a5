"""The assembler: GNU as syntax for emu's subset in, laid-out sections and symbols
out, as `riscv64-unknown-elf-as -mno-relax` followed by `ld --no-relax -T
programs/link.ld` would give them (see assembler.py for how, layout.py for
where, insns.py for the instruction forms).

    from emu.asm import assemble
    sections, symbols, entry, listing = assemble("prog.S")

Bad source raises AssemblyError, whose text names every error's file, line and
column (source.py)."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from emu.asm.assembler import DOT_MARK, LOCAL_MARK, Assembler
from emu.asm.elfwrite import Section, Symbol
from emu.asm.source import AssemblyError, Diagnostic, StatementError
from emu.errors import ProgramError

DEFAULT_BASE = 0x80000000
RELAX_ROUNDS = 16

__all__ = ["Assembly", "AssemblyError", "DEFAULT_BASE", "Diagnostic", "OutputSection",
           "OutputSymbol", "assemble"]


# The laid-out sections and the symbols are what the ELF writer takes.
OutputSection, OutputSymbol = Section, Symbol


class Assembly(NamedTuple):
    sections: list[OutputSection]
    symbols: list[OutputSymbol]
    entry: int
    listing: str


def assemble(source_path: str | Path, base: int = DEFAULT_BASE,
             defsyms: dict[str, int] | None = None,
             include_dirs: tuple[Path, ...] = ()) -> Assembly:
    """Assemble one file (and what it includes) into sections placed from `base`.
    `defsyms` are as `as --defsym NAME=VALUE`, `include_dirs` as `as -I DIR`. Raises AssemblyError for bad
    source, ProgramError if the file cannot be read."""
    path = Path(source_path)
    if not path.is_file():
        raise ProgramError(f"{path}: no such file" if not path.exists() else
                           f"{path}: not a file")
    if not 0 <= base < (1 << 32) or base % 4:
        raise ProgramError(f"base address {base:#x} must be a 4-byte-aligned 32-bit address")
    def read(long_branches: frozenset[int]) -> Assembler:
        assembler = Assembler(defsyms, long_branches, tuple(map(Path, include_dirs)))
        try:
            assembler.read_file(path, shown=str(source_path))
        except StatementError as error:
            raise ProgramError(f"{path}: {error.message}") from None
        return assembler

    assembler = read(frozenset())
    long = assembler.long_branches_now(first=True)
    for rounds in range(RELAX_ROUNDS):
        if assembler.diagnostics.items:
            break
        if long != assembler.long_branches:
            assembler = read(long)
        measured = assembler.long_branches_now(first=False)
        if measured == assembler.long_branches:
            break
        # Let branches shrink back as GNU does, then only grow, so that it ends.
        long = measured if rounds < RELAX_ROUNDS // 2 else measured | assembler.long_branches
    placed = assembler.finish(base)
    sections = []
    outputs = {}
    for out in placed:
        data = bytearray()
        for name in out.inputs:
            offset = assembler.addresses[name] - out.addr
            data += bytes(offset - len(data)) + assembler.sections[name].data
        data += bytes(out.size - len(data))
        sections.append(OutputSection(out.output.name, out.addr,
                                      b"" if out.output.nobits else bytes(data),
                                      out.size, out.output.flags))
        for name in out.inputs:
            outputs[name] = out.output.name
    symbols = []
    for symbol in assembler.symbols.values():
        if symbol.name.startswith(".L") or LOCAL_MARK in symbol.name or DOT_MARK in symbol.name:
            continue
        try:
            value = assembler._lookup_late(symbol.name, 1)
        except Exception:           # undefined (a .globl never defined) or unusable
            continue
        section = None
        if symbol.value is not None and symbol.value.section is not None:
            section = outputs.get(symbol.value.section)
            if section is None:         # in a discarded (empty) section, as ld drops it
                continue
        elif symbol.location is None and symbol.is_label:       # the layout's own symbols
            section = _section_at(sections, value.offset)
        symbols.append(OutputSymbol(symbol.name, value.offset & 0xFFFFFFFF, section,
                                    symbol.is_global, symbol.kind))
    # ld's ENTRY(_start) finds a global _start only; else the start of .text.
    entry_symbol = assembler.symbols.get("_start")
    if entry_symbol is not None and entry_symbol.is_global and (
            entry_symbol.value is not None or entry_symbol.expr is not None):
        entry = assembler._lookup_late("_start", 1).offset
    else:
        entry = sections[0].addr if sections else base
    return Assembly(sections, symbols, entry, _listing(assembler))


def _section_at(sections: list[OutputSection], address: int) -> str | None:
    for section in reversed(sections):
        if section.addr <= address <= section.addr + section.size:
            return section.name
    return None


def _listing(assembler: Assembler) -> str:
    """Address, bytes and source line, as `as -al` prints them (but with the
    linked addresses): four bytes a row, continuation rows for longer data."""
    lines = []
    for location, statements in assembler.rows:
        text = location.text.rstrip("\n")
        first = True
        for statement in statements:
            data = assembler.sections[statement.section].data[statement.start:statement.end]
            address = assembler.addresses[statement.section] + statement.start
            for i in range(0, len(data), 4):
                chunk = data[i:i + 4].hex()
                prefix = f"{location.line:>4} " if first else "     "
                lines.append(f"{prefix}{address + i:08x} {chunk:<8} " + (f"\t{text}" if first else ""))
                first = False
        if first:
            lines.append(f"{location.line:>4} {'':8} {'':8} \t{text}")
    return "\n".join(line.rstrip() for line in lines) + "\n"
