#!/usr/bin/env bats
# Man pages: lint clean, and each SYNOPSIS says what usage() says.

load helper

setup_file() {
	command -v mandoc >/dev/null || skip "mandoc not installed"
}

synopsis() {
	mandoc -Tascii -Owidth=500 "$BATS_TEST_DIRNAME/../man/$1.1" | col -b |
		awk '/^SYNOPSIS/ { f = 1; next } /^[A-Z]/ { f = 0 } f' |
		tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

usage_text() {
	"$1" --no-such-option 2>&1 >/dev/null | sed -n '/^usage:/,$p' |
		sed 's/^usage: //' | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

check_page() {
	run -0 mandoc -Tlint -Wwarning "$BATS_TEST_DIRNAME/../man/$1.1"
	assert_output ''
	run -64 "$1" --no-such-option
	assert_equal "$(usage_text "$1")" "$(synopsis "$1")"
}

@test "flockrun.1 is lint clean and its SYNOPSIS matches usage" {
	check_page flockrun
}

@test "solo.1 is lint clean and its SYNOPSIS matches usage" {
	check_page solo
}

@test "lockdev.1 is lint clean and its SYNOPSIS matches usage" {
	check_page lockdev
}

@test "no man page footer says BSD: .Os names lockkit" {
	for p in flockrun solo lockdev; do
		run -0 mandoc -Tascii "$BATS_TEST_DIRNAME/../man/$p.1"
		assert_line --regexp '^lockkit +.* +lockkit$'
		refute_line --regexp 'BSD'
	done
}

@test "every JSON output section is in DESCRIPTION, not ENVIRONMENT" {
	for p in flockrun solo lockdev; do
		run -0 awk '/^\.Sh/ { sh = $2 } /^\.Ss JSON output/ { print sh }' \
			"$BATS_TEST_DIRNAME/../man/$p.1"
		assert_output DESCRIPTION
	done
}

@test "the man pages call a holder's uid the real uid, as the tools print" {
	for p in flockrun solo lockdev; do
		run -1 grep -n "effective uid while\|holder's effective uid\|owner's effective uid" \
			"$BATS_TEST_DIRNAME/../man/$p.1"
	done
}
