/* mmu.c: Sv32 address translation (privileged spec 1.12 section 4.3), the soft TLB
 * in front of it, and the slow paths of memory access.
 *
 *   Sv32 virtual address              page table entry
 *   31      22 21      12 11      0   31      20 19      10 9 8 7 6 5 4 3 2 1 0
 *  +----------+----------+---------+ +----------+----------+---+-+-+-+-+-+-+-+-+
 *  |  VPN[1]  |  VPN[0]  | offset  | |  PPN[1]  |  PPN[0]  |RSW|D|A|G|U|X|W|R|V|
 *  +----------+----------+---------+ +----------+----------+---+-+-+-+-+-+-+-+-+
 *
 * satp.PPN names the root table; VPN[1] indexes it, and its entry is either a
 * leaf (a 4 MiB megapage) or points to a second-level table indexed by VPN[0].
 * Physical addresses have 34 bits: PPN (22 bits) followed by the 12-bit offset.
 *
 * PMP (pmp.c) checks the physical side of every access here: the walk's own reads
 * and A/D writes as S-mode (section 3.7.1), then the access itself at its
 * effective privilege, before RAM or a device is touched. */
#include "hart.h"

#define PTE_V (1u << 0)
#define PTE_R (1u << 1)
#define PTE_W (1u << 2)
#define PTE_X (1u << 3)
#define PTE_U (1u << 4)
#define PTE_A (1u << 6)
#define PTE_D (1u << 7)
#define PTE_PPN_SHIFT 10
#define LEVELS 2
#define VPN_BITS 10

/* Writing the high word of tohost acts at once; a write of the low word alone
 * (a 32-bit program's `sw`) is acted on after this many more instructions, so that
 * a 64-bit store done as two words (low first, as gcc and riscv-tests do) is seen
 * whole, as Spike's periodic polling sees it. */
#define HTIF_GRACE 8

static const exc_t page_fault[3] = {
    CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT, CAUSE_FETCH_PAGE_FAULT,
};
static const exc_t access_fault[3] = {
    CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS,
};

void tlb_flush(emu_t *m)
{
    memset(m->tlb, 0xFF, sizeof m->tlb);
    for (int priv = 0; priv < 3; priv++)
        for (int i = 0; i < TLB_SIZE; i++)
            m->code_tlb[priv][i].vpn = TLB_EMPTY;
}

/* A page of RAM now holds decoded code: stores to it must take the slow path,
 * whatever virtual address (and privilege's TLB) they come through. */
void tlb_forget_store(emu_t *m, const uint8_t *host_page)
{
    for (int priv = 0; priv < 3; priv++)
        for (int i = 0; i < TLB_SIZE; i++) {
            tlb_entry_t *e = &m->tlb[priv][ACCESS_STORE][i];
            if (e->vpn != TLB_EMPTY && e->host == host_page)
                e->vpn = TLB_EMPTY;
        }
}

uint8_t *ram_at(emu_t *m, uint64_t pa, uint32_t len)
{
    if (pa < EMU_RAM_BASE || pa - EMU_RAM_BASE + len > m->ram_size)
        return NULL;
    return m->ram + (pa - EMU_RAM_BASE);
}

/* Loads and stores in M-mode with MPRV set are translated and checked as if in
 * the mode held in MPP (privileged spec section 3.1.6.3). */
