/*
 * libmicrohttpd, loaded at run time (see http_mhd.h for why).
 *
 * RTLD_NOW: every function the table needs is resolved at once, so that
 * a library that lacks one fails here, at serve's start, and never in the
 * middle of a request. RTLD_LOCAL: its symbols (and GnuTLS's) stay out of
 * the global namespace, where nothing else needs them. The library is
 * never closed: its connections, responses and GnuTLS state live as
 * long as the process may use them.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"
#include "http_mhd.h"

/* The SONAME of the libmicrohttpd built against, from config.mk. */
#ifndef HTTP_MHD_SONAME
#error "HTTP_MHD_SONAME is not defined: see MHD_SONAME in config.mk"
#endif
_Static_assert(sizeof(HTTP_MHD_SONAME) > 1, "HTTP_MHD_SONAME is empty: "
    "config.mk found no SONAME for libmicrohttpd (pkg-config libmicrohttpd, "
    "objdump); set MHD_SONAME");

static struct http_mhd table;
static bool loaded;

/* One function of the library, or NULL with *r and err set. */
static void *
sym(void *h, const char *name, int *r, char *err, size_t errlen)
{
	const char *why;
	void *p;

	if (*r < 0)
		return NULL;
	dlerror();
	if ((p = dlsym(h, name)))
		return p;
	why = dlerror();
	errbuf_fmt(err, errlen, "libmicrohttpd (%s): %s", HTTP_MHD_SONAME,
	    why ? why : "a function is NULL");
	*r = -ELIBBAD;
	return NULL;
}

int
http_mhd_load(const struct http_mhd **out, char *err, size_t errlen)
{
	struct http_mhd m;
	const char *why;
	void *h;
	int r = 0;

	if (loaded) {
		*out = &table;
		return 0;
	}
	if (!(h = dlopen(HTTP_MHD_SONAME, RTLD_NOW | RTLD_LOCAL))) {
		why = dlerror();
		errbuf_fmt(err, errlen, "cannot load libmicrohttpd, which the "
		    "HTTP server needs: %s", why ? why : HTTP_MHD_SONAME);
		return -ELIBACC;
	}
#define SYM(f) (m.f = sym(h, "MHD_" #f, &r, err, errlen))
	SYM(start_daemon);
	SYM(stop_daemon);
	SYM(get_daemon_info);
	SYM(run);
	SYM(get_timeout);
	SYM(add_connection);
	SYM(get_connection_info);
	SYM(suspend_connection);
	SYM(resume_connection);
	SYM(create_response_from_callback);
	SYM(add_response_header);
	SYM(queue_response);
	SYM(destroy_response);
#undef SYM
	if (r < 0) {
		dlclose(h);
		return r;
	}
	table = m;
	loaded = true;
	*out = &table;
	return 0;
}
