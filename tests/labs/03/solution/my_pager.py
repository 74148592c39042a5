"""Lab 03: shadow paging. A reference solution (tests only: never shipped)."""
from __future__ import annotations

from emu.core import Access, Priv
from emu.hv.memory import (ACCESS_FAULT, MEGAPAGE, PAGE_FAULT, PAGE_SIZE, PTE_A, PTE_D,
                           PTE_PPN_SHIFT, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, ShadowPager,
                           Walk)
from emu.hv.vcpu import VirtualHart

LEAF_RIGHTS = PTE_R | PTE_W | PTE_X
ACCESS_BITS = ((Access.LOAD, PTE_R), (Access.STORE, PTE_W), (Access.FETCH, PTE_X))


def pte_allows(pte: int, access: Access, priv: Priv, sum_: bool, mxr: bool) -> bool:
    if pte & PTE_U:
        # S-mode never runs user code, and touches user data only with SUM.
        if priv == Priv.S and (access == Access.FETCH or not sum_):
            return False
    elif priv == Priv.U:
        return False
    if access == Access.FETCH:
        return bool(pte & PTE_X)
    if access == Access.STORE:
        return bool(pte & PTE_W)
    return bool(pte & PTE_R) or (mxr and bool(pte & PTE_X))


class MyPager(ShadowPager):

    def walk(self, hart: VirtualHart, va: int, access: Access,
             update: bool = True) -> Walk | int:
        if not hart.paging:
            return Walk(va, LEAF_RIGHTS, 1)
        table = (hart.satp & 0x3F_FFFF) << 12
        for level in (1, 0):
            vpn = (va >> (12 + 10 * level)) & 0x3FF
            slot = table + 4 * vpn
            pte = self.ram.read_word(slot)
            if pte is None:                         # the table is not RAM
                return ACCESS_FAULT[access]
            if not pte & PTE_V or (pte & PTE_W and not pte & PTE_R):
                return PAGE_FAULT[access]
            ppn = pte >> PTE_PPN_SHIFT
            if not pte & LEAF_RIGHTS:               # a pointer
                table = ppn << 12
                continue
            if not pte_allows(pte, access, hart.priv, hart.sum, hart.mxr):
                return PAGE_FAULT[access]
            if level == 1 and ppn & 0x3FF:          # a misaligned megapage
                return PAGE_FAULT[access]
            needed = PTE_A | (PTE_D if access == Access.STORE else 0)
            if update and pte & needed != needed:
                pte |= needed
                self.ram.write(slot, pte.to_bytes(4, "little"))
            size = PAGE_SIZE << (10 * level)        # 4 KiB, or 4 MiB
            return Walk(((ppn << 12) & ~(size - 1)) | (va & (size - 1)), pte, level)
        return PAGE_FAULT[access]                   # a pointer at level 0

    def permissions(self, hart: VirtualHart, pte: int) -> int:
        if not hart.paging:
            return LEAF_RIGHTS
        rights = 0
        for access, bit in ACCESS_BITS:
            if pte_allows(pte, access, hart.priv, hart.sum, hart.mxr):
                rights |= bit
        if not pte & PTE_D:
            rights &= ~PTE_W                        # the first store must set D
        return rights

    def fill(self, hart: VirtualHart, va: int, walk: Walk) -> None:
        root = self.root_for(hart)
        leaf = PTE_V | PTE_U | PTE_A | PTE_D | self.permissions(hart, walk.pte)
        root_slot = root + 4 * (va >> 22)
        region = walk.gpa & ~(MEGAPAGE - 1)
        if walk.level == 1 and self.ram.contains(region, MEGAPAGE):
            self.write_pte(root_slot, (self.ram.host(region) >> 12) << PTE_PPN_SHIFT | leaf)
            return
        entry = self.read_pte(root_slot)
        if entry & PTE_V and not entry & LEAF_RIGHTS:
            table = (entry >> PTE_PPN_SHIFT) << 12
        else:
            table = self.alloc_table()
            if entry & PTE_V:                       # a megapage, now split
                self.invalidate_tlb()
            self.write_pte(root_slot, (table >> 12) << PTE_PPN_SHIFT | PTE_V)
        frame = self.ram.host(walk.gpa & ~(PAGE_SIZE - 1))
        self.write_pte(table + 4 * ((va >> 12) & 0x3FF), (frame >> 12) << PTE_PPN_SHIFT | leaf)

    def flush(self) -> None:
        self.roots.clear()
        self.reclaim_pool()
        self.invalidate_tlb()

    def flush_address(self, va: int) -> None:
        for root in self.roots.values():
            slot = root + 4 * (va >> 22)
            entry = self.read_pte(slot)
            if entry & PTE_V and not entry & LEAF_RIGHTS:
                slot = ((entry >> PTE_PPN_SHIFT) << 12) + 4 * ((va >> 12) & 0x3FF)
            self.write_pte(slot, 0)
        self.invalidate_tlb()
