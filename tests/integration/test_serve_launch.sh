# metricsd serve as a service of metricsd launch, with each kind of
# readiness: the command runs once serve is ready, and serve answers it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

GEN=${METRICSD_HELPERS:?}/serve_storegen
"$GEN" "$T/run1" || fail "storegen"

# The command launch runs once everything is ready: one scrape.
cat >"$T/check.sh" <<EOF2
python3 -c '
import sys, urllib.request
addr = open(sys.argv[1]).read().strip()
with urllib.request.urlopen("http://" + addr + "/metrics", timeout=30) as r:
    body = r.read().decode()
sys.exit(0 if "metricsd_ratio_total{run=\"run1\"} 0.25" in body else 1)' "\$1"
EOF2

for ready in zmq notify; do
	rm -f "$T/addr.$ready"
	cat >"$T/s.conf" <<EOF2
[launch]
ready_timeout = 60
exit_timeout = 0.2
[service serve]
command = $METRICSD_BIN serve --listen 127.0.0.1:0 --address-file $T/addr.$ready --metrics-dir $T/run1
ready = $ready
EOF2
	expect_exit 0 metricsd launch "$T/s.conf" -- sh "$T/check.sh" "$T/addr.$ready"
	expect_grep "all 1 services ready in [0-9.]+ ms: serve" "$T/err"
	grep -q "killed by SIG" "$T/err" && fail "serve did not stop on SIGTERM: $(cat "$T/err")"
	echo "ok: serve under launch with ready = $ready answers the command's scrape"
done
exit 0
