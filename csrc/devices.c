/* devices.c: the board's fast devices, at QEMU virt's addresses (docs/board.md):
 * the CLINT (SiFive core-local interruptor: msip, mtimecmp, mtime), a 16550 UART
 * and its interrupt line, the SiFive test finisher, HTIF's tohost, and the MMIO
 * ranges the host emulates. A device access must be naturally aligned; anything else, and any
 * address no device claims, is an access fault. */
#include "hart.h"

enum {
    CLINT_MSIP = 0x0000, CLINT_MTIMECMP = 0x4000, CLINT_MTIMECMP_HI = 0x4004,
    CLINT_MTIME = 0xBFF8, CLINT_MTIME_HI = 0xBFFC,
};

/* 16550 registers (byte offsets) and bits. */
enum { UART_RBR_THR, UART_IER, UART_IIR_FCR, UART_LCR, UART_MCR, UART_LSR, UART_MSR, UART_SCR };
#define UART_IER_RDI  0x01     /* interrupt while a received byte is ready */
#define UART_IER_THRI 0x02     /* interrupt when the transmitter holding register empties */
#define UART_IER_MASK 0x0F     /* bits 7:4 are always 0 */
#define UART_IIR_NONE 0x01     /* no interrupt pending */
#define UART_IIR_THRI 0x02     /* the transmitter is empty */
#define UART_IIR_RDI  0x04     /* a received byte is ready */
#define UART_IIR_FIFO 0xC0     /* the FIFOs are enabled */
#define UART_FCR_FIFO 0x01     /* enable the FIFOs */
#define UART_LSR_DR   0x01     /* a received byte is ready */
#define UART_LSR_THRE 0x20     /* the transmitter accepts a byte */
#define UART_LSR_TEMT 0x40     /* the transmitter is empty */
#define UART_LCR_DLAB 0x80     /* registers 0 and 1 are the divisor latch */
#define UART_MSR_IDLE 0xB0     /* carrier detect, data set ready, clear to send */

#define TEST_SIZE 0x1000
#define TEST_PASS 0x5555
#define TEST_FAIL 0x3333

static int in_range(uint64_t pa, uint32_t base, uint32_t size)
{
    return pa >= base && pa - base < size;
}

static exc_t fault(emu_t *m, access_t access, uint32_t va)
{
    return raise(m, access == ACCESS_STORE ? CAUSE_STORE_ACCESS : CAUSE_LOAD_ACCESS, va);
}

static uint32_t clint_read(emu_t *m, uint32_t offset)
{
    switch (offset) {
    case CLINT_MSIP:        return m->msip;
    case CLINT_MTIMECMP:    return (uint32_t)m->mtimecmp;
    case CLINT_MTIMECMP_HI: return (uint32_t)(m->mtimecmp >> 32);
    case CLINT_MTIME:       return (uint32_t)mtime_now(m);
    case CLINT_MTIME_HI:    return (uint32_t)(mtime_now(m) >> 32);
    default:                return 0;
    }
}

static uint64_t set_half(uint64_t old, uint32_t value, int high)
{
    return high ? (old & 0xFFFFFFFFu) | (uint64_t)value << 32
                : (old & ~(uint64_t)0xFFFFFFFFu) | value;
}

static void clint_write(emu_t *m, uint32_t offset, uint32_t value)
{
    switch (offset) {
    case CLINT_MSIP:
        m->msip = value & 1;
        interrupts_changed(m);
        break;
    case CLINT_MTIMECMP:
        m->mtimecmp = set_half(m->mtimecmp, value, 0);
        deadline_changed(m);
        break;
    case CLINT_MTIMECMP_HI:
        m->mtimecmp = set_half(m->mtimecmp, value, 1);
        deadline_changed(m);
        break;
    case CLINT_MTIME:       mtime_set(m, set_half(mtime_now(m), value, 0), 1); break;
    case CLINT_MTIME_HI:    mtime_set(m, set_half(mtime_now(m), value, 1), 1); break;
    }
}

