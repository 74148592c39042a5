/* hart.h: the machine's private state and the small vocabulary the instruction
 * bodies, the MMU, the CSRs and the devices share. */
#ifndef EMU_HART_H
#define EMU_HART_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "emu.h"
#include "ops.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the core copies guest memory as host words: a little-endian host is required"
#endif

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Exception causes (privileged spec 1.12, table 3.6). An operation returns one of
 * these, or EXC_NONE; the two EXIT codes are not architectural: they stop emu_run,
 * before the instruction (it is re-executed on resume) or after it completed.
 * EXC_FETCH_EACH is no exception either: code_fill's word that the fetch succeeded
 * but PMP grants fetches only part of the page, so each instruction there must be
 * fetched (and checked) on its own. */
typedef int32_t exc_t;
enum {
    EXC_NONE = -1,
    EXC_EXIT_BEFORE = -2,
    EXC_EXIT_AFTER = -3,
    EXC_FETCH_EACH = -4,
    CAUSE_MISALIGNED_FETCH = 0,
    CAUSE_FETCH_ACCESS = 1,
    CAUSE_ILLEGAL_INSTRUCTION = 2,
    CAUSE_BREAKPOINT = 3,
    CAUSE_MISALIGNED_LOAD = 4,
    CAUSE_LOAD_ACCESS = 5,
    CAUSE_MISALIGNED_STORE = 6,
    CAUSE_STORE_ACCESS = 7,
    CAUSE_USER_ECALL = 8,
    CAUSE_SUPERVISOR_ECALL = 9,
    CAUSE_MACHINE_ECALL = 11,
    CAUSE_FETCH_PAGE_FAULT = 12,
    CAUSE_LOAD_PAGE_FAULT = 13,
    CAUSE_STORE_PAGE_FAULT = 15,
};

/* Interrupt numbers: bit positions in mip and mie, and mcause with bit 31 set. */
enum {
    IRQ_S_SOFT = 1, IRQ_M_SOFT = 3,
    IRQ_S_TIMER = 5, IRQ_M_TIMER = 7,
    IRQ_S_EXT = 9, IRQ_M_EXT = 11,
};
#define MIP_SSIP (1u << IRQ_S_SOFT)
#define MIP_MSIP (1u << IRQ_M_SOFT)
#define MIP_STIP (1u << IRQ_S_TIMER)
#define MIP_MTIP (1u << IRQ_M_TIMER)
#define MIP_SEIP (1u << IRQ_S_EXT)
#define MIP_MEIP (1u << IRQ_M_EXT)
#define CAUSE_INTERRUPT 0x80000000u

/* mstatus fields (privileged spec 1.12, section 3.1.6, RV32 layout). */
#define MSTATUS_SIE  (1u << 1)
#define MSTATUS_MIE  (1u << 3)
#define MSTATUS_SPIE (1u << 5)
#define MSTATUS_MPIE (1u << 7)
#define MSTATUS_SPP  (1u << 8)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_MPP  (3u << MSTATUS_MPP_SHIFT)
#define MSTATUS_MPRV (1u << 17)
#define MSTATUS_SUM  (1u << 18)
#define MSTATUS_MXR  (1u << 19)
#define MSTATUS_TVM  (1u << 20)
#define MSTATUS_TW   (1u << 21)
#define MSTATUS_TSR  (1u << 22)

/* misa (privileged spec 1.12 section 3.1.1): MXL = 1 for RV32, and one bit per
 * extension letter. The core can be any ISA with I, S and U; A and M may be left
 * out (emu_set_misa). */
#define MISA_MXL_32   0x40000000u
#define MISA_MXL_MASK 0xC0000000u
#define MISA_EXT(letter) (1u << ((letter) - 'A'))
#define MISA_A MISA_EXT('A')
#define MISA_M MISA_EXT('M')
#define MISA_REQUIRED (MISA_EXT('I') | MISA_EXT('S') | MISA_EXT('U'))
#define MISA_OPTIONAL (MISA_A | MISA_M)
#define MISA_DEFAULT  (MISA_MXL_32 | MISA_REQUIRED | MISA_OPTIONAL)

