#!/usr/bin/env bats
# --json (with --test and --list) and --list: one JSON document,
# {"holders": [...]}, read back with jq; --list's text form.

load helper

setup() {
	lk_setup || return 1
	command -v jq >/dev/null || skip "jq not installed (make deps)"
	P=$((20000 + RANDOM % 10000))
	ME=$(id -u)
}

# hold_as NAME CMD...: as hold, with fifos of its own (NAME_ready,
# NAME_go), for a second holder beside hold's; its command's pid in the
# variable HELD_NAME, the tool's in OWNERS (the teardown kills it).
hold_as() {
	local name=$1 pid
	shift
	fifo "${name}_ready"
	fifo "${name}_go"
	"$@" sh -c 'echo $$ > "$1"; read x < "$2"' sh "$T/${name}_ready" \
		"$T/${name}_go" 3>&- &
	OWNERS+=("$!")
	read -r -t 10 pid < "$T/${name}_ready" || return 1
	printf -v "HELD_$name" '%s' "$pid"
}

# held_at ADDR PORT: solo --test says ADDR:PORT is held (status 1).
held_at() {
	local st=0
	solo -a "$1" --test -q "$2" || st=$?
	[ "$st" = 1 ]
}

# valid: stdout is one JSON document with a holders list.
valid() {
	jq -e '.holders | type == "array"' <<<"$output" >/dev/null
}

@test "flockrun --test --json: a free lock is an empty list, exit 0" {
	run -0 --separate-stderr flockrun --test --json f
	assert_equal "$stderr" ''
	valid
	assert_equal "$(jq -c . <<<"$output")" '{"holders":[]}'
}

@test "flockrun --test --json: the holder's pid, command, uid, kind, mode, range, path" {
	hold flockrun f
	run -1 --separate-stderr flockrun --test --json f
	assert_equal "$stderr" ''
	valid
	run -0 jq -c --argjson p "$HELD" '.holders[] | select(.pid == $p)' <<<"$output"
	assert_output "{\"command\":\"sh\",\"pid\":$HELD,\"uid\":$ME,\"kind\":\"flock\",\"mode\":\"exclusive\",\"start\":0,\"length\":0,\"path\":\"f\"}"
	release
}

@test "flockrun --test --json: several shared holders, each listed" {
	hold flockrun -s --fcntl=posix --start 4 --length 4 f
	hold_as b flockrun -s --fcntl=posix --start 6 --length 10 f
	run -1 flockrun --test --json --fcntl=posix --start 0 --length 100 f
	run -0 jq -r '[.holders[] | "\(.pid) \(.kind) \(.mode) \(.start) \(.length)"] | sort | .[]' <<<"$output"
	# A POSIX lock is its process's: flockrun's, not the command's.
	assert_output "$(printf '%s\n' "$HOLDER posix shared 4 4" "${OWNERS[0]} posix shared 6 10" | sort)"
	release
}

@test "flockrun --test: 20 shared holders are all listed, in text and JSON" {
	local i pids=()
	for i in $(seq 20); do
		hold_as "h$i" flockrun -F -s f
		pids+=("$(eval echo "\$HELD_h$i")")
	done
	run -1 flockrun --test f
	assert_equal "$(cut -d' ' -f1 <<<"$output" | sort -n | uniq)" \
		"$(printf '%s\n' "${pids[@]}" | sort -n)"
	run -1 flockrun --test --json f
	assert_equal "$(jq -r '.holders[].pid' <<<"$output" | sort -n | uniq)" \
		"$(printf '%s\n' "${pids[@]}" | sort -n)"
	for i in $(seq 20); do echo go > "$T/h${i}_go"; done
}

