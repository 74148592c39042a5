"""A whole machine: the core, the board's host side, a loaded program, and the
firmware when one boots it. `emu run` drives one; so do the tests and tools.

Machine.run services the core's exits (console output, HTIF, SBI calls) and
returns a Stop when something the caller must decide happens: the program ended,
the instruction limit was reached, a breakpoint, or a crash."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable

from emu.core import Access, Core, Exit, lib
from emu.devices import BusError, Device, RamAccess
from emu.devices.disk import Disk
from emu.devices.plic import Plic
from emu.devices.virtio import LEGACY, disk_slots
from emu.devicetree import Board, for_program
from emu.elf import Program
from emu.errors import CoreError, ProgramError
from emu.isa import CSRS, DEFAULT_ISA, cause_name, decode, isa_named, trap_loop_message
from emu.platform import DEFAULT_RAM, RAM_BASE, Console, htif_command
from emu.sbi import Firmware

SLICE = 1 << 22     # instructions per call into the core: Ctrl-C and terminal input wait no longer
ILLEGAL_INSTRUCTION = 2
MEIP, SEIP = 1 << 11, 1 << 9        # the PLIC's outputs in mip: contexts 0 and 1
A0, A1 = 10, 11


class StopReason(enum.Enum):
    EXIT = "exit"               # the program stopped itself, with a status
    LIMIT = "limit"             # the instruction limit was reached
    BREAKPOINT = "breakpoint"
    CRASH = "crash"             # a trap loop, a wait that cannot end, a trap no one takes
    CAUGHT = "caught"           # a caught trap was taken (Core.catch_set): pc is its handler
    WATCH = "watch"             # an access touched a watchpoint (Core.watch_add)


@dataclass
class Stop:
    reason: StopReason
    status: int = 0
    message: str = ""


@dataclass
class Machine:
    """One hart on the board, with `mem` bytes of RAM at 0x80000000, that runs the
    ISA `isa` names (emu.isa.ISAS: rv32ima, or rv32ia without M), with `disks` in
    its virtio slots (transport `virtio`: 1 legacy, 2 modern). `load` places a
    device tree in RAM: `dtb` if given (a checked blob, --dtb), else one that
    describes this machine, with `bootargs` as the kernel's command line."""
    mem: int = DEFAULT_RAM
    console: Console = field(default_factory=lambda: Console.from_stdio(b""))
    isa: str = DEFAULT_ISA
    disks: list[Disk] = field(default_factory=list)
    virtio: int = LEGACY
    bootargs: str = ""
    dtb: bytes | None = None
    core: Core = field(init=False)
    program: Program | None = field(init=False, default=None)
    firmware: Firmware | None = field(init=False, default=None)
    devices: list[Device] = field(init=False)
    device_tree: bytes = field(init=False, default=b"")     # the blob placed in RAM
    dtb_address: int = field(init=False, default=0)
    _stop: Stop | None = field(init=False, default=None)

    def __post_init__(self):
        misa = isa_named(self.isa).misa
        self.core = Core(self.mem)
        self.core.set_misa(misa)
        self._external = 0
        self._uart_line = False
        self.plic = Plic([self._external_line(MEIP), self._external_line(SEIP)],
                         sample={lib.EMU_UART_IRQ: lambda: self._uart_line})
        memory = RamAccess(self.read_ram, self.write_ram)
        self.devices = [self.plic, *disk_slots(self.disks, memory, self.plic, self.virtio)]
        for device in self.devices:
            self.core.mmio_add(device.base, device.size)
        self._on_exit: dict[Exit, Callable[[], Stop | None]] = {
            Exit.BUDGET: lambda: None,
            Exit.OUTPUT: lambda: None,
            Exit.TRAP: self._trap,
            Exit.BREAKPOINT: lambda: Stop(StopReason.BREAKPOINT),
            Exit.MMIO: self._mmio,
            Exit.WFI: self._wfi,
            Exit.POWEROFF: lambda: Stop(StopReason.EXIT, self.core.exit.status,
                                        "the test device powered off"),
            Exit.HTIF: self._htif,
            Exit.TRAP_LOOP: self._trap_loop,
            Exit.CAUGHT: lambda: Stop(StopReason.CAUGHT),
            Exit.WATCH: lambda: Stop(StopReason.WATCH),
            Exit.IRQ: self._device_lines,
        }

    # ---- loading

    @property
    def board(self) -> Board:
        """This machine as its device tree describes it."""
        return Board(RAM_BASE, self.mem, self.isa, self.bootargs)

    def load(self, program: Program, boot: str = "m") -> None:
        """Lay out the program's segments and the device tree in RAM and start it:
        in M-mode at its entry (boot "m"), or in S-mode under the SBI firmware
        (boot "s"). Either way a0 = hart id 0 and a1 = the tree's address, as
        QEMU's reset vector and OpenSBI pass them."""
        top = RAM_BASE + self.mem
        for seg in program.segments:
            if not RAM_BASE <= seg.paddr <= seg.paddr + seg.memsz <= top:
                raise ProgramError(
                    f"{program.path}: a segment at {seg.paddr:#x}-{seg.paddr + seg.memsz:#x} "
                    f"lies outside RAM ({RAM_BASE:#x}-{top:#x}); link it at {RAM_BASE:#x}"
                    + ("" if seg.paddr < RAM_BASE else " or give more memory with --mem"))
        if not RAM_BASE <= program.entry < top:
            raise ProgramError(f"{program.path}: its entry point {program.entry:#x} is not in "
                               f"RAM ({RAM_BASE:#x}-{top:#x})")
        for seg in program.segments:
            self.core.write(seg.paddr, seg.data + bytes(seg.memsz - len(seg.data)))
        self.device_tree, self.dtb_address = for_program(self.board, self.dtb, program.segments)
        self.core.write(self.dtb_address, self.device_tree)
        self.program = program
        tohost = program.symbols.get("tohost")
        if tohost is not None:
            self.core.htif_set(tohost, program.symbols.get("fromhost", 0))
        if boot == "s":
            self.firmware = Firmware(self)
            self.firmware.boot(program.entry, dtb=self.dtb_address)
        else:
            self.core.x[A0], self.core.x[A1] = 0, self.dtb_address
            self.core.pc = program.entry

    # ---- state, for tools and the firmware

    @property
    def x(self):
        return self.core.x

    @property
    def pc(self) -> int:
        return self.core.pc

    @pc.setter
    def pc(self, value: int) -> None:
        self.core.pc = value

    def csr(self, name: str) -> int:
        return self.core.csr_read(CSRS[name])

    def read_ram(self, addr: int, size: int) -> bytes | None:
        try:
            return self.core.read(addr, size)
        except CoreError:
            return None

    def write_ram(self, addr: int, data: bytes) -> bool:
        try:
            self.core.write(addr, data)
            return True
        except CoreError:
            return False

    def fetch(self, vaddr: int) -> int | None:
        """The instruction word at vaddr as the hart would fetch it now."""
        paddr = self.core.translate(vaddr, Access.FETCH)
        data = None if paddr is None else self.read_ram(paddr, 4)
        return None if data is None else int.from_bytes(data, "little")

    def power_off(self, status: int, why: str) -> None:
        self._stop = Stop(StopReason.EXIT, status, why)

    def halt(self, why: str) -> None:
        """The hart stopped and nothing can start it again: a crash, as a dead WFI."""
        self._stop = Stop(StopReason.CRASH, message=why)

    # ---- running

    def run(self, max_insns: int | None = None,
            trace: Callable[[Machine], None] | None = None) -> Stop:
        """Run until the program stops, or max_insns instructions have executed.
        With trace, the core runs one instruction at a time and trace(self) is
        called before each."""
        end = None if max_insns is None else self.core.steps + max_insns
        while True:
            budget = SLICE if end is None else min(SLICE, end - self.core.steps)
            if budget <= 0:
                return Stop(StopReason.LIMIT, message=f"stopped after {max_insns} instructions "
                            "(--max-insns)")
            if trace:
                trace(self)
                budget = 1
            self._offer_input()
            reason = self.core.run(budget)
            self.console.write(self.core.uart_take())
            stop = self._on_exit[reason]() or self._stop
            if stop:
                self._stop = None
                return stop

    def _trap(self) -> Stop | None:
        if self.firmware and self.firmware.handle_trap():
            return None
        e = self.core.exit
        return Stop(StopReason.CRASH, message=(
            f"{cause_name(e.cause)} at pc {e.pc:#010x} (tval {e.tval:#x}) trapped to "
            "M-mode, and the SBI firmware does not handle it: delegate it to S-mode or "
            "handle it in your kernel"))

    # ---- the devices the host emulates (emu/devices), and interrupt lines

    def _offer_input(self) -> None:
        data = self.console.read()
        if data:
            self.core.uart_input(data)
            self._device_lines()

    def _device_lines(self) -> None:
        """Hand the C devices' interrupt lines (the UART's) to the PLIC."""
        self._uart_line = bool(self.core.device_lines() >> lib.EMU_UART_IRQ & 1)
        self.plic.set_level(lib.EMU_UART_IRQ, self._uart_line)

    def _external_line(self, bit: int):
        def drive(raised: bool) -> None:
            self._external = self._external | bit if raised else self._external & ~bit
            self.core.set_external(self._external)
        return drive

    def device_state(self) -> list:
        """The host's device models, for the debugger's checkpoints."""
        return [device.state() for device in self.devices]

    def load_device_state(self, state: list) -> None:
        for device, saved in zip(self.devices, state):
            device.restore(saved)

    def _mmio(self) -> Stop | None:
        e = self.core.exit
        device = next(d for d in self.devices if 0 <= e.addr - d.base < d.size)
        try:
            if e.is_write:
                device.store(e.addr - device.base, e.size, e.data)
                self.core.mmio_reply(0)
            else:
                self.core.mmio_reply(device.load(e.addr - device.base, e.size))
        except BusError:
            self.core.mmio_fault()
        return None

    def _wfi(self) -> Stop | None:
        mie = self.csr("mie")
        timer, external = 1 << 7 | 1 << 5, MEIP | SEIP
        if mie & external and self.console.wait():
            return None             # typed input: the UART may interrupt now
        if not mie:
            why = "no interrupt is enabled in mie"
        elif mie & external and not mie & ~external:
            why = "only external interrupts are enabled, and the console input has ended"
        elif mie & timer and self.core.mtimecmp == (1 << 64) - 1:
            why = "the timer is enabled in mie, but mtimecmp is never reached"
        else:
            why = "none of the interrupts enabled in mie can become pending"
        return Stop(StopReason.CRASH, message=(
            f"WFI at pc {self.core.pc:#010x} waits for an interrupt that can never come: "
            + why))

    def _htif(self) -> Stop | None:
        result = htif_command(self.core, self.console, self.core.exit.htif)
        if result.exit_status is not None:
            return Stop(StopReason.EXIT, result.exit_status, "the program wrote tohost")
        if result.error:
            return Stop(StopReason.CRASH, message=result.error)
        self.core.htif_ack(result.fromhost)
        return None

    def _trap_loop(self) -> Stop:
        e, log = self.core.exit, self.core.trap_log()
        handler_ran = len(log) > 1 and log[-1].steps - log[-2].steps > 1
        return Stop(StopReason.CRASH, message=trap_loop_message(
            e.cause, e.pc, e.tval, "mtvec or stvec", handler_ran) + self._loop_began())

    def _loop_began(self) -> str:
        """When the trap just before a loop was an instruction this ISA leaves out
        (the loop's first trap came from its handler's first fetch), say so: the
        loop's own message names only the last exception."""
        e, log = self.core.exit, self.core.trap_log()
        first = len(log)
        while first and (log[first - 1].cause, log[first - 1].epc) == (e.cause, e.pc):
            first -= 1
        if first in (0, len(log)) or log[first - 1].steps + 1 != log[first].steps:
            return ""
        began, isa = log[first - 1], isa_named(self.isa)
        decoded = decode(began.tval) if began.cause == ILLEGAL_INSTRUCTION else None
        if decoded is None or isa.has(decoded[0]):
            return ""
        insn = decoded[0]
        return (f" It began at pc {began.epc:#010x}: {insn.name} is an illegal instruction "
                f"under --isa {isa.name}, which has no {insn.extension} extension")
