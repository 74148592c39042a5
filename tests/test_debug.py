"""`emu debug`: scripted sessions (-x FILE --batch) over every command, catching each
trap cause of the sample programs, bad input, and reverse execution restoring
exactly the state it left (registers, CSRs, memory)."""
import io
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.asm.command import load_source
from emu.cli import main
from emu.debug.repl import Repl
from emu.debug.session import DebugError, Session, Why
from emu.isa import CSRS
from emu.machine import Machine
from emu.platform import Console

REPO = Path(__file__).resolve().parent.parent
TRAPS = REPO / "programs" / "traps" / "traps.S"
TIMER = REPO / "programs" / "timer" / "timer.S"
PAGING = REPO / "programs" / "paging" / "paging.S"
HELLO_SBI = REPO / "programs" / "hello-sbi" / "hello-sbi.S"


def debug(tmp_path, program, commands: str, *options):
    script = tmp_path / "commands.gdb"
    script.write_text(commands)
    result = CliRunner().invoke(main, ["debug", str(program), "-x", str(script), "--batch",
                                       *options])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.output


def session_for(source: Path, mem=1 << 20, boot="m", **options) -> Session:
    machine = Machine(mem, Console(io.BytesIO(), b""))
    machine.load(load_source(source), boot)
    return Session(machine, **options)


