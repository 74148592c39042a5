"""`emu hv --debug` and `emu hv --gdb`: the debugger over the hypervisor. Scripted
sessions (-x FILE --batch) over guest focus, info guests, breakpoints per guest,
csr real beside virtual, pt's three mappings, `catch exit` of every exit reason
with the step that shows what the hypervisor did, going back in time (exactly,
with the console shown once); and real gdb-multiarch seeing the guests as
threads, watchpoints and all."""
import dataclasses
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emu.cli import main
from emu.debug.hvtarget import HvTarget
from emu.debug.session import Session, Why
from emu.hv.emulate import EXIT_REASONS
from emu.hv.hypervisor import GuestConfig, Hypervisor
from emu.options import load_program
from tests.conftest import emu_env
from tests.hvkit import KERNEL
from tests.test_debug import in_order
from tests.test_gdbstub import gdb

REPO = Path(__file__).resolve().parent.parent
GUESTS = REPO / "programs" / "guests"
HELLO = GUESTS / "hello" / "hello.S"
TICKS = GUESTS / "ticks" / "ticks.S"
OS = GUESTS / "os" / "os.S"

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


def hv_debug(tmp_path, commands: str, *guests: Path, options=()) -> str:
    script = tmp_path / "commands.gdb"
    script.write_text(textwrap.dedent(commands))
    result = CliRunner().invoke(main, ["hv", "--debug", "-x", str(script), "--batch",
                                       *options, *map(str, guests)])
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


def _elfs(tmp_path) -> list[Path]:
    elfs = []
    for source in (HELLO, TICKS):
        elf = tmp_path / f"{source.stem}.elf"
        done = subprocess.run([sys.executable, "-m", "emu", "asm", str(source), "-o", str(elf)],
                              capture_output=True, text=True, cwd=REPO, env=emu_env())
        assert done.returncode == 0, done.stderr
        elfs.append(elf)
    return elfs


def _serve(elfs: list[Path], *options: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-m", "emu", "hv", "--gdb", "0", *options,
                                *map(str, elfs)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=REPO, env=emu_env())
    line = process.stderr.readline()
    assert "waiting for gdb on 127.0.0.1:" in line
    return process, int(line.split("127.0.0.1:")[1].split()[0])


def test_the_gdb_stub_shows_guests_as_threads(tmp_path):
    elfs = _elfs(tmp_path)
    process, port = _serve(elfs)
    try:
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
                  "thread 1",           # hello has ended: to gdb, a thread that exited
                  "stepi",              # so this steps ticks, still selected
                  "p/x $pc",
                  "monitor guest hello",
                  "monitor regs a7",
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
            "* 2    Thread 2 (ticks (on the hart, virtual S-mode))",
            "$3 = 0x80000108", "$4 = 0x80000005", "$5 = 0x8000",
            "0x8000010c in trap_handler ()", "$6 = 0x8000010c",
            "Focus on guest hello (1): stopped (shutdown)",
            "a7   0x53525354",                  # hello's last SBI call: SRST
            "*  1  hello        stopped (shutdown)")
        assert "Thread 1 (hello (stopped" not in out
        assert "Unknown thread 1." in out           # gdb's errors come out on stderr
        # hello ended on the way (gdb's console, which may come out on stderr).
        assert "emu: guest hello shut down, status 0 (SBI shutdown)" in out
        assert process.wait(timeout=20) == 0
        assert "[hello] hello: booted on hart 0" in process.stdout.read()
    finally:
        process.kill()


def test_a_gdb_watchpoint_on_a_guest_variable_stops_right_after_the_store(tmp_path):
    """gdb takes RISC-V watchpoints to trigger before the access and steps over it
    itself: the stub goes back one instruction, as on a bare machine, so that gdb
    stops right after the store (not one instruction later)."""
    elfs = _elfs(tmp_path)
    process, port = _serve(elfs)
    try:
        out = gdb(elfs[1], port,
                  "thread 2",
                  "watch *(int *)&ticks",
                  "continue",
                  "p/x $pc",
                  "x/i $pc - 4",
                  "continue",
                  "p/x $pc",
                  "p *(int *)&ticks",
                  "delete",
                  "continue")
        assert in_order(
            out,
            "Hardware watchpoint 1: *(int *)&ticks",
            "Thread 2 hit Hardware watchpoint 1: *(int *)&ticks",
            "Old value = 0", "New value = 1",
            "$1 = 0x80000194", "<trap_handler+136>:\tsw\tt0,-396(t1)",
            "Old value = 1", "New value = 2", "$2 = 0x80000194", "$3 = 2",
            "exited normally")
        assert process.wait(timeout=20) == 0
        console = process.stdout.read()
        assert console.count("[ticks] tick 1: ") == 1 and "[ticks] tick 10: " in console
    finally:
        process.kill()


