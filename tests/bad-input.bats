#!/usr/bin/env bats
# Bad input, all three tools: each case exits with its documented status,
# says what is wrong in one line on stderr (an unknown option may add the
# usage synopsis), prints nothing on stdout, and changes nothing: the
# test's own directory $W is listed and checksummed before and after (bats
# keeps files of its own in $T).

load helper

setup() {
	lk_setup || return 1
	W=$T/w
	mkdir "$W"
	cd "$W" || return 1
	mkdir locks d
	echo data > f
	touch plain
	ln -s loop1 loop2
	ln -s loop2 loop1
	export LOCKDEV_LOCKDIR=$W/locks
	P=$((20000 + RANDOM % 10000))
}

snapshot() {
	(cd "$W" && find . -printf '%p %y %m %s %l\n' | sort &&
		find . -type f -exec md5sum {} + | sort)
}

# bad STATUS PATTERN CMD...
# with_opath_fd9 FILE CMD...: CMD with FILE open as fd 9 with O_PATH
# (010000000 on Linux but alpha, parisc and sparc), which bash cannot
# open; perl-base is on every Debian system.
with_opath_fd9() {
	perl -MPOSIX -e 'sysopen(my $f, shift, 010000000) or die "open: $!";
		POSIX::dup2(fileno($f), 9) == 9 or die "dup2: $!";
		exec { $ARGV[0] } @ARGV or die "exec: $!"' "$@"
}

bad() {
	local st=$1 pat=$2 before after line
	shift 2
	before=$(snapshot)
	run --separate-stderr "$@"
	[ "$status" -eq "$st" ] ||
		fail "$* exited $status, not $st; stderr: $stderr"
	[ -z "$output" ] || fail "$* printed on stdout: $output"
	[ "${#stderr_lines[@]}" -ge 1 ] || fail "$* said nothing"
	[[ ${stderr_lines[0]} =~ $pat ]] ||
		fail "$*: '${stderr_lines[0]}' does not match '$pat'"
	for line in "${stderr_lines[@]:1}"; do
		[[ $line =~ ^(usage:|\ ) ]] || fail "$*: a second line: $line"
	done
	after=$(snapshot)
	[ "$after" = "$before" ] || fail "$* changed files under \$W"
}

@test "flockrun: malformed, negative, NaN and huge durations" {
	bad 64 "invalid timeout 'abc': not a number of seconds" flockrun -w abc f true
	bad 64 "invalid timeout '-1': negative" flockrun -w -1 f true
	bad 64 "invalid timeout 'nan'" flockrun -w nan f true
	bad 64 "invalid timeout '1e3'" flockrun -w 1e3 f true
	bad 64 "invalid timeout '100000001': too large" flockrun -w 100000001 f true
	bad 64 "invalid timeout '': not a number of seconds" flockrun -w '' f true
	bad 64 "invalid timeout 'infinite'" flockrun -w infinite f true
}

@test "flockrun: exit codes, offsets and lengths out of range" {
	bad 64 "invalid conflict exit code '256'" flockrun -E 256 f true
	bad 64 "invalid conflict exit code '-1'" flockrun -E -1 f true
	bad 64 "invalid conflict exit code 'x': expected 0 to 255" flockrun -E x f true
	bad 64 "invalid conflict exit code ' 3': expected 0 to 255" flockrun -E ' 3' f true
	bad 64 "invalid start '-1': negative" flockrun --start -1 f true
	bad 64 "invalid start '1Q': unknown suffix" flockrun --start 1Q f true
	bad 64 "invalid length '9E': too large" flockrun --length 9E f true
	bad 64 "invalid start '99999999999999999999': too large" flockrun --start 99999999999999999999 f true
	bad 64 "byte range starts before byte 0" flockrun --start 10 --length -20 f true
	bad 64 "invalid --fcntl 'bogus'" flockrun --fcntl=bogus f true
}

