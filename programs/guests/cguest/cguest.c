/* cguest.c: an S-mode guest kernel written in C.
 *
 * What it shows: the C path. A kernel in C needs very little assembly
 * (lib/start.S: a stack, clearing .bss, the trap entry); the rest is ordinary
 * C, compiled freestanding: no C library, so no printf, no malloc, and even
 * memset and memcpy are our own (lib/runtime.c, shared with the disk guest,
 * as are the SBI calls from C with inline assembly and the printing through
 * DBCN console_write).
 *   - some computing: the primes below 10000 with the sieve of
 *     Eratosthenes, and word counts in a small open-addressing hash table;
 *   - the timer, once: set_timer, sie.STIE, WFI; the interrupt goes through
 *     lib/start.S's trap entry to c_trap() here;
 *   - CSR access from C: csrr/csrs/csrc in inline assembly (runtime.h).
 * main's return value is the reason start.S gives SRST: 0 on success. */

#include "../lib/runtime.h"     /* SBI, CSRs, console output, memset, memcpy */

/* ---- primes ---- */

#define LIMIT 10000
static unsigned char composite[LIMIT];      /* .bss: zero, start.S saw to it */

static void primes(void)
{
    uint32_t count = 0, sum = 0, last[5] = {0};
    for (uint32_t i = 2; i < LIMIT; i++) {
        if (composite[i])
            continue;
        count++;
        sum += i;
        last[count % 5] = i;
        for (uint32_t j = i * i; j < LIMIT; j += i)
            composite[j] = 1;
    }
    puts_("cguest: ");
    put_udec(count);
    puts_(" primes below 10000, their sum ");
    put_udec(sum);
    puts_(", the last five:");
    for (uint32_t k = 1; k <= 5; k++) {
        puts_(" ");
        put_udec(last[(count + k) % 5]);
    }
    puts_("\n");
}

/* ---- a hash table: word counts ---- */

#define SLOTS 32                            /* a power of two, > the words */

struct slot {
    const char *word;                       /* NULL: empty */
    uint32_t len;
    uint32_t count;
};
static struct slot table[SLOTS];
static const char *order[SLOTS];            /* first appearances, in order */
static uint32_t distinct;

static uint32_t fnv1a(const char *s, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int same(const char *a, const char *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Linear probing: from the hash's slot, the first that holds this word or
 * is empty. */
static void count_word(const char *w, uint32_t n)
{
    uint32_t i = fnv1a(w, n) & (SLOTS - 1);
    while (table[i].word && !(table[i].len == n && same(table[i].word, w, n)))
        i = (i + 1) & (SLOTS - 1);
    if (!table[i].word) {
        table[i].word = w;
        table[i].len = n;
        order[distinct++] = w;
    }
    table[i].count++;
}

static struct slot *lookup(const char *w, uint32_t n)
{
    uint32_t i = fnv1a(w, n) & (SLOTS - 1);
    while (table[i].word) {
        if (table[i].len == n && same(table[i].word, w, n))
            return &table[i];
        i = (i + 1) & (SLOTS - 1);
    }
    return NULL;
}

static uint32_t word_length(const char *w)
{
    uint32_t n = 0;
    while (w[n] && w[n] != ' ')
        n++;
    return n;
}

static void words(void)
{
    static const char text[] =
        "the guest asks the firmware and the firmware asks the host "
        "and the host runs the guest";
    const char *p = text;
    while (*p) {
        uint32_t n = word_length(p);
        count_word(p, n);
        p += n;
        while (*p == ' ')
            p++;
    }
    puts_("cguest: ");
    put_udec(distinct);
    puts_(" distinct words:");
    for (uint32_t k = 0; k < distinct; k++) {
        uint32_t n = word_length(order[k]);
        puts_(" ");
        put_bytes(order[k], n);
        puts_("=");
        put_udec(lookup(order[k], n)->count);
    }
    puts_("\n");
}

/* ---- the timer, once ---- */

static volatile uint32_t timer_cause;       /* written by c_trap */
static volatile uint64_t timer_time;

#define TIMER_DELAY 5000u

/* Called by lib/start.S's trap entry with the trap's CSRs. */
void c_trap(uint32_t scause, uint32_t sepc, uint32_t stval)
{
    if (scause != SCAUSE_S_TIMER) {
        puts_("cguest: unexpected trap: scause ");
        put_hex(scause);
        puts_(", sepc ");
        put_hex(sepc);
        puts_(", stval ");
        put_hex(stval);
        puts_("\n");
        shutdown(SRST_SYSTEM_FAILURE);
    }
    timer_time = read_time();
    timer_cause = scause;
    set_timer(~0ull);                       /* no more; clears the pending one */
}

static int timer_once(void)
{
    uint64_t deadline = read_time() + TIMER_DELAY;
    set_timer(deadline);
    csr_set(sie, SIE_STIE);
    /* Test with SIE off, sleep, then open a window for the handler: WFI
     * wakes for an interrupt pending and enabled in sie even with SIE off,
     * so none can slip in between the test and the WFI. */
    while (!timer_cause) {
        asm volatile("wfi");
        csr_set(sstatus, SSTATUS_SIE);
        csr_clear(sstatus, SSTATUS_SIE);
    }
    csr_clear(sie, SIE_STIE);
    int on_time = timer_time >= deadline;
    puts_("cguest: timer interrupt, scause ");
    put_hex(timer_cause);
    puts_(on_time ? ", not before its deadline\n" : ", EARLY\n");
    return on_time;
}

int main(unsigned long hartid)
{
    puts_("cguest: a kernel in C, on hart ");
    put_udec(hartid);
    puts_("\n");
    primes();
    words();
    if (!timer_once())
        return 1;
    puts_("cguest: done\n");
    return 0;
}
