/*
 * ahci: an AHCI driver for the first SATA hard disk, polled, as an OS installer's
 * would drive it. Written sectors hold blk.c's pattern, 64 words
 * (seed << 48) | (sector << 8) | word, so the host can check the image file.
 *
 *   1. finds the AHCI function by class (01 06 01), turns AHCI on, starts the
 *      first port whose signature is a disk (0x101) with its own command list,
 *      received-FIS area and command tables;
 *   2. IDENTIFY DEVICE: prints the capacity, model and NCQ depth, and checks the
 *      capacity against sectors= (when given) and LBA48 and NCQ are offered;
 *   3. WRITE DMA EXT of count=C sectors at sector=S over two PRD entries;
 *   4. ncq=N WRITE FPDMA QUEUED commands of C sectors each after it, issued in
 *      one PxCI write, waited for through PxSACT and the Set Device Bits FIS;
 *   5. FLUSH CACHE EXT;
 *   6. reads the first range back with READ DMA EXT and the queued ones with
 *      READ FPDMA QUEUED into poisoned buffers, and compares;
 *   7. a READ DMA EXT past the last sector must end in a task-file error with
 *      ABRT; after AHCI's error recovery (ST off and on) a read works again.
 *   8. msi=1: finds the MSI capability, points it at this CPU's local APIC with
 *      vector 0x61 and enables it, turns GHC.IE and PxIE.DHRS on and reads a
 *      sector twice with interrupts on: each command's D2H FIS must bring the
 *      vector once, with INTx (PCI status bit 3) down; with MSI off again a
 *      command raises INTx (status bit 3) and no vector.
 *   sector=S (8), count=C (16), ncq=N (8, at most 31), seed=X (0x5a),
 *   sectors=CAPACITY (0: not checked), msi=0|1 (0)
 */
#include "guest.h"
#include "pci.h"

const char guest_name[] = "ahci";

#define SECTOR 512
#define SLOTS 32
#define PRDS 8

/* HBA and port registers (AHCI 1.3.1, chapter 3). */
#define CAP 0x00
#define GHC 0x04
#define CAP_S64A (1u << 31)
#define CAP_SNCQ (1u << 30)
#define GHC_AE (1u << 31)
#define PORT(n, reg) (0x100 + (n) * 0x80 + (reg))
#define PX_CLB 0x00
#define PX_CLBU 0x04
#define PX_FB 0x08
#define PX_FBU 0x0C
#define PX_IS 0x10
#define PX_IE 0x14
#define PX_CMD 0x18
#define PX_TFD 0x20
#define PX_SIG 0x24
#define PX_SSTS 0x28
#define PX_SERR 0x30
#define PX_SACT 0x34
#define PX_CI 0x38
#define CMD_ST (1u << 0)
#define CMD_FRE (1u << 4)
#define CMD_FR (1u << 14)
#define CMD_CR (1u << 15)
#define GHC_IE (1u << 1)
#define IS_DHRS (1u << 0)
#define IS_SDBS (1u << 3)
#define IS_TFES (1u << 30)
#define IS_ERRORS 0x7DC00050u /* every error bit of PxIS (AHCI 3.3.5), TFES among them */
#define TFD_ERR 0x01
#define TFD_DRQ 0x08
#define TFD_BSY 0x80
#define ATA_ABRT 0x04
#define SIG_ATA 0x00000101u

/* ATA commands. */
#define ATA_READ_DMA_EXT 0x25
#define ATA_WRITE_DMA_EXT 0x35
#define ATA_READ_FPDMA 0x60
#define ATA_WRITE_FPDMA 0x61
#define ATA_FLUSH_EXT 0xEA
#define ATA_IDENTIFY 0xEC

struct cmd_header { uint32_t flags, prdbc, ctba, ctbau, reserved[4]; };
struct prd { uint32_t dba, dbau, reserved, dbc; };
struct cmd_table { uint8_t cfis[64], acmd[16], reserved[48]; struct prd prdt[PRDS]; };

static struct cmd_header list[SLOTS] __attribute__((aligned(1024)));
static uint8_t fis_area[256] __attribute__((aligned(256)));
static struct cmd_table tables[SLOTS] __attribute__((aligned(128)));
#define BUF_SECTORS 2048
static uint8_t data[BUF_SECTORS * SECTOR] __attribute__((aligned(4096), section(".noinit")));
static uint16_t identify[256] __attribute__((aligned(512)));

