"""The platform-level interrupt controller, as QEMU's virt machine has it (the
SiFive PLIC; RISC-V PLIC specification 1.0.0): interrupt sources 1-95, each with a
priority (0-7, 0 never interrupts) and a pending bit, and contexts, each with
its own enable bits, priority threshold and claim/complete register. Context 0 is
hart 0's M-mode (mip.MEIP), context 1 its S-mode (mip.SEIP, or a guest's virtual
SEIP). The board wires the UART to source 10 and virtio slot n to source 1+n.

A device signals its line (set_level) when something happens, as QEMU's devices
do: a raise makes the source pending, a new request even if the line was already
up; a lowering withdraws it. A claim takes the request (clears pending) and the
source stays out of later claims until it is completed; a completion does not by
itself make it pending again, except for a source whose device reports only
changes of its line (`sample`, the C UART's): its line is looked at once more."""
from __future__ import annotations

from typing import Callable

from emu.devices import BusError, IrqLine, Registers

SOURCES = 96                    # 0 is "no interrupt"; 1-95 are real sources
PRIORITY_MASK = 7               # three priority bits, as on QEMU virt

# Register offsets: priorities at 4 * source from 0, then
PENDING_BASE = 0x1000           # + 4 * word, 32 sources a word
ENABLE_BASE = 0x2000            # + 0x80 * context + 4 * word
ENABLE_STRIDE = 0x80
CONTEXT_BASE = 0x20_0000        # + 0x1000 * context: threshold at +0, claim/complete at +4
CONTEXT_STRIDE = 0x1000
WORDS = SOURCES // 32


class Plic(Registers):
    base, size = 0x0C00_0000, 0x60_0000
    STATE = ("priority", "pending", "claimed", "enable", "threshold", "raised")

    def __init__(self, outputs: list[IrqLine], sample: dict[int, Callable[[], bool]] | None = None):
        """outputs[c] is context c's interrupt line (hart 0: M-mode, then S-mode);
        sample[s] tells whether source s's line is raised now, for a device that
        signals only when its line changes."""
        self.outputs = outputs
        self.sample = sample or {}
        self.priority = [0] * SOURCES
        self.pending = 0                    # bit s: source s is pending
        self.claimed = 0                    # bit s: claimed, not yet completed
        self.enable = [0] * len(outputs)    # per context, bit s: source s enabled
        self.threshold = [0] * len(outputs)
        self.raised = [False] * len(outputs)

    # ---- the interrupt lines into the controller

    def set_level(self, source: int, raised: bool) -> None:
        bit = 1 << source
        self.pending = self.pending | bit if raised else self.pending & ~bit
        self._update()

    # ---- registers (32-bit only)

    def load(self, offset: int, size: int) -> int:
        register, context, word = self._decode(offset, size)
        if register == "priority":
            return self.priority[word]
        if register == "pending":
            return (self.pending >> 32 * word) & 0xFFFF_FFFF
        if register == "enable":
            return (self.enable[context] >> 32 * word) & 0xFFFF_FFFF
        if register == "threshold":
            return self.threshold[context]
        if register == "claim":
            return self._claim(context)
        return 0

    def store(self, offset: int, size: int, value: int) -> None:
        register, context, word = self._decode(offset, size)
        if register == "priority" and word:
            self.priority[word] = value & PRIORITY_MASK
        elif register == "enable":
            shift = 32 * word
            enable = self.enable[context] & ~(0xFFFF_FFFF << shift) | value << shift
            self.enable[context] = enable & ~1          # source 0 does not exist
        elif register == "threshold":
            self.threshold[context] = value & PRIORITY_MASK
        elif register == "claim":
            self._complete(context, value)
        self._update()

    def _decode(self, offset: int, size: int) -> tuple[str, int, int]:
        """Which register an offset names: (name, context, index), name "" for
        none (reads 0, writes ignored)."""
        if size != 4:
            raise BusError(f"the PLIC's registers are 32 bits wide, not {8 * size}")
        if offset < PENDING_BASE:
            return ("priority", 0, offset // 4) if offset < 4 * SOURCES else ("", 0, 0)
        if offset < ENABLE_BASE:
            word = (offset - PENDING_BASE) // 4
            return ("pending", 0, word) if word < WORDS else ("", 0, 0)
        if offset < CONTEXT_BASE:
            context, rest = divmod(offset - ENABLE_BASE, ENABLE_STRIDE)
            if context < len(self.outputs) and rest // 4 < WORDS:
                return "enable", context, rest // 4
            return "", 0, 0
        context, rest = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
        if context < len(self.outputs) and rest in (0, 4):
            return ("threshold" if rest == 0 else "claim"), context, 0
        return "", 0, 0

    # ---- claim and complete

    def _best(self, context: int) -> int:
        """The pending, enabled source of the highest priority above the
        context's threshold (the lowest number among equals), or 0."""
        ready = self.pending & ~self.claimed & self.enable[context]
        best, best_priority = 0, self.threshold[context]
        while ready:
            source = (ready & -ready).bit_length() - 1
            ready &= ready - 1
            if self.priority[source] > best_priority:
                best, best_priority = source, self.priority[source]
        return best

    def _claim(self, context: int) -> int:
        source = self._best(context)
        if source:
            self.pending &= ~(1 << source)
            self.claimed |= 1 << source
            self._update()
        return source

    def _complete(self, context: int, source: int) -> None:
        """A completion for a source not enabled for the context is ignored
        (PLIC specification, "Interrupt Completion")."""
        bit = 1 << source if 0 < source < SOURCES else 0
        if not bit & self.enable[context] & self.claimed:
            return
        self.claimed &= ~bit
        if source in self.sample and self.sample[source]():
            self.pending |= bit

    def _update(self) -> None:
        for context, output in enumerate(self.outputs):
            raised = self._best(context) != 0
            if raised != self.raised[context]:
                self.raised[context] = raised
                output(raised)
