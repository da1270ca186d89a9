/*
 * The systemd notification protocol: one datagram such as "READY=1" to
 * the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract
 * name when it starts with '@'). The sender side is used by services so
 * that `metricsd launch` (ready = notify) or systemd (Type=notify) knows
 * when they are ready; the receiver side by `metricsd launch`.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_SDNOTIFY_H
#define METRICSD_SDNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SDNOTIFY_ENV "NOTIFY_SOCKET"

/*
 * Send state to $NOTIFY_SOCKET. Returns 1 if sent, 0 if the variable is
 * unset or empty (nobody asked), or a negative errno with err set.
 */
int sdnotify_send(const char *state, char *err, size_t errlen);

/*
 * Receiver: bind a datagram socket at path (mode 0600 through umask 077,
 * SO_PASSCRED on, non-blocking, close-on-exec), replacing a stale
 * socket file of that name. Returns the fd, or a negative errno with err
 * set.
 */
int sdnotify_listen(const char *path, char *err, size_t errlen);

/* One datagram as received, with who sent it. */
struct sdnotify_msg {
	char data[4096];	/* NUL-terminated */
	size_t len;
	bool has_cred;		/* the kernel said who sent it */
	pid_t pid;
	uid_t uid;
	bool truncated;		/* too long: data is incomplete, ignore it */
};

/*
 * Receive one datagram from fd without blocking. Descriptors passed
 * along (SCM_RIGHTS, as sd_notify_barrier does) are closed at once,
 * which is also what releases a barrier. Returns 1 with m filled, 0 when
 * there is nothing to read, or a negative errno.
 */
int sdnotify_recv(int fd, struct sdnotify_msg *m);

/*
 * The next "KEY=VALUE" line of a message: *pos starts at 0. Returns a
 * pointer into m->data (NUL-terminated, the newline replaced), or NULL
 * at the end. Empty lines are skipped.
 */
const char *sdnotify_next_line(struct sdnotify_msg *m, size_t *pos);

#endif
