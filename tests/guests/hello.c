/* hello: prints a greeting, the command line and the PVH memory map; passes. */
#include "guest.h"

const char guest_name[] = "hello";

int main(void)
{
    printf("Hello from the platform test guest\n");
    printf("cmdline: %s\n", boot_info.cmdline);
    if (boot_info.valid) {
        printf("start_info: paddr=0x%x version=%u flags=0x%x rsdp=0x%lx memmap_entries=%u\n",
               boot_info.start_info_paddr, boot_info.version, boot_info.flags, boot_info.rsdp_paddr,
               boot_info.memmap_entries);
        for (uint32_t i = 0; i < boot_info.memmap_entries; i++) {
            const struct memmap_entry *m = &boot_info.memmap[i];
            printf("memmap: 0x%016lx-0x%016lx type %u\n", m->addr, m->addr + m->size - 1, m->type);
        }
    }
    return 0;
}
