# metricsd publish: a line longer than the limit (64 MiB) is reported and
# skipped without being held in memory whole, and the lines after it are
# still published.
. "$(dirname "$0")/lib.sh"

SUBDUMP=$METRICSD_HELPERS/subdump
[ -x "$SUBDUMP" ] || skip "helper subdump not built"
command -v python3 >/dev/null || skip "python3 not installed"

"$SUBDUMP" "ipc://$T/ll" >"$T/ll.out" &
sub=$!
# 400 MiB on one line: a reader that keeps the whole line peaks above
# that; one that stops storing at the limit stays far below, even under
# AddressSanitizer (its quarantine keeps the freed smaller buffers).
python3 - "$METRICSD_BIN" "ipc://$T/ll" "$T/err" <<'PY' || fail "see above"
import os, subprocess, sys
bin_, ep, errf = sys.argv[1:]
with open(errf, "wb") as err:
    p = subprocess.Popen([bin_, "publish", "--bind", ep,
                          "--wait-subscribers", "1"],
                         stdin=subprocess.PIPE, stderr=err)
    w = p.stdin
    w.write(b'{"event_type": "session.started", "timestamp_ns": 1}\n')
    w.write(b'{"event_type": "sample.issued", "sample_uuid": "')
    chunk = b"a" * (1 << 20)
    for _ in range(400):
        w.write(chunk)
    w.write(b'", "timestamp_ns": 2}\n')
    w.write(b'{"event_type": "session.ended", "timestamp_ns": 3}\n')
    w.close()
    _, status, ru = os.wait4(p.pid, 0)
rc = os.waitstatus_to_exitcode(status)
mib = ru.ru_maxrss / 1024
print("publish exited %d, peak RSS %.0f MiB" % (rc, mib))
if rc != 1:
    sys.exit("expected exit status 1, got %d" % rc)
if mib > 300:
    sys.exit("peak RSS %.0f MiB: the long line was held in memory" % mib)
PY
wait $sub || fail "subdump failed"
expect_grep 'stdin:2: line longer than [0-9]+ bytes, skipped' "$T/err"
expect_grep '1 bad line\(s\) skipped' "$T/err"
[ "$(wc -l <"$T/ll.out")" -eq 2 ] || fail "expected 2 events: $(cat "$T/ll.out")"
expect_grep '"event_type":"session.ended"' "$T/ll.out"
echo "ok: a 400 MiB line is skipped in bounded memory"
exit 0
