/* SPDX-License-Identifier: MIT */
/*
 * acl: the access classes of protocol §7 and the decision of which class
 * a peer has under the config's acl.  Pure: no I/O, never logs.  The
 * config parser builds struct acl (config.c resolves user and group
 * names once, at load); the dispatcher asks acl_class_of for each peer
 * that is not root or gtd's own user (those are always admin).
 */
#ifndef GT_ACL_H
#define GT_ACL_H

#include <stddef.h>
#include <sys/types.h>

/* The access classes, each including the ones before. */
enum acl_class { ACL_NONE, ACL_READ, ACL_WRITE, ACL_CONTROL, ACL_ADMIN };

struct acl_entry {
	int		 is_group;
	unsigned	 id;		/* uid or gid */
	enum acl_class	 class;
};

struct acl {
	enum acl_class		 dflt;	/* peers not listed */
	struct acl_entry	*e;	/* owned */
	size_t			 n;
	int			 set;	/* an "acl" was configured */
};

const char	*acl_class_name(enum acl_class);
/* 0 and *c set, or -1 when s names no class. */
int		 acl_class_parse(const char *s, enum acl_class *c);

/*
 * The class of a peer with uid, gid and supplementary groups: the highest
 * of the default and every entry naming its uid, its gid or one of its
 * groups.  Without an acl (a->set 0) every peer is admin.
 */
enum acl_class	 acl_class_of(const struct acl *a, uid_t uid, gid_t gid,
		    const gid_t *groups, int ngroups);

#endif /* GT_ACL_H */
