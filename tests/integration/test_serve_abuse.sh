# metricsd serve under cheap connection abuse: for each row of the table
# in metricsd(1) (idle connections from the scraper's own address,
# slowloris clients, idle floods from one and from many addresses, all at
# once), a scraper doing a GET /metrics every 0.2 s from 127.0.0.1 must
# get every answer, correct, within 1 s (serve_abuse.py).
# run.sh: alone (every scrape within 1 s under attack: a latency bound)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

GEN=${METRICSD_HELPERS:?}/serve_storegen
[ -x "$GEN" ] || fail "helper $GEN not built"

# The attacker holds up to 4,108 sockets at once.
need=4500
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge $need ] ||
	skip "RLIMIT_NOFILE hard limit $hard < $need: cannot hold the attack"
ulimit -n "$hard" 2>/dev/null || ulimit -n $need ||
	skip "cannot raise RLIMIT_NOFILE to $need"

mkdir "$T/stores"
"$GEN" "$T/stores/a" || fail "storegen a"
start_serve --metrics-dir "$T/stores"
scrape "$T/m0"
expect_value "$T/m0" 'metricsd_total_samples_issued_total{run="a"}' 12345

for phase in idle8-local slowloris100 idle2000-multi idle2000-local all; do
	python3 "$(dirname "$0")/serve_abuse.py" "$ADDR" "$phase" \
		"${SCRAPES:-15}" 'metricsd_total_samples_issued_total{run="a"} 12345' ||
		fail "$phase"
done
kill -0 "$SERVE_PID" || fail "serve died under the abuse"
stop_serve TERM

# start_limited ULIMIT-ARGS SERVE-ARG...: start_serve, with the server's
# descriptor limits set by ulimit ULIMIT-ARGS first.
start_limited() {
	lim=$1
	shift
	rm -f "$T/addr"
	sh -c 'ulimit '"$lim"' && exec "$@"' sh metricsd serve \
		--listen 127.0.0.1:0 --address-file "$T/addr" \
		--metrics-dir "$T/stores" "$@" 2>"$T/serve.err" &
	SERVE_PID=$!
	bg_pid "$SERVE_PID"
	wait_file "$T/addr" "$SERVE_PID"
	ADDR=$(cat "$T/addr")
}

# The soft descriptor limit is raised to the hard one at start...
start_limited '-S -n 400'
got=$(awk '/^Max open files/ { print $4 }' "/proc/$SERVE_PID/limits")
[ "$got" = "$hard" ] || fail "serve's soft RLIMIT_NOFILE is $got, not $hard"
echo "ok: serve raises its soft RLIMIT_NOFILE from 400 to $hard"
stop_serve TERM

# ...and where even the hard limit cannot hold the connections the limits
# allow (twice --max-connections and 352 more), the limit is lowered.
start_limited '-n 400' --max-connections 100
expect_grep 'connection limit 100 lowered to 24: RLIMIT_NOFILE is 400' \
	"$T/serve.err"
scrape "$T/m1"
expect_value "$T/m1" 'metricsd_total_samples_issued_total{run="a"}' 12345
echo "ok: with RLIMIT_NOFILE 400, --max-connections 100 is lowered to 24"
stop_serve TERM
exit 0