@test "flockrun --test: two holders of identical ofd ranges, each once, no phantom" {
	hold_as a flockrun -F --fcntl=ofd -s --length 10 f
	hold_as b flockrun -F --fcntl=ofd -s --length 10 f
	run -1 --separate-stderr flockrun --test --fcntl=ofd f
	assert_equal "$stderr" ''
	assert_equal "$(sort <<<"$output")" "$(printf '%s\n' \
		"$HELD_a sh ofd shared 0-9" "$HELD_b sh ofd shared 0-9" | sort)"
	run -1 flockrun --test --json --fcntl=ofd f
	run -0 jq -c '[.holders[].pid] | sort' <<<"$output"
	assert_output "$(printf '%s\n' "$HELD_a" "$HELD_b" | sort -n | paste -sd, | sed 's/.*/[&]/')"
	echo go > "$T/a_go"; echo go > "$T/b_go"
}

@test "flockrun --test --json: -E sets the status, the document is the same" {
	hold flockrun f
	run -7 flockrun -E 7 --test --json f
	valid
	release
}

@test "flockrun --test --json: names with quotes, newlines and bad UTF-8 stay valid JSON" {
	name=$(printf 'q"b\\s\nn\tt\001 \303\251 \377\300\257 end')
	hold flockrun "$name"
	run -1 flockrun --test --json "$name"
	valid
	# Every invalid byte (\377, and \300 \257, an overlong '/') is U+FFFD;
	# valid UTF-8 (é) and control characters come back as they were.
	want=$(printf 'q"b\\s\nn\tt\001 \303\251 \357\277\275\357\277\275\357\277\275 end')
	run -0 jq -j --argjson p "$HELD" '.holders[] | select(.pid == $p) | .path' <<<"$output"
	assert_equal "$output" "$want"
	release
}

@test "--json without --test or --list is refused" {
	run -64 flockrun --json f true
	run -64 solo --json "$P" true
	run -64 solo --json --max-time 1 --list
}

@test "solo --test --json: free is an empty list, held names the holder" {
	run -0 --separate-stderr solo --test --json "$P"
	assert_equal "$stderr" ''
	assert_equal "$(jq -c . <<<"$output")" '{"holders":[]}'
	hold solo "$P"
	run -1 --separate-stderr solo --test --json "$P"
	assert_equal "$stderr" ''
	run -0 jq -c '.holders' <<<"$output"
	addr="127.$(( (ME >> 8) & 255 )).$(( ME & 255 )).1:$P"
	assert_output "[{\"command\":\"sh\",\"pid\":$HELD,\"uid\":$ME,\"kind\":\"tcp\",\"mode\":\"exclusive\",\"address\":\"$addr\"}]"
	release
}

@test "solo --test --json --slots: one document, every held slot's holder" {
	addr="127.$(( (ME >> 8) & 255 )).$(( ME & 255 )).1"
	hold solo "$P"
	hold_as b solo "$((P + 1))"
	# Slot 2 is free: status 0, the two holders listed, nothing else.
	run -0 --separate-stderr solo --test --json --slots 3 "$P"
	assert_equal "$stderr" ''
	run -0 jq -r '.holders[] | "\(.pid) \(.kind) \(.address)"' <<<"$output"
	assert_equal "$output" "$HELD tcp $addr:$P
$HELD_b tcp $addr:$((P + 1))"
	hold_as c solo --abstract -U "slots$P/0"
	hold_as d solo "$((P + 2))"
	run -1 solo -q --test --json --slots 3 "$P"
	run -0 jq -r '.holders[].address' <<<"$output"
	assert_equal "$output" "$addr:$P
$addr:$((P + 1))
$addr:$((P + 2))"
	# -U names: NAME/0 to NAME/N-1.
	run -0 solo --test --json --slots 2 --abstract -U "slots$P"
	run -0 jq -r '.holders[] | "\(.pid) \(.kind) \(.address)"' <<<"$output"
	assert_output "$HELD_c unix @solo/$ME/slots$P/0"
	release
}

@test "solo --test --json --abstract -U: a name with a quote and a backslash" {
	name="j\"s\\$P"
	hold solo --abstract -U "$name"
	run -1 solo --test --json --abstract -U "$name"
	run -0 jq -j '.holders[0] | "\(.pid) \(.kind) \(.address)"' <<<"$output"
	assert_output "$HELD unix @solo/$ME/$name"
	release
}

