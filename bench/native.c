/* native.c: the same workload built for the host (gcc -O2), for the distance to
 * native: `native N` prints the checksum of bench_main(N) as start.S does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

uint32_t bench_main(uint32_t n);

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1;
    printf("%08x\n", (unsigned)bench_main(n));
    return 0;
}
