/* run.c: the machine's life cycle, the run loop and the host interface of emu.h.
 *
 * emu_run() is modelled on KVM_RUN: it executes instructions until something
 * needs software, then fills the exit record and returns its reason. The
 * interpreter (exec.c) only executes and counts; interrupts, device deadlines and
 * the budget are looked at when it stops (see request_check in hart.h). */
#include <stdlib.h>
#include <sys/mman.h>

#include "hart.h"

#define RAM_MAX 0x80000000u     /* from 0x80000000 to the top of the 32-bit space */

static void reset(emu_t *m)
{
    tlb_flush(m);
    pmp_reset(m);
    set_priv(m, EMU_PRIV_M);
    m->hart.pc = EMU_RAM_BASE;
    m->mtimecmp = UINT64_MAX;   /* no timer interrupt until software asks for one */
    m->htif_due = UINT64_MAX;
    m->loop_cause = UINT32_MAX;
}

emu_t *emu_new(uint32_t ram_size)
{
    if (ram_size == 0 || ram_size % PAGE_SIZE || ram_size > RAM_MAX)
        return NULL;
    emu_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    /* Anonymous memory is zero and costs nothing until touched. */
    void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) {
        free(m);
        return NULL;
    }
    m->ram = ram;
    m->ram_size = ram_size;
    m->misa = MISA_DEFAULT;
    m->code = calloc(ram_size / PAGE_SIZE, sizeof *m->code);
    if (!m->code) {
        munmap(ram, ram_size);
        free(m);
        return NULL;
    }
    reset(m);
    return m;
}

void emu_free(emu_t *m)
{
    if (!m)
        return;
    munmap(m->ram, m->ram_size);
    code_free(m);
    free(m->uart_in);
    free(m->mmio);
    free(m->breaks);
    free(m->dirty);
    free(m);
}

int emu_version(void) { return EMU_CORE_VERSION; }
const char *emu_dispatch_name(void) { return dispatch_name(); }
struct emu_hart *emu_hart(emu_t *m) { return &m->hart; }
struct emu_exit *emu_exit_record(emu_t *m) { return &m->exit; }
uint8_t *emu_ram(emu_t *m) { return m->ram; }
uint32_t emu_ram_size(emu_t *m) { return m->ram_size; }
uint64_t emu_steps(emu_t *m) { return m->steps; }
uint64_t emu_retired(emu_t *m) { return retired(m); }

/* ---- breakpoints: a sorted set of addresses ---- */

