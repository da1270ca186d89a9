/*
 * The option layer every mode uses: one iterator, one diagnostic format,
 * one number parser, one duration parser, one readiness option group.
 *
 * The iterator is a thin wrapper over glibc getopt_long(3), chosen over a
 * hand-written walker (sbase arg.h, skalibs sgetopt) so that the command
 * lines that worked before keep working exactly: "--opt value" and
 * "--opt=value", unambiguous abbreviations ("--metrics" for
 * "--metrics-dir"), options after operands (unless ARGS_IN_ORDER), "--"
 * ending the options. What the wrapper adds is what getopt_long lacks:
 * the error is not printed but written into a->err, in one format for
 * every mode, and the argument of the current option is parsed by the
 * helpers below with messages that name the option and the value.
 *
 * getopt_long keeps its state in globals (optind, optarg), so only one
 * struct args may be in use at a time; args_init() resets that state.
 *
 * Diagnostics. Library code never prints. A mode main prints a usage error
 * with args_fail() or args_usage_error(): one line on stderr,
 *
 *   metricsd read: unknown option '--bogus'; try 'metricsd read --help'
 *   metricsd read: option '--watch' needs an argument; try 'metricsd read --help'
 *   metricsd publish: --batch: '0' is not an integer in 1..65536; try ...
 *
 * ("metricsd MODE: " is the log prefix main.c sets) and returns
 * EXIT_USAGE (2). The full usage text goes to stdout on --help only.
 *
 * Example (a mode main):
 *
 *	enum { O_BIND = 1, O_BATCH };
 *	static const struct args_opt opts[] = {
 *		{ "bind", ARGS_REQUIRED, O_BIND, 0 },
 *		{ "batch", ARGS_REQUIRED, O_BATCH, 0 },
 *		{ NULL, 0, 0, 0 }
 *	};
 *	struct args a;
 *	int c, rc;
 *
 *	args_init(&a, argc, argv, opts, 0);
 *	while ((c = args_next(&a)) > 0) {
 *		switch (c) {
 *		case O_BIND: o.bind = a.arg; break;
 *		case O_BATCH:
 *			if (args_u64(&a, 1, 65536, &o.batch) < 0)
 *				return args_fail(&a);
 *			break;
 *		}
 *	}
 *	if ((rc = args_finish(&a, c, HELP_TEXT)) != ARGS_RUN)
 *		return rc;	// after --help, a usage error or an operand
 *	return mode_run(&o);
 *
 * A mode with the readiness group adds, before the loop,
 *
 *	struct args_ready rg;
 *	args_ready_enable(&a, &rg);
 *
 * and after it, to get the target (a usage error when the group is bad):
 *
 *	struct readycheck_target t;
 *	char err[ARGS_ERR_MAX];
 *	int have = args_ready_resolve(&rg, 0, &t, err, sizeof(err));
 *	if (have < 0)
 *		return args_usage_error("%s", err);
 *
 * The config file uses the same parsers with its own "what":
 *
 *	args_parse_duration("services.conf:3: timeout", v, 0, max, &ns,
 *	    err, errlen);
 */
#ifndef METRICSD_ARGS_H
#define METRICSD_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enough for the longest message the layer writes (values are cut). */
#define ARGS_ERR_MAX 512

/* Options per table, the readiness group and --help included. */
#define ARGS_MAX_OPTS 40

/* What args_next() returns besides an option id (ids are > 0). */
enum {
	ARGS_END = 0,		/* no more options: operands start at a->ind */
	ARGS_HELP = -1,		/* --help or -h (every mode has them) */
	ARGS_ERROR = -2		/* a->err holds the message */
};

enum args_has_arg {
	ARGS_NONE = no_argument,
	ARGS_REQUIRED = required_argument,
	/* required, and an empty one ("--metrics-dir=") is a usage error:
	 * args_next() returns ARGS_ERROR with "--metrics-dir: empty value" */
	ARGS_NONEMPTY = required_argument + 16
};

/*
 * One option of a mode's table, which ends with an entry whose name is
 * NULL. Two entries may share an id: the second spelling is an alias.
 * letter is 0, or a short option character that means the same ("-n").
 * Ids must be in 1..ARGS_ID_RESERVED - 1.
 */
struct args_opt {
	const char *name;	/* long name without the leading "--" */
	enum args_has_arg has_arg;
	int id;
	int letter;
};

/* Ids from here on belong to the layer (the readiness group). */
#define ARGS_ID_RESERVED 0x7000

