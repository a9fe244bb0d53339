/*
 * intx: a disk boot sector that takes a PCI device's INTx through the 8259, as DOS or a kernel booted with noapic does
 * after the BIOS: the IRQ is the one the firmware wrote into the device's interrupt line register, which the chipset
 * delivers because the PIIX3's PIRQ route register for the device's pin names it. Reported on COM1.
 *
 * Boot it from a SATA disk on the AHCI controller (port 0): the AHCI function is the interrupt source.
 * Sector 0 (at 0000:7C00) prints START, reads sectors 1-8 to 0000:7E00 with an int 13h extended read and jumps there.
 * The second stage goes to 32-bit flat protected mode (interrupts off) and:
 *   - finds the AHCI function on bus 0 (class 01:06:01), reads its interrupt pin and line, swizzles slot and pin to a
 *     PIRQ as the i440FX board does ((slot + pin - 2) mod 4) and checks that the PIIX3's route register (00:01.0,
 *     0x60 + PIRQ) names the interrupt line's IRQ;
 *   - programs the 8259s (ICW1-4: vectors 0x20 and 0x28, everything masked), sets the IRQ level-triggered in the ELCR
 *     as a PCI IRQ must be, and points IVT entries 0x20-0x2F at two handlers: the IRQ's own and a catch-all;
 *   - makes the port interrupt: GHC.IE, FIS receive off, a COMRESET (PxSCTL.DET 1 then 0), FIS receive on at its own
 *     buffer (the device's first D2H FIS sets PxIS.DHRS), then PxIE.DHRE; checks the IRQ is clear in the 8259's IRR
 *     before PxIE and set after it (OCW3 read);
 *   - re-routes the PIRQ to IRQ 5 while the line is asserted (the IRR shows 5, and the level IRQ drops) and back;
 *   - unmasks the IRQ, returns to real mode, enables interrupts and waits for the handler (which masks the 8259s and
 *     sends EOI), then in protected mode again checks that the interrupt came on vector 0x20 + IRQ and no other;
 *   - clears PxIS.DHRS and checks the IRQ drops out of the IRR; prints PASS and pulses the i8042 reset line.
 *
 * COM1 lines end with \n only, after an empty line (the kit's contract). Assembled with `as --32`, linked flat at 0x7C00.
 */
    .code16
    .text
    .globl _start

    .equ    COM1, 0x3F8
    .equ    LSR, COM1 + 5
    .equ    LSR_THRE, 0x20
    .equ    LSR_TEMT, 0x40
    .equ    STAGE2, 0x7E00
    .equ    STAGE2_SECTORS, 8
    .equ    FIS_AREA, 0x9000            /* 256-byte aligned, below the EBDA */
    .equ    COMMAND_LIST, 0x9400        /* 1 KiB aligned */
    .equ    VECTOR_BASE, 0x20           /* master 0x20-0x27, slave 0x28-0x2F */
    .equ    REROUTE_IRQ, 5
    .equ    PIIX3_ROUTES, 0x80000860    /* 00:01.0 register 0x60 */
    .equ    GHC_AE_IE, 0x80000002
    .equ    PORT0, 0x100
    .equ    PXCLB, 0x00
    .equ    PXFB, 0x08
    .equ    PXIS, 0x10
    .equ    PXIE, 0x14
    .equ    PXCMD, 0x18
    .equ    PXSCTL, 0x2C
    .equ    PXSERR, 0x30
    .equ    CMD_ST_FRE, 0x11
    .equ    CMD_FRE, 0x10
    .equ    CMD_CR_FR, 0xC000
    .equ    IS_DHRS, 0x01

_start:
    cli
    xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    $0x7C00, %sp
    ljmp    $0, $normalized
normalized:
    cld
    movb    %dl, boot_drive
    movw    $msg_start, %si
    call    puts16
    movw    $dap, %si                   /* extended read: the second stage to 0000:7E00 */
    movb    $0x42, %ah
    movb    boot_drive, %dl
    int     $0x13
    jc      read_failed
    cmpl    $0x32474B53, stage2_magic   /* "SKG2" */
    jne     read_failed
    jmp     stage2
read_failed:
    movw    $msg_read_failed, %si
    call    puts16
1:  hlt
    jmp     1b

/* puts16: the NUL-terminated string at SI on COM1 (real mode; interrupts off, so it polls). */
puts16:
    lodsb
    testb   %al, %al
    jz      2f
    movb    %al, %ah
    movw    $LSR, %dx
