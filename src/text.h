/*
 * Text helpers shared by the renderers and the modes: UTF-8 checking,
 * the U+FFFD sanitiser, names made safe for a terminal, and the shortest
 * text that reads back as the same double.
 *
 * Every store key and store directory name is bytes: not necessarily
 * UTF-8. JSON and the Prometheus exposition need UTF-8, a terminal needs
 * no control characters; these are the one place that decides how.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_TEXT_H
#define METRICSD_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text text_double() writes, with its NUL. */
#define TEXT_DOUBLE_MAX 32

/*
 * Length of the valid UTF-8 sequence at s, which has n bytes (n >= 1):
 * 1 for an ASCII byte (control characters included), 2 to 4 for a
 * well-formed multi-byte sequence (no overlong forms, no surrogates,
 * nothing beyond U+10FFFF), 0 if s does not start one.
 */
size_t text_utf8_len(const char *s, size_t n);

/*
 * s with every byte that is not part of valid UTF-8 replaced by U+FFFD:
 * how JSON and Prometheus carry a name. Two names are told apart there
 * only if these differ. malloc'd; NULL when out of memory.
 */
char *text_utf8_sanitize(const char *s);

/* Does s have a byte above 0x7f (so that text_utf8_sanitize may change it)? */
bool text_has_high_bytes(const char *s);

/*
 * s made safe for a terminal: control characters and bytes that are not
 * UTF-8 become \xHH. *width (if not NULL) gets the number of characters
 * it takes. malloc'd; NULL when out of memory.
 */
char *text_display(const char *s, size_t *width);

/* Decimal text of v into buf (21 bytes suffice); returns the length. */
size_t text_u64(char *buf, uint64_t v);
size_t text_i64(char *buf, int64_t v);

/*
 * The shortest of %.15g, %.16g and %.17g that reads back as x (finite x;
 * callers spell NaN and the infinities their own way). buf must hold
 * TEXT_DOUBLE_MAX bytes. Returns the length written.
 */
size_t text_double(char *buf, double x);

#endif
