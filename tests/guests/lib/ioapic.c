/* I/O APIC through its index/data window (IOREGSEL at +0x00, IOWIN at +0x10). */
#include "guest.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))

uint64_t ioapic_base = IOAPIC_DEFAULT_BASE;
static int npins;

static uint32_t ioapic_read(uint32_t reg)
{
    mmio_write32(ioapic_base + IOREGSEL, reg);
    return mmio_read32(ioapic_base + IOWIN);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(ioapic_base + IOREGSEL, reg);
    mmio_write32(ioapic_base + IOWIN, v);
}

int ioapic_init(void)
{
    uint32_t ver = ioapic_read(IOAPIC_REG_VER);
    uint32_t version = ver & 0xFF, maxredir = (ver >> 16) & 0xFF;
    /* 82093AA is 0x11, KVM/QEMU report 0x11 or 0x20; a hole reads 0 or ~0. */
    if (version < 0x10 || version > 0x2F || maxredir < 15 || maxredir > 239) {
        npins = 0;
        return 0;
    }
    npins = (int)maxredir + 1;
    for (int pin = 0; pin < npins; pin++)
        ioapic_mask(pin);
    return 1;
}

int ioapic_pins(void) { return npins; }

void ioapic_route(int pin, uint8_t vector, uint8_t dest_apic, int level, int active_low)
{
    uint32_t lo = vector; /* fixed delivery, physical destination */
    if (active_low)
        lo |= 1u << 13;
    if (level)
        lo |= 1u << 15;
    ioapic_write(IOAPIC_REDTBL(pin) + 1, (uint32_t)dest_apic << 24);
    ioapic_write(IOAPIC_REDTBL(pin), lo);
}

void ioapic_mask(int pin)
{
    ioapic_write(IOAPIC_REDTBL(pin), 1u << 16);
}
