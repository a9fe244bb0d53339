/*
 * hpet: the High Precision Event Timer as an OS finds and drives it.
 *   1. finds the ACPI HPET table and checks its block ID against the
 *      capabilities register at the address it names;
 *   2. prints the capabilities (timers, counter size, legacy routing, period)
 *      and each timer's configuration and IOAPIC route capability;
 *   3. runs the main counter and checks its rate against the PIT (5%);
 *   4. in legacy replacement mode (timer 0 -> IRQ 0, timer 1 -> IRQ 8, through
 *      the MP table's IOAPIC pins): a one-shot timer 0 interrupts once; a
 *      periodic timer 0 (1 ms, VAL_SET) interrupts 10 times, no sooner than
 *      9 ms; a level-triggered timer 1 interrupts once and holds its status
 *      bit until it is written back;
 *   5. switching to 32-bit mode truncates the comparator; then nonsense (a periodic timer
 *      with period 0, a route to pin 31, a comparator in the past, the counter
 *      written while running) must leave the machine running and the counter
 *      counting.
 */
#include "guest.h"

const char guest_name[] = "hpet";

#define GCAP 0x000
#define GCFG 0x010
#define GSTS 0x020
#define COUNTER 0x0F0
#define TCFG(n) (0x100 + 0x20 * (n))
#define TCMP(n) (0x108 + 0x20 * (n))
#define CFG_ENABLE 1ull
#define CFG_LEGACY 2ull
#define T_LEVEL (1ull << 1)
#define T_INT (1ull << 2)
#define T_PERIODIC (1ull << 3)
#define T_VALSET (1ull << 6)
#define T_32BIT (1ull << 8)
#define VEC_T0 (VEC_TEST + 0)
#define VEC_T1 (VEC_TEST + 1)

static uint64_t base;
static volatile int irqs[2];

static uint64_t rd(int reg) { return *(volatile uint64_t *)(uintptr_t)(base + (uint32_t)reg); }
static void wr(int reg, uint64_t v) { *(volatile uint64_t *)(uintptr_t)(base + (uint32_t)reg) = v; }

static void isr_t0(struct intr_frame *f) { (void)f; irqs[0]++; lapic_eoi(); }
static void isr_t1(struct intr_frame *f) { (void)f; irqs[1]++; lapic_eoi(); }

/* Polls (interrupts on) until irqs[n] reaches want or ms pass; returns the PIT microseconds it took. */
static uint64_t wait_irqs(int n, int want, uint64_t ms)
{
    uint64_t start = pit_clock_us();
    while (irqs[n] < want && pit_clock_us() - start < ms * 1000)
        cpu_pause();
    return pit_clock_us() - start;
}

static int isa_pin(int irq, int fallback)
{
    return mp_info.found && mp_info.isa_irq_pin[irq] >= 0 ? mp_info.isa_irq_pin[irq] : fallback;
}

