/* A store snapshot as one JSON object: see render.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "rollup.h"
#include "text.h"

const char *
render_state_name(const struct store_status *st)
{
	if (!st->exists)
		return "missing";
	switch (st->state) {
	case STORE_FINAL:
		return "final";
	case STORE_INTERRUPTED:
		return "interrupted";
	default:
		return st->writer_alive ? "live" : "abandoned";
	}
}

/* Shortest text that reads back as the same double; null if none. */
static size_t
fmt_double(char *buf, double x)
{
	if (!isfinite(x)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	return text_double(buf, x);
}

/* A value of the given type, as JSON text (TEXT_DOUBLE_MAX bytes). */
static size_t
fmt_value(char *buf, enum store_type t, union store_value v)
{
	switch (t) {
	case STORE_U64:
		return text_u64(buf, v.u);
	case STORE_I64:
		return text_i64(buf, v.i);
	default:
		return fmt_double(buf, v.f);
	}
}

/* A JSON string: escapes, and U+FFFD for bytes that are not UTF-8. */
static void
put_string(FILE *f, const char *s)
{
	size_t n = strlen(s);

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len;

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if ((len = text_utf8_len(s + i, n - i)) > 0) {
			fwrite(s + i, 1, len, f);
			i += len;
		} else {
			fputs("\\ufffd", f);
			i++;
		}
	}
	fputc('"', f);
}

/*
 * Every value, streamed from the mapping in chunks: a 10-million-value
 * series never becomes an in-memory JSON tree.
 */
static void
put_values(FILE *f, const struct store_snap_key *k)
{
	char chunk[65536];
	size_t o = 0;

	fputs(",\"values\":[", f);
	for (uint64_t i = 0; i < k->series.count; i++) {
		if (o > sizeof(chunk) - 40) {
			fwrite(chunk, 1, o, f);
			o = 0;
		}
		if (i > 0)
			chunk[o++] = ',';
		o += fmt_value(chunk + o, k->type, k->values[i]);
	}
	fwrite(chunk, 1, o, f);
	fputc(']', f);
}

static void
put_series(FILE *f, const struct store_snap_key *k, bool values)
{
	const struct store_snap_series *s = &k->series;
	char buf[64];
	/* The figures leave an aligned series' sentinels out (render.h). */
	uint64_t n = s->count - s->none;
	bool empty = n == 0;

	text_u64(buf, n);
	fprintf(f, "{\"count\":%s", buf);
	if (s->aligned) {
		text_u64(buf, s->none);
		fprintf(f, ",\"none\":%s", buf);
	}
	fputs(",\"sum\":", f);
	if (empty)
		strcpy(buf, "null");
	else if (k->type == STORE_F64)
		fmt_double(buf, s->sum);
	else
		rollup_int128_format(s->isum, buf, sizeof(buf));
	fputs(buf, f);
	fputs(",\"min\":", f);
	if (empty)
		strcpy(buf, "null");
	else
		fmt_value(buf, k->type, s->min);
	fputs(buf, f);
	fputs(",\"max\":", f);
	if (empty)
		strcpy(buf, "null");
	else
		fmt_value(buf, k->type, s->max);
	fputs(buf, f);
	fmt_double(buf, s->mean);
	fprintf(f, ",\"mean\":%s", buf);
	fmt_double(buf, s->stddev);
	fprintf(f, ",\"stddev\":%s", buf);
	for (int i = 0; i < ROLLUP_GRID_N; i++) {
		if (empty)
			strcpy(buf, "null");
		else
			fmt_double(buf, s->q[i]);
		fprintf(f, ",\"%s\":%s", rollup_grid_names[i], buf);
	}
	if (values && k->values)
		put_values(f, k);
	fputc('}', f);
}

static void
warnf(void (*warn)(void *, const char *), void *arg, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(arg, msg);
}

/*
 * Would keys[idx] print under the same JSON name as a key printed before
 * it? Only names with bytes above 0x7f can: ASCII names are distinct as
 * they are, and so are valid UTF-8 ones; two names that differ only in
 * bytes that are not UTF-8 both become U+FFFD there. The first one wins.
 */
static bool
name_clash(const struct store_snap *snap, size_t idx,
    void (*warn)(void *, const char *), void *arg)
{
	const struct store_snap_key *k = &snap->keys[idx];
	char *mine, *other;
	bool clash = false;

	if (!text_has_high_bytes(k->name) ||
	    !(mine = text_utf8_sanitize(k->name)))
		return false;
	for (size_t j = 0; j < idx && !clash; j++) {
		const struct store_snap_key *o = &snap->keys[j];

		if (o->state != STORE_SNAP_OK || !text_has_high_bytes(o->name) ||
		    !(other = text_utf8_sanitize(o->name)))
			continue;
		if (strcmp(mine, other) == 0) {
			char *a = text_display(k->name, NULL);
			char *b = text_display(o->name, NULL);

			clash = true;
			warnf(warn, arg, "key '%s' clashes with key '%s' in "
			    "--json output (the same name once bytes that are "
			    "not UTF-8 become U+FFFD); skipped", a ? a : "?",
			    b ? b : "?");
			free(a);
			free(b);
		}
		free(other);
	}
	free(mine);
	return clash;
}

int
render_json(FILE *f, const struct store_snap *snap, bool values,
    void (*warn)(void *arg, const char *msg), void *arg, size_t *skipped)
{
	const struct store_status *st = &snap->status;
	char buf[32];

	fputs("{\"_store\":{\"dir\":", f);
	put_string(f, snap->dir);
	fprintf(f, ",\"final\":%s,\"writer_pid\":",
	    st->exists && st->state == STORE_FINAL ? "true" : "false");
	if (st->exists && st->writer_alive && st->writer_pid > 0) {
		text_i64(buf, st->writer_pid);
		fputs(buf, f);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"state\":\"%s\",\"incomplete\":%s,\"lost\":%llu}",
	    render_state_name(st), st->exists && st->incomplete ? "true" :
	    "false", (unsigned long long)(st->exists ? st->lost : 0));
	for (size_t i = 0; i < snap->nkeys; i++) {
		const struct store_snap_key *k = &snap->keys[i];

		if (k->state != STORE_SNAP_OK)
			continue;
		if (strcmp(k->name, "_store") == 0) {
			warnf(warn, arg, "key '_store' clashes with the store "
			    "status in --json output; skipped");
			if (skipped)
				++*skipped;
			continue;
		}
		if (name_clash(snap, i, warn, arg)) {
			if (skipped)
				++*skipped;
			continue;
		}
		fputc(',', f);
		put_string(f, k->name);
		fputc(':', f);
		if (k->kind == STORE_COUNTER) {
			char vb[TEXT_DOUBLE_MAX];

			fmt_value(vb, k->type, k->counter);
			fputs(vb, f);
		} else {
			put_series(f, k, values);
		}
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
