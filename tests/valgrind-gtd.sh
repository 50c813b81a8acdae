#!/bin/sh
# SPDX-License-Identifier: MIT
# valgrind-gtd.sh: gtd under valgrind's memcheck, for `make
# check-valgrind` (the e2e harness execs $GTD, a single path, so the
# valgrind command line lives here).  valgrind keeps the pid, so the
# harness still signals and reaps gtd itself.  gtd exits 99 on any
# memcheck error or definitely lost block; the report goes to
# $GTD_VALGRIND_LOGS/gtd.PID.log when that is set, else to stderr (the
# harness's DIR/gtd.log).  Children are not traced: between fork and
# exec they stay silent (--child-silent-after-fork).
#   GTD_REAL	the gtd binary (default build/gtd)
real=${GTD_REAL:-build/gtd}
log=
[ -n "${GTD_VALGRIND_LOGS:-}" ] && log=--log-file=$GTD_VALGRIND_LOGS/gtd.%p.log
exec valgrind -q --tool=memcheck --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --track-origins=yes --child-silent-after-fork=yes \
    --suppressions="$(dirname "$0")/valgrind.supp" $log "$real" "$@"
