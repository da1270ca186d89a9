# libmicrohttpd is loaded by serve alone, as it starts; no other mode
# pays for it (tests/integration/mhd_load.py).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 not installed"
H=${METRICSD_HELPERS:?}
[ -x "$H/serve_readywait" ] || skip "helper serve_readywait not built"
command -v objdump >/dev/null || skip "objdump not installed (binutils)"
# shellcheck disable=SC2046
python3 "$(dirname "$0")/mhd_load.py" "$METRICSD_BIN" "$H" "$T" $(modes) ||
	fail "mhd_load.py"
exit 0
