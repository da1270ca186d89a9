# Sourced by integration tests: a tiny harness in the busybox testing.sh
# spirit. Each check prints its case; the first failure ends the test.

set -u
T=$(mktemp -d /tmp/metricsd-it.XXXXXX)
trap 'rm -rf "$T"' EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

# expect_exit CODE CMD...: run CMD, compare its exit status.
expect_exit() {
	want=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ] ||
		fail "'$*' exited $got, expected $want; stderr: $(cat "$T/err")"
	echo "ok: $* -> $want"
}

# expect_grep PATTERN FILE: FILE must match the extended regex.
expect_grep() {
	grep -Eq -- "$1" "$2" || fail "'$1' not found in $2: $(cat "$2")"
}

skip() {
	echo "$*"
	exit 77
}

# modes: the modes of the binary under test, one per line, read from its
# --help (the table main.c builds from src/modes.def), so that tests that
# loop over them cover modes added later.
modes() {
	"$METRICSD_BIN" --help | sed -n 's/^  metricsd \([a-z_]*\).*/\1/p'
}
