"""The debugger's command line (`emu debug`): cmd.Cmd with pdb's and gdb's names and
short aliases, over a Session (emu/debug/session.py).

It reads from stdin and writes to stdout given to it, so tests drive it with
StringIO (as py65's monitor tests do). Enter repeats the last command; tab
completes commands, symbols, CSR names and trap causes; colour only when asked
(the CLI asks on a terminal, never in --batch)."""
from __future__ import annotations

import cmd
import os
from pathlib import Path
from typing import TextIO

from emu.core import Access, Priv, Watch
from emu.debug.session import (CAUSE_ALIASES, CAUSE_SLUGS, KEY_CSRS, DebugError, Event,
                               Session, Trap, Why, parse_causes, pte_flags)
from emu.disasm import disassemble
from emu.errors import EmuError
from emu.isa import CSRS, INTERRUPT_BIT, REGISTERS, cause_name
from emu.isa.instructions import ABI_NAMES

PRIV = {0: "U", 1: "S", 3: "M"}

# Short names and other spellings, as py65's monitor keeps them: one table.
SHORTCUTS = {
    "s": "step", "si": "step", "stepi": "step", "n": "step", "next": "step",
    "c": "continue", "cont": "continue",
    "u": "until", "advance": "until",
    "b": "break", "br": "break", "tb": "tbreak",
    "d": "delete",
    "i": "info", "registers": "regs",
    "disassemble": "disas",
    "rs": "reverse_step", "reverse-step": "reverse_step", "rsi": "reverse_step",
    "reverse-stepi": "reverse_step",
    "rc": "reverse_continue", "reverse-continue": "reverse_continue",
    "q": "quit", "exit": "quit",
    "h": "help",
}

INFO_TOPICS = ("registers", "breakpoints", "watchpoints", "trap", "guests")
MSTATUS_FIELDS = (("SIE", 1, 1), ("MIE", 3, 1), ("SPIE", 5, 1), ("MPIE", 7, 1), ("SPP", 8, 1),
                  ("MPP", 11, 2), ("MPRV", 17, 1), ("SUM", 18, 1), ("MXR", 19, 1),
                  ("TVM", 20, 1), ("TW", 21, 1), ("TSR", 22, 1))
SSTATUS_FIELDS = ("SIE", "SPIE", "SPP", "SUM", "MXR")
IRQ_BITS = (("SSI", 1), ("MSI", 3), ("STI", 5), ("MTI", 7), ("SEI", 9), ("MEI", 11))


class Style:
    def __init__(self, color: bool):
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def changed(self, text: str) -> str:
        return self._wrap("1;33", text) if self.color else text + "*"

    def head(self, text: str) -> str:
        return self._wrap("1;36", text)

    def bad(self, text: str) -> str:
        return self._wrap("1;31", text)


