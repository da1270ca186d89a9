# metricsd launch killed with SIGKILL leaves no process behind: the
# services (PR_SET_PDEATHSIG), their children (process group, killed by
# the watchdog), the command, and the watchdog itself; and its private
# socket directory is removed. Twice: with launch's cgroup, and without
# one, where the watchdog's process groups alone (the slots each child
# fills before exec) take the services' children down, and its scan of
# the services' sessions what moved to a group of its own (timeout(1)).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

cat >"$T/s.conf" <<EOF2
[service a]
command = $SVC --zmq --pidfile $T/a.pid --child-pidfile $T/achild.pid
[service b]
command = $SVC --notify --ignore-term --pidfile $T/b.pid
ready = notify
[service c]
shell = yes
command = echo "dir=\$METRICSD_SOCKET_DIR"; sleep 300 & echo \$! > $T/csleep.tmp && mv $T/csleep.tmp $T/csleep.pid; metricsd ready; wait
[service d]
shell = yes
ready = none
command = timeout 300 sleep 300 & echo \$! > $T/dto.tmp && mv $T/dto.tmp $T/dto.pid; wait
EOF2
# The command, like service d, starts a timeout(1), which moves itself
# into a process group of its own (setpgid), staying in the session.
cat >"$T/cmd.sh" <<'SH'
#!/bin/sh
timeout 300 sleep 300 &
echo $! > "$1.to.tmp" && mv "$1.to.tmp" "$1.to"
echo $$ > "$1.tmp" && mv "$1.tmp" "$1"
exec sleep 300
SH
chmod +x "$T/cmd.sh"
# own_group PID: PID leads a process group, but not its session.
own_group() {
	set -- "$1" $(ps -o pgid=,sid= -p "$1")
	[ "$#" -eq 3 ] && [ "$2" = "$1" ] && [ "$3" != "$1" ]
}

# kill_run LABEL: start, SIGKILL launch, check everything is gone.
kill_run() {
	rm -f "$T"/*.pid
	start_launch "$T/s.conf" -- "$T/cmd.sh" "$T/cmd.pid"
	wait_until 20 test -s "$T/cmd.pid" || fail "command did not start: $(cat "$T/lerr")"
	wait_until 20 has '^c: dir=' "$T/lout" || fail "no dir line: $(cat "$T/lout")"
	wait_until 20 test -s "$T/dto.pid" || fail "service d did not start: $(cat "$T/lerr")"
	pids="$(cat "$T/a.pid" "$T/achild.pid" "$T/b.pid" "$T/csleep.pid" "$T/cmd.pid")"
	# The timeouts and their sleeps, in groups of their own (timeout
	# calls setpgid at once; wait for that and for its child).
	tos="$(cat "$T/dto.pid" "$T/cmd.pid.to")"
	for p in $tos; do
		wait_until 20 own_group "$p" || fail "timeout $p did not leave its group"
		wait_until 20 pgrep -P "$p" >/dev/null || fail "timeout $p has no child"
		pids="$pids $p $(pgrep -P "$p")"
	done
	wd=$(pgrep -P "$LPID" -x metricsd-wdog) || fail "no watchdog child of $LPID"
	for p in $pids $wd; do
		alive "$p" || fail "pid $p not running before the kill"
	done
	if [ -n "${METRICSD_LAUNCH_NO_CGROUP:-}" ] &&
	    grep -q metricsd-launch- "/proc/$(cat "$T/achild.pid")/cgroup"; then
		fail "cgroups disabled, yet a service is in launch's cgroup"
	fi
	kill -KILL "$LPID"
	finish_launch
	[ "$LRC" -eq 137 ] || fail "launch exited $LRC"
	wait_gone 10 $pids $wd
	echo "ok ($1): after SIGKILL of launch, gone:" $pids "(watchdog $wd)"
	dir=$(sed -n 's/^c: dir=//p' "$T/lout")
	wait_until 10 test ! -e "$dir" || fail "socket directory $dir left behind"
	echo "ok ($1): socket directory $dir removed"
}

kill_run cgroup
# Without a cgroup: the services' children (achild, csleep) are in the
# services' groups only, the timeouts in the services' sessions only.
export METRICSD_LAUNCH_NO_CGROUP=1
kill_run "no cgroup"
unset METRICSD_LAUNCH_NO_CGROUP

# Each service gets PR_SET_PDEATHSIG (SIGKILL = 9) from launch itself,
# set between fork and exec (there is no re-exec of metricsd any more).
cat >"$T/d.conf" <<EOF2
[launch]
exit_timeout = 5s
[service d]
command = $SVC --print-pdeathsig
ready = none
EOF2
expect_exit 0 metricsd launch "$T/d.conf" -- true
expect_grep '^d: pdeathsig=9$' "$T/out"
expect_exit 2 metricsd launch --exec-service $$ - true
echo "ok: services get PDEATHSIG; the old trampoline entry is gone"
exit 0
