"""`emu debug` at a real terminal (a pseudo-terminal driven by pexpect): the prompt,
readline history (the up arrow), tab completion, Enter repeating the last
command, colour for changed registers, and the history file."""
import sys
from pathlib import Path

import pexpect

from tests.conftest import emu_env

REPO = Path(__file__).resolve().parent.parent
TRAPS = REPO / "programs" / "traps" / "traps.S"
PROMPT = r"\(emu\) "
UP = "\x1b[A"


def spawn(tmp_path):
    env = dict(emu_env(), HOME=str(tmp_path), TERM="xterm", INPUTRC="/dev/null")
    child = pexpect.spawn(sys.executable, ["-m", "emu", "debug", str(TRAPS)], cwd=str(REPO),
                          env=env, encoding="utf-8", timeout=20, dimensions=(50, 200))
    child.expect(PROMPT)
    return child


def test_prompt_history_completion_and_enter_repeats(tmp_path):
    child = spawn(tmp_path)
    assert "stopped at 0x80000000 <_start>" in child.before
    child.sendline("break at_ecall")
    child.expect("Breakpoint 1 at 0x80000058 <at_ecall>")
    child.expect(PROMPT)
    child.sendline("continue")
    child.expect(r"Breakpoint 1, 0x80000058 <at_ecall>")
    child.expect(PROMPT)
    child.sendline("step")
    child.expect(r"=> 0x8000018c <trap_handler>")
    child.expect(PROMPT)
    child.sendline("")                              # Enter: step again
    child.expect(r"=> 0x80000190 <trap_handler\+0x4>")
    # Colour on a terminal: the changed sp is highlighted.
    child.expect("sp 0x800016d0 -> \x1b\\[1;33m0x80001680\x1b\\[0m")
    child.expect(PROMPT)
    child.sendline("regs")
    child.expect(PROMPT)
    child.send(UP + UP + "\r")                      # the up arrow twice: `step`
    child.expect(r"=> 0x80000194 <trap_handler\+0x8>")
    child.expect(PROMPT)
    child.send("disas trap_ha\t 1\r")                # tab completes the symbol
    child.expect(r"trap_handler:\r\n=> 0x80000194|trap_handler:\r\n   0x8000018c")
    child.expect(PROMPT)
    child.send("cs\t mst\t\r")                      # commands and CSR names complete
    child.expect(r"mstatus = 0x00001800")
    child.expect(PROMPT)
    child.sendline("no-such-command")
    child.expect("error: unknown command 'no-such-command'")
    child.expect(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    history = (tmp_path / ".emu_debug_history").read_text().splitlines()
    assert history[:3] == ["break at_ecall", "continue", "step"] and history[-1] == "quit"


def test_ctrl_d_leaves_and_history_comes_back_next_time(tmp_path):
    (tmp_path / ".emu_debug_history").write_text("break at_ebreak\n")
    child = spawn(tmp_path)
    child.send(UP + "\r")
    child.expect("Breakpoint 1 at 0x800000ac <at_ebreak>")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_stops_a_running_program_and_at_the_prompt_is_harmless(tmp_path):
    loop = tmp_path / "loop.S"
    loop.write_text(".globl _start\n_start:\n    addi a0, a0, 1\n    j _start\n")
    env = dict(emu_env(), HOME=str(tmp_path), TERM="xterm", INPUTRC="/dev/null")
    child = pexpect.spawn(sys.executable, ["-m", "emu", "debug", str(loop)], cwd=str(REPO),
                          env=env, encoding="utf-8", timeout=20)
    child.expect(PROMPT)
    child.sendline("continue")
    child.expect("continue")
    import time
    time.sleep(0.5)
    child.sendintr()
    child.expect("Interrupted.")
    child.expect(PROMPT)
    child.sendintr()                                # at the prompt
    child.expect(PROMPT)
    child.sendline("reverse-step 2")
    child.expect(r"\(back in time\)")
    child.expect(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
