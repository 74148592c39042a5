/* emu.h: the C core's public interface, the only declarations Python sees.
 *
 * This file is read twice: by the C compiler, and by cffi as its cdef. So it holds
 * nothing but plain declarations and integer #defines: no includes, no guards, no
 * macros with arguments. Include it through hart.h, never directly.
 *
 * The core is the hardware: one RV32IMA hart with M/S/U privilege and Sv32, RAM,
 * and the fast devices (CLINT, UART, test finisher, HTIF); the host may leave out
 * M or A (emu_set_misa). emu_run() executes until something needs software and
 * returns an exit, as KVM_RUN does. */

#define EMU_CORE_VERSION 6

/* Why emu_run() returned (emu_exit.reason). */
#define EMU_EXIT_BUDGET     0   /* the instruction budget is spent */
#define EMU_EXIT_TRAP       1   /* a trap that M-mode takes while the host owns M-mode */
#define EMU_EXIT_BREAKPOINT 2   /* pc reached a breakpoint (before executing it) */
#define EMU_EXIT_MMIO       3   /* a load or store to a host-registered MMIO range */
#define EMU_EXIT_WFI        4   /* WFI with no enabled interrupt that could ever wake it */
#define EMU_EXIT_POWEROFF   5   /* the test device was told to stop; status holds the code */
#define EMU_EXIT_HTIF       6   /* tohost was written; htif holds the 64-bit value */
#define EMU_EXIT_OUTPUT     7   /* the UART output buffer is full: drain it */
#define EMU_EXIT_TRAP_LOOP  8   /* the same exception at the same pc, over and over */
#define EMU_EXIT_CAUGHT     9   /* a caught trap was just taken: pc is its handler */
#define EMU_EXIT_WATCH     10   /* an access touched a watchpoint; it has completed */
#define EMU_EXIT_IRQ       11   /* a C device's interrupt line changed: see emu_device_lines */

/* Privilege levels, as encoded in mstatus.MPP. */
#define EMU_PRIV_U 0
#define EMU_PRIV_S 1
#define EMU_PRIV_M 3

/* The board's memory map (docs/board.md). */
#define EMU_TEST_BASE  0x00100000
#define EMU_CLINT_BASE 0x02000000
#define EMU_CLINT_SIZE 0x00010000
#define EMU_UART_BASE  0x10000000
#define EMU_UART_SIZE  0x00000100
#define EMU_RAM_BASE   0x80000000

#define EMU_UART_OUT_CAPACITY 4096

/* The interrupt source numbers of the C devices at the interrupt controller
 * (the PLIC, emulated by the host). */
#define EMU_UART_IRQ 10

/* The architectural state of the hart that Python may read and write directly.
 * CSRs with side effects are written through emu_csr_write() instead. */
struct emu_hart {
    uint32_t x[32];
    uint32_t pc;
    uint32_t priv;
};

/* The exit record, filled by emu_run(). Fields beyond reason are meaningful for the
 * reasons that name them. */
struct emu_exit {
    uint32_t reason;
    uint32_t pc;        /* pc of the instruction concerned (or the next to run) */
    uint32_t insn;      /* its bits, when an instruction caused the exit */
    uint32_t cause;     /* TRAP, TRAP_LOOP: mcause value (bit 31 for interrupts) */
    uint32_t tval;      /* TRAP, TRAP_LOOP: what mtval would receive */
    uint32_t addr;      /* MMIO: physical address */
    uint32_t size;      /* MMIO: access size in bytes */
    uint32_t is_write;  /* MMIO: 1 for a store */
    uint32_t data;      /* MMIO: the value stored */
    int32_t status;     /* POWEROFF: exit status */
    uint64_t htif;      /* HTIF: the value of tohost */
    uint32_t epc;       /* CAUGHT: the trapped pc (xepc); WATCH: the accessing instruction's */
    uint32_t from_priv; /* CAUGHT: the privilege the trap left */
    uint32_t to_priv;   /* CAUGHT: the privilege that took it */
};

/* One trap as the hart took it (or, when the host owns M-mode, handed it to the
 * host: handler 0). The core keeps the last EMU_TRAP_LOG of them, for debuggers. */
