"""One exception tree for everything a user can get wrong. The CLI turns an
EmuError into a one-paragraph message and a non-zero status, never a traceback.
Errors in code that is not emu's (a hypervisor subclass, a lab answer) are named
by where they were raised."""
import traceback
from pathlib import Path


class EmuError(Exception):
    """Base of every error emu reports to its user."""


class ProgramError(EmuError):
    """The program file cannot be run: missing, not an ELF, the wrong machine,
    or laid out where this board has no RAM."""


class ConfigError(EmuError):
    """A bad option or setting: a RAM size, a budget, an input file."""


class CoreError(EmuError):
    """The C core could not be made or used (out of memory, stale build)."""


def where_raised(error: BaseException, among: Path | None = None) -> str:
    """Where an exception was raised, as "FILE, line N, in FUNCTION": the innermost
    frame in a file under `among` (a student's directory) if there is one, else the
    innermost outside emu's own code (a subclass's, say), else the innermost."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    package = Path(__file__).resolve().parent

    def under(frame, directory: Path) -> bool:
        return Path(frame.filename).resolve().is_relative_to(directory)

    preferred = ([f for f in frames if under(f, among.resolve())] if among else []) or \
        [f for f in frames if not under(f, package)] or frames
    frame = preferred[-1]
    return f"{Path(frame.filename).name}, line {frame.lineno}, in {frame.name}"


def describe_error(error: BaseException, among: Path | None = None) -> str:
    """An exception from code that is not emu's, for its author: what and where."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if isinstance(error, SyntaxError):      # its text names the file and line already
        return text
    where = where_raised(error, among)
    return f"{text} ({where})" if where else text
