/*
 * rtc: reads the CMOS real-time clock (ports 0x70/0x71), waiting for
 * update-not-in-progress and reading until two reads agree; handles BCD/binary
 * and 12/24-hour formats from register B. Prints "RTC YYYY-MM-DD HH:MM:SS" and
 * passes if the date is plausible (year 2020-2099, month 1-12, ...).
 */
#include "guest.h"

const char guest_name[] = "rtc";

#define REG_SEC 0x00
#define REG_MIN 0x02
#define REG_HOUR 0x04
#define REG_DAY 0x07
#define REG_MON 0x08
#define REG_YEAR 0x09
#define REG_A 0x0A
#define REG_B 0x0B
#define REG_CENTURY 0x32
#define A_UIP 0x80
#define B_24H 0x02
#define B_BINARY 0x04

struct rtc_raw { uint8_t sec, min, hour, day, mon, year, century; };

static void read_raw(struct rtc_raw *r)
{
    for (int i = 0; i < 100000 && (cmos_read(REG_A) & A_UIP); i++)
        cpu_pause();
    r->sec = cmos_read(REG_SEC);
    r->min = cmos_read(REG_MIN);
    r->hour = cmos_read(REG_HOUR);
    r->day = cmos_read(REG_DAY);
    r->mon = cmos_read(REG_MON);
    r->year = cmos_read(REG_YEAR);
    r->century = cmos_read(REG_CENTURY);
}

static unsigned bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0x0F); }

int main(void)
{
    struct rtc_raw a, b;
    read_raw(&a);
    for (int i = 0; i < 10; i++) {
        read_raw(&b);
        if (!memcmp(&a, &b, sizeof(a)))
            break;
        a = b;
    }
    uint8_t regb = cmos_read(REG_B);
    int pm = (a.hour & 0x80) != 0;
    uint8_t hour = a.hour & 0x7F;
    unsigned sec = a.sec, min = a.min, hr = hour, day = a.day, mon = a.mon, yr = a.year, cent = a.century;
    if (!(regb & B_BINARY)) {
        sec = bcd(a.sec);
        min = bcd(a.min);
        hr = bcd(hour);
        day = bcd(a.day);
        mon = bcd(a.mon);
        yr = bcd(a.year);
        cent = bcd(a.century);
    }
    if (!(regb & B_24H)) {
        hr %= 12;
        if (pm)
            hr += 12;
    }
    if (cent < 19 || cent > 21)
        cent = 20; /* no century register */
    unsigned year = cent * 100 + yr;

    printf("rtc: register B=0x%x (%s, %s)\n", regb, (regb & B_BINARY) ? "binary" : "BCD",
           (regb & B_24H) ? "24h" : "12h");
    printf("RTC %04u-%02u-%02u %02u:%02u:%02u\n", year, mon, day, hr, min, sec);
    if (year < 2020 || year > 2099 || mon < 1 || mon > 12 || day < 1 || day > 31 || hr > 23 || min > 59 ||
        sec > 59)
        test_fail("implausible RTC %04u-%02u-%02u %02u:%02u:%02u", year, mon, day, hr, min, sec);
    return 0;
}
