#!/usr/bin/env bats
# The caller's signal state, all three tools: cron, nohup, Python's
# subprocess and CI runners start their children with signals blocked or
# ignored.  Every wait, --max-time, forwarded signal and reaping must work
# whatever the tool inherits, and the command must start with the mask and
# ignored set the caller gave, but for what an option asks for.  Each
# command that might hang is bounded by timeout(1): without the fix, a
# blocked SIGALRM made a wait last as long as the holder.

load helper

setup() {
	lk_setup || return 1
	lockdir || return 1
	P=$((20000 + RANDOM % 10000))
	# A live process to own device locks.
	sleep 60 >/dev/null 2>&1 3>&- &
	OWNER=$!
	OWNERS+=("$OWNER")
}

FWD=HUP,INT,QUIT,TERM,USR1,USR2
ALL=ALRM,CHLD,$FWD
STATES="blocked ignored"

# times_out STATE CMD...: CMD, a tool waiting 0.3 s for a lock held
# elsewhere, started with every signal the tools use in STATE, gives up
# with status 1 (not when the holder goes: it never does) and runs
# nothing.
times_out() {
	local state=$1
	shift
	run -1 as_caller -t 20 "$state" "$ALL" "$@"
	assert_file_not_exists ran
}

# sig_line STATE SIGS: the SigBlk or SigIgn line of a process started with
# SIGS in STATE, to compare with what a command under a tool reports.
sig_line() {
	local field=SigBlk
	[ "$1" = blocked ] || field=SigIgn
	as_caller "$1" "$2" grep "$field" /proc/self/status
}

@test "flockrun -w times out under a blocked or ignored SIGALRM, every lock kind" {
	for state in $STATES; do
		hold flockrun f
		times_out "$state" flockrun -w 0.3 f touch ran
		times_out "$state" flockrun -w 0.3 --also g f touch ran
		times_out "$state" flockrun -w 0.3 --also f g touch ran
		times_out "$state" flockrun -w 0.3 9 9<f
		times_out "$state" flockrun -w 0.3 --fd 9 touch ran 9<f
		release
		for kind in --fcntl --fcntl=posix; do
			hold flockrun "$kind" f
			times_out "$state" flockrun -w 0.3 "$kind" f touch ran
			times_out "$state" flockrun -w 0.3 "$kind" --start 0 --also g f touch ran
			times_out "$state" flockrun -w 0.3 "$kind" --fd 9 touch ran 9<>f
			release
		done
	done
}

@test "solo -w times out under blocked or ignored signals" {
	for state in $STATES; do
		hold solo "$P"
		times_out "$state" solo -q -w 0.3 "$P" touch ran
		release
		hold solo --abstract -U "t$P"
		times_out "$state" solo -q -w 0.3 --abstract -U "t$P" touch ran
		release
		# A private name waits in flock(2), with a timer.
		hold solo --dir "$T/p" -U t
		times_out "$state" solo -q -w 0.3 --dir "$T/p" -U t touch ran
		release
	done
}

@test "lockdev -w times out under blocked or ignored signals, lock file and device flock" {
	for state in $STATES; do
		run -0 lockdev -l -p "$OWNER" /dev/null
		times_out "$state" lockdev -q -w 0.3 -l /dev/null
		times_out "$state" lockdev -q -w 0.3 /dev/null touch ran
		run -0 lockdev -u -p "$OWNER" /dev/null
		hold flock /dev/null
		times_out "$state" lockdev -q -w 0.3 /dev/null touch ran
		release
		assert_equal "$(ls locks | wc -l)" 0
	done
}

@test "--max-time ends the command though the caller blocked or ignored SIGALRM" {
	for state in $STATES; do
		run -142 as_caller -t 20 "$state" ALRM solo --max-time 0.2 "$P" sleep 10
		run -142 as_caller -t 20 "$state" ALRM solo --max-time 0.2 --dir "$T/p" -U t sleep 10
		run -142 as_caller -t 20 "$state" ALRM solo -port="$P" -timeout=0.2 sleep 10
		run -142 as_caller -t 20 "$state" ALRM flockrun --max-time 0.2 f sleep 10
		run -142 as_caller -t 20 "$state" ALRM flockrun -F --max-time 0.2 f sleep 10
		run -142 as_caller -t 20 "$state" ALRM flockrun --max-time 0.2 --fd 9 sleep 10 9<f
	done
}

