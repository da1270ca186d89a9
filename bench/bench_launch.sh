#!/bin/sh
# bench_launch: spawn-to-all-ready of metricsd launch against the seed's
# way of starting services, Python subprocess.Popen per service plus one
# ZMQ PULL socket (bench/launch_popen.py), in the same run, with the same
# services, at 1, 8 and 32 services:
#
#   zmq:   /bin/sh -c 'READY_SENDER "$@" && exec sleep 100', where
#          READY_SENDER (bench/ready_sender.c) is linked with libzmq
#          alone and sends the service's identity to the PULL socket;
#   none:  sleep 100, ready as soon as it is started.
#
# Both sides are timed the same way, by themselves, on the same clock
# (CLOCK_MONOTONIC: launch's clock_now_ns(), Python's time.monotonic()),
# between the same two events:
#   start  just before the first service is spawned, after the ready
#          receiver (the PULL socket) is bound;
#   end    zmq:  the last ready frame has been received;
#          none: the last spawn has returned, i.e. the last service has
#          exec'd (Popen and launch both wait for the exec).
# launch reports it on stderr to 0.01 ms ("all N services ready in
# X.XX ms"), Python prints it to 0.001 ms. Neither includes its own
# start-up (shared libraries, interpreter), reported separately below,
# nor, for launch, its set-up before the first spawn (the watchdog, the
# socket directory, joining its cgroup). What launch does per service
# that Python does not, and is counted: a pipe for each of stdout and
# stderr with its output passed on, the watchdog registration,
# PR_SET_PDEATHSIG, a pidfd on the loop. Medians of RUNS runs; the two
# sides alternate, and which one goes first alternates too, so that both
# see the same load. ratio = launch / Python: the target is <= 1.0 at
# every size, the goal <= 0.5. On a shared machine the figures move
# with its load (printed at the start): compare ratios, not times. The
# ratio of each pair of runs (the two sides back to back) is printed
# too, median and range, to show how much the load moved them.
#
# What the figures are made of (measured with timestamps per phase in
# launch, perf trace and a cpuacct cgroup per side, 2 loaded CPUs): a
# spawn costs launch some 35 us before vfork(), 30 us in vfork(), 40
# us in the child before its execve() (setsid() the largest; it used to
# be the watchdog's pipe, whose write also woke the watchdog: now the
# child stores its pid in memory the watchdog reads only once launch is
# gone), 45 us of exec to the point where vfork() returns, and 30 us
# after it (pidfd, output pipes on the loop): 0.17 ms at best. On a busy
# machine the median is 1 to 2 ms, spent waiting for a CPU after
# vfork() returns, the same for Python, whose Popen also vforks. With
# zmq readiness the service's own start-up dominates (sh, then the
# ready sender loading libzmq: 4 to 10 ms of CPU each, see the start-up
# table below), the same program on both sides, so the ratio there
# stays near 1.0 at every size and cannot come near 0.5; launch's main
# thread wakes twice per ready frame (ZMQ's pipe attach, then the
# frame), as Python's blocking recv does. The CPU time of each side's
# whole run (perf stat, 32 zmq services) is the same, some 250 ms, less
# the interpreter's own start-up on Python's side: nearly all of it is
# the services'.
#
# A second figure of each run, end to end, is taken by the measuring
# loop (bench_launch_run.py) itself, the same way for both: from just
# before it starts the program to the moment it reads that program's
# ready line. It adds what a user also waits for: each side's own
# start-up (shared libraries; the interpreter and its imports) and
# launch's set-up (watchdog, socket directory, cgroup). Joining its
# cgroup is the largest part of that set-up, about 10 ms here, nearly
# all of it waiting, not CPU: the kernel waits for an RCU grace period
# to move a process between cgroups (launch moving back at teardown
# waits as long again). Starting each service straight into the cgroup
# (clone3() with CLONE_INTO_CGROUP) would avoid both, but needs a
# clone3() with a stack of the child's own: glibc 2.39's pidfd_spawn(),
# where Debian 12 has 2.36. METRICSD_LAUNCH_NO_CGROUP=1 shows the
# difference.
#
# The start-up time of each mode against /bin/true is bench_startup's.
set -u
: "${METRICSD_BIN:?set METRICSD_BIN}"
BIN=$METRICSD_BIN
here=$(cd "$(dirname "$0")" && pwd)
# 25 by default: one pair of runs can be off by a factor of 3 on a loaded
# machine (see the pair ratios printed at the end); 25 pairs take about
# half a minute.
RUNS=${RUNS:-25}
T=$(mktemp -d /tmp/metricsd-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

# Debian's python3, which python3-zmq is for (not a python3 earlier in PATH).
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || { echo "bench_launch: $PY missing" >&2; exit 1; }
"$PY" -c 'import zmq' 2>/dev/null ||
	{ echo "bench_launch: python3-zmq missing (scripts/deps)" >&2; exit 1; }
# shellcheck disable=SC2046
${CC:-cc} -O2 -o "$T/ready_sender" "$here/ready_sender.c" \
    $(pkg-config --cflags --libs libzmq) ||
	{ echo "bench_launch: cannot build the ready sender" >&2; exit 1; }

conf() {	# conf MODE N
	{
		printf '[launch]\nready_timeout = 60\nexit_timeout = 1ms\nkill_grace = 5\n'
		i=1
		while [ "$i" -le "$2" ]; do
			if [ "$1" = zmq ]; then
				printf '[service s%d]\nshell = yes\ncommand = %s "$@" && exec sleep 100\n' \
				    "$i" "$T/ready_sender"
			else
				printf '[service s%d]\nready = none\ncommand = sleep 100\n' "$i"
			fi
			i=$((i + 1))
		done
	} >"$T/$1.$2.conf"
}

printf 'bench_launch: medians of %s runs (%s CPUs, load %s)\n' \
    "$RUNS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
for mode in zmq none; do
	for n in 1 8 32; do
		conf "$mode" "$n"
	done
done
"$PY" "$here/bench_launch_run.py" "$BIN" "$here/launch_popen.py" \
    "$T/ready_sender" "$T" "$RUNS" || exit 1
printf 'bench_launch: load now %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
