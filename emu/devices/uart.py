"""The board's 16550 UART as a Python model: each guest's under `emu hv`, reached
by decoding the load or store that faulted on it (docs/board.md, "UART").

The bare board's UART is in C (csrc/devices.c), on the fast path. This model
copies it register for register, interrupt line included, so that a guest sees
under `emu hv` exactly what it sees under `emu run --boot s`."""
from __future__ import annotations

from typing import Callable

from emu.devices import IrqLine, Registers

RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR = range(8)
IER_RDI, IER_THRI, IER_MASK = 0x01, 0x02, 0x0F
IIR_NONE, IIR_THRI, IIR_RDI, IIR_FIFO = 0x01, 0x02, 0x04, 0xC0
FCR_FIFO = 0x01
LSR_DR, LSR_THRE, LSR_TEMT = 0x01, 0x20, 0x40
LCR_DLAB = 0x80
MSR_IDLE = 0xB0             # carrier detect, data set ready, clear to send


class Uart(Registers):
    """Bytes written to THR go to `output`; RBR reads `input`; `irq` follows IIR."""
    base, size = 0x1000_0000, 0x100
    STATE = ("input", "lcr", "ier", "mcr", "scr", "dll", "dlm", "fcr", "thr_irq", "raised")

    def __init__(self, output: Callable[[bytes], None], data: bytes = b"",
                 irq: IrqLine = lambda raised: None):
        self.output, self.irq = output, irq
        self.input = bytearray(data)
        self.lcr = self.ier = self.mcr = self.scr = self.dll = self.dlm = self.fcr = 0
        self.thr_irq = False        # the transmitter-empty interrupt is pending
        self.raised = False

    def take_input(self, limit: int) -> bytes:
        """Input read on the guest's behalf (the SBI console reads the same queue)."""
        data = bytes(self.input[:limit])
        del self.input[:limit]
        self._update()
        return data

    def iir(self) -> int:
        """The highest-priority interrupt pending: received data, then the empty
        transmitter."""
        fifo = IIR_FIFO if self.fcr & FCR_FIFO else 0
        if self.ier & IER_RDI and self.input:
            return fifo | IIR_RDI
        if self.ier & IER_THRI and self.thr_irq:
            return fifo | IIR_THRI
        return fifo | IIR_NONE

    def load(self, offset: int, size: int) -> int:
        dlab = self.lcr & LCR_DLAB
        if offset == RBR_THR:
            return self.dll if dlab else (self.take_input(1) or b"\0")[0]
        if offset == IER:
            return self.dlm if dlab else self.ier
        if offset == IIR_FCR:
            iir = self.iir()
            if iir & ~IIR_FIFO == IIR_THRI:         # reading it clears that interrupt
                self.thr_irq = False
                self._update()
            return iir
        return {LCR: self.lcr, MCR: self.mcr, MSR: MSR_IDLE, SCR: self.scr,
                LSR: LSR_THRE | LSR_TEMT | (LSR_DR if self.input else 0)}.get(offset, 0)

    def store(self, offset: int, size: int, value: int) -> None:
        value &= 0xFF               # the registers are a byte wide
        dlab = self.lcr & LCR_DLAB
        if offset == RBR_THR and dlab:
            self.dll = value
        elif offset == RBR_THR:
            self.output(bytes([value]))
            self.thr_irq = True     # sent at once: the transmitter is empty again
        elif offset == IER and dlab:
            self.dlm = value
        elif offset == IER:
            if (value ^ self.ier) & IER_THRI:       # enabling it raises it: THR is empty
                self.thr_irq = bool(value & IER_THRI)
            self.ier = value & IER_MASK
        elif offset == IIR_FCR:
            self.fcr = value & FCR_FIFO             # a FIFO reset discards no input
        elif offset in (LCR, MCR, SCR):
            setattr(self, {LCR: "lcr", MCR: "mcr", SCR: "scr"}[offset], value)
        self._update()

    def _update(self) -> None:
        raised = not self.iir() & IIR_NONE
        if raised != self.raised:
            self.raised = raised
            self.irq(raised)
