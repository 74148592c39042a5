"""Running a kernel bare and under a hypervisor and comparing what its guest can
see, for the labs' checks and for emu's own tests (tests/hvkit.py imports it).

Popek and Goldberg's equivalence is asserted as `bare_state(p) == hv_state(g)`:
console output, registers, pc, privilege, S-mode CSRs and counters, and all of
the guest's RAM after its bare `emu run --boot s --mem 16M` run and after its run
as a guest. The bare run is given the device tree a guest gets (as `emu run
--dtb` would be), so that the two machines describe themselves alike.
`diff` says where two such states differ.

KERNEL is a small S-mode test kernel whose trap handler logs every trap
(scause, sepc, stval, time) to RAM and carries on; callers put their own code at
`main` (and in the user page `user_code`). `random_kernel_source(seed)` fills it
with operations drawn from a seeded generator: CSR reads and writes, Sv32 on and
off, SFENCE.VMA, faults, timer and software interrupts, WFI, SRET to U and
ECALL back. The same operations are what the hypothesis tests draw, through
`kernel_operation` and `user_operation` with a hypothesis-backed `Choices`.

    python -m emu.labs.kit random SEED      # print the random kernel of SEED"""
from __future__ import annotations

import io
import random
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Protocol, Sequence, TypeVar

from emu.asm.command import load_source
from emu.core import RAM_BASE
from emu.devicetree import build
from emu.elf import Program
from emu.hv import GuestConfig, Hypervisor
from emu.hv.command import guest_names
from emu.hv.hypervisor import guest_board
from emu.isa.instructions import ABI_NAMES
from emu.labs.work import CheckFailed, Work
from emu.machine import Machine, StopReason
from emu.platform import Console

MEM = 16 << 20
S_CSRS = ("sstatus", "sie", "sip", "stvec", "scounteren", "sscratch", "sepc", "scause",
          "stval", "satp", "cycle", "time", "instret", "cycleh", "timeh", "instreth")


def assemble(source: str, name: str = "kernel") -> Program:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.S"
        path.write_text(textwrap.dedent(source))
        return load_source(path)


# ---- the two runs and their guest-visible states

def bare_state(program: Program, data: bytes = b"", max_insns: int = 5_000_000,
               mem: int = MEM) -> dict:
    """The state after `emu run --boot s` of the program, with a guest's device tree."""
    out = io.BytesIO()
    machine = Machine(mem, Console(out, data), dtb=build(guest_board(mem)))
    machine.load(program, "s")
    stop = machine.run(max_insns)
    core = machine.core
    return {
        "stop": stop.reason.value, "status": stop.status, "output": out.getvalue(),
        "x": list(core.x), "pc": core.pc, "priv": int(core.priv),
        "csrs": {name: machine.csr(name) for name in S_CSRS},
        "ram": core.read(RAM_BASE, mem),
    }


def student_hypervisor(work: Work, filename: str = "my_hv.py",
                       name: str = "MyHypervisor") -> type[Hypervisor]:
    """The student's subclass of Hypervisor, from their file."""
    cls = work.load(filename, name)
    if not (isinstance(cls, type) and issubclass(cls, Hypervisor)):
        raise CheckFailed(f"{filename}: {name} must be a subclass of emu.hv.Hypervisor")
    return cls


def run_hv(programs: list[Program], quantum: int = 100_000, inputs: dict | None = None,
           cls: type[Hypervisor] = Hypervisor, max_insns: int | None = None,
           mem: int = MEM, trace=None, **kwargs) -> Hypervisor:
    """Run the programs side by side under `cls` (as `emu hv` would), to the end."""
    names = guest_names([Path(program.path) for program in programs])
    configs = [GuestConfig(name, program, mem, input=(inputs or {}).get(name, b""))
               for name, program in zip(names, programs)]
    hv = cls(configs, quantum=quantum, max_insns=max_insns, trace=trace, **kwargs)
    hv.run()
    return hv


def hv_state(guest) -> dict:
    """The state of a guest after its run, in bare_state's terms."""
    end = guest.end
    stop = {"shutdown": StopReason.EXIT.value, "limit": StopReason.LIMIT.value}.get(
        end.reason.value, StopReason.CRASH.value) if end else StopReason.CRASH.value
    return {
        "stop": stop, "status": end.status if end else 0, "output": bytes(guest.console.data),
        "x": guest.x, "pc": guest.pc, "priv": int(guest.hart.priv),
        "csrs": {name: guest.csr(name) for name in S_CSRS},
        "ram": guest.ram.read(RAM_BASE, guest.ram.size),
    }


