#!/usr/bin/env bats
# solo --etcd against a real etcd: members on 127.0.0.1 with free ports and
# data directories under bats's temporary directories, stopped in teardown.
# One member serves the whole file ($E), each test with a lock name of its
# own; the tests that need a cluster, TLS or authentication start their
# own members.  Every wait is bounded by a tool's -w, a read -t or
# wait_until.

load helper

export ETCDCTL_API=3

# The helper solo execs, from the build under test.
export LOCKKIT_LIBEXECDIR=$LOCKKIT_BIN

# free_port VAR: set VAR to a TCP port on 127.0.0.1 that nothing listens
# on and that no earlier call in this test gave (a member binds its ports
# only once all are chosen), below the ephemeral range (32768 up), where
# an outgoing connection's local end could take it meanwhile.
free_port() {
	local -n fp_var=$1
	local fp fp_i
	for ((fp_i = 0; fp_i < 100; fp_i++)); do
		fp=$((20000 + RANDOM % 12000))
		[[ " ${GIVEN_PORTS:-} " == *" $fp "* ]] && continue
		if [ -z "$(ss -Htln "sport = :$fp")" ]; then
			GIVEN_PORTS+=" $fp"
			# shellcheck disable=SC2034 # the caller's variable
			fp_var=$fp
			return 0
		fi
	done
	return 1
}

# member NAME CPORT PPORT CLUSTER DIR [ETCD-ARG...]: start etcd member NAME
# in the background (data in DIR/NAME, log DIR/NAME.log) and print its pid.
# Short heartbeat and election times, so that a cluster recovers from a
# lost member in well under a second.  SCHEME (http) is the client URLs'.
member() {
	local name=$1 cport=$2 pport=$3 cluster=$4 dir=$5
	shift 5
	etcd --name "$name" --data-dir "$dir/$name" \
		--listen-client-urls "${SCHEME:-http}://127.0.0.1:$cport" \
		--advertise-client-urls "${SCHEME:-http}://127.0.0.1:$cport" \
		--listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--heartbeat-interval 50 --election-timeout 500 "$@" \
		>"$dir/$name.log" 2>&1 3>&- &
	echo $!
}

# within SECS CMD...: wait_until for checks that take a while themselves
# (etcdctl starts in some 30 ms): bounded by the clock, not a count.
within() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS <= end)); do
		"$@" && return 0
		pause 0.01
	done
	return 1
}

# healthy ENDPOINT [ETCDCTL-ARG...]: the member answers and has a leader.
healthy() {
	local ep=$1
	shift
	etcdctl --endpoints "$ep" "$@" --dial-timeout 1s endpoint health \
		>/dev/null 2>&1
}

# one_member DIR [ETCD-ARG...]: start a one-member cluster, wait until it
# is healthy; sets EP (its client URL) and MPID.  A port someone took in
# the meantime fails the start: try again with others.
one_member() {
	local dir=$1 c p try
	shift
	for ((try = 0; try < 3; try++)); do
		free_port c && free_port p || return 1
		EP=${SCHEME:-http}://127.0.0.1:$c
		MPID=$(member m0 "$c" "$p" "m0=http://127.0.0.1:$p" "$dir" "$@")
		if within 10 healthy "$EP" "${CTLARGS[@]}"; then
			return 0
		fi
		kill "$MPID" 2>/dev/null
		wait "$MPID" 2>/dev/null
		rm -rf "$dir/m0"
	done
	echo "etcd did not start: $(tail -5 "$dir/m0.log")"
	return 1
}

setup_file() {
	if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
		skip "etcd and etcdctl not installed (make deps)"
	fi
	CTLARGS=()
	one_member "$BATS_FILE_TMPDIR" || return 1
	export E=$EP ETCD_PID=$MPID
}

teardown_file() {
	if [ -n "${ETCD_PID:-}" ]; then
		kill "$ETCD_PID" 2>/dev/null
		wait_until 10 eval '! kill -0 "$ETCD_PID" 2>/dev/null'
	fi
}

setup() {
	lk_setup
	N=t$BATS_TEST_NUMBER	# this test's lock name
	MEMBERS=()
	PROXIES=()
	CTLARGS=()
}

teardown() {
	lk_teardown
	local m
	# A proxy's group, stopped or not (SIGKILL ends a stopped process).
	for m in "${PROXIES[@]}"; do
		kill -9 -- "-$m" 2>/dev/null
	done
	for m in "${MEMBERS[@]}"; do
		kill -9 "$m" 2>/dev/null
		wait "$m" 2>/dev/null
	done
	return 0
}

ctl() {
	etcdctl --endpoints "$E" "$@"
}

# keys NAME: the keys under NAME/, one a line.
keys() {
	ctl get --prefix --keys-only "$1/" | sed '/^$/d'
}

# leases: every lease etcd has, in hex, sorted.
leases() {
	ctl lease list | sed 1d | sort
}

# lease_count ID: how many of etcd's leases are ID, in hex as in a lock's
# key (no leading zeros, where etcdctl lease list pads to 16 digits).
lease_count() {
	leases | sed 's/^0*//' | grep -cx "$1"
}

