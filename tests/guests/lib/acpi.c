/*
 * Just enough ACPI to count CPUs: RSDP (from hvm_start_info, else the EBDA /
 * 0xE0000-0xFFFFF search) -> XSDT or RSDT -> MADT ("APIC"), counting enabled
 * Local APIC (type 0) and Local x2APIC (type 9) entries.
 */
#include "guest.h"

struct sdt_header {
    char sig[4];
    uint32_t length;
    uint8_t rev, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

static uint8_t sum(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t s = 0;
    while (n--)
        s += *b++;
    return s;
}

static uint64_t find_rsdp(void)
{
    if (boot_info.rsdp_paddr && boot_info.rsdp_paddr < 0x100000000ull)
        return boot_info.rsdp_paddr;
    uint64_t ebda = (uint64_t)(*(volatile uint16_t *)phys_ptr(0x40E)) << 4;
    uint64_t ranges[2][2] = { { ebda, 1024 }, { 0xE0000, 0x20000 } };
    for (int r = 0; r < 2; r++) {
        if (r == 0 && (ebda < 0x80000 || ebda >= 0xA0000))
            continue;
        for (uint64_t a = ranges[r][0]; a + 20 <= ranges[r][0] + ranges[r][1]; a += 16)
            if (!memcmp(phys_ptr(a), "RSD PTR ", 8) && sum(phys_ptr(a), 20) == 0)
                return a;
    }
    return 0;
}

static const struct sdt_header *table(uint64_t paddr)
{
    if (!paddr || paddr >= 0x100000000ull)
        return NULL;
    const struct sdt_header *h = phys_ptr(paddr);
    if (h->length < sizeof(*h) || h->length > 0x100000 || sum(h, h->length) != 0)
        return NULL;
    return h;
}

/* The first table with this signature that the XSDT (or RSDT) lists, checksummed; 0 when none. */
uint64_t acpi_find_table(const char *sig)
{
    uint64_t rsdp = find_rsdp();
    if (!rsdp)
        return 0;
    const uint8_t *r = phys_ptr(rsdp);
    if (memcmp(r, "RSD PTR ", 8) || sum(r, 20) != 0)
        return 0;
    uint32_t rsdt = *(const uint32_t *)(r + 16);
    uint64_t xsdt = r[15] >= 2 ? *(const uint64_t *)(r + 24) : 0;
    const struct sdt_header *root = table(xsdt);
    int width = 8;
    if (!root || memcmp(root->sig, "XSDT", 4)) {
        root = table(rsdt);
        width = 4;
        if (!root || memcmp(root->sig, "RSDT", 4))
            return 0;
    }
    const uint8_t *ptrs = (const uint8_t *)(root + 1);
    size_t n = (root->length - sizeof(*root)) / width;
    for (size_t i = 0; i < n; i++) {
        uint64_t p = width == 8 ? *(const uint64_t *)(ptrs + 8 * i) : *(const uint32_t *)(ptrs + 4 * i);
        const struct sdt_header *t = table(p);
        if (t && !memcmp(t->sig, sig, 4))
            return p;
    }
    return 0;
}

int acpi_madt_cpus(uint64_t *madt_addr)
{
    uint64_t rsdp = find_rsdp();
    if (!rsdp)
        return -1;
    const uint8_t *r = phys_ptr(rsdp);
    if (memcmp(r, "RSD PTR ", 8) || sum(r, 20) != 0)
        return -1;
    uint8_t rev = r[15];
    uint32_t rsdt = *(const uint32_t *)(r + 16);
    uint64_t xsdt = rev >= 2 ? *(const uint64_t *)(r + 24) : 0;
    const struct sdt_header *root = table(xsdt);
    int width = 8;
    if (!root || memcmp(root->sig, "XSDT", 4)) {
        root = table(rsdt);
        width = 4;
        if (!root || memcmp(root->sig, "RSDT", 4))
            return -1;
    }
    const uint8_t *ptrs = (const uint8_t *)(root + 1);
    size_t n = (root->length - sizeof(*root)) / width;
    for (size_t i = 0; i < n; i++) {
        uint64_t p = width == 8 ? *(const uint64_t *)(ptrs + 8 * i) : *(const uint32_t *)(ptrs + 4 * i);
        const struct sdt_header *t = table(p);
        if (!t || memcmp(t->sig, "APIC", 4))
            continue;
        if (madt_addr)
            *madt_addr = p;
        int cpus = 0;
        const uint8_t *e = (const uint8_t *)t + 44, *end = (const uint8_t *)t + t->length;
        while (e + 2 <= end && e[1] >= 2 && e + e[1] <= end) {
            if (e[0] == 0 && e[1] >= 8 && (*(const uint32_t *)(e + 4) & 1))
                cpus++;
            else if (e[0] == 9 && e[1] >= 16 && (*(const uint32_t *)(e + 8) & 1))
                cpus++;
            e += e[1];
        }
        return cpus;
    }
    return -1;
}
