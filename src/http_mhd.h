/*
 * libmicrohttpd, loaded at run time. Only serve speaks HTTP, and
 * libmicrohttpd brings GnuTLS and eight more libraries with it, whose
 * loading and constructors cost every other process of the binary
 * (launch's services, a shell loop of `metricsd read`) a few
 * milliseconds. So metricsd is not linked with it: http.c calls it
 * through this table, filled by http_mhd_load() from dlopen() of the
 * SONAME of the libmicrohttpd it was built against (config.mk
 * MHD_SONAME, compiled in as HTTP_MHD_SONAME: "libmicrohttpd.so.12" on
 * Debian 12).
 * <microhttpd.h> is for its types and constants only.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_HTTP_MHD_H
#define METRICSD_HTTP_MHD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

/* The functions http.c uses, each with its own type from <microhttpd.h>. */
struct http_mhd {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_add_connection) *add_connection;
	__typeof__(MHD_get_connection_info) *get_connection_info;
	__typeof__(MHD_suspend_connection) *suspend_connection;
	__typeof__(MHD_resume_connection) *resume_connection;
	__typeof__(MHD_create_response_from_callback)
	    *create_response_from_callback;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
};

/*
 * Load libmicrohttpd and resolve every function of the table, once: the
 * first successful call loads it, for the rest of the process's life,
 * and later calls return the same table. Call it from one thread at a
 * time (serve calls it once, from its loop's thread, as its HTTP server
 * starts). Returns 0 with *out set, or a negative errno with err set:
 * -ELIBACC when the library cannot be loaded, -ELIBBAD when a function
 * is missing from it; the message names the library and gives dlerror()'s
 * reason.
 */
int http_mhd_load(const struct http_mhd **out, char *err, size_t errlen);

#endif