1:  inb     %dx, %al
    testb   $LSR_THRE, %al
    jz      1b
    movb    %ah, %al
    movw    $COM1, %dx
    outb    %al, %dx
    jmp     puts16
2:  ret

boot_drive: .byte 0
dap:
    .byte   16, 0
    .word   STAGE2_SECTORS
    .word   STAGE2, 0
    .quad   1

msg_start:        .asciz "\nPLATFORM-TEST intx START\n"
msg_read_failed:  .asciz "PLATFORM-TEST intx FAIL int 13h extended read failed\n"

    .org    510
    .word   0xAA55

/* ---- sectors 1-8: the second stage, at 0000:7E00 ---- */
stage2_magic:
    .long   0x32474B53
stage2:
    cli
    lgdtl   gdt_desc
    movl    %cr0, %eax
    orl     $1, %eax
    movl    %eax, %cr0
    ljmpl   $0x08, $pm32

    .code32
pm32:
    movw    $0x10, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    %ax, %fs
    movw    %ax, %gs
    movl    $0x7C00, %esp

    /* The AHCI function: the first on bus 0 with class 01:06:01. */
    xorl    %ebx, %ebx
1:  movl    %ebx, %eax
    shll    $11, %eax
    orl     $0x80000008, %eax
    call    pci_read
    shrl    $8, %eax
    cmpl    $0x010601, %eax
    je      2f
    incl    %ebx
    cmpl    $32, %ebx
    jb      1b
    movl    $msg_no_ahci, %esi
    jmp     fail
2:  movl    %ebx, slot
    shll    $11, %ebx
    orl     $0x80000000, %ebx
    movl    %ebx, pci_address
    leal    0x3C(%ebx), %eax
    call    pci_read
    movzbl  %al, %ecx
    movl    %ecx, irq
    movzbl  %ah, %ecx
    movl    %ecx, pin
    leal    0x24(%ebx), %eax            /* BAR 5: ABAR */
    call    pci_read
    andl    $0xFFFFFFF0, %eax
    movl    %eax, abar
    leal    0x04(%ebx), %eax            /* memory decoding and bus mastering on */
    movw    $0xCF8, %dx
    outl    %eax, %dx
    movw    $0xCFC, %dx
    inw     %dx, %ax
    orw     $0x06, %ax
    outw    %ax, %dx

    movl    $msg_found, %esi
    call    puts
    movl    slot, %eax
    call    dec32
    movl    $msg_pin, %esi
    call    puts
    movl    pin, %eax
    call    dec32
    movl    $msg_line, %esi
    call    puts
    movl    irq, %eax
    call    dec32
    call    newline
    cmpl    $1, pin
    jb      no_pin
    cmpl    $4, pin
    ja      no_pin
    cmpl    $15, irq
    ja      no_line
    cmpl    $2, irq
    je      no_line

    /* The board's swizzle, and the PIIX3's route for that PIRQ. */
    movl    slot, %eax
    addl    pin, %eax
    subl    $2, %eax
    andl    $3, %eax
    movl    %eax, pirq
    call    read_route
    movl    %eax, route
    movl    $msg_pirq, %esi
    call    puts
    movl    pirq, %eax
    addb    $'A', %al
    call    putc
    movl    $msg_route, %esi
    call    puts
    movl    pirq, %eax
    addl    $0x60, %eax
    call    hex8
    movl    $msg_is, %esi
    call    puts
    movl    route, %eax
    call    hex8
    call    newline
    movl    route, %eax
    cmpl    irq, %eax
    jne     route_mismatch

    /* The 8259s: vectors 0x20/0x28, all masked; the IRQ level-triggered (ELCR). */
    movb    $0x11, %al
    outb    %al, $0x20
    outb    %al, $0xA0
    movb    $VECTOR_BASE, %al
    outb    %al, $0x21
    movb    $VECTOR_BASE + 8, %al
    outb    %al, $0xA1
    movb    $0x04, %al
    outb    %al, $0x21
    movb    $0x02, %al
    outb    %al, $0xA1
    movb    $0x01, %al
    outb    %al, $0x21
    outb    %al, $0xA1
    movb    $0xFF, %al
    outb    %al, $0x21
    outb    %al, $0xA1
    movw    $0x4D0, %dx
    inb     %dx, %al
    movb    %al, %cl
    incw    %dx
    inb     %dx, %al
    movb    %al, %ch
    movzwl  %cx, %eax
    movl    %eax, elcr
    movl    irq, %ecx
    movl    $1, %eax
    shll    %cl, %eax
    movl    %eax, irq_bit
    orl     elcr, %eax
    movw    $0x4D0, %dx
    outb    %al, %dx
    incw    %dx
    movb    %ah, %al
    outb    %al, %dx
    movl    $msg_elcr, %esi
    call    puts
    movl    elcr, %eax
    shll    $16, %eax
    movl    $4, %ecx
    call    hexn
    call    newline

    /* IVT 0x20-0x2F: the catch-all, then the IRQ's own vector. */
    movl    $VECTOR_BASE, %ecx
