/*
 * The dashboard of serve: the /api/report JSON builder (dashboard_api.c)
 * on a real store and on hand-made snapshots, and the embedded assets as
 * the HTTP server answers them (http.c's fixed-body routes, with the
 * headers every answer carries).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <uv.h>

#include "dashboard_api.h"
#include "dashboard_assets.h"
#include "http.h"
#include "report.h"
#include "store.h"
#include "store_follow.h"
#include "testutil.h"

/* ---- /api/report ---- */

/* Render snaps[0..n) into parsed JSON. */
static json_t *
api(struct dashboard_api *d, const struct store_snap *snaps, size_t n)
{
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t je;
	json_t *j;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(dashboard_api_render(d, snaps, n, f, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(len > 0 && buf[len - 1] == '\n', "no newline at the end");
	j = json_loadb(buf, len, 0, &je);
	ck_assert_msg(j != NULL, "bad JSON: %s: %s", je.text, buf);
	free(buf);
	return j;
}

static const char *
jstr_at(json_t *stores, size_t i, const char *field)
{
	json_t *v = json_object_get(json_array_get(stores, i), field);

	ck_assert_msg(json_is_string(v), "stores[%zu].%s not a string", i,
	    field);
	return json_string_value(v);
}

START_TEST(test_api_render_report_is_report_json)
{
	char *dir = testutil_tmpdir(), *store, *want = NULL, err[256];
	struct store_writer *w;
	struct store_key *k;
	struct store_follow *fo;
	const struct store_snap *snap;
	struct dashboard_api *d;
	struct report rep;
	size_t wlen = 0;
	FILE *f;
	json_t *j, *s, *wantj, *dist, *lat;

	ck_assert_int_ne(asprintf(&store, "%s/bench", dir), -1);
	w = testutil_writer(store);
	ck_assert_int_eq(store_counter_create(w, "tracked_samples_completed",
	    STORE_U64, &k, err, sizeof(err)), 0);
	store_counter_set(k, (union store_value){ .u = 100 });
	ck_assert_int_eq(store_counter_create(w, "tracked_duration_ns",
	    STORE_U64, &k, err, sizeof(err)), 0);
	store_counter_set(k, (union store_value){ .u = 2000000000 });
	/* Latencies 1..100 ns: percentile p is 1 + 0.99 p exactly. */
	testutil_append_u64(testutil_series_u64(w, "sample_latency_ns"), 1,
	    100);
	testutil_append_u64(testutil_series_u64(w, "osl"), 10, 10);

	ck_assert_int_eq(store_follow_open(&fo, store, NULL, NULL), 0);
	ck_assert_int_eq(store_follow_refresh(fo, NULL, 0, &snap), 0);
	ck_assert_int_eq(dashboard_api_new(&d), 0);
	j = api(d, snap, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "polls")), 1);
	s = json_object_get(j, "stores");
	ck_assert_int_eq(json_array_size(s), 1);
	ck_assert_str_eq(jstr_at(s, 0, "run"), "bench");
	ck_assert_str_eq(jstr_at(s, 0, "state"), "live");

	/* The report is report --json's, field for field. */
	ck_assert_int_eq(report_compute(snap, NULL, &rep, err, sizeof(err)),
	    0);
	f = open_memstream(&want, &wlen);
	ck_assert_int_eq(report_render_json(f, &rep), 0);
	ck_assert_int_eq(fclose(f), 0);
	wantj = json_loads(want, 0, NULL);
	ck_assert_ptr_nonnull(wantj);
	ck_assert_msg(json_equal(json_object_get(json_array_get(s, 0),
	    "report"), wantj), "report differs from report --json: %s", want);
	ck_assert_int_eq(json_integer_value(json_object_get(wantj,
	    "n_samples_completed")), 100);

	/* The distribution: percentiles 0..100 of each series, or null. */
	dist = json_object_get(json_array_get(s, 0), "distribution");
	ck_assert_str_eq(json_string_value(json_object_get(dist, "unit")),
	    "ns");
	ck_assert_int_eq(json_array_size(json_object_get(dist, "p")),
	    DASHBOARD_DIST_N);
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(
	    dist, "p"), 100)), 100);
	lat = json_object_get(dist, "latency");
	ck_assert_int_eq(json_array_size(lat), DASHBOARD_DIST_N);
	ck_assert_double_eq(json_number_value(json_array_get(lat, 0)), 1);
	ck_assert_double_eq_tol(json_number_value(json_array_get(lat, 50)),
	    50.5, 1e-9);
	ck_assert_double_eq(json_number_value(json_array_get(lat, 100)), 100);
	ck_assert(json_is_null(json_object_get(dist, "ttft")));
	ck_assert(json_is_null(json_object_get(dist, "tpot")));
	json_decref(j);
	json_decref(wantj);
	free(want);

	/* Values appended since are folded in at the next poll. */
	testutil_append_u64(testutil_series_u64(w, "ttft_ns"), 5, 5);
	ck_assert_int_eq(store_follow_refresh(fo, NULL, 0, &snap), 0);
	j = api(d, snap, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "polls")), 2);
	dist = json_object_get(json_array_get(json_object_get(j, "stores"), 0),
	    "distribution");
	ck_assert_double_eq(json_number_value(json_array_get(
	    json_object_get(dist, "ttft"), 100)), 5);
	json_decref(j);

	dashboard_api_free(d);
	store_follow_free(fo);
	ck_assert_int_eq(store_writer_close(w, STORE_FINAL), 0);
	testutil_rmtree(dir);
	free(store);
	free(dir);
}
END_TEST

