"""`emu hv --debug` and `emu hv --gdb`: the debugger over the hypervisor. Scripted
sessions (-x FILE --batch) over guest focus, info guests, breakpoints per guest,
csr real beside virtual, pt's three mappings, `catch exit` of every exit reason
with the step that shows what the hypervisor did; and real gdb-multiarch seeing
the guests as threads."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import main
from emu.hv.emulate import EXIT_REASONS
from tests.conftest import emu_env
from tests.hvkit import KERNEL
from tests.test_debug import in_order
from tests.test_gdbstub import gdb

REPO = Path(__file__).resolve().parent.parent
GUESTS = REPO / "programs" / "guests"
HELLO = GUESTS / "hello" / "hello.S"
TICKS = GUESTS / "ticks" / "ticks.S"

# A kernel (tests/hvkit.py's) that makes one VM exit of every reason, in order.
EXITS_MAIN = """
    li      t0, 0x10000000
    lbu     t1, 5(t0)               # the UART's LSR: mmio
    ebreak                          # reflected: exception
    .word   0x30200073              # mret: illegal instruction
    li      a0, 1
    call    paging                  # csrw satp, sfence.vma
    li      t0, 0x40004000
    lw      t1, 0(t0)               # a kernel page: shadow fill
    li      t0, 0x40003000
    lw      t1, 0(t0)               # a user page without SUM: guest page fault
    li      a0, 0x40000000
    call    to_user                 # sret; the user's ecall: ecall from U
    li      a0, 50
    call    timer_in                # an SBI call
    csrsi   sstatus, 2              # the timer interrupt is injected soon
    li      t2, 200
1:  addi    t2, t2, -1
    bnez    t2, 1b
    csrci   sstatus, 2
    li      a0, 50
    call    timer_in
    wfi
"""


@pytest.fixture
def exits_kernel(tmp_path) -> Path:
    path = tmp_path / "exits.S"
    path.write_text(KERNEL.replace("{main}", textwrap.dedent(EXITS_MAIN))
                    .replace("{user}", "    nop"))
    return path


def hv_debug(tmp_path, commands: str, *guests: Path) -> str:
    script = tmp_path / "commands.gdb"
    script.write_text(textwrap.dedent(commands))
    result = CliRunner().invoke(main, ["hv", "--debug", "-x", str(script), "--batch",
                                       *map(str, guests)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.output


def test_guests_focus_info_guests_and_a_breakpoint_qualified_by_guest(tmp_path):
    out = hv_debug(tmp_path, """
        info guests
        break ticks:trap_handler
        info breakpoints
        continue
        continue
        info guests
        regs sp
        csr scause
        guest hello
        regs pc
        guest 2
        step
        x/2xw $pc
        disas $pc 2
        """, HELLO, TICKS)
    assert in_order(
        out,
        "the hypervisor with guests hello (1), ticks (2); focus on hello",
        "=> [hello] 0x80000000 <_start> [S]:",
        "*  1  hello        runnable", "   2  ticks        runnable",
        "Breakpoint 1 at 0x80000108 <trap_handler> in guest ticks",
        "1    breakpoint    ticks:0x80000108 <trap_handler>",
        # hello runs to its end first (its quantum is longer than its life), then
        # ticks stops at its first interrupt's handler: the focus moves there.
        "[hello] hello: booted on hart 0",
        "Guest hello shut down, status 0 (SBI shutdown)",
        "[Switching to guest ticks]",
        "Breakpoint 1, 0x80000108 <trap_handler>",
        "=> [ticks] 0x80000108 <trap_handler> [S]:",
        "   1  hello        stopped (shutdown)", "*  2  ticks        on the hart",
        "sp   0x",
        "scause    0x", "0x80000005  (supervisor timer interrupt)",
        "Focus on guest hello (1): stopped (shutdown)",
        "pc   0x80000350 <shutdown+0x18>",
        "Focus on guest ticks (2): on the hart",
        "=> [ticks] 0x8000010c <trap_handler+0x4> [S]:",
        "0x8000010c <trap_handler+0x4>:\t0x",
        "=> 0x8000010c <trap_handler+0x4>:")
    # The breakpoint is ticks's: hello has code at 0x80000108 too, and ran it.
    assert out.count("Breakpoint 1, ") == 1


def test_a_watchpoint_is_the_focused_guests_ram(tmp_path):
    """The core watches the host-physical bytes of the focused guest's RAM: the
    guest's store stops the run once done; hello, beside it, never touches them."""
    out = hv_debug(tmp_path, """
        guest ticks
        watch 0x10000000 1
        watch ticks
        info breakpoints
        continue
        continue
        x/1dw ticks
        delete 1
        continue
        """, HELLO, TICKS)
    assert in_order(
        out,
        "Focus on guest ticks (2)",
        "error: cannot watch 0x10000000: guest-physical 0x10000000 is not the guest's RAM "
        "(for its UART: catch exit mmio)",
        "Hardware watchpoint 1: 0x80001000 <ticks>, 4 bytes (host physical 0x81001000)",
        "1    watch         0x80001000 len 4 (host physical 0x81001000)",
        "Guest hello shut down",                    # the first continue: hello ends
        "[Switching to guest ticks]",
        "Watchpoint 1: watch 0x80001000 (4 bytes)",
        "store of 4 bytes at 0x80001000 (host physical 0x81001000) by 0x80000190 "
        "<trap_handler+0x88>:", "sw\tt0,",
        "Old value = 0x00000000", "New value = 0x00000001",
        "=> [ticks] 0x80000194 <trap_handler+0x8c> [S]:",
        "0x80001000 <ticks>:\t1",
        "Deleted watchpoint 1.",
        "[ticks] tick 10: time +10280",             # then it runs as it would have
        "[ticks] shut down, status 0")
    assert out.count("Watchpoint 1: ") == 1


