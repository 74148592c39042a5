"""`emu gdbserver`: real gdb-multiarch in batch mode against the stub (attach, break
on a symbol, continue, step, registers, CSRs, memory, watchpoints, monitor
commands, traps as signals), and the protocol's bad days: garbage, bad checksums,
disconnects, a port in use."""
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import main
from emu.debug.gdbstub import CSR_BASE, CSR_ORDER, GdbServer, checksum, target_xml
from emu.debug.session import Session
from emu.elf import load_elf
from emu.errors import EmuError
from emu.machine import Machine
from emu.platform import Console
from tests.conftest import emu_env
from tests.gnu import build

REPO = Path(__file__).resolve().parent.parent
TRAPS = REPO / "programs" / "traps" / "traps.S"
GDB = "gdb-multiarch"


class _Out:
    def __init__(self):
        self.data = bytearray()

    def write(self, data):
        self.data += data
        return len(data)

    def flush(self):
        pass


@pytest.fixture
def traps_elf(tmp_path, binutils):
    return build(TRAPS, tmp_path / "traps.elf")


class Served:
    """A stub on a free port, serving in a thread."""

    def __init__(self, elf: Path):
        self.out = _Out()
        machine = Machine(16 << 20, Console(self.out, b""))
        machine.load(load_elf(elf))
        self.session = Session(machine)
        self.server = GdbServer(self.session, 0)
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            self.server.serve()
        except BaseException as error:     # the test fails on any escape
            self.error = error
        finally:
            self.server.close()

    def finished(self, timeout=10.0) -> bool:
        self.thread.join(timeout)
        return not self.thread.is_alive() and self.error is None


@pytest.fixture
def served(traps_elf):
    s = Served(traps_elf)
    yield s
    s.server.close()


def gdb(elf: Path, port: int, *commands: str) -> str:
    argv = [GDB, "-nx", "-batch", "-ex", "set confirm off", "-ex", f"file {elf}",
            "-ex", f"target remote 127.0.0.1:{port}"]
    for command in commands:
        argv += ["-ex", command]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def test_gdb_attaches_breaks_steps_and_reads_registers_csrs_and_memory(served, traps_elf):
    out = gdb(traps_elf, served.server.port,
              "info registers pc",
              "break at_ecall",
              "continue",
              "info registers pc",
              "p/x $a1",
              "stepi",
              "p/x $pc",
              "info registers mtvec mstatus",
              "p/x $mepc",
              "p/x $mcause",
              "p $priv",
              "x/2xw at_ecall",
              "x/s &text_done",
              "set var $a2 = 0x1234",
              "p/x $a2",
              "set {int}&stack = 0x5a5a5a5a",
              "x/xw &stack",
              "kill")
    assert "0x80000000 in _start" in out or "_start ()" in out
    assert "Breakpoint 1 at 0x80000058" in out
    assert "Breakpoint 1, " in out and "at_ecall" in out
    assert "$1 = 0x80000058" in out                  # a1 = the announced address
    # gdb steps with a breakpoint after the instruction: the whole trap went by.
    assert "$2 = 0x8000005c" in out
    assert "mtvec          0x8000018c" in out
    assert "mstatus        0x80" in out
    assert "$3 = 0x8000005c" in out and "$4 = 0xb" in out  # the handler moved mepc on
    assert "$5 = 3" in out                           # M-mode
    assert "0x80000058 <at_ecall>:\t0x00000073\t0x00000517" in out
    assert '"traps: done\\n"' in out
    assert "$6 = 0x1234" in out
    assert "0x5a5a5a5a" in out
    assert served.finished()


def test_gdb_watchpoints_and_monitor_catch_trap(served, traps_elf):
    out = gdb(traps_elf, served.server.port,
              "monitor catch trap illegal",
              "monitor help",
              "continue",
              "p/x $pc",
              "p/x $mepc",
              "monitor info trap",
              "monitor traps",
              "watch *(int *)0x800016c8",     # t0's slot in the handler's frame
              "continue",
              "p/x $pc",
              "delete",
              "monitor delete 1",
              "monitor frobnicate",
              "rwatch *(int *)&text_done",
              "continue",
              "kill")
    assert "Catchpoint 1: trap illegal instruction" in out
    assert "emu: caught trap: illegal instruction (cause 0x2), tval 0x0, epc 0x80000074" in out
    assert "Program received signal SIGILL" in out
    assert "$1 = 0x8000018c" in out and "$2 = 0x80000074" in out
    assert "The last trap, at step" in out and "M->M  illegal instruction" in out
    assert "Hardware watchpoint 1: *(int *)0x800016c8" in out
    assert "Old value = 0" in out and "New value = 268435456" in out   # t0 = the UART base
    assert "$3 = 0x80000198" in out          # the instruction after `sw t0,72(sp)`
    assert "Hardware read watchpoint 2" in out and "Value = 1885434484" in out  # "trap"
    assert "uart_puts ()" in out
    assert "error: unknown command 'frobnicate'" in out
    assert served.finished()