#define PCI_CAP_MSI 0x05
#define MSI_ENABLE 0x0001
#define MSI_64BIT 0x0080
#define MSI_MASKABLE 0x0100
#define VEC_MSI (VEC_TEST + 1)

static struct pci_dev devs[PCI_MAX_FUNCS];
static volatile int msi_irqs;
static uint64_t abar;
static int port;
static uint64_t seed;

static uint32_t rd(int reg) { return mmio_read32(abar + (uint32_t)reg); }
static void wr(int reg, uint32_t v) { mmio_write32(abar + (uint32_t)reg, v); }
static uint32_t prd(int reg) { return rd(PORT(port, reg)); }
static void pwr(int reg, uint32_t v) { wr(PORT(port, reg), v); }
static uint64_t pa(const void *p) { return (uint64_t)(uintptr_t)p; }
static uint64_t pattern(uint64_t sector, int word) { return (seed << 48) | (sector << 8) | (uint64_t)word; }

static void wait_clear(int reg, uint32_t bits, const char *what)
{
    struct deadline d;
    deadline_set(&d, 10000);
    while (prd(reg) & bits)
        if (deadline_passed(&d))
            test_fail("%s: still 0x%x after 10 s (PxIS 0x%x, PxTFD 0x%x)", what, prd(reg), prd(PX_IS), prd(PX_TFD));
}

/* Fills slot's header and table: a register H2D FIS and PRDs splitting buf into at most "pieces" entries. */
static void prepare(int slot, uint8_t command, uint64_t lba, uint32_t sectors, void *buf, int pieces, int write, int queued)
{
    struct cmd_table *t = &tables[slot];
    memset(t, 0, sizeof(*t));
    uint8_t *f = t->cfis;
    f[0] = 0x27;             /* register host to device */
    f[1] = 0x80;             /* C: a command */
    f[2] = command;
    f[4] = (uint8_t)lba;
    f[5] = (uint8_t)(lba >> 8);
    f[6] = (uint8_t)(lba >> 16);
    f[7] = 0x40;             /* LBA mode */
    f[8] = (uint8_t)(lba >> 24);
    f[9] = (uint8_t)(lba >> 32);
    f[10] = (uint8_t)(lba >> 40);
    if (queued) {
        f[3] = (uint8_t)sectors; /* NCQ: the count in the features registers, the tag in count bits 7:3 */
        f[11] = (uint8_t)(sectors >> 8);
        f[12] = (uint8_t)(slot << 3);
    } else {
        f[12] = (uint8_t)sectors;
        f[13] = (uint8_t)(sectors >> 8);
    }
    uint32_t bytes = sectors * SECTOR, done = 0;
    int n = 0;
    if (bytes) {
        uint32_t piece = (bytes / (uint32_t)pieces + 1) & ~1u; /* byte counts must be even */
        while (done < bytes) {
            uint32_t len = bytes - done < piece ? bytes - done : piece;
            t->prdt[n].dba = (uint32_t)pa((uint8_t *)buf + done);
            t->prdt[n].dbau = (uint32_t)(pa((uint8_t *)buf + done) >> 32);
            t->prdt[n].dbc = len - 1;
            done += len;
            n++;
        }
    }
    list[slot].flags = 5u | (write ? 1u << 6 : 0) | ((uint32_t)n << 16);
    list[slot].prdbc = 0;
    list[slot].ctba = (uint32_t)pa(t);
    list[slot].ctbau = (uint32_t)(pa(t) >> 32);
}

/* Issues the command prepared in slot 0; returns PxIS after it (cleared), failing unless "may_fail". */
static uint32_t issue(uint8_t command, uint64_t lba, int may_fail)
{
    pwr(PX_IS, 0xFFFFFFFF);
    pwr(PX_CI, 1);
    struct deadline d;
    deadline_set(&d, 10000);
    while ((prd(PX_CI) & 1) && !(prd(PX_IS) & IS_TFES))
        if (deadline_passed(&d))
            test_fail("command 0x%x: no completion within 10 s", command);
    uint32_t is = prd(PX_IS);
    pwr(PX_IS, is);
    if (!may_fail && ((is & IS_ERRORS) || (prd(PX_TFD) & TFD_ERR)))
        test_fail("command 0x%x at %lu: PxIS 0x%x, PxTFD 0x%x", command, lba, is, prd(PX_TFD));
    return is;
}

