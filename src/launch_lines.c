/* Line splitting for the launcher's output prefixing. */
#include <string.h>

#include "launch_lines.h"

void
launch_lines_feed(struct launch_lines *l, const char *data, size_t n,
    launch_line_cb cb, void *arg)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;

		if (l->len + take > sizeof(l->buf)) {
			/* Overlong line: pass on what fits, keep splitting. */
			size_t room = sizeof(l->buf) - l->len;

			memcpy(l->buf + l->len, data, room);
			cb(l->buf, sizeof(l->buf), false, arg);
			l->len = 0;
			data += room;
			n -= room;
			continue;
		}
		memcpy(l->buf + l->len, data, take);
		l->len += take;
		if (!nl)
			return;
		cb(l->buf, l->len, true, arg);
		l->len = 0;
		data += take + 1;
		n -= take + 1;
	}
}

void
launch_lines_flush(struct launch_lines *l, launch_line_cb cb, void *arg)
{
	if (l->len > 0)
		cb(l->buf, l->len, false, arg);
	l->len = 0;
}