# queued NAME COUNT: NAME/ has COUNT keys (holder and waiters).
queued() {
	[ "$(keys "$1" | wc -l)" -eq "$2" ]
}

# fence_of NAME: the create revision of the first key under NAME/.
fence_of() {
	ctl get --prefix "$1/" -w fields |
		awk '$1 == "\"CreateRevision\"" { print $3; exit }'
}

# reap PID STATUS: wait for background job PID, which must exit STATUS.
reap() {
	local st=0
	wait "$1" || st=$?
	assert_equal "$st" "$2"
}

# on_host HOST CMD...: CMD in a UTS namespace with host name HOST, so that
# solo's holder records show two "hosts".  It execs: call it only as a
# background job or in a subshell.
on_host() {
	local h=$1
	shift
	exec unshare -u sh -c 'hostname "$0" && exec "$@"' "$h" "$@"
}

need_uts() {
	need_ns "a UTS namespace" unshare -u hostname lk-probe
}

@test "etcd: conflict names the holder, exits 1 or -E, and leaves nothing" {
	hold solo --etcd "$E" -U "$N"
	local before
	before=$(leases)
	run -1 --separate-stderr solo --etcd "$E" -U "$N" touch ran
	assert_output ''
	local re
	re="^solo: $N is held by pid $HOLDER \\(sh\\) on $(hostname) since "
	re+='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC$'
	[[ $stderr =~ $re ]] || fail "stderr: $stderr"
	assert_file_not_exists ran
	run -3 solo --etcd "$E" -E 3 -U "$N" true
	run -1 solo --etcd "$E" -q -U "$N" true
	assert_output ''
	# Only the holder's key and lease.
	assert_equal "$(keys "$N" | wc -l)" 1
	assert_equal "$(leases)" "$before"
	release
	assert_equal "$(keys "$N")" ''
}

@test "etcd: a holder record with control characters is shown with '?'" {
	# JSON escapes: a newline that would forge a second line, and ESC.
	ctl put "$N/1" '{"host":"h\nsolo: forged","pid":1,"cmd":"c\u001b[2J","start":"s\t"}' >/dev/null
	local shown="$N is held by pid 1 (c?[2J) on h?solo: forged since s?"
	run -1 --separate-stderr solo --etcd "$E" -U "$N" true
	assert_equal "$stderr" "solo: $shown"
	run -1 --separate-stderr solo --etcd "$E" --test -U "$N"
	assert_output "$shown"
	ctl del "$N/1" >/dev/null
	ctl put "$N/$(printf 'k\033[1m\001')" 'not json' >/dev/null
	run -1 --separate-stderr solo --etcd "$E" --test -U "$N"
	assert_output "$N is held by lease 0 (key $N/k?[1m?, not solo's: no holder named)"
	ctl del --prefix "$N/" >/dev/null
}

@test "etcd: the key names its holder for etcdctl get --prefix" {
	hold solo --etcd "$E" -U "$N"
	run -0 ctl get --prefix --print-value-only "$N/"
	assert_output --regexp "^\{\"host\":\"$(hostname)\",\"pid\":$HOLDER,\"cmd\":\"sh\",\"uid\":$(id -u),\"start\":\"[0-9-]+ [0-9:]+ UTC\"\}$"
	run -0 keys "$N"
	assert_output --regexp "^$N/[0-9a-f]+$"
	release
}

@test "etcd: --test exits 0 when free, 1 naming the holder on stdout" {
	run -0 --separate-stderr solo --etcd "$E" --test -U "$N"
	assert_output ''
	assert_equal "$stderr" ''
	hold solo --etcd "$E" -U "$N"
	run -1 --separate-stderr solo --etcd "$E" --test -U "$N"
	assert_output --regexp "^$N is held by pid $HOLDER \(sh\) on $(hostname) since .* UTC$"
	assert_equal "$stderr" ''
	run -4 solo --etcd "$E" --test -q -E 4 -U "$N"
	assert_output ''
	release
	run -0 solo --etcd "$E" --test -U "$N"
}

@test "etcd: the command's status, signals and SOLO_FENCE; no extra fd or child" {
	run -7 solo --etcd "$E" -U "$N" sh -c 'exit 7'
	run -0 solo --etcd "$E" -U "$N" sh -c 'echo "$SOLO_FENCE"
		etcdctl --endpoints "$1" get --prefix "$2/" -w fields' sh "$E" "$N"
	local fence=${lines[0]}
	assert_line "\"CreateRevision\" : $fence"
	# The command inherits what solo was given, and nothing of ours.
	run -0 solo --etcd "$E" -U "$N" sh -c 'ls /proc/$$/fd'
	assert_output "$(sh -c 'ls /proc/$$/fd')"
	run -142 solo --etcd "$E" --max-time 0.1 -U "$N" sleep 10
	# Also where the caller blocked or ignored SIGALRM (cron, Python).
	run -142 as_caller -t 20 blocked ALRM solo --etcd "$E" --max-time 0.1 \
		-U "$N" sleep 10
	run -142 as_caller -t 20 ignored ALRM solo --etcd "$E" --max-time 0.1 \
		-U "$N" sleep 10
	# solo is the command's parent: a bare "wait" in it has nothing to
	# wait for, and signals sent to solo reach it.
	hold solo --etcd "$E" -U "$N"
	assert_equal "$(ps -o ppid= "$HELD" | tr -d ' ')" "$HOLDER"
	assert_equal "$(ps -o pid= --ppid "$HELD")" ''
	kill -USR1 "$HOLDER"
	reap "$HOLDER" 138
	HOLDER=''
	assert_equal "$(keys "$N")" ''
}

