"""The cffi builder for the C core (out-of-line API mode).

setup.py names `csrc/build.py:ffibuilder` in cffi_modules; the cdef is csrc/emu.h,
the one header that declares the core's interface. Set EMU_SANITIZE=1 to build the
core with AddressSanitizer and UBSan (`make asan`), and EMU_DISPATCH=switch to build
the interpreter with a plain switch instead of computed goto (csrc/dispatch.h;
`make check` tests both)."""
import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
# setuptools wants source paths relative to the project root, where it runs.
ROOT = HERE.parent
SOURCES = sorted(str(p.relative_to(ROOT)) for p in HERE.glob("*.c"))

CFLAGS = ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wshadow"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer", "-g"]

ffibuilder = FFI()
ffibuilder.cdef((HERE / "emu.h").read_text())
sanitize = os.environ.get("EMU_SANITIZE") == "1"
dispatch = os.environ.get("EMU_DISPATCH", "threaded")
if dispatch not in ("threaded", "switch"):
    raise SystemExit(f"EMU_DISPATCH={dispatch!r}: use threaded (the default) or switch")
ffibuilder.set_source(
    "emu._core",
    '#include "hart.h"',
    sources=SOURCES,
    include_dirs=[str(HERE.relative_to(ROOT))],
    extra_compile_args=CFLAGS + (SANITIZE if sanitize else [])
    + (["-DEMU_DISPATCH_SWITCH"] if dispatch == "switch" else []),
    extra_link_args=SANITIZE if sanitize else [],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
