# An existing socket_dir must be safe to put our sockets in: not owned by
# another user (root excepted), and not writable by group or others
# unless sticky (anyone could then swap our sockets for theirs). An
# unsafe one is refused, naming it, before anything is spawned.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

# conf DIR: a config using socket_dir = DIR.
conf() {
	cat >"$T/c.conf" <<EOF2
[launch]
socket_dir = $1
[service a]
command = touch $T/spawned
ready = none
EOF2
}

refused() {
	rm -f "$T/spawned" "$T/ran"
	conf "$1"
	expect_exit 1 metricsd launch "$T/c.conf" -- touch "$T/ran"
	expect_grep "socket directory $1: $2" "$T/err"
	[ ! -e "$T/spawned" ] || fail "a service was spawned"
	[ ! -e "$T/ran" ] || fail "the command ran"
}

accepted() {
	rm -f "$T/ran"
	conf "$1"
	expect_exit 0 metricsd launch "$T/c.conf" -- touch "$T/ran"
	[ -e "$T/ran" ] || fail "the command did not run"
}

mkdir "$T/open"
chmod 0777 "$T/open"
refused "$T/open" "writable by group or others"
mkdir "$T/grp"
chmod 0770 "$T/grp"
refused "$T/grp" "writable by group or others"
mkdir "$T/sticky"
chmod 1777 "$T/sticky"
accepted "$T/sticky"
mkdir "$T/mine"
chmod 0755 "$T/mine"
accepted "$T/mine"
echo "ok: writable socket directories refused, private and sticky ones used"

if [ "$(id -u)" -eq 0 ]; then
	mkdir "$T/theirs"
	chmod 0755 "$T/theirs"
	chown 65534 "$T/theirs"
	refused "$T/theirs" "owned by uid 65534"
	echo "ok: a socket directory owned by another user is refused"
else
	echo "not root: cannot make a directory owned by someone else; that case untested"
fi

# The sockets launch binds in a shared (sticky) directory are its own,
# whatever the umask: others cannot connect to them to send a ready
# frame (or a notify message) in a service's name.
cat >"$T/u.conf" <<EOF2
[launch]
socket_dir = $T/sticky
exit_timeout = 100ms
[service z]
command = $SVC --zmq
[service n]
command = $SVC --notify
ready = notify
[service show]
shell = yes
ready = none
command = cd "\$METRICSD_SOCKET_DIR" && stat -c '%a %n' launch-*; exec sleep 300
EOF2
(umask 000 && exec metricsd launch "$T/u.conf" -- true) >"$T/out" 2>"$T/err" ||
	fail "launch with umask 000 failed: $(cat "$T/err")"
expect_grep '^show: [0-7]+ launch-ready-' "$T/out"
expect_grep '^show: [0-7]+ launch-notify-' "$T/out"
if grep '^show:' "$T/out" | grep -Ev '^show: [67]00 ' >/dev/null; then
	fail "a socket open to group or others: $(grep '^show:' "$T/out")"
fi
echo "ok: launch's sockets are private with umask 000"

# sockdir_of LEN: a fresh directory whose path is LEN bytes long.
sockdir_of() {
	pad=$(($1 - ${#T} - 1))
	d="$T/$(printf '%*s' "$pad" '' | tr ' ' d)"
	mkdir "$d" && chmod 0700 "$d" && echo "$d"
}
# 60 bytes: every socket path fits in the 108 of sun_path (launch used to
# keep 32 bytes more than it needs, and refused it); 95 bytes do not.
d60=$(sockdir_of 60) || fail "mkdir"
rm -f "$T/ran"
conf "$d60"
expect_exit 0 metricsd launch "$T/c.conf" -- touch "$T/ran"
[ -e "$T/ran" ] || fail "the command did not run with a 60-byte socket_dir"
d95=$(sockdir_of 95) || fail "mkdir"
conf "$d95"
expect_exit 2 metricsd launch "$T/c.conf" -- true
expect_grep "c.conf: socket_dir '$d95' is too long for a unix socket path" "$T/err"
echo "ok: a socket_dir is refused only when a socket path would not fit"
exit 0
