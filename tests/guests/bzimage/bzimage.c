/*
 * The bzImage test guest's dump: what a Linux kernel reads from the zero page (struct boot_params,
 * arch/x86/include/uapi/asm/bootparam.h) at its entry, printed on COM1 as "bz: FIELD VALUE" lines, so a host can
 * compare one loader's zero page with another's field by field (Engine.Tests' BzImageBootTests). Offsets are the
 * zero page's; the setup header starts at 0x1F1 in it as in the file.
 */
#include "guest.h"

const char guest_name[] = "bzimage";

struct e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

static uint8_t zp8(const uint8_t *zp, unsigned off) { return zp[off]; }
static uint16_t zp16(const uint8_t *zp, unsigned off) { return *(const uint16_t *)(zp + off); }
static uint32_t zp32(const uint8_t *zp, unsigned off) { return *(const uint32_t *)(zp + off); }
static uint64_t zp64(const uint8_t *zp, unsigned off) { return *(const uint64_t *)(zp + off); }

/* FNV-1a over the initrd: the host computes the same over the file it handed the loader. */
static uint32_t fnv1a(const uint8_t *p, uint64_t n)
{
    uint32_t h = 0x811C9DC5u;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x01000193u;
    return h;
}

static void dump_header(const uint8_t *zp)
{
    printf("bz: hdr.magic %s\n", zp32(zp, 0x202) == 0x53726448u ? "HdrS" : "missing");
    printf("bz: hdr.version 0x%04x\n", zp16(zp, 0x206));
    printf("bz: hdr.setup_sects %u\n", zp8(zp, 0x1F1));
    printf("bz: hdr.syssize 0x%x\n", zp32(zp, 0x1F4));
    printf("bz: hdr.code32_start 0x%x\n", zp32(zp, 0x214));
    printf("bz: hdr.initrd_addr_max 0x%x\n", zp32(zp, 0x22C));
    printf("bz: hdr.kernel_alignment 0x%x\n", zp32(zp, 0x230));
    printf("bz: hdr.relocatable_kernel %u\n", zp8(zp, 0x234));
    printf("bz: hdr.xloadflags 0x%x\n", zp16(zp, 0x236));
    printf("bz: hdr.cmdline_size %u\n", zp32(zp, 0x238));
    printf("bz: hdr.pref_address 0x%llx\n", (unsigned long long)zp64(zp, 0x258));
    printf("bz: hdr.init_size 0x%x\n", zp32(zp, 0x260));
    /* What the loader writes. */
    printf("bz: hdr.type_of_loader 0x%02x\n", zp8(zp, 0x210));
    printf("bz: hdr.loadflags 0x%02x\n", zp8(zp, 0x211));
    printf("bz: hdr.heap_end_ptr 0x%x\n", zp16(zp, 0x224));
    printf("bz: hdr.ext_loader_ver 0x%02x\n", zp8(zp, 0x226));
    printf("bz: hdr.ext_loader_type 0x%02x\n", zp8(zp, 0x227));
    printf("bz: hdr.vid_mode 0x%x\n", zp16(zp, 0x1FA));
    printf("bz: hdr.setup_data 0x%llx\n", (unsigned long long)zp64(zp, 0x250));
    printf("bz: acpi_rsdp_addr 0x%llx\n", (unsigned long long)zp64(zp, 0x070));
}

static void dump_cmdline(const uint8_t *zp)
{
    uint64_t ptr = zp32(zp, 0x228) | (uint64_t)zp32(zp, 0x0C8) << 32;
    printf("bz: cmd_line_ptr 0x%llx\n", (unsigned long long)ptr);
    if (!ptr || ptr >= 0x100000000ull)
        return;
    /* One line whatever the text holds: stop at the kernel's cmdline_size or at a byte that would break it. */
    const char *c = (const char *)(uintptr_t)ptr;
    serial_flush();
    printf("bz: cmdline '");
    uint32_t max = zp32(zp, 0x238);
    for (uint32_t i = 0; i < max && c[i]; i++)
        printf("%c", c[i] >= 0x20 && c[i] < 0x7F ? c[i] : '?');
    printf("'\n");
}

static void dump_ramdisk(const uint8_t *zp)
{
    uint64_t image = zp32(zp, 0x218) | (uint64_t)zp32(zp, 0x0C0) << 32;
    uint64_t size = zp32(zp, 0x21C) | (uint64_t)zp32(zp, 0x0C4) << 32;
    printf("bz: ramdisk_image 0x%llx\n", (unsigned long long)image);
    printf("bz: ramdisk_size 0x%llx\n", (unsigned long long)size);
    if (image && size && image + size <= 0x100000000ull)
        printf("bz: ramdisk_fnv1a 0x%08x\n", fnv1a((const uint8_t *)(uintptr_t)image, size));
}

static void dump_screen(const uint8_t *zp)
{
    printf("bz: screen.orig_video_isVGA 0x%02x\n", zp8(zp, 0x0F));
    if (!zp8(zp, 0x0F))
        return;
    printf("bz: screen.lfb_width %u\n", zp16(zp, 0x12));
    printf("bz: screen.lfb_height %u\n", zp16(zp, 0x14));
    printf("bz: screen.lfb_depth %u\n", zp16(zp, 0x16));
    printf("bz: screen.lfb_base 0x%llx\n", (unsigned long long)(zp32(zp, 0x18) | (uint64_t)zp32(zp, 0x3A) << 32));
    printf("bz: screen.lfb_size 0x%x\n", zp32(zp, 0x1C));
    printf("bz: screen.lfb_linelength %u\n", zp16(zp, 0x24));
}

static void dump_e820(const uint8_t *zp)
{
    unsigned n = zp8(zp, 0x1E8);
    printf("bz: e820_entries %u\n", n);
    const struct e820_entry *e = (const struct e820_entry *)(zp + 0x2D0);
    for (unsigned i = 0; i < n && i < 128; i++)
        printf("bz: e820 %u 0x%llx 0x%llx %u\n", i, (unsigned long long)e[i].addr, (unsigned long long)e[i].size, e[i].type);
}

void bz_main(uint32_t zero_page, int entry)
{
    serial_init();
    printf("\nPLATFORM-TEST %s START\n", guest_name);
    printf("bz: entry %d\n", entry);
    printf("bz: zero_page 0x%x\n", zero_page);
    const uint8_t *zp = (const uint8_t *)(uintptr_t)zero_page;
    if (!zero_page || zp32(zp, 0x202) != 0x53726448u) {
        printf("PLATFORM-TEST %s FAIL no setup header in the zero page at 0x%x\n", guest_name, zero_page);
        guest_exit();
    }
    dump_header(zp);
    dump_cmdline(zp);
    dump_ramdisk(zp);
    dump_screen(zp);
    dump_e820(zp);
    printf("PLATFORM-TEST %s PASS\n", guest_name);
    guest_exit();
}

/* The kit's library wants a main; this guest is entered through bz_main instead. */
int main(void) { return 1; }
