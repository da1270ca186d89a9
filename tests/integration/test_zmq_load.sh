# libzmq is loaded by the modes that use ZeroMQ, at their first call of
# it, and by no other (tests/integration/zmq_load.py).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 not installed"
H=${METRICSD_HELPERS:?}
for h in serve_readywait read_fill; do
	[ -x "$H/$h" ] || skip "helper $h not built"
done
command -v objdump >/dev/null || skip "objdump not installed (binutils)"
data=$(cd "$(dirname "$0")/../data" && pwd)
# shellcheck disable=SC2046
python3 "$(dirname "$0")/zmq_load.py" "$METRICSD_BIN" "$H" "$T" "$data" \
	$(modes) || fail "zmq_load.py"
exit 0