@test "flockrun: operands and option combinations" {
	bad 64 "requires file descriptor, file or directory" flockrun
	bad 64 "invalid option" flockrun -Z f true
	bad 64 "unrecognized option" flockrun --bogus f true
	# Named as err(3) names it, however it was run.
	bad 64 "^flockrun: invalid option" "$LOCKKIT_BIN/flockrun" -Z f true
	bad 64 "bad file descriptor 'abc': not a number \(a lock file needs a command\)" flockrun abc
	bad 64 "bad file descriptor '99999999999': expected 0 to 2147483647" flockrun 99999999999
	bad 64 "bad file descriptor 'x': not a number" flockrun --fd x true
	bad 64 "bad file descriptor '\+3': not a number" flockrun --fd +3 true
	bad 64 "-c requires exactly one command argument" flockrun f -c
	bad 64 "-c requires exactly one command argument" flockrun f -c a b
	bad 64 "incompatible" flockrun -F -o f true
	bad 64 "--remove needs" flockrun --remove -F f true
	bad 64 "--test takes no command" flockrun --test f true
	bad 64 "--test neither waits nor runs a command: -w, -o, -F and --max-time do not apply" flockrun --test -w 5 f
	bad 64 "--test neither waits" flockrun --test -F f
	bad 64 "--test neither waits" flockrun --test --max-time 5 f
	bad 64 "^flockrun: --max-time needs a command$" flockrun --max-time 5 9 9<f
	bad 64 "invalid max-time 'abc'" flockrun --max-time abc f true
	bad 64 "invalid max-time 'inf'" flockrun --max-time inf f true
	bad 64 "invalid max-time '-1'" flockrun --max-time -1 f true
	bad 64 "POSIX lock on a descriptor" flockrun --fcntl=posix 0
	also=()
	for i in $(seq 64); do also+=(--also "x$i"); done
	bad 64 "too many --also files" flockrun "${also[@]}" f true
}

@test "flockrun: files, descriptors and commands that do not work" {
	bad 66 "nodir/f: cannot open: No such file or directory" flockrun nodir/f true
	bad 66 "plain/f: cannot open: Not a directory" flockrun plain/f true
	bad 66 "^flockrun: '': cannot open: empty file name$" flockrun '' true
	bad 66 "^flockrun: '': cannot open: empty file name$" flockrun --also '' f true
	bad 65 "^flockrun: fd 77: cannot lock: Bad file descriptor$" flockrun 77
	bad 65 "^flockrun: fd 9: cannot take a shared fcntl lock: the descriptor must be open for reading$" \
	    flockrun -s --fcntl --fd 9 true 9>f
	bad 65 "^flockrun: fd 9: cannot lock: an O_PATH descriptor cannot be locked$" \
	    with_opath_fd9 f flockrun 9
	bad 65 "fd 9: cannot take an exclusive fcntl lock: needs write access" flockrun --fcntl --fd 9 true 9<f
	bad 69 "cannot run no-such-command-xyz" flockrun f no-such-command-xyz
	bad 69 "^flockrun: cannot run '': No such file or directory$" flockrun f ''
	bad 69 "cannot run ./plain: Permission denied" flockrun f ./plain
}

@test "solo: ports, addresses, names and durations" {
	bad 64 "invalid port '0': expected 1 to 65535" solo 0 true
	bad 64 "invalid port '65536'" solo 65536 true
	bad 64 "invalid port 'abc': expected 1 to 65535 \(a name needs -U\)" solo abc true
	bad 64 "invalid port '1.5'" solo 1.5 true
	bad 64 "invalid port ' 80': expected 1 to 65535$" solo ' 80' true
	bad 64 "missing command" solo "$P"
	bad 64 "missing port" solo
	bad 64 "invalid address '10.0.0.1': not a loopback address" solo -a 10.0.0.1 "$P" true
	bad 64 "invalid address '::2': not a loopback address" solo -a ::2 "$P" true
	bad 64 "invalid address 'nonsense': not an IPv4 or IPv6 address" solo -a nonsense "$P" true
	bad 64 "^solo: invalid address '': not an IPv4 or IPv6 address$" solo -a '' "$P" true
	bad 64 "-a and -U are exclusive" solo -a 127.0.0.1 -U x true
	bad 64 "invalid name '': must be 1 to 80 characters" solo -U '' true
	bad 64 "invalid name 'a b': must be printable" solo -U 'a b' true
	bad 64 "must be 1 to 80 characters" solo -U "$(printf 'x%.0s' $(seq 81))" true
	bad 64 "invalid wait '-1': negative" solo -w -1 "$P" true
	bad 64 "invalid wait 'nan'" solo -w nan "$P" true
	bad 64 "invalid max-time 'abc'" solo --max-time abc "$P" true
	bad 64 "invalid conflict exit code '256'" solo -E 256 "$P" true
	bad 64 "--test takes no command" solo --test "$P" true
	bad 64 "--test neither waits nor runs a command: -w and --max-time do not apply" solo --test -w 5 "$P"
	bad 64 "--test neither waits" solo --test --max-time 5 "$P"
	bad 64 "invalid option" solo -Z "$P" true
	bad 64 "^solo: unrecognized option" "$LOCKKIT_BIN/solo" --bogus "$P" true
	bad 69 "cannot run no-such-command-xyz" solo "$P" no-such-command-xyz
}

