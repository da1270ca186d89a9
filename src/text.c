/* Text helpers: see text.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

size_t
text_utf8_len(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	/* The well-formed table of Unicode 3.9: the second byte's range. */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;	/* overlong */
		hi = c == 0xed ? 0x9f : 0xbf;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;	/* overlong */
		hi = c == 0xf4 ? 0x8f : 0xbf;	/* beyond U+10FFFF */
	} else {
		return 0;
	}
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

char *
text_utf8_sanitize(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n * 3 + 1);	/* a byte becomes 3 at most */

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t len = text_utf8_len(s + i, n - i);

		if (len == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return out;
}

bool
text_has_high_bytes(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

char *
text_display(const char *s, size_t *width)
{
	size_t n = strlen(s), w = 0, o = 0;
	char *out = malloc(n * 4 + 1);	/* a byte becomes 4 at most */

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = text_utf8_len(s + i, n - i);

		if (c < 0x20 || c == 0x7f || len == 0) {
			o += (size_t)sprintf(out + o, "\\x%02x", c);
			w += 4;
			i++;
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
		w++;
	}
	out[o] = '\0';
	if (width)
		*width = w;
	return out;
}

size_t
text_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

size_t
text_i64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + text_u64(buf + 1, -(uint64_t)v);
	}
	return text_u64(buf, (uint64_t)v);
}

size_t
text_double(char *buf, double x)
{
	int n = 0;

	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, TEXT_DOUBLE_MAX, "%.*g", prec, x);
		if (prec == 17 || strtod(buf, NULL) == x)
			break;
	}
	return (size_t)n;
}
