/* 8259A pair: master at 0x20 -> vectors 0x20-0x27, slave at 0xA0 -> 0x28-0x2F. */
#include "guest.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_EOI 0x20

static uint8_t mask1 = 0xFF, mask2 = 0xFF;

void pic_init(void)
{
    outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, VEC_PIC_BASE);     /* ICW2 */
    outb(PIC2_DATA, VEC_PIC_BASE + 8);
    outb(PIC1_DATA, 0x04);             /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, 0x02);
    outb(PIC1_DATA, 0x01);             /* ICW4: 8086 mode */
    outb(PIC2_DATA, 0x01);
    mask1 = mask2 = 0xFF;
    outb(PIC1_DATA, mask1);
    outb(PIC2_DATA, mask2);
}

void pic_unmask(int irq)
{
    if (irq >= 8) {
        mask2 &= (uint8_t)~(1u << (irq - 8));
        mask1 &= (uint8_t)~(1u << 2);
        outb(PIC2_DATA, mask2);
    } else {
        mask1 &= (uint8_t)~(1u << irq);
    }
    outb(PIC1_DATA, mask1);
}

void pic_mask(int irq)
{
    if (irq >= 8) {
        mask2 |= (uint8_t)(1u << (irq - 8));
        outb(PIC2_DATA, mask2);
    } else {
        mask1 |= (uint8_t)(1u << irq);
        outb(PIC1_DATA, mask1);
    }
}

void pic_eoi(int irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, PIC_EOI);
    outb(PIC1_CMD, PIC_EOI);
}
