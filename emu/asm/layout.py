"""Where the sections go: the linking step of `as` + `ld`, for one file.

The layout is programs/link.ld, the script every guest program of this project
is linked with, written as a table. Compared with GNU ld's default script
(`ld -m elf32lriscv -Ttext=BASE`, measured with binutils 2.40):

- both put .text at the base, then .rodata, .data, .bss, in that order;
- link.ld puts .text.init first (so _start is the first instruction in RAM);
  the default script takes .text and .text.* in the order the object lists them;
- link.ld aligns .rodata to 16 and starts .data on the next 4 KiB page; the
  default script packs .rodata right after .text and puts .data at the same
  offset in the next page (ALIGN(MAXPAGESIZE) + (. & (MAXPAGESIZE - 1)));
- link.ld has a .tohost section (64-byte aligned, for Spike's HTIF) between
  .data and .bss, and aligns .bss to 16.

For a program with only code the two agree; the tests compare every layout
against link.ld. A section name outside the table is an error: ld would place
such an orphan by its flags, which is hard to predict and never needed here.

An output section is left out when nothing was put in it (ld discards empty
output sections), except .bss, which link.ld keeps for its __bss_start/__bss_end
symbols; those and _end are defined as link.ld defines them."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class OutputSection:
    name: str
    inputs: tuple[tuple[str, ...], ...]  # input-section patterns, one group per ld line
    align: int                          # the script's ALIGN(n), 1 for none
    flags: str                          # ELF flags: a(lloc), w(rite), (e)x(ecute)
    nobits: bool = False


LAYOUT: tuple[OutputSection, ...] = (
    OutputSection(".text", ((".text.init",), (".text", ".text.*")), 1, "ax"),
    OutputSection(".rodata", ((".rodata", ".rodata.*"),), 16, "a"),
    OutputSection(".data", ((".data", ".data.*"), (".sdata", ".sdata.*")), 4096, "aw"),
    OutputSection(".tohost", ((".tohost",),), 64, "aw"),
    OutputSection(".bss", ((".sbss", ".sbss.*"), (".bss", ".bss.*")), 16, "aw", nobits=True),
)

# The input sections GNU as creates before reading the source, in this order;
# the others follow in the order the source first names them.
PREDEFINED = (".text", ".data", ".bss")


def output_of(section: str) -> OutputSection | None:
    """The output section an input section goes to, or None if no line takes it."""
    for output in LAYOUT:
        for group in output.inputs:
            if any(fnmatch.fnmatchcase(section, pattern) for pattern in group):
                return output
    return None


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


@dataclass
class Placed:
    """An output section with its address and the address of each input section."""
    output: OutputSection
    addr: int
    size: int
    inputs: list[str]


def place(sizes: dict[str, int], alignments: dict[str, int], order: list[str],
          base: int) -> tuple[list[Placed], dict[str, int], dict[str, int]]:
    """Lay out input sections (sizes and alignments by name, `order` the order the
    object file lists them) from `base`. Returns the output sections, the address
    of every input section, and the symbols the script defines."""
    placed: list[Placed] = []
    addresses: dict[str, int] = {}
    symbols: dict[str, int] = {}
    dot = base
    for output in LAYOUT:
        members = []
        for group in output.inputs:
            members += [name for name in order if name not in members and
                        any(fnmatch.fnmatchcase(name, p) for p in group)]
        # ld keeps an input section even when it is empty, but drops an output
        # section that ends up with no bytes and no symbol assignments.
        alignment = max([output.align] + [alignments[name] for name in members])
        if not any(sizes[name] for name in members) and not output.nobits:
            # Discarded, but its (empty) input sections, and labels in them, still
            # get the address the section would have had; `.` does not move.
            for name in members:
                addresses[name] = _align(dot, alignment)
            continue
        start = dot = _align(dot, alignment)
        if output.nobits:
            symbols["__bss_start"] = dot
        for name in members:
            dot = _align(dot, alignments[name])
            addresses[name] = dot
            dot += sizes[name]
        if output.nobits:
            symbols["__bss_end"] = dot
        placed.append(Placed(output, start, dot - start, members))
    symbols["_end"] = dot
    return placed, addresses, symbols