def test_an_unqualified_breakpoint_is_the_focused_guests(tmp_path):
    ticks2 = tmp_path / "ticks2.S"
    ticks2.write_text(TICKS.read_text().replace('"../lib/sbi.inc"',
                                                f'"{GUESTS / "lib" / "sbi.inc"}"'))
    out = hv_debug(tmp_path, """
        guest ticks2
        break trap_handler
        continue
        info guests
        """, TICKS, ticks2)
    assert in_order(out, "Breakpoint 1 at 0x80000108 <trap_handler> in guest ticks2",
                    "Breakpoint 1, 0x80000108 <trap_handler>", "=> [ticks2] 0x80000108",
                    "   1  ticks ", "*  2  ticks2 ")
    # The same code at the same address in guest ticks did not stop.
    assert out.count("Breakpoint 1, ") == 1


EXPECTED_AFTER_STEP = {
    "csr": "csrw stvec,t0 emulated (csr): stvec 0x00000000 -> 0x8000004c",
    "sbi call": "ecall served as an SBI call (sbi call): a0 0x",
    "sret": "sret emulated (sret): sstatus 0x00000100 -> 0x00000020, pc 0x800000ac -> ",
    "wfi": "wfi emulated (wfi)",
    "sfence.vma": "sfence.vma emulated (sfence.vma)",
    "shadow fill": "handled by a shadow fill (shadow fill): the shadow table now maps "
                   "0x80000000 to host physical 0x80000000",
    "guest page fault": "lw t1,0(t0) reflected into the guest kernel (guest page fault): "
                        "sstatus 0x00000020 -> 0x00000100, sepc 0x80000274 -> 0x8000028c, "
                        "scause 0x00000002 -> 0x0000000d, stval 0x30200073 -> 0x40003000",
    "mmio": "lbu t1,5(t0) emulated (mmio): t1 0x0 -> 0x60",
    "exception": "ebreak reflected into the guest kernel (exception): sstatus 0x00000000 -> "
                 "0x00000100, sepc 0x00000000 -> 0x8000026c, scause 0x00000000 -> 0x00000003",
    "illegal instruction": "mret reflected into the guest kernel (illegal instruction): ",
    "ecall from U": "ecall reflected into the guest kernel (ecall from U): ",
    "interrupt": "supervisor timer interrupt injected: sstatus 0x00000022 -> 0x00000120, "
                 "sip 0x00000000 -> 0x00000020",
}


@pytest.mark.parametrize("reason", EXIT_REASONS)
def test_catch_exit_stops_before_the_hypervisor_and_step_shows_what_it_did(
        tmp_path, exits_kernel, reason):
    out = hv_debug(tmp_path, f"""
        catch exit {reason.replace(" ", "-")}
        continue
        history 1
        step
        history 1
        """, exits_kernel)
    before, _, after = out.partition("\n=> [exits]")
    assert f"Catchpoint 1: caught exit: {reason}" in out
    assert "the hypervisor has not handled it yet" in out or reason == "interrupt"
    assert EXPECTED_AFTER_STEP[reason] in after
    # Not handled when caught: history gains the exit only after the step.
    histories = [line for line in out.splitlines()
                 if line.startswith(("  step ", "No exits yet"))]
    assert len(histories) == 2 and histories[0] != histories[1]
    assert f"] {reason} at " in histories[1] or \
        reason == "interrupt" and "] interrupt at " in histories[1]


