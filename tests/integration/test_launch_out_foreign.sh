# launch's output never blocks its loop even where it cannot have a file
# description of its own: standard output a pipe owned by another user
# (sudo -u svc metricsd launch ... | less), which /proc/self/fd cannot
# reopen (EACCES). A service floods it, nobody reads it, and launch must
# still give up on the service at its ready_timeout and exit, instead of
# hanging in a write until the reader goes away. Then the same with a
# terminal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "not root: cannot run launch as another user"
command -v setpriv >/dev/null 2>&1 || skip "setpriv (util-linux) missing"

# nobody reads the config through $T.
chmod 711 "$T" || fail "chmod $T"
cat >"$T/spam.conf" <<EOF2
[launch]
ready_timeout = 1500ms
kill_grace = 300ms
[service spam]
command = yes SPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAM
ready = notify
EOF2
chmod 644 "$T/spam.conf"

# The reader holds the pipe and never reads; it waits for launch's exit
# status (20 s at most: a launch blocked in a write ends only then).
t0=$(now_ms)
( TMPDIR=/tmp setpriv --reuid=65534 --regid=65534 --clear-groups \
	metricsd launch "$T/spam.conf" -- true 2>"$T/err"
  echo "$?" >"$T/rc.tmp"; echo "$(now_ms)" >>"$T/rc.tmp"; mv "$T/rc.tmp" "$T/rc"
) | { wait_until 20 test -e "$T/rc"; }
[ -e "$T/rc" ] || fail "launch still running after 20 s: blocked on its output"
rc=$(sed -n 1p "$T/rc")
el=$(($(sed -n 2p "$T/rc") - t0))
[ "$rc" -eq 1 ] || fail "launch exited $rc: $(cat "$T/err")"
expect_grep "not ready within 1.5 s" "$T/err"
expect_grep "dropped [0-9]+ bytes of service output to standard output: its reader did not keep up" "$T/err"
# 1.5 s of ready_timeout, 0.3 s of grace, 0.25 s of linger at exit: a
# blocked launch takes 20 s.
[ "$el" -lt 10000 ] || fail "launch took $el ms: its timers waited for its output"
echo "ok: stdout a pipe of another user, never read: launch exited $rc in $el ms"

# The same with a terminal of root's that nobody reads (a paused less, a
# stopped xterm): a terminal takes no RWF_NOWAIT either.
command -v python3 >/dev/null 2>&1 || skip "python3 missing"
out=$(python3 "$(dirname "$0")/stalled_stdout.py" pty "$T/terr" \
    env TMPDIR=/tmp setpriv --reuid=65534 --regid=65534 --clear-groups \
    metricsd launch "$T/spam.conf" -- true) || fail "terminal stdout: $out"
rc=${out% *}
el=${out#* }
[ "$rc" -eq 1 ] || fail "launch exited $rc: $(cat "$T/terr")"
expect_grep "not ready within 1.5 s" "$T/terr"
expect_grep "dropped" "$T/terr"
[ "$el" -le 10000 ] || fail "launch took $el ms: its timers waited for its output"
echo "ok: stdout a terminal of another user, never read: launch exited $rc in $el ms"
exit 0
