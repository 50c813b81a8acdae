/* SPDX-License-Identifier: MIT */
/*
 * cluster: one zone's children across machines, on etcd (protocol §9.3).
 * Membership (one lease per gtd), claims of cluster-scope names (a key
 * created only if absent, attached to the lease), a local mirror of the
 * zone's cluster registry (range, then a watch from the next revision;
 * a full re-read after a compaction), failover of a dead node's
 * `failover` children, and self-fencing.  Built on etcd.c; knows nothing
 * of child.c: it reports through struct cluster_observer and is told
 * what happens through cluster_claim/update/release.
 *
 * Keys (zone Z, node N, child name C):
 *   /gtd/Z/nodes/N     {"node","lease_ttl_ms","pid","started_at"}   lease
 *   /gtd/Z/children/C  {"node","pid","state","failover","spec"}     lease
 * Both are attached to the node's lease, so a node's death (its lease
 * expires) deletes its node key and its claims in one revision: that is
 * how the others tell a dead node's children (failover) from a released
 * one (no failover, its node key stays).
 *
 * Time: deadlines that matter for fencing are on CLOCK_BOOTTIME
 * (cluster_clock_ms), which goes on while the machine is suspended, as
 * etcd's clock does elsewhere.  A claim's lease can expire in etcd no
 * earlier than lease_ttl_ms after this node *sent* the renewal etcd last
 * accepted; the node tells its owner to fence (must_fence) a margin
 * before that, and gives it a kill_by time still before it.
 *
 * A decision module: logs each state change once (log.h); never blocks;
 * every callback comes from the loop, never from inside the call that
 * caused it.  The observer may call any cluster function, and may free
 * the cluster (cluster_free) inside a callback.
 */
#ifndef GT_CLUSTER_H
#define GT_CLUSTER_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct cluster;
struct cluster_op;

#define CLUSTER_TTL_MIN_MS	2000
#define CLUSTER_OP_MS		2000	/* cluster ops answer within this */
#define CLUSTER_FAILOVER_STEP_MS 300	/* delay per preference rank */
#define CLUSTER_NAME_MAX	1024	/* a child's name, as in a spec */
#define CLUSTER_NODE_MAX	255	/* zone and node names */

enum cluster_state {
	CLUSTER_JOINING,	/* no lease yet: starting, or no etcd */
	CLUSTER_UP,		/* lease held and renewed, node key in place */
	CLUSTER_DEGRADED,	/* renewals fail; the lease may still live */
	CLUSTER_FENCED,		/* the lease may be gone: children stopped */
	CLUSTER_CONFLICT,	/* another live gtd uses this node name */
	CLUSTER_STOPPED		/* shut down */
};

/* One row of the mirror (borrowed: valid until the next loop callback). */
struct cluster_entry {
	const char	*name;
	const char	*node;		/* the holder */
	pid_t		 pid;		/* -1: none yet */
	const char	*state;		/* the holder's child state */
	const char	*spec;		/* the childspec, JSON text ("{}") */
	bool		 failover;
	int64_t		 revision;	/* the claim's create revision */
	int64_t		 mod_revision;
	int64_t		 lease;
};

enum cluster_claim_status {
	CLUSTER_CLAIMED,	/* this node holds it now: start it */
	CLUSTER_HELD,		/* held already (holder; may be this node) */
	CLUSTER_UNAVAILABLE	/* no answer in time, or no lease (message) */
};

struct cluster_claim_result {
	enum cluster_claim_status	 status;
	int64_t				 fence;		/* CLAIMED: GTD_FENCE */
	const struct cluster_entry	*holder;	/* HELD */
	const char			*message;	/* UNAVAILABLE: why */
};

typedef void	cluster_claim_cb(const struct cluster_claim_result *,
		    void *arg);

/* A failover this node won: start name from spec with GTD_FENCE=fence. */
struct cluster_failover {
	const char	*name;
	const char	*spec;		/* JSON text */
	const char	*from;		/* the node that died */
	int64_t		 fence;
	int64_t		 sent_at;	/* cluster_clock_ms() the claim left */
};

/*
 * What the cluster tells its owner.  Every member may be NULL; arg is
 * cluster_opts.obs_arg.
 */
struct cluster_observer {
	/* A mirror row changed (e NULL: it is gone); this node's too. */
	void	(*changed)(const char *name, const struct cluster_entry *e,
		    void *arg);
	/*
	 * This node claimed a dead node's failover child: start it, then
	 * cluster_update() its pid and state (or cluster_release()).
	 */
	void	(*start_failover)(const struct cluster_failover *, void *arg);
	/*
	 * The lease may expire (renewals failed until the fencing deadline,
	 * or etcd said it is gone): stop every cluster child now, and have
	 * every one dead by kill_by (cluster_clock_ms time; SIGKILL what is
	 * left).  Every claim of this node is forgotten; the node rejoins
	 * with a new lease when etcd answers again.
	 */
	void	(*must_fence)(int64_t kill_by, const char *why, void *arg);
	/* One claim is not this node's any more: stop that child now. */
	void	(*lost)(const char *name, void *arg);
	/*
	 * The lease was renewed: if no renewal follows, the cluster children
	 * must be dead by kill_by.  For a watchdog that outlives a stopped
	 * gtd (fence.h).
	 */
	void	(*renewed)(int64_t kill_by, void *arg);
	/* The state changed (why: the cause, or NULL). */
	void	(*state)(enum cluster_state, const char *why, void *arg);
};

