/* SPDX-License-Identifier: MIT */
/*
 * chaos: a seeded chaos client for the real gtd (check_e2e_chaos.c says
 * what it does and which invariants it checks).  One call runs a whole
 * chaos run: epochs of start, boot, chaos and stop, each with its own
 * seed; the first violation fails the test with a report that names the
 * seed to reproduce it.  Nothing is returned: the harness's rules apply
 * (every wait has a deadline, any failure is a Check failure).
 */
#ifndef GT_E2E_CHAOS_H
#define GT_E2E_CHAOS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Behaviours that can be left out (E2E_CHAOS_AVOID=stall,boot_reload...),
 * to look past a known bug or to narrow a failure down.  A signal is
 * never sent to a boot child during the boot: one that exits before it is
 * ready ends the boot (gtd exits 1, as gtd(8) documents).
 */
enum chaos_feature {
	CHAOS_STALL,		/* a connection stops reading */
	CHAOS_HALFCLOSE,	/* shutdown(SHUT_WR) */
	CHAOS_RESET,		/* SO_LINGER 0, then close */
	CHAOS_BURST,		/* thousands of requests pipelined */
	CHAOS_GARBAGE,		/* lines that are not JSON, blank lines */
	CHAOS_OVERSIZE,		/* a line over max_request_bytes */
	CHAOS_PARTIAL,		/* a request dribbled out a few bytes at a time */
	CHAOS_SUBSCRIBE,	/* subscribe, with since, names, events */
	CHAOS_FOLLOW,		/* logs follow */
	CHAOS_RELOAD,		/* config rewritten, then reload */
	CHAOS_SIGHUP,		/* config rewritten, then SIGHUP */
	CHAOS_BOOT_RELOAD,	/* reloads while boot children start */
	CHAOS_BOOT_SQUAT,	/* start_child of a boot name during boot */
	CHAOS_BOOT_KILL,	/* lifecycle ops on boot children in boot */
	CHAOS_BAD_CONFIG,	/* a config that does not validate */
	CHAOS_ADOPT,		/* add_existing_child of the test's processes */
	CHAOS_ADOPT_GTD,	/* add_existing_child of gtd's own pid */
	CHAOS_RELEASE,		/* release */
	CHAOS_SIGNAL,		/* signal, STOP and KILL included */
	CHAOS_FLOOD,		/* children that flood their output */
	CHAOS_CRASH,		/* children that crash or exit */
	CHAOS_GRANDCHILD,	/* children that fork */
	CHAOS_IGNORE_TERM,	/* children that ignore SIGTERM */
	CHAOS_STOP_SELF,	/* children that SIGSTOP themselves */
	CHAOS_NOTIFY_RACE,	/* notify datagrams from short-lived senders */
	CHAOS_WATCHDOG,		/* watchdog_ms, fed or not */
	CHAOS_HOOK,		/* after_terminate hooks */
	CHAOS_FILE_LOG,		/* stdout to a rotated file */
	CHAOS_SNAPSHOT,		/* the snapshot file */
	CHAOS_HEAVY_QUERY,	/* queries that try to run long */
	CHAOS_BIG_ATTR,		/* attr values of tens of KiB */
	CHAOS_LIST_KEYS,	/* list with thousands of keys */
	CHAOS_CONN_STORM,	/* connections past max_connections */
	CHAOS_NFEATURES
};

struct chaos_opts {
	uint64_t	 seed;		/* the first epoch's */
	long		 seconds;	/* the whole run */
	long		 epoch_s;	/* one gtd's life */
	int		 nconns;	/* chaos connections at once */
	uint64_t	 avoid;		/* 1 << CHAOS_* left out */
	bool		 quiet;		/* no per-epoch summary */
};

/*
 * Defaults, then the environment: E2E_CHAOS_SEED (decimal or 0x hex;
 * default: from the clock), E2E_CHAOS_SECONDS (default dflt_s),
 * E2E_CHAOS_EPOCH (seconds, default 10), E2E_CHAOS_CONNS (default 100,
 * 40 under ASan), E2E_CHAOS_AVOID and E2E_CHAOS_ALSO (comma-separated
 * feature names to leave out, and (off) ones to add).
 */
void		 chaos_opts_env(struct chaos_opts *, long dflt_s);
/* The feature's name in E2E_CHAOS_AVOID, or NULL. */
const char	*chaos_feature_name(enum chaos_feature);
/* Run; fails the test (with the seed to reproduce) at a violation. */
void		 chaos_run(const struct chaos_opts *);

#endif /* GT_E2E_CHAOS_H */
