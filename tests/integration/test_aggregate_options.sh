#!/bin/sh
# metricsd aggregate through the shared option layer (args.h): the one
# diagnostic format, the readiness group's spellings, and nothing created
# on a usage error.
. "$(dirname "$0")/lib.sh"

hint="; try 'metricsd aggregate --help'\$"
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --metrics-dir "$T/m" --bogus
expect_grep "^metricsd aggregate: unknown option '--bogus'$hint" "$T/err"
expect_exit 2 metricsd aggregate --metrics-dir "$T/m" --connect
expect_grep "^metricsd aggregate: option '--connect' needs an argument$hint" "$T/err"
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --metrics-dir "$T/m" --streaming=yes
expect_grep "^metricsd aggregate: option '--streaming' takes no argument$hint" "$T/err"
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --metrics-dir "$T/m" extra
expect_grep "^metricsd aggregate: unexpected argument 'extra'$hint" "$T/err"
expect_exit 2 metricsd aggregate --metrics-dir "$T/m"
expect_grep "^metricsd aggregate: say where the publisher is: .*$hint" "$T/err"
# The readiness group: all three spellings of the endpoint are one option.
for o in --ready --endpoint --ready-endpoint; do
	expect_exit 2 metricsd aggregate --connect "ipc://$T/x" \
	    --metrics-dir "$T/m" $o "ipc://$T/r" --readiness-path p
	expect_grep "^metricsd aggregate: $o and --readiness-path exclude each other$hint" "$T/err"
done
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --metrics-dir "$T/m" \
    --ready "ipc://$T/r" --readiness-id notanumber
[ ! -e "$T/m" ] || fail "a usage error created the store"
exit 0