1:  movw    $other_handler, (,%ecx,4)
    movw    $0, 2(,%ecx,4)
    incl    %ecx
    cmpl    $VECTOR_BASE + 16, %ecx
    jb      1b
    movl    irq, %ecx
    movw    $irq_handler, VECTOR_BASE*4(,%ecx,4)

    /* The port's interrupt: a COMRESET, then the device's first D2H FIS once FIS receive is on. */
    movl    abar, %edi
    movl    $GHC_AE_IE, 4(%edi)
    leal    PORT0(%edi), %esi
    movl    $0, PXIE(%esi)
    movl    PXCMD(%esi), %eax
    andl    $~CMD_ST_FRE, %eax
    movl    %eax, PXCMD(%esi)
    movl    $0x100000, %ecx
1:  testl   $CMD_CR_FR, PXCMD(%esi)
    jz      2f
    loop    1b
    pushl   $msg_port_busy
    jmp     fail_pop
2:  movl    $FIS_AREA, PXFB(%esi)
    movl    $0, PXFB + 4(%esi)
    movl    $COMMAND_LIST, PXCLB(%esi)
    movl    $0, PXCLB + 4(%esi)
    movl    $1, PXSCTL(%esi)
    movl    $1000, %ecx
1:  inb     $0x61, %al
    loop    1b
    movl    $0, PXSCTL(%esi)
    movl    $0xFFFFFFFF, PXSERR(%esi)
    movl    $0xFFFFFFFF, PXIS(%esi)
    orl     $CMD_FRE, PXCMD(%esi)
    movl    $0x100000, %ecx
1:  testl   $IS_DHRS, PXIS(%esi)
    jnz     2f
    loop    1b
    pushl   $msg_no_d2h
    jmp     fail_pop
2:  call    read_irr
    testl   irq_bit, %eax
    jnz     irr_early
    movl    abar, %edi
    movl    $IS_DHRS, PORT0 + PXIE(%edi)
    movl    $msg_pxis, %esi
    call    puts
    movl    abar, %edi
    movl    PORT0 + PXIS(%edi), %eax
    call    hex32
    call    newline
    call    read_irr
    testl   irq_bit, %eax
    jz      irr_missing
    movl    $msg_irr, %esi
    call    puts
    movl    irq, %eax
    call    dec32
    call    newline

    /* While the line is up: the PIRQ moves to IRQ 5 and back. */
    movl    $REROUTE_IRQ, %eax
    call    write_route
    call    read_irr
    testl   $1 << REROUTE_IRQ, %eax
    jz      reroute_missing
    testl   irq_bit, %eax
    jnz     reroute_stuck
    movl    irq, %eax
    call    write_route
    call    read_irr
    testl   irq_bit, %eax
    jz      irr_missing
    movl    $msg_rerouted, %esi
    call    puts
    movl    irq, %eax
    call    dec32
    movl    $msg_rerouted_back, %esi
    call    puts

    /* Unmask the IRQ (and the cascade), then take it in real mode. */
    movl    irq_bit, %eax
    notl    %eax
    cmpl    $8, irq
    jb      1f
    andb    $0xFB, %al                  /* the slave's IRQ 2 on the master */
1:  outb    %al, $0x21
    movb    %ah, %al
    outb    %al, $0xA1
    call    wait_in_real_mode
    cmpl    $0, other_irqs
    jne     wrong_vector
    cmpl    $0, irq_count
    je      no_interrupt
    movl    $msg_arrived, %esi
    call    puts
    movl    irq, %eax
    call    dec32
    movl    $msg_vector, %esi
    call    puts
    movl    irq, %eax
    addl    $VECTOR_BASE, %eax
    call    hex8
    call    newline

    /* The device lets go: the level IRQ leaves the IRR. */
    movl    abar, %edi
    movl    $IS_DHRS, PORT0 + PXIS(%edi)
    call    read_irr
    testl   irq_bit, %eax
    jnz     irr_stuck
    movl    $msg_dropped, %esi
    call    puts
    movl    $msg_pass, %esi
    call    puts
    jmp     finish

no_pin:
    movl    $msg_no_pin, %esi
    jmp     fail
