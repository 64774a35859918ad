#!/usr/bin/env bats
# Locks against another local user: each tool names a holder of another
# uid as such, and solo's private names cannot be taken by another user.
# As root, with uid 65534 as the other user; elsewhere the tests that
# need two uids skip.

load helper

setup() {
	lk_setup || return 1
	# Where uid 65534 can reach the fifos and files (the test's own
	# directory is private).
	PUB=$(mktemp -d /tmp/lockkit-sec.XXXXXX)
	chmod 755 "$PUB"
	# shellcheck disable=SC2034 # hold (helper.bash) reads it
	FIFOS=$PUB
	OTHER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	P=$((20000 + RANDOM % 10000))
}

# need_root: skip unless we can run as uid 65534 (and chown to it).
need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root to run as another uid"
}

# planted CMD...: as root, with $PUB open to all as /tmp is (sticky), run
# CMD as the other user, which must succeed: what it plants there (a
# directory, a link) is another user's, for solo's private names to
# refuse.
planted() {
	need_root
	chmod 1777 "$PUB"
	run -0 "${OTHER[@]}" "$@"
}

teardown() {
	lk_teardown
	[ -z "${PUB:-}" ] || rm -rf "$PUB"
}

# Bind and listen on the abstract unix socket $1 and exec the rest holding
# it, as any program of another user could: a squatter.
SQUAT='$^F = 255; my $n = shift;
	socket(S, AF_UNIX, SOCK_STREAM, 0) && bind(S, pack_sockaddr_un("\0$n"))
	    && listen(S, 5) or die "$n: $!\n";
	exec @ARGV or die "$ARGV[0]: $!\n"'

@test "solo names another user's holder of its port as such" {
	need_root
	hold "${OTHER[@]}" solo -a 127.0.0.1 "$P"
	run -1 --separate-stderr solo -a 127.0.0.1 "$P" touch ran
	assert_equal "$stderr" "solo: 127.0.0.1:$P is held by pid $HELD (sh) of another user (uid 65534)"
	assert_file_not_exists ran
	run -1 solo --test -a 127.0.0.1 "$P"
	assert_output "127.0.0.1:$P is held by pid $HELD (sh) of another user (uid 65534)"
	run -1 --separate-stderr solo -v -w 0.1 -a 127.0.0.1 "$P" true
	assert_equal "$stderr" "solo: 127.0.0.1:$P is held by pid $HELD (sh) of another user (uid 65534); waiting
solo: 127.0.0.1:$P is held by pid $HELD (sh) of another user (uid 65534)"
	release
}

@test "solo names root's holder as another user's to a user who cannot see its pid" {
	need_root
	hold solo -a 127.0.0.1 "$P"
	run -1 "${OTHER[@]}" solo -a 127.0.0.1 "$P" true
	assert_output "solo: 127.0.0.1:$P is held by another process of another user (uid 0)"
	release
}

@test "solo names another user's squatter on an abstract name" {
	need_root
	hold "${OTHER[@]}" perl -MSocket -e "$SQUAT" "solo/0/sq$P"
	run -1 --separate-stderr solo --abstract -U "sq$P" true
	assert_equal "$stderr" "solo: @solo/0/sq$P is held by pid $HELD (sh) of another user (uid 65534)"
	release
}

# knocked PORT: a connection to 127.0.0.1:PORT is established (in
# /proc/net/tcp: a remote address of 0100007F:PORT in state 01), as a
# waiter watching the lock's holder directly keeps one.
knocked() {
	grep -q " 0100007F:$(printf %04X "$1") 01 " /proc/net/tcp
}

