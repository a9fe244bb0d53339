/*
 * mmioloop (benchmark): n 32-bit MMIO accesses, each a VM exit.
 *   n=N              iterations (default 100000)
 *   op=write|read    (default write; out/in are accepted too)
 *   addr=0x...       address below 4 GiB (default 0xD0000000: unclaimed in the
 *                    PCI hole of QEMU's pc machine and of the platform)
 * Prints "START" just before and "DONE n=<N>" just after the loop.
 */
#include "guest.h"

const char guest_name[] = "mmioloop";

int main(void)
{
    uint64_t n = cmdline_u64("n", 100000);
    uint64_t addr = cmdline_u64("addr", 0xD0000000);
    int rd = cmdline_is("op", "read") || cmdline_is("op", "in");
    if (addr >= 0x100000000ull || (addr & 3))
        test_fail("addr=0x%lx must be 4-byte aligned and below 4 GiB", addr);
    printf("mmioloop: op=%s addr=0x%lx n=%lu\n", rd ? "read" : "write", addr, n);
    printf("START\n");
    if (rd) {
        for (uint64_t i = 0; i < n; i++)
            (void)mmio_read32(addr);
    } else {
        for (uint64_t i = 0; i < n; i++)
            mmio_write32(addr, (uint32_t)i);
    }
    printf("DONE n=%lu\n", n);
    return 0;
}
