# No orphans from launch's own spawn path (fork, setsid, PDEATHSIG, the
# watchdog registration, all before exec): launch is killed with SIGKILL
# right at start, while it is still spawning, and once everything is
# ready; every service and every child of a service must be gone after,
# and the private socket directory too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

# Our own copy of sleep, so that pgrep finds exactly this test's processes.
cp "$(command -v sleep)" "$T/zzsleep" || fail "cannot copy sleep"
N=24
{
	printf '[launch]\nready_timeout = 60\n'
	i=1
	while [ "$i" -le "$N" ]; do
		printf '[service s%d]\nshell = yes\nready = none\n' "$i"
		printf 'command = %s/zzsleep 300 & echo $$ > %s/p.$0.tmp && mv %s/p.$0.tmp %s/p.$0; exec %s/zzsleep 301\n' \
		    "$T" "$T" "$T" "$T" "$T"
		i=$((i + 1))
	done
} >"$T/s.conf"

none_left() {
	! pgrep -f "^$T/zzsleep" >/dev/null
}

some_started() {
	ls "$T"/p.s* >/dev/null 2>&1
}

# kill_at WHEN: start launch, wait for WHEN (a command), SIGKILL it.
kill_at() {
	rm -f "$T"/p.s*
	start_launch "$T/s.conf" -- "$T/zzsleep" 302
	"$@" || fail "launch did not get to '$*': $(cat "$T/lerr")"
	kill -KILL "$LPID"
	finish_launch
	[ "$LRC" -eq 137 ] || fail "launch exited $LRC, not by SIGKILL: $(cat "$T/lerr")"
	wait_until 10 none_left ||
	    fail "after SIGKILL at '$*', left: $(pgrep -af "^$T/zzsleep")"
	echo "ok: SIGKILL at '$*': nothing left"
}

kill_at true
kill_at wait_until 20 some_started
kill_at wait_until 20 has 'all [0-9]+ services ready' "$T/lerr"
# A few more at the very start, where the race with set-up is.
for r in 1 2 3 4 5; do
	kill_at true
done
exit 0
