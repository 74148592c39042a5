"""The flattened device tree (FDT) that tells software what machine it runs on
(docs/board.md, "Device tree"): built from a `Board` description, laid out in
the DTB format of the Devicetree Specification v0.4, chapter 5, and placed in RAM
as QEMU's riscv_compute_fdt_addr places it.

The node layout follows what QEMU's `virt` machine generates for one RV32 hart:
the same node names, compatible strings, phandles and cell sizes, so that a
kernel built for QEMU virt finds the same devices here. No library is used: the
one on PyPI (`fdt`) has had no release since 2022, and the writer is short."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Iterable, Union

from emu.core import lib
from emu.devices import plic, virtio
from emu.errors import ConfigError
from emu.isa import DEFAULT_ISA, isa_named

# ---- the board as the tree describes it (QEMU virt's memory map, docs/board.md)

TEST_BASE, TEST_SIZE = lib.EMU_TEST_BASE, 0x1000
CLINT_BASE, CLINT_SIZE = lib.EMU_CLINT_BASE, lib.EMU_CLINT_SIZE
PLIC_BASE, PLIC_SIZE = plic.Plic.base, plic.Plic.size
PLIC_SOURCES = plic.SOURCES                       # riscv,ndev, as QEMU virt's
UART_BASE, UART_SIZE, UART_IRQ = lib.EMU_UART_BASE, lib.EMU_UART_SIZE, lib.EMU_UART_IRQ
UART_CLOCK = 3_686_400                            # QEMU's 16550 input clock
VIRTIO_BASE, VIRTIO_SIZE, VIRTIO_SLOTS = virtio.SLOT_BASE, virtio.SLOT_SIZE, virtio.SLOT_COUNT
TEST_POWEROFF, TEST_RESET = 0x5555, 0x7777
# emu's time has no seconds (one mtime tick per instruction, docs/board.md "Time");
# the tree gives QEMU virt's 10 MHz, so to a kernel 10 million ticks are a second.
TIMEBASE_FREQUENCY = 10_000_000

# Interrupt numbers of the hart's local controller (privileged spec, mip bits).
IRQ_S_SOFT, IRQ_M_SOFT, IRQ_S_TIMER, IRQ_M_TIMER, IRQ_S_EXT, IRQ_M_EXT = 1, 3, 5, 7, 9, 11
# phandles, numbered as QEMU numbers them.
PHANDLE_CPU, PHANDLE_INTC, PHANDLE_PLIC, PHANDLE_TEST = 1, 2, 3, 4

DEVICES = ("clint", "plic", "test", "uart", "virtio")


def devices_at(bases: Iterable[int]) -> tuple[frozenset[str], int]:
    """The device names and virtio slot count of a machine whose devices sit at
    `bases` (a guest's device models, for instance)."""
    named = {TEST_BASE: "test", CLINT_BASE: "clint", PLIC_BASE: "plic", UART_BASE: "uart"}
    bases = set(bases)
    slots = 0
    while VIRTIO_BASE + slots * VIRTIO_SIZE in bases:
        slots += 1
    names = {named[base] for base in bases if base in named} | ({"virtio"} if slots else set())
    return frozenset(names), slots


@dataclass(frozen=True)
class Board:
    """What the tree says: RAM, the hart's ISA (a name of emu.isa.ISAS), the
    kernel's command line, and which of the board's devices are there."""
    ram_base: int
    mem: int
    isa: str = DEFAULT_ISA
    bootargs: str = ""
    devices: frozenset[str] = frozenset(DEVICES)
    virtio_slots: int = VIRTIO_SLOTS


def riscv_isa(isa: str) -> tuple[str, list[str]]:
    """The `riscv,isa` string in the form Linux and OpenSBI parse (the single
    letters in canonical order, then the Z extensions), and the list that the
    newer `riscv,isa-extensions` property holds. S and U are not extensions here:
    mmu-type says the hart has S-mode and paging."""
    letters = [letter.lower() for letter in "IMAFDC" if letter in isa_named(isa).extensions]
    multi = ["zicntr", "zicsr", "zifencei"]     # cycle/time/instret, CSRs, FENCE.I
    return f"rv32{''.join(letters)}_{'_'.join(multi)}", letters + multi


# ---- the tree

Value = Union[int, str, bytes, bool, list]


@dataclass
class Node:
    name: str
    props: dict[str, Value] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)

    def add(self, name: str, props: dict[str, Value]) -> Node:
        child = Node(name, props)
        self.children.append(child)
        return child


def reg(base: int, size: int) -> list[int]:
    """A reg value with #address-cells = #size-cells = 2, as QEMU virt uses."""
    return [base >> 32, base & 0xFFFF_FFFF, size >> 32, size & 0xFFFF_FFFF]


