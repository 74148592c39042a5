"""The GDB remote serial protocol (gdb's manual, appendix E "GDB Remote Serial
Protocol"), so that gdb-multiarch debugs a program with `target remote :PORT`.

One connection on 127.0.0.1; the program waits halted at its entry until gdb
continues it (as QEMU's -S -gdb does), and the server ends when gdb detaches,
kills the program or goes away. Garbage, bad checksums and broken packets are
answered (`-`, an error or an empty reply) and never end the server.

Registers, as the target description (qXfer:features:read) numbers them: x0-x31
are 0-31 and pc 32 (org.gnu.gdb.riscv.cpu, what the g packet holds), then every
CSR of the subset (org.gnu.gdb.riscv.csr) and the privilege level
(org.gnu.gdb.riscv.virtual), read and written with p and P. Memory (m, M, X) is
virtual, in the hart's current context. Stops caused by traps are reported with a
signal (SIGILL for an illegal instruction, SIGSEGV for page and access faults,
SIGBUS for misaligned ones, SIGTRAP for the rest and for breakpoints, SIGALRM for
timer interrupts), a `cause:` field in the stop reply, and a console line (an O
packet) naming the cause, tval and epc. A watchpoint is reported with the hart
just before the accessing instruction (reverse-stepped back one), because gdb
treats RISC-V watchpoints as triggering before the access and steps over it.

Under the hypervisor (`emu hv --gdb`) each guest is a thread, numbered from 1 in
the order the guests were given (qfThreadInfo, qThreadExtraInfo with its name
and state, Hg/Hc to pick one, T to ask whether it is alive); registers and memory
are the picked guest's (guest-virtual), stop replies name the guest that
stopped (`thread:N;`), and `monitor guest NAME` moves the focus too. A guest
that has stopped is a thread that exited (qfThreadInfo leaves it out, T says
no): gdb single-steps RISC-V by continuing to a breakpoint after the
instruction, so a stepi on an ended guest would silently run the others. The
watchpoint rule above holds too: the hypervisor goes back as well."""
from __future__ import annotations

import io
import select
import socket

from emu.core import Watch
from emu.debug.session import DebugError, Event, Session, Why
from emu.errors import EmuError
from emu.hv.hypervisor import GuestState
from emu.isa import CSRS, INTERRUPT_BIT
from emu.isa.instructions import ABI_NAMES

SIGINT, SIGILL, SIGTRAP, SIGBUS, SIGSEGV, SIGALRM = 2, 4, 5, 10, 11, 14   # gdb's numbering
MAX_PACKET = 1 << 16
PRIV = {0: "U", 1: "S", 3: "M"}
INTERRUPT = 0x03

CSR_ORDER = sorted(CSRS, key=CSRS.get)
PC_REGNUM = 32
CSR_BASE = 33
PRIV_REGNUM = CSR_BASE + len(CSR_ORDER)
RUNNING_COMMANDS = {"step", "s", "si", "stepi", "continue", "c", "cont", "until", "u", "advance",
                    "finish", "reverse-step", "rs", "reverse-continue", "rc", "quit", "q"}


def signal_for(cause: int) -> int:
    if cause & INTERRUPT_BIT:
        return SIGALRM if cause & ~INTERRUPT_BIT in (5, 7) else SIGINT
    if cause == 2:
        return SIGILL
    if cause in (1, 5, 7, 12, 13, 15):
        return SIGSEGV
    if cause in (0, 4, 6):
        return SIGBUS
    return SIGTRAP


