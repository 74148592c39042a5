"""emu: a teaching emulator and hypervisor for a virtualizable subset of RISC-V."""
from emu.errors import ConfigError, CoreError, EmuError, ProgramError

__all__ = ["ConfigError", "CoreError", "EmuError", "ProgramError"]
