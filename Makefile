# metricsd - live LLM benchmark metrics over ZeroMQ and shared memory.
# See README for the two commands that matter: make demo, make check.

include config.mk

BUILD = build

SRC := $(wildcard src/*.c)
HDR := $(wildcard src/*.h) src/modes.def
# The dashboard page's files (serve, GET /), embedded by scripts/embed
# with Chart.js from Debian's libjs-chart.js (config.mk: CHARTJS).
DASHSRC := src/dashboard/index.html src/dashboard/dashboard.css \
	src/dashboard/dashboard.js
OBJ := $(SRC:src/%.c=$(BUILD)/src/%.o) $(BUILD)/gen/dashboard_assets.o
LIBOBJ := $(filter-out $(BUILD)/src/main.o,$(OBJ))

# Unit tests: tests/check_NAME.c exports Suite *NAME_suite(void).
TESTSRC := $(wildcard tests/check_*.c)
TESTOBJ := $(TESTSRC:tests/%.c=$(BUILD)/tests/%.o)
SUITES := $(TESTSRC:tests/check_%.c=%)
# Small programs the tests run as real processes.
HELPERSRC := $(wildcard tests/helpers/*.c)
HELPERBIN := $(HELPERSRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)
BENCHSRC := $(wildcard bench/bench_*.c)
BENCHBIN := $(BENCHSRC:bench/%.c=$(BUILD)/bench/%)
FUZZSRC := $(wildcard tests/fuzz/fuzz_*.c)

# The modes come from the one list, src/modes.def (its MODE(name, ...) lines).
MODES := $(shell sed -n 's/^MODE.\([a-z_]*\),.*/\1/p' src/modes.def)
LINKS := $(MODES:%=$(BUILD)/metricsd-%)
MAN1 = man/metricsd.1
MAN5 = man/metricsd-store.5 man/metricsd-wire.5 man/metricsd.conf.5 \
	man/metricsd-recording.5

# Tokenizer files and the reference engine, fetched by scripts/tokdeps.
METRICSD_CACHE ?= /var/cache/metricsd
METRICSD_TOKDATA ?= $(METRICSD_CACHE)/tok

# Reference token ids from Hugging Face's engine, made on this machine by
# test_tokenize_exact.sh once per key (corpus, tokenizer file, engine) and
# kept in the plain build's tree, so that the ASan pass reuses them.
REFCACHE = $(abspath build/tok-ref)

# Environment every test run sees: where the binaries and data are.
TESTENV = METRICSD_BIN=$(abspath $(BUILD)/metricsd) \
	METRICSD_TOKDATA=$(METRICSD_TOKDATA) \
	METRICSD_BUILD=$(abspath $(BUILD)) \
	METRICSD_HELPERS=$(abspath $(BUILD)/tests/helpers) \
	METRICSD_REFCACHE=$(REFCACHE) \
	CK_DEFAULT_TIMEOUT=120

# make check compiles with one job per core unless make was given -j.
NPROC := $(shell nproc 2>/dev/null || echo 2)
CHECK_J = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(NPROC))

all: $(BUILD)/metricsd $(LINKS)

$(BUILD)/metricsd: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LIBS)

$(LINKS): $(BUILD)/metricsd
	ln -sf metricsd $@

$(BUILD)/src/%.o: src/%.c $(HDR) config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(INCS) -c -o $@ $<

$(BUILD)/gen/dashboard_assets.c: scripts/embed $(DASHSRC) $(CHARTJS) config.mk
	@mkdir -p $(@D)
	scripts/embed \
		/ 'text/html; charset=utf-8' src/dashboard/index.html \
		/static/dashboard.css 'text/css; charset=utf-8' src/dashboard/dashboard.css \
		/static/dashboard.js 'text/javascript; charset=utf-8' src/dashboard/dashboard.js \
		/static/chart.min.js 'text/javascript; charset=utf-8' $(CHARTJS) \
		>$@.tmp && mv $@.tmp $@

$(CHARTJS):
	@echo "$@ is missing: install Debian's libjs-chart.js (make deps)" >&2; exit 1

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c src/dashboard_assets.h config.mk
	$(CC) $(CPPFLAGS) -Isrc $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/suites.h: $(TESTSRC)
	@mkdir -p $(@D)
	printf 'SUITE(%s)\n' $(SUITES) > $@

$(BUILD)/tests/%.o: tests/%.c $(HDR) tests/testutil.h config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Isrc $(CFLAGS) $(INCS) $(CHECK_INCS) -c -o $@ $<

$(BUILD)/tests/runner.o: tests/runner.c $(BUILD)/tests/suites.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(BUILD)/tests $(CFLAGS) $(CHECK_INCS) -c -o $@ $<

