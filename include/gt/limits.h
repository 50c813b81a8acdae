/* SPDX-License-Identifier: MIT */
/*
 * limits: the bounds of gtd.conf(5) "limits" that the modules enforce.
 * gtd owns the one live copy (g->lim, replaced by a reload); the
 * modules borrow a pointer to it, so a reload applies everywhere at
 * once.  Plain data, no jansson: the core and the transport include it.
 */
#ifndef GT_LIMITS_H
#define GT_LIMITS_H

#include <stddef.h>

struct gtd_limits {
	size_t	max_request_bytes;
	size_t	max_output_bytes;
	size_t	max_attr_value_bytes;	/* one text or JSON attr value */
	size_t	max_attr_bytes;		/* a child's attr keys and values */
	int	max_connections;
	int	max_connections_per_uid;	/* -1: max_connections / 8 */
	int	reserved_connections;	/* -1: max_connections / 16 */
	int	max_children;
	int	max_attrs;
	int	max_starting;	/* 0: no cap */
	size_t	max_mirror_bytes;	/* 0: no shared-memory mirror */
};

#endif /* GT_LIMITS_H */
