"""`emu hv GUEST...`: run several S-mode guest kernels side by side under the
hypervisor. Each guest's console goes to stdout line by line as `[NAME] line`;
emu's own messages, the per-guest summary and --stats go to stderr."""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path

import click

from emu.devices.disk import open_disks
from emu.errors import ConfigError, EmuError, describe_error
from emu.hv.hypervisor import (DEFAULT_QUANTUM, EndReason, GuestConfig, Hypervisor)
from emu.hv.stats import perf_kvm_report
from emu.options import disk_options, input_bytes, load_program, read_dtb, unique_names
from emu.platform import parse_size

DEFAULT_MEM = "16M"
STATUS_LIMIT = 124          # as `emu run`: --max-insns reached
STATUS_CRASH = 125          # a guest was stopped by the hypervisor
STATUS_INTERRUPTED = 130


def guest_names(paths: list[Path]) -> list[str]:
    """Each file's stem, made unique with -2, -3... in order."""
    return unique_names([path.stem for path in paths])


def _assignments(values: tuple[str, ...], option: str, names: list[str]) -> dict[str, str]:
    result = {}
    for value in values:
        name, eq, text = value.partition("=")
        if not eq:
            raise click.BadParameter(f"expected NAME=VALUE, not {value!r}", param_hint=option)
        _check_guest(name, names, option)
        result[name] = text
    return result


def _check_guest(name: str, names: list[str], option: str) -> None:
    if name not in names:
        raise click.BadParameter(f"no guest is named {name!r} (guests: {', '.join(names)})",
                                 param_hint=option)


def load_hypervisor_class(spec: str) -> type[Hypervisor]:
    """--hypervisor module:Class, where module is importable or a path to a .py file."""
    module_name, colon, class_name = spec.rpartition(":")
    if not colon or not module_name or not class_name:
        raise ConfigError(f"--hypervisor wants MODULE:CLASS (or FILE.py:CLASS), not {spec!r}")
    try:
        if module_name.endswith(".py"):
            location = importlib.util.spec_from_file_location(Path(module_name).stem, module_name)
            if location is None or not Path(module_name).is_file():
                raise ConfigError(f"--hypervisor: no file {module_name}")
            # As `python FILE.py` would: the file's folder first on the path, so
            # that it can import its neighbours (a lab's my_hv.py, my_scheduler.py).
            folder = str(Path(module_name).resolve().parent)
            if folder not in sys.path:
                sys.path.insert(0, folder)
            module = importlib.util.module_from_spec(location)
            location.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ConfigError:
        raise
    except Exception as error:      # the student's module: any error is theirs to see
        raise ConfigError(f"--hypervisor: cannot import {module_name}: "
                          f"{describe_error(error)}") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Hypervisor)):
        raise ConfigError(f"--hypervisor: {module_name} has no class {class_name} "
                          "that subclasses emu.hv.Hypervisor")
    return cls


def _writable(path: Path) -> bool:
    if path.exists():
        return path.is_file() and os.access(path, os.W_OK)
    return path.parent.is_dir() and os.access(path.parent, os.W_OK)


@click.command("hv")
@click.argument("guests", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mem", default=DEFAULT_MEM, show_default=True, metavar="SIZE",
              help="Each guest's RAM at guest-physical 0x80000000: 16M, 4MiB, 0x400000...")
@click.option("--quantum", type=click.IntRange(min=1), default=DEFAULT_QUANTUM,
              show_default=True, metavar="N",
              help="Instructions a guest runs per turn (times its share).")
@click.option("--share", multiple=True, metavar="NAME=WEIGHT",
              help="A guest's CPU share: WEIGHT quanta per turn (default 1). Repeatable.")
@click.option("--max-insns", type=click.IntRange(min=1), metavar="N",
              help=f"Stop after N instructions in all guests (status {STATUS_LIMIT}).")
@click.option("--console-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write each guest's raw console to DIR/NAME.log.")
@click.option("--input", "inputs", multiple=True, metavar="NAME=TEXT",
              help="What guest NAME's console receives (@FILE for a file). Repeatable.")
@click.option("--append", "appends", multiple=True, metavar="NAME=ARGS",
              help="Guest NAME's kernel command line (bootargs in its device tree). Repeatable.")
@click.option("--dtb", "dtbs", multiple=True, metavar="NAME=FILE",
              help="Pass guest NAME this device tree blob instead of the one emu builds. "
                   "Repeatable.")