def differences(a: dict, b: dict) -> list[tuple[str, str, str]]:
    """Where two states differ: (what, its value in a, in b) for each register and
    CSR that differs, the output and the RAM by their first difference."""
    found = []
    for key in a:
        if a[key] == b[key]:
            continue
        if key == "ram":
            word = _first_difference(a[key], b[key]) & ~3
            found.append((f"ram at {RAM_BASE + word:#x}", a[key][word:word + 4].hex(),
                          b[key][word:word + 4].hex()))
        elif key == "output":
            found.append(_output_difference(a[key], b[key]))
        elif key == "x":
            found += [(f"{ABI_NAMES[i]} (x{i})", f"{v:#x}", f"{w:#x}")
                      for i, (v, w) in enumerate(zip(a[key], b[key])) if v != w]
        elif key == "csrs":
            found += [(name, f"{v:#x}", f"{b[key][name]:#x}")
                      for name, v in a[key].items() if v != b[key][name]]
        elif key == "pc":
            found.append(("pc", f"{a[key]:#x}", f"{b[key]:#x}"))
        else:
            found.append((key, repr(a[key]), repr(b[key])))
    return found


def diff(a: dict, b: dict, names: tuple[str, str] | None = None) -> str:
    """A readable account of where two states differ, one line per difference.
    With names, each line says which value is whose: `a0 (x10): bare 0x5, yours 0x6`."""
    return "\n".join(f"{what}: {names[0]} {v}, {names[1]} {w}" if names
                     else f"{what}: {v} vs {w}" for what, v, w in differences(a, b))


def _first_difference(a: bytes, b: bytes, chunk: int = 4096) -> int:
    """The offset of the first byte where a and b differ (or where the shorter
    ends), found a page at a time: RAM is 16 MiB."""
    for start in range(0, min(len(a), len(b)), chunk):
        left, right = a[start:start + chunk], b[start:start + chunk]
        if left != right:
            return start + next((i for i, (p, q) in enumerate(zip(left, right)) if p != q),
                                min(len(left), len(right)))
    return min(len(a), len(b))


def _output_difference(a: bytes, b: bytes) -> tuple[str, str, str]:
    """Where two console outputs part: the line each has there."""
    first = _first_difference(a, b)
    start = a.rfind(b"\n", 0, first) + 1

    def line(text: bytes) -> str:
        if start >= len(text):
            return "(nothing more)"
        end = text.find(b"\n", start)
        return repr(text[start:end if end >= 0 else len(text)].decode("utf-8", "replace"))
    number = a.count(b"\n", 0, start) + 1
    return f"output, line {number}", line(a), line(b)


