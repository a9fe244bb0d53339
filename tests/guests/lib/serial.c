/* COM1 as an 8250/16550: 115200 8N1, FIFO on, polled transmit. */
#include "guest.h"

#define RBR 0 /* receive buffer (read) */
#define THR 0 /* transmit holding (write) */
#define IER 1
#define IIR 2 /* read */
#define FCR 2 /* write */
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define DLL 0 /* with LCR.DLAB */
#define DLM 1

#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_DTR_RTS_OUT2 0x0B /* OUT2 gates the IRQ line on PCs */

/* A missing UART reads 0xFF (THRE set); bound the wait anyway. */
#define TX_SPIN_MAX 100000

void serial_init(void)
{
    outb(COM1 + IER, 0x00);
    outb(COM1 + LCR, LCR_DLAB);
    outb(COM1 + DLL, 1); /* 115200 baud */
    outb(COM1 + DLM, 0);
    outb(COM1 + LCR, LCR_8N1);
    outb(COM1 + FCR, 0x07); /* enable + clear FIFOs, trigger at 1 byte */
    outb(COM1 + MCR, MCR_DTR_RTS_OUT2);
}

void serial_putc(char c)
{
    for (int i = 0; i < TX_SPIN_MAX && !(inb(COM1 + LSR) & LSR_THRE); i++)
        cpu_pause();
    outb(COM1 + THR, (uint8_t)c);
}

void serial_flush(void)
{
    for (int i = 0; i < TX_SPIN_MAX && !(inb(COM1 + LSR) & LSR_TEMT); i++)
        cpu_pause();
}

int serial_getc_nowait(void)
{
    uint8_t lsr = inb(COM1 + LSR);
    if (lsr == 0xFF || !(lsr & LSR_DR))
        return -1;
    return inb(COM1 + RBR);
}

void serial_enable_rx_irq(int on)
{
    /* Clear stale state so the first byte raises a fresh edge. */
    (void)inb(COM1 + LSR);
    (void)inb(COM1 + IIR);
    (void)inb(COM1 + MSR);
    outb(COM1 + IER, on ? 0x01 : 0x00);
}