/* The first breakpoint at or above addr (break_count if none). */
uint32_t break_find(const emu_t *m, uint32_t addr)
{
    uint32_t lo = 0, hi = m->break_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->breaks[mid] < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int emu_break_add(emu_t *m, uint32_t addr)
{
    uint32_t i = break_find(m, addr);
    if (i < m->break_count && m->breaks[i] == addr)
        return 0;
    if (m->break_count == m->break_cap) {
        uint32_t cap = m->break_cap ? 2 * m->break_cap : 16;
        uint32_t *grown = realloc(m->breaks, cap * sizeof *grown);
        if (!grown)
            return -1;
        m->breaks = grown;
        m->break_cap = cap;
    }
    memmove(&m->breaks[i + 1], &m->breaks[i], (m->break_count - i) * sizeof *m->breaks);
    m->breaks[i] = addr;
    m->break_count++;
    return 0;
}

int emu_break_remove(emu_t *m, uint32_t addr)
{
    uint32_t i = break_find(m, addr);
    if (i == m->break_count || m->breaks[i] != addr)
        return -1;
    memmove(&m->breaks[i], &m->breaks[i + 1], (m->break_count - i - 1) * sizeof *m->breaks);
    m->break_count--;
    return 0;
}

void emu_break_clear(emu_t *m) { m->break_count = 0; }

/* ---- the run loop ---- */

/* Between bursts of instructions: the HTIF deadline, the budget, interrupts; then
 * how far the next burst may go before one of them needs a look. 1 ends the run. */
static int service(emu_t *m)
{
    if (unlikely(m->watch_hit)) {
        m->watch_hit = 0;
        m->exit.reason = EMU_EXIT_WATCH;
        return 1;
    }
    if (unlikely(m->lines_changed)) {
        m->lines_changed = 0;
        m->exit.reason = EMU_EXIT_IRQ;
        return 1;
    }
    if (m->steps >= m->htif_due && htif_check(m))
        return 1;
    if (m->steps >= m->budget_end) {
        m->exit.reason = EMU_EXIT_BUDGET;
        return 1;
    }
    /* An access the host has just answered completes before any interrupt is
     * taken, as KVM completes an MMIO load on the next KVM_RUN: the host did its
     * side effects (a PLIC claim), so the instruction must not be run again
     * later from a handler's return. */
    if (unlikely(m->mmio_resume)) {
        m->mmio_resume = 0;
        m->stop_at = m->steps + 1;
        return 0;
    }
    if (check_interrupts(m))
        return 1;
    uint64_t stop = m->budget_end, now = mtime_now(m);
    if (m->mtimecmp > now && m->mtimecmp - now < stop - m->steps)
        stop = m->steps + (m->mtimecmp - now);
    if (m->htif_due < stop)
        stop = m->htif_due;
    m->stop_at = stop;
    return 0;
}

uint32_t emu_run(emu_t *m, uint64_t budget)
{
    uint32_t start_pc = m->hart.pc;
    uint64_t start_steps = m->steps;
    set_priv(m, m->hart.priv);
    m->budget_end = budget > UINT64_MAX - m->steps ? UINT64_MAX : m->steps + budget;
    m->exit.insn = 0;
    m->watch_hit = 0;
    /* A breakpoint stops the hart before the instruction, except where the run
     * resumes: that one has already been reported. */
    m->resume_pc = start_pc;
    m->resume_steps = start_steps;
    while (!service(m) && !interpret(m))
        ;
    m->exit.pc = m->hart.pc;
    return m->exit.reason;
}

/* ---- debugging: catching traps, the trap log, watchpoints ---- */

void emu_catch_set(emu_t *m, uint32_t exceptions, uint32_t interrupts)
{
    m->catch_exc = exceptions;
    m->catch_irq = interrupts;
}

uint64_t emu_trap_count(emu_t *m) { return m->trap_count; }

/* The last (at most) max traps, oldest first. */
uint32_t emu_trap_log(emu_t *m, struct emu_trap_record *out, uint32_t max)
{
    uint64_t n = m->trap_count < EMU_TRAP_LOG ? m->trap_count : EMU_TRAP_LOG;
    if (n > max)
        n = max;
    for (uint64_t i = 0; i < n; i++)
        out[i] = m->trap_log[(m->trap_count - n + i) % EMU_TRAP_LOG];
    return (uint32_t)n;
}

int emu_watch_add(emu_t *m, uint32_t addr, uint32_t len, uint32_t kinds)
{
    kinds &= EMU_WATCH_READ | EMU_WATCH_WRITE;
    if (m->watch_count == EMU_WATCH_MAX || len == 0 || !kinds)
        return -1;
    m->watch[m->watch_count++] = (watch_t){addr, len, kinds};
    tlb_flush(m);   /* the watched pages must leave the TLB */
    return 0;
}

int emu_watch_remove(emu_t *m, uint32_t addr, uint32_t len, uint32_t kinds)
{
    for (uint32_t i = 0; i < m->watch_count; i++) {
        if (m->watch[i].base == addr && m->watch[i].len == len && m->watch[i].kinds == kinds) {
            memmove(&m->watch[i], &m->watch[i + 1], (m->watch_count - i - 1) * sizeof m->watch[0]);
            m->watch_count--;
            return 0;   /* the page may stay out of the TLB until the next flush */
        }
    }
    return -1;
}

void emu_watch_clear(emu_t *m) { m->watch_count = 0; }

/* ---- checkpoints: the state without RAM; RAM's dirty-page map ---- */

uint32_t emu_state_size(emu_t *m)
{
    return (uint32_t)sizeof *m + (m->uart_in_len - m->uart_in_pos);
}

/* The fields of struct emu that are not the machine's state, copied from one
 * struct to another: the buffers the core allocated (with their sizes), the
 * host's settings, and where the current privilege's TLBs are. A saved state
 * holds none of them (from a zeroed struct: no pointer to a buffer is ever part
 * of a state); a loaded state takes the machine's own. The TLBs themselves hold
 * host addresses too: a saved state has them zeroed, a loaded one flushed. */
static void copy_host_fields(emu_t *to, const emu_t *from)
{
    to->ram = from->ram;
    to->ram_size = from->ram_size;
    to->misa = from->misa;
    to->tlb_now = from->tlb_now;
    to->code_tlb_now = from->code_tlb_now;
    to->code = from->code;
    to->code_pages = from->code_pages;
    to->uart_in = from->uart_in;
    to->uart_in_cap = from->uart_in_cap;
    to->mmio = from->mmio;
    to->mmio_count = from->mmio_count;
    to->breaks = from->breaks;
    to->break_count = from->break_count;
    to->break_cap = from->break_cap;
    to->catch_exc = from->catch_exc;
    to->catch_irq = from->catch_irq;
    memcpy(to->watch, from->watch, sizeof to->watch);
    to->watch_count = from->watch_count;
    to->watch_hit = 0;
    to->dirty = from->dirty;
}

/* The machine struct without its host fields, then the unread UART input.
 * Returns the bytes written, or 0 when cap is too small (or memory ran out). */
uint32_t emu_state_save(emu_t *m, uint8_t *buf, uint32_t cap)
{
    static const emu_t no_host;
    uint32_t unread = m->uart_in_len - m->uart_in_pos, need = emu_state_size(m);
    if (cap < need)
        return 0;
    emu_t *s = malloc(sizeof *s);
    if (!s)
        return 0;
    memcpy(s, m, sizeof *s);
    copy_host_fields(s, &no_host);
    memset(s->tlb, 0, sizeof s->tlb);
    memset(s->code_tlb, 0, sizeof s->code_tlb);
    memcpy(buf, s, sizeof *s);
    free(s);
    if (unread)
        memcpy(buf + sizeof *m, m->uart_in + m->uart_in_pos, unread);
    return need;
}

/* Back to a saved state. What belongs to the host rather than to the machine's
 * state stays as it is now (copy_host_fields): RAM (the host restores it), the
 * buffers the core allocated (decoded code included), misa, breakpoints,
 * watchpoints, catches, MMIO ranges, dirty tracking. Everything cached from the
 * state is dropped: the TLBs, and every decoded op (the host may have rewritten
 * RAM before or after this call). */
int emu_state_load(emu_t *m, const uint8_t *buf, uint32_t len)
{
    if (len < sizeof *m)
        return -1;
    uint32_t unread = len - (uint32_t)sizeof *m;
    if (unread > m->uart_in_cap) {
        uint8_t *grown = realloc(m->uart_in, unread);
        if (!grown)
            return -1;
        m->uart_in = grown;
        m->uart_in_cap = unread;
    }
    emu_t *s = malloc(sizeof *s);
    if (!s)
        return -1;
    memcpy(s, buf, sizeof *s);
    copy_host_fields(s, m);
    s->uart_in_pos = 0;
    s->uart_in_len = unread;
    memcpy(m, s, sizeof *m);
    free(s);
    if (unread)
        memcpy(m->uart_in, buf + sizeof *m, unread);
    tlb_flush(m);
    set_priv(m, m->hart.priv);
    code_changed(m);
    request_check(m);
    return 0;
}

int emu_dirty_track(emu_t *m, int on)
{
    free(m->dirty);
    m->dirty = NULL;
    if (on && !(m->dirty = calloc(m->ram_size >> PAGE_SHIFT, 1)))
        return -1;
    tlb_flush(m);   /* pages already entered for stores must be seen again */
    return 0;
}

uint8_t *emu_dirty_map(emu_t *m) { return m->dirty; }

void emu_dirty_clear(emu_t *m)
{
    if (!m->dirty)
        return;
    memset(m->dirty, 0, m->ram_size >> PAGE_SHIFT);
    tlb_flush(m);
}

/* ---- host access ---- */

uint32_t emu_interrupt(emu_t *m)
{
    uint32_t cause = interrupt_due(m);
    if (!cause || (trap_target(m, cause) == EMU_PRIV_M && m->host_mmode))
        return 0;
    check_interrupts(m);
    return cause;
}


int emu_csr_read(emu_t *m, uint32_t csr, uint32_t *value)
{
    return csr_read(m, csr, value);
}

int emu_csr_write(emu_t *m, uint32_t csr, uint32_t value)
{
    return csr_write(m, csr, value, 0);
}

int emu_csr_set_bits(emu_t *m, uint32_t csr, uint32_t bits, int on)
{
    uint32_t old;
    if (csr_read(m, csr, &old) != 0)
        return -1;
    old = csr_modified(m, csr, old);
    return csr_write(m, csr, on ? old | bits : old & ~bits, 0);
}

void emu_set_priv(emu_t *m, uint32_t priv)
{
    set_priv(m, priv == EMU_PRIV_M || priv == EMU_PRIV_S ? priv : EMU_PRIV_U);
}

int emu_phys_read(emu_t *m, uint32_t addr, uint8_t *buf, uint32_t len)
{
    uint8_t *src = ram_at(m, addr, len);
    if (!src)
        return -1;
    memcpy(buf, src, len);
    return 0;
}

int emu_phys_write(emu_t *m, uint32_t addr, const uint8_t *buf, uint32_t len)
{
    uint8_t *dst = ram_at(m, addr, len);
    if (!dst)
        return -1;
    memcpy(dst, buf, len);
    code_written(m, addr, len);
    for (uint64_t page = addr & ~(PAGE_SIZE - 1); page < (uint64_t)addr + len; page += PAGE_SIZE)
        ram_dirty(m, page);
    return 0;
}

int emu_translate(emu_t *m, uint32_t vaddr, int access, uint64_t *paddr)
{
    if (access < ACCESS_LOAD || access > ACCESS_FETCH)
        return CAUSE_ILLEGAL_INSTRUCTION;
    return translate(m, vaddr, (access_t)access, 0, paddr);
}

int emu_pmp_check(emu_t *m, uint64_t paddr, uint32_t len, int access, uint32_t priv)
{
    static const exc_t fault[3] = { CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS };
    if (access < ACCESS_LOAD || access > ACCESS_FETCH || len == 0)
        return CAUSE_ILLEGAL_INSTRUCTION;
    return pmp_check(m, paddr, len, (access_t)access, priv) ? EXC_NONE : fault[access];
}

void emu_set_host_mmode(emu_t *m, int on) { m->host_mmode = on; }

int emu_set_misa(emu_t *m, uint32_t misa)
{
    if ((misa & MISA_MXL_MASK) != MISA_MXL_32 || (misa & MISA_REQUIRED) != MISA_REQUIRED ||
        (misa & ~(MISA_MXL_MASK | MISA_REQUIRED | MISA_OPTIONAL)))
        return -1;
    if (misa != m->misa) {
        m->misa = misa;
        code_changed(m);    /* ops were decoded for the old ISA */
    }
    return 0;
}

int emu_mmio_add(emu_t *m, uint32_t base, uint32_t size)
{
    mmio_range_t *grown = realloc(m->mmio, (m->mmio_count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    m->mmio = grown;
    m->mmio[m->mmio_count++] = (mmio_range_t){base, size};
    return 0;
}

void emu_mmio_reply(emu_t *m, uint32_t value)
{
    m->mmio_answer = MMIO_VALUE;
    m->mmio_value = value;
    m->mmio_resume = 1;
}

void emu_mmio_fault(emu_t *m)
{
    m->mmio_answer = MMIO_FAULT;
    m->mmio_resume = 1;
}

void emu_htif_set(emu_t *m, uint32_t tohost, uint32_t fromhost)
{
    m->tohost = tohost;
    m->fromhost = fromhost;
    tlb_flush(m);   /* stores to the tohost page must take the slow path */
}

void emu_htif_ack(emu_t *m, uint64_t fromhost)
{
    uint64_t zero = 0;
    uint8_t *to = ram_at(m, m->tohost, 8), *from = ram_at(m, m->fromhost, 8);
    if (to) {
        memcpy(to, &zero, 8);
        code_written(m, m->tohost, 8);
        ram_dirty(m, m->tohost);
    }
    if (from) {
        memcpy(from, &fromhost, 8);
        code_written(m, m->fromhost, 8);
        ram_dirty(m, m->fromhost);
    }
}

uint32_t emu_uart_take(emu_t *m, uint8_t *buf, uint32_t cap)
{
    uint32_t n = m->uart_out_len < cap ? m->uart_out_len : cap;
    memcpy(buf, m->uart_out, n);
    memmove(m->uart_out, m->uart_out + n, m->uart_out_len - n);
    m->uart_out_len -= n;
    return n;
}

uint32_t emu_uart_read(emu_t *m, uint8_t *buf, uint32_t cap)
{
    uint32_t unread = m->uart_in_len - m->uart_in_pos;
    uint32_t n = unread < cap ? unread : cap;
    if (n == 0)
        return 0;           /* uart_in may still be NULL */
    memcpy(buf, m->uart_in + m->uart_in_pos, n);
    m->uart_in_pos += n;
    uart_update(m);
    return n;
}

int emu_uart_input(emu_t *m, const uint8_t *buf, uint32_t len)
{
    if (len == 0)
        return 0;
    uint32_t unread = m->uart_in_len - m->uart_in_pos;
    if (unread)
        memmove(m->uart_in, m->uart_in + m->uart_in_pos, unread);
    m->uart_in_pos = 0;
    m->uart_in_len = unread;
    if (len > UINT32_MAX - unread)
        return -1;
    if (unread + len > m->uart_in_cap) {
        uint8_t *grown = realloc(m->uart_in, unread + len);
        if (!grown)
            return -1;
        m->uart_in = grown;
        m->uart_in_cap = unread + len;
    }
    memcpy(m->uart_in + unread, buf, len);
    m->uart_in_len += len;
    uart_update(m);
    return 0;
}

uint32_t emu_device_lines(emu_t *m)
{
    m->lines_changed = 0;
    return m->device_lines;
}

void emu_set_external(emu_t *m, uint32_t mip)
{
    m->external = mip & (MIP_MEIP | MIP_SEIP);
    interrupts_changed(m);
}

uint64_t emu_mtime(emu_t *m) { return mtime_now(m); }
void emu_protect_clint(emu_t *m, int on) { m->clint_m_only = on != 0; }
uint64_t emu_mtimecmp(emu_t *m) { return m->mtimecmp; }

void emu_set_mtimecmp(emu_t *m, uint64_t value)
{
    m->mtimecmp = value;
    request_check(m);
}
