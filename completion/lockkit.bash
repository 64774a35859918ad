# bash completion for lockkit's flockrun, solo and lockdev.  Installed as
# completions/flockrun, with solo and lockdev as links to it: whichever
# tool bash-completion loads it for, it sets up all three.
# Options and their fixed values; files for flockrun's lock, serial
# devices for lockdev's, names of solo's locks held now for -U; after the
# lock, the command and its arguments as that command completes them.
# Durations, numbers and addresses are left free.
# shellcheck shell=bash disable=SC2207
# (SC2207: COMPREPLY=($(compgen ...)) with IFS set to a newline is
# bash-completion's own idiom.)

# _lockkit_operand SHORT LONG: set op to the index in words of the first
# operand, or to the index it would have (>= cword) if none comes before
# the cursor, and ddash to whether "--" came before it (so the word there
# is an operand even if it begins with "-").  SHORT: the option letters
# that take an argument; LONG: the long options that do, as "|--a|--b|".
# Every tool stops at its first operand ("+" in its getopt string) and
# at "--".
_lockkit_operand()
{
	local w j
	ddash=false
	for ((op = 1; op < cword; op++)); do
		w=${words[op]}
		case $w in
		--)
			((op++))
			ddash=true
			return
			;;
		--*=*) ;;
		--*)
			[[ $2 == *"|$w|"* ]] && ((op++))
			;;
		-?*)
			# A cluster: its first letter that takes an argument takes
			# the rest of the word, or the next word.
			for ((j = 1; j < ${#w}; j++)); do
				if [[ $1 == *"${w:j:1}"* ]]; then
					((j == ${#w} - 1)) && ((op++))
					break
				fi
			done
			;;
		*)
			return
			;;
		esac
	done
}

# _lockkit_given OPT...: is any of these options among words[1] to
# words[op-1]?  A long OPT matches "OPT" and "OPT=..."; a short one a
# cluster holding its letter.
_lockkit_given()
{
	local i o
	for ((i = 1; i < op && i < cword; i++)); do
		for o; do
			case $o in
			--*) [[ ${words[i]} == "$o" || ${words[i]} == "$o"=* ]] ;;
			*) [[ ${words[i]} == -[!-]* && ${words[i]} == *"${o#-}"* ]] ;;
			esac && return 0
		done
	done
	return 1
}

# _lockkit_command I: complete words[I] on as a command line of its own.
# _command_offset counts in COMP_WORDS, where "--opt=value", one word in
# words (_init_completion -s), is three.
_lockkit_command()
{
	local i=0 k w
	for ((k = 0; k < $1; k++)); do
		w=${words[k]}
		while [[ -n $w ]] && ((i < ${#COMP_WORDS[@]})); do
			w=${w#"${COMP_WORDS[i]}"}
			((i++))
		done
	done
	_command_offset "$i"
}

# _lockkit_options LONG...: complete cur as one of these options.
_lockkit_options()
{
	COMPREPLY=($(compgen -W "$*" -- "$cur"))
	[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
}

_flockrun_module()
{
	local cur prev words cword split op ddash
	# -n :, as "host:port", "::1" and "a:b" are one word each.
	_init_completion -s -n : || return

	if $split && [[ $prev == --fcntl ]]; then
		COMPREPLY=($(compgen -W 'ofd posix' -- "$cur"))
		return
	fi
	case $prev in
	--also)
		_filedir
		return
		;;
	-c | --command)
		COMPREPLY=($(compgen -c -- "$cur"))
		return
		;;
	-w | --wait | --timeout | -E | --conflict-exit-code | --start | \
		--length | --max-time | --fd)
		return
		;;
	esac
	$split && return

	_lockkit_operand wE '|--wait|--timeout|--conflict-exit-code|--start|--length|--max-time|--fd|--also|'
	if ((op == cword)); then
		if [[ $cur == -* ]] && ! $ddash; then
			_lockkit_options --shared --exclusive --unlock --nonblock \
			    --nb --wait --timeout --conflict-exit-code --close \
			    --no-fork --fcntl --fcntl= --start --length \
			    --max-time --fd --also --remove --test --json \
			    --verbose --help --version
		elif _lockkit_given --fd; then
			_lockkit_command "$op"
		else
			_filedir
			__ltrim_colon_completions "$cur"
		fi
		return
	fi
	# With --fd the command begins at the first operand, else after
	# the lock; and --test takes no command.
	_lockkit_given --test && return
	_lockkit_given --fd || ((op++))
	if ((op == cword)) && [[ $cur == -* ]]; then
		_lockkit_options -c --command
	elif ((op < cword)) && [[ ${words[op]} == @(-c|--command) ]]; then
		((op + 1 == cword)) && COMPREPLY=($(compgen -c -- "$cur"))
	else
		_lockkit_command "$op"
	fi
}
complete -F _flockrun_module flockrun

# _solo_held: the names of solo's -U locks this user holds now.  Abstract
# ones (this network namespace): unix sockets listening (flag
# __SO_ACCEPTCON, 00010000) at "@solo/UID/NAME", as lib/socklock.c names
# them.  Private ones (solo(1), --private): the files in the directory
# solo would use whose inode /proc/locks lists with a flock, their names
# unescaped as lib/privlock.c escapes them (%2F, %2E, %25).
_solo_held()
{
	local d f n held
	_lockkit_operand aEUw '|--addr|--conflict-exit-code|--unix|--wait|--max-time|--dir|'
	if _lockkit_given --abstract; then
		d=
	elif _lockkit_given --dir; then
		d=$(_solo_dir_given)
	elif [[ -n ${SOLO_DIR-} ]]; then
		d=$SOLO_DIR
	elif ((EUID == 0)); then
		d=/run/solo
	elif _lockkit_given --private && [[ ${XDG_RUNTIME_DIR-} == /* ]]; then
		d=$XDG_RUNTIME_DIR/solo
	fi
	if [[ -z $d ]]; then
		awk -v p="@solo/$EUID/" '$4 == "00010000" && index($8, p) == 1 {
			print substr($8, length(p) + 1) }' /proc/net/unix 2>/dev/null
		return
	fi
	held=$(awk '$2 == "FLOCK" { n = split($6, a, ":"); print a[n] }' \
	    /proc/locks 2>/dev/null)
	for f in "$d"/*; do
		[[ -f $f ]] || continue
		grep -qx "$(stat -c %i -- "$f")" <<<"$held" || continue
		n=${f##*/}
		n=${n//%2F//}
		n=${n//%2E/.}
		printf '%s\n' "${n//%25/%}"
	done
}

# _solo_dir_given: the value of the last --dir among words[1..cword-1].
_solo_dir_given()
{
	local i d=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--dir=*) d=${words[i]#--dir=} ;;
		--dir) ((i + 1 < cword)) && d=${words[i + 1]} ;;
		esac
	done
	printf '%s' "$d"
}

_solo_module()
{
	local cur prev words cword split op ddash
	# -n :, as "host:port", "::1" and "a:b" are one word each.
	_init_completion -s -n : || return

	case $prev in
	-U | --unix)
		# Not compgen -W, which expands $ and ` and splits at quotes in
		# a name: the names that begin with the word as the shell reads
		# it, each quoted (printf %q) to be read back as it is.
		local n dcur
		dcur=$(dequote "$cur")
		while IFS= read -r n; do
			[[ $n == "$dcur"* ]] && COMPREPLY+=("$(printf '%q' "$n")")
		done < <(_solo_held)
		__ltrim_colon_completions "$cur"
		return
		;;
	--dir)
		_filedir -d
		return
		;;
	--cacert | --cert | --key)
		_filedir
		return
		;;
	-a | --addr | -E | --conflict-exit-code | -w | --wait | --max-time | \
	    --etcd | --ttl | --user | --kill-after | --slots)
		return
		;;
	esac
	$split && return

	# The old Perl solo's form: -port=N ... command.
	if [[ ${words[1]-} == -@(port=*|noport) ]]; then
		for ((op = 1; op < cword; op++)); do
			[[ ${words[op]} == -* ]] || break
		done
		((op < cword)) && _lockkit_command "$op"
		return
	fi

	_lockkit_operand aEUw '|--addr|--conflict-exit-code|--unix|--wait|--max-time|--dir|--etcd|--ttl|--cacert|--cert|--key|--user|--kill-after|--slots|'
	if ((op == cword)) && [[ $cur == -* ]]; then
		$ddash && return
		_lockkit_options --addr --unix --private --abstract --dir \
		    --conflict-exit-code --quiet --wait --max-time --replace \
		    --kill-after --slots --test --list --json --verbose --help \
		    --version --etcd --ttl --cacert --cert --key --user
		return
	fi
	# The command follows the port, or with -U comes first; --test
	# takes none, and --list no port either.
	_lockkit_given --test --list && return
	_lockkit_given -U --unix || ((op++))
	((op <= cword)) && _lockkit_command "$op"
}
complete -F _solo_module solo

# _lockdev_devices: serial devices by the names people give them:
# /dev/tty* and /dev/serial/by-id/* that are character devices.
_lockdev_devices()
{
	local d
	for d in /dev/tty* /dev/serial/by-id/*; do
		[[ -c $d ]] && printf '%s\n' "$d"
	done
}

_lockdev_module()
{
	local cur prev words cword split op ddash
	# -n :, as "host:port", "::1" and "a:b" are one word each.
	_init_completion -s -n : || return

	case $prev in
	-p | --pid | -r | --relock)
		_pids
		return
		;;
	-L | --lockdir)
		_filedir -d
		return
		;;
	-w | --wait)
		return
		;;
	esac
	$split && return

	_lockkit_operand Lprw '|--lockdir|--pid|--relock|--wait|'
	# --list takes no device.
	[[ $cur != -* ]] && _lockkit_given --list && return
	if ((op == cword)); then
		local IFS=$'\n'
		case $cur in
		-*)
			$ddash && return
			_lockkit_options --lock --unlock --relock --pid --wait \
			    --lockdir --force --quiet --verbose --debug --list \
			    --json --help --version
			;;
		'' | /dev/*)
			COMPREPLY=($(compgen -W "$(_lockdev_devices)" -- "$cur"))
			;;
		*/*)
			_filedir
			__ltrim_colon_completions "$cur"
			;;
		*)
			# lockdev takes a name under /dev, as ttyS0.
			COMPREPLY=($(compgen -W "$(_lockdev_devices |
			    sed 's|^/dev/||')" -- "$cur"))
			;;
		esac
		return
	fi
	# A command follows the device, except with -l, -u and -r.
	_lockkit_given -l --lock -u --unlock -r --relock ||
		_lockkit_command $((op + 1))
}
complete -F _lockdev_module lockdev
