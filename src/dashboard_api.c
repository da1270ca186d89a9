/* The dashboard's JSON, GET /api/report (see dashboard_api.h). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard_api.h"
#include "report.h"
#include "rollup.h"
#include "text.h"

struct names {
	char **v;
	size_t n;
};

struct dashboard_api {
	unsigned long long polls;
	struct names seen;	/* present at the last poll */
	struct names gone;	/* vanished, oldest first */
};

/* The distribution's series: JSON name and store key. */
static const struct {
	const char *name, *key;
} dists[] = {
	{ "latency", "sample_latency_ns" },
	{ "ttft", "ttft_ns" },
	{ "tpot", "tpot_ns" },
};

int
dashboard_api_new(struct dashboard_api **out)
{
	return (*out = calloc(1, sizeof(**out))) ? 0 : -ENOMEM;
}

static void
names_clear(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void
dashboard_api_free(struct dashboard_api *d)
{
	if (!d)
		return;
	names_clear(&d->seen);
	names_clear(&d->gone);
	free(d);
}

static bool
names_has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return true;
	return false;
}

static bool
snaps_have(const struct store_snap *snaps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(snaps[i].run, name) == 0)
			return true;
	return false;
}

/*
 * The names of this poll into d->seen; those of the last one that are
 * not present now join d->gone (at most DASHBOARD_VANISHED_MAX, the
 * oldest dropped), and those present now leave it. All or nothing:
 * -ENOMEM leaves d as it was.
 */
static int
names_update(struct dashboard_api *d, const struct store_snap *snaps,
    size_t n)
{
	size_t cap = d->gone.n + d->seen.n;
	struct names seen = { 0 }, gone = { 0 };

	if ((n && !(seen.v = calloc(n, sizeof(char *)))) ||
	    (cap && !(gone.v = calloc(cap, sizeof(char *)))))
		goto nomem;
	for (; seen.n < n; seen.n++)
		if (!(seen.v[seen.n] = strdup(snaps[seen.n].run)))
			goto nomem;
	for (size_t i = 0; i < d->gone.n; i++)
		if (!snaps_have(snaps, n, d->gone.v[i]) &&
		    !names_has(&d->seen, d->gone.v[i]) &&
		    !(gone.v[gone.n++] = strdup(d->gone.v[i])))
			goto nomem;
	for (size_t i = 0; i < d->seen.n; i++)
		if (!snaps_have(snaps, n, d->seen.v[i]) &&
		    !(gone.v[gone.n++] = strdup(d->seen.v[i])))
			goto nomem;
	while (gone.n > DASHBOARD_VANISHED_MAX) {
		free(gone.v[0]);
		memmove(gone.v, gone.v + 1, --gone.n * sizeof(char *));
	}
	names_clear(&d->seen);
	names_clear(&d->gone);
	d->seen = seen;
	d->gone = gone;
	return 0;
nomem:
	names_clear(&seen);
	names_clear(&gone);
	return -ENOMEM;
}

/* A JSON string of a name: sanitised to UTF-8, escaped. */
static int
jstr(FILE *f, const char *s)
{
	char *d = text_utf8_sanitize(s);

	if (!d)
		return -ENOMEM;
	fputc('"', f);
	for (const char *p = d; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
	free(d);
	return 0;
}

static void
jnum(FILE *f, double x)
{
	char buf[TEXT_DOUBLE_MAX];

	if (!isfinite(x)) {
		fputs("null", f);
		return;
	}
	if (x == floor(x) && fabs(x) < 9007199254740992.0) {
		fprintf(f, "%.0f", x);
		return;
	}
	text_double(buf, x);
	fputs(buf, f);
}

/* One series' percentiles 0..100, or null. */
static int
jdist(FILE *f, const struct store_snap *snap, const char *key)
{
	double p[DASHBOARD_DIST_N], q[DASHBOARD_DIST_N];
	const struct store_snap_key *k = NULL;
	int r;

	for (size_t i = 0; i < snap->nkeys && !k; i++)
		if (strcmp(snap->keys[i].name, key) == 0)
			k = &snap->keys[i];
	if (!k || k->state != STORE_SNAP_OK || k->kind != STORE_SERIES ||
	    !k->roll || k->series.count == 0) {
		fputs("null", f);
		return 0;
	}
	for (int i = 0; i < DASHBOARD_DIST_N; i++)
		p[i] = (double)i * 100.0 / (DASHBOARD_DIST_N - 1);
	if ((r = rollup_percentiles(k->roll, p, q, DASHBOARD_DIST_N)) < 0 &&
	    r != -ENODATA) {
		if (r == -ENOMEM)
			return r;
		fputs("null", f);
		return 0;
	}
	fputc('[', f);
	for (int i = 0; i < DASHBOARD_DIST_N; i++) {
		if (i)
			fputc(',', f);
		jnum(f, r < 0 ? NAN : q[i]);
	}
	fputc(']', f);
	return 0;
}

static int
jstore(FILE *f, const struct store_snap *snap, char *err, size_t errlen)
{
	struct report rep;
	int r;

	if ((r = report_compute(snap, NULL, &rep, err, errlen)) < 0)
		return r;
	fputs("{\"run\":", f);
	if ((r = jstr(f, snap->run)) < 0)
		goto nomem;
	fprintf(f, ",\"state\":\"%s\",\"report\":",
	    report_state_name(rep.state));
	/* One object and a newline: JSON whitespace inside ours. */
	if ((r = report_render_json(f, &rep)) < 0)
		return r;
	fputs(",\"distribution\":{\"unit\":\"ns\",\"p\":[", f);
	for (int i = 0; i < DASHBOARD_DIST_N; i++)
		fprintf(f, "%s%d", i ? "," : "", i * 100 / (DASHBOARD_DIST_N - 1));
	fputc(']', f);
	for (size_t i = 0; i < sizeof(dists) / sizeof(dists[0]); i++) {
		fprintf(f, ",\"%s\":", dists[i].name);
		if ((r = jdist(f, snap, dists[i].key)) < 0) {
			snprintf(err, errlen, "dashboard: out of memory "
			    "sorting '%s' of %s", dists[i].key, snap->run);
			return r;
		}
	}
	fputs("}}", f);
	return 0;
nomem:
	snprintf(err, errlen, "dashboard: out of memory");
	return r;
}

int
dashboard_api_render(struct dashboard_api *d, const struct store_snap *snaps,
    size_t n, FILE *f, char *err, size_t errlen)
{
	int r;

	if ((r = names_update(d, snaps, n)) < 0) {
		snprintf(err, errlen, "dashboard: out of memory");
		return r;
	}
	d->polls++;
	fprintf(f, "{\"polls\":%llu,\"stores\":[", d->polls);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		if ((r = jstore(f, &snaps[i], err, errlen)) < 0)
			return r;
	}
	/* The most recently vanished first. */
	for (size_t i = d->gone.n; i-- > 0;) {
		if (n || i + 1 < d->gone.n)
			fputc(',', f);
		fputs("{\"run\":", f);
		if ((r = jstr(f, d->gone.v[i])) < 0) {
			snprintf(err, errlen, "dashboard: out of memory");
			return r;
		}
		fputs(",\"state\":\"vanished\",\"report\":null,"
		    "\"distribution\":null}", f);
	}
	fputs("]}\n", f);
	return ferror(f) ? -EIO : 0;
}
