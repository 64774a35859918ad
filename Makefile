# lockkit: solo, lockdev, flockrun.  Plain GNU make.

# The version has one home, the latest entry of debian/changelog; the
# tools' --version, the package and make all read it there.
VERSION   := $(shell sed -n '1s/^lockkit (\(.*\)) .*/\1/p' \
               debian/changelog 2>/dev/null)
ifeq ($(VERSION),)
$(error no version: debian/changelog's first line must be "lockkit (VERSION) ...")
endif
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
# bash-completion's directory as its pkg-config file lays it out, under
# PREFIX (with PREFIX=/usr, the system's own); without bash-completion,
# where it would be.
COMPLETIONSDIR ?= $(shell $(PKG_CONFIG) --define-variable=prefix=$(PREFIX) \
                  --define-variable=datadir=$(PREFIX)/share \
                  --variable=completionsdir bash-completion 2>/dev/null || \
                  echo $(PREFIX)/share/bash-completion/completions)
# Helper programs the tools exec, never run by users: solo-etcd.
LIBEXECDIR ?= $(PREFIX)/libexec/lockkit
# lockdev's lock directory; a setgid lockdev uses only this one.
LOCKDIR   ?= /var/lock
DESTDIR   ?=

CC        ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS    ?= -O2 -g
WARNFLAGS ?= -std=c11 -Wall -Wextra -Werror
HARDEN    ?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARDEN  ?= -pie -Wl,-z,relro,-z,now
BSD_CFLAGS  = $(shell $(PKG_CONFIG) --cflags libbsd-overlay 2>/dev/null)
# Expanded when a recipe runs, not when make starts: "make deps all" must
# see the libbsd that deps has just installed.
# libbsd is linked statically: it saves the dynamic loader's work at every
# start (these tools run thousands of times a day) and one more descriptor.
BSD_LIBS    = -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs --static \
              libbsd-overlay 2>/dev/null) -Wl,-Bdynamic

# json-c writes --json's output.  Only its headers are used at build
# time: lib/report.c loads the library with dlopen when JSON is asked
# for, so no other run pays for it (see report.c for the measurement).
JSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags json-c 2>/dev/null)

# STATIC=1 links the tools as static PIEs: no dynamic loader at start,
# about a fifth off each run (see BENCHMARKS.md), at the price of
# rebuilding for every libc security update.  Off by default.
ifeq ($(STATIC),1)
LDHARDEN   = -static-pie -Wl,-z,relro,-z,now
BSD_LIBS   = $(shell $(PKG_CONFIG) --libs --static libbsd-overlay 2>/dev/null)
endif

# SANITIZE=1 builds into separate objects and bin-san/, so a sanitized and
# a plain build never mix.
ifeq ($(SANITIZE),1)
SAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all
HARDEN     = -fPIE
SFX        = -san
endif

# Every function and variable in a section of its own, and the linker
# drops those no caller reaches: lib/ files serve all three tools, and
# without this each tool carried the others' functions, and bound their
# libc symbols at every start (solo bound 70, of which it calls 52).
SECTIONS    = -ffunction-sections -fdata-sections
GC_SECTIONS = -Wl,--gc-sections

ALL_CFLAGS  = $(WARNFLAGS) $(CFLAGS) $(HARDEN) $(SECTIONS) $(SAN_FLAGS) \
              -D_GNU_SOURCE -DLOCKKIT_VERSION='"$(VERSION)"' \
              -DLOCKDEV_DIR='"$(LOCKDIR)"' \
              -DLOCKKIT_LIBEXECDIR='"$(LIBEXECDIR)"' \
              $(BSD_CFLAGS) $(JSON_CFLAGS) -Ilib $(CPPFLAGS)
ALL_LDFLAGS = $(LDHARDEN) $(GC_SECTIONS) $(SAN_FLAGS) $(LDFLAGS)

