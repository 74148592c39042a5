/* sieve.c: the sieve of Eratosthenes over 1 MiB of byte flags, n times: byte
 * stores at strides, then a scan. The checksum mixes each round's prime count. */
#include <stdint.h>

#define SIZE (1u << 20)

static uint8_t composite[SIZE];

uint32_t bench_main(uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t round = 0; round < n; round++) {
        for (uint32_t i = 0; i < SIZE; i++)
            composite[i] = 0;
        for (uint32_t i = 2; i * i < SIZE; i++)
            if (!composite[i])
                for (uint32_t j = i * i; j < SIZE; j += i)
                    composite[j] = 1;
        uint32_t count = 0;
        for (uint32_t i = 2; i < SIZE; i++)
            count += !composite[i];
        sum = sum * 31 + count + round;
    }
    return sum;
}
