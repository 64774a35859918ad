#!/usr/bin/env bats
# lockdev: UUCP/FHS lock files, with the lock directory in $T/locks.

load helper

setup() {
	lk_setup || return 1
	lockdir || return 1
	# A live process to own locks in the tests.
	sleep 60 >/dev/null 2>&1 3>&- &
	OWNER=$!
	OWNERS+=("$OWNER")
	STOPPED=''
}

teardown() {
	lk_teardown
	# A stopped process takes no signal but SIGKILL before SIGCONT.
	if [ -n "$STOPPED" ]; then
		kill -TERM "$STOPPED" 2>/dev/null || :
		kill -CONT "$STOPPED" 2>/dev/null || :
	fi
}

@test "free: exit 0, nothing printed; locked: exit 1 and the owner's pid" {
	run -0 --separate-stderr lockdev /dev/null
	assert_output ''
	run -0 lockdev -l -p "$OWNER" /dev/null
	run -1 lockdev /dev/null
	assert_output "$OWNER"
	run -1 lockdev -q /dev/null
	assert_output ''
}

@test "-v says what was done and who holds it; -d what each file holds" {
	run -0 --separate-stderr lockdev -v /dev/null
	assert_equal "$stderr" "lockdev: /dev/null: free"
	run -0 --separate-stderr lockdev -v -l -p "$OWNER" /dev/null
	assert_equal "$stderr" "lockdev: /dev/null: locked for pid $OWNER"
	run -1 --separate-stderr lockdev -v /dev/null
	assert_output "$OWNER"
	assert_equal "$stderr" "lockdev: /dev/null: locked by pid $OWNER (sleep)"
	run -1 --separate-stderr lockdev -d /dev/null
	assert_equal "$stderr" "lockdev: LCK..null: held by pid $OWNER"
	run -0 --separate-stderr lockdev -v -u -p "$OWNER" /dev/null
	assert_equal "$stderr" "lockdev: /dev/null: unlocked"

	dead=$(dead_pid)
	hdb "$dead" > locks/LCK..null
	mkdir locks/LCK.001.003
	run -0 --separate-stderr lockdev -d /dev/null
	assert_output ''
	assert_equal "$stderr" "lockdev: LCK..null: stale: pid $dead has ended
lockdev: LCK.001.003: stale: not a regular file
lockdev: LCK.C.001.003: absent
lockdev: LK.000.001.003: absent"
	rmdir locks/LCK.001.003
	for content in garbage "$(hdb 0)"; do
		echo "$content" > locks/LCK..null
		run -0 --separate-stderr lockdev -d /dev/null
		assert_output ''
		assert_equal "${stderr_lines[0]}" "lockdev: LCK..null: stale: no valid pid in it"
	done
	# Empty and new: another program between creating and writing it.
	: > locks/LCK..null
	run -1 --separate-stderr lockdev -d /dev/null
	assert_output ''
	assert_equal "${stderr_lines[0]}" "lockdev: LCK..null: empty, being written (under 5 s old)"
	touch -d '1 minute ago' locks/LCK..null
	run -0 --separate-stderr lockdev -d /dev/null
	assert_equal "${stderr_lines[0]}" "lockdev: LCK..null: stale: empty"
}

@test "-l writes LCK..NAME and LCK.MMM.mmm: one file, 0644, HDB pid" {
	umask 077
	run -0 lockdev -l -p "$OWNER" /dev/null
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$OWNER")"
	[ "$(stat -c %s locks/LCK..null)" = 11 ]
	assert_equal "$(stat -c '%i %a %h' locks/LCK..null)" "$(stat -c '%i %a %h' locks/LCK.001.003)"
	assert_equal "$(stat -c '%a %h' locks/LCK..null)" "644 2"
	assert_equal "$(ls locks | wc -l)" 2
}

@test "without unnamed temp files (NFS), a named one is used and removed" {
	umask 077
	run -0 preload FAILLOCK=notmpfile lockdev -l -p "$OWNER" /dev/null
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$OWNER")"
	assert_equal "$(stat -c '%i %a %h' locks/LCK..null)" "$(stat -c '%i %a %h' locks/LCK.001.003)"
	assert_equal "$(stat -c '%a %h' locks/LCK..null)" "644 2"
	assert_equal "$(ls locks | wc -l)" 2
	# Held: refused, with the owner named and no temp file left.
	run -1 preload FAILLOCK=notmpfile lockdev -l -p $$ /dev/null
	assert_output "$OWNER"
	assert_equal "$(ls locks | wc -l)" 2
}