/* Flags of args_init(). */
enum {
	/* Options end at the first operand (getopt's "+"): for modes
	 * whose operands are followed by another program's arguments. */
	ARGS_IN_ORDER = 1 << 0,
	/* The mode takes operands: args_finish() leaves them to it. */
	ARGS_OPERANDS = 1 << 1
};

/*
 * The readiness option group, shared by every mode that signals a
 * launcher that it is ready (aggregate, serve, ready, ...). Canonical
 * spellings, and the aliases kept from earlier versions:
 *
 *   --ready-endpoint ENDPOINT  (aliases --ready, --endpoint)
 *   --socket-dir DIR
 *   --readiness-path P
 *   --readiness-id I
 *
 * Point a->ready at one (args_ready_enable) and args_next() fills it and
 * does not return these options to the mode. Each field is NULL when the
 * option was not given; the strings point into argv.
 */
struct args_ready {
	const char *endpoint;
	const char *socket_dir;
	const char *readiness_path;
	const char *readiness_id;
	/* the spelling the endpoint was given with, for messages:
	 * "ready-endpoint", "ready" or "endpoint" (static) */
	const char *endpoint_opt;
};

/*
 * Iterator state. Read-only for the mode, except through the functions
 * below. arg, name and ind are valid after args_next() returned an id.
 */
struct args {
	int argc;
	char **argv;
	const char *mode;	/* "read": for the "try 'metricsd read --help'" hint */
	const char *arg;	/* the current option's argument, or NULL */
	const char *name;	/* the current option, e.g. "--batch" as spelled
				 * in the table (an alias by its own name) */
	int ind;		/* after ARGS_END: index of the first operand */
	struct args_ready *ready;
	char err[ARGS_ERR_MAX];
	/* private */
	const struct args_opt *opts;
	int nopts;
	struct option longopts[ARGS_MAX_OPTS + 1];
	int ids[ARGS_MAX_OPTS];
	char shortopts[2 * ARGS_MAX_OPTS + 4];
	char namebuf[64];
	bool broken;		/* args_init refused the table */
	unsigned flags;		/* of args_init() */
	bool nonempty[ARGS_MAX_OPTS];	/* per longopts entry */
};

/*
 * Start iterating over argv[1..argc-1] with the table opts (kept by
 * pointer: it must outlive a). The mode name for the hint is taken from
 * argv[0], as main.c passes it: "read", or the symlink name
 * ".../metricsd-read". Returns 0, or -EINVAL when the table is too large
 * or malformed (a programming error; a->err says which).
 */
int args_init(struct args *a, int argc, char **argv,
    const struct args_opt *opts, unsigned flags);

/* Parse the readiness group into r (zeroed here) as part of a's options.
 * Call between args_init() and the first args_next(). */
void args_ready_enable(struct args *a, struct args_ready *r);

/*
 * The next option: its id (> 0) with a->arg and a->name set, ARGS_END,
 * ARGS_HELP, or ARGS_ERROR with a->err filled ("unknown option '--x'",
 * "option '--x' needs an argument", "option '--x' takes no argument",
 * "ambiguous option '--x'"). After ARGS_END, argv[a->ind..argc-1] are the
 * operands (getopt may have moved them after the options).
 */
int args_next(struct args *a);

/*
 * Parse the current option's argument, for use in the switch on the id.
 * Return 0 with *out set, or -1 with a->err filled, naming the option and
 * the value: "--batch: '0' is not an integer in 1..65536".
 */
int args_u64(struct args *a, uint64_t min, uint64_t max, uint64_t *out);
int args_i64(struct args *a, int64_t min, int64_t max, int64_t *out);
int args_unsigned(struct args *a, unsigned min, unsigned max, unsigned *out);
int args_double(struct args *a, double min, double max, double *out);
int args_duration(struct args *a, uint64_t min_ns, uint64_t max_ns,
    uint64_t *ns);

