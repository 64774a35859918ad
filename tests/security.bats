#!/usr/bin/env bats
# Locks against another local user: each tool names a holder of another
# uid as such.  As root, with uid 65534 as the other user; elsewhere the
# tests skip.

load helper

setup() {
	lk_setup || return 1
	[ "$(id -u)" = 0 ] || skip "needs root to run as another uid"
	# Where uid 65534 can reach the fifos and files (the test's own
	# directory is private).
	PUB=$(mktemp -d /tmp/lockkit-sec.XXXXXX)
	chmod 755 "$PUB"
	FIFOS=$PUB
	OTHER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	P=$((20000 + RANDOM % 10000))
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
	hold "${OTHER[@]}" solo -a 127.0.0.1 "$P"
	run -1 --separate-stderr solo -a 127.0.0.1 "$P" touch ran
	assert_equal "$stderr" "solo: 127.0.0.1:$P is held by pid $HELD (sh) of another user (uid 65534)"
	assert_file_not_exists ran
	run -1 solo --test -a 127.0.0.1 "$P"
	assert_output "127.0.0.1:$P is held by pid $HELD (sh) of another user (uid 65534)"
	run -1 --separate-stderr solo -v -w 0.1 -a 127.0.0.1 "$P" true
	assert_equal "${stderr_lines[0]}" "solo: waiting: 127.0.0.1:$P is held by pid $HELD (sh) of another user (uid 65534)"
	release
}

@test "solo names root's holder as another user's to a user who cannot see its pid" {
	hold solo -a 127.0.0.1 "$P"
	run -1 "${OTHER[@]}" solo -a 127.0.0.1 "$P" true
	assert_output "solo: 127.0.0.1:$P is held by another process of another user (uid 0)"
	release
}

@test "solo names another user's squatter on an abstract name" {
	hold "${OTHER[@]}" perl -MSocket -e "$SQUAT" "solo/0/sq$P"
	run -1 --separate-stderr solo -U "sq$P" true
	assert_equal "$stderr" "solo: @solo/0/sq$P is held by pid $HELD (sh) of another user (uid 65534)"
	release
}

@test "flockrun names another user's holder as such" {
	touch "$PUB/f"
	hold "${OTHER[@]}" flockrun -F "$PUB/f"
	run -1 flockrun --test "$PUB/f"
	assert_output "$HELD sh flock exclusive 0-EOF of another user (uid 65534)"
	run -1 --separate-stderr flockrun --verbose -w 0.1 "$PUB/f" true
	assert_equal "${stderr_lines[0]}" "flockrun: $PUB/f: held by pid $HELD (sh) of another user (uid 65534), flock exclusive; waiting"
	release
	run -0 flockrun --test "$PUB/f"
}

@test "lockdev names another user's process owning the lock as such" {
	lockdir
	hold "${OTHER[@]}"
	run -0 lockdev -l -p "$HELD" /dev/null
	run -1 --separate-stderr lockdev -v /dev/null
	assert_output "$HELD"
	assert_equal "$stderr" "lockdev: /dev/null: locked by pid $HELD (sh) of another user (uid 65534)"
	run -1 --separate-stderr lockdev -v -l -w 0.1 /dev/null
	assert_equal "${stderr_lines[0]}" "lockdev: /dev/null: locked by pid $HELD of another user (uid 65534); waiting"
	release
}
