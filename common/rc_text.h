/*  rc_text.h - text that came from outside (hook output, error lines that
    quote file names) made safe to show and to put in JSON: valid UTF-8
    (each invalid byte becomes U+FFFD) with no terminal control characters
    (escape sequences removed whole, other C0/C1 controls and DEL dropped;
    newline and tab are kept). */
#ifndef RC_TEXT_H
#define RC_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Cleans len bytes of text. Returns a NUL-terminated copy, the caller's to
   free, of at most max_bytes bytes (0: no limit): when the clean text is
   longer, its end is kept, cut at a character boundary (the end of output
   is what explains a failure). NULL only when out of memory. */
char *rc_text_clean (const char *text, size_t len, size_t max_bytes);

/* True when text is valid UTF-8 without control characters other than
   newline and tab. */
bool rc_text_is_clean (const char *text);

#endif
