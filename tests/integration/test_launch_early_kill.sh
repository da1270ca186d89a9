# launch killed with SIGKILL within its first milliseconds leaves no
# private socket directory behind: the watchdog, not launch, creates it,
# and removes it when launch goes away (issue 13: 7 of 500 used to leak).
# run.sh: alone (kill times spread over launch's start-up: its timing is the experiment)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

N=${EARLY_KILLS:-500}
mkdir "$T/tmp" || fail "mkdir"
cat >"$T/s.conf" <<'EOF2'
[service a]
command = sleep 300
ready = none
EOF2

count_dirs() {
	ls -d "$T"/tmp/metricsd-launch.* 2>/dev/null | wc -l
}


# Kill times spread over launch's start-up (exec, libraries, config,
# directory, watchdog): a random delay of 0-24 ms before each kill. The
# sleep is the experiment's timing, not synchronisation.
i=0
while [ "$i" -lt "$N" ]; do
	TMPDIR=$T/tmp metricsd launch "$T/s.conf" >/dev/null 2>&1 &
	pid=$!
	d=$(( (i * 7919) % 25 ))
	[ "$d" -gt 0 ] && sleep "0.0$(printf '%02d' "$d")"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	i=$((i + 1))
done
# (A function: wait_until runs it again each time.)
no_dirs() {
	[ "$(count_dirs)" -eq 0 ]
}
wait_until 30 no_dirs ||
    fail "$(count_dirs) of $N early kills left a socket directory: $(ls "$T/tmp")"
echo "ok: $N early SIGKILLs, 0 socket directories left"
exit 0
