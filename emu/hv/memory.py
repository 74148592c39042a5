"""Guest memory and shadow page tables (privileged spec 1.12 section 4.3;
mit-pdos/RVirt src/pfault.rs).

Host RAM, as the one core sees it, is carved up once:

    0x8000_0000  guest 0's RAM     (its --mem, rounded up to 4 MiB)
                 guest 1's RAM
                 ...
                 guest 0's shadow pool, guest 1's shadow pool, ...

Every guest sees its own RAM at guest-physical 0x8000_0000. Guests run in real
U-mode under a shadow page table, and a shadow table only ever maps frames of
its own guest's RAM: the pools (the shadow tables themselves), other guests' RAM
and the devices are never mapped, so a guest can reach them by no address.

A shadow table is the composition of two translations:

    guest virtual --(the guest's own Sv32 table, or none when satp = 0)--> guest
    physical --(host_base + (gpa - 0x8000_0000), if inside its RAM)--> host physical

It starts empty and is filled on the page faults it causes (a "shadow fill",
invisible to the guest), one page (or one 4 MiB megapage) at a time. A fault that
the guest's own table explains is the guest's: it is reflected into the guest
kernel. The pool of table frames is bounded per guest: when it runs out, all that
guest's shadows are dropped and refilled lazily."""
from __future__ import annotations

import enum
import struct
from typing import NamedTuple

from emu.core import RAM_BASE, Access, Core, Priv
from emu.devices import Device
from emu.hv.vcpu import SATP_SV32, VirtualHart

PAGE_SIZE = 4096
MEGAPAGE = 4 << 20
PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_A, PTE_D = 1, 2, 4, 8, 16, 64, 128
PTE_PPN_SHIFT = 10
PAGE_FAULT = {Access.LOAD: 13, Access.STORE: 15, Access.FETCH: 12}
ACCESS_FAULT = {Access.LOAD: 5, Access.STORE: 7, Access.FETCH: 1}
_WORD = struct.Struct("<I")


class GuestRam:
    """One guest's RAM: guest-physical [0x8000_0000, +size) at host_base in the core."""

    def __init__(self, core: Core, host_base: int, size: int):
        self.core, self.host_base, self.size = core, host_base, size

    def contains(self, gpa: int, size: int = 1) -> bool:
        return RAM_BASE <= gpa and gpa + size <= RAM_BASE + self.size

    def host(self, gpa: int) -> int:
        return self.host_base + (gpa - RAM_BASE)

    def read(self, gpa: int, size: int) -> bytes | None:
        if size < 0 or not self.contains(gpa, size):
            return None
        return self.core.read(self.host(gpa), size)

    def write(self, gpa: int, data: bytes) -> bool:
        if not self.contains(gpa, len(data)):
            return False
        self.core.write(self.host(gpa), data)
        return True

    def read_word(self, gpa: int) -> int | None:
        if not self.contains(gpa, 4):
            return None
        return _WORD.unpack_from(self.core.ram, self.host(gpa) - RAM_BASE)[0]


class Fault(enum.Enum):
    """What a shadow page fault turned out to be."""
    FILLED = "shadow fill"        # the shadow now maps the page: run the instruction again
    GUEST = "guest fault"         # the guest's own table (or RAM size) says no: reflect it
    DEVICE = "mmio"               # the guest-physical address is a device: emulate the access


# Made on every page-fault exit: named tuples, as emulate.py's Trap and Action.
class FaultResult(NamedTuple):
    kind: Fault
    cause: int = 0                # GUEST: the exception the guest receives (stval = va)
    gpa: int = 0                  # DEVICE: the guest-physical address


class Walk(NamedTuple):
    """A successful walk of the guest's table: the guest-physical address, the leaf
    PTE (after A/D were set) and its level (1: a 4 MiB megapage)."""
    gpa: int
    pte: int
    level: int


class PoolExhausted(Exception):
    """No frame left in a guest's shadow pool: `fault` and `satp_for` flush the
    guest's shadows and try once more."""


