# metricsd started with standard descriptors closed (`<&-`, `>&-`, as
# some supervisors and scripts do) must not hand fds 0-2 to its own
# pipes and sockets: the launcher used to get its watchdog pipe there,
# so services could not register and libuv aborted on closing it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

# The service never exits by itself: a short exit_timeout keeps the test
# from waiting the default 10 s for it after the command.
cat >"$T/s.conf" <<EOF2
[launch]
exit_timeout = 200ms

[service a]
command = $SVC --zmq --pidfile $T/a.pid
EOF2

# run_closed REDIRECTION: launch with that descriptor closed; the service
# must get ready, the command run, and launch exit with its status.
run_closed() {
	rm -f "$T/ran"
	eval "metricsd launch \"\$T/s.conf\" -- sh -c 'touch \"\$1\"; exit 5' sh \"\$T/ran\" $1" 2>"$T/err$2"
	rc=$?
	[ "$rc" -eq 5 ] || fail "launch with $1 exited $rc, expected 5: $(cat "$T/err$2")"
	[ -e "$T/ran" ] || fail "launch with $1: the command did not run"
	wait_gone 10 "$(cat "$T/a.pid")"
	echo "ok: launch with $1"
}

run_closed '<&-' 0
run_closed '>&-' 1
run_closed '2>&-' 2
run_closed '<&- >&-' 01

# A descriptor launch was given beyond 0-2 reaches COMMAND, which would
# have had it without launch, but no service: a service must not hold a
# pipe its caller waits on (the end of a `$(...)`) after launch is gone.
cat >"$T/fd.conf" <<'EOF2'
[launch]
exit_timeout = 200ms

[service a]
shell = yes
ready = none
command = if [ -e /proc/self/fd/7 ]; then echo has-7; else echo no-7; fi; exec sleep 100
EOF2
expect_exit 0 metricsd launch "$T/fd.conf" -- sh -c \
    'if [ -e /proc/self/fd/7 ]; then echo cmd-has-7; else echo cmd-no-7; fi' 7<"$T/fd.conf"
expect_grep '^a: no-7$' "$T/out"
expect_grep '^cmd-has-7$' "$T/out"
echo "ok: fd 7 given to launch reaches COMMAND, not the services"

exit 0
