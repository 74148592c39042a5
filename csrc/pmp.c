/* pmp.c: physical memory protection (privileged spec 1.12 section 3.7): 16
 * entries, each a pmpNcfg byte (in pmpcfg0-3) and a pmpaddrN, granularity 4 bytes
 * (G = 0).
 *
 *   pmpNcfg   7   6 5   4 3   2   1   0        pmpaddrN (RV32): bits 33:2 of a
 *           +---+-----+-----+---+---+---+      34-bit physical address
 *           | L |  0  |  A  | X | W | R |
 *           +---+-----+-----+---+---+---+      A: OFF, TOR, NA4, NAPOT
 *
 * The rules (section 3.7.1, "Priority and Matching Logic"): the lowest-numbered
 * entry that matches any byte of an access decides it; it must match every byte,
 * or the access fails whatever its bits say. An M-mode access succeeds when the
 * deciding entry is unlocked, or when no entry matches; an S- or U-mode access
 * needs the entry's R, W or X, and fails when no entry matches. A locked entry
 * holds for M-mode too, and ignores writes to its cfg byte and its pmpaddr (a
 * locked TOR entry also to the pmpaddr below it) until reset.
 *
 * The checks run on the slow paths only: a page enters the TLB (mmu.c) only when
 * PMP grants the access to all of it, and every write here flushes the TLB. */
#include "hart.h"

#define PMP_R 0x01u
#define PMP_W 0x02u
#define PMP_X 0x04u
#define PMP_A_SHIFT 3
#define PMP_A 0x18u
#define PMP_L 0x80u
#define PMP_RESERVED 0x60u      /* WARL zero */
enum { PMP_OFF, PMP_TOR, PMP_NA4, PMP_NAPOT };

#define PMP_ENTRIES 16
#define PMP_GRAIN 4             /* G = 0 */

/* The permission each kind of access needs (access_t order). */
static const uint8_t needed[3] = { PMP_R, PMP_W, PMP_X };

static uint32_t cfg_of(const emu_t *m, uint32_t i)
{
    return (m->pmpcfg[i / 4] >> (8 * (i % 4))) & 0xFFu;
}

static uint32_t mode_of(uint32_t cfg)
{
    return (cfg & PMP_A) >> PMP_A_SHIFT;
}

/* The bytes entry i covers, [lo, hi) in the 34-bit physical space (the largest
 * NAPOT range, pmpaddr all ones, reaches past it, to 2^35); lo >= hi for none. */
static void range_of(const emu_t *m, uint32_t i, uint64_t *lo, uint64_t *hi)
{
    uint64_t addr = m->pmpaddr[i];
    *lo = *hi = 0;
    switch (mode_of(cfg_of(m, i))) {
    case PMP_TOR:
        *lo = i ? (uint64_t)m->pmpaddr[i - 1] << 2 : 0;
        *hi = addr << 2;
        break;
    case PMP_NA4:
        *lo = addr << 2;
        *hi = *lo + PMP_GRAIN;
        break;
    case PMP_NAPOT: {
        /* pmpaddr = base >> 2 with its low t bits set: 2^(t + 3) bytes. `ones`
         * is those t bits and the zero above them. */
        uint64_t ones = addr ^ (addr + 1);
        *lo = (addr & ~ones) << 2;
        *hi = *lo + ((ones + 1) << 2);
        break;
    }
    }
}

int pmp_check(const emu_t *m, uint64_t pa, uint64_t len, access_t access, uint32_t priv)
{
    uint64_t end = pa + len;
    for (uint32_t i = 0; i < PMP_ENTRIES; i++) {
        uint64_t lo, hi;
        range_of(m, i, &lo, &hi);
        if (lo >= hi || end <= lo || pa >= hi)
            continue;
        if (pa < lo || end > hi)
            return 0;               /* matches only some of the bytes */
        uint32_t cfg = cfg_of(m, i);
        if (priv == EMU_PRIV_M && !(cfg & PMP_L))
            return 1;
        return (cfg & needed[access]) != 0;
    }
    return priv == EMU_PRIV_M;
}

/* Whether any entry binds M-mode: a locked one that matches something. */
static void pmp_changed(emu_t *m)
{
    m->pmp_binds_m = 0;
    for (uint32_t i = 0; i < PMP_ENTRIES; i++) {
        uint32_t cfg = cfg_of(m, i);
        if ((cfg & PMP_L) && mode_of(cfg) != PMP_OFF)
            m->pmp_binds_m = 1;
    }
    tlb_flush(m);   /* the TLB holds only pages PMP granted whole */
}

static int is_locked(const emu_t *m, uint32_t i)
{
    return (cfg_of(m, i) & PMP_L) != 0;
}

/* WARL: a locked byte keeps its value; bits 5-6 read 0; R = 0 with W = 1 is
 * reserved, and is written as R = W = 0 (W follows R, as Spike does). */
void pmpcfg_write(emu_t *m, uint32_t n, uint32_t value)
{
    uint32_t next = 0;
    for (uint32_t b = 0; b < 4; b++) {
        uint32_t i = 4 * n + b, cfg = (value >> (8 * b)) & 0xFFu;
        if (is_locked(m, i)) {
            cfg = cfg_of(m, i);
        } else {
            cfg &= ~PMP_RESERVED;
            if (!(cfg & PMP_R))
                cfg &= ~PMP_W;
        }
        next |= cfg << (8 * b);
    }
    m->pmpcfg[n] = next;
    pmp_changed(m);
}

/* pmpaddr i is locked by its own entry, and by entry i + 1 when that one is a
 * locked TOR range (i is its bottom). */
void pmpaddr_write(emu_t *m, uint32_t i, uint32_t value)
{
    if (is_locked(m, i) ||
        (i + 1 < PMP_ENTRIES && is_locked(m, i + 1) && mode_of(cfg_of(m, i + 1)) == PMP_TOR))
        return;
    m->pmpaddr[i] = value;
    pmp_changed(m);
}

/* Reset, as Spike's: entry 0 NAPOT over all memory, R, W, X, unlocked, so that
 * software that never programs PMP (the SBI firmware and the hypervisor, which
 * run M-mode in the host, and bare programs that drop to S or U) may use all
 * memory from S and U; every other entry OFF. */
void pmp_reset(emu_t *m)
{
    memset(m->pmpcfg, 0, sizeof m->pmpcfg);
    memset(m->pmpaddr, 0, sizeof m->pmpaddr);
    m->pmpaddr[0] = UINT32_MAX;
    m->pmpcfg[0] = (PMP_NAPOT << PMP_A_SHIFT) | PMP_X | PMP_W | PMP_R;
    pmp_changed(m);
}
