"""The board around the hart (docs/board.md): its memory map, the console the UART
speaks to, and HTIF, Spike's host-target interface.

The fast devices are in C (csrc/devices.c), the others in emu/devices/; this
module holds what is the host's side of the C ones: where console bytes go and come from, and what a tohost
command means."""
from __future__ import annotations

import os
import re
import select
import stat
import sys
from dataclasses import dataclass
from typing import BinaryIO

from emu.core import Core, lib
from emu.devices.plic import Plic
from emu.errors import ConfigError, CoreError

RAM_BASE = lib.EMU_RAM_BASE
RAM_MAX = 0x1_0000_0000 - RAM_BASE       # RAM ends at the top of the 32-bit space
DEFAULT_RAM = 128 << 20
PAGE_SIZE = 4096

MEMORY_MAP = [
    # (base, size, name)
    (lib.EMU_TEST_BASE, 0x1000, "test finisher"),
    (lib.EMU_CLINT_BASE, lib.EMU_CLINT_SIZE, "CLINT"),
    (Plic.base, Plic.size, "PLIC"),
    (lib.EMU_UART_BASE, lib.EMU_UART_SIZE, "UART 16550"),
    (RAM_BASE, None, "RAM"),
]

_SIZE = re.compile(r"(?i)^\s*(0x[0-9a-f]+|\d+)\s*(k|ki|kib|kb|m|mi|mib|mb|g|gi|gib|gb)?\s*$")
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """A RAM size: 16M, 128MiB, 0x1000000 or plain bytes; binary units."""
    match = _SIZE.match(text)
    if not match:
        raise ConfigError(f"bad memory size {text!r}: write it as 16M, 128MiB, 0x1000000 "
                          "or a number of bytes")
    number, unit = match.groups()
    size = int(number, 0) * (_UNITS[unit[0].lower()] if unit else 1)
    if size == 0 or size % PAGE_SIZE:
        raise ConfigError(f"bad memory size {text!r}: it must be a non-zero multiple of 4 KiB")
    if size > RAM_MAX:
        raise ConfigError(f"bad memory size {text!r}: RAM starts at {RAM_BASE:#x} and "
                          f"cannot be larger than {RAM_MAX >> 20} MiB")
    return size


class Console:
    """The UART's other end: bytes out to a stream, bytes in from a buffer that is
    filled up front (deterministic) or, for a terminal, as the user types."""

    def __init__(self, out: BinaryIO, data: bytes = b"", terminal: BinaryIO | None = None):
        self.out = out
        self.pending = bytearray(data)
        self.terminal = terminal

    @classmethod
    def from_stdio(cls, data: bytes | None = None) -> Console:
        """Input given as data, else all of a piped or redirected stdin (read to its
        end before the run, so that runs repeat), else the terminal, polled."""
        out = sys.stdout.buffer
        if data is not None:
            return cls(out, data)
        stdin = sys.stdin
        if stdin is None:
            return cls(out)
        try:
            fd = stdin.fileno()
        except (OSError, ValueError):
            return cls(out, stdin.buffer.read())     # an in-memory stream
        if os.isatty(fd):
            return cls(out, terminal=stdin.buffer)
        if stat.S_ISFIFO(os.fstat(fd).st_mode) or stat.S_ISREG(os.fstat(fd).st_mode):
            return cls(out, stdin.buffer.read())
        return cls(out)

    def write(self, data: bytes) -> None:
        if data:
            self.out.write(data)
            self.out.flush()

    def read(self) -> bytes:
        """All input not yet handed to the guest, including what was just typed."""
        self.poll()
        data = bytes(self.pending)
        self.pending.clear()
        return data

    def wait(self) -> bool:
        """Block until a terminal types something (True), or say at once that
        no more input can come (False: the input was given up front)."""
        if self.terminal is None:
            return False
        select.select([self.terminal.fileno()], [], [])
        return bool(self.poll())

    def poll(self) -> bytes:
        """What a terminal has typed since the last look (never blocks)."""
        if self.terminal is None:
            return b""
        fd = self.terminal.fileno()
        if not select.select([fd], [], [], 0)[0]:
            return b""
        data = os.read(fd, 4096)
        self.pending += data
        return data


# ---- HTIF (Spike's fesvr protocol, as riscv-tests and its syscalls use it) ----

HTIF_DEVICE_SYSCALL, HTIF_DEVICE_CONSOLE = 0, 1
HTIF_CONSOLE_PUTCHAR = 1
SYS_WRITE, SYS_EXIT = 64, 93
ENOSYS = 38
STDOUT, STDERR = 1, 2
MAGIC_WORDS = 8


@dataclass
class HtifResult:
    """What a tohost value asked for: an exit status, or an answer for fromhost."""
    exit_status: int | None = None
    fromhost: int | None = None
    error: str = ""


def htif_command(core: Core, console: Console, value: int) -> HtifResult:
    device, command, payload = value >> 56, (value >> 48) & 0xFF, value & ((1 << 48) - 1)
    if device == HTIF_DEVICE_SYSCALL and command == 0 and payload & 1:
        return HtifResult(exit_status=payload >> 1)
    if device == HTIF_DEVICE_CONSOLE and command == HTIF_CONSOLE_PUTCHAR:
        console.write(bytes([payload & 0xFF]))
        return HtifResult(fromhost=(device << 56) | (command << 48) | 0x100 | (payload & 0xFF))
    if device == HTIF_DEVICE_SYSCALL and command == 0:
        return _htif_syscall(core, console, payload)
    return HtifResult(error=f"unsupported HTIF command {value:#018x} "
                            f"(device {device}, command {command})")


def _htif_syscall(core: Core, console: Console, magic: int) -> HtifResult:
    """The proxied system call of riscv-tests' syscalls.c: magic points at eight
    64-bit words, the call number and its arguments; the result replaces word 0."""
    try:
        words = [int.from_bytes(core.read(magic + 8 * i, 8), "little") for i in range(MAGIC_WORDS)]
    except CoreError:
        return HtifResult(error=f"HTIF system call block at {magic:#x} is not in RAM")
    number, args = words[0], words[1:]
    if number == SYS_EXIT:
        return HtifResult(exit_status=args[0] & 0xFFFF_FFFF)
    result = -ENOSYS
    if number == SYS_WRITE and args[0] in (STDOUT, STDERR):
        try:
            console.write(core.read(args[1], args[2]))
            result = args[2]
        except CoreError:
            result = -14        # EFAULT
    core.write(magic, (result & (2**64 - 1)).to_bytes(8, "little"))
    return HtifResult(fromhost=1)
