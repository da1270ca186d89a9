/*
 * The option layer (args.h): getopt_long underneath, one message format
 * on top, and the number, duration and readiness parsers every mode and
 * the config file share.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "errbuf.h"
#include "log.h"
#include "modes.h"
#include "readycheck.h"
#include "store.h"

/*
 * getopt_long's val for a long option: LONG_BASE + the index of the first
 * table entry with the same id, so that aliases share a val (an
 * abbreviation matching only aliases of one option is not ambiguous).
 */
#define LONG_BASE 256
#define VAL_HELP 'h'

/* Internal ids of the readiness group. */
enum {
	ID_READY_ENDPOINT = ARGS_ID_RESERVED,
	ID_SOCKET_DIR,
	ID_READINESS_PATH,
	ID_READINESS_ID
};

static const struct args_opt ready_opts[] = {
	{ "ready-endpoint", ARGS_NONEMPTY, ID_READY_ENDPOINT, 0 },
	{ "ready", ARGS_NONEMPTY, ID_READY_ENDPOINT, 0 },
	{ "endpoint", ARGS_NONEMPTY, ID_READY_ENDPOINT, 0 },
	{ "socket-dir", ARGS_NONEMPTY, ID_SOCKET_DIR, 0 },
	{ "readiness-path", ARGS_NONEMPTY, ID_READINESS_PATH, 0 },
	{ "readiness-id", ARGS_NONEMPTY, ID_READINESS_ID, 0 },
	{ NULL, 0, 0, 0 }
};

/* The mode of the last args_init(), for args_usage_error()'s hint. */
static char last_mode[64] = "MODE";

/* Append one table entry to a's getopt tables. */
static int
add_opt(struct args *a, const struct args_opt *o)
{
	int val = LONG_BASE + a->nopts;

	if (a->nopts >= ARGS_MAX_OPTS) {
		errbuf_fmt(a->err, sizeof(a->err), "option table: more than %d "
		    "options", ARGS_MAX_OPTS);
		return -EINVAL;
	}
	if (o->id <= 0 || (o->has_arg != ARGS_NONE &&
	    o->has_arg != ARGS_REQUIRED && o->has_arg != ARGS_NONEMPTY) ||
	    !*o->name) {
		errbuf_fmt(a->err, sizeof(a->err),
		    "option table: bad entry '%s'",
		    o->name);
		return -EINVAL;
	}
	for (int i = 0; i < a->nopts; i++) {
		if (strcmp(a->longopts[i].name, o->name) == 0) {
			errbuf_fmt(a->err, sizeof(a->err),
			    "option table: '--%s' "
			    "declared twice", o->name);
			return -EINVAL;
		}
		if (a->ids[i] == o->id && val == LONG_BASE + a->nopts)
			val = a->longopts[i].val;
	}
	if (o->letter) {
		size_t n = strlen(a->shortopts);

		if (o->letter == VAL_HELP || o->letter == ':' ||
		    o->letter == '+' || o->letter == '-' ||
		    !isalnum((unsigned char)o->letter) ||
		    strchr(a->shortopts, o->letter)) {
			errbuf_fmt(a->err, sizeof(a->err),
			    "option table: bad or "
			    "repeated letter for '--%s'", o->name);
			return -EINVAL;
		}
		a->shortopts[n++] = (char)o->letter;
		if (o->has_arg != ARGS_NONE)
			a->shortopts[n++] = ':';
		a->shortopts[n] = '\0';
	}
	a->longopts[a->nopts] = (struct option){ o->name,
	    o->has_arg == ARGS_NONE ? no_argument : required_argument, NULL,
	    val };
	a->nonempty[a->nopts] = o->has_arg == ARGS_NONEMPTY;
	a->ids[a->nopts] = o->id;
	a->nopts++;
	a->longopts[a->nopts] = (struct option){ NULL, 0, NULL, 0 };
	return 0;
}

static int
add_table(struct args *a, const struct args_opt *opts)
{
	int r;

	for (; opts && opts->name; opts++)
		if ((r = add_opt(a, opts)) < 0)
			return r;
	return 0;
}