def tree(board: Board) -> Node:
    """The machine as nodes, in QEMU virt's order, names and phandles."""
    has = board.devices.__contains__
    root = Node("", {"#address-cells": 2, "#size-cells": 2, "compatible": "riscv-virtio",
                     "model": "riscv-virtio,emu"})
    chosen = root.add("chosen", {})
    if board.bootargs:
        chosen.props["bootargs"] = board.bootargs
    if has("uart"):
        chosen.props["stdout-path"] = f"/soc/serial@{UART_BASE:x}"
    if has("test"):
        for name, value in (("poweroff", TEST_POWEROFF), ("reboot", TEST_RESET)):
            root.add(name, {"value": value, "offset": 0, "regmap": PHANDLE_TEST,
                            "compatible": f"syscon-{name}"})
    root.add(f"memory@{board.ram_base:x}",
             {"device_type": "memory", "reg": reg(board.ram_base, board.mem)})
    isa, extensions = riscv_isa(board.isa)
    cpus = root.add("cpus", {"#address-cells": 1, "#size-cells": 0,
                             "timebase-frequency": TIMEBASE_FREQUENCY})
    cpu = cpus.add("cpu@0", {
        "phandle": PHANDLE_CPU, "device_type": "cpu", "reg": 0, "status": "okay",
        "compatible": "riscv", "riscv,isa": isa, "riscv,isa-base": "rv32i",
        "riscv,isa-extensions": extensions, "mmu-type": "riscv,sv32"})
    cpu.add("interrupt-controller", {"#interrupt-cells": 1, "interrupt-controller": True,
                                     "compatible": "riscv,cpu-intc", "phandle": PHANDLE_INTC})
    soc = root.add("soc", {"#address-cells": 2, "#size-cells": 2, "compatible": "simple-bus",
                           "ranges": True})

    def wired(irq: int) -> dict[str, Value]:
        """A device's interrupt line, when there is a PLIC to take it."""
        return {"interrupts": irq, "interrupt-parent": PHANDLE_PLIC} if has("plic") else {}

    if has("uart"):
        soc.add(f"serial@{UART_BASE:x}", {**wired(UART_IRQ), "clock-frequency": UART_CLOCK,
                                          "reg": reg(UART_BASE, UART_SIZE),
                                          "compatible": "ns16550a"})
    if has("test"):
        soc.add(f"test@{TEST_BASE:x}", {"phandle": PHANDLE_TEST, "reg": reg(TEST_BASE, TEST_SIZE),
                                        "compatible": ["sifive,test1", "sifive,test0", "syscon"]})
    if has("virtio"):
        for slot in reversed(range(board.virtio_slots)):    # as QEMU: Linux finds slot 0 first
            base = VIRTIO_BASE + slot * VIRTIO_SIZE
            soc.add(f"virtio_mmio@{base:x}", {**wired(virtio.slot_irq(slot)),
                                              "reg": reg(base, VIRTIO_SIZE),
                                              "compatible": "virtio,mmio"})
    if has("plic"):
        soc.add(f"plic@{PLIC_BASE:x}", {
            "phandle": PHANDLE_PLIC, "riscv,ndev": PLIC_SOURCES, "reg": reg(PLIC_BASE, PLIC_SIZE),
            "interrupts-extended": [PHANDLE_INTC, IRQ_M_EXT, PHANDLE_INTC, IRQ_S_EXT],
            "interrupt-controller": True, "compatible": ["sifive,plic-1.0.0", "riscv,plic0"],
            "#address-cells": 0, "#interrupt-cells": 1})
    if has("clint"):
        soc.add(f"clint@{CLINT_BASE:x}", {
            "interrupts-extended": [PHANDLE_INTC, IRQ_M_SOFT, PHANDLE_INTC, IRQ_M_TIMER],
            "reg": reg(CLINT_BASE, CLINT_SIZE), "compatible": ["sifive,clint0", "riscv,clint0"]})
    return root


def build(board: Board) -> bytes:
    """The device tree blob of the board."""
    return to_dtb(tree(board))


# ---- the DTB format (Devicetree Specification v0.4, chapter 5)

FDT_MAGIC = 0xD00D_FEED
FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_END = 1, 2, 3, 9
FDT_VERSION, FDT_LAST_COMP_VERSION = 17, 16
HEADER = struct.Struct(">10I")      # section 5.2: ten big-endian 32-bit fields
RESERVE_ENTRY = struct.Struct(">QQ")