def test_stats_and_json_report_the_run_as_the_debugging_session_left_it(tmp_path):
    report = tmp_path / "report.json"
    out = hv_debug(tmp_path, """
        continue
        guest ticks
        step 1000
        step 500
        reverse-step 500
        """, HELLO, TICKS, options=("--stats", "--json", str(report)))
    assert "(back in time) at step 1000" in out
    assert in_order(out, "Analyze events for guest hello: 1,470 instructions", "VM-EXIT",
                    "Analyze events for guest ticks: 1,000 instructions", "csr")
    summary = json.loads(report.read_text())
    hello, ticks = summary["guests"]
    assert hello["stop"] == "shutdown" and hello["instructions"] == 1470
    assert ticks["stop"] is None and ticks["instructions"] == 1000
    assert summary["status"] != 0                   # ticks did not finish
    # The registers are the guest's as it stands, not those saved at its last switch.
    assert ticks["pc"] == int(re.search(r"=> \[ticks\] (0x[0-9a-f]+)",
                                        out.split("(back in time)")[1]).group(1), 16)


def test_debug_options_are_checked(tmp_path):
    result = CliRunner().invoke(main, ["hv", "--debug", "--gdb", "0", str(HELLO)])
    assert result.exit_code != 0 and "pick one" in result.output
    result = CliRunner().invoke(main, ["hv", "--batch", str(HELLO)])
    assert result.exit_code != 0 and "go with --debug" in result.output


# ---- going back in time: the past runs again on a fresh hypervisor

OS_RAM = "x/21504xw 0x80000000 --phys"      # the os guest's image, tables, pages, stacks


def _plain(text: str) -> str:
    """Without the stars that mark what changed since the previous stop."""
    return "\n".join(line.rstrip() for line in text.replace("*", " ").splitlines())


def test_reverse_step_returns_exactly_to_the_earlier_state(tmp_path):
    """Two os guests (two U processes each, paging, timer interrupts), in quanta of
    2,000 instructions: 60,000 instructions forward cross exits, injected interrupts,
    guest switches and both processes; going back lands on the same registers,
    virtual CSRs, shadow state, RAM and the other guest's progress."""
    out = hv_debug(tmp_path, f"""
        step 25000
        regs
        csr
        info guests
        {OS_RAM}
        step 60000
        info guests
        reverse-step 60000
        regs
        csr
        info guests
        {OS_RAM}
        """, OS, OS, options=("--quantum", "2000"))
    before, _, after = out.partition("(back in time) at step 25000")
    state = _plain(after[after.index("\npc   0x"):])
    assert len(state.splitlines()) > 5000
    assert state in _plain(before)
    # What ran forward: both processes, the timer interrupt, the other guest.
    assert in_order(before, "[os] [pid 2] round 1", "[os] [kernel] timer interrupt in pid",
                    "*  1  os           on the hart", " 85,000",
                    "   2  os-2 ")


def test_reverse_continue_goes_back_to_the_previous_breakpoint(tmp_path):
    out = hv_debug(tmp_path, """
        break os:timer_interrupt
        continue
        regs
        continue
        regs
        step 40
        reverse-continue
        regs
        reverse-continue
        regs
        reverse-continue
        reverse-continue
        info breakpoints
        """, OS, TICKS, options=("--quantum", "5000"))
    hits = out.split("Breakpoint 1, ")
    assert len(hits) == 5                   # two forward, two back; then the start
    first, second = (_regs(hits[1]), _regs(hits[2]))
    assert first != second
    assert _regs(hits[3]) == second and _regs(hits[4]) == first
    assert in_order(hits[4], "(back in time) no earlier breakpoint, watchpoint or caught exit: "
                    "at the start of the recording",
                    "error: already at the start of the recording: nothing to go back to",
                    "1    breakpoint    os:0x")
    assert out.rstrip().endswith(" 2")      # the hits: going back counts none


def _regs(text: str) -> str:
    block = text[text.index("\npc   0x"):]
    return _plain("\n".join(block.splitlines()[:10]))