/* One non-queued command in slot 0, its buffer split over two PRDs. */
static uint32_t run(uint8_t command, uint64_t lba, uint32_t sectors, void *buf, int write, int may_fail)
{
    prepare(0, command, lba, sectors, buf, 2, write, 0);
    return issue(command, lba, may_fail);
}

/* Issues n queued commands (slots 0..n-1) in one PxCI write and waits for PxSACT to empty. */
static void run_queued(uint8_t command, uint64_t first, uint32_t sectors, int n, int write)
{
    uint32_t mask = n == 32 ? 0xFFFFFFFFu : (1u << n) - 1;
    for (int i = 0; i < n; i++)
        prepare(i, command, first + (uint64_t)i * sectors, sectors, data + (uint64_t)i * sectors * SECTOR, 3, write, 1);
    pwr(PX_IS, 0xFFFFFFFF);
    pwr(PX_SACT, mask);
    pwr(PX_CI, mask);
    wait_clear(PX_SACT, mask, "queued commands");
    uint32_t is = prd(PX_IS);
    pwr(PX_IS, is);
    if (!(is & IS_SDBS) || (is & IS_ERRORS) || (prd(PX_TFD) & TFD_ERR))
        test_fail("queued 0x%x: PxIS 0x%x, PxTFD 0x%x", command, is, prd(PX_TFD));
    if (fis_area[0x58] != 0xA1)
        test_fail("no Set Device Bits FIS (type 0x%x at 0x58)", fis_area[0x58]);
}

static void fill(uint8_t *buf, uint64_t sector, uint32_t sectors)
{
    uint64_t *w = (uint64_t *)buf;
    for (uint32_t s = 0; s < sectors; s++)
        for (int i = 0; i < SECTOR / 8; i++)
            *w++ = pattern(sector + s, i);
}

static void check(const uint8_t *buf, uint64_t sector, uint32_t sectors)
{
    const uint64_t *w = (const uint64_t *)buf;
    for (uint32_t s = 0; s < sectors; s++)
        for (int i = 0; i < SECTOR / 8; i++, w++)
            if (*w != pattern(sector + s, i))
                test_fail("sector %lu word %d reads 0x%lx, wrote 0x%lx", sector + s, i, *w, pattern(sector + s, i));
}

static void ata_string(char *out, int first, int words)
{
    for (int i = 0; i < words; i++) {
        out[2 * i] = (char)(identify[first + i] >> 8);
        out[2 * i + 1] = (char)identify[first + i];
    }
    int n = 2 * words;
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = 0;
}

static void start_port(void)
{
    pwr(PX_CMD, prd(PX_CMD) & ~(CMD_ST | CMD_FRE));
    wait_clear(PX_CMD, CMD_CR | CMD_FR, "port stop");
    pwr(PX_CLB, (uint32_t)pa(list));
    pwr(PX_CLBU, (uint32_t)(pa(list) >> 32));
    pwr(PX_FB, (uint32_t)pa(fis_area));
    pwr(PX_FBU, (uint32_t)(pa(fis_area) >> 32));
    pwr(PX_IE, 0); /* polled */
    pwr(PX_SERR, 0xFFFFFFFF);
    pwr(PX_IS, 0xFFFFFFFF);
    pwr(PX_CMD, prd(PX_CMD) | CMD_FRE);
    wait_clear(PX_TFD, TFD_BSY | TFD_DRQ, "device ready");
    pwr(PX_CMD, prd(PX_CMD) | CMD_ST);
}

static void msi_isr(struct intr_frame *f)
{
    (void)f;
    msi_irqs++;
    lapic_eoi();
}

/* Reads one sector in slot 0 and waits for the command to end, leaving PxIS set; returns PxIS. */
static uint32_t read_one(uint64_t lba)
{
    prepare(0, ATA_READ_DMA_EXT, lba, 1, data, 1, 0, 0);
    pwr(PX_IS, 0xFFFFFFFF);
    pwr(PX_CI, 1);
    wait_clear(PX_CI, 1, "read");
    return prd(PX_IS);
}

/* Waits up to a second for the interrupt count to reach "want". */
static void wait_irqs(int want)
{
    struct deadline d;
    deadline_set(&d, 1000);
    while (msi_irqs < want && !deadline_passed(&d))
        cpu_pause();
}

