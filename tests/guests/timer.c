/*
 * timer: PIT channel 0 at hz= (default 100) interrupting the CPU; counts
 * ticks with sti; hlt and passes after ticks= (default 20) ticks.
 *   irq=ioapic (default)  IOAPIC pins 2 and 0 both unmasked, each with its own
 *                         vector (QEMU and MP tables route the PIT to pin 2 by
 *                         the ISA override; KVM's default GSI routing reaches
 *                         pin 0). pin=N uses just pin N.
 *   irq=pic               8259 IRQ 0 (vector 0x20) through LAPIC LINT0 = ExtINT.
 * A LAPIC one-shot timer (timeout= ms, default 5000, assuming the KVM APIC bus
 * of 1 GHz) is the watchdog: no enough ticks by then = FAIL.
 */
#include "guest.h"

const char guest_name[] = "timer";

static volatile uint64_t ticks, pin_ticks[24];
static int use_pic;
static uint64_t want;

static void tick(struct intr_frame *f)
{
    if (use_pic) {
        pic_eoi(0);
    } else {
        lapic_eoi();
        pin_ticks[(f->vector - VEC_IOAPIC_BASE) % 24]++;
    }
    ticks++;
}

static void watchdog(struct intr_frame *f)
{
    (void)f;
    lapic_eoi();
    test_fail("%lu of %lu timer ticks before the watchdog (%lu ms)", (uint64_t)ticks, want,
              cmdline_u64("timeout", 5000));
}

int main(void)
{
    uint32_t hz = (uint32_t)cmdline_u64("hz", 100);
    want = cmdline_u64("ticks", 20);
    uint64_t timeout_ms = cmdline_u64("timeout", 5000);
    use_pic = cmdline_is("irq", "pic");
    int pin = (int)cmdline_u64("pin", ~0ull);
    if (!hz)
        hz = 100;

    pic_init();
    lapic_enable();
    mp_scan();
    if (mp_info.found && mp_info.ioapic_addr)
        ioapic_base = mp_info.ioapic_addr;
    if (mp_info.found && mp_info.isa_irq_pin[0] >= 0)
        printf("timer: MP table routes ISA IRQ 0 to IOAPIC pin %d\n", mp_info.isa_irq_pin[0]);
    else
        printf("timer: %s\n", mp_info.found ? "MP table has no ISA IRQ 0 entry" : "no MP table");
    int have_ioapic = ioapic_init();
    if (!use_pic && !have_ioapic) {
        printf("timer: no IOAPIC at 0x%lx, using the 8259\n", ioapic_base);
        use_pic = 1;
    }
    const char *route;
    char buf[48];
    if (use_pic) {
        intr_set_handler(VEC_PIC_BASE + 0, tick);
        lapic_lint0_extint();
        pic_unmask(0);
        route = "8259 IRQ 0";
    } else if (pin >= 0 && pin < ioapic_pins()) {
        intr_set_handler(VEC_IOAPIC_BASE + pin, tick);
        ioapic_route(pin, VEC_IOAPIC_BASE + pin, (uint8_t)lapic_id(), 0, 0);
        snprintf(buf, sizeof(buf), "IOAPIC pin %d", pin);
        route = buf;
    } else {
        intr_set_handler(VEC_IOAPIC_BASE + 0, tick);
        intr_set_handler(VEC_IOAPIC_BASE + 2, tick);
        ioapic_route(0, VEC_IOAPIC_BASE + 0, (uint8_t)lapic_id(), 0, 0);
        ioapic_route(2, VEC_IOAPIC_BASE + 2, (uint8_t)lapic_id(), 0, 0);
        route = "IOAPIC pins 0 and 2";
    }
    printf("timer: PIT at %u Hz via %s, waiting for %lu ticks\n", hz, route, want);

    intr_set_handler(VEC_LAPIC_TIMER, watchdog);
    uint32_t count = (uint32_t)(timeout_ms * 62500); /* 1 GHz / 16 per ms */
    lapic_timer_oneshot(VEC_LAPIC_TIMER, count);
    pit_periodic(hz);
    while (ticks < want)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    uint32_t left = lapic_read(LAPIC_TIMER_CUR);
    lapic_timer_stop();
    pit_clock_start(); /* stop periodic interrupts (mode 2, count 65536) */
    if (use_pic)
        pic_mask(0);
    else
        for (int p = 0; p < ioapic_pins(); p++)
            ioapic_mask(p);
    uint64_t ms = (uint64_t)(count - left) / 62500;
    if (use_pic)
        printf("timer: %lu ticks via 8259 IRQ 0 at %u Hz in %lu ms (LAPIC timer)\n", (uint64_t)ticks, hz, ms);
    else if (pin >= 0 && pin < ioapic_pins())
        printf("timer: %lu ticks via IOAPIC pin %d at %u Hz in %lu ms (LAPIC timer)\n", (uint64_t)ticks, pin, hz,
               ms);
    else
        printf("timer: %lu ticks via IOAPIC (pin 0: %lu, pin 2: %lu) at %u Hz in %lu ms (LAPIC timer)\n",
               (uint64_t)ticks, (uint64_t)pin_ticks[0], (uint64_t)pin_ticks[2], hz, ms);
    return 0;
}
