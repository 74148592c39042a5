"""`emu run` through click's CliRunner and as a real process: output, statuses,
--json, --trace, --input, Ctrl-C, and every kind of bad input."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import STATUS_CRASH, STATUS_INTERRUPTED, STATUS_LIMIT, main
from tests.conftest import emu_env
from tests.gnu import AS, LD

HELLO = r"""
    .globl _start
    _start:
        la a0, msg
        li a1, 0x10000000
    1:  lbu a2, 0(a0)
        beqz a2, 2f
        sb a2, 0(a1)
        addi a0, a0, 1
        j 1b
    2:  li t0, 0x100000
        li t1, (3 << 16) | 0x3333
        sw t1, 0(t0)
    .data
    msg: .asciz "hello\n"
"""

LOOP = """
    .globl _start
    _start: j _start
"""


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


@pytest.fixture
def hello(asm):
    return asm(HELLO, "hello")


def test_run_prints_the_console_and_exits_with_the_programs_status(hello):
    result = invoke("run", hello)
    assert result.stdout == "hello\n"
    assert result.stderr == ""
    assert result.exit_code == 3


def test_json_summary(hello, tmp_path):
    summary = tmp_path / "out.json"
    result = invoke("run", hello, "--json", summary)
    data = json.loads(summary.read_text())
    assert result.exit_code == 3
    assert data["stop"] == "exit" and data["status"] == 3
    assert data["privilege"] == "M"
    assert data["registers"]["x0"] == 0 and data["registers"]["x6"] == (3 << 16) | 0x3333
    assert data["instructions"] == data["retired"] > 0


def test_trace_goes_to_stderr(hello):
    result = invoke("run", hello, "--trace")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("M 80000000: ")
    assert len(lines) > 20
    assert result.stdout == "hello\n"


def test_trace_disassembles_and_shows_interrupts_before_their_handler(asm):
    result = invoke("run", "--trace", asm("""
        .globl _start
        _start:
            la t0, handler
            csrw mtvec, t0
            li t0, 0x2004000           # mtimecmp = 20
            li t1, 20
            sw t1, 0(t0)
            sw zero, 4(t0)
            li t0, 1 << 7
            csrw mie, t0
            csrsi mstatus, 8
        1:  j 1b
        handler:
            li t0, 0x100000
            li t1, 0x5555
            sw t1, 0(t0)
    """))
    lines = result.stderr.splitlines()
    assert result.exit_code == 0
    assert "M 80000000: 00000297  auipc\tt0,0x0" == lines[0]
    assert "M 80000028: 0000006f  j\t80000028 <_start+0x28>" in lines
    at = lines.index("-- machine timer interrupt, to M-mode")
    assert lines[at + 1] == "M 8000002c: 001002b7  lui\tt0,0x100"


def test_run_assembles_a_source_file(tmp_path):
    source = tmp_path / "hello.S"
    source.write_text(HELLO)
    result = invoke("run", source)
    assert (result.exit_code, result.stdout) == (3, "hello\n")


def test_asm_and_disasm_commands(tmp_path):
    source = tmp_path / "hello.S"
    source.write_text(HELLO)
    assert invoke("asm", source, "-o", tmp_path / "hello.elf").exit_code == 0
    assert invoke("run", tmp_path / "hello.elf").stdout == "hello\n"
    listing = invoke("disasm", tmp_path / "hello.elf")
    assert listing.exit_code == 0 and "80000000 <_start>:" in listing.stdout


def test_bad_assembly_names_line_and_column(tmp_path):
    source = tmp_path / "bad.S"
    source.write_text("_start:\n    addi a0, a0\n")
    result = invoke("run", source)
    assert result.exit_code != 0
    assert "bad.S:2:" in result.stderr and "Traceback" not in result.stderr


def test_json_path_is_checked_before_the_run(hello, tmp_path):
    result = invoke("run", hello, "--json", tmp_path / "no" / "such" / "dir.json")
    assert_user_error(result, "--json")
    assert result.stdout == ""


def test_max_insns_has_its_own_status(asm):
    result = invoke("run", asm(LOOP), "--max-insns", 1000)
    assert result.exit_code == STATUS_LIMIT
    assert "1000 instructions" in result.stderr


def test_input_text_and_file(asm, tmp_path):
    echo = asm("""
        .globl _start
        _start:
            li a1, 0x10000000
        1:  lbu a2, 5(a1)
            andi a2, a2, 1
            beqz a2, 1b
            lbu a3, 0(a1)
            sb a3, 0(a1)
            li a4, '!'
            bne a3, a4, 1b
            li t0, 0x100000
            li t1, 0x5555
            sw t1, 0(t0)
    """)
    assert invoke("run", echo, "--input", "abc!").stdout == "abc!"
    (tmp_path / "in.txt").write_text("from a file!")
    assert invoke("run", echo, "--input", f"@{tmp_path / 'in.txt'}").stdout == "from a file!"
    assert invoke("run", echo, input="piped!").stdout == "piped!"


def test_crash_has_its_own_status(asm):
    result = invoke("run", asm("""
        .globl _start
        _start: csrw mtvec, zero
                ebreak
    """))
    assert result.exit_code == STATUS_CRASH
    assert "trap loop" in result.stderr


# ---- --isa: the M extension left out

# a2 = 6 * 7, then the test finisher stops with status a2.
MUL = r"""
    .globl _start
    _start:
        li a0, 6
        li a1, 7
        mul a2, a0, a1
        li t0, 0x100000
        slli t1, a2, 16
        li t2, 0x3333
        or t1, t1, t2
        sw t1, 0(t0)
