# metricsd serve under cheap connection abuse: for each row of the table
# in metricsd(1) (idle connections from the scraper's own address,
# slowloris clients, idle floods from one and from many addresses, all at
# once), a scraper doing a GET /metrics every 0.2 s from 127.0.0.1 must
# get every answer, correct, within 1 s (serve_abuse.py).
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
exit 0
