/*
 * blk: a virtio-blk driver. Every written sector holds 64 words
 * (seed << 48) | (sector << 8) | word, so the host can check the image file.
 *
 *   mode=pattern (default)  writes=W requests of count=C sectors from sector=S,
 *                           one flush, then reads every sector back and compares
 *   mode=deep               the same writes with up to qd= requests in flight
 *                           (8), each in its own buffer, one flush, then the
 *                           reads the same way; counts completions that came
 *                           back before an older request's
 *   mode=durable            the same writes one at a time, each followed by a
 *                           flush; prints "acked N" (N from 0) once write N and
 *                           its flush completed
 *   mode=ro                 the disk must be read-only: a write must end in IOERR
 *                           and the sector must read back unchanged
 *   mode=bad                a read whose data descriptor points outside RAM: the
 *                           device must go to NEEDS_RESET; then reset, set up
 *                           again and read sector 0 successfully
 *   mode=bench              bench=seqread|seqwrite|randread|randwrite, bs= bytes
 *                           (4096), qd= requests in flight (1, at most 32),
 *                           mib= MiB to move (64) or ops=N; prints one line
 *                           "bench NAME bs=.. qd=.. ops=.. us=.. iops=.. kBps=.."
 *   mode=resize             waits (up to wait= seconds, 120) for the configuration
 *                           change interrupt of a growing disk, prints the new
 *                           capacity, then writes and reads back the last
 *                           sectors of the new space
 *   disk=N (0), sector=S (0), count=C (8), writes=W (1), seed=X (0x5a),
 *   irq=msix (default) | intx | poll
 */
#include "virtio.h"

const char guest_name[] = "blk";

#define SECTOR 512
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define F_SEG_MAX (1ull << 2)
#define F_RO (1ull << 5)
#define F_BLK_SIZE (1ull << 6)
#define F_FLUSH (1ull << 9)
#define MAX_QD 32
#define BUF_BYTES (4u << 20)

struct req_hdr { uint32_t type, reserved; uint64_t sector; };

static struct pci_dev devs[PCI_MAX_FUNCS];
static struct virtio_dev blk;
static struct virtq vq;
static struct req_hdr hdrs[MAX_QD];
static volatile uint8_t status[MAX_QD];
static uint8_t data[BUF_BYTES] __attribute__((aligned(4096), section(".noinit")));
static uint64_t capacity, seed;
static int disk_index;
static enum virtio_irq irq;

static uint64_t pattern(uint64_t sector, int word) { return (seed << 48) | (sector << 8) | (uint64_t)word; }

/* Queues request "slot" (header, optional data, status) without kicking. */
static void submit(int slot, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
    hdrs[slot].type = type;
    hdrs[slot].reserved = 0;
    hdrs[slot].sector = sector;
    status[slot] = 0xFF;
    struct vbuf b[3];
    int n = 0;
    b[n++] = (struct vbuf){ (uint64_t)(uintptr_t)&hdrs[slot], sizeof(hdrs[slot]), 0 };
    if (len)
        b[n++] = (struct vbuf){ (uint64_t)(uintptr_t)buf, len, type != T_OUT };
    b[n++] = (struct vbuf){ (uint64_t)(uintptr_t)&status[slot], 1, 1 };
    if (virtq_add(&vq, b, n) < 0)
        test_fail("queue full");
}

/* Waits for one completion; returns the slot whose status it carries. */
static int complete(void)
{
    uint32_t len;
    int head = virtq_wait(&blk, &vq, &len, 10000);
    if (head < 0)
        test_fail("no completion within 10 s (device status 0x%x)", virtio_status(&blk));
    uint64_t hdr = vq.desc[head].addr;
    int slot = (int)((hdr - (uint64_t)(uintptr_t)hdrs) / sizeof(hdrs[0]));
    if (slot < 0 || slot >= MAX_QD)
        test_fail("completion for an unknown request (head %d)", head);
    return slot;
}

static uint8_t request(uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
    submit(0, type, sector, buf, len);
    virtq_kick(&vq);
    return status[complete()];
}

static void setup(void)
{
    if (virtio_init(&blk, blk.pci, F_RO | F_BLK_SIZE | F_FLUSH | F_SEG_MAX, irq) < 0 ||
        virtio_queue_setup(&blk, &vq, 0, 128) < 0)
        test_fail("virtio-blk setup failed");
    virtio_driver_ok(&blk);
}

