/* virtio 1.x over PCI, modern transport: see virtio.h. */
#include "virtio.h"

/* virtio_pci_common_cfg */
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE 0x04
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0C
#define CC_CONFIG_MSIX_VECTOR 0x10
#define CC_NUM_QUEUES 0x12
#define CC_DEVICE_STATUS 0x14
#define CC_CONFIG_GENERATION 0x15
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_MSIX_VECTOR 0x1A
#define CC_QUEUE_ENABLE 0x1C
#define CC_QUEUE_NOTIFY_OFF 0x1E
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

#define NO_VECTOR 0xFFFF
#define MAX_INTX_DEVS 8

static int next_vector = VEC_VIRTIO_BASE;
static int irq_ready;
static struct virtio_dev *intx_devs[MAX_INTX_DEVS], *msix_devs[MAX_INTX_DEVS];
static int n_intx, n_msix;
static volatile int watchdog_fired;

struct pci_dev *virtio_find(struct pci_dev *devs, int n, int type, int index)
{
    for (int i = 0; i < n; i++)
        if (devs[i].vendor == VIRTIO_VENDOR && devs[i].device == 0x1040 + type && index-- == 0)
            return &devs[i];
    return NULL;
}

enum virtio_irq virtio_irq_from_cmdline(void)
{
    if (cmdline_is("irq", "poll"))
        return VIRTIO_IRQ_POLL;
    if (cmdline_is("irq", "intx"))
        return VIRTIO_IRQ_INTX;
    return VIRTIO_IRQ_MSIX;
}

static void wr64(uint64_t addr, uint64_t v)
{
    mmio_write32(addr, (uint32_t)v);
    mmio_write32(addr + 4, (uint32_t)(v >> 32));
}

uint8_t virtio_status(struct virtio_dev *v) { return mmio_read8(v->common + CC_DEVICE_STATUS); }
static void set_status(struct virtio_dev *v, uint8_t bits) { mmio_write8(v->common + CC_DEVICE_STATUS, virtio_status(v) | bits); }
uint8_t virtio_cfg8(struct virtio_dev *v, int off) { return mmio_read8(v->devcfg + off); }
uint32_t virtio_cfg32(struct virtio_dev *v, int off) { return mmio_read32(v->devcfg + off); }
uint64_t virtio_cfg64(struct virtio_dev *v, int off)
{
    return mmio_read32(v->devcfg + off) | ((uint64_t)mmio_read32(v->devcfg + off + 4) << 32);
}
void virtio_cfg_write8(struct virtio_dev *v, int off, uint8_t value) { mmio_write8(v->devcfg + off, value); }
uint8_t virtio_config_generation(struct virtio_dev *v) { return mmio_read8(v->common + CC_CONFIG_GENERATION); }

void virtio_reset(struct virtio_dev *v)
{
    mmio_write8(v->common + CC_DEVICE_STATUS, 0);
    for (int i = 0; i < 100000 && virtio_status(v) != 0; i++)
        cpu_pause();
}

static void msix_isr(struct intr_frame *f)
{
    for (int i = n_msix - 1; i >= 0; i--)
        if ((int)f->vector >= msix_devs[i]->vector_base) {
            msix_devs[i]->irqs++;
            if ((int)f->vector == msix_devs[i]->vector_base)
                msix_devs[i]->config_irqs++;
            break;
        }
    lapic_eoi();
}

static void intx_isr(struct intr_frame *f)
{
    (void)f;
    /* Reading ISR status acknowledges the interrupt and lowers INTx; do it
     * before the EOI so the level-triggered pin is not delivered again. */
    for (int i = 0; i < n_intx; i++) {
        if (intx_devs[i]->intx_pin + VEC_IOAPIC_BASE != (int)f->vector)
            continue;
        uint8_t isr = mmio_read8(intx_devs[i]->isr);
        if (isr)
            intx_devs[i]->irqs++;
        if (isr & 2)
            intx_devs[i]->config_irqs++;
    }
    lapic_eoi();
}

static void watchdog_isr(struct intr_frame *f)
{
    (void)f;
    watchdog_fired = 1;
    lapic_eoi();
}

