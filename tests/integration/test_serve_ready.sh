# metricsd serve signals readiness (ready-check over ZMQ, and
# $NOTIFY_SOCKET) only once it is listening.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

python3 "$(dirname "$0")/serve_notify.py" "$METRICSD_BIN" "$T" ||
	fail "serve_notify.py"

WAIT=${METRICSD_HELPERS:?}/serve_readywait
for how in options env; do
	mkfifo "$T/rw.out"
	"$WAIT" "ipc://$T/ready.sock" 7 30000 >"$T/rw.out" &
	WPID=$!
	bg_pid "$WPID"
	exec 4<"$T/rw.out"
	read -r line <&4 && [ "$line" = bound ] || fail "readywait: '$line'"
	if [ $how = options ]; then
		start_serve --metrics-dir "$T/none" --socket-dir "$T" \
			--readiness-path ready.sock --readiness-id 7
	else
		METRICSD_READY_ENDPOINT="ipc://$T/ready.sock" METRICSD_READY_ID=7 \
			start_serve --metrics-dir "$T/none"
	fi
	read -r line <&4 && [ "$line" = "ready 7" ] || fail "readywait: '$line'"
	wait "$WPID" || fail "readywait exited $?"
	bg_done "$WPID"
	exec 4<&-
	rm -f "$T/rw.out"
	scrape "$T/m"
	echo "ok: ready-check identity 7 arrives ($how), serve answers"
	stop_serve TERM
done

unset METRICSD_READY_ENDPOINT METRICSD_READY_ID

# A launcher that never listens: the ready-check fails, serve exits 1.
expect_exit 1 metricsd serve --listen 127.0.0.1:0 --metrics-dir "$T/none" \
	--ready "ipc://$T/nobody.sock" --readiness-id 1
expect_grep "ready-check" "$T/err"
exit 0