@test "a refused lock writes nothing in the lock directory" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	before=$(stat -c %y locks)
	# Named temp files (as on NFS) would show as a change to the directory.
	run -1 preload FAILLOCK=notmpfile lockdev -l /dev/null
	assert_output "$OWNER"
	assert_equal "$(stat -c %y locks)" "$before"
	assert_equal "$(ls locks | wc -l)" 2
}

@test "the default owner is the calling process" {
	run -0 sh -c 'lockdev -l /dev/null && echo $$'
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$output")"
}

@test "locking again for the same pid succeeds; for another pid fails" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	run -0 lockdev -l -p "$OWNER" /dev/null
	run -1 lockdev -l -p $$ /dev/null
	assert_output "$OWNER"
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$OWNER")"
}

@test "symlinks are resolved: another path to the device shares its lock" {
	ln -s /dev/null mynull
	run -0 lockdev -l -p "$OWNER" "$T/mynull"
	assert_file_exists locks/LCK..null
	run -1 lockdev /dev/null
	run -0 lockdev -l -p "$OWNER" null	# a bare name is in /dev
}

@test "a path too long for some lock names locks by the names that fit" {
	d=$T/$(printf 'd%.0s' $(seq 130))/$(printf 'e%.0s' $(seq 130))
	mkdir -p "$d"
	ln -s /dev/null "$d/myport"
	# LCK..<path with _ or :> cannot exist; LCK..myport (cu's) still counts.
	hdb "$OWNER" > locks/LCK..myport
	run -1 lockdev "$d/myport"
	assert_output "$OWNER"
	rm locks/LCK..myport
	run -0 --separate-stderr lockdev -l -p "$OWNER" "$d/myport"
	assert_equal "$stderr" ''
	assert_equal "$(ls locks | LC_ALL=C sort | tr '\n' ' ')" "LCK..null LCK.001.003 "
	run -0 lockdev -u -p "$OWNER" "$d/myport"
	assert_equal "$(ls locks | wc -l)" 0
}