no_line:
    movl    $msg_no_line, %esi
    jmp     fail
route_mismatch:
    movl    $msg_route_mismatch, %esi
    jmp     fail
irr_early:
    movl    $msg_irr_early, %esi
    jmp     fail
irr_missing:
    movl    $msg_irr_missing, %esi
    jmp     fail
reroute_missing:
    movl    $msg_reroute_missing, %esi
    jmp     fail
reroute_stuck:
    movl    $msg_reroute_stuck, %esi
    jmp     fail
wrong_vector:
    movl    $msg_wrong_vector, %esi
    jmp     fail
no_interrupt:
    movl    $msg_no_interrupt, %esi
    jmp     fail
irr_stuck:
    movl    $msg_irr_stuck, %esi
    jmp     fail
fail_pop:
    popl    %esi

/* fail: "PLATFORM-TEST intx FAIL " and the reason at ESI, then the reset pulse. */
fail:
    pushl   %esi
    movl    $msg_fail, %esi
    call    puts
    popl    %esi
    call    puts
finish:
    call    drain
    movl    $0xFFFF, %ecx
1:  inb     $0x64, %al
    testb   $2, %al
    loopnz  1b
    movb    $0xFE, %al
    outb    %al, $0x64
2:  hlt
    jmp     2b

/* pci_read: EAX = the dword at configuration address EAX. */
pci_read:
    movw    $0xCF8, %dx
    outl    %eax, %dx
    movw    $0xCFC, %dx
    inl     %dx, %eax
    ret

/* read_route: EAX = the PIIX3's route register for PIRQ [pirq]. write_route: sets it to AL. */
read_route:
    movl    $PIIX3_ROUTES, %eax
    call    pci_read
    movl    pirq, %ecx
    shll    $3, %ecx
    shrl    %cl, %eax
    movzbl  %al, %eax
    ret
write_route:
    pushl   %eax
    movl    $PIIX3_ROUTES, %eax
    movw    $0xCF8, %dx
    outl    %eax, %dx
    movw    $0xCFC, %dx
    addw    pirq, %dx
    popl    %eax
    outb    %al, %dx
    ret

/* read_irr: EAX = the slave's IRR << 8 | the master's (OCW3 "read IRR"). */
read_irr:
    movb    $0x0A, %al
    outb    %al, $0xA0
    inb     $0xA0, %al
    movb    %al, %ah
    movb    $0x0A, %al
    outb    %al, $0x20
    inb     $0x20, %al
    movzwl  %ax, %eax
    ret

/*
 * wait_in_real_mode: from protected mode to real mode, interrupts on until the IRQ's handler has run (or a bound of
 * about a second or two of emulated loop), interrupts off, back to protected mode. The stack stays below 64 KiB, so
 * the near call's return address is still there.
 */
wait_in_real_mode:
    ljmp    $0x18, $1f
    .code16
1:  movw    $0x20, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movl    %cr0, %eax
    andb    $0xFE, %al
    movl    %eax, %cr0
    ljmp    $0, $2f
2:  xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movl    $0x200000, %ecx
    sti
3:  cmpl    $0, irq_count
    jne     4f
    decl    %ecx
    jnz     3b
4:  cli
    movl    %cr0, %eax
    orb     $1, %al
    movl    %eax, %cr0
    ljmpl   $0x08, $5f
    .code32
5:  movw    $0x10, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    ret

    .code16
/* The IRQ's handler (real mode): counts, masks both 8259s (the level stays up until the test clears it), EOI. */
irq_handler:
    pushw   %ax
    incl    %cs:irq_count
    jmp     1f
/* Any other vector from 0x20 to 0x2F: counted as wrong. */
other_handler:
    pushw   %ax
    incl    %cs:other_irqs
1:  movb    $0xFF, %al
    outb    %al, $0x21
    outb    %al, $0xA1
    movb    $0x20, %al
    outb    %al, $0xA0
    outb    %al, $0x20
    popw    %ax
    iret
    .code32

/* drain: waits (bounded) until COM1 has sent everything. */
drain:
    movw    $LSR, %dx
    movl    $0x100000, %ecx
1:  inb     %dx, %al
    testb   $LSR_TEMT, %al
    loopz   1b
    ret

/* puts: the NUL-terminated string at ESI; putc: AL. */
puts:
    lodsb
    testb   %al, %al
    jz      1f
    call    putc
    jmp     puts
1:  ret
putc:
    pushl   %eax
    pushl   %ecx
    pushl   %edx
    movb    %al, %ah
    movw    $LSR, %dx
    movl    $0x100000, %ecx
