/* csr.c: the control and status registers (privileged spec 1.12 chapters 2-4).
 *
 * The contract, as Spike's csrs.h states it: csr_instruction checks permission;
 * csr_read has no side effects; csr_write does no checks and performs the side
 * effects (masks, TLB flushes, interrupt re-checks). sstatus, sie and sip are
 * masked views of mstatus, mie and mip. */
#include "hart.h"

enum {
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105, CSR_SCOUNTEREN = 0x106,
    CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142, CSR_STVAL = 0x143,
    CSR_SIP = 0x144, CSR_SATP = 0x180,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303,
    CSR_MIE = 0x304, CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MSTATUSH = 0x310,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342, CSR_MTVAL = 0x343,
    CSR_MIP = 0x344,
    CSR_PMPCFG0 = 0x3A0, CSR_PMPCFG3 = 0x3A3, CSR_PMPADDR0 = 0x3B0, CSR_PMPADDR15 = 0x3BF,
    CSR_TSELECT = 0x7A0, CSR_TDATA1 = 0x7A1, CSR_TDATA2 = 0x7A2, CSR_TDATA3 = 0x7A3,
    CSR_MCYCLE = 0xB00, CSR_MINSTRET = 0xB02, CSR_MCYCLEH = 0xB80, CSR_MINSTRETH = 0xB82,
    CSR_CYCLE = 0xC00, CSR_TIME = 0xC01, CSR_INSTRET = 0xC02,
    CSR_CYCLEH = 0xC80, CSR_TIMEH = 0xC81, CSR_INSTRETH = 0xC82,
    CSR_MVENDORID = 0xF11, CSR_MARCHID = 0xF12, CSR_MIMPID = 0xF13, CSR_MHARTID = 0xF14,
    CSR_MCONFIGPTR = 0xF15,
};

#define MSTATUS_WRITABLE (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | \
                          MSTATUS_SPP | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_SUM | \
                          MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
#define SSTATUS_VIEW (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR)
/* Exceptions that can be delegated: not M-mode ecall (read-only zero, section
 * 3.1.8) and not the reserved causes 10 and 14. */
#define MEDELEG_WRITABLE 0xB3FFu
#define S_INTERRUPTS (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define ALL_INTERRUPTS (S_INTERRUPTS | MIP_MSIP | MIP_MTIP | MIP_MEIP)
#define COUNTEREN_WRITABLE 0x7u      /* CY, TM, IR: no hpmcounters */
#define TVEC_MODE_RESERVED 2u        /* modes 2 and 3 are reserved: keep 0 or 1 */
#define EPC_ALIGN_MASK (~3u)         /* IALIGN = 32: xepc[1:0] read as zero */

/* The counters: minstret counts retired instructions, mcycle every instruction
 * executed, mtime likewise (one tick per instruction). A write during an
 * instruction takes the place of that instruction's own increment. */
typedef enum { COUNTER_CYCLE, COUNTER_TIME, COUNTER_INSTRET } counter_t;

static uint64_t counter_base(const emu_t *m, counter_t c)
{
    return c == COUNTER_INSTRET ? retired(m) : m->steps;
}

static uint64_t *counter_offset(emu_t *m, counter_t c)
{
    switch (c) {
    case COUNTER_CYCLE: return &m->cycle_offset;
    case COUNTER_TIME:  return &m->mtime_offset;
    default:            return &m->instret_offset;
    }
}

static uint64_t counter_get(emu_t *m, counter_t c)
{
    return counter_base(m, c) + *counter_offset(m, c);
}

static void counter_set(emu_t *m, counter_t c, uint64_t value, int in_instruction)
{
    *counter_offset(m, c) = value - counter_base(m, c) - (in_instruction ? 1 : 0);
}

uint64_t mtime_now(const emu_t *m)
{
    return m->steps + m->mtime_offset;
}

void mtime_set(emu_t *m, uint64_t value, int in_instruction)
{
    counter_set(m, COUNTER_TIME, value, in_instruction);
    request_check(m);
}

/* mip as software sees it: the bits M-mode writes, the CLINT's lines and the
 * PLIC's (SEIP reads as the written bit OR the line, section 3.1.9). */
uint32_t mip_read(const emu_t *m)
{
    uint32_t mip = m->mip | m->external;
    if (mtime_now(m) >= m->mtimecmp)
        mip |= MIP_MTIP;
    if (m->msip & 1)
        mip |= MIP_MSIP;
    return mip;
}

/* Something that decides whether an interrupt is taken changed (mstatus, mie,
 * mip, mideleg, msip): none can be unless one is pending and enabled in mie, so
 * only then need the run loop look before the next instruction. */
void interrupts_changed(emu_t *m)
{
    if (mip_read(m) & m->mie)
        request_check(m);
}

/* mtimecmp changed: look at once if the timer is due now, else no later than
 * the instruction at which it will be (mtime counts instructions). */
