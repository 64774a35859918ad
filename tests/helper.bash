# Shared set-up for the bats files: finds the binaries (LOCKKIT_BIN, by
# default ../bin), loads bats-support/assert/file, gives each test its own
# directory in $T, and helpers to hold a lock in the background with the
# order of events fixed by fifos, never by sleeping.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

: "${LOCKKIT_BIN:=$BATS_TEST_DIRNAME/../bin}"
PATH=$LOCKKIT_BIN:$PATH
export PATH

# lk_setup: what every test starts from: its own directory $T, no holder
# (HOLDER, HELD: see hold) and no lock owners (OWNERS: pids to kill).
# A file's own setup() calls it first.
lk_setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	HOLDER='' HELD='' OWNERS=() PTY_FD=''
}

# lk_teardown: a failed test must not leave a holder or an owner behind
# to block later tests.
lk_teardown() {
	if [ -n "$PTY_FD" ]; then
		exec {PTY_FD}>&-
	fi
	if [ "${#OWNERS[@]}" -gt 0 ]; then
		kill "${OWNERS[@]}" 2>/dev/null || :
	fi
	if [ -n "$HOLDER" ]; then
		kill "$HOLDER" "$HELD" 2>/dev/null || :
	fi
}

setup() { lk_setup; }
teardown() { lk_teardown; }

# sig_ignored [SIG...]: the SigIgn line of /proc/PID/status for a process
# started with SIG... ignored (none: nothing more than bats ignores), to
# compare with what a command run under a tool reports.
sig_ignored() {
	bash -c 'if [ $# -gt 0 ]; then trap "" "$@"; fi
		exec grep SigIgn /proc/self/status' sh "$@"
}

# as_caller [-t SECS] blocked|ignored SIGS CMD...: run CMD with the
# signals SIGS (names without SIG, comma-separated: ALRM,CHLD) blocked or
# ignored, as cron, nohup, Python's subprocess (pthread_sigmask, then
# exec) or a CI runner may start it; with -t, killed after SECS seconds
# (with SIGKILL, as CMD may block SIGTERM: status 137).  CMD replaces the
# perl that sets the state (its pid is the process's), and that perl is
# the child of "as_caller &" if the function is run in the background.
# Perl, whose POSIX module is in perl-base, present on every Debian
# system.
as_caller() {
	local bound=()
	if [ "$1" = -t ]; then
		bound=(timeout -s KILL "$2")
		shift 2
	fi
	"${bound[@]}" perl -MPOSIX -e '
		my ($how, @sigs) = (shift, split /,/, shift);
		if ($how eq "blocked") {
			my $set = POSIX::SigSet->new(map { POSIX->can("SIG$_")->() } @sigs);
			sigprocmask(SIG_BLOCK, $set) or die "sigprocmask: $!\n";
		} elsif ($how eq "ignored") {
			$SIG{$_} = "IGNORE" for @sigs;
		} else {
			die "as_caller: blocked or ignored, not $how\n";
		}
		exec { $ARGV[0] } @ARGV or die "cannot run $ARGV[0]: $!\n";
	' "$@"
}

# need_ns WHAT PROBE...: skip the test unless this process may make the
# namespace WHAT, by running PROBE, which makes one and uses it as the
# test will: root is not enough in a container without CAP_SYS_ADMIN
# (docker's default), and there a test would fail for the machine's sake.
need_ns() {
	local what=$1
	shift
	[ "$(id -u)" = 0 ] || skip "needs root for $what"
	"$@" >/dev/null 2>&1 || skip "needs $what, which this machine refuses"
}

# need_ro_mount: need_ns for a test's own read-only tmpfs (unshare -m).
need_ro_mount() {
	need_ns "a private read-only mount" unshare -m mount -t tmpfs -o ro none "$T"
}

# need_netns: need_ns for in_netns.
need_netns() {
	need_ns "a network namespace" unshare -n sh -c 'ip link set lo up &&
	    f=/proc/sys/net/ipv4/ip_local_port_range && r=$(cat $f) &&
	    echo "$r" > $f'
}

# in_netns FIRST LAST SCRIPT ARG...: SCRIPT (bash, with ARG... as $1 ...)
# in a network namespace of its own (root only), with loopback up and
# outgoing connections given local ports FIRST to LAST only.  With a
# lock's port among them, TCP lets a connection to the lock's free
# address meet itself, as solo's probes must cope with.
in_netns() {
	local ports="$1 $2" script=$3
	shift 3
	LK_PORTS=$ports unshare -n bash -c 'ip link set lo up &&
	    echo "$LK_PORTS" > /proc/sys/net/ipv4/ip_local_port_range ||
	    exit 98
	'"$script" bash "$@"
}

