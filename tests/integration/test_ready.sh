# metricsd ready: usage errors, and a missing receiver does not hang it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

unset METRICSD_READY_ENDPOINT METRICSD_READY_ID METRICSD_READY_PATH METRICSD_SOCKET_DIR
expect_exit 0 metricsd ready --help
expect_grep '^usage: metricsd ready ' "$T/out"
expect_exit 2 metricsd ready
expect_grep 'METRICSD_READY_ENDPOINT is not set' "$T/err"
expect_exit 2 metricsd ready --endpoint "ipc://$T/x"
expect_grep 'no readiness id' "$T/err"
expect_exit 2 metricsd ready --endpoint "ipc://$T/x" --readiness-id nope
expect_grep "readiness id 'nope'" "$T/err"
expect_exit 2 metricsd ready --readiness-path r --readiness-id 1
expect_grep 'no socket directory' "$T/err"
expect_exit 2 metricsd ready --bogus
expect_exit 2 metricsd ready stray
# Nobody listening: gives up within the documented bound (~3 s; allow 10).
t0=$(now_ms)
expect_exit 1 metricsd ready --socket-dir "$T" --readiness-path nobody --readiness-id 4
t1=$(now_ms)
expect_grep "send identity 4 to ipc://$T/nobody: no receiver within" "$T/err"
[ $((t1 - t0)) -lt 10000 ] || fail "took $((t1 - t0)) ms"
echo "ok: no receiver, gave up after $((t1 - t0)) ms"
# The same from the environment a launcher sets.
METRICSD_READY_ENDPOINT="ipc://$T/nobody" METRICSD_READY_ID=5 \
	expect_exit 1 metricsd ready
expect_grep "send identity 5 to ipc://$T/nobody" "$T/err"
exit 0