def in_order(text: str, *parts: str) -> bool:
    """Each part appears in text, after the one before it."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} not found after:\n{text[at:at + 1500]}"
        at = found + len(part)
    return True


# ---- catching traps in the sample programs

def test_catch_trap_stops_at_every_exception_of_traps_before_its_handler(tmp_path):
    out = debug(tmp_path, TRAPS, "catch trap\n" + "continue\n" * 7)
    assert "Catchpoint 1: trap (any)" in out
    assert in_order(
        out,
        "caught trap: environment call from M-mode",
        "epc  0x80000058 <at_ecall>:  00000073  ecall", "tval 0x00000000",
        "handler 0x8000018c <trap_handler>",
        "=> 0x8000018c <trap_handler> [M]:  fb010113  add\tsp,sp,-80",
        "changed: ", "mepc 0x0 -> 0x80000058", "mcause 0x0 -> 0xb",
        "caught trap: illegal instruction", "epc  0x80000074 <at_zero_word>:  00000000",
        "caught trap: illegal instruction", "<at_write_ro>:  f1401073  csrw\tmhartid,zero",
        "tval 0xf1401073",
        "caught trap: breakpoint", "<at_ebreak>:  00100073  ebreak", "tval 0x800000ac",
        "caught trap: load access fault", "<at_load_fault>:  00092303  lw\tt1,0(s2)",
        "tval 0x00000800",
        "caught trap: instruction address misaligned", "<at_misaligned_jump>", "jr\ts2",
        "tval 0x800000fa",
        "traps: done", "The program exited with status 0")
    # The catch stops before the handler runs: the handler's output comes after.
    assert in_order(out, "caught trap: environment call", "trap: mcause = 11")
    assert out.count("M-mode -> M-mode") == 6


@pytest.mark.parametrize("cause, name, symbol", [
    ("11", "environment call from M-mode", "at_ecall"),
    ("illegal-instruction", "illegal instruction", "at_zero_word"),
    ("breakpoint", "breakpoint", "at_ebreak"),
    ("load-access", "load access fault", "at_load_fault"),
    ("instruction-address-misaligned", "instruction address misaligned", "at_misaligned_jump"),
])
def test_catch_trap_by_cause(tmp_path, cause, name, symbol):
    out = debug(tmp_path, TRAPS, f"catch trap {cause}\ncontinue\ninfo trap\n")
    assert f"caught trap: {name}" in out
    assert out.count("caught trap:") == 1
    assert in_order(out, "The last trap, at step", f"{name}", f"<{symbol}>", "now: mcause")


def test_catch_interrupt_in_timer_and_finish_returns_with_mret(tmp_path):
    out = debug(tmp_path, TIMER, "catch interrupt timer\ncontinue\nfinish\ncontinue\n"
                                 "history 3\n")
    assert in_order(out, "Catchpoint 1: interrupt supervisor timer interrupt, machine timer "
                         "interrupt",
                    "caught interrupt: machine timer interrupt", "interrupt 7: machine timer "
                    "interrupt, M-mode -> M-mode", "handler 0x", "<trap_handler>",
                    "tick 1", "Returned from the trap handler (xRET)", "[M]",
                    "caught interrupt: machine timer interrupt", "M->M  machine timer interrupt")
    assert "mret" not in out.split("Returned from the trap handler")[1].split("\n")[1]


def test_catch_page_faults_and_system_calls_in_paging(tmp_path):
    out = debug(tmp_path, PAGING, "catch trap page-fault\ncontinue\npt 0x80000000\ncontinue\n"
                                  "catch trap ecall\ncontinue\npt\npt 0x00402ffc\nhistory 3\n")
    assert in_order(
        out,
        "Catchpoint 1: trap instruction page fault, load page fault, store/AMO page fault",
        "caught trap: load page fault", "U-mode -> M-mode", "epc  0x00400068",
        "tval 0x80000000",
        "va 0x80000000: VPN[1] 0x200", "level 1: table 0x80003000[512]", "leaf",
        "-> pa 0x80000000 (a 4 MiB megapage)",
        "caught trap: store/AMO page fault", "tval 0x00401ffc",
        "Catchpoint 2: trap environment call from U-mode, environment call from S-mode, "
        "environment call from M-mode",
        "caught trap: environment call from U-mode", "epc  0x004000ac:  00000073  ecall",
        "satp = 0x80080003: Sv32, root table at 0x80003000",
        "va 0x00400000-0x00400fff -> pa 0x80001000  4K  vr-xu-a-",
        "va 0x00402000-0x00402fff -> pa 0x80005000  4K  vrw-u-ad",
        "va 0x80000000-0x803fffff -> pa 0x80000000  4M  vrwx--ad",
        "level 1: table 0x80003000[1] at 0x80003004 = 0x20001001  v-------  pointer -> table "
        "0x80004000",
        "level 0: table 0x80004000[2] at 0x80004008 = 0x200014d7  vrw-u-ad  leaf",
        "-> pa 0x80005ffc (a 4 KiB page)",
        "U->M  environment call", "U->M  store/AMO page fault", "U->M  environment call")


def test_an_unmapped_address_in_pt_and_x_in_user_context(tmp_path):
    out = debug(tmp_path, PAGING, "catch trap page-fault\ncontinue\nreverse-step\n"
                                  "x/2i $pc\nx/xw 0x00401ffc\npt 0x00401ffc\n")
    assert in_order(out, "(back in time)", "[U]", "=> 0x00400068:", "lw",
                    "cannot access memory at 0x00401ffc: it is not mapped",
                    "invalid entry: a page fault")


# ---- every command

def test_breakpoints_stepping_and_state_commands(tmp_path):
    out = debug(tmp_path, TRAPS, """
        break at_ecall
        tbreak announce+8
        b 0x80000074
        info breakpoints
        continue
        continue
        info breakpoints
        step
        s 3
        regs
        info registers a0 sp pc mepc
        csr
        csr mstatus
        csr mscratch 0x1234
        csr mscratch
        delete 1
        until at_zero_word
        x/4xw $sp
        x/2xh at_ecall
        x/4xb at_ecall
        x/3dw $sp
        x/s text_done
        x/2i at_ecall
        x/xw 0x80000058 --phys
        disas at_ecall 2
        disas
        delete
        info b
        quit
        step
    """)
    assert in_order(out, "Breakpoint 1 at 0x80000058 <at_ecall>",
                    "Temporary breakpoint 2 at 0x800001", "<announce+0x8>",
                    "Breakpoint 3 at 0x80000074 <at_zero_word>",
                    "Num  Type", "1    breakpoint    0x80000058 <at_ecall>",
                    "2    tbreakpoint", "3    breakpoint")
    assert in_order(out, "Breakpoint 2, 0x800001", "<announce+0x8>",
                    "Breakpoint 1, 0x80000058 <at_ecall>",
                    "=> 0x80000058 <at_ecall> [M]:  00000073  ecall")
    listing = out.split("Breakpoint 1, 0x80000058")[1]
    assert "tbreakpoint" not in listing.split("step")[0]     # the temporary one is gone
    assert in_order(out, "-- trap taken: environment call from M-mode at 0x80000058 <at_ecall>",
                    "=> 0x8000018c <trap_handler> [M]")
    assert in_order(out, "pc   0x8000019", "priv M", "zero 0x00000000", "sp 0x800016",
                    "*")                                     # sp changed: marked
    assert in_order(out, "a0   0x", "sp   0x800016", "pc   0x8000019", "mepc = 0x80000058")
    assert in_order(out, "mstatus   0x00001800  [SPP=U MPP=M]", "mtvec     0x8000018c  (base "
                    "0x8000018c <trap_handler>, direct)", "mcause    0x0000000b  (environment "
                    "call from M-mode)")
    assert in_order(out, "mstatus = 0x00001800  [SPP=U MPP=M]", "mscratch = 0x00001234",
                    "mscratch = 0x00001234", "Deleted breakpoint 1.")
    assert in_order(out, "Breakpoint 3, 0x80000074 <at_zero_word>",   # until stops at it
                    "0x800016d0 <__bss_end>:\t0x", "0x80000058 <at_ecall>:\t0x0073\t0x0000",
                    "0x80000058 <at_ecall>:\t0x73\t0x00\t0x00\t0x00",
                    "<__bss_end>:\t",
                    '<text_done>:\t"traps: done\\n"',
                    "0x80000058 <at_ecall>:\t00000073  ecall",
                    "0x80000058 <at_ecall>:\t0x00000073",
                    "at_ecall:", "   0x80000058 <at_ecall>:\t00000073  ecall",
                    "=> 0x80000074 <at_zero_word>:\t00000000  .4byte\t0x0",
                    "Deleted every breakpoint", "No breakpoints, watchpoints or catchpoints.")
    assert out.rstrip().endswith("No breakpoints, watchpoints or catchpoints.")   # quit ends it


def test_watchpoints_stop_after_the_access(tmp_path):
    out = debug(tmp_path, TRAPS, """
        break trap_handler
        continue
        watch $sp-8 4
        rwatch $sp-4
        awatch $sp-12 4
        info watchpoints
        delete 1
        continue
        continue
        continue
    """)
    assert in_order(out, "Hardware watchpoint 2: 0x800016c8", "4 bytes",
                    "Hardware read watchpoint 3: 0x800016cc",
                    "Hardware access (read/write) watchpoint 4: 0x800016c4",
                    "2    watch         0x800016c8 len 4", "3    rwatch", "4    awatch")
    # The handler stores ra at 76(sp) after sp -= 80: sp-4 first. Stores in order of
    # the frame: t0 at 72 (sp-8): watch 2; read of sp-4 happens at the end.
    assert in_order(out, "Watchpoint 2: watch 0x800016c8 (4 bytes)",
                    "store of 4 bytes at 0x800016c8 (physical 0x800016c8) by 0x80000194 "
                    "<trap_handler+0x8>:  04512423  sw\tt0,72(sp)",
                    "Old value = 0x00000000", "New value = 0x10000000",
                    "=> 0x80000198 <trap_handler+0xc>",
                    "Watchpoint 4: awatch 0x800016c4 (4 bytes)", "sw\tt1,68(sp)")


def test_reverse_commands_in_a_script(tmp_path):
    out = debug(tmp_path, TRAPS, """
        catch trap illegal
        continue
        continue
        step 5
        reverse-step 5
        rs
        reverse-continue
        reverse-continue
        rs
    """)
    assert in_order(out, "caught trap: illegal instruction", "<at_zero_word>",
                    "caught trap: illegal instruction", "<at_write_ro>",
                    "=> 0x8000018c <trap_handler>",
                    "(back in time) at step", "=> 0x8000018c <trap_handler>",
                    "(back in time) at step", "=> 0x80000090 <at_write_ro>",
                    "Catchpoint 1: caught trap: illegal instruction", "<at_zero_word>",
                    "=> 0x8000018c <trap_handler>",
                    "(back in time) no earlier breakpoint", "=> 0x80000000 <_start>",
                    "error: already at the start of the recording")


def test_bad_input_gives_a_message_and_the_session_goes_on(tmp_path):
    out = debug(tmp_path, TRAPS, """
        frobnicate
        break nosuch_symbol
        break at_ecal
        break 0x80000002
        x/4xw 0x10
        x/4qw 0x80000000
        x/4xw
        csr nosuchcsr
        csr mstatu
        catch trap nonsense
        catch trap timer
        catch exit
        catch something
        step lots
        delete 99
        info nonsense
        until
        finish
        watch 0x80000ffe 4
        watch 0x10 4
        info guests
        regs nosuch
        help nope
        help
        step
    """)
    assert in_order(out,
                    "error: unknown command 'frobnicate'",
                    "error: no symbol 'nosuch_symbol' in the program",
                    "error: no symbol 'at_ecal' in the program (did you mean at_ecall?)",
                    "error: 0x80000002 is not 4-byte aligned",
                    "error: cannot access memory at 0x00000010: not RAM",
                    "error: bad format /4qw",
                    "error: x needs an address",
                    "error: no CSR named 'nosuchcsr'",
                    "error: no CSR named 'mstatu' (did you mean mstatus?)",
                    "error: unknown trap cause 'nonsense'",
                    "is an interrupt: use `catch interrupt`",
                    "`catch exit` is for the hypervisor (emu hv --debug)",
                    "error: catch what?",
                    "error: expected a count, not 'lots'",
                    "error: no breakpoint, watchpoint or catchpoint number 99",
                    "error: info nonsense?",
                    "error: until needs an address",
                    "error: finish: not in a trap handler",
                    "error: a watchpoint must not cross a page boundary",
                    "error: cannot watch 0x00000010",
                    "No guests: this is a bare machine",
                    "error: no register or CSR named 'nosuch'",
                    "error: no command 'nope'", "Commands (help COMMAND for one in full):",
                    "reverse-step [N] [rs]", "=> 0x80000004 <_start+0x4>")


def test_stepping_after_the_end_says_so_and_reverse_goes_back(tmp_path):
    out = debug(tmp_path, TRAPS, "continue\nstep\ncontinue\nrs 2\nstep\n")
    assert in_order(out, "traps: done", "The program exited with status 0",
                    "error: the program is not running", "error: the program is not running",
                    "(back in time)", "=> 0x")


def test_s_mode_kernels_debug_under_the_sbi_firmware(tmp_path):
    out = debug(tmp_path, HELLO_SBI, "info registers priv\nhistory\ncontinue\nhistory 2\n",
                "--boot", "s")
    assert in_order(out, "priv S", "No traps yet.", "The program exited",
                    "S->host  environment call from S-mode")


# A mul whose trap handler skips it (a2 stays 0): where a lab's handler would
# emulate it under --isa rv32ia.
SKIPPED_MUL = """
    .globl _start
    _start:
        la t0, handler
        csrw mtvec, t0
        li a0, 6
        li a1, 7
        mul a2, a0, a1
        li t0, 0x100000
        li t1, 0x5555
        sw t1, 0(t0)
    handler:
        csrr t0, mepc
        addi t0, t0, 4
        csrw mepc, t0
        mret