def test_reverse_continue_to_a_caught_exit_stops_before_the_hypervisor_handles_it(
        tmp_path, exits_kernel):
    out = hv_debug(tmp_path, """
        catch exit sbi-call
        continue
        step
        step 3
        reverse-continue
        step
        reverse-step
        reverse-step 1000
        """, exits_kernel)
    assert in_order(
        out,
        "Catchpoint 1: caught exit: sbi call", "ecall served as an SBI call (sbi call): a0 0x",
        "Catchpoint 1: caught exit: sbi call",
        "the hypervisor has not handled it yet",
        "ecall served as an SBI call (sbi call): a0 0x",
        "(back in time) at step",
        "(back in time) at the start of the recording, step 0",
        "=> [exits] 0x80000000 <_start> [S]:")


def test_going_back_and_forth_shows_each_console_line_once(tmp_path):
    """The past runs again silently; the run then goes on past what was shown
    before without showing it twice, on the terminal and in --console-dir."""
    logs = tmp_path / "logs"
    out = hv_debug(tmp_path, """
        break os:timer_interrupt
        continue
        continue
        continue
        reverse-step 30000
        reverse-continue
        step 10
        continue
        continue
        continue
        continue
        continue
        """, OS, TICKS, options=("--quantum", "5000", "--console-dir", str(logs)))
    assert "(back in time) at step" in out and "The hypervisor ended" in out
    for name, source in (("os", OS), ("ticks", TICKS)):
        expected = (source.parent / "expected.txt").read_text()
        shown = [line.removeprefix(f"[{name}] ") for line in out.splitlines()
                 if line.startswith(f"[{name}] ")]
        assert shown == expected.splitlines()
        assert (logs / f"{name}.log").read_text() == expected


# A fresh run stepped forward to N - M is the state a run stepped to N and back M
# is in: every guest's registers, virtual hart, RAM, exits, console and the clock.

HV_GUESTS = {"os": load_program(OS), "ticks": load_program(TICKS), "hello": load_program(HELLO)}


def _session(names: tuple[str, ...]) -> Session:
    configs = [GuestConfig(name, HV_GUESTS[name]) for name in names]
    return Session(HvTarget(Hypervisor(configs, quantum=3000)))


def _step_to(session: Session, steps: int) -> None:
    while session.hv.focus.hart.steps < steps and not session.ended:
        event = session.step(steps - session.hv.focus.hart.steps)
        if event.why is Why.GUEST_END:
            session.hv.set_focus(session.hv.guest(FOCUS))


FOCUS = "os"


def _whole_state(session: Session):
    target, hv = session.hv, session.hv.hv
    guests = {}
    for guest in hv.guests:
        regs, pc = target.hart_of(guest)
        guests[guest.name] = (regs, pc, dataclasses.asdict(guest.hart), guest.state,
                              guest.ram.read(0x8000_0000, guest.ram.size),
                              list(guest.exit_log), bytes(guest.console.data),
                              bytes(guest.uart.input), guest.pager.generation)
    return guests, hv.clock, hv.idle, hv.scheduler.turn, target.pc


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forward=st.integers(1, 100_000), back=st.integers(1, 100_000),
       other=st.sampled_from(["ticks", "hello"]))
def test_back_m_from_n_is_a_fresh_run_forward_to_n_minus_m(forward, back, other):
    back = min(back, forward)
    there = _session((FOCUS, other))
    _step_to(there, forward)
    there.reverse_step(back)
    fresh = _session((FOCUS, other))
    _step_to(fresh, forward - back)
    assert there.hv.focus.hart.steps == forward - back
    assert _whole_state(there) == _whole_state(fresh)


def test_changes_made_by_hand_are_part_of_the_past_going_back_runs_again(tmp_path):
    out = hv_debug(tmp_path, """
        continue
        guest ticks
        step 100
        csr sscratch 0x1234
        step 50
        reverse-step 20
        csr sscratch
        reverse-step 100
        csr sscratch
        step 100
        csr sscratch
        """, HELLO, TICKS)
    values = re.findall(r"sscratch +0x00000000 +(0x[0-9a-f]+)", out)
    # Kept going back to after the change; undone going back before it, and then
    # gone from that past (it was made in a future that no longer is).
    assert values == ["0x00001234", "0x00001234", "0x00000000", "0x00000000"], out


def test_memory_and_registers_written_by_hand_are_replayed():
    session = _session(("os", "ticks"))
    _step_to(session, 30_000)
    session.set_register(10, 0xCAFE)                # a0, as gdb's P packet does
    session.write(0x8000_2000, b"\xAA" * 8, physical=True)
    state = _whole_state(session)
    _step_to(session, 31_000)
    session.reverse_step(1_000)
    assert _whole_state(session) == state
    assert session.read(0x8000_2000, 8, physical=True) == b"\xAA" * 8