@test "etcd: endpoints from SOLO_ETCD_ENDPOINTS; a dead endpoint is skipped" {
	local dead
	free_port dead
	SOLO_ETCD_ENDPOINTS=$E run -0 solo --etcd '' -U "$N" echo ok
	assert_output ok
	run -0 solo --etcd "http://127.0.0.1:$dead,$E" -U "$N" echo ok
	assert_output ok
	run -0 solo --etcd "http://127.0.0.1:$dead,$E" --test -U "$N"
}

# etcd_proxy PORTVAR PIDVAR: a TCP proxy to $E on a free port, listening
# when this returns; its pid, added to OWNERS, leads a process group of
# its own (setsid), so that killing or stopping the group reaches its
# connections too.
etcd_proxy() {
	local -n ep_port=$1 ep_pid=$2
	free_port ep_port || return 1
	setsid socat "TCP-LISTEN:$ep_port,bind=127.0.0.1,fork,reuseaddr" \
		"TCP:${E#http://}" 3>&- &
	ep_pid=$!
	OWNERS+=("$ep_pid")
	PROXIES+=("$ep_pid")
	wait_until 10 eval '[ -n "$(ss -Htln "sport = :$ep_port")" ]'
}

# fake_http VAR STATUS: serve every request on a free port with an HTTP
# answer STATUS and an empty body (a proxy's 502, a 404); set VAR to its
# URL.  socat is stopped in teardown.
fake_http() {
	local -n fh_var=$1
	local port script
	free_port port || return 1
	script=$BATS_TEST_TMPDIR/http$port
	printf '%s\n' \
		"printf 'HTTP/1.1 $2\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n'" \
		'exec cat >/dev/null' >"$script"
	socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
		EXEC:"sh $script" 3>&- &
	MEMBERS+=($!)
	wait_until 10 eval "[ -n \"\$(ss -Htln 'sport = :$port')\" ]" || return 1
	# shellcheck disable=SC2034 # the caller's variable
	fh_var=http://127.0.0.1:$port
}

@test "etcd: an endpoint answering with an empty body is skipped" {
	local b502 b404
	fake_http b502 '502 Bad Gateway'
	fake_http b404 '404 Not Found'
	run -0 solo --etcd "$b502,$b404,$E" -U "$N" echo ok
	assert_output ok
	run -0 solo --etcd "$b404,$E" --test -U "$N"
	run -75 --separate-stderr solo --etcd "$b502,$b404" -U "$N" touch ran
	assert_file_not_exists ran
	[[ $stderr == *"$b502"*"$b404"* ]] || fail "stderr: $stderr"
}

@test "etcd: -w waits, and the lock passes from one host to the other" {
	need_uts
	hold on_host alpha solo --etcd "$E" -U "$N"
	local fa
	fa=$(fence_of "$N")
	on_host beta solo --etcd "$E" -v -w 20 -U "$N" \
		sh -c 'echo "$(hostname) $SOLO_FENCE"' >out 2>err &
	local w=$!
	OWNERS=("$w")
	within 10 queued "$N" 2
	run -0 cat err
	assert_output --regexp "^solo: $N is held by pid $HOLDER \(sh\) on alpha since .* UTC; waiting$"
	assert_file_empty out
	release
	reap "$w" 0
	run -0 cat out
	local host fb
	read -r host fb <out
	assert_equal "$host" beta
	((fb > fa))
	assert_equal "$(keys "$N")" ''
}

@test "etcd: solo and etcdctl lock exclude each other, both ways" {
	fifo eready
	fifo ego
	timeout 30 etcdctl --endpoints "$E" lock "$N" -- \
		sh -c 'echo x > "$1"; read x < "$2"' sh "$T/eready" "$T/ego" 3>&- &
	local ectl=$!
	OWNERS=("$ectl")
	read -r -t 10 _ <&"$fd_eready"
	run -1 solo --etcd "$E" -U "$N" true
	assert_output --regexp "^solo: $N is held by lease [0-9a-f]+ \(key $N/[0-9a-f]+, not solo's: no holder named\)$"
	solo --etcd "$E" -w 20 -U "$N" touch solo-ran &
	local s=$!
	OWNERS+=("$s")
	within 10 queued "$N" 2
	assert_file_not_exists solo-ran
	echo go >&"$fd_ego"
	reap "$ectl" 0
	reap "$s" 0
	assert_file_exists solo-ran

	hold solo --etcd "$E" -U "$N"
	timeout 30 etcdctl --endpoints "$E" lock "$N" touch ctl-ran &
	ectl=$!
	OWNERS+=("$ectl")
	within 10 queued "$N" 2
	assert_file_not_exists ctl-ran
	release
	reap "$ectl" 0
	assert_file_exists ctl-ran
	assert_equal "$(keys "$N")" ''
}

