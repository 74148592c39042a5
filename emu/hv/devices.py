"""Each guest's devices: the board's 16550 UART at its usual address, emulated by
decoding the load or store that faulted on it (docs/board.md, "UART").

The model copies csrc/devices.c register for register, so a guest that polls LSR
and writes THR sees under `emu hv` exactly what it sees under `emu run --boot s`.
Devices are declared by address range (as Bao's vm_emul_add_mem): a subclass of
the hypervisor may add its own to `Guest.devices`."""
from __future__ import annotations

from typing import Callable, Protocol

RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR = range(8)
LSR_DR, LSR_THRE, LSR_TEMT = 0x01, 0x20, 0x40
LCR_DLAB = 0x80
IIR_NONE = 0xC1             # FIFOs on, no interrupt pending
MSR_IDLE = 0xB0             # carrier detect, data set ready, clear to send


class Device(Protocol):
    """An emulated device: registers read and written by offset from its base."""
    base: int
    size: int

    def load(self, offset: int, size: int) -> int: ...
    def store(self, offset: int, size: int, value: int) -> None: ...


class Uart:
    """A 16550 subset: bytes written to THR go to `output`; RBR reads `input`."""
    base, size = 0x1000_0000, 0x100

    def __init__(self, output: Callable[[bytes], None], data: bytes = b""):
        self.output = output
        self.input = bytearray(data)
        self.lcr = self.ier = self.mcr = self.scr = self.dll = self.dlm = 0

    def take_input(self, limit: int) -> bytes:
        """Input read on the guest's behalf (the SBI console reads the same queue)."""
        data = bytes(self.input[:limit])
        del self.input[:limit]
        return data

    def load(self, offset: int, size: int) -> int:
        dlab = self.lcr & LCR_DLAB
        if offset == RBR_THR:
            return self.dll if dlab else (self.take_input(1) or b"\0")[0]
        if offset == IER:
            return self.dlm if dlab else self.ier
        return {IIR_FCR: IIR_NONE, LCR: self.lcr, MCR: self.mcr, MSR: MSR_IDLE, SCR: self.scr,
                LSR: LSR_THRE | LSR_TEMT | (LSR_DR if self.input else 0)}.get(offset, 0)

    def store(self, offset: int, size: int, value: int) -> None:
        value &= 0xFF               # the registers are a byte wide
        dlab = self.lcr & LCR_DLAB
        if offset == RBR_THR:
            if dlab:
                self.dll = value
            else:
                self.output(bytes([value]))
        elif offset == IER:
            if dlab:
                self.dlm = value
            else:
                self.ier = value
        elif offset in (LCR, MCR, SCR):
            setattr(self, {LCR: "lcr", MCR: "mcr", SCR: "scr"}[offset], value)
