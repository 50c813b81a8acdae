#!/bin/sh
# SPDX-License-Identifier: MIT
# check-install.sh [B]: `make install` into a scratch prefix (PREFIX, no
# DESTDIR, so the paths in the units are real ones) and check what it put
# there as a system would use it: the programs, manuals and completions
# are there (and parse); gtd@.service runs the installed gtd on /etc/gtd/%i.json,
# asserts that file exists and reloads with the installed gtctl;
# systemd-analyze verify accepts both units (when systemd-analyze
# exists); the installed gtd refuses a missing configuration file with
# a message that names it.  Run by `make check-install`.
set -eu

B=${1:-build}
tmp=$(mktemp -d /tmp/gtd-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() {
	echo "check-install: FAIL: $*" >&2
	exit 1
}

p=$tmp/usr
make -s install B="$B" PREFIX="$p" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "make install"; }
for f in sbin/gtd bin/gtctl; do
	[ -x "$p/$f" ] || fail "$p/$f is not installed"
done
for f in share/man/man1/gtctl.1 share/man/man5/gtd.conf.5 \
    share/man/man7/gtd-protocol.7 share/man/man8/gtd.8 \
    share/bash-completion/completions/gtctl \
    share/zsh/site-functions/_gtctl \
    lib/systemd/system/gtd@.service lib/systemd/system/gtd@.socket; do
	[ -f "$p/$f" ] || fail "$p/$f is not installed"
done

unit=$p/lib/systemd/system/gtd@.service
for line in "ExecStart=$p/sbin/gtd -z %i -c /etc/gtd/%i.json" \
    "ExecReload=$p/bin/gtctl -z %i reload" \
    "AssertPathExists=/etc/gtd/%i.json"; do
	grep -qxF "$line" "$unit" || fail "$unit has no line: $line"
done
grep -qxF "ListenStream=/run/gtd/%i.sock" \
    "$p/lib/systemd/system/gtd@.socket" ||
    fail "gtd@.socket does not listen on /run/gtd/%i.sock"

if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$tmp/units"
	cp "$unit" "$tmp/units/gtd@web.service"
	cp "$p/lib/systemd/system/gtd@.socket" "$tmp/units/gtd@web.socket"
	systemd-analyze verify --man=no "$tmp/units/gtd@web.service" \
	    "$tmp/units/gtd@web.socket" >"$tmp/verify.log" 2>&1 ||
	    { cat "$tmp/verify.log"; fail "systemd-analyze verify"; }
	if grep -q . "$tmp/verify.log"; then
		cat "$tmp/verify.log"
		fail "systemd-analyze verify warned"
	fi
else
	echo "check-install: no systemd-analyze, units not verified"
fi

# The completions parse (zsh only where it is installed).
bash -n "$p/share/bash-completion/completions/gtctl" ||
    fail "bash completion does not parse"
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$p/share/zsh/site-functions/_gtctl" ||
	    fail "zsh completion does not parse"
else
	echo "check-install: no zsh, its completion not parsed"
fi

# The ExecStart line as systemd would run it for zone "web", without the
# file: a non-zero exit whose message names the missing path.
if "$p/sbin/gtd" -z web -c "$tmp/etc/gtd/web.json" -s "$tmp/web.sock" \
    2>"$tmp/gtd.err"; then
	fail "gtd started without its configuration file"
fi
grep -q "$tmp/etc/gtd/web.json" "$tmp/gtd.err" ||
    fail "gtd's error does not name the file: $(cat "$tmp/gtd.err")"
echo "check-install: ok"