static void check_msi(const struct pci_dev *hba, uint64_t lba)
{
    int cap = pci_find_cap(hba, PCI_CAP_MSI, 0);
    if (!cap)
        test_fail("no MSI capability");
    uint16_t ctl = pci_read16(hba, cap + 2);
    printf("ahci: MSI capability at 0x%02x, control 0x%04x: %s, %u vector(s), %s\n", cap, ctl, ctl & MSI_64BIT ? "64-bit" : "32-bit",
           1u << ((ctl >> 1) & 7), ctl & MSI_MASKABLE ? "per-vector mask" : "no per-vector mask");
    pic_init();
    lapic_enable();
    intr_set_handler(VEC_MSI, msi_isr);
    int data_at = ctl & MSI_64BIT ? cap + 12 : cap + 8;
    pci_write32(hba, cap + 4, 0xFEE00000u | (lapic_id() << 12)); /* fixed delivery to this CPU */
    if (ctl & MSI_64BIT)
        pci_write32(hba, cap + 8, 0);
    pci_write16(hba, data_at, VEC_MSI);                            /* edge, fixed, the vector */
    pci_write16(hba, cap + 2, (uint16_t)(ctl | MSI_ENABLE));
    wr(GHC, rd(GHC) | GHC_IE);
    pwr(PX_IE, IS_DHRS);
    sti();
    for (int i = 1; i <= 2; i++) {
        uint32_t is = read_one(lba);
        wait_irqs(i);
        uint16_t status = pci_read16(hba, PCI_STATUS);
        printf("ahci: MSI command %d: PxIS 0x%x, vector 0x%x taken %d time(s), PCI status INTx %d\n", i, is, VEC_MSI, msi_irqs,
               (status & PCI_STATUS_INTX) ? 1 : 0);
        if (msi_irqs != i || (status & PCI_STATUS_INTX))
            test_fail("MSI command %d: %d interrupt(s), PCI status 0x%x", i, msi_irqs, status);
        pwr(PX_IS, is);
    }
    pci_write16(hba, cap + 2, ctl & (uint16_t)~MSI_ENABLE);
    uint32_t is = read_one(lba);
    wait_irqs(3);
    uint16_t status = pci_read16(hba, PCI_STATUS);
    cli();
    printf("ahci: MSI off: PxIS 0x%x, PCI status INTx %d, vectors %d\n", is, (status & PCI_STATUS_INTX) ? 1 : 0, msi_irqs);
    if (!(status & PCI_STATUS_INTX) || msi_irqs != 2)
        test_fail("with MSI off the command raised no INTx (status 0x%x) or a vector (%d)", status, msi_irqs);
    pwr(PX_IS, is);
    pwr(PX_IE, 0);
}

