/*
 * Start application processors: copy the real-mode trampoline (lib/start.S)
 * to AP_TRAMPOLINE and broadcast INIT, SIPI, SIPI to all CPUs but self. Each
 * AP takes the next stack in lib/start.S, loads the IDT, enables its LAPIC and
 * runs the function given here. Needs pit_clock_start() (for the delays).
 */
#include "guest.h"

extern char ap_trampoline_start[], ap_trampoline_end[];
static volatile ap_fn_t ap_fn;

void ap_main(void)
{
    idt_load();
    lapic_enable();
    if (ap_fn)
        ap_fn();
}

void ap_start_all(ap_fn_t fn)
{
    ap_fn = fn;
    memcpy(phys_ptr(AP_TRAMPOLINE), ap_trampoline_start,
           (size_t)(ap_trampoline_end - ap_trampoline_start));
    barrier();
    uint32_t vector = AP_TRAMPOLINE >> 12;
    lapic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
    delay_us(10000);
    lapic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | vector);
    delay_us(200);
    lapic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | vector);
}
