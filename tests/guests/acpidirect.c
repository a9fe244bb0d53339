/*
 * acpidirect: ACPI on a direct kernel boot, found and used as Linux does without firmware help.
 *  - scans for the RSDP in the EBDA's first KiB and 0xE0000-0xFFFFF (Linux's acpi_find_root_pointer), checks both
 *    its checksums and that hvm_start_info's rsdp_paddr, when given, names the same one;
 *  - walks the XSDT (the RSDT with a revision-0 RSDP) checking each table's checksum, and checks that every table and
 *    the RSDP lie outside the RAM of the memory map (the kernel must not reuse them);
 *  - checks the FADT's X_DSDT/DSDT and 64-byte aligned FACS, reads SLP_TYPa from the DSDT's \_S5 package, looks for
 *    the PCI root (PNP0A03) in the DSDT, counts the MADT's local APICs and finds its IOAPIC;
 *  - turns ACPI on (ACPI_ENABLE to SMI_CMD, then waits for SCI_EN), checks the PM timer advances, prints PASS and
 *    powers off through S5 (SLP_TYPa | SLP_EN to PM1a control). Still running a moment later: FAIL and a reset.
 * The line "acpi: MADT local APICs N" lets the host compare N with the vCPUs it gave.
 */
#include "guest.h"

const char guest_name[] = "acpidirect";

struct sdt {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_revision, creator, creator_revision;
} __attribute__((packed));

#define SLP_EN (1u << 13)
#define SCI_EN 1u

static uint8_t sum(uint64_t paddr, size_t n)
{
    const uint8_t *b = phys_ptr(paddr);
    uint8_t s = 0;
    while (n--)
        s += *b++;
    return s;
}

static uint64_t scan(uint64_t from, uint64_t length)
{
    for (uint64_t a = from; a + 20 <= from + length; a += 16)
        if (!memcmp(phys_ptr(a), "RSD PTR ", 8) && sum(a, 20) == 0)
            return a;
    return 0;
}

static uint64_t find_rsdp(void)
{
    uint64_t ebda = (uint64_t)(*(volatile uint16_t *)phys_ptr(0x40E)) << 4;
    uint64_t found = ebda >= 0x80000 && ebda < 0xA0000 ? scan(ebda, 1024) : 0;
    return found ? found : scan(0xE0000, 0x20000);
}

/* Whether [paddr, paddr + length) overlaps RAM (type 1) in the PVH memory map. */
static int in_ram(uint64_t paddr, uint64_t length)
{
    for (uint32_t i = 0; i < boot_info.memmap_entries; i++) {
        const struct memmap_entry *m = &boot_info.memmap[i];
        if (m->type == 1 && paddr < m->addr + m->size && m->addr < paddr + length)
            return 1;
    }
    return 0;
}

static const struct sdt *checked_table(uint64_t paddr, const char *sig)
{
    if (!paddr || paddr >= 0x40000000ull)
        test_fail("table %s at 0x%lx is outside the identity-mapped GiB", sig, paddr);
    const struct sdt *t = phys_ptr(paddr);
    if (t->length < sizeof(*t) || t->length > 0x100000)
        test_fail("table at 0x%lx has length %u", paddr, t->length);
    if (sum(paddr, t->length) != 0)
        test_fail("table %.4s at 0x%lx: bad checksum", t->sig, paddr);
    if (sig && memcmp(t->sig, sig, 4))
        test_fail("expected %s at 0x%lx, found %.4s", sig, paddr, t->sig);
    if (in_ram(paddr, t->length))
        test_fail("table %.4s at 0x%lx lies in RAM of the memory map", t->sig, paddr);
    return t;
}

