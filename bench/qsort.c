/* qsort.c: quicksort of 16384 pseudo-random words, n times, comparing through a
 * function pointer (as C's qsort does): calls, returns, loads and stores. */
#include <stdint.h>

#define COUNT 16384

typedef int (*compare_t)(const uint32_t *, const uint32_t *);

static uint32_t items[COUNT];

static int compare_words(const uint32_t *a, const uint32_t *b)
{
    return *a < *b ? -1 : *a > *b;
}

/* The pointer is read from a volatile so the compiler cannot inline the call. */
static compare_t volatile compare = compare_words;

static __attribute__((noinline)) void sort(uint32_t *a, int lo, int hi, compare_t cmp)
{
    while (lo < hi) {
        uint32_t pivot = a[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (cmp(&a[i], &pivot) < 0)
                i++;
            while (cmp(&a[j], &pivot) > 0)
                j--;
            if (i <= j) {
                uint32_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (j - lo < hi - i) {      /* recurse into the smaller part */
            sort(a, lo, j, cmp);
            lo = i;
        } else {
            sort(a, i, hi, cmp);
            hi = j;
        }
    }
}

uint32_t bench_main(uint32_t n)
{
    uint32_t seed = 1, sum = 0;
    for (uint32_t round = 0; round < n; round++) {
        for (uint32_t i = 0; i < COUNT; i++) {
            seed = seed * 1664525u + 1013904223u;
            items[i] = seed;
        }
        sort(items, 0, COUNT - 1, compare);
        for (uint32_t i = 0; i < COUNT; i += 97)
            sum = sum * 31 + items[i];
    }
    return sum;
}
