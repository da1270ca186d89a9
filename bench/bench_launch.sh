#!/bin/sh
# bench_launch: cost of "spawn N services and wait until all are ready"
# with metricsd launch, against a baseline measured in the same run:
# spawning and reaping the same number of processes of the same binary
# from the shell, with no readiness protocol.
#
#   ready run:  metricsd launch with N services
#                 sh -c 'metricsd ready && exec sleep 600'   (ready = zmq)
#               timed from start to launch's exit (COMMAND is `true`, so
#               this is spawn + all ready + teardown), plus the
#               spawn-to-all-ready time launch itself reports.
#   baseline:   N x  sh -c 'exec metricsd --version'  in the background,
#               then wait (spawn + exec + exit + reap).
#
# Reported: medians over RUNS runs, the ratio ready/baseline, and the
# overhead per service, (ready - baseline) / N.
set -u
: "${METRICSD_BIN:?set METRICSD_BIN}"
BIN=$METRICSD_BIN
PATH=$(dirname "$BIN"):$PATH
export PATH
RUNS=${RUNS:-5}
T=$(mktemp -d /tmp/metricsd-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

now_us() {
	echo $(($(date +%s%N) / 1000))
}

median() {
	sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

conf() {
	{
		printf '[launch]\nready_timeout = 60\nexit_timeout = 10\nkill_grace = 5\n'
		i=1
		while [ "$i" -le "$1" ]; do
			printf '[service s%d]\nshell = yes\ncommand = metricsd ready && exec sleep 600\n' "$i"
			i=$((i + 1))
		done
	} >"$T/n$1.conf"
}

baseline_once() {
	t0=$(now_us)
	i=0
	while [ "$i" -lt "$1" ]; do
		sh -c 'exec "$0" --version' "$BIN" >/dev/null &
		i=$((i + 1))
	done
	wait
	echo $(($(now_us) - t0))
}

ready_once() {
	t0=$(now_us)
	"$BIN" launch "$T/n$1.conf" -- true >"$T/out" 2>"$T/err" || {
		echo "bench_launch: launch failed:" >&2
		cat "$T/err" >&2
		exit 1
	}
	echo $(($(now_us) - t0))
	sed -n 's/.*all [0-9]* services ready in \([0-9]*\) ms.*/\1/p' "$T/err" >>"$T/internal.$1"
}

# launch stops services that outlive COMMAND after exit_timeout; with
# COMMAND `true` they would linger 10 s. Shorten it for the bench.
printf 'bench_launch: %s runs each, medians; times in ms\n' "$RUNS"
printf '%8s %12s %12s %14s %8s %16s\n' services baseline launch ready-internal ratio overhead/service
for n in 1 8 32; do
	conf "$n"
	sed -i 's/^exit_timeout = 10$/exit_timeout = 0.001/' "$T/n$n.conf"
	: >"$T/internal.$n"
	b=$(r=0; while [ "$r" -lt "$RUNS" ]; do baseline_once "$n"; r=$((r + 1)); done | median)
	l=$(r=0; while [ "$r" -lt "$RUNS" ]; do ready_once "$n"; r=$((r + 1)); done | median)
	ri=$(median <"$T/internal.$n")
	awk -v n="$n" -v b="$b" -v l="$l" -v ri="$ri" 'BEGIN {
		printf "%8d %12.1f %12.1f %14d %7.2fx %16.2f\n",
		    n, b / 1000, l / 1000, ri, l / b, (l - b) / 1000 / n }'
done
