"""`emu hv` on the command line: console prefixes, logs, statuses, statistics,
JSON, exit traces, input, a student's hypervisor class, and user errors as one
message without a traceback."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import main
from tests.hvkit import KERNEL

HELLO_LINES = textwrap.dedent("""
    la      a0, text
    li      a1, 14
    mv      t0, a1
    mv      a1, a0
    mv      a0, t0
    li      a2, 0
    li      a7, SBI_DBCN
    li      a6, 0
    ecall
    li      a7, 2                     # legacy getchar
    ecall
    li      t0, 0x10000000
    sb      a0, 0(t0)                 # echo it on the UART
    li      t1, 0x0A
    sb      t1, 0(t0)
    li      t1, 0x70                  # and a last line with no newline
    sb      t1, 0(t0)
    j       shutdown
    .data
text:
    .ascii  "one\\ntwo\\nthree\\n"
    .text
""")


@pytest.fixture
def guest_source(tmp_path):
    def write(name: str = "hello", main_code: str = HELLO_LINES) -> Path:
        path = tmp_path / f"{name}.S"
        path.write_text(KERNEL.replace("{main}", main_code).replace("{user}", "nop"))
        return path
    return write


def run(*args: str):
    return CliRunner().invoke(main, ["hv", *args])


def test_each_guest_line_is_prefixed_and_names_are_made_unique(guest_source, tmp_path):
    path = guest_source()
    result = run(str(path), str(path), "--input", "hello-2=Z", "--console-dir",
                 str(tmp_path / "logs"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "[hello] one" in lines and "[hello-2] three" in lines
    assert "[hello-2] Z" in lines and "[hello] p" in lines
    # no input for hello: getchar returned -1, whose low byte the guest echoed
    assert (tmp_path / "logs" / "hello-2.log").read_bytes() == b"one\ntwo\nthree\nZ\np"
    assert "[hello] shut down, status 0" in result.stderr


def test_stats_json_and_trace_exits(guest_source, tmp_path):
    path = guest_source()
    report = tmp_path / "report.json"
    result = run(str(path), "--stats", "--json", str(report), "--trace-exits")
    assert result.exit_code == 0, result.output
    assert "VM-EXIT" in result.stderr and "sbi call" in result.stderr
    assert "ecall" in result.stderr and "-> sbi call: sbi" in result.stderr
    assert "sb\ta0,0(t0)" in result.stderr           # the trace disassembles
    data = json.loads(report.read_text())
    guest = data["guests"][0]
    assert data["status"] == 0 and guest["name"] == "hello" and guest["stop"] == "shutdown"
    assert guest["exits"]["mmio"]["count"] == 3
    assert guest["native"] + guest["trapped"] == guest["instructions"]


def test_max_insns_and_a_crashed_guest_set_the_status(guest_source):
    spin = guest_source("spin", "1:  j 1b\n")
    hello = guest_source()
    result = run(str(spin), str(hello), "--max-insns", "100000", "--quantum", "1000")
    assert result.exit_code == 124
    assert "[hello] three" in result.stdout
    dead = guest_source("dead", "    wfi\n")
    result = run(str(dead), str(hello))
    assert result.exit_code == 125
    assert "WFI at pc" in result.stderr and "Traceback" not in result.output


def test_share_gives_a_guest_more_of_the_hart(guest_source, tmp_path):
    spin = guest_source("spin", "1:  j 1b\n")
    report = tmp_path / "r.json"
    result = run(str(spin), str(spin), "--share", "spin-2=3", "--quantum", "1000",
                 "--max-insns", "400000", "--json", str(report))
    assert result.exit_code == 124
    first, second = json.loads(report.read_text())["guests"]
    assert second["instructions"] == pytest.approx(3 * first["instructions"], rel=0.01)


def test_a_students_hypervisor_class(guest_source, tmp_path):
    module = tmp_path / "student_hv.py"
    module.write_text(textwrap.dedent("""
        from emu.hv import Hypervisor

        class Loud(Hypervisor):
            def on_ecall(self, guest, trap):
                guest.console_write(b"*")
                return super().on_ecall(guest, trap)
    """))
    result = run(str(guest_source()), "--hypervisor", f"{module}:Loud")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("[hello] *one")


@pytest.mark.parametrize("method, body", [
    ("enter_trap(self, guest, cause, tval, pc)", "return {}[cause]"),       # no handler's
    ("__init__(self, *args, **kwargs)", "raise ValueError('bad config')"),
])
def test_an_error_in_a_students_hypervisor_is_one_message_not_a_traceback(
        guest_source, tmp_path, method, body):
    module = tmp_path / "broken_hv.py"
    module.write_text(f"from emu.hv import Hypervisor\n\nclass Broken(Hypervisor):\n"
                      f"    def {method}:\n        {body}\n")
    result = run(str(guest_source("trapper", "    ebreak\n    j       shutdown\n")),
                 "--hypervisor", f"{module}:Broken")
    assert result.exit_code == 125
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"emu hv: the hypervisor {module}:Broken failed: ")
    assert line.endswith(f"(broken_hv.py, line 5, in {method.split('(')[0]})")
    assert "Traceback" not in result.output


def test_a_students_hypervisor_file_imports_its_neighbours(guest_source, tmp_path,
                                                         monkeypatch):
    # A lab's my_hv.py imports my_scheduler.py beside it, wherever emu is run from
    # (the `emu` script does not put the current directory on the path).
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "neighbour_scheduler_x", raising=False)
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "neighbour_scheduler_x.py").write_text(textwrap.dedent("""
        from emu.hv import RoundRobin

        class Backwards(RoundRobin):
            def pick(self, guests):
                return super().pick(list(reversed(guests)))
    """))
    (folder / "student_hv.py").write_text(textwrap.dedent("""
        from emu.hv import Hypervisor
        from neighbour_scheduler_x import Backwards

        class WithNeighbour(Hypervisor):
            scheduler_class = Backwards
    """))
    monkeypatch.chdir(tmp_path)
    result = run(str(guest_source("first")), str(guest_source("second")), "--hypervisor",
                 "student/student_hv.py:WithNeighbour")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("[second]")


@pytest.mark.parametrize("args, message", [
    (["missing.elf"], "no such file"),
    (["{guest}", "--mem", "12345"], "multiple of 4 KiB"),
    (["{guest}", "--share", "nobody=2"], "no guest is named 'nobody'"),
    (["{guest}", "--share", "hello=0"], "at least 1"),
    (["{guest}", "--input", "hello"], "NAME=VALUE"),
    (["{guest}", "--hypervisor", "nomodule"], "MODULE:CLASS"),
    (["{guest}", "--hypervisor", "emu.cli:main"], "subclasses emu.hv.Hypervisor"),
    (["{guest}", "--hypervisor", "no_such_module_x:Hv"], "cannot import"),
    (["{guest}", "--mem", "2G"], "host RAM"),
])
def test_user_errors_are_one_message(guest_source, args, message):
    path = str(guest_source())
    result = run(*[a.replace("{guest}", path) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
