/*
 * mbr: a disk boot sector that uses the BIOS, as a boot loader does, and reports on COM1.
 *
 * Sector 0 (this boot sector, at 0000:7C00) prints START on COM1 by port I/O, checks for the int 13h extensions
 * (AH=41h) and reads sectors 1-2 to 0000:7E00 with an extended read (AH=42h), then jumps there. The second stage
 * prints through int 10h (teletype, AH=0Eh), waits three ticks of the BIOS timer (IRQ 0), prints through int 14h
 * (COM1, AH=01h), asks int 13h for the drive's size (AH=48h)
 * and int 15h for the memory map (EAX=E820h), and gives its verdict: PASS if every service answered, the second stage
 * arrived intact and the map has RAM at 0 and at 1 MiB. Then it pulses the i8042 reset line (the platform's
 * --on-reboot exit and QEMU's -no-reboot end there); `cli; hlt` if that does nothing.
 *
 * Built as mbrstay (STAY=1) it stays up after PASS instead of resetting, for what looks at the screen (the browser's
 * console): once a second it rewrites its last screen line through int 10h, "mbr: staying up, tick N" with N cycling
 * 0-9 (a carriage return, no line feed), so a viewer's picture must keep following the text screen.
 *
 * COM1 lines end with \n only, after an empty line (the kit's contract). Text through int 10h goes to the screen, or,
 * on a machine without a display, to COM1 through SeaBIOS's serial console (QEMU -nographic, platform --display none).
 *
 * Assembled with `as --32` as 16-bit code and linked flat at 0x7C00 (boot.ld).
 */
    .code16
    .text
    .globl _start

    .ifndef STAY
    .equ    STAY, 0
    .endif

    .equ    COM1, 0x3F8
    .equ    LSR, COM1 + 5
    .equ    LSR_THRE, 0x20
    .equ    LSR_TEMT, 0x40
    .equ    STAGE2, 0x7E00
    .equ    E820_BUF, 0x9000
    .equ    SMAP, 0x534D4150            /* "SMAP" */

_start:
    cli
    xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    $0x7C00, %sp
    ljmp    $0, $normalized         /* some BIOSes enter at 07C0:0000 */
normalized:
    sti
    cld
    movb    %dl, boot_drive

    movw    $msg_start, %si
    call    com1_puts

    movb    $0x41, %ah              /* int 13h extensions present? */
    movw    $0x55AA, %bx
    movb    boot_drive, %dl
    int     $0x13
    jc      no_extensions
    cmpw    $0xAA55, %bx
    jne     no_extensions
    testb   $1, %cl                 /* bit 0: the packet interface (AH=42h) */
    jz      no_extensions

    movw    $dap, %si               /* extended read: sectors 1-2 to 0000:7E00 */
    movb    $0x42, %ah
    movb    boot_drive, %dl
    int     $0x13
    jc      read_failed
    cmpl    $0x32474B53, stage2_magic   /* "SKG2" */
    jne     read_failed
    jmp     stage2

no_extensions:
    movw    $msg_no_ext, %si
    jmp     fail
read_failed:
    movw    $msg_read_failed, %si
    /* fall through */

/* fail: prints "PLATFORM-TEST mbr FAIL " and the reason at SI, then ends. */
fail:
    pushw   %si
    movw    $msg_fail, %si
    call    com1_puts
    popw    %si
    call    com1_puts
    jmp     finish

/* com1_puts: prints the NUL-terminated string at SI on COM1 by port I/O. */
com1_puts:
    lodsb
    testb   %al, %al
    jz      1f
    call    com1_putc
    jmp     com1_puts
1:  ret

/* com1_putc: AL to COM1 once the transmitter holding register is empty (bounded wait). */
com1_putc:
    pushw   %ax
    pushw   %cx
    pushw   %dx
    movb    %al, %ah
    movw    $LSR, %dx
    movw    $0xFFFF, %cx
1:  inb     %dx, %al
    testb   $LSR_THRE, %al
    loopz   1b
    movb    %ah, %al
    movw    $COM1, %dx
    outb    %al, %dx
    popw    %dx
    popw    %cx
    popw    %ax
    ret

/* finish: waits for COM1 to drain, pulses the i8042 reset line, then halts. */
finish:
    movw    $LSR, %dx
    movw    $0xFFFF, %cx
