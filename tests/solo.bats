#!/usr/bin/env bats
# solo: the socket lock, held across exec.

load helper

setup() {
	lk_setup || return 1
	# Below the ephemeral range, so outgoing connections do not collide.
	P=$((20000 + RANDOM % 10000))
	ADDR=$(uid_addr "$(id -u)")
}

# uid_addr UID: the per-user address 127.A.B.1.
uid_addr() {
	echo "127.$(( ($1 >> 8) & 255 )).$(( $1 & 255 )).1"
}

@test "runs the command in place and passes its status" {
	solo "$P" sh -c 'echo $$ > pid; exit 3' &
	pid=$!
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 3
	assert_equal "$(cat pid)" "$pid"
}

@test "a second copy is refused with the holder named, exit 1" {
	hold solo "$P"
	assert_equal "$HELD" "$HOLDER"
	run -1 --separate-stderr solo "$P" touch ran
	assert_equal "$stderr" "solo: $ADDR:$P is held by pid $HELD (sh)"
	assert_output ''
	assert_file_not_exists ran
	release
}

@test "-v names the holder on a conflict and a timeout, as before a wait" {
	hold solo "$P"
	run -1 --separate-stderr solo -v "$P" true
	assert_equal "$stderr" "solo: $ADDR:$P is held by pid $HELD (sh)"
	run -1 --separate-stderr solo -v -w 0.1 "$P" true
	assert_equal "$stderr" "solo: $ADDR:$P is held by pid $HELD (sh); waiting
solo: $ADDR:$P is held by pid $HELD (sh)"
	release
	hold solo --abstract -U "t$P"
	run -1 --separate-stderr solo -v -w 0.1 --abstract -U "t$P" true
	assert_equal "$stderr" "solo: @solo/$(id -u)/t$P is held by pid $HELD (sh); waiting
solo: @solo/$(id -u)/t$P is held by pid $HELD (sh)"
	release
	hold solo --dir "$T/p" -U t
	run -1 --separate-stderr solo -v -w 0.1 --dir "$T/p" -U t true
	assert_equal "$stderr" "solo: $T/p/t is held by pid $HELD (sh); waiting
solo: $T/p/t is held by pid $HELD (sh)"
	release
}

@test "-E sets the conflict status; -q says nothing" {
	hold solo "$P"
	run -9 solo -E 9 "$P" true
	run -1 solo -q "$P" true
	assert_output ''
	release
}

@test "the lock is freed when the command exits" {
	hold solo "$P"
	release
	run -0 solo "$P" true
}

@test "the lock is freed when the command is killed with SIGKILL" {
	hold solo "$P"
	kill -KILL "$HELD"
	wait "$HELD" || :
	HOLDER=
	run -0 solo "$P" true
}

@test "a child that inherits the socket keeps the lock" {
	run -0 solo "$P" sh -c 'sleep 30 >/dev/null 2>&1 & echo $!'
	bg=$output
	run -1 solo "$P" true
	assert_output "solo: $ADDR:$P is held by pid $bg (sleep)"
	kill "$bg"
	run -0 solo -w 5 "$P" true
}

@test "only the lock socket reaches the command" {
	plain=$(sh -c 'ls /proc/$$/fd' | sort)
	run -0 solo "$P" sh -c 'ls /proc/$$/fd' 
	extra=$(comm -13 <(echo "$plain") <(echo "$output" | sort))
	[ "$(echo "$extra" | wc -l)" -eq 1 ]
	run -0 solo "$P" sh -c "readlink /proc/\$\$/fd/$extra"
	assert_output --regexp '^socket:\[[0-9]+\]$'
}

@test "the lock is a listening socket on 127.A.B.1 from the uid" {
	run -0 solo "$P" sh -c 'cat /proc/net/tcp'
	IFS=. read -r a b c d <<<"$ADDR"
	hex=$(printf '%02X%02X%02X%02X:%04X' "$d" "$c" "$b" "$a" "$P")
	assert_output --regexp "$hex 00000000:0000 0A"
}