#define EMU_TRAP_LOG 64
struct emu_trap_record {
    uint64_t steps;     /* the clock when it was taken */
    uint32_t cause, tval, epc, handler, insn;
    uint32_t from_priv, to_priv;
};

/* Watchpoints: kinds of access, and how many ranges the core checks. */
#define EMU_WATCH_READ  1
#define EMU_WATCH_WRITE 2
#define EMU_WATCH_MAX   16

typedef struct emu emu_t;

/* Life cycle. ram_size is a multiple of 4 KiB; RAM is mapped lazily, so untouched
 * memory costs nothing. Returns NULL when the memory cannot be had. */
emu_t *emu_new(uint32_t ram_size);
void emu_free(emu_t *m);
int emu_version(void);
/* How the interpreter dispatches: "threaded" (computed goto) or "switch", as
 * the core was built (EMU_DISPATCH=switch, csrc/build.py). */
const char *emu_dispatch_name(void);

struct emu_hart *emu_hart(emu_t *m);
struct emu_exit *emu_exit_record(emu_t *m);
uint8_t *emu_ram(emu_t *m);
uint32_t emu_ram_size(emu_t *m);

/* Execute at most budget instructions; returns the exit reason. */
uint32_t emu_run(emu_t *m, uint64_t budget);

/* For tracers: take now the interrupt the hart would take before its next
 * instruction, if the guest handles it; returns its cause (0: none taken). */
uint32_t emu_interrupt(emu_t *m);

/* Instructions executed so far (retired or trapped: the run's clock), and of
 * those the ones that retired. */
uint64_t emu_steps(emu_t *m);
uint64_t emu_retired(emu_t *m);

/* CSR access from the host: no privilege checks, the architectural side effects.
 * Return 0, or -1 for a CSR the hart does not have. */
int emu_csr_read(emu_t *m, uint32_t csr, uint32_t *value);
int emu_csr_write(emu_t *m, uint32_t csr, uint32_t value);
/* Set (on) or clear bits, as CSRRS and CSRRC would: mip keeps the PLIC's SEIP
 * line out of what it writes back. */
int emu_csr_set_bits(emu_t *m, uint32_t csr, uint32_t bits, int on);

/* Physical memory from the host (RAM and the C devices' registers are not
 * included: RAM only). Return 0, or -1 when the range is not all RAM. */
int emu_phys_read(emu_t *m, uint32_t addr, uint8_t *buf, uint32_t len);
int emu_phys_write(emu_t *m, uint32_t addr, const uint8_t *buf, uint32_t len);

/* Virtual to physical, as a load (access 0), store (1) or fetch (2) would see it
 * in the current privilege and satp, without setting A/D bits. Returns -1 and the
 * physical address, or the exception cause the access would raise. */
int emu_translate(emu_t *m, uint32_t vaddr, int access, uint64_t *paddr);

/* Physical memory protection (privileged spec 1.12 section 3.7), as configured
 * now: would an access (0 load, 1 store, 2 fetch) of len bytes at the 34-bit
 * physical address paddr, made at privilege priv, pass? Returns -1, or the
 * access-fault cause it would raise. */
int emu_pmp_check(emu_t *m, uint64_t paddr, uint32_t len, int access, uint32_t priv);

/* The host owns M-mode: every trap to M becomes an EMU_EXIT_TRAP. */
void emu_set_host_mmode(emu_t *m, int on);

/* The ISA, as misa reads it (privileged spec 1.12 section 3.1.1): MXL = 1 and
 * the extension bits. I, S and U are required; A and M may be left out, and their
 * instructions are then illegal. The default is all five, 0x40141101. Software
 * cannot change it (writes to misa are ignored); a loaded state keeps it. Returns
 * -1, changing nothing, for a value the core cannot be. */
int emu_set_misa(emu_t *m, uint32_t misa);

/* Change privilege (writing hart.priv directly is not enough: the TLB follows). */
void emu_set_priv(emu_t *m, uint32_t priv);

/* Breakpoints: a set of addresses, checked only while it is non-empty. */
int emu_break_add(emu_t *m, uint32_t addr);
int emu_break_remove(emu_t *m, uint32_t addr);
void emu_break_clear(emu_t *m);

/* MMIO ranges the host emulates; any other address outside RAM and the C devices
 * is an access fault. After an MMIO exit, the host answers with the loaded value
 * (ignored for a store) and the access completes when emu_run() re-executes it;
 * or it answers with a fault and the access raises an access-fault exception. */
