/* crc32.c: bitwise CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of a
 * 4 KiB buffer, n times over: shifts and a short inner loop with a data-dependent
 * branch per bit, the textbook form. (The branch-free form, crc >> 1 ^ (poly &
 * -(crc & 1)), is a 7-instruction loop that unicorn's JIT runs at about 2,800 MIPS
 * here; see bench/NOTES.md.) */
#include <stdint.h>

#define SIZE 4096

static uint8_t buf[SIZE];

uint32_t bench_main(uint32_t n)
{
    uint32_t seed = 12345;
    for (uint32_t i = 0; i < SIZE; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t round = 0; round < n; round++)
        for (uint32_t i = 0; i < SIZE; i++) {
            crc ^= buf[i];
            for (int k = 0; k < 8; k++)
                if (crc & 1)
                    crc = (crc >> 1) ^ 0xEDB88320u;
                else
                    crc >>= 1;
        }
    return ~crc;
}