/*
 * The parsers themselves, for the config file and anyone else. what names
 * the value in the message ("--batch", "services.conf:3: timeout"); err
 * may be NULL. Return 0 with *out set, -EINVAL for text that is not a
 * number of that kind, -ERANGE for a number outside min..max (inclusive);
 * *out is untouched on error. Messages:
 *   "WHAT: 'VALUE' is not an integer in MIN..MAX"
 *   "WHAT: 'VALUE' is not a number in MIN..MAX"
 *   "WHAT: 'VALUE' is not a duration in MIN..MAX (e.g. 250ms, 2.5, 1m)"
 *
 * Integers: decimal digits only, with a leading '-' for signed ones; no
 * blanks, no '+', no hex. Numbers (double): strtod's decimal syntax, finite,
 * no leading blank. Durations (metricsd(1), DURATIONS): a decimal number,
 * optionally with a fraction, then a unit: ns, us, ms, s, m or h; no
 * unit means seconds ("2.5" is 2.5 s). No sign, no exponent. Fractions
 * below a nanosecond are rounded to the nearest.
 */
int args_parse_u64(const char *what, const char *s, uint64_t min,
    uint64_t max, uint64_t *out, char *err, size_t errlen);
int args_parse_i64(const char *what, const char *s, int64_t min,
    int64_t max, int64_t *out, char *err, size_t errlen);
int args_parse_double(const char *what, const char *s, double min,
    double max, double *out, char *err, size_t errlen);
int args_parse_duration(const char *what, const char *s, uint64_t min_ns,
    uint64_t max_ns, uint64_t *ns, char *err, size_t errlen);

/* Nanoseconds in the shortest exact form with a unit: "250ms", "1m", "0s",
 * "1500ms" (never a fraction). Returns what snprintf returns. */
int args_duration_format(uint64_t ns, char *buf, size_t len);

#define ARGS_NS_PER_US 1000ull
#define ARGS_NS_PER_MS 1000000ull
#define ARGS_NS_PER_S 1000000000ull

/* Flags of args_ready_resolve(). */
enum {
	/* A target is required (metricsd ready): none is an error. */
	ARGS_READY_REQUIRED = 1 << 0,
	/* --socket-dir also names the mode's own sockets (aggregate): it
	 * does not by itself ask for a ready-check. */
	ARGS_READY_SOCKET_DIR_SHARED = 1 << 1
};

struct readycheck_target;

/*
 * Check the group and resolve it (with the environment metricsd launch
 * sets, see readycheck.h) into t. Returns 1 with t set when a ready-check
 * is to be sent, 0 when none is configured, or -EINVAL with err filled:
 *   - --ready-endpoint together with --readiness-path or (unless
 *     ARGS_READY_SOCKET_DIR_SHARED) --socket-dir;
 *   - --socket-dir without --readiness-path (unless ..._SHARED);
 *   - --readiness-id or --readiness-path but no endpoint at all;
 *   - no endpoint at all with ARGS_READY_REQUIRED;
 *   - a bad identity or an endpoint too long.
 */
int args_ready_resolve(const struct args_ready *r, unsigned flags,
    struct readycheck_target *t, char *err, size_t errlen);

/*
 * For mode mains only (they print): log a usage error with the mode's log
 * prefix and the hint, "metricsd MODE: MESSAGE; try 'metricsd MODE
 * --help'", and return EXIT_USAGE. args_fail() prints a->err;
 * args_usage_error() formats its own message (the hint uses the mode name
 * of the last args_init()).
 */
int args_fail(const struct args *a);

/*
 * For mode mains: the store directory into buf: dir (--metrics-dir) if
 * given, else the default (store_default_dir: $METRICSD_METRICS_DIR, else
 * /dev/shm/metricsd-UID). Returns ARGS_RUN, or EXIT_USAGE after a usage
 * error when the name does not fit ("--metrics-dir: '...' is too long").
 */
int args_store_dir(const char *dir, char *buf, size_t len);

/* What args_finish() returns when the mode is to go on. */
#define ARGS_RUN (-1)

/*
 * The end of every mode's option loop; c is what args_next() returned
 * last. For mode mains only (it prints):
 *   - ARGS_HELP: help (the whole text, usage line first) to stdout;
 *     returns EXIT_OK, or EXIT_FAIL when stdout cannot be written;
 *   - ARGS_ERROR, or an option id (the loop stopped on a bad value with
 *     a->err filled): args_fail(a), EXIT_USAGE;
 *   - an operand when args_init() had no ARGS_OPERANDS: the usage error
 *     "unexpected argument 'X'", EXIT_USAGE;
 *   - else ARGS_RUN: the operands, if any, are argv[a->ind..argc-1].
 * So a mode main ends its parsing with
 *
 *	if ((rc = args_finish(&a, c, help)) != ARGS_RUN)
 *		return rc;
 */
int args_finish(const struct args *a, int c, const char *help);
int args_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