int emu_mmio_add(emu_t *m, uint32_t base, uint32_t size);
void emu_mmio_reply(emu_t *m, uint32_t value);
void emu_mmio_fault(emu_t *m);

/* HTIF: the physical address of tohost (0 for none), and the host's answer to a
 * device command: fromhost is written and tohost cleared. */
void emu_htif_set(emu_t *m, uint32_t tohost, uint32_t fromhost);
void emu_htif_ack(emu_t *m, uint64_t fromhost);

/* UART: bytes the guest wrote (drained by each call), input to offer it
 * (appended to what it has not read yet; -1 when memory runs out), and input
 * read on the guest's behalf (the SBI console reads the same queue). */
uint32_t emu_uart_take(emu_t *m, uint8_t *buf, uint32_t cap);
int emu_uart_input(emu_t *m, const uint8_t *buf, uint32_t len);
uint32_t emu_uart_read(emu_t *m, uint8_t *buf, uint32_t cap);

/* Interrupt lines. The C devices' lines go to the host's interrupt controller:
 * bit n of emu_device_lines is the line of source n (EMU_UART_IRQ), and a run
 * ends with EMU_EXIT_IRQ, after the instruction, when one of them changes (so a
 * program that never enables a device interrupt never exits for one). The
 * controller's outputs come back through emu_set_external: the MEIP and SEIP
 * bits of mip (other bits are ignored). Software reads mip.SEIP as its own bit
 * OR the line (privileged spec 1.12 section 3.1.9). */
uint32_t emu_device_lines(emu_t *m);
void emu_set_external(emu_t *m, uint32_t mip);

/* CLINT time, for the host firmware and tools. */
uint64_t emu_mtime(emu_t *m);
uint64_t emu_mtimecmp(emu_t *m);
void emu_set_mtimecmp(emu_t *m, uint64_t value);
/* The CLINT answers M-mode only when protected (S- and U-mode accesses fault),
 * as OpenSBI's PMP setup makes it for the kernels it boots. */
void emu_protect_clint(emu_t *m, int on);

/* Debugging. Catching: a trap whose cause is in a mask (bit n: exception n, or
 * interrupt n) ends the run right after it is taken, wherever it goes, with
 * EMU_EXIT_CAUGHT: pc is the handler's first instruction, not yet executed. A
 * trap the host takes (host-owned M-mode) is an EMU_EXIT_TRAP as always. */
void emu_catch_set(emu_t *m, uint32_t exceptions, uint32_t interrupts);
uint64_t emu_trap_count(emu_t *m);
uint32_t emu_trap_log(emu_t *m, struct emu_trap_record *out, uint32_t max);

/* Watchpoints on physical address ranges: a load (EMU_WATCH_READ) or store
 * (EMU_WATCH_WRITE, AMOs and SC included) that touches one, RAM or device, ends
 * the run with EMU_EXIT_WATCH once the instruction has completed: pc is the next
 * instruction, exit.epc the accessing one, exit.addr/size/is_write/data the access
 * (physical), exit.tval its virtual address. Pages holding watchpoints stay out of
 * the TLB, so the check costs nothing elsewhere. add returns -1 when full. */
int emu_watch_add(emu_t *m, uint32_t addr, uint32_t len, uint32_t kinds);
int emu_watch_remove(emu_t *m, uint32_t addr, uint32_t len, uint32_t kinds);
void emu_watch_clear(emu_t *m);

/* Checkpoints, for reverse execution. A state is everything but RAM and the
 * host's settings (misa, breakpoints, watchpoints, catches, MMIO ranges):
 * registers, CSRs, clock, devices, unread UART input. RAM the host copies itself,
 * helped by a map with one byte per page, set when the page may have been written
 * since emu_dirty_clear (tracking on: emu_dirty_map is non-NULL). */
uint32_t emu_state_size(emu_t *m);
uint32_t emu_state_save(emu_t *m, uint8_t *buf, uint32_t cap);
int emu_state_load(emu_t *m, const uint8_t *buf, uint32_t len);
int emu_dirty_track(emu_t *m, int on);
uint8_t *emu_dirty_map(emu_t *m);
void emu_dirty_clear(emu_t *m);
