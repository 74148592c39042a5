"""Shared fixtures: building guest programs with GNU binutils and running them on
a Machine whose console is captured."""
from __future__ import annotations

import io
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from emu.elf import load_elf
from emu.machine import Machine, Stop
from emu.platform import Console
from tests.gnu import build, have_binutils

REPO = Path(__file__).resolve().parent.parent

# Under `make asan` the sanitizer runtime is preloaded into this Python. Processes
# the tests start get it back only when they load emu's core (emu_env()): the GNU
# tools do not need it, and gdb hangs with it.
SANITIZER_PRELOAD = os.environ.pop("LD_PRELOAD", None)


@pytest.fixture
def sandbox_env(monkeypatch):
    """The lab grader's children (emu/labs/sandbox.py) load emu's core: under
    `make asan` they need the sanitizer runtime preloaded, as emu_env() gives it."""
    if SANITIZER_PRELOAD:
        monkeypatch.setenv("LD_PRELOAD", SANITIZER_PRELOAD)


def emu_env() -> dict[str, str]:
    """The environment for a process that runs emu."""
    env = dict(os.environ)
    if SANITIZER_PRELOAD:
        env["LD_PRELOAD"] = SANITIZER_PRELOAD
    return env


@pytest.fixture(scope="session")
def binutils():
    """The GNU RISC-V binutils are test oracles: missing, they fail the run loudly
    rather than skip (CI installs them)."""
    if not have_binutils():
        pytest.fail("the GNU RISC-V binutils are missing: `make install` installs them "
                    "(Debian package binutils-riscv64-unknown-elf)")


@pytest.fixture
def asm(tmp_path, binutils):
    """Assemble and link GNU as source text into an ELF; returns its path."""
    def assemble(source: str, name: str = "prog") -> Path:
        path = tmp_path / f"{name}.S"
        path.write_text(textwrap.dedent(source))
        return build(path, tmp_path / f"{name}.elf")
    return assemble


@dataclass
class Ran:
    stop: Stop
    output: bytes
    machine: Machine


def run_elf(path: Path, boot: str = "m", data: bytes = b"", max_insns: int = 10_000_000,
            mem: int = 16 << 20) -> Ran:
    out = io.BytesIO()
    machine = Machine(mem, Console(out, data))
    machine.load(load_elf(path), boot)
    stop = machine.run(max_insns)
    return Ran(stop, out.getvalue(), machine)
