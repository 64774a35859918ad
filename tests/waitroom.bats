#!/usr/bin/env bats
# solo -w's waiting room: waiters on a port or an abstract name line up
# in a unix socket's accept queue, "@solo-queue/tcp/UID/ADDR:PORT" or
# "@solo-queue/UID/NAME", and only the first (the head) watches the
# lock.  /proc/net/unix shows the room: its listener, and one line for
# each queued connection, so "N lines" means N waiters have joined, each
# one in its place (room_lines, in helper.bash).

load helper

setup() {
	lk_setup || return 1
	P=$((20000 + RANDOM % 10000))
	ADDR=$(uid_addr "$(id -u)")
	NAME=wr$P-$BATS_ROOT_PID
	PIDS=()
}

teardown() {
	if [ "${#PIDS[@]}" -gt 0 ]; then
		# A stopped waiter, as one test leaves its head, dies too.
		kill "${PIDS[@]}" 2>/dev/null || :
		kill -CONT "${PIDS[@]}" 2>/dev/null || :
	fi
	lk_teardown
}

# uid_addr UID: the per-user address 127.A.B.1.
uid_addr() {
	echo "127.$(( ($1 >> 8) & 255 )).$(( $1 & 255 )).1"
}

# lock_of KIND: the solo options for a lock of KIND (port or name), in
# LOCK; ROOM gets its waiting room's name as /proc/net/unix shows it.
lock_of() {
	case $1 in
	port)	LOCK=("$P")
		ROOM=@solo-queue/tcp/$(id -u)/$ADDR:$P ;;
	name)	LOCK=(--abstract -U "$NAME")
		ROOM=@solo-queue/$(id -u)/$NAME ;;
	esac
}

# room_inode: the inode of the room's listener (0 if none).
room_inode() {
	awk -v r="$ROOM" '$NF == r && $4 == "00010000" { i = $7; exit }
		END { print i + 0 }' /proc/net/unix
}

# waiter SECS TAG: solo -w SECS on LOCK in the background, its command
# appending TAG to log; its pid appended to PIDS.
waiter() {
	solo -w "$1" "${LOCK[@]}" sh -c 'echo "$1" >> log' sh "$2" 3>&- &
	PIDS+=($!)
}

# timed_out I: waiter PIDS[I] gave up, with status 1; forget it.
timed_out() {
	local st=0
	wait "${PIDS[$1]}" || st=$?
	assert_equal "timed out: $st" "timed out: 1"
	unset "PIDS[$1]"
}

# all_ran TAGS [sorted]: release the holder; every waiter left in PIDS
# runs its command (status 0), the log holds TAGS in the order they ran
# (sorted: in any order), and nothing of the room is left.
all_ran() {
	local p
	release
	for p in "${PIDS[@]}"; do wait "$p"; done
	PIDS=()
	if [ "${2:-}" = sorted ]; then sort -o log log; fi
	assert_equal "$(paste -sd ' ' log)" "$1"
	assert_equal "room left: $(room_lines)" "room left: 0"
}

# in_order KIND: K waiters, each started once the one before is queued,
# run in the order they came.
in_order() {
	local i
	lock_of "$1"
	hold solo "${LOCK[@]}"
	for i in 1 2 3 4 5 6; do
		waiter 20 "$i"
		room_has "$i"
	done
	all_ran "1 2 3 4 5 6"
}

@test "solo -w on a port: waiters take the lock in the order they came" {
	in_order port
}

@test "solo -w on an abstract name: waiters take the lock in the order they came" {
	in_order name
}

@test "solo -w: a port and an abstract name spelt as its address have rooms of their own" {
	local port_room
	fifo portheld
	solo "$P" sh -c 'echo x > "$1"; exec sleep 60' sh "$T/portheld" 3>&- &
	OWNERS+=($!)
	read -r -t 10 _ <&"$fd_portheld"
	lock_of port
	port_room=$ROOM
	waiter 20 port
	room_has 1
	NAME=$ADDR:$P
	lock_of name
	hold solo "${LOCK[@]}"
	waiter 20 name
	# The name's waiter heads a room of its own, watching its own lock.
	room_has 1
	ROOM=$port_room room_has 1
	release
	wait "${PIDS[1]}"
	assert_equal "$(cat log)" name
	kill "${OWNERS[@]}"
	wait "${PIDS[0]}"
	PIDS=()
	assert_equal "$(paste -sd ' ' log)" "name port"
}

@test "solo -w: with the head SIGKILLed, every other waiter still runs" {
	local i
	lock_of port
	hold solo "${LOCK[@]}"
	waiter 20 head
	room_has 1
	for i in 2 3 4; do waiter 20 "$i"; done
	room_has 4
	kill -KILL "${PIDS[0]}"
	wait "${PIDS[0]}" || :
	unset "PIDS[0]"
	# The room went with its head: the others make a new one.
	room_has 3
	all_ran "2 3 4" sorted
}

@test "solo -w: with the head stopped (SIGSTOP), every other waiter still runs" {
	local i
	lock_of port
	hold solo "${LOCK[@]}"
	waiter 60 head
	room_has 1
	kill -STOP "${PIDS[0]}"
	for i in 1 2 3 4 5 6 7 8; do waiter 20 "$i"; done
	room_has 9
	# Nobody watches the lock: the queued waiters' own rechecks find it
	# free, one after another, each well within its 20 s.
	release
	for i in 1 2 3 4 5 6 7 8; do wait "${PIDS[$i]}"; done
	kill -CONT "${PIDS[0]}"
	wait "${PIDS[0]}"
	PIDS=()
	assert_equal "$(sort log | paste -sd ' ')" "1 2 3 4 5 6 7 8 head"
	assert_equal "room left: $(room_lines)" "room left: 0"
}

@test "solo -w: a queued waiter that times out leaves the room to the others" {
	local ino
	lock_of name
	hold solo "${LOCK[@]}"
	waiter 20 first
	room_has 1
	ino=$(room_inode)
	waiter 1 gives-up
	room_has 2
	waiter 20 last
	room_has 3
	timed_out 1
	# Still the same room, with the same head.
	assert_equal "room: $(room_inode)" "room: $ino"
	all_ran "first last"
}

@test "solo -w: a head that times out hands the room to the next waiter" {
	local ino
	lock_of port
	hold solo "${LOCK[@]}"
	waiter 1 gives-up
	room_has 1
	ino=$(room_inode)
	waiter 20 next
	room_has 2
	timed_out 0
	# The same listener, now the next waiter's: handed on, not made
	# anew (its queued connection was accepted and closed).
	room_has 1
	assert_equal "room: $(room_inode)" "room: $ino"
	all_ran next
}

@test "solo -w: the command gets the lock's socket and no part of the room" {
	lock_of port
	hold solo "${LOCK[@]}"
	solo -w 20 "${LOCK[@]}" sh -c 'ls -l /proc/$$/fd | grep -c socket: > n;
	    grep -c -- "$1\$" /proc/net/unix > room || :' sh "$ROOM" 3>&- &
	PIDS+=($!)
	room_has 1
	release
	wait "${PIDS[0]}"
	PIDS=()
	assert_equal "sockets: $(cat n), room: $(cat room)" "sockets: 1, room: 0"
}
