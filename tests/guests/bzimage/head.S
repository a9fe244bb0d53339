/*
 * The bzImage test guest's protected-mode entries, loaded at 1 MiB (code32_start):
 *   startup_32 at load address + 0:     from real-mode setup code (QEMU); 32-bit flat, %esi = zero page.
 *   startup_64 at load address + 0x200: the 64-bit boot protocol (ours); long mode, %rsi = zero page.
 * Each goes to bz_main(zero_page, entry) on its own stack. Both build identity page tables over 0-4 GiB (2 MiB
 * pages), so the dump can read an initrd wherever below 4 GiB a loader put it, as Linux builds its own tables at
 * once; the 64-bit path only relies on the loader's tables to reach this code, the zero page and the command line.
 */
#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
#define CR4_PAE 0x20
#define CR0_PG 0x80000000
#define STACK_SIZE 16384

/* pml4 -> pdpt -> 4 page directories of 2 MiB pages; the same bytes assemble as 32- and 64-bit code. */
.macro BUILD_IDENTITY_MAP
    movl $pml4, %edi
    movl $(6 * 4096 / 4), %ecx
    xorl %eax, %eax
    rep stosl
    movl $(pdpt + 3), pml4
    movl $pdpt, %edi
    movl $(pd + 3), %eax
    movl $4, %ecx
1:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    decl %ecx
    jnz 1b
    movl $pd, %edi
    movl $0x83, %eax
    movl $2048, %ecx
2:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    decl %ecx
    jnz 2b
.endm

    .section .head, "ax"
    .code32
    .globl startup_32
startup_32:
    cli
    cld
    movl %esi, %ebp             /* the zero page; rep stos needs %edi, %ecx, %eax */
    BUILD_IDENTITY_MAP
    lgdt gdt_desc
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
    orl $CR0_PG, %eax
    movl %eax, %cr0
    ljmp $BOOT_CS, $from_32

    .org 0x200
    .code64
    .globl startup_64
startup_64:
    cli
    cld
    movl %esi, %ebp             /* the zero page (the loader put it below 4 GiB) */
    BUILD_IDENTITY_MAP
    movl $pml4, %eax
    movq %rax, %cr3
    movl $64, %esi
    jmp common_64

from_32:
    movl $32, %esi
common_64:
    movw $BOOT_DS, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq $stack_top, %rsp
    /* .bss is ours to clear: loaders copy only the file (init_size tells them how much room to leave). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl %ebp, %edi
    call bz_main
3:  cli
    hlt
    jmp 3b

    .section .data
    .balign 8
gdt:
    .quad 0
    .quad 0
    .quad 0x00AF9B000000FFFF    /* 0x10 __BOOT_CS: 64-bit code */
    .quad 0x00CF93000000FFFF    /* 0x18 __BOOT_DS */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .quad gdt

    .section .noinit, "aw", @nobits
    .balign 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4 * 4096
stack:  .skip STACK_SIZE
stack_top:

    .section .note.GNU-stack, "", @progbits
