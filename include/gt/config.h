/* SPDX-License-Identifier: MIT */
/*
 * config: config file -> struct config (pure parsing; config.c).  Each
 * childspec in it goes through config-spec.h, which this header
 * includes for its callers.  Never logs: errors come back as NULL with
 * *field (the dotted path of the offending key, xasprintf'd) and *cause
 * (a message); the caller frees both.
 */
#ifndef GT_CONFIG_H_
#define GT_CONFIG_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gt/acl.h"
#include "gt/config-spec.h"
#include "gt/limits.h"
#include "gt/log.h"
#include "gt/spec.h"

struct group_conf;


struct config {
	char			*zone;		/* NULL: not set */
	char			*socket;
	struct childspec	**children;
	size_t			 nchildren;
	struct gtd_limits	 lim;
	enum log_level		 log_level;
	struct config_tpl	 tpl;		/* owned JSON */
	char			**child_src;	/* where each child came from */
	char			**names;	/* boot children's names */
	char			**texts;	/* ... and normalised specs */
	int			 socket_mode;	/* -1: default */
	char			*socket_group;
	int64_t			 socket_gid;	/* -1: not set */
	struct acl		 acl;
	char			*snapshot_path;	/* NULL: no snapshot */
	int64_t			 snapshot_interval_ms;
	/* "cgroup": a cgroup2 directory, or NULL: gtd's own (automatic). */
	char			*cgroup;
	bool			 cgroup_off;	/* "cgroup": false */
	bool			 adopt_on_restart;	/* gtd(8) */
	/* "groups" (protocol §9.1): sorted by name (group.h). */
	struct group_conf	*groups;
	size_t			 ngroups;
	struct config_cluster	*cluster;	/* NULL: no "cluster" */
};

/* "cluster" (protocol §9.3). */
struct config_cluster {
	char			**etcd;		/* endpoints, NULL-terminated */
	size_t			  netcd;
	char			 *node;		/* NULL: the host name */
	int			  lease_ttl_ms;	/* whole seconds, >= 2000 */
};
#define CONFIG_CLUSTER_TTL_MS		5000	/* default lease_ttl_ms */
#define CONFIG_CLUSTER_TTL_MIN_MS	2000
#define CONFIG_CLUSTER_TTL_MAX_MS	3600000
#define CONFIG_CLUSTER_MAX_ETCD		16

/* A config file or an included file is a regular file of at most this. */
#define CONFIG_FILE_MAX		(16 * 1024 * 1024)

#define CONFIG_SNAPSHOT_MS	1000		/* default interval_ms */
#define CONFIG_SNAPSHOT_MIN_MS	100
#define CONFIG_SNAPSHOT_MAX_MS	86400000	/* a day */

/*
 * One finding of config_check: field is the dotted path in the config
 * ("children.2.cwd"), message says what is wrong; error means that gtd
 * would fail there (a boot child that cannot start), else a warning.
 */
struct config_issue {
	bool	 error;
	char	*field;
	char	*message;
};

/*
 * What the config needs from the host, checked without starting
 * anything (config-check.c; `gtd -n`): each boot child's program in the
 * PATH it will get, its cwd, the directories of its file outputs, its
 * user; templates and hooks give warnings only.  Returns the number of
 * findings, *out an array the caller frees with config_issues_free.
 */
size_t			 config_check(const struct config *,
			    struct config_issue **out);
void			 config_issues_free(struct config_issue *, size_t);

/* Read and validate a config file. */
struct config		*config_load(const char *path, char **field,
			    char **cause);
void			 config_free(struct config *);	/* NULL is fine */

/*
 * Where gtd's socket goes (protocol §1), in this order: -s; the config's
 * "socket"; an explicit -z gives its zone's default path; $GTD_SOCKET;
 * the default path of the zone (-z, the config's, or "default"):
 * /run/gtd/ZONE.sock for root, $XDG_RUNTIME_DIR/gtd/ZONE.sock for other
 * users.  Without XDG_RUNTIME_DIR (absolute) a non-root gtd has no
 * default, and no fallback into a shared directory such as /tmp.
 */
struct config_socket_in {
	const char		*sockopt;	/* -s, or NULL */
	const char		*zoneopt;	/* -z, or NULL */
	const struct config	*cf;		/* or NULL */
	const char		*env_socket;	/* $GTD_SOCKET, or NULL */
	const char		*xdg;		/* $XDG_RUNTIME_DIR, or NULL */
	unsigned		 euid;
};
/* The path (xmalloc'd, maybe relative), or NULL with *cause. */
char			*config_socket_path(const struct config_socket_in *,
			    char **cause);
void			 config_default_limits(struct gtd_limits *);

#endif /* GT_CONFIG_H_ */
