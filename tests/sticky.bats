#!/usr/bin/env bats
# Lock files of another user's in a shared sticky directory (mode 1777, as
# /tmp), with fs.protected_regular and fs.protected_fifos at 2 (Debian's
# procps sets protected_regular so): there the kernel refuses O_CREAT of an
# existing file owned by another user, even to root, though opening it
# without O_CREAT is allowed and a lock on it works.
#
# Every test needs root, to set the sysctls and to act as uid 65534, and a
# writable /proc/sys (a container usually has it read-only): elsewhere
# they skip, as they cannot recreate the situation.

load helper

setup() {
	lk_setup || return 1
	PROTECTED=''
	[ "$(id -u)" = 0 ] ||
		skip "needs root to set fs.protected_regular and act as another user"
	if ! [ -w /proc/sys/fs/protected_regular ] ||
	    ! [ -w /proc/sys/fs/protected_fifos ]; then
		skip "needs a writable /proc/sys to set fs.protected_regular"
	fi
	# Reachable by uid 65534 (the test's own directory is not); fifos
	# made by hold and fifo writable by it.
	PUB=$(mktemp -d /tmp/lockkit-sticky.XXXXXX) || return 1
	chmod 755 "$PUB"
	mkdir -m 1777 "$PUB/D"
	T=$PUB
	cd "$T" || return 1
	umask 000
	# A live process of root's to own device locks.
	sleep 60 >/dev/null 2>&1 3>&- &
	OWNER=$!
	OWNERS+=("$OWNER")
}

teardown() {
	unprotect
	lk_teardown
	if [ -n "${PUB:-}" ]; then rm -rf "$PUB"; fi
}

# "${NOBODY[@]}" CMD...: CMD as uid and gid 65534, in this process.
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# protect: set fs.protected_regular and fs.protected_fifos to 2 until
# unprotect, which restores the values found (teardown too, if a test
# fails between them).  They are the whole machine's: other tests running
# meanwhile see them, so they are set only around the commands under test,
# and by one test at a time (flock on /run/lockkit-sysctl.lock), so that
# two runs never restore each other's value.
protect() {
	# Root's alone (the tests run under umask 000): whoever may open it
	# could hold its lock and stall these tests.
	exec {SYSCTL_FD}>>/run/lockkit-sysctl.lock
	chmod 600 /run/lockkit-sysctl.lock
	flock -w 60 "$SYSCTL_FD" || return 1
	OLD_REGULAR=$(cat /proc/sys/fs/protected_regular)
	OLD_FIFOS=$(cat /proc/sys/fs/protected_fifos)
	PROTECTED=1
	echo 2 > /proc/sys/fs/protected_regular
	echo 2 > /proc/sys/fs/protected_fifos
}

unprotect() {
	[ -n "${PROTECTED:-}" ] || return 0
	echo "$OLD_REGULAR" > /proc/sys/fs/protected_regular
	echo "$OLD_FIFOS" > /proc/sys/fs/protected_fifos
	PROTECTED=''
	exec {SYSCTL_FD}>&-
}

@test "flockrun locks another user's file in a sticky directory" {
	"${NOBODY[@]}" touch D/job.lock D/other.lock
	"${NOBODY[@]}" mkfifo D/fifo
	protect
	run -0 --separate-stderr flockrun -n D/job.lock echo ran
	r1=$status$output$stderr
	run -0 flockrun -n --fcntl D/job.lock true
	r2=$status$output
	run -0 flockrun -n --also D/other.lock D/job.lock true
	r3=$status$output
	run -0 flockrun -n D/fifo true
	r4=$status$output
	run -0 flockrun -n --remove D/job.lock true
	r5=$status$output
	unprotect
	assert_equal "$r1" 0ran
	assert_equal "$r2$r3$r4$r5" 0000
	assert_file_not_exists D/job.lock
}

