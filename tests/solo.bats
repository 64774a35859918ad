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

@test "a free lock is taken however short -w is: port, abstract, private" {
	for _ in 1 2 3; do
		run -0 solo -w 0.000002 "$P" true
		run -0 solo -w 0.000002 --abstract -U "t$P" true
		run -0 solo -w 0.000002 --dir "$T/p" -U t true
	done
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

# The same for --slots: with no connection to watch a slot with, the
# waiter falls back to retrying bind on each, and takes the one freed.
@test "loopback down: a waiter on full --slots retries bind and takes the freed slot" {
	need_netns_down
	mkfifo held go waiting
	run -0 in_netns_down '
		exec 3<>held 4<>go 5<>waiting
		solo --slots 2 "$1" sh -c "echo \$\$ > held; exec sleep 60" &
		h0=$!
		read -r -t 10 pid0 <&3 || exit 97
		solo --slots 2 "$1" sh -c "echo \$\$ > held; read x < go" &
		h1=$!
		read -r -t 10 pid1 <&3 || exit 97
		solo -v -w 10 --slots 2 "$1" sh -c "echo ran \$SOLO_SLOT" 2>&5 &
		w=$!
		read -r -t 10 line <&5 || exit 97
		read -r -t 10 line <&5 || exit 97
		echo >&4
		wait $h1
		wait $w; echo "waited: $?"
		kill $h0; wait $h0 || :' "$P"
	assert_output "ran 1
waited: 0"
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
		solo -a ::1 --test --json "$1"; echo "json: $?"
		solo -a ::1 -w 10 "$1" echo ran; echo "wait: $?"' "$P"
	msg="solo: [::1]:$P: cannot bind: Cannot assign requested address (is IPv6 off here?)"
	assert_output "$msg
lock: 65
$msg
test: 65
$msg
json: 65
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

# --test says whether anyone holds the lock, not whether we may take it:
# a privileged port nobody holds is free, though a user cannot bind it;
# where bind decides (loopback down), --test fails as a run does: 65.
@test "a user's --test of a free privileged port: free, or 65 as bind decides" {
	[ "$(id -u)" = 0 ] || skip "needs root to run as another uid"
	as_user() { setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; }
	run -0 as_user solo --test 80
	assert_output ""
	denied="solo: 127.3.232.1:80: cannot bind: Permission denied"
	run -65 as_user solo 80 true
	assert_output "$denied"
	need_netns_down
	run -0 in_netns_down 'for a in --test "--test --json"; do
		setpriv --reuid=1000 --regid=1000 --clear-groups \
		    solo $a 80 2>&1; echo "status $?"
	done'
	assert_output "$denied
status 65
$denied
status 65"
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
	assert_line --index 0 "solo: bind $ADDR:$P"
	# For root, the warning -v gives: the port is open to all.
	if [ "$(id -u)" = 0 ]; then
		assert_line --index 1 --partial "solo: warning: any user may take $ADDR:$P first"
	else
		assert_equal "${#lines[@]}" 1
	fi
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

@test "--replace ends the holder with SIGTERM and runs the command" {
	hold solo "$P"
	run -0 --separate-stderr solo --replace "$P" echo took
	assert_output took
	assert_equal "$stderr" ''
	st=0
	wait "$HOLDER" || st=$?
	HOLDER=
	assert_equal "$st" 143
}

@test "--replace from inside the holder refuses, signalling nobody (1 or -E)" {
	run -0 --separate-stderr solo "$P" sh -c \
	    'solo --replace --kill-after 1 "$1" echo INNER; echo "after $?"' \
	    sh "$P"
	assert_output "after 1"
	assert_regex "$stderr" "^solo: 127\\.[0-9.]+:$P is held through a \
descriptor this process inherited; refusing to replace$"
	run -0 solo "$P" sh -c \
	    'solo -q -E 9 --replace "$1" echo INNER; echo "after $?"' sh "$P"
	assert_output "after 9"
}

# More holders than one scan of /proc used to keep (256): each gets
# SIGTERM.  -w 5 is shorter than --kill-after, so no SIGKILL round could
# end the ones a SIGTERM missed.
@test "--replace: a holder with 300 children sharing its socket is all ended" {
	hold solo --abstract -U many sh -c \
	    'for i in $(seq 300); do sleep 60 & done; exec "$@"' sh
	run -0 --separate-stderr solo -w 5 --kill-after 60 --replace \
	    --abstract -U many echo took
	assert_output took
	wait "$HOLDER" || true
	HOLDER=
}

@test "the synopsis shows --replace and --slots with --abstract -U name too" {
	run -0 solo -h
	assert_line --regexp '^ +solo \[options\] \[--replace .*\| --slots n\] --abstract$'
}

@test "without --slots the command sees no SOLO_SLOT, even an inherited one" {
	SOLO_SLOT=7 run -0 solo "$P" sh -c 'echo "slot=${SOLO_SLOT-unset}"'
	assert_output "slot=unset"
	SOLO_SLOT=7 run -0 solo --abstract -U s sh -c 'echo "${SOLO_SLOT-unset}"'
	assert_output "unset"
}

@test "--replace on a free lock takes it, as without" {
	run -0 --separate-stderr solo --replace "$P" echo took
	assert_output took
	run -0 solo --replace --abstract -U r echo took
}

@test "--replace: a holder that ignores SIGTERM gets SIGKILL after --kill-after" {
	hold env --ignore-signal=TERM solo "$P"
	t0=$(now_ms)
	run -0 --separate-stderr solo -v --replace --kill-after 0.3 "$P" echo took
	assert_output took
	[ $(($(now_ms) - t0)) -ge 300 ]
	assert_equal "${stderr_lines[0]}" "solo: $ADDR:$P is held by pid $HELD (sh); replacing"
	assert_equal "${stderr_lines[1]}" "solo: $ADDR:$P: sending SIGTERM to pid $HELD (sh)"
	assert_equal "${stderr_lines[2]}" "solo: $ADDR:$P: sending SIGKILL to pid $HELD (sh)"
	assert_equal "${stderr_lines[3]}" "solo: bind $ADDR:$P"
	st=0
	wait "$HOLDER" || st=$?
	HOLDER=
	assert_equal "$st" 137
}

# The holder of -U NAME, its child that inherited the socket, and a
# process of the same group started before the lock: --replace ends the
# two that hold the socket and leaves the third.
@test "--replace -U: every process holding the socket is ended, not its group" {
	fifo ready
	setsid sh -c 'sleep 30 & echo $! > "$1"; shift
		exec solo --abstract -U "$@"' sh "$T/sib" rep sh -c '
		sleep 30 & echo $! > "$1"; echo > "$2"; wait' sh "$T/kid" \
	    "$T/ready" 3>&- &
	HOLDER=$!
	read -r -t 10 _ <&"$fd_ready"
	OWNERS+=("$(cat sib)")
	kid=$(cat kid)
	OWNERS+=("$kid")
	run -0 solo --replace --abstract -U rep echo took
	assert_output took
	st=0
	wait "$HOLDER" || st=$?
	HOLDER=
	assert_equal "$st" 143
	run -0 kill -0 "$(cat sib)"
	gone() { ! kill -0 "$1" 2>/dev/null; }
	wait_until 5 gone "$kid" || :
	run -1 kill -0 "$kid"
}

@test "--replace refuses another user's holder (1 or -E, one line); root ends it" {
	[ "$(id -u)" = 0 ] || skip "needs root to run as two other uids"
	as() { setpriv --reuid="$1" --regid="$1" --clear-groups "${@:2}"; }
	# The fifos by descriptor: the other user may not enter $T.
	fifo ready
	fifo go
	as 65534 solo -a 127.0.0.9 "$P" sh -c 'echo $$; read x' \
	    <&"$fd_go" >&"$fd_ready" 3>&- &
	HOLDER=$!
	read -r -t 10 HELD <&"$fd_ready"
	# Another user cannot see the holder's descriptors at all ...
	run -1 --separate-stderr as 1000 solo --replace -a 127.0.0.9 "$P" touch ran
	assert_equal "$stderr" "solo: 127.0.0.9:$P is held by another user's process, or one not visible here: not ended"
	run -7 as 1000 solo --replace -E 7 -a 127.0.0.9 "$P" touch ran
	# ... and one that can (here by capabilities) is refused by uid.
	run -1 --separate-stderr as 1000 --inh-caps +sys_ptrace,+dac_read_search \
	    --ambient-caps +sys_ptrace,+dac_read_search \
	    solo --replace -a 127.0.0.9 "$P" touch ran
	assert_equal "$stderr" "solo: 127.0.0.9:$P is held by pid $HELD (sh) of another user (uid 65534): only root may end another user's process"
	assert_file_not_exists ran
	run -1 solo --test -a 127.0.0.9 "$P"
	run -0 solo --replace -a 127.0.0.9 "$P" echo root
	assert_output root
	st=0
	wait "$HOLDER" || st=$?
	HOLDER=
	assert_equal "$st" 143
}

# The replacer is stopped once it has signalled the holder; the holder
# then goes, and a third process takes the lock before the replacer runs
# again: that one is waited for (-w), never signalled.
@test "--replace waits for a third process that took the lock in between" {
	hold env --ignore-signal=TERM solo "$P"
	fifo err
	solo -v --replace --kill-after 0.2 -w 1 "$P" touch ran 2>&"$fd_err" 3>&- &
	r=$!
	read -r -t 10 line <&"$fd_err"
	read -r -t 10 line <&"$fd_err"
	assert_equal "$line" "solo: $ADDR:$P: sending SIGTERM to pid $HELD (sh)"
	kill -STOP "$r"
	release
	hold solo "$P"
	kill -CONT "$r"
	st=0
	wait "$r" || st=$?
	assert_equal "$st" 1
	read -r -t 10 line <&"$fd_err"
	assert_equal "$line" "solo: $ADDR:$P is held by pid $HELD (sh)"
	assert_file_not_exists ran
	run -1 solo --test "$P"
	assert_output "$ADDR:$P is held by pid $HELD (sh)"
	release
}

# Two --replace at once for one lock: each ends whoever holds it when it
# looks, and waits for the lock; a command ended by the other exits 143
# through its trap, which clears its mark.  Never both inside.
@test "two --replace at once: one after the other, never both inside" {
	hold solo "$P"
	cmd='trap "rm -f inside; exit 143" TERM; set -C
		: > inside || exit 99; echo $$ >> ran; sleep 0.3 & wait $!
		rm inside'
	solo --replace "$P" sh -c "$cmd" 3>&- &
	a=$!
	solo --replace "$P" sh -c "$cmd" 3>&- &
	b=$!
	sa=0 sb=0
	wait "$a" || sa=$?
	wait "$b" || sb=$?
	[[ $sa =~ ^(0|143)$ ]] || fail "first replacer: $sa"
	[[ $sb =~ ^(0|143)$ ]] || fail "second replacer: $sb"
	[ "$sa" = 0 ] || [ "$sb" = 0 ] || fail "neither ran to the end"
	# A command ended before its first line leaves none.
	[ "$(wc -l < ran)" -ge $(( (sa == 0) + (sb == 0) )) ]
	assert_file_not_exists inside
	st=0
	wait "$HOLDER" || st=$?
	HOLDER=
	assert_equal "$st" 143
}

# Listen on $1:$2 (IO::Socket::INET, in perl-base), say so on fifo $3,
# then accept each connection and close it at once, printing a line for
# each: a server on a port, not a solo.
SERVE='my ($addr, $port, $ready) = @ARGV; $| = 1;
	my $s = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port,
	    Listen => 128) or die "listen: $!\n";
	open(my $f, ">", $ready) or die "$ready: $!\n";
	print $f "ready\n";
	close $f;
	while (1) { my $c = $s->accept or next; print "accepted\n"; close $c }'

@test "-w on a port held by a server that accepts and closes: a backoff, no busy loop" {
	local srv n
	fifo ready
	perl -MIO::Socket::INET -e "$SERVE" "$ADDR" "$P" "$T/ready" > served 3>&- &
	srv=$!
	OWNERS+=("$srv")
	read -r -t 10 _ <&"$fd_ready"
	run -1 --separate-stderr solo -w 1 "$P" touch ran
	assert_equal "$stderr" "solo: $ADDR:$P is held by pid $srv (perl)"
	# With its second slot held too, --slots waits on both at once.
	hold solo $((P + 1))
	run -1 solo -q -w 1 --slots 2 "$P" touch ran
	release
	assert_file_not_exists ran
	# Knocking again every 20 ms at most: about fifty times a second for
	# each wait.  A busy loop knocks thousands of times.
	n=$(wc -l < served)
	[ "$n" -lt 500 ] || fail "the server accepted $n connections in 2 s"
}

# slot_holders N [SOLO-ARGS...]: N holders of solo --slots N SOLO-ARGS,
# each writing "SLOT PID" on fifo ready once it runs, then waiting for a
# line on its own fifo go.SLOT.  Sets SLOT_PID[SLOT], SOLO_PIDS.
slot_holders() {
	local n=$1 i slot pid
	shift
	fifo ready
	SOLO_PIDS=()
	for ((i = 0; i < n; i++)); do
		mkfifo "go.$i"
		solo --slots "$n" "$@" sh -c 'echo "$SOLO_SLOT $$" > "$1"
			read x < "go.$SOLO_SLOT"' sh "$T/ready" 3>&- &
		SOLO_PIDS+=($!)
		OWNERS+=($!)
	done
	for ((i = 0; i < n; i++)); do
		read -r -t 10 slot pid <&"$fd_ready"
		SLOT_PID[$slot]=$pid
	done
}

@test "--slots N: N copies at once, each told its slot; the next is refused" {
	declare -A SLOT_PID
	slot_holders 3 "$P"
	assert_equal "${!SLOT_PID[*]}" "2 1 0"
	run -1 --separate-stderr solo --slots 3 "$P" touch ran
	assert_equal "$stderr" "solo: $ADDR:$P-$((P + 2)): all 3 slots are held"
	assert_file_not_exists ran
	# Each slot is an ordinary lock.
	run -1 solo --test $((P + 1))
	assert_output "$ADDR:$((P + 1)) is held by pid ${SLOT_PID[1]} (sh)"
	run -1 solo --test --slots 3 "$P"
	assert_output "$ADDR:$P is held by pid ${SLOT_PID[0]} (sh)
$ADDR:$((P + 1)) is held by pid ${SLOT_PID[1]} (sh)
$ADDR:$((P + 2)) is held by pid ${SLOT_PID[2]} (sh)"
	run -0 solo --test --slots 4 "$P"
	assert_line --index 3 "$ADDR:$((P + 3)) is free"
	run -1 --separate-stderr solo --test -q --slots 3 "$P"
	assert_output ''
	echo > go.1
	wait "${SLOT_PID[1]}"
	run -0 solo --slots 3 "$P" sh -c 'echo $SOLO_SLOT'
	assert_output 1
	echo > go.0
	echo > go.2
	wait "${SOLO_PIDS[@]}"
}

@test "--slots N -v: a conflict and a timeout name each slot's holder" {
	declare -A SLOT_PID
	local held
	slot_holders 2 "$P"
	held="solo: $ADDR:$P is held by pid ${SLOT_PID[0]} (sh)
solo: $ADDR:$((P + 1)) is held by pid ${SLOT_PID[1]} (sh)"
	run -1 --separate-stderr solo -v --slots 2 "$P" touch ran
	assert_equal "$stderr" "$held
solo: $ADDR:$P-$((P + 1)): all 2 slots are held"
	run -1 --separate-stderr solo -v -w 0.1 --slots 2 "$P" touch ran
	assert_equal "$stderr" "${held//(sh)/(sh); waiting}
$held
solo: $ADDR:$P-$((P + 1)): all 2 slots are held"
	assert_file_not_exists ran
	echo > go.0
	echo > go.1
	wait "${SOLO_PIDS[@]}"
}

@test "--slots N --abstract -U NAME: names NAME/0 to NAME/N-1" {
	declare -A SLOT_PID
	slot_holders 2 --abstract -U sl
	run -1 --separate-stderr solo --slots 2 --abstract -U sl true
	assert_equal "$stderr" "solo: @solo/$(id -u)/sl/0-1: all 2 slots are held"
	run -1 solo --test --abstract -U sl/1
	assert_output "@solo/$(id -u)/sl/1 is held by pid ${SLOT_PID[1]} (sh)"
	run -0 solo --abstract -U sl true
	echo > go.0
	echo > go.1
	wait "${SOLO_PIDS[@]}"
	run -0 solo --slots 2 --abstract -U sl sh -c 'echo $SOLO_SLOT'
	assert_output 0
}

@test "a waiter on 4 full slots starts within milliseconds of any holder's exit" {
	declare -A SLOT_PID
	slot_holders 4 "$P"
	fifo err
	solo -v -w 10 --slots 4 "$P" sh -c 'date +%s%N > started
		echo $SOLO_SLOT > slot' 2>&"$fd_err" 3>&- &
	waiter=$!
	for i in 0 1 2 3; do
		read -r -t 10 line <&"$fd_err"
		assert_equal "$line" "solo: $ADDR:$((P + i)) is held by pid ${SLOT_PID[$i]} (sh); waiting"
	done
	assert_file_not_exists started
	echo > go.2
	wait "${SLOT_PID[2]}"
	gone=$(date +%s%N)
	wait "$waiter"
	assert_equal "$(cat slot)" 2
	# An event, not a poll: far below any polling interval.
	[ $(( ($(cat started) - gone) / 1000000 )) -lt 500 ]
	echo > go.0
	echo > go.1
	echo > go.3
	wait "${SOLO_PIDS[@]}"
}
