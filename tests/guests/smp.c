/*
 * smp: starts the application processors and waits for all to check in.
 * Expected CPUs: command line cpus=N wins, else the enabled CPUs of the ACPI
 * MADT, else the MP table's enabled processor entries. APs start with INIT-SIPI-SIPI (broadcast to all but self)
 * through the real-mode trampoline at 0x8000 (lib/start.S); each prints
 * "CPU <apic id> checked in" under a spinlock and increments a counter. The
 * BSP waits up to timeout=ms (default 10000; 1000 when the count is unknown)
 * measured on the PIT, then prints "smp: N CPUs".
 * With spin=1 every CPU then spins for ever (no verdict): "smp: spinning on N
 * CPUs" says they all have started, for tests that hold the VM to a CPU limit.
 */
#include "guest.h"

const char guest_name[] = "smp";

static spinlock_t lock;
static volatile uint32_t checked_in;
static int spin;

/* Plain work, no pause: PAUSE may exit to the host, which could yield the CPU. */
static void __attribute__((noreturn)) spin_forever(void)
{
    volatile uint64_t n = 0;
    for (;;)
        n++;
}

static void ap_entry(void)
{
    uint32_t id = lapic_id();
    spin_lock(&lock);
    printf("CPU %u checked in\n", id);
    checked_in++;
    spin_unlock(&lock);
    if (spin)
        spin_forever();
}

int main(void)
{
    pit_clock_start();
    lapic_enable();
    spin = cmdline_u64("spin", 0) != 0;
    mp_scan();
    uint64_t madt = 0;
    int acpi_cpus = acpi_madt_cpus(&madt);
    if (mp_info.found)
        printf("smp: MP table at 0x%lx lists %d CPUs\n", mp_info.table_addr, mp_info.ncpus);
    else
        printf("smp: no MP table\n");
    if (acpi_cpus >= 0)
        printf("smp: ACPI MADT at 0x%lx lists %d CPUs\n", madt, acpi_cpus);
    else
        printf("smp: no ACPI MADT\n");

    /* cmdline > MADT > MP table: SeaBIOS lists one CPU per package in its MP
     * table (QEMU -smp 2 = one package of 2 cores), the MADT lists them all. */
    uint64_t expected = cmdline_u64("cpus", 0);
    const char *source = "cmdline cpus=";
    if (!expected && acpi_cpus > 0) {
        expected = (uint64_t)acpi_cpus;
        source = "ACPI MADT";
    }
    if (!expected && mp_info.found && mp_info.ncpus) {
        expected = (uint64_t)mp_info.ncpus;
        source = "MP table";
    }
    printf("smp: BSP is CPU %u; expecting %lu CPUs (%s)\n", lapic_id(), expected,
           expected ? source : "unknown: counting whoever answers within the timeout");
    if (expected == 1) {
        printf("smp: 1 CPUs\n");
        if (spin) {
            printf("smp: spinning on 1 CPUs\n");
            spin_forever();
        }
        return 0;
    }
    uint64_t timeout = cmdline_u64("timeout", expected ? 10000 : 1000);
    uint64_t t0 = pit_clock_us();
    ap_start_all(ap_entry);
    struct deadline d;
    deadline_set(&d, timeout);
    while ((!expected || checked_in + 1 < expected) && !deadline_passed(&d))
        cpu_pause();
    uint64_t t1 = pit_clock_us();
    uint32_t total = checked_in + 1;
    spin_lock(&lock);
    printf("smp: %u APs checked in after %lu ms\n", total - 1, (t1 - t0) / 1000);
    spin_unlock(&lock);
    if (expected && total < expected)
        test_fail("only %u of %lu CPUs checked in within %lu ms", total, expected, timeout);
    printf("smp: %u CPUs\n", total);
    if (spin) {
        printf("smp: spinning on %u CPUs\n", total);
        spin_forever();
    }
    return 0;
}