static void irq_init_once(void)
{
    if (irq_ready)
        return;
    irq_ready = 1;
    pic_init();
    lapic_enable();
    intr_set_handler(VEC_LAPIC_TIMER, watchdog_isr);
}

/* MSI-X: one vector for configuration changes, one per queue, all to this CPU. */
static int setup_msix(struct virtio_dev *v)
{
    int cap = pci_find_cap(v->pci, PCI_CAP_MSIX, 0);
    if (!cap) {
        printf("virtio: %02x: no MSI-X capability\n", v->pci->dev);
        return -1;
    }
    uint16_t ctrl = pci_read16(v->pci, cap + 2);
    int count = (ctrl & 0x7FF) + 1;
    uint32_t table = pci_read32(v->pci, cap + 4);
    uint64_t base = v->pci->bar[table & 7] + (table & ~7u);
    if (!v->pci->bar[table & 7] || next_vector + count > 0xC0 || n_msix == MAX_INTX_DEVS) {
        printf("virtio: %02x: MSI-X table BAR unusable or out of vectors\n", v->pci->dev);
        return -1;
    }
    v->msix_cap = cap;
    v->vector_base = next_vector;
    msix_devs[n_msix++] = v; /* in vector order: the ISR finds the last base at or below a vector */
    next_vector += count;
    uint32_t apic = lapic_id();
    for (int i = 0; i < count; i++) {
        uint64_t e = base + 16ull * i;
        mmio_write32(e + 0, 0xFEE00000u | (apic << 12));
        mmio_write32(e + 4, 0);
        mmio_write32(e + 8, (uint32_t)(v->vector_base + i));
        mmio_write32(e + 12, 0); /* unmasked */
        intr_set_handler(v->vector_base + i, msix_isr);
    }
    pci_write16(v->pci, cap + 2, (uint16_t)((ctrl | 0x8000) & ~0x4000)); /* enable, function unmasked */
    return 0;
}

/* INTx: the MP table names the IOAPIC pin; level triggered, active low. */
static int setup_intx(struct virtio_dev *v)
{
    if (!v->pci->int_pin || n_intx == MAX_INTX_DEVS)
        return -1;
    mp_scan();
    if (mp_info.found && mp_info.ioapic_addr)
        ioapic_base = mp_info.ioapic_addr;
    int pin = mp_pci_irq_pin(v->pci->dev, v->pci->int_pin);
    if (pin < 0) {
        printf("virtio: %02x: the MP table has no entry for INT%c\n", v->pci->dev, 'A' + v->pci->int_pin - 1);
        return -1;
    }
    if (n_intx == 0 && !ioapic_init()) {
        printf("virtio: no IOAPIC\n");
        return -1;
    }
    v->intx_pin = pin;
    intx_devs[n_intx++] = v;
    intr_set_handler(VEC_IOAPIC_BASE + pin, intx_isr);
    ioapic_route(pin, (uint8_t)(VEC_IOAPIC_BASE + pin), (uint8_t)lapic_id(), 1, 1);
    pci_write16(v->pci, PCI_COMMAND, pci_read16(v->pci, PCI_COMMAND) & ~PCI_CMD_INTX_DISABLE);
    return 0;
}

