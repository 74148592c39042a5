/* support.c: what the freestanding workloads need besides start.S: the few
 * library calls gcc may emit, and the Sv32 page table of the U-mode variant. */
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

/* Identity-map the first 4 MiB of RAM with 4 KiB pages (one second-level
 * table), readable, writable, executable and user, A and D already set so the
 * walk never writes. Returns the satp value (Sv32 mode, root PPN). */
#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_A 0x40
#define PTE_D 0x80
#define RAM_BASE 0x80000000u

static uint32_t root[1024] __attribute__((aligned(4096)));
static uint32_t level0[1024] __attribute__((aligned(4096)));

uint32_t sv32_setup(void)
{
    for (uint32_t i = 0; i < 1024; i++)
        level0[i] = ((RAM_BASE >> 12) + i) << 10 |
                    PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D;
    root[RAM_BASE >> 22] = ((uint32_t)level0 >> 12) << 10 | PTE_V;
    return 0x80000000u | (uint32_t)root >> 12;
}