int main(void)
{
    pic_init();
    lapic_enable();
    pit_clock_start();
    mp_scan();
    if (mp_info.found && mp_info.ioapic_addr)
        ioapic_base = mp_info.ioapic_addr;
    if (!ioapic_init())
        test_fail("no IOAPIC");

    uint64_t table = acpi_find_table("HPET");
    if (!table)
        test_fail("no ACPI HPET table");
    const uint8_t *t = phys_ptr(table);
    uint32_t block_id = *(const uint32_t *)(t + 36);
    base = *(const uint64_t *)(t + 44);
    printf("hpet: ACPI table: block ID 0x%08x, registers in space %u at 0x%lx, number %u\n", block_id, t[40], base, t[52]);
    uint64_t cap = rd(GCAP);
    int timers = (int)((cap >> 8) & 0x1F) + 1;
    printf("hpet: capabilities 0x%016lx: %d timers, %s counter, legacy routing %s, vendor %04lx, period %lu fs\n", cap, timers,
           cap & (1 << 13) ? "64-bit" : "32-bit", cap & (1 << 15) ? "yes" : "no", (cap >> 16) & 0xFFFF, cap >> 32);
    if ((uint32_t)cap != block_id)
        test_fail("the table's block ID 0x%x is not the capabilities' 0x%x", block_id, (uint32_t)cap);
    for (int n = 0; n < timers && n < 8; n++)
        printf("hpet: timer %d configuration 0x%016lx, comparator 0x%016lx\n", n, rd(TCFG(n)), rd(TCMP(n)));

    /* The counter's rate against the PIT: 20 ms. */
    wr(GCFG, 0);
    wr(COUNTER, 0);
    wr(GCFG, CFG_ENABLE);
    uint64_t us0 = pit_clock_us(), c0 = rd(COUNTER);
    while (pit_clock_us() - us0 < 20000)
        cpu_pause();
    uint64_t us1 = pit_clock_us(), c1 = rd(COUNTER);
    uint64_t hz = (c1 - c0) * 1000000 / (us1 - us0);
    uint64_t want_hz = 1000000000000000ull / (cap >> 32);
    int rate_ok = hz > want_hz / 100 * 95 && hz < want_hz / 100 * 105;
    printf("hpet: the counter runs at its period's rate (%lu Hz within 5%%): %s\n", want_hz, rate_ok ? "yes" : "no");
    if (!rate_ok)
        test_fail("counter at %lu Hz, period says %lu", hz, want_hz);

    /* Legacy replacement: timer 0 on IRQ 0, timer 1 on IRQ 8; the PIT and the RTC go quiet. */
    int pin0 = isa_pin(0, 2), pin8 = isa_pin(8, 8);
    intr_set_handler(VEC_T0, isr_t0);
    intr_set_handler(VEC_T1, isr_t1);
    ioapic_route(pin0, VEC_T0, (uint8_t)lapic_id(), 0, 0);
    ioapic_route(pin8, VEC_T1, (uint8_t)lapic_id(), 0, 0);
    /* The PIT's channel 0 (the polled clock, a 55 ms period) interrupts on IRQ 0 until legacy replacement takes it. */
    sti();
    delay_us(120000);
    cli();
    printf("hpet: before legacy replacement the PIT interrupts on IRQ 0: %s\n", irqs[0] ? "yes" : "no");
    wr(GCFG, CFG_ENABLE | CFG_LEGACY);
    sti();
    delay_us(5000); /* a PIT interrupt accepted while interrupts were off is taken here, before the count starts */
    irqs[0] = irqs[1] = 0;
    delay_us(120000);
    int stray = irqs[0] + irqs[1];
    printf("hpet: legacy replacement on: IRQ 0 and IRQ 8 quiet for 120 ms (%d interrupts)\n", stray);
    if (stray)
        test_fail("%d interrupts with no HPET timer armed: the PIT or the RTC still interrupts", stray);

    /* The comparator before the interrupt enable, as an OS does: enabling a timer whose comparator is still the reset
     * value (all ones, "in the past" to QEMU) fires it at once. */
    wr(TCMP(0), rd(COUNTER) + 100000); /* 1 ms */
    wr(TCFG(0), T_INT);
    wait_irqs(0, 2, 50);
    printf("hpet: one-shot timer 0 interrupted %d time(s) on IOAPIC pin %d\n", irqs[0], pin0);
    if (irqs[0] != 1)
        test_fail("the one-shot timer interrupted %d times", irqs[0]);

    irqs[0] = 0;
    wr(TCFG(0), T_INT | T_PERIODIC | T_VALSET);
    wr(TCMP(0), rd(COUNTER) + 100000);
    wr(TCMP(0), 100000); /* the period: 1 ms */
    uint64_t took = wait_irqs(0, 10, 1000);
    wr(TCFG(0), 0);
    int periodic = irqs[0];
    printf("hpet: periodic timer 0 (1 ms) interrupted 10 times, no sooner than 9 ms: %s\n", periodic >= 10 && took >= 9000 ? "yes" : "no");
    if (periodic < 10 || took < 9000)
        test_fail("periodic timer: %d interrupts in %lu us", periodic, took);

    wr(TCMP(1), rd(COUNTER) + 100000);
    wr(TCFG(1), T_INT | T_LEVEL);
    wait_irqs(1, 1, 50);
    uint64_t sts = rd(GSTS);
    wr(GSTS, 2);
    uint64_t cleared = rd(GSTS);
    wr(TCFG(1), 0);
    printf("hpet: level timer 1 interrupted %d time(s) on IOAPIC pin %d, status 0x%lx, 0x%lx once written back\n", irqs[1], pin8,
           sts, cleared);
    if (irqs[1] != 1 || sts != 2 || cleared != 0)
        test_fail("level timer: %d interrupts, status 0x%lx then 0x%lx", irqs[1], sts, cleared);
    cli();

    wr(TCFG(2), 0);
    wr(TCMP(2), 0x100000007ull);
    wr(TCFG(2), T_32BIT); /* the switch to 32-bit mode keeps the comparator's low half */
    printf("hpet: timer 2 switched to 32-bit mode: comparator 0x%lx\n", rd(TCMP(2)));

    /* Nonsense a guest may write: none of it may stop the machine or the counter. */
    wr(TCFG(2), T_INT | T_PERIODIC | T_VALSET | (31ull << 9));
    wr(TCMP(2), 0);
    wr(TCMP(2), 0);
    wr(TCFG(1), T_INT | T_PERIODIC | T_VALSET | (31ull << 9));
    wr(TCMP(1), 1);
    wr(TCMP(1), 1);
    wr(COUNTER, 5);
    uint64_t before = rd(COUNTER);
    delay_us(10000);
    uint64_t after = rd(COUNTER);
    wr(TCFG(1), 0);
    wr(TCFG(2), 0);
    wr(GCFG, 0);
    printf("hpet: after nonsense the counter still counts: %s\n", after > before ? "yes" : "no");
    if (after <= before)
        test_fail("the counter stopped at 0x%lx", after);
    return 0;
}
