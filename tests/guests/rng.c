/*
 * rng: reads entropy from the first virtio-rng into reads= buffers and checks
 * that none is all zeros or one repeated byte and that no two are the same.
 * Prints the first 256 bytes of each buffer as "rng: buf N HEX" so the host
 * can check the content too.
 *   bytes=N   bytes per read (default 64, at most 4096)
 *   reads=N   buffers to fill (default 2, at most 4)
 *   irq=msix (default) | intx | poll
 */
#include "virtio.h"

const char guest_name[] = "rng";

#define MAX_READS 4
#define DUMP_BYTES 256

static struct pci_dev devs[PCI_MAX_FUNCS];
static struct virtio_dev rng;
static struct virtq vq;
static uint8_t buf[MAX_READS][4096] __attribute__((aligned(4096)));

static uint32_t fetch(uint8_t *b, uint32_t want)
{
    struct vbuf in = { (uint64_t)(uintptr_t)b, want, 1 };
    if (virtq_add(&vq, &in, 1) < 0)
        test_fail("queue full");
    virtq_kick(&vq);
    uint32_t len = 0;
    if (virtq_wait(&rng, &vq, &len, 5000) < 0)
        test_fail("no entropy within 5 s (status 0x%x)", virtio_status(&rng));
    return len;
}

/* Fails unless the buffer has at least two different bytes (which also rules out all zeros). */
static void check_varied(int r, uint32_t want)
{
    int zeros = 1, constant = 1;
    for (uint32_t i = 0; i < want; i++) {
        zeros &= buf[r][i] == 0;
        constant &= buf[r][i] == buf[r][0];
    }
    if (zeros || constant)
        test_fail("read %d: the entropy is %s", r, zeros ? "all zeros" : "one repeated byte");
}

int main(void)
{
    uint32_t want = (uint32_t)cmdline_u64("bytes", 64);
    if (want == 0 || want > sizeof(buf[0]))
        want = 64;
    int reads = (int)cmdline_u64("reads", 2);
    if (reads < 2 || reads > MAX_READS)
        test_fail("reads=%d must be 2 to %d", reads, MAX_READS);
    int n = pci_scan(devs, PCI_MAX_FUNCS);
    struct pci_dev *d = virtio_find(devs, n, VIRTIO_ID_RNG, 0);
    if (!d)
        test_fail("no virtio-rng on bus 0");
    enum virtio_irq irq = virtio_irq_from_cmdline();
    if (virtio_init(&rng, d, 0, irq) < 0 || virtio_queue_setup(&rng, &vq, 0, 16) < 0)
        test_fail("virtio-rng setup failed");
    virtio_driver_ok(&rng);
    printf("rng: virtio-rng at 00:%02x.0, irq %s\n", d->dev, irq == VIRTIO_IRQ_MSIX ? "msix" : irq == VIRTIO_IRQ_INTX ? "intx" : "poll");

    for (int r = 0; r < reads; r++) {
        uint32_t got = fetch(buf[r], want);
        if (got != want)
            test_fail("read %d: asked for %u bytes, got %u", r, want, got);
    }
    for (int r = 0; r < reads; r++) {
        check_varied(r, want);
        for (int q = 0; q < r; q++)
            if (!memcmp(buf[q], buf[r], want))
                test_fail("reads %d and %d returned the same bytes", q, r);
    }
    for (int r = 0; r < reads; r++) {
        printf("rng: buf %d ", r);
        for (uint32_t i = 0; i < want && i < DUMP_BYTES; i++)
            printf("%02x", buf[r][i]);
        printf("\n");
    }
    printf("rng: %u bytes %d times, each varied, all distinct\n", want, reads);
    if (irq != VIRTIO_IRQ_POLL)
        printf("rng: %lu interrupts\n", (uint64_t)rng.irqs);
    return 0;
}
