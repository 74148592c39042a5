/* disk.c: an S-mode guest kernel with a virtio block driver.
 *
 * What it shows: how a kernel finds a device, brings it up and moves data
 * with it, using the interrupt controller to learn when a request is done.
 * Section numbers are those of the Virtual I/O Device (VIRTIO) spec 1.1.
 *   - finding the device: virtio-mmio slots sit at 0x10001000 + 0x1000*n;
 *     a block device's slot reads MagicValue "virt" and DeviceID 2 (4.2.2);
 *   - bringing it up (3.1.1): reset, ACKNOWLEDGE, DRIVER, the features we
 *     take, FEATURES_OK, one virtqueue, DRIVER_OK; on both register sets,
 *     the modern one (Version 2, 4.2.2) and the legacy one (Version 1, 4.2.4),
 *     which differ in how they are told where the virtqueue is;
 *   - one split virtqueue (2.6), laid out as the legacy transport demands
 *     (2.6.2), which the modern one accepts too; a request is a chain of three
 *     descriptors: header, data, status byte (5.2.6);
 *   - completion by interrupt: the device raises its PLIC source (1 + slot),
 *     enabled for S-mode; the trap handler claims it, acknowledges the device
 *     (InterruptStatus -> InterruptACK) and completes it; the kernel sleeps in
 *     WFI meanwhile, and reads the used ring only after the interrupt;
 *   - what it does with the disk: prints the text at the start of sector 0,
 *     reads a run counter from sector 1, writes it back one higher, reads the
 *     sector again and checks it. A second run shows the first one's write.
 * Every check that fails ends the run with a line "disk: FAILED: what" and
 * SRST status 1; success ends with status 0. The output depends only on the
 * disk's contents and the device (slot, transport, read-only or not). */

#include "../lib/runtime.h"     /* SBI, CSRs, console output, memset, memcpy */

/* A fence for memory the device shares with us: the device must see the
 * descriptors before the ring index that publishes them, and the index before
 * the notification; we must read the used ring only after the interrupt
 * (2.6.13.6, 2.6.14). The "memory" clobber keeps gcc from moving our plain
 * loads and stores across it, which matters as much as the fence itself. */
static inline void barrier(void)
{
    asm volatile("fence rw, rw" : : : "memory");
}

/* ---- output ---- */

/* The text at the start of a buffer, in quotes: up to the first NUL or
 * newline, at most `max` bytes, anything unprintable shown as '.'. */
static void put_text(const uint8_t *p, size_t max)
{
    puts_("\"");
    for (size_t i = 0; i < max && p[i] && p[i] != '\n'; i++) {
        char c = p[i] >= ' ' && p[i] < 0x7f ? (char)p[i] : '.';
        put_bytes(&c, 1);
    }
    puts_("\"");
}

static void __attribute__((noreturn)) fail(const char *what)
{
    puts_("disk: FAILED: ");
    puts_(what);
    puts_("\n");
    shutdown(SRST_SYSTEM_FAILURE);
}

static void __attribute__((noreturn)) fail_value(const char *what, uint32_t value)
{
    puts_("disk: FAILED: ");
    puts_(what);
    puts_(" ");
    put_hex(value);
    puts_("\n");
    shutdown(SRST_SYSTEM_FAILURE);
}

/* ---- device registers ---- */

