#!/usr/bin/env bats
# Stress: mutual exclusion under load, holders SIGKILLed at random moments,
# stale-lock races, signals during waits and commands.  make check runs it
# small; make stress sets the full sizes through STRESS_* (see Makefile):
# STRESS_PROCS x STRESS_ITERS increments and STRESS_KILLS killed holders
# per lock kind, STRESS_ROUNDS stale-lock races, STRESS_WAITERS waiters
# queued at once on one lock of each kind, STRESS_SLOT_PROCS x
# STRESS_SLOT_ITERS increments through solo --slots 8, STRESS_REPLACES
# races of two solo --replace.
# Every wait is bounded by a tool's -w or a read -t.

load helper

: "${STRESS_PROCS:=4}" "${STRESS_ITERS:=10}" "${STRESS_KILLS:=10}" \
  "${STRESS_ROUNDS:=20}" "${STRESS_WAITERS:=200}" "${STRESS_SLOT_PROCS:=12}" \
  "${STRESS_SLOT_ITERS:=4}" "${STRESS_REPLACES:=5}"

setup() {
	lk_setup || return 1
	lockdir || return 1
	# A port of our own for solo, away from the other test files'.
	PORT=$((30000 + BATS_ROOT_PID % 20000))
}

# kind KIND: set WAIT (take lock KIND, waiting up to 30 s) and NOWAIT
# (take it or fail at once with 1) to command prefixes that run a command.
kind() {
	case $1 in
	flock)	WAIT=(flockrun -w 30 "$T/lk") NOWAIT=(flockrun -n "$T/lk") ;;
	ofd)	WAIT=(flockrun -w 30 --fcntl=ofd "$T/lk")
		NOWAIT=(flockrun -n --fcntl=ofd "$T/lk") ;;
	posix)	WAIT=(flockrun -w 30 --fcntl=posix "$T/lk")
		NOWAIT=(flockrun -n --fcntl=posix "$T/lk") ;;
	solo)	WAIT=(solo -w 30 "$PORT") NOWAIT=(solo "$PORT") ;;
	lockdev) WAIT=(lockdev -w 30 /dev/null) NOWAIT=(lockdev /dev/null) ;;
	esac
}

# Nothing may remain but the lock file flock-style locks keep, and the
# counter: no lock files, no temporary files, no "inside" marker.
assert_nothing_left() {
	assert_equal "$(ls locks)" ""
	local f left=
	for f in "$T"/*; do
		case ${f##*/} in
		locks | lk | count | errors | ready | go | log) ;;
		*) left+=" ${f##*/}" ;;
		esac
	done
	assert_equal "$left" ""
	run -0 "${NOWAIT[@]}" true
}

# workers CMD...: STRESS_PROCS processes each run "CMD... incr $T/count"
# STRESS_ITERS times, adding 1 to the counter under the lock CMD takes,
# and log each failed run in $T/errors; returns once all are done.  It
# uses only its arguments, T and STRESS_*, so that a script in a network
# namespace can define it (declare -f) and run it too.
workers() {
	local w i pids=()
	for ((w = 0; w < STRESS_PROCS; w++)); do
		(
			for ((i = 0; i < STRESS_ITERS; i++)); do
				"$@" incr "$T/count" ||
				    echo "worker $w, round $i: exit $?" >> "$T/errors"
			done
		) 3>&- &
		pids+=($!)
	done
	for w in "${pids[@]}"; do wait "$w"; done
}

# exclusion KIND: the workers under lock KIND; incr exits 99 if it ever
# finds another process inside, and a lost update shows in the count.
exclusion() {
	kind "$1"
	echo 0 > count
	: > errors
	workers "${WAIT[@]}"
	assert_equal "$(cat errors)" ""
	assert_equal "$(cat count)" $((STRESS_PROCS * STRESS_ITERS))
	assert_nothing_left
}

@test "mutual exclusion: flockrun (flock), every increment kept" {
	exclusion flock
}

@test "mutual exclusion: flockrun --fcntl=ofd, every increment kept" {
	exclusion ofd
}

@test "mutual exclusion: flockrun --fcntl=posix, every increment kept" {
	exclusion posix
}

@test "mutual exclusion: solo -w, every increment kept" {
	exclusion solo
}

@test "mutual exclusion: lockdev run mode, every increment kept" {
	exclusion lockdev
}

