/*
 * The error buffer the library calls fill (char *err, size_t errlen): one
 * formatter for every module instead of a private copy in each.
 */
#ifndef METRICSD_ERRBUF_H
#define METRICSD_ERRBUF_H

#include <stddef.h>

/* snprintf into err when err is not NULL and errlen is not 0. */
void errbuf_fmt(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
