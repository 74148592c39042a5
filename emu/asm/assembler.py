"""The assembler: GNU as source in, laid-out sections and symbols out.

It works as `as` followed by `ld` on one file would, in two steps:

1. Read. Lines come from the file, its .include files, macro expansions and
   .rept blocks. Each statement adds bytes to the current input section (.text,
   .text.init, .data, ...) at known offsets: every instruction is 4 bytes and
   every expansion has a fixed length, so the size of everything is known while
   reading. What needs an address (a branch target, %pcrel_hi, .word label) is
   kept as an Encoding or a data fixup with its expression.
   The one exception is GNU as's branch relaxation, which even -mno-relax does:
   a conditional branch whose target is out of reach (-4096..4094), in another
   section or not a label becomes an inverted branch over a `jal`. Which
   branches need it is known only after reading, so the file is read again with
   those branches long until the choice settles (long_branches_now; assemble).
2. Place and finish. layout.place() gives every input section its address;
   then the expressions are computed and the words encoded, with range checks.

Errors are collected (up to MAX_ERRORS) with the statement's position and
raised together as one AssemblyError at the end of the step that found them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from emu.asm import expr as ex
from emu.asm.expr import Undefined, Value
from emu.asm.insns import Encoding, Operand, Reader
from emu.asm.layout import LAYOUT, PREDEFINED, output_of, place
from emu.asm.source import Diagnostics, Location, StatementError
from emu.isa.instructions import BY_NAME, FIELDS

NOP = BY_NAME["addi"].encode(rd=0, rs1=0, imm_i=0)
# c.nop, the C extension's NOP: not an instruction of emu's subset, but GNU as
# pads odd-sized gaps in code with it, and emu's bytes must equal GNU's.
C_NOP = 0x0001
MAX_INCLUDE_DEPTH = 64
MAX_EXPANSION_DEPTH = 256
LOCAL_MARK = "\x02"           # internal names of numeric local labels: 1 -> "1\x02" + n
DOT_MARK = "\x03"             # internal names of `.`, the location counter

_LABEL = re.compile(r"\s*([A-Za-z_.$][\w.$]*|\d+)\s*:(?!=)")
_WORD = re.compile(r"\s*([A-Za-z_.$][\w.$]*)")
_DATA_SIZES = {".byte": 1, ".half": 2, ".short": 2, ".2byte": 2, ".word": 4, ".long": 4,
               ".4byte": 4, ".int": 4, ".dword": 8, ".quad": 8, ".8byte": 8}
_SECTION_DIRECTIVES = {".text": ".text", ".data": ".data", ".rodata": ".rodata", ".bss": ".bss"}
_IGNORED = {".file", ".ident", ".size", ".attribute", ".loc", ".cfi_startproc",
            ".cfi_endproc", ".cfi_sections", ".warning", ".print", ".nolist", ".list",
            ".hidden", ".protected", ".internal", ".addrsig", ".addrsig_sym"}
_CONDITIONALS = {".if", ".ifdef", ".ifndef", ".ifnotdef", ".else", ".elseif", ".endif",
                 ".ifeq", ".ifne", ".ifgt", ".ifge", ".iflt", ".ifle", ".ifb", ".ifnb",
                 ".ifc", ".ifnc"}


@dataclass
class Section:
    """An input section while reading: its bytes and what is left to fill in."""
    name: str
    data: bytearray = field(default_factory=bytearray)
    align: int = 1
    nobits: bool = False

    @property
    def executable(self) -> bool:
        out = output_of(self.name)
        return out is not None and "x" in out.flags


@dataclass
class Symbol:
    name: str
    location: Location | None
    value: Value | None = None          # known value (absolute or section offset)
    expr: tuple | None = None           # .equ/.set to an expression still to compute
    is_label: bool = False
    is_global: bool = False
    kind: str = "notype"


@dataclass
class Macro:
    name: str
    params: list[tuple[str, str | None]]    # (name, default)
    body: list[Location]
    location: Location
    varargs: bool = False       # the last parameter takes the rest of the arguments


@dataclass
class Pending:
    """Something to finish once the sections have addresses."""
    section: str
    offset: int
    location: Location
    column: int
    order: int
    encoding: Encoding | None = None
    data_size: int = 0
    node: tuple | None = None


@dataclass
class Statement:
    """One source statement, for the listing: where its bytes went."""
    location: Location
    section: str
    start: int
    end: int


@dataclass
class _Collect:
    kind: str               # "macro", or "rept" for .rept, .irp and .irpc
    location: Location
    depth: int = 1
    body: list[Location] = field(default_factory=list)
    macro: Macro | None = None
    count: int = 0
    param: str = ""         # .irp and .irpc: the body is repeated with \param
    values: tuple[str, ...] = ()    # replaced by each of these in turn


@dataclass
class _Cond:
    active: bool            # this branch is being assembled
    done: bool              # some branch of this .if has been taken
    outer: bool             # the enclosing conditional is active
    location: Location
    seen_else: bool = False


# A branch's inverse, for the long form `inverse rs1, rs2, 8; jal zero, target`.
_INVERSE = {"beq": "bne", "bne": "beq", "blt": "bge", "bge": "blt", "bltu": "bgeu",
            "bgeu": "bltu"}
BRANCH_REACH = range(-4096, 4095)


@dataclass
class BranchSite:
    """A conditional branch to an expression: the number-th of the file, where."""
    number: int
    section: str
    offset: int
    target: Operand


class Assembler:
    def __init__(self, defsyms: dict[str, int] | None = None,
                 long_branches: frozenset[int] = frozenset(),
                 include_dirs: tuple[Path, ...] = ()):
        self.include_dirs = include_dirs
        self.long_branches = long_branches      # BranchSite numbers to write long
        self.branches: list[BranchSite] = []
        # Where GNU as would start a new frag (after each branch, jump, fill and
        # alignment): its first estimate of a forward branch depends on them.
        self.frags: dict[str, list[int]] = {}
        self.sections: dict[str, Section] = {}
        self.order: list[str] = []
        for name in PREDEFINED:
            self._section(name)
        self.current = self.sections[".text"]
        self.previous = self.current
        self.section_stack: list[tuple[Section, Section]] = []
        self.symbols: dict[str, Symbol] = {}
        self.local_counts: dict[str, int] = {}
        self.macros: dict[str, Macro] = {}
        self.pending: list[Pending] = []
        self.rows: list[tuple[Location, list[Statement]]] = []   # the listing, line by line
        self.diagnostics = Diagnostics()
        self.includes: list[Path] = []
        self.conds: list[_Cond] = []
        self.collect: _Collect | None = None
        self.expansions = 0             # \@: macro expansions so far
        self.depth = 0
        self.stopped = False            # .end seen
        self.order_counter = 0
        self.location: Location | None = None
        self.option_stack: list[None] = []
        self.reader = Reader(self._parse_expr, self._constant_node, self._defined)
        for name, value in (defsyms or {}).items():
            self.symbols[name] = Symbol(name, None, Value(value))

    # -- errors --------------------------------------------------------------------

    def error(self, column: int, message: str, location: Location | None = None,
              order: int | None = None) -> None:
        self.diagnostics.add(location or self.location, column, message,
                             self.order_counter if order is None else order)

    # -- sections ------------------------------------------------------------------

    def _section(self, name: str) -> Section:
        if name not in self.sections:
            out = output_of(name)
            section = Section(name, nobits=out is not None and out.nobits)
            # GNU as gives .text the alignment of an instruction (4 without the C
            # extension); every other section starts at alignment 1.
            if name == ".text":
                section.align = 4
            self.sections[name] = section
            self.order.append(name)
        return self.sections[name]

    def switch(self, name: str, column: int) -> None:
        if output_of(name) is None:
            places = ", ".join(out.name for out in LAYOUT)
            raise StatementError(column, f"section {name} has no place in emu's layout "
                                         f"(expected {places}, or .text.NAME and the like)")
        self.previous = self.current
        self.current = self._section(name)

    def emit(self, data: bytes, column: int) -> None:
        if self.current.nobits and any(data):
            raise StatementError(column, f"cannot store non-zero bytes in {self.current.name} "
                                         "(it holds no data in the file; use .data)")
        self.current.data += data

    # -- symbols -------------------------------------------------------------------

    def _local_ref(self, digits: str, direction: str, column: int) -> str:
        count = self.local_counts.get(digits, 0)
        if direction == "b":
            if count == 0:
                raise StatementError(column, f"no local label {digits}: before this line "
                                             f"(for {digits}b)")
            return f"{digits}{LOCAL_MARK}{count - 1}"
        return f"{digits}{LOCAL_MARK}{count}"

    @staticmethod
    def shown(name: str) -> str:
        if LOCAL_MARK in name:
            return name.split(LOCAL_MARK)[0] + "f"
        return name

    def _defined(self, name: str) -> bool:
        symbol = self.symbols.get(name)
        return symbol is not None and (symbol.value is not None or symbol.expr is not None)

    def _parse_expr(self, text: str, column: int):
        node = ex.parse(text, column, self._local_ref)
        if any(name == "." for name, _ in ex.symbols_in(node)):
            node = self._bind_dot(node)
        return node

    def _bind_dot(self, node):
        """`.` is the address of the statement: a hidden label made here."""
        if node[0] == "sym" and node[1] == ".":
            name = f"{DOT_MARK}{self.current.name}{DOT_MARK}{len(self.current.data)}"
            self.symbols.setdefault(name, Symbol(
                name, self.location, Value(len(self.current.data), self.current.name),
                is_label=True))
            return ("sym", name, node[2])
        if node[0] == "unary":
            return node[:2] + (self._bind_dot(node[2]),) + node[3:]
        if node[0] == "bin":
            return node[:2] + (self._bind_dot(node[2]), self._bind_dot(node[3])) + node[4:]
        return node

    def define_label(self, name: str, column: int) -> None:
        if name.isdigit():
            count = self.local_counts.get(name, 0)
            self.local_counts[name] = count + 1
            name = f"{name}{LOCAL_MARK}{count}"
        symbol = self.symbols.get(name)
        if symbol is not None and (symbol.value is not None or symbol.expr is not None):
            where = f" (first defined at {symbol.location.where()})" if symbol.location else ""
            raise StatementError(column, f"duplicate label '{name}'{where}")
        if symbol is None:
            symbol = self.symbols[name] = Symbol(name, self.location)
        symbol.location = self.location
        symbol.value = Value(len(self.current.data), self.current.name)
        symbol.is_label = True

    def assign(self, name: str, node, column: int, equiv: bool = False) -> None:
        symbol = self.symbols.get(name)
        if symbol is not None and symbol.is_label:
            raise StatementError(column, f"'{name}' is already a label (defined at "
                                         f"{symbol.location.where()})")
        if symbol is not None and equiv and (symbol.value or symbol.expr):
            raise StatementError(column, f"'{name}' is already defined")
        if symbol is None:
            symbol = self.symbols[name] = Symbol(name, self.location)
        symbol.location = self.location
        try:
            symbol.value, symbol.expr = self._evaluate(node, early=True), None
        except Undefined:
            symbol.value, symbol.expr = None, node

    def _lookup_early(self, name: str, column: int, seen=()) -> Value:
        symbol = self.symbols.get(name)
        if symbol is None:
            raise Undefined(name, column)
        if symbol.value is not None:
            return symbol.value
        if symbol.expr is not None and name not in seen:
            return ex.evaluate(symbol.expr, lambda n, c: self._lookup_early(n, c, seen + (name,)))
        raise Undefined(name, column)

    def _evaluate(self, node, early: bool) -> Value:
        return ex.evaluate(node, self._lookup_early if early else self._lookup_late)

    def _constant_node(self, node, what: str) -> int:
        """A value needed while reading (a .skip count, li's value): it must be a
        number now, as GNU as requires."""
        try:
            value = self._evaluate(node, early=True)
        except Undefined as error:
            raise StatementError(error.column, f"{what} must be a constant, and "
                                               f"'{self.shown(error.name)}' is not defined "
                                               "before this line") from None
        if value.section is not None:
            raise StatementError(_column_of(node), f"{what} must be a constant, not an address")
        return value.offset

    def constant(self, text: str, column: int, what: str) -> int:
        return self._constant_node(self._parse_expr(text, column), what)

    # -- reading lines ---------------------------------------------------------------

    def read_file(self, path: Path, column: int = 1, shown: str | None = None) -> None:
        resolved = path.resolve()
        if resolved in self.includes:
            raise StatementError(column, f"recursive .include of {shown or path}")
        if len(self.includes) >= MAX_INCLUDE_DEPTH:
            raise StatementError(column, ".include nested too deeply")
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise StatementError(column, f"cannot find {shown or path}") from None
        except IsADirectoryError:
            raise StatementError(column, f"{shown or path} is a directory") from None
        except OSError as error:
            raise StatementError(column, f"cannot read {shown or path}: {error.strerror}") from None
        self.includes.append(resolved)
        name = str(shown or path)
        try:
            for number, line in enumerate(text.splitlines(), 1):
                if self.stopped or self.diagnostics.full:
                    break
                self.line(Location(name, number, line))
        finally:
            self.includes.pop()
            self.stopped = False

    def line(self, location: Location) -> None:
        self.location = location
        self.rows.append((location, []))
        if self.collect is not None:
            self._collect_line(location)
            return
        for column, statement in _statements(location.text):
            self.order_counter += 1
            self.location = location
            try:
                self.statement(statement, column)
            except StatementError as error:
                self.error(error.column, error.message, location)
            if self.collect is not None or self.stopped:
                break

    def _collect_line(self, location: Location) -> None:
        collect = self.collect
        word = _first_word(_strip_comment(location.text))
        opening = {".macro"} if collect.kind == "macro" else {".rept", ".irp", ".irpc"}
        closing = ".endm" if collect.kind == "macro" else ".endr"
        if word in opening:
            collect.depth += 1
        elif word == closing or (collect.kind == "macro" and word == ".endmacro"):
            collect.depth -= 1
            if collect.depth == 0:
                self.collect = None
                if collect.kind == "macro":
                    collect.macro.body = collect.body
                    self.macros[collect.macro.name] = collect.macro
                else:
                    where = (collect.location.where(),) + collect.location.expanded_from
                    pattern = re.compile(re.escape("\\" + collect.param) + r"(?![\w$])")
                    for value in collect.values or [None] * collect.count:
                        for body_line in collect.body:
                            text = body_line.text if value is None else \
                                pattern.sub(lambda _: value, body_line.text)
                            self._expand_line(text, body_line, where)
                return
        collect.body.append(location)

    def _expand_line(self, text: str, body_line: Location, where: tuple[str, ...]) -> None:
        self.depth += 1
        try:
            if self.depth > MAX_EXPANSION_DEPTH:
                raise StatementError(1, "macros expand too deeply (a macro that uses itself?)")
            self.line(Location(body_line.file, body_line.line, text, where))
        finally:
            self.depth -= 1

    # -- statements --------------------------------------------------------------------

    def statement(self, text: str, column: int) -> None:
        """One statement (a line may hold several, separated by ';'), whose text
        starts at `column` of the line."""
        position = 0
        word_match = _WORD.match(text)
        word = word_match.group(1).lower() if word_match else ""
        if self.conds and not self.conds[-1].active:
            if word in _CONDITIONALS:
                self.conditional(word, text[word_match.end():], column + word_match.end(),
                                 column + word_match.start(1))
            return
        while True:
            m = _LABEL.match(text, position)
            if not m:
                break
            self.define_label(m.group(1), column + m.start(1))
            position = m.end()
        rest = text[position:]
        m = _WORD.match(rest)
        if not m:
            if rest.strip():
                bad = len(rest) - len(rest.lstrip())
                raise StatementError(column + position + bad,
                                     f"expected an instruction or directive, found '{rest.strip()}'")
            return
        name = m.group(1)
        word_column = column + position + m.start(1)
        args = rest[m.end():]
        args_column = column + position + m.end()
        lowered = name.lower()
        if lowered in self.macros:
            self.expand_macro(self.macros[lowered], args, args_column, word_column)
            return
        if rest[m.end():].lstrip().startswith("=") and not rest[m.end():].lstrip().startswith("=="):
            eq = args.index("=")
            self.assign(name, self._parse_expr(args[eq + 1:], args_column + eq + 1), word_column)
            return
        if name.startswith("."):
            self.directive(lowered, args, args_column, word_column)
            return
        self.instruction(name, args, args_column, word_column)

    def instruction(self, name: str, args: str, column: int, name_column: int) -> None:
        if self.current.nobits:
            raise StatementError(name_column, f"instructions cannot go in {self.current.name}")
        operands = _split_operands(args, column)
        start = len(self.current.data)
        encodings = self.reader.read(name, operands, name_column, self.current.name, start)
        relaxable = len(encodings) == 1 and any(
            isinstance(encodings[0].fields.get(field), Operand) for field in ("imm_b", "imm_j"))
        if relaxable and "imm_b" in encodings[0].fields:
            encodings = self._branch(encodings[0], start)
        offset = start
        for encoding in encodings:
            self.pending.append(Pending(self.current.name, offset, self.location, name_column,
                                        self.order_counter, encoding=encoding))
            offset += 4
        self.current.data += bytes(4 * len(encodings))
        self.rows[-1][1].append(Statement(self.location, self.current.name, start, offset))
        if relaxable:
            self.new_frag()

    def new_frag(self) -> None:
        self.frags.setdefault(self.current.name, [0]).append(len(self.current.data))

    def _branch(self, encoding: Encoding, offset: int) -> list[Encoding]:
        """A conditional branch, short or (when an earlier reading found it far)
        long, as GNU as relaxes it (tc-riscv.c, RELAX_BRANCH)."""
        target = encoding.fields["imm_b"]
        site = BranchSite(len(self.branches), self.current.name, offset, target)
        self.branches.append(site)
        if site.number not in self.long_branches:
            return [encoding]
        inverse = {**encoding.fields, "imm_b": 8}
        return [Encoding(BY_NAME[_INVERSE[encoding.insn.name]], inverse, encoding.mnemonic),
                Encoding(BY_NAME["jal"], {"rd": 0, "imm_j": target}, encoding.mnemonic)]

    def long_branches_now(self, first: bool) -> frozenset[int]:
        """The branches that must be long, judged on this reading's layout. The
        first reading (every branch short) follows GNU as's first estimate
        (write.c, relax_segment; tc-riscv.c, relaxed_branch_length): it sees a
        forward target at its offset in its own frag, whose address is not known
        yet; the later readings measure. A long branch stays long while its
        target is out of reach with it long, so GNU's result depends on that
        first estimate, and so does ours."""
        long, grown = set(), {}
        for site in self.branches:
            try:
                target = self._evaluate(site.target.node, early=True)
            except Undefined:
                target = Value(0)           # GNU: not a label of this section: long
            if target.section != site.section:
                long.add(site.number)
            elif not first:
                if target.offset - site.offset not in BRANCH_REACH:
                    long.add(site.number)
            else:
                growth = grown.setdefault(site.section, [])
                here = site.offset + 4 * len(growth)
                if target.offset > site.offset:
                    frag = max(f for f in self.frags[site.section] if f <= target.offset)
                    there = target.offset - frag
                else:
                    there = target.offset + 4 * sum(1 for g in growth if g < target.offset)
                if there - here not in BRANCH_REACH:
                    long.add(site.number)
                    growth.append(site.offset)
        return frozenset(long)

    # -- macros --------------------------------------------------------------------------

    def define_macro(self, args: str, column: int) -> None:
        pieces = _split_operands(args, column, allow_spaces=True)
        if not pieces or not pieces[0][1]:
            raise StatementError(column, "expected a macro name after .macro")
        first_column, first = pieces[0]
        name = first
        params: list[tuple[str, str | None]] = []
        varargs = False
        for param_column, text in pieces[1:]:
            pname, eq, default = text.partition("=")
            pname, _, qualifier = pname.strip().partition(":")
            if qualifier not in ("", "req", "vararg"):
                raise StatementError(param_column, f"unknown parameter qualifier :{qualifier} "
                                                   "(expected :req or :vararg)")
            if qualifier == "vararg":
                varargs = True
            if not re.fullmatch(r"[A-Za-z_][\w$]*", pname):
                raise StatementError(param_column, f"bad macro parameter name '{pname}'")
            params.append((pname, default.strip() if eq else None))
        if name.lower() in self.macros:
            raise StatementError(first_column, f"macro {name} is already defined (at "
                                               f"{self.macros[name.lower()].location.where()})")
        macro = Macro(name.lower(), params, [], self.location, varargs)
        self.collect = _Collect("macro", self.location, macro=macro)

    def expand_macro(self, macro: Macro, args: str, column: int, name_column: int) -> None:
        values: dict[str, str] = {}
        positional = 0
        pieces = _split_operands(args, column, allow_spaces=True)
        if macro.varargs and len(pieces) >= len(macro.params):
            last = pieces[len(macro.params) - 1][0] - column
            pieces = pieces[:len(macro.params) - 1] + [(column + last, args[last:].strip())]
        for arg_column, text in pieces:
            if len(text) >= 2 and text[0] == text[-1] == '"':
                text = text[1:-1]       # a quoted argument is its text (GNU as macro.c)
            m = re.fullmatch(r"\s*([A-Za-z_][\w$]*)\s*=(?!=)(.*)", text)
            if m and any(p == m.group(1) for p, _ in macro.params):
                values[m.group(1)] = m.group(2).strip()
                continue
            if positional >= len(macro.params):
                raise StatementError(arg_column, f"too many arguments for macro {macro.name} "
                                                 f"(it takes {len(macro.params)})")
            values[macro.params[positional][0]] = text
            positional += 1
        for pname, default in macro.params:
            if pname not in values:
                values[pname] = default if default is not None else ""
        self.expansions += 1
        counter = str(self.expansions - 1)
        names = sorted(values, key=len, reverse=True)
        pattern = re.compile(r"\\(@|\(\)|" + "|".join(map(re.escape, names)) + ")" if names
                             else r"\\(@|\(\))")

        def substitute(m: re.Match) -> str:
            key = m.group(1)
            return counter if key == "@" else "" if key == "()" else values[key]

        use = self.location
        where = (use.where(),) + use.expanded_from
        for body_line in macro.body:
            self._expand_line(pattern.sub(substitute, body_line.text), body_line, where)
            if self.stopped:
                break

    # -- conditionals ----------------------------------------------------------------------

    def conditional(self, word: str, args: str, column: int, word_column: int) -> None:
        outer = not self.conds or self.conds[-1].active
        if word in (".else", ".elseif", ".endif"):
            if not self.conds:
                raise StatementError(word_column, f"{word} without .if")
            cond = self.conds[-1]
            if word == ".endif":
                self.conds.pop()
                return
            if cond.seen_else:
                raise StatementError(word_column, f"{word} after .else")
            if word == ".else":
                cond.seen_else = True
                cond.active = cond.outer and not cond.done
            else:
                cond.active = cond.outer and not cond.done and \
                    self.constant(args, column, ".elseif's condition") != 0
            cond.done = cond.done or cond.active
            return
        truth = False
        if outer:
            truth = self._condition(word, args, column)
        self.conds.append(_Cond(outer and truth, outer and truth, outer, self.location))

    def _condition(self, word: str, args: str, column: int) -> bool:
        if word in (".ifdef", ".ifndef", ".ifnotdef"):
            name = args.strip()
            symbol = self.symbols.get(name)
            defined = symbol is not None and (symbol.value is not None or symbol.expr is not None)
            return defined if word == ".ifdef" else not defined
        if word in (".ifb", ".ifnb"):
            return (not args.strip()) == (word == ".ifb")
        if word in (".ifc", ".ifnc"):
            pieces = _split_operands(args, column)
            if len(pieces) != 2:
                raise StatementError(column, f"{word} takes two strings to compare")
            same = pieces[0][1].strip("'\"") == pieces[1][1].strip("'\"")
            return same == (word == ".ifc")
        value = self.constant(args, column, f"{word}'s condition")
        return {".if": value != 0, ".ifne": value != 0, ".ifeq": value == 0, ".ifgt": value > 0,
                ".ifge": value >= 0, ".iflt": value < 0, ".ifle": value <= 0}[word]

    # -- directives ----------------------------------------------------------------------------

    def directive(self, name: str, args: str, column: int, name_column: int) -> None:
        start = len(self.current.data)
        section = self.current.name
        rows = len(self.rows)
        self._directive(name, args, column, name_column)
        # Bytes from an .include are listed with the included lines.
        if self.current.name == section and len(self.current.data) != start and \
                len(self.rows) == rows:
            self.rows[-1][1].append(Statement(self.location, section, start,
                                              len(self.current.data)))

    def _directive(self, name: str, args: str, column: int, name_column: int) -> None:
        operands = lambda: _split_operands(args, column)       # noqa: E731
        if name in _CONDITIONALS:
            self.conditional(name, args, column, name_column)
        elif name in _SECTION_DIRECTIVES:
            if args.strip():
                raise StatementError(column, f"{name} takes no operand (subsections are not "
                                             "supported)")
            self.switch(_SECTION_DIRECTIVES[name], name_column)
        elif name in (".section", ".pushsection"):
            pieces = operands()
            if not pieces or not pieces[0][1].strip():
                raise StatementError(column, f"expected a section name after {name}")
            section_name = pieces[0][1].strip().strip('"')
            for flag_column, flag in pieces[1:]:
                flag = flag.strip()
                if not re.fullmatch(r'"[awxMSGTRdoe?]*"|[@%](progbits|nobits|note|init_array|'
                                    r'fini_array|preinit_array)|\d+|[\w.$]+', flag):
                    raise StatementError(flag_column, f"bad section flags {flag} (expected "
                                                      '"a", "aw", "ax" and @progbits or @nobits)')
            if name == ".pushsection":
                self.section_stack.append((self.current, self.previous))
            self.switch(section_name, pieces[0][0])
        elif name == ".popsection":
            if not self.section_stack:
                raise StatementError(name_column, ".popsection without .pushsection")
            self.current, self.previous = self.section_stack.pop()
        elif name == ".previous":
            self.current, self.previous = self.previous, self.current
        elif name in _DATA_SIZES:
            self.data(_DATA_SIZES[name], operands(), column)
        elif name in (".ascii", ".asciz", ".string"):
            pieces = operands()
            if not pieces:
                raise StatementError(column, f"expected a string after {name}")
            for piece_column, piece in pieces:
                data = _string(piece, piece_column)
                self.emit(data + (b"\0" if name != ".ascii" else b""), piece_column)
        elif name in (".zero", ".space", ".skip"):
            pieces = operands()
            if not 1 <= len(pieces) <= (1 if name == ".zero" else 2):
                raise StatementError(column, f"{name} takes a size" +
                                     ("" if name == ".zero" else " and an optional fill byte"))
            count = self.constant(pieces[0][1], pieces[0][0], f"{name}'s size")
            fill = self.constant(pieces[1][1], pieces[1][0], "the fill byte") if len(pieces) > 1 else 0
            if count < 0:
                raise StatementError(pieces[0][0], f"{name} size {count} is negative")
            self.emit(bytes([fill & 0xFF]) * count, column)
            if count:
                self.new_frag()
        elif name == ".fill":
            pieces = operands()
            if not 1 <= len(pieces) <= 3:
                raise StatementError(column, ".fill takes repeat, size and value")
            values = [self.constant(t, c, ".fill's operand") for c, t in pieces] + [1, 0][len(pieces) - 1:]
            repeat, size, value = values[0], min(values[1], 8), values[2]
            self.emit(((value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                       + bytes(max(0, values[1] - 8))) * max(repeat, 0), column)
        elif name in (".align", ".p2align", ".balign", ".balignw", ".balignl"):
            self.align(name, operands(), column)
            self.new_frag()
        elif name in (".globl", ".global", ".weak"):
            for piece_column, piece in operands():
                symbol_name = piece.strip()
                if not re.fullmatch(r"[A-Za-z_.$][\w.$]*", symbol_name):
                    raise StatementError(piece_column, f"expected a symbol name, found '{symbol_name}'")
                symbol = self.symbols.setdefault(symbol_name, Symbol(symbol_name, None))
                symbol.is_global = True
        elif name == ".local":
            pass
        elif name in (".equ", ".set", ".equiv", ".eqv"):
            pieces = operands()
            if len(pieces) != 2:
                raise StatementError(column, f"{name} takes a name and a value: {name} NAME, VALUE")
            symbol_name = pieces[0][1].strip()
            if not re.fullmatch(r"[A-Za-z_.$][\w.$]*", symbol_name):
                raise StatementError(pieces[0][0], f"expected a symbol name, found '{symbol_name}'")
            self.assign(symbol_name, self._parse_expr(pieces[1][1], pieces[1][0]), pieces[0][0],
                        equiv=name == ".equiv")
        elif name == ".type":
            pieces = operands()
            if len(pieces) != 2:
                raise StatementError(column, ".type takes a symbol and a type: .type NAME, @function")
            kind = pieces[1][1].strip().lstrip("@%#").lower()
            kinds = {"function": "func", "object": "object", "notype": "notype"}
            if kind not in kinds:
                raise StatementError(pieces[1][0], f"unknown symbol type {pieces[1][1].strip()} "
                                                   "(expected @function, @object or @notype)")
            symbol_name = pieces[0][1].strip()
            symbol = self.symbols.setdefault(symbol_name, Symbol(symbol_name, None))
            symbol.kind = kinds[kind]
        elif name in _IGNORED:
            pass
        elif name == ".option":
            self.option(args.strip(), column)
        elif name == ".include":
            text = args.strip()
            if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
                raise StatementError(column, '.include takes a file name in quotes: .include "file.S"')
            include = text[1:-1]
            # Next to the including file, then in the -I directories, in order.
            base = Path(self.location.file).parent
            path = next((d / include for d in [base, *self.include_dirs] if (d / include).is_file()),
                        base / include)
            shown = str(path) if path.parent != Path(".") else include
            saved = self.location
            self.read_file(path, column + len(args) - len(args.lstrip()), shown)
            self.location = saved
        elif name == ".macro":
            self.define_macro(args, column)
        elif name in (".endm", ".endmacro"):
            raise StatementError(name_column, f"{name} without .macro")
        elif name == ".endr":
            raise StatementError(name_column, ".endr without .rept, .irp or .irpc")
        elif name == ".purgem":
            self.macros.pop(args.strip().lower(), None)
        elif name == ".rept":
            count = self.constant(args, column, ".rept's count")
            self.collect = _Collect("rept", self.location, count=max(count, 0))
        elif name in (".irp", ".irpc"):
            self.collect = self._irp(name, args, column)
        elif name == ".error":
            message = args.strip()
            if message.startswith('"'):
                message = _string(message, column).decode("utf-8", "replace")
            raise StatementError(name_column, message or ".error")
        elif name == ".end":
            self.stopped = True
        else:
            raise StatementError(name_column, f"unknown directive {name}")

    def _irp(self, name: str, args: str, column: int) -> _Collect:
        """.irp PARAM, V1, V2...: the body once per value, with \\PARAM replaced by
        it; .irpc PARAM, CHARS: once per character (GNU as, "Irp" and "Irpc")."""
        param, _, rest = args.partition(",")
        param = param.strip()
        if not re.fullmatch(r"[A-Za-z_][\w$]*", param):
            raise StatementError(column, f"{name} needs a parameter name, then its values")
        if name == ".irpc":
            values = tuple(rest.strip()) or ("",)
        else:
            values = tuple(v.strip() for v in rest.split(",")) if rest.strip() else ("",)
        return _Collect("rept", self.location, param=param, values=values)

    def option(self, text: str, column: int) -> None:
        word = text.split(",")[0].strip().lower()
        if word == "push":
            self.option_stack.append(None)
        elif word == "pop":
            if not self.option_stack:
                raise StatementError(column, ".option pop without .option push")
            self.option_stack.pop()
        elif word in ("norelax", "relax", "nopic", "norvc", "csr-check", "no-csr-check"):
            pass
        elif word == "rvc" or (word == "arch" and re.search(r"\+\s*c\b", text)):
            raise StatementError(column, "compressed instructions (the C extension) are not "
                                         "part of emu's subset (RV32IMA, Zicsr, Zifencei)")
        elif word == "pic":
            raise StatementError(column, ".option pic is not supported: emu programs are "
                                         "linked at a fixed address (la is lla)")
        elif word == "arch":
            pass
        else:
            raise StatementError(column, f"unknown .option '{text}' (expected push, pop, norelax, "
                                         "relax, nopic or norvc)")

    def data(self, size: int, pieces: list[tuple[int, str]], column: int) -> None:
        if not pieces:
            raise StatementError(column, "expected one or more values")
        for piece_column, piece in pieces:
            node = self._parse_expr(piece, piece_column)
            if self.current.nobits:
                if self._constant_node(node, "a value in .bss") != 0:
                    self.emit(b"\1", piece_column)
            self.pending.append(Pending(self.current.name, len(self.current.data), self.location,
                                        piece_column, self.order_counter, data_size=size,
                                        node=node))
            self.current.data += bytes(size)

    def align(self, name: str, pieces: list[tuple[int, str]], column: int) -> None:
        if not 1 <= len(pieces) <= 3 or not pieces[0][1].strip():
            raise StatementError(column, f"{name} takes an alignment, then optional fill and maximum")
        value = self.constant(pieces[0][1], pieces[0][0], "the alignment")
        # On RISC-V, .align is a power of two, as .p2align (GNU as manual, "RISC-V
        # Dependent Features"); .balign takes bytes, which must be a power of two.
        if name in (".align", ".p2align"):
            if not 0 <= value <= 16:
                raise StatementError(pieces[0][0], f"alignment 2**{value} out of range (0..16)")
            boundary = 1 << value
        else:
            boundary = value or 1
            if boundary & (boundary - 1):
                raise StatementError(pieces[0][0], f"alignment {value} is not a power of 2")
        fill = None
        if len(pieces) > 1 and pieces[1][1].strip():
            fill = self.constant(pieces[1][1], pieces[1][0], "the fill value")
        maximum = None
        if len(pieces) > 2:
            maximum = self.constant(pieces[2][1], pieces[2][0], "the maximum padding")
        padding = -len(self.current.data) % boundary
        # The section's alignment is raised even when the maximum skips the padding.
        self.current.align = max(self.current.align, boundary)
        if maximum is not None and padding > maximum:
            return
        # GNU as does not align code to an instruction's size or less, even after
        # odd data (tc-riscv.c, riscv_frag_align_code: "no alignment is required").
        if fill is None and self.current.executable and boundary <= 4:
            return
        if fill is not None:
            unit = {".balignw": 2, ".balignl": 4}.get(name, 1)
            pattern = (fill & ((1 << (8 * unit)) - 1)).to_bytes(unit, "little")
            self.emit((pattern * (padding // unit + 1))[:padding], column)
        elif self.current.executable and boundary >= 4:
            self.current.data += _code_padding(padding)
        else:
            self.emit(bytes(padding), column)

    # -- finishing ---------------------------------------------------------------------------------

    def finish(self, base: int):
        """Place the sections from `base` and fill in every pending word."""
        if self.collect is not None:
            kind = ".macro" if self.collect.kind == "macro" else ".rept"
            self.error(1, f"{kind} without {'.endm' if kind == '.macro' else '.endr'}",
                       self.collect.location, order=0)
        for cond in self.conds:
            self.error(1, ".if without .endif", cond.location, order=0)
        # Go on after errors in reading, so that errors found only with the
        # addresses (undefined symbols, ranges) are reported too.
        for section in self.sections.values():
            # GNU as pads the end of a code section to the section's alignment
            # (write.c, SUB_SEGMENT_ALIGN: "proper nop-filling at the end").
            if section.executable:
                section.data += _code_padding(-len(section.data) % section.align)
        sizes = {name: len(s.data) for name, s in self.sections.items()}
        aligns = {name: s.align for name, s in self.sections.items()}
        placed, self.addresses, script_symbols = place(sizes, aligns, self.order, base)
        for name, value in script_symbols.items():
            if name not in self.symbols:
                self.symbols[name] = Symbol(name, None, Value(value), is_label=True)
        self.pcrel_hi: dict[int, tuple[Pending, Operand]] = {}
        for item in self.pending:
            if item.encoding is not None:
                for operand in item.encoding.fields.values():
                    if isinstance(operand, Operand) and operand.modifier == "pcrel_hi":
                        self.pcrel_hi[self.addresses[item.section] + item.offset] = (item, operand)
        for item in self.pending:
            self.location = item.location
            try:
                self._finish(item)
            except StatementError as error:
                self.error(error.column, error.message, item.location, item.order)
            except Undefined as error:
                self.error(error.column, f"undefined symbol '{self.shown(error.name)}'",
                           item.location, item.order)
            if self.diagnostics.full:
                break
        self.diagnostics.raise_if_any()
        return placed

    def _lookup_late(self, name: str, column: int, seen=()) -> Value:
        symbol = self.symbols.get(name)
        if symbol is not None and symbol.value is not None:
            value = symbol.value
        elif symbol is not None and symbol.expr is not None and name not in seen:
            value = ex.evaluate(symbol.expr, lambda n, c: self._lookup_late(n, c, seen + (name,)))
        else:
            raise Undefined(name, column)
        if value.section is not None:
            return Value(self.addresses[value.section] + value.offset)
        return value

    def address(self, node) -> int:
        return self._evaluate(node, early=False).offset

    def _finish(self, item: Pending) -> None:
        section = self.sections[item.section]
        pc = self.addresses[item.section] + item.offset
        if item.encoding is None:
            value = self.address(item.node)
            bits = 8 * item.data_size
            if not -(1 << (bits - 1)) <= value < (1 << bits):
                raise StatementError(item.column, f"value {value} does not fit {item.data_size} "
                                                  f"byte{'s' if item.data_size > 1 else ''}")
            section.data[item.offset:item.offset + item.data_size] = \
                (value & ((1 << bits) - 1)).to_bytes(item.data_size, "little")
            return
        encoding = item.encoding
        fields = {}
        for name, operand in encoding.fields.items():
            fields[name] = self._operand(encoding, name, operand, pc)
        for name, value in fields.items():
            spec = FIELDS[name]
            if not spec.fits(value):
                operand = encoding.fields[name]
                column = operand.column if isinstance(operand, Operand) else item.column
                low, high = spec.range
                if name in ("imm_b", "imm_j"):
                    kind = "branch" if name == "imm_b" else "jump"
                    if value % 2:
                        raise StatementError(column, f"{kind} target is not a multiple of 2 bytes "
                                                     f"away ({value})")
                    raise StatementError(column, f"{kind} target out of range for "
                                                 f"{encoding.mnemonic}: {value} bytes away "
                                                 f"({low}..{high})")
                what = {"shamt": "shift amount", "zimm": "immediate"}.get(name, "immediate")
                raise StatementError(column, f"{what} {value} out of range for "
                                             f"{encoding.mnemonic} ({low}..{high})")
        word = encoding.insn.encode(**fields)
        section.data[item.offset:item.offset + 4] = word.to_bytes(4, "little")

    def _operand(self, encoding: Encoding, name: str, operand, pc: int) -> int:
        if not isinstance(operand, Operand):
            return operand
        value = self.address(operand.node)
        modifier = operand.modifier
        if modifier is None:
            return value
        if modifier == "target":
            return value - pc
        if modifier == "hi":
            return ((value + 0x800) >> 12) & 0xFFFFF
        if modifier == "lo":
            return ((value & 0xFFF) ^ 0x800) - 0x800
        if modifier == "pcrel_hi":
            return ((value - pc + 0x800) >> 12) & 0xFFFFF
        if modifier == "pcrel_lo_at":
            anchor = self.addresses[operand.anchor[0]] + operand.anchor[1]
            return (((value - anchor) & 0xFFF) ^ 0x800) - 0x800
        # %pcrel_lo(label): label is an auipc with %pcrel_hi(target).
        high = self.pcrel_hi.get(value)
        if high is None:
            raise StatementError(operand.column, "%pcrel_lo needs the label of an auipc with "
                                                 "%pcrel_hi; none is at that address")
        hi_item, hi_operand = high
        target = self.address(hi_operand.node)
        return (((target - value) & 0xFFF) ^ 0x800) - 0x800


def _code_padding(size: int) -> bytes:
    """Padding in code as GNU as writes it (tc-riscv.c, riscv_make_nops): a zero
    byte if the size is odd, then one 2-byte c.nop if needed to reach a 4-byte
    boundary (GNU writes it even without the C extension), then NOPs."""
    head = bytes(size % 2) + (C_NOP.to_bytes(2, "little") if size % 4 >= 2 else b"")
    return head + NOP.to_bytes(4, "little") * ((size - len(head)) // 4)


def _column_of(node) -> int:
    if node[0] == "sym":
        return node[2]
    if node[0] in ("unary", "bin"):
        return node[-1]
    return 1


def _strip_comment(text: str) -> str:
    return text[:_comment_start(text)]


def _outside_quotes(text: str):
    """(index, character) of each character of text outside string literals
    ("...", with backslash escapes) and character literals ('x', '\\n', the
    closing quote optional, as GNU as reads them)."""
    i, in_string = 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "'":
            i += 2 if i + 1 < len(text) and text[i + 1] == "\\" else 1
            if i + 1 < len(text) and text[i + 1] == "'":
                i += 1
        else:
            yield i, c
        i += 1


def _comment_start(text: str) -> int:
    """Where the comment starts ('#' or '//' outside literals), or len(text)."""
    return next((i for i, c in _outside_quotes(text)
                 if c == "#" or text.startswith("//", i)), len(text))


def _statements(line: str) -> list[tuple[int, str]]:
    """The statements of a line, split at ';' outside literals, each with the
    1-based column where it starts. Comments are removed."""
    text = _strip_comment(line)
    starts = [0] + [i + 1 for i, c in _outside_quotes(text) if c == ";"]
    ends = [i - 1 for i in starts[1:]] + [len(text)]
    return [(start + 1, text[start:end]) for start, end in zip(starts, ends)
            if text[start:end].strip()]


def _first_word(text: str) -> str:
    m = _LABEL.match(text)
    while m:
        text = text[m.end():]
        m = _LABEL.match(text)
    m = _WORD.match(text)
    return m.group(1).lower() if m else ""


def _split_operands(text: str, column: int, allow_spaces: bool = False) -> list[tuple[int, str]]:
    """Operands separated by top-level commas, each with its 1-based column (of
    its first non-blank character). With allow_spaces (macro arguments), blanks
    outside parentheses also separate, as GNU as allows."""
    pieces: list[tuple[int, str]] = []
    depth, start = 0, 0

    def add(end: int) -> None:
        piece = text[start:end]
        if piece.strip() or pieces or end < len(text):
            lead = len(piece) - len(piece.lstrip())
            pieces.append((column + start + lead, piece.strip()))

    for i, c in _outside_quotes(text):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            add(i)
            start = i + 1
        elif allow_spaces and c in " \t" and depth == 0 and text[start:i].strip():
            # A blank ends an argument unless an operator continues the expression.
            after = len(text) - len(text[i:].lstrip(" \t"))
            before = text[start:i].rstrip()
            if after < len(text) and text[after] not in ",=+-*/|&^<>%)" and \
                    before[-1] not in "=+-*/|&^<>%(~!":
                add(i)
                start = after
    add(len(text))
    if len(pieces) == 1 and not pieces[0][1]:
        return []
    return pieces


def _string(text: str, column: int) -> bytes:
    """The bytes of a string literal "..." with C escapes."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise StatementError(column, f"expected a string in double quotes, found {text}")
    out = bytearray()
    i, body = 0, text[1:-1]
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise StatementError(column, "string ends with a lone backslash")
        c = body[i]
        if c in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i:])
            out.append(int(m.group(), 8) & 0xFF)
            i += m.end()
        elif c == "x":
            m = re.match(r"[0-9a-fA-F]+", body[i + 1:])
            if not m:
                raise StatementError(column, "\\x needs hex digits")
            out.append(int(m.group(), 16) & 0xFF)
            i += 1 + m.end()
        else:
            out.append(ex.char_value("\\" + c))
            i += 1
    return bytes(out)