@test "solo --list: this user's ports and names, in --test's words and in JSON" {
	hold solo "$P"
	hold_as u solo --abstract -U "list$P"
	run -0 --separate-stderr solo --list
	assert_equal "$stderr" ''
	assert_line "$(solo --test "$P")"
	assert_line "$(solo --test --abstract -U "list$P")"
	run -0 solo --list --json
	run -0 jq -r '.holders[] | "\(.pid) \(.kind) \(.address) \(.uid)"' <<<"$output"
	assert_line "$HELD tcp 127.$(( (ME >> 8) & 255 )).$(( ME & 255 )).1:$P $ME"
	assert_line "$HELD_u unix @solo/$ME/list$P $ME"
	release
	run -0 solo --list --json
	run -0 jq -r --argjson p "$HELD" '.holders[] | select(.pid == $p)' <<<"$output"
	assert_output ''
}

@test "solo --list: root sees every user's locks, a user only their own" {
	[ "$ME" = 0 ] || skip "needs root to run a holder as another user"
	# Uid 1000's address is 127.3.232.1.  The holder cannot reach $T's
	# fifos as uid 1000: it sleeps, killed by the teardown.
	setpriv --reuid=1000 --regid=1000 --clear-groups solo "$P" sleep 60 &
	HELD=$!
	OWNERS+=("$HELD")
	wait_until 10 held_at 127.3.232.1 "$P" ||
		fail "the holder never got the lock"
	run -0 solo --list --json
	run -0 jq -r --argjson p "$HELD" '.holders[] | select(.pid == $p) | "\(.uid) \(.address)"' <<<"$output"
	assert_output "1000 127.3.232.1:$P"
	run -0 setpriv --reuid=1001 --regid=1001 --clear-groups solo --list --json
	run -0 jq -r --argjson p "$HELD" '.holders[] | select(.pid == $p)' <<<"$output"
	assert_output ''
}

@test "solo --list takes no port, name or address" {
	run -64 solo --list "$P"
	run -64 solo --list -U x
	run -64 solo --list -a 127.0.0.1
	run -64 solo --list --test
}

# ldsetup: lockdev's lock directory, $T/locks, and a live owner, $OWNER.
ldsetup() {
	lockdir || return 1
	sleep 60 >/dev/null 2>&1 3>&- &
	OWNER=$!
	OWNERS+=("$OWNER")
}

@test "lockdev --json: free is an empty list, exit 0" {
	ldsetup
	run -0 --separate-stderr lockdev --json /dev/null
	assert_equal "$stderr" ''
	assert_equal "$(jq -c . <<<"$output")" '{"holders":[]}'
}

@test "lockdev --json: the owner, its device, lock file, since, stale false; exit 1" {
	ldsetup
	run -0 lockdev -l -p "$OWNER" /dev/null
	since=$(stat -c %Y "$T/locks/LCK..null")
	run -1 --separate-stderr lockdev --json /dev/null
	assert_equal "$stderr" ''
	# LCK..null and LCK.001.003 are one file, listed once.
	run -0 jq -c '.holders' <<<"$output"
	assert_output "[{\"command\":\"sleep\",\"pid\":$OWNER,\"uid\":$ME,\"kind\":\"uucp\",\"mode\":\"exclusive\",\"device\":\"/dev/null\",\"lockfile\":\"LCK..null\",\"since\":$since,\"stale\":false}]"
}

@test "lockdev --json: a stale file is listed as stale, and the device is free" {
	ldsetup
	dead=$(dead_pid)
	hdb "$dead" > "$T/locks/LCK..null"
	run -0 lockdev --json /dev/null
	run -0 jq -c '.holders[] | [.pid, .command, .uid, .stale]' <<<"$output"
	assert_output "[$dead,null,$ME,true]"
	assert_file_exists "$T/locks/LCK..null"
}

