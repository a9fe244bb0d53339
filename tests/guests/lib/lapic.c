/* Local APIC in xAPIC (MMIO) mode. */
#include "guest.h"

#define MSR_APIC_BASE 0x1B
#define APIC_BASE_ENABLE (1u << 11)

uint64_t lapic_base = LAPIC_DEFAULT_BASE;

uint32_t lapic_read(uint32_t reg) { return mmio_read32(lapic_base + reg); }
void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(lapic_base + reg, v); }

void lapic_enable(void)
{
    uint64_t msr = rdmsr(MSR_APIC_BASE);
    if (!(msr & APIC_BASE_ENABLE))
        wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
    lapic_base = msr & 0xFFFFF000ull;
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
}

uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }
void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }
void lapic_lint0_extint(void) { lapic_write(LAPIC_LVT_LINT0, 0x700); }

int lapic_send_ipi(uint32_t dest, uint32_t icr_lo)
{
    lapic_write(LAPIC_ICR_HI, dest << 24);
    lapic_write(LAPIC_ICR_LO, icr_lo);
    for (int i = 0; i < 100000; i++) {
        if (!(lapic_read(LAPIC_ICR_LO) & ICR_BUSY))
            return 0;
        cpu_pause();
    }
    return -1;
}

void lapic_timer_oneshot(uint8_t vector, uint32_t count)
{
    lapic_write(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, vector);
    lapic_write(LAPIC_TIMER_INIT, count);
}

void lapic_timer_stop(void)
{
    lapic_write(LAPIC_LVT_TIMER, 0x10000); /* masked */
    lapic_write(LAPIC_TIMER_INIT, 0);
}
