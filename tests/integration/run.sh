#!/bin/sh
# Runs every tests/integration/test_*.sh against the built binary.
# A test exits 0 to pass, 77 to skip (printing why), anything else fails.
#
# ONLY="name ..." runs just those tests.
# JOBS=N (default 2) tests run at the same time, each in a temporary
# directory of its own (lib.sh) with its own sockets and ephemeral ports.
# A test whose file has a line "# run.sh: alone" (latency bounds, kill
# timing) runs with nothing else running: those run first, one after
# another, then the others in the pool.
# An argument, if given, is the Check runner (tests/runner.c): each of
# its suites (RUNNER --list) is one more job of the pool, named unit_NAME,
# so that the unit tests overlap the integration tests (make test-run).
#
# Every PASS/FAIL line gives the job's seconds; the last lines the sum of
# them and the wall-clock time. With METRICSD_BUILD set, the times are
# kept in $METRICSD_BUILD/integration.times and the next run starts the
# longest jobs first, so that the pool ends with short ones; a fresh build
# tree (CI) goes by tests/integration/job-times, an ASan run's times.
here=$(cd "$(dirname "$0")" && pwd)
: "${METRICSD_BIN:?set METRICSD_BIN to the metricsd binary}"
export METRICSD_BIN
PATH=$(dirname "$METRICSD_BIN"):$PATH
export PATH
JOBS=${JOBS:-2}
case $JOBS in '' | *[!0-9]* | 0) echo "run.sh: JOBS must be a positive integer" >&2; exit 2 ;; esac

W=$(mktemp -d /tmp/metricsd-run.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
mkdir "$W/claim" "$W/res" "$W/out"
times=
[ -n "${METRICSD_BUILD:-}" ] && [ -d "$METRICSD_BUILD" ] &&
	times=$METRICSD_BUILD/integration.times

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
secs() { # MS -> seconds with one decimal
	printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

# run_one NAME: runs the test NAME (unit_SUITE: that suite of the Check
# runner), prints its line, leaves "STATUS MS" in $W/res/NAME and its
# output in $W/out/NAME.
run_one() {
	j=$1
	out=$W/out/$j
	t0=$(now_ms)
	case $j in
	unit_*) "$runner" "${j#unit_}" >"$out" 2>&1 ;;
	*) sh "$here/$j.sh" >"$out" 2>&1 ;;
	esac
	rc=$?
	ms=$(($(now_ms) - t0))
	case $rc in
	0) st=PASS; line="PASS $j $(secs $ms) s"
	   case $j in unit_*) line="$line: $(tail -n 1 "$out")" ;; esac ;;
	77) st=SKIP; line="SKIP $j $(secs $ms) s: $(tail -n 1 "$out")" ;;
	*) st=FAIL; line="FAIL $j (exit $rc) $(secs $ms) s" ;;
	esac
	echo "$st $ms" >"$W/res/$j"
	echo "$line"
}

# worker: claims (mkdir is atomic) and runs queued jobs until none is left.
worker() {
	for j in $queue; do
		mkdir "$W/claim/$j" 2>/dev/null || continue
		run_one "$j"
	done
}

runner=${1:-}
units=
if [ -n "$runner" ]; then
	units=$("$runner" --list) || { echo "run.sh: $runner --list failed" >&2; exit 1; }
fi

alone= rest=
for t in "$here"/test_*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${ONLY:-}" ]; then
		case " $ONLY " in *" $name "*) ;; *) continue ;; esac
	fi
	if grep -q '^# run\.sh: alone' "$t"; then
		alone="$alone $name"
	else
		rest="$rest $name"
	fi
done
for u in $units; do
	if [ -n "${ONLY:-}" ]; then
		case " $ONLY " in *" unit_$u "*) ;; *) continue ;; esac
	fi
	rest="unit_$u $rest"
done

# Longest first, by the last run's times, else job-times (jobs timed in
# neither first of all).
order=$here/job-times
[ -n "$times" ] && [ -s "$times" ] && order=$times
if [ -s "$order" ]; then
	rest=$(for j in $rest; do
		ms=$(awk -v j="$j" '$1 == j { m = $2 } END { print m == "" ? 999999999 : m }' "$order")
		echo "$ms $j"
	done | sort -rn | awk '{ print $2 }')
fi

njobs=$(echo $alone $rest | wc -w)
wall0=$(now_ms)
for j in $alone; do
	run_one "$j"
done
queue=$rest
n=0
while [ "$n" -lt "$JOBS" ]; do
	worker &
	n=$((n + 1))
done
wait

pass=0 fail=0 skip=0 sum=0
for r in "$W"/res/*; do
	[ -e "$r" ] || continue
	read -r st ms <"$r"
	sum=$((sum + ms))
	case $st in
	PASS) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1))
	   echo "---- output of $(basename "$r"):"
	   sed 's/^/    /' "$W/out/$(basename "$r")" ;;
	esac
done
if [ -n "$times" ]; then
	{
		for r in "$W"/res/*; do
			[ -e "$r" ] && echo "$(basename "$r") $(awk '{ print $2 }' "$r")"
		done
		# keep the times of jobs not run this time (ONLY=...)
		if [ -s "$times" ]; then
			awk -v d="$W/res" '{ f = d "/" $1; if ((getline x < f) <= 0) print; close(f) }' "$times"
		fi
	} >"$W/times"
	cat "$W/times" >"$times"
fi
if [ -n "$units" ]; then
	cat "$W"/out/unit_* 2>/dev/null | awk '/^[0-9]+%: Checks: / {
		gsub(",", ""); n++; c += $3; f += $5; e += $7 }
		END { if (n) printf "unit: %d checks in %d suites, %d failures, %d errors\n", c, n, f, e }'
fi
echo "jobs: $pass passed, $fail failed, $skip skipped;" \
	"$(secs $sum) s of jobs in $(secs $(($(now_ms) - wall0))) s, $JOBS at a time"
[ $((pass + fail + skip)) -eq "$njobs" ] ||
	{ echo "jobs: only $((pass + fail + skip)) of $njobs jobs ran"; exit 1; }
[ "$fail" -eq 0 ]
