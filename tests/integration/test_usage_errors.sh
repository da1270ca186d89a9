# Unified option diagnostics (issue 8): every mode, whether run as
# "metricsd MODE" or through its metricsd-MODE symlink, answers an unknown
# option and a missing option argument with one line in the same format,
#   metricsd MODE: unknown option '--bogus'; try 'metricsd MODE --help'
#   metricsd MODE: option '--OPT' needs an argument; try 'metricsd MODE --help'
# and exit status 2. The modes come from the binary (modes.def), so a mode
# added later is covered without editing this test.
. "$(dirname "$0")/lib.sh"

# ---- KNOWN_UNCONVERTED ---------------------------------------------------
# Modes that do not use the option layer (src/args.h) yet. They are still
# run, but their failures are only reported; once one of them conforms the
# test fails until it is removed from this list. Integrator: remove each
# mode as its conversion is merged; the list must end up empty.
KNOWN_UNCONVERTED=""
# --------------------------------------------------------------------------

# One mode's diagnostics; prints what is wrong and returns 1 on a mismatch.
check_mode() {
	m=$1
	hint="; try 'metricsd $m --help'"
	for how in "metricsd $m" "metricsd-$m"; do
		# shellcheck disable=SC2086 # $how is two words on purpose
		timeout 20 $how --bogus >"$T/out" 2>"$T/err"
		rc=$?
		want="metricsd $m: unknown option '--bogus'$hint"
		if [ "$rc" -ne 2 ] || [ "$(cat "$T/err")" != "$want" ]; then
			echo "$how --bogus: exit $rc, stderr: $(cat "$T/err")"
			echo "    expected exit 2 and: $want"
			return 1
		fi
		echo "ok: $how --bogus"
	done
	# An option that takes an argument, from the mode's own usage.
	timeout 20 metricsd "$m" --help >"$T/help" 2>&1 ||
		{ echo "metricsd $m --help failed"; return 1; }
	grep -q "^usage: metricsd $m" "$T/help" ||
		{ echo "metricsd $m --help: no usage line"; return 1; }
	opt=$(grep -oE -- '--[a-z][a-z-]* [A-Z]' "$T/help" | head -n 1 |
	    cut -d ' ' -f 1)
	if [ -z "$opt" ]; then
		echo "note: metricsd $m has no option with an argument"
		return 0
	fi
	timeout 20 metricsd "$m" "$opt" >"$T/out" 2>"$T/err"
	rc=$?
	want="metricsd $m: option '$opt' needs an argument$hint"
	if [ "$rc" -ne 2 ] || [ "$(cat "$T/err")" != "$want" ]; then
		echo "metricsd $m $opt: exit $rc, stderr: $(cat "$T/err")"
		echo "    expected exit 2 and: $want"
		return 1
	fi
	echo "ok: metricsd $m $opt"
	return 0
}

all=$(modes)
[ -n "$all" ] || fail "no modes in 'metricsd --help'"
for m in $KNOWN_UNCONVERTED; do
	echo "$all" | grep -qx "$m" ||
		fail "KNOWN_UNCONVERTED names '$m', which is not a mode"
done
for m in $all; do
	case " $KNOWN_UNCONVERTED " in
	*" $m "*)
		if check_mode "$m" >"$T/known" 2>&1; then
			fail "mode $m now conforms: remove it from KNOWN_UNCONVERTED"
		fi
		echo "known unconverted: $m ($(head -n 1 "$T/known"))"
		;;
	*)
		check_mode "$m" || fail "mode $m: diagnostics differ (above)"
		;;
	esac
done

# The same format for the checks a mode makes after parsing.
expect_exit 2 metricsd publish --bind ipc://x extra
[ "$(cat "$T/err")" = "metricsd publish: unexpected argument 'extra'; try 'metricsd publish --help'" ] ||
	fail "unexpected operand: $(cat "$T/err")"
expect_exit 2 metricsd publish --bind ipc://x --batch 0
[ "$(cat "$T/err")" = "metricsd publish: --batch: '0' is not an integer in 1..65536; try 'metricsd publish --help'" ] ||
	fail "bad number: $(cat "$T/err")"
expect_exit 2 metricsd publish --bind ipc://x --wait-timeout 1x
expect_grep "^metricsd publish: --wait-timeout: '1x' is not a duration in 1ms\.\.24h \(e\.g\. 250ms, 2\.5, 1m\); try 'metricsd publish --help'$" "$T/err"
expect_exit 2 metricsd publish --bind=
expect_grep "^metricsd publish: --bind: empty value; try 'metricsd publish --help'$" "$T/err"
expect_exit 2 metricsd ready --ready=ipc://x --readiness-path p
expect_grep "^metricsd ready: --ready and --readiness-path exclude each other; try 'metricsd ready --help'$" "$T/err"
expect_exit 2 metricsd ready --help=yes
expect_grep "^metricsd ready: option '--help' takes no argument; try 'metricsd ready --help'$" "$T/err"
exit 0
