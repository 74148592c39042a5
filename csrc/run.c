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

static uint32_t break_find(const emu_t *m, uint32_t addr)
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
    if (m->steps >= m->htif_due && htif_check(m))
        return 1;
    if (m->steps >= m->budget_end) {
        m->exit.reason = EMU_EXIT_BUDGET;
        return 1;
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
    /* A breakpoint stops the hart before the instruction, except where the run
     * resumes: that one has already been reported. */
    m->resume_pc = start_pc;
    m->resume_steps = start_steps;
    while (!service(m) && !interpret(m))
        ;
    m->exit.pc = m->hart.pc;
    return m->exit.reason;
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
    return 0;
}

int emu_translate(emu_t *m, uint32_t vaddr, int access, uint64_t *paddr)
{
    if (access < ACCESS_LOAD || access > ACCESS_FETCH)
        return CAUSE_ILLEGAL_INSTRUCTION;
    return translate(m, vaddr, (access_t)access, 0, paddr);
}

void emu_set_host_mmode(emu_t *m, int on) { m->host_mmode = on; }

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
}

void emu_mmio_fault(emu_t *m) { m->mmio_answer = MMIO_FAULT; }

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
    }
    if (from) {
        memcpy(from, &fromhost, 8);
        code_written(m, m->fromhost, 8);
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
    return 0;
}

uint64_t emu_mtime(emu_t *m) { return mtime_now(m); }
uint64_t emu_mtimecmp(emu_t *m) { return m->mtimecmp; }

void emu_set_mtimecmp(emu_t *m, uint64_t value)
{
    m->mtimecmp = value;
    request_check(m);
}
void emu_protect_clint(emu_t *m, int on) { m->clint_m_only = on != 0; }
