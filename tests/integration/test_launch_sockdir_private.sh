# The private socket directory (no socket_dir configured) is the
# launcher's own, and services are invited to put their sockets in it
# ($METRICSD_SOCKET_DIR). Whatever they leave there (the ipc socket of a
# service that was killed, say) must not keep it from being removed:
# neither at a normal exit nor by the watchdog after launch is killed;
# not a tree deeper than launch follows at once, nor, when not root,
# directories made unwritable or inaccessible.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

cat >"$T/s.conf" <<EOF2
[launch]
exit_timeout = 200ms
kill_grace = 1s
[service a]
shell = yes
command = d="\$METRICSD_SOCKET_DIR"; touch "\$d/ev" && mkdir "\$d/sub" && touch "\$d/sub/x" && ln -s $T/keep "\$d/link" && $T/mess.sh "\$d" $T/keepdir && echo "dir=\$d" && exec $SVC --zmq
EOF2
# mess.sh DIR: leave in DIR a tree 100 levels deep (more than launch
# follows at once), a directory made unwritable with a file in it, and
# one made inaccessible with a tree in it (these two matter when not
# root), and a link to a directory outside (to be removed, not followed).
cat >"$T/mess.sh" <<'SH'
#!/bin/sh
cd "$1" || exit 1
mkdir -p $(seq -s/ 1 100) && touch 1/2/3/f $(seq -s/ 1 100)/f &&
mkdir ro && touch ro/f && chmod 500 ro &&
mkdir -p none/a/b && touch none/a/b/f && chmod 0 none/a none &&
ln -s "$2" dirlink
SH
chmod +x "$T/mess.sh"
: >"$T/keep"
mkdir "$T/keepdir" && : >"$T/keepdir/f"

# A normal run.
start_launch "$T/s.conf" -- true
finish_launch
[ "$LRC" -eq 0 ] || fail "launch exited $LRC: $(cat "$T/lerr")"
dir=$(sed -n 's/^a: dir=//p' "$T/lout")
[ -n "$dir" ] || fail "no dir line: $(cat "$T/lout")"
[ ! -e "$dir" ] || fail "private socket directory $dir left behind: $(ls -la "$dir")"
[ -e "$T/keep" ] && [ -e "$T/keepdir/f" ] ||
	fail "a symlink's target outside the directory was removed"
! has 'cannot remove' "$T/lerr" || fail "$(cat "$T/lerr")"
echo "ok: $dir removed at exit, with what the service left in it (a tree 100 deep too)"

# launch killed with SIGKILL: the watchdog removes it.
start_launch "$T/s.conf" -- sleep 300
wait_until 20 has '^a: dir=' "$T/lout" || fail "no dir line: $(cat "$T/lout")"
wait_until 20 has 'all 1 services ready' "$T/lerr" || fail "not ready: $(cat "$T/lerr")"
dir=$(sed -n 's/^a: dir=//p' "$T/lout")
kill -KILL "$LPID"
finish_launch
wait_until 10 test ! -e "$dir" || fail "private socket directory $dir left behind after SIGKILL: $(ls -la "$dir")"
[ -e "$T/keep" ] && [ -e "$T/keepdir/f" ] ||
	fail "a symlink's target outside the directory was removed"
echo "ok: $dir removed by the watchdog after SIGKILL"

# Not root (as root, the modes the service set stop nothing): run as
# nobody, where this machine lets us, both ways again.
if [ "$(id -u)" -ne 0 ]; then
	echo "ok: (already not root: the runs above covered it)"
	exit 0
fi
command -v setpriv >/dev/null || skip "no setpriv to run launch as nobody"
U=$(mktemp -d /tmp/metricsd-it-nobody.XXXXXX) || fail "mktemp"
trap 'rm -rf "$T" "$U"' EXIT
cp "$T/mess.sh" "$U/" && mkdir "$U/keepdir" && : >"$U/keepdir/f" &&
    chmod 755 "$U" "$U/keepdir" || fail "cannot set up $U"
cat >"$U/s.conf" <<EOF2
[service a]
shell = yes
ready = none
command = d="\$METRICSD_SOCKET_DIR"; $U/mess.sh "\$d" $U/keepdir && echo "dir=\$d" && exec sleep 300
EOF2
chmod 644 "$U/s.conf"
# A command, not a function: a function in the background would be a
# subshell, and $! its pid, not launch's.
asnobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
$asnobody test -x "$METRICSD_BIN" -a -r "$U/s.conf" ||
	skip "nobody cannot run $METRICSD_BIN"
for how in teardown SIGKILL; do
	: >"$T/lout"
	: >"$T/lerr"
	# TMPDIR: where nobody can make the private directory.
	$asnobody env --default-signal=HUP TMPDIR=/tmp "$METRICSD_BIN" launch "$U/s.conf" \
	    -- sleep 300 >>"$T/lout" 2>>"$T/lerr" &
	LPID=$!
	wait_until 20 has '^a: dir=' "$T/lout" || fail "no dir line: $(cat "$T/lerr")"
	dir=$(sed -n 's/^a: dir=//p' "$T/lout")
	[ -d "$dir/none" ] && [ "$(stat -c %a "$dir/none")" = 0 ] ||
		fail "the service did not leave $dir/none mode 0"
	case $how in
	teardown) kill -TERM "$LPID" ;;	# launch's own teardown
	SIGKILL) kill -KILL "$LPID" ;;
	esac
	finish_launch
	wait_until 10 test ! -e "$dir" ||
		fail "as nobody ($how): $dir left behind: $(ls -la "$dir"; cat "$T/lerr")"
	[ -e "$U/keepdir/f" ] || fail "a symlink's target outside the directory was removed"
	! has 'cannot remove' "$T/lerr" || fail "$(cat "$T/lerr")"
	echo "ok: as nobody, $dir removed ($how), unwritable and mode 0 directories too"
done
exit 0