# ---- the test kernel
#
# Registers s8-s11 and t5, t6 are the handler's; test code uses the others. The
# handler logs each trap as four words at s10 and then:
#   - an interrupt: disables it (clears sie.STIE and sip.SSIP) and returns;
#   - ECALL from U: returns to S, to ra (after the `call to_user`);
#   - a fetch fault: returns to ra (tests fetch through `jalr ra, ...`);
#   - anything else: skips the instruction.
# Sv32 tables are prepared (not enabled): `root` maps the kernel's 4 MiB at
# 0x80000000 identically (megapage, RWX, A and D clear) and, at 0x40000000:
#   page 0: user_code   U R X      page 3: user_rw   U R W
#   page 1: user_ro     U R        page 4: clean     R W (kernel, no A/D)
#   page 2: xonly       X          page 5: outside the guest's RAM (R W)
# and at 0x40400000 a misaligned megapage, at 0x40800000 a table outside RAM.
KERNEL = r"""
    .equ SBI_TIME, 0x54494D45
    .equ SBI_SRST, 0x53525354
    .equ SBI_DBCN, 0x4442434E
    .equ USER_VA, 0x40000000

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, handler
    csrw    stvec, t0
    la      s10, log
    call    build_tables
    li      a0, 0
    li      t0, 0
    li      t1, 0
    j       main

shutdown:
    li      a0, 0
    li      a1, 0
    li      a7, SBI_SRST
    li      a6, 0
    ecall

    .align 2
handler:
    csrr    t5, scause
    csrr    t6, sepc
    sw      t5, 0(s10)
    sw      t6, 4(s10)
    csrr    t6, stval
    sw      t6, 8(s10)
    rdtime  t6
    sw      t6, 12(s10)
    addi    s10, s10, 16
    la      t6, log_end
    bltu    s10, t6, 1f
    la      s10, log
1:  bltz    t5, h_interrupt
    li      t6, 8
    beq     t5, t6, h_user_ecall
    li      t6, 1
    beq     t5, t6, h_fetch
    li      t6, 12
    beq     t5, t6, h_fetch
    csrr    t6, sepc
    addi    t6, t6, 4
    csrw    sepc, t6
    sret
h_fetch:
    csrw    sepc, ra
    sret
h_user_ecall:
    li      t6, 0x100
    csrs    sstatus, t6
    csrw    sepc, ra
    sret
h_interrupt:
    li      t6, 0x20
    csrc    sie, t6
    csrci   sip, 2
    sret

# PTE for the physical address in a1 with the flags in a2, into a0
make_pte:
    srli    a0, a1, 12
    slli    a0, a0, 10
    or      a0, a0, a2
    ret

build_tables:
    mv      s9, ra
    la      s8, root
    li      a1, 0x80000000
    li      a2, 0xF
    call    make_pte
    li      t0, 0x800
    add     t0, t0, s8
    sw      a0, 0(t0)
    la      a1, l0
    li      a2, 0x1
    call    make_pte
    sw      a0, 0x400(s8)
    li      a1, 0x80001000                  # misaligned megapage
    li      a2, 0x7
    call    make_pte
    sw      a0, 0x404(s8)
    li      a1, 0x70000000                  # a table outside RAM
    li      a2, 0x1
    call    make_pte
    sw      a0, 0x408(s8)
    la      s8, l0
    la      a1, user_code
    li      a2, 0x1B                        # V R X U
    call    make_pte
    sw      a0, 0(s8)
    la      a1, user_ro
    li      a2, 0x13                        # V R U
    call    make_pte
    sw      a0, 4(s8)
    la      a1, xonly
    li      a2, 0x9                         # V X
    call    make_pte
    sw      a0, 8(s8)
    la      a1, user_rw
    li      a2, 0x17                        # V R W U
    call    make_pte
    sw      a0, 12(s8)
    la      a1, clean
    li      a2, 0x7                         # V R W
    call    make_pte
    sw      a0, 16(s8)
    li      a1, 0x90000000                  # beyond 16 MiB of RAM
    li      a2, 0x7
    call    make_pte
    sw      a0, 20(s8)
    la      s8, root
    srli    s8, s8, 12
    li      t0, 0x80000000
    or      s8, s8, t0                      # s8 = satp for the tables
    mv      ra, s9
    ret

# Paging on (a0 = 1) or off (a0 = 0).
paging:
    beqz    a0, 1f
    csrw    satp, s8
    sfence.vma
    ret
1:  csrw    satp, zero
    sfence.vma
    ret

# Set the timer a0 ticks from now and enable its interrupt in sie.
timer_in:
    mv      t2, a0
    rdtime  a0
    rdtimeh a1
    add     a0, a0, t2
    sltu    t2, a0, t2
    add     a1, a1, t2
    li      a7, SBI_TIME
    li      a6, 0
    ecall
    li      t2, 0x20
    csrs    sie, t2
    ret

# Drop to U at a0 (the user page's address, virtual or physical); its ecall
# brings the handler back to S, to our caller (ra).
to_user:
    csrw    sepc, a0
    li      t2, 0x100
    csrc    sstatus, t2
    sret

main:
{main}
    j       shutdown

    .align 12
user_code:
{user}
    ecall
    .align 12
user_ro:
    .word   0x11111111, 0x22222222
    .align 12
xonly:
    .word   0x33333333
    .align 12
user_rw:
    .word   0x44444444
    .align 12
clean:
    .word   0x55555555
    .align 12
root:
    .space  4096
l0:
    .space  4096
log:
    .space  4096
log_end:
    .space  4096
stack_top:
"""


def kernel_source(main: str, user: str = "    nop") -> str:
    """The test kernel's source with main's and the user page's code in place."""
    return (KERNEL.replace("{main}", _indent(main))
            .replace("{user}", _indent(user)))


def _indent(code: str) -> str:
    return textwrap.indent(textwrap.dedent(code), "    ")


def kernel(main: str, user: str = "    nop", name: str = "kernel") -> Program:
    return assemble(kernel_source(main, user), name)


# ---- random kernels

T = TypeVar("T")


class Choices(Protocol):
    """Where a random kernel's choices come from: a seeded generator here, or
    hypothesis's draws in the tests (which can then shrink a failing kernel)."""
    def pick(self, options: Sequence[T]) -> T: ...
    def integer(self, low: int, high: int) -> int: ...