/* Bare snapshots: no store, only a run name. */
static void
names(struct store_snap *s, const char *const *runs, size_t n)
{
	memset(s, 0, n * sizeof(*s));
	for (size_t i = 0; i < n; i++)
		s[i].run = runs[i];
}

START_TEST(test_api_render_lists_vanished_stores)
{
	static const char *const ab[] = { "a", "b\"\n\\<x>" }, *const a[] =
	    { "a" };
	struct store_snap s[2];
	struct dashboard_api *d;
	json_t *j, *st;

	ck_assert_int_eq(dashboard_api_new(&d), 0);
	names(s, ab, 2);
	j = api(d, s, 2);
	st = json_object_get(j, "stores");
	ck_assert_int_eq(json_array_size(st), 2);
	/* Escaped in JSON, the same string once parsed. */
	ck_assert_str_eq(jstr_at(st, 1, "run"), "b\"\n\\<x>");
	ck_assert_str_eq(jstr_at(st, 1, "state"), "missing");
	json_decref(j);

	names(s, a, 1);
	j = api(d, s, 1);
	st = json_object_get(j, "stores");
	ck_assert_int_eq(json_array_size(st), 2);
	ck_assert_str_eq(jstr_at(st, 0, "run"), "a");
	ck_assert_str_eq(jstr_at(st, 1, "run"), "b\"\n\\<x>");
	ck_assert_str_eq(jstr_at(st, 1, "state"), "vanished");
	ck_assert(json_is_null(json_object_get(json_array_get(st, 1),
	    "report")));
	ck_assert(json_is_null(json_object_get(json_array_get(st, 1),
	    "distribution")));
	json_decref(j);

	/* Still gone at the next poll; then back. */
	j = api(d, s, 1);
	ck_assert_str_eq(jstr_at(json_object_get(j, "stores"), 1, "state"),
	    "vanished");
	json_decref(j);
	names(s, ab, 2);
	j = api(d, s, 2);
	st = json_object_get(j, "stores");
	ck_assert_int_eq(json_array_size(st), 2);
	ck_assert_str_eq(jstr_at(st, 1, "state"), "missing");
	json_decref(j);

	/* Everything gone: both listed, the last to go first... */
	j = api(d, NULL, 0);
	st = json_object_get(j, "stores");
	ck_assert_int_eq(json_array_size(st), 2);
	json_decref(j);
	dashboard_api_free(d);
}
END_TEST