def test_csr_real_beside_virtual_pt_three_mappings_and_bad_input(tmp_path, exits_kernel):
    out = hv_debug(tmp_path, """
        catch exit shadow-fill
        continue
        continue
        continue
        step
        continue
        csr sstatus
        csr
        pt 0x40004000
        step
        pt 0x40004000
        pt
        pt 0x40003000
        guest nosuch
        break nosuch:main
        break 0x123
        x/4xw 0x10
        catch exit nosuch
        reverse-step
        watch 0x10000000 1
        finish
        regs a0
        """, exits_kernel)
    assert in_order(
        out,
        "Catchpoint 1: caught exit: shadow fill",   # the first fetch, paging off
        "caught exit: shadow fill",                  # fetches after paging goes on
        "caught exit: shadow fill",
        "the shadow table now maps 0x80000210 to host physical 0x80000210",
        "caught exit: shadow fill", "lw\tt1,0(t0)",   # the kernel's page at 0x4000_4000
        "CSR       real (the hart)   virtual (guest exits)",
        "sstatus   0x00000000        0x0000",
        "mstatus   0x00000000        -",
        "satp      0x800",
        "va 0x40004000:",
        "1. guest virtual -> guest physical (the guest's own table):",
        "level 1: ", "level 0: ", "  vrw-----", "-> 0x8000",
        "2. guest physical -> host physical (the hypervisor's allocation):",
        "(guest RAM 0x80000000+0x1000000 at host 0x80000000)",
        "3. the shadow table the hart uses (real satp):",
        "level 1: 0x81000000[256] = 0x00000000",
        "-> not mapped yet (invalid entry: a page fault): the next access exits",
        "handled by a shadow fill (shadow fill): the shadow table now maps 0x40004000 to "
        "host physical 0x80005000",
        "va 0x40004000:", "3. the shadow table", "level 1: 0x81000000[256] = 0x",
        "level 0: ", "vr--u-ad", "-> 0x80005000 (a 4 KiB page)",
        "guest virtual              guest physical    host physical  size  guest     shadow",
        "0x40003000-0x40003fff -> 0x80004000 -> 0x80004000  4K    vrw-u---  -",
        "0x40004000-0x40004fff -> 0x80005000 -> 0x80005000  4K    vrw---a-  vr--u-ad",
        "0x80000000-0x803fffff -> 0x80000000 -> 0x80000000  4M    vrwx--a-  vr-xu-ad",
        "va 0x40003000:",
        "error: no guest named 'nosuch': the guests are exits",
        "error: no guest named 'nosuch'",
        "error: 0x123 is not 4-byte aligned",
        "error: cannot access memory at 0x00000010",
        "error: unknown exit reason 'nosuch'",
        "(back in time) at step 181",               # before the lui that precedes the lw
        "=> [exits] 0x80000280 <main+0x1c> [S]:",
        "error: cannot watch 0x10000000: it is not mapped in the current context",
        "a0   0x")


def test_the_gdb_stub_shows_guests_as_threads(tmp_path):
    elfs = []
    for source in (HELLO, TICKS):
        elf = tmp_path / f"{source.stem}.elf"
        done = subprocess.run([sys.executable, "-m", "emu", "asm", str(source), "-o", str(elf)],
                              capture_output=True, text=True, cwd=REPO, env=emu_env())
        assert done.returncode == 0, done.stderr
        elfs.append(elf)
    process = subprocess.Popen([sys.executable, "-m", "emu", "hv", "--gdb", "0",
                                *map(str, elfs)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=REPO, env=emu_env())
    try:
        line = process.stderr.readline()
        assert "waiting for gdb on 127.0.0.1:" in line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        out = gdb(elfs[1], port,
                  "info threads",
                  "thread 2",
                  "p/x $pc",
                  "p $priv",
                  "x/xw 0x80000000",
                  "break *0x80000108 thread 2",
                  "continue",
                  "info threads",
                  "p/x $pc",
                  "p/x $scause",
                  "p/x $sepc",
                  "thread 1",
                  "p/x $a7",
                  "monitor info guests",
                  "kill")
        assert in_order(
            out,
            "* 1    Thread 1 (hello (runnable, virtual S-mode))",
            "  2    Thread 2 (ticks (runnable, virtual S-mode))",
            "[Switching to thread 2 (Thread 2)]",
            "$1 = 0x80000000", "$2 = 1", "0x80000000 <_start>:\t0x00002117",
            "Breakpoint 1 at 0x80000108",
            "Thread 2 hit Breakpoint 1, 0x80000108 in trap_handler ()",
            "  1    Thread 1 (hello (stopped (shutdown), virtual S-mode))",
            "* 2    Thread 2 (ticks (on the hart, virtual S-mode))",
            "$3 = 0x80000108", "$4 = 0x80000005", "$5 = 0x8000",
            "[Switching to thread 1 (Thread 1)]",
            "$6 = 0x53525354",                  # hello's last SBI call: SRST
            "*  1  hello")
        # hello ended on the way (gdb's console, which may come out on stderr).
        assert "emu: guest hello shut down, status 0 (SBI shutdown)" in out
        assert process.wait(timeout=20) == 0
        assert "[hello] hello: booted on hart 0" in process.stdout.read()
    finally:
        process.kill()


def test_debug_options_are_checked(tmp_path):
    result = CliRunner().invoke(main, ["hv", "--debug", "--gdb", "0", str(HELLO)])
    assert result.exit_code != 0 and "pick one" in result.output
    result = CliRunner().invoke(main, ["hv", "--batch", str(HELLO)])
    assert result.exit_code != 0 and "go with --debug" in result.output
