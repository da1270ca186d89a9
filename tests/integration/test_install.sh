# make install/uninstall into a DESTDIR: the binary, a metricsd-MODE
# symlink and a metricsd-MODE(1) man link for every mode (the list comes
# from the binary, i.e. from src/modes.def), and nothing left after
# uninstall. Also: metricsd(1) has a section for every mode.
. "$(dirname "$0")/lib.sh"

src=$(cd "$(dirname "$0")/../.." && pwd)
: "${METRICSD_BUILD:?set METRICSD_BUILD to the build directory}"
command -v make >/dev/null 2>&1 || skip "make is not installed"

root="$T/root"
make -C "$src" BUILD="$METRICSD_BUILD" DESTDIR="$root" PREFIX=/usr \
    install >"$T/make.out" 2>&1 ||
	fail "make install failed: $(cat "$T/make.out")"
echo "ok: make install DESTDIR=$root"
bin="$root/usr/bin"
man1="$root/usr/share/man/man1"
[ -x "$bin/metricsd" ] || fail "no $bin/metricsd"
[ "$(stat -c %a "$bin/metricsd")" = 755 ] || fail "metricsd is not 0755"
[ "$(stat -c %a "$man1/metricsd.1")" = 644 ] || fail "metricsd.1 is not 0644"

all=$(modes)
[ -n "$all" ] || fail "no modes in 'metricsd --help'"
for m in $all; do
	[ "$(readlink "$bin/metricsd-$m")" = metricsd ] ||
		fail "$bin/metricsd-$m is not a symlink to metricsd"
	[ "$(readlink "$man1/metricsd-$m.1")" = metricsd.1 ] ||
		fail "$man1/metricsd-$m.1 is not a link to metricsd.1"
	grep -qx "\\.Ss metricsd $m" "$src/man/metricsd.1" ||
		fail "metricsd(1) has no section 'metricsd $m'"
	# The installed link works: metricsd-MODE runs MODE.
	"$bin/metricsd-$m" --help >"$T/out" 2>&1 ||
		fail "$bin/metricsd-$m --help failed: $(cat "$T/out")"
	grep -q "^usage: metricsd $m" "$T/out" ||
		fail "metricsd-$m --help: $(cat "$T/out")"
	if command -v man >/dev/null 2>&1; then
		page=$(man -M "$root/usr/share/man" -w "metricsd-$m" 2>&1)
		case $page in
		*/man1/metricsd.1 | */man1/metricsd-$m.1) ;;
		*) fail "man metricsd-$m finds '$page'" ;;
		esac
	fi
	echo "ok: metricsd-$m and man metricsd-$m"
done

make -C "$src" BUILD="$METRICSD_BUILD" DESTDIR="$root" PREFIX=/usr \
    uninstall >"$T/make.out" 2>&1 ||
	fail "make uninstall failed: $(cat "$T/make.out")"
left=$(find "$root" ! -type d)
[ -z "$left" ] || fail "left after uninstall: $left"
echo "ok: make uninstall removes everything"
exit 0
