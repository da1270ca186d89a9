#!/bin/sh
# Runs every tests/integration/test_*.sh against the built binary.
# A test exits 0 to pass, 77 to skip (printing why), anything else fails.
# Set ONLY=name to run one test.
here=$(cd "$(dirname "$0")" && pwd)
: "${METRICSD_BIN:?set METRICSD_BIN to the metricsd binary}"
export METRICSD_BIN
PATH=$(dirname "$METRICSD_BIN"):$PATH
export PATH

pass=0 fail=0 skip=0
for t in "$here"/test_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "${ONLY:-}" ] && [ "$ONLY" != "$name" ] && continue
	out=$(mktemp)
	sh "$t" >"$out" 2>&1
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name" ;;
	77) skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$out")" ;;
	*) fail=$((fail + 1)); echo "FAIL $name (exit $rc)"; sed 's/^/    /' "$out" ;;
	esac
	rm -f "$out"
done
echo "integration: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
