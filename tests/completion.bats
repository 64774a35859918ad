#!/usr/bin/env bats
# Bash completion (completion/lockkit.bash), driven as bash drives it:
# COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set, the tool's
# function called, COMPREPLY read.  One test per kind of word: options
# and their values, durations left free, files, devices, pids, held
# lock names, and the command after the lock completed as a command.

load helper

SRC=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BASH_COMPLETION=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}

setup() {
	lk_setup || return 1
	[ -r "$BASH_COMPLETION" ] ||
		skip "needs bash-completion (Debian: bash-completion; make deps)"
	# shellcheck source=/dev/null
	source "$BASH_COMPLETION"
	# shellcheck source=/dev/null
	source "$SRC/completion/lockkit.bash"
	# Outside a completion bash refuses compopt; what it would set is
	# not under test.
	# shellcheck disable=SC2317
	compopt() { :; }
	# A command with a completion of its own, to complete after the lock.
	complete -W 'beta gamma' lkcmd
	touch alpha
	mkdir adir
}

# comp LINE: complete at the end of LINE as bash would, split into words
# at blanks, with each run of "=" and ":" a word of its own as
# COMP_WORDBREAKS makes it ("a:b" is "a" ":" "b", "::1" is "::" "1");
# print COMPREPLY sorted, one to a line.
comp() {
	local w words=()
	read -r -a COMP_WORDS <<<"$1"
	for w in "${COMP_WORDS[@]}"; do
		while [[ $w =~ ^([^=:]*)([=:]+)(.*)$ ]]; do
			[ -n "${BASH_REMATCH[1]}" ] && words+=("${BASH_REMATCH[1]}")
			words+=("${BASH_REMATCH[2]}")
			w=${BASH_REMATCH[3]}
		done
		[ -n "$w" ] && words+=("$w")
	done
	[[ $1 == *[\ =:] ]] && words+=("")
	COMP_WORDS=("${words[@]}")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$1
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	"_${COMP_WORDS[0]}_module" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" \
	    "${COMP_WORDS[COMP_CWORD - 1]}"
	if [ "${#COMPREPLY[@]}" -gt 0 ]; then
		printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
	fi
}

@test "completion: options by their long names" {
	run -0 comp 'flockrun --no'
	assert_output $'--no-fork\n--nonblock'
	run -0 comp 'solo --t'
	assert_output $'--test\n--ttl'
	run -0 comp 'lockdev --l'
	assert_output $'--list\n--lock\n--lockdir'
	# After a lock file's command, options are the command's.
	run -0 comp 'flockrun alpha --no'
	assert_output ''
}

@test "completion: every long option a tool's --help lists is completed" {
	for t in flockrun lockdev solo; do
		run -0 "$t" --help
		opts=$(grep -oE -- '--[a-z][a-z-]*' <<<"$output" | sort -u)
		[ -n "$opts" ]
		# flockrun's -c comes after the lock.
		run -0 eval 'comp "$t -"; comp "$t alpha -"'
		for o in $opts; do
			assert_line "$o"
		done
	done
}

@test "completion: --fcntl= offers ofd and posix" {
	run -0 comp 'flockrun --fcntl='
	assert_output $'ofd\nposix'
	run -0 comp 'flockrun --fcntl=p'
	assert_output 'posix'
}

@test "completion: durations, numbers and addresses are left free" {
	for line in 'flockrun -w ' 'flockrun --timeout ' 'flockrun --start ' \
	    'flockrun -E ' 'flockrun --max-time ' 'solo --wait ' 'solo --max-time ' 'solo -a ' \
	    'lockdev -w ' 'solo 80' 'solo -w 5 80' 'solo --slots ' \
	    'solo --replace --kill-after '; do
		run -0 comp "$line"
		assert_output ''
	done
}

@test "completion: flockrun's lock and --also are files and directories" {
	run -0 comp 'flockrun a'
	assert_output $'adir\nalpha'
	run -0 comp 'flockrun --also a'
	assert_output $'adir\nalpha'
	run -0 comp 'flockrun -n -w 5 --fcntl=ofd --also alpha a'
	assert_output $'adir\nalpha'
	run -0 comp 'flockrun --max-time 60 a'
	assert_output $'adir\nalpha'
}

@test "completion: after flockrun's lock, the command and its arguments" {
	run -0 comp 'flockrun alpha tru'
	assert_line 'true'
	run -0 comp 'flockrun alpha lkcmd b'
	assert_output 'beta'
	run -0 comp 'flockrun --fcntl=ofd -nw 5 -- alpha lkcmd g'
	assert_output 'gamma'
	run -0 comp 'flockrun --fd 3 lkcmd b'
	assert_output 'beta'
	run -0 comp 'flockrun alpha -c tru'
	assert_line 'true'
	run -0 comp 'flockrun alpha -'
	assert_output $'--command\n-c'
	# --test runs nothing.
	run -0 comp 'flockrun --test alpha '
	assert_output ''
}

