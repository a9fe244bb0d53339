/*
 * rng: reads entropy from the first virtio-rng and checks it is not all
 * zeros, not one repeated byte, and differs between two reads.
 *   bytes=N   bytes per read (default 64, at most 4096)
 *   irq=msix (default) | intx | poll
 */
#include "virtio.h"

const char guest_name[] = "rng";

static struct pci_dev devs[PCI_MAX_FUNCS];
static struct virtio_dev rng;
static struct virtq vq;
static uint8_t buf[2][4096] __attribute__((aligned(4096)));

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

int main(void)
{
    uint32_t want = (uint32_t)cmdline_u64("bytes", 64);
    if (want == 0 || want > sizeof(buf[0]))
        want = 64;
    int n = pci_scan(devs, PCI_MAX_FUNCS);
    struct pci_dev *d = virtio_find(devs, n, VIRTIO_ID_RNG, 0);
    if (!d)
        test_fail("no virtio-rng on bus 0");
    enum virtio_irq irq = virtio_irq_from_cmdline();
    if (virtio_init(&rng, d, 0, irq) < 0 || virtio_queue_setup(&rng, &vq, 0, 16) < 0)
        test_fail("virtio-rng setup failed");
    virtio_driver_ok(&rng);
    printf("rng: virtio-rng at 00:%02x.0, irq %s\n", d->dev, irq == VIRTIO_IRQ_MSIX ? "msix" : irq == VIRTIO_IRQ_INTX ? "intx" : "poll");

    uint32_t got0 = fetch(buf[0], want), got1 = fetch(buf[1], want);
    if (got0 != want || got1 != want)
        test_fail("asked for %u bytes, got %u and %u", want, got0, got1);
    int zeros = 1, constant = 1;
    for (uint32_t i = 0; i < want; i++) {
        zeros &= buf[0][i] == 0;
        constant &= buf[0][i] == buf[0][0];
    }
    if (zeros || constant)
        test_fail("the entropy is %s", zeros ? "all zeros" : "one repeated byte");
    if (!memcmp(buf[0], buf[1], want))
        test_fail("two reads returned the same bytes");
    printf("rng: %u bytes twice: %02x %02x %02x %02x ..., distinct\n", want, buf[0][0], buf[0][1], buf[0][2], buf[0][3]);
    if (irq != VIRTIO_IRQ_POLL)
        printf("rng: %lu interrupts\n", (uint64_t)rng.irqs);
    return 0;
}
