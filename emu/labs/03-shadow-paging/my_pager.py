"""Lab 03: shadow paging. Your shadow pager: the permission rule, the guest's
Sv32 walk, the rights and the placing of a shadow leaf, and dropping shadows
when the guest's tables change. README.md explains each step; the privileged
spec sections are 4.3.1-4.3.2 (Sv32), 4.1.1 (SUM, MXR) and 4.2.1 (SFENCE.VMA).

What you may use (emu/hv/memory.py, docs/hypervisor.md section 3):
    self.ram                 the guest's RAM: .read_word(gpa) (None outside it),
                             .write(gpa, bytes), .contains(gpa, size), .host(gpa)
    self.root_for(hart)      the shadow root (host-physical) for the hart's context
    self.alloc_table()       a zeroed frame of the pool (raises PoolExhausted: let it)
    self.read_pte(hpa), self.write_pte(hpa, pte)     a shadow PTE, host-physical
    self.roots               {context: root}, every shadow root of this guest
    self.reclaim_pool()      every pool frame is free again
    self.invalidate_tlb()    the real hart's TLB is flushed before the guest runs on
    hart.paging, hart.satp, hart.priv, hart.sum, hart.mxr    the guest's context

Run it:  emu hv --hypervisor my_hv.py:MyHypervisor guests/faults.S
Grade:   emu lab check"""
from __future__ import annotations

from emu.core import Access, Priv
from emu.hv.memory import (  # noqa: F401 (what your code will need)
    ACCESS_FAULT, MEGAPAGE, PAGE_FAULT, PAGE_SIZE, PTE_A, PTE_D, PTE_PPN_SHIFT, PTE_R, PTE_U,
    PTE_V, PTE_W, PTE_X, ShadowPager, Walk)
from emu.hv.vcpu import VirtualHart


def pte_allows(pte: int, access: Access, priv: Priv, sum_: bool, mxr: bool) -> bool:
    """May a valid leaf PTE be used for this access (Access.LOAD, STORE or FETCH)
    at this privilege (Priv.S or Priv.U), with sstatus.SUM and MXR as given?
    Section 4.3.2 step 5, with SUM and MXR from section 4.1.1:

    - a U page: never for S-mode fetches; for S-mode loads and stores only
      with SUM; a page without U: never for U-mode;
    - then the access's own bit: X for a fetch, W for a store, R for a load
      (or X, when MXR makes execute-only pages readable)."""
    # TODO step 1
    raise NotImplementedError("pte_allows: step 1 of README.md")


class MyPager(ShadowPager):
    """The shadow page tables of one guest (emu/hv/memory.py's ShadowPager does
    everything else: the roots, the pool, the fault handler that calls you)."""

    def walk(self, hart: VirtualHart, va: int, access: Access,
             update: bool = True) -> Walk | int:
        """The guest's own translation of va for this access, as the hardware's
        Sv32 walk does it (section 4.3.2) over the guest's table in its RAM:
        a Walk(gpa, pte, level), or the exception cause it raises
        (PAGE_FAULT[access] or ACCESS_FAULT[access]).

        - Guest paging off (not hart.paging): no translation; gpa = va, as one
          R W X megapage: Walk(va, PTE_R | PTE_W | PTE_X, 1).
        - The root table is at (hart.satp & 0x3FFFFF) << 12. At level 1 then 0,
          read the PTE (self.ram.read_word: None means the table is not RAM,
          an access fault); invalid, or W without R: a page fault; R = W = X = 0
          is a pointer to the next table; no leaf by level 0: a page fault.
        - A leaf must pass pte_allows (hart.priv, hart.sum, hart.mxr), and a
          megapage's PPN[0] must be 0: else a page fault.
        - With update, set A (and D for a store) in the guest's PTE if it lacks
          them, as the hardware does (self.ram.write). update=False (the
          debugger looks) changes nothing.
        - gpa: the PPN (22 bits: a 34-bit address; do not cut it to 32) with
          va's page offset: 12 bits, or 22 for a megapage."""
        # TODO step 2
        raise NotImplementedError("walk: step 2 of README.md")

    def permissions(self, hart: VirtualHart, pte: int) -> int:
        """The R/W/X bits of the shadow leaf for a guest leaf, in the hart's
        current context: each access kind pte_allows here, except W while the
        guest's D bit is clear (the first store must fault, so that walk sets
        D). With guest paging off: R W X."""
        # TODO step 3
        raise NotImplementedError("permissions: step 3 of README.md")

    def fill(self, hart: VirtualHart, va: int, walk: Walk) -> None:
        """Map va in the shadow root of the hart's context (self.root_for), as
        walk found it; walk.gpa is in the guest's RAM.

        - The leaf: V, U (the guest runs in real U-mode), A, D and
          self.permissions(hart, walk.pte), for the host frame of the guest
          page (self.ram.host).
        - A guest megapage (walk.level == 1) whose whole 4 MiB is the guest's
          RAM: one megapage leaf in the root. Else a 4 KiB leaf in the
          second-level table the root entry points to, made with
          self.alloc_table() if the entry is not a pointer yet (replacing a
          megapage leaf there narrows what is mapped: invalidate the TLB)."""
        # TODO step 4
        raise NotImplementedError("fill: step 4 of README.md")

    def flush(self) -> None:
        """SFENCE.VMA with no address, a satp write, a full pool: drop every
        shadow of this guest, take back every pool frame, and make sure the real
        hart's TLB holds no translation of them."""
        # TODO step 5
        raise NotImplementedError("flush: step 5 of README.md")

    def flush_address(self, va: int) -> None:
        """SFENCE.VMA va: drop va's mapping from every root, whichever context
        made it: its 4 KiB leaf, or the megapage leaf that covers it; and the
        real hart's TLB's."""
        # TODO step 6
        raise NotImplementedError("flush_address: step 6 of README.md")
