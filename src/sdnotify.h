/*
 * The systemd notification protocol, sender side: one datagram such as
 * "READY=1" to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an
 * abstract name when it starts with '@'). Used by services so that
 * `metricsd launch` (ready = notify) or systemd (Type=notify) knows when
 * they are ready.
 *
 * Library code: nothing here prints or exits.
 */
#ifndef METRICSD_SDNOTIFY_H
#define METRICSD_SDNOTIFY_H

#include <stddef.h>

#define SDNOTIFY_ENV "NOTIFY_SOCKET"

/*
 * Send state to $NOTIFY_SOCKET. Returns 1 if sent, 0 if the variable is
 * unset or empty (nobody asked), or a negative errno with err set.
 */
int sdnotify_send(const char *state, char *err, size_t errlen);

#endif