START_TEST(test_api_render_keeps_the_latest_vanished)
{
	char runs[DASHBOARD_VANISHED_MAX + 6][16];
	struct store_snap s;
	struct dashboard_api *d;
	json_t *j, *st;

	ck_assert_int_eq(dashboard_api_new(&d), 0);
	/* One store at a time, each replacing the last. */
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		snprintf(runs[i], sizeof(runs[i]), "run%zu", i);
		memset(&s, 0, sizeof(s));
		s.run = runs[i];
		json_decref(api(d, &s, 1));
	}
	j = api(d, NULL, 0);
	st = json_object_get(j, "stores");
	ck_assert_int_eq(json_array_size(st), DASHBOARD_VANISHED_MAX);
	ck_assert_str_eq(jstr_at(st, 0, "run"),
	    runs[sizeof(runs) / sizeof(runs[0]) - 1]);
	ck_assert_str_eq(jstr_at(st, DASHBOARD_VANISHED_MAX - 1, "run"),
	    runs[sizeof(runs) / sizeof(runs[0]) - DASHBOARD_VANISHED_MAX]);
	json_decref(j);
	dashboard_api_free(d);
}
END_TEST

/* ---- the assets over HTTP ---- */

struct client {
	char addr[64];
	uv_async_t done;
	struct http_server *srv;
	int failures;
};

struct answer {
	int status;
	char headers[4096];	/* lower-cased */
	char *body;
	size_t len;
};