@click.option("--stats", is_flag=True,
              help="Print exit statistics per guest to stderr, as `perf kvm stat` does.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the per-guest summary and statistics as JSON.")
@click.option("--trace-exits", is_flag=True,
              help="Print each exit to stderr: guest, pc, instruction, cause, what was done.")
@click.option("--hypervisor", "hypervisor_spec", metavar="MODULE:CLASS",
              help="Run your own subclass of emu.hv.Hypervisor (docs/hypervisor.md).")
@click.option("--debug", is_flag=True,
              help="Debug the guests interactively (docs/debugging.md): they wait before "
                   "their first instruction.")
@click.option("-x", "script", type=click.Path(dir_okay=False, path_type=Path),
              help="With --debug: run the debugger commands in FILE first.")
@click.option("--batch", is_flag=True,
              help="With --debug: exit after the -x commands (plain output).")
@click.option("--gdb", "gdb_port", type=click.IntRange(0, 65535), metavar="PORT",
              help="Serve the guests to gdb on 127.0.0.1:PORT, each guest a thread "
                   "(0: any free port, printed on stderr).")
@disk_options(named=True)
def hv(guests, mem, quantum, share, max_insns, console_dir, inputs, appends, dtbs, stats,
       json_path, trace_exits, hypervisor_spec, debug, script, batch, gdb_port, disks, snapshot,
       virtio):
    """Run each GUEST (an S-mode kernel: an ELF, or assembly source assembled first)
    as a virtual machine of its own, side by side, as it would run under
    `emu run --boot s`. Exits 0 when every guest shut down cleanly through the SBI."""
    if debug and gdb_port is not None:
        raise click.UsageError("--debug and --gdb are two ways to debug: pick one")
    if (script or batch) and not debug:
        raise click.UsageError("-x and --batch go with --debug")
    if json_path and not _writable(json_path):
        raise click.BadParameter(f"cannot write {json_path}", param_hint="'--json'")
    try:
        size = parse_size(mem)
    except EmuError as error:
        raise click.BadParameter(str(error), param_hint="'--mem'") from None
    names = guest_names(list(guests))
    weights = _assignments(share, "'--share'", names)
    texts = _assignments(inputs, "'--input'", names)
    bootargs = _assignments(appends, "'--append'", names)
    trees = _assignments(dtbs, "'--dtb'", names)
    both = sorted(set(bootargs) & set(trees))
    if both:
        raise click.UsageError(f"guest {both[0]}: --append sets bootargs in the tree emu builds: "
                               "with --dtb, put them in your tree's /chosen node")
    _check_disks(disks, names, debug or gdb_port is not None)
    with contextlib.ExitStack() as opened:
        try:
            images = [opened.enter_context(disk) for disk in open_disks(disks, snapshot)]
        except EmuError as error:
            raise click.ClickException(str(error)) from None
        configs = _configs(names, guests, size, weights, texts, bootargs, trees, images, virtio)
        _run(configs, quantum, max_insns, console_dir, stats, json_path, trace_exits,
             hypervisor_spec, debug, script, batch, gdb_port)


def _check_disks(disks: list, names: list[str], debugging: bool) -> None:
    for disk in disks:
        _check_guest(disk.guest, names, "'--disk'")
        if debugging and not disk.read_only:
            raise click.UsageError(
                f"--disk {disk}: the debugger goes back in time by running the guests again "
                "from the start, which the writes to a disk would not survive: give it ,ro")


def _configs(names, guests, size, weights, texts, bootargs, trees, images, virtio):
    try:
        return [GuestConfig(name, load_program(path), size, _weight(weights.get(name, "1")),
                            input_bytes(texts.get(name, "")), bootargs.get(name, ""),
                            read_dtb(Path(trees[name])) if name in trees else None,
                            tuple(image for image in images if image.spec.guest == name), virtio)
                for name, path in zip(names, guests)]
    except EmuError as error:
        raise click.ClickException(str(error)) from None


