# A service that daemonizes (double fork + setsid) leaves its process
# group; launch must still take the daemon down: with a cgroup v2 of its
# own (cgroup.kill) where the hierarchy is writable, else as the child
# subreaper. Both at a clean teardown and, with the cgroup, after
# SIGKILL of launch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

cp "$(command -v sleep)" "$T/zzsleep" || fail "cannot copy sleep"
cat >"$T/s.conf" <<EOF2
[launch]
exit_timeout = 200ms
kill_grace = 1s
[service daemon]
shell = yes
ready = none
command = ( setsid sh -c 'echo \$\$ > $T/esc.tmp && mv $T/esc.tmp $T/esc.pid; exec $T/zzsleep 301' & ); exec $T/zzsleep 300
EOF2

# escape_case LABEL: run launch until the daemon has escaped, end it the
# way the caller says (in $END), and check the daemon is gone.
start_escaped() {
	rm -f "$T/esc.pid"
	start_launch "$T/s.conf"
	wait_until 20 test -s "$T/esc.pid" || fail "no daemon: $(cat "$T/lerr")"
	ESC=$(cat "$T/esc.pid")
	alive "$ESC" || fail "daemon $ESC not running"
	[ "$(ps -o sid= -p "$ESC" | tr -d ' ')" = "$ESC" ] ||
	    fail "daemon $ESC did not start its own session"
}

# 1. Clean teardown (SIGTERM to launch), with whatever containment this
# machine allows.
start_escaped
grep -q metricsd-launch- "/proc/$ESC/cgroup" && CG=yes || CG=no
kill -TERM "$LPID"
finish_launch
wait_gone 5 "$ESC"
echo "ok: escaped daemon gone after teardown (cgroup: $CG)"

# No cgroup is left behind, after a run or after an early failure (a
# socket directory refused once launch has its cgroup).
CGMNT=$(awk '/ - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
CGSELF=$(sed -n 's/^0:://p' /proc/self/cgroup)
cg_left() {
	[ -n "$CGMNT" ] && ls -d "$CGMNT${CGSELF%/}/metricsd-launch-$1" 2>/dev/null
}
[ -z "$(cg_left "$LPID")" ] || fail "cgroup of launch $LPID left: $(cg_left "$LPID")"
mkdir -m 777 "$T/open"
printf '[launch]\nsocket_dir = %s/open\n[service a]\ncommand = sleep 1\n' "$T" >"$T/bad.conf"
start_launch "$T/bad.conf"
finish_launch
[ "$LRC" -eq 1 ] || fail "a group-writable socket_dir was accepted: $(cat "$T/lerr")"
[ -z "$(cg_left "$LPID")" ] || fail "cgroup of launch $LPID left after an early failure"
echo "ok: no cgroup left after a run or an early failure"

# 2. The same with cgroups disabled: the subreaper fallback.
METRICSD_LAUNCH_NO_CGROUP=1
export METRICSD_LAUNCH_NO_CGROUP
start_escaped
grep -q metricsd-launch- "/proc/$ESC/cgroup" && fail "in a cgroup though disabled"
[ "$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$ESC/status")" = "$LPID" ] ||
    fail "daemon $ESC was not reparented to launch $LPID"
kill -TERM "$LPID"
finish_launch
wait_gone 5 "$ESC"
expect_grep "killed 1 process that had left their service's process group" "$T/lerr"
echo "ok: subreaper fallback: the orphan came back to launch and is gone"
unset METRICSD_LAUNCH_NO_CGROUP

# 3. SIGKILL of launch: only the cgroup covers this (the watchdog kills it).
[ "$CG" = yes ] || skip "no writable cgroup v2 with cgroup.kill here: the SIGKILL case is not covered (documented)"
start_escaped
cg=$(sed -n 's/^0:://p' "/proc/$ESC/cgroup")
kill -KILL "$LPID"
finish_launch
wait_gone 10 "$ESC"
echo "ok: after SIGKILL of launch, the escaped daemon is gone (cgroup $cg)"
exit 0