int virtio_init(struct virtio_dev *v, struct pci_dev *pci, uint64_t wanted, enum virtio_irq irq)
{
    memset(v, 0, sizeof(*v));
    v->pci = pci;
    v->irq = irq;
    v->intx_pin = -1;
    pci_enable(pci);
    for (int cap = pci_find_cap(pci, PCI_CAP_VENDOR, 0); cap; cap = pci_find_cap(pci, PCI_CAP_VENDOR, cap)) {
        uint8_t type = pci_read8(pci, cap + 3), bar = pci_read8(pci, cap + 4);
        if (bar > 5 || !pci->bar[bar])
            continue;
        uint64_t addr = pci->bar[bar] + pci_read32(pci, cap + 8);
        if (type == CAP_COMMON && !v->common)
            v->common = addr;
        else if (type == CAP_ISR && !v->isr)
            v->isr = addr;
        else if (type == CAP_DEVICE && !v->devcfg)
            v->devcfg = addr;
        else if (type == CAP_NOTIFY && !v->notify_base) {
            v->notify_base = addr;
            v->notify_mult = pci_read32(pci, cap + 16);
        }
    }
    if (!v->common || !v->notify_base || !v->isr) {
        printf("virtio: %02x: missing common/notify/ISR capability (not a modern device?)\n", pci->dev);
        return -1;
    }
    if (v->common >= 0x100000000ull) {
        printf("virtio: %02x: BAR above 4 GiB is not mapped by this guest\n", pci->dev);
        return -1;
    }

    virtio_reset(v);
    set_status(v, VIRTIO_STATUS_ACK);
    set_status(v, VIRTIO_STATUS_DRIVER);
    mmio_write32(v->common + CC_DEVICE_FEATURE_SELECT, 0);
    uint64_t offered = mmio_read32(v->common + CC_DEVICE_FEATURE);
    mmio_write32(v->common + CC_DEVICE_FEATURE_SELECT, 1);
    offered |= (uint64_t)mmio_read32(v->common + CC_DEVICE_FEATURE) << 32;
    v->device_features = offered;
    if (!(offered & VIRTIO_F_VERSION_1)) {
        printf("virtio: %02x: VERSION_1 not offered\n", pci->dev);
        return -1;
    }
    v->features = offered & (wanted | VIRTIO_F_VERSION_1);
    mmio_write32(v->common + CC_DRIVER_FEATURE_SELECT, 0);
    mmio_write32(v->common + CC_DRIVER_FEATURE, (uint32_t)v->features);
    mmio_write32(v->common + CC_DRIVER_FEATURE_SELECT, 1);
    mmio_write32(v->common + CC_DRIVER_FEATURE, (uint32_t)(v->features >> 32));
    set_status(v, VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_status(v) & VIRTIO_STATUS_FEATURES_OK)) {
        printf("virtio: %02x: device refused features 0x%lx\n", pci->dev, v->features);
        set_status(v, VIRTIO_STATUS_FAILED);
        return -1;
    }

    if (irq != VIRTIO_IRQ_POLL)
        irq_init_once();
    if (irq == VIRTIO_IRQ_MSIX && setup_msix(v) < 0)
        return -1;
    if (irq == VIRTIO_IRQ_INTX && setup_intx(v) < 0)
        return -1;
    if (irq == VIRTIO_IRQ_MSIX) {
        mmio_write16(v->common + CC_CONFIG_MSIX_VECTOR, 0);
        if (mmio_read16(v->common + CC_CONFIG_MSIX_VECTOR) != 0) {
            printf("virtio: %02x: configuration vector refused\n", pci->dev);
            return -1;
        }
    }
    return 0;
}

int virtio_queue_setup(struct virtio_dev *v, struct virtq *q, int index, uint16_t size)
{
    mmio_write16(v->common + CC_QUEUE_SELECT, (uint16_t)index);
    uint16_t max = mmio_read16(v->common + CC_QUEUE_SIZE);
    if (!max) {
        printf("virtio: %02x: queue %d does not exist\n", v->pci->dev, index);
        return -1;
    }
    if (size > max)
        size = max;
    if (size > VQ_MAX)
        size = VQ_MAX;
    memset(q, 0, sizeof(*q));
    q->size = size;
    q->index = (uint16_t)index;
    for (uint16_t i = 0; i < size; i++)
        q->desc[i].next = (uint16_t)(i + 1);
    q->num_free = size;
    q->avail.flags = v->irq == VIRTIO_IRQ_POLL ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0;
    mmio_write16(v->common + CC_QUEUE_SIZE, size);
    wr64(v->common + CC_QUEUE_DESC, (uint64_t)(uintptr_t)q->desc);
    wr64(v->common + CC_QUEUE_DRIVER, (uint64_t)(uintptr_t)&q->avail);
    wr64(v->common + CC_QUEUE_DEVICE, (uint64_t)(uintptr_t)&q->used);
    if (v->irq == VIRTIO_IRQ_MSIX) {
        mmio_write16(v->common + CC_QUEUE_MSIX_VECTOR, (uint16_t)(1 + index));
        if (mmio_read16(v->common + CC_QUEUE_MSIX_VECTOR) == NO_VECTOR) {
            printf("virtio: %02x: queue %d vector refused\n", v->pci->dev, index);
            return -1;
        }
    }
    q->notify = v->notify_base + (uint64_t)mmio_read16(v->common + CC_QUEUE_NOTIFY_OFF) * v->notify_mult;
    mmio_write16(v->common + CC_QUEUE_ENABLE, 1);
    return 0;
}

