#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh BUILD PREFIX: build tests/libgtd/hello.c as a user would, with
# `pkg-config --cflags --libs gtd` against the install staged under
# PREFIX (make install DESTDIR=... PREFIX=/usr), once against the shared
# library and once against the static one, check what each links, and
# run both against a real gtd (BUILD/gtd, BUILD/gt-testchild).
set -eu
build=$1 prefix=$2
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/gtd-libgtd-XXXXXX)
gtd_pid=
cleanup() {
	if [ -n "$gtd_pid" ]; then
		kill -TERM "$gtd_pid" 2>/dev/null || :
		wait "$gtd_pid" 2>/dev/null || :
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "check-libgtd: $*" >&2
	exit 1
}

# The staged .pc names /usr paths: the sysroot puts them under the stage.
PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig
PKG_CONFIG_SYSROOT_DIR=${prefix%/usr}
export PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
pkg-config --exists gtd || fail "pkg-config does not know gtd"
cflags=$(pkg-config --cflags gtd)
libs=$(pkg-config --libs gtd)
static=$(pkg-config --static --libs gtd | sed 's/-lgtd/-l:libgtd.a/')
echo "check-libgtd: gtd $(pkg-config --modversion gtd): $cflags $libs"
${CC:-cc} -std=c11 -Wall -Werror -o "$dir/hello-shared" "$here/hello.c" \
    $cflags $libs
${CC:-cc} -std=c11 -Wall -Werror -o "$dir/hello-static" "$here/hello.c" \
    $cflags $static

# The library needs libc and nothing else; each program links what it
# says it does.
extra=$(readelf -d "$prefix/lib/libgtd.so.1" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' |
    grep -v -e '^libc\.so' -e '^ld-linux' || :)
[ -z "$extra" ] || fail "libgtd.so needs more than libc: $extra"
readelf -d "$dir/hello-shared" | grep -q 'NEEDED.*libgtd\.so\.1' ||
    fail "hello-shared does not link libgtd.so.1"
if readelf -d "$dir/hello-static" | grep -q 'NEEDED.*libgtd'; then
	fail "hello-static links libgtd dynamically"
fi

# gtd, ready when it writes a newline on fd 3 (a FIFO, read with a deadline).
mkfifo "$dir/ready"
"$build/gtd" -s "$dir/sock" -r 3 3>"$dir/ready" 2>"$dir/gtd.log" &
gtd_pid=$!
[ "$(timeout 10 head -c 1 "$dir/ready" | od -An -c | tr -d ' ')" = '\n' ] ||
    fail "gtd did not get ready: $(cat "$dir/gtd.log")"
LD_LIBRARY_PATH=$prefix/lib "$dir/hello-shared" "$dir/sock" \
    "$build/gt-testchild" shared || fail "hello-shared failed"
"$dir/hello-static" "$dir/sock" "$build/gt-testchild" static ||
    fail "hello-static failed"
echo "check-libgtd: shared and static programs ok"