class Repl(cmd.Cmd):
    prompt = "(emu) "
    identchars = cmd.Cmd.identchars + "-"
    doc_header = "Commands (help COMMAND for more; short forms in brackets):"

    def __init__(self, session: Session, stdin: TextIO | None = None,
                 stdout: TextIO | None = None, color: bool = False,
                 history_file: Path | None = None):
        super().__init__(stdin=stdin, stdout=stdout)
        if stdin is not None:
            self.use_rawinput = False
        self.session = session
        self.style = Style(color)
        self.history_file = history_file
        self._x_format = ("x", "w")
        self._x_next: int | None = None
        self.quitting = False

    # ---- plumbing

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def parseline(self, line):
        command, arg, line = super().parseline(line)
        if command in SHORTCUTS:
            command = SHORTCUTS[command]
        elif command and "-" in command and not hasattr(self, "do_" + command):
            command = command.replace("-", "_")
        return command, arg, line

    def onecmd(self, line: str) -> bool:
        try:
            return bool(super().onecmd(line))
        except DebugError as error:
            self.say(f"error: {error}")
        except EmuError as error:
            self.say(f"error: {error}")
        except KeyboardInterrupt:
            self.say("interrupted")
        except Exception as error:     # a bug in the debugger must not end the session
            self.say(f"internal error: {type(error).__name__}: {error}")
        return False

    def default(self, line: str) -> None:
        word = line.split()[0] if line.split() else line
        self.say(f"error: unknown command {word!r}: `help` lists the commands")

    def emptyline(self) -> bool:
        if self.lastcmd:
            return self.onecmd(self.lastcmd)
        return False

    def preloop(self) -> None:
        try:
            import readline
        except ImportError:     # pragma: no cover - every Linux Python has it
            return
        readline.set_completer_delims(" \t\n")
        if self.history_file and self.history_file.exists():
            try:
                readline.read_history_file(self.history_file)
            except OSError:
                pass

    def postloop(self) -> None:
        if not self.history_file:
            return
        try:
            import readline
            readline.set_history_length(1000)
            readline.write_history_file(self.history_file)
        except (ImportError, OSError):
            pass

    def run_script(self, lines) -> bool:
        """Commands from a file (-x): blank lines and # comments are skipped, not
        repeated. Returns True when one of them was quit."""
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if self.onecmd(line):
                return True
        return False

    def completenames(self, text, *ignored):
        names = super().completenames(text, *ignored)
        return sorted(set(names + [s for s in SHORTCUTS if s.startswith(text)]))

    def _complete_address(self, text, *ignored):
        words = list(self.session.symbols) + ["$pc", *(f"${r}" for r in ABI_NAMES)]
        return sorted(w for w in words if w.startswith(text))

    complete_break = complete_tbreak = complete_until = complete_x = complete_disas = \
        complete_watch = complete_rwatch = complete_awatch = complete_pt = _complete_address

    def complete_csr(self, text, *ignored):
        return sorted(n for n in CSRS if n.startswith(text))

    def complete_catch(self, text, line, begidx, endidx):
        words = line[:begidx].split()
        if len(words) <= 1:
            return [w for w in ("trap", "interrupt") if w.startswith(text)]
        return sorted(w for w in list(CAUSE_SLUGS) + list(CAUSE_ALIASES) if w.startswith(text))

    def complete_info(self, text, *ignored):
        return [t for t in INFO_TOPICS if t.startswith(text)]

    # ---- showing where we are

    def banner(self) -> None:
        s = self.session
        program = s.machine.program
        self.say(f"emu debugger: {program.path if program else 'a machine'}, stopped at "
                 f"{s.symbolize(s.pc)} in {s.priv.name}-mode before its first instruction. "
                 "`help` lists the commands.")
        self.say(self._where())

    def _where(self) -> str:
        s = self.session
        return f"=> {s.symbolize(s.pc)} [{s.priv.name}]:  {s.disassemble(s.pc)}"

    def _trap_lines(self, trap: Trap, indent: str = "  ") -> list[str]:
        s = self.session
        kind = "interrupt" if trap.is_interrupt else "exception"
        to = "the host (SBI firmware)" if trap.handler == 0 else \
            f"{PRIV.get(trap.to_priv, '?')}-mode"
        lines = [f"{indent}{kind} {trap.cause & ~INTERRUPT_BIT}: {trap.name}, "
                 f"{PRIV.get(trap.from_priv, '?')}-mode -> {to}"]
        lines.append(f"{indent}epc  {s.symbolize(trap.epc)}"
                     + ("" if trap.is_interrupt else f":  {self._insn_text(trap)}"))
        lines.append(f"{indent}tval {trap.tval:#010x}")
        if trap.handler:
            lines.append(f"{indent}handler {s.symbolize(trap.handler)}")
        return lines

    def _insn_text(self, trap: Trap) -> str:
        if trap.cause in (1, 12) or (trap.cause == 0 and trap.insn == 0):
            return "(the instruction could not be fetched)" if trap.cause in (1, 12) else \
                self.session.disassemble(trap.epc)
        return f"{trap.insn:08x}  {disassemble(trap.insn, trap.epc, self.session.labels)}"

    def context(self, event: Event) -> None:
        """What every stop prints: why, the traps on the way, where, what changed."""
        s, st = self.session, self.style
        why = event.why
        if why is Why.BREAKPOINT:
            number = f" {event.breakpoint}" if event.breakpoint else ""
            self.say(st.head(f"Breakpoint{number}, {s.symbolize(s.pc)}"))
        elif why is Why.CAUGHT and event.trap:
            t = event.trap
            number = f" {event.breakpoint}" if event.breakpoint else ""
            self.say(st.head(f"Catchpoint{number}: caught "
                             f"{'interrupt' if t.is_interrupt else 'trap'}: {t.name}"))
            for line in self._trap_lines(t):
                self.say(line)
        elif why is Why.INTERRUPT_TAKEN and event.trap:
            self.say(st.head(f"Interrupt taken: {event.trap.name}"))
            for line in self._trap_lines(event.trap):
                self.say(line)
        elif why is Why.WATCH and event.watch:
            self._watch_context(event)
        elif why is Why.WATCH:
            self.say(st.head("Watchpoint: back at the access"))
        elif why is Why.EXIT:
            self.say(st.head(f"The program exited with status {event.status}"
                             + (f" ({event.message})" if event.message else "") + "."))
            return
        elif why is Why.CRASH:
            self.say(st.bad(f"The program crashed: {event.message}"))
            return
        elif why is Why.FINISH:
            self.say(st.head("Returned from the trap handler (xRET)"))
        elif why is Why.UNTIL:
            self.say(f"Reached {s.symbolize(s.pc)}")
        elif why is Why.INTERRUPTED:
            self.say(st.head("Interrupted."))
        elif why is Why.LIMIT:
            self.say("finish: gave up, no xRET after many instructions")
        elif why is Why.REVERSE:
            self.say(f"(back in time) at step {s.steps}")
        elif why is Why.STEP and event.message:
            self.say(event.message)
        elif why is Why.REVERSE_START:
            self.say(f"(back in time) {event.message or 'at the start of the recording'}, "
                     f"step {s.steps}")
        if event.traps and why is not Why.CAUGHT:
            if len(event.traps) <= 3:
                for trap in event.traps:
                    to = "the host" if trap.handler == 0 else f"{PRIV.get(trap.to_priv)}-mode"
                    self.say(f"-- trap taken: {trap.name} at {s.symbolize(trap.epc)} "
                             f"({PRIV.get(trap.from_priv)}-mode -> {to}), tval {trap.tval:#x}")
            else:
                self.say(f"-- {len(event.traps)} traps taken on the way (`history` lists them)")
        self.say(self._where())
        self._changes()

    def _watch_context(self, event: Event) -> None:
        s, hit = self.session, event.watch
        wp = s.watchpoints.get(hit.number)
        what = f"{wp.command} {wp.vaddr:#010x} ({wp.length} bytes)" if wp else "watchpoint"
        self.say(self.style.head(f"Watchpoint {hit.number}: {what}"))
        verb = "store" if hit.is_write else "load"
        self.say(f"  {verb} of {hit.size} bytes at {hit.vaddr:#010x} (physical "
                 f"{hit.paddr:#010x}) by {s.symbolize(hit.pc)}:  {s.disassemble(hit.pc)}")
        if hit.is_write and hit.old is not None and hit.new is not None:
            self.say(f"  Old value = {_hexbytes(hit.old)}")
            self.say(f"  New value = {_hexbytes(hit.new)}")
        elif hit.new is not None:
            self.say(f"  Value = {_hexbytes(hit.new)}")

    def _changes(self) -> None:
        s, st = self.session, self.style
        parts = [f"{name} {old:#x} -> {st.changed(f'{new:#x}')}"
                 for name, (old, new) in {**s.changed_regs, **s.changed_csrs}.items()]
        if parts:
            self.say("   changed: " + ", ".join(parts))

    # ---- running

    def _count(self, arg: str, default: int = 1) -> int:
        arg = arg.strip()
        if not arg:
            return default
        try:
            return int(arg, 0)
        except ValueError:
            raise DebugError(f"expected a count, not {arg!r}") from None

    def do_step(self, arg):
        """step [N]  [s, si, stepi]: execute N instructions (1), stopping early at a
        breakpoint, watchpoint or caught trap. An interrupt that is due is taken
        first, and that alone is a step: it stops at the handler."""
        self.context(self.session.step(self._count(arg)))

    def do_continue(self, arg):
        """continue  [c]: run until a breakpoint, watchpoint, caught trap, or the end."""
        self.context(self.session.cont())

    def do_until(self, arg):
        """until ADDR  [u, advance]: continue to ADDR (or an earlier stop)."""
        if not arg.strip():
            raise DebugError("until needs an address: until ADDR|SYMBOL|SYMBOL+OFF")
        self.context(self.session.until(self.session.address(arg)))

    def do_finish(self, arg):
        """finish: run until the trap handler now running returns with xRET (MRET
        from an M-mode handler, SRET from S), counting nested traps."""
        self.context(self.session.finish())

    def do_reverse_step(self, arg):
        """reverse-step [N]  [rs]: go back N instructions (1), to the state before
        they executed: registers, CSRs and memory, exactly."""
        self.context(self.session.reverse_step(self._count(arg)))

    def do_reverse_continue(self, arg):
        """reverse-continue  [rc]: go back to the last breakpoint, watchpoint or
        caught trap before now (or the start of the recording)."""
        self.context(self.session.reverse_continue())

    # ---- breakpoints and friends

    def do_break(self, arg):
        """break ADDR|SYMBOL|SYMBOL+OFF  [b]: stop before the instruction there."""
        if not arg.strip():
            raise DebugError("break needs an address: break ADDR|SYMBOL|SYMBOL+OFF")
        s = self.session
        bp = s.break_add(s.address(arg))
        self.say(f"Breakpoint {bp.number} at {s.symbolize(bp.addr)}")

    def do_tbreak(self, arg):
        """tbreak ADDR: a breakpoint that is deleted when it is hit."""
        if not arg.strip():
            raise DebugError("tbreak needs an address")
        s = self.session
        bp = s.break_add(s.address(arg), temporary=True)
        self.say(f"Temporary breakpoint {bp.number} at {s.symbolize(bp.addr)}")

    def do_delete(self, arg):
        """delete [N...]  [d]: delete breakpoints, watchpoints, catchpoints by number
        (all of them without a number)."""
        if not arg.strip():
            self.session.delete_all()
            self.say("Deleted every breakpoint, watchpoint and catchpoint.")
            return
        for word in arg.split():
            try:
                number = int(word)
            except ValueError:
                raise DebugError(f"expected a breakpoint number, not {word!r}") from None
            self.say(f"Deleted {self.session.delete(number)}.")

    def _watch(self, arg: str, kind: Watch, name: str) -> None:
        words = arg.split()
        if not 1 <= len(words) <= 2:
            raise DebugError(f"usage: {name} ADDR [LEN]")
        s = self.session
        addr = s.address(words[0])
        length = self._count(words[1] if len(words) > 1 else "", 4)
        wp = s.watch_add(addr, length, kind)
        where = "" if wp.paddr == wp.vaddr else f" (physical {wp.paddr:#010x})"
        label = {Watch.WRITE: "Hardware watchpoint", Watch.READ: "Hardware read watchpoint",
                 Watch.ACCESS: "Hardware access (read/write) watchpoint"}[kind]
        self.say(f"{label} {wp.number}: {s.symbolize(addr)}, {length} bytes{where}")

    def do_watch(self, arg):
        """watch ADDR [LEN]: stop after a store touches LEN bytes (4) at ADDR. ADDR is
        virtual, translated now in the current context; the watch is on the physical
        bytes it names."""
        self._watch(arg, Watch.WRITE, "watch")

    def do_rwatch(self, arg):
        """rwatch ADDR [LEN]: stop after a load from LEN bytes (4) at ADDR."""
        self._watch(arg, Watch.READ, "rwatch")

    def do_awatch(self, arg):
        """awatch ADDR [LEN]: stop after a load or store touching LEN bytes at ADDR."""
        self._watch(arg, Watch.ACCESS, "awatch")

    def do_catch(self, arg):
        """catch trap [CAUSE...] | catch interrupt [CAUSE...]: stop the moment a trap
        is taken, before the handler's first instruction. CAUSE: a number, a name
        (illegal-instruction, load-page-fault, machine-timer-interrupt...), a unique
        prefix, or ecall, page-fault, access-fault, misaligned, timer, software.
        No cause: every exception (or interrupt). `catch` alone lists catchpoints."""
        words = arg.split()
        if not words:
            self._list_points(catch_only=True)
            return
        kind, causes = words[0], words[1:]
        if kind not in ("trap", "interrupt", "exception"):
            raise DebugError(f"catch what? `catch trap [CAUSE...]` or `catch interrupt "
                             f"[CAUSE...]`, not {kind!r}" +
                             (" (`catch exit` is for hv mode)" if kind == "exit" else ""))
        interrupts = kind == "interrupt"
        cp = self.session.catch_add(interrupts, parse_causes(causes, interrupts))
        self.say(f"Catchpoint {cp.number}: {cp.description}")

    def _list_points(self, catch_only: bool = False) -> None:
        s = self.session
        rows = []
        if not catch_only:
            for bp in s.breakpoints.values():
                rows.append((bp.number, "tbreakpoint" if bp.temporary else "breakpoint",
                             s.symbolize(bp.addr), bp.hits))
            for wp in s.watchpoints.values():
                where = f"{wp.vaddr:#010x} len {wp.length}" + \
                    ("" if wp.paddr == wp.vaddr else f" (phys {wp.paddr:#010x})")
                rows.append((wp.number, wp.command, where, wp.hits))
        for cp in s.catchpoints.values():
            rows.append((cp.number, "catchpoint", cp.description, cp.hits))
        if not rows:
            self.say("No breakpoints, watchpoints or catchpoints." if not catch_only
                     else "No catchpoints.")
            return
        self.say("Num  Type          Where                                Hits")
        for number, kind, where, hits in sorted(rows):
            self.say(f"{number:<4} {kind:<13} {where:<36} {hits}")

    # ---- state

    def do_regs(self, arg):
        """regs [REG...]  [info registers]: the registers; those changed since the
        last stop are highlighted (marked * without colour)."""
        s = self.session
        if arg.split():
            for name in arg.split():
                self._show_one(name.lstrip("$"))
            return
        self.say(f"pc   {s.symbolize(s.pc)}   priv {s.priv.name}   step {s.steps}")
        regs = s.registers()
        cells = []
        for i, name in enumerate(ABI_NAMES):
            text = f"{regs[i]:#010x}"
            if name in s.changed_regs:
                text = self.style.changed(text)
            else:
                text += " " if not self.style.color else ""
            cells.append(f"{name:>4} {text}")
        for row in range(0, 32, 4):
            self.say("  ".join(cells[row:row + 4]))

    def _show_one(self, name: str) -> None:
        s = self.session
        if name == "pc":
            self.say(f"pc   {s.symbolize(s.pc)}")
        elif name == "priv":
            self.say(f"priv {s.priv.name}")
        elif name in REGISTERS:
            value = s.core.x[REGISTERS[name]]
            self.say(f"{name:<4} {value:#010x}  {_signed(value)}")
        elif name in CSRS:
            self._show_csr(name)
        else:
            raise DebugError(f"no register or CSR named {name!r}")

    def do_csr(self, arg):
        """csr [NAME [VALUE]]: the trap CSRs (changed ones highlighted), or one CSR
        with its fields decoded; with VALUE, write it."""
        words = arg.split()
        s = self.session
        if not words:
            for name in KEY_CSRS:
                value = s.csr(name)
                text = f"{value:#010x}"
                if name in s.changed_csrs:
                    text = self.style.changed(text)
                self.say(f"{name:<9} {text}  {self._decode(name, value)}".rstrip())
            return
        name = words[0].lstrip("$")
        if name not in CSRS:
            import difflib
            close = difflib.get_close_matches(name, list(CSRS), n=1)
            raise DebugError(f"no CSR named {name!r}" + (f" (did you mean {close[0]}?)"
                                                          if close else ""))
        if len(words) > 1:
            s.set_csr(name, self._count(words[1]))
        self._show_csr(name)

    def _show_csr(self, name: str) -> None:
        value = self.session.csr(name)
        self.say(f"{name} = {value:#010x}  {self._decode(name, value)}".rstrip())

    def _decode(self, name: str, value: int) -> str:
        if name in ("mstatus", "sstatus"):
            fields = []
            for field, bit, width in MSTATUS_FIELDS:
                if name == "sstatus" and field not in SSTATUS_FIELDS:
                    continue
                v = (value >> bit) & ((1 << width) - 1)
                if field == "MPP":
                    fields.append(f"MPP={PRIV.get(v, v)}")
                elif field == "SPP":
                    fields.append(f"SPP={'S' if v else 'U'}")
                elif v:
                    fields.append(field)
            return "[" + " ".join(fields) + "]"
        if name in ("mcause", "scause"):
            return f"({cause_name(value)})" if value else ""
        if name in ("mie", "mip", "sie", "sip", "mideleg"):
            bits = " ".join(n for n, bit in IRQ_BITS if value >> bit & 1)
            return f"[{bits}]" if bits else ""
        if name in ("mtvec", "stvec"):
            mode = "vectored" if value & 1 else "direct"
            return f"(base {self.session.symbolize(value & ~3)}, {mode})"
        if name in ("mepc", "sepc"):
            where = self.session.symbolize(value)
            return f"<{where.split('<', 1)[1]}" if "<" in where else ""
        if name == "satp":
            return f"(Sv32, root table {(value & 0x3F_FFFF) << 12:#x})" if value >> 31 \
                else "(Bare: no translation)"
        if name == "medeleg":
            causes = ", ".join(cause_name(c) for c in range(16) if value >> c & 1)
            return f"[{causes}]" if causes else ""
        return ""

    def do_info(self, arg):
        """info registers|breakpoints|watchpoints|trap|guests: as gdb's."""
        words = arg.split()
        if not words:
            raise DebugError("info what? " + ", ".join(INFO_TOPICS))
        topic, rest = words[0], " ".join(words[1:])
        matches = [t for t in INFO_TOPICS if t.startswith(topic)] if topic != "b" else \
            ["breakpoints"]
        if topic in ("reg", "r"):
            matches = ["registers"]
        if len(matches) != 1:
            raise DebugError(f"info {topic}? one of: " + ", ".join(INFO_TOPICS))
        topic = matches[0]
        if topic == "registers":
            self.do_regs(rest)
        elif topic in ("breakpoints", "watchpoints"):
            self._list_points()
        elif topic == "trap":
            self._info_trap()
        else:
            self.say("No guests: this is a bare machine (`emu hv --debug` debugs guests).")

    def _info_trap(self) -> None:
        s = self.session
        trap = s.last_trap or (s.trap_history()[-1] if s.trap_history() else None)
        if trap is None:
            self.say("No trap has been taken yet.")
            return
        self.say(f"The last trap, at step {trap.steps}:")
        for line in self._trap_lines(trap):
            self.say(line)
        level = "m" if trap.to_priv == Priv.M else "s"
        if trap.handler:
            now = ", ".join(f"{level}{n} {s.csr(level + n):#010x}"
                            for n in ("cause", "epc", "tval"))
            self.say(f"  now: {now}")

    def do_history(self, arg):
        """history [N]: the last N traps (10), oldest first, with the instruction
        count at which each was taken."""
        count = self._count(arg, 10)
        s = self.session
        traps = s.trap_history()[-count:] if count > 0 else []
        if not traps:
            self.say("No traps yet.")
            return
        for trap in traps:
            to = "host" if trap.handler == 0 else PRIV.get(trap.to_priv, "?")
            self.say(f"  step {trap.steps:>10}  {PRIV.get(trap.from_priv, '?')}->{to}  "
                     f"{trap.name:<32} epc {s.symbolize(trap.epc)}  tval {trap.tval:#x}")

    # ---- memory

    def do_x(self, arg):
        """x/NFU ADDR [--phys]: examine memory as gdb does. N: how many; F: x (hex),
        d, u, c, s (string), i (instruction); U: b, h, w. ADDR is virtual in the
        current context, or physical with --phys."""
        words = arg.split()
        physical = "--phys" in words
        words = [w for w in words if w != "--phys"]
        fmt = ""
        if words and words[0].startswith("/"):
            fmt = words.pop(0)[1:]
        s = self.session
        if words:
            addr = s.address(" ".join(words))
        elif self._x_next is not None:
            addr = self._x_next
        else:
            raise DebugError("x needs an address: x/4xw ADDR")
        digits = "".join(c for c in fmt if c.isdigit())
        letters = fmt[len(digits):] if fmt.startswith(digits) else None
        if letters is None or any(c not in "xducsibhwa" for c in letters):
            raise DebugError(f"bad format /{fmt}: /N then a format (x d u c s i) and a "
                             "size (b h w)")
        count = int(digits) if digits else 1
        form, size = self._x_format
        for c in letters:
            if c in "bhw":
                size = c
            else:
                form = c
        self._x_format = (form, size)
        if form == "i":
            self._x_next = self._disas(addr, count, physical)
            return
        if form == "s":
            for _ in range(count):
                data = bytearray()
                start = addr
                while len(data) < 4096:
                    byte = s.read(addr, 1, physical)[0]
                    addr += 1
                    if byte == 0:
                        break
                    data.append(byte)
                self.say(f"{s.symbolize(start)}:\t{_cstring(bytes(data))}")
            self._x_next = addr
            return
        width = {"b": 1, "h": 2, "w": 4}[size]
        data = s.read(addr, count * width, physical)
        per_line = {1: 8, 2: 8, 4: 4}[width]
        for row in range(0, count, per_line):
            cells = []
            for i in range(row, min(row + per_line, count)):
                value = int.from_bytes(data[i * width:(i + 1) * width], "little")
                cells.append(_format(value, form, width))
            self.say(f"{s.symbolize(addr + row * width)}:\t" + "\t".join(cells))
        self._x_next = addr + count * width

    def do_disas(self, arg):
        """disas [ADDR] [N]  [disassemble]: N instructions (8) from ADDR (pc)."""
        words = arg.split()
        s = self.session
        addr = s.address(words[0]) if words else s.pc
        count = self._count(words[1] if len(words) > 1 else "", 8)
        self._disas(addr, count, False)

    def _disas(self, addr: int, count: int, physical: bool) -> int:
        s = self.session
        for _ in range(count):
            word = int.from_bytes(s.read(addr, 4, physical, access=Access.FETCH), "little")
            label = s.labels.get(addr)
            if label:
                self.say(f"{label}:")
            mark = "=>" if addr == s.pc and not physical else "  "
            self.say(f"{mark} {s.symbolize(addr)}:\t{word:08x}  "
                     f"{disassemble(word, addr, s.labels)}")
            addr += 4
        return addr

    def do_pt(self, arg):
        """pt [VA]: walk the current Sv32 page table for VA, level by level; without
        VA, list every mapping."""
        s = self.session
        satp = s.csr("satp")
        note = "" if s.priv != Priv.M else \
            "  (the hart is in M-mode, which does not translate unless mstatus.MPRV)"
        if not arg.strip():
            if not satp >> 31:
                self.say(f"satp = {satp:#010x}: Bare, no translation{note}")
                return
            self.say(f"satp = {satp:#010x}: Sv32, root table at "
                     f"{(satp & 0x3F_FFFF) << 12:#010x}{note}")
            maps = s.mappings()
            if not maps:
                self.say("  no valid mappings")
            for va, pa, size, pte in maps:
                self.say(f"  va {va:#010x}-{va + size - 1:#010x} -> pa {pa:#010x}  "
                         f"{'4M' if size > 4096 else '4K'}  {pte_flags(pte)}")
            return
        va = s.address(arg)
        levels, pa, what = s.walk(va)
        self.say(f"va {va:#010x}: VPN[1] {va >> 22:#x}, VPN[0] {(va >> 12) & 0x3FF:#x}, "
                 f"offset {va & 0xFFF:#x}{note}")
        if levels or satp >> 31:
            self.say(f"  satp {satp:#010x}: root table at {(satp & 0x3F_FFFF) << 12:#010x}")
        for lv in levels:
            kind = "leaf" if lv.pte & 0b1110 else ("pointer" if lv.pte & 1 else "invalid")
            self.say(f"  level {lv.level}: table {lv.table:#010x}[{lv.index}] at "
                     f"{lv.address:#010x} = {lv.pte:#010x}  {pte_flags(lv.pte)}  {kind}"
                     + (f" -> table {(lv.pte >> 10) << 12:#010x}" if kind == "pointer" else ""))
        self.say(f"  -> pa {pa:#010x} ({what})" if pa is not None else f"  -> {what}")

    def do_help(self, arg):
        """help [COMMAND]: the commands, or one in full."""
        name = arg.strip()
        if name:
            name = SHORTCUTS.get(name, name).replace("-", "_")
            method = getattr(self, "do_" + name, None)
            if method is None or not method.__doc__:
                raise DebugError(f"no command {arg.strip()!r}: `help` lists them")
            self.say(" ".join(method.__doc__.split()))
            return
        self.say("Commands (help COMMAND for one in full):")
        for attr in sorted(a for a in dir(self) if a.startswith("do_") and a != "do_EOF"):
            doc = (getattr(self, attr).__doc__ or "").strip().split(":")[0]
            self.say(f"  {' '.join(doc.split())}")
        self.say("Enter repeats the last command; tab completes; Ctrl-D leaves.")

    # ---- the end

    def do_quit(self, arg):
        """quit  [q]: leave the debugger."""
        self.quitting = True
        return True

    def do_EOF(self, arg):
        """Ctrl-D leaves the debugger."""
        self.say("")
        return self.do_quit(arg)


def _signed(value: int) -> int:
    return value - (1 << 32) if value & 0x8000_0000 else value


def _hexbytes(data: bytes) -> str:
    if len(data) in (1, 2, 4):
        return f"{int.from_bytes(data, 'little'):#0{2 + 2 * len(data)}x}"
    return data.hex(" ")


def _cstring(data: bytes) -> str:
    text = "".join(chr(b) if 32 <= b < 127 and b != 34 and b != 92 else
                   {10: "\\n", 9: "\\t", 13: "\\r", 34: '\\"', 92: "\\\\"}.get(b, f"\\{b:03o}")
                   for b in data)
    return f'"{text}"'


def _format(value: int, form: str, width: int) -> str:
    bits = 8 * width
    if form == "d":
        return str(value - (1 << bits) if value >> (bits - 1) else value)
    if form == "u":
        return str(value)
    if form == "c":
        return f"{value} {_cstring(bytes([value & 0xFF]))}"
    return f"{value:#0{2 + 2 * width}x}"


def history_path() -> Path | None:
    home = os.environ.get("HOME")
    return Path(home) / ".emu_debug_history" if home else None