@test "etcd: 8 processes x 100 increments from two hosts, fences increasing" {
	local iters=${ETCD_ITERS:-100} h w pids=() hosts=(alpha beta)
	# Two "hosts" where UTS namespaces may be made, else one.
	if [ "$(id -u)" = 0 ] && unshare -u true 2>/dev/null; then
		run_as() { on_host "$@"; }
	else
		run_as() { shift; "$@"; }
	fi
	for h in "${hosts[@]}"; do
		for ((w = 0; w < 4; w++)); do
			run_as "$h" bash -c 'for ((i = 0; i < $1; i++)); do
				solo --etcd "$2" -w 60 -U "$3" sh -c \
				    '\''incr "$1" && echo "$SOLO_FENCE" >> "$2"'\'' \
				    sh count fences || echo "$?" >> errors
			done' bash "$iters" "$E" "$N" &
			pids+=($!)
		done
	done
	OWNERS=("${pids[@]}")
	for w in "${pids[@]}"; do
		wait "$w"
	done
	assert_file_not_exists errors
	assert_equal "$(cat count)" $((8 * iters))
	assert_equal "$(wc -l <fences)" $((8 * iters))
	# Strictly increasing, in the order the holders wrote them.
	run -0 sort -n -u -c fences
	assert_equal "$(keys "$N")" ''
}

# cluster3 DIR: start members m1, m2, m3 (data and logs in DIR), wait
# until all are healthy; their pids go to MEMBERS, their client URLs to
# CEPS[1..3].
cluster3() {
	local d=$1 i c=() p=() cluster=''
	mkdir "$d"
	CEPS=()
	for i in 1 2 3; do
		free_port "c[$i]" && free_port "p[$i]" || return 1
		CEPS[i]=http://127.0.0.1:${c[i]}
		cluster+=${cluster:+,}m$i=http://127.0.0.1:${p[i]}
	done
	for i in 1 2 3; do
		MEMBERS+=("$(member "m$i" "${c[i]}" "${p[i]}" "$cluster" "$d")")
	done
	# Bounded generously: on a machine under heavy load a member has
	# been seen to take over 10 s to open its database.
	for i in 1 2 3; do
		within 40 healthy "${CEPS[i]}" ||
			fail "member m$i did not start: $(tail -3 "$d/m$i.log")"
	done
}

@test "etcd: 3 members: killing the one the holder talks to keeps the lock" {
	local eps
	cluster3 "$T/cluster"
	eps=${CEPS[1]},${CEPS[2]},${CEPS[3]}
	# A TTL that leaves a loaded machine time to elect a new leader
	# (SIGTERM would come 3 s after the last keep-alive).
	hold solo --etcd "$eps" --ttl 5 -U "$N" 2>err
	kill -9 "${MEMBERS[0]}"
	# More than a TTL without m1: keep-alives must have gone to m2 or m3.
	pause 6
	kill -0 "$HOLDER" || fail "the holder ended: $(cat err)"
	run -1 solo --etcd "${CEPS[2]}" --test -U "$N"
	assert_output --regexp "^$N is held by pid $HOLDER "
	release
	run -0 solo --etcd "${CEPS[3]}" --test -U "$N"
}

# follower_first: CEPS reordered, a member that is not the leader first,
# into FEPS (comma-separated); its pid in FPID.
follower_first() {
	local i
	for i in 1 2 3; do
		if etcdctl --endpoints "${CEPS[i]}" endpoint status -w simple |
			grep -q ', false, false,'; then
			FPID=${MEMBERS[i - 1]}
			FEPS=${CEPS[i]}
			local j
			for j in 1 2 3; do
				((j == i)) || FEPS+=,${CEPS[j]}
			done
			return 0
		fi
	done
	return 1
}

@test "etcd: 3 members, --ttl 3: a hung member the holder talks to keeps the lock" {
	cluster3 "$T/cluster"
	follower_first || fail "no follower: $(etcdctl --endpoints \
		"${CEPS[1]}" endpoint status --cluster)"
	# A follower, so no election is needed: keep-alives that give up on
	# the hung member in time go to the next one and succeed.
	hold solo --etcd "$FEPS" --ttl 3 -U "$N" 2>err
	kill -STOP "$FPID"
	# More than a TTL: keep-alives must have gone to the others, and
	# the command must not have been stopped.
	pause 4
	kill -CONT "$FPID"
	kill -0 "$HOLDER" || fail "the holder ended: $(cat err)"
	kill -0 "$HELD" || fail "the command was stopped: $(cat err)"
	assert_file_empty err
	release
}