def _pad4(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


def encode(value: Value) -> bytes:
    """A property value (section 2.2.4): True is an empty property, an int one
    big-endian cell, a str a NUL-terminated string, a list of ints cells and a
    list of strs a string list."""
    if value is True:
        return b""
    if isinstance(value, int):
        return struct.pack(">I", value)
    if isinstance(value, str):
        return value.encode() + b"\0"
    if isinstance(value, bytes):
        return value
    if all(isinstance(item, str) for item in value):
        return b"".join(item.encode() + b"\0" for item in value)
    return struct.pack(f">{len(value)}I", *value)


def to_dtb(root: Node, boot_cpuid: int = 0) -> bytes:
    """Header, memory reservation block (empty: the (0, 0) terminator), structure
    block and strings block, in that order (section 5.1)."""
    strings, offsets = bytearray(), {}
    structure = bytearray()

    def name_offset(name: str) -> int:
        if name not in offsets:
            offsets[name] = len(strings)
            strings.extend(name.encode() + b"\0")
        return offsets[name]

    def emit(node: Node) -> None:
        structure.extend(struct.pack(">I", FDT_BEGIN_NODE) + _pad4(node.name.encode() + b"\0"))
        for name, value in node.props.items():
            data = encode(value)
            structure.extend(struct.pack(">III", FDT_PROP, len(data), name_offset(name)))
            structure.extend(_pad4(data))
        for child in node.children:
            emit(child)
        structure.extend(struct.pack(">I", FDT_END_NODE))

    emit(root)
    structure.extend(struct.pack(">I", FDT_END))
    reserve = RESERVE_ENTRY.pack(0, 0)
    off_reserve = HEADER.size                   # 40: already 8-byte aligned (section 5.3)
    off_struct = off_reserve + len(reserve)
    off_strings = off_struct + len(structure)
    total = off_strings + len(strings)
    header = HEADER.pack(FDT_MAGIC, total, off_struct, off_strings, off_reserve, FDT_VERSION,
                         FDT_LAST_COMP_VERSION, boot_cpuid, len(strings), len(structure))
    return header + reserve + bytes(structure) + bytes(strings)


def check_blob(data: bytes, source: str) -> bytes:
    """A blob given by the user (--dtb): it must be a DTB, whole. Returns it cut to
    its totalsize."""
    if len(data) < HEADER.size:
        raise ConfigError(f"{source}: not a device tree blob: only {len(data)} bytes")
    magic, total, *_ = HEADER.unpack_from(data)
    if magic != FDT_MAGIC:
        raise ConfigError(f"{source}: not a device tree blob: its magic is {magic:#010x}, "
                          f"not {FDT_MAGIC:#010x} (compile a .dts with `dtc -O dtb`)")
    if not HEADER.size <= total <= len(data):
        raise ConfigError(f"{source}: a truncated device tree blob: its header says "
                          f"{total} bytes, the file has {len(data)}")
    return data[:total]


# ---- where the blob goes (QEMU hw/riscv/boot.c, riscv_compute_fdt_addr)

FDT_ALIGN = 2 << 20                 # QEMU's alignment
FALLBACK_ALIGN = 4096               # when no 2 MiB-aligned spot is free: small RAM
ADDRESS_LIMIT = 3 << 30             # QEMU keeps the tree below 3 GiB for 32-bit software


def for_program(board: Board, given: bytes | None, segments: Iterable) -> tuple[bytes, int]:
    """The blob a machine loading a program with these segments passes in a1 (the
    one given with --dtb, else the board's own), and where it goes in RAM."""
    blob = build(board) if given is None else given
    spans = [(seg.paddr, seg.paddr + seg.memsz) for seg in segments]
    return blob, place(len(blob), board.ram_base, board.mem, spans)


def place(size: int, ram_base: int, mem: int, taken: Iterable[tuple[int, int]]) -> int:
    """The address of a blob of `size` bytes: the highest 2 MiB-aligned address at
    which it lies in RAM below 3 GiB and overlaps none of the `taken` (start, end)
    ranges (the program's segments); failing that the highest 4 KiB-aligned one."""
    top = ram_base + mem if ram_base >= ADDRESS_LIMIT else min(ram_base + mem, ADDRESS_LIMIT)
    taken = sorted(taken, key=lambda span: span[1], reverse=True)
    for align in (FDT_ALIGN, FALLBACK_ALIGN):
        address = (top - size) // align * align
        while address >= ram_base:
            clash = next((start for start, end in taken
                          if start < address + size and address < end), None)
            if clash is None:
                return address
            address = (clash - size) // align * align
    raise ConfigError(f"no room in RAM for the {size}-byte device tree beside the program: "
                      "give more memory with --mem")
