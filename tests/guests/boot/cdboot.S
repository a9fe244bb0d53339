/*
 * cdboot: an El Torito no-emulation boot image that reads its CD through the BIOS, as a CD boot loader does, and
 * reports on COM1.
 *
 * The BIOS loads the first 2048 bytes (this stage, 4 virtual sectors) at 0000:7C00 with DL = the CD's drive number.
 * mkisofs's -boot-info-table patched bytes 8-63 with the primary volume descriptor's LBA and this file's own LBA. The
 * stage prints START on COM1 by port I/O, checks for the int 13h extensions (AH=41h), reads the primary volume
 * descriptor (sector 16) with an extended read (AH=42h) and prints its volume identifier, reads the file's second
 * 2048-byte sector (the second stage, at 0000:8400) and jumps there. The second stage asks int 13h for the drive's
 * parameters (AH=48h: 2048 bytes a sector) and gives its verdict: PASS when every read arrived intact. Then it pulses
 * the i8042 reset line, as the mbr guest does.
 *
 * COM1 lines end with \n only, after an empty line (the kit's contract). Assembled with `as --32` as 16-bit code and
 * linked flat at 0x7C00 (boot.ld); tests/guests/Makefile makes build/cdboot.iso with xorriso.
 */
    .code16
    .text
    .globl _start

    .equ    COM1, 0x3F8
    .equ    LSR, COM1 + 5
    .equ    LSR_THRE, 0x20
    .equ    LSR_TEMT, 0x40
    .equ    PVD_BUF, 0x9000
    .equ    STAGE2, 0x7C00 + 2048

_start:
    jmp     start
    .org    8
/* The boot information table mkisofs writes (-boot-info-table). */
bi_pvd:      .long 0
bi_file:     .long 0
bi_length:   .long 0
bi_checksum: .long 0
    .org    64

start:
    cli
    xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    $0x7C00, %sp
    ljmp    $0, $normalized         /* SeaBIOS enters at 07C0:0000 */
normalized:
    sti
    cld
    movb    %dl, boot_drive

    movw    $msg_start, %si
    call    com1_puts
    movw    $msg_drive, %si
    call    com1_puts
    movzbl  boot_drive, %eax
    call    com1_hex8
    call    newline

    movb    $0x41, %ah              /* int 13h extensions present? */
    movw    $0x55AA, %bx
    movb    boot_drive, %dl
    int     $0x13
    jc      no_extensions
    cmpw    $0xAA55, %bx
    jne     no_extensions

    /* Sector 16: the primary volume descriptor. */
    movl    $16, dap_lba
    movw    $PVD_BUF, dap_offset
    call    read_sector
    jc      read_failed
    cmpb    $1, PVD_BUF
    jne     not_iso
    cmpl    $0x30304443, PVD_BUF + 1    /* "CD00" */
    jne     not_iso
    cmpb    $0x31, PVD_BUF + 5          /* "1" */
    jne     not_iso
    movw    $msg_pvd, %si
    call    com1_puts
    movw    $PVD_BUF + 40, %si          /* the volume identifier: 32 characters, space-padded */
    movw    $32, %cx
1:  lodsb
    cmpb    $0x20, %al
    je      2f
    call    com1_putc
    loop    1b
2:  call    newline

    /* The boot file's second sector: the second stage. */
    movl    bi_file, %eax
    incl    %eax
    movl    %eax, dap_lba
    movw    $STAGE2, dap_offset
    call    read_sector
    jc      read_failed
    cmpl    $0x32534443, stage2_magic   /* "CDS2" */
    jne     stage2_bad
    jmp     stage2

no_extensions:
    movw    $msg_no_ext, %si
    jmp     fail
read_failed:
    movw    $msg_read_failed, %si
    jmp     fail
not_iso:
    movw    $msg_not_iso, %si
    jmp     fail
stage2_bad:
    movw    $msg_stage2_bad, %si
    /* fall through */

/* fail: prints "PLATFORM-TEST cdboot FAIL " and the reason at SI, then ends. */
fail:
    pushw   %si
    movw    $msg_fail, %si
    call    com1_puts
    popw    %si
    call    com1_puts
    jmp     finish

/* read_sector: one 2048-byte sector at dap_lba to 0000:dap_offset by int 13h AH=42h; CF on failure. */
read_sector:
    movw    $dap, %si
    movb    $0x42, %ah
    movb    boot_drive, %dl
    int     $0x13
    ret

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
    addb    $0x30, %al
    cmpb    $0x39, %al
    jbe     2f
    addb    $0x27, %al
2:  call    com1_putc
    popl    %eax
    loop    1b
    ret

newline:
    movb    $0x0A, %al
    jmp     com1_putc

/* finish: waits for COM1 to drain, pulses the i8042 reset line, then halts. */
finish:
    movw    $LSR, %dx
    movw    $0xFFFF, %cx
1:  inb     %dx, %al
    testb   $LSR_TEMT, %al
    loopz   1b
    movw    $0xFFFF, %cx
2:  inb     $0x64, %al
    testb   $2, %al
    loopnz  2b
    movb    $0xFE, %al
    outb    %al, $0x64
3:  cli
    hlt
    jmp     3b

boot_drive: .byte 0
    .balign 4
dap:
    .byte   16, 0                   /* size, reserved */
    .word   1                       /* sectors (2048 bytes each on a CD) */
dap_offset:
    .word   0, 0                    /* offset, segment */
dap_lba:
    .quad   0

msg_start:       .asciz "\nPLATFORM-TEST cdboot START\n"
msg_drive:       .asciz "cdboot: booted from drive 0x"
msg_pvd:         .asciz "cdboot: int 13h extended read of sector 16: volume "
msg_fail:        .asciz "PLATFORM-TEST cdboot FAIL "
msg_no_ext:      .asciz "no int 13h extensions\n"
msg_read_failed: .asciz "int 13h extended read failed\n"
msg_not_iso:     .asciz "sector 16 is not an ISO 9660 primary volume descriptor\n"
msg_stage2_bad:  .asciz "the second stage did not arrive intact\n"

    .org    2048

/* ---- the file's second 2048-byte sector: the second stage, at 0000:8400 ---- */
stage2_magic:
    .long   0x32534443
stage2:
    movw    $msg_stage2, %si
    call    com1_puts

    /* int 13h AH=48h: drive parameters */
    movw    $drive_params, %si
    movw    $0x1A, (%si)
    movb    $0x48, %ah
    movb    boot_drive, %dl
    int     $0x13
    jc      params_failed
    movw    $msg_bytes_per, %si
    call    com1_puts
    movzwl  drive_params + 0x18, %eax
    call    com1_hex32
    call    newline
    movw    $msg_pass, %si
    call    com1_puts
    jmp     finish

params_failed:
    movw    $msg_params_failed, %si
    jmp     fail

drive_params: .fill 0x1A, 1, 0
msg_stage2:   .asciz "cdboot: int 13h extended read of the boot file's second sector: second stage intact\n"
msg_bytes_per: .asciz "cdboot: int 13h drive parameters: bytes per sector 0x"
msg_params_failed: .asciz "int 13h drive parameters failed\n"
msg_pass:     .asciz "PLATFORM-TEST cdboot PASS\n"

    .org    4096 - 1
    .byte   0