static void fill(uint8_t *buf, uint64_t sector, uint32_t sectors)
{
    uint64_t *w = (uint64_t *)buf;
    for (uint32_t s = 0; s < sectors; s++)
        for (int i = 0; i < SECTOR / 8; i++)
            *w++ = pattern(sector + s, i);
}

/* Fills a read's buffer with bytes no written sector holds, so a read that transfers nothing (or too little) cannot
 * pass on what the buffer held before. */
static void poison(uint8_t *buf, uint32_t bytes)
{
    memset(buf, 0xEE, bytes);
}

static void check(const uint8_t *buf, uint64_t sector, uint32_t sectors)
{
    const uint64_t *w = (const uint64_t *)buf;
    for (uint32_t s = 0; s < sectors; s++)
        for (int i = 0; i < SECTOR / 8; i++, w++)
            if (*w != pattern(sector + s, i))
                test_fail("sector %lu word %d reads 0x%lx, wrote 0x%lx", sector + s, i, *w, pattern(sector + s, i));
}

static void writes(uint64_t first, uint32_t count, uint64_t n, int durable)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t sector = first + i * count;
        fill(data, sector, count);
        uint8_t st = request(T_OUT, sector, data, count * SECTOR);
        if (st != S_OK)
            test_fail("write of %u sectors at %lu: status %u", count, sector, st);
        if (durable) {
            if ((st = request(T_FLUSH, 0, NULL, 0)) != S_OK)
                test_fail("flush after write %lu: status %u", i, st);
            printf("acked %lu\n", i);
        }
    }
}

static void bench(void)
{
    char name[16] = "seqread";
    cmdline_get("bench", name, sizeof(name));
    int write = !strcmp(name, "seqwrite") || !strcmp(name, "randwrite");
    int rnd = !strcmp(name, "randread") || !strcmp(name, "randwrite");
    uint32_t bs = (uint32_t)cmdline_u64("bs", 4096);
    uint32_t qd = (uint32_t)cmdline_u64("qd", 1);
    if (bs < SECTOR || bs % SECTOR || bs > BUF_BYTES)
        test_fail("bs=%u must be a multiple of 512 up to %u", bs, BUF_BYTES);
    if (qd < 1 || qd > MAX_QD || (uint64_t)qd * bs > BUF_BYTES || qd * 3 > vq.size)
        test_fail("qd=%u too deep for bs=%u", qd, bs);
    uint64_t span = capacity * SECTOR / bs; /* blocks of bs on the disk */
    if (span == 0)
        test_fail("the disk is smaller than bs");
    uint64_t ops = cmdline_u64("ops", cmdline_u64("mib", 64) * (1u << 20) / bs);
    uint64_t next = 0, done = 0, issued = 0, lcg = seed | 1;
    int free_slots[MAX_QD], nfree = 0; /* devices may complete out of order: reuse the slot that completed */
    for (int i = (int)qd - 1; i >= 0; i--)
        free_slots[nfree++] = i;

    tsc_calibrate();
    uint64_t t0 = rdtsc();
    while (done < ops) {
        while (issued < ops && issued - done < qd) {
            uint64_t block;
            if (rnd) {
                lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
                block = (lcg >> 17) % span;
            } else {
                block = next++ % span;
            }
            int slot = free_slots[--nfree];
            submit(slot, write ? T_OUT : T_IN, block * (bs / SECTOR), data + (uint64_t)slot * bs, bs);
            issued++;
        }
        virtq_kick(&vq);
        int slot = complete();
        if (status[slot] != S_OK)
            test_fail("%s request failed: status %u", name, status[slot]);
        free_slots[nfree++] = slot;
        done++;
    }
    if (write && request(T_FLUSH, 0, NULL, 0) != S_OK)
        test_fail("final flush failed");
    uint64_t us = tsc_us(rdtsc() - t0);
    if (!us)
        us = 1;
    printf("bench %s bs=%u qd=%u ops=%lu us=%lu iops=%lu kBps=%lu\n", name, bs, qd, ops, us, ops * 1000000 / us,
           ops * bs / 1024 * 1000000 / us);
}

