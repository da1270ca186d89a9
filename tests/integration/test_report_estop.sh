#!/bin/sh
# The early-stopping estimate (src/estop.c) against an independent
# implementation (tests/integration/estop_check.py, mpmath) for random
# (n, p) up to n = 1e8. Skips without python3-mpmath (scripts/deps).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
python3 -c 'import mpmath' 2>/dev/null || skip "python3-mpmath is not installed"
probe="${METRICSD_HELPERS:?}/estop_probe"
[ -x "$probe" ] || fail "no $probe (make $probe)"
python3 "$here/estop_check.py" "$probe" 7 30 || fail "estop_check found differences"
