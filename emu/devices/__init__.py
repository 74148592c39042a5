"""Device models in Python: the board's devices that are not on the fast path
(the PLIC, virtio disks). One model serves the bare board (`emu run`, reached by
the core's MMIO exits) and every guest under `emu hv` (reached by the trapped load
or store), because a model touches nothing but what it is given:

- its registers, read and written by offset from its base (Device);
- memory, through a Memory accessor: the host's RAM for the board, one guest's RAM
  for a guest. Addresses are the machine's physical (a guest's guest-physical)
  addresses, and an access outside that RAM raises DmaError, so a device's DMA
  can never leave the machine it belongs to;
- its interrupt, an IrqLine: a callable that sets the line's level (True raised),
  wired to a PLIC source."""
from __future__ import annotations

import copy
from typing import Callable, Protocol


class DmaError(Exception):
    """A device's memory access that is not all inside the machine's RAM."""


class BusError(Exception):
    """A register access the device does not accept (a wrong width, say): the
    hart sees an access fault."""


class Memory(Protocol):
    def read(self, addr: int, size: int) -> bytes: ...
    def write(self, addr: int, data: bytes) -> None: ...


class Device(Protocol):
    """An emulated device: registers read and written by offset from its base.
    size is the access width in bytes (1, 2 or 4); a store's value holds only the
    bytes stored. Either may raise BusError."""
    base: int
    size: int

    def load(self, offset: int, size: int) -> int: ...
    def store(self, offset: int, size: int, value: int) -> None: ...

    # Its state, as a value that later changes to the device do not alter, and
    # back (the debugger's checkpoints; the wiring is not state).
    def state(self) -> object: ...
    def restore(self, state: object) -> None: ...


IrqLine = Callable[[bool], None]


class RamAccess:
    """A Memory over a machine's RAM, given as two functions that answer None
    (read) or False (write) outside it: the core's for the board, a GuestRam's
    for a guest."""

    def __init__(self, read: Callable[[int, int], bytes | None],
                 write: Callable[[int, bytes], bool]):
        self._read, self._write = read, write

    def read(self, addr: int, size: int) -> bytes:
        data = self._read(addr, size)
        if data is None:
            raise DmaError(f"{size} bytes at {addr:#x} are not all in RAM")
        return data

    def write(self, addr: int, data: bytes) -> None:
        if not self._write(addr, data):
            raise DmaError(f"{len(data)} bytes at {addr:#x} are not all in RAM")


class Registers:
    """A model's state for checkpoints: the attributes STATE names, copied (the
    wiring, its output callables, is not state)."""
    STATE: tuple[str, ...] = ()

    def state(self) -> tuple:
        return tuple(copy.copy(getattr(self, name)) for name in self.STATE)

    def restore(self, state: tuple) -> None:
        for name, value in zip(self.STATE, state):
            setattr(self, name, copy.copy(value))