@test "solo: --slots and --replace" {
	bad 64 "^solo: invalid slots '0': expected 1 to 64$" solo --slots 0 "$P" true
	bad 64 "invalid slots '65': expected 1 to 64" solo --slots 65 "$P" true
	bad 64 "invalid slots 'x'" solo --slots x "$P" true
	bad 64 "invalid slots ' 4'" solo --slots ' 4' "$P" true
	bad 64 "^solo: --slots 8 from port 65530 runs past port 65535$" solo --slots 8 65530 true
	bad 64 "runs past port 65535" solo --test --slots 2 65535
	bad 64 "^solo: invalid name 'x{79}': too long with its slot number$" solo --slots 10 --abstract -U "$(printf 'x%.0s' $(seq 79))" true
	bad 64 "invalid name 'a b': must be printable" solo --slots 2 --abstract -U 'a b' true
	bad 64 "^solo: --slots needs a port or an abstract name, not the private name 'x' \(see --abstract\)$" solo --slots 2 --private -U x true
	bad 64 "^solo: --replace needs a port or an abstract name, not the private name 'x'" solo --replace --private -U x true
	bad 64 "^solo: --replace is for local locks only: not with --etcd$" env LOCKKIT_LIBEXECDIR="$LOCKKIT_BIN" solo --etcd http://127.0.0.1:1 --replace -U x true
	bad 64 "^solo: --slots is for local locks only: not with --etcd$" env LOCKKIT_LIBEXECDIR="$LOCKKIT_BIN" solo --slots 2 --etcd http://127.0.0.1:1 -U x true
	bad 64 "^solo: --replace goes with neither --test nor --slots$" solo --replace --slots 2 "$P" true
	bad 64 "--replace goes with neither" solo --replace --test "$P"
	bad 64 "^solo: --kill-after needs --replace$" solo --kill-after 3 "$P" true
	bad 64 "invalid kill-after 'inf'" solo --replace --kill-after inf "$P" true
	bad 64 "invalid kill-after '-1': negative" solo --replace --kill-after -1 "$P" true
}

@test "solo --etcd: solo itself refuses what only local locks take, before looking for solo-etcd" {
	# No solo-etcd here: a refusal must not depend on finding it.
	mkdir "$T/empty"
	export LOCKKIT_LIBEXECDIR=$T/empty
	bad 64 "^solo: --replace is for local locks only: not with --etcd$" solo --etcd http://127.0.0.1:1 --replace -U x true
	bad 64 "^solo: --slots is for local locks only: not with --etcd$" solo --slots 2 --etcd http://127.0.0.1:1 -U x true
	bad 64 "^solo: --kill-after is for local locks only: not with --etcd$" solo --etcd http://127.0.0.1:1 --kill-after 3 -U x true
	bad 64 "^solo: --json is for local locks only: not with --etcd$" solo --etcd http://127.0.0.1:1 --test --json -U x
	bad 64 "^solo: --etcd locks a name \(-U name\), not an address$" solo --etcd http://127.0.0.1:1 -a 127.0.0.1 -U x true
	# Read by solo before solo-etcd, with the same message.
	bad 64 "^solo: invalid conflict exit code '256': expected 0 to 255$" solo --etcd http://127.0.0.1:1 -E 256 -U x true
	# What solo-etcd alone reads goes with --etcd.
	bad 64 "^solo: --ttl goes with --etcd$" solo --ttl 5 -U x true
	bad 64 "^solo: --cacert goes with --etcd$" solo --cacert ca.crt "$P" true
	# The rest is solo-etcd's to judge: here, that it is missing.
	bad 69 "^solo: cannot run $T/empty/solo-etcd: " solo --etcd http://127.0.0.1:1 -U x true
}