@test "the command starts with the caller's mask and ignored signals" {
	for state in $STATES; do
		want=$(sig_line "$state" "$ALL")
		[ "$want" != "$(sig_line "$state" '')" ] || fail "as_caller $state did nothing"
		for opts in "" "-F" "-w 5" "-F -w 5" "--fcntl=posix -w 5" "--also g -w 5"; do
			# shellcheck disable=SC2086 # opts are words
			run -0 as_caller "$state" "$ALL" flockrun $opts f grep "${want%%:*}" /proc/self/status
			assert_output "$want"
		done
		run -0 as_caller "$state" "$ALL" solo "$P" grep "${want%%:*}" /proc/self/status
		assert_output "$want"
		run -0 as_caller "$state" "$ALL" solo -w 5 --abstract -U "t$P" grep "${want%%:*}" /proc/self/status
		assert_output "$want"
		# Waiting for a private name arms the timer: all of it undone.
		hold solo --dir "$T/p" -U t
		fifo err
		as_caller "$state" "$ALL" solo -v -w 10 --dir "$T/p" -U t grep "${want%%:*}" /proc/self/status > out 2>&"$fd_err" 3>&- &
		waiter=$!
		read -r -t 10 line <&"$fd_err"
		[[ $line == *"; waiting" ]] || fail "not waiting: $line"
		release
		wait "$waiter"
		assert_equal "$(cat out)" "$want"
		# -w: the device's flock is everyone's; others may hold it a moment.
		run -0 as_caller "$state" "$ALL" lockdev -w 10 /dev/null grep "${want%%:*}" /proc/self/status
		assert_output "$want"
	done
}

@test "with --max-time, only SIGALRM changes for the command" {
	for state in $STATES; do
		want=$(sig_line "$state" "CHLD,$FWD")
		for cmd in "flockrun --max-time 5 f" "flockrun -F --max-time 5 f" \
		    "flockrun -w 5 --max-time 5 f" "solo --max-time 5 $P"; do
			# shellcheck disable=SC2086 # cmd is words
			run -0 as_caller "$state" "$ALL" $cmd grep "${want%%:*}" /proc/self/status
			assert_output "$want"
		done
	done
}

@test "the command is reaped and its status returned with SIGCHLD blocked or ignored" {
	for state in $STATES; do
		run -3 as_caller -t 20 "$state" "$ALL" flockrun f sh -c 'exit 3'
		run -3 as_caller -t 20 "$state" "$ALL" flockrun -w 5 f sh -c 'exit 3'
		run -3 as_caller -t 20 "$state" "$ALL" lockdev -w 10 /dev/null sh -c 'exit 3'
		assert_equal "$(ls locks | wc -l)" 0
	done
}

# forwards STATE SIG TOOL...: TOOL, started with the forwarded signals in
# STATE, passes SIG on to its command.  The command catches them all and
# unblocks them (it started with the caller's mask, so a forwarded signal
# waits there until then), then says it is ready; it ends within 30 s
# whatever happens.
forwards() {
	local state=$1 sig=$2 pid st=0
	shift 2
	fifo ready
	as_caller "$state" "$FWD" "$@" perl -MPOSIX -e '
		my @s = qw(HUP INT QUIT TERM USR1 USR2);
		$SIG{$_} = sub { print "got $_[0]\n"; exit 7 } for @s;
		sigprocmask(SIG_UNBLOCK,
		    POSIX::SigSet->new(map { POSIX->can("SIG$_")->() } @s));
		open(my $f, ">", $ARGV[0]) or die; print $f "$$\n"; close $f;
		sleep 30; exit 9' "$T/ready" > out 3>&- &
	pid=$!
	read -r -t 10 _ <&"$fd_ready" || fail "the command never started"
	# The tool: the perl that as_caller started has become it.
	kill -s "$sig" "$(pgrep -P "$pid")"
	wait "$pid" || st=$?
	assert_equal "$st" 7
	assert_file_contains out "got $sig"
}

@test "forwarded signals reach the command though the caller blocked or ignored them" {
	for state in $STATES; do
		for sig in HUP INT QUIT TERM USR1 USR2; do
			forwards "$state" "$sig" flockrun f
			forwards "$state" "$sig" lockdev -w 10 /dev/null
		done
		assert_equal "$(ls locks | wc -l)" 0
	done
}
