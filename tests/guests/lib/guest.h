/*
 * Platform test-guest kit: shared declarations.
 *
 * Every guest is a PVH ELF kernel loaded at 1 MiB. lib/start.S switches to long
 * mode, lib/main.c initialises serial, command line and IDT, prints
 * "PLATFORM-TEST <name> START" and calls the guest's main(). The guest stays at
 * CPL 0 and never uses int n, syscall, int3 or SSE (see README.md for why).
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define NORETURN __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Each guest defines this, e.g. const char guest_name[] = "hello"; */
extern const char guest_name[];
/* Each guest defines main(); returning 0 passes, anything else fails. */
int main(void);

/* ---- selectors (lib/start.S builds the GDT) ---- */
#define GDT_CODE32 0x08
#define GDT_DATA 0x10
#define GDT_CODE64 0x18

/* ---- port I/O, MMIO, CPU helpers ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* Pointer to a physical address (identity mapped). The asm hides the constant
 * from gcc, which otherwise warns about dereferencing addresses below 4 KiB. */
static inline void *phys_ptr(uint64_t paddr)
{
    uintptr_t p = (uintptr_t)paddr;
    __asm__("" : "+r"(p));
    return (void *)p;
}
static inline uint32_t mmio_read32(uint64_t addr) { return *(volatile uint32_t *)(uintptr_t)addr; }
static inline void mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)(uintptr_t)addr = v; }
static inline uint8_t mmio_read8(uint64_t addr) { return *(volatile uint8_t *)(uintptr_t)addr; }
static inline uint16_t mmio_read16(uint64_t addr) { return *(volatile uint16_t *)(uintptr_t)addr; }
static inline void mmio_write16(uint64_t addr, uint16_t v) { *(volatile uint16_t *)(uintptr_t)addr = v; }
static inline void mmio_write8(uint64_t addr, uint8_t v) { *(volatile uint8_t *)(uintptr_t)addr = v; }

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
/* Atomically enable interrupts and wait for one (sti's shadow covers hlt). */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void cpu_pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline uint64_t read_flags(void) { uint64_t f; __asm__ volatile("pushfq; popq %0" : "=r"(f) :: "memory"); return f; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* ---- spinlock (xchg only; cmpxchg16b is not emulated under PVM) ---- */
typedef struct { volatile int locked; } spinlock_t;
static inline void spin_lock(spinlock_t *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (l->locked)
            cpu_pause();
}
static inline void spin_unlock(spinlock_t *l) { __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE); }

/* ---- string.c ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* ---- serial.c: COM1 8250/16550 ---- */
#define COM1 0x3F8
#define COM1_IRQ 4
void serial_init(void);
void serial_putc(char c);             /* raw byte, waits for THRE (bounded) */
void serial_flush(void);              /* wait for TEMT (bounded) */
int serial_getc_nowait(void);         /* -1 when no byte */
void serial_enable_rx_irq(int on);    /* IER bit 0 */

/* ---- printf.c (lines end with "\n" only) ---- */
int printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void console_break_lock(void);        /* used on the fatal path only */

/* ---- main.c: boot info, command line, ending the test ---- */
struct memmap_entry { uint64_t addr, size; uint32_t type, reserved; };
#define MEMMAP_MAX 64
struct boot_info {
    uint32_t start_info_paddr;        /* EBX at entry */
    int valid;                        /* magic 0x336ec578 seen */
    uint32_t version, flags;
    uint64_t rsdp_paddr;
    char cmdline[1024];
    uint32_t memmap_entries;          /* number copied (<= MEMMAP_MAX) */
    struct memmap_entry memmap[MEMMAP_MAX];
};
extern struct boot_info boot_info;
/* Command line: space-separated key=value words. */
int cmdline_get(const char *key, char *out, size_t outlen); /* 1 if found */
uint64_t cmdline_u64(const char *key, uint64_t def);          /* decimal or 0x hex */
int cmdline_is(const char *key, const char *value);           /* key=value present */
NORETURN void test_pass(void);
NORETURN void test_fail(const char *fmt, ...) PRINTF_LIKE(1, 2);
void i8042_reset_pulse(void);         /* write 0xFE to port 0x64 */
NORETURN void guest_halt(void);       /* cli; hlt forever */
NORETURN void guest_exit(void);       /* flush serial, reset pulse, halt */

/* ---- idt.c ---- */
struct intr_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;  /* pushed by the CPU */
};
typedef void (*intr_handler_t)(struct intr_frame *f);
void idt_init(void);                  /* build and load the IDT (BSP) */
void idt_load(void);                  /* load it (APs) */
void intr_set_handler(int vector, intr_handler_t fn);
extern volatile uint64_t intr_unexpected;

