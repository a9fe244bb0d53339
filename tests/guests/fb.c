/*
 * fb: the std-vga (PCI 1234:1111) driven as a guest driver does, under the
 * platform and under QEMU -vga std alike.
 *
 * Finds the function by a configuration walk (mechanism #1), reads BAR 0 (the
 * linear framebuffer) and BAR 2 (the MMIO registers), checks the DISPI
 * interface id, sets a 32 bpp mode through the DISPI ports 0x1CE/0x1CF, turns
 * video on at the VGA attribute controller (read 0x3DA, write 0x20 to 0x3C0,
 * which QEMU needs) and draws a known picture:
 *   - the top half: eight vertical colour bars, each width/8 wide, in the order
 *     white, yellow, cyan, green, magenta, red, blue, black (0x00RRGGBB);
 *   - a grey (0x808080) box at (width/8, height*5/8), width*3/4 by 48 pixels,
 *     with "PLATFORM FB TEST WxH" in white from (box x + 12, box y + 16);
 *   - everything else black (the device clears video memory on a mode set).
 * Text is lib/font.c's 5x7 font at twice its size in 12x16 cells. It prints the
 * geometry and an FNV-1a checksum of the box (over the 0x00RRGGBB pixels, row by
 * row: h = 2166136261; per pixel h = (h ^ p) * 16777619, 32-bit), so a host that
 * captured the screen can check the text pixel for pixel, then READY.
 *
 * Then it polls the i8042 (set 1 scancodes, as the controller translates) and
 * echoes each typed character to serial ("fb: key 'x' echo fnv 0x........", the
 * checksum of the echo line: full width, 16 lines from height - 24) and to the
 * echo line. Tab switches to the second mode (mode2=) and draws the picture
 * again; Esc, or keys=N characters, ends the test with PASS.
 *
 * Command line: mode=WxH (640x480), mode2=WxH (800x600), echo=0 (pass right
 * after drawing), keys=N (0: until Esc), move=1 (move BAR 0 to another free
 * address in the window before drawing), bench=fill|scroll with frames=N (0:
 * forever), fps=N (0: as fast as possible) and report=N (a progress line every
 * N frames). bench=fill changes the whole screen each frame without redrawing:
 * it draws four pages of a desktop below each other in video memory (a
 * gradient background, overlapping windows with title bars and text, placed and
 * worded differently on each page) and flips between them with the DISPI Y
 * offset, as a double-buffered driver does.
 * bench=scroll is a text console as fbcon draws one without panning: each frame
 * moves the screen up one 16-pixel line (rep movsq over the whole screen) and
 * writes a new line of text at the bottom; with flip=1 it does that in the other
 * of two pages and then flips to it, so a viewer only ever sees whole scrolls
 * (a guest as slow as one under PVM otherwise shows each copy half done).
 */
#include "font.h"
#include "pci.h"

const char guest_name[] = "fb";

#define DISPI_INDEX 0x1CE
#define DISPI_DATA 0x1CF
#define DISPI_ID 0x0
#define DISPI_XRES 0x1
#define DISPI_YRES 0x2
#define DISPI_BPP 0x3
#define DISPI_ENABLE 0x4
#define DISPI_BANK 0x5
#define DISPI_VIRT_WIDTH 0x6
#define DISPI_VIRT_HEIGHT 0x7
#define DISPI_Y_OFFSET 0x9
#define DISPI_VIDEO_MEMORY_64K 0xA
#define DISPI_ENABLED 0x01
#define DISPI_LFB_ENABLED 0x40
#define DISPI_ID_FIRST 0xB0C0
#define DISPI_ID_LAST 0xB0C5
#define MMIO_DISPI 0x500

#define VGA_ATTR_INDEX 0x3C0
#define VGA_INPUT_STATUS 0x3DA
#define VGA_ATTR_VIDEO_ON 0x20

#define I8042_DATA 0x60
#define I8042_STATUS 0x64

#define CELL_W 12
#define CELL_H 16
#define BOX_H 48
#define GREY 0x808080u
#define WHITE 0xFFFFFFu
#define BLACK 0x000000u

static const uint32_t bar_colours[8] = {
    0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00, 0xFF00FF, 0xFF0000, 0x0000FF, 0x000000,
};

static struct pci_dev devs[PCI_MAX_FUNCS];
static uint64_t fb_base, mmio_base;
static uint32_t width, height, stride_px, virt_height;
static uint32_t echo_col;

