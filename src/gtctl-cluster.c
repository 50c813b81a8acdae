/* SPDX-License-Identifier: MIT */
/*
 * gtctl-cluster: `gtctl cluster`, the cluster_status of gtd for people:
 * this node's state and lease, then one line per live node of the zone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "gt/gtctl.h"
#include "gt/xmalloc.h"

int
gtctl_print_cluster(struct gtctl *g, json_t *reply)
{
	json_t	*nodes = json_object_get(reply, "nodes"), *n;
	char	*node, *zone, *st, *msg, *name;
	size_t	 i;

	node = gtctl_member(reply, "node");
	zone = gtctl_member(reply, "zone");
	st = gtctl_member(reply, "state");
	msg = gtctl_member(reply, "message");
	printf("node %s of zone %s: %s, %s, revision %lld, lease %lld ms, "
	    "%lld claim%s held here\n", node, zone, st,
	    json_is_true(json_object_get(reply, "connected")) ? "connected" :
	    "NOT connected", (long long)json_integer_value(json_object_get(
	    reply, "revision")), (long long)json_integer_value(
	    json_object_get(reply, "lease_ttl_ms")),
	    (long long)json_integer_value(json_object_get(reply, "held")),
	    json_integer_value(json_object_get(reply, "held")) == 1 ? "" :
	    "s");
	if (json_is_string(json_object_get(reply, "message")))
		printf("last problem: %s\n", msg);
	printf("%-24s %9s %9s %9s\n", "NODE", "LEASE_MS", "CHILDREN", "PID");
	json_array_foreach(nodes, i, n) {
		name = gtctl_member(n, "name");
		printf("%-24s %9lld %9lld %9lld\n", name,
		    (long long)json_integer_value(json_object_get(n,
		    "lease_ttl_ms")), (long long)json_integer_value(
		    json_object_get(n, "children")), (long long)
		    json_integer_value(json_object_get(n, "pid")));
		free(name);
	}
	free(node);
	free(zone);
	free(st);
	free(msg);
	return (0);
}