#define SATP_MODE_SV32 0x80000000u
#define SATP_MASK      0x803FFFFFu  /* MODE and PPN; ASIDLEN is 0 */

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1u << PAGE_SHIFT)

/* Kinds of memory access: they pick the TLB, the permission bit and the causes. */
typedef enum { ACCESS_LOAD = 0, ACCESS_STORE = 1, ACCESS_FETCH = 2 } access_t;

/* A soft TLB entry maps one virtual page to the host address of its RAM frame,
 * for one kind of access under the current privilege and satp: a hit needs no
 * further checks. Only RAM is ever entered; devices take the slow path. */
#define TLB_SIZE 256
#define TLB_EMPTY 0xFFFFFFFFu   /* no page number is this large */
typedef struct {
    uint32_t vpn;
    uint8_t *host;
} tlb_entry_t;

/* The fetch side of the TLB maps a virtual page straight to its decoded ops. */
typedef struct {
    uint32_t vpn;
    op_t *ops;
} code_tlb_entry_t;

typedef struct {
    uint32_t base, size;
} mmio_range_t;

typedef struct {
    uint32_t base, len, kinds;      /* physical; EMU_WATCH_* */
} watch_t;

struct emu {
    struct emu_hart hart;
    struct emu_exit exit;

    /* The clock: instructions executed (retired or trapped) and how many trapped.
     * minstret, mcycle and mtime are these plus an offset the software wrote. */
    uint64_t steps;
    uint64_t exceptions;
    uint64_t instret_offset, cycle_offset, mtime_offset;

    /* The inner loop runs while steps < stop_at; anything that may make an
     * interrupt pending or must end the run lowers it (see request_check). */
    uint64_t stop_at;
    uint64_t budget_end;

    /* CSR storage. sstatus, sie and sip are views of mstatus, mie and mip. */
    uint32_t mstatus, medeleg, mideleg, mie, mip;
    uint32_t mtvec, mcounteren, mscratch, mepc, mcause, mtval;
    uint32_t stvec, scounteren, sscratch, sepc, scause, stval, satp;
    uint32_t pmpcfg[4], pmpaddr[16];
    uint8_t pmp_binds_m;              /* a locked entry is on: M-mode is checked too */
    uint32_t tselect, tdata2, tdata3;

    /* LR/SC: the reserved physical address, when valid. */
    int reserved;
    uint64_t reservation;

    /* Memory. */
    uint8_t *ram;
    uint32_t ram_size;
    /* One TLB per privilege (U, S, M) and kind of access, so that a trap or an
     * xRET needs no flush; tlb_now points at the current privilege's. */
    tlb_entry_t tlb[3][3][TLB_SIZE];
    tlb_entry_t (*tlb_now)[TLB_SIZE];
    code_tlb_entry_t code_tlb[3][TLB_SIZE];
    code_tlb_entry_t *code_tlb_now;
    /* Decoded instructions: one code page per page of RAM that ran (decode.c). */
    code_page_t **code;               /* by RAM page number; NULL: never ran */
    code_page_t *code_pages;          /* all of them, linked */

    /* Devices. */
    uint64_t mtimecmp;
    uint32_t msip;
    uint8_t uart_out[EMU_UART_OUT_CAPACITY];
    uint32_t uart_out_len;
    uint8_t *uart_in;
    uint32_t uart_in_len, uart_in_pos, uart_in_cap;
    uint8_t uart_lcr, uart_ier, uart_mcr, uart_scr, uart_dll, uart_dlm, uart_fcr;
    uint8_t uart_thr_irq;       /* the transmitter-empty interrupt is pending (IIR) */
    uint32_t device_lines;      /* bit n: the line of interrupt source n is raised */
    int lines_changed;          /* device_lines changed since the host last looked */
    uint32_t external;          /* MEIP and SEIP, as the host's PLIC drives them */
    uint32_t tohost, fromhost;        /* physical addresses; 0 for none */
    uint64_t htif_due;                /* step at which tohost is read; UINT64_MAX: none */

