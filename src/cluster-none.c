/* SPDX-License-Identifier: MIT */
/*
 * cluster-none: the cluster interface of a gtd built without libcurl.
 * cluster_new() refuses with a cause that says why and what to do, so a
 * config that asks for a cluster fails clearly; nothing else is
 * reachable without a struct cluster.  Never logs.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

#include "gt/cluster.h"
#include "gt/xmalloc.h"

struct cluster *
cluster_new(const struct cluster_opts *o, char **cause)
{
	xasprintf(cause, "cluster: this gtd was built without cluster "
	    "support (configure found no libcurl: install "
	    "libcurl4-openssl-dev and build again)");
	return (NULL);
}

void
cluster_free(struct cluster *cl)
{
}

void
cluster_shutdown(struct cluster *cl, void (*done)(void *), void *arg)
{
}

struct cluster_op *
cluster_claim(struct cluster *cl, const char *name, const char *spec,
    bool failover, cluster_claim_cb *cb, void *arg)
{
	return (NULL);
}

void
cluster_op_cancel(struct cluster_op *op)
{
}

int
cluster_update(struct cluster *cl, const char *name, pid_t pid,
    const char *state)
{
	errno = ENOENT;
	return (-1);
}

int
cluster_release(struct cluster *cl, const char *name)
{
	errno = ENOENT;
	return (-1);
}

bool
cluster_holds(struct cluster *cl, const char *name, int64_t *fence)
{
	return (false);
}

const struct cluster_entry *
cluster_lookup(struct cluster *cl, const char *name)
{
	return (NULL);
}

void
cluster_foreach(struct cluster *cl,
    void (*cb)(const struct cluster_entry *, void *), void *arg)
{
}

bool
cluster_available(const struct cluster *cl)
{
	return (false);
}

bool
cluster_stale(const struct cluster *cl)
{
	return (true);
}

void
cluster_status(struct cluster *cl, struct cluster_status *st)
{
}

const char *
cluster_state_name(enum cluster_state st)
{
	return ("unsupported");
}

int64_t
cluster_clock_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