@test "solo -w: another user's socket in the waiting room's name stalls no waiter" {
	need_root
	fifo squat
	"${OTHER[@]}" perl -MSocket -e "$SQUAT" "solo-queue/tcp/0/127.0.0.1:$P" \
	    sh -c 'echo x > "$1"; exec sleep 60' sh "$PUB/squat" 3>&- &
	OWNERS+=($!)
	read -r -t 10 _ <&"$fd_squat"
	hold solo -a 127.0.0.1 "$P"
	solo -w 20 -a 127.0.0.1 "$P" sh -c 'echo ran > "$1"' sh "$T/log" 3>&- &
	w=$!
	# Not queued behind the squatter: it watches the holder itself.
	wait_until 10 knocked "$P" || fail "the waiter never knocked on the lock"
	release
	wait "$w"
	assert_equal "$(cat log)" ran
}

# Join the abstract unix socket $1 as a waiter would and print how many
# bytes came before it was closed ("read N bytes"), within 20 s.  The
# waiting room comes as one byte carrying the room's descriptor: a
# read(2) takes the byte, and the kernel closes the descriptor.
JOIN='alarm 20; my $n = shift;
	socket(S, AF_UNIX, SOCK_STREAM, 0) && connect(S, pack_sockaddr_un("\0$n"))
	    or die "$n: $!\n";
	defined(my $r = sysread(S, my $b, 16)) or die "read: $!\n";
	print "read $r bytes\n"'

@test "solo -w hands its waiting room to no other user" {
	local i w=()
	need_root
	ROOM=@solo-queue/tcp/0/127.0.0.1:$P
	hold solo -a 127.0.0.1 "$P"
	solo -w 20 -a 127.0.0.1 "$P" sh -c 'echo 1 >> log' 3>&- &
	w+=($!)
	room_has 1
	# Second in line: the head takes the lock and would hand it the room,
	# whose listener it could then accept every later waiter on.
	"${OTHER[@]}" perl -MSocket -e "$JOIN" "${ROOM#@}" > got 3>&- &
	OWNERS+=($!)
	room_has 2
	for i in 2 3 4; do
		solo -w 20 -a 127.0.0.1 "$P" sh -c 'echo "$1" >> log' sh "$i" 3>&- &
		w+=($!)
	done
	room_has 5
	release
	for i in "${w[@]}"; do wait "$i"; done
	wait "${OWNERS[0]}"
	assert_equal "$(cat got)" "read 0 bytes"
	assert_equal "$(sort log | paste -sd ' ')" "1 2 3 4"
}

# $SQUAT with its listen queue full (backlog 0, one connection of its
# own queued): nobody can connect to learn its SO_PEERCRED.
SQUATFULL='$^F = 255; my $n = shift; my $a = pack_sockaddr_un("\0$n");
	socket(S, AF_UNIX, SOCK_STREAM, 0) && bind(S, $a) && listen(S, 0)
	    && socket(C, AF_UNIX, SOCK_STREAM, 0) && connect(C, $a)
	    or die "$n: $!\n";
	exec @ARGV or die "$ARGV[0]: $!\n"'

@test "solo names the owner of an abstract squatter that hides its pid and credentials" {
	need_root
	hold perl -MSocket -e "$SQUATFULL" "solo/65534/sq$P"
	run -1 "${OTHER[@]}" solo -U "sq$P" true
	assert_output "solo: @solo/65534/sq$P is held by another process of another user (uid 0)"
	run -1 "${OTHER[@]}" solo --test -U "sq$P"
	assert_output "@solo/65534/sq$P is held by another process of another user (uid 0)"
	release
}

@test "flockrun --test says a holder with no process is of unknown owner" {
	touch f
	hold inflight f
	run -1 flockrun --test f
	# /proc/locks names the process that took it, now gone.
	assert_output --regexp '^[0-9]+ \? flock exclusive 0-EOF of unknown owner$'
	run -1 --separate-stderr flockrun --verbose -w 0.1 f true
	assert_regex "${stderr_lines[0]}" '^flockrun: f: held by pid [0-9]+ \(\?\) of unknown owner, flock exclusive; waiting$'
	release
}

