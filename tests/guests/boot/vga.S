/*
 * vga12 / vga04: a disk boot sector that sets a VGA graphics mode through int 10h, draws a known picture and
 * reports on COM1, then halts with the picture on screen (a test reads it through VNC, or QEMU's screendump).
 *
 * vga12 (mode 12h, 640x480, 16 colours in four planes at A000:0000, 80 bytes a line), each block 160x100:
 *   x   0-159, y   0- 99: colour 1 by set/reset (GR01 = 0Fh, GR00 = 1), write mode 0
 *   x 160-319, y   0- 49: colour 4 through the map mask alone (SR02 = 4, bytes of FFh)
 *   x 160-319, y  50- 99: the same, then SR02 = 2 and bytes of F0h: colour 6 in each byte's left 4 pixels, 4 right
 *   x 320-479, y   0- 99: write mode 2, colour 0Eh under bit mask AAh: even pixels 0Eh, odd ones the latches (0)
 *   x 480-639, y   0- 99: colour 2 by set/reset after int 10h AX=1000h set palette register 2 to 3Fh (white)
 *   x   0-159, y 100-199: colour 7 after int 10h AX=1010h set DAC register 7 to (63, 0, 63) (magenta)
 *   int 10h AH=0Ch pixels: colour 0Fh on the diagonal (200+i, 100+i), i < 100; colour 8Fh (XOR 0Fh) at (10, 10),
 *   in the blue block, so 0Eh; colour 0Ch at (639, 479), the last pixel.
 * vga04 (as vga -defsym CGA=1; mode 04h, 320x200, 4 colours, 2 bits a pixel at B800:0000, even lines in the bank at
 * 0000h and odd lines at 2000h, 80 bytes a line), each block 80x100:
 *   x 0-79: colour 1 (55h); x 80-159: colour 2 (AAh); x 160-239: colour 3 (FFh); x 240-319: 1Bh, colours 0 1 2 3
 *   y 100-199, x 0-79: FFh in the odd-line bank only (stripes of colour 3 and black)
 *   int 10h AH=0Ch pixels: colour 3 on the diagonal (100+i, 120+i), i < 50; colour 2 at (319, 199).
 *
 * vga10 and vga0d draw vga12's picture in modes 10h (640x350) and 0Dh (320x200, 40 bytes a line, so the blocks land
 * interleaved), vga06 vga04's in mode 06h (640x200, 1 bit a pixel): pictures to compare with QEMU's, not to look at.
 *
 * Then int 10h AH=0Dh reads back one pixel written with XOR (vga12) or by AH=0Ch (vga04) and the guest prints it.
 * Assembled with `as --32` as 16-bit code and linked flat at 0x7C00 (boot.ld); one sector.
 */
    .code16
    .text
    .globl _start

    .equ    COM1, 0x3F8
    .equ    LSR, COM1 + 5
    .equ    LSR_THRE, 0x20
    .equ    SEQ, 0x3C4
    .equ    GFX, 0x3CE

/* MODE may come from --defsym (vga10, vga0d, vga06: the same drawing in modes 10h, 0Dh and 06h). */
.ifdef CGA
    .ifndef MODE
    .equ    MODE, 0x04
    .endif
    .equ    SCREEN, 0xB800
.else
    .ifndef MODE
    .equ    MODE, 0x12
    .endif
    .equ    SCREEN, 0xA000
.endif

_start:
    cli
    xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %ss
    movw    $0x7C00, %sp
    ljmp    $0, $normalized         /* some BIOSes enter at 07C0:0000 */
normalized:
    sti
    cld
    movw    $msg_start, %si
    call    com1_puts

    movw    $MODE, %ax              /* int 10h AH=00h: set the mode (clears the screen) */
    int     $0x10
    movw    $SCREEN, %ax
    movw    %ax, %es

.ifdef CGA
    movw    $0x55, %ax              /* four 80x100 blocks of colours 1, 2, 3 and 0-1-2-3 */
    xorw    %di, %di
    call    cga_block
    movb    $0xAA, %al
    movw    $20, %di
    call    cga_block
    movb    $0xFF, %al
    movw    $40, %di
    call    cga_block
    movb    $0x1B, %al
    movw    $60, %di
    call    cga_block
    movb    $0xFF, %al              /* the odd-line bank alone: stripes */
    movw    $0x2000 + 50 * 80, %di
    call    fill50

    movw    $50, %si                /* int 10h AH=0Ch: the diagonal */
    movw    $100, %cx
    movw    $120, %dx
1:  movw    $0x0C03, %ax
    call    put_pixel
    incw    %cx
    incw    %dx
    decw    %si
    jnz     1b
    movw    $0x0C02, %ax
    movw    $319, %cx
    movw    $199, %dx
    call    put_pixel
    movw    $110, %cx               /* read back a diagonal pixel */
    movw    $130, %dx
