/*
 * Readiness URLs of services.conf (ready = tcp://HOST:PORT or
 * http://HOST:PORT/PATH; see launch_config.h). Only the syntax: hosts
 * are resolved by launch_probe_init().
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "launch_config.h"

int
launch_ready_url_parse(const char *s, enum launch_ready *kind,
    struct launch_url *u, char *err, size_t errlen)
{
	const char *h, *he, *port, *pe, *path;
	size_t pathlen;
	uint64_t pn;
	char pbuf[8];

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "tcp://", 6) == 0) {
		*kind = LAUNCH_READY_TCP;
		h = s + 6;
	} else if (strncmp(s, "http://", 7) == 0) {
		*kind = LAUNCH_READY_HTTP;
		h = s + 7;
	} else {
		snprintf(err, errlen, "'%.64s': only tcp:// and http:// "
		    "(no https)", s);
		return -EINVAL;
	}
	if (*h == '[') {
		if (!(he = strchr(h, ']'))) {
			snprintf(err, errlen, "'%.64s': missing ']'", s);
			return -EINVAL;
		}
		h++;
		port = he + 1;
	} else {
		for (he = h; *he && *he != ':' && *he != '/'; he++)
			;
		port = he;
	}
	if (he == h || (size_t)(he - h) > LAUNCH_HOST_MAX) {
		snprintf(err, errlen, "'%.64s': missing or overlong host", s);
		return -EINVAL;
	}
	for (const char *c = h; c < he; c++)
		if (!isalnum((unsigned char)*c) && !strchr(".-_:%", *c)) {
			snprintf(err, errlen, "'%.64s': bad character in host", s);
			return -EINVAL;
		}
	if (*port != ':' || !isdigit((unsigned char)port[1])) {
		snprintf(err, errlen, "'%.64s': missing :PORT", s);
		return -EINVAL;
	}
	/* The port, up to the path (or query, or fragment): the option
	 * layer's integer parser. */
	pe = port + 1 + strcspn(port + 1, "/?#");
	if ((size_t)(pe - port - 1) >= sizeof(pbuf)) {
		snprintf(err, errlen, "'%.64s': port must be 1-65535", s);
		return -EINVAL;
	}
	memcpy(pbuf, port + 1, (size_t)(pe - port - 1));
	pbuf[pe - port - 1] = '\0';
	if (args_parse_u64("port", pbuf, 1, 65535, &pn, NULL, 0) < 0) {
		snprintf(err, errlen, "'%.64s': port must be 1-65535", s);
		return -EINVAL;
	}
	path = *pe ? pe : "/";
	/* A #fragment is the client's own: never sent in a request. */
	pathlen = strcspn(path, "#");
	if (*kind == LAUNCH_READY_TCP && *pe) {
		snprintf(err, errlen, "'%.64s': tcp:// takes no path", s);
		return -EINVAL;
	}
	if (pathlen + (path[0] != '/') > LAUNCH_URL_PATH_MAX) {
		snprintf(err, errlen, "'%.64s...': path too long", s);
		return -EINVAL;
	}
	for (const char *c = path; c < path + pathlen; c++)
		if (*c <= ' ' || *c >= 127) {
			snprintf(err, errlen, "'%.64s': space or control "
			    "character in path", s);
			return -EINVAL;
		}
	memcpy(u->host, h, (size_t)(he - h));
	snprintf(u->port, sizeof(u->port), "%u", (unsigned)pn);
	/* "h:80?q" asks for "/?q"; "h:80#f" for "/". */
	snprintf(u->path, sizeof(u->path), "%s%.*s", path[0] == '/' ? "" : "/",
	    (int)pathlen, path);
	return 0;
}