# With the lock's port inside ip_local_port_range, the waiters' own
# connections are given it as their local port whenever it is free, and
# meet themselves; a waiter that took that for a holder kept the port
# from everyone for a minute.  In a network namespace of its own, with a
# range of 64 ports starting at the lock's.
@test "mutual exclusion: solo -w with its port among the ephemeral ones" {
	need_netns
	kind solo
	echo 0 > count
	: > errors
	T=$T STRESS_PROCS=$STRESS_PROCS STRESS_ITERS=$STRESS_ITERS \
	    run -0 in_netns "$PORT" $((PORT + 63)) "$(declare -f workers)"'
		workers "$@"' "${WAIT[@]}"
	assert_equal "$(cat errors)" ""
	assert_equal "$(cat count)" $((STRESS_PROCS * STRESS_ITERS))
}

# herd KIND: one holder, then STRESS_WAITERS waiters on the same lock,
# each running 30 ms under it and logging its start and end times.  Once
# all say they wait, the holder ends: every waiter must run, none may time
# out, and the lock must never lie free long.
#
# The bound asserted is 1 s between one command's end and the next one's
# start, not the 50 ms we aim at: on this kind of machine (2 CPUs shared
# with other test runs) the gaps measured run to 70-80 ms at their worst,
# from scheduling alone, so a 50 ms bound would fail for the machine's
# sake.  The fault this test is for is coarser: a waiter that cannot queue
# and falls back on TCP's SYN retransmissions (1, 2, 4 ... s) left the lock
# free for seconds, and a wait that gave up or failed outright (too many
# waiters for the listen queue or for inotify) shows as a failure here.
# The gaps' median, p99 and maximum are measured in make bench.
herd() {
	local n=$STRESS_WAITERS w=$((STRESS_WAITERS / 5 + 30)) i p fails=0
	local pids=() lock seen=0 line rest drain dev
	case $1 in
	solo)	lock=(solo -v -w "$w" "$PORT") ;;
	unix)	lock=(solo -v -w "$w" --abstract -U "herd-$BATS_ROOT_PID") ;;
	private) mkdir -m 700 "$T/run"
		lock=(solo -v -w "$w" --private --dir "$T/run" -U herd) ;;
	flock)	lock=(flockrun --verbose -w "$w" "$T/lk") ;;
	lockdev)
		# lockdev flocks the device node too, and /dev/null's flock is
		# every test run's on this machine: as root, a node of our own.
		dev=/dev/null
		if mknod "$T/null" c 1 3 2>/dev/null; then dev=$T/null; fi
		lock=(lockdev -v -w "$w" "$dev") ;;
	esac
	hold "${lock[@]}" 2>/dev/null
	fifo err
	: > log
	for ((i = 0; i < n; i++)); do
		"${lock[@]}" bash -c 'echo "s $EPOCHREALTIME" >> "$1"
			sleep 0.03; echo "e $EPOCHREALTIME" >> "$1"' sh "$T/log" \
		    2>&"$fd_err" 3>&- &
		pids+=($!)
	done
	# Each waiter says "waiting" once it has found the lock held.  With
	# hundreds of children, every fork costs bash dearly: count them
	# with builtins only.  A tool writes its line in two pieces, which
	# others may split: count the words, not the lines.
	while ((seen < n)) && read -r -t 60 line <&"$fd_err"; do
		rest=${line//waiting/}
		seen=$((seen + (${#line} - ${#rest}) / 7))
	done
	# At least n: under heavy load a waiter has once been seen to name
	# a holder twice (/proc being read while hundreds of locks change);
	# what matters here is that every waiter waits before the release.
	[ "$seen" -ge "$n" ] || fail "only $seen of $n waiters said they wait"
	# Keep the fifo drained, so that no waiter blocks on its messages.
	cat <&"$fd_err" > /dev/null 3>&- &
	drain=$!
	OWNERS+=("$drain")
	release
	for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
	assert_equal "failed or timed out: $fails" "failed or timed out: 0"
	run -0 grep -c '^s' log
	assert_output "$n"
	# The longest time the lock lay free between two commands, in ms.
	run -0 awk '$1 == "e" { e = $2 }
		$1 == "s" && e != "" && ($2 - e) * 1000 > max { max = ($2 - e) * 1000 }
		END { printf "%d\n", max }' log
	[ "$output" -lt 1000 ] || fail "the lock lay free for $output ms"
}

@test "many waiters: solo -w on a port, all run, the lock never idle long" {
	herd solo
}

@test "many waiters: solo -w on an abstract -U name, all run, the lock never idle long" {
	herd unix
}

@test "many waiters: solo -w on a private -U name, all run, the lock never idle long" {
	herd private
}

@test "many waiters: flockrun -w, all run, the lock never idle long" {
	herd flock
}

@test "many waiters: lockdev -w, all run, the lock never idle long" {
	herd lockdev
}

# victim TOOL...: run TOOL... in a process group of its own, its command
# saying "x" on fifo held once it holds the lock and then sleeping.  Sets
# VICTIM, the group; returns once the group exists (fifo started), so a
# kill of the group can never miss part of it.
victim() {
	setsid sh -c 'echo x > "$1"; shift; exec "$@"' sh "$T/started" \
	    "$@" sh -c 'echo x > "$1"; exec sleep 30' sh "$T/held" 3>&- &
	VICTIM=$!
	read -r -t 10 _ <&"$fd_started" || fail "a holder never started"
}

# crashes KIND: STRESS_KILLS times, a holder (tool and command, one
# process group) is SIGKILLed: every other round once it holds the lock,
# with a second locker waiting (killed too) and the next waiter already
# queued; in the rounds between, at a random moment 0-9 ms after its
# start, whatever it is doing then.  The lock must never be doubled while
# the holder lives, the next waiter must always get it, and nothing may be
# left behind at the end (lockdev reclaims the stale files).
crashes() {
	kind "$1"
	local k v v2 waiter
	fifo started
	fifo held
	fifo never
	for ((k = 0; k < STRESS_KILLS; k++)); do
		victim "${WAIT[@]}"
		v=$VICTIM
		if ((k % 2 == 0)); then
			read -r -t 10 _ <&"$fd_held" ||
			    fail "round $k: the holder never got the lock"
			run -1 "${NOWAIT[@]}" true
			victim "${WAIT[@]}"
			v2=$VICTIM
			"${WAIT[@]}" true 3>&- &
			waiter=$!
			# v2 dies first: it never gets the lock.
			kill -KILL -- "-$v2" "-$v"
			wait "$v2" "$v" || :
		else
			# A bounded read on a silent fifo: a random pause.
			read -r -t "0.00$((RANDOM % 10))" _ <&"$fd_never" || :
			kill -KILL -- "-$v"
			wait "$v" || :
			# Killed before or after saying it held: forget it.
			# After the kill no member runs again, so none is late.
			while read -r -t 0.001 _ <&"$fd_held"; do :; done
			"${WAIT[@]}" true 3>&- &
			waiter=$!
		fi
		wait "$waiter" || fail "round $k: the next waiter got $?"
	done
	rm -f started held never
	assert_nothing_left
}

@test "crashes: SIGKILLed flockrun (flock) holders never lose or double the lock" {
	crashes flock
}

@test "crashes: SIGKILLed flockrun --fcntl=ofd holders never lose or double the lock" {
	crashes ofd
}

@test "crashes: SIGKILLed flockrun --fcntl=posix holders never lose or double the lock" {
	crashes posix
}

@test "crashes: SIGKILLed solo holders never lose or double the lock" {
	crashes solo
}

@test "crashes: SIGKILLed lockdev holders never lose or double the lock, leave no file" {
	crashes lockdev
}

@test "stale-lock races: 8 lockdev -l per round, exactly one winner each" {
	local i o p round wins pids dead names
	for i in 1 2 3 4 5 6 7 8; do
		sleep 600 >/dev/null 2>&1 3>&- &
		OWNERS+=($!)
	done
	dead=$(dead_pid)
	for ((round = 0; round < STRESS_ROUNDS; round++)); do
		# Builtins where they do: the rounds are many.
		if kill -0 "$dead" 2>/dev/null; then dead=$(dead_pid); fi
		hdb "$dead" > locks/LCK..null
		ln -f locks/LCK..null locks/LCK.001.003
		pids=()
		for o in "${OWNERS[@]}"; do
			lockdev -q -l -p "$o" /dev/null 3>&- &
			pids+=($!)
		done
		wins=0
		for p in "${pids[@]}"; do
			if wait "$p"; then wins=$((wins + 1)); fi
		done
		[ "$wins" -eq 1 ] || fail "round $round: $wins winners"
		[ "$(< locks/LCK..null)" = "$(< locks/LCK.001.003)" ] ||
		    fail "round $round: the two names disagree"
		names=(locks/*)
		[ "${#names[@]}" -eq 2 ] || fail "round $round: ${names[*]}"
	done
}

# signals KIND: SIGINT, SIGTERM and SIGHUP, (a) while the tool waits for
# a held lock: it dies of the signal (the shell sees 128+N), the command
# never runs, and the holder keeps its lock; (b) while its command runs:
# the signal reaches the command, the tool exits 128+N, and the lock is
# free with nothing left behind.  env --default-signal undoes the SIGINT
# ignore that bash gives background jobs, and the ignore of any signal
# sent here that the suite itself inherited (nohup ignores SIGHUP).
signals() {
	kind "$1"
	local sig num pid rc line
	for sig in INT TERM HUP; do
		num=$(kill -l "$sig")
		hold "${NOWAIT[@]}"
		fifo log
		env --default-signal=INT,TERM,HUP "${WAIT[0]}" --verbose "${WAIT[@]:1}" \
		    touch "$T/ran" 2>"$T/log" 3>&- &
		pid=$!
		read -r -t 10 line <&"$fd_log" || fail "$sig: no wait reported"
		[[ $line == *waiting* ]] || fail "$sig: $line"
		kill -"$sig" "$pid"
		rc=0; wait "$pid" || rc=$?
		assert_equal "$sig while waiting: $rc" "$sig while waiting: $((128 + num))"
		assert_file_not_exists "$T/ran"
		run -1 "${NOWAIT[@]}" true	# the holder still holds
		release
		assert_nothing_left

		fifo ready
		env --default-signal=INT,TERM,HUP "${WAIT[@]}" sh -c \
		    'echo $$ > "$1"; exec sleep 30' sh "$T/ready" 3>&- &
		pid=$!
		read -r -t 10 line <&"$fd_ready" || fail "$sig: command never ran"
		kill -"$sig" "$pid"
		rc=0; wait "$pid" || rc=$?
		assert_equal "$sig in the command: $rc" "$sig in the command: $((128 + num))"
		run kill -0 "$line"
		assert_failure	# the command is gone too
		rm -f ready log
		assert_nothing_left
	done
}

@test "signals: flockrun dies cleanly waiting, forwards to its command" {
	signals flock
}

@test "signals: flockrun --fcntl=posix dies cleanly waiting, forwards to its command" {
	signals posix
}

@test "signals: the same when the suite runs with SIGHUP ignored (nohup)" {
	trap '' HUP
	signals flock
}

@test "signals: solo dies cleanly waiting; its command is the process" {
	signals solo
}

@test "signals: lockdev dies cleanly waiting, forwards and unlocks after its command" {
	signals lockdev
}

# STRESS_SLOT_PROCS processes each take one of 8 slots STRESS_SLOT_ITERS
# times and add 1 to that slot's counter, count.SLOT, with incr: a second
# process in one slot makes incr exit 99.  Each also leaves a mark in in/
# while it holds its slot and counts the marks: more than 8 at once shows
# in over.  Every increment must be kept, in counters 0 to 7 only.
@test "solo --slots 8: never more than 8 inside, never two in one slot, every increment kept" {
	local w i pids=() sum=0 f
	mkdir in
	: > errors
	for ((w = 0; w < STRESS_SLOT_PROCS; w++)); do
		(
			for ((i = 0; i < STRESS_SLOT_ITERS; i++)); do
				solo -w 60 --slots 8 "$PORT" sh -c '
					: > "$1/in/$$"; set -- "$1" "$1"/in/*
					[ $# -le 9 ] || echo $(($# - 1)) >> "$1/over"
					incr "$1/count.$SOLO_SLOT"; r=$?
					rm "$1/in/$$"; exit $r' sh "$T" ||
				    echo "worker $w, round $i: exit $?" >> errors
			done
		) 3>&- &
		pids+=($!)
	done
	for w in "${pids[@]}"; do wait "$w"; done
	assert_equal "$(cat errors)" ""
	assert_file_not_exists over
	for f in count.*; do
		[[ $f =~ ^count\.[0-7]$ ]] || fail "a slot outside 0 to 7: $f"
		sum=$((sum + $(cat "$f")))
	done
	assert_equal "$sum" $((STRESS_SLOT_PROCS * STRESS_SLOT_ITERS))
	assert_equal "$(ls in)" ""
	run -0 solo --test --slots 8 "$PORT"
}

# STRESS_REPLACES rounds: a holder, then two solo --replace at once.  Each
# command marks itself inside (noclobber) and clears the mark when done
# or ended (SIGTERM); a second one inside exits 99.
@test "solo --replace races: never two inside, the holder always ended" {
	local k a b sa sb st cmd
	cmd='trap "rm -f inside; exit 143" TERM; set -C
		: > inside || exit 99; sleep 0.05 & wait $!; rm inside'
	for ((k = 0; k < STRESS_REPLACES; k++)); do
		hold solo "$PORT"
		solo --replace "$PORT" sh -c "$cmd" 3>&- &
		a=$!
		solo --replace "$PORT" sh -c "$cmd" 3>&- &
		b=$!
		sa=0 sb=0 st=0
		wait "$a" || sa=$?
		wait "$b" || sb=$?
		wait "$HOLDER" || st=$?
		[ "$st" = 143 ] || fail "round $k: the holder ended with $st"
		[[ "$sa $sb" =~ ^(0|143)\ (0|143)$ ]] ||
		    fail "round $k: the replacers ended with $sa and $sb"
		[ "$sa" = 0 ] || [ "$sb" = 0 ] || fail "round $k: neither ran"
		assert_file_not_exists inside
	done
	HOLDER=
}
