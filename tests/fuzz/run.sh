#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh DIR SECONDS TARGET...: for each libFuzzer target DIR/TARGET,
# replay its seeds (tests/fuzz/corpus/TARGET) and regression inputs
# (tests/fuzz/regress/TARGET) once, then fuzz it for SECONDS (0: replay
# only).  New inputs go to DIR/corpus/TARGET, crashes to
# DIR/crash-TARGET-*, the output to DIR/TARGET.log.  Exits non-zero on
# the first target that fails, after showing the end of its log.
set -u
dir=$1 secs=$2
shift 2
here=$(dirname "$0")
status=0
for t in "$@"; do
	case $t in
	fuzz_request) extra="-close_fd_mask=2 -max_len=16384" ;;
	fuzz_spec) extra="-max_len=4096" ;;
	# Whole scripts from the start: the bugs are in long sequences.
	fuzz_conn) extra="-close_fd_mask=2 -max_len=4096 -len_control=0" ;;
	*) extra="-max_len=8192" ;;
	esac
	log=$dir/$t.log
	mkdir -p "$dir/corpus/$t"
	set -- -dict="$here/gtd.dict" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$dir/crash-$t-" $extra
	regress=
	[ -d "$here/regress/$t" ] && regress=$here/regress/$t
	echo "fuzz: $t: replaying seeds and regressions"
	if ! "$dir/$t" "$@" -runs=0 "$here/corpus/$t" $regress >"$log" 2>&1
	then
		tail -n 60 "$log"
		echo "fuzz: $t: FAILED (log $log)"
		exit 1
	fi
	[ "$secs" -gt 0 ] || continue
	echo "fuzz: $t: fuzzing for $secs s"
	if ! "$dir/$t" "$@" -max_total_time="$secs" "$dir/corpus/$t" \
	    "$here/corpus/$t" >>"$log" 2>&1; then
		tail -n 60 "$log"
		echo "fuzz: $t: FAILED (log $log; reproduce: $dir/$t FILE)"
		exit 1
	fi
	# "#N DONE cov: C ft: F corp: ..." and the exec count.
	grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1
	grep -E '^stat::number_of_executed_units' "$log" | tail -n 1
done
exit $status