# need_netns_down: need_ns for in_netns_down.
need_netns_down() {
	need_ns "a network namespace" unshare -n sh -c \
	    'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6'
}

# in_netns_down SCRIPT ARG...: SCRIPT (bash, with ARG... as $1 ...) in a
# network namespace of its own as unshare -n leaves it, loopback down
# (root only): bind works there, connect fails with ENETUNREACH.
in_netns_down() {
	local script=$1
	shift
	unshare -n bash -c "$script" bash "$@"
}

# pause SECS: let SECS seconds pass, in a read with a timeout on a pipe
# nobody writes.  For checking that something does not change; never for
# ordering events.
pause() {
	read -r -t "$1" _ <> <(:) || :
}

# wait_until SECS CMD...: run CMD every 10 ms until it succeeds, for SECS
# seconds at most; status 1 if it never did.  For states that no event
# announces (a peer's lock file, a process's state): a bounded check, not
# an order.  Callers assert the state afterwards, so that a failure shows
# what it was.
wait_until() {
	local i n=$(($1 * 100))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		pause 0.01
	done
	return 1
}

# lockdir: an empty lock directory for lockdev, $T/locks, of this test's
# own.
lockdir() {
	mkdir "$T/locks" || return 1
	export LOCKDEV_LOCKDIR=$T/locks
}

# fifo NAME: make fifo $T/NAME (or $FIFOS/NAME: see hold) and open it
# read-write on a new fd stored in the variable fd_NAME.  Opening
# read-write never blocks, so neither side can hang on open(); reads
# below use read -t to stay bounded.
fifo() {
	local f=${FIFOS:-$T}/$1 fd
	rm -f "$f"
	mkfifo -m 0666 "$f"
	exec {fd}<>"$f"
	printf -v "fd_$1" '%s' "$fd"
}

# hold TOOL [ARGS...]: run TOOL ARGS... sh -c ... in the background; the
# shell it runs writes its pid to fifo "ready" once it holds the lock, then
# waits for a line on fifo "go".  Returns when the lock is held, with
# HOLDER (the tool's pid) and HELD (the command's pid) set.  With FIFOS
# naming a directory another uid can reach, the fifos go there, for a
# holder run as that uid (under setpriv).
hold() {
	fifo ready
	fifo go
	"$@" sh -c 'echo $$ > "$1"; read x < "$2"' sh "${FIFOS:-$T}/ready" \
		"${FIFOS:-$T}/go" 3>&- &
	HOLDER=$!
	local fdr=$fd_ready
	read -r -t 10 HELD <&"$fdr" || { echo "holder never got the lock"; return 1; }
}

# release: let the holder's command end and wait for the holder.
release() {
	local fdg=$fd_go
	echo go >&"$fdg"
	wait "$HOLDER"
}

# now_ms: monotonic-enough wall time in milliseconds.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# preload [VAR=VALUE...] CMD...: CMD with faillock.so, which fakes the
# failures of file systems we cannot mount here (FAILLOCK says which).
# A sanitized tool refuses to start unless told that a preload coming
# before ASan's runtime is fine.
preload() {
	env LD_PRELOAD="$LOCKKIT_BIN/faillock.so" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}

# dead_pid: a pid that is certainly dead (for stale lock files).
dead_pid() {
	sh -c 'echo $$'
}

# pty: a fresh pseudo-terminal in $PTY, a device no other test knows,
# kept open (by ptyhold) until teardown.
pty() {
	fifo ptyname
	exec {PTY_FD}> >(exec ptyhold >&"$fd_ptyname")
	read -r -t 10 PTY <&"$fd_ptyname"
	[ -c "$PTY" ]
}

# hdb PID: the HDB content lockdev writes, "%10d\n".
hdb() {
	printf '%10d\n' "$1"
}

# room_lines: how many sockets /proc/net/unix names solo -w's waiting
# room $ROOM with: its listener and its queued connections (0: no room).
# Read while other sockets come and go, the file may show a line twice
# (it is made a page at a time): count each socket (its first column)
# once.
room_lines() {
	awk -v r="$ROOM" '$NF == r && !seen[$1]++ { n++ } END { print n + 0 }' \
	    /proc/net/unix
}

# room_has N: the room has N sockets, within 10 s (a line the file
# skipped as it changed shows on the next read); fails naming the count.
room_is() {
	[ "$(room_lines)" = "$1" ]
}
room_has() {
	wait_until 10 room_is "$1" ||
	    fail "the room has $(room_lines) sockets, not $1"
}