class SeededChoices:
    """Choices from random.Random(seed): the same kernel for the same seed."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)

    def pick(self, options: Sequence[T]) -> T:
        return self.random.choice(options)

    def integer(self, low: int, high: int) -> int:
        return self.random.randint(low, high)


REGS = ["a0", "a1", "a2", "a3", "a4", "a5", "t0", "t1"]
READABLE = ["sstatus", "sie", "sip", "sepc", "stvec", "sscratch", "satp", "scause", "stval",
            "scounteren", "time", "cycle", "instret", "timeh", "cycleh", "instreth"]
ADDRESSES = [0, 0x40000000, 0x40001000, 0x40002000, 0x40003004, 0x40004000, 0x40005000,
             0x40400000, 0x40800000, 0x50000000, 0x80002000, 0x10000005, 0x81000000]
VALUES = [0, 2, 0x20, 0x222, 0x40000, 0x80000, 0x100, -1]


def _number(value: int) -> str:
    return str(value) if value < 0 else f"{value:#x}"


def kernel_operation(choose: Choices) -> str:
    """One operation of main, in the test kernel's virtual S."""
    reg = choose.pick(REGS)
    value = choose.pick(VALUES) if choose.integer(0, 1) else choose.integer(0, 0xFFFF_FFFF)
    kind = choose.integer(0, 15)
    if kind == 0:
        return f"csrr {reg}, {choose.pick(READABLE)}"
    if kind == 1:
        csr = choose.pick(["sscratch", "sepc", "sie", "sip", "scounteren"])
        op = choose.pick(["csrw", "csrs", "csrc"])
        return f"li {reg}, {_number(value)}\n{op} {csr}, {reg}"
    if kind == 2:
        bits = choose.pick([2, 0x40000, 0x80000, 0xC0000, 0x100, 0x20])
        return f"li t2, {bits:#x}\n{choose.pick(['csrs', 'csrc'])} sstatus, t2"
    if kind == 3:
        return f"li a0, {choose.integer(0, 1)}\ncall paging"
    if kind == 4:
        return choose.pick(["sfence.vma", "li t2, 0x40003000\nsfence.vma t2"])
    if kind == 5:
        return choose.pick(["ebreak", ".word 0", "csrr a0, mstatus", "mret",
                            "csrw time, a0", "csrr a1, 0x7c0"])
    if kind in (6, 7):
        address = choose.pick(ADDRESSES)
        op = choose.pick(["lw", "lbu", "sw", "sb", "amoadd.w"])
        if op == "amoadd.w":
            return f"li t2, {address & ~3:#x}\namoadd.w {reg}, {reg}, (t2)"
        return f"li t2, {address:#x}\n{op} {reg}, 0(t2)"
    if kind == 8:
        return f"li t2, {choose.pick(ADDRESSES) & ~3:#x}\njalr ra, 0(t2)"
    if kind == 9:
        return f"li a0, {choose.integer(0, 120)}\ncall timer_in"
    if kind == 10:
        return choose.pick(["csrsi sstatus, 2", "csrci sstatus, 2",
                            "csrsi sie, 2\ncsrsi sip, 2"])
    if kind == 11:
        return f"li a0, {choose.integer(20, 500)}\ncall timer_in\nwfi"
    if kind == 12:
        target = choose.pick(["li a0, USER_VA", "la a0, user_code"])
        return f"{target}\ncall to_user"
    if kind == 13:
        return f"li t2, {choose.integer(1, 60)}\n1: addi t2, t2, -1\nbnez t2, 1b"
    if kind == 14:
        return f"li a0, {value & 0xFF:#x}\nli a7, 1\necall"       # legacy putchar
    return f"csrw scounteren, {choose.integer(0, 7)}"


def user_operation(choose: Choices) -> str:
    """One operation of the user page's code, run in the kernel's virtual U."""
    reg = choose.pick(REGS)
    return choose.pick([
        f"rdtime {reg}", f"rdcycle {reg}", f"rdinstret {reg}", f"csrr {reg}, sstatus",
        "ebreak", "wfi", "sret", "sfence.vma", f"li t2, 0x40001000\nlw {reg}, 0(t2)",
        f"li t2, 0x40003000\nsw {reg}, 0(t2)", f"li t2, 0x40004000\nlw {reg}, 0(t2)",
        f"li t2, 0x80002000\nlw {reg}, 0(t2)", "li t2, 30\n1: addi t2, t2, -1\nbnez t2, 1b",
    ])


def random_kernel_source(seed: int, operations: int = 30, user_operations: int = 6) -> str:
    """The test kernel with `operations` random operations in main and
    `user_operations` in the user page, drawn from the seed."""
    choose = SeededChoices(seed)
    main = [kernel_operation(choose) for _ in range(operations)]
    user = [user_operation(choose) for _ in range(user_operations)] or ["nop"]
    return (f"# A random S-mode kernel: `python -m emu.labs.kit random {seed}` prints it.\n"
            "# The test kernel of emu/labs/kit.py, with random code at main and user_code.\n"
            + kernel_source("\n".join(main), "\n".join(user)))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "random" or not argv[1].isdigit():
        print("usage: python -m emu.labs.kit random SEED", file=sys.stderr)
        return 2
    sys.stdout.write(random_kernel_source(int(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
