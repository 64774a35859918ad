#!/usr/bin/env bats
# lockdev against real serial programs from Debian on a pseudo-terminal,
# in the real /var/lock (cu on /dev/null): cu (Taylor UUCP) and minicom see lockdev's locks
# and lockdev sees theirs; picocom (flock) sees run mode's lock.

load helper

# In setup, not setup_file: Debian's bats 1.8 fails a file whose
# setup_file skips.
setup() {
	[ "$(id -u)" = 0 ] || skip "needs root: writes /var/lock, lets cu open the pty"
	for t in cu minicom picocom tmux; do
		command -v "$t" >/dev/null || skip "$t not installed"
	done
	lk_setup || return 1
	NODE='' SESSION=lockkit-$$-$BATS_TEST_NUMBER
	export LOCKDEV_LOCKDIR=/var/lock TERM=xterm
	pty || return 1
	chmod 0666 "$PTY"	# cu opens the line as its own user
	sleep 60 >/dev/null 2>&1 3>&- &
	OWNER=$!
}

teardown() {
	[ -n "${PTY_FD:-}" ] || return 0	# skipped: nothing was started
	tmux kill-session -t "$SESSION" 2>/dev/null || :
	kill "$OWNER" 2>/dev/null || :
	lockdev -q -u -f "$PTY" 2>/dev/null || :
	if [ -n "$NODE" ]; then lockdev -q -u -f "$NODE" 2>/dev/null || :; fi
	lk_teardown
}

# until_file F: wait (5 s at most) for a peer program to create F and
# write something in it: a peer may create its lock file first and write
# its pid after.  The peers give no other signal, so this is a bounded
# check, not an order.
until_file() {
	wait_until 5 test -s "$1" && return 0
	echo "timed out waiting for $1"
	return 1
}

# cu locks by the base name of the line, which matches lockdev's FHS name
# only for devices directly in /dev (not pts/N), so cu is tried on
# /dev/null: with stdin at end of file it connects and hangs up at once.

@test "cu connects to a free line (the control for the next tests)" {
	run -0 timeout 10 cu -l /dev/null -s 9600 </dev/null
	assert_output --partial Connected
}

@test "lockdev sees cu's lock, with cu's pid" {
	NODE=/dev/null
	tmux new-session -d -s "$SESSION" "cu -l /dev/null -s 9600"
	until_file /var/lock/LCK..null
	cupid=$(tr -d ' \n' < /var/lock/LCK..null)
	run -0 ps -o comm= -p "$cupid"
	assert_output cu
	run -1 lockdev /dev/null
	assert_output "$cupid"
	run -1 lockdev -l -p "$OWNER" /dev/null
	assert_file_not_exists /var/lock/LCK.001.003
}

@test "cu sees lockdev's lock as busy" {
	NODE=/dev/null
	run -0 lockdev -l -p "$OWNER" /dev/null
	run -1 timeout 10 cu -l /dev/null -s 9600 </dev/null
	assert_output --partial "Line in use"
	refute_output --partial Connected
	assert_equal "$(tr -d ' \n' < /var/lock/LCK..null)" "$OWNER"
}

@test "lockdev sees minicom's lock, with minicom's pid" {
	n=${PTY#/dev/pts/}
	tmux new-session -d -s "$SESSION" -x 80 -y 24 "minicom -D $PTY"
	until_file "/var/lock/LCK..pts_$n"
	mpid=$(tr -d ' \n' < "/var/lock/LCK..pts_$n")
	run -1 lockdev "$PTY"
	assert_output "$mpid"
	run -0 ps -o comm= -p "$mpid"
	assert_output minicom
}

@test "minicom sees lockdev's lock as busy" {
	run -0 lockdev -l -p "$OWNER" "$PTY"
	tmux new-session -d -s "$SESSION" -x 80 -y 24 \
		"minicom -D $PTY > $T/minicom.out 2>&1; echo rc=\$? >> $T/minicom.out; tmux wait-for -S $SESSION-done; sleep 30"
	timeout 10 tmux wait-for "$SESSION-done"
	assert_file_contains "$T/minicom.out" "is locked"
	assert_file_contains "$T/minicom.out" "rc=1"
}

@test "picocom sees run mode's device lock as busy" {
	fifo go
	fifo ready
	lockdev "$PTY" sh -c 'echo > "$1"; read x < "$2"' sh "$T/ready" "$T/go" 3>&- &
	runner=$!
	read -r -t 10 _ <&"$fd_ready"
	run timeout 10 picocom -q "$PTY" </dev/null
	assert_failure
	assert_output --partial "cannot lock $PTY"
	echo go >&"$fd_go"
	wait "$runner"
	run -0 lockdev "$PTY"
}
