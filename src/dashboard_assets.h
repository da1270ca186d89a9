/*
 * The dashboard page's files, embedded in the binary at build time
 * (scripts/embed, from src/dashboard/ and the Chart.js of Debian's
 * libjs-chart.js): serve answers each at its path, so the page makes no
 * request anywhere else.
 */
#ifndef METRICSD_DASHBOARD_ASSETS_H
#define METRICSD_DASHBOARD_ASSETS_H

#include <stddef.h>

struct dashboard_asset {
	const char *path;		/* "/", "/static/dashboard.js" */
	const char *content_type;	/* with its charset for text */
	const unsigned char *data;	/* data[len] is a NUL */
	size_t len;
};

extern const struct dashboard_asset dashboard_assets[];
extern const size_t dashboard_nassets;

#endif
