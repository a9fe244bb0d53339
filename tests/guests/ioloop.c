/*
 * ioloop (benchmark): n port accesses of one byte, each a VM exit.
 *   n=N        iterations (default 100000)
 *   op=out|in  outb (default) or inb
 *   port=P     port (default 0x80, the POST diagnostic port: nothing in the
 *              platform claims it; QEMU handles it in user space as a no-op)
 * Prints "START" just before and "DONE n=<N>" just after the loop.
 */
#include "guest.h"

const char guest_name[] = "ioloop";

int main(void)
{
    uint64_t n = cmdline_u64("n", 100000);
    uint16_t port = (uint16_t)cmdline_u64("port", 0x80);
    int in = cmdline_is("op", "in");
    printf("ioloop: op=%s port=0x%x n=%lu\n", in ? "in" : "out", port, n);
    printf("START\n");
    if (in) {
        for (uint64_t i = 0; i < n; i++)
            (void)inb(port);
    } else {
        for (uint64_t i = 0; i < n; i++)
            outb(port, (uint8_t)i);
    }
    printf("DONE n=%lu\n", n);
    return 0;
}
