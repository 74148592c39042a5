"""`emu asm FILE.S -o FILE.elf`: assemble and link one file into an ELF executable,
and load_source(), which does the same in memory for `emu run FILE.S`.

The options follow GNU as and ld where they overlap: -o, -l (a listing as
`as -al` prints it), --defsym, and ld's -Ttext=ADDR for the base address."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from emu.asm import DEFAULT_BASE, AssemblyError, assemble, elfwrite
from emu.elf import Program, Segment, label_map
from emu.errors import EmuError


def _address(ctx, param, value):
    if value is None:
        return None
    try:
        address = int(value.lstrip("="), 0)
    except ValueError:
        raise click.BadParameter(f"expected an address such as 0x80000000, not {value!r}") from None
    if not 0 <= address < (1 << 32) or address % 4:
        raise click.BadParameter(f"{value} is not a 4-byte-aligned 32-bit address")
    return address


def _defsym(ctx, param, values):
    symbols = {}
    for value in values:
        name, eq, number = value.partition("=")
        try:
            symbols[name] = int(number, 0) if eq else 1
        except ValueError:
            raise click.BadParameter(f"expected NAME=NUMBER, not {value!r}") from None
    return symbols


@click.command("asm")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The ELF file to write  [default: SOURCE with .elf]")
@click.option("--base", callback=_address, metavar="ADDR",
              help=f"Address of .text, where the layout starts  [default: {DEFAULT_BASE:#x}]")
@click.option("-Ttext", "ttext", callback=_address, metavar="ADDR",
              help="The same as --base, spelled as GNU ld spells it.")
@click.option("--defsym", multiple=True, callback=_defsym, metavar="NAME=VALUE",
              help="Define a symbol before reading the source, as `as --defsym`.")
@click.option("-I", "include_dirs", multiple=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Also look for .include files in DIR (after the including file's own "
                   "directory), as `as -I`.")
@click.option("-l", "--listing", is_flag=True,
              help="Print a listing: address, bytes and source line, as `as -al`.")
@click.pass_context
def asm(ctx, source, output, base, ttext, defsym, include_dirs, listing):
    """Assemble SOURCE (GNU as syntax, emu's subset: RV32IMA, Zicsr, Zifencei) into
    an ELF executable laid out as programs/link.ld does."""
    start = ttext if ttext is not None else base if base is not None else DEFAULT_BASE
    try:
        result = assemble(source, start, defsym, include_dirs)
    except AssemblyError as error:
        click.echo(error.text, err=True)
        ctx.exit(1)
    except EmuError as error:
        click.echo(f"error: {error}", err=True)
        ctx.exit(1)
    image = elfwrite.write_elf(result.sections, result.symbols, result.entry)
    output = output or source.with_suffix(".elf")
    try:
        output.write_bytes(image)
    except OSError as error:
        click.echo(f"error: cannot write {output}: {error.strerror}", err=True)
        ctx.exit(1)
    if listing:
        sys.stdout.write(result.listing)


def load_source(path: str | Path, base: int = DEFAULT_BASE,
                include_dirs: tuple[Path, ...] = ()) -> Program:
    """Assemble a source file in memory into what `emu run` loads from an ELF:
    one segment per non-empty section, the entry, the symbols."""
    result = assemble(path, base, include_dirs=include_dirs)
    segments = [Segment(s.addr, s.data, s.size) for s in result.sections if s.size]
    return Program(str(path), result.entry, segments,
                   {s.name: s.value for s in result.symbols},
                   label_map((s.name, s.value, s.is_global)
                             for s in result.symbols if s.section is not None))
