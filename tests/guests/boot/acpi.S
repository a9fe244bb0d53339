/*
 * acpi: a disk boot sector that finds the ACPI tables the firmware installed, turns ACPI on, reads the PM timer and
 * powers the machine off through S5, as an OS's ACPI code does, reporting on COM1.
 *
 * Sector 0 (at 0000:7C00) prints START, reads sectors 1-8 to 0000:7E00 with an int 13h extended read and jumps there.
 * The second stage switches to 32-bit flat protected mode (no BIOS calls after that; interrupts stay off) and:
 *   - finds the RSDP on a 16-byte boundary in the EBDA's first KiB or in 0xE0000-0xFFFFF and checks its checksums;
 *   - walks the RSDT, checking each table's checksum, and finds the FADT and the MADT;
 *   - checks the FADT's DSDT (signature, checksum) and FACS (signature, 64-byte alignment), reads SLP_TYPa from the
 *     DSDT's \_S5 package, and counts the MADT's local APICs against the vCPU count in CMOS 0x5F (+1), as QEMU sets it;
 *   - turns ACPI on: ACPI_ENABLE to SMI_CMD when the FADT has one, then waits for SCI_EN in PM1a control (or sets
 *     SCI_EN itself without an SMI_CMD);
 *   - measures the PM timer against PIT channel 2 counting 65535 ticks (the PM timer runs at exactly 3x the PIT's
 *     rate, so about 196605 PM ticks are due), five times, and wants the smallest count within 90-150% of that;
 *   - built as acpibtn (BUTTON=1): enables the power button (PWRBTN_EN), says "waiting for the power button", polls
 *     PWRBTN_STS for up to 30 s of PM timer, checks that the SCI (IRQ 9) is pending at the slave 8259 and clears the
 *     status;
 *   - prints its verdict, then writes SLP_TYPa | SLP_EN to PM1a control. A VM that is still running a moment later
 *     prints FAIL and pulses the i8042 reset line (which also ends a failed run under QEMU -no-reboot).
 *
 * COM1 lines end with \n only, after an empty line (the kit's contract). Assembled with `as --32` and linked flat at
 * 0x7C00 (boot.ld); the Makefile builds acpi.img and, with --defsym BUTTON=1, acpibtn.img.
 */
    .code16
    .text
    .globl _start

    .ifndef BUTTON
    .equ    BUTTON, 0
    .endif

    .equ    COM1, 0x3F8
    .equ    LSR, COM1 + 5
    .equ    LSR_THRE, 0x20
    .equ    LSR_TEMT, 0x40
    .equ    STAGE2, 0x7E00
    .equ    STAGE2_SECTORS, 8
    .equ    RSD_, 0x20445352            /* "RSD " */
    .equ    PTR_, 0x20525450            /* "PTR " */
    .equ    SIG_RSDT, 0x54445352
    .equ    SIG_FACP, 0x50434146
    .equ    SIG_APIC, 0x43495041
    .equ    SIG_DSDT, 0x54445344
    .equ    SIG_FACS, 0x53434146
    .equ    SIG_S5, 0x5F35535F          /* "_S5_" */
    .equ    SCI_EN, 0x0001
    .equ    SLP_EN, 0x2000
    .equ    PWRBTN, 0x0100
    .equ    PM_HZ, 3579545

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

    .if BUTTON
msg_start:        .asciz "\nPLATFORM-TEST acpibtn START\n"
    .else
msg_start:        .asciz "\nPLATFORM-TEST acpi START\n"
    .endif
msg_read_failed:  .asciz "PLATFORM-TEST acpi FAIL int 13h extended read failed\n"

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

    /* The RSDP: the EBDA's first KiB, then the BIOS area. */
    movzwl  0x40E, %esi
    shll    $4, %esi
    leal    1024(%esi), %edi
    call    find_rsdp
    jnc     rsdp_found
    movl    $0xE0000, %esi
    movl    $0x100000, %edi
    call    find_rsdp
    jnc     rsdp_found
    movl    $msg_no_rsdp, %esi
    jmp     fail