@test "solo: Kay syntax" {
	bad 64 "invalid port '0'" solo -port=0 true
	bad 64 "invalid port 'abc': expected 1 to 65535" solo -port=abc true
	bad 64 "-port=PORT is required" solo -verbose true
	bad 64 "unknown option -bogus" solo -port="$P" -bogus true
	bad 64 "invalid timeout 'x'" solo -port="$P" -timeout=x true
	bad 64 "invalid sleep '-1': negative" solo -port="$P" -sleep=-1 true
	bad 64 "missing command" solo -port="$P"
}

@test "lockdev: options and operands" {
	bad 64 "missing device" lockdev
	bad 64 "-l, -u and -r are exclusive" lockdev -l -u /dev/null
	bad 64 "invalid pid '0'" lockdev -p 0 /dev/null
	bad 64 "invalid pid 'abc'" lockdev -p abc /dev/null
	bad 64 "invalid pid '\+5'" lockdev -p +5 /dev/null
	bad 64 "invalid pid '99999999999': expected 1 to 2147483647" lockdev -p 99999999999 /dev/null
	bad 64 "invalid new pid 'x'" lockdev -r x /dev/null
	bad 64 "invalid wait '-1': negative" lockdev -w -1 /dev/null
	bad 64 "-f goes with -u" lockdev -f /dev/null
	bad 64 "-w goes with -l or a command" lockdev -w 5 /dev/null
	bad 64 "-w goes with -l or a command" lockdev -u -w 5 /dev/null
	bad 64 "-p goes with -l, -u and -r" lockdev -p 1 /dev/null
	bad 64 "-p does not apply" lockdev -p 1 /dev/null true
	bad 64 "a command runs only without -l" lockdev -l /dev/null true
	bad 64 "invalid option" lockdev -Z /dev/null
	bad 64 "^lockdev: option requires an argument" "$LOCKKIT_BIN/lockdev" -L
	bad 64 "^lockdev: invalid lock directory '': empty$" lockdev -l -L '' /dev/null
}

@test "lockdev: devices and lock directories that do not work" {
	bad 7 "/dev/no-such-device: No such file or directory" lockdev -l /dev/no-such-device
	bad 5 "plain: not a character device" lockdev -l "$W/plain"
	bad 5 "d: not a character device" lockdev -l "$W/d"
	bad 5 "^lockdev: '': empty device name$" lockdev -l ''
	bad 6 "File name too long" lockdev -l "/dev/$(printf 'x%.0s' $(seq 300))"
	bad 10 "Too many levels of symbolic links" lockdev -l "$W/loop1"
	bad 7 "none: No such file or directory" lockdev -l -L "$W/none" /dev/null
	bad 8 "plain: Not a directory" lockdev -l -L "$W/plain" /dev/null
	chmod 0777 locks
	bad 12 "writable by others without the sticky bit" lockdev -l /dev/null
	chmod 0755 locks
	bad 69 "cannot run no-such-command-xyz" lockdev /dev/null no-such-command-xyz
}

@test "README gives the number of cases here" {
	local n
	n=$(grep -c '^[[:space:]]*bad [0-9]' "$BATS_TEST_FILENAME")
	[ "$n" -gt 0 ] || fail "no cases counted"
	grep -q "($n bad invocations" "$BATS_TEST_DIRNAME/../README.md" ||
		fail "README does not say $n bad invocations"
}
