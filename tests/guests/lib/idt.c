/*
 * IDT with 64-bit interrupt gates for all 256 vectors (stubs in isr.S).
 * Exceptions without a handler end the test: the vector, error code and RIP go
 * to serial and the guest FAILs. Other vectors call their handler, if any;
 * unexpected ones are counted, acknowledged and reported once.
 */
#include "guest.h"

struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

struct idt_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern char isr_stubs[];
static struct idt_entry idt[256] __attribute__((aligned(16)));
static intr_handler_t handlers[256];
volatile uint64_t intr_unexpected;

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "RSV",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "RSV", "RSV", "RSV", "RSV", "RSV", "RSV", "#HV", "#VC", "#SX", "RSV",
};

void idt_load(void)
{
    struct idt_ptr p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(p));
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint64_t a = (uint64_t)(uintptr_t)(isr_stubs + 16 * v);
        idt[v].off_lo = (uint16_t)a;
        idt[v].sel = GDT_CODE64;
        idt[v].ist = 0;
        idt[v].type = 0x8E; /* present, DPL 0, 64-bit interrupt gate */
        idt[v].off_mid = (uint16_t)(a >> 16);
        idt[v].off_hi = (uint32_t)(a >> 32);
        idt[v].zero = 0;
    }
    idt_load();
}

void intr_set_handler(int vector, intr_handler_t fn)
{
    handlers[vector & 0xFF] = fn;
}

void isr_dispatch(struct intr_frame *f)
{
    unsigned v = (unsigned)f->vector;
    if (handlers[v]) {
        handlers[v](f);
        return;
    }
    if (v < 32) {
        console_break_lock();
        printf("exception %u %s error=0x%lx rip=0x%lx cs=0x%lx rflags=0x%lx rsp=0x%lx cr2=0x%lx\n", v,
               exc_names[v], f->error, f->rip, f->cs, f->rflags, f->rsp, read_cr2());
        test_fail("exception %u %s error=0x%lx rip=0x%lx", v, exc_names[v], f->error, f->rip);
    }
    if (v == VEC_SPURIOUS || v == VEC_PIC_BASE + 7 || v == VEC_PIC_BASE + 15)
        return; /* spurious: no EOI */
    if (intr_unexpected++ == 0)
        printf("note: unexpected interrupt vector 0x%x\n", v);
    if (v >= VEC_PIC_BASE && v < VEC_PIC_BASE + 16)
        pic_eoi(v - VEC_PIC_BASE);
    else
        lapic_eoi();
}