def test_gdb_sees_signals_for_faults_and_the_exit(tmp_path, binutils):
    elf = build(REPO / "programs" / "paging" / "paging.S", tmp_path / "paging.elf")
    s = Served(elf)
    out = gdb(elf, s.server.port, "monitor catch trap page-fault", "continue",
              "p/x $mtval", "monitor delete", "continue")
    assert "Program received signal SIGSEGV" in out
    assert "emu: caught trap: load page fault" in out and "U-mode -> M-mode" in out
    assert "$1 = 0x80000000" in out
    assert "exited normally" in out
    assert s.finished()


def test_the_target_description_names_the_core_registers_and_csrs():
    xml = target_xml()
    assert "<architecture>riscv:rv32</architecture>" in xml
    assert 'org.gnu.gdb.riscv.cpu' in xml and 'org.gnu.gdb.riscv.csr' in xml
    assert '<reg name="pc" bitsize="32" type="code_ptr" regnum="32"/>' in xml
    assert '<reg name="mstatus"' in xml and '<reg name="satp"' in xml
    assert xml.count("<reg ") == 33 + len(__import__("emu.isa").isa.CSRS) + 1


# ---- the raw protocol

def packet(text: str) -> bytes:
    return f"${text}#{checksum(text.encode()):02x}".encode()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def read_reply(sock: socket.socket) -> str:
    data = b""
    while not (b"#" in data and len(data) >= data.index(b"#") + 3):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    data = data.lstrip(b"+-")
    body = data[data.index(b"$") + 1:data.index(b"#")]
    sock.sendall(b"+")
    return body.decode()


def test_garbage_and_bad_checksums_are_answered_and_survived(served):
    sock = connect(served.server.port)
    sock.sendall(b"hello, this is not a packet\x00\xff")
    sock.sendall(b"$g#00")                       # a bad checksum
    assert sock.recv(1) == b"-"
    sock.sendall(b"$g#zz")                       # not even hex
    assert sock.recv(1) == b"-"
    sock.sendall(packet("?"))
    assert read_reply(sock) == "S05"
    sock.sendall(packet("m80000000,4"))
    assert read_reply(sock) == "17110000"
    sock.sendall(packet("m10,4"))                # unreadable memory
    assert read_reply(sock) == "E14"
    sock.sendall(packet("p1ff"))                 # no such register
    assert read_reply(sock) == "E45"
    sock.sendall(packet("Z0,zz,4"))              # nonsense arguments
    assert read_reply(sock).startswith("E")
    sock.sendall(packet("qNoSuchThing"))         # unknown: the empty reply
    assert read_reply(sock) == ""
    body = b"X80001000,3:}\x03}\x04}]"          # '#', '$', '}' escaped in binary data
    sock.sendall(b"$" + body + b"#" + f"{checksum(body):02x}".encode())
    assert read_reply(sock) == "OK"
    sock.sendall(packet("m80001000,3"))
    assert read_reply(sock) == "23247d"
    mscratch = CSR_BASE + CSR_ORDER.index("mscratch")
    sock.sendall(packet(f"P{mscratch:x}=44332211"))
    assert read_reply(sock) == "OK"
    sock.sendall(packet(f"p{mscratch:x}"))
    assert read_reply(sock) == "44332211"
    assert served.session.csr("mscratch") == 0x11223344
    sock.sendall(packet("vCont;s:1"))
    assert read_reply(sock).startswith("T0520:04000080;")
    sock.sendall(packet("D"))
    assert read_reply(sock) == "OK"
    sock.close()
    assert served.finished()


def test_a_disconnect_in_the_middle_of_a_packet_ends_the_server_quietly(served):
    sock = connect(served.server.port)
    sock.sendall(b"$m8000")
    sock.close()
    assert served.finished()


def test_gdbs_interrupt_stops_a_running_program(tmp_path, asm):
    elf = asm("""
        .globl _start
        _start: j _start
    """)
    s = Served(elf)
    sock = connect(s.server.port)
    sock.sendall(packet("c"))
    time.sleep(0.3)
    sock.sendall(b"\x03")
    reply = read_reply(sock)
    assert reply.startswith("T02")
    sock.sendall(packet("k"))
    sock.close()
    assert s.finished()


def test_a_port_in_use_is_a_clear_error(traps_elf):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        result = CliRunner().invoke(main, ["gdbserver", "--port", str(port), str(traps_elf)])
        assert result.exit_code != 0
        assert f"port {port} is in use" in result.output
        assert "Traceback" not in result.output
        machine = Machine(1 << 20, Console(_Out(), b""))
        machine.load(load_elf(traps_elf))
        with pytest.raises(EmuError, match="in use"):
            GdbServer(Session(machine, reverse=False), port)
    finally:
        busy.close()


def test_the_command_serves_gdb_and_ends_when_gdb_detaches(traps_elf):
    process = subprocess.Popen([sys.executable, "-m", "emu", "gdbserver", "--port", "0",
                                str(traps_elf)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=REPO, env=emu_env())
    try:
        line = process.stderr.readline()
        assert "waiting for gdb on 127.0.0.1:" in line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        out = gdb(traps_elf, port, "break at_ebreak", "continue", "detach")
        assert "Breakpoint 1, " in out and "at_ebreak" in out
        assert process.wait(timeout=20) == 0
        assert "-- ebreak at 0x800000ac" in process.stdout.read()
    finally:
        process.kill()
