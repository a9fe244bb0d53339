/*
 * input: drives the virtio-input tablet and keyboard as Linux's virtio_input
 * driver does. Finds every virtio-input function (1af4:1052), asks each through
 * the select/subsel protocol of its configuration space for its name, IDs,
 * event bits and (tablet) axis ranges, and checks that one is a tablet (ABS_X
 * and ABS_Y from 0 to 32767, left/right/middle buttons, a wheel) and one a
 * keyboard (Esc, A, Enter, Num/Caps/Scroll Lock LEDs, autorepeat). It enables
 * PS/2 scanning too, posts 64 eight-byte buffers on each event queue, sends
 * "Caps Lock on" through the keyboard's status queue, prints READY, and then
 * polls both event queues (and the i8042) and prints
 *   input: tablet EV_ABS ABS_X 16400     one line per event, SYN_REPORT included
 *   input: keyboard EV_KEY 30 1
 *   ps2: key 1e                          each byte the PS/2 keyboard sends
 * It passes when the keyboard reports Escape released, and fails after
 * timeout=S seconds (default 120) or on a malformed event.
 *   irq=poll (default: QEMU's virtio-input has too few MSI-X vectors) | msix | intx
 */
#include "virtio.h"

const char guest_name[] = "input";

#define CFG_SELECT 0
#define CFG_SUBSEL 1
#define CFG_SIZE 2
#define CFG_UNION 8

#define SEL_NAME 0x01
#define SEL_DEVIDS 0x03
#define SEL_EV_BITS 0x11
#define SEL_ABS_INFO 0x12

#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_LED 0x11
#define EV_REP 0x14
#define ABS_X 0
#define ABS_Y 1
#define REL_WHEEL 8
#define KEY_ESC 1
#define KEY_ENTER 28
#define KEY_A 30
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define LED_CAPSL 1

#define I8042_DATA 0x60
#define I8042_STATUS 0x64

#define EVENTS 64

struct input_event { uint16_t type, code; int32_t value; };

struct input_dev {
    struct virtio_dev v;
    const char *role;                   /* "tablet" or "keyboard" */
    char name[129];
    uint8_t key_bits[128];
    int key_size;
    struct virtq evq, stq;
    struct input_event events[EVENTS];
    struct input_event status;
};

static struct pci_dev devs[PCI_MAX_FUNCS];
static struct input_dev inputs[2];
static struct input_dev *tablet, *keyboard;

/* Writes select and subsel, returns size; the answer is then at CFG_UNION. */
static int cfg_select(struct input_dev *d, uint8_t select, uint8_t subsel)
{
    virtio_cfg_write8(&d->v, CFG_SELECT, select);
    virtio_cfg_write8(&d->v, CFG_SUBSEL, subsel);
    return virtio_cfg8(&d->v, CFG_SIZE);
}

static int cfg_bits(struct input_dev *d, uint8_t type, uint8_t *bits)
{
    int size = cfg_select(d, SEL_EV_BITS, type);
    for (int i = 0; i < size && i < 128; i++)
        bits[i] = virtio_cfg8(&d->v, CFG_UNION + i);
    return size;
}

static int bit_set(const uint8_t *bits, int size, int bit)
{
    return bit / 8 < size && (bits[bit / 8] & (1 << (bit % 8)));
}

