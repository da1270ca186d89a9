/*
 * Scraping stores into the Prometheus exposition: find the stores under
 * a set of directories and follow each one (store_follow.h): between
 * scrapes a view and an incremental rollup per series are kept, so that
 * a scrape folds only the values appended since the previous one.
 *
 * Each directory given is either a store itself or a parent whose direct
 * subdirectories are stores; this is decided again at every scrape, so
 * stores that appear (a directory that did not exist yet, a new run under
 * a parent) are picked up and stores that disappear are dropped. A key
 * whose file was replaced (a new run in the same directory) is read
 * afresh.
 *
 * Library code: nothing here prints or exits; problems with a store or
 * key (a corrupt file, a duplicate run name) go to the warn callback and
 * the rest is still exported.
 */
#ifndef METRICSD_SCRAPE_H
#define METRICSD_SCRAPE_H

#include <stddef.h>
#include <stdio.h>

struct scrape;

/* What the last scrape saw. */
struct scrape_stats {
	size_t stores;		/* stores exported */
	size_t keys;		/* keys exported */
	size_t skipped;		/* keys or stores left out (see warnings) */
};

/*
 * dirs[0..n) are copied. warn(arg, msg) receives one message per problem
 * (the same problem is reported again only after it went away).
 * Returns 0 or -ENOMEM.
 */
int scrape_open(struct scrape **out, const char *const *dirs, size_t n,
    void (*warn)(void *arg, const char *msg), void *arg);

/*
 * Read every store and write the exposition to f. With keys non-NULL,
 * only those keys (store state is always included); *missing is then
 * set to the first of them no store has (NULL if all were found).
 * Returns 0 or a negative errno (-ENOMEM, -EIO writing f).
 */
int scrape_render(struct scrape *s, FILE *f, const char *const *keys,
    size_t nkeys, const char **missing, struct scrape_stats *stats);

/*
 * Read every store as scrape_render does (the same discovery, followers
 * and run names; every key) and set *snaps to a malloc'd array of *n
 * snapshots, which the caller frees; what they point to stays valid
 * until the next scrape_render or scrape_snaps. Returns 0 or -ENOMEM.
 */
struct store_snap;
int scrape_snaps(struct scrape *s, struct store_snap **snaps, size_t *n);

void scrape_free(struct scrape *s);

#endif
