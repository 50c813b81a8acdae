/* SPDX-License-Identifier: MIT */
/*
 * gtcluster: gtd's side of the cluster (protocol §9.3).  Owns the
 * struct cluster (cluster.h) and the fence watchdog (fence.h) of a gtd
 * whose config has "cluster", and ties them to the rows: a cluster-scope
 * row starts only while this node holds its claim (the child observer's
 * hold_start claims it first), its pid and state go to etcd, a stop or a
 * delete releases the claim, a failover this node won starts a row, a
 * lost claim or a fence stops them, and the mirror feeds the
 * cluster_children table.  Wire layer: loop.c calls the observer half,
 * gtd.c opens and leaves, the cmd-* files read the mirror.
 *
 * Every function is a no-op (false, NULL) on a gtd without a cluster.
 */
#ifndef GT_GTCLUSTER_H
#define GT_GTCLUSTER_H

#include <sys/queue.h>

#include <stdbool.h>

#include "gt/child.h"

struct cluster;
struct cluster_entry;
struct config_cluster;
struct gtd;

/*
 * Join the zone (from the loop: etcd may be down, which is logged, not
 * an error) and fork the fence watchdog.  0, or -1 and *cause (bad
 * options, no libcurl, the watchdog could not start).
 */
int		 gtcluster_open(struct gtd *, const struct config_cluster *,
		    char **cause);
/* Stop at once, no callback after this (gtd_free).  No cluster: fine. */
void		 gtcluster_free(struct gtd *);
/*
 * Clean leave once every child is down: revoke the lease (so the other
 * nodes fail over this node's failover children at once), running the
 * loop until etcd answered or CLUSTER_OP_MS passed.
 */
void		 gtcluster_leave(struct gtd *);

/* The child observer's cluster half (loop.c). */
bool		 gtcluster_hold_start(struct child *);
void		 gtcluster_state(struct child *, enum child_state old);
void		 gtcluster_removed(struct child *);
void		 gtcluster_spawned(struct child *);
void		 gtcluster_reaped(struct child *);

/* The cluster of g, or NULL: none configured. */
struct cluster	*gtcluster_get(struct gtd *);
/* This node's name (NULL: no cluster). */
const char	*gtcluster_node(struct gtd *);

/*
 * Wait for a change of one mirror row: cb(name, e, arg) once, at the
 * next change of name (e NULL: the name is free now), then forgotten.
 * The watch is the caller's until then; gtcluster_unwatch forgets it.
 */
typedef void	gtcluster_watch_cb(const char *name,
		    const struct cluster_entry *e, void *arg);
struct gtcluster_watch {
	char				*name;		/* owned */
	gtcluster_watch_cb		*cb;
	void				*arg;
	bool				 queued;
	LIST_ENTRY(gtcluster_watch)	 entry;
};
void		 gtcluster_watch(struct gtd *, struct gtcluster_watch *,
		    const char *name, gtcluster_watch_cb *, void *arg);
void		 gtcluster_unwatch(struct gtd *, struct gtcluster_watch *);

/* Why the cluster is not usable now (for errors), or NULL: it is. */
const char	*gtcluster_unavailable(struct gtd *);

#endif /* GT_GTCLUSTER_H */