.else
    movw    $0x0F01, %ax            /* GR01: set/reset for all planes */
    call    gfx_out
    movw    $0x0100, %ax            /* GR00: colour 1 */
    call    gfx_out
    xorw    %di, %di
    call    block100
    movw    $0x0001, %ax            /* set/reset off: bytes go through the map mask */
    call    gfx_out
    movw    $0x0402, %ax            /* SR02: plane 2 (colour 4) */
    call    seq_out
    movb    $0xFF, %al
    movw    $20, %di
    call    block100
    movw    $0x0202, %ax            /* SR02: plane 1; bytes of F0h on the lower half */
    call    seq_out
    movb    $0xF0, %al
    movw    $50 * 80 + 20, %di
    call    fill50
    movw    $0x0F02, %ax            /* all planes again */
    call    seq_out

    movw    $0x0205, %ax            /* GR05: write mode 2 */
    call    gfx_out
    movw    $0xAA08, %ax            /* GR08: bit mask AAh */
    call    gfx_out
    movb    $0x0E, %al
    movw    $40, %di
    call    block100
    movw    $0x0005, %ax            /* write mode 0, all bits */
    call    gfx_out
    movw    $0xFF08, %ax
    call    gfx_out

    movw    $0x1000, %ax            /* int 10h AX=1000h: palette register 2 = 3Fh */
    movw    $0x3F02, %bx
    int     $0x10
    movw    $0x0F01, %ax
    call    gfx_out
    movw    $0x0200, %ax
    call    gfx_out
    movw    $60, %di
    call    block100

    movw    $0x1010, %ax            /* int 10h AX=1010h: DAC register 7 = (63, 0, 63) */
    movw    $7, %bx
    movb    $63, %dh
    movw    $0x003F, %cx
    int     $0x10
    movw    $0x0700, %ax
    call    gfx_out
    movw    $100 * 80, %di
    call    block100
    movw    $0x0001, %ax            /* set/reset off before the BIOS draws */
    call    gfx_out

    movw    $100, %si               /* int 10h AH=0Ch: the diagonal */
    movw    $200, %cx
    movw    $100, %dx
1:  movw    $0x0C0F, %ax
    call    put_pixel
    incw    %cx
    incw    %dx
    decw    %si
    jnz     1b
    movw    $0x0C0C, %ax
    movw    $639, %cx
    movw    $479, %dx
    call    put_pixel
    movw    $0x0C8F, %ax            /* XOR 0Fh into the blue block */
    movw    $10, %cx
    movw    $10, %dx
    call    put_pixel
.endif

    movb    $0x0D, %ah              /* int 10h AH=0Dh: read the pixel at (CX, DX) */
    xorb    %bh, %bh
    int     $0x10
    pushw   %ax
    movw    $msg_pixel, %si
    call    com1_puts
    popw    %ax
    call    com1_hex8
    movw    $msg_pass, %si
    call    com1_puts
2:  cli
    hlt
    jmp     2b

.ifdef CGA
/* cga_block: AL in an 80x100 block at byte column DI, both banks. */
cga_block:
    pushw   %di
    call    fill50
    popw    %di
    addw    $0x2000, %di
    /* fall through */
.else
/* block100: AL in a 160x100 block from DI (20 bytes by 100 lines). */
block100:
    call    fill50
    /* fall through: fill50 leaves DI on the next line */
.endif

/* fill50: AL in 20 bytes of 50 lines of 80 bytes from ES:DI, each byte read first (loading the latches). */
fill50:
    movw    $50, %dx
1:  movw    $20, %cx
2:  movb    %es:(%di), %ah
    stosb
    loop    2b
    addw    $60, %di
    decw    %dx
    jnz     1b
    ret

/* put_pixel: int 10h AH=0Ch with AL the colour at (CX, DX), keeping CX and DX. */
put_pixel:
    pushw   %cx
    pushw   %dx
    xorb    %bh, %bh
    int     $0x10
    popw    %dx
    popw    %cx
    ret

.ifndef CGA
/* gfx_out / seq_out: index AL, value AH. */
gfx_out:
    movw    $GFX, %dx
    outw    %ax, %dx
    ret
seq_out:
    movw    $SEQ, %dx
    outw    %ax, %dx
    ret
.endif

/* com1_puts: the NUL-terminated string at SI on COM1 by port I/O. */
com1_puts:
    lodsb
    testb   %al, %al
    jz      1f
    call    com1_putc
    jmp     com1_puts
1:  ret

/* com1_hex8: AL as two hex digits. */
com1_hex8:
    pushw   %ax
    shrb    $4, %al
    call    1f
    popw    %ax
1:  andb    $0x0F, %al
    addb    $0x30, %al
    cmpb    $0x39, %al
    jbe     com1_putc
    addb    $0x27, %al
    /* fall through */

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

/* The messages name the image: vga followed by the mode number. */
.macro messages name
msg_start:  .asciz "\nPLATFORM-TEST \name START\n"
msg_pixel:  .asciz "\name: int 10h read pixel 0x"
msg_pass:   .asciz "\nPLATFORM-TEST \name PASS\n"
.endm
.if MODE == 0x04
    messages vga04
.elseif MODE == 0x06
    messages vga06
.elseif MODE == 0x0D
    messages vga0d
.elseif MODE == 0x10
    messages vga10
.else
    messages vga12
.endif

    .org    510
    .word   0xAA55