static void probe(struct input_dev *d, struct pci_dev *pci, enum virtio_irq irq)
{
    if (virtio_init(&d->v, pci, 0, irq) < 0 || !d->v.devcfg)
        test_fail("virtio-input at 00:%02x.0: setup failed", pci->dev);
    int size = cfg_select(d, SEL_NAME, 0);
    if (size == 0 || size > 128)
        test_fail("00:%02x.0: name size %d", pci->dev, size);
    for (int i = 0; i < size; i++)
        d->name[i] = (char)virtio_cfg8(&d->v, CFG_UNION + i);
    d->name[size] = 0;
    if (cfg_select(d, SEL_DEVIDS, 0) < 8)
        test_fail("'%s': no device IDs", d->name);
    uint16_t ids[4];
    for (int i = 0; i < 4; i++)
        ids[i] = (uint16_t)(virtio_cfg8(&d->v, CFG_UNION + 2 * i) | virtio_cfg8(&d->v, CFG_UNION + 2 * i + 1) << 8);

    uint8_t abs[128] = { 0 }, rel[128] = { 0 }, led[128] = { 0 };
    int abs_size = cfg_bits(d, EV_ABS, abs), rel_size = cfg_bits(d, EV_REL, rel), led_size = cfg_bits(d, EV_LED, led);
    d->key_size = cfg_bits(d, EV_KEY, d->key_bits);
    int keys = 0;
    for (int bit = 0; bit < d->key_size * 8; bit++)
        keys += bit_set(d->key_bits, d->key_size, bit) ? 1 : 0;

    if (bit_set(abs, abs_size, ABS_X)) {
        d->role = "tablet";
        int32_t range[2][2];
        for (int axis = ABS_X; axis <= ABS_Y; axis++) {
            if (cfg_select(d, SEL_ABS_INFO, (uint8_t)axis) < 20)
                test_fail("'%s': no ABS_INFO for axis %d", d->name, axis);
            range[axis][0] = (int32_t)virtio_cfg32(&d->v, CFG_UNION);
            range[axis][1] = (int32_t)virtio_cfg32(&d->v, CFG_UNION + 4);
        }
        printf("input: 00:%02x.0 tablet '%s' ids %04x:%04x:%04x:%04x abs x %d..%d y %d..%d, %d buttons, wheel %s\n",
               pci->dev, d->name, ids[0], ids[1], ids[2], ids[3], range[0][0], range[0][1], range[1][0], range[1][1],
               keys, bit_set(rel, rel_size, REL_WHEEL) ? "yes" : "no");
        if (!bit_set(abs, abs_size, ABS_Y) || range[0][0] != 0 || range[0][1] != 32767 || range[1][0] != 0 || range[1][1] != 32767)
            test_fail("the tablet's axes are not 0..32767");
        if (!bit_set(d->key_bits, d->key_size, BTN_LEFT) || !bit_set(d->key_bits, d->key_size, BTN_RIGHT) ||
            !bit_set(d->key_bits, d->key_size, BTN_MIDDLE) || !bit_set(rel, rel_size, REL_WHEEL))
            test_fail("the tablet lacks a button or the wheel");
        tablet = d;
    } else {
        d->role = "keyboard";
        int rep = cfg_select(d, SEL_EV_BITS, EV_REP);
        printf("input: 00:%02x.0 keyboard '%s' ids %04x:%04x:%04x:%04x, %d keys, leds 0x%x, repeat %s\n",
               pci->dev, d->name, ids[0], ids[1], ids[2], ids[3], keys, led_size ? led[0] : 0, rep ? "yes" : "no");
        if (!bit_set(d->key_bits, d->key_size, KEY_ESC) || !bit_set(d->key_bits, d->key_size, KEY_A) ||
            !bit_set(d->key_bits, d->key_size, KEY_ENTER))
            test_fail("the keyboard lacks Esc, A or Enter");
        if (led_size < 1 || (led[0] & 7) != 7 || !rep)
            test_fail("the keyboard lacks its LEDs or autorepeat");
        keyboard = d;
    }

    if (virtio_queue_setup(&d->v, &d->evq, 0, EVENTS) < 0 || virtio_queue_setup(&d->v, &d->stq, 1, 8) < 0)
        test_fail("'%s': queue setup failed", d->name);
    virtio_driver_ok(&d->v);
    for (int i = 0; i < EVENTS; i++) {
        struct vbuf b = { (uint64_t)(uintptr_t)&d->events[i], sizeof(struct input_event), 1 };
        if (virtq_add(&d->evq, &b, 1) < 0)
            test_fail("'%s': event queue full", d->name);
    }
    virtq_kick(&d->evq);
}

static const char *type_name(uint16_t type)
{
    switch (type) {
    case EV_SYN: return "EV_SYN";
    case EV_KEY: return "EV_KEY";
    case EV_REL: return "EV_REL";
    case EV_ABS: return "EV_ABS";
    default: return "EV_?";
    }
}

static void print_event(struct input_dev *d, const struct input_event *e)
{
    const char *code = 0;
    if (e->type == EV_SYN && e->code == 0)
        code = "SYN_REPORT";
    else if (e->type == EV_ABS && e->code <= ABS_Y)
        code = e->code == ABS_X ? "ABS_X" : "ABS_Y";
    else if (e->type == EV_REL && e->code == REL_WHEEL)
        code = "REL_WHEEL";
    else if (e->type == EV_KEY && e->code >= BTN_LEFT && e->code <= BTN_MIDDLE)
        code = e->code == BTN_LEFT ? "BTN_LEFT" : e->code == BTN_RIGHT ? "BTN_RIGHT" : "BTN_MIDDLE";
    if (code)
        printf("input: %s %s %s %d\n", d->role, type_name(e->type), code, e->value);
    else
        printf("input: %s %s %u %d\n", d->role, type_name(e->type), e->code, e->value);
}