void virtio_driver_ok(struct virtio_dev *v) { set_status(v, VIRTIO_STATUS_DRIVER_OK); }

int virtq_add(struct virtq *q, const struct vbuf *b, int n)
{
    if (n < 1 || n > q->num_free)
        return -1;
    uint16_t head = q->free_head, idx = head, last = head;
    for (int i = 0; i < n; i++) {
        struct virtq_desc *d = &q->desc[idx];
        d->addr = b[i].addr;
        d->len = b[i].len;
        d->flags = (uint16_t)((b[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        last = idx;
        idx = d->next;
    }
    q->free_head = q->desc[last].next;
    q->num_free = (uint16_t)(q->num_free - n);
    q->avail.ring[q->avail.idx % q->size] = head;
    barrier(); /* the ring entry before the index (x86 keeps stores in order) */
    *(volatile uint16_t *)&q->avail.idx = (uint16_t)(q->avail.idx + 1);
    return head;
}

void virtq_kick(struct virtq *q)
{
    barrier();
    mmio_write16(q->notify, q->index);
}

int virtq_get(struct virtq *q, uint32_t *len)
{
    if (q->last_used == *(volatile uint16_t *)&q->used.idx)
        return -1;
    barrier();
    struct virtq_used_elem e = q->used.ring[q->last_used % q->size];
    q->last_used++;
    if (e.id >= q->size)
        return -1;
    uint16_t last = (uint16_t)e.id;
    int n = 1;
    while ((q->desc[last].flags & VIRTQ_DESC_F_NEXT) && n < q->size) {
        last = q->desc[last].next;
        n++;
    }
    q->desc[last].next = q->free_head;
    q->free_head = (uint16_t)e.id;
    q->num_free = (uint16_t)(q->num_free + n);
    if (len)
        *len = e.len;
    return (int)e.id;
}

int virtq_wait(struct virtio_dev *v, struct virtq *q, uint32_t *len, uint64_t timeout_ms)
{
    int head;
    if (v->irq == VIRTIO_IRQ_POLL) {
        struct deadline d;
        deadline_set(&d, timeout_ms);
        for (uint32_t spin = 0;; spin++) {
            if ((head = virtq_get(q, len)) >= 0)
                return head;
            if ((spin & 1023) == 1023) {
                if (virtio_status(v) & VIRTIO_STATUS_NEEDS_RESET)
                    return -1;
                if (deadline_passed(&d))
                    return -1;
            }
            cpu_pause();
        }
    }
    /* Interrupts: check, then sleep until the next interrupt, with a LAPIC
     * one-shot (1 GHz APIC bus / 16) as the watchdog. */
    watchdog_fired = 0;
    lapic_timer_oneshot(VEC_LAPIC_TIMER, (uint32_t)(timeout_ms < 60000 ? timeout_ms * 62500 : 0xFFFFFFFFu));
    for (;;) {
        cli();
        if ((head = virtq_get(q, len)) >= 0)
            break;
        if (watchdog_fired || (virtio_status(v) & VIRTIO_STATUS_NEEDS_RESET)) {
            head = -1;
            break;
        }
        sti_hlt();
    }
    sti();
    lapic_timer_stop();
    return head;
}

int virtio_wait_config_change(struct virtio_dev *v, uint64_t timeout_ms)
{
    uint64_t before = v->config_irqs;
    int result = 0;
    watchdog_fired = 0;
    lapic_timer_oneshot(VEC_LAPIC_TIMER, (uint32_t)(timeout_ms < 60000 ? timeout_ms * 62500 : 0xFFFFFFFFu));
    for (;;) {
        cli();
        if (v->config_irqs != before)
            break;
        if (watchdog_fired) {
            result = -1;
            break;
        }
        sti_hlt();
    }
    sti();
    lapic_timer_stop();
    return result;
}