"""


@pytest.fixture
def mul_source(tmp_path):
    path = tmp_path / "mul.S"
    path.write_text(MUL)
    return path


def test_mul_runs_under_the_default_isa_and_rv32ima(mul_source):
    assert invoke("run", mul_source).exit_code == 42
    assert invoke("run", "--isa", "rv32ima", mul_source).exit_code == 42


def test_mul_with_no_handler_crashes_under_rv32ia_and_says_why(mul_source, tmp_path):
    summary = tmp_path / "out.json"
    result = invoke("run", "--isa", "rv32ia", "--json", summary, mul_source)
    assert result.exit_code == STATUS_CRASH
    assert "trap loop" in result.stderr
    assert ("It began at pc 0x80000008: mul is an illegal instruction under --isa rv32ia, "
            "which has no M extension") in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    data = json.loads(summary.read_text())
    assert (data["isa"], data["stop"], data["status"]) == ("rv32ia", "crash", STATUS_CRASH)


def test_a_crash_that_did_not_begin_with_a_left_out_instruction_says_nothing_of_it(tmp_path):
    source = tmp_path / "ebreak.S"
    source.write_text(".globl _start\n_start: ebreak\n")
    result = invoke("run", "--isa", "rv32ia", source)
    assert result.exit_code == STATUS_CRASH and "trap loop" in result.stderr
    assert "It began" not in result.stderr


def test_the_isa_name_is_checked_by_click(mul_source):
    result = invoke("run", "--isa", "bogus", mul_source)
    assert result.exit_code == 2
    assert "Invalid value for '--isa'" in result.stderr and "rv32ia" in result.stderr
    assert invoke("run", "--isa", "RV32IA", mul_source).exit_code == STATUS_CRASH


@pytest.mark.parametrize("command", ["run", "debug", "gdbserver"])
def test_isa_is_an_option_of_run_debug_and_gdbserver(command):
    text = " ".join(invoke(command, "--help").stdout.split())
    assert ("--isa [rv32ima|rv32ia] The hart's ISA. rv32ima: the full subset; rv32ia: no M "
            "extension (multiply and divide instructions are illegal, misa.M is 0). "
            "[default: rv32ima]") in text


# ---- bad input: one clear message, a non-zero status, no traceback

def assert_user_error(result, *phrases):
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr


def test_missing_file(tmp_path):
    assert_user_error(invoke("run", tmp_path / "nope.elf"), "no such file")


def test_not_an_elf(tmp_path):
    path = tmp_path / "text.elf"
    path.write_text("just text")
    assert_user_error(invoke("run", path), "not an ELF file")


def test_truncated_elf(hello, tmp_path):
    path = tmp_path / "cut.elf"
    path.write_bytes(hello.read_bytes()[:60])
    assert_user_error(invoke("run", path), "damaged ELF")


def odd_build(tmp_path, source, as_flags, ld_flags=None):
    """Build with GNU tools and flags emu must refuse; ld_flags None: no link."""
    (tmp_path / "p.S").write_text(f".globl _start\n_start: {source}\n")
    subprocess.run([AS, *as_flags, "-o", tmp_path / "p.o", tmp_path / "p.S"], check=True)
    if ld_flags is None:
        return tmp_path / "p.o"
    subprocess.run([LD, *ld_flags, "-o", tmp_path / "p.elf", tmp_path / "p.o"], check=True)
    return tmp_path / "p.elf"


RV32 = ["-march=rv32ima", "-mabi=ilp32"]
LD32 = ["-m", "elf32lriscv"]


def test_64_bit_elf(tmp_path, binutils):
    elf = odd_build(tmp_path, "j _start", [], ["-Ttext=0x80000000"])
    assert_user_error(invoke("run", elf), "64-bit")


def test_elf_for_another_machine(hello, tmp_path):
    data = bytearray(hello.read_bytes())
    data[18:20] = (3).to_bytes(2, "little")           # e_machine = EM_386
    path = tmp_path / "x86.elf"
    path.write_bytes(bytes(data))
    assert_user_error(invoke("run", path), "not RISC-V")


def test_relocatable_object(tmp_path, binutils):
    assert_user_error(invoke("run", odd_build(tmp_path, "j _start", RV32)), "link it first")


def test_compressed_instructions_are_refused(tmp_path, binutils):
    elf = odd_build(tmp_path, "c.j _start", ["-march=rv32imac", "-mabi=ilp32"],
                    [*LD32, "-Ttext=0x80000000"])
    assert_user_error(invoke("run", elf), "compressed")


def test_segment_outside_ram(tmp_path, binutils):
    elf = odd_build(tmp_path, "j _start", RV32, [*LD32, "-Ttext=0x1000"])
    assert_user_error(invoke("run", elf), "outside RAM", "link it at 0x80000000")


def test_the_headers_gnu_ld_maps_below_ram_are_left_out_with_a_note(tmp_path, binutils):
    """ld -Ttext=0x80000000 without a script maps the ELF headers in the page below
    .text, outside RAM: QEMU runs such a file, and so does emu, without them."""
    elf = odd_build(tmp_path, "li t0, 0x10000000; li t1, 'k'; sb t1, 0(t0)\n"
                              "li t0, 0x100000; li t1, 0x5555; sw t1, 0(t0)\n1: j 1b",
                    RV32, [*LD32, "-Ttext=0x80000000"])
    result = invoke("run", elf)
    assert (result.exit_code, result.stdout) == (0, "k")
    assert result.stderr == (f"emu: note: {elf}: 0x7ffff000-0x80000000 holds only the ELF "
                             "headers, outside RAM: not loaded\n")
    # Code below RAM is another matter.
    elf = odd_build(tmp_path, "nop; nop; nop; j _start", RV32, [*LD32, "-Ttext=0x7ffffff8"])
    assert_user_error(invoke("run", elf), "outside RAM", "link it at 0x80000000")


def test_segment_beyond_a_small_ram(hello):
    assert_user_error(invoke("run", hello, "--mem", "4K"), "outside RAM", "--mem")


@pytest.mark.parametrize("args,phrase", [
    (["--mem", "lots"], "bad memory size"),
    (["--mem", "4097"], "multiple of 4 KiB"),
    (["--max-insns", "0"], "--max-insns"),
    (["--boot", "h"], "--boot"),
    (["--input", "@/nonexistent/file"], "cannot read"),
])
def test_bad_options(hello, args, phrase):
    assert_user_error(invoke("run", hello, *args), phrase)


def test_directory_as_program(tmp_path):
    assert_user_error(invoke("run", tmp_path), "")


# ---- as a real process

def emu_process(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "emu", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=emu_env(),
                            **kwargs)


def test_python_dash_m_and_the_console_script(hello):
    for argv in ([sys.executable, "-m", "emu"], [str(Path(sys.executable).parent / "emu")]):
        done = subprocess.run([*argv, "run", str(hello)], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, env=emu_env())
        assert (done.returncode, done.stdout, done.stderr) == (3, "hello\n", "")


def test_ctrl_c_stops_cleanly_with_a_summary(asm):
    process = emu_process("run", asm(LOOP), stdin=subprocess.DEVNULL)
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == STATUS_INTERRUPTED
    assert b"Traceback" not in err
    assert b"interrupted" in err and b"instructions" in err and b"pc 0x80000000" in err


def test_bad_input_as_a_process(tmp_path):
    done = subprocess.run([sys.executable, "-m", "emu", "run", str(tmp_path / "x.elf")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=emu_env())
    assert done.returncode == 1
    assert "no such file" in done.stderr and "Traceback" not in done.stderr


def test_help_lists_every_subcommand_with_its_short_help():
    result = invoke("--help")
    assert result.exit_code == 0
    lines = result.stdout.split("Commands:\n")[1].splitlines()
    listed = dict(line.split(None, 1) for line in lines if line.strip())
    assert sorted(listed) == ["asm", "debug", "disasm", "dtb", "gdbserver", "hv", "lab", "run"]
    for name, short in listed.items():
        first_words = " ".join(main.get_command(None, name).help.split()[:3])
        assert short.startswith(first_words), (name, short)


# Modules `emu run` of an ELF has no use for (the subcommands load lazily).
UNUSED_BY_RUN = ("emu.asm", "emu.disasm", "emu.hv", "emu.debug")
LOADED = f"""
import sys
from emu.cli import main
try:
    main(sys.argv[1:], prog_name="emu")
except SystemExit:
    pass
print(sorted({{name for name in sys.modules if name.startswith({UNUSED_BY_RUN})}}))
"""


def test_run_of_an_elf_loads_no_assembler_hypervisor_or_debugger(hello, tmp_path):
    def loaded(*args):
        done = subprocess.run([sys.executable, "-c", LOADED, *map(str, args)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              env=emu_env())
        return done.stdout.splitlines()[-1]
    assert loaded("run", hello) == "[]"
    source = tmp_path / "hello.S"
    source.write_text(HELLO)
    assert "emu.asm" in loaded("run", source)                # a source is assembled
    only_hv = loaded("hv", "--help")
    assert "'emu.hv'" in only_hv and "emu.debug" not in only_hv