uint32_t effective_priv(const emu_t *m, access_t access)
{
    uint32_t priv = m->hart.priv;
    if (access != ACCESS_FETCH && priv == EMU_PRIV_M && (m->mstatus & MSTATUS_MPRV))
        priv = (m->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
    return priv;
}

/* May a leaf PTE be used for this access at this privilege? (step 5 of the
 * algorithm in section 4.3.2, with SUM and MXR from section 3.1.6.3) */
static int pte_allows(const emu_t *m, uint32_t pte, access_t access, uint32_t priv)
{
    if (pte & PTE_U) {
        if (priv == EMU_PRIV_S && (access == ACCESS_FETCH || !(m->mstatus & MSTATUS_SUM)))
            return 0;
    } else if (priv == EMU_PRIV_U) {
        return 0;
    }
    switch (access) {
    case ACCESS_FETCH: return (pte & PTE_X) != 0;
    case ACCESS_STORE: return (pte & PTE_W) != 0;
    default: return (pte & PTE_R) || ((m->mstatus & MSTATUS_MXR) && (pte & PTE_X));
    }
}

/* The Sv32 walk of section 4.3.2. With update_ad the hardware sets A, and D for a
 * store, in the leaf PTE, as the spec permits in place of a page fault. The walk's
 * accesses are PMP-checked as S-mode's, and one that fails raises the access
 * fault of the original access (steps 2 and 7): the A/D write is checked even
 * without update_ad, so that a translation that succeeds without it (the first
 * pass of mem_split, emu_translate) is one the access can complete. */
exc_t translate(emu_t *m, uint32_t va, access_t access, int update_ad, uint64_t *pa)
{
    uint32_t priv = effective_priv(m, access);
    if (priv == EMU_PRIV_M || !(m->satp & SATP_MODE_SV32)) {
        *pa = va;
        return EXC_NONE;
    }
    uint64_t table = (uint64_t)(m->satp & ~SATP_MODE_SV32) << PAGE_SHIFT;
    for (int level = LEVELS - 1; level >= 0; level--) {
        uint32_t vpn = (va >> (PAGE_SHIFT + level * VPN_BITS)) & ((1u << VPN_BITS) - 1);
        uint64_t pte_pa = table + vpn * 4;
        uint8_t *slot = ram_at(m, pte_pa, 4);
        if (!slot || !pmp_allows(m, pte_pa, 4, ACCESS_LOAD, EMU_PRIV_S))
            return raise(m, access_fault[access], va);
        uint32_t pte;
        memcpy(&pte, slot, 4);
        if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)))
            return raise(m, page_fault[access], va);
        uint32_t ppn = pte >> PTE_PPN_SHIFT;
        if (!(pte & (PTE_R | PTE_X))) {
            table = (uint64_t)ppn << PAGE_SHIFT;
            continue;
        }
        if (!pte_allows(m, pte, access, priv))
            return raise(m, page_fault[access], va);
        /* A megapage must be aligned to 4 MiB: PPN[0] zero. */
        uint32_t low_mask = level ? (1u << VPN_BITS) - 1 : 0;
        if (ppn & low_mask)
            return raise(m, page_fault[access], va);
        uint32_t need = PTE_A | (access == ACCESS_STORE ? PTE_D : 0);
        if ((pte & need) != need) {
            if (!pmp_allows(m, pte_pa, 4, ACCESS_STORE, EMU_PRIV_S))
                return raise(m, access_fault[access], va);
            if (update_ad) {
                pte |= need;
                memcpy(slot, &pte, 4);
                code_written(m, pte_pa, 4);
                ram_dirty(m, pte_pa);
            }
        }
        uint32_t page_offset_mask = (PAGE_SIZE << (level * VPN_BITS)) - 1;
        *pa = ((uint64_t)(ppn & ~low_mask) << PAGE_SHIFT) | (va & page_offset_mask);
        return EXC_NONE;
    }
    return raise(m, page_fault[access], va);
}

static int is_tohost_page(const emu_t *m, uint64_t pa)
{
    return m->tohost && (pa >> PAGE_SHIFT) == (m->tohost >> PAGE_SHIFT);
}

/* Watchpoints (emu_watch_add): the kinds of watchpoint an access may hit. Fetches
 * are never watched. */
static uint32_t watch_kind(access_t access)
{
    return access == ACCESS_LOAD ? EMU_WATCH_READ : access == ACCESS_STORE ? EMU_WATCH_WRITE : 0;
}

/* Does the page holding pa hold a watchpoint for this kind of access? Such pages
 * never enter the TLB, so every access to them comes through watch_check. */
int page_watched(const emu_t *m, uint64_t pa, access_t access)
{
    uint64_t page = pa & ~(uint64_t)(PAGE_SIZE - 1);
    for (uint32_t i = 0; i < m->watch_count; i++)
        if ((m->watch[i].kinds & watch_kind(access)) && m->watch[i].base < page + PAGE_SIZE &&
            page < (uint64_t)m->watch[i].base + m->watch[i].len)
            return 1;
    return 0;
}