static int uart_rx_ready(const emu_t *m)
{
    return m->uart_in_pos < m->uart_in_len;
}

/* IIR: the highest-priority interrupt pending, received data before the empty
 * transmitter (there are no line-status or modem-status events). */
static uint32_t uart_iir(const emu_t *m)
{
    uint32_t fifo = m->uart_fcr & UART_FCR_FIFO ? UART_IIR_FIFO : 0;
    if ((m->uart_ier & UART_IER_RDI) && uart_rx_ready(m))
        return fifo | UART_IIR_RDI;
    if ((m->uart_ier & UART_IER_THRI) && m->uart_thr_irq)
        return fifo | UART_IIR_THRI;
    return fifo | UART_IIR_NONE;
}

/* The UART's interrupt line follows IIR; a change ends the run after this
 * instruction, for the host's PLIC to see. */
void uart_update(emu_t *m)
{
    uint32_t bit = 1u << EMU_UART_IRQ;
    uint32_t lines = uart_iir(m) & UART_IIR_NONE ? m->device_lines & ~bit
                                                 : m->device_lines | bit;
    if (lines == m->device_lines)
        return;
    m->device_lines = lines;
    m->lines_changed = 1;
    request_check(m);
}

static uint32_t uart_read(emu_t *m, uint32_t reg)
{
    int dlab = m->uart_lcr & UART_LCR_DLAB;
    int ready = uart_rx_ready(m);
    uint32_t iir;
    switch (reg) {
    case UART_RBR_THR:
        if (dlab)
            return m->uart_dll;
        return ready ? m->uart_in[m->uart_in_pos++] : 0;
    case UART_IER:     return dlab ? m->uart_dlm : m->uart_ier;
    case UART_IIR_FCR:
        /* Reading IIR when it names the empty transmitter clears that interrupt. */
        iir = uart_iir(m);
        if ((iir & ~UART_IIR_FIFO) == UART_IIR_THRI)
            m->uart_thr_irq = 0;
        return iir;
    case UART_LCR:     return m->uart_lcr;
    case UART_MCR:     return m->uart_mcr;
    case UART_LSR:     return UART_LSR_THRE | UART_LSR_TEMT | (ready ? UART_LSR_DR : 0);
    case UART_MSR:     return UART_MSR_IDLE;
    case UART_SCR:     return m->uart_scr;
    default:           return 0;
    }
}

/* Returns 1 when the output buffer has just filled up and must be drained.
 * Transmission is instant: the byte written to THR is sent at once, and the
 * transmitter is empty again (its interrupt pending) when the store completes.
 * A receive-FIFO reset in FCR discards no console input (docs/board.md). */
static int uart_write(emu_t *m, uint32_t reg, uint8_t value)
{
    int dlab = m->uart_lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR_THR:
        if (dlab) {
            m->uart_dll = value;
            return 0;
        }
        m->uart_out[m->uart_out_len++] = value;
        m->uart_thr_irq = 1;
        return m->uart_out_len == EMU_UART_OUT_CAPACITY;
    case UART_IER:
        if (dlab) {
            m->uart_dlm = value;
            return 0;
        }
        /* Enabling the transmitter interrupt raises it at once: THR is empty. */
        if ((value ^ m->uart_ier) & UART_IER_THRI)
            m->uart_thr_irq = (value & UART_IER_THRI) != 0;
        m->uart_ier = value & UART_IER_MASK;
        return 0;
    case UART_IIR_FCR: m->uart_fcr = value & UART_FCR_FIFO; return 0;
    case UART_LCR: m->uart_lcr = value; return 0;
    case UART_MCR: m->uart_mcr = value; return 0;
    case UART_SCR: m->uart_scr = value; return 0;
    default:       return 0;    /* the read-only registers */
    }
}

/* An access to a host MMIO range exits before the instruction completes; the
 * instruction runs again on resume and finds the host's answer waiting. */