@test "flockrun names another user's holder as such" {
	need_root
	touch "$PUB/f"
	hold "${OTHER[@]}" flockrun -F "$PUB/f"
	run -1 flockrun --test "$PUB/f"
	assert_output "$HELD sh flock exclusive 0-EOF of another user (uid 65534)"
	run -1 --separate-stderr flockrun --verbose -w 0.1 "$PUB/f" true
	assert_equal "${stderr_lines[0]}" "flockrun: $PUB/f: held by pid $HELD (sh) of another user (uid 65534), flock exclusive; waiting"
	# The same line, but for "; waiting", when the time is up.
	assert_equal "${stderr_lines[1]}" "flockrun: $PUB/f: held by pid $HELD (sh) of another user (uid 65534), flock exclusive"
	release
	run -0 flockrun --test "$PUB/f"
}

@test "lockdev names another user's process owning the lock as such" {
	need_root
	lockdir
	hold "${OTHER[@]}"
	run -0 lockdev -l -p "$HELD" /dev/null
	run -1 --separate-stderr lockdev -v /dev/null
	assert_output "$HELD"
	assert_equal "$stderr" "lockdev: /dev/null: locked by pid $HELD (sh) of another user (uid 65534) in a file of your own"
	run -1 --separate-stderr lockdev -v -l -w 0.1 /dev/null
	assert_equal "$stderr" "lockdev: /dev/null: locked by pid $HELD (sh) of another user (uid 65534) in a file of your own; waiting
lockdev: /dev/null: locked by pid $HELD (sh) of another user (uid 65534) in a file of your own"
	release
}

@test "root's -U names are private by default, in /run/solo, mode 0700" {
	need_ns "a private mount of /run" unshare -m mount -t tmpfs none /run
	run -0 unshare -m sh -c 'mount -t tmpfs -o mode=755 none /run &&
	    solo -U job sh -c "readlink /proc/\$\$/fd/*; stat -c %a:%u:%F /run/solo /run/solo/job"'
	assert_line /run/solo/job
	assert_line 700:0:directory
	assert_line '600:0:regular empty file'
	# Only the lock reaches the command, and no abstract name is taken.
	refute_line --partial socket
}

@test "a squatter before and while root's job runs cannot block the private name" {
	need_root
	priv=$PUB/priv
	# Before: the other user takes root's abstract name and port, and
	# cannot make the directory (its parent is root's, as /run is).
	hold "${OTHER[@]}" perl -MSocket -e "$SQUAT" "solo/0/job"
	run -1 "${OTHER[@]}" mkdir "$priv"
	# Root's job still runs, and holds its lock.
	run -0 solo --dir "$priv" -U job sh -c 'echo ran'
	assert_output ran
	squatter=$HELD
	FIFOS='' hold solo --dir "$priv" -U job
	run -1 solo --dir "$priv" --test -U job
	assert_output "$priv/job is held by pid $HELD (sh)"
	# While it runs the other user can neither open nor lock the file.
	run -66 "${OTHER[@]}" solo --dir "$priv" -U job true
	assert_output "solo: $priv: Permission denied"
	run -66 "${OTHER[@]}" flockrun -n "$priv/job" true
	assert_output "flockrun: $priv/job: cannot open: Permission denied"
	run -1 solo --dir "$priv" -U job true
	release
	kill "$squatter"
}

@test "a private name: waiters wait without polling, a killed holder frees it" {
	hold solo --dir "$T/p" -U w
	run -1 solo --dir "$T/p" -w 0.2 -U w true
	solo --dir "$T/p" -w 10 -U w sh -c 'echo $$ > got' &
	waiter=$!
	# Queued in flock(2) (a "->" line of /proc/locks), not retrying.
	wait_until 5 grep -q -- "-> FLOCK .* $waiter " /proc/locks
	run -0 grep -c -- "-> FLOCK .* $waiter " /proc/locks
	kill -KILL "$HELD"
	wait "$waiter"
	assert_file_exists got
	wait "$HOLDER" || :
	HOLDER=
	# What the killed holder left is an unlocked file: taken at once.
	run -0 solo --dir "$T/p" -U w true
	run -0 solo --dir "$T/p" --test -U w
}