/* "read" from "read", ".../metricsd-read" or "metricsd-read". */
static const char *
mode_name(const char *argv0)
{
	const char *base;

	if (!argv0 || !*argv0)
		return "MODE";
	base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	if (strncmp(base, "metricsd-", 9) == 0 && base[9])
		return base + 9;
	return base;
}

int
args_init(struct args *a, int argc, char **argv,
    const struct args_opt *opts, unsigned flags)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->argc = argc;
	a->argv = argv;
	a->mode = mode_name(argc > 0 ? argv[0] : NULL);
	a->opts = opts;
	a->flags = flags;
	snprintf(last_mode, sizeof(last_mode), "%s", a->mode);
	/* "+" stops at the first operand, ":" makes a missing argument
	 * ':' rather than '?'. */
	snprintf(a->shortopts, sizeof(a->shortopts), "%s:h",
	    flags & ARGS_IN_ORDER ? "+" : "");
	/* --help is entry 0, with the val of -h; ARGS_HELP is negative, so
	 * no mode id can alias it. */
	a->longopts[0] = (struct option){ "help", no_argument, NULL, VAL_HELP };
	a->ids[0] = ARGS_HELP;
	a->nopts = 1;
	optind = 0;	/* glibc: full reinitialisation */
	opterr = 0;
	if ((r = add_table(a, opts)) < 0)
		a->broken = true;
	return r;
}

void
args_ready_enable(struct args *a, struct args_ready *r)
{
	memset(r, 0, sizeof(*r));
	a->ready = r;
	/* A failure here is a programming error; args_next reports it. */
	if (add_table(a, ready_opts) < 0)
		a->broken = true;
}

static int
id_of_val(const struct args *a, int val)
{
	if (val >= LONG_BASE && val < LONG_BASE + a->nopts)
		return a->ids[val - LONG_BASE];
	return 0;
}

static int
id_of_letter(const struct args *a, int c)
{
	for (const struct args_opt *o = a->opts; o && o->name; o++)
		if (o->letter == c)
			return o->id;
	return 0;
}

static const char *
opt_name(struct args *a, const char *name)
{
	snprintf(a->namebuf, sizeof(a->namebuf), "--%s", name);
	return a->namebuf;
}

/* Explain a '?' from getopt_long (opterr is 0, so it said nothing). */
static void
explain_bad(struct args *a)
{
	const char *el = optind > 0 && optind <= a->argc ? a->argv[optind - 1]
	    : NULL;
	size_t len;
	int match = -1;

	if (optopt >= LONG_BASE && optopt < LONG_BASE + a->nopts) {
		/* A long option without argument given "--name=value". */
		errbuf_fmt(a->err, sizeof(a->err),
		    "option '--%s' takes no argument",
		    a->longopts[optopt - LONG_BASE].name);
		return;
	}
	if (optopt == VAL_HELP && el && strncmp(el, "--", 2) == 0) {
		errbuf_fmt(a->err, sizeof(a->err), "option '--help' takes no "
		    "argument");
		return;
	}
	if (optopt > 0) {
		errbuf_fmt(a->err, sizeof(a->err),
		    "unknown option '-%c'", optopt);
		return;
	}
	if (!el || strncmp(el, "--", 2) != 0) {
		errbuf_fmt(a->err, sizeof(a->err), "unknown option '%.100s'",
		    el ? el : "?");
		return;
	}
	len = strcspn(el + 2, "=");
	for (int i = 0; i < a->nopts; i++) {
		if (strncmp(a->longopts[i].name, el + 2, len) != 0)
			continue;
		if (match >= 0 && a->longopts[i].val != a->longopts[match].val) {
			errbuf_fmt(a->err, sizeof(a->err), "ambiguous option "
			    "'--%.*s'", (int)(len > 100 ? 100 : len), el + 2);
			return;
		}
		match = i;
	}
	errbuf_fmt(a->err, sizeof(a->err), "unknown option '--%.*s'",
	    (int)(len > 100 ? 100 : len), el + 2);
}