static void deep(uint64_t first, uint32_t count, uint64_t n)
{
    uint32_t qd = (uint32_t)cmdline_u64("qd", 8);
    uint32_t bytes = count * SECTOR;
    if (qd < 1 || qd > MAX_QD || (uint64_t)qd * bytes > BUF_BYTES || qd * 3 > vq.size)
        test_fail("qd=%u too deep for count=%u", qd, count);
    uint64_t sector_of[MAX_QD], seq_of[MAX_QD], out_of_order = 0;
    uint8_t outstanding[MAX_QD];
    for (int pass = 0; pass < 2; pass++) {
        int write = pass == 0;
        int free_slots[MAX_QD], nfree = 0;
        for (int i = (int)qd - 1; i >= 0; i--) {
            free_slots[nfree++] = i;
            outstanding[i] = 0;
        }
        uint64_t issued = 0, done = 0;
        while (done < n) {
            while (issued < n && issued - done < qd) {
                int slot = free_slots[--nfree];
                uint64_t sector = first + issued * count;
                uint8_t *buf = data + (uint64_t)slot * bytes;
                if (write)
                    fill(buf, sector, count);
                else
                    poison(buf, bytes);
                sector_of[slot] = sector;
                seq_of[slot] = issued++;
                outstanding[slot] = 1;
                submit(slot, write ? T_OUT : T_IN, sector, buf, bytes);
            }
            virtq_kick(&vq);
            int slot = complete();
            if (!outstanding[slot])
                test_fail("a completion for request slot %d, which is not in flight", slot);
            uint64_t oldest = ~0ull;
            for (uint32_t i = 0; i < qd; i++)
                if (outstanding[i] && seq_of[i] < oldest)
                    oldest = seq_of[i];
            if (seq_of[slot] != oldest)
                out_of_order++;
            outstanding[slot] = 0;
            if (status[slot] != S_OK)
                test_fail("%s at %lu: status %u", write ? "write" : "read", sector_of[slot], status[slot]);
            if (!write)
                check(data + (uint64_t)slot * bytes, sector_of[slot], count);
            free_slots[nfree++] = slot;
            done++;
        }
        uint8_t st;
        if (write && (st = request(T_FLUSH, 0, NULL, 0)) != S_OK)
            test_fail("flush: status %u", st);
    }
    printf("blk: wrote %lu x %u sectors from %lu with %u in flight, flushed, read back equal (%lu completions out of order)\n",
           n, count, first, qd, out_of_order);
}

static void bad(void)
{
    /* A data descriptor far above RAM (and not in any window). */
    hdrs[0] = (struct req_hdr){ T_IN, 0, 0 };
    status[0] = 0xFF;
    struct vbuf b[3] = {
        { (uint64_t)(uintptr_t)&hdrs[0], sizeof(hdrs[0]), 0 },
        { 0x7F0000000000ull, SECTOR, 1 },
        { (uint64_t)(uintptr_t)&status[0], 1, 1 },
    };
    virtq_add(&vq, b, 3);
    virtq_kick(&vq);
    struct deadline d;
    pit_clock_start();
    deadline_set(&d, 5000);
    while (!(virtio_status(&blk) & VIRTIO_STATUS_NEEDS_RESET)) {
        if (deadline_passed(&d))
            test_fail("the device did not set NEEDS_RESET within 5 s (status 0x%x, used %u)", virtio_status(&blk),
                      *(volatile uint16_t *)&vq.used.idx);
    }
    printf("blk: device status 0x%x: NEEDS_RESET after a descriptor outside RAM\n", virtio_status(&blk));
    if (irq != VIRTIO_IRQ_POLL)
        printf("blk: %lu interrupts (the configuration change)\n", (uint64_t)blk.irqs);
    setup();
    uint8_t st = request(T_IN, 0, data, SECTOR);
    if (st != S_OK)
        test_fail("read after the reset: status %u", st);
    printf("blk: reset and set up again; sector 0 reads fine\n");
}

/* The host grows the disk (block_resize): the configuration interrupt brings the new capacity. */
static void resize(void)
{
    if (irq == VIRTIO_IRQ_POLL)
        test_fail("mode=resize needs interrupts (irq=msix or irq=intx)");
    uint8_t generation = virtio_config_generation(&blk);
    printf("blk: waiting for a configuration change (capacity %lu sectors, generation %u)\n", capacity, generation);
    if (virtio_wait_config_change(&blk, cmdline_u64("wait", 120) * 1000) < 0)
        test_fail("no configuration change interrupt within %lu s", cmdline_u64("wait", 120));
    uint64_t grown;
    uint8_t after;
    do { /* read the 64-bit capacity consistently, as the spec's generation loop does */
        after = virtio_config_generation(&blk);
        grown = virtio_cfg64(&blk, 0);
    } while (after != virtio_config_generation(&blk));
    printf("blk: configuration change: capacity %lu sectors (was %lu), generation %u (was %u)\n", grown, capacity, after,
           generation);
    if (grown <= capacity)
        test_fail("the capacity did not grow");
    if (after == generation)
        test_fail("the configuration generation did not change");
    uint64_t last = grown - 8;
    fill(data, last, 8);
    uint8_t st = request(T_OUT, last, data, 8 * SECTOR);
    if (st != S_OK)
        test_fail("write to the new last sectors %lu+8: status %u", last, st);
    poison(data, 8 * SECTOR);
    if ((st = request(T_IN, last, data, 8 * SECTOR)) != S_OK)
        test_fail("read of the new last sectors: status %u", st);
    check(data, last, 8);
    if (request(T_IN, grown, data, SECTOR) != S_IOERR)
        test_fail("a read past the new end did not fail");
    printf("blk: wrote and read back sectors %lu+8 of the grown disk\n", last);
}

