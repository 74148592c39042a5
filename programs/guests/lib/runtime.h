/* runtime.h: what the C guests share (runtime.c, and start.S for the entry).
 *
 * A C guest is compiled freestanding: no C library, so no printf, no malloc,
 * and even memset and memcpy are runtime.c's (gcc may call them for loops and
 * copies). What a guest brings itself: main(hartid), whose return value is
 * the reason start.S gives SRST, and c_trap(), which start.S's trap entry
 * calls with the trap's CSRs. Included as "../lib/runtime.h". */

#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdint.h>
#include <stddef.h>

/* ---- SBI (spec chapter 3: a7 extension, a6 function, a0-a5 arguments) ---- */

#define SBI_EXT_TIME 0x54494D45u
#define SBI_EXT_SRST 0x53525354u
#define SBI_EXT_DBCN 0x4442434Eu
#define SBI_LEGACY_PUTCHAR 0x01u
#define SRST_SYSTEM_FAILURE 1

struct sbiret {
    long error;
    long value;
};

struct sbiret sbi_call(unsigned long eid, unsigned long fid,
                       unsigned long arg0, unsigned long arg1, unsigned long arg2);
void set_timer(uint64_t deadline);
void __attribute__((noreturn)) shutdown(uint32_t reason);

/* ---- CSRs ---- */

#define SCAUSE_LOAD_ACCESS_FAULT 5u
#define SCAUSE_S_TIMER 0x80000005u
#define SCAUSE_S_EXTERNAL 0x80000009u
#define SIE_STIE (1u << 5)
#define SIE_SEIE (1u << 9)
#define SSTATUS_SIE (1u << 1)

#define csr_read(csr) ({ unsigned long v_; asm volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, v) asm volatile("csrw " #csr ", %0" : : "r"(v) : "memory")
#define csr_set(csr, bits) asm volatile("csrs " #csr ", %0" : : "r"(bits) : "memory")
#define csr_clear(csr, bits) asm volatile("csrc " #csr ", %0" : : "r"(bits) : "memory")

uint64_t read_time(void);

/* ---- console output, through the SBI ---- */

size_t length(const char *s);
void put_bytes(const char *s, size_t n);
void puts_(const char *s);
void put_udec(uint32_t v);
/* v in decimal, written backwards to end at `end` (which needs UDEC_DIGITS
 * bytes before it); returns where the digits start. */
#define UDEC_DIGITS 10
char *format_udec(char *end, uint32_t v);
void put_hex(uint32_t v);

/* ---- what the compiler may call ---- */

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

#endif