static void
explain_missing(struct args *a)
{
	const char *el = optind > 0 && optind <= a->argc ? a->argv[optind - 1]
	    : NULL;

	if (optopt >= LONG_BASE && optopt < LONG_BASE + a->nopts) {
		/* Name it as typed when that is a full name (an alias), else
		 * by the first entry with this val (the canonical name). */
		const char *name = a->longopts[optopt - LONG_BASE].name;

		for (int i = 0; el && strncmp(el, "--", 2) == 0 &&
		    i < a->nopts; i++)
			if (strcmp(a->longopts[i].name, el + 2) == 0)
				name = a->longopts[i].name;
		errbuf_fmt(a->err, sizeof(a->err),
		    "option '--%s' needs an argument",
		    name);
		return;
	}
	errbuf_fmt(a->err, sizeof(a->err), "option '-%c' needs an argument",
	    optopt > 0 && optopt < 256 ? optopt : '?');
}

/* Store a readiness option (ARGS_NONEMPTY: not empty). */
static void
ready_take(struct args *a, int id, const char *tname)
{
	struct args_ready *r = a->ready;

	switch (id) {
	case ID_READY_ENDPOINT:
		r->endpoint = a->arg;
		r->endpoint_opt = tname;
		break;
	case ID_SOCKET_DIR: r->socket_dir = a->arg; break;
	case ID_READINESS_PATH: r->readiness_path = a->arg; break;
	case ID_READINESS_ID: r->readiness_id = a->arg; break;
	}
}

/* Whether the option a short letter stands for is ARGS_NONEMPTY. */
static bool
letter_nonempty(const struct args *a, int c)
{
	for (const struct args_opt *o = a->opts; o && o->name; o++)
		if (o->letter == c)
			return o->has_arg == ARGS_NONEMPTY;
	return false;
}

int
args_next(struct args *a)
{
	int c, li, id;
	bool nonempty;

	if (a->broken)
		return ARGS_ERROR;	/* a->err says what init refused */
	for (;;) {
		const char *tname = NULL;

		a->arg = NULL;
		a->name = NULL;
		a->err[0] = '\0';
		li = -1;
		c = getopt_long(a->argc, a->argv, a->shortopts, a->longopts,
		    &li);
		if (c == -1) {
			a->ind = optind;
			return ARGS_END;
		}
		if (c == '?') {
			explain_bad(a);
			return ARGS_ERROR;
		}
		if (c == ':') {
			explain_missing(a);
			return ARGS_ERROR;
		}
		if (c == VAL_HELP)
			return ARGS_HELP;
		a->arg = optarg;
		if (c >= LONG_BASE) {
			id = id_of_val(a, c);
			if (li < 0)
				li = c - LONG_BASE;
			tname = a->longopts[li].name;
			a->name = opt_name(a, tname);
			nonempty = a->nonempty[li];
		} else {
			id = id_of_letter(a, c);
			snprintf(a->namebuf, sizeof(a->namebuf), "-%c", c);
			a->name = a->namebuf;
			nonempty = letter_nonempty(a, c);
		}
		if (nonempty && !*a->arg) {
			errbuf_fmt(a->err, sizeof(a->err),
			    "%s: empty value", a->name);
			return ARGS_ERROR;
		}
		if (id >= ARGS_ID_RESERVED && a->ready) {
			ready_take(a, id, tname);
			continue;
		}
		return id;
	}
}

/* ---- numbers ----------------------------------------------------------- */

int
args_parse_u64(const char *what, const char *s, uint64_t min, uint64_t max,
    uint64_t *out, char *err, size_t errlen)
{
	unsigned long long v;
	char *end;
	int r = 0;

	if (!isdigit((unsigned char)*s)) {
		r = -EINVAL;
	} else {
		errno = 0;
		v = strtoull(s, &end, 10);
		if (*end)
			r = -EINVAL;
		else if (errno == ERANGE || v < min || v > max)
			r = -ERANGE;
	}
	if (r < 0) {
		errbuf_fmt(err, errlen,
		    "%s: '%.100s' is not an integer in %" PRIu64
		    "..%" PRIu64, what, s, min, max);
		return r;
	}
	*out = v;
	return 0;
}

int
args_parse_i64(const char *what, const char *s, int64_t min, int64_t max,
    int64_t *out, char *err, size_t errlen)
{
	long long v;
	char *end;
	int r = 0;

	if (!isdigit((unsigned char)s[*s == '-'])) {
		r = -EINVAL;
	} else {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (*end)
			r = -EINVAL;
		else if (errno == ERANGE || v < min || v > max)
			r = -ERANGE;
	}
	if (r < 0) {
		errbuf_fmt(err, errlen,
		    "%s: '%.100s' is not an integer in %" PRId64
		    "..%" PRId64, what, s, min, max);
		return r;
	}
	*out = v;
	return 0;
}

