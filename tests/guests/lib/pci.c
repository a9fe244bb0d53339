/* PCI configuration space through ports 0xCF8 (address) and 0xCFC (data). */
#include "pci.h"

#define CONFIG_ADDRESS 0xCF8
#define CONFIG_DATA 0xCFC

static void select(const struct pci_dev *d, int off)
{
    outl(CONFIG_ADDRESS, 0x80000000u | ((uint32_t)d->bus << 16) | ((uint32_t)d->dev << 11) |
                             ((uint32_t)d->fn << 8) | (uint32_t)(off & 0xFC));
}

uint32_t pci_read32(const struct pci_dev *d, int off) { select(d, off); return inl(CONFIG_DATA); }
uint16_t pci_read16(const struct pci_dev *d, int off) { select(d, off); return inw(CONFIG_DATA + (off & 2)); }
uint8_t pci_read8(const struct pci_dev *d, int off) { select(d, off); return inb(CONFIG_DATA + (off & 3)); }
void pci_write32(const struct pci_dev *d, int off, uint32_t v) { select(d, off); outl(CONFIG_DATA, v); }
void pci_write16(const struct pci_dev *d, int off, uint16_t v) { select(d, off); outw(CONFIG_DATA + (off & 2), v); }
void pci_write8(const struct pci_dev *d, int off, uint8_t v) { select(d, off); outb(CONFIG_DATA + (off & 3), v); }

/* Sizes BAR i the way an OS does: decoding off, all ones, read back, restore. */
static int size_bar(struct pci_dev *d, int i, uint16_t cmd)
{
    int off = PCI_BAR0 + 4 * i;
    uint32_t lo = pci_read32(d, off);
    if (lo & 1) { /* I/O BAR: noted, not used by our guests */
        d->bar_io[i] = 1;
        pci_write32(d, off, 0xFFFFFFFFu);
        uint32_t mask = pci_read32(d, off) & ~3u;
        pci_write32(d, off, lo);
        d->bar_size[i] = mask ? (uint16_t)(~mask + 1) : 0;
        return 1;
    }
    int is64 = ((lo >> 1) & 3) == 2;
    uint32_t hi = is64 ? pci_read32(d, off + 4) : 0;
    pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_MEMORY | 1));
    pci_write32(d, off, 0xFFFFFFFFu);
    uint64_t mask = pci_read32(d, off) & ~0xFull;
    if (is64) {
        pci_write32(d, off + 4, 0xFFFFFFFFu);
        mask |= (uint64_t)pci_read32(d, off + 4) << 32;
        pci_write32(d, off + 4, hi);
    } else if (mask) {
        mask |= 0xFFFFFFFF00000000ull; /* a 32-bit BAR's upper address bits are all fixed */
    }
    pci_write32(d, off, lo);
    pci_write16(d, PCI_COMMAND, cmd);
    d->bar_64[i] = (uint8_t)is64;
    d->bar_size[i] = mask ? ~mask + 1 : 0; /* no writable address bit: BAR not implemented */
    d->bar[i] = d->bar_size[i] ? (((uint64_t)hi << 32) | (lo & ~0xFu)) : 0;
    return is64 ? 2 : 1;
}

int pci_scan(struct pci_dev *out, int max)
{
    int n = 0;
    for (int dev = 0; dev < 32 && n < max; dev++) {
        for (int fn = 0; fn < 8 && n < max; fn++) {
            struct pci_dev *d = &out[n];
            memset(d, 0, sizeof(*d));
            d->dev = (uint8_t)dev;
            d->fn = (uint8_t)fn;
            uint32_t id = pci_read32(d, PCI_VENDOR);
            if ((id & 0xFFFF) == 0xFFFF || (id & 0xFFFF) == 0) {
                if (fn == 0)
                    break;
                continue;
            }
            d->vendor = (uint16_t)id;
            d->device = (uint16_t)(id >> 16);
            d->class_rev = pci_read32(d, PCI_CLASS_REV);
            d->int_pin = pci_read8(d, PCI_INT_PIN);
            d->int_line = pci_read8(d, PCI_INT_LINE);
            uint8_t header = pci_read8(d, PCI_HEADER);
            if ((header & 0x7F) == 0) {
                uint16_t cmd = pci_read16(d, PCI_COMMAND);
                for (int i = 0; i < 6;)
                    i += size_bar(d, i, cmd);
            }
            n++;
            if (fn == 0 && !(header & 0x80))
                break; /* single-function device */
        }
    }
    return n;
}

int pci_find_cap(const struct pci_dev *d, uint8_t id, int from)
{
    if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAPS))
        return 0;
    int ptr = from ? pci_read8(d, from + 1) : pci_read8(d, PCI_CAP_PTR);
    for (int guard = 0; ptr >= 0x40 && guard < 48; guard++) {
        ptr &= 0xFC;
        if (pci_read8(d, ptr) == id)
            return ptr;
        ptr = pci_read8(d, ptr + 1);
    }
    return 0;
}

void pci_enable(const struct pci_dev *d)
{
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_CMD_MEMORY | PCI_CMD_MASTER);
}

int mp_pci_irq_pin(int dev, int pin)
{
    if (!mp_info.found && !mp_scan())
        return -1;
    for (int i = 0; i < mp_info.npci_irqs; i++)
        if (mp_info.pci_irq[i].dev == dev && mp_info.pci_irq[i].pin == pin)
            return mp_info.pci_irq[i].ioapic_pin;
    return -1;
}
