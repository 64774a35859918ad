#!/usr/bin/env bats
# The Debian package (debian/): dpkg-buildpackage -b builds it from a copy
# of the tree (the tree itself stays as it was), lintian finds no error
# and no warning, it holds exactly the expected files with their modes,
# and each tool unpacked from it runs and locks; the build takes
# dpkg-buildflags' hardening flags and runs make check unless nocheck;
# one version everywhere; and make deps installs the build dependencies.
# The package is built once for the file, with nocheck, as make check is
# what is running.  Where dpkg-buildpackage is missing (not Debian) the
# build's tests skip; make deps installs it.

load helper

SRC=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# mkvar VAR: the value the Makefile gives VAR.
mkvar() {
	make -s -C "$SRC" --no-print-directory --eval="lk-print: ; @echo \$($1)" \
	    lk-print
}

setup_file() {
	# The package's own build runs make check, and with it this file:
	# building the package again inside would never end.
	[ -z "${LOCKKIT_PACKAGE_BUILD:-}" ] || return 0
	[ "${LOCKKIT_SANITIZE:-}" != 1 ] || return 0
	command -v dpkg-buildpackage >/dev/null || return 0
	local b=$BATS_FILE_TMPDIR
	mkdir "$b/src" || return 1
	tar -C "$SRC" --exclude=./.git --exclude=./bin --exclude=./bin-san \
	    --exclude=./bin-fuzz --exclude='*.o' --exclude='*.a' -cf - . |
	    tar -C "$b/src" -xf - || return 1
	(cd "$b/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) \
	    > "$b/log" 2>&1
	echo "$?" > "$b/status"
}

setup() {
	lk_setup || return 1
	B=$BATS_FILE_TMPDIR
	V=$(mkvar VERSION)
}

# built: skip unless setup_file built the package; then its architecture
# in A and the .deb's path in DEB.
built() {
	if [ -n "${LOCKKIT_PACKAGE_BUILD:-}" ]; then
		skip "the package's own build cannot build the package"
	elif [ "${LOCKKIT_SANITIZE:-}" = 1 ]; then
		skip "run by the plain make check"
	elif ! command -v dpkg-buildpackage >/dev/null; then
		skip "needs dpkg-buildpackage (Debian: dpkg-dev; make deps)"
	fi
	A=$(dpkg --print-architecture)
	DEB=$B/lockkit_${V}_$A.deb
}

@test "dpkg-buildpackage -b builds lockkit_VERSION_ARCH.deb and its -dbgsym" {
	built
	run cat "$B/status" "$B/log"
	assert_line --index 0 0
	assert_file_exists "$DEB"
	assert_file_exists "$B/lockkit-dbgsym_${V}_$A.deb"
	assert_file_exists "$B/lockkit_${V}_$A.changes"
}

@test "lintian reports no error and no warning" {
	built
	run --separate-stderr lintian --fail-on error,warning \
	    "$B/lockkit_${V}_$A.changes"
	assert_success
	refute_output --regexp '^[EW]: '
}

@test "the package holds exactly the expected files, with their modes" {
	built
	run -0 dpkg-deb -c "$DEB"
	# Mode, owner, path and a link's target: sizes and dates vary.
	run -0 awk '{ s = $1 " " $2; for (i = 6; i <= NF; i++) s = s " " $i
	    print s }' <<<"$output"
	run -0 env LC_ALL=C sort -k3 <<<"$output"
	d='drwxr-xr-x root/root' x='-rwxr-xr-x root/root' f='-rw-r--r-- root/root'
	l='lrwxrwxrwx root/root' c=./usr/share/bash-completion/completions
	assert_output "$(LC_ALL=C sort -k3 <<EOF
$d ./
$d ./usr/
$d ./usr/bin/
$x ./usr/bin/flockrun
$x ./usr/bin/lockdev
$x ./usr/bin/solo
$d ./usr/libexec/
$d ./usr/libexec/lockkit/
$x ./usr/libexec/lockkit/solo-etcd
$d ./usr/share/
$d ./usr/share/bash-completion/
$d $c/
$f $c/flockrun
$l $c/lockdev -> flockrun
$l $c/solo -> flockrun
$d ./usr/share/doc/
$d ./usr/share/doc/lockkit/
$f ./usr/share/doc/lockkit/changelog.gz
$f ./usr/share/doc/lockkit/copyright
$d ./usr/share/man/
$d ./usr/share/man/man1/
$f ./usr/share/man/man1/flockrun.1.gz
$f ./usr/share/man/man1/lockdev.1.gz
$f ./usr/share/man/man1/solo.1.gz
EOF
)"
}