@test "a symbolic link planted where the private directory goes is refused, not followed" {
	planted ln -s "$PUB/target" "$PUB/priv"
	mkdir "$PUB/target"
	run -66 solo --dir "$PUB/priv" -U job touch ran
	assert_output "solo: $PUB/priv: is a symbolic link; refusing"
	assert_file_not_exists ran
	assert_equal "$(ls -A "$PUB/target")" ''
	SOLO_DIR=$PUB/priv run -66 solo -U job true
	assert_output "solo: $PUB/priv: is a symbolic link; refusing"
}

@test "another user's directory, or one others may write, is refused" {
	planted mkdir -m 700 "$PUB/priv"
	run -66 solo --dir "$PUB/priv" -U job touch ran
	assert_output "solo: $PUB/priv: owned by uid 65534, not 0; refusing"
	assert_file_not_exists ran
	for m in 770 707 1777; do
		mkdir -m "$m" "$T/d$m"
		run -66 solo --dir "$T/d$m" -U job true
		assert_output "solo: $T/d$m: writable by group or others; refusing"
	done
	run -66 solo --dir /dev/null -U job true
	assert_output "solo: /dev/null: not a directory; refusing"
}

@test "a symbolic link or other file planted as the lock file is refused" {
	mkdir -m 700 p
	ln -s /etc/passwd p/link
	run -66 solo --dir p -U link true
	assert_output "solo: p/link: is a symbolic link; refusing"
	mkfifo p/fifo
	run -66 solo --dir p -U fifo true
	assert_output "solo: p/fifo: not a regular file of our own; refusing"
}

@test "a lock file of another user's is refused" {
	need_root
	mkdir -m 700 p
	touch p/theirs
	chown 65534 p/theirs
	run -66 solo --dir p -U theirs true
	assert_output "solo: p/theirs: not a regular file of our own; refusing"
}

@test "a user's private names live in \$XDG_RUNTIME_DIR/solo or --dir" {
	need_root
	mkdir -m 700 "$PUB/run"
	chown 65534 "$PUB/run"
	run -0 "${OTHER[@]}" env XDG_RUNTIME_DIR="$PUB/run" solo --private -U a/.b sh -c 'readlink /proc/$$/fd/* || :'
	assert_line "$PUB/run/solo/a%2F.b"
	run -0 "${OTHER[@]}" env XDG_RUNTIME_DIR="$PUB/run" SOLO_DIR="$PUB/run/x" solo -U .y sh -c 'readlink /proc/$$/fd/* || :'
	assert_line "$PUB/run/x/%2Ey"
	# A user's -U stays abstract unless asked.
	run -0 "${OTHER[@]}" env XDG_RUNTIME_DIR="$PUB/run" solo -U z sh -c 'readlink /proc/$$/fd/* || :'
	assert_line --regexp '^socket:'
	run -64 "${OTHER[@]}" env -u XDG_RUNTIME_DIR solo --private -U z true
	assert_output "solo: no directory for private names: XDG_RUNTIME_DIR is not set; use --dir or SOLO_DIR"
}

@test "--test on a private name creates nothing" {
	run -0 solo --test --dir "$T/p" -U job
	assert_file_not_exists "$T/p"
	mkdir -m 700 p
	run -0 solo --test --dir p -U job
	assert_file_not_exists p/job
}

@test "--verbose warns when root locks what any user could take first" {
	need_root
	run -0 --separate-stderr solo -v -a 127.0.0.1 "$P" true
	assert_equal "${stderr_lines[1]}" "solo: warning: any user may take 127.0.0.1:$P first: ports from $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start) up are open to all; use one below $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start), or -U name"
	run -0 --separate-stderr solo -v --abstract -U "w$P" true
	assert_equal "${stderr_lines[1]}" "solo: warning: any user may take @solo/0/w$P first: abstract names are open to all; drop --abstract"
	run -0 --separate-stderr solo -v --dir "$T/p" -U w true
	assert_equal "$stderr" "solo: lock $T/p/w"
	run -0 --separate-stderr "${OTHER[@]}" solo -v -a 127.0.0.1 "$P" true
	assert_equal "$stderr" "solo: bind 127.0.0.1:$P"
}

