#!/usr/bin/env bats
# flockrun against util-linux flock(1), side by side: for each case both run
# in fresh directories and must give the same exit status, the same stdout
# and leave the same files.  Error wording (stderr) may differ.

load helper

setup_file() {
	command -v flock >/dev/null || skip "util-linux flock not installed"
}

# same [--held FLOCK-OPTS] ARGS...: compare "flock ARGS" and "flockrun ARGS".
# With --held, a flock holder keeps file "lk" locked meanwhile.  In ARGS the
# word TOOL is replaced by the tool's name (for scripts that call it again).
same() {
	local held='' tool st out a
	if [ "$1" = --held ]; then held=$2; shift 2; fi
	SAME_N=$((${SAME_N:-0} + 1))
	for tool in flock flockrun; do
		mkdir "$T/$tool.$SAME_N"
		cd "$T/$tool.$SAME_N" || return
		if [ -n "$held" ]; then hold flock "$held" lk; fi
		local args=()
		for a in "$@"; do args+=("${a//TOOL/$tool}"); done
		st=0
		out=$(timeout 20 "$tool" "${args[@]}" 2>/dev/null) || st=$?
		if [ -n "$held" ]; then release; fi
		printf -v "st_$tool" %s "$st"
		printf -v "out_$tool" %s "$out"
		printf -v "ls_$tool" %s "$(ls -A)"
	done
	cd "$T" || return
	assert_equal "$st_flockrun" "$st_flock"
	assert_equal "$out_flockrun" "$out_flock"
	assert_equal "$ls_flockrun" "$ls_flock"
}

@test "same: command status, output and created file" {
	same lk sh -c 'echo hi; exit 3'
}

@test "same: killed by a signal" {
	same lk sh -c 'kill -TERM $$'
}

@test "same: -n, --nb, --nonblock on a held lock" {
	same --held -x -n lk touch ran
	same --held -x --nb lk touch ran
	same --held -x --nonblock lk touch ran
}

@test "same: -E and --conflict-exit-code" {
	same --held -x -E 9 -n lk true
	same --held -x --conflict-exit-code 0 -n lk touch ran
}

@test "same: -w 0 and timeouts" {
	same --held -x -w 0 lk touch ran
	same --held -x -w 0.2 lk touch ran
	same --held -x --timeout 0.2 -E 7 lk touch ran
	same --held -x --wait 0.2 -E 7 lk touch ran
}

@test "same: shared and exclusive against a shared holder" {
	same --held -s -s -n lk true
	same --held -s --shared -n lk true
	same --held -s -x -n lk true
	same --held -s -e -n lk true
	same --held -s --exclusive -n lk true
}

@test "same: fd mode, -u and --unlock" {
	same sh -c 'exec 9>lk; TOOL 9 && TOOL -n lk true; echo $?; TOOL -u 9; TOOL -n lk true; echo $?'
	same sh -c 'exec 9>lk; TOOL -s 9 && TOOL -n -s lk true; echo $?; TOOL --unlock 9; echo $?'
	same -u lk true
}

@test "same: -o and --close close the descriptor for the command" {
	# The shell counts its own descriptors with a glob: "ls /proc/$$/fd |
	# wc -l" raced with sh closing its pipe ends and gave 5, 6 or 7.
	same lk sh -c 'set -- /proc/$$/fd/*; echo $#'
	same -o lk sh -c 'set -- /proc/$$/fd/*; echo $#'
	same --close lk sh -c 'set -- /proc/$$/fd/*; echo $#'
}

@test "same: -F and --no-fork" {
	same -F lk sh -c 'exit 5'
	same --no-fork lk sh -c 'TOOL -n lk true; echo $?'
}

@test "same: -c and --command" {
	same lk -c 'echo x; exit 2'
	same lk --command 'echo y'
}

@test "same: directories" {
	same sh -c 'mkdir d; TOOL d true; echo $?; TOOL -s d true; echo $?'
	same sh -c 'mkdir d; TOOL d sh -c "TOOL -n d true; echo \$?"'
}

@test "same: usage errors" {
	same
	same lk -c
	same lk -c a b
	same -w abc lk true
	same -E 256 lk true
	same -E -1 lk true
	same -Z lk true
	same --bogus lk true
	same -F -o lk true
	same abc
	same -c lk true
}

@test "same: cannot open, cannot run, bad descriptor" {
	same no/lk true
	same lk no-such-command-xyz
	same -F lk no-such-command-xyz
	same 77
}

@test "same: -h and -V exit 0" {
	for tool in flock flockrun; do
		run -0 "$tool" -h
		run -0 "$tool" --help
		run -0 "$tool" -V
		run -0 "$tool" --version
	done
}

@test "same: --verbose exit status (flockrun reports on stderr)" {
	for tool in flock flockrun; do
		run -0 "$tool" --verbose lk true
	done
	same --held -x --verbose -n lk true
}