TOOLS    = flockrun lockdev solo
# solo --etcd's cluster client: libcurl (HTTP, TLS) and json-c, linked
# into solo-etcd alone and kept out of liblockkit.a, so that the local
# tools never load them; -lresolv for glibc's b64_ntop/b64_pton.
HELPERS  = solo-etcd
ETCDSRC  = lib/etcd.c lib/etcdlock.c
ETCDOBJ  = $(ETCDSRC:.c=$(SFX).o)
ETCD_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcurl json-c 2>/dev/null)
ETCD_LIBS   = $(shell $(PKG_CONFIG) --libs libcurl json-c 2>/dev/null) -lresolv
LIBSRC   = $(filter-out $(ETCDSRC),$(wildcard lib/*.c))
LIBOBJ   = $(LIBSRC:.c=$(SFX).o)
LIBA     = lib/liblockkit$(SFX).a
BIN      = bin$(SFX)
PROGS    = $(TOOLS:%=$(BIN)/%)
HPROGS   = $(HELPERS:%=$(BIN)/%)
UNITSRC  = $(wildcard tests/unit/*.c)
UNITS    = $(UNITSRC:tests/unit/%.c=$(BIN)/unit-%)
MANS     = $(TOOLS:%=man/%.1)
# jq reads --json's output in the tests (json-c's headers, which --json
# needs to build, come with ETCDPKGS).  Test peers: util-linux
# flock (side by side with flockrun), cu, minicom
# and picocom (lockdev interop), tmux (runs them on a terminal), iproute2
# (loopback up in solo.bats's network namespaces), bash-completion
# (completion.bats drives the completion with its functions); the
# analysers tests/static.bats runs: valgrind, cppcheck, clang-tidy,
# shellcheck (gcc's -fanalyzer comes with build-essential), clang and its
# libFuzzer runtime for the fuzz targets; what make deb and tests/deb.bats
# build and check the Debian package with (debhelper, dpkg-dev, fakeroot,
# lintian).  debian/control Build-Depends on the rest, but for the
# essential util-linux and build-essential (tests/deb.bats checks).
DEBPKGS  = build-essential pkg-config libbsd-dev bats \
           bats-support bats-assert bats-file jq mandoc util-linux procps \
           bsdextrautils \
           cu minicom picocom tmux iproute2 valgrind cppcheck clang-tidy \
           shellcheck clang libclang-rt-dev bash-completion \
           debhelper dpkg-dev fakeroot lintian $(ETCDPKGS)
# solo --etcd: libcurl (HTTP and TLS to etcd's gateway) and json-c (its
# JSON), the etcd server and etcdctl its tests run against, openssl for
# the TLS test's CA and certificates, socat for the proxy the lock-lost
# test cuts.
ETCDPKGS = libcurl4-openssl-dev libjson-c-dev etcd-server etcd-client \
           openssl socat

.PHONY: all bench bench-deps check stress deb deps fuzz fuzz-deps install \
        uninstall clean lint need-bats need-libbsd need-etcd-libs packages \
        version FORCE
.SECONDARY:
all: $(PROGS) $(HPROGS) $(LIBA)

%$(SFX).o: %.c $(wildcard lib/*.h) | need-libbsd
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Without libbsd's overlay headers the build stops at "implicit
# declaration of strtonum", without json-c's at a missing json.h; say
# what is missing instead.
need-libbsd:
	@$(PKG_CONFIG) --exists libbsd-overlay || { echo "lockkit needs" \
	    "libbsd's pkg-config file (Debian: libbsd-dev): run 'make deps'" \
	    "as root, or install it" >&2; exit 1; }
	@$(PKG_CONFIG) --exists json-c || { echo "lockkit needs" \
	    "json-c's pkg-config file (Debian: libjson-c-dev): run 'make deps'" \
	    "as root, or install it" >&2; exit 1; }

# Likewise for the tests: bats, and the libraries they load from
# BATS_LIB_PATH (bats's default: /usr/lib/bats).
BATS_LIBS = bats-support bats-assert bats-file
need-bats:
	@ok=1; command -v bats >/dev/null || ok=; IFS=:; \
	for l in $(BATS_LIBS); do found=; \
	    for d in $${BATS_LIB_PATH:-/usr/lib/bats}; do \
	    [ -d "$$d/$$l" ] && found=1; done; [ -n "$$found" ] || ok=; \
	done; [ -n "$$ok" ] || { echo "lockkit's tests need bats and" \
	    "its libraries $(BATS_LIBS) (Debian packages of those names):" \
	    "run 'make deps' as root, or install them" >&2; exit 1; }

# The version is compiled in here; a new changelog entry must reach it.
lib/version$(SFX).o: debian/changelog

$(LIBA): $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(BIN)/%: cmd/%$(SFX).o $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(BSD_LIBS)

$(ETCDOBJ) cmd/solo-etcd$(SFX).o: CPPFLAGS += $(ETCD_CFLAGS)

# solo finds solo-etcd in LIBEXECDIR, compiled in: a build for another
# PREFIX or LIBEXECDIR (make PREFIX=/usr install after a plain make)
# rebuilds what holds it.
lib/libexecdir.stamp: FORCE
	@echo '$(LIBEXECDIR)' | cmp -s - $@ || echo '$(LIBEXECDIR)' > $@
lib/child$(SFX).o: lib/libexecdir.stamp
FORCE:

$(BIN)/solo-etcd: cmd/solo-etcd$(SFX).o $(ETCDOBJ) $(LIBA) | need-etcd-libs
	@mkdir -p $(BIN)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ETCDOBJ) $(LIBA) $(BSD_LIBS) \
	    $(ETCD_LIBS)

need-etcd-libs:
	@$(PKG_CONFIG) --exists libcurl json-c || { echo "solo-etcd needs" \
	    "libcurl's and json-c's pkg-config files (Debian:" \
	    "libcurl4-openssl-dev libjson-c-dev): run 'make deps' as root," \
	    "or install them" >&2; exit 1; }

$(BIN)/unit-etcd: tests/unit/etcd$(SFX).o $(ETCDOBJ) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ETCDOBJ) $(LIBA) $(BSD_LIBS) \
	    $(ETCD_LIBS)

$(BIN)/unit-%: tests/unit/%$(SFX).o $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(BSD_LIBS)

$(BIN)/ptyhold: tests/tools/ptyhold$(SFX).o
	@mkdir -p $(BIN)
	$(CC) $(ALL_LDFLAGS) -o $@ $<

# A holder of a flock by a descriptor in flight, for the tests.
$(BIN)/inflight: tests/tools/inflight.c
	@mkdir -p $(BIN)
	$(CC) $(WARNFLAGS) -O2 -D_GNU_SOURCE -o $@ $<

# The stress tests' critical section: static, as it runs thousands of
# times and is not what is under test.
$(BIN)/incr: tests/tools/incr.c
	@mkdir -p $(BIN)
	$(CC) $(WARNFLAGS) -O2 -D_GNU_SOURCE -static -o $@ $<

# An LD_PRELOAD shim for lock failures only other file systems produce;
# never sanitized, as it loads into other processes.
$(BIN)/faillock.so: tests/tools/faillock.c
	@mkdir -p $(BIN)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -o $@ $< -ldl

# Builds everything, runs the C unit tests and every bats file, and ends
# with one line "N passed, N failed".
TESTBINS = $(PROGS) $(HPROGS) $(UNITS) $(BIN)/ptyhold $(BIN)/incr \
           $(BIN)/inflight $(BIN)/faillock.so
check: need-bats $(TESTBINS)
	LOCKKIT_BIN=$(CURDIR)/$(BIN) LOCKKIT_SANITIZE=$(SANITIZE) \
	    tests/run $(UNITS) tests/*.bats

# The stress tests at full size (make check runs them small, with 200
# waiters): 16 processes x 600 increments, 100 each through each of the
# five lock kinds and through solo with its port among the ephemeral
# ones; 500 SIGKILLed holders, 100 per kind; 1000 rounds of 8 lockdev -l
# racing for a stale lock; 1000 waiters queued at once on one lock of
# each kind (a port, an abstract and a private -U name, a flockrun file,
# a lockdev device); 50 processes x 20 increments through solo --slots 8;
# 100 races of two solo --replace.
# Bounded: every wait has a deadline.
stress: need-bats $(TESTBINS)
	LOCKKIT_BIN=$(CURDIR)/$(BIN) LOCKKIT_SANITIZE=$(SANITIZE) \
	    STRESS_PROCS=16 STRESS_ITERS=100 STRESS_KILLS=100 \
	    STRESS_ROUNDS=1000 STRESS_WAITERS=1000 \
	    STRESS_SLOT_PROCS=50 STRESS_SLOT_ITERS=20 STRESS_REPLACES=100 \
	    tests/run tests/stress.bats

BENCHPKGS = hyperfine daemontools runit moreutils liblockfile-bin \
            lockfile-progs time strace perl

# The hand-off probe: static and without libc, so that its own start-up
# (not the lock's) costs next to nothing; see bench/stamp.c.
$(BIN)/stamp: bench/stamp.c
	@mkdir -p $(BIN)
	$(CC) $(WARNFLAGS) -O2 -D_GNU_SOURCE -ffreestanding -fno-stack-protector \
	    -fno-pie -no-pie -static -nostdlib -o $@ $<

# The paired timer for the ratios in the targets (see bench/pair.c).
$(BIN)/pair: bench/pair.c | need-libbsd
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BSD_LIBS) -lm

# The same flockrun as a static PIE, to show what STATIC=1 buys.
$(BIN)/flockrun-static: cmd/flockrun$(SFX).o $(LIBA)
	$(CC) -static-pie -Wl,-z,relro,-z,now $(GC_SECTIONS) -o $@ $< $(LIBA) \
	    $$($(PKG_CONFIG) --libs --static libbsd-overlay)

# Side by side with the tools people use instead; writes BENCHMARKS.md.
bench: bench-deps $(PROGS) $(HPROGS) $(BIN)/stamp $(BIN)/pair $(BIN)/flockrun-static
	LOCKKIT_BIN=$(CURDIR)/$(BIN) bench/run

bench-deps:
	@$(MAKE) -s packages DEBPKGS="$(BENCHPKGS)"

# libFuzzer targets (clang), each run for FUZZ_SECONDS: the lock-file
# parser, the number parsers, and each tool's argument handling (its main
# run up to its first act, see tests/fuzz/args.c, with a dictionary of its
# options).  A crash stops make with the input saved as crash-* in
# bin-fuzz/; it then belongs in tests/unit or tests/bad-input.bats.
FUZZ_SECONDS ?= 60
FUZZ_CC = clang -g -O1 -D_GNU_SOURCE $(BSD_CFLAGS) -Ilib \
          -DLOCKKIT_VERSION='"fuzz"' -DLOCKDEV_DIR='"/var/lock"' \
          -fsanitize=fuzzer,address,undefined
FUZZ_RUN = -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1
fuzz: fuzz-deps
	@mkdir -p bin-fuzz
	for f in lckfile parse; do \
	    $(FUZZ_CC) -o bin-fuzz/$$f tests/fuzz/$$f.c lib/$$f.c lib/fmt.c \
	        $(BSD_LIBS) || exit 1; \
	    (cd bin-fuzz && ./$$f $(FUZZ_RUN)) || exit 1; \
	done
	for t in $(TOOLS); do \
	    $(FUZZ_CC) -Dmain=tool_main -c -o bin-fuzz/$$t-main.o cmd/$$t.c && \
	    $(FUZZ_CC) -o bin-fuzz/args-$$t tests/fuzz/args.c \
	        bin-fuzz/$$t-main.o lib/parse.c lib/soloopt.c lib/exitcode.c \
	        lib/version.c lib/deadline.c $(BSD_LIBS) -ldl || exit 1; \
	    mkdir -p bin-fuzz/corpus-$$t; \
	    (cd bin-fuzz && ./args-$$t -dict=../tests/fuzz/$$t.dict \
	        $(FUZZ_RUN) corpus-$$t) || exit 1; \
	done

fuzz-deps:
	@$(MAKE) -s packages DEBPKGS="clang libclang-rt-dev"

# Prints the version, for scripts and tests/deb.bats.
version:
	@echo $(VERSION)

lint:
	mandoc -Tlint -Wwarning $(MANS)

# The Debian package, as dpkg-buildpackage builds it from a clean
# checkout: ../lockkit_VERSION_ARCH.deb and its -dbgsym, after make check
# has run in the build (DEB_BUILD_OPTIONS=nocheck skips it).
deb: deps
	dpkg-buildpackage -us -uc -b

# Installs what building and testing need, from Debian, and brings
# mandoc's database up to date.
deps: packages
	@# mandoc checks cross-references (.Xr) against its own database; with
	@# none, or one older than the packages, -Tlint calls every installed
	@# page an "outdated mandoc.db" entry.
	@if [ ! -e /usr/share/man/mandoc.db ] || \
	    [ -n "$$(find /var/lib/dpkg/info -newer /usr/share/man/mandoc.db \
	    -name '*.list' -print -quit)" ]; then \
	    makewhatis /usr/share/man; fi

# The DEBPKGS not yet installed, refreshing the package lists first only
# when something is missing.  With everything there it needs no root:
# make fuzz (which make check runs) works as any user.
packages:
	@missing=; for p in $(DEBPKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# One completion file serves the three tools: bash-completion loads it by
# the name of the command, so it goes in as flockrun, with links for the
# others.
install: $(PROGS) $(HPROGS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(COMPLETIONSDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)
	install -m 0755 $(HPROGS) $(DESTDIR)$(LIBEXECDIR)
	install -m 0644 $(MANS) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 completion/lockkit.bash $(DESTDIR)$(COMPLETIONSDIR)/flockrun
	ln -sf flockrun $(DESTDIR)$(COMPLETIONSDIR)/lockdev
	ln -sf flockrun $(DESTDIR)$(COMPLETIONSDIR)/solo

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) \
	    $(HELPERS:%=$(DESTDIR)$(LIBEXECDIR)/%) \
	    $(TOOLS:%=$(DESTDIR)$(MANDIR)/man1/%.1) \
	    $(TOOLS:%=$(DESTDIR)$(COMPLETIONSDIR)/%)
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

clean:
	rm -rf bin bin-san bin-fuzz lib/*.o lib/*.a lib/libexecdir.stamp cmd/*.o tests/unit/*.o tests/tools/*.o bench/*.o