rsdp_found:
    movl    %esi, rsdp
    movl    $20, %ecx
    call    checksum
    jnz     bad_rsdp_checksum
    cmpb    $2, 15(%esi)
    jb      1f
    movl    20(%esi), %ecx              /* ACPI 2.0: the extended checksum over the whole structure */
    call    checksum
    jnz     bad_rsdp_checksum
1:  movl    $msg_rsdp, %esi
    call    puts
    movl    rsdp, %eax
    call    hex32
    movl    $msg_rev, %esi
    call    puts
    movl    rsdp, %esi
    movzbl  15(%esi), %eax
    call    dec32
    movl    $msg_oem, %esi
    call    puts
    movl    rsdp, %esi
    addl    $9, %esi
    movl    $6, %ecx
    call    putn
    call    newline

    /* The RSDT and every table it lists. */
    movl    rsdp, %esi
    movl    16(%esi), %esi
    movl    %esi, rsdt
    cmpl    $SIG_RSDT, (%esi)
    jne     bad_rsdt
    call    table_checksum
    jnz     bad_checksum
    movl    4(%esi), %ecx
    subl    $36, %ecx
    shrl    $2, %ecx
    movl    %ecx, rsdt_entries
    movl    $msg_rsdt, %esi
    call    puts
    movl    rsdt, %eax
    call    hex32
    movl    $msg_entries, %esi
    call    puts
    movl    rsdt_entries, %eax
    call    dec32
    call    newline
    xorl    %ebx, %ebx
next_table:
    cmpl    rsdt_entries, %ebx
    jae     tables_done
    movl    rsdt, %esi
    movl    36(%esi,%ebx,4), %esi
    call    table_checksum
    jnz     bad_checksum
    call    print_table
    cmpl    $SIG_FACP, (%esi)
    jne     1f
    movl    %esi, fadt
1:  cmpl    $SIG_APIC, (%esi)
    jne     2f
    movl    %esi, madt
2:  incl    %ebx
    jmp     next_table
tables_done:
    cmpl    $0, fadt
    je      no_fadt
    cmpl    $0, madt
    je      no_madt

    /* The FADT's DSDT and FACS. */
    movl    fadt, %edi
    movl    40(%edi), %esi
    cmpl    $SIG_DSDT, (%esi)
    jne     bad_dsdt
    call    table_checksum
    jnz     bad_checksum
    call    print_table
    movl    %esi, dsdt
    movl    36(%edi), %esi
    cmpl    $SIG_FACS, (%esi)
    jne     bad_facs
    testl   $63, %esi
    jnz     bad_facs
    movl    $msg_facs, %esi
    call    puts
    movl    36(%edi), %eax
    call    hex32
    call    newline

    /* What the FADT says about the fixed hardware. */
    movl    $msg_sci, %esi
    call    puts
    movzwl  46(%edi), %eax
    call    dec32
    movl    $msg_smi, %esi
    call    puts
    movl    48(%edi), %eax
    call    hex32
    movl    $msg_enable, %esi
    call    puts
    movzbl  52(%edi), %eax
    call    hex8
    movl    $msg_pm1a, %esi
    call    puts
    movl    56(%edi), %eax
    call    hex32
    movl    $msg_pm1a_cnt, %esi
    call    puts
    movl    64(%edi), %eax
    call    hex32
    movl    $msg_pmtmr, %esi
    call    puts
    movl    76(%edi), %eax
    call    hex32
    call    newline
    cmpl    $0, 64(%edi)
    je      no_pm
    cmpl    $0, 76(%edi)
    je      no_pm

    /* SLP_TYPa for S5: the first element of the DSDT's \_S5 package. */
    call    find_s5
    jc      no_s5
    movl    %eax, slp_typ
    movl    $msg_s5, %esi
    call    puts
    movl    slp_typ, %eax
    call    dec32
    call    newline

    /* The MADT's local APICs against the vCPU count in CMOS 0x5F. */
    call    count_lapics
    movl    %eax, lapics
    movb    $0x5F, %al
    outb    %al, $0x70
    inb     $0x71, %al
    movzbl  %al, %eax
    incl    %eax
    movl    %eax, cpus
    movl    $msg_madt, %esi
    call    puts
    movl    lapics, %eax
    call    dec32
    movl    $msg_madt_cpus, %esi
    call    puts
    movl    cpus, %eax
    call    dec32
    call    newline
    movl    lapics, %eax
    cmpl    cpus, %eax
    jne     bad_lapics

    /* ACPI on. */
    call    read_pm1_cnt
    testw   $SCI_EN, %ax
    jz      1f
    movl    $msg_already_on, %esi
    call    puts
    jmp     acpi_on