struct cluster_opts {
	struct ev_loop			*loop;
	const char *const		*endpoints;	/* etcd, copied */
	size_t				 nendpoints;
	const char			*zone;
	const char			*node;
	int				 lease_ttl_ms;	/* whole s, >= 2000 */
	int				 op_timeout_ms;	/* 0: CLUSTER_OP_MS */
	int				 failover_step_ms; /* 0: default */
	pid_t				 pid;		/* in the node key */
	const struct cluster_observer	*obs;
	void				*obs_arg;
};

/*
 * Start a node: validates the options, then joins from the loop (grant a
 * lease, claim the node key, read and watch the zone).  NULL and *cause
 * (xmalloc'd) on bad options (names empty, with '/', too long, control
 * characters; bad endpoints) or when gtd was built without libcurl.
 */
struct cluster	*cluster_new(const struct cluster_opts *, char **cause);
/* Stop at once: no revoke, no callback after this.  NULL is fine. */
void		 cluster_free(struct cluster *);
/*
 * Clean leave: forget every claim and revoke the lease, which deletes
 * this node's keys at once (so others fail over its failover children
 * now: stop them first).  done(arg) from the loop when etcd answered or
 * after op_timeout_ms; then cluster_free.
 */
void		 cluster_shutdown(struct cluster *, void (*done)(void *),
		    void *arg);

/*
 * Claim name for this node (spec: the childspec as JSON text; failover:
 * its `failover` field).  cb gets exactly one result, from the loop,
 * within op_timeout_ms, unless cancelled.  A second claim of a name this
 * node is claiming or releasing waits for that to finish.  A claim the
 * node fenced under is sent again under the new lease (up to 3 sends,
 * within the same op_timeout_ms).  The pointer is borrowed: valid until
 * cb returns.
 */
struct cluster_op *cluster_claim(struct cluster *, const char *name,
		    const char *spec, bool failover, cluster_claim_cb *,
		    void *arg);
/*
 * Forget the result (cb is not called).  A claim that still succeeds is
 * released by itself.  Inside its own callback: nothing.  NULL is fine.
 */
void		 cluster_op_cancel(struct cluster_op *);
/*
 * This node's child name now has pid (-1: none) and state.  Written to
 * etcd behind (the last value wins), guarded by the claim's revision.
 * -1 (errno ENOENT) when this node holds no claim of name.
 */
int		 cluster_update(struct cluster *, const char *name, pid_t,
		    const char *state);
/*
 * Give the claim up (the child stopped or was deleted): deleted in etcd
 * behind, guarded by the claim's revision; no failover follows.  -1
 * (errno ENOENT) when this node holds no claim of name.
 */
int		 cluster_release(struct cluster *, const char *name);
/* True when this node holds name; *fence (may be NULL) its revision. */
bool		 cluster_holds(struct cluster *, const char *name,
		    int64_t *fence);

/* The mirror: no network.  NULL when name is in no node's hands. */
const struct cluster_entry *cluster_lookup(struct cluster *, const char *);
void		 cluster_foreach(struct cluster *,
		    void (*)(const struct cluster_entry *, void *), void *);
/* Claims can be tried (a lease is held). */
bool		 cluster_available(const struct cluster *);
/* The mirror may lag (not connected: no lease renewal or no watch). */
bool		 cluster_stale(const struct cluster *);

struct cluster_node_info {
	const char	*name;
	int		 lease_ttl_ms;
	int64_t		 lease;
	pid_t		 pid;
	size_t		 children;
};

struct cluster_status {
	const char			*node;
	const char			*zone;
	enum cluster_state		 state;
	bool				 connected;	/* lease + watch up */
	int64_t				 revision;	/* the mirror's */
	int64_t				 lease;		/* 0: none */
	int				 lease_ttl_ms;
	int64_t				 fence_in_ms;	/* -1: no lease */
	int64_t				 last_contact_ms; /* ago; -1: never */
	const char			*endpoint;
	const char			*message;	/* last problem */
	size_t				 held;		/* claims held here */
	size_t				 rows;		/* mirror rows */
	const struct cluster_node_info	*nodes;		/* by name */
	size_t				 nnodes;
	uint64_t			 resyncs, fences, failovers;
};

/* Fill st (borrowed pointers: valid until the next cluster call). */
void		 cluster_status(struct cluster *, struct cluster_status *);
const char	*cluster_state_name(enum cluster_state);
/* CLOCK_BOOTTIME in ms: the clock of kill_by and sent_at. */
int64_t		 cluster_clock_ms(void);

#endif /* GT_CLUSTER_H */
