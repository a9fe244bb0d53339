/*
 * PCI configuration mechanism #1 (ports 0xCF8/0xCFC) on bus 0, BAR sizing and
 * capability lists, and the MP table's PCI interrupt entries. No firmware is
 * assumed: the platform places BARs itself; under QEMU SeaBIOS has.
 */
#ifndef PCI_H
#define PCI_H

#include "guest.h"

#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08
#define PCI_HEADER 0x0E
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3C
#define PCI_INT_PIN 0x3D

#define PCI_CMD_MEMORY 0x0002
#define PCI_CMD_MASTER 0x0004
#define PCI_CMD_INTX_DISABLE 0x0400
#define PCI_STATUS_CAPS 0x0010
#define PCI_STATUS_INTX 0x0008

#define PCI_CAP_MSIX 0x11
#define PCI_CAP_VENDOR 0x09

#define PCI_MAX_FUNCS 64

struct pci_dev {
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint32_t class_rev;           /* class << 8 | revision */
    uint8_t int_pin, int_line;
    uint64_t bar[6];              /* address (memory BARs), 0 when unused or I/O */
    uint64_t bar_size[6];
    uint8_t bar_64[6], bar_io[6];
};

uint32_t pci_read32(const struct pci_dev *d, int off);
uint16_t pci_read16(const struct pci_dev *d, int off);
uint8_t pci_read8(const struct pci_dev *d, int off);
void pci_write32(const struct pci_dev *d, int off, uint32_t v);
void pci_write16(const struct pci_dev *d, int off, uint16_t v);
void pci_write8(const struct pci_dev *d, int off, uint8_t v);

/* Walks bus 0 (functions 1-7 of multi-function devices too); sizes the BARs.
 * Returns the number of functions found (at most max). */
int pci_scan(struct pci_dev *out, int max);
/* First capability with this id at or after the pointer "from" (0: from the
 * start); returns its config-space offset, 0 when none. */
int pci_find_cap(const struct pci_dev *d, uint8_t id, int from);
/* Memory decoding and bus mastering on (virtio DMA needs mastering in QEMU). */
void pci_enable(const struct pci_dev *d);

/* The MP table's PCI interrupt entry for (device, pin 1-4): the IOAPIC pin, or
 * -1 when the table has none. Calls mp_scan() if needed. */
int mp_pci_irq_pin(int dev, int pin);

#endif