@test "etcd: a holder whose member died says so, naming it" {
	local d=$T/dies
	mkdir "$d"
	one_member "$d"
	MEMBERS+=("$MPID")
	solo --etcd "$EP" --ttl 2 -U "$N" sleep 30 2>err &
	local h=$!
	OWNERS+=("$h")
	within 10 eval '[ -n "$(etcdctl --endpoints "$EP" get --prefix \
		--keys-only "$N/")" ]'
	kill -9 "$MPID"
	reap "$h" 75
	run -0 cat err
	assert_equal "${#lines[@]}" 1
	assert_output --regexp "^solo: $N: lock lost: no keep-alive for [0-9]+ ms; stopping the command: $EP: .*onnect.*$"
}

@test "etcd: a holder stopped past its deadline stops the command and says why" {
	solo --etcd "$E" --ttl 2 -U "$N" sleep 30 2>err &
	local h=$!
	OWNERS=("$h")
	within 10 queued "$N" 1
	kill -STOP "$h"
	# Past 0.6 TTL (1.2 s) since the last keep-alive, which came at most
	# a third of the TTL before the stop.
	pause 1.5
	kill -CONT "$h"
	reap "$h" 75
	run -0 cat err
	assert_output --regexp "^solo: $N: lock lost: no keep-alive for [0-9]+ ms; stopping the command: none was sent in time \(solo was stopped or starved of CPU\)$"
}

@test "etcd: a waiter cut off from etcd says so in one line naming the lock" {
	local pp proxy
	# The waiter reaches etcd through a proxy, which SIGSTOP hangs.
	etcd_proxy pp proxy
	hold solo --etcd "$E" -U "$N"
	solo --etcd "http://127.0.0.1:$pp" --ttl 2 -w 30 -U "$N" touch ran \
		2>err &
	local w=$!
	OWNERS+=("$w")
	within 10 queued "$N" 2
	kill -STOP -- "-$proxy"
	reap "$w" 75
	kill -CONT -- "-$proxy"
	run -0 cat err
	assert_equal "${#lines[@]}" 1
	assert_output --regexp "^solo: $N: etcd unavailable: http://127.0.0.1:$pp: .* \(our lease expires within 2 s\)$"
	assert_file_not_exists ran
	release
}

@test "etcd: a holder cut off from etcd is stopped before the next one starts" {
	command -v socat >/dev/null || skip "socat not installed (make deps)"
	local pp proxy
	# The holder reaches etcd through a proxy.
	etcd_proxy pp proxy
	mkfifo never
	# A writes its fence and the time every 5 ms until stopped; B once.
	solo --etcd "http://127.0.0.1:$pp" --ttl 2 -U "$N" bash -c '
		exec 4<>never
		while :; do
			echo "A $SOLO_FENCE $EPOCHREALTIME" >> log
			read -r -t 0.005 -u 4 _
		done' 2>a.err &
	local a=$!
	OWNERS+=("$a")
	wait_until 10 test -s log
	solo --etcd "$E" -w 20 -U "$N" \
		bash -c 'echo "B $SOLO_FENCE $EPOCHREALTIME" >> log' &
	local b=$!
	OWNERS+=("$b")
	within 10 queued "$N" 2
	kill -- -"$proxy"
	reap "$a" 75
	reap "$b" 0
	run -0 cat a.err
	assert_output --regexp "^solo: $N: lock lost: no keep-alive for [0-9]+ ms; stopping the command: .+"
	assert_equal "${#lines[@]}" 1 || fail "$output"
	# B started after A's last act, with a larger fence.
	local lastA firstB
	lastA=$(grep '^A ' log | tail -1)
	firstB=$(grep '^B ' log)
	assert [ -n "$firstB" ]
	assert_equal "$(tail -1 log)" "$firstB"
	read -r _ fa ta <<<"$lastA"
	read -r _ fb tb <<<"$firstB"
	((fb > fa))
	awk -v a="$ta" -v b="$tb" 'BEGIN { exit !(a < b) }'
}

@test "etcd: a holder whose members all hang is killed, TERM first, before the next one starts" {
	command -v socat >/dev/null || skip "socat not installed (make deps)"
	local p1 x1 p2 x2 p3 x3
	# Every endpoint through a proxy, which SIGSTOP hangs: connections
	# are accepted and nothing comes back.
	etcd_proxy p1 x1 && etcd_proxy p2 x2 && etcd_proxy p3 x3
	mkfifo never
	# A logs SIGTERM and goes on, writing the time every 5 ms until
	# SIGKILL; B writes the time once.
	solo --etcd "http://127.0.0.1:$p1,http://127.0.0.1:$p2,http://127.0.0.1:$p3" \
		--ttl 6 -U "$N" bash -c '
		trap "echo TERM \$EPOCHREALTIME >> log" TERM
		exec 4<>never
		while :; do
			echo "A $EPOCHREALTIME" >> log
			read -r -t 0.005 -u 4 _
		done' 2>a.err &
	local a=$!
	OWNERS+=("$a")
	wait_until 10 test -s log
	solo --etcd "$E" -w 30 -U "$N" \
		bash -c 'echo "B $EPOCHREALTIME" >> log' &
	local b=$!
	OWNERS+=("$b")
	within 10 queued "$N" 2
	kill -STOP -- "-$x1" "-$x2" "-$x3"
	reap "$b" 0
	kill -CONT -- "-$x1" "-$x2" "-$x3"
	reap "$a" 75
	# SIGTERM, then A went on (it ignores it) until SIGKILL, and B
	# started after A's last line.
	local term lastA firstB
	term=$(grep '^TERM ' log) || fail "no SIGTERM: $(tail -3 log)"
	lastA=$(grep '^A ' log | tail -1)
	firstB=$(grep '^B ' log)
	assert_equal "$(tail -1 log)" "$firstB"
	read -r _ tt <<<"$term"
	read -r _ ta <<<"$lastA"
	read -r _ tb <<<"$firstB"
	awk -v t="$tt" -v a="$ta" -v b="$tb" 'BEGIN { exit !(t < a && a < b) }' ||
		fail "TERM $tt, A's last $ta, B $tb"
	run -0 cat a.err
	assert_output --regexp "^solo: $N: lock lost: no keep-alive for [0-9]+ ms; stopping the command: http://127.0.0.1:[0-9]+: .+"
}