@test "--verbose warns that every port is open to all when the sysctl is 0" {
	need_netns
	run -0 --separate-stderr in_netns 40000 40100 '
	    echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start &&
	    solo -v -a 127.0.0.1 905 true'
	assert_equal "${stderr_lines[1]}" "solo: warning: any user may take 127.0.0.1:905 first: every port is open to all (net.ipv4.ip_unprivileged_port_start is 0); use -U name"
}

@test "solo: names with control characters are refused, shown escaped on one line" {
	run -64 --separate-stderr solo -U $'a\nb' touch ran
	assert_equal "$stderr" "solo: invalid name 'a\\nb': must be printable, without spaces"
	assert_file_not_exists ran
	run -64 --separate-stderr solo -a $'1\t2' 80 true
	assert_equal "$stderr" "solo: invalid address '1\\t2': not an IPv4 or IPv6 address"
	run -64 --separate-stderr flockrun -w $'1\n' f true
	assert_equal "$stderr" "flockrun: invalid timeout '1\\n': not a number of seconds"
	run -64 --separate-stderr flockrun --max-time $'1\n' f true
	assert_equal "$stderr" "flockrun: invalid max-time '1\\n': not a number of seconds"
	run -64 --separate-stderr lockdev -w $'\e[1m' /dev/null
	assert_equal "$stderr" "lockdev: invalid wait '\\033[1m': not a number of seconds"
}

@test "solo: private-name options go with -U, and not with --abstract" {
	run -64 solo --abstract --private -U x true
	assert_output "solo: --abstract and --private (or --dir) are exclusive"
	run -64 solo --abstract --dir d -U x true
	run -64 solo --private "$P" true
	assert_output "solo: --abstract, --private and --dir go with -U"
	run -64 solo --dir "$T/p" -U 'a b' true
	assert_output "solo: invalid name 'a b': must be printable, without spaces"
	assert_file_not_exists "$T/p"
}

@test "lockdev: another user's flock on the lock directory blocks nothing" {
	need_root
	mkdir -m 1777 "$PUB/locks"
	export LOCKDEV_LOCKDIR=$PUB/locks
	hdb "$(dead_pid)" > "$PUB/locks/LCK..null"
	hold "${OTHER[@]}" flockrun -s "$PUB/locks"
	# The stale file goes, and lock, relock, unlock and run mode finish.
	run -0 timeout 10 lockdev -l -p $$ /dev/null
	assert_equal "$(cat "$PUB/locks/LCK..null")" "$(hdb $$)"
	run -0 timeout 10 lockdev -r "$HELD" -p $$ /dev/null
	run -0 timeout 10 lockdev -u -p "$HELD" /dev/null
	assert_file_not_exists "$PUB/locks/LCK..null"
	run -0 timeout 10 lockdev /dev/null true
	release
}

@test "lockdev: another user's flock on a stale lock file is named, not waited for past -w" {
	need_root
	mkdir -m 1777 "$PUB/locks"
	export LOCKDEV_LOCKDIR=$PUB/locks
	hdb "$(dead_pid)" > "$PUB/locks/LCK..null"
	hold "${OTHER[@]}" flockrun -s "$PUB/locks/LCK..null"
	msg="lockdev: /dev/null: cannot remove stale lock LCK..null: pid $HOLDER (flockrun) of another user (uid 65534) holds flock on it"
	run -1 --separate-stderr timeout 10 lockdev -l -p $$ /dev/null
	assert_equal "$stderr" "$msg"
	assert_output ''
	run -1 --separate-stderr timeout 10 lockdev -v -l -w 0.3 -p $$ /dev/null
	assert_equal "${stderr_lines[0]}" "$msg; waiting"
	assert_equal "${stderr_lines[1]}" "$msg"
	run -1 --separate-stderr timeout 10 lockdev /dev/null true
	assert_equal "$stderr" "$msg"
	# Once it lets go, the stale file is taken over.
	release
	run -0 timeout 10 lockdev -l -p $$ /dev/null
}

