# metricsd serve over HTTP: routes, methods, and hostile clients
# (slowloris, a 1 MB header, connection floods) against its limits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

expect_exit 0 metricsd serve --help
expect_grep 'usage: metricsd serve \[--listen ADDR:PORT\] \[--metrics-dir DIR\]\.\.\.' "$T/out"
expect_exit 2 metricsd serve --bogus
expect_exit 2 metricsd serve --listen nonsense
expect_grep "listen address 'nonsense'" "$T/err"
expect_exit 2 metricsd serve --listen 127.0.0.1:65536
expect_exit 2 metricsd serve --timeout 0
expect_exit 2 metricsd serve stray
expect_exit 2 metricsd serve --ready tcp://127.0.0.1:1 --socket-dir /tmp
expect_exit 2 metricsd serve --readiness-id 3
expect_grep "no ready-check endpoint" "$T/err"
expect_exit 2 metricsd serve --readiness-path p --readiness-id 3
expect_grep "no socket directory" "$T/err"
expect_exit 2 metricsd serve --ready ipc:///tmp/x --readiness-id nope

# A port in use is a runtime failure naming the address.
start_serve --metrics-dir "$T/none"
expect_exit 1 metricsd serve --listen "$ADDR" --metrics-dir "$T/none"
expect_grep "bind $ADDR: Address already in use" "$T/err"
stop_serve INT

start_serve --metrics-dir "$T/none" --max-connections 8 \
	--max-connections-per-ip 3 --timeout 2
expect_grep "listening on $ADDR" "$T/serve.err"
python3 "$(dirname "$0")/serve_http.py" "$ADDR" 8 3 2 || fail "serve_http.py"
stop_serve TERM
exit 0