/* One request over HTTP/1.0 (the server closes after it): blocking. */
static int
request(const char *addr, const char *method, const char *path,
    struct answer *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *colon = strrchr(addr, ':');
	char req[512], *buf = NULL, *end;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	memset(a, 0, sizeof(*a));
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n\r\n",
	    method, path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return close(fd), -1;
	for (;;) {
		if (len + 65536 + 1 > cap) {
			cap = (len + 65536 + 1) * 2;
			buf = realloc(buf, cap);
		}
		if ((n = read(fd, buf + len, 65536)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &a->status) != 1 ||
	    !(end = strstr(buf, "\r\n\r\n"))) {
		free(buf);
		return -1;
	}
	for (size_t i = 0; buf + i < end + 2 && i + 1 < sizeof(a->headers); i++)
		a->headers[i] = (char)(buf[i] >= 'A' && buf[i] <= 'Z' ?
		    buf[i] - 'A' + 'a' : buf[i]);
	a->len = len - (size_t)(end + 4 - buf);
	a->body = malloc(a->len + 1);
	memcpy(a->body, end + 4, a->len + 1);
	free(buf);
	return 0;
}

#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); cl->failures++; } } while (0)

static bool
has_header(const struct answer *a, const char *line)
{
	return strstr(a->headers, line) != NULL;
}

static void *
client_run(void *arg)
{
	struct client *cl = arg;
	struct answer a;
	char want[128];

	for (size_t i = 0; i < dashboard_nassets; i++) {
		const struct dashboard_asset *as = &dashboard_assets[i];

		CHECK(request(cl->addr, "GET", as->path, &a) == 0,
		    "GET %s failed", as->path);
		CHECK(a.status == 200, "GET %s: %d", as->path, a.status);
		snprintf(want, sizeof(want), "\r\ncontent-type: %s\r\n",
		    as->content_type);
		for (char *p = want; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' :
			    *p);
		CHECK(has_header(&a, want), "GET %s: no %s in %s", as->path,
		    want, a.headers);
		CHECK(has_header(&a, "\r\ncache-control: no-store\r\n") &&
		    has_header(&a, "\r\nx-content-type-options: nosniff\r\n") &&
		    has_header(&a, "\r\ncontent-security-policy: "
		    "default-src 'none'; script-src 'self';"),
		    "GET %s: security headers missing: %s", as->path,
		    a.headers);
		CHECK(a.len == as->len && memcmp(a.body, as->data, a.len) == 0,
		    "GET %s: %zu bytes, not the asset's %zu", as->path, a.len,
		    as->len);
		free(a.body);

		CHECK(request(cl->addr, "HEAD", as->path, &a) == 0 &&
		    a.status == 200 && a.len == 0, "HEAD %s: %d, %zu bytes",
		    as->path, a.status, a.len);
		snprintf(want, sizeof(want), "\r\ncontent-length: %zu\r\n",
		    as->len);
		CHECK(has_header(&a, want), "HEAD %s: no %s", as->path, want);
		free(a.body);

		CHECK(request(cl->addr, "POST", as->path, &a) == 0 &&
		    a.status == 405 && has_header(&a, "\r\nallow: get, head"),
		    "POST %s: %d %s", as->path, a.status, a.headers);
		free(a.body);
	}
	for (const char *const *p = (const char *const[]){ "/index.html",
	    "/static/", "/static/nope.js", "/static/dashboard.js/",
	    "/static/../static/dashboard.js", "/api", NULL }; *p; p++) {
		CHECK(request(cl->addr, "GET", *p, &a) == 0 &&
		    a.status == 404, "GET %s: %d, expected 404", *p,
		    a.status);
		free(a.body);
	}
	uv_async_send(&cl->done);
	return NULL;
}

static void
on_done(uv_async_t *h)
{
	struct client *cl = h->data;

	http_server_close(cl->srv);
	uv_close((uv_handle_t *)h, NULL);
}

START_TEST(test_assets_served_get_head_only)
{
	struct http_limits lim = HTTP_LIMITS_DEFAULT;
	struct http_route *routes = calloc(dashboard_nassets,
	    sizeof(*routes));
	struct client cl = { 0 };
	uv_loop_t loop;
	pthread_t th;
	char err[256];

	ck_assert_ptr_nonnull(routes);
	for (size_t i = 0; i < dashboard_nassets; i++)
		routes[i] = (struct http_route){ dashboard_assets[i].path,
		    dashboard_assets[i].content_type, NULL, NULL, NULL,
		    dashboard_assets[i].data, dashboard_assets[i].len };
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_msg(http_server_start(&cl.srv, &loop, "127.0.0.1:0", &lim,
	    routes, dashboard_nassets, NULL, err, sizeof(err)) == 0, "%s",
	    err);
	free(routes);
	snprintf(cl.addr, sizeof(cl.addr), "%s", http_server_address(cl.srv));
	cl.done.data = &cl;
	ck_assert_int_eq(uv_async_init(&loop, &cl.done, on_done), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, client_run, &cl), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(cl.failures, 0);
}
END_TEST

/* The page asks nothing of anyone else: every URL in it is ours. */
START_TEST(test_assets_page_is_self_contained)
{
	const struct dashboard_asset *page = NULL;
	bool js = false, css = false, chart = false;

	for (size_t i = 0; i < dashboard_nassets; i++) {
		const struct dashboard_asset *as = &dashboard_assets[i];

		ck_assert_uint_eq(as->data[as->len], '\0');
		if (strcmp(as->path, "/") == 0)
			page = as;
		js |= strcmp(as->path, "/static/dashboard.js") == 0;
		css |= strcmp(as->path, "/static/dashboard.css") == 0;
		chart |= strcmp(as->path, "/static/chart.min.js") == 0;
		if (strcmp(as->path, "/static/chart.min.js") == 0)
			continue;
		ck_assert_msg(!strstr((const char *)as->data, "http:") &&
		    !strstr((const char *)as->data, "https:") &&
		    !strstr((const char *)as->data, "\"//") &&
		    !strstr((const char *)as->data, "url("),
		    "%s refers to another site", as->path);
	}
	ck_assert(js && css && chart);
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(strstr((const char *)page->data,
	    "src=\"/static/chart.min.js\""));
	ck_assert_ptr_nonnull(strstr((const char *)page->data,
	    "src=\"/static/dashboard.js\""));
	/* No inline script or style: the CSP would refuse them. */
	ck_assert_ptr_null(strstr((const char *)page->data, "<script>"));
	ck_assert_ptr_null(strstr((const char *)page->data, "<style"));
	ck_assert_ptr_null(strstr((const char *)page->data, "style=\""));
}
END_TEST

Suite *
dashboard_suite(void)
{
	Suite *s = suite_create("dashboard");
	TCase *tc = tcase_create("api");

	tcase_add_test(tc, test_api_render_report_is_report_json);
	tcase_add_test(tc, test_api_render_lists_vanished_stores);
	tcase_add_test(tc, test_api_render_keeps_the_latest_vanished);
	suite_add_tcase(s, tc);
	tc = tcase_create("assets");
	tcase_add_test(tc, test_assets_served_get_head_only);
	tcase_add_test(tc, test_assets_page_is_self_contained);
	suite_add_tcase(s, tc);
	return s;
}
