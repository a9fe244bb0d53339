/*
 * printf-lite: %s %c %d %i %u %x %X %p %%, flags '-' and '0', a width, and the
 * l / ll / z length modifiers. Lines end with "\n" only. printf() holds a
 * spinlock (interrupts off while held) so CPUs do not interleave lines.
 */
#include "guest.h"

struct sink {
    char *buf;       /* NULL: serial */
    size_t size, len;
};

static void emit(struct sink *s, char c)
{
    if (!s->buf)
        serial_putc(c);
    else if (s->len + 1 < s->size)
        s->buf[s->len] = c;
    s->len++;
}

static void emit_num(struct sink *s, uint64_t v, int base, int upper, int neg, int width, char pad, int left)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (neg ? 1 : 0);
    if (neg && pad == '0')
        emit(s, '-');
    if (!left)
        for (; len < width; width--)
            emit(s, pad);
    if (neg && pad != '0')
        emit(s, '-');
    while (n)
        emit(s, tmp[--n]);
    if (left)
        for (; len < width; width--)
            emit(s, ' ');
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(s, *fmt);
            continue;
        }
        fmt++;
        int left = 0, width = 0, lng = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-')
                left = 1;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        int precision = -1; /* "%.Ns": at most N bytes, for fixed-width fields such as ACPI signatures */
        if (*fmt == '.') {
            precision = 0;
            for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
                precision = precision * 10 + (*fmt - '0');
        }
        while (*fmt == 'l' || *fmt == 'z') {
            lng = 1;
            fmt++;
        }
        if (left)
            pad = ' ';
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            emit_num(s, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, 0, v < 0, width, pad, left);
            break;
        }
        case 'u':
            emit_num(s, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, 0, 0, width, pad, left);
            break;
        case 'x':
        case 'X':
            emit_num(s, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, *fmt == 'X', 0, width, pad, left);
            break;
        case 'p':
            emit(s, '0');
            emit(s, 'x');
            emit_num(s, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, 0, 0, width, pad, left);
            break;
        case 'c':
            emit(s, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int len = 0;
            while (str[len] && (precision < 0 || len < precision))
                len++;
            if (!left)
                for (; len < width; width--)
                    emit(s, ' ');
            for (int i = 0; i < len; i++)
                emit(s, str[i]);
            if (left)
                for (; len < width; width--)
                    emit(s, ' ');
            break;
        }
        case '%':
            emit(s, '%');
            break;
        case '\0':
            return;
        default:
            emit(s, '%');
            emit(s, *fmt);
        }
    }
}

static spinlock_t console_lock;

void console_break_lock(void)
{
    spin_unlock(&console_lock);
}

int vprintf(const char *fmt, va_list ap)
{
    struct sink s = { 0 };
    uint64_t flags = read_flags();
    cli();
    spin_lock(&console_lock);
    format(&s, fmt, ap);
    spin_unlock(&console_lock);
    if (flags & 0x200)
        sti();
    return (int)s.len;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = { buf, size, 0 };
    format(&s, fmt, ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = '\0';
    return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
