# A real Prometheus server scrapes metricsd serve; what it stored must
# match metricsd read --json.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

command -v prometheus >/dev/null ||
	skip "prometheus not installed (Debian package prometheus): real-server test not run"
GEN=${METRICSD_HELPERS:?}/serve_storegen
mkdir "$T/stores"
"$GEN" "$T/stores/bench-1" || fail "storegen"
metricsd read --json --metrics-dir "$T/stores/bench-1" >"$T/read.json" ||
	fail "metricsd read --json: $(cat "$T/read.json")"
start_serve --metrics-dir "$T/stores"
python3 "$(dirname "$0")/serve_prometheus.py" "$ADDR" bench-1 "$T/read.json" "$T" ||
	fail "serve_prometheus.py"
stop_serve TERM
exit 0
