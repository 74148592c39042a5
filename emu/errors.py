"""One exception tree for everything a user can get wrong. The CLI turns an
EmuError into a one-paragraph message and a non-zero status, never a traceback."""


class EmuError(Exception):
    """Base of every error emu reports to its user."""


class ProgramError(EmuError):
    """The program file cannot be run: missing, not an ELF, the wrong machine,
    or laid out where this board has no RAM."""


class ConfigError(EmuError):
    """A bad option or setting: a RAM size, a budget, an input file."""


class CoreError(EmuError):
    """The C core could not be made or used (out of memory, stale build)."""