@test "lockdev --list: every lock file, its owner, device and staleness; nothing written" {
	ldsetup
	run -0 lockdev -l -p "$OWNER" /dev/null
	dead=$(dead_pid)
	hdb "$dead" > "$T/locks/LCK..ttyS9"
	: > "$T/locks/LCK..ttyS8"
	touch -d '1 hour ago' "$T/locks/LCK..ttyS8"
	before=$(ls -l --time-style=full-iso "$T/locks")
	run -0 --separate-stderr lockdev --list
	assert_equal "$stderr" ''
	assert_equal "$(sort <<<"$output")" "$(sort <<-EOT
		LCK..null: /dev/null locked by pid $OWNER (sleep)
		LCK..ttyS9: /dev/ttyS9 stale (pid $dead)
		LCK..ttyS8: /dev/ttyS8 stale (empty)
		EOT
	)"
	run -0 lockdev --list --json
	run -0 jq -r '[.holders[] | "\(.lockfile) \(.device) \(.pid) \(.stale)"] | sort | .[]' <<<"$output"
	assert_output "$(printf '%s\n' "LCK..null /dev/null $OWNER false" \
	    "LCK..ttyS8 /dev/ttyS8 null true" "LCK..ttyS9 /dev/ttyS9 $dead true" | sort)"
	assert_equal "$(ls -l --time-style=full-iso "$T/locks")" "$before"
}

@test "lockdev --list: an SVr4 name alone names its device by number" {
	ldsetup
	hdb "$OWNER" > "$T/locks/LCK.001.003"
	run -0 lockdev --list --json
	run -0 jq -r '.holders[] | "\(.lockfile) \(.device) \(.pid)"' <<<"$output"
	assert_output "LCK.001.003 /dev/null $OWNER"
}

@test "lockdev --list: an empty directory is an empty list, exit 0" {
	ldsetup
	run -0 --separate-stderr lockdev --list
	assert_output ''
	assert_equal "$stderr" ''
	run -0 lockdev --list --json
	assert_equal "$(jq -c . <<<"$output")" '{"holders":[]}'
}

@test "lockdev --list --json: lock file names with quotes, newlines, bad UTF-8" {
	ldsetup
	name=$(printf 'LCK..q"\\\n\377x')
	hdb "$OWNER" > "$T/locks/$name"
	run -0 lockdev --list --json
	run -0 jq -j '.holders[0].lockfile' <<<"$output"
	assert_equal "$output" "$(printf 'LCK..q"\\\n\357\277\275x')"
}

@test "lockdev: --list takes no device; --json goes with a test or --list" {
	ldsetup
	run -64 lockdev --list /dev/null
	run -64 lockdev --list -l
	run -64 lockdev --json -l /dev/null
	run -64 lockdev --json /dev/null true
}

@test "--json without libjson-c: one line naming the library, 71 (lockdev: 255)" {
	lib=$(ldconfig -p | awk '/libjson-c\.so\.5 /{ print $NF; exit }')
	[ -n "$lib" ] || skip "libjson-c.so.5 not installed"
	need_ns "a private mount" unshare -m mount --bind /dev/null "$lib"
	# The library made unloadable in a mount namespace of the test's own.
	nolib() {
		unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' \
		    sh "$lib" "$@"
	}
	run -71 --separate-stderr nolib flockrun --test --json f
	assert_output ''
	assert_equal "$stderr" "flockrun: json: $lib: file too short"
	run -71 --separate-stderr nolib solo --list --json
	assert_output ''
	lockdir
	run -255 --separate-stderr nolib lockdev --json /dev/null
	assert_output ''
	# Without --json nothing loads it.
	run -0 nolib flockrun --test f
}

@test "solo --test --json: a private name is a flock on its file" {
	mkdir -m 700 "$T/d"
	hold solo --dir "$T/d" -U "priv$P"
	run -1 solo --test --json --dir "$T/d" -U "priv$P"
	run -0 jq -r '.holders[] | "\(.pid) \(.kind) \(.address) \(.uid)"' <<<"$output"
	assert_output "$HELD flock $T/d/priv$P $ME"
	release
}