1:  movl    48(%edi), %edx
    testl   %edx, %edx
    jz      2f
    movb    52(%edi), %al
    testb   %al, %al
    jz      2f
    outb    %al, %dx
    movl    $1000000, %ecx
3:  call    read_pm1_cnt
    testw   $SCI_EN, %ax
    jnz     4f
    loop    3b
    movl    $msg_sci_en_timeout, %esi
    jmp     fail
4:  movl    $msg_via_smi, %esi
    call    puts
    jmp     acpi_on
2:  call    read_pm1_cnt                /* no SMI_CMD: the hardware is in ACPI mode; set SCI_EN as such an OS would */
    orw     $SCI_EN, %ax
    movl    64(%edi), %edx
    outw    %ax, %dx
    movl    $msg_direct, %esi
    call    puts
acpi_on:

    /* The PM timer against PIT channel 2 (mode 0, 65535 ticks; port 0x61 bit 5 rises at the end), five times: a host
     * that deschedules the vCPU between two readings only ever adds ticks, so the smallest count is the one to judge. */
    movl    $0xFFFFFFFF, pm_delta
    movl    $5, rounds
timer_round:
    inb     $0x61, %al
    andb    $0xFC, %al
    outb    %al, $0x61                  /* gate off: channel 2 holds */
    orb     $0x01, %al                  /* gate on, speaker off */
    outb    %al, $0x61
    movb    $0xB0, %al                  /* channel 2, lobyte/hibyte, mode 0, binary */
    outb    %al, $0x43
    movb    $0xFF, %al
    outb    %al, $0x42
    call    read_pm_timer
    movl    %eax, %ebx
    movb    $0xFF, %al
    outb    %al, $0x42                  /* the count starts with its high byte */
    movl    $50000000, %ecx
1:  inb     $0x61, %al
    testb   $0x20, %al
    jnz     2f
    loop    1b
    movl    $msg_pit_timeout, %esi
    jmp     fail
2:  call    read_pm_timer
    subl    %ebx, %eax
    andl    $0xFFFFFF, %eax
    cmpl    pm_delta, %eax
    jae     3f
    movl    %eax, pm_delta
3:  decl    rounds
    jnz     timer_round
    movl    $msg_timer, %esi
    call    puts
    movl    pm_delta, %eax
    call    dec32
    movl    $msg_timer_of, %esi
    call    puts
    movl    pm_delta, %eax
    cmpl    $176944, %eax               /* 90% of 3 x 65535 */
    jb      bad_timer
    cmpl    $294907, %eax               /* 150% */
    ja      bad_timer

    .if BUTTON
    call    power_button
    .endif

    movl    $msg_pass, %esi
    call    puts
    call    drain

    /* S5: SLP_TYPa | SLP_EN into PM1a control. */
    call    read_pm1_cnt
    andw    $0xC3FF, %ax
    movl    slp_typ, %ecx
    andl    $7, %ecx
    shll    $10, %ecx
    orw     %cx, %ax
    orw     $SLP_EN, %ax
    movl    fadt, %edi
    movl    64(%edi), %edx
    outw    %ax, %dx
    movl    $PM_HZ / 2, %ecx            /* half a second of PM timer, then it did not work */
    call    wait_pm_ticks
    movl    $msg_s5_failed, %esi
    jmp     fail

/* power_button: PWRBTN_EN on, then wait for PWRBTN_STS, see the SCI at the slave 8259, and clear the status. */
    .if BUTTON
