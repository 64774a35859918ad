#!/usr/bin/env bats
# make install and make uninstall, into a DESTDIR: the README's first
# command puts exactly the three tools, their pages, their bash
# completion and solo --etcd's helper where PREFIX, BINDIR, MANDIR,
# COMPLETIONSDIR and LIBEXECDIR say, and uninstall takes exactly those
# away.

load helper

ROOT=$BATS_TEST_DIRNAME/..
TOOLS=(flockrun lockdev solo)

# mk ARG...: make in the source tree, quietly.  A make check
# run with SANITIZE=1 in its environment installs the sanitized build,
# the one LOCKKIT_BIN names; either way the binaries are up to date.
mk() {
	make -s -C "$ROOT" --no-print-directory "$@"
}

# installed BINDIR MANDIR COMPLETIONSDIR LIBEXECDIR: every tool, page,
# completion and helper in place, with its mode, the same bytes as the
# build, and nothing else installed under $T/dest.  The completion is one
# file, as flockrun, and links to it for the others.
installed() {
	local t
	assert_file_exists "$3/flockrun"
	assert_equal "$(stat -c %a "$3/flockrun")" 644
	cmp "$ROOT/completion/lockkit.bash" "$3/flockrun"
	for t in "${TOOLS[@]}"; do
		[ "$t" = flockrun ] || assert_equal "$(readlink "$3/$t")" flockrun
		assert_file_exists "$1/$t"
		assert_equal "$(stat -c %a "$1/$t")" 755
		cmp "$LOCKKIT_BIN/$t" "$1/$t"
		assert_file_exists "$2/man1/$t.1"
		assert_equal "$(stat -c %a "$2/man1/$t.1")" 644
		cmp "$ROOT/man/$t.1" "$2/man1/$t.1"
	done
	assert_file_exists "$4/solo-etcd"
	assert_equal "$(stat -c %a "$4/solo-etcd")" 755
	cmp "$LOCKKIT_BIN/solo-etcd" "$4/solo-etcd"
	assert_equal "$(find "$T/dest" -type f | wc -l)" 8
	assert_equal "$(find "$T/dest" -type l | wc -l)" 2
}

# gone: nothing left under $T/dest but directories.
gone() {
	assert_equal "$(find "$T/dest" ! -type d | wc -l)" 0
}

@test "install: PREFIX under DESTDIR; the tools run; uninstall leaves no file" {
	run -0 mk DESTDIR="$T/dest" PREFIX=/opt/lk install
	installed "$T/dest/opt/lk/bin" "$T/dest/opt/lk/share/man" \
	    "$T/dest/opt/lk/share/bash-completion/completions" \
	    "$T/dest/opt/lk/libexec/lockkit"
	run -0 "$T/dest/opt/lk/bin/flockrun" --version
	assert_output --regexp '^flockrun \(lockkit\) [0-9]'
	run -0 "$T/dest/opt/lk/bin/flockrun" "$T/lk" true
	run -0 mk DESTDIR="$T/dest" PREFIX=/opt/lk uninstall
	gone
}

@test "install: bash-completion finds each tool's completion where it went" {
	[ -r /usr/share/bash-completion/bash_completion ] ||
		skip "needs bash-completion (Debian: bash-completion; make deps)"
	run -0 mk DESTDIR="$T/dest" PREFIX=/opt/lk install
	for t in "${TOOLS[@]}"; do
		run -0 env XDG_DATA_DIRS="$T/dest/opt/lk/share" bash -c '
		    source /usr/share/bash-completion/bash_completion &&
		    __load_completion "$1" && complete -p "$1"' bash "$t"
		assert_output "complete -F _${t}_module $t"
	done
}

@test "install: BINDIR, MANDIR, COMPLETIONSDIR and LIBEXECDIR go where told" {
	run -0 mk DESTDIR="$T/dest" BINDIR=/b MANDIR=/m COMPLETIONSDIR=/c \
	    LIBEXECDIR=/x install
	installed "$T/dest/b" "$T/dest/m" "$T/dest/c" "$T/dest/x"
	run -0 mk DESTDIR="$T/dest" BINDIR=/b MANDIR=/m COMPLETIONSDIR=/c \
	    LIBEXECDIR=/x uninstall
	gone
}
