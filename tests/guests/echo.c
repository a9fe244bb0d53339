/*
 * echo: interrupt-driven COM1 receive. Enables the UART receive interrupt
 * (IER bit 0) on IRQ 4, prints READY, then echoes every received byte
 * uppercased until it receives 'q', waiting with sti; hlt in between.
 *
 * Routing (command line irq=):
 *   irq=ioapic (default)  IOAPIC pin from the MP table's ISA IRQ 4 entry, else
 *                         pin 4; the 8259 stays masked. Falls back to the 8259
 *                         when no IOAPIC answers at 0xFEC00000 (or the MP address).
 *   irq=pic               8259 IRQ 4 (vector 0x24) through LAPIC LINT0 = ExtINT.
 */
#include "guest.h"

const char guest_name[] = "echo";

static volatile uint8_t ring[256];
static volatile uint32_t ring_head, ring_tail; /* head: ISR writes, tail: main */
static volatile uint64_t irq_count;
static int use_pic;

static void uart_isr(struct intr_frame *f)
{
    (void)f;
    int c;
    irq_count++;
    while ((c = serial_getc_nowait()) >= 0) {
        if (ring_head - ring_tail < sizeof(ring))
            ring[ring_head++ % sizeof(ring)] = (uint8_t)c;
    }
    if (use_pic)
        pic_eoi(COM1_IRQ);
    else
        lapic_eoi();
}

int main(void)
{
    use_pic = cmdline_is("irq", "pic");
    pic_init(); /* remapped and fully masked */
    lapic_enable();
    mp_scan();
    if (mp_info.found && mp_info.ioapic_addr)
        ioapic_base = mp_info.ioapic_addr;

    while (serial_getc_nowait() >= 0)
        ; /* drop stale input */

    if (!use_pic && !ioapic_init()) {
        printf("echo: no IOAPIC at 0x%lx, using the 8259\n", ioapic_base);
        use_pic = 1;
    }
    if (use_pic) {
        intr_set_handler(VEC_PIC_BASE + COM1_IRQ, uart_isr);
        lapic_lint0_extint();
        pic_unmask(COM1_IRQ);
        printf("echo: IRQ 4 via 8259 vector 0x%x\n", VEC_PIC_BASE + COM1_IRQ);
    } else {
        int pin = mp_info.isa_irq_pin[COM1_IRQ] >= 0 ? mp_info.isa_irq_pin[COM1_IRQ] : COM1_IRQ;
        intr_set_handler(VEC_IOAPIC_BASE + pin, uart_isr);
        ioapic_route(pin, VEC_IOAPIC_BASE + pin, (uint8_t)lapic_id(), 0, 0);
        printf("echo: IRQ 4 via IOAPIC pin %d vector 0x%x (%s)\n", pin, VEC_IOAPIC_BASE + pin,
               mp_info.isa_irq_pin[COM1_IRQ] >= 0 ? "MP table" : "default");
    }
    serial_enable_rx_irq(1);
    printf("READY\n");

    uint64_t bytes = 0;
    for (;;) {
        cli();
        if (ring_tail == ring_head) {
            sti_hlt();
            continue;
        }
        uint8_t c = ring[ring_tail++ % sizeof(ring)];
        sti();
        if (c == 'q')
            break;
        bytes++;
        if (c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 'a' + 'A');
        printf("%c", c);
    }
    serial_enable_rx_irq(0);
    printf("\necho: %lu bytes echoed, %lu interrupts\n", bytes, (uint64_t)irq_count);
    return 0;
}