static inline uint32_t mmio_read(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write(uintptr_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
}

/* The PLIC (as on QEMU's virt machine): a priority per source, and per
 * context (context 1 = hart 0 in S-mode) enable bits, a threshold and the
 * claim/complete register. A source interrupts a context when it is pending,
 * enabled there, and its priority is above the context's threshold. */
#define PLIC_BASE 0x0c000000u
#define PLIC_S_CONTEXT 1u
#define PLIC_PRIORITY(source) (PLIC_BASE + 4 * (source))
#define PLIC_ENABLE(context, source) (PLIC_BASE + 0x2000 + 0x80 * (context) + 4 * ((source) / 32))
#define PLIC_THRESHOLD(context) (PLIC_BASE + 0x200000 + 0x1000 * (context))
#define PLIC_CLAIM(context) (PLIC_BASE + 0x200004 + 0x1000 * (context))

/* virtio-mmio (4.2.2; the legacy-only registers from 4.2.4). */
#define VIRTIO_MMIO_BASE 0x10001000u
#define VIRTIO_MMIO_STRIDE 0x1000u
#define VIRTIO_MMIO_SLOTS 8             /* as QEMU's virt machine has */
#define VIRTIO_MAGIC 0x74726976u        /* "virt", little-endian */
#define VIRTIO_ID_BLOCK 2

enum virtio_mmio_register {
    MAGIC_VALUE = 0x000,
    VERSION = 0x004,                    /* 1: legacy, 2: modern */
    DEVICE_ID = 0x008,                  /* 0: an empty slot */
    DEVICE_FEATURES = 0x010,            /* 32 of them, chosen by ... */
    DEVICE_FEATURES_SEL = 0x014,        /* ... this: 0 = bits 0-31, 1 = 32-63 */
    DRIVER_FEATURES = 0x020,
    DRIVER_FEATURES_SEL = 0x024,
    LEGACY_GUEST_PAGE_SIZE = 0x028,     /* legacy: the unit of QueuePFN */
    QUEUE_SEL = 0x030,                  /* which queue the next ones set up */
    QUEUE_NUM_MAX = 0x034,
    QUEUE_NUM = 0x038,
    LEGACY_QUEUE_ALIGN = 0x03c,         /* legacy: where the used ring starts */
    LEGACY_QUEUE_PFN = 0x040,           /* legacy: the queue's page number */
    QUEUE_READY = 0x044,                /* modern */
    QUEUE_NOTIFY = 0x050,               /* write a queue's number: new buffers */
    INTERRUPT_STATUS = 0x060,
    INTERRUPT_ACK = 0x064,
    STATUS = 0x070,
    QUEUE_DESC_LOW = 0x080,             /* modern: the three parts' addresses */
    QUEUE_DESC_HIGH = 0x084,
    QUEUE_DRIVER_LOW = 0x090,
    QUEUE_DRIVER_HIGH = 0x094,
    QUEUE_DEVICE_LOW = 0x0a0,
    QUEUE_DEVICE_HIGH = 0x0a4,
    CONFIG_GENERATION = 0x0fc,          /* modern */
    CONFIG = 0x100,                     /* the device's own: virtio_blk_config */
};

/* Device status bits (2.1), set one by one as initialisation goes on. */
#define STATUS_ACKNOWLEDGE 1u           /* we saw the device */
#define STATUS_DRIVER 2u                /* we can drive it */
#define STATUS_DRIVER_OK 4u             /* ready: the device may work */
#define STATUS_FEATURES_OK 8u           /* modern only: features agreed */

/* InterruptStatus bits (4.2.2). */
#define INTERRUPT_USED_BUFFER 1u        /* a buffer was put in the used ring */
#define INTERRUPT_CONFIG_CHANGE 2u

/* Feature bits we know (5.2.3, 6). We take only these: no indirect
 * descriptors, no event index, nothing that changes the ring's layout. */
#define VIRTIO_BLK_F_RO (1u << 5)       /* the disk is read-only */
#define VIRTIO_F_VERSION_1 (1u << 0)    /* bit 32: in the second word */

/* ---- the virtqueue (2.6) ---- */

#define QUEUE_SIZE 8                    /* a power of two; we use 3 at a time */
#define PAGE_SIZE 4096u
#define QUEUE_ALIGN 4096u               /* the used ring's alignment (legacy) */

struct virtq_desc {                     /* one buffer */
    uint64_t addr;                      /* guest-physical: satp is 0 here */
    uint32_t len;
    uint16_t flags;
    uint16_t next;                      /* with VIRTQ_DESC_F_NEXT */
};
#define VIRTQ_DESC_F_NEXT 1             /* the chain goes on at `next` */
#define VIRTQ_DESC_F_WRITE 2            /* the device writes this buffer */

struct virtq_avail {                    /* driver -> device: chains to do */
    uint16_t flags;
    uint16_t idx;                       /* where the next entry goes; wraps */
    uint16_t ring[QUEUE_SIZE];          /* heads of chains */
    uint16_t used_event;
};

struct virtq_used_elem {
    uint32_t id;                        /* the chain's head */
    uint32_t len;                       /* bytes the device wrote */
};

struct virtq_used {                     /* device -> driver: chains done */
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[QUEUE_SIZE];
    uint16_t avail_event;
};

/* The legacy layout (2.6.2): one block of memory, page-aligned (QueuePFN is a
 * page number), descriptors first, the available ring right after, and the
 * used ring at the next multiple of QueueAlign. The modern transport takes the
 * three addresses separately, so the same block serves both. In .bss: zero at
 * the start, as the device expects a new queue to be. */
static struct virtqueue {
    struct virtq_desc desc[QUEUE_SIZE];
    struct virtq_avail avail;
    struct virtq_used used __attribute__((aligned(QUEUE_ALIGN)));
} queue __attribute__((aligned(PAGE_SIZE)));

_Static_assert(offsetof(struct virtqueue, used) == QUEUE_ALIGN,
               "the used ring is where a legacy device computes it");

/* ---- the block device (5.2) ---- */

#define SECTOR_SIZE 512
#define VIRTIO_BLK_T_IN 0               /* read */
#define VIRTIO_BLK_T_OUT 1              /* write */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define STATUS_UNWRITTEN 0xff           /* what we put there: not a status */

struct virtio_blk_req_header {          /* the device reads it */
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;                    /* in 512-byte units, whatever the disk */
};

struct disk {
    uintptr_t base;                     /* the slot's registers */
    uint32_t slot;
    uint32_t source;                    /* its PLIC interrupt source */
    uint32_t version;                   /* 1 legacy, 2 modern */
    uint32_t read_only;
    uint64_t capacity;                  /* in sectors */
};

static struct disk disk;                /* the one we drive; the handler needs it */

static uint32_t reg_read(enum virtio_mmio_register reg)
{
    return mmio_read(disk.base + reg);
}

static void reg_write(enum virtio_mmio_register reg, uint32_t value)
{
    mmio_write(disk.base + reg, value);
}

/* What the trap handler tells the rest of the kernel. */
static volatile uint32_t probing;       /* a probe load may fault */
static volatile uint32_t probe_faulted;
static volatile uint32_t used_interrupts;   /* device interrupts for a used buffer */
static volatile uint32_t timed_out;
static uint32_t requests;

/* ---- finding the device ---- */

/* A load from a slot that may not be there: on a board with fewer slots (emu
 * without a disk has none) the load raises an access fault, which c_trap
 * turns into "no device" by skipping the load. */
static int probe_load(uintptr_t addr, uint32_t *value)
{
    probe_faulted = 0;
    probing = 1;
    *value = mmio_read(addr);
    probing = 0;
    return !probe_faulted;
}

static int find_disk(void)
{
    for (uint32_t slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++) {
        uintptr_t base = VIRTIO_MMIO_BASE + VIRTIO_MMIO_STRIDE * slot;
        uint32_t magic, id;
        if (!probe_load(base + MAGIC_VALUE, &magic) || magic != VIRTIO_MAGIC)
            continue;
        if (!probe_load(base + DEVICE_ID, &id) || id != VIRTIO_ID_BLOCK)
            continue;
        disk.base = base;
        disk.slot = slot;
        disk.source = 1 + slot;
        disk.version = reg_read(VERSION);
        return 1;
    }
    return 0;
}

/* ---- bringing it up (3.1.1) ---- */

static void add_status(uint32_t bit)
{
    reg_write(STATUS, reg_read(STATUS) | bit);
}

/* Agree on features: take VIRTIO_BLK_F_RO (only to know it), and on the
 * modern transport VIRTIO_F_VERSION_1, which says "I am not a legacy
 * driver" (6.1: a driver must take it). Legacy devices have 32 bits only. */
static void negotiate_features(void)
{
    reg_write(DEVICE_FEATURES_SEL, 0);
    uint32_t offered = reg_read(DEVICE_FEATURES);
    disk.read_only = (offered & VIRTIO_BLK_F_RO) != 0;
    reg_write(DRIVER_FEATURES_SEL, 0);
    reg_write(DRIVER_FEATURES, offered & VIRTIO_BLK_F_RO);
    if (disk.version == 1)
        return;                         /* legacy: no FEATURES_OK step */
    reg_write(DEVICE_FEATURES_SEL, 1);
    if (!(reg_read(DEVICE_FEATURES) & VIRTIO_F_VERSION_1))
        fail("the modern device does not offer VIRTIO_F_VERSION_1");
    reg_write(DRIVER_FEATURES_SEL, 1);
    reg_write(DRIVER_FEATURES, VIRTIO_F_VERSION_1);
    add_status(STATUS_FEATURES_OK);
    if (!(reg_read(STATUS) & STATUS_FEATURES_OK))   /* the device's answer */
        fail("the device refused our features (FEATURES_OK not kept)");
}

/* Queue 0, the block device's only request queue (5.2.2). */
static void setup_queue(void)
{
    reg_write(QUEUE_SEL, 0);
    uint32_t in_use = disk.version == 1 ? reg_read(LEGACY_QUEUE_PFN) : reg_read(QUEUE_READY);
    if (in_use)
        fail("queue 0 is already in use");
    uint32_t max = reg_read(QUEUE_NUM_MAX);
    if (max == 0)
        fail("the device has no queue 0");
    if (max < QUEUE_SIZE)
        fail_value("queue 0 is too small: QueueNumMax", max);
    reg_write(QUEUE_NUM, QUEUE_SIZE);
    if (disk.version == 1) {
        /* Legacy: one page number; the device finds the avail ring after
         * the descriptors and the used ring at the next QueueAlign. */
        reg_write(LEGACY_QUEUE_ALIGN, QUEUE_ALIGN);
        reg_write(LEGACY_QUEUE_PFN, (uintptr_t)&queue / PAGE_SIZE);
    } else {
        /* Modern: each part's 64-bit address, then QueueReady. */
        reg_write(QUEUE_DESC_LOW, (uintptr_t)queue.desc);
        reg_write(QUEUE_DESC_HIGH, 0);
        reg_write(QUEUE_DRIVER_LOW, (uintptr_t)&queue.avail);
        reg_write(QUEUE_DRIVER_HIGH, 0);
        reg_write(QUEUE_DEVICE_LOW, (uintptr_t)&queue.used);
        reg_write(QUEUE_DEVICE_HIGH, 0);
        reg_write(QUEUE_READY, 1);
    }
}

/* The capacity in sectors: a 64-bit field read as two words. On the modern
 * transport ConfigGeneration tells whether it changed in between (2.4.1). */
static uint64_t read_capacity(void)
{
    uint32_t before, lo, hi;
    do {
        before = disk.version == 1 ? 0 : reg_read(CONFIG_GENERATION);
        lo = reg_read(CONFIG + 0);
        hi = reg_read(CONFIG + 4);
    } while (disk.version != 1 && before != reg_read(CONFIG_GENERATION));
    return (uint64_t)hi << 32 | lo;
}

static void disk_init(void)
{
    if (disk.version != 1 && disk.version != 2)
        fail_value("unknown virtio-mmio version", disk.version);
    reg_write(STATUS, 0);               /* reset */
    if (reg_read(STATUS) != 0)
        fail("the device did not reset");
    add_status(STATUS_ACKNOWLEDGE);
    add_status(STATUS_DRIVER);
    if (disk.version == 1)              /* before any queue is set up (4.2.4) */
        reg_write(LEGACY_GUEST_PAGE_SIZE, PAGE_SIZE);
    negotiate_features();
    setup_queue();
    disk.capacity = read_capacity();
    add_status(STATUS_DRIVER_OK);
}

/* ---- interrupts ---- */

/* The PLIC side: our source's priority above context 1's threshold, and
 * enabled there; then the hart side: sie.SEIE, and sie.STIE for the timeout
 * (sstatus.SIE is opened only while we sleep, see wait_for_device). */
static void interrupts_init(void)
{
    mmio_write(PLIC_PRIORITY(disk.source), 1);
    mmio_write(PLIC_THRESHOLD(PLIC_S_CONTEXT), 0);
    uintptr_t enable = PLIC_ENABLE(PLIC_S_CONTEXT, disk.source);
    mmio_write(enable, mmio_read(enable) | 1u << (disk.source % 32));
    csr_set(sie, SIE_SEIE | SIE_STIE);
}

/* Claim, acknowledge at the device, complete, in this order: the device
 * keeps its line raised while InterruptStatus is nonzero, so completing
 * before the acknowledgement would have the PLIC signal it again at once. */
static void external_interrupt(void)
{
    uint32_t source = mmio_read(PLIC_CLAIM(PLIC_S_CONTEXT));
    if (source == 0)
        return;                         /* nothing left to claim */
    if (source == disk.source) {
        uint32_t why = reg_read(INTERRUPT_STATUS);
        reg_write(INTERRUPT_ACK, why);
        if (why & INTERRUPT_USED_BUFFER)
            used_interrupts++;
    } else {
        puts_("disk: interrupt from PLIC source ");
        put_udec(source);
        puts_(", which we never enabled\n");
    }
    mmio_write(PLIC_CLAIM(PLIC_S_CONTEXT), source);     /* complete */
}

/* Called by lib/start.S's trap entry with the trap's CSRs. */
void c_trap(uint32_t scause, uint32_t sepc, uint32_t stval)
{
    if (scause == SCAUSE_S_EXTERNAL) {
        external_interrupt();
    } else if (scause == SCAUSE_S_TIMER) {
        timed_out = 1;
        set_timer(~0ull);               /* no more; clears the pending one */
    } else if (scause == SCAUSE_LOAD_ACCESS_FAULT && probing) {
        probe_faulted = 1;
        csr_write(sepc, sepc + 4);      /* skip the load (no C extension) */
    } else {
        puts_("disk: unexpected trap: scause ");
        put_hex(scause);
        puts_(", sepc ");
        put_hex(sepc);
        puts_(", stval ");
        put_hex(stval);
        puts_("\n");
        shutdown(SRST_SYSTEM_FAILURE);
    }
}

/* One second at 10 MHz, QEMU virt's timebase (on emu a tick is an
 * instruction): far more than any request takes, so only a device that
 * never interrupts gets here. */
#define TIMEOUT_TICKS 10000000
#define STRING(x) #x
#define NUMBER(x) STRING(x)         /* a macro's value, as text */

/* Sleep until the device has interrupted for a used buffer since `seen`.
 * Test with SIE off, sleep, then open a window for the handler: WFI wakes for
 * an interrupt pending and enabled in sie even with SIE off, so none can slip
 * in between the test and the WFI and leave us asleep. */
static void wait_for_device(uint32_t seen)
{
    timed_out = 0;
    set_timer(read_time() + TIMEOUT_TICKS);
    while (used_interrupts == seen && !timed_out) {
        asm volatile("wfi");
        csr_set(sstatus, SSTATUS_SIE);
        csr_clear(sstatus, SSTATUS_SIE);
    }
    set_timer(~0ull);
    if (used_interrupts == seen)
        fail("no interrupt from the device within " NUMBER(TIMEOUT_TICKS) " ticks");
}

/* ---- requests (5.2.6) ---- */

static struct virtio_blk_req_header header;
static uint8_t request_status;
static uint16_t used_seen;              /* used.idx as far as we have read it */

static const char *request_name(uint32_t type)
{
    return type == VIRTIO_BLK_T_IN ? "read" : "write";
}

/* Read or write one sector: a chain of three descriptors (header: the device
 * reads it; data: it reads it for a write, writes it for a read; status: it
 * writes one byte), offered in the available ring, then a notification; we
 * sleep until the interrupt and take the chain back from the used ring.
 * Returns the status byte. One request at a time, so always descriptors 0-2. */
static uint32_t disk_request(uint32_t type, uint32_t sector, uint8_t *data)
{
    header = (struct virtio_blk_req_header){type, 0, sector};
    request_status = STATUS_UNWRITTEN;
    uint16_t data_flags = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;
    queue.desc[0] = (struct virtq_desc){(uintptr_t)&header, sizeof header, VIRTQ_DESC_F_NEXT, 1};
    queue.desc[1] = (struct virtq_desc){(uintptr_t)data, SECTOR_SIZE,
                                        data_flags | VIRTQ_DESC_F_NEXT, 2};
    queue.desc[2] = (struct virtq_desc){(uintptr_t)&request_status, 1, VIRTQ_DESC_F_WRITE, 0};
    queue.avail.ring[queue.avail.idx % QUEUE_SIZE] = 0;    /* the chain's head */
    barrier();                          /* the chain before the index */
    queue.avail.idx++;
    barrier();                          /* the index before the notification */
    uint32_t seen = used_interrupts;
    reg_write(QUEUE_NOTIFY, 0);
    requests++;
    wait_for_device(seen);
    barrier();                          /* the device's writes after the interrupt */
    if (queue.used.idx == used_seen)
        fail("the device interrupted, but the used ring is empty");
    struct virtq_used_elem done = queue.used.ring[used_seen % QUEUE_SIZE];
    used_seen++;
    if (done.id != 0)
        fail_value("the used ring gave back a chain we never made:", done.id);
    return request_status;
}

/* A request that must succeed: any other status ends the run, saying which. */
static void disk_io(uint32_t type, uint32_t sector, uint8_t *data)
{
    uint32_t status = disk_request(type, sector, data);
    if (status == VIRTIO_BLK_S_OK)
        return;
    puts_("disk: FAILED: ");
    puts_(request_name(type));
    puts_(" of sector ");
    put_udec(sector);
    if (status == VIRTIO_BLK_S_IOERR)
        puts_(": I/O error (VIRTIO_BLK_S_IOERR)\n");
    else if (status == VIRTIO_BLK_S_UNSUPP)
        puts_(": unsupported (VIRTIO_BLK_S_UNSUPP)\n");
    else if (status == STATUS_UNWRITTEN)
        puts_(": the device never wrote the status byte\n");
    else {
        puts_(": unknown status ");
        put_udec(status);
        puts_("\n");
    }
    shutdown(SRST_SYSTEM_FAILURE);
}

/* ---- what we do with the disk ---- */

/* Sector 1 holds the text "emu disk guest: run N\n" followed by zeros,
 * written by the last run. */
static const char RUN_PREFIX[] = "emu disk guest: run ";

static uint8_t sector[SECTOR_SIZE];     /* what we read */
static uint8_t written[SECTOR_SIZE];    /* what we wrote */

static uint32_t last_run(const uint8_t *s)
{
    size_t n = length(RUN_PREFIX);
    for (size_t i = 0; i < n; i++)
        if (s[i] != (uint8_t)RUN_PREFIX[i])
            return 0;                   /* no counter: a fresh disk */
    uint32_t run = 0;
    for (size_t i = n; i < n + 9 && s[i] >= '0' && s[i] <= '9'; i++)
        run = run * 10 + (s[i] - '0');
    return run;
}

static void make_run_sector(uint8_t *s, uint32_t run)
{
    char digits[UDEC_DIGITS];
    char *first = format_udec(digits + sizeof digits, run);
    size_t n = length(RUN_PREFIX), d = digits + sizeof digits - first;
    memset(s, 0, SECTOR_SIZE);
    memcpy(s, RUN_PREFIX, n);
    memcpy(s + n, first, d);
    s[n + d] = '\n';
}

static int same_sector(const uint8_t *a, const uint8_t *b)
{
    for (size_t i = 0; i < SECTOR_SIZE; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static void describe_disk(void)
{
    puts_("disk: virtio-mmio slot ");
    put_udec(disk.slot);
    puts_(" at ");
    put_hex(disk.base);
    puts_(": block device, ");
    puts_(disk.version == 1 ? "legacy" : "modern");
    puts_(" transport (version ");
    put_udec(disk.version);
    puts_("), PLIC source ");
    put_udec(disk.source);
    puts_("\n");
}

static void describe_capacity(void)
{
    puts_("disk: ");
    put_udec((uint32_t)disk.capacity);
    puts_(" sectors of 512 bytes, ");
    puts_(disk.read_only ? "read-only (VIRTIO_BLK_F_RO)\n" : "writable\n");
}

int main(unsigned long hartid)
{
    puts_("disk: a virtio block driver, on hart ");
    put_udec(hartid);
    puts_("\n");
    if (!find_disk()) {
        puts_("disk: FAILED: no virtio block device in slots 0-7\n");
        return SRST_SYSTEM_FAILURE;
    }
    describe_disk();
    disk_init();
    describe_capacity();
    if (disk.capacity < 2 || disk.capacity >> 32)
        fail("the disk must have from 2 to 2^32-1 sectors");
    interrupts_init();

    disk_io(VIRTIO_BLK_T_IN, 0, sector);
    puts_("disk: sector 0 says ");
    put_text(sector, 64);
    puts_("\n");

    disk_io(VIRTIO_BLK_T_IN, 1, sector);
    uint32_t run = last_run(sector) + 1;
    puts_("disk: sector 1 counts ");
    put_udec(run - 1);
    puts_(" runs before this one\n");

    make_run_sector(written, run);
    if (disk.read_only)
        puts_("disk: writing sector 1 all the same: the device must refuse\n");
    disk_io(VIRTIO_BLK_T_OUT, 1, written);
    if (disk.read_only)
        fail("the read-only device accepted a write");
    puts_("disk: wrote sector 1: ");
    put_text(written, 64);
    puts_("\n");

    memset(sector, 0, sizeof sector);
    disk_io(VIRTIO_BLK_T_IN, 1, sector);
    if (!same_sector(sector, written))
        fail("sector 1 does not read back as written");
    puts_("disk: sector 1 reads back as written\n");

    puts_("disk: ");
    put_udec(requests);
    puts_(" requests, ");
    put_udec(used_interrupts);
    puts_(" interrupts, all OK\n");
    return 0;
}