int
args_parse_double(const char *what, const char *s, double min, double max,
    double *out, char *err, size_t errlen)
{
	char *end;
	double v = 0;
	int r = 0;

	/* strtod also takes blanks, hex and "inf": none of them here. */
	if (!(isdigit((unsigned char)*s) || *s == '.' || *s == '-') ||
	    strpbrk(s, "xX")) {
		r = -EINVAL;
	} else {
		errno = 0;
		v = strtod(s, &end);
		if (end == s || *end || !isfinite(v))
			r = -EINVAL;
		else if (errno == ERANGE && v != 0)
			r = -ERANGE;
		else if (!(v >= min && v <= max))
			r = -ERANGE;
	}
	if (r < 0) {
		errbuf_fmt(err, errlen,
		    "%s: '%.100s' is not a number in %g..%g",
		    what, s, min, max);
		return r;
	}
	*out = v;
	return 0;
}

int
args_duration_format(uint64_t ns, char *buf, size_t len)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "h", 3600 * ARGS_NS_PER_S }, { "m", 60 * ARGS_NS_PER_S },
		{ "s", ARGS_NS_PER_S }, { "ms", ARGS_NS_PER_MS },
		{ "us", ARGS_NS_PER_US }, { "ns", 1 },
	};

	if (ns == 0)
		return snprintf(buf, len, "0s");
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ns % units[i].ns == 0)
			return snprintf(buf, len, "%" PRIu64 "%s",
			    ns / units[i].ns, units[i].unit);
	return snprintf(buf, len, "%" PRIu64 "ns", ns);	/* not reached */
}

/*
 * Decimal digits, an optional fraction, a unit; exact integer arithmetic
 * (no strtod: no locale, no binary rounding of "0.1").
 */
static int
duration_scan(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "", ARGS_NS_PER_S }, { "s", ARGS_NS_PER_S },
		{ "ms", ARGS_NS_PER_MS }, { "us", ARGS_NS_PER_US },
		{ "ns", 1 }, { "m", 60 * ARGS_NS_PER_S },
		{ "h", 3600 * ARGS_NS_PER_S },
	};
	uint64_t ip = 0, frac = 0, scale = 1, mult = 0;
	bool overflow = false;
	int ndig = 0;
	const char *p = s;
	unsigned __int128 f;

	for (; isdigit((unsigned char)*p); p++, ndig++) {
		if (ip > (UINT64_MAX - 9) / 10)
			overflow = true;
		else
			ip = ip * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, ndig++) {
			/* 18 digits are far below a nanosecond of an hour. */
			if (scale < 1000000000000000000ull) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
	}
	if (ndig == 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i].unit) == 0)
			mult = units[i].ns;
	if (mult == 0)
		return -EINVAL;
	if (overflow || ip > UINT64_MAX / mult)
		return -ERANGE;
	f = ((unsigned __int128)frac * mult + scale / 2) / scale;
	if (f > UINT64_MAX - ip * mult)
		return -ERANGE;
	*ns = ip * mult + (uint64_t)f;
	return 0;
}

int
args_parse_duration(const char *what, const char *s, uint64_t min_ns,
    uint64_t max_ns, uint64_t *ns, char *err, size_t errlen)
{
	char lo[32], hi[32];
	uint64_t v = 0;
	int r = duration_scan(s, &v);

	if (r == 0 && (v < min_ns || v > max_ns))
		r = -ERANGE;
	if (r < 0) {
		args_duration_format(min_ns, lo, sizeof(lo));
		args_duration_format(max_ns, hi, sizeof(hi));
		errbuf_fmt(err, errlen,
		    "%s: '%.100s' is not a duration in %s..%s "
		    "(e.g. 250ms, 2.5, 1m)", what, s, lo, hi);
		return r;
	}
	*ns = v;
	return 0;
}

/* ---- the current option's argument -------------------------------------- */

static const char *
cur_name(const struct args *a)
{
	return a->name ? a->name : "option";
}

