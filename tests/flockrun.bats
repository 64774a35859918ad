#!/usr/bin/env bats
# flockrun: options, exit statuses, lock kinds, holders, several files.

load helper

@test "runs the command and passes its exit status through" {
	run -3 flockrun f sh -c 'echo out; exit 3'
	assert_output out
	assert_file_exists f
}

@test "a command killed by signal N gives 128+N" {
	run -143 flockrun f sh -c 'kill -TERM $$'
}

@test "-n on a held lock exits 1 at once, command not run, nothing said" {
	hold flockrun f
	run -1 --separate-stderr flockrun -n f touch ran
	assert_output ''
	[ -z "$stderr" ]
	assert_file_not_exists ran
	release
}

@test "-E sets the conflict status" {
	hold flockrun f
	run -42 flockrun -n -E 42 f true
	release
}

@test "-w 0 means -n" {
	hold flockrun f
	run -1 flockrun -w 0 f touch ran
	assert_file_not_exists ran
	release
}

@test "a free lock is taken however short -w is, in every kind and form" {
	# A wait makes one non-blocking attempt before it looks at the clock.
	for _ in 1 2 3 4 5; do
		run -0 flockrun -w 0.000002 f true
		run -0 flockrun -w 0.000002 --fcntl f true
		run -0 flockrun -w 0.000002 --fcntl=posix f true
		run -0 flockrun -w 0.000002 -s --start 4 --length 2 f true
		run -0 flockrun -w 0.000002 --also g f true
		run -0 flockrun -w 0.000002 --fd 3 true 3>f
		run -0 flockrun -w 0.000002 3 3>f
	done
}

@test "-w times out with the conflict status, not before the time" {
	hold flockrun f
	t0=$(now_ms)
	run -7 flockrun -w 0.3 -E 7 f touch ran
	t1=$(now_ms)
	[ $((t1 - t0)) -ge 300 ]
	assert_file_not_exists ran
	release
}

