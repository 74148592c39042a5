"""The debugger's command line (`emu debug`): cmd.Cmd with pdb's and gdb's names and
short aliases, over a Session (emu/debug/session.py).

It reads from stdin and writes to stdout given to it, so tests drive it with
StringIO (as py65's monitor tests do). Enter repeats the last command; tab
completes commands, symbols, CSR names and trap causes; colour only when asked
(the CLI asks on a terminal, never in --batch).

Under the hypervisor (`emu hv --debug`) the same commands work on the guest in
focus, and a few more exist: `guest NAME`, `info guests`, `break GUEST:ADDR`,
`catch exit [REASON...]`; `csr` shows the real CSRs beside the guest's, `pt` the
three mappings, `history` the guest's exits."""
from __future__ import annotations

import cmd
import os
from pathlib import Path
from typing import TextIO

from emu.core import RAM_BASE, Access, Priv, Watch
from emu.debug.session import (CAUSE_ALIASES, CAUSE_SLUGS, KEY_CSRS, DebugError, Event,
                               Session, Trap, Why, parse_causes, pte_flags)
from emu.disasm import disassemble
from emu.errors import EmuError
from emu.hv.emulate import EXIT_REASONS
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
        self._shown_focus = session.hv.focus.name if session.hv else None

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
            return [w for w in ("trap", "interrupt", "exit") if w.startswith(text)]
        if words[1] == "exit":
            return sorted(w for w in EXIT_SLUGS if w.startswith(text))
        return sorted(w for w in list(CAUSE_SLUGS) + list(CAUSE_ALIASES) if w.startswith(text))

    def complete_guest(self, text, *ignored):
        hv = self.session.hv
        return sorted(g.name for g in hv.hv.guests if g.name.startswith(text)) if hv else []

    def complete_info(self, text, *ignored):
        return [t for t in INFO_TOPICS if t.startswith(text)]

    # ---- showing where we are

    def banner(self) -> None:
        s = self.session
        if s.hv:
            guests = ", ".join(f"{g.name} ({s.hv.guest_id(g)})" for g in s.hv.hv.guests)
            self.say(f"emu debugger: the hypervisor with guests {guests}; focus on "
                     f"{s.hv.focus.name}, stopped at {s.symbolize(s.pc)} in virtual "
                     f"{s.priv.name}-mode before its first instruction. `help` lists the "
                     "commands, `info guests` the guests.")
            self.say(self._where())
            return
        program = s.program
        self.say(f"emu debugger: {program.path if program else 'a machine'}, stopped at "
                 f"{s.symbolize(s.pc)} in {s.priv.name}-mode before its first instruction. "
                 "`help` lists the commands.")
        self.say(self._where())

    def _where(self) -> str:
        s = self.session
        guest = f"[{s.hv.focus.name}] " if s.hv else ""
        return f"=> {guest}{s.symbolize(s.pc)} [{s.priv.name}]:  {s.disassemble(s.pc)}"

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
        if s.hv and s.hv.focus.name != self._shown_focus:
            self._shown_focus = s.hv.focus.name
            self.say(f"[Switching to guest {s.hv.focus.name}]")
        if why is Why.CAUGHT and event.exit:
            number = f" {event.breakpoint}" if event.breakpoint else ""
            self.say(st.head(f"Catchpoint{number}: caught exit: {event.exit.reason}"))
            for line in self._exit_lines(event.exit):
                self.say(line)
        elif why is Why.GUEST_END:
            self.say(st.head(f"Guest {event.guest} {event.message}"))
        elif why is Why.EXIT and s.hv:
            self.say(st.head(f"The hypervisor ended: {event.message}"))
            return
        elif why is Why.BREAKPOINT:
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
        exits = [(g, r) for g, r in event.exits if not (why is Why.STEP and event.message)]
        if len(exits) <= 3:
            for name, record in exits:
                self.say(f"-- exit [{name}]: {self._record_text(record)}")
        else:
            self.say(f"-- {len(exits)} exits on the way (`history` lists the guest's)")
        self.say(self._where())
        self._changes()

    def _physical(self) -> str:
        """What a watchpoint's physical address is: the core's, which under the
        hypervisor is host physical (guest RAM sits elsewhere in the host's)."""
        return "host physical" if self.session.hv else "physical"

    def _watch_context(self, event: Event) -> None:
        s, hit = self.session, event.watch
        wp = s.watchpoints.get(hit.number)
        what = f"{wp.command} {wp.vaddr:#010x} ({wp.length} bytes)" if wp else "watchpoint"
        self.say(self.style.head(f"Watchpoint {hit.number}: {what}"))
        verb = "store" if hit.is_write else "load"
        self.say(f"  {verb} of {hit.size} bytes at {hit.vaddr:#010x} ({self._physical()} "
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
        """break [GUEST:]ADDR|SYMBOL|SYMBOL+OFF  [b]: stop before the instruction there.
        Under the hypervisor a breakpoint is for one guest: GUEST's (`break
        ticks:handler`), or without GUEST the guest in focus's."""
        self._break(arg, False)

    def do_tbreak(self, arg):
        """tbreak [GUEST:]ADDR: a breakpoint that is deleted when it is hit."""
        self._break(arg, True)

    def _break(self, arg: str, temporary: bool) -> None:
        if not arg.strip():
            raise DebugError("break needs an address: break [GUEST:]ADDR|SYMBOL|SYMBOL+OFF")
        s, text, guest, labels = self.session, arg.strip(), None, None
        symbols = None
        if s.hv:
            name, colon, rest = text.partition(":")
            if colon:
                found = s.hv.guest(name.strip())
                guest, text = found.name, rest
                symbols, labels = found.config.program.symbols, found.config.program.labels
            else:
                guest = s.hv.focus.name
        bp = s.break_add(s.address(text, symbols), temporary=temporary, guest=guest)
        what = "Temporary breakpoint" if temporary else "Breakpoint"
        where = s.symbolize(bp.addr, labels) + (f" in guest {guest}" if guest else "")
        self.say(f"{what} {bp.number} at {where}")

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
        where = "" if wp.paddr == wp.vaddr else f" ({self._physical()} {wp.paddr:#010x})"
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
        """catch trap [CAUSE...] | catch interrupt [CAUSE...] | catch exit [REASON...]:
        stop the moment a trap is taken, before the handler's first instruction.
        CAUSE: a number, a name (illegal-instruction, load-page-fault,
        machine-timer-interrupt...), a unique prefix, or ecall, page-fault,
        access-fault, misaligned, timer, software. No cause: every exception (or
        interrupt). Under the hypervisor, `catch exit` stops at a VM exit before the
        hypervisor handles it (the next step shows what it did); REASON: csr, sret,
        wfi, sfence.vma, sbi-call, ecall-from-u, shadow-fill, guest-page-fault, mmio,
        exception, illegal-instruction, interrupt (an injection), or page-fault (the
        three kinds). `catch` alone lists catchpoints."""
        words = arg.split()
        if not words:
            self._list_points(catch_only=True)
            return
        kind, causes = words[0], words[1:]
        if kind == "exit":
            cp = self.session.catch_add(False, frozenset(), parse_exits(causes))
            self.say(f"Catchpoint {cp.number}: {cp.description}")
            return
        if kind not in ("trap", "interrupt", "exception"):
            raise DebugError(f"catch what? `catch trap [CAUSE...]`, `catch interrupt "
                             f"[CAUSE...]` or `catch exit [REASON...]`, not {kind!r}")
        interrupts = kind == "interrupt"
        cp = self.session.catch_add(interrupts, parse_causes(causes, interrupts))
        self.say(f"Catchpoint {cp.number}: {cp.description}")

    def _list_points(self, catch_only: bool = False) -> None:
        s = self.session
        rows = []
        if not catch_only:
            for bp in s.breakpoints.values():
                labels = s.hv.guest(bp.guest).config.program.labels if bp.guest else None
                where = (f"{bp.guest}:" if bp.guest else "") + s.symbolize(bp.addr, labels)
                rows.append((bp.number, "tbreakpoint" if bp.temporary else "breakpoint",
                             where, bp.hits))
            for wp in s.watchpoints.values():
                where = f"{wp.vaddr:#010x} len {wp.length}" + \
                    ("" if wp.paddr == wp.vaddr else f" ({self._physical()} {wp.paddr:#010x})")
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
            value = s.register(name)
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
        if s.hv:
            self._csr_side_by_side(words)
            return
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

    def _csr_side_by_side(self, words: list[str]) -> None:
        """Under the hypervisor: the real CSR (the hart's, as the hypervisor set it
        for the guest on it) beside the guest's virtual one."""
        s, hv = self.session, self.session.hv
        names = list(KEY_CSRS)
        if words:
            name = words[0].lstrip("$")
            if name not in CSRS:
                raise DebugError(f"no CSR named {name!r}")
            if len(words) > 1:
                s.set_csr(name, self._count(words[1]))
            names = [name]
        self.say(f"{'CSR':<9} {'real (the hart)':<17} virtual (guest {hv.focus.name})")
        for name in names:
            real = s.core.csr_read(CSRS[name])
            virtual = hv.virtual_csr(name)
            text = "-" if virtual is None else f"{virtual:#010x}"
            if name in s.changed_csrs:
                text = self.style.changed(text)
            shown = virtual if virtual is not None else real
            self.say(f"{name:<9} {real:#010x}        {text:<11} "
                     f"{self._decode(name, shown)}".rstrip())

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
        elif not self.session.hv:
            self.say("No guests: this is a bare machine (`emu hv --debug` debugs guests).")
        else:
            self._info_guests()

    def _info_trap(self) -> None:
        s = self.session
        if s.hv:
            history = s.hv.history()
            if not history:
                self.say(f"Guest {s.hv.focus.name} has had no exit yet.")
                return
            record = history[-1]
            self.say(f"The last exit of guest {s.hv.focus.name}, at its instruction "
                     f"{record.steps:,}: {self._record_text(record)}")
            self.say(f"  cause {record.cause:#x} ({cause_name(record.cause)}), tval "
                     f"{record.tval:#010x}")
            return
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
        if s.hv:
            records = s.hv.history()[-count:] if count > 0 else []
            if not records:
                self.say(f"No exits yet in guest {s.hv.focus.name}.")
            for record in records:
                self.say(f"  step {record.steps:>10}  [{s.hv.focus.name}] "
                         f"{self._record_text(record)}")
            return
        traps = s.trap_history()[-count:] if count > 0 else []
        if not traps:
            self.say("No traps yet.")
            return
        for trap in traps:
            to = "host" if trap.handler == 0 else PRIV.get(trap.to_priv, "?")
            self.say(f"  step {trap.steps:>10}  {PRIV.get(trap.from_priv, '?')}->{to}  "
                     f"{trap.name:<32} epc {s.symbolize(trap.epc)}  tval {trap.tval:#x}")

    # ---- the hypervisor's guests

    def _need_hv(self, what: str):
        if not self.session.hv:
            raise DebugError(f"{what} is for the hypervisor (emu hv --debug): this is a bare "
                             "machine")
        return self.session.hv

    def do_guest(self, arg):
        """guest [NAME|N]: put guest NAME (or number N) in focus: the registers, memory,
        breakpoints without a guest and stepping are then its."""
        hv = self._need_hv("guest")
        name = arg.strip()
        if name:
            guest = hv.guest_by_id(int(name)) if name.isdigit() else hv.guest(name)
            hv.set_focus(guest)
        self._shown_focus = hv.focus.name
        guest = hv.focus
        self.say(f"Focus on guest {guest.name} ({hv.guest_id(guest)}): {hv.state(guest)}, "
                 f"virtual {guest.hart.priv.name}-mode, {guest.hart.steps:,} instructions")
        self.say(self._where())

    def _info_guests(self) -> None:
        hv = self._need_hv("info guests")
        self.say(f"  Id  {'Guest':<12} {'State':<19} {'pc':<30} priv  exits  instructions")
        for guest in hv.hv.guests:
            mark = "*" if guest is hv.focus else " "
            _, pc = hv.hart_of(guest)
            where = self._at(guest, pc)
            self.say(f"{mark} {hv.guest_id(guest):>2}  {guest.name:<12} {hv.state(guest):<19} "
                     f"{where:<30} {guest.hart.priv.name:<4}  {guest.stats.exit_count:>5}  "
                     f"{guest.hart.steps:>12,}")

    def _exit_lines(self, pending, indent: str = "  ") -> list[str]:
        s = self.session
        guest = s.hv.guest(pending.guest)
        labels = guest.config.program.labels
        if pending.is_interrupt:
            return [f"{indent}guest {pending.guest}, virtual {pending.priv.name}-mode, "
                    f"before {self._at(guest, pending.pc)}",
                    f"{indent}{cause_name(pending.cause)} due: the hypervisor injects it "
                    f"next (to stvec {guest.hart.stvec & ~3:#010x})"]
        insn = f"{pending.insn:08x}  {disassemble(pending.insn, pending.pc, labels)}"             if pending.insn else "(the instruction could not be fetched)"
        return [f"{indent}guest {pending.guest}, virtual {pending.priv.name}-mode, "
                f"{self._at(guest, pending.pc)}:  {insn}",
                f"{indent}trap {pending.cause}: {cause_name(pending.cause)}, tval "
                f"{pending.tval:#010x}; the hypervisor has not handled it yet (`step` shows "
                "what it does)"]

    def _at(self, guest, addr: int) -> str:
        return self.session.symbolize(addr, guest.config.program.labels)

    def _record_text(self, record) -> str:
        what = cause_name(record.cause)
        if record.insn:
            what = disassemble(record.insn, record.pc).split("#")[0].replace("\t", " ").strip()
        return f"{record.reason} at {record.pc:#010x} ({what}) -> {record.outcome}"

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
        VA, list every mapping. Under the hypervisor, the three mappings side by
        side: guest virtual -> guest physical (the guest's table), guest physical
        -> host physical (its RAM), and the shadow table the hart really uses."""
        s = self.session
        if s.hv:
            self._pt_hv(arg)
            return
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

    def _pt_hv(self, arg: str) -> None:
        s, hv = self.session, self.session.hv
        guest = hv.focus
        gsatp, shadow = guest.hart.satp, hv.shadow_satp()
        context = f"guest {guest.name}, virtual {guest.hart.priv.name}-mode"
        root = f"root {(gsatp & 0x3F_FFFF) << 12:#010x}" if gsatp >> 31 else "Bare"
        shadow_text = f"{shadow:#010x}" if shadow is not None else "none yet"
        self.say(f"{context}: guest satp {gsatp:#010x} ({root}); shadow satp {shadow_text} "
                 f"(for {_root_name(guest.pager.root_key(guest.hart))})")
        ram = guest.ram
        if not arg.strip():
            if gsatp >> 31:
                rows = [(va, pa, size, pte) for va, pa, size, pte in s.mappings()]
            else:
                rows = [(va, va, size, pte) for va, _, size, pte in (
                    s.mappings(satp=shadow, read=hv.host_read) if shadow else [])]
            if not rows:
                self.say("  no mappings yet")
            self.say(f"  {'guest virtual':<23}    {'guest physical':<10}    "
                     f"{'host physical':<10}  size  guest     shadow")
            for va, gpa, size, pte in rows:
                host = f"{ram.host(gpa):#010x}" if ram.contains(gpa) else "(not RAM)"
                _, hpa, _ = s.walk(va, shadow, hv.host_read) if shadow else ([], None, "")
                seen = "-" if hpa is None else pte_flags(self._leaf(s, va, shadow, hv))
                self.say(f"  {va:#010x}-{va + size - 1:#010x} -> {gpa:#010x} -> {host:<10}  "
                         f"{'4M' if size > 4096 else '4K':<4}  "
                         f"{pte_flags(pte) if gsatp >> 31 else '(bare)':<8}  {seen}")
            return
        va = s.address(arg)
        self.say(f"va {va:#010x}:")
        self.say("  1. guest virtual -> guest physical (the guest's own table):")
        if gsatp >> 31:
            levels, gpa, what = s.walk(va)
            for lv in levels:
                self.say(f"     level {lv.level}: {lv.table:#010x}[{lv.index}] = {lv.pte:#010x}"
                         f"  {pte_flags(lv.pte)}")
            self.say(f"     -> {gpa:#010x} ({what})" if gpa is not None else f"     -> {what}")
        else:
            gpa = va
            self.say(f"     -> {gpa:#010x} (guest satp is Bare: no translation)")
        self.say("  2. guest physical -> host physical (the hypervisor's allocation):")
        if gpa is None:
            self.say("     -")
        elif ram.contains(gpa):
            self.say(f"     -> {ram.host(gpa):#010x} (guest RAM {RAM_BASE:#x}+{ram.size:#x} at "
                     f"host {ram.host_base:#010x})")
        else:
            device = guest.device_at(gpa)
            self.say("     -> none: " + (f"the guest's emulated {type(device).__name__} "
                                        "(its accesses exit to the hypervisor)" if device
                                        else "not the guest's RAM (an access fault)"))
        self.say("  3. the shadow table the hart uses (real satp):")
        if shadow is None:
            self.say("     no shadow root for this context yet: the first access fills it")
            return
        levels, hpa, what = s.walk(va, shadow, hv.host_read)
        for lv in levels:
            self.say(f"     level {lv.level}: {lv.table:#010x}[{lv.index}] = {lv.pte:#010x}"
                     f"  {pte_flags(lv.pte)}")
        self.say(f"     -> {hpa:#010x} ({what})" if hpa is not None else
                 f"     -> not mapped yet ({what}): the next access exits to the hypervisor")

    @staticmethod
    def _leaf(s, va: int, satp: int, hv) -> int:
        levels, _, _ = s.walk(va, satp, hv.host_read)
        return levels[-1].pte if levels else 0

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




EXIT_SLUGS = {reason.replace(" ", "-").lower(): reason for reason in EXIT_REASONS}
EXIT_GROUPS = {"page-fault": ("shadow fill", "guest page fault", "mmio"), "sbi": ("sbi call",),
               "ecall": ("sbi call", "ecall from U"), "sfence": ("sfence.vma",)}


def parse_exits(words: list[str]) -> frozenset[str]:
    """Exit reasons for `catch exit`: as --stats names them, with dashes for spaces
    (shadow-fill), a group (page-fault, ecall), or a unique prefix."""
    found = set()
    for word in (w.lower().strip(",") for w in words):
        if not word:
            continue
        if word in EXIT_GROUPS:
            found.update(EXIT_GROUPS[word])
            continue
        matches = [r for slug, r in EXIT_SLUGS.items() if slug == word] or \
            [r for slug, r in EXIT_SLUGS.items() if slug.startswith(word)]
        if len(matches) != 1:
            raise DebugError(f"{'ambiguous' if matches else 'unknown'} exit reason {word!r}: "
                             "one of " + ", ".join(sorted(EXIT_SLUGS) + sorted(EXIT_GROUPS)))
        found.add(matches[0])
    return frozenset(found)


def _root_name(key: tuple) -> str:
    """A shadow root's context, in words."""
    if key == ("bare",):
        return "guest paging off"
    priv, sum_, mxr = key
    return f"virtual {Priv(priv).name}" + (", SUM" if sum_ else "") + (", MXR" if mxr else "")