power_button:
    movl    fadt, %edi
    movzbl  88(%edi), %edx              /* PM1 enable is the second half of the event block */
    shrl    $1, %edx
    addl    56(%edi), %edx
    inw     %dx, %ax
    orw     $PWRBTN, %ax
    outw    %ax, %dx
    movl    $msg_waiting, %esi
    call    puts
    call    read_pm_timer
    movl    %eax, %ebx                  /* last reading */
    xorl    %ebp, %ebp                  /* ticks waited */
1:  movl    56(%edi), %edx
    inw     %dx, %ax
    testw   $PWRBTN, %ax
    jnz     2f
    call    read_pm_timer
    movl    %eax, %ecx
    subl    %ebx, %eax
    andl    $0xFFFFFF, %eax
    addl    %eax, %ebp
    movl    %ecx, %ebx
    cmpl    $30 * PM_HZ, %ebp
    jb      1b
    movl    $msg_no_press, %esi
    jmp     fail
2:  movl    $msg_pressed, %esi
    call    puts
    movb    $0x0A, %al                  /* OCW3: read the IRR */
    outb    %al, $0xA0
    inb     $0xA0, %al
    testb   $0x02, %al                  /* IRQ 9 is the slave's line 1 */
    jz      3f
    movl    $msg_sci_seen, %esi
    call    puts
    movl    56(%edi), %edx              /* status bits clear when written with 1 */
    movw    $PWRBTN, %ax
    outw    %ax, %dx
    inw     %dx, %ax
    testw   $PWRBTN, %ax
    jnz     4f
    movl    $msg_cleared, %esi
    call    puts
    ret
3:  movl    $msg_no_sci, %esi
    jmp     fail
4:  movl    $msg_not_cleared, %esi
    jmp     fail
    .endif

/* find_rsdp: "RSD PTR " on a 16-byte boundary in [ESI, EDI); CF clear and ESI at it when found. */
find_rsdp:
1:  cmpl    %edi, %esi
    jae     2f
    cmpl    $RSD_, (%esi)
    jne     3f
    cmpl    $PTR_, 4(%esi)
    je      4f
3:  addl    $16, %esi
    jmp     1b
2:  stc
    ret
4:  clc
    ret

/* checksum: ZF set when the ECX bytes at ESI sum to 0. table_checksum: the same over the table's length. */
table_checksum:
    movl    4(%esi), %ecx
checksum:
    pushl   %esi
    xorb    %al, %al
1:  addb    (%esi), %al
    incl    %esi
    loop    1b
    popl    %esi
    testb   %al, %al
    ret

/* print_table: "acpi: XXXX at 0x........ length N" for the table at ESI. */
print_table:
    pushl   %esi
    movl    $msg_table, %esi
    call    puts
    movl    (%esp), %esi
    movl    $4, %ecx
    call    putn
    movl    $msg_at, %esi
    call    puts
    movl    (%esp), %eax
    call    hex32
    movl    $msg_length, %esi
    call    puts
    movl    (%esp), %esi
    movl    4(%esi), %eax
    call    dec32
    call    newline
    popl    %esi
    ret

/* find_s5: EAX = the first element of the package named _S5_ in the DSDT at [dsdt]; CF set when not found. */
find_s5:
    pushl   %esi
    pushl   %edi
    call    find_s5_body
    popl    %edi
    popl    %esi
    ret
find_s5_body:
    movl    dsdt, %esi
    movl    4(%esi), %ecx
    leal    -8(%esi,%ecx), %edi
    addl    $36, %esi
1:  cmpl    %edi, %esi
    jae     9f
    cmpl    $SIG_S5, (%esi)
    jne     2f
    cmpb    $0x12, 4(%esi)              /* PackageOp */
    je      3f
2:  incl    %esi
    jmp     1b
3:  movzbl  5(%esi), %eax               /* PkgLength: bits 7-6 count the bytes after the lead byte */
    shrl    $6, %eax
    leal    7(%esi,%eax), %esi          /* past "_S5_", the opcode, the PkgLength and NumElements */
    movzbl  (%esi), %eax
    cmpb    $0x0A, %al                  /* BytePrefix */
    jne     4f
    movzbl  1(%esi), %eax
    clc
    ret