# lost_at_once CMD WHY: hold $N with --ttl 30, eval CMD (which deletes the
# holder's key, or revokes its lease $LEASE), and expect stopped_at_once
# WHY.
lost_at_once() {
	hold solo --etcd "$E" --ttl 30 -U "$N" 2>err
	LEASE=$(keys "$N" | sed 's|.*/||')
	assert_equal "$(lease_count "$LEASE")" 1
	eval "$1" >/dev/null
	stopped_at_once "$2"
}

# stopped_at_once WHY: the holder of $N (HOLDER, HELD, its stderr in err,
# with --ttl 30) stops its command and exits 75 within 5 s, with one line
# on stderr saying WHY; its key and its lease $LEASE are gone.  With --ttl 30 a
# keep-alive comes every 10 s, the first 10 s after the lock was taken:
# a holder that ends within 5 s noticed the loss through its watch on its
# own key, not at a keep-alive.  The 5 s leave a loaded machine seconds
# for what takes milliseconds here (etcd's event, SIGTERM, the command's
# exit), and are still 5 s short of the keep-alive.
stopped_at_once() {
	wait_until 5 eval '! kill -0 "$HOLDER" 2>/dev/null' ||
		fail "the holder did not notice at once: $(cat err)"
	reap "$HOLDER" 75
	HOLDER=''
	run -0 cat err
	assert_output "solo: $N: lock lost: $1; stopping the command"
	# The command is gone (SIGTERM), and so are the key and the lease.
	run -1 kill -0 "$HELD"
	assert_equal "$(keys "$N")" ''
	assert_equal "$(lease_count "$LEASE")" 0
}

@test "etcd: a holder whose key is deleted stops at once, exit 75" {
	lost_at_once 'ctl del --prefix "$N/"' "our key was deleted"
}

@test "etcd: a holder whose lease is revoked stops at once, exit 75" {
	lost_at_once 'ctl lease revoke "$LEASE"' \
		"its lease was revoked or expired"
}

# watches PID PORT: PID has a watch open on 127.0.0.1:PORT (the one
# connection of solo-etcd's with TCP keep-alive on).
watches() {
	ss -Htnpo state established "dst 127.0.0.1:$2" |
		grep "pid=$1," | grep -q 'timer:(keepalive'
}

@test "etcd: a holder whose watch broke watches again after a keep-alive" {
	command -v socat >/dev/null || skip "socat not installed (make deps)"
	local pp proxy
	# The holder talks to etcd through a proxy, and to $E after it.
	etcd_proxy pp proxy
	hold solo --etcd "http://127.0.0.1:$pp,$E" --ttl 30 -U "$N" 2>err
	LEASE=$(keys "$N" | sed 's|.*/||')
	within 5 watches "$HOLDER" "$pp"
	# The watch breaks with the proxy, and the lock stays: the first
	# keep-alive, 10 s after the lock, goes to $E, and so does the watch
	# started after it.
	kill -- -"$proxy"
	within 20 watches "$HOLDER" "${E##*:}" ||
		fail "no watch on $E: $(cat err)"
	kill -0 "$HOLDER"
	assert_file_empty err
	# The keep-alive after that one is 10 s away: the watch sees this.
	ctl del --prefix "$N/" >/dev/null
	stopped_at_once "our key was deleted"
}

@test "etcd: a SIGKILLed holder's command dies with it; the lock is free within its TTL" {
	hold solo --etcd "$E" --ttl 2 -U "$N"
	kill -9 "$HOLDER"
	wait "$HOLDER" || :
	HOLDER=''
	# The command must not run on without the lock.
	wait_until 5 eval '! kill -0 "$HELD" 2>/dev/null' ||
		fail "the command $HELD outlived solo"
	# etcd checks for expired leases every 500 ms: a second to spare.
	run -0 solo --etcd "$E" -w 4 -U "$N" echo ok
	assert_output ok
	assert_equal "$(keys "$N")" ''
}

