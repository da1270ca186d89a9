/*
 * Small readers of tokenizer.json members, shared by the loader and the
 * component parsers: each names the member at fault in err.
 */
#ifndef METRICSD_TOK_JSON_H
#define METRICSD_TOK_JSON_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* Optional boolean member: absent or null keeps *v. 0 or -EINVAL. */
static inline int
tok_json_bool(const json_t *o, const char *key, const char *where, bool *v,
    char *err, size_t errlen)
{
	const json_t *x = json_object_get(o, key);

	if (x == NULL || json_is_null(x))
		return 0;
	if (!json_is_boolean(x)) {
		snprintf(err, errlen, "%s.%s: not a boolean", where, key);
		return -EINVAL;
	}
	*v = json_is_true(x);
	return 0;
}

#endif