static exc_t host_mmio(emu_t *m, uint64_t pa, int size, access_t access, uint32_t *value,
                       uint32_t va)
{
    if (m->mmio_answer != MMIO_NO_ANSWER && m->mmio_addr == pa) {
        int answer = m->mmio_answer;
        m->mmio_answer = MMIO_NO_ANSWER;
        if (answer == MMIO_FAULT)
            return fault(m, access, va);
        if (access == ACCESS_LOAD)
            *value = m->mmio_value;
        return EXC_NONE;
    }
    m->mmio_answer = MMIO_NO_ANSWER;
    m->mmio_addr = (uint32_t)pa;
    m->exit.reason = EMU_EXIT_MMIO;
    m->exit.addr = (uint32_t)pa;
    m->exit.size = (uint32_t)size;
    m->exit.is_write = access == ACCESS_STORE;
    m->exit.data = access == ACCESS_STORE ? *value : 0;
    return EXC_EXIT_BEFORE;
}

static int host_claims(const emu_t *m, uint64_t pa)
{
    for (uint32_t i = 0; i < m->mmio_count; i++)
        if (in_range(pa, m->mmio[i].base, m->mmio[i].size))
            return 1;
    return 0;
}

static exc_t device_access(emu_t *m, uint64_t pa, int size, access_t access, uint32_t *value,
                           uint32_t va)
{
    int store = access == ACCESS_STORE;
    if (pa & (uint64_t)(size - 1))
        return fault(m, access, va);
    if (in_range(pa, EMU_CLINT_BASE, EMU_CLINT_SIZE)) {
        uint32_t offset = (uint32_t)pa - EMU_CLINT_BASE;
        if (size != 4 || (m->clint_m_only && effective_priv(m, access) != EMU_PRIV_M))
            return fault(m, access, va);
        if (store)
            clint_write(m, offset, *value);
        else
            *value = clint_read(m, offset);
        return EXC_NONE;
    }
    if (in_range(pa, EMU_UART_BASE, EMU_UART_SIZE)) {
        uint32_t reg = (uint32_t)pa - EMU_UART_BASE;
        int full = 0;
        if (store)
            full = uart_write(m, reg, (uint8_t)*value);
        else
            *value = uart_read(m, reg);
        uart_update(m);
        if (!full)
            return EXC_NONE;
        m->exit.reason = EMU_EXIT_OUTPUT;
        return EXC_EXIT_AFTER;
    }
    if (in_range(pa, EMU_TEST_BASE, TEST_SIZE)) {
        if (!store) {
            *value = 0;
            return EXC_NONE;
        }
        uint32_t code = *value & 0xFFFF;
        if (code != TEST_PASS && code != TEST_FAIL)
            return EXC_NONE;
        m->exit.reason = EMU_EXIT_POWEROFF;
        m->exit.status = code == TEST_PASS ? 0 : (int32_t)(*value >> 16);
        return EXC_EXIT_AFTER;
    }
    if (host_claims(m, pa))
        return host_mmio(m, pa, size, access, value, va);
    return fault(m, access, va);
}

exc_t device_load(emu_t *m, uint64_t pa, int size, uint32_t *value, uint32_t va)
{
    return device_access(m, pa, size, ACCESS_LOAD, value, va);
}

exc_t device_store(emu_t *m, uint64_t pa, int size, uint32_t value, uint32_t va)
{
    if (size < 4)
        value &= (1u << (8 * size)) - 1;    /* a device sees only the bytes stored */
    return device_access(m, pa, size, ACCESS_STORE, &value, va);
}

/* tohost was written: hand a non-zero value to the host (docs/board.md, HTIF). */
int htif_check(emu_t *m)
{
    uint8_t *cell = ram_at(m, m->tohost, 8);
    uint64_t value = 0;
    m->htif_due = UINT64_MAX;
    if (cell)
        memcpy(&value, cell, 8);
    if (!value)
        return 0;
    m->exit.reason = EMU_EXIT_HTIF;
    m->exit.htif = value;
    return 1;
}