/* An access of size bytes at pa completed: if it touched a watchpoint, record it
 * and have the run loop end the run before the next instruction. */
void watch_check(emu_t *m, uint32_t va, uint64_t pa, int size, access_t access, uint32_t value)
{
    for (uint32_t i = 0; i < m->watch_count; i++) {
        if (!(m->watch[i].kinds & watch_kind(access)) || m->watch[i].base >= pa + size ||
            pa >= (uint64_t)m->watch[i].base + m->watch[i].len)
            continue;
        if (!m->watch_hit) {
            m->watch_hit = 1;
            m->exit.epc = m->hart.pc;
            m->exit.addr = (uint32_t)pa;
            m->exit.tval = va;
            m->exit.size = (uint32_t)size;
            m->exit.is_write = access == ACCESS_STORE;
            m->exit.data = value;
        }
        request_check(m);
        return;
    }
}

/* Remember a translation to RAM, if PMP grants the access to the whole page (a
 * TLB hit is not checked again). Stores to the tohost page stay on the slow path
 * so that HTIF sees them, stores to pages with decoded code so that their ops
 * are undone, and accesses to pages with watchpoints so that watch_check sees
 * them. A page entered for stores may be written from now on: it is marked
 * dirty here, so the fast store path (exec.c) needs no mark of its own. */
static void tlb_fill(emu_t *m, access_t access, uint32_t va, uint64_t pa)
{
    uint64_t page = pa & ~(uint64_t)(PAGE_SIZE - 1);
    uint8_t *host = ram_at(m, page, PAGE_SIZE);
    if (!host || (access == ACCESS_STORE && (is_tohost_page(m, pa) || is_code_page(m, pa))))
        return;
    if (!pmp_allows(m, page, PAGE_SIZE, access, effective_priv(m, access)))
        return;
    if (unlikely(m->watch_count) && page_watched(m, pa, access))
        return;
    if (access == ACCESS_STORE)
        ram_dirty(m, pa);
    tlb_entry_t *e = tlb_slot(m, access, va);
    e->vpn = va >> PAGE_SHIFT;
    e->host = host;
}

static void ram_stored(emu_t *m, uint64_t pa, uint32_t len)
{
    code_written(m, pa, len);
    ram_dirty(m, pa);
    if (!is_tohost_page(m, pa))
        return;
    if (pa < m->tohost + 8 && pa + len > m->tohost + 4)
        m->htif_due = m->steps;
    else if (pa < m->tohost + 4 && pa + len > m->tohost && m->htif_due == UINT64_MAX)
        m->htif_due = m->steps + HTIF_GRACE;
    request_check(m);
}

/* A misaligned access that crosses into the next page: both pages are translated
 * before either is touched, and a fault names the address of the part that caused
 * it (privileged spec section 3.1.16). */
static exc_t mem_split(emu_t *m, uint32_t va, int size, access_t access, uint32_t *value)
{
    uint32_t first = PAGE_SIZE - (va & (PAGE_SIZE - 1));
    uint32_t va1 = va + first;
    uint64_t pa0, pa1;
    TRY(translate(m, va, access, 0, &pa0));
    TRY(translate(m, va1, access, 0, &pa1));
    uint8_t *h0 = ram_at(m, pa0, first), *h1 = ram_at(m, pa1, size - first);
    uint32_t priv = effective_priv(m, access);
    if (!h0 || !pmp_allows(m, pa0, first, access, priv))
        return raise(m, access_fault[access], va);
    if (!h1 || !pmp_allows(m, pa1, size - first, access, priv))
        return raise(m, access_fault[access], va1);
    translate(m, va, access, 1, &pa0);
    translate(m, va1, access, 1, &pa1);
    uint8_t bytes[4] = {0};
    if (access == ACCESS_STORE) {
        memcpy(bytes, value, sizeof bytes);
        memcpy(h0, bytes, first);
        memcpy(h1, bytes + first, size - first);
        ram_stored(m, pa0, first);
        ram_stored(m, pa1, size - first);
    } else {
        memcpy(bytes, h0, first);
        memcpy(bytes + first, h1, size - first);
        memcpy(value, bytes, sizeof bytes);
    }
    if (unlikely(m->watch_count)) {
        watch_check(m, va, pa0, first, access, *value);
        watch_check(m, va1, pa1, size - first, access, *value >> (8 * first));
    }
    return EXC_NONE;
}