$(BUILD)/tests/runner: $(BUILD)/tests/runner.o $(BUILD)/tests/testutil.o $(TESTOBJ) $(LIBOBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) $(CHECK_LIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(LIBOBJ) $(HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Isrc $(CFLAGS) $(INCS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LIBS)

$(BUILD)/bench/%: bench/%.c $(LIBOBJ) $(HDR) bench/bench.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Isrc $(CFLAGS) $(INCS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LIBS)

deps:
	@scripts/deps
	@METRICSD_CACHE=$(METRICSD_CACHE) METRICSD_TOKDATA=$(METRICSD_TOKDATA) \
		scripts/tokdeps

# The test command: installs missing packages, then runs every test in a
# plain build and again under AddressSanitizer + UndefinedBehaviorSanitizer.
check: deps
	$(MAKE) $(CHECK_J) test-run
	$(MAKE) $(CHECK_J) check-asan

check-asan: deps
	$(MAKE) $(CHECK_J) BUILD=build-asan CFLAGS='$(CFLAGS) $(SANFLAGS)' \
		LDFLAGS='$(LDFLAGS) $(SANFLAGS)' test-run

# Each Check suite is one more job of run.sh's pool (JOBS=N, default 2):
# the unit tests overlap the integration tests; each prints its seconds.
test-run: all $(BUILD)/tests/runner $(HELPERBIN)
	$(TESTENV) tests/integration/run.sh $(abspath $(BUILD)/tests/runner)
	$(MAKE) lint-man

# launch_spawn is left out: valgrind runs vfork() as fork() and has no
# pidfd_open (Debian 12's 3.19), so launch cannot spawn under it.
check-valgrind: all $(BUILD)/tests/runner $(HELPERBIN)
	$(TESTENV) CK_FORK=no valgrind -q --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite \
		$(BUILD)/tests/runner $(filter-out launch_spawn,$(SUITES))

lint-man:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5)

bench: deps
	$(MAKE) BUILD=build-bench CFLAGS='-std=gnu11 -O2 -g -DNDEBUG -Wall -Wextra -Werror' bench-run

bench-run: all $(BENCHBIN)
	@for b in $(BENCHBIN); do $(TESTENV) $$b || exit 1; done
	@for s in bench/*.sh; do [ -e "$$s" ] || continue; $(TESTENV) sh $$s || exit 1; done

# Fuzz with libFuzzer, each tests/fuzz/fuzz_NAME.c in turn, seeded from
# tests/fuzz/fuzz_NAME.corpus if present, else tests/fuzz/corpus (the frame
# decoder's): make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS = 60
fuzz:
	@scripts/deps fuzz
	$(MAKE) BUILD=build-fuzz CC=clang \
		CFLAGS='-std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=fuzzer-no-link,address,undefined' \
		fuzz-run

fuzz-run: $(LIBOBJ)
	@mkdir -p $(BUILD)/fuzz
	@for f in $(FUZZSRC); do \
		n=$$(basename $$f .c); \
		$(CC) $(CPPFLAGS) -Isrc $(CFLAGS) $(INCS) -fsanitize=fuzzer -o $(BUILD)/fuzz/$$n $$f $(LIBOBJ) $(LIBS) || exit 1; \
		mkdir -p $(BUILD)/fuzz/$$n.corpus; \
		seeds=tests/fuzz/corpus; \
		[ -d tests/fuzz/$$n.corpus ] && seeds=tests/fuzz/$$n.corpus; \
		$(BUILD)/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(BUILD)/fuzz/$$n.corpus $$seeds || exit 1; \
	done

# The main job: launch an aggregator, publish a synthetic benchmark session
# into it, and show the metrics it computed; its dashboard page stays up
# HOLD seconds after the report (make demo HOLD=30; HOLD=forever: ^C).
HOLD = 5
demo: deps
	$(MAKE) all
	METRICSD_BIN=$(abspath $(BUILD)/metricsd) DEMO_HOLD=$(HOLD) \
		DEMO_TOKENIZER=$(METRICSD_TOKDATA)/llama3/tokenizer.json \
		sh examples/demo.sh

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man5
	cp -f $(BUILD)/metricsd $(DESTDIR)$(PREFIX)/bin/metricsd
	chmod 755 $(DESTDIR)$(PREFIX)/bin/metricsd
	for m in $(MODES); do ln -sf metricsd $(DESTDIR)$(PREFIX)/bin/metricsd-$$m; done
	cp -f $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/
	cp -f $(MAN5) $(DESTDIR)$(MANPREFIX)/man5/
	cd $(DESTDIR)$(MANPREFIX) && chmod 644 $(MAN1:man/%=man1/%) $(MAN5:man/%=man5/%)
	# man metricsd-MODE opens metricsd(1), where every mode has a section.
	for m in $(MODES); do ln -sf metricsd.1 $(DESTDIR)$(MANPREFIX)/man1/metricsd-$$m.1; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/metricsd
	for m in $(MODES); do rm -f $(DESTDIR)$(PREFIX)/bin/metricsd-$$m; done
	rm -f $(MAN1:man/%=$(DESTDIR)$(MANPREFIX)/man1/%)
	for m in $(MODES); do rm -f $(DESTDIR)$(MANPREFIX)/man1/metricsd-$$m.1; done
	rm -f $(MAN5:man/%=$(DESTDIR)$(MANPREFIX)/man5/%)

dist:
	git archive --prefix=metricsd-$(VERSION)/ -o metricsd-$(VERSION).tar.gz HEAD

clean:
	rm -rf build build-asan build-bench build-fuzz metricsd-$(VERSION).tar.gz

.PHONY: all deps check check-asan test-run check-valgrind lint-man bench \
	bench-run fuzz fuzz-run demo install uninstall dist clean