    /* The host. */
    int host_mmode;
    uint32_t misa;                    /* the ISA, which the decoder follows: a host
                                       * setting, read-only to software */
    mmio_range_t *mmio;
    uint32_t mmio_count;
    int mmio_answer;                  /* MMIO_* */
    int mmio_resume;                  /* answered: run that access before any interrupt */
    uint32_t mmio_value, mmio_addr;
    uint32_t *breaks;                 /* sorted */
    uint32_t break_count, break_cap;
    uint32_t resume_pc;               /* where emu_run began: its breakpoint is not */
    uint64_t resume_steps;            /* reported again */
    uint8_t clint_m_only;             /* S and U accesses to the CLINT fault */

    uint32_t trap_tval;               /* xtval of the exception being raised */

    /* Debugging (emu.h): caught causes, the trap log, watchpoints (pages that hold
     * one are never entered into the TLB for the kinds watched), a watchpoint hit
     * waiting for its instruction to complete, and the dirty-page map. */
    uint32_t catch_exc, catch_irq;
    struct emu_trap_record trap_log[EMU_TRAP_LOG];
    uint64_t trap_count;
    watch_t watch[EMU_WATCH_MAX];
    uint32_t watch_count;
    int watch_hit;
    uint8_t *dirty;

    /* Trap-loop detection: the last exception and how often it repeated. */
    uint32_t loop_cause, loop_pc, loop_tval, loop_repeats;
    uint64_t loop_retired;
    uint32_t return_pc;                 /* where the last xRET went ... */
    uint64_t return_retired;            /* ... and the retired count just after it */
};

#define TRAP_LOOP_LIMIT 16

enum { MMIO_NO_ANSWER, MMIO_VALUE, MMIO_FAULT };

/* Ask the run loop to leave its fast inner loop and re-check interrupts, device
 * deadlines and exits before the next instruction. */
static inline void request_check(emu_t *m) { m->stop_at = 0; }

static inline uint64_t retired(const emu_t *m) { return m->steps - m->exceptions; }

/* RAM at pa may have been written: for checkpoints (emu_dirty_map). */
static inline void ram_dirty(emu_t *m, uint64_t pa)
{
    if (unlikely(m->dirty != NULL) && pa >= EMU_RAM_BASE && pa - EMU_RAM_BASE < m->ram_size)
        m->dirty[(pa - EMU_RAM_BASE) >> PAGE_SHIFT] = 1;
}

#define TRY(e) do { exc_t e_ = (e); if (e_ != EXC_NONE) return e_; } while (0)

static inline exc_t raise(emu_t *m, exc_t cause, uint32_t tval)
{
    m->trap_tval = tval;
    return cause;
}

/* mmu.c */
void tlb_flush(emu_t *m);
void tlb_forget_store(emu_t *m, const uint8_t *host_page);
op_t *code_fill(emu_t *m, uint32_t pc, exc_t *e);
exc_t mem_slow(emu_t *m, uint32_t va, int size, access_t access, uint32_t *value);
exc_t mem_atomic(emu_t *m, uint32_t va, access_t access, uint32_t **cell, uint64_t *pa);
uint32_t effective_priv(const emu_t *m, access_t access);
exc_t translate(emu_t *m, uint32_t va, access_t access, int update_ad, uint64_t *pa);
uint8_t *ram_at(emu_t *m, uint64_t pa, uint32_t len);
int page_watched(const emu_t *m, uint64_t pa, access_t access);
void watch_check(emu_t *m, uint32_t va, uint64_t pa, int size, access_t access, uint32_t value);

/* pmp.c */
int pmp_check(const emu_t *m, uint64_t pa, uint64_t len, access_t access, uint32_t priv);
void pmpcfg_write(emu_t *m, uint32_t n, uint32_t value);
void pmpaddr_write(emu_t *m, uint32_t i, uint32_t value);
void pmp_reset(emu_t *m);

