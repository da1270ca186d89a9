# The multi-call dispatcher: subcommands, symlinks, help, version, errors.
. "$(dirname "$0")/lib.sh"

expect_exit 0 metricsd --version
expect_grep '^metricsd [0-9]+\.[0-9]+\.[0-9]+$' "$T/out"
expect_exit 0 metricsd --help
for m in read launch ready aggregate publish serve tokenize; do
	expect_grep "metricsd $m" "$T/out"
done
expect_exit 2 metricsd
expect_grep 'usage: metricsd MODE' "$T/err"
expect_exit 2 metricsd frobnicate
expect_grep "unknown mode 'frobnicate'" "$T/err"
expect_exit 2 metricsd help frobnicate
expect_exit 0 metricsd help read
expect_grep 'usage: metricsd read' "$T/out"
expect_exit 0 metricsd-read --help
expect_grep 'usage: metricsd read' "$T/out"
ln -s "$METRICSD_BIN" "$T/metricsd-bogus"
expect_exit 2 "$T/metricsd-bogus"
expect_grep "unknown mode 'bogus'" "$T/err"
exit 0
