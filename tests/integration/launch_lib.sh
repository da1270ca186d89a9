# Shared by the test_launch*.sh integration tests (sourced after lib.sh).
# Waiting is always on an event (a file, a line, a process ending) with a
# deadline, polled in small steps; never a fixed sleep.

SVC=${METRICSD_HELPERS:?}/launch_svc
[ -x "$SVC" ] || skip "test helper $SVC not built"

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_until SECONDS CMD...: poll CMD until it succeeds or time runs out.
wait_until() {
	limit=$(($(now_ms) + $1 * 1000))
	shift
	while ! "$@"; do
		[ "$(now_ms)" -lt "$limit" ] || return 1
		sleep 0.02
	done
}

# alive PID: running (a zombie counts as gone).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

gone() {
	! alive "$1"
}

# wait_gone SECONDS PID...: every PID must end within the deadline.
wait_gone() {
	secs=$1
	shift
	for p in "$@"; do
		wait_until "$secs" gone "$p" || fail "pid $p still alive after ${secs}s"
	done
}

# start_launch ARGS...: run metricsd launch in the background, output in
# $T/lout and $T/lerr; sets LPID. SIGHUP gets its default disposition:
# launch keeps a SIGHUP it inherits as ignored (nohup), and the tests
# that send one would otherwise hang wherever make check runs with it
# ignored (a CI agent, nohup make check).
start_launch() {
	# Empty them here, not in the background child: a wait on their
	# content must never see the previous run's lines.
	: >"$T/lout"
	: >"$T/lerr"
	env --default-signal=HUP metricsd launch "$@" >>"$T/lout" 2>>"$T/lerr" &
	LPID=$!
}

# finish_launch: wait for it, set LRC. A launch still running 60 s later
# is killed (LRC 137) and said so: a hang fails the test, not the run.
finish_launch() {
	(
		trap 'kill "$_s" 2>/dev/null; exit 0' TERM
		sleep 60 &
		_s=$!
		wait "$_s" && {
			echo "launch (pid $LPID) still running 60 s on: killed" >&2
			kill -KILL "$LPID" 2>/dev/null
		}
	) &
	_wd=$!
	wait "$LPID"
	LRC=$?
	kill "$_wd" 2>/dev/null
	wait "$_wd" 2>/dev/null
}

has() {
	grep -Eq -- "$1" "$2"
}
