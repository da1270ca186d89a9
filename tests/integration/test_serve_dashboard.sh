# The dashboard page of serve (GET /) in headless Chromium, against a live
# serve fed by aggregate + publish --synthetic: headline numbers equal to
# report --json, the page following a session as it runs, a store that
# disappears shown as such, a screenshot that is not blank
# (dashboard_check.py). Skipped, saying why, without Chromium.
. "$(dirname "$0")/lib.sh"

command -v chromium >/dev/null ||
	skip "chromium is not installed (make deps installs it): the dashboard's browser test cannot run"
# It exits 77 itself, saying why, if chromium does not start.
# DASHBOARD_SHOT=FILE.png keeps a screenshot of the final page.
python3 "$(dirname "$0")/dashboard_check.py" "$T" ${DASHBOARD_SHOT:+"$DASHBOARD_SHOT"}
rc=$?
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || fail "dashboard_check.py"
exit 0
