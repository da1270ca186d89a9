# metricsd launch configuration and usage errors: file:line, exit 2,
# nothing spawned; --dry-run prints the plan.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

# bad_conf LINE MESSAGE: the config in $T/c.conf must fail with
# "c.conf:LINE: ...MESSAGE" and start nothing.
bad_conf() {
	expect_exit 2 metricsd launch "$T/c.conf" -- touch "$T/ran"
	expect_grep "^metricsd launch: $T/c.conf:$1: .*$2" "$T/err"
	[ ! -e "$T/spawned" ] || fail "a service was spawned"
	[ ! -e "$T/ran" ] || fail "the command ran"
}

good="command = touch $T/spawned"

printf '[service a]\n%s\nfrobnicate = 1\n' "$good" >"$T/c.conf"
bad_conf 3 "unknown key 'frobnicate'"
printf '[service a]\nready = zmq\n' >"$T/c.conf"
bad_conf 1 "service 'a': missing command"
printf '[service a]\n%s\n\n[service a]\n%s\n' "$good" "$good" >"$T/c.conf"
bad_conf 4 "duplicate service 'a' \\(first defined at line 1\\)"
printf '[launch]\nready_timeout = 10x\n[service a]\n%s\n' "$good" >"$T/c.conf"
bad_conf 2 "ready_timeout: '10x' is not a duration in 1ms\\.\\.[0-9a-z]+"
printf '[launch]\nkill_grace = -1\n[service a]\n%s\n' "$good" >"$T/c.conf"
bad_conf 2 "kill_grace: '-1' is not a duration"
printf '[service a]\n%s\nready = sometimes\n' "$good" >"$T/c.conf"
bad_conf 3 "ready: 'sometimes' is not zmq, notify, none, tcp://HOST:PORT or http://HOST:PORT/PATH"
printf '[servce a]\n%s\n' "$good" >"$T/c.conf"
bad_conf 1 "unknown section"
printf '[service a]\ncommand = /nonexistent/prog\n' >"$T/c.conf"
bad_conf 1 "command '/nonexistent/prog' not found"
printf '[service a]\n%s\ndirectory = /nonexistent\n' "$good" >"$T/c.conf"
bad_conf 1 "directory '/nonexistent' is not a directory"
# Several errors are all reported.
printf '[service a]\nx = 1\n[service b]\ny = 2\n' >"$T/c.conf"
bad_conf 2 "unknown key 'x'"
expect_grep "c.conf:4: .*unknown key 'y'" "$T/err"
expect_grep "c.conf:1: service 'a': missing command" "$T/err"
expect_grep "c.conf:3: service 'b': missing command" "$T/err"
echo "ok: config errors"

expect_exit 2 metricsd launch /nonexistent/services.conf
expect_grep 'nonexistent/services.conf: No such file' "$T/err"
expect_exit 2 metricsd launch
expect_grep 'missing services.conf' "$T/err"
expect_exit 2 metricsd launch "$T/c.conf" extra
expect_grep "unexpected argument 'extra'" "$T/err"
expect_exit 2 metricsd launch "$T/c.conf" --
expect_exit 2 metricsd launch --bogus "$T/c.conf"
expect_exit 0 metricsd launch --help
expect_grep '^usage: metricsd launch \[--dry-run\] services.conf \[-- COMMAND \[ARG...\]\]$' "$T/out"

# --dry-run shows the plan and starts nothing.
cat >"$T/c.conf" <<EOF2
[launch]
ready_timeout = 2.5s
[service a]
$good
env = X=1
[service b]
command = echo 'two words'
ready = none
EOF2
expect_exit 0 metricsd launch --dry-run "$T/c.conf" -- echo this
expect_grep '^ready_timeout: 2.500 s, exit_timeout: 10.000 s, kill_grace: 5.000 s$' "$T/out"
expect_grep "^service a \\(line 3\\): ready = zmq, identity 1$" "$T/out"
expect_grep "^  run: \\[touch\\] \\[$T/spawned\\] \\[--readiness-path\\] \\[launch-ready-[0-9]+\\] \\[--readiness-id\\] \\[1\\]$" "$T/out"
expect_grep '^  env: X=1$' "$T/out"
expect_grep '^  run: \[echo\] \[two words\]$' "$T/out"
expect_grep '^then: \[echo\] \[this\]$' "$T/out"
[ ! -e "$T/spawned" ] || fail "dry run spawned a service"
echo "ok: dry run"

# What is not a services file at all ends too, with exit 2 and memory
# bounded by the longest line kept (64 KiB), not by the file: an endless
# stream without a newline, and a 1 MB line.
expect_exit 2 timeout 60 metricsd launch /dev/zero -- true
expect_grep '^metricsd launch: /dev/zero:1: file larger than 64 MiB' "$T/err"
{ printf '[service a]\ncommand = '; head -c 1000000 /dev/zero | tr '\0' x; printf '\nready = none\n'; } >"$T/long.conf"
expect_exit 2 metricsd launch --dry-run "$T/long.conf"
expect_grep 'long.conf:2: line longer than 65536 bytes' "$T/err"
echo "ok: endless and overlong input refused"

# The shipped example is valid.
expect_exit 0 metricsd launch --dry-run "$(dirname "$0")/../../examples/services.conf"
expect_grep '^service ticker \(line [0-9]+\): ready = zmq, identity 1$' "$T/out"
exit 0
