/*
 * pci: walks bus 0 through configuration mechanism #1 and lists every function
 * with its class, BARs (address and size, sized as an OS does), interrupt pin
 * and capabilities, and the MP table's route for its INTx pin.
 * Passes when a host bridge (class 06 00) answers at 00:00.0 and every memory
 * BAR is a power of two, aligned to its size and below 4 GiB, and no two
 * decode the same addresses.
 */
#include "pci.h"

const char guest_name[] = "pci";

static struct pci_dev devs[PCI_MAX_FUNCS];

int main(void)
{
    mp_scan();
    int n = pci_scan(devs, PCI_MAX_FUNCS);
    printf("pci: %d functions on bus 0\n", n);
    int bridge = 0, bad = 0, bars = 0;
    for (int i = 0; i < n; i++) {
        struct pci_dev *d = &devs[i];
        uint32_t class = d->class_rev >> 8;
        printf("pci: %02x:%02x.%x %04x:%04x class %06x", d->bus, d->dev, d->fn, d->vendor, d->device, class);
        if (d->int_pin) {
            int pin = mp_pci_irq_pin(d->dev, d->int_pin);
            printf(" INT%c", 'A' + d->int_pin - 1);
            if (pin >= 0)
                printf(" -> IOAPIC pin %d", pin);
        }
        printf("\n");
        if (d->dev == 0 && d->fn == 0 && (class >> 8) == 0x0600)
            bridge = 1;
        for (int b = 0; b < 6; b++) {
            if (!d->bar_size[b] || d->bar_io[b])
                continue;
            uint64_t a = d->bar[b], s = d->bar_size[b];
            printf("pci:   BAR%d 0x%lx size 0x%lx %s\n", b, a, s, d->bar_64[b] ? "64-bit" : "32-bit");
            bars++;
            if ((s & (s - 1)) || (a & (s - 1)) || a == 0 || a + s > 0x100000000ull) {
                printf("pci:   BAR%d is misplaced\n", b);
                bad++;
            }
            for (int j = 0; j < i; j++)
                for (int c = 0; c < 6; c++)
                    if (devs[j].bar_size[c] && !devs[j].bar_io[c] && a < devs[j].bar[c] + devs[j].bar_size[c] &&
                        devs[j].bar[c] < a + s) {
                        printf("pci:   BAR%d overlaps %02x BAR%d\n", b, devs[j].dev, c);
                        bad++;
                    }
        }
        for (int cap = pci_find_cap(d, PCI_CAP_MSIX, 0); cap; cap = 0) {
            uint16_t ctrl = pci_read16(d, cap + 2);
            printf("pci:   MSI-X at 0x%x: %d vectors, table BAR%u+0x%x\n", cap, (ctrl & 0x7FF) + 1,
                   pci_read32(d, cap + 4) & 7, pci_read32(d, cap + 4) & ~7u);
        }
    }
    if (!bridge)
        test_fail("no host bridge at 00:00.0");
    if (bad)
        test_fail("%d bad BARs", bad);
    printf("pci: %d memory BARs checked\n", bars);
    return 0;
}