void deadline_changed(emu_t *m)
{
    uint64_t now = mtime_now(m);
    if (m->mtimecmp <= now) {
        request_check(m);
        return;
    }
    if (m->stop_at > m->steps && m->mtimecmp - now < m->stop_at - m->steps)
        m->stop_at = m->steps + (m->mtimecmp - now);
}

/* Every change of mstatus comes here. Translation depends on SUM, MXR, and on
 * MPP only while MPRV is set: only those changes flush the TLB. */
void mstatus_set(emu_t *m, uint32_t value)
{
    uint32_t changed = m->mstatus ^ value;
    if ((changed & (MSTATUS_SUM | MSTATUS_MXR | MSTATUS_MPRV)) ||
        ((changed & MSTATUS_MPP) && ((m->mstatus | value) & MSTATUS_MPRV)))
        tlb_flush(m);
    m->mstatus = value;
    interrupts_changed(m);
}

static void mstatus_write(emu_t *m, uint32_t value, uint32_t writable)
{
    uint32_t next = (m->mstatus & ~writable) | (value & writable);
    /* MPP is WARL: the reserved encoding 2 leaves it unchanged. */
    if (((next & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
        next = (next & ~MSTATUS_MPP) | (m->mstatus & MSTATUS_MPP);
    mstatus_set(m, next);
}

static int counter_of(uint32_t csr, counter_t *c, int *high)
{
    switch (csr) {
    case CSR_CYCLE:    case CSR_MCYCLE:    *c = COUNTER_CYCLE;   *high = 0; return 1;
    case CSR_CYCLEH:   case CSR_MCYCLEH:   *c = COUNTER_CYCLE;   *high = 1; return 1;
    case CSR_TIME:                         *c = COUNTER_TIME;    *high = 0; return 1;
    case CSR_TIMEH:                        *c = COUNTER_TIME;    *high = 1; return 1;
    case CSR_INSTRET:  case CSR_MINSTRET:  *c = COUNTER_INSTRET; *high = 0; return 1;
    case CSR_INSTRETH: case CSR_MINSTRETH: *c = COUNTER_INSTRET; *high = 1; return 1;
    default: return 0;
    }
}

int csr_read(emu_t *m, uint32_t csr, uint32_t *value)
{
    counter_t c;
    int high;
    if (counter_of(csr, &c, &high)) {
        uint64_t v = counter_get(m, c);
        *value = (uint32_t)(high ? v >> 32 : v);
        return 0;
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG3) {
        *value = m->pmpcfg[csr - CSR_PMPCFG0];
        return 0;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR15) {
        *value = m->pmpaddr[csr - CSR_PMPADDR0];
        return 0;
    }
    switch (csr) {
    case CSR_SSTATUS:    *value = m->mstatus & SSTATUS_VIEW; break;
    case CSR_SIE:        *value = m->mie & m->mideleg; break;
    case CSR_SIP:        *value = mip_read(m) & m->mideleg; break;
    case CSR_STVEC:      *value = m->stvec; break;
    case CSR_SCOUNTEREN: *value = m->scounteren; break;
    case CSR_SSCRATCH:   *value = m->sscratch; break;
    case CSR_SEPC:       *value = m->sepc; break;
    case CSR_SCAUSE:     *value = m->scause; break;
    case CSR_STVAL:      *value = m->stval; break;
    case CSR_SATP:       *value = m->satp; break;
    case CSR_MSTATUS:    *value = m->mstatus; break;
    case CSR_MISA:       *value = m->misa; break;     /* the host's (emu_set_misa) */
    case CSR_MEDELEG:    *value = m->medeleg; break;
    case CSR_MIDELEG:    *value = m->mideleg; break;
    case CSR_MIE:        *value = m->mie; break;
    case CSR_MIP:        *value = mip_read(m); break;
    case CSR_MTVEC:      *value = m->mtvec; break;
    case CSR_MCOUNTEREN: *value = m->mcounteren; break;
    case CSR_MSCRATCH:   *value = m->mscratch; break;
    case CSR_MEPC:       *value = m->mepc; break;
    case CSR_MCAUSE:     *value = m->mcause; break;
    case CSR_MTVAL:      *value = m->mtval; break;
    case CSR_TSELECT:    *value = m->tselect; break;
    case CSR_TDATA2:     *value = m->tdata2; break;
    case CSR_TDATA3:     *value = m->tdata3; break;
    case CSR_MSTATUSH:   /* little-endian M and S: all zero */
    case CSR_TDATA1:     /* type 0: no trigger behind tselect */
    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MHARTID:
    case CSR_MCONFIGPTR:
        *value = 0;
        break;
    default:
        return -1;
    }
    return 0;
}

int csr_write(emu_t *m, uint32_t csr, uint32_t value, int in_instruction)
{
    counter_t c;
    int high;
    if (counter_of(csr, &c, &high)) {
        uint64_t v = counter_get(m, c);
        v = high ? (v & 0xFFFFFFFFu) | (uint64_t)value << 32
                 : (v & ~(uint64_t)0xFFFFFFFFu) | value;
        counter_set(m, c, v, in_instruction);
        return 0;
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG3) {
        pmpcfg_write(m, csr - CSR_PMPCFG0, value);     /* WARL, locks: pmp.c */
        return 0;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR15) {
        pmpaddr_write(m, csr - CSR_PMPADDR0, value);
        return 0;
    }
    switch (csr) {
    case CSR_SSTATUS:    mstatus_write(m, value, SSTATUS_VIEW); break;
    case CSR_SIE:        m->mie = (m->mie & ~m->mideleg) | (value & m->mideleg); break;
    case CSR_SIP:        m->mip = (m->mip & ~(MIP_SSIP & m->mideleg)) |
                                  (value & MIP_SSIP & m->mideleg); break;
    case CSR_STVEC:      m->stvec = value & ~TVEC_MODE_RESERVED; break;
    case CSR_SCOUNTEREN: m->scounteren = value & COUNTEREN_WRITABLE; break;
    case CSR_SSCRATCH:   m->sscratch = value; break;
    case CSR_SEPC:       m->sepc = value & EPC_ALIGN_MASK; break;
    case CSR_SCAUSE:     m->scause = value; break;
    case CSR_STVAL:      m->stval = value; break;
    case CSR_SATP:       m->satp = value & SATP_MASK; tlb_flush(m); break;
    case CSR_MSTATUS:    mstatus_write(m, value, MSTATUS_WRITABLE); break;
    case CSR_MEDELEG:    m->medeleg = value & MEDELEG_WRITABLE; break;
    case CSR_MIDELEG:    m->mideleg = value & S_INTERRUPTS; break;
    case CSR_MIE:        m->mie = value & ALL_INTERRUPTS; break;
    case CSR_MIP:        m->mip = value & S_INTERRUPTS; break;
    case CSR_MTVEC:      m->mtvec = value & ~TVEC_MODE_RESERVED; break;
    case CSR_MCOUNTEREN: m->mcounteren = value & COUNTEREN_WRITABLE; break;
    case CSR_MSCRATCH:   m->mscratch = value; break;
    case CSR_MEPC:       m->mepc = value & EPC_ALIGN_MASK; break;
    case CSR_MCAUSE:     m->mcause = value; break;
    case CSR_MTVAL:      m->mtval = value; break;
    case CSR_TSELECT:    m->tselect = value; break;
    case CSR_TDATA2:     m->tdata2 = value; break;
    case CSR_TDATA3:     m->tdata3 = value; break;
    case CSR_MISA: case CSR_MSTATUSH: case CSR_TDATA1:
        break;      /* WARL fields with one legal value */
    default:
        return -1;
    }
    interrupts_changed(m);
    return 0;
}

/* The value CSRRS and CSRRC modify, given what was read: for mip, only the
 * written SEIP bit, not the PLIC's line (section 3.1.9). */
uint32_t csr_modified(const emu_t *m, uint32_t csr, uint32_t old)
{
    return csr == CSR_MIP ? (old & ~MIP_SEIP) | (m->mip & MIP_SEIP) : old;
}

/* The user counters need their bit in mcounteren below M, and in scounteren as
 * well in U-mode (section 3.1.11). */
static int counter_allowed(const emu_t *m, uint32_t csr)
{
    uint32_t priv = m->hart.priv, bit = 1u << (csr & 0x1F);
    if (csr < CSR_CYCLE || csr > CSR_INSTRETH || priv == EMU_PRIV_M)
        return 1;
    if (!(m->mcounteren & bit))
        return 0;
    return priv == EMU_PRIV_S || (m->scounteren & bit);
}

/* The access rules every CSR instruction obeys (section 2.1); -1 means illegal: bits 11:10 = 3 mark
 * a read-only CSR, bits 9:8 the lowest privilege that may access it. */
int csr_instruction(emu_t *m, uint32_t csr, uint32_t op, uint32_t operand, int write,
                    uint32_t *old)
{
    uint32_t priv = m->hart.priv;
    int read_only = (csr >> 10) == 3;
    uint32_t lowest_priv = (csr >> 8) & 3;
    if (priv < lowest_priv || (write && read_only) || !counter_allowed(m, csr) ||
        (csr == CSR_SATP && priv == EMU_PRIV_S && (m->mstatus & MSTATUS_TVM)) ||
        csr_read(m, csr, old) != 0)
        return -1;
    if (write) {
        uint32_t base = csr_modified(m, csr, *old);
        uint32_t value = op == 1 ? operand : op == 2 ? base | operand : base & ~operand;
        csr_write(m, csr, value, 1);
    }
    return 0;
}