1:  inb     %dx, %al
    testb   $LSR_TEMT, %al
    loopz   1b
    movw    $0xFFFF, %cx
2:  inb     $0x64, %al              /* i8042 input buffer empty? */
    testb   $2, %al
    loopnz  2b
    movb    $0xFE, %al
    outb    %al, $0x64
3:  cli
    hlt
    jmp     3b

boot_drive: .byte 0
dap:
    .byte   16, 0                   /* size, reserved */
    .word   2                       /* sectors */
    .word   STAGE2, 0               /* offset, segment */
    .quad   1                       /* first LBA */

msg_start:        .asciz "\nPLATFORM-TEST mbr START\n"
msg_fail:         .asciz "PLATFORM-TEST mbr FAIL "
msg_no_ext:       .asciz "no int 13h extensions\n"
msg_read_failed:  .asciz "int 13h extended read failed\n"

    .org    510
    .word   0xAA55

/* ---- sectors 1-2: the second stage, at 0000:7E00 ---- */
stage2_magic:
    .long   0x32474B53
stage2:
    movw    $msg_read, %si
    call    com1_puts
    movw    $msg_drive, %si
    call    com1_puts
    movzbl  boot_drive, %eax
    call    com1_hex8
    call    newline

    /* int 10h teletype */
    movw    $msg_int10, %si
1:  lodsb
    testb   %al, %al
    jz      2f
    movb    $0x0E, %ah
    movw    $0x0007, %bx
    int     $0x10
    jmp     1b
    /* Three ticks of the BIOS timer (IRQ 0, counted at 0040:006C): the PIT and 8259 work in real mode, and SeaBIOS's
     * serial console writes out what it buffered from int 10h on a tick. */
2:  movw    0x46C, %bx
    addw    $3, %bx
5:  sti
    hlt
    cmpw    0x46C, %bx
    jg      5b
    movw    $msg_int10_done, %si
    call    com1_puts

    /* int 14h: COM1 through the BIOS */
    movw    $msg_int14, %si
3:  lodsb
    testb   %al, %al
    jz      4f
    movb    $0x01, %ah
    xorw    %dx, %dx
    int     $0x14
    testb   $0x80, %ah              /* bit 7: timed out */
    jz      3b
    movw    $msg_int14_failed, %si
    jmp     fail

    /* int 13h AH=48h: drive parameters (size in sectors) */
4:  movw    $drive_params, %si
    movw    $0x1A, (%si)
    movb    $0x48, %ah
    movb    boot_drive, %dl
    int     $0x13
    jc      params_failed
    movw    $msg_sectors, %si
    call    com1_puts
    movl    drive_params + 0x10, %eax
    call    com1_hex32
    movw    $msg_bytes_per, %si
    call    com1_puts
    movzwl  drive_params + 0x18, %eax
    call    com1_hex32
    call    newline

    /* int 15h E820: the memory map, entry by entry */
    xorl    %ebx, %ebx
e820_next:
    movl    $0xE820, %eax
    movl    $SMAP, %edx
    movl    $24, %ecx
    movw    $E820_BUF, %di
    movl    $1, E820_BUF + 20       /* ACPI 3 attributes: valid unless the BIOS says otherwise */
    int     $0x15
    jc      e820_end
    cmpl    $SMAP, %eax
    jne     e820_failed
    incw    e820_count
    pushl   %ebx
    movw    $msg_e820, %si
    call    com1_puts
    movl    E820_BUF + 4, %eax
    call    com1_hex32
    movl    E820_BUF, %eax
    call    com1_hex32
    movb    $0x20, %al        /* ' ' */
    call    com1_putc
    movl    E820_BUF + 12, %eax
    call    com1_hex32
    movl    E820_BUF + 8, %eax
    call    com1_hex32
    movb    $0x20, %al        /* ' ' */
    call    com1_putc
    movl    E820_BUF + 16, %eax
    call    com1_hex8
    call    newline
    call    e820_check
    popl    %ebx
    testl   %ebx, %ebx
    jnz     e820_next
e820_end:
    cmpw    $0, e820_count
    je      e820_failed
    cmpb    $3, e820_seen
    jne     e820_incomplete
    movw    $msg_e820_ok, %si
    call    com1_puts
    movw    $msg_pass, %si
    call    com1_puts
    .if STAY
    jmp     stay
    .else
    jmp     finish
    .endif