int main(void)
{
    disk_index = (int)cmdline_u64("disk", 0);
    seed = cmdline_u64("seed", 0x5a) & 0xFFFF;
    irq = virtio_irq_from_cmdline();
    uint64_t first = cmdline_u64("sector", 0);
    uint32_t count = (uint32_t)cmdline_u64("count", 8);
    uint64_t n = cmdline_u64("writes", 1);
    if (count == 0 || (uint64_t)count * SECTOR > BUF_BYTES)
        test_fail("count=%u must be 1 to %u sectors", count, BUF_BYTES / SECTOR);

    int found = pci_scan(devs, PCI_MAX_FUNCS);
    blk.pci = virtio_find(devs, found, VIRTIO_ID_BLOCK, disk_index);
    if (!blk.pci)
        test_fail("no virtio-blk #%d on bus 0", disk_index);
    setup();
    capacity = virtio_cfg64(&blk, 0);
    printf("blk: disk %d at 00:%02x.0: %lu sectors, features 0x%lx, irq %s\n", disk_index, blk.pci->dev, capacity,
           blk.features, irq == VIRTIO_IRQ_MSIX ? "msix" : irq == VIRTIO_IRQ_INTX ? "intx" : "poll");
    if (blk.features & F_BLK_SIZE)
        printf("blk: block size %u\n", virtio_cfg32(&blk, 20));

    char id[21];
    memset(id, 0, sizeof(id));
    uint8_t st = request(T_GET_ID, 0, id, 20);
    if (st == S_OK)
        printf("blk: serial '%s'\n", id);

    if (cmdline_is("mode", "bench")) {
        bench();
        return 0;
    }
    if (cmdline_is("mode", "resize")) {
        resize();
        return 0;
    }
    if (cmdline_is("mode", "bad")) {
        bad();
        return 0;
    }
    if (cmdline_is("mode", "ro")) {
        if (!(blk.features & F_RO))
            test_fail("the disk does not say it is read-only");
        if ((st = request(T_IN, first, data, SECTOR)) != S_OK)
            test_fail("read: status %u", st);
        uint64_t before = *(uint64_t *)data;
        fill(data, first, 1);
        st = request(T_OUT, first, data, SECTOR);
        printf("blk: write to the read-only disk: status %u (%s)\n", st, st == S_IOERR ? "IOERR" : "not IOERR");
        if (st != S_IOERR)
            test_fail("a write to a read-only disk returned %u, not IOERR", st);
        poison(data, SECTOR);
        if (request(T_IN, first, data, SECTOR) != S_OK || *(uint64_t *)data != before)
            test_fail("the read-only sector changed");
        return 0;
    }
    if ((first + n * count) > capacity)
        test_fail("sectors %lu+%lu are past the end (%lu)", first, n * count, capacity);

    if (cmdline_is("mode", "deep")) {
        deep(first, count, n);
        return 0;
    }
    int durable = cmdline_is("mode", "durable");
    writes(first, count, n, durable);
    if (!durable && (st = request(T_FLUSH, 0, NULL, 0)) != S_OK)
        test_fail("flush: status %u", st);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t sector = first + i * count;
        poison(data, count * SECTOR);
        if ((st = request(T_IN, sector, data, count * SECTOR)) != S_OK)
            test_fail("read at %lu: status %u", sector, st);
        check(data, sector, count);
    }
    printf("blk: wrote %lu x %u sectors from %lu, flushed, read back equal\n", n, count, first);
    if (irq != VIRTIO_IRQ_POLL)
        printf("blk: %lu interrupts\n", (uint64_t)blk.irqs);
    return 0;
}
