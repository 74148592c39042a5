"""`emu debug PROGRAM` and `emu gdbserver PROGRAM`: the debugger's commands.

Both load the program as `emu run` does and stop before its first instruction.
The guest's UART input comes from --input only: the terminal belongs to the
debugger (or to gdb)."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from emu.errors import EmuError
from emu.machine import Machine
from emu.options import input_callback, isa_option, load_program, size_callback
from emu.platform import Console


class TextSink(io.RawIOBase):
    """The guest's console bytes, into the debugger's text output, in order."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data) -> int:
        self.stream.write(bytes(data).decode("utf-8", errors="replace"))
        self.stream.flush()
        return len(data)


def _machine(program: Path, boot: str, mem: int, isa: str, data: bytes | None,
             out) -> Machine:
    machine = Machine(mem, Console(out, data or b""), isa)
    machine.load(load_program(program), boot)
    return machine


def _options(function):
    function = click.option("--input", "data", metavar="TEXT|@FILE", callback=input_callback,
                            help="What the guest's UART receives (the terminal is the "
                                 "debugger's).")(function)
    function = isa_option(function)
    function = click.option("--mem", "mem", metavar="SIZE", callback=size_callback,
                            help="RAM size at 0x80000000  [default: 128M]")(function)
    function = click.option("--boot", type=click.Choice(["m", "s"]), default="m",
                            show_default=True,
                            help="m: the program bare in M-mode; s: an S-mode kernel under "
                                 "the SBI firmware.")(function)
    return click.argument("program", type=click.Path(dir_okay=False, path_type=Path))(function)


@click.command("debug")
@_options
@click.option("-x", "script", type=click.Path(dir_okay=False, path_type=Path),
              help="Run the debugger commands in FILE first.")
@click.option("--batch", is_flag=True,
              help="Exit after the -x commands (plain output, for labs and graders).")
@click.option("--no-reverse", is_flag=True,
              help="Take no checkpoints (reverse-step and reverse-continue are off).")
def debug_command(program, boot, mem, isa, data, script, batch, no_reverse):
    """Debug PROGRAM (an RV32 ELF or an assembly source) instruction by instruction:
    breakpoints, watchpoints, catching traps, page tables, reverse stepping."""
    from emu.debug.session import Session
    lines = read_script(script)
    try:
        machine = _machine(program, boot, mem, isa, data, TextSink(sys.stdout))
        session = Session(machine, reverse=not no_reverse)
    except EmuError as error:
        raise click.ClickException(str(error)) from None
    interact(session, lines, batch)


def read_script(script: Path | None) -> list[str] | None:
    """The commands of -x FILE."""
    if script is None:
        return None
    try:
        return script.read_text().splitlines()
    except OSError as error:
        raise click.ClickException(f"cannot read {script}: {error.strerror}") from None


def interact(session, lines: list[str] | None, batch: bool) -> None:
    """The REPL over a session: the banner, the -x commands, then the terminal
    (or stdin) unless --batch. `emu debug` and `emu hv --debug` share it."""
    from emu.debug.repl import Repl, history_path
    stdout = sys.stdout
    interactive = not batch and sys.stdin.isatty() and stdout.isatty()
    repl = Repl(session, stdout=stdout, color=interactive,
                history_file=history_path() if interactive else None)
    repl.banner()
    if lines is not None and repl.run_script(lines):
        return
    if batch:
        return
    if not sys.stdin.isatty():
        repl.use_rawinput = False
        repl.stdin = sys.stdin
    while True:
        try:
            repl.cmdloop()
            return
        except KeyboardInterrupt:      # Ctrl-C at the prompt: a fresh line, go on
            stdout.write("^C\n")


@click.command("gdbserver")
@_options
@click.option("--port", type=click.IntRange(0, 65535), default=1234, show_default=True,
              help="TCP port on 127.0.0.1 (0: any free port, printed on stderr).")
def gdbserver_command(program, boot, mem, isa, data, port):
    """Serve PROGRAM to gdb (the GDB remote serial protocol): it waits halted at its
    entry for `target remote :PORT`, and ends when gdb detaches or kills it."""
    from emu.debug.session import Session
    try:
        machine = _machine(program, boot, mem, isa, data, sys.stdout.buffer)
        session = Session(machine)
    except EmuError as error:
        raise click.ClickException(str(error)) from None
    serve_gdb(session, port)


def serve_gdb(session, port: int) -> None:
    """Serve the session to one gdb on 127.0.0.1:PORT (`emu gdbserver`, `emu hv --gdb`)."""
    from emu.debug.gdbstub import GdbServer
    try:
        server = GdbServer(session, port)
    except EmuError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"emu: waiting for gdb on 127.0.0.1:{server.port} "
               f"(target remote :{server.port})", err=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        click.echo("emu: interrupted", err=True)
    finally:
        server.close()