@test "pts/N is locked as LCK..pts_N" {
	pty
	n=${PTY#/dev/pts/}
	run -0 lockdev -l -p "$OWNER" "$PTY"
	assert_file_exists "locks/LCK..pts_$n"
	maj=$(printf '%03d' $((0x$(stat -c %t "$PTY")))); min=$(printf '%03d' $((0x$(stat -c %T "$PTY"))))
	assert_file_exists "locks/LCK.$maj.$min"
}

@test "every name other programs use is honoured and left alone" {
	pty
	n=${PTY#/dev/pts/}
	maj=$(printf '%03d' $((0x$(stat -c %t "$PTY")))); min=$(printf '%03d' $((0x$(stat -c %T "$PTY"))))
	fsmaj=$(printf '%03d' $(( $(stat -c %d "$PTY") >> 8 )))
	for name in "LCK..$n" "LCK..pts:$n" "LCK..pts_$n" "LCK.C.$maj.$min" "LK.$fsmaj.$maj.$min" "LCK.$maj.$min"; do
		hdb "$OWNER" > "locks/$name"
		sum=$(md5sum < "locks/$name")
		run -1 lockdev "$PTY"
		assert_output "$OWNER"
		run -1 lockdev -l -p $$ "$PTY"
		assert_equal "$(md5sum < "locks/$name")" "$sum"
		assert_equal "$(ls locks)" "$name"
		rm "locks/$name"
	done
}

@test "owners are read in every format in use" {
	for content in "$OWNER" "$OWNER"$'\n' "    $OWNER"$'\n' "$OWNER host.example"$'\n' "$(printf '%020d' "$OWNER")"; do
		printf '%s' "$content" > locks/LCK..null
		run -1 lockdev /dev/null
		assert_output "$OWNER"
	done
	perl -e 'print pack("l", $ARGV[0])' "$OWNER" > locks/LCK..null
	run -1 lockdev /dev/null
	assert_output "$OWNER"
	# Two bytes such as "12" or "7\n" are read as ASCII (unit-lckfile
	# pins that rule), so only a pid whose short is not such a pair fits.
	short=$(perl -e 'print pack("s", $ARGV[0])' "$OWNER" | od -An -c | tr -d ' ')
	if [ "$OWNER" -lt 32768 ] && ! [[ $short =~ ^[0-9]([0-9]|\\n)$ ]]; then
		perl -e 'print pack("s", $ARGV[0])' "$OWNER" > locks/LCK..null
		run -1 lockdev /dev/null
		assert_output "$OWNER"
	fi
}

@test "an empty lock file is held while young, stale when old" {
	: > locks/LCK..null
	run -1 --separate-stderr lockdev /dev/null
	assert_output ''
	run -1 lockdev -l -p "$OWNER" /dev/null
	touch -d '1 minute ago' locks/LCK..null
	run -0 lockdev /dev/null
	run -0 lockdev -l -p "$OWNER" /dev/null
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$OWNER")"
}

@test "stale locks (dead pid, garbage, pid 0) are taken over" {
	# A negative pid as a writer prints it: the two bytes "-5" alone are
	# a binary short (13613), live whenever that pid is in use.
	for content in "$(hdb "$(dead_pid)")" "garbage here" "$(hdb 0)" "$(hdb -5)"; do
		printf '%s' "$content" > locks/LCK..null
		ln -f locks/LCK..null locks/LCK.001.003
		run -0 lockdev /dev/null
		run -0 lockdev -l -p "$OWNER" /dev/null
		assert_equal "$(cat locks/LCK..null)" "$(hdb "$OWNER")"
		assert_equal "$(cat locks/LCK.001.003)" "$(hdb "$OWNER")"
		rm locks/*
	done
}

# Issue 20, part 5: after a reboot or in a new container the pid in an old
# lock file often belongs to a new, unrelated process.
@test "a live pid that started after its lock file was written owns nothing" {
	sleep 60 >/dev/null 2>&1 3>&- &
	new=$!
	OWNERS+=("$new")
	hdb "$OWNER" > locks/LCK..null
	ln locks/LCK..null locks/LCK.001.003
	touch -d '1 hour ago' locks/LCK..null
	run -0 --separate-stderr lockdev /dev/null
	assert_output ''
	run -0 lockdev -l -p "$new" /dev/null
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$new")"
	assert_equal "$(stat -c %i locks/LCK..null)" "$(stat -c %i locks/LCK.001.003)"
	run -1 lockdev /dev/null
	assert_output "$new"
}

@test "-d says a file is older than its pid's process, or than this boot" {
	btime=$(awk '$1 == "btime" { print $2 }' /proc/stat)
	[ $(($(date +%s) - btime)) -gt 300 ] || skip "booted under 5 minutes ago"
	hdb "$OWNER" > locks/LCK..null
	touch -d '2 minutes ago' locks/LCK..null
	run -0 --separate-stderr lockdev -d /dev/null
	assert_equal "${stderr_lines[0]}" "lockdev: LCK..null: stale: pid $OWNER started after it was written"
	touch -d "@$((btime - 3600))" locks/LCK..null
	run -0 --separate-stderr lockdev -d /dev/null
	assert_equal "${stderr_lines[0]}" "lockdev: LCK..null: stale: written before this boot (pid $OWNER)"
}

@test "a lock file older than this boot is stale whatever its pid" {
	btime=$(awk '$1 == "btime" { print $2 }' /proc/stat)
	# pid 1 started at boot, before any file written since.
	hdb 1 > locks/LCK..null
	touch -d "@$((btime - 3600))" locks/LCK..null
	run -0 --separate-stderr lockdev -d /dev/null
	assert_equal "${stderr_lines[0]}" "lockdev: LCK..null: stale: written before this boot (pid 1)"
	run -0 lockdev -l -p "$OWNER" /dev/null
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$OWNER")"
}

@test "a genuine owner stays the owner however long it holds the lock" {
	# pid 1 has run since boot: a file it wrote a minute after boot is
	# a lock held ever since.
	start=$(awk '{ print $22 }' /proc/1/stat)
	btime=$(awk '$1 == "btime" { print $2 }' /proc/stat)
	written=$((btime + start / $(getconf CLK_TCK) + 60))
	[ "$written" -lt "$(date +%s)" ] || skip "booted under a minute ago"
	hdb 1 > locks/LCK..null
	touch -d "@$written" locks/LCK..null
	run -1 lockdev /dev/null
	assert_output 1
	run -1 lockdev -l -p "$OWNER" /dev/null
	assert_output 1
	rm locks/LCK..null
	# Clock steps: a file up to a minute older than its owner still holds.
	run -0 lockdev -l -p "$OWNER" /dev/null
	touch -d '30 seconds ago' locks/LCK..null locks/LCK.001.003
	run -1 lockdev -l -p $$ /dev/null
	assert_output "$OWNER"
	# A relock rewrites the file: the new owner is older than it.
	sleep 60 >/dev/null 2>&1 3>&- &
	new=$!
	OWNERS+=("$new")
	run -0 lockdev -r "$new" -p "$OWNER" /dev/null
	run -1 lockdev /dev/null
	assert_output "$new"
}

@test "-l and -r refuse a pid that does not exist" {
	dead=$(dead_pid)
	run -255 lockdev -l -p "$dead" /dev/null
	assert_output "lockdev: pid $dead: No such process"
	run -255 lockdev -r "$dead" -p "$OWNER" /dev/null
	assert_output "lockdev: new pid $dead: No such process"
	assert_equal "$(ls locks | wc -l)" 0
	# Unlocking for a dead pid is how its stale lock is cleared.
	hdb "$dead" > locks/LCK..null
	run -0 lockdev -u -p "$dead" /dev/null
	assert_equal "$(ls locks | wc -l)" 0
}

@test "temp files of lockdev processes killed mid-lock are swept" {
	dead=$(dead_pid)
	: > "locks/LTMP.$dead.1804289383.0"	# killed before its unlink
	: > "locks/LTMP.$dead.99.0.2"		# killed mid-relock
	: > "locks/LTMP.$OWNER.7.0"		# a live locker's: kept
	: > "locks/LTMP.x"			# not ours to judge: kept
	hdb "$dead" > locks/LCK..null		# its stale lock
	run -0 lockdev -l -p "$OWNER" /dev/null
	assert_equal "$(ls locks | sort | tr '\n' ' ')" "LCK..null LCK.001.003 LTMP.$OWNER.7.0 LTMP.x "
	# Unlocking sweeps too, as a crash need not leave a stale lock.
	: > "locks/LTMP.$dead.5.0"
	run -0 lockdev -u -p "$OWNER" /dev/null
	assert_equal "$(ls locks | sort | tr '\n' ' ')" "LTMP.$OWNER.7.0 LTMP.x "
}

@test "-r hands the lock to a new pid, only from its owner" {
	sleep 60 >/dev/null 2>&1 3>&- &
	new=$!
	OWNERS+=("$new")
	run -0 lockdev -l -p "$OWNER" /dev/null
	run -1 lockdev -r "$new" -p $$ /dev/null
	assert_output "$OWNER"
	run -0 lockdev -r "$new" -p "$OWNER" /dev/null
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$new")"
	assert_equal "$(stat -c %i locks/LCK..null)" "$(stat -c %i locks/LCK.001.003)"
	assert_equal "$(ls locks | wc -l)" 2
	rm locks/*
	run -0 lockdev -r "$new" -p "$OWNER" /dev/null	# free: just lock
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$new")"
}

@test "a relock never lets the device look free" {
	sleep 60 >/dev/null 2>&1 3>&- &
	other=$!
	OWNERS+=("$other")
	run -0 lockdev -l -p "$OWNER" /dev/null
	(for _ in $(seq 100); do
		lockdev -q -r "$other" -p "$OWNER" /dev/null || exit 1
		lockdev -q -r "$OWNER" -p "$other" /dev/null || exit 1
	done) 3>&- &
	relocker=$!
	free=0
	while kill -0 "$relocker" 2>/dev/null; do
		lockdev -q /dev/null && free=$((free + 1))
	done
	wait "$relocker"
	assert_equal "$free" 0
}

@test "-u removes the lock of --pid or of a dead owner, -f anyone's" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	run -1 lockdev -u -p $$ /dev/null
	assert_output "$OWNER"
	assert_file_exists locks/LCK..null
	run -0 lockdev -u -p "$OWNER" /dev/null
	assert_equal "$(ls locks | wc -l)" 0
	hdb "$(dead_pid)" > locks/LCK..null
	run -0 lockdev -u /dev/null
	assert_file_not_exists locks/LCK..null
	run -0 lockdev -l -p "$OWNER" /dev/null
	run -0 lockdev -u -f /dev/null
	assert_equal "$(ls locks | wc -l)" 0
	run -0 lockdev -u /dev/null	# nothing to unlock
}

@test "run mode: the command holds the lock under its own pid" {
	run -0 lockdev /dev/null sh -c 'cat "$LOCKDEV_LOCKDIR/LCK..null"; echo $$'
	assert_equal "${lines[0]}" "$(printf '%10d' "${lines[1]}")"
	assert_equal "$(ls locks | wc -l)" 0
	run -7 lockdev /dev/null sh -c 'exit 7'
	run -143 lockdev /dev/null sh -c 'kill -TERM $$'
	assert_equal "$(ls locks | wc -l)" 0
}

# faillock.so gives the command's pid to a new process the moment lockdev
# reaps the command, as a busy machine may; in a pid namespace of the
# test's own, which takes the new process with it at the end.
@test "run mode: the lock goes with the command though its pid is reused at once" {
	need_ns "a pid namespace" unshare -pf --mount-proc true
	run -0 --separate-stderr unshare -pf --mount-proc sh -c '
		p=$(env LD_PRELOAD="$1/faillock.so" FAILLOCK=reusepid \
		    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		    lockdev /dev/null sh -c "echo \$\$") || exit
		echo "$p"
		kill -0 "$p"	# the command has gone, its pid lives on
		' sh "$LOCKKIT_BIN"
	assert_output --regexp '^[0-9]+$'
	assert_equal "$stderr" ""
	assert_equal "$(ls locks | wc -l)" 0
}

@test "run mode: flock users see the device busy while the command runs" {
	run -0 lockdev /dev/null sh -c 'flock -n /dev/null true; echo $?'
	assert_output 1
	run -0 flock -n /dev/null true
}

@test "run mode: a held device is not run, the owner is printed" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	run -1 lockdev /dev/null touch ran
	assert_output "$OWNER"
	assert_file_not_exists ran
}

@test "run mode: a command that cannot run gives 69 and leaves nothing" {
	run -69 lockdev /dev/null no-such-command-xyz
	assert_output --partial "cannot run no-such-command-xyz"
	assert_equal "$(ls locks | wc -l)" 0
}

@test "a free device is taken however short -w is" {
	for _ in 1 2 3; do
		run -0 lockdev -w 0.000002 /dev/null true
		run -0 lockdev -w 0.000002 -l /dev/null
		run -0 lockdev -u /dev/null
	done
}

@test "-v names the owner on a conflict: no wait, and a timeout as before the wait" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	said="lockdev: /dev/null: locked by pid $OWNER (sleep)"
	run -1 --separate-stderr lockdev -v -q -l /dev/null
	assert_equal "$stderr" "$said"
	run -1 --separate-stderr lockdev -v -q /dev/null touch ran
	assert_equal "$stderr" "$said"
	run -1 --separate-stderr lockdev -v -q -w 0.1 -l /dev/null
	assert_equal "$stderr" "$said; waiting
$said"
	run -1 --separate-stderr lockdev -v -q -w 0.1 /dev/null touch ran
	assert_equal "$stderr" "$said; waiting
$said"
	assert_file_not_exists ran
}

@test "-w waits for the lock to be removed" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	fifo err
	lockdev -v -w 10 /dev/null sh -c 'echo ran > out' 2>&"$fd_err" 3>&- &
	waiter=$!
	read -r -t 10 line <&"$fd_err"
	assert_equal "$line" "lockdev: /dev/null: locked by pid $OWNER (sleep); waiting"
	assert_file_not_exists out
	run -0 lockdev -u -p "$OWNER" /dev/null
	wait "$waiter"
	assert_file_contains out ran
}

@test "-w wakes when the owner dies, leaving a stale file" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	fifo err
	lockdev -v -w 10 -l -p $$ /dev/null 2>&"$fd_err" 3>&- &
	waiter=$!
	read -r -t 10 line <&"$fd_err"
	kill "$OWNER"
	t0=$(now_ms)
	wait "$waiter"
	[ $(($(now_ms) - t0)) -lt 500 ]
	assert_equal "$(cat locks/LCK..null)" "$(hdb $$)"
}

# zombie_owner: $z, a process that owns /dev/null's lock and then
# exits unreaped: sh's child becomes a zombie of "sleep", which never
# reaps it.
zombie_owner() {
	fifo zpid
	fifo die
	sh -c '(read x < "$2") & echo $! > "$1"; exec sleep 60' sh \
	    "$T/zpid" "$T/die" 3>&- &
	OWNERS+=($!)
	read -r -t 10 z <&"$fd_zpid"
	run -0 lockdev -l -p "$z" /dev/null
	echo die >&"$fd_die"
	zombie() { [[ $(cat "/proc/$1/stat") =~ \)\ Z ]]; }
	wait_until 2 zombie "$z" || :
	zombie "$z"
}

# One rule for a test, a lock and a wait: a zombie is dead (lockdev(1)).
@test "-w takes over from an owner that died but was never reaped" {
	zombie_owner
	: > "locks/LTMP.$z.1.0"		# as if it died mid-relock
	run -0 lockdev -w 10 -l -p $$ /dev/null
	assert_equal "$(cat locks/LCK..null)" "$(hdb $$)"
	assert_file_not_exists "locks/LTMP.$z.1.0"	# swept: a zombie is gone
}

# queue_head PID: PID heads the waiters' queue, holding an OFD lock on the
# device (its fdinfo lists it).  queue_member PID: PID sleeps in the queue.
queue_head() { grep -qs OFDLCK /proc/"$1"/fdinfo/*; }
queue_member() { [ "$(cat "/proc/$1/wchan" 2>/dev/null)" = fcntl_setlk ]; }

@test "-w waiters queue behind one head; a SIGKILLed head hands the queue on" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	lockdev -w 10 /dev/null sh -c 'echo a >> out' 3>&- &
	a=$!
	wait_until 5 queue_head "$a"
	lockdev -w 10 /dev/null sh -c 'echo b >> out' 3>&- &
	b=$!
	# Asleep in the kernel's queue, not watching the lock files.
	wait_until 5 queue_member "$b"
	run queue_head "$b"
	assert_failure
	kill -KILL "$a"
	st=0
	wait "$a" || st=$?
	assert_equal "$st" 137
	wait_until 5 queue_head "$b"
	run -0 lockdev -u -p "$OWNER" /dev/null
	wait "$b"
	assert_equal "$(cat out)" b
	assert_equal "$(ls locks)" ""
}

@test "-w waiters queued behind a stopped head all run, none times out" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	lockdev -q -w 60 /dev/null sh -c 'echo head >> out' 3>&- &
	STOPPED=$!
	wait_until 5 queue_head "$STOPPED"
	# ^Z on a dial script: the head watches nothing while stopped.
	kill -STOP "$STOPPED"
	pids=()
	for i in 1 2 3 4 5 6 7 8; do
		lockdev -q -w 20 /dev/null sh -c 'echo $1 >> out' sh "$i" 3>&- &
		pids+=("$!")
		OWNERS+=("$!")
	done
	for p in "${pids[@]}"; do
		wait_until 10 queue_member "$p"
	done
	run -0 lockdev -u -p "$OWNER" /dev/null
	sts=''
	for p in "${pids[@]}"; do
		st=0
		wait "$p" || st=$?
		sts+="$st "
	done
	assert_equal "$sts" "0 0 0 0 0 0 0 0 "
	kill -CONT "$STOPPED"
	wait "$STOPPED"
	STOPPED=''
	assert_equal "$(sort out | tr '\n' ' ')" "1 2 3 4 5 6 7 8 head "
	assert_equal "$(ls locks)" ""
}

@test "-w gives up at the deadline in the queue too, naming the owner" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	lockdev -w 10 -l -p $$ /dev/null 3>&- &
	a=$!
	wait_until 5 queue_head "$a"
	t0=$(now_ms)
	run -1 --separate-stderr lockdev -w 0.3 -l -p $$ /dev/null
	[ $(($(now_ms) - t0)) -ge 300 ]
	assert_output "$OWNER"
	assert_equal "$stderr" ""
	kill "$a"
	wait "$a" || :
}

@test "a test and a lock find a zombie's lock stale, as a waiter does" {
	zombie_owner
	run -0 lockdev /dev/null
	assert_output ""
	run -0 lockdev -l -p $$ /dev/null
	assert_equal "$(cat locks/LCK..null)" "$(hdb $$)"
}

@test "-l and -r refuse a zombie pid as one that does not exist" {
	zombie_owner
	run -0 lockdev -u -p "$z" /dev/null
	run -255 lockdev -l -p "$z" /dev/null
	assert_output "lockdev: pid $z: has exited (a zombie)"
	assert_equal "$(ls locks | wc -l)" 0
	run -0 lockdev -l -p "$OWNER" /dev/null
	run -255 lockdev -r "$z" -p "$OWNER" /dev/null
	assert_output "lockdev: new pid $z: has exited (a zombie)"
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$OWNER")"
}

@test "-w gives up at the deadline with status 1" {
	run -0 lockdev -l -p "$OWNER" /dev/null
	t0=$(now_ms)
	run -1 lockdev -w 0.3 -l -p $$ /dev/null
	[ $(($(now_ms) - t0)) -ge 300 ]
	assert_output "$OWNER"
}

@test "a lock directory writable by others needs the sticky bit" {
	chmod 0777 locks
	run -12 lockdev -l -p "$OWNER" /dev/null
	assert_output "lockdev: $T/locks: writable by others without the sticky bit; refusing"
	assert_equal "$(ls locks | wc -l)" 0
	chmod 1777 locks
	run -0 lockdev -l -p "$OWNER" /dev/null
}

@test "a lock name planted as a symlink is never followed" {
	echo precious > victim
	sum=$(md5sum < victim)
	ln -s "$T/victim" locks/LCK..null
	run -0 lockdev /dev/null
	run -0 lockdev -l -p "$OWNER" /dev/null
	assert_equal "$(md5sum < victim)" "$sum"
	[ ! -L locks/LCK..null ]
	assert_equal "$(cat locks/LCK..null)" "$(hdb "$OWNER")"
}

@test "a fifo or a huge file at a lock name is read without blocking, briefly" {
	mkfifo locks/LCK..null
	run -0 timeout 5 lockdev /dev/null
	rm locks/LCK..null
	head -c 1000000 /dev/zero | tr '\0' 7 > locks/LCK..null
	run -0 timeout 5 lockdev /dev/null
}

@test "errors map to the liblockdev helper's statuses" {
	run -7 lockdev /dev/no-such-device
	assert_output "lockdev: /dev/no-such-device: No such file or directory"
	touch plain
	run -5 lockdev "$T/plain"
	assert_output "lockdev: $T/plain: not a character device"
	run -6 lockdev "/dev/$(printf 'x%.0s' $(seq 300))"
	ln -s loop1 loop2; ln -s loop2 loop1
	run -10 lockdev "$T/loop1"
	run -7 lockdev -L "$T/none" /dev/null
	run -8 lockdev -L "$T/plain" /dev/null
}

@test "a read-only lock directory gives 3" {
	need_ro_mount
	mkdir ro
	run -3 unshare -m sh -c 'mount -t tmpfs -o ro none ro && exec lockdev -l -p 1 -L ro /dev/null'
	assert_output "lockdev: /dev/null: cannot lock in ro: Read-only file system"
}

@test "an unwritable lock directory gives 2" {
	[ "$(id -u)" = 0 ] || skip "needs root to run as another uid"
	# A directory uid 1000 can search and read but not write.
	pub=$(mktemp -d /tmp/lockkit.XXXXXX)
	chmod 755 "$pub"
	run -0 setpriv --reuid=1000 --regid=1000 --clear-groups "$LOCKKIT_BIN/lockdev" -L "$pub" /dev/null
	run -2 setpriv --reuid=1000 --regid=1000 --clear-groups "$LOCKKIT_BIN/lockdev" -l -L "$pub" /dev/null
	# The lock directory is at fault, not the device: say so.
	assert_output "lockdev: /dev/null: cannot lock in $pub: Permission denied"
	# A stale lock there cannot be removed either, and stays.
	hdb "$(dead_pid)" > "$pub/LCK..null"
	run -2 setpriv --reuid=1000 --regid=1000 --clear-groups "$LOCKKIT_BIN/lockdev" -u -L "$pub" /dev/null
	assert_output "lockdev: /dev/null: cannot unlock in $pub: Permission denied"
	assert_file_exists "$pub/LCK..null"
	rm -rf "$pub"
}

@test "usage errors exit 64" {
	run -64 lockdev
	assert_output "lockdev: missing device"
	run -64 lockdev -l -u /dev/null
	run -64 lockdev -p 0 /dev/null
	run -64 lockdev -p abc /dev/null
	run -64 lockdev -r x /dev/null
	run -64 lockdev -w -1 /dev/null
	run -64 lockdev -f /dev/null
	run -64 lockdev -p 1 /dev/null true
	run -64 lockdev -l /dev/null true
	run -64 lockdev -Z /dev/null
	assert_equal "$(ls locks | wc -l)" 0
}

@test "-h and -V print to stdout and exit 0" {
	run -0 lockdev -h
	assert_line --index 0 --partial "usage: lockdev"
	run -0 lockdev -V
	assert_output --regexp '^lockdev \(lockkit\) '
}

@test "installed setgid: ignores -L and the environment, checks the real user" {
	[ "$(id -u)" = 0 ] || skip "needs root to make a setgid copy"
	# A setgid process is not dumpable, and LeakSanitizer then aborts.
	[ -z "${LOCKKIT_SANITIZE:-}" ] || skip "LeakSanitizer cannot run setgid"
	d=$(mktemp -d /tmp/lockdev-sg.XXXXXX)
	chmod 755 "$d"
	cp "$LOCKKIT_BIN/lockdev" "$d/lockdev"
	chgrp nogroup "$d/lockdev"
	chmod 2755 "$d/lockdev"
	pty
	chmod 0666 "$PTY"
	n=${PTY#/dev/pts/}
	# -p must name a process of the real user's own
	run -12 setpriv --reuid=1000 --regid=1000 --clear-groups "$d/lockdev" -l -p $$ "$PTY"
	assert_output "lockdev: pid $$: Operation not permitted"
	run -0 setpriv --reuid=1000 --regid=1000 --clear-groups env LOCKDEV_LOCKDIR="$T/locks" "$d/lockdev" -l -L "$T/locks" "$PTY"
	assert_equal "$(ls locks | wc -l)" 0
	assert_file_exists "/var/lock/LCK..pts_$n"
	run -0 setpriv --reuid=1000 --regid=1000 --clear-groups "$d/lockdev" -u "$PTY"
	assert_file_not_exists "/var/lock/LCK..pts_$n"
	chmod 0600 "$PTY"
	run -2 setpriv --reuid=1000 --regid=1000 --clear-groups "$d/lockdev" -l "$PTY"
	run -12 setpriv --reuid=1000 --regid=1000 --clear-groups "$d/lockdev" -u -f "$PTY"
	assert_output "lockdev: -f is for root only: Operation not permitted"
	rm -rf "$d"
}

@test "an owner we may not signal (EPERM) is alive" {
	[ "$(id -u)" = 0 ] || skip "needs root to run as another uid"
	pub=$(mktemp -d /tmp/lockkit.XXXXXX)
	chmod 755 "$pub"
	run -0 lockdev -L "$pub" -l -p "$OWNER" /dev/null
	run -1 setpriv --reuid=1000 --regid=1000 --clear-groups "$LOCKKIT_BIN/lockdev" -L "$pub" /dev/null
	assert_output "$OWNER"
	rm -rf "$pub"
}

@test "run mode: signals the caller ignores stay ignored in the command" {
	want=$(sig_ignored HUP INT CHLD)
	none=$(sig_ignored)
	[ "$want" != "$none" ] || fail "trap '' did not ignore anything"
	run -0 bash -c 'trap "" HUP INT CHLD; exec lockdev -w 5 /dev/null grep SigIgn /proc/self/status'
	assert_output "$want"
	# Its status still comes back, though SIGCHLD was ignored.
	run -3 bash -c 'trap "" CHLD; exec lockdev -w 5 /dev/null sh -c "exit 3"'
	run -0 lockdev -w 5 /dev/null grep SigIgn /proc/self/status
	assert_output "$none"
	assert_equal "$(ls locks | wc -l)" 0
}

@test "run mode forwards signals and still removes the lock" {
	fifo ready
	lockdev /dev/null perl -e '
		$SIG{TERM} = sub { exit 7 };
		open(my $f, ">", $ARGV[0]) or die; print $f "$$\n"; close $f;
		sleep 30; exit 9' "$T/ready" 3>&- &
	pid=$!
	read -r -t 10 child <&"$fd_ready"
	assert_equal "$(tr -d ' \n' < locks/LCK..null)" "$child"
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 7
	assert_equal "$(ls locks | wc -l)" 0
}

@test "run mode under contention: each command owns both names while it runs" {
	pids=()
	for p in 1 2 3 4 5 6 7 8; do
		(for _ in $(seq 30); do
			lockdev -w 30 /dev/null sh -c '
				a=$(tr -d " \n" < "$LOCKDEV_LOCKDIR/LCK..null")
				b=$(tr -d " \n" < "$LOCKDEV_LOCKDIR/LCK.001.003")
				[ "$a" = $$ ] && [ "$b" = $$ ] || echo "$$: $a $b" >> bad' || echo fail >> bad
		done) 2>>errs 3>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	assert_file_not_exists bad
	assert_equal "$(cat errs)" ""
	assert_equal "$(ls locks | wc -l)" 0
}

@test "run mode: a device flock held elsewhere is a conflict, or waited for with -w" {
	hold flock /dev/null
	run -1 lockdev /dev/null touch ran
	assert_output "lockdev: /dev/null: in use (flock)"
	assert_file_not_exists ran
	assert_equal "$(ls locks | wc -l)" 0
	# -v names the holders, flock or its command, as before a wait.
	for w in "" "-w 0.1"; do
		# shellcheck disable=SC2086 # w is words
		run -1 --separate-stderr lockdev -v $w /dev/null touch ran
		n=${#stderr_lines[@]}
		[ "$n" -ge 2 ] || fail "no holder named: $stderr"
		for ((i = 0; i < n - 1; i++)); do
			[[ ${stderr_lines[i]} =~ ^lockdev:\ /dev/null:\ held\ by\ pid\ ($HOLDER|$HELD)\ \((flock|sh)\),\ flock\ exclusive(\;\ waiting)?$ ]] ||
				fail "not a holder: ${stderr_lines[i]}"
		done
		[[ ${stderr_lines[n - 2]} != *waiting ]]
		assert_equal "${stderr_lines[n - 1]}" "lockdev: /dev/null: in use (flock)"
	done
	assert_file_not_exists ran
	assert_equal "$(ls locks | wc -l)" 0
	fifo err
	lockdev -v -w 10 /dev/null touch ran 2>&"$fd_err" 3>&- &
	waiter=$!
	read -r -t 10 line <&"$fd_err"
	# The first holder named: flock or its command (both have the
	# descriptor), whichever pid /proc lists first.
	[[ $line =~ ^lockdev:\ /dev/null:\ held\ by\ pid\ ($HOLDER|$HELD)\ \((flock|sh)\),\ flock\ exclusive\;\ waiting$ ]] ||
		fail "not the holder: $line"
	release
	wait "$waiter"
	assert_file_exists ran
	assert_equal "$(ls locks | wc -l)" 0
}