@test "each tool unpacked from the package runs --version, takes and releases a lock" {
	built
	run -0 dpkg -x "$DEB" "$T/root"
	R=$T/root/usr/bin
	for t in flockrun lockdev solo; do
		run -0 "$R/$t" --version
		assert_output "$t (lockkit) $V"
	done

	# Held while the command runs (a second take fails), free after.
	run -1 "$R/flockrun" "$T/f" "$R/flockrun" -n "$T/f" true
	run -0 "$R/flockrun" -n "$T/f" true

	# A private name in the test's own directory: as root, -U would
	# leave a file in the machine's /run/solo.
	name=lockkit-deb-$$
	run -1 "$R/solo" --dir "$T/solo" -U "$name" "$R/solo" --dir "$T/solo" -U "$name" true
	run -0 "$R/solo" --dir "$T/solo" -U "$name" true

	# A pseudo-terminal of the test's own: other tests lock /dev/null.
	lockdir
	pty
	run -0 "$R/lockdev" "$PTY" sh -c '! "$1" -q "$2"' sh "$R/lockdev" "$PTY"
	run -0 --separate-stderr "$R/lockdev" "$PTY"
	assert_output ''
	run find "$T/locks" -type f
	assert_output ''
}

@test "the build compiles and links with every flag dpkg-buildflags gives" {
	built
	# As debian/rules asks for them, where the build ran (-ffile-prefix-map
	# names the directory).
	flags() {
		(cd "$B/src" && DEB_BUILD_MAINT_OPTIONS=hardening=+all \
		    dpkg-buildflags --get "$1")
	}
	read -r -a cflags <<<"$(flags CFLAGS) $(flags CPPFLAGS)"
	read -r -a ldflags <<<"$(flags LDFLAGS)"
	run -0 grep -E '^cc .* -c -o (cmd|lib)/' "$B/log"
	assert_equal "${#lines[@]}" "$(ls "$SRC"/cmd/*.c "$SRC"/lib/*.c | wc -l)"
	for f in "${cflags[@]}"; do
		run grep -E '^cc .* -c -o (cmd|lib)/' "$B/log"
		run grep -vF -e " $f " <<<"$output"
		assert_output ''
	done
	run -0 grep -E '^cc .* -o bin/(flockrun|lockdev|solo) ' "$B/log"
	assert_equal "${#lines[@]}" 3
	for f in "${ldflags[@]}"; do
		run grep -E '^cc .* -o bin/(flockrun|lockdev|solo) ' "$B/log"
		run grep -vF -e " $f " <<<"$output"
		assert_output ''
	done
}

@test "debian/rules runs make check in the build, unless DEB_BUILD_OPTIONS has nocheck" {
	command -v dh >/dev/null || skip "needs debhelper (make deps)"
	cd "$SRC" || return 1
	run -0 make -s --no-print-directory -n -f debian/rules \
	    override_dh_auto_test
	assert_output 'LOCKKIT_PACKAGE_BUILD=1 dh_auto_test'
	run -0 env -u DEB_BUILD_OPTIONS dh_auto_test --no-act
	assert_output --regexp '^	make -j[0-9]+ check$'
	run -0 env DEB_BUILD_OPTIONS='parallel=2 nocheck' dh_auto_test --no-act
	assert_output ''
}

@test "--version, make and debian/changelog give one version" {
	command -v dpkg-parsechangelog >/dev/null ||
		skip "needs dpkg-parsechangelog (Debian: dpkg-dev; make deps)"
	run -0 dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version
	assert_output "$V"
	assert_output --regexp '^[0-9]+\.[0-9]+\.[0-9]+$'
	for t in flockrun lockdev solo; do
		run -0 "$t" --version
		assert_output "$t (lockkit) $V"
	done
}

@test "make deps installs every Build-Depends; Build-Depends names the rest of make deps" {
	# Build-Depends, without versions, architectures and profiles;
	# debhelper-compat is debhelper's.
	export LC_ALL=C
	bd=$(sed -n '/^Build-Depends:/,/^[^ ]/p' "$SRC/debian/control" |
	    sed '$d; s/^Build-Depends://' | tr ',' '\n' |
	    sed 's/[[(<].*//; s/[[:space:]]//g; /^$/d' |
	    sed 's/^debhelper-compat$/debhelper/' | sort)
	pk=$(mkvar DEBPKGS | tr ' ' '\n' | sed '/^$/d' | sort)
	run comm -23 - <(echo "$pk") <<<"$bd"
	assert_output ''
	# Not build dependencies: the essential and build-essential packages,
	# and what builds the package and checks it (this file).
	run comm -23 - <(echo "$bd") <<<"$pk"
	assert_output "build-essential
dpkg-dev
fakeroot
lintian
util-linux"
}
