/*
 * C entry (from lib/start.S), boot information, command line and the fixed
 * output contract:
 *   PLATFORM-TEST <name> START
 *   PLATFORM-TEST <name> PASS
 *   PLATFORM-TEST <name> FAIL <reason>
 * After PASS/FAIL the guest pulses the i8042 reset line (0xFE to port 0x64)
 * and then halts with interrupts off.
 */
#include "guest.h"

#define HVM_START_MAGIC 0x336ec578u

/* struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) */
struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;   /* version >= 1 */
    uint32_t memmap_entries; /* version >= 1 */
    uint32_t reserved;
};

struct boot_info boot_info;

static void boot_info_init(uint32_t paddr)
{
    boot_info.start_info_paddr = paddr;
    if (!paddr)
        return;
    const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)paddr;
    if (si->magic != HVM_START_MAGIC)
        return;
    boot_info.valid = 1;
    boot_info.version = si->version;
    boot_info.flags = si->flags;
    boot_info.rsdp_paddr = si->rsdp_paddr;
    if (si->cmdline_paddr && si->cmdline_paddr < 0x100000000ull) {
        const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
        size_t i = 0;
        for (; i + 1 < sizeof(boot_info.cmdline) && c[i]; i++)
            boot_info.cmdline[i] = c[i];
        boot_info.cmdline[i] = '\0';
    }
    if (si->version >= 1 && si->memmap_paddr && si->memmap_paddr < 0x100000000ull) {
        const struct memmap_entry *m = (const struct memmap_entry *)(uintptr_t)si->memmap_paddr;
        uint32_t n = si->memmap_entries < MEMMAP_MAX ? si->memmap_entries : MEMMAP_MAX;
        for (uint32_t i = 0; i < n; i++)
            boot_info.memmap[i] = m[i];
        boot_info.memmap_entries = n;
    }
}

/* Find "key=" as a whole word; return a pointer to the value or NULL. */
static const char *cmdline_find(const char *key)
{
    size_t klen = strlen(key);
    const char *p = boot_info.cmdline;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (!strncmp(p, key, klen) && p[klen] == '=')
            return p + klen + 1;
        while (*p && *p != ' ')
            p++;
    }
    return NULL;
}

int cmdline_get(const char *key, char *out, size_t outlen)
{
    const char *v = cmdline_find(key);
    if (!v)
        return 0;
    size_t i = 0;
    for (; v[i] && v[i] != ' ' && i + 1 < outlen; i++)
        out[i] = v[i];
    if (outlen)
        out[i] = '\0';
    return 1;
}

uint64_t cmdline_u64(const char *key, uint64_t def)
{
    const char *v = cmdline_find(key);
    if (!v || !*v || *v == ' ')
        return def;
    uint64_t r = 0;
    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        v += 2;
        for (;; v++) {
            int d;
            if (*v >= '0' && *v <= '9')
                d = *v - '0';
            else if (*v >= 'a' && *v <= 'f')
                d = *v - 'a' + 10;
            else if (*v >= 'A' && *v <= 'F')
                d = *v - 'A' + 10;
            else
                break;
            r = r * 16 + d;
        }
    } else {
        for (; *v >= '0' && *v <= '9'; v++)
            r = r * 10 + (*v - '0');
    }
    return r;
}

int cmdline_is(const char *key, const char *value)
{
    char buf[64];
    return cmdline_get(key, buf, sizeof(buf)) && !strcmp(buf, value);
}

void i8042_reset_pulse(void)
{
    /* Wait (bounded) for the controller's input buffer to drain; a missing
     * i8042 reads 0xFF, hence the bound. */
    for (int i = 0; i < 1000 && (inb(0x64) & 0x02); i++)
        cpu_pause();
    outb(0x64, 0xFE);
}

void guest_halt(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void guest_exit(void)
{
    serial_flush();
    /* end=fatal dies instead: code fetched from unbacked guest memory (the unclaimed MMIO at 0xD0000000) is a KVM
     * emulation failure, which the platform reports as GUEST_PANICKED, so hosts can test what follows a guest death. */
    if (cmdline_is("end", "fatal"))
        ((void (*)(void))0xD0000000ul)();
    /* end=halt keeps the machine up after the verdict, so the host can still inspect it. */
    if (!cmdline_is("end", "halt"))
        i8042_reset_pulse();
    guest_halt();
}

void test_pass(void)
{
    printf("PLATFORM-TEST %s PASS\n", guest_name);
    guest_exit();
}

void test_fail(const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    printf("PLATFORM-TEST %s FAIL %s\n", guest_name, reason);
    guest_exit();
}

void guest_start(uint32_t start_info_paddr)
{
    serial_init();
    boot_info_init(start_info_paddr);
    /* The leading newline makes the line start a line even after firmware
     * output (SeaBIOS leaves "Booting from ROM.." without one). */
    printf("\nPLATFORM-TEST %s START\n", guest_name);
    idt_init();
    if (!boot_info.valid)
        printf("warning: no hvm_start_info at 0x%x (ebx); empty command line\n", start_info_paddr);
    int rc = main();
    if (rc == 0)
        test_pass();
    test_fail("main returned %d", rc);
}