4:  cmpb    $0x01, %al                  /* ZeroOp and OneOp are their values */
    ja      9f
    clc
    ret
9:  stc
    ret

/* count_lapics: EAX = the MADT's processor local APIC entries (type 0) that are enabled. */
count_lapics:
    pushl   %esi
    pushl   %edi
    call    count_lapics_body
    popl    %edi
    popl    %esi
    ret
count_lapics_body:
    movl    madt, %esi
    movl    4(%esi), %edi
    addl    %esi, %edi
    addl    $44, %esi
    xorl    %eax, %eax
1:  cmpl    %edi, %esi
    jae     3f
    cmpb    $0, (%esi)
    jne     2f
    testb   $1, 4(%esi)
    jz      2f
    incl    %eax
2:  movzbl  1(%esi), %ecx
    testl   %ecx, %ecx
    jz      3f
    addl    %ecx, %esi
    jmp     1b
3:  ret

read_pm1_cnt:
    pushl   %edx
    movl    fadt, %edx
    movl    64(%edx), %edx
    inw     %dx, %ax
    popl    %edx
    ret

read_pm_timer:
    pushl   %edx
    movl    fadt, %edx
    movl    76(%edx), %edx
    inl     %dx, %eax
    andl    $0xFFFFFF, %eax
    popl    %edx
    ret

/* wait_pm_ticks: waits ECX ticks of the PM timer. */
wait_pm_ticks:
    pushl   %ebx
    pushl   %ebp
    movl    %ecx, %ebp
    call    read_pm_timer
    movl    %eax, %ebx
1:  call    read_pm_timer
    subl    %ebx, %eax
    andl    $0xFFFFFF, %eax
    cmpl    %ebp, %eax
    jb      1b
    popl    %ebp
    popl    %ebx
    ret

bad_rsdp_checksum:
    movl    $msg_rsdp_checksum, %esi
    jmp     fail
bad_rsdt:
    movl    $msg_bad_rsdt, %esi
    jmp     fail
bad_checksum:
    pushl   %esi
    movl    $msg_fail, %esi
    call    puts
    movl    $msg_checksum, %esi
    call    puts
    popl    %esi
    movl    $4, %ecx
    call    putn
    call    newline
    jmp     finish
no_fadt:
    movl    $msg_no_fadt, %esi
    jmp     fail
no_madt:
    movl    $msg_no_madt, %esi
    jmp     fail
bad_dsdt:
    movl    $msg_bad_dsdt, %esi
    jmp     fail
bad_facs:
    movl    $msg_bad_facs, %esi
    jmp     fail
no_pm:
    movl    $msg_no_pm, %esi
    jmp     fail
no_s5:
    movl    $msg_no_s5, %esi
    jmp     fail
bad_lapics:
    movl    $msg_bad_lapics, %esi
    jmp     fail
bad_timer:
    movl    $msg_bad_timer, %esi
    jmp     fail

/* fail: "PLATFORM-TEST <name> FAIL " and the reason at ESI, then the reset pulse. */
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

/* drain: waits (bounded) until COM1 has sent everything. */
drain:
    movw    $LSR, %dx
    movl    $0x100000, %ecx
1:  inb     %dx, %al
    testb   $LSR_TEMT, %al
    loopz   1b
    ret

/* puts: the NUL-terminated string at ESI; putn: ECX bytes at ESI; putc: AL. */
puts:
    lodsb
    testb   %al, %al
    jz      1f
    call    putc
    jmp     puts
1:  ret
putn:
    lodsb
    call    putc
    loop    putn
    ret
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

/* hex32: "0x" and EAX as 8 hex digits; hex8: AL as "0x" and 2. dec32: EAX in decimal. */
hex32:
    movl    $8, %ecx
    jmp     1f
hex8:
    shll    $24, %eax
    movl    $2, %ecx
1:  pushl   %eax
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
gdt_desc:
    .word   gdt_desc - gdt - 1
    .long   gdt

