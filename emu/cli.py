"""The command line: `emu run`, `emu dtb`, `emu asm`, `emu disasm`, `emu hv`,
`emu debug`, `emu gdbserver` and `emu lab`. The guest's console goes to stdout and nothing else
does; emu's own messages go to stderr. User errors are one clear message and a non-zero status."""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from pathlib import Path

import click

from emu.core import Priv
from emu.devices.disk import open_disks
from emu.devicetree import Board, build
from emu.elf import Program
from emu.errors import EmuError
from emu.isa import cause_name
from emu.machine import Machine, Stop, StopReason
from emu.options import (disk_options, input_callback, isa_option, load_program, read_dtb,
                         size_callback)
from emu.platform import RAM_BASE, Console

# Exit statuses of `emu run` besides the program's own (docs/board.md).
STATUS_LIMIT = 124          # --max-insns reached, as timeout(1) does
STATUS_CRASH = 125          # the guest crashed: trap loop, dead WFI, unhandled trap
STATUS_INTERRUPTED = 130    # Ctrl-C, as a shell reports SIGINT


class LazyGroup(click.Group):
    """A click group whose other subcommands live in modules imported only when
    the subcommand is run or listed, as click's documentation suggests ("Lazily
    Loading Subcommands"): `emu run prog.elf` never loads the assembler, the
    hypervisor or the debugger. `lazy` maps a name to "module:attribute"."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy:
            return super().get_command(ctx, name)
        module, attribute = self.lazy[name].split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, lazy={
    "asm": "emu.asm.command:asm",
    "disasm": "emu.disasm:disasm_command",
    "hv": "emu.hv.command:hv",
    "debug": "emu.debug.command:debug_command",
    "gdbserver": "emu.debug.command:gdbserver_command",
    "lab": "emu.labs.command:lab",
})
@click.version_option(package_name="emu")
def main():
    """emu: a teaching emulator and hypervisor for a virtualizable subset of RISC-V
    (RV32IMA, Zicsr, M/S/U privilege, Sv32)."""


@main.command()
@click.argument("program", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--boot", type=click.Choice(["m", "s"]), default="m", show_default=True,
              help="m: run the program bare in M-mode; s: boot it as an S-mode kernel "
                   "under the built-in SBI firmware.")
@click.option("--mem", "mem", metavar="SIZE", callback=size_callback,
              help="RAM size at 0x80000000: 16M, 128MiB, 0x1000000 or bytes  [default: 128M]")
@isa_option
@click.option("--max-insns", type=click.IntRange(min=1), metavar="N",
              help=f"Stop after N instructions (status {STATUS_LIMIT}).")
@click.option("--input", "data", metavar="TEXT|@FILE", callback=input_callback,
              help="What the UART receives (default: stdin when piped or redirected).")
@disk_options(named=False)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a summary for graders: stop reason, status, counts, registers.")
@click.option("--trace", is_flag=True, help="Print each instruction to stderr as it runs.")
@click.option("--dtb", "dtb_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Pass this device tree blob in a1 instead of the one emu builds.")
@click.option("--append", "bootargs", metavar="ARGS", default="",
              help="The kernel command line: /chosen/bootargs of the device tree.")
def run(program, boot, mem, isa, max_insns, data, disks, snapshot, virtio, json_path, trace,
        dtb_path, bootargs):
    """Run PROGRAM, an RV32 ELF executable or an assembly source (.s, .S) that is
    assembled first; exit with its status."""
    if json_path and not _writable(json_path):
        raise click.BadParameter(f"cannot write {json_path}", param_hint="'--json'")
    if dtb_path and bootargs:
        raise click.UsageError("--append sets bootargs in the tree emu builds: with --dtb, "
                               "put them in your tree's /chosen node")
    with contextlib.ExitStack() as opened:
        try:
            dtb = read_dtb(dtb_path) if dtb_path else None
            images = [opened.enter_context(disk) for disk in open_disks(disks, snapshot)]
            machine = Machine(mem, Console.from_stdio(data), isa, images, virtio, bootargs, dtb)
            machine.load(load_program(program), boot)
        except EmuError as error:
            raise click.ClickException(str(error)) from None
        try:
            stop = machine.run(max_insns, trace=Tracer(machine.program) if trace else None)
        except KeyboardInterrupt:
            stop = Stop(StopReason.CRASH, STATUS_INTERRUPTED, "interrupted")
            status = STATUS_INTERRUPTED
            _say(machine, "interrupted")
        else:
            status = _report(machine, stop)
        if json_path:
            _write_json(json_path, machine, program, boot, stop, status)
    sys.exit(status)


@main.command("dtb")
@click.option("--mem", "mem", metavar="SIZE", callback=size_callback,
              help="RAM size at 0x80000000, as for `emu run`  [default: 128M; 16M with --guest]")
@isa_option
@click.option("--append", "bootargs", metavar="ARGS", default="",
              help="The kernel command line: /chosen/bootargs.")
@click.option("--guest", is_flag=True,
              help="The tree a guest of `emu hv` gets: its RAM and its devices only.")
@click.option("-o", "output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the blob to FILE (- for standard output).")
@click.pass_context
def dtb_command(ctx, mem, isa, bootargs, guest, output):
    """Write the flattened device tree that `emu run` (or, with --guest, `emu hv`)
    passes in a1; `dtc -I dtb -O dts FILE` shows it as source."""
    given = ctx.get_parameter_source
    if guest:
        if given("isa") is not click.core.ParameterSource.DEFAULT:
            raise click.UsageError("--isa: a guest's hart is the host's (rv32ima)")
        from emu.hv.hypervisor import DEFAULT_GUEST_RAM, guest_board
        default = given("mem") is click.core.ParameterSource.DEFAULT
        board = guest_board(DEFAULT_GUEST_RAM if default else mem, bootargs)
    else:
        board = Board(RAM_BASE, mem, isa, bootargs)
    blob = build(board)
    if output == "-":
        sys.stdout.buffer.write(blob)
        sys.stdout.buffer.flush()
        return
    try:
        Path(output).write_bytes(blob)
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None


def _writable(path: Path) -> bool:
    if path.exists():
        return path.is_file() and os.access(path, os.W_OK)
    return path.parent.is_dir() and os.access(path.parent, os.W_OK)


def _report(machine: Machine, stop: Stop) -> int:
    if stop.reason is StopReason.EXIT:
        return stop.status if 0 <= stop.status <= 255 else 255
    if stop.reason is StopReason.LIMIT:
        _say(machine, stop.message)
        return STATUS_LIMIT
    _say(machine, stop.message)
    return STATUS_CRASH


def _say(machine: Machine, message: str) -> None:
    core = machine.core
    click.echo(f"emu: {message} (pc {core.pc:#010x}, {core.steps} instructions)", err=True)


class Tracer:
    """--trace: each instruction before it runs, as `M 80000010: 00a00513  li a0,10`
    (privilege, pc, bits, objdump's text), and each interrupt as it is taken."""

    def __init__(self, program: Program):
        from emu.disasm import disassemble     # only when tracing: see LazyGroup
        self.disassemble = disassemble
        self.labels = program.labels

    def __call__(self, machine: Machine) -> None:
        core = machine.core
        cause = core.take_interrupt()
        if cause:
            click.echo(f"-- {cause_name(cause)}, to {core.priv.name}-mode", err=True)
        insn = machine.fetch(core.pc)
        text = "(fetch fault)" if insn is None else \
            f"{insn:08x}  {self.disassemble(insn, core.pc, self.labels)}"
        click.echo(f"{core.priv.name} {core.pc:08x}: {text}", err=True)


def _write_json(path: Path, machine: Machine, program: Path, boot: str, stop: Stop,
                status: int) -> None:
    core = machine.core
    summary = {
        "program": str(program),
        "boot": boot,
        "isa": machine.isa,
        "stop": "interrupted" if status == STATUS_INTERRUPTED else stop.reason.value,
        "status": status,
        "message": stop.message,
        "instructions": core.steps,
        "retired": core.retired,
        "pc": core.pc,
        "privilege": Priv(core.priv).name,
        "registers": {f"x{i}": value for i, value in enumerate(core.registers())},
    }
    try:
        path.write_text(json.dumps(summary, indent=2) + "\n")
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None

