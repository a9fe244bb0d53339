/*
 * 8254 PIT channel 0. pit_periodic() makes it interrupt at a rate;
 * pit_clock_*() instead let it free-run (mode 2, count 65536, ~55 ms per lap)
 * and read it back with the latch command to keep time by polling.
 */
#include "guest.h"

#define PIT_CH0 0x40
#define PIT_CMD 0x43

void pit_periodic(uint32_t hz)
{
    uint32_t div = PIT_HZ / hz;
    if (div < 2)
        div = 2;
    if (div > 65535)
        div = 0; /* 65536 */
    outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
    outb(PIT_CH0, (uint8_t)div);
    outb(PIT_CH0, (uint8_t)(div >> 8));
}

static uint16_t pit_read(void)
{
    outb(PIT_CMD, 0x00); /* latch channel 0 */
    uint8_t lo = inb(PIT_CH0);
    uint8_t hi = inb(PIT_CH0);
    return (uint16_t)(lo | (hi << 8));
}

static uint16_t clock_last;
static uint64_t clock_ticks;

void pit_clock_start(void)
{
    outb(PIT_CMD, 0x34);
    outb(PIT_CH0, 0);
    outb(PIT_CH0, 0);
    clock_last = pit_read();
    clock_ticks = 0;
}

static uint64_t pit_clock_ticks(void)
{
    uint16_t now = pit_read();
    clock_ticks += (uint16_t)(clock_last - now); /* counts down, wraps at 65536 */
    clock_last = now;
    return clock_ticks;
}

uint64_t pit_clock_us(void)
{
    return pit_clock_ticks() * 1000000ull / PIT_HZ;
}

void deadline_set(struct deadline *d, uint64_t ms)
{
    d->end_us = pit_clock_us() + ms * 1000;
    d->stuck = 0;
    d->last = clock_last;
}

int deadline_passed(struct deadline *d)
{
    if (pit_clock_us() >= d->end_us)
        return 1;
    /* A PIT that never moves (absent) must not hang us. */
    if (clock_last == d->last) {
        if (++d->stuck > 200000)
            return 1;
    } else {
        d->stuck = 0;
        d->last = clock_last;
    }
    return 0;
}

void delay_us(uint64_t us)
{
    struct deadline d;
    d.end_us = pit_clock_us() + us;
    d.stuck = 0;
    d.last = clock_last;
    while (!deadline_passed(&d))
        cpu_pause();
}

uint64_t tsc_hz;

uint64_t tsc_calibrate(void)
{
    pit_clock_start();
    uint64_t us0 = pit_clock_us(), t0 = rdtsc(), us;
    do {
        us = pit_clock_us();
    } while (us - us0 < 50000);
    uint64_t t1 = rdtsc();
    tsc_hz = (t1 - t0) * 1000000ull / (us - us0);
    if (!tsc_hz)
        tsc_hz = 1;
    return tsc_hz;
}

uint64_t tsc_us(uint64_t ticks)
{
    /* ticks * 1e6 / hz without overflowing for hours at GHz rates */
    return ticks / tsc_hz * 1000000ull + ticks % tsc_hz * 1000000ull / tsc_hz;
}
