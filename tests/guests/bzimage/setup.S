/*
 * The bzImage test guest's first 0xA00 bytes: a boot sector holding the start of the setup header, then four setup
 * sectors (setup_sects = 4) of 16-bit code, laid out as a Linux bzImage (Documentation/arch/x86/boot.rst).
 *
 * Loaders that enter the 64-bit entry (ours) read only the header. Loaders that run the real-mode setup code (QEMU
 * -kernel: SeaBIOS's linuxboot option ROM jumps to base segment + 0x20 : 0) get what Linux's own setup code does,
 * kept to the parts the dump compares: the zero page is built here at base + 0x1000 from the header the loader wrote
 * (copied as Linux's copy_boot_params does) and the BIOS's E820 map (int 15h, as detect_memory_e820), then the CPU goes
 * to 32-bit protected mode with __BOOT_CS/__BOOT_DS and jumps to code32_start with %esi = the zero page.
 */
#define ZERO_PAGE 0x1000        /* offset of the zero page this code builds, inside the setup segment */
#define E820_COUNT 0x1E8
#define E820_TABLE 0x2D0
#define E820_MAX 128
#define SMAP 0x534D4150
#define BOOT_CS 0x10
#define BOOT_DS 0x18

    .section .setup, "ax"
    .code16
    .globl setup_start
setup_start:
    /* A boot sector nobody runs: a BIOS booting the file from a disk gets a halt. */
    cli
1:  hlt
    jmp 1b

    .org 0x1F1
setup_sects:        .byte 4
root_flags:         .word 0
syssize:            .long __bz_syssize          /* protected-mode size in 16-byte units (bzimage.ld) */
ram_size:           .word 0
vid_mode:           .word 0xFFFF                /* "normal": no mode change asked */
root_dev:           .word 0
boot_flag:          .word 0xAA55
    /* 0x200: the real-mode entry. Its displacement byte (0x201) also gives the header's length: it ends where
     * start_of_setup begins. */
    .byte 0xEB, start_of_setup - 1f
1:
header:             .ascii "HdrS"
version:            .word 0x020F                /* boot protocol 2.15, as current kernels */
realmode_swtch:     .long 0
start_sys_seg:      .word 0x1000
kernel_version:     .word 0
type_of_loader:     .byte 0
loadflags:          .byte 0x01                  /* LOADED_HIGH: the protected-mode code runs at 1 MiB */
setup_move_size:    .word 0x8000
code32_start:       .long 0x100000
ramdisk_image:      .long 0
ramdisk_size:       .long 0
bootsect_kludge:    .long 0
heap_end_ptr:       .word 0
ext_loader_ver:     .byte 0
ext_loader_type:    .byte 0
cmd_line_ptr:       .long 0
initrd_addr_max:    .long 0x7FFFFFFF            /* as x86-64 kernels */
kernel_alignment:   .long 0x200000
relocatable_kernel: .byte 0                     /* runs where it is linked: 1 MiB = pref_address */
min_alignment:      .byte 21
xloadflags:         .word 0x0001                /* XLF_KERNEL_64: startup_64 at load address + 0x200 */
cmdline_size:       .long 2047
hardware_subarch:   .long 0
hardware_subarch_data: .quad 0
payload_offset:     .long 0
payload_length:     .long 0
setup_data:         .quad 0
pref_address:       .quad 0x100000
init_size:          .long __bz_init_size        /* memory from 1 MiB the kernel needs: image, .bss, page tables, stack */
handover_offset:    .long 0
kernel_info_offset: .long 0

start_of_setup:
    /* CS = base + 0x20; make CS = DS (the base segment) so offsets in this file work for code and data alike. */
    pushw %ds
    pushw $2f
    lretw
2:  cli
    cld
    movw %ds, %ax
    movw %ax, %es
    movw %ax, %ss
    movw $0xFE00, %sp           /* the loader's heap_end_ptr; below the command line at base + 0x10000 */

    /* Zero page: cleared, then the setup header as the loader left it (0x1F1 up to the header's end). */
    movw $ZERO_PAGE, %di
    movw $2048, %cx
    xorw %ax, %ax
    rep stosw
    movw $0x1F1, %si
    movw $(ZERO_PAGE + 0x1F1), %di
    movw $(start_of_setup - 0x1F1), %cx
    rep movsb

    /* E820 through int 15h, entry by entry, straight into the zero page's table. */
    xorl %ebx, %ebx
    movw $(ZERO_PAGE + E820_TABLE), %di
    xorw %bp, %bp
3:  movl $0xE820, %eax
    movl $SMAP, %edx
    movl $20, %ecx
    int $0x15
    jc 4f
    cmpl $SMAP, %eax
    jne 4f
    addw $20, %di
    incw %bp
    cmpw $E820_MAX, %bp
    jae 4f
    testl %ebx, %ebx
    jnz 3b
4:  movw %bp, %ax
    movb %al, (ZERO_PAGE + E820_COUNT)

    /* A20 through the fast gate (port 0x92 bit 1; bit 0 would reset). */
    inb $0x92, %al
    orb $0x02, %al
    andb $0xFE, %al
    outb %al, $0x92

    /* Linear addresses: this segment's base, the GDT, the zero page (for %esi) and code32_start for the jump. */
    xorl %ebx, %ebx
    movw %ds, %bx
    shll $4, %ebx
    leal boot_gdt(%ebx), %eax
    movl %eax, (boot_gdt_desc + 2)
    movl (code32_start), %eax
    movl %eax, (pm_jump)
    leal ZERO_PAGE(%ebx), %esi
    lgdtl boot_gdt_desc

    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    movw $BOOT_DS, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    ljmpl *%cs:pm_jump

    .balign 8
boot_gdt:
    .quad 0
    .quad 0
    .quad 0x00CF9B000000FFFF    /* 0x10 __BOOT_CS: 32-bit code, flat */
    .quad 0x00CF93000000FFFF    /* 0x18 __BOOT_DS: data, flat */
boot_gdt_desc:
    .word boot_gdt_desc - boot_gdt - 1
    .long 0
pm_jump:
    .long 0
    .word BOOT_CS