1:  inb     %dx, %al
    testb   $LSR_THRE, %al
    loopz   1b
    movb    %ah, %al
    movw    $COM1, %dx
    outb    %al, %dx
    popl    %edx
    popl    %ecx
    popl    %eax
    ret
newline:
    movb    $0x0A, %al
    jmp     putc

/* hex32: "0x" and EAX as 8 hex digits; hex8: AL as "0x" and 2; hexn: the top ECX digits of EAX. dec32: decimal. */
hex32:
    movl    $8, %ecx
    jmp     hexn
hex8:
    shll    $24, %eax
    movl    $2, %ecx
hexn:
    pushl   %eax
    movb    $'0', %al
    call    putc
    movb    $'x', %al
    call    putc
    popl    %eax
2:  roll    $4, %eax
    pushl   %eax
    andb    $0x0F, %al
    addb    $'0', %al
    cmpb    $'9', %al
    jbe     3f
    addb    $0x27, %al
3:  call    putc
    popl    %eax
    loop    2b
    ret
dec32:
    pushl   %ebx
    movl    $10, %ebx
    xorl    %ecx, %ecx
1:  xorl    %edx, %edx
    divl    %ebx
    pushl   %edx
    incl    %ecx
    testl   %eax, %eax
    jnz     1b
2:  popl    %eax
    addb    $'0', %al
    call    putc
    loop    2b
    popl    %ebx
    ret

    .p2align 3
gdt:
    .quad   0
    .quad   0x00CF9A000000FFFF          /* 0x08: 32-bit flat code */
    .quad   0x00CF92000000FFFF          /* 0x10: flat data */
    .quad   0x00009A000000FFFF          /* 0x18: 16-bit code, base 0, 64 KiB: the way back to real mode */
    .quad   0x000092000000FFFF          /* 0x20: 16-bit data, 64 KiB limits for real mode */
gdt_desc:
    .word   gdt_desc - gdt - 1
    .long   gdt

slot:         .long 0
pci_address:  .long 0
pin:          .long 0
irq:          .long 0
irq_bit:      .long 0
pirq:         .long 0
route:        .long 0
abar:         .long 0
elcr:         .long 0
irq_count:    .long 0
other_irqs:   .long 0

msg_fail:     .asciz "PLATFORM-TEST intx FAIL "
msg_pass:     .asciz "PLATFORM-TEST intx PASS\n"
msg_found:    .asciz "intx: AHCI in slot "
msg_pin:      .asciz " pin "
msg_line:     .asciz " interrupt line "
msg_pirq:     .asciz "intx: PIRQ"
msg_route:    .asciz " route register "
msg_is:       .asciz " = "
msg_elcr:     .asciz "intx: ELCR "
msg_pxis:     .asciz "intx: port 0 PxIS "
msg_irr:      .asciz "intx: 8259 IRR shows IRQ "
msg_rerouted: .asciz "intx: rerouted to IRQ 5 while asserted: IRR 5 set, IRQ "
msg_rerouted_back: .asciz " dropped; routed back\n"
msg_arrived:  .asciz "intx: IRQ "
msg_vector:   .asciz " arrived on vector "
msg_dropped:  .asciz "intx: the IRQ left the IRR when the port's status was cleared\n"
msg_no_ahci:  .asciz "no AHCI function on bus 0\n"
msg_no_pin:   .asciz "the AHCI function has no interrupt pin\n"
msg_no_line:  .asciz "the firmware wrote no usable interrupt line\n"
msg_route_mismatch: .asciz "the PIIX3 routes the pin's PIRQ elsewhere than the interrupt line says\n"
msg_port_busy: .asciz "port 0 did not stop\n"
msg_no_d2h:   .asciz "no D2H FIS after the COMRESET\n"
msg_irr_early: .asciz "the IRQ was in the IRR before the port's interrupt was enabled\n"
msg_irr_missing: .asciz "the port's interrupt did not reach the 8259's IRR\n"
msg_reroute_missing: .asciz "after rerouting the PIRQ, IRQ 5 did not rise\n"
msg_reroute_stuck: .asciz "after rerouting the PIRQ, the old IRQ stayed up\n"
msg_wrong_vector: .asciz "an interrupt came on another vector\n"
msg_no_interrupt: .asciz "no interrupt in real mode\n"
msg_irr_stuck: .asciz "the IRQ stayed in the IRR after the port's status was cleared\n"

    .org    (1 + STAGE2_SECTORS) * 512 - 1
    .byte   0