def pte_allows(pte: int, access: Access, priv: Priv, sum_: bool, mxr: bool) -> bool:
    """May a leaf PTE be used for this access at this privilege (section 4.3.2
    step 5, with SUM and MXR from section 4.1.1)? As csrc/mmu.c's pte_allows."""
    if pte & PTE_U:
        if priv == Priv.S and (access == Access.FETCH or not sum_):
            return False
    elif priv == Priv.U:
        return False
    if access == Access.FETCH:
        return bool(pte & PTE_X)
    if access == Access.STORE:
        return bool(pte & PTE_W)
    return bool(pte & PTE_R or (mxr and pte & PTE_X))


class ShadowPager:
    """The shadow page tables of one guest: one root per kind of guest context
    (RVirt's choice), each a table in the guest's bounded pool:

        ("bare",)               guest satp = 0, in virtual S or U: guest-physical
        (S, sum, mxr)           guest Sv32, virtual S, by sstatus.SUM and MXR
        (U, False, mxr)         guest Sv32, virtual U: guest kernel pages absent

    Separate roots keep the guest's user code out of its kernel's pages, and let
    the same page be readable to the kernel with SUM and absent without it.

    A shadow fault (`fault`) walks the guest's table (`walk`), and, when the
    access is the hypervisor's to resolve, maps the page (`fill`) with the
    rights of this context (`permissions`); `flush` and `flush_address` drop
    shadows when the guest's tables may have changed. Those five, and
    `pte_allows`, are what a subclass (lab 03) writes; the rest are the
    building blocks they use: `root_for`, `alloc_table`, `read_pte`,
    `write_pte`, `reclaim_pool`, `invalidate_tlb` and the guest's `ram`."""

    def __init__(self, core: Core, ram: GuestRam, pool_base: int, pool_pages: int):
        if pool_pages < 2:
            raise ValueError("a shadow pool needs at least two pages: a root and a table")
        self.core, self.ram = core, ram
        self.frames = [pool_base + i * PAGE_SIZE for i in range(pool_pages)]
        self.free = list(reversed(self.frames))
        self.roots: dict[tuple, int] = {}
        self.generation = 0           # bumped whenever a mapping is removed: flush the TLB
        self.recycles = 0             # times the pool ran out and everything was dropped
        self.fills = 0
        self.devices: list[Device] = []   # the guest's devices (its Guest sets them): never mapped

    # ---- building blocks: roots, the pool, shadow PTEs, the real TLB

    @staticmethod
    def root_key(hart: VirtualHart) -> tuple:
        if not hart.paging:
            return ("bare",)
        if hart.priv == Priv.U:
            return (Priv.U, False, hart.mxr)
        return (Priv.S, hart.sum, hart.mxr)

    def satp_for(self, hart: VirtualHart) -> int:
        """The real satp that runs this guest context now."""
        try:
            root = self.root_for(hart)
        except PoolExhausted:
            self.flush()
            self.recycles += 1
            root = self.root_for(hart)
        return SATP_SV32 | (root >> 12)

    def root_for(self, hart: VirtualHart) -> int:
        """The host-physical address of the shadow root for the hart's current
        context, allocated from the pool (PoolExhausted) if it has none yet."""
        key = self.root_key(hart)
        root = self.roots.get(key)
        if root is None:
            root = self.roots[key] = self.alloc_table()
        return root

    def alloc_table(self) -> int:
        """A zeroed frame of the pool for a shadow table, or PoolExhausted."""
        if not self.free:
            raise PoolExhausted(f"the shadow pool ({len(self.frames)} pages) has no free "
                                "frame left, even after flush()")
        frame = self.free.pop()
        self.core.write(frame, bytes(PAGE_SIZE))
        return frame

    def reclaim_pool(self) -> None:
        """Every frame of the pool is free again: whatever tables were in them are
        garbage from now on, so nothing may still point at them."""
        self.free = list(reversed(self.frames))

    def invalidate_tlb(self) -> None:
        """A shadow mapping was removed or narrowed: the core's TLB may still hold
        it. The hypervisor rewrites the real satp before the guest runs again,
        which flushes the TLB (a real hypervisor's SFENCE.VMA)."""
        self.generation += 1

    def read_pte(self, hpa: int) -> int:
        """The shadow PTE at host-physical address hpa (a slot of a pool table)."""
        return _WORD.unpack_from(self.core.ram, hpa - RAM_BASE)[0]

    def write_pte(self, hpa: int, pte: int) -> None:
        self.core.write(hpa, _WORD.pack(pte))

    # ---- dropping shadows: SFENCE.VMA, satp writes, a full pool

    def flush(self) -> None:
        """Drop every shadow of this guest and take back all its pool frames."""
        self.roots.clear()
        self.reclaim_pool()
        self.invalidate_tlb()

    def flush_address(self, va: int) -> None:
        """Drop the mappings of one virtual address from every root (SFENCE.VMA rs1):
        its 4 KiB leaf, or the megapage leaf that covers it."""
        for root in self.roots.values():
            slot = root + (va >> 22) * 4
            pte = self.read_pte(slot)
            if pte & PTE_V and not pte & (PTE_R | PTE_W | PTE_X):
                slot = ((pte >> PTE_PPN_SHIFT) << 12) + ((va >> 12) & 0x3FF) * 4
            self.write_pte(slot, 0)
        self.invalidate_tlb()

    # ---- the guest's own table, walked in Python

    def walk(self, hart: VirtualHart, va: int, access: Access,
             update: bool = True) -> Walk | int:
        """The Sv32 walk of section 4.3.2 over the guest's table in its RAM, setting
        A and D as the core's walk does (unless update is False: the debugger
        looks without touching); a Walk, or the exception cause. With the guest's
        paging off, guest-physical = virtual, as one RWX megapage."""
        if not hart.paging:
            return Walk(va, PTE_R | PTE_W | PTE_X, 1)
        table = (hart.satp & 0x3F_FFFF) << 12
        for level in (1, 0):
            slot = table + ((va >> (12 + 10 * level)) & 0x3FF) * 4
            pte = self.ram.read_word(slot)
            if pte is None:
                return ACCESS_FAULT[access]
            if not pte & PTE_V or (pte & PTE_W and not pte & PTE_R):
                return PAGE_FAULT[access]
            ppn = pte >> PTE_PPN_SHIFT
            if not pte & (PTE_R | PTE_X):
                table = ppn << 12
                continue
            if not pte_allows(pte, access, hart.priv, hart.sum, hart.mxr):
                return PAGE_FAULT[access]
            if level and ppn & 0x3FF:           # a misaligned megapage
                return PAGE_FAULT[access]
            need = PTE_A | (PTE_D if access == Access.STORE else 0)
            if update and pte & need != need:
                pte |= need
                self.ram.write(slot, _WORD.pack(pte))
            offset_mask = (PAGE_SIZE << (10 * level)) - 1
            return Walk(((ppn << 12) & ~offset_mask) | (va & offset_mask), pte, level)
        return PAGE_FAULT[access]

    # ---- a shadow page fault

    def classify(self, hart: VirtualHart, va: int, access: Access,
                 update: bool = False) -> tuple[FaultResult, Walk | None]:
        """What a shadow page fault at va is, without filling anything (and, unless
        update, without setting the guest's A and D bits)."""
        walk = self.walk(hart, va, access, update)
        if isinstance(walk, int):
            return FaultResult(Fault.GUEST, walk), None
        if any(0 <= walk.gpa - device.base < device.size for device in self.devices):
            return FaultResult(Fault.DEVICE, gpa=walk.gpa), walk
        if not self.ram.contains(walk.gpa):
            return FaultResult(Fault.GUEST, ACCESS_FAULT[access]), walk
        return FaultResult(Fault.FILLED), walk

    def fault(self, hart: VirtualHart, va: int, access: Access) -> FaultResult:
        result, walk = self.classify(hart, va, access, update=True)
        if result.kind is not Fault.FILLED:
            return result
        try:
            self.fill(hart, va, walk)
        except PoolExhausted:
            self.flush()
            self.recycles += 1
            self.fill(hart, va, walk)
        self.fills += 1
        return FaultResult(Fault.FILLED)

    def permissions(self, hart: VirtualHart, pte: int) -> int:
        """The shadow's R/W/X for a guest leaf, for the root of this context: what
        the guest's PTE allows here, except writes to a page whose D bit is clear,
        which must fault once more so that D gets set (section 4.3.2 step 7)."""
        if not hart.paging:
            return PTE_R | PTE_W | PTE_X
        bits = 0
        for access, bit in ((Access.LOAD, PTE_R), (Access.STORE, PTE_W), (Access.FETCH, PTE_X)):
            if pte_allows(pte, access, hart.priv, hart.sum, hart.mxr):
                bits |= bit
        if not pte & PTE_D:
            bits &= ~PTE_W
        return bits

    def fill(self, hart: VirtualHart, va: int, walk: Walk) -> None:
        """Map va in the shadow root of this context as the walk found it (walk.gpa
        is in the guest's RAM): a megapage leaf if the guest's is one and all its
        4 MiB are the guest's RAM, else a 4 KiB leaf in a second-level table."""
        root = self.root_for(hart)
        perms = self.permissions(hart, walk.pte)
        leaf_bits = PTE_V | PTE_U | PTE_A | PTE_D | perms
        l1_slot = root + (va >> 22) * 4
        region = walk.gpa & ~(MEGAPAGE - 1)
        if walk.level == 1 and self.ram.contains(region, MEGAPAGE):
            self.write_pte(l1_slot, (self.ram.host(region) >> 12) << PTE_PPN_SHIFT | leaf_bits)
            return
        l1 = self.read_pte(l1_slot)
        if l1 & PTE_V and not l1 & (PTE_R | PTE_W | PTE_X):
            table = (l1 >> PTE_PPN_SHIFT) << 12
        else:
            table = self.alloc_table()
            if l1 & PTE_V:              # a megapage whose region is now split
                self.invalidate_tlb()
            self.write_pte(l1_slot, (table >> 12) << PTE_PPN_SHIFT | PTE_V)
        frame = self.ram.host(walk.gpa & ~(PAGE_SIZE - 1))
        self.write_pte(table + ((va >> 12) & 0x3FF) * 4,
                       (frame >> 12) << PTE_PPN_SHIFT | leaf_bits)