# holders_then LAST PATTERN: stderr (from run --separate-stderr) is one
# or more lines naming a holder, flockrun or its command (both have the
# descriptor), each matching "f: held by pid N (COMM), PATTERN", then the
# line LAST.
holders_then() {
	local last=$1 pat=$2 i n=${#stderr_lines[@]}
	[ "$n" -ge 2 ] || fail "no holder named: $stderr"
	for ((i = 0; i < n - 1; i++)); do
		[[ ${stderr_lines[i]} =~ ^flockrun:\ f:\ held\ by\ pid\ ($HOLDER|$HELD)\ \((flockrun|sh)\),\ $pat$ ]] ||
			fail "not a holder: ${stderr_lines[i]}"
	done
	assert_equal "${stderr_lines[n - 1]}" "$last"
}

@test "--verbose names the holders on a conflict: -n, -w 0, a timeout" {
	hold flockrun f
	run -1 --separate-stderr flockrun -n --verbose f touch ran
	holders_then "flockrun: f: failed to get lock" "flock exclusive"
	run -1 --separate-stderr flockrun -w 0 --verbose f touch ran
	holders_then "flockrun: f: failed to get lock" "flock exclusive"
	# Before the wait as after it, but for "; waiting".
	run -1 --separate-stderr flockrun -w 0.1 --verbose f touch ran
	holders_then "flockrun: f: timeout while waiting to get lock" \
	    "flock exclusive(; waiting)?"
	[[ ${stderr_lines[0]} == *"; waiting" ]]
	[[ ${stderr_lines[-2]} != *"; waiting" ]]
	# With --also, the last line names the file that stopped us.
	run -1 --separate-stderr flockrun -n --verbose --also g f touch ran
	holders_then "flockrun: f: failed to get lock" "flock exclusive"
	run -1 --separate-stderr flockrun -n --verbose --also f g touch ran
	holders_then "flockrun: f: failed to get lock" "flock exclusive"
	exec {fd}<f
	run -1 --separate-stderr flockrun -n --verbose "$fd"
	assert_equal "${stderr_lines[-1]}" "flockrun: fd $fd: failed to get lock"
	exec {fd}<&-
	assert_output ''
	assert_file_not_exists ran
	release
	hold flockrun --fcntl=posix f
	run -1 --separate-stderr flockrun -n --verbose -s --fcntl=posix f true
	# A POSIX lock belongs to the process that took it: flockrun.
	assert_equal "$stderr" "flockrun: f: held by pid $HOLDER (flockrun), posix exclusive
flockrun: f: failed to get lock"
	release
}

# waiter_gets_lock [OPTION...]: a flockrun waiting with OPTION... says
# whom it waits for, and runs its command once the holder lets go.
waiter_gets_lock() {
	hold flockrun f
	fifo err
	flockrun --verbose "$@" f sh -c 'echo waited > out' 2>&"$fd_err" 3>&- &
	waiter=$!
	read -r -t 10 line <&"$fd_err"
	# The first holder named: flockrun or its command (both have the
	# descriptor), whichever pid /proc lists first.
	[[ $line =~ held\ by\ pid\ ($HOLDER|$HELD)\ .*waiting$ ]]
	assert_file_not_exists out
	release
	wait "$waiter"
	assert_file_contains out waited
}

@test "a waiter gets the lock when the holder lets go" {
	waiter_gets_lock
}

@test "-w inf waits without a limit, as no -w does" {
	waiter_gets_lock -w inf
}

@test "--verbose says how long getting the lock took and what runs" {
	run -0 --separate-stderr flockrun --verbose f true
	[[ $stderr == *"getting lock took"*"seconds"*"executing true"* ]]
	assert_output ''
}

@test "shared locks coexist; an exclusive one conflicts with them" {
	hold flockrun -s f
	run -0 flockrun -s -n f true
	run -1 flockrun -x -n f true
	run -1 flockrun -e -n f true
	release
}

@test "fd mode: the lock stays on the caller's descriptor; -u removes it" {
	exec 9>f
	run -0 flockrun 9
	run -1 flockrun -n f true
	run -0 flockrun -u 9
	run -0 flockrun -n f true
	exec 9>&-
}

@test "--fd FD runs a command under the caller's descriptor" {
	exec 9>f
	run -0 flockrun --fd 9 sh -c 'flockrun -n f true; echo $?'
	assert_output 1
	# released when the command ends, though the caller keeps fd 9
	run -0 flockrun -n f true
	exec 9>&-
}

@test "the command inherits the lock descriptor; -o closes it" {
	run -0 flockrun f sh -c 'ls -l /proc/$$/fd'
	assert_output --partial "$T/f"
	run -0 flockrun -o f sh -c 'ls -l /proc/$$/fd'
	refute_output --partial "$T/f"
}

@test "-F runs the command in place of flockrun, still locked" {
	flockrun -F f sh -c 'echo $$ > pid; flockrun -n f true; echo $? > st' &
	pid=$!
	wait "$pid"
	assert_equal "$(cat pid)" "$pid"
	assert_equal "$(cat st)" 1
}

@test "-F and -o together are a usage error" {
	run -64 flockrun -F -o f true
	assert_output --partial incompatible
}

@test "-c runs a string with \$SHELL" {
	SHELL=/bin/sh run -4 flockrun f -c 'echo a; exit 4'
	assert_output a
	run -4 flockrun f --command 'exit 4'
}

@test "-c needs exactly one argument" {
	run -64 flockrun f -c
	assert_output --partial "requires exactly one command argument"
	run -64 flockrun f -c 'true' extra
}

@test "the command's own options are not taken as flockrun's" {
	run -0 flockrun f echo -n -w x
	assert_output '-w x'
}

@test "a directory can be locked, with flock and with a shared fcntl lock" {
	mkdir d
	hold flockrun d
	run -1 flockrun -n d true
	release
	run -0 flockrun --fcntl -s d true
}

@test "exclusive fcntl lock on a descriptor open read-only: needs write access" {
	echo x > f
	run -65 flockrun --fcntl --fd 9 true 9<f
	assert_output "flockrun: fd 9: cannot take an exclusive fcntl lock: needs write access"
}

@test "a read-only file takes flock locks, shared and exclusive" {
	echo x > f
	chmod 0444 f
	run -0 flockrun f true
	run -0 flockrun -s f true
	run -0 flockrun --fcntl -s f true
}

@test "cannot open: 66 and a message naming the file" {
	run -66 flockrun nodir/f true
	assert_output "flockrun: nodir/f: cannot open: No such file or directory"
}

@test "cannot open on a read-only file system: 73" {
	need_ro_mount
	mkdir ro
	run -73 unshare -m sh -c 'mount -t tmpfs -o ro none ro && exec flockrun ro/f true'
	assert_output --partial "ro/f: cannot open: Read-only file system"
}

@test "a FIFO lock file: opening it does not wait for a writer" {
	mkfifo ff
	# Without a writer, a plain open(2) of ff would never return.
	run -0 timeout 10 flockrun ff echo locked
	assert_output "locked"
	run -0 timeout 10 flockrun --fcntl -n ff echo locked
	# ... and the command's copy of the descriptor is a blocking one.
	run -0 timeout 10 flockrun ff sh -c 'grep flags /proc/self/fdinfo/3'
	flags=${output##*[[:space:]]}
	[ $((8#$flags & 8#4000)) = 0 ] || fail "O_NONBLOCK left set: $output"
}

@test "out of descriptors: 71" {
	[ -z "${LOCKKIT_SANITIZE:-}" ] || skip "ASan needs descriptors of its own"
	# Four descriptors: 0-2 and one lock file; the second cannot open.
	run -71 bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; ulimit -n 4; exec flockrun --also g f true'
	assert_output --partial "cannot open: Too many open files"
}

@test "a command that cannot run: 69 and a message" {
	run -69 flockrun f no-such-command-xyz
	assert_output "flockrun: cannot run no-such-command-xyz: No such file or directory"
	run -69 flockrun -F f no-such-command-xyz
}

@test "a descriptor that is not open: 65" {
	run -65 flockrun 77
	assert_output --partial "77"
}

@test "usage errors exit 64 with one line" {
	run -64 flockrun
	assert_output --partial "requires file descriptor, file or directory"
	run -64 flockrun -w abc f true
	assert_output "flockrun: invalid timeout 'abc': not a number of seconds"
	run -64 flockrun -w -1 f true
	assert_output "flockrun: invalid timeout '-1': negative"
	run -64 flockrun -w nan f true
	run -64 flockrun -E 256 f true
	assert_output --partial "expected 0 to 255"
	run -64 flockrun -E x f true
	run -64 flockrun -Z f true
	run -64 flockrun --bogus f true
	run -64 flockrun abc
	assert_output "flockrun: bad file descriptor 'abc': not a number (a lock file needs a command)"
	run -64 flockrun --fcntl=bogus f true
	run -64 flockrun --start -1 f true
	run -64 flockrun --start 10 --length -20 f true
	assert_output --partial "before byte 0"
	run -64 flockrun --length 1Q f true
	run -64 flockrun --fcntl=posix 9 9>g
	run -64 flockrun --test f true
	run -64 flockrun --remove -F f true
	assert_file_not_exists f
}

@test "-h and -V print to stdout and exit 0" {
	run -0 --separate-stderr flockrun -h
	assert_line --index 0 --partial "usage: flockrun"
	[ -z "$stderr" ]
	run -0 flockrun --version
	assert_output --regexp '^flockrun \(lockkit\) [0-9]+\.[0-9]+'
}

@test "--fcntl=posix: holders are named by pid; posix and ofd conflict" {
	hold flockrun --fcntl=posix f
	run -1 flockrun --test --fcntl=posix f
	assert_output "$HOLDER flockrun posix exclusive 0-EOF"
	run -1 flockrun -n --fcntl=ofd f true
	run -0 flockrun -n f true	# flock locks are separate
	release
}

@test "--test: free is 0 and silent, held is 1 naming every holder" {
	run -0 --separate-stderr flockrun --test f
	assert_output ''
	assert_file_not_exists f
	hold flockrun f
	run -1 flockrun --test f
	assert_line "$HOLDER flockrun flock exclusive 0-EOF"
	assert_line "$HELD sh flock exclusive 0-EOF"
	run -5 flockrun --test -E 5 f
	run -0 flockrun --test --fcntl f
	run -1 flockrun --test --also f missing	# every file counts
	assert_file_not_exists missing
	release
	run -0 flockrun --test f
}

@test "--test names an ofd holder found through fdinfo" {
	hold flockrun --fcntl -s --start 100 --length 10 f
	run -0 flockrun --test -s --start 100 --length 10 f
	run -1 flockrun --test --start 105 --length 1K f
	assert_line "$HOLDER flockrun ofd shared 100-109"
	run -0 flockrun --test --start 110 f
	release
}

@test "--test with a negative length: the bytes before --start" {
	hold flockrun --fcntl=posix --start 100 --length -50 f
	run -1 flockrun --test --fcntl=posix --start 120 --length -30 f
	assert_output "$HOLDER flockrun posix exclusive 50-99"
	run -0 flockrun --test --fcntl=posix --start 130 --length -30 f
	run -0 flockrun --test --fcntl=posix --start 50 --length -50 f
	release
}

@test "byte ranges: disjoint ranges coexist, overlapping ones conflict" {
	hold flockrun --fcntl=posix --start 1K --length 1K f
	run -0 flockrun -n --start 0 --length 1024 f true
	run -0 flockrun -n --start 2048 f true
	run -1 flockrun -n --start 2047 --length 1 f true
	run -1 flockrun -n --fcntl=posix --start 1500 --length -500 f true
	run -0 flockrun -n --fcntl=posix --start 1024 --length -1024 f true
	release
}

@test "--also locks several files; on conflict none stays locked" {
	hold flockrun b
	run -1 flockrun -n --also b a true
	run -0 flockrun -n a true
	release
	run -0 flockrun --also b --also c a sh -c 'flockrun -n c true; echo $?'
	assert_output 1
}

@test "--also naming the same file twice locks it once" {
	ln f2 f 2>/dev/null || { touch f; ln f f2; }
	run -0 flockrun -n --also f2 f true
	run -0 flockrun -n --fcntl --also f2 f true
}

@test "opposite orders never deadlock" {
	run -0 timeout 60 bash -c '
		for i in $(seq 150); do flockrun --also b a true || exit 1; done &
		x=$!
		for i in $(seq 150); do flockrun --also a b true || exit 1; done &
		y=$!
		wait $x && wait $y'
}

@test "--remove deletes the file when done" {
	run -0 flockrun --remove f true
	assert_file_not_exists f
	mkdir d
	run -0 flockrun --remove d true
	assert_dir_exists d
}

@test "--remove: a waiter that got the removed inode retries on the new one" {
	hold flockrun --remove f
	fifo err
	flockrun --verbose --remove f sh -c 'echo $$ > "$1"; read x < "$2"' sh "$T/ready" "$T/go" 2>"$T/err" 3>&- &
	waiter=$!
	# the waiter says it waits before it blocks
	while read -r -t 10 line <&"$fd_err" && [[ $line != *waiting ]]; do :; done
	[[ $line == *waiting ]]
	echo go >&"$fd_go"
	wait "$HOLDER"
	read -r -t 10 _ <&"$fd_ready"
	# The waiter now holds the file that the name points to.
	assert_file_exists f
	run -1 flockrun -n f true
	echo go >&"$fd_go"
	wait "$waiter"
	assert_file_not_exists f
}

@test "--remove with a shared lock leaves the file to the last holder" {
	hold flockrun -s --remove f
	run -0 flockrun -s --remove f true
	assert_file_exists f
	release
	assert_file_not_exists f
}

# bats starts the background flockrun below with SIGINT and SIGQUIT
# ignored, as any shell without job control does: those two also show
# that a signal ignored at the start is still passed on, to a command that
# catches it.
forward_one() {
	fifo ready
	flockrun f perl -e '
		for my $s (qw(HUP INT QUIT TERM USR1 USR2)) {
			$SIG{$s} = sub { print "got $_[0]\n"; exit 7 };
		}
		open(my $f, ">", $ARGV[0]) or die; print $f "$$\n"; close $f;
		sleep 30; exit 9' "$T/ready" > out 3>&- &
	pid=$!
	read -r -t 10 _ <&"$fd_ready"
	kill -s "$1" "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 7
	assert_file_contains out "got $1"
}

@test "fork mode forwards HUP, INT, QUIT, TERM, USR1 and USR2" {
	for s in HUP INT QUIT TERM USR1 USR2; do
		forward_one "$s"
	done
}

@test "signals the caller ignores stay ignored, as under nohup" {
	# The command's ignored signals are what they would be run directly,
	# whatever the mode and whether a timer was used for -w.  SIGCHLD
	# too, which fork mode must catch to wait for the command: ignored,
	# the kernel would reap the command and its status would be lost.
	want=$(sig_ignored HUP INT ALRM CHLD)
	none=$(sig_ignored)
	[ "$want" != "$none" ] || fail "trap '' did not ignore anything"
	for opts in "" "-F" "-w 5" "-F -w 5"; do
		run -0 bash -c 'trap "" HUP INT ALRM CHLD; exec flockrun '"$opts"' f grep SigIgn /proc/self/status'
		assert_output "$want"
		run -0 bash -c 'exec flockrun '"$opts"' f grep SigIgn /proc/self/status'
		assert_output "$none"
		run -3 bash -c 'trap "" CHLD; exec flockrun '"$opts"' f sh -c "exit 3"'
	done
}

@test "a stray SIGALRM does not end a wait" {
	hold flockrun f
	fifo err
	flockrun --verbose -w 20 f touch got 2>&"$fd_err" 3>&- &
	waiter=$!
	read -r -t 10 line <&"$fd_err"
	kill -ALRM "$waiter"
	kill -ALRM "$waiter"
	assert_file_not_exists got
	release
	wait "$waiter"
	assert_file_exists got
}

contend() {
	echo 0 > counter
	pids=()
	for p in $(seq 8); do
		(for _ in $(seq 200); do
			flockrun "$@" counter sh -c 'read n < counter; echo $((n + 1)) > counter' || exit 1
		done) 3>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	assert_equal "$(cat counter)" 1600
}

@test "8 x 200 increments under flock lose no update" {
	contend
}

@test "8 x 200 increments under ofd locks lose no update" {
	contend --fcntl=ofd
}

@test "8 x 200 increments under posix locks lose no update" {
	contend --fcntl=posix
}

@test "POSIX deadlock: the kernel refuses one waiter, 65 and 'would deadlock'" {
	fifo a
	fifo b
	fifo goa
	fifo gob
	# Each holds one file (locks kept across exec with -F), reports, then
	# waits for the other's file.
	flockrun -F --fcntl=posix f1 sh -c 'echo > "$1"; read x < "$2"; exec flockrun -F --fcntl=posix f2 true' sh "$T/a" "$T/goa" 2>"$T/erra" 3>&- &
	pa=$!
	flockrun -F --fcntl=posix f2 sh -c 'echo > "$1"; read x < "$2"; exec flockrun -F --fcntl=posix f1 true' sh "$T/b" "$T/gob" 2>"$T/errb" 3>&- &
	pb=$!
	read -r -t 10 _ <&"$fd_a"
	read -r -t 10 _ <&"$fd_b"
	echo go >&"$fd_goa"
	echo go >&"$fd_gob"
	sa=0 sb=0
	wait "$pa" || sa=$?
	wait "$pb" || sb=$?
	# One is refused with EDEADLK; the other then gets its lock.
	assert_equal "$((sa + sb))" 65
	run cat "$T/erra" "$T/errb"
	assert_output --regexp "flockrun: f[12]: cannot lock: would deadlock"
}

@test "no locks available (ENOLCK, NFS without a lock daemon): 71, cause named" {
	run -71 preload FAILLOCK=enolck flockrun f true
	assert_output "flockrun: f: cannot lock: no locks available (on NFS, is the lock daemon running?)"
	run -71 preload FAILLOCK=enolck flockrun --fcntl=posix f true
	run -71 preload FAILLOCK=enolck flock f true	# flock(1) says 71 too
}

@test "NFSv4 flock on a read-only descriptor (EBADF): reopened read-write" {
	run -0 preload FAILLOCK=nfs flockrun f sh -c 'flockrun -n f true; echo $?'
	assert_output 1
	run -0 preload FAILLOCK=nfs flock f true	# as flock(1) does
	run -65 preload FAILLOCK=nfs flockrun 9 9<f	# a descriptor cannot be reopened
}

@test "NFSv4 flock on a read-only descriptor (EBADF): the fd form says it must be writable" {
	touch f
	run -65 --separate-stderr preload FAILLOCK=nfs flockrun 9 9<f
	assert_equal "$stderr" "flockrun: fd 9: cannot take an exclusive lock: the descriptor must be open for writing"
	run -65 --separate-stderr preload FAILLOCK=nfs flockrun --fd 9 touch ran 9<f
	assert_equal "$stderr" "flockrun: fd 9: cannot take an exclusive lock: the descriptor must be open for writing"
	assert_file_not_exists ran
	run -0 preload FAILLOCK=nfs flockrun 9 9<>f	# open for writing: locks
}