int main(void)
{
    seed = cmdline_u64("seed", 0x5a) & 0xFFFF;
    uint64_t first = cmdline_u64("sector", 8);
    uint32_t count = (uint32_t)cmdline_u64("count", 16);
    int ncq = (int)cmdline_u64("ncq", 8);
    uint64_t expect = cmdline_u64("sectors", 0);
    if (count == 0 || ncq < 1 || ncq > 31 || (uint64_t)count * (uint64_t)ncq > BUF_SECTORS)
        test_fail("count=%u ncq=%d: at most %d sectors in flight", count, ncq, BUF_SECTORS);
    pit_clock_start();

    int found = pci_scan(devs, PCI_MAX_FUNCS);
    struct pci_dev *hba = NULL;
    for (int i = 0; i < found && !hba; i++)
        if ((devs[i].class_rev >> 8) == 0x010601)
            hba = &devs[i];
    if (!hba)
        test_fail("no AHCI controller (class 01 06 01) on bus 0");
    pci_enable(hba);
    abar = hba->bar[5];
    if (!abar)
        test_fail("the AHCI controller's BAR 5 is not placed");
    wr(GHC, rd(GHC) | GHC_AE);
    uint32_t cap = rd(CAP);
    printf("ahci: %04x:%04x at 00:%02x.0, CAP 0x%08x: %u slots, %u ports%s%s\n", hba->vendor, hba->device, hba->dev, cap,
           ((cap >> 8) & 0x1F) + 1, (cap & 0x1F) + 1, cap & CAP_S64A ? ", 64-bit" : "", cap & CAP_SNCQ ? ", NCQ" : "");
    if (!(cap & CAP_SNCQ) || ((cap >> 8) & 0x1F) < (uint32_t)ncq)
        test_fail("the HBA does not queue %d commands", ncq);

    /* PxSIG holds the device's signature once its first D2H FIS arrived, which needs FIS receive on: start each port
     * with a link before looking (firmware may have done it already, or not). */
    int disk = -1;
    for (port = 0; port <= (int)(cap & 0x1F) && disk < 0; port++)
        if ((prd(PX_SSTS) & 0xF) == 3) {
            start_port();
            if (prd(PX_SIG) == SIG_ATA)
                disk = port;
        }
    if (disk < 0)
        test_fail("no port with a SATA disk");
    port = disk;

    prepare(0, ATA_IDENTIFY, 0, 1, identify, 1, 0, 0); /* PIO data-in: one 512-byte PRD */
    issue(ATA_IDENTIFY, 0, 0);
    uint64_t capacity = identify[100] | (uint64_t)identify[101] << 16 | (uint64_t)identify[102] << 32 | (uint64_t)identify[103] << 48;
    char model[41];
    ata_string(model, 27, 20);
    printf("ahci: port %d: '%s', %lu sectors, LBA48 %s, NCQ depth %u\n", port, model, capacity,
           identify[83] & (1 << 10) ? "yes" : "no", (identify[76] & (1 << 8)) ? (identify[75] & 0x1F) + 1u : 0u);
    if (!(identify[83] & (1 << 10)) || !(identify[76] & (1 << 8)))
        test_fail("the disk offers no LBA48 or no NCQ");
    if (expect && capacity != expect)
        test_fail("IDENTIFY says %lu sectors, the disk has %lu", capacity, expect);
    if (first + count + (uint64_t)count * ncq > capacity)
        test_fail("sector=%lu count=%u ncq=%d runs past the disk's %lu sectors", first, count, ncq, capacity);

    fill(data, first, count);
    run(ATA_WRITE_DMA_EXT, first, count, data, 1, 0);
    if (list[0].prdbc != count * SECTOR)
        test_fail("WRITE DMA EXT moved %u bytes, not %u", list[0].prdbc, count * SECTOR);
    uint64_t queued_first = first + count;
    for (int i = 0; i < ncq; i++)
        fill(data + (uint64_t)i * count * SECTOR, queued_first + (uint64_t)i * count, count);
    run_queued(ATA_WRITE_FPDMA, queued_first, count, ncq, 1);
    run(ATA_FLUSH_EXT, 0, 0, NULL, 0, 0);
    printf("ahci: wrote %u sectors by DMA and %d x %u by NCQ from %lu, flushed\n", count, ncq, count, first);

    memset(data, 0xEE, (uint64_t)count * SECTOR);
    run(ATA_READ_DMA_EXT, first, count, data, 0, 0);
    check(data, first, count);
    memset(data, 0xEE, (uint64_t)count * ncq * SECTOR);
    run_queued(ATA_READ_FPDMA, queued_first, count, ncq, 0);
    check(data, queued_first, count * (uint32_t)ncq);
    printf("ahci: read back equal by DMA and NCQ\n");

    uint32_t is = run(ATA_READ_DMA_EXT, capacity - 1, 2, data, 0, 1);
    uint32_t tfd = prd(PX_TFD);
    if (!(is & IS_TFES) || !(tfd & TFD_ERR) || !((tfd >> 8) & ATA_ABRT))
        test_fail("a read past the end: PxIS 0x%x, PxTFD 0x%x (wanted TFES, ERR and ABRT)", is, tfd);
    /* Non-queued error recovery (AHCI 6.2.2.1): ST off, errors cleared, ST on. */
    pwr(PX_CMD, prd(PX_CMD) & ~CMD_ST);
    wait_clear(PX_CMD, CMD_CR, "list engine stop");
    pwr(PX_SERR, 0xFFFFFFFF);
    pwr(PX_IS, 0xFFFFFFFF);
    pwr(PX_CMD, prd(PX_CMD) | CMD_ST);
    memset(data, 0xEE, SECTOR);
    run(ATA_READ_DMA_EXT, first, 1, data, 0, 0);
    check(data, first, 1);
    printf("ahci: a read past the end was aborted (PxTFD 0x%x) and the port recovered\n", tfd);
    if (cmdline_u64("msi", 0))
        check_msi(hba, first);
    return 0;
}
