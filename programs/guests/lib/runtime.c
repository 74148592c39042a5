/* runtime.c: the C guests' shared runtime (declared in runtime.h): SBI calls,
 * the time CSR, console output, and the memset and memcpy a freestanding
 * program must bring itself. */

#include "runtime.h"

/* ---- SBI ---- */

/* a7, a6 and a0-a2 bound to registers with GCC's register variables, one
 * ECALL, a0/a1 back as a struct. */
struct sbiret sbi_call(unsigned long eid, unsigned long fid,
                       unsigned long arg0, unsigned long arg1, unsigned long arg2)
{
    register unsigned long a0 asm("a0") = arg0;
    register unsigned long a1 asm("a1") = arg1;
    register unsigned long a2 asm("a2") = arg2;
    register unsigned long a6 asm("a6") = fid;
    register unsigned long a7 asm("a7") = eid;
    /* "memory": the firmware reads our buffers (DBCN), so every store
     * before the call must really have happened. */
    asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
    return (struct sbiret){(long)a0, (long)a1};
}

void set_timer(uint64_t deadline)
{
    sbi_call(SBI_EXT_TIME, 0, (uint32_t)deadline, (uint32_t)(deadline >> 32), 0);
}

void shutdown(uint32_t reason)
{
    for (;;)
        sbi_call(SBI_EXT_SRST, 0, 0, reason, 0);
}

uint64_t read_time(void)
{
    uint32_t hi, lo;
    do {                                    /* the halves must belong together */
        hi = csr_read(timeh);
        lo = csr_read(time);
    } while (hi != csr_read(timeh));
    return (uint64_t)hi << 32 | lo;
}

/* ---- what the compiler may call ---- */

void *memset(void *dst, int c, size_t n)
{
    volatile unsigned char *p = dst;        /* volatile: or gcc turns this */
    while (n--)                             /* loop into a call to memset */
        *p++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    volatile unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

/* ---- output ---- */

size_t length(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* DBCN console_write: a pointer to our own memory is a physical address here
 * (satp = 0), which is what the SBI wants. It may write fewer bytes than
 * asked: loop. A firmware older than SBI 2.0 (OpenSBI before 1.3) has no
 * DBCN: then the legacy console_putchar, one byte per call. */
void put_bytes(const char *s, size_t n)
{
    while (n > 0) {
        struct sbiret r = sbi_call(SBI_EXT_DBCN, 0, n, (uintptr_t)s, 0);
        if (r.error)
            break;
        s += r.value;
        n -= r.value;
    }
    for (; n > 0; n--)
        sbi_call(SBI_LEGACY_PUTCHAR, 0, (unsigned char)*s++, 0, 0);
}

void puts_(const char *s)
{
    put_bytes(s, length(s));
}

char *format_udec(char *end, uint32_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

void put_udec(uint32_t v)
{
    char buf[UDEC_DIGITS];
    char *first = format_udec(buf + sizeof buf, v);
    put_bytes(first, buf + sizeof buf - first);
}

void put_hex(uint32_t v)
{
    char buf[10] = {'0', 'x'};
    for (int i = 0; i < 8; i++)
        buf[9 - i] = "0123456789abcdef"[(v >> (4 * i)) & 0xf];
    put_bytes(buf, sizeof buf);
}