"""


def test_a_hart_without_m_is_debugged_with_isa_and_reverse_keeps_it(tmp_path):
    """Under --isa rv32ia the mul traps; stepping back before it and on again, it
    traps again: a checkpoint does not bring M back."""
    program = tmp_path / "mul.S"
    program.write_text(SKIPPED_MUL)
    commands = ("catch trap illegal\ncontinue\nreverse-step\ninfo registers misa\nstep\n"
                "continue\ninfo registers a2\n")
    out = debug(tmp_path, program, commands, "--isa", "rv32ia")
    assert in_order(out, "caught trap: illegal instruction", "mul\ta2,a0,a1", "tval 0x02b50633",
                    "<handler>", "(back in time)", "=> 0x80000014 <_start+0x14>",
                    "misa = 0x40140101", "caught trap: illegal instruction", "tval 0x02b50633",
                    "The program exited with status 0", "a2   0x00000000")
    out = debug(tmp_path, program, "catch trap illegal\ncontinue\ninfo registers a2\n")
    assert "caught trap" not in out
    assert in_order(out, "The program exited with status 0", "a2   0x0000002a")


def test_a_missing_script_or_program_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["debug", str(TRAPS), "-x", str(tmp_path / "none")])
    assert result.exit_code != 0 and "cannot read" in result.output
    result = CliRunner().invoke(main, ["debug", str(tmp_path / "none.elf"), "--batch"])
    assert result.exit_code != 0 and "no such file" in result.output


# ---- the REPL driven through StringIO

def repl_for(source: Path, commands: str):
    session = session_for(source)
    out = io.StringIO()
    repl = Repl(session, stdin=io.StringIO(commands), stdout=out)
    repl.cmdloop()
    return out.getvalue()


def test_enter_repeats_the_last_command_and_aliases_work():
    out = repl_for(TRAPS, "s\n\n\nrs\nquit\n")
    pcs = [line.split("=> ")[1].split()[0] for line in out.splitlines() if "=> " in line]
    assert pcs == ["0x80000004", "0x80000008", "0x8000000c", "0x80000008"]


def test_completion_of_commands_symbols_csrs_and_causes():
    repl = Repl(session_for(TRAPS), stdin=io.StringIO(), stdout=io.StringIO())
    assert "reverse-continue" in repl.completenames("rev")
    assert {"break", "b"} <= set(repl.completenames("b"))
    assert repl.complete_break("trap_h", "break trap_h", 6, 12) == ["trap_handler"]
    assert repl.complete_csr("mst", "csr mst", 4, 7) == ["mstatus", "mstatush"]
    assert "illegal-instruction" in repl.complete_catch("ill", "catch trap ill", 11, 14)
    assert repl.complete_catch("in", "catch in", 6, 8) == ["interrupt"]


# ---- reverse execution: exactly the state it left

def full_state(session: Session):
    core = session.core
    return ([core.x[i] for i in range(32)], core.pc, int(core.priv), core.steps,
            {name: core.csr_read(number) for name, number in CSRS.items()},
            bytes(core.ram), core.mtimecmp)


@pytest.mark.parametrize("source", [TRAPS, TIMER, PAGING], ids=lambda p: p.stem)
def test_reverse_step_restores_registers_csrs_and_memory_exactly(source):
    session = session_for(source, checkpoint_every=300, memory_budget=200_000)
    rng = random.Random(source.stem)
    checked = 0
    while not session.ended and checked < 40:
        session.step(rng.randint(1, 400))
        if session.ended:
            break
        before = full_state(session)
        n = rng.randint(1, 300)
        session.step(n)
        went = session.steps - before[3]
        if went == 0:
            continue
        session.reverse_step(went)
        assert full_state(session) == before, f"after {n} steps and back"
        checked += 1
    assert checked >= 10
    # The budget kept memory bounded by merging the oldest checkpoints: the first
    # one moved forward in time, and at most one checkpoint's worth is over budget.
    timeline = session.timeline
    assert timeline.first > 0
    assert timeline.size <= 200_000 + max(c.size for c in timeline.checkpoints)


def test_reverse_step_over_a_caught_trap_and_then_forward_again_is_the_same_run():
    session = session_for(TRAPS, checkpoint_every=500)
    session.catch_add(False, frozenset({2}))
    event = session.cont()
    assert event.why is Why.CAUGHT and event.trap.cause == 2
    at_catch = full_state(session)
    session.step(50)
    after = full_state(session)
    session.reverse_step(50)
    assert full_state(session) == at_catch
    session.step(50)
    assert full_state(session) == after
    back = session.reverse_continue()
    assert back.why is Why.CAUGHT and full_state(session)[1] == at_catch[1]
    assert full_state(session) == at_catch


def test_reverse_continue_finds_the_last_breakpoint_and_watchpoint():
    session = session_for(TRAPS, checkpoint_every=200)
    bp = session.break_add(session.symbols["uart_putc"])
    first = session.cont()
    assert first.why is Why.BREAKPOINT
    state = full_state(session)
    session.cont()
    session.delete(bp.number)
    session.break_add(session.symbols["uart_putc"])
    session.reverse_continue()
    assert full_state(session) == state
    session.delete_all()
    wp = session.watch_add(session.symbols["stack_top"] - 16, 4, __import__("emu.core").core.Watch.WRITE)
    hit = session.cont()
    assert hit.why is Why.WATCH
    hit_state = full_state(session)
    session.step(30)
    back = session.reverse_continue()
    assert back.why is Why.WATCH and full_state(session) == hit_state
    assert wp.number in session.watchpoints


def test_reverse_needs_a_recording():
    session = session_for(TRAPS, reverse=False)
    session.step(3)
    with pytest.raises(DebugError, match="reverse execution is off"):
        session.reverse_step()


def test_a_caught_sbi_call_stops_before_the_firmware_and_step_shows_what_it_did(tmp_path):
    out = debug(tmp_path, HELLO_SBI, "catch trap ecall\ncontinue\nstep\nstep\nrs 2\n"
                                     "info trap\n", "--boot", "s")
    assert in_order(out, "caught trap: environment call from S-mode",
                    "S-mode -> the host (SBI firmware)", "epc  0x8000002c <_start+0x2c>:  "
                    "00000073  ecall", "=> 0x8000002c <_start+0x2c> [S]",
                    "Hello from an S-mode kernel",
                    "the SBI firmware (M-mode, in the host) handled the trap",
                    "=> 0x80000030 <_start+0x30> [S]", "changed: a0 0x39 -> 0x0*, a1 0x80000090 "
                    "-> 0x39*", "=> 0x80000034", "(back in time)", "=> 0x8000002c",
                    "No trap has been taken yet.")
    assert out.count("Hello from an S-mode kernel") == 1     # the past is not printed again