params_failed:
    movw    $msg_params_failed, %si
    jmp     fail
e820_failed:
    movw    $msg_e820_failed, %si
    jmp     fail
e820_incomplete:
    movw    $msg_e820_incomplete, %si
    jmp     fail

/* e820_check: notes RAM from 0 (at least 512 KiB) in bit 0 and RAM from 1 MiB (at least 8 MiB) in bit 1. */
e820_check:
    cmpl    $1, E820_BUF + 16
    jne     9f
    cmpl    $0, E820_BUF + 4
    jne     9f
    cmpl    $0, E820_BUF + 12
    jne     2f                      /* longer than 4 GiB: big enough */
    movl    E820_BUF, %eax
    testl   %eax, %eax
    jnz     1f
    cmpl    $0x80000, E820_BUF + 8
    jb      9f
    orb     $1, e820_seen
    ret
1:  cmpl    $0x100000, %eax
    jne     9f
    cmpl    $0x800000, E820_BUF + 8
    jb      9f
2:  cmpl    $0x100000, E820_BUF
    jne     9f
    orb     $2, e820_seen
9:  ret

/* com1_hex32: EAX as 8 hex digits; com1_hex8: AL as 2. */
com1_hex32:
    movw    $8, %cx
    jmp     1f
com1_hex8:
    shll    $24, %eax
    movw    $2, %cx
1:  roll    $4, %eax
    pushl   %eax
    andb    $0x0F, %al
    addb    $0x30, %al        /* '0' */
    cmpb    $0x39, %al        /* '9' */
    jbe     2f
    addb    $0x27, %al        /* to 'a'-'f' */
2:  call    com1_putc
    popl    %eax
    loop    1b
    ret

newline:
    movb    $0x0A, %al        /* '\n' */
    jmp     com1_putc

    .if STAY
/* stay: rewrites "mbr: staying up, tick N" on the screen's current line once a second (18 BIOS ticks), for ever. */
stay:
    movb    $0x30, tick_digit       /* '0' */
1:  movw    $msg_stay, %si
    call    int10_puts
    movb    tick_digit, %al
    call    int10_putc
    movw    0x46C, %bx
    addw    $18, %bx
2:  sti
    hlt
    cmpw    0x46C, %bx
    jg      2b
    incb    tick_digit
    cmpb    $0x3A, tick_digit       /* past '9' */
    jne     1b
    jmp     stay

/* int10_puts: the NUL-terminated string at SI through int 10h teletype; int10_putc: AL. */
int10_puts:
    lodsb
    testb   %al, %al
    jz      1f
    call    int10_putc
    jmp     int10_puts
1:  ret
int10_putc:
    movb    $0x0E, %ah
    movw    $0x0007, %bx
    int     $0x10
    ret

tick_digit: .byte 0
msg_stay:   .asciz "\rmbr: staying up, tick "
    .endif

e820_count: .word 0
e820_seen:  .byte 0
drive_params: .fill 0x1A, 1, 0

msg_read:     .asciz "mbr: int 13h extended read of sectors 1-2: second stage intact\n"
msg_drive:    .asciz "mbr: booted from drive 0x"
msg_int10:    .asciz "mbr: int 10h teletype says hello\r\n"
msg_int10_done: .asciz "mbr: int 10h returned and the BIOS timer ticked 3 times\n"
msg_int14:    .asciz "mbr: int 14h writes this line\n"
msg_int14_failed: .asciz "int 14h timed out\n"
msg_sectors:  .asciz "mbr: int 13h drive parameters: sectors 0x"
msg_bytes_per: .asciz " of 0x"
msg_params_failed: .asciz "int 13h drive parameters failed\n"
msg_e820:     .asciz "mbr: e820 "
msg_e820_ok:  .asciz "mbr: e820 has RAM at 0 and at 1 MiB\n"
msg_e820_failed: .asciz "int 15h e820 failed\n"
msg_e820_incomplete: .asciz "e820 lacks RAM at 0 or at 1 MiB\n"
msg_pass:     .asciz "PLATFORM-TEST mbr PASS\n"

    .org    3 * 512 - 1
    .byte   0
