# Program lookup: launch remembers its last PATH lookup, for replicas of
# one program; a service with the same program name but another PATH
# or directory still runs the program its own PATH finds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

mkdir "$T/a" "$T/b" "$T/d" "$T/d/bin" || fail "mkdir"
for w in a b d/bin; do
	printf '#!/bin/sh\necho "ran %s"\n' "$w" >"$T/$w/prog"
	chmod +x "$T/$w/prog"
done
cat >"$T/s.conf" <<EOF2
[launch]
exit_timeout = 30s
[service one]
ready = none
env = PATH=$T/a:/usr/bin:/bin
command = prog
[service two]
ready = none
env = PATH=$T/a:/usr/bin:/bin
command = prog
[service three]
ready = none
env = PATH=$T/b:/usr/bin:/bin
command = prog
[service four]
ready = none
env = PATH=bin:/usr/bin:/bin
directory = $T/d
command = prog
[service five]
ready = none
env = PATH=$T/a:/usr/bin:/bin
command = prog
EOF2
timeout 30 metricsd launch "$T/s.conf" -- true >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] || fail "launch exited $rc: $(cat "$T/err")"
expect_grep '^one: ran a$' "$T/out"
expect_grep '^two: ran a$' "$T/out"
expect_grep '^three: ran b$' "$T/out"
expect_grep '^four: ran d/bin$' "$T/out"
expect_grep '^five: ran a$' "$T/out"
echo "ok: each service ran the program of its own PATH"

# A relative directory, with a relative program or PATH entry: the
# program is found relative to that directory (as --dry-run checks it),
# and still run although the child changes to the directory before its
# exec: launch hands exec an absolute path.
cat >"$T/rel.conf" <<EOF2
[launch]
exit_timeout = 30s
[service six]
ready = none
directory = d
command = bin/prog
[service seven]
ready = none
directory = d
env = PATH=bin:/usr/bin:/bin
command = prog
EOF2
(cd "$T" && metricsd launch --dry-run rel.conf >"$T/dry" 2>&1) ||
	fail "dry run refused rel.conf: $(cat "$T/dry")"
(cd "$T" && timeout 30 metricsd launch rel.conf -- true) >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] || fail "launch of rel.conf exited $rc: $(cat "$T/err")"
expect_grep '^six: ran d/bin$' "$T/out"
expect_grep '^seven: ran d/bin$' "$T/out"
echo "ok: relative directory with a relative program or PATH entry"
exit 0