@test "etcd: a waiter whose key is deleted exits 75 and revokes its lease" {
	hold solo --etcd "$E" -U "$N"
	local hkey wkey
	hkey=$(keys "$N")
	# --ttl 2: a keep-alive, which checks the key, every 0.7 s.
	solo --etcd "$E" --ttl 2 -w 30 -U "$N" touch ran 2>err &
	local w=$!
	OWNERS+=("$w")
	within 10 queued "$N" 2
	wkey=$(keys "$N" | grep -vxF "$hkey")
	assert_equal "$(lease_count "${wkey##*/}")" 1
	ctl del "$wkey" >/dev/null
	reap "$w" 75
	run -0 cat err
	assert_output "solo: $N: lost our place in the queue: the key was deleted"
	assert_file_not_exists ran
	assert_equal "$(lease_count "${wkey##*/}")" 0
	release
}

@test "etcd: a waiter that times out or is interrupted leaves no key, no lease" {
	hold solo --etcd "$E" -U "$N"
	local before w
	before=$(leases)
	run -1 solo --etcd "$E" -w 0.3 -U "$N" touch ran
	assert_output --regexp "^solo: $N is held by pid $HOLDER "
	assert_equal "${#lines[@]}" 1
	assert_file_not_exists ran
	assert_equal "$(keys "$N" | wc -l)" 1
	assert_equal "$(leases)" "$before"
	# A background job starts with SIGINT ignored: give it back.
	env --default-signal=INT solo --etcd "$E" -w 30 -U "$N" touch ran &
	w=$!
	OWNERS=("$w")
	within 10 queued "$N" 2
	kill -INT "$w"
	reap "$w" 130
	assert_file_not_exists ran
	assert_equal "$(keys "$N" | wc -l)" 1
	assert_equal "$(leases)" "$before"
	# SIGALRM as SIGTERM (SIGPIPE likewise): revoked, then dead of it.
	local sig
	for sig in TERM:143 ALRM:142; do
		solo --etcd "$E" -w 30 -U "$N" touch ran &
		w=$!
		OWNERS=("$w")
		within 10 queued "$N" 2
		kill -"${sig%:*}" "$w"
		reap "$w" "${sig#*:}"
		assert_equal "$(keys "$N" | wc -l)" 1
		assert_equal "$(leases)" "$before"
	done
	release
}

@test "etcd: TLS with a CA, server and client certificates" {
	command -v openssl >/dev/null || skip "openssl not installed (make deps)"
	mk() {	# mk NAME SUBJECT EXTENSIONS [CA-SIGNED]
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -keyout "$1.key" -subj "/CN=$2" -out "$1.csr" \
			2>/dev/null &&
		openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
			-CAcreateserial -days 1 -out "$1.crt" \
			-extfile <(printf '%s\n' "$3") 2>/dev/null
	}
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout ca.key -out ca.crt -subj /CN=lockkit-test-ca \
		-days 1 2>/dev/null
	mk server 127.0.0.1 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth'
	mk client solo 'extendedKeyUsage=clientAuth'
	SCHEME=https
	CTLARGS=(--cacert ca.crt --cert client.crt --key client.key)
	mkdir tls
	one_member "$T/tls" --cert-file server.crt --key-file server.key \
		--client-cert-auth --trusted-ca-file ca.crt
	MEMBERS=("$MPID")
	run -0 solo --etcd "$EP" --cacert ca.crt --cert client.crt \
		--key client.key -U "$N" sh -c 'echo "fence $SOLO_FENCE"'
	assert_output --regexp '^fence [0-9]+$'
	# No CA: the server's certificate is not trusted.
	run -75 solo --etcd "$EP" -U "$N" true
	assert_output --regexp "^solo: $N: etcd unavailable: $EP: .*certificate"
	assert_equal "${#lines[@]}" 1
	# No client certificate: the server refuses the handshake.
	run -75 solo --etcd "$EP" --cacert ca.crt -U "$N" true
	assert_output --regexp "^solo: $N: etcd unavailable: $EP: "
	assert_equal "${#lines[@]}" 1
	run -64 solo --etcd "$EP" --cacert ca.crt --cert client.crt -U "$N" true
	assert_output "solo: --cert and --key go together"
}

@test "etcd: user and password authentication" {
	mkdir auth
	one_member "$T/auth"
	MEMBERS=("$MPID")
	etcdctl --endpoints "$EP" user add root --new-user-password pw >/dev/null
	etcdctl --endpoints "$EP" auth enable >/dev/null
	# The password reaches etcd, and not the command.
	SOLO_ETCD_PASSWORD=pw run -0 solo --etcd "$EP" --user root -U "$N" \
		sh -c 'echo "[$SOLO_ETCD_PASSWORD] $SOLO_FENCE"'
	assert_output --regexp '^\[\] [0-9]+$'
	run -0 etcdctl --endpoints "$EP" --user root:pw get --prefix "$N/"
	assert_output ''
	SOLO_ETCD_PASSWORD=wrong run -65 solo --etcd "$EP" --user root -U "$N" true
	assert_output --regexp "^solo: $N: etcd refused: $EP: .*authentication failed"
	assert_equal "${#lines[@]}" 1
	# Without authentication etcd refuses the key, and says why.
	run -65 solo --etcd "$EP" -U "$N" true
	assert_output --regexp "^solo: $N: etcd refused: $EP: .*user name is empty"
	assert_equal "${#lines[@]}" 1
	# The password is never shown, even where the user name is.
	run -64 setsid -w solo --etcd "$EP" --user root:s3cretPW -U "$N" true </dev/null
	refute_output --partial s3cretPW
	assert_output "solo: --user: a name without ':'; the password goes in SOLO_ETCD_PASSWORD, never on the command line"
	# No password and no terminal to ask on.
	run -64 setsid -w solo --etcd "$EP" --user root -U "$N" true </dev/null
	assert_output "solo: --user root: no SOLO_ETCD_PASSWORD and no terminal to ask on"
}

@test "etcd: etcd down exits 75 with one line, runs nothing, leaves nothing" {
	local p q
	free_port p && free_port q
	run -75 solo --etcd "http://127.0.0.1:$p,http://127.0.0.1:$q" -U "$N" touch ran
	assert_output --regexp "^solo: $N: etcd unavailable: http://127.0.0.1:$p: .*; http://127.0.0.1:$q: "
	assert_equal "${#lines[@]}" 1
	run -75 solo --etcd "http://127.0.0.1:$p" -w 1 -U "$N" touch ran
	assert_equal "${#lines[@]}" 1
	run -75 solo --etcd "http://127.0.0.1:$p" --test -U "$N"
	assert_equal "${#lines[@]}" 1
	assert_file_not_exists ran
}

@test "etcd: bad input exits 64 with one line" {
	local bad
	for bad in "ftp://127.0.0.1:2379" "127.0.0.1:2379" "http://" \
	    "http://127.0.0.1:99999" "http://127.0.0.1:2379/v3" \
	    "http://127.0.0.1:2379?x" "$E," http://127.0.0.1 \
	    http://127.0.0.1:0 https://localhost/; do
		run -64 solo --etcd "$bad" -U "$N" true
		assert_output --regexp "^solo: invalid endpoint '"
		assert_equal "${#lines[@]}" 1
	done
	# A password in an endpoint: refused, and not shown.
	for bad in "http://u:s3cret@127.0.0.1:2379" "http://u@127.0.0.1:2379" \
	    "$E,http://u:s3cret@127.0.0.1:2379"; do
		run -64 solo --etcd "$bad" -U "$N" touch ran
		assert_output "solo: invalid endpoint: a user name or password in a URL is refused; use --user NAME and SOLO_ETCD_PASSWORD"
	done
	assert_file_not_exists ran
	# TLS files that cannot be read: 66 (not 75, a retry will not help).
	run -66 solo --etcd "$E" --cacert nosuch.pem -U "$N" touch ran
	assert_output "solo: --cacert nosuch.pem: cannot read: No such file or directory"
	touch key.pem
	run -66 solo --etcd "$E" --cert nosuch.pem --key key.pem -U "$N" true
	assert_output "solo: --cert nosuch.pem: cannot read: No such file or directory"
	run -66 solo --etcd "$E" --cert key.pem --key "$T" --test -U "$N"
	assert_output --regexp "^solo: --key $T: cannot read: "
	assert_file_not_exists ran
	run -64 solo --etcd "$E" 8080 true
	assert_output "solo: --etcd locks a name: -U name, not a port"
	run -64 solo --etcd "$E" -a 127.0.0.1 -U "$N" true
	assert_equal "${#lines[@]}" 1
	for bad in 0 1 86401 x 2.5 -3; do
		run -64 solo --etcd "$E" --ttl "$bad" -U "$N" true
		assert_output "solo: invalid ttl '$bad': expected 2 to 86400 seconds"
	done
	run -64 solo --etcd "$E" -U '' true
	assert_output "solo: invalid name '': must be 1 to 80 characters"
	run -64 solo --etcd "$E" -U "$(printf '%081d' 0)" true
	assert_output "solo: invalid name '$(printf '%081d' 0)': must be 1 to 80 characters"
	run -64 solo --etcd "$E" -U 'a b' true
	assert_output "solo: invalid name 'a b': must be printable, without spaces"
	# a/b's keys are under a/: it would queue behind a's holder.
	run -64 solo --etcd "$E" -U "$N/b" touch ran
	assert_output "solo: invalid name '$N/b': no '/' with --etcd (the lock is every key under NAME/)"
	assert_file_not_exists ran
	assert_equal "$(keys "$N")" ''
	run -64 solo --etcd "$E" --test -U "$N" true
	assert_output "solo: --test takes no command"
	run -64 solo --etcd "$E" -U "$N"
	assert_output "solo: missing command"
	(unset SOLO_ETCD_ENDPOINTS; run -64 solo --etcd '' -U "$N" true
	 assert_output "solo: --etcd '': SOLO_ETCD_ENDPOINTS is not set")
	assert_equal "$(keys "$N")" ''
}

@test "etcd: solo's local locks load neither libcurl nor json-c" {
	run -0 ldd "$LOCKKIT_BIN/solo"
	refute_output --partial libcurl
	refute_output --partial json-c
	run -0 ldd "$LOCKKIT_BIN/solo-etcd"
	assert_output --partial libcurl
}