static void dispi_write(uint16_t index, uint16_t value)
{
    outw(DISPI_INDEX, index);
    outw(DISPI_DATA, value);
}

static uint16_t dispi_read(uint16_t index)
{
    outw(DISPI_INDEX, index);
    return inw(DISPI_DATA);
}

static volatile uint32_t *pixel(uint32_t x, uint32_t y)
{
    return (volatile uint32_t *)(uintptr_t)(fb_base + ((uint64_t)y * stride_px + x) * 4);
}

/* A w x h rectangle of one colour: one rep stosl per line (emulated as one
 * instruction under PVM, where each instruction is expensive). */
static void fill(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t colour)
{
    /* Below the visible screen is video memory too: bench=fill draws its pages there. */
    if (x >= width || y >= virt_height)
        return;
    if (w > width - x)
        w = width - x;
    if (h > virt_height - y)
        h = virt_height - y;
    for (uint32_t row = 0; row < h; row++) {
        void *d = (void *)pixel(x, y + row);
        uint64_t n = w;
        __asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(colour) : "memory");
    }
}

/* One character in a 12x16 cell: background, then the glyph's pixels as 2x2 blocks. */
static void draw_char(uint32_t x, uint32_t y, char c, uint32_t fg, uint32_t bg)
{
    fill(x, y, CELL_W, CELL_H, bg);
    const uint8_t *glyph = font_glyph(c);
    for (int r = 0; r < FONT_ROWS; r++)
        for (int col = 0; col < FONT_COLS; col++)
            if (glyph[r] & (0x10 >> col))
                fill(x + 1 + 2 * col, y + 1 + 2 * r, 2, 2, fg);
}

static void draw_text(uint32_t x, uint32_t y, const char *s, uint32_t fg, uint32_t bg)
{
    for (; *s && x + CELL_W <= width; s++, x += CELL_W)
        draw_char(x, y, *s, fg, bg);
}

static uint32_t checksum(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    uint32_t hash = 2166136261u;
    for (uint32_t row = 0; row < h; row++) {
        volatile uint32_t *p = pixel(x, y + row);
        for (uint32_t i = 0; i < w; i++)
            hash = (hash ^ (p[i] & 0xFFFFFFu)) * 16777619u;
    }
    return hash;
}

static void draw_bars(uint32_t y, uint32_t h, unsigned rotate)
{
    uint32_t bar = width / 8;
    for (uint32_t row = y; row < y + h; row++)
        for (int i = 0; i < 8; i++)
            fill(i * bar, row, i == 7 ? width - 7 * bar : bar, 1, bar_colours[(i + rotate) % 8]);
}

static void draw_picture(void)
{
    draw_bars(0, height / 2, 0);
    uint32_t bx = width / 8, by = height * 5 / 8, bw = width * 3 / 4;
    fill(bx, by, bw, BOX_H, GREY);
    char text[64];
    snprintf(text, sizeof(text), "PLATFORM FB TEST %ux%u", width, height);
    draw_text(bx + 12, by + 16, text, WHITE, GREY);
    printf("fb: bars 8 x %u over %u lines; box %u,%u %ux%u fnv 0x%08x\n", width / 8, height / 2, bx, by, bw, BOX_H,
           checksum(bx, by, bw, BOX_H));
}

static int parse_mode(const char *key, uint32_t *w, uint32_t *h, uint32_t dw, uint32_t dh)
{
    char buf[32];
    *w = dw;
    *h = dh;
    if (!cmdline_get(key, buf, sizeof(buf)))
        return 1;
    uint32_t a = 0, b = 0;
    const char *p = buf;
    for (; *p >= '0' && *p <= '9'; p++)
        a = a * 10 + (*p - '0');
    if (*p++ != 'x')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++)
        b = b * 10 + (*p - '0');
    if (*p || a < 8 || b < 8 || a > 4096 || b > 4096)
        return 0;
    *w = a;
    *h = b;
    return 1;
}

/* Sets a 32 bpp linear-framebuffer mode the way Linux's bochs driver and the
 * VGA BIOS do, then turns video output on. Returns 0 when the device did not
 * take the mode. */
