/*
 * kbd: polls the i8042 and prints every byte the keyboard sends, so a test can
 * check what reaches the guest from the host (control-socket powerdown, VNC key
 * events). Enables scanning (0xF4) first, prints READY, then reports
 *   key XX        each byte read from port 0x60 (set 1, the controller translates)
 *   ctrl-alt-del  after the make codes of Ctrl, Alt and Delete (E0 53) arrive
 * and passes after ctrl-alt-del, or after keys=N bytes when keys= is given.
 * Polling keeps it independent of interrupt routing.
 */
#include "guest.h"

const char guest_name[] = "kbd";

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define STATUS_OUTPUT_FULL 0x01
#define STATUS_INPUT_FULL 0x02
#define STATUS_AUX_DATA 0x20

static int kbd_read_nowait(void)
{
    uint8_t status = inb(I8042_STATUS);
    if (!(status & STATUS_OUTPUT_FULL))
        return -1;
    uint8_t value = inb(I8042_DATA);
    return (status & STATUS_AUX_DATA) ? -1 : value; /* mouse bytes are not ours */
}

static void kbd_write(uint8_t value)
{
    for (int i = 0; i < 100000 && (inb(I8042_STATUS) & STATUS_INPUT_FULL); i++)
        cpu_pause();
    outb(I8042_DATA, value);
}

int main(void)
{
    uint64_t limit = cmdline_u64("keys", 0);
    while (kbd_read_nowait() >= 0)
        ; /* drop anything queued before us */
    kbd_write(0xF4);
    int ack = -1;
    for (int i = 0; i < 100000 && ack < 0; i++)
        ack = kbd_read_nowait();
    printf("kbd: enable answered 0x%x\n", ack);
    printf("READY\n");

    int ctrl = 0, alt = 0, extended = 0;
    uint64_t count = 0;
    for (;;) {
        int c = kbd_read_nowait();
        if (c < 0) {
            cpu_pause();
            continue;
        }
        printf("key %02x\n", c);
        count++;
        if (c == 0xE0) {
            extended = 1;
            continue;
        }
        int release = c & 0x80, code = c & 0x7F;
        if (code == 0x1D)
            ctrl = !release;
        else if (code == 0x38)
            alt = !release;
        else if (extended && code == 0x53 && !release && ctrl && alt) {
            printf("ctrl-alt-del\n");
            return 0;
        }
        extended = 0;
        if (limit && count >= limit)
            return 0;
    }
}
