/* A 5x7 bitmap font for printable ASCII (lib/font.c). */
#ifndef FONT_H
#define FONT_H

#include <stdint.h>

#define FONT_FIRST 0x20
#define FONT_GLYPHS 95
#define FONT_ROWS 7
#define FONT_COLS 5

extern const uint8_t font_5x7[FONT_GLYPHS][FONT_ROWS];

/* The rows of character c (a box for anything outside 0x20-0x7E). */
static inline const uint8_t *font_glyph(char c)
{
    static const uint8_t box[FONT_ROWS] = {0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f};
    unsigned char u = (unsigned char)c;
    return u >= FONT_FIRST && u < FONT_FIRST + FONT_GLYPHS ? font_5x7[u - FONT_FIRST] : box;
}

#endif