@test "lockdev: a lock file naming a process not its writer's says whose file it is" {
	need_root
	mkdir -m 1777 "$PUB/locks"
	export LOCKDEV_LOCKDIR=$PUB/locks
	run -0 "${OTHER[@]}" sh -c 'printf "%10d\n" 1 > "$1"' sh "$PUB/locks/LCK..null"
	run -1 --separate-stderr lockdev -v /dev/null
	assert_output 1
	assert_equal "$stderr" "lockdev: /dev/null: locked by pid 1 ($(cat /proc/1/comm)) in a file of another user (uid 65534)"
	# As the other user: pid 1 is root's, the file its own.
	run -1 --separate-stderr "${OTHER[@]}" lockdev -v /dev/null
	assert_equal "$stderr" "lockdev: /dev/null: locked by pid 1 ($(cat /proc/1/comm)) of another user (uid 0) in a file of your own"
	# A file of the pid's own user says nothing more.
	rm "$PUB/locks/LCK..null"
	run -0 lockdev -l -p 1 /dev/null
	run -1 --separate-stderr lockdev -v /dev/null
	assert_equal "$stderr" "lockdev: /dev/null: locked by pid 1 ($(cat /proc/1/comm))"
}

@test "a trailing slash or /. does not make solo follow a planted symbolic link" {
	planted ln -s "$PUB/target" "$PUB/link"
	mkdir "$PUB/target"
	for d in "$PUB/link/" "$PUB/link/." "$PUB/link//./"; do
		run -66 solo --dir "$d" -U job touch ran
		assert_output "solo: $PUB/link: is a symbolic link; refusing"
		SOLO_DIR=$d run -66 solo -U job true
		assert_output "solo: $PUB/link: is a symbolic link; refusing"
	done
	assert_file_not_exists ran
	assert_equal "$(ls -A "$PUB/target")" ''
	run -66 solo --dir "$PUB/target/../link" -U job true
	assert_output "solo: $PUB/target/../link: has a '..' component; refusing"
}

@test "every ancestor of the private directory is checked, not just the last" {
	# The other user's directory above root's: it could rename it away.
	planted mkdir -m 755 "$PUB/p"
	run -66 solo --dir "$PUB/p/solo" -U job touch ran
	assert_output "solo: $PUB/p: owned by uid 65534, not 0; refusing"
	assert_file_not_exists "$PUB/p/solo"
	# Root's own, but writable by others without the sticky bit.
	mkdir -m 777 "$PUB/w"
	run -66 solo --dir "$PUB/w/solo" -U job true
	assert_output "solo: $PUB/w: writable by group or others; refusing"
	# A relative --dir: the working directory's ancestors count too.
	cd "$PUB/p"
	run -66 solo --dir solo -U job true
	assert_output "solo: $PUB/p: owned by uid 65534, not 0; refusing"
	# Root-owned sticky directories (/tmp, $PUB) are fine.
	run -0 solo --dir "$PUB/ok/" -U job true
	assert_equal "$(stat -c %a:%u "$PUB/ok")" 700:0
	# As the other user, its own and root's ancestors are fine.
	run -0 "${OTHER[@]}" solo --dir "$PUB/p/solo" -U job true
}

@test "a private lock file others may open is refused, and files are made 0600" {
	mkdir -m 755 p
	run -0 solo --dir p -U made true
	assert_equal "$(stat -c %a p/made)" 600
	for m in 644 640 604 660 601; do
		install -m "$m" /dev/null "p/m$m"
		run -66 solo --dir p -U "m$m" touch ran
		assert_output "solo: p/m$m: mode 0$m: open to group or others; refusing"
		run -66 solo --dir p --test -U "m$m"
		assert_output "solo: p/m$m: mode 0$m: open to group or others; refusing"
	done
	assert_file_not_exists ran
	# A 0600 file in a 0755 directory is fine: nobody else can open it.
	chmod 600 p/m644
	run -0 solo --dir p -U m644 true
}

