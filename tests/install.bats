#!/usr/bin/env bats
# make install and make uninstall, into a DESTDIR: the README's first
# command puts exactly the three tools and their pages where PREFIX,
# BINDIR and MANDIR say, and uninstall takes exactly those away.

load helper

ROOT=$BATS_TEST_DIRNAME/..
TOOLS=(flockrun lockdev solo)

# mk ARG...: make in the source tree, quietly.  A make check
# run with SANITIZE=1 in its environment installs the sanitized build,
# the one LOCKKIT_BIN names; either way the binaries are up to date.
mk() {
	make -s -C "$ROOT" --no-print-directory "$@"
}

# installed BINDIR MANDIR: every tool and page in place, with its mode,
# the same bytes as the build, and nothing else installed under $T/dest.
installed() {
	local t
	for t in "${TOOLS[@]}"; do
		assert_file_exists "$1/$t"
		assert_equal "$(stat -c %a "$1/$t")" 755
		cmp "$LOCKKIT_BIN/$t" "$1/$t"
		assert_file_exists "$2/man1/$t.1"
		assert_equal "$(stat -c %a "$2/man1/$t.1")" 644
		cmp "$ROOT/man/$t.1" "$2/man1/$t.1"
	done
	assert_equal "$(find "$T/dest" -type f | wc -l)" 6
}

@test "install: PREFIX under DESTDIR; the tools run; uninstall leaves no file" {
	run -0 mk DESTDIR="$T/dest" PREFIX=/opt/lk install
	installed "$T/dest/opt/lk/bin" "$T/dest/opt/lk/share/man"
	run -0 "$T/dest/opt/lk/bin/flockrun" --version
	assert_output --regexp '^flockrun \(lockkit\) [0-9]'
	run -0 "$T/dest/opt/lk/bin/flockrun" "$T/lk" true
	run -0 mk DESTDIR="$T/dest" PREFIX=/opt/lk uninstall
	assert_equal "$(find "$T/dest" -type f | wc -l)" 0
}

@test "install: BINDIR and MANDIR each go where they are told" {
	run -0 mk DESTDIR="$T/dest" BINDIR=/b MANDIR=/m install
	installed "$T/dest/b" "$T/dest/m"
	run -0 mk DESTDIR="$T/dest" BINDIR=/b MANDIR=/m uninstall
	assert_equal "$(find "$T/dest" -type f | wc -l)" 0
}