/* The first element of the package named _S5_ (a byte constant, Zero or One), or -1. */
static int s5_sleep_type(const struct sdt *dsdt)
{
    const uint8_t *b = (const uint8_t *)dsdt, *end = b + dsdt->length;
    for (const uint8_t *p = b + sizeof(*dsdt); p + 8 < end; p++) {
        if (memcmp(p, "_S5_", 4) || p[4] != 0x12)
            continue;
        const uint8_t *q = p + 5;
        q += 1 + (*q >> 6); /* PkgLength: lead byte plus 0-3 more */
        q++;                /* NumElements */
        if (*q == 0x00 || *q == 0x01)
            return *q;
        if (*q == 0x0A)
            return q[1];
        return -1;
    }
    return -1;
}

static int contains(const struct sdt *t, const uint8_t *needle, size_t n)
{
    const uint8_t *b = (const uint8_t *)t;
    for (size_t i = sizeof(*t); i + n <= t->length; i++)
        if (!memcmp(b + i, needle, n))
            return 1;
    return 0;
}

int main(void)
{
    uint64_t rsdp = find_rsdp();
    if (!rsdp)
        test_fail("no RSDP in the EBDA or 0xE0000-0xFFFFF");
    const uint8_t *r = phys_ptr(rsdp);
    uint8_t revision = r[15];
    printf("acpi: RSDP at 0x%08lx revision %u oem %.6s\n", rsdp, revision, (const char *)r + 9);
    if (revision >= 2 && sum(rsdp, *(const uint32_t *)(r + 20)) != 0)
        test_fail("the RSDP's extended checksum is wrong");
    if (in_ram(rsdp, 36))
        test_fail("the RSDP lies in RAM of the memory map");
    if (boot_info.rsdp_paddr)
        printf("acpi: hvm_start_info names the RSDP at 0x%08lx%s\n", boot_info.rsdp_paddr,
               boot_info.rsdp_paddr == rsdp ? ", the one the scan found" : ", NOT the one the scan found");
    if (boot_info.rsdp_paddr && boot_info.rsdp_paddr != rsdp)
        test_fail("hvm_start_info's RSDP 0x%lx is not the scanned 0x%lx", boot_info.rsdp_paddr, rsdp);

    int width = revision >= 2 ? 8 : 4;
    uint64_t root_at = width == 8 ? *(const uint64_t *)(r + 24) : *(const uint32_t *)(r + 16);
    const struct sdt *root = checked_table(root_at, width == 8 ? "XSDT" : "RSDT");
    uint32_t entries = (root->length - sizeof(*root)) / width;
    printf("acpi: %.4s at 0x%08lx entries %u\n", root->sig, root_at, entries);

    const struct sdt *fadt = 0, *madt = 0;
    uint64_t fadt_at = 0, madt_at = 0;
    for (uint32_t i = 0; i < entries; i++) {
        const uint8_t *p = (const uint8_t *)(root + 1) + (uint64_t)width * i;
        uint64_t at = width == 8 ? *(const uint64_t *)p : *(const uint32_t *)p;
        const struct sdt *t = checked_table(at, 0);
        printf("acpi: table %.4s at 0x%08lx length %u\n", t->sig, at, t->length);
        if (!memcmp(t->sig, "FACP", 4))
            fadt = t, fadt_at = at;
        else if (!memcmp(t->sig, "APIC", 4))
            madt = t, madt_at = at;
    }
    if (!fadt || !madt)
        test_fail("the root table lists no FADT or no MADT");

    const uint8_t *f = (const uint8_t *)fadt;
    uint64_t dsdt_at = fadt->length >= 148 && *(const uint64_t *)(f + 140) ? *(const uint64_t *)(f + 140) : *(const uint32_t *)(f + 40);
    uint64_t facs_at = fadt->length >= 140 && *(const uint64_t *)(f + 132) ? *(const uint64_t *)(f + 132) : *(const uint32_t *)(f + 36);
    const struct sdt *dsdt = checked_table(dsdt_at, "DSDT");
    printf("acpi: table DSDT at 0x%08lx length %u\n", dsdt_at, dsdt->length);
    if (facs_at % 64 || memcmp(phys_ptr(facs_at), "FACS", 4) || in_ram(facs_at, 64))
        test_fail("the FACS at 0x%lx is not a 64-byte aligned FACS outside RAM", facs_at);
    printf("acpi: FACS at 0x%08lx\n", facs_at);

    uint16_t sci = *(const uint16_t *)(f + 46);
    uint32_t smi_cmd = *(const uint32_t *)(f + 48);
    uint8_t acpi_enable = f[52];
    uint32_t pm1a_evt = *(const uint32_t *)(f + 56), pm1a_cnt = *(const uint32_t *)(f + 64), pm_tmr = *(const uint32_t *)(f + 76);
    printf("acpi: FADT at 0x%08lx SCI %u SMI_CMD 0x%08x ACPI_ENABLE 0x%02x PM1a_EVT 0x%08x PM1a_CNT 0x%08x PM_TMR 0x%08x\n",
           fadt_at, sci, smi_cmd, acpi_enable, pm1a_evt, pm1a_cnt, pm_tmr);
    if (!pm1a_cnt || !pm_tmr)
        test_fail("the FADT has no PM1a control or PM timer block");

    int slp_typ = s5_sleep_type(dsdt);
    if (slp_typ < 0)
        test_fail("no \\_S5 package in the DSDT");
    printf("acpi: \\_S5 SLP_TYPa %d\n", slp_typ);
    static const uint8_t pnp0a03[] = { 0x0C, 0x41, 0xD0, 0x0A, 0x03 }; /* EisaId ("PNP0A03") */
    printf("acpi: DSDT %s the PCI root PNP0A03\n", contains(dsdt, pnp0a03, sizeof(pnp0a03)) ? "has" : "lacks");

    int cpus = 0, ioapics = 0;
    const uint8_t *e = (const uint8_t *)madt + 44, *end = (const uint8_t *)madt + madt->length;
    uint32_t ioapic_address = 0;
    while (e + 2 <= end && e[1] >= 2 && e + e[1] <= end) {
        if (e[0] == 0 && (*(const uint32_t *)(e + 4) & 1))
            cpus++;
        else if (e[0] == 1)
            ioapics++, ioapic_address = *(const uint32_t *)(e + 4);
        e += e[1];
    }
    printf("acpi: MADT at 0x%08lx local APICs %d IOAPICs %d at 0x%08x\n", madt_at, cpus, ioapics, ioapic_address);
    if (!cpus || ioapics != 1)
        test_fail("the MADT lists %d CPUs and %d IOAPICs", cpus, ioapics);

    if (smi_cmd && acpi_enable && !(inw(pm1a_cnt) & SCI_EN))
        outb(smi_cmd, acpi_enable);
    for (int i = 0; i < 100000 && !(inw(pm1a_cnt) & SCI_EN); i++)
        cpu_pause();
    if (!(inw(pm1a_cnt) & SCI_EN))
        test_fail("SCI_EN stayed clear after ACPI_ENABLE");
    printf("acpi: ACPI_ENABLE through SMI_CMD set SCI_EN\n");

    uint32_t t0 = inl(pm_tmr) & 0xFFFFFF;
    uint64_t start = rdtsc();
    uint32_t t1 = t0;
    for (int i = 0; i < 1000000 && t1 == t0; i++)
        t1 = inl(pm_tmr) & 0xFFFFFF;
    if (t1 == t0)
        test_fail("the PM timer at 0x%x does not advance", pm_tmr);
    printf("acpi: PM timer advanced %u ticks (%lu TSC ticks)\n", (t1 - t0) & 0xFFFFFF, rdtsc() - start);

    printf("PLATFORM-TEST %s PASS\n", guest_name);
    serial_flush();
    outw(pm1a_cnt, (uint16_t)((inw(pm1a_cnt) & ~(7u << 10)) | ((unsigned)slp_typ << 10) | SLP_EN));
    for (volatile uint64_t i = 0; i < 10000000; i++)
        cpu_pause();
    test_fail("still running after S5");
}
