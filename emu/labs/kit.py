"""What labs' checks (and tests/hvkit.py) share: a kernel's guest-visible end
state, run bare (`emu run --boot s`) or taken from a guest of the hypervisor,
and where two such states differ. Popek and Goldberg's equivalence is then
`bare_state(program) == hv_state(guest)`."""
from __future__ import annotations

import io

from emu.core import RAM_BASE
from emu.elf import Program
from emu.machine import Machine, StopReason
from emu.platform import Console

MEM = 16 << 20                  # a guest's RAM, as `emu hv` and the guests' args give it
S_CSRS = ("sstatus", "sie", "sip", "stvec", "scounteren", "sscratch", "sepc", "scause",
          "stval", "satp", "cycle", "time", "instret", "cycleh", "timeh", "instreth")


def bare_state(program: Program, data: bytes = b"", max_insns: int = 5_000_000,
               mem: int = MEM) -> dict:
    """Run program as `emu run --boot s --mem MEM` does; its end state."""
    out = io.BytesIO()
    machine = Machine(mem, Console(out, data))
    machine.load(program, "s")
    stop = machine.run(max_insns)
    core = machine.core
    return {
        "stop": stop.reason.value, "status": stop.status, "output": out.getvalue(),
        "x": list(core.x), "pc": core.pc, "priv": int(core.priv),
        "csrs": {name: machine.csr(name) for name in S_CSRS},
        "ram": core.read(RAM_BASE, mem),
    }


def hv_state(guest) -> dict:
    """The same state of a guest (emu.hv.Guest) whose run has ended."""
    end = guest.end
    stop = {"shutdown": StopReason.EXIT.value, "limit": StopReason.LIMIT.value}.get(
        end.reason.value, StopReason.CRASH.value)
    return {
        "stop": stop, "status": end.status, "output": bytes(guest.console.data),
        "x": guest.x, "pc": guest.pc, "priv": int(guest.hart.priv),
        "csrs": {name: guest.csr(name) for name in S_CSRS},
        "ram": guest.ram.read(RAM_BASE, guest.ram.size),
    }


def diff(a: dict, b: dict) -> str:
    """A readable account of where two states differ (the RAM by its first byte)."""
    lines = []
    for key in a:
        if a[key] == b[key]:
            continue
        if key == "ram":
            first = next(i for i, (p, q) in enumerate(zip(a[key], b[key])) if p != q)
            lines.append(f"ram differs first at {RAM_BASE + first:#x}: "
                         f"{a[key][first & ~3:(first & ~3) + 4].hex()} vs "
                         f"{b[key][first & ~3:(first & ~3) + 4].hex()}")
        elif key in ("x", "csrs"):
            items = enumerate(a[key]) if key == "x" else a[key].items()
            for k, v in items:
                w = b[key][k]
                if v != w:
                    lines.append(f"{key}[{k}]: {v:#x} vs {w:#x}")
        else:
            lines.append(f"{key}: {a[key]!r} vs {b[key]!r}")
    return "\n".join(lines)
