/* SPDX-License-Identifier: MIT */
/*
 * acl: access classes and the class of a peer (see acl.h).
 */
#include "config.h"

#include <string.h>

#include "gt/acl.h"

static const char *const acl_names[] = {
	[ACL_NONE] = "none", [ACL_READ] = "read", [ACL_WRITE] = "write",
	[ACL_CONTROL] = "control", [ACL_ADMIN] = "admin"
};

const char *
acl_class_name(enum acl_class c)
{
	return (acl_names[c]);
}

int
acl_class_parse(const char *s, enum acl_class *c)
{
	int	i;

	for (i = 0; i <= ACL_ADMIN; i++) {
		if (strcmp(s, acl_names[i]) == 0) {
			*c = i;
			return (0);
		}
	}
	return (-1);
}

/* Does entry e name this peer? */
static int
acl_names_peer(const struct acl_entry *e, uid_t uid, gid_t gid,
    const gid_t *groups, int ngroups)
{
	int	k;

	if (!e->is_group)
		return (e->id == uid);
	if (e->id == gid)
		return (1);
	for (k = 0; k < ngroups; k++)
		if (e->id == groups[k])
			return (1);
	return (0);
}

enum acl_class
acl_class_of(const struct acl *a, uid_t uid, gid_t gid, const gid_t *groups,
    int ngroups)
{
	enum acl_class	best;
	size_t		i;

	if (!a->set)
		return (ACL_ADMIN);
	best = a->dflt;
	for (i = 0; i < a->n; i++)
		if (a->e[i].class > best &&
		    acl_names_peer(&a->e[i], uid, gid, groups, ngroups))
			best = a->e[i].class;
	return (best);
}