/* Takes every used event buffer, prints its event and posts it again; 1 once Escape is released. */
static int drain(struct input_dev *d)
{
    int escape = 0, posted = 0;
    uint32_t len;
    int head;
    while ((head = virtq_get(&d->evq, &len)) >= 0) {
        struct input_event *e = (struct input_event *)(uintptr_t)d->evq.desc[head].addr;
        if (len != sizeof(*e))
            test_fail("%s: used length %u, not %u", d->role, len, (unsigned)sizeof(*e));
        print_event(d, e);
        if (d == keyboard && e->type == EV_KEY && e->code == KEY_ESC && e->value == 0)
            escape = 1;
        struct vbuf b = { (uint64_t)(uintptr_t)e, sizeof(*e), 1 };
        if (virtq_add(&d->evq, &b, 1) < 0)
            test_fail("%s: could not post event buffer %d again", d->role, head); /* the device would run dry */
        posted = 1;
    }
    if (posted)
        virtq_kick(&d->evq);
    return escape;
}

static void send_caps_lock(void)
{
    keyboard->status = (struct input_event){ EV_LED, LED_CAPSL, 1 };
    struct vbuf b = { (uint64_t)(uintptr_t)&keyboard->status, sizeof(keyboard->status), 0 };
    if (virtq_add(&keyboard->stq, &b, 1) < 0)
        test_fail("status queue full");
    virtq_kick(&keyboard->stq);
    uint32_t len;
    if (virtq_wait(&keyboard->v, &keyboard->stq, &len, 5000) < 0)
        test_fail("the keyboard did not take its status buffer within 5 s");
    printf("input: keyboard took the Caps Lock status event\n");
}

static void ps2_enable(void)
{
    while (inb(I8042_STATUS) & 1)
        inb(I8042_DATA);
    for (int i = 0; i < 100000 && (inb(I8042_STATUS) & 2); i++)
        cpu_pause();
    outb(I8042_DATA, 0xF4);
    for (int i = 0; i < 100000 && !(inb(I8042_STATUS) & 1); i++)
        cpu_pause();
    while (inb(I8042_STATUS) & 1)
        inb(I8042_DATA); /* the acknowledgement */
}

int main(void)
{
    uint64_t timeout_s = cmdline_u64("timeout", 120);
    tsc_calibrate();
    /* Polled by default: QEMU gives virtio-input 2 MSI-X vectors, fewer than one per queue. */
    enum virtio_irq irq = cmdline_is("irq", "msix") ? VIRTIO_IRQ_MSIX : cmdline_is("irq", "intx") ? VIRTIO_IRQ_INTX : VIRTIO_IRQ_POLL;
    int n = pci_scan(devs, PCI_MAX_FUNCS);
    for (int i = 0; i < 2; i++) {
        struct pci_dev *d = virtio_find(devs, n, VIRTIO_ID_INPUT, i);
        if (!d)
            test_fail("found %d virtio-input functions, not 2", i);
        probe(&inputs[i], d, irq);
    }
    if (!tablet || !keyboard)
        test_fail("not one tablet and one keyboard");
    send_caps_lock();
    ps2_enable();
    printf("READY\n");

    uint64_t end = rdtsc() + timeout_s * tsc_hz;
    for (uint32_t spin = 0;; spin++) {
        drain(tablet);
        if (drain(keyboard))
            break;
        if ((spin & 63) == 0 && (inb(I8042_STATUS) & 0x21) == 1)
            printf("ps2: key %02x\n", inb(I8042_DATA));
        if ((spin & 1023) == 1023) {
            for (int i = 0; i < 2; i++)
                if (virtio_status(&inputs[i].v) & VIRTIO_STATUS_NEEDS_RESET)
                    test_fail("%s: the device needs a reset", inputs[i].role);
            if (rdtsc() > end)
                test_fail("no Escape within %lu s", timeout_s);
        }
        cpu_pause();
    }
    printf("input: escape\n");
    return 0;
}