def target_xml() -> str:
    regs = [f'<reg name="{name}" bitsize="32" type="{"code_ptr" if name == "ra" else "data_ptr" if name == "sp" else "int"}" regnum="{i}"/>'
            for i, name in enumerate(ABI_NAMES)]
    regs.append(f'<reg name="pc" bitsize="32" type="code_ptr" regnum="{PC_REGNUM}"/>')
    csrs = [f'<reg name="{name}" bitsize="32" type="int" regnum="{CSR_BASE + i}" group="csr"/>'
            for i, name in enumerate(CSR_ORDER)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n'
            '<target version="1.0">\n<architecture>riscv:rv32</architecture>\n'
            '<feature name="org.gnu.gdb.riscv.cpu">\n' + "\n".join(regs) + '\n</feature>\n'
            '<feature name="org.gnu.gdb.riscv.csr">\n' + "\n".join(csrs) + '\n</feature>\n'
            '<feature name="org.gnu.gdb.riscv.virtual">\n'
            f'<reg name="priv" bitsize="32" type="int" regnum="{PRIV_REGNUM}"/>\n'
            '</feature>\n</target>\n')


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def escape(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b in b"#$}*":
            out += bytes([0x7D, b ^ 0x20])
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    out, it = bytearray(), iter(data)
    for b in it:
        out.append(next(it, 0) ^ 0x20 if b == 0x7D else b)
    return bytes(out)


def le_hex(value: int) -> str:
    return (value & 0xFFFF_FFFF).to_bytes(4, "little").hex()


class GdbServer:
    def __init__(self, session: Session, port: int = 1234, host: str = "127.0.0.1"):
        self.session = session
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.listener.bind((host, port))
        except OSError as error:
            self.listener.close()
            if error.errno in (98, 48):     # EADDRINUSE on Linux, macOS
                raise EmuError(f"port {port} is in use: pick another with --port "
                               "(or --port 0 for any free one)") from None
            raise EmuError(f"cannot listen on {host}:{port}: {error.strerror}") from None
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None
        self.buffer = bytearray()
        self.interrupted = False
        self.done = False
        self.last_event: Event | None = None
        self.breaks: dict[int, int] = {}                   # addr -> breakpoint number
        self.watches: dict[tuple[int, int, Watch], int] = {}

    def close(self) -> None:
        for s in (self.conn, self.listener):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass

    # ---- the connection

    def serve(self) -> None:
        """Take one connection and serve it until gdb detaches, kills or leaves."""
        self.conn, _ = self.listener.accept()
        self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while not self.done:
            packet = self._read_packet()
            if packet is None:
                break
            try:
                reply = self.handle(packet)
            except (DebugError, EmuError):
                reply = "E01"
            except Exception:       # a bug must not take the server down with gdb's session
                reply = "E02"
            if reply is not None:
                self._send(reply)

    def _recv(self) -> bool:
        try:
            data = self.conn.recv(4096)
        except OSError:
            data = b""
        if not data:
            self.done = True
            return False
        self.buffer += data
        return True

    def _read_packet(self) -> str | None:
        """The next well-formed packet's payload; acks, garbage and interrupts
        outside packets are dropped, a bad checksum is answered with `-`."""
        while not self.done:
            start = self.buffer.find(b"$")
            if start < 0:
                self.buffer.clear()
                if not self._recv():
                    return None
                continue
            del self.buffer[:start]
            end = self.buffer.find(b"#")
            if end < 0 or len(self.buffer) < end + 3:
                if len(self.buffer) > MAX_PACKET:
                    self.buffer.clear()
                    self._raw(b"-")
                elif not self._recv():
                    return None
                continue
            body, sent = bytes(self.buffer[1:end]), bytes(self.buffer[end + 1:end + 3])
            del self.buffer[:end + 3]
            try:
                good = int(sent, 16) == checksum(body)
            except ValueError:
                good = False
            if not good:
                self._raw(b"-")
                continue
            self._raw(b"+")
            return unescape(body).decode("latin-1")
        return None

    def _raw(self, data: bytes) -> None:
        try:
            self.conn.sendall(data)
        except OSError:
            self.done = True

    def _send(self, payload: str | bytes) -> None:
        data = escape(payload.encode("latin-1") if isinstance(payload, str) else payload)
        self._raw(b"$" + data + b"#" + f"{checksum(data):02x}".encode())
        # Wait for gdb's ack; a `-` asks for the packet again (at most a few times).
        for _ in range(3):
            ack = self._wait_ack()
            if ack != b"-":
                return
            self._raw(b"$" + data + b"#" + f"{checksum(data):02x}".encode())

    def _wait_ack(self) -> bytes | None:
        while not self.done:
            for i, b in enumerate(self.buffer):
                if b in b"+-":
                    del self.buffer[:i + 1]
                    return bytes([b])
                if b == ord("$"):
                    return None     # a packet instead of an ack: no-ack mode, or lost
            self.buffer.clear()
            ready = select.select([self.conn], [], [], 2.0)[0]
            if not ready or not self._recv():
                return None
        return None

    def _console(self, text: str) -> None:
        self._send("O" + text.encode().hex())

    def _poll_interrupt(self) -> bool:
        """Between slices of a continue: has gdb sent Ctrl-C (or gone away)?"""
        if select.select([self.conn], [], [], 0)[0]:
            if not self._recv():
                return True
            if INTERRUPT in self.buffer:
                self.buffer = bytearray(b for b in self.buffer if b != INTERRUPT)
                return True
        return False

    # ---- packets

    def handle(self, packet: str) -> str | None:
        s = self.session
        if not packet:
            return ""
        head = packet[0]
        if packet.startswith("qSupported"):
            return f"PacketSize={MAX_PACKET:x};qXfer:features:read+;swbreak+;hwbreak+;" \
                   "vContSupported+"
        if packet.startswith("qXfer:features:read:"):
            return self._xfer(packet[len("qXfer:features:read:"):])
        if packet == "?":
            if self.last_event is None and not self.session.hv:
                return "S05"
            return self._stop_reply(self.last_event or Event(Why.START))
        if packet.startswith("qRcmd,"):
            return self._monitor(bytes.fromhex(packet[6:]).decode(errors="replace"))
        if packet in ("qAttached",):
            return "1"
        if packet == "qC":
            return f"QC{self._thread():x}"
        if packet == "qfThreadInfo":
            return "m" + ",".join(f"{i:x}" for i in self._threads(live=True))
        if packet == "qsThreadInfo":
            return "l"
        if packet.startswith("qThreadExtraInfo,"):
            return self._thread_info(int(packet.split(",")[1], 16)).encode().hex()
        if packet.startswith("qSymbol"):
            return "OK"
        if packet == "vCont?":
            return "vCont;c;C;s;S"
        if packet.startswith("vCont;"):
            action, _, thread = packet[6:].split(";")[0].partition(":")
            if thread and action[0].lower() == "s":
                self._select(thread)
            return self._resume(action[0].lower() == "s")
        if packet.startswith("vMustReplyEmpty") or packet.startswith("v"):
            return ""
        if head == "H" and len(packet) > 2:
            return self._select(packet[2:])
        if head == "T":
            return "OK" if int(packet[1:], 16) in self._threads(live=True) else "E01"
        if head == "h":
            return "OK"
        if head == "g":
            return "".join(le_hex(v) for v in s.registers()) + le_hex(s.pc)
        if head == "G":
            data = bytes.fromhex(packet[1:])
            for i in range(min(33, len(data) // 4)):
                s.set_register(i, int.from_bytes(data[4 * i:4 * i + 4], "little"))
            return "OK"
        if head == "p":
            return self._get_reg(int(packet[1:], 16))
        if head == "P":
            number, value = packet[1:].split("=")
            return self._set_reg(int(number, 16), int.from_bytes(bytes.fromhex(value), "little"))
        if head == "m":
            addr, length = (int(v, 16) for v in packet[1:].split(","))
            try:
                return s.read(addr, min(length, MAX_PACKET // 2 - 16)).hex()
            except DebugError:
                return "E14"
        if head in "MX":
            where, _, data = packet[1:].partition(":")
            addr, length = (int(v, 16) for v in where.split(","))
            raw = bytes.fromhex(data) if head == "M" else data.encode("latin-1")
            try:
                s.write(addr, raw[:length])
            except DebugError:
                return "E14"
            return "OK"
        if head in "cs":
            if len(packet) > 1:
                s.set_register(PC_REGNUM, int(packet[1:], 16))
            return self._resume(head == "s")
        if head in "CS":
            return self._resume(head == "S")
        if head in "Zz":
            return self._point(head == "Z", packet[1:])
        if head == "D":
            self.done = True
            return "OK"
        if head == "k":
            self.done = True
            return None
        return ""

    def _xfer(self, rest: str) -> str:
        annex, _, span = rest.partition(":")
        if annex != "target.xml":
            return "E00"
        offset, length = (int(v, 16) for v in span.split(","))
        xml = target_xml()
        chunk = xml[offset:offset + length]
        return ("m" if offset + length < len(xml) else "l") + chunk

    def _get_reg(self, number: int) -> str:
        s = self.session
        if number < 32:
            return le_hex(s.registers()[number])
        if number == PC_REGNUM:
            return le_hex(s.pc)
        if CSR_BASE <= number < PRIV_REGNUM:
            return le_hex(s.csr(CSR_ORDER[number - CSR_BASE]))
        if number == PRIV_REGNUM:
            return le_hex(int(s.priv))
        return "E45"

    def _set_reg(self, number: int, value: int) -> str:
        s = self.session
        if number <= PC_REGNUM:
            s.set_register(number, value)
        elif CSR_BASE <= number < PRIV_REGNUM:
            s.set_csr(CSR_ORDER[number - CSR_BASE], value)
        elif number == PRIV_REGNUM:
            s.set_priv(value)
        else:
            return "E45"
        return "OK"

    def _point(self, insert: bool, spec: str) -> str:
        kind, addr, size = spec.split(",")[:3]
        addr, size = int(addr, 16), int(size, 16)
        s = self.session
        if kind in ("0", "1"):
            if insert:
                if addr not in self.breaks:
                    self.breaks[addr] = s.break_add(addr).number
            elif addr in self.breaks:
                s.delete(self.breaks.pop(addr))
            return "OK"
        watch = {"2": Watch.WRITE, "3": Watch.READ, "4": Watch.ACCESS}.get(kind)
        if watch is None:
            return ""
        key = (addr, size, watch)
        if insert:
            if key not in self.watches:
                self.watches[key] = s.watch_add(addr, size, watch).number
        elif key in self.watches:
            s.delete(self.watches.pop(key))
        return "OK"

    # ---- threads: the hypervisor's guests (a bare machine is thread 1)

    def _threads(self, live: bool = False) -> list[int]:
        """The threads; live: without the guests that have stopped, which gdb sees
        as threads that exited (so that it never tries to run one)."""
        hv = self.session.hv
        if not hv:
            return [1]
        return [hv.guest_id(g) for g in hv.hv.guests
                if not live or g.state is not GuestState.STOPPED]

    def _thread(self) -> int:
        hv = self.session.hv
        return hv.guest_id(hv.focus) if hv else 1

    def _thread_info(self, number: int) -> str:
        hv = self.session.hv
        if not hv:
            return "the hart"
        guest = hv.guest_by_id(number)
        return f"{guest.name} ({hv.state(guest)}, virtual {guest.hart.priv.name}-mode)"

    def _select(self, thread: str) -> str:
        """Hg/Hc N, vCont's thread: -1 (all) and 0 (any) keep the focus."""
        number = int(thread, 16) if thread != "-1" else -1
        if number in (-1, 0):
            return "OK"
        if number not in self._threads():
            return "E01"
        if self.session.hv:
            self.session.hv.set_focus(self.session.hv.guest_by_id(number))
        return "OK"

    def _resume(self, step: bool) -> str | None:
        s = self.session
        if s.ended:
            return self._stop_reply(s.ended)
        stepping = s.hv.focus.name if step and s.hv else None
        event = s.step(1) if step else s.cont(self._poll_interrupt)
        while event.why is Why.GUEST_END and not self.done:
            # gdb has no use for a stop at a thread's end: say it, and go on (the
            # step, if the guest stepped is not the one that ended).
            self._console(f"emu: guest {event.guest} {event.message}\n")
            if step and stepping != event.guest:
                s.hv.set_focus(s.hv.guest(stepping))
                event = s.step(1)
            else:
                event = s.cont(self._poll_interrupt)
        if self.done:
            return None
        if event.why is Why.WATCH and event.watch and s.reversible:
            # gdb treats RISC-V watchpoints as triggering before the access (it then
            # steps over the instruction itself, and compares the values): go back
            # to just before it.
            watch = event.watch
            s.reverse_step(1)
            event = Event(Why.WATCH, watch=watch)
        self.last_event = event
        if event.why is Why.CAUGHT and event.trap:
            t = event.trap
            self._console(f"emu: caught {'interrupt' if t.is_interrupt else 'trap'}: "
                          f"{t.name} (cause {t.cause:#x}), tval {t.tval:#x}, epc {t.epc:#010x}, "
                          f"{PRIV.get(t.from_priv, '?')}-mode -> {PRIV.get(t.to_priv, '?')}-mode\n")
        elif event.why is Why.CRASH:
            self._console(f"emu: the program crashed: {event.message}\n")
        return self._stop_reply(event)

    def _stop_reply(self, event: Event) -> str:
        s = self.session
        if event.why is Why.EXIT:
            return f"W{event.status & 0xFF:02x}"
        pc = f"{PC_REGNUM:02x}:{le_hex(s.pc)};"
        if s.hv:
            pc += f"thread:{self._thread():x};"
        if event.why is Why.CAUGHT and event.exit:
            e = event.exit
            self._console(f"emu: [{e.guest}] caught exit: {e.reason} at {e.pc:#010x} (cause "
                          f"{e.cause:#x}, tval {e.tval:#x}); the hypervisor handles it when "
                          "the guest goes on\n")
            return f"T{signal_for(e.cause):02x}{pc}"
        if event.why is Why.CAUGHT and event.trap:
            return f"T{signal_for(event.trap.cause):02x}{pc}cause:{event.trap.cause:x};"
        if event.why is Why.WATCH and event.watch:
            wp = s.watchpoints.get(event.watch.number)
            kind = {Watch.WRITE: "watch", Watch.READ: "rwatch"}.get(wp.kind, "awatch") \
                if wp else "watch"
            addr = wp.vaddr if wp else event.watch.vaddr
            return f"T{SIGTRAP:02x}{pc}{kind}:{addr:x};"
        if event.why is Why.BREAKPOINT:
            return f"T{SIGTRAP:02x}{pc}swbreak:;"
        if event.why is Why.INTERRUPTED:
            return f"T{SIGINT:02x}{pc}"
        if event.why is Why.CRASH:
            return f"T{SIGSEGV:02x}{pc}"
        if event.why is Why.INTERRUPT_TAKEN and event.trap:
            return f"T{SIGTRAP:02x}{pc}cause:{event.trap.cause:x};"
        return f"T{SIGTRAP:02x}{pc}"

    def _monitor(self, command: str) -> str:
        """monitor COMMAND: the REPL's commands that show or arm things (traps,
        catch trap CAUSE, history, info trap, csr, pt, x, regs...); running stays
        gdb's."""
        from emu.debug.repl import Repl
        words = command.split()
        if not words:
            self._console("monitor commands: traps, catch trap|interrupt [CAUSE...], info trap, "
                          "history [N], csr [NAME], pt [VA], x/NFU ADDR, regs, delete N\n")
            return "OK"
        if words[0] in RUNNING_COMMANDS:
            self._console(f"monitor {words[0]}: use gdb's own stepping commands\n")
            return "OK"
        if words[0] == "traps":
            command = "history " + " ".join(words[1:])
        out = io.StringIO()
        Repl(self.session, stdin=io.StringIO(), stdout=out).onecmd(command)
        text = out.getvalue() or "\n"
        for start in range(0, len(text), 512):
            self._console(text[start:start + 512])
        return "OK"