@test "-w waits for the holder and starts within milliseconds of its exit" {
	hold solo "$P"
	fifo err
	solo -v -w 10 "$P" sh -c 'date +%s%N > started' 2>&"$fd_err" 3>&- &
	waiter=$!
	read -r -t 10 line <&"$fd_err"
	assert_equal "$line" "solo: $ADDR:$P is held by pid $HELD (sh); waiting"
	assert_file_not_exists started
	release
	gone=$(date +%s%N)
	wait "$waiter"
	# An event, not a poll: far below any polling interval.
	[ $(( ($(cat started) - gone) / 1000000 )) -lt 500 ]
}

@test "-w gives up at the deadline with the conflict status" {
	hold solo "$P"
	t0=$(now_ms)
	run -1 solo -w 0.3 "$P" touch ran
	[ $(($(now_ms) - t0)) -ge 300 ]
	assert_file_not_exists ran
	release
}

@test "-w waits out an address bound but never listened on, without spinning" {
	fifo bound
	# Holds the address as a holder does between bind and listen.
	perl -MSocket -e 'socket(S, PF_INET, SOCK_STREAM, 0) or die;
		bind(S, sockaddr_in($ARGV[0], inet_aton($ARGV[1]))) or die;
		print STDOUT "bound\n"; close STDOUT; sleep 30' "$P" "$ADDR" \
		>&"$fd_bound" 3>&- &
	binder=$!
	read -r -t 10 line <&"$fd_bound"
	st=0
	TIMEFORMAT='%U %S'
	{ time solo -q -w 1 "$P" touch ran; } 2> cpu || st=$?
	assert_equal "$st" 1
	assert_file_not_exists ran
	# A second of retries, backing off: a spin would use all of it.
	awk '{ exit !($1 + $2 < 0.3) }' cpu
	kill "$binder"
	wait "$binder" || :
	run -0 solo -w 5 "$P" touch ran
	assert_file_exists ran
}

@test "many waiters sleep, then each gets the lock in turn" {
	hold solo "$P"
	fifo err
	pids=()
	for _ in 1 2 3 4 5; do
		solo -v -w 20 "$P" sh -c 'echo x >> turns' 2>&"$fd_err" 3>&- &
		pids+=($!)
	done
	for _ in 1 2 3 4 5; do read -r -t 10 line <&"$fd_err"; done
	# Waiting costs no CPU: each waiter is asleep in the kernel and its
	# CPU time stands still.  A waiter that has just said "waiting" may
	# not have reached poll() yet, so each gets up to 5 s to fall asleep.
	asleep() { [ "$(awk '{ print $3 }' "/proc/$1/stat")" = S ]; }
	for p in "${pids[@]}"; do
		wait_until 5 asleep "$p" || :
		run -0 awk '{ print $3 }' "/proc/$p/stat"
		assert_output S
	done
	cpu() { for p in "${pids[@]}"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done; }
	before=$(cpu)
	pause 0.3
	assert_equal "$(cpu)" "$before"
	release
	for p in "${pids[@]}"; do wait "$p"; done
	assert_equal "$(wc -l < turns)" 5
}

@test "--test on a free port that its own probe connects to says free, leaves it free" {
	need_netns
	run -0 in_netns "$P" "$P" 'solo --test "$1"; echo "test $?"; solo "$1" echo took' "$P"
	assert_output $'test 0\ntook'
}

@test "a waiter whose connection meets itself takes the freed lock at once" {
	need_netns
	mkfifo held go knocking knock
	# The waiter's connect waits (faillock.so) until the holder has gone
	# and the port is free; it then connects to itself.  Every fifo is
	# open read-write here, so no open blocks, and every read has a bound.
	run -0 in_netns "$P" "$P" '
		exec 3<>held 4<>go 5<>knocking 6<>knock
		solo "$1" sh -c "echo > held; read x < go" &
		h=$!
		read -r -t 10 x <&3 || exit 97
		LD_PRELOAD=$2 ASAN_OPTIONS=$3 FAILLOCK=knock:$PWD \
		    solo -w 5 "$1" echo took &
		w=$!
		read -r -t 10 x <&5 || exit 97
		echo >&4
		wait $h
		echo >&6
		wait $w || exit
		solo "$1" echo again' "$P" "$LOCKKIT_BIN/faillock.so" \
	    "${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	assert_output $'took\nagain'
}