static int set_mode(uint32_t w, uint32_t h)
{
    dispi_write(DISPI_ENABLE, 0);
    dispi_write(DISPI_BPP, 32);
    dispi_write(DISPI_XRES, (uint16_t)w);
    dispi_write(DISPI_YRES, (uint16_t)h);
    dispi_write(DISPI_BANK, 0);
    dispi_write(DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
    (void)inb(VGA_INPUT_STATUS); /* the attribute controller's flip-flop back to "index" */
    outb(VGA_ATTR_INDEX, VGA_ATTR_VIDEO_ON);

    width = dispi_read(DISPI_XRES);
    height = dispi_read(DISPI_YRES);
    stride_px = dispi_read(DISPI_VIRT_WIDTH);
    virt_height = dispi_read(DISPI_VIRT_HEIGHT);
    uint16_t bpp = dispi_read(DISPI_BPP);
    printf("fb: mode %ux%ux%u stride %u\n", width, height, bpp, stride_px * 4);
    if (mmio_base) {
        uint16_t xres = mmio_read16(mmio_base + MMIO_DISPI + 2 * DISPI_XRES);
        if (xres != width)
            test_fail("BAR 2 DISPI xres %u, ports say %u", xres, width);
    }
    echo_col = 0;
    return width == w && height == h && bpp == 32 && stride_px >= width;
}

/* Moves BAR 0 to the highest free, aligned address below 0xF0000000 + size in
 * the platform's window, as an OS reassigning resources would. */
static void move_framebuffer(struct pci_dev *vga, int n)
{
    uint64_t size = vga->bar_size[0];
    for (uint64_t a = 0xF0000000ull; a >= 0xE0000000ull; a -= size) {
        int clash = a == vga->bar[0];
        for (int i = 0; i < n && !clash; i++)
            for (int b = 0; b < 6; b++)
                if (devs[i].bar_size[b] && !devs[i].bar_io[b] && !(&devs[i] == vga && b == 0) &&
                    a < devs[i].bar[b] + devs[i].bar_size[b] && devs[i].bar[b] < a + size)
                    clash = 1;
        if (clash)
            continue;
        uint16_t cmd = pci_read16(vga, PCI_COMMAND);
        pci_write16(vga, PCI_COMMAND, cmd & ~PCI_CMD_MEMORY);
        pci_write32(vga, PCI_BAR0, (uint32_t)a | (pci_read32(vga, PCI_BAR0) & 0xF));
        pci_write16(vga, PCI_COMMAND, cmd | PCI_CMD_MEMORY);
        printf("fb: moved BAR0 0x%lx -> 0x%lx\n", vga->bar[0], a);
        vga->bar[0] = a;
        return;
    }
    test_fail("no free place to move BAR 0 to");
}

/* Waits for the next frame time (fps=) and prints progress every report= frames. */
struct pacer { uint64_t period, start, next, report; };

static void pacer_start(struct pacer *p, uint64_t fps, uint64_t report)
{
    p->period = fps ? tsc_hz / fps : 0;
    p->start = p->next = rdtsc();
    p->report = report;
}

static void pacer_frame_done(struct pacer *p, const char *bench, uint64_t frame)
{
    if (p->report && (frame + 1) % p->report == 0)
        printf("fb: bench %s frames=%lu us=%lu\n", bench, frame + 1, tsc_us(rdtsc() - p->start));
    if (p->period)
        for (p->next += p->period; rdtsc() < p->next;)
            cpu_pause();
}

/* A desktop-like page at line y0: a vertical gradient, then three overlapping
 * windows (title bar, white client area, lines of text) placed and worded by
 * the page number. Drawn with rep stosl spans only, so it stays cheap under PVM. */
static void draw_desktop_page(uint32_t y0, uint32_t page)
{
    static const char words[] = "the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ";
    for (uint32_t y = 0; y < height; y++) {
        uint32_t r = 0x10 + y * 0x50 / height, g = 0x30 + page * 0x18, b = 0x70 + y * 0x60 / height;
        fill(0, y0 + y, width, 1, (r << 16) | (g << 8) | b);
    }
    static const uint32_t title[4] = {0x3060A0, 0xA04030, 0x309050, 0x806020};
    char text[128];
    for (uint32_t w = 0; w < 3; w++) {
        uint32_t ww = width / 2 + 40 * w, wh = height / 2 + 20 * w;
        uint32_t wx = (page * 97 + w * 151) % (width - ww), wy = (page * 61 + w * 89) % (height - wh);
        fill(wx, y0 + wy, ww, 24, title[(page + w) % 4]);
        snprintf(text, sizeof(text), "window %u on page %u", w, page);
        draw_text(wx + 8, y0 + wy + 4, text, WHITE, title[(page + w) % 4]);
        fill(wx, y0 + wy + 24, ww, wh - 24, WHITE);
        uint32_t cols = (ww - 16) / CELL_W;
        if (cols >= sizeof(text))
            cols = sizeof(text) - 1;
        for (uint32_t line = 0; (line + 1) * CELL_H + 32 < wh; line++) {
            for (uint32_t i = 0; i < cols; i++)
                text[i] = words[(i + line * 7 + page * 13 + w * 29) % (sizeof(words) - 1)];
            text[cols] = '\0';
            draw_text(wx + 8, y0 + wy + 32 + line * CELL_H, text, BLACK, WHITE);
        }
    }
}

static void bench_fill(uint64_t frames, uint64_t fps, uint64_t report)
{
    uint32_t pages = virt_height / height;
    if (pages > 4)
        pages = 4;
    if (pages < 2 || width < 256 || height < 192)
        test_fail("bench=fill needs two pages of video memory and at least 256x192 (got %ux%u)", width, height);
    for (uint32_t p = 0; p < pages; p++)
        draw_desktop_page(p * height, p);
    printf("fb: bench fill flips %u pages\n", pages);
    struct pacer pacer;
    pacer_start(&pacer, fps, report);
    uint64_t frame = 0;
    for (; !frames || frame < frames; frame++) {
        dispi_write(DISPI_Y_OFFSET, (uint16_t)(((frame + 1) % pages) * height));
        pacer_frame_done(&pacer, "fill", frame);
    }
    printf("fb: bench fill frames=%lu us=%lu\n", frame, tsc_us(rdtsc() - pacer.start));
}

static void bench_scroll(uint64_t frames, uint64_t fps, uint64_t report, int flip)
{
    static const char words[] = "the quick brown fox jumps over the lazy dog 0123456789 ";
    uint32_t cols = width / CELL_W, shown = 0;
    char line[512];
    if (flip && virt_height < 2 * height)
        test_fail("bench=scroll flip=1 needs two pages of video memory at %ux%u", width, height);
    struct pacer pacer;
    pacer_start(&pacer, fps, report);
    uint64_t frame = 0;
    for (; !frames || frame < frames; frame++) {
        /* Scroll up one text line, as fbcon does without a copy accelerator or panning: in place, or from the page
         * on screen into the other one. */
        uint32_t target = flip ? (shown ^ 1) * height : 0;
        void *d = (void *)pixel(0, target);
        const void *src = (const void *)pixel(0, shown * height + CELL_H);
        uint64_t n = (uint64_t)(height - CELL_H) * stride_px / 2;
        __asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
        fill(0, target + height - CELL_H, width, CELL_H, BLACK);
        int len = snprintf(line, sizeof(line), "%06lu ", frame);
        for (uint32_t i = (uint32_t)len; i < cols && i + 1 < sizeof(line); i++)
            line[i] = words[(i + frame) % (sizeof(words) - 1)];
        line[cols < sizeof(line) ? cols : sizeof(line) - 1] = '\0';
        draw_text(0, target + height - CELL_H, line, 0xC0C0C0, BLACK);
        if (flip) {
            shown ^= 1;
            dispi_write(DISPI_Y_OFFSET, (uint16_t)(shown * height));
        }
        pacer_frame_done(&pacer, "scroll", frame);
    }
    printf("fb: bench scroll frames=%lu us=%lu\n", frame, tsc_us(rdtsc() - pacer.start));
}

static int kbd_read_nowait(void)
{
    uint8_t status = inb(I8042_STATUS);
    if (!(status & 0x01))
        return -1;
    uint8_t value = inb(I8042_DATA);
    return (status & 0x20) ? -1 : value; /* mouse bytes are not ours */
}

static void kbd_enable(void)
{
    while (kbd_read_nowait() >= 0)
        ; /* drop anything queued before us */
    for (int i = 0; i < 100000 && (inb(I8042_STATUS) & 0x02); i++)
        cpu_pause();
    outb(I8042_DATA, 0xF4); /* enable scanning */
    for (int i = 0; i < 100000 && kbd_read_nowait() < 0; i++)
        cpu_pause();
}

/* Set 1 make codes 0x00-0x39 of a US keyboard, without and with Shift. */
static const char keymap[2][0x3A] = {
    {0, 0x1B, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', '\b', '\t',
     'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\n', 0, 'a', 's',
     'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`', 0, '\\', 'z', 'x', 'c', 'v',
     'b', 'n', 'm', ',', '.', '/', 0, '*', 0, ' '},
    {0, 0x1B, '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '\b', '\t',
     'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\n', 0, 'A', 'S',
     'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~', 0, '|', 'Z', 'X', 'C', 'V',
     'B', 'N', 'M', '<', '>', '?', 0, '*', 0, ' '},
};

static void echo(char c)
{
    uint32_t y = height - 24, cols = (width - 16) / CELL_W;
    if (echo_col >= cols) {
        fill(0, y, width, CELL_H, BLACK);
        echo_col = 0;
    }
    draw_char(8 + echo_col * CELL_W, y, c, WHITE, BLACK);
    echo_col++;
    printf("fb: key '%c' echo fnv 0x%08x\n", c, checksum(0, y, width, CELL_H));
}

static void echo_keys(uint32_t w2, uint32_t h2)
{
    uint64_t limit = cmdline_u64("keys", 0), count = 0;
    int shift = 0, extended = 0;
    kbd_enable();
    printf("READY\n");
    for (;;) {
        int c = kbd_read_nowait();
        if (c < 0) {
            cpu_pause();
            continue;
        }
        if (c == 0xE0) {
            extended = 1;
            continue;
        }
        int release = c & 0x80, code = c & 0x7F;
        int was_extended = extended;
        extended = 0;
        if (code == 0x2A || code == 0x36) {
            shift = !release;
            continue;
        }
        if (release || was_extended || code >= 0x3A)
            continue;
        char ch = keymap[shift][code];
        if (ch == 0x1B) {
            printf("fb: escape\n");
            return;
        }
        if (ch == '\t') {
            if (!set_mode(w2, h2))
                test_fail("mode %ux%u not taken", w2, h2);
            draw_picture();
            continue;
        }
        if (ch < ' ')
            continue;
        echo(ch);
        if (limit && ++count >= limit)
            return;
    }
}

int main(void)
{
    uint32_t w, h, w2, h2;
    if (!parse_mode("mode", &w, &h, 640, 480) || !parse_mode("mode2", &w2, &h2, 800, 600))
        test_fail("bad mode= or mode2= (want WxH)");

    int n = pci_scan(devs, PCI_MAX_FUNCS);
    struct pci_dev *vga = NULL;
    for (int i = 0; i < n && !vga; i++)
        if (devs[i].vendor == 0x1234 && devs[i].device == 0x1111 && (devs[i].class_rev >> 8) == 0x030000)
            vga = &devs[i];
    if (!vga)
        test_fail("no std-vga (1234:1111 class 030000) among %d PCI functions", n);
    printf("fb: std-vga at %02x:%02x.%x rev %u, BAR0 0x%lx size 0x%lx, BAR2 0x%lx size 0x%lx\n", vga->bus, vga->dev,
           vga->fn, vga->class_rev & 0xFF, vga->bar[0], vga->bar_size[0], vga->bar[2], vga->bar_size[2]);
    if (!vga->bar[0] || vga->bar_size[0] < 0x100000)
        test_fail("BAR 0 is not a framebuffer");
    pci_enable(vga);
    if (cmdline_u64("move", 0))
        move_framebuffer(vga, n);
    fb_base = vga->bar[0];
    mmio_base = vga->bar_size[2] >= 0x1000 ? vga->bar[2] : 0;

    uint16_t id = dispi_read(DISPI_ID);
    printf("fb: DISPI id 0x%x, video memory %u KiB\n", id, dispi_read(DISPI_VIDEO_MEMORY_64K) * 64);
    if (id < DISPI_ID_FIRST || id > DISPI_ID_LAST)
        test_fail("DISPI id 0x%x is not a Bochs VBE interface", id);
    if ((uint64_t)w * h * 4 > vga->bar_size[0])
        test_fail("%ux%u does not fit in video memory", w, h);
    if (!set_mode(w, h))
        test_fail("mode %ux%u not taken", w, h);

    char bench[16];
    if (cmdline_get("bench", bench, sizeof(bench))) {
        uint64_t frames = cmdline_u64("frames", 0), fps = cmdline_u64("fps", 0), report = cmdline_u64("report", 0);
        tsc_calibrate();
        printf("fb: bench %s START\n", bench);
        if (!strcmp(bench, "fill"))
            bench_fill(frames, fps, report);
        else if (!strcmp(bench, "scroll"))
            bench_scroll(frames, fps, report, (int)cmdline_u64("flip", 0));
        else
            test_fail("bench=%s: want fill or scroll", bench);
        return 0;
    }

    draw_picture();
    if (cmdline_u64("echo", 1))
        echo_keys(w2, h2);
    return 0;
}
