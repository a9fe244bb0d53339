/*
 * A small virtio 1.x driver over PCI (modern transport only): capability walk,
 * feature negotiation (VERSION_1 always), split virtqueues in the guest's own
 * memory (physical = virtual), notifications, and completion by polling, by
 * MSI-X or by INTx through the MP table's IOAPIC pin.
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include "pci.h"

#define VIRTIO_VENDOR 0x1AF4
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_INPUT 18

#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_F_VERSION_1 (1ull << 32)

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VQ_MAX 256

struct virtq_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct virtq_used_elem { uint32_t id, len; };

struct virtq {
    struct virtq_desc desc[VQ_MAX];                 /* 16-byte aligned (the struct is page aligned) */
    struct { uint16_t flags, idx, ring[VQ_MAX], used_event; } avail;
    uint16_t pad_;
    struct { uint16_t flags, idx; struct virtq_used_elem ring[VQ_MAX]; uint16_t avail_event; } used;
    /* driver state */
    uint16_t size, index, free_head, num_free, last_used, vector;
    uint64_t notify;                                /* MMIO address of this queue's notify register */
} __attribute__((aligned(4096)));

enum virtio_irq { VIRTIO_IRQ_POLL, VIRTIO_IRQ_MSIX, VIRTIO_IRQ_INTX };

struct virtio_dev {
    struct pci_dev *pci;
    uint64_t common, isr, devcfg, notify_base;
    uint32_t notify_mult;
    uint64_t device_features, features;             /* offered, negotiated */
    enum virtio_irq irq;
    int msix_cap, vector_base, intx_pin;
    volatile uint64_t irqs;                         /* interrupts taken for this device */
    volatile uint64_t config_irqs;                  /* of which configuration changes (MSI-X vector 0, ISR bit 1) */
};

struct vbuf { uint64_t addr; uint32_t len; int device_writes; };

/* The index-th PCI function (0 = first) with virtio device id "type"; NULL if none. */
struct pci_dev *virtio_find(struct pci_dev *devs, int n, int type, int index);
/* "irq=msix|intx|poll" from the command line (default msix). */
enum virtio_irq virtio_irq_from_cmdline(void);
/* Reset, ACKNOWLEDGE, DRIVER, features (wanted & offered, plus VERSION_1),
 * FEATURES_OK. 0 on success; -1 with a reason printed. */
int virtio_init(struct virtio_dev *v, struct pci_dev *pci, uint64_t wanted, enum virtio_irq irq);
/* Queue "index" with up to "size" entries in q; MSI-X vector 1 + index. */
int virtio_queue_setup(struct virtio_dev *v, struct virtq *q, int index, uint16_t size);
void virtio_driver_ok(struct virtio_dev *v);
uint8_t virtio_status(struct virtio_dev *v);
void virtio_reset(struct virtio_dev *v);
/* Device configuration space accessors. */
uint8_t virtio_cfg8(struct virtio_dev *v, int off);
uint32_t virtio_cfg32(struct virtio_dev *v, int off);
uint64_t virtio_cfg64(struct virtio_dev *v, int off);
void virtio_cfg_write8(struct virtio_dev *v, int off, uint8_t value);
/* The common configuration's config_generation (it changes with the device configuration). */
uint8_t virtio_config_generation(struct virtio_dev *v);
/* Sleeps until the device raises a configuration change interrupt (MSI-X or
 * INTx) or timeout_ms pass; 0 when one came, -1 on timeout. */
int virtio_wait_config_change(struct virtio_dev *v, uint64_t timeout_ms);

/* Puts a chain of n buffers in the avail ring; returns its head, -1 if the
 * queue is full. Does not notify. */
int virtq_add(struct virtq *q, const struct vbuf *b, int n);
void virtq_kick(struct virtq *q);
/* Next used element: its head (and *len), -1 when none. Frees the chain. */
int virtq_get(struct virtq *q, uint32_t *len);
/* Waits for a used element (by the device's interrupt mode) up to timeout_ms;
 * returns its head or -1 on timeout. Also returns -1 at once if the device
 * sets NEEDS_RESET. */
int virtq_wait(struct virtio_dev *v, struct virtq *q, uint32_t *len, uint64_t timeout_ms);

#endif