# unshare -n leaves loopback down: bind works, connect fails with
# ENETUNREACH.  A holder, then --test (bind decides: held), a waiter (it
# retries bind), the holder's end, the waiter's run, --test again (free).
# Each step is ordered by a fifo; every read is bounded.
@test "loopback down: --test says held or free as bind does, -w waits" {
	need_netns_down
	mkfifo held go waiting
	run -0 in_netns_down '
		exec 3<>held 4<>go 5<>waiting
		solo "$1" sh -c "echo \$\$ > held; read x < go" &
		h=$!
		read -r -t 10 pid <&3 || exit 97
		solo --test "$1" | sed "s/pid $pid/pid HELD/"
		echo "held: ${PIPESTATUS[0]}"
		solo -v -w 10 "$1" echo ran 2>&5 &
		w=$!
		read -r -t 10 line <&5 || exit 97
		echo "$line" | sed "s/pid $pid/pid HELD/"
		echo >&4
		wait $h
		wait $w; echo "waited: $?"
		solo --test "$1"; echo "free: $?"' "$P"
	assert_output "127.0.0.1:$P is held by pid HELD (sh)
held: 1
solo: 127.0.0.1:$P is held by pid HELD (sh); waiting
ran
waited: 0
free: 0"
	refute_output --partial unreachable
}

# With IPv6 off in the namespace there is no ::1 to bind: every form
# fails at once, naming bind and the likely cause, never connect.
@test "-a ::1 where IPv6 is off: one line naming bind, at once" {
	need_netns_down
	run -0 in_netns_down '
		echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 || exit 98
		ip link set lo up || exit 98
		solo -a ::1 "$1" echo ran; echo "lock: $?"
		solo -a ::1 --test "$1"; echo "test: $?"
		solo -a ::1 -w 10 "$1" echo ran; echo "wait: $?"' "$P"
	msg="solo: [::1]:$P: cannot bind: Cannot assign requested address (is IPv6 off here?)"
	assert_output "$msg
lock: 65
$msg
test: 71
$msg
wait: 65"
}

@test "-U NAME --abstract: a named lock on an abstract unix socket" {
	hold solo --abstract -U job1
	run -1 solo --abstract -U job1 true
	assert_output "solo: @solo/$(id -u)/job1 is held by pid $HELD (sh)"
	run -0 solo --abstract -U job2 true
	run -0 grep -c "@solo/$(id -u)/job1" /proc/net/unix
	run -0 solo --abstract -U job1 -w 10 sh -c 'echo $$ > pid' &
	waiter=$!
	release
	wait "$waiter"
	assert_file_exists pid
	run -0 solo --abstract -U job1 true
}

@test "--test: 0 when free, conflict status and the holder when held" {
	run -0 --separate-stderr solo --test "$P"
	assert_output ''
	hold solo "$P"
	run -1 solo --test "$P"
	assert_output "$ADDR:$P is held by pid $HELD (sh)"
	run -3 solo --test -E 3 "$P"
	run -1 --separate-stderr solo --test -q "$P"
	assert_output ''
	assert_equal "$stderr" ''
	release
	run -0 solo --test "$P"
	hold solo --abstract -U t
	run -1 solo --abstract --test -U t
	release
	hold solo --dir "$T/p" -U t
	run -1 solo --dir "$T/p" --test -U t
	release
}

@test "--max-time sends SIGALRM to the command" {
	run -142 solo --max-time 0.2 "$P" sleep 10
	run -142 solo -port="$P" -timeout=0.2 sleep 10
}

