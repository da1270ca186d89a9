# Sourced by the serve integration tests, after lib.sh.

# Background processes to kill if the test ends early (a failed check),
# so no server outlives its test. bg_done drops a pid once it has been
# waited for, so that a reused pid is never killed.
BG_PIDS=
bg_pid() {
	BG_PIDS="$BG_PIDS $1"
}
bg_done() {
	_l=
	for _p in $BG_PIDS; do [ "$_p" = "$1" ] || _l="$_l $_p"; done
	BG_PIDS=$_l
}
trap 'for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

# wait_file FILE PID: wait (deadline 30 s) until FILE exists, which the
# server writes atomically once it listens; fail if PID dies first.
wait_file() {
	n=0
	while [ ! -s "$1" ]; do
		kill -0 "$2" 2>/dev/null || fail "server exited before writing $1"
		n=$((n + 1))
		[ $n -gt 600 ] && fail "no $1 after 30 s"
		sleep 0.05 # polling the atomically written ready file
	done
}

# start_serve ARG...: metricsd serve on a free loopback port; sets
# SERVE_PID and ADDR (HOST:PORT).
start_serve() {
	rm -f "$T/addr"
	metricsd serve --listen 127.0.0.1:0 --address-file "$T/addr" "$@" \
		2>"$T/serve.err" &
	SERVE_PID=$!
	bg_pid "$SERVE_PID"
	wait_file "$T/addr" "$SERVE_PID"
	ADDR=$(cat "$T/addr")
}

# stop_serve [SIGNAL]: the server must exit 0 on SIGTERM/SIGINT.
stop_serve() {
	kill -"${1:-TERM}" "$SERVE_PID"
	wait "$SERVE_PID"
	rc=$?
	bg_done "$SERVE_PID"
	[ "$rc" -eq 0 ] || fail "serve exited $rc on SIG${1:-TERM}: $(cat "$T/serve.err")"
	echo "ok: serve exits 0 on SIG${1:-TERM}"
}

# scrape FILE: GET /metrics into FILE.
scrape() {
	python3 -c '
import sys, urllib.request
with urllib.request.urlopen("http://" + sys.argv[1] + "/metrics", timeout=30) as r:
    sys.stdout.buffer.write(r.read())' "$ADDR" >"$1" || fail "scrape of $ADDR failed"
}

# value FILE SAMPLE: the value of the sample line "SAMPLE VALUE" in FILE,
# where SAMPLE is the full name with labels, e.g. 'metricsd_x_total{run="a"}'.
value() {
	awk -v s="$2" 'index($0, s " ") == 1 { print substr($0, length(s) + 2); f = 1 }
		END { if (!f) exit 1 }' "$1" || fail "no sample $2 in $1: $(cat "$1")"
}

# expect_value FILE SAMPLE WANT: numerically equal (relative 1e-12), or
# both NaN.
expect_value() {
	got=$(value "$1" "$2")
	if [ "$3" = NaN ] || [ "$got" = NaN ]; then
		[ "$got" = "$3" ] || fail "$2 is $got, expected $3"
		return 0
	fi
	awk -v g="$got" -v w="$3" 'BEGIN {
		d = g - w; if (d < 0) d = -d
		m = w < 0 ? -w : w
		exit !(d <= 1e-12 * m || d <= 1e-15)
	}' || fail "$2 is $got, expected $3"
}

# promtool_check FILE: the exposition must pass promtool (skipped, with a
# note, only when promtool is not installed).
promtool_check() {
	if ! command -v promtool >/dev/null; then
		echo "note: promtool not installed, $1 not linted"
		return 0
	fi
	promtool check metrics <"$1" >"$T/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$T/promtool.out")"
	echo "ok: promtool check metrics passes on $(basename "$1")"
}
