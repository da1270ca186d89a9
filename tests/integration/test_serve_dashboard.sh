# The dashboard page of serve (GET /) in headless Chromium, against a live
# serve fed by aggregate + publish --synthetic: headline numbers equal to
# report --json, the page following a session as it runs, a store that
# disappears shown as such, a screenshot that is not blank
# (dashboard_check.py). Skipped, saying why, without Chromium.
. "$(dirname "$0")/lib.sh"

command -v chromium >/dev/null ||
	skip "chromium is not installed (make deps installs it): the dashboard's browser test cannot run"
chromium --headless --no-sandbox --disable-gpu --dump-dom about:blank \
	>/dev/null 2>"$T/chromium.err" ||
	skip "chromium does not start headless here: $(tail -n 1 "$T/chromium.err")"

python3 "$(dirname "$0")/dashboard_check.py" "$T" ${DASHBOARD_SHOT:+"$DASHBOARD_SHOT"} ||
	fail "dashboard_check.py"
exit 0
