"""Build guest programs with the GNU RISC-V binutils, the test suite's reference tools.

The guest programs in programs/ and tests/priv/ are written for GNU as (no C
preprocessor: conditionals are `.ifdef SYMBOL` with symbols set by `--defsym`,
shared code comes in with `.include`). This module assembles and links one source
file exactly as programs/Makefile does, so a pytest fixture and `make -C programs`
produce the same ELF.

    from tests.gnu import build
    elf = build(Path("tests/priv/traps.S"), tmp_path / "traps.elf")

Flags, and why:
- `-march=rv32ima_zicsr_zifencei -mabi=ilp32`: the emulator's subset (DESIGN.md);
  no C extension, so every instruction is 4 bytes and the tests can count them.
- `-I <source dir>` always, then `include_dirs`: `.include "check.S"` resolves next
  to the including file, whatever the caller's working directory.
- `as -mno-relax`, `ld --no-relax`: the code runs as written. Relaxation could
  turn `la` into a gp-relative access (and gp holds the test case number) or
  change instruction counts that the counter tests depend on; and emu's own
  assembler, which `make programs` uses, lays code out as `as -mno-relax` does.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Mapping

PREFIX = "riscv64-unknown-elf-"
AS = PREFIX + "as"
LD = PREFIX + "ld"
OBJDUMP = PREFIX + "objdump"

MARCH = "rv32ima_zicsr_zifencei"
MABI = "ilp32"
LD_EMULATION = "elf32lriscv"

REPO = Path(__file__).resolve().parent.parent
LINKER_SCRIPT = REPO / "programs" / "link.ld"


class BuildError(RuntimeError):
    """A guest program failed to assemble or link; the message holds the tool's stderr."""


def have_binutils() -> bool:
    """True when the assembler and linker are on PATH (the binutils fixture fails otherwise)."""
    return all(shutil.which(tool) for tool in (AS, LD))


def _run(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError as err:
        raise BuildError(
            f"{argv[0]} not found: install the GNU RISC-V binutils "
            f"(Debian: apt-get install binutils-riscv64-unknown-elf)"
        ) from err
    if done.returncode != 0:
        output = (done.stderr + done.stdout).strip()
        raise BuildError(f"{what} failed ({' '.join(argv)}):\n{output}")


def build(
    source: Path,
    out: Path,
    include_dirs: Iterable[Path] = (),
    defsyms: Mapping[str, int] | None = None,
) -> Path:
    """Assemble and link one .S file into an ELF at `out`; return `out`.

    `defsyms` become `--defsym NAME=VALUE` assembler options (for example
    {"QEMU": 1}, which the tests in tests/priv/ use to leave out emu-only checks).
    Raises BuildError with the tool's stderr when assembling or linking fails.
    """
    source = Path(source)
    out = Path(out)
    if not source.is_file():
        raise BuildError(f"no such source file: {source}")
    out.parent.mkdir(parents=True, exist_ok=True)
    obj = out.with_suffix(".o")

    as_argv = [AS, f"-march={MARCH}", f"-mabi={MABI}", "-mno-relax", "-g", "-I",
               str(source.parent)]
    for directory in include_dirs:
        as_argv += ["-I", str(directory)]
    for name, value in (defsyms or {}).items():
        as_argv += ["--defsym", f"{name}={value}"]
    as_argv += ["-o", str(obj), str(source)]
    _run(as_argv, f"assembling {source}")

    ld_argv = [LD, "-m", LD_EMULATION, "--no-relax", "-T", str(LINKER_SCRIPT),
               "-o", str(out), str(obj)]
    _run(ld_argv, f"linking {source}")
    obj.unlink(missing_ok=True)
    return out
