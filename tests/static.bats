#!/usr/bin/env bats
# The analysers CI runs, as tests: gcc -fanalyzer, cppcheck and clang-tidy
# (settings in .clang-tidy) clean on cmd/, lib/ and the benchmark's timer
# bench/pair.c (bench/stamp.c is freestanding), shellcheck (settings in
# .shellcheckrc) clean on every script, and valgrind memcheck clean on
# each tool's main paths; and the build itself: the fuzz targets, a
# build without libbsd and a check without bats's libraries; and that
# the test driver fails a run in which a sanitizer reported.  Under
# SANITIZE=1 they are skipped: the source is the same, and valgrind
# cannot run sanitized binaries.

load helper

SRC=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

setup() {
	lk_setup || return 1
	if [ "${LOCKKIT_SANITIZE:-}" = 1 ]; then
		skip "run by the plain make check"
	fi
	# The flags the Makefile compiles with, minus optimisation details.
	CF=(-std=c11 -D_GNU_SOURCE -DLOCKKIT_VERSION='"test"'
	    -DLOCKDEV_DIR='"/var/lock"' -I"$SRC/lib")
	read -r -a bsd <<<"$(pkg-config --cflags libbsd-overlay json-c)"
	CF+=("${bsd[@]}")
	C_FILES=("$SRC"/lib/*.c "$SRC"/cmd/*.c "$SRC"/bench/pair.c)
}

@test "gcc -fanalyzer finds nothing in cmd/, lib/ and bench/pair.c" {
	# One file per compiler, two at a time.
	run xargs -P 2 -I{} gcc "${CF[@]}" -O2 -Wall -Wextra -Werror \
	    -fanalyzer -c -o /dev/null {} < <(printf '%s\n' "${C_FILES[@]}")
	assert_success
	assert_output ""
}

@test "cppcheck finds nothing in cmd/, lib/ and bench/pair.c" {
	# variableScope and redundantContinue argue with the house style
	# (declarations at the top, "continue" in empty retry loops).
	run cppcheck -q --std=c11 --enable=warning,style,performance,portability \
	    -D_GNU_SOURCE -I"$SRC/lib" --error-exitcode=1 \
	    --suppress=missingIncludeSystem --suppress=variableScope \
	    --suppress=redundantContinue "$SRC/cmd" "$SRC/lib" \
	    "$SRC/bench/pair.c"
	assert_success
	assert_output ""
}

@test "clang-tidy finds nothing in cmd/, lib/ and bench/pair.c" {
	cd "$SRC" || return 1
	run xargs -P 2 -I{} clang-tidy --quiet {} -- "${CF[@]}" \
	    < <(printf '%s\n' "${C_FILES[@]}")
	assert_success
	refute_output --partial "warning:"
	refute_output --partial "error:"
}

@test "shellcheck finds nothing in the tests, scripts and completion" {
	cd "$SRC" || return 1
	run shellcheck tests/run tests/helper.bash tests/*.bats bench/run bench/etcd \
	    .ci/run completion/lockkit.bash
	assert_success
	assert_output ""
}

@test "make fuzz builds every target and runs each briefly" {
	# Keeps the harnesses building; make fuzz alone runs them longer.
	run make -s -C "$SRC" fuzz FUZZ_SECONDS=2
	assert_success
	assert_equal "$(grep -c 'DONE ' <<<"$output")" 5
	refute_output --partial "ERROR"
}

# copy_tree: the Makefile and sources (and debian/changelog, which has
# the version) in $T, without objects, so that a build that must stop
# early is tried without touching the real one.
copy_tree() {
	mkdir "$T/debian"
	cp "$SRC/debian/changelog" "$T/debian/"
	cp -r "$SRC/Makefile" "$SRC/cmd" "$SRC/lib" "$T/"
	rm -f "$T"/cmd/*.o "$T"/lib/*.o "$T"/lib/*.a
}

@test "a build without libbsd says what is missing, and compiles nothing" {
	copy_tree
	run make -C "$T" PKG_CONFIG=false all
	assert_failure
	assert_output --partial "lockkit needs libbsd's pkg-config file (Debian: libbsd-dev): run 'make deps'"
	refute_output --partial "implicit declaration"
	run find "$T/cmd" "$T/lib" -name '*.o'
	assert_output ""
}

@test "make check without bats's libraries says what is missing, and builds nothing" {
	copy_tree
	run env BATS_LIB_PATH="$T/none" make -C "$T" check
	assert_failure
	assert_output --partial "lockkit's tests need bats and its libraries bats-support bats-assert bats-file (Debian packages of those names): run 'make deps' as root, or install them"
	run find "$T/cmd" "$T/lib" -name '*.o'
	assert_output ""
}

@test "under SANITIZE=1 a sanitizer's report fails the run, whatever the status" {
	# LeakSanitizer used to end a leaking tool with status 1, the tools'
	# "held", so a test expecting that passed.  This leaker, which exits 1
	# of itself, stands for such a tool.
	printf '%s\n' '#include <stdlib.h>' 'void *volatile p;' \
	    'int main(void) { p = malloc(64); p = 0; return 1; }' > leak.c
	gcc -fsanitize=address -o leak leak.c
	printf '%s\n' '#!/bin/sh' './leak; echo "ok 1 status $?"' > producer
	chmod +x producer
	mkdir tmp
	run env LOCKKIT_SANITIZE=1 TMPDIR="$T/tmp" "$SRC/tests/run" ./producer
	assert_failure
	assert_line "ok 1 status 86"
	assert_line "not ok - ./producer: a sanitizer reported:"
	assert_output --partial "ERROR: LeakSanitizer: detected memory leaks"
	assert_line "1 passed, 1 failed"
	# The reports are gone with the run.
	run ls -A tmp
	assert_output ""
}

# vg STATUS TOOL ARGS...: run under valgrind memcheck; any memory error or
# definite leak makes valgrind exit 99; otherwise the tool's own STATUS.
vg() {
	local want=$1
	shift
	run valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite "$@"
	if [ "$status" -eq 99 ]; then
		fail "valgrind: $* $output"
	fi
	[ "$status" -eq "$want" ] || fail "$*: status $status, not $want: $output"
}

@test "valgrind: flockrun's main paths are clean" {
	local f
	f=$(command -v flockrun)
	vg 0 "$f" lk true
	vg 0 "$f" -F lk true
	vg 0 "$f" -s --also lk2 lk true
	vg 0 "$f" --fcntl=posix --start 10 --length 5 lk true
	vg 0 "$f" --fcntl lk -c 'exit 0'
	vg 0 "$f" --test lk
	vg 0 "$f" --remove lk3 true
	hold flockrun lk
	vg 1 "$f" -n --verbose lk true
	vg 1 "$f" -w 0.2 lk true
	vg 1 "$f" --test lk
	release
	vg 64 "$f" -w nan lk true
}

@test "valgrind: solo's main paths are clean" {
	local f port=$((20000 + BATS_ROOT_PID % 10000))
	f=$(command -v solo)
	vg 0 "$f" "$port" true
	vg 0 "$f" --abstract -U "lockkit-vg-$$" true
	vg 0 "$f" --dir "$T/p" -U vg true
	vg 0 "$f" --test "$port"
	vg 0 "$f" -port="$port" true
	hold solo "$port"
	vg 1 "$f" "$port" true
	vg 1 "$f" -v -w 0.2 "$port" true
	vg 1 "$f" --test "$port"
	release
	vg 64 "$f" 0 true
}

@test "valgrind: lockdev's main paths are clean" {
	local f
	f=$(command -v lockdev)
	mkdir locks
	export LOCKDEV_LOCKDIR=$T/locks
	vg 0 "$f" /dev/null
	vg 0 "$f" -l -p $$ /dev/null
	vg 1 "$f" /dev/null
	vg 0 "$f" -u -p $$ /dev/null
	vg 0 "$f" /dev/null true
	hold lockdev /dev/null
	vg 1 "$f" -w 0.2 /dev/null true
	release
	vg 64 "$f" -w -1 /dev/null
	assert_equal "$(ls locks)" ""
}