@test "--test refuses what locking refuses, with the same words and 66" {
	mkdir -m 700 p
	mkfifo p/fifo
	ln -s /etc/passwd p/link
	mkdir p/dir
	for n in fifo dir; do
		run -66 solo --dir p --test -U "$n"
		assert_output "solo: p/$n: not a regular file of our own; refusing"
	done
	run -66 solo --dir p --test -U link
	assert_output "solo: p/link: is a symbolic link; refusing"
}

@test "--test refuses another user's lock file as locking does" {
	need_root
	mkdir -m 700 p
	touch p/theirs
	chown 65534 p/theirs
	chmod 600 p/theirs
	run -66 solo --dir p --test -U theirs
	assert_output "solo: p/theirs: not a regular file of our own; refusing"
}

@test "solo: an empty --dir and a relative XDG_RUNTIME_DIR are usage errors" {
	run -64 solo --dir '' -U a touch ran
	assert_output "solo: --dir: empty directory name"
	assert_file_not_exists ran
	if [ "$(id -u)" = 0 ]; then
		run -64 "${OTHER[@]}" env XDG_RUNTIME_DIR=relative solo --private -U a true
	else
		run -64 env XDG_RUNTIME_DIR=relative solo --private -U a true
	fi
	assert_output "solo: no directory for private names: XDG_RUNTIME_DIR is not an absolute path; use --dir or SOLO_DIR"
}

# In a sticky lock directory (/var/lock on Debian) a stale lock file of
# another user's cannot be removed: its owner's lockdev removes it.
@test "lockdev: another user's stale lock in a sticky directory is waited for with -w, an error without" {
	need_root
	mkdir -m 1777 "$PUB/locks"
	export LOCKDEV_LOCKDIR=$PUB/locks
	hdb "$(dead_pid)" > "$PUB/locks/LCK..null"
	msg="lockdev: /dev/null: cannot remove stale lock LCK..null of another user (uid 0): Operation not permitted"
	run -12 --separate-stderr "${OTHER[@]}" lockdev -l -p $$ /dev/null
	assert_equal "$stderr" "$msg"
	run -1 --separate-stderr "${OTHER[@]}" lockdev -w 0.3 /dev/null echo ran
	assert_equal "$stderr" "$msg"
	assert_output ""
	# Waiting for it to go, then running.
	fifo err
	"${OTHER[@]}" lockdev -v -w 10 /dev/null echo ran >out 2>&"$fd_err" 3>&- &
	waiter=$!
	read -r -t 10 line <&"$fd_err"
	assert_equal "$line" "$msg; waiting"
	run -0 lockdev -u -f /dev/null
	wait "$waiter"
	assert_equal "$(cat out)" ran
	assert_equal "$(ls "$PUB/locks")" ""
}

# queue_head PID: PID heads lockdev's waiters' queue (lockdev.bats).
queue_head() { grep -qs OFDLCK /proc/"$1"/fdinfo/*; }

@test "lockdev -w of another user behind root's run mode in a sticky directory: every round runs" {
	need_root
	mkdir -m 1777 "$PUB/locks"
	export LOCKDEV_LOCKDIR=$PUB/locks
	sts=''
	for i in 1 2 3 4 5 6 7 8 9 10; do
		hold lockdev /dev/null
		"${OTHER[@]}" lockdev -w 10 /dev/null true 3>&- &
		waiter=$!
		OWNERS+=("$waiter")
		# Heading the waiters' queue, about to watch the lock files.
		wait_until 5 queue_head "$waiter"
		release
		st=0
		wait "$waiter" || st=$?
		sts+="$st "
	done
	assert_equal "$sts" "0 0 0 0 0 0 0 0 0 0 "
	assert_equal "$(ls "$PUB/locks")" ""
}
