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

# bg NAME CMD...: run a metricsd mode in the background, killed after
# BG_TIMEOUT (default 60) s at the latest (a hang fails the test instead of
# blocking it); its pid goes into $NAME, its output into $T/NAME.out and
# $T/NAME.err.
bg() {
	name=$1
	shift
	timeout --foreground --preserve-status -s KILL "${BG_TIMEOUT:-60}" \
	    metricsd "$@" >"$T/$name.out" 2>"$T/$name.err" &
	eval "$name=\$!"
}

# wait_ok NAME [STATUS]: wait for it; it must exit with STATUS (default 0).
wait_ok() {
	eval "pid=\$$1"
	wait "$pid"
	rc=$?
	[ "$rc" -eq "${2:-0}" ] ||
		fail "$1 exited $rc, expected ${2:-0}: $(cat "$T/$1.err")"
}

# modes: the modes of the binary under test, one per line, read from its
# --help (the table main.c builds from src/modes.def), so that tests that
# loop over them cover modes added later.
modes() {
	"$METRICSD_BIN" --help | sed -n 's/^  metricsd \([a-z_]*\).*/\1/p'
}

# hf_ref OUT ARG... <INPUT: the reference engine, Hugging Face tokenizers
# (node tests/tok/hf_ids.js ARG..., from make deps), into OUT. It always
# runs on this machine; but with $METRICSD_REFCACHE set (make check: in
# the plain build's tree) an output is made once per key, the hash of
# the engine (node's version, hf_ids.js, the packages' package.json and
# native modules), the input, the arguments and the files they name: the
# ASan pass reuses the plain pass's, and any change makes it again.
# HF_REF_CACHED counts the outputs taken from the cache.
HF_REF_CACHED=0
hf_ref() {
	_out=$1
	shift
	_js=$(cd "$(dirname "$0")/../tok" && pwd)/hf_ids.js
	if [ -z "${METRICSD_REFCACHE:-}" ]; then
		node "$_js" "$@" >"$_out"
		return
	fi
	cat >"$T/hf_ref.in" || return 1
	if [ -z "${HF_ENGINE_SUM:-}" ]; then
		HF_ENGINE_SUM=$({
			node --version
			cat "$_js"
			find "${METRICSD_TOKDATA:-/var/cache/metricsd/tok}/node_modules" \
			    \( -name package.json -o -name '*.node' \) -type f |
			    LC_ALL=C sort | xargs sha256sum
		} | sha256sum | cut -c1-64) || return 1
	fi
	_key=$({
		echo "$HF_ENGINE_SUM"
		sha256sum <"$T/hf_ref.in"
		for _a in "$@"; do
			echo "arg $_a"
			if [ -f "$_a" ]; then sha256sum <"$_a"; fi
		done
	} | sha256sum | cut -c1-64)
	if [ -e "$METRICSD_REFCACHE/$_key" ]; then
		cp "$METRICSD_REFCACHE/$_key" "$_out" || return 1
		HF_REF_CACHED=$((HF_REF_CACHED + 1))
		return 0
	fi
	node "$_js" "$@" <"$T/hf_ref.in" >"$_out" || return 1
	# whole files only: written aside, then renamed into place
	mkdir -p "$METRICSD_REFCACHE" &&
		cp "$_out" "$METRICSD_REFCACHE/$_key.$$" &&
		mv "$METRICSD_REFCACHE/$_key.$$" "$METRICSD_REFCACHE/$_key"
}