class ShadowLeaf(NamedTuple):
    """A leaf of a shadow table: what the real hart reaches at va in one context."""
    key: tuple                    # the root's context (ShadowPager.root_key)
    va: int
    frame: int                    # host-physical
    size: int                     # PAGE_SIZE, or MEGAPAGE
    pte: int


def shadow_contents(pager: ShadowPager) -> tuple[list[int], list[ShadowLeaf]]:
    """Every table of a pager's shadows (its roots, then the second-level tables
    they point to; host-physical) and every leaf in them, read from host memory as
    the core's walk reads them, whoever filled them: for the tests and a lab's
    checks. A table outside host RAM is listed but not read."""
    core = pager.core
    tables, leaves = [], []

    def entries(table: int):
        if not core.is_ram(table, PAGE_SIZE):
            return
        for index, (pte,) in enumerate(struct.iter_unpack("<I", core.read(table, PAGE_SIZE))):
            if pte & PTE_V:
                yield index, pte

    for key, root in pager.roots.items():
        tables.append(root)
        for high, pte in entries(root):
            if pte & (PTE_R | PTE_W | PTE_X):
                leaves.append(ShadowLeaf(key, high << 22, (pte >> PTE_PPN_SHIFT) << 12,
                                         MEGAPAGE, pte))
                continue
            table = (pte >> PTE_PPN_SHIFT) << 12
            tables.append(table)
            for low, leaf in entries(table):
                leaves.append(ShadowLeaf(key, high << 22 | low << 12,
                                         (leaf >> PTE_PPN_SHIFT) << 12, PAGE_SIZE, leaf))
    return tables, leaves
