/*
 * trap: checks that exceptions and interrupts reach the IDT: #UD (ud2),
 * #DE (div by zero), #PF (read at 4 GiB, beyond the identity map, checks CR2
 * and the error code) and a LAPIC self-IPI (vector 0x60, sti; hlt). Each
 * handler skips the 2-byte faulting instruction.
 */
#include "guest.h"

const char guest_name[] = "trap";

extern char trap_ud_at[], trap_de_at[], trap_pf_at[];
static volatile uint64_t seen_rip[3], seen_err, seen_cr2, ipis;

static void on_exception(struct intr_frame *f)
{
    int i = f->vector == 6 ? 0 : f->vector == 0 ? 1 : 2;
    seen_rip[i] = f->rip;
    if (f->vector == 14) {
        seen_err = f->error;
        seen_cr2 = read_cr2();
    }
    f->rip += 2;
}

static void on_ipi(struct intr_frame *f)
{
    (void)f;
    ipis++;
    lapic_eoi();
}

int main(void)
{
    intr_set_handler(6, on_exception);
    intr_set_handler(0, on_exception);
    intr_set_handler(14, on_exception);

    __asm__ volatile(".globl trap_ud_at\ntrap_ud_at: ud2" ::: "memory");
    printf("trap: #UD at 0x%lx (expected 0x%lx)\n", seen_rip[0], (uint64_t)(uintptr_t)trap_ud_at);

    __asm__ volatile(".globl trap_de_at\ntrap_de_at: divl %%ecx" : : "a"(1), "d"(0), "c"(0) : "memory", "cc");
    printf("trap: #DE at 0x%lx (expected 0x%lx)\n", seen_rip[1], (uint64_t)(uintptr_t)trap_de_at);

    __asm__ volatile(".globl trap_pf_at\ntrap_pf_at: movl (%%rax), %%ecx"
                     : : "a"(0x100000000ull) : "rcx", "memory");
    printf("trap: #PF at 0x%lx (expected 0x%lx) cr2=0x%lx error=0x%lx\n", seen_rip[2],
           (uint64_t)(uintptr_t)trap_pf_at, seen_cr2, seen_err);

    pic_init(); /* firmware may leave the 8259 at vector 0x08 with IRQ 0 open */
    lapic_enable();
    intr_set_handler(VEC_TEST, on_ipi);
    lapic_send_ipi(0, ICR_SELF | ICR_ASSERT | VEC_TEST);
    for (int i = 0; i < 100 && !ipis; i++)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    printf("trap: self-IPI vector 0x%x delivered %lu time(s)\n", VEC_TEST, (uint64_t)ipis);

    if (seen_rip[0] != (uint64_t)(uintptr_t)trap_ud_at)
        test_fail("#UD not delivered");
    if (seen_rip[1] != (uint64_t)(uintptr_t)trap_de_at)
        test_fail("#DE not delivered");
    if (seen_rip[2] != (uint64_t)(uintptr_t)trap_pf_at || seen_cr2 != 0x100000000ull || (seen_err & 3) != 0)
        test_fail("#PF not delivered as expected");
    if (ipis != 1)
        test_fail("self-IPI delivered %lu times", (uint64_t)ipis);
    return 0;
}