/* Vector plan */
#define VEC_PIC_BASE 0x20             /* 8259 IRQ n -> 0x20 + n */
#define VEC_IOAPIC_BASE 0x30          /* IOAPIC pin n -> 0x30 + n (n < 24) */
#define VEC_TEST 0x60                 /* free for guests (0x60-0xDF) */
#define VEC_VIRTIO_BASE 0x70          /* lib/virtio.c: MSI-X vectors 0x70-0xBF */
#define VEC_LAPIC_TIMER 0xEF
#define VEC_SPURIOUS 0xFF

/* ---- pic.c: 8259 pair ----
 * Call pic_init() before any sti: SeaBIOS leaves the 8259 at vectors 0x08-0x0F
 * with the PIT's IRQ 0 unmasked and LINT0 = ExtINT, which would arrive as a
 * bogus "exception 8". */
void pic_init(void);                  /* remap to 0x20/0x28, mask everything */
void pic_unmask(int irq);
void pic_mask(int irq);
void pic_eoi(int irq);

/* ---- lapic.c: xAPIC ---- */
#define LAPIC_DEFAULT_BASE 0xFEE00000u
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0
extern uint64_t lapic_base;
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
void lapic_enable(void);              /* global enable in MSR, SVR enable, TPR 0 */
uint32_t lapic_id(void);
void lapic_eoi(void);
void lapic_lint0_extint(void);        /* let the 8259 through (LVT0 = ExtINT) */
int lapic_send_ipi(uint32_t dest, uint32_t icr_lo); /* 0 when delivered */
void lapic_timer_oneshot(uint8_t vector, uint32_t count); /* divide by 16 */
void lapic_timer_stop(void);
#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_ASSERT 0x00004000u
#define ICR_ALL_BUT_SELF 0x000C0000u
#define ICR_SELF 0x00040000u
#define ICR_BUSY 0x00001000u

/* ---- ioapic.c ---- */
#define IOAPIC_DEFAULT_BASE 0xFEC00000u
extern uint64_t ioapic_base;
int ioapic_init(void);                /* 1 if an IOAPIC answers; masks all pins */
int ioapic_pins(void);
void ioapic_route(int pin, uint8_t vector, uint8_t dest_apic, int level, int active_low);
void ioapic_mask(int pin);

/* ---- pit.c: 8254 ---- */
#define PIT_HZ 1193182u
void pit_periodic(uint32_t hz);       /* channel 0, mode 2, interrupts */
/* A polled clock on channel 0 (mode 2, count 65536). Poll at least every 50 ms. */
void pit_clock_start(void);
uint64_t pit_clock_us(void);          /* microseconds since pit_clock_start */
void delay_us(uint64_t us);           /* busy wait on the polled clock */
struct deadline { uint64_t end_us; uint32_t stuck; uint16_t last; };
/* TSC: calibrated against the PIT (about 50 ms), then read without exits. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
extern uint64_t tsc_hz;               /* 0 until tsc_calibrate() */
uint64_t tsc_calibrate(void);         /* starts the PIT clock; returns tsc_hz */
uint64_t tsc_us(uint64_t ticks);      /* TSC ticks -> microseconds */
void deadline_set(struct deadline *d, uint64_t ms);
int deadline_passed(struct deadline *d); /* also true if the PIT never moves */

/* ---- mptable.c: Intel MP 1.4 floating pointer + config table ---- */
#define MP_MAX_CPUS 64
struct mp_info {
    int found;
    uint64_t fps_addr, table_addr;
    int ncpus;                        /* enabled processor entries */
    uint8_t apic_ids[MP_MAX_CPUS];
    int bsp_index;
    uint64_t lapic_addr;
    int nioapics;
    uint8_t ioapic_id;
    uint64_t ioapic_addr;
    int isa_bus;                      /* bus id of "ISA", -1 if none */
    int16_t isa_irq_pin[16];          /* ISA IRQ -> IOAPIC pin, -1 if no entry */
    int pci_bus;                      /* bus id of "PCI" (the first one), -1 if none */
    int npci_irqs;                    /* PCI INTx entries on that bus */
    struct { uint8_t dev, pin, ioapic_pin, flags; } pci_irq[32]; /* pin 1 = INTA */
};
extern struct mp_info mp_info;
int mp_scan(void);                    /* fills mp_info, returns mp_info.found */

/* ---- acpi.c ---- */
/* Enabled CPUs in the ACPI MADT, -1 when there is no RSDP/MADT. */
int acpi_madt_cpus(uint64_t *madt_addr);
uint64_t acpi_find_table(const char *sig);  /* a listed table by signature, checksummed; 0 when none */

/* ---- ap.c: application processors ---- */
#define AP_TRAMPOLINE 0x8000u         /* real-mode trampoline page (SIPI vector 0x08) */
#define AP_MAX 31                     /* APs with a stack; more CPUs park */
typedef void (*ap_fn_t)(void);
/* Copy the trampoline, send INIT-SIPI-SIPI to all but self; each AP runs fn. */
void ap_start_all(ap_fn_t fn);

/* ---- cmos ---- */
static inline uint8_t cmos_read(uint8_t reg) { outb(0x70, reg); return inb(0x71); }

#endif
