"""What the commands share: how a PROGRAM argument is loaded, the --mem and
--input values of `emu run`, `emu debug`, `emu gdbserver` and `emu hv`, the
--isa option of the first three, and the disk options and --dtb file of `emu run`
and `emu hv`."""
from __future__ import annotations

from pathlib import Path

import click

from emu.devicetree import check_blob
from emu.elf import Program, load_elf
from emu.errors import ConfigError, EmuError
from emu.isa import DEFAULT_ISA, ISAS
from emu.platform import DEFAULT_RAM, parse_size


def load_program(path: Path) -> Program:
    """An ELF file by its magic number, else a source file by its suffix."""
    try:
        with path.open("rb") as stream:
            is_elf = stream.read(4) == b"\x7fELF"
    except OSError:
        is_elf = True       # load_elf words the error
    if not is_elf and path.suffix in (".s", ".S"):
        from emu.asm.command import load_source     # the assembler, only when needed
        return load_source(path)
    program = load_elf(path)
    for note in program.notes:
        click.echo(f"emu: note: {note}", err=True)
    return program


def unique_names(names: list[str]) -> list[str]:
    """The names in order, a repeated one made unique with -2, -3...: how `emu hv`
    names guests after their files, and `emu lab grade` submissions after their
    directories."""
    unique: list[str] = []
    for name in names:
        candidate, count = name, 1
        while candidate in unique:
            count += 1
            candidate = f"{name}-{count}"
        unique.append(candidate)
    return unique


def input_bytes(value: str) -> bytes:
    """An --input value: TEXT, or @FILE for a file's bytes."""
    if not value.startswith("@"):
        return value.encode()
    try:
        return Path(value[1:]).read_bytes()
    except OSError as error:
        raise ConfigError(f"--input: cannot read {value[1:]}: {error.strerror}") from None


def read_dtb(path: Path) -> bytes:
    """A --dtb FILE: a whole device tree blob, checked."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"--dtb: cannot read {path}: {error.strerror}") from None
    return check_blob(data, f"--dtb {path}")


def isa_option(function):
    """--isa NAME, one of emu.isa.ISAS, each explained in --help."""
    return click.option(
        "--isa", type=click.Choice(list(ISAS), case_sensitive=False), default=DEFAULT_ISA,
        show_default=True,
        help="The hart's ISA. " + "; ".join(f"{isa.name}: {isa.about}"
                                            for isa in ISAS.values()) + ".")(function)


def size_callback(ctx, param, value):
    """click callback for --mem SIZE."""
    if value is None:
        return DEFAULT_RAM
    try:
        return parse_size(value)
    except EmuError as error:
        raise click.BadParameter(str(error)) from None


def input_callback(ctx, param, value):
    """click callback for --input TEXT|@FILE."""
    if value is None:
        return None
    try:
        return input_bytes(value)
    except EmuError as error:
        raise click.BadParameter(str(error).removeprefix("--input: ")) from None


def disk_options(named: bool):
    """--disk (repeatable), --snapshot and --virtio; with named (emu hv), each disk
    is NAME=FILE for guest NAME. The command gets `disks` (DiskSpecs), `snapshot`
    and `virtio` (1 legacy, 2 modern)."""
    from emu.devices.disk import parse_disk
    from emu.devices.virtio import LEGACY, MODERN

    def parse(ctx, param, values):
        try:
            return [parse_disk(value, named) for value in values]
        except EmuError as error:
            raise click.BadParameter(str(error).removeprefix("--disk ")) from None

    form = "NAME=FILE[,ro][,snapshot]" if named else "FILE[,ro][,snapshot]"
    whose = "guest NAME's next" if named else "the next"
    options = [
        click.option("--disk", "disks", multiple=True, metavar=form, callback=parse,
                     help=f"A disk image in {whose} virtio slot: read-write, ro (read-only) "
                          "or snapshot (writes kept apart, the file untouched). Repeatable."),
        click.option("--snapshot", is_flag=True,
                     help="Every disk as snapshot: the guests' writes never reach the files."),
        click.option("--virtio", type=click.Choice(["legacy", "modern"]), default="legacy",
                     show_default=True,
                     callback=lambda ctx, param, value: {"legacy": LEGACY, "modern": MODERN}[value],
                     help="The virtio-mmio transport: legacy (version 1, QEMU's default) or "
                          "modern (version 2)."),
    ]

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function
    return decorate
