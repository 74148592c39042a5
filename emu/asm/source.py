"""Where a statement came from, and errors that point at it.

Every line the assembler reads (from a file, a macro body or a .rept block) keeps
its file, line number and text, so an error can be rendered as a compiler does:

    prog.S:12:9: error: immediate 5000 out of range for addi (-2048..2047)
        addi a0, a0, 5000
                     ^

Lines made by a macro expansion quote the expanded text and name the use of the
macro below the caret, as GNU as's "macro invoked from here" note does."""
from __future__ import annotations

from dataclasses import dataclass, field

from emu.errors import ProgramError

MAX_ERRORS = 20


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    text: str
    # "file:line" of each macro use or .rept this line was expanded from, innermost first.
    expanded_from: tuple[str, ...] = ()

    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    location: Location
    column: int             # 1-based, in location.text
    message: str
    order: int = 0          # the statement's position in the whole assembly

    def render(self) -> str:
        text = self.location.text.rstrip("\n")
        column = max(1, min(self.column, len(text) + 1))
        # Keep tabs in the caret's indentation, so it lines up under the same text.
        pad = "".join(c if c == "\t" else " " for c in text[:column - 1])
        lines = [f"{self.location.file}:{self.location.line}:{column}: error: {self.message}",
                 f"    {text}", f"    {pad}^"]
        lines += [f"    (in the expansion used at {where})" for where in
                  self.location.expanded_from]
        return "\n".join(lines)


class AssemblyError(ProgramError):
    """A source file that does not assemble: every error found (up to MAX_ERRORS),
    in source order, rendered as one message."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        self.text = "\n".join(d.render() for d in diagnostics)
        super().__init__(self.text)


class StatementError(Exception):
    """Raised inside the assembler for one bad statement; collected as a Diagnostic."""

    def __init__(self, column: int, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass
class Diagnostics:
    """The errors found so far; stops the assembly once there are MAX_ERRORS."""
    items: list[Diagnostic] = field(default_factory=list)

    def add(self, location: Location, column: int, message: str, order: int) -> None:
        diagnostic = Diagnostic(location, column, message, order)
        if diagnostic not in self.items:        # one per place: a pseudo's two words
            self.items.append(diagnostic)

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_ERRORS

    def raise_if_any(self) -> None:
        if self.items:
            ordered = sorted(self.items, key=lambda d: d.order)[:MAX_ERRORS]
            raise AssemblyError(ordered)