def _run(configs, quantum, max_insns, console_dir, stats, json_path, trace_exits,
         hypervisor_spec, debug, script, batch, gdb_port):
    """Make the hypervisor, run it (or debug it) and report; exits."""
    try:
        if console_dir is not None:
            console_dir.mkdir(parents=True, exist_ok=True)
        cls = load_hypervisor_class(hypervisor_spec) if hypervisor_spec else Hypervisor
        trace = (lambda line: click.echo(line, err=True)) if trace_exits else None
        debugging = debug or gdb_port is not None
        from emu.debug.command import TextSink
        out = TextSink(sys.stdout) if debug else sys.stdout.buffer
        with _blame(hypervisor_spec):
            machine = cls(configs, quantum=quantum, max_insns=max_insns,
                          out=out, console_dir=console_dir, trace=trace)
    except (EmuError, OSError) as error:
        raise click.ClickException(str(error)) from None
    if debugging:
        with _blame(hypervisor_spec):
            machine = _debug(machine, script, batch, gdb_port)
        _report(machine, stats, json_path, exit_status(machine))
        return
    interrupted = False
    try:
        with _blame(hypervisor_spec):
            machine.run()
    except KeyboardInterrupt:
        interrupted = True
    status = STATUS_INTERRUPTED if interrupted else exit_status(machine)
    for guest in machine.guests:
        click.echo(summary_line(guest), err=True)
    _report(machine, stats, json_path, status)
    sys.exit(status)


@contextlib.contextmanager
def _blame(spec: str | None):
    """An exception out of a --hypervisor class (one its exit handlers did not
    catch: in its scheduler, its pager, its enter_trap...) is its author's
    mistake: one message naming where, and the crash status, not a traceback.
    Without --hypervisor it is emu's own bug, and the traceback is for us."""
    try:
        yield
    except (EmuError, OSError):
        raise
    except Exception as error:
        if spec is None:
            raise
        click.echo(f"emu hv: the hypervisor {spec} failed: {describe_error(error)}", err=True)
        sys.exit(STATUS_CRASH)


def _debug(machine: Hypervisor, script: Path | None, batch: bool,
           port: int | None) -> Hypervisor:
    """--debug (the REPL) or --gdb (the stub) over the hypervisor; returns the
    hypervisor as the session left it (going back in time replaces it)."""
    from emu.debug.command import interact, read_script, serve_gdb
    from emu.debug.hvtarget import HvTarget
    from emu.debug.session import Session
    lines = read_script(script)
    target = HvTarget(machine)
    session = Session(target)
    try:
        if port is None:
            interact(session, lines, batch)
        else:
            serve_gdb(session, port)
    finally:
        target.close()
    return target.hv


def _report(machine: Hypervisor, stats: bool, json_path: Path | None, status: int) -> None:
    """--stats and --json, at the end of the run (or of the debugging session: the
    numbers are then those of the run as far as it went)."""
    if stats:
        for guest in machine.guests:
            click.echo("\n" + perf_kvm_report(guest.name, guest.stats, guest.hart.steps), err=True)
    if json_path:
        _write_json(json_path, machine, status)


def _weight(text: str) -> int:
    try:
        weight = int(text, 0)
    except ValueError:
        weight = 0
    if weight < 1:
        raise ConfigError(f"--share: a weight is a whole number of quanta, at least 1, "
                          f"not {text!r}")
    return weight


def exit_status(machine: Hypervisor) -> int:
    """0 when every guest shut down cleanly; a crash before the limit before a
    guest's own failure status."""
    ends = [guest.end for guest in machine.guests]
    if any(end is None or end.reason is EndReason.CRASH for end in ends):
        return STATUS_CRASH
    if any(end.reason is EndReason.LIMIT for end in ends):
        return STATUS_LIMIT
    failed = [end.status for end in ends if end.status]
    return min(max(failed[0], 1), 255) if failed else 0


def summary_line(guest) -> str:
    end, steps = guest.end, guest.hart.steps
    share = 100 * guest.stats.native(steps) / steps if steps else 100.0
    if end is None:
        what = "did not finish"
    elif end.reason is EndReason.SHUTDOWN:
        what = f"shut down, status {end.status} ({end.message})"
    else:
        what = f"{end.reason.value}: {end.message}"
    return (f"emu hv: [{guest.name}] {what}; {steps:,} instructions, {share:.2f}% native, "
            f"{guest.stats.exit_count:,} exits")


def _write_json(path: Path, machine: Hypervisor, status: int) -> None:
    summary = {
        "status": status,
        "instructions": machine.core.steps,
        "idle": machine.idle,
        "guests": [{
            "name": guest.name,
            "stop": guest.end.reason.value if guest.end else None,
            "status": guest.end.status if guest.end else None,
            "message": guest.end.message if guest.end else "",
            "pc": guest.pc,
            "registers": {f"x{i}": value for i, value in enumerate(guest.x)},
            **guest.stats.as_dict(guest.hart.steps),
        } for guest in machine.guests],
    }
    try:
        path.write_text(json.dumps(summary, indent=2) + "\n")
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
