/*
 * reset: prints PASS first (a reset is the expected outcome), then pulses the
 * i8042 reset line (0xFE to port 0x64). A VMM run with --on-reboot exit (or
 * QEMU with -no-reboot) ends here. If the guest is still running about 1 s
 * later (PIT-timed), it prints FAIL and halts.
 */
#include "guest.h"

const char guest_name[] = "reset";

int main(void)
{
    pit_clock_start();
    printf("reset: pulsing the i8042 reset line (0xFE to port 0x64)\n");
    printf("PLATFORM-TEST %s PASS\n", guest_name);
    serial_flush();
    i8042_reset_pulse();
    struct deadline d;
    deadline_set(&d, 1000);
    while (!deadline_passed(&d))
        cpu_pause();
    printf("PLATFORM-TEST %s FAIL still running 1 s after the reset pulse\n", guest_name);
    guest_halt();
}