@test "flockrun: another user holding a file in a sticky directory is a conflict" {
	"${NOBODY[@]}" touch D/other.lock
	hold "${NOBODY[@]}" flockrun D/job.lock
	protect
	run -1 --separate-stderr flockrun -n D/job.lock true
	r1=$status$output$stderr
	run -1 flockrun -n --also D/other.lock D/job.lock true
	r2=$status$output
	run -1 flockrun -n --remove D/job.lock true
	r3=$status$output
	run -1 flockrun -w 0.1 D/job.lock true
	r4=$status$output
	unprotect
	assert_equal "$r1" 1
	assert_equal "$r2$r3$r4" 111
	assert_file_exists D/job.lock
	release
}

@test "flockrun --remove reopens a file another user put in place meanwhile" {
	: > D/job.lock
	fifo said
	# The holder's command replaces the file by one of uid 65534's as it
	# ends; the waiter, which opened the old one, must reopen the new.
	fifo ready
	fifo go
	flockrun D/job.lock sh -c 'echo $$ > "$1"; read x < "$2"
		rm "$3" && shift 3 && "$@"' sh "$T/ready" "$T/go" \
		"$T/D/job.lock" "${NOBODY[@]}" touch "$T/D/job.lock" 3>&- &
	HOLDER=$!
	read -r -t 10 HELD <&"$fd_ready" || fail "holder never got the lock"
	OWNERS+=("$HELD")
	protect
	flockrun -w 10 --verbose --remove D/job.lock echo ran \
		>out 2>"$T/said" 3>&- &
	waiter=$!
	read -r -t 10 said <&"$fd_said"
	echo go >&"$fd_go"
	wait "$HOLDER"
	rc=0
	wait "$waiter" || rc=$?
	unprotect
	assert_equal "$said" "flockrun: D/job.lock: held by pid $HOLDER (flockrun), flock exclusive; waiting"
	assert_equal "$rc" 0
	assert_equal "$(cat out)" ran
	assert_file_not_exists D/job.lock
}

@test "flockrun's read-write reopen (NFS) opens another user's file in a sticky directory" {
	"${NOBODY[@]}" touch D/job.lock
	protect
	run -0 preload FAILLOCK=nfs flockrun -n D/job.lock echo ran
	r=$status$output
	unprotect
	assert_equal "$r" 0ran
}

@test "lockdev reads and takes over another user's locks in a sticky directory" {
	"${NOBODY[@]}" sleep 60 >/dev/null 2>&1 3>&- &
	theirs=$!
	OWNERS+=("$theirs")
	"${NOBODY[@]}" lockdev -L D -l -p "$theirs" /dev/null
	[ "$(stat -c %u D/LCK..null)" = 65534 ]
	protect
	run -1 lockdev -L D /dev/null
	r1=$status$output
	run -1 lockdev -L D -l -p "$OWNER" /dev/null
	r2=$status$output
	run -1 lockdev -L D /dev/null true
	r3=$status$output
	kill "$theirs"
	wait "$theirs" || :
	run -0 lockdev -L D -l -p "$OWNER" /dev/null
	r4=$status$output
	unprotect
	assert_equal "$r1$r2$r3" "1$theirs""1$theirs""1$theirs"
	assert_equal "$r4" 0
	assert_equal "$(cat D/LCK..null)" "$(hdb "$OWNER")"
	assert_equal "$(stat -c %u D/LCK..null)" 0
}

# Two users creating, locking and removing one name in turn: each open
# meets the other's file, or none, or one removed between two calls.  The
# sticky bit keeps each from removing the other's file: that is a warning
# (see flockrun(1)), and the only one allowed.
@test "flockrun --remove by two users at once in a sticky directory: all run" {
	: > log
	pids=()
	protect
	for who in root nobody; do
		if [ "$who" = root ]; then as=(); else as=("${NOBODY[@]}"); fi
		for _ in $(seq 30); do
			"${as[@]}" flockrun -w 20 --remove D/job.lock \
			    sh -c 'echo "$1" >> "$2"' sh "$who" "$T/log" ||
			    echo "$who: status $?"
		done > "$who.out" 2>&1 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}"
	unprotect
	assert_equal "$(cat root.out)" ''
	assert_equal "$(grep -v 'D/job.lock: cannot remove: Operation not permitted$' nobody.out)" ''
	assert_equal "$(grep -c root log) $(grep -c nobody log)" "30 30"
}