@test "-a chooses another loopback address, and refuses others" {
	run -0 solo -v -a 127.0.0.9 "$P" true
	assert_line --index 0 "solo: bind 127.0.0.9:$P"
	run -64 solo -a 10.0.0.1 "$P" true
	assert_output "solo: invalid address '10.0.0.1': not a loopback address"
	run -64 solo -a ::2 "$P" true
	run -64 solo -a nonsense "$P" true
	assert_output "solo: invalid address 'nonsense': not an IPv4 or IPv6 address"
	run -64 solo -a 127.0.0.1 -U x true
}

@test "-a ::1 locks on IPv6 loopback" {
	solo -a ::1 "$P" true 2>/dev/null || skip "no IPv6 loopback here"
	hold solo -a ::1 "$P"
	run -1 solo -a ::1 "$P" true
	assert_output "solo: [::1]:$P is held by pid $HELD (sh)"
	release
}

@test "two users get two addresses and do not block each other" {
	[ "$(id -u)" = 0 ] || skip "needs root to run as another uid"
	hold solo "$P"
	run -0 setpriv --reuid=1000 --regid=1000 --clear-groups solo -v "$P" true
	assert_output "solo: bind $(uid_addr 1000):$P"
	assert_equal "$(uid_addr 1000)" 127.3.232.1
	release
}

@test "a uid above 65535 is refused with the reason and -U suggested" {
	[ "$(id -u)" = 0 ] || skip "needs root to run as another uid"
	run -64 setpriv --reuid=70000 --regid=70000 --clear-groups solo "$P" true
	assert_output "solo: uid 70000 does not fit 127.A.B.1: it would wrap onto uid 4464's address; use -U name or -a addr"
	run -0 setpriv --reuid=70000 --regid=70000 --clear-groups solo -U x true
}

@test "Kay syntax: -port=N, -port N, -verbose" {
	run -0 solo -port="$P" echo hi
	assert_output hi
	run -0 solo -port "$P" echo hi
	run -0 solo -verbose -port="$P" true
	assert_output "solo: bind $ADDR:$P"
}

@test "Kay syntax: -silent exits 0 quietly when held; -noport ignores the lock" {
	hold solo "$P"
	run -0 --separate-stderr solo -port="$P" -silent touch ran
	assert_output ''
	[ -z "$stderr" ]
	assert_file_not_exists ran
	run -1 solo -port="$P" touch ran
	run -0 solo -noport echo free
	assert_output free
	release
}

@test "Kay syntax: one command word with shell syntax runs through sh" {
	run -0 solo -port="$P" 'echo a; echo b | tr b c'
	assert_output $'a\nc'
	run -0 solo -port="$P" -sleep=0.05 echo 'a; b'
	assert_output 'a; b'
	run -64 solo -verbose true
	assert_output --partial -- "-port=PORT is required"
	run -64 solo -port=0 true
	run -64 solo -port="$P" -bogus true
}

@test "bad input: one line and status 64 or 69" {
	run -64 solo 0 true
	assert_output "solo: invalid port '0': expected 1 to 65535"
	run -64 solo 65536 true
	run -64 solo abc true
	run -64 solo "$P"
	assert_output "solo: missing command"
	run -64 solo
	run -64 solo -Z "$P" true
	run -64 solo --test "$P" true
	run -64 solo -w -1 "$P" true
	run -64 solo -w nan "$P" true
	run -64 solo -U 'a b' true
	run -64 solo -U "$(printf 'x%.0s' $(seq 81))" true
	run -64 solo -E 256 "$P" true
	run -69 solo "$P" no-such-command-xyz
	assert_output "solo: cannot run no-such-command-xyz: No such file or directory"
	run -0 solo "$P" true
}

@test "-h and -V print to stdout and exit 0" {
	run -0 --separate-stderr solo -h
	assert_line --index 0 --partial "usage: solo"
	run -0 solo -V
	assert_output --regexp '^solo \(lockkit\) '
}
