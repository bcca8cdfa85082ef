/*  rc_text.c - a strict UTF-8 decoder (RFC 3629: no overlong forms, no
    surrogates, nothing above U+10FFFF) that rebuilds the text from what is
    safe to print. Terminal escape sequences are dropped whole so that what
    is left reads as text, not as "[31m" litter. */
#include "rc_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_ESC 0x1b
#define S_BEL 0x07
#define S_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define S_REPLACEMENT_LEN 3
/* the most one input byte can grow to: an invalid byte becomes U+FFFD */
#define S_GROWTH S_REPLACEMENT_LEN

/* Decodes one character at p (n bytes left). Returns its length and sets
 *cp, or 0 when the bytes there are not valid UTF-8. */
static size_t
s_decode (const unsigned char *p, size_t n, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t len;
    uint32_t min;
    if ((p[0] & 0xe0) == 0xc0) {
        len = 2;
        min = 0x80;
        *cp = p[0] & 0x1f;
    }
    else if ((p[0] & 0xf0) == 0xe0) {
        len = 3;
        min = 0x800;
        *cp = p[0] & 0x0f;
    }
    else if ((p[0] & 0xf8) == 0xf0) {
        len = 4;
        min = 0x10000;
        *cp = p[0] & 0x07;
    }
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

/* Length of the escape sequence starting at p[0] == ESC (all of it when it
   does not end before the text does). */
static size_t
s_escape_len (const unsigned char *p, size_t n)
{
    if (n < 2)
        return n;
    size_t i = 2;
    if (p[1] == '[') { /* CSI: parameters, intermediates, one final byte */
        while (i < n && p[i] >= 0x20 && p[i] <= 0x3f)
            i++;
        return i < n && p[i] >= 0x40 && p[i] <= 0x7e ? i + 1 : i;
    }
    if (p[1] == ']' || p[1] == 'P' || p[1] == '_' || p[1] == '^') {
        /* OSC, DCS, APC, PM: a string up to BEL or ESC \ */
        while (i < n) {
            if (p[i] == S_BEL)
                return i + 1;
            if (p[i] == S_ESC)
                return i + 1 < n && p[i + 1] == '\\' ? i + 2 : i + 1;
            i++;
        }
        return n;
    }
    /* two-byte sequences (ESC c, ESC 7, ...); a control after ESC is not
       part of it */
    return p[1] >= 0x20 && p[1] <= 0x7e ? 2 : 1;
}

static bool
s_printable (uint32_t cp)
{
    if (cp == '\n' || cp == '\t')
        return true;
    return !(cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f));
}

char *
rc_text_clean (const char *text, size_t len, size_t max_bytes)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    if (!text)
        len = 0;
    if (len > (SIZE_MAX - 1) / S_GROWTH)
        return NULL;
    char *out = malloc (len * S_GROWTH + 1);
    if (!out)
        return NULL;
    size_t used = 0, i = 0;
    while (i < len) {
        if (p[i] == S_ESC) {
            i += s_escape_len (p + i, len - i);
            continue;
        }
        uint32_t cp;
        size_t n = s_decode (p + i, len - i, &cp);
        if (n == 0) {
            memcpy (out + used, S_REPLACEMENT, S_REPLACEMENT_LEN);
            used += S_REPLACEMENT_LEN;
            i++;
            continue;
        }
        if (s_printable (cp)) {
            memcpy (out + used, p + i, n);
            used += n;
        }
        i += n;
    }
    size_t start = 0;
    if (max_bytes && used > max_bytes) {
        start = used - max_bytes;
        while (start < used && ((unsigned char)out[start] & 0xc0) == 0x80)
            start++;
        memmove (out, out + start, used - start);
        used -= start;
    }
    out[used] = '\0';
    return out;
}

bool
rc_text_is_clean (const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t n = strlen (text);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = s_decode (p + i, n - i, &cp);
        if (len == 0 || !s_printable (cp))
            return false;
        i += len;
    }
    return true;
}