/* May the bytes [pa, pa + len) be accessed at this privilege (pmp.c)? M-mode
 * with no locked entry needs no look at the entries when the access lies in one
 * 4-byte granule: only a partial match could fail it, and with G = 0 every
 * entry's bounds are multiples of 4. */
static inline int pmp_allows(const emu_t *m, uint64_t pa, uint64_t len, access_t access,
                             uint32_t priv)
{
    if (priv == EMU_PRIV_M && !m->pmp_binds_m && (pa >> 2) == ((pa + len - 1) >> 2))
        return 1;
    return pmp_check(m, pa, len, access, priv);
}

/* decode.c */
void decode_block(const emu_t *m, code_page_t *page, uint32_t first);
code_page_t *code_page(emu_t *m, uint64_t pa);
int is_code_page(const emu_t *m, uint64_t pa);
void code_written(emu_t *m, uint64_t pa, uint32_t len);
void code_changed(emu_t *m);
void code_free(emu_t *m);

/* csr.c */
uint32_t csr_modified(const emu_t *m, uint32_t csr, uint32_t old);
int csr_instruction(emu_t *m, uint32_t csr, uint32_t op, uint32_t operand, int write,
                    uint32_t *old);
int csr_read(emu_t *m, uint32_t csr, uint32_t *value);
int csr_write(emu_t *m, uint32_t csr, uint32_t value, int in_instruction);
uint32_t mip_read(const emu_t *m);
void interrupts_changed(emu_t *m);
void deadline_changed(emu_t *m);
void mstatus_set(emu_t *m, uint32_t value);
uint64_t mtime_now(const emu_t *m);
void mtime_set(emu_t *m, uint64_t value, int in_instruction);

/* trap.c */
exc_t exception(emu_t *m, exc_t cause, uint32_t insn);
uint32_t trap_target(const emu_t *m, uint32_t cause);
uint32_t interrupt_due(const emu_t *m);
int check_interrupts(emu_t *m);
void do_mret(emu_t *m);
void do_sret(emu_t *m);
void set_priv(emu_t *m, uint32_t priv);
exc_t wait_for_interrupt(emu_t *m);

/* devices.c */
exc_t device_load(emu_t *m, uint64_t pa, int size, uint32_t *value, uint32_t va);
exc_t device_store(emu_t *m, uint64_t pa, int size, uint32_t value, uint32_t va);
int htif_check(emu_t *m);
void uart_update(emu_t *m);

/* exec.c */
extern const uint8_t alu_op[OP_KINDS];    /* 1: the kind is an ALU op (FOR_EACH_ALU) */
int interpret(emu_t *m);
const char *dispatch_name(void);

/* run.c */
uint32_t break_find(const emu_t *m, uint32_t addr);

/* The fast path of memory access is a TLB hit on RAM within one page (the LOAD
 * and STORE of exec.c). Everything else (misses, page crossings, devices, HTIF,
 * pages with decoded code, faults) goes through mem_slow. */
static inline tlb_entry_t *tlb_slot(emu_t *m, access_t access, uint32_t va)
{
    return &m->tlb_now[access][(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];
}

static inline int tlb_hit(const tlb_entry_t *e, uint32_t va, int size)
{
    return e->vpn == va >> PAGE_SHIFT && (va & (PAGE_SIZE - 1)) + (uint32_t)size <= PAGE_SIZE;
}

/* The decoded ops of the page holding pc, as the hart would fetch them now; or
 * NULL and the exception the fetch raises in *e. *e is EXC_FETCH_EACH when only
 * the instruction at pc may run before the next fetch; else it is left alone. */
static inline op_t *code_fetch(emu_t *m, uint32_t pc, exc_t *e)
{
    code_tlb_entry_t *t = &m->code_tlb_now[(pc >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    if (likely(t->vpn == pc >> PAGE_SHIFT && !(pc & 3)))
        return t->ops;
    return code_fill(m, pc, e);
}

#endif
