# ready = notify with systemd's own systemd-notify(1): it sends from a
# child of the service (same process group) and passes a barrier
# descriptor, which launch must close, not keep. Our C helper's notify
# case is in test_launch_ready.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

command -v systemd-notify >/dev/null || skip "systemd-notify not installed"
cat >"$T/s.conf" <<EOF2
[launch]
ready_timeout = 20
exit_timeout = 0.2
[service sd]
shell = yes
command = systemd-notify --ready --status="via systemd-notify" || exit 1; exec sleep 60
ready = notify
EOF2
expect_exit 0 metricsd launch "$T/s.conf" -- true
expect_grep "^metricsd launch: all 1 services ready in [0-9.]+ ms: sd \\(pid [0-9]+\\)$" "$T/err"
expect_grep "^metricsd launch: service 'sd' \\(pid [0-9]+\\) status: via systemd-notify$" "$T/err"
grep -q 'too long' "$T/err" && fail "a notify message was refused: $(cat "$T/err")"
echo "ok: systemd-notify accepted"
exit 0