static const char *
cur_arg(const struct args *a)
{
	return a->arg ? a->arg : "";
}

int
args_u64(struct args *a, uint64_t min, uint64_t max, uint64_t *out)
{
	return args_parse_u64(cur_name(a), cur_arg(a), min, max, out, a->err,
	    sizeof(a->err)) < 0 ? -1 : 0;
}

int
args_i64(struct args *a, int64_t min, int64_t max, int64_t *out)
{
	return args_parse_i64(cur_name(a), cur_arg(a), min, max, out, a->err,
	    sizeof(a->err)) < 0 ? -1 : 0;
}

int
args_unsigned(struct args *a, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (args_u64(a, min, max, &v) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
args_double(struct args *a, double min, double max, double *out)
{
	return args_parse_double(cur_name(a), cur_arg(a), min, max, out,
	    a->err, sizeof(a->err)) < 0 ? -1 : 0;
}

int
args_duration(struct args *a, uint64_t min_ns, uint64_t max_ns, uint64_t *ns)
{
	return args_parse_duration(cur_name(a), cur_arg(a), min_ns, max_ns, ns,
	    a->err, sizeof(a->err)) < 0 ? -1 : 0;
}

/* ---- the readiness group ------------------------------------------------ */

int
args_ready_resolve(const struct args_ready *r, unsigned flags,
    struct readycheck_target *t, char *err, size_t errlen)
{
	bool shared = flags & ARGS_READY_SOCKET_DIR_SHARED;
	const char *ep = r->endpoint_opt ? r->endpoint_opt : "ready-endpoint";
	int rc;

	if (r->endpoint && r->readiness_path) {
		errbuf_fmt(err, errlen,
		    "--%s and --readiness-path exclude each other",
		    ep);
		return -EINVAL;
	}
	if (!shared && r->endpoint && r->socket_dir) {
		errbuf_fmt(err, errlen,
		    "--%s and --socket-dir exclude each other",
		    ep);
		return -EINVAL;
	}
	if (!shared && r->socket_dir && !r->readiness_path) {
		errbuf_fmt(err, errlen, "--socket-dir needs --readiness-path");
		return -EINVAL;
	}
	rc = readycheck_target_resolve(t, r->endpoint, r->socket_dir,
	    r->readiness_path, r->readiness_id, err, errlen);
	if (rc == -ENOENT) {
		if (!(flags & ARGS_READY_REQUIRED) && !r->readiness_id)
			return 0;
		if (r->readiness_id)
			errbuf_fmt(err, errlen, "--readiness-id given but no "
			    "ready-check endpoint (--ready-endpoint, "
			    "--readiness-path or $%s)", READYCHECK_ENV_ENDPOINT);
		return -EINVAL;
	}
	return rc < 0 ? -EINVAL : 1;
}

/* ---- printing, for mode mains -------------------------------------------- */

static int
usage_print(const char *mode, const char *msg)
{
	log_warn("%s; try 'metricsd %s --help'", msg, mode);
	return EXIT_USAGE;
}

int
args_fail(const struct args *a)
{
	return usage_print(a->mode, a->err[0] ? a->err : "usage error");
}

int
args_store_dir(const char *dir, char *buf, size_t len)
{
	if (dir) {
		if (strlen(dir) >= len)
			return args_usage_error("--metrics-dir: '%s' is too long",
			    dir);
		strcpy(buf, dir);
	} else if (store_default_dir(buf, len) < 0) {
		return args_usage_error("the default store directory is too "
		    "long (check $%s)", STORE_DIR_ENV);
	}
	return ARGS_RUN;
}

int
args_finish(const struct args *a, int c, const char *help)
{
	char msg[ARGS_ERR_MAX];

	if (c == ARGS_HELP) {
		fputs(help, stdout);
		return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK
		    : EXIT_FAIL;
	}
	if (c != ARGS_END)
		return args_fail(a);
	if (!(a->flags & ARGS_OPERANDS) && a->ind < a->argc) {
		snprintf(msg, sizeof(msg), "unexpected argument '%s'",
		    a->argv[a->ind]);
		return usage_print(a->mode, msg);
	}
	return ARGS_RUN;
}

int
args_usage_error(const char *fmt, ...)
{
	char msg[ARGS_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return usage_print(last_mode, msg);
}
