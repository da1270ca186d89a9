/* Diagnostics on stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

static const char *prefix = "metricsd";
static void (*writer)(const char *, size_t, void *);
static void *writer_arg;

void
log_set_prefix(const char *p)
{
	prefix = p;
}

void
log_set_writer(void (*fn)(const char *line, size_t len, void *arg),
    void *arg)
{
	writer = fn;
	writer_arg = arg;
}

/*
 * Format the whole line first and write it with one write(2): stderr is
 * unbuffered, and a line written in pieces can be split by the output of
 * another process sharing the same stderr (services under launch).
 */
static void
vlog(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt), len;
	char line[2048];
	int r;

	r = snprintf(line, sizeof(line), "%s: ", prefix);
	len = r < 0 ? 0 : (size_t)r < sizeof(line) ? (size_t)r : sizeof(line) - 1;
	r = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	len += r < 0 ? 0 : (size_t)r < sizeof(line) - len ? (size_t)r : sizeof(line) - len - 1;
	if (n > 0 && fmt[n - 1] == ':') {
		r = snprintf(line + len, sizeof(line) - len, " %s", strerror(saved));
		len += r < 0 ? 0 : (size_t)r < sizeof(line) - len ? (size_t)r : sizeof(line) - len - 1;
	}
	if (len == sizeof(line) - 1)	/* truncated: keep the newline */
		len--;
	line[len++] = '\n';
	if (writer) {
		writer(line, len, writer_arg);
		errno = saved;
		return;
	}
	fflush(stderr);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fileno(stderr), line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void
log_fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	exit(status);
}

void
log_ratelimited(struct log_ratelimit *rl, const char *fmt, ...)
{
	uint64_t now = clock_now_ns();
	va_list ap;

	if (rl->window_start == 0 || now - rl->window_start >= rl->interval_ns) {
		if (rl->suppressed > 0)
			log_warn("%llu similar messages suppressed",
			    (unsigned long long)rl->suppressed);
		rl->window_start = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

bool
log_stdout_flush(struct log_stdout *o)
{
	errno = 0;
	if ((fflush(stdout) == EOF || ferror(stdout)) && !o->failed) {
		o->failed = true;
		o->errnum = errno;
	}
	return !o->failed;
}

int
log_stdout_close(struct log_stdout *o)
{
	log_stdout_flush(o);
	errno = 0;
	if (fclose(stdout) == EOF && !o->failed) {
		o->failed = true;
		o->errnum = errno;
	}
	if (!o->failed)
		return 0;
	log_warn("writing to standard output: %s", o->errnum ?
	    strerror(o->errnum) : "I/O error");
	return -1;
}