rsdp:         .long 0
rsdt:         .long 0
rsdt_entries: .long 0
fadt:         .long 0
madt:         .long 0
dsdt:         .long 0
slp_typ:      .long 0
lapics:       .long 0
cpus:         .long 0
pm_delta:     .long 0
rounds:       .long 0

    .if BUTTON
msg_fail:     .asciz "PLATFORM-TEST acpibtn FAIL "
msg_pass:     .asciz "PLATFORM-TEST acpibtn PASS\n"
    .else
msg_fail:     .asciz "PLATFORM-TEST acpi FAIL "
msg_pass:     .asciz "PLATFORM-TEST acpi PASS\n"
    .endif
msg_rsdp:     .asciz "acpi: RSDP at "
msg_rev:      .asciz " revision "
msg_oem:      .asciz " oem "
msg_rsdt:     .asciz "acpi: RSDT at "
msg_entries:  .asciz " entries "
msg_table:    .asciz "acpi: table "
msg_at:       .asciz " at "
msg_length:   .asciz " length "
msg_facs:     .asciz "acpi: FACS at "
msg_sci:      .asciz "acpi: FADT SCI "
msg_smi:      .asciz " SMI_CMD "
msg_enable:   .asciz " ACPI_ENABLE "
msg_pm1a:     .asciz " PM1a_EVT "
msg_pm1a_cnt: .asciz " PM1a_CNT "
msg_pmtmr:    .asciz " PM_TMR "
msg_s5:       .asciz "acpi: \\_S5 SLP_TYPa "
msg_madt:     .asciz "acpi: MADT local APICs "
msg_madt_cpus: .asciz " vCPUs in CMOS "
msg_already_on: .asciz "acpi: SCI_EN was already set\n"
msg_via_smi:  .asciz "acpi: ACPI_ENABLE through SMI_CMD set SCI_EN\n"
msg_direct:   .asciz "acpi: no SMI_CMD; SCI_EN set directly\n"
msg_timer:    .asciz "acpi: PM timer advanced "
msg_timer_of: .asciz " ticks while the PIT counted 65535 (fewest of 5)\n"
msg_waiting:  .asciz "acpi: waiting for the power button\n"
msg_pressed:  .asciz "acpi: PWRBTN_STS set\n"
msg_sci_seen: .asciz "acpi: SCI pending on IRQ 9\n"
msg_cleared:  .asciz "acpi: PWRBTN_STS cleared\n"
msg_no_rsdp:  .asciz "no RSDP in the EBDA or 0xE0000-0xFFFFF\n"
msg_rsdp_checksum: .asciz "RSDP checksum\n"
msg_bad_rsdt: .asciz "the RSDP's RSDT is not an RSDT\n"
msg_checksum: .asciz "checksum of "
msg_no_fadt:  .asciz "no FADT in the RSDT\n"
msg_no_madt:  .asciz "no MADT in the RSDT\n"
msg_bad_dsdt: .asciz "the FADT's DSDT is not a DSDT\n"
msg_bad_facs: .asciz "the FADT's FACS is not a 64-byte aligned FACS\n"
msg_no_pm:    .asciz "the FADT has no PM1a control or PM timer\n"
msg_no_s5:    .asciz "no \\_S5 package in the DSDT\n"
msg_bad_lapics: .asciz "the MADT's local APICs do not match the vCPUs\n"
msg_sci_en_timeout: .asciz "SCI_EN never came on after ACPI_ENABLE\n"
msg_pit_timeout: .asciz "PIT channel 2 never finished\n"
msg_bad_timer: .asciz "the PM timer's rate is off\n"
msg_no_press: .asciz "no power button press in 30 s\n"
msg_no_sci:   .asciz "PWRBTN_STS set but no SCI pending on IRQ 9\n"
msg_not_cleared: .asciz "PWRBTN_STS stayed set after writing 1\n"
msg_s5_failed: .asciz "still running after S5\n"

    .org    (1 + STAGE2_SECTORS) * 512 - 1
    .byte   0
