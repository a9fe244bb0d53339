/*
 * Intel MultiProcessor Specification 1.4 tables. The floating pointer "_MP_"
 * is searched, 16-byte aligned, in the first KiB of the EBDA, the last KiB of
 * base memory (639-640 KiB) and 0xF0000-0xFFFFF.
 */
#include "guest.h"

struct mp_fps {
    char sig[4];
    uint32_t table;
    uint8_t length, rev, checksum, feature1;
    uint8_t feature2, rsvd[3];
} __attribute__((packed));

struct mp_header {
    char sig[4];
    uint16_t length;
    uint8_t rev, checksum;
    char oem[8], product[12];
    uint32_t oem_table;
    uint16_t oem_size, count;
    uint32_t lapic;
    uint16_t ext_length;
    uint8_t ext_checksum, rsvd;
} __attribute__((packed));

struct mp_info mp_info;

static uint8_t sum(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t s = 0;
    while (n--)
        s += *b++;
    return s;
}

static const struct mp_fps *scan(uint64_t start, uint64_t len)
{
    for (uint64_t a = start & ~15ull; a + 16 <= start + len; a += 16) {
        const struct mp_fps *f = (const struct mp_fps *)(uintptr_t)a;
        if (!memcmp(f->sig, "_MP_", 4) && f->length == 1 && sum(f, 16) == 0)
            return f;
    }
    return NULL;
}

int mp_scan(void)
{
    memset(&mp_info, 0, sizeof(mp_info));
    mp_info.isa_bus = -1;
    mp_info.pci_bus = -1;
    for (int i = 0; i < 16; i++)
        mp_info.isa_irq_pin[i] = -1;

    uint64_t ebda = (uint64_t)(*(volatile uint16_t *)phys_ptr(0x40E)) << 4;
    uint64_t basemem = (uint64_t)(*(volatile uint16_t *)phys_ptr(0x413)) * 1024;
    const struct mp_fps *f = NULL;
    if (ebda >= 0x80000 && ebda < 0xA0000)
        f = scan(ebda, 1024);
    if (!f && basemem >= 0x80000 && basemem <= 0xA0000)
        f = scan(basemem - 1024, 1024);
    if (!f)
        f = scan(639 * 1024, 1024);
    if (!f)
        f = scan(0xF0000, 0x10000);
    if (!f || !f->table)
        return 0;
    mp_info.fps_addr = (uint64_t)(uintptr_t)f;
    const struct mp_header *h = (const struct mp_header *)(uintptr_t)f->table;
    if (memcmp(h->sig, "PCMP", 4) || sum(h, h->length) != 0)
        return 0;
    mp_info.found = 1;
    mp_info.table_addr = f->table;
    mp_info.lapic_addr = h->lapic;

    const uint8_t *e = (const uint8_t *)(h + 1);
    const uint8_t *end = (const uint8_t *)h + h->length;
    /* Two passes: buses first, so interrupt entries can name the ISA bus. */
    for (int pass = 0; pass < 2; pass++) {
        const uint8_t *p = e;
        for (int i = 0; i < h->count && p < end; i++) {
            switch (p[0]) {
            case 0: /* processor: id, version, flags (bit 0 enabled, bit 1 BSP) */
                if (pass == 0 && (p[3] & 1) && mp_info.ncpus < MP_MAX_CPUS) {
                    if (p[3] & 2)
                        mp_info.bsp_index = mp_info.ncpus;
                    mp_info.apic_ids[mp_info.ncpus++] = p[1];
                }
                p += 20;
                break;
            case 1: /* bus: id, 6-char type */
                if (pass == 0 && !memcmp(p + 2, "ISA", 3))
                    mp_info.isa_bus = p[1];
                if (pass == 0 && !memcmp(p + 2, "PCI", 3) && mp_info.pci_bus < 0)
                    mp_info.pci_bus = p[1];
                p += 8;
                break;
            case 2: /* I/O APIC: id, version, flags, address */
                if (pass == 0 && (p[3] & 1)) {
                    if (mp_info.nioapics++ == 0) {
                        mp_info.ioapic_id = p[1];
                        mp_info.ioapic_addr = *(const uint32_t *)(p + 4);
                    }
                }
                p += 8;
                break;
            case 3: /* I/O interrupt: type, flags(2), src bus, src irq, dst apic, dst pin */
                if (pass == 1 && p[1] == 0 /* INT */ && mp_info.isa_bus >= 0 && p[4] == mp_info.isa_bus &&
                    p[5] < 16)
                    mp_info.isa_irq_pin[p[5]] = p[7];
                /* PCI source irq: device in bits 6:2, INTA-INTD as 0-3 in bits 1:0 */
                if (pass == 1 && p[1] == 0 && mp_info.pci_bus >= 0 && p[4] == mp_info.pci_bus &&
                    mp_info.npci_irqs < (int)ARRAY_SIZE(mp_info.pci_irq)) {
                    int k = mp_info.npci_irqs++;
                    mp_info.pci_irq[k].dev = (uint8_t)((p[5] >> 2) & 0x1F);
                    mp_info.pci_irq[k].pin = (uint8_t)((p[5] & 3) + 1);
                    mp_info.pci_irq[k].ioapic_pin = p[7];
                    mp_info.pci_irq[k].flags = p[2];
                }
                p += 8;
                break;
            default: /* 4 = local interrupt; unknown types are 8 bytes too */
                p += 8;
                break;
            }
        }
    }
    return 1;
}