@test "completion: after solo's port or -U name, the command" {
	run -0 comp 'solo 80 lkcmd b'
	assert_output 'beta'
	run -0 comp 'solo -q -w 5 -U job lkcmd g'
	assert_output 'gamma'
	run -0 comp 'solo --unix=job lkcmd g'
	assert_output 'gamma'
	run -0 comp 'solo -port=80 -silent lkcmd b'
	assert_output 'beta'
	run -0 comp 'solo --slots 4 --replace --kill-after 3 80 lkcmd b'
	assert_output 'beta'
	run -0 comp 'solo --test -U job '
	assert_output ''
}

@test "completion: solo -U offers the names of this user's locks held now" {
	name=lkcomp-$$-$BATS_TEST_NUMBER
	run -0 comp "solo --test --abstract -U $name"
	assert_output ''
	hold solo --abstract -U "$name"
	run -0 comp "solo --test --abstract -U $name"
	assert_output "$name"
	run -0 comp "solo -w 5 --abstract -U $name"
	assert_output "$name"
	release
	run -0 comp "solo --test --abstract -U $name"
	assert_output ''
}

@test "completion: solo -U offers private names held now, in --dir or SOLO_DIR" {
	mkdir -m 700 p
	run -0 solo --dir p -U old true
	hold solo --dir p -U a/.b
	run -0 comp "solo --dir p --test -U "
	assert_output 'a/.b'
	run -0 comp "solo --dir=p -U a"
	assert_output 'a/.b'
	SOLO_DIR=p run -0 comp "solo -U "
	assert_output 'a/.b'
	release
	run -0 comp "solo --dir p --test -U "
	assert_output ''
}

@test "completion: solo --dir is a directory" {
	run -0 comp 'solo --dir a'
	assert_output 'adir'
}

@test "completion: lockdev's device is a character device" {
	want=$(for d in /dev/tty* /dev/serial/by-id/*; do
		[ -c "$d" ] && echo "$d"; done | LC_ALL=C sort)
	run -0 comp 'lockdev '
	assert_output "$want"
	assert_line /dev/tty
	run -0 comp 'lockdev -w 5 /dev/tt'
	assert_output "$(grep '^/dev/tt' <<<"$want")"
	# A name under /dev, as lockdev takes it.
	run -0 comp 'lockdev tty'
	assert_output "$(sed -n 's|^/dev/\(tty.*\)|\1|p' <<<"$want")"
	# Any other path is a file.
	run -0 comp 'lockdev ./a'
	assert_output $'./adir\n./alpha'
}

@test "completion: lockdev -p and -r take pids, -L a directory" {
	run -0 comp 'lockdev -p '
	assert_line "$$"
	run -0 comp 'lockdev -l --relock '
	assert_line "$$"
	run -0 comp 'lockdev -L a'
	assert_output 'adir'
}

@test "completion: after lockdev's device, the command, but not with -l, -u, -r" {
	run -0 comp 'lockdev /dev/tty lkcmd b'
	assert_output 'beta'
	run -0 comp 'lockdev -w 5 --lockdir=adir ttyS0 lkcmd g'
	assert_output 'gamma'
	for o in -l --unlock '-r 1'; do
		run -0 comp "lockdev $o /dev/tty "
		assert_output ''
	done
}

@test "completion: --list takes no port, name or device" {
	run -0 comp 'solo --list '
	assert_output ''
	run -0 comp 'solo --list --json lkcmd '
	assert_output ''
	run -0 comp 'lockdev --list '
	assert_output ''
	run -0 comp 'lockdev --list --js'
	assert_output '--json'
}

@test "completion: a word with ':' in it is one word (operand, address, URL)" {
	touch a:b
	run -0 comp 'flockrun a:b lkcmd b'
	assert_output 'beta'
	run -0 comp 'flockrun a:b -'
	assert_output $'--command\n-c'
	run -0 comp 'flockrun a:'
	assert_output 'b'
	run -0 comp 'solo -a ::1 5000 lkcmd b'
	assert_output 'beta'
	run -0 comp 'solo -a 127.0.0.1 --addr=::1 5000 lkcmd g'
	assert_output 'gamma'
	run -0 comp 'solo --etcd http://x:2379 -U n lkcmd g'
	assert_output 'gamma'
}

@test "completion: after '--' the next word is the operand, never an option" {
	run -0 comp 'flockrun -- -'
	assert_output ''
	touch ./-x
	run -0 comp 'flockrun -- -'
	assert_output '-x'
	run -0 comp 'solo -- -'
	assert_output ''
	run -0 comp 'lockdev -- -'
	assert_output ''
	run -0 comp 'flockrun -- alpha lkcmd b'
	assert_output 'beta'
}

@test "completion: solo -U quotes a held name the shell would read otherwise" {
	name="q'\"\\\$(x)-$$-$BATS_TEST_NUMBER"
	hold solo --abstract -U "$name"
	run -0 comp "solo --test --abstract -U q"
	assert_output "$(printf '%q' "$name")"
	eval "set -- $output"
	assert_equal "$1" "$name"
	run -0 comp "solo --test --abstract -U $(printf '%q' "q'")"
	assert_output "$(printf '%q' "$name")"
	release
}