exc_t mem_slow(emu_t *m, uint32_t va, int size, access_t access, uint32_t *value)
{
    if ((va & (PAGE_SIZE - 1)) + size > PAGE_SIZE)
        return mem_split(m, va, size, access, value);
    uint64_t pa;
    TRY(translate(m, va, access, 1, &pa));
    if (!pmp_allows(m, pa, size, access, effective_priv(m, access)))
        return raise(m, access_fault[access], va);
    uint8_t *host = ram_at(m, pa, size);
    exc_t e = EXC_NONE;
    if (host) {
        tlb_fill(m, access, va, pa);
        if (access == ACCESS_STORE) {
            memcpy(host, value, size);
            ram_stored(m, pa, size);
        } else {
            uint32_t v = 0;
            memcpy(&v, host, size);
            *value = v;
        }
    } else if (access == ACCESS_LOAD) {
        e = device_load(m, pa, size, value, va);
    } else if (access == ACCESS_STORE) {
        e = device_store(m, pa, size, *value, va);
    } else {
        return raise(m, CAUSE_FETCH_ACCESS, va);
    }
    /* Only an access that completed hits a watchpoint (not one the host must
     * first emulate: it is executed again). */
    if (unlikely(m->watch_count) && (e == EXC_NONE || e == EXC_EXIT_AFTER))
        watch_check(m, va, pa, size, access, *value);
    return e;
}

/* LR, SC and AMOs work on an aligned word of RAM, through a pointer. */
exc_t mem_atomic(emu_t *m, uint32_t va, access_t access, uint32_t **cell, uint64_t *pa)
{
    TRY(translate(m, va, access, 1, pa));
    uint8_t *host = ram_at(m, *pa, 4);
    if (!host || !pmp_allows(m, *pa, 4, access, effective_priv(m, access)))
        return raise(m, access_fault[access], va);
    *cell = (uint32_t *)(void *)host;
    if (access == ACCESS_STORE)
        ram_stored(m, *pa, 4);      /* the word is written before the run loop looks */
    if (unlikely(m->watch_count))
        watch_check(m, va, *pa, 4, access, *(uint32_t *)(void *)host);
    return EXC_NONE;
}

/* A fetch from pc missed the code TLB: translate it (the fetch permission, A
 * set), check PMP, and find or make the code page of its frame. The page enters
 * the code TLB only when PMP grants fetches from all of it; else the fetch says
 * so (EXC_FETCH_EACH) and the interpreter comes back here for every instruction
 * of the page. */
op_t *code_fill(emu_t *m, uint32_t pc, exc_t *e)
{
    uint64_t pa;
    code_page_t *page;
    if (pc & 3) {   /* only the host can leave pc misaligned: jumps check */
        *e = raise(m, CAUSE_MISALIGNED_FETCH, pc);
        return NULL;
    }
    if ((*e = translate(m, pc, ACCESS_FETCH, 1, &pa)) != EXC_NONE)
        return NULL;
    /* Fetches come only from RAM; a code page that cannot be had (the host is
     * out of memory) leaves the hart nothing to fetch either. */
    uint32_t priv = m->hart.priv;
    if (!ram_at(m, pa, 4) || !pmp_allows(m, pa, 4, ACCESS_FETCH, priv) ||
        !(page = code_page(m, pa))) {
        *e = raise(m, CAUSE_FETCH_ACCESS, pc);
        return NULL;
    }
    if (!pmp_allows(m, pa & ~(uint64_t)(PAGE_SIZE - 1), PAGE_SIZE, ACCESS_FETCH, priv)) {
        *e = EXC_FETCH_EACH;
        return page->ops;
    }
    code_tlb_entry_t *t = &m->code_tlb_now[(pc >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    t->vpn = pc >> PAGE_SHIFT;
    t->ops = page->ops;
    return page->ops;
}
