/*
 * PVH entry for the Platform test guests.
 *
 * Entry contract (Xen PVH, as QEMU implements it and the platform loads it): 32-bit protected
 * mode, paging off, flat CS/DS/ES, no usable stack, EBX = physical address of
 * struct hvm_start_info. We build a GDT, identity page tables (2 MiB pages over
 * the first 4 GiB), enable PAE + LME + PG, far-jump to 64-bit code, set a
 * stack and call guest_start(ebx) in C. The guest stays at CPL 0.
 *
 * The AP trampoline (copied to AP_TRAMPOLINE = 0x8000) goes real mode ->
 * protected mode -> long mode with the same page tables and enters ap_start64.
 */
#define GDT_CODE32 0x08
#define GDT_DATA   0x10
#define GDT_CODE64 0x18
#define AP_TRAMPOLINE 0x8000
#define AP_MAX 31
#define AP_STACK_SHIFT 13           /* 8 KiB per AP */
#define BOOT_STACK_SIZE 16384

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
#define CR4_PAE 0x20
#define CR0_PE 0x1
#define CR0_PG 0x80000000

/* PAE, CR3 = pml4, EFER.LME, then PG: used by the BSP and the AP trampoline. */
.macro ENTER_LONG_MODE
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $(CR0_PG | CR0_PE), %eax
    movl %eax, %cr0
.endm

/*
 * PVH note: name "Xen", type 18, a 4-byte 32-bit physical entry address.
 * QEMU (hw/i386/x86.c read_pvh_start_addr) reads the descriptor of an ELF64
 * note as 8 bytes, so the note is followed by an empty note (namesz = descsz =
 * type = 0): its zero namesz is the high half QEMU reads, and note parsers
 * still see well-formed notes. The section is 4-aligned (QEMU aligns namesz to
 * the PT_NOTE's p_align).
 */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                         /* namesz: "Xen\0" */
    .long 4                         /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long pvh_start32
    .long 0, 0, 0                   /* empty note, see above */

/* ------------------------------------------------------------------------ */
    .section .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    movl %ebx, pvh_start_info       /* .data, survives the .bss clear */
    lgdt gdt_desc
    ljmp $GDT_CODE32, $1f
1:
    movw $GDT_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $boot_stack_top, %esp

    /* Clear .bss (small; stacks and page tables live in .noinit). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    /* PML4 and PDPT: zero both pages (they are adjacent). */
    movl $pml4, %edi
    movl $2048, %ecx
    xorl %eax, %eax
    rep stosl
    movl $pdpt, %eax
    orl $3, %eax                    /* present, writable */
    movl %eax, pml4

    /* PDPT[0..3] -> four page directories. */
    movl $pdpt, %edi
    movl $pd, %eax
    orl $3, %eax
    movl $4, %ecx
2:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    decl %ecx
    jnz 2b

    /* 2048 x 2 MiB identity pages = 0 .. 4 GiB (present, writable, PS). */
    movl $pd, %edi
    movl $0x83, %eax
    movl $2048, %ecx
3:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x200000, %eax
    addl $8, %edi
    decl %ecx
    jnz 3b

    ENTER_LONG_MODE
    ljmp $GDT_CODE64, $start64

    .code64
start64:
    movw $GDT_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    movl pvh_start_info, %edi
    call guest_start
4:  cli
    hlt
    jmp 4b

/* APs arrive here from the trampoline, in long mode on the kernel GDT. */
    .globl ap_start64
ap_start64:
    movw $GDT_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $1, %eax
    lock xaddl %eax, ap_stack_next  /* eax = this AP's index */
    cmpl $AP_MAX, %eax
    jae 5f                          /* no stack for it: park */
    incl %eax
    shll $AP_STACK_SHIFT, %eax
    addq $ap_stacks, %rax
    movq %rax, %rsp
    xorl %ebp, %ebp
    call ap_main
5:  cli
    hlt
    jmp 5b

/* ------------------------------------------------------------------------ */
/* Real-mode AP trampoline, position independent apart from AP_TRAMPOLINE.   */
    .section .rodata.ap_trampoline, "a"
    .code16
    .globl ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
    cli
    cld
    movw %cs, %ax                   /* CS = AP_TRAMPOLINE >> 4 */
    movw %ax, %ds
    lgdtl ap_trampoline_gdtr - ap_trampoline_start
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl $GDT_CODE32, $(AP_TRAMPOLINE + ap_trampoline32 - ap_trampoline_start)
    .code32
ap_trampoline32:
    movw $GDT_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    ENTER_LONG_MODE
    ljmp $GDT_CODE64, $ap_start64
    .balign 8
ap_trampoline_gdtr:
    .word gdt_end - gdt - 1
    .long gdt
ap_trampoline_end:

/* ------------------------------------------------------------------------ */
    .section .data
    .balign 16
    .globl gdt, gdt_end, gdt_desc
gdt:
    .quad 0
    .quad 0x00cf9b000000ffff        /* 0x08: 32-bit code, flat */
    .quad 0x00cf93000000ffff        /* 0x10: data, flat */
    .quad 0x00af9b000000ffff        /* 0x18: 64-bit code */
gdt_end:
    .balign 8
gdt_desc:
    .word gdt_end - gdt - 1
    .quad gdt
    .globl pvh_start_info
pvh_start_info:
    .long 0
    .globl ap_stack_next
ap_stack_next:
    .long 0

/* Not cleared at boot: written before use. */
    .section .noinit, "aw", @nobits
    .balign 4096
    .globl pml4, pdpt, pd
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4 * 4096
    .balign 16
boot_stack:
    .skip BOOT_STACK_SIZE
boot_stack_top:
    .globl ap_stacks
ap_stacks:                          /* AP i uses [ap_stacks + i*8K, + (i+1)*8K) */
    .skip AP_MAX << AP_STACK_SHIFT

    .section .note.GNU-stack, "", @progbits
